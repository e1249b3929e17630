//! An opened Pulumi ESC environment as a source, or the built-in demo.

use super::common::Source;
use crate::esc::definition::Definition;
use crate::esc::value::{self, Skipped};
use crate::esc::{EnvRef, Esc};
use crate::settings::Context;
use crate::ui;
use crate::vars::BoxFuture;
use crate::vars::Var;
use anyhow::Result;
use std::collections::{HashMap, HashSet};

/// Revisions read at once when dating keys.
const CONCURRENCY: usize = 4;

/// An environment's read response, shipped in the binary: `escort load --demo`
/// runs the whole export path with no account and no network.
const DEMO: &str = include_str!("../esc/demo.json");

pub enum EscSource {
    Remote(Box<Esc>, EnvRef),
    Demo,
}

impl EscSource {
    /// `--env` (or `esc:ENV`) if given, else `ESC_ENV`.
    pub fn remote(env: Option<&EnvRef>, ctx: &Context) -> Result<Self> {
        let env = super::common::esc_env(env, ctx)?;
        Ok(EscSource::Remote(Box::new(Esc::new(ctx)?), env))
    }
}

impl Source for EscSource {
    fn name(&self) -> String {
        match self {
            EscSource::Remote(_, env) => format!("esc:{env}"),
            EscSource::Demo => "esc:demo".to_string(),
        }
    }

    fn revision(&self) -> Option<String> {
        match self {
            EscSource::Remote(_, env) => env.version.clone(),
            EscSource::Demo => None,
        }
    }

    /// From the revisions: the newest that changed each key's opened value
    /// (`history::changes`). Keys the definition does not hold (imports) and
    /// those that read a provider or an import stay unknown, with the reason
    /// told; keys unchanged in every revision ESC still has are dated at the
    /// oldest, as changed no later than that, and said so.
    fn changed_at<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Result<HashMap<String, String>>> {
        Box::pin(async move {
            let EscSource::Remote(esc, env) = self else { return Ok(HashMap::new()) };
            let env = esc.resolve(env).await?;
            let (text, _) = esc.definition(&EnvRef { version: None, ..env.clone() }).await?;
            let definition = Definition::parse(text)?;
            let own: HashSet<String> = definition.variables()?.into_iter().map(|v| v.name).collect();
            let mut datable = Vec::new();
            for name in names.iter().filter(|n| own.contains(*n)) {
                match definition.undatable(name)? {
                    Some(why) => ui::note(&format!(
                        "{name}: the revisions of {env} cannot date its value ({why}): its sealed copies are unknown but where the ledger has a record of them"
                    )),
                    None => datable.push(name.clone()),
                }
            }
            let changes = crate::esc::history::changes(esc, &env, &datable, CONCURRENCY).await?;
            changes.note_before(&env);
            Ok(changes.at)
        })
    }

    fn read(&self) -> BoxFuture<'_, Result<Vec<Var>>> {
        Box::pin(async move { Ok(self.read_held().await?.0) })
    }

    fn read_held(&self) -> BoxFuture<'_, Result<(Vec<Var>, Skipped)>> {
        Box::pin(async move {
            let (vars, skipped) = match self {
                EscSource::Remote(esc, env) => esc.open_and_read(env).await?,
                EscSource::Demo => {
                    let env: value::Environment = serde_json::from_str(DEMO)?;
                    value::decode(env.properties)
                }
            };
            for name in &skipped.unknown {
                ui::warn(&format!("{name}: ESC could not resolve this value (unknown); skipped"));
            }
            for name in &skipped.null {
                ui::warn(&format!("{name}: the value is null; skipped"));
            }
            Ok((vars, skipped))
        })
    }
}
