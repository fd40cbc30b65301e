//! E-mail delivery against a real SMTP server on loopback (aiosmtpd, `tests/smtp_server.py`):
//! STARTTLS and implicit TLS with authentication, the message as received, resend, the address
//! book and `--eml`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use beckon_engine::invite::Invitation;

use crate::util::{Scratch, program, repo, run_with_stdin, write_private};

const PASSWORD: &str = "Tamoki-Ruvela-Sipono-47!";
pub(crate) const SMTP_PASSWORD: &str = "smtp-Secret-7731";

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// The SMTP server, stopped (its stdin closed, then killed) on drop.
pub(crate) struct Server {
    child: Child,
    out: PathBuf,
    port: u16,
}

impl Server {
    pub(crate) fn start(scratch: &Scratch, mode: &str) -> Server {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let (cert_pem, key_pem) = (
            scratch.path().join("cert.pem"),
            scratch.path().join("key.pem"),
        );
        std::fs::write(&cert_pem, pem("CERTIFICATE", cert.cert.der())).unwrap();
        std::fs::write(
            &key_pem,
            pem("PRIVATE KEY", &cert.signing_key.serialize_der()),
        )
        .unwrap();
        let out = scratch.path().join(format!("received-{mode}"));
        std::fs::create_dir_all(&out).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("/usr/bin/python3")
            .arg(repo().join("tests/smtp_server.py"))
            .arg(port.to_string())
            .arg(mode)
            .args([&cert_pem, &key_pem])
            .args(["ada", SMTP_PASSWORD])
            .arg(&out)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (make deps installs python3-aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        Server { child, out, port }
    }

    /// The `n`th message received (1-based), waiting for it a while.
    pub(crate) fn received(&self, n: usize) -> serde_json::Value {
        let path = self.out.join(format!("{n}.json"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !path.exists() {
            assert!(Instant::now() < deadline, "message {n} never arrived");
            std::thread::sleep(Duration::from_millis(50));
        }
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn count(&self) -> usize {
        std::fs::read_dir(&self.out)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json")
            })
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(3);
        while let Ok(None) = self.child.try_wait() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.wait();
    }
}

pub(crate) fn config(scratch: &Scratch, server: &Server, security: &str) -> PathBuf {
    let path = scratch.path().join("agent.toml");
    write_private(
        &path,
        &format!(
            "[smtp]\nhost = \"localhost\"\nport = {}\nsecurity = \"{security}\"\n\
             username = \"ada\"\nfrom = \"Ada <ada@example.org>\"\nca_file = \"{}\"\n",
            server.port,
            scratch.path().join("cert.pem").display()
        ),
    );
    path
}

fn agent(
    scratch: &Scratch,
    config: &Path,
    args: &[&str],
    stdin: &str,
    smtp_password: &str,
) -> Output {
    run_with_stdin(
        program("beckon-agent")
            .arg("--data-dir")
            .arg(scratch.path().join("data"))
            .arg("--config")
            .arg(config)
            .args(args)
            .env("BECKON_SMTP_PASSWORD", smtp_password),
        stdin,
    )
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn an_invitation_is_e_mailed_over_starttls_resent_and_its_address_remembered() {
    let scratch = Scratch::new("mail");
    let server = Server::start(&scratch, "starttls");
    let config = config(&scratch, &server, "starttls");
    let invite = [
        "invite",
        "--from",
        "Ada",
        "--message",
        "My printer prints blank pages",
        "--password-stdin",
        "--email",
        "grace@example.org",
    ];
    let out = agent(
        &scratch,
        &config,
        &invite,
        &format!("{PASSWORD}\n"),
        SMTP_PASSWORD,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("E-mailed to grace@example.org"),
        "{}",
        text(&out)
    );

    let mail = server.received(1);
    assert_eq!(mail["rcpt_tos"], serde_json::json!(["grace@example.org"]));
    assert_eq!(mail["mail_from"], "ada@example.org");
    assert_eq!(
        (mail["tls"].as_bool(), mail["authenticated"].as_bool()),
        (Some(true), Some(true))
    );
    let headers = &mail["headers"];
    assert_eq!(
        headers["Subject"],
        "Ada asks for your help (Beckon remote assistance)"
    );
    assert_eq!(headers["To"], "grace@example.org");
    let body = mail["body"].as_str().unwrap();
    for needed in [
        "Ada is asking for your help",
        "My printer prints blank pages",
        "expires at",
        "double-click it",
    ] {
        assert!(body.contains(needed), "{needed:?} missing from:\n{body}");
    }
    // The windowless `open` would connect with no picture and use the invitation up.
    assert!(!body.contains("beckon-viewer open"), "{body}");
    let whole = mail.to_string();
    assert!(
        !whole.contains(PASSWORD) && !whole.contains(SMTP_PASSWORD),
        "a password was mailed"
    );

    // The attachment is the invitation the store holds.
    let attached = &mail["attachments"]["invitation.beckon"];
    assert_eq!(attached["content_type"], "application/x-beckon-invitation");
    let invitation = Invitation::from_toml(attached["text"].as_str().unwrap()).unwrap();
    let listed = agent(&scratch, &config, &["invitations", "--json"], "", "");
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["id"], invitation.id.as_str());
    assert_eq!(listed[0]["expires"], invitation.expires);
    assert_eq!(listed[0]["delivery"], "email:grace@example.org");
    assert_eq!(listed[0]["to"], "grace@example.org");
    assert_eq!(invitation.message, "My printer prints blank pages");

    // Resend: the same invitation, the same way.
    let out = agent(
        &scratch,
        &config,
        &["resend", &invitation.id],
        "",
        SMTP_PASSWORD,
    );
    assert!(out.status.success(), "{}", text(&out));
    let again = server.received(2);
    assert_eq!(again["attachments"], mail["attachments"]);

    // The address book offers the address again: a prefix finds it, and --eml writes the same
    // message for a mail program instead of sending it.
    let out = agent(&scratch, &config, &["helpers"], "", "");
    assert!(text(&out).contains("grace@example.org"), "{}", text(&out));
    let eml = scratch.path().join("invitation.eml");
    let eml_arg = eml.display().to_string();
    let out = agent(
        &scratch,
        &config,
        &[
            "invite",
            "--from",
            "Ada",
            "--password-stdin",
            "--email",
            "gra",
            "--eml",
            &eml_arg,
        ],
        &format!("{PASSWORD}\n"),
        SMTP_PASSWORD,
    );
    assert!(out.status.success(), "{}", text(&out));
    let written = std::fs::read_to_string(&eml).unwrap();
    assert!(
        written.contains("To: grace@example.org") && written.contains("invitation.beckon"),
        "{written}"
    );
    assert_eq!(server.count(), 2, "--eml must not send");

    let log = agent(&scratch, &config, &["log"], "", "");
    let log = text(&log);
    assert!(
        log.contains("sent email:grace@example.org") && log.contains("resent"),
        "{log}"
    );
    assert!(
        !log.contains(SMTP_PASSWORD),
        "the SMTP password reached the log"
    );
}

#[test]
fn implicit_tls_works_and_a_wrong_smtp_password_keeps_the_invitation_for_resend() {
    let scratch = Scratch::new("mail");
    let server = Server::start(&scratch, "tls");
    let config = config(&scratch, &server, "tls");
    let invite = [
        "invite",
        "--from",
        "Ada",
        "--password-stdin",
        "--email",
        "grace@example.org",
    ];
    let out = agent(
        &scratch,
        &config,
        &invite,
        &format!("{PASSWORD}\n"),
        "not-the-smtp-password",
    );
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("did not take the e-mail") && said.contains("beckon-agent resend"),
        "{said}"
    );
    assert!(!said.contains("not-the-smtp-password"), "{said}");
    assert_eq!(server.count(), 0);

    // Nothing is lost: the invitation is stored, and resend delivers it once the password is right.
    let listed = agent(&scratch, &config, &["invitations", "--json"], "", "");
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let id = listed[0]["id"].as_str().unwrap().to_string();
    let out = agent(&scratch, &config, &["resend", &id], "", SMTP_PASSWORD);
    assert!(out.status.success(), "{}", text(&out));
    let mail = server.received(1);
    assert_eq!(
        (mail["tls"].as_bool(), mail["authenticated"].as_bool()),
        (Some(true), Some(true))
    );
    let invitation = Invitation::from_toml(
        mail["attachments"]["invitation.beckon"]["text"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(invitation.id, id);
}

#[test]
fn unencrypted_smtp_is_refused_for_a_remote_server() {
    let scratch = Scratch::new("mail");
    let config = scratch.path().join("agent.toml");
    write_private(
        &config,
        "[smtp]\nhost = \"smtp.example.org\"\nsecurity = \"none\"\nfrom = \"a@example.org\"\n",
    );
    let out = agent(
        &scratch,
        &config,
        &[
            "invite",
            "--from",
            "Ada",
            "--password-stdin",
            "--email",
            "grace@example.org",
        ],
        &format!("{PASSWORD}\n"),
        "",
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("only allowed for a relay on this computer"),
        "{}",
        text(&out)
    );
}
