//! `escort load`: export an environment to a GitHub job, a shell, dotenv, docker or JSON.

use super::export::{self, Exported, Output};
use crate::cli::LoadArgs;
use crate::error::ExitStatus;
use crate::settings::Context;
use crate::source::SourceSpec;
use crate::summary;
use anyhow::Result;

pub async fn load(args: LoadArgs, ctx: &Context) -> Result<ExitStatus> {
    let out = Output::new(&args.output, ctx)?;
    let Exported { vars, from, revision } = export::exportable(&args.source, ctx).await?;
    // The demo's values are built into escort and published: nothing to hide.
    if !args.show_secrets && args.source.spec() != SourceSpec::Demo {
        out.refuse_secrets_on_terminal(&vars)?;
    }
    // Kept for the step summary only: a copy of every name costs a large load.
    let names: Vec<String> =
        if summary::wanted(ctx) { vars.iter().map(|v| v.name.clone()).collect() } else { Vec::new() };
    out.export(vars)?;
    summary::append(ctx, || {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        summary::load(&from, revision.as_deref().unwrap_or("latest"), &names)
    });
    Ok(ExitStatus::Success)
}
