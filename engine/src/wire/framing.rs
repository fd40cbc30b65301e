//! Control messages on a byte stream: each is its length as a little-endian `u32`, then the
//! [`Message`]'s bytes. [`frame`] makes the bytes to write; a [`Deframer`] takes bytes as they
//! arrive, in pieces of any size, and gives back whole messages.
//!
//! ```
//! use beckon_engine::wire::{Deframer, Message, framing};
//!
//! let bytes = framing::frame(&Message::Chat { text: "hello".into() }).unwrap();
//! let mut deframer = Deframer::default();
//! deframer.push(&bytes[..3]).unwrap();
//! assert_eq!(deframer.next_message().unwrap(), None, "not whole yet");
//! deframer.push(&bytes[3..]).unwrap();
//! assert_eq!(deframer.next_message().unwrap(), Some(Message::Chat { text: "hello".into() }));
//! ```

use thiserror::Error;

use crate::wire::message::{MAX_MESSAGE, Message, MessageError};

/// Bytes of the length in front of each message.
pub const PREFIX: usize = 4;

/// Why a control stream's bytes are not messages.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FramingError {
    /// A length over [`MAX_MESSAGE`]: nothing is read into memory for it.
    #[error("a message of {0} bytes is announced, more than the {MAX_MESSAGE} allowed")]
    TooLarge(usize),
    /// The message's bytes do not decode.
    #[error(transparent)]
    Message(#[from] MessageError),
}

/// `message` with its length in front, ready to write.
///
/// # Errors
/// [`MessageError`] for a message the peer would refuse (a field or the whole too long).
pub fn frame(message: &Message) -> Result<Vec<u8>, MessageError> {
    let bytes = message.encode()?;
    let mut framed = Vec::with_capacity(PREFIX + bytes.len());
    framed.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    framed.extend_from_slice(&bytes);
    Ok(framed)
}

/// Cuts a byte stream into messages. It holds at most one message's worth of bytes: what
/// arrives beyond waits in the caller's buffer (the stream's flow control) until
/// [`Deframer::next_message`] makes room.
#[derive(Debug, Default)]
pub struct Deframer {
    buffer: Vec<u8>,
}

impl Deframer {
    /// Most bytes [`Deframer::push`] takes before a [`Deframer::next_message`].
    pub const CAPACITY: usize = PREFIX + MAX_MESSAGE;

    /// Bytes [`Deframer::push`] would take now.
    pub fn room(&self) -> usize {
        Self::CAPACITY.saturating_sub(self.buffer.len())
    }

    /// Takes the next bytes of the stream, at most [`Deframer::room`] of them.
    ///
    /// # Errors
    /// [`FramingError::TooLarge`] when more bytes come than one message can hold.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), FramingError> {
        if bytes.len() > self.room() {
            return Err(FramingError::TooLarge(self.buffer.len() + bytes.len()));
        }
        self.buffer.extend_from_slice(bytes);
        Ok(())
    }

    /// The next whole message, or `None` until more bytes come.
    ///
    /// # Errors
    /// [`FramingError`] when the stream breaks the framing or a message does not decode: the
    /// stream cannot be read further.
    pub fn next_message(&mut self) -> Result<Option<Message>, FramingError> {
        let Some(prefix) = self.buffer.first_chunk::<PREFIX>() else {
            return Ok(None);
        };
        let len = u32::from_le_bytes(*prefix) as usize;
        if len > MAX_MESSAGE {
            return Err(FramingError::TooLarge(len));
        }
        if self.buffer.len() < PREFIX + len {
            return Ok(None);
        }
        let message = Message::decode(&self.buffer[PREFIX..PREFIX + len])?;
        self.buffer.drain(..PREFIX + len);
        Ok(Some(message))
    }

    /// Whether bytes of an unfinished message are waiting (a stream that ends now ends early).
    pub fn is_mid_message(&self) -> bool {
        !self.buffer.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_out_whole_whatever_the_pieces() {
        let messages = [
            Message::Ping,
            Message::Chat {
                text: "é".repeat(100),
            },
            Message::Accepted,
        ];
        let stream: Vec<u8> = messages.iter().flat_map(|m| frame(m).unwrap()).collect();
        for piece in [1, 2, 3, 7, stream.len()] {
            let mut deframer = Deframer::default();
            let mut got = Vec::new();
            for chunk in stream.chunks(piece) {
                deframer.push(chunk).unwrap();
                while let Some(m) = deframer.next_message().unwrap() {
                    got.push(m);
                }
            }
            assert_eq!(got, messages, "pieces of {piece}");
            assert!(!deframer.is_mid_message());
        }
    }

    #[test]
    fn an_announced_length_over_the_limit_is_refused_before_reading_it() {
        let mut deframer = Deframer::default();
        deframer
            .push(&((MAX_MESSAGE + 1) as u32).to_le_bytes())
            .unwrap();
        assert_eq!(
            deframer.next_message(),
            Err(FramingError::TooLarge(MAX_MESSAGE + 1))
        );
        let mut full = Deframer::default();
        assert!(full.push(&vec![0; Deframer::CAPACITY + 1]).is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut deframer = Deframer::default();
        deframer.push(&[3, 0, 0, 0, 0xff, 0xff, 0xff]).unwrap();
        assert!(matches!(
            deframer.next_message(),
            Err(FramingError::Message(_))
        ));
    }
}
