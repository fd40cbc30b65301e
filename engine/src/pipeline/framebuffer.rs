//! [`Framebuffer`]: the receiver's copy of the screen, which applies [`Update`]s whole or not
//! at all, and keeps the layer beneath the screen ([`super::beneath`]).

use thiserror::Error;

use crate::codec::{CodecError, Decoded, RegionDecoder};
use crate::frame::{Frame, Rect};
use crate::pipeline::beneath::save_beneath;
use crate::wire::Update;

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
    /// The regions would decode to more pixels than [`DECODE_BUDGET`] screens: nothing is
    /// decoded.
    #[error("the update's regions hold {area} pixels, more than the {limit} allowed")]
    TooLarge {
        /// Pixels the regions would decode to.
        area: u64,
        /// The budget.
        limit: u64,
    },
}

/// How many screens' worth of pixels one update may decode to. The encoder's updates cover
/// the screen at most once (a first screen); crafted ones must not make the helper allocate
/// gigabytes.
pub const DECODE_BUDGET: u64 = 2;

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
    /// [`ApplyError::TooLarge`] when the regions would decode to more than [`DECODE_BUDGET`]
    /// screens (checked before anything is decoded), [`ApplyError::Region`] when a payload does
    /// not decode.
    pub fn apply(&mut self, update: &Update) -> Result<(), ApplyError> {
        let limit = DECODE_BUDGET * u64::from(update.width) * u64::from(update.height);
        let area: u64 = (update.regions.iter())
            .filter(|r| r.kind != crate::codec::RegionKind::Solid)
            .map(|r| r.rect.area())
            .sum();
        if area > limit {
            return Err(ApplyError::TooLarge { area, limit });
        }
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
            (self.frame, self.under) = (None, None);
        }
        let black = || Frame::filled(update.width, update.height, [0, 0, 0, 255]);
        let frame = self.frame.get_or_insert_with(black);
        let under = self.under.get_or_insert_with(black);
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
