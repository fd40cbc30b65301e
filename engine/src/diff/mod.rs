//! Tile diff: which parts of the screen changed between two frames.
//!
//! [`TileDiff`] cuts the screen into square tiles (64x64 by default; the last column and row of
//! tiles may be narrower) and compares two frames row by row. For every tile that changed it
//! reports a [`DirtyTile`] with the *tight* box of the pixels that differ, so a typed character
//! costs a glyph, not a tile. `diff/merge.rs` then joins those boxes into a few rectangles
//! worth encoding.
//!
//! # How it scans
//! Each row is handed whole to a `first_diff` kernel, so an unchanged row costs one streaming
//! compare with no per-tile overhead (the idle screen is the common case). On a difference at
//! pixel `p` in tile `t`, a `last_diff` kernel walks back from the end of `t`'s segment to find the
//! right edge of the change, and the scan resumes at the next tile.
//!
//! # Kernels
//! `diff/scalar.rs` is the oracle, always compiled. On x86_64 the fast path is explicit SSE2 and AVX2
//! intrinsics, chosen once at run time ([`CpuLevel::detect`]); benchmarks (`make bench`, group
//! `tile_diff`) favour AVX2 over SSE2 and both over scalar, so the highest level the CPU has is
//! the default. The environment variable `BECKON_CPU_LEVEL` (`scalar`, `sse2`, `avx2`) may lower
//! the level for tests and benches, never raise it. Other architectures use the scalar kernel.
//!
//! ```
//! use beckon_engine::diff::TileDiff;
//! use beckon_engine::frame::Frame;
//!
//! let before = Frame::filled(200, 100, [255, 255, 255, 255]);
//! let mut after = before.clone();
//! after.set_pixel(70, 10, [0, 0, 0, 255]);
//! let dirty = TileDiff::new(64).diff(&before.as_ref(), &after.as_ref()).unwrap();
//! assert_eq!(dirty.len(), 1);
//! assert_eq!((dirty[0].column, dirty[0].row), (1, 0));
//! assert_eq!(dirty[0].changed, beckon_engine::frame::Rect::new(70, 10, 1, 1));
//! ```

crate::internal_mod!(merge);
mod scalar;
#[cfg(target_arch = "x86_64")]
mod x86_64;

use thiserror::Error;

use crate::frame::{BYTES_PER_PIXEL, FrameRef, Rect};

/// Default tile edge in pixels.
pub const DEFAULT_TILE_SIZE: u32 = 64;

/// Environment variable that may lower the kernel level (`scalar`, `sse2`, `avx2`).
pub const CPU_LEVEL_ENV: &str = "BECKON_CPU_LEVEL";

/// Instruction set level of the diff kernels, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum CpuLevel {
    /// The portable pixel-by-pixel oracle.
    Scalar,
    /// x86_64 SSE2, 16 bytes a compare.
    Sse2,
    /// x86_64 AVX2, 32 bytes a compare.
    Avx2,
}

impl CpuLevel {
    /// The highest level this CPU supports.
    pub fn native() -> CpuLevel {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                return CpuLevel::Avx2;
            }
            CpuLevel::Sse2
        }
        #[cfg(not(target_arch = "x86_64"))]
        CpuLevel::Scalar
    }

    /// The level to use: [`CpuLevel::native`], lowered by `BECKON_CPU_LEVEL` when it names a
    /// lower one. An unknown value is ignored.
    pub fn detect() -> CpuLevel {
        let native = CpuLevel::native();
        match std::env::var(CPU_LEVEL_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
        {
            Some(wanted) => native.min(wanted),
            None => native,
        }
    }

    /// Every level this CPU supports, lowest first: what tests and benches compare.
    pub fn supported() -> Vec<CpuLevel> {
        [CpuLevel::Scalar, CpuLevel::Sse2, CpuLevel::Avx2]
            .into_iter()
            .filter(|l| *l <= CpuLevel::native())
            .collect()
    }

    /// Lower-case name, as `BECKON_CPU_LEVEL` spells it.
    pub fn name(self) -> &'static str {
        match self {
            CpuLevel::Scalar => "scalar",
            CpuLevel::Sse2 => "sse2",
            CpuLevel::Avx2 => "avx2",
        }
    }
}

impl std::str::FromStr for CpuLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "scalar" => Ok(CpuLevel::Scalar),
            "sse2" => Ok(CpuLevel::Sse2),
            "avx2" => Ok(CpuLevel::Avx2),
            other => Err(format!("unknown CPU level {other:?} (scalar, sse2, avx2)")),
        }
    }
}

/// A pair of compare kernels of one level. Built only through [`Kernel::new`], which checks the
/// CPU, so calling its function pointers is sound.
#[derive(Clone, Copy)]
struct Kernel {
    level: CpuLevel,
    first: unsafe fn(&[u8], &[u8]) -> Option<usize>,
    last: unsafe fn(&[u8], &[u8]) -> Option<usize>,
}

impl Kernel {
    /// The kernels of `level`, or of the highest level below it that this CPU supports.
    fn new(level: CpuLevel) -> Kernel {
        let level = level.min(CpuLevel::native());
        match level {
            #[cfg(target_arch = "x86_64")]
            CpuLevel::Avx2 => Kernel {
                level,
                first: x86_64::avx2::first_diff,
                last: x86_64::avx2::last_diff,
            },
            #[cfg(target_arch = "x86_64")]
            CpuLevel::Sse2 => Kernel {
                level,
                first: x86_64::sse2::first_diff,
                last: x86_64::sse2::last_diff,
            },
            _ => Kernel {
                level: CpuLevel::Scalar,
                first: scalar::first_diff,
                last: scalar::last_diff,
            },
        }
    }

    #[inline]
    fn first_diff(&self, a: &[u8], b: &[u8]) -> Option<usize> {
        // SAFETY: `Kernel::new` clamps the level to what this CPU supports.
        unsafe { (self.first)(a, b) }
    }

    #[inline]
    fn last_diff(&self, a: &[u8], b: &[u8]) -> Option<usize> {
        // SAFETY: `Kernel::new` clamps the level to what this CPU supports.
        unsafe { (self.last)(a, b) }
    }
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Kernel").field(&self.level).finish()
    }
}

/// Finds the first pixel that differs in two rows of BGRA pixels with the given kernel level
/// (the equivalence tests compare every level with the oracle).
#[cfg(test)]
pub(crate) fn first_diff(level: CpuLevel, a: &[u8], b: &[u8]) -> Option<usize> {
    Kernel::new(level).first_diff(a, b)
}

/// Finds the last pixel that differs in two rows of BGRA pixels with the given kernel level.
#[cfg(test)]
pub(crate) fn last_diff(level: CpuLevel, a: &[u8], b: &[u8]) -> Option<usize> {
    Kernel::new(level).last_diff(a, b)
}

/// Why two frames cannot be diffed.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiffError {
    /// The frames differ in size: the screen was resized, so everything must be sent again.
    #[error(
        "frames differ in size: {before_width}x{before_height} then {after_width}x{after_height}"
    )]
    SizeMismatch {
        /// Width of the earlier frame.
        before_width: u32,
        /// Height of the earlier frame.
        before_height: u32,
        /// Width of the later frame.
        after_width: u32,
        /// Height of the later frame.
        after_height: u32,
    },
}

/// One tile that changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirtyTile {
    /// Tile column (x / tile size).
    pub column: u32,
    /// Tile row (y / tile size).
    pub row: u32,
    /// The tight box of the pixels that differ, in screen coordinates, inside the tile.
    pub changed: Rect,
}

/// Running extent of the changes found in one tile.
#[derive(Clone, Copy, Debug)]
struct Extent {
    x0: u32,
    x1: u32,
    y0: u32,
    y1: u32,
}

impl Extent {
    const EMPTY: Extent = Extent {
        x0: u32::MAX,
        x1: 0,
        y0: u32::MAX,
        y1: 0,
    };

    fn is_empty(&self) -> bool {
        self.x0 == u32::MAX
    }
}

/// The tile diff. Cheap to build; keeps a little scratch space between calls.
#[derive(Debug, Clone)]
pub struct TileDiff {
    tile: u32,
    kernel: Kernel,
    extents: Vec<Extent>,
}

impl TileDiff {
    /// A tile diff with `tile_size`-pixel square tiles and the kernel level of
    /// [`CpuLevel::detect`].
    ///
    /// # Panics
    /// When `tile_size` is 0.
    pub fn new(tile_size: u32) -> TileDiff {
        TileDiff::with_level(tile_size, CpuLevel::detect())
    }

    /// A tile diff using kernels of `level` (or the highest level below it this CPU has).
    ///
    /// # Panics
    /// When `tile_size` is 0.
    pub fn with_level(tile_size: u32, level: CpuLevel) -> TileDiff {
        assert!(tile_size > 0, "tile size must be at least one pixel");
        TileDiff {
            tile: tile_size,
            kernel: Kernel::new(level),
            extents: Vec::new(),
        }
    }

    /// Tile edge in pixels.
    pub fn tile_size(&self) -> u32 {
        self.tile
    }

    /// The kernel level in use.
    pub fn level(&self) -> CpuLevel {
        self.kernel.level
    }

    /// The dirty tiles between `before` and `after`, in row-major tile order.
    ///
    /// # Errors
    /// [`DiffError::SizeMismatch`] when the frames differ in size.
    pub fn diff(
        &mut self,
        before: &FrameRef<'_>,
        after: &FrameRef<'_>,
    ) -> Result<Vec<DirtyTile>, DiffError> {
        let mut out = Vec::new();
        self.diff_into(before, after, &mut out)?;
        Ok(out)
    }

    /// Like [`TileDiff::diff`], but appends to `out` (cleared first) to reuse its allocation
    /// frame after frame.
    ///
    /// # Errors
    /// [`DiffError::SizeMismatch`] when the frames differ in size.
    pub fn diff_into(
        &mut self,
        before: &FrameRef<'_>,
        after: &FrameRef<'_>,
        out: &mut Vec<DirtyTile>,
    ) -> Result<(), DiffError> {
        self.scan(before, after, None, out)
    }

    /// Like [`TileDiff::diff_into`], but looks only at the tiles that `areas` touch: the caller
    /// knows nothing outside them changed (a capture that fetched only those areas, say). An
    /// idle screen, with no areas, costs nothing.
    ///
    /// # Errors
    /// [`DiffError::SizeMismatch`] when the frames differ in size.
    pub fn diff_areas_into(
        &mut self,
        before: &FrameRef<'_>,
        after: &FrameRef<'_>,
        areas: &[Rect],
        out: &mut Vec<DirtyTile>,
    ) -> Result<(), DiffError> {
        let (columns, rows) = (
            after.width().div_ceil(self.tile) as usize,
            after.height().div_ceil(self.tile) as usize,
        );
        let mut touched = vec![false; columns * rows];
        for area in areas {
            let Some(area) = area.intersection(&Rect::new(0, 0, after.width(), after.height()))
            else {
                continue;
            };
            let (c0, c1) = (area.x / self.tile, (area.right() - 1) / self.tile);
            let (r0, r1) = (area.y / self.tile, (area.bottom() - 1) / self.tile);
            for r in r0..=r1 {
                for c in c0..=c1 {
                    touched[r as usize * columns + c as usize] = true;
                }
            }
        }
        self.scan(before, after, Some(&touched), out)
    }

    /// The diff of the tiles `touched` marks (all when `None`).
    fn scan(
        &mut self,
        before: &FrameRef<'_>,
        after: &FrameRef<'_>,
        touched: Option<&[bool]>,
        out: &mut Vec<DirtyTile>,
    ) -> Result<(), DiffError> {
        out.clear();
        if before.width() != after.width() || before.height() != after.height() {
            return Err(DiffError::SizeMismatch {
                before_width: before.width(),
                before_height: before.height(),
                after_width: after.width(),
                after_height: after.height(),
            });
        }
        let (width, height, tile) = (after.width(), after.height(), self.tile);
        let columns = width.div_ceil(tile) as usize;
        self.extents.clear();
        self.extents.resize(columns, Extent::EMPTY);
        let kernel = self.kernel;
        let mut spans = Vec::new();
        for tile_row in 0..height.div_ceil(tile) {
            // The column spans to look at in this row of tiles.
            spans.clear();
            match touched {
                None => spans.push((0, width)),
                Some(touched) => {
                    let row = &touched[tile_row as usize * columns..][..columns];
                    let mut c = 0;
                    while c < columns {
                        if !row[c] {
                            c += 1;
                            continue;
                        }
                        let first = c;
                        while c < columns && row[c] {
                            c += 1;
                        }
                        spans.push((first as u32 * tile, (c as u32 * tile).min(width)));
                    }
                    if spans.is_empty() {
                        continue;
                    }
                }
            }
            let y_end = ((tile_row + 1) * tile).min(height);
            for y in tile_row * tile..y_end {
                let (a, b) = (before.row(y), after.row(y));
                for &(span_start, span_end) in &spans {
                    let mut start = span_start;
                    while start < span_end {
                        let at = start as usize * BYTES_PER_PIXEL;
                        let end = span_end as usize * BYTES_PER_PIXEL;
                        let Some(offset) = kernel.first_diff(&a[at..end], &b[at..end]) else {
                            break;
                        };
                        let p = start + offset as u32;
                        let column = p / tile;
                        let seg_end = ((column + 1) * tile).min(width);
                        let (from, to) = (
                            p as usize * BYTES_PER_PIXEL,
                            seg_end as usize * BYTES_PER_PIXEL,
                        );
                        let q = p + kernel
                            .last_diff(&a[from..to], &b[from..to])
                            .expect("pixel p differs") as u32;
                        let e = &mut self.extents[column as usize];
                        e.x0 = e.x0.min(p);
                        e.x1 = e.x1.max(q + 1);
                        e.y0 = e.y0.min(y);
                        e.y1 = y + 1;
                        start = seg_end;
                    }
                }
            }
            for (column, e) in self.extents.iter_mut().enumerate() {
                if !e.is_empty() {
                    out.push(DirtyTile {
                        column: column as u32,
                        row: tile_row,
                        changed: Rect::from_edges(e.x0, e.y0, e.x1, e.y1),
                    });
                    *e = Extent::EMPTY;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
