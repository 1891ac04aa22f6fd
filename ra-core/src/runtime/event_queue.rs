//! The bounded queue between a session's driver and the application that
//! reads its events.
//!
//! The driver never waits for the application: an application that stops
//! reading must not stall the session (the panic key, revocation and the
//! end still have to work). So the queue holds at most
//! [`MAX_QUEUED_EVENTS`]; when one more comes, the oldest event that a later
//! one makes up for or that only informs (a chat line, a pointer mark, a
//! clipboard text, a display list, a cursor update — [`Sheddable`]) is
//! dropped, and only when none is left the oldest event of any kind. Each
//! drop is counted ([`crate::stats::SessionStats::events_dropped`]).
//! The peer's messages that produce events are rate-limited, so an
//! application that reads at all never loses one.
//!
//! The C ABI's queue applies the same rule ([`push_bounded`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::session::{HelperEvent, HostEvent};

/// Events that may wait for the application at once.
pub const MAX_QUEUED_EVENTS: usize = 1024;

/// An event the queue may drop first when it is full.
pub trait Sheddable {
    /// Whether dropping this event loses only information that a later event
    /// repeats or that was for display (chat, pointer marks, clipboard
    /// texts, display lists, cursor updates, frames).
    fn sheddable(&self) -> bool;
}

impl Sheddable for HostEvent {
    fn sheddable(&self) -> bool {
        matches!(
            self,
            HostEvent::Chat { .. }
                | HostEvent::Pointer { .. }
                | HostEvent::Clipboard { .. }
                | HostEvent::ClipboardSent { .. }
        )
    }
}

impl Sheddable for HelperEvent {
    fn sheddable(&self) -> bool {
        matches!(
            self,
            HelperEvent::Chat { .. }
                | HelperEvent::Displays { .. }
                | HelperEvent::Cursor(_)
                | HelperEvent::Clipboard { .. }
        )
    }
}

/// Appends `item` to `items`, which holds at most `capacity` items: when
/// full, the oldest [`Sheddable`] item is removed first, or else the oldest
/// item. Returns the item removed, if any.
pub fn push_bounded<E: Sheddable>(items: &mut VecDeque<E>, item: E, capacity: usize) -> Option<E> {
    let removed = if capacity > 0 && items.len() >= capacity {
        match items.iter().position(Sheddable::sheddable) {
            Some(oldest) => items.remove(oldest),
            None => items.pop_front(),
        }
    } else {
        None
    };
    if capacity == 0 {
        return Some(item);
    }
    items.push_back(item);
    removed
}

struct Shared<E> {
    items: VecDeque<E>,
    /// The sender is gone: what is queued is the last.
    closed: bool,
    waker: Option<Waker>,
}

struct Queue<E> {
    shared: Mutex<Shared<E>>,
    dropped: Arc<AtomicU64>,
}

impl<E> Queue<E> {
    fn lock(&self) -> MutexGuard<'_, Shared<E>> {
        // Items move in and out whole; a panic cannot leave half an update.
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The driver's end: pushes without ever waiting.
pub(crate) struct EventSender<E>(Arc<Queue<E>>);

/// The application's end.
pub(crate) struct EventReceiver<E>(Arc<Queue<E>>);

/// A bounded event queue; `dropped` counts what it dropped.
pub(crate) fn event_queue<E>(dropped: Arc<AtomicU64>) -> (EventSender<E>, EventReceiver<E>) {
    let queue = Arc::new(Queue {
        shared: Mutex::new(Shared {
            items: VecDeque::new(),
            closed: false,
            waker: None,
        }),
        dropped,
    });
    (EventSender(Arc::clone(&queue)), EventReceiver(queue))
}

impl<E: Sheddable> EventSender<E> {
    /// Queues `event`, dropping an older one if the queue is full.
    pub(crate) fn send(&self, event: E) {
        let mut shared = self.0.lock();
        if push_bounded(&mut shared.items, event, MAX_QUEUED_EVENTS).is_some() {
            self.0.dropped.fetch_add(1, Ordering::Relaxed);
        }
        let waker = shared.waker.take();
        drop(shared);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<E> Drop for EventSender<E> {
    fn drop(&mut self) {
        let mut shared = self.0.lock();
        shared.closed = true;
        let waker = shared.waker.take();
        drop(shared);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<E> EventReceiver<E> {
    /// The next event, `None` once the sender is gone and nothing is left.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<E>> {
        let mut shared = self.0.lock();
        if let Some(event) = shared.items.pop_front() {
            return Poll::Ready(Some(event));
        }
        if shared.closed {
            return Poll::Ready(None);
        }
        shared.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Waits for the next event (see [`EventReceiver::poll_recv`]).
    pub(crate) async fn recv(&mut self) -> Option<E> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }
}

impl<E> std::fmt::Debug for EventReceiver<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventReceiver")
            .field("queued", &self.0.lock().items.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Item {
        Chat(u32),
        Essential(u32),
    }

    impl Sheddable for Item {
        fn sheddable(&self) -> bool {
            matches!(self, Item::Chat(_))
        }
    }

    #[test]
    fn a_full_queue_drops_the_oldest_sheddable_item_first() {
        let mut items = VecDeque::new();
        assert_eq!(push_bounded(&mut items, Item::Essential(0), 3), None);
        assert_eq!(push_bounded(&mut items, Item::Chat(1), 3), None);
        assert_eq!(push_bounded(&mut items, Item::Chat(2), 3), None);
        assert_eq!(
            push_bounded(&mut items, Item::Essential(3), 3),
            Some(Item::Chat(1))
        );
        assert_eq!(
            push_bounded(&mut items, Item::Essential(4), 3),
            Some(Item::Chat(2))
        );
        // Nothing sheddable left: the oldest goes.
        assert_eq!(
            push_bounded(&mut items, Item::Chat(5), 3),
            Some(Item::Essential(0))
        );
        assert_eq!(
            items.into_iter().collect::<Vec<_>>(),
            [Item::Essential(3), Item::Essential(4), Item::Chat(5)]
        );
    }

    #[test]
    fn a_flood_leaves_at_most_the_capacity_and_counts_the_rest() {
        let dropped = Arc::new(AtomicU64::new(0));
        let (sender, mut receiver) = event_queue(Arc::clone(&dropped));
        sender.send(Item::Essential(0));
        for i in 1..=100_000 {
            sender.send(Item::Chat(i));
        }
        sender.send(Item::Essential(1));
        drop(sender);
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut received = Vec::new();
        while let Poll::Ready(Some(item)) = receiver.poll_recv(&mut cx) {
            received.push(item);
        }
        assert_eq!(received.len(), MAX_QUEUED_EVENTS);
        assert_eq!(received[0], Item::Essential(0));
        assert_eq!(received.last(), Some(&Item::Essential(1)));
        // The newest chat lines are the ones kept.
        assert_eq!(received[received.len() - 2], Item::Chat(100_000));
        assert_eq!(
            dropped.load(Ordering::Relaxed),
            100_002 - MAX_QUEUED_EVENTS as u64
        );
    }
}
