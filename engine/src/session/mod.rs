//! The session: what agent and viewer say to each other, as two sans-IO state machines.
//!
//! [`AgentSession`] (the sharer's side) and [`ViewerSession`] (the helper's side) own no socket,
//! clock or thread. The driver feeds each one inputs with the current time
//! (`handle_input(now_us, input)`: a received [`Message`](crate::wire::Message), a person's decision, a screen update
//! delivered, or just a tick), then drains `poll_output()` until it returns `None` (messages and
//! screen updates to send, a capture to make, events for the application, input to apply), and
//! calls again at `poll_timeout()` at the latest. Each side owns its half of the screen stream
//! ([`crate::stream`]): the agent's [`ScreenSender`](crate::stream::ScreenSender) runs only
//! after the sharer's Yes, and the viewer's
//! [`ScreenReceiver`](crate::stream::ScreenReceiver) takes updates only while viewing.
//!
//! ```text
//!   viewer                                         agent
//!   Hello{invitation id and digest,      ------>   digest differs? -> Refuse(InvitationChanged)
//!         helper, OPAQUE KE1}                      ticket open? expired? locked? -> Refuse
//!                                        <------   Pake{OPAQUE KE2, sharer}
//!   Confirm{OPAQUE KE3}                  ------>   wrong (or none before the end):
//!                                                    attempts + 1, Refuse(WrongPassword)
//!                                        <------   Confirm{agent MAC}   (sharer asked: Allow?)
//!                                        <------   Accepted | Refuse(Refused)
//!   screen updates flow                  <======
//!   RequestControl                       ------>   (sharer asked: share control?)
//!                                        <------   ControlGranted | ControlDenied
//!   Input ...                            ------>   applied only while controlling
//!   ControlEnded{Helper} (helper's Esc)  ------>
//!                                        <------   ControlEnded{Sharer} (sharer's Esc, at once)
//!   Chat                                 <----->   Chat
//!   Bye                                  <----->   Bye
//! ```
//!
//! The invariants, each tested: no screen update leaves the agent before the sharer's Yes (no
//! capture is even made); no helper input reaches the agent's output unless the helper has
//! control; the sharer's Esc ends control at once, locally, whatever is in flight; the helper's
//! Esc releases control; chat flows both ways while viewing or controlling; "Continue sharing?"
//! comes every [`Timers::continue_every_us`], and unanswered it disconnects. Authentication is
//! in [`auth`].

mod agent;
pub mod auth;
mod clipboard;
mod viewer;

pub use agent::{
    AgentConfig, AgentEvent, AgentInput, AgentOutput, AgentSession, AgentState, SharerDecision,
};
pub use viewer::{
    HelperAction, ViewerEvent, ViewerInput, ViewerOutput, ViewerSession, ViewerState,
};

use crate::wire::{Party, Refusal};

use zeroize::Zeroize;

/// A secret value: prints as `[redacted]`, wiped from memory when dropped.
#[derive(Clone)]
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    /// Wraps a secret.
    pub fn new(value: T) -> Secret<T> {
        Secret(value)
    }

    /// The secret itself: call only where it is used, never to log it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T: Zeroize> std::fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TicketState {
    /// Usable.
    Open,
    /// A helper is connected with it.
    InUse,
    /// Deleted by the sharer.
    Deleted,
    /// Locked after too many wrong passwords.
    Locked,
    /// Already used by a helper: an invitation admits one session.
    Used,
    /// No invitation has the id the helper named (see [`Ticket::unknown`]).
    Unknown,
}

/// The invitation a helper names: its id, and the digest of everything it says
/// ([`Invitation::digest`](crate::invite::Invitation::digest)), which the agent checks against
/// its own copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationRef {
    /// The invitation's id.
    pub id: String,
    /// Its digest.
    pub digest: [u8; 32],
}

impl InvitationRef {
    /// The reference to `invitation`.
    pub fn of(invitation: &crate::invite::Invitation) -> InvitationRef {
        InvitationRef {
            id: invitation.id.clone(),
            digest: invitation.digest(),
        }
    }

    /// An id with no invitation file behind it (embedding, tests): its digest stands for the id
    /// alone.
    pub fn bare(id: &str) -> InvitationRef {
        use sha2::Digest as _;
        let mut hash = sha2::Sha256::new();
        hash.update(b"beckon bare invitation id\0");
        hash.update(id.as_bytes());
        InvitationRef {
            id: id.to_string(),
            digest: hash.finalize().into(),
        }
    }
}

/// What the agent knows of an invitation: everything it needs to admit a helper, and nothing
/// from which the password could be read back.
#[derive(Clone, Debug)]
pub struct Ticket {
    /// The invitation's id.
    pub id: String,
    /// Its digest: a helper naming the id with another digest holds an edited copy.
    pub digest: [u8; 32],
    /// The sharer's name.
    pub sharer: String,
    /// What the agent keeps of the password ([`auth::Credential`]): it cannot log in.
    pub credential: auth::Credential,
    /// When it expires, on the session clock (microseconds).
    pub expires_at_us: u64,
    /// Wrong passwords so far, and logins in progress on other connections: each of those may
    /// be a guess (OPAQUE lets a helper test its guess against the agent's answer before
    /// proving anything), so an application serving several connections counts them in.
    pub attempts: u32,
    /// Wrong passwords that lock it.
    pub max_attempts: u32,
    /// Its state.
    pub state: TicketState,
}

impl Ticket {
    /// An open ticket that never expires, with no wrong password yet (embedding, tests), for the
    /// password stretched as [`auth::stretch`] does; it is registered here and dropped.
    pub fn open(id: &str, sharer: &str, stretched: Secret<[u8; 32]>) -> Ticket {
        Ticket {
            id: id.to_string(),
            digest: InvitationRef::bare(id).digest,
            sharer: sharer.to_string(),
            credential: auth::Credential::register(&stretched, &mut rand_core::OsRng),
            expires_at_us: u64::MAX,
            attempts: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            state: TicketState::Open,
        }
    }

    /// The ticket for an id the agent does not know: the session refuses it as
    /// [`Refusal::UnknownInvitation`] before any key exchange.
    pub fn unknown() -> Ticket {
        Ticket {
            id: String::new(),
            digest: [0; 32],
            sharer: String::new(),
            credential: auth::Credential::none(),
            expires_at_us: 0,
            attempts: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            state: TicketState::Unknown,
        }
    }
}

/// Failed attempts that lock an invitation.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// Why a session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The agent turned the helper away (wrong password, expired, locked, ...).
    Refused(Refusal),
    /// The agent's key confirmation was wrong: it is not the agent the invitation names.
    AgentNotAuthentic,
    /// The peer sent nothing for too long, or the handshake took too long.
    TimedOut,
    /// One side said goodbye.
    Disconnected {
        /// Who.
        by: Party,
    },
    /// The peer speaks another protocol version.
    VersionMismatch {
        /// Ours.
        ours: u16,
        /// Theirs.
        theirs: u16,
    },
    /// The peer broke the protocol.
    ProtocolError(String),
    /// The sharer's screen could not be captured or encoded (what failed, in words).
    ScreenFailed(String),
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            CloseReason::Refused(Refusal::WrongPassword { attempts_left: 0 }) => {
                t!("close-locked-now")
            }
            CloseReason::Refused(Refusal::WrongPassword { attempts_left }) => {
                t!("close-wrong-password", left = *attempts_left)
            }
            CloseReason::Refused(Refusal::Expired) => t!("close-expired"),
            CloseReason::Refused(Refusal::Deleted) => t!("close-deleted"),
            CloseReason::Refused(Refusal::Locked) => t!("close-locked"),
            CloseReason::Refused(Refusal::InUse) => t!("close-in-use"),
            CloseReason::Refused(Refusal::AlreadyUsed) => t!("close-used"),
            CloseReason::Refused(Refusal::InvitationChanged) => t!("close-changed"),
            CloseReason::Refused(Refusal::UnknownInvitation) => t!("close-unknown"),
            CloseReason::Refused(Refusal::Refused) => t!("close-refused"),
            CloseReason::AgentNotAuthentic => t!("close-not-authentic"),
            CloseReason::TimedOut => t!("close-timed-out"),
            CloseReason::Disconnected { by: Party::Sharer } => t!("close-sharer-left"),
            CloseReason::Disconnected { by: Party::Helper } => t!("close-helper-left"),
            CloseReason::VersionMismatch { ours, theirs } => {
                t!("close-version", ours = *ours, theirs = *theirs)
            }
            CloseReason::ProtocolError(detail) => t!("close-protocol", detail = detail.as_str()),
            CloseReason::ScreenFailed(detail) => t!("close-screen", detail = detail.as_str()),
        };
        f.write_str(&text)
    }
}

/// Timers of both sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timers {
    /// From start to authenticated.
    pub handshake_us: u64,
    /// Send a ping after this long without sending.
    pub ping_us: u64,
    /// Close after this long without receiving.
    pub idle_us: u64,
    /// Ask the sharer "Continue sharing?" after this long of viewing, and again this long after
    /// each Yes (the agent's side).
    pub continue_every_us: u64,
    /// Disconnect the helper when "Continue sharing?" is unanswered this long.
    pub continue_timeout_us: u64,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            handshake_us: 30_000_000,
            ping_us: 5_000_000,
            idle_us: 20_000_000,
            continue_every_us: 30 * 60 * 1_000_000,
            continue_timeout_us: 5 * 60 * 1_000_000,
        }
    }
}

/// What [`Liveness::due`] asks of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Due {
    /// Close: the peer is silent, or the handshake took too long.
    TimedOut,
    /// Send a ping.
    Ping,
    /// Nothing.
    Nothing,
}

/// Liveness bookkeeping shared by both sides.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Liveness {
    started: u64,
    last_received: u64,
    last_sent: u64,
}

impl Liveness {
    pub(crate) fn new(now: u64) -> Liveness {
        Liveness {
            started: now,
            last_received: now,
            last_sent: now,
        }
    }

    pub(crate) fn received(&mut self, now: u64) {
        self.last_received = now;
    }

    pub(crate) fn sent(&mut self, now: u64) {
        self.last_sent = now;
    }

    /// What is due at `now`: closing for silence or a slow handshake, a ping (only once
    /// authenticated), or nothing.
    pub(crate) fn due(&self, now: u64, timers: &Timers, authenticated: bool) -> Due {
        if now >= self.last_received + timers.idle_us
            || (!authenticated && now >= self.started + timers.handshake_us)
        {
            Due::TimedOut
        } else if authenticated && now >= self.last_sent + timers.ping_us {
            Due::Ping
        } else {
            Due::Nothing
        }
    }

    /// The next time something is due: the idle limit, and a ping once authenticated (none is
    /// sent before), or the handshake limit before.
    pub(crate) fn next_deadline(&self, timers: &Timers, authenticated: bool) -> u64 {
        let idle = self.last_received + timers.idle_us;
        if authenticated {
            idle.min(self.last_sent + timers.ping_us)
        } else {
            idle.min(self.started + timers.handshake_us)
        }
    }
}

#[cfg(test)]
mod tests;
