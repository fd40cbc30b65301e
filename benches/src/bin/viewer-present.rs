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

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use beckon_benches::desktop::{Started, free_display, invite, sibling, wait_for, xdotool};

const PASSWORD: &str = "Tamoki-Ruvela-Sipono-47!";

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
    let display = free_display(440);
    started.xvfb(&display, (1600, 1000))?;
    started.window_manager(&display)?;
    let data = scratch.join("data");
    let file = scratch.join("invitation.beckon");
    let port = std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    invite(&agent_bin, &data, &file, port, PASSWORD)?;
    let agent_lines = started.followed(
        Command::new(&agent_bin)
            .arg("--data-dir")
            .arg(&data)
            .args(["share", "--console", "--yes", "--sessions", "1", "--clip"])
            .arg(&clip)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::piped()),
    )?;
    wait_for(&agent_lines, "Waiting for helpers", 30)?;
    let viewer_lines = started.followed(
        Command::new(&viewer_bin)
            .args(["--name", "Grace"])
            .arg(&file)
            .env("DISPLAY", &display),
    )?;
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
