//! `escort rm TARGET NAME... | --all`: delete secrets, after a confirmation
//! (`--yes` in scripts).

use super::report;
use crate::cli::{self, RmArgs};
use crate::error::ExitStatus;
use crate::fleet::ledger::OneOff;
use crate::record::Action;
use crate::settings::Context;
use crate::targets;
use crate::ui;
use anyhow::Result;

pub async fn rm(args: RmArgs, ctx: &Context) -> Result<ExitStatus> {
    let mut options = cli::target_options(&args.app, Some(&args.concurrency), None);
    options.groups = report::grouping(&args.target, None)?;
    let spec = args.target.resolve(ctx)?;
    let target = targets::open(&spec, &options, ctx)?;
    let ledger = OneOff::find(args.manifest.as_deref(), &spec, args.app.app, ctx)?;
    let names = if args.all { target.list(false).await?.into_iter().map(|e| e.name).collect() } else { args.names };
    if names.is_empty() {
        ui::note(&format!("no secrets in the {}: nothing to delete", target.name()));
        return Ok(ExitStatus::Success);
    }
    report::confirm_delete(&target.name(), &names, args.yes)?;
    let progress = report::progress(&target.name(), names.len());
    let outcomes = crate::audit::write(&target.name(), target.delete(&names, &|o| progress.tell(o)).await);
    progress.finish();
    let outcomes = outcomes?;
    // The records of the deleted copies go with them (docs/routes.md, "The ledger").
    let recorded = match &ledger {
        Some(ledger) => ledger.record(&spec, &options, &outcomes, &[], ctx).await,
        None => Ok(()),
    };
    report::and_recorded(report::finish(&target.name(), &outcomes, |_| Action::Delete, args.format), recorded)
}
