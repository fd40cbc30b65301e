//! [`Update`]: the encoded changes of one capture, in wire format.
//!
//! # Wire format, version 5
//! Numbers are unsigned LEB128 varints (`wire/varint.rs`). A steady update is small (a typed
//! glyph, a video frame of 30 bytes), so fixed-width fields would be a third of it.
//!
//! ```text
//! magic        "BK"          2 bytes
//! version      u8            5
//! flags        u8            bit 0: refinement (exact pixels for a still screen);
//!                            bit 1: exact (once applied, the receiver shows the capture
//!                            exactly: nothing lossy is left to refine); others 0
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
//! before it wrote, so copies never depend on their order. A restore (no payload) brings back
//! the layer beneath the screen that the receiver's
//! [`Framebuffer`](crate::pipeline::Framebuffer) keeps.
//!
//! Decoding untrusted bytes never panics: every length is checked against the limits and against
//! what is left of the input before anything is allocated, so an update costs at most its own
//! size in memory. Region payloads are checked by their codecs when applied.

use thiserror::Error;

use crate::codec::{EncodedRegion, RegionKind};
use crate::frame::Rect;
use crate::wire::varint;

/// The wire format's version (5: the exact flag; 4: a flags byte, and a two-byte magic).
pub const VERSION: u8 = 5;
/// Widest and tallest screen an update may describe.
pub const MAX_DIMENSION: u32 = 8192;
/// Most regions in one update.
pub const MAX_REGIONS: usize = 4096;
/// Largest payload of one region.
pub const MAX_PAYLOAD: usize = 64 << 20;

const MAGIC: &[u8; 2] = b"BK";
/// Flag: the update is refinement.
const REFINEMENT: u8 = 1;
/// Flag: once applied, the receiver's picture is exact.
const EXACT: u8 = 2;
/// The smallest a region header can be: kind, four one-byte numbers, a one-byte length.
const MIN_REGION_HEADER: usize = 1 + 4 + 1;

/// The encoded changes of one capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// Sequence number, one more than the previous update's.
    pub seq: u64,
    /// Refinement: exact pixels for tiles the receiver shows lossy, sent once they are still;
    /// nothing new was captured for it.
    pub refinement: bool,
    /// Once this update is applied (after those before it), the receiver shows the sender's
    /// latest capture exactly: no tile is lossy or owed refinement, no video stream runs.
    pub exact: bool,
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
            + 2
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
        out.push(if self.refinement { REFINEMENT } else { 0 } | if self.exact { EXACT } else { 0 });
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
        varint::read(rest.get(1..)?).ok().map(|(seq, _)| seq)
    }

    /// Parses an update from untrusted bytes.
    ///
    /// # Errors
    /// A [`WireError`] saying what is wrong; never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Update, WireError> {
        let mut r = Reader { bytes };
        if r.take(MAGIC.len(), "magic")? != MAGIC {
            return Err(WireError::BadMagic);
        }
        let version = r.u8("version")?;
        if version != VERSION {
            // Version 3 began "BKU": name it rather than the letter.
            return Err(WireError::Version(if version == b'U' {
                3
            } else {
                version
            }));
        }
        let flags = r.u8("flags")?;
        if flags & !(REFINEMENT | EXACT) != 0 {
            return Err(WireError::Limit {
                field: "flags",
                value: u64::from(flags),
                limit: u64::from(REFINEMENT | EXACT),
            });
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
            refinement: flags & REFINEMENT != 0,
            exact: flags & EXACT != 0,
            timestamp_us,
            width,
            height,
            regions,
        })
    }
}
