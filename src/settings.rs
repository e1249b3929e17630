//! Everything escort takes from its environment, read once at start and passed
//! down (README, "Configuration"). Nothing below `cli` reads an environment
//! variable of its own, except `escort run`'s child, which inherits them all,
//! and the `env` source, whose job is to read them.
//!
//! Reading a token is one of the two places a secret enters escort (the other
//! is a source's load): each token is registered here so that every message
//! escort shows is scrubbed of it.

use crate::error;
use crate::http::{self, Http};
use crate::rotation::Timestamp;
use crate::secret::{self, Secret};
use anyhow::Result;
use reqwest::Url;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::OnceLock;

pub const ESC_API: &str = "https://api.pulumi.com";
pub const GITHUB_API: &str = "https://api.github.com";
pub const FLY_API: &str = "https://api.machines.dev";

/// A service's API base and the token escort holds for it.
#[derive(Clone, Debug)]
pub struct Service {
    /// The API base as given (checked when a client is made from it).
    pub api: String,
    pub token: Option<Secret>,
}

impl Service {
    /// The API base as a URL to which path segments can be added.
    pub fn api_url(&self, variable: &str) -> Result<Url> {
        Url::parse(self.api.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| error::usage(format!("{variable} `{}` is not an http(s) URL", self.api)))
    }

    /// The token, or a usage error saying how to give one.
    pub fn token(&self, missing: &str) -> Result<&Secret> {
        self.token.as_ref().ok_or_else(|| error::usage(missing.to_string()))
    }
}

/// What the GitHub Actions runner gives a step.
#[derive(Clone, Debug, Default)]
pub struct Runner {
    /// `GITHUB_ACTIONS=true`.
    pub active: bool,
    pub env_file: Option<PathBuf>,
    pub output_file: Option<PathBuf>,
    pub temp: Option<PathBuf>,
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`/`_TOKEN` (with `permissions: id-token: write`).
    pub id_token_url: Option<String>,
    pub id_token_request: Option<Secret>,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub http: http::Settings,
    /// `ESC_ENV`: the default environment.
    pub esc_env: Option<String>,
    /// `ESC_ORG`/`PULUMI_ORG`.
    pub esc_org: Option<String>,
    pub esc: Service,
    pub github: Service,
    pub fly: Service,
    pub runner: Runner,
    /// `ESCORT_NOW`: reports as of this instant (reproducible reports).
    pub now: Option<Timestamp>,
    /// `ESCORT_GITHUB_SECRETS`: a workflow's secrets as JSON, for the `github-secrets` source.
    pub github_secrets: Option<Secret>,
}

impl Settings {
    /// Read the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(|name| std::env::var_os(name))
    }

    /// Read the settings through `get` (the environment, or a test's table).
    pub fn from_vars(get: impl Fn(&str) -> Option<OsString>) -> Result<Self> {
        // Blank counts as unset: `FOO=` in a workflow is how people clear a value.
        let text = |name: &str| get(name).map(|v| v.to_string_lossy().trim().to_string()).filter(|v| !v.is_empty());
        let first = |names: &[&str]| names.iter().find_map(|n| text(n));
        let token = |names: &[&str]| {
            first(names).map(|t| {
                let token = Secret::new(t);
                secret::register(&token);
                token
            })
        };
        let path = |name: &str| get(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let now = match text("ESCORT_NOW") {
            None => None,
            Some(given) => Some(Timestamp::parse(&given).ok_or_else(|| {
                error::usage(format!("ESCORT_NOW `{given}` is not an RFC 3339 time such as 2026-01-01T00:00:00Z"))
            })?),
        };
        let github_api = text("GITHUB_API_URL").unwrap_or_else(|| GITHUB_API.to_string());
        Ok(Settings {
            http: http::Settings::from_env().pace_github(&github_api),
            esc_env: text("ESC_ENV"),
            esc_org: first(&["ESC_ORG", "PULUMI_ORG"]),
            esc: Service {
                api: first(&["ESC_API_URL", "PULUMI_BACKEND_URL"]).unwrap_or_else(|| ESC_API.to_string()),
                token: token(&["ESC_TOKEN", "PULUMI_ACCESS_TOKEN"]),
            },
            github: Service { api: github_api, token: token(&["GITHUB_TOKEN", "GH_TOKEN"]) },
            fly: Service {
                api: text("FLY_API_URL").unwrap_or_else(|| FLY_API.to_string()),
                token: token(&["FLY_API_TOKEN"]),
            },
            runner: Runner {
                active: text("GITHUB_ACTIONS").as_deref() == Some("true"),
                env_file: path("GITHUB_ENV"),
                output_file: path("GITHUB_OUTPUT"),
                temp: path("RUNNER_TEMP"),
                id_token_url: text("ACTIONS_ID_TOKEN_REQUEST_URL"),
                id_token_request: token(&["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]),
            },
            now,
            // The whole object, as one secret: its values are registered when read.
            github_secrets: text(crate::source::github_secrets::VARIABLE).map(Secret::new),
        })
    }
}

/// What every command is given: the settings, and the process's one HTTP
/// client, made on first use (`load --demo` and `template` never need one).
pub struct Context {
    pub settings: Settings,
    http: OnceLock<Http>,
}

impl Context {
    pub fn new(settings: Settings) -> Self {
        Context { settings, http: OnceLock::new() }
    }

    /// The HTTP client. Clones share one connection pool.
    pub fn http(&self) -> Result<Http> {
        if let Some(http) = self.http.get() {
            return Ok(http.clone());
        }
        let http = Http::with_settings(self.settings.http.clone())?;
        Ok(self.http.get_or_init(|| http).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings> {
        let table: HashMap<String, OsString> = vars.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
        Settings::from_vars(|name| table.get(name).cloned())
    }

    #[test]
    fn fallbacks_and_blanks() {
        let s = settings(&[("ESC_TOKEN", " "), ("PULUMI_ACCESS_TOKEN", "pul-settings-canary"), ("GH_TOKEN", "gh")])
            .unwrap();
        assert_eq!(s.esc.token.as_ref().unwrap().expose(), "pul-settings-canary");
        assert_eq!(s.esc.api, ESC_API);
        assert_eq!(s.github.token.as_ref().unwrap().expose(), "gh");
        assert!(s.fly.token.is_none() && !s.runner.active && s.now.is_none());
        // Reading a token registers it: no message can show it from now on.
        assert!(!secret::scrub("token pul-settings-canary").contains("canary"));
    }

    #[test]
    fn a_bad_now_is_a_usage_error() {
        let err = settings(&[("ESCORT_NOW", "yesterday")]).unwrap_err();
        assert_eq!(error::kind_of(&err), error::Kind::Usage);
    }

    #[test]
    fn api_urls_are_checked_when_used() {
        let s = settings(&[("GITHUB_API_URL", "ftp://example")]).unwrap();
        let err = s.github.api_url("GITHUB_API_URL").unwrap_err();
        assert!(err.to_string().contains("GITHUB_API_URL `ftp://example`"), "{err}");
    }
}
