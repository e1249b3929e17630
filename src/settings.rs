//! Everything escort takes from its environment, read once at start and passed
//! down (docs/configuration.md). Nothing below `cli` reads an environment
//! variable of its own, except `escort run`'s child, which inherits them all,
//! and the `env` source, whose job is to read them.
//!
//! Reading a token is one of the two places a secret enters escort (the other
//! is a source's load): each token is registered here so that every message
//! escort shows is scrubbed of it.

use crate::error;
use crate::http::{self, Http};
use crate::secret::{self, Secret};
use crate::time::Timestamp;
use anyhow::Result;
use reqwest::Url;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::OnceLock;

pub const ESC_API: &str = "https://api.pulumi.com";
pub const GITHUB_API: &str = "https://api.github.com";
pub const FLY_API: &str = "https://api.machines.dev";

/// Every environment variable escort reads, by name: the one table of them
/// (docs/configuration.md), read by `Settings::from_vars` and nowhere else.
/// Not here: what the `env` source reads (every variable: that is its job),
/// what `escort run`'s child inherits, `ESCORT_AUDIT_LOG` (the `--audit-log`
/// flag's, which clap reads at the edge), and what libraries read on their own
/// (reqwest's proxies, which `PROXIES` checks first; `NO_COLOR`).
pub struct EnvVars;

impl EnvVars {
    /// ESC: the access token (`PULUMI_ACCESS_TOKEN` second).
    pub const ESC_TOKEN: &'static str = "ESC_TOKEN";
    /// ESC: the Pulumi CLI's name for the access token.
    pub const PULUMI_ACCESS_TOKEN: &'static str = "PULUMI_ACCESS_TOKEN";
    /// ESC: the API base (`PULUMI_BACKEND_URL` second).
    pub const ESC_API_URL: &'static str = "ESC_API_URL";
    /// ESC: the Pulumi CLI's backend, and which saved login to use.
    pub const PULUMI_BACKEND_URL: &'static str = "PULUMI_BACKEND_URL";
    /// ESC: the environment read when none is named.
    pub const ESC_ENV: &'static str = "ESC_ENV";
    /// ESC: the default organization (`PULUMI_ORG` second).
    pub const ESC_ORG: &'static str = "ESC_ORG";
    /// ESC: the Pulumi CLI's default organization.
    pub const PULUMI_ORG: &'static str = "PULUMI_ORG";
    /// Where the Pulumi CLI keeps `credentials.json` (else `PULUMI_HOME`, else `~/.pulumi`).
    pub const PULUMI_CREDENTIALS_PATH: &'static str = "PULUMI_CREDENTIALS_PATH";
    /// The Pulumi CLI's home.
    pub const PULUMI_HOME: &'static str = "PULUMI_HOME";
    /// The user's home, for `~/.pulumi`.
    pub const HOME: &'static str = "HOME";
    /// GitHub: the token (`GH_TOKEN` second, else `gh auth token`).
    pub const GITHUB_TOKEN: &'static str = "GITHUB_TOKEN";
    /// GitHub: the GitHub CLI's name for the token.
    pub const GH_TOKEN: &'static str = "GH_TOKEN";
    /// GitHub: the API base (GitHub Enterprise); also which host a checkout's remote must be on.
    pub const GITHUB_API_URL: &'static str = "GITHUB_API_URL";
    /// Fly.io: the token.
    pub const FLY_API_TOKEN: &'static str = "FLY_API_TOKEN";
    /// Fly.io: the Machines API base.
    pub const FLY_API_URL: &'static str = "FLY_API_URL";
    /// `true` in a GitHub Actions job.
    pub const GITHUB_ACTIONS: &'static str = "GITHUB_ACTIONS";
    /// The job's file of environment variables for the next steps.
    pub const GITHUB_ENV: &'static str = "GITHUB_ENV";
    /// The step's outputs file.
    pub const GITHUB_OUTPUT: &'static str = "GITHUB_OUTPUT";
    /// The step's Markdown summary file.
    pub const GITHUB_STEP_SUMMARY: &'static str = "GITHUB_STEP_SUMMARY";
    /// The runner's temporary directory (ESC files of a job).
    pub const RUNNER_TEMP: &'static str = "RUNNER_TEMP";
    /// OIDC: where the runner hands out ID tokens.
    pub const ACTIONS_ID_TOKEN_REQUEST_URL: &'static str = "ACTIONS_ID_TOKEN_REQUEST_URL";
    /// OIDC: the token that asks for one.
    pub const ACTIONS_ID_TOKEN_REQUEST_TOKEN: &'static str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
    /// The run, for the audit log.
    pub const GITHUB_RUN_ID: &'static str = "GITHUB_RUN_ID";
    /// Who started the run, for the audit log.
    pub const GITHUB_ACTOR: &'static str = "GITHUB_ACTOR";
    /// The run's repository, for the audit log.
    pub const GITHUB_REPOSITORY: &'static str = "GITHUB_REPOSITORY";
    /// The user's runtime directory: where ESC files go outside a job.
    pub const XDG_RUNTIME_DIR: &'static str = "XDG_RUNTIME_DIR";
    /// Reports as of this instant (RFC 3339): reproducible reports.
    pub const ESCORT_NOW: &'static str = "ESCORT_NOW";
    /// A workflow's secrets as one JSON object, for the `github-secrets` source.
    pub const ESCORT_GITHUB_SECRETS: &'static str = "ESCORT_GITHUB_SECRETS";
    /// `debug`: what `--verbose` shows (docs/configuration.md, "Debugging").
    pub const ESCORT_LOG: &'static str = "ESCORT_LOG";
    /// HTTP: seconds to connect (default 10).
    pub const ESCORT_CONNECT_TIMEOUT: &'static str = "ESCORT_CONNECT_TIMEOUT";
    /// HTTP: seconds per request (default 30).
    pub const ESCORT_TIMEOUT: &'static str = "ESCORT_TIMEOUT";
    /// HTTP: retries after the first try (default 3).
    pub const ESCORT_RETRIES: &'static str = "ESCORT_RETRIES";
    /// HTTP: the longest wait between tries, in seconds (default 60).
    pub const ESCORT_MAX_RETRY_WAIT: &'static str = "ESCORT_MAX_RETRY_WAIT";
    /// HTTP: `1` allows plain HTTP to hosts other than this machine.
    pub const ESCORT_ALLOW_HTTP: &'static str = "ESCORT_ALLOW_HTTP";
    /// HTTP: GitHub writes per minute (0: not paced).
    pub const ESCORT_GITHUB_WRITES_PER_MINUTE: &'static str = "ESCORT_GITHUB_WRITES_PER_MINUTE";
    /// Where the TLS roots are, when not the system's usual places (read by
    /// rustls-native-certs when either is set).
    pub const CERTS: [&'static str; 2] = ["SSL_CERT_FILE", "SSL_CERT_DIR"];
    /// The proxy variables reqwest reads, checked before the first request.
    pub const PROXIES: [&'static str; 6] =
        ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];
}

/// A service's API base and the token escort holds for it.
#[derive(Clone, Debug)]
pub struct Service {
    /// The API base as given (checked when a client is made from it).
    pub api: String,
    pub token: Option<Secret>,
    /// Where the token came from (`ESC_TOKEN`, `pulumi login`...), for
    /// `--verbose` and for the errors of a refused token; never the token.
    /// Without a token: why one that was found is not used.
    pub token_source: Option<String>,
    /// GitHub without a token in the environment: the host to ask `gh auth
    /// token` about, when a token is first needed (docs/configuration.md).
    pub gh_host: Option<String>,
}

impl Service {
    /// The API base as a URL to which path segments can be added.
    pub fn api_url(&self, variable: &str) -> Result<Url> {
        Url::parse(self.api.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| error::usage(format!("{variable} `{}` is not an http(s) URL", self.api)))
    }

    /// Where the token `token` returns comes from, said in a few words.
    pub fn token_source(&self) -> String {
        match (&self.token_source, &self.gh_host) {
            (Some(source), _) if self.token.is_some() => source.clone(),
            (None, Some(host)) => format!("`gh auth token --hostname {host}`"),
            _ => "nowhere".to_string(),
        }
    }

    /// The token, or a usage error saying how to give one.
    pub fn token(&self, missing: &str) -> Result<&Secret> {
        if let Some(token) = &self.token {
            crate::ui::debug(&format!("token for {} from {}", self.api, self.token_source()));
            return Ok(token);
        }
        match &self.gh_host {
            Some(host) => gh_token(host)
                .inspect(|_| crate::ui::debug(&format!("token for {} from {}", self.api, self.token_source())))
                .ok_or_else(|| error::usage(format!("{missing}, or log in with `gh auth login --hostname {host}`"))),
            None => Err(error::usage(match &self.token_source {
                Some(unused) => format!("{missing} ({unused})"),
                None => missing.to_string(),
            })),
        }
    }
}

/// `gh auth token --hostname HOST`, run at most once per process: the GitHub
/// CLI's stored token. A missing `gh`, or one not logged in, gives none.
fn gh_token(host: &str) -> Option<&'static Secret> {
    static GH: OnceLock<Option<Secret>> = OnceLock::new();
    GH.get_or_init(|| {
        let out = run_tool("gh", &["auth", "token", "--hostname", host])?;
        let token = Secret::new(String::from_utf8(out).ok()?.trim().to_string());
        (!token.expose().is_empty()).then(|| {
            secret::register(&token);
            token
        })
    })
    .as_ref()
}

/// How long a helper program (`gh`, `git`) may take before escort gives up on it.
const TOOL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// `program` on the absolute entries of `PATH` only: an empty or relative
/// entry means the working directory, where a checkout could plant a `gh`
/// that hands out a token of its choosing.
fn tool(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).filter(|dir| dir.is_absolute()).map(|dir| dir.join(program)).find(|exe| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(exe).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        exe.is_file()
    })
}

/// The standard output of `program ARGS` when it succeeds within
/// `TOOL_TIMEOUT` (a `gh` that never returns must not hang escort); `None`
/// otherwise, the program then killed.
fn run_tool(program: &str, args: &[&str]) -> Option<Vec<u8>> {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = std::process::Command::new(tool(program)?)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let read = (&mut stdout).take(1 << 20).read_to_end(&mut out);
        let _ = tx.send(read.map(|_| out));
    });
    let deadline = std::time::Instant::now() + TOOL_TIMEOUT;
    let out = rx.recv_timeout(TOOL_TIMEOUT).ok().and_then(Result::ok);
    // Its output ended; it may still not exit.
    let mut status = None;
    while out.is_some() && status.is_none() && std::time::Instant::now() < deadline {
        status = child.try_wait().ok()?;
        if status.is_none() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    status.filter(|s| s.success()).and(out)
}

/// The web host of a GitHub API base: `api.github.com` and GHE.com's
/// `api.SUB.ghe.com` serve `github.com` and `SUB.ghe.com`; GitHub Enterprise
/// Server serves its API on its own host (`https://HOST/api/v3`).
pub fn github_web_host(api: &str) -> Option<String> {
    let host = Url::parse(api.trim()).ok()?.host_str()?.to_ascii_lowercase();
    Some(host.strip_prefix("api.").map_or(host.clone(), str::to_string))
}

/// `OWNER/REPO` of a git remote URL on `host` (https, `ssh://` and scp-like
/// `git@HOST:OWNER/REPO.git` forms); `None` for a remote elsewhere.
pub fn remote_repository(remote: &str, host: &str) -> Option<String> {
    let remote = remote.trim();
    let (remote_host, path) = match Url::parse(remote) {
        Ok(url) if matches!(url.scheme(), "https" | "http" | "ssh" | "git") => {
            (url.host_str()?.to_ascii_lowercase(), url.path().to_string())
        }
        // scp-like: [user@]host:path (a URL parser reads `git@host` as a scheme-less oddity).
        _ => {
            let (left, path) = remote.split_once(':')?;
            let remote_host = left.rsplit_once('@').map_or(left, |(_, h)| h);
            (remote_host.to_ascii_lowercase(), path.to_string())
        }
    };
    if remote_host != host {
        return None;
    }
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let (owner, repo) = path.split_once('/')?;
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    (plain(owner) && plain(repo) && repo != "." && repo != "..").then(|| format!("{owner}/{repo}"))
}

/// The GitHub repository of the checkout in the working directory, from
/// `git remote get-url origin`, for a `github:` target that names none. A
/// remote on another host than the API's (`api`, `GITHUB_API_URL`) is refused:
/// its secrets would go to a repository the user did not name.
fn checkout_repository(api: &str) -> Result<String, String> {
    let host = github_web_host(api).ok_or_else(|| format!("GITHUB_API_URL `{api}` is not an http(s) URL"))?;
    let remote = match run_tool("git", &["remote", "get-url", "origin"]) {
        Some(out) => String::from_utf8_lossy(&out).trim().to_string(),
        None => {
            return Err("`github:` without OWNER/REPO means this checkout's GitHub repository, but there is \
                        no git remote `origin` here: name it, as github:OWNER/REPO"
                .to_string());
        }
    };
    remote_repository(&remote, &host).ok_or_else(|| {
        format!(
            "`github:` without OWNER/REPO means this checkout's GitHub repository, but the remote `origin` \
             ({}) is not a repository on {host} (GITHUB_API_URL): name it, as github:OWNER/REPO",
            crate::ui::escape(&strip_userinfo(&remote))
        )
    })
}

/// A remote URL without the `user:password@` an https remote may carry.
fn strip_userinfo(remote: &str) -> String {
    match Url::parse(remote) {
        Ok(mut url) if url.password().is_some() || !url.username().is_empty() => {
            let _ = url.set_password(None);
            let _ = url.set_username("");
            url.to_string()
        }
        _ => remote.to_string(),
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
    /// `GITHUB_STEP_SUMMARY`: the step's Markdown summary (docs/load.md, "Step summaries").
    pub step_summary: Option<PathBuf>,
    /// `GITHUB_RUN_ID`, `GITHUB_ACTOR`, `GITHUB_REPOSITORY`: the run, for the audit log.
    pub run_id: Option<String>,
    pub actor: Option<String>,
    pub repository: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub http: http::Settings,
    /// `XDG_RUNTIME_DIR`, when it is a directory.
    pub runtime_dir: Option<PathBuf>,
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
    /// `ESCORT_LOG=debug`: what `--verbose` shows (docs/configuration.md, "Debugging").
    pub debug: bool,
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
        // The first of `names` that is set: its token, and its name as the token's source.
        let named_token = |names: &[&str]| {
            names.iter().find_map(|n| {
                text(n).map(|t| {
                    let token = Secret::new(t);
                    secret::register(&token);
                    (token, n.to_string())
                })
            })
        };
        let token = |names: &[&str]| named_token(names).map(|(token, _)| token);
        let path = |name: &str| get(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let now = match text(EnvVars::ESCORT_NOW) {
            None => None,
            Some(given) => Some(Timestamp::parse(&given).ok_or_else(|| {
                error::usage(format!("ESCORT_NOW `{given}` is not an RFC 3339 time such as 2026-01-01T00:00:00Z"))
            })?),
        };
        let github_api = text(EnvVars::GITHUB_API_URL).unwrap_or_else(|| GITHUB_API.to_string());
        let (github_token, github_source) = named_token(&[EnvVars::GITHUB_TOKEN, EnvVars::GH_TOKEN]).unzip();
        let fly = named_token(&[EnvVars::FLY_API_TOKEN]);
        Ok(Settings {
            http: http::Settings::new(&http_given(&get), &github_api),
            esc_env: text(EnvVars::ESC_ENV),
            esc_org: first(&[EnvVars::ESC_ORG, EnvVars::PULUMI_ORG]),
            esc: match named_token(&[EnvVars::ESC_TOKEN, EnvVars::PULUMI_ACCESS_TOKEN]) {
                Some((token, source)) => Service {
                    api: first(&[EnvVars::ESC_API_URL, EnvVars::PULUMI_BACKEND_URL])
                        .unwrap_or_else(|| ESC_API.to_string()),
                    token: Some(token),
                    token_source: Some(source),
                    gh_host: None,
                },
                None => pulumi_login(&text),
            },
            github: Service {
                gh_host: github_token.is_none().then(|| github_web_host(&github_api)).flatten(),
                api: github_api,
                token: github_token,
                token_source: github_source,
            },
            fly: Service {
                api: text(EnvVars::FLY_API_URL).unwrap_or_else(|| FLY_API.to_string()),
                token_source: fly.as_ref().map(|(_, source)| source.clone()),
                token: fly.map(|(token, _)| token),
                gh_host: None,
            },
            runner: Runner {
                active: text(EnvVars::GITHUB_ACTIONS).as_deref() == Some("true"),
                env_file: path(EnvVars::GITHUB_ENV),
                output_file: path(EnvVars::GITHUB_OUTPUT),
                temp: path(EnvVars::RUNNER_TEMP),
                id_token_url: text(EnvVars::ACTIONS_ID_TOKEN_REQUEST_URL),
                id_token_request: token(&[EnvVars::ACTIONS_ID_TOKEN_REQUEST_TOKEN]),
                step_summary: path(EnvVars::GITHUB_STEP_SUMMARY),
                run_id: text(EnvVars::GITHUB_RUN_ID),
                actor: text(EnvVars::GITHUB_ACTOR),
                repository: text(EnvVars::GITHUB_REPOSITORY),
            },
            // The user's own directory, emptied when the session ends: where ESC files go.
            runtime_dir: path(EnvVars::XDG_RUNTIME_DIR).filter(|p| p.is_absolute() && p.is_dir()),
            now,
            // The whole object, as one secret: its values are registered when read.
            github_secrets: text(EnvVars::ESCORT_GITHUB_SECRETS).map(Secret::new),
            debug: text(EnvVars::ESCORT_LOG).is_some_and(|v| v.eq_ignore_ascii_case("debug")),
        })
    }
}

/// The HTTP knobs as given: raw text (the client parses it), as
/// `std::env::var` would have it.
fn http_given(get: &impl Fn(&str) -> Option<OsString>) -> http::Given {
    let raw = |name: &str| get(name).and_then(|v| v.into_string().ok());
    http::Given {
        connect_timeout: raw(EnvVars::ESCORT_CONNECT_TIMEOUT),
        timeout: raw(EnvVars::ESCORT_TIMEOUT),
        retries: raw(EnvVars::ESCORT_RETRIES),
        max_retry_wait: raw(EnvVars::ESCORT_MAX_RETRY_WAIT),
        allow_http: raw(EnvVars::ESCORT_ALLOW_HTTP),
        github_writes_per_minute: raw(EnvVars::ESCORT_GITHUB_WRITES_PER_MINUTE),
        proxies: EnvVars::PROXIES.iter().filter_map(|name| Some((*name, raw(name)?))).collect(),
        custom_roots: EnvVars::CERTS.iter().any(|name| get(name).is_some()),
    }
}

/// ESC without a token in the environment: the account `pulumi login` saved
/// (docs/configuration.md). The Pulumi CLI keeps `credentials.json` in
/// `PULUMI_CREDENTIALS_PATH`, else `PULUMI_HOME`, else `~/.pulumi`; the
/// account is `PULUMI_BACKEND_URL`'s, else the `current` one. Its URL is the
/// API base unless `ESC_API_URL` names another, and then the saved token is
/// not used: it is never sent to a service it was not issued by. A missing
/// or unreadable file gives no token (the error asking for one says how).
fn pulumi_login(text: &impl Fn(&str) -> Option<String>) -> Service {
    let backend = text(EnvVars::PULUMI_BACKEND_URL);
    let given_api = text(EnvVars::ESC_API_URL);
    let api = given_api.clone().or_else(|| backend.clone());
    let folder = text(EnvVars::PULUMI_CREDENTIALS_PATH)
        .or_else(|| text(EnvVars::PULUMI_HOME))
        .map(PathBuf::from)
        .or_else(|| text(EnvVars::HOME).map(|home| PathBuf::from(home).join(".pulumi")));
    let file = folder.map(|f| f.join("credentials.json"));
    let account = file.as_ref().and_then(|f| saved_account(f, backend.as_deref()));
    let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
    match account {
        Some((url, token)) if api.as_deref().is_none_or(|api| same(api, &url)) => {
            secret::register(&token);
            let source = format!(
                "the `pulumi login` saved in {}",
                file.as_ref().map_or(String::new(), |f| f.display().to_string())
            );
            Service { api: url, token: Some(token), token_source: Some(source), gh_host: None }
        }
        // A login for another backend is never sent to this one: say so rather than "no token".
        Some((url, _)) => Service {
            token_source: Some(format!(
                "the `pulumi login` saved in {} is for {url}, not {}, so it is not sent there",
                file.as_ref().map_or(String::new(), |f| f.display().to_string()),
                api.as_deref().unwrap_or(ESC_API)
            )),
            api: api.unwrap_or_else(|| ESC_API.to_string()),
            token: None,
            gh_host: None,
        },
        None => {
            Service { api: api.unwrap_or_else(|| ESC_API.to_string()), token: None, token_source: None, gh_host: None }
        }
    }
}

/// The backend URL and access token of `key`'s account (default: `current`)
/// in a Pulumi CLI credentials file; only http(s) backends, which serve ESC.
fn saved_account(path: &std::path::Path, key: Option<&str>) -> Option<(String, Secret)> {
    #[derive(serde::Deserialize)]
    struct Account {
        #[serde(rename = "accessToken")]
        access_token: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Credentials {
        current: Option<String>,
        #[serde(default, rename = "accessTokens")]
        access_tokens: std::collections::HashMap<String, String>,
        #[serde(default)]
        accounts: std::collections::HashMap<String, Account>,
    }
    let text = crate::wiped::Wiped::new(std::fs::read(path).ok()?);
    let mut creds: Credentials = serde_json::from_slice(&text).ok()?;
    let url = key.map(str::to_string).or(creds.current.take())?;
    if !url.starts_with("https://") && !url.starts_with("http://") {
        return None;
    }
    let token = creds
        .accounts
        .remove(&url)
        .and_then(|a| a.access_token)
        .or_else(|| creds.access_tokens.remove(&url))
        .filter(|t| !t.trim().is_empty())?;
    Some((url, Secret::new(token.trim().to_string())))
}

/// What every command is given: the settings, and the process's one HTTP
/// client, made on first use (`load --demo` and `template` never need one).
pub struct Context {
    pub settings: Settings,
    http: OnceLock<Http>,
    checkout: OnceLock<Result<String, String>>,
}

impl Context {
    pub fn new(settings: Settings) -> Self {
        Context { settings, http: OnceLock::new(), checkout: OnceLock::new() }
    }

    /// The GitHub repository of the checkout in the working directory, asked
    /// of git at most once per run, when a `github:` target names none.
    pub fn checkout_repository(&self) -> Result<String, String> {
        self.checkout.get_or_init(|| checkout_repository(&self.settings.github.api)).clone()
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
    fn remotes_name_a_repository_on_the_api_host_only() {
        assert_eq!(github_web_host(GITHUB_API).as_deref(), Some("github.com"));
        assert_eq!(github_web_host("https://api.acme.ghe.com").as_deref(), Some("acme.ghe.com"));
        assert_eq!(github_web_host("https://git.corp.example/api/v3").as_deref(), Some("git.corp.example"));
        for remote in [
            "https://github.com/acme/app.git",
            "https://x-access-token:abc@github.com/acme/app",
            "git@github.com:acme/app.git",
            "ssh://git@github.com:22/acme/app.git",
            "GitHub.com:acme/app/",
        ] {
            assert_eq!(remote_repository(remote, "github.com").as_deref(), Some("acme/app"), "{remote}");
        }
        for remote in [
            "git@gitlab.com:acme/app.git",
            "https://github.com.evil.example/acme/app",
            "https://github.com/acme",
            "https://github.com/acme/app/extra",
            "/srv/git/app.git",
            "git@github.com:acme/..",
        ] {
            assert_eq!(remote_repository(remote, "github.com"), None, "{remote}");
        }
        assert_eq!(strip_userinfo("https://u:tok@github.com/a/b"), "https://github.com/a/b");
    }

    #[test]
    fn the_saved_pulumi_login_is_a_token_for_its_own_backend_only() {
        let home = tempfile::tempdir().unwrap();
        let folder = home.path().join(".pulumi");
        std::fs::create_dir_all(&folder).unwrap();
        let creds = r#"{"current": "https://api.pulumi.com",
            "accessTokens": {"https://api.pulumi.com": "pul-old", "https://pulumi.corp": "pul-corp-canary"},
            "accounts": {"https://api.pulumi.com": {"accessToken": "pul-saved-canary", "username": "u"}}}"#;
        std::fs::write(folder.join("credentials.json"), creds).unwrap();
        let home_dir = home.path().to_str().unwrap();
        let s = settings(&[("HOME", home_dir)]).unwrap();
        assert_eq!(s.esc.token.as_ref().unwrap().expose(), "pul-saved-canary", "accounts before accessTokens");
        assert_eq!(s.esc.api, "https://api.pulumi.com");
        assert!(!secret::scrub("pul-saved-canary").contains("canary"), "registered");
        // PULUMI_BACKEND_URL chooses the account, and is the API.
        let s = settings(&[("HOME", home_dir), ("PULUMI_BACKEND_URL", "https://pulumi.corp/")]).unwrap();
        assert!(s.esc.token.is_none(), "the trailing slash is another key, as for the Pulumi CLI");
        let s = settings(&[("HOME", home_dir), ("PULUMI_BACKEND_URL", "https://pulumi.corp")]).unwrap();
        assert_eq!(
            (s.esc.token.as_ref().unwrap().expose(), s.esc.api.as_str()),
            ("pul-corp-canary", "https://pulumi.corp")
        );
        // Another API: no saved token goes there.
        let s = settings(&[("HOME", home_dir), ("ESC_API_URL", "https://esc.example")]).unwrap();
        assert!(s.esc.token.is_none() && s.esc.api == "https://esc.example");
        // A token in the environment wins; a file that is not JSON gives nothing.
        let s = settings(&[("HOME", home_dir), ("ESC_TOKEN", "env-token")]).unwrap();
        assert_eq!(s.esc.token.as_ref().unwrap().expose(), "env-token");
        std::fs::write(folder.join("credentials.json"), "{not json").unwrap();
        assert!(settings(&[("HOME", home_dir)]).unwrap().esc.token.is_none());
        // A local backend serves no ESC.
        std::fs::write(
            folder.join("credentials.json"),
            r#"{"current": "file://~", "accessTokens": {"file://~": "x"}}"#,
        )
        .unwrap();
        assert!(settings(&[("PULUMI_HOME", folder.to_str().unwrap())]).unwrap().esc.token.is_none());
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

    #[test]
    fn the_http_knobs_come_from_the_same_table() {
        let s = settings(&[
            (EnvVars::ESCORT_TIMEOUT, "5"),
            (EnvVars::ESCORT_RETRIES, "0"),
            (EnvVars::ESCORT_ALLOW_HTTP, " 1 "),
            (EnvVars::ESCORT_GITHUB_WRITES_PER_MINUTE, "7"),
            ("HTTPS_PROXY", "proxy.example:3128"),
        ])
        .unwrap();
        assert_eq!(s.http.timeout, std::time::Duration::from_secs(5));
        assert_eq!(s.http.attempts, 1);
        assert!(s.http.allow_http);
        assert_eq!(s.http.paced, Some(("https://api.github.com:443".to_string(), 7)));
        assert_eq!(s.http.proxies, [("HTTPS_PROXY", "proxy.example:3128".to_string())]);
        assert_eq!(settings(&[]).unwrap().http.attempts, 4);
    }

    /// Nothing but this file reads the environment (the `env` source aside,
    /// whose job it is), so `EnvVars` is the whole list.
    #[test]
    fn no_other_file_reads_an_environment_variable() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    if ["env::var(", "env::var_os(", "env::vars(", "env::vars_os("]
                        .iter()
                        .any(|call| text.contains(call))
                    {
                        found.push(path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().display().to_string());
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
        found.sort();
        assert_eq!(found, ["src/settings.rs", "src/source/env.rs"]);
    }
}
