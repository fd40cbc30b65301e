//! The sharer's capture through the desktop portal (ScreenCast over PipeWire, as on GNOME and
//! KDE), on a 1920x1080 headless sway with foot through xdg-desktop-portal-wlr, beside the
//! wlroots (`wayland`) and X11 benches: what a frame costs the capture thread, copy plus tile
//! diff, for one typed character's worth of change and for an idle screen, and how long the
//! typed character takes to reach the capture. Needs what `make deps` installs and root (sway
//! runs as a user the bench makes; the portal stack runs as root so that it serves the bench).

use std::time::{Duration, Instant};

use beckon_agent::platform::portal::{PortalDesk, PortalSource};
use beckon_agent::platform::wayland::WaylandInput;
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

/// Types one character into foot (or erases it, every other turn, so the line never wraps).
fn type_one(input: &mut WaylandInput, turn: &mut usize) {
    *turn += 1;
    for pressed in [true, false] {
        input.apply(InputEvent::Key {
            keysym: typed_keysym(*turn),
            pressed,
        });
    }
}

fn capture(c: &mut Criterion) {
    let sway = Sway::start(W, H).expect("sway (make deps installs it)");
    let display = sway.socket.display().to_string();
    // The keyboard first: foot misses keys typed before it has taken up a new keyboard.
    let mut input = WaylandInput::connect(Some(&display), None).expect("sway");
    sway.foot("ls -l /usr/bin; cat").expect("foot");
    let portal = sway
        .portal_for_this_process("HEADLESS-1")
        .expect("the portal (make deps installs it)");
    let desk = PortalDesk::new(Some(portal.address.clone()), false, |_| None);
    let mut source = PortalSource::open(&desk, None).expect("the portal's stream");
    let mut frame = Frame::filled(1, 1, [0; 4]);
    let mut tiles = TileDiff::new(64);
    let mut turn = 0;
    // The first picture (a cast's first comes once the screen changes).
    let deadline = Instant::now() + Duration::from_secs(10);
    while frame.width() != W {
        type_one(&mut input, &mut turn);
        std::thread::sleep(Duration::from_millis(50));
        source.next_frame(&mut frame).expect("capture");
        assert!(Instant::now() < deadline, "no picture through the portal");
    }

    let mut group = c.benchmark_group("portal_1080p");
    let shown = frame.clone();
    let mut arrival = Vec::new();
    group.bench_function("typed_char/capture+diff", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                type_one(&mut input, &mut turn);
                // Only the capture that brings the change is timed, as in the wayland bench.
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
        "portal_1080p",
        &mut arrival,
        "foot draws, sway composites, xdg-desktop-portal-wlr copies, PipeWire delivers",
    );

    // Until foot's last drawing has come through: a second with nothing new.
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
    drop(source);
    drop(portal);
}

criterion_group!(benches, capture);
criterion_main!(benches);
