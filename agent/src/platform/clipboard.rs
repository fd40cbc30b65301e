//! The sharer's text clipboard, shared while the helper has control: what the sharer copies
//! then goes to the helper, and what the helper copies is put here. One thread owns the
//! clipboard for the whole process (on X11 the text it put there lives only as long as its
//! owner), through `arboard`, on the display `DISPLAY` names.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};

/// How often the sharer's clipboard is looked at while it is watched.
const POLL: Duration = Duration::from_millis(250);

/// Called with each text the sharer copies while watched.
type Copied = Box<dyn FnMut(String) + Send>;

enum Command {
    Watch(Copied),
    Unwatch,
    Set(String, mpsc::Sender<()>),
}

/// The clipboard's thread, and whether the sharer lets it be shared.
#[derive(Debug)]
pub struct SharedClipboard {
    commands: mpsc::Sender<Command>,
    enabled: Arc<AtomicBool>,
}

impl SharedClipboard {
    /// Opens the clipboard on its own thread.
    ///
    /// # Errors
    /// When the clipboard cannot be opened (no display).
    pub fn start(enabled: bool) -> Result<SharedClipboard> {
        let (commands, received) = mpsc::channel();
        let (opened_tx, opened) = mpsc::channel();
        let enabled = Arc::new(AtomicBool::new(enabled));
        let on = enabled.clone();
        std::thread::Builder::new()
            .name("clipboard".into())
            .spawn(move || match arboard::Clipboard::new() {
                Ok(clipboard) => {
                    let _ = opened_tx.send(Ok(()));
                    serve(clipboard, &received, &on);
                }
                Err(e) => {
                    let _ = opened_tx.send(Err(e));
                }
            })?;
        opened
            .recv()
            .with_context(|| crate::t!("clipboard-failed"))?
            .with_context(|| crate::t!("clipboard-failed"))?;
        Ok(SharedClipboard { commands, enabled })
    }

    fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// Whether the clipboard is shared (the sharer may turn it off and on at any time).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    /// Whether the clipboard is shared.
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Reports each text the sharer copies from now on (what is on the clipboard already
    /// stays private) to `copied`, until [`SharedClipboard::unwatch`].
    pub fn watch(&self, copied: impl FnMut(String) + Send + 'static) {
        self.send(Command::Watch(Box::new(copied)));
    }

    /// Stops reporting.
    pub fn unwatch(&self) {
        self.send(Command::Unwatch);
    }

    /// Puts `text` on the clipboard, when shared, and returns once it is there (a Ctrl+V
    /// injected next pastes it).
    pub fn set(&self, text: String) {
        if !self.enabled() {
            return;
        }
        let (done, wait) = mpsc::channel();
        self.send(Command::Set(text, done));
        let _ = wait.recv_timeout(Duration::from_secs(1));
    }
}

/// The clipboard thread: carries out commands and, while watched, reports new text.
fn serve(mut clipboard: arboard::Clipboard, commands: &mpsc::Receiver<Command>, on: &AtomicBool) {
    let mut watcher: Option<Copied> = None;
    // The text last seen or put there: only a change is reported.
    let mut last: Option<String> = None;
    loop {
        match commands.recv_timeout(POLL) {
            Ok(Command::Watch(copied)) => {
                last = clipboard.get_text().ok();
                watcher = Some(copied);
            }
            Ok(Command::Unwatch) => watcher = None,
            Ok(Command::Set(text, done)) => {
                match clipboard.set_text(text.as_str()) {
                    Ok(()) => last = Some(text),
                    Err(e) => tracing::warn!("could not set the clipboard: {e}"),
                }
                let _ = done.send(());
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let Some(copied) = watcher.as_mut() else {
                    continue;
                };
                let Ok(text) = clipboard.get_text() else {
                    continue;
                };
                if last.as_ref() != Some(&text) {
                    last = Some(text.clone());
                    if on.load(Ordering::Relaxed) {
                        copied(text);
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}
