//! `beckon-agent share`: serves the store's invitations to their helpers, asking the sharer in
//! their window or on the terminal.
//!
//! Every connection names its invitation; the store decides what happens. An open invitation
//! admits its helper (after the password and the sharer's Yes); an expired, deleted, locked or
//! already used one, or an unknown id, is refused with that reason before any key exchange. One
//! helper at a time: a second connection while a session runs is told another helper is
//! connected.
//!
//! The screen is the X display (`--x11`, capture and XTEST input from
//! [`beckon_agent::platform::x11`]) or a recorded clip (`--clip`). The sharer answers in the
//! sharer's window ([`beckon_agent::window`]) or, with `--console` or without a display, on the
//! terminal: `y` / `n` answer the prompts, `esc` ends control, `q` disconnects the helper, any
//! other line is sent as chat. Every so often (`--continue-every`) the sharer is asked whether to
//! go on sharing; unanswered for `--continue-timeout`, the helper is disconnected. Every event
//! goes to the audit log.

use std::collections::HashMap;
use std::io::BufRead;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Result;
use beckon_agent::platform::clipboard::SharedClipboard;
use beckon_agent::platform::portal::{
    self, PortalDesk, PortalError, PortalInput, PortalShortcut, PortalSource,
};
use beckon_agent::platform::sway::SwayEsc;
use beckon_agent::platform::wayland::{self, WaylandError, WaylandInput, WaylandSource};
use beckon_agent::platform::x11::{
    EscWatch, InjectedEscs, Monitor, X11Error, X11Input, X11Source, choose_monitor, monitors,
};
use beckon_engine::net::drive::{AgentHooks, AgentOptions, InputSink, serve};
use beckon_engine::net::relay::{RelaySocket, TurnLogin};
use beckon_engine::net::{NetError, agent_endpoint, agent_endpoint_on};
use beckon_engine::session::{DEFAULT_MAX_ATTEMPTS, Secret, TicketState};
use beckon_engine::{
    AgentEvent, ClipReader, CloseReason, FrameSource, InputEvent, LiveClip, Refusal,
    SharerDecision, Ticket,
};
use tokio::sync::mpsc;

use beckon_agent::front::{FrontLink, Notice, Question, Reply, Status};
use beckon_agent::store::{State, Store};
use beckon_agent::t;
use beckon_engine::invite::when::now;

/// Options of `share`.
#[derive(Debug, clap::Args)]
pub struct ShareArgs {
    /// The UDP address to listen on.
    #[arg(long, default_value = "0.0.0.0:47600")]
    pub listen: SocketAddr,
    /// Share this X display (default: DISPLAY), with the helper's input applied through XTEST
    /// while they have control.
    #[arg(long, conflicts_with_all = ["clip", "wayland", "portal"], required_unless_present_any = ["clip", "wayland", "portal"])]
    pub x11: bool,
    /// Share this Wayland desktop (WAYLAND_DISPLAY) of sway or another wlroots compositor,
    /// with the helper's input applied through its virtual pointer and keyboard.
    #[arg(long, conflicts_with_all = ["clip", "portal"])]
    pub wayland: bool,
    /// Share through the desktop's portal (GNOME, KDE Plasma, or xdg-desktop-portal-wlr): the
    /// desktop asks which monitors to share, once, and lets the helper type where it offers
    /// remote control.
    #[arg(long, conflicts_with = "clip")]
    pub portal: bool,
    /// The X display for --x11 (default: DISPLAY).
    #[arg(long, requires = "x11")]
    pub display: Option<String>,
    /// Share only this monitor: its number (from 1) or name, as `beckon-agent doctor` lists
    /// them (default: the whole screen, every monitor).
    #[arg(long, conflicts_with = "clip")]
    pub monitor: Option<String>,
    /// Show this recorded clip (NAME.bgra.zst) as the screen instead (demos, tests).
    #[arg(long)]
    pub clip: Option<PathBuf>,
    /// Allow connections without asking (scripts and demos).
    #[arg(long)]
    pub yes: bool,
    /// Stop after this many helper connections have ended, admitted or refused (default: serve
    /// until interrupted). Attempts whose handshake fails (a forged certificate) and connections
    /// that end without trying a password do not count.
    #[arg(long)]
    pub sessions: Option<u32>,
    /// Ask and chat on this terminal instead of the sharer's window.
    #[arg(long)]
    pub console: bool,
    /// Ask "Continue sharing?" after this many seconds of a session, and again after each Yes.
    #[arg(long, default_value_t = 30 * 60, value_name = "SECONDS")]
    pub continue_every: u64,
    /// Disconnect the helper when "Continue sharing?" is unanswered for this many seconds.
    #[arg(long, default_value_t = 5 * 60, value_name = "SECONDS")]
    pub continue_timeout: u64,
    /// Keep the clipboard to yourself: by default, while the helper has control, what you copy
    /// goes to them and what they copy comes to you (text only; the window can turn it off).
    #[arg(long)]
    pub no_clipboard: bool,
}

/// Options of the sharer's window (`beckon-agent window`, or no command at all).
#[derive(Debug, clap::Args)]
pub struct WindowArgs {
    /// The UDP address to wait for helpers on while an invitation is open; invitations made in
    /// the window name it (or this computer's addresses, when it is 0.0.0.0).
    #[arg(long, default_value = "0.0.0.0:47600")]
    pub listen: SocketAddr,
    /// The X display to share and show the window on (default: DISPLAY).
    #[arg(long)]
    pub display: Option<String>,
    /// Share only this monitor: its number (from 1) or name, as `beckon-agent doctor` lists
    /// them (default: the whole screen, every monitor).
    #[arg(long)]
    pub monitor: Option<String>,
}

impl Default for WindowArgs {
    fn default() -> WindowArgs {
        WindowArgs {
            listen: SocketAddr::from(([0, 0, 0, 0], 47600)),
            display: None,
            monitor: None,
        }
    }
}

/// The sharer's window with the whole flow: serving starts whenever an invitation is open.
pub fn window(data_dir: PathBuf, config: Option<PathBuf>, args: &WindowArgs) -> Result<()> {
    let display = args
        .display
        .clone()
        .or_else(|| std::env::var("DISPLAY").ok().filter(|d| !d.is_empty()));
    let wayland = std::env::var("WAYLAND_DISPLAY").is_ok_and(|d| !d.is_empty());
    match &display {
        // SAFETY: no thread has started yet; nothing reads the environment concurrently.
        Some(display) => unsafe { std::env::set_var("DISPLAY", display) },
        // A Wayland desktop without XWayland: the window is a Wayland one.
        None if wayland => {}
        None => anyhow::bail!("{}", t!("share-no-desktop")),
    }
    let screen = Screen::of_session(args.display.clone(), args.monitor.clone(), &data_dir);
    // The portal's input exists only inside a session the desktop started.
    if !matches!(screen, Screen::Portal { .. }) {
        screen.sink(None, None)?;
    }
    let places = beckon_agent::window::Places {
        data_dir: data_dir.clone(),
        config,
        listen: args.listen,
    };
    let listen = args.listen;
    let config = places.config.clone();
    let start = move |link: FrontLink, replies| {
        let (screen, data_dir, config) = (screen.clone(), data_dir.clone(), config.clone());
        std::thread::spawn(move || {
            let relays = beckon_agent::mail::Config::load(config.as_deref(), false)?
                .relay
                .resolve()?;
            let serving = Serving {
                store: Store::open(&data_dir)?,
                screen,
                relays,
                yes: false,
                listen,
                sessions: None,
                continue_every: Duration::from_secs(30 * 60),
                continue_timeout: Duration::from_secs(5 * 60),
                share_clipboard: true,
            };
            serving.run(link, replies)
        })
    };
    beckon_agent::window::home(display.as_deref(), places, Box::new(start))
}

/// Input is printed, not applied: a clip cannot be controlled.
struct PrintInput;

impl InputSink for PrintInput {
    fn apply(&mut self, event: InputEvent) {
        eprintln!(
            "{}",
            t!("share-input-printed", event = format!("{event:?}"))
        );
    }
}

/// What is shared: an X display or a wlroots compositor (one of its monitors, or all), or a
/// recorded clip.
#[derive(Clone, Debug)]
enum Screen {
    X11 {
        display: Option<String>,
        /// A monitor's number (from 1) or name; `None`: the whole screen.
        monitor: Option<String>,
    },
    Wayland {
        /// An output's number (from 1) or name; `None`: every output.
        monitor: Option<String>,
    },
    /// Through the desktop's portal.
    Portal {
        /// A shared monitor's number (from 1); `None`: every monitor the sharer chose.
        monitor: Option<String>,
        desk: Arc<PortalDesk>,
    },
    Clip(PathBuf),
}

/// A frame source of either kind.
enum Source {
    X11(Box<X11Source>),
    Wayland(Box<WaylandSource>),
    Portal(Box<PortalSource>),
    Clip(Box<LiveClip>),
}

/// Why capturing failed.
#[derive(Debug, thiserror::Error)]
enum SourceError {
    #[error(transparent)]
    X11(#[from] X11Error),
    #[error(transparent)]
    Wayland(#[from] WaylandError),
    #[error(transparent)]
    Portal(#[from] PortalError),
    #[error(transparent)]
    Clip(#[from] beckon_engine::corpus::CorpusError),
    #[error("the screen could not be opened: {0}")]
    Open(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl FrameSource for Source {
    type Error = SourceError;

    fn next_frame(&mut self, frame: &mut beckon_engine::frame::Frame) -> Result<bool, SourceError> {
        Ok(match self {
            Source::X11(s) => s.next_frame(frame)?,
            Source::Wayland(s) => s.next_frame(frame)?,
            Source::Portal(s) => s.next_frame(frame)?,
            Source::Clip(s) => s.next_frame(frame)?,
        })
    }

    fn damage(&self) -> Option<&[beckon_engine::frame::Rect]> {
        match self {
            Source::X11(s) => s.damage(),
            Source::Wayland(s) => s.damage(),
            Source::Portal(s) => s.damage(),
            Source::Clip(s) => s.damage(),
        }
    }

    fn pointer(&mut self) -> Option<beckon_engine::pipeline::Pointer> {
        match self {
            Source::X11(s) => s.pointer(),
            Source::Wayland(s) => s.pointer(),
            Source::Portal(s) => s.pointer(),
            Source::Clip(s) => s.pointer(),
        }
    }
}

/// The helper's input goes to the desktop, or is printed for a clip.
enum Sink {
    X11(Box<X11Input>),
    Wayland(Box<WaylandInput>),
    Portal(Box<PortalInput>),
    Print(PrintInput),
}

impl InputSink for Sink {
    fn apply(&mut self, event: InputEvent) {
        match self {
            Sink::X11(s) => s.apply(event),
            Sink::Wayland(s) => s.apply(event),
            Sink::Portal(s) => s.apply(event),
            Sink::Print(s) => s.apply(event),
        }
    }
}

impl Screen {
    /// The sharer's desktop: in a Wayland session (no X display named), the wlroots
    /// compositor's when it lets programs copy the screen, else the desktop's portal when
    /// there is one (GNOME, KDE); otherwise the X display.
    fn of_session(display: Option<String>, monitor: Option<String>, data_dir: &Path) -> Screen {
        let wayland =
            display.is_none() && crate::doctor::wayland_session(|name| std::env::var(name).ok());
        if wayland && wayland::offers(None).is_ok_and(|o| o.screencopy) {
            Screen::Wayland { monitor }
        } else if wayland && portal::offers(None).is_ok_and(|o| o.screencast > 0) {
            Screen::portal(monitor, data_dir)
        } else {
            Screen::X11 { display, monitor }
        }
    }

    /// The desktop's portal, its restore token kept in the store in `data_dir`.
    fn portal(monitor: Option<String>, data_dir: &Path) -> Screen {
        let data_dir = data_dir.to_path_buf();
        let desk = PortalDesk::new(None, true, move |token| {
            let store = Store::open(&data_dir).ok()?;
            match token {
                None => store.portal_token().ok().flatten(),
                Some(token) => {
                    if let Err(e) = store.set_portal_token(token) {
                        eprintln!("{e:#}");
                    }
                    None
                }
            }
        });
        Screen::Portal {
            monitor,
            desk: Arc::new(desk),
        }
    }

    /// A fresh source of the screen.
    fn source(&self) -> Result<Source> {
        Ok(match self {
            Screen::X11 { display, .. } => {
                let mut source = X11Source::connect(display.as_deref())?;
                source.share_monitor(self.monitor()?);
                Source::X11(Box::new(source))
            }
            Screen::Wayland { monitor } => {
                Source::Wayland(Box::new(WaylandSource::connect(None, monitor.as_deref())?))
            }
            Screen::Portal { monitor, desk } => {
                Source::Portal(Box::new(PortalSource::open(desk, monitor.as_deref())?))
            }
            Screen::Clip(path) => Source::Clip(Box::new(LiveClip::new(ClipReader::open(path)?))),
        })
    }

    /// The monitor shared, as the X server places it now; `None`: the whole screen.
    fn monitor(&self) -> Result<Option<Monitor>> {
        match self {
            Screen::X11 {
                display,
                monitor: Some(wanted),
            } => Ok(Some(choose_monitor(
                &monitors(display.as_deref())?,
                wanted,
            )?)),
            _ => Ok(None),
        }
    }

    /// The input sink (injecting literal Escs into the `escs` ledger, or past sway's Esc
    /// binding, when given).
    fn sink(&self, escs: Option<&InjectedEscs>, sway: Option<&Arc<SwayEsc>>) -> Result<Sink> {
        Ok(match self {
            Screen::X11 { display, .. } => {
                let mut input = X11Input::connect(display.as_deref())?;
                if let Some(monitor) = self.monitor()? {
                    input.set_origin(monitor.x, monitor.y);
                }
                if let Some(escs) = escs {
                    input.inject_escs(escs.clone());
                }
                Sink::X11(Box::new(input))
            }
            Screen::Wayland { monitor } => {
                let mut input = WaylandInput::connect(None, monitor.as_deref())?;
                if let Some(sway) = sway {
                    input.let_esc_through(sway.clone());
                }
                Sink::Wayland(Box::new(input))
            }
            Screen::Portal { monitor, desk } => {
                Sink::Portal(Box::new(PortalInput::open(desk, monitor.as_deref())?))
            }
            Screen::Clip(_) => Sink::Print(PrintInput),
        })
    }

    /// Captures a second.
    fn fps(&self) -> Result<u32> {
        Ok(match self {
            Screen::X11 { .. } | Screen::Wayland { .. } | Screen::Portal { .. } => 30,
            Screen::Clip(path) => beckon_engine::corpus::read_meta(path)?.fps,
        })
    }
}

/// The screen shared, with the sharer's choice of monitor, which may change while serving.
struct Showing {
    screen: Screen,
    /// How many times the choice changed, and the monitor chosen (`None`: all of them).
    chosen: Mutex<(u64, Option<String>)>,
}

impl Showing {
    fn new(screen: Screen) -> Showing {
        let monitor = match &screen {
            Screen::X11 { monitor, .. }
            | Screen::Wayland { monitor }
            | Screen::Portal { monitor, .. } => monitor.clone(),
            Screen::Clip(_) => None,
        };
        Showing {
            screen,
            chosen: Mutex::new((0, monitor)),
        }
    }

    /// The number of the sharer's latest choice (it grows with each).
    fn number(&self) -> u64 {
        self.chosen.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    /// The screen as the sharer chose it now, and the choice's number.
    fn current(&self) -> (u64, Screen) {
        let (number, monitor) = self
            .chosen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let screen = match &self.screen {
            Screen::X11 { display, .. } => Screen::X11 {
                display: display.clone(),
                monitor,
            },
            Screen::Wayland { .. } => Screen::Wayland { monitor },
            Screen::Portal { desk, .. } => Screen::Portal {
                monitor,
                desk: desk.clone(),
            },
            Screen::Clip(path) => Screen::Clip(path.clone()),
        };
        (number, screen)
    }

    /// The monitors there are now.
    fn monitors(&self) -> Result<Vec<Monitor>> {
        match &self.screen {
            Screen::X11 { display, .. } => monitors(display.as_deref()),
            Screen::Wayland { .. } => wayland::monitors(None),
            // The monitors the sharer chose in the desktop's dialog, once it was shown.
            Screen::Portal { desk, .. } => Ok(desk.live().map_or_else(Vec::new, |session| {
                session.lock().unwrap_or_else(|e| e.into_inner()).monitors()
            })),
            Screen::Clip(_) => Ok(Vec::new()),
        }
    }

    /// Shows `wanted` (a monitor's number from 1 or its name; `None`: all of them) from the
    /// next capture on. Returns the monitor chosen, named with its place.
    ///
    /// # Errors
    /// When there is no such monitor.
    fn choose(&self, wanted: Option<&str>) -> Result<Option<Monitor>> {
        let monitor = match wanted {
            Some(wanted) => Some(choose_monitor(&self.monitors()?, wanted)?),
            None => None,
        };
        let mut chosen = self.chosen.lock().unwrap_or_else(|e| e.into_inner());
        *chosen = (chosen.0 + 1, monitor.as_ref().map(|m| m.name.clone()));
        Ok(monitor)
    }

    /// The monitor chosen, named with its place as it is now; `None`: all of them.
    fn described(&self) -> Option<String> {
        let name = self
            .chosen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()?;
        let monitors = self.monitors().unwrap_or_default();
        Some(
            monitors
                .iter()
                .find(|m| m.name == name)
                .map_or(name, ToString::to_string),
        )
    }

    /// What the front-end offers the sharer to choose among.
    fn notice(&self) -> Option<Notice> {
        let monitors = self.monitors().ok()?;
        let showing = self
            .chosen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone();
        Some(Notice::Monitors {
            monitors: monitors
                .iter()
                .map(|m| (m.name.clone(), m.to_string()))
                .collect(),
            showing,
        })
    }
}

/// The screen, opened when the session first asks for a capture, which it does only after the
/// sharer's Yes: a connection that never gets that far touches nothing of the desktop.
struct LazySource {
    showing: Arc<Showing>,
    /// The number of the sharer's choice the open source follows.
    chosen: u64,
    open: Option<Source>,
    /// Told the monitors to choose among when the desktop's portal has just shown them.
    shared: std::sync::Weak<Shared>,
}

impl FrameSource for LazySource {
    type Error = SourceError;

    fn next_frame(&mut self, frame: &mut beckon_engine::frame::Frame) -> Result<bool, SourceError> {
        if self.showing.number() != self.chosen {
            // The sharer chose another monitor: capture it from a fresh source.
            self.open = None;
        }
        let source = match &mut self.open {
            Some(source) => source,
            None => {
                let (chosen, screen) = self.showing.current();
                self.chosen = chosen;
                let source = screen.source().map_err(|e| SourceError::Open(e.into()))?;
                // Only now does Beckon know the monitors the sharer picked in the portal's dialog.
                if matches!(source, Source::Portal(_))
                    && let Some(shared) = self.shared.upgrade()
                    && let Some(notice) = shared.showing.notice()
                {
                    shared.front.notice(notice);
                }
                self.open.insert(source)
            }
        };
        source.next_frame(frame)
    }

    fn damage(&self) -> Option<&[beckon_engine::frame::Rect]> {
        self.open.as_ref()?.damage()
    }

    fn pointer(&mut self) -> Option<beckon_engine::pipeline::Pointer> {
        self.open.as_mut()?.pointer()
    }
}

/// The helper's input, opened at the first input, which only comes under control.
struct LazySink {
    showing: Arc<Showing>,
    chosen: u64,
    escs: Option<InjectedEscs>,
    sway: Option<Arc<SwayEsc>>,
    clipboard: Option<Arc<SharedClipboard>>,
    open: Option<Sink>,
    failed: bool,
}

impl InputSink for LazySink {
    fn set_clipboard(&mut self, text: String) {
        if let Some(clipboard) = &self.clipboard {
            clipboard.set(text);
        }
    }

    fn apply(&mut self, event: InputEvent) {
        if self.showing.number() != self.chosen {
            // Another monitor: the helper's pointer moves over it.
            self.open = None;
            self.failed = false;
        }
        if self.open.is_none() && !self.failed {
            let (chosen, screen) = self.showing.current();
            self.chosen = chosen;
            match screen.sink(self.escs.as_ref(), self.sway.as_ref()) {
                Ok(sink) => self.open = Some(sink),
                Err(e) => {
                    self.failed = true;
                    eprintln!("{}", t!("share-input-failed", why = format!("{e:#}")));
                }
            }
        }
        if let Some(sink) = &mut self.open {
            sink.apply(event);
        }
    }
}

/// The admitted helper's session, which owns the sharer's attention.
#[derive(Debug)]
struct Active {
    connection: u64,
    id: String,
    decisions: mpsc::UnboundedSender<SharerDecision>,
    asking: Option<Question>,
    /// A question that waits for the one being asked to be answered.
    queued: Option<Question>,
    helper: String,
    /// Whether the helper has control.
    controlling: bool,
    /// Whether the sharer said Yes and the helper sees the screen.
    viewing: bool,
}

/// How long a session cut by the network may be resumed by its helper without a new Yes.
const GRACE: Duration = Duration::from_secs(120);

/// A session the network cut: its helper may come back within [`GRACE`] with the same
/// invitation and password, and find the sharer's Yes and control as the sharer left them.
#[derive(Debug, Clone)]
struct Suspended {
    id: String,
    helper: String,
    controlling: bool,
    until: Instant,
}

/// What every connection's task shares.
struct Shared {
    store: Mutex<Store>,
    /// The socket helpers reach this agent on, when it holds relayed addresses.
    relay_socket: std::sync::OnceLock<Arc<RelaySocket>>,
    active: Mutex<Option<Active>>,
    /// The session the network cut last, while it may be resumed.
    suspended: Mutex<Option<Suspended>>,
    screen: Screen,
    yes: bool,
    origin: Instant,
    front: FrontLink,
    /// The Esc watch's ledger of the helper's literal Escs (X11 only).
    escs: std::sync::OnceLock<InjectedEscs>,
    /// The monitor the helper sees.
    showing: Arc<Showing>,
    /// sway's Esc binding, held while the helper has control (sway only).
    sway: Option<Arc<SwayEsc>>,
    continue_every: Duration,
    continue_timeout: Duration,
    /// Connections that have not proved the password yet.
    gate: Arc<Gate>,
    /// Logins in progress on each invitation ([`Login`]).
    logins: Mutex<HashMap<String, u32>>,
    /// The sharer's clipboard (X11 only), shared while the helper has control.
    clipboard: Option<Arc<SharedClipboard>>,
}

/// A login in progress on an invitation, from the helper's hello to its proof or its end.
/// OPAQUE lets a helper test its guess against the agent's answer, so each login in progress
/// may be a guess: the others count against the invitation's attempts ([`Ticket::attempts`]),
/// or many connections at once would each have a guess the limit does not see.
struct Login {
    shared: Arc<Shared>,
    id: String,
    /// Other logins in progress on this invitation when this one began.
    others: u32,
}

impl Login {
    fn begin(shared: &Arc<Shared>, id: &str) -> Login {
        let mut logins = shared.logins.lock().unwrap_or_else(|e| e.into_inner());
        let count = logins.entry(id.to_string()).or_default();
        let others = *count;
        *count += 1;
        Login {
            shared: shared.clone(),
            id: id.to_string(),
            others,
        }
    }
}

impl Drop for Login {
    fn drop(&mut self) {
        let mut logins = self.shared.logins.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = logins.get_mut(&self.id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                logins.remove(&self.id);
            }
        }
    }
}

/// Connections that have not proved the password yet, in all and from each source (an IPv4
/// address, an IPv6 /64): past [`MAX_UNPROVEN`] new ones are refused, past a quarter of it they
/// must first prove their address (a QUIC Retry, so a flood from spoofed addresses costs
/// nothing), and one source holds at most [`MAX_UNPROVEN_PER_SOURCE`] (OpenSSH's MaxStartups).
/// Each has [`HANDSHAKE`] to prove the password (its LoginGraceTime). An unproven connection
/// costs the agent little (no screen, a few kilobytes of buffers), so the cap is generous: a
/// stranger holding many still leaves room for the helper.
#[derive(Debug, Default)]
struct Gate {
    unproven: Mutex<HashMap<IpAddr, usize>>,
}

/// Most connections proving the password at once.
const MAX_UNPROVEN: usize = 256;
/// Most connections proving the password at once from one address.
const MAX_UNPROVEN_PER_SOURCE: usize = 4;
/// Time a connection has from its first packet to the password proved.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// What the gate says of a new connection.
#[derive(Debug, PartialEq, Eq)]
enum Admit {
    Yes,
    ProveAddress,
    No(&'static str),
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.unproven.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a connection from `source` (its address `validated` or not) may start.
    fn admit(&self, source: IpAddr, validated: bool) -> Admit {
        let source = source_of(source);
        let unproven = self.lock();
        let total: usize = unproven.values().sum();
        if total >= MAX_UNPROVEN {
            Admit::No("too many connections are proving a password")
        } else if unproven.get(&source).copied().unwrap_or(0) >= MAX_UNPROVEN_PER_SOURCE {
            Admit::No("too many connections from one address are proving a password")
        } else if total >= MAX_UNPROVEN / 4 && !validated {
            Admit::ProveAddress
        } else {
            Admit::Yes
        }
    }

    /// Counts a connection from `source` until the returned pass is dropped.
    fn enter(self: &Arc<Self>, source: IpAddr) -> Unproven {
        let source = source_of(source);
        *self.lock().entry(source).or_default() += 1;
        Unproven {
            gate: self.clone(),
            source,
        }
    }
}

/// The source a connection is counted under: its IPv4 address, or the /64 of its IPv6 one (what
/// one subscriber gets).
fn source_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

/// A connection counted by the [`Gate`] until it proves the password or ends.
#[derive(Debug)]
struct Unproven {
    gate: Arc<Gate>,
    source: IpAddr,
}

impl Drop for Unproven {
    fn drop(&mut self) {
        let mut unproven = self.gate.lock();
        if let Some(n) = unproven.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                unproven.remove(&self.source);
            }
        }
    }
}

impl Shared {
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn active(&self) -> MutexGuard<'_, Option<Active>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes an event to the audit log; a failed write is reported, not dropped.
    fn audit(&self, id: Option<&str>, event: &str, detail: &str) {
        if let Err(e) = self.store().log(id, event, detail) {
            tracing::error!(error = %e, event, "the audit log could not be written");
            eprintln!(
                "{}",
                t!("share-audit-failed", event = event, why = format!("{e:#}"))
            );
        }
    }

    /// The ticket for `id`. The invitation is in use when a helper already authenticated; the
    /// sharer's attention is claimed only after the key exchange ([`Shared::claim`]), so a
    /// stranger who cannot prove the password holds nothing.
    fn ticket(&self, id: &str, peer: SocketAddr) -> Option<Ticket> {
        let record = self.store().get_exact(id).ok()??;
        self.audit(Some(id), "helper connected", &peer.to_string());
        let session_now = self.origin.elapsed().as_micros() as u64;
        let left = record.invitation.expires.saturating_sub(now());
        let mut expires_at_us = session_now + left * 1_000_000;
        let (busy, this_one) = {
            let active = self.active();
            (
                active.is_some(),
                active.as_ref().is_some_and(|a| a.id == id),
            )
        };
        let state = match record.state {
            // Its helper may be coming back after the network cut the session: a login may
            // resume it (another helper still finds the sharer busy once proved).
            State::Used if !busy && self.resumable(id) => TicketState::Open,
            // Its helper is in session: a second one is told so, not that it was used.
            _ if this_one => TicketState::InUse,
            State::Open if busy => TicketState::InUse,
            State::Open => TicketState::Open,
            State::Expired => {
                expires_at_us = 0;
                TicketState::Open
            }
            State::Used => TicketState::Used,
            State::Locked => TicketState::Locked,
            State::Deleted => TicketState::Deleted,
        };
        let credential = self.store().credential(id).ok()?;
        Some(Ticket {
            id: id.to_string(),
            digest: record.invitation.digest(),
            sharer: record.invitation.from.clone(),
            credential,
            expires_at_us,
            attempts: record.attempts,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            state,
        })
    }

    /// Claims the sharer's attention for `connection`, whose helper just proved the password;
    /// `false` when another helper holds it.
    fn claim(
        &self,
        connection: u64,
        id: &str,
        helper: &str,
        decisions: &mpsc::UnboundedSender<SharerDecision>,
    ) -> bool {
        let mut active = self.active();
        if active.is_some() {
            return false;
        }
        *active = Some(Active {
            connection,
            id: id.to_string(),
            decisions: decisions.clone(),
            asking: None,
            queued: None,
            controlling: false,
            viewing: false,
            helper: helper.to_string(),
        });
        true
    }

    /// Whether `helper`, who just proved the password of invitation `id`, comes back to a
    /// session the network cut: `Some(whether they had control)`. Another name is a new helper,
    /// whom the sharer is asked about.
    fn resume(&self, id: &str, helper: &str) -> Option<bool> {
        let mut suspended = self.suspended.lock().unwrap_or_else(|e| e.into_inner());
        let s = suspended.take()?;
        if s.id == id && s.helper == helper && Instant::now() < s.until {
            return Some(s.controlling);
        }
        *suspended = Some(s).filter(|s| Instant::now() < s.until);
        None
    }

    /// Keeps the session of `connection` for its helper to resume, when it was viewing.
    fn suspend(&self, connection: u64) {
        let active = self.active();
        let Some(a) = active
            .as_ref()
            .filter(|a| a.connection == connection && a.viewing)
        else {
            return;
        };
        *self.suspended.lock().unwrap_or_else(|e| e.into_inner()) = Some(Suspended {
            id: a.id.clone(),
            helper: a.helper.clone(),
            controlling: a.controlling,
            until: Instant::now() + GRACE,
        });
    }

    /// The sharer ended control (Esc, `stop-control`): a session the network cut comes back
    /// without it.
    fn sharer_pressed_esc(&self) {
        if let Some(suspended) = self
            .suspended
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            suspended.controlling = false;
        }
    }

    /// Whether invitation `id` has a session its helper may resume.
    fn resumable(&self, id: &str) -> bool {
        self.suspended
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|s| s.id == id && Instant::now() < s.until)
    }

    /// Frees the sharer's attention if `connection` holds it.
    fn release(&self, connection: u64) {
        let mut active = self.active();
        if active.as_ref().is_some_and(|a| a.connection == connection) {
            if active.as_ref().is_some_and(|a| a.asking.is_some()) {
                self.front.notice(Notice::Settled);
            }
            *active = None;
            self.front.notice(Notice::Status(Status::Waiting));
        }
    }

    /// Puts `question` to the sharer for `connection`, or queues it while another is pending.
    fn ask(&self, connection: u64, question: Question) {
        let mut active = self.active();
        if let Some(active) = active.as_mut().filter(|a| a.connection == connection) {
            if active.asking.is_some() {
                active.queued = Some(question);
            } else {
                self.put(active, question);
            }
        }
    }

    fn put(&self, active: &mut Active, question: Question) {
        active.asking = Some(question);
        eprintln!("{} {}", question.text(&active.helper), t!("share-yes-no"));
        self.front
            .notice(Notice::Ask(question, active.helper.clone()));
    }

    /// Withdraws `question` if it is still pending or queued for `connection`.
    fn withdraw(&self, connection: u64, question: Question) {
        let mut active = self.active();
        let Some(active) = active.as_mut().filter(|a| a.connection == connection) else {
            return;
        };
        if active.queued == Some(question) {
            active.queued = None;
        }
        if active.asking == Some(question) {
            self.settle(active);
        }
    }

    /// The pending question is answered or withdrawn: the queued one, if any, is asked.
    fn settle(&self, active: &mut Active) {
        active.asking = None;
        self.front.notice(Notice::Settled);
        if let Some(next) = active.queued.take() {
            self.put(active, next);
        }
    }
}

/// Which front-end the sharer uses.
enum Front {
    Console,
    Window,
}

/// Serves until interrupted, or until `--sessions` connections have ended; with the sharer's
/// window unless `--console` or there is no display to show it on.
pub fn share(
    store: Store,
    args: &ShareArgs,
    relays: Option<(Vec<SocketAddr>, Secret<String>)>,
) -> Result<()> {
    let screen = match &args.clip {
        Some(path) => Screen::Clip(path.clone()),
        None if args.wayland => Screen::Wayland {
            monitor: args.monitor.clone(),
        },
        None if args.portal => Screen::portal(args.monitor.clone(), store.dir()),
        None => Screen::X11 {
            display: args.display.clone(),
            monitor: args.monitor.clone(),
        },
    };
    if let Screen::X11 {
        display: Some(display),
        ..
    } = &screen
    {
        // The window and the clipboard open the display DISPLAY names.
        // SAFETY: no thread has started yet; nothing reads the environment concurrently.
        unsafe { std::env::set_var("DISPLAY", display) };
    }
    // Open the screen once, up front, so a bad clip or display is reported before anyone
    // connects; each session opens its own only once the sharer said Yes. The portal is only
    // asked whether it is there: opening it asks the sharer, which waits for a helper's request.
    if let Screen::Portal { .. } = &screen {
        if portal::offers(None)?.screencast == 0 {
            anyhow::bail!("{}", t!("portal-no-screencast"));
        }
    } else {
        screen.source()?;
        screen.sink(None, None)?;
    }
    let window_display = match &screen {
        Screen::X11 {
            display: Some(display),
            ..
        } => Some(display.clone()),
        _ => std::env::var("DISPLAY").ok().filter(|d| !d.is_empty()),
    };
    let front = match (&window_display, args.console) {
        (Some(_), false) => Front::Window,
        (None, false) => {
            eprintln!("{}", t!("share-no-display"));
            Front::Console
        }
        (_, true) => Front::Console,
    };
    let (replies_tx, replies) = mpsc::unbounded_channel::<Reply>();
    let serving = Serving {
        store,
        screen,
        relays,
        yes: args.yes,
        listen: args.listen,
        sessions: args.sessions,
        continue_every: Duration::from_secs(args.continue_every.max(1)),
        continue_timeout: Duration::from_secs(args.continue_timeout.max(1)),
        share_clipboard: !args.no_clipboard,
    };
    match front {
        Front::Console => {
            std::thread::spawn(move || {
                for line in std::io::stdin().lock().lines().map_while(Result::ok) {
                    if replies_tx.send(Reply::Line(line)).is_err() {
                        break;
                    }
                }
            });
            let (link, _) = FrontLink::new(|| {});
            serving.run(link, replies)
        }
        Front::Window => {
            beckon_agent::window::run(window_display.as_deref(), replies_tx, move |link| {
                std::thread::spawn(move || serving.run(link, replies))
            })
        }
    }
}

/// What `share` serves with.
struct Serving {
    store: Store,
    screen: Screen,
    /// TURN relays to hold an address on, and their secret.
    relays: Option<(Vec<SocketAddr>, Secret<String>)>,
    yes: bool,
    listen: SocketAddr,
    sessions: Option<u32>,
    continue_every: Duration,
    continue_timeout: Duration,
    share_clipboard: bool,
}

/// Holds an address on each relay `socket` can reach, lets the relay's other clients (the
/// helpers) send to it, and records the addresses for the invitations made meanwhile.
///
/// # Errors
/// When no relay answers, or the store cannot be written.
async fn relay_through(
    shared: &Shared,
    socket: &RelaySocket,
    servers: &[SocketAddr],
    secret: &Secret<String>,
) -> Result<()> {
    // The agent's own login lasts a day; its allocation is refreshed while it serves.
    let login = TurnLogin::from_secret(secret.expose().as_bytes(), now() + 86_400, "beckon-agent");
    let mut held = Vec::new();
    let mut last = None;
    for &server in servers {
        let wait = Duration::from_secs(5);
        let relayed = match socket.allocate(server, &login, wait).await {
            Ok(relayed) => relayed,
            Err(e) => {
                eprintln!("{e}");
                last = Some(e);
                continue;
            }
        };
        // Helpers send from their own relayed address on the same relay.
        if let Err(e) = socket.permit(server, relayed.ip(), wait).await {
            eprintln!("{e}");
            last = Some(e);
            continue;
        }
        eprintln!(
            "{}",
            t!(
                "share-relayed",
                server = server.to_string(),
                address = relayed.to_string()
            )
        );
        held.push((server, relayed));
    }
    if held.is_empty()
        && let Some(e) = last
    {
        return Err(e.into());
    }
    shared.store().set_relayed(&held)?;
    Ok(())
}

impl Serving {
    /// Serves, telling the front-end through `front` and hearing it on `replies`.
    fn run(self, front: FrontLink, mut replies: mpsc::UnboundedReceiver<Reply>) -> Result<()> {
        let identity = self.store.identity()?;
        let open = self
            .store
            .list()?
            .iter()
            .filter(|r| r.state == State::Open)
            .count();
        if matches!(self.screen, Screen::X11 { .. })
            && crate::doctor::wayland_session(|name| std::env::var(name).ok())
        {
            let said = t!("share-wayland");
            eprintln!("{said}");
            front.notice(Notice::Info(said));
        }
        let clipboard = match &self.screen {
            Screen::X11 { .. } | Screen::Wayland { .. } | Screen::Portal { .. } => {
                match SharedClipboard::start(self.share_clipboard) {
                    Ok(clipboard) => {
                        front.notice(Notice::Clipboard(self.share_clipboard));
                        Some(Arc::new(clipboard))
                    }
                    Err(e) => {
                        eprintln!("{}", t!("share-no-clipboard", why = format!("{e:#}")));
                        None
                    }
                }
            }
            Screen::Clip(_) => None,
        };
        let sway = match &self.screen {
            Screen::Wayland { .. } => SwayEsc::from_env().map(Arc::new),
            _ => None,
        };
        // On GNOME and KDE, the desktop's own shortcut, where its portal offers one.
        let shortcut = matches!(self.screen, Screen::Portal { .. })
            && portal::offers(None).is_ok_and(|o| o.global_shortcuts > 0);
        if (matches!(self.screen, Screen::Wayland { .. }) && sway.is_none())
            || (matches!(self.screen, Screen::Portal { .. }) && !shortcut)
        {
            let said = t!("share-wayland-no-esc");
            eprintln!("{said}");
            front.notice(Notice::Info(said));
        }
        let showing = Arc::new(Showing::new(self.screen.clone()));
        if let Some(notice) = showing.notice() {
            front.notice(notice);
        }
        let relays = self.relays;
        let shared = Arc::new(Shared {
            store: Mutex::new(self.store),
            relay_socket: std::sync::OnceLock::new(),
            suspended: Mutex::default(),
            active: Mutex::new(None),
            screen: self.screen,
            yes: self.yes,
            origin: Instant::now(),
            front,
            escs: std::sync::OnceLock::new(),
            showing,
            sway,
            continue_every: self.continue_every,
            continue_timeout: self.continue_timeout,
            gate: Arc::default(),
            logins: Mutex::default(),
            clipboard,
        });
        if let Screen::X11 { display, .. } = &shared.screen {
            // The sharer's Esc on their own keyboard ends control at once, whatever the helper
            // does.
            let mut watch = EscWatch::connect(display.as_deref())?;
            let _ = shared.escs.set(watch.injected());
            follow_escs(&shared, move || watch.wait());
        }
        if let Some(sway) = &shared.sway {
            // The same on sway, through its Esc binding while the helper has control.
            let mut watch = sway.watch()?;
            follow_escs(&shared, move || watch.wait());
        }
        if shortcut {
            // Bound on its own thread: the desktop may ask the sharer first.
            let mut bound: Option<PortalShortcut> = None;
            follow_escs(&shared, move || match &mut bound {
                Some(shortcut) => shortcut.wait(),
                None => bound.insert(PortalShortcut::bind(None)?).wait(),
            });
        }
        // `beckon-agent stop-control`, for a key binding where Esc cannot be watched.
        let stopper = {
            let shared = Arc::downgrade(&shared);
            beckon_agent::stop::StopListener::start(move || {
                let Some(shared) = shared.upgrade() else {
                    return false;
                };
                shared.sharer_pressed_esc();
                let active = shared.active();
                match active.as_ref() {
                    Some(active) if active.controlling => {
                        active.decisions.send(SharerDecision::Esc).is_ok()
                    }
                    _ => false,
                }
            })
        };
        if let Err(e) = &stopper {
            tracing::warn!("`beckon-agent stop-control` will not reach this agent: {e:#}");
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let result = runtime.block_on(async {
            let (endpoint, _socket) = match &relays {
                None => (agent_endpoint(self.listen, &identity)?, None),
                Some((servers, secret)) => {
                    let socket = RelaySocket::bind(self.listen)
                        .map_err(|source| NetError::Bind { addr: self.listen, source })?;
                    // The endpoint reads the socket, the relays' answers too: it comes first.
                    let endpoint = agent_endpoint_on(socket.clone(), &identity)?;
                    let _ = shared.relay_socket.set(socket.clone());
                    relay_through(&shared, &socket, servers, secret).await?;
                    (endpoint, Some(socket))
                }
            };
            let address = endpoint.local_addr()?.to_string();
            eprintln!(
                "{}",
                t!(
                    "share-waiting",
                    address = address.as_str(),
                    fingerprint = identity.fingerprint().to_string(),
                    open = open
                )
            );
            shared.front.notice(Notice::Listening { address, open });
            shared.front.notice(Notice::Status(Status::Waiting));
            let (ended_tx, mut ended) = mpsc::unbounded_channel::<()>();
            let (mut connections, mut finished) = (0u64, 0u32);
            loop {
                tokio::select! {
                    incoming = endpoint.accept() => {
                        let Some(incoming) = incoming else { break };
                        let Some(unproven) = admit(&shared, incoming) else { continue };
                        connections += 1;
                        let (shared, ended_tx, number) = (shared.clone(), ended_tx.clone(), connections);
                        tokio::spawn(async move {
                            let connecting = tokio::time::timeout(HANDSHAKE, unproven.incoming);
                            let connection = match connecting.await {
                                Ok(Ok(connection)) => connection,
                                Ok(Err(e)) => {
                                    eprintln!("{}", t!("share-attempt-failed", why = e.to_string()));
                                    return;
                                }
                                Err(_) => return,
                            };
                            let pass = unproven.pass;
                            let counts = match serve_connection(connection, &shared, number, pass).await {
                                Ok(tried) => tried,
                                Err(e) => {
                                    eprintln!("{}", t!("share-connection-failed", why = format!("{e:#}")));
                                    true
                                }
                            };
                            shared.release(number);
                            if counts {
                                let _ = ended_tx.send(());
                            }
                        });
                    }
                    Some(reply) = replies.recv() => {
                        if reply == Reply::Quit {
                            if let Some(active) = shared.active().as_ref() {
                                let _ = active.decisions.send(SharerDecision::Disconnect);
                            }
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            break;
                        }
                        answer(&shared, reply);
                    }
                    Some(()) = ended.recv() => {
                        finished += 1;
                        if self.sessions.is_some_and(|n| finished >= n) {
                            break;
                        }
                    }
                }
            }
            endpoint.close(0u32.into(), b"bye");
            Ok(())
        });
        shared.front.notice(Notice::Stopped);
        result
    }
}

/// A connection the gate let in: its handshake, bounded in time, and its place among the
/// connections proving a password.
struct Admitted {
    incoming: beckon_engine::net::Incoming,
    pass: Unproven,
}

/// Lets a new connection start, asks it to prove its address first, or refuses it, as the gate
/// says.
fn admit(shared: &Shared, incoming: beckon_engine::net::Incoming) -> Option<Admitted> {
    let source = incoming.remote_address().ip();
    match shared
        .gate
        .admit(source, incoming.remote_address_validated())
    {
        Admit::No(why) => {
            tracing::warn!(%source, why, "a connection was refused");
            incoming.refuse();
            None
        }
        Admit::ProveAddress => {
            // Only an unvalidated address is asked: that cannot fail.
            let _ = incoming.retry();
            None
        }
        Admit::Yes => Some(Admitted {
            pass: shared.gate.enter(source),
            incoming,
        }),
    }
}

/// Acts on what the sharer said.
fn answer(shared: &Shared, reply: Reply) {
    let reply = match reply {
        Reply::Line(line) => match line.trim().split_once(' ') {
            Some((word, wanted)) if word.eq_ignore_ascii_case("monitor") => {
                let wanted = wanted.trim();
                let all = ["all", "todos"]
                    .iter()
                    .any(|w| wanted.eq_ignore_ascii_case(w));
                Reply::Show((!all).then(|| wanted.to_string()))
            }
            _ => Reply::Line(line),
        },
        other => other,
    };
    if let Reply::Show(wanted) = &reply {
        show(shared, wanted.as_deref());
        return;
    }
    // With or without a helper connected.
    if let (Reply::ShareClipboard(on), Some(clipboard)) = (&reply, &shared.clipboard) {
        clipboard.set_enabled(*on);
        let said = if *on { "shared" } else { "kept private" };
        shared.audit(None, "copy and paste", said);
        return;
    }
    let mut active = shared.active();
    let Some(active) = active.as_mut() else {
        if matches!(&reply, Reply::Line(l) if !l.trim().is_empty())
            || matches!(reply, Reply::Chat(_))
        {
            eprintln!("{}", t!("share-nobody"));
        }
        return;
    };
    let reply = match reply {
        Reply::Line(line) => {
            let word = line.trim().to_lowercase();
            match (active.asking, word.as_str()) {
                (Some(_), "y" | "yes" | "s" | "si" | "sí") => Reply::Answer(true),
                (Some(_), "n" | "no" | "") => Reply::Answer(false),
                (_, "q") => Reply::Disconnect,
                (_, "esc") => Reply::StopControl,
                (_, "") => return,
                _ => Reply::Chat(line),
            }
        }
        other => other,
    };
    let decision = match reply {
        Reply::Answer(yes) => {
            let Some(question) = active.asking else {
                return;
            };
            shared.settle(active);
            let id = Some(active.id.as_str());
            match (question, yes) {
                (Question::Connection, true) => shared.audit(id, "consent given", ""),
                (Question::Connection, false) => shared.audit(id, "consent refused", ""),
                (Question::Control, false) => shared.audit(id, "control refused", ""),
                (Question::Continue, true) => shared.audit(id, "sharing continued", ""),
                (Question::Continue, false) => {
                    shared.audit(id, "sharing stopped", "the sharer said No")
                }
                (Question::Control, true) => {}
            }
            match question {
                Question::Connection => SharerDecision::AllowConnection(yes),
                Question::Control => SharerDecision::AllowControl(yes),
                Question::Continue => SharerDecision::ContinueSharing(yes),
            }
        }
        Reply::Chat(text) => {
            shared.front.notice(Notice::Chat {
                from: t!("share-you"),
                text: text.clone(),
            });
            SharerDecision::Chat(text)
        }
        Reply::StopControl => SharerDecision::Esc,
        Reply::ShareClipboard(_) | Reply::Line(_) | Reply::Show(_) => return,
        Reply::Disconnect | Reply::Quit => SharerDecision::Disconnect,
    };
    // The session may have ended meanwhile: then nothing waits for the decision.
    let _ = active.decisions.send(decision);
}

/// Ends the helper's control each time `pressed` returns (the sharer pressed Esc), on a thread
/// of its own. Serving may end before the sharer presses Esc again (the window stops it when no
/// invitation is open): then the next Esc ends the thread.
fn follow_escs(shared: &Arc<Shared>, mut pressed: impl FnMut() -> Result<()> + Send + 'static) {
    let shared = Arc::downgrade(shared);
    std::thread::spawn(move || {
        while pressed().is_ok() {
            let Some(shared) = shared.upgrade() else {
                break;
            };
            if let Some(active) = shared.active().as_ref() {
                let _ = active.decisions.send(SharerDecision::Esc);
            }
            shared.sharer_pressed_esc();
        }
    });
}

/// Shows the helper the monitor `wanted` (all of them: `None`), and tells them.
fn show(shared: &Shared, wanted: Option<&str>) {
    let monitor = match shared.showing.choose(wanted) {
        Ok(monitor) => monitor,
        Err(e) => {
            let said = format!("{e:#}");
            eprintln!("{said}");
            shared.front.notice(Notice::Info(said));
            return;
        }
    };
    let described = monitor.as_ref().map(ToString::to_string);
    let said = match &described {
        Some(monitor) => t!("share-showing-one", monitor = monitor.as_str()),
        None => t!("share-showing-all"),
    };
    eprintln!("{said}");
    shared.audit(
        None,
        "monitor chosen",
        described.as_deref().unwrap_or("all"),
    );
    if let Some(notice) = shared.showing.notice() {
        shared.front.notice(notice);
    }
    if let Some(active) = shared.active().as_ref() {
        let _ = active.decisions.send(SharerDecision::Showing(described));
    }
}

/// One helper's connection, from handshake to goodbye (or refusal); `false` when it ended
/// without trying a password.
async fn serve_connection(
    connection: beckon_engine::net::Connection,
    shared: &Arc<Shared>,
    number: u64,
    pass: Unproven,
) -> Result<bool> {
    let peer = connection.remote_address();
    let punch_key = beckon_engine::net::punch_key(&connection).ok();
    // Nothing of the desktop is opened here: the session asks for the screen after the Yes.
    let chosen = shared.showing.current().0;
    let source = LazySource {
        showing: shared.showing.clone(),
        chosen,
        open: None,
        shared: Arc::downgrade(shared),
    };
    let sink = LazySink {
        showing: shared.showing.clone(),
        chosen,
        escs: shared.escs.get().cloned(),
        sway: shared.sway.clone(),
        clipboard: shared.clipboard.clone(),
        open: None,
        failed: false,
    };
    let (decisions_tx, decisions) = mpsc::unbounded_channel();
    let (events, mut events_rx) = mpsc::unbounded_channel();
    // The invitation the helper named, when the store knows it.
    let named = Arc::new(Mutex::new(None::<String>));
    // This connection's login, from its hello to its proof or its end.
    let login = Arc::new(Mutex::new(None::<Login>));
    let tickets = {
        let (shared, named, login) = (shared.clone(), named.clone(), login.clone());
        move |id: &str| {
            // Counted in before the store is read: a login ending meanwhile is then counted
            // twice for a moment, never missed.
            let mine = Login::begin(&shared, id);
            let mut ticket = shared.ticket(id, peer)?;
            ticket.attempts += mine.others;
            *login.lock().unwrap_or_else(|e| e.into_inner()) = Some(mine);
            *named.lock().unwrap_or_else(|e| e.into_inner()) = Some(id.to_string());
            Some(ticket)
        }
    };
    let mut options = AgentOptions::new(shared.screen.fps()?, shared.origin);
    options.config.timers.handshake_us = HANDSHAKE.as_micros() as u64;
    options.config.timers.continue_every_us = shared.continue_every.as_micros() as u64;
    options.config.timers.continue_timeout_us = shared.continue_timeout.as_micros() as u64;
    let hooks = AgentHooks { decisions, events };
    let session = tokio::spawn(serve(connection, tickets, source, sink, hooks, options));
    let mut chatted = false;
    let mut helper = String::from("The helper");
    // Counted among the connections proving a password until this one has.
    let mut pass = Some(pass);
    let mut abandoned = false;
    // Whether the session told how it ended (a connection that never said hello has none).
    let mut closed = false;
    // Whether this helper came back to a session the network cut: whether they had control.
    let mut resumed = None::<bool>;
    // Whether the network cut this session, so that its helper may resume it.
    let mut suspended = false;
    while let Some(event) = events_rx.recv().await {
        let id = named.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let log = |event: &str, detail: &str| match &id {
            Some(id) => shared.audit(Some(id), event, detail),
            // A connection that never named an invitation: where it came from.
            None => shared.audit(None, event, &format!("{peer}: {detail}")),
        };
        let status = |status: Status| shared.front.notice(Notice::Status(status));
        match event {
            AgentEvent::HelperWantsToConnect { helper: name } => {
                helper = name;
                pass = None;
                login.lock().unwrap_or_else(|e| e.into_inner()).take();
                resumed = id.as_deref().and_then(|id| shared.resume(id, &helper));
                let claimed = id
                    .as_deref()
                    .is_some_and(|id| shared.claim(number, id, &helper, &decisions_tx));
                if !claimed {
                    // Both proved the password: the first to do so has the sharer.
                    log("refused", "another helper is connected");
                    let _ = decisions_tx.send(SharerDecision::Busy);
                    continue;
                }
                log("consent asked", &helper);
                // The helper proved the password: now, and not before, look for a direct path
                // if they came through a relay.
                if let (Some(socket), Some(key)) = (shared.relay_socket.get(), punch_key) {
                    socket.punch(peer, key, Duration::from_secs(15));
                }
                status(Status::Connecting(helper.clone()));
                if resumed.is_some() {
                    eprintln!("{}", t!("share-resumed", helper = helper.as_str()));
                    log("resumed", &helper);
                    let _ = decisions_tx.send(SharerDecision::AllowConnection(true));
                } else if shared.yes {
                    eprintln!("{}", t!("share-allowed-by-yes", helper = helper.as_str()));
                    log("consent given", "--yes");
                    // The session may have ended meanwhile: then nothing waits for the Yes.
                    let _ = decisions_tx.send(SharerDecision::AllowConnection(true));
                } else {
                    shared.ask(number, Question::Connection);
                }
            }
            AgentEvent::AttemptFailed { .. } => {
                if let Some(id) = &id {
                    // The store counts: other connections' attempts are in it too.
                    let (attempts, locked) = shared
                        .store()
                        .count_wrong_password(id, DEFAULT_MAX_ATTEMPTS)?;
                    if locked {
                        let said = t!("share-locked", id = id.as_str(), attempts = attempts);
                        eprintln!("{said}");
                        shared.front.notice(Notice::Info(said));
                    }
                }
            }
            AgentEvent::ViewingStarted => {
                if let Some(active) = shared.active().as_mut().filter(|a| a.connection == number) {
                    active.viewing = true;
                }
                if let Some(id) = &id {
                    shared
                        .store()
                        .set_state(id, State::Used, "viewing started")?;
                }
                eprintln!("{}", t!("share-viewing"));
                status(Status::Viewing(helper.clone()));
                // A helper shown one monitor of several is told which.
                if let Some(monitor) = shared.showing.described() {
                    let _ = decisions_tx.send(SharerDecision::Showing(Some(monitor)));
                }
            }
            AgentEvent::HelperWantsControl { helper } => {
                log("control asked", &helper);
                if resumed.take() == Some(true) {
                    // They had control when the network cut the session: the sharer's choice
                    // stands (their Esc still ends it at once).
                    log("control granted", "resumed");
                    let _ = decisions_tx.send(SharerDecision::AllowControl(true));
                } else {
                    shared.ask(number, Question::Control);
                }
            }
            AgentEvent::ControlStarted => {
                log("control granted", "");
                if let Some(active) = shared.active().as_mut() {
                    active.controlling = true;
                }
                if let Some(sway) = &shared.sway
                    && let Err(e) = sway.grab()
                {
                    eprintln!("{}", t!("share-wayland-esc-failed", why = format!("{e:#}")));
                }
                if let Some(clipboard) = &shared.clipboard {
                    let decisions = decisions_tx.clone();
                    clipboard.watch(move |text| {
                        let _ = decisions.send(SharerDecision::Clipboard(text));
                    });
                }
                status(Status::Controlling(helper.clone()));
            }
            AgentEvent::ControlEnded { by } => {
                if let Some(active) = shared.active().as_mut() {
                    active.controlling = false;
                }
                if let Some(sway) = &shared.sway {
                    let _ = sway.release();
                }
                if let Some(clipboard) = &shared.clipboard {
                    clipboard.unwatch();
                }
                log("control ended", &format!("by the {by:?}").to_lowercase());
                // A request the helper withdrew no longer needs an answer.
                shared.withdraw(number, Question::Control);
                eprintln!("{}", t!("share-control-ended"));
                status(Status::Viewing(helper.clone()));
            }
            AgentEvent::Chat { text } => {
                if !std::mem::replace(&mut chatted, true) {
                    log("chat started", "");
                }
                eprintln!("{}", t!("share-chat", text = text.as_str()));
                shared.front.notice(Notice::Chat {
                    from: helper.clone(),
                    text,
                });
            }
            AgentEvent::AskContinue { .. } => shared.ask(number, Question::Continue),
            AgentEvent::ContinueUnanswered => {
                shared.withdraw(number, Question::Continue);
                eprintln!(
                    "{}",
                    t!("share-continue-unanswered", helper = helper.as_str())
                );
                log("sharing stopped", "Continue sharing? unanswered");
            }
            AgentEvent::Closed(reason) => {
                if let Some(sway) = &shared.sway {
                    let _ = sway.release();
                }
                if let Some(clipboard) = &shared.clipboard {
                    clipboard.unwatch();
                }
                closed = true;
                if reason == CloseReason::TimedOut {
                    // The network, not a person, ended it: its helper may come back.
                    shared.suspend(number);
                    suspended = true;
                }
                if reason == CloseReason::Refused(Refusal::InUse) {
                    // Perhaps its helper coming back before the old connection was found gone:
                    // it tries again, and a busy sharer is no session.
                    suspended = true;
                }
                let said = if let CloseReason::Refused(_) = reason {
                    log("refused", &reason.to_string());
                    t!("share-turned-away", reason = reason.to_string())
                } else if pass.is_some() {
                    // It never proved the password.
                    abandoned = true;
                    log("abandoned", &reason.to_string());
                    t!("share-abandoned", reason = reason.to_string())
                } else {
                    log("disconnected", &reason.to_string());
                    t!("share-over", reason = reason.to_string())
                };
                eprintln!("{said}");
                shared.front.notice(Notice::Info(said));
            }
            other => tracing::debug!(event = ?other, "an event this front-end does not show"),
        }
    }
    let ended = session.await?;
    // Its wrong password, if any, is in the store now.
    login.lock().unwrap_or_else(|e| e.into_inner()).take();
    if !closed {
        // It ended before its hello made a session: it never tried a password.
        let reason = match &ended {
            Ok(reason) => reason.to_string(),
            Err(e) => e.to_string(),
        };
        let id = named.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let detail = match &id {
            Some(_) => reason,
            None => format!("{peer}: {reason}"),
        };
        shared.audit(id.as_deref(), "abandoned", &detail);
        return Ok(false);
    }
    ended?;
    // A session its helper may resume is not over yet.
    Ok(!abandoned && !suspended)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(last: u8) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, last))
    }

    #[test]
    fn the_gate_holds_one_source_to_its_share_and_asks_for_proof_under_load() {
        let gate = Arc::new(Gate::default());
        let mut passes = Vec::new();
        for _ in 0..MAX_UNPROVEN_PER_SOURCE {
            assert_eq!(gate.admit(v4(1), false), Admit::Yes);
            passes.push(gate.enter(v4(1)));
        }
        assert!(matches!(gate.admit(v4(1), true), Admit::No(_)));
        // Another address, and the first once one of its connections ended.
        assert_eq!(gate.admit(v4(2), false), Admit::Yes);
        passes.pop();
        assert_eq!(gate.admit(v4(1), false), Admit::Yes);

        // Past a quarter of the cap, an address must prove itself; at the cap, nobody enters.
        let mut last = 10u8;
        while passes.len() < MAX_UNPROVEN / 4 {
            for _ in 0..MAX_UNPROVEN_PER_SOURCE {
                passes.push(gate.enter(v4(last)));
            }
            last += 1;
        }
        assert_eq!(gate.admit(v4(250), false), Admit::ProveAddress);
        assert_eq!(gate.admit(v4(250), true), Admit::Yes);
        while passes.len() < MAX_UNPROVEN {
            passes.push(gate.enter(v4(last)));
            last = last.wrapping_add(1);
        }
        assert!(matches!(gate.admit(v4(251), true), Admit::No(_)));
        passes.clear();
        assert!(gate.lock().is_empty(), "every pass gives its place back");
    }

    #[test]
    fn an_ipv6_source_is_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(source_of(a), source_of(b));
        assert_ne!(source_of(a), source_of(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(source_of(mapped), v4(7));
    }
}
