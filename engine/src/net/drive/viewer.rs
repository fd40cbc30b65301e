//! The helper's side of one connection: [`view`].

use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tracing::Instrument;

use super::agent::closed_by;
use super::{control_reader, control_writer, instant_at, now_us, seed};
use crate::net::{MAX_UPDATE, NetError, channel_binding};
use crate::session::{
    CloseReason, HelperAction, InvitationRef, Secret, Timers, ViewerEvent, ViewerInput,
    ViewerOutput, ViewerSession,
};
use crate::wire::{Message, Party};

/// What the application hands the viewer driver, and hears from it.
#[derive(Debug)]
pub struct ViewerHooks {
    /// The helper's actions.
    pub actions: mpsc::UnboundedReceiver<HelperAction>,
    /// Events to show the helper, the screen's changes among them.
    pub events: mpsc::UnboundedSender<ViewerEvent>,
}

/// Runs the helper's side on a connected connection until the session closes; returns why it
/// closed.
///
/// # Errors
/// [`NetError`] when the control stream cannot be opened.
pub async fn view(
    connection: quinn::Connection,
    invitation: &InvitationRef,
    helper: &str,
    stretched: &Secret<[u8; 32]>,
    hooks: ViewerHooks,
    timers: Timers,
    origin: Instant,
) -> Result<CloseReason, NetError> {
    let span = tracing::info_span!("viewer_session", peer = %connection.remote_address(), invitation = %invitation.id);
    async move {
        let (send, recv) = connection.open_bi().await?;
        let binding = channel_binding(&connection)?;
        tracing::info!(helper, "connected; authenticating");
        let session = ViewerSession::new(
            invitation,
            helper,
            stretched,
            binding,
            seed(),
            timers,
            now_us(origin),
        );
        let viewer = Viewer {
            updates: None,
            connection,
            session,
            hooks,
            origin,
            reader: control_reader(recv),
            writer: control_writer(send),
        };
        Ok(viewer.run().await)
    }
    .instrument(span)
    .await
}

/// Spawns a task that reads every update stream whole; the channel closes with the connection.
fn accept_updates(connection: &quinn::Connection) -> mpsc::UnboundedReceiver<Vec<u8>> {
    let (tx, rx) = mpsc::unbounded_channel();
    let connection = connection.clone();
    tokio::spawn(async move {
        while let Ok(mut stream) = connection.accept_uni().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                // A stream cut short is an update the agent gave up: nothing to apply.
                if let Ok(bytes) = stream.read_to_end(MAX_UPDATE).await {
                    let _ = tx.send(bytes);
                }
            });
        }
    });
    rx
}

/// A running helper's side.
struct Viewer {
    connection: quinn::Connection,
    session: ViewerSession,
    hooks: ViewerHooks,
    origin: Instant,
    reader: mpsc::UnboundedReceiver<Result<Message, NetError>>,
    writer: mpsc::UnboundedSender<Message>,
    /// Update streams, read only once the agent proved it holds the invitation: before, they
    /// wait unread within the transport's limits.
    updates: Option<mpsc::UnboundedReceiver<Vec<u8>>>,
}

impl Viewer {
    async fn run(mut self) -> CloseReason {
        loop {
            // Outputs first: the hello is waiting before any input arrives.
            if let Some(reason) = self.flush() {
                tokio::time::sleep(Duration::from_millis(50)).await;
                self.connection.close(0u32.into(), b"bye");
                return reason;
            }
            let input = self.next_input().await;
            self.session.handle_input(now_us(self.origin), input);
        }
    }

    /// Waits for the next input: a control message, an action, an update, or the session's
    /// wake-up time.
    async fn next_input(&mut self) -> ViewerInput {
        let wake = instant_at(self.origin, self.session.poll_timeout().unwrap_or(u64::MAX));
        let update = async {
            match &mut self.updates {
                Some(updates) => updates.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            message = self.reader.recv() => match message {
                Some(Ok(message)) => ViewerInput::Received(message),
                Some(Err(e)) => ViewerInput::Closed(closed_by(&e)),
                None => ViewerInput::Received(Message::Bye { by: Party::Sharer }),
            },
            Some(action) = self.hooks.actions.recv() => ViewerInput::Action(action),
            Some(bytes) = update => ViewerInput::Update(bytes),
            _ = tokio::time::sleep_until(wake) => ViewerInput::Tick,
        }
    }

    /// Carries out the session's outputs; why it closed, once it has.
    fn flush(&mut self) -> Option<CloseReason> {
        let mut closed = None;
        while let Some(output) = self.session.poll_output() {
            match output {
                ViewerOutput::Send(message) => {
                    // A writer gone means the connection is: the reader reports it.
                    let _ = self.writer.send(message);
                }
                ViewerOutput::Event(event) => {
                    match &event {
                        ViewerEvent::Authenticated { .. } if self.updates.is_none() => {
                            tracing::info!(event = ?event, "session");
                            self.updates = Some(accept_updates(&self.connection));
                        }
                        ViewerEvent::Closed(reason) => {
                            tracing::info!(%reason, "session closed");
                            closed = Some(reason.clone());
                        }
                        ViewerEvent::Screen(change) => {
                            tracing::trace!(seq = change.seq, "screen update")
                        }
                        ViewerEvent::Chat { .. } => tracing::debug!("chat from the sharer"),
                        other => tracing::info!(event = ?other, "session"),
                    }
                    // An application that stopped listening still has the session end.
                    let _ = self.hooks.events.send(event);
                }
            }
        }
        closed
    }
}
