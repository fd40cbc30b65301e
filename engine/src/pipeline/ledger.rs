//! The tile ledger: what the receiver holds of each tile of the screen, so that refinement
//! knows what to make exact and when, and restores know where to look.
//!
//! A tile shown lossy (AV1, a video stream, a copy of lossy pixels, a restore of a lossy layer)
//! owes exact pixels; once it has been still for the refinement delay it is due, and
//! [`TileLedger::due`] hands out the due tiles, those still the longest first, within an area:
//! on a slow link a tile may go a few rows at a time, from the top, so that no piece of
//! refinement stands long in front of a fresh update.
//!
//! Coarse text (a first screen's, see `pipeline/encode.rs`) owes exact pixels too, and goes
//! before the photos owed since the same time, its pixels counted a sixteenth of a photo's
//! against a piece's area: scattered among photos, its cheap tiles made the pieces' sizes, learnt
//! from their cost a pixel, swing from far too small to far too large.
//!
//! When the exact pixels would take many pieces of a slow link, refinement goes in two stages
//! ([`Stage`]): first every tile is brought over 50 dB, soft photographic ones with near-exact
//! pixels (within a level, for about half the exact bytes), the others (text, dense texture)
//! with exact ones; then the near tiles go on to exact.

use crate::codec::{EncodedRegion, RegionKind};
use crate::frame::Rect;
use crate::motion::Move;

/// Fewest rows of a tile a piece of refinement takes: fewer compress far worse (a photo's
/// rows four at a time cost twice the bytes a pixel of eight at a time).
const MIN_ROWS: u32 = 16;

/// How many times cheaper a pixel of coarse text is to refine than a pixel of a photo, for the
/// area a piece may take: exact text costs a twentieth to a tenth of a byte a pixel, a photo's
/// exact pixels one to two bytes.
const COARSE_CHEAPER: u64 = 16;

/// What the receiver holds of one tile.
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
    /// Rows from the top already sent exactly while the tile is lossy (partial refinement).
    exact_rows: u32,
    /// Rows from the top already sent near-exactly ([`Stage::Near`]).
    near_rows: u32,
    /// Whether the tile's content takes the near stage, once looked at.
    near: Option<bool>,
    /// Shown coarse text ([`Recorded::coarse`]): refined before photos, as one run of cheap
    /// pieces rather than scattered among dear ones.
    coarse: bool,
}

/// A stage of refinement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Near-exact pixels for photographic tiles.
    Near,
    /// Exact pixels.
    Exact,
}

impl TileState {
    /// Shown lossy from `at_us`: refinement owes every row.
    fn owe(&mut self, at_us: u64) {
        self.lossy = true;
        self.exact_rows = 0;
        self.near_rows = 0;
        self.near = None;
        self.coarse = false;
        self.changed_at = at_us;
    }

    /// Shown exactly.
    fn exact(&mut self) {
        self.lossy = false;
        self.coarse = false;
        self.exact_rows = 0;
        self.near_rows = 0;
    }

    /// Rows from the top that `stage` need not send again (a tile that does not take the near
    /// stage takes exact pixels in it).
    fn done_rows(&self, stage: Stage) -> u32 {
        match stage {
            Stage::Near if self.near != Some(false) => self.exact_rows.max(self.near_rows),
            _ => self.exact_rows,
        }
    }
}

/// What one update did to the receiver's screen, for [`TileLedger::record`].
#[derive(Debug)]
pub(crate) struct Recorded<'a> {
    /// The boxes that changed since the last update.
    pub(crate) changed: &'a [Rect],
    /// The live video streams' rectangles, and those whose stream ended now: all owe exact
    /// pixels.
    pub(crate) streams: &'a [Rect],
    /// The update's copies.
    pub(crate) moves: &'a [Move],
    /// The update's restores.
    pub(crate) restores: &'a [Rect],
    /// Every region of the update.
    pub(crate) regions: &'a [EncodedRegion],
    /// The lossless regions sent coarse: they owe exact pixels.
    pub(crate) coarse: &'a [Rect],
}

/// Every tile's state, for a screen of one size.
#[derive(Debug)]
pub(crate) struct TileLedger {
    tile: u32,
    screen: Rect,
    columns: u32,
    tiles: Vec<TileState>,
}

impl TileLedger {
    /// A ledger of `tile`-sized tiles for no screen yet.
    pub(crate) fn new(tile: u32) -> TileLedger {
        TileLedger {
            tile,
            screen: Rect::new(0, 0, 0, 0),
            columns: 0,
            tiles: Vec::new(),
        }
    }

    /// Starts over for a `width` x `height` screen the receiver knows nothing of; returns every
    /// tile's rectangle, row by row.
    pub(crate) fn reset(&mut self, width: u32, height: u32) -> Vec<Rect> {
        let tile = self.tile;
        self.screen = Rect::new(0, 0, width, height);
        self.columns = width.div_ceil(tile);
        let rows = height.div_ceil(tile);
        self.tiles = vec![TileState::default(); (self.columns * rows) as usize];
        (0..self.tiles.len()).map(|i| self.tile_rect(i)).collect()
    }

    /// The index of the tile at `rect`'s corner.
    fn index_at(&self, rect: &Rect) -> usize {
        ((rect.y / self.tile) * self.columns + rect.x / self.tile) as usize
    }

    /// The rectangle of tile `index`, clipped to the screen.
    fn tile_rect(&self, index: usize) -> Rect {
        let tile = self.tile;
        let (c, r) = (index as u32 % self.columns, index as u32 / self.columns);
        Rect::from_edges(
            c * tile,
            r * tile,
            ((c + 1) * tile).min(self.screen.width),
            ((r + 1) * tile).min(self.screen.height),
        )
    }

    /// Calls `f` on every tile `rect` touches.
    fn for_tiles(&mut self, rect: Rect, mut f: impl FnMut(&mut TileState)) {
        let tile = self.tile;
        for r in rect.y / tile..rect.bottom().div_ceil(tile) {
            for c in rect.x / tile..rect.right().div_ceil(tile) {
                if let Some(t) = self.tiles.get_mut((r * self.columns + c) as usize) {
                    f(t);
                }
            }
        }
    }

    /// Calls `f` on every tile that lies wholly inside `rect` (clipped to the screen).
    fn for_covered_tiles(&mut self, rect: Rect, mut f: impl FnMut(&mut TileState)) {
        let tile = self.tile;
        for r in rect.y / tile..rect.bottom().div_ceil(tile) {
            for c in rect.x / tile..rect.right().div_ceil(tile) {
                let t = Rect::new(c * tile, r * tile, tile, tile);
                let t = t.intersection(&self.screen).unwrap_or(t);
                if rect.contains_rect(&t)
                    && let Some(state) = self.tiles.get_mut((r * self.columns + c) as usize)
                {
                    f(state);
                }
            }
        }
    }

    /// Whether a copy saved pixels into the layer beneath in the tile at `rect`'s corner.
    pub(crate) fn saved_at(&self, rect: &Rect) -> bool {
        self.tiles.get(self.index_at(rect)).is_some_and(|t| t.saved)
    }

    /// Copies saved `piece` of the screen into the layer beneath, as lossy as the receiver
    /// showed it; call before [`TileLedger::record`] takes the update.
    pub(crate) fn saved(&mut self, piece: Rect) {
        self.for_tiles(piece, |t| {
            t.saved = true;
            t.under_lossy |= t.lossy;
        });
        self.for_covered_tiles(piece, |t| t.under_lossy = t.lossy);
    }

    /// Takes one update sent at `timestamp_us`.
    pub(crate) fn record(&mut self, update: &Recorded<'_>, timestamp_us: u64) {
        let owe = |t: &mut TileState| t.owe(timestamp_us);
        for b in update.changed {
            self.for_tiles(*b, |t| t.changed_at = timestamp_us);
        }
        for rect in update.streams {
            self.for_tiles(*rect, owe);
        }
        self.carry_lossy_through(update.moves, timestamp_us);
        // A restore is as exact as the layer beneath it.
        for rect in update.restores {
            self.for_tiles(*rect, |t| {
                if t.under_lossy {
                    owe(t);
                }
            });
            self.for_covered_tiles(*rect, |t| {
                if !t.under_lossy {
                    t.exact();
                }
            });
        }
        for region in update.regions {
            if region.kind == RegionKind::Av1 {
                self.for_tiles(region.rect, owe);
            }
        }
        for region in update.regions.iter().filter(|r| r.kind.is_exact()) {
            self.for_covered_tiles(region.rect, TileState::exact);
        }
        for rect in update.coarse {
            self.for_tiles(*rect, |t| {
                owe(t);
                t.coarse = true;
            });
        }
    }

    /// Copies carry their sources' state, tile by tile: a destination tile owes exact pixels
    /// when the part copied into it comes from a lossy tile, and is exact when a copy from
    /// exact tiles covers it whole. The sources are read as they were before the update (a
    /// scroll's sources and destinations overlap).
    fn carry_lossy_through(&mut self, moves: &[Move], timestamp_us: u64) {
        if moves.is_empty() {
            return;
        }
        let tile = self.tile;
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
                    let whole = whole.intersection(&self.screen).unwrap_or(whole);
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
                if lossy {
                    t.owe(timestamp_us);
                } else {
                    t.exact();
                }
            }
        }
    }

    /// What is owed of the tiles that have been still for `delay_us` at `now_us`, those still
    /// the longest first, within `max_area` pixels, in screen order. Each is a tile's rows not
    /// yet sent exactly; when even the first does not fit, its first rows that do (at least
    /// [`MIN_ROWS`]). Once sent, [`TileLedger::refined`] takes them off.
    pub(crate) fn due(&self, now_us: u64, delay_us: u64, max_area: u64) -> Vec<Rect> {
        self.due_for(Stage::Exact, now_us, delay_us, max_area)
    }

    /// Like [`TileLedger::due`], for `stage`: [`Stage::Near`] takes every tile not yet over
    /// 50 dB (see [`TileLedger::check_near`]).
    pub(crate) fn due_for(
        &self,
        stage: Stage,
        now_us: u64,
        delay_us: u64,
        max_area: u64,
    ) -> Vec<Rect> {
        let tile_height = |i: usize| self.tile_rect(i).height;
        let mut due: Vec<(u64, bool, usize)> = self
            .tiles
            .iter()
            .enumerate()
            .filter(|(_, t)| t.lossy && now_us >= t.changed_at + delay_us)
            .filter(|(i, t)| t.done_rows(stage) < tile_height(*i))
            .map(|(i, t)| (t.changed_at, !t.coarse, i))
            .collect();
        due.sort_unstable();
        let mut left = max_area;
        let mut out: Vec<(usize, Rect)> = Vec::new();
        for (_, dear, i) in due {
            let tile = self.tile_rect(i);
            let skip = self.tiles[i].done_rows(stage).min(tile.height - 1);
            let owed = Rect::new(tile.x, tile.y + skip, tile.width, tile.height - skip);
            let weight = if dear { 1 } else { COARSE_CHEAPER };
            if owed.area() <= left.saturating_mul(weight) {
                out.push((i, owed));
                left -= owed.area() / weight;
            } else {
                if out.is_empty() {
                    let rows = (left.saturating_mul(weight) / u64::from(owed.width))
                        .min(u64::from(owed.height)) as u32;
                    let rows = rows.max(MIN_ROWS);
                    let rows = rows.min(owed.height);
                    out.push((i, Rect::new(owed.x, owed.y, owed.width, rows)));
                }
                break;
            }
        }
        out.sort_unstable_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, r)| r).collect()
    }

    /// Pixels owed by the tiles that have been still for `delay_us` at `now_us`.
    pub(crate) fn owed_area(&self, now_us: u64, delay_us: u64) -> u64 {
        (self.tiles.iter().enumerate())
            .filter(|(_, t)| t.lossy && now_us >= t.changed_at + delay_us)
            .map(|(i, t)| {
                let tile = self.tile_rect(i);
                u64::from(tile.width) * u64::from(tile.height - t.exact_rows.min(tile.height))
            })
            .sum()
    }

    /// The whole tile at `rect`'s corner.
    pub(crate) fn tile_of(&self, rect: &Rect) -> Rect {
        self.tile_rect(self.index_at(rect))
    }

    fn state_at(&self, rect: &Rect) -> Option<&TileState> {
        self.tiles.get(self.index_at(rect))
    }

    /// Whether the tile at `rect`'s corner was looked at for the near stage.
    pub(crate) fn near_checked(&self, rect: &Rect) -> bool {
        self.state_at(rect).is_some_and(|t| t.near.is_some())
    }

    /// Whether the tile at `rect`'s corner takes the near stage.
    pub(crate) fn takes_near(&self, rect: &Rect) -> bool {
        self.state_at(rect).is_some_and(|t| t.near == Some(true))
    }

    /// Records whether the tile at `rect`'s corner takes the near stage (exact pixels come
    /// next when it does not).
    pub(crate) fn check_near(&mut self, rect: &Rect, takes: bool) {
        let index = self.index_at(rect);
        if let Some(t) = self.tiles.get_mut(index) {
            t.near = Some(takes);
        }
    }

    /// The rows of `rects` (as [`TileLedger::due_for`] gave them for [`Stage::Near`]) were
    /// sent near-exactly.
    pub(crate) fn neared(&mut self, rects: &[Rect]) {
        for rect in rects {
            let index = self.index_at(rect);
            let whole = self.tile_rect(index);
            if let Some(t) = self.tiles.get_mut(index)
                && rect.y <= whole.y + t.done_rows(Stage::Near)
            {
                t.near_rows = t.near_rows.max(rect.bottom() - whole.y);
            }
        }
    }

    /// The rows of `rects` (as [`TileLedger::due`] gave them) were sent exactly.
    pub(crate) fn refined(&mut self, rects: &[Rect]) {
        for rect in rects {
            let index = self.index_at(rect);
            let whole = self.tile_rect(index);
            // Rows below a gap (near rows between) are not counted: they go again.
            if let Some(t) = self.tiles.get_mut(index)
                && rect.y <= whole.y + t.exact_rows
            {
                if rect.bottom() >= whole.bottom() {
                    t.exact();
                } else {
                    t.exact_rows = t.exact_rows.max(rect.bottom() - whole.y);
                }
            }
        }
    }

    /// When the first lossy tile comes due, with the refinement delay `delay_us`; `None` when
    /// the receiver's picture is exact.
    pub(crate) fn next_due(&self, delay_us: u64) -> Option<u64> {
        self.tiles
            .iter()
            .filter(|t| t.lossy)
            .map(|t| t.changed_at + delay_us)
            .min()
    }
}
