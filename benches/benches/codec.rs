//! Region codecs on real crops, the lossless path's entropy coders, and the whole pipeline per
//! frame on every committed clip. `make bench` runs it.

use beckon_engine::codec::{
    Chroma, CodecConfig, RegionDecoder, RegionEncoder, RegionKind, lossless,
};
use beckon_engine::corpus::ClipReader;
use beckon_engine::frame::{Frame, Rect, psnr_rgb};
use beckon_engine::pipeline::{PipelineConfig, ScreenEncoder};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::PathBuf;

fn clip_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .join(format!("{name}.bgra.zst"))
}

fn frames(name: &str, limit: usize) -> Vec<Frame> {
    let mut reader = ClipReader::open(clip_path(name)).unwrap();
    let mut out = Vec::new();
    let mut f = reader.blank_frame();
    while out.len() < limit && reader.read_frame(&mut f).unwrap() {
        out.push(f.clone());
    }
    out
}

/// (name, frame, 256x256 crop): terminal text from the terminal clip's last frame, and bark
/// and bokeh from the drag clip's wallpaper.
fn crops() -> Vec<(&'static str, Frame, Rect)> {
    let text = frames("terminal", 300).pop().unwrap();
    let photo = frames("drag", 1).pop().unwrap();
    vec![
        ("text", text, Rect::new(130, 300, 256, 256)),
        ("photo", photo, Rect::new(0, 440, 256, 256)),
    ]
}

fn region_codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("region_codec");
    group.throughput(Throughput::Elements(256 * 256));
    let encoder = RegionEncoder::new(CodecConfig::default());
    for (name, frame, rect) in crops() {
        for kind in [RegionKind::Lossless, RegionKind::Av1] {
            let region = encoder.encode(&frame.as_ref(), rect, kind).unwrap();
            eprintln!(
                "region_codec {name} {}: {} bytes",
                kind.name(),
                region.payload.len()
            );
            group.bench_function(
                BenchmarkId::new(format!("encode_{}", kind.name()), name),
                |b| {
                    b.iter(|| {
                        black_box(
                            encoder
                                .encode(&frame.as_ref(), rect, kind)
                                .unwrap()
                                .payload
                                .len(),
                        )
                    })
                },
            );
            let mut decoder = RegionDecoder::default();
            let mut dst = Frame::filled(frame.width(), frame.height(), [0; 4]);
            group.bench_function(
                BenchmarkId::new(format!("decode_{}", kind.name()), name),
                |b| b.iter(|| decoder.decode(black_box(&region), &mut dst).unwrap()),
            );
        }
    }
    let flat = Frame::filled(256, 256, [30, 30, 30, 255]);
    let rect = Rect::new(0, 0, 256, 256);
    let region = encoder
        .encode(&flat.as_ref(), rect, RegionKind::Solid)
        .unwrap();
    group.bench_function(BenchmarkId::new("encode_solid", "flat"), |b| {
        b.iter(|| {
            black_box(
                encoder
                    .encode(&flat.as_ref(), rect, RegionKind::Solid)
                    .unwrap()
                    .payload
                    .len(),
            )
        })
    });
    let mut decoder = RegionDecoder::default();
    let mut dst = Frame::filled(256, 256, [0; 4]);
    group.bench_function(BenchmarkId::new("decode_solid", "flat"), |b| {
        b.iter(|| decoder.decode(black_box(&region), &mut dst).unwrap())
    });
    group.finish();
}

/// AV1 in 4:2:0 and 4:4:4 at three qualities: bytes and PSNR printed, encode time measured.
fn av1_chroma(c: &mut Criterion) {
    let mut group = c.benchmark_group("av1_chroma");
    for (name, frame, rect) in crops() {
        for chroma in [Chroma::Yuv420, Chroma::Yuv444] {
            for quality in [40u8, 60, 80] {
                let encoder = RegionEncoder::new(CodecConfig {
                    quality,
                    chroma,
                    ..Default::default()
                });
                let region = encoder
                    .encode(&frame.as_ref(), rect, RegionKind::Av1)
                    .unwrap();
                let mut shown = frame.clone();
                RegionDecoder::default()
                    .decode(&region, &mut shown)
                    .unwrap();
                eprintln!(
                    "av1_chroma {name} {chroma:?} q{quality}: {} bytes, {:.2} dB",
                    region.payload.len(),
                    psnr_rgb(&frame.as_ref(), &shown.as_ref(), rect)
                );
                if quality == 60 {
                    group.bench_function(BenchmarkId::new(format!("{chroma:?}"), name), |b| {
                        b.iter(|| {
                            black_box(
                                encoder
                                    .encode(&frame.as_ref(), rect, RegionKind::Av1)
                                    .unwrap()
                                    .payload
                                    .len(),
                            )
                        })
                    });
                }
            }
        }
    }
    group.finish();
}

fn lossless_entropy(c: &mut Criterion) {
    let mut group = c.benchmark_group("lossless_entropy");
    for (name, frame, rect) in crops() {
        let t = lossless::transform(&frame.as_ref(), rect);
        let form = if t.header[0] == 0 {
            "palette"
        } else {
            "predicted"
        };
        // The raw crop, for what filtering and palettes buy.
        let raw: Vec<u8> = (rect.y..rect.bottom())
            .flat_map(|y| {
                frame.as_ref().row(y)[rect.x as usize * 4..rect.right() as usize * 4].to_vec()
            })
            .collect();
        group.throughput(Throughput::Bytes(raw.len() as u64));
        for (input_name, input) in [(form, &t.stream), ("raw", &raw)] {
            for level in [1, 3, 9] {
                let size = zstd::bulk::compress(input, level).unwrap().len();
                eprintln!("lossless_entropy {name} {input_name} zstd{level}: {size} bytes");
                group.bench_function(
                    BenchmarkId::new(format!("zstd{level}_{input_name}"), name),
                    |b| {
                        b.iter(|| {
                            black_box(zstd::bulk::compress(black_box(input), level).unwrap().len())
                        })
                    },
                );
            }
            let size = lz4_flex::compress(input).len();
            eprintln!("lossless_entropy {name} {input_name} lz4: {size} bytes");
            group.bench_function(BenchmarkId::new(format!("lz4_{input_name}"), name), |b| {
                b.iter(|| black_box(lz4_flex::compress(black_box(input)).len()))
            });
        }
    }
    group.finish();
}

fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    for name in ["terminal", "document", "drag", "video"] {
        let clip = frames(name, 60);
        group.throughput(Throughput::Elements(clip.len() as u64));
        group.bench_function(BenchmarkId::new("encode_60_frames", name), |b| {
            b.iter(|| {
                let mut encoder = ScreenEncoder::new(PipelineConfig::default());
                let mut bytes = 0;
                for (i, f) in clip.iter().enumerate() {
                    let t = i as u64 * 33_333;
                    if let Some(u) = encoder.encode(&f.as_ref(), t).unwrap() {
                        bytes += u.wire_size();
                    }
                    if let Some(u) = encoder.refine(t).unwrap() {
                        bytes += u.wire_size();
                    }
                }
                black_box(bytes)
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    region_codec,
    av1_chroma,
    lossless_entropy,
    pipeline
);
criterion_main!(benches);
