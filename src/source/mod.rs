//! Where values come from: `esc[:ENV]`, `env` and `dotenv:PATH`.
//! Each source is one file; `parse` and `check` are the only places that know them all.

pub mod dotenv;
pub mod env;
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
    /// Whether the `secret` flags it sets mean something (ESC's do). A source
    /// that cannot tell marks every value secret, and a manifest may say otherwise.
    fn knows_secrecy(&self) -> bool {
        true
    }
}

/// A source from its name on the command line or in a manifest.
pub fn parse(spec: &str) -> Result<Box<dyn Source>> {
    let (kind, arg) = match spec.split_once(':') {
        Some((k, a)) => (k, Some(a)),
        None => (spec, None),
    };
    match kind {
        "esc" => Ok(Box::new(esc::EscSource::new(arg)?)),
        "env" if arg.is_none() => Ok(Box::new(env::EnvSource)),
        "dotenv" => Ok(Box::new(dotenv::DotenvSource::new(arg.unwrap_or_default())?)),
        _ => Err(crate::error::usage(format!("unknown source `{spec}`: use esc[:ENV], env or dotenv:PATH"))),
    }
}

/// Whether `spec` names a source `parse` knows, without opening it or reading
/// its configuration: a manifest is checked before anyone asks for ESC_ENV.
pub fn check(spec: &str) -> Result<(), String> {
    let known = match spec.split_once(':') {
        None => matches!(spec, "esc" | "env"),
        Some(("esc" | "dotenv", rest)) => !rest.trim().is_empty(),
        Some(_) => false,
    };
    if known { Ok(()) } else { Err(format!("unknown source `{spec}`: use esc, esc:ENV, env or dotenv:PATH")) }
}
