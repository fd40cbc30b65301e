//! QUIC transport: the only module that names `quinn` or `tokio`.
//!
//! The agent is the QUIC server with a self-signed certificate ([`AgentIdentity`]); the
//! invitation carries the certificate's SHA-256 [`Fingerprint`] and the viewer accepts exactly
//! that certificate, nothing else (no CA, no trust on first use). ALPN is `beckon/1`. After the
//! handshake both sides read the TLS keying-material exporter and hand it to
//! their session core, which binds the password proof to this very connection.
//!
//! Streams: the viewer opens one bidirectional **control stream** for session messages
//! ([`crate::wire::framing`]); every screen update travels on its own unidirectional stream, so
//! a lost packet delays only the update it belongs to, and the receiver puts them back in
//! order. The drivers in [`drive`] translate between sockets and the session cores and nothing
//! more.

pub mod drive;
mod punch;
pub mod relay;

pub use quinn::{Connection, Endpoint, Incoming};

use std::net::SocketAddr;
use std::sync::Arc;

use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use thiserror::Error;

use crate::invite::Fingerprint;

/// The ALPN protocol name.
pub(crate) const ALPN: &[u8] = b"beckon/1";
/// Label of the TLS exporter value the session binds to.
pub(crate) const EXPORTER_LABEL: &[u8] = b"EXPORTER-beckon-session-binding";
/// Largest screen update accepted on a stream.
pub const MAX_UPDATE: usize = 64 << 20;
/// The name the viewer asks for; the certificate is pinned, so it only has to match itself.
const SERVER_NAME: &str = "beckon-agent";

/// What went wrong on the network.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NetError {
    /// The UDP socket could not be opened.
    #[error("{}", crate::t!("net-bind", addr = .addr.to_string(), why = .source.to_string()))]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// The sharer's computer did not answer.
    #[error("{}", crate::t!("net-unreachable", addr = .addr.to_string(), port = *.port))]
    Unreachable {
        /// The address tried.
        addr: SocketAddr,
        /// Its port.
        port: u16,
    },
    /// The certificate is not the one the invitation names.
    #[error("{}", crate::t!("net-wrong-certificate", addr = .addr.to_string()))]
    WrongCertificate {
        /// The address.
        addr: SocketAddr,
    },
    /// A connection could not be started.
    #[error("{}", crate::t!("net-connect", why = .0.to_string()))]
    Connect(#[from] quinn::ConnectError),
    /// The connection failed or broke.
    #[error("{}", crate::t!("net-failed", why = .0.to_string()))]
    Connection(#[from] quinn::ConnectionError),
    /// The peer opened no control stream in time.
    #[error("{}", crate::t!("net-no-control"))]
    NoControlStream,
    /// The control stream broke.
    #[error("{}", crate::t!("net-read", why = .0.to_string()))]
    Read(#[from] quinn::ReadError),
    /// Writing the control stream failed.
    #[error("{}", crate::t!("net-write", why = .0.to_string()))]
    Write(#[from] quinn::WriteError),
    /// The peer broke the framing or sent a malformed message.
    #[error("{}", crate::t!("net-framing", why = .0.to_string()))]
    Framing(#[from] crate::wire::FramingError),
    /// TLS set-up failed.
    #[error("{}", crate::t!("net-tls", why = .0.to_string()))]
    Tls(#[from] rustls::Error),
    /// The TLS configuration does not suit QUIC.
    #[error("{}", crate::t!("net-tls", why = .0.to_string()))]
    QuicTls(#[from] quinn::crypto::rustls::NoInitialCipherSuite),
    /// The agent's certificate could not be made.
    #[error("{}", crate::t!("net-certificate", why = .0.to_string()))]
    Certificate(#[from] rcgen::Error),
    /// The connection offers no keying-material exporter to bind the session to.
    #[error("{}", crate::t!("net-no-exporter"))]
    NoExporter,
}

/// The agent's self-signed certificate and key.
pub struct AgentIdentity {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for AgentIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentIdentity")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl AgentIdentity {
    /// A fresh self-signed certificate (ECDSA P-256).
    ///
    /// # Errors
    /// [`NetError::Certificate`] when key generation fails.
    pub fn generate() -> Result<AgentIdentity, NetError> {
        let certified = rcgen::generate_simple_self_signed(vec![SERVER_NAME.to_string()])?;
        Ok(AgentIdentity {
            cert: certified.cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()),
        })
    }

    /// An identity from stored DER bytes (certificate, PKCS#8 key).
    pub fn from_der(cert: Vec<u8>, key: Vec<u8>) -> AgentIdentity {
        AgentIdentity {
            cert: CertificateDer::from(cert),
            key: PrivatePkcs8KeyDer::from(key),
        }
    }

    /// The certificate and key as DER bytes, for storage.
    pub fn to_der(&self) -> (Vec<u8>, Vec<u8>) {
        (self.cert.to_vec(), self.key.secret_pkcs8_der().to_vec())
    }

    /// The fingerprint invitations carry.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.cert)
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A QUIC endpoint that serves as the agent on `addr`.
///
/// # Errors
/// [`NetError::Bind`] when the port cannot be opened, [`NetError::Tls`] for a bad identity.
pub fn agent_endpoint(
    addr: SocketAddr,
    identity: &AgentIdentity,
) -> Result<quinn::Endpoint, NetError> {
    quinn::Endpoint::server(agent_config(identity)?, addr)
        .map_err(|source| NetError::Bind { addr, source })
}

/// A QUIC endpoint that serves as the agent on `socket`, which may also hold relayed
/// addresses.
///
/// # Errors
/// [`NetError::Tls`] for a bad identity, [`NetError::Bind`] when the runtime refuses the socket.
pub fn agent_endpoint_on(
    socket: Arc<relay::RelaySocket>,
    identity: &AgentIdentity,
) -> Result<quinn::Endpoint, NetError> {
    endpoint_on(socket, Some(agent_config(identity)?))
}

/// A QUIC endpoint for viewers on `socket`, which may also hold relayed addresses.
///
/// # Errors
/// [`NetError::Bind`] when the runtime refuses the socket.
pub fn viewer_endpoint_on(socket: Arc<relay::RelaySocket>) -> Result<quinn::Endpoint, NetError> {
    endpoint_on(socket, None)
}

fn endpoint_on(
    socket: Arc<relay::RelaySocket>,
    server: Option<quinn::ServerConfig>,
) -> Result<quinn::Endpoint, NetError> {
    let addr = socket.bound();
    quinn::Endpoint::new_with_abstract_socket(
        quinn::EndpointConfig::default(),
        server,
        socket,
        Arc::new(quinn::TokioRuntime),
    )
    .map_err(|source| NetError::Bind { addr, source })
}

fn agent_config(identity: &AgentIdentity) -> Result<quinn::ServerConfig, NetError> {
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(
            vec![identity.cert.clone()],
            PrivateKeyDer::Pkcs8(identity.key.clone_key()),
        )?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = QuicServerConfig::try_from(tls)?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    config.transport_config(Arc::new(transport(AGENT_LIMITS)));
    // Connections not yet accepted by the application, and what they may buffer.
    config
        .max_incoming(64)
        .incoming_buffer_size(64 << 10)
        .incoming_buffer_size_total(4 << 20);
    Ok(config)
}

/// A QUIC endpoint for viewers, on an ephemeral port of `addr`'s family.
///
/// # Errors
/// [`NetError::Bind`] when no port can be opened.
pub fn viewer_endpoint(addr: SocketAddr) -> Result<quinn::Endpoint, NetError> {
    quinn::Endpoint::client(addr).map_err(|source| NetError::Bind { addr, source })
}

/// What the agent lets a helper's connection send it: one control stream of small messages, no
/// stream of the helper's own, and little buffered, so a connection that never authenticates
/// costs the agent kilobytes, not megabytes.
pub const AGENT_LIMITS: Limits = Limits {
    bidi_streams: 1,
    uni_streams: 0,
    stream_window: 64 << 10,
    connection_window: 128 << 10,
};

/// What the viewer lets the agent send it: update streams (never a stream the other way), an
/// update of at most a few megabytes in flight on each, and a bound on them all.
pub const VIEWER_LIMITS: Limits = Limits {
    bidi_streams: 0,
    uni_streams: 256,
    stream_window: 8 << 20,
    connection_window: 32 << 20,
};

/// The streams and buffers one side grants the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bidirectional streams the peer may open at once.
    pub bidi_streams: u32,
    /// Unidirectional streams the peer may open at once.
    pub uni_streams: u32,
    /// Bytes buffered for one stream.
    pub stream_window: u32,
    /// Bytes buffered for the whole connection.
    pub connection_window: u32,
}

fn transport(limits: Limits) -> quinn::TransportConfig {
    let mut t = quinn::TransportConfig::default();
    t.max_concurrent_bidi_streams(limits.bidi_streams.into());
    t.max_concurrent_uni_streams(limits.uni_streams.into());
    t.stream_receive_window(limits.stream_window.into());
    t.receive_window(limits.connection_window.into());
    t.datagram_receive_buffer_size(None);
    t.max_idle_timeout(Some(quinn::VarInt::from_u32(30_000).into()));
    t.keep_alive_interval(Some(std::time::Duration::from_secs(5)));
    t
}

/// Connects to the agent at `addr`, accepting only the certificate with `fingerprint`.
///
/// # Errors
/// [`NetError::Unreachable`] when nothing answers within `timeout`, [`NetError::WrongCertificate`]
/// when the certificate differs, [`NetError::Connection`] otherwise.
pub async fn connect(
    endpoint: &quinn::Endpoint,
    addr: SocketAddr,
    fingerprint: Fingerprint,
    timeout: std::time::Duration,
) -> Result<quinn::Connection, NetError> {
    let verifier = PinnedVerifier {
        fingerprint,
        provider: provider(),
    };
    let mut tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = QuicClientConfig::try_from(tls)?;
    let mut config = quinn::ClientConfig::new(Arc::new(crypto));
    config.transport_config(Arc::new(transport(VIEWER_LIMITS)));
    let connecting = endpoint.connect_with(config, addr, SERVER_NAME)?;
    // The pinned verifier's refusal is an `access_denied` alert ([`PinnedVerifier`]).
    let refused = quinn::TransportErrorCode::crypto(rustls::AlertDescription::AccessDenied.into());
    match tokio::time::timeout(timeout, connecting).await {
        Err(_) | Ok(Err(quinn::ConnectionError::TimedOut)) => Err(NetError::Unreachable {
            addr,
            port: addr.port(),
        }),
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(quinn::ConnectionError::TransportError(e))) if e.code == refused => {
            Err(NetError::WrongCertificate { addr })
        }
        Ok(Err(e)) => Err(e.into()),
    }
}

/// The key both ends of `connection` seal their hole-punching messages with
/// ([`relay::RelaySocket::punch`]): from the TLS exporter, so only they have it.
///
/// # Errors
/// [`NetError::NoExporter`] when the exporter is unavailable.
pub fn punch_key(connection: &quinn::Connection) -> Result<[u8; 32], NetError> {
    let mut out = [0u8; 32];
    connection
        .export_keying_material(&mut out, b"EXPORTER-beckon-punch", b"")
        .map_err(|_| NetError::NoExporter)?;
    Ok(out)
}

/// This connection's TLS exporter value, the same on both ends of one connection and different
/// on any other.
///
/// # Errors
/// [`NetError::NoExporter`] when the exporter is unavailable.
pub(crate) fn channel_binding(connection: &quinn::Connection) -> Result<[u8; 32], NetError> {
    let mut out = [0u8; 32];
    connection
        .export_keying_material(&mut out, EXPORTER_LABEL, b"")
        .map_err(|_| NetError::NoExporter)?;
    Ok(out)
}

/// Accepts exactly the certificate whose SHA-256 the invitation carries, and checks that the
/// server holds its key. Any other certificate fails as `ApplicationVerificationFailure`, which
/// rustls sends as an `access_denied` alert: [`connect`] tells that apart.
#[derive(Debug)]
struct PinnedVerifier {
    fingerprint: Fingerprint,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if Fingerprint::of(end_entity) == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::Tls12NotOffered,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_print_and_parse() {
        let id = AgentIdentity::generate().unwrap();
        let f = id.fingerprint();
        assert_eq!(Fingerprint::parse(&f.to_string()), Some(f));
        assert_eq!(Fingerprint::parse("00:11"), None);
        let (cert, key) = id.to_der();
        assert_eq!(AgentIdentity::from_der(cert, key).fingerprint(), f);
        assert!(!format!("{id:?}").contains("key:"), "the key never prints");
    }

    /// A connection that never authenticates can open one control stream and nothing else:
    /// no update-like stream of its own, no second control stream.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_agent_grants_a_connection_one_stream_and_no_more() {
        let identity = AgentIdentity::generate().unwrap();
        let agent = agent_endpoint("127.0.0.1:0".parse().unwrap(), &identity).unwrap();
        let addr = agent.local_addr().unwrap();
        let held = tokio::spawn(async move { agent.accept().await.unwrap().await.unwrap() });
        let client = viewer_endpoint("127.0.0.1:0".parse().unwrap()).unwrap();
        let wait = std::time::Duration::from_secs(5);
        let connection = connect(&client, addr, identity.fingerprint(), wait)
            .await
            .unwrap();
        let _held = held.await.unwrap();
        let soon = std::time::Duration::from_millis(300);
        let (mut send, _recv) = connection.open_bi().await.unwrap();
        send.write_all(b"x").await.unwrap();
        assert!(
            tokio::time::timeout(soon, connection.open_uni())
                .await
                .is_err(),
            "a unidirectional stream was granted"
        );
        assert!(
            tokio::time::timeout(soon, connection.open_bi())
                .await
                .is_err(),
            "a second control stream was granted"
        );
        // The control stream buffers at most its window: a flood waits for the agent to read.
        let flood = vec![0u8; 4 << 20];
        assert!(
            tokio::time::timeout(soon, send.write_all(&flood))
                .await
                .is_err(),
            "4 MiB were buffered for a reader that never read"
        );
    }
}
