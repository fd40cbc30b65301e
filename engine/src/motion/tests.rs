use super::*;
use crate::diff::TileDiff;
use crate::frame::Frame;

/// A seeded generator for test pictures.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }
}

/// A page of "text": dark glyph-like marks on white, in lines, all different.
fn page(width: u32, height: u32, seed: u64) -> Frame {
    let mut rng = Lcg(seed);
    let mut f = Frame::filled(width, height, [255, 255, 255, 255]);
    for line in 0..height / 14 {
        for x in (2..width.saturating_sub(8)).step_by(7) {
            if rng.next().is_multiple_of(5) {
                continue;
            }
            let bits = rng.next();
            for i in 0..20 {
                if bits & (1 << i) != 0 {
                    f.set_pixel(x + i % 5, line * 14 + 3 + i / 5 * 2, [20, 20, 20, 255]);
                }
            }
        }
    }
    f
}

/// Noise, like a photo's fine texture.
fn noise(width: u32, height: u32, seed: u64) -> Frame {
    let mut rng = Lcg(seed);
    let mut f = Frame::filled(width, height, [0, 0, 0, 255]);
    for y in 0..height {
        for x in 0..width {
            let v = rng.next();
            f.set_pixel(x, y, [v as u8, (v >> 8) as u8, (v >> 16) as u8, 255]);
        }
    }
    f
}

/// `src`'s block at (sx, sy) pasted at (dx, dy) of `dst`.
fn blit(dst: &mut Frame, src: &Frame, s: Rect, dx: u32, dy: u32) {
    for y in 0..s.height {
        for x in 0..s.width {
            dst.set_pixel(dx + x, dy + y, src.as_ref().pixel(s.x + x, s.y + y));
        }
    }
}

fn changed(previous: &Frame, current: &Frame) -> Vec<Rect> {
    let mut diff = TileDiff::new(64);
    let mut dirty = Vec::new();
    diff.diff_into(&previous.as_ref(), &current.as_ref(), &mut dirty)
        .unwrap();
    dirty.iter().map(|d| d.changed).collect()
}

/// Checks every move is exact, and returns the pixels they cover.
fn check_exact(previous: &Frame, current: &Frame, moves: &[Move]) -> u64 {
    for m in moves {
        assert!(
            same(&previous.as_ref(), m.source(), &current.as_ref(), m.rect),
            "{m:?} is not a copy"
        );
    }
    moves.iter().map(|m| m.rect.area()).sum()
}

/// A scroll by `dy` rows of the area left of a scrollbar, new text coming in at the bottom.
fn scrolled(previous: &Frame, dy: u32) -> Frame {
    let (w, h) = (previous.width(), previous.height());
    let mut current = page(w, h, 99);
    blit(
        &mut current,
        previous,
        Rect::new(0, dy, w - 40, h - dy),
        0,
        0,
    );
    // The scrollbar's thumb moves: different pixels at the right.
    for y in 0..h {
        for x in w - 40..w {
            current.set_pixel(x, y, [200, 200, 200, 255]);
        }
    }
    current
}

#[test]
fn a_vertical_scroll_is_found_and_every_copy_is_exact() {
    let previous = page(640, 480, 1);
    let current = scrolled(&previous, 37);
    let mut detector = MotionDetector::new(MotionConfig::default());
    let moves = detector.detect(
        &previous.as_ref(),
        &current.as_ref(),
        &changed(&previous, &current),
    );
    assert!(!moves.is_empty());
    assert!(moves.iter().all(|m| m.offset() == (0, -37)), "{moves:?}");
    let covered = check_exact(&previous, &current, &moves);
    // The scrolled area is 600 x 443; blocks straddling its edges are not copies.
    assert!(covered >= 576 * 416, "only {covered} pixels copied");
    // One copy beside the scrollbar, and the odd piece at its edges.
    assert!(
        moves.len() <= 4,
        "{} moves: merging failed: {moves:?}",
        moves.len()
    );
}

#[test]
fn a_sparse_page_scrolls_as_one_copy() {
    // Short words far apart: the blocks between them do not change when the page scrolls by a
    // line, so the changed blocks alone would make dozens of copies.
    let mut previous = Frame::filled(640, 480, [255, 255, 255, 255]);
    let words = page(640, 480, 5);
    for line in 0..480 / 14 {
        let x = 20 + (line * 97) % 500;
        blit(
            &mut previous,
            &words,
            Rect::new(x, line * 14, 40, 14),
            x,
            line * 14,
        );
    }
    let current = scrolled(&previous, 14);
    let mut detector = MotionDetector::new(MotionConfig::default());
    let moves = detector.detect(
        &previous.as_ref(),
        &current.as_ref(),
        &changed(&previous, &current),
    );
    let covered = check_exact(&previous, &current, &moves);
    assert!(moves.len() <= 2, "{} moves: {moves:?}", moves.len());
    assert!(covered >= 500 * 400, "only {covered} pixels copied");
}

#[test]
fn a_window_dragged_over_a_photo_is_found() {
    let wallpaper = noise(640, 480, 7);
    let window = page(200, 150, 3);
    let mut previous = wallpaper.clone();
    blit(&mut previous, &window, Rect::new(0, 0, 200, 150), 100, 100);
    let mut current = wallpaper.clone();
    blit(&mut current, &window, Rect::new(0, 0, 200, 150), 131, 86);
    let mut detector = MotionDetector::new(MotionConfig::default());
    let moves = detector.detect(
        &previous.as_ref(),
        &current.as_ref(),
        &changed(&previous, &current),
    );
    let window_moves: Vec<&Move> = moves.iter().filter(|m| m.offset() == (31, -14)).collect();
    let covered: u64 = window_moves.iter().map(|m| m.rect.area()).sum();
    check_exact(&previous, &current, &moves);
    assert!(
        covered >= 160 * 112,
        "only {covered} pixels of the window copied: {moves:?}"
    );
}

#[test]
fn a_near_copy_that_differs_in_one_pixel_is_not_copied() {
    let previous = page(640, 480, 1);
    let mut current = scrolled(&previous, 37);
    let (x, y) = (250, 200);
    let p = current.as_ref().pixel(x, y);
    current.set_pixel(x, y, [p[0] ^ 1, p[1], p[2], 255]);
    let mut detector = MotionDetector::new(MotionConfig::default());
    let moves = detector.detect(
        &previous.as_ref(),
        &current.as_ref(),
        &changed(&previous, &current),
    );
    assert!(!moves.is_empty());
    check_exact(&previous, &current, &moves);
    assert!(
        moves.iter().all(|m| !m.rect.contains(x, y)),
        "the changed pixel was sent as a copy"
    );
}

#[test]
fn small_changes_and_still_screens_cost_no_search() {
    let previous = page(640, 480, 1);
    let mut detector = MotionDetector::new(MotionConfig::default());
    assert!(
        detector
            .detect(&previous.as_ref(), &previous.as_ref(), &[])
            .is_empty()
    );
    let mut typed = previous.clone();
    for i in 0..6 {
        typed.set_pixel(300 + i, 300, [0, 0, 0, 255]);
    }
    let boxes = changed(&previous, &typed);
    assert!(
        detector
            .detect(&previous.as_ref(), &typed.as_ref(), &boxes)
            .is_empty()
    );
    assert!(detector.votes.is_empty() && detector.samples.is_empty());
}

#[test]
fn new_content_that_copies_nothing_gives_no_moves() {
    let previous = page(640, 480, 1);
    let current = noise(640, 480, 5);
    let mut detector = MotionDetector::new(MotionConfig::default());
    let moves = detector.detect(
        &previous.as_ref(),
        &current.as_ref(),
        &changed(&previous, &current),
    );
    assert!(moves.is_empty(), "{moves:?}");
}

#[test]
fn copied_spans_match_a_pixel_by_pixel_walk() {
    let mut rng = Lcg(42);
    let previous = noise(300, 40, 3);
    for case in 0..200 {
        // The current row: the previous frame shifted by (dx, dy), broken in random runs.
        let (dx, dy) = (i64::from(rng.next() % 9) - 4, i64::from(rng.next() % 9) - 4);
        let mut current = noise(300, 40, 100 + case);
        let y = 10 + rng.next() % 20;
        let mut x = 0;
        while x < 300 {
            let run = 1 + rng.next() % 70;
            let copy = rng.next().is_multiple_of(2);
            for xi in x..(x + run).min(300) {
                let sx = i64::from(xi) - dx;
                if copy && (0..300).contains(&sx) {
                    let p = previous
                        .as_ref()
                        .pixel(sx as u32, (i64::from(y) - dy) as u32);
                    current.set_pixel(xi, y, p);
                }
            }
            x += run;
        }
        let area = Rect::new(4, 0, 292, 40);
        let spans = copied_spans(
            &previous.as_ref(),
            &current.as_ref(),
            area,
            y,
            (dx, dy),
            MIN_SPAN,
        );
        // The oracle: every pixel on its own.
        let mut expected = Vec::new();
        let mut start = None;
        for xi in area.x..=area.right() {
            let same = xi < area.right()
                && current.as_ref().pixel(xi, y)
                    == previous
                        .as_ref()
                        .pixel((i64::from(xi) - dx) as u32, (i64::from(y) - dy) as u32);
            match (same, start) {
                (true, None) => start = Some(xi),
                (false, Some(s)) => {
                    if xi - s >= MIN_SPAN {
                        expected.push((s, xi));
                    }
                    start = None;
                }
                _ => {}
            }
        }
        assert_eq!(spans, expected, "case {case}: offset ({dx}, {dy}), row {y}");
    }
}
