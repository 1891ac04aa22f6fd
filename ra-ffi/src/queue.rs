//! The event queue between a session's event-forwarding task and the C side: pushed from
//! the runtime without blocking, popped by C with a timeout.
//!
//! Frames are big (8 MB at 1080p), so at most [`MAX_QUEUED_FRAMES`] wait;
//! when one more arrives the oldest waiting frame is dropped and the newcomer
//! is marked as changed all over, so an application that draws damage
//! rectangles still ends up with the right picture. At most
//! [`MAX_QUEUED_EVENTS`] items wait in all: beyond that the oldest chat
//! line, pointer mark, clipboard text, display list, cursor update or frame
//! goes first, and only when none is left the oldest item — the same rule
//! as the engine's own queue ([`ra_core::runtime::event_queue`]); each drop
//! is counted in the session's `events_dropped`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ra_core::runtime::event_queue::{MAX_QUEUED_EVENTS, Sheddable, push_bounded};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Frames that may wait in a queue.
pub(crate) const MAX_QUEUED_FRAMES: usize = 2;

/// Something that travels through an [`EventQueue`].
pub(crate) trait Queued: Sheddable {
    /// Whether the item is a video frame (and so may be dropped).
    fn is_frame(&self) -> bool;
    /// Marks a frame as changed all over (an earlier frame was dropped).
    fn cover_whole(&mut self);
}

/// What a pop found.
pub(crate) enum Pop<E> {
    Item(E),
    /// Nothing arrived in time.
    Timeout,
    /// No more items will come and none is left.
    Closed,
    /// The caller's cancel flag was set (and [`EventQueue::wake`] called).
    Cancelled,
}

struct State<E> {
    items: VecDeque<E>,
    closed: bool,
}

/// A blocking multi-producer queue with a timeout on pop.
pub(crate) struct EventQueue<E> {
    state: Mutex<State<E>>,
    changed: Condvar,
    /// Items dropped because the queue was full (frames replaced by a
    /// newer one are not counted: the newer one shows what they showed).
    dropped: AtomicU64,
}

impl<E: Queued> EventQueue<E> {
    pub(crate) fn new() -> Self {
        EventQueue {
            state: Mutex::new(State {
                items: VecDeque::new(),
                closed: false,
            }),
            changed: Condvar::new(),
            dropped: AtomicU64::new(0),
        }
    }

    /// How many items were dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, State<E>> {
        // Items are moved in and out whole; a panic cannot leave half an update.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds an item (after `close`, it is dropped).
    pub(crate) fn push(&self, mut item: E) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        if item.is_frame() {
            let frames = state.items.iter().filter(|i| i.is_frame()).count();
            if frames >= MAX_QUEUED_FRAMES
                && let Some(oldest) = state.items.iter().position(Queued::is_frame)
            {
                state.items.remove(oldest);
                item.cover_whole();
            }
        }
        if push_bounded(&mut state.items, item, MAX_QUEUED_EVENTS).is_some() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        drop(state);
        self.changed.notify_all();
    }

    /// No more items will be pushed; waiting pops return once the rest is taken.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// Wakes every waiting pop so it looks at its cancel flag. Taking the
    /// lock first means a pop cannot miss a flag set before this call.
    pub(crate) fn wake(&self) {
        let _state = self.lock();
        self.changed.notify_all();
    }

    /// Takes the oldest item, waiting up to `timeout` (`None`: forever), or
    /// until `cancel` is set and [`EventQueue::wake`] called.
    pub(crate) fn pop(&self, timeout: Option<Duration>, cancel: Option<&AtomicBool>) -> Pop<E> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut state = self.lock();
        loop {
            if cancel.is_some_and(|c| c.load(Ordering::Acquire)) {
                return Pop::Cancelled;
            }
            if let Some(item) = state.items.pop_front() {
                return Pop::Item(item);
            }
            if state.closed {
                return Pop::Closed;
            }
            state = match deadline {
                None if timeout.is_none() => self
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                // A timeout too large for `Instant` waits as long as the OS allows.
                None => {
                    self.changed
                        .wait_timeout(state, Duration::from_secs(u64::from(u32::MAX)))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Pop::Timeout;
                    }
                    self.changed
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Item {
        frame: bool,
        id: u32,
        whole: bool,
    }

    impl Sheddable for Item {
        fn sheddable(&self) -> bool {
            self.frame
        }
    }

    impl Queued for Item {
        fn is_frame(&self) -> bool {
            self.frame
        }
        fn cover_whole(&mut self) {
            self.whole = true;
        }
    }

    fn item(frame: bool, id: u32) -> Item {
        Item {
            frame,
            id,
            whole: false,
        }
    }

    fn ids(queue: &EventQueue<Item>) -> Vec<(u32, bool)> {
        let mut out = Vec::new();
        while let Pop::Item(i) = queue.pop(Some(Duration::ZERO), None) {
            out.push((i.id, i.whole));
        }
        out
    }

    #[test]
    fn keeps_events_and_drops_the_oldest_frame() {
        let queue = EventQueue::new();
        queue.push(item(true, 1));
        queue.push(item(false, 2));
        queue.push(item(true, 3));
        queue.push(item(true, 4));
        assert_eq!(ids(&queue), vec![(2, false), (3, false), (4, true)]);
    }

    #[test]
    fn an_application_that_stops_reading_keeps_the_newest_events_and_learns_how_many_went() {
        let queue = EventQueue::new();
        for id in 0..100_000 {
            queue.push(item(false, id));
        }
        let kept = ids(&queue);
        assert_eq!(kept.len(), MAX_QUEUED_EVENTS);
        assert_eq!(
            kept.first().map(|k| k.0),
            Some(100_000 - MAX_QUEUED_EVENTS as u32)
        );
        assert_eq!(queue.dropped(), 100_000 - MAX_QUEUED_EVENTS as u64);
    }

    #[test]
    fn times_out_closes_and_cancels() {
        let queue = EventQueue::<Item>::new();
        assert!(matches!(
            queue.pop(Some(Duration::from_millis(1)), None),
            Pop::Timeout
        ));
        let cancel = AtomicBool::new(true);
        assert!(matches!(queue.pop(None, Some(&cancel)), Pop::Cancelled));
        queue.push(item(false, 1));
        queue.close();
        queue.push(item(false, 2));
        assert_eq!(ids(&queue), vec![(1, false)]);
        assert!(matches!(queue.pop(None, None), Pop::Closed));
    }

    #[test]
    fn wake_ends_a_cancelled_wait() {
        let queue = std::sync::Arc::new(EventQueue::<Item>::new());
        let cancel = std::sync::Arc::new(AtomicBool::new(false));
        let waiter = {
            let (queue, cancel) = (queue.clone(), cancel.clone());
            std::thread::spawn(move || matches!(queue.pop(None, Some(&cancel)), Pop::Cancelled))
        };
        cancel.store(true, Ordering::Release);
        queue.wake();
        assert!(waiter.join().unwrap());
    }

    #[test]
    fn a_push_wakes_a_waiting_pop() {
        let queue = std::sync::Arc::new(EventQueue::new());
        let pusher = {
            let queue = queue.clone();
            std::thread::spawn(move || queue.push(item(false, 7)))
        };
        let popped = queue.pop(Some(Duration::from_secs(10)), None);
        pusher.join().unwrap();
        assert!(matches!(popped, Pop::Item(Item { id: 7, .. })));
    }
}
