//! Video streams: a rectangle that changes frame after frame gets one persistent, inter-coded
//! rav1e stream (speed 10, low latency) instead of an intra picture per frame; the viewer keeps
//! one dav1d decoder per stream.
//!
//! rav1e holds a few frames back even in low-latency mode, so a stream's first payloads may be
//! empty and its pictures trail the capture by that much; [`VideoEncoder::finish`] flushes the
//! rest when the stream ends, and refinement then makes the rectangle exact.
//!
//! Payload of a [`super::RegionKind::Video`] region: stream id (a varint, at most `u32`), flags
//! (`u8`: 1 starts the stream, 2 ends it), then AV1 data (zero or more packets).

use std::sync::Arc;

use rav1e::prelude::{Config, Context, EncoderStatus, SceneDetectionSpeed};

use super::av1::{encoder_config, encoder_error, picture};
use super::{CodecConfig, CodecError};
use crate::frame::{FrameRef, Rect};

/// The flag of a stream's first payload.
pub const START: u8 = 1;
/// The flag of a stream's last payload.
pub const END: u8 = 2;

/// One video stream's encoder.
pub struct VideoEncoder {
    ctx: Context<u8>,
    rect: Rect,
    config: CodecConfig,
    id: u32,
    started: bool,
}

impl std::fmt::Debug for VideoEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoEncoder")
            .field("id", &self.id)
            .field("rect", &self.rect)
            .finish()
    }
}

impl VideoEncoder {
    /// A stream `id` of `rect` at `config`'s quality.
    ///
    /// # Errors
    /// [`CodecError::Encoder`] when rav1e refuses the settings.
    pub fn new(id: u32, rect: Rect, config: &CodecConfig) -> Result<VideoEncoder, CodecError> {
        let mut encoder = encoder_config(rect, config, false);
        encoder.min_key_frame_interval = 0;
        encoder.max_key_frame_interval = 1 << 20;
        // The least delay rav1e allows: one frame of lookahead, no scene detection.
        encoder.speed_settings.rdo_lookahead_frames = 1;
        encoder.speed_settings.scene_detection_mode = SceneDetectionSpeed::None;
        let ctx = Config::new()
            .with_encoder_config(encoder)
            .with_threads(0)
            .new_context()
            .map_err(encoder_error)?;
        Ok(VideoEncoder {
            ctx,
            rect,
            config: *config,
            id,
            started: false,
        })
    }

    /// The stream's rectangle.
    pub fn rect(&self) -> Rect {
        self.rect
    }

    /// The stream's id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Adds the rectangle of `frame`; returns the payload (possibly without packets yet).
    ///
    /// # Errors
    /// [`CodecError::Encoder`] when conversion or rav1e fails.
    pub fn encode(&mut self, frame: &FrameRef<'_>) -> Result<Vec<u8>, CodecError> {
        let picture = picture(&self.ctx, frame, self.rect, &self.config)?;
        self.ctx
            .send_frame(Arc::new(picture))
            .map_err(encoder_error)?;
        let flags = if std::mem::replace(&mut self.started, true) {
            0
        } else {
            START
        };
        self.drain(flags)
    }

    /// Ends the stream: everything rav1e still holds.
    ///
    /// # Errors
    /// [`CodecError::Encoder`] when rav1e fails.
    pub fn finish(mut self) -> Result<Vec<u8>, CodecError> {
        self.ctx.flush();
        let flags = if self.started { END } else { START | END };
        self.drain(flags)
    }

    fn drain(&mut self, flags: u8) -> Result<Vec<u8>, CodecError> {
        let mut payload = Vec::new();
        crate::wire::varint::put(&mut payload, u64::from(self.id));
        payload.push(flags);
        loop {
            match self.ctx.receive_packet() {
                Ok(p) => payload.extend_from_slice(&p.data),
                Err(EncoderStatus::Encoded) => {}
                Err(EncoderStatus::NeedMoreData | EncoderStatus::LimitReached) => break,
                Err(e) => return Err(encoder_error(e)),
            }
        }
        Ok(payload)
    }
}

/// A video payload's parts: stream id, flags, AV1 data.
pub fn parse(payload: &[u8]) -> Option<(u32, u8, &[u8])> {
    let (id, used) = crate::wire::varint::read(payload).ok()?;
    let (&flags, data) = payload[used..].split_first()?;
    Some((u32::try_from(id).ok()?, flags, data))
}
