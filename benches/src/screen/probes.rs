//! Timing wrappers for ra's host backends, and the damage watch they measure
//! capture time from: what they note goes into a [`HostProbe`] the run reads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ra_codec::OpenH264Encoder;
use ra_core::media::{
    CaptureError, Capturer, CodecError, CursorUpdate, DisplayId, DisplayInfo, EncodedFrame,
    Encoder, Frame,
};
use x11rb::connection::Connection as _;
use x11rb::protocol::Event;
use x11rb::protocol::damage::{self, ConnectionExt as _};

use super::screenshot::connect;
use super::{Res, lock};
use crate::stats::ms;

/// Notes when the screen was damaged, from an X connection of its own,
/// so capture time can be measured from the moment there was something
/// to capture rather than from a call that then waited for a change.
pub(crate) struct DamageWatch {
    /// Damage notifications of the last seconds, oldest first.
    times: Mutex<std::collections::VecDeque<Instant>>,
}

impl DamageWatch {
    /// Watches the root window of `display` until the server goes away.
    pub(crate) fn start(display: &str) -> Res<Arc<DamageWatch>> {
        let (conn, screen) = connect(display)?;
        let root = screen.root;
        conn.damage_query_version(1, 1)?.reply()?;
        let damage = conn.generate_id()?;
        conn.damage_create(damage, root, damage::ReportLevel::NON_EMPTY)?;
        conn.flush()?;
        let watch = Arc::new(DamageWatch {
            times: Mutex::new(std::collections::VecDeque::new()),
        });
        let noted = Arc::clone(&watch);
        std::thread::Builder::new()
            .name("bench-damage".into())
            .spawn(move || {
                // Ends with an error when Xvfb stops at the end of the run.
                while let Ok(event) = conn.wait_for_event() {
                    if let Event::DamageNotify(_) = event {
                        let now = Instant::now();
                        {
                            let mut times = lock(&noted.times);
                            times.push_back(now);
                            while times
                                .front()
                                .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(5))
                            {
                                times.pop_front();
                            }
                        }
                        // Re-arm: the next drawing sends the next notification.
                        if conn
                            .damage_subtract(damage, x11rb::NONE, x11rb::NONE)
                            .is_err()
                            || conn.flush().is_err()
                        {
                            return;
                        }
                    }
                }
            })?;
        Ok(watch)
    }

    /// The first damage noted after `after`.
    fn first_after(&self, after: Instant) -> Option<Instant> {
        lock(&self.times).iter().copied().find(|t| *t > after)
    }
}

/// One frame the capturer returned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CaptureSample {
    /// When it returned.
    pub(crate) at: Instant,
    /// From "something to capture" (damage pending at the call, or the
    /// first damage during it) to the return, ms.
    pub(crate) ms: f64,
    /// The whole `next_frame` call, waiting included, ms.
    pub(crate) wall_ms: f64,
    /// The CPU time the calling thread spent in the call (waiting costs
    /// none), ms.
    pub(crate) cpu_ms: f64,
}

/// The calling thread's CPU time so far.
fn thread_cpu() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

/// One `encode` call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EncodeSample {
    /// When it returned.
    pub(crate) at: Instant,
    /// How long it took, ms.
    pub(crate) ms: f64,
    /// Bytes out; `None` when nothing came out (skipped) or it failed.
    pub(crate) bytes: Option<usize>,
}

/// A source picture kept for PSNR.
pub(crate) struct Picture {
    /// Bytes per row.
    pub(crate) stride: usize,
    /// BGRX pixels.
    pub(crate) data: Vec<u8>,
}

/// What the wrappers note, read by the run.
#[derive(Default)]
pub(crate) struct HostProbe {
    /// Every frame the capturer returned.
    pub(crate) captures: Mutex<Vec<CaptureSample>>,
    /// Every encode call.
    pub(crate) encodes: Mutex<Vec<EncodeSample>>,
    /// Copy every N-th encoded frame's source (0: none).
    pub(crate) sample_every: AtomicU32,
    /// Copied sources by capture timestamp (µs).
    pub(crate) sources: Mutex<HashMap<u64, Picture>>,
}

/// The screen's capturer, timed (see [`CaptureSample`]).
pub(crate) struct TimedCapturer {
    /// The real capturer.
    pub(crate) inner: Box<dyn Capturer>,
    /// Where the samples go.
    pub(crate) probe: Arc<HostProbe>,
    /// When the screen was damaged.
    pub(crate) watch: Arc<DamageWatch>,
    /// When the previous frame was returned.
    pub(crate) last_return: Instant,
}

impl Capturer for TimedCapturer {
    fn displays(&self) -> Result<Vec<DisplayInfo>, CaptureError> {
        self.inner.displays()
    }

    fn select(&mut self, display: DisplayId) -> Result<(), CaptureError> {
        self.inner.select(display)
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame<'_>>, CaptureError> {
        let called = Instant::now();
        let cpu_before = thread_cpu();
        let frame = self.inner.next_frame(timeout)?;
        if frame.is_some() {
            let returned = Instant::now();
            let cpu = thread_cpu().saturating_sub(cpu_before);
            // Damage already pending at the call: the capture started at
            // once; else it started when the first damage arrived.
            let started = match self.watch.first_after(self.last_return) {
                Some(damaged) if damaged > called && damaged <= returned => damaged,
                _ => called,
            };
            lock(&self.probe.captures).push(CaptureSample {
                at: returned,
                ms: ms(returned - started),
                wall_ms: ms(returned - called),
                cpu_ms: ms(cpu),
            });
            self.last_return = returned;
        }
        Ok(frame)
    }

    fn invalidate(&mut self) {
        self.inner.invalidate();
    }

    fn cursor(&mut self) -> Option<CursorUpdate> {
        self.inner.cursor()
    }
}

/// The OpenH264 encoder, timed, keeping some sources for PSNR.
pub(crate) struct TimedEncoder {
    /// The real encoder.
    pub(crate) inner: OpenH264Encoder,
    /// Where the samples go.
    pub(crate) probe: Arc<HostProbe>,
    /// Frames output while sampling was on.
    pub(crate) outputs: u32,
}

impl Encoder for TimedEncoder {
    fn encode(
        &mut self,
        frame: &Frame<'_>,
        force_keyframe: bool,
    ) -> Result<Option<EncodedFrame>, CodecError> {
        let start = Instant::now();
        let result = self.inner.encode(frame, force_keyframe);
        let end = Instant::now();
        let bytes = match &result {
            Ok(Some(encoded)) => Some(encoded.data.len()),
            _ => None,
        };
        lock(&self.probe.encodes).push(EncodeSample {
            at: end,
            ms: ms(end - start),
            bytes,
        });
        // The copy comes after the timing, and only while sampling.
        let every = self.probe.sample_every.load(Ordering::Relaxed);
        if every > 0
            && let Ok(Some(encoded)) = &result
        {
            self.outputs += 1;
            if self.outputs.is_multiple_of(every) {
                lock(&self.probe.sources).insert(
                    encoded.captured_at.as_micros(),
                    Picture {
                        stride: frame.stride,
                        data: frame.data.to_vec(),
                    },
                );
            }
        }
        result
    }

    fn set_bitrate(&mut self, bits_per_second: u32) {
        self.inner.set_bitrate(bits_per_second);
    }
}
