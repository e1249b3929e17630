//! Fly.io app secrets (docs/routes.md, "escort sync" and "Targets beyond GitHub") as a `Target`, through the Machines API:
//! `GET /v1/apps/{app}/secrets` lists names and dates, and one
//! `POST /v1/apps/{app}/secrets` with `{"values": {"A": "v", "B": null}}`
//! sets and deletes (null deletes) in a single change, so a write is all or
//! nothing. Shapes as in Fly's Machines API description (`AppSecrets`,
//! `AppSecretsUpdateRequest`); errors carry `{"error": "..."}`.

use super::common::{Target, env_var_problems};
use crate::error;
use crate::http::{Auth, Http, HttpError, Request};
use crate::json;
use crate::record::{Action, Entry, Outcome, Progress, outcomes};
use crate::secret::{self, Secret};
use crate::settings::Context;
use crate::vars::BoxFuture;
use crate::vars::Var;
use anyhow::Result;
use reqwest::{Method, Url};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use tokio::sync::OnceCell;

/// Tokens made by `fly tokens create` carry their own scheme and are sent as
/// they are; older personal tokens go as `Bearer`.
const RAW_PREFIX: &str = "FlyV1 ";

pub struct Fly {
    http: Http,
    api: Url,
    token: Secret,
    /// Where the token came from, named when it is refused.
    token_from: String,
    app: String,
    /// Fetched at most once per run: it tells create from update.
    listed: OnceCell<Vec<Entry>>,
}

#[derive(Deserialize)]
struct SecretList {
    #[serde(default)]
    secrets: Vec<ListedSecret>,
}

#[derive(Deserialize)]
struct ListedSecret {
    name: String,
    created_at: Option<String>,
    updated_at: Option<String>,
}

#[derive(Serialize)]
struct Update<'a> {
    values: BTreeMap<&'a str, Option<&'a str>>,
}

impl Fly {
    /// The secrets of `app`, with the Fly.io token and API base of the settings.
    pub fn open(app: String, ctx: &Context) -> Result<Self> {
        let fly = &ctx.settings.fly;
        let token = fly.token("no Fly.io token: set FLY_API_TOKEN (`fly tokens create deploy` makes one)")?.clone();
        let (api, token_from) = (fly.api_url("FLY_API_URL")?, fly.token_source());
        Ok(Fly { http: ctx.http()?, api, token, token_from, app, listed: OnceCell::new() })
    }

    fn request(&self, op: String, method: Method) -> Request<'_> {
        let mut url = self.api.clone();
        url.path_segments_mut()
            .expect("checked in open: a base URL")
            .pop_if_empty()
            .extend(["v1", "apps", &self.app, "secrets"]);
        let auth = if self.token.expose().starts_with(RAW_PREFIX) {
            Auth::Raw(&self.token)
        } else {
            Auth::Scheme("Bearer", &self.token)
        };
        Request::new(op, method, url.to_string())
            .auth(auth)
            .token_from(&self.token_from)
            .header("accept", "application/json")
    }

    /// The two refusals every request can meet, said in Fly's terms; the
    /// HTTP error stays in the chain (it names the request, and sets exit 3).
    fn explain(&self, err: HttpError) -> anyhow::Error {
        let hint = match err.status {
            Some(404) => format!("Fly app `{}` not found (or the token cannot see it)", self.app),
            Some(401) => "Fly.io refused the token: check FLY_API_TOKEN".to_string(),
            Some(403) => format!("the token in FLY_API_TOKEN may not change the secrets of Fly app `{}`", self.app),
            _ => return err.into(),
        };
        anyhow::Error::new(err).context(hint)
    }

    async fn listing(&self) -> Result<&[Entry]> {
        let listed = self
            .listed
            .get_or_try_init(|| async {
                let op = format!("list the secrets of Fly app {}", self.app);
                let resp = self.http.send(self.request(op.clone(), Method::GET)).await.map_err(|e| self.explain(e))?;
                let list: SecretList = json::decode(&op, &resp.body)?;
                let entries = list
                    .secrets
                    .into_iter()
                    .map(|s| Entry {
                        name: s.name,
                        created_at: s.created_at,
                        updated_at: s.updated_at,
                        ..Entry::default()
                    })
                    .collect();
                Ok::<_, anyhow::Error>(entries)
            })
            .await?;
        Ok(listed)
    }

    /// One POST that sets each `Some` and deletes each `None`: Fly applies
    /// it whole or not at all.
    async fn update(&self, op: String, values: BTreeMap<&str, Option<&str>>) -> Result<()> {
        let body = serde_json::to_vec(&Update { values })?;
        let req = self
            .request(op, Method::POST)
            .header("content-type", "application/json")
            .body(body)
            // Setting the same values again, or deleting again, changes nothing.
            .retry(true);
        self.http.send(req).await.map_err(|e| self.explain(e))?;
        Ok(())
    }

    /// Set `vars` and delete `deletes` in one request; one outcome per name,
    /// in order. Names the app does not have are reported, not sent.
    async fn change(&self, vars: &[Var], deletes: &[String], progress: Progress<'_>) -> Result<Vec<Outcome>> {
        if vars.is_empty() && deletes.is_empty() {
            return Ok(Vec::new());
        }
        // Also the check that the app exists and the token works, before any write.
        let have: HashSet<&str> = self.listing().await?.iter().map(|e| e.name.as_str()).collect();
        let mut values: BTreeMap<&str, Option<&str>> =
            vars.iter().map(|v| (v.name.as_str(), Some(v.value.expose()))).collect();
        for name in deletes.iter().filter(|n| have.contains(n.as_str())) {
            values.entry(name.as_str()).or_insert(None);
        }
        let failed = if values.is_empty() {
            None
        } else {
            let op = format!("update the secrets of Fly app {}", self.app);
            self.update(op, values).await.err().map(|e| secret::scrub(&format!("{e:#}")))
        };
        let result = |action: Action, failed: Option<String>| match failed {
            None => Ok(action),
            Some(why) => Err(error::backend(why)),
        };
        let writes = vars.iter().map(|v| {
            let action = if have.contains(v.name.as_str()) { Action::Update } else { Action::Create };
            (v.name.as_str(), result(action, failed.clone()))
        });
        let deleted = deletes.iter().map(|name| {
            let failed = match have.contains(name.as_str()) {
                true => failed.clone(),
                false => Some(format!("Fly app {} has no secret {name}", self.app)),
            };
            (name.as_str(), result(Action::Delete, failed))
        });
        Ok(outcomes(writes.chain(deleted), progress))
    }
}

/// The APP of `fly:APP`: a Fly app name (lowercase letters, digits and `-`).
pub fn parse(app: &str) -> Result<String, String> {
    if valid_app(app) {
        Ok(app.to_string())
    } else {
        Err("use fly:APP, where APP is a Fly app name (lowercase letters, digits and `-`)".to_string())
    }
}

fn valid_app(app: &str) -> bool {
    !app.is_empty() && app.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Target for Fly {
    fn name(&self) -> String {
        format!("secrets of Fly app {}", self.app)
    }

    fn check(&self, vars: &[Var]) -> Result<()> {
        let problems = env_var_problems(vars);
        if problems.is_empty() {
            return Ok(());
        }
        Err(error::usage(format!("Fly.io could not take these secrets, so nothing was sent: {}", problems.join("; "))))
    }

    fn list(&self, _details: bool) -> BoxFuture<'_, Result<Vec<Entry>>> {
        Box::pin(async move { Ok(self.listing().await?.to_vec()) })
    }

    fn apply<'a>(
        &'a self,
        vars: &'a [Var],
        prune: &'a [String],
        progress: Progress<'a>,
    ) -> BoxFuture<'a, Result<Vec<Outcome>>> {
        Box::pin(self.change(vars, prune, progress))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names() {
        for ok in ["app", "my-app-2", "x"] {
            assert!(valid_app(ok), "{ok}");
        }
        for bad in ["", "App", "a_b", "a/b", "a b", "a.b"] {
            assert!(!valid_app(bad), "{bad}");
        }
    }
}
