//! `escort sync --from SOURCE --to TARGET`: copy a source's values into a
//! target, and with --prune delete what the source does not have.

use super::report;
use crate::cli::{self, ReportFormat, SyncArgs};
use crate::error::{self, ExitStatus};
use crate::secret;
use crate::settings::Context;
use crate::source::{self, SourceSpec};
use crate::targets::{self, Action, Entry, Target};
use crate::vars::Var;
use crate::{output, ui};
use anyhow::Result;
use std::collections::HashSet;

/// What a sync will do, by name, from the target's list.
struct Plan {
    writes: Vec<(String, Action)>,
    prune: Vec<String>,
    /// Target secrets the source lacks, left alone without --prune.
    extra: usize,
}

impl Plan {
    fn new(target: &dyn Target, vars: &[Var], existing: &[Entry], prune: bool) -> Plan {
        let have: HashSet<String> = existing.iter().map(|e| target.canonical(&e.name)).collect();
        let wanted: HashSet<String> = vars.iter().map(|v| target.canonical(&v.name)).collect();
        let writes = vars
            .iter()
            .map(|v| {
                let action = if have.contains(&target.canonical(&v.name)) { Action::Update } else { Action::Create };
                (v.name.clone(), action)
            })
            .collect();
        let gone: Vec<String> =
            existing.iter().filter(|e| !wanted.contains(&target.canonical(&e.name))).map(|e| e.name.clone()).collect();
        let extra = gone.len();
        Plan { writes, prune: if prune { gone } else { Vec::new() }, extra: if prune { 0 } else { extra } }
    }

    fn action(&self, name: &str) -> Action {
        self.writes.iter().find(|(n, _)| n == name).map_or(Action::Delete, |(_, a)| *a)
    }

    fn count(&self, action: Action) -> usize {
        self.writes.iter().filter(|(_, a)| *a == action).count()
    }

    fn summary(&self) -> String {
        format!(
            "{} to create, {} to update, {} to prune",
            self.count(Action::Create),
            self.count(Action::Update),
            self.prune.len()
        )
    }

    fn print(&self, from: &str, target: &str, format: ReportFormat) -> Result<()> {
        let rows = self
            .writes
            .iter()
            .map(|(n, a)| (n.as_str(), a.as_str()))
            .chain(self.prune.iter().map(|n| (n.as_str(), "prune")));
        match format {
            ReportFormat::Json => {
                let plan: Vec<_> =
                    rows.map(|(name, action)| serde_json::json!({"name": name, "action": action})).collect();
                output::json(&serde_json::json!({"dry_run": true, "source": from, "target": target, "plan": plan}))
            }
            ReportFormat::Text => output::lines(
                std::iter::once(format!("Plan for the {target}, from {from} (dry run: nothing was written):"))
                    .chain(rows.map(|(name, action)| format!("  {action:7} {name}")))
                    .chain(std::iter::once(self.summary())),
            ),
        }
    }
}

pub async fn sync(args: SyncArgs, ctx: &Context) -> Result<ExitStatus> {
    if args.from == SourceSpec::Env && args.keys.takes_everything() {
        return Err(error::usage(
            "--from env needs --keys naming the variables to copy: the whole environment is not a set of secrets",
        ));
    }
    let source = source::open(&args.from, ctx)?;
    let mut options = cli::target_options(&args.app, Some(&args.concurrency), Some(&args.access));
    options.manifest = super::grouping(&args.to, args.access.manifest.as_deref())?;
    let target = targets::open(&args.to, &options, ctx)?;

    let vars = args.keys.apply(source.load().await?)?;
    if !source.scrubbed() {
        // Picked from the environment to become secrets: from now on they are.
        vars.iter().for_each(|v| secret::register(&v.value));
    }
    // Every name and size is checked before the first request to the target.
    target.check(&vars)?;
    if args.prune && vars.is_empty() {
        return Err(error::usage(format!(
            "{} has no variables: refusing to prune everything (use `escort rm --all` for that)",
            source.name()
        )));
    }

    let existing = target.list(false).await?;
    let plan = Plan::new(&*target, &vars, &existing, args.prune);
    if plan.extra > 0 {
        ui::note(&format!(
            "{} secret(s) in the {} are not in {}; --prune would delete them",
            plan.extra,
            target.name(),
            source.name()
        ));
    }
    if args.dry_run {
        plan.print(&source.name(), &target.name(), args.format)?;
        return Ok(ExitStatus::Success);
    }

    report::confirm_delete(&target.name(), &plan.prune, args.yes)?;
    ui::note(&format!("syncing {} to the {}: {}", source.name(), target.name(), plan.summary()));
    let progress = report::progress(vars.len() + plan.prune.len());
    let outcomes = target.apply(&vars, &plan.prune, &progress).await?;
    report::finish(&target.name(), &outcomes, |name| plan.action(name), args.format)
}
