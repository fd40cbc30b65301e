//! Helpers shared by the end-to-end tests.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The repository's root folder.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The committed clips, by path of their pixel file, sorted.
pub fn committed_clips() -> Vec<PathBuf> {
    let mut clips: Vec<PathBuf> = std::fs::read_dir(repo().join("corpus"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".bgra.zst"))
        .collect();
    clips.sort();
    clips
}

/// Writes `contents` to `path`, readable by its owner only (as the agent requires of its
/// configuration).
pub fn write_private(path: &Path, contents: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A scratch directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "beckon-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        // Private, as the agent requires of its data directory.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .unwrap();
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Pids of running processes whose command line contains `needle`.
pub fn processes_matching(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                found.push(pid);
            }
        }
    }
    found
}

/// A binary of the workspace, next to the test executable (`cargo test --workspace` builds it).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace`",
        path.display()
    );
    path
}

/// Where the programs the tests start keep their logs (their state directory), instead of the
/// user's `~/.local/state/beckon`.
pub fn test_state() -> PathBuf {
    repo().join("target/test-state")
}

/// A program of the workspace, ready to run, logging into [`test_state`].
pub fn program(name: &str) -> std::process::Command {
    let mut command = std::process::Command::new(binary(name));
    // On the X servers the tests start, even when they run inside a Wayland session (the
    // Wayland tests give their own).
    command
        .env("XDG_STATE_HOME", test_state())
        .env_remove("WAYLAND_DISPLAY");
    command
}

/// A fresh Xvfb on a free display, stopped (with what the test started on it) on drop.
pub struct Xvfb {
    server: std::process::Child,
    pub display: String,
    clients: Vec<std::process::Child>,
}

impl Xvfb {
    /// Starts `Xvfb :N -screen 0 WxHx24` on the first free N from 140 and waits until it takes
    /// a connection. `-noreset`: by default Xvfb resets when its last client leaves, and a
    /// connection made meanwhile is dropped (the wait's own probe is such a client).
    pub fn start(width: u32, height: u32) -> Xvfb {
        Xvfb::launch(|display| {
            let mut command = std::process::Command::new("Xvfb");
            command.args([
                display,
                "-screen",
                "0",
                &format!("{width}x{height}x24"),
                "-noreset",
                "-nolisten",
                "tcp",
            ]);
            command.stderr(std::process::Stdio::null());
            command
        })
    }

    /// Starts Xorg with the dummy video driver on a `width` x `height` screen instead (its
    /// config and log in `dir`): unlike Xvfb, it keeps the monitors `xrandr --setmonitor`
    /// defines, so tests can split one screen into several monitors.
    pub fn start_xorg(width: u32, height: u32, dir: &Path) -> Xvfb {
        let config = dir.join("xorg.conf");
        let mode = format!("{width}x{height}");
        // A 60 Hz mode: the monitor section accepts up to 200.
        let clock = f64::from((width + 120) * (height + 20)) * 60.0 / 1e6;
        std::fs::write(
            &config,
            format!(
                "Section \"Device\"\n  Identifier \"dummy\"\n  Driver \"dummy\"\n  VideoRam 65536\nEndSection\n\
                 Section \"Monitor\"\n  Identifier \"monitor\"\n  HorizSync 5.0-1000.0\n  VertRefresh 5.0-200.0\n\
                 \x20 Modeline \"{mode}\" {clock:.2} {width} {} {} {} {height} {} {} {}\nEndSection\n\
                 Section \"Screen\"\n  Identifier \"screen\"\n  Device \"dummy\"\n  Monitor \"monitor\"\n  DefaultDepth 24\n\
                 \x20 SubSection \"Display\"\n    Depth 24\n    Modes \"{mode}\"\n    Virtual {width} {height}\n  EndSubSection\nEndSection\n\
                 Section \"ServerFlags\"\n  Option \"AutoAddDevices\" \"false\"\n  Option \"AutoEnableDevices\" \"false\"\nEndSection\n",
                width + 20,
                width + 60,
                width + 120,
                height + 10,
                height + 15,
                height + 20,
            ),
        )
        .unwrap();
        let log = dir.join("xorg.log");
        Xvfb::launch(|display| {
            let mut command = std::process::Command::new("Xorg");
            command
                .args([display, "-noreset", "-nolisten", "tcp", "-config"])
                .arg(&config)
                .arg("-logfile")
                .arg(&log)
                .stdout(std::process::Stdio::null())
                .stderr(std::fs::File::create(dir.join("xorg.err")).unwrap());
            command
        })
    }

    /// Starts the server `command` makes for a display on the first free number from 140.
    fn launch(mut command: impl FnMut(&str) -> std::process::Command) -> Xvfb {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        for _ in 0..50 {
            let n =
                140 + (std::process::id() as usize % 50) * 4 + NEXT.fetch_add(1, Ordering::Relaxed);
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
            if socket.exists() || Path::new(&format!("/tmp/.X{n}-lock")).exists() {
                continue;
            }
            let display = format!(":{n}");
            let mut server = command(&display)
                .spawn()
                .expect("the X server (make deps installs xvfb and xserver-xorg-video-dummy)");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            // Until it takes a connection: its socket shows before it answers on a busy machine.
            let exited =
                |server: &mut std::process::Child| server.try_wait().is_ok_and(|s| s.is_some());
            while !socket.exists() || x11rb::connect(Some(&display)).is_err() {
                if exited(&mut server) {
                    break;
                }
                if std::time::Instant::now() > deadline {
                    panic!("the X server {display} did not start");
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            // Another process took the display meanwhile: the socket is not ours.
            if exited(&mut server) {
                continue;
            }
            return Xvfb {
                server,
                display,
                clients: Vec::new(),
            };
        }
        panic!("no free X display");
    }

    /// Waits (up to 60 s: a window drawn by lavapipe starts slowly while the other tests load
    /// both cores) until a window shows whose `--name` or `--class` (`by`) matches `pattern`;
    /// the first one's id.
    pub fn window(&self, by: &str, pattern: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            // Searched again rather than with --sync: a window that closes while xdotool walks
            // the tree makes that search fail (BadWindow).
            let out = std::process::Command::new("xdotool")
                .args(["search", "--onlyvisible", by, pattern])
                .env("DISPLAY", &self.display)
                .output()
                .expect("xdotool (make deps installs it)");
            let found = String::from_utf8_lossy(&out.stdout);
            if let Some(first) = found.lines().next().filter(|_| out.status.success()) {
                return first.trim().to_string();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no window whose {by} matches {pattern:?} on {}",
                self.display
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Runs `program args` on this display, stopped with the server.
    pub fn spawn(&mut self, program: &str, args: &[&str]) {
        let child = std::process::Command::new(program)
            .args(args)
            .env("DISPLAY", &self.display)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        self.clients.push(child);
    }

    /// Starts openbox and waits until it manages the screen (windows mapped earlier could be
    /// caught half-managed).
    pub fn start_window_manager(&mut self) {
        self.spawn("openbox", &[]);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            // Started again if it gave up (it may, on a busy machine).
            let wm = self.clients.last_mut().expect("just spawned");
            if let Ok(Some(status)) = wm.try_wait() {
                eprintln!(
                    "openbox on {} exited ({status}); starting it again",
                    self.display
                );
                self.clients.pop();
                self.spawn("openbox", &[]);
            }
            let out = std::process::Command::new("xprop")
                .args(["-root", "_NET_SUPPORTING_WM_CHECK"])
                .env("DISPLAY", &self.display)
                .output()
                .expect("xprop (make deps installs x11-utils)");
            if String::from_utf8_lossy(&out.stdout).contains("window id") {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "openbox did not start on {}",
                self.display
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Like [`Xvfb::spawn`], with the program's standard error followed as [`Lines`].
    pub fn spawn_followed(&mut self, program: &std::path::Path, args: &[&str]) -> Lines {
        let mut child = std::process::Command::new(program)
            .args(args)
            .env("DISPLAY", &self.display)
            .env("XDG_STATE_HOME", test_state())
            .env_remove("WAYLAND_DISPLAY")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
        let lines = Lines::follow(child.stderr.take().unwrap(), |_| {});
        self.clients.push(child);
        lines
    }

    /// Runs `program args` on this display to the end; its standard output.
    pub fn run(&self, program: &str, args: &[&str]) -> Vec<u8> {
        let out = std::process::Command::new(program)
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        for c in self.clients.iter_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
        // SIGTERM, so the server removes its socket and lock file; SIGKILL if it lingers.
        let _ = std::process::Command::new("kill")
            .arg(self.server.id().to_string())
            .status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while matches!(self.server.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Starts `command` with stdout and stderr piped, writes `stdin` to it and closes it.
pub fn spawn_with_stdin(command: &mut std::process::Command, stdin: &str) -> std::process::Child {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    let mut input = child.stdin.take().expect("piped");
    // A program that refuses before reading its input (a store others can read) closes it.
    if let Err(e) = input.write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{command:?}: {e}");
    }
    child
}

/// Runs `command` with `stdin` written to it; its output.
pub fn run_with_stdin(command: &mut std::process::Command, stdin: &str) -> std::process::Output {
    spawn_with_stdin(command, stdin).wait_with_output().unwrap()
}

/// What a child process writes on a pipe, line by line, collected as it comes.
#[derive(Clone, Debug, Default)]
pub struct Lines(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Lines {
    /// Follows `pipe` on a thread, calling `on_line` with each line as it arrives.
    pub fn follow(
        pipe: impl std::io::Read + Send + 'static,
        mut on_line: impl FnMut(&str) + Send + 'static,
    ) -> Lines {
        use std::io::BufRead;
        let lines = Lines::default();
        let shared = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                on_line(&line);
                shared.0.lock().unwrap().push(line);
            }
        });
        lines
    }

    /// Everything so far.
    pub fn text(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }

    /// Waits (up to 30 s) for a line containing `needle`.
    pub fn wait_for(&self, needle: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !self.0.lock().unwrap().iter().any(|l| l.contains(needle)) {
            assert!(
                std::time::Instant::now() < deadline,
                "no line with {needle:?} in:\n{}",
                self.text()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

/// A headless sway with the sharer's own keyboard (see [`beckon_benches::desktop::Sway`]).
pub struct Sway {
    desk: beckon_benches::desktop::Sway,
    /// The sharer's own keyboard and pointer (a virtual pair of this test's).
    keyboard: beckon_agent::platform::wayland::WaylandInput,
}

impl Sway {
    pub fn start(width: u32, height: u32) -> Sway {
        let desk = beckon_benches::desktop::Sway::start(width, height).unwrap();
        // A desktop has a keyboard before anyone connects: with none, the seat has no keyboard
        // until the helper's appears, and programs miss the first keys while they take it up.
        let display = desk.socket.display().to_string();
        let keyboard =
            beckon_agent::platform::wayland::WaylandInput::connect(Some(&display), None).unwrap();
        Sway { desk, keyboard }
    }

    /// The sharer presses and releases the key of `keysym` on their own keyboard.
    pub fn press(&mut self, keysym: u32) {
        use beckon_engine::net::drive::InputSink;
        for pressed in [true, false] {
            self.keyboard
                .apply(beckon_engine::InputEvent::Key { keysym, pressed });
        }
    }

    /// The sharer moves their pointer to `(x, y)`.
    pub fn point(&mut self, x: u32, y: u32) {
        use beckon_engine::net::drive::InputSink;
        self.keyboard
            .apply(beckon_engine::InputEvent::PointerMove { x, y });
    }

    /// The sharer clicks at `(x, y)` on their desktop.
    pub fn click(&mut self, x: i32, y: i32) {
        use beckon_engine::InputEvent;
        use beckon_engine::net::drive::InputSink;
        let (x, y) = (x.max(0) as u32, y.max(0) as u32);
        self.keyboard.apply(InputEvent::PointerMove { x, y });
        for pressed in [true, false] {
            self.keyboard
                .apply(InputEvent::Button { button: 1, pressed });
        }
    }

    /// The sharer types `text` on their own keyboard.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(keysym_of(c));
        }
    }

    /// Runs `swaymsg ARGS`, which must succeed; returns its output.
    pub fn msg(&self, args: &[&str]) -> String {
        self.desk.msg(args).unwrap()
    }

    /// Starts foot running `sh -c SCRIPT` and waits until its shell runs.
    pub fn foot(&self, script: &str) {
        self.desk.foot(script).unwrap();
    }

    /// The screen (or one output) as BGRA, through grim.
    pub fn grab(&self, output: Option<&str>) -> (u32, u32, Vec<u8>) {
        self.desk.grab(output).unwrap()
    }
}

impl std::ops::Deref for Sway {
    type Target = beckon_benches::desktop::Sway;

    fn deref(&self) -> &Self::Target {
        &self.desk
    }
}

/// A PNG the viewer saved (`--screenshot`): its size and its pixels as BGRA.
pub fn read_screenshot(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let step = info.color_type.samples();
    let bgra = pixels[..info.buffer_size()]
        .chunks_exact(step)
        .flat_map(|p| [p[2], p[1], p[0], 255])
        .collect();
    (info.width, info.height, bgra)
}

/// Two BGRA pictures of the same size have the same colours (alpha aside).
pub fn same_colours(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.chunks_exact(4)
            .zip(b.chunks_exact(4))
            .all(|(p, q)| p[..3] == q[..3])
}

/// The X key symbol that types `c`: Return for a newline, Latin-1 as itself, any other
/// character as its Unicode symbol.
pub fn keysym_of(c: char) -> u32 {
    match c as u32 {
        0x0a => 0xff0d,
        code @ 0x20..=0xff => code,
        code => 0x0100_0000 + code,
    }
}
