//! The agent's X11 capture and input against a real Xvfb with real applications.

use std::time::{Duration, Instant};

use beckon_agent::platform::x11::{X11Input, X11Source};
use beckon_engine::InputEvent;
use beckon_engine::frame::{Frame, Rect};
use beckon_engine::net::drive::InputSink;
use beckon_engine::pipeline::FrameSource;

use crate::util::{Lines, Scratch, Xvfb, program};

const W: u32 = 480;
const H: u32 = 320;

/// The screen as ffmpeg's x11grab sees it: an independent capture to compare with.
fn grab(x: &Xvfb) -> Vec<u8> {
    grab_sized(x, (W, H))
}

/// The `width` x `height` screen of `x` as BGRA, through ffmpeg's x11grab.
pub fn grab_sized(x: &Xvfb, size: (u32, u32)) -> Vec<u8> {
    beckon_benches::desktop::grab(&x.display, size, None).unwrap()
}

/// Colour bytes equal, alpha aside.
fn same_picture(frame: &Frame, grabbed: &[u8]) -> bool {
    frame.data().len() == grabbed.len()
        && frame
            .data()
            .chunks_exact(4)
            .zip(grabbed.chunks_exact(4))
            .all(|(a, b)| a[..3] == b[..3])
}

pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    // Generous: CI runs these beside the codec tests on two cores.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn key(input: &mut X11Input, keysym: u32) {
    input.apply(InputEvent::Key {
        keysym,
        pressed: true,
    });
    input.apply(InputEvent::Key {
        keysym,
        pressed: false,
    });
}

#[test]
fn capture_matches_the_server_follows_damage_and_idles_without_requests_and_input_types() {
    let scratch = Scratch::new("x11");
    let mut x = Xvfb::start(W, H);
    x.run("xsetroot", &["-solid", "#336699"]);
    let typed = scratch.path().join("typed.txt");
    let typed_arg = format!("cat > {}", typed.display());
    x.spawn(
        "xterm",
        &["-geometry", "40x8+10+20", "-e", "sh", "-c", &typed_arg],
    );
    let mut source = X11Source::connect(Some(&x.display)).unwrap();
    assert!(source.uses_shm(), "a local Xvfb should share memory");
    let mut frame = Frame::filled(1, 1, [0; 4]);
    // Wait for the xterm to be drawn.
    wait_until("the xterm", || {
        source.next_frame(&mut frame).unwrap();
        frame.as_ref().pixel(30, 40) != [0x99, 0x66, 0x33, 255]
    });
    std::thread::sleep(Duration::from_millis(500));
    source.next_frame(&mut frame).unwrap();
    assert_eq!((frame.width(), frame.height()), (W, H));
    assert!(
        same_picture(&frame, &grab(&x)),
        "the capture differs from x11grab's"
    );

    // The GetImage fallback (a remote server's path) sees the same picture.
    let mut plain = X11Source::connect_with(Some(&x.display), false).unwrap();
    assert!(!plain.uses_shm());
    let mut plain_frame = Frame::filled(1, 1, [0; 4]);
    plain.next_frame(&mut plain_frame).unwrap();
    assert_eq!(plain_frame, frame, "GetImage and MIT-SHM disagree");

    // An idle screen: frames cost no image request.
    let before = source.requests();
    for _ in 0..5 {
        source.next_frame(&mut frame).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(source.requests(), before, "an idle screen was fetched");
    assert_eq!(
        source.damage(),
        Some(&[][..]),
        "an idle frame reports damage"
    );

    // Another client draws one pixel on the root window: damage brings exactly that change.
    let shown = frame.clone();
    draw_point(&x.display, 300, 250);
    wait_until("the drawn pixel", || {
        source.next_frame(&mut frame).unwrap();
        frame != shown
    });
    let changed: Vec<(u32, u32)> = (0..H)
        .flat_map(|y| (0..W).map(move |x| (x, y)))
        .filter(|&(x, y)| frame.as_ref().pixel(x, y) != shown.as_ref().pixel(x, y))
        .collect();
    assert_eq!(changed, [(300, 250)]);
    // The encoder is told where to look, and the pixel is inside.
    let damage = source
        .damage()
        .expect("damage-driven frames report their areas");
    assert!(
        damage
            .iter()
            .any(|r| r.intersection(&Rect::new(300, 250, 1, 1)).is_some()),
        "{damage:?}"
    );
    assert_eq!(frame.as_ref().pixel(300, 250), [0, 0, 0xff, 255]);
    let before = source.requests();

    // Typing through XTEST: lower case, Shift for upper case and '!', then Return.
    let mut input = X11Input::connect(Some(&x.display)).unwrap();
    input.apply(InputEvent::PointerMove { x: 100, y: 60 });
    for c in "Hi there!".chars() {
        key(&mut input, c as u32);
    }
    key(&mut input, 0xff0d);
    wait_until("the typed line", || {
        std::fs::read_to_string(&typed).is_ok_and(|t| t == "Hi there!\n")
    });
    let location = String::from_utf8(x.run("xdotool", &["getmouselocation"])).unwrap();
    assert!(location.starts_with("x:100 y:60 "), "{location}");

    // The echo on screen is damage: fetched, and the picture matches the server's again.
    std::thread::sleep(Duration::from_millis(300));
    let shown = frame.clone();
    source.next_frame(&mut frame).unwrap();
    assert!(source.requests() > before, "the typed text was not fetched");
    assert_ne!(frame, shown);
    assert!(
        same_picture(&frame, &grab(&x)),
        "the capture differs from x11grab's"
    );

    // The pointer travels as shape and position (XFixes), not in the pixels. Over the xterm
    // after typing it is xterm's hidden pointer; over the root window, X's visible one.
    let pointer = source.pointer().expect("no pointer");
    assert_eq!((pointer.x, pointer.y, pointer.visible), (100, 60, true));
    assert!(pointer.shape.is_some(), "the first report has the picture");
    assert_eq!(
        source.pointer().unwrap().shape,
        None,
        "an unchanged picture was sent again"
    );
    x.run("xdotool", &["mousemove", "300", "200"]);
    let mut pointer = source.pointer().unwrap();
    wait_until("the root window's pointer", || {
        source.next_frame(&mut frame).unwrap();
        pointer = source.pointer().unwrap();
        pointer.shape.is_some()
    });
    assert_eq!((pointer.x, pointer.y), (300, 200));
    let shape = pointer.shape.unwrap();
    assert_eq!(
        shape.bgra.len(),
        usize::from(shape.width) * usize::from(shape.height) * 4
    );
    assert!(
        shape.bgra.chunks_exact(4).any(|p| p[3] == 255),
        "an invisible pointer over the root window: {}x{}",
        shape.width,
        shape.height
    );
}

/// Draws one red pixel on the root window of `display`, as any X client can.
fn draw_point(display: &str, x: i16, y: i16) {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ConnectionExt, CreateGCAux, Point};

    let (conn, screen) = x11rb::connect(Some(display)).unwrap();
    let root = conn.setup().roots[screen].root;
    let gc = conn.generate_id().unwrap();
    conn.create_gc(
        gc,
        root,
        &CreateGCAux::new()
            .foreground(0xff0000)
            .subwindow_mode(x11rb::protocol::xproto::SubwindowMode::INCLUDE_INFERIORS),
    )
    .unwrap();
    conn.poly_point(
        x11rb::protocol::xproto::CoordMode::ORIGIN,
        root,
        gc,
        &[Point { x, y }],
    )
    .unwrap();
    x11rb::wrapper::ConnectionExt::sync(&conn).unwrap();
}

use crate::share::PASSWORD;

/// A sharer on the Xvfb: an xterm at `xterm_at` writing what is typed into `typed.txt`, an
/// invitation, and `beckon-agent share --x11 --sessions 1 ARGS` (ARGS may give --sessions); `answer` may reply to each
/// line the agent writes, on its standard input. Returns the agent, its lines, the invitation
/// and the xterm's file.
pub fn sharer(
    x: &mut Xvfb,
    scratch: &Scratch,
    xterm_at: &str,
    args: &[&str],
    mut answer: impl FnMut(&str) -> Option<&'static str> + Send + 'static,
) -> (
    crate::share::Agent,
    Lines,
    std::path::PathBuf,
    std::path::PathBuf,
) {
    use std::io::Write;
    use std::process::Stdio;

    let typed = scratch.path().join("typed.txt");
    let typed_arg = format!("cat > {}", typed.display());
    x.spawn(
        "xterm",
        &[
            "-geometry",
            &format!("40x8{xterm_at}"),
            "-e",
            "sh",
            "-c",
            &typed_arg,
        ],
    );
    // Until the xterm shows (a window manager may still be starting).
    x.window("--class", "xterm");
    std::thread::sleep(Duration::from_millis(300));
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = scratch.path().join("data");
    let file = scratch.path().join("invitation.beckon");
    crate::share::invite(&data, &file, port);

    let mut agent = program("beckon-agent")
        .arg("--data-dir")
        .arg(&data)
        .args(["share", "--x11", "--display", &x.display])
        .args(if args.contains(&"--sessions") {
            &[][..]
        } else {
            &["--sessions", "1"]
        })
        .args(args)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut answers = agent.stdin.take().unwrap();
    let lines = Lines::follow(agent.stderr.take().unwrap(), move |line| {
        if let Some(reply) = answer(line) {
            let _ = answers.write_all(reply.as_bytes());
        }
    });
    lines.wait_for("Waiting for helpers");
    (crate::share::Agent(agent), lines, file, typed)
}

/// The console sharer of the control tests: it allows connections by `--yes`, greets the
/// helper in the chat, says Yes to control and, every 4 s, to "Continue sharing?".
fn console_sharer(
    x: &mut Xvfb,
    scratch: &Scratch,
) -> (
    crate::share::Agent,
    Lines,
    std::path::PathBuf,
    std::path::PathBuf,
) {
    let args = ["--console", "--yes", "--continue-every", "4"];
    sharer(x, scratch, "+10+20", &args, |line| {
        if line.contains("would like to share control") || line.contains("Continue sharing") {
            Some("y\n")
        } else if line.starts_with("The helper sees your screen") {
            Some("Hello Grace\n")
        } else {
            None
        }
    })
}

/// Starts `beckon-viewer open` on `file` with `args`.
fn helper(file: &std::path::Path, args: &[&str]) -> std::process::Child {
    crate::util::spawn_with_stdin(
        program("beckon-viewer")
            .args(["open", "--name", "Grace", "--password-stdin"])
            .args(args)
            .arg(file),
        &format!("{PASSWORD}\n"),
    )
}

/// Take Control end to end: `beckon-agent share --x11` on the Xvfb, `beckon-viewer open --type`
/// as the helper; the sharer allows control on the console; the helper's text lands in the xterm.
#[test]
fn a_helper_with_control_types_into_the_sharers_xterm() {
    let scratch = Scratch::new("x11-control");
    let mut x = Xvfb::start(W, H);
    let (mut agent, console, file, typed) = console_sharer(&mut x, &scratch);
    let viewer = helper(
        &file,
        &[
            "--seconds",
            "8",
            "--type",
            "Hello \\efrom Grace\n",
            "--at",
            "100,60",
            "--say",
            "Hello Ada",
        ],
    );
    let out = viewer.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("You have control."), "{said}");
    // Chat both ways, and the sharer's pointer as shape and position where the helper put it.
    assert!(said.contains("sharer: Hello Grace"), "{said}");
    assert!(said.contains("The sharer's pointer ("), "{said}");
    assert!(said.contains("was last at 100,60."), "{said}");
    wait_until("the helper's line in the xterm", || {
        // The helper's literal Esc (\e) is typed like any key, and does not end control.
        std::fs::read_to_string(&typed).is_ok_and(|t| t == "Hello \u{1b}from Grace\n")
    });
    assert!(agent.wait().unwrap().success());
    let console = console.text();
    assert!(
        console.contains("Grace would like to share control"),
        "{console}"
    );
    assert!(console.contains("helper: Hello Ada"), "{console}");
    // Asked after 4 s and answered Yes: the session went on to the helper's 8 s.
    assert!(
        console.contains("Continue sharing your screen with Grace?"),
        "{console}"
    );
    assert!(
        console.contains("Session over: the helper disconnected."),
        "{console}"
    );
    let log = audit_log(&scratch);
    assert!(log.contains("sharing continued"), "{log}");
}

/// The agent's audit log of the sharer in `scratch`.
pub fn audit_log(scratch: &Scratch) -> String {
    let out = program("beckon-agent")
        .arg("--data-dir")
        .arg(scratch.path().join("data"))
        .arg("log")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// The sharer presses Esc on their own keyboard (xdotool on their display) while the helper has
/// control: control ends at once, and what the helper types afterwards is not applied.
#[test]
fn the_sharers_esc_ends_control_and_later_input_is_not_applied() {
    let scratch = Scratch::new("x11-esc");
    let mut x = Xvfb::start(W, H);
    let (mut agent, _console, file, typed) = console_sharer(&mut x, &scratch);
    let viewer = helper(
        &file,
        &[
            "--seconds",
            "10",
            "--at",
            "100,60",
            "--type",
            "first\n",
            "--type",
            "second\n",
            "--pause",
            "4",
        ],
    );
    wait_until("the first line", || {
        std::fs::read_to_string(&typed).is_ok_and(|t| t == "first\n")
    });
    x.run("xdotool", &["key", "Escape"]);
    let out = viewer.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("Control ended."), "{said}");
    // Enter, typed by the sharer now, ends the line in the xterm: the helper's "second" is not in
    // it.
    x.run("xdotool", &["key", "Return"]);
    std::thread::sleep(Duration::from_millis(500));
    let text = std::fs::read_to_string(&typed).unwrap();
    assert!(
        text.starts_with("first\n") && !text.contains("second"),
        "{text:?}"
    );
    assert!(agent.wait().unwrap().success());
}

/// Saves the screen of `x` (`width` x `height`) as `target/test-artifacts/NAME.png`.
pub fn screenshot(x: &Xvfb, size: (u32, u32), name: &str) {
    let dir = crate::util::repo().join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    beckon_benches::desktop::grab(&x.display, size, Some(&dir.join(format!("{name}.png"))))
        .unwrap();
}

/// The sharer's window on a desktop with a window manager: the test clicks Yes to the
/// connection and to control with xdotool, chats from the window, and leaves "Continue
/// sharing?" unanswered, which disconnects the helper. Screenshots of each step go to
/// `target/test-artifacts/sharer-window-*.png`.
#[test]
fn the_sharers_window_asks_allows_control_chats_and_disconnects_when_unanswered() {
    use beckon_agent::window::TITLE;

    const SCREEN: (u32, u32) = (800, 600);
    let scratch = Scratch::new("x11-window");
    let mut x = Xvfb::start(SCREEN.0, SCREEN.1);
    x.start_window_manager();
    let args = ["--continue-every", "14", "--continue-timeout", "3"];
    let (mut agent, lines, file, typed) = sharer(&mut x, &scratch, "+500+300", &args, |_| None);
    let window = x.window("--name", TITLE);
    // Clicks at a spot of the sharer's window (its own coordinates).
    let click = |x: &Xvfb, at: (u32, u32)| {
        let (cx, cy) = (at.0.to_string(), at.1.to_string());
        x.run(
            "xdotool",
            &["mousemove", "--window", &window, &cx, &cy, "click", "1"],
        );
    };
    const YES: (u32, u32) = (60, 115);
    const MESSAGE_FIELD: (u32, u32) = (150, 385);

    let viewer = helper(
        &file,
        &[
            "--seconds",
            "40",
            "--say",
            "Hello Ada",
            "--at",
            "600,350",
            "--type",
            "",
            "--type",
            "typed by Grace\n",
            "--pause",
            "1",
        ],
    );
    let mut viewer = viewer;
    let said = Lines::follow(viewer.stderr.take().unwrap(), |_| {});

    lines.wait_for("Grace wants to connect to your computer.");
    std::thread::sleep(Duration::from_millis(300));
    screenshot(&x, SCREEN, "sharer-window-1-connect");
    click(&x, YES);
    lines.wait_for("helper: Hello Ada");
    lines.wait_for("Grace would like to share control of your computer.");
    // The sharer answers the chat before allowing control.
    click(&x, MESSAGE_FIELD);
    x.run("xdotool", &["type", "--delay", "30", "Hi Grace"]);
    x.run("xdotool", &["key", "Return"]);
    said.wait_for("sharer: Hi Grace");
    screenshot(&x, SCREEN, "sharer-window-2-control");
    click(&x, YES);
    said.wait_for("You have control.");
    wait_until("the helper's line in the xterm", || {
        std::fs::read_to_string(&typed).is_ok_and(|t| t == "typed by Grace\n")
    });
    screenshot(&x, SCREEN, "sharer-window-3-controlled");

    // "Continue sharing?" left unanswered: the helper is disconnected.
    lines.wait_for("Continue sharing your screen with Grace?");
    screenshot(&x, SCREEN, "sharer-window-4-continue");
    assert!(viewer.wait().unwrap().success(), "{}", said.text());
    said.wait_for("Disconnected by the sharer.");
    assert!(agent.wait().unwrap().success(), "{}", lines.text());
    let log = audit_log(&scratch);
    assert!(log.contains("Continue sharing? unanswered"), "{log}");
    assert!(log.contains("consent given"), "{log}");
    assert!(log.contains("control granted"), "{log}");
}

/// One monitor of several: a screen split into two monitors (Xorg's dummy driver keeps the
/// monitors `xrandr --setmonitor` defines), the right one shared. Its pixels are exactly the
/// right half of the screen's, before and after an application draws; the pointer is placed
/// and hidden as it leaves the monitor; the helper's pointer lands on it; a monitor that is not
/// there is refused with the list of those that are.
#[test]
fn one_monitor_is_shared_with_its_pixels_pointer_and_input() {
    use beckon_agent::platform::x11::{choose_monitor, monitors};
    const SCREEN: (u32, u32) = (640, 240);
    let scratch = Scratch::new("x11-monitors");
    let mut x = Xvfb::start_xorg(SCREEN.0, SCREEN.1, scratch.path());
    for (name, at) in [("left", "+0+0"), ("right", "+320+0")] {
        x.run(
            "xrandr",
            &["--setmonitor", name, &format!("320/85x240/64{at}"), "none"],
        );
    }
    let listed = monitors(Some(&x.display)).unwrap();
    let right = choose_monitor(&listed, "right").unwrap();
    assert_eq!(
        (right.x, right.y, right.width, right.height),
        (320, 0, 320, 240)
    );
    assert_eq!(choose_monitor(&listed, "RIGHT").unwrap(), right);
    let numbered = listed.iter().position(|m| m.name == "right").unwrap() + 1;
    assert_eq!(
        choose_monitor(&listed, &numbered.to_string()).unwrap(),
        right
    );
    let refused = choose_monitor(&listed, "nowhere").unwrap_err().to_string();
    assert!(
        refused.contains("left 320x240+0+0") && refused.contains("right 320x240+320+0"),
        "{refused}"
    );

    x.run("xsetroot", &["-solid", "#336699"]);
    let typed = scratch.path().join("typed.txt");
    let typed_arg = format!("cat > {}", typed.display());
    x.spawn(
        "xterm",
        &["-geometry", "20x5+360+40", "-e", "sh", "-c", &typed_arg],
    );
    let mut whole = X11Source::connect(Some(&x.display)).unwrap();
    let mut one = X11Source::connect(Some(&x.display)).unwrap();
    one.share_monitor(Some(right.clone()));
    let (mut screen, mut shared) = (Frame::filled(1, 1, [0; 4]), Frame::filled(1, 1, [0; 4]));
    let right_half = |screen: &Frame| -> Vec<u8> {
        let stride = screen.stride();
        (0..screen.height() as usize)
            .flat_map(|y| screen.data()[y * stride + 320 * 4..y * stride + 640 * 4].to_vec())
            .collect()
    };
    let matches = |shared: &Frame, screen: &Frame| {
        shared.width() == 320 && shared.height() == 240 && same_picture(shared, &right_half(screen))
    };
    wait_until("the xterm on the right monitor, shared exactly", || {
        whole.next_frame(&mut screen).unwrap();
        one.next_frame(&mut shared).unwrap();
        let xterm_drawn =
            screen.data()[(60 * screen.stride() + 400 * 4)..][..4] != [0x99, 0x66, 0x33, 0xff];
        xterm_drawn && matches(&shared, &screen)
    });
    // Typing redraws part of the xterm: the damage, in the monitor's coordinates, keeps it exact.
    x.run(
        "xdotool",
        &[
            "mousemove",
            "400",
            "60",
            "click",
            "1",
            "type",
            "--delay",
            "30",
            "hello",
        ],
    );
    wait_until("the typed text on the shared monitor", || {
        whole.next_frame(&mut screen).unwrap();
        one.next_frame(&mut shared).unwrap();
        let inside = one.damage().is_none_or(|rects| {
            rects
                .iter()
                .all(|r| r.x + r.width <= 320 && r.y + r.height <= 240)
        });
        assert!(inside, "{:?}", one.damage());
        std::fs::read_to_string(&typed).is_ok_and(|t| t.contains("hello"))
            || matches(&shared, &screen)
    });
    wait_until("the monitor exact after typing", || {
        whole.next_frame(&mut screen).unwrap();
        one.next_frame(&mut shared).unwrap();
        matches(&shared, &screen)
    });

    // The pointer, in the monitor's coordinates; hidden when it is on the other monitor.
    x.run("xdotool", &["mousemove", "380", "100"]);
    let pointer = one.pointer().unwrap();
    assert_eq!((pointer.x, pointer.y, pointer.visible), (60, 100, true));
    x.run("xdotool", &["mousemove", "100", "100"]);
    assert!(!one.pointer().unwrap().visible);

    // The helper's pointer is placed on the shared monitor.
    let mut input = X11Input::connect(Some(&x.display)).unwrap();
    input.set_origin(right.x, right.y);
    input.apply(InputEvent::PointerMove { x: 10, y: 20 });
    let location = String::from_utf8(x.run("xdotool", &["getmouselocation"])).unwrap();
    assert!(location.starts_with("x:330 y:20 "), "{location}");

    // The command line refuses a monitor that is not there, naming those that are.
    let out = program("beckon-agent")
        .args(["--data-dir", scratch.path().join("data").to_str().unwrap()])
        .args([
            "share",
            "--x11",
            "--display",
            &x.display,
            "--monitor",
            "9",
            "--console",
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && said.contains("there is no monitor 9")
            && said.contains("right 320x240+320+0"),
        "{said}"
    );
}

/// The sharer switches monitors in the window while a helper watches: the helper is told which
/// monitor they now see, and what they see last is that monitor's pixels, exactly.
#[test]
fn the_sharer_chooses_a_monitor_in_the_window_and_the_helper_is_told() {
    const SCREEN: (u32, u32) = (1600, 900);
    let scratch = Scratch::new("x11-choose-monitor");
    let mut x = Xvfb::start_xorg(SCREEN.0, SCREEN.1, scratch.path());
    for (name, at) in [("left", "+0+0"), ("right", "+800+0")] {
        x.run(
            "xrandr",
            &[
                "--setmonitor",
                name,
                &format!("800/212x900/238{at}"),
                "none",
            ],
        );
    }
    x.start_window_manager();
    x.run("xsetroot", &["-solid", "#336699"]);
    x.spawn("xterm", &["-geometry", "30x6+1000+200"]);
    x.window("--class", "xterm");
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = scratch.path().join("data");
    let file = scratch.path().join("invitation.beckon");
    crate::share::invite(&data, &file, port);
    let mut agent = program("beckon-agent")
        .env("RUST_LOG", "info,beckon_agent::layout=trace")
        .arg("--data-dir")
        .arg(&data)
        .args([
            "share",
            "--x11",
            "--display",
            &x.display,
            "--yes",
            "--sessions",
            "1",
        ])
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let said = Lines::follow(agent.stderr.take().unwrap(), |_| {});
    let mut agent = crate::share::Agent(agent);
    said.wait_for("Waiting for helpers");
    let window = crate::sharer_window::Window {
        x: &x,
        id: x.window("--name", beckon_agent::window::TITLE),
        said,
    };

    let shot = scratch.path().join("seen.png");
    let mut viewer = crate::util::spawn_with_stdin(
        program("beckon-viewer")
            .args([
                "open",
                "--name",
                "Grace",
                "--password-stdin",
                "--seconds",
                "10",
                "--wait-exact",
            ])
            .arg("--screenshot")
            .arg(&shot)
            .arg(&file),
        &format!("{PASSWORD}\n"),
    );
    let helper = Lines::follow(viewer.stderr.take().unwrap(), |_| {});
    window.said.wait_for("The helper sees your screen");
    window.click("show-right");
    helper.wait_for("now shows you one monitor: right 800x900+800+0.");
    window
        .said
        .wait_for("Your helper now sees one monitor: right 800x900+800+0.");
    screenshot(&x, SCREEN, "sharer-window-monitors");
    // The right monitor stays still until the helper leaves (the sharer's window, which
    // changes then, and the keyboard's focus with it, are on the left).
    std::thread::sleep(Duration::from_secs(1));
    let screen = grab_sized(&x, SCREEN);
    assert!(viewer.wait().unwrap().success(), "{}", helper.text());
    assert!(agent.wait().unwrap().success());
    let log = audit_log(&scratch);
    assert!(log.contains("monitor chosen"), "{log}");

    let (width, height, seen) = crate::util::read_screenshot(&shot);
    assert_eq!((width, height), (800, 900));
    let stride = SCREEN.0 as usize * 4;
    let right: Vec<u8> = (0..900usize)
        .flat_map(|y| screen[y * stride + 800 * 4..y * stride + 1600 * 4].to_vec())
        .collect();
    assert!(
        crate::util::same_colours(&seen, &right),
        "the helper's last picture is not the right monitor's"
    );
}
