//! Behaviour of the synthetic and null capturers through the `Capturer` trait.

use std::time::{Duration, Instant};

use ra_capture::{NullCapturer, SyntheticCapturer, SyntheticConfig, render_pattern};
use ra_core::media::{CaptureError, Capturer, DisplayId, Frame, Rect};

/// A capturer fast enough that tests never wait long for a tick.
fn fast(width: u32, height: u32) -> SyntheticCapturer {
    SyntheticCapturer::new(SyntheticConfig {
        width,
        height,
        frame_rate: 1000.0,
    })
}

const PATIENCE: Duration = Duration::from_secs(5);

/// An owned copy of a frame, so the capturer can be called again.
struct Captured {
    width: u32,
    height: u32,
    stride: usize,
    data: Vec<u8>,
    damage: Vec<Rect>,
    display: DisplayId,
}

fn capture(capturer: &mut SyntheticCapturer) -> Captured {
    let frame: Frame<'_> = capturer
        .next_frame(PATIENCE)
        .unwrap()
        .expect("a frame within the timeout");
    Captured {
        width: frame.width,
        height: frame.height,
        stride: frame.stride,
        data: frame.data.to_vec(),
        damage: frame.damage.clone(),
        display: frame.display,
    }
}

fn expected(frame: &Captured, index: u64) -> Vec<u8> {
    let mut out = vec![0; frame.stride * frame.height as usize];
    render_pattern(
        frame.width,
        frame.height,
        index,
        frame.display,
        &mut out,
        frame.stride,
    )
    .unwrap();
    out
}

fn contains(rect: &Rect, x: usize, y: usize) -> bool {
    let (x, y) = (x as i64, y as i64);
    let (left, top) = (i64::from(rect.x), i64::from(rect.y));
    x >= left && y >= top && x < left + i64::from(rect.width) && y < top + i64::from(rect.height)
}

/// Pixels that differ between two pictures of the same geometry.
fn changed_pixels(a: &Captured, b: &Captured) -> Vec<(usize, usize)> {
    let mut changed = Vec::new();
    for y in 0..a.height as usize {
        for x in 0..a.width as usize {
            let at = y * a.stride + 4 * x;
            if a.data[at..at + 4] != b.data[at..at + 4] {
                changed.push((x, y));
            }
        }
    }
    changed
}

fn whole(frame: &Captured) -> Vec<Rect> {
    vec![Rect::new(0, 0, frame.width, frame.height)]
}

#[test]
fn displays_are_two_side_by_side() {
    let capturer = SyntheticCapturer::default();
    let displays = capturer.displays().unwrap();
    assert_eq!(displays.len(), 2);
    assert_eq!(displays[0].name, "synthetic-0");
    assert_eq!(displays[0].id, DisplayId(0));
    assert!(displays[0].primary);
    assert_eq!(displays[0].bounds, Rect::new(0, 0, 1280, 720));
    assert_eq!(displays[1].name, "synthetic-1");
    assert_eq!(displays[1].id, DisplayId(1));
    assert!(!displays[1].primary);
    assert_eq!(displays[1].bounds, Rect::new(1280, 0, 1280, 720));
    assert_eq!(capturer.config().frame_rate, 30.0);
}

#[test]
fn frames_follow_the_pattern_and_change() {
    let mut capturer = fast(320, 180);
    assert_eq!(capturer.last_frame_index(), None);
    let first = capture(&mut capturer);
    assert_eq!((first.width, first.height, first.stride), (320, 180, 1280));
    assert_eq!(first.display, DisplayId(0));
    assert_eq!(capturer.last_frame_index(), Some(0));
    assert_eq!(first.data, expected(&first, 0));
    let second = capture(&mut capturer);
    assert_eq!(second.data, expected(&second, 1));
    assert_ne!(first.data, second.data, "the pattern moves");
}

#[test]
fn damage_covers_exactly_the_changes() {
    let mut capturer = fast(640, 360);
    let mut previous = capture(&mut capturer);
    assert_eq!(previous.damage, whole(&previous), "first frame is whole");
    for _ in 0..60 {
        let next = capture(&mut capturer);
        let changed = changed_pixels(&previous, &next);
        assert!(!changed.is_empty());
        for &(x, y) in &changed {
            assert!(
                next.damage.iter().any(|r| contains(r, x, y)),
                "pixel ({x}, {y}) changed outside the damage {:?}",
                next.damage
            );
        }
        // Tight: every rectangle holds a change, and together they are small.
        for rect in &next.damage {
            assert!(
                changed.iter().any(|&(x, y)| contains(rect, x, y)),
                "damage {rect:?} holds no change"
            );
        }
        let area: u64 = next
            .damage
            .iter()
            .map(|r| u64::from(r.width) * u64::from(r.height))
            .sum();
        assert!(area < 640 * 360 / 4, "damage area {area}");
        previous = next;
    }
}

#[test]
fn invalidate_and_select_give_whole_frames() {
    let mut capturer = fast(320, 180);
    let _ = capture(&mut capturer);
    let partial = capture(&mut capturer);
    assert_ne!(partial.damage, whole(&partial));

    capturer.invalidate();
    let invalidated = capture(&mut capturer);
    assert_eq!(invalidated.damage, whole(&invalidated));
    assert_eq!(invalidated.data, expected(&invalidated, 2));
    assert_ne!(capture(&mut capturer).damage, whole(&invalidated));

    capturer.select(DisplayId(1)).unwrap();
    assert_eq!(capturer.selected(), DisplayId(1));
    let second_display = capture(&mut capturer);
    assert_eq!(second_display.display, DisplayId(1));
    assert_eq!(second_display.damage, whole(&second_display));
    assert_eq!(second_display.data, expected(&second_display, 4));
    let mut same_index_first_display = vec![0; second_display.data.len()];
    render_pattern(
        320,
        180,
        4,
        DisplayId(0),
        &mut same_index_first_display,
        1280,
    )
    .unwrap();
    assert_ne!(second_display.data, same_index_first_display);

    capturer.select(DisplayId::ALL).unwrap();
    let both = capture(&mut capturer);
    assert_eq!(
        (both.width, both.height, both.display),
        (640, 180, DisplayId::ALL)
    );
    assert_eq!(both.damage, whole(&both));
    assert_eq!(both.data, expected(&both, 5));
    let next = capture(&mut capturer);
    assert_eq!(next.data, expected(&next, 6));
    for (x, y) in changed_pixels(&both, &next) {
        assert!(next.damage.iter().any(|r| contains(r, x, y)));
    }
}

#[test]
fn unknown_display_is_refused() {
    let mut capturer = fast(64, 64);
    let error = capturer.select(DisplayId(2)).unwrap_err();
    assert!(
        matches!(error, CaptureError::NoSuchDisplay(DisplayId(2))),
        "{error}"
    );
    assert_eq!(capturer.selected(), DisplayId(0));
    assert_eq!(capture(&mut capturer).display, DisplayId(0));
}

#[test]
fn pacing_respects_the_frame_rate_and_timeout() {
    let mut capturer = SyntheticCapturer::new(SyntheticConfig {
        width: 64,
        height: 64,
        frame_rate: 4.0,
    });
    let started = Instant::now();
    assert!(
        capturer.next_frame(Duration::ZERO).unwrap().is_some(),
        "first frame at once"
    );
    assert!(started.elapsed() < Duration::from_millis(200));

    // The next tick is 250 ms away: a 50 ms wait ends empty, after about 50 ms.
    let waiting = Instant::now();
    assert!(
        capturer
            .next_frame(Duration::from_millis(50))
            .unwrap()
            .is_none()
    );
    let waited = waiting.elapsed();
    assert!(waited >= Duration::from_millis(45), "{waited:?}");
    assert!(waited < Duration::from_millis(200), "{waited:?}");

    // A long timeout returns at the tick, not at the timeout.
    assert!(capturer.next_frame(PATIENCE).unwrap().is_some());
    let second_at = started.elapsed();
    assert!(second_at >= Duration::from_millis(240), "{second_at:?}");
    assert!(second_at < Duration::from_millis(1000), "{second_at:?}");
}

#[test]
fn odd_and_clamped_sizes() {
    let mut capturer = SyntheticCapturer::new(SyntheticConfig {
        width: 0,
        height: 3,
        frame_rate: f64::NAN,
    });
    assert_eq!(capturer.config().width, 1);
    assert_eq!(capturer.config().frame_rate, 30.0);
    let frame = capture(&mut capturer);
    assert_eq!((frame.width, frame.height), (1, 3));

    let mut odd = fast(101, 57);
    let first = capture(&mut odd);
    let second = capture(&mut odd);
    assert_eq!(second.data, expected(&second, 1));
    for (x, y) in changed_pixels(&first, &second) {
        assert!(second.damage.iter().any(|r| contains(r, x, y)));
    }
}

#[test]
fn null_capturer_has_nothing() {
    let mut capturer = NullCapturer::new();
    assert!(capturer.displays().unwrap().is_empty());
    assert!(matches!(
        capturer.select(DisplayId(0)),
        Err(CaptureError::NoSuchDisplay(DisplayId(0)))
    ));
    let started = Instant::now();
    assert!(
        capturer
            .next_frame(Duration::from_millis(30))
            .unwrap()
            .is_none()
    );
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(25), "{waited:?}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
}
