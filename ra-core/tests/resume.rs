//! Resume tickets over real QUIC on loopback: a host issues one, crashes
//! (its runtime is torn down: not a packet more, as when the process is
//! killed), and re-opens the session from the ticket; the helper's ra
//! reconnects by itself, the host's user approves again, and control needs
//! a new grant. And what is refused: tickets off, no session, a ticket
//! truncated, altered, sealed under another key, expired, or used.
#![allow(missing_docs)]

use std::path::Path;
use std::time::{Duration, SystemTime};

use ra_capture::{SyntheticCapturer, SyntheticConfig};
use ra_codec::{EncoderSettings, OpenH264Decoder, OpenH264Encoder};
use ra_core::audit::{AuditEvent, AuditLog, AuditRecord};
use ra_core::invitation::Invitation;
use ra_core::password::Password;
use ra_core::policy::Policy;
use ra_core::resume::{ResumeError, ResumeTicket, TicketFileError, TicketKey, save_ticket};
use ra_core::runtime::{
    AcceptOptions, HelperSession, HostBackends, HostHandle, HostSession, InviteError,
    InviteOptions, ResumeOptions, SessionError, accept, invite, resume, resume_from_file,
};
use ra_core::session::{CommandError, ControlState, HelperEvent, HostEvent};
use ra_input::{RecordingInjector, RecordingLog};
use ra_testkit::broker::{
    helper_event_matching as helper_event, host_event_matching as host_event, next_frame,
};

const STEP: Duration = Duration::from_secs(15);

fn backends() -> (HostBackends, RecordingLog) {
    let injector = RecordingInjector::new();
    let log = injector.log();
    let capturer = SyntheticCapturer::new(SyntheticConfig {
        width: 320,
        height: 240,
        frame_rate: 30.0,
    });
    let backends = HostBackends::new(
        Box::new(capturer),
        Box::new(OpenH264Encoder::new(EncoderSettings::default())),
        Box::new(injector),
    );
    (backends, log)
}

fn resumable_policy() -> Policy {
    Policy {
        allow_resume_tickets: true,
        ..Policy::default()
    }
}

fn key(byte: u8) -> TicketKey {
    TicketKey::from_bytes(&[byte; 32]).unwrap()
}

/// A host session running on a runtime of its own, which the test can tear
/// down as a crash would: nothing is said to the helper.
struct CrashableHost {
    session: HostSession,
    crash: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl CrashableHost {
    fn start(policy: Policy, audit: &Path) -> Self {
        let (session_tx, session_rx) = std::sync::mpsc::channel();
        let (crash, crashed) = std::sync::mpsc::channel::<()>();
        let audit = audit.to_owned();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let options = InviteOptions {
                host_name: "Alice".into(),
                listen: "127.0.0.1:0".parse().unwrap(),
                policy,
                audit_log: Some(AuditLog::open(&audit).unwrap()),
                ..InviteOptions::default()
            };
            let session = runtime.block_on(invite(options, backends().0)).unwrap();
            session_tx.send(session).unwrap();
            let _ = crashed.recv();
            // Every task dropped where it stands: no goodbye, no close frame.
            runtime.shutdown_timeout(Duration::from_secs(5));
        });
        let session = session_rx.recv().unwrap();
        CrashableHost {
            session,
            crash,
            thread,
        }
    }

    fn crash(self) -> HostSession {
        self.crash.send(()).unwrap();
        self.thread.join().unwrap();
        self.session
    }
}

/// Helper "Bob" connects to `host` and is approved.
async fn connect(
    host: &mut HostHandle,
    invitation: &Invitation,
    password: &Password,
) -> (HelperSession, ra_core::session::ConnectionId) {
    let (invitation, password) = (
        invitation.clone(),
        Password::parse(&password.to_string()).unwrap(),
    );
    let helper = tokio::spawn(async move {
        let options = AcceptOptions {
            helper_name: "Bob".into(),
            approval_timeout: Duration::from_secs(30),
            ..AcceptOptions::default()
        };
        accept(
            &invitation,
            &password,
            options,
            Box::new(OpenH264Decoder::new().unwrap()),
        )
        .await
    });
    let HostEvent::ConnectionRequest { conn, resumes, .. } =
        host_event(host, |e| matches!(e, HostEvent::ConnectionRequest { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(resumes, None, "a first connection resumes nothing");
    host.approve(conn).await.unwrap();
    (helper.await.unwrap().unwrap(), conn)
}

fn audit_events(path: &Path) -> Vec<AuditEvent> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| AuditRecord::from_json_line(line).unwrap().event)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_host_resumes_from_its_ticket_the_helper_reconnects_view_only() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let ticket_file = dir.path().join("session.ticket");
    let mut host = CrashableHost::start(resumable_policy(), &audit);
    let (invitation, password) = (
        host.session.invitation().clone(),
        host.session.password().clone(),
    );
    let session_id = invitation.session_id;
    let (mut helper, conn) = connect(&mut host.session, &invitation, &password).await;

    // Control, so that its loss in the resumption shows.
    helper.request_control().await.unwrap();
    host_event(&mut host.session, |e| {
        matches!(e, HostEvent::ControlRequested { .. })
    })
    .await;
    host.session.grant_control(conn).await.unwrap();
    helper_event(&mut helper, |e| {
        matches!(e, HelperEvent::ControlGranted { .. })
    })
    .await;

    let sealed = host
        .session
        .issue_resume_ticket(&key(7), Duration::from_secs(600))
        .await
        .unwrap();
    let HelperEvent::ResumeOffered { expires_in } = helper_event(&mut helper, |e| {
        matches!(e, HelperEvent::ResumeOffered { .. })
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(expires_in, Duration::from_secs(600));
    save_ticket(&ticket_file, &sealed).unwrap();
    let ticket = ResumeTicket::open(&sealed, &key(7), SystemTime::now()).unwrap();
    assert_eq!(ticket.contents.session_id, session_id);

    // The host's process dies: the helper hears nothing more.
    // (Its handle goes too: it holds the connection, and so the socket.)
    let crashed = std::time::Instant::now();
    drop(host.crash());
    helper_event(&mut helper, |e| *e == HelperEvent::ConnectionInterrupted).await;
    let interrupted = crashed.elapsed();

    // It restarts, takes the ticket and re-opens the session.
    let (backends, input) = backends();
    let options = ResumeOptions {
        policy: resumable_policy(),
        audit_log: Some(AuditLog::open(&audit).unwrap()),
        ..ResumeOptions::default()
    };
    let mut resumed = resume_from_file(&ticket_file, &key(7), options, backends)
        .await
        .unwrap();
    let HostEvent::ConnectionRequest {
        conn,
        resumes,
        helper_name,
        ..
    } = host_event(&mut resumed, |e| {
        matches!(e, HostEvent::ConnectionRequest { .. })
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(
        resumes,
        Some(session_id),
        "the request says it is a resumption"
    );
    assert_eq!(helper_name, "Bob");
    helper_event(&mut helper, |e| *e == HelperEvent::Resuming).await;
    eprintln!(
        "interrupted {interrupted:?} after the crash; resuming {:?} after it",
        crashed.elapsed()
    );
    resumed.approve(conn).await.unwrap();
    helper_event(&mut helper, |e| *e == HelperEvent::Connected).await;
    next_frame(&mut helper).await;

    // View-only: control did not come back with the session.
    assert_eq!(helper.control_state(), ControlState::None);
    let refused = helper
        .send_input(vec![ra_core::input::InputEvent::Text { text: "x".into() }])
        .await;
    assert!(refused.is_err(), "{refused:?}");
    helper.request_control().await.unwrap();
    host_event(&mut resumed, |e| {
        matches!(e, HostEvent::ControlRequested { .. })
    })
    .await;
    resumed.grant_control(conn).await.unwrap();
    helper_event(&mut helper, |e| {
        matches!(e, HelperEvent::ControlGranted { .. })
    })
    .await;
    helper
        .send_input(vec![ra_core::input::InputEvent::Text {
            text: "after".into(),
        }])
        .await
        .unwrap();
    input.wait_for(1, STEP).unwrap();

    // The ticket is used: its file cannot be taken again.
    let (backends, _) = self::backends();
    let again = resume_from_file(
        &ticket_file,
        &key(7),
        ResumeOptions {
            policy: resumable_policy(),
            ..ResumeOptions::default()
        },
        backends,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            again,
            InviteError::ResumeTicketFile(TicketFileError::Used { .. })
        ),
        "{again}"
    );

    helper.end().await.unwrap();
    resumed.shutdown().await;
    let records = audit_events(&audit);
    assert!(
        records
            .iter()
            .any(|e| matches!(e, AuditEvent::ResumeTicketIssued { .. })),
        "{records:?}"
    );
    assert!(
        records
            .iter()
            .any(|e| matches!(e, AuditEvent::SessionResumed { .. })),
        "{records:?}"
    );
    // Both processes' records of the session are one chain.
    let file = std::io::BufReader::new(std::fs::File::open(&audit).unwrap());
    ra_core::audit::chain::verify(file).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_are_refused_when_off_before_approval_and_when_bad() {
    let (backends, _) = backends();
    let options = InviteOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..InviteOptions::default()
    };
    let mut host = invite(options, backends).await.unwrap();
    // No helper yet.
    let (invitation, password) = (host.invitation().clone(), host.password().clone());
    host.set_policy(resumable_policy()).await.unwrap();
    let early = host
        .issue_resume_ticket(&key(1), Duration::from_secs(60))
        .await;
    assert!(
        matches!(early, Err(SessionError::Command(CommandError::NoSession))),
        "{early:?}"
    );
    let (helper, _) = connect(&mut host, &invitation, &password).await;
    // Off by default.
    host.set_policy(Policy::default()).await.unwrap();
    let off = host
        .issue_resume_ticket(&key(1), Duration::from_secs(60))
        .await;
    assert!(
        matches!(off, Err(SessionError::Command(CommandError::Policy))),
        "{off:?}"
    );
    // The policy caps the lifetime.
    host.set_policy(Policy {
        max_resume_ticket_lifetime: Duration::from_secs(120),
        ..resumable_policy()
    })
    .await
    .unwrap();
    let sealed = host
        .issue_resume_ticket(&key(1), Duration::from_secs(3600))
        .await
        .unwrap();
    let ticket = ResumeTicket::open(&sealed, &key(1), SystemTime::now()).unwrap();
    assert_eq!(
        ticket.expires_at.duration_since(ticket.issued_at).unwrap(),
        Duration::from_secs(120)
    );

    let options = || ResumeOptions {
        policy: resumable_policy(),
        ..ResumeOptions::default()
    };
    let refused = |result: Result<HostHandle, InviteError>| match result {
        Ok(_) => panic!("a bad ticket was used"),
        Err(e) => e,
    };
    // Truncated.
    let e = refused(resume(&sealed[..20], &key(1), options(), backends_only()).await);
    assert!(
        matches!(e, InviteError::ResumeTicket(ResumeError::Truncated { .. })),
        "{e}"
    );
    // Another host's (another key), or altered.
    let e = refused(resume(&sealed, &key(2), options(), backends_only()).await);
    assert!(
        matches!(e, InviteError::ResumeTicket(ResumeError::Foreign)),
        "{e}"
    );
    assert!(e.to_string().contains("another host"), "{e}");
    let mut altered = sealed.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    let e = refused(resume(&altered, &key(1), options(), backends_only()).await);
    assert!(
        matches!(e, InviteError::ResumeTicket(ResumeError::Foreign)),
        "{e}"
    );
    // Resume tickets turned off since.
    let e = refused(resume(&sealed, &key(1), ResumeOptions::default(), backends_only()).await);
    assert!(matches!(e, InviteError::ResumeNotAllowed), "{e}");
    // Expired: sealed for a lifetime that is over.
    let mut stale = ticket.clone();
    stale.issued_at = SystemTime::now() - Duration::from_secs(20);
    stale.expires_at = SystemTime::now() - Duration::from_secs(1);
    let stale = stale.seal(&key(1), &mut rand_core::OsRng).unwrap();
    let e = refused(resume(&stale, &key(1), options(), backends_only()).await);
    assert!(
        matches!(e, InviteError::ResumeTicket(ResumeError::Expired { .. })),
        "{e}"
    );
    // No file, and the port still taken by the live host (the ticket itself is good).
    let missing = std::env::temp_dir().join("ra-no-such-ticket");
    let e = refused(resume_from_file(&missing, &key(1), options(), backends_only()).await);
    assert!(
        matches!(
            e,
            InviteError::ResumeTicketFile(TicketFileError::Missing { .. })
        ),
        "{e}"
    );
    let e = refused(resume(&sealed, &key(1), options(), backends_only()).await);
    assert!(matches!(e, InviteError::Bind { .. }), "{e}");
    drop(helper);
}

fn backends_only() -> HostBackends {
    backends().0
}
