//! English and Spanish: both catalogues of each crate have the same messages with the same
//! placeholders and parse, every message the code asks for exists, and the programs speak
//! Spanish when the locale says so (the command line, the e-mail, both windows; screenshots of
//! the windows in Spanish go to `target/test-artifacts/*-es-*.png`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use crate::util::{Scratch, Xvfb, binary, program, repo};

/// A catalogue's messages: id to the placeholders it uses.
fn messages(source: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut found = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in source.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let starts = line.split_once(" =").map(|(id, _)| id).filter(|id| {
            id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
        if let Some(id) = starts {
            assert!(
                found.insert(id.to_string(), BTreeSet::new()).is_none(),
                "{id} is defined twice"
            );
            current = Some(id.to_string());
        }
        let id = current.as_ref().expect("text before the first message");
        let placeholders = found.get_mut(id).unwrap();
        for (i, _) in line.match_indices('$') {
            let name: String = line[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            placeholders.insert(name);
        }
    }
    found
}

/// The message ids `t!(...)` asks for in the Rust files under `dir`.
fn used(dir: &Path, ids: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            used(&path, ids);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (at, _) in text.match_indices("t!(") {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            // Documentation shows the macro with made-up ids.
            let line = &text[text[..at].rfind('\n').map_or(0, |n| n + 1)..at];
            if line.trim_start().starts_with("//") {
                continue;
            }
            let mut rest = text[at + 3..].trim_start();
            if let Some(language) = rest.strip_prefix("in ") {
                rest = language.split_once(';').unwrap().1.trim_start();
            }
            // `t!($($args)*)` in the macros themselves.
            let Some(rest) = rest.strip_prefix('"') else {
                continue;
            };
            ids.insert(rest.split('"').next().unwrap().to_string());
        }
    }
}

#[test]
fn both_catalogues_have_the_same_messages_and_placeholders_and_every_used_message_exists() {
    for krate in ["engine", "agent", "viewer"] {
        let read = |language: &str| {
            let path = repo().join(krate).join(format!("locales/{language}.ftl"));
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        let (english, spanish) = (read("en"), read("es"));
        for (language, source) in [("en", &english), ("es", &spanish)] {
            if let Err(errors) = beckon_engine::i18n::check_source(source) {
                panic!("{krate}/locales/{language}.ftl does not parse: {errors}");
            }
        }
        let (english, spanish) = (messages(&english), messages(&spanish));
        assert!(english.len() > 20, "{krate}: {} messages", english.len());
        for (id, placeholders) in &english {
            let theirs = spanish
                .get(id)
                .unwrap_or_else(|| panic!("{krate}: {id} is not in es.ftl"));
            assert_eq!(placeholders, theirs, "{krate}: the placeholders of {id}");
        }
        for id in spanish.keys() {
            assert!(english.contains_key(id), "{krate}: {id} is only in es.ftl");
        }
        let mut asked = BTreeSet::new();
        used(&repo().join(krate).join("src"), &mut asked);
        assert!(asked.len() > 20, "{krate}: {asked:?}");
        for id in &asked {
            assert!(
                english.contains_key(id),
                "{krate} asks for {id}, which is in no catalogue"
            );
        }
    }
}

/// The command line in Spanish: errors, and the e-mail an invitation would be sent in.
#[test]
fn the_programs_speak_spanish_when_the_locale_says_so() {
    let data = Scratch::new("i18n");
    let spanish = |name: &str| {
        let mut command = program(name);
        command
            .env("LANG", "es_ES.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES");
        command
    };
    let said = |out: std::process::Output| String::from_utf8_lossy(&out.stderr).into_owned();
    let out = spanish("beckon-agent")
        .args(["--data-dir", data.path().to_str().unwrap()])
        .args(["invite", "--from", "Ada", "--password-stdin"])
        .output()
        .unwrap();
    assert!(said(out).contains("indica cómo llega la invitación"));
    let out = spanish("beckon-viewer")
        .args(["open", "beckon:no-es-nada"])
        .output()
        .unwrap();
    let text = said(out);
    assert!(
        text.contains("esto no es una invitación de Beckon"),
        "{text}"
    );
    // The e-mail, written for the sharer's own mail program.
    let eml = data.path().join("ayuda.eml");
    let out = crate::util::run_with_stdin(
        spanish("beckon-agent")
            .args(["--data-dir", data.path().to_str().unwrap()])
            .args(["invite", "--from", "Ada", "--message", "La impresora"])
            .args(["--password-stdin", "--email", "grace@example.org", "--eml"])
            .arg(&eml),
        &format!("{}\n", crate::share::PASSWORD),
    );
    let text = said(out);
    assert!(text.contains("creada; caduca dentro de 1 hora"), "{text}");
    let mail = std::fs::read_to_string(&eml).unwrap();
    assert!(mail.contains("Ada te pide ayuda"), "{mail}");
    // English when the locale is C, whatever LANGUAGE says (as gettext does).
    let out = program("beckon-viewer")
        .env("LANG", "C.UTF-8")
        .env("LANGUAGE", "es")
        .args(["open", "beckon:no-es-nada"])
        .output()
        .unwrap();
    assert!(said(out).contains("this is not a Beckon invitation"));
}

/// Both windows in Spanish, found by their Spanish titles; screenshots for docs/.
#[test]
fn both_windows_show_in_spanish() {
    let scratch = Scratch::new("i18n-windows");
    let home = scratch.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut x = Xvfb::start(1300, 860);
    x.start_window_manager();
    let agent = binary("beckon-agent");
    let viewer = binary("beckon-viewer");
    let data = scratch.path().join("data");
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = ["LANG=es_ES.UTF-8", &format!("HOME={}", home.display())];
    let sharer = x.spawn_followed(
        Path::new("/usr/bin/env"),
        &[
            env[0],
            env[1],
            "RUST_LOG=beckon_agent::layout=trace",
            agent.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--config",
            scratch.path().join("agent.toml").to_str().unwrap(),
            "window",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ],
    );
    let shown = x.window("--name", "Beckon: pedir ayuda");
    assert!(!shown.is_empty(), "no window titled in Spanish");
    x.run("xdotool", &["windowmove", &shown, "0", "0"]);
    let _helper = x.spawn_followed(
        Path::new("/usr/bin/env"),
        &[env[0], env[1], viewer.to_str().unwrap(), "--name", "Grace"],
    );
    let helping = x.window("--name", "Beckon: ayudando");
    assert!(!helping.is_empty(), "no viewer window titled in Spanish");
    x.run(
        "xdotool",
        &[
            "windowsize",
            &helping,
            "620",
            "420",
            "windowmove",
            &helping,
            "670",
            "0",
        ],
    );
    let window = crate::sharer_window::Window {
        x: &x,
        id: shown,
        said: sharer,
    };
    // Create with nothing filled in: the form says what is missing, in Spanish.
    window.click("create");
    std::thread::sleep(Duration::from_millis(1000));
    crate::x11::screenshot(&x, (1300, 860), "windows-es-1-ask-and-connect");
    // A code to paste: the confirmation, then the invitation's status.
    window.fill("from", "Ada");
    window.click("how-code");
    window.passwords();
    window.click("create");
    window.line("creada; caduca el");
    std::thread::sleep(Duration::from_millis(800));
    crate::x11::screenshot(&x, (1300, 860), "windows-es-2-sent");
    window.click("tab-invitations");
    let row = window.line("line=\"invitation-");
    assert!(
        row.contains("Abierta") && row.contains("Nadie se ha conectado"),
        "{row}"
    );
    crate::x11::screenshot(&x, (1300, 860), "windows-es-3-status");
}
