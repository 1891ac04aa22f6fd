//! The host's per-connection task: control stream both ways, input streams in,
//! and an orderly close that tells the peer why.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::session::{ChannelBinding, ConnectionId, EndReason};

/// How long a closing connection waits for its last control bytes to be
/// acknowledged before it closes anyway.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

/// Largest chunk read from a stream at once.
const READ_CHUNK: usize = 64 * 1024;

/// What the network may have handed the driver and the driver not yet
/// handled: at most this many events (chunks of at most [`READ_CHUNK`]
/// bytes, so 4 MiB). When full, the connections' readers wait, stop
/// reading their streams, and QUIC's flow control stops the peer: a helper
/// that sends faster than the host handles is slowed, never buffered.
pub(crate) const NET_QUEUE: usize = 64;

/// Control messages queued for one connection's writer, at most (and
/// [`WRITER_BYTES`] bytes). A peer that lets more pile up is not reading
/// its control stream: its connection is closed rather than buffered for.
const WRITER_QUEUE: usize = 1024;

/// Control bytes queued for one connection's writer, at most.
const WRITER_BYTES: usize = 8 * 1024 * 1024;

/// What the network tells the host driver.
pub(crate) enum NetEvent {
    Connected {
        conn: ConnectionId,
        connection: quinn::Connection,
        peer: SocketAddr,
        binding: ChannelBinding,
        writer: Writer,
    },
    ControlData {
        conn: ConnectionId,
        data: Bytes,
    },
    InputData {
        conn: ConnectionId,
        data: Bytes,
    },
    Lost {
        conn: ConnectionId,
    },
    /// Whoever feeds connections knows the offer is over, and why (the
    /// broker says the code expired or died).
    OfferClosed {
        reason: crate::session::InvitationCloseReason,
    },
}

/// What the driver asks a connection task to do.
pub(crate) enum WriterCommand {
    Control(Vec<u8>),
    Close(EndReason),
}

/// The driver's end of a connection's writer: bounded in messages and bytes.
#[derive(Clone)]
pub(crate) struct Writer {
    commands: mpsc::Sender<WriterCommand>,
    queued_bytes: Arc<AtomicUsize>,
}

/// The connection task's end of its writer.
pub(crate) struct WriterQueue {
    commands: mpsc::Receiver<WriterCommand>,
    queued_bytes: Arc<AtomicUsize>,
}

/// A connection's writer, both ends.
pub(crate) fn writer() -> (Writer, WriterQueue) {
    let (commands, receiver) = mpsc::channel(WRITER_QUEUE);
    let queued_bytes = Arc::new(AtomicUsize::new(0));
    (
        Writer {
            commands,
            queued_bytes: Arc::clone(&queued_bytes),
        },
        WriterQueue {
            commands: receiver,
            queued_bytes,
        },
    )
}

/// The peer does not read what is written to it.
#[derive(Debug)]
pub(crate) struct PeerNotReading;

impl Writer {
    /// Queues `command` without waiting.
    ///
    /// # Errors
    /// [`PeerNotReading`] when the queue is full (in messages or bytes): the
    /// caller closes the connection. A connection already gone is no error.
    pub(crate) fn send(&self, command: WriterCommand) -> Result<(), PeerNotReading> {
        let len = match &command {
            WriterCommand::Control(bytes) => bytes.len(),
            WriterCommand::Close(_) => 0,
        };
        if self.queued_bytes.load(Ordering::Acquire) + len > WRITER_BYTES {
            return Err(PeerNotReading);
        }
        self.queued_bytes.fetch_add(len, Ordering::AcqRel);
        match self.commands.try_send(command) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.queued_bytes.fetch_sub(len, Ordering::AcqRel);
                Err(PeerNotReading)
            }
        }
    }
}

impl WriterQueue {
    async fn recv(&mut self) -> Option<WriterCommand> {
        let command = self.commands.recv().await;
        if let Some(WriterCommand::Control(bytes)) = &command {
            self.queued_bytes.fetch_sub(bytes.len(), Ordering::AcqRel);
        }
        command
    }
}

/// The QUIC application error code carrying an end reason, so the peer learns
/// why even if the goodbye message is lost.
pub(crate) fn close_code(reason: EndReason) -> quinn::VarInt {
    quinn::VarInt::from_u32(crate::session::end_reason_code(reason))
}

/// Runs one connection until it closes.
pub(crate) async fn run_connection(
    conn: ConnectionId,
    connection: quinn::Connection,
    net: mpsc::Sender<NetEvent>,
    mut writer: WriterQueue,
) {
    // The helper's first act is to open the control stream and say hello.
    let (mut send, mut recv) = tokio::select! {
        stream = connection.accept_bi() => match stream {
            Ok(s) => s,
            Err(_) => {
                let _ = net.send(NetEvent::Lost { conn }).await;
                return;
            }
        },
        command = writer.recv() => {
            if let Some(WriterCommand::Close(reason)) = command {
                connection.close(close_code(reason), reason.as_str().as_bytes());
            }
            let _ = net.send(NetEvent::Lost { conn }).await;
            return;
        }
    };
    let input_reader = tokio::spawn(read_input_streams(conn, connection.clone(), net.clone()));
    loop {
        tokio::select! {
            chunk = recv.read_chunk(READ_CHUNK, true) => match chunk {
                Ok(Some(chunk)) => {
                    // Waits while the driver is behind (see NET_QUEUE).
                    if net.send(NetEvent::ControlData { conn, data: chunk.bytes }).await.is_err() {
                        break;
                    }
                }
                Ok(None) | Err(_) => break,
            },
            command = writer.recv() => match command {
                Some(WriterCommand::Control(bytes)) => {
                    if send.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                Some(WriterCommand::Close(reason)) => {
                    let _ = send.finish();
                    let _ = tokio::time::timeout(CLOSE_GRACE, send.stopped()).await;
                    connection.close(close_code(reason), reason.as_str().as_bytes());
                    break;
                }
                None => {
                    connection.close(close_code(EndReason::HostEnded), b"host_ended");
                    break;
                }
            },
        }
    }
    input_reader.abort();
    let _ = net.send(NetEvent::Lost { conn }).await;
}

async fn read_input_streams(
    conn: ConnectionId,
    connection: quinn::Connection,
    net: mpsc::Sender<NetEvent>,
) {
    while let Ok(mut stream) = connection.accept_uni().await {
        let net = net.clone();
        tokio::spawn(async move {
            while let Ok(Some(chunk)) = stream.read_chunk(READ_CHUNK, true).await {
                if net
                    .send(NetEvent::InputData {
                        conn,
                        data: chunk.bytes,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
    }
}

/// The channel binding both sides derive from the TLS session.
pub(crate) fn channel_binding(
    connection: &quinn::Connection,
    context: &[u8],
) -> Option<ChannelBinding> {
    let mut value = [0u8; 32];
    connection
        .export_keying_material(&mut value, ChannelBinding::EXPORTER_LABEL, context)
        .ok()?;
    Some(ChannelBinding(value))
}
