//! Messages to the person running escort: warnings and notes, on stderr, or
//! as workflow annotations inside a GitHub job. Never a value.

use crate::wiped::Wiped;
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);
static VERBOSE: AtomicBool = AtomicBool::new(false);
static ANNOTATE: AtomicBool = AtomicBool::new(false);

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// `--verbose` or `ESCORT_LOG=debug`: `debug` lines are shown.
pub fn set_verbose(verbose: bool) {
    VERBOSE.store(verbose, Ordering::Relaxed);
}

pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// What escort does, step by step, for `--verbose`: requests (method, host,
/// path, status, attempt, wait) and where tokens come from. Never a value or
/// a token (scrubbed as every message is).
pub fn debug(msg: &str) {
    if verbose() {
        eprintln!("escort: debug: {}", escape(&crate::secret::scrub(msg)));
    }
}

/// Inside a GitHub job with `--format github`: warnings become `::warning::`
/// lines on stdout, which the runner shows as annotations.
pub fn set_annotate(on: bool) {
    ANNOTATE.store(on, Ordering::Relaxed);
}

/// Whether warnings are annotations (see set_annotate).
pub fn annotating() -> bool {
    ANNOTATE.load(Ordering::Relaxed)
}

pub fn warn(msg: &str) {
    let msg = escape(&crate::secret::scrub(msg)).into_owned();
    if ANNOTATE.load(Ordering::Relaxed) {
        let _ = crate::output::line(format!("::warning::{}", escape_data(&msg)));
    } else {
        eprintln!("escort: warning: {msg}");
    }
}

/// A warning that must not be missed: inside a GitHub job (`job`) always an
/// annotation, on stderr (the runner reads workflow commands from both
/// streams; stdout may be a script being `eval`ed, or masks yet to come).
pub fn alert(msg: &str, job: bool) {
    if job {
        eprintln!("::warning::{}", escape_data(&escape(&crate::secret::scrub(msg))));
    } else {
        warn(msg);
    }
}

/// A `::error::` annotation on stderr (stdout may be a JSON report), for a
/// failure the run's page should show.
pub fn error_annotation(msg: &str) {
    eprintln!("::error::{}", escape_data(&escape(&crate::secret::scrub(msg))));
}

pub fn note(msg: &str) {
    if !quiet() {
        eprintln!("escort: {}", escape(&crate::secret::scrub(msg)));
    }
}

/// Text made safe to print on one line: control characters (newlines above
/// all, which would let a name start a workflow command such as `::error::`
/// or `::stop-commands::` on a line of its own, or move the cursor on a
/// terminal) and Unicode line separators become visible escapes (`\n`,
/// `\u{1b}`). Every name and message escort prints goes through it.
pub fn escape(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
    if !text.contains(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Escape text for a workflow command's data part, as the runner unescapes it.
pub fn escape_data(text: &str) -> String {
    let mut out = Wiped::new(String::with_capacity(text.len()));
    push_data(&mut out, text);
    out.to_string()
}

/// `escape_data` into a `Wiped` buffer: for values (`::add-mask::`), so that
/// no copy is left in freed memory.
pub fn push_data(out: &mut Wiped<String>, text: &str) {
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f06_control_characters_are_escaped() {
        assert_eq!(escape("A\n::stop-commands::x\r\n::error::y"), "A\\n::stop-commands::x\\r\\n::error::y");
        assert_eq!(escape("tab\tesc\u{1b}[2Jnel\u{85}ls\u{2028}"), "tab\\tesc\\u{1b}[2Jnel\\u{85}ls\\u{2028}");
        assert!(matches!(escape("plain `NAME` — ok ✅"), Cow::Borrowed(_)));
        assert!(!escape("a\nb\rc").contains(['\n', '\r']));
    }
}
