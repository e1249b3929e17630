//! GitHub Actions variables (docs/routes.md, "GitHub Actions variables" and "Routes"):
//! `github-vars:` and `github-org-vars:` targets, and routes that send plain
//! values there instead of to secrets, against the fake ESC and fake GitHub.
//! Plain values are config, yet escort's output never shows one.

use crate::common::run::Run;
use crate::common::{Fake, assert_absent, peer_python};
use crate::github_support::{self, TOKEN, escort as gh_escort, github, stored, text, value, writes};
use serde_json::{Value, json};
use std::path::Path;

const ESC_TOKEN: &str = "tok-vars";
/// Every value of the environment: none may show in any output.
const CANARIES: [&str; 5] =
    ["canary-secret-a", "canary-plain-b", "canary-made-plain-d", "canary-edited-b", "canary-set-value"];
const ENV_SCOPE: &str = "repos/acme/app/environments/prod";

/// acme/app/prod: A secret, B plain, D secret in ESC but `secret = false` in the
/// manifest (ESC's flag wins: D stays a secret).
fn esc() -> Fake {
    let yaml = "values:\n  environmentVariables:\n    A: {fn::secret: canary-secret-a}\n    B: canary-plain-b\n    \
                D: {fn::secret: canary-made-plain-d}\n";
    let values = json!({"environmentVariables": {
        "A": {"fn::secret": "canary-secret-a"}, "B": "canary-plain-b", "D": {"fn::secret": "canary-made-plain-d"}
    }});
    let state = json!({"token": ESC_TOKEN, "environments": {"acme/app/prod": {"yaml": yaml, "values": values}}});
    Fake::start_with(&peer_python(), "esc_server.py", &state)
}

fn manifest(extra: &str) -> String {
    format!(
        "[secrets.D]\nsecret = false\n\n[sync.prod]\nfrom = \"esc:acme/app/prod\"\n\
         to = [\"github:acme/app@prod\", \"github-org:acme\", \"dotenv:prod.env\"]\n{extra}"
    )
}

/// Run in `dir`, check that no canary shows, and return (exit code, stdout + stderr).
fn run(dir: &Path, esc: &Fake, gh: &Fake, args: &[&str]) -> (i32, String) {
    let out = Run::new_in(dir).esc(esc, ESC_TOKEN).github(gh, TOKEN).args(args).output();
    assert_absent(&out.stdout, &CANARIES, &format!("{args:?}: stdout"));
    assert_absent(&out.stderr, &CANARIES, &format!("{args:?}: stderr"));
    (out.status.code().unwrap(), format!("{}{}", text(&out.stdout), text(&out.stderr)))
}

/// (key, target, status) of every cell, sorted.
fn cells(dir: &Path, esc: &Fake, gh: &Fake) -> (i32, Vec<(String, String, String)>) {
    let (code, out) = run(dir, esc, gh, &["status", "--format", "json"]);
    let report: Value =
        serde_json::from_str(out.lines().next().unwrap_or_default()).unwrap_or_else(|_| panic!("{out}"));
    (code, crate::fleet::cells(&report))
}

fn names(fake: &Fake, control: &str, scope: &str) -> Vec<String> {
    match fake.call("GET", control, None).get(scope) {
        Some(Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn variable(fake: &Fake, scope: &str, name: &str) -> Value {
    fake.call("GET", "/_fake/variables", None)[scope][name].clone()
}

fn cell(key: &str, target: &str, status: &str) -> (String, String, String) {
    (key.into(), target.into(), status.into())
}

#[test]
fn a_route_writes_secrets_as_secrets_and_plain_values_as_variables() {
    let (esc, gh) = (esc(), github(&github_support::state()));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), manifest("")).unwrap();

    let (code, before) = cells(dir.path(), &esc, &gh);
    assert_eq!(code, 1);
    let targets: Vec<&str> = before.iter().map(|(_, t, _)| t.as_str()).collect();
    for t in ["github-vars:acme/app@prod", "github-org-vars:acme"] {
        assert!(targets.contains(&t), "{t} is a column: {before:?}");
    }
    let (code, out) = run(dir.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");

    // Secrets sealed as secrets, plain values as readable variables, at every level. D is
    // secret in ESC: the manifest's `secret = false` cannot publish it (issue 19, N5).
    assert_eq!(names(&gh, "/_fake/secrets", ENV_SCOPE), ["A", "D"]);
    assert_eq!(names(&gh, "/_fake/variables", ENV_SCOPE), ["B"]);
    assert_eq!(names(&gh, "/_fake/secrets", "orgs/acme/actions"), ["A", "D"]);
    assert_eq!(names(&gh, "/_fake/variables", "orgs/acme/actions"), ["B"]);
    assert_eq!(value(&gh, ENV_SCOPE, "A").as_deref(), Some("canary-secret-a"));
    assert_eq!(value(&gh, ENV_SCOPE, "D").as_deref(), Some("canary-made-plain-d"));
    assert_eq!(variable(&gh, ENV_SCOPE, "B")["value"], "canary-plain-b");
    // A new organization variable is private, as a new organization secret is.
    assert_eq!(variable(&gh, "orgs/acme/actions", "B")["visibility"], "private");
    // Other targets are unaffected: the .env file has everything.
    let env_file = std::fs::read_to_string(dir.path().join("prod.env")).unwrap();
    assert!(["A=", "B=", "D="].iter().all(|k| env_file.contains(k)), "the .env copy has every key");

    let (code, after) = cells(dir.path(), &esc, &gh);
    assert_eq!(code, 0, "{after:?}");
    assert_eq!(after.len(), 4 + 2 + 3, "A and D on two secrets targets, B on two variables targets, 3 in the .env");
    assert!(after.iter().all(|(_, _, s)| s == "ok"), "{after:?}");

    // Nothing changed: not one write.
    gh.call("POST", "/_fake/reset-log", None);
    let (code, out) = run(dir.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(writes(&gh), Vec::<Value>::new(), "a second sync wrote");

    // Someone edits a variable on GitHub: drifted there alone, and restored by one write.
    let edit = json!({"scope": ENV_SCOPE, "name": "B", "value": "canary-edited-b"});
    gh.call("PUT", "/_fake/variables", Some(&edit));
    let (code, edited) = cells(dir.path(), &esc, &gh);
    assert_eq!(code, 1);
    let not_ok: Vec<_> = edited.into_iter().filter(|(_, _, s)| s != "ok").collect();
    assert_eq!(not_ok, [cell("B", "github-vars:acme/app@prod", "drifted")]);
    // The text matrix and the dry run name the variables targets, never a value (checked by `run`).
    let (code, matrix) = run(dir.path(), &esc, &gh, &["status"]);
    assert!(code == 1 && matrix.contains("github-vars:acme/app@prod") && matrix.contains("drifted"), "{matrix}");
    assert_eq!(run(dir.path(), &esc, &gh, &["sync", "--dry-run"]).0, 0);
    gh.call("POST", "/_fake/reset-log", None);
    let (code, out) = run(dir.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");
    let written: Vec<(String, String)> = writes(&gh)
        .iter()
        .map(|r| (r["method"].as_str().unwrap().into(), r["path"].as_str().unwrap().into()))
        .collect();
    assert_eq!(written, [("PATCH".to_string(), "/repos/acme/app/environments/prod/variables/B".to_string())]);
    assert_eq!(variable(&gh, ENV_SCOPE, "B")["value"], "canary-plain-b");
    assert!(cells(dir.path(), &esc, &gh).1.iter().all(|(_, _, s)| s == "ok"));
}

#[test]
fn plain_secrets_keeps_them_secret_and_plain_skip_leaves_them_off_github() {
    let (esc, gh) = (esc(), github(&github_support::state()));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), manifest("plain = \"secrets\"\n")).unwrap();
    let (code, out) = run(dir.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(names(&gh, "/_fake/secrets", ENV_SCOPE), ["A", "B", "D"]);
    assert_eq!(names(&gh, "/_fake/secrets", "orgs/acme/actions"), ["A", "B", "D"]);
    assert!(writes(&gh).iter().all(|r| !r["path"].as_str().unwrap().contains("/variables")), "no variable written");

    let gh = github(&github_support::state());
    std::fs::write(dir.path().join("escort.toml"), manifest("plain = \"skip\"\n")).unwrap();
    let (code, out) = run(dir.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(names(&gh, "/_fake/secrets", ENV_SCOPE), ["A", "D"]);
    assert_eq!(names(&gh, "/_fake/secrets", "orgs/acme/actions"), ["A", "D"]);
    assert!(names(&gh, "/_fake/variables", ENV_SCOPE).is_empty());
    let (code, all) = cells(dir.path(), &esc, &gh);
    assert_eq!(code, 0, "{all:?}");
    assert!(all.iter().all(|(_, t, _)| !t.contains("-vars")), "no variables column: {all:?}");
    // The .env file still gets the plain values.
    assert_eq!(all.iter().filter(|(_, t, _)| t == "dotenv:prod.env").count(), 3);
}

#[test]
fn a_key_that_becomes_plain_leaves_its_secret_extra_until_pruned() {
    // B was copied as a secret before; now it is plain config.
    let mut st = github_support::state();
    st["secrets"]["repos/acme/app/actions"] = json!({"B": {"value": "canary-plain-b"}});
    let (esc, gh) = (esc(), github(&st));
    let dir = tempfile::tempdir().unwrap();
    let route = "[sync.prod]\nfrom = \"esc:acme/app/prod\"\nto = [\"github:acme/app\"]\nkeys = [\"B\"]\n";
    std::fs::write(dir.path().join("escort.toml"), route).unwrap();
    let (code, before) = cells(dir.path(), &esc, &gh);
    assert_eq!(code, 1, "missing as a variable");
    assert_eq!(before, [cell("B", "github-vars:acme/app", "missing"), cell("B", "github:acme/app", "extra")]);
    assert_eq!(run(dir.path(), &esc, &gh, &["sync"]).0, 0);
    assert_eq!(names(&gh, "/_fake/secrets", "repos/acme/app/actions"), ["B"], "left alone without pruning");
    assert_eq!(names(&gh, "/_fake/variables", "repos/acme/app/actions"), ["B"]);

    std::fs::write(dir.path().join("escort.toml"), format!("{route}prune = \"all\"\n")).unwrap();
    assert_eq!(cells(dir.path(), &esc, &gh).0, 1, "extra fails a pruning route");
    let (code, out) = run(dir.path(), &esc, &gh, &["sync", "--yes"]);
    assert_eq!(code, 0, "{out}");
    assert!(names(&gh, "/_fake/secrets", "repos/acme/app/actions").is_empty(), "the secret copy is pruned");
    assert_eq!(names(&gh, "/_fake/variables", "repos/acme/app/actions"), ["B"]);
}

#[test]
fn ls_set_rm_and_one_off_sync_on_repository_and_environment_variables() {
    let gh = github(&github_support::state());
    for target in ["github-vars:acme/app", "github-vars:acme/app@prod"] {
        let scope = if target.contains('@') { ENV_SCOPE } else { "repos/acme/app/actions" };
        gh_escort(&gh).args(["set", target, "log_level"]).write_stdin("canary-set-value").assert().success();
        assert_eq!(variable(&gh, scope, "LOG_LEVEL")["value"], "canary-set-value");
        // A second set updates in place (PATCH), it does not create again.
        gh.call("POST", "/_fake/reset-log", None);
        gh_escort(&gh).args(["set", target, "LOG_LEVEL"]).write_stdin("debug").assert().success();
        let methods: Vec<String> = writes(&gh).iter().map(|r| r["method"].as_str().unwrap().into()).collect();
        assert_eq!(methods, ["PATCH"]);
        assert_eq!(variable(&gh, scope, "LOG_LEVEL")["value"], "debug");
        // The value it already holds: read back, and not written again.
        gh.call("POST", "/_fake/reset-log", None);
        gh_escort(&gh).args(["set", target, "LOG_LEVEL"]).write_stdin("debug").assert().success();
        assert!(writes(&gh).is_empty(), "{target}: {:?}", writes(&gh));

        let out = gh_escort(&gh).args(["ls", target, "--format", "json"]).output().unwrap();
        assert_absent(&out.stdout, &["debug", "canary-set-value"], "ls");
        let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(listed["variables"][0]["name"], "LOG_LEVEL");
        assert!(listed["variables"][0]["updated_at"].is_string(), "{listed}");

        // A one-off sync compares by value: the same value is not written again.
        gh.call("POST", "/_fake/reset-log", None);
        let sync = ["sync", "--from", "env", "--keys", "LOG_LEVEL", "--to", target];
        gh_escort(&gh).env("LOG_LEVEL", "debug").args(sync).assert().success();
        assert!(writes(&gh).is_empty(), "unchanged");
        gh_escort(&gh).env("LOG_LEVEL", "warn").args(sync).assert().success();
        assert_eq!(writes(&gh).len(), 1);

        let out = gh_escort(&gh).args(["rm", target, "LOG_LEVEL", "--yes"]).output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(names(&gh, "/_fake/variables", scope).is_empty());
    }
    // Names GitHub refuses are refused before any request; variables exist for Actions only.
    gh.call("POST", "/_fake/reset-log", None);
    gh_escort(&gh).args(["set", "github-vars:acme/app", "GITHUB_X"]).write_stdin("v").assert().code(2);
    let out = gh_escort(&gh).args(["ls", "github-vars:acme/app", "--app", "dependabot"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no Dependabot repository variables"), "{}", text(&out.stderr));
    let out = gh_escort(&gh).args(["ls", "github-user-vars"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(gh.requests().is_empty());
}

#[test]
fn organization_variables_take_visibility_and_repositories() {
    let gh = github(&github_support::state());
    let set = |name: &str, extra: &[&str]| {
        let mut args = vec!["set", "github-org-vars:acme", name];
        args.extend_from_slice(extra);
        gh_escort(&gh).args(args).write_stdin("canary-set-value").assert().success();
    };
    set("PICKED", &["--repos", "app,acme/web"]);
    set("OPEN", &["--visibility", "all"]);
    set("QUIET", &[]);
    let vars = gh.call("GET", "/_fake/variables", None)["orgs/acme/actions"].clone();
    assert_eq!(
        (&vars["PICKED"]["visibility"], &vars["PICKED"]["selected_repository_ids"]),
        (&json!("selected"), &json!([101, 102]))
    );
    assert_eq!(vars["OPEN"]["visibility"], "all");
    assert_eq!(vars["QUIET"]["visibility"], "private");
    // An update without flags keeps who may read it.
    set("OPEN", &[]);
    assert_eq!(gh.call("GET", "/_fake/variables", None)["orgs/acme/actions"]["OPEN"]["visibility"], "all");
    let out = gh_escort(&gh).args(["ls", "github-org-vars:acme"]).output().unwrap();
    let listing = text(&out.stdout);
    assert_absent(&out.stdout, &["canary-set-value"], "ls");
    let picked = listing.lines().find(|l| l.starts_with("PICKED")).unwrap_or_else(|| panic!("{listing}"));
    assert!(picked.contains("selected") && picked.trim_end().ends_with('2'), "{listing}");
    gh_escort(&gh).args(["rm", "github-org-vars:acme", "--all", "--yes"]).assert().success();
    assert!(
        stored(&gh, "orgs/acme/actions").is_empty() && names(&gh, "/_fake/variables", "orgs/acme/actions").is_empty()
    );
}
