//! `escort rm TARGET NAME... | --all`: delete secrets, after a confirmation
//! (`--yes` in scripts).

use super::report::{self, ReportFormat};
use crate::targets::{self, AccessFlags, Action, TargetFlags};
use crate::ui;
use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct RmArgs {
    /// github:OWNER/REPO[@ENVIRONMENT], github-org:ORG, github-user, fly:APP, esc:ENV or dotenv:PATH.
    #[arg(value_name = "TARGET")]
    pub target: String,

    /// The secrets to delete.
    #[arg(value_name = "NAME", required_unless_present = "all", conflicts_with = "all")]
    pub names: Vec<String>,

    /// Delete every secret of the target.
    #[arg(long)]
    pub all: bool,

    /// Do not ask first (for scripts).
    #[arg(long, short)]
    pub yes: bool,

    #[command(flatten)]
    pub flags: TargetFlags,

    /// How to print the results.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

pub async fn rm(args: RmArgs) -> Result<u8> {
    let target = targets::open(&args.target, &args.flags, &AccessFlags::default())?;
    let names = if args.all { target.list(false).await?.into_iter().map(|e| e.name).collect() } else { args.names };
    if names.is_empty() {
        ui::note(&format!("no secrets in the {}: nothing to delete", target.name()));
        return Ok(0);
    }
    report::confirm_delete(&target.name(), &names, args.yes)?;
    let progress = report::progress(names.len());
    let outcomes = target.delete(&names, &progress).await?;
    report::finish(&target.name(), &outcomes, |_| Action::Delete, args.format)
}
