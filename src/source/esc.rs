//! An opened Pulumi ESC environment as a source, or the built-in demo.

use super::{BoxFuture, Source};
use crate::esc::{EnvRef, Esc, value};
use crate::settings::Context;
use crate::ui;
use crate::vars::Var;
use anyhow::Result;

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
        let env = super::esc_env(env, ctx)?;
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

    fn read(&self) -> BoxFuture<'_, Result<Vec<Var>>> {
        Box::pin(async move {
            let (vars, skipped) = match self {
                EscSource::Remote(esc, env) => esc.open_and_read(env).await?,
                EscSource::Demo => {
                    let env: value::Environment = serde_json::from_str(DEMO)?;
                    value::decode(env.properties)
                }
            };
            for name in skipped.unknown {
                ui::warn(&format!("{name}: ESC could not resolve this value (unknown); skipped"));
            }
            for name in skipped.null {
                ui::warn(&format!("{name}: the value is null; skipped"));
            }
            Ok(vars)
        })
    }
}
