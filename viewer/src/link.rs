//! The window's session thread: it stretches the password, reaches the agent, runs the session
//! driver, and hands the window the pixels that changed, as the session's screen receiver
//! reports them. The window is woken through its egui context (eframe's `EventLoopProxy`), so it
//! renders only when something changed.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use beckon_engine::InvitationRef;
use beckon_engine::net::drive::{ViewerHooks, view};
use beckon_engine::session::auth::stretch;
use beckon_engine::{
    CloseReason, HelperAction, Invitation, Party, Rect, ScreenChange, Timers, ViewerEvent,
};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use crate::connect::reach;

/// The sharer's pointer picture, decoded.
#[derive(Clone, Debug)]
pub struct CursorPicture {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Hot spot.
    pub hot: (u32, u32),
    /// Straight RGBA.
    pub rgba: Vec<u8>,
}

/// From the session thread to the window.
#[derive(Debug)]
pub enum ToWindow {
    /// Connected; waiting for the sharer's Yes.
    Authenticated,
    /// The sharer said Yes: pictures follow.
    Viewing,
    /// Changed pixels: each rectangle with its BGRA rows (the whole screen after a new size).
    Pixels {
        /// Screen size.
        size: (u32, u32),
        /// The rectangles and their pixels, rows packed.
        regions: Vec<(Rect, Vec<u8>)>,
        /// When the session thread received the update.
        received: Instant,
        /// The picture is now the sharer's screen exactly.
        exact: bool,
    },
    /// The sharer's pointer changed picture.
    CursorShape(CursorPicture),
    /// The sharer's pointer moved.
    CursorMoved {
        /// Hot spot position on the sharer's screen.
        at: (u32, u32),
        /// Whether it shows.
        visible: bool,
    },
    /// Control was granted.
    ControlGranted,
    /// The sharer said No to control.
    ControlDenied,
    /// Control ended (by the helper's Esc, the sharer's Esc, or the sharer's button).
    ControlEnded(Party),
    /// A chat message from the sharer.
    Chat(String),
    /// The sharer now shows one monitor (its name and place), or all of them.
    Showing(Option<String>),
    /// The sharer copied this text while the helper has control.
    Clipboard(String),
    /// Link figures over the last second.
    Stats {
        /// Kilobits a second of screen updates.
        kbps: f64,
        /// Updates a second.
        fps: f64,
        /// Round-trip time.
        rtt_ms: f64,
    },
    /// The session ended: why, in a sentence.
    Closed(String),
}

/// The window's end of a running session.
#[derive(Debug)]
pub struct SessionLink {
    actions: UnboundedSender<HelperAction>,
    /// What the session says.
    pub events: mpsc::Receiver<ToWindow>,
}

impl SessionLink {
    /// Sends a helper action (ignored once the session is over).
    pub fn act(&self, action: HelperAction) {
        let _ = self.actions.send(action);
    }
}

/// Starts a session with `invitation`'s agent on a thread of its own; `wake` is called after
/// every message to the window.
pub fn start(
    invitation: Invitation,
    password: String,
    name: String,
    wake: impl Fn() + Send + Sync + 'static,
) -> SessionLink {
    let (actions, actions_rx) = unbounded_channel();
    let (tx, events) = mpsc::channel();
    std::thread::spawn(move || {
        let send = |message: ToWindow| {
            let _ = tx.send(message);
            wake();
        };
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                return send(ToWindow::Closed(t!(
                    "link-cannot-start",
                    why = e.to_string()
                )));
            }
        };
        let reason = runtime.block_on(run(invitation, password, name, actions_rx, &send));
        send(ToWindow::Closed(reason));
    });
    SessionLink { actions, events }
}

/// The session, start to end; returns why it ended, in a sentence.
async fn run(
    invitation: Invitation,
    password: String,
    name: String,
    actions: tokio::sync::mpsc::UnboundedReceiver<HelperAction>,
    send: &impl Fn(ToWindow),
) -> String {
    let params = invitation.stretch.clone();
    let stretched = match tokio::task::spawn_blocking(move || stretch(&password, &params)).await {
        Ok(Ok(stretched)) => stretched,
        Ok(Err(e)) => return t!("link-bad-stretch", why = e.to_string()),
        Err(e) => return t!("link-stretch-failed", why = e.to_string()),
    };
    let (_endpoint, connection) = match reach(&invitation).await {
        Ok(reached) => (reached.endpoint, reached.connection),
        Err(e) => return format!("{e:#}"),
    };
    let (events_tx, mut events) = unbounded_channel();
    let origin = Instant::now();
    let stats_connection = connection.clone();
    let session = tokio::spawn({
        let invitation = InvitationRef::of(&invitation);
        async move {
            view(
                connection,
                &invitation,
                &name,
                &stretched,
                ViewerHooks {
                    actions,
                    events: events_tx,
                },
                Timers::default(),
                origin,
            )
            .await
        }
    });
    let (mut bytes, mut updates, mut since) = (0u64, 0u32, Instant::now());
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let mut reason = None;
    loop {
        let event = tokio::select! {
            event = events.recv() => match event {
                Some(event) => event,
                None => break,
            },
            _ = ticker.tick() => {
                let seconds = since.elapsed().as_secs_f64().max(1e-3);
                send(ToWindow::Stats {
                    kbps: bytes as f64 * 8.0 / 1000.0 / seconds,
                    fps: f64::from(updates) / seconds,
                    rtt_ms: stats_connection.rtt().as_secs_f64() * 1000.0,
                });
                (bytes, updates, since) = (0, 0, Instant::now());
                continue;
            }
        };
        match event {
            ViewerEvent::Authenticated { .. } => send(ToWindow::Authenticated),
            ViewerEvent::Accepted => send(ToWindow::Viewing),
            ViewerEvent::Screen(change) => {
                bytes += change.wire_bytes as u64;
                updates += 1;
                send(pixels(change));
            }
            ViewerEvent::CursorShape(picture) => send(ToWindow::CursorShape(CursorPicture {
                width: picture.width,
                height: picture.height,
                hot: picture.hot,
                rgba: picture.to_rgba(),
            })),
            ViewerEvent::CursorMoved { x, y, visible } => {
                send(ToWindow::CursorMoved {
                    at: (x, y),
                    visible,
                });
            }
            ViewerEvent::ControlGranted => send(ToWindow::ControlGranted),
            ViewerEvent::ControlDenied => send(ToWindow::ControlDenied),
            ViewerEvent::ControlEnded { by, .. } => send(ToWindow::ControlEnded(by)),
            ViewerEvent::Chat { text } => send(ToWindow::Chat(text)),
            ViewerEvent::Clipboard { text } => send(ToWindow::Clipboard(text)),
            ViewerEvent::Showing { monitor } => send(ToWindow::Showing(monitor)),
            ViewerEvent::Closed(r) => reason = Some(closed(&r)),
            _ => {}
        }
    }
    session.abort();
    reason.unwrap_or_else(|| t!("link-ended"))
}

/// A screen change as the window takes it.
fn pixels(change: ScreenChange) -> ToWindow {
    ToWindow::Pixels {
        size: (change.width, change.height),
        regions: change.rects,
        received: Instant::now(),
        exact: change.exact,
    }
}

/// Why a session closed, as the helper reads it.
fn closed(reason: &CloseReason) -> String {
    match reason {
        CloseReason::Disconnected { by: Party::Helper } => t!("link-you-disconnected"),
        CloseReason::Disconnected { by: Party::Sharer } => t!("link-sharer-disconnected"),
        other => {
            let text = other.to_string();
            let mut chars = text.chars();
            let first: String = chars
                .next()
                .map(|c| c.to_uppercase().collect())
                .unwrap_or_default();
            format!("{first}{}.", chars.as_str())
        }
    }
}
