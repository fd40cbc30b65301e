//! `agent-cpu`: what sharing costs the sharer's computer. A 1920x1080 Xvfb with an xterm, the
//! real `beckon-agent share --x11` and a real `beckon-viewer open` on loopback; the agent's CPU
//! time (user + system, from `/proc`) is read while the screen is idle and while text is typed
//! into the xterm.
//!
//! ```text
//! cargo build --release --workspace
//! ./target/release/agent-cpu [--idle SECONDS] [--chars N]
//! ```
//!
//! Figures: the idle share of one core (target: under 1 %), and CPU milliseconds per typed
//! character (raw, and net of the idle rate). Needs Xvfb, xterm and xdotool (`make deps`).

use std::io::Write;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use beckon_benches::cpu_seconds;
use beckon_benches::desktop::{Started, free_display, invite, sibling, wait_for, xdotool};

const PASSWORD: &str = "Tamoki-Ruvela-Sipono-47!";

fn main() -> ExitCode {
    match measure() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("agent-cpu: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn measure() -> Result<()> {
    let (mut idle, mut chars) = (60u64, 200usize);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--idle" => idle = value.parse()?,
            "--chars" => chars = value.parse()?,
            other => bail!("unknown option {other}: --idle SECONDS, --chars N"),
        }
    }
    let (agent_bin, viewer_bin) = (sibling("beckon-agent")?, sibling("beckon-viewer")?);
    let scratch = std::env::temp_dir().join(format!("beckon-agent-cpu-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let mut started = Started::default();
    let display = free_display(460);
    started.xvfb(&display, (1920, 1080))?;
    started.on(
        &display,
        "xterm",
        &[
            "-geometry",
            "160x50+0+0",
            "-e",
            "sh",
            "-c",
            "cat > /dev/null",
        ],
    )?;
    std::thread::sleep(Duration::from_secs(1));
    let data = scratch.join("data");
    let file = scratch.join("invitation.beckon");
    let port = std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    invite(&agent_bin, &data, &file, port, PASSWORD)?;
    let mut agent = Command::new(&agent_bin);
    agent
        .arg("--data-dir")
        .arg(&data)
        .args([
            "share",
            "--x11",
            "--display",
            &display,
            "--console",
            "--yes",
        ])
        .args(["--sessions", "1", "--listen", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::piped());
    let lines = started.followed(&mut agent)?;
    let agent_pid = started.0.last().context("the agent")?.id();
    wait_for(&lines, "Waiting for helpers", 30)?;
    let typing_seconds = chars as u64 / 10 + 10;
    let mut viewer = Command::new(&viewer_bin)
        .args(["open", "--name", "Grace", "--password-stdin", "--seconds"])
        .arg((idle + typing_seconds + 20).to_string())
        .arg(&file)
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    writeln!(viewer.stdin.take().context("stdin")?, "{PASSWORD}")?;
    let viewer_pid = viewer.id();
    started.0.push(viewer);
    wait_for(&lines, "The helper sees your screen", 30)?;
    // The first whole screen and its refinement settle first.
    std::thread::sleep(Duration::from_secs(8));

    let (agent0, viewer0, t0) = (
        cpu_seconds(agent_pid)?,
        cpu_seconds(viewer_pid)?,
        Instant::now(),
    );
    std::thread::sleep(Duration::from_secs(idle));
    let (agent1, viewer1, t1) = (
        cpu_seconds(agent_pid)?,
        cpu_seconds(viewer_pid)?,
        Instant::now(),
    );
    let idle_rate = (agent1 - agent0) / (t1 - t0).as_secs_f64();
    println!(
        "idle, {idle} s: agent {:.3} % of a core ({:.2} s CPU); viewer {:.3} %",
        idle_rate * 100.0,
        agent1 - agent0,
        (viewer1 - viewer0) / (t1 - t0).as_secs_f64() * 100.0
    );

    // Typing at 10 characters a second, as a person types, with the pointer on the xterm.
    xdotool(&display, &["mousemove", "400", "300"])?;
    let text: String = "the quick brown fox jumps over the lazy dog "
        .chars()
        .cycle()
        .take(chars)
        .collect();
    xdotool(&display, &["type", "--delay", "100", &text])?;
    std::thread::sleep(Duration::from_secs(3));
    let (agent2, t2) = (cpu_seconds(agent_pid)?, Instant::now());
    let used = agent2 - agent1;
    let net = used - idle_rate * (t2 - t1).as_secs_f64();
    println!(
        "typing {chars} characters in {:.1} s: agent {:.3} ms CPU a character ({:.3} ms net of idle), {:.2} % of a core",
        (t2 - t1).as_secs_f64(),
        used * 1000.0 / chars as f64,
        net * 1000.0 / chars as f64,
        used / (t2 - t1).as_secs_f64() * 100.0
    );
    drop(started);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}
