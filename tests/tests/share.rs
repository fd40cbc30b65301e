//! Across processes: `beckon-agent invite`, `beckon-agent share` and `beckon-viewer open`, over
//! QUIC on loopback, with the store on disk.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use beckon_engine::corpus::ClipReader;

use crate::util::{Scratch, binary, repo};

const PASSWORD: &str = "Tamoki-Ruvela-Sipono-47!";

fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn invite(data: &Scratch, file: &std::path::Path, port: u16) {
    let mut child = Command::new(binary("beckon-agent"))
        .arg("--data-dir")
        .arg(data.path())
        .args([
            "invite",
            "--from",
            "Ada",
            "--message",
            "printer",
            "--password-stdin",
            "--address",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--save")
        .arg(file)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts `share` and waits until it listens.
fn share(data: &Scratch, port: u16) -> Child {
    let mut child = Command::new(binary("beckon-agent"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["share", "--yes", "--listen"])
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
        if line.starts_with("Waiting for the helper") {
            break;
        }
        assert!(Instant::now() < deadline, "share did not start listening");
    }
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

fn open(
    file: &std::path::Path,
    password: &str,
    screenshot: &std::path::Path,
    seconds: u32,
) -> std::process::Output {
    let mut child = Command::new(binary("beckon-viewer"))
        .args([
            "open",
            "--name",
            "Grace",
            "--password-stdin",
            "--seconds",
            &seconds.to_string(),
            "--screenshot",
        ])
        .arg(screenshot)
        .arg(file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn state_of(data: &Scratch) -> serde_json::Value {
    let out = Command::new(binary("beckon-agent"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["invitations", "--json"])
        .output()
        .unwrap();
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()[0].clone()
}

#[test]
fn invite_share_and_open_across_processes_ends_exact() {
    let data = Scratch::new("share");
    let file = data.path().join("invitation.beckon");
    let port = free_port();
    invite(&data, &file, port);
    let mut agent = share(&data, port);
    let shot = data.path().join("shown.png");
    let out = open(&file, PASSWORD, &shot, 12);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Invitation from Ada") && stderr.contains("Disconnected by the helper"),
        "{stderr}"
    );
    assert!(agent.wait().unwrap().success());

    // What the helper saw at the end is the clip's last frame, exactly.
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
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

    assert_eq!(state_of(&data)["state"], "used");
    let log = Command::new(binary("beckon-agent"))
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

#[test]
fn a_wrong_password_across_processes_is_named_and_counted() {
    let data = Scratch::new("share");
    let file = data.path().join("invitation.beckon");
    let port = free_port();
    invite(&data, &file, port);
    let mut agent = share(&data, port);
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
