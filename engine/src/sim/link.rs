//! One direction of a simulated path: a bottleneck of a given rate with a drop-tail queue,
//! then a delay with jitter, random loss, and outages. Seeded, so runs repeat.

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

/// What one direction of a path does to packets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LinkSpec {
    /// Bottleneck rate, bits per second.
    pub(crate) rate_bps: u64,
    /// One-way delay.
    pub(crate) delay_us: u64,
    /// Extra delay, uniform in 0..=jitter.
    pub(crate) jitter_us: u64,
    /// Share of packets lost, 0 to 1.
    pub(crate) loss: f64,
    /// Bytes the bottleneck queue holds before it drops.
    pub(crate) queue_bytes: u64,
}

impl LinkSpec {
    /// A fast local link.
    pub(crate) fn loopback() -> LinkSpec {
        LinkSpec {
            rate_bps: 1_000_000_000,
            delay_us: 100,
            jitter_us: 0,
            loss: 0.0,
            queue_bytes: 4 << 20,
        }
    }

    /// Link a of the latency bench: 1 Mbit/s, 50 ms, 1 % loss.
    pub(crate) fn a() -> LinkSpec {
        LinkSpec {
            rate_bps: 1_000_000,
            delay_us: 50_000,
            jitter_us: 5_000,
            loss: 0.01,
            queue_bytes: 64_000,
        }
    }

    /// Link b of the latency bench: 256 kbit/s, 150 ms.
    pub(crate) fn b() -> LinkSpec {
        LinkSpec {
            rate_bps: 256_000,
            delay_us: 150_000,
            jitter_us: 5_000,
            loss: 0.0,
            queue_bytes: 32_000,
        }
    }
}

/// One direction's state.
#[derive(Debug)]
pub(crate) struct Path {
    spec: LinkSpec,
    /// When the bottleneck has sent everything queued so far.
    free_at: u64,
    rng: ChaCha20Rng,
    /// Packets sent in this span of time are dropped.
    outage: Option<(u64, u64)>,
}

impl Path {
    pub(crate) fn new(spec: LinkSpec, seed: u64) -> Path {
        Path {
            spec,
            free_at: 0,
            rng: ChaCha20Rng::seed_from_u64(seed),
            outage: None,
        }
    }

    /// Drops every packet sent from `from_us` to `to_us`.
    pub(crate) fn cut(&mut self, from_us: u64, to_us: u64) {
        self.outage = Some((from_us, to_us));
    }

    /// When a packet of `size` bytes sent at `now` arrives; `None` when it is lost (at random,
    /// to a full queue, or to an outage).
    pub(crate) fn carry(&mut self, now: u64, size: u64) -> Option<u64> {
        if self
            .outage
            .is_some_and(|(from, to)| (from..to).contains(&now))
        {
            return None;
        }
        if self.spec.loss > 0.0 && (self.rng.next_u32() as f64 / u32::MAX as f64) < self.spec.loss {
            return None;
        }
        let start = self.free_at.max(now);
        let queued = (start - now) * self.spec.rate_bps / 8 / 1_000_000;
        if queued > self.spec.queue_bytes {
            return None;
        }
        self.free_at = start + size * 8 * 1_000_000 / self.spec.rate_bps;
        let jitter = match self.spec.jitter_us {
            0 => 0,
            j => self.rng.next_u64() % (j + 1),
        };
        Some(self.free_at + self.spec.delay_us + jitter)
    }
}
