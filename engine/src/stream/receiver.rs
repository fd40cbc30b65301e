//! [`ScreenReceiver`]: the helper's half of the screen stream.
//!
//! Updates arrive each on its own stream, so one may overtake another; they are deltas, so they
//! are applied in sequence order. The receiver holds the early ones in a bounded reorder
//! buffer, applies each to its [`Framebuffer`] whole or not at all, and reports what changed as
//! [`ScreenChange`]s: the changed rectangles with their pixels, ready to upload to a texture or
//! paint into a picture. Cursor shapes are decoded into [`CursorPicture`]s.

use std::collections::{BTreeMap, VecDeque};

use thiserror::Error;

use crate::codec::CodecError;
use crate::frame::{Frame, Rect};
use crate::pipeline::{ApplyError, Framebuffer};
use crate::stream::CursorPicture;
use crate::wire::{Message, Update, WireError};

/// Most updates held for an earlier one.
pub const MAX_PENDING: usize = 256;
/// Most bytes held for an earlier update.
pub const MAX_PENDING_BYTES: usize = 64 << 20;

/// What the screen stream has to show.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScreenEvent {
    /// The screen changed.
    Changed(ScreenChange),
    /// The sharer's pointer has a new picture.
    CursorShape(CursorPicture),
    /// The sharer's pointer moved (or hid).
    CursorMoved {
        /// Column of the hot spot on the sharer's screen.
        x: u32,
        /// Row of the hot spot.
        y: u32,
        /// Whether it shows.
        visible: bool,
    },
}

/// What one update changed on the screen.
#[derive(Clone, PartialEq, Eq)]
pub struct ScreenChange {
    /// The update's sequence number.
    pub seq: u64,
    /// When the sharer captured it (or, for refinement, sent it), in microseconds on the
    /// sender's clock.
    pub timestamp_us: u64,
    /// Refinement: exact pixels for a part of the screen that had been shown lossy and is
    /// still; nothing new happened on the screen.
    pub refinement: bool,
    /// The picture now is the sharer's latest capture exactly (nothing left to refine).
    pub exact: bool,
    /// The screen's size.
    pub width: u32,
    /// The screen's height.
    pub height: u32,
    /// The screen is new or changed size: the one rectangle is the whole screen.
    pub resized: bool,
    /// The update's size on the wire.
    pub wire_bytes: usize,
    /// The changed rectangles, each with its BGRA pixels (rows packed), in the order they
    /// were written.
    pub rects: Vec<(Rect, Vec<u8>)>,
}

impl std::fmt::Debug for ScreenChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rects: Vec<Rect> = self.rects.iter().map(|(r, _)| *r).collect();
        f.debug_struct("ScreenChange")
            .field("seq", &self.seq)
            .field("timestamp_us", &self.timestamp_us)
            .field("refinement", &self.refinement)
            .field("exact", &self.exact)
            .field("size", &(self.width, self.height))
            .field("resized", &self.resized)
            .field("wire_bytes", &self.wire_bytes)
            .field("rects", &rects)
            .finish()
    }
}

impl ScreenChange {
    /// Paints the change into `picture`, which is resized (black) when its size differs:
    /// a program that keeps its own copy of the screen stays equal to the receiver's.
    pub fn paint(&self, picture: &mut Frame) {
        if picture.width() != self.width || picture.height() != self.height {
            *picture = Frame::filled(self.width, self.height, [0, 0, 0, 255]);
        }
        for (rect, pixels) in &self.rects {
            crate::codec::paste(picture, *rect, pixels);
        }
    }
}

/// Why the screen stream cannot go on.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReceiveError {
    /// An update's bytes are not an update.
    #[error("a screen update is malformed: {0}")]
    Wire(#[from] WireError),
    /// An update does not apply.
    #[error("a screen update does not apply: {0}")]
    Apply(#[from] ApplyError),
    /// A cursor picture does not decode.
    #[error("a cursor picture does not decode: {0}")]
    Cursor(#[source] CodecError),
    /// Too many updates arrived ahead of one that never came.
    #[error("{count} updates ({bytes} bytes) wait for update {missing}, more than allowed")]
    TooFarAhead {
        /// The update waited for.
        missing: u64,
        /// Updates waiting.
        count: usize,
        /// Their bytes.
        bytes: usize,
    },
}

/// The helper's half of the screen stream: reorders, applies and reports.
#[derive(Debug)]
pub struct ScreenReceiver {
    framebuffer: Framebuffer,
    pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
    next_seq: u64,
    out: VecDeque<ScreenEvent>,
}

impl Default for ScreenReceiver {
    fn default() -> Self {
        ScreenReceiver {
            framebuffer: Framebuffer::new(),
            pending: BTreeMap::new(),
            pending_bytes: 0,
            next_seq: 1,
            out: VecDeque::new(),
        }
    }
}

impl ScreenReceiver {
    /// A receiver with nothing on screen.
    pub fn new() -> ScreenReceiver {
        ScreenReceiver::default()
    }

    /// The screen as last updated, or `None` before the first update.
    pub fn screen(&self) -> Option<&Frame> {
        self.framebuffer.frame()
    }

    /// Takes an update's bytes as they arrived; it is applied once every earlier one is.
    ///
    /// # Errors
    /// [`ReceiveError`] when an update is malformed or does not apply, or too many wait for a
    /// missing one: the stream cannot go on (the screen keeps what it last showed).
    pub fn handle_update(&mut self, bytes: Vec<u8>) -> Result<(), ReceiveError> {
        // Bytes that do not start like an update are decoded at once, for the error.
        let seq = match Update::peek_seq(&bytes) {
            Some(seq) => seq,
            None => return self.apply(&bytes),
        };
        if seq < self.next_seq {
            return Ok(());
        }
        self.pending_bytes += bytes.len();
        self.pending.insert(seq, bytes);
        if self.pending.len() > MAX_PENDING || self.pending_bytes > MAX_PENDING_BYTES {
            return Err(ReceiveError::TooFarAhead {
                missing: self.next_seq,
                count: self.pending.len(),
                bytes: self.pending_bytes,
            });
        }
        while let Some(bytes) = self.pending.remove(&self.next_seq) {
            self.pending_bytes -= bytes.len();
            self.next_seq += 1;
            self.apply(&bytes)?;
        }
        Ok(())
    }

    /// Takes a cursor message ([`Message::CursorShape`] or [`Message::CursorMoved`]; others
    /// are ignored).
    ///
    /// # Errors
    /// [`ReceiveError::Cursor`] when a cursor picture does not decode.
    pub fn handle_cursor(&mut self, message: &Message) -> Result<(), ReceiveError> {
        if let Message::CursorMoved { x, y, visible } = *message {
            self.out
                .push_back(ScreenEvent::CursorMoved { x, y, visible });
        } else if let Some(picture) = CursorPicture::from_message(message) {
            let picture = picture.map_err(ReceiveError::Cursor)?;
            self.out.push_back(ScreenEvent::CursorShape(picture));
        }
        Ok(())
    }

    /// The next event, or `None` until more input comes.
    pub fn poll_event(&mut self) -> Option<ScreenEvent> {
        self.out.pop_front()
    }

    fn apply(&mut self, bytes: &[u8]) -> Result<(), ReceiveError> {
        let update = Update::decode(bytes)?;
        let resized = self
            .framebuffer
            .frame()
            .is_none_or(|f| f.width() != update.width || f.height() != update.height);
        self.framebuffer.apply(&update)?;
        let Some(frame) = self.framebuffer.frame() else {
            return Ok(());
        };
        let screen = frame.as_ref().bounds();
        let rects: Vec<Rect> = if resized {
            vec![screen]
        } else {
            update
                .regions
                .iter()
                .filter_map(|r| r.rect.intersection(&screen))
                .collect()
        };
        let rects = rects
            .into_iter()
            .map(|rect| (rect, crate::codec::crop(&frame.as_ref(), rect)))
            .collect();
        self.out.push_back(ScreenEvent::Changed(ScreenChange {
            seq: update.seq,
            timestamp_us: update.timestamp_us,
            refinement: update.refinement,
            exact: update.exact,
            width: update.width,
            height: update.height,
            resized,
            wire_bytes: bytes.len(),
            rects,
        }));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{EncodedRegion, RegionKind};
    use crate::pipeline::{PipelineConfig, ScreenEncoder};

    /// Three updates of a screen being typed into, and the screen at the end.
    fn typing() -> (Vec<Vec<u8>>, Frame) {
        let mut encoder = ScreenEncoder::new(PipelineConfig::default());
        let mut screen = Frame::filled(96, 64, [20, 20, 20, 255]);
        let mut updates = Vec::new();
        for i in 0..3u32 {
            screen.set_pixel(10 + 3 * i, 10, [250, 250, 250, 255]);
            let update = encoder.encode(&screen.as_ref(), u64::from(i)).unwrap();
            updates.push(update.unwrap().encode());
        }
        (updates, screen)
    }

    fn changes(receiver: &mut ScreenReceiver) -> Vec<u64> {
        std::iter::from_fn(|| receiver.poll_event())
            .filter_map(|e| match e {
                ScreenEvent::Changed(change) => Some(change.seq),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn updates_that_overtake_each_other_are_applied_in_order() {
        let (updates, screen) = typing();
        let mut receiver = ScreenReceiver::new();
        receiver.handle_update(updates[0].clone()).unwrap();
        receiver.handle_update(updates[2].clone()).unwrap();
        assert_eq!(changes(&mut receiver), vec![1], "3 waits for 2");
        receiver.handle_update(updates[1].clone()).unwrap();
        assert_eq!(changes(&mut receiver), vec![2, 3]);
        assert_eq!(receiver.screen(), Some(&screen));
        // A copy of one already applied changes nothing.
        receiver.handle_update(updates[1].clone()).unwrap();
        assert!(changes(&mut receiver).is_empty());
    }

    #[test]
    fn a_change_carries_the_pixels_it_wrote_and_paints_a_copy_of_the_screen() {
        let (updates, screen) = typing();
        let mut receiver = ScreenReceiver::new();
        let mut copy = Frame::filled(1, 1, [0; 4]);
        for bytes in updates {
            receiver.handle_update(bytes).unwrap();
            while let Some(ScreenEvent::Changed(change)) = receiver.poll_event() {
                assert!(!change.refinement);
                change.paint(&mut copy);
            }
        }
        assert_eq!(copy, screen);
    }

    #[test]
    fn the_reorder_buffer_is_bounded() {
        let mut receiver = ScreenReceiver::new();
        let empty = |seq| {
            Update {
                seq,
                refinement: false,
                exact: false,
                timestamp_us: 0,
                width: 8,
                height: 8,
                regions: vec![],
            }
            .encode()
        };
        // Update 1 never comes.
        for seq in 2..=MAX_PENDING as u64 + 1 {
            receiver.handle_update(empty(seq)).unwrap();
        }
        let error = receiver.handle_update(empty(MAX_PENDING as u64 + 2));
        assert!(
            matches!(error, Err(ReceiveError::TooFarAhead { missing: 1, .. })),
            "{error:?}"
        );
    }

    #[test]
    fn bad_updates_and_cursors_are_errors_and_the_screen_stays() {
        let (updates, _) = typing();
        let mut receiver = ScreenReceiver::new();
        receiver.handle_update(updates[0].clone()).unwrap();
        let before = receiver.screen().cloned();
        let mut cut = updates[1].clone();
        cut.truncate(cut.len() - 1);
        assert!(matches!(
            receiver.handle_update(cut),
            Err(ReceiveError::Wire(_))
        ));
        // The cut update used up its number.
        let lying = Update {
            seq: 3,
            refinement: false,
            exact: false,
            timestamp_us: 0,
            width: 96,
            height: 64,
            regions: vec![EncodedRegion {
                rect: Rect::new(0, 0, 8, 8),
                kind: RegionKind::Lossless,
                payload: vec![1, 2, 3],
            }],
        };
        let error = receiver.handle_update(lying.encode());
        assert!(matches!(error, Err(ReceiveError::Apply(_))), "{error:?}");
        assert_eq!(
            receiver.screen(),
            before.as_ref(),
            "the screen keeps what it showed"
        );
        let shape = Message::CursorShape {
            width: 4,
            height: 4,
            hot_x: 0,
            hot_y: 0,
            pixels: vec![9; 5],
        };
        assert!(matches!(
            receiver.handle_cursor(&shape),
            Err(ReceiveError::Cursor(_))
        ));
    }
}
