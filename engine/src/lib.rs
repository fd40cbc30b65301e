//! Beckon's streaming engine: everything portable and embeddable.
//!
//! A sharer's screen reaches a helper in a few steps, each a module:
//! - [`frame`]: BGRA frames ([`frame::Frame`], [`frame::FrameRef`]) and rectangles;
//! - [`pipeline`]: a [`pipeline::FrameSource`] (a screen capture, a clip, anything drawn in
//!   code) feeds the [`pipeline::ScreenEncoder`]: [`diff`] finds what changed (a SIMD tile diff),
//!   [`motion`] finds what moved, [`codec`] encodes each rectangle (solid, lossless or AV1, or a
//!   copy), and the result is an [`pipeline::Update`]; the viewer's [`pipeline::Framebuffer`]
//!   applies it. Refinement makes a still screen exact.
//! - [`session`]: the sans-IO state machines of both sides (password, consent, control, chat);
//! - [`net`]: QUIC transport with a pinned certificate, and the drivers that run a session:
//!   [`net::drive::serve`] on the sharer's side (with an [`net::drive::InputSink`] for the
//!   helper's input) and [`net::drive::view`] on the helper's;
//! - [`invite`]: invitations and password rules;
//! - [`corpus`]: recorded screen clips ([`corpus::ClipReader`], [`corpus::ClipWriter`]) that
//!   stand in for a live screen in benchmarks and tests.
//!
//! The engine has no platform or UI code: capture back-ends and input injection are the
//! embedding program's, behind those two traits. `examples/embed.rs` streams an animation
//! drawn in code to a headless viewer over QUIC in under 100 lines:
//!
//! ```text
//! cargo run --release -p beckon-engine --example embed
//! ```

pub mod codec;
pub mod corpus;
pub mod diff;
pub mod frame;
pub mod invite;
pub mod motion;
pub mod net;
pub mod pipeline;
pub mod session;
mod varint;
