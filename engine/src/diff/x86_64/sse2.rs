//! SSE2 kernels: 16 bytes (4 pixels) a compare, unrolled four times while nothing differs.
//! SSE2 is part of every x86_64 CPU, so this is the floor of the fast path there.

use core::arch::x86_64::{
    __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8,
};

use crate::diff::scalar;
use crate::frame::BYTES_PER_PIXEL;

const LANE: usize = 16;
const BLOCK: usize = 4 * LANE;
const ALL_EQUAL: u32 = 0xffff;

/// Equality mask of 16 bytes at `a` and `b`: bit i set when byte i is equal.
///
/// # Safety
/// Both pointers valid for 16 bytes of reads.
#[inline]
#[target_feature(enable = "sse2")]
unsafe fn eq_mask(a: *const u8, b: *const u8) -> u32 {
    // SAFETY: the caller guarantees 16 readable bytes at each pointer; loadu needs no alignment.
    unsafe {
        let va = _mm_loadu_si128(a as *const __m128i);
        let vb = _mm_loadu_si128(b as *const __m128i);
        _mm_movemask_epi8(_mm_cmpeq_epi8(va, vb)) as u32
    }
}

/// Whether the 64 bytes at `a` and `b` are equal.
///
/// # Safety
/// Both pointers valid for 64 bytes of reads.
#[inline]
#[target_feature(enable = "sse2")]
unsafe fn block_equal(a: *const u8, b: *const u8) -> bool {
    // SAFETY: the caller guarantees 64 readable bytes at each pointer.
    unsafe {
        let e = |k: usize| {
            _mm_cmpeq_epi8(
                _mm_loadu_si128(a.add(k * LANE) as *const __m128i),
                _mm_loadu_si128(b.add(k * LANE) as *const __m128i),
            )
        };
        let all = _mm_and_si128(_mm_and_si128(e(0), e(1)), _mm_and_si128(e(2), e(3)));
        _mm_movemask_epi8(all) as u32 == ALL_EQUAL
    }
}

/// SSE2 version of [`scalar::first_diff`].
///
/// # Safety
/// The CPU must support SSE2 (every x86_64 CPU does).
#[target_feature(enable = "sse2")]
pub(crate) unsafe fn first_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    let n = a.len().min(b.len()) / BYTES_PER_PIXEL * BYTES_PER_PIXEL;
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut i = 0;
    // SAFETY: `i + BLOCK <= n`, so the reads stay within both slices.
    while i + BLOCK <= n && unsafe { block_equal(pa.add(i), pb.add(i)) } {
        i += BLOCK;
    }
    while i + LANE <= n {
        // SAFETY: i + 16 <= n.
        let m = unsafe { eq_mask(pa.add(i), pb.add(i)) };
        if m != ALL_EQUAL {
            return Some((i + (!m).trailing_zeros() as usize) / BYTES_PER_PIXEL);
        }
        i += LANE;
    }
    scalar::first_diff(&a[i..n], &b[i..n]).map(|p| p + i / BYTES_PER_PIXEL)
}

/// SSE2 version of [`scalar::last_diff`].
///
/// # Safety
/// The CPU must support SSE2 (every x86_64 CPU does).
#[target_feature(enable = "sse2")]
pub(crate) unsafe fn last_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    let n = a.len().min(b.len()) / BYTES_PER_PIXEL * BYTES_PER_PIXEL;
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut j = n;
    // SAFETY: `BLOCK <= j <= n`, so the reads in `j - BLOCK..j` stay within both slices.
    while j >= BLOCK && unsafe { block_equal(pa.add(j - BLOCK), pb.add(j - BLOCK)) } {
        j -= BLOCK;
    }
    while j >= LANE {
        // SAFETY: j - 16 >= 0 and j <= n.
        let m = unsafe { eq_mask(pa.add(j - LANE), pb.add(j - LANE)) };
        if m != ALL_EQUAL {
            let last = 31 - (!m & ALL_EQUAL).leading_zeros() as usize;
            return Some((j - LANE + last) / BYTES_PER_PIXEL);
        }
        j -= LANE;
    }
    scalar::last_diff(&a[..j], &b[..j])
}
