//! The one HTTP client of escort: timeouts, retries with backoff and jitter,
//! `Retry-After`, a response size cap, proxies from the environment, and
//! errors that name the operation and status but never a token or a value.

use crate::secret::{self, Secret};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use std::fmt;
use std::time::Duration;
use zeroize::Zeroizing;

const USER_AGENT: &str = concat!("escort/", env!("CARGO_PKG_VERSION"));

/// Tuning knobs, read from the environment so tests and slow networks can set
/// them without a flag on every command.
#[derive(Clone, Debug)]
pub struct Settings {
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub attempts: u32,
    pub max_wait: Duration,
    pub max_body: usize,
}

impl Settings {
    pub fn from_env() -> Self {
        let secs = |name: &str, default: f64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| *v >= 0.0)
                .map(Duration::from_secs_f64)
                .unwrap_or(Duration::from_secs_f64(default))
        };
        Settings {
            connect_timeout: secs("ESCORT_CONNECT_TIMEOUT", 10.0),
            timeout: secs("ESCORT_TIMEOUT", 30.0),
            attempts: std::env::var("ESCORT_RETRIES")
                .ok()
                .and_then(|v| v.parse::<u32>().ok())
                .map(|r| r + 1)
                .unwrap_or(4),
            max_wait: secs("ESCORT_MAX_RETRY_WAIT", 60.0),
            max_body: 64 << 20,
        }
    }
}

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    settings: Settings,
}

/// How a request authenticates. The token is kept as a `Secret` and the header
/// is marked sensitive so it never appears in a `Debug` of the request.
pub enum Auth<'a> {
    None,
    /// `Authorization: <scheme> <token>`, e.g. `token` for Pulumi, `Bearer` for GitHub.
    Scheme(&'static str, &'a Secret),
    /// The header value sent exactly as given (Fly.io's `FlyV1 ...` tokens).
    Raw(&'a Secret),
}

pub struct Request<'a> {
    /// What the user would call this step: "open ESC environment acme/app/dev".
    pub op: String,
    pub method: Method,
    pub url: String,
    pub auth: Auth<'a>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Zeroizing<Vec<u8>>>,
    /// Safe to send again after a failure (GET always is).
    pub retry: bool,
}

impl<'a> Request<'a> {
    pub fn new(op: impl Into<String>, method: Method, url: impl Into<String>) -> Self {
        let retry = method == Method::GET;
        Request { op: op.into(), method, url: url.into(), auth: Auth::None, headers: Vec::new(), body: None, retry }
    }

    pub fn auth(mut self, auth: Auth<'a>) -> Self {
        self.auth = auth;
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = Some(Zeroizing::new(body));
        self
    }

    pub fn retry(mut self, retry: bool) -> Self {
        self.retry = retry;
        self
    }
}

pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Zeroizing<Vec<u8>>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A failed request. Holds the operation, method, URL path and status, and
/// the API's own message (scrubbed of every known secret), never a body.
#[derive(Debug)]
pub struct HttpError {
    pub op: String,
    pub method: Method,
    pub path: String,
    pub status: Option<u16>,
    pub detail: String,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {} {}", self.op, self.method, self.path)?;
        match self.status {
            Some(status) => {
                let reason =
                    reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
                write!(f, " returned {status} {reason}")?;
                if !self.detail.is_empty() {
                    write!(f, ": {}", self.detail)?;
                }
                if let Some(hint) = status_hint(status) {
                    write!(f, " ({hint})")?;
                }
                Ok(())
            }
            None => write!(f, ": {}", self.detail),
        }
    }
}

impl std::error::Error for HttpError {}

fn status_hint(status: u16) -> Option<&'static str> {
    match status {
        401 => Some("check that the token is set and valid"),
        403 => Some("the token lacks permission for this"),
        404 => Some("check the name; a token without access also sees 404"),
        _ => None,
    }
}

impl Http {
    pub fn with_settings(settings: Settings) -> anyhow::Result<Self> {
        // reqwest is built without a bundled crypto provider so we can choose
        // ring (small, pure enough for a static musl build).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .build()
            .map_err(|e| anyhow::anyhow!("could not set up the HTTP client: {}", e.without_url()))?;
        Ok(Http { client, settings })
    }

    /// Send a request, retrying where that is safe. A non-2xx answer is an
    /// `HttpError`; callers that expect a status (404, 409) match on it.
    pub async fn send(&self, req: Request<'_>) -> Result<Response, HttpError> {
        let path = path_of(&req.url);
        let fail = |status: Option<u16>, detail: String| HttpError {
            op: req.op.clone(),
            method: req.method.clone(),
            path: path.clone(),
            status,
            detail,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.settings.attempts || !req.retry;
            match self.send_once(&req).await {
                Ok(resp) if (200..300).contains(&resp.status) => return Ok(resp),
                Ok(resp) => {
                    let wait = retry_wait(&resp, attempt, self.settings.max_wait);
                    match wait {
                        Some(wait) if !last => tokio::time::sleep(wait).await,
                        _ => return Err(fail(Some(resp.status), api_message(&resp.body))),
                    }
                }
                Err(SendError::Fatal(detail)) => return Err(fail(None, detail)),
                Err(SendError::Transient(detail)) => {
                    if last {
                        let tries = if attempt > 1 { format!(" (after {attempt} attempts)") } else { String::new() };
                        return Err(fail(None, format!("{detail}{tries}")));
                    }
                    tokio::time::sleep(backoff(attempt)).await;
                }
            }
        }
    }

    async fn send_once(&self, req: &Request<'_>) -> Result<Response, SendError> {
        let mut builder = self.client.request(req.method.clone(), &req.url);
        let auth = match req.auth {
            Auth::None => None,
            Auth::Scheme(scheme, token) => Some(format!("{scheme} {}", token.expose())),
            Auth::Raw(token) => Some(token.expose().to_string()),
        };
        if let Some(auth) = auth.map(Zeroizing::new) {
            let mut value = HeaderValue::from_str(&auth)
                .map_err(|_| SendError::Fatal("the token contains characters not allowed in a header".into()))?;
            value.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, value);
        }
        for (name, value) in &req.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &req.body {
            builder = builder.body(body.to_vec());
        }
        let mut resp = builder.send().await.map_err(|e| classify(&e, self.settings.timeout))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        // Room for the announced length up front: a growing buffer would leave
        // copies of the body (values included) in freed memory, and double it.
        let announced = resp.content_length().map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let mut body = Zeroizing::new(Vec::with_capacity(announced.min(self.settings.max_body)));
        while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e, self.settings.timeout))? {
            if body.len() + chunk.len() > self.settings.max_body {
                return Err(SendError::Fatal(format!(
                    "the response is larger than {} MiB",
                    self.settings.max_body >> 20
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response { status, headers, body })
    }
}

enum SendError {
    Transient(String),
    Fatal(String),
}

fn classify(err: &reqwest::Error, timeout: Duration) -> SendError {
    if err.is_timeout() {
        return SendError::Transient(format!("no answer within {}s", timeout.as_secs_f64()));
    }
    // The innermost cause says what actually went wrong ("connection refused");
    // reqwest's own message would add the URL, which we already name.
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let detail = secret::scrub(&cause.to_string());
    if err.is_connect() || err.is_request() || err.is_body() {
        let what = if err.is_connect() { "could not connect" } else { "the connection failed" };
        SendError::Transient(format!("{what}: {detail}"))
    } else {
        SendError::Fatal(detail)
    }
}

/// How long to wait before retrying a response, or `None` when it must not be
/// retried. 429 and 5xx are retried; so is 403 when the server says it is a
/// rate limit (GitHub's secondary limits).
fn retry_wait(resp: &Response, attempt: u32, max_wait: Duration) -> Option<Duration> {
    let rate_limited = resp.status == 403
        && (resp.headers.contains_key(RETRY_AFTER) || resp.header("x-ratelimit-remaining") == Some("0"));
    if !(resp.status == 429 || resp.status >= 500 || rate_limited) {
        return None;
    }
    let told = resp
        .header(RETRY_AFTER.as_str())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|s| Duration::from_secs_f64(s.max(0.0)))
        .or_else(|| {
            let reset = resp.header("x-ratelimit-reset")?.trim().parse::<u64>().ok()?;
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
            Some(Duration::from_secs(reset.saturating_sub(now) + 1))
        });
    match told {
        // A wait longer than we are willing to sit through is a failure now,
        // not a hang that ends in one.
        Some(wait) if wait > max_wait => None,
        Some(wait) => Some(wait),
        None => Some(backoff(attempt)),
    }
}

/// Exponential backoff with full jitter: 0.25 s, 0.5 s, 1 s, ... capped at 8 s.
fn backoff(attempt: u32) -> Duration {
    let cap = 250u64.saturating_mul(1 << attempt.min(5)).min(8_000);
    Duration::from_millis(cap / 2 + rand::random_range(0..=cap / 2))
}

fn path_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => u.path().to_string(),
        Err(_) => "(invalid URL)".to_string(),
    }
}

/// The human part of an API error body: ESC's `message` or `diagnostics`,
/// GitHub's `message`, OAuth's `error_description`, Fly's `error`.
fn api_message(body: &[u8]) -> String {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return if body.is_empty() { String::new() } else { format!("(a non-JSON body of {} bytes)", body.len()) };
    };
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let mut parts: Vec<String> = Vec::new();
    if let Some(m) = json.get("message").and_then(text) {
        parts.push(m);
    }
    if let Some(diags) = json.get("diagnostics").and_then(|d| d.as_array()) {
        for d in diags {
            if let Some(s) = d.get("summary").and_then(text) {
                let at = d
                    .get("range")
                    .and_then(|r| r.get("begin"))
                    .and_then(|b| Some(format!(" (line {}, column {})", b.get("line")?, b.get("column")?)))
                    .unwrap_or_default();
                parts.push(format!("{s}{at}"));
            }
        }
    }
    if let Some(e) = json.get("error").and_then(text) {
        let desc = json.get("error_description").and_then(text);
        parts.push(match desc {
            Some(d) => format!("{e}: {d}"),
            None => e,
        });
    }
    let mut joined = secret::scrub(&parts.join("; "));
    if joined.len() > 500 {
        let mut cut = 500;
        while !joined.is_char_boundary(cut) {
            cut -= 1;
        }
        joined.truncate(cut);
        joined.push('…');
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_messages_are_found_in_each_backend_shape() {
        assert_eq!(api_message(br#"{"message":"Not Found","code":404}"#), "Not Found");
        assert_eq!(
            api_message(br#"{"diagnostics":[{"summary":"unknown key","range":{"begin":{"line":3,"column":5}}}]}"#),
            "unknown key (line 3, column 5)"
        );
        assert_eq!(
            api_message(br#"{"error":"invalid_grant","error_description":"expired"}"#),
            "invalid_grant: expired"
        );
        assert_eq!(api_message(b"<html>oops</html>"), "(a non-JSON body of 17 bytes)");
    }

    #[test]
    fn api_messages_are_scrubbed() {
        secret::register(&Secret::new("http-canary-value"));
        let msg = api_message(br#"{"message":"bad value http-canary-value"}"#);
        assert!(!msg.contains("canary"), "{msg}");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..10 {
            let d = backoff(attempt).as_millis() as u64;
            let cap = (250u64 << attempt.min(5)).min(8_000);
            assert!(d >= cap / 2 && d <= cap, "attempt {attempt}: {d}");
        }
    }

    fn resp(status: u16, headers: &[(&'static str, &str)]) -> Response {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        Response { status, headers: map, body: Zeroizing::new(Vec::new()) }
    }

    #[test]
    fn retry_rules() {
        let max = Duration::from_secs(60);
        assert_eq!(retry_wait(&resp(429, &[("retry-after", "2")]), 1, max), Some(Duration::from_secs(2)));
        assert!(retry_wait(&resp(503, &[]), 1, max).is_some());
        assert!(retry_wait(&resp(404, &[]), 1, max).is_none());
        assert!(retry_wait(&resp(401, &[]), 1, max).is_none());
        assert!(retry_wait(&resp(403, &[]), 1, max).is_none());
        assert!(retry_wait(&resp(403, &[("retry-after", "1")]), 1, max).is_some());
        assert!(retry_wait(&resp(403, &[("x-ratelimit-remaining", "0")]), 1, max).is_some());
        assert!(retry_wait(&resp(429, &[("retry-after", "3600")]), 1, max).is_none());
    }
}
