//! What the commands that write to a target share: asking before deleting,
//! a progress line per secret, the final table of results, the manifest that
//! groups a .env file, and the status matrix (`status`, and `sync` of routes).

use crate::cli::ReportFormat;
use crate::error::{self, ExitStatus, Failure, Kind};
use crate::manifest;
use crate::record::{Action, Outcome};
use crate::secret;
use crate::targets::TargetSpec;
use crate::{output, ui};
use anyhow::Result;
use console::Term;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

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
        term.write_line(&format!("  {}", ui::escape(name)))?;
    }
    term.write_str(&format!("Delete {} secret(s)? [y/N] ", names.len()))?;
    let answer = term.read_line()?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(error::usage("not confirmed: nothing was written or deleted"))
    }
}

/// How the writes to one target are going: on a terminal, a bar (the bars of
/// all targets written at once drawn together); otherwise, for logs, one line
/// when the target is done. Names only, never a value.
pub struct Progress {
    target: String,
    bar: Option<ProgressBar>,
    /// How many of each outcome, in `OUTCOMES`' order.
    counts: Mutex<[usize; OUTCOMES.len()]>,
}

/// The outcomes a progress line counts (`None`: failed), in the order it
/// lists them: one order whichever write ends first, so logs compare run to run.
const OUTCOMES: [Option<Action>; 5] =
    [Some(Action::Create), Some(Action::Update), Some(Action::Unchanged), Some(Action::Delete), None];

/// Start the progress of `total` writes to `target`.
pub fn progress(target: &str, total: usize) -> Progress {
    static BARS: OnceLock<MultiProgress> = OnceLock::new();
    let bar = (Term::stderr().is_term() && !ui::quiet()).then(|| {
        let style = ProgressStyle::with_template("{prefix} [{bar:24}] {pos}/{len} {msg}")
            .expect("a valid template")
            .progress_chars("=> ");
        let bar = ProgressBar::new(total as u64).with_style(style).with_prefix(ui::escape(target).into_owned());
        BARS.get_or_init(MultiProgress::new).add(bar)
    });
    Progress { target: target.to_string(), bar, counts: Mutex::new([0; OUTCOMES.len()]) }
}

impl Progress {
    /// One write is done.
    pub fn tell(&self, outcome: &Outcome) {
        let what = outcome.result.as_ref().ok().copied();
        if let Some(i) = OUTCOMES.iter().position(|w| *w == what) {
            self.counts.lock().expect("not poisoned")[i] += 1;
        }
        if let Some(bar) = &self.bar {
            bar.set_message(ui::escape(&outcome.name).into_owned());
            bar.inc(1);
        }
    }

    /// All writes are done: "github:acme/app: 3 created, 1 updated".
    pub fn finish(self) {
        let counts = self.counts.into_inner().expect("not poisoned");
        let counted = OUTCOMES.iter().zip(counts).filter(|(_, n)| *n > 0);
        let line = counted
            .map(|(what, n)| format!("{n} {}", what.map_or("failed", Action::done)))
            .collect::<Vec<_>>()
            .join(", ");
        match self.bar {
            Some(bar) => bar.finish_with_message(line),
            None if !line.is_empty() => ui::note(&format!("{}: {line}", self.target)),
            None => {}
        }
    }
}

/// The results of writing to one target.
pub struct Results<'a> {
    /// "Actions secrets of acme/app".
    pub target: String,
    pub outcomes: &'a [Outcome],
    /// What was planned for a name, to say what failed.
    pub planned: Box<dyn Fn(&str) -> Action + 'a>,
    /// The target's version after the write (Fly.io's secrets version).
    pub version: Option<u64>,
}

/// Print one row per secret, then decide the exit: 0 when everything went
/// through; otherwise an error naming each secret that did not, exit 4 when
/// some did (a partial write) and 3 when none did. The exit stands even when
/// the table cannot be printed: what was written was written.
pub fn finish<'a>(
    target: &str,
    outcomes: &'a [Outcome],
    planned: impl Fn(&str) -> Action + 'a,
    format: ReportFormat,
) -> Result<ExitStatus> {
    finish_all(&[Results { target: target.to_string(), outcomes, planned: Box::new(planned), version: None }], format)
}

/// `finish` for several targets: one table (or JSON object) each.
pub fn finish_all(all: &[Results<'_>], format: ReportFormat) -> Result<ExitStatus> {
    let action = |r: &Results<'_>, o: &Outcome| match &o.result {
        Ok(done) => *done,
        Err(_) => (r.planned)(&o.name),
    };
    let error = |o: &Outcome| o.result.as_ref().err().map(|e| secret::scrub(&format!("{e:#}")));
    let printed = match format {
        ReportFormat::Json => {
            let objects: Vec<serde_json::Value> = all
                .iter()
                .map(|r| {
                    let rows: Vec<serde_json::Value> = r
                        .outcomes
                        .iter()
                        .map(|o| {
                            let err = error(o);
                            serde_json::json!({"name": o.name, "action": action(r, o), "ok": err.is_none(), "error": err})
                        })
                        .collect();
                    let ok = r.outcomes.iter().all(|o| o.result.is_ok());
                    let mut object = serde_json::json!({"ok": ok, "target": r.target, "results": rows});
                    if let Some(version) = r.version {
                        object["secrets_version"] = version.into();
                    }
                    object
                })
                .collect();
            match objects.as_slice() {
                [one] => output::json(one),
                _ => {
                    let ok = all.iter().all(|r| r.outcomes.iter().all(|o| o.result.is_ok()));
                    output::json(&serde_json::json!({"ok": ok, "targets": objects}))
                }
            }
        }
        ReportFormat::Text => {
            let mut lines = Vec::new();
            for r in all.iter().filter(|r| !r.outcomes.is_empty()) {
                if all.len() > 1 {
                    lines.push(format!("The {}:", r.target));
                }
                let width = r.outcomes.iter().map(|o| ui::escape(&o.name).len()).max().unwrap_or(0).max(4);
                let act = r.outcomes.iter().map(|o| action(r, o).as_str().len()).max().unwrap_or(0).max(7);
                lines.push(format!("{:width$}  {:act$}  RESULT", "NAME", "ACTION"));
                for o in r.outcomes {
                    let result = error(o).map_or("ok".to_string(), |e| format!("FAILED: {}", ui::escape(&e)));
                    lines.push(format!("{:width$}  {:act$}  {result}", ui::escape(&o.name), action(r, o).as_str()));
                }
                if let Some(version) = r.version {
                    lines.push(format!("secrets version {version}"));
                }
            }
            output::lines(lines)
        }
    };

    let tried: usize =
        all.iter().map(|r| r.outcomes.iter().filter(|o| o.result.is_err() || action(r, o).changes()).count()).sum();
    let failed: Vec<String> = all
        .iter()
        .flat_map(|r| {
            r.outcomes
                .iter()
                .filter(|o| o.result.is_err())
                .map(move |o| format!("{} {} in the {}", action(r, o).as_str(), o.name, r.target))
        })
        .collect();
    if failed.is_empty() {
        printed?;
        return Ok(ExitStatus::Success);
    }
    if let Err(e) = printed {
        ui::warn(&format!("{e:#}"));
    }
    let kind = if failed.len() < tried { Kind::Partial } else { Kind::Backend };
    Err(Failure {
        kind,
        message: format!("{} of {tried} changes failed, so these were not done: {}", failed.len(), failed.join(", ")),
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

/// The manifest that groups a .env file target: the one given, else
/// `escort.toml` when there is one. Other targets need none.
pub fn grouping(target: &TargetSpec, given: Option<&Path>) -> Result<crate::dotenv::Groups> {
    if !matches!(target, TargetSpec::Dotenv(_)) {
        return Ok(Vec::new());
    }
    let path = match given {
        Some(path) => path,
        None if Path::new("escort.toml").is_file() => Path::new("escort.toml"),
        None => return Ok(Vec::new()),
    };
    Ok(manifest::load(path)?.file_groups())
}

/// Per route: its source, then keys × targets, then a summary line.
pub fn status_text(surveys: &[crate::fleet::Survey], unread: &[crate::fleet::Unread]) -> String {
    let mut out = String::new();
    for survey in surveys {
        let esc = crate::ui::escape;
        out.push_str(&format!("route {}: from {}\n", esc(&survey.route), esc(&survey.source)));
        let copies: Vec<_> = survey.copies.iter().flatten().collect();
        let mut keys: Vec<&str> = Vec::new();
        for cell in copies.iter().flat_map(|c| c.cells.iter()) {
            if !keys.contains(&cell.key.as_str()) {
                keys.push(&cell.key);
            }
        }
        let mut rows = vec![
            std::iter::once("KEY".to_string())
                .chain(copies.iter().map(|c| esc(&c.spec.to_string()).into_owned()))
                .collect(),
        ];
        for key in keys {
            let statuses = copies.iter().map(|c| {
                c.cells.iter().find(|x| x.key == key).map_or("-".to_string(), |x| {
                    match (x.source_value, &x.shadowed_by) {
                        (Some(why), _) => format!("{} (source value {})", x.status.as_str(), why.as_str()),
                        (None, Some(by)) => format!("{} (by {})", x.status.as_str(), crate::ui::escape(by)),
                        (None, None) => x.status.as_str().to_string(),
                    }
                })
            });
            rows.push(std::iter::once(crate::ui::escape(key).to_string()).chain(statuses).collect());
        }
        for row in pad_columns(&rows) {
            out.push_str("  ");
            out.push_str(row.join("  ").trim_end());
            out.push('\n');
        }
        for cell in copies.iter().flat_map(|c| c.cells.iter()) {
            if let Some(reason) = &cell.reason {
                let (key, target) = (esc(&cell.key), esc(&cell.target));
                out.push_str(&format!("  {key} in {target}: {}: {}\n", cell.status.as_str(), esc(reason)));
            }
        }
        out.push('\n');
    }
    for u in unread {
        out.push_str(&format!("could not read {}\n", crate::ui::escape(&u.what)));
    }
    let all: Vec<&crate::fleet::status::Cell> = crate::fleet::cells(surveys).collect();
    let summary = crate::fleet::status::summary(all.iter().copied());
    let parts: Vec<String> = summary.iter().filter(|(_, n)| **n > 0).map(|(s, n)| format!("{n} {s}")).collect();
    out.push_str(&format!(
        "{} cells: {}\n",
        all.len(),
        if parts.is_empty() { "none".into() } else { parts.join(", ") }
    ));
    out
}
