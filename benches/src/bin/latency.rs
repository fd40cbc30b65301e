//! `latency`: capture-to-framebuffer latency and handshake time, over loopback or a constrained
//! link, for one or more clips.
//!
//! ```text
//! cargo run --release -p beckon-benches --bin latency -- [--link loopback|a|b] [--still]
//!     CLIP.bgra.zst...
//! ```
//!
//! `--still` shares only each clip's first frame, held still: a desktop the helper first sees,
//! whose picture sharpens (to 50 dB, then exact) while nothing changes.
//!
//! Link `a` is 1 Mbit/s, 50 ms, 1 % loss; `b` 256 kbit/s, 150 ms (through the seeded UDP relay
//! of `beckon_benches::relay`). The invitation uses the production argon2id parameters (64 MiB,
//! 3 passes), so the handshake time includes stretching the password.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use beckon_benches::relay::LinkSpec;
use beckon_benches::stream::{StreamOptions, run};
use beckon_engine::session::auth::StretchParams;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let result = runtime
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(main_async()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latency: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn main_async() -> Result<()> {
    let mut link = None;
    let mut name = "loopback";
    let mut clips = Vec::new();
    let mut still = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--link" => {
                let v = args.next().context("--link needs loopback, a or b")?;
                (link, name) = match v.as_str() {
                    "loopback" => (None, "loopback"),
                    "a" => (
                        Some(LinkSpec::one_megabit()),
                        "a: 1 Mbit/s, 50 ms, 1 % loss",
                    ),
                    "b" => (Some(LinkSpec::slow()), "b: 256 kbit/s, 150 ms"),
                    other => bail!("unknown link {other:?}: loopback, a or b"),
                };
            }
            "--still" => still = true,
            _ if arg.starts_with("--") => bail!("unknown option {arg}"),
            _ => clips.push(arg),
        }
    }
    if clips.is_empty() {
        bail!("no clip given: pass CLIP.bgra.zst (for example corpus/terminal.bgra.zst)");
    }
    let mut rng = rand_core::OsRng;
    for clip in clips {
        let options = StreamOptions {
            clip: clip.clone().into(),
            link,
            params: StretchParams::generate(&mut rng),
            settle: Duration::from_secs(if still { 300 } else { 30 }),
            frames: still.then_some(1),
        };
        let r = run(options)
            .await
            .with_context(|| format!("streaming {clip}"))?;
        let n = r.samples.len();
        // The first update is the whole screen; the rest are what changes cost.
        let (p50, p95, p99) = (
            r.percentile(1, n, 0.5),
            r.percentile(1, n, 0.95),
            r.percentile(1, n, 0.99),
        );
        let tenth = (n / 10).max(1);
        let fresh = (
            r.fresh_percentile(0.5),
            r.fresh_percentile(0.95),
            r.fresh_percentile(0.99),
        );
        let refinements = r.samples.iter().filter(|s| s.refinement).count();
        println!(
            "{clip} over {name}: handshake {:.0} ms; {} updates ({refinements} refinement), {:.0} kbit/s; \
             typing (fresh updates) p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms; \
             every update after the first screen p50 {p50:.1} ms, p95 {p95:.1} ms, p99 {p99:.1} ms; \
             first screen {:.0} ms; p95 first tenth {:.1} ms, last tenth {:.1} ms; exact {}; \
             50 dB after {}, exact after {}",
            r.handshake_ms,
            n,
            r.bytes as f64 * 8.0 / 1000.0 / r.clip_s,
            fresh.0,
            fresh.1,
            fresh.2,
            r.samples.first().map_or(0.0, |s| s.latency_ms),
            r.percentile(0, tenth, 0.95),
            r.percentile(n - tenth, n, 0.95),
            match r.exact_after_end_s {
                Some(s) if s <= 0.0 => "before the clip ended".to_string(),
                Some(s) => format!("{s:.1} s after the clip ended"),
                None => "never".to_string(),
            },
            reached(r.near),
            reached(r.exact),
        );
    }
    Ok(())
}

/// "2.1 s and 61 kB" (since the viewer started), or "never".
fn reached(at: Option<(f64, u64)>) -> String {
    at.map_or("never".to_string(), |(s, bytes)| {
        format!("{s:.1} s and {:.0} kB", bytes as f64 / 1000.0)
    })
}
