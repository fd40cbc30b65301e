//! What the pipeline reads: frames from a [`FrameSource`], and the sharer's [`Pointer`].

use crate::frame::{Frame, Rect};

/// Where frames come from: a screen capture, a recorded clip, an animation drawn in code.
pub trait FrameSource {
    /// What can go wrong while capturing.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Captures the next frame into `frame`, replacing it when the screen size changed. Returns
    /// `Ok(false)` when the source has ended.
    ///
    /// # Errors
    /// When capturing fails.
    fn next_frame(&mut self, frame: &mut Frame) -> Result<bool, Self::Error>;

    /// The areas the last [`FrameSource::next_frame`] may have changed, when the source knows
    /// (a capture that fetches only damaged areas does): the encoder then diffs only those, and
    /// an idle screen costs nothing. `None` (the default): anywhere.
    fn damage(&self) -> Option<&[Rect]> {
        None
    }

    /// The pointer as of the last frame, when the source tracks it apart from the pixels (the
    /// screen capture does: the cursor is sent as shape and position, never painted into
    /// frames). The default: no pointer.
    fn pointer(&mut self) -> Option<Pointer> {
        None
    }
}

/// The sharer's pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pointer {
    /// Column of the hot spot on the screen.
    pub x: u32,
    /// Row of the hot spot on the screen.
    pub y: u32,
    /// Whether the pointer shows.
    pub visible: bool,
    /// Its picture, when it changed since the last call (`None`: unchanged).
    pub shape: Option<CursorImage>,
}

/// A pointer's picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CursorImage {
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Hot spot column.
    pub hot_x: u16,
    /// Hot spot row.
    pub hot_y: u16,
    /// BGRA pixels, straight (not premultiplied) alpha, rows packed.
    pub bgra: Vec<u8>,
}

impl FrameSource for crate::corpus::ClipReader {
    type Error = crate::corpus::CorpusError;

    fn next_frame(&mut self, frame: &mut Frame) -> Result<bool, Self::Error> {
        if frame.width() != self.meta().width || frame.height() != self.meta().height {
            *frame = self.blank_frame();
        }
        self.read_frame(frame)
    }
}
