//! Real desktops for the tools that drive real processes (`demo`, `agent-cpu`,
//! `viewer-present`): Xvfb servers, the binaries built beside them, their output followed line by
//! line, xdotool, screen grabs, and finding one screen shown exactly inside another.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Processes started here, stopped on drop (last started, first stopped).
#[derive(Debug, Default)]
pub struct Started(pub Vec<Child>);

impl Drop for Started {
    fn drop(&mut self) {
        for child in self.0.iter_mut().rev() {
            // SIGTERM first, so an X server removes its socket and lock file.
            // SAFETY: `kill` only sends a signal to a process this value started.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(2);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Started {
    /// Starts `Xvfb DISPLAY` of `width` x `height` and waits for its socket.
    ///
    /// # Errors
    /// When Xvfb is missing or does not start.
    pub fn xvfb(&mut self, display: &str, (width, height): (u32, u32)) -> Result<()> {
        let screen = format!("{width}x{height}x24");
        let mut server = Command::new("Xvfb")
            .args([display, "-screen", "0", &screen, "-nolisten", "tcp"])
            .stderr(Stdio::null())
            .spawn()
            .context("Xvfb (make deps installs it)")?;
        let socket = format!("/tmp/.X11-unix/X{}", display.trim_start_matches(':'));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !Path::new(&socket).exists() {
            // Another server took the display meanwhile: its socket is not ours.
            if let Ok(Some(status)) = server.try_wait() {
                bail!("Xvfb {display} exited at once ({status}): is the display taken?");
            }
            if Instant::now() > deadline {
                let _ = server.kill();
                let _ = server.wait();
                bail!("Xvfb {display} did not start");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.0.push(server);
        Ok(())
    }

    /// Starts openbox on `display` and waits until it manages the screen, starting it again
    /// when it gives up (it may, on a busy machine, while the server is still coming up).
    ///
    /// # Errors
    /// When openbox or xprop is missing, or no window manager runs within a minute.
    pub fn window_manager(&mut self, display: &str) -> Result<()> {
        self.on(display, "openbox", &[])?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let wm = self.0.last_mut().expect("just started");
            if let Ok(Some(_)) = wm.try_wait() {
                self.0.pop();
                self.on(display, "openbox", &[])?;
            }
            let out = Command::new("xprop")
                .args(["-root", "_NET_SUPPORTING_WM_CHECK"])
                .env("DISPLAY", display)
                .output()
                .context("xprop (make deps installs x11-utils)")?;
            if String::from_utf8_lossy(&out.stdout).contains("window id") {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the window manager did not start on {display}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts `program args` on `display`, output discarded.
    ///
    /// # Errors
    /// When the program cannot be started.
    pub fn on(&mut self, display: &str, program: &str, args: &[&str]) -> Result<()> {
        self.0.push(
            Command::new(program)
                .args(args)
                .env("DISPLAY", display)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("{program} (make deps installs it)"))?,
        );
        Ok(())
    }

    /// Starts `command` with its standard error followed; keeps it to stop later.
    ///
    /// # Errors
    /// When the program cannot be started.
    pub fn followed(&mut self, command: &mut Command) -> Result<mpsc::Receiver<String>> {
        let mut child = command.stderr(Stdio::piped()).spawn()?;
        let lines = follow(child.stderr.take().context("stderr")?);
        self.0.push(child);
        Ok(lines)
    }
}

/// A display number free on this machine, from `first` on: neither its socket nor its lock file
/// exists (a server that is starting has only the lock).
pub fn free_display(first: u32) -> String {
    (first..first + 200)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .map_or_else(|| format!(":{first}"), |n| format!(":{n}"))
}

/// A binary built beside the running one.
///
/// # Errors
/// When it is not built.
pub fn sibling(name: &str) -> Result<PathBuf> {
    let path = std::env::current_exe()?.with_file_name(name);
    if !path.exists() {
        bail!(
            "{} is missing: run `cargo build --release --workspace` first",
            path.display()
        );
    }
    Ok(path)
}

/// The lines of `pipe`, as they come.
pub fn follow(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

/// Waits up to `seconds` for a line containing `needle`; returns it.
///
/// # Errors
/// When no such line comes in time.
pub fn wait_for(lines: &mpsc::Receiver<String>, needle: &str, seconds: u64) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .with_context(|| format!("never saw {needle:?}"))?;
        if line.contains(needle) {
            return Ok(line);
        }
    }
}

/// Runs xdotool on `display`; its output.
///
/// # Errors
/// When it fails.
pub fn xdotool(display: &str, args: &[&str]) -> Result<String> {
    let out = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .output()
        .context("xdotool (make deps installs it)")?;
    if !out.status.success() {
        bail!("xdotool {args:?} failed");
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The screen of `display` as BGRA, through ffmpeg's x11grab; also saved as `png` when given.
///
/// # Errors
/// When ffmpeg fails.
pub fn grab(display: &str, (width, height): (u32, u32), png: Option<&Path>) -> Result<Vec<u8>> {
    let size = format!("{width}x{height}");
    let base = [
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "x11grab",
        "-draw_mouse",
        "0",
    ];
    if let Some(png) = png {
        let status = Command::new("ffmpeg")
            .args(base)
            .args(["-video_size", &size, "-i", display, "-frames:v", "1"])
            .arg(png)
            .status()?;
        if !status.success() {
            bail!("ffmpeg could not save {}", png.display());
        }
    }
    let out = Command::new("ffmpeg")
        .args(base)
        .args(["-video_size", &size, "-i", display, "-frames:v", "1"])
        .args(["-f", "rawvideo", "-pix_fmt", "bgra", "-"])
        .output()
        .context("ffmpeg (make deps installs it)")?;
    if !out.status.success() {
        bail!("ffmpeg could not grab {display}");
    }
    Ok(out.stdout)
}

/// Where the `inner` screen shows inside `outer` (its top-left corner), when it shows there
/// exactly, pixel for pixel (alpha aside), apart from a 40-pixel box around `pointer` (the
/// sharer's pointer is drawn on top).
pub fn find_exact(
    inner: &[u8],
    (iw, ih): (u32, u32),
    outer: &[u8],
    (ow, oh): (u32, u32),
    pointer: (u32, u32),
) -> Option<(u32, u32)> {
    let (iw, ih, ow, oh) = (iw as usize, ih as usize, ow as usize, oh as usize);
    if iw > ow || ih > oh || inner.len() < iw * ih * 4 || outer.len() < ow * oh * 4 {
        return None;
    }
    let at = |frame: &[u8], width: usize, x: usize, y: usize| -> [u8; 3] {
        let i = (y * width + x) * 4;
        [frame[i], frame[i + 1], frame[i + 2]]
    };
    let (px, py) = (pointer.0 as usize, pointer.1 as usize);
    let hidden = |x: usize, y: usize| x + 40 > px && x < px + 40 && y + 40 > py && y < py + 40;
    for oy in 0..=(oh - ih) {
        for ox in 0..=(ow - iw) {
            let fits = (0..ih).all(|y| {
                (0..iw)
                    .all(|x| hidden(x, y) || at(inner, iw, x, y) == at(outer, ow, ox + x, oy + y))
            });
            if fits {
                return Some((ox as u32, oy as u32));
            }
        }
    }
    None
}

/// Makes an invitation in `data` for 127.0.0.1:`port` with `password`, saved as `file`.
///
/// # Errors
/// When `beckon-agent invite` fails.
pub fn invite(agent: &Path, data: &Path, file: &Path, port: u16, password: &str) -> Result<()> {
    let mut invite = Command::new(agent)
        .arg("--data-dir")
        .arg(data)
        .args(["invite", "--from", "Ada", "--message", "Beckon demo"])
        .args([
            "--password-stdin",
            "--address",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--save")
        .arg(file)
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    writeln!(invite.stdin.take().context("stdin")?, "{password}")?;
    if !invite.wait()?.success() {
        bail!("beckon-agent invite failed");
    }
    Ok(())
}
