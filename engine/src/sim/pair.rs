//! [`Pair`]: an agent and a viewer, each a whole session core with its half of the screen
//! stream, joined by a simulated [`Network`] on simulated time. Nothing sleeps: time jumps to
//! the next packet, timer or capture, and every loop is bounded. The harness checks the
//! invariants on every output: no update before the sharer's Yes, no input applied without
//! control.

use crate::frame::Frame;
use crate::pipeline::Pointer;
use crate::session::auth::{StretchParams, stretch};
use crate::session::{
    AgentConfig, AgentEvent, AgentInput, AgentOutput, AgentSession, AgentState, HelperAction,
    InvitationRef, SharerDecision, Ticket, Timers, ViewerEvent, ViewerInput, ViewerOutput,
    ViewerSession,
};
use crate::sim::link::{LinkSpec, Path};
use crate::sim::transport::{Network, Outcome};
use crate::stream::Capture;
use crate::wire::{InputEvent, Message};

/// The password every pair's ticket is made for.
pub(crate) const PASSWORD: &str = "Tr0ub4dor&3-horse";

/// Light argon2id settings: tests need the algorithm, not its cost.
pub(crate) fn light_params() -> StretchParams {
    StretchParams {
        salt: [9; 16],
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    }
}

/// An open ticket for [`PASSWORD`], expiring after an hour.
pub(crate) fn ticket() -> Ticket {
    Ticket {
        expires_at_us: 3_600_000_000,
        ..Ticket::open("inv-1", "Ada", stretch(PASSWORD, &light_params()).unwrap())
    }
}

/// What the sharer's screen shows at a time.
pub(crate) trait Screen {
    /// Draws the screen as it is at `now_us` into `frame`.
    fn draw(&mut self, now_us: u64, frame: &mut Frame);

    /// The pointer as of the last drawing, when the screen has one.
    fn pointer(&mut self) -> Option<Pointer> {
        None
    }
}

/// A still screen, for tests about the session rather than the picture.
pub(crate) struct Still(pub(crate) Frame);

impl Screen for Still {
    fn draw(&mut self, _now_us: u64, frame: &mut Frame) {
        if frame != &self.0 {
            frame.clone_from(&self.0);
        }
    }
}

/// An update the agent sent.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SentUpdate {
    pub(crate) seq: u64,
    pub(crate) bytes: usize,
    pub(crate) background: bool,
    pub(crate) at: u64,
}

/// A change the viewer showed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shown {
    pub(crate) seq: u64,
    /// When it was captured (or refined) on the agent's side.
    pub(crate) captured: u64,
    pub(crate) at: u64,
}

/// What the harness saw, for assertions.
#[derive(Default, Debug)]
pub(crate) struct Log {
    pub(crate) agent: Vec<AgentEvent>,
    pub(crate) viewer: Vec<ViewerEvent>,
    pub(crate) applied: Vec<InputEvent>,
    /// What the helper's clipboard put on the sharer's.
    pub(crate) clipboard: Vec<String>,
    pub(crate) captures: usize,
    pub(crate) sent: Vec<SentUpdate>,
    pub(crate) shown: Vec<Shown>,
    pub(crate) messages_to_agent: Vec<Message>,
    pub(crate) messages_to_viewer: Vec<Message>,
}

impl Log {
    /// Whether update `seq` was refinement.
    pub(crate) fn background(&self, seq: u64) -> bool {
        self.sent.iter().any(|s| s.seq == seq && s.background)
    }

    /// Capture-to-screen latencies of the fresh updates shown at or after `from_us`, sorted.
    pub(crate) fn fresh_latencies(&self, from_us: u64) -> Vec<u64> {
        let mut v: Vec<u64> = self
            .shown
            .iter()
            .filter(|s| s.at >= from_us && !self.background(s.seq))
            .map(|s| s.at - s.captured)
            .collect();
        v.sort_unstable();
        v
    }
}

/// The `p`th percentile (0 to 1) of sorted `values`.
pub(crate) fn percentile(values: &[u64], p: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    values[((values.len() - 1) as f64 * p).round() as usize]
}

/// Agent and viewer on a simulated network.
pub(crate) struct Pair {
    pub(crate) now: u64,
    pub(crate) agent: AgentSession,
    pub(crate) viewer: ViewerSession,
    pub(crate) net: Network,
    pub(crate) screen: Box<dyn Screen>,
    /// The agent's last capture.
    pub(crate) frame: Frame,
    pub(crate) log: Log,
    sharer_said_yes: bool,
}

impl Pair {
    /// A pair for `ticket` with the helper typing `password`, on a fast link of 10 ms each
    /// way, sharing a small still screen.
    pub(crate) fn new(password: &str, ticket: Ticket) -> Pair {
        let screen = Still(Frame::filled(64, 48, [50, 60, 70, 255]));
        Pair::on(
            LinkSpec {
                delay_us: 10_000,
                ..LinkSpec::loopback()
            },
            password,
            ticket,
            AgentConfig::default(),
            Box::new(screen),
        )
    }

    /// A pair on `link` (both ways), sharing `screen`.
    pub(crate) fn on(
        link: LinkSpec,
        password: &str,
        ticket: Ticket,
        config: AgentConfig,
        screen: Box<dyn Screen>,
    ) -> Pair {
        Pair::on_seeded(link, 7, password, ticket, config, screen)
    }

    /// [`Pair::on`] with the links' random draws (loss, jitter) from `seed`.
    pub(crate) fn on_seeded(
        link: LinkSpec,
        seed: u64,
        password: &str,
        ticket: Ticket,
        config: AgentConfig,
        screen: Box<dyn Screen>,
    ) -> Pair {
        let binding = [42u8; 32];
        let stretched = stretch(password, &light_params()).unwrap();
        let agent = AgentSession::new(ticket, binding, [1; 32], config, 0);
        let viewer = ViewerSession::new(
            &InvitationRef::bare("inv-1"),
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
            net: Network::new(Path::new(link, seed), Path::new(link, seed + 1)),
            screen,
            frame: Frame::filled(1, 1, [0; 4]),
            log: Log::default(),
            sharer_said_yes: false,
        };
        pair.drain();
        pair
    }

    /// Connected, allowed, viewing.
    pub(crate) fn viewing() -> Pair {
        let mut p = Pair::new(PASSWORD, ticket());
        p.run(100_000);
        assert_eq!(p.agent.state(), &AgentState::AwaitingConsent);
        p.sharer(SharerDecision::AllowConnection(true));
        p.run(100_000);
        assert!(p.viewer.is_viewing());
        p
    }

    /// Moves every pending output onto the network, checking the invariants as it goes.
    pub(crate) fn drain(&mut self) {
        for _ in 0..10_000 {
            let mut busy = false;
            while let Some(output) = self.agent.poll_output() {
                busy = true;
                self.agent_output(output);
            }
            while let Some(output) = self.viewer.poll_output() {
                busy = true;
                self.viewer_output(output);
            }
            if !busy {
                return;
            }
        }
        panic!("the sessions never stopped talking");
    }

    fn agent_output(&mut self, output: AgentOutput) {
        match output {
            AgentOutput::Send(m) => {
                if matches!(m, Message::Clipboard { .. }) {
                    assert_eq!(
                        self.agent.state(),
                        &AgentState::Controlling,
                        "the sharer's clipboard left without control"
                    );
                }
                self.log.messages_to_viewer.push(m.clone());
                self.net.send_control(self.now, 0, m.encode().unwrap());
            }
            AgentOutput::SendUpdate(update) => {
                assert!(
                    self.sharer_said_yes,
                    "an update left before the sharer's Yes"
                );
                assert!(self.agent.may_send_screen());
                self.log.sent.push(SentUpdate {
                    seq: update.seq,
                    bytes: update.bytes.len(),
                    background: update.background,
                    at: self.now,
                });
                self.net
                    .send_update(self.now, 0, update.seq, update.bytes, update.background);
            }
            AgentOutput::Capture => {
                assert!(self.sharer_said_yes, "a capture before the sharer's Yes");
                self.log.captures += 1;
                self.screen.draw(self.now, &mut self.frame);
                let pointer = self.screen.pointer();
                let capture = Capture {
                    frame: self.frame.as_ref(),
                    damage: None,
                    pointer: pointer.as_ref(),
                };
                self.agent.handle_capture(self.now, capture).unwrap();
            }
            AgentOutput::Apply(event) => {
                assert_eq!(
                    self.agent.state(),
                    &AgentState::Controlling,
                    "input applied without control"
                );
                self.log.applied.push(event);
            }
            AgentOutput::SetClipboard(text) => {
                assert_eq!(
                    self.agent.state(),
                    &AgentState::Controlling,
                    "the helper's clipboard taken without control"
                );
                self.log.clipboard.push(text);
            }
            AgentOutput::Event(e) => self.log.agent.push(e),
        }
    }

    fn viewer_output(&mut self, output: ViewerOutput) {
        match output {
            ViewerOutput::Send(m) => {
                self.log.messages_to_agent.push(m.clone());
                self.net.send_control(self.now, 1, m.encode().unwrap());
            }
            ViewerOutput::Event(ViewerEvent::Screen(change)) => self.log.shown.push(Shown {
                seq: change.seq,
                captured: change.timestamp_us,
                at: self.now,
            }),
            ViewerOutput::Event(e) => self.log.viewer.push(e),
        }
    }

    /// Jumps to the next delivery or wake-up at or before `limit`; false when there is none.
    pub(crate) fn step(&mut self, limit: u64) -> bool {
        let candidates = [
            self.net.next_at(),
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
        for outcome in self.net.advance(self.now) {
            match outcome {
                Outcome::Control { to: 0, bytes } => self.agent.handle_input(
                    self.now,
                    AgentInput::Received(Message::decode(&bytes).unwrap()),
                ),
                Outcome::Control { bytes, .. } => self.viewer.handle_input(
                    self.now,
                    ViewerInput::Received(Message::decode(&bytes).unwrap()),
                ),
                Outcome::Update { bytes, .. } => self
                    .viewer
                    .handle_input(self.now, ViewerInput::Update(bytes)),
                Outcome::Delivered { seq, rtt_us, .. } => self
                    .agent
                    .handle_input(self.now, AgentInput::Delivered { seq, rtt_us }),
            }
            self.drain();
        }
        let rtt_us = self.net.srtt(0);
        self.agent
            .handle_input(self.now, AgentInput::Tick { rtt_us });
        self.viewer.handle_input(self.now, ViewerInput::Tick);
        self.drain();
        true
    }

    /// Runs for `us` of simulated time.
    pub(crate) fn run(&mut self, us: u64) {
        let limit = self.now + us;
        for _ in 0..1_000_000 {
            if !self.step(limit) {
                break;
            }
        }
        self.now = self.now.max(limit);
    }

    /// The sharer decides.
    pub(crate) fn sharer(&mut self, decision: SharerDecision) {
        if decision == SharerDecision::AllowConnection(true)
            && self.agent.state() == &AgentState::AwaitingConsent
        {
            self.sharer_said_yes = true;
        }
        self.agent
            .handle_input(self.now, AgentInput::Decision(decision));
        self.drain();
    }

    /// The helper acts.
    pub(crate) fn helper(&mut self, action: HelperAction) {
        self.viewer
            .handle_input(self.now, ViewerInput::Action(action));
        self.drain();
    }
}
