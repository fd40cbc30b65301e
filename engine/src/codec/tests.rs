use super::*;

/// A photo-like gradient with noise, and text-like strokes on a flat background.
pub(crate) fn photo(width: u32, height: u32) -> Frame {
    let mut f = Frame::filled(width, height, [0; 4]);
    let mut s = 7u32;
    for y in 0..height {
        for x in 0..width {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let n = (s >> 30) as u8;
            let (b, g) = ((x * 200 / width) as u8, (y * 200 / height) as u8);
            f.set_pixel(x, y, [b + n, g + n, b / 2 + g / 2 + n, 255]);
        }
    }
    f
}

/// The first frame of the committed clip `name` (`corpus/NAME.bgra.zst`).
pub(crate) fn first_frame(name: &str) -> Frame {
    let clip = format!("{}/../corpus/{name}.bgra.zst", env!("CARGO_MANIFEST_DIR"));
    let mut reader = crate::corpus::ClipReader::open(clip).unwrap();
    let mut frame = reader.blank_frame();
    assert!(reader.read_frame(&mut frame).unwrap());
    frame
}

pub(crate) fn text(width: u32, height: u32) -> Frame {
    let mut f = Frame::filled(width, height, [30, 30, 30, 255]);
    for y in 0..height {
        for x in 0..width {
            if (x % 9 < 2 || y % 17 == 5) && (x / 9 + y / 17) % 3 != 0 {
                f.set_pixel(x, y, [212, 212, 212, 255]);
            }
        }
    }
    f
}

fn round_trip(src: &Frame, rect: Rect, kind: RegionKind, config: CodecConfig) -> Frame {
    let region = RegionEncoder::new(config)
        .encode(&src.as_ref(), rect, kind)
        .unwrap();
    assert_eq!(region.rect, rect);
    let mut dst = Frame::filled(src.width(), src.height(), [1, 2, 3, 4]);
    RegionDecoder::default().decode(&region, &mut dst).unwrap();
    dst
}

fn psnr_in(a: &Frame, b: &Frame, rect: Rect) -> f64 {
    crate::frame::psnr_rgb(&a.as_ref(), &b.as_ref(), rect)
}

#[test]
fn lossless_is_exact_for_every_palette_size_and_odd_shapes() {
    for colours in [2u32, 3, 4, 5, 16, 17, 200, 256, 257, 5000] {
        let mut f = Frame::filled(77, 23, [0, 0, 0, 255]);
        for y in 0..23 {
            for x in 0..77 {
                let c = (x * 31 + y * 7) % colours;
                f.set_pixel(x, y, [c as u8, (c >> 8) as u8, 9, 255]);
            }
        }
        for rect in [
            Rect::new(0, 0, 77, 23),
            Rect::new(3, 5, 1, 1),
            Rect::new(10, 2, 13, 19),
        ] {
            let back = round_trip(&f, rect, RegionKind::Lossless, CodecConfig::default());
            for y in 0..23 {
                for x in 0..77 {
                    let expected = if rect.contains(x, y) {
                        f.as_ref().pixel(x, y)
                    } else {
                        [1, 2, 3, 4]
                    };
                    assert_eq!(
                        back.as_ref().pixel(x, y),
                        expected,
                        "{colours} colours, {rect:?} at ({x}, {y})"
                    );
                }
            }
        }
    }
}

#[test]
fn white_at_the_start_of_a_row_keeps_its_index() {
    // 0xFFFFFFFF is a real colour (opaque white), not a marker.
    let mut f = Frame::filled(4, 2, [255, 255, 255, 255]);
    f.set_pixel(3, 0, [0, 0, 0, 255]);
    let back = round_trip(
        &f,
        Rect::new(0, 0, 4, 2),
        RegionKind::Lossless,
        CodecConfig::default(),
    );
    assert_eq!(back, f);
}

#[test]
fn solid_round_trips_and_refuses_two_colours() {
    let mut f = Frame::filled(20, 20, [5, 6, 7, 255]);
    let rect = Rect::new(2, 3, 10, 4);
    let back = round_trip(&f, rect, RegionKind::Solid, CodecConfig::default());
    assert_eq!(back.as_ref().pixel(11, 6), [5, 6, 7, 255]);
    assert_eq!(back.as_ref().pixel(12, 6), [1, 2, 3, 4]);
    f.set_pixel(11, 6, [0, 0, 0, 255]);
    let err = RegionEncoder::default()
        .encode(&f.as_ref(), rect, RegionKind::Solid)
        .unwrap_err();
    assert!(matches!(err, CodecError::NotSolid { .. }));
}

#[test]
fn av1_one_region_in_gives_one_picture_out_at_once() {
    // Odd sizes, smaller than a block, and not multiples of 8.
    let src = photo(300, 200);
    for rect in [
        Rect::new(0, 0, 256, 128),
        Rect::new(13, 7, 99, 61),
        Rect::new(290, 190, 10, 10),
    ] {
        for chroma in [Chroma::Yuv420, Chroma::Yuv444] {
            let config = CodecConfig {
                quality: 80,
                chroma,
                ..Default::default()
            };
            let back = round_trip(&src, rect, RegionKind::Av1, config);
            let psnr = psnr_in(&src, &back, rect);
            assert!(psnr > 30.0, "{rect:?} {chroma:?}: {psnr:.1} dB");
            // Nothing outside the region was touched.
            for y in 0..200 {
                for x in 0..300 {
                    if !rect.contains(x, y) {
                        assert_eq!(
                            back.as_ref().pixel(x, y),
                            [1, 2, 3, 4],
                            "({x}, {y}) outside {rect:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn av1_quality_orders_size_and_fidelity() {
    let src = photo(128, 128);
    let rect = Rect::new(0, 0, 128, 128);
    let sizes: Vec<(usize, f64)> = [20u8, 60, 95]
        .into_iter()
        .map(|quality| {
            let config = CodecConfig {
                quality,
                ..Default::default()
            };
            let region = RegionEncoder::new(config)
                .encode(&src.as_ref(), rect, RegionKind::Av1)
                .unwrap();
            let mut dst = Frame::filled(128, 128, [0; 4]);
            RegionDecoder::default().decode(&region, &mut dst).unwrap();
            (region.payload.len(), psnr_in(&src, &dst, rect))
        })
        .collect();
    assert!(
        sizes[0].0 < sizes[1].0 && sizes[1].0 < sizes[2].0,
        "{sizes:?}"
    );
    assert!(
        sizes[0].1 < sizes[1].1 && sizes[1].1 < sizes[2].1,
        "{sizes:?}"
    );
}

#[test]
fn corrupt_payloads_are_errors_and_leave_the_frame_alone() {
    let src = text(64, 64);
    let rect = Rect::new(0, 0, 64, 64);
    let mut decoder = RegionDecoder::default();
    // Copies and restores come from the pipeline and video from a stream, not from the region
    // encoder; their bad payloads are tested with the framebuffer and the stream test.
    for kind in RegionKind::ALL.into_iter().filter(|k| {
        !matches!(
            k,
            RegionKind::Copy | RegionKind::Video | RegionKind::Restore
        )
    }) {
        let kind_src = if kind == RegionKind::Solid {
            Frame::filled(64, 64, [1; 4])
        } else {
            src.clone()
        };
        let good = RegionEncoder::default()
            .encode(&kind_src.as_ref(), rect, kind)
            .unwrap();
        let cuts = [
            0,
            1,
            good.payload.len() / 2,
            good.payload.len().saturating_sub(1),
        ];
        for cut in cuts {
            let bad = EncodedRegion {
                payload: good.payload[..cut].to_vec(),
                ..good.clone()
            };
            let mut dst = Frame::filled(64, 64, [9; 4]);
            if decoder.decode(&bad, &mut dst).is_err() {
                assert_eq!(dst, Frame::filled(64, 64, [9; 4]), "{kind:?} cut at {cut}");
            }
        }
        // Out of bounds.
        let outside = EncodedRegion {
            rect: Rect::new(60, 0, 8, 8),
            ..good.clone()
        };
        assert!(matches!(
            decoder.decode(&outside, &mut Frame::filled(64, 64, [0; 4])),
            Err(CodecError::OutOfBounds { .. })
        ));
        // The decoder still works after all that.
        let mut dst = Frame::filled(64, 64, [0; 4]);
        decoder.decode(&good, &mut dst).unwrap();
    }
    // A lossless palette index beyond the palette: three colours take two bits, index 3 is free.
    let mut bad = vec![0u8, 2, 0, 0, 0, 255, 1, 1, 1, 255, 2, 2, 2, 255];
    bad.extend(zstd::bulk::compress(&[0xFFu8; 16], 3).unwrap());
    let region = EncodedRegion {
        rect: Rect::new(0, 0, 8, 8),
        kind: RegionKind::Lossless,
        payload: bad,
    };
    assert!(
        decoder
            .decode(&region, &mut Frame::filled(8, 8, [0; 4]))
            .is_err()
    );
}

/// A photo panning right 3 pixels a frame, as a video region sees it.
fn panning(step: u32) -> Frame {
    let wide = photo(512, 144);
    let mut f = Frame::filled(256, 144, [0; 4]);
    for y in 0..144 {
        for x in 0..256 {
            f.set_pixel(x, y, wide.as_ref().pixel(x + step * 3, y));
        }
    }
    f
}

/// Each payload of a stream shows the picture captured in it, from the first: rav1e (patched,
/// `vendor/rav1e`) codes each picture as soon as it is sent, with no copies to push it through.
#[test]
fn a_stream_shows_each_capture_in_its_own_payload() {
    let rect = Rect::new(0, 0, 256, 144);
    let config = CodecConfig::default();
    let mut stream = video::VideoEncoder::new(3, rect, &config).unwrap();
    let mut decoder = RegionDecoder::default();
    let frames: Vec<Frame> = (0..12).map(panning).collect();
    let mut shown_of = |i: usize, decoder: &mut RegionDecoder| -> usize {
        let region = EncodedRegion {
            rect,
            kind: RegionKind::Video,
            payload: stream.encode(&frames[i].as_ref()).unwrap(),
        };
        let Decoded::Pixels(px) = decoder.decode_pixels(&region, 256, 144).unwrap() else {
            panic!("capture {i} showed no picture: rav1e held it back");
        };
        let px = Frame::from_bgra(px, 256, 144).unwrap();
        (0..frames.len())
            .max_by(|a, b| {
                let p = |f: usize| crate::frame::psnr_rgb(&px.as_ref(), &frames[f].as_ref(), rect);
                p(*a).total_cmp(&p(*b))
            })
            .unwrap()
    };
    // A player that pauses after capture 5 and goes on at capture 9: every payload shows a
    // picture, the capture it carries (a coarse picture of slow motion may look as much like
    // the one before), never an older one.
    for i in (0..6).chain(9..12) {
        let shown = shown_of(i, &mut decoder);
        assert!(
            shown <= i && shown + 1 >= i,
            "capture {i} showed frame {shown}"
        );
    }
}

#[test]
fn a_video_stream_round_trips_and_costs_less_than_intra_frames() {
    let rect = Rect::new(0, 0, 256, 144);
    let config = CodecConfig::default();
    let mut stream = video::VideoEncoder::new(7, rect, &config).unwrap();
    let mut decoder = RegionDecoder::default();
    let (mut stream_bytes, mut intra_bytes, mut first_shown) = (0, 0, None);
    let mut psnr_min = f64::MAX;
    let frames: Vec<Frame> = (0..30).map(panning).collect();
    let mut shown = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let payload = stream.encode(&f.as_ref()).unwrap();
        stream_bytes += payload.len();
        intra_bytes += RegionEncoder::new(config)
            .encode(&f.as_ref(), rect, RegionKind::Av1)
            .unwrap()
            .payload
            .len();
        let region = EncodedRegion {
            rect,
            kind: RegionKind::Video,
            payload,
        };
        if let Decoded::Pixels(px) = decoder.decode_pixels(&region, 256, 144).unwrap() {
            first_shown.get_or_insert(i);
            shown.push(px);
        }
    }
    let last = EncodedRegion {
        rect,
        kind: RegionKind::Video,
        payload: stream.finish().unwrap(),
    };
    stream_bytes += last.payload.len();
    assert!(
        !matches!(
            decoder.decode_pixels(&last, 256, 144).unwrap(),
            Decoded::Pixels(_)
        ),
        "the end of the stream shows nothing: every picture was shown as it was captured"
    );
    let delay = first_shown.expect("the stream showed a picture");
    eprintln!(
        "delay {delay} frames, {stream_bytes} B as a stream, {intra_bytes} B as intra frames"
    );
    assert_eq!(
        delay, 0,
        "the first picture trails the capture by {delay} frames"
    );
    // Every payload carries the picture just captured, none from before.
    assert_eq!(shown.len(), frames.len(), "a picture for each capture");
    let mut lags = Vec::new();
    for (i, px) in shown.iter().take(frames.len()).enumerate() {
        let px = Frame::from_bgra(px.clone(), 256, 144).unwrap();
        let psnr: Vec<f64> = frames
            .iter()
            .map(|f| crate::frame::psnr_rgb(&px.as_ref(), &f.as_ref(), rect))
            .collect();
        let best = (0..frames.len())
            .max_by(|a, b| psnr[*a].total_cmp(&psnr[*b]))
            .unwrap();
        // A picture coded coarsely may look as much like its neighbour; not like older ones.
        assert!(
            best + 1 >= i,
            "picture {i} looks most like frame {best}: {psnr:.1?}"
        );
        lags.push(i.saturating_sub(best));
    }
    let trailing = lags.iter().filter(|l| **l > 0).count();
    assert!(
        trailing * 2 <= lags.len(),
        "pictures trail the capture: {lags:?}"
    );

    // The last picture shown is the last frame, at a fair quality.
    let last_px = Frame::from_bgra(shown.last().unwrap().clone(), 256, 144).unwrap();
    psnr_min = psnr_min.min(crate::frame::psnr_rgb(
        &last_px.as_ref(),
        &frames[29].as_ref(),
        rect,
    ));
    assert!(psnr_min > 30.0, "{psnr_min:.1} dB");
    assert!(
        stream_bytes * 3 < intra_bytes * 2,
        "stream {stream_bytes} B, intra {intra_bytes} B"
    );
    // The stream is gone after its end: more data for it is an error, not a panic.
    let err = decoder.decode_pixels(&last, 256, 144).unwrap_err();
    assert!(err.to_string().contains("never started"), "{err}");
}

/// The near form: every channel within one level, at least 50 dB, and refused when damaged.
#[test]
fn the_near_form_is_within_a_level_and_smaller_than_exact() {
    let f = photo(256, 144);
    let rect = Rect::new(0, 0, 256, 144);
    let near = lossless::encode_near(&f.as_ref(), rect);
    let exact = lossless::encode(&f.as_ref(), rect, 3);
    let pixels = lossless::decode(&near, rect).unwrap();
    let mut shown = Frame::filled(256, 144, [0; 4]);
    crate::codec::paste(&mut shown, rect, &pixels);
    for y in 0..144 {
        for x in 0..256 {
            let (a, b) = (f.as_ref().pixel(x, y), shown.as_ref().pixel(x, y));
            assert!(
                (0..3).all(|c| a[c].abs_diff(b[c]) <= 1) && a[3] == b[3],
                "{x},{y}: {a:?} shown as {b:?}"
            );
        }
    }
    let psnr = crate::frame::psnr_rgb(&shown.as_ref(), &f.as_ref(), rect);
    assert!(psnr >= 50.0, "{psnr:.2} dB");
    // (Smaller than exact on real photos: `tests/tests/codec.rs`; this synthetic one's noise is
    // the same in every channel, which the exact form's colour differences cancel.)
    assert!(!exact.is_empty());
    // Damaged: a wrong step, a cut stream.
    let mut bad = near.clone();
    bad[1] = 7;
    assert!(
        lossless::decode(&bad, rect)
            .unwrap_err()
            .to_string()
            .contains("step")
    );
    assert!(lossless::decode(&near[..near.len() / 2], rect).is_err());
}

/// A page of antialiased text has too many colours for a palette; its predicted residuals repeat
/// with the glyphs, so fresh regions code them at a level that finds the repeats.
#[test]
fn many_coloured_text_codes_smaller_at_the_fresh_level() {
    let screen = first_frame("document");
    // The page of text (corpus/README.md).
    let page = Rect::new(192, 64, 896, 384);
    let at = |level| lossless::encode_at(&screen.as_ref(), page, 3, level);
    let (photo, fresh) = (
        at(lossless::PREDICTED_LEVEL),
        at(lossless::FRESH_PREDICTED_LEVEL),
    );
    for payload in [&photo, &fresh] {
        assert_eq!(
            lossless::decode(payload, page).unwrap(),
            crop(&screen.as_ref(), page)
        );
    }
    assert!(
        fresh.len() * 10 < photo.len() * 9,
        "{} bytes at the fresh level, {} at the photo level",
        fresh.len(),
        photo.len()
    );
}

#[test]
fn many_coloured_text_goes_coarse_within_a_few_levels_for_fewer_bytes() {
    let screen = first_frame("document");
    let screen = screen.as_ref();
    // The page of text (485 colours), and a terminal's few.
    let page = Rect::new(192, 64, 896, 384);
    let level = lossless::FRESH_PREDICTED_LEVEL;
    let coarse = lossless::encode_coarse(&screen, page, 3, level).expect("many colours");
    let exact = lossless::encode_at(&screen, page, 3, level);
    assert!(
        coarse.len() * 10 < exact.len() * 9,
        "coarse {} bytes, exact {}",
        coarse.len(),
        exact.len()
    );
    let shown = lossless::decode(&coarse, page).unwrap();
    let original = crop(&screen, page);
    assert_ne!(shown, original, "coarse is not exact");
    let worst = (shown.iter().zip(&original))
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    // Half a step of 32 levels.
    assert!(worst <= 5, "a channel {worst} levels off");
    let few = text(128, 64);
    assert!(lossless::encode_coarse(&few.as_ref(), few.as_ref().bounds(), 3, level).is_none());
}
