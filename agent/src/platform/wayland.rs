//! The sharer's Wayland desktop on wlroots compositors (sway, river, Hyprland, ...): capture
//! ([`WaylandSource`], a [`FrameSource`]) and input ([`WaylandInput`], an [`InputSink`]).
//!
//! **Capture**: `wlr-screencopy` into shared memory, one output at a time or every output placed
//! where the compositor puts it. The first picture of an output is copied whole; after that the
//! compositor answers a copy only once the output changed, and says which areas did (its damage,
//! used as X11's is: the tile diff looks only there, and an idle screen costs no copy). wlroots
//! tells no client where the pointer is or what it looks like, so, unlike on X11, the pointer
//! travels in the pictures: the compositor paints it into each copy, and the helper sees where
//! the sharer points.
//!
//! **Input**: the virtual pointer (absolute motion over the shared output, or over all of them)
//! and the virtual keyboard protocols. The keyboard's keymap is Beckon's own: every X key symbol
//! the helper types gets a key of its own (as `wtype` does), so any symbol can be typed whatever
//! the sharer's layout; modifiers are sent as they go down and up.
//!
//! GNOME and KDE offer neither protocol: they share through the xdg-desktop-portal ScreenCast
//! and RemoteDesktop portals ([`super::portal`]).

use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use beckon_engine::InputEvent;
use beckon_engine::frame::{Frame, Rect};
use beckon_engine::net::drive::InputSink;
use beckon_engine::pipeline::{FrameSource, Pointer};
use wayland_client::globals::{GlobalList, GlobalListContents, registry_queue_init};
use wayland_client::protocol::wl_buffer::WlBuffer;
use wayland_client::protocol::wl_output::{self, WlOutput};
use wayland_client::protocol::wl_pointer;
use wayland_client::protocol::wl_registry::{self, WlRegistry};
use wayland_client::protocol::wl_seat::WlSeat;
use wayland_client::protocol::wl_shm::{self, WlShm};
use wayland_client::protocol::wl_shm_pool::WlShmPool;
use wayland_client::{Connection, Dispatch, EventQueue, QueueHandle, WEnum, delegate_noop};
use wayland_protocols::xdg::xdg_output::zv1::client::zxdg_output_manager_v1::ZxdgOutputManagerV1;
use wayland_protocols::xdg::xdg_output::zv1::client::zxdg_output_v1::{self, ZxdgOutputV1};
use wayland_protocols_misc::zwp_virtual_keyboard_v1::client::zwp_virtual_keyboard_manager_v1::ZwpVirtualKeyboardManagerV1;
use wayland_protocols_misc::zwp_virtual_keyboard_v1::client::zwp_virtual_keyboard_v1::ZwpVirtualKeyboardV1;
use wayland_protocols_wlr::screencopy::v1::client::zwlr_screencopy_frame_v1::{
    self, ZwlrScreencopyFrameV1,
};
use wayland_protocols_wlr::screencopy::v1::client::zwlr_screencopy_manager_v1::ZwlrScreencopyManagerV1;
use wayland_protocols_wlr::virtual_pointer::v1::client::zwlr_virtual_pointer_manager_v1::ZwlrVirtualPointerManagerV1;
use wayland_protocols_wlr::virtual_pointer::v1::client::zwlr_virtual_pointer_v1::ZwlrVirtualPointerV1;

use std::sync::Arc;

use super::sway::SwayEsc;
use super::{Monitor, choose_monitor};

/// What went wrong while capturing a Wayland desktop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WaylandError {
    /// The connection to the compositor broke.
    #[error("Wayland: the connection to the compositor broke: {0}")]
    Connection(String),
    /// The compositor could not copy an output, again and again.
    #[error("Wayland: the compositor could not copy the screen ({0})")]
    Failed(String),
    /// The compositor sent no picture in time.
    #[error("Wayland: the compositor sent no picture of {0} within {1:?}")]
    Timeout(String, Duration),
    /// The compositor offers no pixel format Beckon reads.
    #[error("Wayland: the compositor offers no 32-bit RGB picture of {0}")]
    Format(String),
}

impl From<wayland_client::DispatchError> for WaylandError {
    fn from(e: wayland_client::DispatchError) -> Self {
        WaylandError::Connection(e.to_string())
    }
}

impl From<wayland_client::backend::WaylandError> for WaylandError {
    fn from(e: wayland_client::backend::WaylandError) -> Self {
        WaylandError::Connection(e.to_string())
    }
}

/// A connection to the compositor at `display` (a socket's name in `XDG_RUNTIME_DIR`, or its
/// path), by default `WAYLAND_DISPLAY`'s.
fn connect(display: Option<&str>) -> Result<Connection> {
    let Some(display) = display else {
        return Connection::connect_to_env().with_context(|| crate::t!("wayland-no-display"));
    };
    let path = match std::path::Path::new(display) {
        path if path.is_absolute() => path.to_path_buf(),
        name => std::path::PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR").unwrap_or_default())
            .join(name),
    };
    let stream = std::os::unix::net::UnixStream::connect(&path)
        .with_context(|| format!("{} ({})", crate::t!("wayland-no-display"), path.display()))?;
    Connection::from_socket(stream).with_context(|| crate::t!("wayland-no-display"))
}

/// What a Wayland compositor offers Beckon, for `doctor` and for choosing a back-end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Offers {
    /// `wlr-screencopy`: the screen can be captured.
    pub screencopy: bool,
    /// The virtual pointer protocol.
    pub pointer: bool,
    /// The virtual keyboard protocol.
    pub keyboard: bool,
    /// The outputs, in the compositor's order.
    pub outputs: Vec<Monitor>,
}

/// What the compositor at `display` (default: `WAYLAND_DISPLAY`) offers.
///
/// # Errors
/// When no compositor answers.
pub fn offers(display: Option<&str>) -> Result<Offers> {
    let mut desk = Desk::connect(display)?;
    let has = |name: &str| {
        desk.globals
            .contents()
            .with_list(|list| list.iter().any(|g| g.interface == name))
    };
    let offers = Offers {
        screencopy: has("zwlr_screencopy_manager_v1"),
        pointer: has("zwlr_virtual_pointer_manager_v1"),
        keyboard: has("zwp_virtual_keyboard_manager_v1"),
        outputs: Vec::new(),
    };
    desk.settle()?;
    Ok(Offers {
        outputs: desk.state.monitors(),
        ..offers
    })
}

/// The outputs of the compositor at `display` (default: `WAYLAND_DISPLAY`), as [`Monitor`]s
/// in its coordinates.
///
/// # Errors
/// When no compositor answers.
pub fn monitors(display: Option<&str>) -> Result<Vec<Monitor>> {
    Ok(offers(display)?.outputs)
}

/// One output as the compositor describes it.
#[derive(Debug, Default, Clone)]
struct OutputInfo {
    name: String,
    x: i32,
    y: i32,
    /// The current mode's size, in pixels.
    width: i32,
    height: i32,
    /// Its size in the compositor's coordinates (smaller than in pixels on a scaled output).
    logical: Option<(i32, i32)>,
}

#[derive(Debug)]
struct Output {
    /// The registry's name of the global.
    global: u32,
    wl: WlOutput,
    info: OutputInfo,
    /// Whether xdg-output gave the position (it wins over wl_output's geometry).
    logical: bool,
}

/// Shared memory the compositor copies into, mapped here.
#[derive(Debug)]
struct ShmBuffer {
    buffer: WlBuffer,
    pool: WlShmPool,
    map: *mut u8,
    len: usize,
    spec: Spec,
}

// SAFETY: the mapping is owned by this buffer alone and only read through `&self`.
unsafe impl Send for ShmBuffer {}

impl ShmBuffer {
    fn create(shm: &WlShm, spec: Spec, qh: &QueueHandle<State>) -> Option<ShmBuffer> {
        let len = spec.stride as usize * spec.height as usize;
        let fd = memfd(len)?;
        // SAFETY: a fresh shared mapping of a file of `len` bytes this function owns.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                std::os::fd::AsRawFd::as_raw_fd(&fd),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return None;
        }
        let pool = shm.create_pool(fd.as_fd(), len as i32, qh, ());
        let buffer = pool.create_buffer(
            0,
            spec.width as i32,
            spec.height as i32,
            spec.stride as i32,
            spec.format,
            qh,
            (),
        );
        Some(ShmBuffer {
            buffer,
            pool,
            map: map.cast(),
            len,
            spec,
        })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `map` is `len` readable bytes for as long as `self` lives.
        unsafe { std::slice::from_raw_parts(self.map, self.len) }
    }
}

impl Drop for ShmBuffer {
    fn drop(&mut self) {
        self.buffer.destroy();
        self.pool.destroy();
        // SAFETY: unmaps the mapping `create` made, once.
        unsafe { libc::munmap(self.map.cast(), self.len) };
    }
}

/// A file in memory of `len` bytes, to share with the compositor.
fn memfd(len: usize) -> Option<OwnedFd> {
    // SAFETY: memfd_create with a valid C string; the descriptor is owned at once.
    let fd = unsafe { libc::memfd_create(c"beckon".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return None;
    }
    // SAFETY: `fd` was just opened and is owned by nothing else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: ftruncate on a descriptor this function owns.
    let sized = unsafe { libc::ftruncate(std::os::fd::AsRawFd::as_raw_fd(&fd), len as i64) };
    (sized == 0).then_some(fd)
}

/// A picture the compositor will copy into: its format and size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Spec {
    format: wl_shm::Format,
    width: u32,
    height: u32,
    stride: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Progress {
    /// No copy asked.
    Idle,
    /// Asked; waiting for the compositor.
    Waiting,
    /// The picture is in the buffer.
    Ready,
    /// The compositor could not copy.
    Failed,
}

/// The copying of one shared output.
#[derive(Debug)]
struct Capture {
    global: u32,
    frame: Option<ZwlrScreencopyFrameV1>,
    offered: Option<Spec>,
    buffer: Option<ShmBuffer>,
    progress: Progress,
    /// The next copy is of the whole output (the first, or after a change of size).
    whole: bool,
    damage: Vec<Rect>,
    y_invert: bool,
    failures: u32,
}

/// Everything the event handlers update.
#[derive(Debug)]
struct State {
    shm: Option<WlShm>,
    xdg: Option<ZxdgOutputManagerV1>,
    outputs: Vec<Output>,
    captures: Vec<Capture>,
    /// The screencopy manager's version (`copy_with_damage` from 2, `buffer_done` from 3).
    screencopy_version: u32,
    /// Set when an output came, went, moved or changed size.
    changed: bool,
}

impl State {
    fn monitors(&self) -> Vec<Monitor> {
        self.outputs
            .iter()
            .map(|o| Monitor {
                name: o.info.name.clone(),
                x: o.info.x.clamp(i16::MIN.into(), i16::MAX.into()) as i16,
                y: o.info.y.clamp(i16::MIN.into(), i16::MAX.into()) as i16,
                width: o.info.width.clamp(0, u16::MAX.into()) as u16,
                height: o.info.height.clamp(0, u16::MAX.into()) as u16,
                primary: false,
            })
            .collect()
    }

    fn add_output(
        &mut self,
        registry: &WlRegistry,
        global: u32,
        version: u32,
        qh: &QueueHandle<State>,
    ) {
        let wl: WlOutput = registry.bind(global, version.min(4), qh, global);
        if let Some(xdg) = &self.xdg {
            xdg.get_xdg_output(&wl, qh, global);
        }
        self.outputs.push(Output {
            global,
            wl,
            info: OutputInfo::default(),
            logical: false,
        });
        self.changed = true;
    }

    /// Where each output `wanted` names (all of them: `None`) goes in a picture of them side by
    /// side, at its pixel `size`, and the picture's size. The compositor places outputs in its
    /// own coordinates, where a scaled output is smaller than in pixels: they are scaled by
    /// the largest scale among them, so outputs of one scale (all 1, or all 2) fit exactly.
    fn placement(
        &self,
        wanted: Option<&str>,
        size: impl Fn(&Output) -> (u32, u32),
    ) -> (Vec<(u32, u32, u32)>, u32, u32) {
        let shared: Vec<&Output> = self
            .outputs
            .iter()
            .filter(|o| wanted.is_none_or(|m| m == o.info.name))
            .collect();
        let scale = shared
            .iter()
            .map(|o| {
                let logical = o.info.logical.map_or(o.info.width, |(w, _)| w).max(1);
                f64::from(size(o).0) / f64::from(logical)
            })
            .fold(1.0, f64::max);
        let x0 = shared.iter().map(|o| o.info.x).min().unwrap_or(0);
        let y0 = shared.iter().map(|o| o.info.y).min().unwrap_or(0);
        let mut placed = Vec::new();
        let (mut width, mut height) = (1, 1);
        for o in shared {
            let (w, h) = size(o);
            let x = (f64::from(o.info.x - x0) * scale).round() as u32;
            let y = (f64::from(o.info.y - y0) * scale).round() as u32;
            width = width.max(x + w);
            height = height.max(y + h);
            placed.push((o.global, x, y));
        }
        (placed, width, height)
    }

    fn output_mut(&mut self, global: u32) -> Option<&mut Output> {
        self.outputs.iter_mut().find(|o| o.global == global)
    }

    /// The compositor said what buffer it copies into: make one and ask for the copy.
    fn start_copy(&mut self, index: usize, qh: &QueueHandle<State>) {
        let version = self.screencopy_version;
        let Some(shm) = self.shm.clone() else { return };
        let Some(capture) = self.captures.get_mut(index) else {
            return;
        };
        let (Some(frame), Some(spec)) = (&capture.frame, capture.offered) else {
            capture.progress = Progress::Failed;
            return;
        };
        if capture.buffer.as_ref().is_none_or(|b| b.spec != spec) {
            if capture.buffer.is_some() {
                capture.whole = true;
            }
            capture.buffer = ShmBuffer::create(&shm, spec, qh);
        }
        let Some(buffer) = &capture.buffer else {
            capture.progress = Progress::Failed;
            return;
        };
        capture.damage.clear();
        if capture.whole || version < 2 {
            frame.copy(&buffer.buffer);
        } else {
            frame.copy_with_damage(&buffer.buffer);
        }
    }
}

impl Dispatch<WlRegistry, GlobalListContents> for State {
    fn event(
        state: &mut Self,
        registry: &WlRegistry,
        event: wl_registry::Event,
        _: &GlobalListContents,
        _: &Connection,
        qh: &QueueHandle<Self>,
    ) {
        match event {
            wl_registry::Event::Global {
                name,
                interface,
                version,
            } if interface == "wl_output" => state.add_output(registry, name, version, qh),
            wl_registry::Event::GlobalRemove { name } => {
                let before = state.outputs.len();
                state.outputs.retain(|o| o.global != name);
                state.changed |= state.outputs.len() != before;
            }
            _ => {}
        }
    }
}

impl Dispatch<WlOutput, u32> for State {
    fn event(
        state: &mut Self,
        _: &WlOutput,
        event: wl_output::Event,
        global: &u32,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        let Some(output) = state.output_mut(*global) else {
            return;
        };
        let before = output.info.clone();
        match event {
            wl_output::Event::Geometry { x, y, .. } if !output.logical => {
                (output.info.x, output.info.y) = (x, y);
            }
            wl_output::Event::Mode {
                flags: WEnum::Value(flags),
                width,
                height,
                ..
            } if flags.contains(wl_output::Mode::Current) => {
                (output.info.width, output.info.height) = (width, height);
            }
            wl_output::Event::Name { name } => output.info.name = name,
            _ => {}
        }
        let moved = (
            output.info.x,
            output.info.y,
            output.info.width,
            output.info.height,
        ) != (before.x, before.y, before.width, before.height);
        state.changed |= moved;
    }
}

impl Dispatch<ZxdgOutputV1, u32> for State {
    fn event(
        state: &mut Self,
        _: &ZxdgOutputV1,
        event: zxdg_output_v1::Event,
        global: &u32,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        let Some(output) = state.output_mut(*global) else {
            return;
        };
        match event {
            zxdg_output_v1::Event::LogicalPosition { x, y } => {
                output.logical = true;
                if (output.info.x, output.info.y) != (x, y) {
                    (output.info.x, output.info.y) = (x, y);
                    state.changed = true;
                }
            }
            zxdg_output_v1::Event::LogicalSize { width, height }
                if output.info.logical != Some((width, height)) =>
            {
                output.info.logical = Some((width, height));
                state.changed = true;
            }
            zxdg_output_v1::Event::Name { name } => output.info.name = name,
            _ => {}
        }
    }
}

impl Dispatch<ZwlrScreencopyFrameV1, usize> for State {
    fn event(
        state: &mut Self,
        _: &ZwlrScreencopyFrameV1,
        event: zwlr_screencopy_frame_v1::Event,
        index: &usize,
        _: &Connection,
        qh: &QueueHandle<Self>,
    ) {
        let version = state.screencopy_version;
        let Some(capture) = state.captures.get_mut(*index) else {
            return;
        };
        let copy_now = match event {
            zwlr_screencopy_frame_v1::Event::Buffer {
                format: WEnum::Value(format),
                width,
                height,
                stride,
            } => {
                if capture.offered.is_none() && readable(format) {
                    capture.offered = Some(Spec {
                        format,
                        width,
                        height,
                        stride,
                    });
                }
                version < 3
            }
            zwlr_screencopy_frame_v1::Event::BufferDone => true,
            zwlr_screencopy_frame_v1::Event::Flags { flags } => {
                capture.y_invert = matches!(
                    flags,
                    WEnum::Value(f) if f.contains(zwlr_screencopy_frame_v1::Flags::YInvert)
                );
                false
            }
            zwlr_screencopy_frame_v1::Event::Damage {
                x,
                y,
                width,
                height,
            } => {
                capture.damage.push(Rect::new(x, y, width, height));
                false
            }
            zwlr_screencopy_frame_v1::Event::Ready { .. } => {
                capture.progress = Progress::Ready;
                false
            }
            zwlr_screencopy_frame_v1::Event::Failed => {
                capture.progress = Progress::Failed;
                false
            }
            _ => false,
        };
        if copy_now {
            state.start_copy(*index, qh);
        }
    }
}

/// The 32-bit formats whose bytes are B, G, R, X (as frames are) or R, G, B, X.
fn readable(format: wl_shm::Format) -> bool {
    matches!(
        format,
        wl_shm::Format::Argb8888
            | wl_shm::Format::Xrgb8888
            | wl_shm::Format::Abgr8888
            | wl_shm::Format::Xbgr8888
    )
}

delegate_noop!(State: ignore WlShm);
delegate_noop!(State: ignore WlShmPool);
delegate_noop!(State: ignore WlBuffer);
delegate_noop!(State: ignore WlSeat);
delegate_noop!(State: ZwlrScreencopyManagerV1);
delegate_noop!(State: ZxdgOutputManagerV1);
delegate_noop!(State: ZwlrVirtualPointerManagerV1);
delegate_noop!(State: ZwlrVirtualPointerV1);
delegate_noop!(State: ZwpVirtualKeyboardManagerV1);
delegate_noop!(State: ZwpVirtualKeyboardV1);

/// A connection to the compositor with its globals and outputs.
struct Desk {
    globals: GlobalList,
    queue: EventQueue<State>,
    state: State,
}

impl Desk {
    fn connect(display: Option<&str>) -> Result<Desk> {
        let conn = connect(display)?;
        let (globals, queue) = registry_queue_init::<State>(&conn)
            .context("Wayland: reading the compositor's globals")?;
        let qh = queue.handle();
        let mut state = State {
            shm: globals.bind(&qh, 1..=1, ()).ok(),
            xdg: globals.bind(&qh, 2..=3, ()).ok(),
            outputs: Vec::new(),
            captures: Vec::new(),
            screencopy_version: 0,
            changed: true,
        };
        for global in globals.contents().clone_list() {
            if global.interface == "wl_output" {
                state.add_output(globals.registry(), global.name, global.version, &qh);
            }
        }
        Ok(Desk {
            globals,
            queue,
            state,
        })
    }

    /// Waits for the compositor to have described everything asked so far.
    fn settle(&mut self) -> Result<(), WaylandError> {
        self.queue.roundtrip(&mut self.state)?;
        Ok(())
    }

    /// Handles what the compositor sent, waiting up to `timeout` for something to arrive.
    fn dispatch(&mut self, timeout: Duration) -> Result<(), WaylandError> {
        self.queue.flush()?;
        self.queue.dispatch_pending(&mut self.state)?;
        if let Some(guard) = self.queue.prepare_read() {
            let mut poll = libc::pollfd {
                fd: std::os::fd::AsRawFd::as_raw_fd(&guard.connection_fd()),
                events: libc::POLLIN,
                revents: 0,
            };
            let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd.
            let ready = unsafe { libc::poll(&mut poll, 1, millis) };
            if ready > 0 {
                guard.read()?;
            }
        }
        self.queue.dispatch_pending(&mut self.state)?;
        Ok(())
    }
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("outputs", &self.state.outputs.len())
            .finish_non_exhaustive()
    }
}

/// How long the first picture of an output may take.
const FIRST_PICTURE: Duration = Duration::from_secs(5);

/// A wlroots compositor's outputs, captured as frames.
#[derive(Debug)]
pub struct WaylandSource {
    desk: Desk,
    screencopy: ZwlrScreencopyManagerV1,
    /// The output shared, by name; `None`: all of them.
    monitor: Option<String>,
    /// Where each shared output's picture goes in the frame: (global, x, y).
    placed: Vec<(u32, u32, u32)>,
    fetched: Vec<Rect>,
}

impl WaylandSource {
    /// Connects to the compositor at `display` (default: `WAYLAND_DISPLAY`), to share the
    /// output `monitor` names (its number from 1 or its name) or, when `None`, every output.
    ///
    /// # Errors
    /// When no compositor answers, it offers no `wlr-screencopy`, or no output matches.
    pub fn connect(display: Option<&str>, monitor: Option<&str>) -> Result<WaylandSource> {
        let mut desk = Desk::connect(display)?;
        let qh = desk.queue.handle();
        let screencopy: ZwlrScreencopyManagerV1 = desk
            .globals
            .bind(&qh, 1..=3, ())
            .map_err(|_| anyhow::anyhow!("{}", crate::t!("wayland-no-screencopy")))?;
        desk.state.screencopy_version = wayland_client::Proxy::version(&screencopy);
        desk.settle()?;
        let monitor = match monitor {
            Some(wanted) => Some(choose_monitor(&desk.state.monitors(), wanted)?.name),
            None => None,
        };
        Ok(WaylandSource {
            desk,
            screencopy,
            monitor,
            placed: Vec::new(),
            fetched: Vec::new(),
        })
    }

    /// Copies every output whole at the next capture (the copies on the way, which wait for a
    /// change, are called off).
    pub fn invalidate(&mut self) {
        for capture in &mut self.desk.state.captures {
            if let Some(frame) = capture.frame.take() {
                frame.destroy();
            }
            capture.progress = Progress::Idle;
            capture.whole = true;
            capture.damage.clear();
        }
    }

    /// The shared outputs and where each goes in the frame, and the frame's size.
    fn layout(&self) -> (Vec<(u32, u32, u32)>, u32, u32) {
        let state = &self.desk.state;
        state.placement(self.monitor.as_deref(), |o| {
            state
                .captures
                .iter()
                .find(|c| c.global == o.global)
                .and_then(|c| c.offered)
                .map_or(
                    (o.info.width.max(1) as u32, o.info.height.max(1) as u32),
                    |s| (s.width, s.height),
                )
        })
    }

    /// Asks for a copy of every shared output that has none on the way.
    fn ask(&mut self) {
        let qh = self.desk.queue.handle();
        let state = &mut self.desk.state;
        for &(global, _, _) in &self.placed {
            let index = match state.captures.iter().position(|c| c.global == global) {
                Some(index) => index,
                None => {
                    state.captures.push(Capture {
                        global,
                        frame: None,
                        offered: None,
                        buffer: None,
                        progress: Progress::Idle,
                        whole: true,
                        damage: Vec::new(),
                        y_invert: false,
                        failures: 0,
                    });
                    state.captures.len() - 1
                }
            };
            let Some(output) = state.outputs.iter().find(|o| o.global == global) else {
                continue;
            };
            let capture = &mut state.captures[index];
            if capture.progress == Progress::Idle {
                capture.offered = None;
                // The pointer painted in (see the module's notes).
                capture.frame = Some(self.screencopy.capture_output(1, &output.wl, &qh, index));
                capture.progress = Progress::Waiting;
            }
        }
    }

    /// Copies what the compositor delivered into `frame`, noting the areas in `fetched`.
    fn take(&mut self, frame: &mut Frame) -> Result<(), WaylandError> {
        let frame_bounds = Rect::new(0, 0, frame.width(), frame.height());
        let stride = frame.stride();
        for &(global, ox, oy) in &self.placed {
            let Some(capture) = self
                .desk
                .state
                .captures
                .iter_mut()
                .find(|c| c.global == global)
            else {
                continue;
            };
            match capture.progress {
                Progress::Ready => {}
                Progress::Failed => {
                    if let Some(f) = capture.frame.take() {
                        f.destroy();
                    }
                    capture.progress = Progress::Idle;
                    capture.whole = true;
                    capture.failures += 1;
                    if capture.failures > 5 {
                        return Err(WaylandError::Failed(format!("output {global}")));
                    }
                    continue;
                }
                Progress::Idle | Progress::Waiting => continue,
            }
            if let Some(f) = capture.frame.take() {
                f.destroy();
            }
            capture.progress = Progress::Idle;
            capture.failures = 0;
            let Some(buffer) = &capture.buffer else {
                continue;
            };
            let spec = buffer.spec;
            let bounds = Rect::new(0, 0, spec.width, spec.height);
            let areas = if std::mem::take(&mut capture.whole) {
                vec![bounds]
            } else {
                std::mem::take(&mut capture.damage)
            };
            let swap = matches!(
                spec.format,
                wl_shm::Format::Abgr8888 | wl_shm::Format::Xbgr8888
            );
            let bytes = buffer.bytes();
            let data = frame.data_mut();
            for area in areas {
                let Some(area) = area.intersection(&bounds) else {
                    continue;
                };
                // The frame may be smaller than the layout said, for a moment, while an output
                // changes size: copy only what fits.
                let Some(area) = Rect::new(area.x + ox, area.y + oy, area.width, area.height)
                    .intersection(&frame_bounds)
                else {
                    continue;
                };
                for row in area.y..area.y + area.height {
                    let source_row = row - oy;
                    let source_row = if capture.y_invert {
                        spec.height - 1 - source_row
                    } else {
                        source_row
                    };
                    let from =
                        source_row as usize * spec.stride as usize + (area.x - ox) as usize * 4;
                    let to = row as usize * stride + area.x as usize * 4;
                    let len = area.width as usize * 4;
                    let (Some(src), Some(dst)) =
                        (bytes.get(from..from + len), data.get_mut(to..to + len))
                    else {
                        continue;
                    };
                    dst.copy_from_slice(src);
                    for pixel in dst.chunks_exact_mut(4) {
                        if swap {
                            pixel.swap(0, 2);
                        }
                        pixel[3] = 255;
                    }
                }
                self.fetched.push(area);
            }
        }
        Ok(())
    }
}

impl FrameSource for WaylandSource {
    type Error = WaylandError;

    fn next_frame(&mut self, frame: &mut Frame) -> Result<bool, WaylandError> {
        self.desk.dispatch(Duration::ZERO)?;
        self.fetched.clear();
        if std::mem::take(&mut self.desk.state.changed) {
            self.invalidate();
        }
        let (placed, width, height) = self.layout();
        self.placed = placed;
        if frame.width() != width || frame.height() != height {
            *frame = Frame::filled(width, height, [0, 0, 0, 255]);
            self.invalidate();
        }
        self.ask();
        // A whole picture waits for every output's copy. After that nothing is waited for:
        // a change the compositor has not copied yet is taken at the next capture, as X11's
        // damage is.
        let whole = self
            .desk
            .state
            .captures
            .iter()
            .any(|c| c.whole && c.progress == Progress::Waiting);
        let deadline = Instant::now() + FIRST_PICTURE;
        while whole
            && self
                .desk
                .state
                .captures
                .iter()
                .any(|c| c.progress == Progress::Waiting)
        {
            let now = Instant::now();
            if now >= deadline {
                return Err(WaylandError::Timeout(
                    self.monitor.clone().unwrap_or_else(|| "the screen".into()),
                    FIRST_PICTURE,
                ));
            }
            self.desk.dispatch(deadline - now)?;
        }
        if self
            .desk
            .state
            .captures
            .iter()
            .any(|c| c.progress == Progress::Ready && c.buffer.is_none())
        {
            return Err(WaylandError::Format(
                self.monitor.clone().unwrap_or_else(|| "the screen".into()),
            ));
        }
        self.take(frame)?;
        // The next copies are asked at once, so the compositor can answer as soon as
        // something changes.
        self.ask();
        self.desk.queue.flush()?;
        Ok(true)
    }

    fn damage(&self) -> Option<&[Rect]> {
        Some(&self.fetched)
    }

    fn pointer(&mut self) -> Option<Pointer> {
        None
    }
}

/// The helper's input, through the virtual pointer and keyboard protocols.
#[derive(Debug)]
pub struct WaylandInput {
    desk: Desk,
    pointer: ZwlrVirtualPointerV1,
    keyboard: ZwpVirtualKeyboardV1,
    /// The extent absolute positions are given in: the shared output's size, or the layout's.
    extent: (u32, u32),
    keymap: Keymap,
    /// The modifiers held down (xkb's masks).
    modifiers: u32,
    start: Instant,
    /// sway's Esc binding, lifted while the helper's literal Esc is typed.
    esc: Option<Arc<SwayEsc>>,
}

impl WaylandInput {
    /// Connects to the compositor at `display` (default: `WAYLAND_DISPLAY`), to move the
    /// pointer over the output `monitor` names or, when `None`, over all of them.
    ///
    /// # Errors
    /// When no compositor answers, or it offers no virtual pointer or keyboard.
    pub fn connect(display: Option<&str>, monitor: Option<&str>) -> Result<WaylandInput> {
        let mut desk = Desk::connect(display)?;
        let qh = desk.queue.handle();
        desk.settle()?;
        let pointers: ZwlrVirtualPointerManagerV1 = desk
            .globals
            .bind(&qh, 1..=2, ())
            .map_err(|_| anyhow::anyhow!("{}", crate::t!("wayland-no-virtual-pointer")))?;
        let keyboards: ZwpVirtualKeyboardManagerV1 = desk
            .globals
            .bind(&qh, 1..=1, ())
            .map_err(|_| anyhow::anyhow!("{}", crate::t!("wayland-no-virtual-keyboard")))?;
        let seat: WlSeat = desk
            .globals
            .bind(&qh, 1..=1, ())
            .map_err(|_| anyhow::anyhow!("{}", crate::t!("wayland-no-virtual-keyboard")))?;
        let monitors = desk.state.monitors();
        let (pointer, extent) = match monitor {
            Some(wanted) if wayland_client::Proxy::version(&pointers) >= 2 => {
                let chosen = choose_monitor(&monitors, wanted)?;
                let output = desk
                    .state
                    .outputs
                    .iter()
                    .find(|o| o.info.name == chosen.name)
                    .map(|o| o.wl.clone());
                (
                    pointers.create_virtual_pointer_with_output(
                        Some(&seat),
                        output.as_ref(),
                        &qh,
                        (),
                    ),
                    (u32::from(chosen.width), u32::from(chosen.height)),
                )
            }
            Some(_) => bail!("{}", crate::t!("wayland-no-virtual-pointer")),
            None => {
                // The picture of every output, as the capture lays it out.
                let (_, width, height) = desk.state.placement(None, |o| {
                    (o.info.width.max(1) as u32, o.info.height.max(1) as u32)
                });
                (
                    pointers.create_virtual_pointer(Some(&seat), &qh, ()),
                    (width, height),
                )
            }
        };
        let keyboard = keyboards.create_virtual_keyboard(&seat, &qh, ());
        let mut input = WaylandInput {
            desk,
            pointer,
            keyboard,
            extent,
            keymap: Keymap::default(),
            modifiers: 0,
            start: Instant::now(),
            esc: None,
        };
        input.upload_keymap()?;
        input.desk.settle()?;
        Ok(input)
    }

    /// Types the helper's literal Escs past sway's Esc binding, which is the sharer's.
    pub fn let_esc_through(&mut self, esc: Arc<SwayEsc>) {
        self.esc = Some(esc);
    }

    fn upload_keymap(&mut self) -> Result<()> {
        let text = self.keymap.text();
        let fd = memfd(text.len() + 1).context("Wayland: sharing the keymap")?;
        let mut file = std::fs::File::from(fd);
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        std::io::Write::write_all(&mut file, &[0])?;
        // WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1.
        self.keyboard
            .keymap(1, file.as_fd(), (text.len() + 1) as u32);
        Ok(())
    }

    fn millis(&self) -> u32 {
        self.start.elapsed().as_millis() as u32
    }

    fn apply_event(&mut self, event: InputEvent) -> Result<()> {
        let time = self.millis();
        match event {
            InputEvent::PointerMove { x, y } => {
                let (w, h) = self.extent;
                self.pointer
                    .motion_absolute(time, x.min(w - 1), y.min(h - 1), w, h);
                self.pointer.frame();
            }
            InputEvent::Button { button, pressed } => {
                // Linux's BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE, BTN_EXTRA.
                let code = match button {
                    1 => 0x110,
                    2 => 0x112,
                    3 => 0x111,
                    8 => 0x113,
                    9 => 0x114,
                    _ => return Ok(()),
                };
                let state = if pressed {
                    wl_pointer::ButtonState::Pressed
                } else {
                    wl_pointer::ButtonState::Released
                };
                self.pointer.button(time, code, state);
                self.pointer.frame();
            }
            InputEvent::Wheel { dx, dy } => {
                for (axis, notches) in [
                    (wl_pointer::Axis::VerticalScroll, dy),
                    (wl_pointer::Axis::HorizontalScroll, dx),
                ] {
                    if notches != 0 {
                        self.pointer.axis_source(wl_pointer::AxisSource::Wheel);
                        self.pointer
                            .axis_discrete(time, axis, f64::from(notches) * 15.0, notches);
                        self.pointer.frame();
                    }
                }
            }
            InputEvent::Key { keysym, pressed } => {
                let (key, added) = self.keymap.key(keysym);
                if added {
                    self.upload_keymap()?;
                }
                match self.esc.clone() {
                    Some(esc) if keysym == xkeysym::key::Escape => esc.let_through(|| {
                        self.keyboard.key(time, key, u32::from(pressed));
                        // sway has seen the key before the binding comes back.
                        self.desk.settle()
                    })?,
                    _ => self.keyboard.key(time, key, u32::from(pressed)),
                }
                if let Some(mask) = modifier_mask(keysym) {
                    if pressed {
                        self.modifiers |= mask;
                    } else {
                        self.modifiers &= !mask;
                    }
                    self.keyboard.modifiers(self.modifiers, 0, 0, 0);
                }
            }
        }
        self.desk.queue.flush()?;
        Ok(())
    }
}

impl InputSink for WaylandInput {
    fn apply(&mut self, event: InputEvent) {
        if let Err(e) = self.apply_event(event) {
            tracing::warn!("the helper's input could not be applied: {e:#}");
        }
    }
}

/// xkb's modifier mask for a modifier key's symbol.
fn modifier_mask(keysym: u32) -> Option<u32> {
    use xkeysym::key;
    Some(match keysym {
        key::Shift_L | key::Shift_R => 1,
        key::Control_L | key::Control_R => 4,
        key::Alt_L | key::Alt_R | key::Meta_L | key::Meta_R => 8,
        key::Super_L | key::Super_R => 64,
        key::ISO_Level3_Shift => 128,
        _ => return None,
    })
}

/// Beckon's own keymap: one key per X key symbol, in the order first typed.
#[derive(Debug)]
struct Keymap {
    symbols: Vec<u32>,
}

/// xkb keycodes run from 8; X11 clients (XWayland) see keycodes up to 255.
const FIRST_KEYCODE: u32 = 8;
const MOST_KEYS: usize = 255 - FIRST_KEYCODE as usize;

impl Default for Keymap {
    fn default() -> Self {
        use xkeysym::key;
        let mut symbols: Vec<u32> = (0x20..0x7f).collect();
        symbols.extend([
            key::Escape,
            key::Return,
            key::BackSpace,
            key::Tab,
            key::Delete,
            key::Insert,
            key::Home,
            key::End,
            key::Page_Up,
            key::Page_Down,
            key::Left,
            key::Right,
            key::Up,
            key::Down,
            key::Shift_L,
            key::Shift_R,
            key::Control_L,
            key::Control_R,
            key::Alt_L,
            key::Alt_R,
            key::Super_L,
            key::Super_R,
            key::Menu,
            key::Print,
            key::Caps_Lock,
        ]);
        symbols.extend(key::F1..=key::F12);
        Keymap { symbols }
    }
}

impl Keymap {
    /// The Linux key code that types `keysym`, and whether the keymap grew for it.
    fn key(&mut self, keysym: u32) -> (u32, bool) {
        if let Some(i) = self.symbols.iter().position(|&s| s == keysym) {
            return (i as u32 + 1, false);
        }
        if self.symbols.len() >= MOST_KEYS {
            // Full: the latest additions take turns on the last key.
            self.symbols.pop();
        }
        self.symbols.push(keysym);
        (self.symbols.len() as u32, true)
    }

    /// The keymap in xkb's text format. Key `i` (from 1) has keycode `i + 8`; Linux key codes
    /// are xkb's less 8.
    fn text(&self) -> String {
        use std::fmt::Write;
        let last = FIRST_KEYCODE as usize + self.symbols.len();
        let mut text = format!(
            "xkb_keymap {{\nxkb_keycodes \"beckon\" {{\nminimum = {FIRST_KEYCODE};\nmaximum = {};\n",
            last.max(FIRST_KEYCODE as usize + 1)
        );
        for i in 1..=self.symbols.len() {
            let _ = writeln!(text, "<K{i}> = {};", i + FIRST_KEYCODE as usize);
        }
        text.push_str(
            "};\nxkb_types \"beckon\" { include \"complete\" };\n\
             xkb_compatibility \"beckon\" { include \"complete\" };\n\
             xkb_symbols \"beckon\" {\n",
        );
        for (i, symbol) in self.symbols.iter().enumerate() {
            let _ = writeln!(text, "key <K{}> {{ [ {symbol:#x} ] }};", i + 1);
            let modifier = match modifier_mask(*symbol) {
                Some(1) => Some("Shift"),
                Some(4) => Some("Control"),
                Some(8) => Some("Mod1"),
                Some(64) => Some("Mod4"),
                Some(128) => Some("Mod5"),
                _ => None,
            };
            if let Some(modifier) = modifier {
                let _ = writeln!(text, "modifier_map {modifier} {{ <K{}> }};", i + 1);
            }
        }
        text.push_str("};\n};\n");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_symbol_gets_a_key_of_its_own_and_the_keymap_names_it() {
        let mut keymap = Keymap::default();
        let (a, grew) = keymap.key(u32::from(b'a'));
        assert!(!grew);
        let (euro, grew) = keymap.key(xkeysym::key::EuroSign);
        assert!(grew);
        assert_ne!(a, euro);
        assert_eq!(keymap.key(xkeysym::key::EuroSign), (euro, false));
        let text = keymap.text();
        assert!(text.contains(&format!("<K{euro}> = {};", euro + 8)));
        assert!(text.contains(&format!(
            "key <K{euro}> {{ [ {:#x} ] }};",
            xkeysym::key::EuroSign
        )));
        assert!(text.contains("modifier_map Shift"));
    }

    #[test]
    fn a_full_keymap_keeps_its_size() {
        let mut keymap = Keymap::default();
        for symbol in 0x1000100..0x1000300 {
            let (key, _) = keymap.key(symbol);
            assert!(key as usize <= MOST_KEYS);
        }
        assert_eq!(keymap.symbols.len(), MOST_KEYS);
    }
}
