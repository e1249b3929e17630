//! The byte-level searches of `decode.rs`, where a load spends its time: the
//! end of a plain run in a string, and the end of a value escort does not
//! read (each Value's `trace`, about two thirds of ESC's answer).

use crate::json::{self, Problem};
use crate::swar;

/// The first index from `i` whose byte ends a plain run of string text: a
/// quote, a backslash, a control character or a byte that is not ASCII.
///
/// The invariant `decode.rs` relies on for `from_utf8_unchecked`: every byte
/// of `s[i..plain_run(s, i)]` is ASCII, hence that slice is UTF-8. It holds
/// because `non_ascii` is part of the stop condition; dropping it (or
/// widening the run to any byte ASCII does not cover) makes those calls
/// unsound. `plain_runs_are_ascii_and_stop_where_a_byte_loop_would` checks it.
#[inline(always)]
pub fn plain_run(s: &[u8], i: usize) -> usize {
    swar::run(s, i, |w| json::to_escape(w) | swar::non_ascii(w))
}

/// Where the value starting at `s[i]` ends (the index just past it), for a
/// value escort does not read: strings are stepped over and brackets matched,
/// but the tokens between them are not checked, and `{` may close with `]`.
/// A body serde_json accepts is read the same; one it refuses only for a
/// fault inside such a value may be read (tests and the `esc_value` fuzz
/// target hold the decoder to that).
pub fn past_value(s: &[u8], i: usize) -> Result<usize, (Problem, usize)> {
    match s.get(i) {
        None => Err((Problem::Eof, i)),
        Some(b'{' | b'[') => past_brackets(s, i),
        Some(b'"') => past_string(s, i + 1),
        // A number or a word: up to what follows it.
        Some(_) => Ok(s[i..]
            .iter()
            .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
            .map_or(s.len(), |n| i + n)),
    }
}

/// Where the string whose text goes on at `i` ends: its closing quote, or
/// the end of the body.
pub fn string_end(s: &[u8], i: usize) -> usize {
    past_string(s, i).map_or(s.len(), |past| past - 1)
}

/// Past the string whose text starts at `i` (after its opening quote).
fn past_string(s: &[u8], mut i: usize) -> Result<usize, (Problem, usize)> {
    loop {
        i = plain_run(s, i);
        match s.get(i) {
            None => return Err((Problem::Eof, i)),
            Some(b'"') => return Ok(i + 1),
            Some(b'\\') => i += 2,
            Some(_) => i += 1,
        }
    }
}

/// Bracket matching carried from block to block: the depth, and whether the
/// block starts inside a string (and just after a backslash in it).
#[derive(Default)]
struct Brackets {
    depth: u32,
    in_string: bool,
    /// The last byte seen was a backslash inside a string.
    escaped: bool,
}

/// Past the object or array opening at `s[i]`.
fn past_brackets(s: &[u8], mut i: usize) -> Result<usize, (Problem, usize)> {
    let mut state = Brackets::default();
    while i < s.len() {
        let block = &s[i..(i + BLOCK).min(s.len())];
        let done = match <&[u8; BLOCK]>::try_from(block) {
            Ok(whole) if !state.escaped => state.block(whole).unwrap_or_else(|| state.bytes(block)),
            _ => state.bytes(block),
        };
        if let Some(end) = done {
            return Ok(i + end + 1);
        }
        i += block.len();
    }
    Err((Problem::Eof, s.len()))
}

/// Four SSE2 registers, one bit of a `u64` per byte: on ESC's traces (about
/// 130 bytes) blocks of 16 or 32 bytes cost more in their own overhead than
/// they save at the end of a trace.
const BLOCK: usize = 64;
type Mask = u64;

impl Brackets {
    /// One byte at a time: where the depth comes back to zero, if it does.
    fn bytes(&mut self, block: &[u8]) -> Option<usize> {
        for (k, &b) in block.iter().enumerate() {
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        return Some(k);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// A whole block at once with SIMD (x86_64), for a block without a
    /// backslash: `Some(None)` when the depth stays above zero, `None` when
    /// the block needs `bytes`.
    fn block(&mut self, block: &[u8; BLOCK]) -> Option<Option<usize>> {
        let m = Masks::of(block)?;
        // A bit for every byte from an opening quote up to its closing one:
        // the prefix XOR of the quotes, written out (a loop stays a loop at
        // `opt-level = "s"`). Its top bit is the parity of the quotes.
        let mut inside = m.quotes;
        inside ^= inside << 1;
        inside ^= inside << 2;
        inside ^= inside << 4;
        inside ^= inside << 8;
        inside ^= inside << 16;
        inside ^= inside << 32;
        let odd = inside >> (BLOCK - 1) & 1 == 1;
        if self.in_string {
            inside = !inside;
        }
        self.in_string ^= odd;
        let (opens, closes) = (m.opens & !inside, m.closes & !inside);
        let mut all = opens | closes;
        while all != 0 {
            let at = all.trailing_zeros();
            if opens >> at & 1 == 1 {
                self.depth += 1;
            } else {
                self.depth -= 1;
                if self.depth == 0 {
                    return Some(Some(at as usize));
                }
            }
            all &= all - 1;
        }
        Some(None)
    }
}

/// Which bytes of a block are quotes, `{`/`[` and `}`/`]`.
struct Masks {
    quotes: Mask,
    opens: Mask,
    closes: Mask,
}

impl Masks {
    /// The masks of a block without a backslash (`None` for one with).
    #[cfg(target_arch = "x86_64")]
    fn of(block: &[u8; BLOCK]) -> Option<Masks> {
        use std::arch::x86_64::*;
        let mut m = Masks { quotes: 0, opens: 0, closes: 0 };
        // SAFETY: SSE2 is part of x86_64; each load reads the 16 bytes of `part`.
        unsafe {
            let mut backslashes = _mm_setzero_si128();
            for (k, part) in block.chunks_exact(16).enumerate() {
                let v = _mm_loadu_si128(part.as_ptr().cast());
                backslashes = _mm_or_si128(backslashes, _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8)));
                // `[` and `]` differ from `{` and `}` only in the bit 0x20.
                let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
                let bits = |v: __m128i, b: u8| {
                    Mask::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))) as u16) << (16 * k)
                };
                m.quotes |= bits(v, b'"');
                m.opens |= bits(folded, b'{');
                m.closes |= bits(folded, b'}');
            }
            if _mm_movemask_epi8(backslashes) != 0 {
                return None;
            }
        }
        Some(m)
    }

    /// Elsewhere the blocks are read a byte at a time.
    #[cfg(not(target_arch = "x86_64"))]
    fn of(_: &[u8; BLOCK]) -> Option<Masks> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block path and the byte path agree wherever a block boundary,
    /// a backslash or a bracket inside a string falls.
    #[test]
    fn brackets_are_matched_across_blocks_and_strings() {
        let parts =
            [r#"{"a":"}]"}"#, r#"["x\"]",{"y":[]}]"#, r#""\\""#, "{}", "[1,2,{\"k\":\"{\"}]", "\"\\\\\\\"}\"", " 7 "];
        let mut seed = 7u64;
        for _ in 0..2000 {
            let mut body = String::from("{\"trace\":[");
            for _ in 0..(seed % 40) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                body.push_str(parts[(seed % parts.len() as u64) as usize]);
                body.push(',');
            }
            body.push_str("0]");
            let (start, end) = (9, body.len());
            body.push_str(",\"next\":1}");
            assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok(), "the test made invalid JSON: {body}");
            let bytes = body.as_bytes();
            assert_eq!(past_value(bytes, start), Ok(end), "{body}");
            let mut state = Brackets::default();
            assert_eq!(state.bytes(&bytes[start..]), Some(end - start - 1), "{body}");
        }
    }

    /// `plain_run` stops exactly where a byte-by-byte loop would, for every
    /// byte at every place (in whole words, in the tail, in a text shorter
    /// than a word), so its run is ASCII: `from_utf8_unchecked` in
    /// `decode.rs` depends on it.
    #[test]
    fn plain_runs_are_ascii_and_stop_where_a_byte_loop_would() {
        let stops = |b: u8| !b.is_ascii() || b < 0x20 || b == b'"' || b == b'\\';
        for len in [1, 5, 8, 13, 24] {
            for start in 0..len.min(3) {
                for at in start..len {
                    for b in 0..=255u8 {
                        let mut s = vec![b'a'; len];
                        s[at] = b;
                        let end = plain_run(&s, start);
                        assert_eq!(end, if stops(b) { at } else { len }, "byte {b:#x} at {at} of {len} from {start}");
                        assert!(s[start..end].is_ascii(), "byte {b:#x} at {at} of {len}");
                    }
                }
            }
        }
    }

    #[test]
    fn values_end_where_json_says() {
        for (text, end) in
            [("\"a\\\"b\",", 6), ("123,", 3), ("true}", 4), ("[[]]x", 4), ("{\"}\":\"{\"}x", 9), ("null", 4)]
        {
            assert_eq!(past_value(text.as_bytes(), 0), Ok(end), "{text}");
        }
        for text in ["\"abc", "[[]", "{\"a\":\"}", ""] {
            assert_eq!(past_value(text.as_bytes(), 0).map_err(|e| e.0), Err(Problem::Eof), "{text}");
        }
    }
}
