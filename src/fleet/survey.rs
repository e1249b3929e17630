//! What `status` and `sync` share: reading a route's source once and each of
//! its targets once, and comparing them key by key (`status.rs`).

use crate::esc::Esc;
use crate::esc::value::Skipped;
use crate::fleet::ledger::{Ledger, Seen};
use crate::fleet::routes::{Route, Share};
use crate::fleet::status::{self, Cell, Held, SourceKey, Status, TargetKey};
use crate::keys::Selection;
use crate::manifest::Manifest;
use crate::record::Entry;
use crate::secret::Secret;
use crate::settings::Context;
use crate::source::{self, Changed, Source};
use crate::targets::{self, Options, Target, TargetSpec};
use crate::vars::Var;
use crate::{error, secret};
use anyhow::Result;
use futures_util::future::join_all;
use std::collections::{HashMap, HashSet};

/// Which of the source's dates a survey asks for: every key's (`rotation`:
/// ages), or only those a comparison needs (`status`, `sync`: a sealed copy
/// the ledger cannot judge), so that a ledger spares the revision walk.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Dates {
    All,
    Needed,
}

/// One target of a route, read and compared.
pub struct Copy {
    pub spec: TargetSpec,
    pub target: Box<dyn Target>,
    /// One per key of the source or the target.
    pub cells: Vec<Cell>,
    /// How many entries the target listed (its count limit counts them all).
    pub listed: usize,
    /// Its values cannot be read back: the ledger records what escort wrote.
    pub sealed: bool,
    /// How it was opened: to open it afresh and read back its dates after a write.
    pub options: Options,
}

/// A route's source, read, and each of its targets, or why it could not be read.
pub struct Survey {
    pub route: String,
    pub source: String,
    pub vars: Vec<Var>,
    /// The keys the source holds without a value (null, unknown).
    pub held: Vec<(String, Held)>,
    /// Each key's last change at the source, or why it has none; a key left
    /// out: the source keeps no dates (or none was asked for).
    pub changed: HashMap<String, Changed>,
    pub prune: bool,
    pub copies: Vec<Result<Copy, (TargetSpec, anyhow::Error)>>,
}

/// Every cell of every target read.
pub fn cells(surveys: &[Survey]) -> impl Iterator<Item = &Cell> {
    surveys.iter().flat_map(|s| s.copies.iter().flatten().flat_map(|c| c.cells.iter()))
}

/// What escort could not read: a source or a target, named.
pub struct Unread {
    pub what: String,
    pub error: anyhow::Error,
}

/// The routes `names` asks for (all when empty), or a usage error naming
/// the unknown ones; `otherwise` says what to do without routes.
pub fn select<'a>(manifest: &'a Manifest, names: &[String], otherwise: &str) -> Result<Vec<&'a Route>> {
    if manifest.routes.is_empty() {
        return Err(error::usage(format!(
            "{} has no [sync.NAME] routes: add one (docs/routes.md), {otherwise}",
            manifest.path.display()
        )));
    }
    let unknown: Vec<&str> =
        names.iter().filter(|n| !manifest.routes.iter().any(|r| &r.name == *n)).map(String::as_str).collect();
    if !unknown.is_empty() {
        return Err(error::usage(format!("no such route in {}: {}", manifest.path.display(), unknown.join(", "))));
    }
    Ok(manifest.routes.iter().filter(|r| names.is_empty() || names.contains(&r.name)).collect())
}

/// Read every route's source and targets, all targets at once. What could
/// not be read is returned beside the surveys, and the rest still surveyed.
pub async fn survey(
    manifest: &Manifest,
    routes: &[&Route],
    concurrency: usize,
    dates: Dates,
    ctx: &Context,
) -> Result<(Vec<Survey>, Vec<Unread>)> {
    // A `github:` target without a repository becomes the checkout's here,
    // where the command starts, and only for the routes it runs.
    let routes = routes.iter().map(|r| r.resolved(ctx)).collect::<Result<Vec<Route>>>()?;
    // Targets are opened (and so checked) before anything is read.
    let mut opened = Vec::new();
    for route in &routes {
        let options = Options {
            app: route.app,
            concurrency,
            visibility: route.visibility,
            repos: route.repos.clone(),
            ..Options::default()
        };
        let targets = route
            .copies()
            .into_iter()
            .map(|(spec, share)| Ok((targets::open(&spec, &options, ctx)?, spec, share, options.clone())))
            .collect::<Result<Vec<_>>>()?;
        opened.push((route, source::open(&route.from, ctx)?, targets));
    }
    let ledger = match &manifest.ledger {
        Some(env) => Some(Ledger::read(&Esc::new(ctx)?, env).await?),
        None => None,
    };
    let mut unread = Vec::new();
    let ledger = ledger.as_ref();
    let reads = join_all(
        opened.into_iter().map(|(route, source, targets)| read_route(manifest, route, source, targets, ledger, dates)),
    )
    .await;
    let mut surveys = Vec::new();
    for read in reads {
        match read {
            Ok(survey) => {
                for copy in &survey.copies {
                    if let Err((spec, e)) = copy {
                        unread.push(Unread { what: spec.to_string(), error: anyhow::anyhow!("{}", scrubbed(e)) });
                    }
                }
                surveys.push(survey);
            }
            Err(u) => unread.push(u),
        }
    }
    spare_others(manifest, &mut surveys, &mut unread, ctx).await;
    let orgs = surveys.iter_mut().filter_map(|s| Some((routes.iter().find(|r| r.name == s.route)?, &mut s.copies)));
    let copies = orgs.flat_map(|(r, cs)| cs.iter_mut().flatten().map(move |c| (r, &c.spec, &mut c.cells))).collect();
    for (what, e) in super::shadow::mark(copies, concurrency, ctx).await {
        unread.push(Unread { what, error: anyhow::anyhow!("{}", scrubbed(&e)) });
    }
    for copy in surveys.iter_mut().flat_map(|s| s.copies.iter_mut().flatten()) {
        match copy.target.deployed_at().await {
            Ok(deployed) => status::stage(&mut copy.cells, &deployed),
            Err(e) => unread.push(Unread {
                what: format!("what runs from the {} (to tell staged copies)", copy.target.name()),
                error: anyhow::anyhow!("{}", scrubbed(&e)),
            }),
        }
    }
    Ok((surveys, unread))
}

/// A prune never deletes a key another route delivers to the same target
/// (docs/routes.md, "Routes"): each pruning route's `extra` cells lose the keys the
/// other routes send there, the routes not run included (their sources are
/// read for it). Where another route cannot be read, nothing is pruned.
async fn spare_others(manifest: &Manifest, surveys: &mut [Survey], unread: &mut Vec<Unread>, ctx: &Context) {
    let pruned: HashSet<String> = surveys
        .iter()
        .filter(|s| s.prune)
        .flat_map(|s| s.copies.iter().flatten().map(|c| c.spec.to_string()))
        .collect();
    if pruned.is_empty() {
        return;
    }
    // (route, target) -> the names it delivers there; None: it could not be read.
    let mut delivered: Vec<(String, String, Option<Vec<String>>)> = Vec::new();
    for route in &manifest.routes {
        let Ok(route) = route.resolved(ctx) else {
            unread.push(Unread {
                what: format!("route {}", route.name),
                error: anyhow::anyhow!("its targets are unknown (no repository), so no route prunes"),
            });
            delivered.push((route.name.clone(), String::new(), None));
            continue;
        };
        let shared: Vec<(String, Share)> = route
            .copies()
            .into_iter()
            .map(|(spec, share)| (spec.to_string(), share))
            .filter(|(spec, _)| pruned.contains(spec))
            .collect();
        if shared.is_empty() {
            continue;
        }
        let read = match surveys.iter().find(|s| s.route == route.name) {
            Some(s) => Ok((s.vars.clone(), s.held.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>())),
            None => read_names(manifest, &route, ctx).await,
        };
        match read {
            Ok((vars, held)) => {
                // Every key the route reads is spared on each target it shares,
                // whichever side of `plain` it lands on: sparing too much loses nothing.
                for (spec, _) in shared {
                    let names = vars.iter().map(|v| v.name.clone());
                    delivered.push((route.name.clone(), spec, Some(names.chain(held.iter().cloned()).collect())));
                }
            }
            Err(error) => {
                let error = anyhow::anyhow!("{}; no key is pruned where it delivers", scrubbed(&error));
                unread.push(Unread { what: format!("route {} (it shares a pruned target)", route.name), error });
                delivered.extend(shared.into_iter().map(|(spec, _)| (route.name.clone(), spec, None)));
            }
        }
    }
    for survey in surveys.iter_mut().filter(|s| s.prune) {
        for copy in survey.copies.iter_mut().flatten() {
            let spec = copy.spec.to_string();
            let others = delivered.iter().filter(|(r, s, _)| *r != survey.route && (s.is_empty() || *s == spec));
            let mut spared: HashSet<String> = HashSet::new();
            let mut all = false;
            for (_, _, names) in others {
                match names {
                    Some(names) => spared.extend(names.iter().map(|n| copy.target.canonical(n))),
                    None => all = true,
                }
            }
            let target = &copy.target;
            copy.cells.retain(|c| c.status != Status::Extra || !(all || spared.contains(&target.canonical(&c.key))));
        }
    }
}

/// The names a route not run would deliver: its source's, picked and grouped.
async fn read_names(manifest: &Manifest, route: &Route, ctx: &Context) -> Result<(Vec<Var>, Vec<String>)> {
    let source = source::open(&route.from, ctx)?;
    let (vars, held) = source.load_picked_held(&route.keys).await?;
    let held = held_keys(held).into_iter().map(|(n, _)| n).filter(|n| in_group(manifest, route, n)).collect();
    Ok((in_groups(manifest, route, vars), held))
}

fn scrubbed(e: &anyhow::Error) -> String {
    secret::scrub(&format!("{e:#}"))
}

async fn read_route(
    manifest: &Manifest,
    route: &Route,
    source: Box<dyn Source>,
    targets: Vec<(Box<dyn Target>, TargetSpec, Share, Options)>,
    ledger: Option<&Ledger>,
    dates: Dates,
) -> Result<Survey, Unread> {
    let unread = |error| Unread { what: format!("{} (route {})", source.name(), route.name), error };
    let (vars, held) = source.load_picked_held(&route.keys).await.map_err(unread)?;
    let vars = in_groups(manifest, route, vars);
    let held: Vec<(String, Held)> =
        held_keys(held).into_iter().filter(|(name, _)| in_group(manifest, route, name)).collect();
    // Every target read first: the source's dates (a walk of its revisions)
    // are asked only for the keys a comparison needs them for.
    let (all, from) = (&vars, &*source);
    let reads = join_all(targets.into_iter().map(|(target, spec, share, options)| async move {
        let given: Vec<Var> = all.iter().filter(|v| gets(manifest, from, share, v)).cloned().collect();
        match Read::read(&*target).await {
            Ok(read) => Ok((target, spec, options, given, read)),
            Err(e) => Err((spec, e)),
        }
    }))
    .await;
    let names: Vec<String> = vars
        .iter()
        .filter(|v| {
            dates == Dates::All
                || reads.iter().flatten().any(|(target, spec, _, given, read)| {
                    given.iter().any(|g| g.name == v.name) && read.needs_date(spec, &**target, v, ledger)
                })
        })
        .map(|v| v.name.clone())
        .collect();
    let changed = changed_at(&*source, &route.keys, &names).await.map_err(unread)?;
    let copies = reads
        .into_iter()
        .map(|read| {
            read.map(|(target, spec, options, given, read)| {
                let cells = cells_of(&route.name, &given, &held, &changed, &spec, &*target, &read, ledger);
                let listed = crate::fleet::plan::listed(&cells);
                Copy { spec, target, cells, listed, sealed: read.values.is_none(), options }
            })
        })
        .collect();
    Ok(Survey { route: route.name.clone(), source: source.name(), vars, held, changed, prune: route.prune, copies })
}

/// The source's dates of `names`, as `keys` names them (`TO=FROM`: asked of
/// the source as FROM).
pub async fn changed_at(source: &dyn Source, keys: &Selection, names: &[String]) -> Result<HashMap<String, Changed>> {
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    let asked: Vec<String> = names.iter().map(|n| keys.source_name(n).to_string()).collect();
    let dated = source.changed_at(&asked).await?;
    Ok(names.iter().zip(&asked).filter_map(|(name, from)| Some((name.clone(), dated.get(from)?.clone()))).collect())
}

/// The keys a source holds without a value, each with why.
pub fn held_keys(skipped: Skipped) -> Vec<(String, Held)> {
    let null = skipped.null.into_iter().map(|n| (n, Held::Null));
    skipped.unknown.into_iter().map(|n| (n, Held::Unknown)).chain(null).collect()
}

/// Whether a target with `share` gets `var`. Plain is not secret at the source
/// (whole or in part); the manifest's `secret = false` declassifies only what
/// a source that cannot tell marked secret (docs/routes.md, "Routes"): an ESC secret
/// never reaches a variables target.
fn gets(manifest: &Manifest, source: &dyn Source, share: Share, var: &Var) -> bool {
    let plain = !var.holds_secret()
        || (!source.knows_secrecy() && manifest.secrets.iter().any(|s| s.name == var.name && !s.secret));
    match share {
        Share::All => true,
        Share::Secret => !plain,
        Share::Plain => plain,
    }
}

/// The route's `groups`: only the manifest secrets of those groups.
fn in_groups(manifest: &Manifest, route: &Route, vars: Vec<Var>) -> Vec<Var> {
    vars.into_iter().filter(|v| in_group(manifest, route, &v.name)).collect()
}

fn in_group(manifest: &Manifest, route: &Route, name: &str) -> bool {
    let group_of = || manifest.secrets.iter().find(|s| s.name == name).and_then(|s| s.group.as_ref());
    route.groups.is_empty() || group_of().is_some_and(|g| route.groups.contains(g))
}

/// Why a sealed copy judged by dates is what it is, when the dates leave
/// something to say (docs/routes.md, "escort status": what each date means).
/// A key dated only as changed before a date has a copy older than that
/// `unknown`, never `stale`: it may well have changed before the copy.
fn dated(cell: &mut Cell, changed: Option<&Changed>) {
    cell.reason = match (changed, cell.status) {
        (Some(Changed::Undatable(why)), _) => Some(format!("the source cannot date it: {why}")),
        (Some(Changed::Before(at)), Status::Stale) => {
            cell.status = Status::Unknown;
            Some(format!(
                "the source changed it no later than {at} (it keeps no older revision), and the copy is older: cannot tell"
            ))
        }
        (Some(Changed::Before(at)), _) => {
            Some(format!("the source changed it no later than {at}: it keeps no older revision"))
        }
        (None, Status::Unknown) => Some("the source keeps no dates".to_string()),
        (Some(Changed::At(_)), Status::Unknown) => Some("the target gives no date for it".to_string()),
        _ => None,
    };
}

/// A target as read once: its entries, and its values when they can be read back.
pub struct Read {
    entries: Vec<Entry>,
    /// Each entry's place in `entries`, by canonical name.
    index: HashMap<String, usize>,
    values: Option<HashMap<String, Secret>>,
}

impl Read {
    /// Read `target` once (a readable target's entries come with its values).
    pub async fn read(target: &dyn Target) -> Result<Read> {
        let (entries, values) = match target.values().await? {
            Some(read) => {
                let (entries, values): (Vec<Entry>, Vec<Secret>) = read.into_iter().unzip();
                let by_name = entries.iter().map(|e| target.canonical(&e.name)).zip(values).collect();
                (entries, Some(by_name))
            }
            None => (target.list(false).await?, None),
        };
        let index = entries.iter().enumerate().map(|(i, e)| (target.canonical(&e.name), i)).collect();
        Ok(Read { entries, index, values })
    }

    fn entry(&self, target: &dyn Target, name: &str) -> Option<&Entry> {
        self.index.get(&target.canonical(name)).map(|&i| &self.entries[i])
    }

    /// The ledger's status of `var`'s sealed copy, when the ledger can tell.
    fn recorded(&self, spec: &TargetSpec, target: &dyn Target, var: &Var, ledger: Option<&Ledger>) -> Option<Status> {
        let entry = self.entry(target, &var.name).filter(|_| self.values.is_none())?;
        let seen = Seen { key: &var.name, updated_at: entry.updated_at.as_deref(), digest: entry.digest.as_deref() };
        ledger?.status(&spec.to_string(), &seen, &var.value)
    }

    /// Whether comparing `var` here needs its date at the source: a sealed
    /// copy the ledger cannot judge.
    fn needs_date(&self, spec: &TargetSpec, target: &dyn Target, var: &Var, ledger: Option<&Ledger>) -> bool {
        self.values.is_none()
            && self.entry(target, &var.name).is_some()
            && self.recorded(spec, target, var, ledger).is_none()
    }
}

/// One cell per key of the source and of the target, and whether the target
/// is sealed (its values cannot be read back). A sealed copy the ledger has a
/// record of is judged by it, the others by dates. A key held without a value
/// at the source is `unknown` and says why, never `extra`.
pub async fn compare(
    route: &str,
    vars: &[Var],
    without_value: &[(String, Held)],
    changed: &HashMap<String, Changed>,
    spec: &TargetSpec,
    target: &dyn Target,
    ledger: Option<&Ledger>,
) -> Result<(Vec<Cell>, bool)> {
    let read = Read::read(target).await?;
    Ok((cells_of(route, vars, without_value, changed, spec, target, &read, ledger), read.values.is_none()))
}

#[allow(clippy::too_many_arguments)] // one per thing a cell is made of
fn cells_of(
    route: &str,
    vars: &[Var],
    without_value: &[(String, Held)],
    changed: &HashMap<String, Changed>,
    spec: &TargetSpec,
    target: &dyn Target,
    read: &Read,
    ledger: Option<&Ledger>,
) -> Vec<Cell> {
    let target_name = spec.to_string();
    let cell = |key: &str, status: Status, changed_at: Option<&Changed>, updated_at: Option<&String>| Cell {
        source_changed_at: changed_at.and_then(Changed::date).map(str::to_string),
        source_changed_before: changed_at.is_some_and(Changed::is_before),
        target_updated_at: updated_at.cloned(),
        ..Cell::new(route, key, &target_name, status)
    };
    let mut cells = Vec::new();
    for var in vars {
        let canonical = target.canonical(&var.name);
        let entry = read.entry(target, &var.name);
        let changed_at = changed.get(&var.name);
        let source = SourceKey { value: &var.value, changed_at: changed_at.and_then(Changed::date) };
        let copy = entry.map(|e| TargetKey {
            updated_at: e.updated_at.as_deref(),
            value: read.values.as_ref().and_then(|vs| vs.get(&canonical)),
        });
        let recorded = read.recorded(spec, target, var, ledger);
        let mut cell = cell(&var.name, Status::Ok, changed_at, entry.and_then(|e| e.updated_at.as_ref()));
        cell.status = recorded.unwrap_or_else(|| status::compare(Some(&source), copy.as_ref()));
        if recorded.is_none() && copy.as_ref().is_some_and(|c| c.value.is_none()) {
            dated(&mut cell, changed_at);
        }
        cells.push(cell);
    }
    // Only where the target has the key: every cell but `missing` is one it holds.
    for (name, why) in without_value {
        if let Some(entry) = read.entry(target, name) {
            let updated_at = entry.updated_at.as_ref();
            cells.push(Cell { source_value: Some(*why), ..cell(name, Status::Unknown, None, updated_at) });
        }
    }
    let wanted: Vec<String> =
        vars.iter().map(|v| &v.name).chain(without_value.iter().map(|(n, _)| n)).map(|n| target.canonical(n)).collect();
    for e in read.entries.iter().filter(|e| !wanted.contains(&target.canonical(&e.name))) {
        cells.push(cell(&e.name, Status::Extra, None, e.updated_at.as_ref()));
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cell of a sealed copy written on `updated`, compared by dates.
    fn judged(changed: Changed, updated: &str) -> Cell {
        let value = Secret::new("v");
        let source = SourceKey { value: &value, changed_at: changed.date() };
        let copy = TargetKey { updated_at: Some(updated), value: None };
        let mut cell = Cell::new("r", "K", "t", status::compare(Some(&source), Some(&copy)));
        dated(&mut cell, Some(&changed));
        cell
    }

    #[test]
    fn a_changed_before_date_is_a_bound() {
        let bound = || Changed::Before("2025-02-01T00:00:00Z".into());
        let newer = judged(bound(), "2025-03-01T00:00:00Z");
        assert_eq!(newer.status, Status::Ok);
        assert!(newer.reason.is_some_and(|r| r.contains("no later than 2025-02-01")));
        // Older than the bound: the change may have come before the copy.
        let older = judged(bound(), "2025-01-01T00:00:00Z");
        assert_eq!(older.status, Status::Unknown);
        assert!(older.reason.is_some_and(|r| r.contains("cannot tell")));
        let exact = judged(Changed::At("2025-02-01T00:00:00Z".into()), "2025-01-01T00:00:00Z");
        assert_eq!((exact.status, exact.reason), (Status::Stale, None));
        let undatable = judged(Changed::Undatable("a provider".into()), "2025-01-01T00:00:00Z");
        assert_eq!(undatable.status, Status::Unknown);
        assert_eq!(undatable.reason.as_deref(), Some("the source cannot date it: a provider"));
    }
}
