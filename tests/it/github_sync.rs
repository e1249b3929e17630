//! `escort sync` to GitHub secrets, against the fake GitHub
//! (tests/fakes/github_server.py), which opens every sealed box with PyNaCl.

use crate::common;

use crate::github_support::{escort, github, state, stored, text, value, with_existing, writes};
use serde_json::{Value, json};

const REPO: &str = "repos/acme/app/actions";

/// `sync --from env --keys ...` with these variables set: values reach escort exactly.
fn sync_env(fake: &common::Fake, vars: &[(&str, &str)], to: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    let keys: Vec<&str> = vars.iter().map(|(k, _)| *k).collect();
    let mut cmd = escort(fake);
    cmd.args(["sync", "--from", "env", "--keys", &keys.join(","), "--to", to]).args(extra);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.assert()
}

#[test]
fn values_arrive_exactly_from_empty_to_48_kb() {
    let fake = github(&state());
    let big = "z".repeat(48 * 1024);
    let vars = [
        ("EMPTY", ""),
        ("ONE", "x"),
        ("LINES", "line 1\nline 2\r\n\n"),
        ("UNICODE", "naïve ✓ 秘密 🔑"),
        ("HOSTILE", "%0A ::add-mask:: \"quoted\" 'single' \\ $HOME EOF\n<<EOF"),
        ("BIG", big.as_str()),
    ];
    sync_env(&fake, &vars, "github:acme/app", &[]).success();
    for (name, expected) in vars {
        assert_eq!(value(&fake, REPO, name).as_deref(), Some(expected), "{name}");
    }
    // One public key per run, however many values.
    let key_requests = fake.requests().iter().filter(|r| r["path"].as_str().unwrap().ends_with("/public-key")).count();
    assert_eq!(key_requests, 1);
    for put in writes(&fake) {
        assert_eq!(put["headers"]["x-github-api-version"], "2022-11-28");
        assert_eq!(put["headers"]["authorization"], "present");
    }
}

#[test]
fn from_a_dotenv_file_with_a_report_table() {
    let fake = github(&state());
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    std::fs::write(&env, "API_KEY=sk-123\nDB_URL='postgres://u:p@h/db'\n").unwrap();
    let out = escort(&fake)
        .args(["sync", "--from", &format!("dotenv:{}", env.display()), "--to", "github:acme/app@prod"])
        .assert()
        .success();
    let stdout = text(&out.get_output().stdout);
    assert!(stdout.contains("API_KEY  create   ok"), "{stdout}");
    assert_eq!(value(&fake, "repos/acme/app/environments/prod", "DB_URL").as_deref(), Some("postgres://u:p@h/db"));
}

#[test]
fn every_level_and_app_github_has() {
    let fake = github(&state());
    let cases = [
        ("github:acme/app", "actions", "repos/acme/app/actions"),
        ("github:acme/app", "codespaces", "repos/acme/app/codespaces"),
        ("github:acme/app", "dependabot", "repos/acme/app/dependabot"),
        ("github:acme/app@prod east", "actions", "repos/acme/app/environments/prod east"),
        ("github-org:acme", "actions", "orgs/acme/actions"),
        ("github-org:acme", "codespaces", "orgs/acme/codespaces"),
        ("github-org:acme", "dependabot", "orgs/acme/dependabot"),
        ("github-user", "codespaces", "user/codespaces"),
    ];
    for (target, app, scope) in cases {
        sync_env(&fake, &[("SHARED", scope)], target, &["--app", app]).success();
        assert_eq!(value(&fake, scope, "SHARED").as_deref(), Some(scope), "{target} --app {app}");
    }
    // GitHub user secrets are Codespaces secrets: the default for github-user.
    sync_env(&fake, &[("DEFAULTED", "v")], "github-user", &[]).success();
    assert!(value(&fake, "user/codespaces", "DEFAULTED").is_some());
}

#[test]
fn pairs_github_lacks_are_refused_before_any_request() {
    let fake = github(&state());
    for (target, app) in [
        ("github-user", "actions"),
        ("github-user", "dependabot"),
        ("github:acme/app@prod", "codespaces"),
        ("github:acme/app@prod", "dependabot"),
    ] {
        let out = sync_env(&fake, &[("A", "1")], target, &["--app", app]).code(2);
        let err = text(&out.get_output().stderr);
        assert!(err.contains("GitHub has no") && err.contains("--app"), "{target} {app}: {err}");
    }
    for bad in ["github:acme", "github:acme/app@", "github-org:", "gitlab:acme/app"] {
        sync_env(&fake, &[("A", "1")], bad, &[]).code(2);
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn enterprise_server_base_url() {
    let fake = github(&state());
    let mut cmd = escort(&fake);
    cmd.env("GITHUB_API_URL", format!("{}/api/v3/", fake.url)).env("A", "1");
    cmd.args(["sync", "--from", "env", "--keys", "A", "--to", "github:acme/app"]).assert().success();
    assert_eq!(value(&fake, REPO, "A").as_deref(), Some("1"));
}

#[test]
fn organization_visibility_and_repositories() {
    let mut st = state();
    st["secrets"]["orgs/acme/actions"] =
        json!({"NARROW": {"value": "old", "visibility": "selected", "selected_repository_ids": [102]}});
    let fake = github(&st);
    let org = |name: &str| stored(&fake, "orgs/acme/actions")[name].clone();

    // No flags: an existing secret keeps its visibility and repositories; a new one is private.
    sync_env(&fake, &[("NARROW", "new"), ("FRESH", "v")], "github-org:acme", &[]).success();
    assert_eq!(org("NARROW")["visibility"], "selected");
    assert_eq!(org("NARROW")["selected_repository_ids"], json!([102]));
    assert_eq!(org("NARROW")["value"], "new");
    assert_eq!(org("FRESH")["visibility"], "private");

    sync_env(&fake, &[("WIDE", "v")], "github-org:acme", &["--visibility", "all"]).success();
    assert_eq!(org("WIDE")["visibility"], "all");

    // Repository names become ids; --repos implies selected.
    sync_env(&fake, &[("PICKED", "v")], "github-org:acme", &["--repos", "app,acme/web"]).success();
    assert_eq!(org("PICKED")["visibility"], "selected");
    assert_eq!(org("PICKED")["selected_repository_ids"], json!([101, 102]));
    let bodies: Vec<Value> = writes(&fake)
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap().ends_with("/PICKED"))
        .map(|r| r["body"].clone())
        .collect();
    assert_eq!(bodies[0]["selected_repository_ids"], json!([101, 102]));

    // User secrets take OWNER/REPO.
    sync_env(&fake, &[("MINE", "v")], "github-user", &["--repos", "octocat/dots"]).success();
    assert_eq!(stored(&fake, "user/codespaces")["MINE"]["selected_repository_ids"], json!([201]));
}

#[test]
fn access_flags_that_cannot_apply_are_refused() {
    let fake = github(&state());
    for (target, flags) in [
        ("github:acme/app", vec!["--visibility", "all"]),
        ("github:acme/app", vec!["--repos", "web"]),
        ("github-org:acme", vec!["--visibility", "private", "--repos", "web"]),
        ("github-user", vec!["--visibility", "selected"]),
        ("github-user", vec!["--repos", "dots"]),
    ] {
        sync_env(&fake, &[("A", "1")], target, &flags).code(2);
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn an_unknown_repository_in_repos_writes_nothing() {
    let fake = github(&state());
    let out = sync_env(&fake, &[("A", "1"), ("B", "2")], "github-org:acme", &["--repos", "app,nope"]).code(3);
    let err = text(&out.get_output().stderr);
    assert!(err.contains("acme/nope") && err.contains("404"), "{err}");
    assert!(writes(&fake).is_empty());
}

#[test]
fn names_and_sizes_are_refused_before_any_request() {
    let fake = github(&state());
    let big = "z".repeat(48 * 1024 + 1);
    let cases: [&[(&str, &str)]; 4] = [
        &[("GOOD", "1"), ("9LIVES", "1")],
        &[("GITHUB_THING", "1")],
        &[("TOO_BIG", big.as_str())],
        &[("same", "1"), ("SAME", "2")],
    ];
    for vars in cases {
        let out = sync_env(&fake, vars, "github:acme/app", &[]).code(2);
        let err = text(&out.get_output().stderr);
        assert!(err.contains("nothing was sent"), "{err}");
    }
    // A name with a dash cannot come from the environment; from a file it can.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "MY-KEY=1\n").unwrap();
    escort(&fake)
        .current_dir(dir.path())
        .args(["sync", "--from", "dotenv:.env", "--to", "github:acme/app"])
        .assert()
        .code(2);
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[test]
fn the_whole_environment_is_not_a_source() {
    let fake = github(&state());
    for keys in [None, Some("*"), Some("A,*")] {
        let mut cmd = escort(&fake);
        cmd.args(["sync", "--from", "env", "--to", "github:acme/app"]);
        if let Some(k) = keys {
            cmd.args(["--keys", k]);
        }
        cmd.assert().code(2);
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let mut st = with_existing(state(), REPO, 2);
    st["secrets"][REPO]["KEEP"] = json!({"value": "k"});
    let fake = github(&st);
    let out = sync_env(&fake, &[("KEEP", "1"), ("NEW", "2")], "github:acme/app", &["--dry-run", "--prune"]).success();
    let stdout = text(&out.get_output().stdout);
    for line in [
        "  update  KEEP",
        "  create  NEW",
        "  prune   OLD_000",
        "  prune   OLD_001",
        "1 to create, 1 to update, 2 to prune",
    ] {
        assert!(stdout.contains(line), "{line:?} in\n{stdout}");
    }
    assert!(writes(&fake).is_empty());
    assert!(fake.requests().iter().all(|r| !r["path"].as_str().unwrap().ends_with("public-key")));

    let out = sync_env(&fake, &[("KEEP", "1")], "github:acme/app", &["--dry-run", "--format", "json"]).success();
    let plan: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(plan["plan"], json!([{"name": "KEEP", "action": "update"}]));
    assert!(writes(&fake).is_empty());
}

#[test]
fn prune_needs_a_confirmation() {
    let fake = github(&with_existing(state(), REPO, 3));
    // No terminal, no --yes: refused before anything is written.
    let out = sync_env(&fake, &[("NEW", "1")], "github:acme/app", &["--prune"]).code(2);
    assert!(text(&out.get_output().stderr).contains("--yes"));
    assert!(writes(&fake).is_empty());

    sync_env(&fake, &[("NEW", "1"), ("old_001", "kept")], "github:acme/app", &["--prune", "--yes"]).success();
    let names: Vec<String> = stored(&fake, REPO).keys().cloned().collect();
    assert_eq!(names, ["NEW", "OLD_001"], "names compare without case, as GitHub's do");

    // An empty source would prune everything: that is `rm --all`'s job.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "").unwrap();
    escort(&fake)
        .current_dir(dir.path())
        .args(["sync", "--from", "dotenv:.env", "--to", "github:acme/app", "--prune", "--yes"])
        .assert()
        .code(2);
    assert_eq!(stored(&fake, REPO).len(), 2);
}

#[test]
fn lists_beyond_100_are_paged() {
    let fake = github(&with_existing(state(), REPO, 250));
    let out =
        sync_env(&fake, &[("NEW", "1")], "github:acme/app", &["--dry-run", "--prune", "--format", "json"]).success();
    let plan: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let pruned = plan["plan"].as_array().unwrap().iter().filter(|p| p["action"] == "prune").count();
    assert_eq!(pruned, 250);
    let pages: Vec<(String, String)> = fake
        .requests()
        .iter()
        .filter(|r| r["path"] == format!("/{REPO}/secrets"))
        .map(|r| (r["query"]["per_page"].as_str().unwrap().into(), r["query"]["page"].as_str().unwrap().into()))
        .collect();
    assert_eq!(pages, [("100".into(), "1".into()), ("100".into(), "2".into()), ("100".into(), "3".into())]);
}

#[test]
fn unknown_repository_or_organization_is_a_backend_error() {
    let fake = github(&state());
    for (target, shown) in [("github:acme/nope", "/repos/acme/nope/"), ("github-org:nobody", "/orgs/nobody/")] {
        let out = sync_env(&fake, &[("A", "1")], target, &[]).code(3);
        let err = text(&out.get_output().stderr);
        assert!(err.contains(shown) && err.contains("404") && err.contains("check the name"), "{err}");
    }
}

#[test]
fn bad_credentials_and_missing_permission() {
    let fake = github(&state());
    let out = escort(&fake)
        .env("GITHUB_TOKEN", "ghp-wrong-token")
        .env("A", "1")
        .args(["sync", "--from", "env", "--keys", "A", "--to", "github:acme/app"])
        .assert()
        .code(3);
    let err = text(&out.get_output().stderr);
    assert!(err.contains("401") && err.contains("Bad credentials") && err.contains("token"), "{err}");

    fake.set_faults(json!([{"path_contains": "/public-key", "status": 403, "times": -1,
                             "message": "Resource not accessible by integration"}]));
    let out = sync_env(&fake, &[("A", "1")], "github:acme/app", &[]).code(3);
    let err = text(&out.get_output().stderr);
    assert!(err.contains("403") && err.contains("Resource not accessible by integration"), "{err}");
    assert!(writes(&fake).is_empty());

    let out = common::escort()
        .env("A", "1")
        .args(["sync", "--from", "env", "--keys", "A", "--to", "github:acme/app"])
        .assert()
        .code(2);
    assert!(text(&out.get_output().stderr).contains("GITHUB_TOKEN"));
}

#[test]
fn secondary_rate_limits_are_waited_out() {
    let fake = github(&state());
    fake.set_faults(json!([
        {"method": "PUT", "path_contains": "/secrets/A", "status": 403, "retry_after": "1", "times": 1,
         "message": "You have exceeded a secondary rate limit"},
        {"method": "PUT", "path_contains": "/secrets/B", "status": 403, "ratelimit_reset": true, "times": 1,
         "message": "API rate limit exceeded"}
    ]));
    sync_env(&fake, &[("A", "1"), ("B", "2"), ("C", "3")], "github:acme/app", &[]).success();
    // Each waited as told before trying again (by the fake's clock): one second for A's
    // Retry-After, one to two for B's reset (whole seconds); half of one at most by escort's own backoff.
    for name in ["A", "B"] {
        let tries: Vec<(i64, f64)> = writes(&fake)
            .iter()
            .filter(|r| r["path"] == format!("/{REPO}/secrets/{name}"))
            .map(|r| (r["status"].as_i64().unwrap(), r["at"].as_f64().unwrap()))
            .collect();
        assert_eq!(tries.iter().map(|t| t.0).collect::<Vec<_>>(), [403, 201], "{name}");
        let waited = tries[1].1 - tries[0].1;
        assert!(waited >= 1.0, "{name} was retried after {waited:.3}s");
    }
    assert_eq!(stored(&fake, REPO).len(), 3);
}

#[test]
fn server_errors_are_retried() {
    let fake = github(&state());
    fake.set_faults(json!([
        {"method": "GET", "path_contains": "/secrets", "status": 502, "times": 2},
        {"method": "PUT", "status": 503, "times": 2}
    ]));
    sync_env(&fake, &[("A", "1"), ("B", "2")], "github:acme/app", &[]).success();
    assert_eq!(value(&fake, REPO, "B").as_deref(), Some("2"));
}

#[test]
fn one_failure_out_of_many_is_a_partial_write() {
    let fake = github(&state());
    fake.set_faults(json!([{"method": "PUT", "path_contains": "/S07", "status": 422, "times": -1,
                             "message": "Validation Failed"}]));
    let values: Vec<(String, String)> = (0..20).map(|i| (format!("S{i:02}"), format!("value-{i}"))).collect();
    let vars: Vec<(&str, &str)> = values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = sync_env(&fake, &vars, "github:acme/app", &[]).code(4);
    let (stdout, stderr) = (text(&out.get_output().stdout), text(&out.get_output().stderr));
    assert!(stderr.contains("1 of 20") && stderr.contains("create S07"), "{stderr}");
    assert!(stdout.lines().any(|l| l.starts_with("S07") && l.contains("FAILED") && l.contains("422")), "{stdout}");
    let held = stored(&fake, REPO);
    assert_eq!(held.len(), 19);
    assert!(!held.contains_key("S07"));

    // When nothing at all is written, it is a backend failure, not a partial one.
    fake.set_faults(json!([{"method": "PUT", "status": 422, "times": -1}]));
    sync_env(&fake, &[("X1", "1"), ("X2", "2")], "github:acme/app", &[]).code(3);
}

#[test]
fn a_public_key_that_is_not_32_bytes_is_refused() {
    let mut st = state();
    // Like the OpenAPI description's example key: 33 bytes (here of 0x01).
    st["public_key"] = json!("AQEB".repeat(11));
    let fake = github(&st);
    let out = sync_env(&fake, &[("A", "1")], "github:acme/app", &[]).code(3);
    assert!(text(&out.get_output().stderr).contains("33 bytes"));
    assert!(writes(&fake).is_empty());
}

#[test]
fn concurrency_is_bounded() {
    let values: Vec<(String, String)> = (0..16).map(|i| (format!("C{i:02}"), "v".to_string())).collect();
    let vars: Vec<(&str, &str)> = values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for (flags, low, high) in [(vec![], 4, 4), (vec!["--concurrency", "1"], 1, 1), (vec!["--concurrency", "8"], 8, 8)] {
        // The fake holds requests until `high` are in flight: a client that allows that
        // many gets there whatever the machine's speed (one that allows fewer waits out
        // the fake's 30 s and shows fewer).
        let mut st = state();
        st["hold_until_in_flight"] = json!(high);
        let fake = github(&st);
        sync_env(&fake, &vars, "github:acme/app", &flags).success();
        let max = fake.call("GET", "/_fake/stats", None)["max_in_flight"].as_i64().unwrap();
        assert!((low..=high).contains(&max), "{flags:?}: {max} in flight");
        assert_eq!(stored(&fake, REPO).len(), 16);
    }
}
