//! Every byte format that crosses the network, and nothing else: no socket, no clock.
//!
//! - [`update`]: a screen [`Update`] (the encoded changes of one capture), each on its own
//!   stream; the region payloads inside are the codecs' ([`crate::codec`]);
//! - [`message`]: the control [`Message`]s of a session (authentication, consent, control,
//!   chat, the pointer), postcard-encoded;
//! - [`framing`]: control messages on the control stream, each behind its length
//!   ([`framing::frame`], [`framing::Deframer`]);
//! - `varint`: the unsigned LEB128 numbers updates and payloads are made of;
//! - [`text`]: names and chat from the other side, made safe to print.
//!
//! Every decoder takes untrusted bytes: it checks each length against its limit and against
//! what is left of the input before it allocates, and returns an error that says what is wrong,
//! never a panic.

pub mod framing;
pub mod message;
pub mod text;
pub mod update;
crate::internal_mod!(varint);

pub use framing::{Deframer, FramingError};
pub use message::{
    InputEvent, MAX_CLIPBOARD, MAX_CLIPBOARD_PART, Message, MessageError, Party, Refusal,
};
pub use update::{Update, WireError};
