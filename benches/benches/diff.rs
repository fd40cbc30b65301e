//! Tile diff on 1920x1080 BGRA: identical frames, 1 % and 25 % of tiles changed, at every kernel
//! level this CPU has, beside the references `==` of two equal 8 MB buffers and an 8 MB
//! `copy_from_slice`. Seeded data; `make bench` runs it.

use beckon_engine::diff::{CpuLevel, TileDiff};
use beckon_engine::frame::Frame;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const W: u32 = 1920;
const H: u32 = 1080;
const TILE: u32 = 64;

/// xorshift64*: seeded, dependency-free noise.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn noise_frame(rng: &mut Rng) -> Frame {
    let mut data = vec![0u8; (W * H * 4) as usize];
    for chunk in data.chunks_exact_mut(8) {
        chunk.copy_from_slice(&rng.next().to_le_bytes());
    }
    Frame::from_bgra(data, W, H).unwrap()
}

/// A copy of `base` with a glyph-sized change in `percent` % of the tiles, chosen at random.
fn changed_copy(base: &Frame, percent: u32, rng: &mut Rng) -> Frame {
    let mut f = base.clone();
    let (cols, rows) = (W.div_ceil(TILE), H.div_ceil(TILE));
    let tiles = cols * rows;
    let n = (tiles * percent).div_ceil(100);
    for _ in 0..n {
        let t = (rng.next() % tiles as u64) as u32;
        let (x0, y0) = ((t % cols) * TILE + 20, (t / cols) * TILE + 20);
        for y in y0..(y0 + 16).min(H) {
            for x in x0..(x0 + 8).min(W) {
                f.set_pixel(x, y, [0, 0, 0, 255]);
            }
        }
    }
    f
}

fn tile_diff(c: &mut Criterion) {
    let mut rng = Rng(0x5EED_BECC_0001);
    let base = noise_frame(&mut rng);
    let same = base.clone();
    let cases = [
        ("identical", same),
        ("1pct", changed_copy(&base, 1, &mut rng)),
        ("25pct", changed_copy(&base, 25, &mut rng)),
    ];
    let mut group = c.benchmark_group("tile_diff");
    group.throughput(Throughput::Bytes(base.data().len() as u64));
    for (name, after) in &cases {
        for level in CpuLevel::supported() {
            let mut diff = TileDiff::with_level(TILE, level);
            let mut out = Vec::new();
            group.bench_with_input(BenchmarkId::new(level.name(), name), after, |b, after| {
                b.iter(|| {
                    diff.diff_into(&base.as_ref(), &after.as_ref(), &mut out)
                        .unwrap();
                    black_box(out.len())
                })
            });
        }
    }
    group.bench_function("reference/eq_8mb", |b| {
        b.iter(|| black_box(black_box(base.data()) == black_box(cases[0].1.data())))
    });
    let mut dst = vec![0u8; base.data().len()];
    group.bench_function("reference/copy_8mb", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(base.data()));
            black_box(dst[0])
        })
    });
    group.finish();
}

criterion_group!(benches, tile_diff);
criterion_main!(benches);
