//! Making and delivering invitations: what `beckon-agent invite`, `resend` and the sharer's
//! window have in common. An invitation is delivered one of three ways, recorded in the store
//! as text: `file:PATH` (saved as a file), `string` (a code to paste into any chat program),
//! `email:ADDRESS` (sent over SMTP), or `eml:ADDRESS:PATH` (an e-mail written to a file for the
//! sharer's own mail program).

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result, bail};
use beckon_engine::invite::when::{self, now};
use beckon_engine::invite::{Invitation, RelayTicket};
use beckon_engine::session::Secret;
use beckon_engine::session::auth::{Credential, StretchParams, stretch};
use rand_core::{OsRng, RngCore};

use crate::mail;
use crate::store::Store;

/// The longest an invitation may stay valid when the policy does not say: a day.
pub const DEFAULT_MAX_EXPIRY: u64 = 24 * 3600;
/// How long an invitation stays valid unless the sharer chooses otherwise, and the most the
/// window recommends: an hour.
pub const DEFAULT_EXPIRY: u64 = 3600;

/// Parses `90s`, `30m`, `1h`, `2d` into seconds.
///
/// # Errors
/// When `text` is not such a duration.
pub fn parse_duration(text: &str) -> Result<u64> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .with_context(|| crate::t!("duration-invalid", text = format!("{text:?}")))?;
    let scale = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => bail!(
            "{}",
            crate::t!("duration-invalid", text = format!("{text:?}"))
        ),
    };
    Ok(n * scale)
}

/// The longest validity the policy in `agent.toml` allows, in seconds.
///
/// # Errors
/// When the policy's `max_expiry` is not a duration.
pub fn max_expiry(policy: &mail::Policy) -> Result<u64> {
    match &policy.max_expiry {
        Some(text) => parse_duration(text).context("[policy] max_expiry in agent.toml"),
        None => Ok(DEFAULT_MAX_EXPIRY),
    }
}

/// This computer's addresses for an invitation: the one its default routes go out from (IPv4,
/// then IPv6; found by connecting UDP sockets, which sends nothing), then loopback for a helper
/// on this same computer.
pub fn default_addresses(port: u16) -> Vec<SocketAddr> {
    let outgoing = |bind: &str, probe: &str| {
        let socket = std::net::UdpSocket::bind(bind).ok()?;
        socket.connect(probe).ok()?;
        let ip = socket.local_addr().ok()?.ip();
        (!ip.is_unspecified() && !ip.is_loopback()).then_some(SocketAddr::new(ip, port))
    };
    // Documentation prefixes (RFC 5737, RFC 3849): routable in form, never used.
    let mut addresses: Vec<SocketAddr> = [
        outgoing("0.0.0.0:0", "192.0.2.1:9"),
        outgoing("[::]:0", "[2001:db8::1]:9"),
    ]
    .into_iter()
    .flatten()
    .collect();
    addresses.push(SocketAddr::from(([127, 0, 0, 1], port)));
    addresses
}

/// The addresses an invitation served on `listen` names: `listen` itself when it is one
/// address, else this computer's (see [`default_addresses`]).
pub fn addresses_for(listen: SocketAddr) -> Vec<SocketAddr> {
    if listen.ip().is_unspecified() {
        default_addresses(listen.port())
    } else {
        vec![listen]
    }
}

/// What a new invitation is made of.
#[derive(Debug)]
pub struct Request<'a> {
    /// The sharer's name ("From").
    pub from: &'a str,
    /// What they need help with.
    pub message: &'a str,
    /// How long it stays valid, in seconds.
    pub validity: u64,
    /// The longest validity allowed, in seconds.
    pub max_validity: u64,
    /// The password, already checked for strength.
    pub password: &'a Secret<String>,
    /// Where the helper reaches this computer.
    pub addresses: Vec<SocketAddr>,
    /// The relays that reach it.
    pub relays: Option<&'a Relays>,
    /// How it will be delivered (see the module's documentation).
    pub delivery: String,
}

/// Relays (TURN servers) this computer holds an address on, and their secret.
#[derive(Debug)]
pub struct Relays {
    /// Each relay, and this computer's relayed address on it.
    pub relayed: Vec<(SocketAddr, SocketAddr)>,
    /// The relays' secret (`[relay] secret`).
    pub secret: Secret<String>,
}

/// The relays an invitation made now names: those `[relay]` sets on which the serving agent
/// holds an address, with the relays' secret. `None` without relays; said on standard error
/// when relays are set but no agent serves through them yet.
///
/// # Errors
/// When `[relay]` is incomplete or the store cannot be read.
pub fn relays_now(store: &Store, settings: &mail::RelaySettings) -> Result<Option<Relays>> {
    let Some((servers, secret)) = settings.resolve()? else {
        return Ok(None);
    };
    // A serving agent that has just started may still be reaching its relays.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(6);
    let relayed = loop {
        let relayed: Vec<_> = store
            .relayed()?
            .into_iter()
            .filter(|(server, _)| servers.contains(server))
            .collect();
        if !relayed.is_empty() || !crate::stop::serving() || std::time::Instant::now() > deadline {
            break relayed;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    if relayed.is_empty() {
        eprintln!("{}", crate::t!("relay-not-serving"));
        return Ok(None);
    }
    Ok(Some(Relays { relayed, secret }))
}

/// Makes an invitation and stores it (with its delivery), not yet delivered.
///
/// # Errors
/// When the validity is out of bounds, the name or message could not be shown faithfully to the
/// helper, or the store cannot be written.
pub fn create(store: &Store, request: &Request<'_>) -> Result<Invitation> {
    if request.validity < 60 {
        bail!("{}", crate::t!("expiry-too-short"));
    }
    if request.validity > request.max_validity {
        bail!(
            "{}",
            crate::t!(
                "expiry-too-long",
                most = when::duration(request.max_validity),
                asked = when::duration(request.validity)
            )
        );
    }
    // The helper's viewer refuses what it could not show faithfully: say so before anything
    // is made.
    beckon_engine::invite::check_text(request.from, request.message)?;
    let stretch_params = StretchParams::generate(&mut OsRng);
    // Only the credential is kept: it cannot log in, even from a copy of the store.
    let credential = Credential::register(
        &stretch(request.password.expose(), &stretch_params)?,
        &mut OsRng,
    );
    let identity = store.identity()?;
    let mut id_bytes = [0u8; 6];
    OsRng.fill_bytes(&mut id_bytes);
    let id: String = id_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let created = now();
    let invitation = Invitation {
        id: format!("{}-{}", &id[..6], &id[6..]),
        from: request.from.to_string(),
        message: request.message.to_string(),
        created,
        expires: created + request.validity,
        stretch: stretch_params,
        addresses: request.addresses.clone(),
        fingerprint: identity.fingerprint(),
        relays: Vec::new(),
    };
    let mut invitation = invitation;
    if let Some(Relays { relayed, secret }) = request.relays {
        // The helper's login ends with the invitation.
        let username = RelayTicket::username(invitation.expires);
        let key = beckon_engine::net::relay::turn_mac(secret.expose().as_bytes(), &username);
        invitation.relays = relayed
            .iter()
            .map(|&(server, relayed)| RelayTicket {
                server,
                relayed,
                key,
            })
            .collect();
    }
    // Check it as a helper will read it, before anything is stored.
    Invitation::parse(&invitation.to_toml()).with_context(|| crate::t!("invitation-unreadable"))?;
    store.add(&invitation, &credential, &request.delivery)?;
    Ok(invitation)
}

/// Delivers an invitation as its `delivery` says and logs it; returns the confirmation to show.
/// A `string` delivery only says where the code goes: the caller shows or copies it.
///
/// # Errors
/// When the file cannot be written or the e-mail cannot be sent.
pub fn deliver(
    store: &Store,
    invitation: &Invitation,
    delivery: &str,
    smtp: &mail::SmtpSettings,
) -> Result<String> {
    let confirmation = if let Some(path) = delivery.strip_prefix("file:") {
        crate::private::write(path.as_ref(), invitation.to_toml().as_bytes())?;
        crate::t!("delivered-file", file = path)
    } else if let Some(to) = delivery.strip_prefix("email:") {
        let from = smtp
            .from
            .as_deref()
            .with_context(|| crate::t!("no-sender"))?;
        mail::send(smtp, &mail::message(invitation, from, to)?)?;
        store.remember_helper(to)?;
        crate::t!("delivered-email", to = to)
    } else if let Some(rest) = delivery.strip_prefix("eml:") {
        let (to, path) = rest
            .split_once(':')
            .with_context(|| crate::t!("delivery-damaged"))?;
        let from = smtp
            .from
            .clone()
            .unwrap_or_else(|| format!("{} <beckon@localhost>", invitation.from));
        let message = mail::message(invitation, &from, to)?;
        crate::private::write(path.as_ref(), &message.formatted())?;
        store.remember_helper(to)?;
        crate::t!("delivered-eml", to = to, file = path)
    } else {
        crate::t!("delivered-code")
    };
    store.log(Some(&invitation.id), "sent", delivery)?;
    Ok(confirmation)
}

/// Who an invitation went to, from its delivery: the address it was e-mailed to, the file it
/// was saved in, or `string`.
pub fn recipient(delivery: &str) -> &str {
    if let Some(to) = delivery.strip_prefix("email:") {
        to
    } else if let Some(rest) = delivery.strip_prefix("eml:") {
        rest.split_once(':').map_or(rest, |(to, _)| to)
    } else {
        delivery.strip_prefix("file:").unwrap_or(delivery)
    }
}

/// A file name for an invitation from `from` saved in `folder`, not yet taken: `Beckon
/// invitation from Ada.beckon`, then `... (2).beckon`.
pub fn file_name(folder: &Path, from: &str) -> std::path::PathBuf {
    let name: String = from
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
        .collect();
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let name = name.trim_start_matches('.');
    let stem = if name.is_empty() {
        crate::t!("file-stem")
    } else {
        crate::t!("file-stem-from", from = name)
    };
    (1..)
        .map(|n| match n {
            1 => folder.join(format!("{stem}.beckon")),
            n => folder.join(format!("{stem} ({n}).beckon")),
        })
        .find(|path| !path.exists())
        .expect("a free name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_addresses_end_with_loopback_and_use_the_port() {
        let addresses = default_addresses(47_611);
        assert_eq!(
            addresses.last(),
            Some(&SocketAddr::from(([127, 0, 0, 1], 47_611)))
        );
        assert!(addresses.iter().all(|a| a.port() == 47_611));
        assert!(
            addresses[..addresses.len() - 1]
                .iter()
                .all(|a| !a.ip().is_loopback())
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), 90);
        assert_eq!(parse_duration("2h").unwrap(), 7200);
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn file_names_are_free_and_plain() {
        let dir = std::env::temp_dir().join(format!("beckon-desk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = file_name(&dir, "Ada / Lovelace");
        assert_eq!(
            first.file_name().unwrap(),
            "Beckon invitation from Ada Lovelace.beckon"
        );
        std::fs::write(&first, "").unwrap();
        assert_eq!(
            file_name(&dir, "Ada / Lovelace").file_name().unwrap(),
            "Beckon invitation from Ada Lovelace (2).beckon"
        );
        assert_eq!(
            file_name(&dir, "../..").file_name().unwrap(),
            "Beckon invitation.beckon"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
