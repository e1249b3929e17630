//! Where `sync`, `set` and `rm` write secrets and what `ls` lists, behind
//! `trait Target`. One module per kind of target; `TargetSpec` (parsed once,
//! where the user named it) and `open` are the only places that know them all.

pub mod dotenv;
pub mod esc;
pub mod fly;
pub mod github;

use crate::error;
use crate::esc::EnvRef;
use crate::manifest::Manifest;
use crate::secret::Secret;
use crate::settings::Context;
use crate::source::BoxFuture;
use crate::vars::Var;
use anyhow::Result;
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

/// A secret as a target lists it: a name and facts about it, never a value.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Entry {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// GitHub organization and user secrets: `all`, `private` or `selected`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    /// How many repositories may read a `selected` secret (listed with details).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected_repositories: Option<u64>,
    /// ESC: `fn::secret` or a plain value (unknown for a value ESC computes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
    /// Already current: nothing sent (`sync`).
    Unchanged,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Unchanged => "unchanged",
        }
    }

    pub fn done(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Delete => "deleted",
            Action::Unchanged => "unchanged",
        }
    }

    /// Whether it sends a write.
    pub fn changes(self) -> bool {
        self != Action::Unchanged
    }
}

/// What happened to one secret: the action done, or why it was not.
pub struct Outcome {
    pub name: String,
    pub result: Result<Action>,
}

/// A readable target's entries (names, dates) and values, in its order.
pub type Values = Vec<(Entry, Secret)>;

/// Told each outcome as soon as it is known (progress lines).
pub type Progress<'a> = &'a (dyn Fn(&Outcome) + Sync);

pub trait Target: Send + Sync {
    /// What the user would call it: "Actions secrets of acme/app".
    fn name(&self) -> String;
    /// What it holds, in the plural: `secrets` (or `variables`).
    fn holds(&self) -> &'static str {
        "secrets"
    }
    /// The name under which the target keeps `name`, for comparing names
    /// (GitHub ignores case and shows upper case).
    fn canonical(&self, name: &str) -> String {
        name.to_string()
    }
    /// Refuse, before any request, names and values the target cannot hold.
    fn check(&self, vars: &[Var]) -> Result<()>;
    /// The secrets in the target. `details` adds facts that cost a request
    /// per secret.
    fn list(&self, details: bool) -> BoxFuture<'_, Result<Vec<Entry>>>;
    /// The values it holds, for targets whose values can be read back (a .env
    /// file, Actions variables): `escort status` compares those by value.
    /// `None` for the others.
    fn values(&self) -> BoxFuture<'_, Result<Option<Values>>> {
        Box::pin(async { Ok(None) })
    }
    /// Write `vars` and delete `prune`: one outcome per name, writes first, in
    /// order; `Err` when none could be tried (no key, no access). Targets that
    /// can make both changes at once (ESC: one revision; Fly: one request; a
    /// .env file: one write) do.
    fn apply<'a>(
        &'a self,
        vars: &'a [Var],
        prune: &'a [String],
        progress: Progress<'a>,
    ) -> BoxFuture<'a, Result<Vec<Outcome>>>;
    /// Write each variable (`set`).
    fn put<'a>(&'a self, vars: &'a [Var], progress: Progress<'a>) -> BoxFuture<'a, Result<Vec<Outcome>>> {
        self.apply(vars, &[], progress)
    }
    /// Delete each named secret (`rm`).
    fn delete<'a>(&'a self, names: &'a [String], progress: Progress<'a>) -> BoxFuture<'a, Result<Vec<Outcome>>> {
        self.apply(&[], names, progress)
    }
}

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

/// How the commands that name a target want it opened.
#[derive(Clone, Default)]
pub struct Options {
    /// GitHub: which secrets (default: Actions; Codespaces for github-user).
    pub app: Option<github::App>,
    /// How many requests to have in flight at once.
    pub concurrency: usize,
    /// GitHub organization secrets: which repositories may read them.
    pub visibility: Option<github::Visibility>,
    /// GitHub organization or user secrets: the repositories that may read them.
    pub repos: Vec<String>,
    /// ESC environments: keys written as plain values rather than `fn::secret`.
    pub plaintext: Vec<String>,
    /// .env files: the manifest whose groups order the file.
    pub manifest: Option<Arc<Manifest>>,
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
        TargetSpec::Dotenv(path) => Box::new(dotenv::DotenvTarget::open(path.clone(), options.manifest.clone())),
    })
}

/// The outcomes of a change that is made whole or not at all (one ESC
/// revision, one Fly request, one rewrite of a .env file), in order, each
/// told to `progress`.
pub fn outcomes<'a>(
    results: impl IntoIterator<Item = (&'a str, Result<Action>)>,
    progress: Progress<'_>,
) -> Vec<Outcome> {
    results
        .into_iter()
        .map(|(name, result)| {
            let outcome = Outcome { name: name.to_string(), result };
            progress(&outcome);
            outcome
        })
        .collect()
}

/// Why each variable cannot be an environment variable of the targets that
/// become one (a Fly app's, a .env file's): its name, a NUL byte, a name
/// given twice. Empty when all can.
pub fn env_var_problems(vars: &[Var]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for v in vars {
        if !crate::vars::valid_name(&v.name) {
            problems.push(format!(
                "`{}` is not an environment variable name (letters, digits and `_`, not starting with a digit)",
                v.name
            ));
        }
        if v.value.expose().contains('\0') {
            problems.push(format!("{} has a NUL byte, which no environment variable can hold", v.name));
        }
        if !seen.insert(v.name.as_str()) {
            problems.push(format!("{} is given twice", v.name));
        }
    }
    problems
}
