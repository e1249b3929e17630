//! Where values come from: `esc[:ENV]`, `env`, `dotenv:PATH` and `github-secrets`.
//!
//! A spec is parsed once, where the user gave it (a flag, a manifest), into a
//! `SourceSpec`; `open` makes the source from it. Adding a kind of source is
//! one file here plus one arm in each of `SourceSpec`'s `FromStr` and `open`.

pub mod dotenv;
pub mod env;
pub mod esc;
pub mod fallback;
pub mod github_secrets;

use crate::esc::EnvRef;
use crate::keys::Selection;
use crate::settings::Context;
use crate::vars::Var;
use crate::{error, secret};
use anyhow::Result;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::str::FromStr;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A source as the user named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceSpec {
    /// `esc:ENV`, or `esc` for `ESC_ENV`.
    Esc(Option<EnvRef>),
    /// The built-in demo environment (`--demo`).
    Demo,
    Env,
    Dotenv(PathBuf),
    /// `github-secrets`: the JSON object a workflow passes in `ESCORT_GITHUB_SECRETS`.
    GithubSecrets,
}

impl FromStr for SourceSpec {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        match spec.split_once(':') {
            None if spec == "esc" => Ok(SourceSpec::Esc(None)),
            None if spec == "env" => Ok(SourceSpec::Env),
            None if spec == "github-secrets" => Ok(SourceSpec::GithubSecrets),
            Some(("esc", env)) if !env.trim().is_empty() => {
                EnvRef::parse(env).map(|e| SourceSpec::Esc(Some(e))).map_err(|e| format!("`{spec}`: {e}"))
            }
            Some(("dotenv", path)) if !path.trim().is_empty() => Ok(SourceSpec::Dotenv(PathBuf::from(path))),
            _ => Err(format!("unknown source `{spec}`: use esc, esc:ENV, env, dotenv:PATH or github-secrets")),
        }
    }
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceSpec::Esc(None) => f.write_str("esc"),
            SourceSpec::Esc(Some(env)) => write!(f, "esc:{env}"),
            SourceSpec::Demo => f.write_str("esc:demo"),
            SourceSpec::Env => f.write_str("env"),
            SourceSpec::Dotenv(path) => write!(f, "dotenv:{}", path.display()),
            SourceSpec::GithubSecrets => f.write_str("github-secrets"),
        }
    }
}

/// Open the source `spec` names, with the process's settings.
pub fn open(spec: &SourceSpec, ctx: &Context) -> Result<Box<dyn Source>> {
    Ok(match spec {
        SourceSpec::Esc(env) => Box::new(esc::EscSource::remote(env.as_ref(), ctx)?),
        SourceSpec::Demo => Box::new(esc::EscSource::Demo),
        SourceSpec::Env => Box::new(env::EnvSource),
        SourceSpec::Dotenv(path) => Box::new(dotenv::DotenvSource::new(path.clone())),
        SourceSpec::GithubSecrets => Box::new(github_secrets::GithubSecrets::new(ctx.settings.github_secrets.clone())),
    })
}

pub trait Source: Send + Sync {
    /// How the user names it: `esc:acme/app/dev`, `env`, `dotenv:.env`.
    fn name(&self) -> String;
    /// Read every variable the source has (`load` is what callers use).
    fn read(&self) -> BoxFuture<'_, Result<Vec<Var>>>;
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
    /// When each of `names` last changed at the source (RFC 3339), for the
    /// names it can tell; the others are `unknown` to `escort status`.
    fn changed_at<'a>(&'a self, _names: &'a [String]) -> BoxFuture<'a, Result<HashMap<String, String>>> {
        Box::pin(async { Ok(HashMap::new()) })
    }
    /// Read every variable, registering each secret value so that no message
    /// escort shows can quote it: with the token settings, the one place a
    /// value enters escort.
    fn load(&self) -> BoxFuture<'_, Result<Vec<Var>>> {
        Box::pin(async move {
            let vars = crate::audit::read(&self.name(), self.read().await)?;
            if self.scrubbed() {
                secret::register_all(vars.iter().flat_map(|v| v.sensitive(false)));
            }
            Ok(vars)
        })
    }
    /// `load`, then the variables `keys` picks, to be copied as secrets: a
    /// source that registers nothing (the environment) has them registered now.
    fn load_picked<'a>(&'a self, keys: &'a Selection) -> BoxFuture<'a, Result<Vec<Var>>> {
        Box::pin(async move {
            let vars = keys.apply(self.load().await?)?;
            if !self.scrubbed() {
                secret::register_all(vars.iter().map(|v| &v.value));
            }
            Ok(vars)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        for (text, shown) in [
            ("esc", "esc"),
            ("esc:acme/app/dev", "esc:acme/app/dev"),
            ("env", "env"),
            ("dotenv:.env.local", "dotenv:.env.local"),
            ("github-secrets", "github-secrets"),
            (" dotenv:a b ", "dotenv:a b"),
        ] {
            assert_eq!(text.parse::<SourceSpec>().unwrap().to_string(), shown, "{text}");
        }
        for bad in ["", "vault", "env:x", "dotenv:", "esc:", "esc:a/b/c/d", "dotenv", "ESC"] {
            assert!(bad.parse::<SourceSpec>().is_err(), "{bad}");
        }
    }
}
