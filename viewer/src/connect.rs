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
    let path = PathBuf::from(arg);
    let text = if !arg.starts_with("beckon:") && path.exists() {
        std::fs::read_to_string(&path).with_context(|| format!("reading invitation {arg}"))?
    } else {
        arg.to_string()
    };
    Ok(Invitation::parse(&text)?)
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
        || anyhow::anyhow!("the invitation lists no address"),
        Into::into,
    ))
}
