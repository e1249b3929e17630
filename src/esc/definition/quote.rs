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
/// line breaks and tabs escaped, so the value is one line and reads back exactly;
/// and every `$` doubled, as ESC reads `$$` as one `$` and `${` as the start of
/// an interpolation (in a `fn::secret` too, which then refuses it): the value
/// is stored as given.
pub(super) fn quote(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '$' => out.push_str("$$"),
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

/// Whether the text of a string in a definition is `value` as `quote` writes
/// it: each `$` doubled.
pub(super) fn holds_literally(text: &str, value: &str) -> bool {
    let mut text = text.as_bytes();
    for &b in value.as_bytes() {
        let want: &[u8] = if b == b'$' { b"$$" } else { std::slice::from_ref(&b) };
        match text.strip_prefix(want) {
            Some(rest) => text = rest,
            None => return false,
        }
    }
    text.is_empty()
}

#[cfg(test)]
mod tests {
    use super::super::query::interpolates;
    use super::*;

    #[test]
    fn dollars_are_written_so_that_esc_reads_them_back_as_given() {
        let mut out = String::new();
        quote(&mut out, "a$b $${x} ${y}$");
        assert_eq!(out, r#""a$$b $$$${x} $${y}$$""#);
        let text = &out[1..out.len() - 1];
        assert!(holds_literally(text, "a$b $${x} ${y}$") && !interpolates(text));
        assert!(!holds_literally(text, "a$b $${x} ${y}") && !holds_literally("a$b", "a$b"));
        for (text, yes) in [("${x}", true), ("$${x}", false), ("$$${x}", true), ("a$b{", false), ("$", false)] {
            assert_eq!(interpolates(text), yes, "{text}");
        }
    }
}
