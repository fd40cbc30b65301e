//! The screen stream, both halves, sans-IO: [`ScreenSender`] on the sharer's side,
//! [`ScreenReceiver`] on the helper's.
//!
//! ```text
//! sharer                                                      helper
//! FrameSource -> Capture -> ScreenSender ==updates==> ScreenReceiver -> ScreenChange
//!                    (latest-wins, flow window,       (reorder, Framebuffer,
//!                     quality, refinement, cursor)     cursor pictures)
//!                 <== delivered / lost / round trip (from the transport)
//! ```
//!
//! Neither half owns a clock, a socket or a thread: times come in as arguments, updates go out
//! as bytes with a sequence number, and the transport reports back which were delivered. The
//! session cores own one each ([`crate::session::AgentSession`],
//! [`crate::session::ViewerSession`]), so that nothing of the screen flows before the sharer's
//! Yes; the async driver in `net` only carries bytes.

mod cursor;
mod flow;
mod receiver;
mod sender;

pub use cursor::CursorPicture;
pub use receiver::{
    MAX_PENDING, MAX_PENDING_BYTES, ReceiveError, ScreenChange, ScreenEvent, ScreenReceiver,
};
pub use sender::{Capture, OutgoingUpdate, ScreenSender, SenderOutput, StreamConfig};

#[cfg(test)]
mod tests;
