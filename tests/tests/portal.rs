//! The portal back-end (GNOME's and KDE's way, here through xdg-desktop-portal-wlr) against a
//! real headless sway with PipeWire, WirePlumber and the xdg-desktop-portal on a session bus.
//! The agent runs as the desktop's user, as a sharer's does: the portal will not serve a caller
//! it cannot inspect.

use std::path::{Path, PathBuf};

use crate::util::{Lines, Scratch, Sway, binary, program, read_screenshot, same_colours};

const W: u32 = 480;
const H: u32 = 320;

/// `beckon-agent` where sway's user can run it (the build directory may be closed to it).
fn agent_for(sway: &Sway) -> PathBuf {
    let placed = sway.dir.join("beckon-agent");
    if std::fs::hard_link(binary("beckon-agent"), &placed).is_err() {
        std::fs::copy(binary("beckon-agent"), &placed).unwrap();
    }
    placed
}

/// Gives `path` and everything under it to sway's user.
fn give(sway: &Sway, path: &Path) {
    let status = std::process::Command::new("chown")
        .arg("-R")
        .arg(format!("--reference={}", sway.dir.display()))
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// A helper's session of `seconds` through `beckon-viewer open ARGS INVITATION`.
fn helper(invitation: &Path, seconds: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    crate::util::spawn_with_stdin(
        program("beckon-viewer")
            .args([
                "open",
                "--name",
                "Grace",
                "--password-stdin",
                "--seconds",
                seconds,
            ])
            .args(args)
            .arg(invitation),
        &format!("{}\n", crate::share::PASSWORD),
    )
    .wait_with_output()
    .unwrap()
}

/// A helper's session that waits for exact pixels: returns what the viewer said and its last
/// picture.
fn helper_sees(
    file: &Path,
    shot: &Path,
    extra: &[&str],
    sharer: &Lines,
) -> (String, (u32, u32, Vec<u8>)) {
    let mut args: Vec<&std::ffi::OsStr> = vec!["--wait-exact".as_ref()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    args.extend(["--screenshot".as_ref(), shot.as_os_str()]);
    let out = helper(file, "8", &args);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{said}");
    assert!(
        shot.exists(),
        "no picture: {said}; the sharer: {}",
        sharer.text()
    );
    (said, read_screenshot(shot))
}

/// `share --portal` as the desktop's user: nothing is asked before a helper comes; a refusal in
/// the desktop's dialog ends that session with a sentence that says so; once allowed, the
/// helper sees sway's screen exactly (grim's picture), and the restore token kept in the store
/// lets the next session share without asking again; the portal offers no remote control
/// here, and the sharer is told so when the helper asks for it.
#[test]
fn the_portal_shares_sway_exactly_and_asks_the_sharer_once() {
    let scratch = Scratch::new("portal-share");
    let mut sway = Sway::start(W, H);
    sway.foot("echo shared through the portal; sleep 120");
    let portal = sway.portal("HEADLESS-1").unwrap();
    let agent_program = agent_for(&sway);
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = sway.dir.join("data");
    let file = scratch.path().join("invitation.beckon");
    // An invitation is good for one session: one for each.
    let refused = scratch.path().join("refused.beckon");
    let second = scratch.path().join("second.beckon");
    for invitation in [&refused, &file, &second] {
        crate::share::invite(&data, invitation, port);
    }
    give(&sway, &data);

    let mut command = sway.as_user(
        &agent_program.display().to_string(),
        &[("DBUS_SESSION_BUS_ADDRESS", portal.address.clone())],
    );
    command.arg("--data-dir").arg(&data);
    let (mut agent, console) =
        crate::wayland::serve_on_console(command, &["--portal", "--sessions", "3"], port, |line| {
            line.contains("would like to share control")
                .then_some("y\n")
        });
    assert_eq!(portal.asked(), 0, "nothing is asked before a helper comes");

    // The sharer refuses in the desktop's dialog: the session ends and says why.
    portal.refuse(true).unwrap();
    helper(&refused, "4", &[]);
    console.wait_for("you did not allow sharing your screen in the desktop's window");
    assert_eq!(portal.asked(), 1, "the desktop asked the sharer");
    portal.refuse(false).unwrap();

    let shot = scratch.path().join("first.png");
    let (said, seen) = helper_sees(
        &file,
        &shot,
        &["--at", "100,60", "--type", "ls\n"],
        &console,
    );
    assert!(
        seen.0 == W && seen.1 == H && same_colours(&seen.2, &sway.grab(None).2),
        "the helper's picture differs from the sharer's screen; the helper: {said}; the sharer: {}",
        console.text()
    );
    assert_eq!(portal.asked(), 2, "the desktop asked the sharer again");
    console.wait_for("does not let a helper type");

    // The second session: the kept restore token shares the same monitor without asking.
    // xdg-desktop-portal-wlr sends a new cast's first picture once the screen changes: the
    // sharer moves the pointer.
    let shot = scratch.path().join("second.png");
    let (said, seen) = std::thread::scope(|scope| {
        let seen = scope.spawn(|| helper_sees(&second, &shot, &[], &console));
        for step in 0..6 {
            std::thread::sleep(std::time::Duration::from_millis(500));
            sway.point(200 + step * 10, 200);
        }
        seen.join().unwrap()
    });
    assert!(
        seen.0 == W && seen.1 == H && same_colours(&seen.2, &sway.grab(None).2),
        "the second session's picture differs; the helper: {said}; the sharer: {}",
        console.text()
    );
    assert_eq!(
        portal.asked(),
        2,
        "the restore token spared the sharer the second question: {}",
        console.text()
    );
    assert!(agent.0.wait().unwrap().success(), "{}", console.text());
}
