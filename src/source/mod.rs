//! Where values come from: `esc[:ENV]` (and, in time, `env` and `dotenv:PATH`).
//! Each source is one file; `parse` is the only place that knows them all.

pub mod esc;

use crate::vars::Var;
use anyhow::Result;
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait Source: Send + Sync {
    /// How the user names it: `esc:acme/app/dev`, `env`, `dotenv:.env`.
    fn name(&self) -> String;
    /// Read every variable the source has.
    fn load(&self) -> BoxFuture<'_, Result<Vec<Var>>>;
}

/// A source from its name on the command line or in a manifest.
pub fn parse(spec: &str) -> Result<Box<dyn Source>> {
    let (kind, arg) = match spec.split_once(':') {
        Some((k, a)) => (k, Some(a)),
        None => (spec, None),
    };
    match kind {
        "esc" => Ok(Box::new(esc::EscSource::new(arg)?)),
        _ => Err(crate::error::usage(format!("unknown source `{spec}`: use esc[:ENV]"))),
    }
}
