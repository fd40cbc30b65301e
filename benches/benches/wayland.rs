//! The sharer's capture on a 1920x1080 headless sway with foot on it, beside the X11 bench: what
//! a frame costs, capture plus tile diff, for the whole screen, for one typed character's worth
//! of damage, and for an idle screen. Needs `sway`, `foot` and `grim` (`make deps`) and root
//! (sway runs as a user the bench makes); `make bench` runs it.

use std::time::{Duration, Instant};

use beckon_agent::platform::wayland::{WaylandInput, WaylandSource};
use beckon_benches::capture::{diff, report_arrivals, settle, time_change, typed_keysym};
use beckon_benches::desktop::Sway;
use beckon_engine::InputEvent;
use beckon_engine::diff::TileDiff;
use beckon_engine::frame::Frame;
use beckon_engine::net::drive::InputSink;
use beckon_engine::pipeline::FrameSource;
use criterion::{Criterion, criterion_group, criterion_main};

const W: u32 = 1920;
const H: u32 = 1080;

fn capture(c: &mut Criterion) {
    let sway = Sway::start(W, H).expect("sway (make deps installs it)");
    sway.foot("ls -l /usr/bin; cat").expect("foot");
    let display = sway.socket.display().to_string();
    let mut group = c.benchmark_group("wayland_1080p");
    let mut tiles = TileDiff::new(64);

    let mut source = WaylandSource::connect(Some(&display), None).expect("sway");
    let mut frame = Frame::filled(1, 1, [0; 4]);
    source.next_frame(&mut frame).expect("capture");
    let shown = frame.clone();
    group.bench_function("whole/capture+diff", |b| {
        b.iter(|| {
            source.invalidate();
            source.next_frame(&mut frame).expect("capture");
            std::hint::black_box(diff(
                &mut tiles,
                &shown,
                &frame,
                source.damage().unwrap_or_default(),
            ));
        })
    });

    // One character typed into foot (and erased again, so the line does not wrap): the frame
    // copies what the compositor says changed.
    let mut input = WaylandInput::connect(Some(&display), None).expect("sway");
    let shown = frame.clone();
    let mut turn = 0usize;
    let mut arrival = Vec::new();
    group.bench_function("typed_char/capture+diff", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                turn += 1;
                for pressed in [true, false] {
                    input.apply(InputEvent::Key {
                        keysym: typed_keysym(turn),
                        pressed,
                    });
                }
                // The copy comes when foot has drawn and sway composited: only the frame that
                // brings it is timed.
                let typed = Instant::now();
                total += time_change(
                    &mut source,
                    &mut frame,
                    &mut tiles,
                    &shown,
                    typed,
                    &mut arrival,
                );
            }
            total
        })
    });
    report_arrivals(
        "wayland_1080p",
        &mut arrival,
        "foot draws, sway composites and copies",
    );

    // Until foot's last drawing has come through: a second with nothing copied.
    settle(&mut source, &mut frame);
    let shown = frame.clone();
    group.bench_function("idle/capture+diff", |b| {
        b.iter(|| {
            source.next_frame(&mut frame).expect("capture");
            let damage = source.damage().unwrap_or_default();
            assert!(damage.is_empty(), "an idle screen was copied");
            std::hint::black_box(diff(&mut tiles, &shown, &frame, damage));
        })
    });
    group.finish();
}

criterion_group!(benches, capture);
criterion_main!(benches);
