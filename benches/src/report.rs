//! The pieces of `bench-report`: the anchors' CSV (from `../shared/tools/anchors.sh`), Beckon's
//! `corpus-eval` results, the markdown tables and the rate/quality plots.
//!
//! Nothing here measures: the figures come in, tables and pictures go out, so the same inputs
//! always give the same report.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Context, Result, bail};
use plotters::prelude::*;

/// The anchor every table compares against: libaom realtime with screen tuning, its middle level.
pub const REFERENCE_ENCODER: &str = "libaom-av1";
/// The anchors' level used for the tables (the plots show every level).
pub const REFERENCE_LEVEL: &str = "mid";

/// One anchor run: one encoder at one level on one clip.
#[derive(Debug, Clone, PartialEq)]
pub struct AnchorRun {
    pub clip: String,
    pub encoder: String,
    pub level: String,
    /// The quality parameter and its value, for example "crf 36".
    pub setting: String,
    pub kbps_steady: f64,
    pub first_bytes: f64,
    pub cpu_ms_per_frame: f64,
    pub psnr_rgb: f64,
}

/// Reads `anchors.csv` as `anchors.sh` writes it. Failed runs and the "conversion only" rows
/// (no encoder) are left out.
pub fn parse_anchors(csv: &str) -> Result<Vec<AnchorRun>> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let header = split_csv_line(lines.next().context("the anchors CSV is empty")?);
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("the anchors CSV has no {name:?} column: is it anchors.sh's?"))
    };
    let [
        clip,
        encoder,
        level,
        qparam,
        q,
        kbps,
        first,
        cpu,
        psnr,
        failed,
    ] = [
        "clip",
        "encoder",
        "level",
        "qparam",
        "q",
        "kbps_steady",
        "first_packet_bytes",
        "cpu_ms_per_frame",
        "psnr_rgb",
        "failed",
    ]
    .map(column);
    let (clip, encoder, level, qparam, q) = (clip?, encoder?, level?, qparam?, q?);
    let (kbps, first, cpu, psnr, failed) = (kbps?, first?, cpu?, psnr?, failed?);
    let mut runs = Vec::new();
    for (number, line) in lines.enumerate() {
        let fields = split_csv_line(line);
        let field = |i: usize| fields.get(i).map(String::as_str).unwrap_or("");
        if field(failed).eq_ignore_ascii_case("true") || field(level) == "ref" {
            continue;
        }
        let number_at = |i: usize| -> Result<f64> {
            field(i).parse().with_context(|| {
                format!(
                    "line {} of the anchors CSV: {:?} is not a number (column {:?})",
                    number + 2,
                    field(i),
                    header[i]
                )
            })
        };
        runs.push(AnchorRun {
            clip: field(clip).to_owned(),
            encoder: field(encoder).to_owned(),
            level: field(level).to_owned(),
            setting: format!("{} {}", field(qparam), field(q)),
            kbps_steady: number_at(kbps)?,
            first_bytes: number_at(first)?,
            cpu_ms_per_frame: number_at(cpu)?,
            psnr_rgb: number_at(psnr)?,
        });
    }
    Ok(runs)
}

/// Splits one CSV line, with `"` quoting as Python's csv module writes it.
fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            _ => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// One `corpus-eval --json` result: Beckon on one clip at one quality.
#[derive(Debug, Clone, PartialEq)]
pub struct BeckonRun {
    pub clip: String,
    pub quality: u8,
    pub kbps_steady: f64,
    pub first_bytes: f64,
    pub cpu_ms_per_frame: f64,
    pub psnr_rgb: f64,
    pub final_exact: bool,
}

impl BeckonRun {
    /// Reads the keys the report needs from `corpus-eval --json`'s object.
    pub fn from_json(value: &serde_json::Value) -> Result<BeckonRun> {
        let number = |key: &str| {
            value[key]
                .as_f64()
                .with_context(|| format!("corpus-eval's report has no number {key:?}"))
        };
        Ok(BeckonRun {
            clip: value["clip"]
                .as_str()
                .context("corpus-eval's report has no clip name")?
                .to_owned(),
            quality: number("quality")? as u8,
            kbps_steady: number("kbps_steady")?,
            first_bytes: number("first_update_bytes")?,
            cpu_ms_per_frame: number("encode_cpu_ms_per_frame")?,
            psnr_rgb: number("psnr_rgb")?,
            final_exact: value["final_exact"]
                .as_bool()
                .context("corpus-eval's report has no final_exact")?,
        })
    }
}

/// Everything one report is made of, clip by clip in the order given.
#[derive(Debug)]
pub struct Report {
    pub clips: Vec<String>,
    pub anchors: Vec<AnchorRun>,
    pub beckon: Vec<BeckonRun>,
    /// The quality Beckon runs at by default; its row is the one the tables show.
    pub default_quality: u8,
}

impl Report {
    fn reference(&self, clip: &str) -> Option<&AnchorRun> {
        self.anchors.iter().find(|a| {
            a.clip == clip && a.encoder == REFERENCE_ENCODER && a.level == REFERENCE_LEVEL
        })
    }

    fn beckon_default(&self, clip: &str) -> Option<&BeckonRun> {
        self.beckon
            .iter()
            .find(|b| b.clip == clip && b.quality == self.default_quality)
    }

    /// The headline table: Beckon at its default quality against libaom realtime, clip by clip.
    pub fn summary_table(&self) -> String {
        let mut out = String::from(
            "| clip | Beckon kbit/s steady | libaom steady | ratio | Beckon first screen | libaom first \
             | Beckon CPU ms/frame | libaom CPU | Beckon PSNR-RGB | libaom PSNR | exact at end |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
        );
        for clip in &self.clips {
            let Some(b) = self.beckon_default(clip) else {
                continue;
            };
            let [aom_kbps, ratio, aom_first, aom_cpu, aom_psnr] = match self.reference(clip) {
                Some(a) => [
                    format!("{:.1}", a.kbps_steady),
                    format!("{:.2}x", b.kbps_steady / a.kbps_steady),
                    format!("{:.1} kB", a.first_bytes / 1000.0),
                    format!("{:.1}", a.cpu_ms_per_frame),
                    format!("{:.2}", a.psnr_rgb),
                ],
                None => std::array::from_fn(|_| "no run".to_owned()),
            };
            let _ = writeln!(
                out,
                "| {clip} | {:.1} | {aom_kbps} | {ratio} | {:.1} kB | {aom_first} | {:.2} | {aom_cpu} \
                 | {:.2} | {aom_psnr} | {} |",
                b.kbps_steady,
                b.first_bytes / 1000.0,
                b.cpu_ms_per_frame,
                b.psnr_rgb,
                if b.final_exact { "yes" } else { "**no**" },
            );
        }
        out
    }

    /// Every encoder at the reference level and Beckon at every quality run: steady kbit/s and
    /// PSNR-RGB, a row per clip.
    pub fn all_encoders_table(&self) -> String {
        let mut columns: Vec<String> = Vec::new();
        for a in self.anchors.iter().filter(|a| a.level == REFERENCE_LEVEL) {
            let name = format!("{} ({})", a.encoder, a.setting);
            if !columns.contains(&name) {
                columns.push(name);
            }
        }
        let mut qualities: Vec<u8> = self.beckon.iter().map(|b| b.quality).collect();
        qualities.sort_unstable();
        qualities.dedup();
        let mut out = String::from("| clip |");
        for q in &qualities {
            let _ = write!(out, " Beckon (quality {q}) |");
        }
        for c in &columns {
            let _ = write!(out, " {c} |");
        }
        out.push_str("\n|---|");
        out.push_str(&"---:|".repeat(qualities.len() + columns.len()));
        out.push('\n');
        for clip in &self.clips {
            let _ = write!(out, "| {clip} |");
            for q in &qualities {
                match self
                    .beckon
                    .iter()
                    .find(|b| &b.clip == clip && b.quality == *q)
                {
                    Some(b) => write!(out, " {:.1} @ {:.2} |", b.kbps_steady, b.psnr_rgb),
                    None => write!(out, " - |"),
                }
                .unwrap();
            }
            for c in &columns {
                let run = self.anchors.iter().find(|a| {
                    &a.clip == clip
                        && a.level == REFERENCE_LEVEL
                        && format!("{} ({})", a.encoder, a.setting) == *c
                });
                match run {
                    Some(a) => write!(out, " {:.1} @ {:.2} |", a.kbps_steady, a.psnr_rgb),
                    None => write!(out, " - |"),
                }
                .unwrap();
            }
            out.push('\n');
        }
        out
    }

    /// Beckon's rate over each anchor's at equal PSNR (BD-rate, after Bjøntegaard): the mean,
    /// over the PSNR range both curves span, of the ratio of their rates, each curve read
    /// piecewise-linearly as log rate against PSNR. A cell is empty when the ranges do not
    /// overlap, which on text means Beckon's lowest quality is above the anchor's highest.
    pub fn equal_quality_table(&self) -> String {
        let encoders = self.encoders();
        let mut out = String::from("| clip |");
        for e in &encoders {
            let _ = write!(out, " {e} |");
        }
        out.push_str(
            "
|---|",
        );
        out.push_str(&"---:|".repeat(encoders.len()));
        out.push('\n');
        for clip in &self.clips {
            let beckon: Vec<(f64, f64)> = self
                .beckon
                .iter()
                .filter(|b| &b.clip == clip)
                .map(|b| (b.kbps_steady, b.psnr_rgb))
                .collect();
            let _ = write!(out, "| {clip} |");
            for e in &encoders {
                let anchor = self.curve(clip, e);
                match bd_rate(&beckon, &anchor) {
                    Some((ratio, lo, hi)) => {
                        write!(out, " {ratio:.2}x ({lo:.1}–{hi:.1} dB) |")
                    }
                    None => write!(out, " no overlap |"),
                }
                .unwrap();
            }
            out.push('\n');
        }
        out
    }

    /// The anchors' encoders, in the order the CSV gives them.
    fn encoders(&self) -> Vec<String> {
        let mut encoders: Vec<String> = Vec::new();
        for a in &self.anchors {
            if !encoders.contains(&a.encoder) {
                encoders.push(a.encoder.clone());
            }
        }
        encoders
    }

    /// One encoder's (kbit/s, PSNR) points on one clip, every level.
    fn curve(&self, clip: &str, encoder: &str) -> Vec<(f64, f64)> {
        self.anchors
            .iter()
            .filter(|a| a.clip == clip && a.encoder == encoder)
            .map(|a| (a.kbps_steady, a.psnr_rgb))
            .collect()
    }

    /// The rate/quality curves of one clip: steady kbit/s (log scale) against PSNR-RGB, a line
    /// per encoder through its levels and one for Beckon through its qualities. RGB pixels,
    /// `width` x `height`.
    pub fn plot(&self, clip: &str, width: u32, height: u32) -> Result<Vec<u8>> {
        let mut curves: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for a in self.anchors.iter().filter(|a| a.clip == clip) {
            curves
                .entry(a.encoder.clone())
                .or_default()
                .push((a.kbps_steady, a.psnr_rgb));
        }
        let mut beckon: Vec<(f64, f64)> = self
            .beckon
            .iter()
            .filter(|b| b.clip == clip)
            .map(|b| (b.kbps_steady, b.psnr_rgb))
            .collect();
        beckon.sort_by(|a, b| a.0.total_cmp(&b.0));
        for points in curves.values_mut() {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        let every = curves.values().flatten().chain(&beckon);
        let (mut x_lo, mut x_hi, mut y_lo, mut y_hi) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, y) in every {
            x_lo = x_lo.min(x);
            x_hi = x_hi.max(x);
            y_lo = y_lo.min(y);
            y_hi = y_hi.max(y);
        }
        if x_lo > x_hi {
            bail!("no figures for clip {clip}: neither anchors nor corpus-eval results");
        }
        // Whole decades: plotters labels a log axis from its first power of ten on.
        let decade = |v: f64, round: fn(f64) -> f64| 10f64.powf(round(v.log10()));
        let x_range = decade(x_lo.max(0.1) / 1.2, f64::floor)..decade(x_hi * 1.2, f64::ceil);
        // Labels at 1, 2 and 5 of every decade.
        let mut x_keys = Vec::new();
        let mut d = x_range.start;
        while d < x_range.end {
            x_keys.extend([d, 2.0 * d, 5.0 * d]);
            d *= 10.0;
        }
        x_keys.push(x_range.end);
        let y_range = (y_lo - 1.0).floor()..(y_hi + 1.0).ceil();

        let mut pixels = vec![255u8; width as usize * height as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
            root.fill(&WHITE).map_err(plot_error)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(
                    format!("{clip}: steady rate against quality"),
                    ("sans-serif", 22),
                )
                .margin(12)
                .x_label_area_size(44)
                .y_label_area_size(56)
                .build_cartesian_2d(x_range.log_scale().with_key_points(x_keys), y_range)
                .map_err(plot_error)?;
            chart
                .configure_mesh()
                .x_desc("steady kbit/s (log scale)")
                .y_desc("PSNR-RGB, dB")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .label_style(("sans-serif", 14))
                .draw()
                .map_err(plot_error)?;
            for (i, (encoder, points)) in curves.iter().enumerate() {
                // Palette99's first colour is a red, too close to Beckon's.
                let colour = Palette99::pick(i + 1).to_rgba();
                draw_curve(&mut chart, encoder, points, colour, 2)?;
            }
            draw_curve(&mut chart, "Beckon", &beckon, RED.to_rgba(), 4)?;
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 14))
                .draw()
                .map_err(plot_error)?;
            root.present().map_err(plot_error)?;
        }
        Ok(pixels)
    }
}

/// The mean rate ratio of curve `a` over curve `b` (points of kbit/s and PSNR) where their
/// PSNR ranges overlap, with that range; `None` without an overlap of at least 0.1 dB.
pub fn bd_rate(a: &[(f64, f64)], b: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    let log_rate_at = |curve: &[(f64, f64)], psnr: f64| -> Option<f64> {
        let mut points: Vec<(f64, f64)> = curve
            .iter()
            .filter(|(rate, _)| *rate > 0.0)
            .map(|&(rate, q)| (q, rate.ln()))
            .collect();
        points.sort_by(|x, y| x.0.total_cmp(&y.0));
        points.windows(2).find_map(|w| {
            let ((q0, r0), (q1, r1)) = (w[0], w[1]);
            (q0 <= psnr && psnr <= q1).then(|| {
                if q1 - q0 < 1e-9 {
                    r0.min(r1)
                } else {
                    r0 + (r1 - r0) * (psnr - q0) / (q1 - q0)
                }
            })
        })
    };
    let range = |curve: &[(f64, f64)]| {
        let qs = curve.iter().map(|p| p.1);
        (
            qs.clone().fold(f64::MAX, f64::min),
            qs.fold(f64::MIN, f64::max),
        )
    };
    let ((a_lo, a_hi), (b_lo, b_hi)) = (range(a), range(b));
    let (lo, hi) = (a_lo.max(b_lo), a_hi.min(b_hi));
    if a.len() < 2 || b.len() < 2 || hi - lo < 0.1 {
        return None;
    }
    const STEPS: usize = 64;
    let mut sum = 0.0;
    for i in 0..=STEPS {
        let q = lo + (hi - lo) * i as f64 / STEPS as f64;
        sum += log_rate_at(a, q)? - log_rate_at(b, q)?;
    }
    Some(((sum / (STEPS + 1) as f64).exp(), lo, hi))
}

type Chart<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<
        plotters::coord::combinators::WithKeyPoints<plotters::coord::combinators::LogCoord<f64>>,
        plotters::coord::types::RangedCoordf64,
    >,
>;

fn draw_curve(
    chart: &mut Chart<'_, '_>,
    name: &str,
    points: &[(f64, f64)],
    colour: RGBAColor,
    width: u32,
) -> Result<()> {
    let style = ShapeStyle::from(colour).stroke_width(width);
    chart
        .draw_series(LineSeries::new(points.iter().copied(), style))
        .map_err(plot_error)?
        .label(name)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
    chart
        .draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, width + 2, colour.filled())),
        )
        .map_err(plot_error)?;
    Ok(())
}

fn plot_error(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("drawing the plot failed: {e}")
}

/// Makes a TrueType font file the plots' "sans-serif" (plotters keeps it for the process).
pub fn use_font(bytes: Vec<u8>) -> Result<()> {
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| anyhow::anyhow!("the plots' font is not a TrueType or OpenType font"))
}

/// Replaces what lies between `begin` and `end` (both kept) in `text` with `body`.
pub fn replace_between(text: &str, begin: &str, end: &str, body: &str) -> Result<String> {
    let start = text
        .find(begin)
        .with_context(|| format!("no {begin:?} marker to write the table after"))?
        + begin.len();
    let stop = start
        + text[start..]
            .find(end)
            .with_context(|| format!("no {end:?} marker after {begin:?}"))?;
    Ok(format!("{}\n{}{}", &text[..start], body, &text[stop..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "\
clip,encoder,level,qparam,q,pix_fmt,kbps_steady,first_packet_bytes,cpu_ms_per_frame,psnr_rgb,args,failed
term,conversion only,ref,-,-,yuv420p,0.0,0,0.0,45.3,,
term,libaom-av1,mid,crf,36,yuv420p,30.0,32900,4.2,41.9,\"-c:v libaom-av1, quoted\",
term,libaom-av1,lo,crf,24,yuv420p,60.0,50000,4.5,45.0,,
term,libx264,mid,crf,26,yuv420p,777.2,131714,2.1,41.96,,
term,libsvtav1,mid,crf,36,yuv420p,,,,,,True
";

    fn report() -> Report {
        let beckon = [(40, 20.0, 55.0), (60, 28.8, 59.65)]
            .map(|(quality, kbps_steady, psnr_rgb)| BeckonRun {
                clip: "term".into(),
                quality,
                kbps_steady,
                first_bytes: 19204.0,
                cpu_ms_per_frame: 0.8,
                psnr_rgb,
                final_exact: true,
            })
            .into();
        Report {
            clips: vec!["term".into()],
            anchors: parse_anchors(CSV).unwrap(),
            beckon,
            default_quality: 60,
        }
    }

    #[test]
    fn anchors_skip_failed_and_conversion_rows_and_keep_quoted_commas() {
        let runs = parse_anchors(CSV).unwrap();
        assert_eq!(runs.len(), 3, "{runs:?}");
        assert_eq!(runs[0].encoder, "libaom-av1");
        assert_eq!(runs[0].setting, "crf 36");
        assert_eq!(runs[0].kbps_steady, 30.0);
        assert_eq!(runs[2].first_bytes, 131714.0);
        assert_eq!(
            split_csv_line("a,\"b, \"\"c\"\"\",d"),
            ["a", "b, \"c\"", "d"]
        );
    }

    #[test]
    fn a_bad_number_names_its_line_and_column() {
        let bad = CSV.replace("30.0,32900", "fast,32900");
        let e = parse_anchors(&bad).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("kbps_steady"), "{e}");
        let e = parse_anchors("clip,encoder\n").unwrap_err().to_string();
        assert!(e.contains("no \"level\" column"), "{e}");
    }

    #[test]
    fn the_summary_compares_the_default_quality_with_libaom_mid() {
        let table = report().summary_table();
        let row = table.lines().nth(2).unwrap();
        assert_eq!(
            row,
            "| term | 28.8 | 30.0 | 0.96x | 19.2 kB | 32.9 kB | 0.80 | 4.2 | 59.65 | 41.90 | yes |"
        );
        let all = report().all_encoders_table();
        assert!(
            all.contains("| term | 20.0 @ 55.00 | 28.8 @ 59.65 | 30.0 @ 41.90 | 777.2 @ 41.96 |"),
            "{all}"
        );
    }

    #[test]
    fn the_plot_draws_beckon_in_red() {
        let dir = std::path::Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        use_font(std::fs::read(dir).expect("fonts-dejavu-core (make deps) installs DejaVuSans"))
            .unwrap();
        let (w, h) = (640, 400);
        let pixels = report().plot("term", w, h).unwrap();
        assert_eq!(pixels.len(), (w * h * 3) as usize);
        let red = pixels.chunks(3).filter(|p| p == &[255, 0, 0]).count();
        assert!(red > 200, "Beckon's curve has {red} red pixels");
        assert!(report().plot("nothing", w, h).is_err());
    }

    #[test]
    fn equal_quality_rates_compare_where_the_curves_overlap() {
        // b costs twice a's rate at every PSNR from 40 to 42 dB.
        let a = [(10.0, 38.0), (20.0, 40.0), (40.0, 42.0)];
        let b = [(40.0, 40.0), (80.0, 42.0), (160.0, 44.0)];
        let (ratio, lo, hi) = bd_rate(&a, &b).unwrap();
        assert!((ratio - 0.5).abs() < 1e-9, "{ratio}");
        assert_eq!((lo, hi), (40.0, 42.0));
        let (back, _, _) = bd_rate(&b, &a).unwrap();
        assert!((back - 2.0).abs() < 1e-9, "{back}");
        // Beckon far above every level: nothing to compare.
        assert_eq!(bd_rate(&[(20.0, 55.0), (25.0, 59.0)], &a), None);
        let table = report().equal_quality_table();
        assert!(table.contains("| term | no overlap |"), "{table}");
    }

    #[test]
    fn tables_go_between_the_markers() {
        let text = "intro\n<!-- b -->\nold table\n<!-- e -->\nrest\n";
        let new = replace_between(text, "<!-- b -->", "<!-- e -->", "new\n").unwrap();
        assert_eq!(new, "intro\n<!-- b -->\nnew\n<!-- e -->\nrest\n");
        assert!(replace_between("no markers", "<!-- b -->", "<!-- e -->", "x").is_err());
    }
}
