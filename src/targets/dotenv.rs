//! A .env file as a `Target` (docs/routes.md, "escort sync" and "Targets beyond GitHub"): the design notes'
//! export of a team's secrets to a developer's file.
//!
//! Every write reads the file (with escort's own dotenv reader, so a file it
//! cannot read is an error naming the line, and is left alone), merges, and
//! writes the file anew, atomically with mode 0600: a new file with its
//! entries grouped by the groups of `./escort.toml` when there is one; an
//! existing one edited in place (`dotenv::edit`: comments, blank lines,
//! order and `export ` prefixes stay, as the Dev Container Feature's start
//! hook needs). Each value is quoted by `crate::dotenv` so that dotenvy and
//! python-dotenv read it back exactly. Keys already in the file stay unless
//! deleted (`--prune`, `rm`).
//!
//! A `$` that dotenvy would substitute (outside single quotes, not escaped)
//! makes the file refused for writing: escort would have to write the
//! substituted value, losing the reference and copying another variable's
//! value into the file.

use super::common::{Target, env_var_problems};
use crate::dotenv::{self, Entries};
use crate::error;
use crate::files;
use crate::record::{Action, Entry, Outcome, Progress, Values, outcomes};
use crate::secret;
use crate::vars::BoxFuture;
use crate::vars::Var;
use crate::wiped::Wiped;
use anyhow::Result;
use std::collections::HashSet;
use std::path::PathBuf;

pub struct DotenvTarget {
    path: PathBuf,
    /// The sections that order the file (the command's manifest's groups).
    groups: dotenv::Groups,
}

impl DotenvTarget {
    /// `dotenv:PATH`, in the sections `groups` gives.
    pub fn open(path: PathBuf, groups: dotenv::Groups) -> Self {
        DotenvTarget { path, groups }
    }

    /// The file's entries in file order; none when there is no file yet.
    fn entries(&self) -> Result<Entries> {
        if !self.path.exists() {
            return Ok(Vec::new());
        }
        // The file's values are secrets read, as a source's are.
        let entries = dotenv::read(&self.path)?;
        secret::register_all(entries.iter().map(|(_, value)| value));
        Ok(entries)
    }

    /// The entries and the file's text (empty when there is no file), when
    /// the file can be rewritten without changing what any of them means.
    fn entries_to_rewrite(&self) -> Result<(Entries, Wiped<Vec<u8>>)> {
        let entries = self.entries()?;
        if !self.path.exists() {
            return Ok((entries, Wiped::new(Vec::new())));
        }
        let bytes = files::read_bounded(&self.path, "")?;
        // Read once already, so UTF-8 (it would have been refused otherwise).
        let text = String::from_utf8_lossy(&bytes);
        if let Some(line) = dotenv::substitution_line(&text) {
            return Err(error::usage(format!(
                "{}:{line}: dotenvy substitutes the `$` here, and escort would write the substituted value \
                 when it rewrites the file: write `\\$` or use single quotes for a literal `$`, or keep such \
                 entries in another file",
                self.path.display()
            )));
        }
        Ok((entries, bytes))
    }

    /// Replace the file with `entries`, warning for each of `written` that
    /// python-dotenv may read differently. A new (or blank) file is written
    /// grouped; an existing one is edited in place, its comments and layout kept.
    fn write(&self, old: &[u8], entries: &Entries, written: &HashSet<&str>) -> Result<()> {
        let odd = |name: &str| {
            if written.contains(name) {
                dotenv::warn_odd(name, Some(&self.path));
            }
        };
        // UTF-8: the file was read whole by then.
        let old = std::str::from_utf8(old).unwrap_or_default();
        let text = match old.trim().is_empty() {
            true => dotenv::render_grouped(entries, &self.groups, odd),
            false => dotenv::edit(old, entries, odd),
        };
        // `dotenv:deploy/prod.env` in a fresh checkout: the file's directories are
        // made, private as the file is (docs/routes.md, "dotenv:PATH").
        files::create_private_dirs(&self.path)?;
        files::write_atomic(&self.path, text.as_bytes()).map(|_| ())
    }

    /// Set `vars` and delete `deletes` in one rewrite of the file; one
    /// outcome per name, in order. Names the file lacks are reported.
    fn change(&self, vars: &[Var], deletes: &[String], progress: Progress<'_>) -> Result<Vec<Outcome>> {
        if vars.is_empty() && deletes.is_empty() {
            return Ok(Vec::new());
        }
        let (mut entries, old) = self.entries_to_rewrite()?;
        let had: HashSet<String> = entries.iter().map(|(name, _)| name.clone()).collect();
        entries.retain(|(name, _)| !deletes.contains(name));
        for v in vars {
            match entries.iter_mut().find(|(name, _)| *name == v.name) {
                Some(entry) => entry.1 = v.value.clone(),
                None => entries.push((v.name.clone(), v.value.clone())),
            }
        }
        if !vars.is_empty() || entries.len() < had.len() {
            self.write(&old, &entries, &vars.iter().map(|v| v.name.as_str()).collect())?;
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
        Ok(outcomes(writes.chain(deleted), progress))
    }
}

impl Target for DotenvTarget {
    fn name(&self) -> String {
        format!("dotenv file {}", self.path.display())
    }

    fn check(&self, vars: &[Var]) -> Result<()> {
        let problems = env_var_problems(vars);
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

    fn values(&self) -> BoxFuture<'_, Result<Option<Values>>> {
        Box::pin(async move {
            let entries = self.entries()?.into_iter();
            Ok(Some(entries.map(|(name, value)| (Entry { name, ..Entry::default() }, value)).collect()))
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
