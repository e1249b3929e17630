//! A .env file as a `Target` (README, "escort sync" and "Targets beyond GitHub"): the design notes'
//! export of a team's secrets to a developer's file.
//!
//! Every write reads the file (with escort's own dotenv reader, so a file it
//! cannot read is an error naming the line, and is left alone), merges, and
//! writes the whole file anew, atomically with mode 0600: entries grouped by
//! the groups of `./escort.toml` when there is one, each value quoted by
//! `sink::dotenv::push_quoted` so that dotenvy and python-dotenv read it back
//! exactly. Keys already in the file stay unless deleted (`--prune`, `rm`).
//! Comments, blank lines and `export ` prefixes of the old file are not kept.
//!
//! A `$` that dotenvy would substitute (outside single quotes, not escaped)
//! makes the file refused for writing: escort would have to write the
//! substituted value, losing the reference and copying another variable's
//! value into the file.

use super::{Action, Entry, Outcome, Progress, Target};
use crate::error;
use crate::manifest::Manifest;
use crate::secret::{self, Secret};
use crate::sink::dotenv::push_quoted;
use crate::source::{BoxFuture, dotenv};
use crate::vars::Var;
use crate::{files, ui};
use anyhow::{Context, Result};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use zeroize::Zeroizing;

pub struct DotenvTarget {
    path: PathBuf,
    /// The manifest whose groups order the file, if the command has one.
    manifest: Option<Arc<Manifest>>,
}

type Entries = Vec<(String, Secret)>;

impl DotenvTarget {
    /// `dotenv:PATH`, grouped as `manifest` says.
    pub fn open(path: PathBuf, manifest: Option<Arc<Manifest>>) -> Self {
        DotenvTarget { path, manifest }
    }

    /// The file's entries in file order; none when there is no file yet.
    fn entries(&self) -> Result<Entries> {
        if !self.path.exists() {
            return Ok(Vec::new());
        }
        // The file's values are secrets read, as a source's are.
        let entries = dotenv::read(&self.path)?;
        entries.iter().for_each(|(_, value)| secret::register(value));
        Ok(entries)
    }

    /// The entries, when the file can be rewritten without changing what
    /// any of them means.
    fn entries_to_rewrite(&self) -> Result<Entries> {
        let entries = self.entries()?;
        if entries.is_empty() {
            return Ok(entries);
        }
        let bytes = Zeroizing::new(
            std::fs::read(&self.path).with_context(|| format!("could not read {}", self.path.display()))?,
        );
        // Read once already, so UTF-8 (it would have been refused otherwise).
        let text = String::from_utf8_lossy(&bytes);
        if let Some(line) = substitution_line(&text) {
            return Err(error::usage(format!(
                "{}:{line}: dotenvy substitutes the `$` here, and escort would write the substituted value \
                 when it rewrites the file: write `\\$` or use single quotes for a literal `$`, or keep such \
                 entries in another file",
                self.path.display()
            )));
        }
        Ok(entries)
    }

    /// Replace the file with `entries`, grouped, warning for each of `written`
    /// that python-dotenv may read differently.
    fn write(&self, entries: &Entries, written: &HashSet<&str>) -> Result<()> {
        let text = render(entries, self.manifest.as_deref(), |name| {
            if written.contains(name) {
                ui::warn(&format!(
                    "{name}: the value has a carriage return, or a `$` beside quotes or backslashes; \
                     dotenvy and escort read it back exactly from {}, python-dotenv may not",
                    self.path.display()
                ));
            }
        });
        files::write_atomic(&self.path, text.as_bytes())
    }

    /// Set `vars` and delete `deletes` in one rewrite of the file; one
    /// outcome per name, in order. Names the file lacks are reported.
    fn change(&self, vars: &[Var], deletes: &[String], progress: Progress<'_>) -> Result<Vec<Outcome>> {
        if vars.is_empty() && deletes.is_empty() {
            return Ok(Vec::new());
        }
        let mut entries = self.entries_to_rewrite()?;
        let had: HashSet<String> = entries.iter().map(|(name, _)| name.clone()).collect();
        entries.retain(|(name, _)| !deletes.contains(name));
        for v in vars {
            match entries.iter_mut().find(|(name, _)| *name == v.name) {
                Some(entry) => entry.1 = v.value.clone(),
                None => entries.push((v.name.clone(), v.value.clone())),
            }
        }
        if !vars.is_empty() || entries.len() < had.len() {
            self.write(&entries, &vars.iter().map(|v| v.name.as_str()).collect())?;
        }
        let writes = vars
            .iter()
            .map(|v| (v.name.as_str(), Ok(if had.contains(&v.name) { Action::Update } else { Action::Create })));
        let deleted = deletes.iter().map(|name| {
            let result = if had.contains(name) {
                Ok(Action::Delete)
            } else {
                Err(error::backend(format!("{} has no {name}", self.path.display())))
            };
            (name.as_str(), result)
        });
        Ok(super::outcomes(writes.chain(deleted), progress))
    }
}

/// The file's text: a header, then the entries, by manifest group (in the
/// manifest's order, members in the manifest's order) under `# === GROUP ===`
/// headers, then the rest in `entries` order (under `# === other ===` when
/// there are groups). `odd` is told each name whose value has no form both
/// parsers read alike.
fn render(entries: &Entries, manifest: Option<&Manifest>, odd: impl Fn(&str)) -> Zeroizing<String> {
    // (group rank, rank in the group, entry): ungrouped last, in file order.
    let mut placed: Vec<(usize, usize, &(String, Secret))> = entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let grouped = manifest.and_then(|m| {
                let (at, spec) = m.secrets.iter().enumerate().find(|(_, s)| s.name == entry.0)?;
                let group = m.groups.iter().position(|g| Some(&g.name) == spec.group.as_ref())?;
                Some((group, at))
            });
            let (group, at) = grouped.unwrap_or((usize::MAX, i));
            (group, at, entry)
        })
        .collect();
    placed.sort_by_key(|(group, at, _)| (*group, *at));
    let any_grouped = placed.first().is_some_and(|(group, _, _)| *group != usize::MAX);

    let mut out = Zeroizing::new(String::from(
        "# Written by escort, which rewrites the whole file: comments and layout are not kept.\n",
    ));
    let mut section = None;
    for (group, _, (name, value)) in placed {
        if any_grouped && section != Some(group) {
            section = Some(group);
            let title = manifest.and_then(|m| m.groups.get(group)).map_or("other", |g| g.name.as_str());
            out.push_str(&format!("\n# === {title} ===\n"));
        }
        out.push_str(name);
        out.push('=');
        if !push_quoted(&mut out, value.expose()) {
            odd(name);
        }
        out.push('\n');
    }
    out
}

/// The line of the first `$` that dotenvy would substitute (outside single
/// quotes and not after a backslash), in text dotenvy has read without error.
/// Mirrors dotenvy 0.15's parser: comment lines, `KEY=`, then its value
/// states; an unquoted space ends a value (what follows is a comment).
fn substitution_line(text: &str) -> Option<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum At {
        LineStart,
        Comment,
        Key,
        ValueStart,
        Value,
        Single,
        Double,
        Escaped { in_double: bool },
        Rest,
    }
    let mut at = At::LineStart;
    let mut line = 1;
    for c in text.chars() {
        at = match (at, c) {
            (At::ValueStart | At::Value | At::Double, '$') => return Some(line),
            (At::LineStart, c) if c.is_whitespace() => At::LineStart,
            (At::LineStart | At::ValueStart, '#') => At::Comment,
            (At::LineStart, _) => At::Key,
            (At::Key, '=') => At::ValueStart,
            (At::ValueStart, ' ' | '\t') => At::ValueStart,
            (At::ValueStart | At::Value, '\'') => At::Single,
            (At::ValueStart | At::Value, '"') => At::Double,
            (At::ValueStart | At::Value, '\\') => At::Escaped { in_double: false },
            (At::Value, ' ' | '\t') => At::Rest,
            (At::Single, '\'') => At::Value,
            (At::Double, '"') => At::Value,
            (At::Double, '\\') => At::Escaped { in_double: true },
            (At::Escaped { in_double }, _) => {
                if in_double {
                    At::Double
                } else {
                    At::Value
                }
            }
            (At::Single | At::Double, _) => at,
            (_, '\n') => At::LineStart,
            (At::ValueStart, _) => At::Value,
            (other, _) => other,
        };
        if c == '\n' {
            line += 1;
        }
    }
    None
}

impl Target for DotenvTarget {
    fn name(&self) -> String {
        format!("dotenv file {}", self.path.display())
    }

    fn check(&self, vars: &[Var]) -> Result<()> {
        let problems = super::env_var_problems(vars);
        if problems.is_empty() {
            return Ok(());
        }
        Err(error::usage(format!(
            "{} cannot hold these variables, so nothing was written: {}",
            self.path.display(),
            problems.join("; ")
        )))
    }

    /// Names only: a file keeps no dates.
    fn list(&self, _details: bool) -> BoxFuture<'_, Result<Vec<Entry>>> {
        Box::pin(async move {
            Ok(self.entries()?.into_iter().map(|(name, _)| Entry { name, ..Entry::default() }).collect())
        })
    }

    fn apply<'a>(
        &'a self,
        vars: &'a [Var],
        prune: &'a [String],
        progress: Progress<'a>,
    ) -> BoxFuture<'a, Result<Vec<Outcome>>> {
        Box::pin(async move { self.change(vars, prune, progress) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Group, SecretSpec};

    fn entries(pairs: &[(&str, &str)]) -> Entries {
        pairs.iter().map(|(k, v)| (k.to_string(), Secret::new(*v))).collect()
    }

    fn spec(name: &str, group: Option<&str>) -> SecretSpec {
        SecretSpec::example(name, group)
    }

    fn manifest() -> Manifest {
        let group = |name: &str| Group { name: name.into(), rotate_days: None, description: None };
        Manifest {
            path: PathBuf::from("escort.toml"),
            sources: Vec::new(),
            groups: vec![group("api-keys"), group("database")],
            secrets: vec![
                spec("DB_URL", Some("database")),
                spec("OPENAI", Some("api-keys")),
                spec("ANTHROPIC", Some("api-keys")),
            ],
            one_of: Vec::new(),
        }
    }

    #[test]
    fn grouped_in_manifest_order_with_the_rest_last() {
        let e = entries(&[("LOCAL", "1"), ("ANTHROPIC", "a"), ("DB_URL", "d"), ("OPENAI", "o"), ("EXTRA", "x")]);
        let text = render(&e, Some(&manifest()), |_| {});
        let want = "# Written by escort, which rewrites the whole file: comments and layout are not kept.\n\
                    \n# === api-keys ===\nOPENAI='o'\nANTHROPIC='a'\n\
                    \n# === database ===\nDB_URL='d'\n\
                    \n# === other ===\nLOCAL='1'\nEXTRA='x'\n";
        assert_eq!(text.as_str(), want);
    }

    #[test]
    fn without_groups_one_section_in_entry_order() {
        let e = entries(&[("B", "it's"), ("A", "2")]);
        for m in [None, Some(manifest())] {
            let text = render(&e, m.as_ref(), |_| {});
            assert!(text.ends_with("kept.\nB=\"it's\"\nA='2'\n"), "{}", text.as_str());
        }
    }

    #[test]
    fn values_without_a_common_form_are_reported() {
        let e = entries(&[("CR", "a\r\nb"), ("OK", "fine"), ("DOLLAR", "it's $5")]);
        let odd = std::sync::Mutex::new(Vec::new());
        render(&e, None, |name| odd.lock().unwrap().push(name.to_string()));
        assert_eq!(*odd.lock().unwrap(), ["CR", "DOLLAR"]);
    }

    #[test]
    fn substitutions_are_found_on_their_line() {
        let cases: [(&str, Option<usize>); 12] = [
            ("A=$HOME\n", Some(1)),
            ("A=1\nB=\"x ${Y}\"\n", Some(2)),
            ("A='$HOME'\n", None),
            ("A=\"\\$HOME\"\n", None),
            ("A=\\$HOME\n", None),
            ("# costs $5\nA=1\n", None),
            ("A=1 # costs $5\n", None),
            ("A= # $5\n", None),
            ("A='it''s $5'\n", None),
            ("A=\"l1\nl2 $X\"\n", Some(2)),
            ("A='l1\n$X'\nB=x$Y\n", Some(3)),
            ("export A=a'b'$c\n", Some(1)),
        ];
        for (text, want) in cases {
            assert_eq!(substitution_line(text), want, "{text:?}");
        }
    }

    #[test]
    fn escorts_own_quoting_never_substitutes() {
        for value in ["$HOME", "it's $5", "a\\$b", "\"$\"", "${X}", "back\\\\slash $", "l1\n$l2", "'$'"] {
            let mut text = String::from("A=");
            push_quoted(&mut text, value);
            text.push('\n');
            assert_eq!(substitution_line(&text), None, "{text:?}");
        }
    }
}
