//! The sharer's side of a session: authentication, consent, control, chat and timers, and the
//! [`ScreenSender`] whose updates flow only after the sharer's Yes.

use std::collections::VecDeque;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::pipeline::PipelineError;
use crate::session::auth::{AgentLogin, confirmation};
use crate::session::clipboard::{self, Assembly};
use crate::session::{CloseReason, Due, Liveness, Secret, Ticket, TicketState, Timers};
use crate::stream::{Capture, OutgoingUpdate, ScreenSender, SenderOutput, StreamConfig};
use crate::wire::message::PROTOCOL_VERSION;
use crate::wire::{InputEvent, Message, Party, Refusal};

/// Where the agent's session stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentState {
    /// Waiting for the helper's hello and proof of the password.
    Authenticating,
    /// Authenticated; the sharer is asked whether to allow the connection.
    AwaitingConsent,
    /// The helper sees the screen.
    Viewing,
    /// The helper asked for control; the sharer is asked.
    ControlRequested,
    /// The helper's input drives the computer.
    Controlling,
    /// Over.
    Closed(CloseReason),
}

/// What the sharer decided, or typed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SharerDecision {
    /// Yes or No to "`<helper> wants to connect to your computer`".
    AllowConnection(bool),
    /// Yes or No to "`<helper> would like to share control`".
    AllowControl(bool),
    /// The sharer pressed Esc (or Stop control): control ends at once.
    Esc,
    /// The sharer pressed Disconnect.
    Disconnect,
    /// The sharer sent a chat message.
    Chat(String),
    /// The sharer's clipboard holds this text now: it goes to the helper only while they have
    /// control (the application decides whether the clipboard is shared at all).
    Clipboard(String),
    /// Yes or No to "Continue sharing your screen with `<helper>`?"
    ContinueSharing(bool),
    /// The sharer chose what the helper sees: one monitor (its name and place), or `None` for
    /// all of them. The application has already switched its capture.
    Showing(Option<String>),
    /// Another helper already has the sharer's attention: a helper who just proved the password
    /// is turned away with [`Refusal::InUse`] instead of being asked about.
    Busy,
}

/// An input to [`AgentSession::handle_input`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AgentInput {
    /// A message from the viewer.
    Received(Message),
    /// The sharer acted.
    Decision(SharerDecision),
    /// Screen update `seq` reached the viewer ([`AgentOutput::SendUpdate`]); the transport's
    /// smoothed round trip was then `rtt_us`.
    Delivered {
        /// The update's sequence number.
        seq: u64,
        /// The round trip, in microseconds.
        rtt_us: u64,
    },
    /// Screen update `seq` will never reach the viewer.
    Lost {
        /// The update's sequence number.
        seq: u64,
    },
    /// Time passed (at the time [`AgentSession::poll_timeout`] asked for, or any time), and the
    /// transport's smoothed round trip is `rtt_us` (`None` when it has none).
    Tick {
        /// The round trip, in microseconds.
        rtt_us: Option<u64>,
    },
    /// The connection or the screen failed: the session ends for this reason (a goodbye goes
    /// out, in case the connection still stands).
    Closed(CloseReason),
}

/// What the application should know or show.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AgentEvent {
    /// Ask the sharer: "`<helper> wants to connect to your computer. Allow?`"
    HelperWantsToConnect {
        /// The helper's name.
        helper: String,
    },
    /// A wrong password: persist the count; `locked` when the invitation must now lock.
    AttemptFailed {
        /// Wrong passwords so far.
        attempts: u32,
        /// Whether the invitation is now locked.
        locked: bool,
    },
    /// The helper sees the screen from now on.
    ViewingStarted,
    /// Ask the sharer: "`<helper> would like to share control of your computer. Allow?`"
    HelperWantsControl {
        /// The helper's name.
        helper: String,
    },
    /// The helper has control.
    ControlStarted,
    /// Control ended.
    ControlEnded {
        /// Who ended it.
        by: Party,
    },
    /// The helper sent a chat message.
    Chat {
        /// The text.
        text: String,
    },
    /// Ask the sharer: "Continue sharing your screen with `<helper>`?"
    /// ([`SharerDecision::ContinueSharing`]); unanswered for [`Timers::continue_timeout_us`],
    /// the helper is disconnected.
    AskContinue {
        /// The helper's name.
        helper: String,
    },
    /// "Continue sharing?" went unanswered: the question is withdrawn and the helper
    /// disconnected.
    ContinueUnanswered,
    /// The session is over.
    Closed(CloseReason),
}

/// An output of [`AgentSession::poll_output`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AgentOutput {
    /// Send this message on the control stream.
    Send(Message),
    /// Send this screen update on a stream of its own, and report back
    /// [`AgentInput::Delivered`] or [`AgentInput::Lost`].
    SendUpdate(OutgoingUpdate),
    /// Capture the screen now, and hand it to [`AgentSession::handle_capture`].
    Capture,
    /// Apply this input to the sharer's computer (only ever while the helper has control).
    Apply(InputEvent),
    /// The helper, who has control, copied this text: put it on the sharer's clipboard, in
    /// order with the input around it (a Ctrl+V after it pastes it).
    SetClipboard(String),
    /// Tell the application.
    Event(AgentEvent),
}

/// Settings of the sharer's side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AgentConfig {
    /// Session timers.
    pub timers: Timers,
    /// The screen stream.
    pub stream: StreamConfig,
}

/// Where "Continue sharing?" stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Continue {
    /// Not viewing yet.
    Off,
    /// Ask at this time.
    AskAt(u64),
    /// Asked; unanswered by this time, the helper is disconnected.
    AnswerBy(u64),
}

/// The sharer's side of one connection.
#[derive(Debug)]
pub struct AgentSession {
    state: AgentState,
    ticket: Ticket,
    binding: [u8; 32],
    rng: ChaCha20Rng,
    helper: String,
    /// The login between the agent's answer and the helper's proof: the helper can test its
    /// one guess against the answer, so a session that ends here counts a wrong password.
    login: Option<AgentLogin>,
    key: Option<Secret<[u8; 32]>>,
    request: u32,
    timers: Timers,
    live: Liveness,
    continuing: Continue,
    screen: ScreenSender,
    /// A capture was asked for and not yet handed in.
    capture_asked: bool,
    /// The helper's clipboard text, part by part.
    clipboard: Assembly,
    out: VecDeque<AgentOutput>,
}

impl AgentSession {
    /// A session for one connection that may use `ticket`. `channel_binding` is this
    /// connection's TLS keying-material exporter value; `rng_seed` seeds the key exchange (fresh
    /// randomness from the OS in real use).
    pub fn new(
        ticket: Ticket,
        channel_binding: [u8; 32],
        rng_seed: [u8; 32],
        config: AgentConfig,
        now_us: u64,
    ) -> AgentSession {
        AgentSession {
            state: AgentState::Authenticating,
            ticket,
            binding: channel_binding,
            rng: ChaCha20Rng::from_seed(rng_seed),
            helper: String::new(),
            login: None,
            key: None,
            request: 0,
            timers: config.timers,
            live: Liveness::new(now_us),
            continuing: Continue::Off,
            screen: ScreenSender::new(config.stream),
            capture_asked: false,
            clipboard: Assembly::default(),
            out: VecDeque::new(),
        }
    }

    /// Where the session stands.
    pub fn state(&self) -> &AgentState {
        &self.state
    }

    /// The helper's name, once they said hello.
    pub fn helper(&self) -> &str {
        &self.helper
    }

    /// Whether screen updates may flow: only after the sharer's Yes.
    pub fn may_send_screen(&self) -> bool {
        matches!(
            self.state,
            AgentState::Viewing | AgentState::ControlRequested | AgentState::Controlling
        )
    }

    /// The next output, or `None` when there is nothing more until the next input.
    pub fn poll_output(&mut self) -> Option<AgentOutput> {
        self.out.pop_front()
    }

    /// When to call [`AgentSession::handle_input`] with [`AgentInput::Tick`] at the latest.
    pub fn poll_timeout(&self) -> Option<u64> {
        if matches!(self.state, AgentState::Closed(_)) {
            return None;
        }
        let live = self.live.next_deadline(&self.timers, self.key.is_some());
        let continuing = match self.continuing {
            Continue::Off => None,
            Continue::AskAt(at) | Continue::AnswerBy(at) => Some(at),
        };
        let capture = self.screen.capture_due().filter(|_| !self.capture_asked);
        [Some(live), continuing, capture]
            .into_iter()
            .flatten()
            .min()
    }

    /// Takes one input at time `now_us`.
    pub fn handle_input(&mut self, now_us: u64, input: AgentInput) {
        if matches!(self.state, AgentState::Closed(_)) {
            return;
        }
        match input {
            AgentInput::Received(message) => {
                self.live.received(now_us);
                self.handle_message(now_us, message);
            }
            AgentInput::Decision(decision) => self.handle_decision(now_us, decision),
            AgentInput::Delivered { seq, rtt_us } => {
                self.screen.handle_delivered(now_us, seq, rtt_us)
            }
            AgentInput::Lost { seq } => self.screen.handle_lost(now_us, seq),
            AgentInput::Tick { rtt_us } => {
                if let Some(rtt_us) = rtt_us {
                    self.screen.handle_rtt(now_us, rtt_us);
                }
            }
            AgentInput::Closed(reason) => {
                self.send(Message::Bye { by: Party::Sharer });
                self.close(reason);
            }
        }
        self.after_input(now_us);
    }

    /// Takes the capture asked for with [`AgentOutput::Capture`], made at `now_us`: what the
    /// screen stream sends for it comes out of [`AgentSession::poll_output`].
    ///
    /// # Errors
    /// [`PipelineError`] when the screen cannot be encoded; the session is then closed.
    pub fn handle_capture(
        &mut self,
        now_us: u64,
        capture: Capture<'_>,
    ) -> Result<(), PipelineError> {
        self.capture_asked = false;
        if !self.may_send_screen() {
            return Ok(());
        }
        if let Err(e) = self.screen.handle_capture(now_us, capture) {
            self.send(Message::Bye { by: Party::Sharer });
            self.close(CloseReason::ScreenFailed(e.to_string()));
            return Err(e);
        }
        while let Some(output) = self.screen.poll_output() {
            self.out.push_back(match output {
                SenderOutput::Update(update) => AgentOutput::SendUpdate(update),
                SenderOutput::Cursor(message) => AgentOutput::Send(message),
            });
        }
        self.after_input(now_us);
        Ok(())
    }

    /// What is due after any input: time-outs, pings, "Continue sharing?", a capture.
    fn after_input(&mut self, now_us: u64) {
        if matches!(self.state, AgentState::Closed(_)) {
            return;
        }
        match self.live.due(now_us, &self.timers, self.key.is_some()) {
            Due::TimedOut => return self.close(CloseReason::TimedOut),
            Due::Ping => self.send(Message::Ping),
            Due::Nothing => {}
        }
        match self.continuing {
            Continue::AskAt(at) if now_us >= at => {
                self.continuing = Continue::AnswerBy(now_us + self.timers.continue_timeout_us);
                let helper = self.helper.clone();
                self.event(AgentEvent::AskContinue { helper });
            }
            Continue::AnswerBy(by) if now_us >= by => {
                self.event(AgentEvent::ContinueUnanswered);
                self.send(Message::Bye { by: Party::Sharer });
                return self.close(CloseReason::Disconnected { by: Party::Sharer });
            }
            _ => {}
        }
        if !self.capture_asked && self.screen.capture_due().is_some_and(|at| now_us >= at) {
            self.capture_asked = true;
            self.out.push_back(AgentOutput::Capture);
        }
        if self
            .out
            .iter()
            .any(|o| matches!(o, AgentOutput::Send(_) | AgentOutput::SendUpdate(_)))
        {
            self.live.sent(now_us);
        }
    }

    fn send(&mut self, message: Message) {
        self.out.push_back(AgentOutput::Send(message));
    }

    fn event(&mut self, event: AgentEvent) {
        self.out.push_back(AgentOutput::Event(event));
    }

    /// Counts a wrong password (locking the ticket at its limit) and tells the application;
    /// the attempts left.
    fn count_wrong_password(&mut self) -> u32 {
        self.ticket.attempts += 1;
        let attempts = self.ticket.attempts;
        let locked = attempts >= self.ticket.max_attempts;
        if locked {
            self.ticket.state = TicketState::Locked;
        }
        self.event(AgentEvent::AttemptFailed { attempts, locked });
        self.ticket.max_attempts.saturating_sub(attempts)
    }

    fn close(&mut self, reason: CloseReason) {
        // An answer no proof followed: the helper may have tested its guess against it.
        if self.login.take().is_some() {
            self.count_wrong_password();
        }
        self.state = AgentState::Closed(reason.clone());
        self.key = None;
        self.screen.stop();
        self.continuing = Continue::Off;
        self.capture_asked = false;
        self.out
            .retain(|o| !matches!(o, AgentOutput::SendUpdate(_) | AgentOutput::Capture));
        self.event(AgentEvent::Closed(reason));
    }

    fn refuse(&mut self, refusal: Refusal) {
        self.send(Message::Refuse(refusal));
        self.close(CloseReason::Refused(refusal));
    }

    fn protocol_error(&mut self, detail: &str) {
        self.close(CloseReason::ProtocolError(detail.to_string()));
    }

    fn handle_message(&mut self, now_us: u64, message: Message) {
        use AgentState as S;
        match (&self.state, message) {
            (
                S::Authenticating,
                Message::Hello {
                    version,
                    invitation_id,
                    invitation_digest,
                    helper,
                    pake,
                },
            ) if self.key.is_none() && self.helper.is_empty() => {
                if version != PROTOCOL_VERSION {
                    self.close(CloseReason::VersionMismatch {
                        ours: PROTOCOL_VERSION,
                        theirs: version,
                    });
                    return;
                }
                self.helper = crate::wire::text::plain(&helper, false);
                if invitation_id != self.ticket.id || self.ticket.state == TicketState::Unknown {
                    return self.refuse(Refusal::UnknownInvitation);
                }
                // An edited copy is not a wrong password: nothing is counted against the real one.
                if invitation_digest != self.ticket.digest {
                    return self.refuse(Refusal::InvitationChanged);
                }
                // Refusals that need no password come before any key exchange runs.
                match self.ticket.state {
                    TicketState::Deleted => return self.refuse(Refusal::Deleted),
                    TicketState::Locked => return self.refuse(Refusal::Locked),
                    TicketState::InUse => return self.refuse(Refusal::InUse),
                    TicketState::Used => return self.refuse(Refusal::AlreadyUsed),
                    TicketState::Unknown => return self.refuse(Refusal::UnknownInvitation),
                    // Attempts include logins still in progress (the application counts them
                    // in): each may be a guess, so they may not exceed the limit together.
                    TicketState::Open if self.ticket.attempts >= self.ticket.max_attempts => {
                        return self.refuse(Refusal::Locked);
                    }
                    TicketState::Open => {}
                }
                if now_us >= self.ticket.expires_at_us {
                    return self.refuse(Refusal::Expired);
                }
                match AgentLogin::start(
                    &self.ticket.credential,
                    &pake,
                    &self.binding,
                    &self.ticket.digest,
                    &mut self.rng,
                ) {
                    Some((login, answer)) => {
                        self.login = Some(login);
                        let sharer = self.ticket.sharer.clone();
                        self.send(Message::Pake {
                            pake: answer,
                            sharer,
                        });
                    }
                    None => self.protocol_error("malformed key exchange message"),
                }
            }
            (S::Authenticating, Message::Confirm { mac }) => {
                let Some(login) = self.login.take() else {
                    return self.protocol_error("confirmation before the key exchange");
                };
                match login.finish(&mac) {
                    Some(key) => {
                        let proof = confirmation(&key, &self.binding, &self.ticket.digest);
                        self.key = Some(key);
                        self.send(Message::Confirm {
                            mac: proof.to_vec(),
                        });
                        self.state = S::AwaitingConsent;
                        let helper = self.helper.clone();
                        self.event(AgentEvent::HelperWantsToConnect { helper });
                    }
                    None => {
                        let attempts_left = self.count_wrong_password();
                        self.refuse(Refusal::WrongPassword { attempts_left });
                    }
                }
            }
            (S::Authenticating, other) => {
                self.protocol_error(&format!("{} before authentication", name(&other)))
            }
            (_, Message::Ping) => {}
            (_, Message::Bye { .. }) => self.close(CloseReason::Disconnected { by: Party::Helper }),
            (S::Viewing, Message::RequestControl { request }) => {
                self.state = S::ControlRequested;
                self.request = request;
                let helper = self.helper.clone();
                self.event(AgentEvent::HelperWantsControl { helper });
            }
            (S::ControlRequested | S::Controlling, Message::RequestControl { .. }) => {}
            (S::ControlRequested | S::Controlling, Message::ControlEnded { request, .. })
                if request == self.request =>
            {
                self.state = S::Viewing;
                self.event(AgentEvent::ControlEnded { by: Party::Helper });
            }
            // The end of a request already over.
            (S::Viewing | S::ControlRequested | S::Controlling, Message::ControlEnded { .. }) => {}
            (S::Controlling, Message::Input(event)) => {
                self.out.push_back(AgentOutput::Apply(event))
            }
            // Input that arrives without control (before the Yes, after an Esc) is dropped.
            (S::AwaitingConsent | S::Viewing | S::ControlRequested, Message::Input(_)) => {}
            (S::Controlling, Message::Clipboard { part, more }) => {
                if let Some(text) = self.clipboard.add(&part, more) {
                    self.out.push_back(AgentOutput::SetClipboard(text));
                }
            }
            // Like input: nothing of the helper's clipboard without control.
            (S::AwaitingConsent | S::Viewing | S::ControlRequested, Message::Clipboard { .. }) => {}
            (S::Viewing | S::ControlRequested | S::Controlling, Message::Chat { text }) => {
                let text = crate::wire::text::plain(&text, false);
                self.event(AgentEvent::Chat { text })
            }
            (S::AwaitingConsent, Message::Chat { .. }) => {}
            (_, other) => {
                self.protocol_error(&format!("unexpected {} from the viewer", name(&other)))
            }
        }
    }

    fn handle_decision(&mut self, now_us: u64, decision: SharerDecision) {
        use AgentState as S;
        match (&self.state, decision) {
            (_, SharerDecision::Disconnect) => {
                self.send(Message::Bye { by: Party::Sharer });
                self.close(CloseReason::Disconnected { by: Party::Sharer });
            }
            (S::AwaitingConsent, SharerDecision::AllowConnection(true)) => {
                self.state = S::Viewing;
                self.send(Message::Accepted);
                self.event(AgentEvent::ViewingStarted);
                self.screen.start(now_us);
                self.continuing = Continue::AskAt(now_us + self.timers.continue_every_us);
            }
            (_, SharerDecision::ContinueSharing(yes)) => {
                if !matches!(self.continuing, Continue::AnswerBy(_)) {
                    return;
                }
                if yes {
                    self.continuing = Continue::AskAt(now_us + self.timers.continue_every_us);
                } else {
                    self.send(Message::Bye { by: Party::Sharer });
                    self.close(CloseReason::Disconnected { by: Party::Sharer });
                }
            }
            (S::AwaitingConsent, SharerDecision::AllowConnection(false)) => {
                self.refuse(Refusal::Refused)
            }
            (S::AwaitingConsent, SharerDecision::Busy) => self.refuse(Refusal::InUse),
            (S::ControlRequested, SharerDecision::AllowControl(true)) => {
                self.state = S::Controlling;
                self.clipboard.clear();
                self.send(Message::ControlGranted {
                    request: self.request,
                });
                self.event(AgentEvent::ControlStarted);
            }
            (S::ControlRequested, SharerDecision::AllowControl(false)) => {
                self.state = S::Viewing;
                self.send(Message::ControlDenied {
                    request: self.request,
                });
            }
            // The sharer's Esc wins at once: local state first, the helper hears of it after.
            (S::Controlling | S::ControlRequested, SharerDecision::Esc) => {
                self.state = S::Viewing;
                self.send(Message::ControlEnded {
                    by: Party::Sharer,
                    request: self.request,
                });
                self.event(AgentEvent::ControlEnded { by: Party::Sharer });
            }
            (S::Viewing | S::ControlRequested | S::Controlling, SharerDecision::Chat(text)) => {
                self.send(Message::Chat { text })
            }
            (
                S::Viewing | S::ControlRequested | S::Controlling,
                SharerDecision::Showing(monitor),
            ) => self.send(Message::Showing { monitor }),
            (S::Controlling, SharerDecision::Clipboard(text)) => {
                for part in clipboard::parts(&text) {
                    self.send(part);
                }
            }
            // Decisions that no longer apply (a late Yes, Esc without control) change nothing.
            _ => {}
        }
    }

    /// The ticket as this session leaves it (attempts, lock), for the store.
    pub fn ticket(&self) -> &Ticket {
        &self.ticket
    }
}

/// A message's name, for errors (never its content).
pub(crate) fn name(message: &Message) -> &'static str {
    match message {
        Message::Hello { .. } => "hello",
        Message::Pake { .. } => "key exchange",
        Message::Confirm { .. } => "confirmation",
        Message::Refuse(_) => "refusal",
        Message::Accepted => "acceptance",
        Message::RequestControl { .. } => "control request",
        Message::ControlGranted { .. } => "control grant",
        Message::ControlDenied { .. } => "control denial",
        Message::ControlEnded { .. } => "end of control",
        Message::Input(_) => "input",
        Message::CursorShape { .. } => "cursor shape",
        Message::CursorMoved { .. } => "cursor position",
        Message::Chat { .. } => "chat",
        Message::Clipboard { .. } => "clipboard",
        Message::Ping => "ping",
        Message::Bye { .. } => "goodbye",
        Message::Showing { .. } => "monitor choice",
    }
}
