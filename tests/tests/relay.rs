//! Reaching the sharer across NATs through a real TURN relay (coturn), in network namespaces the
//! test builds: a "public" namespace with coturn, the sharer behind one router and the helper
//! behind another (each a namespace with nftables), `beckon-agent share` and `beckon-viewer open`
//! in their own namespaces.
//!
//! ```text
//!  sharer 10.1.0.2 ── router A ── public 198.51.100.1 (coturn) ── router B ── helper 10.2.0.2
//!                   198.51.100.2                        203.0.113.1  203.0.113.2
//! ```

use std::process::{Child, Command, Stdio};

use crate::share::{Agent, PASSWORD, assert_shows_last_frame};
use crate::util::{Lines, Scratch, binary, repo, run_with_stdin, spawn_with_stdin, write_private};

const SECRET: &str = "beckon-test-relay-secret";
const RELAY: &str = "198.51.100.1";

/// How a router between a private network and the public one behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Router {
    /// It routes both ways and translates nothing: the private addresses are public.
    Plain,
    /// Masquerade keeping the port: one mapping for every destination (endpoint-independent),
    /// letting in only what answers traffic sent out (address- and port-dependent filtering),
    /// as most home routers do. Holes can be punched through it.
    Cone,
    /// Masquerade with a random port for each connection: a symmetric NAT, through which no
    /// hole can be punched.
    Symmetric,
}

/// The namespaces and coturn, removed and stopped on drop.
struct Internet {
    names: Vec<String>,
    coturn: Option<Child>,
}

impl Drop for Internet {
    fn drop(&mut self) {
        if let Some(mut coturn) = self.coturn.take() {
            let _ = coturn.kill();
            let _ = coturn.wait();
        }
        for ns in &self.names {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn run(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e} (make deps installs iproute2 and nftables)"));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn in_ns(ns: &str, args: &[&str]) {
    let mut all = vec!["ip", "netns", "exec", ns];
    all.extend_from_slice(args);
    run(&all);
}

impl Internet {
    /// Builds the namespaces, with routers of these kinds on the sharer's and the helper's
    /// side, and starts coturn in the public one.
    fn build(sharer: Router, helper: Router, scratch: &Scratch) -> Internet {
        static BUILT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let built = BUILT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tag = std::process::id() % 10_000 * 10 + built % 10;
        let name = |part: &str| format!("bk{part}{tag}");
        let mut internet = Internet {
            names: ["p", "ra", "sa", "rb", "hb"]
                .iter()
                .map(|p| name(p))
                .collect(),
            coturn: None,
        };
        for ns in &internet.names {
            run(&["ip", "netns", "add", ns]);
            in_ns(ns, &["ip", "link", "set", "lo", "up"]);
        }
        let [public, router_a, sharer_ns, router_b, helper_ns] =
            <[String; 5]>::try_from(internet.names.clone()).expect("five");
        // A veth pair between two namespaces, addressed /24 on each side.
        let link = |a: &str, a_ip: &str, b: &str, b_ip: &str, tag_a: &str, tag_b: &str| {
            let (ia, ib) = (name(tag_a), name(tag_b));
            run(&[
                "ip", "link", "add", &ia, "type", "veth", "peer", "name", &ib,
            ]);
            run(&["ip", "link", "set", &ia, "netns", a]);
            run(&["ip", "link", "set", &ib, "netns", b]);
            for (ns, dev, addr) in [(a, &ia, a_ip), (b, &ib, b_ip)] {
                in_ns(
                    ns,
                    &["ip", "addr", "add", &format!("{addr}/24"), "dev", dev],
                );
                in_ns(ns, &["ip", "link", "set", dev, "up"]);
            }
            (ia, ib)
        };
        link(
            &public,
            "198.51.100.1",
            &router_a,
            "198.51.100.2",
            "pa",
            "ap",
        );
        link(&public, "203.0.113.1", &router_b, "203.0.113.2", "pb", "bp");
        link(&router_a, "10.1.0.1", &sharer_ns, "10.1.0.2", "as", "sa");
        link(&router_b, "10.2.0.1", &helper_ns, "10.2.0.2", "bh", "hb");
        in_ns(
            &sharer_ns,
            &["ip", "route", "add", "default", "via", "10.1.0.1"],
        );
        in_ns(
            &helper_ns,
            &["ip", "route", "add", "default", "via", "10.2.0.1"],
        );
        in_ns(
            &router_a,
            &["ip", "route", "add", "default", "via", "198.51.100.1"],
        );
        in_ns(
            &router_b,
            &["ip", "route", "add", "default", "via", "203.0.113.1"],
        );
        for ns in [&public, &router_a, &router_b] {
            in_ns(ns, &["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
        }
        for (router, kind, lan, wan) in [
            (&router_a, sharer, "10.1.0.0/24", "198.51.100.2"),
            (&router_b, helper, "10.2.0.0/24", "203.0.113.2"),
        ] {
            match kind {
                Router::Plain => in_ns(&public, &["ip", "route", "add", lan, "via", wan]),
                Router::Cone | Router::Symmetric => {
                    in_ns(router, &["nft", "add table ip nat"]);
                    in_ns(
                        router,
                        &[
                            "nft",
                            "add chain ip nat post { type nat hook postrouting priority 100 ; }",
                        ],
                    );
                    let random = if kind == Router::Symmetric {
                        " random"
                    } else {
                        ""
                    };
                    let rule = format!("add rule ip nat post ip saddr {lan} masquerade{random}");
                    in_ns(router, &["nft", &rule]);
                }
            }
        }
        let log = std::fs::File::create(scratch.path().join("coturn.log")).unwrap();
        let coturn = Command::new("ip")
            .args([
                "netns",
                "exec",
                &public,
                "turnserver",
                "-n",
                "--no-cli",
                "--no-tls",
            ])
            .args(["--no-dtls", "--listening-port", "3478", "--realm", "beckon"])
            .arg(format!("--listening-ip={RELAY}"))
            .arg(format!("--relay-ip={RELAY}"))
            .arg("--use-auth-secret")
            .arg(format!("--static-auth-secret={SECRET}"))
            .arg(format!(
                "--pidfile={}",
                scratch.path().join("coturn.pid").display()
            ))
            .arg(format!(
                "--db={}",
                scratch.path().join("coturn.db").display()
            ))
            .args([
                "--min-port",
                "50000",
                "--max-port",
                "50100",
                "--log-file=stdout",
            ])
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .expect("coturn (make deps installs it)");
        internet.coturn = Some(coturn);
        std::thread::sleep(std::time::Duration::from_millis(500));
        internet
    }

    fn sharer(&self) -> &str {
        &self.names[2]
    }

    fn helper(&self) -> &str {
        &self.names[4]
    }
}

/// Shares the terminal clip from the sharer's namespace with `[relay]` set, invites, and opens
/// the invitation from the helper's namespace; the helper takes control (the sharer allows it on
/// the console) and types, which the agent must receive; returns `open --json`'s outcome and
/// what the viewer said.
fn connect(internet: &Internet, data: &Scratch) -> (serde_json::Value, String) {
    connect_while(internet, data, 8, || {})
}

/// [`connect`] for a session of `seconds`, doing `meanwhile` while the helper views.
fn connect_while(
    internet: &Internet,
    data: &Scratch,
    seconds: u32,
    meanwhile: impl FnOnce(),
) -> (serde_json::Value, String) {
    let config = data.path().join("agent.toml");
    write_private(
        &config,
        &format!("[relay]\nservers = [\"{RELAY}:3478\"]\nsecret = \"{SECRET}\"\n"),
    );
    let store = data.path().join("store");
    let state = data.path().join("state");
    let mut agent = Command::new("ip");
    agent
        .args(["netns", "exec", internet.sharer()])
        .arg(binary("beckon-agent"))
        .env("XDG_STATE_HOME", &state)
        .env("RUST_LOG", "beckon_engine::net=debug")
        .arg("--data-dir")
        .arg(&store)
        .arg("--config")
        .arg(&config)
        .args(["share", "--console", "--yes", "--sessions", "1", "--listen"])
        .arg("10.1.0.2:47600")
        .arg("--clip")
        .arg(repo().join("corpus/terminal.bgra.zst"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = agent.spawn().unwrap();
    // The sharer allows control when asked, on the agent's console.
    let mut console = child.stdin.take().unwrap();
    let lines = Lines::follow(child.stderr.take().unwrap(), move |line| {
        if line.contains("would like to share control") {
            use std::io::Write;
            let _ = console.write_all(b"y\n");
        }
    });
    let mut agent = Agent(child);
    lines.wait_for("Reachable from anywhere through the relay");
    lines.wait_for("Waiting for helpers");

    let file = invite(data, &store, &config);

    let shot = data.path().join("shown.png");
    let started = std::time::Instant::now();
    let viewer = spawn_with_stdin(
        Command::new("ip")
            .args(["netns", "exec", internet.helper()])
            .arg(binary("beckon-viewer"))
            .env("XDG_STATE_HOME", &state)
            .env("RUST_LOG", "beckon_engine::net=debug")
            .args([
                "open",
                "--name",
                "Grace",
                "--password-stdin",
                "--json",
                "--seconds",
                &seconds.to_string(),
                "--wait-exact",
                "--type",
                "hi",
            ])
            .arg("--screenshot")
            .arg(&shot)
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        &format!("{PASSWORD}\n"),
    );
    meanwhile();
    let out = viewer.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{said}\nagent:\n{}", lines.text());
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!(
        "connected in {} ms, viewed for {seconds} s: {} bytes directly, {} through the relay \
         ({} after a hole was punched to {}); {:?} in all",
        outcome["connect_ms"],
        outcome["bytes"]["direct"],
        outcome["bytes"]["relayed"],
        outcome["relayed_after_punch"],
        outcome["punched"],
        started.elapsed()
    );
    assert!(agent.wait().unwrap().success(), "{}", lines.text());
    std::fs::write(data.path().join("agent.err"), lines.text()).unwrap();
    // The helper took control on this path, and their typing reached the sharer.
    assert!(said.contains("You have control."), "{said}");
    let agent_said = lines.text();
    assert!(
        agent_said.contains("(input from the helper: Key"),
        "{agent_said}"
    );
    assert_shows_last_frame(&shot);
    (outcome, said)
}

/// `beckon-agent invite` on the store `store` with the settings `config`, from the root
/// namespace; checks that the invitation names the relay, and returns its file.
fn invite(data: &Scratch, store: &std::path::Path, config: &std::path::Path) -> std::path::PathBuf {
    let file = data.path().join("invitation.beckon");
    let out = run_with_stdin(
        Command::new(binary("beckon-agent"))
            .env("XDG_STATE_HOME", data.path().join("state"))
            .arg("--data-dir")
            .arg(store)
            .arg("--config")
            .arg(config)
            .args(["invite", "--from", "Ada", "--message", "printer"])
            .args(["--password-stdin", "--address", "10.1.0.2:47600", "--save"])
            .arg(&file),
        &format!("{PASSWORD}\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let invitation = std::fs::read_to_string(&file).unwrap();
    assert!(
        invitation.contains("[[relays]]")
            && invitation.contains(&format!("server = \"{RELAY}:3478\"")),
        "the invitation names no relay:\n{invitation}"
    );
    file
}

/// `beckon-agent doctor --json` in the sharer's namespace, with the relay set: its findings'
/// sentences.
fn doctor(internet: &Internet, data: &Scratch) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", internet.sharer()])
        .arg(binary("beckon-agent"))
        .arg("--config")
        .arg(data.path().join("agent.toml"))
        .args([
            "doctor",
            "--no-netns",
            "--json",
            "--listen",
            "10.1.0.2:47601",
        ])
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let findings: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["what"].as_str().unwrap().to_string())
        .collect();
    eprintln!("doctor: {findings:#?}");
    let all = findings.join("\n");
    assert!(
        all.contains(&format!(
            "The relay {RELAY}:3478 answers and gives this computer an address"
        )),
        "{all}"
    );
    all
}

/// Both behind symmetric NATs: no direct path exists, and the session runs through coturn,
/// exact at the end.
#[test]
fn behind_symmetric_nats_the_session_runs_through_the_relay() {
    let data = Scratch::new("relay-symmetric");
    let internet = Internet::build(Router::Symmetric, Router::Symmetric, &data);
    let (outcome, said) = connect(&internet, &data);
    assert!(
        said.contains(&format!("Connected through the relay {RELAY}:3478")),
        "{said}"
    );
    assert_eq!(
        outcome["path"]["relayed"],
        format!("{RELAY}:3478"),
        "{outcome}"
    );
    let relayed = outcome["bytes"]["relayed"].as_u64().unwrap();
    assert!(
        relayed > 100_000,
        "only {relayed} bytes through the relay: {outcome}"
    );
    assert_eq!(outcome["disconnected_by"], "helper", "{outcome}");
    assert!(
        outcome["punched"].is_null(),
        "a hole through symmetric NATs? {outcome}"
    );
    let said = doctor(&internet, &data);
    assert!(
        said.contains("uses a new port for every destination"),
        "{said}"
    );
    assert!(
        said.contains("through the relay, which carries the whole session"),
        "{said}"
    );
}

/// Both behind routers that keep one port for every destination: the helper connects through
/// the relay, both punch a hole, and the session leaves the relay for the direct path: nearly
/// all its bytes go directly, and it ends exact.
#[test]
fn behind_common_home_routers_the_session_leaves_the_relay_for_a_punched_path() {
    let data = Scratch::new("relay-cone");
    let internet = Internet::build(Router::Cone, Router::Cone, &data);
    let (outcome, said) = connect(&internet, &data);
    assert!(
        said.contains(&format!("Connected through the relay {RELAY}:3478")),
        "{said}"
    );
    assert!(
        said.contains("left the relay for a direct path to 198.51.100.2:"),
        "{said}\nagent:\n{}",
        std::fs::read_to_string(data.path().join("agent.err")).unwrap_or_default()
    );
    assert!(
        outcome["punched"]
            .as_str()
            .is_some_and(|a| a.starts_with("198.51.100.2:")),
        "{outcome}"
    );
    // Datagrams already on their way through the relay when the hole opened may still
    // arrive; nothing else goes through it.
    let relayed = outcome["relayed_after_punch"].as_u64().unwrap();
    let direct = outcome["bytes"]["direct"].as_u64().unwrap();
    assert!(
        relayed < 4_000 && direct > 20_000,
        "{relayed} bytes through the relay, {direct} directly: {outcome}\n{said}\nagent:\n{}",
        std::fs::read_to_string(data.path().join("agent.err")).unwrap_or_default()
    );
    let said = doctor(&internet, &data);
    assert!(
        said.contains("keeps one port for every destination and lets in only answers"),
        "{said}"
    );
    assert!(said.contains("then move to a direct path"), "{said}");
}

/// No NAT: the helper reaches the sharer directly and the relay carries nothing, though the
/// invitation names it.
#[test]
fn without_nat_the_session_runs_directly_and_the_relay_carries_nothing() {
    let data = Scratch::new("relay-plain");
    let internet = Internet::build(Router::Plain, Router::Plain, &data);
    let (outcome, said) = connect(&internet, &data);
    assert!(
        said.contains("Connected directly to 10.1.0.2:47600"),
        "{said}"
    );
    assert_eq!(outcome["path"]["direct"], "10.1.0.2:47600", "{outcome}");
    assert_eq!(outcome["bytes"]["relayed"], 0, "{outcome}");
    let said = doctor(&internet, &data);
    assert!(said.contains("No router translates"), "{said}");
    assert!(said.contains("A helper will connect directly"), "{said}");
}

/// With relays set, the sharer's window holds a relayed address from the start, before any
/// invitation: the first invitation a novice makes already names the relay.
#[test]
fn the_window_reaches_the_relay_before_the_first_invitation() {
    let data = Scratch::new("relay-window");
    let internet = Internet::build(Router::Plain, Router::Plain, &data);
    let config = data.path().join("agent.toml");
    write_private(
        &config,
        &format!("[relay]\nservers = [\"{RELAY}:3478\"]\nsecret = \"{SECRET}\"\n"),
    );
    let store = data.path().join("store");
    let mut ada = crate::util::Xvfb::start(640, 480);
    let (agent, store_arg, config_arg) = (
        binary("beckon-agent"),
        store.display().to_string(),
        config.display().to_string(),
    );
    let said = ada.spawn_followed(
        std::path::Path::new("/usr/bin/env"),
        &[
            "ip",
            "netns",
            "exec",
            internet.sharer(),
            agent.to_str().unwrap(),
            "--data-dir",
            &store_arg,
            "--config",
            &config_arg,
            "window",
            "--listen",
            "10.1.0.2:47600",
        ],
    );
    said.wait_for("Reachable from anywhere through the relay");
    // Fails when the invitation names no relay.
    invite(&data, &store, &config);
    drop(said);
}

/// The network between the helper and the sharer goes down for 10 s, which the session
/// survives as it is, then for 60 s, after which the helper's viewer comes back on its own and
/// the sharer's agent lets it resume without a new invitation, password or Yes; the picture is
/// exact at the end.
#[test]
fn a_session_survives_a_short_outage_and_resumes_after_a_long_one() {
    let data = Scratch::new("relay-outage");
    let internet = Internet::build(Router::Cone, Router::Cone, &data);
    let router = internet.names[3].clone();
    let cut = |seconds: u64| {
        in_ns(&router, &["nft", "add table ip cut"]);
        in_ns(
            &router,
            &[
                "nft",
                "add chain ip cut hold { type filter hook forward priority 0 ; policy drop ; }",
            ],
        );
        std::thread::sleep(std::time::Duration::from_secs(seconds));
        in_ns(&router, &["nft", "delete table ip cut"]);
    };
    let (outcome, said) = connect_while(&internet, &data, 100, || {
        std::thread::sleep(std::time::Duration::from_secs(6));
        cut(10);
        std::thread::sleep(std::time::Duration::from_secs(5));
        cut(60);
    });
    assert_eq!(said.matches("reconnecting").count(), 1, "{said}");
    assert_eq!(outcome["resumed"], true, "{outcome}");
    assert_eq!(outcome["disconnected_by"], "helper", "{outcome}");
    let log = std::fs::read_to_string(data.path().join("agent.err")).unwrap();
    assert!(
        log.contains("is back after the network cut the session"),
        "{log}"
    );
}
