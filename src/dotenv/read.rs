//! Reading a .env file with dotenvy's iterator: the process environment is
//! never changed.
//!
//! dotenvy's parse errors quote the offending line, which may hold a value,
//! so they are never shown; escort names the file and line instead. dotenvy
//! does not count lines, so it is fed one physical line per read and the
//! reader counts them.

use crate::secret::Secret;
use crate::swar;
use crate::wiped::Wiped;
use anyhow::Result;
use std::cell::Cell;
use std::collections::HashMap;

use std::io::Read;
use std::path::Path;

/// `NAME=value` entries in file order.
pub type Entries = Vec<(String, Secret)>;

pub use crate::error::Malformed;

/// Every `NAME=value` entry of a .env file, in file order. A name given twice
/// keeps its first place and its last value, as python-dotenv does.
pub fn read(path: &Path) -> Result<Entries> {
    parse(path, &crate::files::read_bounded(path, "")?)
}

/// `read` on bytes already in memory; `path` only names them in errors.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Entries> {
    parse_marking(path, bytes, LONG_RUN)
}

/// `parse`, with stretches of at least `long_run` bytes marked (`Marked`).
fn parse_marking(path: &Path, bytes: &[u8], long_run: usize) -> Result<Entries> {
    let malformed = |line: usize, what: String| anyhow::Error::new(Malformed { path: path.to_path_buf(), line, what });
    let text = std::str::from_utf8(bytes).map_err(|e| {
        malformed(super::lines::line_at(bytes, e.valid_up_to()), "not valid UTF-8 (save the file as UTF-8)".to_string())
    })?;
    // dotenvy skips a byte order mark only when it loads into the environment.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    let lines = Cell::new(0);
    let mut out: Entries = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let values = Cell::new((0, 0));
    // Without a `$`, dotenvy substitutes nothing: a stretch it copies as it
    // is means the same wherever it is, and so does a marker.
    let marked = if text.len() >= long_run && !text.contains('$') && !text.contains(MARK) {
        Marked::new(text, long_run)
    } else {
        None
    };
    let (feed, runs, hidden) = match &marked {
        Some(m) => (&m.text[..], &m.runs[..], &m.hidden[..]),
        None => (text.as_bytes(), &[][..], &[][..]),
    };
    let restore = |text: String| if runs.is_empty() { text } else { unmark(&Wiped::new(text), runs) };
    let reader = LineByLine::new(feed, &lines, &values, substitution_budget(text), hidden);
    for item in dotenvy::from_read_iter(reader) {
        match item {
            Ok((name, value)) => {
                let value = Secret::new(restore(value));
                let (total, largest) = values.get();
                values.set((total + value.len(), largest.max(value.len())));
                match seen.get(&name) {
                    Some(&i) => out[i].1 = value,
                    None => {
                        seen.insert(name.clone(), out.len());
                        out.push((name, value));
                    }
                }
            }
            Err(dotenvy::Error::LineParse(entry, _)) => {
                // Its newlines count lines: with the stretches markers hid.
                let entry = Wiped::new(restore(entry));
                // The entry ends on the last line read; a quoted value can
                // make it span several. A final newline ends it, not a line.
                let end = lines.get().max(1);
                let body = entry.strip_suffix('\n').unwrap_or(&entry);
                let start = end.saturating_sub(body.matches('\n').count()).max(1);
                // dotenvy's text is the line or only its value: look at the lines themselves.
                let cause = diagnose(lines_of(text, start, end), start);
                return Err(if start == end {
                    malformed(start, format!("not a valid `NAME=value` line: {cause}"))
                } else {
                    malformed(start, format!("the entry on lines {start}-{end} is not valid: {cause}"))
                });
            }
            Err(dotenvy::Error::Io(e)) if e.get_ref().is_some_and(|e| e.is::<TooLarge>()) => {
                let what = format!(
                    "its `$` substitutions would make the values larger than {} MiB (write `\\$` or use \
                     single quotes for a literal `$`)",
                    MAX_SUBSTITUTED >> 20
                );
                return Err(malformed(lines.get() + 1, what));
            }
            // Reading from memory, this can only be dotenvy's own I/O error,
            // whose text never holds the file's content.
            Err(e) => return Err(anyhow::Error::new(e).context(format!("could not read {}", path.display()))),
        }
    }
    Ok(out)
}

/// Lines `start` to `end` (from 1) of `text`: a slice, so no copy of a value is made.
fn lines_of(text: &str, start: usize, end: usize) -> &str {
    let newlines = || text.match_indices('\n').map(|(i, _)| i);
    let from = if start <= 1 { 0 } else { newlines().nth(start - 2).map_or(text.len(), |i| i + 1) };
    let to = newlines().nth(end - 1).unwrap_or(text.len());
    &text[from.min(to)..to]
}

/// What is wrong with an entry dotenvy refused, said without quoting it (it
/// may hold a value): the most common mistakes by name, and what to write.
/// `start` is the entry's first line.
fn diagnose(entry: &str, start: usize) -> String {
    let line = entry.trim_start();
    let line = line.strip_prefix("export").filter(|l| l.starts_with([' ', '\t'])).map_or(line, str::trim_start);
    let Some((name, value)) = line.split_once('=') else {
        return "it has no `=` (write NAME=value, or start a comment with #)".to_string();
    };
    let name = name.trim_end();
    if name.is_empty() {
        return "it has no name before the `=`".to_string();
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.')) {
        let c = if c == '-' { "a `-`".to_string() } else { format!("{:?}", c.to_string()).replace('"', "`") };
        return format!("the name has {c}: a name is letters, digits, `_` and `.` (use `_` instead)");
    }
    let value = value.trim_start_matches([' ', '\t']);
    if let Some(quote) = value.chars().next().filter(|c| matches!(c, '\'' | '"')) {
        let closed = value[1..].find(quote);
        return match closed {
            None => format!("the {quote} quote opened on line {start} is not closed"),
            Some(_) => format!(
                "text follows the closing {quote} quote (put the whole value inside the quotes, or start a comment with ` #`)"
            ),
        };
    }
    if value.contains('\\') {
        return "an unquoted backslash: quote the value (single quotes keep it as it is)".to_string();
    }
    if value.trim_end().contains([' ', '\t']) {
        return "an unquoted space in the value: quote it (NAME=\"two words\")".to_string();
    }
    "check its quotes, spaces and backslashes".to_string()
}

/// How large the values of a file that uses `$` substitution may grow (or 4x
/// the file, if larger): a few lines of `A=$A$A` would otherwise exhaust memory.
const MAX_SUBSTITUTED: usize = 64 << 20;

/// How large the values may grow: unbounded for a file in which dotenvy
/// substitutes nothing (escort's own files), else `MAX_SUBSTITUTED`. The
/// reader then counts every `$` of a line, quoted or not: an overestimate
/// that only files using substitution can meet.
fn substitution_budget(text: &str) -> usize {
    match substitution_line(text) {
        None => usize::MAX,
        Some(_) => MAX_SUBSTITUTED.max(text.len().saturating_mul(4)),
    }
}

/// dotenvy reads a value about 40 times slower than memory (char by char,
/// twice): a 20 MiB value took most of a second. Stretches of at least this
/// many bytes that it would copy into a value as they are (`verbatim`) are
/// handed to it as a short marker instead, and put back in the values it
/// returns.
const LONG_RUN: usize = 4096;

/// A marker is `MARK`, the stretch's index and `MARK_END`: Unicode
/// noncharacters, which dotenvy treats like any plain character (nothing is
/// substituted). Only files that do not hold `MARK` are marked.
const MARK: char = '\u{FDD0}';
const MARK_END: char = '\u{FDD1}';

/// How many bytes `bytes` begins with are plain, eight at a time (a byte
/// loop cost a tenth of the whole read of a 20 MiB value).
fn plain_run(bytes: &[u8]) -> usize {
    swar::run(bytes, 0, |w| {
        // Below 0x21, beyond ASCII, DEL, or one of the five.
        [b'\'', b'"', b'\\', b'#', b'$', 0x7F]
            .iter()
            .fold(swar::below(w, 0x21) | swar::non_ascii(w), |any, &b| any | swar::eq(w, b))
    })
}

/// The state of dotenvy 0.15's line reader (`QuotedLines`), which reads lines
/// into an entry until the quotes it follows are closed.
#[derive(Clone, Copy, PartialEq)]
enum Quotes {
    Complete,
    WhiteSpace,
    Escape,
    Strong,
    StrongEscape,
    Weak,
    WeakEscape,
}

/// The stretches of `text` (which holds no `$`) at least `long_run` long that
/// dotenvy copies into a value byte for byte, found by following its line
/// reader entry by entry (the byte-by-byte work is only at the bytes that
/// change its state). Two kinds, each checked against dotenvy itself by
/// `marking_long_runs_changes_nothing`:
/// - a run of plain bytes (`plain_run`) outside quotes, past the key (the
///   entry's first `=`) and not just after a backslash: dotenvy's value
///   parser copies plain bytes as they are, quoted or not, and a parser that
///   has already failed (a space then more text) fails on a marker too;
/// - inside quotes, everything up to the closing quote or a backslash,
///   newlines and spaces included (a PEM in double quotes), when the entry has
///   no backslash before it: without one, the value parser's quotes are the
///   line reader's, or the parser has already failed or stopped at a comment.
fn verbatim(text: &str, long_run: usize) -> Vec<std::ops::Range<usize>> {
    let b = text.as_bytes();
    let line_end = |at: usize| memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |n| at + n + 1);
    let mut found = Vec::new();
    let mut entry = 0;
    'entries: while entry < b.len() {
        let first_end = line_end(entry);
        // dotenvy skips an entry whose first line is a comment whole.
        if text[entry..first_end].trim_start().starts_with('#') {
            entry = first_end;
            continue;
        }
        let key_end = memchr::memchr(b'=', &b[entry..first_end]).map_or(first_end, |n| entry + n + 1);
        let (mut state, mut at, mut clean) = (Quotes::Complete, entry, true);
        while at < b.len() {
            match state {
                Quotes::Weak | Quotes::Strong => {
                    let quote = if state == Quotes::Weak { b'"' } else { b'\'' };
                    // A quote left open fails the entry: nothing to mark.
                    let Some(stop) = memchr::memchr2(quote, b'\\', &b[at..]).map(|n| at + n) else { break 'entries };
                    if clean && stop - at >= long_run {
                        found.push(at..stop);
                    }
                    let c = b[stop];
                    state = match (c, state) {
                        (b'\\', Quotes::Weak) => Quotes::WeakEscape,
                        (b'\\', _) => Quotes::StrongEscape,
                        _ => Quotes::Complete,
                    };
                    clean &= c != b'\\';
                    at = stop + 1;
                }
                Quotes::Escape | Quotes::StrongEscape | Quotes::WeakEscape => {
                    let c = text[at..].chars().next().expect("at < len, on a char boundary");
                    at += c.len_utf8();
                    state = match state {
                        Quotes::StrongEscape => Quotes::Strong,
                        Quotes::WeakEscape => Quotes::Weak,
                        _ if c == '\n' => {
                            entry = at;
                            continue 'entries;
                        }
                        _ => Quotes::Complete,
                    };
                }
                Quotes::Complete | Quotes::WhiteSpace => {
                    let run = plain_run(&b[at..]);
                    if run > 0 {
                        let start = at.max(key_end);
                        if at + run >= start + long_run && b[start - 1] != b'\\' {
                            found.push(start..at + run);
                        }
                        at += run;
                        state = Quotes::Complete;
                        continue;
                    }
                    let c = text[at..].chars().next().expect("at < len, on a char boundary");
                    at += c.len_utf8();
                    state = match (state, c) {
                        // The line ends with its quotes closed: so does the entry.
                        (_, '\n') => {
                            entry = at;
                            continue 'entries;
                        }
                        // A comment: the rest of the line is dropped, the entry ends.
                        (Quotes::WhiteSpace, '#') => {
                            entry = line_end(at);
                            continue 'entries;
                        }
                        (_, '\\') => {
                            clean = false;
                            Quotes::Escape
                        }
                        (_, '"') => Quotes::Weak,
                        (_, '\'') => Quotes::Strong,
                        (Quotes::Complete, c) if c.is_whitespace() && c != '\r' => Quotes::WhiteSpace,
                        _ => Quotes::Complete,
                    };
                }
            }
        }
        break;
    }
    found
}

/// A text with its long verbatim stretches (`verbatim`) replaced by markers.
struct Marked<'a> {
    text: Wiped<Vec<u8>>,
    /// What each marker stands for, by its index.
    runs: Vec<&'a str>,
    /// Where each marker that hides newlines ends in `text`, and how many it
    /// hides: the reader counts lines as they were.
    hidden: Vec<(usize, usize)>,
}

impl<'a> Marked<'a> {
    /// `None` when there is nothing long enough to mark.
    fn new(text: &'a str, long_run: usize) -> Option<Self> {
        let found = verbatim(text, long_run);
        if found.is_empty() {
            return None;
        }
        let markers: Vec<String> = (0..found.len()).map(|n| format!("{MARK}{n}{MARK_END}")).collect();
        let size = text.len() - found.iter().map(ExactSizeIterator::len).sum::<usize>()
            + markers.iter().map(String::len).sum::<usize>();
        let mut marked = Marked { text: Wiped::new(Vec::with_capacity(size)), runs: Vec::new(), hidden: Vec::new() };
        let mut copied = 0;
        for (stretch, marker) in found.into_iter().zip(&markers) {
            marked.text.extend_from_slice(&text.as_bytes()[copied..stretch.start]);
            marked.text.extend_from_slice(marker.as_bytes());
            let newlines = memchr::memchr_iter(b'\n', &text.as_bytes()[stretch.clone()]).count();
            if newlines > 0 {
                marked.hidden.push((marked.text.len(), newlines));
            }
            copied = stretch.end;
            marked.runs.push(&text[stretch]);
        }
        marked.text.extend_from_slice(&text.as_bytes()[copied..]);
        Some(marked)
    }
}

/// `value` with its markers replaced by the runs they stand for.
fn unmark(value: &str, runs: &[&str]) -> String {
    let mut parts = value.split(MARK);
    let first = parts.next().unwrap_or_default();
    let mut pieces = vec![first];
    for part in parts {
        let (index, rest) = part.split_once(MARK_END).expect("a marker ends");
        pieces.push(runs[index.parse::<usize>().expect("a marker holds an index")]);
        pieces.push(rest);
    }
    // Sized once: a growing string would leave copies of the value behind.
    let mut out = String::with_capacity(pieces.iter().map(|p| p.len()).sum());
    pieces.into_iter().for_each(|p| out.push_str(p));
    out
}

/// A line refused by `LineByLine`: its substitutions could pass the budget.
#[derive(Debug)]
struct TooLarge;

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("substitutions too large")
    }
}

impl std::error::Error for TooLarge {}

/// Hands out at most one line per `read`, counting the lines whose end it has
/// handed out. dotenvy's `BufReader` reads only when its buffer is empty, so
/// when an entry fails, the count is the line the entry ends on.
struct LineByLine<'a> {
    rest: &'a [u8],
    /// How much of the text was handed out.
    at: usize,
    /// What the values read so far add up to, and the largest: dotenvy
    /// substitutes `$NAME` from them, and a line may refer to one many times.
    values: &'a Cell<(usize, usize)>,
    /// Beyond this many bytes of values, a line with a `$` is not handed out:
    /// `A=$A$A` on each line would double the values each time.
    budget: usize,
    /// Bytes of `rest` up to and including the current line's end: found once
    /// per line, so a long line handed out in many reads is scanned once.
    line_left: usize,
    lines: &'a Cell<usize>,
    /// Bytes examined looking for line ends: the reader's work, which tests
    /// check is linear in the input.
    scanned: usize,
    /// The markers still ahead that hide newlines (`Marked::hidden`).
    hidden: &'a [(usize, usize)],
}

impl<'a> LineByLine<'a> {
    /// `budget`: see `substitution_budget`.
    fn new(
        text: &'a [u8],
        lines: &'a Cell<usize>,
        values: &'a Cell<(usize, usize)>,
        budget: usize,
        hidden: &'a [(usize, usize)],
    ) -> Self {
        LineByLine { rest: text, at: 0, values, budget, line_left: 0, lines, scanned: 0, hidden }
    }
}

impl Read for LineByLine<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.rest.is_empty() {
            return Ok(0);
        }
        if self.line_left == 0 {
            let end = memchr::memchr(b'\n', self.rest);
            self.line_left = end.map_or(self.rest.len(), |i| i + 1);
            self.scanned += self.line_left;
            let refs = memchr::memchr_iter(b'$', &self.rest[..self.line_left]).count();
            let (total, largest) = self.values.get();
            if refs > 0 && total.saturating_add(refs.saturating_mul(largest)) > self.budget {
                return Err(std::io::Error::other(TooLarge));
            }
        }
        let n = self.line_left.min(buf.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        self.at += n;
        self.line_left -= n;
        if self.line_left == 0 {
            let mut lines = self.lines.get() + 1;
            while let Some((&(_, newlines), ahead)) = self.hidden.split_first().filter(|(h, _)| h.0 <= self.at) {
                lines += newlines;
                self.hidden = ahead;
            }
            self.lines.set(lines);
        }
        Ok(n)
    }
}

/// The line of the first `$` that dotenvy would substitute (outside single
/// quotes and not after a backslash), in text dotenvy has read without error.
/// Mirrors dotenvy 0.15's parser: comment lines, `KEY=`, then its value
/// states; an unquoted space ends a value (what follows is a comment).
pub fn substitution_line(text: &str) -> Option<usize> {
    if !text.contains('$') {
        return None;
    }
    #[derive(Clone, Copy, PartialEq)]
    enum At {
        LineStart,
        Comment,
        Key,
        ValueStart,
        Value,
        Single,
        Double,
        Escaped { in_double: bool },
        Rest,
    }
    let mut at = At::LineStart;
    let mut line = 1;
    for c in text.chars() {
        at = match (at, c) {
            (At::ValueStart | At::Value | At::Double, '$') => return Some(line),
            (At::LineStart, c) if c.is_whitespace() => At::LineStart,
            (At::LineStart | At::ValueStart, '#') => At::Comment,
            (At::LineStart, _) => At::Key,
            (At::Key, '=') => At::ValueStart,
            (At::ValueStart, ' ' | '\t') => At::ValueStart,
            (At::ValueStart | At::Value, '\'') => At::Single,
            (At::ValueStart | At::Value, '"') => At::Double,
            (At::ValueStart | At::Value, '\\') => At::Escaped { in_double: false },
            (At::Value, ' ' | '\t') => At::Rest,
            (At::Single, '\'') => At::Value,
            (At::Double, '"') => At::Value,
            (At::Double, '\\') => At::Escaped { in_double: true },
            (At::Escaped { in_double }, _) => {
                if in_double {
                    At::Double
                } else {
                    At::Value
                }
            }
            (At::Single | At::Double, _) => at,
            (_, '\n') => At::LineStart,
            (At::ValueStart, _) => At::Value,
            (other, _) => other,
        };
        if c == '\n' {
            line += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str) -> Vec<(String, String)> {
        parse(Path::new(".env"), text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.expose().to_string()))
            .collect()
    }

    fn error(bytes: &[u8]) -> String {
        let err = parse(Path::new("x/.env"), bytes).unwrap_err();
        assert!(err.downcast_ref::<Malformed>().is_some(), "{err:#}");
        err.to_string()
    }

    #[test]
    fn reads_entries_in_order_with_the_last_value_of_a_duplicate() {
        let got = entries("\u{feff}A=1\n# c\nexport B='two words'\nA=3\nC=\"l1\nl2\"\r\nD=x=y\n");
        let want = [("A", "3"), ("B", "two words"), ("C", "l1\nl2"), ("D", "x=y")];
        assert_eq!(got, want.map(|(k, v)| (k.to_string(), v.to_string())));
    }

    #[test]
    fn errors_name_the_line_never_the_text() {
        let cases: [(&[u8], &str); 6] = [
            (b"A=1\nB=canary value\n", "x/.env:2: not a valid `NAME=value` line"),
            (b"A=1\n\n# c\n-X=canary\n", "x/.env:4: not a valid"),
            (b"A=1\nB='canary\nmore\n", "x/.env:2: the entry on lines 2-3 is not valid"),
            (b"A='x\ny'\nB=\"canary\nC=2\nD=3", "x/.env:3: the entry on lines 3-5"),
            (b"A=1\r\nB=canary \\q\r\n", "x/.env:2: not a valid"),
            (b"A=1\nB=\xffcanary\n", "x/.env:2: not valid UTF-8"),
        ];
        for (bytes, want) in cases {
            let got = error(bytes);
            assert!(got.starts_with(want), "{:?}\n got: {got}\nwant: {want}", String::from_utf8_lossy(bytes));
            assert!(!got.contains("canary"), "{got}");
        }
    }

    #[test]
    fn errors_say_what_is_wrong_never_the_text() {
        let cases: [(&[u8], &str); 8] = [
            (
                b"GREETING=hello canary\n",
                "x/.env:1: not a valid `NAME=value` line: an unquoted space in the value: quote it",
            ),
            (b"A=1\nMY-KEY=canary\n", "x/.env:2: not a valid `NAME=value` line: the name has a `-`: a name is letters"),
            (b"export A B=canary\n", "x/.env:1: not a valid `NAME=value` line: the name has ` `"),
            (
                b"A=1\nB='canary\nmore\n",
                "x/.env:2: the entry on lines 2-3 is not valid: the ' quote opened on line 2 is not closed",
            ),
            (b"A=\"canary\" x\n", "x/.env:1: not a valid `NAME=value` line: text follows the closing \" quote"),
            (b"canary\n", "x/.env:1: not a valid `NAME=value` line: it has no `=`"),
            (b"=canary\n", "x/.env:1: not a valid `NAME=value` line: it has no name"),
            (b"A=canary\\q\n", "x/.env:1: not a valid `NAME=value` line: an unquoted backslash"),
        ];
        for (bytes, want) in cases {
            let got = error(bytes);
            assert!(got.starts_with(want), "{:?}\n got: {got}\nwant: {want}", String::from_utf8_lossy(bytes));
            assert!(!got.contains("canary") && !got.contains("hello"), "{got}");
        }
    }

    #[test]
    fn long_lines_are_counted_once() {
        let long = "v".repeat(20_000);
        let text = format!("A={long}\nB={long}\nC=bad value\n");
        assert!(error(text.as_bytes()).starts_with("x/.env:3: "));
    }

    /// Each line doubles A: without a budget, 40 lines would need a terabyte
    /// (found by the dotenv_reader fuzz target as an out-of-memory).
    #[test]
    fn substitutions_cannot_exhaust_memory() {
        let text = format!("A=xxxxxxxx\n{}", "A=\"${A}${A}\"\n".repeat(40));
        let err = parse(Path::new(".env"), text.as_bytes()).unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with(".env:") && shown.contains("substitutions would make"), "{shown}");
        assert!(err.downcast_ref::<Malformed>().is_some_and(|m| m.line > 20 && m.line < 41), "{shown}");
        // A long value that substitutes nothing is fine, however large.
        let big = format!("A={}\nB=$A\n", "v".repeat(2 << 20));
        assert_eq!(parse(Path::new(".env"), big.as_bytes()).unwrap()[1].1.len(), 2 << 20);
    }

    /// A long line is handed out in many small reads; finding its end again
    /// on each read made a 20 MiB value take seconds (quadratic).
    #[test]
    fn the_reader_scans_each_byte_once() {
        let text = format!("A={}\nB=2\n\nC={}", "v".repeat(1 << 20), "w".repeat(100_000));
        let (lines, values) = (Cell::new(0), Cell::new((0, 0)));
        let mut reader = LineByLine::new(text.as_bytes(), &lines, &values, usize::MAX, &[]);
        let (mut got, mut buf, mut reads) = (Vec::new(), [0u8; 8192], 0);
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            reads += 1;
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, text.as_bytes());
        assert!(reads > 100, "{reads}");
        assert_eq!(reader.scanned, text.len());
        assert_eq!(lines.get(), 4);
    }

    /// A byte that dotenvy copies to the value, or skips in a comment, whatever
    /// the state it is in, as long as nothing is substituted: no quote,
    /// backslash, `#`, `$`, space or control character.
    fn plain(b: u8) -> bool {
        b.is_ascii_graphic() && !matches!(b, b'\'' | b'"' | b'\\' | b'#' | b'$')
    }

    #[test]
    fn plain_runs_are_measured_eight_bytes_at_a_time_as_byte_by_byte() {
        for b in 0..=255u8 {
            for at in 0..24 {
                let mut bytes = [b'a'; 24];
                bytes[at] = b;
                let want = if plain(b) { 24 } else { at };
                assert_eq!(plain_run(&bytes), want, "byte {b:#x} at {at}");
            }
        }
        let plain_bytes: Vec<u8> = (0..=255u8).filter(|&b| plain(b)).collect();
        assert_eq!(plain_bytes.len(), 94 - 5);
    }

    /// Marked runs change nothing: the same entries, or the same error, as
    /// dotenvy reading the text itself, whatever surrounds the runs (quotes of
    /// either kind open or closed, comments, escapes, several lines).
    #[test]
    fn marking_long_runs_changes_nothing() {
        let pieces = [
            "A=",
            "B=",
            "export C=",
            "'",
            "'",
            "\"",
            "\\",
            "#",
            " ",
            "\n",
            "\r\n",
            "=",
            "x",
            "plainRUN",
            "pl=in/RUN+",
            "\u{e9}t\u{e9}",
            "\t",
            // Whitespace to the line reader, not to the value parser.
            "\u{a0}",
            "l1 #x\nl2",
            // Files holding the marker's first character are not marked.
            "\u{fdd0}",
            "$",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let (mut marked, mut multi_line, mut same) = (0, 0, 0);
        for _ in 0..4000 {
            let mut text = String::new();
            for _ in 0..next(24) {
                // Mostly plain runs between single quotes, no `$` in most texts.
                match next(7) {
                    0 => text.push_str(&format!("K{}='{}'\n", next(3), "plainRUN".repeat(next(3)))),
                    // A PEM-like value: lines, spaces, a `#`, in either quotes.
                    1 => {
                        let q = ["\"", "'"][next(2)];
                        text.push_str(&format!("K{}={q}{}{q}\n", next(3), "pl in#\nRUN\r\n".repeat(next(3))));
                    }
                    _ => {
                        let without_dollar = usize::from(next(4) != 0);
                        text.push_str(pieces[next(pieces.len() - without_dollar)]);
                    }
                }
            }
            let got = parse_marking(Path::new(".env"), text.as_bytes(), 8);
            let want = parse_marking(Path::new(".env"), text.as_bytes(), usize::MAX);
            match (got, want) {
                (Ok(got), Ok(want)) => assert!(got == want, "{text:?}"),
                (Err(got), Err(want)) => assert_eq!(got.to_string(), want.to_string(), "{text:?}"),
                (got, want) => panic!("{text:?}: {:?} against {:?}", got.is_ok(), want.is_ok()),
            }
            if !text.contains('$') && !text.contains(MARK) {
                let found = verbatim(&text, 8);
                marked += usize::from(!found.is_empty());
                multi_line += usize::from(found.iter().any(|r| text[r.clone()].contains('\n')));
            }
            same += 1;
        }
        assert!(
            marked > 500 && multi_line > 200 && same == 4000,
            "{marked} texts had runs to mark, {multi_line} over lines"
        );
    }

    #[test]
    fn a_large_value_is_read_whole() {
        let big = "b64/Data+".repeat(1 << 17);
        let pem = format!("-----BEGIN KEY-----\n{}-----END KEY-----", format!("{}\n", &big[..64]).repeat(1 << 12));
        let text = format!("# c\nA='{big}'\nB='x{big}y'z\nC=\"{big}\"\nD={big}\nE=\"{pem}\"\nF='{pem}'\n");
        let got = entries(&text);
        assert_eq!(got[0].1, big);
        assert_eq!(got[1].1, format!("x{big}yz"));
        assert_eq!(got[2].1, big);
        assert_eq!(got[3].1, big);
        assert_eq!(got[4].1, pem);
        assert_eq!(got[5].1, pem);
        // Each was handed to dotenvy as a marker, and the lines the PEMs hid still count.
        assert_eq!(verbatim(&text, LONG_RUN).len(), 6);
        let bad = format!("{text}G=bad value\n");
        let line = 6 + 2 * (pem.matches('\n').count() + 1);
        assert!(error(bad.as_bytes()).starts_with(&format!("x/.env:{line}: ")), "{}", error(bad.as_bytes()));
    }

    #[test]
    fn substitutions_are_found_on_their_line() {
        let cases: [(&str, Option<usize>); 12] = [
            ("A=$HOME\n", Some(1)),
            ("A=1\nB=\"x ${Y}\"\n", Some(2)),
            ("A='$HOME'\n", None),
            ("A=\"\\$HOME\"\n", None),
            ("A=\\$HOME\n", None),
            ("# costs $5\nA=1\n", None),
            ("A=1 # costs $5\n", None),
            ("A= # $5\n", None),
            ("A='it''s $5'\n", None),
            ("A=\"l1\nl2 $X\"\n", Some(2)),
            ("A='l1\n$X'\nB=x$Y\n", Some(3)),
            ("export A=a'b'$c\n", Some(1)),
        ];
        for (text, want) in cases {
            assert_eq!(substitution_line(text), want, "{text:?}");
        }
    }
}
