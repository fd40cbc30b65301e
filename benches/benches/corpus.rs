//! Corpus reader throughput: frames per second decompressed from committed clips.

use beckon_engine::corpus::ClipReader;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::PathBuf;

fn clip(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .join(format!("{name}.bgra.zst"))
}

fn reader(c: &mut Criterion) {
    let mut group = c.benchmark_group("corpus_reader");
    group.sample_size(10);
    for name in ["terminal", "video"] {
        let path = clip(name);
        let frames = ClipReader::open(&path).unwrap().meta().frames;
        group.throughput(Throughput::Elements(frames));
        group.bench_with_input(
            BenchmarkId::new("read_all_frames", name),
            &path,
            |b, path| {
                b.iter(|| {
                    let mut r = ClipReader::open(path).unwrap();
                    let mut f = r.blank_frame();
                    while r.read_frame(&mut f).unwrap() {}
                    black_box(f.data()[0])
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, reader);
criterion_main!(benches);
