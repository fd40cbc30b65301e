//! Region codecs: how one rectangle of the screen becomes bytes and back.
//!
//! Three paths, each best at one kind of content:
//! - [`RegionKind::Solid`]: one colour, four bytes;
//! - [`RegionKind::Lossless`]: exact pixels for text and UI chrome: a palette of up to 256 colours
//!   with its indices through zstd, or, for more colours, left-predicted rows through zstd
//!   (`codec/lossless.rs`);
//! - [`RegionKind::Av1`]: photos and gradients: rav1e intra with a fresh context, flushed at once
//!   so one region in gives one packet out (no frame delay), decoded by dav1d; colour conversion
//!   by yuvutils-rs (`codec/av1.rs`).
//!
//! The classifier (`codec/classify.rs`) picks the path from cheap statistics. [`RegionEncoder`] and [`RegionDecoder`] are
//! the only entry points; no rav1e or dav1d type appears in this API.
//!
//! ```
//! use beckon_engine::codec::{RegionDecoder, RegionEncoder, RegionKind};
//! use beckon_engine::frame::{Frame, Rect};
//!
//! let mut screen = Frame::filled(64, 32, [255, 255, 255, 255]);
//! screen.set_pixel(3, 4, [0, 0, 0, 255]);
//! let rect = Rect::new(0, 0, 16, 16);
//! let region = RegionEncoder::default().encode(&screen.as_ref(), rect, RegionKind::Lossless).unwrap();
//! let mut viewer = Frame::filled(64, 32, [0, 0, 0, 255]);
//! RegionDecoder::default().decode(&region, &mut viewer).unwrap();
//! assert_eq!(viewer.as_ref().pixel(3, 4), [0, 0, 0, 255]);
//! assert_eq!(viewer.as_ref().pixel(5, 5), [255, 255, 255, 255]);
//! ```

crate::internal_mod!(av1);
crate::internal_mod!(classify);
crate::internal_mod!(lossless);
crate::internal_mod!(memory);
crate::internal_mod!(video);

use thiserror::Error;

use crate::frame::{BYTES_PER_PIXEL, Frame, FrameRef, Rect};

/// Which codec a region went through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RegionKind {
    /// One colour: the payload is its four BGRA bytes.
    Solid,
    /// Exact pixels: palette or predicted rows, through zstd.
    Lossless,
    /// An AV1 intra frame (lossy).
    Av1,
    /// A copy of pixels the viewer already shows, read from the screen as it was before the
    /// update: the payload is how far they moved, right then down, as two zigzag varints (a
    /// scroll or a drag takes two bytes). Made by [`crate::motion`], never by [`RegionEncoder`].
    Copy,
    /// A frame of a persistent inter-coded AV1 stream (`codec/video.rs`); lossy, and may show an
    /// earlier frame than the update's, or nothing yet.
    Video,
    /// What the viewer showed here before a copy covered it (no payload), kept by the
    /// [`Framebuffer`](crate::pipeline::Framebuffer)'s layer beneath: the wallpaper a dragged
    /// window uncovers comes back this way. Made by the pipeline, never by [`RegionEncoder`].
    Restore,
}

impl RegionKind {
    /// Every kind, in wire order.
    pub const ALL: [RegionKind; 6] = [
        RegionKind::Solid,
        RegionKind::Lossless,
        RegionKind::Av1,
        RegionKind::Copy,
        RegionKind::Video,
        RegionKind::Restore,
    ];

    /// Name in reports (`solid`, `lossless`, `av1`).
    pub fn name(self) -> &'static str {
        match self {
            RegionKind::Solid => "solid",
            RegionKind::Lossless => "lossless",
            RegionKind::Av1 => "av1",
            RegionKind::Copy => "copy",
            RegionKind::Video => "video",
            RegionKind::Restore => "restore",
        }
    }

    /// Whether the viewer ends up with the exact source pixels.
    pub fn is_exact(self) -> bool {
        matches!(self, RegionKind::Solid | RegionKind::Lossless)
    }

    /// The byte that stands for this kind on the wire.
    pub fn to_wire(self) -> u8 {
        match self {
            RegionKind::Solid => 0,
            RegionKind::Lossless => 1,
            RegionKind::Av1 => 2,
            RegionKind::Copy => 3,
            RegionKind::Video => 4,
            RegionKind::Restore => 5,
        }
    }

    /// The kind a wire byte stands for.
    pub fn from_wire(b: u8) -> Option<RegionKind> {
        RegionKind::ALL.into_iter().find(|k| k.to_wire() == b)
    }
}

/// One encoded rectangle of the screen.
#[derive(Clone, PartialEq, Eq)]
pub struct EncodedRegion {
    /// Where it goes on the screen.
    pub rect: Rect,
    /// Which codec made the payload.
    pub kind: RegionKind,
    /// The codec's bytes.
    pub payload: Vec<u8>,
}

impl EncodedRegion {
    /// A copy of the `rect.width` x `rect.height` pixels at (`from_x`, `from_y`) to `rect`.
    pub fn copy(rect: Rect, from_x: u32, from_y: u32) -> EncodedRegion {
        let mut payload = Vec::with_capacity(4);
        for (to, from) in [(rect.x, from_x), (rect.y, from_y)] {
            crate::wire::varint::put(
                &mut payload,
                crate::wire::varint::zigzag(i64::from(to) - i64::from(from)),
            );
        }
        EncodedRegion {
            rect,
            kind: RegionKind::Copy,
            payload,
        }
    }

    /// A restore of `rect` from the viewer's layer beneath ([`RegionKind::Restore`]).
    pub fn restore(rect: Rect) -> EncodedRegion {
        EncodedRegion {
            rect,
            kind: RegionKind::Restore,
            payload: Vec::new(),
        }
    }

    /// A copy's source corner, if this is a well-formed copy (two offsets and nothing more,
    /// leading to a corner at or right of and below the screen's).
    pub fn copy_source(&self) -> Option<(u32, u32)> {
        if self.kind != RegionKind::Copy {
            return None;
        }
        let (dx, used) = crate::wire::varint::read(&self.payload).ok()?;
        let (dy, rest) = crate::wire::varint::read(&self.payload[used..]).ok()?;
        if used + rest != self.payload.len() {
            return None;
        }
        let from = |to: u32, moved: u64| {
            u32::try_from(i64::from(to).checked_sub(crate::wire::varint::unzigzag(moved))?).ok()
        };
        Some((from(self.rect.x, dx)?, from(self.rect.y, dy)?))
    }
}

impl std::fmt::Debug for EncodedRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodedRegion")
            .field("rect", &self.rect)
            .field("kind", &self.kind)
            .field("bytes", &self.payload.len())
            .finish()
    }
}

/// Why a region could not be encoded or decoded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The rectangle does not lie inside the frame.
    #[error("region {rect:?} lies outside the {width}x{height} frame")]
    OutOfBounds {
        /// The region.
        rect: Rect,
        /// Frame width.
        width: u32,
        /// Frame height.
        height: u32,
    },
    /// A solid region was asked of pixels that are not all one colour.
    #[error("region {rect:?} is not a single colour")]
    NotSolid {
        /// The region.
        rect: Rect,
    },
    /// The payload does not decode: truncated, corrupt, or of the wrong size.
    #[error("corrupt {kind:?} payload for region {rect:?}: {reason}")]
    Corrupt {
        /// The codec.
        kind: RegionKind,
        /// The region.
        rect: Rect,
        /// What is wrong.
        reason: String,
    },
    /// The AV1 encoder refused its configuration or failed.
    #[error("AV1 encoder failed: {reason}")]
    Encoder {
        /// What rav1e said.
        reason: String,
    },
}

/// Chroma layout of the AV1 path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chroma {
    /// Chroma at a quarter of the resolution: cheapest, fine for photos.
    Yuv420,
    /// Full-resolution chroma: keeps coloured edges sharp.
    Yuv444,
}

/// Settings of the region encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodecConfig {
    /// Picture quality of the lossy path, 0 (smallest) to 100 (best).
    pub quality: u8,
    /// Chroma layout of the lossy path.
    pub chroma: Chroma,
    /// zstd level of the lossless path's palette form.
    pub zstd_level: i32,
    /// zstd level of the lossless path's predicted form (regions of many colours): for
    /// refinement of photos, `PREDICTED_LEVEL`; for fresh regions, text and interfaces whose
    /// rows repeat, `FRESH_PREDICTED_LEVEL` (both in `codec/lossless.rs`).
    pub predicted_level: i32,
}

impl Default for CodecConfig {
    fn default() -> Self {
        CodecConfig {
            quality: 60,
            chroma: Chroma::Yuv420,
            zstd_level: 3,
            predicted_level: lossless::PREDICTED_LEVEL,
        }
    }
}

/// Encodes regions of a frame. Holds only settings, so one encoder serves every thread.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegionEncoder {
    config: CodecConfig,
}

impl RegionEncoder {
    /// An encoder with these settings.
    pub fn new(config: CodecConfig) -> RegionEncoder {
        RegionEncoder { config }
    }

    /// The settings.
    pub fn config(&self) -> &CodecConfig {
        &self.config
    }

    /// A lossless region of many colours, coarsely (`encode_coarse` in `codec/lossless.rs`):
    /// not exact.
    /// `None` when the region has few colours.
    pub fn encode_coarse(&self, frame: &FrameRef<'_>, rect: Rect) -> Option<EncodedRegion> {
        check_bounds(rect, frame.width(), frame.height()).ok()?;
        let payload = lossless::encode_coarse(
            frame,
            rect,
            self.config.zstd_level,
            self.config.predicted_level,
        )?;
        Some(EncodedRegion {
            rect,
            kind: RegionKind::Lossless,
            payload,
        })
    }

    /// Encodes `rect` of `frame` through the codec of `kind`.
    ///
    /// # Errors
    /// [`CodecError::OutOfBounds`] when `rect` leaves the frame; [`CodecError::NotSolid`] when a
    /// solid region holds several colours; [`CodecError::Encoder`] when rav1e fails.
    pub fn encode(
        &self,
        frame: &FrameRef<'_>,
        rect: Rect,
        kind: RegionKind,
    ) -> Result<EncodedRegion, CodecError> {
        check_bounds(rect, frame.width(), frame.height())?;
        let payload = match kind {
            RegionKind::Solid => {
                let colour = frame.pixel(rect.x, rect.y);
                if classify::count_colours(frame, rect, 1) != 1 {
                    return Err(CodecError::NotSolid { rect });
                }
                colour.to_vec()
            }
            RegionKind::Lossless => lossless::encode_at(
                frame,
                rect,
                self.config.zstd_level,
                self.config.predicted_level,
            ),
            RegionKind::Av1 => av1::encode(frame, rect, &self.config)?,
            RegionKind::Copy | RegionKind::Video | RegionKind::Restore => {
                return Err(CodecError::Encoder {
                    reason: "copies and restores come from the pipeline and video from a \
                        VideoEncoder"
                        .into(),
                });
            }
        };
        Ok(EncodedRegion {
            rect,
            kind,
            payload,
        })
    }
}

/// Most video streams a viewer decodes at once.
pub(crate) const MAX_STREAMS: usize = 16;

/// Decodes regions into a frame. Keeps one dav1d decoder, made on first use.
#[derive(Debug, Default)]
pub struct RegionDecoder {
    av1: Option<av1::Decoder>,
    /// The text sent with memory so far ([`memory`]).
    memory: memory::TextMemory,
    /// One decoder per live video stream, by id.
    streams: std::collections::HashMap<u32, av1::Decoder>,
}

/// A region's decoded pixels, not yet written anywhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// One colour for the whole rectangle.
    Solid([u8; 4]),
    /// Tight BGRA rows of the rectangle.
    Pixels(Vec<u8>),
    /// Nothing to write (a video stream still filling).
    Nothing,
    /// The rectangle's pixels come from the same-sized one at this corner of the screen.
    Copy {
        /// Source column.
        from_x: u32,
        /// Source row.
        from_y: u32,
    },
    /// The rectangle's pixels come from the layer beneath the screen, which only a
    /// [`Framebuffer`](crate::pipeline::Framebuffer) keeps: [`Decoded::write_to`] leaves them.
    Restore,
}

impl Decoded {
    /// Writes the pixels into `rect` of `dst`, which must hold it.
    ///
    /// # Panics
    /// When `rect` leaves `dst` or the pixels are not of `rect`'s size.
    pub(crate) fn write_to(&self, dst: &mut Frame, rect: Rect) {
        match self {
            Decoded::Solid(colour) => fill(dst, rect, *colour),
            Decoded::Pixels(pixels) => {
                assert_eq!(pixels.len(), rect.area() as usize * BYTES_PER_PIXEL);
                paste(dst, rect, pixels)
            }
            Decoded::Copy { from_x, from_y } => copy_within(dst, rect, *from_x, *from_y),
            Decoded::Nothing | Decoded::Restore => {}
        }
    }
}

/// Copies the `rect`-sized block at (`from_x`, `from_y`) of `frame` to `rect`, correct when the
/// two overlap: rows go bottom-up when the block moves down, and each row moves as one
/// `copy_within` (a memmove).
pub(crate) fn copy_within(frame: &mut Frame, rect: Rect, from_x: u32, from_y: u32) {
    let stride = frame.stride();
    let row = rect.width as usize * BYTES_PER_PIXEL;
    let data = frame.data_mut();
    let mut one = |dy: u32| {
        let src = (from_y + dy) as usize * stride + from_x as usize * BYTES_PER_PIXEL;
        let dst = (rect.y + dy) as usize * stride + rect.x as usize * BYTES_PER_PIXEL;
        data.copy_within(src..src + row, dst);
    };
    if rect.y > from_y {
        (0..rect.height).rev().for_each(&mut one);
    } else {
        (0..rect.height).for_each(&mut one);
    }
}

impl RegionDecoder {
    /// Where the text memory stands: an update that fails returns to it with
    /// [`RegionDecoder::rollback`].
    pub fn mark(&self) -> memory::Mark {
        self.memory.mark()
    }

    /// Forgets the text memory's changes since `mark`.
    pub fn rollback(&mut self, mark: memory::Mark) {
        self.memory.rollback(mark);
    }

    /// Ends an update that applied: the text memory keeps its recent history.
    pub fn commit(&mut self) {
        self.memory.commit();
    }

    /// Decodes `region` into pixels of its rectangle, which must lie inside a `width` x `height`
    /// screen.
    ///
    /// # Errors
    /// [`CodecError::OutOfBounds`] when the region leaves the screen, [`CodecError::Corrupt`]
    /// when its payload does not decode.
    pub(crate) fn decode_pixels(
        &mut self,
        region: &EncodedRegion,
        width: u32,
        height: u32,
    ) -> Result<Decoded, CodecError> {
        let rect = region.rect;
        check_bounds(rect, width, height)?;
        if rect.is_empty() {
            return Err(CodecError::Corrupt {
                kind: region.kind,
                rect,
                reason: "empty rectangle".into(),
            });
        }
        match region.kind {
            RegionKind::Solid => {
                let colour: [u8; 4] =
                    region
                        .payload
                        .as_slice()
                        .try_into()
                        .map_err(|_| CodecError::Corrupt {
                            kind: RegionKind::Solid,
                            rect,
                            reason: format!("{} bytes, a colour has 4", region.payload.len()),
                        })?;
                Ok(Decoded::Solid(colour))
            }
            RegionKind::Lossless if region.payload.first() == Some(&memory::FORM_MEMORY) => self
                .memory
                .decode(&region.payload, rect)
                .map(Decoded::Pixels),
            RegionKind::Lossless => lossless::decode(&region.payload, rect).map(Decoded::Pixels),
            RegionKind::Av1 => {
                let decoder = match &mut self.av1 {
                    Some(d) => d,
                    None => self.av1.insert(av1::Decoder::new()?),
                };
                decoder.decode(&region.payload, rect).map(Decoded::Pixels)
            }
            RegionKind::Copy => {
                let (from_x, from_y) = region.copy_source().ok_or_else(|| CodecError::Corrupt {
                    kind: RegionKind::Copy,
                    rect,
                    reason: "its payload is not two offsets leading onto the screen".into(),
                })?;
                let source = Rect::new(from_x, from_y, rect.width, rect.height);
                check_bounds(source, width, height).map_err(|_| CodecError::Corrupt {
                    kind: RegionKind::Copy,
                    rect,
                    reason: format!("the source {source:?} leaves the {width}x{height} screen"),
                })?;
                Ok(Decoded::Copy { from_x, from_y })
            }
            RegionKind::Restore if region.payload.is_empty() => Ok(Decoded::Restore),
            RegionKind::Restore => Err(CodecError::Corrupt {
                kind: RegionKind::Restore,
                rect,
                reason: format!("{} bytes, a restore has none", region.payload.len()),
            }),
            RegionKind::Video => {
                let corrupt = |reason: String| CodecError::Corrupt {
                    kind: RegionKind::Video,
                    rect,
                    reason,
                };
                let (id, flags, data) = video::parse(&region.payload)
                    .ok_or_else(|| corrupt("shorter than a stream header".into()))?;
                if flags & video::START != 0 {
                    if self.streams.len() >= MAX_STREAMS {
                        return Err(corrupt(format!("more than {MAX_STREAMS} streams at once")));
                    }
                    self.streams.insert(id, av1::Decoder::new()?);
                }
                let decoder = self
                    .streams
                    .get_mut(&id)
                    .ok_or_else(|| corrupt(format!("stream {id} was never started")))?;
                let result = decoder.decode_stream(data, rect);
                if flags & video::END != 0 || result.is_err() {
                    self.streams.remove(&id);
                }
                Ok(result?.map_or(Decoded::Nothing, Decoded::Pixels))
            }
        }
    }

    /// Writes `region`'s pixels into `dst`.
    ///
    /// # Errors
    /// [`CodecError::OutOfBounds`] when the region leaves `dst`, [`CodecError::Corrupt`] when its
    /// payload does not decode (a copy or a restore, which need a screen, among them); `dst`
    /// is unchanged on error.
    pub fn decode(&mut self, region: &EncodedRegion, dst: &mut Frame) -> Result<(), CodecError> {
        let decoded = self.decode_pixels(region, dst.width(), dst.height())?;
        decoded.write_to(dst, region.rect);
        Ok(())
    }
}

fn check_bounds(rect: Rect, width: u32, height: u32) -> Result<(), CodecError> {
    let inside = rect.x.checked_add(rect.width).is_some_and(|r| r <= width)
        && rect.y.checked_add(rect.height).is_some_and(|b| b <= height);
    if inside {
        Ok(())
    } else {
        Err(CodecError::OutOfBounds {
            rect,
            width,
            height,
        })
    }
}

/// Fills `rect` of `dst` with one colour.
pub(crate) fn fill(dst: &mut Frame, rect: Rect, colour: [u8; 4]) {
    let stride = dst.stride();
    let row: Vec<u8> = colour.repeat(rect.width as usize);
    let data = dst.data_mut();
    for y in rect.y..rect.bottom() {
        let at = y as usize * stride + rect.x as usize * BYTES_PER_PIXEL;
        data[at..at + row.len()].copy_from_slice(&row);
    }
}

/// Copies `rect` of `src` into a tight BGRA buffer.
pub(crate) fn crop(src: &FrameRef<'_>, rect: Rect) -> Vec<u8> {
    let mut out = Vec::with_capacity(rect.area() as usize * BYTES_PER_PIXEL);
    for y in rect.y..rect.bottom() {
        let row = src.row(y);
        out.extend_from_slice(
            &row[rect.x as usize * BYTES_PER_PIXEL..rect.right() as usize * BYTES_PER_PIXEL],
        );
    }
    out
}

/// Writes a tight BGRA buffer of `rect`'s size into `rect` of `dst`.
pub(crate) fn paste(dst: &mut Frame, rect: Rect, pixels: &[u8]) {
    let stride = dst.stride();
    let row = rect.width as usize * BYTES_PER_PIXEL;
    let data = dst.data_mut();
    for (i, src) in pixels.chunks_exact(row).enumerate() {
        let at = (rect.y as usize + i) * stride + rect.x as usize * BYTES_PER_PIXEL;
        data[at..at + row].copy_from_slice(src);
    }
}

#[cfg(test)]
pub(crate) mod tests;
