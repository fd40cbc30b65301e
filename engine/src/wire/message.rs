//! The messages agent and viewer exchange on the control stream ([`super::framing`]).
//!
//! Each message is postcard-encoded (serde) and at most [`MAX_MESSAGE`] bytes; text fields have
//! their own bounds, checked on decode. Screen updates do not travel here: they are
//! [`Update`](crate::wire::Update)s on their own streams, and the session core only decides
//! whether they may flow.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Version of the session protocol, sent in the hello. 8: updates say when the picture is exact
/// (wire format 5); 7: lossless payloads may be near-exact (form 3, refinement's first stage on
/// slow links).
pub const PROTOCOL_VERSION: u16 = 8;
/// Largest encoded message.
pub const MAX_MESSAGE: usize = 16 * 1024;
/// Longest key-exchange message or proof (OPAQUE's answer is 320 bytes).
pub const MAX_KEY_EXCHANGE: usize = 512;
/// Longest chat message, in bytes of UTF-8.
pub const MAX_CHAT: usize = 4096;
/// Longest name or invitation id, in bytes of UTF-8.
pub const MAX_NAME: usize = 128;
/// Longest part of a clipboard's text, in bytes of UTF-8.
pub const MAX_CLIPBOARD_PART: usize = 12 * 1024;
/// Longest clipboard text shared, in bytes of UTF-8 (in parts).
pub const MAX_CLIPBOARD: usize = 1 << 20;
/// Widest and tallest cursor picture.
pub const MAX_CURSOR: u16 = 256;

/// Who ended something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Party {
    /// The person sharing the screen.
    Sharer,
    /// The person helping.
    Helper,
}

/// Why the agent turned a helper away before the session began.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The password was wrong; this many attempts are left before the invitation locks.
    WrongPassword {
        /// Attempts left.
        attempts_left: u32,
    },
    /// The invitation has expired.
    Expired,
    /// The invitation was deleted by the sharer.
    Deleted,
    /// Too many wrong passwords: the invitation is locked.
    Locked,
    /// Another helper is connected with this invitation.
    InUse,
    /// The agent knows no such invitation.
    UnknownInvitation,
    /// The sharer said No.
    Refused,
    /// The invitation was already used by a helper.
    AlreadyUsed,
    /// The helper's copy of the invitation differs from the sharer's: someone edited it.
    InvitationChanged,
}

/// A helper's input event, keys as layout-independent X11 key symbols.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputEvent {
    /// The pointer moved to a screen position.
    PointerMove {
        /// Column.
        x: u32,
        /// Row.
        y: u32,
    },
    /// A pointer button went down or up (1 left, 2 middle, 3 right).
    Button {
        /// Button number.
        button: u8,
        /// Down (true) or up.
        pressed: bool,
    },
    /// The wheel turned: positive is down / right, in notches.
    Wheel {
        /// Horizontal notches.
        dx: i32,
        /// Vertical notches.
        dy: i32,
    },
    /// A key went down or up.
    Key {
        /// X11 key symbol.
        keysym: u32,
        /// Down (true) or up.
        pressed: bool,
    },
}

/// One control-stream message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Viewer -> agent, first: which invitation, who, and the first OPAQUE message.
    Hello {
        /// [`PROTOCOL_VERSION`].
        version: u16,
        /// The invitation's id.
        invitation_id: String,
        /// The digest of the helper's copy of the invitation.
        invitation_digest: [u8; 32],
        /// The helper's name, shown to the sharer.
        helper: String,
        /// The viewer's first OPAQUE message (KE1).
        pake: Vec<u8>,
    },
    /// Agent -> viewer: the agent's OPAQUE answer (KE2).
    Pake {
        /// The agent's OPAQUE answer.
        pake: Vec<u8>,
        /// The sharer's name.
        sharer: String,
    },
    /// Either way: key confirmation: the viewer's OPAQUE proof (KE3), then the agent's HMAC
    /// (see [`crate::session::auth`]).
    Confirm {
        /// The proof.
        mac: Vec<u8>,
    },
    /// Agent -> viewer: turned away, and why.
    Refuse(Refusal),
    /// Agent -> viewer: the sharer allowed the connection; screen updates follow.
    Accepted,
    /// Viewer -> agent: the helper asks for control. Requests are numbered so that answers to a
    /// request the helper has since withdrawn are recognised.
    RequestControl {
        /// The request's number.
        request: u32,
    },
    /// Agent -> viewer: the sharer allowed control.
    ControlGranted {
        /// The request answered.
        request: u32,
    },
    /// Agent -> viewer: the sharer said No to control.
    ControlDenied {
        /// The request answered.
        request: u32,
    },
    /// Either way: control (or the request for it) ended; `by` says who ended it.
    ControlEnded {
        /// Who ended control.
        by: Party,
        /// The request it belonged to.
        request: u32,
    },
    /// Agent -> viewer: the pointer's picture changed. Sent once per shape; positions follow
    /// as [`Message::CursorMoved`], so pointer motion costs bytes, not frames.
    CursorShape {
        /// Width in pixels, at most [`MAX_CURSOR`].
        width: u16,
        /// Height in pixels, at most [`MAX_CURSOR`].
        height: u16,
        /// Hot spot column.
        hot_x: u16,
        /// Hot spot row.
        hot_y: u16,
        /// The BGRA picture as a lossless region payload (the codec's lossless form).
        pixels: Vec<u8>,
    },
    /// Agent -> viewer: the pointer moved (or hid).
    CursorMoved {
        /// Column of the hot spot.
        x: u32,
        /// Row of the hot spot.
        y: u32,
        /// Whether the pointer shows.
        visible: bool,
    },
    /// Viewer -> agent: input, applied only while the helper has control.
    Input(InputEvent),
    /// Either way: a chat message.
    Chat {
        /// The text.
        text: String,
    },
    /// Either way, only while the helper has control: a part of the text on the clipboard
    /// (at most [`MAX_CLIPBOARD_PART`] bytes); `more` when parts of the same text follow.
    Clipboard {
        /// The part.
        part: String,
        /// Whether parts follow.
        more: bool,
    },
    /// Either way: keeps the connection alive.
    Ping,
    /// Either way: the session ends.
    Bye {
        /// Who ended it.
        by: Party,
    },
    /// Agent -> viewer: the sharer chose what the helper sees: one monitor, by name, or
    /// `None` for all of them. The pictures that follow show it.
    Showing {
        /// The monitor's name and place (`HDMI-1 1920x1080+0+0`), or `None`: every monitor.
        monitor: Option<String>,
    },
}

/// Why bytes are not a message.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageError {
    /// Larger than [`MAX_MESSAGE`].
    #[error("message of {0} bytes is larger than the {MAX_MESSAGE} allowed")]
    TooLarge(usize),
    /// Not a valid encoding.
    #[error("malformed message: {0}")]
    Malformed(#[source] postcard::Error),
    /// Bytes follow the message.
    #[error("{0} bytes follow the message")]
    TrailingBytes(usize),
    /// A text field is too long.
    #[error("{field} is {len} bytes, more than the {max} allowed")]
    FieldTooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl Message {
    /// The message's bytes.
    ///
    /// # Errors
    /// [`MessageError::FieldTooLong`] or [`MessageError::TooLarge`] for a message the peer would
    /// refuse.
    pub fn encode(&self) -> Result<Vec<u8>, MessageError> {
        self.check()?;
        let bytes = postcard::to_allocvec(self).map_err(MessageError::Malformed)?;
        if bytes.len() > MAX_MESSAGE {
            return Err(MessageError::TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    /// Parses untrusted bytes.
    ///
    /// # Errors
    /// A [`MessageError`]; never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Message, MessageError> {
        if bytes.len() > MAX_MESSAGE {
            return Err(MessageError::TooLarge(bytes.len()));
        }
        let (message, rest) =
            postcard::take_from_bytes::<Message>(bytes).map_err(MessageError::Malformed)?;
        if !rest.is_empty() {
            return Err(MessageError::TrailingBytes(rest.len()));
        }
        message.check()?;
        Ok(message)
    }

    fn check(&self) -> Result<(), MessageError> {
        let bound = |field, len, max| {
            if len > max {
                Err(MessageError::FieldTooLong { field, len, max })
            } else {
                Ok(())
            }
        };
        match self {
            Message::Hello {
                invitation_id,
                helper,
                pake,
                ..
            } => {
                bound("invitation id", invitation_id.len(), MAX_NAME)?;
                bound("helper name", helper.len(), MAX_NAME)?;
                bound("key exchange message", pake.len(), MAX_KEY_EXCHANGE)
            }
            Message::Pake { pake, sharer } => {
                bound("key exchange message", pake.len(), MAX_KEY_EXCHANGE)?;
                bound("sharer name", sharer.len(), MAX_NAME)
            }
            Message::Confirm { mac } => bound("confirmation", mac.len(), MAX_KEY_EXCHANGE),
            Message::Chat { text } => bound("chat message", text.len(), MAX_CHAT),
            Message::Showing {
                monitor: Some(monitor),
            } => bound("monitor name", monitor.len(), MAX_NAME),
            Message::Clipboard { part, .. } => {
                bound("clipboard part", part.len(), MAX_CLIPBOARD_PART)
            }
            Message::CursorShape {
                width,
                height,
                hot_x,
                hot_y,
                ..
            } => {
                bound("cursor width", *width as usize, MAX_CURSOR as usize)?;
                bound("cursor height", *height as usize, MAX_CURSOR as usize)?;
                bound(
                    "cursor hot spot x",
                    *hot_x as usize,
                    width.saturating_sub(1) as usize,
                )?;
                bound(
                    "cursor hot spot y",
                    *hot_y as usize,
                    height.saturating_sub(1) as usize,
                )
            }
            _ => Ok(()),
        }
    }
}
