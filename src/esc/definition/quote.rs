//! How `edit` writes a value: one line of YAML that reads back exactly.

use super::query::{Change, SECRET_FN};
use crate::secret::Secret;
use std::fmt::Write;

/// Room for `changes` rendered, reserved up front: a `String` that grows
/// leaves copies of what it held in freed memory.
pub(super) fn capacity(changes: &[Change], indent: usize) -> usize {
    changes.iter().map(|c| indent * 2 + c.name.len() + 32 + c.value.map_or(0, |v| v.len() * 4)).sum::<usize>() + 64
}

/// `NAME: "value"`, or `NAME:` and `fn::secret: "value"` under it.
pub(super) fn render_entry(
    out: &mut String,
    indent: usize,
    step: usize,
    name: &str,
    value: &Secret,
    secret: bool,
    eol: &str,
) {
    out.extend(std::iter::repeat_n(' ', indent));
    out.push_str(name);
    out.push(':');
    if secret {
        out.push_str(eol);
        out.extend(std::iter::repeat_n(' ', indent + step));
        out.push_str(SECRET_FN);
        out.push(':');
    }
    out.push(' ');
    quote(out, value.expose());
    out.push_str(eol);
}

/// A YAML double-quoted scalar: every character outside YAML's printable set,
/// line breaks and tabs escaped, so the value is one line and reads back exactly.
pub(super) fn quote(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            // Writing into a String cannot fail.
            c if (c as u32) < 0x20 || ('\u{7f}'..='\u{9f}').contains(&c) => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            '\u{feff}' | '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
