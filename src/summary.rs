//! The job's step summary (`$GITHUB_STEP_SUMMARY`, docs/load.md, "Step summaries"):
//! `load`, `check`, `status` and `sync` append a short Markdown report inside
//! a GitHub job. Names, statuses, dates and counts; never a value.

use crate::check::Report;
use crate::fleet::status::{self, Cell};
use crate::record::{Action, Outcome};
use crate::settings::Context;
use crate::ui;
use std::io::Write as _;

/// Append `markdown()` to the step summary, inside a GitHub job only. A
/// summary that cannot be written is a warning: the command's work stands.
pub fn append(ctx: &Context, markdown: impl FnOnce() -> String) {
    let Some(path) = file(ctx) else { return };
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(markdown().as_bytes()));
    if let Err(e) = written {
        ui::warn(&format!("could not append to the step summary {}: {e}", path.display()));
    }
}

/// Whether `append` writes anything: for what must be kept for the summary
/// before it is written (`load` gives its variables away first).
pub fn wanted(ctx: &Context) -> bool {
    file(ctx).is_some()
}

fn file(ctx: &Context) -> Option<&std::path::Path> {
    let runner = &ctx.settings.runner;
    runner.step_summary.as_deref().filter(|_| runner.active)
}

/// Text as literal Markdown, on one line: control characters made visible,
/// and the characters with a meaning inside a line backslash-escaped (no `|`
/// ends a table cell, no backtick opens a code span, no `<` starts HTML, no
/// `*`/`_`/`~` emphasis, no `[` link, no `&` entity); dates and names stay readable.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in ui::escape(text).chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '|' | '<' | '>' | '[' | ']' | '~' | '&' | '!' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A Markdown table; cells are escaped here.
fn table<S: AsRef<str>>(header: &[&str], rows: impl IntoIterator<Item = Vec<S>>) -> String {
    let mut out = format!("| {} |\n|{}\n", header.join(" | "), "---|".repeat(header.len()));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| md(c.as_ref())).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// `load`: what was loaded from where, and the names.
pub fn load(source: &str, revision: &str, names: &[&str]) -> String {
    let listed: Vec<String> = names.iter().map(|n| md(n)).collect();
    format!(
        "### escort load\n\n{}\n{} variables: {}\n\n",
        table(
            &["Source", "Revision", "Variables"],
            [vec![source.to_string(), revision.to_string(), names.len().to_string()]]
        ),
        names.len(),
        if listed.is_empty() { "none".to_string() } else { listed.join(", ") }
    )
}

/// A unit enum's serialized name (`optional_missing`).
fn tag(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// `check`: the sources read and each secret's status.
pub fn check(report: &Report) -> String {
    let sources = table(
        &["Source", "Status", "Detail"],
        report.sources.iter().map(|s| vec![s.name.clone(), tag(&s.status), s.detail.clone().unwrap_or_default()]),
    );
    let secrets = table(
        &["Secret", "Status", "Source", "Group", "Message"],
        report.secrets.iter().map(|s| {
            vec![
                s.name.clone(),
                tag(&s.status),
                s.source.clone().unwrap_or_default(),
                s.group.clone().unwrap_or_default(),
                s.message.clone().unwrap_or_default(),
            ]
        }),
    );
    let one_of = match report.one_of.is_empty() {
        true => String::new(),
        false => {
            table(
                &["One of", "Satisfied"],
                report.one_of.iter().map(|o| vec![o.name.clone(), if o.ok { "yes" } else { "no" }.to_string()]),
            ) + "\n"
        }
    };
    let verdict = if report.ok { "passed" } else { "failed" };
    format!("### escort check: {verdict}\n\n{sources}\n{secrets}\n{one_of}")
}

/// `status` and `sync`: each cell of the routes, with its dates.
pub fn matrix(title: &str, cells: &[&Cell]) -> String {
    let counts = status::summary(cells.iter().copied());
    let counted: Vec<String> = counts.iter().filter(|(_, n)| **n > 0).map(|(s, n)| format!("{n} {s}")).collect();
    let rows = cells.iter().map(|c| {
        let date = |d: &Option<String>| d.clone().unwrap_or_else(|| "-".to_string());
        vec![
            c.route.clone(),
            c.key.clone(),
            c.target.clone(),
            c.status.as_str().to_string(),
            date(&c.source_changed_at),
            date(&c.target_updated_at),
        ]
    });
    format!(
        "### {title}\n\n{}\n{}\n\n",
        table(&["Route", "Key", "Target", "Status", "Source changed", "Target updated"], rows),
        if counted.is_empty() { "no cells".to_string() } else { counted.join(", ") }
    )
}

/// `sync`'s result per target: counts, and the names that failed.
pub fn results<'a>(targets: impl IntoIterator<Item = (&'a str, &'a [Outcome])>) -> String {
    let rows = targets.into_iter().map(|(target, outcomes)| {
        let count = |a: Action| outcomes.iter().filter(|o| o.result.as_ref().is_ok_and(|d| *d == a)).count();
        let failed: Vec<&str> = outcomes.iter().filter(|o| o.result.is_err()).map(|o| o.name.as_str()).collect();
        vec![
            target.to_string(),
            count(Action::Create).to_string(),
            count(Action::Update).to_string(),
            count(Action::Delete).to_string(),
            count(Action::Unchanged).to_string(),
            failed.len().to_string(),
        ]
        .into_iter()
        .chain(std::iter::once(failed.join(" ")))
        .collect()
    });
    format!(
        "#### Result\n\n{}\n",
        table(&["Target", "Created", "Updated", "Pruned", "Unchanged", "Failed", "Not written"], rows)
    )
}

/// What `sync` could not read or write at all, one line each (scrubbed messages).
pub fn not_written(failures: &[String]) -> String {
    failures.iter().map(|f| format!("- not written: {}\n", md(f))).collect::<String>()
        + if failures.is_empty() { "" } else { "\n" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_break_a_table_or_open_markup() {
        assert_eq!(md("A|B`C`<b>*x*"), "A\\|B\\`C\\`\\<b\\>\\*x\\*");
        assert_eq!(md("a\nb\\"), "a\\\\nb\\\\", "one line, and a backslash stays literal");
        let t = table(&["Key", "Status"], [vec!["x|y`", "ok"], vec!["line\nbreak", "missing"]]);
        assert_eq!(t, "| Key | Status |\n|---|---|\n| x\\|y\\` | ok |\n| line\\\\nbreak | missing |\n");
        // Every row keeps its two columns: no unescaped `|` but the separators.
        for row in t.lines() {
            assert_eq!(row.replace("\\|", "").matches('|').count(), 3, "{row}");
        }
    }
}
