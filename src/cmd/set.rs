//! `escort set TARGET NAME`: write one secret, its value read from stdin or
//! typed at a prompt that does not echo.

use crate::cli::{self, SetArgs};
use crate::error::{self, ExitStatus};
use crate::secret::{self, Secret};
use crate::settings::Context;
use crate::targets;
use crate::ui;
use crate::vars::Var;
use anyhow::{Context as _, Result};
use console::Term;
use std::io::{IsTerminal, Read};
use zeroize::Zeroizing;

pub async fn set(args: SetArgs, ctx: &Context) -> Result<ExitStatus> {
    let mut options = cli::target_options(&args.app, None, Some(&args.access));
    options.manifest = super::grouping(&args.target, args.access.manifest.as_deref())?;
    let target = targets::open(&args.target, &options, ctx)?;
    // A bad name is refused before anyone types a value for it.
    target.check(&[Var::secret(args.name.as_str(), "")])?;
    let value = read_value(&args.name)?;
    secret::register(&value);
    let vars = [Var::secret(args.name, value)];
    target.check(&vars)?;

    let outcome = target.put(&vars, &|_| {}).await?.pop().expect("one outcome per variable");
    let action = outcome.result?;
    ui::note(&format!("{} {} in the {}", action.done(), outcome.name, target.name()));
    Ok(ExitStatus::Success)
}

/// The value exactly as piped in (a trailing newline is part of it), or
/// typed at a hidden prompt.
fn read_value(name: &str) -> Result<Secret> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut bytes = Zeroizing::new(Vec::new());
        stdin.lock().read_to_end(&mut bytes).context("could not read the value from stdin")?;
        let text = std::str::from_utf8(&bytes).map_err(|_| error::usage("the value on stdin is not UTF-8 text"))?;
        return Ok(Secret::new(text));
    }
    let term = Term::stderr();
    if !term.is_term() {
        return Err(error::usage("no terminal to prompt on: pipe the value into stdin"));
    }
    term.write_str(&format!("Value for {name} (typing is hidden): "))?;
    let typed = Zeroizing::new(term.read_secure_line().context("could not read the value")?);
    if typed.is_empty() {
        return Err(error::usage("no value typed: nothing was written"));
    }
    Ok(Secret::new(typed.as_str()))
}
