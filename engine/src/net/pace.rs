//! How much refinement may be on its way at once.
//!
//! Refinement (the lossless top-up of still, lossy tiles) is background traffic: it must fill the
//! link when the screen is quiet and never stand in front of a fresh update. The viewer applies
//! updates in sequence order, so a fresh update waits for every refinement byte sent before it;
//! what bounds its latency is how many refinement bytes are queued on the path. [`RefinePacer`]
//! keeps that small with a delay-based window, in the manner of LEDBAT (RFC 6817): the queueing
//! delay is the connection's smoothed round trip minus the least one seen; while it stays under
//! a target (a tile's time on the link, within [`TARGET_QUEUE_US`]) the window grows (doubling every round trip until the first cut, then by
//! a tile per window delivered), and once it passes twice that the window halves, at most once a
//! round trip. One update carries at most a quarter of the window, so delivered pieces make room
//! while the rest travels. A loss-based
//! congestion controller alone fills the bottleneck's buffer (a second of it on a 256 kbit/s
//! link with a 32 kB queue), which is exactly the latency this avoids.

/// Bytes a lossless photo tile of 64x64 takes, about (measured: 93 kB per 256x256 crop).
pub const TILE_BYTES: u64 = 6_000;
/// The least and most queueing delay refinement may aim for; between them, the target is the
/// time one tile takes on the link (the delay signal cannot be finer than a tile).
pub const TARGET_QUEUE_US: (u64, u64) = (40_000, 150_000);
/// Most tiles one refinement update carries, so one encode never stalls the capture loop long.
const MAX_TILES: u64 = 256;
/// Largest window.
const MAX_WINDOW: u64 = 64 << 20;

/// The refinement window; feed it what is sent and settled, ask it how many tiles may go.
#[derive(Clone, Copy, Debug)]
pub struct RefinePacer {
    window: u64,
    outstanding: u64,
    min_rtt_us: u64,
    last_cut_us: Option<u64>,
}

impl Default for RefinePacer {
    fn default() -> Self {
        RefinePacer {
            window: TILE_BYTES,
            outstanding: 0,
            min_rtt_us: u64::MAX,
            last_cut_us: None,
        }
    }
}

impl RefinePacer {
    /// Tiles of refinement that may be sent now: what fits in the window beyond the bytes still
    /// on their way, and one tile whenever nothing is (so refinement always progresses).
    /// One update carries at most a quarter of the window, so delivered pieces free room while
    /// the rest is on its way (on a slow link the window is a few tiles: one tile per update).
    pub fn tiles(&self) -> usize {
        let room = self.window.saturating_sub(self.outstanding) / TILE_BYTES;
        let piece = (self.window / 4 / TILE_BYTES).clamp(1, MAX_TILES);
        let tiles = if self.outstanding == 0 {
            room.max(1)
        } else {
            room
        };
        tiles.min(piece) as usize
    }

    /// The connection's smoothed round trip is `rtt_us` now (call it often, idle times
    /// included: the least value seen is the path's own delay).
    pub fn observe_rtt(&mut self, rtt_us: u64) {
        self.min_rtt_us = self.min_rtt_us.min(rtt_us);
    }

    /// `bytes` of refinement were handed to the connection.
    pub fn sent(&mut self, bytes: u64) {
        self.outstanding += bytes;
    }

    /// `bytes` of refinement were delivered (or given up on) at `now_us`, when the connection's
    /// smoothed round trip was `rtt_us`.
    pub fn settled(&mut self, now_us: u64, bytes: u64, delivered: bool, rtt_us: u64) {
        self.outstanding = self.outstanding.saturating_sub(bytes);
        self.min_rtt_us = self.min_rtt_us.min(rtt_us);
        let queued = rtt_us.saturating_sub(self.min_rtt_us);
        let target = self.target_us(rtt_us);
        if !delivered || queued > 2 * target {
            let cut_due = self
                .last_cut_us
                .is_none_or(|at| now_us.saturating_sub(at) >= rtt_us);
            if cut_due {
                self.window = (self.window / 2).max(TILE_BYTES);
                self.last_cut_us = Some(now_us);
            }
        } else if queued < target {
            // Slow start until the first cut, then a tile per window delivered.
            let growth = if self.last_cut_us.is_none() {
                bytes
            } else {
                (TILE_BYTES * bytes / self.window.max(1)).max(1)
            };
            self.window = (self.window + growth).min(MAX_WINDOW);
        }
    }

    /// The queueing delay aimed at: a tile's time on the link, whose rate is about a window per
    /// round trip, within [`TARGET_QUEUE_US`].
    fn target_us(&self, rtt_us: u64) -> u64 {
        let tile_us = TILE_BYTES.saturating_mul(rtt_us) / self.window.max(1);
        tile_us.clamp(TARGET_QUEUE_US.0, TARGET_QUEUE_US.1)
    }

    /// The window, in bytes.
    pub fn window(&self) -> u64 {
        self.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends a whole window in pieces and has it delivered with round trip `rtt`.
    fn round(pacer: &mut RefinePacer, now: u64, rtt: u64) {
        let mut pieces = Vec::new();
        while pacer.tiles() > 0 {
            let bytes = pacer.tiles() as u64 * TILE_BYTES;
            pacer.sent(bytes);
            pieces.push(bytes);
        }
        for bytes in pieces {
            pacer.settled(now, bytes, true, rtt);
        }
    }

    #[test]
    fn slow_start_then_halving_once_a_round_trip_then_additive_growth() {
        let mut pacer = RefinePacer::default();
        pacer.observe_rtt(300_000);
        assert_eq!(pacer.tiles(), 1, "one tile goes when nothing is on its way");
        pacer.sent(TILE_BYTES);
        assert_eq!(pacer.tiles(), 0, "the window is full");
        pacer.settled(300_000, TILE_BYTES, true, 310_000);
        assert_eq!(pacer.window(), 2 * TILE_BYTES);
        for i in 0..5 {
            round(&mut pacer, 600_000 + i, 310_000);
        }
        assert_eq!(
            pacer.window(),
            64 * TILE_BYTES,
            "doubles while the queue is short"
        );
        assert_eq!(pacer.tiles(), 16, "a quarter of the window per update");
        // The queue grows past twice the target: one cut per round trip.
        pacer.settled(1_000_000, 0, true, 520_000);
        assert_eq!(pacer.window(), 32 * TILE_BYTES);
        pacer.settled(1_100_000, 0, true, 520_000);
        assert_eq!(
            pacer.window(),
            32 * TILE_BYTES,
            "not twice in one round trip"
        );
        pacer.settled(1_600_000, 0, true, 520_000);
        assert_eq!(pacer.window(), 16 * TILE_BYTES);
        // Between the target and twice it, the window holds.
        pacer.settled(3_000_000, TILE_BYTES, true, 370_000);
        assert_eq!(pacer.window(), 16 * TILE_BYTES);
        // After a cut, a whole window delivered adds one tile.
        round(&mut pacer, 4_000_000, 320_000);
        assert!(
            (16 * TILE_BYTES + TILE_BYTES * 9 / 10..=17 * TILE_BYTES).contains(&pacer.window()),
            "{}",
            pacer.window()
        );
    }

    #[test]
    fn on_a_slow_link_the_target_is_a_tiles_time() {
        // Two tiles a 500 ms round trip: 24 kB/s, where one tile takes 250 ms; the target is
        // the most, 150 ms, so 200 ms of queue holds the window instead of halving it.
        let mut pacer = RefinePacer::default();
        pacer.observe_rtt(300_000);
        pacer.sent(TILE_BYTES);
        pacer.settled(1_000_000, TILE_BYTES, true, 310_000);
        assert_eq!(pacer.window(), 2 * TILE_BYTES);
        pacer.settled(2_000_000, 0, true, 500_000);
        assert_eq!(pacer.window(), 2 * TILE_BYTES);
        pacer.settled(3_000_000, 0, true, 700_000);
        assert_eq!(
            pacer.window(),
            TILE_BYTES,
            "past twice the target it halves"
        );
    }

    #[test]
    fn a_lost_update_cuts_and_the_window_never_goes_below_a_tile() {
        let mut pacer = RefinePacer::default();
        pacer.sent(3 * TILE_BYTES);
        for i in 0..3 {
            pacer.settled(i * 1_000_000, TILE_BYTES, false, 1_000);
        }
        assert_eq!(pacer.window(), TILE_BYTES);
        assert_eq!(pacer.tiles(), 1);
    }

    #[test]
    fn one_update_never_carries_more_than_the_cap() {
        let mut pacer = RefinePacer::default();
        for i in 0..40 {
            let n = pacer.tiles() as u64;
            pacer.sent(n * TILE_BYTES);
            pacer.settled(i, n * TILE_BYTES, true, 100);
        }
        assert_eq!(pacer.tiles(), MAX_TILES as usize);
    }
}
