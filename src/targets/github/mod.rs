//! GitHub secrets (docs/routes.md, "escort sync" and "Targets beyond GitHub") and
//! Actions variables (docs/routes.md, "GitHub Actions variables") as a `Target`: list,
//! write and delete, for every level, app and store `scope` knows. Secrets are
//! sealed to the target's public key; variables (`variables.rs`) are plain and
//! read back. Requests follow `tests/specs/github-secrets.openapi.json` and
//! `tests/specs/github-variables.openapi.json` (GitHub's own descriptions).

mod client;
mod scope;
mod seal;
mod variables;

pub use client::{GitHub, RepoListing};
pub(crate) use client::{MOST_LISTED, list_pages};
pub use scope::{App, Level, Store, Visibility};

use super::common::Target;
use crate::error;
use crate::record::{Entry, Outcome, Progress, Values};
use crate::vars::{BoxFuture, Var};
use anyhow::Result;
use client::bounded;
use scope::{MAX_VALUE, name_problem};
use std::collections::HashMap;

impl Target for GitHub {
    fn name(&self) -> String {
        self.scope.to_string()
    }

    fn holds(&self) -> &'static str {
        match self.scope.store {
            Store::Secrets => "secrets",
            Store::Variables => "variables",
        }
    }

    fn canonical(&self, name: &str) -> String {
        name.to_ascii_uppercase()
    }

    fn check(&self, vars: &[Var]) -> Result<()> {
        let mut problems = Vec::new();
        let mut seen: HashMap<String, &str> = HashMap::new();
        for v in vars {
            if let Some(why) = name_problem(&v.name) {
                problems.push(format!("the name `{}` {why}", v.name));
            }
            if v.value.len() > MAX_VALUE {
                problems.push(format!("{} is {} bytes, over GitHub's 48 KB limit", v.name, v.value.len()));
            }
            if let Some(first) = seen.insert(self.canonical(&v.name), &v.name) {
                problems.push(format!("{first} and {} are one name to GitHub, which ignores case", v.name));
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(error::usage(format!(
            "GitHub would refuse these {}s, so nothing was sent: {}",
            self.scope.store.noun(),
            problems.join("; ")
        )))
    }

    fn limit(&self) -> Option<(usize, String)> {
        self.scope.limit().map(|(most, rule)| (most, format!("GitHub allows {rule}")))
    }

    fn list(&self, details: bool) -> BoxFuture<'_, Result<Vec<Entry>>> {
        Box::pin(async move {
            let mut entries: Vec<Entry> = self.listing().await?.iter().map(|l| l.entry.clone()).collect();
            if details && self.scope.level.has_repo_selection() {
                self.count_repos(&mut entries).await?;
            }
            Ok(entries)
        })
    }

    /// Variables are plain: read back, so `escort status` compares their values.
    fn values(&self) -> BoxFuture<'_, Result<Option<Values>>> {
        Box::pin(async move {
            if self.scope.store == Store::Secrets {
                return Ok(None);
            }
            let listed = self.listing().await?;
            Ok(Some(listed.iter().map(|l| (l.entry.clone(), l.value.clone().unwrap_or_default())).collect()))
        })
    }

    fn apply<'a>(
        &'a self,
        vars: &'a [Var],
        prune: &'a [String],
        progress: Progress<'a>,
    ) -> BoxFuture<'a, Result<Vec<Outcome>>> {
        Box::pin(async move {
            let mut outcomes = Vec::new();
            if !vars.is_empty() {
                outcomes = match self.scope.store {
                    Store::Secrets => self.put_secrets(vars, progress).await?,
                    Store::Variables => self.put_variables(vars, progress).await?,
                };
            }
            outcomes.extend(
                bounded(prune, self.concurrency, progress, |name| async move {
                    Outcome { name: name.clone(), result: self.delete_one(name).await }
                })
                .await,
            );
            Ok(outcomes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(total: u64, names: &[&str]) -> Vec<u8> {
        let items: Vec<String> = names.iter().map(|n| format!(r#"{{"name":"{n}"}}"#)).collect();
        format!(r#"{{"total_count":{total},"secrets":[{}]}}"#, items.join(",")).into_bytes()
    }

    #[test]
    fn a_listing_ends_where_github_would_and_keeps_each_name_once() {
        let (one, two) = (page(3, &["A", "B"]), page(3, &["b", "C"]));
        let (names, pages) = list_pages(2, [one.as_slice(), two.as_slice()]);
        assert_eq!((names.unwrap(), pages), (vec!["A".to_string(), "B".into(), "C".into()], 2));
        let refused = |bodies: Vec<Vec<u8>>, per_page: usize, why: &str| {
            let (listed, _) = list_pages(per_page, bodies.iter().map(Vec::as_slice).cycle());
            let e = listed.unwrap_err();
            assert_eq!(error::kind_of(&e), error::Kind::Backend);
            assert!(e.to_string().contains(why), "{e}");
        };
        refused(vec![page(1001, &["A"])], 1, "GitHub holds at most 1000");
        refused(vec![page(5, &["A", "B"])], 2, "page 2 repeats names already listed");
        refused(vec![page(5, &["A", "B", "C"])], 2, "page 1 has 3 entries, more than the 2 asked for");
        // New names on every full page, never reaching the count: stopped at GitHub's most.
        let endless: Vec<Vec<u8>> = (0..40)
            .map(|p| {
                let names: Vec<String> = (0..30).map(|i| format!("N{p}_{i}")).collect();
                page(1000, &names.iter().map(String::as_str).collect::<Vec<_>>())
            })
            .collect();
        refused(endless, 30, "more than 1000 entries");
    }
}
