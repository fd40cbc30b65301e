//! [`Update`]: the encoded changes of one capture, its wire format, and the [`Framebuffer`]
//! that applies it.
//!
//! # Wire format, version 3
//! Numbers are unsigned LEB128 varints (7 bits a byte, low first, high bit set on every byte
//! but the last; at most 10 bytes, no value above its field's limit). A steady update is small
//! (a typed glyph, a video frame of 30 bytes), so fixed-width fields were a third of it:
//! version 1 spent 26 bytes on the header and 13 on each region, version 2 about 14 and 8.
//!
//! ```text
//! magic        "BKU"         3 bytes
//! version      u8            2
//! seq          varint        sequence number, one per update
//! timestamp    varint        capture time, microseconds on the sender's clock
//! width        varint        screen width,  1..=MAX_DIMENSION
//! height       varint        screen height, 1..=MAX_DIMENSION
//! count        varint        regions, 0..=MAX_REGIONS
//! count times:
//!   kind       u8            0 solid, 1 lossless, 2 AV1, 3 copy, 4 video, 5 restore
//!   x, y       varint        top-left corner
//!   w, h       varint        size, at least 1x1, inside the screen
//!   length     varint        payload bytes, at most MAX_PAYLOAD and what is left of the input
//!   payload    length bytes
//! ```
//!
//! A copy's source is read from the screen as it was before the update, whatever the regions
//! before it wrote, so copies never depend on their order.
//!
//! # The layer beneath
//! Beside the screen, a [`Framebuffer`] keeps what copies covered: before an update's copies
//! write, the part of their rectangles outside all of their sources (what the moving thing
//! newly covers: the wallpaper in front of a dragged window) goes from the screen to the same
//! place in the layer. The layer starts black. A restore (kind 5, [`RegionKind::Restore`], no
//! payload) brings the layer's pixels back, read as they were before the update: the wallpaper
//! the window uncovers. The sender keeps the same layer and sends a restore only where the new
//! pixels equal it.
//!
//! Decoding untrusted bytes never panics: every length is checked against the limits and against
//! what is left of the input before anything is allocated, so an update costs at most its own
//! size in memory. Region payloads are checked by their codecs when applied; a
//! [`Framebuffer`] applies an update whole or not at all.

use thiserror::Error;

use crate::codec::{CodecError, Decoded, EncodedRegion, RegionDecoder, RegionKind};
use crate::frame::{Frame, FrameRef, Rect};
use crate::varint;

/// The wire format's version (3: restores and the layer beneath).
pub const VERSION: u8 = 3;
/// Widest and tallest screen an update may describe.
pub const MAX_DIMENSION: u32 = 8192;
/// Most regions in one update.
pub const MAX_REGIONS: usize = 4096;
/// Largest payload of one region.
pub const MAX_PAYLOAD: usize = 64 << 20;

const MAGIC: &[u8; 3] = b"BKU";
/// The smallest a region header can be: kind, four one-byte numbers, a one-byte length.
const MIN_REGION_HEADER: usize = 1 + 4 + 1;

/// The encoded changes of one capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// Sequence number, one more than the previous update's.
    pub seq: u64,
    /// When the frame was captured, in microseconds on the sender's clock.
    pub timestamp_us: u64,
    /// Screen width.
    pub width: u32,
    /// Screen height.
    pub height: u32,
    /// The regions, applied in order (later ones win where they overlap).
    pub regions: Vec<EncodedRegion>,
}

/// Why bytes are not an update.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// The input ends early.
    #[error("update is cut short: {needed} more bytes needed for the {what}")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes missing.
        needed: usize,
    },
    /// The input does not start with the magic bytes.
    #[error("not a Beckon update (bad magic bytes)")]
    BadMagic,
    /// The update comes from an incompatible version.
    #[error("update version {0} is not supported (this build speaks version {VERSION})")]
    Version(u8),
    /// A number's varint is longer than ten bytes or overflows 64 bits.
    #[error("the {0} is not a valid number (a varint longer than 64 bits)")]
    BadNumber(&'static str),
    /// A field is outside its limits.
    #[error("{field} is {value}, outside its limit of {limit}")]
    Limit {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
        /// The limit.
        limit: u64,
    },
    /// A region's kind byte is unknown.
    #[error("region {index} has unknown kind {kind}")]
    UnknownKind {
        /// Region index.
        index: usize,
        /// The byte.
        kind: u8,
    },
    /// A region is empty or leaves the screen.
    #[error("region {index} ({rect:?}) is empty or leaves the {width}x{height} screen")]
    BadRect {
        /// Region index.
        index: usize,
        /// The region.
        rect: Rect,
        /// Screen width.
        width: u32,
        /// Screen height.
        height: u32,
    },
    /// Bytes follow the last region.
    #[error("{0} bytes follow the last region")]
    TrailingBytes(usize),
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        if self.bytes.len() < n {
            return Err(WireError::Truncated {
                what,
                needed: n - self.bytes.len(),
            });
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, WireError> {
        Ok(self.take(1, what)?[0])
    }

    fn varint(&mut self, what: &'static str) -> Result<u64, WireError> {
        match varint::read(self.bytes) {
            Ok((value, used)) => {
                self.bytes = &self.bytes[used..];
                Ok(value)
            }
            Err(varint::Bad::TooLong) => Err(WireError::BadNumber(what)),
            Err(varint::Bad::Truncated) => Err(WireError::Truncated { what, needed: 1 }),
        }
    }

    /// A varint no larger than `max`.
    fn number(&mut self, what: &'static str, max: u64) -> Result<u64, WireError> {
        let v = self.varint(what)?;
        limit(what, v, max)?;
        Ok(v)
    }
}

fn limit(field: &'static str, value: u64, max: u64) -> Result<(), WireError> {
    if value > max {
        Err(WireError::Limit {
            field,
            value,
            limit: max,
        })
    } else {
        Ok(())
    }
}

impl Update {
    /// Bytes of the payloads (what the codecs produced).
    pub fn payload_bytes(&self) -> usize {
        self.regions.iter().map(|r| r.payload.len()).sum()
    }

    /// Size of the update on the wire.
    pub fn wire_size(&self) -> usize {
        let header = MAGIC.len()
            + 1
            + [
                self.seq,
                self.timestamp_us,
                u64::from(self.width),
                u64::from(self.height),
                self.regions.len() as u64,
            ]
            .map(varint::len)
            .iter()
            .sum::<usize>();
        let regions: usize = self
            .regions
            .iter()
            .map(|r| {
                let rect = [r.rect.x, r.rect.y, r.rect.width, r.rect.height];
                1 + rect
                    .map(|v| varint::len(u64::from(v)))
                    .iter()
                    .sum::<usize>()
                    + varint::len(r.payload.len() as u64)
                    + r.payload.len()
            })
            .sum();
        header + regions
    }

    /// The update in wire format.
    ///
    /// # Panics
    /// When the update exceeds the wire limits (the pipeline never makes such an update).
    pub fn encode(&self) -> Vec<u8> {
        assert!(self.width <= MAX_DIMENSION && self.height <= MAX_DIMENSION);
        assert!(self.regions.len() <= MAX_REGIONS);
        let mut out = Vec::with_capacity(self.wire_size());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        for v in [
            self.seq,
            self.timestamp_us,
            u64::from(self.width),
            u64::from(self.height),
            self.regions.len() as u64,
        ] {
            varint::put(&mut out, v);
        }
        for r in &self.regions {
            assert!(r.payload.len() <= MAX_PAYLOAD);
            out.push(r.kind.to_wire());
            for v in [r.rect.x, r.rect.y, r.rect.width, r.rect.height] {
                varint::put(&mut out, u64::from(v));
            }
            varint::put(&mut out, r.payload.len() as u64);
            out.extend_from_slice(&r.payload);
        }
        out
    }

    /// The sequence number of an update in wire format, read without decoding the rest (a
    /// receiver puts updates that arrive out of order back in order with it); `None` when the
    /// bytes do not start like an update of this version.
    pub fn peek_seq(bytes: &[u8]) -> Option<u64> {
        let rest = bytes.strip_prefix(MAGIC)?.strip_prefix(&[VERSION])?;
        varint::read(rest).ok().map(|(seq, _)| seq)
    }

    /// Parses an update from untrusted bytes.
    ///
    /// # Errors
    /// A [`WireError`] saying what is wrong; never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Update, WireError> {
        let mut r = Reader { bytes };
        if r.take(3, "magic")? != MAGIC {
            return Err(WireError::BadMagic);
        }
        let version = r.u8("version")?;
        if version != VERSION {
            return Err(WireError::Version(version));
        }
        let seq = r.varint("sequence number")?;
        let timestamp_us = r.varint("timestamp")?;
        let dimension = MAX_DIMENSION as u64;
        let width = r.number("width", dimension)? as u32;
        let height = r.number("height", dimension)? as u32;
        for (field, v) in [("width", width), ("height", height)] {
            if v == 0 {
                return Err(WireError::Limit {
                    field,
                    value: 0,
                    limit: MAX_DIMENSION as u64,
                });
            }
        }
        let count = r.number("region count", MAX_REGIONS as u64)? as usize;
        // Never trust the count for an allocation beyond what the input can hold.
        let mut regions = Vec::with_capacity(count.min(r.bytes.len() / MIN_REGION_HEADER));
        for index in 0..count {
            let kind_byte = r.u8("region kind")?;
            let kind = RegionKind::from_wire(kind_byte).ok_or(WireError::UnknownKind {
                index,
                kind: kind_byte,
            })?;
            let x = r.number("region x", dimension)? as u32;
            let y = r.number("region y", dimension)? as u32;
            let w = r.number("region width", dimension)? as u32;
            let h = r.number("region height", dimension)? as u32;
            let rect = Rect::new(x, y, w, h);
            if rect.is_empty() || rect.right() > width || rect.bottom() > height {
                return Err(WireError::BadRect {
                    index,
                    rect,
                    width,
                    height,
                });
            }
            let len = r.number("payload length", MAX_PAYLOAD as u64)? as usize;
            let payload = r.take(len, "region payload")?.to_vec();
            regions.push(EncodedRegion {
                rect,
                kind,
                payload,
            });
        }
        if !r.bytes.is_empty() {
            return Err(WireError::TrailingBytes(r.bytes.len()));
        }
        Ok(Update {
            seq,
            timestamp_us,
            width,
            height,
            regions,
        })
    }
}

/// Most pieces [`save_beneath`] cuts an update's copies into; beyond, it saves nothing (the
/// pipeline's copies make a handful, and crafted ones must not cost time).
const MAX_SAVED_PIECES: usize = 1024;

/// Saves into `under` what `copies` (destination, source) cover of `screen`, and returns those
/// pieces: their destinations outside all of their sources. A window moved as several copies
/// saves only the wallpaper in front of it, not its own pixels.
pub(crate) fn save_beneath(
    under: &mut Frame,
    screen: &FrameRef<'_>,
    copies: &[(Rect, Rect)],
) -> Vec<Rect> {
    let mut pieces: Vec<Rect> = copies.iter().map(|(to, _)| *to).collect();
    for (_, from) in copies {
        pieces = pieces
            .into_iter()
            .flat_map(|p| crate::motion::subtract(p, *from))
            .collect();
        if pieces.len() > MAX_SAVED_PIECES {
            return Vec::new();
        }
    }
    for piece in &pieces {
        crate::codec::paste(under, *piece, &crate::codec::crop(screen, *piece));
    }
    pieces
}

/// Why an update could not be applied.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// A region's payload does not decode.
    #[error("region {index} does not decode: {source}")]
    Region {
        /// Region index.
        index: usize,
        /// The codec's error.
        source: CodecError,
    },
}

/// The viewer's copy of the screen: applies updates in order. It keeps the layer beneath the
/// screen too (the module doc), a second frame's worth of memory.
#[derive(Debug, Default)]
pub struct Framebuffer {
    frame: Option<Frame>,
    /// The layer beneath: what copies covered.
    under: Option<Frame>,
    decoder: RegionDecoder,
    last_seq: Option<u64>,
}

impl Framebuffer {
    /// An empty framebuffer; the first update sizes it.
    pub fn new() -> Framebuffer {
        Framebuffer::default()
    }

    /// The screen as last updated, or `None` before the first update.
    pub fn frame(&self) -> Option<&Frame> {
        self.frame.as_ref()
    }

    /// Sequence number of the last update applied.
    pub fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }

    /// Applies an update whole: every region is decoded before any pixel is written, so on error
    /// the framebuffer is unchanged. An update of another size starts a new, black screen (the
    /// encoder sends the whole screen then).
    ///
    /// # Errors
    /// [`ApplyError::Region`] when a payload does not decode.
    pub fn apply(&mut self, update: &Update) -> Result<(), ApplyError> {
        let resized = self
            .frame
            .as_ref()
            .is_none_or(|f| f.width() != update.width || f.height() != update.height);
        let mark = self.decoder.mark();
        let decoded: Result<Vec<Decoded>, ApplyError> = update
            .regions
            .iter()
            .enumerate()
            .map(|(index, region)| {
                self.decoder
                    .decode_pixels(region, update.width, update.height)
                    .map_err(|source| ApplyError::Region { index, source })
            })
            .collect();
        let decoded = match decoded {
            Ok(decoded) => decoded,
            Err(e) => {
                self.decoder.rollback(mark);
                return Err(e);
            }
        };
        // Copies read the screen, and restores the layer beneath, as they were before this update.
        let mut decoded = decoded;
        for (index, (region, pixels)) in update.regions.iter().zip(decoded.iter_mut()).enumerate() {
            let (layer, source) = match *pixels {
                Decoded::Copy { from_x, from_y } => (
                    &self.frame,
                    Rect::new(from_x, from_y, region.rect.width, region.rect.height),
                ),
                Decoded::Restore => (&self.under, region.rect),
                _ => continue,
            };
            let Some(layer) = layer.as_ref().filter(|_| !resized) else {
                self.decoder.rollback(mark);
                return Err(ApplyError::Region {
                    index,
                    source: CodecError::Corrupt {
                        kind: region.kind,
                        rect: region.rect,
                        reason: "nothing is on the screen yet to take pixels from".into(),
                    },
                });
            };
            *pixels = Decoded::Pixels(crate::codec::crop(&layer.as_ref(), source));
        }
        if resized {
            self.frame = Some(Frame::filled(update.width, update.height, [0, 0, 0, 255]));
            self.under = self.frame.clone();
        }
        let frame = self.frame.as_mut().expect("sized above");
        let under = self.under.as_mut().expect("sized with the screen");
        let copies: Vec<(Rect, Rect)> = update
            .regions
            .iter()
            .filter_map(|r| {
                let (x, y) = r.copy_source()?;
                Some((r.rect, Rect::new(x, y, r.rect.width, r.rect.height)))
            })
            .collect();
        save_beneath(under, &frame.as_ref(), &copies);
        for (region, pixels) in update.regions.iter().zip(&decoded) {
            pixels.write_to(frame, region.rect);
        }
        self.decoder.commit();
        self.last_seq = Some(update.seq);
        Ok(())
    }
}
