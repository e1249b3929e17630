//! `escort set TARGET NAME`: write one secret, its value read from stdin or
//! typed at a prompt that does not echo. From stdin, one trailing newline is
//! removed (`echo x |` means `x`, as with `gh secret set` and `pulumi config
//! set`) unless `--raw` (docs/routes.md, "escort set").

use crate::cli::{self, SetArgs};
use crate::error::{self, ExitStatus};
use crate::fleet::ledger::OneOff;
use crate::secret::{self, Secret};
use crate::settings::Context;
use crate::targets;
use crate::ui;
use crate::vars::Var;
use crate::wiped::Wiped;
use anyhow::{Context as _, Result};
use console::Term;
use std::io::{IsTerminal, Read};

pub async fn set(args: SetArgs, ctx: &Context) -> Result<ExitStatus> {
    let mut options = cli::target_options(&args.app, None, Some(&args.access));
    options.groups = super::report::grouping(&args.target, args.access.manifest.as_deref())?;
    let spec = args.target.resolve(ctx)?;
    let target = targets::open(&spec, &options, ctx)?;
    let ledger = OneOff::find(args.access.manifest.as_deref(), &spec, args.app.app, ctx)?;
    // A bad name is refused before anyone types a value for it.
    target.check(&[Var::secret(args.name.as_str(), "")])?;
    let value = read_value(&args.name, args.raw, args.allow_empty)?;
    secret::register(&value);
    let vars = [Var::secret(args.name, value)];
    target.check(&vars)?;
    // A target whose values can be read back (a .env file, Actions variables)
    // is not written again with the value it already holds.
    if let Some(held) = target.values().await? {
        let name = target.canonical(&vars[0].name);
        if held.iter().any(|(e, v)| target.canonical(&e.name) == name && v.expose() == vars[0].value.expose()) {
            ui::note(&format!("{} is unchanged in the {}: nothing was written", vars[0].name, target.name()));
            return Ok(ExitStatus::Success);
        }
    }

    let mut outcomes = crate::audit::write(&target.name(), target.put(&vars, &|_| {}).await)?;
    // A sealed copy's record: `status` then knows what it holds (docs/routes.md, "The ledger").
    let recorded = match &ledger {
        Some(ledger) => ledger.record(&spec, &options, &outcomes, &vars, ctx).await,
        None => Ok(()),
    };
    let outcome = outcomes.pop().expect("one outcome per variable");
    let action = outcome.result?;
    ui::note(&format!("{} {} in the {}", action.done(), outcome.name, target.name()));
    recorded.map(|()| ExitStatus::Success)
}

/// The value as piped in, less one trailing newline unless `raw`; or typed
/// at a hidden prompt. An empty stdin is refused unless `allow_empty`:
/// `printf %s "$UNSET" | escort set` and `</dev/null` would otherwise store
/// an empty secret and exit 0.
fn read_value(name: &str, raw: bool, allow_empty: bool) -> Result<Secret> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut bytes = Wiped::new(Vec::new());
        stdin.lock().read_to_end(&mut bytes).context("could not read the value from stdin")?;
        let text = std::str::from_utf8(&bytes).map_err(|_| error::usage("the value on stdin is not UTF-8 text"))?;
        if text.is_empty() && !allow_empty {
            return Err(error::usage(format!(
                "{name}: stdin was empty: nothing was written (--allow-empty stores an empty value)"
            )));
        }
        if raw {
            return Ok(Secret::new(text));
        }
        let Some(stripped) = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)) else {
            return Ok(Secret::new(text));
        };
        // `echo "$UNSET" | escort set` would otherwise store an empty secret.
        if stripped.is_empty() {
            return Err(error::usage(format!(
                "{name}: stdin held only a newline: nothing was written (--raw stores it as the value)"
            )));
        }
        ui::note(&format!("{name}: removed the trailing newline from stdin (--raw keeps it)"));
        return Ok(Secret::new(stripped));
    }
    let term = Term::stderr();
    if !term.is_term() {
        return Err(error::usage("no terminal to prompt on: pipe the value into stdin"));
    }
    term.write_str(&format!("Value for {name} (typing is hidden): "))?;
    let typed = Wiped::new(term.read_secure_line().context("could not read the value")?);
    if typed.is_empty() {
        return Err(error::usage("no value typed: nothing was written"));
    }
    Ok(Secret::new(typed.as_str()))
}
