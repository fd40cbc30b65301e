//! Picking a codec for a region from cheap statistics.
//!
//! One pass over the pixels gathers two numbers: how many distinct colours there are (counted up
//! to a limit, so a photo stops the count early) and how often a pixel equals its left neighbour
//! (flat share). Screen content (text, UI) has few colours or long flat runs, and the lossless
//! path codes it exactly and small; photos and gradients have many colours and few runs, and AV1
//! codes them far smaller.
//!
//! | colours | flat share | area          | path     |
//! |---------|------------|---------------|----------|
//! | 1       |            |               | solid    |
//! | any     |            | < 32x32       | lossless |
//! | <= 256  | >= 0.4     |               | lossless |
//! | > 256   | >= 0.85    |               | lossless |
//! | other   |            |               | AV1      |
//!
//! Text and UI sit on flat backgrounds; a video or a photo of few colours (a dark sky, a
//! gradient) has few flat runs and is far smaller as AV1.
//!
//! Moving content ([`kind_for_moving`]: tiles that keep changing) is judged once more: a
//! blurred or smooth area (a film's out-of-focus background) has few colours and long flat runs
//! too, but its steps between neighbours are gentle, where text's are edges. Sent losslessly it
//! costs tens of kilobytes a capture; as AV1 a few hundred bytes, and refinement makes it exact
//! once it holds still.

use crate::codec::RegionKind;
use crate::frame::{FrameRef, Rect};

/// Most colours the palette form of the lossless path holds.
pub const PALETTE_MAX: usize = 256;

/// Below this many pixels a region goes to AV1 only when it is clearly photographic (more
/// colours than a palette holds, few flat pixels): a strip of wallpaper a moved window uncovers
/// costs some 13 bits a pixel losslessly.
pub const MIN_AV1_AREA: u64 = 32 * 32;

/// Below this many pixels a region is never worth an AV1 frame.
pub const MIN_PHOTO_AREA: u64 = 16 * 16;

/// Share of pixels equal to their left neighbour above which many-coloured content is still
/// coded losslessly.
pub const FLAT_SHARE_LOSSLESS: f64 = 0.85;

/// Share of flat pixels a palette-sized region needs to be coded losslessly.
pub const FLAT_SHARE_PALETTE: f64 = 0.4;

/// Largest step in any channel between neighbours that counts as gentle.
pub const GENTLE_STEP: u8 = 4;

/// Share of the pixels that differ from their left neighbour which, when their steps are
/// gentle, makes moving content smooth (not text).
pub const SMOOTH_SHARE: f64 = 0.3;

/// A small open-addressing set of BGRA colours, sized for a palette.
pub(crate) struct ColourSet {
    keys: [u32; Self::SLOTS],
    values: [u8; Self::SLOTS],
    used: [bool; Self::SLOTS],
    colours: Vec<u32>,
}

impl ColourSet {
    const SLOTS: usize = 1024;

    pub(crate) fn new() -> ColourSet {
        ColourSet {
            keys: [0; Self::SLOTS],
            values: [0; Self::SLOTS],
            used: [false; Self::SLOTS],
            colours: Vec::with_capacity(PALETTE_MAX),
        }
    }

    /// Index of `colour` in the palette, adding it while there is room; `None` when full.
    #[inline]
    pub(crate) fn index(&mut self, colour: u32) -> Option<u8> {
        let mut slot = (colour.wrapping_mul(0x9E37_79B1) >> 22) as usize;
        loop {
            if !self.used[slot] {
                if self.colours.len() == PALETTE_MAX {
                    return None;
                }
                self.used[slot] = true;
                self.keys[slot] = colour;
                self.values[slot] = self.colours.len() as u8;
                self.colours.push(colour);
                return Some(self.values[slot]);
            }
            if self.keys[slot] == colour {
                return Some(self.values[slot]);
            }
            slot = (slot + 1) & (Self::SLOTS - 1);
        }
    }

    /// The colours in index order.
    pub(crate) fn colours(&self) -> &[u32] {
        &self.colours
    }
}

#[inline]
pub(crate) fn pixel_u32(row: &[u8], x: usize) -> u32 {
    u32::from_le_bytes(row[x * 4..x * 4 + 4].try_into().expect("four bytes"))
}

/// Statistics of a region, from one pass over its pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegionStats {
    /// Distinct colours, counted up to [`PALETTE_MAX`] + 1.
    pub colours: usize,
    /// Share of pixels equal to their left neighbour, 0 to 1.
    pub flat_share: f64,
    /// Of the pixels that differ from their left neighbour, the share that differ by at most
    /// [`GENTLE_STEP`] in every channel, 0 to 1.
    pub gentle_share: f64,
}

/// Gathers [`RegionStats`] of `rect` in `frame`.
pub fn stats(frame: &FrameRef<'_>, rect: Rect) -> RegionStats {
    scan(frame, rect, PALETTE_MAX, false)
}

/// Distinct colours of `rect` in `frame`, counted up to `limit + 1` (the count stops there).
pub fn count_colours(frame: &FrameRef<'_>, rect: Rect, limit: usize) -> usize {
    scan(frame, rect, limit.min(PALETTE_MAX), true).colours
}

/// One pass over the pixels: colours up to `limit` (then `limit + 1`), and flat runs. With
/// `stop_early`, returns as soon as the colour count passes `limit` (flat share then partial).
fn scan(frame: &FrameRef<'_>, rect: Rect, limit: usize, stop_early: bool) -> RegionStats {
    let mut set = ColourSet::new();
    let mut overflow = false;
    let (mut flat, mut steps, mut gentle) = (0u64, 0u64, 0u64);
    for y in rect.y..rect.bottom() {
        let row = frame.row(y);
        let mut prev = None;
        for x in rect.x as usize..rect.right() as usize {
            let c = pixel_u32(row, x);
            if prev == Some(c) {
                flat += 1;
                continue;
            }
            if let Some(p) = prev {
                steps += 1;
                gentle += u64::from(is_gentle(p, c));
            }
            prev = Some(c);
            if !overflow && (set.index(c).is_none() || set.colours().len() > limit) {
                overflow = true;
                if stop_early {
                    break;
                }
            }
        }
        if overflow && stop_early {
            break;
        }
    }
    RegionStats {
        colours: if overflow {
            limit + 1
        } else {
            set.colours().len()
        },
        flat_share: if rect.is_empty() {
            1.0
        } else {
            flat as f64 / rect.area() as f64
        },
        gentle_share: if steps == 0 {
            0.0
        } else {
            gentle as f64 / steps as f64
        },
    }
}

/// Whether two BGRA pixels differ by at most [`GENTLE_STEP`] in each colour channel.
#[inline]
fn is_gentle(a: u32, b: u32) -> bool {
    (0..3).all(|i| {
        let (p, q) = ((a >> (8 * i)) as u8, (b >> (8 * i)) as u8);
        p.abs_diff(q) <= GENTLE_STEP
    })
}

/// The codec for `rect` of `frame` (see the module table).
pub fn classify(frame: &FrameRef<'_>, rect: Rect) -> RegionKind {
    kind_for(&stats(frame, rect), rect)
}

/// The codec for content that keeps changing: smooth areas go to AV1 whatever their colours
/// and flat runs, since their steps are not text's edges; otherwise as [`kind_for`].
pub fn kind_for_moving(stats: &RegionStats, rect: Rect) -> RegionKind {
    if stats.colours > 1 && rect.area() >= MIN_AV1_AREA && stats.gentle_share >= SMOOTH_SHARE {
        RegionKind::Av1
    } else {
        kind_for(stats, rect)
    }
}

/// The codec the module table gives for these statistics.
pub fn kind_for(stats: &RegionStats, rect: Rect) -> RegionKind {
    if stats.colours <= 1 {
        RegionKind::Solid
    } else if rect.area() < MIN_PHOTO_AREA
        || (rect.area() < MIN_AV1_AREA
            && !(stats.colours > PALETTE_MAX || (stats.colours > 64 && stats.flat_share < 0.3)))
        || (stats.colours <= PALETTE_MAX && stats.flat_share >= FLAT_SHARE_PALETTE)
        || stats.flat_share >= FLAT_SHARE_LOSSLESS
    {
        RegionKind::Lossless
    } else {
        RegionKind::Av1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Frame;

    #[test]
    fn counts_stop_at_the_limit() {
        let mut f = Frame::filled(40, 40, [1, 2, 3, 255]);
        assert_eq!(count_colours(&f.as_ref(), f.as_ref().bounds(), 10), 1);
        for i in 0..30 {
            f.set_pixel(i, 0, [i as u8, 0, 0, 255]);
        }
        assert_eq!(count_colours(&f.as_ref(), f.as_ref().bounds(), 100), 31);
        assert_eq!(count_colours(&f.as_ref(), f.as_ref().bounds(), 10), 11);
    }

    #[test]
    fn synthetic_content_goes_where_it_should() {
        let solid = Frame::filled(64, 64, [9, 9, 9, 255]);
        assert_eq!(
            classify(&solid.as_ref(), Rect::new(0, 0, 64, 64)),
            RegionKind::Solid
        );
        let mut noise = Frame::filled(64, 64, [0; 4]);
        let mut s = 1u32;
        for y in 0..64 {
            for x in 0..64 {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let b = s.to_le_bytes();
                noise.set_pixel(x, y, [b[1], b[2], b[3], 255]);
            }
        }
        assert_eq!(
            classify(&noise.as_ref(), Rect::new(0, 0, 64, 64)),
            RegionKind::Av1
        );
        // A sliver of it is still photographic enough for AV1; a speck is not.
        assert_eq!(
            classify(&noise.as_ref(), Rect::new(0, 0, 64, 8)),
            RegionKind::Av1
        );
        assert_eq!(
            classify(&noise.as_ref(), Rect::new(0, 0, 12, 12)),
            RegionKind::Lossless
        );
        // A sliver of text is not.
        let text = crate::codec::tests::text(64, 64);
        assert_eq!(
            classify(&text.as_ref(), Rect::new(0, 0, 64, 8)),
            RegionKind::Lossless
        );
    }

    /// A blurred background: a soft blob in 60 shades, long flat runs between gentle steps.
    fn blurred(size: u32) -> Frame {
        let mut f = Frame::filled(size, size, [0; 4]);
        let c = size as f64 / 2.0;
        for y in 0..size {
            for x in 0..size {
                let d = ((x as f64 - c).powi(2) + (y as f64 - c).powi(2)).sqrt() / c;
                let v = (60.0 * (1.0 - d.min(1.0))) as u8;
                f.set_pixel(x, y, [120 + v, 150 + v / 2, 200 - v, 255]);
            }
        }
        f
    }

    #[test]
    fn moving_blur_goes_to_av1_and_moving_text_stays_exact() {
        let blur = blurred(128);
        let all = Rect::new(0, 0, 128, 128);
        let stats = stats(&blur.as_ref(), all);
        assert!(
            stats.colours <= PALETTE_MAX && stats.flat_share >= FLAT_SHARE_PALETTE,
            "{stats:?}"
        );
        // Still, it is coded exactly (a palette image); moving, it is not text.
        assert_eq!(kind_for(&stats, all), RegionKind::Lossless);
        assert_eq!(kind_for_moving(&stats, all), RegionKind::Av1);
        // Text with anti-aliased edges (a shade between ink and paper beside each stroke).
        let mut text = crate::codec::tests::text(128, 128);
        for y in 0..128 {
            for x in 1..128 {
                let (left, here) = (text.as_ref().pixel(x - 1, y), text.as_ref().pixel(x, y));
                if left[0] == 212 && here[0] == 30 {
                    text.set_pixel(x, y, [121, 121, 121, 255]);
                }
            }
        }
        let s = super::stats(&text.as_ref(), all);
        assert_eq!(kind_for_moving(&s, all), RegionKind::Lossless, "{s:?}");
    }
}
