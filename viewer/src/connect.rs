//! Reading an invitation and reaching its agent, for the window and the command line alike.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use beckon_engine::invite::Invitation;
use beckon_engine::net::{Connection, Endpoint, NetError, connect};

/// The invitation in `arg`: a file's path, or the `beckon:` string itself.
///
/// # Errors
/// When the file cannot be read or the text is no invitation.
pub fn read_invitation(arg: &str) -> Result<Invitation> {
    let arg = arg.trim();
    // A file manager may hand the file over as a `file://` URL.
    let local = arg.strip_prefix("file://").map(percent_decoded);
    let arg = local.as_deref().unwrap_or(arg);
    let path = PathBuf::from(arg);
    let text = if !arg.starts_with("beckon:") && path.exists() {
        std::fs::read_to_string(&path).with_context(|| t!("connect-reading", file = arg))?
    } else {
        arg.to_string()
    };
    Ok(Invitation::parse(&text)?)
}

/// `text` with its `%XX` escapes decoded (a URL's path).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[test]
fn file_urls_are_paths() {
    assert_eq!(
        percent_decoded("/home/ada/My%20help.beckon"),
        "/home/ada/My help.beckon"
    );
    assert_eq!(percent_decoded("/tmp/100%"), "/tmp/100%");
}

/// Connects to the first of the invitation's addresses that answers with the invitation's
/// certificate. A certificate that does not match stops at once: someone else is there.
///
/// # Errors
/// The last address's error ([`NetError::WrongCertificate`] at once), or no address.
pub async fn reach(endpoint: &Endpoint, invitation: &Invitation) -> Result<Connection> {
    let mut last_error = None;
    for addr in &invitation.addresses {
        match connect(
            endpoint,
            *addr,
            invitation.fingerprint,
            Duration::from_secs(5),
        )
        .await
        {
            Ok(connection) => return Ok(connection),
            Err(e @ NetError::WrongCertificate { .. }) => return Err(e.into()),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.map_or_else(
        || anyhow::anyhow!("{}", t!("connect-no-address")),
        Into::into,
    ))
}
