//! `escort ls TARGET`: the target's secrets (or variables) by name, with dates and, for
//! GitHub organization and user secrets, who may read them; for ESC, whether
//! each is secret. Never a value.

use crate::cli::{self, LsArgs, ReportFormat};
use crate::error::ExitStatus;
use crate::record::Entry;
use crate::settings::Context;
use crate::targets;
use crate::{output, ui};
use anyhow::Result;

pub async fn ls(args: LsArgs, ctx: &Context) -> Result<ExitStatus> {
    let options = cli::target_options(&args.app, Some(&args.concurrency), None);
    let target = targets::open(&args.target, &options, ctx)?;
    let entries = crate::audit::list(&target.name(), target.list(true).await)?;
    match args.format {
        ReportFormat::Json => output::json(&serde_json::json!({"target": target.name(), target.holds(): entries}))?,
        ReportFormat::Text if entries.is_empty() => {
            ui::note(&format!("no {} in the {}", target.holds(), target.name()))
        }
        ReportFormat::Text => output::write(table(&entries).as_bytes())?,
    }
    Ok(ExitStatus::Success)
}

/// Columns sized to their contents; access columns only where there is
/// access to show, and SECRET only where the target knows (ESC).
fn table(entries: &[Entry]) -> String {
    let access = entries.iter().any(|e| e.visibility.is_some());
    let secrecy = entries.iter().any(|e| e.secret.is_some());
    let date = |d: &Option<String>| d.clone().unwrap_or_else(|| "-".to_string());
    let mut rows = vec![["NAME", "UPDATED", "CREATED", "VISIBILITY", "REPOS", "SECRET"].map(String::from).to_vec()];
    for e in entries {
        let repos = match (e.visibility.as_deref(), e.selected_repositories) {
            (Some("selected"), Some(n)) => n.to_string(),
            _ => "-".to_string(),
        };
        let visibility = e.visibility.clone().unwrap_or_else(|| "-".to_string());
        let secret = match e.secret {
            Some(true) => "yes",
            Some(false) => "no",
            None => "-",
        };
        rows.push(vec![
            crate::ui::escape(&e.name).into_owned(),
            date(&e.updated_at),
            date(&e.created_at),
            visibility,
            repos,
            secret.into(),
        ]);
    }
    let mut columns = vec![0, 1, 2];
    if access {
        columns.extend([3, 4]);
    }
    if secrecy {
        columns.push(5);
    }
    let shown: Vec<Vec<String>> = rows.iter().map(|r| columns.iter().map(|&c| r[c].clone()).collect()).collect();
    let mut out = String::new();
    for row in super::report::pad_columns(&shown) {
        out.push_str(row.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, visibility: Option<&str>, repos: Option<u64>) -> Entry {
        Entry {
            name: name.into(),
            created_at: Some("2024-01-01T00:00:00Z".into()),
            updated_at: Some("2024-02-01T00:00:00Z".into()),
            visibility: visibility.map(String::from),
            selected_repositories: repos,
            ..Entry::default()
        }
    }

    #[test]
    fn repository_secrets_have_no_access_columns() {
        let out = table(&[entry("API_KEY", None, None)]);
        assert_eq!(
            out,
            "NAME     UPDATED               CREATED\nAPI_KEY  2024-02-01T00:00:00Z  2024-01-01T00:00:00Z\n"
        );
    }

    #[test]
    fn esc_variables_show_whether_secret() {
        let mut plain = entry("LOG_LEVEL", None, None);
        plain.secret = Some(false);
        let computed = Entry { name: "DB".into(), ..Entry::default() };
        let out = table(&[Entry { secret: Some(true), ..entry("API_KEY", None, None) }, plain, computed]);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("NAME") && lines[0].ends_with("CREATED               SECRET"), "{out}");
        assert!(lines[1].starts_with("API_KEY") && lines[1].ends_with("  yes"), "{out}");
        assert!(lines[2].ends_with("  no"), "{out}");
        assert_eq!(lines[3].split_whitespace().collect::<Vec<_>>(), ["DB", "-", "-", "-"]);
    }

    #[test]
    fn organization_secrets_show_visibility_and_count() {
        let out = table(&[entry("A", Some("selected"), Some(3)), entry("B", Some("all"), None)]);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].ends_with("VISIBILITY  REPOS"), "{out}");
        assert!(lines[1].ends_with("selected    3"), "{out}");
        assert!(lines[2].ends_with("all         -"), "{out}");
    }
}
