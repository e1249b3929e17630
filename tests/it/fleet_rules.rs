//! What a route sync must not lose and the targets' own rules (README,
//! "Routes", "escort status"): keys the source holds without a value and keys
//! another route delivers are never pruned; GitHub's count limits refuse a
//! sync before its first write; an organization copy a repository secret
//! overrides is `shadowed`.

use crate::common::run::Run;
use crate::common::{Fake, peer_python};
use crate::github_support::{self, TOKEN, github, writes};
use serde_json::{Value, json};
use std::path::Path;

const ESC_TOKEN: &str = "tok-rules";
const CANARIES: [&str; 3] = ["canary-rules-a", "canary-rules-old-n", "canary-rules-shared"];

/// acme/app/prod as the service opens it: A has a value, N is null and U is
/// unknown (ESC could not resolve it).
fn esc() -> Fake {
    let state = json!({
        "token": ESC_TOKEN,
        "environments": {"acme/app/prod": {
            "yaml": "values:\n  environmentVariables:\n    A: canary-rules-a\n    N: null\n",
            "properties_raw": {"environmentVariables": {"value": {
                "A": {"value": "canary-rules-a", "secret": true},
                "N": {"value": null},
                "U": {"unknown": true}
            }}}
        }}
    });
    Fake::start_with(&peer_python(), "esc_server.py", &state)
}

fn escort(dir: &Path, esc: &Fake, gh: &Fake) -> Run {
    Run::new_in(dir).esc(esc, ESC_TOKEN).github(gh, TOKEN)
}

/// Run, check that no canary shows, and return (exit code, stdout + stderr).
fn run(r: Run, args: &[&str]) -> (i32, String) {
    crate::fleet::run_without(r, args, &CANARIES)
}

fn report(dir: &Path, esc: &Fake, gh: &Fake) -> Value {
    let (_, out) = run(escort(dir, esc, gh), &["status", "--format", "json"]);
    serde_json::from_str(out.lines().next().unwrap_or_default()).unwrap_or_else(|_| panic!("{out}"))
}

#[test]
fn keys_without_a_value_and_other_routes_keys_are_never_pruned() {
    let (esc, gh) = (esc(), github(&github_support::state()));
    let dir = tempfile::tempdir().unwrap();
    // `shared` is not run: its source is read only to know what it delivers.
    std::fs::write(
        dir.path().join("escort.toml"),
        "[sync.prod]\nfrom = \"esc:acme/app/prod\"\nto = [\"dotenv:prod.env\"]\nprune = \"all\"\n\n\
         [sync.shared]\nfrom = \"dotenv:shared.env\"\nkeys = [\"SHARED\"]\nto = [\"dotenv:prod.env\"]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("shared.env"), "SHARED=canary-rules-shared\n").unwrap();
    std::fs::write(
        dir.path().join("prod.env"),
        "A=old\nN=canary-rules-old-n\nU=kept-u\nSHARED=canary-rules-shared\nGONE=pruned\n",
    )
    .unwrap();

    let (code, out) = run(escort(dir.path(), &esc, &gh), &["sync", "prod", "--yes"]);
    assert_eq!(code, 0, "{out}");
    let file = std::fs::read_to_string(dir.path().join("prod.env")).unwrap();
    for kept in ["N=", "U=", "SHARED="] {
        assert!(file.lines().any(|l| l.starts_with(kept)), "{kept} was pruned: {out}");
    }
    assert!(!file.contains("GONE="), "the route's own extra key was not pruned: {out}");
    assert!(file.contains("A='canary-rules-a'"), "A was not written");

    // The cells of the route say why: the source holds N and U without a value.
    let report = report(dir.path(), &esc, &gh);
    let cell = |key: &str| {
        report["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == key && c["route"] == "prod")
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!((&cell("N")["status"], &cell("N")["source_value"]), (&json!("unknown"), &json!("null")), "{report}");
    assert_eq!((&cell("U")["status"], &cell("U")["source_value"]), (&json!("unknown"), &json!("unknown")));
    assert_eq!(cell("SHARED"), Value::Null, "another route's key is not this route's extra: {report}");
    let (_, text) = run(escort(dir.path(), &esc, &gh), &["status"]);
    assert!(text.contains("unknown (source value null)"), "{text}");

    // A second sync writes nothing.
    let before = std::fs::read_to_string(dir.path().join("prod.env")).unwrap();
    let (code, out) = run(escort(dir.path(), &esc, &gh), &["sync", "--yes"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read_to_string(dir.path().join("prod.env")).unwrap(), before);
    assert!(writes(&gh).is_empty());
}

#[test]
fn a_sync_past_a_repository_s_100_secrets_writes_nothing_and_names_the_limit() {
    let state = github_support::with_existing(github_support::state(), "repos/acme/app/actions", 98);
    let (esc, gh) = (esc(), github(&state));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("new.env"), "NEW_1=canary-rules-a\nNEW_2=canary-rules-a\nNEW_3=canary-rules-a\n")
        .unwrap();
    std::fs::write(
        dir.path().join("escort.toml"),
        "[sync.new]\nfrom = \"dotenv:new.env\"\nto = [\"github:acme/app\", \"github:acme/web\"]\n",
    )
    .unwrap();
    for args in [&["sync"][..], &["sync", "--from", "dotenv:new.env", "--to", "github:acme/app"]] {
        let (code, out) = run(escort(dir.path(), &esc, &gh), args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(out.contains("would hold 101 secrets"), "{out}");
        assert!(out.contains("GitHub allows 100 secrets per repository"), "{out}");
        // Refused before the first write, to every target of the sync.
        assert_eq!(writes(&gh), Vec::<Value>::new(), "{args:?}");
    }
    // Two of them fit: written.
    std::fs::write(dir.path().join("new.env"), "NEW_1=canary-rules-a\nNEW_2=canary-rules-a\n").unwrap();
    let (code, out) = run(escort(dir.path(), &esc, &gh), &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(writes(&gh).len(), 4, "{out}");
}

#[test]
fn an_organization_copy_a_repository_secret_overrides_is_shadowed_naming_the_repository() {
    let mut state = github_support::state();
    state["secrets"]["repos/acme/web/actions"] = json!({"A": {"value": "canary-rules-old-n"}});
    let (esc, gh) = (esc(), github(&state));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("org.env"), "A=canary-rules-a\nB=canary-rules-shared\n").unwrap();
    std::fs::write(
        dir.path().join("escort.toml"),
        "[sync.org]\nfrom = \"dotenv:org.env\"\nto = [\"github-org:acme\"]\nrepos = [\"web\", \"acme/app\"]\n",
    )
    .unwrap();
    // The copies are dated by the second: let the source's second pass.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (code, out) = run(escort(dir.path(), &esc, &gh), &["sync"]);
    assert_eq!(code, 0, "{out}");

    let (code, out) = run(escort(dir.path(), &esc, &gh), &["status", "--format", "json"]);
    let report: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap_or_else(|_| panic!("{out}"));
    let cell = |key: &str| report["cells"].as_array().unwrap().iter().find(|c| c["key"] == key).unwrap().clone();
    assert_eq!(code, 1, "a shadowed copy fails the status: {report}");
    assert_eq!((&cell("A")["status"], &cell("A")["shadowed_by"]), (&json!("shadowed"), &json!("acme/web")), "{report}");
    assert_eq!(cell("B")["status"], "ok", "{report}");
    assert_eq!(report["summary"]["shadowed"], 1);
    let (_, text) = run(escort(dir.path(), &esc, &gh), &["status"]);
    assert!(text.contains("shadowed (by acme/web)"), "{text}");

    // Writing the organization copy again would change nothing: not written.
    gh.call("POST", "/_fake/reset-log", None);
    let (code, out) = run(escort(dir.path(), &esc, &gh), &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(writes(&gh), Vec::<Value>::new(), "{out}");
}

/// The route `[sync.org]` from `org.env` (`content`) to `github-org:acme`
/// for `repos`, synced once (its copies current by date), then its status.
fn org_route_synced(gh: &Fake, esc: &Fake, dir: &Path, content: &str, repos: &str) -> (i32, Value, String) {
    std::fs::write(dir.join("org.env"), content).unwrap();
    std::fs::write(
        dir.join("escort.toml"),
        format!("[sync.org]\nfrom = \"dotenv:org.env\"\nto = [\"github-org:acme\"]\nrepos = [{repos}]\n"),
    )
    .unwrap();
    // The copies are dated by the second: let the source's second pass.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (code, out) = run(escort(dir, esc, gh), &["sync"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(escort(dir, esc, gh), &["status", "--format", "json"]);
    let report = serde_json::from_str(out.lines().next().unwrap()).unwrap_or_else(|_| panic!("{out}"));
    (code, report, out)
}

fn cell_of(report: &Value, key: &str) -> Value {
    report["cells"].as_array().unwrap().iter().find(|c| c["key"] == key).unwrap_or_else(|| panic!("{report}")).clone()
}

#[test]
fn a_secret_of_any_environment_of_a_named_repository_shadows_the_organization_copy() {
    let mut state = github_support::state();
    // No route names acme/app@prod: the environment is found by listing acme/app's.
    state["secrets"]["repos/acme/app/environments/prod"] = json!({"B": {"value": "canary-rules-old-n"}});
    let (esc, gh) = (esc(), github(&state));
    let dir = tempfile::tempdir().unwrap();
    let (code, report, _) =
        org_route_synced(&gh, &esc, dir.path(), "A=canary-rules-a\nB=canary-rules-shared\n", "\"web\", \"acme/app\"");
    assert_eq!(code, 1, "{report}");
    assert_eq!(cell_of(&report, "A")["status"], "ok", "{report}");
    assert_eq!(
        (&cell_of(&report, "B")["status"], &cell_of(&report, "B")["shadowed_by"]),
        (&json!("shadowed"), &json!("acme/app@prod"))
    );
    let listed: Vec<Value> =
        gh.requests().into_iter().filter(|r| r["path"] == "/repos/acme/app/environments").collect();
    assert!(listed.iter().all(|r| r["query"]["per_page"] == "100"), "{listed:?}");

    // Environments that cannot be listed: named, and the status fails (never ok by default).
    gh.set_faults(json!([{"method": "GET", "path_contains": "/acme/app/environments", "status": 403, "times": -1}]));
    let (code, out) = run(escort(dir.path(), &esc, &gh), &["status"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("acme/app and its environments hold and may read (to tell shadowed"), "{out}");
}

#[test]
fn organization_copies_beyond_the_first_100_a_repository_gets_are_shadowed_or_unknown() {
    let mut state = github_support::state();
    // acme/web may read 100 organization secrets already, and the route's three.
    let many: serde_json::Map<String, Value> =
        (0..100).map(|i| (format!("K{i:03}"), json!({"value": "x", "visibility": "all"}))).collect();
    state["secrets"]["orgs/acme/actions"] = Value::Object(many);
    let (esc, gh) = (esc(), github(&state));
    let dir = tempfile::tempdir().unwrap();
    let content = "A=canary-rules-a\nZZ=canary-rules-shared\nK_A=canary-rules-old-n\n";
    let (code, report, out) = org_route_synced(&gh, &esc, dir.path(), content, "\"web\"");
    assert_eq!(code, 1, "a copy the workflows do not get fails the status: {report}");
    assert!(out.contains("acme/web may read 103 organization secrets: its workflows get only the first 100"), "{out}");
    assert_eq!(cell_of(&report, "A")["status"], "ok", "the first by name: {report}");
    let zz = cell_of(&report, "ZZ");
    assert_eq!((&zz["status"], &zz["shadowed_by"]), (&json!("shadowed"), &json!("acme/web")), "{report}");
    assert!(zz["reason"].as_str().unwrap().contains("beyond the first 100"), "{zz}");
    // 101st in byte order, 2nd with `_` first: GitHub does not say which.
    let k_a = cell_of(&report, "K_A");
    assert_eq!(k_a["status"], "unknown", "never ok: {report}");
    assert!(k_a["reason"].as_str().unwrap().contains("sorts `_`"), "{k_a}");
    let (_, text) = run(escort(dir.path(), &esc, &gh), &["status"]);
    assert!(text.contains("ZZ in github-org:acme: shadowed: beyond the first 100"), "{text}");

    // Writing them again would not move them: not written.
    gh.call("POST", "/_fake/reset-log", None);
    let (code, out) = run(escort(dir.path(), &esc, &gh), &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(writes(&gh), Vec::<Value>::new(), "{out}");
}

const FLY_TOKEN: &str = "fly-rules-token";

fn fly_escort(dir: &Path, fly: &Fake) -> Run {
    Run::new_in(dir).env("FLY_API_TOKEN", FLY_TOKEN).env("FLY_API_URL", &fly.url)
}

/// What machine m1 of `app` runs: its secrets version and names.
fn machine(fly: &Fake) -> (u64, Vec<String>) {
    let machines = fly.call("GET", "/_fake/machines/app", None);
    let m = &machines[0];
    let names = m["secrets"].as_object().unwrap().keys().cloned().collect();
    (m["secrets_version"].as_u64().unwrap(), names)
}

#[test]
fn fly_copies_are_staged_until_the_machines_are_updated_and_deploy_updates_them() {
    let fly = Fake::start(
        "fly_server.py",
        &json!({"token": FLY_TOKEN, "apps": {"app": {
            "secrets_version": 1,
            "releases": [{"version": 1, "created_at": "2024-01-01T00:00:00Z"}],
            "machines": [{"id": "m1", "release_version": 1}]
        }}}),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fly.env"), "A=canary-rules-a\nB=canary-rules-shared\n").unwrap();
    std::fs::write(dir.path().join("escort.toml"), "[sync.fly]\nfrom = \"dotenv:fly.env\"\nto = [\"fly:app\"]\n")
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let status = |dir: &Path| {
        let (code, out) = run(fly_escort(dir, &fly), &["status", "--format", "json"]);
        let report: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap_or_else(|_| panic!("{out}"));
        let statuses: Vec<String> =
            report["cells"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap().to_string()).collect();
        (code, statuses)
    };

    // The write's secrets version is reported; the machine does not see it yet.
    let (code, out) = run(fly_escort(dir.path(), &fly), &["sync", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let result: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap_or_else(|_| panic!("{out}"));
    assert_eq!(result["secrets_version"], 2, "{out}");
    assert_eq!(machine(&fly), (1, vec![]));
    assert_eq!(status(dir.path()), (1, vec!["staged".to_string(), "staged".to_string()]));
    let (_, text) = run(fly_escort(dir.path(), &fly), &["sync", "--dry-run"]);
    assert!(text.contains("staged"), "{text}");

    // --deploy writes nothing more, and updates the machine under its lease, as flyctl does.
    fly.call("POST", "/_fake/reset-log", None);
    let (code, out) = run(fly_escort(dir.path(), &fly), &["sync", "--deploy"]);
    assert_eq!(code, 0, "{out}");
    let steps: Vec<String> = fly
        .requests()
        .iter()
        .filter(|r| r["method"] != "GET" || r["path"].as_str().unwrap().ends_with("/wait"))
        .map(|r| format!("{} {}", r["method"].as_str().unwrap(), r["path"].as_str().unwrap()))
        .collect();
    let m1 = "/v1/apps/app/machines/m1";
    assert_eq!(
        steps,
        [format!("POST {m1}/lease"), format!("POST {m1}"), format!("GET {m1}/wait"), format!("DELETE {m1}/lease")],
        "{out}"
    );
    assert_eq!(machine(&fly), (2, vec!["A".to_string(), "B".to_string()]));
    assert_eq!(status(dir.path()), (0, vec!["ok".to_string(), "ok".to_string()]));

    // Nothing staged, nothing written: a second --deploy sends nothing.
    fly.call("POST", "/_fake/reset-log", None);
    let (code, out) = run(fly_escort(dir.path(), &fly), &["sync", "--deploy"]);
    assert_eq!(code, 0, "{out}");
    assert!(fly.requests().iter().all(|r| r["method"] == "GET"), "{out}");

    // A route with `deploy = true` deploys what it writes. (The fake logs no
    // machine body, so that min_secrets_version is sent is not checked here.)
    std::fs::write(
        dir.path().join("escort.toml"),
        "[sync.fly]\nfrom = \"dotenv:fly.env\"\nto = [\"fly:app\"]\ndeploy = true\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("fly.env"), "A=canary-rules-old-n\nB=canary-rules-shared\n").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (code, out) = run(fly_escort(dir.path(), &fly), &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("secrets version 3"), "{out}");
    assert!(fly.requests().iter().any(|r| r["path"] == "/v1/apps/app/machines/m1"), "{out}");
    assert_eq!(machine(&fly).0, 3);
    assert_eq!(status(dir.path()).0, 0);
}

#[test]
fn a_sync_past_the_256_kb_variables_budget_writes_nothing_and_names_it() {
    let mut state = github_support::state();
    let big: serde_json::Map<String, Value> =
        (0..6).map(|i| (format!("BIG_{i}"), json!({"value": "v".repeat(42_000)}))).collect();
    state["variables"] = json!({"repos/acme/app/actions": big});
    let gh = github(&state);
    let esc = Fake::start_with(
        &peer_python(),
        "esc_server.py",
        &json!({"token": ESC_TOKEN, "environments": {"acme/app/prod": {
            "values": {"environmentVariables": {"PLAIN": "p".repeat(20_000)}}
        }}}),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("escort.toml"),
        "[sync.p]\nfrom = \"esc:acme/app/prod\"\nto = [\"github:acme/app\"]\n",
    )
    .unwrap();
    for args in [&["sync"][..], &["sync", "--from", "esc:acme/app/prod", "--to", "github-vars:acme/app"]] {
        let (code, out) = run(escort(dir.path(), &esc, &gh), args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(out.contains("acme/app (with organization acme's variables) would read"), "{out}");
        assert!(
            out.contains("GitHub allows 256 KB of organization and repository variables per workflow run"),
            "{out}"
        );
        assert_eq!(writes(&gh), Vec::<Value>::new(), "{args:?}");
    }
}
