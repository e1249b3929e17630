//! `escort get NAME`: one variable's value on stdout, for scripts
//! (`pulumi env get`, `doppler secrets get --plain`). A secret is not printed
//! to a terminal unless `--show-secrets`, as `esc env get` hides secrets
//! without it: on a screen it would be shared, recorded and kept in
//! scrollback (docs/load.md, "escort get").

use crate::cli::GetArgs;
use crate::error::{self, ExitStatus};
use crate::output;
use crate::settings::Context;
use crate::source;
use crate::wiped::Wiped;
use anyhow::Result;
use std::io::IsTerminal;

pub async fn get(args: GetArgs, ctx: &Context) -> Result<ExitStatus> {
    let source = source::open(&args.spec(), ctx)?;
    let vars = source.load().await?;
    let Some(var) = vars.iter().find(|v| v.name == args.name) else {
        return Err(error::usage(format!("{}: no such variable in {}", args.name, source.name())));
    };
    // The demo's values are built into escort and published: nothing to hide.
    let secret = var.holds_secret() && args.spec() != source::SourceSpec::Demo;
    if secret && !args.show_secrets && std::io::stdout().is_terminal() {
        return Err(error::usage(format!(
            "{} is a secret and stdout is a terminal: pipe or redirect it, or pass --show-secrets",
            args.name
        )));
    }
    let mut text = Wiped::new(String::with_capacity(var.value.expose().len() + 1));
    text.push_str(var.value.expose());
    if !args.no_newline {
        text.push('\n');
    }
    output::write(text.as_bytes())?;
    Ok(ExitStatus::Success)
}
