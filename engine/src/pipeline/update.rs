//! [`Update`]: the encoded changes of one capture, its wire format, and the [`Framebuffer`]
//! that applies it.
//!
//! # Wire format, version 1
//! All integers little-endian.
//!
//! ```text
//! magic        "BKU"         3 bytes
//! version      u8            1
//! seq          u64           sequence number, one per update
//! timestamp    u64           capture time, microseconds on the sender's clock
//! width        u16           screen width,  1..=MAX_DIMENSION
//! height       u16           screen height, 1..=MAX_DIMENSION
//! count        u16           regions, 0..=MAX_REGIONS
//! count times:
//!   kind       u8            0 solid, 1 lossless, 2 AV1, 3 copy
//!   x, y       u16, u16      top-left corner
//!   w, h       u16, u16      size, at least 1x1, inside the screen
//!   length     u32           payload bytes, at most MAX_PAYLOAD and what is left of the input
//!   payload    length bytes
//! ```
//!
//! A copy's source is read from the screen as it was before the update, whatever the regions
//! before it wrote, so copies never depend on their order.
//!
//! Decoding untrusted bytes never panics: every length is checked against the limits and against
//! what is left of the input before anything is allocated, so an update costs at most its own
//! size in memory. Region payloads are checked by their codecs when applied; a
//! [`Framebuffer`] applies an update whole or not at all.

use thiserror::Error;

use crate::codec::{CodecError, Decoded, EncodedRegion, RegionDecoder, RegionKind};
use crate::frame::{Frame, Rect};

/// The wire format's version.
pub const VERSION: u8 = 1;
/// Widest and tallest screen an update may describe.
pub const MAX_DIMENSION: u32 = 8192;
/// Most regions in one update.
pub const MAX_REGIONS: usize = 4096;
/// Largest payload of one region.
pub const MAX_PAYLOAD: usize = 64 << 20;

const MAGIC: &[u8; 3] = b"BKU";
const HEADER: usize = 3 + 1 + 8 + 8 + 2 + 2 + 2;
const REGION_HEADER: usize = 1 + 8 + 4;

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

    fn u16(&mut self, what: &'static str) -> Result<u16, WireError> {
        Ok(u16::from_le_bytes(
            self.take(2, what)?.try_into().expect("2"),
        ))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(
            self.take(4, what)?.try_into().expect("4"),
        ))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(
            self.take(8, what)?.try_into().expect("8"),
        ))
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
        HEADER + self.regions.len() * REGION_HEADER + self.payload_bytes()
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
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.timestamp_us.to_le_bytes());
        out.extend_from_slice(&(self.width as u16).to_le_bytes());
        out.extend_from_slice(&(self.height as u16).to_le_bytes());
        out.extend_from_slice(&(self.regions.len() as u16).to_le_bytes());
        for r in &self.regions {
            assert!(r.payload.len() <= MAX_PAYLOAD);
            out.push(r.kind.to_wire());
            for v in [r.rect.x, r.rect.y, r.rect.width, r.rect.height] {
                out.extend_from_slice(&(v as u16).to_le_bytes());
            }
            out.extend_from_slice(&(r.payload.len() as u32).to_le_bytes());
            out.extend_from_slice(&r.payload);
        }
        out
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
        let seq = r.u64("sequence number")?;
        let timestamp_us = r.u64("timestamp")?;
        let width = r.u16("width")? as u32;
        let height = r.u16("height")? as u32;
        for (field, v) in [("width", width), ("height", height)] {
            limit(field, v as u64, MAX_DIMENSION as u64)?;
            if v == 0 {
                return Err(WireError::Limit {
                    field,
                    value: 0,
                    limit: MAX_DIMENSION as u64,
                });
            }
        }
        let count = r.u16("region count")? as usize;
        limit("region count", count as u64, MAX_REGIONS as u64)?;
        // Never trust the count for an allocation beyond what the input can hold.
        let mut regions = Vec::with_capacity(count.min(r.bytes.len() / REGION_HEADER));
        for index in 0..count {
            let kind_byte = r.u8("region kind")?;
            let kind = RegionKind::from_wire(kind_byte).ok_or(WireError::UnknownKind {
                index,
                kind: kind_byte,
            })?;
            let x = r.u16("region x")? as u32;
            let y = r.u16("region y")? as u32;
            let w = r.u16("region width")? as u32;
            let h = r.u16("region height")? as u32;
            let rect = Rect::new(x, y, w, h);
            if rect.is_empty() || rect.right() > width || rect.bottom() > height {
                return Err(WireError::BadRect {
                    index,
                    rect,
                    width,
                    height,
                });
            }
            let len = r.u32("payload length")? as usize;
            limit("payload length", len as u64, MAX_PAYLOAD as u64)?;
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

/// The viewer's copy of the screen: applies updates in order.
#[derive(Debug, Default)]
pub struct Framebuffer {
    frame: Option<Frame>,
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
        let decoded: Vec<Decoded> = update
            .regions
            .iter()
            .enumerate()
            .map(|(index, region)| {
                self.decoder
                    .decode_pixels(region, update.width, update.height)
                    .map_err(|source| ApplyError::Region { index, source })
            })
            .collect::<Result<_, _>>()?;
        // Copies read the screen as it was before this update.
        let mut decoded = decoded;
        for (index, (region, pixels)) in update.regions.iter().zip(decoded.iter_mut()).enumerate() {
            if let Decoded::Copy { from_x, from_y } = *pixels {
                let Some(frame) = self.frame.as_ref().filter(|_| !resized) else {
                    return Err(ApplyError::Region {
                        index,
                        source: CodecError::Corrupt {
                            kind: RegionKind::Copy,
                            rect: region.rect,
                            reason: "a copy needs a screen to copy from".into(),
                        },
                    });
                };
                let source = Rect::new(from_x, from_y, region.rect.width, region.rect.height);
                *pixels = Decoded::Pixels(crate::codec::crop(&frame.as_ref(), source));
            }
        }
        if resized {
            self.frame = Some(Frame::filled(update.width, update.height, [0, 0, 0, 255]));
        }
        let frame = self.frame.as_mut().expect("sized above");
        for (region, pixels) in update.regions.iter().zip(&decoded) {
            pixels.write_to(frame, region.rect);
        }
        self.last_seq = Some(update.seq);
        Ok(())
    }
}
