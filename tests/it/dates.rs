//! Dates that mean what they say (README, "escort status": what each date
//! means), without a ledger: keys an environment gets from its imports are
//! dated by the imports' revisions at their pins, what cannot be dated says
//! why, and a date that is only "changed before" is never a younger age.
//! Against the fake ESC, which evaluates imports at their pins.

use crate::common::run::Run;
use crate::common::{Fake, assert_absent, peer_python};
use crate::github_support::{self, TOKEN, github, writes};
use crate::ledger::{CANARIES, ESC_TOKEN, escort_gh, gh_report, not_ok, save};
use serde_json::{Value, json};
use std::path::Path;

const TWO_REPOS: &str = r#"
[sync.prod]
from = "esc:acme/app/prod"
to = ["github:acme/app", "github:acme/web"]
"#;

/// `base` exports FROM_BASE and holds `db.password`; `prod` imports it
/// (as `import`) and exports `db.password` as READS.
fn fake(import: &str) -> Fake {
    Fake::start_with(
        &peer_python(),
        "esc_server.py",
        &json!({"token": ESC_TOKEN, "default_org": "acme", "environments": {
            "acme/app/base": {"values": {
                "db": {"password": {"fn::secret": "canary-db-one"}},
                "environmentVariables": {"FROM_BASE": {"fn::secret": "canary-provider-one"}}
            }},
            "acme/app/prod": {"imports": [import], "values": {"environmentVariables": {
                "READS": "${db.password}", "OWN": "plain-own"
            }}}
        }}),
    )
}

fn base_yaml(password: &str, from_base: &str) -> String {
    format!(
        "values:\n  db:\n    password:\n      fn::secret: {password}\n  environmentVariables:\n    \
         FROM_BASE:\n      fn::secret: {from_base}\n"
    )
}

/// The secrets a sync wrote, `REPO NAME`, sorted.
fn written(gh: &Fake) -> Vec<String> {
    let mut paths: Vec<String> = writes(gh)
        .iter()
        .map(|r| {
            let path = r["path"].as_str().unwrap_or_default();
            path.trim_start_matches("/repos/").replace("/actions/secrets/", " ")
        })
        .collect();
    paths.sort();
    paths
}

/// Sync, past the second of the last save (the fake may date a revision a
/// second ahead of the clock), and return what was written.
fn sync(dir: &Path, esc: &Fake, gh: &Fake) -> Vec<String> {
    std::thread::sleep(std::time::Duration::from_millis(2100));
    gh.call("POST", "/_fake/reset-log", None);
    let (code, out) = escort_gh(dir, esc, gh, &["sync"]);
    assert_eq!(code, 0, "{out}");
    written(gh)
}

fn stale(key: &str) -> Vec<(String, String, String)> {
    ["github:acme/app", "github:acme/web"].iter().map(|t| (key.into(), (*t).into(), "stale".into())).collect()
}

/// A key the environment gets from an import, and one that reads a path of
/// an imported value, are dated by the import's revisions: `ok` after a
/// sync, and a change in the import makes exactly that key stale, costs one
/// write per target, and the next sync writes nothing.
#[test]
fn keys_from_an_import_are_dated_by_its_revisions() {
    let (esc, gh) = (fake("app/base"), github(&github_support::state()));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), TWO_REPOS).unwrap();
    assert_eq!(sync(dir.path(), &esc, &gh).len(), 6);
    let (after, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&after), [], "{out}");
    assert_eq!(sync(dir.path(), &esc, &gh), Vec::<String>::new(), "nothing changed");

    // The key from the import's own environmentVariables.
    save(&esc, "acme/app/base", &base_yaml("canary-db-one", "canary-provider-two"));
    let (changed, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&changed), stale("FROM_BASE"), "{out}");
    assert_eq!(sync(dir.path(), &esc, &gh), ["acme/app FROM_BASE", "acme/web FROM_BASE"]);
    assert_eq!(sync(dir.path(), &esc, &gh), Vec::<String>::new(), "written once");
    assert_eq!(not_ok(&gh_report(dir.path(), &esc, &gh).0), []);

    // The key that reads `${db.password}`, which only the import holds.
    save(&esc, "acme/app/base", &base_yaml("canary-db-two", "canary-provider-two"));
    let (changed, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&changed), stale("READS"), "{out}");
    assert_eq!(sync(dir.path(), &esc, &gh), ["acme/app READS", "acme/web READS"]);
    assert_eq!(sync(dir.path(), &esc, &gh), Vec::<String>::new(), "written once");
    assert_eq!(github_support::value(&gh, "repos/acme/web/actions", "READS").as_deref(), Some("canary-db-two"));
}

/// An import pinned to a revision is read there: a newer revision of the
/// imported environment changes nothing its importer exports.
#[test]
fn a_pinned_import_does_not_go_stale_when_its_head_changes() {
    let (esc, gh) = (fake("app/base@1"), github(&github_support::state()));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), TWO_REPOS).unwrap();
    assert_eq!(sync(dir.path(), &esc, &gh).len(), 6);
    save(&esc, "acme/app/base", &base_yaml("canary-db-two", "canary-provider-two"));
    let (report, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&report), [], "{out}");
    assert_eq!(sync(dir.path(), &esc, &gh), Vec::<String>::new());
}

/// What cannot be dated says why, in the status JSON and text and in
/// rotation: a key an import reads from a provider.
#[test]
fn an_undatable_key_says_why() {
    let esc = Fake::start_with(
        &peer_python(),
        "esc_server.py",
        &json!({"token": ESC_TOKEN, "default_org": "acme", "providers": {"api": "canary-provider-one"},
            "environments": {
            "acme/app/base": {"values": {"environmentVariables": {"API": {"fn::open::test": {"key": "api"}}}}},
            "acme/app/prod": {"imports": ["app/base"], "values": {"environmentVariables": {"OWN": "plain-own"}}}
        }}),
    );
    esc.call("POST", "/_fake/providers", Some(&json!({"api": "canary-provider-one"})));
    let gh = github(&github_support::state());
    let dir = tempfile::tempdir().unwrap();
    let manifest = format!("{TWO_REPOS}\n[groups.keys]\nrotate_days = 90\n[secrets.API]\ngroup = \"keys\"\n");
    std::fs::write(dir.path().join("escort.toml"), manifest).unwrap();
    sync(dir.path(), &esc, &gh);
    let (report, out) = gh_report(dir.path(), &esc, &gh);
    let why = "the source cannot date it: it comes from a provider (fn::open), which changes with no revision \
               (in the import acme/app/base)";
    let api: Vec<&Value> = report["cells"].as_array().unwrap().iter().filter(|c| c["key"] == "API").collect();
    assert_eq!(api.len(), 2, "{out}");
    for cell in api {
        assert_eq!((&cell["status"], &cell["reason"]), (&json!("unknown"), &json!(why)), "{out}");
    }
    let (_, text) = escort_gh(dir.path(), &esc, &gh, &["status"]);
    assert!(text.contains(&format!("API in github:acme/web: unknown: {why}")), "{text}");

    let report: Value = serde_json::from_str(&rotation(dir.path(), &esc, &gh, "json")).unwrap();
    let row = report["secrets"].as_array().unwrap().iter().find(|r| r["name"] == "API").unwrap().clone();
    assert_eq!((&row["status"], &row["reason"]), (&json!("unknown"), &json!(why)), "{report}");
    let text = rotation(dir.path(), &esc, &gh, "text");
    assert!(text.contains(&format!("API in esc:acme/app/prod (route prod): {why}")), "{text}");
}

/// `escort rotation` of the routes as of 2026-01-01: its stdout, with no canary anywhere.
fn rotation(dir: &Path, esc: &Fake, gh: &Fake, format: &str) -> String {
    let out = Run::new_in(dir)
        .esc(esc, ESC_TOKEN)
        .github(gh, TOKEN)
        .env("ESCORT_NOW", "2026-01-01T00:00:00Z")
        .args(["rotation", "--format", format])
        .output();
    assert_absent(&out.stdout, &CANARIES, "rotation: stdout");
    assert_absent(&out.stderr, &CANARIES, "rotation: stderr");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A key unchanged in 60 revisions whose oldest readable revision (the first
/// is retracted) is 400 days old is overdue in a 90-day group, at least 400
/// days old and flagged so; a key whose bound is younger than its due date
/// is unknown, never ok.
#[test]
fn changed_before_is_an_age_at_least_that_old() {
    let revision = |n: usize, created: String| {
        json!({"created": created, "values": {"environmentVariables": {
            "OLD_KEY": {"fn::secret": "canary-db-one"}, "BUSY": format!("busy-{n}")
        }}})
    };
    let created = |n: usize| match n {
        1 => "2024-11-01T00:00:00Z".to_string(),
        2 => "2024-11-27T00:00:00Z".to_string(),
        n => format!("2025-12-{:02}T00:00:00Z", n % 28 + 1),
    };
    let history: Vec<Value> = (1..=60).map(|n| revision(n, created(n))).collect();
    let mut current = revision(61, "2025-12-30T00:00:00Z".to_string());
    current["history"] = json!(history);
    let esc = Fake::start_with(
        &peer_python(),
        "esc_server.py",
        &json!({"token": ESC_TOKEN, "default_org": "acme", "environments": {"acme/app/prod": current}}),
    );
    esc.call("POST", "/_fake/retract", Some(&json!({"env": "acme/app/prod", "revision": 1, "replacement": 2})));
    let dir = tempfile::tempdir().unwrap();
    let manifest = format!(
        "{TWO_REPOS}\n[groups.keys]\nrotate_days = 90\n[groups.long]\nrotate_days = 900\n\
         [secrets.OLD_KEY]\ngroup = \"keys\"\n[secrets.BUSY]\ngroup = \"keys\"\n"
    );
    std::fs::write(dir.path().join("escort.toml"), &manifest).unwrap();
    let gh = github(&github_support::state());
    let rotation = |format: &str| rotation(dir.path(), &esc, &gh, format);
    let report: Value = serde_json::from_str(&rotation("json")).unwrap();
    let row = |name: &str| report["secrets"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap().clone();
    let old = row("OLD_KEY");
    assert_eq!(
        (&old["status"], &old["age_days"], &old["changed_before"], &old["updated_at"]),
        (&json!("overdue"), &json!(400), &json!(true), &json!("2024-11-27T00:00:00Z")),
        "{report}"
    );
    assert_eq!((&row("BUSY")["status"], row("BUSY").get("changed_before")), (&json!("ok"), None), "{report}");
    let text = rotation("text");
    let line = text.lines().find(|l| l.contains("OLD_KEY") && l.contains("overdue")).unwrap_or_default();
    assert!(line.contains("before 2024-11-27") && line.contains("≥400d"), "{text}");

    // In a 900-day group the same bound is no longer enough to call it ok.
    std::fs::write(
        dir.path().join("escort.toml"),
        manifest.replace("OLD_KEY]\ngroup = \"keys\"", "OLD_KEY]\ngroup = \"long\""),
    )
    .unwrap();
    let report: Value = serde_json::from_str(&rotation("json")).unwrap();
    let old = report["secrets"].as_array().unwrap().iter().find(|s| s["name"] == "OLD_KEY").unwrap().clone();
    assert_eq!((&old["status"], &old["changed_before"]), (&json!("unknown"), &json!(true)), "{report}");
    assert!(
        old["reason"].as_str().is_some_and(|r| r.contains("changed before 2024-11-27, at least 400 days")),
        "{report}"
    );
}

/// A key a route renames (`TO=FROM`) is dated as the source's FROM: `ok`
/// after a sync, and the next sync writes nothing.
#[test]
fn a_renamed_key_is_dated_by_its_source_name() {
    let esc = Fake::start_with(
        &peer_python(),
        "esc_server.py",
        &json!({"token": ESC_TOKEN, "default_org": "acme", "environments": {
            "acme/app/prod": {"values": {"environmentVariables": {"KEY": {"fn::secret": "canary-db-one"}}}}
        }}),
    );
    let gh = github(&github_support::state());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), format!("{TWO_REPOS}keys = [\"COPY=KEY\"]\n")).unwrap();
    assert_eq!(sync(dir.path(), &esc, &gh), ["acme/app COPY", "acme/web COPY"]);
    let (report, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&report), [], "{out}");
    assert_eq!(sync(dir.path(), &esc, &gh), Vec::<String>::new());
}

/// An import whose revisions escort may not read (opening an environment is
/// not reading its history) leaves what it gives undated, with the reason:
/// no failed route, and the rest still dated.
#[test]
fn an_import_whose_history_cannot_be_read_leaves_its_keys_undated() {
    let (esc, gh) = (fake("app/base"), github(&github_support::state()));
    let refuse = json!([{"op": "versions", "path_contains": "acme/app/base", "status": 403, "times": -1}]);
    esc.call("POST", "/_fake/faults", Some(&refuse));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), TWO_REPOS).unwrap();
    sync(dir.path(), &esc, &gh);
    let (report, out) = gh_report(dir.path(), &esc, &gh);
    let mut undated = not_ok(&report);
    undated.sort();
    let unknown = |key: &str, repo: &str| (key.to_string(), format!("github:acme/{repo}"), "unknown".to_string());
    assert_eq!(
        undated,
        [unknown("FROM_BASE", "app"), unknown("FROM_BASE", "web"), unknown("READS", "app"), unknown("READS", "web")],
        "{out}"
    );
    for cell in report["cells"].as_array().unwrap().iter().filter(|c| c["status"] == "unknown") {
        let reason = cell["reason"].as_str().unwrap_or_default();
        assert!(
            reason.starts_with("the source cannot date it: its revisions could not be read")
                && reason.contains("403")
                && reason.ends_with("(in the import acme/app/base)"),
            "{out}"
        );
    }
}
