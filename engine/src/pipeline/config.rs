//! [`PipelineConfig`]: the encoder's settings, with the reasons for their defaults.

use crate::codec::CodecConfig;
use crate::diff::DEFAULT_TILE_SIZE;
use crate::diff::merge::MergeConfig;
use crate::motion::MotionConfig;
use crate::pipeline::video::VideoConfig;

/// Settings of the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipelineConfig {
    /// Tile edge of the diff.
    pub tile_size: u32,
    /// Codec settings.
    pub codec: CodecConfig,
    /// How long a lossy tile must stay unchanged before it is sent exactly.
    pub refine_after_us: u64,
    /// How exact regions are merged. Wide: the gaps between words and lines are one colour
    /// and cost the lossless path next to nothing, while each region costs a header and a
    /// palette.
    pub exact_merge: MergeConfig,
    /// How the boxes inside a merged exact region with more colours than a palette holds are
    /// merged again: tight, since every pixel of a photo costs the lossless path bits.
    pub exact_merge_photo: MergeConfig,
    /// How AV1 regions are merged.
    pub av1_merge: MergeConfig,
    /// AV1 regions are cut into pieces no wider or taller than this, so they encode in parallel.
    pub av1_max_side: u32,
    /// How much lower than [`CodecConfig::quality`] the AV1 regions of an update with copies
    /// are coded: what a scroll brings in and what a dragged window uncovers is seen in motion,
    /// like a video stream's pictures, and refinement makes it exact once still.
    pub moving_quality_drop: u8,
    /// How much lower than [`CodecConfig::quality`] the AV1 regions of a whole screen (the first
    /// update, and the first after a size change) are coded, smooth areas (gradients, blurred
    /// photos) among them: on a slow link the whole picture comes in a fraction of the time,
    /// text exact, and refinement sharpens the rest in the next second.
    pub first_quality_drop: u8,
    /// Moves and scrolls become copies ([`crate::motion`]); `None` turns detection off.
    pub motion: Option<MotionConfig>,
    /// Rectangles that keep changing become video streams
    /// ([`video`](crate::pipeline::video)); `None` turns them off.
    pub video: Option<VideoConfig>,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            tile_size: DEFAULT_TILE_SIZE,
            codec: CodecConfig::default(),
            refine_after_us: 200_000,
            exact_merge: MergeConfig {
                align: 1,
                rect_cost: 64 * 64,
                max_rects: 256,
                bound_total_waste: false,
            },
            exact_merge_photo: MergeConfig {
                align: 1,
                rect_cost: 16 * 16,
                max_rects: 256,
                bound_total_waste: false,
            },
            // Even edges (4:2:0 chroma pairs), not a grid of 8: an AV1 strip along a dragged
            // window snapped to 8 rows takes in the window's copied edge and codes it again,
            // lossy (the codec pads to its block size itself). The total waste is bounded:
            // joined a strip at a time, the uncovered strip beside a moved window's corner
            // creeps into a tall rectangle over the window. Waste beside copies is copied
            // pixels coded again, hence the small 32x32 allowance.
            av1_merge: MergeConfig {
                align: 2,
                rect_cost: 32 * 32,
                max_rects: 64,
                bound_total_waste: true,
            },
            av1_max_side: 320,
            // As video streams ([`VideoConfig::quality_drop`]); more would take moving content
            // under 45 dB.
            moving_quality_drop: 20,
            first_quality_drop: 45,
            motion: Some(MotionConfig::default()),
            video: Some(VideoConfig::default()),
        }
    }
}

impl PipelineConfig {
    /// The codec settings for fresh regions (not refinement): what goes lossless there is text
    /// and interfaces.
    pub(crate) fn fresh_codec(&self) -> CodecConfig {
        CodecConfig {
            predicted_level: crate::codec::lossless::FRESH_PREDICTED_LEVEL,
            ..self.codec
        }
    }

    /// The codec settings for updates with copies.
    pub(crate) fn moving_codec(&self) -> CodecConfig {
        let mut codec = self.fresh_codec();
        codec.quality = codec.quality.saturating_sub(self.moving_quality_drop);
        codec
    }

    /// The codec settings for a whole screen.
    pub(crate) fn first_codec(&self) -> CodecConfig {
        let mut codec = self.fresh_codec();
        codec.quality = codec.quality.saturating_sub(self.first_quality_drop);
        codec
    }
}
