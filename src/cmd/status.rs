//! `escort status [ROUTE...]`: is every copy of every route current? A matrix
//! of keys × targets, and a summary; never a value.

use super::fleet::{self, Survey, Unread};
use crate::cli::{ReportFormat, StatusArgs};
use crate::error::{ExitStatus, Failure, Kind};
use crate::manifest;
use crate::settings::Context;
use crate::status::{self, Cell};
use crate::{error, output, secret};
use anyhow::Result;

pub async fn status(args: StatusArgs, ctx: &Context) -> Result<ExitStatus> {
    let manifest = manifest::load(&manifest::locate(args.manifest)?)?;
    let routes = fleet::select(&manifest, &args.routes, "then run status again")?;
    let (surveys, unread) = fleet::survey(&manifest, &routes, args.concurrency.concurrency.into(), ctx).await?;
    let cells: Vec<&Cell> = fleet::cells(&surveys).collect();
    let failing =
        surveys.iter().any(|s| s.copies.iter().flatten().any(|c| c.cells.iter().any(|x| x.status.fails(s.prune))));
    match args.format {
        ReportFormat::Json => output::json(&serde_json::json!({
            "ok": !failing && unread.is_empty(),
            "cells": cells,
            "summary": status::summary(cells.iter().copied()),
        }))?,
        ReportFormat::Text => output::write(text(&surveys, &unread).as_bytes())?,
    }
    crate::summary::append(ctx, || crate::summary::matrix("escort status", &cells));
    finish(&unread, failing)
}

/// Exit 3 naming what could not be read; else 1 when a copy fails.
fn finish(unread: &[Unread], failing: bool) -> Result<ExitStatus> {
    if let Some(first) = unread.first() {
        let names: Vec<String> =
            unread.iter().map(|u| format!("{}: {}", u.what, secret::scrub(&format!("{:#}", u.error)))).collect();
        return Err(Failure {
            kind: match error::kind_of(&first.error) {
                Kind::Usage => Kind::Usage,
                _ => Kind::Backend,
            },
            message: format!("the status is incomplete: could not read {}", names.join("; ")),
        }
        .into());
    }
    Ok(if failing { ExitStatus::Failed } else { ExitStatus::Success })
}

/// Per route: its source, then keys × targets, then a summary line.
pub fn text(surveys: &[Survey], unread: &[Unread]) -> String {
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
                c.cells.iter().find(|x| x.key == key).map_or("-".to_string(), |x| x.status.as_str().to_string())
            });
            rows.push(std::iter::once(crate::ui::escape(key).to_string()).chain(statuses).collect());
        }
        for row in super::report::pad_columns(&rows) {
            out.push_str("  ");
            out.push_str(row.join("  ").trim_end());
            out.push('\n');
        }
        out.push('\n');
    }
    for u in unread {
        out.push_str(&format!("could not read {}\n", crate::ui::escape(&u.what)));
    }
    let all: Vec<&Cell> = fleet::cells(surveys).collect();
    let summary = status::summary(all.iter().copied());
    let parts: Vec<String> = summary.iter().filter(|(_, n)| **n > 0).map(|(s, n)| format!("{n} {s}")).collect();
    out.push_str(&format!(
        "{} cells: {}\n",
        all.len(),
        if parts.is_empty() { "none".into() } else { parts.join(", ") }
    ));
    out
}
