//! Shadowed organization copies (docs/routes.md, "escort status"): in a repository,
//! a repository or environment secret overrides an organization secret of
//! the same name, so a workflow there reads the override, however current
//! the organization copy. For each organization target of a route, the
//! repositories its `repos` names are listed and each current copy they
//! override is `shadowed`, with the repository named.

use super::routes::Route;
use super::status::{Cell, Status};
use crate::settings::Context;
use crate::targets::github::{App, Level, Store};
use crate::targets::{self, Options, TargetSpec};
use std::collections::{BTreeMap, HashSet};

/// Mark the shadowed cells of each (route, target, its cells) of `copies`;
/// `all` are the manifest's routes. The scopes looked at: each named
/// repository's Actions secrets, and those of the environments of it that
/// the manifest's routes write to. Returns what could not be listed.
pub async fn mark(
    copies: Vec<(&Route, &TargetSpec, &mut Vec<Cell>)>,
    all: &[Route],
    concurrency: usize,
    ctx: &Context,
) -> Vec<(String, anyhow::Error)> {
    let environments: Vec<Level> = all
        .iter()
        .flat_map(|r| r.to.iter())
        .filter_map(|spec| match spec {
            TargetSpec::GitHub(level @ Level::Env { .. }, Store::Secrets) => Some(level.clone()),
            _ => None,
        })
        .collect();
    // Each scope to list, by its label (`OWNER/REPO[@ENV]`), listed once.
    let mut scopes: BTreeMap<String, Level> = BTreeMap::new();
    let mut wanted: Vec<(&mut Vec<Cell>, Vec<String>)> = Vec::new();
    for (route, spec, cells) in copies {
        let TargetSpec::GitHub(Level::Org(org), Store::Secrets) = spec else { continue };
        if route.app.is_some_and(|a| a != App::Actions) {
            continue;
        }
        let mut labels = Vec::new();
        for name in &route.repos {
            let (owner, repo) = name.trim().split_once('/').unwrap_or((org, name.trim()));
            let level = Level::Repo { owner: owner.to_string(), repo: repo.to_string() };
            let envs = environments
                .iter()
                .filter(|l| matches!(l, Level::Env { owner: o, repo: r, .. } if o == owner && r == repo));
            for level in std::iter::once(&level).chain(envs) {
                let label = label(level);
                scopes.entry(label.clone()).or_insert_with(|| level.clone());
                labels.push(label);
            }
        }
        if !labels.is_empty() {
            wanted.push((cells, labels));
        }
    }
    if wanted.is_empty() {
        return Vec::new();
    }
    let options = Options { concurrency, ..Options::default() };
    let lists = futures_util::future::join_all(scopes.into_iter().map(|(label, level)| {
        let options = &options;
        async move {
            let spec = TargetSpec::GitHub(level, Store::Secrets);
            let names = match targets::open(&spec, options, ctx) {
                Ok(target) => target.list(false).await,
                Err(e) => Err(e),
            };
            let names = names.map(|es| es.into_iter().map(|e| e.name.to_ascii_uppercase()).collect::<HashSet<_>>());
            (label, names)
        }
    }))
    .await;
    let mut held: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    let mut unread = Vec::new();
    for (label, names) in lists {
        match names {
            Ok(names) => {
                held.insert(label, names);
            }
            Err(e) => {
                unread.push((format!("the Actions secrets of {label} (to tell shadowed organization secrets)"), e))
            }
        }
    }
    for (cells, labels) in wanted {
        for cell in cells.iter_mut().filter(|c| c.status == Status::Ok) {
            let key = cell.key.to_ascii_uppercase();
            if let Some(by) = labels.iter().find(|l| held.get(*l).is_some_and(|names| names.contains(&key))) {
                cell.status = Status::Shadowed;
                cell.shadowed_by = Some(by.clone());
            }
        }
    }
    unread
}

fn label(level: &Level) -> String {
    match level {
        Level::Repo { owner, repo } => format!("{owner}/{repo}"),
        Level::Env { owner, repo, env } => format!("{owner}/{repo}@{env}"),
        Level::Org(org) => org.clone(),
        Level::User => "the user".into(),
    }
}
