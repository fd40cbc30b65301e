//! The sharer's side of Beckon as a library: the platform code the `beckon-agent` binary uses,
//! so tests and other tools can drive it too.

pub mod platform;
