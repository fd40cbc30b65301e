//! Real desktops for the tools that drive real processes (`demo`, `agent-cpu`,
//! `viewer-present`, the Wayland tests and bench): Xvfb servers, a headless sway, the binaries built beside them, their output followed line by
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
            .args([
                display,
                "-screen",
                "0",
                &screen,
                "-noreset",
                "-nolisten",
                "tcp",
            ])
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
                .env_remove("WAYLAND_DISPLAY")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("{program} (make deps installs it)"))?,
        );
        Ok(())
    }

    /// Starts `command` with its standard error followed; keeps it to stop later. Its windows
    /// go to the X display it names, even when this runs inside a Wayland session.
    ///
    /// # Errors
    /// When the program cannot be started.
    pub fn followed(&mut self, command: &mut Command) -> Result<mpsc::Receiver<String>> {
        let mut child = command
            .env_remove("WAYLAND_DISPLAY")
            .stderr(Stdio::piped())
            .spawn()?;
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

/// The unprivileged user headless sway runs as (sway refuses to run as root), made once.
///
/// # Errors
/// When the user cannot be made.
fn sway_user() -> Result<(u32, u32)> {
    static MADE: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    const USER: &str = "beckon-test-sway";
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    let known = || {
        Command::new("id")
            .arg(USER)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !*made && !known() {
        let status = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                USER,
            ])
            .status()
            .context("useradd")?;
        if !status.success() && !known() {
            bail!("could not make the user {USER} that sway runs as");
        }
    }
    *made = true;
    let id = |flag: &str| -> Result<u32> {
        let out = Command::new("id").args([flag, USER]).output()?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
    };
    Ok((id("-u")?, id("-g")?))
}

/// A headless sway (pixman renderer, no input devices) with one output, `HEADLESS-1`, run as an
/// unprivileged user with a runtime directory of its own; stopped on drop (its clients end with
/// it).
#[derive(Debug)]
pub struct Sway {
    server: Child,
    /// Its runtime directory, which its clients may write into.
    pub dir: PathBuf,
    /// The Wayland socket.
    pub socket: PathBuf,
    /// The IPC socket (`SWAYSOCK`).
    pub ipc: PathBuf,
    uid: u32,
    gid: u32,
}

impl Sway {
    /// Starts sway with an output of `width` x `height` and waits until it answers.
    ///
    /// # Errors
    /// When sway is missing or does not start.
    pub fn start(width: u32, height: u32) -> Result<Sway> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        use std::os::unix::fs::DirBuilderExt;
        let (uid, gid) = sway_user()?;
        let dir = std::env::temp_dir().join(format!(
            "beckon-sway-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))?;
        let config = dir.join("config");
        std::fs::write(
            &config,
            format!(
                "output HEADLESS-1 resolution {width}x{height} position 0 0 bg #336699 solid_color\n\
                 default_border none\nfocus_follows_mouse no\n"
            ),
        )?;
        let server = Command::new("setpriv")
            .args([
                &format!("--reuid={uid}"),
                &format!("--regid={gid}"),
                "--clear-groups",
                "env",
                "-i",
                "PATH=/usr/local/bin:/usr/bin:/bin",
            ])
            .arg(format!("HOME={}", dir.display()))
            .arg(format!("XDG_RUNTIME_DIR={}", dir.display()))
            .args([
                "WLR_BACKENDS=headless",
                "WLR_LIBINPUT_NO_DEVICES=1",
                "WLR_RENDERER=pixman",
                "sway",
                "-c",
            ])
            .arg(&config)
            // Its own directory: the caller's may be closed to its user, and the programs it
            // starts work there.
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("sway (make deps installs it)")?;
        let find = |prefix: &str| {
            std::fs::read_dir(&dir).ok()?.flatten().find_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                (name.starts_with(prefix) && !name.ends_with(".lock")).then(|| e.path())
            })
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        let (socket, ipc) = loop {
            if let (Some(socket), Some(ipc)) = (find("wayland-"), find("sway-ipc.")) {
                break (socket, ipc);
            }
            if Instant::now() > deadline {
                bail!("sway did not start");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let sway = Sway {
            server,
            dir,
            socket,
            ipc,
            uid,
            gid,
        };
        while sway.msg(&["-t", "get_outputs"]).is_err() {
            if Instant::now() > deadline {
                bail!("sway does not answer");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(sway)
    }

    /// The variables a program on this desktop has (a Wayland session, sway's IPC).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("WAYLAND_DISPLAY", self.socket.display().to_string()),
            ("SWAYSOCK", self.ipc.display().to_string()),
            ("XDG_SESSION_TYPE", "wayland".to_string()),
        ]
    }

    /// `program` with this desktop's variables (and no X display).
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.env_remove("DISPLAY").envs(self.env());
        command
    }

    /// Runs `swaymsg ARGS`; returns its output.
    ///
    /// # Errors
    /// When sway refuses.
    pub fn msg(&self, args: &[&str]) -> Result<String> {
        let out = self.command("swaymsg").args(args).output()?;
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            bail!("swaymsg {args:?}: {said}");
        }
        Ok(said)
    }

    /// Starts `foot` running `sh -c SCRIPT` in the sway user's name, and waits until it has
    /// drawn and its shell runs (keys sent before are lost).
    ///
    /// # Errors
    /// When foot does not show.
    pub fn foot(&self, script: &str) -> Result<()> {
        let before = self.grab(None)?;
        let started = self.dir.join("foot-started");
        let _ = std::fs::remove_file(&started);
        self.msg(&[
            "exec",
            &format!("foot sh -c ': > {}; {script}'", started.display()),
        ])?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.grab(None)? == before || !started.exists() {
            if Instant::now() > deadline {
                bail!("foot did not show");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(500));
        Ok(())
    }

    /// The screen (or one output) as BGRA, pointer included, through grim: an independent
    /// capture to compare with.
    ///
    /// # Errors
    /// When grim fails.
    pub fn grab(&self, output: Option<&str>) -> Result<(u32, u32, Vec<u8>)> {
        let mut command = self.command("grim");
        // With the pointer, as Beckon copies the screen.
        command.args(["-c", "-t", "ppm"]);
        if let Some(output) = output {
            command.args(["-o", output]);
        }
        let out = command.arg("-").output().context("grim")?;
        if !out.status.success() {
            bail!("grim: {}", String::from_utf8_lossy(&out.stderr));
        }
        // "P6\n<width> <height>\n255\n", then RGB.
        let data = out.stdout;
        let mut fields = Vec::new();
        let mut at = 0;
        while fields.len() < 4 {
            let start = at;
            while data.get(at).is_some_and(|b| !b.is_ascii_whitespace()) {
                at += 1;
            }
            fields.push(String::from_utf8_lossy(&data[start..at]).into_owned());
            at += 1;
        }
        let (width, height): (u32, u32) = (fields[1].parse()?, fields[2].parse()?);
        let bgra = data
            .get(at..)
            .unwrap_or_default()
            .chunks_exact(3)
            .flat_map(|p| [p[2], p[1], p[0], 255])
            .collect();
        Ok((width, height, bgra))
    }

    /// An empty file the sway user's programs may write, in its runtime directory.
    ///
    /// # Errors
    /// When it cannot be made.
    pub fn file(&self, name: &str) -> Result<PathBuf> {
        let path = self.dir.join(name);
        std::fs::write(&path, "")?;
        std::os::unix::fs::chown(&path, Some(self.uid), Some(self.gid))?;
        Ok(path)
    }
}

impl Drop for Sway {
    fn drop(&mut self) {
        // SAFETY: `kill` only sends a signal to the process this value started.
        unsafe { libc::kill(self.server.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(2);
        while matches!(self.server.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
