//! The lossless path: exact pixels for text and UI.
//!
//! Payload, first byte the form:
//! - `0`, palette: `n - 1` (one byte), `n` BGRA colours, then the zstd-compressed colour indices,
//!   packed row by row at 1, 2, 4 or 8 bits each (the fewest that hold `n`), each row starting on
//!   a byte. Packing first gives zstd 2 to 8 times less to read.
//! - `1`, predicted: zstd of the rows, each byte replaced by its difference from the same channel
//!   of the pixel to its left. For content with more than 256 colours.
//!
//! Measured on crops of the committed clips (`make bench`, group `lossless`), zstd level 3 on
//! packed indices gives the best size for the CPU among zstd 1/3/9 and lz4 on packed or unpacked
//! indices; see the README's figures.

use std::cell::RefCell;

use crate::codec::classify::{ColourSet, PALETTE_MAX, pixel_u32};
use crate::codec::{CodecError, RegionKind, crop};
use crate::frame::{BYTES_PER_PIXEL, FrameRef, Rect};

const FORM_PALETTE: u8 = 0;
const FORM_PREDICTED: u8 = 1;

thread_local! {
    static COMPRESSOR: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// zstd at `level`, reusing this thread's context.
pub(crate) fn compress(data: &[u8], level: i32) -> Vec<u8> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.as_ref().is_none_or(|(l, _)| *l != level) {
            *c = Some((
                level,
                zstd::bulk::Compressor::new(level).expect("zstd accepts its own levels"),
            ));
        }
        let (_, compressor) = c.as_mut().expect("just set");
        compressor
            .compress(data)
            .expect("compressing to a growable buffer cannot fail")
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
        let out = d.decompress(data, expected).map_err(|e| e.to_string())?;
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
pub fn encode(frame: &FrameRef<'_>, rect: Rect, level: i32) -> Vec<u8> {
    encode_palette(frame, rect, level).unwrap_or_else(|| encode_predicted(frame, rect, level))
}

fn encode_palette(frame: &FrameRef<'_>, rect: Rect, level: i32) -> Option<Vec<u8>> {
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
    let packed = if bits == 8 {
        indices
    } else {
        let per_byte = 8 / bits as usize;
        let mut packed = vec![0u8; row_bytes * rect.height as usize];
        for (row, out) in indices
            .chunks_exact(rect.width as usize)
            .zip(packed.chunks_exact_mut(row_bytes))
        {
            for (i, &index) in row.iter().enumerate() {
                out[i / per_byte] |= index << ((i % per_byte) as u32 * bits);
            }
        }
        packed
    };
    let mut payload = Vec::with_capacity(2 + colours.len() * 4 + packed.len() / 4);
    payload.push(FORM_PALETTE);
    payload.push((colours.len() - 1) as u8);
    for c in colours {
        payload.extend_from_slice(&c.to_le_bytes());
    }
    payload.extend_from_slice(&compress(&packed, level));
    Some(payload)
}

fn encode_predicted(frame: &FrameRef<'_>, rect: Rect, level: i32) -> Vec<u8> {
    let mut pixels = crop(frame, rect);
    let row = rect.width as usize * BYTES_PER_PIXEL;
    for line in pixels.chunks_exact_mut(row) {
        for i in (BYTES_PER_PIXEL..row).rev() {
            line[i] = line[i].wrapping_sub(line[i - BYTES_PER_PIXEL]);
        }
    }
    let mut payload = vec![FORM_PREDICTED];
    payload.extend_from_slice(&compress(&pixels, level));
    payload
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
            if rest.len() < n * 4 {
                return Err(corrupt(
                    rect,
                    format!("palette of {n} colours is cut short"),
                ));
            }
            let (table, compressed) = rest.split_at(n * 4);
            let bits = bits_for(n);
            let row_bytes = packed_row_bytes(rect.width, bits);
            let packed = decompress(compressed, row_bytes * rect.height as usize)
                .map_err(|e| corrupt(rect, e))?;
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
            let mut pixels =
                decompress(rest, area * BYTES_PER_PIXEL).map_err(|e| corrupt(rect, e))?;
            let row = rect.width as usize * BYTES_PER_PIXEL;
            for line in pixels.chunks_exact_mut(row) {
                for i in BYTES_PER_PIXEL..row {
                    line[i] = line[i].wrapping_add(line[i - BYTES_PER_PIXEL]);
                }
            }
            pixels
        }
        other => return Err(corrupt(rect, format!("unknown form {other}"))),
    };
    Ok(pixels)
}
