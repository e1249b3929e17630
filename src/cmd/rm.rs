//! `escort rm TARGET NAME... | --all`: delete secrets, after a confirmation
//! (`--yes` in scripts).

use super::report;
use crate::cli::{self, RmArgs};
use crate::error::ExitStatus;
use crate::record::Action;
use crate::settings::Context;
use crate::targets;
use crate::ui;
use anyhow::Result;

pub async fn rm(args: RmArgs, ctx: &Context) -> Result<ExitStatus> {
    let mut options = cli::target_options(&args.app, Some(&args.concurrency), None);
    options.groups = report::grouping(&args.target, None)?;
    let target = targets::open(&args.target, &options, ctx)?;
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
    report::finish(&target.name(), &outcomes, |_| Action::Delete, args.format)
}
