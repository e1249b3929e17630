//! `escort ls`, `set` and `rm` on GitHub secrets, against the fake GitHub.

use crate::github_support::{escort, github, state, stored, text, value, with_existing, writes};
use serde_json::{Value, json};

const REPO: &str = "repos/acme/app/actions";

fn org_state() -> Value {
    let mut st = state();
    st["secrets"]["orgs/acme/dependabot"] = json!({
        "NPM_TOKEN": {"value": "n", "visibility": "selected", "selected_repository_ids": [101, 102],
                      "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-03-01T00:00:00Z"},
        "SHARED": {"value": "s", "visibility": "all"}
    });
    st
}

#[test]
fn ls_shows_names_dates_and_access_never_values() {
    let fake = github(&org_state());
    let out = escort(&fake).args(["ls", "github-org:acme", "--app", "dependabot"]).assert().success();
    let stdout = text(&out.get_output().stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0].split_whitespace().collect::<Vec<_>>(), ["NAME", "UPDATED", "CREATED", "VISIBILITY", "REPOS"]);
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["NPM_TOKEN", "2024-03-01T00:00:00Z", "2024-01-01T00:00:00Z", "selected", "2"]
    );
    assert!(lines[2].starts_with("SHARED") && lines[2].ends_with("all         -"), "{stdout}");

    let out =
        escort(&fake).args(["ls", "github-org:acme", "--app", "dependabot", "--format", "json"]).assert().success();
    let listed: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(listed["secrets"][0]["name"], "NPM_TOKEN");
    assert_eq!(listed["secrets"][0]["selected_repositories"], 2);
    assert_eq!(listed["secrets"][1]["visibility"], "all");
    assert!(listed["secrets"][1].get("selected_repositories").is_none());
    assert!(!text(&out.get_output().stdout).contains("\"value\""));
}

#[test]
fn ls_of_a_repository_pages_and_has_no_access_columns() {
    let fake = github(&with_existing(state(), REPO, 120));
    let out = escort(&fake).args(["ls", "github:acme/app"]).assert().success();
    let stdout = text(&out.get_output().stdout);
    assert_eq!(stdout.lines().count(), 121);
    assert!(stdout.lines().next().unwrap().trim_end().ends_with("CREATED"), "{stdout}");

    let out = escort(&fake).args(["ls", "github:acme/app@prod"]).assert().success();
    assert!(out.get_output().stdout.is_empty());
    assert!(text(&out.get_output().stderr).contains("no secrets"));
}

#[test]
fn set_takes_stdin_exactly() {
    let fake = github(&state());
    let value_in = "-----BEGIN KEY-----\nabc\n-----END KEY-----\n";
    let out =
        escort(&fake).args(["set", "github:acme/app", "TLS_KEY", "--raw"]).write_stdin(value_in).assert().success();
    assert!(text(&out.get_output().stderr).contains("created TLS_KEY"));
    assert_eq!(value(&fake, REPO, "TLS_KEY").as_deref(), Some(value_in));

    let out = escort(&fake).args(["set", "github:acme/app", "tls_key"]).write_stdin("v2").assert().success();
    assert!(text(&out.get_output().stderr).contains("updated tls_key"));
    assert_eq!(value(&fake, REPO, "TLS_KEY").as_deref(), Some("v2"));

    escort(&fake)
        .args(["set", "github-org:acme", "ORG_ONE", "--visibility", "selected", "--repos", "web"])
        .write_stdin("o")
        .assert()
        .success();
    let held = &stored(&fake, "orgs/acme/actions")["ORG_ONE"];
    assert_eq!(
        (held["visibility"].clone(), held["selected_repository_ids"].clone()),
        (json!("selected"), json!([102]))
    );
}

#[test]
fn set_refuses_bad_names_and_big_values_before_any_request() {
    let fake = github(&state());
    escort(&fake).args(["set", "github:acme/app", "GITHUB_X"]).write_stdin("v").assert().code(2);
    escort(&fake).args(["set", "github:acme/app", "OK"]).write_stdin("z".repeat(48 * 1024 + 1)).assert().code(2);
    escort(&fake).args(["set", "github:acme/app", "BIN"]).write_stdin(vec![0xff, 0xfe]).assert().code(2);
    assert!(fake.requests().is_empty());
}

#[test]
fn rm_deletes_after_confirmation() {
    let fake = github(&with_existing(state(), REPO, 5));
    // Nobody to ask and no --yes: refused, nothing deleted.
    let out = escort(&fake).args(["rm", "github:acme/app", "OLD_000"]).assert().code(2);
    assert!(text(&out.get_output().stderr).contains("--yes"));
    assert!(writes(&fake).is_empty());

    escort(&fake).args(["rm", "github:acme/app", "OLD_000", "old_001", "--yes"]).assert().success();
    assert_eq!(stored(&fake, REPO).len(), 3);

    // A name that is not there fails alone: the others are deleted (exit 4).
    let out = escort(&fake).args(["rm", "github:acme/app", "OLD_002", "NOPE", "--yes"]).assert().code(4);
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("delete NOPE"));
    // Not on a terminal: no bar, one line for the target when it is done, its
    // counts in one order whichever of the two deletes (run at once) ends first.
    let progress: Vec<&str> = stderr.lines().filter(|l| l.contains("1 deleted")).collect();
    assert_eq!(progress, ["escort: Actions secrets of acme/app: 1 deleted, 1 failed"], "{stderr}");
    assert_eq!(stored(&fake, REPO).len(), 2);

    escort(&fake).args(["rm", "github:acme/app", "--all"]).assert().code(2);
    let out = escort(&fake).args(["rm", "github:acme/app", "--all", "--yes", "--format", "json"]).assert().success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["results"].as_array().unwrap().len(), 2);
    assert!(stored(&fake, REPO).is_empty());

    let out = escort(&fake).args(["rm", "github:acme/app", "--all", "--yes"]).assert().success();
    assert!(text(&out.get_output().stderr).contains("nothing to delete"));
}

#[test]
fn rm_needs_names_or_all() {
    let fake = github(&state());
    escort(&fake).args(["rm", "github:acme/app"]).assert().code(2);
    escort(&fake).args(["rm", "github:acme/app", "A", "--all", "--yes"]).assert().code(2);
    assert!(fake.requests().is_empty());
}

/// A GitHub token the API refuses: the error names the host and which variable
/// the token came from; `-v` shows each request and the token's source, never it.
#[test]
fn a_refused_token_names_its_source_and_verbose_never_shows_it() {
    let fake = github(&state());
    let host = fake.url.trim_end_matches('/').to_string();
    let out = escort(&fake)
        .env_remove("GITHUB_TOKEN")
        .env("GH_TOKEN", "ghp-CANARY-wrong-0d4f")
        .args(["ls", "github:acme/app", "-v"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("failed at {host}: GET /repos/acme/app/actions/secrets returned 401")), "{err}");
    assert!(err.contains("the token came from GH_TOKEN"), "{err}");
    assert!(err.contains(&format!("escort: debug: token for {host} from GH_TOKEN")), "{err}");
    assert!(
        err.contains(&format!("escort: debug: GET {host}/repos/acme/app/actions/secrets (attempt 1): 401")),
        "{err}"
    );
    assert!(!err.contains("CANARY"), "{err}");
}
