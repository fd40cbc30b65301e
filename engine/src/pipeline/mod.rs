//! The encode pipeline: one capture in, one [`Update`] out, and the [`Framebuffer`] that applies
//! it on the other side.
//!
//! ```text
//! FrameSource -> TileDiff -> tight boxes -> moves (copies) -> remainder -> video tracker (stream)
//!      -> classify -> restores -> plan (merge per path) -> encode (rayon) -> Update -> (wire)
//!      -> Framebuffer
//! ```
//!
//! [`ScreenEncoder::encode`] diffs a capture against the previous one ([`crate::diff`]). Where
//! changed pixels are an exact shifted copy of the previous frame, copy regions replace them
//! ([`crate::motion`]), and only what the copies leave is diffed again. What copies cover is
//! saved in the layer beneath the receiver's screen, and restores bring it back where it shows
//! again (`pipeline/beneath.rs`). A rectangle that needs new pixels capture after capture goes to one
//! persistent inter-coded stream ([`video`]). The rest is planned (`pipeline/plan.rs`: classified, merged
//! per path) and encoded in parallel on the current rayon pool. AV1 in an update with copies is
//! coded [`PipelineConfig::moving_quality_drop`] lower. The first update, and the first after a
//! size change, is the whole screen: its AV1 regions [`PipelineConfig::first_quality_drop`]
//! lower, and its large many-coloured text coarse where that saves much
//! (`pipeline/encode.rs`), so that a slow link shows a whole picture soon.
//!
//! **Refinement**: the tile ledger (`pipeline/ledger.rs`) remembers which tiles the receiver shows lossy;
//! once they have been still for [`PipelineConfig::refine_after_us`] (200 ms by default),
//! [`ScreenEncoder::refine`] sends them losslessly, so a still screen always ends exact.
//! [`ScreenEncoder::next_refine_at`] says when to call it.
//!
//! The encoder owns no clock and no thread: times are arguments, and the rayon pool is whichever
//! the caller runs it in.
//!
//! ```
//! use beckon_engine::frame::Frame;
//! use beckon_engine::pipeline::{Framebuffer, PipelineConfig, ScreenEncoder};
//! use beckon_engine::wire::Update;
//!
//! let mut encoder = ScreenEncoder::new(PipelineConfig::default());
//! let mut viewer = Framebuffer::new();
//! let mut screen = Frame::filled(320, 200, [40, 40, 40, 255]);
//! for t in 0..3u32 {
//!     screen.set_pixel(10 + t, 10, [255, 255, 255, 255]); // typing
//!     let update = encoder.encode(&screen.as_ref(), t as u64 * 33_000).unwrap().unwrap();
//!     let bytes = update.encode();
//!     viewer.apply(&Update::decode(&bytes).unwrap()).unwrap();
//! }
//! assert_eq!(viewer.frame().unwrap(), &screen);
//! ```

mod beneath;
mod config;
mod encode;
mod framebuffer;
mod ledger;
mod plan;
mod source;
pub mod video;

pub use crate::diff::merge::MergeConfig;
pub use config::PipelineConfig;
pub use framebuffer::{ApplyError, DECODE_BUDGET, Framebuffer};
pub use source::{CursorImage, FrameSource, LiveClip, Pointer};

use rayon::prelude::*;
use thiserror::Error;

use crate::codec::classify;
use crate::codec::memory::TextMemory;
use crate::codec::{CodecError, EncodedRegion, RegionEncoder, RegionKind};
use crate::diff::{DirtyTile, TileDiff};
use crate::frame::{Frame, FrameRef, Rect};
use crate::motion::{MotionDetector, Move};
use crate::wire::Update;
use beneath::Layer;
use ledger::{Recorded, Stage, TileLedger};
use video::{Tracked, Tracker};

/// Why a capture could not be encoded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// A region failed to encode.
    #[error("encoding region {rect:?}: {source}")]
    Codec {
        /// The region.
        rect: Rect,
        /// The codec's error.
        source: CodecError,
    },
    /// The frame is larger than an update can describe.
    #[error("a {width}x{height} screen is larger than the {max}x{max} an update can describe")]
    TooLarge {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
        /// The limit.
        max: u32,
    },
}

/// The previous screen with this update's copies and restores applied: what is left to send
/// is its difference from the new capture.
#[derive(Debug, Default)]
struct Prediction {
    moves: Vec<Move>,
    /// The predicted screen; `None` while there are neither copies nor restores.
    frame: Option<Frame>,
}

impl Prediction {
    /// The predicted screen, made from `previous` in `spare` (a frame's worth of memory kept
    /// from one capture to the next) when there is none yet.
    fn frame_mut(&mut self, spare: &mut Option<Frame>, previous: &FrameRef<'_>) -> &mut Frame {
        self.frame
            .get_or_insert_with(|| predict_from(spare.take(), previous))
    }
}

/// The sender's half of the pipeline.
#[derive(Debug)]
pub struct ScreenEncoder {
    config: PipelineConfig,
    diff: TileDiff,
    encoder: RegionEncoder,
    /// For updates with copies ([`PipelineConfig::moving_quality_drop`]).
    moving_encoder: RegionEncoder,
    /// For whole screens ([`PipelineConfig::first_quality_drop`]).
    first_encoder: RegionEncoder,
    previous: Option<Frame>,
    ledger: TileLedger,
    seq: u64,
    dirty: Vec<DirtyTile>,
    motion: Option<MotionDetector>,
    /// The prediction's frame between captures, so that it is not allocated every time.
    spare: Option<Frame>,
    tracker: Option<Tracker>,
    /// The text sent with memory ([`crate::codec::memory`]).
    memory: TextMemory,
    /// The receiver's layer beneath the screen ([`beneath`]).
    layer: Layer,
}

impl ScreenEncoder {
    /// An encoder with these settings.
    pub fn new(config: PipelineConfig) -> ScreenEncoder {
        ScreenEncoder {
            config,
            diff: TileDiff::new(config.tile_size),
            encoder: RegionEncoder::new(config.fresh_codec()),
            moving_encoder: RegionEncoder::new(config.moving_codec()),
            first_encoder: RegionEncoder::new(config.first_codec()),
            previous: None,
            ledger: TileLedger::new(config.tile_size),
            seq: 0,
            dirty: Vec::new(),
            motion: config.motion.map(MotionDetector::new),
            spare: None,
            tracker: config.video.map(Tracker::new),
            memory: TextMemory::new(fresh_epoch()),
            layer: Layer::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// Changes the lossy path's quality from the next update on (the sender adapts it to the
    /// link).
    pub fn set_quality(&mut self, quality: u8) {
        self.config.codec.quality = quality.min(100);
        self.encoder = RegionEncoder::new(self.config.fresh_codec());
        self.moving_encoder = RegionEncoder::new(self.config.moving_codec());
        self.first_encoder = RegionEncoder::new(self.config.first_codec());
    }

    /// Forgets what the receiver has: the next update is the whole screen.
    pub fn reset(&mut self) {
        self.previous = None;
        // The receiver may not have what the memory holds: a new one, under a new epoch.
        self.memory = TextMemory::new(fresh_epoch());
    }

    /// Encodes what changed since the previous capture, or the whole screen the first time.
    /// Returns `Ok(None)` when nothing changed. Call once per capture, with the capture time.
    ///
    /// # Errors
    /// [`PipelineError::TooLarge`] for a screen beyond the wire limits,
    /// [`PipelineError::Codec`] when a region fails to encode.
    pub fn encode(
        &mut self,
        frame: &FrameRef<'_>,
        timestamp_us: u64,
    ) -> Result<Option<Update>, PipelineError> {
        self.encode_damaged(frame, timestamp_us, None)
    }

    /// Like [`ScreenEncoder::encode`], told that nothing outside `damage` changed since the last
    /// frame encoded (`None`: anything may have).
    ///
    /// # Errors
    /// As [`ScreenEncoder::encode`].
    pub fn encode_damaged(
        &mut self,
        frame: &FrameRef<'_>,
        timestamp_us: u64,
        damage: Option<&[Rect]>,
    ) -> Result<Option<Update>, PipelineError> {
        check_size(frame)?;
        let (boxes, same_size) = self.changed_boxes(frame, damage);
        let live_before = self.tracker.as_ref().map(Tracker::live).unwrap_or_default();
        if boxes.is_empty() && live_before.is_empty() {
            return Ok(None);
        }
        let mut prediction = self.find_moves(frame, &boxes, &live_before);
        let remainder = self.left_by(&prediction, frame, &boxes);
        let (mut tracked, mut remainder) =
            self.track_video(frame, remainder, &prediction.moves, same_size)?;
        for live in &tracked.live {
            let before = prediction.frame.as_ref().or(self.previous.as_ref());
            remainder = beside_stream(before.map(Frame::as_ref).as_ref(), frame, remainder, *live);
        }
        // A whole screen is judged as moving content: its smooth areas go lossy first too.
        let kinds = match &self.tracker {
            Some(tracker) if same_size => {
                plan::classify_boxes(frame, &remainder, &|b| tracker.is_moving(b))
            }
            _ => plan::classify_boxes(frame, &remainder, &|_| !same_size),
        };
        let (restores, remainder, kinds) =
            self.restore_beneath(frame, &mut prediction, remainder, kinds);
        if boxes.is_empty() && tracked.regions.is_empty() {
            self.spare = prediction.frame.or(self.spare.take());
            return Ok(None);
        }
        let predicted = prediction.frame.as_ref().map(Frame::as_ref);
        let plan = plan::regions(frame, &remainder, &kinds, predicted.as_ref(), &self.config);
        let mut regions: Vec<EncodedRegion> = (prediction.moves.iter())
            .map(|m| EncodedRegion::copy(m.rect, m.from_x, m.from_y))
            .chain(restores.iter().map(|r| EncodedRegion::restore(*r)))
            .chain(std::mem::take(&mut tracked.regions))
            .collect();
        let encoder = if !same_size {
            &self.first_encoder
        } else if prediction.moves.is_empty() {
            &self.encoder
        } else {
            &self.moving_encoder
        };
        let encoded = encode::encode_plan(encoder, &mut self.memory, frame, &plan, !same_size)?;
        regions.extend(encoded.regions);
        let recorded = Recorded {
            changed: &boxes,
            streams: &[tracked.live, tracked.ended].concat(),
            moves: &prediction.moves,
            restores: &restores,
            regions: &regions,
            coarse: &encoded.coarse,
        };
        self.remember(frame, timestamp_us, same_size, &recorded);
        self.spare = prediction.frame.or(self.spare.take());
        Ok(Some(self.next_update(timestamp_us, frame, regions)))
    }

    /// The boxes that changed since the previous capture (within `damage`, when known), and
    /// whether the screen kept its size; after a size change, every tile of the new screen.
    fn changed_boxes(
        &mut self,
        frame: &FrameRef<'_>,
        damage: Option<&[Rect]>,
    ) -> (Vec<Rect>, bool) {
        let Some(previous) = self
            .previous
            .as_ref()
            .filter(|p| p.width() == frame.width() && p.height() == frame.height())
        else {
            if let Some(tracker) = &mut self.tracker {
                tracker.reset(frame.width(), frame.height(), self.config.tile_size);
            }
            return (self.ledger.reset(frame.width(), frame.height()), false);
        };
        let previous = previous.as_ref();
        let diffed = match damage {
            Some(areas) => self
                .diff
                .diff_areas_into(&previous, frame, areas, &mut self.dirty),
            None => self.diff.diff_into(&previous, frame, &mut self.dirty),
        };
        debug_assert!(diffed.is_ok(), "the sizes were checked");
        (self.dirty.iter().map(|d| d.changed).collect(), true)
    }

    /// The moves from the previous frame to `frame` where `boxes` changed, with the predicted
    /// screen when there are any. Never a move that touches a live stream's rectangle: the
    /// stream codes what changes there, against its own pictures; so what changed inside it is
    /// not searched either.
    fn find_moves(&mut self, frame: &FrameRef<'_>, boxes: &[Rect], live: &[Rect]) -> Prediction {
        let (Some(detector), Some(previous)) = (self.motion.as_mut(), self.previous.as_ref())
        else {
            return Prediction::default();
        };
        let previous = previous.as_ref();
        let mut outside = boxes.to_vec();
        for stream in live {
            outside = (outside.iter())
                .flat_map(|b| crate::motion::subtract(*b, *stream))
                .collect();
        }
        let mut moves = detector.detect(&previous, frame, &outside);
        moves.retain(|m| {
            live.iter()
                .all(|s| m.source().intersection(s).is_none() && m.rect.intersection(s).is_none())
        });
        let mut prediction = Prediction::default();
        if !moves.is_empty() {
            let predicted = prediction.frame_mut(&mut self.spare, &previous);
            for m in &moves {
                crate::codec::paste(
                    predicted,
                    m.rect,
                    &crate::codec::crop(&previous, m.source()),
                );
            }
        }
        prediction.moves = moves;
        prediction
    }

    /// What is left to send of `boxes` once `prediction`'s copies are in: the boxes themselves
    /// when there are no copies, else the difference between the prediction and `frame`.
    fn left_by(
        &mut self,
        prediction: &Prediction,
        frame: &FrameRef<'_>,
        boxes: &[Rect],
    ) -> Vec<Rect> {
        let Some(predicted) = prediction.frame.as_ref() else {
            return boxes.to_vec();
        };
        let diffed = self
            .diff
            .diff_into(&predicted.as_ref(), frame, &mut self.dirty);
        debug_assert!(diffed.is_ok(), "the prediction has the frame's size");
        self.dirty.iter().map(|d| d.changed).collect()
    }

    /// Feeds the video tracker with what changed (`remainder`).
    fn track_video(
        &mut self,
        frame: &FrameRef<'_>,
        remainder: Vec<Rect>,
        moves: &[Move],
        same_size: bool,
    ) -> Result<(Tracked, Vec<Rect>), PipelineError> {
        let tracked = match &mut self.tracker {
            Some(tracker) if same_size => {
                let moved: Vec<Rect> = moves.iter().map(|m| m.rect).collect();
                tracker
                    .track(frame, &remainder, &moved, &self.config.codec)
                    .map_err(|source| PipelineError::Codec {
                        rect: frame.bounds(),
                        source,
                    })?
            }
            _ => Tracked::default(),
        };
        Ok((tracked, remainder))
    }

    /// Restores of what `remainder` (of these `kinds`) shows again of the layer beneath, and
    /// what is left to send: the boxes diffed again against the prediction with the restores
    /// in. What restores leave of a strip are slivers too small to be judged alone, so each box
    /// keeps the kind its tile's box had (boxes lie in one tile each).
    fn restore_beneath(
        &mut self,
        frame: &FrameRef<'_>,
        prediction: &mut Prediction,
        remainder: Vec<Rect>,
        kinds: Vec<RegionKind>,
    ) -> (Vec<Rect>, Vec<Rect>, Vec<RegionKind>) {
        let restores = self.layer.restores(frame, &remainder, &self.ledger);
        let (Some(previous), Some(under)) = (self.previous.as_ref(), self.layer.matching(frame))
        else {
            return (restores, remainder, kinds);
        };
        if restores.is_empty() {
            return (restores, remainder, kinds);
        }
        let predicted = prediction.frame_mut(&mut self.spare, &previous.as_ref());
        for rect in &restores {
            crate::codec::paste(predicted, *rect, &crate::codec::crop(&under, *rect));
        }
        let diffed =
            self.diff
                .diff_areas_into(&predicted.as_ref(), frame, &remainder, &mut self.dirty);
        debug_assert!(diffed.is_ok(), "the prediction has the frame's size");
        let tile = self.config.tile_size;
        let tile_of = |b: &Rect| (b.x / tile, b.y / tile);
        let (left, left_kinds) = self
            .dirty
            .iter()
            .filter_map(|d| {
                let (_, kind) = remainder
                    .iter()
                    .zip(&kinds)
                    .find(|(old, _)| tile_of(old) == tile_of(&d.changed))?;
                Some((d.changed, *kind))
            })
            .unzip();
        (restores, left, left_kinds)
    }

    /// Takes the update into the encoder's picture of the receiver: the layer beneath, the tile
    /// ledger and the previous frame.
    fn remember(
        &mut self,
        frame: &FrameRef<'_>,
        timestamp_us: u64,
        same_size: bool,
        update: &Recorded<'_>,
    ) {
        match self.previous.as_ref() {
            Some(previous) if same_size => {
                self.layer
                    .save(update.moves, &previous.as_ref(), &mut self.ledger);
            }
            _ => self.layer.reset(frame.width(), frame.height()),
        }
        self.ledger.record(update, timestamp_us);
        // The previous frame is what the receiver has: only the changed boxes differ.
        match &mut self.previous {
            Some(p) if same_size => {
                for rect in update.changed {
                    crate::codec::paste(p, *rect, &crate::codec::crop(frame, *rect));
                }
            }
            slot => *slot = Some(to_frame(frame)),
        }
    }

    /// The next update in sequence.
    fn next_update(
        &mut self,
        timestamp_us: u64,
        frame: &FrameRef<'_>,
        regions: Vec<EncodedRegion>,
    ) -> Update {
        self.seq += 1;
        Update {
            seq: self.seq,
            refinement: false,
            exact: self.receiver_exact(),
            timestamp_us,
            width: frame.width(),
            height: frame.height(),
            regions,
        }
    }

    /// Whether the receiver, once it has every update so far, shows the last capture exactly:
    /// no tile owes refinement and no stream runs.
    fn receiver_exact(&self) -> bool {
        self.ledger.next_due(0).is_none()
            && self.tracker.as_ref().is_none_or(|t| t.live().is_empty())
    }

    /// When [`ScreenEncoder::refine`] has work, in the same clock as the timestamps; `None` when
    /// the receiver's picture is exact.
    pub fn next_refine_at(&self) -> Option<u64> {
        self.ledger.next_due(self.config.refine_after_us)
    }

    /// Sends exactly every lossy tile that has been still for the refinement delay at `now_us`.
    /// Returns `Ok(None)` when none is due.
    ///
    /// # Errors
    /// [`PipelineError::Codec`] when a region fails to encode.
    pub fn refine(&mut self, now_us: u64) -> Result<Option<Update>, PipelineError> {
        self.refine_within(now_us, u64::MAX)
    }

    /// Like [`ScreenEncoder::refine`], but sends at most `max_area` pixels (at least a row of
    /// a tile), of the tiles still the longest first: on a slow link refinement goes in pieces
    /// the link carries without holding back newer updates.
    ///
    /// # Errors
    /// [`PipelineError::Codec`] when a region fails to encode.
    pub fn refine_within(
        &mut self,
        now_us: u64,
        max_area: u64,
    ) -> Result<Option<Update>, PipelineError> {
        let Some(previous) = self.previous.take() else {
            return Ok(None);
        };
        let result = self.refine_tiles(&previous.as_ref(), now_us, max_area);
        let (width, height) = (previous.width(), previous.height());
        self.previous = Some(previous);
        let Some(regions) = result? else {
            return Ok(None);
        };
        self.seq += 1;
        Ok(Some(Update {
            seq: self.seq,
            refinement: true,
            exact: self.receiver_exact(),
            timestamp_us: now_us,
            width,
            height,
            regions,
        }))
    }

    /// The regions that make the due tiles of `screen` (the last frame sent) exact; `None` when
    /// none is due.
    fn refine_tiles(
        &mut self,
        screen: &FrameRef<'_>,
        now_us: u64,
        max_area: u64,
    ) -> Result<Option<Vec<EncodedRegion>>, PipelineError> {
        let delay = self.config.refine_after_us;
        // When the exact pixels would take many pieces (seconds of a slow link), every tile
        // first goes over 50 dB: near pixels where they pay ([`near_pays`], each tile looked at
        // once), exact ones elsewhere.
        let slow = self.ledger.owed_area(now_us, delay) > max_area.saturating_mul(NEAR_PIECES);
        let mut due = Vec::new();
        let mut near = Vec::new();
        if slow {
            due = self.ledger.due_for(Stage::Near, now_us, delay, max_area);
            let level = self.config.codec.zstd_level;
            let unchecked: Vec<Rect> = (due.iter())
                .filter(|r| !self.ledger.near_checked(r))
                .copied()
                .collect();
            let takes: Vec<bool> = unchecked
                .par_iter()
                .map(|r| near_pays(screen, self.ledger.tile_of(r), level))
                .collect();
            for (r, takes) in unchecked.iter().zip(takes) {
                self.ledger.check_near(r, takes);
            }
            (near, due) = due.into_iter().partition(|r| self.ledger.takes_near(r));
        }
        if !slow || (due.is_empty() && near.is_empty()) {
            due = self.ledger.due(now_us, delay, max_area);
        }
        if due.is_empty() && near.is_empty() {
            return Ok(None);
        }
        // A stream whose tiles are due for refinement has gone still: it ends here, and the
        // exact tiles go over its last picture.
        let mut regions = Vec::new();
        if let Some(tracker) = &mut self.tracker {
            let refined =
                |live: &Rect| (due.iter().chain(&near)).any(|r| r.intersection(live).is_some());
            let ended = tracker
                .end(refined)
                .map_err(|source| PipelineError::Codec {
                    rect: screen.bounds(),
                    source,
                })?;
            regions.extend(ended);
        }
        let neared: Vec<EncodedRegion> = near
            .par_iter()
            .map(|r| EncodedRegion {
                rect: *r,
                kind: RegionKind::Lossless,
                payload: crate::codec::lossless::encode_near(screen, *r),
            })
            .collect();
        regions.extend(neared);
        self.ledger.neared(&near);
        let plan = plan::exact_regions(screen, &due, &self.config);
        // Refinement's many-coloured tiles are photos: their residuals at the photo level.
        let encoded = encode::encode_plan(
            &RegionEncoder::new(self.config.codec),
            &mut self.memory,
            screen,
            &plan,
            false,
        )?;
        regions.extend(encoded.regions);
        self.ledger.refined(&due);
        Ok(Some(regions))
    }
}

/// Pieces of refinement (about one a capture) the exact pixels must need before the near stage
/// goes first: on a fast link it would only send photos twice.
const NEAR_PIECES: u64 = 60;

/// The near stage goes where it costs at most this fraction (numerator, denominator) of the
/// exact pixels: on the committed photo desktops it costs 46 % (gradients, blur) to 79 % (bark)
/// of them.
const NEAR_WORTH: (usize, usize) = (6, 10);

/// Whether `tile` of `screen` takes the near stage: photographic, and near pixels cost at most
/// [`NEAR_WORTH`] of exact ones (else the exact ones go at once: over 50 dB too, and nothing is
/// sent twice).
fn near_pays(screen: &FrameRef<'_>, tile: Rect, level: i32) -> bool {
    if classify::kind_for_moving(&classify::stats(screen, tile), tile) != RegionKind::Av1 {
        return false;
    }
    let near = crate::codec::lossless::encode_near(screen, tile).len();
    let exact = crate::codec::lossless::encode(screen, tile, level).len();
    near * NEAR_WORTH.1 <= exact * NEAR_WORTH.0
}

/// Refuses screens beyond the wire limits.
fn check_size(frame: &FrameRef<'_>) -> Result<(), PipelineError> {
    let (width, height) = (frame.width(), frame.height());
    let max = crate::wire::update::MAX_DIMENSION;
    if width > max || height > max || width == 0 || height == 0 {
        return Err(PipelineError::TooLarge { width, height, max });
    }
    Ok(())
}

/// An epoch for a new text memory: unlike any this receiver has seen from an earlier one.
fn fresh_epoch() -> u64 {
    use rand_core::RngCore;
    rand_core::OsRng.next_u64() >> 16
}

/// `spare` (made or resized as needed) holding `previous`.
/// What of `boxes` the stream at `live` does not carry: a box may hold changes beside the
/// stream too (text in a tile the stream covers part of), and what is left of it is narrowed to
/// the pixels that differ from `before`, so the stream's pixels do not make it a photo.
fn beside_stream(
    before: Option<&FrameRef<'_>>,
    frame: &FrameRef<'_>,
    boxes: Vec<Rect>,
    live: Rect,
) -> Vec<Rect> {
    let mut out = Vec::with_capacity(boxes.len());
    for b in boxes {
        if b.intersection(&live).is_none() {
            out.push(b);
            continue;
        }
        for piece in crate::motion::subtract(b, live) {
            match before {
                Some(before) => out.extend(changed_within(before, frame, piece)),
                None => out.push(piece),
            }
        }
    }
    out
}

/// The bounding box of the pixels of `rect` that differ between `before` and `after`.
fn changed_within(before: &FrameRef<'_>, after: &FrameRef<'_>, rect: Rect) -> Option<Rect> {
    let (x0, x1) = (rect.x as usize * 4, rect.right() as usize * 4);
    let mut found: Option<(u32, u32, u32, u32)> = None;
    for y in rect.y..rect.bottom() {
        let (a, b) = (&before.row(y)[x0..x1], &after.row(y)[x0..x1]);
        let Some(first) = a
            .chunks_exact(4)
            .zip(b.chunks_exact(4))
            .position(|(p, q)| p != q)
        else {
            continue;
        };
        let last = a
            .chunks_exact(4)
            .zip(b.chunks_exact(4))
            .rposition(|(p, q)| p != q);
        let (l, r) = (
            rect.x + first as u32,
            rect.x + last.unwrap_or(first) as u32 + 1,
        );
        found = Some(match found {
            None => (l, y, r, y + 1),
            Some((fl, fy, fr, _)) => (fl.min(l), fy, fr.max(r), y + 1),
        });
    }
    found.map(|(l, t, r, b)| Rect::from_edges(l, t, r, b))
}

fn predict_from(spare: Option<Frame>, previous: &FrameRef<'_>) -> Frame {
    match spare {
        Some(mut p) if p.width() == previous.width() && p.height() == previous.height() => {
            copy_into(&mut p, previous);
            p
        }
        _ => to_frame(previous),
    }
}

fn to_frame(frame: &FrameRef<'_>) -> Frame {
    let mut f = Frame::filled(frame.width(), frame.height(), [0; 4]);
    copy_into(&mut f, frame);
    f
}

fn copy_into(dst: &mut Frame, src: &FrameRef<'_>) {
    let stride = dst.stride();
    let data = dst.data_mut();
    for y in 0..src.height() {
        data[y as usize * stride..(y as usize + 1) * stride].copy_from_slice(src.row(y));
    }
}

#[cfg(test)]
mod tests;
