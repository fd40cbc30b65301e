//! `beckon-agent doctor` against a real firewall: two network namespaces joined by a veth pair,
//! the agent in one behind an nftables rule that drops its port, the helper in the other.

use std::process::{Command, Stdio};

use crate::share::{Agent, PASSWORD, invite_at};
use crate::util::{Lines, Scratch, binary, repo, run_with_stdin};

/// The two namespaces, deleted on drop.
struct Namespaces(String, String);

impl Drop for Namespaces {
    fn drop(&mut self) {
        for ns in [&self.0, &self.1] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .expect("ip (make deps installs iproute2)");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn in_ns(ns: &str, program: &std::path::Path) -> Command {
    let mut command = Command::new("ip");
    command
        .args(["netns", "exec", ns])
        .arg(program)
        .env("XDG_STATE_HOME", crate::util::test_state());
    command
}

#[test]
fn a_firewall_rule_dropping_the_port_is_named_and_its_fix_lets_the_helper_in() {
    let tag = std::process::id() % 10_000;
    let names = Namespaces(format!("bka{tag}"), format!("bkb{tag}"));
    let (a, b) = (names.0.as_str(), names.1.as_str());
    let subnet = 10 + tag % 200;
    let (agent_ip, helper_ip) = (format!("10.253.{subnet}.1"), format!("10.253.{subnet}.2"));
    ip(&["netns", "add", a]);
    ip(&["netns", "add", b]);
    let (a_if, b_if) = (format!("bka{tag}i"), format!("bkb{tag}i"));
    ip(&["link", "add", &a_if, "type", "veth", "peer", "name", &b_if]);
    ip(&["link", "set", &a_if, "netns", a]);
    ip(&["link", "set", &b_if, "netns", b]);
    for (ns, dev, addr) in [(a, &a_if, &agent_ip), (b, &b_if, &helper_ip)] {
        ip(&[
            "netns",
            "exec",
            ns,
            "ip",
            "addr",
            "add",
            &format!("{addr}/30"),
            "dev",
            dev,
        ]);
        ip(&["netns", "exec", ns, "ip", "link", "set", dev, "up"]);
        ip(&["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
    }
    let port: u16 = 47_000 + (tag % 500) as u16;
    let nft = |rule: &str| {
        let out = Command::new("ip")
            .args(["netns", "exec", a, "nft", rule])
            .output()
            .expect("nft (make deps installs nftables)");
        assert!(
            out.status.success(),
            "nft {rule}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    nft("add table inet filter");
    nft("add chain inet filter input { type filter hook input priority 0 ; policy accept ; }");
    nft(&format!("add rule inet filter input udp dport {port} drop"));

    let data = Scratch::new("doctor");
    let file = data.path().join("invitation.beckon");
    // The invitation names the agent's address in its namespace.
    invite_at(data.path(), &file, &format!("{agent_ip}:{port}"));

    let mut agent = in_ns(a, &binary("beckon-agent"));
    agent
        .arg("--data-dir")
        .arg(data.path())
        .args(["share", "--console", "--yes", "--sessions", "1", "--clip"])
        .arg(repo().join("corpus/terminal.bgra.zst"))
        .args(["--listen", &format!("{agent_ip}:{port}")])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped());
    let mut agent = Agent(agent.spawn().unwrap());
    let said = Lines::follow(agent.0.stderr.take().unwrap(), |_| {});
    said.wait_for("Waiting for helpers");

    let helper = |seconds: &str| {
        run_with_stdin(
            in_ns(b, &binary("beckon-viewer"))
                .args([
                    "open",
                    "--name",
                    "Grace",
                    "--password-stdin",
                    "--seconds",
                    seconds,
                ])
                .arg(&file),
            &format!("{PASSWORD}\n"),
        )
    };
    // Behind the rule: no answer, and the helper is told why and where to look.
    let blocked = helper("2");
    let why = String::from_utf8_lossy(&blocked.stderr);
    assert!(!blocked.status.success());
    assert!(
        why.contains("firewall drops UDP port") && why.contains("beckon-agent doctor"),
        "{why}"
    );

    // The doctor names the rule and the command that allows the port.
    let doctor = || {
        in_ns(a, &binary("beckon-agent"))
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("XDG_SESSION_TYPE")
            .args(["doctor", "--no-netns", "--listen"])
            .arg(format!("{agent_ip}:{port}"))
            .output()
            .unwrap()
    };
    let doctor_before = doctor();
    let report = String::from_utf8_lossy(&doctor_before.stdout);
    assert_eq!(doctor_before.status.code(), Some(1), "{report}");
    assert!(
        report.contains(&format!("udp dport {port} drop")),
        "{report}"
    );
    let fix = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("allow it: "))
        .unwrap_or_else(|| panic!("no command in:\n{report}"));
    assert!(
        fix.starts_with("nft delete rule inet filter input handle"),
        "{fix}"
    );
    let applied = Command::new("ip")
        .args(["netns", "exec", a, "sh", "-c", fix])
        .status()
        .unwrap();
    assert!(applied.success(), "{fix}");

    // After the fix the doctor is content, and the helper gets in.
    let doctor_after = doctor();
    assert!(
        doctor_after.status.success(),
        "{}",
        String::from_utf8_lossy(&doctor_after.stdout)
    );
    let through = helper("2");
    let said_helper = String::from_utf8_lossy(&through.stderr);
    assert!(through.status.success(), "{said_helper}");
    assert!(
        said_helper.contains("You can see the sharer's screen."),
        "{said_helper}"
    );
    assert!(agent.wait().unwrap().success(), "{}", said.text());
}

/// On a Wayland session the doctor says that the helper would see only the X11 windows, and
/// what to do; on an X11 session it says nothing of the kind.
#[test]
fn the_doctor_tells_a_wayland_session_what_a_helper_would_see() {
    let findings = |session: &str| -> Vec<serde_json::Value> {
        let out = crate::util::program("beckon-agent")
            .env("XDG_SESSION_TYPE", session)
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("DISPLAY")
            .args(["doctor", "--no-netns", "--json", "--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["findings"].as_array().unwrap().clone()
    };
    let wayland = |findings: &[serde_json::Value]| {
        findings
            .iter()
            .find(|f| f["what"].as_str().unwrap().contains("Wayland session"))
            .cloned()
    };
    let said = wayland(&findings("wayland")).expect("no word on the Wayland session");
    assert_eq!(said["kind"], "problem", "{said}");
    assert!(
        said["fix"].as_str().unwrap().contains("X11 session"),
        "{said}"
    );
    assert!(wayland(&findings("x11")).is_none());
}
