//! The sharer's side of one connection: [`serve`].

use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tracing::Instrument;

use super::{control_reader, control_writer, heavy, instant_at, now_us, seed};
use crate::frame::Frame;
use crate::net::{NetError, channel_binding};
use crate::pipeline::FrameSource;
use crate::session::{
    AgentConfig, AgentEvent, AgentInput, AgentOutput, AgentSession, CloseReason, SharerDecision,
    Ticket,
};
use crate::stream::{Capture, OutgoingUpdate};
use crate::wire::{InputEvent, Message, Party};

/// Where the helper's input goes on the sharer's computer.
pub trait InputSink: Send {
    /// Applies one input event (the session core only ever passes input while the helper has
    /// control).
    fn apply(&mut self, event: InputEvent);

    /// Puts the helper's copied text on the sharer's clipboard (only while the helper has
    /// control, in order with the input). By default the clipboard is not shared.
    fn set_clipboard(&mut self, text: String) {
        let _ = text;
    }
}

/// A sharer that never grants control has no input to apply.
impl InputSink for () {
    fn apply(&mut self, _event: InputEvent) {}
}

/// Settings of the agent driver.
#[derive(Clone, Copy, Debug)]
pub struct AgentOptions {
    /// The session's and the screen stream's settings.
    pub config: AgentConfig,
    /// The clock origin timestamps count from (share it with a viewer in the same process to
    /// measure latency).
    pub origin: Instant,
}

impl AgentOptions {
    /// The default settings at `fps` captures a second, timed from `origin`.
    pub fn new(fps: u32, origin: Instant) -> AgentOptions {
        let mut config = AgentConfig::default();
        config.stream.fps = fps;
        AgentOptions { config, origin }
    }
}

/// What the application hands the agent driver, and hears from it.
#[derive(Debug)]
pub struct AgentHooks {
    /// The sharer's decisions.
    pub decisions: mpsc::UnboundedReceiver<SharerDecision>,
    /// Events to show the sharer.
    pub events: mpsc::UnboundedSender<AgentEvent>,
}

/// Serves one helper on an accepted connection until the session closes; returns why it closed.
///
/// `tickets` finds the ticket of the invitation the helper names in its hello (`None`: no such
/// invitation); the session core then decides, so an unusable invitation is refused with its
/// reason before any key exchange. One known ticket: `move |_| Some(ticket)`.
///
/// Captures and their encoding run on this task: on a multi-threaded runtime through
/// `block_in_place` (the runtime's other tasks move to other threads meanwhile), on a
/// current-thread runtime inline.
///
/// # Errors
/// [`NetError`] when the connection fails before the session can start.
pub async fn serve<S: FrameSource + Send>(
    connection: quinn::Connection,
    tickets: impl FnOnce(&str) -> Option<Ticket> + Send,
    source: S,
    sink: impl InputSink,
    hooks: AgentHooks,
    options: AgentOptions,
) -> Result<CloseReason, NetError> {
    let span = tracing::info_span!(
        "agent_session",
        peer = %connection.remote_address(),
        invitation = tracing::field::Empty
    );
    let started = start(&connection, tickets, &options)
        .instrument(span.clone())
        .await?;
    let (session, reader, writer) = match started {
        Ok(started) => started,
        Err(reason) => return Ok(reason),
    };
    let (settled_tx, settled) = mpsc::unbounded_channel();
    let agent = Agent {
        connection,
        session,
        source,
        sink,
        hooks,
        origin: options.origin,
        reader,
        writer,
        settled_tx,
        settled,
        frame: Frame::filled(1, 1, [0; 4]),
        source_ended: false,
    };
    agent.run().instrument(span).await
}

type Reader = mpsc::UnboundedReceiver<Result<Message, NetError>>;

/// Accepts the control stream and the hello, and starts the session on the ticket of the
/// invitation the hello names; `Ok(Err(reason))` when the helper's side never got that far.
async fn start(
    connection: &quinn::Connection,
    tickets: impl FnOnce(&str) -> Option<Ticket>,
    options: &AgentOptions,
) -> Result<Result<(AgentSession, Reader, mpsc::UnboundedSender<Message>), CloseReason>, NetError> {
    let handshake = Duration::from_micros(options.config.timers.handshake_us);
    let (send, recv) = tokio::time::timeout(handshake, connection.accept_bi())
        .await
        .map_err(|_| NetError::NoControlStream)??;
    let binding = channel_binding(connection)?;
    tracing::info!("helper connected");
    let mut reader = control_reader(recv);
    let first = match tokio::time::timeout(handshake, reader.recv()).await {
        Ok(Some(Ok(message))) => message,
        Ok(Some(Err(e))) => return Ok(Err(CloseReason::ProtocolError(e.to_string()))),
        Ok(None) | Err(_) => return Ok(Err(CloseReason::TimedOut)),
    };
    let ticket = match &first {
        Message::Hello { invitation_id, .. } => {
            tracing::Span::current().record("invitation", invitation_id.as_str());
            tickets(invitation_id)
        }
        _ => None,
    }
    .unwrap_or_else(Ticket::unknown);
    let now = now_us(options.origin);
    let mut session = AgentSession::new(ticket, binding, seed(), options.config, now);
    session.handle_input(now, AgentInput::Received(first));
    Ok(Ok((session, reader, control_writer(send))))
}

/// A running sharer's side.
struct Agent<S, K> {
    connection: quinn::Connection,
    session: AgentSession,
    source: S,
    sink: K,
    hooks: AgentHooks,
    origin: Instant,
    reader: Reader,
    writer: mpsc::UnboundedSender<Message>,
    /// Updates whose streams finished: (sequence number, acknowledged).
    settled_tx: mpsc::UnboundedSender<(u64, bool)>,
    settled: mpsc::UnboundedReceiver<(u64, bool)>,
    /// The last capture.
    frame: Frame,
    source_ended: bool,
}

impl<S: FrameSource + Send, K: InputSink> Agent<S, K> {
    async fn run(mut self) -> Result<CloseReason, NetError> {
        loop {
            if let Some(reason) = self.flush() {
                // Let the goodbye or refusal reach the viewer before the connection goes.
                tokio::time::sleep(Duration::from_millis(50)).await;
                self.connection.close(0u32.into(), b"bye");
                return Ok(reason);
            }
            let input = self.next_input().await;
            self.session.handle_input(now_us(self.origin), input);
        }
    }

    /// Waits for the next input: a control message, a decision, a settled update, or the
    /// session's wake-up time.
    async fn next_input(&mut self) -> AgentInput {
        let wake = instant_at(self.origin, self.session.poll_timeout().unwrap_or(u64::MAX));
        let rtt_us = self.connection.rtt().as_micros() as u64;
        tokio::select! {
            message = self.reader.recv() => match message {
                Some(Ok(message)) => AgentInput::Received(message),
                Some(Err(e)) => AgentInput::Closed(closed_by(&e)),
                None => AgentInput::Received(Message::Bye { by: Party::Helper }),
            },
            Some(decision) = self.hooks.decisions.recv() => AgentInput::Decision(decision),
            Some((seq, delivered)) = self.settled.recv() => if delivered {
                AgentInput::Delivered { seq, rtt_us }
            } else {
                AgentInput::Lost { seq }
            },
            _ = tokio::time::sleep_until(wake) => AgentInput::Tick { rtt_us: Some(rtt_us) },
        }
    }

    /// Carries out the session's outputs; why it closed, once it has.
    fn flush(&mut self) -> Option<CloseReason> {
        let mut closed = None;
        while let Some(output) = self.session.poll_output() {
            match output {
                AgentOutput::Send(message) => {
                    // A writer gone means the connection is: the reader reports it.
                    let _ = self.writer.send(message);
                }
                AgentOutput::SendUpdate(update) => self.send_update(update),
                AgentOutput::Capture => self.capture(),
                AgentOutput::Apply(event) => self.sink.apply(event),
                AgentOutput::SetClipboard(text) => self.sink.set_clipboard(text),
                AgentOutput::Event(event) => closed = closed.or(self.tell(event)),
            }
        }
        closed
    }

    /// Captures the screen and hands it to the session, timed when the pixels are in.
    fn capture(&mut self) {
        let origin = self.origin;
        let (source, frame, session) = (&mut self.source, &mut self.frame, &mut self.session);
        let ended = &mut self.source_ended;
        let failed = heavy(|| {
            if !*ended {
                match source.next_frame(frame) {
                    Ok(more) => *ended = !more,
                    Err(e) => return Some(e.to_string()),
                }
            }
            // A source that ended shows its last frame still: refinement goes on.
            let pointer = if *ended { None } else { source.pointer() };
            let damage = if *ended {
                Some(&[][..])
            } else {
                source.damage()
            };
            let capture = Capture {
                frame: frame.as_ref(),
                damage,
                pointer: pointer.as_ref(),
            };
            let now = now_us(origin);
            session
                .handle_capture(now, capture)
                .err()
                .map(|e| e.to_string())
        });
        if let Some(e) = failed {
            tracing::error!(error = %e, "the screen could not be captured or encoded");
            let reason = CloseReason::ScreenFailed(e);
            let now = now_us(origin);
            self.session.handle_input(now, AgentInput::Closed(reason));
        }
    }

    /// Sends an update on a stream of its own; its settlement comes back as an input.
    fn send_update(&self, update: OutgoingUpdate) {
        let (connection, settled) = (self.connection.clone(), self.settled_tx.clone());
        tokio::spawn(async move {
            let delivered = write_update(&connection, &update).await.unwrap_or(false);
            // The driver may be gone: nothing waits for this update any more.
            let _ = settled.send((update.seq, delivered));
        });
    }

    /// Logs an event and passes it on; the close reason when it is the last.
    fn tell(&self, event: AgentEvent) -> Option<CloseReason> {
        match &event {
            AgentEvent::Chat { .. } => tracing::debug!("chat from the helper"),
            AgentEvent::AttemptFailed { attempts, locked } => {
                tracing::warn!(attempts, locked, "wrong password")
            }
            other => tracing::info!(event = ?other, "session"),
        }
        let closed = match &event {
            AgentEvent::Closed(reason) => Some(reason.clone()),
            _ => None,
        };
        // An application that stopped listening still has the session end.
        let _ = self.hooks.events.send(event);
        closed
    }
}

/// Writes an update on a new stream; whether the viewer acknowledged all of it.
async fn write_update(
    connection: &quinn::Connection,
    update: &OutgoingUpdate,
) -> Result<bool, NetError> {
    let mut stream = connection.open_uni().await?;
    // Fresh pixels go out before refinement still in the send buffer; the stream is new, so
    // this cannot fail.
    let _ = stream.set_priority(if update.background { 0 } else { 1 });
    stream.write_all(&update.bytes).await?;
    if stream.finish().is_err() {
        return Ok(false);
    }
    Ok(matches!(stream.stopped().await, Ok(None)))
}

/// Why a session ends when its control stream broke this way.
pub(super) fn closed_by(error: &NetError) -> CloseReason {
    match error {
        NetError::Read(quinn::ReadError::ConnectionLost(quinn::ConnectionError::TimedOut)) => {
            CloseReason::TimedOut
        }
        other => CloseReason::ProtocolError(other.to_string()),
    }
}
