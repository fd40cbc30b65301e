//! Unsigned LEB128 varints, the numbers of the update wire format and of video payloads: 7 bits
//! a byte, low first, the high bit set on every byte but the last, at most 10 bytes.

/// Appends `v`.
pub fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Bytes `v` takes.
pub fn len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// `v` as an unsigned number for [`put`]: 0, -1, 1, -2 ... become 0, 1, 2, 3 ..., so small
/// offsets either way take one byte.
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// The signed number [`zigzag`] made `v` from.
pub fn unzigzag(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

/// Why bytes do not start with a varint.
#[derive(Debug, PartialEq, Eq)]
pub enum Bad {
    /// The input ends inside it.
    Truncated,
    /// Longer than 64 bits.
    TooLong,
}

/// The varint `bytes` start with, and how many bytes it took.
///
/// # Errors
/// [`Bad::Truncated`] when `bytes` end inside it, [`Bad::TooLong`] past 64 bits.
pub fn read(bytes: &[u8]) -> Result<(u64, usize), Bad> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        let bits = u64::from(byte & 0x7f);
        if i == 9 && bits > 1 {
            return Err(Bad::TooLong);
        }
        value |= bits << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    if bytes.len() >= 10 {
        Err(Bad::TooLong)
    } else {
        Err(Bad::Truncated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_round_trips_and_keeps_small_offsets_small() {
        for v in [0i64, -1, 1, -37, 37, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!([0, -1, 1, -2].map(zigzag), [0, 1, 2, 3]);
        assert_eq!(len(zigzag(-63)), 1);
    }

    #[test]
    fn round_trips_and_lengths() {
        let mut out = Vec::new();
        for (v, n) in [
            (0u64, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (u64::MAX, 10),
        ] {
            out.clear();
            put(&mut out, v);
            assert_eq!((out.len(), len(v)), (n, n), "{v}");
            out.push(0xAA);
            assert_eq!(read(&out), Ok((v, n)));
        }
        assert_eq!(read(&[]), Err(Bad::Truncated));
        assert_eq!(read(&[0x80, 0x80]), Err(Bad::Truncated));
        assert_eq!(read(&[0xff; 11]), Err(Bad::TooLong));
        let mut over = vec![0xff; 9];
        over.push(0x02);
        assert_eq!(read(&over), Err(Bad::TooLong));
    }
}
