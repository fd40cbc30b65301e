//! Flow control: how much of the screen stream may be on its way, measured in bytes against
//! the path.
//!
//! The receiver applies updates in sequence order, so a fresh update waits at the bottleneck
//! behind every byte sent before it, refinement included. What bounds a typed character's
//! latency is therefore the queue the sender itself builds on the path. [`Flow`] keeps a model
//! of that bottleneck, in the manner of BBR: it measures the path's delivery rate (bytes
//! delivered per time) and its least round trip, and runs a virtual bottleneck at that rate:
//! every byte sent keeps it busy for its time on the link.
//! - **Fresh updates** go while the fresh updates before them would leave the virtual
//!   bottleneck within [`TARGET_QUEUE_US`], and the bytes in flight stay under two paths' worth.
//!   Otherwise the capture waits: latest-wins, its changes fold into the next update.
//! - **Refinement** is background traffic: it goes only when the virtual bottleneck is about
//!   idle, in pieces that take at most [`PIECE_US`] at the path's rate, so that a fresh update
//!   never waits long behind one. At first it is paced at twice the measured rate, until the
//!   rate stops growing (the path is full: startup); then at the measured rate, a little above
//!   it one round trip in eight (to learn a faster path) and a little below the next (to drain
//!   what that queued). After the startup, while the screen changes (a fresh update in the
//!   last [`ACTIVE_US`]), it takes half of that, so that typing meets an empty queue more often.
//! - The rate estimate grows with what deliveries show, and by a sixteenth (when they showed at
//!   least three quarters of it) each round trip in which refinement went and every update came
//!   as the model said: its round trip, the queue the model put ahead of it and its own time on
//!   the link, within half [`TARGET_QUEUE_US`]. One later than that by more than the target shows
//!   the rate was overestimated, and cuts it.

use std::collections::BTreeMap;

/// The most queueing delay a fresh update is sent into.
pub(crate) const TARGET_QUEUE_US: u64 = 40_000;
/// Longest a piece of refinement may take at the path's rate.
pub(crate) const PIECE_US: u64 = 40_000;
/// How recent a fresh update keeps refinement at half its pace.
pub(crate) const ACTIVE_US: u64 = 1_000_000;
/// A packet's payload, about.
const PACKET: u64 = 1_200;
/// What may be in flight before any delivery was measured, as a QUIC sender's first window.
const INITIAL_WINDOW: u64 = 12 * PACKET;
/// How long a receiver may hold back its acknowledgement (QUIC's default `max_ack_delay`): a
/// delivery is known that much later than the round trip says.
const ACK_DELAY_US: u64 = 25_000;
/// An update this much later than the model says was held up by an outage (the transport
/// probing a dead path), not by a queue.
const OUTAGE_US: u64 = 1_000_000;
/// The smallest piece of refinement worth an update.
const MIN_PIECE: u64 = PACKET / 2;
/// How long the least round trip is remembered: a path that changed (a new route, a rebinding)
/// is learnt again after this.
const MIN_RTT_WINDOW_US: u64 = 10_000_000;
/// Refinement's pacing gains, in percent, one round trip each.
const GAINS: [u64; 8] = [125, 75, 100, 100, 100, 100, 100, 100];
/// Refinement's pacing gain in percent while the path's rate is still being found.
const STARTUP_GAIN: u64 = 200;
/// Round trips without the rate growing by a quarter that end the startup.
const STARTUP_ROUNDS: u32 = 3;

/// An update on its way.
#[derive(Clone, Copy, Debug)]
struct InFlight {
    bytes: u64,
    background: bool,
    /// Bytes delivered, and the time of the last delivery, when it went (for its rate sample).
    delivered: u64,
    delivered_at: u64,
    /// When it went, and how long the model expected it to wait at the bottleneck (`None`:
    /// no rate was known).
    sent_at: u64,
    expected_wait_us: Option<u64>,
}

/// The path model and the bytes in flight.
#[derive(Debug)]
pub(crate) struct Flow {
    in_flight: BTreeMap<u64, InFlight>,
    bytes: u64,
    fresh_count: usize,
    /// Bytes delivered so far, and when the last were.
    delivered: u64,
    delivered_at: u64,
    /// The path's rate, bytes a second, once a delivery showed it.
    rate: Option<u64>,
    srtt_us: Option<u64>,
    /// The least round trip seen, and when.
    min_rtt: Option<(u64, u64)>,
    /// When the virtual bottleneck has sent everything so far, and every fresh update so far.
    busy_until_us: u64,
    fresh_busy_until_us: u64,
    /// When the last fresh update went.
    last_fresh_us: Option<u64>,
    /// The pacing cycle's start and phase.
    cycle: (u64, usize),
    /// When the rate was last cut for a standing queue.
    last_cut_us: Option<u64>,
    /// Round trips counted by deliveries: a round ends when an update sent after it began is
    /// delivered (the bytes delivered when it began).
    round_start: u64,
    /// In this round: whether refinement went, whether an update came late, and the highest
    /// delivery rate seen.
    round_refined: bool,
    round_late: bool,
    round_best: u64,
    /// The path's rate is still being found: the highest rate at the last growth by a quarter,
    /// and the round trips since.
    startup: Option<(u64, u32)>,
}

impl Default for Flow {
    fn default() -> Self {
        Flow {
            in_flight: BTreeMap::new(),
            bytes: 0,
            fresh_count: 0,
            delivered: 0,
            delivered_at: 0,
            rate: None,
            srtt_us: None,
            min_rtt: None,
            busy_until_us: 0,
            fresh_busy_until_us: 0,
            last_fresh_us: None,
            cycle: (0, 0),
            last_cut_us: None,
            round_start: 0,
            round_refined: false,
            round_late: false,
            round_best: 0,
            startup: Some((0, 0)),
        }
    }
}

impl Flow {
    /// The path's rate, bytes a second; `None` before any delivery was measured.
    pub(crate) fn rate(&self) -> Option<u64> {
        self.rate
    }

    /// The path's least round trip, once known.
    fn min_rtt(&self) -> Option<u64> {
        self.min_rtt.map(|(rtt, _)| rtt.max(1_000))
    }

    /// A path's worth of bytes: what is in flight when the bottleneck is busy and nothing waits.
    pub(crate) fn path_bytes(&self) -> u64 {
        match (self.rate(), self.min_rtt()) {
            (Some(rate), Some(rtt)) => (rate * rtt / 1_000_000).max(2 * PACKET),
            _ => INITIAL_WINDOW,
        }
    }

    /// Bytes on their way.
    pub(crate) fn in_flight(&self) -> u64 {
        self.bytes
    }

    /// Fresh updates on their way.
    pub(crate) fn fresh_in_flight(&self) -> usize {
        self.fresh_count
    }

    /// Whether a fresh update may go at `now_us`.
    pub(crate) fn fresh_allowed(&self, now_us: u64) -> bool {
        if self.bytes == 0 {
            return true;
        }
        if self.rate().is_none() {
            // The path is unknown: a first screen on its way may hold the link for seconds, and
            // what changes meanwhile goes after it in one update.
            return self.bytes < INITIAL_WINDOW / 4;
        }
        let queued = self.fresh_busy_until_us.saturating_sub(now_us);
        queued <= TARGET_QUEUE_US && self.bytes < 2 * self.path_bytes()
    }

    /// How many bytes of refinement may go at `now_us`, or `None`: what the virtual
    /// bottleneck, at refinement's pace, carries until [`PIECE_US`] from now.
    pub(crate) fn background_budget(&self, now_us: u64) -> Option<u64> {
        if self.bytes == 0 {
            // Nothing of ours is queued.
            return Some(self.piece());
        }
        let gain = self.gain(now_us);
        let rate = self.rate()? * gain / 100;
        let ahead = (now_us + PIECE_US).saturating_sub(self.busy_until_us.max(now_us));
        // Never more than a path's worth (at the gain) in flight: what startup over-sent
        // drains first.
        let room = (self.path_bytes() * gain.max(100) / 100).saturating_sub(self.bytes);
        let budget = (rate * ahead / 1_000_000).min(room);
        if room == 0 {
            None
        } else if self.busy_until_us <= now_us {
            // The bottleneck is idle: at least a piece worth its header.
            Some(budget.max(MIN_PIECE))
        } else {
            (budget >= MIN_PIECE).then_some(budget)
        }
    }

    /// Refinement's pacing gain at `now_us`, in percent.
    fn gain(&self, now_us: u64) -> u64 {
        if self.startup.is_some() {
            return STARTUP_GAIN;
        }
        let gain = GAINS[self.cycle.1];
        let active = self
            .last_fresh_us
            .is_some_and(|at| now_us.saturating_sub(at) < ACTIVE_US);
        if active { gain / 2 } else { gain }
    }

    /// The largest piece of refinement: [`PIECE_US`] at the path's rate.
    fn piece(&self) -> u64 {
        let rate = self.rate().unwrap_or(INITIAL_WINDOW * 1_000_000 / 333_000);
        (rate * PIECE_US / 1_000_000).max(MIN_PIECE)
    }

    /// The transport's smoothed round trip is `rtt_us` at `now_us` (call it whenever it is
    /// read: idle times teach the least round trip).
    pub(crate) fn observe_rtt(&mut self, now_us: u64, rtt_us: u64) {
        self.srtt_us = Some(rtt_us);
        let stale = self
            .min_rtt
            .is_none_or(|(min, at)| rtt_us <= min || now_us.saturating_sub(at) > MIN_RTT_WINDOW_US);
        if stale {
            self.min_rtt = Some((rtt_us, now_us));
        }
    }

    /// Update `seq` of `bytes` was handed to the transport at `now_us`.
    pub(crate) fn sent(&mut self, now_us: u64, seq: u64, bytes: u64, background: bool) {
        if self.bytes == 0 {
            // Nothing was on its way: this update's rate is counted from now.
            self.delivered_at = now_us;
        }
        let expected_wait_us = self
            .rate()
            .map(|_| self.busy_until_us.saturating_sub(now_us));
        self.in_flight.insert(
            seq,
            InFlight {
                bytes,
                background,
                delivered: self.delivered,
                delivered_at: self.delivered_at,
                sent_at: now_us,
                expected_wait_us,
            },
        );
        self.bytes += bytes;
        if background {
            self.round_refined = true;
        } else {
            self.fresh_count += 1;
            self.last_fresh_us = Some(now_us);
        }
        let gain = if background { self.gain(now_us) } else { 100 };
        if let Some(rate) = self.rate() {
            let busy = bytes * 1_000_000 * 100 / (rate * gain).max(1);
            self.busy_until_us = self.busy_until_us.max(now_us) + busy;
            if !background {
                let busy = bytes * 1_000_000 / rate.max(1);
                self.fresh_busy_until_us = self.fresh_busy_until_us.max(now_us) + busy;
            }
        }
    }

    /// A round trip ended: the pacing cycle moves on a phase; the startup ends once the rate
    /// stopped growing.
    fn next_round(&mut self) {
        self.cycle.1 = (self.cycle.1 + 1) % GAINS.len();
        if self.startup.is_none() && self.round_refined && !self.round_late {
            // A little faster, when the deliveries showed at least three quarters of the rate:
            // refinement is paced at the rate with a path's worth in flight at most, so
            // deliveries trail the rate by the acknowledgements' delay, and asking them to
            // reach it stalls the rate wherever it is. Less would let a trickle of refinement
            // inflate it.
            let best = self.round_best;
            self.rate = self.rate.map(|rate| {
                if best * 4 >= rate * 3 {
                    rate + rate / 16
                } else {
                    rate
                }
            });
        }
        let refined = self.round_refined;
        (self.round_refined, self.round_late, self.round_best) = (false, false, 0);
        let rate = self.rate().unwrap_or(0);
        self.startup = match self.startup {
            Some((full, _)) if rate >= full + full / 4 => Some((rate, 0)),
            // A round without refinement tried nothing: it does not count.
            Some(startup) if !refined => Some(startup),
            Some((full, rounds)) if rounds + 1 < STARTUP_ROUNDS => Some((full, rounds + 1)),
            _ => None,
        };
    }

    /// `update` was delivered at `now_us`: when it took longer than the model expected by more
    /// than [`TARGET_QUEUE_US`], the rate was overestimated, and is cut (at most once a round
    /// trip). One later than [`OUTAGE_US`] says the path was down, not slow: no cut.
    fn check_model(&mut self, now_us: u64, update: &InFlight) {
        let (Some(wait), Some(rate), Some(rtt)) =
            (update.expected_wait_us, self.rate(), self.min_rtt())
        else {
            return;
        };
        let expected = rtt + ACK_DELAY_US + wait + update.bytes * 1_000_000 / rate.max(1);
        let late = now_us
            .saturating_sub(update.sent_at)
            .saturating_sub(expected);
        self.round_late |= late > TARGET_QUEUE_US / 2;
        let due = self
            .last_cut_us
            .is_none_or(|at| now_us.saturating_sub(at) >= rtt);
        if late > TARGET_QUEUE_US && late < OUTAGE_US && due {
            self.last_cut_us = Some(now_us);
            self.startup = None;
            self.rate = Some(rate * 85 / 100);
        }
    }

    /// Update `seq` reached the receiver at `now_us` (`delivered`) or never will.
    pub(crate) fn settled(&mut self, now_us: u64, seq: u64, delivered: bool) {
        let Some(update) = self.in_flight.remove(&seq) else {
            return;
        };
        self.bytes -= update.bytes;
        if !update.background {
            self.fresh_count -= 1;
        }
        if !delivered {
            return;
        }
        self.delivered += update.bytes;
        self.delivered_at = now_us;
        let elapsed = now_us.saturating_sub(update.delivered_at).max(1);
        let sample = (self.delivered - update.delivered) * 1_000_000 / elapsed;
        self.check_model(now_us, &update);
        self.rate = Some(self.rate.map_or(sample, |rate| rate.max(sample)));
        self.round_best = self.round_best.max(sample);
        if update.delivered >= self.round_start {
            self.round_start = self.delivered;
            self.next_round();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// A path of `rate` bytes a second and `rtt` round trip, kept busy with refinement for
    /// `rounds` round trips from `start`; returns the time at the end.
    fn busy(flow: &mut Flow, start: u64, rate: u64, rtt: u64, rounds: u64) -> u64 {
        let mut now = start;
        let mut seq = 1_000 * start;
        // Each piece arrives when the link has carried it, and is acknowledged a round trip on.
        let mut link_free = now;
        let mut pending: VecDeque<(u64, u64)> = VecDeque::new();
        while now < start + rounds * rtt {
            flow.observe_rtt(now, rtt + link_free.saturating_sub(now));
            while pending.front().is_some_and(|(at, _)| *at <= now) {
                let (at, s) = pending.pop_front().unwrap();
                flow.settled(at, s, true);
            }
            while let Some(budget) = flow.background_budget(now) {
                seq += 1;
                flow.sent(now, seq, budget, true);
                link_free = link_free.max(now) + budget * 1_000_000 / rate;
                pending.push_back((link_free + rtt, seq));
            }
            now += 1_000;
        }
        now
    }

    #[test]
    fn the_rate_is_learnt_from_deliveries_and_the_path_kept_busy_without_a_queue() {
        let mut flow = Flow::default();
        let (rate, rtt) = (32_000, 300_000);
        busy(&mut flow, 0, rate, rtt, 40);
        let learnt = flow.rate().unwrap();
        assert!(
            learnt * 10 >= rate * 9 && learnt * 10 <= rate * 13,
            "learnt {learnt} B/s of {rate}"
        );
        assert!(flow.in_flight() <= flow.path_bytes() * 13 / 10);
    }

    /// Deliveries that trail the rate (acknowledgements held back, pieces paced at the rate
    /// with a path's worth in flight at most) still let it grow, round after clean round.
    #[test]
    fn the_rate_grows_while_deliveries_trail_it() {
        let mut flow = Flow::default();
        let rtt = 300_000;
        let (mut now, mut seq) = (0, 0);
        flow.sent(now, seq, 3_000, true);
        flow.observe_rtt(now + rtt, rtt);
        flow.settled(now + rtt, seq, true);
        let first = flow.rate().unwrap();
        for _ in 0..20 {
            now += rtt;
            seq += 1;
            // Eight tenths of what the rate carries in a round trip, delivered in time.
            let bytes = flow.rate().unwrap() * rtt / 1_000_000 * 8 / 10;
            flow.sent(now, seq, bytes, true);
            flow.observe_rtt(now + rtt, rtt);
            flow.settled(now + rtt, seq, true);
        }
        let grown = flow.rate().unwrap();
        assert!(grown >= first * 3 / 2, "{first} B/s grew to {grown}");
    }

    #[test]
    fn pieces_take_at_most_their_time_at_the_paths_rate() {
        let mut flow = Flow::default();
        busy(&mut flow, 0, 32_000, 300_000, 20);
        let piece = flow.piece();
        let rate = flow.rate().unwrap();
        assert_eq!(piece, rate * PIECE_US / 1_000_000);
    }

    #[test]
    fn refinement_waits_while_the_bottleneck_is_busy_and_fresh_updates_still_go() {
        let mut flow = Flow::default();
        let now = busy(&mut flow, 0, 32_000, 300_000, 20);
        flow.sent(now, 1, 1_600, true);
        assert_eq!(flow.background_budget(now), None, "the bottleneck is busy");
        assert!(flow.fresh_allowed(now), "a typed character still goes");
        // A fresh update larger than the target's worth of the link: the next one waits.
        flow.sent(now, 2, 8_000, false);
        assert!(!flow.fresh_allowed(now));
        assert_eq!(flow.fresh_in_flight(), 1);
    }

    #[test]
    fn an_update_slower_than_the_model_cuts_the_rate() {
        let mut flow = Flow::default();
        let now = busy(&mut flow, 0, 32_000, 300_000, 20);
        let before = flow.rate().unwrap();
        let wait = flow.busy_until_us.saturating_sub(now);
        // A piece the model expects in a round trip, its wait and its time on the link comes a
        // queue of three times the target later: the path is slower than the model.
        flow.sent(now, 1, 1_000, true);
        let late = now + 300_000 + wait + 1_000 * 1_000_000 / before + 3 * TARGET_QUEUE_US;
        flow.settled(late, 1, true);
        assert!(flow.rate().unwrap() < before);
        // One in time does not.
        let mut other = Flow::default();
        let now = busy(&mut other, 0, 32_000, 300_000, 20);
        let before = other.rate().unwrap();
        other.sent(now, 1, 1_000, true);
        other.settled(now + 310_000, 1, true);
        assert!(other.rate().unwrap() >= before);
    }

    #[test]
    fn one_update_always_goes_when_nothing_is_in_flight() {
        let mut flow = Flow::default();
        assert!(flow.fresh_allowed(0));
        assert!(flow.background_budget(0).is_some());
        flow.sent(0, 1, 100_000, false);
        assert!(!flow.fresh_allowed(0), "a first screen fills the window");
        flow.settled(1_000, 1, true);
        assert!(flow.fresh_allowed(1_000));
        assert_eq!(flow.in_flight(), 0);
    }
}
