//! `bench-report`: the performance report against the anchors, regenerated from measurements.
//!
//! ```text
//! bench-report --anchors anchors.csv [--out docs/bench] [--readme README.md]
//!     [--qualities 20,40,60,80] [--font FILE.ttf] CLIP.bgra.zst...
//! ```
//!
//! It runs `corpus-eval --json` (the binary beside this one) on every clip at every quality,
//! reads the anchors' CSV written by `../shared/tools/anchors.sh`, and writes under `--out`:
//! `README.md` (the tables), `CLIP.png` (rate against quality, every encoder and level beside
//! Beckon), `beckon.json` (the corpus-eval reports) and `anchors.csv` (the anchors used).
//! With `--readme`, the summary table in that file between the `bench-report` markers is
//! replaced too. `make bench-report` runs the anchors first, then this.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use beckon_benches::report::{BeckonRun, REFERENCE_ENCODER, Report, parse_anchors, use_font};
use beckon_engine::pipeline::PipelineConfig;

const BEGIN: &str = "<!-- bench-report: begin (make bench-report writes this table) -->";
const END: &str = "<!-- bench-report: end -->";
const PLOT_SIZE: (u32, u32) = (900, 560);

struct Options {
    anchors: PathBuf,
    out: PathBuf,
    readme: Option<PathBuf>,
    qualities: Vec<u8>,
    font: PathBuf,
    clips: Vec<PathBuf>,
}

fn parse_args() -> Result<Options> {
    let mut options = Options {
        anchors: PathBuf::new(),
        out: PathBuf::from("docs/bench"),
        readme: None,
        qualities: vec![20, 40, 60, 80],
        font: PathBuf::from("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        clips: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    let mut anchors = None;
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().with_context(|| format!("{arg} needs {what}"));
        match arg.as_str() {
            "--anchors" => anchors = Some(PathBuf::from(value("the anchors' CSV file")?)),
            "--out" => options.out = value("a directory")?.into(),
            "--readme" => options.readme = Some(value("a markdown file")?.into()),
            "--font" => options.font = value("a TrueType font file")?.into(),
            "--qualities" => {
                let list = value("a list like 20,40,60,80")?;
                options.qualities = list
                    .split(',')
                    .map(|q| match q.trim().parse::<u8>() {
                        Ok(q) if q <= 100 => Ok(q),
                        _ => bail!("--qualities {list:?}: {q:?} is not a number from 0 to 100"),
                    })
                    .collect::<Result<_>>()?;
            }
            "-h" | "--help" => {
                println!(
                    "usage: bench-report --anchors anchors.csv [--out docs/bench] [--readme README.md] \
                     [--qualities 20,40,60,80] [--font FILE.ttf] CLIP.bgra.zst..."
                );
                std::process::exit(0);
            }
            _ if arg.starts_with("--") => bail!("unknown option {arg} (try --help)"),
            _ => options.clips.push(arg.into()),
        }
    }
    options.anchors = anchors.context(
        "no anchors given: pass --anchors with the anchors.csv of ../shared/tools/anchors.sh",
    )?;
    if options.clips.is_empty() {
        bail!("no clips given: pass the corpus clips, for example corpus/*.bgra.zst");
    }
    Ok(options)
}

/// `corpus-eval --json --quality Q CLIP`, the binary beside this one.
fn corpus_eval(clip: &Path, quality: u8) -> Result<serde_json::Value> {
    let exe = std::env::current_exe()?.with_file_name("corpus-eval");
    let output = Command::new(&exe)
        .arg(clip)
        .args(["--json", "--quality", &quality.to_string()])
        .output()
        .with_context(|| {
            format!(
                "could not run {}: build it first (cargo build --release -p beckon-benches)",
                exe.display()
            )
        })?;
    if !output.status.success() {
        bail!(
            "corpus-eval failed on {} at quality {quality}: {}",
            clip.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    serde_json::from_slice(&output.stdout).context("corpus-eval's --json output is not JSON")
}

fn write_png(path: &Path, rgb: &[u8], (width, height): (u32, u32)) -> Result<()> {
    let file = std::fs::File::create(path)
        .with_context(|| format!("could not create {}", path.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(rgb)?;
    Ok(())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}")
}

fn run(options: Options) -> Result<()> {
    let csv = std::fs::read_to_string(&options.anchors)
        .with_context(|| format!("could not read the anchors {}", options.anchors.display()))?;
    let anchors = parse_anchors(&csv)?;
    let font = std::fs::read(&options.font).with_context(|| {
        format!(
            "could not read the plots' font {} (Debian: fonts-dejavu-core, or pass --font)",
            options.font.display()
        )
    })?;
    use_font(font)?;
    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("could not create {}", options.out.display()))?;

    let mut report = Report {
        clips: Vec::new(),
        anchors,
        beckon: Vec::new(),
        default_quality: PipelineConfig::default().codec.quality,
    };
    let mut qualities = options.qualities.clone();
    if !qualities.contains(&report.default_quality) {
        qualities.push(report.default_quality);
    }
    let mut evals = Vec::new();
    for clip in &options.clips {
        for &quality in &qualities {
            eprintln!("corpus-eval {} --quality {quality}", clip.display());
            let eval = corpus_eval(clip, quality)?;
            let run = BeckonRun::from_json(&eval)?;
            if !report.clips.contains(&run.clip) {
                report.clips.push(run.clip.clone());
            }
            report.beckon.push(run);
            evals.push(eval);
        }
    }
    for clip in &report.clips {
        if !report.anchors.iter().any(|a| &a.clip == clip) {
            eprintln!("bench-report: the anchors have no runs of {clip}: run anchors.sh on it");
        }
    }

    let mut page = format!(
        "# Beckon against the anchors\n\n\
         Written by `make bench-report` on {}, {}. Do not edit: run it again.\n\n\
         Beckon: `corpus-eval --json --quality Q` on each committed clip (quality {} is the \
         default). Anchors: `../shared/tools/anchors.sh` (full frames, one thread, real-time \
         settings), from `anchors.csv` beside this file. Steady kbit/s leaves out the first full \
         screen and, for Beckon, the lossless refinement that follows it. PSNR-RGB is over every \
         frame as shown against the source.\n\n\
         ## At the default quality, against {REFERENCE_ENCODER} realtime (crf 36)\n\n{}\n\
         ## Every anchor at its middle level: steady kbit/s @ PSNR-RGB dB\n\n{}\n\
         ## At equal quality: Beckon's rate over each anchor's\n\n\
         The mean ratio of steady rates over the PSNR range both curves span (BD-rate), the \
         range in brackets. \"No overlap\": every Beckon quality lies above that encoder's \
         best level, as on text, where Beckon is exact.\n\n{}\n\
         ## Rate against quality\n\n\
         Each line is one encoder through its levels (or Beckon through its qualities); up and \
         to the left is better.\n\n",
        now_utc()?,
        machine(),
        report.default_quality,
        report.summary_table(),
        report.all_encoders_table(),
        report.equal_quality_table(),
    );
    for clip in &report.clips {
        let png = options.out.join(format!("{clip}.png"));
        write_png(
            &png,
            &report.plot(clip, PLOT_SIZE.0, PLOT_SIZE.1)?,
            PLOT_SIZE,
        )?;
        page.push_str(&format!("![{clip}]({clip}.png)\n\n"));
    }
    std::fs::write(options.out.join("README.md"), &page)?;
    std::fs::write(
        options.out.join("beckon.json"),
        serde_json::to_string_pretty(&evals)? + "\n",
    )?;
    let anchors_copy = options.out.join("anchors.csv");
    if std::fs::canonicalize(&options.anchors).ok() != std::fs::canonicalize(&anchors_copy).ok() {
        std::fs::write(&anchors_copy, &csv)?;
    }
    if let Some(readme) = &options.readme {
        let text = std::fs::read_to_string(readme)
            .with_context(|| format!("could not read {}", readme.display()))?;
        let text =
            beckon_benches::report::replace_between(&text, BEGIN, END, &report.summary_table())
                .with_context(|| format!("in {}", readme.display()))?;
        std::fs::write(readme, text)?;
    }
    print!("{}", report.summary_table());
    println!(
        "Written: {}/README.md and a plot per clip",
        options.out.display()
    );
    Ok(())
}

/// The date and time now, as `date -u` gives it.
fn now_utc() -> Result<String> {
    let out = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-report: {e:#}");
            ExitCode::FAILURE
        }
    }
}
