//! What the Wayland capture benches (`wayland`, `portal`) share: the tile diff as the pipeline
//! runs it, timing the capture that brings a typed change, and waiting for a still screen.

use std::time::{Duration, Instant};

use beckon_engine::diff::TileDiff;
use beckon_engine::frame::{Frame, Rect};
use beckon_engine::pipeline::FrameSource;

/// The tile diff as the pipeline runs it: only where the capture says it fetched. Returns the
/// number of dirty rectangles.
pub fn diff(tiles: &mut TileDiff, shown: &Frame, frame: &Frame, damage: &[Rect]) -> usize {
    let mut rects = Vec::new();
    tiles
        .diff_areas_into(&shown.as_ref(), &frame.as_ref(), damage, &mut rects)
        .expect("same size");
    rects.len()
}

/// The key symbol of typing turn `turn` (from 1): a character, then a backspace that erases
/// it, so the line never wraps.
pub fn typed_keysym(turn: usize) -> u32 {
    if turn % 2 == 1 {
        u32::from(b'x')
    } else {
        0xff08
    }
}

/// Captures until a frame brings a change made at `since` (within 5 s), and times only that
/// capture plus its diff against `shown`; pushes how long the change took to arrive.
pub fn time_change<S: FrameSource>(
    source: &mut S,
    frame: &mut Frame,
    tiles: &mut TileDiff,
    shown: &Frame,
    since: Instant,
    arrivals: &mut Vec<Duration>,
) -> Duration {
    let deadline = since + Duration::from_secs(5);
    loop {
        let start = Instant::now();
        source.next_frame(frame).expect("capture");
        let damage = source.damage().unwrap_or_default();
        if !damage.is_empty() {
            std::hint::black_box(diff(tiles, shown, frame, damage));
            let took = start.elapsed();
            arrivals.push(since.elapsed());
            return took;
        }
        assert!(
            Instant::now() < deadline,
            "the typed character never showed"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Prints the median and worst of `arrivals` for `group`, through `path` (what lies between
/// the key and the capture).
pub fn report_arrivals(group: &str, arrivals: &mut [Duration], path: &str) {
    arrivals.sort();
    if let (Some(median), Some(worst)) = (arrivals.get(arrivals.len() / 2), arrivals.last()) {
        println!(
            "{group}: a typed character reached the capture after {median:?} (median), \
             {worst:?} (worst) of {} ({path}; polled every 0.2 ms)",
            arrivals.len()
        );
    }
}

/// Captures until a second has passed with nothing new (the last drawing has come through).
pub fn settle<S: FrameSource>(source: &mut S, frame: &mut Frame) {
    let mut still = Instant::now();
    while still.elapsed() < Duration::from_secs(1) {
        source.next_frame(frame).expect("capture");
        if !source.damage().unwrap_or_default().is_empty() {
            still = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(30));
    }
}
