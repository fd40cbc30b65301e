//! The helper's window on its own Xvfb against a sharer on another: the whole Remote
//! Assistance flow driven with xdotool, the window's pixels checked against the sharer's screen,
//! and screenshots of each step in `target/test-artifacts/viewer-*.png`.

use std::time::{Duration, Instant};

use crate::util::{Scratch, Xvfb, binary, program};
use crate::x11::{audit_log, grab_sized, screenshot, sharer, wait_until};

/// The sharer's screen and the helper's.
const SHARER: (u32, u32) = (480, 320);
const HELPER: (u32, u32) = (1024, 768);

/// Where the sharer's screen shows inside the helper's (top-left corner), when it shows there
/// exactly, pixel for pixel, apart from a box around the sharer's pointer at `pointer`.
fn shown_exactly(sharer: &[u8], helper: &[u8], pointer: (u32, u32)) -> Option<(u32, u32)> {
    let (sw, sh) = (SHARER.0 as usize, SHARER.1 as usize);
    let hw = HELPER.0 as usize;
    fn row(frame: &[u8], width: usize, x: usize, y: usize, n: usize) -> &[u8] {
        &frame[(y * width + x) * 4..(y * width + x + n) * 4]
    }
    let hidden = |x: usize, y: usize| {
        x + 40 > pointer.0 as usize
            && x < pointer.0 as usize + 40
            && y + 40 > pointer.1 as usize
            && y < pointer.1 as usize + 40
    };
    let same = |a: &[u8], b: &[u8]| {
        a.chunks_exact(4)
            .zip(b.chunks_exact(4))
            .all(|(p, q)| p[..3] == q[..3])
    };
    for oy in 0..(HELPER.1 as usize - sh) {
        for ox in 0..(hw - sw).min(64) {
            if !same(row(sharer, sw, 0, 0, sw), row(helper, hw, ox, oy, sw)) {
                continue;
            }
            let all = (0..sh).all(|y| {
                (0..sw).all(|x| {
                    hidden(x, y)
                        || same(row(sharer, sw, x, y, 1), row(helper, hw, ox + x, oy + y, 1))
                })
            });
            if all {
                return Some((ox as u32, oy as u32));
            }
        }
    }
    None
}

#[test]
fn a_helper_connects_in_the_window_takes_control_types_chats_and_disconnects() {
    let scratch = Scratch::new("viewer-window");
    let mut ada = Xvfb::start(SHARER.0, SHARER.1);
    ada.start_window_manager();
    let (mut agent, said, file, typed) = sharer(
        &mut ada,
        &scratch,
        "+10+20",
        &["--console", "--yes"],
        |line| {
            if line.contains("would like to share control") {
                Some("y\n")
            } else if line.starts_with("helper: Hello Ada") {
                Some("Hello Grace\n")
            } else {
                None
            }
        },
    );
    // xev reports every key the sharer's screen receives, with the modifiers held.
    let xev = ada.spawn_followed(
        std::path::Path::new("/bin/sh"),
        &[
            "-c",
            "exec xev -event keyboard -geometry 200x100+260+180 >&2",
        ],
    );
    ada.window("--name", "Event Tester");
    // The sharer's pointer out of the way, in the bottom-right corner.
    ada.run("xdotool", &["mousemove", "470", "310"]);
    screenshot(&ada, SHARER, "viewer-0-sharers-screen");

    let mut grace = Xvfb::start(HELPER.0, HELPER.1);
    grace.start_window_manager();
    let viewer = grace.spawn_followed(
        &binary("beckon-viewer"),
        &["--name", "Grace", file.to_str().unwrap()],
    );
    let window = grace.window("--name", "Beckon: helping");
    let click = |at: (u32, u32)| {
        let (x, y) = (at.0.to_string(), at.1.to_string());
        grace.run(
            "xdotool",
            &["mousemove", "--window", &window, &x, &y, "click", "1"],
        );
    };
    std::thread::sleep(Duration::from_millis(800));
    screenshot(&grace, HELPER, "viewer-1-connect");
    // The dialog has the invitation read and the password field focused.
    grace.run(
        "xdotool",
        &["type", "--delay", "20", crate::share::PASSWORD],
    );
    grace.run("xdotool", &["key", "Return"]);
    said.wait_for("The helper sees your screen");
    viewer.wait_for("Viewing");

    // The window shows the sharer's pixels exactly, at 1:1.
    let mut corner = None;
    let deadline = Instant::now() + Duration::from_secs(40);
    while corner.is_none() {
        assert!(
            Instant::now() < deadline,
            "the window never showed the sharer's screen exactly"
        );
        std::thread::sleep(Duration::from_millis(300));
        let shown = grab_sized(&ada, SHARER);
        // Only once the xterm is drawn (white) is there something to compare.
        if shown.chunks_exact(4).any(|p| p[..3] == [255, 255, 255]) {
            corner = shown_exactly(&shown, &grab_sized(&grace, HELPER), (470, 310));
        }
    }
    let (ox, oy) = corner.unwrap();
    assert!(
        !viewer.text().contains("shown fitted"),
        "a smaller screen shows at 1:1"
    );
    // And its status line says so.
    viewer.wait_for("Picture exact");
    screenshot(&grace, HELPER, "viewer-2-viewing");

    // Take Control, in the toolbar; the sharer says Yes on the console.
    click((53, 12));
    said.wait_for("would like to share control");
    viewer.wait_for("ControlGranted");
    screenshot(&grace, HELPER, "viewer-3-controlling");
    // Click into the sharer's xterm through the window, then type.
    grace.run(
        "xdotool",
        &[
            "mousemove",
            &(ox + 100).to_string(),
            &(oy + 60).to_string(),
            "click",
            "1",
        ],
    );
    std::thread::sleep(Duration::from_millis(500));
    grace.run("xdotool", &["type", "--delay", "40", "typed in the window"]);
    grace.run("xdotool", &["key", "Return"]);
    wait_until("the helper's line in the sharer's xterm", || {
        std::fs::read_to_string(&typed).is_ok_and(|t| t == "typed in the window\n")
    });

    // Every modifier with every key, the ones egui keeps for its clipboard (Ctrl+C) included.
    grace.run(
        "xdotool",
        &[
            "mousemove",
            &(ox + 360).to_string(),
            &(oy + 250).to_string(),
            "click",
            "1",
        ],
    );
    std::thread::sleep(Duration::from_millis(500));
    grace.run(
        "xdotool",
        &[
            "key",
            "--delay",
            "60",
            "shift+Tab",
            "ctrl+shift+t",
            "shift+Right",
            "ctrl+c",
        ],
    );
    for (state, keysym) in [
        ("state 0x1,", "ISO_Left_Tab)"),
        ("state 0x5,", "(keysym 0x54, T)"),
        ("state 0x1,", "Right)"),
        ("state 0x4,", "(keysym 0x63, c)"),
    ] {
        wait_until(
            &format!("{keysym} with {state} on the sharer's screen"),
            || {
                xev.text()
                    .lines()
                    .any(|line| line.contains(state) && line.contains(keysym))
            },
        );
    }

    // Copy and paste both ways while in control: what the helper copies reaches the sharer's
    // clipboard, what the sharer copies reaches the helper's; Ctrl+V is the sharer's key.
    let copy = |x: &Xvfb, text: &str| {
        let set = format!("printf %s '{text}' | xclip -selection clipboard >/dev/null 2>&1");
        x.run("sh", &["-c", &set]);
    };
    let pasted = |x: &Xvfb| {
        let out = std::process::Command::new("xclip")
            .args(["-selection", "clipboard", "-o"])
            .env("DISPLAY", &x.display)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    copy(&grace, "copied by Grace");
    wait_until("the helper's copy on the sharer's clipboard", || {
        pasted(&ada) == "copied by Grace"
    });
    copy(&ada, "copied by Ada");
    wait_until("the sharer's copy on the helper's clipboard", || {
        pasted(&grace) == "copied by Ada"
    });
    grace.run("xdotool", &["key", "ctrl+v"]);
    wait_until("Ctrl+V on the sharer's screen", || {
        xev.text()
            .lines()
            .any(|line| line.contains("state 0x4,") && line.contains("(keysym 0x76, v)"))
    });

    // Esc gives control back and is not sent; typing afterwards reaches nothing.
    grace.run("xdotool", &["key", "Escape"]);
    viewer.wait_for("ControlEnded(Helper)");
    said.wait_for("Control ended.");
    // Control over: nothing more is copied across (the session goes on).
    copy(&grace, "after control");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        pasted(&ada),
        "copied by Ada",
        "the clipboard passed without control"
    );
    grace.run("xdotool", &["type", "--delay", "20", "not sent"]);
    grace.run("xdotool", &["key", "Return"]);

    // Chat both ways: the message field is at the foot of the chat panel.
    click((895, 698));
    grace.run("xdotool", &["type", "--delay", "20", "Hello Ada"]);
    grace.run("xdotool", &["key", "Return"]);
    said.wait_for("helper: Hello Ada");
    viewer.wait_for("Ada: Hello Grace");
    screenshot(&grace, HELPER, "viewer-4-chat");

    // Disconnect ends the session on both sides.
    click((146, 12));
    assert!(agent.wait().unwrap().success(), "{}", said.text());
    said.wait_for("Session over: the helper disconnected.");
    viewer.wait_for("You disconnected.");
    screenshot(&grace, HELPER, "viewer-5-disconnected");
    let text = std::fs::read_to_string(&typed).unwrap();
    assert_eq!(
        text, "typed in the window\n",
        "input after Esc reached the sharer"
    );
    let log = audit_log(&scratch);
    assert!(log.contains("control ended"), "{log}");
}

/// The helper's form as a newcomer meets it: the `beckon:` code pasted (Ctrl+V, Shift+Insert,
/// a middle click), a wrong password turned away back to the form with the reason, Try again
/// connects in the same window; the name given is remembered for the next time. The sharer's
/// screen, larger than the window, starts fitted. This sharer keeps the clipboard to itself.
#[test]
fn the_helper_pastes_the_code_is_turned_away_tries_again_and_is_remembered() {
    use beckon_engine::invite::Invitation;
    let scratch = Scratch::new("viewer-form");
    let mut ada = Xvfb::start(1600, 1000);
    ada.start_window_manager();
    let args = ["--console", "--yes", "--sessions", "4", "--no-clipboard"];
    let (mut agent, said, file, _) = sharer(&mut ada, &scratch, "+10+20", &args, |line| {
        line.contains("would like to share control")
            .then_some("y\n")
    });
    let code = |file: &std::path::Path| {
        Invitation::from_toml(&std::fs::read_to_string(file).unwrap())
            .unwrap()
            .to_string_form()
    };
    let mut grace = Xvfb::start(HELPER.0, HELPER.1);
    grace.start_window_manager();
    let state = format!("XDG_STATE_HOME={}", scratch.path().join("grace").display());
    let viewer_path = binary("beckon-viewer");
    let viewer_path = viewer_path.to_str().unwrap();
    let copy = |x: &Xvfb, selection: &str, text: &str| {
        let set = format!("printf %s '{text}' | xclip -selection {selection} >/dev/null 2>&1");
        x.run("sh", &["-c", &set]);
    };
    let key = |x: &Xvfb, keys: &[&str]| {
        x.run("xdotool", &[&["key", "--delay", "80"][..], keys].concat());
    };
    let window = |x: &Xvfb| {
        let found = x.window("--name", "Beckon: helping");
        // The first frames are drawn and the invitation field has the focus.
        std::thread::sleep(Duration::from_millis(1500));
        found
    };

    // Ctrl+V pastes the code; a wrong password; the form again, with the reason.
    let first = grace.spawn_followed(
        std::path::Path::new("/usr/bin/env"),
        &[&state, viewer_path, "--name", "Grace"],
    );
    let shown = window(&grace);
    copy(&grace, "clipboard", &code(&file));
    key(&grace, &["ctrl+v"]);
    std::thread::sleep(Duration::from_millis(500));
    grace.run(
        "xdotool",
        &["type", "--delay", "20", "Not-The-Password-99!"],
    );
    key(&grace, &["Return"]);
    first.wait_for("rong password (4 attempts left)");
    std::thread::sleep(Duration::from_millis(800));
    screenshot(&grace, HELPER, "viewer-6-turned-away");
    // Try again, in the same window: the password field has the focus again, and Shift+Insert
    // pastes into it.
    copy(&grace, "clipboard", crate::share::PASSWORD);
    key(&grace, &["shift+Insert", "Return"]);
    first.wait_for("Viewing");
    said.wait_for("Grace is connecting");
    first.wait_for("larger than the window: shown fitted");
    // Disconnect, in the toolbar, then close the window.
    grace.run(
        "xdotool",
        &["mousemove", "--window", &shown, "146", "12", "click", "1"],
    );
    said.wait_for("Session over: the helper disconnected.");
    grace.run("xdotool", &["windowclose", &shown]);

    // The next time, no --name: the form has Grace's name. A middle click on the invitation
    // field pastes another code from the selection.
    let second = scratch.path().join("second.beckon");
    let address = Invitation::from_toml(&std::fs::read_to_string(&file).unwrap())
        .unwrap()
        .addresses[0]
        .to_string();
    crate::share::invite_at(&scratch.path().join("data"), &second, &address);
    let next = grace.spawn_followed(std::path::Path::new("/usr/bin/env"), &[&state, viewer_path]);
    let shown = window(&grace);
    copy(&grace, "primary", &code(&second));
    grace.run("xdotool", &["mousemove", "330", "87", "click", "2"]);
    std::thread::sleep(Duration::from_millis(500));
    grace.run(
        "xdotool",
        &["type", "--delay", "20", crate::share::PASSWORD],
    );
    key(&grace, &["Return"]);
    next.wait_for("Viewing");
    wait_until("Grace's name, remembered", || {
        said.text().matches("Grace is connecting").count() == 2
    });

    // --no-clipboard: with control, what the helper copies stays on the helper's side.
    grace.run(
        "xdotool",
        &["mousemove", "--window", &shown, "53", "12", "click", "1"],
    );
    next.wait_for("ControlGranted");
    copy(&grace, "clipboard", "kept by Grace");
    std::thread::sleep(Duration::from_millis(2000));
    let out = std::process::Command::new("xclip")
        .args(["-selection", "clipboard", "-o"])
        .env("DISPLAY", &ada.display)
        .output()
        .unwrap();
    assert_ne!(String::from_utf8_lossy(&out.stdout), "kept by Grace");
    let _ = agent.0.kill();
}

/// `make demo` on a fresh clone: its build line builds every program the demo starts (a
/// `sibling` it runs), and the demo itself.
#[test]
fn the_demo_build_line_builds_every_program_the_demo_runs() {
    let repo = crate::util::repo();
    let makefile = std::fs::read_to_string(repo.join("Makefile")).unwrap();
    let recipe = makefile
        .split("\ndemo:")
        .nth(1)
        .expect("a demo target in the Makefile");
    let build = recipe
        .lines()
        .find(|line| line.contains(" build "))
        .expect("a build line in the demo recipe");
    let built: Vec<&str> = build
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[0] == "--bin")
        .map(|w| w[1])
        .collect();
    let demo = std::fs::read_to_string(repo.join("benches/src/bin/demo.rs")).unwrap();
    let run: Vec<&str> = demo
        .split("sibling(\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .chain(["demo"])
        .collect();
    assert!(run.len() >= 3, "{run:?}");
    for program in run {
        assert!(
            built.contains(&program),
            "`make demo` runs {program} but its build line does not build it: {build}"
        );
    }
}

/// `make demo` without a display: the scripted session on two Xvfb displays runs through and
/// ends with the sharer's exact pixels in the helper's window.
#[test]
fn the_headless_demo_runs_the_whole_session_and_ends_exact() {
    let out = program("demo")
        .arg("--headless")
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in [
        "5. They chat.",
        "6. Grace disconnects.",
        "Exact pixels at the end: yes",
    ] {
        assert!(said.contains(step), "{said}");
    }
}
