//! A QUIC-like transport over two simulated [`Path`]s, one each way, on simulated time.
//!
//! Each side sends packets of at most [`PACKET`] payload bytes: control messages on one ordered
//! stream, each screen update on a stream of its own. Packets go as a QUIC sender sends them:
//! control first, then fresh updates, then refinement; within a congestion window (slow start,
//! halved at most once a round trip on loss) and paced over the round trip. The receiver
//! acknowledges every packet at once on the other path. As in QUIC (RFC 9002), a packet is lost
//! when one sent three later, or 9/8 of a round trip later, is acknowledged before it; when
//! nothing is acknowledged for a probe timeout (doubling each time), the oldest packet is sent
//! again as a probe. A control message is delivered once it and every one
//! before it arrived; an update once all of it arrived; the sender learns that an update was
//! delivered when all of it is acknowledged, with its smoothed round trip, as from quinn.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};

use super::link::Path;

/// Most payload bytes a packet carries.
pub(crate) const PACKET: u64 = 1_200;
/// Bytes of headers a packet adds on the wire (UDP, IP, QUIC), and an acknowledgement's size.
const OVERHEAD: u64 = 40;
/// The congestion window at the start, and the least.
const INITIAL_WINDOW: u64 = 12 * PACKET;
const MIN_WINDOW: u64 = 2 * PACKET;
/// The round trip assumed before any is measured (RFC 9002's kInitialRtt).
const INITIAL_RTT: u64 = 333_000;
/// How long a receiver may wait to acknowledge (QUIC's default max_ack_delay).
const MAX_ACK_DELAY: u64 = 25_000;

/// What travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// The control message with this place on its stream.
    Control(u64),
    /// The screen update with this sequence number.
    Update { seq: u64, background: bool },
}

impl Kind {
    /// The send order: control, fresh updates, refinement.
    fn rank(self) -> u8 {
        match self {
            Kind::Control(_) => 0,
            Kind::Update {
                background: false, ..
            } => 1,
            Kind::Update {
                background: true, ..
            } => 2,
        }
    }
}

/// A message or update being sent.
#[derive(Debug)]
struct Item {
    kind: Kind,
    data: Vec<u8>,
    acked: Vec<bool>,
    unacked: usize,
}

/// A packet on its way.
#[derive(Clone, Copy, Debug)]
struct Sent {
    item: u64,
    index: usize,
    size: u64,
    at: u64,
}

/// What came out of the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A control message reached side `to` (0: the agent, 1: the viewer).
    Control { to: usize, bytes: Vec<u8> },
    /// A screen update reached side `to`.
    Update { to: usize, bytes: Vec<u8> },
    /// Side `from`'s update `seq` is acknowledged whole; the sender's smoothed round trip.
    Delivered { from: usize, seq: u64, rtt_us: u64 },
}

/// One side's sending half.
#[derive(Debug)]
struct Sender {
    items: BTreeMap<u64, Item>,
    next_item: u64,
    next_control: u64,
    /// Packets waiting to go: (rank, item, index).
    queue: BTreeSet<(u8, u64, usize)>,
    in_flight: BTreeMap<u64, Sent>,
    next_pn: u64,
    bytes_in_flight: u64,
    cwnd: u64,
    ssthresh: u64,
    last_cut_at: u64,
    srtt: Option<u64>,
    rttvar: u64,
    latest_rtt: u64,
    largest_acked: Option<u64>,
    next_send_at: u64,
    /// Probe timeouts in a row without an acknowledgement.
    probes: u32,
    /// When the probe timer fires, while packets are in flight.
    probe_at: Option<u64>,
}

impl Sender {
    fn new() -> Sender {
        Sender {
            items: BTreeMap::new(),
            next_item: 0,
            next_control: 0,
            queue: BTreeSet::new(),
            in_flight: BTreeMap::new(),
            next_pn: 0,
            bytes_in_flight: 0,
            cwnd: INITIAL_WINDOW,
            ssthresh: u64::MAX,
            last_cut_at: 0,
            srtt: None,
            rttvar: INITIAL_RTT / 2,
            latest_rtt: 0,
            largest_acked: None,
            next_send_at: 0,
            probes: 0,
            probe_at: None,
        }
    }

    fn push(&mut self, kind: Kind, data: Vec<u8>) {
        let packets = (data.len() as u64).div_ceil(PACKET).max(1) as usize;
        let id = self.next_item;
        self.next_item += 1;
        for index in 0..packets {
            self.queue.insert((kind.rank(), id, index));
        }
        self.items.insert(
            id,
            Item {
                kind,
                data,
                acked: vec![false; packets],
                unacked: packets,
            },
        );
    }

    fn packet_size(&self, item: u64, index: usize) -> u64 {
        let len = self.items.get(&item).map_or(0, |i| i.data.len() as u64);
        let start = index as u64 * PACKET;
        len.saturating_sub(start).min(PACKET) + OVERHEAD
    }

    /// How much later than a packet another must be acknowledged for it to count as lost.
    fn loss_delay(&self) -> u64 {
        (self.srtt.unwrap_or(INITIAL_RTT).max(self.latest_rtt) * 9 / 8).max(1_000)
    }

    /// The probe timeout, doubled for each probe in a row.
    fn probe_timeout(&self) -> u64 {
        let base = self.srtt.unwrap_or(INITIAL_RTT) + (4 * self.rttvar).max(1_000) + MAX_ACK_DELAY;
        base << self.probes.min(10)
    }

    /// When the next packet may go, if one waits.
    fn ready_at(&self) -> Option<u64> {
        let &(_, item, index) = self.queue.first()?;
        (self.bytes_in_flight + self.packet_size(item, index) <= self.cwnd)
            .then_some(self.next_send_at)
    }
}

/// One side's receiving half.
#[derive(Debug, Default)]
struct Receiver {
    got: HashMap<u64, (Vec<bool>, usize)>,
    done: HashSet<u64>,
    next_control: u64,
    controls: BTreeMap<u64, Vec<u8>>,
}

/// Something due at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// A data packet of side `from` reaches the other side.
    Arrive {
        from: usize,
        pn: u64,
        item: u64,
        index: usize,
    },
    /// The acknowledgement of side `from`'s packet reaches it.
    Ack { from: usize, pn: u64 },
    /// Side `from`'s packet is lost if not acknowledged by now while a later one was.
    LossCheck { from: usize, pn: u64 },
}

/// Two sides (0: the agent, 1: the viewer) joined by two paths.
#[derive(Debug)]
pub(crate) struct Network {
    /// `paths[s]` carries what side `s` sends.
    paths: [Path; 2],
    senders: [Sender; 2],
    /// `receivers[s]` receives what side `s` sends.
    receivers: [Receiver; 2],
    events: BinaryHeap<Reverse<(u64, u64, Event)>>,
    order: u64,
}

impl Network {
    pub(crate) fn new(to_viewer: Path, to_agent: Path) -> Network {
        Network {
            paths: [to_viewer, to_agent],
            senders: [Sender::new(), Sender::new()],
            receivers: [Receiver::default(), Receiver::default()],
            events: BinaryHeap::new(),
            order: 0,
        }
    }

    /// The path side `from` sends on.
    pub(crate) fn path(&mut self, from: usize) -> &mut Path {
        &mut self.paths[from]
    }

    /// Side `from` sends a control message.
    pub(crate) fn send_control(&mut self, now: u64, from: usize, bytes: Vec<u8>) {
        let sender = &mut self.senders[from];
        let place = sender.next_control;
        sender.next_control += 1;
        sender.push(Kind::Control(place), bytes);
        self.pump(now, from);
    }

    /// Side `from` sends a screen update on a stream of its own.
    pub(crate) fn send_update(
        &mut self,
        now: u64,
        from: usize,
        seq: u64,
        bytes: Vec<u8>,
        background: bool,
    ) {
        self.senders[from].push(Kind::Update { seq, background }, bytes);
        self.pump(now, from);
    }

    /// Side `from`'s smoothed round trip.
    pub(crate) fn srtt(&self, from: usize) -> Option<u64> {
        self.senders[from].srtt
    }

    /// When something next happens in the network.
    pub(crate) fn next_at(&self) -> Option<u64> {
        let event = self.events.peek().map(|Reverse((at, _, _))| *at);
        let sends = self.senders.iter().filter_map(Sender::ready_at);
        let probes = self.senders.iter().filter_map(|s| s.probe_at);
        event.into_iter().chain(sends).chain(probes).min()
    }

    /// Runs the network up to `now`; what came out.
    pub(crate) fn advance(&mut self, now: u64) -> Vec<Outcome> {
        let mut out = Vec::new();
        for _ in 0..1_000_000 {
            for from in 0..2 {
                if self.senders[from].probe_at.is_some_and(|at| at <= now) {
                    self.probe(now, from);
                }
                if self.senders[from].ready_at().is_some_and(|at| at <= now) {
                    self.pump(now, from);
                }
            }
            let Some(Reverse((at, _, event))) = self.events.peek().copied() else {
                break;
            };
            if at > now {
                break;
            }
            self.events.pop();
            self.handle(at, event, &mut out);
        }
        out
    }

    fn schedule(&mut self, at: u64, event: Event) {
        self.order += 1;
        self.events.push(Reverse((at, self.order, event)));
    }

    /// Sends what side `from`'s window and pacing let go at `now`.
    fn pump(&mut self, now: u64, from: usize) {
        loop {
            let sender = &mut self.senders[from];
            let Some(at) = sender.ready_at() else { return };
            if at > now {
                return;
            }
            let (_, item, index) = sender.queue.pop_first().expect("ready");
            let size = sender.packet_size(item, index);
            let pn = sender.next_pn;
            sender.next_pn += 1;
            sender.bytes_in_flight += size;
            sender.in_flight.insert(
                pn,
                Sent {
                    item,
                    index,
                    size,
                    at: now,
                },
            );
            if let Some(srtt) = sender.srtt {
                // Paced at 1.25 windows a round trip, as quinn does.
                sender.next_send_at = now + size * srtt * 4 / (sender.cwnd * 5).max(1);
            }
            if sender.probe_at.is_none() {
                sender.probe_at = Some(now + sender.probe_timeout());
            }
            let check = now + sender.loss_delay();
            self.schedule(check, Event::LossCheck { from, pn });
            if let Some(arrival) = self.paths[from].carry(now, size) {
                self.schedule(
                    arrival,
                    Event::Arrive {
                        from,
                        pn,
                        item,
                        index,
                    },
                );
            }
        }
    }

    fn handle(&mut self, now: u64, event: Event, out: &mut Vec<Outcome>) {
        match event {
            Event::Arrive {
                from,
                pn,
                item,
                index,
            } => {
                if let Some(ack) = self.paths[1 - from].carry(now, OVERHEAD) {
                    self.schedule(ack, Event::Ack { from, pn });
                }
                self.arrive(from, item, index, out);
            }
            Event::Ack { from, pn } => {
                self.ack(now, from, pn, out);
                self.pump(now, from);
            }
            Event::LossCheck { from, pn } => {
                if self.senders[from].largest_acked.is_some_and(|l| l > pn) {
                    self.lose(now, from, pn);
                    self.pump(now, from);
                }
            }
        }
    }

    /// Side `from`'s packet `pn` is lost: what it carried goes again.
    fn lose(&mut self, now: u64, from: usize, pn: u64) {
        let sender = &mut self.senders[from];
        let Some(sent) = sender.in_flight.remove(&pn) else {
            return;
        };
        sender.bytes_in_flight -= sent.size;
        if let Some(item) = sender.items.get(&sent.item)
            && !item.acked[sent.index]
        {
            sender
                .queue
                .insert((item.kind.rank(), sent.item, sent.index));
        }
        if sent.at >= sender.last_cut_at {
            sender.cwnd = (sender.cwnd / 2).max(MIN_WINDOW);
            sender.ssthresh = sender.cwnd;
            sender.last_cut_at = now;
        }
    }

    /// Side `from` heard nothing for a probe timeout: its oldest packet goes again.
    fn probe(&mut self, now: u64, from: usize) {
        let sender = &mut self.senders[from];
        let oldest = sender.in_flight.values().next().copied();
        sender.probes += 1;
        sender.probe_at = match oldest {
            Some(sent) => {
                if let Some(item) = sender.items.get(&sent.item)
                    && !item.acked[sent.index]
                {
                    sender
                        .queue
                        .insert((item.kind.rank(), sent.item, sent.index));
                }
                Some(now + sender.probe_timeout())
            }
            None => None,
        };
        // A probe goes whatever the window says.
        sender.next_send_at = now;
        let window = sender.cwnd;
        sender.cwnd = sender.cwnd.max(sender.bytes_in_flight + PACKET + OVERHEAD);
        self.pump(now, from);
        self.senders[from].cwnd = window;
    }

    /// A packet of side `from`'s item arrived at the other side.
    fn arrive(&mut self, from: usize, item: u64, index: usize, out: &mut Vec<Outcome>) {
        let receiver = &mut self.receivers[from];
        if receiver.done.contains(&item) {
            return;
        }
        let Some(sent) = self.senders[from].items.get(&item) else {
            return;
        };
        let (got, missing) = receiver
            .got
            .entry(item)
            .or_insert_with(|| (vec![false; sent.acked.len()], sent.acked.len()));
        if !got[index] {
            got[index] = true;
            *missing -= 1;
        }
        if *missing > 0 {
            return;
        }
        receiver.got.remove(&item);
        receiver.done.insert(item);
        let to = 1 - from;
        match sent.kind {
            Kind::Update { .. } => out.push(Outcome::Update {
                to,
                bytes: sent.data.clone(),
            }),
            Kind::Control(place) => {
                receiver.controls.insert(place, sent.data.clone());
                while let Some(bytes) = receiver.controls.remove(&receiver.next_control) {
                    receiver.next_control += 1;
                    out.push(Outcome::Control { to, bytes });
                }
            }
        }
    }

    /// Side `from` hears that packet `pn` arrived; packets three or more before it are lost.
    fn ack(&mut self, now: u64, from: usize, pn: u64, out: &mut Vec<Outcome>) {
        self.acked(now, from, pn, out);
        let behind: Vec<u64> = (self.senders[from].in_flight.range(..pn.saturating_sub(2)))
            .map(|(p, _)| *p)
            .collect();
        for lost in behind {
            self.lose(now, from, lost);
        }
    }

    fn acked(&mut self, now: u64, from: usize, pn: u64, out: &mut Vec<Outcome>) {
        let sender = &mut self.senders[from];
        let Some(sent) = sender.in_flight.remove(&pn) else {
            return;
        };
        sender.bytes_in_flight -= sent.size;
        sender.probes = 0;
        sender.probe_at = (!sender.in_flight.is_empty()).then(|| now + sender.probe_timeout());
        sender.largest_acked = Some(sender.largest_acked.map_or(pn, |l| l.max(pn)));
        let sample = now - sent.at;
        sender.latest_rtt = sample;
        match sender.srtt {
            None => {
                sender.srtt = Some(sample);
                sender.rttvar = sample / 2;
            }
            Some(srtt) => {
                sender.rttvar = (3 * sender.rttvar + srtt.abs_diff(sample)) / 4;
                sender.srtt = Some((7 * srtt + sample) / 8);
            }
        }
        if sender.cwnd < sender.ssthresh {
            sender.cwnd += sent.size;
        } else {
            sender.cwnd += PACKET * sent.size / sender.cwnd;
        }
        let Some(item) = sender.items.get_mut(&sent.item) else {
            return;
        };
        if item.acked[sent.index] {
            return;
        }
        item.acked[sent.index] = true;
        item.unacked -= 1;
        if item.unacked == 0 {
            let kind = item.kind;
            sender.items.remove(&sent.item);
            // Copies of its packets still queued have nothing left to carry.
            sender.queue.retain(|(_, i, _)| *i != sent.item);
            if let Kind::Update { seq, .. } = kind {
                out.push(Outcome::Delivered {
                    from,
                    seq,
                    rtt_us: sender.srtt.unwrap_or(sample),
                });
            }
        }
    }
}
