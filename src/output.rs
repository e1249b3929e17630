//! Everything escort prints on stdout goes through here, so that every write
//! propagates its error and a reader that went away is handled in one place.
//!
//! When stdout's reader closes early (`escort ls | head -1`), the first failed
//! write marks stdout closed and later ones are skipped: the command still
//! finishes its work and exits with its own status (0, or 4 for a partial
//! sync), never with an "internal error" (README, "Exit codes"). Any other
//! write error (a full disk under `> file`) is an error of kind `Local`.

use anyhow::{Context, Result};
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Write `bytes` to stdout and flush.
pub fn write(bytes: &[u8]) -> Result<()> {
    if CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        other => other.context("could not write to stdout"),
    }
}

/// Write `text` and a newline to stdout.
pub fn line(text: impl AsRef<str>) -> Result<()> {
    let text = text.as_ref();
    let mut buf = String::with_capacity(text.len() + 1);
    buf.push_str(text);
    buf.push('\n');
    write(buf.as_bytes())
}

/// Write each line of `lines` (one write for them all).
pub fn lines<I, S>(lines: I) -> Result<()>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut buf = String::new();
    for l in lines {
        buf.push_str(l.as_ref());
        buf.push('\n');
    }
    write(buf.as_bytes())
}

/// Write `value` as one line of compact JSON.
pub fn json(value: &impl serde::Serialize) -> Result<()> {
    let mut bytes = serde_json::to_vec(value).context("could not encode the report as JSON")?;
    bytes.push(b'\n');
    write(&bytes)
}
