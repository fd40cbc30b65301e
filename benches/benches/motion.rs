//! Move detection at 1920x1080: one scroll step of a real page (the `document` clip's text, tiled
//! to 1080p and scrolled by 37 rows) and an unchanged frame, each beside the tile diff that runs
//! before it. On the unchanged frame the detector gets no changed boxes and must cost nothing
//! measurable. `make bench` runs it.

use beckon_engine::corpus::ClipReader;
use beckon_engine::diff::TileDiff;
use beckon_engine::frame::{Frame, Rect};
use beckon_engine::motion::{MotionConfig, MotionDetector};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const W: u32 = 1920;
const H: u32 = 1080;

/// The document clip's first frame, tiled to 1920 x (1080 + 37), rows `top..top + 1080` of it.
fn page(top: u32) -> Frame {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/document.bgra.zst");
    let mut reader = ClipReader::open(path).expect("the committed document clip");
    let mut first = reader.blank_frame();
    reader.read_frame(&mut first).expect("one frame");
    let (sw, sh) = (first.width(), first.height());
    let mut f = Frame::filled(W, H, [0; 4]);
    for y in 0..H {
        for x in 0..W {
            f.set_pixel(x, y, first.as_ref().pixel(x % sw, (y + top) % sh));
        }
    }
    f
}

fn changed(diff: &mut TileDiff, a: &Frame, b: &Frame) -> Vec<Rect> {
    let mut dirty = Vec::new();
    diff.diff_into(&a.as_ref(), &b.as_ref(), &mut dirty)
        .unwrap();
    dirty.iter().map(|d| d.changed).collect()
}

fn motion(c: &mut Criterion) {
    let (before, after) = (page(0), page(37));
    let mut diff = TileDiff::new(64);
    let mut detector = MotionDetector::new(MotionConfig::default());
    let boxes = changed(&mut diff, &before, &after);
    let moves = detector.detect(&before.as_ref(), &after.as_ref(), &boxes);
    let copied: u64 = moves.iter().map(|m| m.rect.area()).sum();
    eprintln!(
        "scroll step: {} changed boxes, {} moves covering {copied} of {} pixels",
        boxes.len(),
        moves.len(),
        W * H
    );
    let mut group = c.benchmark_group("motion");
    group.bench_function("scroll_1080p/diff", |b| {
        b.iter(|| black_box(changed(&mut diff, &before, &after)))
    });
    group.bench_function("scroll_1080p/detect", |b| {
        b.iter(|| black_box(detector.detect(&before.as_ref(), &after.as_ref(), &boxes)))
    });
    let same = before.clone();
    group.bench_function("unchanged_1080p/diff", |b| {
        b.iter(|| black_box(changed(&mut diff, &before, &same)))
    });
    group.bench_function("unchanged_1080p/diff+detect", |b| {
        b.iter(|| {
            let boxes = changed(&mut diff, &before, &same);
            black_box(detector.detect(&before.as_ref(), &same.as_ref(), &boxes))
        })
    });
    group.finish();
}

criterion_group!(benches, motion);
criterion_main!(benches);
