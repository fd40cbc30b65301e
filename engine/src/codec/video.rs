//! Video streams: a rectangle that changes frame after frame gets one persistent, inter-coded
//! rav1e stream (speed 10, low latency) instead of an intra picture per frame; the viewer keeps
//! one dav1d decoder per stream.
//!
//! rav1e holds frames back even in low-latency mode with no reordering: it codes a frame only
//! once four more are queued (its key-frame lookahead of three and at least one frame of RDO
//! lookahead, which no setting of rav1e 0.8 turns off). A stream's pictures would trail the
//! capture by that many frames, far from the moving content the helper should see. So each
//! picture is followed by copies of itself until rav1e has coded it ([`Latency::Zero`]), or
//! until the picture before it is ([`Latency::OneFrame`]). The copies are never shown (the
//! viewer shows a payload's last picture), but rav1e codes them as it codes any frame, refining
//! the picture they copy: CPU time and some bytes. [`VideoEncoder::finish`] flushes the copies
//! still queued when the stream ends, and refinement then makes the rectangle exact.
//!
//! Payload of a [`super::RegionKind::Video`] region: stream id (a varint, at most `u32`), flags
//! (`u8`: 1 starts the stream, 2 ends it), then AV1 data (zero or more packets).

use std::sync::Arc;

use rav1e::prelude::{
    BlockSize, Config, Context, EncoderStatus, Frame, PartitionRange, SceneDetectionSpeed,
};

use super::av1::{coded_size, encoder_config, encoder_error, picture};
use super::{CodecConfig, CodecError};
use crate::frame::{FrameRef, Rect};

/// The flag of a stream's first payload.
pub const START: u8 = 1;
/// The flag of a stream's last payload.
pub const END: u8 = 2;

/// Most copies of a picture sent to get a picture coded: rav1e 0.8 needs four.
const MAX_PADDING: u32 = 8;

/// How far a stream's pictures may trail the capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Latency {
    /// Every payload ends with the picture just captured: four copies follow each picture.
    Zero,
    /// A payload ends with the picture captured before this one (or, when nothing changed
    /// since, with the last): about one and a half copies follow each picture while every
    /// capture changes, so rav1e codes half as many frames. The default: a frame (33 ms) later
    /// on the helper's side, for a fifth to a third less of the sharer's CPU.
    #[default]
    OneFrame,
}

/// One video stream's encoder.
pub struct VideoEncoder {
    ctx: Context<u8>,
    rect: Rect,
    config: CodecConfig,
    id: u32,
    started: bool,
    latency: Latency,
    /// Frames given to rav1e, copies included.
    sent: u64,
    /// The input number of the latest frame rav1e has coded.
    coded: Option<u64>,
    /// The latest picture, and its input number while it is not coded yet.
    last: Option<(Arc<Frame<u8>>, Option<u64>)>,
    /// Copies sent so far to push pictures through.
    padding: u64,
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
    /// A stream `id` of `rect` at `config`'s quality, whose pictures trail the capture by
    /// `latency`.
    ///
    /// # Errors
    /// [`CodecError::Encoder`] when rav1e refuses the settings.
    pub fn new(
        id: u32,
        rect: Rect,
        config: &CodecConfig,
        latency: Latency,
    ) -> Result<VideoEncoder, CodecError> {
        let mut encoder = encoder_config(rect, config, false);
        encoder.min_key_frame_interval = 0;
        encoder.max_key_frame_interval = 1 << 20;
        // The least delay rav1e allows: one frame of lookahead, no scene detection.
        encoder.speed_settings.rdo_lookahead_frames = 1;
        encoder.speed_settings.scene_detection_mode = SceneDetectionSpeed::None;
        // One block size: the least work a picture costs rav1e, which the copies double.
        encoder.speed_settings.partition.partition_range =
            PartitionRange::new(BlockSize::BLOCK_64X64, BlockSize::BLOCK_64X64);
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
            latency,
            sent: 0,
            coded: None,
            last: None,
            padding: 0,
        })
    }

    /// Copies of pictures sent so far only to get the pictures before them coded.
    pub fn padding_frames(&self) -> u64 {
        self.padding
    }

    /// The stream's rectangle.
    pub fn rect(&self) -> Rect {
        self.rect
    }

    /// The stream's id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Adds the rectangle of `frame`; returns the payload, whose last picture is this one
    /// ([`Latency::Zero`]) or the one before ([`Latency::OneFrame`]).
    ///
    /// # Errors
    /// [`CodecError::Encoder`] when conversion or rav1e fails, or codes nothing after
    /// eight copies.
    pub fn encode(&mut self, frame: &FrameRef<'_>) -> Result<Vec<u8>, CodecError> {
        let mut picture = picture(&self.ctx, frame, self.rect, &self.config)?;
        // rav1e pads a picture it alone holds; this one is shared with its copies.
        let (width, height) = coded_size(self.rect);
        for plane in &mut picture.planes {
            plane.pad(width as usize, height as usize);
        }
        let picture = Arc::new(picture);
        let input = self.sent;
        self.send(Arc::clone(&picture))?;
        let flags = if std::mem::replace(&mut self.started, true) {
            0
        } else {
            START
        };
        let mut payload = self.header(flags);
        let owed = match self.latency {
            Latency::Zero => Some(input),
            Latency::OneFrame => self.last.as_ref().and_then(|(_, owed)| *owed),
        };
        let pending = match self.latency {
            Latency::Zero => None,
            Latency::OneFrame => Some(input),
        };
        self.last = Some((Arc::clone(&picture), pending));
        self.push_through(&mut payload, owed, &picture)?;
        Ok(payload)
    }

    /// With [`Latency::OneFrame`], a capture in which the stream did not change: the payload
    /// that shows the latest picture, if it was not shown yet.
    ///
    /// # Errors
    /// [`CodecError::Encoder`] when rav1e fails.
    pub fn catch_up(&mut self) -> Result<Option<Vec<u8>>, CodecError> {
        let Some((picture, Some(owed))) = self.last.take() else {
            return Ok(None);
        };
        self.last = Some((Arc::clone(&picture), None));
        let mut payload = self.header(0);
        self.push_through(&mut payload, Some(owed), &picture)?;
        Ok(Some(payload))
    }

    /// Drains what rav1e has coded into `payload`, sending copies of `picture` until input
    /// frame `owed` is among it.
    fn push_through(
        &mut self,
        payload: &mut Vec<u8>,
        owed: Option<u64>,
        picture: &Arc<Frame<u8>>,
    ) -> Result<(), CodecError> {
        let mut copies = 0;
        loop {
            self.drain(payload)?;
            if owed.is_none_or(|owed| self.coded.is_some_and(|c| c >= owed)) {
                return Ok(());
            }
            if copies == MAX_PADDING {
                return Err(encoder_error(format!(
                    "rav1e coded nothing after {MAX_PADDING} copies of a picture"
                )));
            }
            self.send(Arc::clone(picture))?;
            copies += 1;
            self.padding += 1;
        }
    }

    fn send(&mut self, picture: Arc<Frame<u8>>) -> Result<(), CodecError> {
        self.ctx.send_frame(picture).map_err(encoder_error)?;
        self.sent += 1;
        Ok(())
    }

    /// Ends the stream: everything rav1e still holds.
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

    /// Appends every packet rav1e has ready.
    fn drain(&mut self, payload: &mut Vec<u8>) -> Result<(), CodecError> {
        loop {
            match self.ctx.receive_packet() {
                Ok(p) => {
                    self.coded = Some(p.input_frameno);
                    payload.extend_from_slice(&p.data);
                }
                Err(EncoderStatus::Encoded) => {}
                Err(EncoderStatus::NeedMoreData | EncoderStatus::LimitReached) => return Ok(()),
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
