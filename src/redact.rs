//! The one redaction engine: replaces secret values with `***` in a byte
//! stream as it flows (`escort run`) and in messages (`secret::scrub`).
//!
//! A value may arrive split across reads, so the tail of what was read that
//! could still grow into a value is held back until more bytes decide it;
//! everything before it is written at once. The output is the same as
//! replacing every value in the whole stream at once (leftmost, longest
//! first), however the stream is cut into reads.
//!
//! What to hold back is found without re-checking every tail position: the
//! longest tail that is a proper prefix of a value is where an Aho-Corasick
//! automaton (standard semantics) stands after reading the data, so it is
//! enough to walk the automaton over the few bytes that can start such a
//! prefix. Those are found by searching for the values' first bytes ("heads"),
//! which runs at memory speed on data that holds none.

use crate::wiped::Wiped;
use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::nfa::contiguous;
use aho_corasick::{AhoCorasick, Anchored, Input, MatchKind, Span, StartKind, packed};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub const MASK: &[u8] = b"***";

/// Values shorter than this are not scrubbed from text: replacing every `a`
/// or `on` would destroy messages while protecting nothing.
pub const MIN_REDACT_LEN: usize = 3;

/// Length of the heads searched for to find where a held-back tail may start.
/// Longer heads give fewer false starts; the last `HEAD - 1` bytes of each read
/// are always walked.
const HEAD: usize = 16;

/// Values longer than this are searched for by their first `LONG` bytes and
/// then compared whole: an automaton state per byte of a 64 KB value would
/// make matching it a cache miss per byte.
const LONG: usize = 64;

/// The automata built from a set of values; shared by the redactors of a run.
struct Patterns {
    values: Vec<Wiped<Vec<u8>>>,
    fold_case: bool,
    /// Leftmost-longest search for the values, long ones cut to `LONG` bytes.
    find: Finder,
    /// What each string of `find` stands for.
    found: Vec<Found>,
    /// Standard-semantics automaton whose state after some bytes is their
    /// longest tail that is a prefix of a value.
    walk: contiguous::NFA,
    /// For each state of `walk`, the length of its longest tail that some
    /// value strictly extends: what to hold back when a read ends there.
    depth: HashMap<usize, usize>,
    /// The first `HEAD` bytes of each value, and of each value longer than `LONG`.
    heads: Finder,
    long_heads: Option<Finder>,
    max_len: usize,
}

/// A few strings are found fastest by Teddy (SIMD over their first bytes);
/// many by sampling windows (`Sampled`) if they are long enough, else by an
/// automaton (also with case folded, for which Teddy has no mode).
enum Finder {
    Packed(packed::Searcher),
    Sampled(Box<Sampled>),
    Automaton(AhoCorasick),
}

impl Finder {
    fn new(strings: &[&[u8]], fold_case: bool) -> Self {
        let packed = (!fold_case)
            .then(|| {
                packed::Config::new().match_kind(packed::MatchKind::LeftmostLongest).builder().extend(strings).build()
            })
            .flatten();
        if let Some(searcher) = packed {
            return Finder::Packed(searcher);
        }
        let automaton = |strings: &[&[u8]], anchored| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .ascii_case_insensitive(fold_case)
                .start_kind(if anchored { StartKind::Anchored } else { StartKind::Unanchored })
                .build(strings)
                .expect("values are plain bytes")
        };
        let (long, short): (Vec<&[u8]>, Vec<&[u8]>) = strings.iter().partition(|s| s.len() >= SAMPLED);
        if long.is_empty() {
            return Finder::Automaton(automaton(strings, false));
        }
        let short = (!short.is_empty()).then(|| Finder::new(&short, fold_case));
        Finder::Sampled(Box::new(Sampled::new(&long, automaton(strings, true), short, fold_case)))
    }

    /// The leftmost (then longest) string in `buf` at or after `from`.
    /// `ahead` carries what earlier calls on the same `buf`, from no further
    /// on, found: each call then scans only bytes no call scanned yet.
    fn find(&self, buf: &[u8], from: usize, ahead: &mut Ahead) -> Option<aho_corasick::Match> {
        match self {
            Finder::Packed(s) => s.find_in(buf, Span { start: from, end: buf.len() }),
            Finder::Sampled(s) => s.find(buf, from, ahead),
            Finder::Automaton(ac) => ac.find(Input::new(buf).range(from..)),
        }
    }
}

/// Strings of at least this many bytes can be sampled: one window in every
/// `SAMPLED - GRAM + 1` bytes or more is looked up.
const SAMPLED: usize = 16;
const GRAM: usize = 8;

/// Finds many strings at a fraction of a byte's work per byte of text (an
/// automaton over a thousand strings does a cache miss per byte): a string
/// of `m` bytes or more holds, at one of its first `step = m - GRAM + 1`
/// offsets, the `GRAM`-byte window at each `step`-th position of the text.
/// Those windows are looked up in a bit set of every string's windows at
/// those offsets; a hit is checked against a bit set of the strings' first
/// windows at each position where a string would then start, and only then
/// by an anchored automaton. Strings shorter than `SAMPLED` are found by a
/// finder of their own.
struct Sampled {
    windows: Bits,
    heads: Bits,
    step: usize,
    /// ORed into each window when case is folded: a letter then hashes the
    /// same in either case (other bytes may collide, which only costs a check).
    fold: u64,
    /// Every string, leftmost-longest and anchored: the longest string at a
    /// position (its IDs are the finder's).
    verify: AhoCorasick,
    short: Option<Finder>,
}

/// What a `Sampled` finder's short strings' finder found last on one buffer:
/// nothing yet, or the start of its match (`None`: there is none).
#[derive(Default)]
struct Ahead(Option<Option<usize>>);

impl Sampled {
    fn new(long: &[&[u8]], verify: AhoCorasick, short: Option<Finder>, fold_case: bool) -> Self {
        let fold = if fold_case { u64::from_ne_bytes([0x20; GRAM]) } else { 0 };
        let window = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + GRAM].try_into().expect("GRAM bytes")) | fold;
        let shortest = long.iter().map(|s| s.len()).min().expect("there are long strings");
        let step = shortest - GRAM + 1;
        let mut windows = Bits::new(long.len() * step);
        let mut heads = Bits::new(long.len());
        for s in long {
            heads.insert(window(s, 0));
            (0..step).for_each(|at| windows.insert(window(s, at)));
        }
        Sampled { windows, heads, step, fold, verify, short }
    }

    fn find(&self, buf: &[u8], from: usize, ahead: &mut Ahead) -> Option<aho_corasick::Match> {
        let at = |p: usize| self.verify.find(Input::new(buf).range(p..).anchored(Anchored::Yes));
        let short = self.short.as_ref().and_then(|short| {
            let start = match ahead.0 {
                Some(start) if start.is_none_or(|s| s >= from) => start,
                _ => short.find(buf, from, &mut Ahead::default()).map(|m| m.start()),
            };
            ahead.0 = Some(start);
            start
        });
        // Only strings that start before the short one's start are looked for.
        let last = short.unwrap_or(buf.len());
        let window = |at: usize| u64::from_le_bytes(buf[at..at + GRAM].try_into().expect("GRAM bytes")) | self.fold;
        // A string at `p` is at least `step + GRAM - 1` long: the one sampled
        // position in `p..p + step` reads a window inside it.
        let mut i = from + self.step - 1;
        while i + GRAM <= buf.len() && i + 1 - self.step < last {
            if self.windows.contains(window(i)) {
                for p in i + 1 - self.step..=i.min(last - 1) {
                    if p + GRAM <= buf.len()
                        && self.heads.contains(window(p))
                        && let Some(m) = at(p)
                    {
                        return Some(m);
                    }
                }
            }
            i += self.step;
        }
        // The longest string at the short one's start (which a long one may be).
        short.and_then(at)
    }
}

/// A set of 64-bit windows as a bit per hash: no false negatives, about one
/// false positive in 32 (sized for that), 512 KiB at most.
struct Bits {
    words: Box<[u64]>,
    shift: u32,
}

impl Bits {
    fn new(entries: usize) -> Self {
        let bits = (entries * 32).next_power_of_two().clamp(1 << 12, 1 << 22);
        Bits { words: vec![0; bits / 64].into_boxed_slice(), shift: 64 - bits.trailing_zeros() }
    }

    fn slot(&self, window: u64) -> (usize, u64) {
        // Fibonacci hashing: the top bits of the product mix all the bytes.
        let bit = (window.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize;
        (bit / 64, 1 << (bit % 64))
    }

    fn insert(&mut self, window: u64) {
        let (word, bit) = self.slot(window);
        self.words[word] |= bit;
    }

    fn contains(&self, window: u64) -> bool {
        let (word, bit) = self.slot(window);
        self.words[word] & bit != 0
    }
}

/// A string of `find`: the long values it begins (longest first, indices into
/// `values`), and the length of the longest short value it is or begins with.
struct Found {
    long: Vec<usize>,
    short: Option<usize>,
}

/// A redactor for one stream. No `Debug`: the automata hold the values.
#[derive(Clone)]
pub struct Redactor {
    patterns: Option<Arc<Patterns>>,
    /// Bytes read but not yet written in full: a tail that may grow into a value.
    pending: Wiped<Vec<u8>>,
    /// How many bytes at the start of `pending` were already written by an idle
    /// flush (kept only so that a value they begin is still masked).
    shown: usize,
}

impl Redactor {
    /// `values` shorter than `MIN_REDACT_LEN` (after trimming) are
    /// ignored. With `fold_case`, values match whatever their ASCII case.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a [u8]>, fold_case: bool) -> Self {
        let mut values: Vec<Wiped<Vec<u8>>> = values
            .into_iter()
            .filter(|v| v.trim_ascii().len() >= MIN_REDACT_LEN)
            .map(|v| Wiped::new(v.to_vec()))
            .collect();
        values.sort_by(|a, b| a.as_slice().cmp(b));
        values.dedup_by(|a, b| a.as_slice() == b.as_slice());
        let patterns = (!values.is_empty()).then(|| Arc::new(Patterns::new(values, fold_case)));
        Redactor { patterns, pending: Wiped::new(Vec::new()), shown: 0 }
    }

    /// Feed a chunk; appends to `out` what can be written now.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let Some(p) = self.patterns.clone() else {
            out.extend_from_slice(chunk);
            return;
        };
        // The held-back tail is decided by at most a value's length of what
        // follows: only that much of the chunk is copied to join it, and the
        // rest is read where it is (a copy of every byte cost a tenth of the
        // relay's time).
        let join = if self.pending.is_empty() { 0 } else { p.max_len.min(chunk.len()) };
        let mut from = join;
        if join > 0 {
            self.pending.extend_from_slice(&chunk[..join]);
            let done = settle(&p, &self.pending, self.shown, out);
            self.drain(done);
            if join == chunk.len() {
                return;
            }
            // What is still held is the chunk's (a value is no longer than
            // `join`, so the old tail is decided): read it where it is.
            from = join - self.pending.len();
            self.drain(self.pending.len());
        }
        let done = from + settle(&p, &chunk[from..], 0, out);
        self.pending.extend_from_slice(&chunk[done..]);
    }

    /// Whether bytes are held back that an idle flush would write: none
    /// once a piece of the held tail was shown (see `flush_idle`).
    pub fn is_holding(&self) -> bool {
        self.shown == 0 && !self.pending.is_empty()
    }

    /// No more bytes came for a while: write what is held back (its whole
    /// values masked), but keep it to mask a value it begins if the rest comes.
    /// Once a piece was shown so, what continues it stays held until the value
    /// is complete (masked) or the output stops matching it: a value written a
    /// character at a time, slowly, shows its first piece only (docs/run.md).
    pub fn flush_idle(&mut self, out: &mut Vec<u8>) {
        if self.shown > 0 {
            return;
        }
        if let Some(p) = self.patterns.clone() {
            write_out(&p, &self.pending, self.shown, self.pending.len(), out);
            self.shown = self.pending.len();
        }
    }

    /// End of stream: write everything left.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if let Some(p) = self.patterns.clone() {
            let all = write_out(&p, &self.pending, self.shown, self.pending.len(), out);
            self.drain(all);
        }
    }

    /// `text` with every value masked.
    pub fn redact_all(&self, text: &[u8]) -> Vec<u8> {
        if self.patterns.is_none() {
            return text.to_vec();
        }
        let mut r = Redactor { patterns: self.patterns.clone(), pending: Wiped::new(text.to_vec()), shown: 0 };
        let mut out = Vec::with_capacity(text.len());
        r.finish(&mut out);
        out
    }

    /// Whether `text` holds any value.
    pub fn finds_any(&self, text: &[u8]) -> bool {
        self.patterns.as_ref().is_some_and(|p| p.next_match(text, 0, &mut Ahead::default()).is_some())
    }

    fn drain(&mut self, n: usize) {
        // Move the (short) rest to the front; the freed bytes are overwritten
        // or zeroed with `pending` on drop.
        self.pending.copy_within(n.., 0);
        let rest = self.pending.len() - n;
        self.pending.truncate(rest);
        self.shown = self.shown.saturating_sub(n);
    }
}

/// Write what `buf` decides, its values masked, skipping the first `shown`
/// bytes (written by an idle flush); returns where the undecided tail begins.
fn settle(p: &Patterns, buf: &[u8], shown: usize, out: &mut Vec<u8>) -> usize {
    let mut at = 0;
    loop {
        let rest = &buf[at..];
        let hold = p.held_from(rest);
        let done = write_out(p, rest, shown.saturating_sub(at), hold, out);
        at += done;
        // A value that started before the held-back tail and ended inside it
        // was written whole; what follows it needs a new look.
        if done <= hold || at == buf.len() {
            return at;
        }
    }
}

/// Write `buf` up to `hold` with its values masked, skipping its first
/// `shown` bytes. A value may start before `hold` and end after it; returns
/// where the written part ends.
fn write_out(p: &Patterns, buf: &[u8], shown: usize, hold: usize, out: &mut Vec<u8>) -> usize {
    let copy = |from: usize, to: usize, out: &mut Vec<u8>| {
        let from = from.max(shown);
        if to > from {
            out.extend_from_slice(&buf[from..to]);
        }
    };
    let (mut at, mut ahead) = (0, Ahead::default());
    // Values that start before `hold` are decided: none can grow past the
    // end of `buf`, or `hold` would be at or before their start.
    while let Some((start, end)) = p.next_match(buf, at, &mut ahead).filter(|&(start, _)| start < hold) {
        copy(at, start, out);
        if end > shown {
            out.extend_from_slice(MASK);
        }
        at = end;
    }
    if at < hold {
        copy(at, hold, out);
        at = hold;
    }
    at
}

impl Patterns {
    fn new(values: Vec<Wiped<Vec<u8>>>, fold_case: bool) -> Self {
        let keys: Vec<Wiped<Vec<u8>>> =
            values.iter().map(|v| Wiped::new(if fold_case { v.to_ascii_lowercase() } else { v.to_vec() })).collect();
        // The strings to search for, each with what it stands for.
        let mut strings: HashMap<&[u8], Found> = HashMap::new();
        for (i, k) in keys.iter().enumerate() {
            let found = strings.entry(&k[..k.len().min(LONG)]).or_insert(Found { long: Vec::new(), short: None });
            if k.len() > LONG {
                found.long.push(i);
            }
        }
        let shorts: HashSet<&[u8]> = keys.iter().filter(|k| k.len() <= LONG).map(|k| k.as_slice()).collect();
        let mut strings: Vec<(&[u8], Found)> = strings.into_iter().collect();
        for (string, found) in &mut strings {
            found.long.sort_by_key(|&i| std::cmp::Reverse(values[i].len()));
            // A long value's head may fail to verify while a short value that
            // begins it still matches.
            found.short = (1..=string.len()).rev().find(|&n| shorts.contains(&string[..n]));
        }
        let find = Finder::new(&strings.iter().map(|(string, _)| *string).collect::<Vec<_>>(), fold_case);
        let found = strings.into_iter().map(|(_, found)| found).collect();
        let walk = contiguous::NFA::builder()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(fold_case)
            .build(values.iter().map(|v| v.as_slice()))
            .expect("values are plain bytes");
        // Reading a prefix of a value from the start leads to the state of that
        // prefix (it is its own longest tail that is a prefix of a value).
        let mut depth = HashMap::new();
        let start = walk.start_state(Anchored::No).expect("unanchored searches are supported");
        let run =
            |from: StateID, bytes: &[u8]| bytes.iter().fold(from, |sid, &b| walk.next_state(Anchored::No, sid, b));
        for v in &values {
            let mut sid = start;
            for (i, &b) in v.iter().enumerate() {
                depth.insert(sid.as_usize(), i);
                sid = walk.next_state(Anchored::No, sid, b);
            }
        }
        // A whole value that no value extends waits for nothing, but its longest
        // proper tail that is a state (read from the start) tells what may.
        // Shorter values first: that tail is a shorter value's state or a prefix.
        let mut by_len: Vec<&[u8]> = values.iter().map(|v| v.as_slice()).collect();
        by_len.sort_by_key(|v| v.len());
        for v in by_len {
            let whole = run(start, v).as_usize();
            if !depth.contains_key(&whole) {
                let d = depth.get(&run(start, &v[1..]).as_usize()).copied().unwrap_or(0);
                depth.insert(whole, d);
            }
        }
        let heads_of = |long: bool| {
            let mut heads: Vec<&[u8]> =
                values.iter().filter(|v| !long || v.len() > LONG).map(|v| &v[..v.len().min(HEAD)]).collect();
            heads.sort();
            heads.dedup();
            (!heads.is_empty()).then(|| Finder::new(&heads, fold_case))
        };
        let heads = heads_of(false).expect("there are values");
        let long_heads = heads_of(true);
        let max_len = values.iter().map(|v| v.len()).max().unwrap_or(0);
        Patterns { values, fold_case, find, found, walk, depth, heads, long_heads, max_len }
    }

    /// The first value in `buf` at or after `from` (leftmost, then longest).
    fn next_match(&self, buf: &[u8], mut from: usize, ahead: &mut Ahead) -> Option<(usize, usize)> {
        while from <= buf.len() {
            let m = self.find.find(buf, from, ahead)?;
            let found = &self.found[m.pattern().as_usize()];
            let rest = &buf[m.start()..];
            let long = found.long.iter().map(|&i| self.values[i].as_slice()).find(|v| {
                rest.len() >= v.len()
                    && if self.fold_case { rest[..v.len()].eq_ignore_ascii_case(v) } else { rest[..v.len()] == **v }
            });
            match long.map(<[u8]>::len).or(found.short) {
                Some(len) => return Some((m.start(), m.start() + len)),
                // Nothing starts here after all: look from the next byte.
                None => from = m.start() + 1,
            }
        }
        None
    }

    /// The start of the longest tail of `buf` that some value strictly extends.
    fn held_from(&self, buf: &[u8]) -> usize {
        let len = buf.len();
        let window = len.saturating_sub(self.max_len - 1);
        // A tail of `HEAD` bytes or more that a value extends begins with that
        // value's head; a shorter one lies in the last `HEAD - 1` bytes. One of
        // `LONG` bytes or more can only begin a long value.
        let short = len.saturating_sub(HEAD - 1).max(window);
        let medium = len.saturating_sub(LONG - 1).max(window);
        let long = self.long_heads.as_ref().and_then(|h| h.find(buf, window, &mut Ahead::default())).map(|m| m.start());
        let any = self.heads.find(buf, medium, &mut Ahead::default()).map(|m| m.start());
        let from = [long, any].into_iter().flatten().fold(short, usize::min);
        let mut sid = self.walk.start_state(Anchored::No).expect("unanchored searches are supported");
        for &b in &buf[from..] {
            sid = self.walk.next_state(Anchored::No, sid, b);
        }
        len - self.depth.get(&sid.as_usize()).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(values: &[&str]) -> Redactor {
        Redactor::new(values.iter().map(|v| v.as_bytes()), false)
    }

    fn push(r: &mut Redactor, chunk: &str) -> String {
        let mut out = Vec::new();
        r.push(chunk.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    fn run(values: &[&str], chunks: &[&str]) -> String {
        run_with(redactor(values), chunks)
    }

    fn run_with(mut r: Redactor, chunks: &[&str]) -> String {
        let mut out: String = chunks.iter().map(|c| push(&mut r, c)).collect();
        let mut rest = Vec::new();
        r.finish(&mut rest);
        out.push_str(std::str::from_utf8(&rest).unwrap());
        out
    }

    #[test]
    fn after_an_idle_flush_the_rest_of_a_match_stays_hidden_until_it_breaks() {
        let mut r = Redactor::new([b"abcdef".as_slice()], false);
        let mut out = Vec::new();
        for piece in [b"xab".as_slice(), b"c", b"d"] {
            r.push(piece, &mut out);
            r.flush_idle(&mut out);
        }
        assert_eq!(out, b"xab", "only the first piece shows");
        assert!(!r.is_holding(), "nothing more to flush on idle");
        r.push(b"ef!", &mut out);
        r.finish(&mut out);
        assert!(!String::from_utf8_lossy(&out).contains("cd"), "{out:?}");
        assert!(out.ends_with(b"!"));
        // A continuation that breaks the match is shown, as soon as it does.
        let (mut r, mut out) = (Redactor::new([b"abcdef".as_slice()], false), Vec::new());
        r.push(b"ab", &mut out);
        r.flush_idle(&mut out);
        r.push(b"cX", &mut out);
        assert_eq!(out, b"abcX");
    }

    #[test]
    fn whole_values_are_replaced() {
        assert_eq!(run(&["hunter2"], &["pw=hunter2\n"]), "pw=***\n");
    }

    #[test]
    fn values_split_across_chunks_are_replaced() {
        let chunks = ["pw=hun", "te", "r2 and hunter2", "!"];
        assert_eq!(run(&["hunter2"], &chunks), "pw=*** and ***!");
        let text = "a hunter2 b";
        let bytes: Vec<String> = text.chars().map(|c| c.to_string()).collect();
        let refs: Vec<&str> = bytes.iter().map(String::as_str).collect();
        assert_eq!(run(&["hunter2"], &refs), "a *** b");
    }

    #[test]
    fn output_is_not_held_back_needlessly() {
        let mut r = redactor(&["secret-value"]);
        assert_eq!(push(&mut r, "hello world\n"), "hello world\n");
        assert_eq!(push(&mut r, "almost secret-val"), "almost ");
        assert_eq!(push(&mut r, "ue!"), "***!");
        // A whole value that nothing extends is written at once.
        assert_eq!(push(&mut r, "secret-value"), "***");
    }

    #[test]
    fn longest_wins_and_short_values_are_ignored() {
        assert_eq!(run(&["abc", "abcdef", "x"], &["abcdef abc x"]), "*** *** x");
    }

    #[test]
    fn no_values_pass_through() {
        assert_eq!(run(&[], &["anything"]), "anything");
    }

    #[test]
    fn f01_a_value_that_a_longer_one_extends_is_held_back() {
        let values = ["abcXYZsecret1", "abcXYZsecret1-long-tail-SECRET2"];
        let mut r = redactor(&values);
        assert_eq!(push(&mut r, "abcXYZsecret1"), "");
        assert_eq!(push(&mut r, "-long-tail-SECRET2\n"), "***\n");
        // Other patterns between the tail and the longer value (the old binary
        // search only looked at the first value not less than the tail).
        let values = ["abcXYZ-a", "abcXYZsecret1", "abcXYZsecret1-long-tail-SECRET2", "abcXYZsecret1-m"];
        assert_eq!(run(&values, &["x abcXYZsecret1", "-long-tail-SECRET2 y"]), "x *** y");
    }

    #[test]
    fn a_value_ending_inside_the_held_tail_is_written_whole() {
        // "defg" is held for "defgh", but "abcdef" started earlier and is complete.
        assert_eq!(run(&["abcdef", "defgh"], &["xxabcdefg", "!"]), "xx***g!");
        let mut r = redactor(&["abc", "bcd"]);
        assert_eq!(push(&mut r, "xab"), "x");
        assert_eq!(push(&mut r, "c"), "***");
        assert_eq!(push(&mut r, "d"), "d");
    }

    #[test]
    fn an_idle_flush_shows_a_prompt_and_still_masks_the_rest_of_a_value() {
        let mut r = redactor(&["Password: hunter2"]);
        assert_eq!(push(&mut r, "Password: "), "");
        assert!(r.is_holding());
        let mut out = Vec::new();
        r.flush_idle(&mut out);
        assert_eq!(out, b"Password: ");
        assert!(!r.is_holding());
        assert_eq!(push(&mut r, "hunter2 ok"), "*** ok");
        // Whole values in the flushed tail are masked, and so is the rest of a
        // longer value that they begin.
        let mut r = redactor(&["abcXYZsecret1", "abcXYZsecret1-long-tail-SECRET2"]);
        assert_eq!(push(&mut r, "abcXYZsecret1"), "");
        let mut out = Vec::new();
        r.flush_idle(&mut out);
        assert_eq!(out, b"***");
        assert_eq!(push(&mut r, "-long-tail-SECRET2!"), "***!");
    }

    #[test]
    fn case_folding_matches_any_ascii_case() {
        let r = Redactor::new([b"Tok-Canary".as_slice()], true);
        assert_eq!(r.redact_all(b"a TOK-CANARY b tok-canary"), b"a *** b ***");
        assert!(r.finds_any(b"xtok-canaryx") && !r.finds_any(b"tok-canar"));
    }

    /// The same output as one replacement over the whole text, however the
    /// text is cut (a small deterministic fuzz).
    #[test]
    fn output_does_not_depend_on_how_the_stream_is_cut() {
        let short = ["aab", "aabaac", "abaa", "baaab", "cab", "aaaaaaaaaaaaaaaaaaab", "aaaaaaaaaaaaaaaaaaa"];
        cut_anyhow(&short.map(String::from), 60);
        // Values longer than `LONG`, found by their head and compared whole,
        // with short values that begin them.
        let long = [format!("{}b", "a".repeat(70)), format!("{}c", "a".repeat(65)), "a".repeat(64), "a".repeat(40)];
        cut_anyhow(&long, 200);
        // More strings than Teddy takes: long ones sampled, short ones apart.
        let mut seed = 7u32;
        let many: Vec<String> = (0..100)
            .map(|i| {
                let len = [3, 5, 15, 16, 17, 24, 40, 63, 64, 70][i % 10];
                (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                        ["a", "b", "c", "x"][(seed >> 16) as usize % 4]
                    })
                    .collect()
            })
            .collect();
        let r = redactor(&many.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(matches!(r.patterns.as_ref().unwrap().find, Finder::Sampled(_)));
        cut_anyhow(&many, 300);
    }

    /// The plain definition: at each position, the longest value there.
    fn leftmost_longest(values: &[&str], text: &str) -> String {
        let (mut out, mut i) = (String::new(), 0);
        while i < text.len() {
            match values.iter().filter(|v| v.len() >= 3 && text[i..].starts_with(**v)).map(|v| v.len()).max() {
                Some(n) => (out.push_str("***"), i += n),
                None => (out.push_str(&text[i..i + 1]), i += 1),
            };
        }
        out
    }

    fn cut_anyhow(values: &[String], max_len: u64) {
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let r = redactor(&values);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..2000 {
            let mut text = String::new();
            while (text.len() as u64) < max_len / 2 + next(max_len / 2) {
                // Runs of `a`, so that long values occur, and values cut short.
                match next(10) {
                    0 => text.push_str(&"a".repeat(next(80) as usize)),
                    1 => {
                        let v = values[next(values.len() as u64) as usize];
                        text.push_str(&v[..1 + next(v.len() as u64) as usize]);
                    }
                    n => text.push_str(["a", "b", "c", "x"][n as usize % 4]),
                }
            }
            let whole = run_with(r.clone(), &[&text]);
            assert_eq!(whole, leftmost_longest(&values, &text), "{text:?}");
            let mut chunks = Vec::new();
            let mut at = 0;
            while at < text.len() {
                // Short reads, and reads longer than the longest value.
                let longest = if next(2) == 0 { 8 } else { 160 };
                let n = (1 + next(longest) as usize).min(text.len() - at);
                chunks.push(&text[at..at + n]);
                at += n;
            }
            assert_eq!(run_with(r.clone(), &chunks), whole, "{text:?} in {chunks:?}");
            for v in &values {
                assert!(!whole.contains(v), "{v} in {whole:?} from {text:?}");
            }
        }
    }
}
