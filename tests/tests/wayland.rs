//! The agent's Wayland capture and input against a real headless sway with foot, and the whole
//! flow (view, Take Control, the sharer's Esc) across processes on it.

use std::time::Duration;

use beckon_agent::platform::wayland::{WaylandInput, WaylandSource, monitors, offers};
use beckon_engine::InputEvent;
use beckon_engine::frame::Frame;
use beckon_engine::net::drive::InputSink;
use beckon_engine::pipeline::FrameSource;

use crate::util::{Lines, Scratch, Sway, keysym_of, program, read_screenshot, same_colours};
use crate::x11::wait_until;

const W: u32 = 480;
const H: u32 = 320;

/// The frame is `grabbed` (grim's picture), colour for colour.
fn same(frame: &Frame, (w, h, grabbed): &(u32, u32, Vec<u8>)) -> bool {
    frame.width() == *w && frame.height() == *h && same_colours(frame.data(), grabbed)
}

fn type_text(input: &mut WaylandInput, text: &str) {
    for keysym in text.chars().map(keysym_of) {
        for pressed in [true, false] {
            input.apply(InputEvent::Key { keysym, pressed });
        }
    }
}

fn xkeysym_return() -> u32 {
    keysym_of('\n')
}

fn xkeysym_escape() -> u32 {
    0xff1b
}

/// `beckon-agent share --wayland --console --yes --sessions 1` on `sway`, serving a fresh
/// invitation kept in `scratch`; `setup` adjusts its command, and `answer` may reply to each
/// line it writes, on its standard input. Returns the agent, its lines and the invitation.
fn console_sharer(
    sway: &Sway,
    scratch: &Scratch,
    setup: impl FnOnce(&mut std::process::Command),
    answer: impl FnMut(&str) -> Option<&'static str> + Send + 'static,
) -> (crate::share::Agent, Lines, std::path::PathBuf) {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = scratch.path().join("data");
    let file = scratch.path().join("invitation.beckon");
    crate::share::invite(&data, &file, port);
    let mut command = program("beckon-agent");
    command.env_remove("DISPLAY").envs(sway.env());
    setup(&mut command);
    command.arg("--data-dir").arg(&data);
    let (agent, console) =
        serve_on_console(command, &["--wayland", "--sessions", "1"], port, answer);
    (agent, console, file)
}

/// Runs `command` (`beckon-agent` with its data directory) as `share ARGS --console --yes` on
/// the loopback `port`, answering the lines it writes with `answer`'s replies on its standard
/// input; waits until it listens.
pub fn serve_on_console(
    mut command: std::process::Command,
    args: &[&str],
    port: u16,
    mut answer: impl FnMut(&str) -> Option<&'static str> + Send + 'static,
) -> (crate::share::Agent, Lines) {
    use std::io::Write;
    use std::process::Stdio;

    let mut agent = command
        .arg("share")
        .args(args)
        .args(["--console", "--yes", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut answers = agent.stdin.take().unwrap();
    let console = Lines::follow(agent.stderr.take().unwrap(), move |line| {
        if let Some(reply) = answer(line) {
            let _ = answers.write_all(reply.as_bytes());
        }
    });
    console.wait_for("Waiting for helpers");
    (crate::share::Agent(agent), console)
}

/// Capture on sway matches grim's picture; an idle screen reports no damage; the virtual
/// keyboard types into foot, symbols the sharer's layout lacks included; after typing the
/// damage alone keeps the frame exact; the pointer shows where it is.
#[test]
fn sway_is_captured_exactly_follows_damage_and_takes_typing() {
    let sway = Sway::start(W, H);
    let display = sway.socket.display().to_string();
    let typed = sway.file("typed.txt").unwrap();
    sway.foot(&format!("cat > {}", typed.display()));

    let offered = offers(Some(&display)).unwrap();
    assert!(
        offered.screencopy && offered.pointer && offered.keyboard,
        "{offered:?}"
    );
    let mut source = WaylandSource::connect(Some(&display), None).unwrap();
    let mut frame = Frame::filled(1, 1, [0; 4]);
    wait_until("the first frame, exactly grim's", || {
        source.next_frame(&mut frame).unwrap();
        same(&frame, &sway.grab(None))
    });
    wait_until("a still screen with no damage", || {
        source.next_frame(&mut frame).unwrap();
        source.damage().is_some_and(<[_]>::is_empty)
    });

    let mut input = WaylandInput::connect(Some(&display), None).unwrap();
    input.apply(InputEvent::PointerMove { x: 100, y: 60 });
    type_text(&mut input, "Hello, Grace! ñ€\n");
    wait_until("the typed line in foot's file", || {
        std::fs::read_to_string(&typed).is_ok_and(|t| t == "Hello, Grace! ñ€\n")
    });
    let mut damaged = false;
    wait_until("the frame exact after typing, through damage alone", || {
        source.next_frame(&mut frame).unwrap();
        damaged |= source.damage().is_some_and(|d| !d.is_empty());
        damaged && same(&frame, &sway.grab(None))
    });

    // The pointer is in the pictures (wlroots says nowhere else where it is): the helper sees
    // it where the sharer moved it, and not where it was.
    let spot = |frame: &Frame, x: u32, y: u32| -> Vec<u8> {
        (y..y + 12)
            .flat_map(|row| {
                let at = row as usize * frame.stride() + x as usize * 4;
                frame.data()[at..at + 12 * 4].to_vec()
            })
            .collect()
    };
    input.apply(InputEvent::PointerMove { x: 50, y: 250 });
    wait_until("the pointer on the left", || {
        source.next_frame(&mut frame).unwrap();
        same(&frame, &sway.grab(None))
    });
    let empty = spot(&frame, 400, 250);
    input.apply(InputEvent::PointerMove { x: 400, y: 250 });
    wait_until("the pointer on the right, in the picture", || {
        source.next_frame(&mut frame).unwrap();
        spot(&frame, 400, 250) != empty
    });
    let drawn = spot(&frame, 400, 250);
    input.apply(InputEvent::PointerMove { x: 50, y: 250 });
    wait_until("the pointer gone from the right", || {
        source.next_frame(&mut frame).unwrap();
        spot(&frame, 400, 250) == empty
    });
    assert_ne!(drawn, empty);
}

/// Two outputs: each is listed with its place, one is shared alone (its own pixels, grim's of
/// that output), and all of them side by side, a third plugged in meanwhile included; an
/// output that is not there is refused.
#[test]
fn one_output_or_all_of_them_is_shared() {
    let sway = Sway::start(W, H);
    let display = sway.socket.display().to_string();
    sway.msg(&["create_output"]);
    sway.msg(&[
        "output",
        "HEADLESS-2",
        "resolution",
        "320x240",
        "position",
        "480",
        "0",
    ]);
    sway.msg(&["output", "HEADLESS-2", "bg", "#993366", "solid_color"]);
    let typed = sway.file("typed.txt").unwrap();
    sway.msg(&["focus", "output", "HEADLESS-2"]);
    sway.foot(&format!("cat > {}", typed.display()));

    let listed = monitors(Some(&display)).unwrap();
    let names: Vec<String> = listed.iter().map(ToString::to_string).collect();
    assert!(
        names.contains(&"HEADLESS-1 480x320+0+0".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"HEADLESS-2 320x240+480+0".to_string()),
        "{names:?}"
    );
    let refused = WaylandSource::connect(Some(&display), Some("nowhere")).unwrap_err();
    assert!(refused.to_string().contains("HEADLESS-2"), "{refused}");

    let mut one = WaylandSource::connect(Some(&display), Some("HEADLESS-2")).unwrap();
    let mut frame = Frame::filled(1, 1, [0; 4]);
    wait_until("the second output alone, exactly grim's", || {
        one.next_frame(&mut frame).unwrap();
        same(&frame, &sway.grab(Some("HEADLESS-2")))
    });

    let mut all = WaylandSource::connect(Some(&display), None).unwrap();
    let mut whole = Frame::filled(1, 1, [0; 4]);
    wait_until("both outputs side by side, exactly grim's", || {
        all.next_frame(&mut whole).unwrap();
        same(&whole, &sway.grab(None))
    });
    assert_eq!((whole.width(), whole.height()), (800, 320));
    // An output plugged in while sharing joins the picture.
    sway.msg(&["create_output"]);
    sway.msg(&[
        "output",
        "HEADLESS-3",
        "resolution",
        "320x200",
        "position",
        "800",
        "0",
    ]);
    wait_until("three outputs side by side, exactly grim's", || {
        all.next_frame(&mut whole).unwrap();
        whole.width() == 1120 && same(&whole, &sway.grab(None))
    });

    // The helper's pointer and keys land on the shared output: a click there focuses foot.
    sway.msg(&["focus", "output", "HEADLESS-1"]);
    let mut input = WaylandInput::connect(Some(&display), Some("HEADLESS-2")).unwrap();
    input.apply(InputEvent::PointerMove { x: 100, y: 100 });
    for pressed in [true, false] {
        input.apply(InputEvent::Button { button: 1, pressed });
    }
    type_text(&mut input, "second\n");
    wait_until("the line typed on the second output", || {
        std::fs::read_to_string(&typed).is_ok_and(|t| t == "second\n")
    });
}

/// The whole flow on sway across processes: `beckon-agent share --wayland` and `beckon-viewer
/// open --type`; the helper's text, with a literal Esc, lands in foot; the sharer's own Esc
/// (wtype, a keyboard of their desktop) ends control, and what the helper types after is not
/// applied; what the helper saw at the end is the sharer's screen, exactly.
#[test]
fn a_helper_takes_control_on_sway_and_the_sharers_esc_ends_it() {
    let scratch = Scratch::new("wayland-control");
    let mut sway = Sway::start(W, H);
    let typed = sway.file("typed.txt").unwrap();
    sway.foot(&format!("cat > {}", typed.display()));
    let (mut agent, console, file) = console_sharer(
        &sway,
        &scratch,
        |_| {},
        |line| {
            line.contains("would like to share control")
                .then_some("y\n")
        },
    );

    let shot = scratch.path().join("seen.png");
    let viewer = crate::util::spawn_with_stdin(
        program("beckon-viewer")
            .args([
                "open",
                "--name",
                "Grace",
                "--password-stdin",
                "--seconds",
                "12",
                "--wait-exact",
            ])
            .args(["--at", "100,60", "--type", "Hello \\efrom Grace\n"])
            .args(["--type", "second\n", "--pause", "4", "--screenshot"])
            .arg(&shot)
            .arg(&file),
        &format!("{}\n", crate::share::PASSWORD),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    // The helper's literal Esc reaches foot and does not end control.
    while !std::fs::read_to_string(&typed).is_ok_and(|t| t == "Hello \u{1b}from Grace\n") {
        assert!(
            std::time::Instant::now() < deadline,
            "the helper's line is not in foot: {:?}; the sharer's console: {}",
            std::fs::read_to_string(&typed),
            console.text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    sway.press(xkeysym_escape());
    let out = viewer.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("You have control."), "{said}");
    assert!(said.contains("Control ended."), "{said}");
    // Exact pixels: what the helper saw last is grim's picture of the still screen,
    // taken before the sharer types again.
    let seen = read_screenshot(&shot);
    assert!(
        seen.0 == W && seen.1 == H && same_colours(&seen.2, &sway.grab(None).2),
        "the helper's last picture differs from the sharer's screen"
    );
    std::thread::sleep(Duration::from_millis(300));
    let text = std::fs::read_to_string(&typed).unwrap();
    assert!(!text.contains("second"), "{text:?}");
    assert!(agent.wait().unwrap().success());
    // Esc is the sharer's programs' again once control has ended: it reaches foot.
    sway.press(xkeysym_escape());
    sway.press(xkeysym_return());
    wait_until("the sharer's Esc in foot", || {
        std::fs::read_to_string(&typed).is_ok_and(|t| t.ends_with("\u{1b}\n"))
    });
    let console = console.text();
    assert!(
        console.contains("Grace would like to share control"),
        "{console}"
    );
}

/// `doctor` on sway says the screen can be copied, a helper can type, Esc ends control, and
/// lists the outputs; `share` on sway without `--wayland` says what the helper would miss.
#[test]
fn the_doctor_reports_what_sway_offers() {
    let sway = Sway::start(W, H);
    let out = program("beckon-agent")
        .env_remove("DISPLAY")
        .envs(sway.env())
        .args(["doctor", "--no-netns", "--json", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let said = |needle: &str| {
        findings
            .iter()
            .find(|f| f["what"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no word on {needle}: {report}"))["kind"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(said("wlr-screencopy"), "ok");
    assert_eq!(said("virtual pointer and keyboard"), "ok");
    assert_eq!(said("Esc ends the helper's control"), "ok");
    assert_eq!(said("1 (HEADLESS-1 480x320+0+0)"), "note");

    // Without sway's socket, Esc cannot be bound: the sharer is told to use the window.
    let out = program("beckon-agent")
        .env_remove("DISPLAY")
        .envs(sway.env())
        .env_remove("SWAYSOCK")
        .args(["doctor", "--no-netns", "--json", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("Stop control"), "{report}");
}

/// On the console, `monitor NAME` switches what a watching helper sees to one output of two:
/// they are told, and their last picture is that output's, exactly.
#[test]
fn the_sharer_shows_one_output_from_the_console_and_the_helper_is_told() {
    let scratch = Scratch::new("wayland-monitor");
    let sway = Sway::start(W, H);
    sway.msg(&["create_output"]);
    sway.msg(&[
        "output",
        "HEADLESS-2",
        "resolution",
        "320x240",
        "position",
        "480",
        "0",
    ]);
    sway.msg(&["output", "HEADLESS-2", "bg", "#993366", "solid_color"]);
    let (mut agent, console, file) = console_sharer(
        &sway,
        &scratch,
        |_| {},
        |line| {
            line.starts_with("The helper sees your screen")
                .then_some("monitor HEADLESS-2\n")
        },
    );
    let shot = scratch.path().join("seen.png");
    let mut viewer = crate::util::spawn_with_stdin(
        program("beckon-viewer")
            .args([
                "open",
                "--name",
                "Grace",
                "--password-stdin",
                "--seconds",
                "6",
                "--wait-exact",
            ])
            .arg("--screenshot")
            .arg(&shot)
            .arg(&file),
        &format!("{}\n", crate::share::PASSWORD),
    );
    let helper = Lines::follow(viewer.stderr.take().unwrap(), |_| {});
    helper.wait_for("now shows you one monitor: HEADLESS-2 320x240+480+0.");
    console.wait_for("Your helper now sees one monitor: HEADLESS-2 320x240+480+0.");
    assert!(viewer.wait().unwrap().success(), "{}", helper.text());
    assert!(agent.wait().unwrap().success());

    let seen = read_screenshot(&shot);
    let real = sway.grab(Some("HEADLESS-2"));
    assert!(
        (seen.0, seen.1) == (real.0, real.1) && same_colours(&seen.2, &real.2),
        "the helper's last picture is not the second output's"
    );
}

/// Scaled outputs (HiDPI, scale 2): the picture is in pixels, each output placed where the
/// compositor puts it scaled alike, exactly grim's; the helper's pointer lands where they
/// point in that picture.
#[test]
fn scaled_outputs_are_shared_in_pixels_and_the_pointer_lands_where_pointed() {
    let sway = Sway::start(W, H);
    let display = sway.socket.display().to_string();
    sway.msg(&["output", "HEADLESS-1", "scale", "2"]);
    sway.msg(&["create_output"]);
    sway.msg(&[
        "output",
        "HEADLESS-2",
        "resolution",
        "320x240",
        "scale",
        "2",
        "position",
        "240",
        "0",
    ]);
    let mut all = WaylandSource::connect(Some(&display), None).unwrap();
    let mut frame = Frame::filled(1, 1, [0; 4]);
    wait_until("both scaled outputs, exactly grim's", || {
        all.next_frame(&mut frame).unwrap();
        frame.width() == W + 320 && same(&frame, &sway.grab(None))
    });

    let spot = |frame: &Frame, x: u32, y: u32| -> Vec<u8> {
        (y..y + 10)
            .flat_map(|row| {
                let at = row as usize * frame.stride() + x as usize * 4;
                frame.data()[at..at + 10 * 4].to_vec()
            })
            .collect()
    };
    let mut input = WaylandInput::connect(Some(&display), None).unwrap();
    input.apply(InputEvent::PointerMove { x: 100, y: 100 });
    wait_until("the pointer on the first output", || {
        all.next_frame(&mut frame).unwrap();
        same(&frame, &sway.grab(None))
    });
    let empty = spot(&frame, 600, 100);
    input.apply(InputEvent::PointerMove { x: 600, y: 100 });
    wait_until(
        "the pointer where the helper pointed on the second output",
        || {
            all.next_frame(&mut frame).unwrap();
            spot(&frame, 600, 100) != empty && same(&frame, &sway.grab(None))
        },
    );
}

/// On a Wayland compositor whose Esc Beckon cannot bind (no sway socket), the sharer is told
/// how to end control, and `beckon-agent stop-control` (what a key binding of their desktop
/// runs) ends it at once: what the helper types afterwards is not applied.
#[test]
fn stop_control_ends_control_where_esc_cannot() {
    let scratch = Scratch::new("wayland-stop");
    let runtime = scratch.path().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    let sway = Sway::start(W, H);
    let typed = sway.file("typed.txt").unwrap();
    sway.foot(&format!("cat > {}", typed.display()));
    let stop = || {
        program("beckon-agent")
            .env("XDG_RUNTIME_DIR", &runtime)
            .arg("stop-control")
            .output()
            .unwrap()
    };
    let out = stop();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("Beckon is not sharing your screen now"),
        "{said}"
    );

    let (mut agent, console, file) = console_sharer(
        &sway,
        &scratch,
        |command| {
            command
                .env_remove("SWAYSOCK")
                .env("XDG_RUNTIME_DIR", &runtime);
        },
        |line| {
            line.contains("would like to share control")
                .then_some("y\n")
        },
    );
    assert!(
        console.text().contains("beckon-agent stop-control"),
        "{}",
        console.text()
    );
    let out = stop();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("does not have control"));

    let viewer = crate::util::spawn_with_stdin(
        program("beckon-viewer")
            .args([
                "open",
                "--name",
                "Grace",
                "--password-stdin",
                "--seconds",
                "10",
            ])
            .args(["--at", "100,60", "--type", "first\n", "--type", "second\n"])
            .args(["--pause", "4"])
            .arg(&file),
        &format!("{}\n", crate::share::PASSWORD),
    );
    wait_until("the helper's first line in foot", || {
        std::fs::read_to_string(&typed).is_ok_and(|t| t == "first\n")
    });
    let out = stop();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("control has ended"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = viewer.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("Control ended."), "{said}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(std::fs::read_to_string(&typed).unwrap(), "first\n");
    assert!(agent.wait().unwrap().success());
    // The socket goes with the agent.
    assert!(!runtime.join("beckon-agent.sock").exists());
}

/// The sharer's window on a Wayland desktop without XWayland (this sway has none): it opens as
/// a Wayland window, takes the sharer's clicks and typing, makes an invitation saved as a file,
/// and serves it.
#[test]
fn the_sharers_window_runs_on_wayland_without_xwayland() {
    let scratch = Scratch::new("wayland-window");
    let mut sway = Sway::start(720, 820);
    let home = scratch.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut agent = program("beckon-agent")
        .env_remove("DISPLAY")
        .envs(sway.env())
        .env("RUST_LOG", "info,beckon_agent::layout=trace")
        .env("HOME", &home)
        .env("XDG_RUNTIME_DIR", scratch.path())
        .arg("--data-dir")
        .arg(scratch.path().join("data"))
        .args(["window", "--listen", &format!("127.0.0.1:{port}")])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let said = Lines::follow(agent.stderr.take().unwrap(), |_| {});
    let agent = crate::share::Agent(agent);
    let click = |sway: &mut Sway, widget: &str| {
        let (x, y) = crate::sharer_window::at(&said, widget);
        sway.click(x, y);
        // egui takes the click on its next frame.
        std::thread::sleep(Duration::from_millis(400));
    };
    // The window's layout settles over its first frames.
    crate::sharer_window::at(&said, "create");
    std::thread::sleep(Duration::from_millis(1500));
    let password = crate::share::PASSWORD;
    for (field, text) in [("from", "Ada"), ("password", password), ("again", password)] {
        click(&mut sway, field);
        sway.type_text(text);
        // Typed into this field before the next click moves the focus.
        std::thread::sleep(Duration::from_millis(400));
    }
    click(&mut sway, "how-file");
    click(&mut sway, "create");
    said.wait_for("Saved to ");
    said.wait_for(&format!("Waiting for helpers on UDP 127.0.0.1:{port}"));
    std::thread::sleep(Duration::from_millis(500));
    let shot = crate::util::repo().join("target/test-artifacts/wayland-sharer-window.png");
    let _ = std::fs::create_dir_all(shot.parent().unwrap());
    let _ = sway.command("grim").arg(&shot).status();
    let saved = std::fs::read_dir(&home)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "beckon"));
    assert!(saved.is_some(), "{}", said.text());
    drop(agent);
}
