//! Beckon's streaming engine: everything portable and embeddable.
//!
//! A sharer's screen reaches a helper in a few steps, each a module:
//! - [`frame`]: BGRA frames ([`frame::Frame`], [`frame::FrameRef`]) and rectangles;
//! - [`diff`]: the SIMD tile diff ([`diff::TileDiff`]) that finds what changed between two
//!   captures, and [`diff::merge`], which joins the changes into few rectangles to encode;
//! - [`corpus`]: recorded screen clips ([`corpus::ClipReader`], [`corpus::ClipWriter`]) that
//!   stand in for a live screen in benchmarks and tests.
//!
//! The engine has no platform or UI code: capture back-ends and input injection are the
//! embedding program's, behind small traits.

pub mod codec;
pub mod corpus;
pub mod diff;
pub mod frame;
pub mod invite;
pub mod motion;
pub mod net;
pub mod pipeline;
pub mod session;
