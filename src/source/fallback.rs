//! `--fallback` for `load` and `run` (docs/load.md, "When ESC is down"): when ESC
//! cannot be reached, the values come from local sources instead, with a loud
//! warning. A refusal (401, 403, 404) or a usage error never falls back: those
//! are mistakes to fix, not outages to ride out.

use super::common::Source;
use super::spec::{SourceSpec, open};
use crate::http::HttpError;
use crate::keys::Selection;
use crate::settings::Context;
use crate::vars::Var;
use crate::{error, secret, ui};
use anyhow::{Context as _, Result};
use std::collections::HashSet;

/// A `--fallback` source: `env` or `dotenv:PATH`, nothing that needs a network.
pub fn parse_spec(text: &str) -> Result<SourceSpec, String> {
    match text.parse::<SourceSpec>()? {
        spec @ (SourceSpec::Env | SourceSpec::Dotenv(_)) => Ok(spec),
        other => Err(format!("`{other}` cannot be a fallback: use env or dotenv:PATH")),
    }
}

/// `source`'s variables picked by `keys`; when it cannot be reached and
/// `fallbacks` are given, theirs instead: each read in order, the first to
/// have a name gives its value. With the name of where they came from.
pub async fn load(
    source: &dyn Source,
    fallbacks: &[SourceSpec],
    keys: &Selection,
    ctx: &Context,
) -> Result<(Vec<Var>, String)> {
    // Checked before any request: the whole environment (PATH, HOME, ...) is no export.
    if fallbacks.contains(&SourceSpec::Env) && keys.takes_everything() {
        return Err(error::usage("--fallback env needs --keys naming the variables to take (not `*`)"));
    }
    let failure = match source.load().await {
        Ok(vars) => return Ok((keys.apply(vars)?, source.name())),
        Err(err) if !fallbacks.is_empty() && unreachable(&err) => err,
        Err(err) => return Err(err),
    };
    let used: Vec<String> = fallbacks.iter().map(ToString::to_string).collect();
    ui::alert(
        &format!(
            "{} could not be reached ({failure:#}); the values come from the fallback {} instead",
            source.name(),
            used.join(", ")
        ),
        ctx.settings.runner.active,
    );
    let mut seen = HashSet::new();
    let mut merged = Vec::new();
    for spec in fallbacks {
        let vars = open(spec, ctx)?.load().await.with_context(|| {
            format!("{} could not be reached, and the fallback {spec} could not be read either", source.name())
        })?;
        merged.extend(vars.into_iter().filter(|v| seen.insert(v.name.clone())));
    }
    let vars = keys.apply(merged)?;
    // The environment's values are not registered when read (`Source::scrubbed`): these are exported.
    secret::register_all(vars.iter().flat_map(|v| v.sensitive(false)));
    Ok((vars, format!("{} (fallback: {} could not be reached)", used.join(", "), source.name())))
}

/// Whether `err` says the service could not be reached (no answer, or 5xx after the retries).
fn unreachable(err: &anyhow::Error) -> bool {
    err.chain().find_map(|c| c.downcast_ref::<HttpError>()).is_some_and(HttpError::unreachable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_sources_are_fallbacks() {
        assert_eq!(parse_spec("env"), Ok(SourceSpec::Env));
        assert_eq!(parse_spec("dotenv:.env.backup"), Ok(SourceSpec::Dotenv(".env.backup".into())));
        for bad in ["esc", "esc:acme/app/dev", "github-secrets", "vault"] {
            assert!(parse_spec(bad).is_err(), "{bad}");
        }
    }
}
