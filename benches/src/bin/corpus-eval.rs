//! `corpus-eval`: the whole pipeline over a recorded clip, measured.
//!
//! ```text
//! cargo run --release -p beckon-benches --bin corpus-eval -- CLIP.bgra.zst [--quality 0..100]
//!     [--json] [--png FILE] [--trace]
//! ```
//!
//! Every frame of the clip is loaded first (decompression is not the encoder's cost), then:
//! 1. **encode pass**: each frame goes through [`ScreenEncoder::encode`] at its capture time
//!    (`i / fps`), then [`ScreenEncoder::refine`]; after the last frame, time runs on until
//!    refinement has nothing left. No rate limit. Process CPU time (all threads) and wall time per
//!    changed frame are measured.
//! 2. **decode pass**: the updates, through their wire format, are applied in order to a
//!    [`Framebuffer`] (CPU time measured), and after each frame the framebuffer is compared with
//!    the source frame (not timed).
//!
//! For every frame in which a video stream showed a picture, the lag is how many frames back the
//! source looked most like it (0: the picture just captured).
//!
//! The report's keys are documented in the README (section *Reading corpus-eval*).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use beckon_benches::{Progress, cpu_time_s, load_clip, write_comparison_png};
use beckon_engine::Update;
use beckon_engine::codec::RegionKind;
use beckon_engine::frame::{Frame, Rect, psnr_from_mse, rgb_squared_error};
use beckon_engine::pipeline::{Framebuffer, PipelineConfig, ScreenEncoder};
use serde_json::json;

struct Options {
    clip: String,
    quality: Option<u8>,
    json: bool,
    png: Option<String>,
    trace: bool,
}

fn parse_args() -> Result<Options> {
    let mut clip = None;
    let mut options = Options {
        clip: String::new(),
        quality: None,
        json: false,
        png: None,
        trace: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => options.json = true,
            "--trace" => options.trace = true,
            "--quality" => {
                let v = args
                    .next()
                    .context("--quality needs a number from 0 to 100")?;
                let q: u8 = v
                    .parse()
                    .with_context(|| format!("--quality {v:?} is not a number from 0 to 100"))?;
                if q > 100 {
                    bail!("--quality {q} is above 100");
                }
                options.quality = Some(q);
            }
            "--png" => options.png = Some(args.next().context("--png needs a file name")?),
            "-h" | "--help" => {
                println!(
                    "usage: corpus-eval CLIP.bgra.zst [--quality 0..100] [--json] [--png FILE] [--trace]"
                );
                std::process::exit(0);
            }
            _ if arg.starts_with("--") => bail!("unknown option {arg} (try --help)"),
            _ if clip.is_none() => clip = Some(arg),
            _ => bail!("one clip at a time: {arg} is one too many"),
        }
    }
    options.clip =
        clip.context("no clip given: pass CLIP.bgra.zst (for example corpus/terminal.bgra.zst)")?;
    Ok(options)
}

/// One update as sent: after which frame, whether it was refinement, its wire bytes.
struct Sent {
    after_frame: usize,
    refine: bool,
    wire: Vec<u8>,
}

fn run() -> Result<()> {
    let options = parse_args()?;
    let progress = Progress::new(!options.json);
    let (meta, frames) = load_clip(&options.clip, &progress)?;
    let name = std::path::Path::new(&options.clip)
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .trim_end_matches(".bgra.zst")
                .to_string()
        })
        .unwrap_or_else(|| options.clip.clone());
    let mut config = PipelineConfig::default();
    if let Some(q) = options.quality {
        config.codec.quality = q;
    }
    let frame_us = |i: usize| i as u64 * 1_000_000 / meta.fps as u64;

    // Encode pass.
    let mut encoder = ScreenEncoder::new(config);
    let mut sent: Vec<Sent> = Vec::new();
    let mut changed_ms: Vec<f64> = Vec::new();
    let mut first_update_ms = 0.0;
    let cpu_start = cpu_time_s();
    for (i, frame) in frames.iter().enumerate() {
        let start = Instant::now();
        let update = encoder.encode(&frame.as_ref(), frame_us(i))?;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        if let Some(update) = update {
            if sent.is_empty() {
                first_update_ms = ms;
            } else {
                changed_ms.push(ms);
            }
            sent.push(Sent {
                after_frame: i,
                refine: false,
                wire: update.encode(),
            });
        }
        if let Some(update) = encoder.refine(frame_us(i))? {
            sent.push(Sent {
                after_frame: i,
                refine: true,
                wire: update.encode(),
            });
        }
        progress.tick("encode", i + 1, frames.len());
    }
    // The clip has ended: time runs on until nothing is left to refine.
    let last = frames.len() - 1;
    while let Some(at) = encoder.next_refine_at() {
        if let Some(update) = encoder.refine(at)? {
            sent.push(Sent {
                after_frame: last,
                refine: true,
                wire: update.encode(),
            });
        }
    }
    let encode_cpu_s = cpu_time_s() - cpu_start;

    // Decode pass: apply is timed, comparison is not.
    let mut framebuffer = Framebuffer::new();
    let mut decode_cpu_s = 0.0;
    let mut mse_sum = 0.0;
    let mut worst = (f64::INFINITY, 0usize, None::<Frame>);
    let mut exact_frames = 0u64;
    let mut next = 0;
    let mut regions: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    let mut lags: Vec<usize> = Vec::new();
    for (i, source) in frames.iter().enumerate() {
        let cpu = cpu_time_s();
        let mut streamed: Option<Rect> = None;
        while next < sent.len() && sent[next].after_frame == i {
            let update = Update::decode(&sent[next].wire)?;
            framebuffer.apply(&update)?;
            for r in &update.regions {
                if r.kind == RegionKind::Video && r.payload.len() > VIDEO_HEADER_MAX {
                    streamed = Some(streamed.map_or(r.rect, |s| s.union(&r.rect)));
                }
            }
            if options.trace {
                trace(i, sent[next].refine, &update);
            }
            for r in &update.regions {
                let e = regions.entry(r.kind.name()).or_default();
                e.0 += 1;
                e.1 += r.payload.len() as u64;
            }
            next += 1;
        }
        decode_cpu_s += cpu_time_s() - cpu;
        let shown = framebuffer
            .frame()
            .context("no update before the first frame was shown")?;
        if let Some(rect) = streamed {
            lags.push(lag(&frames, i, shown, rect));
            if options.trace {
                eprintln!("frame {i} video lag {}", lags[lags.len() - 1]);
            }
        }
        let mse = rgb_squared_error(&source.as_ref(), &shown.as_ref(), source.as_ref().bounds())
            as f64
            / (source.width() as f64 * source.height() as f64 * 3.0);
        mse_sum += mse;
        if mse == 0.0 {
            exact_frames += 1;
        }
        let psnr = psnr_from_mse(mse);
        if psnr < worst.0 {
            worst = (psnr, i, Some(shown.clone()));
        }
        progress.tick("decode", i + 1, frames.len());
    }
    // Whatever was sent after the last frame (final refinement) is applied too.
    for s in &sent[next..] {
        let update = Update::decode(&s.wire)?;
        framebuffer.apply(&update)?;
        for r in &update.regions {
            let e = regions.entry(r.kind.name()).or_default();
            e.0 += 1;
            e.1 += r.payload.len() as u64;
        }
    }
    let final_exact = framebuffer.frame() == frames.last();

    if let Some(path) = &options.png {
        let (psnr, i, shown) = match worst {
            (p, i, Some(f)) => (p, i, f),
            _ => (
                100.0,
                frames.len() / 2,
                framebuffer.frame().expect("applied").clone(),
            ),
        };
        write_comparison_png(path, &frames[i], &shown)?;
        if !options.json {
            eprintln!("wrote {path}: frame {i} ({psnr:.1} dB), source | shown | difference x8");
        }
    }

    let duration_s = meta.duration_secs();
    let bytes: u64 = sent.iter().map(|s| s.wire.len() as u64).sum();
    let first_update_bytes = sent.first().map_or(0, |s| s.wire.len() as u64);
    let refine_bytes: u64 = sent
        .iter()
        .filter(|s| s.refine)
        .map(|s| s.wire.len() as u64)
        .sum();
    let kbps = |b: u64| b as f64 * 8.0 / 1000.0 / duration_s;
    changed_ms.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if changed_ms.is_empty() {
            0.0
        } else {
            changed_ms[((changed_ms.len() - 1) as f64 * p).round() as usize]
        }
    };
    for kind in RegionKind::ALL {
        regions.entry(kind.name()).or_default();
    }
    let lag_mean = if lags.is_empty() {
        0.0
    } else {
        lags.iter().sum::<usize>() as f64 / lags.len() as f64
    };
    let report = json!({
        "clip": name,
        "width": meta.width,
        "height": meta.height,
        "fps": meta.fps,
        "frames": frames.len(),
        "changed_frames": changed_ms.len() + 1,
        "quality": config.codec.quality,
        "bytes": bytes,
        "kbps": kbps(bytes),
        "first_update_bytes": first_update_bytes,
        "first_update_ms": first_update_ms,
        "refine_bytes": refine_bytes,
        "kbps_steady": kbps(bytes - first_update_bytes - refine_bytes),
        "psnr_rgb": psnr_from_mse(mse_sum / frames.len() as f64),
        "psnr_rgb_min": worst.0.min(100.0),
        "exact_frames": exact_frames,
        "final_exact": final_exact,
        "encode_cpu_ms_per_frame": encode_cpu_s * 1000.0 / frames.len() as f64,
        "decode_cpu_ms_per_frame": decode_cpu_s * 1000.0 / frames.len() as f64,
        "encode_ms_p50": pct(0.5),
        "encode_ms_p99": pct(0.99),
        "video_pictures": lags.len(),
        "video_lag_frames_mean": lag_mean,
        "video_lag_frames_max": lags.iter().max().copied().unwrap_or(0),
        "regions": regions.iter().map(|(k, v)| (k.to_string(), json!(v.0))).collect::<serde_json::Map<_, _>>(),
        "region_bytes": regions.iter().map(|(k, v)| (k.to_string(), json!(v.1))).collect::<serde_json::Map<_, _>>(),
    });
    if options.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

/// A video payload this long or shorter carries no picture (stream id and flags only).
const VIDEO_HEADER_MAX: usize = 6;

/// How many frames before `i` the source looked most like what is shown in `rect` (the picture a
/// stream shows trails the capture by that much). Ties and near ties (within
/// [`LAG_TOLERANCE`]) go to the later frame: a stuttering player repeats frames, and a coarse
/// picture of slow motion may look a little more like the frame before its own.
fn lag(frames: &[Frame], i: usize, shown: &Frame, rect: Rect) -> usize {
    let errors: Vec<u64> = (0..=i.min(LAG_MAX))
        .map(|back| rgb_squared_error(&frames[i - back].as_ref(), &shown.as_ref(), rect))
        .collect();
    let least = errors.iter().copied().min().unwrap_or(0) as f64;
    errors
        .iter()
        .position(|e| *e as f64 <= least * (1.0 + LAG_TOLERANCE))
        .unwrap_or(0)
}

/// How much more error than the least a later frame may show and still be taken for the one shown.
const LAG_TOLERANCE: f64 = 0.1;

/// The longest lag looked for, in frames.
const LAG_MAX: usize = 8;

/// One line per update on stderr: which frame, and every region's path, place and size.
fn trace(frame: usize, refine: bool, update: &Update) {
    let regions: Vec<String> = update
        .regions
        .iter()
        .map(|r| {
            format!(
                "{}@{},{} {}x{}={}B",
                r.kind.name(),
                r.rect.x,
                r.rect.y,
                r.rect.width,
                r.rect.height,
                r.payload.len()
            )
        })
        .collect();
    eprintln!(
        "frame {frame}{} {}B: {}",
        if refine { " refine" } else { "" },
        update.wire_size(),
        regions.join(" ")
    );
}

fn print_table(r: &serde_json::Value) {
    let f = |k: &str| r[k].as_f64().unwrap_or(0.0);
    println!(
        "{} ({}x{} at {} fps, {} frames, {} changed, quality {})",
        r["clip"].as_str().unwrap_or("?"),
        r["width"],
        r["height"],
        r["fps"],
        r["frames"],
        r["changed_frames"],
        r["quality"]
    );
    println!(
        "  bitrate      {:>9.1} kbit/s in all, {:.1} kbit/s steady (without first screen and refinement)",
        f("kbps"),
        f("kbps_steady")
    );
    println!(
        "  bytes        {:>9} in all: first screen {}, refinement {}",
        r["bytes"], r["first_update_bytes"], r["refine_bytes"]
    );
    println!(
        "  first screen {:>9.1} ms to encode (all cores)",
        f("first_update_ms")
    );
    println!(
        "  quality      {:>9.2} dB PSNR-RGB mean, {:.2} dB worst frame; {} exact frames; exact at the end: {}",
        f("psnr_rgb"),
        f("psnr_rgb_min"),
        r["exact_frames"],
        r["final_exact"]
    );
    println!(
        "  encode       {:>9.2} ms CPU per frame; wall per changed frame p50 {:.2} ms, p99 {:.2} ms",
        f("encode_cpu_ms_per_frame"),
        f("encode_ms_p50"),
        f("encode_ms_p99")
    );
    println!(
        "  decode       {:>9.2} ms CPU per frame",
        f("decode_cpu_ms_per_frame")
    );
    println!(
        "  video lag    {:>9.2} frames mean, {} at most, over {} stream pictures",
        f("video_lag_frames_mean"),
        r["video_lag_frames_max"],
        r["video_pictures"]
    );
    let kinds: Vec<String> = r["regions"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k} {v} ({} B)", r["region_bytes"][k]))
                .collect()
        })
        .unwrap_or_default();
    println!("  regions      {}", kinds.join(", "));
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corpus-eval: {e:#}");
            ExitCode::FAILURE
        }
    }
}
