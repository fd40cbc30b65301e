//! Region codecs and the pipeline on real frames of the committed clips.

use beckon_engine::Update;
use beckon_engine::codec::classify::classify;
use beckon_engine::codec::{RegionDecoder, RegionEncoder, RegionKind};
use beckon_engine::corpus::ClipReader;
use beckon_engine::frame::{Frame, Rect, psnr_rgb};
use beckon_engine::pipeline::{Framebuffer, PipelineConfig, ScreenEncoder};

use crate::util::repo;

fn frame_of(clip: &str, index: usize) -> Frame {
    let mut reader = ClipReader::open(repo().join(format!("corpus/{clip}.bgra.zst"))).unwrap();
    let mut f = reader.blank_frame();
    for _ in 0..=index {
        assert!(
            reader.read_frame(&mut f).unwrap(),
            "{clip} has no frame {index}"
        );
    }
    f
}

/// Crops whose content is known from looking at the clips (corpus/README.md).
#[test]
fn classifier_on_real_crops() {
    let terminal = frame_of("terminal", 299);
    let drag = frame_of("drag", 0);
    let document = frame_of("document", 0);
    let cases = [
        (
            "terminal text",
            &terminal,
            Rect::new(130, 90, 256, 200),
            RegionKind::Lossless,
        ),
        (
            "terminal background",
            &terminal,
            Rect::new(900, 400, 100, 40),
            RegionKind::Solid,
        ),
        (
            "bark and bokeh wallpaper",
            &drag,
            Rect::new(0, 440, 256, 256),
            RegionKind::Av1,
        ),
        (
            "blurred background photo",
            &drag,
            Rect::new(960, 100, 256, 256),
            RegionKind::Av1,
        ),
        (
            "web page text",
            &document,
            Rect::new(150, 200, 400, 120),
            RegionKind::Lossless,
        ),
        (
            "photo in a web page",
            &document,
            Rect::new(150, 520, 200, 100),
            RegionKind::Av1,
        ),
        (
            "window title bar",
            &drag,
            Rect::new(362, 122, 200, 16),
            RegionKind::Lossless,
        ),
    ];
    for (what, frame, rect, expected) in cases {
        assert_eq!(
            classify(&frame.as_ref(), rect),
            expected,
            "{what} at {rect:?}"
        );
    }
}

#[test]
fn av1_round_trip_of_a_real_photo_is_close_and_lossless_is_exact() {
    let drag = frame_of("drag", 0);
    let rect = Rect::new(0, 440, 256, 256);
    let encoder = RegionEncoder::default();
    let mut decoder = RegionDecoder::default();
    let mut shown = Frame::filled(drag.width(), drag.height(), [0, 0, 0, 255]);
    let av1 = encoder
        .encode(&drag.as_ref(), rect, RegionKind::Av1)
        .unwrap();
    decoder.decode(&av1, &mut shown).unwrap();
    let psnr = psnr_rgb(&drag.as_ref(), &shown.as_ref(), rect);
    assert!(psnr > 35.0, "AV1 of the photo: {psnr:.1} dB");
    let lossless = encoder
        .encode(&drag.as_ref(), rect, RegionKind::Lossless)
        .unwrap();
    assert!(
        av1.payload.len() * 5 < lossless.payload.len(),
        "AV1 {} vs lossless {} bytes",
        av1.payload.len(),
        lossless.payload.len()
    );
    decoder.decode(&lossless, &mut shown).unwrap();
    for y in rect.y..rect.bottom() {
        for x in rect.x..rect.right() {
            assert_eq!(shown.as_ref().pixel(x, y), drag.as_ref().pixel(x, y));
        }
    }
}

/// The near form on real photos (the bark and bokeh wallpaper, the player's film and its
/// gradient wallpaper): at least 50 dB for less than the exact form's bytes.
#[test]
fn near_exact_photos_cost_a_fraction_of_exact_ones() {
    use beckon_engine::codec::lossless;
    // The most the near form may cost, in tenths of the exact form: bark is dense texture, the
    // player's desktop mostly soft gradients and blur.
    for (clip, rect, tenths) in [
        ("drag", Rect::new(0, 440, 256, 256), 9),
        ("player", Rect::new(0, 0, 1280, 720), 6),
    ] {
        let frame = frame_of(clip, 0);
        let near = lossless::encode_near(&frame.as_ref(), rect);
        let exact = lossless::encode(&frame.as_ref(), rect, 3);
        let pixels = lossless::decode(&near, rect).unwrap();
        let mut shown = frame.clone();
        for (i, p) in pixels.chunks_exact(4).enumerate() {
            let (x, y) = (i as u32 % rect.width, i as u32 / rect.width);
            shown.set_pixel(rect.x + x, rect.y + y, [p[0], p[1], p[2], p[3]]);
        }
        let psnr = psnr_rgb(&frame.as_ref(), &shown.as_ref(), rect);
        eprintln!(
            "{clip} {rect:?}: near {} B, exact {} B, {psnr:.2} dB",
            near.len(),
            exact.len()
        );
        assert!(psnr >= 50.0, "{clip}: {psnr:.2} dB");
        assert!(
            near.len() * 10 < exact.len() * tenths,
            "{clip}: near {} B, exact {} B",
            near.len(),
            exact.len()
        );
    }
}

/// The whole terminal clip through encoder, wire format and framebuffer: text stays exact
/// frame after frame, and refinement makes the end exact.
#[test]
fn terminal_clip_streams_exact_text_and_ends_exact() {
    let mut reader = ClipReader::open(repo().join("corpus/terminal.bgra.zst")).unwrap();
    let fps = reader.meta().fps as u64;
    let mut frame = reader.blank_frame();
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    let mut i = 0u64;
    let mut lossy_frames = 0;
    let text_area = Rect::new(128, 128, 896, 512); // whole tiles inside the xterm
    while reader.read_frame(&mut frame).unwrap() {
        let now = i * 1_000_000 / fps;
        for update in [
            encoder.encode(&frame.as_ref(), now).unwrap(),
            encoder.refine(now).unwrap(),
        ]
        .into_iter()
        .flatten()
        {
            viewer
                .apply(&Update::decode(&update.encode()).unwrap())
                .unwrap();
        }
        let shown = viewer.frame().unwrap();
        if shown != &frame {
            lossy_frames += 1;
        }
        for y in (text_area.y..text_area.bottom()).step_by(3) {
            for x in text_area.x..text_area.right() {
                assert_eq!(
                    shown.as_ref().pixel(x, y),
                    frame.as_ref().pixel(x, y),
                    "frame {i} at ({x}, {y})"
                );
            }
        }
        i += 1;
    }
    // The wallpaper went out as AV1 first, so some frames were not exact.
    assert!(lossy_frames > 0);
    while let Some(at) = encoder.next_refine_at() {
        let update = encoder.refine(at).unwrap().unwrap();
        viewer.apply(&update).unwrap();
    }
    assert_eq!(viewer.frame().unwrap(), &frame);
}

/// Every frame pair of the scrolling and dragging clips: moves are found where the content
/// moved (vertically in `document`, in both axes in `drag`), and every copy is exact.
#[test]
fn moves_in_real_scrolls_and_drags_are_found_and_exact() {
    use beckon_engine::diff::TileDiff;
    use beckon_engine::motion::{MotionConfig, MotionDetector};
    for (clip, wants_horizontal) in [("document", false), ("drag", true)] {
        let mut reader = ClipReader::open(repo().join(format!("corpus/{clip}.bgra.zst"))).unwrap();
        let (mut previous, mut current) = (reader.blank_frame(), reader.blank_frame());
        reader.read_frame(&mut previous).unwrap();
        let mut diff = TileDiff::new(64);
        let mut detector = MotionDetector::new(MotionConfig::default());
        let (mut dirty, mut frames_with_moves, mut horizontal, mut copied) =
            (Vec::new(), 0, 0, 0u64);
        while reader.read_frame(&mut current).unwrap() {
            diff.diff_into(&previous.as_ref(), &current.as_ref(), &mut dirty)
                .unwrap();
            let boxes: Vec<Rect> = dirty.iter().map(|d| d.changed).collect();
            let moves = detector.detect(&previous.as_ref(), &current.as_ref(), &boxes);
            for m in &moves {
                let source = m.source();
                for dy in 0..m.rect.height {
                    for dx in 0..m.rect.width {
                        assert_eq!(
                            previous.as_ref().pixel(source.x + dx, source.y + dy),
                            current.as_ref().pixel(m.rect.x + dx, m.rect.y + dy),
                            "{clip}: {m:?} is not a copy"
                        );
                    }
                }
                copied += m.rect.area();
                if m.offset().0 != 0 {
                    horizontal += 1;
                }
            }
            frames_with_moves += usize::from(!moves.is_empty());
            std::mem::swap(&mut previous, &mut current);
        }
        assert!(
            frames_with_moves >= 20,
            "{clip}: moves in only {frames_with_moves} frames"
        );
        assert!(copied >= 5_000_000, "{clip}: only {copied} pixels copied");
        assert_eq!(
            horizontal > 0,
            wants_horizontal,
            "{clip}: {horizontal} horizontal moves"
        );
    }
}

/// The video clip: the playing window becomes a stream, the idle xterm beside it stays exact,
/// and once the video stops, refinement ends the stream and the picture is exact.
#[test]
fn video_clip_streams_the_player_and_ends_exact() {
    let mut reader = ClipReader::open(repo().join("corpus/video.bgra.zst")).unwrap();
    let fps = u64::from(reader.meta().fps);
    let mut frame = reader.blank_frame();
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    let (mut i, mut video_regions, mut video_bytes, mut av1_bytes) = (0u64, 0, 0, 0);
    while reader.read_frame(&mut frame).unwrap() {
        let now = i * 1_000_000 / fps;
        for update in [
            encoder.encode(&frame.as_ref(), now).unwrap(),
            encoder.refine(now).unwrap(),
        ]
        .into_iter()
        .flatten()
        {
            for r in &update.regions {
                match r.kind {
                    RegionKind::Video => {
                        video_regions += 1;
                        video_bytes += r.payload.len();
                    }
                    RegionKind::Av1 if i > 0 => av1_bytes += r.payload.len(),
                    _ => {}
                }
            }
            viewer
                .apply(&Update::decode(&update.encode()).unwrap())
                .unwrap();
        }
        i += 1;
    }
    assert!(video_regions >= 100, "{video_regions} video regions");
    assert!(
        video_bytes < av1_bytes * 2,
        "{video_bytes} B of stream for the whole clip against {av1_bytes} B of intra pictures before it started"
    );
    let mut now = i * 1_000_000 / fps;
    while let Some(at) = encoder.next_refine_at() {
        now = now.max(at);
        if let Some(update) = encoder.refine(now).unwrap() {
            viewer.apply(&update).unwrap();
        }
    }
    assert_eq!(viewer.frame().unwrap(), &frame);
}
