//! The host's per-connection task: control stream both ways, input streams in,
//! and an orderly close that tells the peer why.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::session::{ChannelBinding, ConnectionId, EndReason};

/// How long a closing connection waits for its last control bytes to be
/// acknowledged before it closes anyway.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

/// Largest chunk read from a stream at once.
const READ_CHUNK: usize = 64 * 1024;

/// What the network tells the host driver.
pub(crate) enum NetEvent {
    Connected {
        conn: ConnectionId,
        connection: quinn::Connection,
        peer: SocketAddr,
        binding: ChannelBinding,
        writer: mpsc::UnboundedSender<WriterCommand>,
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

/// The QUIC application error code carrying an end reason, so the peer learns
/// why even if the goodbye message is lost.
pub(crate) fn close_code(reason: EndReason) -> quinn::VarInt {
    quinn::VarInt::from_u32(crate::session::end_reason_code(reason))
}

/// Runs one connection until it closes.
pub(crate) async fn run_connection(
    conn: ConnectionId,
    connection: quinn::Connection,
    net: mpsc::UnboundedSender<NetEvent>,
    mut writer: mpsc::UnboundedReceiver<WriterCommand>,
) {
    // The helper's first act is to open the control stream and say hello.
    let (mut send, mut recv) = tokio::select! {
        stream = connection.accept_bi() => match stream {
            Ok(s) => s,
            Err(_) => {
                let _ = net.send(NetEvent::Lost { conn });
                return;
            }
        },
        command = writer.recv() => {
            if let Some(WriterCommand::Close(reason)) = command {
                connection.close(close_code(reason), reason.as_str().as_bytes());
            }
            let _ = net.send(NetEvent::Lost { conn });
            return;
        }
    };
    let input_reader = tokio::spawn(read_input_streams(conn, connection.clone(), net.clone()));
    loop {
        tokio::select! {
            chunk = recv.read_chunk(READ_CHUNK, true) => match chunk {
                Ok(Some(chunk)) => {
                    let _ = net.send(NetEvent::ControlData { conn, data: chunk.bytes });
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
    let _ = net.send(NetEvent::Lost { conn });
}

async fn read_input_streams(
    conn: ConnectionId,
    connection: quinn::Connection,
    net: mpsc::UnboundedSender<NetEvent>,
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
