//! Frames and rectangles.
//!
//! A [`FrameRef`] borrows BGRA pixels (4 bytes a pixel, blue first) laid out row by row with a
//! stride in bytes that may exceed `width * 4`, as capture back-ends hand them out (an X11
//! MIT-SHM image, a row of a decoded clip, a crop of a larger buffer). A [`Frame`] owns its
//! pixels with a tight stride. [`Rect`] is a pixel rectangle in screen coordinates.

use thiserror::Error;

/// Bytes per BGRA pixel.
pub const BYTES_PER_PIXEL: usize = 4;

/// A rectangle of pixels: `x..x + width` by `y..y + height`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Rect {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Rect {
    /// A rectangle from its top-left corner and size.
    pub const fn new(x: u32, y: u32, width: u32, height: u32) -> Self {
        Self {
            x,
            y,
            width,
            height,
        }
    }

    /// The rectangle spanning columns `x0..x1` and rows `y0..y1` (exclusive ends).
    pub fn from_edges(x0: u32, y0: u32, x1: u32, y1: u32) -> Self {
        debug_assert!(x0 <= x1 && y0 <= y1);
        Self::new(x0, y0, x1 - x0, y1 - y0)
    }

    /// One past the right column.
    pub const fn right(&self) -> u32 {
        self.x + self.width
    }

    /// One past the bottom row.
    pub const fn bottom(&self) -> u32 {
        self.y + self.height
    }

    /// Number of pixels covered.
    pub const fn area(&self) -> u64 {
        self.width as u64 * self.height as u64
    }

    /// Whether the rectangle covers no pixel.
    pub const fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }

    /// Whether pixel `(x, y)` lies inside.
    pub const fn contains(&self, x: u32, y: u32) -> bool {
        x >= self.x && x < self.right() && y >= self.y && y < self.bottom()
    }

    /// Whether `other` lies wholly inside `self`.
    pub const fn contains_rect(&self, other: &Rect) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.right() <= self.right()
            && other.bottom() <= self.bottom()
    }

    /// The smallest rectangle covering both.
    pub fn union(&self, other: &Rect) -> Rect {
        if self.is_empty() {
            return *other;
        }
        if other.is_empty() {
            return *self;
        }
        Rect::from_edges(
            self.x.min(other.x),
            self.y.min(other.y),
            self.right().max(other.right()),
            self.bottom().max(other.bottom()),
        )
    }

    /// The overlap of both, or `None` when they share no pixel.
    pub fn intersection(&self, other: &Rect) -> Option<Rect> {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = self.right().min(other.right());
        let y1 = self.bottom().min(other.bottom());
        (x0 < x1 && y0 < y1).then(|| Rect::from_edges(x0, y0, x1, y1))
    }
}

/// What is wrong with a pixel buffer handed to [`FrameRef::new`].
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// The stride cannot hold one row of pixels.
    #[error("stride of {stride} bytes is shorter than a row of {width} pixels")]
    StrideTooSmall {
        /// The stride given, in bytes.
        stride: usize,
        /// The frame width, in pixels.
        width: u32,
    },
    /// The buffer ends before the last row does.
    #[error("buffer of {len} bytes is too small for {width}x{height} pixels at stride {stride}")]
    BufferTooSmall {
        /// The buffer length, in bytes.
        len: usize,
        /// The frame width, in pixels.
        width: u32,
        /// The frame height, in pixels.
        height: u32,
        /// The stride, in bytes.
        stride: usize,
    },
}

/// Borrowed BGRA pixels with an explicit stride.
#[derive(Clone, Copy, Debug)]
pub struct FrameRef<'a> {
    data: &'a [u8],
    width: u32,
    height: u32,
    stride: usize,
}

impl<'a> FrameRef<'a> {
    /// Views `data` as `height` rows of `width` BGRA pixels, each row starting `stride` bytes
    /// after the previous one. The last row need only hold `width * 4` bytes.
    ///
    /// # Errors
    /// When the stride is shorter than a row or the buffer shorter than the frame.
    pub fn new(data: &'a [u8], width: u32, height: u32, stride: usize) -> Result<Self, FrameError> {
        let row = width as usize * BYTES_PER_PIXEL;
        if stride < row {
            return Err(FrameError::StrideTooSmall { stride, width });
        }
        let needed = if height == 0 {
            0
        } else {
            (height as usize - 1) * stride + row
        };
        if data.len() < needed {
            return Err(FrameError::BufferTooSmall {
                len: data.len(),
                width,
                height,
                stride,
            });
        }
        Ok(Self {
            data,
            width,
            height,
            stride,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes from one row to the next.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The whole frame as a rectangle at the origin.
    pub fn bounds(&self) -> Rect {
        Rect::new(0, 0, self.width, self.height)
    }

    /// The `width * 4` pixel bytes of row `y`.
    ///
    /// # Panics
    /// When `y >= height`.
    #[inline]
    pub fn row(&self, y: u32) -> &'a [u8] {
        assert!(
            y < self.height,
            "row {y} outside a frame of {} rows",
            self.height
        );
        let start = y as usize * self.stride;
        &self.data[start..start + self.width as usize * BYTES_PER_PIXEL]
    }

    /// The pixel at `(x, y)` as its four bytes B, G, R, A.
    ///
    /// # Panics
    /// When the pixel lies outside the frame.
    #[inline]
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        assert!(
            x < self.width,
            "column {x} outside a frame of {} columns",
            self.width
        );
        let i = x as usize * BYTES_PER_PIXEL;
        self.row(y)[i..i + 4].try_into().expect("four bytes")
    }
}

/// Owned BGRA pixels with a tight stride (`width * 4`).
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    data: Vec<u8>,
    width: u32,
    height: u32,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

impl Frame {
    /// A frame filled with one BGRA colour.
    pub fn filled(width: u32, height: u32, bgra: [u8; 4]) -> Self {
        let data = bgra.repeat(width as usize * height as usize);
        Self {
            data,
            width,
            height,
        }
    }

    /// Takes ownership of tightly packed BGRA pixels.
    ///
    /// # Errors
    /// When `data` is not exactly `width * height * 4` bytes.
    pub fn from_bgra(data: Vec<u8>, width: u32, height: u32) -> Result<Self, FrameError> {
        let needed = width as usize * height as usize * BYTES_PER_PIXEL;
        if data.len() != needed {
            return Err(FrameError::BufferTooSmall {
                len: data.len(),
                width,
                height,
                stride: width as usize * BYTES_PER_PIXEL,
            });
        }
        Ok(Self {
            data,
            width,
            height,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes from one row to the next: always `width * 4`.
    pub fn stride(&self) -> usize {
        self.width as usize * BYTES_PER_PIXEL
    }

    /// The pixel bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The pixel bytes, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// A borrowed view of the whole frame.
    pub fn as_ref(&self) -> FrameRef<'_> {
        FrameRef {
            data: &self.data,
            width: self.width,
            height: self.height,
            stride: self.stride(),
        }
    }

    /// Writes one pixel.
    ///
    /// # Panics
    /// When the pixel lies outside the frame.
    pub fn set_pixel(&mut self, x: u32, y: u32, bgra: [u8; 4]) {
        assert!(
            x < self.width && y < self.height,
            "pixel ({x}, {y}) outside the frame"
        );
        let i = (y as usize * self.width as usize + x as usize) * BYTES_PER_PIXEL;
        self.data[i..i + 4].copy_from_slice(&bgra);
    }
}

/// Sum of squared differences over the R, G and B channels of `rect` in two frames.
///
/// # Panics
/// When `rect` leaves either frame.
pub fn rgb_squared_error(a: &FrameRef<'_>, b: &FrameRef<'_>, rect: Rect) -> u64 {
    let mut se = 0u64;
    for y in rect.y..rect.bottom() {
        let span = rect.x as usize * BYTES_PER_PIXEL..rect.right() as usize * BYTES_PER_PIXEL;
        for (p, q) in a.row(y)[span.clone()]
            .chunks_exact(4)
            .zip(b.row(y)[span].chunks_exact(4))
        {
            for c in 0..3 {
                let d = p[c] as i64 - q[c] as i64;
                se += (d * d) as u64;
            }
        }
    }
    se
}

/// PSNR in dB for a mean squared error of 8-bit samples: 10 * log10(255^2 / MSE), capped at
/// 100 (also for an exact picture). The measure `corpus-eval` reports.
pub fn psnr_from_mse(mse: f64) -> f64 {
    if mse <= 0.0 {
        100.0
    } else {
        (10.0 * (255.0f64 * 255.0 / mse).log10()).min(100.0)
    }
}

/// PSNR in dB over the R, G and B channels of `rect` in two frames; 100 when they are equal there.
///
/// # Panics
/// When `rect` leaves either frame.
pub fn psnr_rgb(a: &FrameRef<'_>, b: &FrameRef<'_>, rect: Rect) -> f64 {
    if rect.is_empty() {
        return 100.0;
    }
    psnr_from_mse(rgb_squared_error(a, b, rect) as f64 / (rect.area() as f64 * 3.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_and_intersection() {
        let a = Rect::new(0, 0, 10, 10);
        let b = Rect::new(5, 8, 10, 10);
        assert_eq!(a.union(&b), Rect::new(0, 0, 15, 18));
        assert_eq!(a.intersection(&b), Some(Rect::new(5, 8, 5, 2)));
        assert_eq!(a.intersection(&Rect::new(10, 0, 1, 1)), None);
        assert_eq!(Rect::default().union(&b), b);
    }

    #[test]
    fn frame_ref_rejects_short_buffers_and_strides() {
        let data = vec![0u8; 4 * 10 * 3];
        assert!(matches!(
            FrameRef::new(&data, 10, 3, 39),
            Err(FrameError::StrideTooSmall { .. })
        ));
        assert!(matches!(
            FrameRef::new(&data, 10, 4, 40),
            Err(FrameError::BufferTooSmall { .. })
        ));
        // The last row needs no padding after it.
        let padded = vec![0u8; 48 * 2 + 40];
        assert!(FrameRef::new(&padded, 10, 3, 48).is_ok());
    }
}
