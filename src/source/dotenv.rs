//! A .env file as a source, read with dotenvy's iterator: the process
//! environment is never changed.
//!
//! dotenvy's parse errors quote the offending line, which may hold a value,
//! so they are never shown; escort names the file and line instead. dotenvy
//! does not count lines, so it is fed one physical line per read and the
//! reader counts them.

use super::{BoxFuture, Source};
use crate::secret::Secret;
use crate::vars::Var;
use anyhow::{Context, Result};
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub struct DotenvSource {
    path: PathBuf,
}

impl DotenvSource {
    pub fn new(path: PathBuf) -> Self {
        DotenvSource { path }
    }
}

impl Source for DotenvSource {
    fn name(&self) -> String {
        format!("dotenv:{}", self.path.display())
    }

    fn knows_secrecy(&self) -> bool {
        false
    }

    fn read(&self) -> BoxFuture<'_, Result<Vec<Var>>> {
        Box::pin(
            async move { Ok(read(&self.path)?.into_iter().map(|(name, value)| Var::secret(name, value)).collect()) },
        )
    }
}

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
pub fn read(path: &Path) -> Result<Vec<(String, Secret)>> {
    let bytes = Zeroizing::new(std::fs::read(path).with_context(|| format!("could not read {}", path.display()))?);
    parse(path, &bytes)
}

fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<(String, Secret)>> {
    let malformed = |line: usize, what: String| anyhow::Error::new(Malformed { path: path.to_path_buf(), line, what });
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
        malformed(line, "not valid UTF-8 (save the file as UTF-8)".to_string())
    })?;
    // dotenvy skips a byte order mark only when it loads into the environment.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    let lines = Cell::new(0);
    let mut out: Vec<(String, Secret)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for item in dotenvy::from_read_iter(LineByLine { rest: text.as_bytes(), lines: &lines }) {
        match item {
            Ok((name, value)) => {
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
            // Reading from memory, this can only be dotenvy's own I/O error,
            // whose text never holds the file's content.
            Err(e) => return Err(anyhow::Error::new(e).context(format!("could not read {}", path.display()))),
        }
    }
    Ok(out)
}

/// Hands out at most one line per `read`, counting the lines whose end it has
/// handed out. dotenvy's `BufReader` reads only when its buffer is empty, so
/// when an entry fails, the count is the line the entry ends on.
struct LineByLine<'a> {
    rest: &'a [u8],
    lines: &'a Cell<usize>,
}

impl Read for LineByLine<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.rest.is_empty() {
            return Ok(0);
        }
        let line_len = self.rest.iter().position(|&b| b == b'\n').map_or(self.rest.len(), |i| i + 1);
        let n = line_len.min(buf.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        if n == line_len {
            self.lines.set(self.lines.get() + 1);
        }
        Ok(n)
    }
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
}
