//! `export NAME='value'` lines for POSIX shells (`eval "$(escort load)"`).

use super::Render;
use crate::vars::Var;
use crate::wiped::Wiped;
use anyhow::Result;

pub struct Shell;

impl Render for Shell {
    fn render(&self, vars: &[Var]) -> Result<Wiped<String>> {
        // Sized exactly up front: a growing string would leave copies of the
        // values in the memory it gives back.
        let len = vars.iter().map(|v| "export =\n".len() + v.name.len() + quoted_len(v.value.expose())).sum();
        let mut out = Wiped::new(String::with_capacity(len));
        for v in vars {
            out.push_str("export ");
            out.push_str(&v.name);
            out.push('=');
            push_quoted(&mut out, v.value.expose());
            out.push('\n');
        }
        Ok(out)
    }
}

/// The length of `value` as `push_quoted` writes it.
fn quoted_len(value: &str) -> usize {
    2 + value.len() + 3 * memchr::memchr_iter(b'\'', value.as_bytes()).count()
}

/// Single quotes keep everything literal in POSIX shells; a `'` is closed,
/// escaped and reopened.
pub fn push_quoted(out: &mut String, value: &str) {
    out.push('\'');
    for (i, part) in value.split('\'').enumerate() {
        if i > 0 {
            out.push_str("'\\''");
        }
        out.push_str(part);
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let out = Shell.render(&[Var::plain("A", "it's $HOME `x`\n\"q\""), Var::plain("E", "")]).unwrap();
        assert_eq!(out.as_str(), "export A='it'\\''s $HOME `x`\n\"q\"'\nexport E=''\n");
        assert_eq!(out.len(), out.capacity(), "sized exactly");
    }
}
