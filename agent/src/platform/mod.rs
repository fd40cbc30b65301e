//! Where the sharer's screen comes from and where the helper's input goes, per platform, behind
//! the engine's [`beckon_engine::pipeline::FrameSource`] and
//! [`beckon_engine::net::drive::InputSink`] traits.
//!
//! X11 is implemented ([`x11`]). Wayland (a PipeWire screencast portal and the remote-desktop
//! portal for input), Windows (Desktop Duplication and `SendInput`) and macOS
//! (ScreenCaptureKit and `CGEvent`) would be further modules implementing the same two traits;
//! none of them can be built or tested on this project's Linux machines yet.

pub mod clipboard;
pub mod x11;
