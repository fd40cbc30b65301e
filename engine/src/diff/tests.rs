//! Every kernel and every level against the naive oracle, on odd widths, distinct strides,
//! misaligned starts and single-pixel changes at tile corners.

use proptest::prelude::*;

use super::merge::{MergeConfig, merge_rects};
use super::*;

/// The slowest possible tile diff: every pixel, one at a time.
fn naive(before: &FrameRef<'_>, after: &FrameRef<'_>, tile: u32) -> Vec<DirtyTile> {
    let mut out = Vec::new();
    for row in 0..after.height().div_ceil(tile) {
        for column in 0..after.width().div_ceil(tile) {
            let mut r: Option<Rect> = None;
            for y in row * tile..((row + 1) * tile).min(after.height()) {
                for x in column * tile..((column + 1) * tile).min(after.width()) {
                    if before.pixel(x, y) != after.pixel(x, y) {
                        let p = Rect::new(x, y, 1, 1);
                        r = Some(r.map_or(p, |r| r.union(&p)));
                    }
                }
            }
            if let Some(changed) = r {
                out.push(DirtyTile {
                    column,
                    row,
                    changed,
                });
            }
        }
    }
    out
}

/// Two frames in one buffer each, with their own strides and start offsets (misalignment).
#[derive(Debug, Clone)]
struct Pair {
    width: u32,
    height: u32,
    tile: u32,
    before: (Vec<u8>, usize, usize),
    after: (Vec<u8>, usize, usize),
}

impl Pair {
    fn refs(&self) -> (FrameRef<'_>, FrameRef<'_>) {
        let (w, h) = (self.width, self.height);
        let (buf, offset, stride) = &self.before;
        let a = FrameRef::new(&buf[*offset..], w, h, *stride).unwrap();
        let (buf, offset, stride) = &self.after;
        let b = FrameRef::new(&buf[*offset..], w, h, *stride).unwrap();
        (a, b)
    }
}

fn buffer(height: u32, stride: usize, offset: usize, seed: u8) -> Vec<u8> {
    let len = offset + stride * height as usize;
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Copies the pixels of `before` into `after`'s layout, so the two start out equal.
fn copy_pixels(p: &mut Pair) {
    let row = p.width as usize * BYTES_PER_PIXEL;
    for y in 0..p.height as usize {
        let src = p.before.1 + y * p.before.2;
        let dst = p.after.1 + y * p.after.2;
        let pixels = p.before.0[src..src + row].to_vec();
        p.after.0[dst..dst + row].copy_from_slice(&pixels);
    }
}

fn set(p: &mut Pair, x: u32, y: u32, byte: usize, value: u8) {
    let at = p.after.1 + y as usize * p.after.2 + x as usize * BYTES_PER_PIXEL + byte;
    p.after.0[at] = value;
}

fn pair_strategy() -> impl Strategy<Value = Pair> {
    (
        1u32..200,
        1u32..70,
        1u32..70,
        0usize..40,
        0usize..40,
        0usize..32,
        0usize..32,
    )
        .prop_map(|(width, height, tile, pad_a, pad_b, off_a, off_b)| {
            let row = width as usize * BYTES_PER_PIXEL;
            let mut p = Pair {
                width,
                height,
                tile,
                before: (buffer(height, row + pad_a, off_a, 1), off_a, row + pad_a),
                after: (buffer(height, row + pad_b, off_b, 2), off_b, row + pad_b),
            };
            copy_pixels(&mut p);
            p
        })
}

fn check_all_levels(p: &Pair) -> Result<(), TestCaseError> {
    let (a, b) = p.refs();
    let expected = naive(&a, &b, p.tile);
    for level in CpuLevel::supported() {
        let got = TileDiff::with_level(p.tile, level).diff(&a, &b).unwrap();
        prop_assert_eq!(&got, &expected, "level {:?}", level);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn kernels_match_the_oracle(
        len in 0usize..600,
        offset_a in 0usize..32,
        offset_b in 0usize..32,
        changes in proptest::collection::vec((0usize..600, 0u8..4, 1u8..=255), 0..4),
    ) {
        let pixels = len / 4 * 4;
        let a: Vec<u8> = (0..pixels + offset_a).map(|i| i as u8).collect();
        let mut b = vec![0u8; offset_b];
        b.extend_from_slice(&a[offset_a..]);
        for (at, byte, flip) in changes {
            if pixels > 0 {
                let i = offset_b + (at % (pixels / 4)) * 4 + byte as usize;
                b[i] ^= flip;
            }
        }
        let (a, b) = (&a[offset_a..], &b[offset_b..]);
        let first = scalar::first_diff(a, b);
        let last = scalar::last_diff(a, b);
        for level in CpuLevel::supported() {
            prop_assert_eq!(super::first_diff(level, a, b), first, "first, {:?}", level);
            prop_assert_eq!(super::last_diff(level, a, b), last, "last, {:?}", level);
        }
    }

    #[test]
    fn equal_frames_have_no_dirty_tile(p in pair_strategy()) {
        let (a, b) = p.refs();
        for level in CpuLevel::supported() {
            prop_assert!(TileDiff::with_level(p.tile, level).diff(&a, &b).unwrap().is_empty());
        }
    }

    #[test]
    fn random_changes_match_the_naive_diff(
        mut p in pair_strategy(),
        changes in proptest::collection::vec((any::<u32>(), any::<u32>(), 0usize..4), 1..20),
    ) {
        for (x, y, byte) in changes {
            let (x, y) = (x % p.width, y % p.height);
            set(&mut p, x, y, byte, 0xA5 ^ (x as u8));
        }
        check_all_levels(&p)?;
    }

    /// Changes inside the given areas are found exactly as by the whole diff; tiles the areas
    /// do not touch are not looked at (a change there is missed, by contract).
    #[test]
    fn a_diff_within_areas_matches_the_oracle_inside_them(
        mut p in pair_strategy(),
        areas in proptest::collection::vec((any::<u32>(), any::<u32>(), 1u32..40, 1u32..40), 0..4),
        changes in proptest::collection::vec((any::<u32>(), any::<u32>(), 0usize..4), 1..20),
    ) {
        let areas: Vec<Rect> = areas
            .iter()
            .map(|&(x, y, w, h)| Rect::new(x % p.width, y % p.height, w, h))
            .collect();
        let (tile, width, height) = (p.tile, p.width, p.height);
        let touches = |x: u32, y: u32| {
            areas.iter().any(|a| {
                (a.x / tile..=(a.right().min(width) - 1) / tile).contains(&(x / tile))
                    && (a.y / tile..=(a.bottom().min(height) - 1) / tile).contains(&(y / tile))
            })
        };
        for (x, y, byte) in changes {
            let (x, y) = (x % width, y % height);
            set(&mut p, x, y, byte, 0xA5 ^ (x as u8));
        }
        let (a, b) = p.refs();
        let expected: Vec<DirtyTile> = naive(&a, &b, tile)
            .into_iter()
            .filter(|d| touches(d.changed.x, d.changed.y))
            .collect();
        for level in CpuLevel::supported() {
            let mut got = Vec::new();
            TileDiff::with_level(tile, level).diff_areas_into(&a, &b, &areas, &mut got).unwrap();
            prop_assert_eq!(&got, &expected, "level {:?}", level);
        }
    }

    #[test]
    fn one_pixel_at_a_tile_corner(mut p in pair_strategy(), corner in 0u32..4, pick in any::<u32>()) {
        let columns = p.width.div_ceil(p.tile);
        let rows = p.height.div_ceil(p.tile);
        let (tx, ty) = (pick % columns, (pick / 7) % rows);
        let x = if corner & 1 == 0 { tx * p.tile } else { ((tx + 1) * p.tile).min(p.width) - 1 };
        let y = if corner & 2 == 0 { ty * p.tile } else { ((ty + 1) * p.tile).min(p.height) - 1 };
        let old = p.before.0[p.before.1 + y as usize * p.before.2 + x as usize * 4 + 3];
        set(&mut p, x, y, 3, !old);
        let (a, b) = p.refs();
        let got = TileDiff::new(p.tile).diff(&a, &b).unwrap();
        prop_assert_eq!(got, vec![DirtyTile { column: tx, row: ty, changed: Rect::new(x, y, 1, 1) }]);
        check_all_levels(&p)?;
    }

    #[test]
    fn merged_rectangles_cover_every_changed_pixel(
        mut p in pair_strategy(),
        changes in proptest::collection::vec((any::<u32>(), any::<u32>()), 1..30),
        align in 1u32..17,
        rect_cost in 0u64..5000,
        max_rects in 1usize..10,
    ) {
        for (x, y) in &changes {
            let (x, y) = (x % p.width, y % p.height);
            set(&mut p, x, y, 0, 0x5A ^ (y as u8));
        }
        let (a, b) = p.refs();
        let dirty = TileDiff::new(p.tile).diff(&a, &b).unwrap();
        let boxes: Vec<Rect> = dirty.iter().map(|d| d.changed).collect();
        let config = MergeConfig { align, rect_cost, max_rects, bound_total_waste: rect_cost % 2 == 0 };
        let merged = merge_rects(&boxes, a.bounds(), &config);
        prop_assert!(merged.len() <= max_rects);
        for m in &merged {
            prop_assert!(a.bounds().contains_rect(m), "{:?} leaves the frame", m);
        }
        for y in 0..p.height {
            for x in 0..p.width {
                if a.pixel(x, y) != b.pixel(x, y) {
                    prop_assert!(merged.iter().any(|m| m.contains(x, y)), "({}, {}) uncovered", x, y);
                }
            }
        }
    }
}

#[test]
fn size_change_is_an_error_not_a_panic() {
    let a = Frame::filled(10, 10, [0; 4]);
    let b = Frame::filled(10, 11, [0; 4]);
    let err = TileDiff::new(8).diff(&a.as_ref(), &b.as_ref()).unwrap_err();
    assert_eq!(err.to_string(), "frames differ in size: 10x10 then 10x11");
}

#[test]
fn typed_glyph_gives_its_tight_box() {
    let before = Frame::filled(1280, 720, [30, 30, 30, 255]);
    let mut after = before.clone();
    for y in 100..116 {
        for x in 130..138 {
            after.set_pixel(x, y, [200, 200, 200, 255]);
        }
    }
    let dirty = TileDiff::new(64)
        .diff(&before.as_ref(), &after.as_ref())
        .unwrap();
    // Columns 128..192 hold the glyph: one tile, and only the glyph's 8x16 pixels.
    assert_eq!(
        dirty,
        vec![DirtyTile {
            column: 2,
            row: 1,
            changed: Rect::new(130, 100, 8, 16)
        }]
    );
}

#[test]
fn env_level_parses_and_lowers_only() {
    assert_eq!("AVX2".parse::<CpuLevel>(), Ok(CpuLevel::Avx2));
    assert!("neon".parse::<CpuLevel>().is_err());
    assert!(CpuLevel::supported().contains(&CpuLevel::Scalar));
    assert!(CpuLevel::detect() <= CpuLevel::native());
}

use crate::frame::Frame;
