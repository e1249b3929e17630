//! What `status` and `sync` share: reading a route's source once and each of
//! its targets once, and comparing them key by key (`status.rs`).

use crate::esc::Esc;
use crate::fleet::ledger::Ledger;
use crate::fleet::routes::{Route, Share};
use crate::fleet::status::{self, Cell, SourceKey, Status, TargetKey};
use crate::manifest::Manifest;
use crate::record::Entry;
use crate::secret::Secret;
use crate::settings::Context;
use crate::source::{self, Source};
use crate::targets::{self, Options, Target, TargetSpec};
use crate::vars::Var;
use crate::{error, secret};
use anyhow::Result;
use futures_util::future::join_all;
use std::collections::HashMap;

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
    /// Each key's last change at the source (RFC 3339), where it can tell.
    pub changed: HashMap<String, String>,
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
            "{} has no [sync.NAME] routes: add one (README, \"Routes\"), {otherwise}",
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
    Ok((surveys, unread))
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
    let vars = in_groups(manifest, route, source.load_picked(&route.keys).await.map_err(unread)?);
    // Every target read first: the source's dates (a walk of its revisions)
    // are asked only for the keys a comparison needs them for.
    let all = &vars;
    let reads = join_all(targets.into_iter().map(|(target, spec, share, options)| async move {
        let given: Vec<Var> = all.iter().filter(|v| gets(manifest, share, v)).cloned().collect();
        match Held::read(&*target).await {
            Ok(held) => Ok((target, spec, options, given, held)),
            Err(e) => Err((spec, e)),
        }
    }))
    .await;
    let names: Vec<String> = vars
        .iter()
        .filter(|v| {
            dates == Dates::All
                || reads.iter().flatten().any(|(target, spec, _, given, held)| {
                    given.iter().any(|g| g.name == v.name) && held.needs_date(spec, &**target, v, ledger)
                })
        })
        .map(|v| v.name.clone())
        .collect();
    let changed = if names.is_empty() { HashMap::new() } else { source.changed_at(&names).await.map_err(unread)? };
    let copies = reads
        .into_iter()
        .map(|read| {
            read.map(|(target, spec, options, given, held)| {
                let cells = cells_of(&route.name, &given, &changed, &spec, &*target, &held, ledger);
                Copy { spec, target, cells, sealed: held.values.is_none(), options }
            })
        })
        .collect();
    Ok(Survey { route: route.name.clone(), source: source.name(), vars, changed, prune: route.prune, copies })
}

/// Whether a target with `share` gets `var`: plain is not secret at the
/// source, or `secret = false` in the manifest.
fn gets(manifest: &Manifest, share: Share, var: &Var) -> bool {
    let plain = !var.secret || manifest.secrets.iter().any(|s| s.name == var.name && !s.secret);
    match share {
        Share::All => true,
        Share::Secret => !plain,
        Share::Plain => plain,
    }
}

/// The route's `groups`: only the manifest secrets of those groups.
fn in_groups(manifest: &Manifest, route: &Route, vars: Vec<Var>) -> Vec<Var> {
    if route.groups.is_empty() {
        return vars;
    }
    let group_of = |name: &str| manifest.secrets.iter().find(|s| s.name == name).and_then(|s| s.group.as_ref());
    vars.into_iter().filter(|v| group_of(&v.name).is_some_and(|g| route.groups.contains(g))).collect()
}

/// A target as read once: its entries, and its values when they can be read back.
pub struct Held {
    entries: Vec<Entry>,
    /// Each entry's place in `entries`, by canonical name.
    index: HashMap<String, usize>,
    values: Option<HashMap<String, Secret>>,
}

impl Held {
    /// Read `target` once (a readable target's entries come with its values).
    pub async fn read(target: &dyn Target) -> Result<Held> {
        let (entries, values) = match target.values().await? {
            Some(read) => {
                let (entries, values): (Vec<Entry>, Vec<Secret>) = read.into_iter().unzip();
                let by_name = entries.iter().map(|e| target.canonical(&e.name)).zip(values).collect();
                (entries, Some(by_name))
            }
            None => (target.list(false).await?, None),
        };
        let index = entries.iter().enumerate().map(|(i, e)| (target.canonical(&e.name), i)).collect();
        Ok(Held { entries, index, values })
    }

    fn entry(&self, target: &dyn Target, name: &str) -> Option<&Entry> {
        self.index.get(&target.canonical(name)).map(|&i| &self.entries[i])
    }

    /// The ledger's status of `var`'s sealed copy, when the ledger can tell.
    fn recorded(&self, spec: &TargetSpec, target: &dyn Target, var: &Var, ledger: Option<&Ledger>) -> Option<Status> {
        let entry = self.entry(target, &var.name).filter(|_| self.values.is_none())?;
        ledger?.status(&spec.to_string(), &var.name, &var.value, entry.updated_at.as_deref())
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
/// record of is judged by it, the others by dates.
pub async fn compare(
    route: &str,
    vars: &[Var],
    changed: &HashMap<String, String>,
    spec: &TargetSpec,
    target: &dyn Target,
    ledger: Option<&Ledger>,
) -> Result<(Vec<Cell>, bool)> {
    let held = Held::read(target).await?;
    Ok((cells_of(route, vars, changed, spec, target, &held, ledger), held.values.is_none()))
}

fn cells_of(
    route: &str,
    vars: &[Var],
    changed: &HashMap<String, String>,
    spec: &TargetSpec,
    target: &dyn Target,
    held: &Held,
    ledger: Option<&Ledger>,
) -> Vec<Cell> {
    let cell = |key: &str, status: Status, changed_at: Option<&String>, updated_at: Option<&String>| Cell {
        route: route.to_string(),
        key: key.to_string(),
        target: spec.to_string(),
        status,
        source_changed_at: changed_at.cloned(),
        target_updated_at: updated_at.cloned(),
    };
    let mut cells = Vec::new();
    for var in vars {
        let canonical = target.canonical(&var.name);
        let entry = held.entry(target, &var.name);
        let source = SourceKey { value: &var.value, changed_at: changed.get(&var.name).map(String::as_str) };
        let copy = entry.map(|e| TargetKey {
            updated_at: e.updated_at.as_deref(),
            value: held.values.as_ref().and_then(|vs| vs.get(&canonical)),
        });
        let recorded = held.recorded(spec, target, var, ledger);
        let status = recorded.unwrap_or_else(|| status::compare(Some(&source), copy.as_ref()));
        cells.push(cell(&var.name, status, changed.get(&var.name), entry.and_then(|e| e.updated_at.as_ref())));
    }
    let wanted: Vec<String> = vars.iter().map(|v| target.canonical(&v.name)).collect();
    for e in held.entries.iter().filter(|e| !wanted.contains(&target.canonical(&e.name))) {
        cells.push(cell(&e.name, Status::Extra, None, e.updated_at.as_ref()));
    }
    cells
}
