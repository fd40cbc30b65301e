//! `relay-load`: what relayed sessions cost a TURN relay, to size a fleet. Starts coturn on
//! loopback, then N sessions at once, each an agent and a viewer that both hold an address on it
//! and reach each other only through it (as behind two symmetric NATs), with Beckon's QUIC
//! endpoints on [`RelaySocket`]s; each agent sends RATE kbit/s of screen-update-sized streams for
//! SECONDS. Reads coturn's CPU time and memory from `/proc` before and after.
//!
//! ```text
//! cargo build --release -p beckon-benches --bin relay-load
//! ./target/release/relay-load [--sessions 1,10,40] [--kbps 500] [--seconds 10]
//! ```
//!
//! Figures, for each N: coturn's share of one core and its resident memory, in all and per
//! session, and the rate each viewer received. Needs coturn (`make deps`). Everything stays on
//! loopback; every loop is bounded in count and time.

use std::net::SocketAddr;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use beckon_engine::net::relay::{RelaySocket, TurnLogin};
use beckon_engine::net::{AgentIdentity, agent_endpoint_on, connect, viewer_endpoint_on};

const SECRET: &[u8] = b"beckon-relay-load";
/// The most sessions one run starts (each holds two allocations and two sockets).
const MOST: usize = 200;

/// User + system CPU seconds and resident kilobytes of process `pid`.
fn usage(pid: u32) -> Result<(f64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    Ok((beckon_benches::cpu_seconds(pid)?, rss))
}

/// coturn on loopback, stopped on drop.
struct Coturn(Child, SocketAddr, std::path::PathBuf);

impl Coturn {
    fn start() -> Result<Coturn> {
        let port = std::net::UdpSocket::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir = std::env::temp_dir().join(format!("beckon-relay-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let child = Command::new("turnserver")
            .args([
                "-n",
                "--no-cli",
                "--no-tls",
                "--no-dtls",
                "--realm",
                "beckon",
            ])
            .args(["--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1"])
            .args([
                "--listening-port",
                &port.to_string(),
                "--allow-loopback-peers",
            ])
            .arg("--use-auth-secret")
            .arg(format!(
                "--static-auth-secret={}",
                String::from_utf8_lossy(SECRET)
            ))
            .arg(format!("--pidfile={}", dir.join("pid").display()))
            .arg(format!("--db={}", dir.join("db").display()))
            .args([
                "--min-port",
                "40000",
                "--max-port",
                "49999",
                "--no-stdout-log",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("turnserver (make deps installs coturn)")?;
        std::thread::sleep(Duration::from_millis(500));
        Ok(Coturn(child, SocketAddr::from(([127, 0, 0, 1], port)), dir))
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.2);
    }
}

/// One session: both ends relayed; the agent streams `kbps` for `seconds`; returns the bytes
/// the viewer received.
async fn session(server: SocketAddr, kbps: u64, seconds: u64) -> Result<u64> {
    let wait = Duration::from_secs(10);
    let login = TurnLogin::from_secret(SECRET, beckon_engine::invite::when::now() + 3600, "load");
    let identity = AgentIdentity::generate()?;
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    // Each endpoint reads its socket, the relay's answers too: made before allocating.
    let agent_socket = RelaySocket::bind(loopback)?;
    let agent = agent_endpoint_on(agent_socket.clone(), &identity)?;
    let agent_at = agent_socket.allocate(server, &login, wait).await?;
    agent_socket.permit(server, agent_at.ip(), wait).await?;
    let viewer_socket = RelaySocket::bind(loopback)?;
    let viewer = viewer_endpoint_on(viewer_socket.clone())?;
    viewer_socket.allocate(server, &login, wait).await?;
    viewer_socket.permit(server, agent_at.ip(), wait).await?;
    viewer_socket.route(agent_at, server)?;
    let accepting = tokio::spawn(async move { agent.accept().await?.await.ok() });
    let to_agent = connect(&viewer, agent_at, identity.fingerprint(), wait).await?;
    let from_viewer = accepting.await?.context("the agent saw no connection")?;
    // The agent sends a 16 KiB update every interval that makes `kbps`.
    let chunk = vec![0x5Au8; 16 << 10];
    let interval = Duration::from_secs_f64((chunk.len() * 8) as f64 / (kbps * 1000) as f64);
    let sending = tokio::spawn(async move {
        let end = Instant::now() + Duration::from_secs(seconds);
        let mut next = tokio::time::Instant::now();
        while Instant::now() < end {
            let Ok(mut stream) = from_viewer.open_uni().await else {
                break;
            };
            let _ = stream.write_all(&chunk).await;
            let _ = stream.finish();
            next += interval;
            tokio::time::sleep_until(next).await;
        }
        from_viewer
    });
    let receiving = tokio::spawn(async move {
        let mut got = 0u64;
        while let Ok(Ok(mut stream)) =
            tokio::time::timeout(Duration::from_secs(3), to_agent.accept_uni()).await
        {
            if let Ok(bytes) = stream.read_to_end(1 << 20).await {
                got += bytes.len() as u64;
            }
        }
        got
    });
    let _agent_connection = sending.await?;
    Ok(receiving.await?)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("relay-load: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let mut counts = vec![1usize, 10, 40];
    let (mut kbps, mut seconds) = (500u64, 10u64);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().context("a flag without its value")?;
        match arg.as_str() {
            "--sessions" => {
                counts = value
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .context("--sessions takes numbers like 1,10,40")?;
            }
            "--kbps" => kbps = value.parse()?,
            "--seconds" => seconds = value.parse::<u64>()?.clamp(1, 120),
            other => bail!("unknown flag {other}"),
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!(
        "| sessions | kbit/s each | coturn CPU (% of a core) | per session | coturn memory (MiB) | per session (KiB) | received kbit/s each |"
    );
    println!("|---|---|---|---|---|---|---|");
    for n in counts {
        let n = n.clamp(1, MOST);
        let coturn = Coturn::start()?;
        let pid = coturn.0.id();
        let (_, rss_idle) = usage(pid)?;
        let server = coturn.1;
        let (cpu_before, _) = usage(pid)?;
        let started = Instant::now();
        let results = runtime.block_on(async {
            let sessions: Vec<_> = (0..n)
                .map(|_| tokio::spawn(session(server, kbps, seconds)))
                .collect();
            let mut got = Vec::new();
            for s in sessions {
                got.push(s.await?);
            }
            anyhow::Ok(got)
        })?;
        let elapsed = started.elapsed().as_secs_f64();
        let (cpu_after, rss) = usage(pid)?;
        let received: Vec<u64> = results.into_iter().collect::<Result<_>>()?;
        let cpu = (cpu_after - cpu_before) / elapsed * 100.0;
        let mean_kbps =
            received.iter().sum::<u64>() as f64 * 8.0 / 1000.0 / seconds as f64 / n as f64;
        println!(
            "| {n} | {kbps} | {cpu:.1} | {:.2} | {:.1} | {:.0} | {mean_kbps:.0} |",
            cpu / n as f64,
            rss as f64 / 1024.0,
            rss.saturating_sub(rss_idle) as f64 / n as f64,
        );
    }
    Ok(())
}
