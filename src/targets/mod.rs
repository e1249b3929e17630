//! Where `sync`, `set` and `rm` write secrets and what `ls` lists, behind
//! `trait Target`. One module per kind of target; `open` is the only place
//! that knows them all.

pub mod dotenv;
pub mod esc;
pub mod fly;
pub mod github;

use crate::source::BoxFuture;
use crate::vars::Var;
use anyhow::Result;
use serde::Serialize;

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
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    pub fn done(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Delete => "deleted",
        }
    }
}

/// What happened to one secret: the action done, or why it was not.
pub struct Outcome {
    pub name: String,
    pub result: Result<Action>,
}

/// Told each outcome as soon as it is known (progress lines).
pub type Progress<'a> = &'a (dyn Fn(&Outcome) + Sync);

pub trait Target: Send + Sync {
    /// What the user would call it: "Actions secrets of acme/app".
    fn name(&self) -> String;
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

/// Flags every command that names a target takes.
#[derive(clap::Args, Debug, Clone)]
pub struct TargetFlags {
    /// GitHub: which secrets (default: actions; codespaces for github-user).
    #[arg(long, value_enum, value_name = "APP")]
    pub app: Option<github::App>,

    /// How many requests to have in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

/// Who may read what is written: flags of the commands that write.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AccessFlags {
    /// GitHub organization secrets: which repositories may read them. Default:
    /// `selected` with --repos; otherwise an existing secret keeps its
    /// visibility and a new one is `private`.
    #[arg(long, value_enum)]
    pub visibility: Option<github::Visibility>,

    /// GitHub organization or user secrets: the repositories that may read
    /// them (names in the organization; OWNER/REPO for github-user).
    #[arg(long, value_name = "REPO,...", value_delimiter = ',')]
    pub repos: Vec<String>,

    /// ESC environments: write these keys as plain values rather than
    /// `fn::secret` (plain config; secrets are the default from .env files,
    /// the environment and `set`).
    #[arg(long, value_name = "KEY,...", value_delimiter = ',')]
    pub plaintext: Vec<String>,
}

/// A target from its name on the command line.
pub fn open(spec: &str, flags: &TargetFlags, access: &AccessFlags) -> Result<Box<dyn Target>> {
    let kind = spec.split_once(':').map_or(spec, |(k, _)| k);
    if !access.plaintext.is_empty() && kind != "esc" {
        return Err(crate::error::usage(format!("--plaintext is for esc:ENV targets, not `{spec}`")));
    }
    match kind {
        "github" | "github-org" | "github-user" => Ok(Box::new(github::GitHub::open(spec, flags, access)?)),
        "esc" => {
            refuse_github_flags(spec, flags, access)?;
            Ok(Box::new(esc::EscTarget::open(spec, flags, access)?))
        }
        "fly" => {
            refuse_github_flags(spec, flags, access)?;
            Ok(Box::new(fly::Fly::open(spec)?))
        }
        "dotenv" => {
            refuse_github_flags(spec, flags, access)?;
            Ok(Box::new(dotenv::DotenvTarget::open(spec)?))
        }
        _ => Err(crate::error::usage(format!(
            "unknown target `{spec}`: use github:OWNER/REPO, github:OWNER/REPO@ENVIRONMENT, github-org:ORG, \
             github-user, fly:APP, esc:ENV or dotenv:PATH"
        ))),
    }
}

/// --app, --visibility and --repos mean something to GitHub only: refused
/// elsewhere rather than ignored.
fn refuse_github_flags(spec: &str, flags: &TargetFlags, access: &AccessFlags) -> Result<()> {
    if flags.app.is_some() || access.visibility.is_some() || !access.repos.is_empty() {
        return Err(crate::error::usage(format!(
            "--app, --visibility and --repos are for GitHub targets, not `{spec}`"
        )));
    }
    Ok(())
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
