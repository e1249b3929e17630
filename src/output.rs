//! Everything escort prints on stdout goes through here, so that every write
//! propagates its error and a reader that went away is handled in one place.
//!
//! When stdout's reader closes early (`escort ls | head -1`), the first failed
//! write marks stdout closed and later ones are skipped: the command still
//! finishes its work and exits with its own status (0, or 4 for a partial
//! sync), never with an "internal error" (docs/exit-codes.md). Any other
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
    if closed_at_start() {
        // Not a reader that went away: the output (values, a token) had nowhere to go.
        return Err(std::io::Error::from_raw_os_error(libc::EBADF))
            .context("could not write to stdout: it was closed when escort started, so nothing was written");
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

/// Whether stdout was closed when escort started. The Rust runtime then
/// opens `/dev/null` read-write in its place, and writes to it "succeed"; a
/// shell's `> /dev/null` opens it write-only, which is the user's choice and
/// is left alone.
fn closed_at_start() -> bool {
    static CLOSED_AT_START: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *CLOSED_AT_START.get_or_init(|| {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            use std::os::unix::fs::MetadataExt;
            // SAFETY: F_GETFL on a descriptor number reads its flags and nothing else.
            let flags = unsafe { libc::fcntl(1, libc::F_GETFL) };
            if flags < 0 {
                return true;
            }
            if flags & libc::O_ACCMODE != libc::O_RDWR {
                return false;
            }
            let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() else { return true };
            let (Ok(out), Ok(null)) = (std::fs::File::from(fd).metadata(), std::fs::metadata("/dev/null")) else {
                return false;
            };
            out.rdev() == null.rdev() && out.file_type() == null.file_type()
        }
        #[cfg(not(unix))]
        false
    })
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
