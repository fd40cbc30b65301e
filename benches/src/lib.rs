//! Shared pieces of the corpus tools (`corpus-report`, `corpus-eval`): loading clips, CPU time,
//! picture quality and comparison images.

pub mod capture;
pub mod desktop;
pub mod relay;
pub mod report;
pub mod stream;

use std::io::Write;

use anyhow::{Context, Result};
use beckon_engine::corpus::{ClipMeta, ClipReader};
use beckon_engine::frame::Frame;

/// User + system CPU seconds of process `pid` so far.
///
/// # Errors
/// When `/proc` has no such process or cannot be read.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The fields after the command name (which may hold spaces) start after its ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("unreadable /proc stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Ok(ticks as f64 / per_second)
}

/// Progress on stderr, overwritten in place; silent when disabled (for `--json`).
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
}

impl Progress {
    /// Progress that prints when `enabled`.
    pub fn new(enabled: bool) -> Progress {
        Progress { enabled }
    }

    /// Reports `done` of `total` for `stage`, every 25 and at the end.
    pub fn tick(&self, stage: &str, done: usize, total: usize) {
        if self.enabled && (done.is_multiple_of(25) || done == total) {
            eprint!("\r{stage}: {done}/{total}   ");
            if done == total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        }
    }
}

/// Process CPU time (user + system, all threads) in seconds.
pub fn cpu_time_s() -> f64 {
    // SAFETY: getrusage only writes the struct it is given, which is zeroed and ours.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Loads every frame of a clip into memory, so decompression stays out of timed passes.
///
/// # Errors
/// Any error of the clip reader, with the clip's path.
pub fn load_clip(path: &str, progress: &Progress) -> Result<(ClipMeta, Vec<Frame>)> {
    let mut reader = ClipReader::open(path)?;
    let meta = reader.meta().clone();
    let mut frames = Vec::with_capacity(meta.frames as usize);
    let mut frame = reader.blank_frame();
    while reader
        .read_frame(&mut frame)
        .with_context(|| format!("loading {path}"))?
    {
        frames.push(frame.clone());
        progress.tick("load", frames.len(), meta.frames as usize);
    }
    Ok((meta, frames))
}

/// Writes source | shown | amplified difference (x8) side by side as an RGB PNG.
///
/// # Errors
/// When the file cannot be written.
pub fn write_comparison_png(path: &str, source: &Frame, shown: &Frame) -> Result<()> {
    let (w, h) = (source.width() as usize, source.height() as usize);
    let mut rgb = vec![0u8; w * 3 * h * 3];
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) * 4;
            let (s, t) = (&source.data()[i..i + 4], &shown.data()[i..i + 4]);
            let row = y * w * 3 * 3;
            for c in 0..3 {
                let d = ((s[2 - c] as i32 - t[2 - c] as i32).unsigned_abs() * 8).min(255) as u8;
                rgb[row + x * 3 + c] = s[2 - c];
                rgb[row + (w + x) * 3 + c] = t[2 - c];
                rgb[row + (2 * w + x) * 3 + c] = d;
            }
        }
    }
    if let Some(dir) = std::path::Path::new(path).parent() {
        std::fs::create_dir_all(dir).ok();
    }
    let file = std::fs::File::create(path).with_context(|| format!("creating {path}"))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), (w * 3) as u32, h as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .with_context(|| format!("writing {path}"))?;
    writer
        .write_image_data(&rgb)
        .with_context(|| format!("writing {path}"))?;
    writer.finish().with_context(|| format!("writing {path}"))?;
    Ok(())
}
