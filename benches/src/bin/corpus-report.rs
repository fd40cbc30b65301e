//! `corpus-report`: what the tile diff sees in each clip, from a real run over every frame.
//!
//! ```text
//! cargo run --release -p beckon-benches --bin corpus-report -- [--json] [--tile N] CLIP...
//! ```
//!
//! For each clip: frames, changed frames, mean and max dirty tiles per changed frame, changed
//! pixels (exact count, and inside the tight dirty boxes), the rectangles the merge makes of them,
//! and the diff time per frame. Frames are decompressed outside the timed part: only the diff is
//! timed, as a live capture would hand it frames.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use beckon_benches::Progress;
use beckon_engine::corpus::ClipReader;
use beckon_engine::diff::merge::{MergeConfig, MergeStats, merge_rects};
use beckon_engine::diff::{DEFAULT_TILE_SIZE, TileDiff};
use beckon_engine::frame::{Frame, Rect};
use serde_json::json;

struct Options {
    json: bool,
    tile: u32,
    clips: Vec<String>,
}

fn parse_args() -> Result<Options> {
    let mut options = Options {
        json: false,
        tile: DEFAULT_TILE_SIZE,
        clips: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => options.json = true,
            "--tile" => {
                let v = args.next().context("--tile needs a number of pixels")?;
                options.tile = v
                    .parse()
                    .with_context(|| format!("--tile {v:?} is not a number"))?;
                if options.tile == 0 {
                    bail!("--tile must be at least 1");
                }
            }
            "-h" | "--help" => {
                println!("usage: corpus-report [--json] [--tile N] CLIP.bgra.zst...");
                std::process::exit(0);
            }
            _ if arg.starts_with("--") => bail!("unknown option {arg} (try --help)"),
            _ => options.clips.push(arg),
        }
    }
    if options.clips.is_empty() {
        bail!("no clip given: pass one or more CLIP.bgra.zst (for example corpus/*.bgra.zst)");
    }
    Ok(options)
}

/// What one clip gave.
struct ClipReport {
    name: String,
    width: u32,
    height: u32,
    fps: u32,
    frames: u64,
    changed_frames: u64,
    dirty_tiles: Vec<usize>,
    changed_pixels: u64,
    box_pixels: u64,
    merged_rects: u64,
    encoded_pixels: u64,
    diff_us: Vec<f64>,
    level: &'static str,
}

fn count_changed(a: &Frame, b: &Frame) -> u64 {
    a.data()
        .chunks_exact(4)
        .zip(b.data().chunks_exact(4))
        .filter(|(p, q)| p != q)
        .count() as u64
}

fn run_clip(path: &str, tile: u32, progress: &Progress) -> Result<ClipReport> {
    let mut reader = ClipReader::open(path)?;
    let meta = reader.meta().clone();
    let mut prev = reader.blank_frame();
    let mut cur = reader.blank_frame();
    if !reader.read_frame(&mut prev)? {
        bail!("{path}: holds no frame");
    }
    let mut diff = TileDiff::new(tile);
    let mut dirty = Vec::new();
    let merge = MergeConfig::default();
    let name = std::path::Path::new(path)
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .trim_end_matches(".bgra.zst")
                .to_string()
        })
        .unwrap_or_else(|| path.to_string());
    let mut report = ClipReport {
        name,
        width: meta.width,
        height: meta.height,
        fps: meta.fps,
        frames: meta.frames,
        changed_frames: 0,
        dirty_tiles: Vec::new(),
        changed_pixels: 0,
        box_pixels: 0,
        merged_rects: 0,
        encoded_pixels: 0,
        diff_us: Vec::with_capacity(meta.frames as usize),
        level: diff.level().name(),
    };
    while reader.read_frame(&mut cur)? {
        let start = Instant::now();
        diff.diff_into(&prev.as_ref(), &cur.as_ref(), &mut dirty)?;
        report.diff_us.push(start.elapsed().as_secs_f64() * 1e6);
        if !dirty.is_empty() {
            let boxes: Vec<Rect> = dirty.iter().map(|d| d.changed).collect();
            let merged = merge_rects(&boxes, cur.as_ref().bounds(), &merge);
            let stats = MergeStats::measure(&boxes, &merged);
            report.changed_frames += 1;
            report.dirty_tiles.push(dirty.len());
            report.changed_pixels += count_changed(&prev, &cur);
            report.box_pixels += stats.dirty_area;
            report.merged_rects += stats.rects as u64;
            report.encoded_pixels += stats.encoded_area;
        }
        std::mem::swap(&mut prev, &mut cur);
        progress.tick(
            &report.name,
            reader.position() as usize,
            meta.frames as usize,
        );
    }
    Ok(report)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

impl ClipReport {
    fn mean_tiles(&self) -> f64 {
        if self.dirty_tiles.is_empty() {
            0.0
        } else {
            self.dirty_tiles.iter().sum::<usize>() as f64 / self.dirty_tiles.len() as f64
        }
    }

    fn json(&self) -> serde_json::Value {
        let mut t = self.diff_us.clone();
        t.sort_by(f64::total_cmp);
        let mean = t.iter().sum::<f64>() / t.len().max(1) as f64;
        json!({
            "clip": self.name,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "frames": self.frames,
            "changed_frames": self.changed_frames,
            "dirty_tiles_mean": self.mean_tiles(),
            "dirty_tiles_max": self.dirty_tiles.iter().max().copied().unwrap_or(0),
            "tiles_per_frame": self.width.div_ceil(64) * self.height.div_ceil(64),
            "changed_pixels": self.changed_pixels,
            "dirty_box_pixels": self.box_pixels,
            "merged_rects": self.merged_rects,
            "encoded_pixels": self.encoded_pixels,
            "diff_level": self.level,
            "diff_ms_mean": mean / 1000.0,
            "diff_ms_p50": percentile(&t, 0.5) / 1000.0,
            "diff_ms_max": t.last().copied().unwrap_or(0.0) / 1000.0,
        })
    }
}

fn run() -> Result<()> {
    let options = parse_args()?;
    let progress = Progress::new(!options.json);
    let mut reports = Vec::new();
    for clip in &options.clips {
        reports.push(
            run_clip(clip, options.tile, &progress)
                .with_context(|| format!("reporting on {clip}"))?,
        );
    }
    if options.json {
        let all: Vec<_> = reports.iter().map(ClipReport::json).collect();
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(());
    }
    println!(
        "{:<10} {:>9} {:>6} {:>7} {:>10} {:>9} {:>12} {:>12} {:>8} {:>10} {:>10}",
        "clip",
        "size",
        "frames",
        "changed",
        "tiles/chg",
        "max tiles",
        "changed px",
        "box px",
        "rects",
        "diff ms",
        "diff max"
    );
    for r in &reports {
        let j = r.json();
        println!(
            "{:<10} {:>9} {:>6} {:>7} {:>10.1} {:>9} {:>12} {:>12} {:>8} {:>10.3} {:>10.3}",
            r.name,
            format!("{}x{}", r.width, r.height),
            r.frames,
            r.changed_frames,
            r.mean_tiles(),
            j["dirty_tiles_max"],
            r.changed_pixels,
            r.box_pixels,
            r.merged_rects,
            j["diff_ms_mean"].as_f64().unwrap_or(0.0),
            j["diff_ms_max"].as_f64().unwrap_or(0.0),
        );
    }
    println!(
        "\ntiles are {0}x{0}; 'changed px' counts pixels that differ from the previous frame, 'box px' the \
         pixels inside the tight dirty boxes, 'rects' the rectangles the merge makes of them (all summed over \
         the clip); diff times are per frame, kernel {1}.",
        options.tile,
        reports.first().map_or("-", |r| r.level)
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corpus-report: {e:#}");
            ExitCode::FAILURE
        }
    }
}
