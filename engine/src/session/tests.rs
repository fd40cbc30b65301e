//! Agent and viewer joined by an in-memory link with simulated time, latency, loss and
//! bandwidth. Nothing sleeps: time jumps to the next delivery or wake-up, and every loop is
//! bounded.

use std::collections::VecDeque;

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use super::auth::{StretchParams, stretch};
use super::*;

const PASSWORD: &str = "Tr0ub4dor&3-horse";

fn light_params() -> StretchParams {
    StretchParams {
        salt: [9; 16],
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    }
}

fn ticket() -> Ticket {
    Ticket {
        id: "inv-1".into(),
        sharer: "Ada".into(),
        verifier: stretch(PASSWORD, &light_params()).unwrap(),
        expires_at_us: 3_600_000_000,
        attempts: 0,
        max_attempts: DEFAULT_MAX_ATTEMPTS,
        state: TicketState::Open,
    }
}

/// One direction of the link: reliable and ordered like a QUIC stream, so a lost packet shows
/// up as a retransmission delay.
struct Link {
    latency_us: u64,
    loss: f64,
    bytes_per_ms: u64,
    busy_until: u64,
    last_delivery: u64,
    queue: VecDeque<(u64, Packet)>,
    rng: ChaCha20Rng,
    up: bool,
}

#[derive(Clone, Debug)]
enum Packet {
    Message(Vec<u8>),
    Screen(Vec<u8>),
}

impl Link {
    fn new(latency_us: u64, loss: f64, bytes_per_ms: u64, seed: u64) -> Link {
        Link {
            latency_us,
            loss,
            bytes_per_ms,
            busy_until: 0,
            last_delivery: 0,
            queue: VecDeque::new(),
            rng: ChaCha20Rng::seed_from_u64(seed),
            up: true,
        }
    }

    fn send(&mut self, now: u64, packet: Packet) {
        if !self.up {
            return;
        }
        let size = match &packet {
            Packet::Message(b) | Packet::Screen(b) => b.len() as u64 + 40,
        };
        let start = now.max(self.busy_until);
        self.busy_until = start + size * 1000 / self.bytes_per_ms.max(1);
        let mut at = self.busy_until + self.latency_us;
        // Each loss costs a retransmission after about one and a half round trips.
        while (self.rng.next_u32() as f64 / u32::MAX as f64) < self.loss {
            at += 3 * self.latency_us + 10_000;
        }
        at = at.max(self.last_delivery);
        self.last_delivery = at;
        self.queue.push_back((at, packet));
    }

    fn next_at(&self) -> Option<u64> {
        self.queue.front().map(|(at, _)| *at)
    }
}

/// What the harness saw, for assertions.
#[derive(Default, Debug)]
struct Log {
    agent: Vec<AgentEvent>,
    viewer: Vec<ViewerEvent>,
    applied: Vec<InputEvent>,
    screens_sent: usize,
    screens_shown: usize,
    messages_to_agent: Vec<Message>,
    messages_to_viewer: Vec<Message>,
}

struct Pair {
    now: u64,
    agent: AgentSession,
    viewer: ViewerSession,
    to_agent: Link,
    to_viewer: Link,
    log: Log,
    sharer_said_yes: bool,
}

impl Pair {
    fn new(password: &str, ticket: Ticket) -> Pair {
        Pair::with_link(password, ticket, 10_000, 0.0, 1_000_000)
    }

    fn with_link(
        password: &str,
        ticket: Ticket,
        latency_us: u64,
        loss: f64,
        bytes_per_ms: u64,
    ) -> Pair {
        let binding = [42u8; 32];
        let stretched = stretch(password, &light_params()).unwrap();
        let agent = AgentSession::new(ticket, binding, [1; 32], Timers::default(), 0);
        let viewer = ViewerSession::new(
            "inv-1",
            "Grace",
            &stretched,
            binding,
            [2; 32],
            Timers::default(),
            0,
        );
        let mut pair = Pair {
            now: 0,
            agent,
            viewer,
            to_agent: Link::new(latency_us, loss, bytes_per_ms, 7),
            to_viewer: Link::new(latency_us, loss, bytes_per_ms, 8),
            log: Log::default(),
            sharer_said_yes: false,
        };
        pair.drain();
        pair
    }

    /// Moves every pending output onto the links, checking the invariants as it goes.
    fn drain(&mut self) {
        while let Some(output) = self.agent.poll_output() {
            match output {
                AgentOutput::Send(m) => {
                    self.log.messages_to_viewer.push(m.clone());
                    self.to_viewer
                        .send(self.now, Packet::Message(m.encode().unwrap()));
                }
                AgentOutput::SendScreen(bytes) => {
                    assert!(
                        self.sharer_said_yes,
                        "a screen update left before the sharer's Yes"
                    );
                    assert!(self.agent.may_send_screen());
                    self.log.screens_sent += 1;
                    self.to_viewer.send(self.now, Packet::Screen(bytes));
                }
                AgentOutput::Apply(event) => {
                    assert_eq!(
                        self.agent.state(),
                        &AgentState::Controlling,
                        "input applied without control"
                    );
                    self.log.applied.push(event);
                }
                AgentOutput::Event(e) => self.log.agent.push(e),
            }
        }
        while let Some(output) = self.viewer.poll_output() {
            match output {
                ViewerOutput::Send(m) => {
                    self.log.messages_to_agent.push(m.clone());
                    self.to_agent
                        .send(self.now, Packet::Message(m.encode().unwrap()));
                }
                ViewerOutput::Event(ViewerEvent::Screen(_)) => self.log.screens_shown += 1,
                ViewerOutput::Event(e) => self.log.viewer.push(e),
            }
        }
    }

    /// Jumps to the next delivery or wake-up at or before `limit`; false when there is none.
    fn step(&mut self, limit: u64) -> bool {
        let candidates = [
            self.to_agent.next_at(),
            self.to_viewer.next_at(),
            self.agent.poll_timeout(),
            self.viewer.poll_timeout(),
        ];
        let Some(next) = candidates.into_iter().flatten().min() else {
            return false;
        };
        if next > limit {
            return false;
        }
        self.now = self.now.max(next);
        if self.to_agent.next_at().is_some_and(|t| t <= self.now) {
            let (_, packet) = self.to_agent.queue.pop_front().unwrap();
            let Packet::Message(bytes) = packet else {
                unreachable!("the viewer sends no screens")
            };
            self.agent.handle_input(
                self.now,
                AgentInput::Received(Message::decode(&bytes).unwrap()),
            );
        } else if self.to_viewer.next_at().is_some_and(|t| t <= self.now) {
            let (_, packet) = self.to_viewer.queue.pop_front().unwrap();
            let input = match packet {
                Packet::Message(bytes) => ViewerInput::Received(Message::decode(&bytes).unwrap()),
                Packet::Screen(bytes) => ViewerInput::Screen(bytes),
            };
            self.viewer.handle_input(self.now, input);
        } else {
            self.agent.handle_input(self.now, AgentInput::Tick);
            self.viewer.handle_input(self.now, AgentTick::viewer());
        }
        self.drain();
        true
    }

    /// Runs for `us` of simulated time.
    fn run(&mut self, us: u64) {
        let limit = self.now + us;
        for _ in 0..100_000 {
            if !self.step(limit) {
                break;
            }
        }
        self.now = self.now.max(limit);
    }

    fn sharer(&mut self, decision: SharerDecision) {
        if decision == SharerDecision::AllowConnection(true)
            && self.agent.state() == &AgentState::AwaitingConsent
        {
            self.sharer_said_yes = true;
        }
        self.agent
            .handle_input(self.now, AgentInput::Decision(decision));
        self.drain();
    }

    fn helper(&mut self, action: HelperAction) {
        self.viewer
            .handle_input(self.now, ViewerInput::Action(action));
        self.drain();
    }

    fn screen(&mut self) {
        self.agent
            .handle_input(self.now, AgentInput::Screen(vec![1, 2, 3]));
        self.drain();
    }

    /// Connected, allowed, viewing.
    fn viewing() -> Pair {
        let mut p = Pair::new(PASSWORD, ticket());
        p.run(100_000);
        assert_eq!(p.agent.state(), &AgentState::AwaitingConsent);
        p.sharer(SharerDecision::AllowConnection(true));
        p.run(100_000);
        assert_eq!(p.viewer.state(), &ViewerState::Viewing);
        p
    }
}

/// `ViewerInput::Tick`, spelled so the harness reads evenly.
struct AgentTick;
impl AgentTick {
    fn viewer() -> ViewerInput {
        ViewerInput::Tick
    }
}

const KEY: InputEvent = InputEvent::Key {
    keysym: 0x61,
    pressed: true,
};

#[test]
fn the_whole_session() {
    let mut p = Pair::new(PASSWORD, ticket());
    p.run(100_000);
    assert_eq!(
        p.log.agent,
        vec![AgentEvent::HelperWantsToConnect {
            helper: "Grace".into()
        }]
    );
    assert_eq!(
        p.log.viewer,
        vec![ViewerEvent::Authenticated {
            sharer: "Ada".into()
        }]
    );
    // Nothing is shown before the Yes.
    p.screen();
    p.run(100_000);
    assert_eq!((p.log.screens_sent, p.log.screens_shown), (0, 0));
    p.sharer(SharerDecision::AllowConnection(true));
    p.screen();
    p.run(100_000);
    assert_eq!((p.log.screens_sent, p.log.screens_shown), (1, 1));
    // Input before control is not applied.
    p.helper(HelperAction::Input(KEY));
    p.run(100_000);
    assert!(p.log.applied.is_empty());
    p.helper(HelperAction::RequestControl);
    p.run(100_000);
    assert_eq!(
        p.log.agent.last(),
        Some(&AgentEvent::HelperWantsControl {
            helper: "Grace".into()
        })
    );
    assert_eq!(p.viewer.state(), &ViewerState::ControlRequested);
    p.sharer(SharerDecision::AllowControl(true));
    p.run(100_000);
    assert_eq!(p.viewer.state(), &ViewerState::Controlling);
    assert_eq!(p.log.viewer.last(), Some(&ViewerEvent::ControlGranted));
    p.helper(HelperAction::Input(KEY));
    p.run(100_000);
    assert_eq!(p.log.applied, vec![KEY]);
    // The helper's Esc releases control.
    p.helper(HelperAction::ReleaseControl);
    assert_eq!(p.viewer.state(), &ViewerState::Viewing);
    p.run(100_000);
    assert_eq!(p.agent.state(), &AgentState::Viewing);
    assert_eq!(
        p.log.agent.last(),
        Some(&AgentEvent::ControlEnded { by: Party::Helper })
    );
    // Chat both ways.
    p.helper(HelperAction::Chat("try the blue button".into()));
    p.sharer(SharerDecision::Chat("which one?".into()));
    p.run(100_000);
    assert!(p.log.agent.contains(&AgentEvent::Chat {
        text: "try the blue button".into()
    }));
    assert!(p.log.viewer.contains(&ViewerEvent::Chat {
        text: "which one?".into()
    }));
    // Denied control goes back to viewing.
    p.helper(HelperAction::RequestControl);
    p.run(100_000);
    p.sharer(SharerDecision::AllowControl(false));
    p.run(100_000);
    assert_eq!(p.viewer.state(), &ViewerState::Viewing);
    assert_eq!(p.log.viewer.last(), Some(&ViewerEvent::ControlDenied));
    // Disconnect ends both sides.
    p.helper(HelperAction::Disconnect);
    p.run(100_000);
    assert_eq!(
        p.agent.state(),
        &AgentState::Closed(CloseReason::Disconnected { by: Party::Helper })
    );
    assert_eq!(
        p.viewer.state(),
        &ViewerState::Closed(CloseReason::Disconnected { by: Party::Helper })
    );
}

#[test]
fn sharers_esc_wins_at_once_with_input_in_flight() {
    let mut p = Pair::viewing();
    p.helper(HelperAction::RequestControl);
    p.run(100_000);
    p.sharer(SharerDecision::AllowControl(true));
    p.run(100_000);
    // Keys are on the wire when the sharer presses Esc.
    for _ in 0..5 {
        p.helper(HelperAction::Input(KEY));
    }
    p.run(5_000);
    p.sharer(SharerDecision::Esc);
    assert_eq!(
        p.agent.state(),
        &AgentState::Viewing,
        "Esc acts locally, at once"
    );
    p.run(200_000);
    assert!(
        p.log.applied.is_empty(),
        "{} keys applied after the Esc",
        p.log.applied.len()
    );
    assert_eq!(p.viewer.state(), &ViewerState::Viewing);
    assert_eq!(
        p.log.viewer.last(),
        Some(&ViewerEvent::ControlEnded { by: Party::Sharer })
    );
    // More input after the Esc is not even sent.
    let sent = p.log.messages_to_agent.len();
    p.helper(HelperAction::Input(KEY));
    assert_eq!(p.log.messages_to_agent.len(), sent);
}

#[test]
fn the_cursor_travels_as_small_messages_only_after_the_yes() {
    let mut p = Pair::new(PASSWORD, ticket());
    p.run(100_000);
    let moved = Message::CursorMoved {
        x: 10,
        y: 20,
        visible: true,
    };
    p.agent
        .handle_input(p.now, AgentInput::Cursor(moved.clone()));
    p.drain();
    p.run(100_000);
    assert!(
        !p.log.messages_to_viewer.contains(&moved),
        "a cursor position left before the Yes"
    );
    p.sharer(SharerDecision::AllowConnection(true));
    let shape = Message::CursorShape {
        width: 2,
        height: 2,
        hot_x: 1,
        hot_y: 1,
        pixels: vec![1, 2, 3],
    };
    p.agent
        .handle_input(p.now, AgentInput::Cursor(shape.clone()));
    p.agent.handle_input(p.now, AgentInput::Cursor(moved));
    p.drain();
    p.run(100_000);
    assert!(p.log.viewer.contains(&ViewerEvent::CursorShape(shape)));
    assert!(p.log.viewer.contains(&ViewerEvent::CursorMoved {
        x: 10,
        y: 20,
        visible: true
    }));
    let bad = Message::CursorShape {
        width: 2,
        height: 2,
        hot_x: 2,
        hot_y: 0,
        pixels: vec![],
    };
    assert!(bad.encode().is_err(), "a hot spot outside the picture");
}

/// Regression: the helper withdrew a control request and asked again while the sharer's Yes to
/// the first was on the wire; the viewer took that Yes for its second request and believed it
/// had control while the agent was still asking (found by `invariants_hold_for_random_sessions`).
#[test]
fn a_grant_for_a_withdrawn_request_is_not_taken_for_the_next() {
    let mut p = Pair::viewing();
    p.helper(HelperAction::RequestControl);
    p.run(100_000);
    p.helper(HelperAction::ReleaseControl);
    p.helper(HelperAction::RequestControl);
    p.sharer(SharerDecision::AllowControl(true));
    p.run(100_000);
    assert_eq!(
        p.agent.state(),
        &AgentState::ControlRequested,
        "the second request waits for its own answer"
    );
    assert_eq!(p.viewer.state(), &ViewerState::ControlRequested);
    p.sharer(SharerDecision::AllowControl(true));
    p.run(100_000);
    assert_eq!(
        (p.agent.state(), p.viewer.state()),
        (&AgentState::Controlling, &ViewerState::Controlling)
    );
}

#[test]
fn sharer_can_refuse_the_connection() {
    let mut p = Pair::new(PASSWORD, ticket());
    p.run(100_000);
    p.sharer(SharerDecision::AllowConnection(false));
    p.run(100_000);
    assert_eq!(
        p.viewer.state(),
        &ViewerState::Closed(CloseReason::Refused(Refusal::Refused))
    );
    assert_eq!(p.log.screens_sent, 0);
}

#[test]
fn wrong_passwords_count_and_lock_and_the_sixth_runs_no_key_exchange() {
    let mut t = ticket();
    for attempt in 1..=5u32 {
        let mut p = Pair::new("not the password", t.clone());
        p.run(100_000);
        let left = 5 - attempt;
        assert_eq!(
            p.viewer.state(),
            &ViewerState::Closed(CloseReason::Refused(Refusal::WrongPassword {
                attempts_left: left
            }))
        );
        assert!(p.log.agent.contains(&AgentEvent::AttemptFailed {
            attempts: attempt,
            locked: attempt == 5
        }));
        assert!(
            !p.log
                .agent
                .iter()
                .any(|e| matches!(e, AgentEvent::HelperWantsToConnect { .. })),
            "the sharer is never asked"
        );
        t = p.agent.ticket().clone();
    }
    assert_eq!(t.state, TicketState::Locked);
    // Even the right password is refused now, before any key exchange.
    let mut p = Pair::new(PASSWORD, t);
    p.run(100_000);
    assert_eq!(
        p.viewer.state(),
        &ViewerState::Closed(CloseReason::Refused(Refusal::Locked))
    );
    assert!(
        !p.log
            .messages_to_viewer
            .iter()
            .any(|m| matches!(m, Message::Pake { .. }))
    );
}

#[test]
fn expired_deleted_in_use_and_unknown_invitations_are_refused_distinctly() {
    type Edit = Box<dyn Fn(&mut Ticket)>;
    let cases: [(Edit, Refusal); 6] = [
        (Box::new(|t| t.expires_at_us = 5_000), Refusal::Expired),
        (
            Box::new(|t| t.state = TicketState::Deleted),
            Refusal::Deleted,
        ),
        (Box::new(|t| t.state = TicketState::InUse), Refusal::InUse),
        (
            Box::new(|t| t.state = TicketState::Used),
            Refusal::AlreadyUsed,
        ),
        (
            Box::new(|t| *t = Ticket::unknown()),
            Refusal::UnknownInvitation,
        ),
        (
            Box::new(|t| t.id = "inv-2".into()),
            Refusal::UnknownInvitation,
        ),
    ];
    for (edit, refusal) in cases {
        let mut t = ticket();
        edit(&mut t);
        let mut p = Pair::new(PASSWORD, t);
        p.run(100_000);
        assert_eq!(
            p.viewer.state(),
            &ViewerState::Closed(CloseReason::Refused(refusal))
        );
        let reason = CloseReason::Refused(refusal).to_string();
        assert!(
            !reason.is_empty() && !reason.contains("Refus"),
            "a plain sentence: {reason}"
        );
    }
}

#[test]
fn an_agent_without_the_password_is_not_trusted() {
    // An impostor agent with another verifier: the helper's proof fails there, but suppose the
    // impostor answers with a confirmation anyway.
    let binding = [42u8; 32];
    let stretched = stretch(PASSWORD, &light_params()).unwrap();
    let mut viewer = ViewerSession::new(
        "inv-1",
        "Grace",
        &stretched,
        binding,
        [2; 32],
        Timers::default(),
        0,
    );
    let hello = viewer.poll_output().unwrap();
    let ViewerOutput::Send(Message::Hello { pake, .. }) = hello else {
        panic!("{hello:?}")
    };
    let fake = stretch("guess", &light_params()).unwrap();
    let (state, msg) = super::auth::Pake::start(true, &fake, ChaCha20Rng::seed_from_u64(5));
    let key = state.finish(&pake).unwrap();
    viewer.handle_input(
        1,
        ViewerInput::Received(Message::Pake {
            pake: msg,
            sharer: "Ada".into(),
        }),
    );
    let forged = super::auth::confirmation(&key, super::auth::Prover::Agent, &binding, "inv-1");
    viewer.handle_input(
        2,
        ViewerInput::Received(Message::Confirm {
            mac: forged.to_vec(),
        }),
    );
    assert_eq!(
        viewer.state(),
        &ViewerState::Closed(CloseReason::AgentNotAuthentic)
    );
}

#[test]
fn a_relay_between_two_tls_sessions_fails_authentication() {
    // Same password, but each side sees a different TLS exporter value: a man in the middle.
    let stretched = stretch(PASSWORD, &light_params()).unwrap();
    let mut agent = AgentSession::new(ticket(), [1; 32], [1; 32], Timers::default(), 0);
    let mut viewer = ViewerSession::new(
        "inv-1",
        "Grace",
        &stretched,
        [2; 32],
        [2; 32],
        Timers::default(),
        0,
    );
    for _ in 0..4 {
        while let Some(ViewerOutput::Send(m)) = viewer.poll_output() {
            agent.handle_input(1, AgentInput::Received(m));
        }
        while let Some(o) = agent.poll_output() {
            if let AgentOutput::Send(m) = o {
                viewer.handle_input(1, ViewerInput::Received(m));
            }
        }
    }
    assert!(matches!(
        agent.state(),
        AgentState::Closed(CloseReason::Refused(Refusal::WrongPassword { .. }))
    ));
    assert!(matches!(viewer.state(), ViewerState::Closed(_)));
}

#[test]
fn silence_times_out_and_pings_keep_a_quiet_session_alive() {
    let mut p = Pair::viewing();
    p.run(60_000_000);
    assert_eq!(
        p.viewer.state(),
        &ViewerState::Viewing,
        "pings kept it alive"
    );
    p.to_agent.up = false;
    p.to_viewer.up = false;
    p.run(30_000_000);
    assert_eq!(p.agent.state(), &AgentState::Closed(CloseReason::TimedOut));
    assert_eq!(
        p.viewer.state(),
        &ViewerState::Closed(CloseReason::TimedOut)
    );
}

#[test]
fn an_unanswered_hello_times_out() {
    let mut p = Pair::new(PASSWORD, ticket());
    p.to_agent.up = false;
    p.to_agent.queue.clear();
    p.run(40_000_000);
    assert_eq!(
        p.viewer.state(),
        &ViewerState::Closed(CloseReason::TimedOut)
    );
}

#[test]
fn other_protocol_versions_are_named() {
    let mut agent = AgentSession::new(ticket(), [0; 32], [0; 32], Timers::default(), 0);
    agent.handle_input(
        1,
        AgentInput::Received(Message::Hello {
            version: 9,
            invitation_id: "inv-1".into(),
            helper: "x".into(),
            pake: vec![],
        }),
    );
    assert_eq!(
        agent.state(),
        &AgentState::Closed(CloseReason::VersionMismatch { ours: 1, theirs: 9 })
    );
}

#[test]
fn secrets_never_print() {
    let t = ticket();
    let stretched = stretch(PASSWORD, &light_params()).unwrap();
    let mut p = Pair::viewing();
    let shown = format!(
        "{:?} {:?} {:?} {:?} {}",
        t, p.agent, p.viewer, stretched, stretched
    );
    assert!(shown.contains("[redacted]"));
    assert!(!shown.contains(PASSWORD));
    for secret in [t.verifier.expose(), stretched.expose()] {
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        let list = format!("{:?}", secret);
        assert!(
            !shown.contains(&hex) && !shown.contains(&list[1..20]),
            "a secret's bytes were printed"
        );
    }
    p.helper(HelperAction::Disconnect);
}

#[test]
fn slow_lossy_link_still_completes_the_session() {
    let mut p = Pair::with_link(PASSWORD, ticket(), 150_000, 0.05, 32);
    p.run(5_000_000);
    p.sharer(SharerDecision::AllowConnection(true));
    p.run(5_000_000);
    assert_eq!(p.viewer.state(), &ViewerState::Viewing);
    p.helper(HelperAction::Chat("hello over a slow link".into()));
    p.run(5_000_000);
    assert!(p.log.agent.contains(&AgentEvent::Chat {
        text: "hello over a slow link".into()
    }));
}

#[test]
fn messages_reject_oversized_fields_and_garbage() {
    let long = Message::Chat {
        text: "x".repeat(message::MAX_CHAT + 1),
    };
    assert!(matches!(
        long.encode(),
        Err(message::MessageError::FieldTooLong { .. })
    ));
    let ok = Message::Chat { text: "hi".into() };
    assert_eq!(Message::decode(&ok.encode().unwrap()).unwrap(), ok);
    let mut trailing = ok.encode().unwrap();
    trailing.push(0);
    assert!(Message::decode(&trailing).is_err());
}

/// One random step of a session.
#[derive(Clone, Debug)]
enum Step {
    Connect(bool),
    Control(bool),
    SharerEsc,
    Request,
    Release,
    Input,
    HelperChat,
    SharerChat,
    Screen,
    Wait(u64),
}

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        any::<bool>().prop_map(Step::Connect),
        any::<bool>().prop_map(Step::Control),
        Just(Step::SharerEsc),
        Just(Step::Request),
        Just(Step::Release),
        Just(Step::Input),
        Just(Step::Input),
        Just(Step::HelperChat),
        Just(Step::SharerChat),
        Just(Step::Screen),
        (0u64..50_000).prop_map(Step::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The invariants hold whatever the order of events (the harness asserts "no screen before
    /// Yes" and "no input without control" on every output).
    #[test]
    fn invariants_hold_for_random_sessions(steps in proptest::collection::vec(step_strategy(), 1..60), latency in 1_000u64..40_000) {
        let mut p = Pair::with_link(PASSWORD, ticket(), latency, 0.0, 1_000_000);
        p.run(200_000);
        let mut chats = (0usize, 0usize);
        for step in steps {
            match step {
                Step::Connect(yes) => p.sharer(SharerDecision::AllowConnection(yes)),
                Step::Control(yes) => p.sharer(SharerDecision::AllowControl(yes)),
                Step::SharerEsc => {
                    let applied = p.log.applied.len();
                    p.sharer(SharerDecision::Esc);
                    prop_assert_ne!(p.agent.state(), &AgentState::Controlling);
                    p.run(2 * latency + 1_000);
                    prop_assert_eq!(p.log.applied.len(), applied, "input applied after the sharer's Esc");
                }
                Step::Request => p.helper(HelperAction::RequestControl),
                Step::Release => {
                    p.helper(HelperAction::ReleaseControl);
                    prop_assert!(!matches!(p.viewer.state(), ViewerState::Controlling | ViewerState::ControlRequested));
                }
                Step::Input => p.helper(HelperAction::Input(KEY)),
                Step::HelperChat => {
                    if matches!(p.viewer.state(), ViewerState::Viewing | ViewerState::ControlRequested | ViewerState::Controlling) {
                        chats.0 += 1;
                    }
                    p.helper(HelperAction::Chat("h".into()));
                }
                Step::SharerChat => {
                    if matches!(p.agent.state(), AgentState::Viewing | AgentState::ControlRequested | AgentState::Controlling) {
                        chats.1 += 1;
                    }
                    p.sharer(SharerDecision::Chat("s".into()));
                }
                Step::Screen => p.screen(),
                Step::Wait(us) => p.run(us),
            }
        }
        p.run(1_000_000);
        // Every chat sent while its sender was in session arrived, and no other.
        let got_agent = p.log.agent.iter().filter(|e| matches!(e, AgentEvent::Chat { .. })).count();
        let got_viewer = p.log.viewer.iter().filter(|e| matches!(e, ViewerEvent::Chat { .. })).count();
        prop_assert_eq!(got_agent, chats.0, "helper's chat");
        prop_assert_eq!(got_viewer, chats.1, "sharer's chat");
        // Both sides agree on control once the link is quiet.
        let agent_controls = p.agent.state() == &AgentState::Controlling;
        let viewer_controls = p.viewer.state() == &ViewerState::Controlling;
        if !matches!(p.agent.state(), AgentState::Closed(_)) {
            prop_assert_eq!(agent_controls, viewer_controls, "agent {:?}, viewer {:?}", p.agent.state(), p.viewer.state());
        }
    }
}
