//! How `escort load` behaves when ESC misbehaves: retries where they help,
//! clear errors and exit 3 where they do not, and nothing written on failure.

use crate::common::{Fake, escort};
use serde_json::{Value, json};

const TOKEN: &str = "tok-faults";

fn fake_with(faults: Value) -> Fake {
    Fake::esc(&json!({
        "token": TOKEN,
        "default_org": "acme",
        "environments": {"acme/app/dev": {"values": {"environmentVariables": {"A": "1"}}}},
        "faults": faults,
    }))
}

fn load(fake: &Fake) -> assert_cmd::Command {
    let mut cmd = escort();
    cmd.env("ESC_API_URL", &fake.url)
        .env("ESC_TOKEN", TOKEN)
        .env("ESC_ENV", "acme/app/dev")
        .args(["load", "--format", "json"]);
    cmd
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).to_string()
}

fn count(fake: &Fake, op_path_suffix: &str) -> usize {
    fake.requests().iter().filter(|r| r["path"].as_str().unwrap_or("").contains(op_path_suffix)).count()
}

#[test]
fn server_errors_are_retried_until_success() {
    let fake = fake_with(json!([{"op": "open", "status": 503, "times": 2}, {"op": "read", "status": 500, "times": 1}]));
    let out = load(&fake).assert().success();
    assert_eq!(String::from_utf8_lossy(&out.get_output().stdout), "{\"A\":\"1\"}\n");
    let methods: Vec<String> = fake.requests().iter().map(|r| r["method"].as_str().unwrap().to_string()).collect();
    assert_eq!(methods, ["POST", "POST", "POST", "GET", "GET"], "two failed opens, one failed read, then success");
}

#[test]
fn persistent_server_errors_give_up_with_exit_3() {
    let fake = fake_with(json!([{"op": "open", "status": 502, "times": -1}]));
    let out = load(&fake).env("ESCORT_RETRIES", "2").assert().code(3);
    assert!(stderr(&out).contains("returned 502 Bad Gateway"), "{}", stderr(&out));
    assert_eq!(count(&fake, "/open"), 3);
}

#[test]
fn rate_limits_wait_for_retry_after() {
    // Retry-After is read: a wait longer than the allowed maximum fails at once...
    let fake = fake_with(json!([{"op": "read", "status": 429, "times": 1, "retry_after": "30"}]));
    let out = load(&fake).env("ESCORT_MAX_RETRY_WAIT", "5").assert().code(3);
    assert!(stderr(&out).contains("429 Too Many Requests"), "{}", stderr(&out));
    assert_eq!(count(&fake, "/open/"), 1, "a wait past the maximum is not sat through");
    // ...and a short one is waited for, then the request succeeds. The fake's clock shows
    // the wait: one second, where escort's own backoff is at most half of one.
    let fake = fake_with(json!([{"op": "read", "status": 429, "times": 1, "retry_after": "1"}]));
    load(&fake).env("ESCORT_MAX_RETRY_WAIT", "5").assert().success();
    let reads: Vec<f64> = fake
        .requests()
        .iter()
        .filter(|r| r["method"] == "GET" && r["path"].as_str().unwrap().contains("/open/"))
        .map(|r| r["at"].as_f64().unwrap())
        .collect();
    assert_eq!(reads.len(), 2, "one refused read, one retry");
    assert!(reads[1] - reads[0] >= 1.0, "retried {:.3}s after a Retry-After of 1s", reads[1] - reads[0]);
}

#[test]
fn a_hung_server_times_out() {
    let fake = fake_with(json!([{"op": "open", "delay_ms": 5000, "times": -1}]));
    let out = load(&fake).env("ESCORT_TIMEOUT", "0.3").env("ESCORT_RETRIES", "1").assert().code(3);
    assert!(stderr(&out).contains("no answer within 0.3s (after 2 attempts)"), "{}", stderr(&out));
}

#[test]
fn auth_failures_are_clear_and_not_retried() {
    for (status, hint) in [(401, "check that the token is set and valid"), (403, "lacks permission")] {
        let fake = fake_with(json!([{"op": "open", "status": status, "times": -1}]));
        let out = load(&fake).assert().code(3);
        assert!(stderr(&out).contains(hint), "{status}: {}", stderr(&out));
        assert_eq!(count(&fake, "/open"), 1, "{status} must not be retried");
    }
}

#[test]
fn api_diagnostics_are_shown() {
    let fake = fake_with(json!([{"op": "open", "status": 400, "diagnostics": [
        {"summary": "unknown property \"foo\"", "range": {"environment": "dev", "begin": {"line": 4, "column": 3, "byte": 20}, "end": {"line": 4, "column": 6, "byte": 23}}}
    ]}]));
    let out = load(&fake).assert().code(3);
    assert!(stderr(&out).contains("unknown property \"foo\" (line 4, column 3)"), "{}", stderr(&out));
}

#[test]
fn broken_bodies_are_backend_errors() {
    for fault in [json!({"op": "read", "malformed": true}), json!({"op": "read", "truncate": true, "times": -1})] {
        let fake = fake_with(json!([fault]));
        let out = load(&fake).env("ESCORT_RETRIES", "1").assert().code(3);
        assert!(stderr(&out).contains("read ESC environment `acme/app/dev`"), "{fault}: {}", stderr(&out));
    }
}

#[test]
fn nothing_reaches_github_env_when_loading_fails() {
    let fake = fake_with(json!([{"op": "read", "status": 500, "times": -1}]));
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("env");
    escort()
        .env("ESC_API_URL", &fake.url)
        .env("ESC_TOKEN", TOKEN)
        .env("ESC_ENV", "acme/app/dev")
        .env("GITHUB_ENV", &env_file)
        .env("ESCORT_RETRIES", "0")
        .args(["load", "--format", "github"])
        .assert()
        .code(3);
    assert!(!env_file.exists());
}

#[test]
fn the_default_org_is_asked_for_when_not_given() {
    let fake = fake_with(json!([]));
    let mut cmd = escort();
    cmd.env("ESC_API_URL", &fake.url)
        .env("ESC_TOKEN", TOKEN)
        .env("ESC_ENV", "app/dev")
        .args(["load", "--format", "json"]);
    cmd.assert().success();
    assert_eq!(count(&fake, "/api/user/organizations/default"), 1);
    // ESC_ORG skips the lookup.
    let fake2 = fake_with(json!([]));
    let mut cmd = escort();
    cmd.env("ESC_API_URL", &fake2.url).env("ESC_TOKEN", TOKEN).env("ESC_ORG", "acme").env("ESC_ENV", "app/dev");
    cmd.args(["load", "--format", "json"]).assert().success();
    assert_eq!(count(&fake2, "/api/user/organizations/default"), 0);
}

#[test]
fn requests_carry_the_documented_headers() {
    let fake = fake_with(json!([]));
    load(&fake).assert().success();
    for r in fake.requests() {
        assert_eq!(r["headers"]["authorization"], "present", "{r}");
        assert_eq!(r["headers"]["accept"], "application/vnd.pulumi+8", "{r}");
        assert!(r["headers"]["user-agent"].as_str().unwrap().starts_with("escort/"), "{r}");
    }
    let opens: Vec<Value> = fake.requests().into_iter().filter(|r| r["method"] == "POST").collect();
    assert_eq!(opens.len(), 1);
    assert!(opens[0]["query"].to_string().contains("duration"), "{}", opens[0]);
}

#[test]
fn an_unreachable_server_is_exit_3() {
    let out = escort()
        .env("ESC_API_URL", "http://127.0.0.1:9")
        .env("ESC_TOKEN", TOKEN)
        .env("ESC_ENV", "acme/app/dev")
        .env("ESCORT_RETRIES", "1")
        .args(["load"])
        .assert()
        .code(3);
    assert!(stderr(&out).contains("could not connect"), "{}", stderr(&out));
}

/// `-v` (and `ESCORT_LOG=debug`): one line per request with method, host, path,
/// attempt and status, the waits between retries, and where the token came from;
/// never a value or the token.
#[test]
fn verbose_shows_hosts_statuses_and_token_sources_never_a_value() {
    let fake = || {
        Fake::esc(&json!({
            "token": TOKEN, "default_org": "acme",
            "environments": {"acme/app/dev": {"values": {"environmentVariables": {"A": {"fn::secret": "CANARY-verbose-7c1e"}}}}},
            "faults": [{"op": "open", "status": 503, "times": 1}],
        }))
    };
    for verbose in [&["-v"][..], &["--verbose"], &[]] {
        let fake = fake();
        let host = fake.url.trim_end_matches('/').to_string();
        let mut cmd = load(&fake);
        cmd.args(verbose);
        if verbose.is_empty() {
            cmd.env("ESCORT_LOG", "debug");
        }
        let out = cmd.assert().success();
        let err = stderr(&out);
        let debug: Vec<&str> = err.lines().filter(|l| l.starts_with("escort: debug: ")).collect();
        assert!(debug.iter().any(|l| l.contains(&format!("token for {host} from ESC_TOKEN"))), "{err}");
        let open = format!("POST {host}/api/esc/environments/acme/app/dev/open (attempt 1): 503");
        assert!(debug.iter().any(|l| l.ends_with(&open)), "{open}\n{err}");
        assert!(debug.iter().any(|l| l.contains("(attempt 1): waiting ") && l.ends_with("before attempt 2")), "{err}");
        assert!(debug.iter().any(|l| l.contains("/open (attempt 2): 200")), "{err}");
        assert!(debug.iter().any(|l| l.starts_with("escort: debug: GET ") && l.ends_with(": 200")), "{err}");
        assert!(!err.contains("CANARY") && !err.contains(TOKEN), "{err}");
        assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("CANARY-verbose-7c1e"));
    }
    // Without either: no debug line.
    let out = load(&fake()).assert().success();
    assert!(!stderr(&out).contains("debug"), "{}", stderr(&out));
}

/// A refused token names the host and where the token came from; a host that
/// does not answer is named.
#[test]
fn refusals_and_network_errors_name_the_host_and_the_tokens_source() {
    let fake = fake_with(json!([{"op": "open", "status": 401, "times": -1}]));
    let host = fake.url.trim_end_matches('/').to_string();
    let err = stderr(&load(&fake).assert().code(3));
    assert!(
        err.contains(&format!("failed at {host}: POST /api/esc/environments/acme/app/dev/open returned 401")),
        "{err}"
    );
    assert!(err.contains("(check that the token is set and valid; the token came from ESC_TOKEN)"), "{err}");
    let err = stderr(&load(&fake).env_remove("ESC_TOKEN").env("PULUMI_ACCESS_TOKEN", TOKEN).assert().code(3));
    assert!(err.contains("the token came from PULUMI_ACCESS_TOKEN"), "{err}");
    assert!(!err.contains(TOKEN), "{err}");

    // The token `pulumi login` saved.
    let home = tempfile::tempdir().unwrap();
    let creds = json!({"current": host, "accounts": {host.clone(): {"accessToken": TOKEN, "username": "u"}}});
    std::fs::write(home.path().join("credentials.json"), creds.to_string()).unwrap();
    let err = stderr(
        &load(&fake).env_remove("ESC_TOKEN").env_remove("ESC_API_URL").env("PULUMI_HOME", home.path()).assert().code(3),
    );
    assert!(err.contains("the token came from the `pulumi login` saved in"), "{err}");
    // A login for another backend is not "no token": it says why it is not used.
    let err = stderr(
        &load(&fake)
            .env_remove("ESC_TOKEN")
            .env("ESC_API_URL", "http://127.0.0.1:9")
            .env("PULUMI_HOME", home.path())
            .assert()
            .code(2),
    );
    assert!(err.contains(&format!("is for {host}, not http://127.0.0.1:9, so it is not sent there")), "{err}");

    // Nothing listens on port 9 of this machine (discard is not run).
    let err = stderr(&load(&fake).env("ESC_API_URL", "http://127.0.0.1:9").env("ESCORT_RETRIES", "0").assert().code(3));
    assert!(
        err.contains("failed at http://127.0.0.1:9: POST /api/esc/environments/acme/app/dev/open: could not connect"),
        "{err}"
    );
}
