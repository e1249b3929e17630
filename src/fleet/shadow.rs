//! Shadowed organization copies (docs/routes.md, "escort status"): in a repository,
//! a repository or environment secret overrides an organization secret of
//! the same name, so a workflow there reads the override, however current
//! the organization copy; and a workflow gets only the first 100 (by name)
//! of the organization secrets its repository may read. For each
//! organization target of a route, each repository its `repos` names is
//! read: its own secrets, every one of its environments' secrets, and the
//! organization secrets it may read. A current copy one of them overrides, or
//! that falls beyond the first 100, is `shadowed`, with the repository named.

use super::routes::Route;
use super::status::{Cell, Status};
use crate::settings::Context;
use crate::targets::github::{App, GitHub, Level, RepoListing, Store};
use crate::targets::{Options, Target, TargetSpec};
use crate::ui;
use anyhow::Result;
use futures_util::future::{join_all, try_join_all};
use std::collections::{BTreeMap, HashSet};

/// How many of the organization secrets its repository may read a workflow
/// gets: the first, by name (GitHub's "Limits for secrets").
const GRANTED_SEEN: usize = 100;

/// What a workflow of one repository reads instead of an organization copy.
struct Repository {
    /// Each scope whose secrets override the organization's, by label
    /// (`OWNER/REPO`, then `OWNER/REPO@ENV` for each environment): its names, upper case.
    overrides: Vec<(String, HashSet<String>)>,
    /// The organization secrets it may read, upper case.
    granted: Vec<String>,
}

/// Mark the shadowed cells of each (route, target, its cells) of `copies`.
/// Returns what could not be listed.
pub async fn mark(
    copies: Vec<(&Route, &TargetSpec, &mut Vec<Cell>)>,
    concurrency: usize,
    ctx: &Context,
) -> Vec<(String, anyhow::Error)> {
    // Each repository to read, by its label (`OWNER/REPO`), read once.
    let mut repositories: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut wanted: Vec<(&str, &mut Vec<Cell>, Vec<String>)> = Vec::new();
    for (route, spec, cells) in copies {
        let TargetSpec::GitHub(Level::Org(org), Store::Secrets) = spec else { continue };
        if route.app.is_some_and(|a| a != App::Actions) || route.repos.is_empty() {
            continue;
        }
        let mut labels = Vec::new();
        for name in &route.repos {
            let (owner, repo) = name.trim().split_once('/').unwrap_or((org, name.trim()));
            let label = format!("{owner}/{repo}");
            repositories.entry(label.clone()).or_insert_with(|| (owner.to_string(), repo.to_string()));
            labels.push(label);
        }
        wanted.push((org, cells, labels));
    }
    if wanted.is_empty() {
        return Vec::new();
    }
    let options = Options { concurrency, ..Options::default() };
    // Every request goes through the one client, which keeps at most
    // `concurrency` in flight per host however many are asked for here.
    let reads = join_all(repositories.into_iter().map(|(label, (owner, repo))| {
        let options = &options;
        async move {
            let read = read(owner, repo, options, ctx).await;
            (label, read)
        }
    }))
    .await;
    let mut read: BTreeMap<String, Repository> = BTreeMap::new();
    let mut unread = Vec::new();
    for (label, result) in reads {
        match result {
            Ok(repository) => {
                if repository.granted.len() > GRANTED_SEEN {
                    ui::warn(&format!(
                        "{label} may read {} organization secrets: its workflows get only the first {GRANTED_SEEN}, \
                         by name (GitHub's limit): the rest are not set in them",
                        repository.granted.len()
                    ));
                }
                read.insert(label, repository);
            }
            Err(e) => {
                let what = format!("the secrets {label} and its environments hold and may read");
                unread.push((format!("{what} (to tell shadowed organization secrets)"), e));
            }
        }
    }
    for (org, cells, labels) in wanted {
        for cell in cells.iter_mut().filter(|c| c.status == Status::Ok) {
            let key = cell.key.to_ascii_uppercase();
            let repositories = labels.iter().filter_map(|l| Some((l, read.get(l)?)));
            let overridden = repositories
                .clone()
                .find_map(|(_, r)| r.overrides.iter().find(|(_, names)| names.contains(&key)).map(|(by, _)| by));
            if let Some(by) = overridden {
                cell.status = Status::Shadowed;
                cell.shadowed_by = Some(by.clone());
                continue;
            }
            // The organization secrets a repository may read are its own organization's.
            let beyond: Vec<_> = repositories
                .filter(|(l, _)| l.split_once('/').is_some_and(|(owner, _)| owner.eq_ignore_ascii_case(org)))
                .map(|(l, r)| (l, r.granted.len(), place(&r.granted, &key)))
                .filter(|(_, _, place)| *place != Place::Got)
                .collect();
            // A repository whose workflows surely miss it, else one where they may.
            let Some(&(by, granted, place)) = beyond.iter().find(|(_, _, p)| *p == Place::Beyond).or(beyond.first())
            else {
                continue;
            };
            let surely = place == Place::Beyond;
            cell.shadowed_by = Some(by.clone());
            if surely {
                cell.status = Status::Shadowed;
                cell.reason = Some(format!(
                    "beyond the first {GRANTED_SEEN}, by name, of the {granted} organization secrets {by} may read: \
                     its workflows do not get it"
                ));
            } else {
                cell.status = Status::Unknown;
                cell.current = true;
                cell.reason = Some(format!(
                    "{by} may read {granted} organization secrets and its workflows get the first {GRANTED_SEEN} by \
                     name; whether this one is among them depends on where GitHub sorts `_`, which it does not say"
                ));
            }
        }
    }
    unread
}

/// A repository's own secrets, each of its environments', and the
/// organization secrets it may read.
async fn read(owner: String, repo: String, options: &Options, ctx: &Context) -> Result<Repository> {
    let label = format!("{owner}/{repo}");
    let at = GitHub::open(Level::Repo { owner: owner.clone(), repo: repo.clone() }, Store::Secrets, options, ctx)?;
    let (own, environments, granted) = tokio::try_join!(
        names(&at),
        at.repository_listing(RepoListing::Environments),
        at.repository_listing(RepoListing::OrganizationSecrets),
    )?;
    let (owner, repo, label) = (&owner, &repo, &label);
    let environments = try_join_all(environments.into_iter().map(|env| async move {
        let level = Level::Env { owner: owner.clone(), repo: repo.clone(), env: env.clone() };
        let names = names(&GitHub::open(level, Store::Secrets, options, ctx)?).await?;
        Ok::<_, anyhow::Error>((format!("{label}@{env}"), names))
    }))
    .await?;
    let overrides = std::iter::once((label.clone(), own)).chain(environments).collect();
    Ok(Repository { overrides, granted: granted.iter().map(|n| n.to_ascii_uppercase()).collect() })
}

/// The names of a scope's secrets, upper case.
async fn names(at: &GitHub) -> Result<HashSet<String>> {
    Ok(at.list(false).await?.into_iter().map(|e| e.name.to_ascii_uppercase()).collect())
}

/// Where a workflow of a repository stands with an organization secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Among the first 100 it gets (or not granted at all: not this check's business).
    Got,
    /// Beyond them, whichever order "by name" means.
    Beyond,
    /// Among them in one order, beyond in another.
    Unsure,
}

/// Where `key` stands among the organization secrets `granted` to a
/// repository (upper case, as GitHub keeps names), of which a workflow there
/// gets the first 100 by name. GitHub does not say where `_` sorts: byte
/// order of the upper-case names (digits, letters, `_`), of the lower-case
/// ones (digits, `_`, letters) and `_` first are each tried, and where they
/// disagree escort cannot tell.
fn place(granted: &[String], key: &str) -> Place {
    if !granted.iter().any(|g| g == key) {
        return Place::Got;
    }
    let orders: [fn(u8) -> u8; 3] = [|b| b, |b| b.to_ascii_lowercase(), |b| if b == b'_' { 0 } else { b }];
    let mut beyond = orders.iter().map(|order| {
        let sorting = |name: &str| name.bytes().map(order).collect::<Vec<u8>>();
        let key = sorting(key);
        granted.iter().filter(|g| sorting(g) < key).count() >= GRANTED_SEEN
    });
    let first = beyond.next().expect("three orders");
    match (first, beyond.all(|b| b == first)) {
        (_, false) => Place::Unsure,
        (true, true) => Place::Beyond,
        (false, true) => Place::Got,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_100_by_name_whichever_way_underscores_sort() {
        let mut granted: Vec<String> = (0..100).map(|i| format!("K{i:03}")).collect();
        granted.extend(["A".into(), "Z".into(), "KX".into(), "K_A".into()]);
        assert_eq!(place(&granted, "A"), Place::Got);
        assert_eq!(place(&granted, "Z"), Place::Beyond, "after 103 others");
        assert_eq!(place(&granted, "KX"), Place::Beyond, "after K000..K099 either way");
        assert_eq!(place(&granted, "K097"), Place::Got, "98 or 99 before it");
        // `K_A` comes after K000..K099 and KX in byte order (`_` after
        // digits and letters), second with `_` first: GitHub does not say
        // which, and K098 is 99th or 101st by the same token.
        assert_eq!(place(&granted, "K_A"), Place::Unsure);
        assert_eq!(place(&granted, "K098"), Place::Unsure);
        assert_eq!(place(&granted, "NOT_GRANTED"), Place::Got, "not this check's business");
        assert_eq!(place(&granted[..100], "K099"), Place::Got, "100 granted: all got");
        // 100 before `K_0` with upper-case bytes (`KA…`: letters before `_`)
        // and 100 with `_` first (`K__…`), but none with lower-case bytes.
        let mut granted: Vec<String> = (0..100).flat_map(|i| [format!("KA{i:03}"), format!("K__{i:03}")]).collect();
        granted.push("K_0".into());
        assert_eq!(place(&granted, "K_0"), Place::Unsure);
    }
}
