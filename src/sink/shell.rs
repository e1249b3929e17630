//! `export NAME='value'` lines for POSIX shells (`eval "$(escort load)"`).

use super::render::Render;
use crate::vars::Var;
use crate::wiped::Wiped;
use anyhow::Result;

pub struct Shell;

impl Render for Shell {
    fn render(&self, vars: &[Var]) -> Result<Wiped<String>> {
        // Sized up front for values without a `'` (no second pass to count
        // them); those grow it as `Wiped` grows.
        let len = vars.iter().map(|v| "export ='\n".len() + 1 + v.name.len() + v.value.len()).sum();
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

/// Single quotes keep everything literal in POSIX shells; a `'` is closed,
/// escaped and reopened.
fn push_quoted(out: &mut Wiped<String>, value: &str) {
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
        let plain = Shell.render(&[Var::plain("A", "plain value")]).unwrap();
        assert_eq!(plain.len(), plain.capacity(), "sized exactly when no quote is escaped");
    }
}
