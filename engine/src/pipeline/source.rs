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

/// A clip played as a live screen: each capture shows the frame due at the time since the
/// first, skipping those a slow capture missed, as a real screen does not wait for the program
/// capturing it. (A [`ClipReader`](crate::corpus::ClipReader) itself gives every frame, one a
/// capture, however late.)
#[derive(Debug)]
pub struct LiveClip {
    reader: crate::corpus::ClipReader,
    started: Option<std::time::Instant>,
    /// Frames read so far.
    read: u64,
    ended: bool,
}

impl LiveClip {
    /// Plays `reader` from its current frame, timed from the first capture.
    pub fn new(reader: crate::corpus::ClipReader) -> LiveClip {
        LiveClip {
            reader,
            started: None,
            read: 0,
            ended: false,
        }
    }
}

impl FrameSource for LiveClip {
    type Error = crate::corpus::CorpusError;

    fn next_frame(&mut self, frame: &mut Frame) -> Result<bool, Self::Error> {
        if self.ended {
            return Ok(false);
        }
        let started = *self.started.get_or_insert_with(std::time::Instant::now);
        let fps = f64::from(self.reader.meta().fps.max(1));
        let due = (started.elapsed().as_secs_f64() * fps) as u64;
        let mut changed = false;
        while self.read <= due {
            if !self.reader.next_frame(frame)? {
                self.ended = true;
                break;
            }
            self.read += 1;
            changed = true;
        }
        // The last frame, read just now, is shown before the end is told.
        Ok(changed || !self.ended)
    }
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
