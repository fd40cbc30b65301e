//! Beckon's streaming engine: everything portable and embeddable.
//!
//! A sharer's screen reaches a helper in a few steps, each a module:
//! - [`frame`]: BGRA frames ([`Frame`], [`FrameRef`]) and rectangles ([`Rect`]);
//! - [`pipeline`]: a [`FrameSource`] (a screen capture, a clip, anything drawn in code) feeds
//!   the [`ScreenEncoder`]: the tile diff finds what changed, moves become copies, each
//!   rectangle is encoded (solid, lossless or AV1), and the result is an [`Update`]; the
//!   receiver's [`Framebuffer`] applies it. Refinement makes a still screen exact.
//! - [`stream`]: the screen stream, sans-IO: the [`ScreenSender`] (latest-wins, flow control by
//!   bytes in flight, quality, refinement pacing, the pointer) and the [`ScreenReceiver`]
//!   (reordering, the framebuffer, cursor pictures);
//! - [`session`]: the sans-IO state machines of both sides ([`AgentSession`],
//!   [`ViewerSession`]: password, consent, control, chat, timers), each owning its half of the
//!   screen stream;
//! - [`wire`]: every byte format (updates, control messages, framing, varints);
//! - `net` (feature `quic`, on by default): QUIC transport with a pinned certificate, and the
//!   drivers that run a session: `net::drive::serve` on the sharer's side (with an
//!   `net::drive::InputSink` for the helper's input) and `net::drive::view` on the helper's;
//! - [`invite`]: invitations and password rules;
//! - [`corpus`]: recorded screen clips ([`ClipReader`], [`ClipWriter`]) that stand in for a
//!   live screen in benchmarks and tests.
//!
//! The engine has no platform or UI code: capture back-ends and input injection are the
//! embedding program's, behind [`FrameSource`] and `net::drive::InputSink`. Without the
//! `quic` feature it is pure computation (no tokio, quinn or rustls): a program with its own
//! transport drives the session cores itself. `examples/embed.rs` streams an animation drawn in
//! code to a headless viewer over QUIC:
//!
//! ```text
//! cargo run --release -p beckon-engine --example embed
//! ```

#![warn(missing_docs, unreachable_pub)]
#![warn(clippy::missing_errors_doc, clippy::missing_panics_doc)]

/// Declares a module of the engine's internals: public with the `bench` feature (benchmarks and
/// the end-to-end tests measure its parts on their own), crate-private without.
macro_rules! internal_mod {
    ($name:ident) => {
        #[cfg(feature = "bench")]
        pub mod $name;
        #[cfg(not(feature = "bench"))]
        #[allow(unreachable_pub, dead_code)]
        pub(crate) mod $name;
    };
}
pub(crate) use internal_mod;

/// One of the engine's texts in the reader's language (see [`i18n`]).
macro_rules! t {
    (in $language:expr; $($args:tt)*) => {
        $crate::tr!(in $language; $crate::i18n::TEXTS, $($args)*)
    };
    ($($args:tt)*) => {
        $crate::tr!($crate::i18n::TEXTS, $($args)*)
    };
}
pub(crate) use t;

#[cfg(feature = "assets")]
pub mod assets;
pub mod codec;
pub mod corpus;
pub mod diff;
pub mod dirs;
pub mod frame;
pub mod i18n;
pub mod invite;
pub mod logging;
pub mod motion;
#[cfg(feature = "quic")]
pub mod net;
pub mod pipeline;
pub mod session;
#[cfg(test)]
mod sim;
pub mod stream;
pub mod wire;

pub use corpus::{ClipReader, ClipWriter};
pub use frame::{Frame, FrameRef, Rect};
pub use invite::Invitation;
pub use pipeline::{
    CursorImage, FrameSource, Framebuffer, LiveClip, PipelineConfig, Pointer, ScreenEncoder,
};
pub use session::{
    AgentConfig, AgentEvent, AgentInput, AgentOutput, AgentSession, CloseReason, HelperAction,
    InvitationRef, Secret, SharerDecision, Ticket, Timers, ViewerEvent, ViewerInput, ViewerOutput,
    ViewerSession,
};
pub use stream::{
    Capture, CursorPicture, ScreenChange, ScreenReceiver, ScreenSender, StreamConfig,
};
pub use wire::{InputEvent, Message, Party, Refusal, Update};
