//! Video streams: a rectangle that changes frame after frame gets one persistent, inter-coded
//! rav1e stream (speed 10, low latency) instead of an intra picture per frame; the viewer keeps
//! one dav1d decoder per stream.
//!
//! Each capture's picture is coded at once and its payload shows it: the stream runs with no
//! lookahead (`rdo_lookahead_frames = 0`, which the rav1e vendored in `vendor/rav1e` accepts in
//! low-latency mode; stock rav1e holds four frames back, and every picture then had to be followed
//! by copies of itself that rav1e coded too). [`VideoEncoder::finish`] ends the stream, and
//! refinement then makes the rectangle exact.
//!
//! Payload of a [`super::RegionKind::Video`] region: stream id (a varint, at most `u32`), flags
//! (`u8`: 1 starts the stream, 2 ends it), then AV1 data (zero or more packets).

use rav1e::prelude::{
    BlockSize, Config, Context, EncoderStatus, PartitionRange, SceneDetectionSpeed,
    SegmentationLevel,
};

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
    /// Frames given to rav1e.
    sent: u64,
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
        // No delay: no lookahead and no scene detection.
        encoder.speed_settings.rdo_lookahead_frames = 0;
        encoder.speed_settings.scene_detection_mode = SceneDetectionSpeed::None;
        // The least work a picture costs rav1e: one block size, and no CDEF or segmentation
        // search (a stream's pictures are seen in motion, and refinement makes the last exact).
        encoder.speed_settings.partition.partition_range =
            PartitionRange::new(BlockSize::BLOCK_64X64, BlockSize::BLOCK_64X64);
        encoder.speed_settings.cdef = false;
        encoder.speed_settings.segmentation = SegmentationLevel::Disabled;
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
            sent: 0,
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

    /// Adds the rectangle of `frame`; returns the payload, whose last picture is this one.
    ///
    /// # Errors
    /// [`CodecError::Encoder`] when conversion or rav1e fails, or rav1e holds the picture back.
    pub fn encode(&mut self, frame: &FrameRef<'_>) -> Result<Vec<u8>, CodecError> {
        let picture = picture(&self.ctx, frame, self.rect, &self.config)?;
        self.ctx.send_frame(picture).map_err(encoder_error)?;
        let input = self.sent;
        self.sent += 1;
        let flags = if std::mem::replace(&mut self.started, true) {
            0
        } else {
            START
        };
        let mut payload = self.header(flags);
        if self.drain(&mut payload)? != Some(input) {
            return Err(encoder_error(format!(
                "rav1e held picture {input} of stream {} back",
                self.id
            )));
        }
        Ok(payload)
    }

    /// Ends the stream.
    ///
    /// # Errors
    /// [`CodecError::Encoder`] when rav1e fails.
    pub fn finish(mut self) -> Result<Vec<u8>, CodecError> {
        self.ctx.flush();
        let flags = if self.started { END } else { START | END };
        let mut payload = self.header(flags);
        self.drain(&mut payload)?;
        Ok(payload)
    }

    fn header(&self, flags: u8) -> Vec<u8> {
        let mut payload = Vec::new();
        crate::wire::varint::put(&mut payload, u64::from(self.id));
        payload.push(flags);
        payload
    }

    /// Appends every packet rav1e has ready; the input number of the last.
    fn drain(&mut self, payload: &mut Vec<u8>) -> Result<Option<u64>, CodecError> {
        let mut coded = None;
        loop {
            match self.ctx.receive_packet() {
                Ok(p) => {
                    coded = Some(p.input_frameno);
                    payload.extend_from_slice(&p.data);
                }
                Err(EncoderStatus::Encoded) => {}
                Err(EncoderStatus::NeedMoreData | EncoderStatus::LimitReached) => {
                    return Ok(coded);
                }
                Err(e) => return Err(encoder_error(e)),
            }
        }
    }
}

/// A video payload's parts: stream id, flags, AV1 data.
pub fn parse(payload: &[u8]) -> Option<(u32, u8, &[u8])> {
    let (id, used) = crate::wire::varint::read(payload).ok()?;
    let (&flags, data) = payload[used..].split_first()?;
    Some((u32::try_from(id).ok()?, flags, data))
}
