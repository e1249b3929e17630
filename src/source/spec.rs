//! `SourceSpec`: a source as the user named it, parsed with no I/O, and
//! `open`, which makes the source it names.

use super::common::Source;
use super::{dotenv, env, esc, github_secrets};
use crate::esc::EnvRef;
use crate::settings::Context;
use anyhow::Result;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

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
