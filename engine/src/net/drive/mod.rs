//! The drivers: QUIC events in, session-core inputs; core outputs, QUIC writes. No decision is
//! made here: the session cores ([`AgentSession`](crate::session::AgentSession),
//! [`ViewerSession`](crate::session::ViewerSession)) and the screen stream inside them decide
//! what to send and when, on the times this driver hands them.
//!
//! - [`serve`] runs the sharer's side of one connection: it reads the control stream, captures
//!   the screen when the session asks, sends each screen update on a stream of its own and
//!   reports back when the viewer acknowledged it, and applies the helper's input through an
//!   [`InputSink`].
//! - [`view`] runs the helper's side: it reads the control stream and every update stream, and
//!   hands the application the session's events, the screen's changes among them.
//!
//! Both take the application's side through tokio channels ([`AgentHooks`], [`ViewerHooks`]).

mod agent;
mod viewer;

pub use agent::{AgentHooks, AgentOptions, InputSink, serve};
pub use viewer::{ViewerHooks, view};

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::net::NetError;
use crate::wire::{Deframer, Message, framing};

/// Microseconds since `origin`: the session cores' clock.
fn now_us(origin: Instant) -> u64 {
    origin.elapsed().as_micros() as u64
}

/// The wall-clock instant of session time `at_us` (at most an hour ahead).
fn instant_at(origin: Instant, at_us: u64) -> tokio::time::Instant {
    let ahead = at_us.saturating_sub(now_us(origin)).min(3_600_000_000);
    tokio::time::Instant::now() + Duration::from_micros(ahead)
}

/// Fresh randomness for a key exchange.
fn seed() -> [u8; 32] {
    use rand_core::RngCore;
    let mut s = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut s);
    s
}

/// Spawns a task that writes control messages in order, and finishes the stream after a
/// goodbye or a refusal.
fn control_writer(mut stream: quinn::SendStream) -> mpsc::UnboundedSender<Message> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            let last = matches!(message, Message::Bye { .. } | Message::Refuse(_));
            let Ok(bytes) = framing::frame(&message) else {
                tracing::warn!("a control message over its limits was not sent");
                continue;
            };
            if stream.write_all(&bytes).await.is_err() {
                break;
            }
            if last {
                // Finishing fails only when the stream is already gone.
                let _ = stream.finish();
                break;
            }
        }
    });
    tx
}

/// Spawns a task that reads control messages; the channel closes when the stream ends.
fn control_reader(
    mut stream: quinn::RecvStream,
) -> mpsc::UnboundedReceiver<Result<Message, NetError>> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut deframer = Deframer::default();
        let mut buffer = vec![0u8; Deframer::CAPACITY];
        loop {
            let room = deframer.room();
            let n = match stream.read(&mut buffer[..room]).await {
                Ok(Some(n)) => n,
                Ok(None) => return,
                Err(e) => {
                    let _ = tx.send(Err(e.into()));
                    return;
                }
            };
            if let Err(e) = deframer.push(&buffer[..n]) {
                let _ = tx.send(Err(e.into()));
                return;
            }
            loop {
                match deframer.next_message() {
                    Ok(Some(message)) => {
                        if tx.send(Ok(message)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        let _ = tx.send(Err(e.into()));
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// Runs CPU-heavy work (a capture and its encoding) without stalling the runtime's other
/// tasks: through `block_in_place` on a multi-threaded runtime, inline on a current-thread one
/// (where nothing else could run meanwhile anyway).
fn heavy<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::current().runtime_flavor() {
        tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}
