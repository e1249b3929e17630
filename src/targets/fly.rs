//! Fly.io app secrets (docs/routes.md, "escort sync" and "Targets beyond GitHub") as a `Target`, through the Machines API:
//! `GET /v1/apps/{app}/secrets` lists names and dates, and one
//! `POST /v1/apps/{app}/secrets` with `{"values": {"A": "v", "B": null}}`
//! sets and deletes (null deletes) in a single change, so a write is all or
//! nothing. Shapes as in Fly's Machines API description (`AppSecrets`,
//! `AppSecretsUpdateRequest`, `AppSecretsUpdateResp`); errors carry
//! `{"error": "..."}`.
//!
//! Fly.io stages secrets: machines see a write only once they are updated.
//! As `flyctl secrets list` tells deployed from staged, a secret updated
//! after the release a machine runs (`config.metadata.fly_release_version`,
//! dated by `GET /api/v1/apps/{app}/releases`) is not on that machine; escort
//! calls it staged when any machine lacks it (flyctl's "Staged" and
//! "Partial"). A deploy updates
//! each machine with its config, a new release version and the write's
//! `min_secrets_version`, as `flyctl secrets deploy` does through fly-go.

use super::common::{Deployed, Target, env_var_problems};
use crate::error;
use crate::http::{Auth, Http, HttpError, Request};
use crate::json;
use crate::record::{Action, Entry, Outcome, Progress, outcomes};
use crate::secret::{self, Secret};
use crate::settings::Context;
use crate::time::Moment;
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
/// The header a machine's lease nonce goes in (fly-go's flaps NonceHeader).
const NONCE_HEADER: &str = "fly-machine-lease-nonce";
/// How long a deploy holds a machine's lease: time to update it and wait.
const LEASE_TTL: std::time::Duration = std::time::Duration::from_secs(120);
/// How long a deploy waits for an updated machine: requests the server holds
/// up to `WAIT_EACH` (under the client's 30 s request timeout), `WAITS` of them.
const WAIT_EACH: std::time::Duration = std::time::Duration::from_secs(20);
const WAITS: u32 = 5;

pub struct Fly {
    http: Http,
    api: Url,
    token: Secret,
    /// Where the token came from, named when it is refused.
    token_from: String,
    app: String,
    /// Fetched at most once per run: it tells create from update.
    listed: OnceCell<Vec<Entry>>,
    /// The secrets version this run's write made.
    version: std::sync::Mutex<Option<u64>>,
}

#[derive(Deserialize)]
struct UpdateResp {
    version: Option<u64>,
}

#[derive(Deserialize)]
struct Machine {
    id: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    instance_id: String,
    #[serde(default)]
    config: serde_json::Value,
}

impl Machine {
    /// Whether the machine counts for what the app runs: all but destroyed
    /// ones, as flyctl's secrets list.go in superfly/flyctl filters them.
    fn counts(&self) -> bool {
        !matches!(self.state.as_str(), "destroyed" | "destroying")
    }
}

/// fly-go's MachineLease: `{"status", "data": {"nonce", ...}}`.
#[derive(Deserialize)]
struct LeaseResp {
    data: Option<LeaseData>,
}

#[derive(Deserialize)]
struct LeaseData {
    #[serde(default)]
    nonce: String,
}

#[derive(Deserialize)]
struct Releases {
    #[serde(default)]
    releases: Vec<Release>,
}

#[derive(Deserialize)]
struct Release {
    version: u64,
    created_at: Option<String>,
}

#[derive(Deserialize)]
struct SecretList {
    #[serde(default)]
    secrets: Vec<ListedSecret>,
}

#[derive(Deserialize)]
struct ListedSecret {
    name: String,
    digest: Option<String>,
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
        let version = std::sync::Mutex::new(None);
        Ok(Fly { http: ctx.http()?, api, token, token_from, app, listed: OnceCell::new(), version })
    }

    fn request(&self, op: String, method: Method) -> Request<'_> {
        self.request_at(op, method, &["v1", "apps", &self.app, "secrets"], &[])
    }

    /// A request to `path` under the API's base URL, with `query`.
    fn request_at(&self, op: String, method: Method, path: &[&str], query: &[(&str, &str)]) -> Request<'_> {
        let mut url = self.api.clone();
        url.path_segments_mut().expect("checked in open: a base URL").pop_if_empty().extend(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
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
                        created_at: s.created_at.map(utc),
                        updated_at: s.updated_at.map(utc),
                        digest: s.digest,
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
        let resp = self.http.send(req).await.map_err(|e| self.explain(e))?;
        // The write is done: an answer without a readable version only goes unreported.
        let version = json::decode::<UpdateResp>("read Fly's answer to a secrets update", &resp.body).ok();
        *self.version.lock().expect("not poisoned") = version.and_then(|r| r.version);
        Ok(())
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, what: &str, path: &[&str]) -> Result<T> {
        let op = format!("list the {what} of Fly app {}", self.app);
        let resp =
            self.http.send(self.request_at(op.clone(), Method::GET, path, &[])).await.map_err(|e| self.explain(e))?;
        json::decode(&op, &resp.body)
    }

    async fn machines(&self) -> Result<Vec<Machine>> {
        self.get("machines", &["v1", "apps", &self.app, "machines"]).await
    }

    async fn releases(&self) -> Result<Vec<Release>> {
        let releases: Releases = self.get("releases", &["api", "v1", "apps", &self.app, "releases"]).await?;
        Ok(releases.releases)
    }

    /// The date of the oldest release a machine runs: a secret updated after
    /// it (strictly, to the nanosecond, as flyctl's internal/command/secrets/list.go in
    /// superfly/flyctl compares) is missing from some machine. Without
    /// machines flyctl says "Staged", and it counts a machine whose release it
    /// cannot date as lacking every secret: escort cannot promise such a copy
    /// is deployed, and says why (docs/routes.md, "fly:APP").
    async fn running_since(&self) -> Result<Deployed> {
        let machines: Vec<Machine> = self.machines().await?.into_iter().filter(Machine::counts).collect();
        if machines.is_empty() {
            return Ok(Deployed::Undated(format!("Fly app {} has no Machines", self.app)));
        }
        let releases = self.releases().await?;
        let mut oldest: Option<Moment> = None;
        for machine in &machines {
            let created = release_of(&machine.config)
                .and_then(|v| releases.iter().find(|r| r.version == v))
                .and_then(|r| read_date(r.created_at.as_deref()?));
            let Some(at) = created else {
                return Ok(Deployed::Undated(format!("the release of machine {} cannot be dated", machine.id)));
            };
            oldest = Some(oldest.map_or(at, |o| o.min(at)));
        }
        Ok(oldest.map_or(Deployed::Unstaged, |at| Deployed::At(at.rfc3339())))
    }

    /// Update every machine to a new release with the app's current secrets
    /// (at least this run's version), as `flyctl secrets deploy` does through
    /// fly-go's machines client: each under its lease, then waited for.
    async fn update_machines(&self) -> Result<usize> {
        let machines: Vec<Machine> = self.machines().await?.into_iter().filter(Machine::counts).collect();
        if machines.is_empty() {
            return Ok(0);
        }
        let release = self.releases().await?.iter().map(|r| r.version).max().unwrap_or(0) + 1;
        let min = *self.version.lock().expect("not poisoned");
        for machine in &machines {
            let nonce = self.lease(machine).await?;
            let updated = self.update_machine(machine, release, min, &nonce).await;
            // Released whatever became of the update. A lease that could not be
            // given back expires with its TTL: worth a note, not a failed deploy.
            if let Err(e) = self.release(machine, &nonce).await {
                crate::ui::note(&format!("{e:#} (it expires in {} s)", LEASE_TTL.as_secs()));
            }
            updated?;
        }
        Ok(machines.len())
    }

    fn machine_path<'a>(&'a self, machine: &'a Machine, tail: &'a [&'a str]) -> Vec<&'a str> {
        ["v1", "apps", &self.app, "machines", &machine.id].into_iter().chain(tail.iter().copied()).collect()
    }

    /// Take the machine's lease (fly-go's AcquireLease): its nonce. Someone
    /// else's lease (409) is an error naming the machine, never a skip.
    async fn lease(&self, machine: &Machine) -> Result<String> {
        let op = format!("lease machine {} of Fly app {}", machine.id, self.app);
        let ttl = LEASE_TTL.as_secs().to_string();
        let body = serde_json::json!({"description": "escort sync --deploy", "ttl": LEASE_TTL.as_secs()});
        let req = self
            .request_at(op.clone(), Method::POST, &self.machine_path(machine, &["lease"]), &[("ttl", &ttl)])
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body)?);
        let resp = match self.http.send(req).await {
            Ok(resp) => resp,
            Err(e) if e.status == Some(409) => {
                let why = format!(
                    "machine {} of Fly app {} is leased by someone else (another deploy?): nothing was deployed \
                     to it; run the sync with --deploy again once they are done",
                    machine.id, self.app
                );
                return Err(anyhow::Error::new(e).context(why));
            }
            Err(e) => return Err(self.explain(e)),
        };
        let lease: LeaseResp = json::decode(&op, &resp.body)?;
        lease.data.map(|d| d.nonce).filter(|n| !n.is_empty()).ok_or_else(|| {
            error::backend(format!(
                "Fly.io granted the lease of machine {} of app {} without a nonce",
                machine.id, self.app
            ))
        })
    }

    /// Update the machine under its lease to `release`, with at least the
    /// secrets version `min`, then wait until its new instance reaches the
    /// state the machine was in (started, or stopped when it was not running).
    async fn update_machine(&self, machine: &Machine, release: u64, min: Option<u64>, nonce: &str) -> Result<()> {
        let mut config = machine.config.clone();
        if let Some(config) = config.as_object_mut() {
            let metadata = config.entry("metadata").or_insert_with(|| serde_json::json!({}));
            if let Some(metadata) = metadata.as_object_mut() {
                metadata.insert("fly_release_version".into(), release.to_string().into());
            }
        }
        let asleep = matches!(machine.state.as_str(), "stopped" | "suspended" | "created");
        let mut body = serde_json::json!({"config": config});
        if let Some(min) = min {
            body["min_secrets_version"] = min.into();
        }
        if asleep {
            body["skip_launch"] = true.into();
        }
        let op = format!("update machine {} of Fly app {}", machine.id, self.app);
        let req = self
            .request_at(op.clone(), Method::POST, &self.machine_path(machine, &[]), &[])
            .header("content-type", "application/json")
            .header(NONCE_HEADER, nonce)
            .body(serde_json::to_vec(&body)?);
        let resp = self.http.send(req).await.map_err(|e| self.explain(e))?;
        let updated: Machine = json::decode(&op, &resp.body)?;
        self.wait(machine, &updated.instance_id, if asleep { "stopped" } else { "started" }).await
    }

    /// Wait (fly-go's Wait) for the instance an update made to reach `state`:
    /// one request at a time, each bounded by the server, `WAITS` at most.
    async fn wait(&self, machine: &Machine, instance: &str, state: &str) -> Result<()> {
        let op = format!("wait for machine {} of Fly app {} to be {state}", machine.id, self.app);
        let timeout = WAIT_EACH.as_secs().to_string();
        let mut query = vec![("state", state), ("timeout", timeout.as_str())];
        // Without the new instance's id (an answer that lacks it), whichever instance runs.
        if !instance.is_empty() {
            query.insert(0, ("instance_id", instance));
        }
        let path = self.machine_path(machine, &["wait"]);
        let mut attempt = 1;
        loop {
            match self.http.send(self.request_at(op.clone(), Method::GET, &path, &query)).await {
                Ok(_) => return Ok(()),
                // Not there yet: the server waited its timeout.
                Err(e) if e.status == Some(408) && attempt < WAITS => attempt += 1,
                Err(e) if e.status == Some(408) => {
                    let why = format!(
                        "machine {} of Fly app {} was updated but did not become {state} within {} s",
                        machine.id,
                        self.app,
                        WAIT_EACH.as_secs() * u64::from(WAITS)
                    );
                    return Err(anyhow::Error::new(e).context(why));
                }
                Err(e) => return Err(self.explain(e)),
            }
        }
    }

    /// Give the lease back (fly-go's ReleaseLease).
    async fn release(&self, machine: &Machine, nonce: &str) -> Result<()> {
        let op = format!("release the lease of machine {} of Fly app {}", machine.id, self.app);
        let req = self
            .request_at(op, Method::DELETE, &self.machine_path(machine, &["lease"]), &[])
            .header(NONCE_HEADER, nonce);
        self.http.send(req.retry(true)).await.map_err(|e| self.explain(e))?;
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

/// The release a machine runs, from its config's metadata.
fn release_of(config: &serde_json::Value) -> Option<u64> {
    config.get("metadata")?.get("fly_release_version")?.as_str()?.parse().ok()
}

/// A Fly date: RFC 3339, or without a zone read as UTC (flyctl's parseTimestamp in
/// superfly/flyctl's internal/command/secrets/list.go: Go's time.Parse, UTC when no zone),
/// to the nanosecond.
fn read_date(text: &str) -> Option<Moment> {
    Moment::parse(text).or_else(|| Moment::parse(&format!("{text}Z")))
}

/// A Fly date as RFC 3339 in UTC when it can be read (one without a zone
/// too), its fraction kept, else as given (and so `unknown` to `status`).
fn utc(text: String) -> String {
    read_date(&text).map_or(text, |at| at.rfc3339())
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

    fn version(&self) -> Option<u64> {
        *self.version.lock().expect("not poisoned")
    }

    fn deployed_at(&self) -> BoxFuture<'_, Result<Deployed>> {
        Box::pin(self.running_since())
    }

    fn deploy(&self) -> BoxFuture<'_, Result<usize>> {
        Box::pin(self.update_machines())
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
    fn dates_and_releases_as_fly_gives_them() {
        assert_eq!(utc("2024-03-01T10:00:00Z".into()), "2024-03-01T10:00:00Z");
        // Without a zone: read as UTC, as flyctl reads it (see `read_date`), fraction or not.
        assert_eq!(utc("2024-03-01T10:00:00".into()), "2024-03-01T10:00:00Z");
        assert_eq!(utc("2024-03-01T10:00:00.123456".into()), "2024-03-01T10:00:00.123456Z");
        assert_eq!(utc("2024-03-01T12:00:00.5+02:00".into()), "2024-03-01T10:00:00.5Z");
        assert_eq!(utc("not a date".into()), "not a date");
        let config = serde_json::json!({"metadata": {"fly_release_version": "7"}});
        assert_eq!(release_of(&config), Some(7));
        assert_eq!(release_of(&serde_json::json!({})), None);
    }

    #[test]
    fn destroyed_machines_run_nothing() {
        let machine = |state: &str| Machine {
            id: "m".into(),
            state: state.into(),
            instance_id: String::new(),
            config: serde_json::Value::Null,
        };
        for runs in ["started", "stopped", "suspended", ""] {
            assert!(machine(runs).counts(), "{runs}");
        }
        for gone in ["destroyed", "destroying"] {
            assert!(!machine(gone).counts(), "{gone}");
        }
    }

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
