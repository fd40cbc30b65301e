use proptest::prelude::*;

use super::plan::{bands, split};
use super::*;
use crate::codec::tests::{first_frame, photo, text};
use crate::motion::MotionConfig;
use crate::wire::WireError;

fn paste_frame(dst: &mut Frame, src: &Frame, x0: u32, y0: u32) {
    for y in 0..src.height() {
        for x in 0..src.width() {
            dst.set_pixel(x0 + x, y0 + y, src.as_ref().pixel(x, y));
        }
    }
}

/// A desktop: a photo wallpaper with a text window on it.
fn desktop() -> Frame {
    let mut f = photo(400, 300);
    paste_frame(&mut f, &text(200, 120), 20, 30);
    f
}

fn apply(viewer: &mut Framebuffer, update: &Update) {
    let bytes = update.encode();
    assert_eq!(bytes.len(), update.wire_size());
    viewer.apply(&Update::decode(&bytes).unwrap()).unwrap();
}

#[test]
fn first_update_is_the_whole_screen_and_nothing_changed_is_none() {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let screen = desktop();
    let first = encoder.encode(&screen.as_ref(), 0).unwrap().unwrap();
    let covered: u64 = first.regions.iter().map(|r| r.rect.area()).sum();
    assert!(covered >= 400 * 300, "first update covers {covered} pixels");
    assert!(
        first.regions.iter().any(|r| r.kind == RegionKind::Av1),
        "the wallpaper goes to AV1"
    );
    assert!(
        first.regions.iter().any(|r| r.kind == RegionKind::Lossless),
        "the text goes lossless"
    );
    assert_eq!(encoder.encode(&screen.as_ref(), 33_000).unwrap(), None);
}

#[test]
fn lossy_tiles_are_refined_after_the_delay_and_the_screen_ends_exact() {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    let screen = desktop();
    let first = encoder.encode(&screen.as_ref(), 0).unwrap().unwrap();
    assert!(!first.exact, "the update says its picture is lossy");
    apply(&mut viewer, &first);
    assert_ne!(viewer.frame().unwrap(), &screen, "AV1 is lossy");
    // Tiles wholly inside the text window are exact at once (mixed tiles wait for refinement).
    for y in 64..128 {
        for x in 64..192 {
            assert_eq!(
                viewer.frame().unwrap().as_ref().pixel(x, y),
                screen.as_ref().pixel(x, y)
            );
        }
    }
    assert_eq!(encoder.next_refine_at(), Some(200_000));
    assert_eq!(encoder.refine(199_999).unwrap(), None);
    let refine = encoder.refine(200_000).unwrap().unwrap();
    assert!(refine.regions.iter().all(|r| r.kind.is_exact()));
    assert!(
        refine.exact,
        "the last refinement says the picture is exact"
    );
    apply(&mut viewer, &refine);
    assert_eq!(viewer.frame().unwrap(), &screen);
    assert_eq!(encoder.next_refine_at(), None);
    assert_eq!(encoder.refine(10_000_000).unwrap(), None);
}

/// A whole screen sends a page of antialiased text coarse (fewer bytes for the first picture on
/// a slow link), and refinement makes that text exact before the photos.
#[test]
fn a_first_screen_shows_many_coloured_text_coarse_and_refines_it_first() {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    // The document clip: a page of greyscale-antialiased text beside a photo.
    let screen = first_frame("document");
    let first = encoder.encode(&screen.as_ref(), 0).unwrap().unwrap();
    apply(&mut viewer, &first);
    assert!(!first.exact);
    // The page's first text tile, 64 pixels in, is neither exact nor far off.
    let tile = Rect::new(256, 128, 64, 64);
    let shown = crate::codec::crop(&viewer.frame().unwrap().as_ref(), tile);
    let sharer = crate::codec::crop(&screen.as_ref(), tile);
    assert_ne!(shown, sharer);
    let db = crate::frame::psnr_rgb(&viewer.frame().unwrap().as_ref(), &screen.as_ref(), tile);
    assert!(db > 40.0, "coarse text at {db:.1} dB");
    // Refinement takes the page's text before the photos, pieces the size a photo's would be.
    let first_piece = encoder.refine_within(1_000_000, 64 * 64).unwrap().unwrap();
    apply(&mut viewer, &first_piece);
    assert!(
        (first_piece.regions.iter())
            .all(|r| r.rect.intersection(&Rect::new(192, 64, 896, 384)) == Some(r.rect)),
        "{first_piece:?}"
    );
    let text_area: u64 = first_piece.regions.iter().map(|r| r.rect.area()).sum();
    assert!(
        text_area > 4 * 64 * 64,
        "only {text_area} pixels of text in a piece"
    );
    let mut pieces = 0;
    while let Some(update) = encoder.refine_within(1_000_000, 64 * 64).unwrap() {
        apply(&mut viewer, &update);
        pieces += 1;
        assert!(pieces < 2000);
    }
    assert_eq!(viewer.frame().unwrap(), &screen, "exact in the end");
}

/// On a link that would need many pieces for the exact pixels, the soft photographic tiles are
/// first brought over 50 dB, for less than their exact pixels cost, and only then made exact.
#[test]
fn on_a_slow_link_photos_are_refined_near_exactly_first() {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    // A real desktop: the player clip's gradient wallpaper, film and terminal.
    let screen = first_frame("player");
    apply(
        &mut viewer,
        &encoder.encode(&screen.as_ref(), 0).unwrap().unwrap(),
    );
    // The wallpaper's top right corner and the film (corpus/README.md).
    let photo_tiles = Rect::new(896, 0, 384, 128);
    let psnr = |viewer: &Framebuffer| {
        crate::frame::psnr_rgb(
            &viewer.frame().unwrap().as_ref(),
            &screen.as_ref(),
            photo_tiles,
        )
    };
    let (mut near_reached, mut pieces) = (None, 0);
    let mut said_exact = false;
    while let Some(update) = encoder.refine_within(1_000_000, 2 * 64 * 64).unwrap() {
        apply(&mut viewer, &update);
        assert!(!said_exact, "a piece came after the picture was said exact");
        said_exact = update.exact;
        if said_exact {
            assert_eq!(viewer.frame().unwrap(), &screen, "said exact, and is");
        }
        pieces += 1;
        assert!(pieces < 1000);
        let db = psnr(&viewer);
        if near_reached.is_none() && db >= 50.0 {
            assert!(db < 100.0, "the photo went straight to exact");
            near_reached = Some(pieces);
        }
    }
    let near_reached = near_reached.expect("the photo reached 50 dB");
    assert_eq!(viewer.frame().unwrap(), &screen, "exact in the end");
    assert!(said_exact, "the last piece said the picture is exact");
    assert!(
        pieces > near_reached,
        "exact pixels came after the near stage"
    );
    // (What the near stage saves is measured on real photos: `tests/tests/codec.rs`.)
}

#[test]
fn typing_costs_a_glyph_and_stays_exact() {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    let mut screen = desktop();
    apply(
        &mut viewer,
        &encoder.encode(&screen.as_ref(), 0).unwrap().unwrap(),
    );
    for i in 0..5 {
        for y in 100..112 {
            for x in 70 + i * 8..76 + i * 8 {
                screen.set_pixel(x, y, [255, 255, 255, 255]);
            }
        }
        let update = encoder
            .encode(&screen.as_ref(), (i as u64 + 1) * 33_000)
            .unwrap()
            .unwrap();
        assert_eq!(update.regions.len(), 1, "{update:?}");
        assert_eq!(update.regions[0].rect, Rect::new(70 + i * 8, 100, 6, 12));
        assert!(
            update.wire_size() < 200,
            "a glyph took {} bytes",
            update.wire_size()
        );
        apply(&mut viewer, &update);
        for y in 64..128 {
            for x in 64..192 {
                assert_eq!(
                    viewer.frame().unwrap().as_ref().pixel(x, y),
                    screen.as_ref().pixel(x, y)
                );
            }
        }
    }
}

/// A screen of text goes exact at once, and each update says so; a photo coming in takes it
/// back to lossy.
#[test]
fn updates_say_whether_the_picture_is_exact() {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut screen = text(256, 128);
    let first = encoder.encode(&screen.as_ref(), 0).unwrap().unwrap();
    assert!(first.regions.iter().all(|r| r.kind.is_exact()), "{first:?}");
    assert!(first.exact);
    screen.set_pixel(5, 5, [255, 0, 0, 255]);
    assert!(
        encoder
            .encode(&screen.as_ref(), 33_000)
            .unwrap()
            .unwrap()
            .exact
    );
    paste_frame(&mut screen, &photo(128, 128), 128, 0);
    let photo_in = encoder.encode(&screen.as_ref(), 66_000).unwrap().unwrap();
    assert!(photo_in.regions.iter().any(|r| r.kind == RegionKind::Av1));
    assert!(!photo_in.exact);
    let refined = encoder.refine(10_000_000).unwrap().unwrap();
    assert!(refined.exact);
}

#[test]
fn a_resized_screen_is_sent_whole() {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    apply(
        &mut viewer,
        &encoder.encode(&text(100, 80).as_ref(), 0).unwrap().unwrap(),
    );
    let bigger = text(130, 90);
    apply(
        &mut viewer,
        &encoder.encode(&bigger.as_ref(), 1).unwrap().unwrap(),
    );
    assert_eq!(viewer.frame().unwrap(), &bigger);
}

#[test]
fn oversized_screens_are_refused() {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let huge = Frame::filled(8193, 1, [0; 4]);
    assert!(matches!(
        encoder.encode(&huge.as_ref(), 0),
        Err(PipelineError::TooLarge { .. })
    ));
}

#[test]
fn split_covers_exactly() {
    let r = Rect::new(3, 5, 1000, 333);
    let pieces: Vec<Rect> = split(r, 320).collect();
    assert_eq!(pieces.len(), 4 * 2);
    assert!(
        pieces
            .iter()
            .all(|p| p.width <= 320 && p.height <= 320 && r.contains_rect(p))
    );
    assert_eq!(pieces.iter().map(Rect::area).sum::<u64>(), r.area());
}

fn sample_update() -> Vec<u8> {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut screen = photo(96, 64);
    paste_frame(&mut screen, &text(40, 30), 5, 5);
    encoder
        .encode(&screen.as_ref(), 7)
        .unwrap()
        .unwrap()
        .encode()
}

/// An update for the screen of [`sample_update`] with the kinds a first screen has not: copies
/// (one overlapping its source), a restore and a solid region.
fn sample_steady_update() -> Vec<u8> {
    Update {
        refinement: false,
        exact: false,
        seq: 2,
        timestamp_us: 8,
        width: 96,
        height: 64,
        regions: vec![
            EncodedRegion::copy(Rect::new(8, 8, 40, 30), 4, 6),
            EncodedRegion::copy(Rect::new(60, 0, 30, 20), 50, 40),
            EncodedRegion::restore(Rect::new(4, 6, 4, 30)),
            EncodedRegion {
                rect: Rect::new(1, 1, 3, 3),
                kind: RegionKind::Solid,
                payload: vec![1, 2, 3, 255],
            },
        ],
    }
    .encode()
}

#[test]
fn wire_errors_say_what_is_wrong() {
    let good = sample_update();
    assert!(Update::decode(&good).is_ok());
    assert_eq!(Update::decode(b"XYZ\x01"), Err(WireError::BadMagic));
    // Version 2 had no restores and no layer beneath; version 3 no flags; version 4 no exact
    // flag.
    let mut older = good.clone();
    for version in [2, 4] {
        older[2] = version;
        assert_eq!(Update::decode(&older), Err(WireError::Version(version)));
    }
    assert_eq!(
        Update::decode(b"BKU\x03\x01\x07"),
        Err(WireError::Version(3))
    );
    let mut flagged = good.clone();
    for (flags, refinement, exact) in [(1, true, false), (2, false, true), (3, true, true)] {
        flagged[3] = flags;
        let update = Update::decode(&flagged).unwrap();
        assert_eq!((update.refinement, update.exact), (refinement, exact));
        assert_eq!(update.encode(), flagged);
    }
    flagged[3] = 4;
    assert!(matches!(
        Update::decode(&flagged),
        Err(WireError::Limit { field: "flags", .. })
    ));
    assert!(matches!(
        Update::decode(&good[..good.len() - 1]),
        Err(WireError::Truncated {
            what: "region payload",
            needed: 1
        })
    ));
    let mut extra = good.clone();
    extra.push(0);
    assert_eq!(Update::decode(&extra), Err(WireError::TrailingBytes(1)));
    // Headers written by hand: sequence 1, timestamp 7, then these numbers.
    let header = |numbers: &[u64]| {
        let mut bytes = b"BK\x05\x00".to_vec();
        for &v in [1, 7].iter().chain(numbers) {
            crate::wire::varint::put(&mut bytes, v);
        }
        bytes
    };
    assert_eq!(Update::decode(&header(&[96, 64, 0])).unwrap().width, 96);
    for (numbers, field) in [
        (&[9000, 64, 0][..], "width"),
        (&[96, 0, 0], "height"),
        (&[96, 64, 5000], "region count"),
    ] {
        assert!(
            matches!(Update::decode(&header(numbers)), Err(WireError::Limit { field: f, .. }) if f == field),
            "{field}: {:?}",
            Update::decode(&header(numbers))
        );
    }
    // Varints longer than 64 bits: eleven bytes, or a tenth byte above 1.
    let mut long = b"BK\x05\x00".to_vec();
    long.extend_from_slice(&[0xff; 10]);
    long.push(0x01);
    assert_eq!(
        Update::decode(&long),
        Err(WireError::BadNumber("sequence number"))
    );
    let mut overflow = header(&[96, 64, 1]);
    overflow.extend_from_slice(&[1, 0, 0, 1, 1]);
    overflow.extend_from_slice(&[0xff; 9]);
    overflow.push(0x7f);
    assert_eq!(
        Update::decode(&overflow),
        Err(WireError::BadNumber("payload length"))
    );
    let error = Update::decode(&overflow).unwrap_err().to_string();
    assert!(error.contains("payload length"), "{error}");
}

#[test]
fn a_steady_update_costs_few_header_bytes() {
    // A steady update is small: a typed glyph's header and region cost 23 bytes, not 39.
    let glyph = Update {
        refinement: false,
        exact: false,
        seq: 1234,
        timestamp_us: 60_000_000,
        width: 1920,
        height: 1080,
        regions: vec![EncodedRegion {
            rect: Rect::new(1000, 500, 8, 16),
            kind: RegionKind::Lossless,
            payload: vec![0; 20],
        }],
    };
    assert_eq!(glyph.wire_size(), glyph.encode().len());
    assert_eq!(glyph.wire_size() - 20, 23);
    assert_eq!(Update::decode(&glyph.encode()).unwrap(), glyph);
    // A receiver orders updates by a sequence number it reads without decoding them.
    assert_eq!(Update::peek_seq(&glyph.encode()), Some(1234));
    let mut v1 = glyph.encode();
    v1[2] = 1;
    assert_eq!(Update::peek_seq(&v1), None);
    assert_eq!(Update::peek_seq(b"BK\x05"), None);
    // Refinement is one bit of the flags byte: it costs nothing.
    let refined = Update {
        refinement: true,
        exact: false,
        ..glyph.clone()
    };
    assert_eq!(refined.encode().len(), glyph.encode().len());
    assert_eq!(Update::decode(&refined.encode()).unwrap(), refined);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Update::decode(&bytes);
        let mut with_magic = b"BK\x05\x00".to_vec();
        with_magic.extend_from_slice(&bytes);
        if let Ok(update) = Update::decode(&with_magic) {
            let _ = Framebuffer::new().apply(&update);
        }
    }

    #[test]
    fn mutated_updates_are_errors_not_crashes(
        flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..6),
        cut in any::<usize>(),
        huge_at in any::<usize>(),
        mode in 0u8..3,
    ) {
        let good = sample_update();
        let mut bytes = good.clone();
        match mode {
            0 => for (at, bit) in &flips { let i = at % bytes.len(); bytes[i] ^= 1 << bit; },
            1 => bytes.truncate(cut % bytes.len()),
            _ => {
                // A length field set huge: the count, a dimension, or a payload length.
                let i = huge_at % (bytes.len() - 4);
                bytes[i..i + 4].copy_from_slice(&u32::MAX.to_le_bytes());
            }
        }
        let mut viewer = Framebuffer::new();
        viewer.apply(&Update::decode(&good).unwrap()).unwrap();
        let before = viewer.frame().unwrap().clone();
        if let Ok(update) = Update::decode(&bytes)
            && viewer.apply(&update).is_err()
        {
            prop_assert_eq!(viewer.frame().unwrap(), &before, "a failed update changed the screen");
        }
    }

    #[test]
    fn mutated_copies_and_restores_are_errors_not_crashes(
        flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..6),
        cut in any::<usize>(),
        truncate in any::<bool>(),
    ) {
        let mut viewer = Framebuffer::new();
        viewer.apply(&Update::decode(&sample_update()).unwrap()).unwrap();
        let steady = sample_steady_update();
        let mut bytes = steady.clone();
        if truncate {
            bytes.truncate(cut % bytes.len());
        } else {
            for (at, bit) in &flips {
                let i = at % bytes.len();
                bytes[i] ^= 1 << bit;
            }
        }
        let before = viewer.frame().unwrap().clone();
        if let Ok(update) = Update::decode(&bytes)
            && viewer.apply(&update).is_err()
        {
            prop_assert_eq!(viewer.frame().unwrap(), &before, "a failed update changed the screen");
        }
        // Whatever the layer beneath took, the next good update still applies.
        viewer.apply(&Update::decode(&steady).unwrap()).unwrap();
    }

    #[test]
    fn crafted_copies_and_restores_never_panic(
        regions in proptest::collection::vec(
            (0u32..96, 0u32..64, 1u32..48, 1u32..40, 0u32..96, 0u32..64, any::<bool>()),
            1..200,
        ),
    ) {
        let mut viewer = Framebuffer::new();
        viewer.apply(&Update::decode(&sample_update()).unwrap()).unwrap();
        let regions = regions
            .into_iter()
            .filter(|&(x, y, w, h, fx, fy, _)| {
                x + w <= 96 && y + h <= 64 && fx + w <= 96 && fy + h <= 64
            })
            .map(|(x, y, w, h, fx, fy, copy)| {
                let rect = Rect::new(x, y, w, h);
                if copy { EncodedRegion::copy(rect, fx, fy) } else { EncodedRegion::restore(rect) }
            })
            .collect();
        let update = Update { seq: 2, refinement: false, exact: false, timestamp_us: 8, width: 96, height: 64, regions };
        let area: u64 = update.regions.iter().map(|r| r.rect.area()).sum();
        match viewer.apply(&Update::decode(&update.encode()).unwrap()) {
            Ok(()) => prop_assert!(area <= DECODE_BUDGET * 96 * 64),
            Err(ApplyError::TooLarge { .. }) => prop_assert!(area > DECODE_BUDGET * 96 * 64),
            Err(other) => prop_assert!(false, "{other}"),
        }
    }
}

#[test]
fn refinement_in_pieces_ends_exact_too() {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    let screen = desktop();
    apply(
        &mut viewer,
        &encoder.encode(&screen.as_ref(), 0).unwrap().unwrap(),
    );
    let mut pieces = 0;
    while let Some(update) = encoder.refine_within(1_000_000, 2 * 64 * 64).unwrap() {
        let area: u64 = update.regions.iter().map(|r| r.rect.area()).sum();
        assert!(area <= 2 * 64 * 64, "a piece of {area} pixels");
        apply(&mut viewer, &update);
        pieces += 1;
        assert!(pieces < 100);
    }
    assert!(pieces > 1);
    assert_eq!(viewer.frame().unwrap(), &screen);
}

/// On a slow link a piece may be smaller than a tile: the tile goes a few rows at a time, from
/// the top, and is owed until its last row went.
#[test]
fn refinement_smaller_than_a_tile_goes_a_few_rows_at_a_time() {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    let screen = photo(64, 64);
    apply(
        &mut viewer,
        &encoder.encode(&screen.as_ref(), 0).unwrap().unwrap(),
    );
    let mut rows = Vec::new();
    while let Some(update) = encoder.refine_within(1_000_000, 64 * 20).unwrap() {
        assert_eq!(update.regions.len(), 1, "{update:?}");
        let rect = update.regions[0].rect;
        assert_eq!((rect.x, rect.width), (0, 64));
        rows.push((rect.y, rect.height));
        apply(&mut viewer, &update);
        assert!(rows.len() < 10);
    }
    // (Near pixels would cost nearly what exact ones do on this noise: straight to exact.)
    assert_eq!(rows, vec![(0, 20), (20, 20), (40, 20), (60, 4)]);
    assert_eq!(viewer.frame().unwrap(), &screen);
    assert_eq!(encoder.next_refine_at(), None);
    // Never fewer rows than compress well.
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    encoder.encode(&screen.as_ref(), 0).unwrap().unwrap();
    let thin = encoder.refine_within(1_000_000, 64).unwrap().unwrap();
    assert_eq!(thin.regions[0].rect, Rect::new(0, 0, 64, 16));
    // A tile shown lossy again after a partial refinement owes every row again.
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    encoder.encode(&screen.as_ref(), 0).unwrap().unwrap();
    let first = encoder.refine_within(1_000_000, 64 * 20).unwrap().unwrap();
    assert_eq!(first.regions[0].rect, Rect::new(0, 0, 64, 20));
    let other = photo(64, 64);
    let mut changed = other.clone();
    for y in 0..64 {
        for x in 0..64 {
            let p = other.as_ref().pixel(63 - x, y);
            changed.set_pixel(x, y, p);
        }
    }
    encoder
        .encode(&changed.as_ref(), 1_100_000)
        .unwrap()
        .unwrap();
    let again = encoder.refine_within(2_000_000, 64 * 20).unwrap().unwrap();
    assert_eq!(
        again.regions[0].rect,
        Rect::new(0, 0, 64, 20),
        "from the top again"
    );
}

/// Applies a copy of `rect`'s block from (`fx`, `fy`) to a numbered screen and checks it against
/// the copy made from an untouched original.
fn check_copy(rect: Rect, fx: u32, fy: u32) {
    let mut screen = Frame::filled(64, 48, [0, 0, 0, 255]);
    for y in 0..48 {
        for x in 0..64 {
            screen.set_pixel(x, y, [x as u8, y as u8, (x * y) as u8, 255]);
        }
    }
    let mut viewer = Framebuffer::new();
    let whole = EncodedRegion {
        rect: screen.as_ref().bounds(),
        kind: RegionKind::Lossless,
        payload: crate::codec::lossless::encode(&screen.as_ref(), screen.as_ref().bounds(), 3),
    };
    let update = |seq, regions| Update {
        refinement: false,
        exact: false,
        seq,
        timestamp_us: 0,
        width: 64,
        height: 48,
        regions,
    };
    apply(&mut viewer, &update(1, vec![whole]));
    apply(
        &mut viewer,
        &update(2, vec![EncodedRegion::copy(rect, fx, fy)]),
    );
    let mut expected = screen.clone();
    for y in 0..rect.height {
        for x in 0..rect.width {
            expected.set_pixel(
                rect.x + x,
                rect.y + y,
                screen.as_ref().pixel(fx + x, fy + y),
            );
        }
    }
    assert_eq!(
        viewer.frame().unwrap(),
        &expected,
        "copy to {rect:?} from ({fx}, {fy})"
    );
}

#[test]
fn overlapping_copies_move_pixels_correctly_in_every_direction() {
    check_copy(Rect::new(4, 10, 40, 30), 4, 3); // down, overlapping
    check_copy(Rect::new(4, 3, 40, 30), 4, 10); // up, overlapping
    check_copy(Rect::new(9, 5, 40, 30), 2, 5); // right, same rows
    check_copy(Rect::new(2, 5, 40, 30), 9, 5); // left, same rows
    check_copy(Rect::new(10, 12, 30, 30), 3, 2); // diagonal
}

#[test]
fn copies_read_the_screen_as_it_was_before_the_update() {
    // Two copies that swap blocks: each must read the other's old pixels.
    let mut viewer = Framebuffer::new();
    let mut screen = Frame::filled(32, 16, [10, 10, 10, 255]);
    for y in 0..16 {
        for x in 16..32 {
            screen.set_pixel(x, y, [200, 100, 50, 255]);
        }
    }
    let region = |rect, payload| EncodedRegion {
        rect,
        kind: RegionKind::Lossless,
        payload,
    };
    let first = Update {
        refinement: false,
        exact: false,
        seq: 1,
        timestamp_us: 0,
        width: 32,
        height: 16,
        regions: vec![region(
            screen.as_ref().bounds(),
            crate::codec::lossless::encode(&screen.as_ref(), screen.as_ref().bounds(), 3),
        )],
    };
    apply(&mut viewer, &first);
    let swap = Update {
        refinement: false,
        exact: false,
        seq: 2,
        timestamp_us: 0,
        width: 32,
        height: 16,
        regions: vec![
            EncodedRegion::copy(Rect::new(0, 0, 16, 16), 16, 0),
            EncodedRegion::copy(Rect::new(16, 0, 16, 16), 0, 0),
        ],
    };
    apply(&mut viewer, &swap);
    let shown = viewer.frame().unwrap().as_ref();
    assert_eq!(
        (shown.pixel(0, 0), shown.pixel(31, 15)),
        ([200, 100, 50, 255], [10, 10, 10, 255])
    );
}

#[test]
fn bad_copies_are_refused_and_change_nothing() {
    let mut viewer = Framebuffer::new();
    let copy_first = Update {
        refinement: false,
        exact: false,
        seq: 1,
        timestamp_us: 0,
        width: 32,
        height: 16,
        regions: vec![EncodedRegion::copy(Rect::new(0, 0, 8, 8), 4, 4)],
    };
    let err = viewer.apply(&copy_first).unwrap_err();
    assert!(
        err.to_string().contains("nothing is on the screen yet"),
        "{err}"
    );
    apply(
        &mut viewer,
        &Update {
            refinement: false,
            exact: false,
            seq: 1,
            timestamp_us: 0,
            width: 32,
            height: 16,
            regions: vec![EncodedRegion {
                rect: Rect::new(0, 0, 32, 16),
                kind: RegionKind::Solid,
                payload: vec![1, 2, 3, 255],
            }],
        },
    );
    let before = viewer.frame().unwrap().clone();
    for (copy, says) in [
        (
            EncodedRegion::copy(Rect::new(0, 0, 8, 8), 28, 0),
            "leaves the 32x16 screen",
        ),
        (
            EncodedRegion {
                rect: Rect::new(0, 0, 8, 8),
                kind: RegionKind::Copy,
                payload: vec![1, 2, 3],
            },
            "not two offsets",
        ),
        (
            EncodedRegion {
                rect: Rect::new(0, 0, 8, 8),
                kind: RegionKind::Copy,
                // Moved 5 right: from column -5.
                payload: vec![10, 0],
            },
            "leading onto the screen",
        ),
    ] {
        let update = Update {
            refinement: false,
            exact: false,
            seq: 2,
            timestamp_us: 0,
            width: 32,
            height: 16,
            regions: vec![copy],
        };
        let decoded = Update::decode(&update.encode()).unwrap();
        let err = viewer.apply(&decoded).unwrap_err();
        assert!(err.to_string().contains(says), "{err}");
        assert_eq!(viewer.frame().unwrap(), &before);
    }
}

#[test]
fn a_restore_brings_back_what_a_copy_covered() {
    // Numbered pixels; a 16x16 block moves 8 right, then back with a restore of what it covered.
    let mut screen = Frame::filled(48, 16, [0, 0, 0, 255]);
    for y in 0..16 {
        for x in 0..48 {
            screen.set_pixel(x, y, [x as u8, y as u8, 7, 255]);
        }
    }
    let update = |seq, regions| Update {
        refinement: false,
        exact: false,
        seq,
        timestamp_us: 0,
        width: 48,
        height: 16,
        regions,
    };
    let mut viewer = Framebuffer::new();
    let restore_first = viewer
        .apply(&update(
            1,
            vec![EncodedRegion::restore(Rect::new(0, 0, 8, 8))],
        ))
        .unwrap_err();
    assert!(
        restore_first
            .to_string()
            .contains("nothing is on the screen yet")
    );
    let whole = EncodedRegion {
        rect: screen.as_ref().bounds(),
        kind: RegionKind::Lossless,
        payload: crate::codec::lossless::encode(&screen.as_ref(), screen.as_ref().bounds(), 3),
    };
    apply(&mut viewer, &update(1, vec![whole]));
    let block = Rect::new(0, 0, 16, 16);
    apply(
        &mut viewer,
        &update(2, vec![EncodedRegion::copy(Rect::new(8, 0, 16, 16), 0, 0)]),
    );
    assert_eq!(
        viewer.frame().unwrap().as_ref().pixel(16, 3),
        [8, 3, 7, 255]
    );
    apply(
        &mut viewer,
        &update(
            3,
            vec![
                EncodedRegion::copy(block, 8, 0),
                EncodedRegion::restore(Rect::new(16, 0, 8, 16)),
            ],
        ),
    );
    assert_eq!(
        viewer.frame().unwrap(),
        &screen,
        "the covered columns came back"
    );
    // A restore with a payload is refused, and changes nothing.
    let bad = EncodedRegion {
        payload: vec![1],
        ..EncodedRegion::restore(block)
    };
    let err = viewer
        .apply(&Update::decode(&update(4, vec![bad]).encode()).unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("a restore has none"), "{err}");
    assert_eq!(viewer.frame().unwrap(), &screen);
}

/// A photo wallpaper with a text window at column `x`.
fn window_at(x: u32) -> Frame {
    let mut f = photo(400, 240);
    paste_frame(&mut f, &text(120, 80), x, 60);
    f
}

/// Drags the window of [`window_at`] 8 columns a frame from 40 to 120 and back, after
/// refinement when `refined_first`; returns the updates of the way back, whether the viewer
/// showed the wallpaper the window uncovered on its way back exactly at every step, and whether
/// it ends exact after refinement.
fn drag_there_and_back(refined_first: bool) -> (Vec<Update>, bool, bool) {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    let mut now = 0;
    apply(
        &mut viewer,
        &encoder
            .encode(&window_at(40).as_ref(), now)
            .unwrap()
            .unwrap(),
    );
    if refined_first {
        now = 1_000_000;
        while let Some(update) = encoder.refine(now).unwrap() {
            apply(&mut viewer, &update);
        }
    }
    let mut back = Vec::new();
    let mut every_step_exact = true;
    let path = (40..=120).step_by(8).chain((40..120).step_by(8).rev());
    for (i, x) in path.enumerate().skip(1) {
        now += 33_000;
        let update = encoder
            .encode(&window_at(x).as_ref(), now)
            .unwrap()
            .unwrap();
        apply(&mut viewer, &update);
        if i > 10 {
            let uncovered = Rect::from_edges(x + 120, 0, 240, 240);
            every_step_exact &= crate::codec::crop(&viewer.frame().unwrap().as_ref(), uncovered)
                == crate::codec::crop(&window_at(x).as_ref(), uncovered);
            back.push(update);
        }
    }
    while let Some(at) = encoder.next_refine_at() {
        if let Some(update) = encoder.refine(at).unwrap() {
            apply(&mut viewer, &update);
        }
    }
    (
        back,
        every_step_exact,
        viewer.frame().unwrap() == &window_at(40),
    )
}

#[test]
fn a_window_dragged_away_and_back_restores_the_wallpaper_it_covered() {
    let (back, every_step_exact, exact) = drag_there_and_back(true);
    // Restores of exact wallpaper: what the window uncovers is exact at once.
    assert!(every_step_exact && exact);
    assert_eq!(back.len(), 10);
    for update in &back {
        let kinds: Vec<RegionKind> = update.regions.iter().map(|r| r.kind).collect();
        assert!(kinds.contains(&RegionKind::Restore), "{:?}", update.regions);
        // The wallpaper was shown exactly: nothing of it is sent again.
        assert!(!kinds.contains(&RegionKind::Av1), "{kinds:?}");
        assert!(
            update.wire_size() < 200,
            "{} bytes: {:?}",
            update.wire_size(),
            update.regions
        );
    }
}

#[test]
fn a_restore_of_wallpaper_shown_lossy_is_refined_to_exact() {
    let (back, _, exact) = drag_there_and_back(false);
    assert!(
        back.iter()
            .any(|u| u.regions.iter().any(|r| r.kind == RegionKind::Restore))
    );
    assert!(exact, "refinement made the restored wallpaper exact");
}

#[test]
fn what_a_moving_window_uncovers_is_coded_lower_and_refined_exact() {
    // The window's first steps uncover wallpaper never shown: AV1 strips beside copies.
    let av1_bytes = |drop: u8| {
        let mut encoder = ScreenEncoder::new(PipelineConfig {
            moving_quality_drop: drop,
            ..PipelineConfig::default()
        });
        let mut viewer = Framebuffer::new();
        apply(
            &mut viewer,
            &encoder.encode(&window_at(40).as_ref(), 0).unwrap().unwrap(),
        );
        let mut bytes = 0;
        for (i, x) in (48..=96).step_by(8).enumerate() {
            let update = encoder
                .encode(&window_at(x).as_ref(), 33_000 * (i as u64 + 1))
                .unwrap()
                .unwrap();
            assert!(update.regions.iter().any(|r| r.kind == RegionKind::Copy));
            bytes += update
                .regions
                .iter()
                .filter(|r| r.kind == RegionKind::Av1)
                .map(|r| r.payload.len())
                .sum::<usize>();
            apply(&mut viewer, &update);
        }
        while let Some(at) = encoder.next_refine_at() {
            if let Some(update) = encoder.refine(at).unwrap() {
                apply(&mut viewer, &update);
            }
        }
        assert_eq!(viewer.frame().unwrap(), &window_at(96), "exact once still");
        bytes
    };
    // The encoder is deterministic: the same quality would give the same bytes.
    let (same, lower) = (av1_bytes(0), av1_bytes(20));
    assert!(lower > 0 && lower < same, "{lower} B against {same} B");
}

#[test]
fn an_l_of_changes_is_cut_into_the_bands_it_is_made_of() {
    let before = photo(64, 64);
    let mut after = before.clone();
    let mut change = |x0: u32, y0: u32, x1: u32, y1: u32| {
        for y in y0..y1 {
            for x in x0..x1 {
                after.set_pixel(x, y, [9, 9, 9, 255]);
            }
        }
    };
    change(10, 5, 64, 11); // a strip above a window's corner
    change(10, 11, 14, 40); // and beside it
    change(30, 50, 40, 52); // apart, below an unchanged row
    let cut = bands(&before.as_ref(), &after.as_ref(), Rect::new(10, 5, 54, 47));
    assert_eq!(
        cut,
        [
            Rect::from_edges(10, 5, 64, 11),
            Rect::from_edges(10, 11, 14, 40),
            Rect::from_edges(30, 50, 40, 52),
        ]
    );
}

/// A text page scrolling up 24 rows a frame, new lines coming in at the bottom.
/// Lines of glyph-like marks that never repeat (a seeded generator), light on dark.
fn prose(width: u32, height: u32) -> Frame {
    let mut f = Frame::filled(width, height, [30, 30, 30, 255]);
    let mut s = 11u64;
    for line in 0..height / 14 {
        for x in (4..width.saturating_sub(6)).step_by(7) {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let bits = s >> 40;
            for i in 0..20 {
                if bits & (1 << i) != 0 {
                    f.set_pixel(x + i % 5, line * 14 + 3 + i / 5 * 2, [212, 212, 212, 255]);
                }
            }
        }
    }
    f
}

#[test]
fn a_scrolling_page_is_sent_as_copies_and_stays_exact() {
    let page = prose(480, 1200);
    let run = |motion: bool| {
        let config = PipelineConfig {
            motion: motion.then(MotionConfig::default),
            ..PipelineConfig::default()
        };
        let mut encoder = ScreenEncoder::new(config);
        let mut viewer = Framebuffer::new();
        let (mut bytes, mut copies) = (0, 0);
        for step in 0..20u32 {
            let mut screen = Frame::filled(480, 360, [0; 4]);
            for y in 0..360 {
                for x in 0..480 {
                    screen.set_pixel(x, y, page.as_ref().pixel(x, y + step * 24));
                }
            }
            let update = encoder
                .encode(&screen.as_ref(), u64::from(step) * 33_000)
                .unwrap()
                .unwrap();
            if step > 0 {
                bytes += update.wire_size();
                copies += update
                    .regions
                    .iter()
                    .filter(|r| r.kind == RegionKind::Copy)
                    .count();
            }
            apply(&mut viewer, &update);
            assert_eq!(viewer.frame().unwrap(), &screen, "step {step}");
        }
        (bytes, copies)
    };
    let (with, copies) = run(true);
    let (without, none) = run(false);
    assert_eq!(none, 0);
    assert!(copies >= 19, "{copies} copies");
    assert!(
        with * 5 < without,
        "scrolling cost {with} bytes with copies, {without} without"
    );
}

#[test]
fn exact_regions_merge_across_blank_gaps_but_not_across_photo() {
    // A dark terminal on the left half, a photo on the right.
    let mut base = Frame::filled(512, 256, [30, 30, 30, 255]);
    paste_frame(&mut base, &photo(256, 256), 256, 0);
    let word = text(40, 14);
    let lossless_after = |xs: [u32; 2]| {
        let mut encoder = ScreenEncoder::new(PipelineConfig::default());
        encoder.encode(&base.as_ref(), 0).unwrap();
        let mut screen = base.clone();
        for x in xs {
            paste_frame(&mut screen, &word, x, 100);
        }
        let update = encoder.encode(&screen.as_ref(), 33_000).unwrap().unwrap();
        let mut regions: Vec<Rect> = update
            .regions
            .iter()
            .filter(|r| r.kind == RegionKind::Lossless)
            .map(|r| r.rect)
            .collect();
        regions.sort_by_key(|r| r.x);
        regions
    };
    // Two words 60 pixels apart on the terminal: one region (the gap costs nothing).
    let terminal = lossless_after([20, 120]);
    assert_eq!(terminal.len(), 1, "{terminal:?}");
    assert!(
        terminal[0].x <= 30 && terminal[0].right() >= 150,
        "{terminal:?}"
    );
    // The same two words with photo between them: two regions, no photo pixel sent.
    let across = lossless_after([200, 360]);
    assert_eq!(across.len(), 2, "{across:?}");
    assert!(across.iter().all(|r| r.width <= 40), "{across:?}");
}

#[test]
fn a_thin_strip_of_photo_goes_to_av1_and_a_thin_strip_of_text_stays_exact() {
    // 3 rows across seven tiles: each tile's box (64 x 3) alone is too small to judge.
    let strip = Rect::new(0, 100, 448, 3);
    let kinds_after = |content: &Frame| {
        let mut encoder = ScreenEncoder::new(PipelineConfig::default());
        let base = Frame::filled(448, 200, [40, 40, 40, 255]);
        encoder.encode(&base.as_ref(), 0).unwrap();
        let mut screen = base.clone();
        for y in strip.y..strip.bottom() {
            for x in strip.x..strip.right() {
                screen.set_pixel(x, y, content.as_ref().pixel(x, y));
            }
        }
        let update = encoder.encode(&screen.as_ref(), 33_000).unwrap().unwrap();
        let mut viewer = Framebuffer::new();
        apply(&mut viewer, &encoder_first(&base));
        apply(&mut viewer, &update);
        let kinds: Vec<RegionKind> = update.regions.iter().map(|r| r.kind).collect();
        (kinds, viewer.frame().unwrap() == &screen)
    };
    let (photo_kinds, _) = kinds_after(&photo(448, 200));
    assert!(
        photo_kinds.iter().all(|k| *k == RegionKind::Av1),
        "{photo_kinds:?}"
    );
    let (text_kinds, exact) = kinds_after(&text(448, 200));
    assert!(
        text_kinds.iter().all(|k| *k == RegionKind::Lossless),
        "{text_kinds:?}"
    );
    assert!(exact, "the text strip is shown exactly at once");
}

fn encoder_first(base: &Frame) -> Update {
    ScreenEncoder::new(PipelineConfig::default())
        .encode(&base.as_ref(), 0)
        .unwrap()
        .unwrap()
}

#[test]
fn a_copy_from_a_lossy_photo_owes_refinement_only_where_the_photo_went() {
    // A page with a photo at its top, shown lossy, scrolled by 32 rows before refinement.
    let mut page = prose(256, 512);
    paste_frame(&mut page, &photo(256, 48), 0, 0);
    let view = |top: u32| {
        let mut f = Frame::filled(256, 256, [0; 4]);
        paste_frame_from_at(&mut f, &page, 0, top);
        f
    };
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    apply(
        &mut viewer,
        &encoder.encode(&view(0).as_ref(), 0).unwrap().unwrap(),
    );
    let scrolled = encoder.encode(&view(32).as_ref(), 33_000).unwrap().unwrap();
    assert!(scrolled.regions.iter().any(|r| r.kind == RegionKind::Copy));
    apply(&mut viewer, &scrolled);
    let mut refined = Vec::new();
    while let Some(at) = encoder.next_refine_at() {
        if let Some(update) = encoder.refine(at).unwrap() {
            refined.extend(update.regions.iter().map(|r| r.rect));
            apply(&mut viewer, &update);
        }
    }
    assert_eq!(viewer.frame().unwrap(), &view(32), "exact after refinement");
    // The photo's rows are now 0 to 16: only the first row of tiles owes exact pixels.
    assert!(!refined.is_empty());
    assert!(
        refined.iter().all(|r| r.bottom() <= 64),
        "text copied from exact tiles was refined again: {refined:?}"
    );
}

/// A desktop with a photo zooming out in a 256x144 window for `moving` frames, then still (a
/// zoom, not a pan: a pan is a move, which copies carry).
fn playing(step: u32, moving: u32) -> Frame {
    let mut screen = desktop();
    let film = photo(512, 288);
    let zoom = 100 + step.min(moving) * 2;
    for y in 0..144 {
        for x in 0..256 {
            let pixel = film.as_ref().pixel(x * zoom / 100, y * zoom / 100);
            screen.set_pixel(128 + x, 128 + y, pixel);
        }
    }
    screen
}

#[test]
fn a_playing_video_becomes_a_stream_and_the_still_picture_ends_exact() {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    let (mut streamed, mut frames, mut first_streamed) = (0, Vec::new(), None);
    for step in 0..60u32 {
        let screen = playing(step, 40);
        let now = u64::from(step) * 33_000;
        if let Some(update) = encoder.encode(&screen.as_ref(), now).unwrap() {
            let video = update
                .regions
                .iter()
                .filter(|r| r.kind == RegionKind::Video)
                .count();
            if video > 0 {
                first_streamed.get_or_insert(step);
            }
            streamed += video;
            apply(&mut viewer, &update);
        }
        if let Some(update) = encoder.refine(now).unwrap() {
            apply(&mut viewer, &update);
        }
        frames.push(screen);
    }
    assert!(streamed >= 30, "{streamed} video regions");
    // Each capture before the stream is a whole intra picture: the stream starts at the fourth
    // (hot once changed in three captures, then the same rectangle while two captures change it).
    assert_eq!(first_streamed, Some(4));
    // While it played, the viewer followed within the stream's delay at a fair quality.
    // Once still, refinement ends the stream and makes the picture exact.
    let mut now = 60 * 33_000;
    while let Some(at) = encoder.next_refine_at() {
        now = now.max(at);
        if let Some(update) = encoder.refine(now).unwrap() {
            apply(&mut viewer, &update);
        }
    }
    assert_eq!(viewer.frame().unwrap(), frames.last().unwrap());
}

/// A player on a busy machine: the picture changes only in some captures (here two of every
/// five, as a 24 fps film on a machine that drops frames), yet it becomes a stream, the stream
/// lives through the captures without change, and it covers the film and not the tiles around.
#[test]
fn a_stuttering_player_becomes_a_stream_on_its_own_picture() {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    let (mut streams, mut first_streamed, mut ended) = (Vec::new(), None, false);
    let mut shown = 0;
    for step in 0..60u32 {
        // Film frame numbers: 0 0 1 1 1 2 2 3 3 3 ...
        let picture = step * 2 / 5;
        let screen = playing(picture, 40);
        let now = u64::from(step) * 33_000;
        if let Some(update) = encoder.encode(&screen.as_ref(), now).unwrap() {
            for r in update
                .regions
                .iter()
                .filter(|r| r.kind == RegionKind::Video)
            {
                first_streamed.get_or_insert(step);
                streams.push(r.rect);
                ended |= crate::codec::video::parse(&r.payload).is_some_and(|(_, f, _)| f & 2 != 0);
            }
            apply(&mut viewer, &update);
            shown += 1;
        }
    }
    let first = first_streamed.expect("the film became a stream");
    assert!(first <= 12, "the stream started only at capture {first}");
    assert!(!ended, "the stream ended while the film played");
    assert!(
        streams.iter().all(|r| *r == Rect::new(128, 128, 256, 144)),
        "the stream is the film's rectangle: {streams:?}"
    );
    assert!(shown > 20);
}

/// A film and, away from it, a smaller animated picture that starts later (a camera window and
/// an animated image beside a chat): each becomes a stream of its own on its own rectangle, both
/// live at once, and once both are still the screen ends exact.
#[test]
fn two_videos_apart_are_two_streams_at_once() {
    let film = photo(512, 288);
    let picture = photo(256, 256);
    let zoomed = |screen: &mut Frame, src: &Frame, at: Rect, zoom: u32| {
        for y in 0..at.height {
            for x in 0..at.width {
                let p = src.as_ref().pixel(x * zoom / 100, y * zoom / 100);
                screen.set_pixel(at.x + x, at.y + y, p);
            }
        }
    };
    let (film_at, picture_at) = (Rect::new(64, 64, 256, 144), Rect::new(448, 224, 128, 128));
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    let mut streams: std::collections::BTreeMap<u32, Rect> = Default::default();
    let (mut both_live, mut last) = (0, None);
    for step in 0..70u32 {
        let mut screen = photo(640, 400);
        zoomed(&mut screen, &film, film_at, 100 + step.min(50) * 2);
        if step >= 10 {
            zoomed(&mut screen, &picture, picture_at, 100 + step.min(50));
        }
        let now = u64::from(step) * 33_000;
        if let Some(update) = encoder.encode(&screen.as_ref(), now).unwrap() {
            let ids: std::collections::BTreeSet<u32> = (update.regions.iter())
                .filter(|r| r.kind == RegionKind::Video)
                .filter_map(|r| {
                    let (id, _, _) = crate::codec::video::parse(&r.payload)?;
                    streams.insert(id, r.rect);
                    Some(id)
                })
                .collect();
            if ids.len() == 2 {
                both_live += 1;
            }
            apply(&mut viewer, &update);
        }
        if let Some(update) = encoder.refine(now).unwrap() {
            apply(&mut viewer, &update);
        }
        last = Some(screen);
    }
    let rects: Vec<Rect> = streams.values().copied().collect();
    assert_eq!(rects, [film_at, picture_at], "one stream each: {streams:?}");
    assert!(both_live >= 20, "both streams in {both_live} updates");
    let mut now = 70 * 33_000;
    while let Some(at) = encoder.next_refine_at() {
        now = now.max(at);
        if let Some(update) = encoder.refine(now).unwrap() {
            apply(&mut viewer, &update);
        }
    }
    assert_eq!(viewer.frame(), last.as_ref());
}

/// A stream's rectangle shares tiles with a terminal beside it: what the sharer types there
/// once the stream runs is sent exactly, also in the tiles the stream covers part of.
#[test]
fn text_beside_a_stream_in_the_same_tiles_stays_exact() {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    let mut streamed = 0;
    for step in 0..40u32 {
        // The film 16 pixels into the tiles from x 128 on, at x 144; a line typed from x 100,
        // three columns a capture from capture 10 on, up to x 140: into the film's tiles.
        let mut screen = desktop();
        paste_frame(
            &mut screen,
            &crop(&playing(step, 40), 128, 128, 240, 144),
            144,
            128,
        );
        let typed = text(1 + step.saturating_sub(10).min(13) * 3, 17);
        if step >= 10 {
            paste_frame(&mut screen, &typed, 100, 150);
        }
        let now = u64::from(step) * 33_000;
        if let Some(update) = encoder.encode(&screen.as_ref(), now).unwrap() {
            streamed += update
                .regions
                .iter()
                .filter(|r| r.kind == RegionKind::Video)
                .count();

            apply(&mut viewer, &update);
        }
        let line = Rect::new(100, 150, typed.width(), 17);
        let shown = viewer.frame().unwrap();
        assert!(
            step < 10
                || crate::frame::rgb_squared_error(&shown.as_ref(), &screen.as_ref(), line) == 0,
            "capture {step}: the line typed beside the stream is not exact"
        );
    }
    assert!(streamed > 20, "{streamed}");
}

/// `width` x `height` pixels of `src` from `x`, `y`.
fn crop(src: &Frame, x: u32, y: u32, width: u32, height: u32) -> Frame {
    let mut f = Frame::filled(width, height, [0; 4]);
    paste_frame_from_at(&mut f, src, x, y);
    f
}

/// `src`'s pixels from `x0`, `y0` on, as many as `dst` holds.
fn paste_frame_from_at(dst: &mut Frame, src: &Frame, x0: u32, y0: u32) {
    for y in 0..dst.height() {
        for x in 0..dst.width() {
            dst.set_pixel(x, y, src.as_ref().pixel(x0 + x, y0 + y));
        }
    }
}

#[test]
fn busy_text_is_never_streamed() {
    let mut encoder = ScreenEncoder::new(PipelineConfig::default());
    let mut viewer = Framebuffer::new();
    let page = text(400, 2000);
    for step in 0..30u32 {
        // Every line of a 400x300 terminal rewritten each frame (no scroll to copy).
        let mut screen = Frame::filled(400, 300, [0; 4]);
        for y in 0..300 {
            for x in 0..400 {
                screen.set_pixel(x, y, page.as_ref().pixel(x, (y * 7 + step * 61) % 2000));
            }
        }
        let update = encoder
            .encode(&screen.as_ref(), u64::from(step) * 33_000)
            .unwrap()
            .unwrap();
        assert!(
            update.regions.iter().all(|r| r.kind != RegionKind::Video),
            "text streamed at {step}"
        );
        apply(&mut viewer, &update);
        assert_eq!(viewer.frame().unwrap(), &screen, "text is exact at once");
    }
}

/// Crafted updates of big regions (the same screen-sized region six times) are refused before
/// anything is decoded, and the screen stays as it was.
#[test]
fn an_update_decoding_to_more_than_two_screens_is_refused_before_decoding() {
    let mut viewer = Framebuffer::new();
    let first = ScreenEncoder::new(PipelineConfig::default())
        .encode(&text(64, 48).as_ref(), 0)
        .unwrap()
        .unwrap();
    apply(&mut viewer, &first);
    let before = viewer.frame().cloned();
    let whole = EncodedRegion {
        rect: Rect::new(0, 0, 64, 48),
        kind: RegionKind::Lossless,
        payload: vec![0; 4],
    };
    let crafted = Update {
        seq: 2,
        refinement: false,
        exact: false,
        timestamp_us: 1,
        width: 64,
        height: 48,
        regions: vec![whole; 6],
    };
    let error = viewer.apply(&crafted).unwrap_err();
    assert!(
        matches!(error, ApplyError::TooLarge { area, limit } if area == 6 * 64 * 48 && limit == 2 * 64 * 48),
        "{error}"
    );
    assert_eq!(viewer.frame().cloned(), before);
}
