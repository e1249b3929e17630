//! `escort status [ROUTE...]`: is every copy of every route current? A matrix
//! of keys × targets, and a summary; never a value.

use super::report;
use crate::cli::{ReportFormat, StatusArgs};
use crate::error::{ExitStatus, Failure, Kind};
use crate::fleet::status::{self, Cell};
use crate::fleet::{self, Unread};
use crate::manifest;
use crate::settings::Context;
use crate::{error, output, secret};
use anyhow::Result;

pub async fn status(args: StatusArgs, ctx: &Context) -> Result<ExitStatus> {
    let manifest = manifest::load(&manifest::locate(args.manifest)?)?;
    let routes = fleet::select(&manifest, &args.routes, "then run status again")?;
    let (surveys, unread) =
        fleet::survey(&manifest, &routes, args.concurrency.concurrency.into(), fleet::Dates::Needed, ctx).await?;
    let cells: Vec<&Cell> = fleet::cells(&surveys).collect();
    let failing =
        surveys.iter().any(|s| s.copies.iter().flatten().any(|c| c.cells.iter().any(|x| x.status.fails(s.prune))));
    match args.format {
        ReportFormat::Json => output::json(&serde_json::json!({
            "ok": !failing && unread.is_empty(),
            "cells": cells,
            "summary": status::summary(cells.iter().copied()),
        }))?,
        ReportFormat::Text => output::write(report::status_text(&surveys, &unread).as_bytes())?,
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
