//! The helper's side of a session: authentication, control, chat and timers, and the
//! [`ScreenReceiver`] that takes screen updates once the sharer said Yes.

use std::collections::VecDeque;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::frame::Frame;
use crate::session::agent::name;
use crate::session::auth::{Answer, ViewerLogin, verify_confirmation};
use crate::session::clipboard::{self, Assembly};
use crate::session::{CloseReason, Due, InvitationRef, Liveness, Secret, Timers};
use crate::stream::{CursorPicture, ScreenChange, ScreenEvent, ScreenReceiver};
use crate::wire::message::PROTOCOL_VERSION;
use crate::wire::{InputEvent, Message, Party};

/// Where the viewer's session stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewerState {
    /// Hello sent; proving the password.
    Authenticating,
    /// The agent proved itself; the sharer is being asked.
    AwaitingConsent,
    /// The sharer's screen is shown.
    Viewing,
    /// Control was asked for: "Waiting for `<sharer>` to allow control".
    ControlRequested,
    /// "You now have control": input is sent.
    Controlling,
    /// Over.
    Closed(CloseReason),
}

/// What the helper did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HelperAction {
    /// The Take Control button.
    RequestControl,
    /// Esc or Release control.
    ReleaseControl,
    /// Pointer or keyboard input (sent only while the helper has control).
    Input(InputEvent),
    /// A chat message.
    Chat(String),
    /// The helper's clipboard holds this text now (sent only while they have control).
    Clipboard(String),
    /// The Disconnect button.
    Disconnect,
}

/// An input to [`ViewerSession::handle_input`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViewerInput {
    /// A message from the agent.
    Received(Message),
    /// The helper acted.
    Action(HelperAction),
    /// A screen update's bytes arrived (whole, on a stream of their own).
    Update(Vec<u8>),
    /// Time passed.
    Tick,
    /// The connection failed: the session ends for this reason.
    Closed(CloseReason),
}

/// What the application should know or show.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViewerEvent {
    /// The agent proved it holds the invitation; the sharer is being asked to allow.
    Authenticated {
        /// The sharer's name.
        sharer: String,
    },
    /// The sharer allowed the connection.
    Accepted,
    /// The sharer's screen changed (already applied to [`ViewerSession::screen`]).
    Screen(ScreenChange),
    /// The sharer's pointer has a new picture.
    CursorShape(CursorPicture),
    /// The sharer's pointer moved.
    CursorMoved {
        /// Column of the hot spot.
        x: u32,
        /// Row of the hot spot.
        y: u32,
        /// Whether it shows.
        visible: bool,
    },
    /// The sharer allowed control: "You now have control".
    ControlGranted,
    /// The sharer said No to control.
    ControlDenied,
    /// Control ended.
    ControlEnded {
        /// Who ended it.
        by: Party,
    },
    /// The sharer sent a chat message.
    Chat {
        /// The text.
        text: String,
    },
    /// The sharer now shows one monitor (its name and place), or all of them (`None`).
    Showing {
        /// The monitor, or `None`: every monitor.
        monitor: Option<String>,
    },
    /// The sharer copied this text while the helper has control: put it on the helper's
    /// clipboard.
    Clipboard {
        /// The text.
        text: String,
    },
    /// The session is over.
    Closed(CloseReason),
}

/// An output of [`ViewerSession::poll_output`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViewerOutput {
    /// Send this message on the control stream.
    Send(Message),
    /// Tell the application.
    Event(ViewerEvent),
}

/// The helper's side of one connection.
#[derive(Debug)]
pub struct ViewerSession {
    state: ViewerState,
    invitation: InvitationRef,
    binding: [u8; 32],
    /// The stretched password, until the agent's answer is opened with it.
    stretched: Option<Secret<[u8; 32]>>,
    login: Option<ViewerLogin>,
    key: Option<Secret<[u8; 32]>>,
    confirmed: bool,
    sharer: String,
    request: u32,
    timers: Timers,
    live: Liveness,
    screen: ScreenReceiver,
    /// The sharer's clipboard text, part by part.
    clipboard: Assembly,
    out: VecDeque<ViewerOutput>,
}

impl ViewerSession {
    /// Starts authenticating with the password already stretched (see
    /// [`crate::session::auth::stretch`]); the hello is the first output.
    pub fn new(
        invitation: &InvitationRef,
        helper: &str,
        stretched: &Secret<[u8; 32]>,
        channel_binding: [u8; 32],
        rng_seed: [u8; 32],
        timers: Timers,
        now_us: u64,
    ) -> ViewerSession {
        let (login, msg) = ViewerLogin::start(stretched, &mut ChaCha20Rng::from_seed(rng_seed));
        let mut session = ViewerSession {
            state: ViewerState::Authenticating,
            invitation: invitation.clone(),
            binding: channel_binding,
            stretched: Some(Secret::new(*stretched.expose())),
            login: Some(login),
            key: None,
            confirmed: false,
            sharer: String::new(),
            request: 0,
            timers,
            live: Liveness::new(now_us),
            screen: ScreenReceiver::new(),
            clipboard: Assembly::default(),
            out: VecDeque::new(),
        };
        session.send(Message::Hello {
            version: PROTOCOL_VERSION,
            invitation_id: invitation.id.clone(),
            invitation_digest: invitation.digest,
            helper: helper.to_string(),
            pake: msg,
        });
        session
    }

    /// Where the session stands.
    pub fn state(&self) -> &ViewerState {
        &self.state
    }

    /// The sharer's name, once the agent told it.
    pub fn sharer(&self) -> &str {
        &self.sharer
    }

    /// The sharer's screen as last updated, or `None` before the first update.
    pub fn screen(&self) -> Option<&Frame> {
        self.screen.screen()
    }

    /// Whether the sharer's screen may be shown: screen updates are taken only then.
    pub fn is_viewing(&self) -> bool {
        matches!(
            self.state,
            ViewerState::Viewing | ViewerState::ControlRequested | ViewerState::Controlling
        )
    }

    /// The next output, or `None` when there is nothing more until the next input.
    pub fn poll_output(&mut self) -> Option<ViewerOutput> {
        self.out.pop_front()
    }

    /// When to call [`ViewerSession::handle_input`] with [`ViewerInput::Tick`] at the latest.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.state {
            ViewerState::Closed(_) => None,
            _ => Some(self.live.next_deadline(&self.timers, self.confirmed)),
        }
    }

    /// Takes one input at time `now_us`.
    pub fn handle_input(&mut self, now_us: u64, input: ViewerInput) {
        if matches!(self.state, ViewerState::Closed(_)) {
            return;
        }
        match input {
            ViewerInput::Received(message) => {
                self.live.received(now_us);
                self.handle_message(message);
            }
            ViewerInput::Action(action) => self.handle_action(action),
            ViewerInput::Update(bytes) => {
                self.live.received(now_us);
                // An authenticated agent sends updates only after the sharer's Yes, but the
                // first may overtake the acceptance on the control stream: it waits in the
                // receiver until then. Before authentication, nothing is taken.
                if self.is_viewing() || self.state == ViewerState::AwaitingConsent {
                    let handled = self.screen.handle_update(bytes);
                    self.screen_events(handled);
                }
            }
            ViewerInput::Tick => {}
            ViewerInput::Closed(reason) => self.close(reason),
        }
        if matches!(self.state, ViewerState::Closed(_)) {
            return;
        }
        match self.live.due(now_us, &self.timers, self.confirmed) {
            Due::TimedOut => return self.close(CloseReason::TimedOut),
            Due::Ping => self.send(Message::Ping),
            Due::Nothing => {}
        }
        if self.out.iter().any(|o| matches!(o, ViewerOutput::Send(_))) {
            self.live.sent(now_us);
        }
    }

    fn send(&mut self, message: Message) {
        self.out.push_back(ViewerOutput::Send(message));
    }

    fn event(&mut self, event: ViewerEvent) {
        self.out.push_back(ViewerOutput::Event(event));
    }

    fn close(&mut self, reason: CloseReason) {
        self.state = ViewerState::Closed(reason.clone());
        self.key = None;
        self.login = None;
        self.stretched = None;
        self.event(ViewerEvent::Closed(reason));
    }

    fn protocol_error(&mut self, detail: &str) {
        self.close(CloseReason::ProtocolError(detail.to_string()));
    }

    /// What the screen receiver made of its input, as events once viewing; an error ends the
    /// session.
    fn screen_events(&mut self, handled: Result<(), crate::stream::ReceiveError>) {
        while self.is_viewing()
            && let Some(event) = self.screen.poll_event()
        {
            self.event(match event {
                ScreenEvent::Changed(change) => ViewerEvent::Screen(change),
                ScreenEvent::CursorShape(picture) => ViewerEvent::CursorShape(picture),
                ScreenEvent::CursorMoved { x, y, visible } => {
                    ViewerEvent::CursorMoved { x, y, visible }
                }
            });
        }
        if let Err(e) = handled {
            self.send(Message::Bye { by: Party::Helper });
            self.protocol_error(&e.to_string());
        }
    }

    fn handle_message(&mut self, message: Message) {
        use ViewerState as S;
        match (&self.state, message) {
            (_, Message::Refuse(refusal)) => self.close(CloseReason::Refused(refusal)),
            (_, Message::Bye { .. }) => self.close(CloseReason::Disconnected { by: Party::Sharer }),
            (_, Message::Ping) => {}
            (S::Authenticating, Message::Pake { pake, sharer }) if self.key.is_none() => {
                let (Some(login), Some(stretched)) = (self.login.take(), self.stretched.take())
                else {
                    return self.protocol_error("second key exchange");
                };
                self.sharer = crate::wire::text::plain(&sharer, false);
                match login.finish(&stretched, &pake, &self.binding, &self.invitation.digest) {
                    Answer::Proved(proof, key) => {
                        self.key = Some(key);
                        self.send(Message::Confirm { mac: proof });
                    }
                    // The agent counts the attempt and says how many are left; an empty proof
                    // asks it to at once.
                    Answer::Wrong => self.send(Message::Confirm { mac: Vec::new() }),
                    Answer::Malformed => self.protocol_error("malformed key exchange message"),
                }
            }
            (S::Authenticating, Message::Confirm { mac }) => {
                let Some(key) = self.key.as_ref() else {
                    return self.protocol_error("confirmation before the key exchange");
                };
                if verify_confirmation(key, &self.binding, &self.invitation.digest, &mac) {
                    self.confirmed = true;
                    self.state = S::AwaitingConsent;
                    let sharer = self.sharer.clone();
                    self.event(ViewerEvent::Authenticated { sharer });
                } else {
                    self.close(CloseReason::AgentNotAuthentic);
                }
            }
            (S::Authenticating, other) => {
                self.protocol_error(&format!("{} before authentication", name(&other)))
            }
            (S::AwaitingConsent, Message::Accepted) => {
                self.state = S::Viewing;
                self.event(ViewerEvent::Accepted);
                self.screen_events(Ok(()));
            }
            (S::ControlRequested, Message::ControlGranted { request })
                if request == self.request =>
            {
                self.state = S::Controlling;
                self.clipboard.clear();
                self.event(ViewerEvent::ControlGranted);
            }
            (S::ControlRequested, Message::ControlDenied { request })
                if request == self.request =>
            {
                self.state = S::Viewing;
                self.event(ViewerEvent::ControlDenied);
            }
            (S::ControlRequested | S::Controlling, Message::ControlEnded { by, request })
                if request == self.request =>
            {
                self.state = S::Viewing;
                self.event(ViewerEvent::ControlEnded { by });
            }
            // Answers to, and ends of, a request the helper has since withdrawn.
            (
                S::Viewing | S::ControlRequested | S::Controlling,
                Message::ControlGranted { .. }
                | Message::ControlDenied { .. }
                | Message::ControlEnded { .. },
            ) => {}
            (S::Viewing | S::ControlRequested | S::Controlling, Message::Chat { text }) => {
                let text = crate::wire::text::plain(&text, false);
                self.event(ViewerEvent::Chat { text })
            }
            (S::Viewing | S::ControlRequested | S::Controlling, Message::Showing { monitor }) => {
                let monitor = monitor.map(|m| crate::wire::text::plain(&m, false));
                self.event(ViewerEvent::Showing { monitor })
            }
            (S::Controlling, Message::Clipboard { part, more }) => {
                if let Some(text) = self.clipboard.add(&part, more) {
                    self.event(ViewerEvent::Clipboard { text });
                }
            }
            // Parts sent before control ended here.
            (S::Viewing | S::ControlRequested, Message::Clipboard { .. }) => {}
            (
                S::Viewing | S::ControlRequested | S::Controlling,
                cursor @ (Message::CursorShape { .. } | Message::CursorMoved { .. }),
            ) => {
                let handled = self.screen.handle_cursor(&cursor);
                self.screen_events(handled);
            }
            (_, other) => {
                self.protocol_error(&format!("unexpected {} from the agent", name(&other)))
            }
        }
    }

    fn handle_action(&mut self, action: HelperAction) {
        use ViewerState as S;
        match (&self.state, action) {
            (_, HelperAction::Disconnect) => {
                self.send(Message::Bye { by: Party::Helper });
                self.close(CloseReason::Disconnected { by: Party::Helper });
            }
            (S::Viewing, HelperAction::RequestControl) => {
                self.state = S::ControlRequested;
                self.request += 1;
                self.send(Message::RequestControl {
                    request: self.request,
                });
            }
            (S::ControlRequested | S::Controlling, HelperAction::ReleaseControl) => {
                self.state = S::Viewing;
                self.send(Message::ControlEnded {
                    by: Party::Helper,
                    request: self.request,
                });
                self.event(ViewerEvent::ControlEnded { by: Party::Helper });
            }
            (S::Controlling, HelperAction::Input(event)) => self.send(Message::Input(event)),
            (S::Viewing | S::ControlRequested | S::Controlling, HelperAction::Chat(text)) => {
                self.send(Message::Chat { text })
            }
            (S::Controlling, HelperAction::Clipboard(text)) => {
                for part in clipboard::parts(&text) {
                    self.send(part);
                }
            }
            // Input without control, and actions that no longer apply, send nothing.
            _ => {}
        }
    }
}
