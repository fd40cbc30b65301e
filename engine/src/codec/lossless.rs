//! The lossless path: exact pixels for text and UI.
//!
//! Payload, first byte the form:
//! - `0`, palette: `n - 1` (one byte), then one zstd stream of the `n` colours (as the four planes
//!   below: antialiasing greys become mostly zeros) followed by the colour indices, packed row by
//!   row at 1, 2, 4 or 8 bits each (the fewest that hold `n`), each row starting on a byte.
//!   Packing first gives zstd 2 to 8 times less to read.
//! - `1`, predicted: for content with more than 256 colours. The pixels become four planes (G,
//!   B - G, R - G, A), each sample is replaced by its difference from the LOCO-I median edge
//!   predictor of its left, upper and upper-left neighbours, and the planes go through zstd.
//! - `2`, text with memory: small regions of a session, coded against what was sent before
//!   ([`crate::codec::memory`]); the pipeline picks it, this module's [`encode`] never does.
//! - `3`, near: not exact, but within one level of every channel ([`encode_near`]): the
//!   visually lossless stage refinement gives photos before their exact pixels. Then the
//!   quantizer step (2), and one zstd stream of the planes B, G, R, each sample its difference
//!   from the median predictor of the *decoded* neighbours (as JPEG-LS's near-lossless mode;
//!   for B and R plus what that predictor missed of G at the same pixel) divided by the step,
//!   rounded toward zero, then A predicted exactly. Every channel is
//!   within one level (an MSE of at most 1, 48 dB; 51 dB on the committed clips' photos), and
//!   the rounding makes most quotients zero: 46 % of the predicted form's bytes on a photo
//!   desktop. Step 3 rounded to the nearest was both larger (60 %) and worse (49.9 dB).
//!
//! zstd streams are stored without their four-byte magic number (always the same), which is put
//! back before decoding: on a typed glyph, four bytes are a tenth of the payload.
//!
//! Measured on 256x256 crops of the committed clips (`make bench`, group `lossless_entropy`; the
//! figures are in the README): on palette indices zstd level 3 is 3 % smaller than level 1 for
//! 20 % more time, level 9 4 % smaller for 5x the time, lz4 38 % larger; on predicted photo
//! residuals zstd level 1 is 13 % smaller *and* 3.7x faster than level 3, and lz4 twice the size.
//! Palettes and prediction each halve what zstd gets from raw pixels. Hence: palette form at level
//! 3 (the [`CodecConfig::zstd_level`](crate::codec::CodecConfig) default), raised to
//! [`SMALL_LEVEL`] for the small streams of steady updates, and predicted form at level 1.

use std::cell::RefCell;

use crate::codec::classify::{self, ColourSet, PALETTE_MAX, pixel_u32};
use crate::codec::{CodecError, RegionKind, crop};
use crate::frame::{BYTES_PER_PIXEL, FrameRef, Rect};

const FORM_PALETTE: u8 = 0;
const FORM_PREDICTED: u8 = 1;
const FORM_NEAR: u8 = 3;

/// The near form's quantizer step.
const NEAR_STEP: u8 = 2;

thread_local! {
    static COMPRESSOR: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Every zstd frame starts with these four bytes; payloads leave them out.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// zstd at `level` without the frame's magic number, reusing this thread's context.
pub(crate) fn compress(data: &[u8], level: i32) -> Vec<u8> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        let (current, compressor) = c.get_or_insert_with(|| {
            (
                level,
                zstd::bulk::Compressor::new(level).expect("zstd accepts its own levels"),
            )
        });
        if *current != level {
            compressor
                .set_compression_level(level)
                .expect("zstd accepts its own levels");
            *current = level;
        }
        let mut frame = compressor
            .compress(data)
            .expect("compressing to a growable buffer cannot fail");
        debug_assert_eq!(frame[..4], ZSTD_MAGIC);
        frame.drain(..4);
        frame
    })
}

/// Decompresses exactly `expected` bytes, reusing this thread's context.
pub(crate) fn decompress(data: &[u8], expected: usize) -> Result<Vec<u8>, String> {
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        let d = match &mut *d {
            Some(d) => d,
            None => d.insert(zstd::bulk::Decompressor::new().map_err(|e| e.to_string())?),
        };
        let mut frame = Vec::with_capacity(data.len() + 4);
        frame.extend_from_slice(&ZSTD_MAGIC);
        frame.extend_from_slice(data);
        let out = d.decompress(&frame, expected).map_err(|e| e.to_string())?;
        if out.len() != expected {
            return Err(format!(
                "{} bytes decompressed, expected {expected}",
                out.len()
            ));
        }
        Ok(out)
    })
}

fn bits_for(colours: usize) -> u32 {
    match colours {
        0..=2 => 1,
        3..=4 => 2,
        5..=16 => 4,
        _ => 8,
    }
}

fn packed_row_bytes(width: u32, bits: u32) -> usize {
    (width as usize * bits as usize).div_ceil(8)
}

/// Encodes `rect` of `frame` exactly.
/// `level` is the zstd level of the palette form; the predicted form uses [`PREDICTED_LEVEL`].
pub fn encode(frame: &FrameRef<'_>, rect: Rect, level: i32) -> Vec<u8> {
    encode_at(frame, rect, level, PREDICTED_LEVEL)
}

/// [`encode`] with the predicted form at zstd level `predicted`.
pub fn encode_at(frame: &FrameRef<'_>, rect: Rect, level: i32, predicted: i32) -> Vec<u8> {
    let transformed = transform(frame, rect);
    let level = if transformed.header[0] == FORM_PREDICTED {
        predicted
    } else if transformed.stream.len() <= SMALL_STREAM {
        level.max(SMALL_LEVEL)
    } else {
        level
    };
    let mut payload = transformed.header;
    payload.extend_from_slice(&compress(&transformed.stream, level));
    payload
}

/// Palette streams up to this many bytes (a typed word, a scrolled-in line of text) are
/// compressed at [`SMALL_LEVEL`] at least.
pub const SMALL_STREAM: usize = 64 * 1024;

/// zstd level of small palette streams. On the committed clips' steady updates (corpus-eval),
/// level 15 sends 10 to 11 % fewer bytes than level 3 (scroll 297.5 -> 266.3 kbit/s, document
/// 94.7 -> 85.0, terminal 26.9 -> 23.9); a scroll step's median encode went from 4.9 to 5.7 ms.
/// Level 12 gains half as much; level 19 1 % more, at a 7 to 12 ms median. Large streams (a
/// first screen) keep the configured level, so the first update is not slower. Since then the
/// pipeline sends most small text regions as text with memory ([`crate::codec::memory`]); this
/// level serves the rest and direct users of [`encode`].
pub const SMALL_LEVEL: i32 = 15;

/// zstd level of the predicted form: on photo residuals level 1 is both smaller and faster than
/// level 3 (its matches find nothing in noise and cost literal-coding efficiency).
pub const PREDICTED_LEVEL: i32 = 1;

/// zstd level of the predicted form for fresh regions: those the classifier sends lossless are
/// text and interfaces, whose antialiased glyphs repeat, and there matches pay.
pub const FRESH_PREDICTED_LEVEL: i32 = 9;

/// What the lossless path hands its entropy coder: the payload's header bytes and the stream
/// that zstd compresses. Public so benchmarks can try other entropy coders on the same input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transformed {
    /// Form byte (and palette size for the palette form).
    pub header: Vec<u8>,
    /// The bytes the entropy coder compresses.
    pub stream: Vec<u8>,
}

/// The palette form when the region has at most 256 colours, else the predicted form.
pub fn transform(frame: &FrameRef<'_>, rect: Rect) -> Transformed {
    palette_transform(frame, rect).unwrap_or_else(|| predicted_transform(frame, rect))
}

fn palette_transform(frame: &FrameRef<'_>, rect: Rect) -> Option<Transformed> {
    let mut set = ColourSet::new();
    let mut indices = Vec::with_capacity(rect.area() as usize);
    for y in rect.y..rect.bottom() {
        let row = frame.row(y);
        let mut last: Option<(u32, u8)> = None;
        for x in rect.x as usize..rect.right() as usize {
            let c = pixel_u32(row, x);
            let index = match last {
                Some((colour, index)) if colour == c => index,
                _ => set.index(c)?,
            };
            last = Some((c, index));
            indices.push(index);
        }
    }
    let colours = set.colours();
    let bits = bits_for(colours.len());
    let row_bytes = packed_row_bytes(rect.width, bits);
    let bgra: Vec<u8> = colours.iter().flat_map(|c| c.to_le_bytes()).collect();
    let mut stream = to_planes(&bgra, colours.len());
    if bits == 8 {
        stream.extend_from_slice(&indices);
    } else {
        let per_byte = 8 / bits as usize;
        let start = stream.len();
        stream.resize(start + row_bytes * rect.height as usize, 0);
        for (row, out) in indices
            .chunks_exact(rect.width as usize)
            .zip(stream[start..].chunks_exact_mut(row_bytes))
        {
            for (i, &index) in row.iter().enumerate() {
                out[i / per_byte] |= index << ((i % per_byte) as u32 * bits);
            }
        }
    }
    Some(Transformed {
        header: vec![FORM_PALETTE, (colours.len() - 1) as u8],
        stream,
    })
}

fn predicted_transform(frame: &FrameRef<'_>, rect: Rect) -> Transformed {
    let (w, h) = (rect.width as usize, rect.height as usize);
    let planes = to_planes(&crop(frame, rect), w * h);
    let mut residuals = vec![0u8; planes.len()];
    for (plane, out) in planes
        .chunks_exact(w * h)
        .zip(residuals.chunks_exact_mut(w * h))
    {
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                out[i] = plane[i].wrapping_sub(med(plane, w, x, y));
            }
        }
    }
    Transformed {
        header: vec![FORM_PREDICTED],
        stream: residuals,
    }
}

/// BGRA pixels to four planes: G, B - G, R - G, A (mod 256). Subtracting green removes most of
/// what the channels share; planes give zstd's entropy stage one distribution at a time.
fn to_planes(bgra: &[u8], area: usize) -> Vec<u8> {
    let mut planes = vec![0u8; area * 4];
    for (i, p) in bgra.chunks_exact(4).enumerate() {
        planes[i] = p[1];
        planes[area + i] = p[0].wrapping_sub(p[1]);
        planes[2 * area + i] = p[2].wrapping_sub(p[1]);
        planes[3 * area + i] = p[3];
    }
    planes
}

fn from_planes(planes: &[u8], area: usize) -> Vec<u8> {
    let mut bgra = vec![0u8; area * 4];
    for (i, p) in bgra.chunks_exact_mut(4).enumerate() {
        let g = planes[i];
        p[0] = planes[area + i].wrapping_add(g);
        p[1] = g;
        p[2] = planes[2 * area + i].wrapping_add(g);
        p[3] = planes[3 * area + i];
    }
    bgra
}

/// The median edge detector of LOCO-I (JPEG-LS): the left or upper neighbour across an edge,
/// their gradient elsewhere.
#[inline]
fn med(plane: &[u8], w: usize, x: usize, y: usize) -> u8 {
    let i = y * w + x;
    match (x, y) {
        (0, 0) => 0,
        (_, 0) => plane[i - 1],
        (0, _) => plane[i - w],
        _ => {
            let (a, b, c) = (
                plane[i - 1] as i16,
                plane[i - w] as i16,
                plane[i - w - 1] as i16,
            );
            if c >= a.max(b) {
                a.min(b) as u8
            } else if c <= a.min(b) {
                a.max(b) as u8
            } else {
                (a + b - c) as u8
            }
        }
    }
}

/// Levels per colour channel of [`encode_coarse`].
pub const COARSE_LEVELS: u16 = 32;

/// A first screen's many-coloured text, sent ahead of its exact pixels: `rect` of `frame` with
/// every colour channel rounded to the nearest of [`COARSE_LEVELS`] levels, in the form
/// [`encode_at`] picks (antialiased greyscale text falls to a palette). `None` when the region
/// has at most 256 colours: its exact palette is as cheap.
///
/// The exact page of antialiased text costs the predicted form's bytes, because of its
/// greys; with 32 levels its glyphs look the same (about 49 dB) and repeat for zstd to match.
pub fn encode_coarse(
    frame: &FrameRef<'_>,
    rect: Rect,
    level: i32,
    predicted: i32,
) -> Option<Vec<u8>> {
    if classify::count_colours(frame, rect, PALETTE_MAX) <= PALETTE_MAX {
        return None;
    }
    let mut pixels = crop(frame, rect);
    let top = COARSE_LEVELS - 1;
    for p in pixels.chunks_exact_mut(BYTES_PER_PIXEL) {
        for c in &mut p[..3] {
            let step = (u16::from(*c) * top + 127) / 255;
            *c = ((step * 255 + top / 2) / top) as u8;
        }
    }
    let coarse = FrameRef::new(
        &pixels,
        rect.width,
        rect.height,
        rect.width as usize * BYTES_PER_PIXEL,
    )
    .ok()?;
    // Large as a palette stream, but made of glyphs that repeat: matches pay as in fresh text.
    Some(encode_at(
        &coarse,
        coarse.bounds(),
        level.max(predicted),
        predicted,
    ))
}

/// Encodes `rect` of `frame` nearly exactly: every colour channel within one level (form `3`
/// of the module's list).
pub fn encode_near(frame: &FrameRef<'_>, rect: Rect) -> Vec<u8> {
    let pixels = crop(frame, rect);
    let mut payload = vec![FORM_NEAR, NEAR_STEP];
    payload.extend_from_slice(&compress(
        &near_transform(&pixels, rect, NEAR_STEP),
        PREDICTED_LEVEL,
    ));
    payload
}

/// The near form's planes of `pixels` (tight BGRA of `rect`) at quantizer `step`.
fn near_transform(pixels: &[u8], rect: Rect, step: u8) -> Vec<u8> {
    let (w, h) = (rect.width as usize, rect.height as usize);
    let area = w * h;
    let mut stream = vec![0u8; area * 4];
    // Green first; blue and red are predicted with green's surprise added (what the median
    // predictor missed of green, it mostly misses of them too).
    let mut surprise = vec![0i16; area];
    let mut decoded = vec![0u8; area];
    for (slot, channel) in [(1, 1), (0, 0), (2, 2)] {
        let out = &mut stream[slot * area..(slot + 1) * area];
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                let value = pixels[i * 4 + channel];
                let base = med(&decoded, w, x, y);
                let predicted = if channel == 1 {
                    base
                } else {
                    with_surprise(base, surprise[i])
                };
                let q = near_quotient(i16::from(value) - i16::from(predicted), step);
                out[i] = q as u8;
                decoded[i] = near_value(predicted, q, step);
                if channel == 1 {
                    surprise[i] = i16::from(decoded[i]) - i16::from(base);
                }
            }
        }
    }
    let alpha = &mut stream[3 * area..];
    for (i, a) in alpha.iter_mut().enumerate() {
        *a = pixels[i * 4 + 3];
    }
    for i in (0..area).rev() {
        let (x, y) = (i % w, i / w);
        alpha[i] = alpha[i].wrapping_sub(med(alpha, w, x, y));
    }
    stream
}

/// A prediction moved by green's surprise.
#[inline]
fn with_surprise(base: u8, surprise: i16) -> u8 {
    (i16::from(base) + surprise).clamp(0, 255) as u8
}

/// The quotient of a prediction error by `step`, rounded toward zero.
#[inline]
fn near_quotient(error: i16, step: u8) -> i8 {
    (error / i16::from(step)) as i8
}

/// The value a near sample decodes to.
#[inline]
fn near_value(predicted: u8, quotient: i8, step: u8) -> u8 {
    (i16::from(predicted) + i16::from(quotient) * i16::from(step)).clamp(0, 255) as u8
}

fn corrupt(rect: Rect, reason: impl Into<String>) -> CodecError {
    CodecError::Corrupt {
        kind: RegionKind::Lossless,
        rect,
        reason: reason.into(),
    }
}

/// Decodes a lossless payload into the tight BGRA pixels of `rect`.
///
/// # Errors
/// [`CodecError::Corrupt`] for any malformed payload.
pub fn decode(payload: &[u8], rect: Rect) -> Result<Vec<u8>, CodecError> {
    let (&form, rest) = payload
        .split_first()
        .ok_or_else(|| corrupt(rect, "empty payload"))?;
    let area = rect.area() as usize;
    let pixels = match form {
        FORM_PALETTE => {
            let (&n, rest) = rest
                .split_first()
                .ok_or_else(|| corrupt(rect, "no palette size"))?;
            let n = n as usize + 1;
            debug_assert!(n <= PALETTE_MAX);
            let bits = bits_for(n);
            let row_bytes = packed_row_bytes(rect.width, bits);
            let stream = decompress(rest, n * 4 + row_bytes * rect.height as usize)
                .map_err(|e| corrupt(rect, e))?;
            let (planes, packed) = stream.split_at(n * 4);
            let table = from_planes(planes, n);
            let per_byte = 8 / bits as usize;
            let mask = ((1u16 << bits) - 1) as u8;
            let mut pixels = Vec::with_capacity(area * BYTES_PER_PIXEL);
            for row in packed.chunks_exact(row_bytes) {
                for i in 0..rect.width as usize {
                    let index = if bits == 8 {
                        row[i]
                    } else {
                        (row[i / per_byte] >> ((i % per_byte) as u32 * bits)) & mask
                    } as usize;
                    let colour = table.get(index * 4..index * 4 + 4).ok_or_else(|| {
                        corrupt(rect, format!("index {index} outside a palette of {n}"))
                    })?;
                    pixels.extend_from_slice(colour);
                }
            }
            pixels
        }
        FORM_PREDICTED => {
            let (w, h) = (rect.width as usize, rect.height as usize);
            let mut planes =
                decompress(rest, area * BYTES_PER_PIXEL).map_err(|e| corrupt(rect, e))?;
            for plane in planes.chunks_exact_mut(w * h) {
                for y in 0..h {
                    for x in 0..w {
                        let i = y * w + x;
                        plane[i] = plane[i].wrapping_add(med(plane, w, x, y));
                    }
                }
            }
            from_planes(&planes, area)
        }
        FORM_NEAR => {
            let (&step, rest) = rest
                .split_first()
                .ok_or_else(|| corrupt(rect, "no quantizer step"))?;
            if step != NEAR_STEP {
                return Err(corrupt(rect, format!("quantizer step {step}")));
            }
            let w = rect.width as usize;
            let mut planes =
                decompress(rest, area * BYTES_PER_PIXEL).map_err(|e| corrupt(rect, e))?;
            let (colour, alpha) = planes.split_at_mut(3 * area);
            let (blue, rest) = colour.split_at_mut(area);
            let (green, red) = rest.split_at_mut(area);
            let mut surprise = vec![0i16; area];
            for i in 0..area {
                let base = med(green, w, i % w, i / w);
                green[i] = near_value(base, green[i] as i8, step);
                surprise[i] = i16::from(green[i]) - i16::from(base);
            }
            for plane in [blue, red] {
                for i in 0..area {
                    let predicted = with_surprise(med(plane, w, i % w, i / w), surprise[i]);
                    plane[i] = near_value(predicted, plane[i] as i8, step);
                }
            }
            for i in 0..area {
                alpha[i] = alpha[i].wrapping_add(med(alpha, w, i % w, i / w));
            }
            let mut pixels = vec![0u8; area * BYTES_PER_PIXEL];
            for (i, p) in pixels.chunks_exact_mut(4).enumerate() {
                p[0] = planes[i];
                p[1] = planes[area + i];
                p[2] = planes[2 * area + i];
                p[3] = planes[3 * area + i];
            }
            pixels
        }
        other => return Err(corrupt(rect, format!("unknown form {other}"))),
    };
    Ok(pixels)
}
