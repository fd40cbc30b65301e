//! The screen stream over simulated links ([`crate::sim`]): a typist at a terminal over a photo
//! wallpaper, as the committed terminal clip shows, on the latency bench's links. Each test runs
//! seconds of simulated time in well under a second of wall time.

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use crate::frame::{Frame, Rect};
use crate::session::{AgentConfig, SharerDecision};
use crate::sim::link::LinkSpec;
use crate::sim::pair::{PASSWORD, Pair, Screen, percentile, ticket};

/// A terminal window over a photo wallpaper; a character is typed every `every_us`, and every
/// 24th keystroke is Return with a few lines of output.
struct Typing {
    wallpaper: Frame,
    window: Rect,
    every_us: u64,
    /// Typing starts and stops at these times.
    from_us: u64,
    until_us: u64,
    rng: ChaCha20Rng,
    typed: u64,
    /// The cursor: column and row in characters.
    at: (u32, u32),
}

const GLYPH: (u32, u32) = (7, 14);

/// A photo-like wallpaper: smooth gradients with a camera's noise, about as costly to send
/// exactly as a real photo (a byte and a half a pixel).
fn photo(width: u32, height: u32) -> Frame {
    let mut f = Frame::filled(width, height, [0; 4]);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    for y in 0..height {
        for x in 0..width {
            let n = (rng.next_u32() >> 27) as u8;
            let (b, g) = ((x * 200 / width) as u8, (y * 200 / height) as u8);
            f.set_pixel(x, y, [b + n, g + n / 2, b / 2 + g / 2 + n, 255]);
        }
    }
    f
}

impl Typing {
    fn new(width: u32, height: u32, every_us: u64, from_us: u64, until_us: u64) -> Typing {
        let mut wallpaper = photo(width, height);
        let window = Rect::new(width / 8, height / 8, width * 5 / 8, height * 5 / 8);
        for y in window.y..window.bottom() {
            for x in window.x..window.right() {
                wallpaper.set_pixel(x, y, [30, 30, 30, 255]);
            }
        }
        Typing {
            wallpaper,
            window,
            every_us,
            from_us,
            until_us,
            rng: ChaCha20Rng::seed_from_u64(11),
            typed: 0,
            at: (0, 0),
        }
    }

    fn columns(&self) -> u32 {
        self.window.width / GLYPH.0 - 1
    }

    fn rows(&self) -> u32 {
        self.window.height / GLYPH.1 - 1
    }

    /// Draws a random glyph at character cell `(column, row)` of the window.
    fn glyph(&mut self, column: u32, row: u32) {
        let (x0, y0) = (
            self.window.x + 2 + column * GLYPH.0,
            self.window.y + 2 + row * GLYPH.1,
        );
        let bits = self.rng.next_u64();
        for dy in 2..GLYPH.1 - 2 {
            for dx in 1..GLYPH.0 - 1 {
                let on = bits >> ((dy * 5 + dx) % 64) & 1 == 1;
                let colour = if on {
                    [220, 220, 220, 255]
                } else {
                    [30, 30, 30, 255]
                };
                self.wallpaper.set_pixel(x0 + dx, y0 + dy, colour);
            }
        }
    }

    /// A new line: at the bottom, the window's text scrolls up a row.
    fn newline(&mut self) {
        self.at.0 = 0;
        if self.at.1 + 1 < self.rows() {
            self.at.1 += 1;
            return;
        }
        let w = self.window;
        for y in w.y + 2..w.y + 2 + (self.rows() - 1) * GLYPH.1 {
            for x in w.x..w.right() {
                let p = self.wallpaper.as_ref().pixel(x, y + GLYPH.1);
                self.wallpaper.set_pixel(x, y, p);
            }
        }
        for y in w.y + 2 + (self.rows() - 1) * GLYPH.1..w.y + 2 + self.rows() * GLYPH.1 {
            for x in w.x..w.right() {
                self.wallpaper.set_pixel(x, y, [30, 30, 30, 255]);
            }
        }
    }

    fn key(&mut self) {
        self.typed += 1;
        if self.typed.is_multiple_of(24) {
            for _ in 0..3 {
                self.newline();
                for c in 0..self.columns() / 2 {
                    self.glyph(c, self.at.1);
                }
            }
            self.newline();
        } else {
            if self.at.0 >= self.columns() {
                self.newline();
            }
            self.glyph(self.at.0, self.at.1);
            self.at.0 += 1;
        }
    }
}

impl Screen for Typing {
    fn draw(&mut self, now_us: u64, frame: &mut Frame) {
        let now_us = now_us.min(self.until_us);
        while self.from_us + (self.typed + 1) * self.every_us <= now_us {
            self.key();
        }
        if frame != &self.wallpaper {
            frame.clone_from(&self.wallpaper);
        }
    }
}

/// A session typed into for `seconds` over `link` (each way), the sharer's Yes at once; then
/// `settle_s` more seconds for refinement.
fn typing_over(link: LinkSpec, seconds: u64, settle_s: u64) -> (Pair, u64) {
    typing_over_seeded(link, 7, seconds, settle_s)
}

/// [`typing_over`] with the link's random draws from `seed`.
fn typing_over_seeded(link: LinkSpec, seed: u64, seconds: u64, settle_s: u64) -> (Pair, u64) {
    let (yes, end) = (3_000_000, 3_000_000 + seconds * 1_000_000);
    let screen = Box::new(Typing::new(640, 360, 150_000, yes, end));
    let mut p = Pair::on_seeded(
        link,
        seed,
        PASSWORD,
        ticket(),
        AgentConfig::default(),
        screen,
    );
    p.run(yes);
    p.sharer(SharerDecision::AllowConnection(true));
    let yes = p.now;
    p.run(seconds * 1_000_000);
    let end = p.now;
    p.run(settle_s * 1_000_000);
    assert!(p.viewer.is_viewing(), "{:?}", p.viewer.state());
    (p, yes + (end - yes) / 10)
}

/// The fresh updates' latencies after the first screen settled, and the typing's p50 and p95.
fn report(p: &Pair, from: u64) -> (u64, u64, u64) {
    let fresh = p.log.fresh_latencies(from);
    assert!(fresh.len() > 20, "{} fresh updates", fresh.len());
    (
        fresh.len() as u64,
        percentile(&fresh, 0.5),
        percentile(&fresh, 0.95),
    )
}

#[test]
fn typing_over_a_256_kbit_link_waits_little_more_than_the_delay_and_ends_exact() {
    let link = LinkSpec::b();
    let (p, from) = typing_over(link, 10, 40);
    let (n, p50, p95) = report(&p, from);
    let delay = link.delay_us;
    assert!(
        p50 <= delay + 40_000 && p95 <= delay + 120_000,
        "{n} updates: p50 {} ms, p95 {} ms over a {} ms delay",
        p50 / 1000,
        p95 / 1000,
        delay / 1000
    );
    assert_eq!(p.viewer.screen(), Some(&p.frame), "the picture ends exact");
}

#[test]
fn typing_over_a_lossy_megabit_link_waits_little_more_than_the_delay_and_ends_exact() {
    // With 1 % loss, a run's p95 is decided by the two or three updates a loss hits: three
    // runs with their own losses, pooled, say more than one.
    let link = LinkSpec::a();
    let mut fresh = Vec::new();
    for seed in [7, 17, 27] {
        let (p, from) = typing_over_seeded(link, seed, 10, 15);
        fresh.extend(p.log.fresh_latencies(from));
        assert_eq!(p.viewer.screen(), Some(&p.frame), "the picture ends exact");
    }
    let (p50, p95) = (percentile(&fresh, 0.5), percentile(&fresh, 0.95));
    let delay = link.delay_us;
    assert!(
        fresh.len() > 60 && p50 <= delay + 40_000 && p95 <= delay + 120_000,
        "{} updates: p50 {} ms, p95 {} ms over a {} ms delay",
        fresh.len(),
        p50 / 1000,
        p95 / 1000,
        delay / 1000
    );
}

/// A block of black-and-white noise (text-like: it goes lossless) that changes every capture
/// from `from_us` to `until_us`, on a still wallpaper: more than a slow link carries.
struct Flicker {
    wallpaper: Frame,
    block: Rect,
    from_us: u64,
    until_us: u64,
    rng: ChaCha20Rng,
}

impl Screen for Flicker {
    fn draw(&mut self, now_us: u64, frame: &mut Frame) {
        if (self.from_us..self.until_us).contains(&now_us) {
            for y in self.block.y..self.block.bottom() {
                for x in self.block.x..self.block.right() {
                    let v = if self.rng.next_u32() & 1 == 1 { 255 } else { 0 };
                    self.wallpaper.set_pixel(x, y, [v, v, v, 255]);
                }
            }
        }
        if frame != &self.wallpaper {
            frame.clone_from(&self.wallpaper);
        }
    }
}

/// Latest-wins: content that changes faster than a 256 kbit/s link carries is not queued
/// update after update; captures fold into fewer updates, each shown soon after it left, and
/// the picture ends exact once the content stops.
#[test]
fn a_flickering_screen_over_a_slow_link_folds_captures_instead_of_queueing_them() {
    let link = LinkSpec::b();
    let (yes, until) = (2_000_000, 7_000_000);
    let screen = Flicker {
        wallpaper: photo(320, 240),
        block: Rect::new(40, 40, 128, 128),
        from_us: yes + 2_000_000,
        until_us: until,
        rng: ChaCha20Rng::seed_from_u64(5),
    };
    let mut p = Pair::on(
        link,
        PASSWORD,
        ticket(),
        AgentConfig::default(),
        Box::new(screen),
    );
    p.run(yes);
    p.sharer(SharerDecision::AllowConnection(true));
    p.run(until - yes);
    let captures = p.log.captures;
    let during: Vec<_> = (p.log.sent.iter())
        .filter(|s| !s.background && (yes + 2_000_000..until).contains(&s.at))
        .collect();
    let bytes: usize = during.iter().map(|s| s.bytes).sum();
    let seconds = (until - yes - 2_000_000) as f64 / 1e6;
    assert!(
        (during.len() as f64) < 0.6 * 30.0 * seconds,
        "{} updates for {captures} captures: captures were not folded",
        during.len()
    );
    assert!(
        bytes as f64 * 8.0 / seconds < 300_000.0,
        "{} kbit/s sent into a 256 kbit/s link",
        bytes as f64 * 8.0 / seconds / 1000.0
    );
    // Each update takes about 100 ms of the link: shown within the delay, its own time, and
    // what one before it may still take; queued updates would wait seconds.
    let fresh = p.log.fresh_latencies(yes + 2_500_000);
    let p95 = percentile(&fresh, 0.95);
    assert!(
        p95 <= link.delay_us + 400_000,
        "{} fresh updates, p95 {} ms: a queue built up",
        fresh.len(),
        p95 / 1000
    );
    p.run(30_000_000);
    assert_eq!(p.viewer.screen(), Some(&p.frame), "exact once still");
}

/// The link goes dark both ways for three seconds while the helper watches the sharer type: the
/// session stays up; once the transport's probes (backing off, as QUIC's do) find the link back,
/// what waited is shown and the typing again with little more than the link's delay; the
/// picture ends exact.
#[test]
fn a_three_second_outage_is_ridden_out() {
    let link = LinkSpec::a();
    let (yes, end) = (2_000_000, 18_000_000);
    // Typing from four seconds after the outage on, in three runs with their own losses.
    let mut fresh = Vec::new();
    for seed in [7, 17, 27] {
        let screen = Box::new(Typing::new(640, 360, 150_000, yes, end));
        let mut p = Pair::on_seeded(
            link,
            seed,
            PASSWORD,
            ticket(),
            AgentConfig::default(),
            screen,
        );
        p.run(yes);
        p.sharer(SharerDecision::AllowConnection(true));
        p.run(4_000_000);
        let (from, to) = (p.now, p.now + 3_000_000);
        p.net.path(0).cut(from, to);
        p.net.path(1).cut(from, to);
        p.run(end - p.now);
        assert!(p.viewer.is_viewing(), "{:?}", p.viewer.state());
        let sent = p.log.sent.iter().filter(|s| !s.background).count();
        let shown = p
            .log
            .shown
            .iter()
            .filter(|s| !p.log.background(s.seq))
            .count();
        assert!(
            sent - shown <= 2,
            "{sent} fresh updates sent, {shown} shown"
        );
        fresh.extend(p.log.fresh_latencies(to + 4_000_000));
        p.run(20_000_000);
        assert_eq!(p.viewer.screen(), Some(&p.frame), "exact after the outage");
    }
    let (p50, p95) = (percentile(&fresh, 0.5), percentile(&fresh, 0.95));
    assert!(
        fresh.len() > 60 && p50 <= link.delay_us + 40_000 && p95 <= link.delay_us + 120_000,
        "{} updates: p50 {} ms, p95 {} ms",
        fresh.len(),
        p50 / 1000,
        p95 / 1000
    );
}

/// Refinement is background traffic: typing meets no queue of its own making, from the first
/// seconds (refinement at its busiest) to the last.
#[test]
fn no_standing_queue_builds_behind_refinement() {
    let link = LinkSpec::b();
    let (p, from) = typing_over(link, 10, 1);
    let fresh: Vec<_> = (p.log.shown.iter())
        .filter(|s| s.at >= from && !p.log.background(s.seq))
        .map(|s| s.at - s.captured)
        .collect();
    let tenth = fresh.len() / 5;
    let mut first = fresh[..tenth].to_vec();
    let mut last = fresh[fresh.len() - tenth..].to_vec();
    first.sort_unstable();
    last.sort_unstable();
    let (first, last) = (percentile(&first, 0.95), percentile(&last, 0.95));
    assert!(
        last <= first * 3 / 2 + 2 * link.delay_us,
        "p95 {} ms at first, {} ms at the end",
        first / 1000,
        last / 1000
    );
    assert!(
        first <= link.delay_us + 120_000,
        "p95 {} ms at first",
        first / 1000
    );
}
