//! `beckon-agent stop-control`: ends the helper's control from anywhere, for a key binding of
//! the sharer's desktop where Beckon cannot watch the keyboard itself (Wayland compositors
//! other than sway: Hyprland, river, Wayfire, labwc).
//!
//! While serving, the agent listens on a socket in the sharer's runtime directory
//! (`$XDG_RUNTIME_DIR/beckon-agent.sock`, mode 0600: only the sharer's own programs reach it).
//! The one thing it can be asked is to end control, which only ever takes power away from the
//! helper.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// The request, and the answers.
const REQUEST: &str = "stop-control";
const ENDED: &str = "ended";
const NOBODY: &str = "nobody";

/// The socket's path, in the sharer's runtime directory; `None` without one.
pub fn socket() -> Option<PathBuf> {
    let dir = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty())?;
    Some(PathBuf::from(dir).join("beckon-agent.sock"))
}

/// Whether an agent of this desktop session is serving (its socket answers).
pub fn serving() -> bool {
    socket().is_some_and(|path| UnixStream::connect(path).is_ok())
}

/// What `stop-control` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// A helper had control: it has ended.
    Ended,
    /// No helper had control.
    Nobody,
}

/// Asks the serving agent to end the helper's control.
///
/// # Errors
/// When no agent is serving (or this session has no runtime directory).
pub fn stop_control() -> Result<Stopped> {
    let path = socket().with_context(|| crate::t!("stop-no-runtime-dir"))?;
    let mut stream = UnixStream::connect(&path).with_context(|| crate::t!("stop-not-serving"))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    writeln!(stream, "{REQUEST}")?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer)?;
    match answer.trim() {
        ENDED => Ok(Stopped::Ended),
        NOBODY => Ok(Stopped::Nobody),
        other => bail!("the agent answered {other:?}"),
    }
}

/// The agent's end: listens while serving, and removes its socket when dropped.
#[derive(Debug)]
pub struct StopListener {
    path: PathBuf,
    closed: Arc<AtomicBool>,
}

impl StopListener {
    /// Listens, calling `stop` for each request; `stop` says whether a helper had control.
    /// Another agent already listening keeps its socket: then this one does not listen.
    ///
    /// # Errors
    /// When there is no runtime directory, another agent listens, or the socket cannot be made.
    pub fn start(stop: impl Fn() -> bool + Send + 'static) -> Result<StopListener> {
        let path = socket().with_context(|| crate::t!("stop-no-runtime-dir"))?;
        if UnixStream::connect(&path).is_ok() {
            bail!("another Beckon agent is serving ({})", path.display());
        }
        // A socket left by an agent that ended without removing it.
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path)
            .with_context(|| format!("listening on {}", path.display()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        let closed = Arc::new(AtomicBool::new(false));
        let done = closed.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(mut stream) = stream else { break };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut line = String::new();
                // A request is one short line; anything else is dropped unanswered.
                let read = BufReader::new(std::io::Read::take(&stream, 64)).read_line(&mut line);
                if read.is_ok() && line.trim() == REQUEST {
                    let answer = if stop() { ENDED } else { NOBODY };
                    let _ = writeln!(stream, "{answer}");
                }
            }
        });
        Ok(StopListener { path, closed })
    }
}

impl Drop for StopListener {
    fn drop(&mut self) {
        // Wakes the listening thread, which then ends.
        self.closed.store(true, Ordering::Relaxed);
        let _ = UnixStream::connect(&self.path);
        let _ = std::fs::remove_file(&self.path);
    }
}
