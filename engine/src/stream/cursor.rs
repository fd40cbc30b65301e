//! The sharer's pointer, apart from the pixels: its picture once per shape
//! ([`Message::CursorShape`], a lossless region payload) and its position whenever it moves
//! ([`Message::CursorMoved`]), so pointer motion costs bytes, not frames.

use crate::codec::CodecError;
use crate::frame::{FrameRef, Rect};
use crate::pipeline::{CursorImage, Pointer};
use crate::wire::Message;
use crate::wire::message::MAX_CURSOR;

/// The sharer's pointer picture, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CursorPicture {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The hot spot: the pixel that points, from the top-left corner.
    pub hot: (u32, u32),
    /// BGRA pixels, straight alpha, rows packed.
    pub bgra: Vec<u8>,
}

impl CursorPicture {
    /// The pixels as straight RGBA, as most toolkits take them.
    pub fn to_rgba(&self) -> Vec<u8> {
        self.bgra
            .chunks_exact(4)
            .flat_map(|p| [p[2], p[1], p[0], p[3]])
            .collect()
    }

    /// The picture a [`Message::CursorShape`] carries; `None` for any other message.
    ///
    /// # Errors
    /// [`CodecError`] when its pixels do not decode.
    pub(crate) fn from_message(message: &Message) -> Option<Result<CursorPicture, CodecError>> {
        let Message::CursorShape {
            width,
            height,
            hot_x,
            hot_y,
            pixels,
        } = message
        else {
            return None;
        };
        let (width, height) = (u32::from(*width), u32::from(*height));
        Some(
            crate::codec::lossless::decode(pixels, Rect::new(0, 0, width, height)).map(|bgra| {
                CursorPicture {
                    width,
                    height,
                    hot: (u32::from(*hot_x), u32::from(*hot_y)),
                    bgra,
                }
            }),
        )
    }
}

/// The cursor message of a picture, or `None` when it is empty or too large to send.
fn shape_message(image: &CursorImage) -> Option<Message> {
    let (w, h) = (u32::from(image.width), u32::from(image.height));
    if image.width > MAX_CURSOR || image.height > MAX_CURSOR || w == 0 || h == 0 {
        return None;
    }
    let frame = FrameRef::new(&image.bgra, w, h, w as usize * 4).ok()?;
    let pixels = crate::codec::lossless::encode(&frame, Rect::new(0, 0, w, h), 3);
    Some(Message::CursorShape {
        width: image.width,
        height: image.height,
        hot_x: image.hot_x.min(image.width - 1),
        hot_y: image.hot_y.min(image.height - 1),
        pixels,
    })
}

/// The pointer as cursor messages: the shape once, positions when they change, both again
/// whenever viewing (re)starts.
#[derive(Debug, Default)]
pub(crate) struct CursorFeed {
    shape: Option<Message>,
    position: Option<(u32, u32, bool)>,
    shape_sent: bool,
    position_sent: Option<(u32, u32, bool)>,
}

impl CursorFeed {
    /// The source's pointer as of the last capture.
    pub(crate) fn update(&mut self, pointer: Pointer) {
        if let Some(image) = pointer.shape {
            self.shape = shape_message(&image);
            self.shape_sent = false;
        }
        self.position = Some((pointer.x, pointer.y, pointer.visible));
    }

    /// The receiver has nothing: everything goes again.
    pub(crate) fn forget_sent(&mut self) {
        self.shape_sent = false;
        self.position_sent = None;
    }

    /// The messages due now.
    pub(crate) fn due(&mut self) -> Vec<Message> {
        let mut due = Vec::new();
        if let Some(shape) = self.shape.as_ref().filter(|_| !self.shape_sent) {
            due.push(shape.clone());
            self.shape_sent = true;
        }
        if let Some((x, y, visible)) = self.position.filter(|p| self.position_sent != Some(*p)) {
            due.push(Message::CursorMoved { x, y, visible });
            self.position_sent = self.position;
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shape_goes_once_and_positions_only_when_they_change() {
        let mut feed = CursorFeed::default();
        let image = CursorImage {
            width: 2,
            height: 2,
            hot_x: 5,
            hot_y: 0,
            bgra: vec![1, 2, 3, 255, 4, 5, 6, 0, 7, 8, 9, 128, 10, 11, 12, 255],
        };
        let at = |x, shape| Pointer {
            x,
            y: 7,
            visible: true,
            shape,
        };
        feed.update(at(3, Some(image.clone())));
        let due = feed.due();
        assert_eq!(due.len(), 2);
        let picture = CursorPicture::from_message(&due[0]).unwrap().unwrap();
        assert_eq!(picture.bgra, image.bgra, "the picture is exact");
        assert_eq!(
            picture.hot,
            (1, 0),
            "the hot spot is kept inside the picture"
        );
        assert_eq!(picture.to_rgba()[..4], [3, 2, 1, 255]);
        feed.update(at(3, None));
        assert!(feed.due().is_empty(), "nothing changed");
        feed.update(at(4, None));
        assert_eq!(
            feed.due(),
            vec![Message::CursorMoved {
                x: 4,
                y: 7,
                visible: true
            }]
        );
        feed.forget_sent();
        assert_eq!(feed.due().len(), 2, "both again after a restart");
    }

    #[test]
    fn pictures_too_large_or_empty_are_not_sent() {
        let big = CursorImage {
            width: MAX_CURSOR + 1,
            height: 1,
            hot_x: 0,
            hot_y: 0,
            bgra: vec![0; (MAX_CURSOR as usize + 1) * 4],
        };
        assert_eq!(shape_message(&big), None);
        let empty = CursorImage {
            width: 0,
            height: 0,
            hot_x: 0,
            hot_y: 0,
            bgra: vec![],
        };
        assert_eq!(shape_message(&empty), None);
    }
}
