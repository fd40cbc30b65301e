//! The sharer's desktop through the xdg-desktop-portal (GNOME, KDE Plasma, and wlroots desktops
//! with xdg-desktop-portal-wlr): the ScreenCast portal for the pictures ([`PortalSource`], read
//! from PipeWire by [`super::pipewire`]), the RemoteDesktop portal for the helper's input
//! ([`PortalInput`]), and the GlobalShortcuts portal for the sharer's Esc ([`PortalShortcut`]).
//!
//! The desktop asks the sharer itself, in its own dialog, what to share (and whether a helper may
//! type); Beckon asks it to remember the answer (`persist_mode` 2) and keeps the restore token
//! it hands back, so the sharer approves once, not at every session. The pointer is painted into
//! the pictures (`cursor_mode` embedded), as on wlroots.
//!
//! What runs here: ScreenCast through xdg-desktop-portal-wlr and PipeWire under sway, in the
//! tests. What cannot: the RemoteDesktop portal (GNOME's and KDE's back-ends offer it,
//! xdg-desktop-portal-wlr does not) and the GlobalShortcuts portal (xdg-desktop-portal 1.17 and
//! later; Debian 12 has 1.16). Both are written against the portal specification; the README
//! says so.

use std::collections::HashMap;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use beckon_engine::InputEvent;
use beckon_engine::frame::{Frame, Rect};
use beckon_engine::net::drive::InputSink;
use beckon_engine::pipeline::{FrameSource, Pointer};
use dbus::Path;
use dbus::arg::{AppendAll, PropMap, RefArg, Variant};
use dbus::blocking::Connection;
use dbus::message::MatchRule;

use super::Monitor;
use super::pipewire::{PipeWireError, Streams};

const DEST: &str = "org.freedesktop.portal.Desktop";
const PATH: &str = "/org/freedesktop/portal/desktop";
const SCREENCAST: &str = "org.freedesktop.portal.ScreenCast";
const REMOTE_DESKTOP: &str = "org.freedesktop.portal.RemoteDesktop";
const GLOBAL_SHORTCUTS: &str = "org.freedesktop.portal.GlobalShortcuts";
/// A method call's reply (not the sharer's answer, which may take longer).
const CALL: Duration = Duration::from_secs(10);
/// A first question to the portal, which the bus may have to start.
const STARTING: Duration = Duration::from_secs(30);
/// The errors that say the portal, or one of its interfaces, is not there.
const ABSENT: [&str; 5] = [
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.UnknownInterface",
    "org.freedesktop.DBus.Error.UnknownProperty",
    "org.freedesktop.DBus.Error.UnknownObject",
    "org.freedesktop.DBus.Error.InvalidArgs",
];
/// How long the sharer may take to answer the desktop's dialog.
pub const ANSWER: Duration = Duration::from_secs(120);
/// How long the first picture may take once the sharer answered.
const FIRST_PICTURE: Duration = Duration::from_secs(10);
/// The shortcut that ends the helper's control.
const STOP_CONTROL: &str = "stop-control";

/// What the desktop's portal offers (each interface's version; 0: not offered).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offers {
    /// ScreenCast: the pictures.
    pub screencast: u32,
    /// RemoteDesktop: the helper's input.
    pub remote_desktop: u32,
    /// GlobalShortcuts: a key of the sharer's that ends control.
    pub global_shortcuts: u32,
    /// The ways ScreenCast can show the pointer (1 hidden, 2 embedded, 4 metadata).
    pub cursor_modes: u32,
}

/// The session bus at `address`, or the one `DBUS_SESSION_BUS_ADDRESS` names.
fn session_bus(address: Option<&str>) -> Result<Connection> {
    let connected = match address {
        Some(address) => dbus::channel::Channel::open_private(address).and_then(|mut channel| {
            channel.register()?;
            Ok(Connection::from(channel))
        }),
        None => Connection::new_session(),
    };
    connected.map_err(|e| anyhow!("{}", crate::t!("portal-no-bus", why = e.to_string())))
}

/// What the portal on the session bus (at `bus`, default: the session's) offers.
///
/// # Errors
/// When there is no session bus, or the portal does not answer.
pub fn offers(bus: Option<&str>) -> Result<Offers> {
    use dbus::blocking::stdintf::org_freedesktop_dbus::Properties;
    let bus = session_bus(bus)?;
    // The first question may start the portal (bus activation), which takes a while on a
    // busy machine.
    let proxy = bus.with_proxy(DEST, PATH, STARTING);
    let version = |interface: &str| match proxy.get::<u32>(interface, "version") {
        Ok(version) => Ok(version),
        // No portal at all, or one without this interface.
        Err(e) if e.name().is_some_and(|name| ABSENT.contains(&name)) => Ok(0),
        Err(e) => Err(anyhow!(
            "{}",
            crate::t!("portal-failed", what = e.to_string())
        )),
    };
    let screencast = version(SCREENCAST)?;
    Ok(Offers {
        screencast,
        remote_desktop: version(REMOTE_DESKTOP)?,
        global_shortcuts: version(GLOBAL_SHORTCUTS)?,
        cursor_modes: if screencast > 0 {
            proxy
                .get::<u32>(SCREENCAST, "AvailableCursorModes")
                .unwrap_or(0)
        } else {
            0
        },
    })
}

/// One picture stream the desktop shares: a monitor the sharer chose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalStream {
    /// Its PipeWire node.
    pub node: u32,
    /// Where the monitor sits in the desktop, when the desktop says.
    pub position: Option<(i32, i32)>,
    /// Its size in the desktop's coordinates, when the desktop says.
    pub size: Option<(i32, i32)>,
}

/// A string option.
fn string(value: &str) -> Variant<Box<dyn RefArg>> {
    Variant(Box::new(value.to_string()))
}

fn number(value: u32) -> Variant<Box<dyn RefArg>> {
    Variant(Box::new(value))
}

/// A fresh token for a request or a session (`[A-Za-z0-9_]`).
fn token() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "beckon_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The value inside any variants around `value`.
fn unwrap_variants(mut value: &dyn RefArg) -> Option<&dyn RefArg> {
    while value.signature().starts_with('v') {
        value = value.as_iter()?.next()?;
    }
    Some(value)
}

/// A `(ii)` pair.
fn pair(value: &dyn RefArg) -> Option<(i32, i32)> {
    let mut fields = unwrap_variants(value)?.as_iter()?;
    let x = fields.next()?.as_i64()?;
    let y = fields.next()?.as_i64()?;
    Some((i32::try_from(x).ok()?, i32::try_from(y).ok()?))
}

/// The streams of a `Start` answer: `a(ua{sv})`.
fn streams(value: &dyn RefArg) -> Vec<PortalStream> {
    let Some(items) = unwrap_variants(value).and_then(|v| v.as_iter()) else {
        return Vec::new();
    };
    items
        .filter_map(|item| {
            let mut fields = item.as_iter()?;
            let node = u32::try_from(fields.next()?.as_u64()?).ok()?;
            let mut stream = PortalStream {
                node,
                position: None,
                size: None,
            };
            let mut entries = fields.next()?.as_iter()?;
            while let (Some(key), Some(value)) = (entries.next(), entries.next()) {
                match key.as_str() {
                    Some("position") => stream.position = pair(value),
                    Some("size") => stream.size = pair(value),
                    _ => {}
                }
            }
            Some(stream)
        })
        .collect()
}

/// Why the portal said no.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The sharer said no (or closed the desktop's dialog).
    #[error("{}", crate::t!("portal-cancelled"))]
    Cancelled,
    /// The sharer did not answer in time.
    #[error("{}", crate::t!("portal-unanswered"))]
    Unanswered,
    /// The portal failed.
    #[error("{}", crate::t!("portal-failed", what = .0.clone()))]
    Failed(String),
}

/// Calls `method`, which answers through a request object, and waits up to `wait` for the
/// answer.
fn request<A: AppendAll>(
    bus: &Connection,
    interface: &str,
    method: &str,
    args: impl FnOnce(Variant<Box<dyn RefArg>>) -> A,
    wait: Duration,
) -> Result<PropMap> {
    let handle_token = token();
    let sender = bus.unique_name().to_string();
    let path = format!(
        "{PATH}/request/{}/{handle_token}",
        sender.trim_start_matches(':').replace('.', "_")
    );
    let answer: Arc<Mutex<Option<(u32, PropMap)>>> = Arc::default();
    let rule = MatchRule::new_signal("org.freedesktop.portal.Request", "Response")
        .with_path(Path::new(path).map_err(|e| anyhow!(e))?);
    let heard = answer.clone();
    let matched = bus.add_match(rule, move |(code, results): (u32, PropMap), _, _| {
        *heard.lock().unwrap_or_else(|e| e.into_inner()) = Some((code, results));
        true
    })?;
    let proxy = bus.with_proxy(DEST, PATH, CALL);
    let called: Result<(Path<'static>,), dbus::Error> =
        proxy.method_call(interface, method, args(string(&handle_token)));
    let outcome = called
        .map_err(|e| anyhow!(Refusal::Failed(format!("{method}: {e}"))))
        .and_then(|_| {
            let deadline = Instant::now() + wait;
            loop {
                if let Some(answer) = answer.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    return Ok(answer);
                }
                if Instant::now() >= deadline {
                    return Err(anyhow!(Refusal::Unanswered));
                }
                bus.process(Duration::from_millis(100))?;
            }
        });
    let _ = bus.remove_match(matched);
    let (code, results) = outcome?;
    match code {
        0 => Ok(results),
        1 => Err(anyhow!(Refusal::Cancelled)),
        _ => Err(anyhow!(Refusal::Failed(method.to_string()))),
    }
}

/// A new session of the portal `interface`: its handle.
fn create_session(bus: &Connection, interface: &str) -> Result<Path<'static>> {
    let session_token = token();
    let created = request(
        bus,
        interface,
        "CreateSession",
        |handle| {
            let options: PropMap = HashMap::from([
                ("handle_token".to_string(), handle),
                ("session_handle_token".to_string(), string(&session_token)),
            ]);
            (options,)
        },
        CALL,
    )?;
    let handle = created
        .get("session_handle")
        .and_then(|v| unwrap_variants(&v.0)?.as_str().map(str::to_string))
        .ok_or_else(|| anyhow!(Refusal::Failed("CreateSession".into())))?;
    Path::new(handle).map_err(|e| anyhow!(e))
}

/// Starts following the session's `Closed` signal.
fn follow_closed(bus: &Connection, session: &Path<'static>) -> Result<Arc<AtomicBool>> {
    let closed = Arc::new(AtomicBool::new(false));
    let flag = closed.clone();
    bus.add_match(
        MatchRule::new_signal("org.freedesktop.portal.Session", "Closed")
            .with_path(session.clone()),
        move |(): (), _, _| {
            flag.store(true, Ordering::Release);
            true
        },
    )?;
    Ok(closed)
}

/// A portal session: the monitors the sharer chose and, where the desktop lets it, their
/// keyboard and pointer. Closed when dropped.
pub struct PortalSession {
    bus: Connection,
    session: Path<'static>,
    /// Whether input goes through the RemoteDesktop portal.
    remote: bool,
    /// The streams, one a monitor.
    pub streams: Vec<PortalStream>,
    /// The token that starts the next session without asking, when the desktop gave one.
    pub restore_token: Option<String>,
    closed: Arc<AtomicBool>,
}

impl std::fmt::Debug for PortalSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalSession")
            .field("session", &self.session)
            .field("remote", &self.remote)
            .field("streams", &self.streams)
            .finish_non_exhaustive()
    }
}

impl PortalSession {
    /// Asks the desktop on the session bus `bus` (default: the session's) to share its screen
    /// (and its keyboard and pointer, when `input` and the desktop offers the RemoteDesktop
    /// portal), silently when `restore_token` is one it gave before and still honours.
    ///
    /// # Errors
    /// When there is no portal, or the sharer says no or does not answer within `wait`.
    pub fn start(
        bus: Option<&str>,
        input: bool,
        restore_token: Option<&str>,
        wait: Duration,
    ) -> Result<PortalSession> {
        let offered = offers(bus)?;
        if offered.screencast == 0 {
            bail!("{}", crate::t!("portal-no-screencast"));
        }
        let bus = session_bus(bus)?;
        let remote = input && offered.remote_desktop > 0;
        let creator = if remote { REMOTE_DESKTOP } else { SCREENCAST };
        let session = create_session(&bus, creator)?;
        let closed = follow_closed(&bus, &session)?;
        let remember = |options: &mut PropMap| {
            options.insert("persist_mode".into(), number(2));
            if let Some(token) = restore_token {
                options.insert("restore_token".into(), string(token));
            }
        };
        if remote {
            request(
                &bus,
                REMOTE_DESKTOP,
                "SelectDevices",
                |handle| {
                    // Keyboard (1) and pointer (2).
                    let mut options: PropMap = HashMap::from([
                        ("handle_token".to_string(), handle),
                        ("types".to_string(), number(3)),
                    ]);
                    if offered.remote_desktop >= 2 {
                        remember(&mut options);
                    }
                    (session.clone(), options)
                },
                wait,
            )?;
        }
        request(
            &bus,
            SCREENCAST,
            "SelectSources",
            |handle| {
                let mut options: PropMap = HashMap::from([
                    ("handle_token".to_string(), handle),
                    // Monitors (1), as many as the sharer picks.
                    ("types".to_string(), number(1)),
                    ("multiple".to_string(), Variant(Box::new(true))),
                ]);
                if offered.cursor_modes & 2 != 0 {
                    options.insert("cursor_mode".into(), number(2));
                }
                // A remote desktop session is remembered through its devices.
                if !remote && offered.screencast >= 4 {
                    remember(&mut options);
                }
                (session.clone(), options)
            },
            wait,
        )?;
        let started = request(
            &bus,
            creator,
            "Start",
            |handle| {
                let options: PropMap = HashMap::from([("handle_token".to_string(), handle)]);
                (session.clone(), "", options)
            },
            wait,
        )?;
        let streams = started
            .get("streams")
            .map(|v| streams(&v.0))
            .unwrap_or_default();
        if streams.is_empty() {
            bail!("{}", crate::t!("portal-no-streams"));
        }
        let restore_token = started
            .get("restore_token")
            .and_then(|v| unwrap_variants(&v.0)?.as_str().map(str::to_string));
        let devices = started
            .get("devices")
            .and_then(|v| unwrap_variants(&v.0)?.as_u64())
            .unwrap_or(0);
        Ok(PortalSession {
            bus,
            session,
            remote: remote && devices & 3 != 0,
            streams,
            restore_token,
            closed,
        })
    }

    /// PipeWire, opened on the streams of this session.
    ///
    /// # Errors
    /// When the portal refuses.
    fn pipewire(&self) -> Result<OwnedFd> {
        let proxy = self.bus.with_proxy(DEST, PATH, CALL);
        let (fd,): (dbus::arg::OwnedFd,) = proxy
            .method_call(
                SCREENCAST,
                "OpenPipeWireRemote",
                (self.session.clone(), PropMap::new()),
            )
            .context("OpenPipeWireRemote")?;
        // SAFETY: the descriptor was just received and is owned by nothing else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd.into_fd()) })
    }

    /// Whether the desktop closed the session (the sharer stopped it from the desktop).
    fn closed(&self) -> bool {
        while self.bus.process(Duration::ZERO).unwrap_or(false) {}
        self.closed.load(Ordering::Acquire)
    }

    /// Whether the helper's input can go through this session.
    pub fn takes_input(&self) -> bool {
        self.remote
    }

    /// The monitors shared, numbered from 1 in the order the desktop gave them.
    pub fn monitors(&self) -> Vec<Monitor> {
        self.streams
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (x, y) = s.position.unwrap_or_default();
                let (width, height) = s.size.unwrap_or_default();
                Monitor {
                    name: format!("{}", i + 1),
                    x: x as i16,
                    y: y as i16,
                    width: width as u16,
                    height: height as u16,
                    primary: i == 0,
                }
            })
            .collect()
    }

    fn notify<A: AppendAll>(&self, method: &str, args: A) -> Result<()> {
        let proxy = self.bus.with_proxy(DEST, PATH, CALL);
        let (): () = proxy.method_call(REMOTE_DESKTOP, method, args)?;
        Ok(())
    }
}

impl Drop for PortalSession {
    fn drop(&mut self) {
        let proxy = self.bus.with_proxy(DEST, self.session.clone(), CALL);
        let _: Result<(), _> = proxy.method_call("org.freedesktop.portal.Session", "Close", ());
    }
}

/// Reads the kept restore token (given `None`) or keeps a new one (given it).
type TokenStore = Box<dyn Fn(Option<&str>) -> Option<String> + Send + Sync>;

/// A portal session shared by the capture and the input of one helper's session, with the
/// restore token kept between sessions.
pub struct PortalDesk {
    session: Mutex<std::sync::Weak<Mutex<PortalSession>>>,
    /// Reads and keeps the restore token (in the agent's store).
    token: TokenStore,
    input: bool,
    bus: Option<String>,
}

impl std::fmt::Debug for PortalDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalDesk").finish_non_exhaustive()
    }
}

impl PortalDesk {
    /// A desk on the session bus `bus` (default: the session's) whose sessions ask for input
    /// when `input`; `token(None)` reads the kept restore token and `token(Some(t))` keeps a
    /// new one.
    pub fn new(
        bus: Option<String>,
        input: bool,
        token: impl Fn(Option<&str>) -> Option<String> + Send + Sync + 'static,
    ) -> PortalDesk {
        PortalDesk {
            session: Mutex::default(),
            token: Box::new(token),
            input,
            bus,
        }
    }

    /// The live session, or a new one (which may ask the sharer).
    ///
    /// # Errors
    /// When the portal refuses.
    pub fn session(&self) -> Result<Arc<Mutex<PortalSession>>> {
        let mut current = self.session.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(live) = current.upgrade()
            && !live.lock().unwrap_or_else(|e| e.into_inner()).closed()
        {
            return Ok(live);
        }
        let kept = (self.token)(None);
        let bus = self.bus.as_deref();
        let started = match PortalSession::start(bus, self.input, kept.as_deref(), ANSWER) {
            // A token the desktop no longer honours: ask afresh.
            Err(e) if kept.is_some() && e.downcast_ref::<Refusal>().is_none() => {
                tracing::debug!("the portal refused the kept restore token: {e:#}");
                PortalSession::start(bus, self.input, None, ANSWER)?
            }
            other => other?,
        };
        if let Some(token) = &started.restore_token {
            (self.token)(Some(token));
        }
        let live = Arc::new(Mutex::new(started));
        *current = Arc::downgrade(&live);
        Ok(live)
    }

    /// The live session, if any.
    pub fn live(&self) -> Option<Arc<Mutex<PortalSession>>> {
        self.session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .upgrade()
    }
}

/// What went wrong while capturing through the portal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PortalError {
    /// PipeWire failed or the stream ended.
    #[error(transparent)]
    PipeWire(#[from] PipeWireError),
    /// The desktop closed the session.
    #[error("{}", crate::t!("portal-closed"))]
    Closed,
}

/// The monitors the sharer chose in the desktop's dialog, as frames.
pub struct PortalSource {
    session: Arc<Mutex<PortalSession>>,
    streams: Streams,
    /// The streams shared (indices; all of them, or the one the sharer picked).
    shown: Vec<usize>,
    /// Where each shown stream goes in the frame.
    placed: Vec<(u32, u32)>,
    fetched: Vec<Rect>,
    whole: bool,
}

impl std::fmt::Debug for PortalSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalSource")
            .field("streams", &self.streams)
            .field("shown", &self.shown)
            .finish_non_exhaustive()
    }
}

impl PortalSource {
    /// Opens the pictures of `desk`'s session (starting one, which may ask the sharer): all the
    /// monitors chosen, or the one `monitor` names (its number from 1).
    ///
    /// # Errors
    /// When the portal or PipeWire refuses, or no such monitor was chosen.
    pub fn open(desk: &PortalDesk, monitor: Option<&str>) -> Result<PortalSource> {
        let session = desk.session()?;
        let (fd, nodes, shown) = {
            let live = session.lock().unwrap_or_else(|e| e.into_inner());
            let shown = match monitor {
                Some(wanted) => {
                    let chosen = super::choose_monitor(&live.monitors(), wanted)?;
                    vec![chosen.name.parse::<usize>()? - 1]
                }
                None => (0..live.streams.len()).collect(),
            };
            let nodes: Vec<u32> = live.streams.iter().map(|s| s.node).collect();
            (live.pipewire()?, nodes, shown)
        };
        let streams = Streams::connect(fd, &nodes)?;
        streams.wait_for_pictures(FIRST_PICTURE)?;
        Ok(PortalSource {
            session,
            streams,
            shown,
            placed: Vec::new(),
            fetched: Vec::new(),
            whole: true,
        })
    }

    /// Where each shown stream goes, and the frame's size: as the desktop places the monitors,
    /// or side by side when it does not say.
    fn layout(&self) -> (Vec<(u32, u32)>, u32, u32) {
        let live = self.session.lock().unwrap_or_else(|e| e.into_inner());
        // Before a stream's first picture, the size the desktop gave.
        let sizes: Vec<(u32, u32)> = self
            .shown
            .iter()
            .map(|&i| {
                self.streams.size(i).unwrap_or_else(|| {
                    live.streams
                        .get(i)
                        .and_then(|s| s.size)
                        .map_or((1, 1), |(w, h)| (w.max(1) as u32, h.max(1) as u32))
                })
            })
            .collect();
        let positions: Option<Vec<(i32, i32)>> = self
            .shown
            .iter()
            .map(|&i| live.streams.get(i)?.position)
            .collect();
        let placed: Vec<(u32, u32)> = match positions {
            Some(positions) if self.shown.len() > 1 => {
                let left = positions.iter().map(|p| p.0).min().unwrap_or(0);
                let top = positions.iter().map(|p| p.1).min().unwrap_or(0);
                positions
                    .iter()
                    .map(|&(x, y)| ((x - left) as u32, (y - top) as u32))
                    .collect()
            }
            _ => {
                let mut x = 0;
                sizes
                    .iter()
                    .map(|&(w, _)| {
                        let at = (x, 0);
                        x += w;
                        at
                    })
                    .collect()
            }
        };
        let width = placed
            .iter()
            .zip(&sizes)
            .map(|(p, s)| p.0 + s.0)
            .max()
            .unwrap_or(1);
        let height = placed
            .iter()
            .zip(&sizes)
            .map(|(p, s)| p.1 + s.1)
            .max()
            .unwrap_or(1);
        (placed, width, height)
    }
}

impl FrameSource for PortalSource {
    type Error = PortalError;

    fn next_frame(&mut self, frame: &mut Frame) -> Result<bool, PortalError> {
        if self
            .session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .closed()
        {
            return Err(PortalError::Closed);
        }
        self.fetched.clear();
        let (placed, width, height) = self.layout();
        if frame.width() != width || frame.height() != height || placed != self.placed {
            *frame = Frame::filled(width, height, [0, 0, 0, 255]);
            self.whole = true;
        }
        self.placed = placed;
        let whole = std::mem::take(&mut self.whole);
        for (&index, &at) in self.shown.iter().zip(&self.placed) {
            self.streams
                .take(index, frame, at, whole, &mut self.fetched)?;
        }
        Ok(true)
    }

    fn damage(&self) -> Option<&[Rect]> {
        Some(&self.fetched)
    }

    fn pointer(&mut self) -> Option<Pointer> {
        None
    }
}

/// The helper's input through the RemoteDesktop portal, over the monitor shown (or the first).
pub struct PortalInput {
    session: Arc<Mutex<PortalSession>>,
    /// The stream absolute positions are given over.
    stream: u32,
}

impl std::fmt::Debug for PortalInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalInput")
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl PortalInput {
    /// The input of `desk`'s live session (the capture opens it), over the monitor `monitor`
    /// names or the first.
    ///
    /// # Errors
    /// When no session is live or the desktop does not let Beckon type (no RemoteDesktop
    /// portal, or the sharer refused the keyboard and pointer).
    pub fn open(desk: &PortalDesk, monitor: Option<&str>) -> Result<PortalInput> {
        let session = desk
            .live()
            .ok_or_else(|| anyhow!("{}", crate::t!("portal-closed")))?;
        let stream = {
            let live = session.lock().unwrap_or_else(|e| e.into_inner());
            if !live.takes_input() {
                bail!("{}", crate::t!("portal-no-input"));
            }
            let index = match monitor {
                Some(wanted) => {
                    super::choose_monitor(&live.monitors(), wanted)?
                        .name
                        .parse::<usize>()?
                        - 1
                }
                None => 0,
            };
            live.streams[index].node
        };
        Ok(PortalInput { session, stream })
    }

    fn send(&self, event: InputEvent) -> Result<()> {
        let live = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let options = PropMap::new;
        let session = live.session.clone();
        match event {
            InputEvent::PointerMove { x, y } => live.notify(
                "NotifyPointerMotionAbsolute",
                (session, options(), self.stream, f64::from(x), f64::from(y)),
            ),
            InputEvent::Button { button, pressed } => {
                // Linux's evdev codes: BTN_LEFT, BTN_MIDDLE, BTN_RIGHT.
                let code: i32 = match button {
                    1 => 0x110,
                    2 => 0x112,
                    3 => 0x111,
                    _ => return Ok(()),
                };
                live.notify(
                    "NotifyPointerButton",
                    (session, options(), code, u32::from(pressed)),
                )
            }
            InputEvent::Wheel { dx, dy } => {
                for (axis, steps) in [(0u32, dy), (1u32, dx)] {
                    if steps != 0 {
                        live.notify(
                            "NotifyPointerAxisDiscrete",
                            (session.clone(), options(), axis, steps),
                        )?;
                    }
                }
                Ok(())
            }
            InputEvent::Key { keysym, pressed } => live.notify(
                "NotifyKeyboardKeysym",
                (session, options(), keysym as i32, u32::from(pressed)),
            ),
        }
    }
}

impl InputSink for PortalInput {
    fn apply(&mut self, event: InputEvent) {
        if let Err(e) = self.send(event) {
            tracing::warn!("the portal refused the helper's input: {e:#}");
        }
    }
}

/// The GlobalShortcuts portal's shortcut that ends the helper's control: the desktop offers
/// Esc (or lets the sharer pick a key) and tells Beckon when it is pressed, in any window.
pub struct PortalShortcut {
    bus: Connection,
    pressed: Arc<AtomicU32>,
    seen: u32,
}

impl std::fmt::Debug for PortalShortcut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalShortcut").finish_non_exhaustive()
    }
}

impl PortalShortcut {
    /// Binds the shortcut, when the desktop on the session bus `bus` (default: the session's)
    /// offers the GlobalShortcuts portal.
    ///
    /// # Errors
    /// When it does not, or it refuses.
    pub fn bind(bus: Option<&str>) -> Result<PortalShortcut> {
        if offers(bus)?.global_shortcuts == 0 {
            bail!("{}", crate::t!("portal-no-shortcuts"));
        }
        let bus = session_bus(bus)?;
        let session = create_session(&bus, GLOBAL_SHORTCUTS)?;
        let pressed = Arc::new(AtomicU32::new(0));
        let count = pressed.clone();
        let ours = session.clone();
        bus.add_match(
            MatchRule::new_signal(GLOBAL_SHORTCUTS, "Activated"),
            move |(from, id): (Path<'static>, String), _, _| {
                if from == ours && id == STOP_CONTROL {
                    count.fetch_add(1, Ordering::AcqRel);
                }
                true
            },
        )?;
        let description = crate::t!("portal-shortcut");
        request(
            &bus,
            GLOBAL_SHORTCUTS,
            "BindShortcuts",
            |handle| {
                let shortcut: PropMap = HashMap::from([
                    ("description".to_string(), string(&description)),
                    ("preferred_trigger".to_string(), string("Escape")),
                ]);
                let options: PropMap = HashMap::from([("handle_token".to_string(), handle)]);
                (
                    session.clone(),
                    vec![(STOP_CONTROL.to_string(), shortcut)],
                    "",
                    options,
                )
            },
            ANSWER,
        )?;
        Ok(PortalShortcut {
            bus,
            pressed,
            seen: 0,
        })
    }

    /// Waits until the sharer presses the shortcut.
    ///
    /// # Errors
    /// When the session bus goes away.
    pub fn wait(&mut self) -> Result<()> {
        loop {
            let now = self.pressed.load(Ordering::Acquire);
            if now != self.seen {
                self.seen = now;
                return Ok(());
            }
            self.bus.process(Duration::from_secs(1))?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Start` answer as it comes off the bus: the streams with their places and sizes, and
    /// the restore token, read back through the generic form every answer is read in.
    #[test]
    fn a_start_answer_is_read_off_the_wire() {
        let stream = |x: i32, w: i32| -> PropMap {
            HashMap::from([
                (
                    "position".to_string(),
                    Variant(Box::new((x, 0)) as Box<dyn RefArg>),
                ),
                (
                    "size".to_string(),
                    Variant(Box::new((w, 768)) as Box<dyn RefArg>),
                ),
            ])
        };
        let results: PropMap = HashMap::from([
            (
                "streams".to_string(),
                Variant(
                    Box::new(vec![(42u32, stream(0, 1024)), (43u32, stream(1024, 800))])
                        as Box<dyn RefArg>,
                ),
            ),
            ("restore_token".to_string(), string("abc-123")),
        ]);
        let message = dbus::Message::new_signal(PATH, "org.freedesktop.portal.Request", "Response")
            .unwrap()
            .append2(0u32, results);
        let (code, read): (u32, PropMap) = message.read2().unwrap();
        assert_eq!(code, 0);
        assert_eq!(
            streams(&read["streams"].0),
            vec![
                PortalStream {
                    node: 42,
                    position: Some((0, 0)),
                    size: Some((1024, 768)),
                },
                PortalStream {
                    node: 43,
                    position: Some((1024, 0)),
                    size: Some((800, 768)),
                },
            ]
        );
        assert_eq!(
            unwrap_variants(&read["restore_token"].0).and_then(|v| v.as_str()),
            Some("abc-123")
        );
        // Anything else where the streams should be reads as none, not a panic.
        assert_eq!(streams(&string("not streams").0), Vec::new());
    }
}
