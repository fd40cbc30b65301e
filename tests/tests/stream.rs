//! Agent and headless viewer over real QUIC on loopback, with a pinned self-signed certificate
//! and the password-authenticated session on top.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use beckon_engine::corpus::ClipReader;
use beckon_engine::invite::Fingerprint;
use beckon_engine::net::drive::{AgentHooks, AgentOptions, InputSink, ViewerHooks, serve, view};
use beckon_engine::net::{AgentIdentity, NetError, agent_endpoint, connect, viewer_endpoint};
use beckon_engine::session::InvitationRef;
use beckon_engine::session::auth::{StretchParams, stretch};
use beckon_engine::{
    AgentEvent, CloseReason, InputEvent, Party, Refusal, SharerDecision, Ticket, Timers,
};
use tokio::sync::mpsc;

use crate::util::repo;

const PASSWORD: &str = "Correct-Horse-7-Battery";

fn params() -> StretchParams {
    StretchParams {
        salt: [5; 16],
        m_cost_kib: 1024,
        t_cost: 1,
        p_cost: 1,
    }
}

fn ticket() -> Ticket {
    Ticket::open("inv-e2e", "Ada", stretch(PASSWORD, &params()).unwrap())
}

#[derive(Clone, Default)]
struct RecordingSink(Arc<Mutex<Vec<InputEvent>>>);

impl InputSink for RecordingSink {
    fn apply(&mut self, event: InputEvent) {
        self.0.lock().unwrap().push(event);
    }
}

/// An agent serving one connection, answering Yes to the connection.
async fn start_agent(
    identity: &AgentIdentity,
    clip: &str,
    origin: Instant,
) -> (SocketAddr, tokio::task::JoinHandle<CloseReason>) {
    let endpoint = agent_endpoint("127.0.0.1:0".parse().unwrap(), identity).unwrap();
    let addr = endpoint.local_addr().unwrap();
    let source = ClipReader::open(repo().join(format!("corpus/{clip}.bgra.zst"))).unwrap();
    let handle = tokio::spawn(async move {
        let connection = endpoint.accept().await.unwrap().await.unwrap();
        let (decisions_tx, decisions) = mpsc::unbounded_channel();
        let (events, mut events_rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(event) = events_rx.recv().await {
                if let AgentEvent::HelperWantsToConnect { .. } = event {
                    let _ = decisions_tx.send(SharerDecision::AllowConnection(true));
                }
            }
        });
        let options = AgentOptions::new(30, origin);
        let reason = serve(
            connection,
            |_| Some(ticket()),
            source,
            RecordingSink::default(),
            AgentHooks { decisions, events },
            options,
        )
        .await
        .unwrap();
        endpoint.wait_idle().await;
        reason
    });
    (addr, handle)
}

/// The terminal clip's first three seconds at its own 30 fps over QUIC on loopback: the helper
/// authenticates, sees updates, and the picture ends equal to the last frame, exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clip_streams_over_quic_and_the_viewer_ends_exact() {
    let options = beckon_benches::stream::StreamOptions {
        clip: repo().join("corpus/terminal.bgra.zst"),
        link: None,
        params: params(),
        settle: Duration::from_secs(10),
        frames: Some(90),
    };
    let report = beckon_benches::stream::run(options)
        .await
        .expect("the session runs to the end");
    assert!(report.handshake_ms > 0.0, "the helper authenticated");
    assert!(
        report.samples.len() > 10,
        "{} updates",
        report.samples.len()
    );
    let exact = report
        .exact_after_end_s
        .expect("the framebuffer never equalled the last frame");
    assert!(exact <= 2.0, "exact only {exact:.1} s after the clip ended");
    let helper_left = Some(CloseReason::Disconnected { by: Party::Helper });
    assert_eq!(
        report.closed,
        (helper_left.clone(), helper_left),
        "Disconnect ends both sides"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_over_quic_is_refused_with_attempts_left() {
    a_wrong_password_over_quic_is_refused_with_attempts_left_inner().await;
}

async fn a_wrong_password_over_quic_is_refused_with_attempts_left_inner() {
    let origin = Instant::now();
    let identity = AgentIdentity::generate().unwrap();
    let (addr, agent) = start_agent(&identity, "terminal", origin).await;
    let endpoint = viewer_endpoint("127.0.0.1:0".parse().unwrap()).unwrap();
    let connection = connect(
        &endpoint,
        addr,
        identity.fingerprint(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    let (_actions_tx, actions) = mpsc::unbounded_channel();
    let (events, _events_rx) = mpsc::unbounded_channel();
    let wrong = stretch("Correct-Horse-8-Battery", &params()).unwrap();
    let reason = view(
        connection,
        &InvitationRef::bare("inv-e2e"),
        "Mallory",
        &wrong,
        ViewerHooks { actions, events },
        Timers::default(),
        origin,
    )
    .await
    .unwrap();
    assert_eq!(
        reason,
        CloseReason::Refused(Refusal::WrongPassword { attempts_left: 4 })
    );
    assert_eq!(
        reason.to_string(),
        "wrong password (4 attempts left): check it with the sharer"
    );
    assert_eq!(
        agent.await.unwrap(),
        CloseReason::Refused(Refusal::WrongPassword { attempts_left: 4 })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_other_than_the_invitations_is_refused() {
    let identity = AgentIdentity::generate().unwrap();
    let endpoint = agent_endpoint("127.0.0.1:0".parse().unwrap(), &identity).unwrap();
    let addr = endpoint.local_addr().unwrap();
    tokio::spawn(async move {
        if let Some(incoming) = endpoint.accept().await {
            let _ = incoming.await;
        }
    });
    let client = viewer_endpoint("127.0.0.1:0".parse().unwrap()).unwrap();
    let other = AgentIdentity::generate().unwrap().fingerprint();
    let err = connect(&client, addr, other, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(err, NetError::WrongCertificate { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_listening_is_unreachable_with_a_firewall_hint() {
    // A bound UDP socket that never answers, like a port behind a dropping firewall.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let client = viewer_endpoint("127.0.0.1:0".parse().unwrap()).unwrap();
    let fingerprint = Fingerprint([0; 32]);
    let err = connect(&client, addr, fingerprint, Duration::from_millis(800))
        .await
        .unwrap_err();
    assert!(matches!(err, NetError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("firewall"), "{err}");
}

/// The terminal clip over a relayed link of 1 Mbit/s, 50 ms and 1 % loss, on real QUIC: the
/// session stays up, no standing queue builds (the last tenth's p95 within 1.5x the first
/// tenth's plus a round trip), and the picture ends exact. Latency targets, the slower link and
/// the flow control's finer points are tested on simulated time in the engine
/// (`stream::tests`), where other tests running beside them cannot skew the clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_megabit_lossy_link_keeps_up_and_ends_exact() {
    let spec = beckon_benches::relay::LinkSpec::one_megabit();
    let options = beckon_benches::stream::StreamOptions {
        clip: repo().join("corpus/terminal.bgra.zst"),
        link: Some(spec),
        params: params(),
        settle: Duration::from_secs(15),
        frames: None,
    };
    let report = beckon_benches::stream::run(options)
        .await
        .expect("the session stays up");
    let n = report.samples.len();
    assert!(n >= 20, "only {n} updates arrived");
    let tenth = n / 10;
    let (first, last) = (
        report.percentile(0, tenth, 0.95),
        report.percentile(n - tenth, n, 0.95),
    );
    let rtt = spec.rtt().as_secs_f64() * 1000.0;
    assert!(
        last <= 1.5 * first + rtt,
        "a queue built up: p95 {first:.0} ms at first, {last:.0} ms at the end"
    );
    let exact = report
        .exact_after_end_s
        .expect("the picture never became exact");
    assert!(
        exact <= 10.0,
        "exact only {exact:.1} s after the clip ended"
    );
}

/// A writer that keeps every log line, for scanning.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of whole sessions (a wrong password, then a full stream) at the most
/// verbose level: neither the password nor its argon2id output appears, in any spelling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_whole_sessions_hold_no_secret() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .expect("the only test that sets a global subscriber");
    // A wrong password, then a full session.
    a_wrong_password_over_quic_is_refused_with_attempts_left_inner().await;
    let options = beckon_benches::stream::StreamOptions {
        clip: repo().join("corpus/terminal.bgra.zst"),
        link: None,
        params: params(),
        settle: Duration::from_secs(5),
        frames: Some(60),
    };
    beckon_benches::stream::run(options).await.unwrap();
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("helper connected") && logs.contains("session closed"),
        "the sessions were logged:\n{logs}"
    );
    let stretched = stretch(PASSWORD, &params()).unwrap();
    let hex: String = stretched
        .expose()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let list = format!("{:?}", stretched.expose());
    for secret in [
        PASSWORD,
        "Correct-Horse-8-Battery",
        "Stream-Test-Password-42!",
        hex.as_str(),
        &list[1..24],
    ] {
        assert!(!logs.contains(secret), "a secret is in the logs: {secret}");
    }
}

/// The embedding example (`engine/examples/embed.rs`) runs and ends exact: the documented way
/// to use the engine as a library works.
#[test]
fn the_embedding_example_streams_an_animation_and_ends_exact() {
    let example = crate::util::binary("examples/embed");
    let out = std::process::Command::new(example).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("the viewer shows the last frame exactly: true"),
        "{said}"
    );
}
