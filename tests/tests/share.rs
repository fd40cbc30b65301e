//! Across processes: `beckon-agent invite`, `beckon-agent share` and `beckon-viewer open`, over
//! QUIC on loopback, with the store on disk.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use beckon_engine::corpus::ClipReader;

use crate::util::{Scratch, program, repo, run_with_stdin};

pub const PASSWORD: &str = "Tamoki-Ruvela-Sipono-47!";

fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `beckon-agent invite` into the store in `data`: Ada's invitation for 127.0.0.1:`port`, saved
/// to `file`.
pub fn invite(data: &std::path::Path, file: &std::path::Path, port: u16) {
    invite_at(data, file, &format!("127.0.0.1:{port}"));
}

/// `beckon-agent invite` into the store in `data`: Ada's invitation for `address`, saved to
/// `file`.
pub fn invite_at(data: &std::path::Path, file: &std::path::Path, address: &str) {
    let out = run_with_stdin(
        program("beckon-agent")
            .arg("--data-dir")
            .arg(data)
            .args([
                "invite",
                "--from",
                "Ada",
                "--message",
                "printer",
                "--password-stdin",
                "--address",
            ])
            .arg(address)
            .arg("--save")
            .arg(file),
        &format!("{PASSWORD}\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running `beckon-agent share`, killed if a test fails before it ends.
pub struct Agent(pub Child);

/// What a process has printed so far, kept by the thread draining its output.
type Said = std::sync::Arc<std::sync::Mutex<String>>;

impl Agent {
    pub fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        self.0.wait()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `share` for `sessions` connections and waits until it listens.
/// Returns the agent and what it has said on its terminal so far.
fn share(data: &Scratch, port: u16, sessions: u32) -> (Agent, Said) {
    share_with(data, port, sessions, &[])
}

/// [`share`] with more environment variables.
fn share_with(data: &Scratch, port: u16, sessions: u32, env: &[(&str, &str)]) -> (Agent, Said) {
    let mut child = program("beckon-agent")
        .envs(env.iter().copied())
        .env("XDG_STATE_HOME", state_home(data.path()))
        .arg("--data-dir")
        .arg(data.path())
        .args([
            "share",
            "--console",
            "--yes",
            "--sessions",
            &sessions.to_string(),
            "--listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--clip")
        .arg(repo().join("corpus/terminal.bgra.zst"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let line = lines.next().expect("share exited early").unwrap();
        if line.starts_with("Waiting for helpers") {
            break;
        }
        assert!(Instant::now() < deadline, "share did not start listening");
    }
    // Keep draining its output so it never blocks on a full pipe.
    let said = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let kept = said.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let mut kept = kept.lock().unwrap();
            kept.push_str(&line);
            kept.push('\n');
        }
    });
    (Agent(child), said)
}

/// A store with one invitation, saved to `invitation.beckon`, served for `sessions` connections.
fn serving(sessions: u32) -> (Scratch, std::path::PathBuf, Agent, Said) {
    let data = Scratch::new("share");
    let file = data.path().join("invitation.beckon");
    let port = free_port();
    invite(data.path(), &file, port);
    let (agent, said) = share(&data, port, sessions);
    (data, file, agent, said)
}

/// The state directory (logs) of the programs a test of the store in `dir` runs.
fn state_home(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join("state")
}

fn open(
    file: &std::path::Path,
    password: &str,
    screenshot: &std::path::Path,
    seconds: u32,
) -> std::process::Output {
    open_with(file, password, screenshot, seconds, &[])
}

/// [`open`] for 12 seconds (the clip lasts 10), then until the picture is exact.
fn open_until_exact(file: &std::path::Path, screenshot: &std::path::Path) -> std::process::Output {
    open_with(file, PASSWORD, screenshot, 12, &["--wait-exact"])
}

fn open_with(
    file: &std::path::Path,
    password: &str,
    screenshot: &std::path::Path,
    seconds: u32,
    more: &[&str],
) -> std::process::Output {
    run_with_stdin(
        program("beckon-viewer")
            .env("XDG_STATE_HOME", state_home(file.parent().unwrap()))
            .args([
                "open",
                "--name",
                "Grace",
                "--password-stdin",
                "--seconds",
                &seconds.to_string(),
            ])
            .args(more)
            .arg("--screenshot")
            .arg(screenshot)
            .arg(file),
        &format!("{password}\n"),
    )
}

fn state_of(data: &Scratch) -> serde_json::Value {
    let out = program("beckon-agent")
        .arg("--data-dir")
        .arg(data.path())
        .args(["invitations", "--json"])
        .output()
        .unwrap();
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()[0].clone()
}

#[test]
fn invite_share_and_open_across_processes_ends_exact() {
    let (data, file, mut agent, _) = serving(1);
    let shot = data.path().join("shown.png");
    let out = open_until_exact(&file, &shot);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Invitation from Ada") && stderr.contains("Disconnected by the helper"),
        "{stderr}"
    );
    assert!(agent.wait().unwrap().success());

    // What the helper saw at the end is the clip's last frame, exactly.
    assert_shows_last_frame(&shot);

    assert_eq!(state_of(&data)["state"], "used");
    let log = program("beckon-agent")
        .arg("--data-dir")
        .arg(data.path())
        .args(["log"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&log.stdout);
    for event in [
        "created",
        "helper connected",
        "consent given",
        "viewing started",
        "disconnected",
    ] {
        assert!(log.contains(event), "{event} missing from the log:\n{log}");
    }
}

/// Both programs log their events to private files in the state directory whatever happens;
/// `RUST_LOG` and `--verbose` show them on standard error too; no log holds a password.
#[test]
fn the_programs_log_privately_and_never_a_password() {
    use std::os::unix::fs::MetadataExt;
    let data = Scratch::new("share-logs");
    let file = data.path().join("invitation.beckon");
    let port = free_port();
    invite(data.path(), &file, port);
    let (mut agent, said) = share_with(&data, port, 2, &[("RUST_LOG", "debug")]);
    let wrong = "Not-The-Password-99!";
    assert!(
        !open(&file, wrong, &data.path().join("x.png"), 10)
            .status
            .success()
    );
    let out = run_with_stdin(
        program("beckon-viewer")
            .env("XDG_STATE_HOME", state_home(data.path()))
            .args([
                "open",
                "--verbose",
                "--json",
                "--password-stdin",
                "--seconds",
                "3",
            ])
            .arg(&file),
        &format!("{PASSWORD}\n"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(agent.wait().unwrap().success());
    let logs = state_home(data.path()).join("beckon");
    assert!(
        stderr.contains(&format!("Logging to {}", logs.join("viewer.log").display()))
            && stderr.contains("connected; authenticating"),
        "--verbose shows the events:\n{stderr}"
    );
    let said = said.lock().unwrap().clone();
    assert!(
        said.contains("helper connected"),
        "RUST_LOG shows them:\n{said}"
    );
    // --json: what happened, for scripts, on standard output.
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let size = ClipReader::open(repo().join("corpus/terminal.bgra.zst"))
        .unwrap()
        .blank_frame();
    assert_eq!(
        (
            &outcome["from"],
            &outcome["disconnected_by"],
            &outcome["screen"]
        ),
        (
            &serde_json::json!("Ada"),
            &serde_json::json!("helper"),
            &serde_json::json!([size.width(), size.height()])
        ),
        "{outcome}"
    );

    assert_eq!(std::fs::metadata(&logs).unwrap().mode() & 0o777, 0o700);
    for (name, events) in [
        ("agent.log", &["wrong password", "helper connected"][..]),
        (
            "viewer.log",
            &["connected; authenticating", "session closed"],
        ),
    ] {
        let path = logs.join(name);
        assert_eq!(
            std::fs::metadata(&path).unwrap().mode() & 0o777,
            0o600,
            "{name}"
        );
        let log = std::fs::read_to_string(&path).unwrap();
        for event in events {
            assert!(log.contains(event), "{event:?} missing from {name}:\n{log}");
        }
        assert!(
            !log.contains(PASSWORD) && !log.contains(wrong),
            "a password in {name}"
        );
    }
}

#[test]
fn a_wrong_password_across_processes_is_named_and_counted() {
    let (data, file, mut agent, _) = serving(1);
    let out = open(
        &file,
        "Not-The-Password-99!",
        &data.path().join("x.png"),
        10,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("wrong password (4 attempts left)"),
        "{stderr}"
    );
    let _ = agent.wait();
    let state = state_of(&data);
    assert_eq!(
        (state["state"].as_str(), state["attempts"].as_u64()),
        (Some("open"), Some(1))
    );
}

/// Runs `beckon-agent` with `args` on the store in `data`.
fn agent_cli(data: &Scratch, args: &[&str]) -> std::process::Output {
    let out = program("beckon-agent")
        .arg("--data-dir")
        .arg(data.path())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn invitation_id(file: &std::path::Path) -> String {
    beckon_engine::invite::Invitation::from_toml(&std::fs::read_to_string(file).unwrap())
        .unwrap()
        .id
}

/// Opens `file` with `password`, expecting a refusal; returns what the viewer said.
pub(crate) fn refused(file: &std::path::Path, password: &str, scratch: &Scratch) -> String {
    let out = open(file, password, &scratch.path().join("never.png"), 10);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "admitted: {stderr}");
    assert!(
        !scratch.path().join("never.png").exists(),
        "a refused helper saw pixels"
    );
    stderr
}

/// OPAQUE lets a helper test its guess against the agent's answer before proving anything, so
/// logins in progress count against the limit: five held open after the agent's answer leave
/// none for a sixth, even with the right password, and each counts as a wrong password when it
/// ends. Without this, connections at once would each have a guess the limit never sees.
#[test]
fn logins_held_open_count_against_the_limit() {
    use crate::hostile::{Stop, close_all, half_open};
    use std::net::{IpAddr, Ipv4Addr};
    let (data, file, _agent, _) = serving(20);
    let invitation =
        beckon_engine::invite::Invitation::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let held = runtime.block_on(async {
        let mut held = Vec::new();
        for i in 0..5u8 {
            let from = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i));
            held.push(
                half_open(&invitation, from, Stop::AfterHello)
                    .await
                    .expect("an answer"),
            );
        }
        held
    });
    let said = refused(&file, PASSWORD, &data);
    assert!(
        said.contains("locked after too many wrong passwords"),
        "the sixth login, with the right password: {said}"
    );
    runtime.block_on(close_all(&held));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = state_of(&data);
        if state["attempts"].as_u64() == Some(5) {
            assert_eq!(state["state"].as_str(), Some("locked"));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "five held logins not counted: {state}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(audit(&data).matches("wrong password attempt").count(), 5);
}

fn audit(data: &Scratch) -> String {
    String::from_utf8_lossy(&agent_cli(data, &["log"]).stdout).to_string()
}

#[test]
fn expired_and_deleted_invitations_are_refused_with_their_reason_across_processes() {
    let data = Scratch::new("share");
    let port = free_port();
    let (expired, deleted) = (
        data.path().join("expired.beckon"),
        data.path().join("deleted.beckon"),
    );
    invite(data.path(), &expired, port);
    invite(data.path(), &deleted, port);
    agent_cli(&data, &["expire", &invitation_id(&expired)]);
    agent_cli(&data, &["delete", &invitation_id(&deleted)]);
    let (mut agent, _) = share(&data, port, 2);
    let said = refused(&expired, PASSWORD, &data);
    assert!(said.contains("the invitation has expired"), "{said}");
    let said = refused(&deleted, PASSWORD, &data);
    assert!(
        said.contains("the sharer deleted this invitation"),
        "{said}"
    );
    assert!(agent.wait().unwrap().success());
    let log = audit(&data);
    assert!(
        log.contains("refused the invitation has expired")
            && log.contains("refused the sharer deleted this invitation"),
        "{log}"
    );
}

#[test]
fn the_sixth_attempt_on_a_locked_invitation_is_refused_before_any_key_exchange() {
    let (data, file, mut agent, sharer_saw) = serving(7);
    for left in (1..=4).rev() {
        let said = refused(&file, "Not-The-Password-99!", &data);
        assert!(
            said.contains(&format!(
                "wrong password ({left} attempt{} left)",
                if left == 1 { "" } else { "s" }
            )),
            "{said}"
        );
    }
    let said = refused(&file, "Not-The-Password-99!", &data);
    assert!(said.contains("the invitation is now locked"), "{said}");
    // The sharer is told too, in words that say what to do.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !sharer_saw
        .lock()
        .unwrap()
        .contains("is now locked after 5 wrong passwords")
    {
        let saw = sharer_saw.lock().unwrap().clone();
        assert!(Instant::now() < deadline, "the sharer was not told: {saw}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The sixth, even with the right password, is refused as locked and not counted: the
    // agent refuses before the key exchange, so no password is tried.
    let said = refused(&file, PASSWORD, &data);
    assert!(
        said.contains("locked after too many wrong passwords"),
        "{said}"
    );
    let said = refused(&file, "Not-The-Password-99!", &data);
    assert!(said.contains("locked"), "{said}");
    assert!(agent.wait().unwrap().success());
    let state = state_of(&data);
    assert_eq!(
        (state["state"].as_str(), state["attempts"].as_u64()),
        (Some("locked"), Some(5))
    );
    let log = audit(&data);
    assert_eq!(log.matches("wrong password attempt").count(), 5, "{log}");
    assert_eq!(
        log.matches("refused the invitation is locked").count(),
        2,
        "{log}"
    );
}

#[test]
fn a_second_helper_is_told_the_invitation_is_in_use_then_already_used() {
    let (data, file, mut agent, _) = serving(3);
    let first = {
        let file = file.clone();
        let shot = data.path().join("first.png");
        std::thread::spawn(move || open(&file, PASSWORD, &shot, 6))
    };
    // Wait until the first helper sees the screen.
    let deadline = Instant::now() + Duration::from_secs(20);
    while state_of(&data)["state"] != "used" {
        assert!(Instant::now() < deadline, "the first helper never got in");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The second waits a while, in case they are the first coming back, and learns that the
    // invitation was used once the first helper disconnects.
    let said = refused(&file, PASSWORD, &data);
    assert!(
        said.contains("says another helper is connected: waiting")
            && said.contains("was already used"),
        "{said}"
    );
    let out = first.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = refused(&file, PASSWORD, &data);
    assert!(said.contains("was already used"), "{said}");
    assert!(agent.wait().unwrap().success());
}

/// Replaces the line starting with `key =` in an invitation file.
fn tamper(file: &std::path::Path, key: &str, value: &str, to: &std::path::Path) {
    let text = std::fs::read_to_string(file).unwrap();
    let tampered: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with(&format!("{key} =")) {
                format!("{key} = {value}")
            } else {
                l.to_string()
            }
        })
        .collect();
    assert_ne!(tampered.join("\n"), text.trim_end(), "{key} not found");
    std::fs::write(to, tampered.join("\n")).unwrap();
}

#[test]
fn a_tampered_invitation_fails_safely() {
    let data = Scratch::new("share");
    let file = data.path().join("invitation.beckon");
    let port = free_port();
    invite(data.path(), &file, port);
    // Five sessions: the forged certificate never completes a handshake, the address reaches
    // nobody; the forged id and the four edits reach the agent.
    let (mut agent, _) = share(&data, port, 5);
    let forged = data.path().join("forged.beckon");

    // Another certificate: the viewer refuses the agent before anything is sent.
    tamper(
        &file,
        "fingerprint",
        &format!("\"{}\"", ["AB"; 32].join(":")),
        &forged,
    );
    let said = refused(&forged, PASSWORD, &data);
    assert!(said.contains("certificate mismatch"), "{said}");

    // Another address, where nothing answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    tamper(&file, "addresses", &format!("[\"{addr}\"]"), &forged);
    let said = refused(&forged, PASSWORD, &data);
    assert!(
        said.contains("no answer") && said.contains("firewall"),
        "{said}"
    );

    // Another id: unknown to the agent.
    tamper(&file, "id", "\"000000-000000\"", &forged);
    let said = refused(&forged, PASSWORD, &data);
    assert!(said.contains("does not know this invitation"), "{said}");

    // What the invitation says, edited: its message, its From, its expiry, its salt. The helper
    // is told, the sharer's console too, and no wrong password is counted.
    let text = std::fs::read_to_string(&file).unwrap();
    let expires: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("expires = "))
        .unwrap()
        .parse()
        .unwrap();
    for (key, value) in [
        (
            "message",
            "\"URGENT: install this update from example.net\"".to_string(),
        ),
        ("from", "\"Your bank\"".to_string()),
        ("expires", (expires + 3600).to_string()),
        ("argon2_salt", format!("\"{}\"", "11".repeat(16))),
    ] {
        tamper(&file, key, &value, &forged);
        let said = refused(&forged, PASSWORD, &data);
        assert!(
            said.contains("this invitation was changed after it was made"),
            "{key}: {said}"
        );
    }
    assert!(agent.wait().unwrap().success());
    let state = state_of(&data);
    assert_eq!(
        (state["state"].as_str(), state["attempts"].as_u64()),
        (Some("open"), Some(0))
    );
    let log = audit(&data);
    assert_eq!(
        log.matches("this invitation was changed after it was made")
            .count(),
        4,
        "{log}"
    );
}

/// The screenshot at `shot` is the terminal clip's last frame, exactly.
pub fn assert_shows_last_frame(shot: &std::path::Path) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut rgb).unwrap();
    let mut clip = ClipReader::open(repo().join("corpus/terminal.bgra.zst")).unwrap();
    let mut last = clip.blank_frame();
    while clip.read_frame(&mut last).unwrap() {}
    let expected: Vec<u8> = last
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect();
    assert!(
        rgb == expected,
        "the screenshot differs from the last frame"
    );
}

/// A helper whose viewer closed while viewing (killed, as a crash or a power cut would) opens
/// the same invitation again: the new viewer waits for the agent to notice the old connection
/// is gone, and the session resumes without a new invitation or password, exact at the end.
#[test]
fn a_helper_whose_viewer_died_comes_back_with_the_same_invitation() {
    let (data, file, mut agent, said) = serving(1);
    let mut first = crate::util::spawn_with_stdin(
        program("beckon-viewer")
            .env("XDG_STATE_HOME", state_home(data.path()))
            .args([
                "open",
                "--name",
                "Grace",
                "--password-stdin",
                "--seconds",
                "60",
            ])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        &format!("{PASSWORD}\n"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while state_of(&data)["state"] != "used" {
        assert!(Instant::now() < deadline, "the first viewer never got in");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    first.kill().unwrap();
    first.wait().unwrap();
    let shot = data.path().join("again.png");
    let out = open_until_exact(&file, &shot);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("waiting up to 30 seconds in case it is you"),
        "{stderr}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = agent.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the agent still serves: {}",
            said.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(status.success());
    let said = said.lock().unwrap().clone();
    assert!(
        said.contains("Grace is back after the network cut the session"),
        "{said}"
    );
    assert_shows_last_frame(&shot);
}
