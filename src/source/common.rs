//! What every kind of source shares: `trait Source` (with `load`, the one
//! place a value read enters escort and is registered for scrubbing), and
//! which ESC environment a command reads.

use crate::esc::EnvRef;
pub use crate::esc::history::Changed;
use crate::esc::value::Skipped;
use crate::keys::Selection;
use crate::settings::Context;
use crate::vars::{BoxFuture, Var};
use crate::{error, secret};
use anyhow::Result;
use std::collections::HashMap;

pub trait Source: Send + Sync {
    /// How the user names it: `esc:acme/app/dev`, `env`, `dotenv:.env`.
    fn name(&self) -> String;
    /// Read every variable the source has (`load` is what callers use).
    fn read(&self) -> BoxFuture<'_, Result<Vec<Var>>>;
    /// `read`, and the keys the source holds without a value (null, or
    /// unknown to ESC): a prune must never take those for keys it lacks.
    fn read_held(&self) -> BoxFuture<'_, Result<(Vec<Var>, Skipped)>> {
        Box::pin(async move { Ok((self.read().await?, Skipped::default())) })
    }
    /// The revision it reads, when the user named one (`esc:ENV@REV`).
    fn revision(&self) -> Option<String> {
        None
    }
    /// Whether the `secret` flags it sets mean something (ESC's do). A source
    /// that cannot tell marks every value secret, and a manifest may say otherwise.
    fn knows_secrecy(&self) -> bool {
        true
    }
    /// Whether its secret values are registered for scrubbing. Not the process
    /// environment's: most of it (`PATH`, `HOME`) is not escort's, and
    /// scrubbing those would garble every message.
    fn scrubbed(&self) -> bool {
        true
    }
    /// When each of `names` last changed at the source, or why it cannot be
    /// dated; a name left out: the source keeps no dates (docs/routes.md,
    /// "escort status": what each date means).
    fn changed_at<'a>(&'a self, _names: &'a [String]) -> BoxFuture<'a, Result<HashMap<String, Changed>>> {
        Box::pin(async { Ok(HashMap::new()) })
    }
    /// Read every variable, registering each secret value so that no message
    /// escort shows can quote it: with the token settings, the one place a
    /// value enters escort.
    fn load(&self) -> BoxFuture<'_, Result<Vec<Var>>> {
        Box::pin(async move { Ok(self.load_held().await?.0) })
    }
    /// `load`, and the keys held without a value (`read_held`).
    fn load_held(&self) -> BoxFuture<'_, Result<(Vec<Var>, Skipped)>> {
        Box::pin(async move {
            let (vars, held) = match self.read_held().await {
                Ok((vars, held)) => (Ok(vars), held),
                Err(e) => (Err(e), Skipped::default()),
            };
            let vars = crate::audit::read(&self.name(), vars)?;
            if self.scrubbed() {
                secret::register_all(vars.iter().flat_map(|v| v.sensitive(false)));
            }
            Ok((vars, held))
        })
    }
    /// `load`, then the variables `keys` picks, to be copied as secrets (a
    /// source that registers nothing, the environment, has them registered
    /// now), and the picked keys held without a value, under the names `keys`
    /// gives them.
    fn load_picked_held<'a>(&'a self, keys: &'a Selection) -> BoxFuture<'a, Result<(Vec<Var>, Skipped)>> {
        Box::pin(async move {
            let (vars, held) = self.load_held().await?;
            let vars = keys.apply(vars)?;
            if !self.scrubbed() {
                secret::register_all(vars.iter().map(|v| &v.value));
            }
            let held = Skipped { unknown: keys.rename(held.unknown), null: keys.rename(held.null) };
            Ok((vars, held))
        })
    }
}

/// The ESC environment to read: the one given, else `ESC_ENV`.
pub fn esc_env(given: Option<&EnvRef>, ctx: &Context) -> Result<EnvRef> {
    match (given, &ctx.settings.esc_env) {
        (Some(env), _) => Ok(env.clone()),
        (None, Some(text)) => EnvRef::parse(text).map_err(|e| error::usage(format!("ESC_ENV: {e}"))),
        (None, None) => Err(error::usage(
            "no ESC environment: name one (`esc:ENV`, or --env) or set ESC_ENV \
                 (load, run, check and get: try --demo for a built-in one)",
        )),
    }
}
