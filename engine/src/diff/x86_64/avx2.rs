//! AVX2 kernels: 32 bytes (8 pixels) a compare, unrolled four times while nothing differs.

use core::arch::x86_64::{
    __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8,
};

use crate::diff::scalar;
use crate::frame::BYTES_PER_PIXEL;

const LANE: usize = 32;
const BLOCK: usize = 4 * LANE;

/// Equality mask of 32 bytes at `a` and `b`: bit i set when byte i is equal.
///
/// # Safety
/// AVX2 must be available and both pointers valid for 32 bytes of reads.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn eq_mask(a: *const u8, b: *const u8) -> u32 {
    // SAFETY: the caller guarantees 32 readable bytes at each pointer; loadu needs no alignment.
    unsafe {
        let va = _mm256_loadu_si256(a as *const __m256i);
        let vb = _mm256_loadu_si256(b as *const __m256i);
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(va, vb)) as u32
    }
}

/// Whether the 128 bytes at `a` and `b` are equal.
///
/// # Safety
/// AVX2 must be available and both pointers valid for 128 bytes of reads.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn block_equal(a: *const u8, b: *const u8) -> bool {
    // SAFETY: the caller guarantees 128 readable bytes at each pointer.
    unsafe {
        let e = |k: usize| {
            _mm256_cmpeq_epi8(
                _mm256_loadu_si256(a.add(k * LANE) as *const __m256i),
                _mm256_loadu_si256(b.add(k * LANE) as *const __m256i),
            )
        };
        let all = _mm256_and_si256(_mm256_and_si256(e(0), e(1)), _mm256_and_si256(e(2), e(3)));
        _mm256_movemask_epi8(all) as u32 == u32::MAX
    }
}

/// AVX2 version of [`scalar::first_diff`].
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn first_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    let n = a.len().min(b.len()) / BYTES_PER_PIXEL * BYTES_PER_PIXEL;
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut i = 0;
    // SAFETY: `i + BLOCK <= n`, so the reads stay within both slices.
    while i + BLOCK <= n && unsafe { block_equal(pa.add(i), pb.add(i)) } {
        i += BLOCK;
    }
    while i + LANE <= n {
        // SAFETY: i + 32 <= n.
        let m = unsafe { eq_mask(pa.add(i), pb.add(i)) };
        if m != u32::MAX {
            return Some((i + (!m).trailing_zeros() as usize) / BYTES_PER_PIXEL);
        }
        i += LANE;
    }
    scalar::first_diff(&a[i..n], &b[i..n]).map(|p| p + i / BYTES_PER_PIXEL)
}

/// AVX2 version of [`scalar::last_diff`].
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn last_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    let n = a.len().min(b.len()) / BYTES_PER_PIXEL * BYTES_PER_PIXEL;
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut j = n;
    // SAFETY: `BLOCK <= j <= n`, so the reads in `j - BLOCK..j` stay within both slices.
    while j >= BLOCK && unsafe { block_equal(pa.add(j - BLOCK), pb.add(j - BLOCK)) } {
        j -= BLOCK;
    }
    while j >= LANE {
        // SAFETY: j - 32 >= 0 and j <= n.
        let m = unsafe { eq_mask(pa.add(j - LANE), pb.add(j - LANE)) };
        if m != u32::MAX {
            let last = 31 - (!m).leading_zeros() as usize;
            return Some((j - LANE + last) / BYTES_PER_PIXEL);
        }
        j -= LANE;
    }
    // `j` is a multiple of 4 here: `n` is, and so are the steps.
    scalar::last_diff(&a[..j], &b[..j])
}
