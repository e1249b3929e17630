//! GitHub's budget of Actions variables per workflow run (docs/routes.md, "GitHub's
//! limits"): a run reads at most 256 KB of organization and repository
//! variables together, and GitHub drops the rest at run time without an
//! error. A sync that would take a repository (with its organization's
//! variables) past it is refused before any write.

use crate::error;
use crate::targets::github::{Level, Store};
use crate::targets::{Target, TargetSpec};
use crate::vars::Var;
use anyhow::Result;
use std::collections::BTreeMap;

/// GitHub's combined size limit of organization and repository variables.
pub const BUDGET: usize = 256 * 1024;

/// What a sync will do to one target: write `vars`, delete `prune`.
pub struct Change<'a> {
    pub spec: &'a TargetSpec,
    pub target: &'a dyn Target,
    pub vars: Vec<Var>,
    pub prune: &'a [String],
}

/// The bytes (names and values) a variables target holds now and after the change.
async fn sizes(change: &Change<'_>) -> Result<(usize, usize)> {
    let held = change.target.values().await?.unwrap_or_default();
    let mut now: BTreeMap<String, usize> = BTreeMap::new();
    for (entry, value) in &held {
        now.insert(change.target.canonical(&entry.name), entry.name.len() + value.len());
    }
    let mut after = now.clone();
    for var in &change.vars {
        after.insert(change.target.canonical(&var.name), var.name.len() + var.value.len());
    }
    for name in change.prune {
        after.remove(&change.target.canonical(name));
    }
    Ok((now.values().sum(), after.values().sum()))
}

/// Refuse a sync that grows a repository's variables, with those of its
/// organization that the sync also writes, past `BUDGET`. Variables of an
/// organization the sync does not write are not read: those are not counted.
pub async fn check(changes: &[Change<'_>]) -> Result<()> {
    let mut repos: Vec<(String, String, (usize, usize))> = Vec::new();
    let mut orgs: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for change in changes {
        match change.spec {
            TargetSpec::GitHub(Level::Repo { owner, repo }, Store::Variables) => {
                repos.push((owner.clone(), format!("{owner}/{repo}"), sizes(change).await?));
            }
            TargetSpec::GitHub(Level::Org(org), Store::Variables) => {
                orgs.insert(org.clone(), sizes(change).await?);
            }
            _ => {}
        }
    }
    let mut over = Vec::new();
    let mut judge = |what: String, (now, after): (usize, usize)| {
        if after > BUDGET && after > now {
            over.push(format!("{what} would read {after} bytes of variables in each workflow run"));
        }
    };
    for (owner, repo, (now, after)) in &repos {
        let (org_now, org_after) = orgs.get(owner).copied().unwrap_or_default();
        judge(format!("{repo} (with organization {owner}'s variables)"), (now + org_now, after + org_after));
    }
    for (org, size) in &orgs {
        if !repos.iter().any(|(owner, _, _)| owner == org) {
            judge(format!("organization {org}"), *size);
        }
    }
    if over.is_empty() {
        return Ok(());
    }
    Err(error::usage(format!(
        "refusing to sync, nothing was written: {}; GitHub allows 256 KB of organization and repository variables per workflow run and drops the rest without an error",
        over.join("; ")
    )))
}
