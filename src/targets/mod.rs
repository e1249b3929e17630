//! Where `sync`, `set` and `rm` write secrets and what `ls` lists, behind
//! `trait Target`. One module per kind of target; `TargetSpec` (parsed once,
//! where the user named it) and `open` are the only places that know them all.

mod common;
pub mod dotenv;
pub mod esc;
pub mod fly;
pub mod github;

pub use common::{Options, Target};

use crate::error;
use crate::esc::EnvRef;
use crate::settings::Context;
use anyhow::Result;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A target as the user named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetSpec {
    /// Secrets: `github:OWNER/REPO[@ENVIRONMENT]`, `github-org:ORG`, `github-user`;
    /// Actions variables: `github-vars:OWNER/REPO[@ENVIRONMENT]`, `github-org-vars:ORG`.
    GitHub(github::Level, github::Store),
    /// `esc:[ORG/]PROJECT/ENV`.
    Esc(EnvRef),
    /// `fly:APP`.
    Fly(String),
    /// `dotenv:PATH`.
    Dotenv(PathBuf),
}

const KINDS: &str = "use github:OWNER/REPO, github:OWNER/REPO@ENVIRONMENT, github-org:ORG, github-user, \
                     github-vars:OWNER/REPO[@ENVIRONMENT], github-org-vars:ORG, fly:APP, esc:ENV or dotenv:PATH";

impl FromStr for TargetSpec {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        // No repository: the checkout's own (README, "Configuration").
        let resolved;
        let spec = match spec.split_once(':') {
            Some((kind @ ("github" | "github-vars"), env)) if env.is_empty() || env.starts_with('@') => {
                resolved = format!("{kind}:{}{env}", crate::settings::checkout_repository()?);
                resolved.as_str()
            }
            _ => spec,
        };
        let kind = spec.split_once(':').map_or(spec, |(k, _)| k);
        let rest = spec.split_once(':').map(|(_, r)| r);
        let store = match kind {
            "github" | "github-org" | "github-user" => Some(github::Store::Secrets),
            "github-vars" | "github-org-vars" | "github-user-vars" => Some(github::Store::Variables),
            _ => None,
        };
        if let Some(store) = store {
            return github::Level::parse(spec, store).map(|l| TargetSpec::GitHub(l, store)).map_err(|e| e.to_string());
        }
        match (kind, rest) {
            ("esc", Some(env)) => esc::parse(env).map(TargetSpec::Esc).map_err(|e| format!("`{spec}`: {e}")),
            ("fly", Some(app)) => fly::parse(app).map(TargetSpec::Fly).map_err(|e| format!("`{spec}`: {e}")),
            ("dotenv", Some(path)) if !path.trim().is_empty() => Ok(TargetSpec::Dotenv(PathBuf::from(path))),
            ("esc" | "fly" | "dotenv", _) => Err(format!("`{spec}` needs a name after `:`; {KINDS}")),
            _ => Err(format!("unknown target `{spec}`: {KINDS}")),
        }
    }
}

impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetSpec::GitHub(level, store) => f.write_str(&level.spec(*store)),
            TargetSpec::Esc(env) => write!(f, "esc:{env}"),
            TargetSpec::Fly(app) => write!(f, "fly:{app}"),
            TargetSpec::Dotenv(path) => write!(f, "dotenv:{}", path.display()),
        }
    }
}

/// Open the target `spec` names. Options that mean nothing to it are
/// refused rather than ignored.
pub fn open(spec: &TargetSpec, options: &Options, ctx: &Context) -> Result<Box<dyn Target>> {
    let github_only = options.app.is_some() || options.visibility.is_some() || !options.repos.is_empty();
    if github_only && !matches!(spec, TargetSpec::GitHub(..)) {
        return Err(error::usage(format!("--app, --visibility and --repos are for GitHub targets, not `{spec}`")));
    }
    if !options.plaintext.is_empty() && !matches!(spec, TargetSpec::Esc(_)) {
        return Err(error::usage(format!("--plaintext is for esc:ENV targets, not `{spec}`")));
    }
    Ok(match spec {
        TargetSpec::GitHub(level, store) => Box::new(github::GitHub::open(level.clone(), *store, options, ctx)?),
        TargetSpec::Esc(env) => Box::new(esc::EscTarget::open(env.clone(), options, ctx)?),
        TargetSpec::Fly(app) => Box::new(fly::Fly::open(app.clone(), ctx)?),
        TargetSpec::Dotenv(path) => Box::new(dotenv::DotenvTarget::open(path.clone(), options.groups.clone())),
    })
}
