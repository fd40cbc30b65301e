//! Merging dirty boxes into a few rectangles worth encoding.
//!
//! Every rectangle costs something of its own (a header, a codec start-up, a less efficient
//! edge), and every pixel inside it that did not change is wasted work. [`merge_rects`] aligns
//! the boxes to the codec's block size, then greedily joins two rectangles whenever the union
//! costs no more than the pair: `area(union) <= area(a) + area(b) + rect_cost`. A larger
//! `rect_cost` gives fewer, larger rectangles; 0 joins only where nothing is wasted. A hard
//! `max_rects` bounds the count by joining the cheapest pairs.
//!
//! Each join is judged by the waste it adds, so a rectangle can creep along a row of boxes,
//! gathering a little waste at each join: right for text, whose blank gaps cost nothing. For a
//! lossy path, waste is pixels coded again and made lossy (the copied window beside a strip of
//! uncovered wallpaper), and [`MergeConfig::bound_total_waste`] makes `rect_cost` bound all the
//! waste of a rectangle instead.

use crate::frame::Rect;

/// How the merge of boxes into rectangles trades rectangle count against wasted area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MergeConfig {
    /// Rectangle edges are moved outward to multiples of this (1 = no alignment).
    pub align: u32,
    /// What one more rectangle costs, counted in pixels of wasted area.
    pub rect_cost: u64,
    /// At most this many rectangles come out.
    pub max_rects: usize,
    /// `rect_cost` bounds all the waste a rectangle gathers, not each join's share of it.
    pub bound_total_waste: bool,
}

impl Default for MergeConfig {
    fn default() -> Self {
        MergeConfig {
            align: 8,
            rect_cost: 32 * 32,
            max_rects: 64,
            bound_total_waste: false,
        }
    }
}

/// Aligns `boxes` within `bounds` and joins them into few rectangles covering every box.
///
/// # Panics
/// When `config.align` or `config.max_rects` is 0.
pub fn merge_rects(boxes: &[Rect], bounds: Rect, config: &MergeConfig) -> Vec<Rect> {
    assert!(config.align > 0, "alignment must be at least 1");
    assert!(
        config.max_rects > 0,
        "at least one rectangle must be allowed"
    );
    let mut rects: Vec<Rect> = boxes
        .iter()
        .filter(|r| !r.is_empty())
        .map(|r| align(r, bounds, config.align))
        .collect();
    // The boxes' area inside each rectangle, for `bound_total_waste`.
    let mut inside: Vec<u64> = rects.iter().map(Rect::area).collect();
    let cost = |rects: &[Rect], inside: &[u64], i: usize, j: usize| {
        if config.bound_total_waste {
            rects[i].union(&rects[j]).area() as i64 - inside[i] as i64 - inside[j] as i64
        } else {
            join_cost(&rects[i], &rects[j])
        }
    };
    let join = |rects: &mut Vec<Rect>, inside: &mut Vec<u64>, i: usize, j: usize| {
        rects[i] = rects[i].union(&rects[j]);
        inside[i] += inside[j];
        rects.swap_remove(j);
        inside.swap_remove(j);
    };

    // Greedy joining until no pair is worth joining. After a join, rectangle i has grown, so its
    // partners are looked at again.
    let mut changed = true;
    while changed {
        changed = false;
        let mut i = 0;
        while i < rects.len() {
            let mut j = i + 1;
            while j < rects.len() {
                if cost(&rects, &inside, i, j) <= config.rect_cost as i64 {
                    join(&mut rects, &mut inside, i, j);
                    changed = true;
                    j = i + 1;
                } else {
                    j += 1;
                }
            }
            i += 1;
        }
    }

    while rects.len() > config.max_rects {
        let mut best = (i64::MAX, 0, 1);
        for i in 0..rects.len() {
            for j in i + 1..rects.len() {
                let cost = cost(&rects, &inside, i, j);
                if cost < best.0 {
                    best = (cost, i, j);
                }
            }
        }
        let (_, i, j) = best;
        join(&mut rects, &mut inside, i, j);
    }
    rects
}

/// Pixels the union of `a` and `b` covers beyond the two of them (negative when they overlap).
fn join_cost(a: &Rect, b: &Rect) -> i64 {
    a.union(b).area() as i64 - a.area() as i64 - b.area() as i64
}

fn align(r: &Rect, bounds: Rect, to: u32) -> Rect {
    let x0 = (r.x / to * to).max(bounds.x);
    let y0 = (r.y / to * to).max(bounds.y);
    let x1 = r.right().next_multiple_of(to).min(bounds.right());
    let y1 = r.bottom().next_multiple_of(to).min(bounds.bottom());
    Rect::from_edges(x0, y0, x1, y1)
}

/// Area accounting of a merge: what was changed against what will be encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Rectangles after merging.
    pub rects: usize,
    /// Pixels inside the tight dirty boxes (counted once even where boxes touch).
    pub dirty_area: u64,
    /// Pixels inside the merged rectangles (overlaps counted twice: they are encoded twice).
    pub encoded_area: u64,
}

impl MergeStats {
    /// Measures `merged` against the `boxes` it was made from.
    pub fn measure(boxes: &[Rect], merged: &[Rect]) -> MergeStats {
        MergeStats {
            rects: merged.len(),
            dirty_area: boxes.iter().map(Rect::area).sum(),
            encoded_area: merged.iter().map(Rect::area).sum(),
        }
    }

    /// Encoded pixels that were not dirty.
    pub fn wasted_area(&self) -> u64 {
        self.encoded_area.saturating_sub(self.dirty_area)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCREEN: Rect = Rect::new(0, 0, 1920, 1080);

    fn covers(merged: &[Rect], r: &Rect) -> bool {
        // Every pixel of r in some merged rectangle; the boxes here are small, so count pixels.
        (r.y..r.bottom()).all(|y| (r.x..r.right()).all(|x| merged.iter().any(|m| m.contains(x, y))))
    }

    #[test]
    fn adjacent_full_tiles_become_one_rectangle() {
        let tiles: Vec<Rect> = (0..4)
            .flat_map(|ty| (0..5).map(move |tx| Rect::new(tx * 64, ty * 64, 64, 64)))
            .collect();
        let merged = merge_rects(&tiles, SCREEN, &MergeConfig::default());
        assert_eq!(merged, vec![Rect::new(0, 0, 320, 256)]);
        assert_eq!(MergeStats::measure(&tiles, &merged).wasted_area(), 0);
    }

    #[test]
    fn distant_glyphs_stay_apart() {
        let a = Rect::new(10, 10, 8, 16);
        let b = Rect::new(1500, 900, 8, 16);
        let merged = merge_rects(&[a, b], SCREEN, &MergeConfig::default());
        assert_eq!(merged.len(), 2);
        let stats = MergeStats::measure(&[a, b], &merged);
        // Alignment to 8 widens each 8x16 box by at most one 8-pixel block on each axis.
        assert!(stats.encoded_area <= 2 * 16 * 24, "{stats:?}");
    }

    #[test]
    fn neighbouring_glyphs_join() {
        let typed: Vec<Rect> = (0..10).map(|i| Rect::new(100 + i * 9, 50, 8, 16)).collect();
        let merged = merge_rects(&typed, SCREEN, &MergeConfig::default());
        assert_eq!(merged.len(), 1);
        assert!(typed.iter().all(|r| covers(&merged, r)));
    }

    #[test]
    fn alignment_stays_inside_the_screen() {
        let r = Rect::new(1917, 1077, 3, 3);
        let merged = merge_rects(
            &[r],
            SCREEN,
            &MergeConfig {
                align: 16,
                ..Default::default()
            },
        );
        assert_eq!(merged, vec![Rect::new(1904, 1072, 16, 8)]);
    }

    #[test]
    fn bounded_total_waste_keeps_a_strip_from_creeping_into_a_tall_rectangle() {
        // The corner of a dragged window: a tall box (the uncovered L in one tile), then a row
        // of 64x5 strip boxes. Each join alone wastes 64x44 < 64x64.
        let mut boxes = vec![Rect::new(618, 207, 22, 49)];
        boxes.extend((0..10).map(|i| Rect::new(640 + 64 * i, 207, 64, 5)));
        let area = |config: MergeConfig| -> u64 {
            let merged = merge_rects(&boxes, SCREEN, &config);
            assert!(boxes.iter().all(|r| covers(&merged, r)));
            merged.iter().map(Rect::area).sum()
        };
        let per_join = MergeConfig {
            align: 1,
            rect_cost: 64 * 64,
            max_rects: 64,
            bound_total_waste: false,
        };
        let total = MergeConfig {
            bound_total_waste: true,
            ..per_join
        };
        assert_eq!(area(per_join), 662 * 49, "crept along the strip");
        assert!(area(total) < 662 * 5 + 2 * 64 * 49, "{}", area(total));
    }

    #[test]
    fn max_rects_is_respected_and_everything_stays_covered() {
        let scattered: Vec<Rect> = (0..50)
            .map(|i| Rect::new((i * 37) % 1900, (i * 91) % 1060, 4, 4))
            .collect();
        let config = MergeConfig {
            max_rects: 5,
            ..Default::default()
        };
        let merged = merge_rects(&scattered, SCREEN, &config);
        assert!(merged.len() <= 5);
        assert!(scattered.iter().all(|r| covers(&merged, r)));
    }
}
