//! Messages to the person running escort: warnings and notes, on stderr, or
//! as workflow annotations inside a GitHub job. Never a value.

use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);
static ANNOTATE: AtomicBool = AtomicBool::new(false);

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Inside a GitHub job with `--format github`: warnings become `::warning::`
/// lines on stdout, which the runner shows as annotations.
pub fn set_annotate(on: bool) {
    ANNOTATE.store(on, Ordering::Relaxed);
}

pub fn warn(msg: &str) {
    let msg = crate::secret::scrub(msg);
    if ANNOTATE.load(Ordering::Relaxed) {
        let _ = crate::output::line(format!("::warning::{}", escape_data(&msg)));
    } else {
        eprintln!("escort: warning: {msg}");
    }
}

pub fn note(msg: &str) {
    if !QUIET.load(Ordering::Relaxed) {
        eprintln!("escort: {}", crate::secret::scrub(msg));
    }
}

/// Escape text for a workflow command's data part, as the runner unescapes it.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}
