//! The drivers: QUIC events in, session-core inputs; core outputs, QUIC writes. No protocol
//! decision is made here.
//!
//! **Latest-wins** (agent): at every capture tick the frame source advances, but a frame is
//! encoded only while fewer than [`MAX_IN_FLIGHT`] updates are unacknowledged. Skipped frames cost
//! nothing: the next encode diffs the newest frame against the last one *sent*, so the dirty areas
//! of the skipped frames are included, with their newest pixels. Quality follows the link: each
//! skipped tick lowers the AV1 quality a step, each idle tick raises it back towards the
//! configured one. Refinement runs only when no fresh update is in flight, in pieces a
//! [`RefinePacer`] sizes so that it fills a quiet link without queueing in front of the next
//! fresh update.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument;

use crate::frame::{Frame, Rect};
use crate::net::pace::RefinePacer;
use crate::net::{MAX_UPDATE, NetError, channel_binding, read_message, write_message};
use crate::pipeline::{CursorImage, FrameSource, PipelineConfig, Pointer, ScreenEncoder, Update};
use crate::session::{
    AgentEvent, AgentInput, AgentOutput, AgentSession, CloseReason, HelperAction, InputEvent,
    Message, Secret, SharerDecision, Ticket, Timers, ViewerEvent, ViewerInput, ViewerOutput,
    ViewerSession,
};

/// Updates allowed unacknowledged before the agent stops encoding.
pub const MAX_IN_FLIGHT: usize = 2;
/// Lowest AV1 quality the rate adaptation goes to.
pub const MIN_QUALITY: u8 = 20;

/// Where the helper's input goes on the sharer's computer.
pub trait InputSink: Send {
    /// Applies one input event (the session core only ever passes input while the helper has
    /// control).
    fn apply(&mut self, event: InputEvent);
}

/// A sharer that never grants control has no input to apply.
impl InputSink for () {
    fn apply(&mut self, _event: InputEvent) {}
}

/// Settings of the agent driver.
#[derive(Clone, Copy, Debug)]
pub struct AgentOptions {
    /// The encoder's settings.
    pub pipeline: PipelineConfig,
    /// Captures per second.
    pub fps: u32,
    /// Session timers.
    pub timers: Timers,
    /// The clock origin timestamps count from (share it with a viewer in the same process to
    /// measure latency).
    pub origin: std::time::Instant,
}

impl AgentOptions {
    /// The default pipeline and timers at `fps` captures a second, timed from `origin`.
    pub fn new(fps: u32, origin: std::time::Instant) -> AgentOptions {
        AgentOptions {
            pipeline: PipelineConfig::default(),
            fps,
            timers: Timers::default(),
            origin,
        }
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

/// An update's stream finished, one way or the other.
#[derive(Clone, Copy, Debug)]
struct Settled {
    bytes: u64,
    refinement: bool,
    delivered: bool,
}

fn now_us(origin: std::time::Instant) -> u64 {
    origin.elapsed().as_micros() as u64
}

fn seed() -> [u8; 32] {
    use rand_core::RngCore;
    let mut s = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut s);
    s
}

/// The sharer's pointer as cursor messages: the shape once, positions when they change, both
/// again whenever viewing (re)starts, since the session core drops them before the sharer's Yes.
#[derive(Debug, Default)]
struct CursorFeed {
    shape: Option<Message>,
    position: Option<(u32, u32, bool)>,
    shape_sent: bool,
    position_sent: Option<(u32, u32, bool)>,
}

impl CursorFeed {
    fn update(&mut self, pointer: Pointer) {
        if let Some(image) = pointer.shape {
            self.shape = cursor_shape(&image);
            self.shape_sent = false;
        }
        self.position = Some((pointer.x, pointer.y, pointer.visible));
    }

    /// The messages due now; `viewing` says whether the helper may see the screen.
    fn due(&mut self, viewing: bool) -> Vec<Message> {
        let mut due = Vec::new();
        if !viewing {
            self.shape_sent = false;
            self.position_sent = None;
            return due;
        }
        if let Some(shape) = self.shape.as_ref().filter(|_| !self.shape_sent) {
            due.push(shape.clone());
            self.shape_sent = true;
        }
        if let Some((x, y, visible)) = self.position.filter(|p| self.position_sent != Some(*p)) {
            due.push(Message::CursorMoved { x, y, visible });
            self.position_sent = self.position;
        }
        due
    }
}

/// The areas captures changed since the last encode: frames skipped while updates are in flight
/// add theirs up, so the next encode looks at all of them. It starts as `None`: the first frame
/// may differ anywhere.
#[derive(Debug, Default)]
struct Damage(Option<Vec<Rect>>);

impl Damage {
    /// Beyond this many areas one whole diff is cheaper than the bookkeeping.
    const MAX_AREAS: usize = 256;

    fn add(&mut self, areas: Option<&[Rect]>) {
        match (&mut self.0, areas) {
            (Some(list), Some(areas)) if list.len() + areas.len() <= Self::MAX_AREAS => {
                list.extend_from_slice(areas);
            }
            _ => self.0 = None,
        }
    }

    /// The areas to diff now; starts again from nothing.
    fn take(&mut self) -> Option<Vec<Rect>> {
        self.0.replace(Vec::new())
    }
}

/// The cursor message of a picture, or `None` when it is too large to send.
fn cursor_shape(image: &CursorImage) -> Option<Message> {
    use crate::session::message::MAX_CURSOR;
    let (w, h) = (u32::from(image.width), u32::from(image.height));
    if image.width > MAX_CURSOR || image.height > MAX_CURSOR || w == 0 || h == 0 {
        return None;
    }
    let frame = crate::frame::FrameRef::new(&image.bgra, w, h, w as usize * 4).ok()?;
    let pixels = crate::codec::lossless::encode(&frame, crate::frame::Rect::new(0, 0, w, h), 3);
    Some(Message::CursorShape {
        width: image.width,
        height: image.height,
        hot_x: image.hot_x.min(image.width - 1),
        hot_y: image.hot_y.min(image.height - 1),
        pixels,
    })
}

/// Spawns a task that writes control messages in order.
fn control_writer(mut stream: quinn::SendStream) -> mpsc::UnboundedSender<Message> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            let bye = matches!(message, Message::Bye { .. } | Message::Refuse(_));
            if write_message(&mut stream, &message).await.is_err() {
                break;
            }
            if bye {
                let _ = stream.finish();
                break;
            }
        }
    });
    tx
}

/// Spawns a task that reads control messages; the channel closes when the stream does.
fn control_reader(
    mut stream: quinn::RecvStream,
) -> mpsc::UnboundedReceiver<Result<Message, NetError>> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match read_message(&mut stream).await {
                Ok(Some(m)) => {
                    if tx.send(Ok(m)).is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    break;
                }
            }
        }
    });
    rx
}

/// Serves one helper on an accepted connection until the session closes; returns why it closed.
///
/// `tickets` finds the ticket of the invitation the helper names in its hello (`None`: no such
/// invitation); the session core then decides, so an unusable invitation is refused with its
/// reason before any key exchange. One known ticket: `move |_| Some(ticket)`.
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
    serve_in_span(connection, tickets, source, sink, hooks, options)
        .instrument(span)
        .await
}

async fn serve_in_span<S: FrameSource + Send>(
    connection: quinn::Connection,
    tickets: impl FnOnce(&str) -> Option<Ticket> + Send,
    mut source: S,
    mut sink: impl InputSink,
    mut hooks: AgentHooks,
    options: AgentOptions,
) -> Result<CloseReason, NetError> {
    let handshake = Duration::from_micros(options.timers.handshake_us);
    let (send, recv) = tokio::time::timeout(handshake, connection.accept_bi())
        .await
        .map_err(|_| NetError::Connection("the viewer opened no control stream".into()))?
        .map_err(|e| NetError::Connection(e.to_string()))?;
    let binding = channel_binding(&connection)?;
    let origin = options.origin;
    tracing::info!("helper connected");
    let mut reader = control_reader(recv);
    // The hello names the invitation; its ticket is looked up before the session starts.
    let first = match tokio::time::timeout(handshake, reader.recv()).await {
        Ok(Some(Ok(message))) => message,
        Ok(Some(Err(e))) => return Ok(CloseReason::ProtocolError(e.to_string())),
        Ok(None) | Err(_) => return Ok(CloseReason::TimedOut),
    };
    let ticket = match &first {
        Message::Hello { invitation_id, .. } => {
            tracing::Span::current().record("invitation", invitation_id.as_str());
            tickets(invitation_id)
        }
        _ => None,
    }
    .unwrap_or_else(Ticket::unknown);
    let mut session = AgentSession::new(ticket, binding, seed(), options.timers, now_us(origin));
    session.handle_input(now_us(origin), AgentInput::Received(first));
    let writer = control_writer(send);
    let mut encoder = ScreenEncoder::new(options.pipeline);
    let base_quality = options.pipeline.codec.quality;
    let mut quality = base_quality;
    // Fresh updates on their way; refinement is paced separately.
    let mut in_flight = 0usize;
    let mut pacer = RefinePacer::default();
    let (settled_tx, mut settled) = mpsc::unbounded_channel::<Settled>();
    // Whether the update fed to the session this turn is refinement.
    let mut refining = false;
    let mut frame = Frame::filled(1, 1, [0; 4]);
    let mut source_ended = false;
    let mut cursor = CursorFeed::default();
    // What changed since the last frame encoded, as the source reports it (`None`: unknown).
    let mut damage = Damage::default();
    let mut ticker =
        tokio::time::interval(Duration::from_micros(1_000_000 / options.fps.max(1) as u64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    loop {
        let timeout = session.poll_timeout().unwrap_or(u64::MAX);
        let deadline = Instant::now()
            + Duration::from_micros(timeout.saturating_sub(now_us(origin)).min(3_600_000_000));
        let input = tokio::select! {
            m = reader.recv() => match m {
                Some(Ok(message)) => Some(AgentInput::Received(message)),
                Some(Err(e)) => {
                    let _ = hooks.events.send(AgentEvent::Closed(CloseReason::ProtocolError(e.to_string())));
                    return Ok(CloseReason::ProtocolError(e.to_string()));
                }
                None => Some(AgentInput::Received(Message::Bye { by: crate::session::Party::Helper })),
            },
            Some(decision) = hooks.decisions.recv() => Some(AgentInput::Decision(decision)),
            Some(done) = settled.recv() => {
                if done.refinement {
                    let rtt = connection.rtt().as_micros() as u64;
                    pacer.settled(now_us(origin), done.bytes, done.delivered, rtt);
                } else {
                    in_flight -= 1;
                }
                None
            },
            _ = ticker.tick() => {
                pacer.observe_rtt(connection.rtt().as_micros() as u64);
                if !source_ended {
                    source_ended = !tokio::task::block_in_place(|| source.next_frame(&mut frame))
                        .map_err(|e| NetError::Protocol(format!("capture failed: {e}")))?;
                    damage.add(source.damage());
                    if let Some(pointer) = source.pointer() {
                        cursor.update(pointer);
                    }
                }
                for message in cursor.due(session.may_send_screen()) {
                    session.handle_input(now_us(origin), AgentInput::Cursor(message));
                }
                if !session.may_send_screen() {
                    None
                } else if in_flight >= MAX_IN_FLIGHT {
                    quality = quality.saturating_sub(5).max(MIN_QUALITY);
                    encoder.set_quality(quality);
                    None
                } else {
                    let now = now_us(origin);
                    let idle = in_flight == 0;
                    if idle && quality < base_quality {
                        quality += 1;
                        encoder.set_quality(quality);
                    }
                    let tiles = pacer.tiles();
                    let update = tokio::task::block_in_place(|| {
                        match encoder.encode_damaged(&frame.as_ref(), now, damage.take().as_deref()) {
                            Ok(Some(u)) => Ok(Some((u, false))),
                            Ok(None) if idle && tiles > 0 => {
                                Ok(encoder.refine_some(now, tiles)?.map(|u| (u, true)))
                            }
                            Ok(_) => Ok(None),
                            Err(e) => Err(e),
                        }
                    })
                    .map_err(|e| NetError::Protocol(format!("encoding failed: {e}")))?;
                    update.map(|(u, refinement)| {
                        refining = refinement;
                        AgentInput::Screen(u.encode())
                    })
                }
            },
            _ = tokio::time::sleep_until(deadline) => Some(AgentInput::Tick),
        };
        if let Some(input) = input {
            session.handle_input(now_us(origin), input);
        }
        while let Some(output) = session.poll_output() {
            match output {
                AgentOutput::Send(message) => {
                    let _ = writer.send(message);
                }
                AgentOutput::SendScreen(bytes) => {
                    let refinement = std::mem::take(&mut refining);
                    let len = bytes.len() as u64;
                    if refinement {
                        pacer.sent(len);
                    } else {
                        in_flight += 1;
                    }
                    let (connection, settled_tx) = (connection.clone(), settled_tx.clone());
                    tokio::spawn(async move {
                        let delivered = match connection.open_uni().await {
                            Ok(mut stream) => {
                                // Fresh pixels go out before refinement still in the send buffer.
                                let _ = stream.set_priority(if refinement { 0 } else { 1 });
                                stream.write_all(&bytes).await.is_ok()
                                    && stream.finish().is_ok()
                                    && stream.stopped().await.is_ok()
                            }
                            Err(_) => false,
                        };
                        let _ = settled_tx.send(Settled {
                            bytes: len,
                            refinement,
                            delivered,
                        });
                    });
                }
                AgentOutput::Apply(event) => sink.apply(event),
                AgentOutput::Event(event) => {
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
                    let _ = hooks.events.send(event);
                    if let Some(reason) = closed {
                        // Let the goodbye or refusal reach the viewer before the connection goes.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        connection.close(0u32.into(), b"bye");
                        return Ok(reason);
                    }
                }
            }
        }
        // An update the session did not send must not mark the next one as refinement.
        refining = false;
    }
}

/// What the application hands the viewer driver, and hears from it.
#[derive(Debug)]
pub struct ViewerHooks {
    /// The helper's actions.
    pub actions: mpsc::UnboundedReceiver<HelperAction>,
    /// Events to show the helper, screen updates in sequence order among them.
    pub events: mpsc::UnboundedSender<ViewerEvent>,
}

/// Runs the helper's side on a connected connection until the session closes.
///
/// # Errors
/// [`NetError`] when the control stream cannot be opened.
pub async fn view(
    connection: quinn::Connection,
    invitation_id: &str,
    helper: &str,
    stretched: &Secret<[u8; 32]>,
    hooks: ViewerHooks,
    timers: Timers,
    origin: std::time::Instant,
) -> Result<CloseReason, NetError> {
    let span = tracing::info_span!("viewer_session", peer = %connection.remote_address(), invitation = %invitation_id);
    view_in_span(
        connection,
        invitation_id,
        helper,
        stretched,
        hooks,
        timers,
        origin,
    )
    .instrument(span)
    .await
}

async fn view_in_span(
    connection: quinn::Connection,
    invitation_id: &str,
    helper: &str,
    stretched: &Secret<[u8; 32]>,
    mut hooks: ViewerHooks,
    timers: Timers,
    origin: std::time::Instant,
) -> Result<CloseReason, NetError> {
    let (send, recv) = connection
        .open_bi()
        .await
        .map_err(|e| NetError::Connection(e.to_string()))?;
    let binding = channel_binding(&connection)?;
    tracing::info!(helper, "connected; authenticating");
    let mut session = ViewerSession::new(
        invitation_id,
        helper,
        stretched,
        binding,
        seed(),
        timers,
        now_us(origin),
    );
    let writer = control_writer(send);
    let mut reader = control_reader(recv);
    let (screen_tx, mut screen_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let acceptor = {
        let connection = connection.clone();
        tokio::spawn(async move {
            while let Ok(mut stream) = connection.accept_uni().await {
                let tx = screen_tx.clone();
                tokio::spawn(async move {
                    if let Ok(bytes) = stream.read_to_end(MAX_UPDATE).await {
                        let _ = tx.send(bytes);
                    }
                });
            }
        })
    };
    // Updates are deltas: apply them in sequence order whatever stream delivered them first.
    let mut pending: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut next_seq = 1u64;
    let result = loop {
        // Outputs first: the hello is waiting before any input arrives.
        let mut closed = None;
        while let Some(output) = session.poll_output() {
            match output {
                ViewerOutput::Send(message) => {
                    let _ = writer.send(message);
                }
                ViewerOutput::Event(event) => {
                    match &event {
                        ViewerEvent::Closed(reason) => {
                            tracing::info!(%reason, "session closed");
                            closed = Some(reason.clone());
                        }
                        ViewerEvent::Screen(bytes) => {
                            tracing::trace!(bytes = bytes.len(), "screen update")
                        }
                        ViewerEvent::Chat { .. } => tracing::debug!("chat from the sharer"),
                        other => tracing::info!(event = ?other, "session"),
                    }
                    let _ = hooks.events.send(event);
                }
            }
        }
        if let Some(reason) = closed {
            tokio::time::sleep(Duration::from_millis(50)).await;
            break reason;
        }
        let timeout = session.poll_timeout().unwrap_or(u64::MAX);
        let deadline = Instant::now()
            + Duration::from_micros(timeout.saturating_sub(now_us(origin)).min(3_600_000_000));
        let inputs: Vec<ViewerInput> = tokio::select! {
            m = reader.recv() => match m {
                Some(Ok(message)) => vec![ViewerInput::Received(message)],
                Some(Err(e)) => break CloseReason::ProtocolError(e.to_string()),
                None => vec![ViewerInput::Received(Message::Bye { by: crate::session::Party::Sharer })],
            },
            Some(action) = hooks.actions.recv() => vec![ViewerInput::Action(action)],
            Some(bytes) = screen_rx.recv() => {
                let mut ready = Vec::new();
                match Update::peek_seq(&bytes) {
                    Some(seq) => {
                        pending.insert(seq, bytes);
                    }
                    // Not an update this build reads: the session says why.
                    None => ready.push(ViewerInput::Screen(bytes)),
                }
                while let Some(bytes) = pending.remove(&next_seq) {
                    ready.push(ViewerInput::Screen(bytes));
                    next_seq += 1;
                }
                ready
            },
            _ = tokio::time::sleep_until(deadline) => vec![ViewerInput::Tick],
        };
        for input in inputs {
            session.handle_input(now_us(origin), input);
        }
    };
    acceptor.abort();
    connection.close(0u32.into(), b"bye");
    Ok(result)
}
