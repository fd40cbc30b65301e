//! The relayed path: QUIC through a TURN server (RFC 8656), for a sharer no helper can reach
//! directly (a home router, a symmetric NAT, a firewall that lets only outgoing traffic through).
//!
//! [`RelaySocket`] is the UDP socket under a QUIC endpoint. It sends and receives as a plain
//! socket does, and besides holds allocations on TURN servers: a datagram for a peer that is
//! reached through a relay goes to that relay wrapped as TURN data, and TURN data arriving from a
//! relay reaches QUIC as a datagram from the peer it came from. QUIC never knows; the relay sees
//! only QUIC's ciphertext, so the certificate pin and the password exchange are unchanged.
//!
//! How the two ends meet: the sharer allocates a relayed address on a TURN server and lets every
//! relayed address of that server send to it (a permission for the server's own relay address);
//! the invitation names the server, the sharer's relayed address and a credential for the
//! helper. The helper allocates on the same server and sends from its relayed address to the
//! sharer's. Both ends only ever send to the TURN server, which any NAT lets through. The relay
//! is a standard one (coturn), with time-limited credentials from a secret shared with it
//! ([`TurnLogin::from_secret`], coturn's `use-auth-secret`), never a server of Beckon's own.
//!
//! The TURN protocol itself is `turn-client-proto`'s (sans-IO); this module only moves its
//! bytes, keeps its timers and routes QUIC's datagrams.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use quinn::udp::{RecvMeta, Transmit};
use quinn::{AsyncUdpSocket, Runtime, TokioRuntime, UdpPoller};
use tokio::sync::{Notify, watch};
use turn_client_proto::api::{TurnClientApi, TurnConfig, TurnEvent, TurnRecvRet};
use turn_client_proto::stun::Instant as TurnInstant;
use turn_client_proto::stun::agent::Transmit as TurnTransmit;
use turn_client_proto::stun::types::TransportType;
use turn_client_proto::stun::types::attribute::XorMappedAddress;
use turn_client_proto::stun::types::message::{
    BINDING, Message, MessageWrite as _, MessageWriteExt as _, MessageWriteVec, TransactionId,
};
use turn_client_proto::types::TurnCredentials;
use turn_client_proto::udp::TurnClientUdp;

use super::punch::{self, Kind, Punch};
use crate::session::Secret;

/// Peers one socket binds TURN channels to (4 bytes a datagram instead of 36); others go as
/// TURN data messages.
const MAX_CHANNELS: usize = 64;
/// Datagrams from relays held for QUIC beyond what one receive call takes.
const MAX_PENDING: usize = 256;
/// The time to live of everything but opening probes (Linux's default).
const DEFAULT_TTL: u32 = 64;

/// What went wrong with a relay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// The relay did not answer in time.
    #[error("{}", crate::t!("relay-silent", server = .0.to_string()))]
    Silent(SocketAddr),
    /// The relay refused the credentials or the allocation.
    #[error("{}", crate::t!("relay-refused", server = .0.to_string()))]
    Refused(SocketAddr),
    /// The relay refused to let a peer's traffic through.
    #[error("{}", crate::t!("relay-no-permission", server = .0.to_string()))]
    NoPermission(SocketAddr),
    /// The socket belongs to no relay with this address.
    #[error("{}", crate::t!("relay-unknown", server = .0.to_string()))]
    Unknown(SocketAddr),
}

/// A TURN login: a user name and a password for the long-term credential mechanism.
#[derive(Clone)]
pub struct TurnLogin {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: Secret<String>,
}

impl fmt::Debug for TurnLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TurnLogin")
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

impl TurnLogin {
    /// A login the relay accepts until `expires` (seconds since the Unix epoch) without knowing
    /// of it beforehand: the user name is `expires:label`, the password base64 of its
    /// HMAC-SHA1 under the secret the relay was started with (coturn's `use-auth-secret`,
    /// "TURN REST API" credentials).
    pub fn from_secret(secret: &[u8], expires: u64, label: &str) -> TurnLogin {
        let username = format!("{expires}:{label}");
        TurnLogin::from_mac(username.clone(), &turn_mac(secret, &username))
    }

    /// The login whose password is `mac`, as [`TurnLogin::from_secret`] made it.
    pub fn from_mac(username: String, mac: &[u8]) -> TurnLogin {
        use base64::Engine as _;
        let password = base64::engine::general_purpose::STANDARD.encode(mac);
        TurnLogin {
            username,
            password: Secret::new(password),
        }
    }
}

/// HMAC-SHA1 of `username` under `secret`: the password of a time-limited TURN login.
///
/// # Panics
/// Never: HMAC takes a key of any length.
pub fn turn_mac(secret: &[u8], username: &str) -> [u8; 20] {
    use hmac::Mac as _;
    let mut mac =
        hmac::Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(username.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Bytes and datagrams that went through relays, and directly, since the socket opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathStats {
    /// QUIC bytes sent to peers through a relay.
    pub relayed_sent: u64,
    /// QUIC bytes received from peers through a relay.
    pub relayed_received: u64,
    /// QUIC bytes sent straight to peers.
    pub direct_sent: u64,
    /// QUIC bytes received straight from peers.
    pub direct_received: u64,
}

/// One datagram of `contents` for `to`, as quinn's socket sends it.
fn datagram(to: SocketAddr, contents: &[u8]) -> Transmit<'_> {
    Transmit {
        destination: to,
        ecn: None,
        contents,
        segment_size: None,
        src_ip: None,
    }
}

/// One TURN server this socket uses.
struct Relay {
    server: SocketAddr,
    client: TurnClientUdp,
    relayed: Option<SocketAddr>,
    failed: Option<RelayError>,
    channels: usize,
    /// This socket's address as the relay sees it (its router's, behind one), from a STUN
    /// binding request whose transaction is `binding`.
    reflexive: Option<SocketAddr>,
    binding: Option<TransactionId>,
}

struct State {
    local: SocketAddr,
    relays: Vec<Relay>,
    /// Peers reached through a relay, and which.
    routes: HashMap<SocketAddr, usize>,
    /// Datagrams from relays not yet handed to QUIC.
    pending: VecDeque<(SocketAddr, Vec<u8>)>,
    stats: PathStats,
    /// The socket itself, for probes with a short time to live (IPv4).
    raw: Option<std::net::UdpSocket>,
    /// Hole punching towards peers reached through a relay ([`punch`]).
    punches: HashMap<SocketAddr, Punch>,
    /// Direct addresses found by punching, and the peer (as QUIC knows it) each stands for.
    aliases: HashMap<SocketAddr, SocketAddr>,
    /// A datagram listened for ([`RelaySocket::listen_for`]), and where it came from.
    marker: Option<Vec<u8>>,
    heard: Vec<SocketAddr>,
    /// The socket has closed: the task keeping the relays ends.
    closed: bool,
}

impl State {
    fn relay_of(&self, server: SocketAddr) -> Option<usize> {
        self.relays.iter().position(|r| r.server == server)
    }

    /// Reaches `peer` through the relay `index` from now on, on a channel of its own while
    /// there are few.
    fn add_route(&mut self, peer: SocketAddr, index: usize, now: TurnInstant) {
        let relay = &mut self.relays[index];
        if relay.channels < MAX_CHANNELS
            && relay
                .client
                .bind_channel(TransportType::Udp, peer, now)
                .is_ok()
        {
            relay.channels += 1;
        }
        self.routes.insert(peer, index);
    }

    /// Sends `data` to `peer` through the relay `index`.
    fn send_relayed(
        &mut self,
        socket: &dyn AsyncUdpSocket,
        index: usize,
        peer: SocketAddr,
        data: &[u8],
        now: TurnInstant,
    ) -> io::Result<()> {
        let relay = &mut self.relays[index];
        let Ok(Some(wrapped)) = relay.client.send_to(TransportType::Udp, peer, data, now) else {
            return Ok(());
        };
        let wrapped = wrapped.build();
        socket.try_send(&datagram(wrapped.to, &wrapped.data))
    }

    /// Sends a round of candidates (through the relay) and probes (straight) for each peer
    /// still punching; says when the next round is due.
    fn punch_round(
        &mut self,
        socket: &dyn AsyncUdpSocket,
        now: TurnInstant,
    ) -> Option<TurnInstant> {
        let mut next = None::<TurnInstant>;
        let peers: Vec<SocketAddr> = self.punches.keys().copied().collect();
        for peer in peers {
            let Some(attempt) = self.punches.get_mut(&peer) else {
                continue;
            };
            if !attempt.trying(now) {
                continue;
            }
            if attempt.next <= now {
                attempt.next = now + punch::EVERY;
                let key = attempt.key;
                let told = punch::seal(
                    &key,
                    Kind::Candidates,
                    &punch::candidates_body(&attempt.local),
                );
                let probe = punch::seal(&key, Kind::Probe, &[]);
                let remote = attempt.remote.clone();
                let opening = !remote.is_empty() && attempt.opened < punch::OPENING_ROUNDS;
                attempt.opened += u32::from(opening);
                if let Some(&index) = self.routes.get(&peer) {
                    let _ = self.send_relayed(socket, index, peer, &told, now);
                }
                for candidate in remote {
                    match (&self.raw, opening) {
                        (Some(raw), true) => {
                            // Between the two calls a QUIC datagram may leave with the short
                            // time to live too, and be lost: QUIC sends it again.
                            let _ = raw.set_ttl(punch::OPENING_TTL);
                            let _ = raw.send_to(&probe, candidate);
                            let _ = raw.set_ttl(DEFAULT_TTL);
                        }
                        _ => {
                            let _ = socket.try_send(&datagram(candidate, &probe));
                        }
                    }
                }
            }
            let due = self.punches[&peer].next;
            next = Some(next.map_or(due, |n| n.min(due)));
        }
        next
    }

    /// Takes a punching message from `from` (`relayed`: through a relay, where `from` is the
    /// peer itself); answers a probe straight away.
    fn take_punch(
        &mut self,
        socket: Option<&dyn AsyncUdpSocket>,
        from: SocketAddr,
        relayed: bool,
        data: &[u8],
        now: TurnInstant,
    ) {
        let found = if relayed {
            self.punches
                .get(&from)
                .and_then(|p| punch::open(&p.key, data))
                .map(|(kind, body)| (from, kind, body))
        } else {
            self.punches.iter().find_map(|(&peer, p)| {
                punch::open(&p.key, data).map(|(kind, body)| (peer, kind, body))
            })
        };
        let Some((peer, kind, body)) = found else {
            return;
        };
        let attempt = self.punches.get_mut(&peer).expect("found above");
        match (kind, relayed) {
            (Kind::Candidates, true) => {
                let remote = punch::read_candidates(body);
                if remote != attempt.remote {
                    tracing::debug!("{peer} may be reached straight at {remote:?}");
                    attempt.remote = remote;
                    attempt.next = now;
                }
            }
            (Kind::Probe, false) => {
                tracing::debug!("probe for {peer} from {from}: answering");
                let answer = punch::seal(&attempt.key, Kind::Answer, &[]);
                let Some(socket) = socket else { return };
                let _ = socket.try_send(&datagram(from, &answer));
            }
            (Kind::Answer, false) if attempt.direct.is_none() => {
                tracing::info!("direct path to {peer} found at {from}: the relay is left");
                attempt.direct = Some(from);
                attempt.relayed_before = self.stats.relayed_sent + self.stats.relayed_received;
                self.aliases.insert(from, peer);
            }
            _ => {}
        }
    }

    /// Sends what the TURN clients have to send, notes their events, and says when they next
    /// need a turn.
    fn flush(&mut self, socket: &dyn AsyncUdpSocket, now: TurnInstant) -> TurnInstant {
        let mut next = now + Duration::from_secs(1);
        if let Some(due) = self.punch_round(socket, now) {
            next = next.min(due.max(now + Duration::from_millis(5)));
        }
        for relay in &mut self.relays {
            if let turn_client_proto::api::TurnPollRet::WaitUntil(at) = relay.client.poll(now) {
                next = next.min(at.max(now + Duration::from_millis(5)));
            }
            while let Some(transmit) = relay.client.poll_transmit(now) {
                let _ = socket.try_send(&datagram(transmit.to, &transmit.data));
            }
            while let Some(event) = relay.client.poll_event() {
                match event {
                    TurnEvent::AllocationCreated(_, addr) => relay.relayed = Some(addr),
                    TurnEvent::AllocationCreateFailed(_) => {
                        relay.failed = Some(RelayError::Refused(relay.server));
                    }
                    TurnEvent::PermissionCreateFailed(..) => {
                        relay.failed = Some(RelayError::NoPermission(relay.server));
                    }
                    _ => {}
                }
            }
        }
        next
    }

    /// Hands a datagram from `server` to its TURN client; peer data is queued for QUIC.
    fn take_from_relay(&mut self, index: usize, data: &[u8], now: TurnInstant) {
        let local = self.local;
        let relay = &mut self.relays[index];
        let transmit = TurnTransmit::new(data, TransportType::Udp, relay.server, local);
        let peer = match relay.client.recv(transmit, now) {
            TurnRecvRet::PeerData(peer) => Some(peer.into_owned::<Vec<u8>>()),
            TurnRecvRet::Ignored(transmit) => {
                // The answer to this socket's binding request, if it is one.
                if let (Ok(message), Some(id)) = (Message::from_bytes(transmit.data), relay.binding)
                    && message.is_response()
                    && message.transaction_id() == id
                {
                    relay.reflexive = message
                        .attribute::<XorMappedAddress>()
                        .ok()
                        .map(|a| a.addr(id));
                    relay.binding = None;
                }
                None
            }
            _ => None,
        };
        if let Some(peer) = peer {
            let (from, bytes) = (peer.peer, peer.data().to_vec());
            if punch::is_punch(&bytes) {
                self.take_punch(None, from, true, &bytes, now);
                return;
            }
            if self.marker.as_deref() == Some(&bytes[..]) {
                self.heard.push(from);
                return;
            }
            if !self.routes.contains_key(&from) {
                self.add_route(from, index, now);
            }
            self.stats.relayed_received += bytes.len() as u64;
            if self.pending.len() < MAX_PENDING {
                self.pending.push_back((from, bytes));
            }
        }
        while let Some(peer) = self.relays[index].client.poll_recv(now) {
            self.stats.relayed_received += peer.data().len() as u64;
            if self.pending.len() < MAX_PENDING {
                self.pending.push_back((peer.peer, peer.data().to_vec()));
            }
        }
    }
}

/// A UDP socket for a QUIC endpoint that can also reach peers through TURN relays (see the
/// module's documentation). Make one with [`RelaySocket::bind`].
pub struct RelaySocket {
    inner: Arc<dyn AsyncUdpSocket>,
    state: Arc<Mutex<State>>,
    /// Wakes the task that keeps the relays' timers.
    wake: Arc<Notify>,
    changed: watch::Receiver<u64>,
    epoch: std::time::Instant,
}

impl fmt::Debug for RelaySocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("RelaySocket")
            .field("local", &state.local)
            .field(
                "relays",
                &state.relays.iter().map(|r| r.server).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl RelaySocket {
    /// Opens a UDP socket on `addr`, and the task that keeps its relays' allocations alive.
    /// Must be called within a tokio runtime.
    ///
    /// # Errors
    /// When the port cannot be opened.
    pub fn bind(addr: SocketAddr) -> io::Result<Arc<RelaySocket>> {
        let socket = std::net::UdpSocket::bind(addr)?;
        let local = socket.local_addr()?;
        let raw = socket.try_clone().ok().filter(|_| local.is_ipv4());
        let inner = TokioRuntime.wrap_udp_socket(socket)?;
        let (tell, changed) = watch::channel(0u64);
        let relay = Arc::new(RelaySocket {
            inner,
            state: Arc::new(Mutex::new(State {
                local,
                relays: Vec::new(),
                routes: HashMap::new(),
                pending: VecDeque::new(),
                stats: PathStats::default(),
                raw,
                punches: HashMap::new(),
                aliases: HashMap::new(),
                marker: None,
                heard: Vec::new(),
                closed: false,
            })),
            wake: Arc::new(Notify::new()),
            changed,
            epoch: std::time::Instant::now(),
        });
        tokio::spawn(keep_relays(
            Arc::downgrade(&relay.state),
            Arc::downgrade(&relay.inner),
            relay.wake.clone(),
            tell,
            relay.epoch,
        ));
        Ok(relay)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now(&self) -> TurnInstant {
        TurnInstant::from_std(self.epoch)
    }

    /// Allocates a relayed address on the TURN server at `server`, and returns it.
    ///
    /// # Errors
    /// [`RelayError::Silent`] when the server does not answer within `wait`,
    /// [`RelayError::Refused`] when it refuses the login.
    pub async fn allocate(
        &self,
        server: SocketAddr,
        login: &TurnLogin,
        wait: Duration,
    ) -> Result<SocketAddr, RelayError> {
        {
            let mut state = self.lock();
            if state.relay_of(server).is_none() {
                let credentials = TurnCredentials::new(&login.username, login.password.expose());
                let client =
                    TurnClientUdp::allocate(state.local, server, TurnConfig::new(credentials));
                state.relays.push(Relay {
                    server,
                    client,
                    relayed: None,
                    failed: None,
                    channels: 0,
                    reflexive: None,
                    binding: None,
                });
            }
        }
        let relayed = self.wait_for(server, wait, |relay| relay.relayed).await?;
        // Where this socket's router shows it to the world: a candidate for punching.
        let request = Message::builder_request(BINDING, MessageWriteVec::new());
        let id = request.transaction_id();
        let request = request.finish();
        for _ in 0..3 {
            {
                let mut state = self.lock();
                if let Some(index) = state.relay_of(server) {
                    state.relays[index].binding = Some(id);
                }
            }
            let _ = self.inner.try_send(&datagram(server, &request));
            let answered = self
                .wait_for(server, Duration::from_millis(300), |relay| relay.reflexive)
                .await;
            if answered.is_ok() {
                break;
            }
        }
        Ok(relayed)
    }

    /// Starts punching a direct path to `peer`, reached through a relay, with `key` (from
    /// [`super::punch_key`] on the connection to it) for `wait`. Once a path is found the
    /// connection's datagrams take it ([`RelaySocket::direct_path`]); until then, and when none
    /// is, they keep going through the relay. Only a peer reached through a relay is punched
    /// to; the call does nothing for others.
    pub fn punch(&self, peer: SocketAddr, key: [u8; 32], wait: Duration) {
        let now = self.now();
        let mut state = self.lock();
        if !state.routes.contains_key(&peer) || state.punches.contains_key(&peer) {
            return;
        }
        let mut local: Vec<SocketAddr> = state.relays.iter().filter_map(|r| r.reflexive).collect();
        let port = state.local.port();
        let host = if state.local.ip().is_unspecified() {
            // The address this computer's traffic to the relays leaves from.
            state.relays.first().and_then(|r| {
                let probe = std::net::UdpSocket::bind((state.local.ip(), 0)).ok()?;
                probe.connect(r.server).ok()?;
                Some(SocketAddr::new(probe.local_addr().ok()?.ip(), port))
            })
        } else {
            Some(state.local)
        };
        local.extend(host);
        local.dedup();
        tracing::debug!("punching towards {peer} from {local:?}");
        state.punches.insert(
            peer,
            Punch {
                key,
                local,
                remote: Vec::new(),
                direct: None,
                until: now + wait,
                next: now,
                opened: 0,
                relayed_before: 0,
            },
        );
        drop(state);
        self.wake.notify_one();
    }

    /// The address the socket is bound to.
    pub fn bound(&self) -> SocketAddr {
        self.lock().local
    }

    /// This socket's address as the relay at `server` sees it: its router's, behind one.
    pub fn reflexive(&self, server: SocketAddr) -> Option<SocketAddr> {
        let state = self.lock();
        state.relays[state.relay_of(server)?].reflexive
    }

    /// Sends `data` straight to `to`, not through a relay (for diagnosis).
    ///
    /// # Errors
    /// When the socket cannot send.
    pub fn send_straight(&self, to: SocketAddr, data: &[u8]) -> io::Result<()> {
        self.inner.try_send(&datagram(to, data))
    }

    /// Sends `data` to `peer` through the relay at `server` (for diagnosis).
    ///
    /// # Errors
    /// [`RelayError::Unknown`] without an allocation there.
    pub fn send_through(
        &self,
        server: SocketAddr,
        peer: SocketAddr,
        data: &[u8],
    ) -> Result<(), RelayError> {
        let now = self.now();
        let mut state = self.lock();
        let index = state.relay_of(server).ok_or(RelayError::Unknown(server))?;
        let _ = state.send_relayed(self.inner.as_ref(), index, peer, data, now);
        Ok(())
    }

    /// From now on, notes where a datagram equal to `marker` comes from, straight or through a
    /// relay, instead of handing it to QUIC ([`RelaySocket::heard`]); for diagnosis.
    pub fn listen_for(&self, marker: Vec<u8>) {
        let mut state = self.lock();
        state.marker = Some(marker);
        state.heard.clear();
    }

    /// Where the datagram [`RelaySocket::listen_for`] waits for came from so far.
    pub fn heard(&self) -> Vec<SocketAddr> {
        self.lock().heard.clone()
    }

    /// The direct path punching found to `peer`, if any, and the QUIC bytes that went through
    /// relays (to and from any peer) since.
    pub fn direct_path(&self, peer: SocketAddr) -> Option<(SocketAddr, u64)> {
        let state = self.lock();
        let attempt = state.punches.get(&peer)?;
        let relayed = state.stats.relayed_sent + state.stats.relayed_received;
        Some((attempt.direct?, relayed - attempt.relayed_before))
    }

    /// Lets every peer at `ip` send to this socket's allocation on `server` (and this socket
    /// send to it), once the relay confirms.
    ///
    /// # Errors
    /// [`RelayError::Unknown`] without an allocation there, [`RelayError::Silent`] or
    /// [`RelayError::NoPermission`] when the relay does not confirm.
    pub async fn permit(
        &self,
        server: SocketAddr,
        ip: IpAddr,
        wait: Duration,
    ) -> Result<(), RelayError> {
        {
            let now = self.now();
            let mut state = self.lock();
            let index = state.relay_of(server).ok_or(RelayError::Unknown(server))?;
            let client = &mut state.relays[index].client;
            if !client.have_permission(TransportType::Udp, ip) {
                let _ = client.create_permission(TransportType::Udp, ip, now);
            }
        }
        self.wake.notify_one();
        self.wait_for(server, wait, |relay| {
            relay
                .client
                .have_permission(TransportType::Udp, ip)
                .then_some(())
        })
        .await
    }

    /// From now on, datagrams for `peer` go through the relay at `server`.
    ///
    /// # Errors
    /// [`RelayError::Unknown`] without an allocation there.
    pub fn route(&self, peer: SocketAddr, server: SocketAddr) -> Result<(), RelayError> {
        let now = self.now();
        let mut state = self.lock();
        let index = state.relay_of(server).ok_or(RelayError::Unknown(server))?;
        state.add_route(peer, index, now);
        drop(state);
        self.wake.notify_one();
        Ok(())
    }

    /// Whether datagrams for `peer` go through a relay.
    pub fn is_relayed(&self, peer: SocketAddr) -> bool {
        self.lock().routes.contains_key(&peer)
    }

    /// The relayed addresses this socket holds, with their servers.
    pub fn relayed(&self) -> Vec<(SocketAddr, SocketAddr)> {
        self.lock()
            .relays
            .iter()
            .filter_map(|r| Some((r.server, r.relayed?)))
            .collect()
    }

    /// Bytes through relays and straight, so far.
    pub fn stats(&self) -> PathStats {
        self.lock().stats
    }

    async fn wait_for<T>(
        &self,
        server: SocketAddr,
        wait: Duration,
        done: impl Fn(&Relay) -> Option<T>,
    ) -> Result<T, RelayError> {
        self.wake.notify_one();
        let mut changed = self.changed.clone();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            {
                let state = self.lock();
                let index = state.relay_of(server).ok_or(RelayError::Unknown(server))?;
                let relay = &state.relays[index];
                if let Some(value) = done(relay) {
                    return Ok(value);
                }
                if let Some(failed) = &relay.failed {
                    return Err(failed.clone());
                }
            }
            if tokio::time::timeout_at(deadline, changed.changed())
                .await
                .map_or(true, |r| r.is_err())
            {
                return Err(RelayError::Silent(server));
            }
        }
    }
}

impl Drop for RelaySocket {
    fn drop(&mut self) {
        let now = self.now();
        let mut state = self.lock();
        state.closed = true;
        for relay in &mut state.relays {
            // Free the allocation now rather than when it times out.
            if relay.client.delete(now).is_ok() {
                while let Some(transmit) = relay.client.poll_transmit(now) {
                    let _ = self.inner.try_send(&datagram(transmit.to, &transmit.data));
                }
            }
        }
        drop(state);
        self.wake.notify_one();
    }
}

/// Keeps the relays' allocations, permissions and channels alive, and sends what their clients
/// have to send, until the socket closes.
async fn keep_relays(
    state: Weak<Mutex<State>>,
    socket: Weak<dyn AsyncUdpSocket>,
    wake: Arc<Notify>,
    tell: watch::Sender<u64>,
    epoch: std::time::Instant,
) {
    let mut generation = 0u64;
    loop {
        let (Some(state), Some(socket)) = (state.upgrade(), socket.upgrade()) else {
            return;
        };
        let now = TurnInstant::from_std(epoch);
        let next = {
            let mut state = state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if state.closed {
                return;
            }
            state.flush(socket.as_ref(), now)
        };
        generation += 1;
        let _ = tell.send(generation);
        drop((state, socket));
        let sleep = next.saturating_duration_since(now);
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = wake.notified() => {}
        }
    }
}

impl AsyncUdpSocket for RelaySocket {
    fn create_io_poller(self: Arc<Self>) -> Pin<Box<dyn UdpPoller>> {
        self.inner.clone().create_io_poller()
    }

    fn try_send(&self, transmit: &Transmit<'_>) -> io::Result<()> {
        let mut state = self.lock();
        let Some(&index) = state.routes.get(&transmit.destination) else {
            state.stats.direct_sent += transmit.contents.len() as u64;
            drop(state);
            return self.inner.try_send(transmit);
        };
        if let Some(direct) = state
            .punches
            .get(&transmit.destination)
            .and_then(|p| p.direct)
        {
            state.stats.direct_sent += transmit.contents.len() as u64;
            drop(state);
            return self.inner.try_send(&Transmit {
                destination: direct,
                ..*transmit
            });
        }
        let now = self.now();
        let size = transmit
            .segment_size
            .unwrap_or(transmit.contents.len())
            .max(1);
        for (i, piece) in transmit.contents.chunks(size).enumerate() {
            let sent =
                state.send_relayed(self.inner.as_ref(), index, transmit.destination, piece, now);
            match sent {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && i == 0 => return Err(e),
                _ => state.stats.relayed_sent += piece.len() as u64,
            }
        }
        Ok(())
    }

    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        loop {
            if let Some(n) = self.deliver_pending(bufs, meta) {
                return Poll::Ready(Ok(n));
            }
            let n = match self.inner.poll_recv(cx, bufs, meta) {
                Poll::Ready(Ok(n)) => n,
                other => return other,
            };
            let now = self.now();
            let mut state = self.lock();
            let mut kept = 0;
            for i in 0..n {
                let m = meta[i];
                let Some(index) = state.relay_of(m.addr) else {
                    if state.marker.as_deref() == Some(&bufs[i][..m.len]) {
                        state.heard.push(m.addr);
                        continue;
                    }
                    if punch::is_punch(&bufs[i][..m.len]) {
                        let data = bufs[i][..m.len].to_vec();
                        state.take_punch(Some(self.inner.as_ref()), m.addr, false, &data, now);
                        continue;
                    }
                    state.stats.direct_received += m.len as u64;
                    if kept != i {
                        let (head, tail) = bufs.split_at_mut(i);
                        head[kept][..m.len].copy_from_slice(&tail[0][..m.len]);
                    }
                    meta[kept] = m;
                    // A direct path found by punching stands for the peer QUIC knows.
                    if let Some(&peer) = state.aliases.get(&m.addr) {
                        meta[kept].addr = peer;
                    }
                    kept += 1;
                    continue;
                };
                let stride = m.stride.max(1);
                for datagram in bufs[i][..m.len].chunks(stride) {
                    let datagram = datagram.to_vec();
                    state.take_from_relay(index, &datagram, now);
                }
            }
            drop(state);
            if kept < n {
                // A relay's answers (or a probe) may leave something to send.
                self.wake.notify_one();
            }
            if kept > 0 {
                return Poll::Ready(Ok(kept));
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn may_fragment(&self) -> bool {
        self.inner.may_fragment()
    }
}

impl RelaySocket {
    /// Moves queued relay datagrams into QUIC's buffers; `None` when none are queued.
    fn deliver_pending(&self, bufs: &mut [IoSliceMut<'_>], meta: &mut [RecvMeta]) -> Option<usize> {
        let mut state = self.lock();
        let mut n = 0;
        while n < bufs.len().min(meta.len()) {
            let Some((from, data)) = state.pending.pop_front() else {
                break;
            };
            if data.len() > bufs[n].len() {
                continue;
            }
            bufs[n][..data.len()].copy_from_slice(&data);
            let mut m = RecvMeta::default();
            (m.addr, m.len, m.stride) = (from, data.len(), data.len());
            meta[n] = m;
            n += 1;
        }
        (n > 0).then_some(n)
    }
}
