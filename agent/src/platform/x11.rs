//! The sharer's X11 desktop: capture ([`X11Source`], a [`FrameSource`]) and input
//! ([`X11Input`], an [`InputSink`]), over x11rb's pure-Rust connection.
//!
//! **Capture**: the first frame is the whole root window. After that, XDamage says which areas
//! were drawn: only those are fetched, and an idle screen costs one round of event polling, one
//! pointer query and no image request. The tile diff still decides what really changed. A new
//! screen size (RandR) starts a whole frame again. Pixels come through MIT-SHM (`ShmGetImage`
//! into a segment shared with the server, no copy through the socket) when the server is on this
//! computer and agrees, and through `GetImage` otherwise (a remote X server). The cursor is not
//! in the pixels: XFixes says when its picture changes, and [`FrameSource::pointer`] reports the
//! picture and the position.
//!
//! **Input**: XTEST fake input. Keys arrive as X key symbols and are looked up in the sharer's
//! keyboard mapping. A symbol found in the shifted column is typed with Shift. A symbol the
//! keyboard lacks is put on a spare keycode for the moment. The session core only passes input
//! while the helper has control. The helper's own Esc releases control in the viewer and is never
//! sent; a deliberate literal Esc (Shift+Esc in the viewer) is injected only with an
//! [`InjectedEscs`] ledger shared with the [`EscWatch`], which then does not take it for the
//! sharer's. Any other Esc on the display is the sharer's and ends control at once.

use anyhow::{Context, Result, bail};
use beckon_engine::InputEvent;
use beckon_engine::frame::{Frame, Rect};
use beckon_engine::net::drive::InputSink;
use beckon_engine::pipeline::{CursorImage, FrameSource, Pointer};
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::damage::{ConnectionExt as _, ReportLevel};
use x11rb::protocol::randr::{self, ConnectionExt as _};
use x11rb::protocol::shm::ConnectionExt as _;
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xinput::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{self, ConnectionExt as _, ImageFormat, Window};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;

pub use super::{Monitor, choose_monitor};

/// What went wrong while capturing the X display.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum X11Error {
    /// The connection to the X server broke.
    #[error("X11: {doing}: the connection to the X server broke: {source}")]
    Connection {
        /// What was being done.
        doing: &'static str,
        /// The connection's error.
        source: x11rb::errors::ConnectionError,
    },
    /// The X server refused a request.
    #[error("X11: {doing}: the X server refused: {source}")]
    Reply {
        /// What was being done.
        doing: &'static str,
        /// The server's answer.
        source: x11rb::errors::ReplyError,
    },
    /// The screen's pixels are not 24 or 32 bits deep.
    #[error("X11: a {0}-bit screen: only 24 and 32 bits are supported")]
    Depth(u8),
    /// The X server sent fewer bytes than the image needs.
    #[error("X11: the X server sent {got} bytes for an image of {needed}")]
    ShortImage {
        /// Bytes sent.
        got: usize,
        /// Bytes the image needs.
        needed: usize,
    },
}

/// Wraps a connection error with what was being done.
fn broke(doing: &'static str) -> impl FnOnce(x11rb::errors::ConnectionError) -> X11Error {
    move |source| X11Error::Connection { doing, source }
}

/// Wraps a refused request with what was being done.
fn refused(doing: &'static str) -> impl FnOnce(x11rb::errors::ReplyError) -> X11Error {
    move |source| X11Error::Reply { doing, source }
}

/// A rectangle of the root window, in pixels.
type Area = (i16, i16, u16, u16);

/// A System V shared memory segment attached both here and in the X server (MIT-SHM).
struct ShmSegment {
    /// The X server's id for it.
    seg: u32,
    addr: *mut u8,
    size: usize,
}

// SAFETY: the segment is plain memory owned by this value; only `&self` methods read it.
unsafe impl Send for ShmSegment {}

impl ShmSegment {
    /// A segment of `size` bytes, attached to `conn`'s server; `None` when either side refuses
    /// (no MIT-SHM, a server on another computer, no System V IPC here).
    fn create(conn: &RustConnection, size: usize) -> Option<ShmSegment> {
        // SAFETY: shmget only allocates; its arguments are plain values.
        let id = unsafe { libc::shmget(libc::IPC_PRIVATE, size, libc::IPC_CREAT | 0o600) };
        if id < 0 {
            return None;
        }
        // SAFETY: `id` is the segment just created; a null address lets the kernel choose.
        let addr = unsafe { libc::shmat(id, std::ptr::null(), 0) };
        let attached = addr as isize != -1;
        let seg = attached
            .then(|| conn.generate_id().ok())
            .flatten()
            .filter(|seg| {
                conn.shm_attach(*seg, id as u32, false)
                    .ok()
                    .and_then(|cookie| cookie.check().ok())
                    .is_some()
            });
        // SAFETY: marks the segment for removal once both sides have detached (or at once when
        // neither attached); `id` is ours.
        unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
        match seg {
            Some(seg) => Some(ShmSegment {
                seg,
                addr: addr.cast(),
                size,
            }),
            None => {
                if attached {
                    // SAFETY: `addr` was attached above and nothing refers to it.
                    unsafe { libc::shmdt(addr) };
                }
                None
            }
        }
    }

    /// The first `len` bytes.
    fn bytes(&self, len: usize) -> &[u8] {
        // SAFETY: `addr` points at `size` bytes attached for this value's life; the X server
        // writes them only during a ShmGetImage request, whose reply has been read by now.
        unsafe { std::slice::from_raw_parts(self.addr, len.min(self.size)) }
    }
}

impl Drop for ShmSegment {
    fn drop(&mut self) {
        // SAFETY: `addr` was attached in `create` and no slice of it outlives `&self`.
        unsafe { libc::shmdt(self.addr.cast()) };
    }
}

/// The monitors of `display` (default: `DISPLAY`), as RandR 1.5 lists them; empty when the
/// server has no RandR 1.5.
///
/// # Errors
/// When the display cannot be opened.
pub fn monitors(display: Option<&str>) -> Result<Vec<Monitor>> {
    let (conn, screen) = x11rb::connect(display).with_context(|| crate::t!("x11-no-display"))?;
    let root = conn.setup().roots[screen].root;
    Ok(list_monitors(&conn, root))
}

fn list_monitors(conn: &RustConnection, root: Window) -> Vec<Monitor> {
    let supported = conn
        .randr_query_version(1, 5)
        .ok()
        .and_then(|c| c.reply().ok())
        .is_some_and(|v| (v.major_version, v.minor_version) >= (1, 5));
    if !supported {
        return Vec::new();
    }
    let Some(reply) = conn
        .randr_get_monitors(root, true)
        .ok()
        .and_then(|c| c.reply().ok())
    else {
        return Vec::new();
    };
    reply
        .monitors
        .iter()
        .map(|m| Monitor {
            name: conn
                .get_atom_name(m.name)
                .ok()
                .and_then(|c| c.reply().ok())
                .map(|n| String::from_utf8_lossy(&n.name).into_owned())
                .unwrap_or_default(),
            x: m.x,
            y: m.y,
            width: m.width,
            height: m.height,
            primary: m.primary,
        })
        .collect()
}

/// The screen of an X display, captured as frames.
pub struct X11Source {
    conn: RustConnection,
    root: Window,
    width: u16,
    height: u16,
    /// Areas drawn since the last frame.
    damaged: Vec<Area>,
    /// The whole screen is due (first frame, new size).
    whole: bool,
    /// Image requests made, for tests and benchmarks.
    requests: u64,
    /// The MIT-SHM segment, when the server shares memory with us.
    shm: Option<ShmSegment>,
    /// Whether to try MIT-SHM at all.
    try_shm: bool,
    /// The pointer's picture changed (XFixes) and is due.
    cursor_changed: bool,
    /// The areas the last frame fetched (`None`: the whole screen).
    fetched: Option<Vec<Rect>>,
    /// The monitor shared (`None`: the whole screen).
    monitor: Option<Monitor>,
}

impl std::fmt::Debug for X11Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X11Source")
            .field("size", &(self.width, self.height))
            .finish()
    }
}

impl X11Source {
    /// Connects to `display` (default: `DISPLAY`) and starts watching the screen for damage.
    ///
    /// # Errors
    /// When the display cannot be opened or lacks the DAMAGE extension.
    pub fn connect(display: Option<&str>) -> Result<X11Source> {
        Self::connect_with(display, true)
    }

    /// As [`X11Source::connect`], choosing whether to try MIT-SHM (`false`: always `GetImage`,
    /// as for a remote server).
    ///
    /// # Errors
    /// When the display cannot be opened or lacks the DAMAGE extension.
    pub fn connect_with(display: Option<&str>, shm: bool) -> Result<X11Source> {
        let (conn, screen) = x11rb::connect(display).with_context(|| {
            format!(
                "cannot open X display {}: is the desktop running, and DISPLAY set?",
                display.map_or_else(
                    || std::env::var("DISPLAY").unwrap_or_default(),
                    String::from
                )
            )
        })?;
        let root = conn.setup().roots[screen].root;
        conn.xfixes_query_version(5, 0)?.reply()?;
        conn.xfixes_select_cursor_input(root, xfixes::CursorNotifyMask::DISPLAY_CURSOR)?;
        conn.damage_query_version(1, 1)?
            .reply()
            .with_context(|| crate::t!("x11-no-extension", extension = "DAMAGE"))?;
        let damage = conn.generate_id()?;
        conn.damage_create(damage, root, ReportLevel::RAW_RECTANGLES)?;
        if conn.randr_query_version(1, 2).is_ok() {
            let _ = conn.randr_select_input(root, randr::NotifyMask::SCREEN_CHANGE);
        }
        conn.flush()?;
        let geometry = conn.get_geometry(root)?.reply()?;
        // A server on another computer cannot see our memory: do not try.
        let name = display.map_or_else(
            || std::env::var("DISPLAY").unwrap_or_default(),
            String::from,
        );
        let local = matches!(name.split(':').next(), Some("" | "unix"));
        let try_shm = shm && local && conn.shm_query_version().is_ok_and(|c| c.reply().is_ok());
        let mut source = X11Source {
            conn,
            root,
            width: geometry.width,
            height: geometry.height,
            damaged: Vec::new(),
            whole: true,
            requests: 0,
            shm: None,
            try_shm,
            cursor_changed: true,
            fetched: None,
            monitor: None,
        };
        source.resize_shm();
        Ok(source)
    }

    /// Shares only `monitor` (`None`: the whole screen again); the next frame is whole.
    pub fn share_monitor(&mut self, monitor: Option<Monitor>) {
        self.monitor = monitor;
        self.whole = true;
    }

    /// The part of the screen shared: `(x, y, width, height)` in the root window.
    fn view(&self) -> (i16, i16, u16, u16) {
        match &self.monitor {
            Some(m) => {
                let width = (i32::from(self.width) - i32::from(m.x)).clamp(0, i32::from(m.width));
                let height =
                    (i32::from(self.height) - i32::from(m.y)).clamp(0, i32::from(m.height));
                (m.x, m.y, width as u16, height as u16)
            }
            None => (0, 0, self.width, self.height),
        }
    }

    /// Image requests made so far (one per fetched area).
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Makes the next frame fetch the whole screen again.
    pub fn invalidate(&mut self) {
        self.whole = true;
    }

    /// Whether pixels come through MIT-SHM.
    pub fn uses_shm(&self) -> bool {
        self.shm.is_some()
    }

    /// Makes the shared segment large enough for the whole screen.
    fn resize_shm(&mut self) {
        let size = usize::from(self.width) * usize::from(self.height) * 4;
        if !self.try_shm || self.shm.as_ref().is_some_and(|s| s.size >= size) {
            return;
        }
        if let Some(old) = self.shm.take() {
            let _ = self.conn.shm_detach(old.seg);
        }
        self.shm = ShmSegment::create(&self.conn, size);
        // Refused once, refused always: GetImage from now on.
        self.try_shm = self.shm.is_some();
    }

    /// Collects the damage reported since the last call.
    fn poll(&mut self) -> Result<(), X11Error> {
        while let Some(event) = self
            .conn
            .poll_for_event()
            .map_err(broke("reading events"))?
        {
            match event {
                Event::DamageNotify(n) => {
                    let a = n.area;
                    self.damaged.push((a.x, a.y, a.width, a.height));
                }
                Event::RandrScreenChangeNotify(n) => {
                    self.width = n.width;
                    self.height = n.height;
                    self.whole = true;
                    self.resize_shm();
                    // The shared monitor may have moved, or gone (then the whole screen).
                    if let Some(name) = self.monitor.as_ref().map(|m| m.name.clone()) {
                        self.monitor = list_monitors(&self.conn, self.root)
                            .into_iter()
                            .find(|m| m.name == name);
                    }
                }
                Event::XfixesCursorNotify(_) => self.cursor_changed = true,
                _ => {}
            }
        }
        Ok(())
    }

    /// Copies `area` of the root window, as far as it is shared, into `frame` (whose origin is
    /// the shared part's); returns the part of the frame it covered.
    fn fetch(&mut self, frame: &mut Frame, (x, y, w, h): Area) -> Result<Option<Rect>, X11Error> {
        let (vx, vy, vw, vh) = self.view();
        let (vx, vy) = (i32::from(vx), i32::from(vy));
        let x0 = i32::from(x).max(vx).max(0);
        let y0 = i32::from(y).max(vy).max(0);
        let x1 = (i32::from(x) + i32::from(w)).min(vx + i32::from(vw));
        let y1 = (i32::from(y) + i32::from(h)).min(vy + i32::from(vh));
        if x1 <= x0 || y1 <= y0 {
            return Ok(None);
        }
        // Where the area lands in the frame.
        let (fx, fy) = ((x0 - vx) as usize, (y0 - vy) as usize);
        let (x0, y0, x1, y1) = (x0 as u16, y0 as u16, x1 as u16, y1 as u16);
        let (w, h) = (x1 - x0, y1 - y0);
        self.requests += 1;
        let (x, y) = (x0 as i16, y0 as i16);
        let pixels = usize::from(w) * usize::from(h) * 4;
        let (depth, bytes) = match &self.shm {
            Some(shm) => {
                let reply = self
                    .conn
                    .shm_get_image(
                        self.root,
                        x,
                        y,
                        w,
                        h,
                        u32::MAX,
                        ImageFormat::Z_PIXMAP.into(),
                        shm.seg,
                        0,
                    )
                    .map_err(broke("requesting pixels"))?
                    .reply()
                    .map_err(refused("reading pixels"))?;
                (reply.depth, std::borrow::Cow::Borrowed(shm.bytes(pixels)))
            }
            None => {
                let image = self
                    .conn
                    .get_image(ImageFormat::Z_PIXMAP, self.root, x, y, w, h, u32::MAX)
                    .map_err(broke("requesting pixels"))?
                    .reply()
                    .map_err(refused("reading pixels"))?;
                (image.depth, std::borrow::Cow::Owned(image.data))
            }
        };
        if depth != 24 && depth != 32 {
            return Err(X11Error::Depth(depth));
        }
        let row = usize::from(w) * 4;
        if bytes.len() < row * usize::from(h) {
            return Err(X11Error::ShortImage {
                got: bytes.len(),
                needed: row * usize::from(h),
            });
        }
        let stride = frame.stride();
        let data = frame.data_mut();
        for (r, line) in bytes.chunks_exact(row).take(usize::from(h)).enumerate() {
            let at = (fy + r) * stride + fx * 4;
            let dst = &mut data[at..at + row];
            dst.copy_from_slice(line);
            for alpha in dst.iter_mut().skip(3).step_by(4) {
                *alpha = 255;
            }
        }
        Ok(Some(Rect::new(fx as u32, fy as u32, w.into(), h.into())))
    }
}

impl FrameSource for X11Source {
    type Error = X11Error;

    fn next_frame(&mut self, frame: &mut Frame) -> Result<bool, X11Error> {
        self.poll()?;
        let view = self.view();
        let (w, h) = (u32::from(view.2).max(1), u32::from(view.3).max(1));
        if frame.width() != w || frame.height() != h {
            *frame = Frame::filled(w, h, [0, 0, 0, 255]);
            self.whole = true;
        }
        if std::mem::take(&mut self.whole) {
            self.damaged.clear();
            self.fetched = None;
            self.fetch(frame, view)?;
            return Ok(true);
        }
        // Many small areas: one request for their bounding box is cheaper than each.
        let mut areas = std::mem::take(&mut self.damaged);
        if areas.len() > 16 {
            let x0 = areas.iter().map(|a| a.0).min().unwrap_or(0);
            let y0 = areas.iter().map(|a| a.1).min().unwrap_or(0);
            let x1 = areas
                .iter()
                .map(|a| i32::from(a.0) + i32::from(a.2))
                .max()
                .unwrap_or(0);
            let y1 = areas
                .iter()
                .map(|a| i32::from(a.1) + i32::from(a.3))
                .max()
                .unwrap_or(0);
            areas = vec![(
                x0,
                y0,
                (x1 - i32::from(x0)) as u16,
                (y1 - i32::from(y0)) as u16,
            )];
        }
        let mut fetched = self.fetched.take().unwrap_or_default();
        fetched.clear();
        for area in areas {
            if let Some(rect) = self.fetch(frame, area)? {
                fetched.push(rect);
            }
        }
        self.fetched = Some(fetched);
        Ok(true)
    }

    fn damage(&self) -> Option<&[Rect]> {
        self.fetched.as_deref()
    }

    fn pointer(&mut self) -> Option<Pointer> {
        let position = self.conn.query_pointer(self.root).ok()?.reply().ok()?;
        let shape = if std::mem::take(&mut self.cursor_changed) {
            self.cursor_image()
        } else {
            None
        };
        let (vx, vy, vw, vh) = self.view();
        let (x, y) = (
            i32::from(position.root_x) - i32::from(vx),
            i32::from(position.root_y) - i32::from(vy),
        );
        let inside = (0..i32::from(vw)).contains(&x) && (0..i32::from(vh)).contains(&y);
        Some(Pointer {
            x: x.max(0) as u32,
            y: y.max(0) as u32,
            visible: position.same_screen && inside,
            shape,
        })
    }
}

impl X11Source {
    /// The pointer's picture (XFixes gives premultiplied ARGB; the viewer wants straight BGRA).
    fn cursor_image(&self) -> Option<CursorImage> {
        let image = self.conn.xfixes_get_cursor_image().ok()?.reply().ok()?;
        let bgra = image
            .cursor_image
            .iter()
            .flat_map(|argb| {
                let [b, g, r, a] = argb.to_le_bytes();
                let straight = |c: u8| match a {
                    0 => 0,
                    a => ((u16::from(c) * 255 + u16::from(a) / 2) / u16::from(a)).min(255) as u8,
                };
                [straight(b), straight(g), straight(r), a]
            })
            .collect();
        Some(CursorImage {
            width: image.width,
            height: image.height,
            hot_x: image.xhot,
            hot_y: image.yhot,
            bgra,
        })
    }
}

/// `Escape`.
pub const ESCAPE: u32 = xkeysym::key::Escape;

/// The literal Escs the agent injected for the helper and has not yet seen come back, so the
/// [`EscWatch`] lets exactly those pass. An entry older than [`InjectedEscs::WINDOW`] is
/// forgotten: an Esc after that is the sharer's.
#[derive(Clone, Debug, Default)]
pub struct InjectedEscs(
    std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<std::time::Instant>>>,
);

impl InjectedEscs {
    /// How long an injected Esc may take to come back from the X server.
    pub const WINDOW: std::time::Duration = std::time::Duration::from_millis(500);

    fn entries(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<std::time::Instant>> {
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        while entries
            .front()
            .is_some_and(|at| at.elapsed() > Self::WINDOW)
        {
            entries.pop_front();
        }
        entries
    }

    /// Records one Esc about to be injected.
    fn push(&self) {
        self.entries().push_back(std::time::Instant::now());
    }

    /// Whether an Esc just seen is one the agent injected (and forgets it).
    fn take(&self) -> bool {
        self.entries().pop_front().is_some()
    }
}

/// Watches the sharer's own keyboard for Esc: XInput2 raw key presses on the root window,
/// observed and not grabbed, so applications still get the key. [`X11Input`] never injects Esc,
/// so every Esc seen is the sharer's.
pub struct EscWatch {
    conn: RustConnection,
    escape: Vec<u32>,
    injected: InjectedEscs,
}

impl std::fmt::Debug for EscWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EscWatch")
    }
}

impl EscWatch {
    /// Connects to `display` (default: `DISPLAY`) and starts watching.
    ///
    /// # Errors
    /// When the display cannot be opened or lacks XInput 2.
    pub fn connect(display: Option<&str>) -> Result<EscWatch> {
        let (conn, screen) =
            x11rb::connect(display).with_context(|| crate::t!("x11-no-display"))?;
        let root = conn.setup().roots[screen].root;
        conn.xinput_xi_query_version(2, 0)?
            .reply()
            .with_context(|| crate::t!("x11-no-extension", extension = "XInput 2"))?;
        let (min, max) = (conn.setup().min_keycode, conn.setup().max_keycode);
        let mapping = conn.get_keyboard_mapping(min, max - min + 1)?.reply()?;
        let per = usize::from(mapping.keysyms_per_keycode.max(1));
        let escape = mapping
            .keysyms
            .chunks(per)
            .enumerate()
            .filter(|(_, syms)| syms.contains(&ESCAPE))
            .map(|(i, _)| u32::from(min) + i as u32)
            .collect();
        conn.xinput_xi_select_events(
            root,
            &[xinput::EventMask {
                deviceid: xinput::Device::ALL_MASTER.into(),
                mask: vec![xinput::XIEventMask::RAW_KEY_PRESS],
            }],
        )?
        .check()?;
        Ok(EscWatch {
            conn,
            escape,
            injected: InjectedEscs::default(),
        })
    }

    /// The ledger an [`X11Input`] needs to inject the helper's literal Esc without ending
    /// control.
    pub fn injected(&self) -> InjectedEscs {
        self.injected.clone()
    }

    /// Blocks until the sharer presses Esc.
    ///
    /// # Errors
    /// When the connection to the X server ends.
    pub fn wait(&mut self) -> Result<()> {
        loop {
            if let Event::XinputRawKeyPress(e) = self.conn.wait_for_event()?
                && self.escape.contains(&e.detail)
                && !self.injected.take()
            {
                return Ok(());
            }
        }
    }
}

/// Applies the helper's input to an X display with XTEST.
pub struct X11Input {
    conn: RustConnection,
    root: Window,
    min_keycode: u8,
    max_keycode: u8,
    per_keycode: u8,
    keysyms: Vec<u32>,
    /// Keycodes pressed with Shift added, to release Shift with them.
    shifted: Vec<u8>,
    /// Set: literal Escs are injected and recorded here; unset: Esc is never injected.
    injected: Option<InjectedEscs>,
    /// Where the shared part of the screen starts: the helper's pointer is relative to it.
    origin: (i16, i16),
}

impl std::fmt::Debug for X11Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("X11Input")
    }
}

/// `Shift_L`.
const SHIFT_L: u32 = xkeysym::key::Shift_L;

impl X11Input {
    /// Connects to `display` (default: `DISPLAY`).
    ///
    /// # Errors
    /// When the display cannot be opened or lacks the XTEST extension.
    pub fn connect(display: Option<&str>) -> Result<X11Input> {
        let (conn, screen) =
            x11rb::connect(display).with_context(|| crate::t!("x11-no-display"))?;
        let root = conn.setup().roots[screen].root;
        conn.xtest_get_version(2, 2)?
            .reply()
            .with_context(|| crate::t!("x11-no-extension", extension = "XTEST"))?;
        let (min_keycode, max_keycode) = (conn.setup().min_keycode, conn.setup().max_keycode);
        let mut input = X11Input {
            conn,
            root,
            min_keycode,
            max_keycode,
            per_keycode: 0,
            keysyms: Vec::new(),
            shifted: Vec::new(),
            injected: None,
            origin: (0, 0),
        };
        input.reload_mapping()?;
        Ok(input)
    }

    /// The helper sees only the part of the screen that starts at `(x, y)` (a monitor): their
    /// pointer positions are moved by it.
    pub fn set_origin(&mut self, x: i16, y: i16) {
        self.origin = (x, y);
    }

    /// Lets the helper's literal Esc through, recorded in the [`EscWatch`]'s ledger so it does
    /// not end control. Without it, Esc is never injected.
    pub fn inject_escs(&mut self, ledger: InjectedEscs) {
        self.injected = Some(ledger);
    }

    fn reload_mapping(&mut self) -> Result<()> {
        let count = self.max_keycode - self.min_keycode + 1;
        let mapping = self
            .conn
            .get_keyboard_mapping(self.min_keycode, count)?
            .reply()?;
        self.per_keycode = mapping.keysyms_per_keycode;
        self.keysyms = mapping.keysyms;
        Ok(())
    }

    /// The keycode for `keysym` and whether it needs Shift; a spare keycode gets it if the
    /// keyboard has none.
    fn keycode(&mut self, keysym: u32) -> Result<(u8, bool)> {
        let per = usize::from(self.per_keycode.max(1));
        let found = self.keysyms.chunks(per).enumerate().find_map(|(i, syms)| {
            let column = syms.iter().take(2).position(|s| *s == keysym)?;
            Some((i, column == 1))
        });
        if let Some((i, shift)) = found {
            return Ok((self.min_keycode + i as u8, shift));
        }
        // A keycode with no symbols at all takes this one.
        let Some(spare) = self
            .keysyms
            .chunks(per)
            .rposition(|syms| syms.iter().all(|s| *s == 0))
        else {
            bail!(
                "{}",
                crate::t!("x11-no-keycode", keysym = format!("{keysym:#x}"))
            );
        };
        let code = self.min_keycode + spare as u8;
        let mut syms = vec![keysym; per];
        syms.truncate(per);
        self.conn
            .change_keyboard_mapping(1, code, per as u8, &syms)?
            .check()?;
        self.reload_mapping()?;
        Ok((code, false))
    }

    fn fake(&self, kind: u8, detail: u8, x: i16, y: i16) -> Result<()> {
        self.conn
            .xtest_fake_input(kind, detail, x11rb::CURRENT_TIME, self.root, x, y, 0)?;
        Ok(())
    }

    fn apply_event(&mut self, event: InputEvent) -> Result<()> {
        match event {
            InputEvent::PointerMove { x, y } => {
                let at = |v: u32, origin: i16| {
                    (i64::from(v) + i64::from(origin)).clamp(0, i64::from(i16::MAX)) as i16
                };
                let (x, y) = (at(x, self.origin.0), at(y, self.origin.1));
                self.fake(xproto::MOTION_NOTIFY_EVENT, 0, x, y)?;
            }
            InputEvent::Button { button, pressed } => {
                let kind = if pressed {
                    xproto::BUTTON_PRESS_EVENT
                } else {
                    xproto::BUTTON_RELEASE_EVENT
                };
                self.fake(kind, button, 0, 0)?;
            }
            InputEvent::Wheel { dx, dy } => {
                // Buttons 4/5 scroll up/down, 6/7 left/right, one click a notch.
                for (notches, less, more) in [(dy, 4, 5), (dx, 6, 7)] {
                    let button = if notches < 0 { less } else { more };
                    for _ in 0..notches.unsigned_abs().min(32) {
                        self.fake(xproto::BUTTON_PRESS_EVENT, button, 0, 0)?;
                        self.fake(xproto::BUTTON_RELEASE_EVENT, button, 0, 0)?;
                    }
                }
            }
            // The helper's literal Esc, injected only when the Esc watch knows to let it pass.
            InputEvent::Key {
                keysym: ESCAPE,
                pressed,
            } => {
                let Some(injected) = self.injected.clone() else {
                    return Ok(());
                };
                let (code, _) = self.keycode(ESCAPE)?;
                if pressed {
                    injected.push();
                    self.fake(xproto::KEY_PRESS_EVENT, code, 0, 0)?;
                } else {
                    self.fake(xproto::KEY_RELEASE_EVENT, code, 0, 0)?;
                }
            }
            InputEvent::Key { keysym, pressed } => {
                let (code, shift) = self.keycode(keysym)?;
                if pressed {
                    if shift {
                        let (shift_code, _) = self.keycode(SHIFT_L)?;
                        self.fake(xproto::KEY_PRESS_EVENT, shift_code, 0, 0)?;
                        self.shifted.push(code);
                    }
                    self.fake(xproto::KEY_PRESS_EVENT, code, 0, 0)?;
                } else {
                    self.fake(xproto::KEY_RELEASE_EVENT, code, 0, 0)?;
                    if let Some(i) = self.shifted.iter().position(|c| *c == code) {
                        self.shifted.remove(i);
                        let (shift_code, _) = self.keycode(SHIFT_L)?;
                        self.fake(xproto::KEY_RELEASE_EVENT, shift_code, 0, 0)?;
                    }
                }
            }
        }
        self.conn.flush()?;
        Ok(())
    }
}

impl InputSink for X11Input {
    fn apply(&mut self, event: InputEvent) {
        if let Err(e) = self.apply_event(event) {
            eprintln!("{}", crate::t!("x11-input-failed", why = format!("{e:#}")));
        }
    }
}
