//! E-mail delivery of invitations: the message (who asks, why, until when, how to open it, the
//! invitation attached, never the password) and SMTP with lettre.
//!
//! The server is configured in `agent.toml` (`$XDG_CONFIG_HOME/beckon/agent.toml`, else
//! `~/.config/beckon/agent.toml`, or `--config`), section `[smtp]`, or by flags, which win:
//!
//! ```toml
//! [smtp]
//! host = "smtp.example.org"
//! port = 587                 # default: 587 for starttls, 465 for tls
//! security = "starttls"      # or "tls" (implicit TLS); "none" only for a relay on this computer
//! username = "ada@example.org"
//! from = "Ada <ada@example.org>"
//! ca_file = "/path/to/ca.pem" # an extra CA to trust (a private mail server)
//! ```
//!
//! The SMTP password comes from `BECKON_SMTP_PASSWORD`, or `password` in the file; it is never
//! logged. The sharer's window writes the `[smtp]` section from its settings form, keeping the
//! file's other sections.
//!
//! The same file holds the sharer's policy (`[policy]`), which the window cannot change:
//!
//! ```toml
//! [policy]
//! max_expiry = "4h"          # the longest an invitation may stay valid (default 24h)
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use beckon_engine::invite::{Invitation, when};
use beckon_engine::session::Secret;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use serde::{Deserialize, Serialize};

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on this computer (127.0.0.1 or ::1).
    None,
}

/// The `[smtp]` settings, from the file and the flags.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// SMTP server for --email.
    #[arg(id = "smtp-host", long = "smtp-host")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// SMTP port (default: 587 with starttls, 465 with tls, 25 with none).
    #[arg(id = "smtp-port", long = "smtp-port")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// starttls (default), tls or none.
    #[arg(id = "smtp-security", long = "smtp-security", value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security: Option<Security>,
    /// SMTP user name (the password comes from BECKON_SMTP_PASSWORD).
    #[arg(id = "smtp-user", long = "smtp-user")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The sender's address, e.g. "Ada <ada@example.org>".
    #[arg(id = "smtp-from", long = "smtp-from")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// An extra certificate authority (PEM) to trust for the SMTP server.
    #[arg(id = "smtp-ca", long = "smtp-ca")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Only from the file (prefer BECKON_SMTP_PASSWORD).
    #[arg(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// What the sharer decided in advance, and no window can change.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The longest an invitation may stay valid, as `30m`, `4h`, `2d`.
    pub max_expiry: Option<String>,
}

/// `agent.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[smtp]`.
    #[serde(default)]
    pub smtp: SmtpSettings,
    /// `[policy]`.
    #[serde(default)]
    pub policy: Policy,
    /// `[relay]`.
    #[serde(default)]
    pub relay: RelaySettings,
}

/// `[relay]`: TURN servers (coturn) through which a helper reaches this computer from anywhere,
/// whatever router or firewall either side is behind.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelaySettings {
    /// The relays, `host:port` (UDP); each invitation names every one that answered.
    #[serde(default)]
    pub servers: Vec<String>,
    /// The secret the relays were started with (coturn's `static-auth-secret`).
    pub secret: Option<String>,
}

impl RelaySettings {
    /// The relays' addresses, and the secret; nothing when no relay is set.
    ///
    /// # Errors
    /// When a relay is set without a secret, or a name does not resolve.
    pub fn resolve(&self) -> Result<Option<(Vec<SocketAddr>, Secret<String>)>> {
        if self.servers.is_empty() {
            return Ok(None);
        }
        let Some(secret) = &self.secret else {
            anyhow::bail!("{}", crate::t!("relay-no-secret"));
        };
        let mut servers = Vec::new();
        for name in &self.servers {
            let found = std::net::ToSocketAddrs::to_socket_addrs(name.as_str())
                .ok()
                .and_then(|mut addrs| addrs.find(SocketAddr::is_ipv4));
            match found {
                Some(addr) => servers.push(addr),
                None => anyhow::bail!("{}", crate::t!("relay-no-address", server = name.as_str())),
            }
        }
        Ok(Some((servers, Secret::new(secret.clone()))))
    }
}

impl Config {
    /// Reads `file` (a missing file is the defaults, unless `named`: then it is an error). The
    /// file and its folder must be the sharer's alone: it may hold the SMTP password.
    ///
    /// # Errors
    /// When it cannot be read, is readable by others, or is not a valid `agent.toml`.
    pub fn load(file: Option<&Path>, named: bool) -> Result<Config> {
        let Some(path) = file.filter(|path| path.exists() || named) else {
            return Ok(Config::default());
        };
        if let Some(dir) = path.parent().filter(|d| d.exists()) {
            crate::private::dir(dir)?;
        }
        crate::private::file(path)?;
        let text = std::fs::read_to_string(path)
            .with_context(|| crate::t!("io-reading", file = path.display().to_string()))?;
        toml::from_str(&text)
            .with_context(|| crate::t!("config-invalid", file = path.display().to_string()))
    }
}

/// Writes `settings` as the `[smtp]` section of `file`, keeping its other sections; the file
/// and its folder are made the sharer's alone.
///
/// # Errors
/// When the file cannot be read or written.
pub fn save_settings(file: &Path, settings: &SmtpSettings) -> Result<()> {
    // Checked first: a file others can read is refused, not quietly filled with a password.
    Config::load(Some(file), false)?;
    let mut table = match std::fs::read_to_string(file) {
        Ok(text) => toml::from_str::<toml::Table>(&text)
            .with_context(|| crate::t!("config-invalid", file = file.display().to_string()))?,
        Err(_) => toml::Table::new(),
    };
    let smtp =
        toml::Table::try_from(settings).with_context(|| crate::t!("smtp-settings-unwritable"))?;
    table.insert("smtp".into(), toml::Value::Table(smtp));
    if let Some(dir) = file.parent() {
        crate::private::dir(dir)?;
    }
    crate::private::write(file, toml::to_string(&table)?.as_bytes())
}

/// The configuration file: `--config`, else the XDG one.
pub fn config_path(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = flag {
        return Some(path.to_path_buf());
    }
    Some(beckon_engine::dirs::config().ok()?.join("agent.toml"))
}

impl SmtpSettings {
    /// The flags over the file's `[smtp]` section (a missing file is no error unless named).
    pub fn resolve(&self, file: Option<&Path>, named: bool) -> Result<SmtpSettings> {
        Ok(self.over(Config::load(file, named)?.smtp))
    }

    /// These settings over `from_file`'s, with the password from `BECKON_SMTP_PASSWORD` first.
    pub fn over(&self, from_file: SmtpSettings) -> SmtpSettings {
        SmtpSettings {
            host: self.host.clone().or(from_file.host),
            port: self.port.or(from_file.port),
            security: self.security.or(from_file.security),
            username: self.username.clone().or(from_file.username),
            from: self.from.clone().or(from_file.from),
            ca_file: self.ca_file.clone().or(from_file.ca_file),
            password: std::env::var("BECKON_SMTP_PASSWORD")
                .ok()
                .or(from_file.password),
        }
    }
}

/// The file name the invitation is attached as.
pub const ATTACHMENT_NAME: &str = "invitation.beckon";

/// The invitation e-mail from `from` to `to`.
pub fn message(invitation: &Invitation, from: &str, to: &str) -> Result<Message> {
    let from: Mailbox = from
        .parse()
        .with_context(|| crate::t!("email-bad-from", address = format!("{from:?}")))?;
    let to: Mailbox = to
        .parse()
        .with_context(|| crate::t!("email-bad-address", address = format!("{to:?}")))?;
    let validity = when::duration(invitation.expires.saturating_sub(invitation.created));
    let wants = if invitation.message.trim().is_empty() {
        String::new()
    } else {
        let writes = crate::t!("email-writes", from = invitation.from.as_str());
        format!("\n{writes}\n\n    {}\n", invitation.message)
    };
    let intro = crate::t!("email-intro", from = invitation.from.as_str());
    let steps = crate::t!(
        "email-steps",
        from = invitation.from.as_str(),
        attachment = ATTACHMENT_NAME,
        expires = when::utc(invitation.expires),
        validity = validity
    );
    let body = format!("{intro}\n{wants}\n{steps}\n");
    let attachment = Attachment::new(ATTACHMENT_NAME.to_string()).body(
        invitation.to_toml(),
        ContentType::parse("application/x-beckon-invitation").expect("a valid MIME type"),
    );
    Message::builder()
        .from(from)
        .to(to)
        .subject(crate::t!("email-subject", from = invitation.from.as_str()))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(body))
                .singlepart(attachment),
        )
        .with_context(|| crate::t!("email-unbuildable"))
}

/// A short e-mail from the sender to themselves: whether the settings deliver (the window's
/// "Send a test e-mail").
pub fn test_message(settings: &SmtpSettings) -> Result<Message> {
    let from = settings
        .from
        .as_deref()
        .with_context(|| crate::t!("email-test-no-from"))?;
    let mailbox: Mailbox = from
        .parse()
        .with_context(|| crate::t!("email-bad-address", address = format!("{from:?}")))?;
    Message::builder()
        .from(mailbox.clone())
        .to(mailbox)
        .subject(crate::t!("email-test-subject"))
        .singlepart(SinglePart::plain(format!(
            "{}\n",
            crate::t!("email-test-body")
        )))
        .with_context(|| crate::t!("email-unbuildable"))
}

/// Sends `message` with `settings`.
pub fn send(settings: &SmtpSettings, message: &Message) -> Result<()> {
    let (transport, host) = transport(settings)?;
    transport.send(message).map_err(|e| {
        anyhow::anyhow!(
            "{}",
            crate::t!("smtp-refused", host = host.as_str(), why = e.to_string())
        )
    })?;
    Ok(())
}

/// Connects to the SMTP server, says hello, secures and authenticates the connection as a
/// send would, and leaves: whether e-mail would go out (`beckon-agent doctor`).
///
/// # Errors
/// What went wrong, in a sentence.
pub fn check(settings: &SmtpSettings) -> Result<String> {
    let (transport, host) = transport(settings)?;
    match transport.test_connection() {
        Ok(true) => Ok(host),
        Ok(false) => bail!("{}", crate::t!("smtp-not-smtp", host = host)),
        Err(e) => bail!("{host}: {e}"),
    }
}

/// The transport the settings describe, and the host's name.
fn transport(settings: &SmtpSettings) -> Result<(SmtpTransport, String)> {
    let Some(host) = settings.host.as_deref() else {
        bail!("{}", crate::t!("smtp-none"));
    };
    let security = settings.security.unwrap_or(Security::Starttls);
    let local = matches!(host, "127.0.0.1" | "::1" | "localhost");
    if security == Security::None && !local {
        bail!("{}", crate::t!("smtp-none-remote"));
    }
    let mut tls = TlsParameters::builder(host.to_string());
    if let Some(ca) = &settings.ca_file {
        let pem = std::fs::read(ca)
            .with_context(|| crate::t!("io-reading", file = ca.display().to_string()))?;
        tls = tls.add_root_certificate(
            Certificate::from_pem(&pem)
                .with_context(|| crate::t!("smtp-no-pem", file = ca.display().to_string()))?,
        );
    }
    let tls = tls
        .build_rustls()
        .with_context(|| crate::t!("smtp-tls-failed"))?;
    let (tls, port) = match security {
        Security::Starttls => (Tls::Required(tls), 587),
        Security::Tls => (Tls::Wrapper(tls), 465),
        Security::None => (Tls::None, 25),
    };
    let mut transport = SmtpTransport::builder_dangerous(host)
        .port(settings.port.unwrap_or(port))
        .tls(tls)
        .timeout(Some(Duration::from_secs(20)));
    match (&settings.username, &settings.password) {
        (Some(user), Some(password)) => {
            transport = transport.credentials(Credentials::new(user.clone(), password.clone()));
        }
        (Some(_), None) => bail!("{}", crate::t!("smtp-no-password")),
        _ => {}
    }
    Ok((transport.build(), host.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_settings_keep_the_policy_and_read_back() {
        let dir = std::env::temp_dir().join(format!("beckon-mail-{}", std::process::id()));
        crate::private::dir(&dir).unwrap();
        let file = dir.join("agent.toml");
        crate::private::write(&file, b"[policy]\nmax_expiry = \"2h\"\n").unwrap();
        let settings = SmtpSettings {
            host: Some("smtp.example.org".into()),
            port: Some(2525),
            security: Some(Security::Tls),
            from: Some("Ada <ada@example.org>".into()),
            ..SmtpSettings::default()
        };
        save_settings(&file, &settings).unwrap();
        let read = Config::load(Some(&file), true).unwrap();
        assert_eq!(read.smtp, settings);
        assert_eq!(read.policy.max_expiry.as_deref(), Some("2h"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
