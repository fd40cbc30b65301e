//! Where the sharer's screen comes from and where the helper's input goes, per platform, behind
//! the engine's [`beckon_engine::pipeline::FrameSource`] and
//! [`beckon_engine::net::drive::InputSink`] traits.
//!
//! X11 is implemented ([`x11`]); Wayland on wlroots compositors ([`wayland`]: sway and the
//! like); and any desktop with the xdg-desktop-portal, GNOME's and KDE's Wayland among them
//! ([`portal`], its pictures read from PipeWire by [`pipewire`]). Windows (Desktop Duplication
//! and `SendInput`) and macOS (ScreenCaptureKit and `CGEvent`) would be further modules
//! implementing the same two traits; neither can be built or tested on this project's Linux
//! machines yet.

use anyhow::{Result, bail};

pub mod clipboard;
pub mod pipewire;
pub mod portal;
pub mod sway;
pub mod wayland;
pub mod x11;

/// One monitor: an X screen's (RandR 1.5) or a Wayland output, in the desktop's coordinates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Monitor {
    /// Its name, as `xrandr --listmonitors` shows it (`DP-1`, `HDMI-1`, ...).
    pub name: String,
    /// Its left edge on the screen.
    pub x: i16,
    /// Its top edge on the screen.
    pub y: i16,
    /// Its width in pixels.
    pub width: u16,
    /// Its height in pixels.
    pub height: u16,
    /// Whether it is the primary monitor.
    pub primary: bool,
}

impl std::fmt::Display for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}x{}+{}+{}",
            self.name, self.width, self.height, self.x, self.y
        )
    }
}

/// The monitor `wanted` names among `monitors`: its number (from 1) or its name (any case).
///
/// # Errors
/// When none matches: the sentence lists the monitors there are.
pub fn choose_monitor(monitors: &[Monitor], wanted: &str) -> Result<Monitor> {
    let by_number = wanted
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| monitors.get(i));
    let by_name = monitors
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(wanted));
    match by_number.or(by_name) {
        Some(monitor) => Ok(monitor.clone()),
        None if monitors.is_empty() => {
            bail!("{}", crate::t!("x11-no-monitors", wanted = wanted))
        }
        None => {
            let known: Vec<String> = monitors
                .iter()
                .enumerate()
                .map(|(i, m)| format!("{} ({m})", i + 1))
                .collect();
            bail!(
                "{}",
                crate::t!(
                    "x11-no-such-monitor",
                    wanted = wanted,
                    known = known.join(", ")
                )
            )
        }
    }
}
