//! The sharer's capture on a 1920x1080 headless sway with foot on it, beside the X11 bench: what
//! a frame costs, capture plus tile diff, for the whole screen, for one typed character's worth
//! of damage, and for an idle screen. Needs `sway`, `foot` and `grim` (`make deps`) and root
//! (sway runs as a user the bench makes); `make bench` runs it.

use std::time::{Duration, Instant};

use beckon_agent::platform::wayland::{WaylandInput, WaylandSource};
use beckon_benches::desktop::Sway;
use beckon_engine::InputEvent;
use beckon_engine::diff::TileDiff;
use beckon_engine::frame::{Frame, Rect};
use beckon_engine::net::drive::InputSink;
use beckon_engine::pipeline::FrameSource;
use criterion::{Criterion, criterion_group, criterion_main};

const W: u32 = 1920;
const H: u32 = 1080;

/// The tile diff as the pipeline runs it: only where the capture says it fetched.
fn diff(tiles: &mut TileDiff, shown: &Frame, frame: &Frame, damage: &[Rect], dirty: &mut usize) {
    let mut rects = Vec::new();
    tiles
        .diff_areas_into(&shown.as_ref(), &frame.as_ref(), damage, &mut rects)
        .expect("same size");
    *dirty = rects.len();
}

fn capture(c: &mut Criterion) {
    let sway = Sway::start(W, H).expect("sway (make deps installs it)");
    sway.foot("ls -l /usr/bin; cat").expect("foot");
    let display = sway.socket.display().to_string();
    let mut group = c.benchmark_group("wayland_1080p");
    let mut tiles = TileDiff::new(64);
    let mut dirty = 0;

    let mut source = WaylandSource::connect(Some(&display), None).expect("sway");
    let mut frame = Frame::filled(1, 1, [0; 4]);
    source.next_frame(&mut frame).expect("capture");
    let shown = frame.clone();
    group.bench_function("whole/capture+diff", |b| {
        b.iter(|| {
            source.invalidate();
            source.next_frame(&mut frame).expect("capture");
            diff(
                &mut tiles,
                &shown,
                &frame,
                source.damage().unwrap_or_default(),
                &mut dirty,
            );
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
                let keysym = if turn % 2 == 1 {
                    u32::from(b'x')
                } else {
                    0xff08
                };
                for pressed in [true, false] {
                    input.apply(InputEvent::Key { keysym, pressed });
                }
                let typed = Instant::now();
                // The copy comes when foot has drawn and sway composited: only the frame that
                // brings it is timed.
                let deadline = Instant::now() + Duration::from_secs(5);
                loop {
                    let start = Instant::now();
                    source.next_frame(&mut frame).expect("capture");
                    let damage = source.damage().unwrap_or_default();
                    if !damage.is_empty() {
                        diff(&mut tiles, &shown, &frame, damage, &mut dirty);
                        total += start.elapsed();
                        arrival.push(typed.elapsed());
                        break;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "the typed character never showed"
                    );
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            total
        })
    });

    arrival.sort();
    if let (Some(median), Some(worst)) = (arrival.get(arrival.len() / 2), arrival.last()) {
        println!(
            "wayland_1080p: a typed character reached the capture after {median:?} (median), \
             {worst:?} (worst) of {} (foot draws, sway composites and copies; polled every \
             0.2 ms)",
            arrival.len()
        );
    }

    // Until foot's last drawing has come through: a second with nothing copied.
    let mut still = Instant::now();
    while still.elapsed() < Duration::from_secs(1) {
        source.next_frame(&mut frame).expect("capture");
        if !source.damage().unwrap_or_default().is_empty() {
            still = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    let shown = frame.clone();
    group.bench_function("idle/capture+diff", |b| {
        b.iter(|| {
            source.next_frame(&mut frame).expect("capture");
            let damage = source.damage().unwrap_or_default();
            assert!(damage.is_empty(), "an idle screen was copied");
            diff(&mut tiles, &shown, &frame, damage, &mut dirty);
        })
    });
    group.finish();
}

criterion_group!(benches, capture);
criterion_main!(benches);
