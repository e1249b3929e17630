//! The one type that carries a secret value through escort.
//!
//! `Secret` has no `Display`, its `Debug` prints a fixed placeholder, and its
//! memory is zeroed on drop. Every value read from a source travels in one;
//! code that needs the text calls `expose()`, which makes each disclosure easy
//! to find in review.
//!
//! The process also keeps a registry of the secret values it has seen, so the
//! last line of defence (the error printer in `lib.rs`) can scrub a value that
//! a server echoed back into an error message, and a server's message that
//! holds one is not shown at all. The registry is zeroed when escort is done.

use crate::redact::{MIN_REDACT_LEN, Redactor};
use crate::wiped::Wiped;
use std::fmt;
use std::sync::Mutex;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(Wiped<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Wiped::new(value.into()))
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

    /// Zero the value now and leave its memory to the OS (`Wiped::wipe_and_leak`).
    pub fn wipe_and_leak(self) {
        self.0.wipe_and_leak();
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

/// The registered values and, built on first use, the scrubber made of them.
#[derive(Default)]
struct Known {
    values: Vec<Secret>,
    /// Built on first use, each: exact case for `scrub`; folded, with more
    /// forms, for `server_message` (needed only when an API says no).
    exact: Option<Redactor>,
    withhold: Option<Redactor>,
}

static KNOWN: Mutex<Known> = Mutex::new(Known { values: Vec::new(), exact: None, withhold: None });

/// Remember a secret value (or token) so that `scrub` can remove it from any
/// text that is about to be shown.
pub fn register(value: &Secret) {
    register_all([value]);
}

/// `register` each of `values`, under one lock: a load registers thousands.
pub fn register_all<'a>(values: impl IntoIterator<Item = &'a Secret>) {
    if let Ok(mut known) = KNOWN.lock() {
        values.into_iter().for_each(|value| known.register(value));
    }
}

/// Every registered secret and token, e.g. to redact a child's output.
pub fn registered() -> Vec<Secret> {
    KNOWN.lock().map(|k| k.values.clone()).unwrap_or_default()
}

/// Forget (and zero) every registered value, when escort is done.
pub fn forget_all() {
    if let Ok(mut known) = KNOWN.lock() {
        known.forget_all();
    }
}

/// Replace every registered secret (and each of its lines) in `text` with
/// `***`, whether raw, JSON-escaped or URL-encoded. The case must match: a
/// secret line `crlf` must not mask the name `CRLF` in a warning.
pub fn scrub(text: &str) -> String {
    KNOWN.lock().map(|mut k| k.scrub(text)).unwrap_or_else(|_| WITHHELD.to_string())
}

/// What stands in for a server's message that held a secret.
pub const WITHHELD: &str = "(message withheld: it contained a secret value)";

/// A message from a server, shown only when it holds no registered value in
/// any of the forms `scrub` knows, in any ASCII case: masking part of it could
/// still tell what the value is (`the ***ue is null`).
pub fn server_message(text: &str) -> String {
    KNOWN.lock().map(|mut k| k.server_message(text)).unwrap_or_else(|_| WITHHELD.to_string())
}

impl Known {
    fn register(&mut self, value: &Secret) {
        if value.len() >= MIN_REDACT_LEN {
            self.values.push(value.clone());
            (self.exact, self.withhold) = (None, None);
        }
    }

    fn forget_all(&mut self) {
        // escort is about to exit: each value is zeroed, not freed.
        self.values.drain(..).for_each(Secret::wipe_and_leak);
        (self.exact, self.withhold) = (None, None);
    }

    /// The notice a withheld message became is escort's own text: it is kept
    /// whole (a 3-letter value `val` would make it `***ue`), unless keeping it
    /// would let a value through that straddles it.
    fn scrub(&mut self, text: &str) -> String {
        let notice = WITHHELD.as_bytes();
        // A form that ends with the notice's start, starts with its end, or holds it whole.
        let straddles = |f: &[u8]| {
            (1..f.len()).any(|k| notice.starts_with(&f[k..]) || notice.ends_with(&f[..k]))
                || f.windows(notice.len()).any(|w| w == notice)
        };
        let keep = text.contains(WITHHELD) && !self.forms().iter().any(|f| straddles(f.as_bytes()));
        let exact = self.exact();
        let redact = |t: &str| String::from_utf8_lossy(&exact.redact_all(t.as_bytes())).into_owned();
        if keep { text.split(WITHHELD).map(redact).collect::<Vec<_>>().join(WITHHELD) } else { redact(text) }
    }

    fn server_message(&mut self, text: &str) -> String {
        if self.withhold().finds_any(text.as_bytes()) { WITHHELD.to_string() } else { text.to_string() }
    }

    /// Each value and each of its lines, in every form `encodings` knows.
    fn forms(&self) -> Vec<Wiped<String>> {
        self.values
            .iter()
            .flat_map(|s| std::iter::once(s.expose()).chain(s.expose().lines()))
            .flat_map(encodings)
            .collect()
    }

    fn exact(&mut self) -> &Redactor {
        if self.exact.is_none() {
            let forms = self.forms();
            self.exact = Some(Redactor::new(forms.iter().map(|f| f.as_bytes()), false));
        }
        self.exact.as_ref().expect("built above")
    }

    /// A server's message is withheld for a value in any letter case, base64-
    /// encoded too, or for a long part of one: a token cut short by a few
    /// characters, or its last 20.
    fn withhold(&mut self) -> &Redactor {
        if self.withhold.is_none() {
            let mut forms = self.forms();
            for value in &self.values {
                forms.extend(base64_forms(value.expose()));
                forms.extend(ends(value.expose()).into_iter().flat_map(encodings));
            }
            self.withhold = Some(Redactor::new(forms.iter().map(|f| f.as_bytes()), true));
        }
        self.withhold.as_ref().expect("built above")
    }
}

/// Shorter values are withheld only whole.
const MIN_PART_LEN: usize = 12;

/// The prefix and the suffix of `value` a message may not hold: 12
/// characters, or half of the value when that is longer.
fn ends(value: &str) -> Vec<&str> {
    let chars = value.chars().count();
    if chars <= MIN_PART_LEN {
        return Vec::new();
    }
    let keep = MIN_PART_LEN.max(chars / 2);
    let byte_at = |n: usize| value.char_indices().nth(n).map_or(value.len(), |(i, _)| i);
    vec![&value[..byte_at(keep)], &value[byte_at(chars - keep)..]]
}

/// `value` base64-encoded (standard and URL-safe), without padding, so that
/// it is found at the start of a longer encoding too.
fn base64_forms(value: &str) -> [Wiped<String>; 2] {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD].map(|engine| {
        // Sized up front: a growing string would leave copies of the value behind.
        let mut out = Wiped::new(String::with_capacity(value.len() * 4 / 3 + 4));
        engine.encode_string(value, &mut out);
        out
    })
}

/// The forms a value takes when a server echoes it: raw, JSON-escaped,
/// URL-encoded (path and form style).
fn encodings(value: &str) -> Vec<Wiped<String>> {
    let quoted = Wiped::new(serde_json::to_string(value).unwrap_or_default());
    let json = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default().to_string();
    // Sized up front: a growing string would leave copies of the value behind.
    let mut url = Wiped::new(String::with_capacity(value.len() * 3));
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => url.push(b as char),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                url.extend(['%', HEX[usize::from(b >> 4)] as char, HEX[usize::from(b & 15)] as char]);
            }
        }
    }
    let form = Wiped::new(url.replace("%20", "+"));
    let mut forms = vec![Wiped::new(value.to_string()), Wiped::new(json), url, form];
    forms.dedup();
    forms
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

    #[test]
    fn f15_echoed_values_are_found_in_every_common_encoding() {
        let mut known = Known::default();
        known.register(&Secret::new("Tok/F15 canary\\"));
        for echo in [r"Tok/F15 canary\\", "tok%2Ff15%20canary%5c", "TOK%2FF15+CANARY%5C", r"tok/f15 canary\\"] {
            let text = format!("bad token {echo}!");
            assert_eq!(known.server_message(&text), WITHHELD, "{text}");
        }
        for exact in [r"Tok/F15 canary\\", "Tok%2FF15%20canary%5C", "Tok%2FF15+canary%5C"] {
            assert_eq!(known.scrub(&format!("bad {exact}!")), "bad ***!");
        }
        assert_eq!(known.scrub("TOK/F15 CANARY\\"), "TOK/F15 CANARY\\", "scrubbing keeps the case");
        assert_eq!(known.server_message("nothing here"), "nothing here");
    }

    #[test]
    fn f15_a_message_that_holds_a_short_value_is_withheld_not_masked() {
        let mut known = Known::default();
        known.register(&Secret::new("val"));
        // Masked, it would read "the ***ue is null" and tell the value.
        assert_eq!(known.server_message("the value is null"), WITHHELD);
    }

    #[test]
    fn n09_the_notice_is_not_scrubbed_and_long_parts_and_base64_are_withheld() {
        let mut known = Known::default();
        known.register(&Secret::new("val"));
        let token = "ghp_N09canaryTokenABCDEFGHIJKLMNOPQRSTUV";
        known.register(&Secret::new(token));
        let notice = format!("bad request: {WITHHELD}");
        assert_eq!(known.scrub(&notice), notice, "the notice stays readable");
        assert_eq!(known.scrub("a val here"), "a *** here");
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(token);
        for shown in [&token[..token.len() - 3], &token[token.len() - 20..], &b64, &token.to_lowercase()[2..]] {
            assert_eq!(known.server_message(&format!("bad token {shown}.")), WITHHELD, "{shown}");
        }
        // Scrubbing (which every message goes through) keeps to the exact forms.
        assert_eq!(known.scrub(&format!("x {b64}")), format!("x {b64}"));
        // A short part is not enough to withhold.
        assert_eq!(known.server_message("ghp_N09 is not a token"), "ghp_N09 is not a token");
        // A value that straddles the notice is scrubbed with it.
        known.register(&Secret::new("value)xyz"));
        assert!(!known.scrub(&format!("{WITHHELD}xyz")).contains("value)xyz"));
    }

    #[test]
    fn forgotten_values_are_gone() {
        let mut known = Known::default();
        known.register(&Secret::new("forget-canary"));
        assert_eq!(known.scrub("x forget-canary"), "x ***");
        known.forget_all();
        assert!(known.values.is_empty() && known.exact.is_none() && known.withhold.is_none());
        assert_eq!(known.scrub("x forget-canary"), "x forget-canary");
    }
}
