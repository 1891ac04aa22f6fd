//! `ra-org`: an organisation's key, the identities it issues, and what
//! `show` says of good, altered and bad files (JSON output, exit codes).
#![allow(missing_docs)]

#[allow(dead_code)]
mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt as _;

use std::path::Path;

use support::{AUDIT, Finished, HELPER, Host, ORG, Proc, helper, run, s};

/// `ra-org issue --json`: `helper` of the organisation `key`, into `out`.
fn issue(key: &Path, helper: &str, out: &Path) -> Finished {
    run(
        "ra-org",
        ORG,
        &[
            "issue",
            "--json",
            "--org",
            s(key),
            "--helper",
            helper,
            "--out",
            s(out),
        ],
    )
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("file").permissions().mode() & 0o777
}

#[test]
fn an_organisation_issues_an_identity_that_show_verifies() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let key = dir.path().join("contoso.key");
    let made = run(
        "ra-org",
        ORG,
        &["new", "--json", "--name", "Contoso IT", "--out", s(&key)],
    );
    assert_eq!(made.code(), 0, "{made:#?}");
    let made = &made.events_named("org_key_created")[0];
    let public_key = made["public_key"].as_str().expect("public_key").to_owned();
    assert!(
        public_key.starts_with("raorg1-") && public_key.len() == 71,
        "{made}"
    );
    assert_eq!(made["organisation"], "Contoso IT");
    assert_eq!(mode(&key), 0o600);
    // Never overwritten.
    let again = run("ra-org", ORG, &["new", "--name", "Other", "--out", s(&key)]);
    assert_eq!(again.code(), 2, "{again:#?}");

    let jane = dir.path().join("jane.raid");
    let issued = run(
        "ra-org",
        ORG,
        &[
            "issue",
            "--json",
            "--org",
            s(&key),
            "--helper",
            "Jane Doe",
            "--valid",
            "30d",
            "--out",
            s(&jane),
        ],
    );
    assert_eq!(issued.code(), 0, "{issued:#?}");
    let issued = &issued.events_named("identity_issued")[0];
    assert_eq!(issued["helper"], "Jane Doe");
    assert_eq!(issued["organisation"], "Contoso IT");
    let helper_key = issued["helper_key"]
        .as_str()
        .expect("helper_key")
        .to_owned();
    assert!(helper_key.starts_with("rahelper1-"), "{issued}");
    assert_eq!(mode(&jane), 0o600);

    let shown = run("ra-org", ORG, &["show", "--json", s(&key)]);
    assert_eq!(shown.code(), 0, "{shown:#?}");
    assert_eq!(
        shown.events_named("org_key")[0]["public_key"],
        public_key.as_str()
    );
    let shown = run("ra-org", ORG, &["show", "--json", s(&jane)]);
    assert_eq!(shown.code(), 0, "{shown:#?}");
    let identity = &shown.events_named("identity")[0];
    assert_eq!(identity["organisation_key"], public_key.as_str());
    assert_eq!(identity["helper_key"], helper_key.as_str());
    assert_eq!(identity["signature_valid"], true);
    assert_eq!(identity["has_private_key"], true);
    assert_eq!(identity["not_after"], issued["not_after"]);

    // The identity alone (what a helper shows a host): no private key.
    let text = fs::read_to_string(&jane).expect("read");
    let public_part: String = text
        .lines()
        .filter(|l| !l.starts_with("helper-private-key"))
        .map(|l| format!("{l}\n"))
        .collect();
    let shown_file = dir.path().join("jane.identity");
    fs::write(&shown_file, &public_part).expect("write");
    let shown = run("ra-org", ORG, &["show", "--json", s(&shown_file)]);
    assert_eq!(shown.code(), 0, "{shown:#?}");
    assert_eq!(shown.events_named("identity")[0]["has_private_key"], false);

    // Altered: the signature does not verify (exit 1).
    let forged = dir.path().join("forged.identity");
    fs::write(&forged, public_part.replace("Jane Doe", "John Doe")).expect("write");
    let shown = run("ra-org", ORG, &["show", "--json", s(&forged)]);
    assert_eq!(shown.code(), 1, "{shown:#?}");
    assert!(
        shown.events_named("error")[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("signature does not verify")),
        "{shown:#?}"
    );
}

#[test]
fn bad_files_are_clear_errors() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let key = dir.path().join("org.key");
    assert_eq!(
        run(
            "ra-org",
            ORG,
            &["new", "--json", "--name", "Contoso IT", "--out", s(&key)]
        )
        .code(),
        0
    );
    let jane = dir.path().join("jane.raid");
    let issued = issue(&key, "Jane", &jane);
    assert_eq!(issued.code(), 0, "{issued:#?}");
    let text = fs::read_to_string(&jane).expect("read");
    let bad = dir.path().join("bad");
    for (what, content) in [
        ("truncated", text[..text.len() / 2].to_owned()),
        ("oversized", format!("{text}{}", "x".repeat(5000))),
        (
            "another version",
            text.replacen("ra-helper-identity 1", "ra-helper-identity 9", 1),
        ),
        ("not an identity", "hello\n".to_owned()),
        ("empty", String::new()),
    ] {
        fs::write(&bad, &content).expect("write");
        let shown = run("ra-org", ORG, &["show", "--json", s(&bad)]);
        assert_eq!(shown.code(), 2, "{what}: {shown:#?}");
        assert!(!shown.stderr.contains("panicked"), "{what}: {shown:#?}");
        assert!(
            !shown.events_named("error").is_empty(),
            "{what}: {shown:#?}"
        );
    }
    // Not UTF-8, missing, an organisation key that is not one.
    fs::write(&bad, b"\xff\xfe").expect("write");
    assert_eq!(run("ra-org", ORG, &["show", "--json", s(&bad)]).code(), 2);
    assert_eq!(
        run("ra-org", ORG, &["show", "--json", "/nonexistent/file"]).code(),
        2
    );
    let other = dir.path().join("other.raid");
    let issued = issue(&jane, "Jane", &other);
    assert_eq!(issued.code(), 2, "{issued:#?}");
    // Bad names.
    let named = run(
        "ra-org",
        ORG,
        &["new", "--json", "--name", "", "--out", s(&other)],
    );
    assert_eq!(named.code(), 2, "{named:#?}");
}

/// `ra-helper accept --json` into `host`'s invitation, with `extra`.
fn join(host: &Host, extra: &[&str]) -> Proc {
    let (token, password) = (host.token(), host.password());
    let mut args = vec!["--token", token.as_str(), "--password", password.as_str()];
    args.extend_from_slice(extra);
    helper(&args)
}

/// Makes an organisation and an identity for `helper` in `dir`; the
/// organisation's public key and the identity file.
fn organisation(dir: &Path, helper: &str) -> (String, std::path::PathBuf) {
    let key = dir.join("org.key");
    let made = run(
        "ra-org",
        ORG,
        &["new", "--json", "--name", "Contoso IT", "--out", s(&key)],
    );
    assert_eq!(made.code(), 0, "{made:#?}");
    let public_key = made.events_named("org_key_created")[0]["public_key"]
        .as_str()
        .expect("public_key")
        .to_owned();
    let identity = dir.join("helper.raid");
    let issued = issue(&key, helper, &identity);
    assert_eq!(issued.code(), 0, "{issued:#?}");
    (public_key, identity)
}

#[test]
fn a_host_that_requires_verified_helpers_lets_in_jane_and_refuses_the_rest() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (org_key, jane) = organisation(dir.path(), "Jane Doe");
    let policy = dir.path().join("policy.toml");
    fs::write(
        &policy,
        format!("trusted_orgs = [\"{org_key}\"]\nrequire_verified_helper = true\n"),
    )
    .expect("write the policy");
    let mut host = Host::start(&[
        "--size",
        "320x240",
        "--policy",
        s(&policy),
        "--approve",
        "yes",
    ]);

    // Someone without an identity: refused before the host is asked.
    let caller = join(&host, &["--name", "IT dept"]);
    let refused = host.proc.expect("connection_refused");
    assert_eq!(refused["helper"], "IT dept");
    assert_eq!(refused["reason"], "it showed no identity");
    let caller = caller.finish();
    assert_eq!(caller.code(), 4, "{caller:#?}");

    // Jane, with her identity: verified, no warning.
    let mut jane = join(
        &host,
        &["--name", "jane", "--identity", s(&jane), "--frames", "1"],
    );
    let request = host.proc.expect("connection_request");
    assert_eq!(request["verified"]["organisation"], "Contoso IT");
    assert_eq!(request["verified"]["helper"], "Jane Doe");
    assert_eq!(request["verified"]["organisation_key"], org_key.as_str());
    assert!(request["warning"].is_null(), "{request}");
    jane.expect("frame");
    assert_eq!(jane.finish().code(), 0);
    host.proc.kill();
}

#[test]
fn an_unverified_helper_comes_with_the_warning_and_a_bad_identity_file_is_an_error() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (_, jane) = organisation(dir.path(), "Jane Doe");
    // This host trusts nobody: Jane shows an identity it cannot accept.
    let mut host = Host::start(&["--size", "320x240", "--approve", "yes"]);
    let mut helper_proc = join(&host, &["--identity", s(&jane), "--frames", "1"]);
    let request = host.proc.expect("connection_request");
    assert!(request["verified"].is_null(), "{request}");
    assert!(
        request["warning"]
            .as_str()
            .is_some_and(|w| w.contains("did not contact yourself")),
        "{request}"
    );
    assert!(
        request["identity_problem"]
            .as_str()
            .is_some_and(|p| p.contains("does not trust")),
        "{request}"
    );
    helper_proc.expect("frame");
    assert_eq!(helper_proc.finish().code(), 0);
    host.proc.kill();

    // An identity file that is not one: exit 2 before connecting.
    let bad = dir.path().join("bad.raid");
    fs::write(&bad, "ra-helper-identity 1\n").expect("write");
    let (token, password) = (host.token(), host.password());
    let finished = run(
        "ra-helper",
        HELPER,
        &[
            "accept",
            "--json",
            "--token",
            &token,
            "--password",
            &password,
            "--identity",
            s(&bad),
        ],
    );
    assert_eq!(finished.code(), 2, "{finished:#?}");
    assert!(
        finished.events_named("error")[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("bad.raid")),
        "{finished:#?}"
    );
}

/// The `receipt_valid` (exit 0) or `receipt_invalid` (exit 1) of
/// `ra-audit verify-receipt --json RECEIPT extra…`.
fn verify_receipt(receipt: &Path, extra: &[&str]) -> Finished {
    let mut args = vec!["verify-receipt", "--json", s(receipt)];
    args.extend_from_slice(extra);
    run("ra-audit", AUDIT, &args)
}

#[test]
fn both_sides_keep_a_countersigned_receipt_that_ra_audit_checks() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (org_key, jane) = organisation(dir.path(), "Jane Doe");
    let policy = dir.path().join("policy.toml");
    fs::write(&policy, format!("trusted_orgs = [\"{org_key}\"]\n")).expect("write the policy");
    let (invitation, audit) = (
        dir.path().join("inv.msrcincident"),
        dir.path().join("audit.jsonl"),
    );
    let (host_receipt, helper_receipt) = (
        dir.path().join("host.receipt"),
        dir.path().join("helper.receipt"),
    );
    let mut host = Host::start(&[
        "--size",
        "320x240",
        "--policy",
        s(&policy),
        "--out",
        s(&invitation),
        "--audit-log",
        s(&audit),
        "--receipt",
        s(&host_receipt),
        "--approve",
        "yes",
        "--approve-control",
        "yes",
        "--grant-scopes",
        "pointer",
        "--name",
        "Alice's PC",
    ]);
    let mut jane = join(
        &host,
        &[
            "--identity",
            s(&jane),
            "--receipt",
            s(&helper_receipt),
            "--request-control",
        ],
    );
    jane.expect("control_granted");
    host.proc.expect("control_granted");
    host.proc.send("end");
    let jane = jane.finish();
    assert_eq!(jane.code(), 0, "{jane:#?}");
    let host = host.proc.finish();
    assert_eq!(host.code(), 0, "{host:#?}");
    for (side, finished) in [("host", &host), ("helper", &jane)] {
        let told = &finished.events_named("receipt")[0];
        assert_eq!(told["countersigned"], true, "{side}: {told}");
    }
    // Both sides hold the same receipt, countersigned by Jane.
    let text = fs::read_to_string(&host_receipt).expect("the host's receipt");
    assert_eq!(
        fs::read_to_string(&helper_receipt).expect("the helper's receipt"),
        text
    );
    let valid = verify_receipt(
        &host_receipt,
        &["--invitation", s(&invitation), "--org", &org_key],
    );
    assert_eq!(valid.code(), 0, "{valid:#?}");
    let valid = &valid.events_named("receipt_valid")[0];
    assert_eq!(valid["host_name"], "Alice's PC");
    assert_eq!(valid["verified"]["helper"], "Jane Doe");
    assert_eq!(valid["countersigned"], true);
    assert_eq!(valid["end_reason"], "host_ended");
    assert_eq!(valid["grants"][0]["scopes"], "pointer");
    assert_eq!(valid["grants"][0]["ended"], "session_ended");

    // Any byte changed: invalid.
    let altered = dir.path().join("altered.receipt");
    for (i, from, to) in [
        (text.find("pointer").expect("scopes"), b'p', b'P'),
        (40, 0, 0),
    ] {
        let mut bytes = text.clone().into_bytes();
        if from == 0 {
            bytes[i] ^= 1;
        } else {
            assert_eq!(bytes[i], from);
            bytes[i] = to;
        }
        fs::write(&altered, &bytes).expect("write");
        let invalid = verify_receipt(&altered, &[]);
        assert_eq!(invalid.code(), 1, "{invalid:#?}");
        assert!(
            !invalid.events_named("receipt_invalid").is_empty(),
            "{invalid:#?}"
        );
    }
    // Another session's invitation, another organisation: invalid, and why.
    let other = Host::start(&[
        "--size",
        "320x240",
        "--out",
        s(&dir.path().join("other.inv")),
    ]);
    let foreign = verify_receipt(
        &host_receipt,
        &["--invitation", s(&dir.path().join("other.inv"))],
    );
    assert_eq!(foreign.code(), 1, "{foreign:#?}");
    let reason = foreign.events_named("receipt_invalid")[0]["reason"].to_string();
    assert!(reason.contains("not the invitation's"), "{reason}");
    drop(other);
    let fabrikam = dir.path().join("fabrikam");
    fs::create_dir(&fabrikam).expect("a directory");
    let (stranger, _) = organisation(&fabrikam, "Eve");
    let untrusted = verify_receipt(&host_receipt, &["--org", &stranger]);
    assert_eq!(untrusted.code(), 1, "{untrusted:#?}");
    // Not a receipt at all: a clear error.
    let garbage = verify_receipt(&policy, &[]);
    assert_eq!(garbage.code(), 1, "{garbage:#?}");

    // The audit log with the receipt: intact; cut short: truncated.
    let log = run(
        "ra-audit",
        AUDIT,
        &["verify", "--json", s(&audit), "--receipt", s(&host_receipt)],
    );
    assert_eq!(log.code(), 0, "{log:#?}");
    let full = fs::read_to_string(&audit).expect("audit");
    let kept: Vec<&str> = full.lines().collect();
    let ended = kept
        .iter()
        .position(|line| line.contains("\"event\":\"ended\""))
        .expect("the end is recorded");
    let cut = dir.path().join("cut.jsonl");
    fs::write(&cut, kept[..ended].join("\n") + "\n").expect("write");
    let alone = run("ra-audit", AUDIT, &["verify", "--json", s(&cut)]);
    assert_eq!(alone.code(), 0, "a cut log alone looks intact: {alone:#?}");
    let truncated = run(
        "ra-audit",
        AUDIT,
        &["verify", "--json", s(&cut), "--receipt", s(&host_receipt)],
    );
    assert_eq!(truncated.code(), 1, "{truncated:#?}");
    assert!(
        truncated.events_named("broken")[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("removed from its end")),
        "{truncated:#?}"
    );
}
