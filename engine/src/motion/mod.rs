//! Moves and scrolls: finding changed pixels that are a shifted copy of pixels the viewer already
//! shows, so that a copy instruction replaces re-encoding them.
//!
//! [`MotionDetector::detect`] works in three steps, and only when enough pixels changed
//! ([`MotionConfig::min_changed`]): an idle or typing screen costs it nothing.
//!
//! 1. **Samples**: short row segments ([`MotionConfig::segment`] pixels) of the new frame, taken
//!    every few rows of each changed box, skipping one-colour ones, are hashed.
//! 2. **Votes**: a rolling hash runs over every segment position of the previous frame within
//!    [`MotionConfig::search`] pixels of the changed area; each position whose hash matches a
//!    sample votes for the offset between them (a bitset screens the hashes before the map).
//! 3. **Verification**: the best offsets are tried on every changed block
//!    ([`MotionConfig::block`] pixels square). A block is a copy only when all of its pixels
//!    equal the source's, so copies are exact by construction; blocks of one offset merge into
//!    rectangles.
//!
//! The previous frame is what the viewer was sent. Where the viewer shows it lossy, a copy
//! carries the loss along; the pipeline marks such destinations for refinement.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::frame::{FrameRef, Rect};

/// A copy of pixels the viewer shows: `rect` takes the same-sized block at (`from_x`, `from_y`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Move {
    /// Where the pixels go.
    pub rect: Rect,
    /// Source column.
    pub from_x: u32,
    /// Source row.
    pub from_y: u32,
}

impl Move {
    /// The source rectangle.
    pub fn source(&self) -> Rect {
        Rect::new(self.from_x, self.from_y, self.rect.width, self.rect.height)
    }

    /// How far the pixels moved: (right, down).
    pub fn offset(&self) -> (i64, i64) {
        (
            i64::from(self.rect.x) - i64::from(self.from_x),
            i64::from(self.rect.y) - i64::from(self.from_y),
        )
    }
}

/// Settings of the detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MotionConfig {
    /// Fewest changed pixels (in the tight boxes) worth a search.
    pub min_changed: u64,
    /// How far (pixels, each axis) a move may go.
    pub search: u32,
    /// Edge of the blocks verified and copied.
    pub block: u32,
    /// Pixels per hashed row segment.
    pub segment: u32,
    /// Rows between samples.
    pub sample_every: u32,
    /// Most samples per frame.
    pub max_samples: usize,
    /// Offsets verified, best voted first.
    pub candidates: usize,
}

impl Default for MotionConfig {
    fn default() -> Self {
        MotionConfig {
            min_changed: 4096,
            search: 256,
            block: 16,
            segment: 32,
            sample_every: 8,
            max_samples: 1024,
            candidates: 4,
        }
    }
}

/// Most moves in one update (an update holds at most 4096 regions).
pub(crate) const MAX_MOVES: usize = 1024;

const BASE: u64 = 0x100_0000_01b3;
const BLOOM_BITS: usize = 1 << 16;

/// Finds moves between two frames; keeps its scratch space between calls.
#[derive(Debug)]
pub struct MotionDetector {
    config: MotionConfig,
    samples: HashMap<u64, Vec<(u32, u32)>>,
    bloom: Vec<u64>,
    votes: HashMap<(i64, i64), u32>,
}

impl MotionDetector {
    /// A detector with these settings.
    pub fn new(config: MotionConfig) -> MotionDetector {
        MotionDetector {
            config,
            samples: HashMap::new(),
            bloom: vec![0; BLOOM_BITS / 64],
            votes: HashMap::new(),
        }
    }

    /// The moves that turn `previous` into `current` where the tight boxes `changed` say pixels
    /// changed (the tile diff's output). Every move's source pixels in `previous` equal its
    /// destination pixels in `current`. Frames of different sizes have no moves.
    pub fn detect(
        &mut self,
        previous: &FrameRef<'_>,
        current: &FrameRef<'_>,
        changed: &[Rect],
    ) -> Vec<Move> {
        let (width, height) = (current.width(), current.height());
        let c = self.config;
        let area: u64 = changed.iter().map(|r| r.area()).sum();
        if area < c.min_changed
            || previous.width() != width
            || previous.height() != height
            || width < c.segment
        {
            return Vec::new();
        }
        let Some(bounds) = changed.iter().copied().reduce(|a, b| a.union(&b)) else {
            return Vec::new();
        };
        self.sample(current, changed);
        if self.samples.is_empty() {
            return Vec::new();
        }
        self.vote(previous, bounds);
        let mut offsets: Vec<((i64, i64), u32)> =
            self.votes.iter().map(|(o, v)| (*o, *v)).collect();
        offsets.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let offsets: Vec<(i64, i64)> = offsets
            .into_iter()
            .filter(|(_, v)| *v >= 2)
            .take(c.candidates)
            .map(|(o, _)| o)
            .collect();
        if offsets.is_empty() {
            return Vec::new();
        }
        let found = self.verify(previous, current, changed, &offsets);
        let mut moves = coalesce(previous, current, cover(found, c.block, current.bounds()));
        if moves.len() > MAX_MOVES {
            // The largest copies save the most.
            moves.sort_by_key(|m| std::cmp::Reverse(m.rect.area()));
            moves.truncate(MAX_MOVES);
        }
        moves
    }

    /// Step 1: hashes of row segments of the changed boxes.
    fn sample(&mut self, current: &FrameRef<'_>, changed: &[Rect]) {
        let c = self.config;
        self.samples.clear();
        self.bloom.fill(0);
        let rows: u64 = changed
            .iter()
            .map(|r| u64::from(r.height.div_ceil(c.sample_every)))
            .sum();
        // Thin the samples evenly when there would be too many.
        let keep_every = (rows as usize).div_ceil(c.max_samples).max(1);
        let mut n = 0usize;
        for r in changed {
            let x = r.x.min(current.width() - c.segment);
            let mut y = r.y + (r.height.min(c.sample_every) / 2);
            while y < r.bottom() {
                n += 1;
                if n.is_multiple_of(keep_every) {
                    let segment = pixels(current.row(y), x, c.segment);
                    if segment.iter().any(|p| *p != segment[0]) {
                        let h = hash(&segment);
                        self.bloom[bloom_index(h) / 64] |= 1 << (bloom_index(h) % 64);
                        self.samples.entry(h).or_default().push((x, y));
                    }
                }
                y += c.sample_every;
            }
        }
    }

    /// Step 2: a rolling hash over the previous frame near the changed area votes for offsets.
    /// Rows are scanned in parallel on the current rayon pool; their votes add up.
    fn vote(&mut self, previous: &FrameRef<'_>, bounds: Rect) {
        let c = self.config;
        let (width, height) = (previous.width(), previous.height());
        self.votes.clear();
        let top = bounds.y.saturating_sub(c.search);
        let bottom = (bounds.bottom() + c.search).min(height);
        let left = bounds.x.saturating_sub(c.search);
        let right = (bounds.right() + c.search).min(width);
        if right - left < c.segment {
            return;
        }
        let seg = c.segment as usize;
        let top_power = (1..seg).fold(1u64, |p, _| p.wrapping_mul(BASE));
        let (samples, bloom) = (&self.samples, &self.bloom);
        let scan_row = |mut votes: HashMap<(i64, i64), u32>, y: u32| {
            let bytes = &previous.row(y)[left as usize * 4..right as usize * 4];
            let px = |i: usize| {
                let p = &bytes[i * 4..i * 4 + 4];
                u64::from(u32::from_le_bytes([p[0], p[1], p[2], p[3]]))
            };
            let mut h = (0..seg).fold(0u64, |h, i| h.wrapping_mul(BASE).wrapping_add(px(i)));
            for start in 0..=bytes.len() / 4 - seg {
                if start > 0 {
                    h = h
                        .wrapping_sub(px(start - 1).wrapping_mul(top_power))
                        .wrapping_mul(BASE)
                        .wrapping_add(px(start + seg - 1));
                }
                let b = bloom_index(h);
                if bloom[b / 64] & (1 << (b % 64)) == 0 {
                    continue;
                }
                if let Some(found) = samples.get(&h) {
                    let x = left + start as u32;
                    for &(sx, sy) in found {
                        let offset = (i64::from(sx) - i64::from(x), i64::from(sy) - i64::from(y));
                        if offset != (0, 0) {
                            *votes.entry(offset).or_default() += 1;
                        }
                    }
                }
            }
            votes
        };
        let votes = (top..bottom)
            .into_par_iter()
            .fold(HashMap::new, scan_row)
            .reduce(HashMap::new, |mut a, b| {
                for (offset, n) in b {
                    *a.entry(offset).or_default() += n;
                }
                a
            });
        self.votes = votes;
    }

    /// Step 3: the changed parts of blocks that are exact copies at one of `offsets`; where a
    /// whole block's changed part is not, its quarters' quarters (4 x 4 cells for 16-pixel
    /// blocks) are tried, so the edges of a moved window are copies too.
    fn verify(
        &self,
        previous: &FrameRef<'_>,
        current: &FrameRef<'_>,
        changed: &[Rect],
        offsets: &[(i64, i64)],
    ) -> Vec<Move> {
        let block = self.config.block;
        let cell = (block / 4).max(1);
        let screen = current.bounds();
        let mut found = Vec::new();
        for r in changed {
            for by in r.y / block..r.bottom().div_ceil(block) {
                for bx in r.x / block..r.right().div_ceil(block) {
                    let Some(full) =
                        Rect::new(bx * block, by * block, block, block).intersection(&screen)
                    else {
                        continue;
                    };
                    // Only the changed part of the block needs pixels; but whole blocks, when
                    // they match, merge into far fewer rectangles.
                    let Some(part) = full.intersection(r) else {
                        continue;
                    };
                    if same(previous, part, current, part) {
                        // Nothing to send; but a block the best offset also reproduces fills
                        // the gap between copies, so they merge.
                        if let Some(m) = copy_of(previous, current, full, &offsets[..1]) {
                            found.push(m);
                        }
                        continue;
                    }
                    if let Some(m) = copy_of(previous, current, full, offsets)
                        .or_else(|| copy_of(previous, current, part, offsets))
                    {
                        found.push(m);
                        continue;
                    }
                    for cy in (part.y..part.bottom()).step_by(cell as usize) {
                        for cx in (part.x..part.right()).step_by(cell as usize) {
                            let piece = Rect::from_edges(
                                cx,
                                cy,
                                (cx + cell).min(part.right()),
                                (cy + cell).min(part.bottom()),
                            );
                            if !same(previous, piece, current, piece)
                                && let Some(m) = copy_of(previous, current, piece, offsets)
                            {
                                found.push(m);
                            }
                        }
                    }
                }
            }
        }
        found
    }
}

/// The move that fills `rect` of `current` from `previous` at the first of `offsets` whose
/// source holds exactly the same pixels.
fn copy_of(
    previous: &FrameRef<'_>,
    current: &FrameRef<'_>,
    rect: Rect,
    offsets: &[(i64, i64)],
) -> Option<Move> {
    let screen = current.bounds();
    offsets.iter().find_map(|&(dx, dy)| {
        let (sx, sy) = (i64::from(rect.x) - dx, i64::from(rect.y) - dy);
        let fits = sx >= 0
            && sy >= 0
            && sx + i64::from(rect.width) <= i64::from(screen.width)
            && sy + i64::from(rect.height) <= i64::from(screen.height);
        let source = Rect::new(
            u32::try_from(sx).ok()?,
            u32::try_from(sy).ok()?,
            rect.width,
            rect.height,
        );
        (fits && same(previous, source, current, rect)).then_some(Move {
            rect,
            from_x: source.x,
            from_y: source.y,
        })
    })
}

/// Joins copies of one offset into few rectangles. Whole grid blocks are covered greedily:
/// from each uncovered block, as far right as the row goes, then as far down as every block
/// under that span is there. The other pieces merge by runs ([`merge`]).
fn cover(found: Vec<Move>, block: u32, screen: Rect) -> Vec<Move> {
    let on_grid = |m: &Move| {
        m.rect.x.is_multiple_of(block)
            && m.rect.y.is_multiple_of(block)
            && (m.rect.width == block || m.rect.right() == screen.right())
            && (m.rect.height == block || m.rect.bottom() == screen.bottom())
    };
    let (grid, rest): (Vec<Move>, Vec<Move>) = found.into_iter().partition(on_grid);
    let mut by_offset: HashMap<(i64, i64), std::collections::HashSet<(u32, u32)>> = HashMap::new();
    for m in &grid {
        by_offset
            .entry(m.offset())
            .or_default()
            .insert((m.rect.x / block, m.rect.y / block));
    }
    let mut out = Vec::new();
    let mut offsets: Vec<_> = by_offset.into_iter().collect();
    offsets.sort_by_key(|(o, _)| *o);
    for ((dx, dy), mut cells) in offsets {
        let mut order: Vec<(u32, u32)> = cells.iter().copied().collect();
        order.sort_by_key(|&(x, y)| (y, x));
        for (x0, y0) in order {
            if !cells.contains(&(x0, y0)) {
                continue;
            }
            let mut x1 = x0 + 1;
            while cells.contains(&(x1, y0)) {
                x1 += 1;
            }
            let mut y1 = y0 + 1;
            while (x0..x1).all(|x| cells.contains(&(x, y1))) {
                y1 += 1;
            }
            for y in y0..y1 {
                for x in x0..x1 {
                    cells.remove(&(x, y));
                }
            }
            let rect = Rect::from_edges(
                x0 * block,
                y0 * block,
                (x1 * block).min(screen.right()),
                (y1 * block).min(screen.bottom()),
            );
            out.push(Move {
                rect,
                from_x: (i64::from(rect.x) - dx) as u32,
                from_y: (i64::from(rect.y) - dy) as u32,
            });
        }
    }
    out.extend(merge(rest));
    out
}

/// Fewer, larger copies. For each offset, every row of its copies' bounding box is scanned for
/// the spans (at least [`MIN_SPAN`] pixels) that are an exact copy; rows with the same spans in
/// a run become one copy per span, kept when it takes in at least [`MIN_COPY_AREA`] pixels of
/// the found copies (else it would copy only what did not change). The found copies lose what
/// those cover. A scrolled page whose changed blocks made dozens of copies (blank stretches
/// between words do not change, a scrollbar beside it does not scroll) becomes one or two. Every
/// copy is exact, so where copies overlap they write the same pixels.
fn coalesce(previous: &FrameRef<'_>, current: &FrameRef<'_>, moves: Vec<Move>) -> Vec<Move> {
    let screen = current.bounds();
    let mut by_offset: HashMap<(i64, i64), Rect> = HashMap::new();
    for m in &moves {
        by_offset
            .entry(m.offset())
            .and_modify(|b| *b = b.union(&m.rect))
            .or_insert(m.rect);
    }
    let mut offsets: Vec<_> = by_offset.into_iter().collect();
    offsets.sort_by_key(|(o, _)| *o);
    let mut grown: Vec<Move> = Vec::new();
    for ((dx, dy), bounds) in offsets {
        // Where the source lies on the screen too.
        let (w, h) = (i64::from(screen.width), i64::from(screen.height));
        if dx.abs() >= w || dy.abs() >= h {
            continue;
        }
        let source_fits = Rect::from_edges(
            dx.max(0) as u32,
            dy.max(0) as u32,
            (w + dx.min(0)) as u32,
            (h + dy.min(0)) as u32,
        );
        let Some(area) = bounds.intersection(&source_fits) else {
            continue;
        };
        let found: Vec<Rect> = moves
            .iter()
            .filter(|m| m.offset() == (dx, dy))
            .map(|m| m.rect)
            .collect();
        let mut close = |top: u32, bottom: u32, spans: &[(u32, u32)]| {
            for &(x0, x1) in spans {
                let rect = Rect::from_edges(x0, top, x1, bottom);
                let known: u64 = found
                    .iter()
                    .filter_map(|f| f.intersection(&rect))
                    .map(|r| r.area())
                    .sum();
                if known >= MIN_COPY_AREA {
                    grown.push(Move {
                        rect,
                        from_x: (i64::from(x0) - dx) as u32,
                        from_y: (i64::from(top) - dy) as u32,
                    });
                }
            }
        };
        span_runs(previous, current, area, (dx, dy), MIN_SPAN, &mut close);
    }
    // What the grown copies leave of the found ones.
    let mut out: Vec<Move> = Vec::new();
    for m in moves {
        let mut pieces = vec![m];
        for g in grown.iter().filter(|g| g.offset() == m.offset()) {
            pieces = pieces
                .into_iter()
                .flat_map(|p| {
                    subtract(p.rect, g.rect).into_iter().map(move |rect| Move {
                        rect,
                        from_x: p.from_x + (rect.x - p.rect.x),
                        from_y: p.from_y + (rect.y - p.rect.y),
                    })
                })
                .collect();
        }
        out.extend(pieces);
    }
    out.extend(grown);
    // A copy costs a region header on the wire: tiny ones save less than that.
    out.retain(|m| m.rect.area() >= MIN_COPY_AREA);
    out
}

/// Where `current` shows again, within `areas`, exactly what `under` holds at the same place:
/// rectangles of at least 256 pixels (as copies are), for
/// [`RegionKind::Restore`](crate::codec::RegionKind::Restore). The pipeline's `under` is the
/// layer beneath the viewer's screen, which keeps what copies covered: the wallpaper in front
/// of a dragged window.
///
/// Each area's rows are split into the spans that equal `under`; runs of rows with the same
/// spans make rectangles, and rectangles that adjoin along a row or a column are joined. Spans
/// may be one pixel wide: a window moving sideways uncovers strips a few pixels wide.
///
/// # Panics
/// When `under` and `current` differ in size, or an area leaves them.
pub(crate) fn restores(under: &FrameRef<'_>, current: &FrameRef<'_>, areas: &[Rect]) -> Vec<Rect> {
    assert_eq!(
        (under.width(), under.height()),
        (current.width(), current.height())
    );
    let mut found = Vec::new();
    for area in areas {
        span_runs(under, current, *area, (0, 0), 1, |top, bottom, spans| {
            found.extend(spans.iter().map(|&(x0, x1)| Move {
                rect: Rect::from_edges(x0, top, x1, bottom),
                from_x: x0,
                from_y: top,
            }));
        });
    }
    merge(found)
        .into_iter()
        .map(|m| m.rect)
        .filter(|r| r.area() >= MIN_COPY_AREA)
        .collect()
}

/// Calls `close(top, bottom, spans)` for each run of rows of `area` whose spans that copy
/// exactly ([`copied_spans`]) are the same.
fn span_runs(
    previous: &FrameRef<'_>,
    current: &FrameRef<'_>,
    area: Rect,
    offset: (i64, i64),
    min_span: u32,
    mut close: impl FnMut(u32, u32, &[(u32, u32)]),
) {
    let mut run: Option<(u32, Vec<(u32, u32)>)> = None;
    for y in area.y..area.bottom() {
        let spans = copied_spans(previous, current, area, y, offset, min_span);
        match &run {
            Some((_, same)) if *same == spans => continue,
            Some((top, old)) => close(*top, y, old),
            None => {}
        }
        run = Some((y, spans));
    }
    if let Some((top, spans)) = run {
        close(top, area.bottom(), &spans);
    }
}

/// Shortest span of a row that [`coalesce`] makes a copy of.
const MIN_SPAN: u32 = 16;

/// The spans of row `y` within `area` (columns) where `current` equals `previous` shifted by
/// `(dx, dy)`, at least `min_span` pixels each.
fn copied_spans(
    previous: &FrameRef<'_>,
    current: &FrameRef<'_>,
    area: Rect,
    y: u32,
    (dx, dy): (i64, i64),
    min_span: u32,
) -> Vec<(u32, u32)> {
    let bytes = area.width as usize * 4;
    let to = &current.row(y)[area.x as usize * 4..][..bytes];
    let from_x = (i64::from(area.x) - dx) as usize;
    let from = &previous.row((i64::from(y) - dy) as u32)[from_x * 4..][..bytes];
    let mut spans = Vec::new();
    let mut start = None;
    let mut differs = |i: u32, start: &mut Option<u32>| {
        if let Some(s) = start.take()
            && i - s >= min_span
        {
            spans.push((area.x + s, area.x + i));
        }
    };
    // Whole blocks of pixels compare at memcmp speed; only a block that differs is walked.
    const BLOCK: usize = 16 * 4;
    for (b, (a_block, b_block)) in to.chunks(BLOCK).zip(from.chunks(BLOCK)).enumerate() {
        let first = (b * BLOCK / 4) as u32;
        if a_block == b_block {
            start.get_or_insert(first);
            continue;
        }
        let pixels = a_block.chunks_exact(4).zip(b_block.chunks_exact(4));
        for (i, (pa, pb)) in pixels.enumerate() {
            if pa == pb {
                start.get_or_insert(first + i as u32);
            } else {
                differs(first + i as u32, &mut start);
            }
        }
    }
    if let Some(s) = start
        && area.width - s >= min_span
    {
        spans.push((area.x + s, area.right()));
    }
    spans
}

/// `rect` without `hole`: up to four pieces (above, below, left, right).
pub(crate) fn subtract(rect: Rect, hole: Rect) -> Vec<Rect> {
    let Some(cut) = rect.intersection(&hole) else {
        return vec![rect];
    };
    [
        (rect.x, rect.y, rect.right(), cut.y),
        (rect.x, cut.bottom(), rect.right(), rect.bottom()),
        (rect.x, cut.y, cut.x, cut.bottom()),
        (cut.right(), cut.y, rect.right(), cut.bottom()),
    ]
    .into_iter()
    .filter(|(x0, y0, x1, y1)| x0 < x1 && y0 < y1)
    .map(|(x0, y0, x1, y1)| Rect::from_edges(x0, y0, x1, y1))
    .collect()
}

/// Copies smaller than this many pixels are left to the codecs.
const MIN_COPY_AREA: u64 = 256;

/// Joins blocks of the same offset: runs along rows, then runs of equal runs down columns.
fn merge(mut blocks: Vec<Move>) -> Vec<Move> {
    blocks.sort_by_key(|m| (m.offset(), m.rect.y, m.rect.x));
    let mut runs: Vec<Move> = Vec::new();
    for m in blocks {
        match runs.last_mut() {
            Some(last)
                if last.offset() == m.offset()
                    && last.rect.y == m.rect.y
                    && last.rect.height == m.rect.height
                    && last.rect.right() == m.rect.x =>
            {
                last.rect.width += m.rect.width;
            }
            _ => runs.push(m),
        }
    }
    runs.sort_by_key(|m| (m.offset(), m.rect.x, m.rect.width, m.rect.y));
    let mut out: Vec<Move> = Vec::new();
    for m in runs {
        match out.last_mut() {
            Some(last)
                if last.offset() == m.offset()
                    && last.rect.x == m.rect.x
                    && last.rect.width == m.rect.width
                    && last.rect.bottom() == m.rect.y =>
            {
                last.rect.height += m.rect.height;
            }
            _ => out.push(m),
        }
    }
    out
}

/// Whether `a` of `fa` holds exactly the pixels of `b` of `fb` (same sizes).
fn same(fa: &FrameRef<'_>, a: Rect, fb: &FrameRef<'_>, b: Rect) -> bool {
    let bytes = a.width as usize * 4;
    (0..a.height).all(|dy| {
        let ra = &fa.row(a.y + dy)[a.x as usize * 4..a.x as usize * 4 + bytes];
        let rb = &fb.row(b.y + dy)[b.x as usize * 4..b.x as usize * 4 + bytes];
        ra == rb
    })
}

/// `count` pixels of a BGRA row from column `x`, as `u32`s.
fn pixels(row: &[u8], x: u32, count: u32) -> Vec<u32> {
    row[x as usize * 4..(x + count) as usize * 4]
        .chunks_exact(4)
        .map(|p| u32::from_le_bytes([p[0], p[1], p[2], p[3]]))
        .collect()
}

/// The polynomial hash the rolling scan reproduces: sum of p[i] * BASE^(n-1-i).
fn hash(segment: &[u32]) -> u64 {
    segment.iter().fold(0u64, |h, p| {
        h.wrapping_mul(BASE).wrapping_add(u64::from(*p))
    })
}

fn bloom_index(h: u64) -> usize {
    (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as usize & (BLOOM_BITS - 1)
}

#[cfg(test)]
mod tests;
