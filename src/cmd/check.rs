//! `escort check`: the smoke check. Reads each source in precedence order,
//! resolves the manifest against them and prints the report (text or JSON).
//! A source that cannot be read is reported and skipped; `--strict` makes
//! that fail (exit 3). A malformed .env file or manifest is exit 2.

use crate::check::{self, Report, SecretLine, Shown, SourceRead, SourceState, SourceStatus, Status};
use crate::cli::{CheckArgs, ReportFormat};
use crate::dotenv::Malformed;
use crate::error::{self, ExitStatus};
use crate::manifest::{self, Manifest};
use crate::settings::Context;
use crate::source::{self, SourceSpec};
use crate::{output, secret, ui};
use anyhow::Result;
use console::style;
use std::collections::HashMap;
use std::fmt::Write as _;

pub async fn check(args: CheckArgs, ctx: &Context) -> Result<ExitStatus> {
    let path = manifest::locate(args.manifest.clone())?;
    let manifest = manifest::load(&path)?;
    let mut reads = Vec::new();
    for spec in source_specs(&manifest, &args)? {
        reads.push(read(&spec, ctx).await?);
    }
    let report = check::evaluate(&manifest, &reads, args.strict);
    let out = match args.format {
        ReportFormat::Text => text(&manifest, &report),
        ReportFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
    };
    output::write(out.as_bytes())?;
    if ctx.settings.runner.active {
        for line in annotations(&report) {
            ui::error_annotation(&line);
        }
    }
    crate::summary::append(ctx, || crate::summary::check(&report));
    match report.exit_code {
        0 => Ok(ExitStatus::Success),
        1 => Ok(ExitStatus::Failed),
        _ => Err(error::backend("--strict: a source could not be read (see the report)")),
    }
}

/// The manifest's sources (or `--sources`), then each `--env-file`.
fn source_specs(manifest: &Manifest, args: &CheckArgs) -> Result<Vec<SourceSpec>> {
    let mut specs: Vec<SourceSpec> = args.sources.clone().unwrap_or_else(|| manifest.sources.clone());
    for path in &args.env_files {
        // Named on the command line, so a missing file is a mistake, not an absent source.
        if !path.is_file() {
            return Err(error::usage(format!("--env-file {}: no such file", path.display())));
        }
        let spec = SourceSpec::Dotenv(path.clone());
        if !specs.contains(&spec) {
            specs.push(spec);
        }
    }
    if specs.is_empty() {
        return Err(error::usage("no sources to check: --sources is empty"));
    }
    let given = match (&args.env, args.demo) {
        (Some(env), _) => Some(SourceSpec::Esc(Some(env.clone()))),
        (None, true) => Some(SourceSpec::Demo),
        (None, false) => None,
    };
    if let Some(given) = given {
        for spec in specs.iter_mut().filter(|s| **s == SourceSpec::Esc(None)) {
            *spec = given.clone();
        }
    }
    // Asked for by name, so it is read even when the sources name no `esc`.
    if args.demo && !specs.contains(&SourceSpec::Demo) {
        specs.insert(0, SourceSpec::Demo);
    }
    Ok(specs)
}

/// Read one source. Only a malformed .env file stops the check: a source that
/// is not configured, unreachable or refused is reported and skipped.
async fn read(spec: &SourceSpec, ctx: &Context) -> Result<SourceRead> {
    let (name, knows_secrecy, loaded) = match source::open(spec, ctx) {
        Ok(source) => (source.name(), source.knows_secrecy(), source.load().await),
        Err(e) => (spec.to_string(), true, Err(e)),
    };
    let (state, vars) = match loaded {
        Ok(vars) => (SourceState::Read, vars.into_iter().map(|v| (v.name.clone(), v)).collect()),
        Err(e) if e.downcast_ref::<Malformed>().is_some() => return Err(e),
        Err(e) if is_not_found(&e) => (SourceState::Absent, HashMap::new()),
        Err(e) => (SourceState::Unavailable(secret::scrub(&format!("{e:#}"))), HashMap::new()),
    };
    Ok(SourceRead { name, state, vars, knows_secrecy })
}

/// In a GitHub job, one `::error::` per failing secret and unsatisfied
/// one_of, so a failed check shows on the run's page: names and statuses
/// only (a message may describe a value's shape).
fn annotations(report: &Report) -> Vec<String> {
    let secrets = report.secrets.iter().filter(|s| s.fails()).map(|s| {
        let why = if s.status == Status::Missing { "is missing" } else { "is invalid" };
        format!("escort check: {} {why} (see the step's report)", s.name)
    });
    let one_of = report
        .one_of
        .iter()
        .filter(|o| !o.ok)
        .map(|o| format!("escort check: one_of {}: none of its keys has a valid value", o.name));
    secrets.chain(one_of).collect()
}

fn is_not_found(err: &anyhow::Error) -> bool {
    err.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound))
}

const OK: &str = "✅";
const FAIL: &str = "❌";
// U+26A0 is one column wide where the others are two: pad it.
const WARN: &str = "⚠ ";
/// Nothing there, and nothing wrong with that.
const NONE: &str = "➖";

/// The text report: header, sources, secrets, one_of groups, summary.
fn text(manifest: &Manifest, report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "escort check: {} ({} secrets, {} one_of)",
        manifest.path.display(),
        report.secrets.len(),
        report.one_of.len()
    );

    out.push_str("\nSources\n");
    let width = widest(report.sources.iter().map(|s| ui::escape(&s.name)));
    for s in &report.sources {
        let icon = match s.status {
            SourceStatus::Ok => OK,
            SourceStatus::Absent => NONE,
            SourceStatus::Unavailable => WARN,
        };
        let detail = s.detail.as_deref().unwrap_or("");
        let detail = match s.status {
            SourceStatus::Unavailable => style(format!("could not be read: {detail}")).yellow().to_string(),
            _ => detail.to_string(),
        };
        let _ = writeln!(out, "  {icon} {:<width$}  {}", ui::escape(&s.name), ui::escape(&detail));
    }

    out.push_str("\nSecrets\n");
    let width = widest(report.secrets.iter().map(|s| s.name.as_str()));
    let column = widest(report.secrets.iter().map(whence));
    for s in &report.secrets {
        let icon = match s.status {
            _ if s.fails() => FAIL,
            Status::Ok | Status::Defaulted => OK,
            Status::OptionalMissing => NONE,
            Status::Missing | Status::Invalid => WARN,
        };
        let whence = format!("{:<column$}", whence(s));
        let whence = match s.status {
            _ if s.fails() => style(whence).red(),
            Status::Ok | Status::Defaulted => style(whence).green(),
            Status::OptionalMissing => style(whence).dim(),
            Status::Missing | Status::Invalid => style(whence).yellow(),
        };
        let shown = match &s.shown {
            Shown::Nothing => None,
            Shown::Hint(h) => Some(style(h).dim().to_string()),
            Shown::Plain(p) => Some(format!("\"{p}\"")),
        };
        let message = s.message.as_ref().map(|m| match s.status {
            Status::Invalid => format!("invalid: {m}"),
            _ => m.clone(),
        });
        let detail: Vec<String> = shown.into_iter().chain(message).collect();
        let _ = writeln!(out, "  {icon} {:<width$}  {whence}  {}", s.name, detail.join(" — "));
    }

    if !report.one_of.is_empty() {
        out.push_str("\nOne of\n");
        let width = widest(report.one_of.iter().map(|o| o.name.as_str()));
        for (o, spec) in report.one_of.iter().zip(&manifest.one_of) {
            let (icon, detail) = if o.ok {
                (OK, o.present.join(", "))
            } else {
                (FAIL, style(format!("none of {} has a valid value", spec.keys.join(", "))).red().to_string())
            };
            let _ = writeln!(out, "  {icon} {:<width$}  {detail}", o.name);
        }
    }

    out.push('\n');
    out.push_str(&summary(report));
    // Columns are padded for the lines that have a detail; the others must not trail blanks.
    out.lines().map(|l| format!("{}\n", l.trim_end())).collect()
}

/// The source column: where the value came from, or why there is none.
fn whence(s: &SecretLine) -> &str {
    match s.status {
        Status::Ok | Status::Invalid => s.source.as_deref().unwrap_or(""),
        Status::Defaulted => "default",
        Status::Missing => "missing",
        Status::OptionalMissing => "not set",
    }
}

fn widest<S: AsRef<str>>(names: impl Iterator<Item = S>) -> usize {
    names.map(|n| n.as_ref().chars().count()).max().unwrap_or(0)
}

fn summary(report: &Report) -> String {
    let count = |f: &dyn Fn(&SecretLine) -> bool| report.secrets.iter().filter(|s| f(s)).count();
    let unreadable: Vec<&str> =
        report.sources.iter().filter(|s| s.status == SourceStatus::Unavailable).map(|s| s.name.as_str()).collect();
    let mut out = String::new();
    if report.ok {
        let parts = [
            (count(&|s| s.status == Status::Ok), "ok"),
            (count(&|s| s.status == Status::Defaulted), "defaulted"),
            (count(&|s| s.status == Status::OptionalMissing), "optional not set"),
            (count(&|s| s.status == Status::Invalid), "optional invalid"),
        ];
        let _ = writeln!(out, "{OK} {}: {}", style("Check passed").green().bold(), counted(&parts));
    } else {
        let parts = [
            (count(&|s| s.fails() && s.status == Status::Missing), "missing"),
            (count(&|s| s.fails() && s.status == Status::Invalid), "invalid"),
            (report.one_of.iter().filter(|o| !o.ok).count(), "one_of unsatisfied"),
            (
                if report.exit_code == error::Kind::Backend.exit_code() { unreadable.len() } else { 0 },
                "source unreadable (--strict)",
            ),
        ];
        let _ = writeln!(out, "{FAIL} {}: {}", style("Check failed").red().bold(), counted(&parts));
    }
    if !unreadable.is_empty() {
        let _ =
            writeln!(out, "{WARN} could not read {}; the other sources were used", ui::escape(&unreadable.join(", ")));
    }
    out
}

/// "2 missing, 1 invalid", leaving out the zeros.
fn counted(parts: &[(usize, &str)]) -> String {
    let shown: Vec<String> = parts.iter().filter(|(n, _)| *n > 0).map(|(n, what)| format!("{n} {what}")).collect();
    if shown.is_empty() { "nothing to check".to_string() } else { shown.join(", ") }
}
