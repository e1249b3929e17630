//! What every kind of target shares: `trait Target`, the `Options` a command
//! opens one with, and the checks of names that become environment variables.

use super::github::{App, Visibility};
use crate::record::{Entry, Outcome, Progress, Values};
use crate::vars::{BoxFuture, Var};
use anyhow::Result;

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
    /// The most entries the target may hold, and the rule that says so
    /// (GitHub's count limits): a sync past it is refused before any write.
    fn limit(&self) -> Option<(usize, String)> {
        None
    }
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
    /// The target's own version after this run's write, to report (Fly.io:
    /// the app's secrets `version`).
    fn version(&self) -> Option<u64> {
        None
    }
    /// When what runs from the target was deployed, where copies wait for a
    /// deploy (Fly.io: the release its machines run).
    fn deployed_at(&self) -> BoxFuture<'_, Result<Deployed>> {
        Box::pin(async { Ok(Deployed::Unstaged) })
    }
    /// Have what runs from the target load its current copies (Fly.io: update
    /// each machine); returns how many were updated.
    fn deploy(&self) -> BoxFuture<'_, Result<usize>> {
        Box::pin(async { Ok(0) })
    }
    /// Write each variable (`set`).
    fn put<'a>(&'a self, vars: &'a [Var], progress: Progress<'a>) -> BoxFuture<'a, Result<Vec<Outcome>>> {
        self.apply(vars, &[], progress)
    }
    /// Delete each named secret (`rm`).
    fn delete<'a>(&'a self, names: &'a [String], progress: Progress<'a>) -> BoxFuture<'a, Result<Vec<Outcome>>> {
        self.apply(&[], names, progress)
    }
}

/// How the commands that name a target want it opened.
/// What runs from a target, as far as its copies wait for a deploy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Deployed {
    /// Copies do not wait for a deploy.
    Unstaged,
    /// Deployed at this instant (RFC 3339, fraction kept): a copy written
    /// after it is `staged`.
    At(String),
    /// Copies wait, but escort cannot date what runs from the target: why.
    Undated(String),
}

#[derive(Clone, Default)]
pub struct Options {
    /// GitHub: which secrets (default: Actions; Codespaces for github-user).
    pub app: Option<App>,
    /// How many requests to have in flight at once.
    pub concurrency: usize,
    /// GitHub organization secrets: which repositories may read them.
    pub visibility: Option<Visibility>,
    /// GitHub organization or user secrets: the repositories that may read them.
    pub repos: Vec<String>,
    /// ESC environments: keys written as plain values rather than `fn::secret`.
    pub plaintext: Vec<String>,
    /// .env files: the sections that order the file (a manifest's groups).
    pub groups: crate::dotenv::Groups,
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
