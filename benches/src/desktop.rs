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

    /// `program` run as sway's user, with only its desktop's variables, `HOME` and the runtime
    /// directory (sway's directory) and `extra`, in that directory.
    pub fn as_user(&self, program: &str, extra: &[(&str, String)]) -> Command {
        self.in_session(true, program, extra)
    }

    /// `program` in this desktop's session (see [`Sway::as_user`]), as sway's user or, when not
    /// `user`, as whoever runs this.
    fn in_session(&self, user: bool, program: &str, extra: &[(&str, String)]) -> Command {
        let mut command = Command::new(if user { "setpriv" } else { "env" });
        if user {
            command.args([
                &format!("--reuid={}", self.uid),
                &format!("--regid={}", self.gid),
                "--clear-groups",
                "env",
            ]);
        }
        command
            .args(["-i", "PATH=/usr/local/bin:/usr/bin:/bin"])
            .arg(format!("HOME={}", self.dir.display()))
            .arg(format!("XDG_RUNTIME_DIR={}", self.dir.display()))
            .args(
                self.env()
                    .iter()
                    .map(|(k, v)| (*k, v))
                    .chain(extra.iter().map(|(k, v)| (*k, v)))
                    .map(|(k, v)| format!("{k}={v}")),
            )
            .arg(program)
            .current_dir(&self.dir);
        command
    }

    /// Starts the session bus, PipeWire with WirePlumber, and through the bus the
    /// xdg-desktop-portal with its wlroots back-end. Its dialog, which asks the sharer what to
    /// share, is a script that answers `output` (or nothing, a refusal, while
    /// [`PortalDesk::refuse`] says so) and counts the times it was asked.
    ///
    /// # Errors
    /// When one of them is missing or does not start.
    pub fn portal(&self, output: &str) -> Result<PortalDesk> {
        self.start_portal(output, true)
    }

    /// The same as [`Sway::portal`], run as whoever runs this (root, in the benches), so that
    /// the portal serves this process: it serves only callers it can inspect.
    ///
    /// # Errors
    /// When one of them is missing or does not start.
    pub fn portal_for_this_process(&self, output: &str) -> Result<PortalDesk> {
        self.start_portal(output, false)
    }

    fn start_portal(&self, output: &str, user: bool) -> Result<PortalDesk> {
        use std::os::unix::process::CommandExt;
        let xdg = self.dir.join("xdg");
        let config = xdg.join("xdg-desktop-portal-wlr");
        std::fs::create_dir_all(&config)?;
        let chooser = self.dir.join("chooser");
        let asked = self.dir.join("chooser-asked");
        let refuse = self.dir.join("chooser-refuses");
        std::fs::write(
            &chooser,
            format!(
                "#!/bin/sh\necho asked >> {}\n[ -e {} ] || echo {output}\n",
                asked.display(),
                refuse.display()
            ),
        )?;
        std::fs::set_permissions(
            &chooser,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )?;
        std::fs::write(
            config.join("config"),
            format!(
                "[screencast]\nchooser_type=simple\nchooser_cmd={}\n",
                chooser.display()
            ),
        )?;
        let bus_config = self.dir.join("bus.conf");
        // The session bus's own rules, opened to every user: the tests' programs run as root.
        std::fs::write(
            &bus_config,
            "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \
             \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
             <busconfig><include>/usr/share/dbus-1/session.conf</include>\
             <policy context=\"default\"><allow user=\"*\"/></policy></busconfig>\n",
        )?;
        for path in [&xdg, &config, &config.join("config"), &bus_config, &chooser] {
            std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))?;
        }
        let bus = self.dir.join("bus");
        let address = format!("unix:path={}", bus.display());
        let proxy = DmabufOffer::start(
            self.dir.join("wayland-portal"),
            self.socket.clone(),
            (self.uid, self.gid),
        )?;
        // The portal and its back-end, which the bus starts, inherit its variables; the
        // back-end sees sway through the proxy.
        let mut daemon = self.in_session(
            user,
            "dbus-daemon",
            &[
                ("XDG_CURRENT_DESKTOP", "sway".into()),
                ("XDG_CONFIG_HOME", xdg.display().to_string()),
                ("WAYLAND_DISPLAY", proxy.socket.display().to_string()),
            ],
        );
        let mut desk = PortalDesk {
            group: 0,
            address: address.clone(),
            children: Vec::new(),
            asked,
            refuse,
            _proxy: proxy,
        };
        daemon
            .arg(format!("--config-file={}", bus_config.display()))
            .arg(format!("--address={address}"))
            .args(["--nofork", "--nopidfile"]);
        let mut commands = vec![("dbus-daemon", daemon)];
        for program in ["pipewire", "wireplumber"] {
            commands.push((
                program,
                self.in_session(
                    user,
                    program,
                    &[("DBUS_SESSION_BUS_ADDRESS", address.clone())],
                ),
            ));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for (program, mut command) in commands {
            let child = command
                .process_group(desk.group)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("{program} (make deps installs it)"))?;
            if desk.group == 0 {
                desk.group = child.id() as i32;
            }
            desk.children.push(child);
            let socket = match program {
                "dbus-daemon" => bus.clone(),
                "pipewire" => self.dir.join("pipewire-0"),
                _ => continue,
            };
            while !socket.exists() {
                if Instant::now() > deadline {
                    bail!("{program} did not start");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(desk)
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

/// A session bus with PipeWire and the xdg-desktop-portal on a [`Sway`]; stopped on drop (the
/// programs the bus started included: they share its process group).
#[derive(Debug)]
pub struct PortalDesk {
    group: i32,
    /// The bus's address (`DBUS_SESSION_BUS_ADDRESS`).
    pub address: String,
    children: Vec<Child>,
    asked: PathBuf,
    refuse: PathBuf,
    _proxy: DmabufOffer,
}

impl PortalDesk {
    /// How many times the portal's dialog asked the sharer what to share.
    pub fn asked(&self) -> usize {
        std::fs::read_to_string(&self.asked).map_or(0, |t| t.lines().count())
    }

    /// Makes the dialog refuse (`true`) or share (`false`) from now on.
    ///
    /// # Errors
    /// When the switch cannot be written.
    pub fn refuse(&self, refuse: bool) -> Result<()> {
        if refuse {
            std::fs::write(&self.refuse, "")?;
        } else if self.refuse.exists() {
            std::fs::remove_file(&self.refuse)?;
        }
        Ok(())
    }
}

impl Drop for PortalDesk {
    fn drop(&mut self) {
        if self.group > 0 {
            // SAFETY: signals the process group this value's bus leads.
            unsafe { libc::kill(-self.group, libc::SIGTERM) };
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        for child in &mut self.children {
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if self.group > 0 {
            // SAFETY: as above; whatever ignored SIGTERM.
            unsafe { libc::kill(-self.group, libc::SIGKILL) };
        }
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
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

/// A Wayland proxy in front of a GPU-less sway for xdg-desktop-portal-wlr: it passes everything
/// through, file descriptors included, and after each screen copy's shared-memory offer tells
/// the client that a DMA-BUF copy of the same format and size could be had too.
///
/// Why: xdg-desktop-portal-wlr 0.7 (Debian 12) refuses to start a cast unless the compositor
/// offers DMA-BUF copies (upstream issue emersion/xdg-desktop-portal-wlr#289), which sway on the
/// pixman renderer never does. With the offer it starts, finds no DMA-BUF format it could
/// allocate (there is no GPU, and sway advertises none), and casts through shared memory, as
/// it would with a GPU and a client that asks for no modifier, as Beckon's does.
#[derive(Debug)]
pub struct DmabufOffer {
    /// The socket clients connect to.
    pub socket: PathBuf,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl DmabufOffer {
    /// Listens on `socket` (made accessible to `owner`) for clients of the compositor at
    /// `compositor`.
    ///
    /// # Errors
    /// When the socket cannot be made.
    pub fn start(socket: PathBuf, compositor: PathBuf, owner: (u32, u32)) -> Result<DmabufOffer> {
        use std::os::unix::net::UnixListener;
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket)?;
        std::os::unix::fs::chown(&socket, Some(owner.0), Some(owner.1))?;
        listener.set_nonblocking(true)?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        std::thread::spawn(move || {
            while !stopping.load(std::sync::atomic::Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        if let Ok(server) = std::os::unix::net::UnixStream::connect(&compositor) {
                            wayland_proxy::relay(client, server);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Ok(DmabufOffer { socket, stop })
    }
}

impl Drop for DmabufOffer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// The byte and descriptor relay behind [`DmabufOffer`].
mod wayland_proxy {
    use std::collections::HashSet;
    use std::os::fd::{AsRawFd, RawFd};
    use std::os::unix::net::UnixStream;
    use std::sync::{Arc, Mutex};

    /// Receives bytes and descriptors (at most 28, libwayland's own limit a message).
    fn receive(
        from: &UnixStream,
        bytes: &mut [u8],
        fds: &mut Vec<RawFd>,
    ) -> std::io::Result<usize> {
        let mut control = [0u8; 256];
        let mut iov = libc::iovec {
            iov_base: bytes.as_mut_ptr().cast(),
            iov_len: bytes.len(),
        };
        // SAFETY: a zeroed msghdr is valid; the buffers it points to outlive the call.
        let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
        header.msg_iov = &mut iov;
        header.msg_iovlen = 1;
        header.msg_control = control.as_mut_ptr().cast();
        header.msg_controllen = control.len() as _;
        // SAFETY: recvmsg on an open socket with the header above.
        let got = unsafe { libc::recvmsg(from.as_raw_fd(), &mut header, libc::MSG_CMSG_CLOEXEC) };
        if got < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: walking the control messages the kernel wrote into `control`.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&header);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                    let count = ((*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / 4;
                    let data = libc::CMSG_DATA(cmsg).cast::<RawFd>();
                    for i in 0..count {
                        fds.push(data.add(i).read_unaligned());
                    }
                }
                cmsg = libc::CMSG_NXTHDR(&header, cmsg);
            }
        }
        Ok(got as usize)
    }

    /// Sends `bytes` with `fds` (then closes this side's copies of them).
    fn send(to: &UnixStream, bytes: &[u8], fds: &[RawFd]) -> std::io::Result<()> {
        let mut sent = 0;
        let mut fds = fds;
        while sent < bytes.len() || !fds.is_empty() {
            let mut control = [0u8; 256];
            let mut iov = libc::iovec {
                iov_base: bytes[sent..].as_ptr().cast_mut().cast(),
                iov_len: bytes.len() - sent,
            };
            // SAFETY: as in `receive`.
            let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
            header.msg_iov = &mut iov;
            header.msg_iovlen = 1;
            let batch = fds.len().min(28);
            if batch > 0 {
                // SAFETY: the control buffer holds CMSG_SPACE of `batch` descriptors.
                unsafe {
                    let space = libc::CMSG_SPACE((batch * 4) as u32) as usize;
                    header.msg_control = control.as_mut_ptr().cast();
                    header.msg_controllen = space as _;
                    let cmsg = libc::CMSG_FIRSTHDR(&header);
                    (*cmsg).cmsg_level = libc::SOL_SOCKET;
                    (*cmsg).cmsg_type = libc::SCM_RIGHTS;
                    (*cmsg).cmsg_len = libc::CMSG_LEN((batch * 4) as u32) as _;
                    let data = libc::CMSG_DATA(cmsg).cast::<RawFd>();
                    for (i, fd) in fds[..batch].iter().enumerate() {
                        data.add(i).write_unaligned(*fd);
                    }
                }
            }
            // SAFETY: sendmsg on an open socket with the header above.
            let wrote = unsafe { libc::sendmsg(to.as_raw_fd(), &header, libc::MSG_NOSIGNAL) };
            if wrote < 0 {
                return Err(std::io::Error::last_os_error());
            }
            for fd in &fds[..batch] {
                // SAFETY: our copy of a descriptor now sent on.
                unsafe { libc::close(*fd) };
            }
            fds = &fds[batch..];
            sent += wrote as usize;
        }
        Ok(())
    }

    fn word(bytes: &[u8], at: usize) -> u32 {
        u32::from_ne_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
    }

    /// Relays one direction, whole message by whole message; `inspect` may add messages after
    /// each.
    fn pump(
        from: UnixStream,
        to: UnixStream,
        mut inspect: impl FnMut(&[u8], &mut Vec<u8>) + Send + 'static,
    ) {
        std::thread::spawn(move || {
            let mut pending: Vec<u8> = Vec::new();
            let mut chunk = vec![0u8; 65536];
            loop {
                let mut fds = Vec::new();
                let got = match receive(&from, &mut chunk, &mut fds) {
                    Ok(0) | Err(_) => break,
                    Ok(got) => got,
                };
                pending.extend_from_slice(&chunk[..got]);
                // A message: (object, size << 16 | opcode), then its arguments.
                let mut out = Vec::with_capacity(pending.len());
                let mut whole = 0;
                while pending.len() >= whole + 8 {
                    let size = (word(&pending, whole + 4) >> 16) as usize;
                    if size < 8 || pending.len() < whole + size {
                        break;
                    }
                    let message = &pending[whole..whole + size];
                    out.extend_from_slice(message);
                    inspect(message, &mut out);
                    whole += size;
                }
                if send(&to, &out, &fds).is_err() {
                    break;
                }
                pending.drain(..whole);
            }
            let _ = to.shutdown(std::net::Shutdown::Both);
        });
    }

    /// The objects the proxy follows.
    #[derive(Default)]
    struct Objects {
        registries: HashSet<u32>,
        managers: HashSet<u32>,
        frames: HashSet<u32>,
    }

    /// A string argument at `at`: its length (with the NUL) and its bytes.
    fn string(message: &[u8], at: usize) -> Option<&[u8]> {
        let length = word(message, at) as usize;
        message.get(at + 4..at + 4 + length.saturating_sub(1))
    }

    /// Relays `client` and `server`, adding the DMA-BUF offer after each copy's buffer event.
    pub fn relay(client: UnixStream, server: UnixStream) {
        let objects: Arc<Mutex<Objects>> = Arc::default();
        let (Ok(client_out), Ok(server_out)) = (client.try_clone(), server.try_clone()) else {
            return;
        };
        let known = objects.clone();
        pump(client, server_out, move |message, _| {
            let mut known = known.lock().unwrap_or_else(|e| e.into_inner());
            let (object, opcode) = (word(message, 0), word(message, 4) & 0xffff);
            match opcode {
                // wl_display.get_registry(new_id)
                1 if object == 1 && message.len() >= 12 => {
                    known.registries.insert(word(message, 8));
                }
                // wl_registry.bind(name, interface, version, new_id)
                0 if known.registries.contains(&object)
                    && string(message, 12) == Some(b"zwlr_screencopy_manager_v1".as_slice()) =>
                {
                    known.managers.insert(word(message, message.len() - 4));
                }
                // zwlr_screencopy_manager_v1.capture_output(_region)(new_id frame, ...)
                0 | 1 if known.managers.contains(&object) && message.len() >= 12 => {
                    known.frames.insert(word(message, 8));
                }
                // zwlr_screencopy_frame_v1.destroy
                0 if known.frames.contains(&object) => {
                    known.frames.remove(&object);
                }
                _ => {}
            }
        });
        pump(server, client_out, move |message, out| {
            let object = word(message, 0);
            // zwlr_screencopy_frame_v1.buffer(format, width, height, stride)
            if word(message, 4) & 0xffff != 0
                || message.len() != 24
                || !objects
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .frames
                    .contains(&object)
            {
                return;
            }
            // wl_shm's two base formats are numbered apart from DRM's fourcc codes.
            let format = match word(message, 8) {
                0 => u32::from_le_bytes(*b"AR24"),
                1 => u32::from_le_bytes(*b"XR24"),
                other => other,
            };
            // zwlr_screencopy_frame_v1.linux_dmabuf (5): format, width, height.
            for value in [
                object,
                20 << 16 | 5,
                format,
                word(message, 12),
                word(message, 16),
            ] {
                out.extend_from_slice(&value.to_ne_bytes());
            }
        });
    }
}
