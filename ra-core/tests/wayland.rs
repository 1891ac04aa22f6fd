//! A whole ra session into a Wayland desktop: the helper's input goes over
//! QUIC to a host whose injector sends it into a headless GNOME desktop
//! through a mutter remote-desktop session, and reaches a Wayland client
//! (`weston-eventdemo` logs it) — only while control is granted; a revoke in
//! the middle of a drag releases the button.
#![cfg(target_os = "linux")]
#![allow(missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ra_capture::{SyntheticCapturer, SyntheticConfig};
use ra_codec::{EncoderSettings, OpenH264Decoder, OpenH264Encoder};
use ra_core::input::{InputEvent, MouseButton};
use ra_core::password::Password;
use ra_core::runtime::{
    AcceptOptions, HelperSession, HostBackends, HostSession, InviteOptions, accept, invite,
};
use ra_core::session::{HelperEvent, HostEvent};
use ra_input::wayland::WaylandInjector;
use ra_testkit::gnome::HeadlessGnome;
use ra_wayland::RemoteDesktop;
use ra_wayland::mutter::{MutterOptions, MutterSession};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
const STEP: Duration = Duration::from_secs(20);

async fn host_event(host: &mut HostSession, wanted: impl Fn(&HostEvent) -> bool) -> HostEvent {
    loop {
        let event = tokio::time::timeout(STEP, host.next_event())
            .await
            .expect("host event in time")
            .expect("host running");
        if wanted(&event) {
            return event;
        }
    }
}

async fn helper_event(helper: &mut HelperSession, wanted: impl Fn(&HelperEvent) -> bool) {
    loop {
        let event = tokio::time::timeout(STEP, helper.next_event())
            .await
            .expect("helper event in time")
            .expect("helper running");
        if let ra_core::runtime::HelperSessionEvent::Session(event) = event
            && wanted(&event)
        {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helper_input_reaches_a_wayland_client_only_while_granted() {
    let desktop = HeadlessGnome::start(&[(WIDTH, HEIGHT)]).expect("headless GNOME");
    let demo = desktop.event_demo(WIDTH, HEIGHT);
    let session: Arc<dyn RemoteDesktop> = Arc::new(
        MutterSession::open(&MutterOptions {
            env: desktop.env().clone(),
            ..MutterOptions::default()
        })
        .expect("mutter session"),
    );
    let mut injector = WaylandInjector::new(session);
    demo.wake_seat(&mut injector);

    // The synthetic picture has the monitor's size, so the helper's
    // coordinates are the desktop's.
    let backends = HostBackends::new(
        Box::new(SyntheticCapturer::new(SyntheticConfig {
            width: WIDTH,
            height: HEIGHT,
            frame_rate: 10.0,
        })),
        Box::new(OpenH264Encoder::new(EncoderSettings::default())),
        Box::new(injector),
    );
    let options = InviteOptions {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..InviteOptions::default()
    };
    let mut host = invite(options, backends).await.expect("invite");
    let invitation = host.invitation().clone();
    let password = Password::parse(&host.password().to_string()).expect("password");
    let accepting = tokio::spawn(async move {
        let decoder = Box::new(OpenH264Decoder::new().expect("decoder"));
        accept(&invitation, &password, AcceptOptions::default(), decoder).await
    });
    let HostEvent::ConnectionRequest { conn, .. } = host_event(&mut host, |e| {
        matches!(e, HostEvent::ConnectionRequest { .. })
    })
    .await
    else {
        unreachable!()
    };
    host.approve(conn).await.expect("approve");
    let mut helper = accepting.await.expect("joined").expect("accepted");

    // Without a grant nothing reaches the desktop (the helper may not even
    // send it; what matters is what the client sees).
    let _ = helper
        .send_input(vec![
            InputEvent::PointerMove { x: 400, y: 200 },
            InputEvent::Button {
                button: MouseButton::Left,
                pressed: true,
            },
        ])
        .await;
    let seen = demo.lines_within(Duration::from_secs(1));
    assert!(
        !seen
            .iter()
            .any(|l| l.contains("x: 400.000000") || l.contains("button:")),
        "input without a grant reached the client: {seen:?}"
    );

    helper.request_control().await.expect("request");
    host_event(&mut host, |e| {
        matches!(e, HostEvent::ControlRequested { .. })
    })
    .await;
    host.grant_control(conn).await.expect("grant");
    helper_event(&mut helper, |e| {
        matches!(e, HelperEvent::ControlGranted { .. })
    })
    .await;

    // A drag: move, press, move; then the host revokes mid-drag.
    helper
        .send_input(vec![
            InputEvent::PointerMove { x: 300, y: 200 },
            InputEvent::Button {
                button: MouseButton::Left,
                pressed: true,
            },
            InputEvent::PointerMove { x: 500, y: 260 },
        ])
        .await
        .expect("input");
    demo.expect(&["x: 300.000000", "y: 200.000000"]);
    demo.expect(&["button: 272", "state: pressed"]);
    demo.expect(&["x: 500.000000", "y: 260.000000"]);
    host.revoke().await.expect("revoke");
    demo.expect(&["button: 272", "state: released"]);
    helper_event(&mut helper, |e| {
        matches!(e, HelperEvent::ControlRevoked { .. })
    })
    .await;

    // Revoked: nothing reaches the client any more.
    let _ = helper
        .send_input(vec![InputEvent::PointerMove { x: 700, y: 100 }])
        .await;
    let seen = demo.lines_within(Duration::from_secs(1));
    assert!(
        !seen.iter().any(|l| l.contains("x: 700.000000")),
        "input after the revoke reached the client: {seen:?}"
    );
    let _ = helper.end().await;
}
