//! The link to the broker: a QUIC connection from the peer's own socket (so
//! the broker observes the address the peers will use), request streams of
//! length-delimited messages, and [`BrokerLink`], which carries out what a
//! rendezvous state machine (`crate::rendezvous`) asks.

use std::net::SocketAddr;
use std::time::Duration;

use prost::Message as _;

use super::peer_tls::{BrokerTrust, broker_client_config, broker_server_name};
use crate::proto::broker::{
    BrokerMessage, MAX_BROKER_MESSAGE, PeerMessage, broker_message, peer_message,
};
use crate::rendezvous::BrokerTransmit;
use crate::session::{FrameDecoder, encode_frame};

/// What can go wrong talking to the broker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum BrokerLinkError {
    #[error("cannot reach the broker: {0}")]
    Unreachable(String),
    #[error("the broker connection was lost: {0}")]
    Lost(String),
    #[error("the broker broke the protocol: {0}")]
    Protocol(String),
}

/// Connects to the broker from `endpoint` (so the broker observes the socket
/// the peers will use).
pub(crate) async fn connect_broker(
    endpoint: &quinn::Endpoint,
    broker: SocketAddr,
    trust: &BrokerTrust,
    timeout: Duration,
) -> Result<quinn::Connection, BrokerLinkError> {
    let config =
        broker_client_config(trust).map_err(|e| BrokerLinkError::Unreachable(e.to_string()))?;
    let connecting = endpoint
        .connect_with(config, broker, broker_server_name(trust))
        .map_err(|e| BrokerLinkError::Unreachable(format!("{broker}: {e}")))?;
    match tokio::time::timeout(timeout, connecting).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(e)) => Err(BrokerLinkError::Unreachable(format!("{broker}: {e}"))),
        Err(_) => Err(BrokerLinkError::Unreachable(format!("{broker}: timed out"))),
    }
}

/// One request stream to the broker: length-delimited messages both ways.
pub(crate) struct BrokerStream {
    send: quinn::SendStream,
    recv: quinn::RecvStream,
    decoder: FrameDecoder,
}

impl BrokerStream {
    /// Opens a stream and sends the first message.
    pub(crate) async fn open(
        connection: &quinn::Connection,
        first: peer_message::Message,
    ) -> Result<Self, BrokerLinkError> {
        let (send, recv) = connection
            .open_bi()
            .await
            .map_err(|e| BrokerLinkError::Lost(e.to_string()))?;
        let mut stream = BrokerStream {
            send,
            recv,
            decoder: FrameDecoder::new(MAX_BROKER_MESSAGE),
        };
        stream.send(first).await?;
        Ok(stream)
    }

    /// Sends one message.
    pub(crate) async fn send(
        &mut self,
        message: peer_message::Message,
    ) -> Result<(), BrokerLinkError> {
        let bytes = encode_frame(&PeerMessage {
            message: Some(message),
        });
        self.send
            .write_all(&bytes)
            .await
            .map_err(|e| BrokerLinkError::Lost(e.to_string()))
    }

    /// Ends the peer's side of the stream.
    pub(crate) fn finish(&mut self) {
        let _ = self.send.finish();
    }

    /// The next message; an error when the stream ends.
    pub(crate) async fn recv(&mut self) -> Result<broker_message::Message, BrokerLinkError> {
        // Bounded by the stream: each round consumes a chunk or returns.
        loop {
            match self.decoder.next_message() {
                Ok(Some(bytes)) => {
                    return BrokerMessage::decode(bytes)
                        .ok()
                        .and_then(|m| m.message)
                        .ok_or_else(|| BrokerLinkError::Protocol("undecodable message".into()));
                }
                Ok(None) => {}
                Err(e) => return Err(BrokerLinkError::Protocol(e.to_string())),
            }
            match self.recv.read_chunk(MAX_BROKER_MESSAGE, true).await {
                Ok(Some(chunk)) => self.decoder.push(&chunk.bytes),
                Ok(None) => {
                    return Err(BrokerLinkError::Lost("the broker closed the stream".into()));
                }
                Err(e) => return Err(BrokerLinkError::Lost(e.to_string())),
            }
        }
    }
}

/// Carries out a rendezvous machine's [`BrokerTransmit`]s from one socket:
/// one connection per broker node (made when a request needs it, dropped
/// when it breaks), one current request stream.
pub(crate) struct BrokerLink {
    endpoint: quinn::Endpoint,
    trust: BrokerTrust,
    timeout: Duration,
    connection: Option<(SocketAddr, quinn::Connection)>,
    stream: Option<BrokerStream>,
}

impl BrokerLink {
    /// A link from `endpoint`, recognising the broker by `trust`; reaching
    /// it may take `timeout`.
    pub(crate) fn new(endpoint: quinn::Endpoint, trust: BrokerTrust, timeout: Duration) -> Self {
        BrokerLink {
            endpoint,
            trust,
            timeout,
            connection: None,
            stream: None,
        }
    }

    /// Carries out `transmit`.
    ///
    /// # Errors
    /// When the broker cannot be reached or the stream broke; the link then
    /// holds no connection (the next request makes a new one).
    pub(crate) async fn carry_out(
        &mut self,
        transmit: BrokerTransmit,
    ) -> Result<(), BrokerLinkError> {
        let result = match transmit {
            BrokerTransmit::Request { broker, message } => self.request(broker, message).await,
            BrokerTransmit::Send(message) => match self.stream.as_mut() {
                Some(stream) => stream.send(message).await,
                None => Err(BrokerLinkError::Lost("no request stream".into())),
            },
            BrokerTransmit::Close => {
                self.close();
                Ok(())
            }
        };
        if result.is_err() {
            self.drop_connection();
        }
        result
    }

    /// The next message on the current request stream (never, without one).
    ///
    /// # Errors
    /// When the stream or the connection ends; the link then holds no
    /// connection.
    pub(crate) async fn recv(&mut self) -> Result<broker_message::Message, BrokerLinkError> {
        let Some(stream) = self.stream.as_mut() else {
            return std::future::pending().await;
        };
        let result = stream.recv().await;
        if result.is_err() {
            self.drop_connection();
        }
        result
    }

    /// The certificate (DER) the broker of the current connection showed.
    pub(crate) fn peer_certificate(&self) -> Option<Vec<u8>> {
        let (_, connection) = self.connection.as_ref()?;
        let identity = connection.peer_identity()?;
        let chain = identity.downcast_ref::<Vec<rustls::pki_types::CertificateDer<'static>>>()?;
        chain.first().map(|der| der.to_vec())
    }

    /// Finishes the stream and closes the connection.
    pub(crate) fn close(&mut self) {
        if let Some(stream) = self.stream.as_mut() {
            stream.finish();
        }
        if let Some((_, connection)) = &self.connection {
            connection.close(0u8.into(), b"done");
        }
        self.stream = None;
        self.connection = None;
    }

    async fn request(
        &mut self,
        broker: SocketAddr,
        message: peer_message::Message,
    ) -> Result<(), BrokerLinkError> {
        let connection = match &self.connection {
            Some((node, connection)) if *node == broker && connection.close_reason().is_none() => {
                connection.clone()
            }
            _ => {
                self.drop_connection();
                let connection =
                    connect_broker(&self.endpoint, broker, &self.trust, self.timeout).await?;
                self.connection = Some((broker, connection.clone()));
                connection
            }
        };
        if let Some(old) = self.stream.as_mut() {
            old.finish();
        }
        self.stream = Some(BrokerStream::open(&connection, message).await?);
        Ok(())
    }

    fn drop_connection(&mut self) {
        if let Some((_, connection)) = self.connection.take() {
            connection.close(0u8.into(), b"lost");
        }
        self.stream = None;
    }
}
