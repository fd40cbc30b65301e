//! The sharer's window as a novice uses it, driven by clicks with xdotool on a real X server:
//! asking for help (a test e-mail, then an invitation e-mailed through a real SMTP server on
//! loopback, a code copied, a file saved), the helper pasting the code and connecting, the
//! invitation status with the helper's name, and expiring and deleting from the window. Serving
//! follows the invitations: the port is free before the first and after the last. Screenshots
//! of each page go to `target/test-artifacts/sharer-*.png`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::mail::{SMTP_PASSWORD, Server, config};
use crate::share::PASSWORD;
use crate::util::{Lines, Scratch, Xvfb, binary};
use crate::x11::screenshot;

const SCREEN: (u32, u32) = (720, 820);

/// Where the window last said `widget` is (its own coordinates), waiting for it to show.
pub(crate) fn at(said: &Lines, widget: &str) -> (i32, i32) {
    let needle = format!("widget=\"{widget}\" x=");
    said.wait_for(&needle);
    let text = said.text();
    let line = text.lines().rev().find(|l| l.contains(&needle)).unwrap();
    let number = |key: &str| -> i32 {
        let rest = &line[line.find(key).unwrap() + key.len()..];
        rest.split(|c: char| !c.is_ascii_digit() && c != '-')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (number(" x="), number(" y="))
}

/// The sharer's window on its own X server, and what it says.
pub(crate) struct Window<'a> {
    pub(crate) x: &'a Xvfb,
    pub(crate) id: String,
    pub(crate) said: Lines,
}

impl Window<'_> {
    pub(crate) fn click(&self, widget: &str) {
        let (cx, cy) = at(&self.said, widget);
        self.x.run(
            "xdotool",
            &[
                "mousemove",
                "--window",
                &self.id,
                &cx.to_string(),
                &cy.to_string(),
                "click",
                "1",
            ],
        );
        // egui takes the click on its next frame.
        std::thread::sleep(Duration::from_millis(400));
    }

    /// Clicks a field and types into it.
    pub(crate) fn fill(&self, widget: &str, text: &str) {
        self.click(widget);
        self.x
            .run("xdotool", &["type", "--delay", "15", "--", text]);
        std::thread::sleep(Duration::from_millis(200));
    }

    /// The passwords, typed twice.
    pub(crate) fn passwords(&self) {
        self.fill("password", PASSWORD);
        self.fill("again", PASSWORD);
    }

    /// The line the window says after `after` lines, containing `needle`.
    pub(crate) fn line(&self, needle: &str) -> String {
        self.said.wait_for(needle);
        let text = self.said.text();
        text.lines()
            .rfind(|l| l.contains(needle))
            .unwrap()
            .to_string()
    }

    /// The id in the last "Invitation ID created" line.
    fn created(&self, count: usize) -> String {
        wait(&format!("{count} invitations made"), || {
            self.said.text().matches("created; it expires").count() == count
        });
        let line = self.line("created; it expires");
        line.split_whitespace().nth(1).unwrap().to_string()
    }
}

fn wait(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether anything listens on UDP `port` of loopback.
fn port_taken(port: u16) -> bool {
    std::net::UdpSocket::bind(("127.0.0.1", port)).is_err()
}

fn clipboard(x: &Xvfb) -> String {
    String::from_utf8(x.run("xclip", &["-selection", "clipboard", "-o"])).unwrap()
}

#[test]
fn the_sharer_asks_for_help_from_the_window_and_follows_the_invitation() {
    let scratch = Scratch::new("sharer-window");
    let server = Server::start(&scratch, "starttls");
    let settings = config(&scratch, &server, "starttls");
    let home = scratch.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut ada = Xvfb::start(SCREEN.0, SCREEN.1);
    ada.start_window_manager();
    let agent = binary("beckon-agent");
    let data = scratch.path().join("data");
    let said = ada.spawn_followed(
        Path::new("/usr/bin/env"),
        &[
            "RUST_LOG=info,beckon_agent::layout=trace",
            &format!("BECKON_SMTP_PASSWORD={SMTP_PASSWORD}"),
            &format!("HOME={}", home.display()),
            agent.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--config",
            settings.to_str().unwrap(),
            "window",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ],
    );
    let id = ada.window("--name", beckon_agent::window::HOME_TITLE);
    let window = Window { x: &ada, id, said };
    at(&window.said, "create");
    // No invitation yet: nobody listens.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !port_taken(port),
        "the window serves with no invitation open"
    );

    // The e-mail settings came from agent.toml: shown folded; a test e-mail to the sharer.
    window.click("smtp-settings");
    window.click("smtp-test");
    window.line("A test e-mail went to");
    let test = server.received(1);
    assert_eq!(test["rcpt_tos"][0], "ada@example.org", "{test}");
    assert_eq!(test["authenticated"], true, "{test}");

    // By e-mail.
    window.fill("from", "Ada Lovelace");
    window.fill("message", "My printer will not print");
    window.passwords();
    window.fill("to", "grace@example.org");
    screenshot(&ada, SCREEN, "sharer-1-ask");
    window.click("create");
    window.line("E-mailed to grace@example.org.");
    let emailed = window.created(1);
    let mail = server.received(2);
    assert_eq!(mail["rcpt_tos"][0], "grace@example.org", "{mail}");
    let attached = mail["attachments"]["invitation.beckon"]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(attached.contains(&emailed), "{attached}");
    assert!(
        !mail.to_string().contains(PASSWORD),
        "the password went by e-mail"
    );
    let emailed_file = scratch.path().join("emailed.beckon");
    std::fs::write(&emailed_file, &attached).unwrap();
    screenshot(&ada, SCREEN, "sharer-2-sent");
    // An invitation is open: the window waits for helpers.
    window.line(&format!("Waiting for helpers on UDP 127.0.0.1:{port}"));
    assert!(port_taken(port));

    // As a code to paste: it is on the clipboard.
    window.click("another");
    window.click("how-code");
    window.passwords();
    window.click("create");
    window.line("Paste the beckon: code");
    let pasted = window.created(2);
    wait("the code on the clipboard", || {
        clipboard(&ada).starts_with("beckon:")
    });
    let code = clipboard(&ada);
    screenshot(&ada, SCREEN, "sharer-3-code");

    // As a file, with a name of its own in the sharer's home, and a generated password: shown
    // until the sharer dismisses it, copied, never written to the log.
    window.click("another");
    window.click("how-file");
    window.click("generate");
    window.click("copy-password");
    wait("the password on the clipboard", || {
        beckon_engine::invite::password::check(&clipboard(&ada), &[]).is_ok()
    });
    let generated = clipboard(&ada);
    window.click("create");
    let saved = window.line("Saved to ");
    screenshot(&ada, SCREEN, "sharer-4-generated");
    window.click("dismiss-password");
    let saved = saved
        .split("Saved to ")
        .nth(1)
        .unwrap()
        .trim_end_matches('.');
    let filed = window.created(3);
    assert!(
        saved.starts_with(home.to_str().unwrap()) && saved.ends_with("from Ada Lovelace.beckon"),
        "{saved}"
    );
    let file =
        beckon_engine::invite::Invitation::from_toml(&std::fs::read_to_string(saved).unwrap())
            .unwrap();
    assert_eq!(file.id, filed);
    assert_eq!(file.addresses[0].to_string(), format!("127.0.0.1:{port}"));

    // The helper pastes the code into their window; the sharer's window shows the question.
    let mut grace = Xvfb::start(1024, 768);
    grace.start_window_manager();
    let state = format!("XDG_STATE_HOME={}", scratch.path().join("grace").display());
    let viewer = grace.spawn_followed(
        Path::new("/usr/bin/env"),
        &[
            &state,
            binary("beckon-viewer").to_str().unwrap(),
            "--name",
            "Grace",
        ],
    );
    let shown = grace.window("--name", "Beckon: helping");
    std::thread::sleep(Duration::from_millis(1500));
    let set = format!("printf %s '{code}' | xclip -selection clipboard >/dev/null 2>&1");
    grace.run("sh", &["-c", &set]);
    grace.run("xdotool", &["key", "--delay", "80", "ctrl+v"]);
    std::thread::sleep(Duration::from_millis(500));
    grace.run("xdotool", &["type", "--delay", "20", PASSWORD]);
    grace.run("xdotool", &["key", "Return"]);
    window.click("yes");
    viewer.wait_for("Viewing");
    screenshot(&ada, SCREEN, "sharer-5-session");
    grace.run("xdotool", &["windowclose", &shown]);
    window.line("Session over");

    // Invitation status: the code's invitation was used, by Grace.
    window.click("tab-invitations");
    let row = window.line(&format!("line=\"invitation-{pasted}\""));
    assert!(
        row.contains("Used") && row.contains("Helper: Grace"),
        "{row}"
    );
    screenshot(&ada, SCREEN, "sharer-6-status");

    // Expired in the window: the e-mailed invitation is refused with that reason.
    window.click(&format!("expire-{emailed}"));
    screenshot(&ada, SCREEN, "sharer-7-confirm");
    window.click("confirm");
    window.line(&format!("Invitation {emailed} expired"));
    let refused = crate::share::refused(&emailed_file, PASSWORD, &scratch);
    assert!(refused.contains("the invitation has expired"), "{refused}");

    // Deleting the last open one: the window stops waiting, and the port is free again.
    window.click(&format!("delete-{filed}"));
    window.click("confirm");
    window.line(&format!("Invitation {filed} deleted"));
    window.line("No open invitation: no longer waiting for helpers.");
    wait("the port freed", || !port_taken(port));
    let listed = crate::util::program("beckon-agent")
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "invitations",
            "--json",
        ])
        .output()
        .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let states: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    assert!(
        !window.said.text().contains(&generated),
        "the password was logged"
    );
    assert_eq!(
        states,
        [
            (filed.as_str(), "deleted"),
            (pasted.as_str(), "used"),
            (emailed.as_str(), "expired")
        ]
    );
}
