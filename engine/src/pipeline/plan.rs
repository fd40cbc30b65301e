//! Planning: which rectangles of a capture are encoded, and how.
//!
//! Each changed box is classified ([`crate::codec::classify`]): small boxes that adjoin are
//! judged as the strip they form. The AV1 boxes are merged tightly (and, beside copies, first
//! cut into the [`bands`] of rows they are made of), then cut into pieces that encode in
//! parallel; the exact boxes are merged wide, except where their content is photo-like. Solid
//! or lossless is chosen for each exact region from its merged content.

use rayon::prelude::*;

use crate::codec::{RegionKind, classify};
use crate::diff::merge::{MergeConfig, merge_rects};
use crate::frame::{FrameRef, Rect};
use crate::pipeline::PipelineConfig;

/// How far a changed row's ends may stray from its band's before a new band starts ([`bands`]).
const BAND_SLACK: u32 = 8;

/// The regions to encode for `boxes` of `kinds`, AV1 first: exact regions, written after them,
/// win where they overlap. `predicted` (the previous screen with this update's copies and
/// restores applied), when given, cuts each AV1 box into the bands of rows that differ from it.
pub(crate) fn regions(
    frame: &FrameRef<'_>,
    boxes: &[Rect],
    kinds: &[RegionKind],
    predicted: Option<&FrameRef<'_>>,
    config: &PipelineConfig,
) -> Vec<(Rect, RegionKind)> {
    let pick = |want_av1: bool| -> Vec<Rect> {
        boxes
            .iter()
            .zip(kinds)
            .filter(|(_, k)| (**k == RegionKind::Av1) == want_av1)
            .map(|(r, _)| *r)
            .collect()
    };
    let (mut av1_boxes, exact_boxes) = (pick(true), pick(false));
    if let Some(predicted) = predicted {
        av1_boxes = av1_boxes
            .iter()
            .flat_map(|b| bands(predicted, frame, *b))
            .collect();
    }
    let bounds = frame.bounds();
    let mut plan: Vec<(Rect, RegionKind)> = Vec::new();
    for rect in merge_rects(&av1_boxes, bounds, &config.av1_merge) {
        plan.extend(split(rect, config.av1_max_side).map(|r| (r, RegionKind::Av1)));
    }
    plan.extend(exact_regions(frame, &exact_boxes, config));
    plan
}

/// The exact path's regions for `boxes`, each solid or lossless: merged wide
/// ([`PipelineConfig::exact_merge`]), except that a merged region of photo-like content has its
/// boxes merged again tightly ([`PipelineConfig::exact_merge_photo`]).
pub(crate) fn exact_regions(
    frame: &FrameRef<'_>,
    boxes: &[Rect],
    config: &PipelineConfig,
) -> Vec<(Rect, RegionKind)> {
    let bounds = frame.bounds();
    let wide = merge_rects(boxes, bounds, &config.exact_merge);
    let photo: Vec<bool> = wide
        .par_iter()
        .map(|r| {
            classify::count_colours(frame, *r, classify::PALETTE_MAX + 1) > classify::PALETTE_MAX
        })
        .collect();
    let mut merged = Vec::with_capacity(wide.len());
    for (rect, photo) in wide.into_iter().zip(photo) {
        if !photo {
            merged.push(rect);
            continue;
        }
        let inside: Vec<Rect> = boxes.iter().filter_map(|b| b.intersection(&rect)).collect();
        merged.extend(merge_rects(&inside, bounds, &config.exact_merge_photo));
    }
    merged
        .into_par_iter()
        .map(|rect| {
            let kind = if classify::count_colours(frame, rect, 1) == 1 {
                RegionKind::Solid
            } else {
                RegionKind::Lossless
            };
            (rect, kind)
        })
        .collect()
}

/// The kind each box goes as, judged by its content ([`classify`]; boxes where `moving` are
/// judged as moving content, [`classify::kind_for_moving`]) and by the strip it forms with its
/// neighbours ([`classify_small_boxes_as_strips`]).
pub(crate) fn classify_boxes(
    frame: &FrameRef<'_>,
    boxes: &[Rect],
    moving: &(dyn Fn(&Rect) -> bool + Sync),
) -> Vec<RegionKind> {
    let mut kinds: Vec<RegionKind> = boxes
        .par_iter()
        .map(|b| {
            let stats = classify::stats(frame, *b);
            if moving(b) {
                classify::kind_for_moving(&stats, *b)
            } else {
                classify::kind_for(&stats, *b)
            }
        })
        .collect();
    classify_small_boxes_as_strips(frame, boxes, &mut kinds);
    kinds
}

/// Small boxes say little about their content alone: the wallpaper a moved window uncovers
/// comes as a row of tile boxes a few pixels tall, each too small to be taken for a photo, and
/// sent losslessly they cost 7 to 11 bits a pixel. So the small boxes that adjoin are joined
/// into strips, each strip is classified as a whole, and its boxes take its kind. Strips as
/// small as a photo can be ([`classify::MIN_PHOTO_AREA`]) count: a sliver two pixels wide beside
/// a window moving sideways costs over 20 bits a pixel sent losslessly.
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

/// Cuts `rect` into pieces no wider or taller than `max_side`, of near-equal size.
pub(crate) fn split(rect: Rect, max_side: u32) -> impl Iterator<Item = Rect> {
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

/// `changed` (a box where `before` and `after` differ) as bands of rows whose changed columns
/// line up, each as tight as its rows. Around a moved window, a tile's box is often an L (a
/// strip above the window's corner, a strip beside it): its bounding box takes in the window's
/// copied pixels, which AV1 would code again, lossy.
pub(crate) fn bands(before: &FrameRef<'_>, after: &FrameRef<'_>, changed: Rect) -> Vec<Rect> {
    let mut out = Vec::new();
    let mut band: Option<(u32, u32, u32)> = None; // top, left, right
    let (x0, x1) = (changed.x as usize * 4, changed.right() as usize * 4);
    for y in changed.y..changed.bottom() {
        let (a, b) = (&before.row(y)[x0..x1], &after.row(y)[x0..x1]);
        let differs = |i: &usize| a[i * 4..i * 4 + 4] != b[i * 4..i * 4 + 4];
        let span = (0..changed.width as usize).find(differs).map(|l| {
            let r = (l..changed.width as usize).rfind(differs).unwrap_or(l);
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
