//! As an attacker on the network would: many connections that never prove the password, against
//! `beckon-agent share --x11` on a real X server, while the real helper connects.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Command;
use std::time::{Duration, Instant};

use beckon_engine::invite::Invitation;
use beckon_engine::net::{connect, viewer_endpoint};
use beckon_engine::session::{InvitationRef, Secret, Timers, ViewerOutput, ViewerSession};
use beckon_engine::wire::framing;

use crate::util::{Scratch, Xvfb, program};
use crate::x11::sharer;

/// Connections the attack holds open, four from each of fifty loopback addresses.
const HOSTILE: usize = 200;

/// What the agent's memory may grow by while the attack runs.
const MEMORY_BOUND_KB: u64 = 64 << 10;

fn resident_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// How far a hostile connection goes before it stops and holds the connection open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Half of its hello: a stranger who never finishes (Slowloris).
    MidHello,
    /// Its whole hello, a login with a password it does not know: it has the agent's answer,
    /// and never proves anything.
    AfterHello,
}

/// A connection from `from` to `invitation`'s agent that goes as far as `stop` says. Returns the
/// connection, to be held open.
pub async fn half_open(
    invitation: &Invitation,
    from: IpAddr,
    stop: Stop,
) -> Option<(beckon_engine::net::Endpoint, beckon_engine::net::Connection)> {
    let endpoint = viewer_endpoint(SocketAddr::new(from, 0)).ok()?;
    let connection = connect(
        &endpoint,
        invitation.addresses[0],
        invitation.fingerprint,
        Duration::from_secs(10),
    )
    .await
    .ok()?;
    let (mut send, mut _recv) = connection.open_bi().await.ok()?;
    let mut session = ViewerSession::new(
        &InvitationRef::of(invitation),
        "Mallory",
        &Secret::new([7; 32]),
        [0; 32],
        [1; 32],
        Timers::default(),
        0,
    );
    let Some(ViewerOutput::Send(hello)) = session.poll_output() else {
        return None;
    };
    let bytes = framing::frame(&hello).unwrap();
    let upto = match stop {
        Stop::MidHello => bytes.len() / 2,
        Stop::AfterHello => bytes.len(),
    };
    send.write_all(&bytes[..upto]).await.ok()?;
    if stop == Stop::AfterHello {
        // The agent's answer has come.
        let mut first = [0u8; 1];
        _recv.read_exact(&mut first).await.ok()?;
    }
    // The stream stays open (dropping its sending half would finish it), its other half unread.
    std::mem::forget((send, _recv));
    Some((endpoint, connection))
}

/// Closes the connections [`half_open`] made, and waits until the agent has been told.
pub async fn close_all(held: &[(beckon_engine::net::Endpoint, beckon_engine::net::Connection)]) {
    for (_, connection) in held {
        connection.close(0u32.into(), b"");
    }
    for (endpoint, _) in held {
        endpoint.wait_idle().await;
    }
}

/// Tries to open `n` unidirectional streams of 1 MiB each on `connection`; returns how many the
/// agent let it open within a second.
async fn stream_flood(connection: &beckon_engine::net::Connection, n: usize) -> usize {
    let chunk = vec![0x5a; 1 << 20];
    let mut opened = 0;
    for _ in 0..n {
        match tokio::time::timeout(Duration::from_secs(1), connection.open_uni()).await {
            Ok(Ok(mut stream)) => {
                opened += 1;
                let chunk = chunk.clone();
                tokio::spawn(async move {
                    let _ = stream.write_all(&chunk).await;
                });
            }
            _ => break,
        }
    }
    opened
}

/// 200 connections that never prove the password, one of them trying to open 400 streams of
/// 1 MiB, cost the agent less than [`MEMORY_BOUND_KB`], leave the X server serving new clients,
/// and do not stop the real helper from connecting, being allowed in and seeing the screen.
#[test]
fn two_hundred_hostile_connections_cost_little_and_the_real_helper_still_gets_in() {
    let scratch = Scratch::new("hostile");
    let mut x = Xvfb::start(640, 400);
    let (mut agent, console, file, _typed) =
        sharer(&mut x, &scratch, "+10+20", &["--console", "--yes"], |_| {
            None
        });
    let pid = agent.0.id();
    let before = resident_kb(pid);
    let invitation = Invitation::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let (held, streams) = runtime.block_on(async {
        let attacks = (0..HOSTILE).map(|i| {
            let invitation = invitation.clone();
            let from = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (i / 4) as u8));
            tokio::spawn(async move { half_open(&invitation, from, Stop::MidHello).await })
        });
        let mut held = Vec::new();
        for attack in attacks.collect::<Vec<_>>() {
            if let Some(connection) = attack.await.unwrap() {
                held.push(connection);
            }
        }
        let streams = match held.first() {
            Some((_, connection)) => stream_flood(connection, 400).await,
            None => 0,
        };
        (held, streams)
    });
    let attack_took = started.elapsed();
    let during = resident_kb(pid);
    eprintln!(
        "{} of {HOSTILE} hostile connections held after {attack_took:?}; {streams} streams \
         opened; agent resident {before} kB before, {during} kB during",
        held.len()
    );
    assert_eq!(
        streams, 0,
        "the agent must grant a helper no stream of its own"
    );
    assert!(
        held.len() >= HOSTILE / 2,
        "the attack should hold connections open ({} held)",
        held.len()
    );

    // The X server still takes new clients.
    let xdpyinfo = Command::new("xdpyinfo")
        .args(["-display", &x.display])
        .output()
        .expect("xdpyinfo (make deps installs x11-utils)");
    assert!(
        xdpyinfo.status.success(),
        "the X server refused a client during the attack: {}",
        String::from_utf8_lossy(&xdpyinfo.stderr)
    );

    // The real helper, with the right password, gets in and sees the screen while the attack's
    // connections are still open (each has 10 s to prove the password).
    let shot = scratch.path().join("helper.png");
    let helper = crate::util::spawn_with_stdin(
        program("beckon-viewer")
            .args([
                "open",
                "--name",
                "Grace",
                "--password-stdin",
                "--seconds",
                "3",
            ])
            .arg("--screenshot")
            .arg(&shot)
            .arg(&file),
        &format!("{}\n", crate::share::PASSWORD),
    );
    console.wait_for("The helper sees your screen");
    let still_open = held
        .iter()
        .filter(|(_, c)| c.close_reason().is_none())
        .count();
    let after_helper = resident_kb(pid);
    if let Some(reason) = held.iter().find_map(|(_, c)| c.close_reason()) {
        eprintln!("a hostile connection was closed: {reason}");
    }
    eprintln!(
        "the helper was let in {:?} after the attack began, {still_open} hostile connections \
         open; agent resident {after_helper} kB",
        started.elapsed()
    );
    assert!(
        still_open >= HOSTILE / 2,
        "the helper should be let in while the attack holds its connections ({still_open} open)"
    );
    assert!(
        during.max(after_helper).saturating_sub(before) < MEMORY_BOUND_KB,
        "the attack grew the agent from {before} kB to {during} kB, {after_helper} kB"
    );
    // The attack gives up; the helper's session goes on to its end.
    runtime.block_on(close_all(&held));
    drop(held);
    drop(runtime);
    let out = helper.wait_with_output().unwrap();
    assert!(
        out.status.success() && shot.exists(),
        "the real helper was kept out during the attack: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    agent.wait().unwrap();
    // Every connection that never proved the password is in the audit log.
    let log = crate::x11::audit_log(&scratch);
    let abandoned = log.matches("abandoned").count();
    assert!(
        abandoned >= HOSTILE / 2,
        "{abandoned} abandoned connections in the audit log:\n{}",
        console.text()
    );
}
