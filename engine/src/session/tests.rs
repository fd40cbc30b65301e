//! The session cores joined by a simulated network ([`crate::sim`]): every invariant checked on
//! every output, on simulated time.

use crate::wire::message::PROTOCOL_VERSION;
use proptest::prelude::*;

use super::auth::stretch;
use super::*;
use crate::frame::Frame;
use crate::pipeline::{CursorImage, Pointer};
use crate::sim::link::LinkSpec;
use crate::sim::pair::{PASSWORD, Pair, Screen, Still, light_params, ticket};
use crate::wire::{InputEvent, Message, Party, Refusal, message};

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
    // Nothing is captured, let alone shown, before the Yes.
    p.run(1_000_000);
    assert_eq!(
        (p.log.captures, p.log.sent.len(), p.log.shown.len()),
        (0, 0, 0)
    );
    p.sharer(SharerDecision::AllowConnection(true));
    p.run(100_000);
    assert!(p.log.captures > 1, "captures follow the Yes");
    assert_eq!(p.log.sent.len(), 1, "a still screen is sent once");
    assert_eq!(p.log.shown.len(), 1);
    assert_eq!(
        p.viewer.screen(),
        Some(&p.frame),
        "the helper sees the sharer's pixels"
    );
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
    // The sharer shows one monitor, then all: the helper hears of each.
    p.sharer(SharerDecision::Showing(Some("HDMI-1 1920x1080+0+0".into())));
    p.sharer(SharerDecision::Showing(None));
    p.run(100_000);
    assert!(p.log.viewer.contains(&ViewerEvent::Showing {
        monitor: Some("HDMI-1 1920x1080+0+0".into())
    }));
    assert!(
        p.log
            .viewer
            .contains(&ViewerEvent::Showing { monitor: None })
    );
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

/// A still screen with a pointer that moves right a pixel a capture.
struct Pointing {
    still: Still,
    at: u32,
    shaped: bool,
}

impl Screen for Pointing {
    fn draw(&mut self, now_us: u64, frame: &mut Frame) {
        self.still.draw(now_us, frame);
    }

    fn pointer(&mut self) -> Option<Pointer> {
        self.at += 1;
        let shape = (!std::mem::replace(&mut self.shaped, true)).then(|| CursorImage {
            width: 2,
            height: 2,
            hot_x: 1,
            hot_y: 1,
            bgra: vec![255; 16],
        });
        Some(Pointer {
            x: self.at,
            y: 20,
            visible: true,
            shape,
        })
    }
}

#[test]
fn the_cursor_travels_as_small_messages_only_after_the_yes() {
    let screen = Pointing {
        still: Still(Frame::filled(64, 48, [9, 9, 9, 255])),
        at: 0,
        shaped: false,
    };
    let config = AgentConfig::default();
    let mut p = Pair::on(
        LinkSpec::loopback(),
        PASSWORD,
        ticket(),
        config,
        Box::new(screen),
    );
    p.run(1_000_000);
    let cursor =
        |m: &Message| matches!(m, Message::CursorShape { .. } | Message::CursorMoved { .. });
    assert!(
        !p.log.messages_to_viewer.iter().any(cursor),
        "a cursor message left before the Yes"
    );
    p.sharer(SharerDecision::AllowConnection(true));
    p.run(200_000);
    let shapes: Vec<&ViewerEvent> = (p.log.viewer.iter())
        .filter(|e| matches!(e, ViewerEvent::CursorShape(_)))
        .collect();
    assert_eq!(shapes.len(), 1, "the shape goes once");
    let ViewerEvent::CursorShape(picture) = shapes[0] else {
        unreachable!()
    };
    assert_eq!(
        (picture.width, picture.hot, &picture.bgra),
        (2, (1, 1), &vec![255; 16])
    );
    let moves = (p.log.viewer.iter())
        .filter(|e| matches!(e, ViewerEvent::CursorMoved { y: 20, .. }))
        .count();
    assert!(moves > 3, "positions follow the pointer: {moves}");
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
    assert_eq!((p.log.captures, p.log.sent.len()), (0, 0));
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
    // An impostor agent, registered with another password: its answer does not open with the
    // helper's password, so the helper has no key, and a confirmation the impostor sends
    // anyway is not taken.
    let binding = [42u8; 32];
    let stretched = stretch(PASSWORD, &light_params()).unwrap();
    let mut viewer = ViewerSession::new(
        &InvitationRef::bare("inv-1"),
        "Grace",
        &stretched,
        binding,
        [2; 32],
        Timers::default(),
        0,
    );
    let mut impostor = AgentSession::new(
        Ticket::open("inv-1", "Ada", stretch("guess", &light_params()).unwrap()),
        binding,
        [5; 32],
        AgentConfig::default(),
        0,
    );
    let Some(ViewerOutput::Send(hello)) = viewer.poll_output() else {
        panic!("no hello")
    };
    impostor.handle_input(1, AgentInput::Received(hello));
    while let Some(output) = impostor.poll_output() {
        if let AgentOutput::Send(m @ Message::Pake { .. }) = output {
            viewer.handle_input(1, ViewerInput::Received(m));
        }
    }
    let sent: Vec<ViewerOutput> = std::iter::from_fn(|| viewer.poll_output()).collect();
    assert_eq!(
        sent,
        [ViewerOutput::Send(Message::Confirm { mac: vec![] })],
        "the helper proves nothing to an agent whose answer does not open"
    );
    viewer.handle_input(
        2,
        ViewerInput::Received(Message::Confirm { mac: vec![0; 32] }),
    );
    assert!(matches!(viewer.state(), ViewerState::Closed(_)));
    assert!(
        !std::iter::from_fn(|| viewer.poll_output())
            .any(|o| matches!(o, ViewerOutput::Event(ViewerEvent::Authenticated { .. })))
    );
}

#[test]
fn an_answer_no_proof_follows_counts_as_a_wrong_password() {
    // OPAQUE's answer lets the helper test its guess offline: a helper that takes the answer
    // and goes away has had its guess, and it is counted.
    let stretched = stretch("not the password", &light_params()).unwrap();
    for ending in [
        AgentInput::Received(Message::Bye { by: Party::Helper }),
        AgentInput::Closed(CloseReason::TimedOut),
    ] {
        let mut agent = AgentSession::new(ticket(), [1; 32], [1; 32], AgentConfig::default(), 0);
        let mut viewer = ViewerSession::new(
            &InvitationRef::bare("inv-1"),
            "Mallory",
            &stretched,
            [1; 32],
            [2; 32],
            Timers::default(),
            0,
        );
        let Some(ViewerOutput::Send(hello)) = viewer.poll_output() else {
            panic!("no hello")
        };
        agent.handle_input(1, AgentInput::Received(hello));
        agent.handle_input(2, ending);
        let events: Vec<AgentOutput> = std::iter::from_fn(|| agent.poll_output()).collect();
        assert!(
            events.contains(&AgentOutput::Event(AgentEvent::AttemptFailed {
                attempts: 1,
                locked: false
            })),
            "{events:?}"
        );
    }
    // A hello whose key exchange message is garbage gets no answer and costs no attempt.
    let mut agent = AgentSession::new(ticket(), [1; 32], [1; 32], AgentConfig::default(), 0);
    agent.handle_input(
        1,
        AgentInput::Received(Message::Hello {
            version: PROTOCOL_VERSION,
            invitation_id: "inv-1".into(),
            invitation_digest: InvitationRef::bare("inv-1").digest,
            helper: "Mallory".into(),
            pake: vec![7; 96],
        }),
    );
    let events: Vec<AgentOutput> = std::iter::from_fn(|| agent.poll_output()).collect();
    assert!(
        !events
            .iter()
            .any(|o| matches!(o, AgentOutput::Event(AgentEvent::AttemptFailed { .. }))),
        "{events:?}"
    );
}

#[test]
fn logins_in_progress_count_against_the_limit() {
    // The application counts logins still in progress on other connections into the ticket's
    // attempts: with the limit reached, even the right password is refused before any answer.
    let mut t = ticket();
    t.attempts = t.max_attempts;
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
fn a_relay_between_two_tls_sessions_fails_authentication() {
    // Same password, but each side sees a different TLS exporter value: a man in the middle.
    let stretched = stretch(PASSWORD, &light_params()).unwrap();
    let mut agent = AgentSession::new(ticket(), [1; 32], [1; 32], AgentConfig::default(), 0);
    let mut viewer = ViewerSession::new(
        &InvitationRef::bare("inv-1"),
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
    let now = p.now;
    p.net.path(0).cut(now, u64::MAX);
    p.net.path(1).cut(now, u64::MAX);
    p.run(30_000_000);
    assert_eq!(p.agent.state(), &AgentState::Closed(CloseReason::TimedOut));
    assert_eq!(
        p.viewer.state(),
        &ViewerState::Closed(CloseReason::TimedOut)
    );
}

#[test]
fn an_unanswered_hello_times_out() {
    // The hello is lost, and so is everything after it.
    let screen = Box::new(Still(Frame::filled(8, 8, [0; 4])));
    let config = AgentConfig::default();
    let mut p = Pair::on(LinkSpec::loopback(), PASSWORD, ticket(), config, screen);
    p.net.path(1).cut(0, u64::MAX);
    p.run(40_000_000);
    assert_eq!(
        p.viewer.state(),
        &ViewerState::Closed(CloseReason::TimedOut)
    );
}

/// A helper whose copy of the invitation was edited (another message, say) is told so, the
/// sharer is never asked, and no wrong password is counted against the real invitation.
#[test]
fn an_edited_invitation_is_refused_as_changed_and_not_counted() {
    let stretched = stretch(PASSWORD, &light_params()).unwrap();
    let mut agent = AgentSession::new(ticket(), [1; 32], [1; 32], AgentConfig::default(), 0);
    let edited = InvitationRef {
        digest: [9; 32],
        ..InvitationRef::bare("inv-1")
    };
    let mut viewer = ViewerSession::new(
        &edited,
        "Grace",
        &stretched,
        [1; 32],
        [2; 32],
        Timers::default(),
        0,
    );
    let mut events = Vec::new();
    for _ in 0..4 {
        while let Some(ViewerOutput::Send(m)) = viewer.poll_output() {
            agent.handle_input(1, AgentInput::Received(m));
        }
        while let Some(o) = agent.poll_output() {
            match o {
                AgentOutput::Send(m) => viewer.handle_input(1, ViewerInput::Received(m)),
                AgentOutput::Event(e) => events.push(e),
                _ => {}
            }
        }
    }
    let changed = CloseReason::Refused(Refusal::InvitationChanged);
    assert_eq!(agent.state(), &AgentState::Closed(changed.clone()));
    assert_eq!(viewer.state(), &ViewerState::Closed(changed.clone()));
    assert!(
        changed
            .to_string()
            .contains("this invitation was changed after it was made")
    );
    assert_eq!(agent.ticket().attempts, 0);
    assert!(
        !events.iter().any(|e| matches!(
            e,
            AgentEvent::AttemptFailed { .. } | AgentEvent::HelperWantsToConnect { .. }
        )),
        "{events:?}"
    );
}

#[test]
fn other_protocol_versions_are_named() {
    let mut agent = AgentSession::new(ticket(), [0; 32], [0; 32], AgentConfig::default(), 0);
    agent.handle_input(
        1,
        AgentInput::Received(Message::Hello {
            version: 9,
            invitation_id: "inv-1".into(),
            invitation_digest: InvitationRef::bare("inv-1").digest,
            helper: "x".into(),
            pake: vec![],
        }),
    );
    assert_eq!(
        agent.state(),
        &AgentState::Closed(CloseReason::VersionMismatch {
            ours: message::PROTOCOL_VERSION,
            theirs: 9
        })
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
    for secret in [&t.credential.as_bytes()[..32], &stretched.expose()[..]] {
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
    let link = LinkSpec {
        rate_bps: 256_000,
        delay_us: 150_000,
        jitter_us: 10_000,
        loss: 0.05,
        queue_bytes: 32_000,
    };
    let screen = Box::new(Still(crate::codec::tests::photo(160, 120)));
    let mut p = Pair::on(link, PASSWORD, ticket(), AgentConfig::default(), screen);
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
    let long = Message::Showing {
        monitor: Some("x".repeat(message::MAX_NAME + 1)),
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
    HelperClipboard,
    SharerClipboard,
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
        Just(Step::HelperClipboard),
        Just(Step::SharerClipboard),
        (0u64..50_000).prop_map(Step::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The invariants hold whatever the order of events (the harness asserts "no screen before
    /// Yes" and "no input without control" on every output).
    #[test]
    fn invariants_hold_for_random_sessions(steps in proptest::collection::vec(step_strategy(), 1..60), latency in 1_000u64..40_000) {
        let link = LinkSpec { delay_us: latency, ..LinkSpec::loopback() };
        let screen = Box::new(Still(Frame::filled(32, 16, [1, 2, 3, 255])));
        let mut p = Pair::on(link, PASSWORD, ticket(), AgentConfig::default(), screen);
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
                // The harness asserts neither clipboard passes without control.
                Step::HelperClipboard => p.helper(HelperAction::Clipboard("h".into())),
                Step::SharerClipboard => p.sharer(SharerDecision::Clipboard("s".into())),
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

/// The clipboard passes both ways only while the helper has control, a long text in parts; a
/// hostile viewer's clipboard without control is dropped like its input.
#[test]
fn the_clipboard_passes_only_while_the_helper_has_control() {
    let clipboards = |p: &Pair| {
        let agent = p.log.clipboard.iter().cloned();
        let viewer = p.log.viewer.iter().filter_map(|e| match e {
            ViewerEvent::Clipboard { text } => Some(text.clone()),
            _ => None,
        });
        (agent.collect::<Vec<_>>(), viewer.collect::<Vec<_>>())
    };
    let mut p = Pair::viewing();
    p.helper(HelperAction::Clipboard("too early".into()));
    p.sharer(SharerDecision::Clipboard("too early".into()));
    let sneaked = Message::Clipboard {
        part: "sneaked".into(),
        more: false,
    };
    p.agent
        .handle_input(p.now, AgentInput::Received(sneaked.clone()));
    p.run(100_000);
    assert_eq!(clipboards(&p), (vec![], vec![]));

    p.helper(HelperAction::RequestControl);
    p.run(100_000);
    p.sharer(SharerDecision::AllowControl(true));
    p.run(100_000);
    let long = "ls -l /var/log\n".repeat(3000);
    p.helper(HelperAction::Clipboard(long.clone()));
    p.sharer(SharerDecision::Clipboard("from Ada".into()));
    p.run(300_000);
    let parts = p
        .log
        .messages_to_agent
        .iter()
        .filter(|m| matches!(m, Message::Clipboard { .. }))
        .count();
    assert!(parts >= 3, "{parts} parts");
    assert_eq!(
        clipboards(&p),
        (vec![long.clone()], vec!["from Ada".into()])
    );

    // The sharer's Esc: nothing more either way.
    p.sharer(SharerDecision::Esc);
    p.run(100_000);
    p.helper(HelperAction::Clipboard("too late".into()));
    p.sharer(SharerDecision::Clipboard("too late".into()));
    p.agent.handle_input(p.now, AgentInput::Received(sneaked));
    p.run(100_000);
    assert_eq!(clipboards(&p), (vec![long], vec!["from Ada".into()]));
}

/// "Continue sharing?" comes every `continue_every_us` of viewing; a Yes puts it off that long
/// again, and unanswered for `continue_timeout_us` it disconnects the helper.
#[test]
fn continue_sharing_is_asked_and_unanswered_disconnects() {
    let mut config = AgentConfig::default();
    config.timers.continue_every_us = 10_000_000;
    config.timers.continue_timeout_us = 3_000_000;
    let screen = Box::new(Still(Frame::filled(16, 16, [5, 5, 5, 255])));
    let mut p = Pair::on(LinkSpec::loopback(), PASSWORD, ticket(), config, screen);
    p.run(100_000);
    p.sharer(SharerDecision::AllowConnection(true));
    let asked = |p: &Pair| {
        p.log
            .agent
            .iter()
            .filter(|e| matches!(e, AgentEvent::AskContinue { .. }))
            .count()
    };
    p.run(9_000_000);
    assert_eq!(asked(&p), 0, "not before the time");
    p.run(2_000_000);
    assert_eq!(asked(&p), 1);
    assert!(p.log.agent.contains(&AgentEvent::AskContinue {
        helper: "Grace".into()
    }));
    p.sharer(SharerDecision::ContinueSharing(true));
    p.run(9_000_000);
    assert_eq!(asked(&p), 1, "a Yes puts it off");
    p.run(2_000_000);
    assert_eq!(asked(&p), 2);
    // Nobody answers.
    p.run(3_500_000);
    assert!(p.log.agent.contains(&AgentEvent::ContinueUnanswered));
    assert_eq!(
        p.agent.state(),
        &AgentState::Closed(CloseReason::Disconnected { by: Party::Sharer })
    );
    p.run(100_000);
    assert_eq!(
        p.viewer.state(),
        &ViewerState::Closed(CloseReason::Disconnected { by: Party::Sharer })
    );
}

#[test]
fn a_no_to_continue_sharing_disconnects_at_once_and_a_late_answer_does_nothing() {
    let mut config = AgentConfig::default();
    config.timers.continue_every_us = 1_000_000;
    let screen = Box::new(Still(Frame::filled(16, 16, [5, 5, 5, 255])));
    let mut p = Pair::on(LinkSpec::loopback(), PASSWORD, ticket(), config, screen);
    p.run(100_000);
    // An answer with no question pending changes nothing.
    p.sharer(SharerDecision::AllowConnection(true));
    p.sharer(SharerDecision::ContinueSharing(false));
    assert_eq!(p.agent.state(), &AgentState::Viewing);
    p.run(1_100_000);
    p.sharer(SharerDecision::ContinueSharing(false));
    assert_eq!(
        p.agent.state(),
        &AgentState::Closed(CloseReason::Disconnected { by: Party::Sharer })
    );
}

/// Names and chat come from the other side: what either side is shown has no terminal escape,
/// no bidirectional override and no line break in it.
#[test]
fn names_and_chat_from_the_other_side_are_plain_text() {
    let mut agent = AgentSession::new(ticket(), [0; 32], [0; 32], AgentConfig::default(), 0);
    agent.handle_input(
        1,
        AgentInput::Received(Message::Hello {
            version: message::PROTOCOL_VERSION,
            invitation_id: "inv-1".into(),
            invitation_digest: InvitationRef::bare("inv-1").digest,
            helper: "Grace\u{1b}[2J\u{202E}\nAllow? [y/N]".into(),
            pake: vec![0; 32],
        }),
    );
    assert_eq!(agent.helper(), "Grace[2J Allow? [y/N]");
    let mut p = Pair::viewing();
    p.helper(HelperAction::Chat("hi\u{1b}]0;owned\u{7}".into()));
    p.sharer(SharerDecision::Chat("ok\u{9b}2J".into()));
    p.run(100_000);
    assert!(p.log.agent.contains(&AgentEvent::Chat {
        text: "hi]0;owned".into()
    }));
    assert!(p.log.viewer.contains(&ViewerEvent::Chat {
        text: "ok2J".into()
    }));
}
