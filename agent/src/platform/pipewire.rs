//! Reading the desktop's screen-cast streams from PipeWire: the pictures the ScreenCast portal
//! ([`super::portal`]) hands over, one stream per monitor the sharer chose.
//!
//! libpipewire is loaded when a stream is first opened (`dlopen`), not linked: the agent then
//! starts on desktops without PipeWire (X11, wlroots), and says what is missing only where the
//! portal is needed. Only the plain C API is used (thread loop, context, stream), with the few
//! SPA structures it hands out written out below; the format offered is built by hand as an SPA
//! "pod" (a small tagged binary form). Pictures arrive in shared memory (no DMA-BUF: no
//! modifier is offered), are copied into a picture of Beckon's own on PipeWire's thread, and
//! only the areas the stream's damage names when it sends some.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::os::fd::{IntoRawFd, OwnedFd};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use beckon_engine::frame::{Frame, Rect};

/// What went wrong with a screen-cast stream.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PipeWireError {
    /// libpipewire could not be loaded.
    #[error(
        "PipeWire is not installed ({0}): install the pipewire package, or share from an X11 session"
    )]
    Missing(String),
    /// PipeWire refused the connection or the stream.
    #[error("PipeWire: {0}")]
    Failed(String),
    /// The stream ended: the desktop stopped the sharing.
    #[error("the desktop stopped sharing the screen ({0}); share again to go on")]
    Ended(String),
    /// No picture came in time.
    #[error("the desktop sent no picture of the screen within {0:?}")]
    Timeout(Duration),
}

// The SPA and PipeWire constants used (spa/utils/type.h, spa/param/*.h, pipewire/stream.h).
const SPA_TYPE_ID: u32 = 3;
const SPA_TYPE_INT: u32 = 4;
const SPA_TYPE_RECTANGLE: u32 = 10;
const SPA_TYPE_FRACTION: u32 = 11;
const SPA_TYPE_OBJECT: u32 = 15;
const SPA_TYPE_CHOICE: u32 = 19;
const SPA_TYPE_OBJECT_FORMAT: u32 = 0x40003;
const SPA_TYPE_OBJECT_PARAM_META: u32 = 0x40005;
const SPA_PARAM_ENUM_FORMAT: u32 = 3;
const SPA_PARAM_FORMAT: u32 = 4;
const SPA_PARAM_META: u32 = 6;
const SPA_PARAM_META_TYPE: u32 = 1;
const SPA_PARAM_META_SIZE: u32 = 2;
const SPA_FORMAT_MEDIA_TYPE: u32 = 1;
const SPA_FORMAT_MEDIA_SUBTYPE: u32 = 2;
const SPA_FORMAT_VIDEO_FORMAT: u32 = 0x20001;
const SPA_FORMAT_VIDEO_SIZE: u32 = 0x20003;
const SPA_FORMAT_VIDEO_FRAMERATE: u32 = 0x20004;
const SPA_MEDIA_TYPE_VIDEO: u32 = 2;
const SPA_MEDIA_SUBTYPE_RAW: u32 = 1;
const SPA_VIDEO_FORMAT_RGBX: u32 = 7;
const SPA_VIDEO_FORMAT_BGRX: u32 = 8;
const SPA_VIDEO_FORMAT_RGBA: u32 = 11;
const SPA_VIDEO_FORMAT_BGRA: u32 = 12;
const SPA_CHOICE_RANGE: u32 = 1;
const SPA_CHOICE_ENUM: u32 = 3;
const SPA_META_VIDEO_DAMAGE: u32 = 3;
const SPA_CHUNK_FLAG_CORRUPTED: i32 = 1;
const SPA_DIRECTION_INPUT: u32 = 0;
const PW_STREAM_FLAG_AUTOCONNECT: u32 = 1;
const PW_STREAM_FLAG_MAP_BUFFERS: u32 = 1 << 2;
const PW_STREAM_STATE_ERROR: c_int = -1;
const PW_STREAM_STATE_UNCONNECTED: c_int = 0;
const PW_STREAM_STATE_STREAMING: c_int = 3;
const PW_VERSION_STREAM_EVENTS: u32 = 2;
/// The most damaged areas a picture may name (`spa_meta_region`s of 16 bytes).
const DAMAGE_REGIONS: i32 = 16;

/// `struct spa_hook`: PipeWire's listener record, owned by the caller.
#[repr(C)]
struct SpaHook {
    link: [*mut c_void; 2],
    funcs: *const c_void,
    data: *mut c_void,
    removed: *mut c_void,
    private: *mut c_void,
}

/// `struct pw_stream_events` (version 2).
#[repr(C)]
struct StreamEvents {
    version: u32,
    destroy: Option<unsafe extern "C" fn(*mut c_void)>,
    state_changed: Option<unsafe extern "C" fn(*mut c_void, c_int, c_int, *const c_char)>,
    control_info: Option<unsafe extern "C" fn(*mut c_void, u32, *const c_void)>,
    io_changed: Option<unsafe extern "C" fn(*mut c_void, u32, *mut c_void, u32)>,
    param_changed: Option<unsafe extern "C" fn(*mut c_void, u32, *const c_void)>,
    add_buffer: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
    remove_buffer: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
    process: Option<unsafe extern "C" fn(*mut c_void)>,
    drained: Option<unsafe extern "C" fn(*mut c_void)>,
    command: Option<unsafe extern "C" fn(*mut c_void, *const c_void)>,
    trigger_done: Option<unsafe extern "C" fn(*mut c_void)>,
}

/// `struct pw_buffer` (its first field is all that is read).
#[repr(C)]
struct PwBuffer {
    buffer: *mut SpaBuffer,
}

/// `struct spa_buffer`.
#[repr(C)]
struct SpaBuffer {
    n_metas: u32,
    n_datas: u32,
    metas: *mut SpaMeta,
    datas: *mut SpaData,
}

/// `struct spa_meta`.
#[repr(C)]
struct SpaMeta {
    kind: u32,
    size: u32,
    data: *mut c_void,
}

/// `struct spa_data`.
#[repr(C)]
struct SpaData {
    kind: u32,
    flags: u32,
    fd: i64,
    mapoffset: u32,
    maxsize: u32,
    data: *mut c_void,
    chunk: *mut SpaChunk,
}

/// `struct spa_chunk`.
#[repr(C)]
struct SpaChunk {
    offset: u32,
    size: u32,
    stride: i32,
    flags: i32,
}

type Ptr = *mut c_void;

/// libpipewire's entry points.
struct Lib {
    init: unsafe extern "C" fn(*mut c_int, *mut c_void),
    thread_loop_new: unsafe extern "C" fn(*const c_char, *const c_void) -> Ptr,
    thread_loop_get_loop: unsafe extern "C" fn(Ptr) -> Ptr,
    thread_loop_start: unsafe extern "C" fn(Ptr) -> c_int,
    thread_loop_stop: unsafe extern "C" fn(Ptr),
    thread_loop_destroy: unsafe extern "C" fn(Ptr),
    context_new: unsafe extern "C" fn(Ptr, Ptr, usize) -> Ptr,
    context_destroy: unsafe extern "C" fn(Ptr),
    context_connect_fd: unsafe extern "C" fn(Ptr, c_int, Ptr, usize) -> Ptr,
    core_disconnect: unsafe extern "C" fn(Ptr) -> c_int,
    properties_new_string: unsafe extern "C" fn(*const c_char) -> Ptr,
    stream_new: unsafe extern "C" fn(Ptr, *const c_char, Ptr) -> Ptr,
    stream_add_listener: unsafe extern "C" fn(Ptr, *mut SpaHook, *const StreamEvents, Ptr),
    stream_connect: unsafe extern "C" fn(Ptr, u32, u32, u32, *mut *const c_void, u32) -> c_int,
    stream_dequeue_buffer: unsafe extern "C" fn(Ptr) -> *mut PwBuffer,
    stream_queue_buffer: unsafe extern "C" fn(Ptr, *mut PwBuffer) -> c_int,
    stream_update_params: unsafe extern "C" fn(Ptr, *mut *const c_void, u32) -> c_int,
    stream_destroy: unsafe extern "C" fn(Ptr),
}

// SAFETY: the table holds function pointers into a library that is never unloaded.
unsafe impl Send for Lib {}
// SAFETY: as above; the functions themselves are called under PipeWire's own rules.
unsafe impl Sync for Lib {}

/// libpipewire, loaded and initialised once.
fn lib() -> Result<&'static Lib, PipeWireError> {
    static LIB: OnceLock<Result<Lib, String>> = OnceLock::new();
    LIB.get_or_init(load)
        .as_ref()
        .map_err(|e| PipeWireError::Missing(e.clone()))
}

fn load() -> Result<Lib, String> {
    const NAME: &CStr = c"libpipewire-0.3.so.0";
    // SAFETY: dlopen with a valid C string; the handle is kept for the process's life.
    let handle = unsafe { libc::dlopen(NAME.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        return Err(NAME.to_string_lossy().into_owned());
    }
    macro_rules! symbol {
        ($name:expr) => {
            // SAFETY: the live handle; the field's type is the C signature of libpipewire 0.3's
            // function of that name.
            unsafe { symbol(handle, $name)? }
        };
    }
    let lib = Lib {
        init: symbol!(c"pw_init"),
        thread_loop_new: symbol!(c"pw_thread_loop_new"),
        thread_loop_get_loop: symbol!(c"pw_thread_loop_get_loop"),
        thread_loop_start: symbol!(c"pw_thread_loop_start"),
        thread_loop_stop: symbol!(c"pw_thread_loop_stop"),
        thread_loop_destroy: symbol!(c"pw_thread_loop_destroy"),
        context_new: symbol!(c"pw_context_new"),
        context_destroy: symbol!(c"pw_context_destroy"),
        context_connect_fd: symbol!(c"pw_context_connect_fd"),
        core_disconnect: symbol!(c"pw_core_disconnect"),
        properties_new_string: symbol!(c"pw_properties_new_string"),
        stream_new: symbol!(c"pw_stream_new"),
        stream_add_listener: symbol!(c"pw_stream_add_listener"),
        stream_connect: symbol!(c"pw_stream_connect"),
        stream_dequeue_buffer: symbol!(c"pw_stream_dequeue_buffer"),
        stream_queue_buffer: symbol!(c"pw_stream_queue_buffer"),
        stream_update_params: symbol!(c"pw_stream_update_params"),
        stream_destroy: symbol!(c"pw_stream_destroy"),
    };
    // SAFETY: pw_init accepts no arguments (NULL argc and argv).
    unsafe { (lib.init)(std::ptr::null_mut(), std::ptr::null_mut()) };
    Ok(lib)
}

/// The function `name` of the library `handle`, as `F`.
///
/// # Safety
/// `F` is a function pointer type matching the symbol's C signature.
unsafe fn symbol<F: Copy>(handle: *mut c_void, name: &CStr) -> Result<F, String> {
    assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
    // SAFETY: dlsym on a live handle with a valid C string.
    let found = unsafe { libc::dlsym(handle, name.as_ptr()) };
    if found.is_null() {
        return Err(format!("libpipewire lacks {}", name.to_string_lossy()));
    }
    // SAFETY: the caller vouches for the type; sizes were checked.
    Ok(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&found) })
}

/// Whether libpipewire can be loaded (for `doctor`): `Err` says why not.
///
/// # Errors
/// When it is missing.
pub fn available() -> Result<(), PipeWireError> {
    lib().map(|_| ())
}

/// SPA pods, built by hand: a header (body size, type), the body, padding to 8 bytes.
mod pod {
    pub fn pod(kind: u32, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + body.len() + 7);
        out.extend((body.len() as u32).to_ne_bytes());
        out.extend(kind.to_ne_bytes());
        out.extend(body);
        out.resize(out.len().next_multiple_of(8), 0);
        out
    }

    pub fn id(value: u32) -> Vec<u8> {
        pod(super::SPA_TYPE_ID, &value.to_ne_bytes())
    }

    pub fn pair(a: u32, b: u32) -> Vec<u8> {
        [a.to_ne_bytes(), b.to_ne_bytes()].concat()
    }

    /// A choice of `kind` among `values`, each `child` typed and of the same size.
    pub fn choice(kind: u32, child: u32, values: &[Vec<u8>]) -> Vec<u8> {
        let size = values.first().map_or(0, Vec::len) as u32;
        let mut body = Vec::new();
        body.extend(kind.to_ne_bytes());
        body.extend(0u32.to_ne_bytes());
        body.extend(size.to_ne_bytes());
        body.extend(child.to_ne_bytes());
        for value in values {
            body.extend(value);
        }
        pod(super::SPA_TYPE_CHOICE, &body)
    }

    /// An object of `kind` for the parameter `id`, with its (key, value pod) properties.
    pub fn object(kind: u32, id: u32, properties: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(kind.to_ne_bytes());
        body.extend(id.to_ne_bytes());
        for (key, value) in properties {
            body.extend(key.to_ne_bytes());
            body.extend(0u32.to_ne_bytes());
            body.extend(value);
        }
        pod(super::SPA_TYPE_OBJECT, &body)
    }

    fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    }

    /// The value of an object's property `key`: (type, body), a choice's default taken.
    pub fn property(object: &[u8], key: u32) -> Option<(u32, &[u8])> {
        let size = u32_at(object, 0)? as usize;
        if u32_at(object, 4)? != super::SPA_TYPE_OBJECT {
            return None;
        }
        let body = object.get(8..8 + size)?;
        let mut at = 8;
        while at + 16 <= body.len() {
            let (k, value_size, value_type) = (
                u32_at(body, at)?,
                u32_at(body, at + 8)?,
                u32_at(body, at + 12)?,
            );
            let value = body.get(at + 16..at + 16 + value_size as usize)?;
            if k == key {
                if value_type != super::SPA_TYPE_CHOICE {
                    return Some((value_type, value));
                }
                let (child_size, child_type) = (u32_at(value, 8)?, u32_at(value, 12)?);
                return Some((child_type, value.get(16..16 + child_size as usize)?));
            }
            at += 16 + (value_size as usize).next_multiple_of(8);
        }
        None
    }

    pub fn read_u32(body: &[u8], index: usize) -> Option<u32> {
        u32_at(body, index * 4)
    }
}

/// The formats Beckon reads: 32-bit RGB in either order, any size, any rate.
fn enum_format() -> Vec<u8> {
    let formats = [
        SPA_VIDEO_FORMAT_BGRX,
        SPA_VIDEO_FORMAT_BGRX,
        SPA_VIDEO_FORMAT_BGRA,
        SPA_VIDEO_FORMAT_RGBX,
        SPA_VIDEO_FORMAT_RGBA,
    ];
    pod::object(
        SPA_TYPE_OBJECT_FORMAT,
        SPA_PARAM_ENUM_FORMAT,
        &[
            (SPA_FORMAT_MEDIA_TYPE, pod::id(SPA_MEDIA_TYPE_VIDEO)),
            (SPA_FORMAT_MEDIA_SUBTYPE, pod::id(SPA_MEDIA_SUBTYPE_RAW)),
            (
                SPA_FORMAT_VIDEO_FORMAT,
                pod::choice(
                    SPA_CHOICE_ENUM,
                    SPA_TYPE_ID,
                    &formats.map(|f| f.to_ne_bytes().to_vec()),
                ),
            ),
            (
                SPA_FORMAT_VIDEO_SIZE,
                pod::choice(
                    SPA_CHOICE_RANGE,
                    SPA_TYPE_RECTANGLE,
                    &[
                        pod::pair(1920, 1080),
                        pod::pair(1, 1),
                        pod::pair(16384, 16384),
                    ],
                ),
            ),
            (
                SPA_FORMAT_VIDEO_FRAMERATE,
                pod::choice(
                    SPA_CHOICE_RANGE,
                    SPA_TYPE_FRACTION,
                    &[pod::pair(30, 1), pod::pair(0, 1), pod::pair(1000, 1)],
                ),
            ),
        ],
    )
}

/// Asks for the damage of each picture.
fn damage_meta() -> Vec<u8> {
    let region = 16;
    pod::object(
        SPA_TYPE_OBJECT_PARAM_META,
        SPA_PARAM_META,
        &[
            (SPA_PARAM_META_TYPE, pod::id(SPA_META_VIDEO_DAMAGE)),
            (
                SPA_PARAM_META_SIZE,
                pod::choice(
                    SPA_CHOICE_RANGE,
                    SPA_TYPE_INT,
                    &[
                        (region * DAMAGE_REGIONS).to_ne_bytes().to_vec(),
                        region.to_ne_bytes().to_vec(),
                        (region * DAMAGE_REGIONS).to_ne_bytes().to_vec(),
                    ],
                ),
            ),
        ],
    )
}

/// One stream's latest picture, as PipeWire's thread leaves it.
#[derive(Default)]
struct Latest {
    width: u32,
    height: u32,
    /// The negotiated SPA video format.
    format: u32,
    /// BGRA, `width * 4` a row.
    pixels: Vec<u8>,
    /// The areas changed since the picture was last taken.
    damage: Vec<Rect>,
    /// Pictures received.
    pictures: u64,
    /// Why the stream ended, once it has.
    ended: Option<PipeWireError>,
    streaming: bool,
}

/// What PipeWire's thread and the capture share for one stream. Boxed: PipeWire holds its
/// address.
struct Slot {
    stream: AtomicPtr<c_void>,
    latest: Mutex<Latest>,
    changed: Condvar,
    /// PipeWire's record of the listener, which it links and unlinks on its thread.
    hook: std::cell::UnsafeCell<SpaHook>,
}

// SAFETY: the hook is written only by PipeWire, under its loop's lock; the rest is atomics and
// mutexes.
unsafe impl Sync for Slot {}

impl Slot {
    fn latest(&self) -> std::sync::MutexGuard<'_, Latest> {
        self.latest.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn end(&self, why: PipeWireError) {
        self.latest().ended.get_or_insert(why);
        self.changed.notify_all();
    }

    /// Takes one of PipeWire's buffers into the latest picture.
    ///
    /// # Safety
    /// `buffer` is a buffer PipeWire just handed out, mapped (`MAP_BUFFERS`).
    unsafe fn take(&self, buffer: &SpaBuffer) {
        if buffer.n_datas == 0 || buffer.datas.is_null() {
            return;
        }
        // SAFETY: PipeWire gives `n_datas` (at least one) data records.
        let data = unsafe { &*buffer.datas };
        if data.data.is_null() || data.chunk.is_null() {
            return;
        }
        // SAFETY: a mapped data record has its chunk.
        let chunk = unsafe { &*data.chunk };
        if chunk.size == 0 || chunk.flags & SPA_CHUNK_FLAG_CORRUPTED != 0 {
            return;
        }
        let mut latest = self.latest();
        let (width, height) = (latest.width, latest.height);
        if width == 0 || height == 0 {
            return;
        }
        let stride = if chunk.stride > 0 {
            chunk.stride as usize
        } else {
            width as usize * 4
        };
        let offset = (chunk.offset % data.maxsize.max(1)) as usize;
        let needed = stride * (height as usize - 1) + width as usize * 4;
        if offset + needed > data.maxsize as usize {
            return;
        }
        // SAFETY: the mapping holds `maxsize` bytes, and the picture fits in it (checked).
        let bytes =
            unsafe { std::slice::from_raw_parts((data.data as *const u8).add(offset), needed) };
        let bounds = Rect::new(0, 0, width, height);
        // SAFETY: PipeWire gives `n_metas` meta records with their data.
        let areas = unsafe { damage(buffer) }
            .map(|areas| {
                areas
                    .iter()
                    .filter_map(|a| a.intersection(&bounds))
                    .collect::<Vec<_>>()
            })
            .filter(|_| latest.pictures > 0)
            .unwrap_or_else(|| vec![bounds]);
        let swap = matches!(latest.format, SPA_VIDEO_FORMAT_RGBX | SPA_VIDEO_FORMAT_RGBA);
        let row_bytes = width as usize * 4;
        if latest.pixels.len() != row_bytes * height as usize {
            latest.pixels = vec![0; row_bytes * height as usize];
        }
        for area in &areas {
            for row in area.y..area.y + area.height {
                let from = row as usize * stride + area.x as usize * 4;
                let to = row as usize * row_bytes + area.x as usize * 4;
                let len = area.width as usize * 4;
                let dst = &mut latest.pixels[to..to + len];
                dst.copy_from_slice(&bytes[from..from + len]);
                for pixel in dst.chunks_exact_mut(4) {
                    if swap {
                        pixel.swap(0, 2);
                    }
                    pixel[3] = 255;
                }
            }
        }
        latest.pictures += 1;
        latest.damage.extend(areas);
        if latest.damage.len() > 64 {
            latest.damage = vec![bounds];
        }
        drop(latest);
        self.changed.notify_all();
    }
}

/// The damaged areas a buffer names, when it carries its damage.
///
/// # Safety
/// `buffer`'s meta records are PipeWire's, valid for the call.
unsafe fn damage(buffer: &SpaBuffer) -> Option<Vec<Rect>> {
    if buffer.metas.is_null() {
        return None;
    }
    // SAFETY: PipeWire gives `n_metas` records.
    let metas = unsafe { std::slice::from_raw_parts(buffer.metas, buffer.n_metas as usize) };
    let meta = metas
        .iter()
        .find(|m| m.kind == SPA_META_VIDEO_DAMAGE && !m.data.is_null())?;
    // `struct spa_meta_region`: x, y (i32), width, height (u32).
    // SAFETY: the meta's data holds `size` bytes.
    let bytes = unsafe { std::slice::from_raw_parts(meta.data as *const u8, meta.size as usize) };
    let mut areas = Vec::new();
    for region in bytes.chunks_exact(16) {
        let field = |i: usize| u32::from_ne_bytes(region[i * 4..i * 4 + 4].try_into().unwrap());
        let (x, y, w, h) = (field(0) as i32, field(1) as i32, field(2), field(3));
        if w == 0 || h == 0 {
            break;
        }
        areas.push(Rect::new(x.max(0) as u32, y.max(0) as u32, w, h));
    }
    Some(areas)
}

unsafe extern "C" fn on_state_changed(
    data: *mut c_void,
    _old: c_int,
    state: c_int,
    error: *const c_char,
) {
    // SAFETY: `data` is the slot registered with the listener, alive while the stream is.
    let slot = unsafe { &*(data as *const Slot) };
    match state {
        PW_STREAM_STATE_ERROR => {
            let why = if error.is_null() {
                "the stream failed".to_string()
            } else {
                // SAFETY: PipeWire passes a C string.
                unsafe { CStr::from_ptr(error) }
                    .to_string_lossy()
                    .into_owned()
            };
            slot.end(PipeWireError::Failed(why));
        }
        PW_STREAM_STATE_UNCONNECTED if slot.latest().streaming => {
            slot.end(PipeWireError::Ended("the stream was disconnected".into()));
        }
        PW_STREAM_STATE_STREAMING => {
            slot.latest().streaming = true;
            slot.changed.notify_all();
        }
        _ => {}
    }
}

unsafe extern "C" fn on_param_changed(data: *mut c_void, id: u32, param: *const c_void) {
    if id != SPA_PARAM_FORMAT || param.is_null() {
        return;
    }
    // SAFETY: `data` is the registered slot.
    let slot = unsafe { &*(data as *const Slot) };
    // SAFETY: `param` is an SPA pod: its header says its size.
    let object = unsafe {
        let size = *(param as *const u32) as usize;
        std::slice::from_raw_parts(param as *const u8, 8 + size)
    };
    let format = pod::property(object, SPA_FORMAT_VIDEO_FORMAT)
        .filter(|(kind, _)| *kind == SPA_TYPE_ID)
        .and_then(|(_, body)| pod::read_u32(body, 0));
    let size = pod::property(object, SPA_FORMAT_VIDEO_SIZE)
        .filter(|(kind, _)| *kind == SPA_TYPE_RECTANGLE)
        .and_then(|(_, body)| Some((pod::read_u32(body, 0)?, pod::read_u32(body, 1)?)));
    let (Some(format), Some((width, height))) = (format, size) else {
        slot.end(PipeWireError::Failed(
            "the desktop offered no picture format Beckon reads".into(),
        ));
        return;
    };
    {
        let mut latest = slot.latest();
        latest.format = format;
        latest.width = width;
        latest.height = height;
        latest.pictures = 0;
        latest.damage = vec![Rect::new(0, 0, width, height)];
    }
    let meta = damage_meta();
    let mut params = [meta.as_ptr().cast::<c_void>()];
    if let Ok(lib) = lib() {
        // SAFETY: called on PipeWire's thread with the loop locked, as callbacks are; the pod
        // outlives the call, which copies it.
        unsafe {
            (lib.stream_update_params)(slot.stream.load(Ordering::Acquire), params.as_mut_ptr(), 1)
        };
    }
}

unsafe extern "C" fn on_process(data: *mut c_void) {
    // SAFETY: `data` is the registered slot.
    let slot = unsafe { &*(data as *const Slot) };
    let Ok(lib) = lib() else { return };
    let stream = slot.stream.load(Ordering::Acquire);
    loop {
        // SAFETY: the stream is live while its callbacks run.
        let buffer = unsafe { (lib.stream_dequeue_buffer)(stream) };
        if buffer.is_null() {
            break;
        }
        // SAFETY: a dequeued buffer is valid until queued back.
        unsafe {
            if let Some(spa) = (*buffer).buffer.as_ref() {
                slot.take(spa);
            }
            (lib.stream_queue_buffer)(stream, buffer);
        }
    }
}

static EVENTS: StreamEvents = StreamEvents {
    version: PW_VERSION_STREAM_EVENTS,
    destroy: None,
    state_changed: Some(on_state_changed),
    control_info: None,
    io_changed: None,
    param_changed: Some(on_param_changed),
    add_buffer: None,
    remove_buffer: None,
    process: Some(on_process),
    drained: None,
    command: None,
    trigger_done: None,
};

// SAFETY: the table is immutable function pointers.
unsafe impl Sync for StreamEvents {}

/// A connection to PipeWire (through the fd the portal opened) with one stream per node.
pub struct Streams {
    lib: &'static Lib,
    thread_loop: Ptr,
    context: Ptr,
    core: Ptr,
    /// One a node; never moved once made, as PipeWire holds their addresses.
    slots: Box<[Slot]>,
}

// SAFETY: the PipeWire objects are only touched from `Drop` after the loop stopped, and the
// slots are shared through their mutexes.
unsafe impl Send for Streams {}

impl std::fmt::Debug for Streams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streams")
            .field("streams", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl Streams {
    /// Connects through `fd` (the portal's `OpenPipeWireRemote`) and reads the nodes `nodes`.
    ///
    /// # Errors
    /// When libpipewire is missing or refuses.
    pub fn connect(fd: OwnedFd, nodes: &[u32]) -> Result<Streams, PipeWireError> {
        let lib = lib()?;
        let failed = |what: &str| PipeWireError::Failed(what.to_string());
        // SAFETY: plain constructor calls; every object made is kept in `made` and destroyed
        // by its Drop, in reverse order, once the loop has stopped.
        unsafe {
            let thread_loop = (lib.thread_loop_new)(c"beckon-pipewire".as_ptr(), std::ptr::null());
            if thread_loop.is_null() {
                return Err(failed("no thread loop"));
            }
            let mut made = Streams {
                lib,
                thread_loop,
                context: std::ptr::null_mut(),
                core: std::ptr::null_mut(),
                slots: nodes
                    .iter()
                    .map(|_| Slot {
                        stream: AtomicPtr::default(),
                        latest: Mutex::default(),
                        changed: Condvar::new(),
                        hook: std::cell::UnsafeCell::new(SpaHook {
                            link: [std::ptr::null_mut(); 2],
                            funcs: std::ptr::null(),
                            data: std::ptr::null_mut(),
                            removed: std::ptr::null_mut(),
                            private: std::ptr::null_mut(),
                        }),
                    })
                    .collect(),
            };
            made.context = (lib.context_new)(
                (lib.thread_loop_get_loop)(thread_loop),
                std::ptr::null_mut(),
                0,
            );
            if made.context.is_null() {
                return Err(failed("no context"));
            }
            made.core =
                (lib.context_connect_fd)(made.context, fd.into_raw_fd(), std::ptr::null_mut(), 0);
            if made.core.is_null() {
                return Err(failed("the portal's connection was refused"));
            }
            for (slot, &node) in made.slots.iter().zip(nodes) {
                let properties = (lib.properties_new_string)(
                    c"media.type=Video media.category=Capture media.role=Screen".as_ptr(),
                );
                let stream = (lib.stream_new)(made.core, c"beckon-screen".as_ptr(), properties);
                if stream.is_null() {
                    return Err(failed("no stream"));
                }
                slot.stream.store(stream, Ordering::Release);
                let data = (slot as *const Slot).cast_mut().cast::<c_void>();
                (lib.stream_add_listener)(stream, slot.hook.get(), &EVENTS, data);
                let format = enum_format();
                let mut params = [format.as_ptr().cast::<c_void>()];
                let connected = (lib.stream_connect)(
                    stream,
                    SPA_DIRECTION_INPUT,
                    node,
                    PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS,
                    params.as_mut_ptr(),
                    1,
                );
                if connected < 0 {
                    return Err(failed(&format!("stream {node} refused ({connected})")));
                }
            }
            if (lib.thread_loop_start)(thread_loop) < 0 {
                return Err(failed("the thread loop did not start"));
            }
            Ok(made)
        }
    }

    /// The size of stream `index`'s pictures, once known.
    pub fn size(&self, index: usize) -> Option<(u32, u32)> {
        let latest = self.slots.get(index)?.latest();
        (latest.width > 0 && latest.pictures > 0).then_some((latest.width, latest.height))
    }

    /// Waits until every stream has sent a picture, or one ended, or `timeout` passed. A
    /// stream that is flowing but has sent nothing yet is no error: some desktops send a
    /// stream's first picture only once the screen changes.
    ///
    /// # Errors
    /// When a stream ended or failed, or did not start flowing in time.
    pub fn wait_for_pictures(&self, timeout: Duration) -> Result<(), PipeWireError> {
        let deadline = Instant::now() + timeout;
        for slot in &self.slots {
            let mut latest = slot.latest();
            loop {
                if let Some(why) = &latest.ended {
                    return Err(why.clone());
                }
                if latest.pictures > 0 {
                    break;
                }
                let now = Instant::now();
                if now >= deadline && latest.streaming {
                    break;
                }
                if now >= deadline {
                    return Err(PipeWireError::Timeout(timeout));
                }
                latest = slot
                    .changed
                    .wait_timeout(latest, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        Ok(())
    }

    /// Copies what changed in stream `index` since the last call into `frame` at (`x`, `y`),
    /// or all of it when `whole`; pushes the areas copied (in the frame) onto `areas`.
    ///
    /// # Errors
    /// When the stream ended or failed.
    pub fn take(
        &self,
        index: usize,
        frame: &mut Frame,
        (x, y): (u32, u32),
        whole: bool,
        areas: &mut Vec<Rect>,
    ) -> Result<(), PipeWireError> {
        let Some(slot) = self.slots.get(index) else {
            return Ok(());
        };
        let mut latest = slot.latest();
        if let Some(why) = &latest.ended {
            return Err(why.clone());
        }
        let bounds = Rect::new(0, 0, latest.width, latest.height);
        let changed = std::mem::take(&mut latest.damage);
        if latest.pictures == 0 {
            return Ok(());
        }
        let changed = if whole { vec![bounds] } else { changed };
        let frame_bounds = Rect::new(0, 0, frame.width(), frame.height());
        let stride = frame.stride();
        let row_bytes = latest.width as usize * 4;
        let data = frame.data_mut();
        for area in changed {
            let Some(area) = area.intersection(&bounds) else {
                continue;
            };
            let Some(placed) = Rect::new(area.x + x, area.y + y, area.width, area.height)
                .intersection(&frame_bounds)
            else {
                continue;
            };
            for row in placed.y..placed.y + placed.height {
                let from = (row - y) as usize * row_bytes + (placed.x - x) as usize * 4;
                let to = row as usize * stride + placed.x as usize * 4;
                let len = placed.width as usize * 4;
                data[to..to + len].copy_from_slice(&latest.pixels[from..from + len]);
            }
            areas.push(placed);
        }
        Ok(())
    }
}

impl Drop for Streams {
    fn drop(&mut self) {
        let lib = self.lib;
        // SAFETY: the loop is stopped first, so no callback runs while the objects go, in the
        // reverse order of their making; the slots (the callbacks' data) are dropped after.
        unsafe {
            (lib.thread_loop_stop)(self.thread_loop);
            for slot in &self.slots {
                let stream = slot.stream.load(Ordering::Acquire);
                if !stream.is_null() {
                    (lib.stream_destroy)(stream);
                }
            }
            if !self.core.is_null() {
                (lib.core_disconnect)(self.core);
            }
            if !self.context.is_null() {
                (lib.context_destroy)(self.context);
            }
            (lib.thread_loop_destroy)(self.thread_loop);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_format_pod_is_read_back() {
        let format = enum_format();
        assert_eq!(format.len() % 8, 0);
        assert_eq!(
            pod::property(&format, SPA_FORMAT_MEDIA_TYPE),
            Some((SPA_TYPE_ID, &SPA_MEDIA_TYPE_VIDEO.to_ne_bytes()[..]))
        );
        let (kind, body) = pod::property(&format, SPA_FORMAT_VIDEO_SIZE).unwrap();
        assert_eq!(kind, SPA_TYPE_RECTANGLE);
        assert_eq!(
            (pod::read_u32(body, 0), pod::read_u32(body, 1)),
            (Some(1920), Some(1080))
        );
        let (kind, body) = pod::property(&format, SPA_FORMAT_VIDEO_FORMAT).unwrap();
        assert_eq!(
            (kind, pod::read_u32(body, 0)),
            (SPA_TYPE_ID, Some(SPA_VIDEO_FORMAT_BGRX))
        );
        assert_eq!(pod::property(&format, 0x2_0099), None);
        // A truncated pod is refused, not read past.
        assert_eq!(
            pod::property(&format[..format.len() - 16], SPA_FORMAT_VIDEO_SIZE),
            None
        );
    }
}
