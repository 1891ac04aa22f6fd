//! Length-delimited protobuf messages on a byte stream, with a size limit.

use bytes::{Buf, BytesMut};

/// Why a stream's framing is broken. The connection must be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// A message is larger than the stream allows.
    #[error("message of {size} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Announced size.
        size: u64,
        /// Limit of the stream.
        max: usize,
    },
    /// The length prefix is not a valid varint.
    #[error("invalid length prefix")]
    BadLength,
}

/// Reassembles length-delimited messages from stream chunks.
#[derive(Debug)]
pub struct FrameDecoder {
    buffer: BytesMut,
    max_message: usize,
}

impl FrameDecoder {
    /// A decoder refusing messages larger than `max_message` bytes.
    pub fn new(max_message: usize) -> Self {
        FrameDecoder {
            buffer: BytesMut::new(),
            max_message,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buffer.extend_from_slice(data);
    }

    /// The next complete message, `Ok(None)` if more bytes are needed.
    ///
    /// # Errors
    /// [`FramingError`] when the prefix is invalid or announces an oversized
    /// message; the stream cannot be resynchronised after that.
    pub fn next_message(&mut self) -> Result<Option<bytes::Bytes>, FramingError> {
        let Some((length, prefix_len)) = read_length(&self.buffer)? else {
            return Ok(None);
        };
        if length > self.max_message as u64 {
            return Err(FramingError::TooLarge {
                size: length,
                max: self.max_message,
            });
        }
        // `length` fits usize: it is at most `max_message`.
        let length = length as usize;
        if self.buffer.len() < prefix_len + length {
            return Ok(None);
        }
        self.buffer.advance(prefix_len);
        Ok(Some(self.buffer.split_to(length).freeze()))
    }

    /// Whether bytes of an unfinished message are buffered.
    pub fn has_partial(&self) -> bool {
        !self.buffer.is_empty()
    }
}

/// Reads a varint length prefix: `Ok(None)` if incomplete.
fn read_length(buffer: &[u8]) -> Result<Option<(u64, usize)>, FramingError> {
    // A u64 varint has at most 10 bytes; the prefix ends at the first byte
    // without the continuation bit.
    let Some(end) = buffer.iter().take(10).position(|b| b & 0x80 == 0) else {
        return if buffer.len() >= 10 {
            Err(FramingError::BadLength)
        } else {
            Ok(None)
        };
    };
    let mut prefix = &buffer[..=end];
    let length =
        prost::encoding::decode_varint(&mut prefix).map_err(|_| FramingError::BadLength)?;
    Ok(Some((length, end + 1)))
}

/// Encodes a message with its varint length prefix.
pub fn encode_frame(message: &impl prost::Message) -> Vec<u8> {
    message.encode_length_delimited_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Chat, Envelope, envelope::Message};

    fn chat(text: &str) -> Envelope {
        Envelope {
            message: Some(Message::Chat(Chat { text: text.into() })),
        }
    }

    #[test]
    fn reassembles_byte_by_byte() {
        let mut bytes = encode_frame(&chat("hello"));
        bytes.extend(encode_frame(&chat(&"x".repeat(300))));
        let mut decoder = FrameDecoder::new(1024);
        let mut out = Vec::new();
        for b in bytes {
            decoder.push(&[b]);
            while let Some(m) = decoder.next_message().unwrap() {
                out.push(<Envelope as prost::Message>::decode(m).unwrap());
            }
        }
        assert_eq!(out, vec![chat("hello"), chat(&"x".repeat(300))]);
        assert!(!decoder.has_partial());
    }

    #[test]
    fn refuses_oversized() {
        let mut decoder = FrameDecoder::new(16);
        decoder.push(&encode_frame(&chat(&"x".repeat(64))));
        assert!(matches!(
            decoder.next_message(),
            Err(FramingError::TooLarge { max: 16, .. })
        ));
    }

    #[test]
    fn refuses_endless_varint() {
        let mut decoder = FrameDecoder::new(16);
        decoder.push(&[0xff; 11]);
        assert_eq!(decoder.next_message(), Err(FramingError::BadLength));
    }
}
