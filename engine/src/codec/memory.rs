//! Text with memory: the lossless path's third form, for the small regions of steady updates
//! (a typed word, a line scrolled in), coded against what the viewer already received.
//!
//! Both sides keep a [`TextMemory`]: every colour the form has carried gets a session-wide
//! number, and the numbers of the last [`HISTORY`] bytes of such regions are the zstd dictionary
//! of the next. A terminal's glyphs come back line after line in the same colours, so their rows
//! recur in the history byte for byte. On the committed clips (`corpus-eval`, steady kbit/s)
//! this took the scrolling terminal from 259.0 to 120.4, typed text from 21.5 to 13.8 and the
//! scrolled document from 76.8 to 63.6, with no slower encode.
//!
//! Payload (after the lossless form byte [`FORM_MEMORY`]): the memory's epoch (varint), then a
//! zstd frame without its magic number, compressed with the dictionary, of: the number of new
//! colours (varint), the new colours (BGRA), and one number per pixel, row by row (one byte
//! while the memory holds at most 256 colours, two little-endian bytes beyond).
//!
//! The state must stay the same on both sides. Regions change it in the order an update lists
//! them; an update that fails is rolled back ([`TextMemory::mark`], [`TextMemory::rollback`]);
//! the history is trimmed only between updates ([`TextMemory::commit`]). The epoch names one
//! memory: an encoder that starts again, or whose memory holds [`MAX_COLOURS`] colours, takes a
//! new one, and a decoder that meets a new epoch starts again from nothing, as the encoder did.

use std::collections::HashMap;

use crate::codec::classify::{PALETTE_MAX, pixel_u32};
use crate::codec::{CodecError, RegionKind};
use crate::frame::{FrameRef, Rect};
use crate::wire::varint;

/// The lossless payload's form byte for text with memory.
pub const FORM_MEMORY: u8 = 2;
/// Bytes of history the next region is coded against.
pub const HISTORY: usize = 128 << 10;
/// Most pixels a region coded with memory has (larger ones use the plain forms).
pub const MAX_AREA: u64 = 64 << 10;
/// Most colours the memory numbers; a region that would pass it starts a new memory.
pub const MAX_COLOURS: usize = 4096;
/// zstd level of the form. Loading the dictionary is most of the work: on the committed clips
/// level 15 sends 7 to 13 % fewer bytes than 9, but doubles a scroll step's median encode
/// (12.5 against 5.1 ms); level 5, or a 32 KiB history, costs 15 to 17 % more bytes.
const LEVEL: i32 = 9;
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// One side's memory of the text sent.
#[derive(Clone, Debug, Default)]
pub struct TextMemory {
    epoch: u64,
    numbers: HashMap<u32, u16>,
    colours: Vec<u32>,
    history: Vec<u8>,
}

/// A point [`TextMemory::rollback`] returns to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    epoch: u64,
    colours: usize,
    history: usize,
}

impl TextMemory {
    /// An empty memory named `epoch` (an encoder's; a decoder's takes the epoch it meets).
    pub fn new(epoch: u64) -> TextMemory {
        TextMemory {
            epoch,
            ..TextMemory::default()
        }
    }

    /// Where the memory stands now.
    pub fn mark(&self) -> Mark {
        Mark {
            epoch: self.epoch,
            colours: self.colours.len(),
            history: self.history.len(),
        }
    }

    /// Forgets what came after `mark` (an update that failed).
    pub fn rollback(&mut self, mark: Mark) {
        if mark.epoch != self.epoch {
            // The failed update started a new memory, so the old one is gone. Start empty
            // under an epoch no payload has used yet: the other side, whatever it holds, starts
            // over when it meets it.
            *self = TextMemory::new(self.epoch.wrapping_add(1));
            return;
        }
        for colour in self.colours.drain(mark.colours..) {
            self.numbers.remove(&colour);
        }
        self.history.truncate(mark.history);
    }

    /// Ends an update: keeps the last [`HISTORY`] bytes.
    pub fn commit(&mut self) {
        if self.history.len() > HISTORY {
            self.history.drain(..self.history.len() - HISTORY);
        }
    }

    fn dictionary(&self) -> &[u8] {
        &self.history[self.history.len().saturating_sub(HISTORY)..]
    }

    /// The payload (form byte included) of `rect`, or `None` when the region is too large or
    /// has more colours than a palette: the plain forms take it then.
    ///
    /// # Panics
    /// Never: every colour of the region is numbered before it is written, and zstd takes any
    /// raw dictionary at its own levels.
    pub fn encode(&mut self, frame: &FrameRef<'_>, rect: Rect) -> Option<Vec<u8>> {
        if rect.area() > MAX_AREA {
            return None;
        }
        let mut new = self.new_colours(frame, rect)?;
        if self.colours.len() + new.len() > MAX_COLOURS {
            // Full: a new memory under a new epoch, which the other side follows.
            *self = TextMemory::new(self.epoch.wrapping_add(1));
            new = self.new_colours(frame, rect)?;
        }
        let pixels = (rect.y..rect.bottom()).flat_map(|y| {
            let row = frame.row(y);
            (rect.x as usize..rect.right() as usize).map(move |x| pixel_u32(row, x))
        });
        let mut stream = Vec::with_capacity(rect.area() as usize + new.len() * 4 + 3);
        varint::put(&mut stream, new.len() as u64);
        for &c in &new {
            stream.extend_from_slice(&c.to_le_bytes());
            self.numbers.insert(c, self.colours.len() as u16);
            self.colours.push(c);
        }
        let numbers_start = stream.len();
        let wide = self.colours.len() > 256;
        for c in pixels {
            let n = self.numbers[&c];
            if wide {
                stream.extend_from_slice(&n.to_le_bytes());
            } else {
                stream.push(n as u8);
            }
        }
        let mut compressor = zstd::bulk::Compressor::with_dictionary(LEVEL, self.dictionary())
            .expect("zstd accepts its own levels and any raw dictionary");
        let frame_bytes = compressor
            .compress(&stream)
            .expect("compressing to a growable buffer cannot fail");
        let mut payload = vec![FORM_MEMORY];
        varint::put(&mut payload, self.epoch);
        payload.extend_from_slice(&frame_bytes[4..]);
        self.history.extend_from_slice(&stream[numbers_start..]);
        Some(payload)
    }

    /// The colours of `rect` the memory does not hold yet, in order of appearance; `None` when
    /// they are more than a palette.
    fn new_colours(&self, frame: &FrameRef<'_>, rect: Rect) -> Option<Vec<u32>> {
        let mut new = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for y in rect.y..rect.bottom() {
            let row = frame.row(y);
            let mut last = None;
            for x in rect.x as usize..rect.right() as usize {
                let c = pixel_u32(row, x);
                if last == Some(c) {
                    continue;
                }
                last = Some(c);
                if !self.numbers.contains_key(&c) && seen.insert(c) {
                    new.push(c);
                    if new.len() > PALETTE_MAX {
                        return None;
                    }
                }
            }
        }
        Some(new)
    }

    /// The tight BGRA pixels of `rect` from `payload` (the form byte included).
    ///
    /// # Errors
    /// [`CodecError::Corrupt`] saying what does not add up; the memory is then as the update
    /// found it only after [`TextMemory::rollback`].
    pub fn decode(&mut self, payload: &[u8], rect: Rect) -> Result<Vec<u8>, CodecError> {
        let corrupt = |reason: String| CodecError::Corrupt {
            kind: RegionKind::Lossless,
            rect,
            reason,
        };
        let rest = payload
            .strip_prefix(&[FORM_MEMORY])
            .ok_or_else(|| corrupt("not text with memory".into()))?;
        let (epoch, used) = varint::read(rest).map_err(|_| corrupt("no memory epoch".into()))?;
        if epoch != self.epoch {
            *self = TextMemory::new(epoch);
        }
        if rect.area() > MAX_AREA {
            return Err(corrupt(format!(
                "{} pixels, more than {MAX_AREA}",
                rect.area()
            )));
        }
        let area = rect.area() as usize;
        let mut frame_bytes = ZSTD_MAGIC.to_vec();
        frame_bytes.extend_from_slice(&rest[used..]);
        let most = 10 + PALETTE_MAX * 4 + area * 2;
        let stream = zstd::bulk::Decompressor::with_dictionary(self.dictionary())
            .and_then(|mut d| d.decompress(&frame_bytes, most))
            .map_err(|e| corrupt(format!("does not decompress: {e}")))?;
        let (count, used) = varint::read(&stream).map_err(|_| corrupt("no colour count".into()))?;
        let count = count as usize;
        if count > PALETTE_MAX || self.colours.len() + count > MAX_COLOURS {
            return Err(corrupt(format!("{count} new colours is too many")));
        }
        let (new, numbers) = stream[used..]
            .split_at_checked(count * 4)
            .ok_or_else(|| corrupt("cut short in its colours".into()))?;
        for c in new.chunks_exact(4) {
            let c = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            if self.numbers.insert(c, self.colours.len() as u16).is_some() {
                return Err(corrupt(format!("colour {c:08x} is not new")));
            }
            self.colours.push(c);
        }
        let wide = self.colours.len() > 256;
        let expected = if wide { area * 2 } else { area };
        if numbers.len() != expected {
            return Err(corrupt(format!(
                "{} bytes of colour numbers, {expected} expected",
                numbers.len()
            )));
        }
        let mut pixels = Vec::with_capacity(area * 4);
        let number = |i: usize| {
            if wide {
                usize::from(u16::from_le_bytes([numbers[2 * i], numbers[2 * i + 1]]))
            } else {
                usize::from(numbers[i])
            }
        };
        for i in 0..area {
            let n = number(i);
            let colour = self
                .colours
                .get(n)
                .ok_or_else(|| corrupt(format!("colour {n} of {}", self.colours.len())))?;
            pixels.extend_from_slice(&colour.to_le_bytes());
        }
        self.history.extend_from_slice(numbers);
        Ok(pixels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::tests::text;
    use crate::frame::Frame;

    /// A line of "text" at row `line` of a terminal-like page.
    fn line_of(page: &Frame, line: u32) -> Rect {
        Rect::new(0, line * 17, page.width(), 17)
            .intersection(&page.as_ref().bounds())
            .unwrap()
    }

    /// Lines of words, as a terminal shows prose: a font of 26 random 7x11 glyphs in three
    /// shades, a vocabulary of 40 words of 2 to 7 letters, and lines of words in a seeded
    /// random order. Every line is new, but its words are not.
    fn terminal(width: u32, lines: u32) -> Frame {
        let mut s = 5u64;
        let mut next = move || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (s >> 33) as u32
        };
        let font: Vec<Vec<u8>> = (0..26)
            .map(|_| (0..77).map(|_| (next() % 3) as u8).collect())
            .collect();
        let words: Vec<Vec<usize>> = (0..40)
            .map(|_| {
                (0..2 + next() % 6)
                    .map(|_| (next() % 26) as usize)
                    .collect()
            })
            .collect();
        let mut f = Frame::filled(width, lines * 17, [30, 30, 30, 255]);
        for line in 0..lines {
            let mut cell = 0;
            loop {
                let word = &words[(next() % 40) as usize];
                if (cell + word.len() as u32) * 8 > width {
                    break;
                }
                for &letter in word {
                    for (i, &shade) in font[letter].iter().enumerate() {
                        let grey = [30, 140, 220][shade as usize];
                        let (x, y) = (cell * 8 + i as u32 % 7, line * 17 + 3 + i as u32 / 7);
                        f.set_pixel(x, y, [grey, grey, grey, 255]);
                    }
                    cell += 1;
                }
                cell += 1;
            }
        }
        f
    }

    #[test]
    fn both_sides_stay_in_step_and_recurring_text_gets_cheaper() {
        let page = terminal(400, 12);
        let (mut sender, mut receiver) = (TextMemory::new(7), TextMemory::default());
        let mut sizes = Vec::new();
        for line in 0..12 {
            let rect = line_of(&page, line);
            let payload = sender.encode(&page.as_ref(), rect).unwrap();
            let pixels = receiver.decode(&payload, rect).unwrap();
            assert_eq!(
                pixels,
                crate::codec::crop(&page.as_ref(), rect),
                "line {line}"
            );
            sender.commit();
            receiver.commit();
            sizes.push(payload.len());
        }
        // The first lines teach the words; the last costs well under what it costs alone.
        let alone = TextMemory::new(9)
            .encode(&page.as_ref(), line_of(&page, 11))
            .unwrap()
            .len();
        assert!(
            sizes[11] * 10 < alone * 9,
            "no gain from memory: {sizes:?}, alone {alone}"
        );
    }

    #[test]
    fn a_failed_update_is_rolled_back_and_a_new_epoch_starts_over() {
        let page = text(300, 17 * 4);
        let (mut sender, mut receiver) = (TextMemory::new(1), TextMemory::default());
        let first = sender.encode(&page.as_ref(), line_of(&page, 0)).unwrap();
        receiver.decode(&first, line_of(&page, 0)).unwrap();
        // A corrupt region: the receiver's memory returns to where the update found it.
        let mark = receiver.mark();
        let mut bad = sender
            .clone()
            .encode(&page.as_ref(), line_of(&page, 1))
            .unwrap();
        let last = bad.len() - 1;
        bad[last] ^= 0x55;
        bad.truncate(last - 3);
        assert!(receiver.decode(&bad, line_of(&page, 1)).is_err());
        receiver.rollback(mark);
        assert_eq!(receiver.mark(), mark);
        let second = sender.encode(&page.as_ref(), line_of(&page, 1)).unwrap();
        assert_eq!(
            receiver.decode(&second, line_of(&page, 1)).unwrap(),
            crate::codec::crop(&page.as_ref(), line_of(&page, 1))
        );
        // The sender starts again under a new epoch: the receiver forgets and follows.
        let mut restarted = TextMemory::new(2);
        let again = restarted.encode(&page.as_ref(), line_of(&page, 2)).unwrap();
        assert_eq!(
            receiver.decode(&again, line_of(&page, 2)).unwrap(),
            crate::codec::crop(&page.as_ref(), line_of(&page, 2))
        );
    }

    #[test]
    fn a_full_memory_starts_over_under_a_new_epoch_and_both_sides_follow() {
        // Rows of 250 colours never seen before: the 17th row does not fit in 4096.
        let mut rows = Frame::filled(250, 20, [0; 4]);
        for y in 0..20u32 {
            for x in 0..250u32 {
                let v = y * 250 + x;
                rows.set_pixel(x, y, [v as u8, (v >> 8) as u8, 7, 255]);
            }
        }
        let (mut sender, mut receiver) = (TextMemory::new(3), TextMemory::default());
        for y in 0..20 {
            let rect = Rect::new(0, y, 250, 1);
            let payload = sender.encode(&rows.as_ref(), rect).unwrap();
            let pixels = receiver.decode(&payload, rect).unwrap();
            assert_eq!(pixels, crate::codec::crop(&rows.as_ref(), rect), "row {y}");
            sender.commit();
            receiver.commit();
        }
        assert_eq!(sender.mark().epoch, 4, "the memory started over once");
        assert_eq!(receiver.mark(), sender.mark());
    }

    #[test]
    fn photos_and_large_regions_are_left_to_the_plain_forms() {
        let photo = crate::codec::tests::photo(64, 64);
        let mut memory = TextMemory::new(1);
        assert_eq!(
            memory.encode(&photo.as_ref(), photo.as_ref().bounds()),
            None
        );
        assert_eq!(
            memory.mark().colours,
            0,
            "a refused region leaves no colours"
        );
        let big = Frame::filled(300, 300, [1, 2, 3, 255]);
        assert_eq!(memory.encode(&big.as_ref(), big.as_ref().bounds()), None);
    }
}
