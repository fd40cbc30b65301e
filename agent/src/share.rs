//! `beckon-agent share`: serves the store's invitations to their helpers, asking the sharer on the
//! terminal.
//!
//! Every connection names its invitation; the store decides what happens. An open invitation
//! admits its helper (after the password and the sharer's Yes); an expired, deleted, locked or
//! already used one, or an unknown id, is refused with that reason before any key exchange. One
//! helper at a time: a second connection while a session runs is told another helper is
//! connected.
//!
//! The screen is the X display (`--x11`, capture and XTEST input from
//! [`beckon_agent::platform::x11`]) or a recorded clip (`--clip`); the sharer's window comes with
//! the agent issue. On the terminal: `y` / `n` answer the prompts, `esc` ends control,
//! `q` disconnects the helper, any other line is sent as chat.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use anyhow::Result;
use beckon_agent::platform::x11::{EscWatch, X11Error, X11Input, X11Source};
use beckon_engine::corpus::ClipReader;
use beckon_engine::net::agent_endpoint;
use beckon_engine::net::drive::{AgentHooks, AgentOptions, InputSink, serve};
use beckon_engine::pipeline::FrameSource;
use beckon_engine::pipeline::PipelineConfig;
use beckon_engine::session::{
    AgentEvent, CloseReason, DEFAULT_MAX_ATTEMPTS, InputEvent, SharerDecision, Ticket, TicketState,
    Timers,
};
use tokio::sync::mpsc;

use crate::store::{State, Store, now};

/// Options of `share`.
#[derive(Debug, clap::Args)]
pub struct ShareArgs {
    /// The UDP address to listen on.
    #[arg(long, default_value = "0.0.0.0:47600")]
    pub listen: SocketAddr,
    /// Share this X display (default: DISPLAY), with the helper's input applied through XTEST
    /// while they have control.
    #[arg(long, conflicts_with = "clip", required_unless_present = "clip")]
    pub x11: bool,
    /// The X display for --x11 (default: DISPLAY).
    #[arg(long, requires = "x11")]
    pub display: Option<String>,
    /// Show this recorded clip (NAME.bgra.zst) as the screen instead (demos, tests).
    #[arg(long)]
    pub clip: Option<PathBuf>,
    /// Allow connections without asking (scripts and demos).
    #[arg(long)]
    pub yes: bool,
    /// Stop after this many helper connections have ended, admitted or refused (default: serve
    /// until interrupted). Attempts whose handshake fails (a forged certificate) do not count.
    #[arg(long)]
    pub sessions: Option<u32>,
}

/// Input is printed, not applied: a clip cannot be controlled.
struct PrintInput;

impl InputSink for PrintInput {
    fn apply(&mut self, event: InputEvent) {
        eprintln!("(input from the helper: {event:?})");
    }
}

/// What is shared: an X display or a recorded clip.
#[derive(Clone, Debug)]
enum Screen {
    X11(Option<String>),
    Clip(PathBuf),
}

/// A frame source of either kind.
enum Source {
    X11(Box<X11Source>),
    Clip(ClipReader),
}

/// Why capturing failed.
#[derive(Debug, thiserror::Error)]
enum SourceError {
    #[error(transparent)]
    X11(#[from] X11Error),
    #[error(transparent)]
    Clip(#[from] beckon_engine::corpus::CorpusError),
}

impl FrameSource for Source {
    type Error = SourceError;

    fn next_frame(&mut self, frame: &mut beckon_engine::frame::Frame) -> Result<bool, SourceError> {
        Ok(match self {
            Source::X11(s) => s.next_frame(frame)?,
            Source::Clip(s) => s.next_frame(frame)?,
        })
    }
}

/// The helper's input goes to the X display, or is printed for a clip.
enum Sink {
    X11(Box<X11Input>),
    Print(PrintInput),
}

impl InputSink for Sink {
    fn apply(&mut self, event: InputEvent) {
        match self {
            Sink::X11(s) => s.apply(event),
            Sink::Print(s) => s.apply(event),
        }
    }
}

impl Screen {
    /// A fresh source, its capture rate, and the input sink.
    fn open(&self) -> Result<(Source, u32, Sink)> {
        Ok(match self {
            Screen::X11(display) => (
                Source::X11(Box::new(X11Source::connect(display.as_deref())?)),
                30,
                Sink::X11(Box::new(X11Input::connect(display.as_deref())?)),
            ),
            Screen::Clip(path) => {
                let reader = ClipReader::open(path)?;
                let fps = reader.meta().fps;
                (Source::Clip(reader), fps, Sink::Print(PrintInput))
            }
        })
    }
}

/// The question on the terminal waiting for a y or n.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Question {
    Connection,
    Control,
}

/// The admitted helper's session, which owns the terminal.
#[derive(Debug)]
struct Active {
    connection: u64,
    id: String,
    decisions: mpsc::UnboundedSender<SharerDecision>,
    asking: Option<Question>,
}

/// What every connection's task shares.
struct Shared {
    store: Mutex<Store>,
    active: Mutex<Option<Active>>,
    screen: Screen,
    yes: bool,
    origin: Instant,
}

impl Shared {
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn active(&self) -> MutexGuard<'_, Option<Active>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The ticket for `id`, claiming the terminal for `connection` when it is usable.
    fn ticket(
        &self,
        id: &str,
        connection: u64,
        peer: SocketAddr,
        decisions: &mpsc::UnboundedSender<SharerDecision>,
    ) -> Option<Ticket> {
        let store = self.store();
        let record = store.get_exact(id).ok()??;
        let _ = store.log(Some(id), "helper connected", &peer.to_string());
        let session_now = self.origin.elapsed().as_micros() as u64;
        let left = record.invitation.expires.saturating_sub(now());
        let mut expires_at_us = session_now + left * 1_000_000;
        let mut active = self.active();
        let in_use = active.as_ref().is_some_and(|a| a.id == id);
        let state = match record.state {
            _ if in_use => TicketState::InUse,
            State::Open => {
                if active.is_some() {
                    TicketState::InUse
                } else {
                    *active = Some(Active {
                        connection,
                        id: id.to_string(),
                        decisions: decisions.clone(),
                        asking: None,
                    });
                    TicketState::Open
                }
            }
            State::Expired => {
                expires_at_us = 0;
                TicketState::Open
            }
            State::Used => TicketState::Used,
            State::Locked => TicketState::Locked,
            State::Deleted => TicketState::Deleted,
        };
        drop(active);
        let verifier = store.verifier(id).ok()?;
        Some(Ticket {
            id: id.to_string(),
            sharer: record.invitation.from.clone(),
            verifier,
            expires_at_us,
            attempts: record.attempts,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            state,
        })
    }

    /// Gives the terminal back if `connection` holds it.
    fn release(&self, connection: u64) {
        let mut active = self.active();
        if active.as_ref().is_some_and(|a| a.connection == connection) {
            *active = None;
        }
    }
}

/// Serves until interrupted, or until `--sessions` connections have ended.
pub fn share(store: Store, args: &ShareArgs) -> Result<()> {
    let identity = store.identity()?;
    let open = store
        .list()?
        .iter()
        .filter(|r| r.state == State::Open)
        .count();
    let screen = match &args.clip {
        Some(path) => Screen::Clip(path.clone()),
        None => Screen::X11(args.display.clone()),
    };
    // Open the screen once, up front, so a bad clip or display is reported before anyone
    // connects.
    screen.open()?;
    let shared = Arc::new(Shared {
        store: Mutex::new(store),
        active: Mutex::new(None),
        screen,
        yes: args.yes,
        origin: Instant::now(),
    });
    if let Screen::X11(display) = &shared.screen {
        // The sharer's Esc on their own keyboard ends control at once, whatever the helper does.
        let mut watch = EscWatch::connect(display.as_deref())?;
        let shared = shared.clone();
        std::thread::spawn(move || {
            while watch.wait().is_ok() {
                if let Some(active) = shared.active().as_ref() {
                    let _ = active.decisions.send(SharerDecision::Esc);
                }
            }
        });
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let endpoint = agent_endpoint(args.listen, &identity)?;
        eprintln!(
            "Waiting for helpers on UDP {} (certificate {}); {open} open invitation(s).",
            endpoint.local_addr()?,
            identity.fingerprint()
        );
        let (lines_tx, mut lines) = mpsc::unbounded_channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (ended_tx, mut ended) = mpsc::unbounded_channel::<()>();
        let (mut connections, mut finished) = (0u64, 0u32);
        loop {
            tokio::select! {
                incoming = endpoint.accept() => {
                    let Some(incoming) = incoming else { break };
                    connections += 1;
                    let (shared, ended_tx, number) = (shared.clone(), ended_tx.clone(), connections);
                    tokio::spawn(async move {
                        let connection = match incoming.await {
                            Ok(connection) => connection,
                            Err(e) => {
                                eprintln!("A connection attempt failed: {e}.");
                                return;
                            }
                        };
                        if let Err(e) = serve_connection(connection, &shared, number).await {
                            eprintln!("A helper's connection failed: {e:#}.");
                        }
                        shared.release(number);
                        let _ = ended_tx.send(());
                    });
                }
                Some(line) = lines.recv() => answer(&shared, &line),
                Some(()) = ended.recv() => {
                    finished += 1;
                    if args.sessions.is_some_and(|n| finished >= n) {
                        break;
                    }
                }
            }
        }
        endpoint.close(0u32.into(), b"bye");
        Ok(())
    })
}

/// Routes one terminal line to the admitted helper's session.
fn answer(shared: &Shared, line: &str) {
    let mut active = shared.active();
    let Some(active) = active.as_mut() else {
        eprintln!("(no helper is connected)");
        return;
    };
    let yes = line.trim().eq_ignore_ascii_case("y");
    let decision = match (active.asking.take(), line.trim()) {
        (Some(Question::Connection), _) => {
            let event = if yes {
                "consent given"
            } else {
                "consent refused"
            };
            let _ = shared.store().log(Some(&active.id), event, "");
            SharerDecision::AllowConnection(yes)
        }
        (Some(Question::Control), _) => SharerDecision::AllowControl(yes),
        (None, "q") => SharerDecision::Disconnect,
        (None, "esc") => SharerDecision::Esc,
        (None, _) => SharerDecision::Chat(line.to_string()),
    };
    let _ = active.decisions.send(decision);
}

/// One helper's connection, from handshake to goodbye (or refusal).
async fn serve_connection(
    connection: beckon_engine::net::Connection,
    shared: &Arc<Shared>,
    number: u64,
) -> Result<()> {
    let peer = connection.remote_address();
    let (source, fps, sink) = shared.screen.open()?;
    let (decisions_tx, decisions) = mpsc::unbounded_channel();
    let (events, mut events_rx) = mpsc::unbounded_channel();
    // The invitation the helper named, when the store knows it.
    let named = Arc::new(Mutex::new(None::<String>));
    let tickets = {
        let (shared, decisions_tx, named) = (shared.clone(), decisions_tx.clone(), named.clone());
        move |id: &str| {
            let ticket = shared.ticket(id, number, peer, &decisions_tx)?;
            *named.lock().unwrap_or_else(|e| e.into_inner()) = Some(id.to_string());
            Some(ticket)
        }
    };
    let options = AgentOptions {
        pipeline: PipelineConfig::default(),
        fps,
        timers: Timers::default(),
        origin: shared.origin,
    };
    let hooks = AgentHooks { decisions, events };
    let session = tokio::spawn(serve(connection, tickets, source, sink, hooks, options));
    let mut chatted = false;
    while let Some(event) = events_rx.recv().await {
        let id = named.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let log = |event: &str, detail: &str| {
            if let Some(id) = &id {
                let _ = shared.store().log(Some(id), event, detail);
            }
        };
        match event {
            AgentEvent::HelperWantsToConnect { helper } => {
                log("consent asked", &helper);
                if shared.yes {
                    eprintln!("{helper} is connecting (allowed by --yes).");
                    log("consent given", "--yes");
                    let _ = decisions_tx.send(SharerDecision::AllowConnection(true));
                } else {
                    eprintln!("{helper} wants to connect to your computer. Allow? [y/N]");
                    ask(shared, number, Question::Connection);
                }
            }
            AgentEvent::AttemptFailed { attempts, locked } => {
                if let Some(id) = &id {
                    shared.store().record_attempt(id, attempts, locked)?;
                }
            }
            AgentEvent::ViewingStarted => {
                if let Some(id) = &id {
                    shared
                        .store()
                        .set_state(id, State::Used, "viewing started")?;
                }
                eprintln!("The helper sees your screen. Type q and Enter to disconnect.");
            }
            AgentEvent::HelperWantsControl { helper } => {
                log("control asked", &helper);
                eprintln!("{helper} would like to share control of your computer. Allow? [y/N]");
                ask(shared, number, Question::Control);
            }
            AgentEvent::ControlStarted => log("control granted", ""),
            AgentEvent::ControlEnded { by } => {
                log("control ended", &format!("by the {by:?}").to_lowercase());
            }
            AgentEvent::Chat { text } => {
                if !std::mem::replace(&mut chatted, true) {
                    log("chat started", "");
                }
                eprintln!("helper: {text}");
            }
            AgentEvent::Closed(reason) => {
                if let CloseReason::Refused(_) = reason {
                    eprintln!("A helper was turned away: {reason}.");
                    log("refused", &reason.to_string());
                } else {
                    eprintln!("Session over: {reason}.");
                    log("disconnected", &reason.to_string());
                }
            }
        }
    }
    session.await??;
    Ok(())
}

fn ask(shared: &Shared, connection: u64, question: Question) {
    if let Some(active) = shared
        .active()
        .as_mut()
        .filter(|a| a.connection == connection)
    {
        active.asking = Some(question);
    }
}
