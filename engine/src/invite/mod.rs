//! Invitations: what a sharer sends a helper, as a readable file or one copy-and-paste string.
//!
//! An [`Invitation`] holds who sends it and why, when it was made and when it expires, its id,
//! the argon2id salt and parameters, the agent's addresses, and its certificate fingerprint:
//! everything a helper needs to find, check and authenticate to the agent, and **nothing derived
//! from the password**, so holding the file allows no offline guessing (see
//! [`crate::session::auth`]).
//!
//! Two spellings of the same content:
//! - a TOML file ([`Invitation::to_toml`], [`Invitation::from_toml`]), for e-mail attachments
//!   and "save as file";
//! - a string `beckon:` + base64url of its compact binary form ([`Invitation::to_string_form`],
//!   [`Invitation::parse`]), for any chat program.
//!
//! Parsing checks every field and says which one is wrong and why; it never panics.
//!
//! ```
//! use beckon_engine::invite::{Fingerprint, Invitation};
//! use beckon_engine::session::auth::StretchParams;
//!
//! let inv = Invitation {
//!     id: "k3J9-xQ2m-77aB".into(),
//!     from: "Ada".into(),
//!     message: "My printer prints only blank pages.".into(),
//!     created: 1_795_000_000,
//!     expires: 1_795_003_600,
//!     stretch: StretchParams { salt: [0xA5; 16], m_cost_kib: 65_536, t_cost: 3, p_cost: 1 },
//!     addresses: vec!["192.0.2.10:47600".parse().unwrap()],
//!     fingerprint: Fingerprint([0x3C; 32]),
//!     relays: vec![],
//! };
//! let text = inv.to_toml();
//! assert_eq!(Invitation::from_toml(&text).unwrap(), inv);
//! let string = inv.to_string_form();
//! assert!(string.starts_with("beckon:"));
//! assert_eq!(Invitation::parse(&string).unwrap(), inv);
//! ```

mod fingerprint;
pub mod password;
pub mod when;

pub use fingerprint::Fingerprint;

use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::session::auth::StretchParams;

/// Version of the invitation format.
pub const INVITATION_VERSION: u32 = 1;
/// The copy-and-paste form starts with this.
pub const STRING_PREFIX: &str = "beckon:";
/// Largest invitation accepted, in bytes of either form.
pub const MAX_SIZE: usize = 16 * 1024;
/// Longest "From" name, in characters.
pub const MAX_FROM: usize = 128;
/// Longest message, in characters.
pub const MAX_MESSAGE: usize = 2000;
/// Most addresses an invitation lists.
pub const MAX_ADDRESSES: usize = 16;
/// Most relays an invitation lists.
pub const MAX_RELAYS: usize = 8;
/// Longest validity the format allows (the agent's own maximum is usually far shorter).
pub const MAX_VALIDITY_S: u64 = 30 * 24 * 3600;

/// One invitation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// Random id, 8 to 64 characters of `A-Z a-z 0-9 -`.
    pub id: String,
    /// The sharer's name, as they gave it ("From").
    pub from: String,
    /// What help they need.
    pub message: String,
    /// When it was made, in seconds since the Unix epoch.
    pub created: u64,
    /// When it expires, in seconds since the Unix epoch.
    pub expires: u64,
    /// argon2id salt and parameters for the password.
    pub stretch: StretchParams,
    /// Where the agent listens, in the order to try.
    pub addresses: Vec<SocketAddr>,
    /// SHA-256 of the agent's certificate.
    pub fingerprint: Fingerprint,
    /// TURN relays that reach the agent, for a helper who cannot reach it directly.
    pub relays: Vec<RelayTicket>,
}

/// A TURN relay the agent holds an address on, and the helper's way in: the helper allocates
/// on `server` with the login [`RelayTicket::username`] and [`RelayTicket::key`] make, and
/// sends to `relayed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayTicket {
    /// The TURN server (UDP).
    pub server: SocketAddr,
    /// The agent's relayed address on it.
    pub relayed: SocketAddr,
    /// HMAC-SHA1 of the login's user name under the relay's secret: the login's password,
    /// valid until the invitation expires.
    pub key: [u8; 20],
}

impl RelayTicket {
    /// The user name of a helper's login on a relay for an invitation expiring at `expires`.
    pub fn username(expires: u64) -> String {
        format!("{expires}:beckon")
    }
}

/// A relay as the file writes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RelayFields {
    server: String,
    relayed: String,
    /// The helper's relay login's password, as [`RelayTicket::key`].
    login: String,
}

/// The file's fields as written.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    version: u32,
    id: String,
    from: String,
    message: String,
    created: u64,
    expires: u64,
    argon2_salt: String,
    argon2_memory_kib: u32,
    argon2_passes: u32,
    argon2_lanes: u32,
    addresses: Vec<String>,
    fingerprint: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    relays: Vec<RelayFields>,
}

/// The copy-and-paste form's fields: the same as the file's, with the binary ones as bytes (a
/// salt, a fingerprint, addresses, relay logins) so the string stays short.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct CompactFields {
    version: u32,
    id: String,
    from: String,
    message: String,
    created: u64,
    expires: u64,
    argon2_salt: [u8; 16],
    argon2_memory_kib: u32,
    argon2_passes: u32,
    argon2_lanes: u32,
    addresses: Vec<SocketAddr>,
    fingerprint: [u8; 32],
    relays: Vec<(SocketAddr, SocketAddr, [u8; 20])>,
}

impl CompactFields {
    /// The file's fields, to be checked as a file's are.
    fn into_fields(self) -> Fields {
        Fields {
            version: self.version,
            id: self.id,
            from: self.from,
            message: self.message,
            created: self.created,
            expires: self.expires,
            argon2_salt: hex(&self.argon2_salt),
            argon2_memory_kib: self.argon2_memory_kib,
            argon2_passes: self.argon2_passes,
            argon2_lanes: self.argon2_lanes,
            addresses: self.addresses.iter().map(ToString::to_string).collect(),
            fingerprint: Fingerprint(self.fingerprint).to_string(),
            relays: self
                .relays
                .iter()
                .map(|(server, relayed, key)| RelayFields {
                    server: server.to_string(),
                    relayed: relayed.to_string(),
                    login: hex(key),
                })
                .collect(),
        }
    }
}

/// What is wrong with an invitation (said in the reader's language).
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InviteError {
    /// The text is not an invitation at all.
    NotAnInvitation {
        /// Why.
        reason: String,
    },
    /// A field is missing or wrong.
    InvalidField {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A newer format.
    Version(u32),
}

impl std::fmt::Display for InviteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            InviteError::NotAnInvitation { reason } => {
                crate::t!("invite-not-one", reason = reason.as_str())
            }
            InviteError::InvalidField { field, reason } => {
                crate::t!("invite-field", field = *field, reason = reason.as_str())
            }
            InviteError::Version(version) => crate::t!(
                "invite-version",
                version = *version,
                supported = INVITATION_VERSION
            ),
        };
        f.write_str(&text)
    }
}

impl std::error::Error for InviteError {}

fn field(field: &'static str, reason: impl Into<String>) -> InviteError {
    InviteError::InvalidField {
        field,
        reason: reason.into(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Invitation {
    /// Whether it has expired at `now` (seconds since the Unix epoch).
    pub fn is_expired(&self, now: u64) -> bool {
        now >= self.expires
    }

    /// The file's fields (what the digest covers).
    fn fields(&self) -> Fields {
        self.compact().into_fields()
    }

    /// The string form's fields.
    fn compact(&self) -> CompactFields {
        CompactFields {
            version: INVITATION_VERSION,
            id: self.id.clone(),
            from: self.from.clone(),
            message: self.message.clone(),
            created: self.created,
            expires: self.expires,
            argon2_salt: self.stretch.salt,
            argon2_memory_kib: self.stretch.m_cost_kib,
            argon2_passes: self.stretch.t_cost,
            argon2_lanes: self.stretch.p_cost,
            addresses: self.addresses.clone(),
            fingerprint: self.fingerprint.0,
            relays: self
                .relays
                .iter()
                .map(|r| (r.server, r.relayed, r.key))
                .collect(),
        }
    }

    /// SHA-256 of everything the invitation says (the same for its file and its string form):
    /// the helper sends it, and the agent refuses a helper whose copy differs from its own, so an
    /// edited From, message, expiry or address list is caught before anyone is asked.
    ///
    /// # Panics
    /// Never: every field of an invitation serialises.
    pub fn digest(&self) -> [u8; 32] {
        use sha2::Digest as _;
        let bytes = postcard::to_allocvec(&self.fields()).expect("an invitation always serialises");
        let mut hash = sha2::Sha256::new();
        hash.update(b"beckon invitation digest\0");
        hash.update(&bytes);
        hash.finalize().into()
    }

    /// The invitation as a TOML file, with a comment saying what it is.
    ///
    /// # Panics
    /// Never: every field of an invitation serialises.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(&self.fields()).expect("an invitation always serialises");
        format!(
            "# Beckon remote assistance invitation from {}.\n\
             # Open it with beckon-viewer; the password comes from the sharer by another way.\n{body}",
            self.from.replace('\n', " ")
        )
    }

    /// Reads an invitation file.
    ///
    /// # Errors
    /// [`InviteError`] naming the field at fault.
    pub fn from_toml(text: &str) -> Result<Invitation, InviteError> {
        if text.len() > MAX_SIZE {
            return Err(InviteError::NotAnInvitation {
                reason: crate::t!("invite-too-large", bytes = text.len()),
            });
        }
        let fields: Fields = toml::from_str(text).map_err(|e| InviteError::NotAnInvitation {
            reason: e.message().to_string(),
        })?;
        Invitation::check(fields)
    }

    /// The copy-and-paste form: `beckon:` and base64url of the compact binary form.
    ///
    /// # Panics
    /// Never: every field of an invitation serialises.
    pub fn to_string_form(&self) -> String {
        let compact = self.compact();
        let bytes = postcard::to_allocvec(&compact).expect("an invitation always serialises");
        format!("{STRING_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Reads either form: a `beckon:` string (surrounding spaces and line breaks a chat program
    /// added are ignored) or the TOML file's text.
    ///
    /// # Errors
    /// [`InviteError`] naming what is wrong.
    pub fn parse(text: &str) -> Result<Invitation, InviteError> {
        let trimmed = text.trim();
        let Some(rest) = trimmed.strip_prefix(STRING_PREFIX) else {
            return Invitation::from_toml(text);
        };
        if rest.len() > MAX_SIZE {
            return Err(InviteError::NotAnInvitation {
                reason: crate::t!("invite-string-too-long"),
            });
        }
        let compact: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = URL_SAFE_NO_PAD.decode(compact.as_bytes()).map_err(|_| {
            InviteError::NotAnInvitation {
                reason: crate::t!("invite-damaged"),
            }
        })?;
        let (fields, extra) = postcard::take_from_bytes::<CompactFields>(&bytes).map_err(|_| {
            InviteError::NotAnInvitation {
                reason: crate::t!("invite-damaged"),
            }
        })?;
        if !extra.is_empty() {
            return Err(InviteError::NotAnInvitation {
                reason: crate::t!("invite-extra"),
            });
        }
        Invitation::check(fields.into_fields())
    }

    fn check(f: Fields) -> Result<Invitation, InviteError> {
        if f.version != INVITATION_VERSION {
            return Err(InviteError::Version(f.version));
        }
        if !(8..=64).contains(&f.id.len())
            || !f.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(field("id", crate::t!("invite-id")));
        }
        check_text(&f.from, &f.message)?;
        let from = f.from.trim();
        if f.expires <= f.created {
            return Err(field("expires", crate::t!("invite-expires-early")));
        }
        if f.expires - f.created > MAX_VALIDITY_S {
            return Err(field("expires", crate::t!("invite-expires-late")));
        }
        let salt = parse_hex(&f.argon2_salt)
            .filter(|s| s.len() == 16)
            .ok_or_else(|| field("argon2_salt", crate::t!("invite-salt")))?;
        // A crafted invitation must not make the helper's computer spend gigabytes or
        // minutes stretching a password: a narrow range around what invitations use.
        if !ARGON2_MEMORY_KIB.contains(&f.argon2_memory_kib) {
            return Err(field("argon2_memory_kib", crate::t!("invite-memory")));
        }
        if !ARGON2_PASSES.contains(&f.argon2_passes) {
            return Err(field("argon2_passes", crate::t!("invite-passes")));
        }
        if !ARGON2_LANES.contains(&f.argon2_lanes) {
            return Err(field("argon2_lanes", crate::t!("invite-lanes")));
        }
        if f.addresses.is_empty() || f.addresses.len() > MAX_ADDRESSES {
            return Err(field(
                "addresses",
                crate::t!("invite-address-count", max = MAX_ADDRESSES),
            ));
        }
        let addresses = f
            .addresses
            .iter()
            .map(|a| address("addresses", a))
            .collect::<Result<Vec<_>, _>>()?;
        let fingerprint = Fingerprint::parse(&f.fingerprint)
            .ok_or_else(|| field("fingerprint", crate::t!("invite-fingerprint")))?;
        if f.relays.len() > MAX_RELAYS {
            return Err(field(
                "relays",
                crate::t!("invite-relay-count", max = MAX_RELAYS),
            ));
        }
        let relays = f
            .relays
            .iter()
            .map(|r| {
                Ok(RelayTicket {
                    server: address("relays", &r.server)?,
                    relayed: address("relays", &r.relayed)?,
                    key: parse_hex(&r.login)
                        .and_then(|k| <[u8; 20]>::try_from(k).ok())
                        .ok_or_else(|| field("relays", crate::t!("invite-relay-key")))?,
                })
            })
            .collect::<Result<Vec<_>, InviteError>>()?;
        Ok(Invitation {
            id: f.id,
            from: from.to_string(),
            message: f.message,
            created: f.created,
            expires: f.expires,
            stretch: StretchParams {
                salt: salt.try_into().expect("16 bytes checked"),
                m_cost_kib: f.argon2_memory_kib,
                t_cost: f.argon2_passes,
                p_cost: f.argon2_lanes,
            },
            addresses,
            fingerprint,
            relays,
        })
    }
}

/// The argon2id memory (KiB), passes and lanes an invitation may ask for.
pub const ARGON2_MEMORY_KIB: std::ops::RangeInclusive<u32> = 16 * 1024..=256 * 1024;
/// See [`ARGON2_MEMORY_KIB`].
pub const ARGON2_PASSES: std::ops::RangeInclusive<u32> = 1..=8;
/// See [`ARGON2_MEMORY_KIB`].
pub const ARGON2_LANES: std::ops::RangeInclusive<u32> = 1..=4;

/// Checks an invitation's sender and message as the helper will read them: a name of printable
/// characters, a message whose only control characters are line breaks, neither with a
/// bidirectional control or an invisible character (which could make the text read otherwise
/// than it is).
///
/// # Errors
/// [`InviteError::InvalidField`] naming the field.
pub fn check_text(from: &str, message: &str) -> Result<(), InviteError> {
    let from = from.trim();
    let shady = |c: char| crate::wire::text::invisible(c);
    if from.is_empty()
        || from.chars().count() > MAX_FROM
        || from.chars().any(|c| c.is_control() || shady(c))
    {
        return Err(field("from", crate::t!("invite-from", max = MAX_FROM)));
    }
    if message.chars().count() > MAX_MESSAGE {
        return Err(field(
            "message",
            crate::t!("invite-message-long", max = MAX_MESSAGE),
        ));
    }
    if message
        .chars()
        .any(|c| (c.is_control() && c != '\n') || shady(c))
    {
        return Err(field("message", crate::t!("invite-message-invisible")));
    }
    Ok(())
}

/// `text` as an address with a port, else an error naming `name`.
fn address(name: &'static str, text: &str) -> Result<SocketAddr, InviteError> {
    let quoted = || format!("{text:?}");
    let addr = text
        .parse::<SocketAddr>()
        .map_err(|_| field(name, crate::t!("invite-not-address", text = quoted())))?;
    if addr.port() == 0 {
        return Err(field(name, crate::t!("invite-no-port", text = quoted())));
    }
    Ok(addr)
}

fn parse_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
pub(crate) mod tests_support {
    //! A sample invitation for tests.
    use super::*;

    /// An invitation with every field filled.
    pub(crate) fn sample() -> Invitation {
        Invitation {
            id: "k3J9-xQ2m-77aB".into(),
            from: "Ada Lovelace".into(),
            message: "My printer prints only blank pages. Can you have a look?".into(),
            created: 1_795_000_000,
            expires: 1_795_003_600,
            stretch: StretchParams {
                salt: [0xA5; 16],
                m_cost_kib: 65_536,
                t_cost: 3,
                p_cost: 1,
            },
            addresses: vec![
                "192.0.2.10:47600".parse().unwrap(),
                "[2001:db8::1]:47600".parse().unwrap(),
            ],
            fingerprint: Fingerprint([0x3C; 32]),
            relays: vec![RelayTicket {
                server: "198.51.100.7:3478".parse().unwrap(),
                relayed: "198.51.100.7:49152".parse().unwrap(),
                key: [0x5A; 20],
            }],
        }
    }
}

#[cfg(test)]
mod tests;
