//! `viewer-present`: what the helper's window does with a stream. A real `beckon-agent share
//! --clip CLIP` and the real `beckon-viewer` window on an Xvfb (wgpu on Mesa's lavapipe), the
//! password typed with xdotool; after the clip has played, Disconnect is clicked and the window's
//! summary is printed: time from an update's arrival to the pass that draws it (p50/p99, small
//! and full-screen updates), and the frames per second the window drew.
//!
//! ```text
//! cargo build --release --workspace
//! ./target/release/viewer-present [--seconds S] [CLIP.bgra.zst]   # default: corpus/scroll.bgra.zst
//! ```
//!
//! Needs Xvfb, openbox and xdotool (`make deps`).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const PASSWORD: &str = "Tamoki-Ruvela-Sipono-47!";

/// Processes started here, stopped on drop (last started, first stopped).
#[derive(Default)]
struct Started(Vec<Child>);

impl Drop for Started {
    fn drop(&mut self) {
        for child in self.0.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn sibling(name: &str) -> Result<PathBuf> {
    let path = std::env::current_exe()?.with_file_name(name);
    if !path.exists() {
        bail!(
            "{} is missing: run `cargo build --release --workspace` first",
            path.display()
        );
    }
    Ok(path)
}

/// Lines of a child's standard error, as they come.
fn follow(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

fn wait_for(lines: &mpsc::Receiver<String>, needle: &str, seconds: u64) -> Result<String> {
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

fn xdotool(display: &str, args: &[&str]) -> Result<String> {
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

fn main() -> ExitCode {
    match measure() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("viewer-present: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn measure() -> Result<()> {
    let mut seconds = 20u64;
    let mut clip = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../corpus/scroll.bgra.zst"
    ));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => seconds = args.next().context("--seconds needs a value")?.parse()?,
            _ if arg.starts_with("--") => bail!("unknown option {arg}"),
            _ => clip = PathBuf::from(arg),
        }
    }
    let (agent_bin, viewer_bin) = (sibling("beckon-agent")?, sibling("beckon-viewer")?);
    let scratch =
        std::env::temp_dir().join(format!("beckon-viewer-present-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let mut started = Started::default();
    let display = format!(":{}", 110 + std::process::id() % 25);
    started.0.push(
        Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1600x1000x24",
                "-nolisten",
                "tcp",
            ])
            .stderr(Stdio::null())
            .spawn()
            .context("Xvfb (make deps installs it)")?,
    );
    std::thread::sleep(Duration::from_secs(1));
    started.0.push(
        Command::new("openbox")
            .env("DISPLAY", &display)
            .stderr(Stdio::null())
            .spawn()
            .context("openbox")?,
    );
    let data = scratch.join("data");
    let file = scratch.join("invitation.beckon");
    let port = std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut invite = Command::new(&agent_bin)
        .arg("--data-dir")
        .arg(&data)
        .args(["invite", "--from", "Ada", "--message", "benchmark"])
        .args([
            "--password-stdin",
            "--address",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--save")
        .arg(&file)
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    writeln!(invite.stdin.take().context("stdin")?, "{PASSWORD}")?;
    if !invite.wait()?.success() {
        bail!("beckon-agent invite failed");
    }
    let mut agent = Command::new(&agent_bin)
        .arg("--data-dir")
        .arg(&data)
        .args(["share", "--console", "--yes", "--sessions", "1", "--clip"])
        .arg(&clip)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let agent_lines = follow(agent.stderr.take().context("stderr")?);
    started.0.push(agent);
    wait_for(&agent_lines, "Waiting for helpers", 30)?;
    let mut viewer = Command::new(&viewer_bin)
        .args(["--name", "Grace"])
        .arg(&file)
        .env("DISPLAY", &display)
        .stderr(Stdio::piped())
        .spawn()?;
    let viewer_lines = follow(viewer.stderr.take().context("stderr")?);
    started.0.push(viewer);
    let window = xdotool(&display, &["search", "--sync", "--name", "Beckon: helping"])?;
    std::thread::sleep(Duration::from_secs(1));
    xdotool(&display, &["type", "--delay", "20", PASSWORD])?;
    xdotool(&display, &["key", "Return"])?;
    wait_for(&agent_lines, "The helper sees your screen", 30)?;
    std::thread::sleep(Duration::from_secs(seconds));
    xdotool(
        &display,
        &["mousemove", "--window", &window, "146", "12", "click", "1"],
    )?;
    let summary = wait_for(&viewer_lines, "Window summary", 30)?;
    println!("{}: {summary}", clip.display());
    drop(started);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}
