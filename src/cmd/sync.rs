//! `escort sync`: copy a source's values into targets, writing only the
//! copies that are missing, stale, drifted or unknown (`--force` writes all).
//! With `--from`/`--to`, one source and one target; without, the manifest's
//! routes (all, or those named).

use super::report::{self, Results};
use crate::cli::{self, ReportFormat, SyncArgs};
use crate::error::{self, ExitStatus, Failure, Kind};
use crate::fleet::budget;
use crate::fleet::ledger::{self, OneOff};
use crate::fleet::plan::{self, Plan};
use crate::fleet::status::{self, Cell};
use crate::fleet::{self, Survey};
use crate::manifest;
use crate::record::Outcome;
use crate::settings::Context;
use crate::source::{self, Source, SourceSpec};
use crate::targets::github::Store;
use crate::targets::{self, Target, TargetSpec};
use crate::vars::Var;
use crate::{output, summary, ui};
use anyhow::Result;

pub async fn sync(args: SyncArgs, ctx: &Context) -> Result<ExitStatus> {
    match (&args.from, &args.to) {
        (Some(from), Some(to)) if args.routes.is_empty() => one(&args, from, to, ctx).await,
        (Some(_), Some(_)) => Err(error::usage("name routes, or --from and --to, not both")),
        (None, None) => routes(&args, ctx).await,
        _ => Err(error::usage("--from and --to go together (without both, sync runs the manifest's routes)")),
    }
}

/// `--from SOURCE --to TARGET`.
async fn one(args: &SyncArgs, from: &SourceSpec, to: &TargetSpec, ctx: &Context) -> Result<ExitStatus> {
    if *from == SourceSpec::Env && args.keys.takes_everything() {
        return Err(error::usage(
            "--from env needs --keys naming the variables to copy: the whole environment is not a set of secrets",
        ));
    }
    let to = &to.resolve(ctx)?;
    let source = source::open(from, ctx)?;
    let mut options = cli::target_options(&args.app, Some(&args.concurrency), Some(&args.access));
    options.groups = report::grouping(to, args.access.manifest.as_deref())?;
    let target = targets::open(to, &options, ctx)?;
    let ledger = OneOff::find(args.access.manifest.as_deref(), to, args.app.app, ctx)?;

    let (vars, held) = source.load_picked_held(&args.keys).await?;
    let held = fleet::survey::held_keys(held);
    if matches!(to, TargetSpec::GitHub(_, Store::Variables)) && !args.allow_secret_variables {
        refuse_secret_variables(&*source, &vars, to)?;
    }
    // Every name and size is checked before the first request to the target.
    target.check(&vars)?;
    if args.prune && vars.is_empty() {
        return Err(error::usage(format!(
            "{} has no variables: refusing to prune everything (use `escort rm --all` for that)",
            source.name()
        )));
    }
    let names: Vec<String> = vars.iter().map(|v| v.name.clone()).collect();
    let changed = fleet::survey::changed_at(&*source, &args.keys, &names).await?;
    // With a ledger, copies are judged by it as a route's are (docs/routes.md, "The ledger").
    let recorded = match &ledger {
        Some(ledger) => Some(ledger.read().await?),
        None => None,
    };
    let (mut cells, _) = fleet::compare("", &vars, &held, &changed, to, &*target, recorded.as_ref()).await?;
    if args.deploy {
        status::stage(&mut cells, &target.deployed_at().await?);
    }
    let plan = Plan::new(&cells, args.prune, args.force);
    if plan.extra > 0 {
        ui::note(&format!(
            "{} secret(s) in the {} are not in {}; --prune would delete them",
            plan.extra,
            target.name(),
            source.name()
        ));
    }
    if args.dry_run {
        print(&plan, &source.name(), &target.name(), args.format)?;
        return Ok(ExitStatus::Success);
    }
    plan::check_limits([(&*target, to.to_string(), plan::listed(&cells), &plan)])?;
    budget::check(&[budget::Change { spec: to, target: &*target, vars: plan.vars(&vars), prune: &plan.prune }]).await?;
    report::confirm_delete(&target.name(), &plan.prune, args.yes)?;
    ui::note(&format!("syncing {} to the {}: {}", source.name(), target.name(), plan.summary()));
    let outcomes = write(&*target, &plan, &vars).await?;
    let deployed = match args.deploy {
        true => deploy(&*target, &outcomes, staged(&cells)).await,
        false => Ok(()),
    };
    let recorded = match &ledger {
        Some(ledger) => ledger.record(to, &options, &outcomes, &vars, ctx).await,
        None => Ok(()),
    };
    summary::append(ctx, || {
        summary::matrix("escort sync", &cells.iter().collect::<Vec<_>>())
            + &summary::results([(target.name().as_str(), &outcomes[..])])
    });
    let planned = Box::new(|name: &str| plan.action(name));
    let status = report::finish_all(
        &[Results { target: target.name(), outcomes: &outcomes, planned, version: target.version() }],
        args.format,
    );
    // The write is done and reported: a failed deploy, or a failed ledger
    // record, makes it a partial result.
    let deployed =
        deployed.map_err(|e| Failure { kind: Kind::Partial, message: crate::secret::scrub(&format!("{e:#}")) }.into());
    report::and_recorded(report::and_recorded(status, deployed), recorded)
}

/// The plan of a dry run, as text or JSON.
fn print(plan: &Plan, from: &str, target: &str, format: ReportFormat) -> Result<()> {
    let rows = plan
        .writes
        .iter()
        .map(|(n, a)| (n.as_str(), a.as_str()))
        .chain(plan.unchanged.iter().map(|n| (n.as_str(), "unchanged")))
        .chain(plan.prune.iter().map(|n| (n.as_str(), "prune")));
    let width = if plan.unchanged.is_empty() { 7 } else { 9 };
    match format {
        ReportFormat::Json => {
            let plan: Vec<_> = rows.map(|(name, action)| serde_json::json!({"name": name, "action": action})).collect();
            output::json(&serde_json::json!({"dry_run": true, "source": from, "target": target, "plan": plan}))
        }
        ReportFormat::Text => output::lines(
            std::iter::once(format!("Plan for the {target}, from {from} (dry run: nothing was written):"))
                .chain(rows.map(|(name, action)| format!("  {action:width$} {}", crate::ui::escape(name))))
                .chain(std::iter::once(plan.summary())),
        ),
    }
}

/// A variable is readable by everyone who can read the repository and shown
/// in logs: a value its source marks secret (whole or in part) does not go
/// there unless `--allow-secret-variables` says so (docs/routes.md, "Routes").
fn refuse_secret_variables(source: &dyn Source, vars: &[Var], to: &TargetSpec) -> Result<()> {
    if !source.knows_secrecy() {
        return Ok(());
    }
    let secret: Vec<String> =
        vars.iter().filter(|v| v.holds_secret()).map(|v| ui::escape(&v.name).into_owned()).collect();
    if secret.is_empty() {
        return Ok(());
    }
    Err(error::usage(format!(
        "{} marks {} secret: refusing to write a secret into {}, which anyone who can read the repository can read \
         (leave it out of --keys, send it to a secrets target, or pass --allow-secret-variables)",
        source.name(),
        secret.join(", "),
        to
    )))
}

/// Write what `plan` says, and report the unchanged beside it.
async fn write(target: &dyn Target, plan: &Plan, vars: &[Var]) -> Result<Vec<Outcome>> {
    let writes = plan.vars(vars);
    let mut outcomes = Vec::new();
    if !writes.is_empty() || !plan.prune.is_empty() {
        let progress = report::progress(&target.name(), writes.len() + plan.prune.len());
        let written = target.apply(&writes, &plan.prune, &|o| progress.tell(o)).await;
        progress.finish();
        outcomes = crate::audit::write(&target.name(), written)?;
    }
    outcomes.extend(plan.unchanged_outcomes());
    Ok(outcomes)
}

/// Have what runs from the target load its copies, when this sync wrote any
/// or some wait for a deploy (docs/routes.md, "fly:APP"). A failure here
/// leaves the write done (and recorded): it is reported on its own.
async fn deploy(target: &dyn Target, outcomes: &[Outcome], staged: bool) -> Result<()> {
    if !staged && !outcomes.iter().any(|o| o.result.as_ref().is_ok_and(|a| a.changes())) {
        return Ok(());
    }
    let updated = target.deploy().await.map_err(|e| e.context(format!("the {} was not deployed", target.name())))?;
    if updated > 0 {
        ui::note(&format!("the {}: deployed to {updated} machine(s)", target.name()));
    }
    Ok(())
}

/// Whether any of `cells` waits for a deploy.
fn staged(cells: &[Cell]) -> bool {
    cells.iter().any(status::awaits_deploy)
}

/// The manifest's routes: every target of each, at once.
async fn routes(args: &SyncArgs, ctx: &Context) -> Result<ExitStatus> {
    let manifest = manifest::load(&manifest::locate(args.access.manifest.clone())?)?;
    let routes = fleet::select(&manifest, &args.routes, "or pass --from and --to")?;
    let (surveys, unread) =
        fleet::survey(&manifest, &routes, args.concurrency.concurrency.into(), fleet::Dates::Needed, ctx).await?;
    if args.dry_run {
        output::write(report::status_text(&surveys, &unread).as_bytes())?;
        return Ok(ExitStatus::Success);
    }
    let plans: Vec<Vec<Plan>> = surveys
        .iter()
        .map(|s| s.copies.iter().flatten().map(|c| Plan::new(&c.cells, s.prune, args.force)).collect())
        .collect();
    let shares = surveys.iter().zip(&plans).flat_map(|(survey, plans)| {
        survey.copies.iter().flatten().zip(plans).map(|(c, plan)| (&*c.target, c.spec.to_string(), c.listed, plan))
    });
    plan::check_limits(shares)?;
    let changes: Vec<budget::Change> = surveys
        .iter()
        .zip(&plans)
        .flat_map(|(survey, plans)| {
            survey.copies.iter().flatten().zip(plans).map(|(c, plan)| budget::Change {
                spec: &c.spec,
                target: &*c.target,
                vars: plan.vars(&survey.vars),
                prune: &plan.prune,
            })
        })
        .collect();
    budget::check(&changes).await?;
    for (survey, plans) in surveys.iter().zip(&plans) {
        for (copy, plan) in survey.copies.iter().flatten().zip(plans) {
            copy.target.check(&plan.vars(&survey.vars))?;
            report::confirm_delete(&copy.target.name(), &plan.prune, args.yes)?;
        }
    }
    let deploys = |route: &str| args.deploy || manifest.routes.iter().any(|r| r.name == route && r.deploy);
    let jobs = surveys.iter().zip(&plans).flat_map(|(survey, plans)| {
        let deploy = deploys(&survey.route);
        survey.copies.iter().flatten().zip(plans).map(move |(copy, plan)| async move {
            let written = write(&*copy.target, plan, &survey.vars).await;
            let deployed = match &written {
                Ok(outcomes) if deploy => self::deploy(&*copy.target, outcomes, staged(&copy.cells)).await,
                _ => Ok(()),
            };
            ((written, copy, plan, survey), deployed.err())
        })
    });
    let (done, undeployed): (Vec<_>, Vec<_>) = futures_util::future::join_all(jobs).await.into_iter().unzip();
    let mut failures: Vec<String> =
        undeployed.iter().flatten().map(|e| crate::secret::scrub(&format!("{e:#}"))).collect();
    if let Some(env) = &manifest.ledger
        && let Err(e) = record_in_ledger(env, &done, ctx).await
    {
        failures.push(format!("the ledger esc:{env}: {}", crate::secret::scrub(&format!("{e:#}"))));
    }
    let mut kept = Vec::new();
    for (result, copy, plan, survey) in &done {
        match result {
            Ok(outcomes) => kept.push((label(survey, copy.target.as_ref()), outcomes, *plan, copy.target.version())),
            Err(e) => failures.push(format!("the {}: {}", copy.target.name(), crate::secret::scrub(&format!("{e:#}")))),
        }
    }
    let results: Vec<Results<'_>> = kept
        .iter()
        .map(|(target, outcomes, plan, version)| Results {
            target: target.clone(),
            outcomes,
            planned: Box::new(move |n: &str| plan.action(n)),
            version: *version,
        })
        .collect();
    let status = report::finish_all(&results, args.format);
    failures.extend(unread.iter().map(|u| format!("{}: {}", u.what, crate::secret::scrub(&format!("{:#}", u.error)))));
    summary::append(ctx, || {
        summary::matrix("escort sync", &fleet::cells(&surveys).collect::<Vec<_>>())
            + &summary::results(results.iter().map(|r| (r.target.as_str(), r.outcomes)))
            + &summary::not_written(&failures)
    });
    if failures.is_empty() {
        return status;
    }
    let wrote =
        kept.iter().any(|(_, outcomes, _, _)| outcomes.iter().any(|o| o.result.as_ref().is_ok_and(|a| a.changes())));
    let failed = Failure {
        kind: if wrote || matches!(&status, Err(e) if error::kind_of(e) == Kind::Partial) {
            Kind::Partial
        } else {
            Kind::Backend
        },
        message: format!("not written: {}", failures.join("; ")),
    };
    Err(match status {
        Err(e) => anyhow::Error::new(failed).context(format!("{e:#}")),
        Ok(_) => failed.into(),
    })
}

/// What the sync wrote to sealed copies, in one revision of the ledger.
async fn record_in_ledger(
    env: &crate::esc::EnvRef,
    done: &[(Result<Vec<Outcome>>, &fleet::survey::Copy, &Plan, &Survey)],
    ctx: &Context,
) -> Result<()> {
    let mut written = Vec::new();
    for (result, copy, _, survey) in done {
        if let (Ok(outcomes), true) = (result, copy.sealed) {
            // Opened afresh: a target lists once, and that listing predates the writes.
            let fresh = targets::open(&copy.spec, &copy.options, ctx)?;
            written.extend(ledger::written(&copy.spec.to_string(), &*fresh, outcomes, &survey.vars).await?);
        }
    }
    ledger::record(&crate::esc::Esc::new(ctx)?, env, &written).await
}

fn label(survey: &Survey, target: &dyn Target) -> String {
    format!("{} (route {})", target.name(), survey.route)
}
