//! The host's audit log, written on a thread of its own: a record costs the
//! session's driver a queue push, never a disk write (each record is a
//! write and a flush, and a chat line is a record).
//!
//! At most [`AUDIT_QUEUE`] records wait. The peer's messages that make
//! records are rate-limited, so the queue fills only when the disk stalls;
//! the driver then does not wait (the panic key and revocation must still
//! work) and what did not fit is counted and written as one
//! [`AuditEvent::RecordsLost`] line, where the lost records were, as soon as
//! the queue has room again, so the log itself says that something is
//! missing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use crate::audit::{AuditEvent, AuditLog, AuditRecord, chain::ChainHash};
use crate::invitation::SessionId;

/// Records that may wait for the writer thread.
pub(crate) const AUDIT_QUEUE: usize = 4096;

/// How long asking for a chain's head waits for the records before it.
const HEAD_WAIT: Duration = Duration::from_secs(2);

enum Job {
    Record(AuditRecord),
    /// The head of a session's chain, once every record before is written.
    Head(Option<SessionId>, std_mpsc::SyncSender<Option<ChainHash>>),
}

/// The driver's handle on the writer thread; the thread ends (after
/// writing what is queued) when this is dropped.
pub(crate) struct AuditWriter {
    jobs: std_mpsc::SyncSender<Job>,
    /// Records lost since the last one queued.
    lost: AtomicU64,
    thread: std::thread::JoinHandle<()>,
}

impl AuditWriter {
    /// Starts the thread that writes to `log`.
    ///
    /// # Errors
    /// When the thread cannot start.
    pub(crate) fn spawn(log: AuditLog) -> std::io::Result<Self> {
        let (jobs, receiver) = std_mpsc::sync_channel(AUDIT_QUEUE);
        let thread = std::thread::Builder::new()
            .name("ra-audit-log".into())
            .spawn(move || write_jobs(log, &receiver))?;
        Ok(AuditWriter {
            jobs,
            lost: AtomicU64::new(0),
            thread,
        })
    }

    /// Queues `record` (after a [`AuditEvent::RecordsLost`] line if records
    /// were lost before it); counts it as lost if the queue is full.
    pub(crate) fn record(&self, record: AuditRecord) {
        let lost = self.lost.load(Ordering::Relaxed);
        if lost > 0 {
            let marker =
                AuditRecord::now(record.session_id, AuditEvent::RecordsLost { count: lost });
            if self.jobs.try_send(Job::Record(marker)).is_err() {
                self.lost.fetch_add(1, Ordering::Relaxed);
                return;
            }
            self.lost.store(0, Ordering::Relaxed);
        }
        if let Err(std_mpsc::TrySendError::Full(_)) = self.jobs.try_send(Job::Record(record)) {
            self.lost.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The last link of `session`'s chain once every record queued before
    /// is written; waits at most [`HEAD_WAIT`] (`None` after that, or when
    /// the session wrote nothing).
    pub(crate) fn head(&self, session: Option<SessionId>) -> Option<ChainHash> {
        let deadline = std::time::Instant::now() + HEAD_WAIT;
        let (reply, answer) = std_mpsc::sync_channel(1);
        let mut job = Job::Head(session, reply);
        // A full queue is a disk behind: look for room again every
        // millisecond until the deadline (this happens once a session).
        loop {
            match self.jobs.try_send(job) {
                Ok(()) => break,
                Err(std_mpsc::TrySendError::Full(again)) => {
                    if std::time::Instant::now() >= deadline {
                        return None;
                    }
                    job = again;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(std_mpsc::TrySendError::Disconnected(_)) => return None,
            }
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        answer.recv_timeout(left).ok().flatten()
    }
}

impl AuditWriter {
    /// Waits (at most [`HEAD_WAIT`]) until every record queued so far is
    /// written: before the application hears that a session or its
    /// invitation ended, so the log it then reads is complete.
    pub(crate) fn sync(&self) {
        let _ = self.head(None);
    }

    /// Writes what is queued and stops the thread (blocking: call it from a
    /// blocking task).
    pub(crate) fn finish(self) {
        drop(self.jobs);
        let _ = self.thread.join();
    }
}

fn write_jobs(mut log: AuditLog, jobs: &std_mpsc::Receiver<Job>) {
    while let Ok(job) = jobs.recv() {
        match job {
            Job::Record(record) => {
                if let Err(e) = log.record(record) {
                    tracing::warn!(error = %e, "cannot write the audit log");
                }
            }
            Job::Head(session, reply) => {
                let _ = reply.send(log.head(session));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{self, Write};
    use std::sync::{Arc, Condvar, Mutex};

    /// A disk that stalls until the test lets it go, and tells when a
    /// write is stalled.
    #[derive(Clone, Default)]
    struct StallingDisk {
        lines: Arc<Mutex<Vec<u8>>>,
        /// (open, a write is waiting)
        state: Arc<(Mutex<(bool, bool)>, Condvar)>,
    }

    impl StallingDisk {
        fn wait_until_stalled(&self) {
            let (state, changed) = &*self.state;
            let (state, timeout) = changed
                .wait_timeout_while(state.lock().unwrap(), Duration::from_secs(10), |s| !s.1)
                .unwrap();
            assert!(state.1 && !timeout.timed_out(), "the writer never wrote");
        }

        fn open(&self) {
            let (state, changed) = &*self.state;
            state.lock().unwrap().0 = true;
            changed.notify_all();
        }
    }

    impl Write for StallingDisk {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let (state, changed) = &*self.state;
            let mut state = state.lock().unwrap();
            state.1 = true;
            changed.notify_all();
            while !state.0 {
                state = changed.wait(state).unwrap();
            }
            self.lines.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_disk_costs_the_driver_nothing_and_the_log_says_what_was_lost() {
        let disk = StallingDisk::default();
        let writer = AuditWriter::spawn(AuditLog::new(Box::new(disk.clone()))).unwrap();
        let session = Some(SessionId([7; 16]));
        let chat = |i: usize| {
            AuditRecord::now(
                session,
                AuditEvent::Chat {
                    from: "helper".into(),
                    text: format!("line {i}"),
                },
            )
        };
        // The thread takes the first record and stalls in its write; the
        // queue holds AUDIT_QUEUE more; the rest are lost, without waiting.
        writer.record(chat(0));
        disk.wait_until_stalled();
        let sent = AUDIT_QUEUE + 1001;
        for i in 1..sent {
            writer.record(chat(i));
        }
        let lost = writer.lost.load(Ordering::Relaxed);
        assert_eq!(lost, 1000, "records counted lost");
        disk.open();
        // Once the disk caught up, the next record comes with the marker.
        writer.sync();
        writer.record(chat(sent));
        let head = writer.head(session).expect("a head once written");
        let text = String::from_utf8(disk.lines.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len() as u64, sent as u64 - lost + 2);
        let marker = lines[lines.len() - 2];
        assert!(
            marker.contains("\"event\":\"records_lost\"")
                && marker.contains(&format!("\"count\":{lost}")),
            "{marker}"
        );
        // The chain is whole: the lost records never became links.
        let summary = crate::audit::chain::verify(text.as_bytes()).unwrap();
        summary.check_head(session, head).unwrap();
    }
}
