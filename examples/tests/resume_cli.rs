//! Resume tickets from the command line: `ra-host` writes one on stdin's
//! `resume-ticket`, is killed (SIGKILL: not a packet more), and `ra-host
//! resume` re-opens the session from it; `ra-helper` reconnects by itself,
//! the host is asked again and the helper is view-only until granted again.
//! The ticket cannot be used twice, and without the policy there is none.

mod support;

use std::fs;

use serde_json::Value;
use support::{AUDIT, HOST, Host, Proc, helper, run, s};

const SMALL: [&str; 2] = ["--size", "320x240"];

/// `ra-host resume --json` with `args`.
fn resume_host(args: &[&str]) -> Proc {
    let mut all = vec!["resume", "--json"];
    all.extend_from_slice(&SMALL);
    all.extend_from_slice(args);
    Proc::spawn("ra-host", HOST, &all, true)
}

#[test]
fn a_killed_host_resumes_from_its_ticket_and_the_helper_comes_back_view_only() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    fs::write(
        &policy,
        "allow_resume_tickets = true\nmax_resume_ticket_lifetime = \"10m\"\n",
    )
    .unwrap();
    let (ticket, key, audit) = (
        dir.path().join("session.ticket"),
        dir.path().join("ticket.key"),
        dir.path().join("audit.jsonl"),
    );
    let files = [
        "--policy",
        s(&policy),
        "--resume-ticket",
        s(&ticket),
        "--resume-key",
        s(&key),
        "--audit-log",
        s(&audit),
    ];
    let mut args = SMALL.to_vec();
    args.extend_from_slice(&["--approve", "yes", "--approve-control", "yes"]);
    args.extend_from_slice(&files);
    let mut host = Host::start(&args);
    let session_id = host.invitation["session_id"].as_str().unwrap().to_owned();
    let (token, password) = (host.token(), host.password());
    let mut helper = helper(&[
        "--token",
        &token,
        "--password",
        &password,
        "--name",
        "Bob",
        "--request-control",
    ]);
    helper.expect("connected");
    helper.expect("control_granted");
    host.proc.expect("control_granted");

    host.proc.send("resume-ticket 30m");
    host.proc.expect("resume_ticket");
    let offered = helper.expect("resume_offered");
    assert_eq!(offered["expires_in_s"], 600, "the policy caps the lifetime");
    assert!(ticket.exists() && key.exists());

    // The host's process dies.
    host.proc.kill();
    helper.expect("connection_interrupted");

    let mut args = vec!["--approve", "ask", "--approve-control", "ask"];
    args.extend_from_slice(&files);
    let mut resumed = resume_host(&args);
    resumed.expect("resumed");
    let request = resumed.expect("connection_request");
    assert_eq!(request["helper"], "Bob");
    assert_eq!(request["resumes"], session_id.as_str());
    helper.expect("resuming");

    // Used: a second restart from the same file is refused.
    let again = run("ra-host", HOST, &{
        let mut all = vec!["resume", "--json"];
        all.extend_from_slice(&files);
        all
    });
    assert_eq!(again.code(), 6, "{again:#?}");
    assert!(again.stderr.contains("used already"), "{again:#?}");

    resumed.send("y");
    resumed.expect("connected");
    let connected = helper.expect("connected");
    assert_eq!(connected["resumed"], true);
    // View-only: the grant did not come back with the session.
    resumed.send("chat still here");
    helper.expect("chat");
    let since = helper
        .seen
        .iter()
        .rposition(|e| e["event"] == "resuming")
        .unwrap();
    assert!(
        !helper.seen[since..]
            .iter()
            .any(|e| e["event"] == "control_granted"),
        "{:#?}",
        helper.seen
    );

    resumed.send("end");
    let ended = helper.expect("ended");
    assert_eq!(ended["reason"], "host_ended");
    assert_eq!(helper.finish().code(), 0);
    resumed.send("quit");
    let resumed = resumed.finish();
    assert_eq!(resumed.code(), 0, "{resumed:#?}");

    // One chain for the session across both processes, with both records.
    let verified = run("ra-audit", AUDIT, &["verify", "--json", s(&audit)]);
    assert_eq!(verified.code(), 0, "{verified:#?}");
    let events: Vec<String> = fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["event"].to_string())
        .collect();
    for name in ["\"resume_ticket_issued\"", "\"session_resumed\""] {
        assert!(events.iter().any(|e| e == name), "{events:?}");
    }
}

#[test]
fn without_the_policy_or_the_files_there_is_no_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let (ticket, key) = (dir.path().join("t"), dir.path().join("k"));
    let mut args = SMALL.to_vec();
    args.extend_from_slice(&[
        "--approve",
        "yes",
        "--resume-ticket",
        s(&ticket),
        "--resume-key",
        s(&key),
    ]);
    let mut host = Host::start(&args);
    let (token, password) = (host.token(), host.password());
    let mut helper = helper(&["--token", &token, "--password", &password]);
    helper.expect("connected");
    host.proc.send("resume-ticket");
    let error = host.proc.expect("error");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("policy")),
        "{error}"
    );
    assert!(!ticket.exists());
    host.proc.send("end");
    helper.expect("ended");
    host.proc.send("quit");
    host.proc.finish();

    // `resume` without its files, and with no ticket there.
    let usage = run("ra-host", HOST, &["resume", "--json"]);
    assert_eq!(usage.code(), 2, "{usage:#?}");
    let files = ["--resume-ticket", s(&ticket), "--resume-key", s(&key)];
    let mut args = vec!["resume", "--json"];
    args.extend_from_slice(&files);
    let off = run("ra-host", HOST, &args);
    assert_eq!(
        off.code(),
        5,
        "the default policy has no resume tickets: {off:#?}"
    );
    let policy = dir.path().join("policy.toml");
    fs::write(&policy, "allow_resume_tickets = true\n").unwrap();
    args.extend_from_slice(&["--policy", s(&policy)]);
    let missing = run("ra-host", HOST, &args);
    assert_eq!(missing.code(), 6, "{missing:#?}");
    assert!(missing.stderr.contains("no resume ticket"), "{missing:#?}");
}
