//! Routes, `escort status` and route syncs (docs/routes.md: "Routes", "escort status",
//! "escort sync") against the fake ESC (with a revision history) and the fake
//! GitHub: missing, then ok, then nothing written, then exactly the stale key.

use crate::common::run::Run;
use crate::common::{Fake, Untouched, assert_absent, peer_python};
use crate::github_support::{self, TOKEN, github, writes};
use serde_json::{Value, json};
use std::path::Path;

const ESC_TOKEN: &str = "tok-fleet";
const CANARIES: [&str; 3] = ["canary-a-first", "canary-a-second", "canary-c-value"];

/// A definition as the service stores it: each secret a ciphertext (`a`: A's).
fn definition(a: &str) -> String {
    format!(
        "values:\n  environmentVariables:\n    A: {{fn::secret: {{ciphertext: {a}}}}}\n    B: plain-b\n    \
         C: {{fn::secret: {{ciphertext: Q0lQSEVSLUM=}}}}\n"
    )
}

/// acme/app/prod: A changed in the second (current) revision; both dated 2024.
fn esc() -> Fake {
    let values = |a: &str| json!({"environmentVariables": {"A": {"fn::secret": a}, "B": "plain-b", "C": {"fn::secret": "canary-c-value"}}});
    let state = json!({
        "token": ESC_TOKEN,
        "environments": {"acme/app/prod": {
            "yaml": definition("Q0lQSEVSLUEy"),
            "values": values("canary-a-second"),
            "history": [{"yaml": definition("Q0lQSEVSLUEx"), "values": values("canary-a-first")}]
        }},
        "ciphertexts": {"Q0lQSEVSLUEx": "canary-a-first", "Q0lQSEVSLUEy": "canary-a-second",
                        "Q0lQSEVSLUM=": "canary-c-value"}
    });
    Fake::start_with(&peer_python(), "esc_server.py", &state)
}

const MANIFEST: &str = r#"
[sync.prod]
from = "esc:acme/app/prod"
to = ["github:acme/app", "github:acme/web", "dotenv:prod.env"]
"#;

fn escort(dir: &Path, esc: &Fake, gh: &Fake) -> Run {
    Run::new_in(dir).esc(esc, ESC_TOKEN).github(gh, TOKEN)
}

/// Run, check that no canary shows, and return (exit code, stdout).
fn run(r: Run, args: &[&str]) -> (i32, String) {
    run_without(r, args, &CANARIES)
}

/// Run, check that none of `canaries` shows, and return (exit code, stdout + stderr).
pub fn run_without(r: Run, args: &[&str], canaries: &[&str]) -> (i32, String) {
    let out = r.args(args).output();
    assert_absent(&out.stdout, canaries, &format!("{args:?}: stdout"));
    assert_absent(&out.stderr, canaries, &format!("{args:?}: stderr"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap(), format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)))
}

fn statuses(dir: &Path, esc: &Fake, gh: &Fake) -> (i32, Value) {
    let (code, out) = run(escort(dir, esc, gh), &["status", "--format", "json"]);
    let json = serde_json::from_str(out.lines().next().unwrap_or_default()).unwrap_or_else(|_| panic!("{out}"));
    (code, json)
}

/// (key, target, status) of every cell of a `status --format json` report, sorted.
pub fn cells(report: &Value) -> Vec<(String, String, String)> {
    let mut cells: Vec<(String, String, String)> = report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["key"].as_str().unwrap().into(),
                c["target"].as_str().unwrap().into(),
                c["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    cells.sort();
    cells
}

fn every(report: &Value, status: &str) -> bool {
    cells(report).iter().all(|(_, _, s)| s == status)
}

#[test]
fn status_then_sync_then_nothing_then_exactly_what_changed() {
    let (esc, gh) = (esc(), github(&github_support::state()));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), MANIFEST).unwrap();

    // Nothing copied yet: every cell is missing.
    let (code, report) = statuses(dir.path(), &esc, &gh);
    assert_eq!(code, 1, "{report}");
    assert_eq!(cells(&report).len(), 9, "{report}");
    assert!(every(&report, "missing") && report["ok"] == false, "{report}");
    assert_eq!(report["summary"]["missing"], 9);

    let (code, out) = run(escort(dir.path(), &esc, &gh), &["sync"]);
    assert_eq!(code, 0, "{out}");
    let (code, report) = statuses(dir.path(), &esc, &gh);
    assert_eq!(code, 0, "{report}");
    assert!(every(&report, "ok") && report["ok"] == true, "{report}");

    // Nothing changed at the source: no write anywhere.
    gh.call("POST", "/_fake/reset-log", None);
    esc.call("POST", "/_fake/reset-log", None);
    let before = Untouched::mark(&dir.path().join("prod.env"));
    let (code, out) = run(escort(dir.path(), &esc, &gh), &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(writes(&gh), Vec::<Value>::new(), "a second sync wrote to GitHub");
    assert!(esc.requests().iter().all(|r| r["method"] != "PATCH"));
    before.assert_untouched();
    assert!(out.contains("unchanged"), "{out}");

    // One key changes in ESC: that key alone is stale (or drifted, where the value is read back).
    let (code, out) = run(
        escort(dir.path(), &esc, &gh).env("A", "canary-a-third"),
        &["sync", "--from", "env", "--keys", "A", "--to", "esc:acme/app/prod"],
    );
    assert_eq!(code, 0, "{out}");
    let (code, report) = statuses(dir.path(), &esc, &gh);
    assert_eq!(code, 1, "{report}");
    let not_ok: Vec<(String, String, String)> = cells(&report).into_iter().filter(|(_, _, s)| s != "ok").collect();
    assert_eq!(
        not_ok,
        [
            ("A".into(), "dotenv:prod.env".into(), "drifted".into()),
            ("A".into(), "github:acme/app".into(), "stale".into()),
            ("A".into(), "github:acme/web".into(), "stale".into()),
        ]
    );

    // Dates are whole seconds, and a copy written in the second of the change
    // counts as stale: let that second pass so the next write is after it.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    gh.call("POST", "/_fake/reset-log", None);
    let (code, out) = run(escort(dir.path(), &esc, &gh), &["sync", "prod"]);
    assert_eq!(code, 0, "{out}");
    let mut written: Vec<String> = writes(&gh).iter().map(|r| r["path"].as_str().unwrap().to_string()).collect();
    written.sort();
    assert_eq!(written, ["/repos/acme/app/actions/secrets/A", "/repos/acme/web/actions/secrets/A"], "{out}");
    let env_file = std::fs::read_to_string(dir.path().join("prod.env")).unwrap();
    assert!(env_file.contains("A='canary-a-third'"), "the .env copy was not updated");
    let (code, report) = statuses(dir.path(), &esc, &gh);
    assert_eq!((code, every(&report, "ok")), (0, true), "{report}");

    // --force writes every key again.
    gh.call("POST", "/_fake/reset-log", None);
    let (code, out) = run(escort(dir.path(), &esc, &gh), &["sync", "--force"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(writes(&gh).len(), 6, "{out}");
}

#[test]
fn a_one_off_sync_skips_current_copies() {
    let (esc, gh) = (esc(), github(&github_support::state()));
    let dir = tempfile::tempdir().unwrap();
    let sync = |extra: &[&str]| {
        let mut args = vec!["sync", "--from", "esc:acme/app/prod", "--to", "github:acme/app"];
        args.extend_from_slice(extra);
        run(escort(dir.path(), &esc, &gh), &args)
    };
    assert_eq!(sync(&[]).0, 0);
    assert_eq!(writes(&gh).len(), 3);
    gh.call("POST", "/_fake/reset-log", None);
    let (code, out) = sync(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(writes(&gh).is_empty(), "{out}");
    let (code, out) = sync(&["--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 to create, 0 to update, 0 to prune, 3 unchanged"), "{out}");
}

#[test]
fn bad_routes_name_the_file_and_line() {
    let cases = [
        (
            "[sync.x]\nfrom = \"esc:a/b/c\"\nto = [\"gitlab:a/b\"]\n",
            "escort.toml:3: sync.x: unknown target `gitlab:a/b`",
        ),
        ("[sync.x]\nfrom = \"esc:a/b/c\"\nto = []\n", "escort.toml:3: sync.x: `to` is empty"),
        (
            "[sync.x]\nfrom = \"esc:a/b/c\"\nto = [\"fly:app\"]\nprune = \"some\"\n",
            "escort.toml:4: sync.x: `prune` is `some`",
        ),
        ("[sync.x]\nfrom = \"vault\"\nto = [\"fly:app\"]\n", "escort.toml:2: sync.x: unknown source `vault`"),
        (
            "[sync.x]\nfrom = \"esc:a/b/c\"\nto = [\"github:a/b\"]\nplain = \"maybe\"\n",
            "escort.toml:4: sync.x: `plain` is `maybe`: use variables or secrets or skip",
        ),
        (
            "[sync.x]\nfrom = \"esc:a/b/c\"\nto = [\"github-user-vars\"]\n",
            "escort.toml:3: sync.x: target `github-user-vars`: GitHub has no user variables",
        ),
        (
            "[sync.x]\nfrom = \"env\"\nto = [\"fly:app\"]\ngroups = [\"nope\"]\n",
            "escort.toml:4: sync.x: group `nope` is not defined",
        ),
    ];
    for (manifest, want) in cases {
        let out = Run::new().file("escort.toml", manifest).args(["status"]).output();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{manifest}: {err}");
        assert!(err.contains(want), "{manifest}: {err}");
    }
    let out = Run::new().file("escort.toml", MANIFEST).args(["status", "staging"]).output();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such route in escort.toml: staging"));
}

#[test]
fn an_unreadable_target_is_named_and_the_others_reported() {
    let (esc, gh) = (esc(), github(&github_support::state()));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), MANIFEST.replace("github:acme/web", "github:acme/nope")).unwrap();
    let out = escort(dir.path(), &esc, &gh).args(["status", "--format", "json"]).output();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("github:acme/nope"), "{err}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cells(&report).len(), 6, "{report}");
}

#[test]
fn github_secrets_merge_into_esc_in_one_revision() {
    let (esc, gh) = (esc(), github(&github_support::state()));
    let dir = tempfile::tempdir().unwrap();
    let secrets = r#"{"github_token": "ghs-canary-job-token", "NPM_TOKEN": "canary-npm", "C": "canary-c-value"}"#;
    let (code, out) = run(
        escort(dir.path(), &esc, &gh).env("ESCORT_GITHUB_SECRETS", secrets),
        &["sync", "--from", "github-secrets", "--to", "esc:acme/app/prod"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("canary-npm") && !out.contains("ghs-canary"), "{out}");
    let patches: Vec<Value> = esc.requests().into_iter().filter(|r| r["method"] == "PATCH").collect();
    assert_eq!(patches.len(), 1, "one revision");
    let (_, listed) = run(escort(dir.path(), &esc, &gh), &["ls", "esc:acme/app/prod", "--format", "json"]);
    let listed: Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    let names: Vec<&str> = listed["secrets"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["A", "B", "C", "NPM_TOKEN"], "github_token is dropped");
}

#[test]
fn rotation_dates_a_key_at_its_source_not_at_its_fresh_copy() {
    // A changed 200 days ago in ESC; its group rotates every 90 days.
    let long_ago = "2026-05-13T00:00:00Z";
    let values = json!({"environmentVariables": {"A": {"fn::secret": "canary-a-first"}}});
    let yaml = "values:\n  environmentVariables:\n    A: {fn::secret: canary-a-first}\n";
    let state = json!({"token": ESC_TOKEN, "environments": {"acme/app/prod": {
        "yaml": yaml, "values": values, "created": long_ago
    }}});
    let esc = Fake::start_with(&peer_python(), "esc_server.py", &state);
    // The fake GitHub stamps the copy with escort's clock (ESCORT_NOW), not the real one.
    let now = "2026-11-29T00:00:00Z";
    let mut gh_state = github_support::state();
    gh_state["clock"] = json!(now);
    let gh = github(&gh_state);
    let dir = tempfile::tempdir().unwrap();
    let manifest = "[groups.api-keys]\nrotate_days = 90\n[secrets.A]\ngroup = \"api-keys\"\n\
                    [sync.prod]\nfrom = \"esc:acme/app/prod\"\nto = [\"github:acme/app\"]\n";
    std::fs::write(dir.path().join("escort.toml"), manifest).unwrap();
    let at = |r: Run| r.env("ESCORT_NOW", now);
    // The copy is written now: by its own date it is fresh.
    assert_eq!(run(at(escort(dir.path(), &esc, &gh)), &["sync"]).0, 0);
    let (code, out) = run(at(escort(dir.path(), &esc, &gh)), &["rotation", "--target", "github:acme/app"]);
    assert_eq!(code, 0, "{out}");
    // Dated at the source, it is 200 days old: overdue.
    let (code, out) = run(at(escort(dir.path(), &esc, &gh)), &["rotation", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let report: Value = serde_json::from_str(&out[..out.rfind('}').unwrap() + 1]).unwrap();
    let row = &report["secrets"][0];
    assert_eq!(
        (row["name"].as_str(), row["status"].as_str(), row["age_days"].as_i64()),
        (Some("A"), Some("overdue"), Some(200))
    );
    assert_eq!(report["copies"][0]["target"], "github:acme/app");
    assert_eq!(report["copies"][0]["status"], "ok");
}
