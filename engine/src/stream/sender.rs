//! [`ScreenSender`]: the sharer's half of the screen stream.
//!
//! It says when to capture ([`ScreenSender::capture_due`]), takes each capture
//! ([`ScreenSender::handle_capture`]) and decides what, if anything, to send for it:
//! - **Latest-wins**: a capture is encoded only while [`Flow`] lets a fresh update go. Otherwise
//!   nothing is encoded; the areas that changed add up ([`Damage`]), and the next encode diffs
//!   the newest frame against the last one sent, so the skipped captures' changes go with their
//!   newest pixels.
//! - **Quality follows the link**: each capture that has to wait lowers the AV1 quality a step;
//!   each capture with no fresh update on its way raises it back towards the configured one.
//! - **Refinement** fills what the path has to spare, in pieces [`Flow`] sizes.
//! - **The pointer** goes as cursor messages ([`CursorFeed`]), never in the pixels.
//!
//! The transport reports back when each update was delivered (or never will be) and the
//! path's round trip; nothing here reads a clock or a socket.

use std::collections::VecDeque;

use crate::frame::{FrameRef, Rect};
use crate::pipeline::{PipelineConfig, PipelineError, Pointer, ScreenEncoder};
use crate::stream::cursor::CursorFeed;
use crate::stream::flow::Flow;
use crate::wire::{Message, Update};

/// Settings of the screen stream's sending side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamConfig {
    /// The encoder's settings.
    pub pipeline: PipelineConfig,
    /// Captures a second while the helper watches.
    pub fps: u32,
    /// Lowest AV1 quality the rate adaptation goes to.
    pub min_quality: u8,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            pipeline: PipelineConfig::default(),
            fps: 30,
            min_quality: 20,
        }
    }
}

/// One capture, as the frame source left it.
#[derive(Clone, Copy, Debug)]
pub struct Capture<'a> {
    /// The screen.
    pub frame: FrameRef<'a>,
    /// The areas that may have changed since the previous capture, when the source knows
    /// (`None`: anywhere; an empty list: nowhere).
    pub damage: Option<&'a [Rect]>,
    /// The pointer, when the source tracks it apart from the pixels.
    pub pointer: Option<&'a Pointer>,
}

/// An update to send on a stream of its own.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingUpdate {
    /// Its sequence number: report it back with [`ScreenSender::handle_delivered`] or
    /// [`ScreenSender::handle_lost`].
    pub seq: u64,
    /// The update in wire format.
    pub bytes: Vec<u8>,
    /// Refinement: it may wait behind fresh updates in the transport's send buffer.
    pub background: bool,
}

impl std::fmt::Debug for OutgoingUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingUpdate")
            .field("seq", &self.seq)
            .field("bytes", &self.bytes.len())
            .field("background", &self.background)
            .finish()
    }
}

/// What the sender asks the transport to do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SenderOutput {
    /// Send this update.
    Update(OutgoingUpdate),
    /// Send this cursor message on the control stream.
    Cursor(Message),
}

/// The areas captures changed since the last encode: captures skipped while the link is busy
/// add theirs up, so the next encode looks at all of them. `None`: anywhere (the start, or
/// more areas than are worth listing).
#[derive(Debug, Default)]
pub(crate) struct Damage(Option<Vec<Rect>>);

impl Damage {
    /// Beyond this many areas one whole diff is cheaper than the bookkeeping.
    const MAX_AREAS: usize = 256;

    fn add(&mut self, areas: Option<&[Rect]>) {
        match (&mut self.0, areas) {
            (Some(list), Some(areas)) if list.len() + areas.len() <= Self::MAX_AREAS => {
                list.extend_from_slice(areas);
            }
            _ => self.0 = None,
        }
    }

    /// Whether anything may have changed.
    fn any(&self) -> bool {
        self.0.as_ref().is_none_or(|list| !list.is_empty())
    }

    /// The areas to diff now; starts again from nothing.
    fn take(&mut self) -> Option<Vec<Rect>> {
        self.0.replace(Vec::new())
    }
}

/// The sharer's half of the screen stream.
#[derive(Debug)]
pub struct ScreenSender {
    encoder: ScreenEncoder,
    config: StreamConfig,
    quality: u8,
    flow: Flow,
    damage: Damage,
    cursor: CursorFeed,
    next_capture_us: Option<u64>,
    /// Refinement's bytes a pixel lately, in thousandths: sizes pieces in pixels.
    refine_millibytes_per_pixel: u64,
    out: VecDeque<SenderOutput>,
}

impl ScreenSender {
    /// A sender that does nothing until [`ScreenSender::start`].
    pub fn new(config: StreamConfig) -> ScreenSender {
        ScreenSender {
            encoder: ScreenEncoder::new(config.pipeline),
            quality: config.pipeline.codec.quality,
            config,
            flow: Flow::default(),
            damage: Damage::default(),
            cursor: CursorFeed::default(),
            next_capture_us: None,
            refine_millibytes_per_pixel: 1_500,
            out: VecDeque::new(),
        }
    }

    /// The helper may see the screen from `now_us`: the first capture is due at once, and the
    /// first update is the whole screen.
    pub fn start(&mut self, now_us: u64) {
        self.encoder.reset();
        self.damage = Damage::default();
        self.cursor.forget_sent();
        self.next_capture_us = Some(now_us);
    }

    /// The helper may no longer see the screen: no more captures, nothing more to send.
    pub fn stop(&mut self) {
        self.next_capture_us = None;
        self.out.clear();
    }

    /// When the next capture is due (`None`: none until [`ScreenSender::start`]).
    pub fn capture_due(&self) -> Option<u64> {
        self.next_capture_us
    }

    /// The AV1 quality the next update is coded at.
    pub fn quality(&self) -> u8 {
        self.quality
    }

    /// The path's delivery rate as measured, bytes a second (for reports; `None` before any
    /// update was delivered).
    pub fn path_rate(&self) -> Option<u64> {
        self.flow.rate()
    }

    /// Bytes of updates sent and not yet delivered (for reports).
    pub fn in_flight(&self) -> u64 {
        self.flow.in_flight()
    }

    /// Takes the capture made at `now_us`, and encodes what the path lets go.
    ///
    /// # Errors
    /// [`PipelineError`] when the screen cannot be encoded.
    pub fn handle_capture(
        &mut self,
        now_us: u64,
        capture: Capture<'_>,
    ) -> Result<(), PipelineError> {
        let Some(due) = self.next_capture_us else {
            return Ok(());
        };
        let interval = 1_000_000 / u64::from(self.config.fps.max(1));
        self.next_capture_us = Some(if due + interval > now_us {
            due + interval
        } else {
            now_us + interval
        });
        self.damage.add(capture.damage);
        if let Some(pointer) = capture.pointer {
            self.cursor.update(pointer.clone());
        }
        self.out
            .extend(self.cursor.due().into_iter().map(SenderOutput::Cursor));
        if !self.flow.fresh_allowed(now_us) {
            if self.damage.any() {
                self.set_quality(self.quality.saturating_sub(5).max(self.config.min_quality));
            }
            return Ok(());
        }
        if self.flow.fresh_in_flight() == 0 && self.quality < self.config.pipeline.codec.quality {
            self.set_quality(self.quality + 1);
        }
        let damage = self.damage.take();
        if let Some(update) =
            self.encoder
                .encode_damaged(&capture.frame, now_us, damage.as_deref())?
        {
            self.send(&update, false);
        } else if let Some(budget) = self.flow.background_budget(now_us) {
            let area = budget * 1_000 / self.refine_millibytes_per_pixel.max(1);
            if let Some(update) = self.encoder.refine_within(now_us, area)? {
                self.learn_refinement_cost(&update);
                self.send(&update, true);
            }
        }
        Ok(())
    }

    /// Update `seq` reached the receiver at `now_us`, when the transport's smoothed round
    /// trip was `rtt_us`.
    pub fn handle_delivered(&mut self, now_us: u64, seq: u64, rtt_us: u64) {
        self.flow.observe_rtt(now_us, rtt_us);
        self.flow.settled(now_us, seq, true);
    }

    /// Update `seq` will never reach the receiver (its stream failed).
    pub fn handle_lost(&mut self, now_us: u64, seq: u64) {
        self.flow.settled(now_us, seq, false);
    }

    /// The transport's smoothed round trip is `rtt_us` at `now_us` (call it at each capture
    /// too: idle times teach the path's least round trip).
    pub fn handle_rtt(&mut self, now_us: u64, rtt_us: u64) {
        self.flow.observe_rtt(now_us, rtt_us);
    }

    /// The next output, or `None` until more input comes.
    pub fn poll_output(&mut self) -> Option<SenderOutput> {
        self.out.pop_front()
    }

    fn set_quality(&mut self, quality: u8) {
        if quality != self.quality {
            self.quality = quality;
            self.encoder.set_quality(quality);
        }
    }

    fn send(&mut self, update: &Update, background: bool) {
        let bytes = update.encode();
        self.flow.sent(
            update.timestamp_us,
            update.seq,
            bytes.len() as u64,
            background,
        );
        self.out.push_back(SenderOutput::Update(OutgoingUpdate {
            seq: update.seq,
            bytes,
            background,
        }));
    }

    /// Refinement's cost a pixel, learnt from each piece: photos cost far more than text.
    fn learn_refinement_cost(&mut self, update: &Update) {
        let pixels: u64 = update
            .regions
            .iter()
            .filter(|r| r.kind.is_exact())
            .map(|r| r.rect.area())
            .sum();
        if pixels == 0 {
            return;
        }
        let seen = (update.payload_bytes() as u64 * 1_000 / pixels).clamp(50, 4_000);
        self.refine_millibytes_per_pixel = (3 * self.refine_millibytes_per_pixel + seen) / 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Frame;
    use crate::stream::{ScreenEvent, ScreenReceiver};

    fn capture(frame: &Frame) -> Capture<'_> {
        Capture {
            frame: frame.as_ref(),
            damage: None,
            pointer: None,
        }
    }

    fn updates(sender: &mut ScreenSender) -> Vec<OutgoingUpdate> {
        std::iter::from_fn(|| sender.poll_output())
            .filter_map(|o| match o {
                SenderOutput::Update(u) => Some(u),
                SenderOutput::Cursor(_) => None,
            })
            .collect()
    }

    #[test]
    fn captures_come_at_the_frame_rate_only_once_started() {
        let mut sender = ScreenSender::new(StreamConfig::default());
        let screen = Frame::filled(32, 32, [1, 2, 3, 255]);
        assert_eq!(sender.capture_due(), None);
        sender.handle_capture(0, capture(&screen)).unwrap();
        assert!(updates(&mut sender).is_empty(), "nothing before the start");
        sender.start(1_000);
        assert_eq!(sender.capture_due(), Some(1_000));
        sender.handle_capture(1_000, capture(&screen)).unwrap();
        assert_eq!(sender.capture_due(), Some(1_000 + 33_333));
        // A late capture does not make the next ones come in a burst.
        sender.handle_capture(500_000, capture(&screen)).unwrap();
        assert_eq!(sender.capture_due(), Some(500_000 + 33_333));
        sender.stop();
        assert_eq!(sender.capture_due(), None);
    }

    /// Latest-wins: while the first screen is on its way, captures are not encoded; the next
    /// update carries all their changes with the newest pixels.
    #[test]
    fn captures_that_wait_fold_into_the_next_update_with_the_newest_pixels() {
        let mut sender = ScreenSender::new(StreamConfig::default());
        let mut receiver = ScreenReceiver::new();
        // Noise: a first screen far larger than the path is known to carry.
        let mut screen = Frame::filled(256, 128, [0; 4]);
        let mut seed = 1u32;
        for y in 0..128 {
            for x in 0..256 {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                screen.set_pixel(
                    x,
                    y,
                    [
                        (seed >> 24) as u8,
                        (seed >> 16) as u8,
                        (seed >> 8) as u8,
                        255,
                    ],
                );
            }
        }
        sender.start(0);
        sender.handle_capture(0, capture(&screen)).unwrap();
        let first = updates(&mut sender);
        assert_eq!(first.len(), 1);
        let quality = sender.quality();
        for i in 1..=5u32 {
            for x in 0..20 {
                screen.set_pixel(x + 20 * i, 5, [255, 255, 255, 255]);
            }
            sender
                .handle_capture(u64::from(i) * 33_333, capture(&screen))
                .unwrap();
            assert!(updates(&mut sender).is_empty(), "capture {i} waits");
        }
        assert!(
            sender.quality() < quality,
            "quality steps down while captures wait"
        );
        sender.handle_delivered(200_000, first[0].seq, 100_000);
        sender.handle_capture(200_000, capture(&screen)).unwrap();
        let next = updates(&mut sender);
        assert_eq!(next.len(), 1);
        assert!(!next[0].background);
        for update in first.into_iter().chain(next) {
            receiver.handle_update(update.bytes).unwrap();
        }
        while let Some(event) = receiver.poll_event() {
            assert!(matches!(event, ScreenEvent::Changed(_)));
        }
        let shown = receiver.screen().unwrap();
        for x in 20..120 {
            assert_eq!(
                shown.as_ref().pixel(x, 5),
                [255, 255, 255, 255],
                "column {x}"
            );
        }
    }

    #[test]
    fn a_still_screen_is_refined_in_the_background_until_exact() {
        let mut sender = ScreenSender::new(StreamConfig::default());
        let mut receiver = ScreenReceiver::new();
        let screen = crate::codec::tests::photo(128, 128);
        sender.start(0);
        let mut now = 0;
        for _ in 0..100 {
            sender.handle_capture(now, capture(&screen)).unwrap();
            for update in updates(&mut sender) {
                sender.handle_delivered(now + 1_000, update.seq, 1_000);
                receiver.handle_update(update.bytes).unwrap();
            }
            now += 33_333;
        }
        let refined = std::iter::from_fn(|| receiver.poll_event())
            .filter(|e| matches!(e, ScreenEvent::Changed(c) if c.refinement))
            .count();
        assert!(refined > 0);
        assert_eq!(receiver.screen(), Some(&screen));
    }
}
