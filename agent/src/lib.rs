//! The sharer's side of Beckon as a library: the platform code and the sharer's window the
//! `beckon-agent` binary uses, so tests and other tools can drive them too.

pub mod front;
pub mod platform;
pub mod window;
