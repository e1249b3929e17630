//! The real peer for the requests: Prism (`@stoplight/prism-cli`) serving
//! GitHub's own OpenAPI descriptions (secrets, Actions variables) validates
//! every kind of request escort sends. escort talks to the fake GitHub (which has real keys); the fake
//! hands each request to Prism too and logs Prism's complaints.

use crate::common::prism::Prism;
use crate::github_support::{escort, github, state, with_existing};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The request's path with names replaced by the OpenAPI template's parameters.
fn template(method: &str, path: &str) -> String {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let t: Vec<&str> = segs
        .iter()
        .enumerate()
        .map(|(i, s)| match (segs[0], i) {
            ("repos", 1) => "{owner}",
            ("repos", 2) => "{repo}",
            ("repos", 4) if segs[3] == "environments" => "{environment_name}",
            ("orgs", 1) => "{org}",
            _ if i > 0 && segs[i - 1] == "secrets" && *s != "public-key" => "{secret_name}",
            _ if i > 0 && segs[i - 1] == "variables" => "{name}",
            _ => s,
        })
        .collect();
    format!("{method} /{}", t.join("/"))
}

#[test]
fn prism_finds_nothing_wrong_with_any_request() {
    let prism = Prism::start("github-secrets.openapi.json");
    // 130 secrets where GitHub allows them (a repository holds at most 100): a second page.
    let mut st = with_existing(state(), "orgs/acme/actions", 130);
    st["validate_with"] = json!(prism.url);
    st["secrets"]["orgs/acme/codespaces"] =
        json!({"PICKED": {"value": "v", "visibility": "selected", "selected_repository_ids": [101]}});
    st["secrets"]["user/codespaces"] = json!({"MINE": {"value": "v", "selected_repository_ids": [201]}});
    let fake = github(&st);

    // The validator is live: a request GitHub's description forbids is caught.
    let bad = fake.call(
        "POST",
        "/_fake/validate",
        Some(&json!({"method": "PUT", "path": "/orgs/acme/codespaces/secrets/X",
                     "body": {"encrypted_value": "QUJD", "key_id": "1", "visibility": "selected",
                              "selected_repository_ids": ["101"]}})),
    );
    assert!(!bad["violations"].as_array().unwrap().is_empty(), "Prism should refuse string ids here: {bad}");
    let good = fake.call(
        "POST",
        "/_fake/validate",
        Some(&json!({"method": "PUT", "path": "/orgs/acme/codespaces/secrets/X",
                     "body": {"encrypted_value": "QUJD", "key_id": "1", "visibility": "selected",
                              "selected_repository_ids": [101]}})),
    );
    assert_eq!(good["violations"], json!([]), "{good}");

    let run = |args: &[&str]| {
        escort(&fake).env("V", "value").args(args).assert().success();
    };
    let sync = |to: &str, extra: &[&str]| {
        let mut args = vec!["sync", "--from", "env", "--keys", "V", "--to", to];
        args.extend_from_slice(extra);
        run(&args);
    };
    for (to, app) in [
        ("github:acme/app", "actions"),
        ("github:acme/app", "codespaces"),
        ("github:acme/app", "dependabot"),
        ("github:acme/app@prod east", "actions"),
        ("github-user", "codespaces"),
    ] {
        sync(to, &["--app", app]);
        run(&["ls", to, "--app", app]);
        run(&["rm", to, "V", "--app", app, "--yes"]);
    }
    sync("github-user", &["--repos", "octocat/dots"]);
    for app in ["actions", "codespaces", "dependabot"] {
        for visibility in ["all", "private", "selected"] {
            sync("github-org:acme", &["--app", app, "--visibility", visibility]);
        }
        sync("github-org:acme", &["--app", app, "--repos", "app,web"]);
        sync("github-org:acme", &["--app", app]);
        run(&["ls", "github-org:acme", "--app", app]);
        run(&["rm", "github-org:acme", "V", "--app", app, "--yes"]);
    }
    run(&["ls", "github-user"]);
    // The organization's 130 secrets: a second page (a prune of them all would send 130
    // DELETEs of one template, each validated: a minute of Prism for nothing new).
    run(&["ls", "github-org:acme"]);

    let log = fake.requests();
    let mut kinds = BTreeSet::new();
    for r in &log {
        let (method, path) = (r["method"].as_str().unwrap(), r["path"].as_str().unwrap());
        let violations = r["violations"].as_array().expect("every request went to Prism");
        assert!(violations.is_empty(), "{method} {path} {}: {violations:?}", r["query"]);
        kinds.insert(template(method, path));
    }
    let pages: BTreeSet<&str> = log.iter().filter_map(|r| r["query"]["page"].as_str()).collect();
    assert!(pages.contains("2"), "a second page was listed");
    let expected = [
        "GET /repos/{owner}/{repo}",
        "DELETE /orgs/{org}/actions/secrets/{secret_name}",
        "GET /orgs/{org}/codespaces/secrets/{secret_name}/repositories",
        "GET /user/codespaces/secrets/{secret_name}/repositories",
        "PUT /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}",
        "PUT /user/codespaces/secrets/{secret_name}",
    ];
    for kind in expected {
        assert!(kinds.contains(kind), "{kind} was not exercised: {kinds:#?}");
    }
    // Every level and app: list, key, write, delete.
    let prefixes = [
        "/repos/{owner}/{repo}/actions",
        "/repos/{owner}/{repo}/codespaces",
        "/repos/{owner}/{repo}/dependabot",
        "/repos/{owner}/{repo}/environments/{environment_name}",
        "/orgs/{org}/actions",
        "/orgs/{org}/codespaces",
        "/orgs/{org}/dependabot",
        "/user/codespaces",
    ];
    for prefix in prefixes {
        for op in [
            "GET {}/secrets",
            "GET {}/secrets/public-key",
            "PUT {}/secrets/{secret_name}",
            "DELETE {}/secrets/{secret_name}",
        ] {
            let kind = op.replace("{}", prefix);
            assert!(kinds.contains(&kind), "{kind} was not exercised");
        }
    }
    let bodies: Vec<&Value> = log.iter().filter(|r| r["method"] == "PUT").map(|r| &r["body"]).collect();
    for visibility in ["all", "private", "selected"] {
        assert!(bodies.iter().any(|b| b["visibility"] == visibility), "visibility {visibility}");
    }
}

#[test]
fn prism_finds_nothing_wrong_with_any_variable_request() {
    let prism = Prism::start("github-variables.openapi.json");
    let mut st = state();
    st["validate_with"] = json!(prism.url);
    let existing: serde_json::Map<String, Value> =
        (0..35).map(|i| (format!("OLD_{i:02}"), json!({"value": "old"}))).collect();
    st["variables"] = json!({
        "repos/acme/app/actions": existing,
        "orgs/acme/actions": {"PICKED": {"value": "v", "visibility": "selected", "selected_repository_ids": [101]}}
    });
    let fake = github(&st);

    // The validator is live: an organization variable needs a visibility.
    let validate = |body: Value| {
        let req = json!({"method": "POST", "path": "/orgs/acme/actions/variables", "body": body});
        fake.call("POST", "/_fake/validate", Some(&req))["violations"].clone()
    };
    assert_ne!(validate(json!({"name": "X", "value": "v"})), json!([]), "Prism should want a visibility");
    assert_eq!(validate(json!({"name": "X", "value": "v", "visibility": "private"})), json!([]));

    let run = |value: &str, args: &[&str]| {
        escort(&fake).env("V", value).args(args).assert().success();
    };
    let sync = |to: &str, value: &str, extra: &[&str]| {
        let mut args = vec!["sync", "--from", "env", "--keys", "V", "--to", to];
        args.extend_from_slice(extra);
        run(value, &args);
    };
    for to in ["github-vars:acme/app", "github-vars:acme/app@prod east", "github-org-vars:acme"] {
        sync(to, "first", &[]);
        sync(to, "second", &[]);
        run("", &["ls", to]);
        run("", &["rm", to, "V", "--yes"]);
    }
    for (i, visibility) in ["all", "private", "selected"].into_iter().enumerate() {
        // A new name each time: a create sends the visibility, an update only when asked.
        let key = format!("V{i}");
        let args = ["sync", "--from", "env", "--keys", &format!("{key}=V"), "--to", "github-org-vars:acme"];
        escort(&fake).env("V", "v").args(args).args(["--visibility", visibility]).assert().success();
        escort(&fake).env("V", "w").args(args).args(["--visibility", visibility]).assert().success();
    }
    sync("github-org-vars:acme", "v", &["--repos", "app,web"]);

    let log = fake.requests();
    let mut kinds = BTreeSet::new();
    for r in &log {
        let (method, path) = (r["method"].as_str().unwrap(), r["path"].as_str().unwrap());
        kinds.insert(template(method, path));
        // `--repos` looks repositories up by name: a secrets-description request, checked above.
        if template(method, path) == "GET /repos/{owner}/{repo}" {
            continue;
        }
        let violations = r["violations"].as_array().expect("every request went to Prism");
        assert!(violations.is_empty(), "{method} {path} {}: {violations:?}", r["query"]);
    }
    assert!(log.iter().any(|r| r["query"]["page"] == "2"), "a second page was listed");
    assert!(kinds.contains("GET /orgs/{org}/actions/variables/{name}/repositories"), "{kinds:#?}");
    for prefix in [
        "/repos/{owner}/{repo}/actions",
        "/repos/{owner}/{repo}/environments/{environment_name}",
        "/orgs/{org}/actions",
    ] {
        for op in ["GET {}/variables", "POST {}/variables", "PATCH {}/variables/{name}", "DELETE {}/variables/{name}"] {
            let kind = op.replace("{}", prefix);
            assert!(kinds.contains(&kind), "{kind} was not exercised: {kinds:#?}");
        }
    }
    let bodies: Vec<&Value> = log.iter().filter(|r| r["method"] != "GET").map(|r| &r["body"]).collect();
    for visibility in ["all", "private", "selected"] {
        assert!(bodies.iter().any(|b| b["visibility"] == visibility), "visibility {visibility}");
    }
    assert!(bodies.iter().any(|b| b["selected_repository_ids"] == json!([101, 102])), "repository ids");
}
