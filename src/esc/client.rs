//! The Pulumi ESC API client (`tests/specs/esc.openapi.yaml`): open and read
//! an environment, its definition, its revisions, and write a new one.

use super::env_ref::{EnvRef, is_name};
use super::{decode, value};
use crate::error;
use crate::http::{Auth, Http, Request};
use crate::json;
use crate::secret::Secret;
use crate::settings::Context;
use crate::vars::Var;
use crate::wiped::Wiped;
use anyhow::Result;
use reqwest::Method;

/// Where ESC is and who we are there (docs/configuration.md).
#[derive(Clone)]
pub struct Esc {
    http: Http,
    api: String,
    token: Secret,
    token_from: String,
    default_org: Option<String>,
}

impl Esc {
    /// The ESC client of this process: its API base, token and default organization.
    pub fn new(ctx: &Context) -> Result<Self> {
        let s = &ctx.settings;
        let token =
            s.esc.token("no ESC token: set ESC_TOKEN (or PULUMI_ACCESS_TOKEN), or log in with `pulumi login`")?.clone();
        let api = s.esc.api_url("ESC_API_URL")?.as_str().trim_end_matches('/').to_string();
        Ok(Esc { http: ctx.http()?, api, token, token_from: s.esc.token_source(), default_org: s.esc_org.clone() })
    }

    /// A request to `API/api/SEGMENTS...?QUERY`. Each segment is percent-encoded
    /// on its own, so no name can reach another path.
    fn request<S: AsRef<str>>(&self, op: String, method: Method, segments: &[S], query: Option<&str>) -> Request<'_> {
        let url = match reqwest::Url::parse(&self.api) {
            Ok(mut url) => {
                if let Ok(mut path) = url.path_segments_mut() {
                    path.pop_if_empty().push("api").extend(segments);
                }
                url.set_query(query);
                url.to_string()
            }
            // `send` reports an unparsable URL as such.
            Err(_) => self.api.clone(),
        };
        Request::new(op, method, url)
            .auth(Auth::Scheme("token", &self.token))
            .token_from(&self.token_from)
            .header("accept", "application/vnd.pulumi+8")
    }

    /// The organization for a reference with fewer than three parts.
    async fn org_for(&self, env: &EnvRef) -> Result<String> {
        let org = match env.org.clone().or_else(|| self.default_org.clone()) {
            Some(org) => org,
            None => self.default_org_of_user(env).await?,
        };
        if !is_name(&org) {
            let org = crate::ui::escape(&org);
            return Err(error::usage(format!("the organization `{org}` of `{env}` is not a name (ESC_ORG?)")));
        }
        Ok(org)
    }

    async fn default_org_of_user(&self, env: &EnvRef) -> Result<String> {
        #[derive(serde::Deserialize)]
        struct DefaultOrg {
            #[serde(rename = "gitHubLogin")]
            login: Option<String>,
        }
        let op = format!("find the default organization for `{env}` (set ESC_ORG to skip this)");
        let resp =
            self.http.send(self.request(op.clone(), Method::GET, &["user", "organizations", "default"], None)).await?;
        let found: DefaultOrg = json::decode(&op, &resp.body)?;
        found
            .login
            .filter(|l| !l.is_empty())
            .ok_or_else(|| error::usage(format!("{op}: the service named none; set ESC_ORG or use org/project/env")))
    }

    /// Open the environment and read its variables and files.
    pub async fn open_and_read(&self, env: &EnvRef) -> Result<(Vec<Var>, value::Skipped)> {
        Ok(value::decode(self.open(env).await?))
    }

    /// Create the environment `env` (empty), as the first writer of one does.
    pub async fn create(&self, env: &EnvRef) -> Result<()> {
        let org = self.org_for(env).await?;
        let op = format!("create ESC environment `{env}`");
        let body = serde_json::to_vec(&serde_json::json!({"project": env.project, "name": env.env}))?;
        let req = self
            .request(op, Method::POST, &["esc", "environments", &org], None)
            .header("content-type", "application/json")
            .body(body);
        self.http.send(req).await?;
        Ok(())
    }

    /// Open the environment and return every top-level property it evaluates to.
    pub async fn open(&self, env: &EnvRef) -> Result<Vec<(String, value::Value)>> {
        let full = self.resolve(env).await?;
        let base = env_path(&full);
        let open_path = match &env.version {
            Some(v) => [&base[..], &["versions", v, "open"]].concat(),
            None => [&base[..], &["open"]].concat(),
        };

        #[derive(serde::Deserialize)]
        struct Opened {
            id: serde_json::Value,
        }
        let op = format!("open ESC environment `{full}`");
        // Opening twice only makes a second session, so a retry is safe.
        let resp =
            self.http.send(self.request(op.clone(), Method::POST, &open_path, Some("duration=1h")).retry(true)).await?;
        let opened: Opened = json::decode(&op, &resp.body)?;
        let id = match opened.id {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(error::backend(format!("{op}: the answer has no session id"))),
        };
        if !is_name(&id) {
            return Err(error::backend(format!("{op}: the session id is not a plain name")));
        }

        let op = format!("read ESC environment `{full}`");
        let resp =
            self.http.send(self.request(op.clone(), Method::GET, &[&base[..], &["open", &id]].concat(), None)).await?;
        decode::properties(&op, &resp.body)
    }

    /// `env` with its organization named (asked of the service once, when not given).
    pub async fn resolve(&self, env: &EnvRef) -> Result<EnvRef> {
        Ok(EnvRef { org: Some(self.org_for(env).await?), ..env.clone() })
    }

    /// The segments of `env`'s definition, below `api/`.
    async fn definition_path(&self, env: &EnvRef) -> Result<Vec<String>> {
        Ok(env_path(&self.resolve(env).await?).iter().map(|s| s.to_string()).collect())
    }

    /// The definition (YAML) and its `ETag`.
    pub async fn definition(&self, env: &EnvRef) -> Result<(Wiped<String>, Option<String>)> {
        let op = format!("read the definition of ESC environment `{env}`");
        let path = self.definition_path(env).await?;
        let resp = self.http.send(self.request(op.clone(), Method::GET, &path, None)).await?;
        Ok((utf8(&op, &resp.body)?, resp.header("etag").map(str::to_string)))
    }

    /// The definition (YAML) at `env`'s revision or tag, the head's when it names none.
    pub async fn definition_at(&self, env: &EnvRef) -> Result<Wiped<String>> {
        let Some(version) = &env.version else { return Ok(self.definition(env).await?.0) };
        let op = format!("read the definition of ESC environment `{env}`");
        let mut path = self.definition_path(env).await?;
        path.extend(["versions".to_string(), version.clone()]);
        let resp = self.http.send(self.request(op.clone(), Method::GET, &path, None)).await?;
        utf8(&op, &resp.body)
    }

    /// Replace the definition if it is still the one `etag` names. A 409
    /// `HttpError` says it is not.
    pub async fn update_definition(&self, env: &EnvRef, text: &str, etag: &str) -> Result<()> {
        let op = format!("update the definition of ESC environment `{env}`");
        let path = self.definition_path(env).await?;
        let req = self
            .request(op, Method::PATCH, &path, None)
            .header("content-type", "application/x-yaml")
            .header("if-match", etag)
            .body(text.as_bytes().to_vec())
            // With If-Match, sending it again cannot overwrite anyone else's change.
            .retry(true);
        self.http.send(req).await?;
        Ok(())
    }

    /// The `count` revisions older than `before` (the latest when `None`), newest first.
    pub async fn revisions_before(&self, env: &EnvRef, before: Option<u64>, count: usize) -> Result<Vec<Revision>> {
        let op = format!("list the revisions of ESC environment `{env}`");
        let mut path = self.definition_path(env).await?;
        path.push("versions".to_string());
        let query = match before {
            Some(n) => format!("before={n}&count={count}"),
            None => format!("count={count}"),
        };
        let resp = self.http.send(self.request(op.clone(), Method::GET, &path, Some(&query))).await?;
        let mut revisions: Vec<Revision> = json::decode(&op, &resp.body)?;
        revisions.sort_by_key(|r| std::cmp::Reverse(r.number));
        revisions.truncate(count);
        Ok(revisions)
    }

    /// The revision a tag names now, and when it was last moved there.
    pub async fn tag(&self, env: &EnvRef, tag: &str) -> Result<Tag> {
        let op = format!("read revision tag `{tag}` of ESC environment `{env}`");
        let mut path = self.definition_path(env).await?;
        path.extend(["versions".to_string(), "tags".to_string(), tag.to_string()]);
        let resp = self.http.send(self.request(op.clone(), Method::GET, &path, None)).await?;
        json::decode(&op, &resp.body)
    }
}

/// `esc/environments/ORG/PROJECT/ENV` of a reference whose organization is known.
fn env_path(env: &EnvRef) -> [&str; 5] {
    ["esc", "environments", env.org.as_deref().unwrap_or_default(), &env.project, &env.env]
}

/// One revision of a definition, from `GET .../versions`.
#[derive(serde::Deserialize)]
pub struct Revision {
    pub number: u64,
    /// RFC 3339.
    pub created: Option<String>,
    /// Set when the revision was retracted: the service refuses to read it.
    #[serde(default)]
    pub retracted: Option<serde_json::Value>,
}

/// A revision tag (`GET .../versions/tags/{tag}`).
#[derive(serde::Deserialize)]
pub struct Tag {
    pub revision: u64,
    /// RFC 3339: when it was created or last moved.
    pub modified: Option<String>,
}

fn utf8(op: &str, body: &[u8]) -> Result<Wiped<String>> {
    let text =
        std::str::from_utf8(body).map_err(|_| error::backend(format!("{op}: the definition is not UTF-8 text")))?;
    Ok(Wiped::new(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_refs() {
        let r = EnvRef::parse("acme/app/dev@3").unwrap();
        assert_eq!(
            (r.org.as_deref(), r.project.as_str(), r.env.as_str(), r.version.as_deref()),
            (Some("acme"), "app", "dev", Some("3"))
        );
        let r = EnvRef::parse("sophia/dev").unwrap();
        assert_eq!((r.org, r.project.as_str(), r.env.as_str()), (None, "sophia", "dev"));
        let r = EnvRef::parse("dev@stable").unwrap();
        assert_eq!((r.project.as_str(), r.version.as_deref()), ("default", Some("stable")));
        assert_eq!(EnvRef::parse("a/b/c@v1").unwrap().to_string(), "a/b/c@v1");
        for bad in ["", "a//b", "a/b/c/d", "a/b@", "a b/c", "a/b?x=1"] {
            assert!(EnvRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn f07_every_part_is_a_name() {
        for bad in [
            "acme/app/dev@../../../../api/orgs/x?role=admin",
            "acme/../dev",
            "./app/dev",
            "acme/app/..",
            "a/b/c@..",
            "a/b/c@v#1",
            "a/b/c@1/2",
            "a/b/c@v?x",
            "a/b/c@v\n::error::x",
            "a/b\n/c",
        ] {
            let err = EnvRef::parse(bad).expect_err(bad).to_string();
            assert!(!err.contains('\n'), "{err}");
        }
        assert_eq!(EnvRef::parse("a.b/c_d/e-f@v1.2").unwrap().version.as_deref(), Some("v1.2"));
    }

    #[test]
    fn f07_urls_are_built_by_segments() {
        let esc = Esc {
            http: Http::with_settings(crate::http::Settings::new(&Default::default(), "")).unwrap(),
            api: "https://api.example.com/prefix/".into(),
            token: Secret::new("t"),
            token_from: "ESC_TOKEN".into(),
            default_org: None,
        };
        let r = esc.request("op".into(), Method::GET, &["esc", "a b", "x?y#z", "%2e%2e"], Some("count=2"));
        assert_eq!(r.url, "https://api.example.com/prefix/api/esc/a%20b/x%3Fy%23z/%252e%252e?count=2");
    }
}
