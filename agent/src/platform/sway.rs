//! The sharer's Esc on sway. No Wayland program may watch the keyboard, so the compositor itself
//! is asked, through its IPC socket (`SWAYSOCK`), to bind Esc while the helper has control and to
//! say when it is pressed. The binding exists only while control is granted: the rest of the
//! time Esc goes to the sharer's programs as usual. The helper's deliberate literal Esc is typed
//! with the binding lifted for that moment ([`SwayEsc::let_through`]).
//!
//! Other wlroots compositors have no such socket: there the sharer ends control with "Stop
//! control" in the sharer's window (see the README).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

/// The command the binding runs: sway's no-op, named so the event can be told apart.
const NOP: &str = "nop beckon-esc";

/// i3's IPC message types, which sway keeps.
const RUN_COMMAND: u32 = 0;
const SUBSCRIBE: u32 = 2;
/// The binding event's type: the high bit marks events.
const BINDING_EVENT: u32 = 0x8000_0005;

/// The largest IPC message read; sway's answers here are small.
const MOST: usize = 1 << 20;

/// Esc bound in sway while the helper has control.
#[derive(Debug)]
pub struct SwayEsc {
    socket: PathBuf,
    bound: Mutex<bool>,
}

impl SwayEsc {
    /// sway's IPC socket from `SWAYSOCK`; `None` when this is not sway.
    pub fn from_env() -> Option<SwayEsc> {
        let socket = std::env::var_os("SWAYSOCK").filter(|s| !s.is_empty())?;
        Some(SwayEsc {
            socket: socket.into(),
            bound: Mutex::new(false),
        })
    }

    fn bound(&self) -> std::sync::MutexGuard<'_, bool> {
        self.bound.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs one sway command.
    fn run(&self, command: &str) -> Result<()> {
        let mut stream = UnixStream::connect(&self.socket)
            .with_context(|| format!("sway: connecting to {}", self.socket.display()))?;
        send(&mut stream, RUN_COMMAND, command.as_bytes())?;
        let (_, reply) = receive(&mut stream)?;
        let reply: serde_json::Value =
            serde_json::from_slice(&reply).context("sway: its answer")?;
        let failed = reply
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["success"] != serde_json::Value::Bool(true));
        if let Some(failed) = failed {
            bail!("sway refused \"{command}\": {}", failed["error"]);
        }
        Ok(())
    }

    /// Binds Esc (control was granted).
    ///
    /// # Errors
    /// When sway cannot be reached or refuses.
    pub fn grab(&self) -> Result<()> {
        let mut bound = self.bound();
        self.run(&format!("bindsym --no-warn --no-repeat Escape {NOP}"))?;
        *bound = true;
        Ok(())
    }

    /// Lifts the binding (control ended).
    ///
    /// # Errors
    /// When sway cannot be reached or refuses.
    pub fn release(&self) -> Result<()> {
        let mut bound = self.bound();
        if std::mem::take(&mut *bound) {
            self.run("unbindsym Escape")?;
        }
        Ok(())
    }

    /// Runs `type_esc` (the helper's literal Esc) with the binding lifted, so sway passes it
    /// to the focused program instead of taking it for the sharer's.
    pub fn let_through<T>(&self, type_esc: impl FnOnce() -> T) -> T {
        let bound = self.bound();
        if !*bound {
            return type_esc();
        }
        let lifted = self.run("unbindsym Escape").is_ok();
        let typed = type_esc();
        if lifted && let Err(e) = self.run(&format!("bindsym --no-warn --no-repeat Escape {NOP}")) {
            tracing::warn!("sway: Esc could not be bound again: {e:#}");
        }
        drop(bound);
        typed
    }

    /// Listens for the binding's presses.
    ///
    /// # Errors
    /// When sway cannot be reached or refuses.
    pub fn watch(&self) -> Result<SwayEscWatch> {
        let mut stream = UnixStream::connect(&self.socket)
            .with_context(|| format!("sway: connecting to {}", self.socket.display()))?;
        send(&mut stream, SUBSCRIBE, br#"["binding"]"#)?;
        let (_, reply) = receive(&mut stream)?;
        let reply: serde_json::Value =
            serde_json::from_slice(&reply).context("sway: its answer")?;
        if reply["success"] != serde_json::Value::Bool(true) {
            bail!("sway refused to report its key bindings");
        }
        Ok(SwayEscWatch { stream })
    }
}

/// sway's reports of its key bindings.
#[derive(Debug)]
pub struct SwayEscWatch {
    stream: UnixStream,
}

impl SwayEscWatch {
    /// Waits until the sharer presses Esc while it is bound.
    ///
    /// # Errors
    /// When the connection to sway ends.
    pub fn wait(&mut self) -> Result<()> {
        loop {
            let (kind, payload) = receive(&mut self.stream)?;
            if kind != BINDING_EVENT {
                continue;
            }
            let event: serde_json::Value = match serde_json::from_slice(&payload) {
                Ok(event) => event,
                Err(_) => continue,
            };
            if event["binding"]["command"].as_str() == Some(NOP) {
                return Ok(());
            }
        }
    }
}

fn send(stream: &mut UnixStream, kind: u32, payload: &[u8]) -> Result<()> {
    let mut message = b"i3-ipc".to_vec();
    message.extend_from_slice(&(payload.len() as u32).to_ne_bytes());
    message.extend_from_slice(&kind.to_ne_bytes());
    message.extend_from_slice(payload);
    stream.write_all(&message).context("sway: sending")
}

fn receive(stream: &mut UnixStream) -> Result<(u32, Vec<u8>)> {
    let mut header = [0u8; 14];
    stream.read_exact(&mut header).context("sway: reading")?;
    if &header[..6] != b"i3-ipc" {
        bail!("sway: not an IPC message");
    }
    let len = u32::from_ne_bytes(header[6..10].try_into().unwrap_or_default()) as usize;
    let kind = u32::from_ne_bytes(header[10..14].try_into().unwrap_or_default());
    if len > MOST {
        bail!("sway: a message of {len} bytes");
    }
    let mut payload = vec![0; len];
    stream.read_exact(&mut payload).context("sway: reading")?;
    Ok((kind, payload))
}
