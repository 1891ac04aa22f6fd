//! Injection latency of [`EnigoInjector`] on a private Xvfb: from the start of
//! `inject` until an [`EventRecorder`] window has read the event, and the cost
//! of the `inject` call alone.
//!
//! `cargo bench -p ra-input --bench input_latency [-- N]` (N events per kind,
//! default 3000; needs Xvfb).

#[cfg(all(unix, not(target_os = "macos")))]
fn main() {
    bench::run();
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn main() {
    eprintln!("input_latency: X11 only");
}

#[cfg(all(unix, not(target_os = "macos")))]
mod bench {
    use std::time::{Duration, Instant};

    use ra_capture::xvfb::Xvfb;
    use ra_core::input::{InputEvent, InputInjector, MouseButton};
    use ra_core::keys::KeyCode;
    use ra_input::EnigoInjector;
    use ra_input::x11::EventRecorder;

    const WAIT: Duration = Duration::from_secs(5);

    pub(super) fn run() {
        let count: usize = std::env::args()
            .skip(1)
            .find_map(|arg| arg.parse().ok())
            .unwrap_or(3000);
        let xvfb = Xvfb::start(1920, 1080).expect("Xvfb");
        let display = xvfb.display();
        let recorder = EventRecorder::start(Some(&display)).expect("recorder");
        let mut injector = EnigoInjector::new(Some(&display)).expect("injector");

        println!("{count} events per kind, Xvfb 1920x1080, one event in flight at a time");
        println!(
            "{:<28} {:>9} {:>9} {:>9}   {:>9} {:>9}",
            "event", "lat p50", "lat p99", "lat max", "call p50", "call p99"
        );
        let moves = |i: usize| InputEvent::PointerMove {
            x: i32::try_from(100 + i % 1000).unwrap_or(0),
            y: i32::try_from(100 + i % 2).unwrap_or(0),
        };
        measure("pointer move", count, &recorder, &mut injector, moves);
        measure(
            "key (press or release)",
            count,
            &recorder,
            &mut injector,
            |i| InputEvent::Key {
                code: KeyCode(0x04),
                pressed: i % 2 == 0,
            },
        );
        measure(
            "button (press or release)",
            count,
            &recorder,
            &mut injector,
            |i| InputEvent::Button {
                button: MouseButton::Left,
                pressed: i % 2 == 0,
            },
        );
        // Characters are clicks (press + release): wait for both.
        let text_start = Instant::now();
        injector
            .inject(&InputEvent::Text {
                text: "héllo".to_owned(),
            })
            .expect("text");
        let text_call = text_start.elapsed();
        recorder.wait_for(10, WAIT).expect("text events");
        recorder.clear();
        println!("text \"héllo\": one call {text_call:.2?}");
        measure("key after text", count, &recorder, &mut injector, |i| {
            InputEvent::Key {
                code: KeyCode(0x04),
                pressed: i % 2 == 0,
            }
        });

        // Back to back, without waiting for the recorder in between.
        let start = Instant::now();
        for i in 0..count {
            injector.inject(&moves(i)).expect("inject");
        }
        let per_call = start.elapsed() / u32::try_from(count).unwrap_or(1);
        recorder.wait_for(count, WAIT).expect("burst events");
        recorder.clear();
        println!("burst of {count} pointer moves: {per_call:.2?} per call");
    }

    fn measure(
        name: &str,
        count: usize,
        recorder: &EventRecorder,
        injector: &mut EnigoInjector,
        event: impl Fn(usize) -> InputEvent,
    ) {
        let mut latencies = Vec::with_capacity(count);
        let mut calls = Vec::with_capacity(count);
        // Warm up, then measure.
        for i in 0..count + 100 {
            let event = event(i);
            let start = Instant::now();
            injector.inject(&event).expect("inject");
            let call = start.elapsed();
            let events = recorder.wait_for(1, WAIT).expect("recorded");
            recorder.clear();
            if i >= 100 {
                latencies.push(events[0].received_at.saturating_duration_since(start));
                calls.push(call);
            }
        }
        let (l50, l99, lmax) = stats(&mut latencies);
        let (c50, c99, _) = stats(&mut calls);
        println!("{name:<28} {l50:>9.1?} {l99:>9.1?} {lmax:>9.1?}   {c50:>9.1?} {c99:>9.1?}");
    }

    fn stats(samples: &mut [Duration]) -> (Duration, Duration, Duration) {
        samples.sort_unstable();
        let at = |q: f64| {
            let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples.get(index).copied().unwrap_or_default()
        };
        (at(0.5), at(0.99), at(1.0))
    }
}
