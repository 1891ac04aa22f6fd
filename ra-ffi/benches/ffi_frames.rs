//! Per-frame cost of the C ABI's frame path against the Rust API, at 1080p.
//!
//! ```text
//! cargo bench -p ra-ffi --bench ffi_frames
//! ```
//!
//! A host (through the C ABI: the synthetic 1920×1080 pattern at 30 fps,
//! OpenH264) serves a helper that takes frames either through the Rust API
//! (`HelperSession::next_event`) or through the C ABI (`ra_helper_accept` and
//! an event callback, frames lent zero-copy). For every frame it notes the
//! time from capture to the application, and the part of it after the
//! decoder (`latency` is capture → decoded): that "hop" is where the two
//! paths differ. Passes alternate between the paths so drift on a busy
//! machine hits both. The overhead reported is the FFI path's extra hop time
//! as a share of the Rust path's capture → application time per frame.
//!
//! While frames still flow, it also times `ra_host_get_stats` and
//! `ra_helper_get_stats` (meant to be cheap enough to call every frame:
//! the target is under 10 µs a call).
// The C ABI is called directly; the bench stays within the crate that allows it.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_void};
use std::ptr;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ra_core::invitation::Invitation;
use ra_core::media::Timestamp;
use ra_core::password::Password;
use ra_core::runtime::{AcceptOptions, HelperSessionEvent, accept};
use ra_ffi::events::*;
use ra_ffi::helper::*;
use ra_ffi::host::*;
use ra_ffi::invitation::*;
use ra_ffi::options::*;
use ra_ffi::result::RA_RESULT_OK;
use ra_ffi::stats::*;
use ra_ffi::strings::ra_string_free;

const FRAMES_PER_PASS: usize = 120;
const PASSES: usize = 3;
const WARMUP_FRAMES: usize = 10;
const STATS_CALLS: usize = 20_000;

/// One frame's timings in microseconds: capture → application, and decoded → application.
#[derive(Clone, Copy)]
struct Sample {
    total_us: u64,
    hop_us: u64,
}

fn ok(result: u32, what: &str) {
    assert_eq!(result, RA_RESULT_OK, "{what} failed: {}", last_error());
}

fn last_error() -> String {
    // SAFETY: ra_last_error_message never returns NULL.
    unsafe { CStr::from_ptr(ra_ffi::error::ra_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

fn take_string(p: *mut c_char) -> String {
    // SAFETY: `p` came from the library and is freed right after.
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    // SAFETY: as above.
    unsafe { ra_string_free(p) };
    s
}

/// One of the structs the library writes, zeroed with `struct_size` set as
/// a C caller does with `RA_SIZED`.
fn sized<T: Copy>() -> T {
    // SAFETY: only used with ra.h's plain-data structs (numbers, raw
    // pointers), for which all-zero bytes are a valid value.
    let mut value: T = unsafe { std::mem::zeroed() };
    // SAFETY: every such struct starts with `size_t struct_size`.
    unsafe {
        ptr::from_mut(&mut value)
            .cast::<usize>()
            .write(std::mem::size_of::<T>())
    };
    value
}

/// Approves every connection request (the host's event callback).
unsafe extern "C" fn approve_all(user_data: *mut c_void, event: *const ra_host_event) {
    let mut data = sized::<ra_host_event_data>();
    // SAFETY: the event is lent for this call; `data` is sized.
    if unsafe { ra_host_event_get_data(event, &mut data) } != RA_RESULT_OK {
        return;
    }
    if data.kind == RA_HOST_EVENT_CONNECTION_REQUEST {
        // SAFETY: user_data is the live host handle.
        unsafe { ra_host_approve(user_data as *const ra_host, data.connection) };
    }
}

/// Opens a host through the C ABI; returns it with its token and password.
fn open_host() -> (*mut ra_host, String, String) {
    let mut options = ptr::null_mut();
    let mut backends = ptr::null_mut();
    let mut host = ptr::null_mut();
    // SAFETY: the calls follow ra.h; every pointer is a local or a handle
    // just created.
    unsafe {
        ok(ra_invite_options_new(&mut options), "options");
        ok(
            ra_invite_options_set_listen(options, c"127.0.0.1:0".as_ptr()),
            "listen",
        );
        ok(
            ra_ffi::backends::ra_host_backends_new(&mut backends),
            "backends",
        );
        ok(
            ra_ffi::backends::ra_host_backends_use_synthetic_capturer(backends, 1920, 1080, 30.0),
            "capturer",
        );
        ok(ra_host_invite(options, backends, &mut host), "invite");
        ra_ffi::backends::ra_host_backends_free(backends);
        ra_invite_options_free(options);
        ok(
            ra_host_set_event_callback(host, Some(approve_all), host.cast()),
            "callback",
        );
        let mut invitation = ptr::null_mut();
        ok(ra_host_get_invitation(host, &mut invitation), "invitation");
        let mut token = ptr::null_mut();
        ok(ra_invitation_to_token(invitation, &mut token), "token");
        ra_invitation_free(invitation);
        let mut password = ptr::null_mut();
        ok(ra_host_get_password(host, &mut password), "password");
        (host, take_string(token), take_string(password))
    }
}

fn sample(captured_at_us: u64, decoded_latency: Duration) -> Sample {
    let total = Timestamp(captured_at_us).duration_until(Timestamp::now());
    Sample {
        total_us: total.as_micros() as u64,
        hop_us: total.saturating_sub(decoded_latency).as_micros() as u64,
    }
}

/// Frames through the Rust API.
fn rust_pass(runtime: &tokio::runtime::Runtime, token: &str, password: &str) -> Vec<Sample> {
    runtime.block_on(async {
        let invitation = Invitation::from_token(token).expect("token");
        let password = Password::parse(password).expect("password");
        let decoder = Box::new(ra_codec::OpenH264Decoder::new().expect("decoder"));
        let mut session = accept(&invitation, &password, AcceptOptions::default(), decoder)
            .await
            .expect("accept");
        let mut samples = Vec::new();
        while samples.len() < FRAMES_PER_PASS + WARMUP_FRAMES {
            match session.next_event().await {
                Some(HelperSessionEvent::Frame(f)) => {
                    samples.push(sample(f.frame.captured_at.as_micros(), f.latency));
                }
                Some(_) => {}
                None => panic!("the session ended"),
            }
        }
        let _ = session.end().await;
        samples.split_off(WARMUP_FRAMES)
    })
}

/// What the FFI callback fills.
struct Collector {
    samples: Mutex<Vec<Sample>>,
    done: Mutex<Option<mpsc::Sender<()>>>,
}

unsafe extern "C" fn on_frame(user_data: *mut c_void, event: *const ra_helper_event) {
    let mut data = sized::<ra_helper_event_data>();
    // SAFETY: the event is lent for this call; `data` is sized.
    if unsafe { ra_helper_event_get_data(event, &mut data) } != RA_RESULT_OK {
        return;
    }
    if data.kind != RA_HELPER_EVENT_FRAME {
        return;
    }
    // SAFETY: user_data is the Collector, alive until the callback is removed.
    let collector = unsafe { &*(user_data as *const Collector) };
    let s = sample(
        data.frame.captured_at_us,
        Duration::from_micros(data.latency_us),
    );
    let mut samples = collector.samples.lock().unwrap();
    samples.push(s);
    if samples.len() >= FRAMES_PER_PASS + WARMUP_FRAMES
        && let Some(done) = collector.done.lock().unwrap().take()
    {
        let _ = done.send(());
    }
}

/// Times `STATS_CALLS` calls of `get` (a stats call on a live session):
/// the mean and the 99th percentile, in µs. The figures must be live (a
/// round trip and bytes counted), or the calls timed did no work.
fn time_stats_calls(mut get: impl FnMut(&mut ra_session_stats) -> u32) -> (f64, f64) {
    let mut calls_ns = Vec::with_capacity(STATS_CALLS);
    let mut stats = sized::<ra_session_stats>();
    for _ in 0..STATS_CALLS {
        stats = sized::<ra_session_stats>();
        let started = Instant::now();
        let result = get(&mut stats);
        calls_ns.push(started.elapsed().as_nanos() as u64);
        ok(result, "stats");
    }
    assert!(
        stats.rtt_us > 0 && stats.bytes_sent > 0 && stats.bytes_received > 0,
        "the stats are not live"
    );
    let mean = calls_ns.iter().sum::<u64>() as f64 / calls_ns.len() as f64;
    calls_ns.sort_unstable();
    let p99 = calls_ns[(calls_ns.len() - 1) * 99 / 100] as f64;
    (mean / 1000.0, p99 / 1000.0)
}

/// The stats calls' cost: the host's and the helper's (mean µs, p99 µs).
struct StatsCost {
    host: (f64, f64),
    helper: (f64, f64),
}

/// Frames through the C ABI's event callback; then, frames still flowing,
/// the stats calls timed on both sides.
fn ffi_pass(host: *mut ra_host, token: &str, password: &str) -> (Vec<Sample>, StatsCost) {
    let token = std::ffi::CString::new(token).unwrap();
    let password = std::ffi::CString::new(password).unwrap();
    let (done, finished) = mpsc::channel();
    let collector = Collector {
        samples: Mutex::new(Vec::new()),
        done: Mutex::new(Some(done)),
    };
    let cost;
    // SAFETY: as in `open_host`; the collector outlives the callback, which
    // is removed before it is dropped.
    unsafe {
        let mut invitation = ptr::null_mut();
        ok(
            ra_invitation_from_token(token.as_ptr(), &mut invitation),
            "from_token",
        );
        let mut helper = ptr::null_mut();
        ok(
            ra_helper_accept(invitation, password.as_ptr(), ptr::null(), &mut helper),
            "accept",
        );
        ra_invitation_free(invitation);
        ok(
            ra_helper_set_event_callback(
                helper,
                Some(on_frame),
                &collector as *const Collector as *mut c_void,
            ),
            "callback",
        );
        finished
            .recv_timeout(Duration::from_secs(120))
            .expect("frames in time");
        // The live handles; each `stats` is sized.
        cost = StatsCost {
            host: time_stats_calls(|stats| ra_host_get_stats(host, stats)),
            helper: time_stats_calls(|stats| ra_helper_get_stats(helper, stats)),
        };
        ok(
            ra_helper_set_event_callback(helper, None, ptr::null_mut()),
            "uncallback",
        );
        ra_helper_free(helper);
    }
    let mut samples = collector.samples.into_inner().unwrap();
    samples.truncate(FRAMES_PER_PASS + WARMUP_FRAMES);
    (samples.split_off(WARMUP_FRAMES), cost)
}

fn mean(samples: &[Sample], f: impl Fn(&Sample) -> u64) -> f64 {
    samples.iter().map(|s| f(s) as f64).sum::<f64>() / samples.len() as f64
}

fn percentile(samples: &[Sample], f: impl Fn(&Sample) -> u64, p: f64) -> u64 {
    let mut values: Vec<u64> = samples.iter().map(f).collect();
    values.sort_unstable();
    values[((values.len() - 1) as f64 * p) as usize]
}

fn main() {
    let started = Instant::now();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (host, token, password) = open_host();
    let mut rust = Vec::new();
    let mut ffi = Vec::new();
    let mut costs = Vec::new();
    for _ in 0..PASSES {
        rust.extend(rust_pass(&runtime, &token, &password));
        let (samples, cost) = ffi_pass(host, &token, &password);
        ffi.extend(samples);
        costs.push(cost);
    }
    // SAFETY: the handle from open_host, freed once.
    unsafe { ra_host_free(host) };

    println!(
        "1080p frames: {} per path, synthetic pattern, OpenH264, loopback",
        rust.len()
    );
    println!(
        "{:<8} {:>22} {:>22} {:>22}",
        "path", "capture→app mean/p95", "decoded→app mean", "decoded→app p95"
    );
    for (name, s) in [("rust", &rust), ("ffi", &ffi)] {
        println!(
            "{:<8} {:>13.2} / {:>6.2} ms {:>19.1} µs {:>19} µs",
            name,
            mean(s, |x| x.total_us) / 1000.0,
            percentile(s, |x| x.total_us, 0.95) as f64 / 1000.0,
            mean(s, |x| x.hop_us),
            percentile(s, |x| x.hop_us, 0.95),
        );
    }
    let extra_us = mean(&ffi, |x| x.hop_us) - mean(&rust, |x| x.hop_us);
    let per_frame_us = mean(&rust, |x| x.total_us);
    println!(
        "FFI overhead per frame: {:+.1} µs = {:+.2}% of the Rust path's {:.2} ms capture→app (target < 5%)",
        extra_us,
        100.0 * extra_us / per_frame_us,
        per_frame_us / 1000.0
    );
    for (pass, cost) in costs.iter().enumerate() {
        println!(
            "stats call, pass {}: ra_host_get_stats {:.2} µs mean / {:.2} µs p99, \
             ra_helper_get_stats {:.2} µs mean / {:.2} µs p99 (target < 10 µs)",
            pass + 1,
            cost.host.0,
            cost.host.1,
            cost.helper.0,
            cost.helper.1
        );
    }
    println!("(took {:.0} s)", started.elapsed().as_secs_f64());
}
