//! `NAME='value'` lines that dotenvy (escort's own reader) and python-dotenv
//! both read back as the exact value.
//!
//! The two parsers agree on less than one would hope (tested in
//! `tests/it/dotenv_source.rs`): dotenvy reads single quotes literally but
//! trips on a backslash before a quote; python-dotenv decodes `\\` and `\'`
//! there. In double quotes dotenvy knows only `\n \\ \" \' \$` and expands
//! `$NAME`, while python-dotenv keeps `\$` as two characters. A carriage
//! return survives neither reader's other form. So each value gets the first
//! form that both read exactly, and a value that has none (a `\r`, or a `$`
//! that needs double quotes) is written for dotenvy, with a warning.

use super::Render;
use crate::ui;
use crate::vars::Var;
use anyhow::Result;
use zeroize::Zeroizing;

pub struct Dotenv;

impl Render for Dotenv {
    fn render(&self, vars: &[Var]) -> Result<Zeroizing<String>> {
        let mut out = Zeroizing::new(String::new());
        for v in vars {
            out.push_str(&v.name);
            out.push('=');
            if !push_quoted(&mut out, v.value.expose()) {
                ui::warn(&format!(
                    "{}: the value has a carriage return, or a `$` beside quotes or backslashes; \
                     dotenvy and escort read it back exactly, python-dotenv may not",
                    v.name
                ));
            }
            out.push('\n');
        }
        Ok(out)
    }
}

/// Append `value` quoted; false when no form is read identically by both
/// parsers.
pub fn push_quoted(out: &mut String, value: &str) -> bool {
    let single_ok = !value.contains('\'') && !value.contains('\r') && !value.contains("\\\\") && !value.ends_with('\\');
    if single_ok {
        out.push('\'');
        out.push_str(value);
        out.push('\'');
        return true;
    }
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '$' => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    !value.contains('\r') && !value.contains('$')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(v: &str) -> (String, bool) {
        let mut s = String::new();
        let ok = push_quoted(&mut s, v);
        (s, ok)
    }

    #[test]
    fn forms() {
        assert_eq!(quoted("plain $HOME #x"), ("'plain $HOME #x'".into(), true));
        assert_eq!(quoted("it's"), ("\"it's\"".into(), true));
        assert_eq!(quoted("a\\\\b"), ("\"a\\\\\\\\b\"".into(), true));
        assert_eq!(quoted("l1\nl2"), ("'l1\nl2'".into(), true));
        assert_eq!(quoted("it's $5"), ("\"it's \\$5\"".into(), false));
        assert!(!quoted("a\r\nb").1);
    }
}
