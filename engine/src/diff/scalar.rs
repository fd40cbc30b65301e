//! The scalar oracle: one pixel at a time, obviously right. Every faster kernel is tested
//! against these two functions.

use crate::frame::BYTES_PER_PIXEL;

/// Index of the first pixel that differs between `a` and `b`, or `None` when they are equal.
///
/// Both slices hold whole BGRA pixels and are compared up to the shorter one's length.
pub(crate) fn first_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    a.chunks_exact(BYTES_PER_PIXEL)
        .zip(b.chunks_exact(BYTES_PER_PIXEL))
        .position(|(p, q)| p != q)
}

/// Index of the last pixel that differs between `a` and `b`, or `None` when they are equal.
pub(crate) fn last_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    let n = a.len().min(b.len()) / BYTES_PER_PIXEL;
    (0..n).rev().find(|&i| {
        let at = i * BYTES_PER_PIXEL;
        a[at..at + BYTES_PER_PIXEL] != b[at..at + BYTES_PER_PIXEL]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_both_ends_of_a_change() {
        let a = [0u8; 40];
        let mut b = a;
        assert_eq!(first_diff(&a, &b), None);
        assert_eq!(last_diff(&a, &b), None);
        b[9] = 1; // pixel 2, green
        b[30] = 1; // pixel 7, red
        assert_eq!(first_diff(&a, &b), Some(2));
        assert_eq!(last_diff(&a, &b), Some(7));
    }
}
