//! How many messages of each kind a helper may send on the control stream:
//! a token bucket per kind, far above what a person does, far below what
//! would flood the host application's events, the audit log, the desktop's
//! clipboard or the encoder. A message over its budget is dropped and
//! counted ([`super::HostEndpoint::messages_dropped`]); what keeps the
//! session correct — giving control back, the goodbye, the receipt's
//! countersignature — is never limited. (Input has its own budget, in the
//! input gate.)

use std::time::Instant;

use crate::proto::envelope::Message;
use crate::session::bucket::TokenBucket;

/// A kind's budget: how many at once, and how many a second after that.
#[derive(Debug, Clone, Copy)]
struct Budget {
    burst: f64,
    per_second: f64,
}

/// Chat lines: a person types far fewer.
const CHAT: Budget = Budget {
    burst: 20.0,
    per_second: 5.0,
};
/// Pointer marks (the laser pointer follows the mouse).
const POINTER: Budget = Budget {
    burst: 120.0,
    per_second: 60.0,
};
/// Keyframe requests: each costs the encoder a whole picture.
const KEYFRAME: Budget = Budget {
    burst: 5.0,
    per_second: 2.0,
};
/// Display selections: each moves the capturer.
const DISPLAY: Budget = Budget {
    burst: 5.0,
    per_second: 2.0,
};
/// Clipboard texts: each replaces the desktop's clipboard.
const CLIPBOARD: Budget = Budget {
    burst: 10.0,
    per_second: 2.0,
};
/// Control requests: each may ask the person at the desk.
const CONTROL: Budget = Budget {
    burst: 5.0,
    per_second: 1.0,
};

const KINDS: [Budget; 6] = [CHAT, POINTER, KEYFRAME, DISPLAY, CLIPBOARD, CONTROL];

/// The helper's budgets, refilled with time.
#[derive(Debug)]
pub(super) struct MessageBudget {
    buckets: [TokenBucket; KINDS.len()],
}

impl MessageBudget {
    /// Full budgets at `now`.
    pub(super) fn new(now: Instant) -> Self {
        MessageBudget {
            buckets: KINDS.map(|k| TokenBucket::full(now, k.burst, k.per_second)),
        }
    }

    /// Whether `message` may be handled at `now`; takes one of its kind's
    /// tokens if so.
    pub(super) fn admit(&mut self, now: Instant, message: &Option<Message>) -> bool {
        let kind = match message {
            Some(Message::Chat(_)) => 0,
            Some(Message::Pointer(_)) => 1,
            Some(Message::KeyframeRequest(_)) => 2,
            Some(Message::SelectDisplay(_)) => 3,
            Some(Message::Clipboard(_)) => 4,
            Some(Message::ControlRequest(_)) => 5,
            _ => return true,
        };
        self.buckets[kind].take(now)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::proto;

    #[test]
    fn a_burst_then_the_rate_and_the_rest_unlimited() {
        let start = Instant::now();
        let mut budget = MessageBudget::new(start);
        let chat = Some(Message::Chat(proto::Chat::default()));
        let admitted = (0..100).filter(|_| budget.admit(start, &chat)).count();
        assert_eq!(admitted, 20);
        // One second later: five more.
        let later = start + Duration::from_secs(1);
        let admitted = (0..100).filter(|_| budget.admit(later, &chat)).count();
        assert_eq!(admitted, 5);
        // Another kind has its own budget; a goodbye is never limited.
        let pointer = Some(Message::Pointer(proto::Pointer::default()));
        assert!(budget.admit(later, &pointer));
        let bye = Some(Message::Bye(proto::Bye::default()));
        assert!((0..1000).all(|_| budget.admit(later, &bye)));
    }
}
