//! The one HTTP client of escort: timeouts, retries with backoff and jitter,
//! `Retry-After`, a response size cap, proxies from the environment, and
//! errors that name the operation and status but never a token or a value.

mod gate;
mod tls;

pub use crate::error::HttpError;
use crate::secret::{self, Secret};
use crate::wiped::Wiped;
use gate::Gates;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use std::sync::Arc;
use std::time::Duration;

const USER_AGENT: &str = concat!("escort/", env!("CARGO_PKG_VERSION"));

/// Tuning knobs, from the environment (read by `settings.rs`) so tests and
/// slow networks can set them without a flag on every command.
#[derive(Clone, Debug)]
pub struct Settings {
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub attempts: u32,
    pub max_wait: Duration,
    pub max_body: usize,
    /// `ESCORT_ALLOW_HTTP=1`: plain HTTP to hosts other than this machine.
    pub allow_http: bool,
    /// Requests in flight at once per API host (the command's `--concurrency`).
    pub per_host: usize,
    /// The origin whose writes are paced (GitHub's API), and
    /// `ESCORT_GITHUB_WRITES_PER_MINUTE` (0: not paced).
    pub paced: Option<(String, usize)>,
    /// The proxy variables reqwest reads that are set, by name.
    pub proxies: Vec<(&'static str, String)>,
    /// `SSL_CERT_FILE` or `SSL_CERT_DIR` is set: the roots are read where they say (tls.rs).
    pub custom_roots: bool,
}

/// The knobs' environment variables as given (`None`: unset or not UTF-8).
#[derive(Default)]
pub struct Given {
    pub connect_timeout: Option<String>,
    pub timeout: Option<String>,
    pub retries: Option<String>,
    pub max_retry_wait: Option<String>,
    pub allow_http: Option<String>,
    pub github_writes_per_minute: Option<String>,
    pub proxies: Vec<(&'static str, String)>,
    pub custom_roots: bool,
}

impl Settings {
    /// The knobs from `given`, writes to the GitHub API at `github_api` paced.
    pub fn new(given: &Given, github_api: &str) -> Self {
        let secs = |value: &Option<String>, default: u64| {
            value.as_deref().and_then(seconds).unwrap_or(Duration::from_secs(default))
        };
        let per_minute = given
            .github_writes_per_minute
            .as_deref()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(gate::GITHUB_PER_MINUTE);
        Settings {
            connect_timeout: secs(&given.connect_timeout, 10),
            timeout: secs(&given.timeout, 30),
            attempts: given.retries.as_deref().and_then(|v| v.parse::<u32>().ok()).map(|r| r + 1).unwrap_or(4),
            max_wait: secs(&given.max_retry_wait, 60),
            max_body: 64 << 20,
            allow_http: given.allow_http.as_deref().is_some_and(|v| v.trim() == "1"),
            per_host: 4,
            paced: reqwest::Url::parse(github_api).ok().map(|u| (origin(&u), per_minute)),
            proxies: given.proxies.clone(),
            custom_roots: given.custom_roots,
        }
    }
}

/// The longest duration escort works with: about 136 years, far beyond any
/// wait it will sit through, yet small enough that adding it to "now" cannot
/// overflow a clock.
const MAX_DURATION: Duration = Duration::from_secs(u32::MAX as u64);

/// A non-negative number of seconds (`1.5`, `1e300`, `inf`), saturated at
/// `MAX_DURATION`; `None` for anything else (negative, NaN, not a number).
fn seconds(text: &str) -> Option<Duration> {
    let secs = text.trim().parse::<f64>().ok().filter(|s| *s >= 0.0)?;
    Some(Duration::try_from_secs_f64(secs).map_or(MAX_DURATION, |d| d.min(MAX_DURATION)))
}

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    /// Without proxies, for plain `http://` to this machine: a proxy elsewhere
    /// would see the token in clear. Built on first use (tests, local fakes).
    direct: Arc<tokio::sync::OnceCell<reqwest::Client>>,
    settings: Settings,
    gates: Arc<Gates>,
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
    pub body: Option<Wiped<Vec<u8>>>,
    /// Safe to send again after a failure (GET always is).
    pub retry: bool,
    /// Where the token came from (`ESC_TOKEN`, `pulumi login`...): named in
    /// `--verbose` lines and when the token is refused (401, 403).
    pub token_from: Option<&'a str>,
}

impl<'a> Request<'a> {
    pub fn new(op: impl Into<String>, method: Method, url: impl Into<String>) -> Self {
        let retry = method == Method::GET;
        let (auth, headers, body, token_from) = (Auth::None, Vec::new(), None, None);
        Request { op: op.into(), method, url: url.into(), auth, headers, body, retry, token_from }
    }

    pub fn auth(mut self, auth: Auth<'a>) -> Self {
        self.auth = auth;
        self
    }

    /// The token's source, to name when it is refused.
    pub fn token_from(mut self, source: &'a str) -> Self {
        self.token_from = Some(source);
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = Some(Wiped::new(body));
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
    pub body: Wiped<Vec<u8>>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Http {
    pub fn with_settings(settings: Settings) -> anyhow::Result<Self> {
        check_proxies(&settings.proxies)?;
        let client = client(&settings, false)?;
        let gates = Arc::new(Gates::new(settings.per_host, settings.paced.clone()));
        Ok(Http { client, direct: Arc::default(), settings, gates })
    }

    /// Send a request, retrying where that is safe. A non-2xx answer is an
    /// `HttpError`; callers that expect a status (404, 409) match on it.
    pub async fn send(&self, req: Request<'_>) -> Result<Response, HttpError> {
        let url = reqwest::Url::parse(&req.url).ok();
        let path = url.as_ref().map_or_else(|| "(invalid URL)".to_string(), |u| u.path().to_string());
        let shown = url.as_ref().map_or_else(|| "(invalid URL)".to_string(), shown_host);
        let fail = |status: Option<u16>, detail: String| HttpError {
            op: req.op.clone(),
            method: req.method.clone(),
            host: shown.clone(),
            path: path.clone(),
            token_from: req.token_from.filter(|_| matches!(status, Some(401 | 403))).map(str::to_string),
            status,
            detail,
            no_answer: false,
        };
        // `--verbose`: one line per attempt; the path, never the query (it can hold names
        // a reader need not see) or a header.
        let log = |attempt: u32, what: &str| {
            if crate::ui::verbose() {
                crate::ui::debug(&format!("{} {shown}{path} (attempt {attempt}): {what}", req.method));
            }
        };
        if let Some(refused) = url.as_ref().filter(|_| !self.settings.allow_http).and_then(plain_http_refused) {
            return Err(fail(None, refused));
        }
        let direct = url.as_ref().is_some_and(|u| u.scheme() == "http" && loopback(u));
        let host = self.gates.host(&url.as_ref().map(origin).unwrap_or_default());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.settings.attempts || !req.retry;
            let sent = {
                let _slot = host.enter(req.method != Method::GET).await;
                self.send_once(&req, direct).await
            };
            match &sent {
                Ok(resp) => log(attempt, &resp.status.to_string()),
                Err(SendError::Transient(detail) | SendError::Fatal(detail)) => log(attempt, detail),
            }
            match sent {
                Ok(resp) if (200..300).contains(&resp.status) => return Ok(resp),
                Ok(resp) if (300..400).contains(&resp.status) => {
                    return Err(fail(Some(resp.status), redirect_detail(url.as_ref(), &resp)));
                }
                Ok(resp) => {
                    let wait = retry_wait(&resp, attempt, self.settings.max_wait);
                    match wait {
                        Some(wait) if !last => {
                            log(attempt, &format!("waiting {:.1}s before attempt {}", wait.as_secs_f64(), attempt + 1));
                            if matches!(resp.status, 403 | 429) {
                                host.pause(wait);
                            }
                            tokio::time::sleep(wait).await
                        }
                        _ => return Err(fail(Some(resp.status), api_message(&resp.body))),
                    }
                }
                Err(SendError::Fatal(detail)) => return Err(fail(None, detail)),
                Err(SendError::Transient(detail)) => {
                    if last {
                        let tries = if attempt > 1 { format!(" (after {attempt} attempts)") } else { String::new() };
                        return Err(HttpError { no_answer: true, ..fail(None, format!("{detail}{tries}")) });
                    }
                    let wait = backoff(attempt);
                    log(attempt, &format!("waiting {:.1}s before attempt {}", wait.as_secs_f64(), attempt + 1));
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn send_once(&self, req: &Request<'_>, direct: bool) -> Result<Response, SendError> {
        let client = match direct {
            false => &self.client,
            true => self
                .direct
                .get_or_try_init(|| async { client(&self.settings, true) })
                .await
                .map_err(|e| SendError::Fatal(e.to_string()))?,
        };
        let mut builder = client.request(req.method.clone(), &req.url);
        let auth = match req.auth {
            Auth::None => None,
            Auth::Scheme(scheme, token) => Some(format!("{scheme} {}", token.expose())),
            Auth::Raw(token) => Some(token.expose().to_string()),
        };
        if let Some(auth) = auth.map(Wiped::new) {
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
        let mut body = Wiped::new(Vec::with_capacity(announced.min(self.settings.max_body)));
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
    // A TLS failure (a certificate that does not verify) is an answer, not
    // silence: anyone on the path could make one, so it must not count as
    // "unreachable" and set off a fallback (docs/security.md).
    if tls_failure(err) {
        return SendError::Fatal(format!("the TLS handshake failed: {detail}"));
    }
    if err.is_connect() || err.is_request() || err.is_body() {
        let what = if err.is_connect() { "could not connect" } else { "the connection failed" };
        SendError::Transient(format!("{what}: {detail}"))
    } else {
        SendError::Fatal(detail)
    }
}

/// Whether a rustls error is among the causes of `err` (an `io::Error` hides
/// the one it wraps from `source`, so those are opened too).
fn tls_failure(err: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(c) = cause {
        let inner = c.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref());
        if c.is::<rustls::Error>() || inner.is_some_and(|i| i.is::<rustls::Error>()) {
            return true;
        }
        cause = inner.map(|i| i as &(dyn std::error::Error + 'static)).or_else(|| c.source());
    }
    false
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
    let told = resp.header(RETRY_AFTER.as_str()).and_then(seconds).or_else(|| {
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

/// The opt-in for plain HTTP to a host other than this machine (docs/configuration.md).
const ALLOW_HTTP: &str = "ESCORT_ALLOW_HTTP";

/// The client: no redirects followed (one would carry the token and the body
/// to wherever it points; `send` reports it), and proxies from the
/// environment unless `direct`.
fn client(settings: &Settings, direct: bool) -> anyhow::Result<reqwest::Client> {
    // Our own TLS configuration (ring: small, pure enough for a static musl
    // build), whose roots are read on the first https connection (tls.rs).
    let tls = tls::client_config(settings.custom_roots).map_err(|e| anyhow::anyhow!("could not set up TLS: {e}"))?;
    let builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.timeout);
    let builder = if direct { builder.no_proxy() } else { builder };
    builder.build().map_err(|e| anyhow::anyhow!("could not set up the HTTP client: {}", e.without_url()))
}

/// Whether `url` names this machine.
fn loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Why a request must not go out: plain `http://` to anything but loopback
/// would send the token in clear (unless the user opted in: see `send`).
fn plain_http_refused(url: &reqwest::Url) -> Option<String> {
    if url.scheme() != "http" {
        return None;
    }
    (!loopback(url)).then(|| {
        format!(
            "refusing plain HTTP to {}: the token would travel in clear; use https:// (or set {ALLOW_HTTP}=1)",
            origin(url)
        )
    })
}

/// `scheme://host:port` of a URL: where a request goes, without its path,
/// query or user info.
fn origin(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// `scheme://host[:port]` as the user wrote it: the port only when not the
/// scheme's own. For messages; `origin` is for grouping requests.
fn shown_host(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// A 3xx is not followed (it would take the token and the body along): say
/// where it pointed, by origin only.
fn redirect_detail(from: Option<&reqwest::Url>, resp: &Response) -> String {
    let to = resp.header("location").and_then(|l| match from {
        Some(base) => base.join(l).ok(),
        None => reqwest::Url::parse(l).ok(),
    });
    match to {
        Some(to) => format!("redirected to {}, which escort does not follow for API calls", origin(&to)),
        None => "a redirect, which escort does not follow for API calls".to_string(),
    }
}

/// The proxy variables reqwest reads. A malformed one would be ignored
/// silently and the request sent direct: refuse it instead. The value is not
/// quoted, since it may hold a password.
fn check_proxies(proxies: &[(&'static str, String)]) -> anyhow::Result<()> {
    for (name, value) in proxies {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let full = if value.contains("://") { value.to_string() } else { format!("http://{value}") };
        // The URL parser takes (and encodes) a space or a quote that reqwest's
        // own proxy parser rejects, and then ignores the proxy: refuse those here.
        let raw_ok = !value.chars().any(|c| c.is_whitespace() || c.is_control() || "\"<>\\^`{|}".contains(c));
        let ok = raw_ok
            && reqwest::Url::parse(&full)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()));
        if !ok {
            return Err(crate::error::usage(format!(
                "{name} is not a proxy URL escort can use (http://HOST:PORT or https://HOST:PORT)"
            )));
        }
    }
    Ok(())
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
    let mut joined = secret::server_message(&parts.join("; "));
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
        Response { status, headers: map, body: Wiped::new(Vec::new()) }
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

    #[test]
    fn f05_huge_or_infinite_seconds_saturate() {
        let max = Duration::from_secs(60);
        for huge in ["1e300", "inf", "+infinity", "18446744073709551616"] {
            assert_eq!(seconds(huge), Some(MAX_DURATION), "{huge}");
            assert!(retry_wait(&resp(429, &[("retry-after", huge)]), 1, max).is_none(), "{huge}");
        }
        assert_eq!(seconds("0.25"), Some(Duration::from_millis(250)));
        for bad in ["-1", "NaN", "soon", ""] {
            assert_eq!(seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn f09_plain_http_only_to_loopback() {
        let refused = |u: &str| plain_http_refused(&reqwest::Url::parse(u).unwrap());
        for ok in [
            "https://api.example.com",
            "http://127.0.0.1:8080/x",
            "http://127.9.9.9",
            "http://[::1]:1/",
            "http://LOCALHOST",
        ] {
            assert_eq!(refused(ok), None, "{ok}");
        }
        let msg = refused("http://user:pw@api.example.com/api?q=1").unwrap();
        assert!(msg.contains("http://api.example.com:80:") && !msg.contains("pw") && !msg.contains("q=1"), "{msg}");
        assert!(refused("http://10.0.0.1").is_some() && refused("http://localhost.evil.com").is_some());
    }

    #[test]
    fn f08_redirects_name_only_the_origin() {
        let from = reqwest::Url::parse("http://127.0.0.1:1/api/x").unwrap();
        let r = resp(307, &[("location", "https://evil.example:8443/steal?token=abc")]);
        assert_eq!(
            redirect_detail(Some(&from), &r),
            "redirected to https://evil.example:8443, which escort does not follow for API calls"
        );
        let r = resp(302, &[("location", "/elsewhere")]);
        assert!(redirect_detail(Some(&from), &r).contains("http://127.0.0.1:1,"));
    }
}
