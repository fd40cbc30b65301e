//! The sharer's side of Beckon as a library: the invitations' store, their delivery, the
//! platform code and the sharer's window the `beckon-agent` binary uses, so tests and other tools
//! can drive them too.

pub mod desk;
pub mod front;
pub mod mail;
pub mod platform;
pub mod private;
pub mod store;
pub mod window;
