//! A simulated network for tests, on simulated time: [`link`] models one direction of a path
//! (rate, drop-tail queue, delay, jitter, loss, outages), [`transport`] a QUIC-like transport
//! over two of them, and [`pair`] joins the two session cores through it.

pub(crate) mod link;
pub(crate) mod pair;
pub(crate) mod transport;
