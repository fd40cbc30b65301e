//! Reading an invitation and reaching its agent, for the window and the command line alike.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use beckon_engine::invite::{Invitation, RelayTicket};
use beckon_engine::net::relay::{RelaySocket, TurnLogin};
use beckon_engine::net::{Connection, Endpoint, NetError, connect, punch_key, viewer_endpoint_on};

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

/// How the helper reached the agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// Straight to one of its addresses.
    Direct(SocketAddr),
    /// Through the TURN relay at this address.
    Relayed(SocketAddr),
}

/// A connection to the agent, and the socket under it (to read its relayed bytes).
pub struct Reached {
    /// The QUIC endpoint.
    pub endpoint: Endpoint,
    /// The connection.
    pub connection: Connection,
    /// The UDP socket under it.
    pub socket: Arc<RelaySocket>,
    /// The path it took.
    pub path: Path,
}

/// How long the direct addresses are tried alone before a relay is tried as well: a direct
/// path costs the relay nothing and is faster.
const DIRECT_HEAD_START: Duration = Duration::from_secs(1);

/// Connects to the agent the invitation names: straight to the first of its addresses that
/// answers with the invitation's certificate and, when it names relays and none has answered
/// within [`DIRECT_HEAD_START`], through a relay at the same time; the first to connect wins. A
/// certificate that does not match stops at once: someone else is there.
///
/// # Errors
/// The last address's error ([`NetError::WrongCertificate`] at once), or no address.
pub async fn reach(invitation: &Invitation) -> Result<Reached> {
    let socket = RelaySocket::bind(SocketAddr::from(([0, 0, 0, 0], 0)))
        .map_err(|e| anyhow::anyhow!("{}", t!("link-no-socket", why = e.to_string())))?;
    let endpoint = viewer_endpoint_on(socket.clone())?;
    let reached = |connection, path| Reached {
        endpoint: endpoint.clone(),
        connection,
        socket: socket.clone(),
        path,
    };
    let direct = direct(&endpoint, invitation);
    if invitation.relays.is_empty() {
        let (connection, addr) = direct.await?;
        return Ok(reached(connection, Path::Direct(addr)));
    }
    let relayed = async {
        tokio::time::sleep(DIRECT_HEAD_START).await;
        relayed(&endpoint, &socket, invitation).await
    };
    tokio::pin!(direct, relayed);
    let (mut direct_error, mut relay_error) = (None, None);
    loop {
        tokio::select! {
            result = &mut direct, if direct_error.is_none() => match result {
                Ok((connection, addr)) => return Ok(reached(connection, Path::Direct(addr))),
                Err(e) if e.downcast_ref::<NetError>().is_some_and(|e| matches!(e, NetError::WrongCertificate { .. })) => return Err(e),
                Err(e) => direct_error = Some(e),
            },
            result = &mut relayed, if relay_error.is_none() => match result {
                Ok((connection, server)) => return Ok(reached(connection, Path::Relayed(server))),
                Err(e) => relay_error = Some(e),
            },
        }
        if let (Some(direct), Some(relay)) = (&direct_error, &relay_error) {
            return Err(anyhow::anyhow!(
                "{direct:#}; {}",
                t!("connect-relay-failed", why = format!("{relay:#}"))
            ));
        }
    }
}

/// The first of the invitation's own addresses that answers.
async fn direct(endpoint: &Endpoint, invitation: &Invitation) -> Result<(Connection, SocketAddr)> {
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
            Ok(connection) => return Ok((connection, *addr)),
            Err(e @ NetError::WrongCertificate { .. }) => return Err(e.into()),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.map_or_else(
        || anyhow::anyhow!("{}", t!("connect-no-address")),
        Into::into,
    ))
}

/// The agent through the first relay that carries the connection: an address of the helper's
/// own on the relay, sending to the agent's.
async fn relayed(
    endpoint: &Endpoint,
    socket: &RelaySocket,
    invitation: &Invitation,
) -> Result<(Connection, SocketAddr)> {
    let mut last_error = None;
    let wait = Duration::from_secs(5);
    for ticket in &invitation.relays {
        let login = TurnLogin::from_mac(RelayTicket::username(invitation.expires), &ticket.key);
        let attempt = async {
            socket.allocate(ticket.server, &login, wait).await?;
            socket
                .permit(ticket.server, ticket.relayed.ip(), wait)
                .await?;
            socket.route(ticket.relayed, ticket.server)?;
            let connection = connect(
                endpoint,
                ticket.relayed,
                invitation.fingerprint,
                Duration::from_secs(10),
            )
            .await?;
            anyhow::Ok(connection)
        };
        match attempt.await {
            Ok(connection) => {
                // A direct path may exist after all (routers that keep one port for every
                // destination): look for it while the session goes on.
                if let Ok(key) = punch_key(&connection) {
                    socket.punch(ticket.relayed, key, Duration::from_secs(20));
                }
                return Ok((connection, ticket.server));
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| anyhow::anyhow!("{}", t!("connect-no-address"))))
}
