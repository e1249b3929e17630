//! Searching text eight bytes at a time, in one 64-bit word ("SIMD within a
//! register"): the plain runs of .env lines, of JSON strings escort reads
//! and of those it writes. A byte loop cost a tenth of a large read.
//!
//! A test is a function of the word that sets the high bit of each byte it
//! stops at. Only the lowest flagged byte is sure (a borrow may flag bytes
//! above it), which is the one a search wants.

pub const ONES: u64 = u64::from_ne_bytes([1; 8]);
pub const HIGH: u64 = ONES << 7;

/// The bytes of `w` below `n` (at most 0x80).
#[inline(always)]
pub fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH
}

/// The bytes of `w` equal to `b`.
#[inline(always)]
pub fn eq(w: u64, b: u8) -> u64 {
    below(w ^ (ONES * u64::from(b)), 1)
}

/// The bytes of `w` beyond ASCII.
#[inline(always)]
pub fn non_ascii(w: u64) -> u64 {
    w & HIGH
}

/// The first index from `i` of a byte `stop` flags, or the end of `s`.
#[inline(always)]
pub fn run(s: &[u8], mut i: usize, stop: impl Fn(u64) -> u64) -> usize {
    while let Some(chunk) = s.get(i..i + 8) {
        let flagged = stop(u64::from_le_bytes(chunk.try_into().expect("eight bytes")));
        if flagged != 0 {
            return i + flagged.trailing_zeros() as usize / 8;
        }
        i += 8;
    }
    if i >= s.len() {
        return s.len();
    }
    // The last eight bytes, those already searched left out.
    if let Some(last) = s.len().checked_sub(8) {
        let flagged = stop(u64::from_le_bytes(s[last..].try_into().expect("eight bytes"))) >> (8 * (i - last));
        return if flagged == 0 { s.len() } else { i + flagged.trailing_zeros() as usize / 8 };
    }
    // A short text, a byte at a time: the lowest byte of a word is always
    // flagged exactly.
    while s.get(i).is_some_and(|&b| stop(u64::from(b)) & 0x80 == 0) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every stop byte at every place of a run, and every byte that is not
    /// one, against a byte-by-byte search.
    #[test]
    fn a_run_stops_where_a_byte_loop_stops() {
        let stop = |w: u64| eq(w, b'"') | eq(w, b'\\') | below(w, 0x20) | non_ascii(w);
        let stops = |b: u8| b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b);
        for len in 0..20 {
            for at in 0..=len {
                for b in 0..=255u8 {
                    let mut s = vec![b'a'; len];
                    if at < len {
                        s[at] = b;
                    }
                    let want = s.iter().position(|&c| stops(c)).unwrap_or(len);
                    assert_eq!(run(&s, 0, stop), want, "byte {b:#x} at {at} of {len}");
                }
            }
        }
    }
}
