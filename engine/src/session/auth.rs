//! Password authentication without offline guessing, and with nothing to steal.
//!
//! Windows Remote Assistance sealed its ticket with a key from one unsalted SHA-1 of the password:
//! whoever held the file could guess at full speed. Here the invitation holds only a salt and
//! argon2id parameters, and the password never crosses the network:
//!
//! 1. both sides stretch the password with argon2id ([`stretch`]);
//! 2. when it makes the invitation, the agent registers the stretched password with OPAQUE
//!    (RFC 9807, ristretto255) and keeps only the server's half ([`Credential`]): a copy of it
//!    still needs a dictionary attack, each guess through argon2id, to log in;
//! 3. they log in with OPAQUE: the helper's first message (KE1) rides in its hello, the agent
//!    answers (KE2), and the helper's proof (KE3) is its confirmation. A wrong guess teaches
//!    "wrong" and nothing else, one guess per answer, so the agent counts an answer that no
//!    correct proof follows as a wrong password;
//! 4. both are bound to *this* TLS session through its keying-material exporter and to the
//!    invitation's digest (OPAQUE's context): a man in the middle holding two TLS sessions has
//!    two different exporters, so neither side's proof carries over. The agent confirms last
//!    (an HMAC under the session key), and locks the invitation after too many wrong passwords.

use hmac::{Hmac, Mac};
use rand_core::{CryptoRng, RngCore};
use sha2::Sha256;
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
    /// Stored bytes are not a credential.
    #[error("the stored credential is damaged")]
    Credential,
}

/// The password stretched with argon2id: what OPAQUE runs on (the agent registers it, then
/// forgets it).
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

/// OPAQUE's suite: ristretto255 for the OPRF and the key exchange (3DH, SHA-512), no stretching
/// inside OPAQUE: its password is already the argon2id output.
struct Suite;

impl opaque_ke::CipherSuite for Suite {
    type OprfCs = opaque_ke::Ristretto255;
    type KeGroup = opaque_ke::Ristretto255;
    type KeyExchange = opaque_ke::key_exchange::tripledh::TripleDh;
    type Ksf = opaque_ke::ksf::Identity;
}

/// The name the helper's credential is registered under (one per invitation, so one name).
const CREDENTIAL_ID: &[u8] = b"beckon helper";

/// What the agent keeps of an invitation's password: an OPAQUE server setup and the helper's
/// password file. Unlike the stretched password it cannot log in: whoever copies it must still
/// guess passwords, each through argon2id, to find one the helper's side would accept.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential(Vec<u8>);

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credential([redacted])")
    }
}

impl Drop for Credential {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl Credential {
    /// Registers the stretched password: both halves of OPAQUE's registration run here, and only
    /// the server's half is kept.
    ///
    /// # Panics
    /// Never: the messages it passes between the halves are its own.
    pub fn register(stretched: &Secret<[u8; 32]>, rng: &mut (impl RngCore + CryptoRng)) -> Self {
        use opaque_ke::{
            ClientRegistration, ClientRegistrationFinishParameters, ServerRegistration, ServerSetup,
        };
        let setup = ServerSetup::<Suite>::new(rng);
        let password = stretched.expose();
        let start = ClientRegistration::<Suite>::start(rng, password)
            .expect("registration starts from any password");
        let response = ServerRegistration::<Suite>::start(&setup, start.message, CREDENTIAL_ID)
            .expect("a request made here is well formed");
        let finish = start
            .state
            .finish(
                rng,
                password,
                response.message,
                ClientRegistrationFinishParameters::default(),
            )
            .expect("a response made here is well formed");
        let file = ServerRegistration::<Suite>::finish(finish.message);
        let mut bytes = setup.serialize().to_vec();
        bytes.extend_from_slice(&file.serialize());
        Credential(bytes)
    }

    /// No credential: nothing logs in with it.
    pub(crate) fn none() -> Credential {
        Credential(Vec::new())
    }

    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// A stored credential.
    ///
    /// # Errors
    /// [`AuthError::Credential`] when the bytes are not one.
    pub fn from_bytes(bytes: &[u8]) -> Result<Credential, AuthError> {
        let credential = Credential(bytes.to_vec());
        credential.parts().ok_or(AuthError::Credential)?;
        Ok(credential)
    }

    fn parts(
        &self,
    ) -> Option<(
        opaque_ke::ServerSetup<Suite>,
        opaque_ke::ServerRegistration<Suite>,
    )> {
        // The setup's serialized length is fixed by the suite: measured once, on a throwaway.
        static SETUP_LEN: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        let len = *SETUP_LEN.get_or_init(|| {
            opaque_ke::ServerSetup::<Suite>::new(&mut NoRng)
                .serialize()
                .len()
        });
        let (setup, file) = self.0.split_at_checked(len)?;
        Some((
            opaque_ke::ServerSetup::deserialize(setup).ok()?,
            opaque_ke::ServerRegistration::deserialize(file).ok()?,
        ))
    }
}

/// Only for measuring a serialized length: never asked for a byte that matters.
struct NoRng;

impl RngCore for NoRng {
    fn next_u32(&mut self) -> u32 {
        0
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(1);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        dest.fill(1);
        Ok(())
    }
}

impl CryptoRng for NoRng {}

/// What both sides bind the login to: this TLS connection (its keying-material exporter) and
/// the invitation's digest.
fn context(channel_binding: &[u8; 32], invitation: &[u8; 32]) -> [u8; 72] {
    let mut out = [0u8; 72];
    out[..8].copy_from_slice(b"beckon/3");
    out[8..40].copy_from_slice(channel_binding);
    out[40..].copy_from_slice(invitation);
    out
}

/// The session key OPAQUE gives both sides, cut to 32 bytes for the confirmations.
fn session_key(key: &[u8]) -> Secret<[u8; 32]> {
    let mut out = [0u8; 32];
    out.copy_from_slice(&key[..32]);
    Secret::new(out)
}

/// The agent's side of a login, between its answer (KE2) and the helper's proof (KE3).
pub(crate) struct AgentLogin {
    state: opaque_ke::ServerLogin<Suite>,
}

impl std::fmt::Debug for AgentLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AgentLogin([redacted])")
    }
}

impl AgentLogin {
    /// Answers the helper's first message (KE1); `None` when it is malformed.
    pub(crate) fn start(
        credential: &Credential,
        request: &[u8],
        channel_binding: &[u8; 32],
        invitation: &[u8; 32],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Option<(AgentLogin, Vec<u8>)> {
        let (setup, file) = credential.parts()?;
        let request = opaque_ke::CredentialRequest::<Suite>::deserialize(request).ok()?;
        let context = context(channel_binding, invitation);
        let params = opaque_ke::ServerLoginStartParameters {
            context: Some(&context),
            identifiers: opaque_ke::Identifiers::default(),
        };
        let start =
            opaque_ke::ServerLogin::start(rng, &setup, Some(file), request, CREDENTIAL_ID, params)
                .ok()?;
        Some((
            AgentLogin { state: start.state },
            start.message.serialize().to_vec(),
        ))
    }

    /// Checks the helper's proof (KE3): the session key when it holds, else `None`.
    pub(crate) fn finish(self, proof: &[u8]) -> Option<Secret<[u8; 32]>> {
        let proof = opaque_ke::CredentialFinalization::<Suite>::deserialize(proof).ok()?;
        let done = self.state.finish(proof).ok()?;
        Some(session_key(&done.session_key))
    }
}

/// The helper's side of a login, between its first message (KE1) and the agent's answer.
pub(crate) struct ViewerLogin {
    state: opaque_ke::ClientLogin<Suite>,
}

impl std::fmt::Debug for ViewerLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ViewerLogin([redacted])")
    }
}

/// How the agent's answer turned out for the helper.
pub(crate) enum Answer {
    /// The password is right and the agent holds the invitation: the proof (KE3) to send and
    /// the session key.
    Proved(Vec<u8>, Secret<[u8; 32]>),
    /// The answer does not open with this password (or was made for another connection).
    Wrong,
    /// The answer is not an OPAQUE message at all.
    Malformed,
}

impl ViewerLogin {
    /// Starts with the stretched password; returns the first message (KE1).
    pub(crate) fn start(
        stretched: &Secret<[u8; 32]>,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> (ViewerLogin, Vec<u8>) {
        let start = opaque_ke::ClientLogin::<Suite>::start(rng, stretched.expose())
            .expect("login starts from any password");
        (
            ViewerLogin { state: start.state },
            start.message.serialize().to_vec(),
        )
    }

    /// Opens the agent's answer (KE2).
    pub(crate) fn finish(
        self,
        stretched: &Secret<[u8; 32]>,
        answer: &[u8],
        channel_binding: &[u8; 32],
        invitation: &[u8; 32],
    ) -> Answer {
        let Ok(answer) = opaque_ke::CredentialResponse::<Suite>::deserialize(answer) else {
            return Answer::Malformed;
        };
        let context = context(channel_binding, invitation);
        let params = opaque_ke::ClientLoginFinishParameters::new(
            Some(&context),
            opaque_ke::Identifiers::default(),
            None,
        );
        match self.state.finish(stretched.expose(), answer, params) {
            Ok(done) => Answer::Proved(
                done.message.serialize().to_vec(),
                session_key(&done.session_key),
            ),
            Err(_) => Answer::Wrong,
        }
    }
}

/// The agent's key-confirmation MAC, before finalising: HMAC-SHA256 under the session key over
/// the TLS exporter value of this connection and the invitation's digest (the helper's copy on
/// one side, the sharer's on the other).
fn confirmation_mac(
    key: &Secret<[u8; 32]>,
    channel_binding: &[u8; 32],
    invitation: &[u8; 32],
) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.expose()).expect("HMAC takes any key");
    mac.update(b"beckon/3 confirm agent");
    mac.update(channel_binding);
    mac.update(invitation);
    mac
}

/// The agent's key confirmation for this connection and invitation: it lets the helper in.
pub(crate) fn confirmation(
    key: &Secret<[u8; 32]>,
    channel_binding: &[u8; 32],
    invitation: &[u8; 32],
) -> [u8; 32] {
    confirmation_mac(key, channel_binding, invitation)
        .finalize()
        .into_bytes()
        .into()
}

/// Whether `got` is the agent's confirmation, compared in constant time.
pub(crate) fn verify_confirmation(
    key: &Secret<[u8; 32]>,
    channel_binding: &[u8; 32],
    invitation: &[u8; 32],
    got: &[u8],
) -> bool {
    confirmation_mac(key, channel_binding, invitation)
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

    /// A login of `guess` against a credential registered for `password`, with each side's
    /// channel binding and invitation digest: the viewer's answer, and what the agent makes of
    /// the proof when there is one.
    fn login(
        password: &str,
        guess: &str,
        agent_side: ([u8; 32], [u8; 32]),
        viewer_side: ([u8; 32], [u8; 32]),
    ) -> (Answer, Option<bool>) {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let credential = Credential::register(&stretch(password, &light()).unwrap(), &mut rng);
        let guess = stretch(guess, &light()).unwrap();
        let (viewer, ke1) = ViewerLogin::start(&guess, &mut rng);
        let (agent, ke2) =
            AgentLogin::start(&credential, &ke1, &agent_side.0, &agent_side.1, &mut rng).unwrap();
        let answer = viewer.finish(&guess, &ke2, &viewer_side.0, &viewer_side.1);
        let agreed = match &answer {
            Answer::Proved(ke3, key) => {
                let agent_key = agent.finish(ke3);
                Some(agent_key.is_some_and(|k| k.expose() == key.expose()))
            }
            _ => None,
        };
        (answer, agreed)
    }

    #[test]
    fn the_right_password_logs_in_and_the_confirmation_checks() {
        let side = ([3u8; 32], [5u8; 32]);
        let (answer, agreed) = login(
            "correct horse battery staple",
            "correct horse battery staple",
            side,
            side,
        );
        assert_eq!(agreed, Some(true));
        let Answer::Proved(_, key) = answer else {
            unreachable!()
        };
        let proof = confirmation(&key, &side.0, &side.1);
        assert!(verify_confirmation(&key, &side.0, &side.1, &proof));
        // Bound to the channel and the invitation.
        assert!(!verify_confirmation(&key, &[4u8; 32], &side.1, &proof));
        assert!(!verify_confirmation(&key, &side.0, &[6u8; 32], &proof));
    }

    #[test]
    fn a_wrong_password_another_channel_or_another_invitation_opens_nothing() {
        let side = ([3u8; 32], [5u8; 32]);
        let right = "correct horse battery staple";
        let (answer, _) = login(right, "correct horse battery stapler", side, side);
        assert!(matches!(answer, Answer::Wrong));
        let (answer, _) = login(right, right, side, ([4u8; 32], side.1));
        assert!(
            matches!(answer, Answer::Wrong),
            "a relay between two TLS sessions"
        );
        let (answer, _) = login(right, right, side, (side.0, [6u8; 32]));
        assert!(matches!(answer, Answer::Wrong), "an edited invitation");
    }

    #[test]
    fn the_credential_holds_nothing_that_logs_in() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let stretched = stretch("correct horse battery staple", &light()).unwrap();
        let credential = Credential::register(&stretched, &mut rng);
        let bytes = credential.as_bytes();
        assert!(
            !bytes.windows(32).any(|w| w == stretched.expose()),
            "the stretched password is in the credential"
        );
        assert_eq!(Credential::from_bytes(bytes).unwrap(), credential);
        assert_eq!(
            Credential::from_bytes(&bytes[1..]),
            Err(AuthError::Credential)
        );
        assert_eq!(format!("{credential:?}"), "Credential([redacted])");
        // Every 32 bytes of the credential, tried as the stretched password, are refused.
        let (agent_side, invitation) = ([3u8; 32], [5u8; 32]);
        for window in bytes.chunks_exact(32) {
            let guess = Secret::new(<[u8; 32]>::try_from(window).unwrap());
            let (viewer, ke1) = ViewerLogin::start(&guess, &mut rng);
            let (_, ke2) =
                AgentLogin::start(&credential, &ke1, &agent_side, &invitation, &mut rng).unwrap();
            assert!(matches!(
                viewer.finish(&guess, &ke2, &agent_side, &invitation),
                Answer::Wrong
            ));
        }
    }

    #[test]
    fn malformed_messages_are_refused_not_panics() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let stretched = stretch("pw", &light()).unwrap();
        let credential = Credential::register(&stretched, &mut rng);
        for junk in [&[][..], &[0u8; 7], &[0xffu8; 96], &[1u8; 200]] {
            assert!(AgentLogin::start(&credential, junk, &[0; 32], &[0; 32], &mut rng).is_none());
            let (viewer, _) = ViewerLogin::start(&stretched, &mut rng);
            assert!(matches!(
                viewer.finish(&stretched, junk, &[0; 32], &[0; 32]),
                Answer::Malformed | Answer::Wrong
            ));
        }
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
