//! `escort rotation`: how old each manifest secret is in each `--target`,
//! against its group's `rotate_days` (the model is `crate::rotation`). Only
//! the `Target` trait is used: every target's listing carries `updated_at`.
//!
//! The targets are read at once. One that cannot be read is reported and the
//! others still are; the run then exits with that error's code (3 for a
//! backend) rather than 1 or 0, so that a report with a hole never passes
//! for a complete one.

use crate::cli::{self, ReportFormat, RotationArgs};
use crate::error::{self, ExitStatus, Failure, Kind};
use crate::fleet;
use crate::fleet::status::{Cell, Status as CellStatus};
use crate::manifest::{self, Manifest};
use crate::record::Entry;
use crate::rotation::{self, Clock, Row, Status};
use crate::settings::Context;
use crate::source::Changed;
use crate::targets;
use crate::time::Timestamp;
use crate::{output, secret, ui};
use anyhow::{Context as _, Result};
use console::style;
use futures_util::future::join_all;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// How reading one target went.
#[derive(Serialize)]
struct TargetRead {
    /// As named on the command line.
    target: String,
    /// As the target describes itself.
    name: String,
    ok: bool,
    /// How many secrets it holds, manifest or not.
    secrets: Option<usize>,
    detail: Option<String>,
    #[serde(skip)]
    failure: Option<Kind>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    ok: bool,
    manifest: String,
    as_of: String,
    due_soon_days: u32,
    targets: &'a [TargetRead],
    secrets: &'a [Row],
    /// Without --target: each copy of a route, and how long after the change it was written.
    #[serde(skip_serializing_if = "<[Copy]>::is_empty")]
    copies: &'a [Copy],
    summary: BTreeMap<Status, usize>,
}

/// A copy of a route's key: written how many whole days after the source's
/// last change, or stale (older than it).
#[derive(Serialize)]
struct Copy {
    route: String,
    key: String,
    target: String,
    status: CellStatus,
    lag_days: Option<i64>,
}

type Report = (Vec<TargetRead>, Vec<Row>, Vec<Copy>);

/// `--target`: each secret's age is its copy's `updated_at` in each target.
async fn in_targets(manifest: &Manifest, clock: &Clock, args: &RotationArgs, ctx: &Context) -> Result<Report> {
    let options = cli::target_options(&args.app, Some(&args.concurrency), None);
    let mut specs = args.targets.iter().map(|spec| spec.resolve(ctx)).collect::<Result<Vec<_>>>()?;
    // A target named twice is read and reported once.
    let mut seen = std::collections::HashSet::new();
    specs.retain(|s| seen.insert(s.to_string()));
    // Every target is opened, and so checked, before any is read.
    let targets = specs.iter().map(|spec| targets::open(spec, &options, ctx)).collect::<Result<Vec<_>>>()?;
    // `details`: some targets date their secrets only at a request each (ESC revisions).
    let listings = join_all(targets.iter().map(|t| async { crate::audit::list(&t.name(), t.list(true).await) })).await;

    let mut reads = Vec::with_capacity(targets.len());
    let mut rows = Vec::new();
    for ((spec, target), listing) in specs.iter().zip(&targets).zip(listings) {
        let spec = spec.to_string();
        let mut read = TargetRead::new(spec.clone(), target.name());
        match listing {
            Ok(entries) => {
                read.secrets = Some(entries.len());
                rows.extend(rotation::assess(manifest, &spec, &entries, |n| target.canonical(n), clock));
            }
            Err(e) => read.failed(&e),
        }
        reads.push(read);
    }
    Ok((reads, rows, Vec::new()))
}

/// No `--target`: the manifest's routes. A secret's age is its last change at
/// the source (docs/rotation.md), whenever its copies were written.
async fn at_the_sources(manifest: &Manifest, clock: &Clock, args: &RotationArgs, ctx: &Context) -> Result<Report> {
    let routes = fleet::select(manifest, &[], "or pass --target")?;
    let (surveys, unread) =
        fleet::survey(manifest, &routes, args.concurrency.concurrency.into(), fleet::Dates::All, ctx).await?;
    let mut reads = Vec::new();
    let mut rows = Vec::new();
    let mut copies = Vec::new();
    for survey in &surveys {
        let label = format!("{} (route {})", survey.source, survey.route);
        let entries: Vec<Entry> = survey
            .vars
            .iter()
            .map(|v| Entry {
                name: v.name.clone(),
                updated_at: survey.changed.get(&v.name).and_then(Changed::date).map(str::to_string),
                ..Entry::default()
            })
            .collect();
        let mut read = TargetRead::new(label.clone(), survey.source.clone());
        read.secrets = Some(entries.len());
        reads.push(read);
        let mut assessed = rotation::assess(manifest, &label, &entries, str::to_string, clock);
        for row in &mut assessed {
            match survey.changed.get(&row.name) {
                Some(Changed::Before(_)) => row.changed_before(),
                Some(Changed::Undatable(why)) => row.undatable(why),
                _ => {}
            }
        }
        rows.extend(assessed);
        for cell in fleet::cells(&surveys[..]).filter(|c| c.route == survey.route) {
            copies.push(Copy {
                route: cell.route.clone(),
                key: cell.key.clone(),
                target: cell.target.clone(),
                status: cell.status,
                lag_days: lag_days(cell),
            });
        }
    }
    for u in unread {
        let mut read = TargetRead::new(u.what.clone(), u.what);
        read.failed(&u.error);
        reads.push(read);
    }
    Ok((reads, rows, copies))
}

/// How many whole days after the source's change a current copy was
/// written. Staged and shadowed copies are current copies, written as ok
/// ones are, and so are unknown ones known to hold the source's value.
fn lag_days(cell: &Cell) -> Option<i64> {
    let day = |t: &Option<String>| t.as_deref().and_then(Timestamp::parse).map(Timestamp::day);
    let current = matches!(cell.status, CellStatus::Ok | CellStatus::Staged | CellStatus::Shadowed) || cell.current;
    match (current, day(&cell.source_changed_at), day(&cell.target_updated_at)) {
        (true, Some(changed), Some(written)) => Some(written - changed),
        _ => None,
    }
}

impl TargetRead {
    fn new(target: String, name: String) -> Self {
        TargetRead { target, name, ok: true, secrets: None, detail: None, failure: None }
    }

    fn failed(&mut self, e: &anyhow::Error) {
        self.ok = false;
        self.detail = Some(secret::scrub(&format!("{e:#}")));
        self.failure = Some(error::kind_of(e));
    }
}

pub async fn rotation(args: RotationArgs, ctx: &Context) -> Result<ExitStatus> {
    let clock = Clock { now: now(ctx)?, due_soon_days: args.due_soon };
    let manifest = manifest::load(&manifest::locate(args.manifest.clone())?)?;
    let (reads, mut rows, copies) = match args.targets.is_empty() {
        true => at_the_sources(&manifest, &clock, &args, ctx).await?,
        false => in_targets(&manifest, &clock, &args, ctx).await?,
    };
    rotation::sort(&mut rows);
    let summary = rotation::summary(&rows);
    let overdue = summary[&Status::Overdue] > 0;

    let out = match args.format {
        ReportFormat::Text => text(&manifest, &clock, &reads, &rows, &summary) + &copies_text(&copies),
        ReportFormat::Json => {
            let report = JsonReport {
                ok: !overdue && reads.iter().all(|r| r.ok),
                manifest: manifest.path.display().to_string(),
                as_of: clock.now.rfc3339(),
                due_soon_days: clock.due_soon_days,
                targets: &reads,
                secrets: &rows,
                copies: &copies,
                summary,
            };
            serde_json::to_string_pretty(&report)? + "\n"
        }
    };
    output::write(out.as_bytes())?;

    let unread: Vec<&TargetRead> = reads.iter().filter(|r| !r.ok).collect();
    if let Some(first) = unread.first() {
        let names: Vec<&str> = unread.iter().map(|r| r.target.as_str()).collect();
        return Err(Failure {
            kind: first.failure.unwrap_or(Kind::Backend),
            message: format!("the report is incomplete: could not read {}", names.join(", ")),
        }
        .into());
    }
    Ok(if overdue { ExitStatus::Failed } else { ExitStatus::Success })
}

/// Each copy's lag behind the source, as lines under the table.
fn copies_text(copies: &[Copy]) -> String {
    if copies.is_empty() {
        return String::new();
    }
    let mut rows = vec![["KEY", "COPY", "WRITTEN"].map(String::from).to_vec()];
    for c in copies {
        let written = match (c.status, c.lag_days) {
            (_, Some(days)) => format!("{days} days after the change"),
            (status, None) => status.as_str().to_string(),
        };
        rows.push(vec![ui::escape(&c.key).into_owned(), ui::escape(&c.target).into_owned(), written]);
    }
    let mut out = String::from("\nCopies:\n");
    for row in super::report::pad_columns(&rows) {
        out.push_str("  ");
        out.push_str(row.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The report's instant: `ESCORT_NOW` (RFC 3339) for reproducible reports,
/// else the system clock.
fn now(ctx: &Context) -> Result<Timestamp> {
    if let Some(now) = ctx.settings.now {
        return Ok(now);
    }
    let since = SystemTime::now().duration_since(UNIX_EPOCH).context("the system clock is before 1970")?;
    Ok(Timestamp::from_unix(i64::try_from(since.as_secs()).context("the system clock is out of range")?))
}

/// Header, the targets, one line per (secret, target), and a summary.
fn text(
    manifest: &Manifest,
    clock: &Clock,
    reads: &[TargetRead],
    rows: &[Row],
    summary: &BTreeMap<Status, usize>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "escort rotation: {} as of {} (due soon: within {} days)\n",
        manifest.path.display(),
        clock.now.date(),
        clock.due_soon_days
    );
    let width = reads.iter().map(|r| r.target.chars().count()).max().unwrap_or(0);
    for r in reads {
        let what = match (&r.secrets, &r.detail) {
            (Some(n), _) => format!("{}: {n} secrets", ui::escape(&r.name)),
            (None, detail) => {
                style(format!("could not be read: {}", detail.as_deref().unwrap_or(""))).red().to_string()
            }
        };
        let _ = writeln!(out, "  {:width$}  {what}", ui::escape(&r.target));
    }

    if !rows.is_empty() {
        out.push('\n');
        out.push_str(&table(rows));
    }
    let counts: Vec<String> =
        summary.iter().filter(|(_, n)| **n > 0).map(|(s, n)| format!("{n} {}", s.label())).collect();
    let counts = if counts.is_empty() { "nothing to report".to_string() } else { counts.join(", ") };
    let _ = writeln!(out, "\nSummary: {counts}.");
    out
}

const HEADER: [&str; 8] = ["STATUS", "SECRET", "TARGET", "GROUP", "UPDATED", "AGE", "ROTATE", "DUE"];

/// Columns sized to their contents; the status coloured after padding, so
/// colour codes do not upset the widths.
fn table(rows: &[Row]) -> String {
    let days = |d: Option<i64>| d.map_or_else(|| "-".to_string(), |d| format!("{d}d"));
    let mut cells: Vec<Vec<String>> = vec![HEADER.map(String::from).to_vec()];
    cells.extend(rows.iter().map(|r| {
        vec![
            r.status.label().to_string(),
            ui::escape(&r.name).into_owned(),
            ui::escape(&r.target).into_owned(),
            r.group.clone().unwrap_or_else(|| "-".to_string()),
            match (r.updated_date(), r.changed_before) {
                (Some(date), true) => format!("before {date}"),
                (date, _) => date.unwrap_or_else(|| "-".to_string()),
            },
            match r.changed_before {
                true => format!("≥{}", days(r.age_days)),
                false => days(r.age_days),
            },
            days(r.rotate_days.map(i64::from)),
            due(r),
        ]
    }));
    let padded = super::report::pad_columns(&cells);
    let mut out = String::new();
    let _ = writeln!(out, "{}", padded[0].join("  ").trim_end());
    for (row, padded) in rows.iter().zip(&padded[1..]) {
        let status = match row.status {
            Status::Overdue => style(&padded[0]).red().bold(),
            Status::DueSoon | Status::Unknown => style(&padded[0]).yellow(),
            Status::Ok => style(&padded[0]).green(),
            Status::Absent | Status::NoPolicy => style(&padded[0]).dim(),
        };
        let _ = writeln!(out, "{status}  {}", padded[1..].join("  ").trim_end());
    }
    for row in rows {
        if let Some(reason) = &row.reason {
            let _ = writeln!(out, "  {} in {}: {}", ui::escape(&row.name), ui::escape(&row.target), ui::escape(reason));
        }
    }
    out
}

/// `2025-12-30 (2 days ago)`, `2026-01-08 (in 7 days)`, `2026-01-01 (today)`.
fn due(row: &Row) -> String {
    let (Some(date), Some(left)) = (&row.due, row.days_left) else { return "-".to_string() };
    let when = match left {
        0 => "today".to_string(),
        1 => "tomorrow".to_string(),
        -1 => "yesterday".to_string(),
        l if l < 0 => format!("{} days ago", -l),
        l => format!("in {l} days"),
    };
    format!("{date} ({when})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_copies_have_a_lag() {
        let cell = |status| Cell {
            source_changed_at: Some("2026-01-01T10:00:00Z".into()),
            target_updated_at: Some("2026-01-04T09:00:00Z".into()),
            ..Cell::new("r", "K", "t", status)
        };
        let lags: Vec<Option<i64>> = [CellStatus::Ok, CellStatus::Staged, CellStatus::Shadowed, CellStatus::Stale]
            .into_iter()
            .map(|s| lag_days(&cell(s)))
            .collect();
        assert_eq!(lags, [Some(3), Some(3), Some(3), None]);
    }
}
