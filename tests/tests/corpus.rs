//! The committed corpus and the recorder that makes it.

use std::process::Command;

use beckon_engine::corpus::{ClipReader, read_meta};
use beckon_engine::diff::{CpuLevel, TileDiff};
use beckon_engine::frame::Frame;

use crate::util::{Scratch, committed_clips, processes_matching, program, repo};

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

/// `make bench-report`'s last step as the Makefile runs it, on one clip with the committed
/// anchors: the tables, the plot and the README's summary table are written from the run.
#[test]
fn bench_report_writes_tables_plots_and_the_readme_table() {
    let scratch = Scratch::new("bench-report");
    let out = scratch.path().join("bench");
    let readme = scratch.path().join("README.md");
    let marked = std::fs::read_to_string(repo().join("README.md")).unwrap();
    std::fs::write(&readme, &marked).unwrap();
    let clip = repo().join("corpus/terminal.bgra.zst");
    let output = program("bench-report")
        .arg("--anchors")
        .arg(repo().join("docs/bench/anchors.csv"))
        .arg("--out")
        .arg(&out)
        .arg("--readme")
        .arg(&readme)
        .args(["--qualities", "40,60"])
        .arg(&clip)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bench-report failed: {stderr}");

    let page = std::fs::read_to_string(out.join("README.md")).unwrap();
    let row = page
        .lines()
        .find(|l| l.starts_with("| terminal |") && l.ends_with("| yes |"))
        .unwrap_or_else(|| panic!("no summary row for the terminal clip:\n{page}"));
    // Beckon's steady rate, libaom's from the anchors, and their ratio, which must agree.
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    let (beckon, aom): (f64, f64) = (cells[2].parse().unwrap(), cells[3].parse().unwrap());
    let ratio: f64 = cells[4].trim_end_matches('x').parse().unwrap();
    assert!((beckon / aom - ratio).abs() < 0.01, "{row}");
    assert!(
        page.contains("Beckon (quality 40)") && page.contains("no overlap"),
        "{page}"
    );

    let readme = std::fs::read_to_string(&readme).unwrap();
    assert!(readme.contains(row), "the README's table was not rewritten");
    assert_eq!(
        readme.lines().count(),
        marked.lines().count() - marked_table_rows(&marked) + 3,
        "only the table between the markers changes"
    );

    let png = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(out.join("terminal.png")).unwrap(),
    ));
    let info = png.read_info().unwrap();
    assert_eq!((info.info().width, info.info().height), (900, 560));
    let json = std::fs::read_to_string(out.join("beckon.json")).unwrap();
    let evals: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(evals.as_array().unwrap().len(), 2);
}

/// Lines between the README's bench-report markers.
fn marked_table_rows(readme: &str) -> usize {
    readme
        .lines()
        .skip_while(|l| !l.starts_with("<!-- bench-report: begin"))
        .skip(1)
        .take_while(|l| !l.starts_with("<!-- bench-report: end"))
        .count()
}
