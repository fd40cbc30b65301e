//! The AV1 path: photos and gradients, lossy.
//!
//! Each region is one AV1 still picture: rav1e (speed 10) with a fresh context, flushed at once,
//! so one region in gives exactly one packet out and nothing waits for later frames. Regions
//! change place and size from update to update, which one inter-coded context cannot follow
//! (a rectangle that keeps changing in place becomes a stream, [`super::video`]); a context
//! costs microseconds to make, so a fresh one per region costs nothing that matters. Contexts
//! are built with `with_threads(0)`: inside the pipeline's rayon `par_iter` they share the
//! global pool, where a private pool per context would serialise the work.
//!
//! The region is padded to a multiple of 8 (at least 16) by repeating its edge pixels, converted to
//! full-range BT.709 YUV by yuvutils-rs, and the decoder crops the padding off.
//!
//! 4:2:0 is the default chroma layout, by measurement (`make bench`, group `av1_chroma`, a 256x256
//! photo crop of the drag clip): 4:4:4 is about 0.25 dB better at equal bytes but 32 % slower to
//! encode (10.2 against 7.8 ms), and the content where 4:4:4 matters most, coloured text, goes
//! to the lossless path. [`Chroma::Yuv444`] stays available. The payload is the
//! packet itself: a temporal delimiter, the sequence header and the frame, so one long-lived dav1d
//! decoder takes regions of any size.

use std::sync::Arc;

use rav1e::prelude::{
    ChromaSampling, Config, Context, EncoderConfig, EncoderStatus, PixelRange, SpeedSettings, Tune,
};
use yuvutils_rs::{
    YuvChromaSubsampling, YuvConversionMode, YuvPlanarImage, YuvPlanarImageMut, YuvRange,
    YuvStandardMatrix,
};

use crate::codec::{Chroma, CodecConfig, CodecError, RegionKind};
use crate::frame::{BYTES_PER_PIXEL, FrameRef, Rect};

const RANGE: YuvRange = YuvRange::Full;
const MATRIX: YuvStandardMatrix = YuvStandardMatrix::Bt709;

/// Largest picture the decoder accepts, in pixels (8192x8192).
pub const MAX_PIXELS: u32 = 8192 * 8192;

/// The size a region is coded at: a multiple of 8, at least 16.
pub fn coded_size(rect: Rect) -> (u32, u32) {
    let pad = |v: u32| v.next_multiple_of(8).max(16);
    (pad(rect.width), pad(rect.height))
}

/// rav1e's quantizer index for a quality of 0 (worst) to 100 (best).
pub fn quantizer_for(quality: u8) -> usize {
    let q = quality.min(100) as usize;
    255 - q * 255 / 100
}

/// `rect` of `src` in a tight buffer of the coded size, edges repeated into the padding.
fn padded_crop(src: &FrameRef<'_>, rect: Rect, width: u32, height: u32) -> Vec<u8> {
    let row = width as usize * BYTES_PER_PIXEL;
    let mut out = Vec::with_capacity(row * height as usize);
    for y in 0..height {
        let line = src.row(rect.y + y.min(rect.height - 1));
        let start = rect.x as usize * BYTES_PER_PIXEL;
        out.extend_from_slice(&line[start..start + rect.width as usize * BYTES_PER_PIXEL]);
        let last: [u8; 4] = line[start + (rect.width as usize - 1) * BYTES_PER_PIXEL..][..4]
            .try_into()
            .expect("four bytes");
        for _ in rect.width..width {
            out.extend_from_slice(&last);
        }
    }
    out
}

pub(crate) fn encoder_error(e: impl std::fmt::Display) -> CodecError {
    CodecError::Encoder {
        reason: e.to_string(),
    }
}

/// The rav1e settings for `rect` at `config`'s quality: a still picture, or a low-latency
/// inter stream.
pub(crate) fn encoder_config(rect: Rect, config: &CodecConfig, still: bool) -> EncoderConfig {
    let (width, height) = coded_size(rect);
    let quantizer = quantizer_for(config.quality);
    EncoderConfig {
        width: width as usize,
        height: height as usize,
        bit_depth: 8,
        chroma_sampling: match config.chroma {
            Chroma::Yuv420 => ChromaSampling::Cs420,
            Chroma::Yuv444 => ChromaSampling::Cs444,
        },
        pixel_range: PixelRange::Full,
        still_picture: still,
        low_latency: true,
        quantizer,
        min_quantizer: quantizer as u8,
        tune: Tune::Psnr,
        speed_settings: SpeedSettings::from_preset(10),
        ..Default::default()
    }
}

/// `rect` of `frame` as a rav1e picture of `ctx`'s coded size.
///
/// # Errors
/// [`CodecError::Encoder`] when the colour conversion fails.
pub(crate) fn picture(
    ctx: &Context<u8>,
    frame: &FrameRef<'_>,
    rect: Rect,
    config: &CodecConfig,
) -> Result<rav1e::prelude::Frame<u8>, CodecError> {
    let (width, height) = coded_size(rect);
    let bgra = padded_crop(frame, rect, width, height);
    let subsampling = match config.chroma {
        Chroma::Yuv420 => YuvChromaSubsampling::Yuv420,
        Chroma::Yuv444 => YuvChromaSubsampling::Yuv444,
    };
    let mut yuv = YuvPlanarImageMut::<u8>::alloc(width, height, subsampling);
    let stride = width * BYTES_PER_PIXEL as u32;
    let mode = YuvConversionMode::Balanced;
    match config.chroma {
        Chroma::Yuv420 => yuvutils_rs::bgra_to_yuv420(&mut yuv, &bgra, stride, RANGE, MATRIX, mode),
        Chroma::Yuv444 => yuvutils_rs::bgra_to_yuv444(&mut yuv, &bgra, stride, RANGE, MATRIX, mode),
    }
    .map_err(encoder_error)?;
    let mut picture = ctx.new_frame();
    let planes = [
        (yuv.y_plane.borrow(), yuv.y_stride),
        (yuv.u_plane.borrow(), yuv.u_stride),
        (yuv.v_plane.borrow(), yuv.v_stride),
    ];
    for (plane, (data, stride)) in picture.planes.iter_mut().zip(planes) {
        plane.copy_from_raw_u8(data, stride as usize, 1);
    }
    Ok(picture)
}

/// Encodes `rect` of `frame` as one AV1 intra frame.
///
/// # Errors
/// [`CodecError::Encoder`] when conversion or rav1e fails.
pub fn encode(
    frame: &FrameRef<'_>,
    rect: Rect,
    config: &CodecConfig,
) -> Result<Vec<u8>, CodecError> {
    let mut ctx: Context<u8> = Config::new()
        .with_encoder_config(encoder_config(rect, config, true))
        .with_threads(0)
        .new_context()
        .map_err(encoder_error)?;
    let picture = picture(&ctx, frame, rect, config)?;
    ctx.send_frame(Arc::new(picture)).map_err(encoder_error)?;
    ctx.flush();
    // One frame in, flushed: exactly one packet must come out, with nothing held back.
    let mut packets = Vec::new();
    loop {
        match ctx.receive_packet() {
            Ok(p) => packets.push(p.data),
            Err(EncoderStatus::Encoded) => {}
            Err(EncoderStatus::LimitReached) => break,
            Err(e) => return Err(encoder_error(e)),
        }
    }
    let n = packets.len();
    match packets.pop() {
        Some(packet) if n == 1 => Ok(packet),
        _ => Err(encoder_error(format!(
            "rav1e emitted {n} packets for one region, expected 1"
        ))),
    }
}

/// A dav1d decoder for AV1 regions.
pub struct Decoder {
    inner: dav1d::Decoder,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("av1::Decoder")
    }
}

fn corrupt(rect: Rect, reason: impl Into<String>) -> CodecError {
    CodecError::Corrupt {
        kind: RegionKind::Av1,
        rect,
        reason: reason.into(),
    }
}

impl Decoder {
    /// A single-threaded decoder with no frame delay.
    ///
    /// # Errors
    /// [`CodecError::Corrupt`] when dav1d cannot start (out of memory).
    pub fn new() -> Result<Decoder, CodecError> {
        let mut settings = dav1d::Settings::new();
        settings.set_n_threads(1);
        settings.set_max_frame_delay(1);
        settings.set_frame_size_limit(MAX_PIXELS);
        let inner = dav1d::Decoder::with_settings(&settings)
            .map_err(|e| corrupt(Rect::default(), format!("dav1d did not start: {e}")))?;
        Ok(Decoder { inner })
    }

    /// Decodes one region's packet into the tight BGRA pixels of `rect`.
    ///
    /// # Errors
    /// [`CodecError::Corrupt`] when the packet does not decode to a picture of the region's
    /// coded size.
    pub fn decode(&mut self, payload: &[u8], rect: Rect) -> Result<Vec<u8>, CodecError> {
        let result = self.decode_picture(payload, rect);
        if result.is_err() {
            // Whatever state the bad packet left behind must not leak into the next region.
            self.inner.flush();
        }
        Ok(crop_coded(&result?, rect))
    }

    /// Feeds one video-stream payload (any number of packets, none included) and returns the
    /// last picture it completed, cropped to `rect`, or `None` while the stream is still filling.
    ///
    /// # Errors
    /// [`CodecError::Corrupt`] when the data does not decode to pictures of the coded size.
    pub fn decode_stream(
        &mut self,
        payload: &[u8],
        rect: Rect,
    ) -> Result<Option<Vec<u8>>, CodecError> {
        if payload.is_empty() {
            return Ok(None);
        }
        let mut last = None;
        let mut sent = self.inner.send_data(payload.to_vec(), None, None, None);
        // All of the data must go in (dav1d takes it in pieces, wanting pictures taken out
        // between them); a bounded number of rounds, so bad data cannot spin.
        for _ in 0..256 {
            match sent {
                Ok(()) => break,
                Err(dav1d::Error::Again) => {
                    match self.inner.get_picture() {
                        Ok(p) => last = Some(p),
                        Err(dav1d::Error::Again) => {}
                        Err(e) => return Err(self.reset(rect, format!("dav1d: {e}"))),
                    }
                    sent = self.inner.send_pending_data();
                }
                Err(e) => return Err(self.reset(rect, format!("dav1d refused the data: {e}"))),
            }
        }
        if sent.is_err() {
            return Err(self.reset(rect, "dav1d would not take the data"));
        }
        loop {
            match self.inner.get_picture() {
                Ok(p) => last = Some(p),
                Err(dav1d::Error::Again) => break,
                Err(e) => return Err(self.reset(rect, format!("dav1d: {e}"))),
            }
        }
        last.map(|p| self.to_bgra(&p, rect).map(|px| crop_coded(&px, rect)))
            .transpose()
    }

    /// Forgets the stream's state after bad data, and says what was wrong.
    fn reset(&mut self, rect: Rect, reason: impl Into<String>) -> CodecError {
        self.inner.flush();
        corrupt(rect, reason)
    }

    fn decode_picture(&mut self, payload: &[u8], rect: Rect) -> Result<Vec<u8>, CodecError> {
        let (width, height) = coded_size(rect);
        if width as u64 * height as u64 > MAX_PIXELS as u64 {
            return Err(corrupt(rect, "region larger than the decoder accepts"));
        }
        if payload.is_empty() {
            return Err(corrupt(rect, "empty packet"));
        }
        match self.inner.send_data(payload.to_vec(), None, None, None) {
            Ok(()) | Err(dav1d::Error::Again) => {}
            Err(e) => return Err(corrupt(rect, format!("dav1d refused the packet: {e}"))),
        }
        let picture = match self.inner.get_picture() {
            Ok(p) => p,
            Err(dav1d::Error::Again) => {
                return Err(corrupt(rect, "the packet holds no complete picture"));
            }
            Err(e) => return Err(corrupt(rect, format!("dav1d: {e}"))),
        };
        // Anything the packet held beyond one picture is not ours to show.
        if self.inner.send_pending_data().is_err() {
            // Data left over must not reach the next region (nor trip dav1d's pending check).
            self.inner.flush();
        }
        while self.inner.get_picture().is_ok() {}
        self.to_bgra(&picture, rect)
    }

    /// A decoded picture of `rect`'s coded size as BGRA rows of that size.
    fn to_bgra(&self, picture: &dav1d::Picture, rect: Rect) -> Result<Vec<u8>, CodecError> {
        let (width, height) = coded_size(rect);
        if (picture.width(), picture.height()) != (width, height) {
            return Err(corrupt(
                rect,
                format!(
                    "picture is {}x{}, expected {width}x{height}",
                    picture.width(),
                    picture.height()
                ),
            ));
        }
        if picture.bit_depth() != 8 {
            return Err(corrupt(
                rect,
                format!("bit depth {}, expected 8", picture.bit_depth()),
            ));
        }
        // Before any plane is read: a monochrome (I400) picture, which a corrupt packet can
        // declare, has no chroma planes at all (dav1d gives null pointers for them).
        let layout = picture.pixel_layout();
        if !matches!(layout, dav1d::PixelLayout::I420 | dav1d::PixelLayout::I444) {
            return Err(corrupt(rect, format!("unsupported layout {layout:?}")));
        }
        use dav1d::PlanarImageComponent as C;
        let (y, u, v) = (
            picture.plane(C::Y),
            picture.plane(C::U),
            picture.plane(C::V),
        );
        let image = YuvPlanarImage {
            y_plane: &y,
            y_stride: picture.stride(C::Y),
            u_plane: &u,
            u_stride: picture.stride(C::U),
            v_plane: &v,
            v_stride: picture.stride(C::V),
            width,
            height,
        };
        let stride = width * BYTES_PER_PIXEL as u32;
        let mut bgra = vec![0u8; stride as usize * height as usize];
        match layout {
            dav1d::PixelLayout::I420 => {
                yuvutils_rs::yuv420_to_bgra(&image, &mut bgra, stride, RANGE, MATRIX)
            }
            dav1d::PixelLayout::I444 => {
                yuvutils_rs::yuv444_to_bgra(&image, &mut bgra, stride, RANGE, MATRIX)
            }
            other => return Err(corrupt(rect, format!("unsupported layout {other:?}"))),
        }
        .map_err(|e| corrupt(rect, format!("colour conversion: {e}")))?;
        Ok(bgra)
    }
}

/// The tight BGRA pixels of `rect` from a picture of its coded size.
fn crop_coded(pixels: &[u8], rect: Rect) -> Vec<u8> {
    let (width, _) = coded_size(rect);
    let row = rect.width as usize * BYTES_PER_PIXEL;
    let full = width as usize * BYTES_PER_PIXEL;
    let mut cropped = Vec::with_capacity(row * rect.height as usize);
    for line in pixels.chunks_exact(full).take(rect.height as usize) {
        cropped.extend_from_slice(&line[..row]);
    }
    cropped
}
