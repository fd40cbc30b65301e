//! The encode pipeline: one capture in, one [`Update`] out.
//!
//! ```text
//! FrameSource -> TileDiff -> tight boxes -> moves (copies) -> remainder -> video tracker (stream)
//!      -> classify -> restores -> merge per path -> encode (rayon) -> Update -> (any transport)
//!      -> Framebuffer
//! ```
//!
//! **Copies** ([`crate::motion`]): where changed pixels are an exact shifted copy of the previous
//! frame, a copy region replaces them, and only what the copies leave is diffed again and
//! encoded. What copies cover is saved in the layer beneath the viewer's screen, and **restores**
//! bring it back where it shows again ([`update`]'s module doc). AV1 in an update with copies is
//! coded [`PipelineConfig::moving_quality_drop`] lower. **Video** ([`video`]): a rectangle that
//! needs new pixels capture after capture goes to one persistent inter-coded stream instead of a
//! picture per capture.
//!
//! [`ScreenEncoder::encode`] diffs a capture against the previous one, classifies each dirty
//! tile's tight box ([`crate::codec::classify`]), merges the boxes of the exact paths and of the
//! AV1 path separately ([`crate::diff::merge`]), and encodes every region in parallel on the
//! current rayon pool. The first update, and the first after a size change, is the whole screen.
//!
//! **Refinement**: tiles shown lossy (AV1) remember when they last changed; once they have been
//! still for [`PipelineConfig::refine_after_us`] (200 ms by default),
//! [`ScreenEncoder::refine`] sends them losslessly, so a still screen always ends exact.
//! [`ScreenEncoder::next_refine_at`] says when to call it.
//!
//! The encoder owns no clock and no thread: times are arguments, and the rayon pool is whichever
//! the caller runs it in.
//!
//! ```
//! use beckon_engine::frame::Frame;
//! use beckon_engine::pipeline::{Framebuffer, PipelineConfig, ScreenEncoder};
//!
//! let mut encoder = ScreenEncoder::new(PipelineConfig::default());
//! let mut viewer = Framebuffer::new();
//! let mut screen = Frame::filled(320, 200, [40, 40, 40, 255]);
//! for t in 0..3u32 {
//!     screen.set_pixel(10 + t, 10, [255, 255, 255, 255]); // typing
//!     let update = encoder.encode(&screen.as_ref(), t as u64 * 33_000).unwrap().unwrap();
//!     let bytes = update.encode();
//!     viewer.apply(&beckon_engine::pipeline::Update::decode(&bytes).unwrap()).unwrap();
//! }
//! assert_eq!(viewer.frame().unwrap(), &screen);
//! ```

pub mod update;
pub mod video;

pub use update::{ApplyError, Framebuffer, Update, WireError};

use rayon::prelude::*;
use thiserror::Error;

use crate::codec::classify;
use crate::codec::memory::TextMemory;
use crate::codec::{CodecConfig, CodecError, EncodedRegion, RegionEncoder, RegionKind};
use crate::diff::merge::{MergeConfig, merge_rects};
use crate::diff::{DEFAULT_TILE_SIZE, TileDiff};
use crate::frame::{Frame, FrameRef, Rect};
use crate::motion::{MotionConfig, MotionDetector, Move};
use video::{Tracker, VideoConfig};

/// Where frames come from: a screen capture, a recorded clip, an animation drawn in code.
pub trait FrameSource {
    /// What can go wrong while capturing.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Captures the next frame into `frame`, replacing it when the screen size changed. Returns
    /// `Ok(false)` when the source has ended.
    ///
    /// # Errors
    /// When capturing fails.
    fn next_frame(&mut self, frame: &mut Frame) -> Result<bool, Self::Error>;

    /// The areas the last [`FrameSource::next_frame`] may have changed, when the source knows
    /// (a capture that fetches only damaged areas does): the encoder then diffs only those, and
    /// an idle screen costs nothing. `None` (the default): anywhere.
    fn damage(&self) -> Option<&[Rect]> {
        None
    }

    /// The pointer as of the last frame, when the source tracks it apart from the pixels (the
    /// screen capture does: the cursor is sent as shape and position, never painted into
    /// frames). The default: no pointer.
    fn pointer(&mut self) -> Option<Pointer> {
        None
    }
}

/// The sharer's pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pointer {
    /// Column of the hot spot on the screen.
    pub x: u32,
    /// Row of the hot spot on the screen.
    pub y: u32,
    /// Whether the pointer shows.
    pub visible: bool,
    /// Its picture, when it changed since the last call (`None`: unchanged).
    pub shape: Option<CursorImage>,
}

/// A pointer's picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CursorImage {
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Hot spot column.
    pub hot_x: u16,
    /// Hot spot row.
    pub hot_y: u16,
    /// BGRA pixels, straight (not premultiplied) alpha, rows packed.
    pub bgra: Vec<u8>,
}

impl FrameSource for crate::corpus::ClipReader {
    type Error = crate::corpus::CorpusError;

    fn next_frame(&mut self, frame: &mut Frame) -> Result<bool, Self::Error> {
        if frame.width() != self.meta().width || frame.height() != self.meta().height {
            *frame = self.blank_frame();
        }
        self.read_frame(frame)
    }
}

/// Settings of the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipelineConfig {
    /// Tile edge of the diff.
    pub tile_size: u32,
    /// Codec settings.
    pub codec: CodecConfig,
    /// How long a lossy tile must stay unchanged before it is sent exactly.
    pub refine_after_us: u64,
    /// How exact regions are merged. Wide: the gaps between words and lines are one colour
    /// and cost the lossless path next to nothing, while each region costs a header and a
    /// palette.
    pub exact_merge: MergeConfig,
    /// How the boxes inside a merged exact region with more colours than a palette holds are
    /// merged again: tight, since every pixel of a photo costs the lossless path bits.
    pub exact_merge_photo: MergeConfig,
    /// How AV1 regions are merged.
    pub av1_merge: MergeConfig,
    /// AV1 regions are cut into pieces no wider or taller than this, so they encode in parallel.
    pub av1_max_side: u32,
    /// How much lower than [`CodecConfig::quality`] the AV1 regions of an update with copies
    /// are coded: what a scroll brings in and what a dragged window uncovers is seen in motion,
    /// like a video stream's pictures, and refinement makes it exact once still.
    pub moving_quality_drop: u8,
    /// Moves and scrolls become copies ([`crate::motion`]); `None` turns detection off.
    pub motion: Option<MotionConfig>,
    /// Rectangles that keep changing become video streams ([`video`]); `None` turns them off.
    pub video: Option<VideoConfig>,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            tile_size: DEFAULT_TILE_SIZE,
            codec: CodecConfig::default(),
            refine_after_us: 200_000,
            exact_merge: MergeConfig {
                align: 1,
                rect_cost: 64 * 64,
                max_rects: 256,
                bound_total_waste: false,
            },
            exact_merge_photo: MergeConfig {
                align: 1,
                rect_cost: 16 * 16,
                max_rects: 256,
                bound_total_waste: false,
            },
            // Even edges (4:2:0 chroma pairs), not a grid of 8: an AV1 strip along a dragged
            // window snapped to 8 rows took in the window's copied edge and coded it again,
            // lossy (drag clip: 302 to 266 kbit/s steady; the codec pads to its block size).
            // The total waste is bounded: joined a strip at a time, the uncovered strip beside
            // the window's corner crept into a rectangle 50 rows tall, and AV1 coded 602,000
            // of the window's copied pixels again over the clip (161 to 117 kbit/s steady,
            // PSNR-RGB 45.9 to 47.5 dB). 32x32, not 64x64: waste beside copies is copied
            // pixels coded again (drag 110 to 101 kbit/s; document 56.7 to 57.4, video 41.7
            // to 41.9; 16x16 gave the drag 97 and the video 42.4).
            av1_merge: MergeConfig {
                align: 2,
                rect_cost: 32 * 32,
                max_rects: 64,
                bound_total_waste: true,
            },
            av1_max_side: 320,
            // As video streams ([`VideoConfig::quality_drop`]). On the drag clip: 253 to 162
            // kbit/s steady, PSNR-RGB 48.9 to 45.9 dB; 30 would take it under 45 dB.
            moving_quality_drop: 20,
            motion: Some(MotionConfig::default()),
            video: Some(VideoConfig::default()),
        }
    }
}

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

/// What the viewer holds of one tile.
#[derive(Clone, Copy, Debug, Default)]
struct TileState {
    /// Shown lossy: refinement owes it exact pixels.
    lossy: bool,
    /// When it last changed.
    changed_at: u64,
    /// A copy saved pixels into the layer beneath here: restores are looked for.
    saved: bool,
    /// The layer beneath may hold lossy pixels here: a restore from it owes exact pixels.
    under_lossy: bool,
}

/// The sender's half of the pipeline.
#[derive(Debug)]
pub struct ScreenEncoder {
    config: PipelineConfig,
    diff: TileDiff,
    encoder: RegionEncoder,
    /// For updates with copies ([`PipelineConfig::moving_quality_drop`]).
    moving_encoder: RegionEncoder,
    previous: Option<Frame>,
    tiles: Vec<TileState>,
    columns: u32,
    seq: u64,
    dirty: Vec<crate::diff::DirtyTile>,
    motion: Option<MotionDetector>,
    /// The previous frame with this update's copies applied: what is left to send is its
    /// difference from the new frame.
    predicted: Option<Frame>,
    tracker: Option<Tracker>,
    /// The text sent with memory ([`crate::codec::memory`]).
    memory: TextMemory,
    /// The viewer's layer beneath the screen ([`update`]'s module doc), in the true pixels of
    /// what copies covered (`under_lossy` marks where the viewer's are approximations).
    under: Option<Frame>,
}

impl ScreenEncoder {
    /// An encoder with these settings.
    pub fn new(config: PipelineConfig) -> ScreenEncoder {
        ScreenEncoder {
            config,
            diff: TileDiff::new(config.tile_size),
            encoder: RegionEncoder::new(config.codec),
            moving_encoder: RegionEncoder::new(moving(config)),
            previous: None,
            tiles: Vec::new(),
            columns: 0,
            seq: 0,
            dirty: Vec::new(),
            motion: config.motion.map(MotionDetector::new),
            predicted: None,
            tracker: config.video.map(Tracker::new),
            memory: TextMemory::new(fresh_epoch()),
            under: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// Changes the lossy path's quality from the next update on (the transport adapts it to the
    /// link).
    pub fn set_quality(&mut self, quality: u8) {
        self.config.codec.quality = quality.min(100);
        self.encoder = RegionEncoder::new(self.config.codec);
        self.moving_encoder = RegionEncoder::new(moving(self.config));
    }

    /// Forgets what the viewer has: the next update is the whole screen.
    pub fn reset(&mut self) {
        self.previous = None;
        // The viewer may not have what the memory holds: a new one, under a new epoch.
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
        let (width, height) = (frame.width(), frame.height());
        let max = update::MAX_DIMENSION;
        if width > max || height > max || width == 0 || height == 0 {
            return Err(PipelineError::TooLarge { width, height, max });
        }
        let tile = self.config.tile_size;
        let same_size = self
            .previous
            .as_ref()
            .is_some_and(|p| p.width() == width && p.height() == height);
        let boxes: Vec<Rect> = if same_size {
            let previous = self.previous.as_ref().expect("checked").as_ref();
            match damage {
                Some(areas) => self
                    .diff
                    .diff_areas_into(&previous, frame, areas, &mut self.dirty),
                None => self.diff.diff_into(&previous, frame, &mut self.dirty),
            }
            .expect("sizes checked");
            self.dirty.iter().map(|d| d.changed).collect()
        } else {
            self.columns = width.div_ceil(tile);
            self.tiles =
                vec![TileState::default(); (self.columns * height.div_ceil(tile)) as usize];
            if let Some(tracker) = &mut self.tracker {
                tracker.reset(width, height, tile);
            }
            (0..height.div_ceil(tile))
                .flat_map(|r| (0..width.div_ceil(tile)).map(move |c| (c, r)))
                .map(|(c, r)| {
                    Rect::from_edges(
                        c * tile,
                        r * tile,
                        ((c + 1) * tile).min(width),
                        ((r + 1) * tile).min(height),
                    )
                })
                .collect()
        };
        let live_before = self.tracker.as_ref().and_then(Tracker::live);
        if boxes.is_empty() && live_before.is_none() {
            return Ok(None);
        }
        let moves = self.find_moves(frame, &boxes, live_before);
        let mut remainder = if moves.is_empty() {
            boxes.clone()
        } else {
            let predicted = self
                .predicted
                .as_ref()
                .expect("made by find_moves")
                .as_ref();
            self.diff
                .diff_into(&predicted, frame, &mut self.dirty)
                .expect("sizes checked");
            self.dirty.iter().map(|d| d.changed).collect()
        };
        let moved: Vec<Rect> = moves.iter().map(|m| m.rect).collect();
        let tracked = match &mut self.tracker {
            Some(tracker) if same_size => tracker
                .track(frame, &remainder, &moved, &self.config.codec)
                .map_err(|source| PipelineError::Codec {
                    rect: frame.bounds(),
                    source,
                })?,
            _ => video::Tracked::default(),
        };
        if let Some(live) = tracked.live {
            // The stream carries everything inside its rectangle.
            remainder.retain(|b| b.intersection(&live).is_none());
        }
        let kinds = classify_boxes(frame, &remainder);
        let (restores, remainder, kinds) =
            self.restore_beneath(frame, remainder, kinds, moves.is_empty());
        if boxes.is_empty() && tracked.region.is_none() {
            return Ok(None);
        }
        let bounds = frame.bounds();
        let pick = |want_av1: bool| -> Vec<Rect> {
            remainder
                .iter()
                .zip(&kinds)
                .filter(|(_, k)| (**k == RegionKind::Av1) == want_av1)
                .map(|(r, _)| *r)
                .collect()
        };
        let (mut av1_boxes, exact_boxes) = (pick(true), pick(false));
        if !moves.is_empty() || !restores.is_empty() {
            // Against the prediction: what copies and restores left to send.
            let predicted = self
                .predicted
                .as_ref()
                .expect("made with the moves")
                .as_ref();
            av1_boxes = av1_boxes
                .iter()
                .flat_map(|b| bands(&predicted, frame, *b))
                .collect();
        }
        let mut plan: Vec<(Rect, RegionKind)> = Vec::new();
        // Lossy first: exact regions written after them win where they overlap.
        for rect in merge_rects(&av1_boxes, bounds, &self.config.av1_merge) {
            plan.extend(split(rect, self.config.av1_max_side).map(|r| (r, RegionKind::Av1)));
        }
        let exact_start = plan.len();
        plan.extend(
            self.merge_exact(frame, &exact_boxes)
                .into_iter()
                .map(|r| (r, RegionKind::Lossless)),
        );
        choose_exact_kinds(frame, &mut plan[exact_start..]);
        let mut regions: Vec<EncodedRegion> = moves
            .iter()
            .map(|m| EncodedRegion::copy(m.rect, m.from_x, m.from_y))
            .collect();
        regions.extend(restores.iter().map(|r| EncodedRegion::restore(*r)));
        regions.extend(tracked.region);
        let encoder = if moves.is_empty() {
            self.encoder
        } else {
            self.moving_encoder
        };
        regions.extend(Self::encode_all(encoder, &mut self.memory, frame, &plan)?);

        // What the copies cover goes beneath, as lossy as the viewer showed it.
        if same_size {
            self.save_beneath(&moves);
        } else {
            self.under = Some(Frame::filled(width, height, [0, 0, 0, 255]));
        }
        // The viewer's state of every tile, for refinement. A copy carries its source's state:
        // lossy anywhere in the source makes the destination owe exact pixels.
        for b in &boxes {
            self.for_tiles(*b, |t| t.changed_at = timestamp_us);
        }
        // A live stream's tiles, and an ended one's, owe exact pixels.
        for rect in tracked.live.iter().chain(&tracked.ended) {
            self.for_tiles(*rect, |t| {
                t.lossy = true;
                t.changed_at = timestamp_us;
            });
        }
        self.carry_lossy_through(&moves, timestamp_us);
        // A restore is as exact as the layer beneath it.
        for rect in &restores {
            self.for_tiles(*rect, |t| {
                if t.under_lossy {
                    t.lossy = true;
                    t.changed_at = timestamp_us;
                }
            });
            self.for_covered_tiles(*rect, |t| t.lossy &= t.under_lossy);
        }
        for region in &regions {
            if region.kind == RegionKind::Av1 {
                self.for_tiles(region.rect, |t| {
                    t.lossy = true;
                    t.changed_at = timestamp_us;
                });
            }
        }
        for region in regions.iter().filter(|r| r.kind.is_exact()) {
            self.for_covered_tiles(region.rect, |t| t.lossy = false);
        }

        match &mut self.previous {
            Some(p) if same_size => copy_into(p, frame),
            slot => *slot = Some(to_frame(frame)),
        }
        self.seq += 1;
        Ok(Some(Update {
            seq: self.seq,
            timestamp_us,
            width,
            height,
            regions,
        }))
    }

    /// The moves from the previous frame to `frame` where `boxes` changed; when there are any,
    /// `predicted` becomes the previous frame with them applied.
    fn find_moves(
        &mut self,
        frame: &FrameRef<'_>,
        boxes: &[Rect],
        live: Option<Rect>,
    ) -> Vec<Move> {
        let (Some(detector), Some(previous)) = (self.motion.as_mut(), self.previous.as_ref())
        else {
            return Vec::new();
        };
        let previous = previous.as_ref();
        let mut moves = detector.detect(&previous, frame, boxes);
        // The viewer shows a live stream's rectangle some frames behind: never copy from it.
        if let Some(live) = live {
            moves.retain(|m| {
                m.source().intersection(&live).is_none() && m.rect.intersection(&live).is_none()
            });
        }
        if !moves.is_empty() {
            let predicted = predict_from(&mut self.predicted, &previous);
            for m in &moves {
                crate::codec::paste(
                    predicted,
                    m.rect,
                    &crate::codec::crop(&previous, m.source()),
                );
            }
        }
        moves
    }

    /// Restores of what `remainder` (of these `kinds`) shows again of the layer beneath, and
    /// what is left to send: the boxes diffed again against the prediction with the restores
    /// in. What restores leave of a strip are slivers too small to be judged alone, so each box
    /// keeps the kind its tile's box had (boxes lie in one tile each).
    fn restore_beneath(
        &mut self,
        frame: &FrameRef<'_>,
        remainder: Vec<Rect>,
        kinds: Vec<RegionKind>,
        no_moves: bool,
    ) -> (Vec<Rect>, Vec<Rect>, Vec<RegionKind>) {
        let restores = self.find_restores(frame, &remainder);
        if restores.is_empty() {
            return (restores, remainder, kinds);
        }
        self.predict_restores(frame, &restores, no_moves);
        let predicted = self.predicted.as_ref().expect("made above").as_ref();
        self.diff
            .diff_areas_into(&predicted, frame, &remainder, &mut self.dirty)
            .expect("sizes checked");
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

    /// Where `boxes` show again what the layer beneath holds, looked for only in tiles where
    /// copies saved pixels. Only photo-like restores are kept (more colours than
    /// [`RESTORE_MIN_COLOURS`]): text and blank areas cost little to send again (text with
    /// memory), a restore's header as much, and restores would cut them into slivers.
    fn find_restores(&self, frame: &FrameRef<'_>, boxes: &[Rect]) -> Vec<Rect> {
        let Some(under) = self
            .under
            .as_ref()
            .filter(|u| u.width() == frame.width() && u.height() == frame.height())
        else {
            return Vec::new();
        };
        let tile = self.config.tile_size;
        let saved = |b: &Rect| {
            let index = (b.y / tile) * self.columns + b.x / tile;
            self.tiles.get(index as usize).is_some_and(|t| t.saved)
        };
        // Each box lies in one tile (the diff makes a box per tile).
        let areas: Vec<Rect> = boxes.iter().filter(|b| saved(b)).copied().collect();
        if areas.is_empty() {
            return Vec::new();
        }
        let mut restores = crate::motion::restores(&under.as_ref(), frame, &areas);
        restores.retain(|r| {
            classify::count_colours(frame, *r, RESTORE_MIN_COLOURS + 1) > RESTORE_MIN_COLOURS
        });
        restores
    }

    /// Makes `predicted` the previous frame with this update's copies (already there unless
    /// `no_moves`) and `restores` applied.
    fn predict_restores(&mut self, frame: &FrameRef<'_>, restores: &[Rect], no_moves: bool) {
        let (Some(previous), Some(under)) = (self.previous.as_ref(), self.under.as_ref()) else {
            return;
        };
        let predicted = if no_moves {
            predict_from(&mut self.predicted, &previous.as_ref())
        } else {
            self.predicted.as_mut().expect("made by find_moves")
        };
        debug_assert_eq!(predicted.width(), frame.width());
        for rect in restores {
            crate::codec::paste(
                predicted,
                *rect,
                &crate::codec::crop(&under.as_ref(), *rect),
            );
        }
    }

    /// Saves what `moves` cover into the layer beneath, as the viewer does
    /// ([`update::save_beneath`]), from the previous frame; call before the tiles' states take
    /// this update. A tile's saved pixels are as lossy as the viewer's screen was there.
    fn save_beneath(&mut self, moves: &[Move]) {
        let (Some(under), Some(previous)) = (self.under.as_mut(), self.previous.as_ref()) else {
            return;
        };
        let copies: Vec<(Rect, Rect)> = moves.iter().map(|m| (m.rect, m.source())).collect();
        let saved = update::save_beneath(under, &previous.as_ref(), &copies);
        for piece in saved {
            self.for_tiles(piece, |t| {
                t.saved = true;
                t.under_lossy |= t.lossy;
            });
            self.for_covered_tiles(piece, |t| t.under_lossy = t.lossy);
        }
    }

    /// Encodes `plan` in parallel, except small lossless regions: those go through the text
    /// memory one by one, in plan order, as the viewer will decode them.
    fn encode_all(
        encoder: RegionEncoder,
        memory: &mut TextMemory,
        frame: &FrameRef<'_>,
        plan: &[(Rect, RegionKind)],
    ) -> Result<Vec<EncodedRegion>, PipelineError> {
        let with_memory = |rect: &Rect, kind: &RegionKind| {
            *kind == RegionKind::Lossless && rect.area() <= crate::codec::memory::MAX_AREA
        };
        let parallel: Vec<Option<EncodedRegion>> = plan
            .par_iter()
            .map(|(rect, kind)| {
                if with_memory(rect, kind) {
                    return Ok(None);
                }
                encoder
                    .encode(frame, *rect, *kind)
                    .map(Some)
                    .map_err(|source| PipelineError::Codec {
                        rect: *rect,
                        source,
                    })
            })
            .collect::<Result<_, _>>()?;
        let mark = memory.mark();
        let mut out = Vec::with_capacity(plan.len());
        for ((rect, kind), done) in plan.iter().zip(parallel) {
            let region = match done {
                Some(region) => region,
                None => match memory.encode(frame, *rect) {
                    Some(payload) => EncodedRegion {
                        rect: *rect,
                        kind: *kind,
                        payload,
                    },
                    // Photo-like or too many colours: the plain forms.
                    None => match encoder.encode(frame, *rect, *kind) {
                        Ok(region) => region,
                        Err(source) => {
                            // This update is not sent: the memory must not keep its part.
                            memory.rollback(mark);
                            return Err(PipelineError::Codec {
                                rect: *rect,
                                source,
                            });
                        }
                    },
                },
            };
            out.push(region);
        }
        memory.commit();
        Ok(out)
    }

    /// When [`ScreenEncoder::refine`] has work, in the same clock as the timestamps; `None` when
    /// the viewer's picture is exact.
    pub fn next_refine_at(&self) -> Option<u64> {
        self.tiles
            .iter()
            .filter(|t| t.lossy)
            .map(|t| t.changed_at + self.config.refine_after_us)
            .min()
    }

    /// Sends exactly every lossy tile that has been still for the refinement delay at `now_us`.
    /// Returns `Ok(None)` when none is due.
    ///
    /// # Errors
    /// [`PipelineError::Codec`] when a region fails to encode.
    pub fn refine(&mut self, now_us: u64) -> Result<Option<Update>, PipelineError> {
        self.refine_some(now_us, usize::MAX)
    }

    /// Like [`ScreenEncoder::refine`], but sends at most `max_tiles` tiles, those still the
    /// longest first: on a slow link refinement goes in pieces the link can carry without
    /// holding back newer updates.
    ///
    /// # Errors
    /// [`PipelineError::Codec`] when a region fails to encode.
    pub fn refine_some(
        &mut self,
        now_us: u64,
        max_tiles: usize,
    ) -> Result<Option<Update>, PipelineError> {
        let Some(previous) = self.previous.as_ref() else {
            return Ok(None);
        };
        let (width, height, tile) = (previous.width(), previous.height(), self.config.tile_size);
        let delay = self.config.refine_after_us;
        let mut due: Vec<(u64, usize)> = self
            .tiles
            .iter()
            .enumerate()
            .filter(|(_, t)| t.lossy && now_us >= t.changed_at + delay)
            .map(|(i, t)| (t.changed_at, i))
            .collect();
        due.sort_unstable();
        due.truncate(max_tiles.max(1));
        due.sort_unstable_by_key(|(_, i)| *i);
        let due: Vec<Rect> = due
            .into_iter()
            .map(|(_, i)| {
                let (c, r) = (i as u32 % self.columns, i as u32 / self.columns);
                Rect::from_edges(
                    c * tile,
                    r * tile,
                    ((c + 1) * tile).min(width),
                    ((r + 1) * tile).min(height),
                )
            })
            .collect();
        if due.is_empty() {
            return Ok(None);
        }
        // A stream whose tiles are due for refinement has gone still: it ends here, and the
        // exact tiles go over its last picture.
        let mut regions = Vec::new();
        if let Some(tracker) = &mut self.tracker
            && let Some(live) = tracker.live()
            && due.iter().any(|r| r.intersection(&live).is_some())
        {
            let region = tracker
                .end()
                .map_err(|source| PipelineError::Codec { rect: live, source })?;
            regions.extend(region);
        }
        let frame = previous.as_ref();
        let mut plan: Vec<(Rect, RegionKind)> = self
            .merge_exact(&frame, &due)
            .into_iter()
            .map(|r| (r, RegionKind::Lossless))
            .collect();
        choose_exact_kinds(&frame, &mut plan);
        regions.extend(Self::encode_all(
            self.encoder,
            &mut self.memory,
            &frame,
            &plan,
        )?);
        for rect in &due {
            self.for_tiles(*rect, |t| t.lossy = false);
        }
        self.seq += 1;
        Ok(Some(Update {
            seq: self.seq,
            timestamp_us: now_us,
            width,
            height,
            regions,
        }))
    }

    /// Calls `f` on every tile `rect` touches.
    fn for_tiles(&mut self, rect: Rect, mut f: impl FnMut(&mut TileState)) {
        let tile = self.config.tile_size;
        for r in rect.y / tile..rect.bottom().div_ceil(tile) {
            for c in rect.x / tile..rect.right().div_ceil(tile) {
                if let Some(t) = self.tiles.get_mut((r * self.columns + c) as usize) {
                    f(t);
                }
            }
        }
    }

    /// Copies carry their sources' state, tile by tile: a destination tile owes exact pixels
    /// when the part copied into it comes from a lossy tile, and is exact when a copy from
    /// exact tiles covers it whole. The sources are read as they were before the update (a
    /// scroll's sources and destinations overlap).
    fn carry_lossy_through(&mut self, moves: &[Move], timestamp_us: u64) {
        let tile = self.config.tile_size;
        let Some(screen) = self.previous.as_ref().map(|p| p.as_ref().bounds()) else {
            return;
        };
        if moves.is_empty() {
            return;
        }
        let before: Vec<bool> = self.tiles.iter().map(|t| t.lossy).collect();
        let columns = self.columns;
        let lossy_in = |area: Rect| {
            (area.y / tile..area.bottom().div_ceil(tile)).any(|r| {
                (area.x / tile..area.right().div_ceil(tile))
                    .any(|c| before.get((r * columns + c) as usize) == Some(&true))
            })
        };
        let mut marks: Vec<(usize, bool)> = Vec::new();
        for m in moves {
            let (dx, dy) = m.offset();
            for r in m.rect.y / tile..m.rect.bottom().div_ceil(tile) {
                for c in m.rect.x / tile..m.rect.right().div_ceil(tile) {
                    let whole = Rect::new(c * tile, r * tile, tile, tile);
                    let whole = whole.intersection(&screen).unwrap_or(whole);
                    let Some(part) = whole.intersection(&m.rect) else {
                        continue;
                    };
                    let source = Rect::new(
                        (i64::from(part.x) - dx) as u32,
                        (i64::from(part.y) - dy) as u32,
                        part.width,
                        part.height,
                    );
                    let index = (r * columns + c) as usize;
                    if lossy_in(source) {
                        marks.push((index, true));
                    } else if part == whole {
                        marks.push((index, false));
                    }
                }
            }
        }
        // A tile any lossy copy reaches stays owed, whatever else covers it.
        marks.sort_by_key(|&(index, lossy)| (index, lossy));
        for (index, lossy) in marks {
            if let Some(t) = self.tiles.get_mut(index) {
                t.lossy = lossy;
                if lossy {
                    t.changed_at = timestamp_us;
                }
            }
        }
    }

    /// Calls `f` on every tile that lies wholly inside `rect` (clipped to the screen).
    fn for_covered_tiles(&mut self, rect: Rect, mut f: impl FnMut(&mut TileState)) {
        let Some(screen) = self.previous.as_ref().map(|p| p.as_ref().bounds()) else {
            return;
        };
        let tile = self.config.tile_size;
        for r in rect.y / tile..rect.bottom().div_ceil(tile) {
            for c in rect.x / tile..rect.right().div_ceil(tile) {
                let t = Rect::new(c * tile, r * tile, tile, tile);
                let t = t.intersection(&screen).unwrap_or(t);
                if rect.contains_rect(&t)
                    && let Some(state) = self.tiles.get_mut((r * self.columns + c) as usize)
                {
                    f(state);
                }
            }
        }
    }
}

/// Fewest colours a restore must bring back to be sent ([`ScreenEncoder::find_restores`]).
const RESTORE_MIN_COLOURS: usize = 64;

/// An epoch for a new text memory: unlike any this viewer has seen from an earlier one.
fn fresh_epoch() -> u64 {
    use rand_core::RngCore;
    rand_core::OsRng.next_u64() >> 16
}

/// The kind each box goes as, judged by its content ([`classify`]) and by the strip it forms
/// with its neighbours ([`classify_small_boxes_as_strips`]).
fn classify_boxes(frame: &FrameRef<'_>, boxes: &[Rect]) -> Vec<RegionKind> {
    let mut kinds: Vec<RegionKind> = boxes
        .par_iter()
        .map(|b| classify::kind_for(&classify::stats(frame, *b), *b))
        .collect();
    classify_small_boxes_as_strips(frame, boxes, &mut kinds);
    kinds
}

/// Small boxes say little about their content alone: the wallpaper a moved window uncovers
/// comes as a row of tile boxes a few pixels tall, each too small to be taken for a photo, and
/// sent losslessly they cost 7 to 11 bits a pixel. So the small boxes that adjoin are joined
/// into strips, each strip is classified as a whole, and its boxes take its kind. Strips as
/// small as a photo can be ([`classify::MIN_PHOTO_AREA`]) count: a sliver two pixels wide beside
/// a window moving sideways cost over 20 bits a pixel sent losslessly.
fn classify_small_boxes_as_strips(frame: &FrameRef<'_>, boxes: &[Rect], kinds: &mut [RegionKind]) {
    let small: Vec<usize> = (0..boxes.len())
        .filter(|&i| boxes[i].area() < classify::MIN_AV1_AREA && kinds[i] != RegionKind::Solid)
        .collect();
    if small.len() < 2 {
        return;
    }
    let rects: Vec<Rect> = small.iter().map(|&i| boxes[i]).collect();
    let joined = MergeConfig {
        align: 1,
        rect_cost: 64,
        max_rects: rects.len(),
        bound_total_waste: false,
    };
    let strips: Vec<(Rect, RegionKind)> = merge_rects(&rects, frame.bounds(), &joined)
        .into_par_iter()
        .filter(|s| s.area() >= classify::MIN_PHOTO_AREA)
        .map(|s| {
            let stats = classify::stats(frame, s);
            // As sure of a photo as for one small box: text stays exact.
            let photo = stats.colours > classify::PALETTE_MAX
                || (stats.colours > 64 && stats.flat_share < 0.3);
            let kind = match classify::kind_for(&stats, s) {
                RegionKind::Av1 if !photo => RegionKind::Lossless,
                kind => kind,
            };
            (s, kind)
        })
        .collect();
    for i in small {
        if let Some((_, kind)) = strips.iter().find(|(s, _)| s.contains_rect(&boxes[i])) {
            kinds[i] = *kind;
        }
    }
}

impl ScreenEncoder {
    /// The exact path's regions for `boxes`: merged wide ([`PipelineConfig::exact_merge`]),
    /// except that a merged region of photo-like content has its boxes merged again tightly
    /// ([`PipelineConfig::exact_merge_photo`]).
    fn merge_exact(&self, frame: &FrameRef<'_>, boxes: &[Rect]) -> Vec<Rect> {
        let bounds = frame.bounds();
        let wide = merge_rects(boxes, bounds, &self.config.exact_merge);
        let photo: Vec<bool> = wide
            .par_iter()
            .map(|r| {
                classify::count_colours(frame, *r, classify::PALETTE_MAX + 1)
                    > classify::PALETTE_MAX
            })
            .collect();
        let mut out = Vec::with_capacity(wide.len());
        for (rect, photo) in wide.into_iter().zip(photo) {
            if !photo {
                out.push(rect);
                continue;
            }
            let inside: Vec<Rect> = boxes.iter().filter_map(|b| b.intersection(&rect)).collect();
            out.extend(merge_rects(&inside, bounds, &self.config.exact_merge_photo));
        }
        out
    }
}

/// Picks solid or lossless for each exact region from its merged content.
fn choose_exact_kinds(frame: &FrameRef<'_>, plan: &mut [(Rect, RegionKind)]) {
    plan.par_iter_mut().for_each(|(rect, kind)| {
        *kind = if classify::count_colours(frame, *rect, 1) == 1 {
            RegionKind::Solid
        } else {
            RegionKind::Lossless
        };
    });
}

/// Cuts `rect` into pieces no wider or taller than `max_side`, of near-equal size.
fn split(rect: Rect, max_side: u32) -> impl Iterator<Item = Rect> {
    let cols = rect.width.div_ceil(max_side).max(1);
    let rows = rect.height.div_ceil(max_side).max(1);
    let piece = move |start: u32, len: u32, parts: u32, i: u32| {
        let a = start + len * i / parts;
        let b = start + len * (i + 1) / parts;
        (a, b)
    };
    (0..rows).flat_map(move |r| {
        (0..cols).map(move |c| {
            let (x0, x1) = piece(rect.x, rect.width, cols, c);
            let (y0, y1) = piece(rect.y, rect.height, rows, r);
            Rect::from_edges(x0, y0, x1, y1)
        })
    })
}

/// How far a changed row's ends may stray from its band's before a new band starts ([`bands`]).
const BAND_SLACK: u32 = 8;

/// `changed` (a box where `before` and `after` differ) as bands of rows whose changed columns
/// line up, each as tight as its rows. Around a moved window, a tile's box is often an L (a
/// strip above the window's corner, a strip beside it): its bounding box takes in the window's
/// copied pixels, which AV1 would code again, lossy.
fn bands(before: &FrameRef<'_>, after: &FrameRef<'_>, changed: Rect) -> Vec<Rect> {
    let mut out = Vec::new();
    let mut band: Option<(u32, u32, u32)> = None; // top, left, right
    let (x0, x1) = (changed.x as usize * 4, changed.right() as usize * 4);
    for y in changed.y..changed.bottom() {
        let (a, b) = (&before.row(y)[x0..x1], &after.row(y)[x0..x1]);
        let differs = |i: &usize| a[i * 4..i * 4 + 4] != b[i * 4..i * 4 + 4];
        let first = (0..changed.width as usize).find(differs);
        let span = first.map(|l| {
            let r = (l..changed.width as usize)
                .rev()
                .find(differs)
                .expect("l differs");
            (changed.x + l as u32, changed.x + r as u32 + 1)
        });
        band = match (band, span) {
            (Some((top, l, r)), Some((sl, sr)))
                if sl + BAND_SLACK >= l
                    && sl <= l + BAND_SLACK
                    && sr + BAND_SLACK >= r
                    && sr <= r + BAND_SLACK =>
            {
                Some((top, l.min(sl), r.max(sr)))
            }
            (old, span) => {
                if let Some((top, l, r)) = old {
                    out.push(Rect::from_edges(l, top, r, y));
                }
                span.map(|(sl, sr)| (y, sl, sr))
            }
        };
    }
    if let Some((top, l, r)) = band {
        out.push(Rect::from_edges(l, top, r, changed.bottom()));
    }
    out
}

/// The codec settings for updates with copies.
fn moving(config: PipelineConfig) -> CodecConfig {
    let mut codec = config.codec;
    codec.quality = codec.quality.saturating_sub(config.moving_quality_drop);
    codec
}

/// `predicted` (made or resized as needed) holding `previous`.
fn predict_from<'a>(predicted: &'a mut Option<Frame>, previous: &FrameRef<'_>) -> &'a mut Frame {
    let fits = predicted
        .as_ref()
        .is_some_and(|p| p.width() == previous.width() && p.height() == previous.height());
    if !fits {
        return predicted.insert(to_frame(previous));
    }
    let p = predicted.as_mut().expect("checked");
    copy_into(p, previous);
    p
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
