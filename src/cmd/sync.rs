//! `escort sync --from SOURCE --to TARGET`: copy a source's values into a
//! target, and with --prune delete what the source does not have.

use super::report::{self, ReportFormat};
use crate::error;
use crate::keys::Selection;
use crate::secret;
use crate::source;
use crate::targets::{self, AccessFlags, Action, Entry, Target, TargetFlags};
use crate::ui;
use crate::vars::Var;
use anyhow::Result;
use clap::Args;
use std::collections::HashSet;

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// Where the values come from: esc[:ENV], dotenv:PATH or env (with --keys).
    #[arg(long, value_name = "SOURCE")]
    pub from: String,

    /// Where they go: github:OWNER/REPO[@ENVIRONMENT], github-org:ORG, github-user, fly:APP, esc:ENV or dotenv:PATH.
    #[arg(long, value_name = "TARGET")]
    pub to: String,

    /// Which variables, and under which names: `NAME`, `TO=FROM`, `*`; comma- or newline-separated.
    #[arg(long, value_name = "LIST", default_value = "")]
    pub keys: String,

    /// Print the plan (create / update / prune) and send nothing that writes.
    #[arg(long)]
    pub dry_run: bool,

    /// Also delete the target's secrets that the source does not have (asks first).
    #[arg(long)]
    pub prune: bool,

    /// Do not ask before pruning (for scripts).
    #[arg(long, short)]
    pub yes: bool,

    #[command(flatten)]
    pub target: TargetFlags,

    #[command(flatten)]
    pub access: AccessFlags,

    /// How to print the plan and the results.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

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

    fn print(&self, from: &str, target: &str, format: ReportFormat) {
        let rows = self
            .writes
            .iter()
            .map(|(n, a)| (n.as_str(), a.as_str()))
            .chain(self.prune.iter().map(|n| (n.as_str(), "prune")));
        match format {
            ReportFormat::Json => {
                let plan: Vec<_> =
                    rows.map(|(name, action)| serde_json::json!({"name": name, "action": action})).collect();
                println!("{}", serde_json::json!({"dry_run": true, "source": from, "target": target, "plan": plan}));
            }
            ReportFormat::Text => {
                println!("Plan for the {target}, from {from} (dry run: nothing was written):");
                for (name, action) in rows {
                    println!("  {action:7} {}", crate::ui::escape(name));
                }
                println!("{}", self.summary());
            }
        }
    }
}

pub async fn sync(args: SyncArgs) -> Result<u8> {
    let keys = Selection::parse(&args.keys)?;
    let source = source::parse(&args.from)?;
    let target = targets::open(&args.to, &args.target, &args.access)?;

    if args.from == "env" && takes_everything(&args.keys) {
        return Err(error::usage(
            "--from env needs --keys naming the variables to copy: the whole environment is not a set of secrets",
        ));
    }

    let vars = keys.apply(source.load().await?)?;
    for v in &vars {
        secret::register(&v.value);
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
        plan.print(&source.name(), &target.name(), args.format);
        return Ok(0);
    }

    report::confirm_delete(&target.name(), &plan.prune, args.yes)?;
    ui::note(&format!("syncing {} to the {}: {}", source.name(), target.name(), plan.summary()));
    let progress = report::progress(vars.len() + plan.prune.len());
    let outcomes = target.apply(&vars, &plan.prune, &progress).await?;
    report::finish(&target.name(), &outcomes, |name| plan.action(name), args.format)
}

/// A `--keys` list that selects every variable (empty, or with `*`).
fn takes_everything(keys: &str) -> bool {
    let mut items = keys.split([',', '\n']).map(str::trim).filter(|i| !i.is_empty()).peekable();
    items.peek().is_none() || items.any(|i| i == "*")
}
