//! The secrets a GitHub workflow passes in as one JSON object
//! (`ESCORT_GITHUB_SECRETS: ${{ toJSON(secrets) }}`; docs/routes.md, "GitHub secrets into ESC"): how a
//! repository's or organization's secrets, which the API never returns, reach
//! ESC. The job's own `github_token` is not one of the team's secrets and is
//! dropped.

use super::common::Source;
use crate::error;
use crate::secret::Secret;
use crate::vars::BoxFuture;
use crate::vars::Var;
use anyhow::Result;
use std::collections::BTreeMap;

use crate::settings::EnvVars;

const VARIABLE: &str = EnvVars::ESCORT_GITHUB_SECRETS;

pub struct GithubSecrets {
    /// The JSON text, as read from the environment.
    json: Option<Secret>,
}

impl GithubSecrets {
    pub fn new(json: Option<Secret>) -> Self {
        GithubSecrets { json }
    }
}

impl Source for GithubSecrets {
    fn name(&self) -> String {
        "github-secrets".to_string()
    }

    /// Every GitHub secret is marked secret, whatever it holds: the manifest's
    /// `secret = false` may say it is plain config.
    fn knows_secrecy(&self) -> bool {
        false
    }

    fn read(&self) -> BoxFuture<'_, Result<Vec<Var>>> {
        Box::pin(async move {
            let json = self.json.as_ref().ok_or_else(|| {
                error::usage(format!(
                    "github-secrets reads ${VARIABLE}: set it in the workflow step as \
                     `{VARIABLE}: ${{{{ toJSON(secrets) }}}}`"
                ))
            })?;
            // serde_json's own messages can quote a value: only say where.
            let secrets: BTreeMap<String, String> = serde_json::from_str(json.expose()).map_err(|e| {
                error::usage(format!(
                    "${VARIABLE} is not a JSON object of strings (line {}, column {})",
                    e.line(),
                    e.column()
                ))
            })?;
            Ok(secrets
                .into_iter()
                .filter(|(name, _)| !name.eq_ignore_ascii_case("github_token"))
                .map(|(name, value)| Var::secret(name, value))
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<Vec<Var>> {
        load(Some(Secret::new(json)))
    }

    fn load(json: Option<Secret>) -> Result<Vec<Var>> {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(GithubSecrets::new(json).load())
    }

    #[test]
    fn every_secret_but_the_jobs_token() {
        let vars = read(r#"{"github_token": "ghs-x", "NPM_TOKEN": "n", "DB_URL": "d"}"#).unwrap();
        let names: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["DB_URL", "NPM_TOKEN"]);
        assert!(vars.iter().all(|v| v.secret));
    }

    #[test]
    fn errors_never_quote_a_value() {
        for bad in [r#"{"A": 1, "B": "gh-canary"}"#, r#"["gh-canary"]"#, r#"{"A": "gh-canary""#] {
            let err = read(bad).unwrap_err().to_string();
            assert!(!err.contains("canary") && err.contains(VARIABLE), "{err}");
        }
        let err = load(None).unwrap_err().to_string();
        assert!(err.contains("toJSON(secrets)"), "{err}");
    }
}
