//! `demo` (what `make demo` runs): Beckon end to end on this machine.
//!
//! A virtual sharer desktop (a fresh Xvfb with openbox, a terminal and the README in `less`), a fresh invitation
//! with a generated password, and `beckon-agent share` on it (the virtual sharer says Yes to
//! everything on its console). Then:
//! - with a display (`DISPLAY` set, no `--headless`): `beckon-viewer` opens on it with the
//!   invitation; type the printed password, watch, chat, Take Control. Close the window to end.
//! - without one (SSH, CI) or with `--headless`: the viewer runs on a second Xvfb and a scripted
//!   session connects, views, takes control, types into the terminal, gives control back with
//!   Esc, chats and disconnects, with screenshots of each step in `target/demo/`, then a summary.
//!
//! Every process it started is stopped at the end.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use beckon_benches::desktop::{
    Started, find_exact, follow, free_display, grab, invite, sibling, wait_for, xdotool,
};
use rand_core::{OsRng, RngCore};

/// Small enough to show whole, at 1:1, beside the chat in the viewer's window.
const SHARER: (u32, u32) = (720, 480);
const HELPER: (u32, u32) = (1280, 800);
const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");

/// A readable password: three random syllable groups, a number and a mark.
fn password() -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "va", "ze", "bo", "di", "fu", "ge", "hi",
        "ju",
    ];
    let word = |n: usize| -> String {
        let s: String = (0..n)
            .map(|_| SYLLABLES[OsRng.next_u32() as usize % SYLLABLES.len()])
            .collect();
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_ascii_uppercase())
            .into_iter()
            .chain(c)
            .collect()
    };
    format!(
        "{}-{}-{}-{}!",
        word(3),
        word(3),
        word(3),
        10 + OsRng.next_u32() % 90
    )
}

fn main() -> ExitCode {
    let headless = std::env::args().any(|a| a == "--headless")
        || std::env::var("DISPLAY").map_or(true, |d| d.is_empty());
    match demo(headless) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn demo(headless: bool) -> Result<()> {
    let (agent_bin, viewer_bin) = (sibling("beckon-agent")?, sibling("beckon-viewer")?);
    let out = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/demo"));
    let scratch = out.join("run");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;
    let mut started = Started::default();

    // The sharer's desktop.
    let ada = free_display(400);
    started.xvfb(&ada, SHARER)?;
    started.window_manager(&ada)?;
    let typed = scratch.join("typed.txt");
    let terminal = format!(
        "echo \"Ada's computer: the helper types below.\"; cat > {}",
        typed.display()
    );
    started.on(
        &ada,
        "xterm",
        &["-geometry", "56x12+10+30", "-e", "sh", "-c", &terminal],
    )?;
    started.on(
        &ada,
        "xterm",
        &["-geometry", "60x14+300+230", "-e", "less", README],
    )?;
    xdotool(
        &ada,
        &["search", "--sync", "--onlyvisible", "--class", "xterm"],
    )?;

    let password = password();
    let (data, file) = (scratch.join("data"), scratch.join("help.beckon"));
    let port = std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    invite(&agent_bin, &data, &file, port, &password)?;
    let mut agent = Command::new(&agent_bin)
        .arg("--data-dir")
        .arg(&data)
        .args([
            "share",
            "--x11",
            "--display",
            &ada,
            "--console",
            "--yes",
            "--sessions",
            "1",
        ])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut answers = agent.stdin.take().context("stdin")?;
    let raw = follow(agent.stderr.take().context("stderr")?);
    started.0.push(agent);
    // The virtual sharer says Yes to control and greets the helper.
    let (said_tx, said) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in raw {
            let reply = if line.contains("would like to share control") {
                Some("y\n")
            } else if line.starts_with("helper: ") {
                Some("Hello! Thanks for helping.\n")
            } else {
                None
            };
            if let Some(reply) = reply {
                let _ = answers.write_all(reply.as_bytes());
            }
            println!("  sharer | {line}");
            let _ = said_tx.send(line);
        }
    });
    wait_for(&said, "Waiting for helpers", 30)?;

    if !headless {
        println!(
            "\nThe invitation: {}\nIts password:   {password}\n",
            file.display()
        );
        println!("The viewer opens now: type the password, then look around, chat, Take Control.");
        println!(
            "Ada's virtual screen says Yes to everything. Close the window to end the demo.\n"
        );
        let status = Command::new(&viewer_bin)
            .args(["--name", "You"])
            .arg(&file)
            .status()?;
        println!("The viewer closed ({status}); stopping the sharer's desktop.");
        return Ok(());
    }
    scripted(
        &mut started,
        &viewer_bin,
        &file,
        &password,
        &said,
        &ada,
        &typed,
        &out,
    )
}

/// The headless session, step by step, with screenshots and a summary.
#[expect(clippy::too_many_arguments)]
fn scripted(
    started: &mut Started,
    viewer_bin: &Path,
    file: &Path,
    password: &str,
    said: &std::sync::mpsc::Receiver<String>,
    ada: &str,
    typed: &Path,
    out: &Path,
) -> Result<()> {
    let step = |n: u32, name: &str| out.join(format!("{n}-{name}.png"));
    let grace = free_display(420);
    started.xvfb(&grace, HELPER)?;
    started.window_manager(&grace)?;
    let viewer = started.followed(
        Command::new(viewer_bin)
            .args(["--name", "Grace"])
            .arg(file)
            .env("DISPLAY", &grace),
    )?;
    let window = xdotool(&grace, &["search", "--sync", "--name", "Beckon: helping"])?;
    let click = |x: u32, y: u32| {
        xdotool(
            &grace,
            &[
                "mousemove",
                "--window",
                &window,
                &x.to_string(),
                &y.to_string(),
                "click",
                "1",
            ],
        )
    };
    std::thread::sleep(Duration::from_secs(1));
    grab(&grace, HELPER, Some(&step(1, "connect")))?;
    println!("1. Grace opens the invitation and types the password.");
    xdotool(&grace, &["type", "--delay", "20", password])?;
    xdotool(&grace, &["key", "Return"])?;
    wait_for(said, "The helper sees your screen", 60)?;
    xdotool(
        ada,
        &[
            "mousemove",
            &(SHARER.0 - 10).to_string(),
            &(SHARER.1 - 10).to_string(),
        ],
    )?;
    let exact = || -> Result<Option<(u32, u32)>> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let shown = grab(ada, SHARER, None)?;
            let seen = grab(&grace, HELPER, None)?;
            let corner = find_exact(
                &shown,
                SHARER,
                &seen,
                HELPER,
                (SHARER.0 - 10, SHARER.1 - 10),
            );
            if corner.is_some() || Instant::now() > deadline {
                return Ok(corner);
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    };
    let Some(corner) = exact()? else {
        grab(ada, SHARER, Some(&out.join("2-sharer.png")))?;
        grab(&grace, HELPER, Some(&out.join("2-helper.png")))?;
        bail!(
            "the viewer never showed the sharer's screen exactly: compare 2-sharer.png and 2-helper.png"
        );
    };
    grab(&grace, HELPER, Some(&step(2, "viewing")))?;
    println!("2. Ada's screen shows in Grace's window, pixel for pixel.");

    click(53, 12)?;
    wait_for(&viewer, "ControlGranted", 30)?;
    println!("3. Grace takes control (Ada says Yes) and types into Ada's terminal.");
    let (x, y) = (corner.0 + 150, corner.1 + 120);
    xdotool(
        &grace,
        &["mousemove", &x.to_string(), &y.to_string(), "click", "1"],
    )?;
    std::thread::sleep(Duration::from_millis(500));
    xdotool(
        &grace,
        &[
            "type",
            "--delay",
            "50",
            "Your printer queue is stuck: restarting it.",
        ],
    )?;
    xdotool(&grace, &["key", "Return"])?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(typed).map_or(true, |t| !t.contains("restarting it.")) {
        if Instant::now() > deadline {
            bail!("the typed line never reached Ada's terminal");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    grab(&grace, HELPER, Some(&step(3, "controlling")))?;
    xdotool(&grace, &["key", "Escape"])?;
    wait_for(&viewer, "ControlEnded(Helper)", 30)?;
    println!("4. Esc gives control back.");

    click(895, 698)?;
    xdotool(
        &grace,
        &["type", "--delay", "20", "All fixed. Anything else?"],
    )?;
    xdotool(&grace, &["key", "Return"])?;
    wait_for(&viewer, "Ada: Hello! Thanks for helping.", 30)?;
    println!("5. They chat.");
    let at_end = exact()?;
    grab(&grace, HELPER, Some(&step(4, "chat")))?;

    click(146, 12)?;
    let summary = wait_for(&viewer, "Window summary", 30)?;
    wait_for(said, "Session over", 30)?;
    grab(&grace, HELPER, Some(&step(5, "disconnected")))?;
    println!("6. Grace disconnects.\n");
    println!("{}", summary.replace("Window summary: ", "Summary: "));
    println!(
        "Exact pixels at the end: {}",
        if at_end.is_some() { "yes" } else { "no" }
    );
    println!("Screenshots: {}/*.png", out.display());
    if at_end.is_none() {
        bail!("the helper's window did not end with the sharer's exact pixels");
    }
    Ok(())
}
