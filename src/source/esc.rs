//! An opened Pulumi ESC environment as a source, or the built-in demo.

use super::{BoxFuture, Source};
use crate::esc::{EnvRef, Esc, value};
use crate::vars::Var;
use crate::{error, ui};
use anyhow::Result;

/// An environment's read response, shipped in the binary: `escort load --demo`
/// runs the whole export path with no account and no network.
const DEMO: &str = include_str!("../esc/demo.json");

pub enum EscSource {
    Remote(EnvRef),
    Demo,
}

impl EscSource {
    /// `--env` (or `esc:ENV`) if given, else `ESC_ENV`.
    pub fn new(env: Option<&str>) -> Result<Self> {
        let text = env
            .map(str::to_string)
            .or_else(|| std::env::var("ESC_ENV").ok())
            .filter(|e| !e.trim().is_empty())
            .ok_or_else(|| {
            error::usage("no ESC environment: pass --env or set ESC_ENV (try --demo for a built-in one)")
        })?;
        Ok(EscSource::Remote(EnvRef::parse(&text)?))
    }
}

impl Source for EscSource {
    fn name(&self) -> String {
        match self {
            EscSource::Remote(env) => format!("esc:{env}"),
            EscSource::Demo => "esc:demo".to_string(),
        }
    }

    fn load(&self) -> BoxFuture<'_, Result<Vec<Var>>> {
        Box::pin(async move {
            let (vars, skipped) = match self {
                EscSource::Remote(env) => Esc::from_env()?.open_and_read(env).await?,
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
