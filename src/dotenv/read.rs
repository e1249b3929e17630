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
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// `NAME=value` entries in file order.
pub type Entries = Vec<(String, Secret)>;

/// A .env file escort cannot read: the file, the line and what is wrong,
/// never the text of the line.
#[derive(Debug)]
pub struct Malformed {
    pub path: PathBuf,
    pub line: usize,
    pub what: String,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.what)
    }
}

impl std::error::Error for Malformed {}

/// Every `NAME=value` entry of a .env file, in file order. A name given twice
/// keeps its first place and its last value, as python-dotenv does.
pub fn read(path: &Path) -> Result<Entries> {
    parse(path, &crate::files::read_bounded(path, "")?)
}

/// `read` on bytes already in memory; `path` only names them in errors.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Entries> {
    parse_marking(path, bytes, LONG_RUN)
}

/// `parse`, with runs of at least `long_run` plain bytes marked (`mark_runs`).
fn parse_marking(path: &Path, bytes: &[u8], long_run: usize) -> Result<Entries> {
    let malformed = |line: usize, what: String| anyhow::Error::new(Malformed { path: path.to_path_buf(), line, what });
    let text = std::str::from_utf8(bytes).map_err(|e| {
        malformed(super::line_at(bytes, e.valid_up_to()), "not valid UTF-8 (save the file as UTF-8)".to_string())
    })?;
    // dotenvy skips a byte order mark only when it loads into the environment.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    let lines = Cell::new(0);
    let mut out: Entries = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let values = Cell::new((0, 0));
    let runs = RefCell::new(Vec::new());
    let mut reader = LineByLine::new(text.as_bytes(), &lines, &values, substitution_budget(text));
    // Without a `$`, dotenvy substitutes nothing: a plain byte means the same
    // wherever it is, and so does a marker.
    if text.len() >= long_run && !text.contains('$') && !text.contains(MARK) {
        reader.runs = Some((&runs, long_run));
    }
    for item in dotenvy::from_read_iter(reader) {
        match item {
            Ok((name, value)) => {
                let value = if runs.borrow().is_empty() {
                    Secret::new(value)
                } else {
                    Secret::new(unmark(&Wiped::new(value), &runs.borrow()))
                };
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
                let entry = Wiped::new(entry);
                // The entry ends on the last line read; a quoted value can
                // make it span several. A final newline ends it, not a line.
                let end = lines.get().max(1);
                let body = entry.strip_suffix('\n').unwrap_or(&entry);
                let start = end.saturating_sub(body.matches('\n').count()).max(1);
                return Err(if start == end {
                    malformed(
                        start,
                        "not a valid `NAME=value` line (check its quotes, spaces and backslashes)".to_string(),
                    )
                } else {
                    let what = format!("the entry on lines {start}-{end} is not valid (a quote may not be closed)");
                    malformed(start, what)
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
/// twice): a 20 MiB value took most of a second. Runs of at least this many
/// plain bytes between single quotes are handed to it as a short marker
/// instead, and put back in the values it returns.
const LONG_RUN: usize = 4096;

/// A marker is `MARK`, the run's index and `MARK_END`: Unicode noncharacters,
/// which dotenvy treats like any plain byte (nothing is substituted). Only
/// files that do not hold `MARK` are marked.
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

/// `line` with each run of at least `long_run` plain bytes between single
/// quotes replaced by a marker (the runs are added to `runs`), or `None` if
/// it has none.
fn mark_runs<'a>(line: &'a [u8], runs: &RefCell<Vec<&'a [u8]>>, long_run: usize) -> Option<Wiped<Vec<u8>>> {
    let mut marked: Option<Wiped<Vec<u8>>> = None;
    let (mut copied, mut at) = (0, 0);
    while let Some(quote) = memchr::memchr(b'\'', &line[at..]).map(|i| at + i) {
        let start = quote + 1;
        let end = start + plain_run(&line[start..]);
        at = end.max(start);
        if end - start < long_run || line.get(end) != Some(&b'\'') {
            continue;
        }
        let out = marked.get_or_insert_with(|| Wiped::new(Vec::with_capacity(line.len().min(2 * long_run))));
        let mut runs = runs.borrow_mut();
        out.extend_from_slice(&line[copied..start]);
        out.extend_from_slice(format!("{MARK}{}{MARK_END}", runs.len()).as_bytes());
        runs.push(&line[start..end]);
        copied = end;
    }
    let mut out = marked?;
    out.extend_from_slice(&line[copied..]);
    Some(out)
}

/// `value` with its markers replaced by the runs they stand for.
fn unmark(value: &str, runs: &[&[u8]]) -> String {
    let mut parts = value.split(MARK);
    let first = parts.next().unwrap_or_default();
    let mut pieces = vec![first];
    for part in parts {
        let (index, rest) = part.split_once(MARK_END).expect("a marker ends");
        let run = runs[index.parse::<usize>().expect("a marker holds an index")];
        pieces.push(std::str::from_utf8(run).expect("plain bytes are ASCII"));
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
    /// Where to put long runs of plain bytes, and how long they are at least
    /// (`mark_runs`); `None`: lines are handed out as they are.
    runs: Option<(&'a RefCell<Vec<&'a [u8]>>, usize)>,
    /// The current line with its runs marked, and how much of it was handed out.
    marked: Option<(Wiped<Vec<u8>>, usize)>,
}

impl<'a> LineByLine<'a> {
    /// `budget`: see `substitution_budget`.
    fn new(text: &'a [u8], lines: &'a Cell<usize>, values: &'a Cell<(usize, usize)>, budget: usize) -> Self {
        LineByLine { rest: text, values, budget, line_left: 0, lines, scanned: 0, runs: None, marked: None }
    }
}

impl Read for LineByLine<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some((line, at)) = &mut self.marked {
            let n = (line.len() - *at).min(buf.len());
            buf[..n].copy_from_slice(&line[*at..*at + n]);
            *at += n;
            if *at == line.len() {
                self.marked = None;
                self.lines.set(self.lines.get() + 1);
            }
            return Ok(n);
        }
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
            let line = &self.rest[..self.line_left];
            if let Some(marked) = self.runs.and_then(|(runs, long_run)| mark_runs(line, runs, long_run)) {
                self.rest = &self.rest[self.line_left..];
                self.line_left = 0;
                self.marked = Some((marked, 0));
                return self.read(buf);
            }
        }
        let n = self.line_left.min(buf.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        self.line_left -= n;
        if self.line_left == 0 {
            self.lines.set(self.lines.get() + 1);
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
        let mut reader = LineByLine::new(text.as_bytes(), &lines, &values, usize::MAX);
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
        let (mut marked, mut same) = (0, 0);
        for _ in 0..4000 {
            let mut text = String::new();
            for _ in 0..next(24) {
                // Mostly plain runs between single quotes, no `$` in most texts.
                match next(6) {
                    0 => text.push_str(&format!("K{}='{}'\n", next(3), "plainRUN".repeat(next(3)))),
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
            if !text.contains('$') {
                let runs = RefCell::new(Vec::new());
                marked += usize::from(text.lines().any(|l| mark_runs(l.as_bytes(), &runs, 8).is_some()));
            }
            same += 1;
        }
        assert!(marked > 500 && same == 4000, "{marked} texts had runs to mark");
    }

    #[test]
    fn a_large_value_is_read_whole() {
        let big = "b64/Data+".repeat(1 << 17);
        let text = format!("# c\nA='{big}'\nB='x{big}y'z\nC=\"{big}\"\n");
        let got = entries(&text);
        assert_eq!(got[0].1, big);
        assert_eq!(got[1].1, format!("x{big}yz"));
        assert_eq!(got[2].1, big);
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
