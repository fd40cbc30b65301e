//! Hole punching under a relayed QUIC connection: once a helper reached the sharer through a
//! relay and proved the password, both ends tell each other, through the relay, the addresses
//! they may be reached at straight (their address on their own network, and the one their
//! router shows the relay), and send small probes to the other's. A probe that comes back
//! answered is a direct path: from then on [`super::relay::RelaySocket`] sends the connection's
//! datagrams straight to it and hands QUIC what arrives from it as if it still came through the
//! relay, so QUIC sees one peer address throughout and the relay carries nothing more. Behind a
//! router that gives each destination a port of its own (a symmetric NAT) no probe gets through,
//! and the session stays on the relay.
//!
//! Every message is sealed with a key both ends take from their TLS session
//! ([`super::punch_key`]), so nobody else can make either end move its path, and bounded: a few
//! candidates, a few probes a second, for seconds.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use hmac::Mac as _;
use turn_client_proto::stun::Instant;

/// Starts every message; its first byte has QUIC's fixed bit clear and is no STUN message type.
const MAGIC: [u8; 8] = *b"*BkPunch";
/// Bytes of HMAC-SHA256 kept.
const TAG: usize = 16;
/// Most candidates one end announces.
pub(crate) const MAX_CANDIDATES: usize = 8;
/// How often candidates and probes go out while no direct path is found.
pub(crate) const EVERY: Duration = Duration::from_millis(200);
/// Rounds of probes sent with a small time to live first: they open this end's router to the
/// peer's address and die a hop or two beyond it, before they can reach the peer's router. A
/// probe that reached a router before its own side had sent anything out would leave it a
/// record of an unanswered arrival, which makes it give the later outgoing traffic another port
/// (Linux's connection tracking does), and the hole would never meet.
pub(crate) const OPENING_ROUNDS: u32 = 5;
/// The time to live of the opening probes.
pub(crate) const OPENING_TTL: u32 = 2;

/// What a message says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The sender's candidates (through the relay).
    Candidates = 1,
    /// "Can you hear me here?" (straight to a candidate).
    Probe = 2,
    /// "I heard you" (straight back to where the probe came from).
    Answer = 3,
}

/// Whether `data` is a punching message rather than QUIC.
pub(crate) fn is_punch(data: &[u8]) -> bool {
    data.len() >= MAGIC.len() + 1 + TAG && data[..MAGIC.len()] == MAGIC
}

fn mac(key: &[u8; 32]) -> hmac::Hmac<sha2::Sha256> {
    hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes a key of any length")
}

/// A sealed message of `kind` carrying `body`.
pub(crate) fn seal(key: &[u8; 32], kind: Kind, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAGIC.len() + 1 + body.len() + TAG);
    out.extend_from_slice(&MAGIC);
    out.push(kind as u8);
    out.extend_from_slice(body);
    let mut m = mac(key);
    m.update(&out);
    out.extend_from_slice(&m.finalize().into_bytes()[..TAG]);
    out
}

/// The kind and body of a message sealed with `key`; `None` when it was not.
pub(crate) fn open<'a>(key: &[u8; 32], data: &'a [u8]) -> Option<(Kind, &'a [u8])> {
    if !is_punch(data) {
        return None;
    }
    let (signed, tag) = data.split_at(data.len() - TAG);
    let mut m = mac(key);
    m.update(signed);
    m.verify_truncated_left(tag).ok()?;
    let kind = match signed[MAGIC.len()] {
        1 => Kind::Candidates,
        2 => Kind::Probe,
        3 => Kind::Answer,
        _ => return None,
    };
    Some((kind, &signed[MAGIC.len() + 1..]))
}

/// Candidates as a body: IPv4 address and port, six bytes each.
pub(crate) fn candidates_body(candidates: &[SocketAddr]) -> Vec<u8> {
    let mut out = Vec::new();
    for addr in candidates.iter().take(MAX_CANDIDATES) {
        if let SocketAddr::V4(v4) = addr {
            out.extend_from_slice(&v4.ip().octets());
            out.extend_from_slice(&v4.port().to_be_bytes());
        }
    }
    out
}

/// The candidates a body lists (at most [`MAX_CANDIDATES`], none unspecified or of port 0).
pub(crate) fn read_candidates(body: &[u8]) -> Vec<SocketAddr> {
    body.chunks_exact(6)
        .take(MAX_CANDIDATES)
        .map(|c| {
            let ip = Ipv4Addr::new(c[0], c[1], c[2], c[3]);
            SocketAddr::new(IpAddr::V4(ip), u16::from_be_bytes([c[4], c[5]]))
        })
        .filter(|a| !a.ip().is_unspecified() && a.port() != 0 && !a.ip().is_multicast())
        .collect()
}

/// Punching towards one peer (the address QUIC knows it by, through the relay).
#[derive(Debug)]
pub(crate) struct Punch {
    pub(crate) key: [u8; 32],
    /// This end's candidates.
    pub(crate) local: Vec<SocketAddr>,
    /// The peer's, once told.
    pub(crate) remote: Vec<SocketAddr>,
    /// The direct path found.
    pub(crate) direct: Option<SocketAddr>,
    /// When to stop trying.
    pub(crate) until: Instant,
    /// When to send the next round.
    pub(crate) next: Instant,
    /// Opening rounds sent so far ([`OPENING_ROUNDS`]).
    pub(crate) opened: u32,
    /// QUIC bytes the socket had moved through relays when the direct path was found.
    pub(crate) relayed_before: u64,
}

impl Punch {
    /// Whether it still sends candidates and probes at `now`.
    pub(crate) fn trying(&self, now: Instant) -> bool {
        self.direct.is_none() && now < self.until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_messages_open_only_with_their_key_and_unchanged() {
        let (key, other) = ([7u8; 32], [8u8; 32]);
        let candidates: Vec<SocketAddr> = vec![
            "198.51.100.2:47600".parse().unwrap(),
            "10.1.0.2:47600".parse().unwrap(),
        ];
        let sealed = seal(&key, Kind::Candidates, &candidates_body(&candidates));
        assert!(is_punch(&sealed));
        let (kind, body) = open(&key, &sealed).unwrap();
        assert_eq!(kind, Kind::Candidates);
        assert_eq!(read_candidates(body), candidates);
        assert!(open(&other, &sealed).is_none(), "opened with another key");
        let mut changed = sealed.clone();
        changed[10] ^= 1;
        assert!(open(&key, &changed).is_none(), "a changed message opened");
        assert!(open(&key, &sealed[..20]).is_none());
        // A QUIC packet (fixed bit set) and a STUN message are never taken for one.
        assert!(!is_punch(&[0x40; 64]) && !is_punch(&[0x00, 0x01, 0, 0, 0x21, 0x12, 0xA4, 0x42]));
    }

    #[test]
    fn candidates_are_bounded_and_sane() {
        let many: Vec<SocketAddr> = (1..40)
            .map(|i| SocketAddr::from(([192, 0, 2, i], 1000)))
            .collect();
        assert_eq!(
            read_candidates(&candidates_body(&many)).len(),
            MAX_CANDIDATES
        );
        let junk = [0u8, 0, 0, 0, 0, 0, 224, 0, 0, 1, 0, 80, 1, 2, 3];
        assert!(read_candidates(&junk).is_empty());
    }
}
