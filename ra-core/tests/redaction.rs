//! A masked area's pixels never reach the helper, over real QUIC with real
//! H.264: every decoded picture is black there and matches the host's
//! screen elsewhere (PSNR ≥ 35 dB), and when the mask moves, the new area is
//! black from the first picture that shows the new mask on while the old
//! one shows again.
#![allow(missing_docs)]

use std::net::SocketAddr;
use std::time::Duration;

use ra_capture::{SyntheticCapturer, SyntheticConfig, render_pattern};
use ra_codec::{EncoderSettings, OpenH264Decoder, OpenH264Encoder, psnr_bgra};
use ra_core::media::{DisplayId, Rect};
use ra_core::password::Password;
use ra_core::policy::Policy;
use ra_core::redact;
use ra_core::runtime::{
    AcceptOptions, HelperSession, HelperSessionEvent, HostBackends, HostSession, InviteOptions,
    ReceivedFrame, accept, invite,
};
use ra_core::session::{HelperEvent, HostEvent};

const WIDTH: u32 = 640;
const HEIGHT: u32 = 360;
const STEP: Duration = Duration::from_secs(15);
/// Where the mask starts, and where it moves (desktop coordinates; the
/// first display is at the origin).
const FIRST: Rect = Rect::new(96, 48, 192, 112);
const SECOND: Rect = Rect::new(352, 176, 160, 128);
/// Pictures compared per phase.
const PICTURES: usize = 12;

async fn masked_host(mask: Rect) -> HostSession {
    let capturer = SyntheticCapturer::new(SyntheticConfig {
        width: WIDTH,
        height: HEIGHT,
        frame_rate: 30.0,
    });
    let backends = HostBackends::new(
        Box::new(capturer),
        Box::new(OpenH264Encoder::new(EncoderSettings::default())),
        Box::new(ra_input::RecordingInjector::new()),
    );
    let options = InviteOptions {
        host_name: "Alice".into(),
        listen: "127.0.0.1:0".parse::<SocketAddr>().unwrap(),
        policy: Policy {
            redact: vec![mask],
            ..Policy::default()
        },
        ..InviteOptions::default()
    };
    invite(options, backends).await.unwrap()
}

async fn connect(host: &mut HostSession) -> HelperSession {
    let invitation = host.invitation().clone();
    let password = Password::parse(&host.password().to_string()).unwrap();
    let helper = tokio::spawn(async move {
        let options = AcceptOptions {
            helper_name: "Bob".into(),
            ..AcceptOptions::default()
        };
        let decoder = Box::new(OpenH264Decoder::new().unwrap());
        accept(&invitation, &password, options, decoder).await
    });
    loop {
        let event = tokio::time::timeout(STEP, host.next_event())
            .await
            .expect("host event in time")
            .expect("host running");
        if let HostEvent::ConnectionRequest { conn, .. } = event {
            host.approve(conn).await.unwrap();
            break;
        }
    }
    helper.await.unwrap().expect("accepted")
}

/// The next decoded picture; the masks the helper was told of on the way.
async fn next_frame(helper: &mut HelperSession, told: &mut Vec<Vec<Rect>>) -> ReceivedFrame {
    loop {
        let event = tokio::time::timeout(STEP, helper.next_event())
            .await
            .expect("frame in time")
            .expect("helper running");
        match event {
            HelperSessionEvent::Frame(frame) => return frame,
            HelperSessionEvent::Session(HelperEvent::Redactions { areas }) => told.push(areas),
            _ => {}
        }
    }
}

/// How well `frame` matches the synthetic screen with `mask` painted
/// black: the best PSNR over the pattern's pictures from `*from` on (the
/// pictures come in order), which moves to the best match.
fn psnr_with_mask(frame: &ReceivedFrame, mask: Rect, from: &mut u64) -> f64 {
    let f = &frame.frame;
    let stride = f.width as usize * 4;
    let mut source = vec![0u8; stride * f.height as usize];
    let (best, index) = (*from..*from + 150)
        .map(|i| {
            render_pattern(f.width, f.height, i, DisplayId(0), &mut source, stride).unwrap();
            redact::blank(&mut source, stride, f.width, f.height, &[mask]);
            (
                psnr_bgra(&f.data, f.stride, &source, stride, f.width, f.height),
                i,
            )
        })
        .fold((0.0, *from), |a, b| if b.0 > a.0 { b } else { a });
    *from = index;
    best
}

/// The brightest channel inside `area`, a few pixels in from its edges
/// (where the codec blends black with its neighbours).
fn brightest_inside(frame: &ReceivedFrame, area: Rect) -> u8 {
    let f = &frame.frame;
    let inset = 4;
    let mut brightest = 0;
    for y in (area.y as u32 + inset)..(area.y as u32 + area.height - inset) {
        let row = y as usize * f.stride;
        for x in (area.x as u32 + inset)..(area.x as u32 + area.width - inset) {
            let p = row + x as usize * 4;
            brightest = brightest
                .max(f.data[p])
                .max(f.data[p + 1])
                .max(f.data[p + 2]);
        }
    }
    brightest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_masked_area_never_reaches_the_helper_even_as_it_moves() {
    let mut host = masked_host(FIRST).await;
    let mut helper = connect(&mut host).await;
    let mut told = Vec::new();
    let mut index = 0;

    // Every picture: black under the mask, the screen elsewhere.
    let mut worst = f64::INFINITY;
    for _ in 0..PICTURES {
        let frame = next_frame(&mut helper, &mut told).await;
        assert_eq!((frame.frame.width, frame.frame.height), (WIDTH, HEIGHT));
        let brightest = brightest_inside(&frame, FIRST);
        assert!(
            brightest <= 24,
            "the masked area shows through: {brightest}"
        );
        worst = worst.min(psnr_with_mask(&frame, FIRST, &mut index));
    }
    assert!(worst >= 35.0, "outside the mask only {worst:.1} dB");
    assert_eq!(told.first(), Some(&vec![FIRST]), "the helper was told");

    // The mask moves (the policy's stays out of it: the run-time one is the
    // window that moved). The policy's area is replaced by a policy change.
    host.set_policy(Policy::default()).await.unwrap();
    host.set_redactions(vec![SECOND]).await.unwrap();
    // From the first picture with the new mask on, the new area is black
    // and the old one shows the screen again.
    let mut moved = None;
    for _ in 0..60 {
        let frame = next_frame(&mut helper, &mut told).await;
        if brightest_inside(&frame, SECOND) <= 24
            && psnr_with_mask(&frame, SECOND, &mut index) >= 35.0
        {
            moved = Some(frame);
            break;
        }
    }
    assert!(moved.is_some(), "no picture with the moved mask");
    let mut worst = f64::INFINITY;
    for _ in 0..PICTURES {
        let frame = next_frame(&mut helper, &mut told).await;
        let brightest = brightest_inside(&frame, SECOND);
        assert!(brightest <= 24, "the moved mask shows through: {brightest}");
        worst = worst.min(psnr_with_mask(&frame, SECOND, &mut index));
    }
    assert!(worst >= 35.0, "after the move only {worst:.1} dB");
    assert_eq!(told.last(), Some(&vec![SECOND]));
    println!("PSNR outside the mask after it moved: {worst:.1} dB (at least)");
    helper.end().await.unwrap();
}
