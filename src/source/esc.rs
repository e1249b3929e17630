//! An opened Pulumi ESC environment as a source, or the built-in demo.

use super::common::{Changed, Source};
use crate::esc::value::{self, Skipped};
use crate::esc::{EnvRef, Esc};
use crate::settings::Context;
use crate::ui;
use crate::vars::BoxFuture;
use crate::vars::Var;
use anyhow::Result;
use std::collections::HashMap;

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

    /// From the revisions (`history::dates`): the newest that changed
    /// anything each key's opened value reads, its imports' revisions at
    /// their pins included. A key that reads a provider cannot be dated, and
    /// one unchanged in every revision ESC still has is dated "before".
    fn changed_at<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Result<HashMap<String, Changed>>> {
        Box::pin(async move {
            let EscSource::Remote(esc, env) = self else { return Ok(HashMap::new()) };
            let env = esc.resolve(env).await?;
            Ok(crate::esc::history::dates(esc, &env, names, CONCURRENCY).await?.changed)
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
