//! The Debian packages: made with cargo-deb from this build, installed with dpkg on this
//! machine, both programs run from their installed paths, an invitation opened with xdg-open
//! lands in the installed viewer's window; removed at the end.
//!
//! The packages are made from the tests' own (dev profile) binaries, which cargo-deb allows
//! with a warning: a second, release, build would double the time `make test` takes. `make
//! package` makes them from a release build.

use std::path::Path;
use std::process::Command;

use crate::util::{Scratch, Xvfb, binary, repo};

const PACKAGES: [&str; 2] = ["beckon-agent", "beckon-viewer"];

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).starts_with("install ok installed"))
}

/// Runs `program args`, asserting it succeeds; its standard output.
fn run(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The packages this test installed, removed however it ends.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").arg("--purge").args(PACKAGES).output();
    }
}

#[test]
fn the_packages_install_run_open_invitations_and_come_off_again() {
    assert_eq!(
        run(Command::new("id").arg("-u")).trim(),
        "0",
        "installing packages needs root (CI and `make test` run as root)"
    );
    for package in PACKAGES {
        assert!(
            !installed(package),
            "{package} is installed on this machine already: this test would replace it"
        );
    }
    let scratch = Scratch::new("package");
    let debs = scratch.path().join("debian");
    let assets = binary("beckon-agent").with_file_name("assets");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for package in PACKAGES {
        run(Command::new(binary(package)).arg("assets").arg(&assets));
        run(Command::new(&cargo)
            .current_dir(repo())
            .args([
                "deb",
                "--no-build",
                "--strip",
                "--fast",
                "--profile",
                "dev",
                "-p",
                package,
            ])
            .arg("-o")
            .arg(&debs));
    }
    let files: Vec<_> = std::fs::read_dir(&debs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");

    let _installed = Installed;
    run(Command::new("dpkg").arg("-i").args(&files));
    for package in PACKAGES {
        assert!(installed(package), "{package}");
        let version = run(Command::new(format!("/usr/bin/{package}")).arg("--version"));
        assert_eq!(
            version.trim(),
            format!("{package} {}", env!("CARGO_PKG_VERSION"))
        );
        for path in [
            format!("/usr/share/man/man1/{package}.1"),
            format!("/usr/share/applications/{package}.desktop"),
            format!("/usr/share/bash-completion/completions/{package}"),
            format!("/usr/share/icons/hicolor/scalable/apps/{package}.svg"),
        ] {
            assert!(Path::new(&path).exists(), "{path} is not installed");
        }
    }
    assert!(Path::new("/usr/share/man/man1/beckon-agent-invite.1").exists());
    // The installed agent makes an invitation; the desktop knows its type and who opens it.
    let home = scratch.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let file = scratch.path().join("help.beckon");
    crate::share::invite(&home.join("data"), &file, 47_999);
    let desktop = |command: &mut Command| {
        run(command
            .env("HOME", &home)
            .env_remove("XDG_DATA_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_DIRS"))
    };
    let kind = desktop(
        Command::new("xdg-mime")
            .args(["query", "filetype"])
            .arg(&file),
    );
    assert_eq!(kind.trim(), "application/x-beckon-invitation");
    let default = desktop(Command::new("xdg-mime").args([
        "query",
        "default",
        "application/x-beckon-invitation",
    ]));
    assert_eq!(default.trim(), "beckon-viewer.desktop");

    // A double click, as the desktop does it, and a beckon: link: xdg-open starts the
    // installed viewer on each.
    let code = std::fs::read_to_string(&file).unwrap();
    let code = beckon_engine::invite::Invitation::from_toml(&code)
        .unwrap()
        .to_string_form();
    let mut x = Xvfb::start(800, 600);
    for target in [file.display().to_string(), code] {
        x.spawn("sh", &["-c", &format!("exec xdg-open '{target}'")]);
        let window = x.window("--name", "Beckon: helping");
        let pid = String::from_utf8(x.run("xdotool", &["getwindowpid", &window])).unwrap();
        let pid = pid.trim().to_string();
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
        assert_eq!(exe, Path::new("/usr/bin/beckon-viewer"), "{target}");
        run(Command::new("kill").arg(&pid));
        // Gone before the next one is looked for.
        crate::x11::wait_until("the viewer to close", || {
            !Path::new(&format!("/proc/{pid}")).exists()
        });
    }
    drop(x);
    drop(_installed);
    for package in PACKAGES {
        assert!(!installed(package), "{package} was not removed");
    }
}
