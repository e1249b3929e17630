//! Replace secret values in a byte stream with `***` as it flows (`escort run`).
//!
//! A value may arrive split across reads, so the tail of what was read that
//! could still grow into a secret is held back until the next read decides
//! it; everything before it is written at once, so output is not delayed.

use aho_corasick::{AhoCorasick, MatchKind};

pub const MASK: &[u8] = b"***";

#[derive(Clone)]
pub struct Redactor {
    ac: Option<AhoCorasick>,
    /// The patterns, sorted, to find held-back prefixes by binary search.
    sorted: Vec<Vec<u8>>,
    max_len: usize,
    pending: Vec<u8>,
}

impl Redactor {
    /// `patterns` shorter than `secret::MIN_REDACT_LEN` are ignored.
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Self {
        let mut sorted: Vec<Vec<u8>> = patterns
            .into_iter()
            .filter(|p| p.trim().len() >= crate::secret::MIN_REDACT_LEN)
            .map(|p| p.as_bytes().to_vec())
            .collect();
        sorted.sort();
        sorted.dedup();
        let ac = (!sorted.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&sorted)
                .expect("patterns are plain bytes")
        });
        let max_len = sorted.iter().map(Vec::len).max().unwrap_or(0);
        Redactor { ac, sorted, max_len, pending: Vec::new() }
    }

    /// Feed a chunk; returns what can be written now.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let Some(ac) = &self.ac else { return chunk.to_vec() };
        self.pending.extend_from_slice(chunk);
        let hold = self.held_back_from();
        let ready: Vec<u8> = self.pending.drain(..hold).collect();
        // A match that would cross `hold` starts inside the held-back tail, so
        // the ready part holds only whole matches.
        let mut out = Vec::with_capacity(ready.len());
        ac.replace_all_with_bytes(&ready, &mut out, |_, _, dst| {
            dst.extend_from_slice(MASK);
            true
        });
        out
    }

    /// Everything left, at end of stream.
    pub fn finish(&mut self) -> Vec<u8> {
        let rest = std::mem::take(&mut self.pending);
        match &self.ac {
            Some(ac) => ac.replace_all_bytes(&rest, &vec![MASK; self.sorted.len()]),
            None => rest,
        }
    }

    /// The start of the longest tail of `pending` that is a proper prefix of
    /// some pattern (or a whole pattern that a longer one extends).
    fn held_back_from(&self) -> usize {
        let len = self.pending.len();
        let earliest = len.saturating_sub(self.max_len.saturating_sub(1));
        (earliest..len).find(|&start| self.is_prefix_of_pattern(&self.pending[start..])).unwrap_or(len)
    }

    fn is_prefix_of_pattern(&self, tail: &[u8]) -> bool {
        // The first pattern greater than `tail` starts with it, if any longer
        // one does (`tail` itself may be a pattern: `sec` of `secret`).
        let i = self.sorted.partition_point(|p| p.as_slice() <= tail);
        self.sorted.get(i).is_some_and(|p| p.starts_with(tail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(patterns: &[&str], chunks: &[&str]) -> String {
        let mut r = Redactor::new(patterns.iter().copied());
        let mut out = Vec::new();
        for c in chunks {
            out.extend(r.push(c.as_bytes()));
        }
        out.extend(r.finish());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn whole_values_are_replaced() {
        assert_eq!(run(&["hunter2"], &["pw=hunter2\n"]), "pw=***\n");
    }

    #[test]
    fn values_split_across_chunks_are_replaced() {
        let chunks = ["pw=hun", "te", "r2 and hunter2", "!"];
        assert_eq!(run(&["hunter2"], &chunks), "pw=*** and ***!");
        // Byte by byte.
        let text = "a hunter2 b";
        let bytes: Vec<String> = text.chars().map(|c| c.to_string()).collect();
        let refs: Vec<&str> = bytes.iter().map(String::as_str).collect();
        assert_eq!(run(&["hunter2"], &refs), "a *** b");
    }

    #[test]
    fn output_is_not_held_back_needlessly() {
        let mut r = Redactor::new(["secret-value"]);
        assert_eq!(r.push(b"hello world\n"), b"hello world\n");
        assert_eq!(r.push(b"almost secret-val"), b"almost ");
        assert_eq!(r.push(b"ue!"), b"***!");
    }

    #[test]
    fn longest_wins_and_short_patterns_are_ignored() {
        assert_eq!(run(&["abc", "abcdef", "x"], &["abcdef abc x"]), "*** *** x");
    }

    #[test]
    fn no_patterns_passes_through() {
        assert_eq!(run(&[], &["anything"]), "anything");
    }
}
