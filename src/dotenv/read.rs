//! Reading a .env file with dotenvy's iterator: the process environment is
//! never changed.
//!
//! dotenvy's parse errors quote the offending line, which may hold a value,
//! so they are never shown; escort names the file and line instead. dotenvy
//! does not count lines, so it is fed one physical line per read and the
//! reader counts them.

use crate::secret::Secret;
use anyhow::{Context, Result};
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

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
    let bytes = Zeroizing::new(std::fs::read(path).with_context(|| format!("could not read {}", path.display()))?);
    parse(path, &bytes)
}

/// `read` on bytes already in memory; `path` only names them in errors.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Entries> {
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
    let reader = LineByLine::new(text.as_bytes(), &lines, &values, substitution_budget(text));
    for item in dotenvy::from_read_iter(reader) {
        match item {
            Ok((name, value)) => {
                let (total, largest) = values.get();
                values.set((total + value.len(), largest.max(value.len())));
                let value = Secret::new(value);
                match seen.get(&name) {
                    Some(&i) => out[i].1 = value,
                    None => {
                        seen.insert(name.clone(), out.len());
                        out.push((name, value));
                    }
                }
            }
            Err(dotenvy::Error::LineParse(entry, _)) => {
                let entry = Zeroizing::new(entry);
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
}

impl<'a> LineByLine<'a> {
    /// `budget`: see `substitution_budget`.
    fn new(text: &'a [u8], lines: &'a Cell<usize>, values: &'a Cell<(usize, usize)>, budget: usize) -> Self {
        LineByLine { rest: text, values, budget, line_left: 0, lines, scanned: 0 }
    }
}

impl Read for LineByLine<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.rest.is_empty() {
            return Ok(0);
        }
        if self.line_left == 0 {
            let end = self.rest.iter().position(|&b| b == b'\n');
            self.line_left = end.map_or(self.rest.len(), |i| i + 1);
            self.scanned += self.line_left;
            let refs = self.rest[..self.line_left].iter().filter(|&&b| b == b'$').count();
            let (total, largest) = self.values.get();
            if refs > 0 && total.saturating_add(refs.saturating_mul(largest)) > self.budget {
                return Err(std::io::Error::other(TooLarge));
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
