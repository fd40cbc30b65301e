//! `beckon-agent doctor`: can a helper reach this agent, and if not, why and what to do.
//!
//! It checks, in order: the X display and the extensions sharing needs; whether the UDP port
//! can be bound; local firewall rules (nftables, iptables, ufw) that would drop inbound UDP to
//! the port, naming each and printing the command that allows the port; a reachability
//! self-test from a fresh network namespace (as root, when `ip` can make one); and the SMTP
//! settings, when there are any. The exit code is 0 only when all is well.

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::time::Duration;

use anyhow::Result;
use x11rb::connection::RequestConnection;

use beckon_agent::{mail, t};

/// Options of `doctor`.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// The UDP address `share` listens on.
    #[arg(long, default_value = "0.0.0.0:47600")]
    pub listen: SocketAddr,
    /// The X display to check (default: DISPLAY).
    #[arg(long)]
    pub display: Option<String>,
    /// Skip the self-test from another network namespace.
    #[arg(long)]
    pub no_netns: bool,
    /// Print the findings as JSON (for scripts) instead of lines.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub smtp: mail::SmtpSettings,
}

/// What the checks found, printed as they find it unless it is all printed at the end as JSON.
#[derive(Debug, Default)]
struct Report {
    json: bool,
    findings: Vec<Finding>,
    problems: u64,
}

/// One check's outcome.
#[derive(Debug, serde::Serialize)]
struct Finding {
    /// `ok`, `problem` or `note`.
    kind: &'static str,
    what: String,
    /// For a problem: what to do about it.
    #[serde(skip_serializing_if = "str::is_empty")]
    fix: String,
}

impl Report {
    fn add(&mut self, kind: &'static str, what: &str, fix: &str) {
        if !self.json {
            let label = match kind {
                "problem" => t!("doctor-problem"),
                "ok" => t!("doctor-ok"),
                _ => t!("doctor-note"),
            };
            println!("{label:<8} {what}");
            if !fix.is_empty() {
                println!("         {fix}");
            }
        }
        let (what, fix) = (what.to_string(), fix.to_string());
        self.findings.push(Finding { kind, what, fix });
    }

    fn ok(&mut self, what: &str) {
        self.add("ok", what, "");
    }

    fn problem(&mut self, what: &str, fix: &str) {
        self.problems += 1;
        self.add("problem", what, fix);
    }

    fn note(&mut self, what: &str) {
        self.add("note", what, "");
    }
}

/// Runs every check; `Ok(true)` when all is well.
pub fn doctor(
    args: &DoctorArgs,
    smtp: &mail::SmtpSettings,
    relays: &mail::RelaySettings,
) -> Result<bool> {
    let mut report = Report {
        json: args.json,
        ..Report::default()
    };
    display(&mut report, args.display.as_deref());
    let port = args.listen.port();
    match UdpSocket::bind(args.listen) {
        Ok(_) => report.ok(&t!("doctor-bind-ok", address = args.listen.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            report.note(&t!("doctor-bind-in-use", address = args.listen.to_string()))
        }
        Err(e) => report.problem(
            &t!(
                "doctor-bind-failed",
                address = args.listen.to_string(),
                why = e.to_string()
            ),
            &t!("doctor-bind-fix"),
        ),
    }
    firewall(&mut report, port);
    if !args.no_netns {
        reachability(&mut report, port);
    }
    relay(&mut report, relays, port);
    match (&smtp.host, mail::check(smtp)) {
        (None, _) => report.note(&t!("doctor-smtp-none")),
        (Some(_), Ok(host)) => report.ok(&t!("doctor-smtp-ok", host = host)),
        (Some(_), Err(e)) => report.problem(
            &t!("doctor-smtp-failed", why = format!("{e:#}")),
            &t!("doctor-smtp-fix"),
        ),
    }
    let well = report.problems == 0;
    if report.json {
        let findings = serde_json::json!({ "ok": well, "findings": report.findings });
        println!("{}", serde_json::to_string_pretty(&findings)?);
    } else if well {
        println!("\n{}", t!("doctor-all-well"));
    } else {
        println!("\n{}", t!("doctor-problems", n = report.problems));
    }
    Ok(well)
}

/// What the relays say of this computer's network: whether each answers and gives an address,
/// what kind of router (NAT) is between this computer and the internet, and which path a helper
/// will probably take.
fn relay(report: &mut Report, settings: &mail::RelaySettings, port: u16) {
    let (servers, secret) = match settings.resolve() {
        Ok(Some(found)) => found,
        Ok(None) => {
            report.note(&t!("doctor-relay-none", port = port));
            return;
        }
        Err(e) => {
            report.problem(&format!("{e:#}"), &t!("doctor-relay-fix"));
            return;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            report.problem(&e.to_string(), "");
            return;
        }
    };
    for server in servers {
        let findings = runtime.block_on(nat_through(server, &secret));
        match findings {
            Err(e) => report.problem(
                &t!(
                    "doctor-relay-failed",
                    server = server.to_string(),
                    why = e.to_string()
                ),
                &t!("doctor-relay-fix"),
            ),
            Ok(nat) => {
                report.ok(&t!(
                    "doctor-relay-ok",
                    server = server.to_string(),
                    address = nat.relayed.to_string()
                ));
                let (router, path) = match (nat.behind_nat, nat.same_mapping, nat.open_filter) {
                    (false, _, _) => (t!("doctor-nat-none"), t!("doctor-path-direct")),
                    (true, true, true) => (t!("doctor-nat-cone-open"), t!("doctor-path-punch")),
                    (true, true, false) => (t!("doctor-nat-cone-strict"), t!("doctor-path-punch")),
                    (true, false, _) => (t!("doctor-nat-symmetric"), t!("doctor-path-relay")),
                };
                report.note(&router);
                report.note(&path);
            }
        }
    }
}

/// What a relay shows of this computer's router.
struct Nat {
    relayed: SocketAddr,
    /// The relay sees another address than this computer's own.
    behind_nat: bool,
    /// The router keeps one port for every destination (hole punching can work).
    same_mapping: bool,
    /// The router lets in datagrams from a port it never sent to.
    open_filter: bool,
}

async fn nat_through(
    server: SocketAddr,
    secret: &beckon_engine::session::Secret<String>,
) -> Result<Nat> {
    use beckon_engine::net::relay::{RelaySocket, TurnLogin};
    let wait = Duration::from_secs(3);
    let login = TurnLogin::from_secret(
        secret.expose().as_bytes(),
        beckon_engine::invite::when::now() + 600,
        "beckon-doctor",
    );
    let ours = RelaySocket::bind(SocketAddr::from(([0, 0, 0, 0], 0)))?;
    let _reading = beckon_engine::net::viewer_endpoint_on(ours.clone())?;
    let relayed = ours.allocate(server, &login, wait).await?;
    let port = ours.bound().port();
    let host = UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect(server).and_then(|()| s.local_addr()))
        .map(|a| SocketAddr::new(a.ip(), port))?;
    let mapped = ours
        .reflexive(server)
        .ok_or_else(|| anyhow::anyhow!("{}", t!("doctor-relay-no-mapping")))?;
    let behind_nat = mapped != host;
    // Our datagram to our own relayed address: the relay says which port our router used for
    // that destination.
    ours.permit(server, mapped.ip(), wait).await?;
    ours.listen_for(b"beckon-doctor-mapping".to_vec());
    for _ in 0..5 {
        ours.send_straight(relayed, b"beckon-doctor-mapping")?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        if !ours.heard().is_empty() {
            break;
        }
    }
    let same_mapping = ours.heard().first().is_some_and(|again| *again == mapped);
    // A datagram from a port we never sent to: another address on the relay.
    let other = RelaySocket::bind(SocketAddr::from(([0, 0, 0, 0], 0)))?;
    let _other_reading = beckon_engine::net::viewer_endpoint_on(other.clone())?;
    other.allocate(server, &login, wait).await?;
    other.permit(server, mapped.ip(), wait).await?;
    ours.listen_for(b"beckon-doctor-filter".to_vec());
    for _ in 0..5 {
        other.send_through(server, mapped, b"beckon-doctor-filter")?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        if !ours.heard().is_empty() {
            break;
        }
    }
    Ok(Nat {
        relayed,
        behind_nat,
        same_mapping,
        open_filter: !ours.heard().is_empty(),
    })
}

/// Whether this is a Wayland session (`XDG_SESSION_TYPE`, else `WAYLAND_DISPLAY`): Beckon
/// shares it through a wlroots compositor's protocols, or where there are none (GNOME, KDE)
/// through the desktop's portal; without either it would see only the X11 (XWayland) windows.
pub fn wayland_session(get: impl Fn(&str) -> Option<String>) -> bool {
    match get("XDG_SESSION_TYPE").filter(|t| !t.is_empty()) {
        Some(kind) => kind.eq_ignore_ascii_case("wayland"),
        None => get("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty()),
    }
}

/// What the Wayland compositor offers Beckon: capture, input, the sharer's Esc, the outputs.
fn wayland(report: &mut Report) {
    use beckon_agent::platform::wayland;
    let offers = match wayland::offers(None) {
        Ok(offers) if offers.screencopy => offers,
        Ok(_) => {
            portal(report);
            return;
        }
        Err(e) => {
            report.problem(
                &t!("doctor-wayland-unreachable", why = format!("{e:#}")),
                &t!("doctor-wayland-fix"),
            );
            return;
        }
    };
    report.ok(&t!("doctor-wayland-capture"));
    if offers.pointer && offers.keyboard {
        report.ok(&t!("doctor-wayland-input"));
    } else {
        report.problem(
            &t!("doctor-wayland-no-input"),
            &t!("doctor-wayland-input-fix"),
        );
    }
    if beckon_agent::platform::sway::SwayEsc::from_env().is_some() {
        report.ok(&t!("doctor-wayland-esc"));
    } else {
        report.note(&t!("doctor-wayland-no-esc"));
    }
    let listed: Vec<String> = offers
        .outputs
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{} ({m})", i + 1))
        .collect();
    report.note(&t!("doctor-monitors", monitors = listed.join(", ")));
}

/// What the desktop's portal offers Beckon (GNOME, KDE): the screen, input, the sharer's Esc.
fn portal(report: &mut Report) {
    use beckon_agent::platform::{pipewire, portal};
    let offers = match portal::offers(None) {
        Ok(offers) if offers.screencast > 0 => offers,
        Ok(_) => {
            report.problem(&t!("doctor-wayland"), &t!("doctor-wayland-fix"));
            return;
        }
        Err(e) => {
            report.problem(&format!("{e:#}"), &t!("doctor-wayland-fix"));
            return;
        }
    };
    match pipewire::available() {
        Ok(()) => report.ok(&t!("doctor-portal-capture")),
        Err(e) => report.problem(&e.to_string(), &t!("doctor-portal-pipewire-fix")),
    }
    if offers.remote_desktop > 0 {
        report.ok(&t!("doctor-portal-input"));
    } else {
        report.problem(
            &t!("doctor-portal-no-input"),
            &t!("doctor-wayland-input-fix"),
        );
    }
    if offers.global_shortcuts > 0 {
        report.ok(&t!("doctor-portal-esc"));
    } else {
        report.note(&t!("doctor-wayland-no-esc"));
    }
}

fn display(report: &mut Report, display: Option<&str>) {
    if display.is_none() && wayland_session(|name| std::env::var(name).ok()) {
        wayland(report);
    }
    let name = display.map_or_else(
        || std::env::var("DISPLAY").unwrap_or_default(),
        String::from,
    );
    let Ok((conn, _)) = x11rb::connect(display) else {
        report.note(&t!("doctor-no-display", name = format!("{name:?}")));
        return;
    };
    report.ok(&t!("doctor-display-ok", name = name));
    match beckon_agent::platform::x11::monitors(display) {
        Ok(monitors) if !monitors.is_empty() => {
            let listed: Vec<String> = monitors
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let primary = if m.primary {
                        t!("doctor-primary")
                    } else {
                        String::new()
                    };
                    format!("{} ({m}{primary})", i + 1)
                })
                .collect();
            report.note(&t!("doctor-monitors", monitors = listed.join(", ")));
        }
        _ => report.note(&t!("doctor-no-monitors")),
    }
    for (extension, needed) in [
        ("DAMAGE", t!("doctor-need-damage")),
        ("XFIXES", t!("doctor-need-xfixes")),
        ("XTEST", t!("doctor-need-xtest")),
        ("XInputExtension", t!("doctor-need-xinput")),
        ("RANDR", t!("doctor-need-randr")),
        ("MIT-SHM", t!("doctor-need-shm")),
    ] {
        match conn.extension_information(extension) {
            Ok(Some(_)) => report.ok(&t!("doctor-extension-ok", extension = extension)),
            _ if extension == "MIT-SHM" || extension == "RANDR" => report.note(&t!(
                "doctor-extension-optional",
                extension = extension,
                needed = needed
            )),
            _ => report.problem(
                &t!(
                    "doctor-extension-missing",
                    extension = extension,
                    needed = needed
                ),
                &t!("doctor-extension-fix"),
            ),
        }
    }
}

/// A command's standard output, when it runs and succeeds.
fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A firewall rule that drops the port, and the command that lets the port through.
#[derive(Debug, PartialEq, Eq)]
pub struct Blocking {
    /// Which firewall and rule.
    pub rule: String,
    /// The command that allows the port.
    pub fix: String,
}

/// Rules of `nft -a list ruleset` that drop or reject inbound UDP to `port`, or input chains
/// whose policy drops with no rule accepting it.
pub fn nft_blocking(ruleset: &str, port: u16) -> Vec<Blocking> {
    let mut found = Vec::new();
    let (mut table, mut chain, mut input) = (String::new(), String::new(), false);
    let mut accepted = false;
    let mut policy_drop = false;
    let finish =
        |found: &mut Vec<Blocking>, table: &str, chain: &str, drop: bool, accepted: bool| {
            if drop && !accepted {
                found.push(Blocking {
                    rule: t!("doctor-nft-policy", table = table, chain = chain),
                    fix: format!("nft insert rule {table} {chain} udp dport {port} accept"),
                });
            }
        };
    let dport = format!("udp dport {port} ");
    for line in ruleset.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("table ") {
            table = rest
                .split(" # ")
                .next()
                .unwrap_or("")
                .trim_end_matches(" {")
                .to_string();
        } else if let Some(rest) = line.strip_prefix("chain ") {
            chain = rest
                .split(" # ")
                .next()
                .unwrap_or("")
                .trim_end_matches(" {")
                .to_string();
            (input, accepted, policy_drop) = (false, false, false);
        } else if line.starts_with("type filter hook input") {
            input = true;
            policy_drop = line.contains("policy drop");
        } else if line == "}" && !chain.is_empty() {
            if input {
                finish(&mut found, &table, &chain, policy_drop, accepted);
            }
            chain.clear();
            input = false;
        } else if input && (line.contains(&dport) || line.ends_with(&dport[..dport.len() - 1])) {
            if line.contains(" accept") {
                accepted = true;
            } else if line.contains(" drop") || line.contains(" reject") {
                let handle = line.rsplit("# handle ").next().unwrap_or("").trim();
                found.push(Blocking {
                    rule: format!(
                        "nftables: {table} {chain}: {}",
                        line.split(" # ").next().unwrap_or(line)
                    ),
                    fix: format!("nft delete rule {table} {chain} handle {handle}"),
                });
            }
        }
    }
    found
}

/// Rules of `iptables -S INPUT` that drop or reject UDP to `port`.
pub fn iptables_blocking(rules: &str, port: u16) -> Vec<Blocking> {
    rules
        .lines()
        .filter(|l| l.starts_with("-A INPUT") && l.contains("-p udp"))
        .filter(|l| {
            l.contains(&format!("--dport {port} ")) || l.ends_with(&format!("--dport {port}"))
        })
        .filter(|l| l.contains("-j DROP") || l.contains("-j REJECT"))
        .map(|l| Blocking {
            rule: format!("iptables: {l}"),
            fix: format!("iptables -I INPUT -p udp --dport {port} -j ACCEPT"),
        })
        .collect()
}

fn firewall(report: &mut Report, port: u16) {
    let mut looked = false;
    let mut blocking = Vec::new();
    if let Some(ruleset) = output("nft", &["-a", "list", "ruleset"]) {
        looked = true;
        blocking.extend(nft_blocking(&ruleset, port));
    }
    if let Some(rules) = output("iptables", &["-S", "INPUT"]) {
        looked = true;
        blocking.extend(iptables_blocking(&rules, port));
    }
    if let Some(status) = output("ufw", &["status"]) {
        looked = true;
        if status.contains("Status: active") && !status.contains(&format!("{port}/udp")) {
            blocking.push(Blocking {
                rule: t!("doctor-ufw", port = port),
                fix: format!("ufw allow {port}/udp"),
            });
        }
    }
    if blocking.is_empty() {
        if looked {
            report.ok(&t!("doctor-firewall-ok", port = port));
        } else {
            report.note(&t!("doctor-firewall-unread"));
        }
    }
    for b in blocking {
        report.problem(
            &t!("doctor-rule-drops", rule = b.rule.as_str(), port = port),
            &t!("doctor-rule-fix", fix = b.fix.as_str()),
        );
    }
}

/// Sends one datagram to `port` on this computer from a fresh network namespace, through a veth
/// pair, and waits for it: what a helper on another computer would meet at this firewall.
fn reachability(report: &mut Report, port: u16) {
    if !is_root() || output("ip", &["-V"]).is_none() {
        report.note(&t!("doctor-selftest-skipped"));
        return;
    }
    let tag = std::process::id() % 10_000;
    let (ns, host_if, ns_if) = (
        format!("bkdoc{tag}"),
        format!("bkd{tag}h"),
        format!("bkd{tag}n"),
    );
    let subnet = 10 + tag % 200;
    let (host_ip, ns_ip) = (format!("10.254.{subnet}.1"), format!("10.254.{subnet}.2"));
    let run = |args: &[&str]| output("ip", args).is_some();
    let made = run(&["netns", "add", &ns])
        && run(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", &ns_if,
        ])
        && run(&["link", "set", &ns_if, "netns", &ns])
        && run(&["addr", "add", &format!("{host_ip}/30"), "dev", &host_if])
        && run(&["link", "set", &host_if, "up"])
        && run(&[
            "netns",
            "exec",
            &ns,
            "ip",
            "addr",
            "add",
            &format!("{ns_ip}/30"),
            "dev",
            &ns_if,
        ])
        && run(&["netns", "exec", &ns, "ip", "link", "set", &ns_if, "up"]);
    let result = if made {
        probe(&ns, &host_ip, port)
    } else {
        Err((false, t!("doctor-selftest-no-namespace")))
    };
    let _ = output("ip", &["link", "del", &host_if]);
    let _ = output("ip", &["netns", "del", &ns]);
    match result {
        Ok(()) => report.ok(&t!("doctor-reachable", port = port)),
        Err((true, e)) => report.note(&t!("doctor-selftest-note", why = e)),
        Err((false, e)) => report.problem(
            &t!("doctor-unreachable", port = port, why = e),
            &t!("doctor-unreachable-fix"),
        ),
    }
}

/// Listens on `host_ip:port` and sends from the namespace; `Ok` when the datagram arrives, else
/// why not, and whether because the port is in use (not a problem: `share` may hold it).
fn probe(ns: &str, host_ip: &str, port: u16) -> Result<(), (bool, String)> {
    let failed = |e: std::io::Error| (false, e.to_string());
    let socket = UdpSocket::bind((host_ip, port)).map_err(|e| {
        let address = format!("{host_ip}:{port}");
        (
            true,
            t!(
                "doctor-selftest-in-use",
                address = address,
                why = e.to_string()
            ),
        )
    })?;
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(failed)?;
    let exe = std::env::current_exe().map_err(failed)?;
    let target = format!("{host_ip}:{port}");
    let sent = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(exe)
        .args(["probe", &target])
        .status()
        .map_err(failed)?;
    if !sent.success() {
        return Err((false, t!("doctor-selftest-not-sent")));
    }
    let mut buffer = [0u8; 64];
    match socket.recv_from(&mut buffer) {
        Ok((n, _)) if &buffer[..n] == PROBE => Ok(()),
        Ok(_) => Err((false, t!("doctor-selftest-other"))),
        Err(_) => Err((false, t!("doctor-selftest-lost"))),
    }
}

/// The datagram of the self-test.
pub const PROBE: &[u8] = b"beckon-doctor-probe";

/// `beckon-agent probe ADDR` (used by the self-test, inside the namespace): sends [`PROBE`].
///
/// # Errors
/// When it cannot be sent.
pub fn send_probe(target: SocketAddr) -> Result<()> {
    let socket = UdpSocket::bind("0.0.0.0:0")?;
    for _ in 0..3 {
        socket.send_to(PROBE, target)?;
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wayland_session_is_told_from_the_environment() {
        let with = |vars: &'static [(&'static str, &'static str)]| {
            wayland_session(move |name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            })
        };
        assert!(with(&[("XDG_SESSION_TYPE", "wayland")]));
        assert!(with(&[("WAYLAND_DISPLAY", "wayland-0")]));
        assert!(!with(&[
            ("XDG_SESSION_TYPE", "x11"),
            ("WAYLAND_DISPLAY", "wayland-0")
        ]));
        assert!(!with(&[("DISPLAY", ":0")]));
    }

    const RULESET: &str = "table inet filter { # handle 1
	chain input { # handle 1
		type filter hook input priority filter; policy accept;
		udp dport 47600 drop # handle 2
		tcp dport 22 accept # handle 3
	}
}
table inet strict { # handle 4
	chain input { # handle 1
		type filter hook input priority filter; policy drop;
		tcp dport 22 accept # handle 2
	}
}
";

    #[test]
    fn nftables_rules_that_drop_the_port_are_named_with_their_fix() {
        let found = nft_blocking(RULESET, 47600);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].fix, "nft delete rule inet filter input handle 2");
        assert!(found[0].rule.contains("udp dport 47600 drop"));
        assert_eq!(
            found[1].fix,
            "nft insert rule inet strict input udp dport 47600 accept"
        );
        assert!(
            nft_blocking(RULESET, 47601).len() == 1,
            "only the drop policy"
        );
    }

    #[test]
    fn iptables_rules_that_drop_the_port_are_named() {
        let rules = "-P INPUT ACCEPT\n-A INPUT -p udp -m udp --dport 47600 -j DROP\n-A INPUT -p tcp --dport 47600 -j DROP\n";
        let found = iptables_blocking(rules, 47600);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].fix,
            "iptables -I INPUT -p udp --dport 47600 -j ACCEPT"
        );
    }
}
