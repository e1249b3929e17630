//! Where `sync`, `set` and `rm` write secrets and what `ls` lists, behind
//! `trait Target` (`common.rs`). One module per kind of target; `KINDS` (one
//! row per kind), `TargetSpec` (parsed once, where the user named it, with no
//! I/O) and `open` are the only places that know them all.

mod common;
pub mod dotenv;
pub mod esc;
pub mod fly;
pub mod github;

pub use common::{Deployed, Options, Target};

use crate::error;
use crate::esc::EnvRef;
use crate::settings::Context;
use anyhow::Result;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A target as the user named it. Parsed with no I/O: a `github:` target
/// without a repository is `Checkout`, which `resolve` turns into the
/// checkout's repository where the command starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetSpec {
    /// Secrets: `github:OWNER/REPO[@ENVIRONMENT]`, `github-org:ORG`, `github-user`;
    /// Actions variables: `github-vars:OWNER/REPO[@ENVIRONMENT]`, `github-org-vars:ORG`.
    GitHub(github::Level, github::Store),
    /// `github:[@ENVIRONMENT]` or `github-vars:[@ENVIRONMENT]`: the repository of
    /// the checkout in the working directory (docs/configuration.md), not yet known.
    Checkout(github::Store, Option<String>),
    /// `esc:[ORG/]PROJECT/ENV`.
    Esc(EnvRef),
    /// `fly:APP`.
    Fly(String),
    /// `dotenv:PATH`.
    Dotenv(PathBuf),
}

/// What a kind of target can do.
#[derive(Clone, Copy, Debug)]
pub struct Supports {
    pub ls: bool,
    pub set: bool,
    pub rm: bool,
    pub sync: bool,
    /// Its values can be read back: `status` compares them by value.
    pub values: bool,
    /// It tells when each secret was written: `status` and `rotation` date them.
    pub dates: bool,
}

/// One kind of target: how it is written, how it is parsed, what it can do.
/// `KINDS` is the one list of them that the parser, the errors and the CLI
/// help read; adding a kind is a module and a row.
pub struct Kind {
    /// What comes before the `:`.
    pub prefix: &'static str,
    /// How it is written: `github:OWNER/REPO[@ENVIRONMENT]`.
    pub form: &'static str,
    /// What it is, in a line.
    pub help: &'static str,
    pub supports: Supports,
    /// The spec from the whole text and what follows the `:` (`None`: no `:`).
    parse: fn(spec: &str, rest: Option<&str>) -> Result<TargetSpec, String>,
}

const ALL: Supports = Supports { ls: true, set: true, rm: true, sync: true, values: false, dates: true };

pub const KINDS: [Kind; 8] = [
    Kind {
        prefix: "github",
        form: "github:OWNER/REPO[@ENVIRONMENT]",
        help: "Actions secrets of a repository, or of one of its environments (no OWNER/REPO: this checkout's)",
        supports: ALL,
        parse: |spec, rest| repo_level(spec, rest, github::Store::Secrets),
    },
    Kind {
        prefix: "github-org",
        form: "github-org:ORG",
        help: "an organization's secrets (Actions, or --app codespaces/dependabot)",
        supports: ALL,
        parse: |spec, _| github_level(spec, github::Store::Secrets),
    },
    Kind {
        prefix: "github-user",
        form: "github-user",
        help: "the token's user's Codespaces secrets",
        supports: ALL,
        parse: |spec, _| github_level(spec, github::Store::Secrets),
    },
    Kind {
        prefix: "github-vars",
        form: "github-vars:OWNER/REPO[@ENVIRONMENT]",
        help: "Actions variables of a repository or environment (plain, read back)",
        supports: Supports { values: true, ..ALL },
        parse: |spec, rest| repo_level(spec, rest, github::Store::Variables),
    },
    Kind {
        prefix: "github-org-vars",
        form: "github-org-vars:ORG",
        help: "an organization's Actions variables (plain, read back)",
        supports: Supports { values: true, ..ALL },
        parse: |spec, _| github_level(spec, github::Store::Variables),
    },
    Kind {
        prefix: "fly",
        form: "fly:APP",
        help: "a Fly.io app's secrets",
        supports: ALL,
        parse: |spec, rest| named(spec, rest, |app| fly::parse(app).map(TargetSpec::Fly)),
    },
    Kind {
        prefix: "esc",
        form: "esc:ENV",
        help: "a Pulumi ESC environment's environmentVariables, dated by its revisions",
        supports: ALL,
        parse: |spec, rest| named(spec, rest, |env| esc::parse(env).map(TargetSpec::Esc).map_err(|e| e.to_string())),
    },
    Kind {
        prefix: "dotenv",
        form: "dotenv:PATH",
        help: "a .env file that escort owns and rewrites whole (read back)",
        supports: Supports { values: true, dates: false, ..ALL },
        parse: |spec, rest| named(spec, rest, |path| Ok(TargetSpec::Dotenv(PathBuf::from(path)))),
    },
];

/// Every kind as it is written, for help and errors: `github:..., fly:APP, esc:ENV or dotenv:PATH`.
pub fn forms() -> String {
    let forms: Vec<&str> = KINDS.iter().map(|k| k.form).collect();
    match forms.split_last() {
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// A TARGET's long help: the forms, then each kind with what it is and
/// what it can do.
pub fn long_help() -> String {
    let mut help = forms();
    for kind in &KINDS {
        let s = kind.supports;
        let can: Vec<&str> = [(s.ls, "ls"), (s.set, "set"), (s.rm, "rm"), (s.sync, "sync")]
            .into_iter()
            .filter_map(|(yes, what)| yes.then_some(what))
            .collect();
        let mut facts = vec![can.join(", ")];
        facts.extend(s.values.then(|| "values read back".to_string()));
        facts.extend(s.dates.then(|| "dated".to_string()));
        help.push_str(&format!("\n- {}: {} ({})", kind.form, kind.help, facts.join("; ")));
    }
    help
}

/// `github:...` and `github-vars:...`: without OWNER/REPO, the checkout's.
fn repo_level(spec: &str, rest: Option<&str>, store: github::Store) -> Result<TargetSpec, String> {
    match rest {
        Some("") => Ok(TargetSpec::Checkout(store, None)),
        Some(env) if env.starts_with('@') && env.len() > 1 => {
            Ok(TargetSpec::Checkout(store, Some(env[1..].to_string())))
        }
        _ => github_level(spec, store),
    }
}

fn github_level(spec: &str, store: github::Store) -> Result<TargetSpec, String> {
    github::Level::parse(spec, store).map(|l| TargetSpec::GitHub(l, store)).map_err(|e| e.to_string())
}

/// A kind that needs a name after the `:`.
fn named(
    spec: &str,
    rest: Option<&str>,
    parse: impl Fn(&str) -> Result<TargetSpec, String>,
) -> Result<TargetSpec, String> {
    match rest {
        Some(name) if !name.trim().is_empty() => parse(name).map_err(|e| format!("`{spec}`: {e}")),
        _ => Err(format!("`{spec}` needs a name after `:`; use {}", forms())),
    }
}

impl FromStr for TargetSpec {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        let (prefix, rest) = match spec.split_once(':') {
            Some((prefix, rest)) => (prefix, Some(rest)),
            None => (spec, None),
        };
        match KINDS.iter().find(|k| k.prefix == prefix) {
            Some(kind) => (kind.parse)(spec, rest),
            // Not a kind, but worth saying why: GitHub has no user variables.
            None if prefix == "github-user-vars" => github_level(spec, github::Store::Variables),
            None => Err(format!("unknown target `{spec}`: use {}", forms())),
        }
    }
}

impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetSpec::GitHub(level, store) => f.write_str(&level.spec(*store)),
            TargetSpec::Checkout(store, env) => {
                write!(f, "github{}:", store.suffix())?;
                env.as_ref().map_or(Ok(()), |env| write!(f, "@{env}"))
            }
            TargetSpec::Esc(env) => write!(f, "esc:{env}"),
            TargetSpec::Fly(app) => write!(f, "fly:{app}"),
            TargetSpec::Dotenv(path) => write!(f, "dotenv:{}", path.display()),
        }
    }
}

impl TargetSpec {
    /// The target with the checkout's repository put in, when it names none:
    /// done once where a command starts, the only place a spec asks git.
    pub fn resolve(&self, ctx: &Context) -> Result<TargetSpec> {
        let TargetSpec::Checkout(store, env) = self else { return Ok(self.clone()) };
        let repo = ctx.checkout_repository().map_err(error::usage)?;
        let env = env.as_ref().map(|e| format!("@{e}")).unwrap_or_default();
        let spec = format!("github{}:{repo}{env}", store.suffix());
        github::Level::parse(&spec, *store).map(|l| TargetSpec::GitHub(l, *store))
    }
}

/// Open the target `spec` names. Options that mean nothing to it are
/// refused rather than ignored.
pub fn open(spec: &TargetSpec, options: &Options, ctx: &Context) -> Result<Box<dyn Target>> {
    let github_only = options.app.is_some() || options.visibility.is_some() || !options.repos.is_empty();
    if github_only && !matches!(spec, TargetSpec::GitHub(..) | TargetSpec::Checkout(..)) {
        return Err(error::usage(format!("--app, --visibility and --repos are for GitHub targets, not `{spec}`")));
    }
    if !options.plaintext.is_empty() && !matches!(spec, TargetSpec::Esc(_)) {
        return Err(error::usage(format!("--plaintext is for esc:ENV targets, not `{spec}`")));
    }
    Ok(match spec {
        TargetSpec::GitHub(level, store) => Box::new(github::GitHub::open(level.clone(), *store, options, ctx)?),
        TargetSpec::Checkout(..) => return open(&spec.resolve(ctx)?, options, ctx),
        TargetSpec::Esc(env) => Box::new(esc::EscTarget::open(env.clone(), options, ctx)?),
        TargetSpec::Fly(app) => Box::new(fly::Fly::open(app.clone(), ctx)?),
        TargetSpec::Dotenv(path) => Box::new(dotenv::DotenvTarget::open(path.clone(), options.groups.clone())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_one_row_that_parses_its_own_specs() {
        let examples = [
            ("github", "github:acme/app@prod"),
            ("github-org", "github-org:acme"),
            ("github-user", "github-user"),
            ("github-vars", "github-vars:acme/app"),
            ("github-org-vars", "github-org-vars:acme"),
            ("fly", "fly:app"),
            ("esc", "esc:acme/app/dev"),
            ("dotenv", "dotenv:.env"),
        ];
        assert_eq!(KINDS.map(|k| k.prefix), examples.map(|(prefix, _)| prefix));
        for (prefix, text) in examples {
            let spec: TargetSpec = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(spec.to_string(), text);
            assert!(forms().contains(KINDS.iter().find(|k| k.prefix == prefix).unwrap().form));
        }
        // The unknown-kind error and the help name every kind, from the table.
        let err = "gitlab:a/b".parse::<TargetSpec>().unwrap_err();
        assert!(KINDS.iter().all(|k| err.contains(k.form) && long_help().contains(k.help)), "{err}");
        assert_eq!(
            forms(),
            "github:OWNER/REPO[@ENVIRONMENT], github-org:ORG, github-user, github-vars:OWNER/REPO[@ENVIRONMENT], \
             github-org-vars:ORG, fly:APP, esc:ENV or dotenv:PATH"
        );
    }

    #[test]
    fn a_github_target_without_a_repository_parses_without_asking_git() {
        // No git here could answer: parsing must not try.
        for (text, want) in [
            ("github:", TargetSpec::Checkout(github::Store::Secrets, None)),
            ("github:@prod", TargetSpec::Checkout(github::Store::Secrets, Some("prod".into()))),
            ("github-vars:", TargetSpec::Checkout(github::Store::Variables, None)),
        ] {
            let spec: TargetSpec = text.parse().unwrap();
            assert_eq!(spec, want);
            assert_eq!(spec.to_string(), text);
        }
        assert!("github:@".parse::<TargetSpec>().is_err());
    }
}
