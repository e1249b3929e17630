//! Which set of GitHub secrets or Actions variables a target names: a level
//! (repository, environment, organization, user), an app (Actions,
//! Codespaces, Dependabot) and a store (secrets, variables). The REST paths of
//! all of them differ only in their prefix and store, so one table says which
//! triples exist and one function builds the path.

use crate::error;
use anyhow::Result;
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum App {
    Actions,
    Codespaces,
    Dependabot,
}

impl App {
    pub const NAMES: [&str; 3] = ["actions", "codespaces", "dependabot"];

    fn path(self) -> &'static str {
        match self {
            App::Actions => "actions",
            App::Codespaces => "codespaces",
            App::Dependabot => "dependabot",
        }
    }

    fn title(self) -> &'static str {
        match self {
            App::Actions => "Actions",
            App::Codespaces => "Codespaces",
            App::Dependabot => "Dependabot",
        }
    }
}

impl FromStr for App {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        [App::Actions, App::Codespaces, App::Dependabot]
            .into_iter()
            .find(|a| a.path() == text)
            .ok_or_else(|| format!("`{text}` is not one of {}", App::NAMES.join(", ")))
    }
}

/// Which repositories of an organization may read an organization secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    All,
    Private,
    Selected,
}

impl Visibility {
    pub const NAMES: [&str; 3] = ["all", "private", "selected"];

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::All => "all",
            Visibility::Private => "private",
            Visibility::Selected => "selected",
        }
    }
}

impl FromStr for Visibility {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        [Visibility::All, Visibility::Private, Visibility::Selected]
            .into_iter()
            .find(|v| v.as_str() == text)
            .ok_or_else(|| format!("`{text}` is not one of {}", Visibility::NAMES.join(", ")))
    }
}

/// What GitHub keeps at a scope: sealed secrets, or readable variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    Secrets,
    Variables,
}

impl Store {
    fn path(self) -> &'static str {
        match self {
            Store::Secrets => "secrets",
            Store::Variables => "variables",
        }
    }

    /// "secret" or "variable".
    pub fn noun(self) -> &'static str {
        match self {
            Store::Secrets => "secret",
            Store::Variables => "variable",
        }
    }

    /// GitHub's largest page of each.
    pub fn per_page(self) -> usize {
        match self {
            Store::Secrets => 100,
            Store::Variables => 30,
        }
    }

    /// The target forms, as `parse` takes them and its errors list them.
    fn forms(self) -> &'static str {
        match self {
            Store::Secrets => "github:OWNER/REPO, github:OWNER/REPO@ENVIRONMENT, github-org:ORG or github-user",
            Store::Variables => "github-vars:OWNER/REPO, github-vars:OWNER/REPO@ENVIRONMENT or github-org-vars:ORG",
        }
    }

    /// What the target kinds end with: `github-vars`, `github-org-vars`.
    pub fn suffix(self) -> &'static str {
        match self {
            Store::Secrets => "",
            Store::Variables => "-vars",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Level {
    Repo { owner: String, repo: String },
    Env { owner: String, repo: String, env: String },
    Org(String),
    User,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum LevelKind {
    Repo,
    Env,
    Org,
    User,
}

/// The (level, app, store) triples GitHub has.
const SUPPORTED: &[(LevelKind, App, Store)] = &[
    (LevelKind::Repo, App::Actions, Store::Secrets),
    (LevelKind::Repo, App::Codespaces, Store::Secrets),
    (LevelKind::Repo, App::Dependabot, Store::Secrets),
    (LevelKind::Env, App::Actions, Store::Secrets),
    (LevelKind::Org, App::Actions, Store::Secrets),
    (LevelKind::Org, App::Codespaces, Store::Secrets),
    (LevelKind::Org, App::Dependabot, Store::Secrets),
    (LevelKind::User, App::Codespaces, Store::Secrets),
    (LevelKind::Repo, App::Actions, Store::Variables),
    (LevelKind::Env, App::Actions, Store::Variables),
    (LevelKind::Org, App::Actions, Store::Variables),
];

impl Level {
    fn kind(&self) -> LevelKind {
        match self {
            Level::Repo { .. } => LevelKind::Repo,
            Level::Env { .. } => LevelKind::Env,
            Level::Org(_) => LevelKind::Org,
            Level::User => LevelKind::User,
        }
    }

    /// `github:OWNER/REPO`, `github:OWNER/REPO@ENVIRONMENT`, `github-org:ORG`,
    /// `github-user`; for variables the same kinds ending in `-vars` (no user).
    pub fn parse(spec: &str, store: Store) -> Result<Self> {
        let bad = |why: &str| error::usage(format!("target `{spec}`: {why}; use {}", store.forms()));
        let (kind, arg) = match spec.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (spec, None),
        };
        let kind = kind.strip_suffix(store.suffix()).unwrap_or("");
        match (kind, arg) {
            ("github", Some(arg)) => {
                let (path, env) = match arg.split_once('@') {
                    Some((_, "")) => return Err(bad("nothing after `@`")),
                    // The URL library drops dot segments: `@..` would write to another path.
                    Some((_, "." | "..")) => return Err(bad("`.` and `..` are not environment names")),
                    Some((p, e)) => (p, Some(e)),
                    None => (arg, None),
                };
                let (owner, repo) = path
                    .split_once('/')
                    .filter(|(o, r)| valid_login(o) && valid_repo(r))
                    .ok_or_else(|| bad("OWNER/REPO is not a GitHub repository name"))?;
                let (owner, repo) = (owner.to_string(), repo.to_string());
                Ok(match env {
                    Some(env) => Level::Env { owner, repo, env: env.to_string() },
                    None => Level::Repo { owner, repo },
                })
            }
            ("github-org", Some(org)) if valid_login(org) => Ok(Level::Org(org.to_string())),
            ("github-org", _) => Err(bad("ORG is not a GitHub organization name")),
            ("github-user", _) if store == Store::Variables => Err(bad("GitHub has no user variables")),
            ("github-user", None) => Ok(Level::User),
            ("github-user", Some(_)) => Err(bad("github-user takes no name: it is the token's user")),
            _ => Err(bad("not a GitHub target")),
        }
    }

    /// As the user writes it: `github:OWNER/REPO[@ENVIRONMENT]`,
    /// `github-org:ORG`, `github-user`, or `github-vars:...`, `github-org-vars:ORG`.
    pub fn spec(&self, store: Store) -> String {
        let s = store.suffix();
        match self {
            Level::Repo { owner, repo } => format!("github{s}:{owner}/{repo}"),
            Level::Env { owner, repo, env } => format!("github{s}:{owner}/{repo}@{env}"),
            Level::Org(org) => format!("github-org{s}:{org}"),
            Level::User => format!("github-user{s}"),
        }
    }

    /// Organization secrets choose which repositories may read them.
    pub fn has_visibility(&self) -> bool {
        matches!(self, Level::Org(_))
    }

    /// Organization and user secrets can name the repositories that may read them.
    pub fn has_repo_selection(&self) -> bool {
        matches!(self, Level::Org(_) | Level::User)
    }
}

fn valid_login(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn valid_repo(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// One set of GitHub secrets or variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub level: Level,
    pub app: App,
    pub store: Store,
}

impl Scope {
    /// `app` defaults to Actions, or Codespaces for the user (its only one).
    pub fn new(level: Level, app: Option<App>, store: Store) -> Result<Self> {
        let default = if level == Level::User { App::Codespaces } else { App::Actions };
        let app = app.unwrap_or(default);
        if !SUPPORTED.contains(&(level.kind(), app, store)) {
            let have: Vec<&str> = SUPPORTED
                .iter()
                .filter(|(k, _, s)| *k == level.kind() && *s == store)
                .map(|(_, a, _)| a.path())
                .collect();
            let what = match level.kind() {
                LevelKind::Repo => "repository",
                LevelKind::Env => "environment",
                LevelKind::Org => "organization",
                LevelKind::User => "user",
            };
            return Err(error::usage(format!(
                "GitHub has no {} {what} {}s; for this target use --app {}",
                app.title(),
                store.noun(),
                have.join(" or --app ")
            )));
        }
        Ok(Scope { level, app, store })
    }

    /// The path of the store, then `rest`: `{prefix}/secrets/{rest...}`.
    pub fn path<'a>(&'a self, rest: &[&'a str]) -> Vec<&'a str> {
        let mut path = match &self.level {
            Level::Repo { owner, repo } => vec!["repos", owner, repo, self.app.path()],
            // Environments exist for Actions only (see SUPPORTED).
            Level::Env { owner, repo, env } => vec!["repos", owner, repo, "environments", env],
            Level::Org(org) => vec!["orgs", org, self.app.path()],
            Level::User => vec!["user", self.app.path()],
        };
        path.push(self.store.path());
        path.extend_from_slice(rest);
        path
    }

    /// Refuse `--visibility` and `--repos` where they cannot apply, rather
    /// than ignore them.
    pub fn check_access(&self, visibility: Option<Visibility>, repos: &[String]) -> Result<()> {
        if visibility.is_some() && !self.level.has_visibility() {
            return Err(error::usage("--visibility is for organization secrets and variables (github-org:ORG)"));
        }
        if repos.is_empty() {
            return Ok(());
        }
        if !self.level.has_repo_selection() {
            return Err(error::usage("--repos is for organization (github-org:ORG) and user (github-user) secrets"));
        }
        if matches!(visibility, Some(Visibility::All | Visibility::Private)) {
            return Err(error::usage("--repos goes with --visibility selected"));
        }
        for name in repos {
            let valid = match name.trim().split_once('/') {
                Some((owner, repo)) => valid_login(owner) && valid_repo(repo),
                None => self.level != Level::User && valid_repo(name.trim()),
            };
            if !valid {
                let form = if self.level == Level::User { "OWNER/REPO" } else { "REPO or OWNER/REPO" };
                return Err(error::usage(format!("--repos `{name}` is not a repository name ({form})")));
            }
        }
        Ok(())
    }

    /// GitHub's count limit for Actions secrets and variables at this level
    /// (docs/routes.md, "GitHub's limits"): 100 secrets per repository and per
    /// environment, 1,000 per organization; 500 variables per repository, 100
    /// per environment, 1,000 per organization. Codespaces and Dependabot
    /// document none that escort checks.
    pub fn limit(&self) -> Option<(usize, &'static str)> {
        if self.app != App::Actions {
            return None;
        }
        Some(match (&self.level, self.store) {
            (Level::Repo { .. }, Store::Secrets) => (100, "100 secrets per repository"),
            (Level::Env { .. }, Store::Secrets) => (100, "100 secrets per environment"),
            (Level::Org(_), Store::Secrets) => (1000, "1,000 secrets per organization"),
            (Level::Repo { .. }, Store::Variables) => (500, "500 variables per repository"),
            (Level::Env { .. }, Store::Variables) => (100, "100 variables per environment"),
            (Level::Org(_), Store::Variables) => (1000, "1,000 variables per organization"),
            (Level::User, _) => return None,
        })
    }

    /// The owner that bare names in `--repos` belong to.
    pub fn org(&self) -> Option<&str> {
        match &self.level {
            Level::Org(org) => Some(org),
            _ => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (app, store) = (self.app.title(), self.store.path());
        match &self.level {
            Level::Repo { owner, repo } => write!(f, "{app} {store} of {owner}/{repo}"),
            Level::Env { owner, repo, env } => write!(f, "{app} {store} of environment `{env}` in {owner}/{repo}"),
            Level::Org(org) => write!(f, "{app} {store} of organization {org}"),
            Level::User => write!(f, "{app} {store} of the token's user"),
        }
    }
}

/// Largest value GitHub stores.
pub const MAX_VALUE: usize = 48 * 1024;

/// Why GitHub would refuse `name`, if it would.
pub fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Some("has characters other than letters, digits and `_`")
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        Some("starts with a digit")
    } else if name.to_ascii_uppercase().starts_with("GITHUB_") {
        Some("starts with GITHUB_, which GitHub reserves")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(spec: &str, app: Option<App>) -> Result<Scope> {
        Scope::new(Level::parse(spec, Store::Secrets)?, app, Store::Secrets)
    }

    fn vars(spec: &str, app: Option<App>) -> Result<Scope> {
        Scope::new(Level::parse(spec, Store::Variables)?, app, Store::Variables)
    }

    #[test]
    fn dot_environments_are_refused() {
        for spec in ["github:a/b@.", "github:a/b@..", "github-vars:a/b@.."] {
            let store = if spec.starts_with("github-vars") { Store::Variables } else { Store::Secrets };
            let e = Level::parse(spec, store).unwrap_err().to_string();
            assert!(e.contains("`.` and `..` are not environment names"), "{e}");
        }
    }

    #[test]
    fn targets_and_paths() {
        assert_eq!(scope("github:acme/app", None).unwrap().path(&[]), ["repos", "acme", "app", "actions", "secrets"]);
        assert_eq!(
            scope("github:acme/app.js@prod east", None).unwrap().path(&["X"]),
            ["repos", "acme", "app.js", "environments", "prod east", "secrets", "X"]
        );
        assert_eq!(
            scope("github-org:acme", Some(App::Dependabot)).unwrap().path(&[]),
            ["orgs", "acme", "dependabot", "secrets"]
        );
        assert_eq!(scope("github-user", None).unwrap().path(&[]), ["user", "codespaces", "secrets"]);
        assert_eq!(
            scope("github:a/b", Some(App::Codespaces)).unwrap().path(&[]),
            ["repos", "a", "b", "codespaces", "secrets"]
        );
        assert_eq!(
            vars("github-vars:a/b", None).unwrap().path(&["X"]),
            ["repos", "a", "b", "actions", "variables", "X"]
        );
        assert_eq!(
            vars("github-vars:a/b@prod", None).unwrap().path(&[]),
            ["repos", "a", "b", "environments", "prod", "variables"]
        );
        assert_eq!(vars("github-org-vars:acme", None).unwrap().path(&[]), ["orgs", "acme", "actions", "variables"]);
        let level = Level::parse("github-vars:a/b@prod", Store::Variables).unwrap();
        assert_eq!(
            (level.spec(Store::Variables), level.spec(Store::Secrets)),
            ("github-vars:a/b@prod".into(), "github:a/b@prod".into())
        );
        assert_eq!(vars("github-org-vars:acme", None).unwrap().to_string(), "Actions variables of organization acme");
    }

    #[test]
    fn variables_exist_for_actions_only_and_not_for_users() {
        let err = vars("github-vars:a/b", Some(App::Dependabot)).unwrap_err().to_string();
        assert!(err.contains("no Dependabot repository variables") && err.contains("--app actions"), "{err}");
        for bad in ["github-user-vars", "github:a/b", "github-org:acme", "github-vars:acme", "github-org-vars:a/b"] {
            assert!(Level::parse(bad, Store::Variables).is_err(), "{bad}");
        }
        assert!(Level::parse("github-vars:a/b", Store::Secrets).is_err());
    }

    #[test]
    fn unsupported_pairs_are_refused_with_the_alternatives() {
        let err = scope("github-user", Some(App::Actions)).unwrap_err().to_string();
        assert!(err.contains("no Actions user secrets") && err.contains("--app codespaces"), "{err}");
        let err = scope("github:a/b@prod", Some(App::Dependabot)).unwrap_err().to_string();
        assert!(err.contains("--app actions"), "{err}");
        for bad in
            ["github:acme", "github:/x", "github:a/b@", "github-org:", "github-org:a/b", "github-user:me", "gitlab:a/b"]
        {
            assert!(Level::parse(bad, Store::Secrets).is_err(), "{bad}");
        }
    }

    #[test]
    fn access_flags_only_where_they_apply() {
        let repos = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let org = scope("github-org:acme", None).unwrap();
        assert!(org.check_access(Some(Visibility::Selected), &repos(&["app", "acme/web"])).is_ok());
        assert!(org.check_access(None, &repos(&["app"])).is_ok());
        assert!(org.check_access(Some(Visibility::All), &repos(&["app"])).is_err());
        assert!(org.check_access(None, &repos(&["a/b/c"])).is_err());
        let user = scope("github-user", None).unwrap();
        assert!(user.check_access(None, &repos(&["me/dots"])).is_ok());
        assert!(user.check_access(None, &repos(&["dots"])).is_err());
        assert!(user.check_access(Some(Visibility::Selected), &[]).is_err());
        let repo = scope("github:a/b", None).unwrap();
        assert!(repo.check_access(None, &repos(&["c"])).is_err());
        assert!(repo.check_access(None, &[]).is_ok());
    }

    #[test]
    fn names() {
        for ok in ["A", "_X", "a_b9", "GITHUBX"] {
            assert_eq!(name_problem(ok), None, "{ok}");
        }
        for bad in ["", "9A", "A-B", "A B", "github_token", "GITHUB_X", "É"] {
            assert!(name_problem(bad).is_some(), "{bad}");
        }
    }
}
