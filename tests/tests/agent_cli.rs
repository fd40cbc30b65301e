//! `beckon-agent` on the command line, with a real SQLite store in a scratch directory.

use std::process::Output;

use beckon_engine::invite::Invitation;

use crate::util::{Scratch, program, run_with_stdin};

const STRONG: &str = "Tamoki-Ruvela-Sipono-47!";

fn agent(data: &Scratch, args: &[&str], stdin: &str) -> Output {
    run_with_stdin(
        program("beckon-agent")
            .arg("--data-dir")
            .arg(data.path())
            .args(args),
        stdin,
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn listed(data: &Scratch) -> serde_json::Value {
    let out = agent(data, &["invitations", "--json"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn invite_save_list_expire_resend_delete_and_log() {
    let data = Scratch::new("agent-cli");
    let file = data.path().join("help-me.beckon");
    let out = agent(
        &data,
        &[
            "invite",
            "--from",
            "Ada Lovelace",
            "--message",
            "The printer",
            "--password-stdin",
            "--save",
            file.to_str().unwrap(),
        ],
        &format!("{STRONG}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("expires in 1 hour, at 20"),
        "{}",
        text(&out.stderr)
    );
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(!saved.contains(STRONG));
    let invitation = Invitation::parse(&saved).unwrap();
    assert_eq!(
        (invitation.from.as_str(), invitation.message.as_str()),
        ("Ada Lovelace", "The printer")
    );
    assert_eq!(invitation.expires - invitation.created, 3600);

    let list = listed(&data);
    assert_eq!(list[0]["id"], invitation.id.as_str());
    assert_eq!(list[0]["state"], "open");
    assert!(list[0]["delivery"].as_str().unwrap().starts_with("file:"));

    // Resend rewrites the same invitation to the same place.
    std::fs::remove_file(&file).unwrap();
    let out = agent(&data, &["resend", &invitation.id[..6]], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        Invitation::parse(&std::fs::read_to_string(&file).unwrap()).unwrap(),
        invitation
    );

    let out = agent(&data, &["expire", &invitation.id], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(listed(&data)[0]["state"], "expired");
    let out = agent(&data, &["resend", &invitation.id], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("is expired: make a new one"),
        "{}",
        text(&out.stderr)
    );

    let out = agent(&data, &["delete", &invitation.id], "");
    assert!(out.status.success());
    assert_eq!(listed(&data)[0]["state"], "deleted");

    // People read dates and durations, not Unix times.
    let table = text(&agent(&data, &["invitations"], "").stdout);
    assert!(
        table.contains("just now")
            && (table.contains("in 59 minutes") || table.contains("in 1 hour")),
        "{table}"
    );
    let log = text(&agent(&data, &["log"], "").stdout);
    assert!(
        log.lines()
            .all(|line| line.starts_with("20") && line[..20].ends_with(" UTC")),
        "{log}"
    );
    assert!(!log.contains(&invitation.created.to_string()), "{log}");

    let out = agent(&data, &["log", "--json"], "");
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let events: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "created",
            "sent",
            "sent",
            "resent",
            "expired by the sharer",
            "deleted by the sharer"
        ]
    );
    // The store never holds the password.
    let db = std::fs::read(data.path().join("agent.db")).unwrap();
    assert!(!db.windows(STRONG.len()).any(|w| w == STRONG.as_bytes()));
}

/// The password `invite --generate-password` showed in `said`, checked to be a strong one.
fn generated_password(said: &str) -> &str {
    let password = said
        .split("Password (shown once): ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("no password shown: {said}"));
    assert_eq!(
        beckon_engine::invite::password::check(password, &[]),
        Ok(())
    );
    password
}

#[test]
fn the_string_form_and_a_generated_password() {
    let data = Scratch::new("agent-cli");
    let out = agent(
        &data,
        &[
            "invite",
            "--from",
            "Ada",
            "--generate-password",
            "--string",
            "--expires",
            "30m",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    let invitation = Invitation::parse(line.trim()).unwrap();
    assert_eq!(invitation.expires - invitation.created, 1800);
    let stderr = text(&out.stderr);
    let password = generated_password(&stderr);
    // Shown once: nowhere in the store or the listing.
    assert!(!text(&agent(&data, &["invitations"], "").stdout).contains(password));
}

#[test]
fn weak_passwords_and_nonsense_get_clear_reasons() {
    let data = Scratch::new("agent-cli");
    let cases: [(&[&str], &str, &str); 6] = [
        (
            &["invite", "--from", "Ada", "--password-stdin", "--string"],
            "Password123!\n",
            "too easy to guess",
        ),
        (
            &["invite", "--from", "Ada", "--password-stdin", "--string"],
            "short1!\n",
            "use at least 10",
        ),
        (
            &[
                "invite",
                "--from",
                "Ada",
                "--password-stdin",
                "--string",
                "--expires",
                "48h",
            ],
            "",
            "longer than the 1 day allowed",
        ),
        (
            &[
                "invite",
                "--from",
                "Ada",
                "--password-stdin",
                "--string",
                "--expires",
                "soon",
            ],
            "",
            "not a duration",
        ),
        (&["expire", "nope"], "", "no invitation \"nope\""),
        (
            &["invite", "--from", "Ada", "--password-stdin"],
            "",
            "--email ADDRESS (sent by e-mail), --string (a code to paste into any chat program) or \
             --save FILE",
        ),
    ];
    for (args, stdin, expected) in cases {
        let out = agent(&data, args, stdin);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            text(&out.stderr).contains(expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    // The sharer's policy caps the validity; no flag raises it.
    let config = data.path().join("agent.toml");
    crate::util::write_private(&config, "[policy]\nmax_expiry = \"30m\"\n");
    let config = config.to_str().unwrap();
    for expires in [
        &["--expires", "1h"][..],
        &["--expires", "1h", "--max-expiry", "48h"],
    ] {
        let args = [
            &[
                "--config",
                config,
                "invite",
                "--from",
                "Ada",
                "--password-stdin",
                "--string",
            ][..],
            expires,
        ]
        .concat();
        let out = agent(&data, &args, &format!("{STRONG}\n"));
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            text(&out.stderr).contains("longer than the 30 minutes allowed"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = agent(&data, &["invite", "--from", "Ada", "--string"], "");
    assert!(
        text(&out.stderr).contains("a password is required"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        listed(&data).as_array().unwrap().is_empty(),
        "nothing was stored"
    );
}

/// A generated password is shown before delivery is tried: when the e-mail cannot go, the
/// invitation stays for `resend`, and the sharer still knows its password.
#[test]
fn a_failed_delivery_still_shows_the_generated_password_and_listings_end_quietly_in_a_pipe() {
    let data = Scratch::new("agent-cli");
    // A port nothing listens on: the SMTP connection is refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = agent(
        &data,
        &[
            "invite",
            "--from",
            "Ada",
            "--generate-password",
            "--email",
            "grace@example.org",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            &closed.to_string(),
            "--smtp-security",
            "none",
            "--smtp-from",
            "ada@example.org",
        ],
        "",
    );
    let said = text(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("was not delivered"), "{said}");
    generated_password(&said);
    assert_eq!(listed(&data)[0]["state"], "open");

    // --json for scripts: the invitation made, the address book, the doctor's findings.
    let out = agent(
        &data,
        &[
            "invite",
            "--from",
            "Ada",
            "--password-stdin",
            "--string",
            "--json",
            "--expires",
            "30m",
        ],
        &format!("{STRONG}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let code = Invitation::parse(made["code"].as_str().unwrap()).unwrap();
    assert_eq!(
        (
            made["id"].as_str(),
            made["expires"].as_u64(),
            made["delivery"].as_str()
        ),
        (Some(code.id.as_str()), Some(code.expires), Some("string"))
    );
    assert!(!text(&out.stdout).contains(STRONG));
    let helpers = agent(&data, &["helpers", "--json"], "");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&helpers.stdout).unwrap(),
        serde_json::json!([])
    );
    let out = agent(
        &data,
        &[
            "doctor",
            "--json",
            "--no-netns",
            "--listen",
            "127.0.0.1:0",
            "--display",
            ":4999",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            &closed.to_string(),
            "--smtp-security",
            "none",
        ],
        "",
    );
    assert!(
        !out.status.success(),
        "an SMTP server that refuses is a problem"
    );
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = found["findings"].as_array().unwrap();
    let has = |kind: &str, what: &str| {
        findings
            .iter()
            .any(|f| f["kind"] == kind && f["what"].as_str().unwrap().contains(what))
    };
    assert!(
        found["ok"] == false && has("problem", "SMTP") && has("note", "no X display"),
        "{found}"
    );

    // `beckon-agent invitations | head -1`, with the reader gone before the first line.
    for listing in [&["invitations"][..], &["invitations", "--json"], &["log"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = program("beckon-agent")
            .arg("--data-dir")
            .arg(data.path())
            .args(listing)
            .stdout(writer)
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{listing:?}: {}",
            text(&out.stderr)
        );
    }
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().mode() & 0o777
}

/// The store, its directory and the invitation the agent saves are the sharer's alone; a store
/// others can read is refused with the command that fixes it, and nothing is changed meanwhile.
#[test]
fn the_store_and_invitations_are_private_and_loose_modes_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let scratch = Scratch::new("private");
    let data = scratch.path().join("data");
    let file = scratch.path().join("help.beckon");
    let invite = |data: &std::path::Path| {
        run_with_stdin(
            program("beckon-agent")
                .arg("--data-dir")
                .arg(data)
                .args(["invite", "--from", "Ada", "--password-stdin", "--save"])
                .arg(&file),
            &format!("{STRONG}\n"),
        )
    };
    let out = invite(&data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("agent.db")), 0o600);
    assert_eq!(mode(&file), 0o600);
    for journal in ["agent.db-wal", "agent.db-shm"] {
        let path = data.join(journal);
        if path.exists() {
            assert_eq!(mode(&path) & 0o077, 0, "{journal}");
        }
    }

    // A directory others can read: refused, with the fix.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = invite(&data);
    let said = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        said.contains("can be read by other users (mode 0755)")
            && said.contains(&format!("chmod 700 {}", data.display())),
        "{said}"
    );
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();

    // A store others can change: refused too; its one invitation is still there afterwards.
    let db = data.join("agent.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o664)).unwrap();
    let out = program("beckon-agent")
        .arg("--data-dir")
        .arg(&data)
        .args(["invitations", "--json"])
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        said.contains("can be changed by other users (mode 0664)")
            && said.contains(&format!("chmod 600 {}", db.display())),
        "{said}"
    );
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = program("beckon-agent")
        .arg("--data-dir")
        .arg(&data)
        .args(["invitations", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
}

/// The store follows the XDG conventions: `XDG_DATA_HOME` when set to a full path, else
/// `~/.local/share`; an empty one counts as unset, never as a folder of the current directory.
#[test]
fn the_store_follows_the_xdg_base_directories() {
    let scratch = Scratch::new("xdg");
    let (home, cwd, xdg) = (
        scratch.path().join("home"),
        scratch.path().join("cwd"),
        scratch.path().join("xdg"),
    );
    std::fs::create_dir_all(&cwd).unwrap();
    for (data_home, store) in [
        ("", home.join(".local/share/beckon/agent.db")),
        ("relative", home.join(".local/share/beckon/agent.db")),
        (xdg.to_str().unwrap(), xdg.join("beckon/agent.db")),
    ] {
        let out = program("beckon-agent")
            .arg("invitations")
            .env("HOME", &home)
            .env("XDG_DATA_HOME", data_home)
            .env_remove("BECKON_DATA_DIR")
            .current_dir(&cwd)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            store.exists(),
            "XDG_DATA_HOME={data_home:?}: no {}",
            store.display()
        );
        assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0, "{data_home:?}");
    }
}
