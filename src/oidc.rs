//! OIDC login: a GitHub Actions ID token exchanged for a short-lived Pulumi
//! access token (RFC 8693, `POST {api}/api/oauth/token`), so a workflow needs
//! no stored ESC token.

use crate::error;
use crate::http::{Auth, Http, Request};
use crate::json;
use crate::secret::{self, Secret};
use crate::settings::Runner;
use anyhow::Result;
use reqwest::Method;

/// What to ask Pulumi Cloud for.
pub struct Exchange<'a> {
    pub org: &'a str,
    /// `organization`, `team`, `personal` (or `runner`).
    pub token_type: &'a str,
    pub scope: Option<&'a str>,
    pub expiration: Option<u64>,
}

impl Exchange<'_> {
    pub fn audience(&self) -> String {
        format!("urn:pulumi:org:{}", self.org)
    }
}

/// Ask the Actions runtime for an ID token with the exchange's audience
/// (`ACTIONS_ID_TOKEN_REQUEST_URL`/`_TOKEN`, present when the job has
/// `permissions: id-token: write`).
pub async fn github_id_token(http: &Http, runner: &Runner, audience: &str) -> Result<Secret> {
    let (Some(url), Some(token)) = (&runner.id_token_url, &runner.id_token_request) else {
        return Err(error::usage(
            "no ID token: pass --oidc-token FILE, or run in a GitHub job with `permissions: id-token: write`",
        ));
    };
    let mut url = reqwest::Url::parse(url).map_err(|_| error::usage("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL"))?;
    url.query_pairs_mut().append_pair("audience", audience);
    let req = Request::new("get a GitHub ID token", Method::GET, url.as_str())
        .auth(Auth::Scheme("Bearer", token))
        .token_from("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    let resp = http.send(req).await?;
    #[derive(serde::Deserialize)]
    struct IdToken {
        value: Option<String>,
    }
    let parsed: IdToken = json::decode("get a GitHub ID token", &resp.body)?;
    let id = parsed
        .value
        .filter(|v| !v.is_empty())
        .map(Secret::new)
        .ok_or_else(|| error::backend("the ID token answer has no value"))?;
    secret::register(&id);
    Ok(id)
}

/// Exchange `id_token` for a Pulumi access token.
pub async fn exchange(http: &Http, api: &str, id_token: &Secret, ex: &Exchange<'_>) -> Result<Secret> {
    let mut body = serde_json::json!({
        "audience": ex.audience(),
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "requested_token_type": format!("urn:pulumi:token-type:access_token:{}", ex.token_type),
        "subject_token": id_token.expose(),
    });
    if let Some(scope) = ex.scope {
        body["scope"] = scope.into();
    }
    if let Some(exp) = ex.expiration {
        body["expiration"] = exp.into();
    }
    let bytes = serde_json::to_vec(&body)?;
    let op = format!("exchange the ID token for a Pulumi {} token for `{}`", ex.token_type, ex.org);
    let req = Request::new(op.clone(), Method::POST, format!("{api}/api/oauth/token"))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(bytes)
        // An exchange can be repeated: the ID token stays valid for minutes.
        .retry(true);
    let resp = http.send(req).await?;
    #[derive(serde::Deserialize)]
    struct Issued {
        access_token: Option<String>,
    }
    let issued: Issued = json::decode(&op, &resp.body)?;
    let token = issued
        .access_token
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .ok_or_else(|| error::backend(format!("{op}: the answer has no access_token")))?;
    secret::register(&token);
    Ok(token)
}
