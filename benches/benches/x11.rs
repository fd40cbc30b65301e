//! The sharer's capture on a 1920x1080 Xvfb with an xterm on it: what a frame costs, capture plus
//! tile diff, for the whole screen (through MIT-SHM and through the `GetImage` fallback), for
//! one typed character's worth of damage, and for an idle screen. Needs `Xvfb` and `xterm`
//! (`make deps`); `make bench` runs it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use beckon_agent::platform::x11::X11Source;
use beckon_engine::diff::TileDiff;
use beckon_engine::frame::{Frame, Rect};
use beckon_engine::pipeline::FrameSource;
use criterion::{Criterion, criterion_group, criterion_main};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, CreateGCAux, Rectangle};

const W: u32 = 1920;
const H: u32 = 1080;

/// Xvfb and an xterm, stopped on drop.
struct Desktop {
    display: String,
    children: Vec<Child>,
}

impl Desktop {
    fn start() -> Desktop {
        let display = format!(":{}", 90 + std::process::id() % 50);
        let server = Command::new("Xvfb")
            .args([display.as_str(), "-screen", "0", &format!("{W}x{H}x24")])
            .args(["-noreset", "-nolisten", "tcp"])
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (make deps installs xvfb)");
        let mut desktop = Desktop {
            display,
            children: vec![server],
        };
        let socket = format!("/tmp/.X11-unix/X{}", &desktop.display[1..]);
        for _ in 0..100 {
            if std::path::Path::new(&socket).exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let xterm = Command::new("xterm")
            .args([
                "-geometry",
                "160x50+0+0",
                "-e",
                "sh",
                "-c",
                "ls -l /usr/bin; cat",
            ])
            .env("DISPLAY", &desktop.display)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("xterm");
        desktop.children.push(xterm);
        std::thread::sleep(Duration::from_secs(1));
        desktop
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The tile diff as the pipeline runs it: only where the capture says it fetched.
fn diff(
    tiles: &mut TileDiff,
    shown: &Frame,
    frame: &Frame,
    damage: Option<&[Rect]>,
    dirty: &mut Vec<Rect>,
) {
    let mut rects = Vec::new();
    let (before, after) = (shown.as_ref(), frame.as_ref());
    match damage {
        Some(areas) => tiles.diff_areas_into(&before, &after, areas, &mut rects),
        None => tiles.diff_into(&before, &after, &mut rects),
    }
    .expect("same size");
    dirty.clear();
    dirty.extend(rects.iter().map(|r| r.changed));
}

fn capture(c: &mut Criterion) {
    let desktop = Desktop::start();
    let mut group = c.benchmark_group("x11_1080p");
    let mut tiles = TileDiff::new(64);
    let mut dirty = Vec::new();
    for (name, shm) in [("whole_shm", true), ("whole_getimage", false)] {
        let mut source = X11Source::connect_with(Some(&desktop.display), shm).expect("display");
        assert_eq!(source.uses_shm(), shm);
        let mut frame = Frame::filled(1, 1, [0; 4]);
        source.next_frame(&mut frame).expect("capture");
        let shown = frame.clone();
        group.bench_function(format!("{name}/capture+diff"), |b| {
            b.iter(|| {
                source.invalidate();
                source.next_frame(&mut frame).expect("capture");
                diff(&mut tiles, &shown, &frame, source.damage(), &mut dirty);
            })
        });
    }

    // One character's worth of drawing (an 8x16 cell, as the xterm draws a glyph, in colours the
    // black root never has), made by
    // another client: the frame fetches only the damaged cell.
    let mut source = X11Source::connect(Some(&desktop.display)).expect("display");
    let mut frame = Frame::filled(1, 1, [0; 4]);
    source.next_frame(&mut frame).expect("capture");
    let (conn, screen) = x11rb::connect(Some(&desktop.display)).expect("display");
    let root = conn.setup().roots[screen].root;
    let gcs: Vec<u32> = [0xff0000, 0x00ff00]
        .iter()
        .map(|colour| {
            let gc = conn.generate_id().expect("id");
            conn.create_gc(gc, root, &CreateGCAux::new().foreground(*colour))
                .expect("gc");
            gc
        })
        .collect();
    let cell = Rectangle {
        x: 1800,
        y: 1000,
        width: 8,
        height: 16,
    };
    let shown = frame.clone();
    let mut turn = 0usize;
    group.bench_function("typed_char/capture+diff", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                turn += 1;
                conn.poly_fill_rectangle(root, gcs[turn % 2], &[cell])
                    .expect("draw");
                x11rb::wrapper::ConnectionExt::sync(&conn).expect("sync");
                // The damage event may trail the drawing by a moment: only the frame that
                // fetches it is timed.
                let before = source.requests();
                loop {
                    let start = Instant::now();
                    source.next_frame(&mut frame).expect("capture");
                    if source.requests() > before {
                        diff(&mut tiles, &shown, &frame, source.damage(), &mut dirty);
                        total += start.elapsed();
                        break;
                    }
                }
                assert_eq!(dirty.len(), 1);
            }
            total
        })
    });

    let shown = frame.clone();
    let before = source.requests();
    group.bench_function("idle/capture+diff", |b| {
        b.iter(|| {
            source.next_frame(&mut frame).expect("capture");
            source.pointer();
            diff(&mut tiles, &shown, &frame, source.damage(), &mut dirty);
        })
    });
    assert_eq!(source.requests(), before, "an idle screen was fetched");
    group.finish();
}

criterion_group!(benches, capture);
criterion_main!(benches);
