//! Fallbacks: the saved `pulumi login` token, `gh auth token`, the checkout's
//! GitHub remote as the default repository, and `--fallback` when ESC is down
//! (docs/configuration.md and "When ESC is down").

use crate::common::{Fake, assert_absent, escort};
use crate::github_support;
use serde_json::{Value, json};
use std::path::Path;

const TOKEN: &str = "tok-fallback-canary-7f3a";
const VALUE: &str = "esc-value-canary-91c2";
const BACKUP: &str = "backup-value-canary-55e0";

fn esc_fake(faults: Value) -> Fake {
    Fake::esc(&json!({
        "token": TOKEN,
        "default_org": "acme",
        "environments": {"acme/app/dev": {"values": {"environmentVariables": {"A": {"fn::secret": VALUE}}}}},
        "faults": faults,
    }))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `escort load` against `url`, in `dir`, with one retry.
fn load_at(url: &str, dir: &Path) -> assert_cmd::Command {
    let mut cmd = escort();
    cmd.current_dir(dir)
        .env("ESC_API_URL", url)
        .env("ESC_TOKEN", TOKEN)
        .env("ESC_ENV", "acme/app/dev")
        .env("ESCORT_RETRIES", "1")
        .args(["load", "--format", "json"]);
    cmd
}

/// A directory with `backup.env` (A, B) and `second.env` (A, C).
fn backups() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("backup.env"), format!("A={BACKUP}\nB=from-backup\n")).unwrap();
    std::fs::write(dir.path().join("second.env"), "A=from-second\nC=from-second\n").unwrap();
    dir
}

/// A URL on which nothing listens.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

#[test]
fn esc_answering_503_falls_back_to_the_sources_in_order_with_a_warning() {
    let fake = esc_fake(json!([{"op": "open", "status": 503, "times": -1}]));
    let dir = backups();
    let out =
        load_at(&fake.url, dir.path()).args(["--fallback", "dotenv:backup.env,dotenv:second.env"]).assert().success();
    let got: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(
        got,
        json!({"A": BACKUP, "B": "from-backup", "C": "from-second"}),
        "the first source to have a name wins"
    );
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("warning: esc:acme/app/dev could not be reached"), "{stderr}");
    assert!(stderr.contains("503 Service Unavailable"), "names the failure: {stderr}");
    assert!(stderr.contains("the fallback dotenv:backup.env, dotenv:second.env"), "{stderr}");
    assert_absent(&out.get_output().stderr, &[TOKEN, VALUE, BACKUP], "fallback warning");
    assert_eq!(fake.requests().len(), 2, "one retry of the open, then the fallback");
}

#[test]
fn without_fallback_the_failure_stays() {
    let fake = esc_fake(json!([{"op": "open", "status": 503, "times": -1}]));
    let dir = backups();
    let out = load_at(&fake.url, dir.path()).assert().code(3);
    assert!(out.get_output().stdout.is_empty());
    assert!(text(&out.get_output().stderr).contains("503"));
    assert_absent(&out.get_output().stderr, &[TOKEN, VALUE], "503 error");
}

#[test]
fn a_closed_port_falls_back_to_the_environment() {
    let dir = backups();
    let url = closed_port();
    let out = load_at(&url, dir.path())
        .env("A", BACKUP)
        .env("B", "from-env")
        .args(["--fallback", "env", "--keys", "A,B"])
        .assert()
        .success();
    let got: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(got, json!({"A": BACKUP, "B": "from-env"}));
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("could not connect") && stderr.contains("the fallback env"), "{stderr}");
    assert_absent(&out.get_output().stderr, &[TOKEN, BACKUP], "closed port warning");

    // Without --fallback: exit 3, as before.
    load_at(&url, dir.path()).assert().code(3);
}

#[test]
fn refusals_never_fall_back() {
    let dir = backups();
    for status in [401, 403, 404] {
        let fake = esc_fake(json!([{"op": "open", "status": status, "times": -1}]));
        let out = load_at(&fake.url, dir.path()).args(["--fallback", "dotenv:backup.env"]).assert().code(3);
        assert!(out.get_output().stdout.is_empty(), "{status}");
        let stderr = text(&out.get_output().stderr);
        assert!(!stderr.contains("fallback"), "{status}: {stderr}");
        assert_absent(&out.get_output().stderr, &[TOKEN, BACKUP], "refusal");
    }
    // A usage error (no token) neither.
    let fake = esc_fake(json!([]));
    load_at(&fake.url, dir.path()).env_remove("ESC_TOKEN").args(["--fallback", "dotenv:backup.env"]).assert().code(2);
}

#[test]
fn bad_fallbacks_are_usage_errors_before_any_request() {
    let fake = esc_fake(json!([]));
    let dir = backups();
    for args in [&["--fallback", "esc:acme/app/prod"][..], &["--fallback", "vault"], &["--fallback", "env"]] {
        let out = load_at(&fake.url, dir.path()).args(args).assert().code(2);
        assert!(text(&out.get_output().stderr).contains("fallback"), "{args:?}");
    }
    assert!(fake.requests().is_empty());
    // A fallback that cannot be read either: the error names both.
    let fake = esc_fake(json!([{"op": "open", "status": 500, "times": -1}]));
    let out = load_at(&fake.url, dir.path()).args(["--fallback", "dotenv:missing.env"]).assert().code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("the fallback dotenv:missing.env could not be read either"), "{stderr}");
}

#[test]
fn run_falls_back_with_an_annotation_in_a_job_and_redacts_the_fallback_values() {
    let fake = esc_fake(json!([{"op": "open", "status": 502, "times": -1}]));
    let dir = backups();
    let out = escort()
        .current_dir(dir.path())
        .env("ESC_API_URL", &fake.url)
        .env("ESC_TOKEN", TOKEN)
        .env("ESCORT_RETRIES", "0")
        .env("GITHUB_ACTIONS", "true")
        .args(["run", "--env", "acme/app/dev", "--fallback", "dotenv:backup.env", "--", "sh", "-c"])
        .arg("echo \"A=$A B=$B\"")
        .assert()
        .success();
    assert_eq!(text(&out.get_output().stdout), "A=*** B=***\n", "the child got the fallback's values, redacted");
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.starts_with("::warning::esc:acme/app/dev could not be reached"), "{stderr}");
    assert!(stderr.contains("502 Bad Gateway"), "{stderr}");
    assert_absent(&out.get_output().stderr, &[TOKEN, BACKUP], "run fallback");
}

/// A fake HOME whose `.pulumi/credentials.json` logs in to `url` with `token`.
fn pulumi_home(url: &str, token: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".pulumi")).unwrap();
    let creds = json!({
        "current": url,
        "accessTokens": {url: token},
        "accounts": {url: {"accessToken": token, "username": "alice", "organizations": ["acme"]}},
    });
    std::fs::write(home.path().join(".pulumi/credentials.json"), creds.to_string()).unwrap();
    home
}

#[test]
fn the_pulumi_login_token_and_backend_are_used_when_no_token_is_set() {
    let fake = esc_fake(json!([]));
    let home = pulumi_home(&fake.url, TOKEN);
    let load = || {
        let mut cmd = escort();
        cmd.env_remove("PULUMI_HOME").env("ESC_ENV", "acme/app/dev").args(["load", "--format", "json"]);
        cmd
    };
    let out = load().env("HOME", home.path()).assert().success();
    assert_eq!(serde_json::from_slice::<Value>(&out.get_output().stdout).unwrap(), json!({"A": VALUE}));
    assert_absent(&out.get_output().stderr, &[TOKEN], "credentials.json login");

    // PULUMI_HOME moves the folder.
    let elsewhere = tempfile::tempdir().unwrap();
    load().env("HOME", elsewhere.path()).env("PULUMI_HOME", home.path().join(".pulumi")).assert().success();

    // The saved token is never sent to another API than its own.
    let other = esc_fake(json!([]));
    let out = load().env("HOME", home.path()).env("ESC_API_URL", &other.url).assert().code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("no ESC token"), "{stderr}");
    assert!(other.requests().is_empty() && !stderr.contains(TOKEN));

    // ESC_TOKEN still comes first: a wrong one is refused, the saved one not tried.
    let out = load().env("HOME", home.path()).env("ESC_TOKEN", "wrong").env("ESC_API_URL", &fake.url).assert().code(3);
    assert!(text(&out.get_output().stderr).contains("401"));
}

/// A directory with fake `gh` and `git` scripts: `gh` prints `token` and
/// counts its runs in `gh.count`; `git` prints `remote` (or fails when empty).
fn fake_tools(token: &str, remote: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("gh.count");
    let scripts = [
        ("gh", format!("#!/bin/sh\necho \"$*\" >> '{}'\nprintf '%s\\n' '{token}'\n", count.display())),
        (
            "git",
            match remote {
                "" => "#!/bin/sh\necho \"error: No such remote 'origin'\" >&2\nexit 2\n".to_string(),
                _ => format!("#!/bin/sh\n[ \"$*\" = 'remote get-url origin' ] || exit 9\necho '{remote}'\n"),
            },
        ),
    ];
    for (name, body) in scripts {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

fn gh_runs(tools: &Path) -> Vec<String> {
    std::fs::read_to_string(tools.join("gh.count")).unwrap_or_default().lines().map(str::to_string).collect()
}

fn github_escort(fake: &Fake, tools: &Path) -> assert_cmd::Command {
    let mut cmd = escort();
    cmd.env("GITHUB_API_URL", &fake.url).env("PATH", format!("{}:/usr/bin:/bin", tools.display()));
    cmd
}

#[test]
fn gh_auth_token_is_asked_once_and_only_when_a_github_token_is_needed() {
    let mut st = github_support::state();
    st["secrets"]["repos/acme/app/actions"] = json!({"API_KEY": {"value": "v"}});
    let fake = github_support::github(&st);
    let tools = fake_tools(github_support::TOKEN, "");
    // Two GitHub targets, each opened with the token: gh runs once.
    let manifest = "[sync.r]\nfrom = \"dotenv:src.env\"\nto = [\"github:acme/app\", \"github:acme/web\"]\n";
    std::fs::write(tools.path().join("escort.toml"), manifest).unwrap();
    std::fs::write(tools.path().join("src.env"), "API_KEY=v\n").unwrap();
    let out = github_escort(&fake, tools.path()).current_dir(tools.path()).args(["status"]).assert().code(1);
    let stdout = text(&out.get_output().stdout);
    assert!(stdout.contains("github:acme/app") && stdout.contains("github:acme/web"), "{stdout}");
    assert_absent(&out.get_output().stderr, &[github_support::TOKEN], "gh token");
    assert_eq!(gh_runs(tools.path()), ["auth token --hostname 127.0.0.1"]);
    let out = github_escort(&fake, tools.path()).args(["ls", "github:acme/app"]).assert().success();
    assert!(text(&out.get_output().stdout).contains("API_KEY"));
    assert_eq!(gh_runs(tools.path()).len(), 2, "once per process");

    // No GitHub needed: gh is not run.
    github_escort(&fake, tools.path()).args(["load", "--demo", "--format", "json"]).assert().success();
    assert_eq!(gh_runs(tools.path()).len(), 2);
    // GITHUB_TOKEN comes first.
    github_escort(&fake, tools.path()).env("GITHUB_TOKEN", "wrong").args(["ls", "github:acme/app"]).assert().code(3);
    assert_eq!(gh_runs(tools.path()).len(), 2);
}

#[test]
fn a_missing_gh_is_no_token_and_says_how_to_log_in() {
    let fake = github_support::github(&github_support::state());
    let empty = tempfile::tempdir().unwrap();
    let out = github_escort(&fake, empty.path()).args(["ls", "github:acme/app"]).assert().code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("no GitHub token") && stderr.contains("gh auth login --hostname 127.0.0.1"), "{stderr}");
    assert!(fake.requests().is_empty());
}

#[test]
fn a_github_target_without_a_repository_is_the_checkout_remote() {
    let mut st = github_support::state();
    st["secrets"]["repos/acme/app/actions"] = json!({"API_KEY": {"value": "v"}});
    st["secrets"]["repos/acme/app/environments/prod"] = json!({"PROD_KEY": {"value": "v"}});
    st["variables"] = json!({"repos/acme/app/actions": {"LOG_LEVEL": {"value": "info"}}});
    let fake = github_support::github(&st);
    for remote in ["https://127.0.0.1/acme/app.git", "git@127.0.0.1:acme/app.git", "ssh://git@127.0.0.1:22/acme/app"] {
        let tools = fake_tools(github_support::TOKEN, remote);
        let out = github_escort(&fake, tools.path()).args(["ls", "github:"]).assert().success();
        assert!(text(&out.get_output().stdout).contains("API_KEY"), "{remote}");
        let out = github_escort(&fake, tools.path()).args(["ls", "github:@prod"]).assert().success();
        assert!(text(&out.get_output().stdout).contains("PROD_KEY"), "{remote}");
        let out = github_escort(&fake, tools.path()).args(["ls", "github-vars:"]).assert().success();
        assert!(text(&out.get_output().stdout).contains("LOG_LEVEL"), "{remote}");
    }
    // A remote on another host than GITHUB_API_URL's, or none: a usage error, no request.
    let before = fake.requests().len();
    for (remote, says) in [("git@github.com:acme/app.git", "is not a repository on 127.0.0.1"), ("", "no git remote")] {
        let tools = fake_tools(github_support::TOKEN, remote);
        let out = github_escort(&fake, tools.path()).args(["ls", "github:"]).assert().code(2);
        let stderr = text(&out.get_output().stderr);
        assert!(stderr.contains(says) && stderr.contains("github:OWNER/REPO"), "{remote}: {stderr}");
    }
    assert_eq!(fake.requests().len(), before);
}

/// A directory with a `git` that records each run in `git.calls` and prints
/// `remote` for `remote get-url origin`.
fn recording_git(remote: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("git.calls");
    let git = dir.path().join("git");
    std::fs::write(
        &git,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\n[ \"$*\" = 'remote get-url origin' ] || exit 9\necho '{remote}'\n",
            calls.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&git, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn git_calls(tools: &Path) -> Vec<String> {
    std::fs::read_to_string(tools.join("git.calls")).unwrap_or_default().lines().map(str::to_string).collect()
}

#[test]
fn only_the_commands_that_use_a_checkout_target_ask_git_and_once() {
    let mut st = github_support::state();
    st["secrets"]["repos/acme/app/actions"] = json!({"API_KEY": {"value": "v"}});
    st["secrets"]["repos/acme/app/environments/prod"] = json!({"API_KEY": {"value": "v"}});
    let fake = github_support::github(&st);
    let tools = recording_git("git@127.0.0.1:acme/app.git");
    let dir = tempfile::tempdir().unwrap();
    let manifest = "sources = [\"dotenv:src.env\"]\n[secrets.API_KEY]\n\n\
                    [sync.r]\nfrom = \"dotenv:src.env\"\nto = [\"github:\", \"github:@prod\"]\n";
    std::fs::write(dir.path().join("escort.toml"), manifest).unwrap();
    std::fs::write(dir.path().join("src.env"), "API_KEY=v\n").unwrap();
    let run = |args: &[&str]| {
        let mut cmd = github_escort(&fake, tools.path());
        cmd.env("GITHUB_TOKEN", github_support::TOKEN).current_dir(dir.path()).args(args);
        cmd.output().unwrap()
    };

    // Parsing the manifest, its routes included, runs no git.
    let out = run(&["check"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["template"]);
    assert!(out.status.success() && text(&out.stdout).contains("API_KEY="), "{}", text(&out.stderr));
    assert_eq!(git_calls(tools.path()), Vec::<String>::new(), "check and template ran git");

    // status of the route asks git once for both targets, and shows the repository.
    let out = run(&["status", "--format", "json"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("github:acme/app") && stdout.contains("github:acme/app@prod"), "{stdout}");
    assert_eq!(git_calls(tools.path()), ["remote get-url origin"]);

    // So does sync: once per run.
    let out = run(&["sync", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(git_calls(tools.path()).len(), 2);
}
