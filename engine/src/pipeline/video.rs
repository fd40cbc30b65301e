//! The region tracker: decides when a rectangle that keeps changing becomes a video stream,
//! follows it, and ends it.
//!
//! Every tile remembers in which of the last [`WINDOW`] captures it needed new pixels (after
//! copies): its *heat*, which decays as captures without change push the old ones out. A tile
//! that changed in at least [`VideoConfig::hot_changes`] of them is hot, so a player that drops
//! and repeats frames (a change every other capture or less) heats its tiles as a smooth one
//! does. When at least [`VideoConfig::min_tiles`] tiles are hot, their bounding box is compact
//! (hot tiles fill half of it) and photographic (the classifier sends it to AV1), and it has held
//! while [`STEADY_CAPTURES`] captures changed it, a stream starts there, on the rectangle the
//! changes themselves covered meanwhile (a player's picture, not the tiles around it). Text that
//! keeps changing (a busy terminal) stays on the exact path. The stream ends when its rectangle
//! has not changed for [`VideoConfig::end_after`] captures, when copies (moves) touch it, or
//! when more tiles are hot beside it (within a tile, outside every stream) than on it (the
//! video moved); its tiles are then left to refinement. No stream starts where content moves:
//! that is the copies' work. Up to [`MAX_LIVE`] streams run at once, side by side (a camera
//! picture and an animated image beside it): while some run, the hot tiles outside them are
//! judged as above for the next.

use crate::codec::classify;
use crate::codec::video::VideoEncoder;
use crate::codec::{CodecConfig, CodecError, EncodedRegion, RegionKind};
use crate::frame::{FrameRef, Rect};

/// Most streams live at once: each is a rav1e context on the sharer's side and a dav1d decoder
/// on the helper's (which takes up to 16).
pub const MAX_LIVE: usize = 4;

/// Captures in a row the candidate rectangle must stay the same before a stream starts.
pub const STEADY_CAPTURES: u8 = 2;

/// How many of the latest captures a tile's heat remembers (one bit each).
pub const WINDOW: u32 = u8::BITS;

/// Settings of the tracker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoConfig {
    /// In how many of the last [`WINDOW`] captures a tile must have changed to count as hot.
    pub hot_changes: u8,
    /// Fewest hot tiles that make a stream.
    pub min_tiles: usize,
    /// Captures without change that end a stream.
    pub end_after: u32,
    /// How much lower than the AV1 quality a stream is coded: moving pictures hide detail that
    /// a still one shows, and refinement restores the last picture exactly anyway.
    pub quality_drop: u8,
}

impl Default for VideoConfig {
    fn default() -> Self {
        VideoConfig {
            hot_changes: 3,
            min_tiles: 4,
            end_after: 15,
            quality_drop: 20,
        }
    }
}

/// What the tracker did with one capture.
#[derive(Debug, Default)]
pub(crate) struct Tracked {
    /// The streams' regions for this capture: of those live that changed, and those that ended.
    pub(crate) regions: Vec<EncodedRegion>,
    /// The live streams' rectangles: changes inside them are the streams'.
    pub(crate) live: Vec<Rect>,
    /// Rectangles whose stream ended now: their tiles owe exact pixels.
    pub(crate) ended: Vec<Rect>,
}

/// The live stream.
#[derive(Debug)]
struct Live {
    encoder: VideoEncoder,
    still: u32,
}

/// Tile heat and the live stream.
#[derive(Debug)]
pub(crate) struct Tracker {
    config: VideoConfig,
    /// Per tile, whether it changed in each of the last [`WINDOW`] captures (bit 0: this one).
    heat: Vec<u8>,
    columns: u32,
    rows: u32,
    tile: u32,
    live: Vec<Live>,
    next_id: u32,
    /// The last candidate rectangle and for how many captures in a row it was the same.
    steady: Option<(Rect, u8)>,
    /// What the changes inside the steady candidate covered meanwhile, and in how many captures.
    extent: Option<(Rect, u8)>,
}

impl Tracker {
    /// A tracker with these settings.
    pub(crate) fn new(config: VideoConfig) -> Tracker {
        Tracker {
            config,
            heat: Vec::new(),
            columns: 0,
            rows: 0,
            tile: 1,
            live: Vec::new(),
            next_id: 1,
            steady: None,
            extent: None,
        }
    }

    /// The live streams' rectangles.
    pub(crate) fn live(&self) -> Vec<Rect> {
        self.live.iter().map(|l| l.encoder.rect()).collect()
    }

    /// Forgets everything (a new screen size): the live streams are dropped unsent.
    pub(crate) fn reset(&mut self, width: u32, height: u32, tile: u32) {
        self.tile = tile;
        self.columns = width.div_ceil(tile);
        self.rows = height.div_ceil(tile);
        self.heat = vec![0; (self.columns * self.rows) as usize];
        self.live.clear();
        self.steady = None;
        self.extent = None;
    }

    /// Ends the live streams that `ends` picks by rectangle now; their last regions.
    ///
    /// # Errors
    /// [`CodecError`] when a stream's encoder fails.
    pub(crate) fn end(
        &mut self,
        ends: impl Fn(&Rect) -> bool,
    ) -> Result<Vec<EncodedRegion>, CodecError> {
        let (ending, live): (Vec<Live>, Vec<Live>) = std::mem::take(&mut self.live)
            .into_iter()
            .partition(|l| ends(&l.encoder.rect()));
        self.live = live;
        ending
            .into_iter()
            .map(|l| Ok(region(l.encoder.rect(), l.encoder.finish()?)))
            .collect()
    }

    /// Takes one capture: `fresh` are the boxes that need new pixels (after copies).
    ///
    /// # Errors
    /// [`CodecError`] when the stream's encoder fails.
    pub(crate) fn track(
        &mut self,
        frame: &FrameRef<'_>,
        fresh: &[Rect],
        moved: &[Rect],
        codec: &CodecConfig,
    ) -> Result<Tracked, CodecError> {
        let touches_moves = |rect: &Rect| moved.iter().any(|m| m.intersection(rect).is_some());
        let mut hot_now = vec![false; self.heat.len()];
        for b in fresh {
            for r in b.y / self.tile..b.bottom().div_ceil(self.tile) {
                for c in b.x / self.tile..b.right().div_ceil(self.tile) {
                    hot_now[(r * self.columns + c) as usize] = true;
                }
            }
        }
        for (h, now) in self.heat.iter_mut().zip(&hot_now) {
            *h = (*h << 1) | u8::from(*now);
        }
        let mut out = Tracked::default();
        let streams = self.live();
        let away = |t: &Rect| streams.iter().all(|s| t.intersection(s).is_none());
        for mut live in std::mem::take(&mut self.live) {
            let rect = live.encoder.rect();
            let changed = fresh.iter().any(|b| b.intersection(&rect).is_some());
            let inside = self.hot_tiles(|t| t.intersection(&rect).is_some());
            // Hot tiles beside the stream, not another stream's: the picture moved over there.
            let around = Rect::new(
                rect.x.saturating_sub(self.tile),
                rect.y.saturating_sub(self.tile),
                rect.width + 2 * self.tile,
                rect.height + 2 * self.tile,
            );
            let beside = self.hot_tiles(|t| t.intersection(&around).is_some() && away(t));
            live.still = if changed { 0 } else { live.still + 1 };
            let moved =
                (beside >= self.config.min_tiles && beside > inside) || touches_moves(&rect);
            if live.still >= self.config.end_after || moved {
                out.regions.push(region(rect, live.encoder.finish()?));
                out.ended.push(rect);
            } else {
                if changed {
                    out.regions.push(region(rect, live.encoder.encode(frame)?));
                }
                out.live.push(rect);
                self.live.push(live);
            }
        }
        // A stream ended: the next capture looks again. All slots taken: nothing more to find.
        if !out.ended.is_empty() || self.live.len() >= MAX_LIVE {
            return Ok(out);
        }
        // Content that moves is the copies' work, not a stream's; and the rectangle must hold
        // still for a few captures (a dragged window's edges do not).
        let candidate = self
            .candidate(frame, &out.live)
            .filter(|r| !touches_moves(r));
        self.steady = match (candidate, self.steady) {
            (Some(r), Some((s, n))) if r == s => Some((r, n.saturating_add(1))),
            (Some(r), _) => {
                self.extent = None;
                Some((r, 1))
            }
            (None, _) => None,
        };
        let Some((bounds, n)) = self.steady else {
            self.extent = None;
            return Ok(out);
        };
        let covered = fresh
            .iter()
            .filter_map(|b| b.intersection(&bounds))
            .reduce(|a, b| a.union(&b));
        if let Some(c) = covered {
            self.extent = Some(match self.extent {
                Some((e, k)) => (e.union(&c), k.saturating_add(1)),
                None => (c, 1),
            });
        }
        // A player that repeats frames may show no change in a capture: the rectangle is what
        // the changes of as many captures as the candidate held for covered.
        let Some((rect, _)) = self
            .extent
            .filter(|(_, k)| n >= STEADY_CAPTURES && *k >= STEADY_CAPTURES)
        else {
            return Ok(out);
        };
        // What changed must itself be a picture: most of the hot tiles, and photographic (not
        // the edge of a scrolling terminal that copies left over).
        let picture = rect.area() * 2 >= bounds.area()
            && out.live.iter().all(|s| s.intersection(&rect).is_none())
            && classify::kind_for_moving(&classify::stats(frame, rect), rect) == RegionKind::Av1;
        if !picture {
            return Ok(out);
        }
        self.steady = None;
        self.extent = None;
        let codec = CodecConfig {
            quality: codec.quality.saturating_sub(self.config.quality_drop),
            ..*codec
        };
        let mut encoder = VideoEncoder::new(self.next_id, rect, &codec)?;
        self.next_id = self.next_id.wrapping_add(1);
        out.regions.push(region(rect, encoder.encode(frame)?));
        out.live.push(rect);
        self.live.push(Live { encoder, still: 0 });
        Ok(out)
    }

    /// Whether `rect` lies in tiles that keep changing (any of them hot).
    pub(crate) fn is_moving(&self, rect: &Rect) -> bool {
        if self.heat.is_empty() || rect.is_empty() {
            return false;
        }
        let (c0, c1) = (rect.x / self.tile, (rect.right() - 1) / self.tile);
        let (r0, r1) = (rect.y / self.tile, (rect.bottom() - 1) / self.tile);
        (r0..=r1.min(self.rows - 1)).any(|r| {
            (c0..=c1.min(self.columns - 1))
                .any(|c| self.hot(self.heat[(r * self.columns + c) as usize]))
        })
    }

    /// Whether a tile with this heat is hot.
    fn hot(&self, heat: u8) -> bool {
        heat.count_ones() >= u32::from(self.config.hot_changes)
    }

    /// How many hot tiles `pick` takes (by the tile's rectangle).
    fn hot_tiles(&self, pick: impl Fn(&Rect) -> bool) -> usize {
        (self.heat.iter().enumerate())
            .filter(|(i, h)| self.hot(**h) && pick(&self.tile_rect(*i)))
            .count()
    }

    /// Tile `i`'s rectangle (it may reach past the screen's edge).
    fn tile_rect(&self, i: usize) -> Rect {
        let (c, r) = (i as u32 % self.columns, i as u32 / self.columns);
        Rect::new(c * self.tile, r * self.tile, self.tile, self.tile)
    }

    /// The bounding box of the hot tiles away from the `live` streams, if it makes a stream.
    fn candidate(&self, frame: &FrameRef<'_>, live: &[Rect]) -> Option<Rect> {
        let mut count = 0usize;
        let mut bounds: Option<Rect> = None;
        for (i, h) in self.heat.iter().enumerate() {
            let tile = self.tile_rect(i);
            if self.hot(*h) && live.iter().all(|s| tile.intersection(s).is_none()) {
                let tile = tile.intersection(&frame.bounds())?;
                bounds = Some(bounds.map_or(tile, |b| b.union(&tile)));
                count += 1;
            }
        }
        let bounds = bounds?;
        let tile_area = u64::from(self.tile * self.tile);
        let compact = count as u64 * tile_area * 2 >= bounds.area();
        let photo =
            classify::kind_for_moving(&classify::stats(frame, bounds), bounds) == RegionKind::Av1;
        (count >= self.config.min_tiles && compact && photo).then_some(bounds)
    }
}

fn region(rect: Rect, payload: Vec<u8>) -> EncodedRegion {
    EncodedRegion {
        rect,
        kind: RegionKind::Video,
        payload,
    }
}
