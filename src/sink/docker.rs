//! `load --format docker`: unquoted `NAME=value` lines for `docker run
//! --env-file`, which splits each line at its first `=` and keeps the rest
//! as it is: no quotes, no escapes, one line per variable.
//!
//! So a value that form cannot carry is refused by name, and nothing is
//! written: a line break or carriage return (it would end the line, or be
//! dropped with it), and white space at either end (docker keeps it, but
//! editors and `docker compose`'s `env_file` trim it, and it is invisible in
//! the file). docs/load.md.

use super::render::Render;
use crate::error;
use crate::vars::Var;
use crate::wiped::Wiped;
use anyhow::Result;

pub struct Docker;

impl Render for Docker {
    /// An ESC file is exported as its path, so only its path must fit on the line.
    fn refuse(&self, vars: &[Var]) -> Result<()> {
        let refused: Vec<&str> =
            vars.iter().filter(|v| !v.file && !carried(v.value.expose())).map(|v| v.name.as_str()).collect();
        if refused.is_empty() {
            return Ok(());
        }
        Err(error::usage(format!(
            "--format docker cannot carry the value of {}: a line break, a carriage return or white space \
             at either end; nothing was written (--format dotenv quotes such values)",
            refused.join(", ")
        )))
    }

    fn render(&self, vars: &[Var]) -> Result<Wiped<String>> {
        // Exact: `refuse` let through only values written as they are.
        let len = vars.iter().map(|v| v.name.len() + v.value.len() + "=\n".len()).sum();
        let mut out = Wiped::new(String::with_capacity(len));
        for v in vars {
            out.push_str(&v.name);
            out.push('=');
            out.push_str(v.value.expose());
            out.push('\n');
        }
        Ok(out)
    }
}

fn carried(value: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(char::is_whitespace);
    !value.contains(['\n', '\r']) && !edge(value.chars().next()) && !edge(value.chars().next_back())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_one_unquoted_line_cannot_hold() {
        for bad in ["a\nb", "a\rb", " a", "a ", "\ta", "a\u{a0}", "\n"] {
            assert!(!carried(bad), "{bad:?}");
        }
        for good in ["", "a b", "a=b", "'q'", "\"q\"", "#x", "$HOME", "é"] {
            assert!(carried(good), "{good:?}");
        }
    }

    #[test]
    fn lines_as_they_are_in_a_buffer_sized_exactly() {
        let out = Docker.render(&[Var::plain("A", "a b=c"), Var::secret("E", "")]).unwrap();
        assert_eq!(out.as_str(), "A=a b=c\nE=\n");
        assert_eq!(out.len(), out.capacity());
    }
}
