//! What the commands that write to a target share: asking before deleting,
//! a progress line per secret, and the final table of results.

use crate::cli::ReportFormat;
use crate::error::{self, ExitStatus, Failure, Kind};
use crate::secret;
use crate::targets::{Action, Outcome};
use crate::{output, ui};
use anyhow::Result;
use console::Term;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A person is there to answer: both stdin and stderr are terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && Term::stderr().is_term()
}

/// Ask before deleting `names` from `target`. `--yes` answers for scripts;
/// with nobody to ask, refuse rather than delete.
pub fn confirm_delete(target: &str, names: &[String], yes: bool) -> Result<()> {
    if yes || names.is_empty() {
        return Ok(());
    }
    if !interactive() {
        return Err(error::usage(format!(
            "refusing to delete {} secret(s) from the {target} without confirmation: pass --yes",
            names.len()
        )));
    }
    let term = Term::stderr();
    term.write_line(&format!("These secrets will be deleted from the {target}:"))?;
    for name in names {
        term.write_line(&format!("  {name}"))?;
    }
    term.write_str(&format!("Delete {} secret(s)? [y/N] ", names.len()))?;
    let answer = term.read_line()?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(error::usage("not confirmed: nothing was written or deleted"))
    }
}

/// A progress line per secret as it is done, when someone is watching.
pub fn progress(total: usize) -> impl Fn(&Outcome) + Sync {
    let live = Term::stderr().is_term();
    let count = AtomicUsize::new(0);
    move |outcome: &Outcome| {
        if !live {
            return;
        }
        let n = count.fetch_add(1, Ordering::Relaxed) + 1;
        let what = match &outcome.result {
            Ok(action) => action.done(),
            Err(_) => "FAILED",
        };
        ui::note(&format!("[{n}/{total}] {what} {}", outcome.name));
    }
}

/// Print one row per secret, then decide the exit: 0 when everything went
/// through; otherwise an error naming each secret that did not, exit 4 when
/// some did (a partial write) and 3 when none did. The exit stands even when
/// the table cannot be printed: what was written was written.
pub fn finish(
    target: &str,
    outcomes: &[Outcome],
    planned: impl Fn(&str) -> Action,
    format: ReportFormat,
) -> Result<ExitStatus> {
    let errors: Vec<Option<String>> =
        outcomes.iter().map(|o| o.result.as_ref().err().map(|e| secret::scrub(&format!("{e:#}")))).collect();
    let action = |o: &Outcome| match &o.result {
        Ok(done) => *done,
        Err(_) => planned(&o.name),
    };
    let printed = match format {
        ReportFormat::Json => {
            let rows: Vec<serde_json::Value> = outcomes
                .iter()
                .zip(&errors)
                .map(|(o, err)| {
                    serde_json::json!({"name": o.name, "action": action(o), "ok": err.is_none(), "error": err})
                })
                .collect();
            let ok = errors.iter().all(Option::is_none);
            output::json(&serde_json::json!({"ok": ok, "target": target, "results": rows}))
        }
        ReportFormat::Text if !outcomes.is_empty() => {
            let width = outcomes.iter().map(|o| o.name.len()).max().unwrap_or(0).max(4);
            let header = format!("{:width$}  {:7}  RESULT", "NAME", "ACTION");
            let rows = outcomes.iter().zip(&errors).map(|(o, err)| {
                let result = match err {
                    None => "ok".to_string(),
                    Some(e) => format!("FAILED: {e}"),
                };
                format!("{:width$}  {:7}  {result}", o.name, action(o).as_str())
            });
            output::lines(std::iter::once(header).chain(rows))
        }
        ReportFormat::Text => Ok(()),
    };

    let failed: Vec<String> =
        outcomes.iter().filter(|o| o.result.is_err()).map(|o| format!("{} {}", action(o).as_str(), o.name)).collect();
    if failed.is_empty() {
        printed?;
        return Ok(ExitStatus::Success);
    }
    if let Err(e) = printed {
        ui::warn(&format!("{e:#}"));
    }
    let kind = if failed.len() < outcomes.len() { Kind::Partial } else { Kind::Backend };
    Err(Failure {
        kind,
        message: format!(
            "{} of {} changes to the {target} failed, so these were not done: {}",
            failed.len(),
            outcomes.len(),
            failed.join(", ")
        ),
    }
    .into())
}

/// Pad every cell to its column's widest (in characters), for plain-text
/// tables; colour, if any, goes on after padding so codes do not count.
pub fn pad_columns(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|cell| cell.chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter().map(|r| r.iter().zip(&widths).map(|(cell, w)| format!("{cell:w$}")).collect()).collect()
}
