//! The agent's X11 capture and input against a real Xvfb with real applications.

use std::time::{Duration, Instant};

use beckon_agent::platform::x11::{X11Input, X11Source};
use beckon_engine::frame::Frame;
use beckon_engine::net::drive::InputSink;
use beckon_engine::pipeline::FrameSource;
use beckon_engine::session::InputEvent;

use crate::util::{Scratch, Xvfb};

const W: u32 = 480;
const H: u32 = 320;

/// The screen as ffmpeg's x11grab sees it: an independent capture to compare with.
fn grab(x: &Xvfb) -> Vec<u8> {
    x.run(
        "ffmpeg",
        &[
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "x11grab",
            "-draw_mouse",
            "0",
            "-video_size",
            &format!("{W}x{H}"),
            "-i",
            &x.display,
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "bgra",
            "-",
        ],
    )
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

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
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

/// A sharer on the Xvfb: an xterm writing what is typed into `typed.txt`, an invitation, and
/// `beckon-agent share --x11` for one session, whose console answers `y` to control. Returns
/// the agent, the console's transcript (when the agent ends), the invitation and the file.
fn sharer(
    x: &mut Xvfb,
    scratch: &Scratch,
) -> (
    std::process::Child,
    std::thread::JoinHandle<String>,
    std::path::PathBuf,
    std::path::PathBuf,
) {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};

    use crate::util::binary;

    let typed = scratch.path().join("typed.txt");
    let typed_arg = format!("cat > {}", typed.display());
    x.spawn(
        "xterm",
        &["-geometry", "40x8+10+20", "-e", "sh", "-c", &typed_arg],
    );
    std::thread::sleep(Duration::from_millis(500));
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = scratch.path().join("data");
    let file = scratch.path().join("invitation.beckon");
    crate::share::invite(&data, &file, port);

    let mut agent = Command::new(binary("beckon-agent"))
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
            "--listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut answers = agent.stdin.take().unwrap();
    let lines = BufReader::new(agent.stderr.take().unwrap()).lines();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let console = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for line in lines.map_while(Result::ok) {
            if line.starts_with("Waiting for helpers") {
                let _ = ready_tx.send(());
            }
            // The sharer says Yes to control.
            if line.contains("would like to share control") {
                let _ = answers.write_all(b"y\n");
            }
            seen.push(line);
        }
        seen.join("\n")
    });
    ready
        .recv_timeout(Duration::from_secs(20))
        .expect("share did not start");
    (agent, console, file, typed)
}

/// Starts `beckon-viewer open` on `file` with `args`.
fn helper(file: &std::path::Path, args: &[&str]) -> std::process::Child {
    use std::process::Command;
    crate::util::spawn_with_stdin(
        Command::new(crate::util::binary("beckon-viewer"))
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
    let (mut agent, console, file, typed) = sharer(&mut x, &scratch);
    let viewer = helper(
        &file,
        &[
            "--seconds",
            "8",
            "--type",
            "Hello from Grace\n",
            "--at",
            "100,60",
        ],
    );
    let out = viewer.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("You have control."), "{said}");
    wait_until("the helper's line in the xterm", || {
        std::fs::read_to_string(&typed).is_ok_and(|t| t == "Hello from Grace\n")
    });
    assert!(agent.wait().unwrap().success());
    let console = console.join().unwrap();
    assert!(
        console.contains("Grace would like to share control"),
        "{console}"
    );
}

/// The sharer presses Esc on their own keyboard (xdotool on their display) while the helper has
/// control: control ends at once, and what the helper types afterwards is not applied.
#[test]
fn the_sharers_esc_ends_control_and_later_input_is_not_applied() {
    let scratch = Scratch::new("x11-esc");
    let mut x = Xvfb::start(W, H);
    let (mut agent, _console, file, typed) = sharer(&mut x, &scratch);
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
