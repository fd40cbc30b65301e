//! The committed corpus and the recorder that makes it.

use std::process::Command;

use beckon_engine::corpus::{ClipReader, read_meta};
use beckon_engine::diff::{CpuLevel, TileDiff};
use beckon_engine::frame::Frame;

use crate::util::{Scratch, committed_clips, processes_matching, repo};

#[test]
fn committed_clips_are_whole_and_large_enough() {
    let clips = committed_clips();
    assert!(
        clips.len() >= 4,
        "at least four clips are committed, found {clips:?}"
    );
    let mut total = 0;
    for clip in &clips {
        let meta = ClipReader::verify(clip).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            meta.width >= 1280 && meta.height >= 720,
            "{}: {}x{}",
            clip.display(),
            meta.width,
            meta.height
        );
        total += std::fs::metadata(clip).unwrap().len();
    }
    assert!(
        total <= 60_000_000,
        "committed clips take {total} bytes, more than 60 MB"
    );
}

/// Frames that differ from their predecessor, counted by whole-frame comparison: an oracle that
/// shares no code with the tile diff.
fn changed_frames_by_comparison(clip: &std::path::Path) -> (u64, Vec<u64>) {
    let mut reader = ClipReader::open(clip).unwrap();
    let mut prev = reader.blank_frame();
    let mut cur = reader.blank_frame();
    reader.read_frame(&mut prev).unwrap();
    let mut changed = Vec::new();
    let mut i = 1;
    while reader.read_frame(&mut cur).unwrap() {
        if prev.data() != cur.data() {
            changed.push(i);
        }
        std::mem::swap(&mut prev, &mut cur);
        i += 1;
    }
    (i, changed)
}

#[test]
fn tile_diff_levels_agree_on_every_frame_of_real_clips() {
    for name in ["terminal", "drag"] {
        let clip = repo().join(format!("corpus/{name}.bgra.zst"));
        let (frames, expected_changed) = changed_frames_by_comparison(&clip);
        let mut reader = ClipReader::open(&clip).unwrap();
        let mut prev = reader.blank_frame();
        let mut cur = reader.blank_frame();
        reader.read_frame(&mut prev).unwrap();
        let mut diffs: Vec<TileDiff> = CpuLevel::supported()
            .into_iter()
            .map(|l| TileDiff::with_level(64, l))
            .collect();
        let mut changed = Vec::new();
        let mut i = 1;
        while reader.read_frame(&mut cur).unwrap() {
            let results: Vec<_> = diffs
                .iter_mut()
                .map(|d| d.diff(&prev.as_ref(), &cur.as_ref()).unwrap())
                .collect();
            for (d, r) in diffs.iter().zip(&results) {
                assert_eq!(
                    r,
                    &results[0],
                    "{name} frame {i}: {:?} disagrees with scalar",
                    d.level()
                );
            }
            // Every changed pixel lies in its tile's box, and every box edge holds a change.
            for tile in &results[0] {
                let b = tile.changed;
                let edge_changed =
                    |x: u32, y: u32| prev.as_ref().pixel(x, y) != cur.as_ref().pixel(x, y);
                assert!(
                    (b.y..b.bottom()).any(|y| edge_changed(b.x, y)),
                    "{name} frame {i}: left edge of {b:?} is loose"
                );
                assert!(
                    (b.x..b.right()).any(|x| edge_changed(x, b.y)),
                    "{name} frame {i}: top edge of {b:?} is loose"
                );
            }
            if !results[0].is_empty() {
                changed.push(i);
            }
            std::mem::swap(&mut prev, &mut cur);
            i += 1;
        }
        assert_eq!(i, frames);
        assert_eq!(changed, expected_changed, "{name}: changed frames");
        assert!(
            !changed.is_empty() && (changed.len() as u64) < frames,
            "{name}: {} changed frames",
            changed.len()
        );
    }
}

/// The recorder drives a real application in a fresh Xvfb, writes a clip the reader accepts,
/// and leaves no process behind.
#[test]
fn recorder_writes_a_valid_clip_and_cleans_up() {
    let out = Scratch::new("record");
    let output = Command::new(repo().join("corpus/record"))
        .args([
            "terminal",
            "typing",
            "--size",
            "800x600",
            "--fps",
            "10",
            "--seconds",
            "3",
            "--out",
        ])
        .arg(out.path())
        .output()
        .expect("corpus/record runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "corpus/record failed:\n{stderr}");
    // It says which display it used; that server must be gone.
    let display = stderr
        .split("starting Xvfb on ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("the recorder names its display")
        .to_string();
    assert!(
        processes_matching(&format!("Xvfb {display} ")).is_empty(),
        "Xvfb {display} is still running"
    );
    assert!(
        processes_matching("beckon-record.").is_empty(),
        "a recorded application is still running"
    );

    let clip = out.path().join("typing.bgra.zst");
    let meta = read_meta(&clip).unwrap();
    assert_eq!(
        (meta.width, meta.height, meta.fps, meta.frames),
        (800, 600, 10, 30)
    );
    assert_eq!(ClipReader::verify(&clip).unwrap(), meta);

    // Typing happened: the first and last frames differ, in a small part of the screen.
    let mut reader = ClipReader::open(&clip).unwrap();
    let mut first = reader.blank_frame();
    let mut last: Frame = reader.blank_frame();
    reader.read_frame(&mut first).unwrap();
    while reader.read_frame(&mut last).unwrap() {}
    let dirty = TileDiff::new(64)
        .diff(&first.as_ref(), &last.as_ref())
        .unwrap();
    let tiles = 800usize.div_ceil(64) * 600usize.div_ceil(64);
    assert!(
        !dirty.is_empty() && dirty.len() < tiles / 2,
        "{} of {tiles} tiles changed",
        dirty.len()
    );
}

#[test]
fn recorder_refuses_nonsense_with_a_reason() {
    let output = Command::new(repo().join("corpus/record"))
        .args(["juggling", "x"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown scenario 'juggling'"));
}
