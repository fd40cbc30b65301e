//! End-to-end tests: real processes, a real X server, the committed corpus.

mod util;

mod agent_cli;
mod codec;
mod corpus;
mod doctor;
mod hostile;
mod i18n;
mod mail;
mod package;
mod portal;
mod relay;
mod share;
mod sharer_window;
mod stream;
mod viewer;
mod wayland;
mod x11;
