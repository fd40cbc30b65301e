//! Password authentication without offline guessing.
//!
//! Windows Remote Assistance sealed its ticket with a key from one unsalted SHA-1 of the password:
//! whoever held the file could guess at full speed. Here the invitation holds only a salt and
//! argon2id parameters, and the password never crosses the network:
//!
//! 1. both sides stretch the password with argon2id ([`stretch`]); the agent keeps only the result
//!    (the ticket's verifier), never the password;
//! 2. they run SPAKE2 (Ed25519 group) on the stretched password: a wrong guess yields a different
//!    key and teaches the guesser nothing but "wrong", one guess per connection;
//! 3. key confirmation both ways, bound to *this* TLS session through its keying-material
//!    exporter (`confirmation`): a man in the middle holding two TLS sessions has two different
//!    exporters, so the MACs do not carry over. The helper proves itself first; the agent answers
//!    only a correct proof, and locks the invitation after too many wrong ones.

use hmac::{Hmac, Mac};
use rand_core::{CryptoRng, RngCore};
use sha2::Sha256;
use spake2::{Ed25519Group, Identity, Password, Spake2};
use thiserror::Error;

use crate::session::Secret;

/// argon2id parameters and salt, as an invitation carries them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StretchParams {
    /// Random salt, 16 bytes.
    pub salt: [u8; 16],
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl StretchParams {
    /// The parameters invitations use: 64 MiB, 3 passes, 1 lane (RFC 9106's second
    /// recommendation), with a fresh salt.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> StretchParams {
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        StretchParams {
            salt,
            m_cost_kib: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        }
    }
}

/// Why authentication material could not be made.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// The argon2id parameters are out of range.
    #[error("invalid argon2id parameters: {0}")]
    Params(#[source] argon2::Error),
}

/// The password stretched with argon2id: what SPAKE2 runs on, and all the agent keeps.
///
/// # Errors
/// [`AuthError::Params`] when the parameters are out of argon2's range.
pub fn stretch(password: &str, params: &StretchParams) -> Result<Secret<[u8; 32]>, AuthError> {
    let p = argon2::Params::new(params.m_cost_kib, params.t_cost, params.p_cost, Some(32))
        .map_err(AuthError::Params)?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
    let mut out = [0u8; 32];
    argon
        .hash_password_into(password.as_bytes(), &params.salt, &mut out)
        .map_err(AuthError::Params)?;
    Ok(Secret::new(out))
}

const AGENT_ID: &[u8] = b"beckon agent";
const VIEWER_ID: &[u8] = b"beckon viewer";

/// One side's SPAKE2 in progress.
pub(crate) struct Pake {
    state: Spake2<Ed25519Group>,
}

impl std::fmt::Debug for Pake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pake([redacted])")
    }
}

impl Pake {
    /// Starts the agent's (A) or the viewer's (B) side; returns the message to send.
    pub(crate) fn start(
        agent: bool,
        stretched: &Secret<[u8; 32]>,
        rng: impl RngCore + CryptoRng,
    ) -> (Pake, Vec<u8>) {
        let password = Password::new(stretched.expose());
        let (a, b) = (Identity::new(AGENT_ID), Identity::new(VIEWER_ID));
        let (state, msg) = if agent {
            Spake2::<Ed25519Group>::start_a_with_rng(&password, &a, &b, rng)
        } else {
            Spake2::<Ed25519Group>::start_b_with_rng(&password, &a, &b, rng)
        };
        (Pake { state }, msg)
    }

    /// Finishes with the peer's message: the shared key (equal on both sides only when both
    /// used the same password), or `None` for a malformed message.
    pub(crate) fn finish(self, peer: &[u8]) -> Option<Secret<[u8; 32]>> {
        let key = self.state.finish(peer).ok()?;
        key.as_slice().try_into().ok().map(Secret::new)
    }
}

/// Who proves knowledge of the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prover {
    Agent,
    Viewer,
}

/// The key-confirmation MAC of `prover`, before finalising: HMAC-SHA256 under the SPAKE2 key
/// over the role, the TLS exporter value of this connection and the invitation's digest (the
/// helper's copy on one side, the sharer's on the other).
fn confirmation_mac(
    key: &Secret<[u8; 32]>,
    prover: Prover,
    channel_binding: &[u8; 32],
    invitation: &[u8; 32],
) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.expose()).expect("HMAC takes any key");
    mac.update(match prover {
        Prover::Agent => b"beckon/2 confirm agent",
        Prover::Viewer => b"beckon/2 confirm viewer",
    });
    mac.update(channel_binding);
    mac.update(invitation);
    mac
}

/// `prover`'s key confirmation for this connection and invitation.
pub(crate) fn confirmation(
    key: &Secret<[u8; 32]>,
    prover: Prover,
    channel_binding: &[u8; 32],
    invitation: &[u8; 32],
) -> [u8; 32] {
    confirmation_mac(key, prover, channel_binding, invitation)
        .finalize()
        .into_bytes()
        .into()
}

/// Whether `got` is `prover`'s confirmation, compared in constant time.
pub(crate) fn verify_confirmation(
    key: &Secret<[u8; 32]>,
    prover: Prover,
    channel_binding: &[u8; 32],
    invitation: &[u8; 32],
    got: &[u8],
) -> bool {
    confirmation_mac(key, prover, channel_binding, invitation)
        .verify_slice(got)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn light() -> StretchParams {
        StretchParams {
            salt: [7; 16],
            m_cost_kib: 64,
            t_cost: 1,
            p_cost: 1,
        }
    }

    #[test]
    fn same_password_same_key_and_confirmations_check() {
        let s = stretch("correct horse battery staple", &light()).unwrap();
        let (a, ma) = Pake::start(true, &s, ChaCha20Rng::seed_from_u64(1));
        let (b, mb) = Pake::start(false, &s, ChaCha20Rng::seed_from_u64(2));
        let (ka, kb) = (a.finish(&mb).unwrap(), b.finish(&ma).unwrap());
        assert_eq!(ka.expose(), kb.expose());
        let binding = [3u8; 32];
        let proof = confirmation(&kb, Prover::Viewer, &binding, &[5u8; 32]);
        assert!(verify_confirmation(
            &ka,
            Prover::Viewer,
            &binding,
            &[5u8; 32],
            &proof
        ));
        // Bound to the channel, the role and the invitation.
        assert!(!verify_confirmation(
            &ka,
            Prover::Viewer,
            &[4u8; 32],
            &[5u8; 32],
            &proof
        ));
        assert!(!verify_confirmation(
            &ka,
            Prover::Agent,
            &binding,
            &[5u8; 32],
            &proof
        ));
        assert!(!verify_confirmation(
            &ka,
            Prover::Viewer,
            &binding,
            &[6u8; 32],
            &proof
        ));
    }

    #[test]
    fn wrong_password_gives_a_different_key() {
        let right = stretch("correct horse battery staple", &light()).unwrap();
        let wrong = stretch("correct horse battery stapler", &light()).unwrap();
        assert_ne!(right.expose(), wrong.expose());
        let (a, ma) = Pake::start(true, &right, ChaCha20Rng::seed_from_u64(1));
        let (b, mb) = Pake::start(false, &wrong, ChaCha20Rng::seed_from_u64(2));
        let (ka, kb) = (a.finish(&mb).unwrap(), b.finish(&ma).unwrap());
        assert_ne!(ka.expose(), kb.expose());
    }

    #[test]
    fn salt_and_parameters_change_the_stretch() {
        let base = stretch("pw", &light()).unwrap();
        let salted = stretch(
            "pw",
            &StretchParams {
                salt: [8; 16],
                ..light()
            },
        )
        .unwrap();
        let slower = stretch(
            "pw",
            &StretchParams {
                t_cost: 2,
                ..light()
            },
        )
        .unwrap();
        assert_ne!(base.expose(), salted.expose());
        assert_ne!(base.expose(), slower.expose());
        assert!(
            stretch(
                "pw",
                &StretchParams {
                    m_cost_kib: 1,
                    ..light()
                }
            )
            .is_err()
        );
    }
}
