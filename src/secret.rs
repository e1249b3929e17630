//! The one type that carries a secret value through escort.
//!
//! `Secret` has no `Display`, its `Debug` prints a fixed placeholder, and its
//! memory is zeroed on drop. Every value read from a source travels in one;
//! code that needs the text calls `expose()`, which makes each disclosure easy
//! to find in review.
//!
//! The process also keeps a registry of the secret values it has seen, so the
//! last line of defence (the error printer in `main`) can scrub a value that a
//! server echoed back into an error message.

use std::fmt;
use std::sync::Mutex;
use zeroize::Zeroizing;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

/// Values shorter than this are not scrubbed from text: replacing every `a`
/// or `on` would destroy messages while protecting nothing.
pub const MIN_REDACT_LEN: usize = 3;

static KNOWN: Mutex<Vec<Secret>> = Mutex::new(Vec::new());

/// Remember a secret value (or token) so that `scrub` can remove it from any
/// text that is about to be shown.
pub fn register(value: &Secret) {
    if value.len() >= MIN_REDACT_LEN
        && let Ok(mut known) = KNOWN.lock()
    {
        known.push(value.clone());
    }
}

/// Every registered secret and token, e.g. to redact a child's output.
pub fn registered() -> Vec<Secret> {
    KNOWN.lock().map(|k| k.clone()).unwrap_or_default()
}

/// Replace every registered secret (and each of its lines) in `text` with `***`.
pub fn scrub(text: &str) -> String {
    let Ok(known) = KNOWN.lock() else {
        return text.to_string();
    };
    let mut out = text.to_string();
    let mut needles: Vec<&str> = known
        .iter()
        .flat_map(|s| std::iter::once(s.expose()).chain(s.expose().lines()))
        .filter(|n| n.trim().len() >= MIN_REDACT_LEN)
        .collect();
    // Longest first, so that a value is replaced whole before any of its parts.
    needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for needle in needles {
        if out.contains(needle) {
            out = out.replace(needle, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("canary-debug-value");
        let shown = format!("{s:?} {:?}", vec![s.clone()]);
        assert!(!shown.contains("canary"), "{shown}");
        assert_eq!(s.expose(), "canary-debug-value");
    }

    #[test]
    fn scrub_removes_registered_values_and_their_lines() {
        register(&Secret::new("scrub-canary-1\nsecond-line-canary"));
        let text = "server said: scrub-canary-1\nsecond-line-canary and second-line-canary";
        let out = scrub(text);
        assert!(!out.contains("canary"), "{out}");
        assert!(out.starts_with("server said: ***"), "{out}");
    }

    #[test]
    fn short_values_are_not_scrubbed() {
        register(&Secret::new("ab"));
        assert_eq!(scrub("a cab"), "a cab");
    }
}
