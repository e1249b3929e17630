//! Fly.io copies through the ledger and by flyctl's rules (docs/routes.md,
//! "fly:APP" and "The ledger"): a route from the fake ESC to `fly:app` on the
//! fake Machines API, which stages secrets, lists a digest of each value,
//! and leases its machines.

use crate::common::run::Run;
use crate::common::{Fake, assert_absent};
use crate::ledger::{ESC_TOKEN, esc, esc_get, json_of, not_ok, save, source_yaml};
use serde_json::{Value, json};
use std::path::Path;

const FLY_TOKEN: &str = "fly-ledger-token";
const CANARIES: [&str; 4] = ["canary-db-one", "canary-db-two", "canary-fly-outside", "plain-name"];

const ROUTE: &str = r#"
ledger = "esc:acme/ops/ledger"

[sync.prod]
from = "esc:acme/app/prod"
to = ["fly:app"]
deploy = true
"#;

/// App `app` with `machines` and release 1.
fn fly_app(machines: Value) -> Fake {
    Fake::start(
        "fly_server.py",
        &json!({"token": FLY_TOKEN, "apps": {"app": {
            "releases": [{"version": 1, "created_at": "2024-01-01T00:00:00Z"}],
            "machines": machines
        }}}),
    )
}

/// escort in `dir` against both fakes: (exit code, stdout and stderr), no canary in either.
fn run(dir: &Path, esc: &Fake, fly: &Fake, args: &[&str]) -> (i32, String) {
    let out = Run::new_in(dir)
        .esc(esc, ESC_TOKEN)
        .env("FLY_API_TOKEN", FLY_TOKEN)
        .env("FLY_API_URL", &fly.url)
        .args(args)
        .output();
    // plain-name is no secret, but it is a value: it shows nowhere either.
    assert_absent(&out.stdout, &CANARIES, &format!("{args:?}: stdout"));
    assert_absent(&out.stderr, &CANARIES, &format!("{args:?}: stderr"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap(), text)
}

fn report(dir: &Path, esc: &Fake, fly: &Fake) -> (Value, String) {
    let (_, out) = run(dir, esc, fly, &["status", "--format", "json"]);
    (json_of(&out), out)
}

/// The requests that change something, on both fakes: `METHOD PATH`, and
/// for a secrets write the names it sets.
fn changes(esc: &Fake, fly: &Fake) -> Vec<String> {
    let mut all: Vec<String> = esc
        .requests()
        .into_iter()
        .chain(fly.requests())
        .filter(|r| r["method"] != "GET" && !r["path"].as_str().unwrap_or_default().ends_with("/open"))
        .map(|r| {
            let names = r["body"]["values"].as_object().map(|v| v.keys().cloned().collect::<Vec<_>>().join(","));
            format!(
                "{} {}{}",
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap(),
                names.map_or(String::new(), |n| format!(" {n}"))
            )
        })
        .collect();
    all.sort();
    all
}

fn reset(esc: &Fake, fly: &Fake) {
    esc.call("POST", "/_fake/reset-log", None);
    fly.call("POST", "/_fake/reset-log", None);
}

/// The secrets write and deploy of one key: the deploy of what it wrote to m1 included.
fn one_write(key: &str) -> Vec<String> {
    let m1 = "/v1/apps/app/machines/m1";
    let mut want = vec![
        "PATCH /api/esc/environments/acme/ops/ledger".to_string(),
        format!("POST /v1/apps/app/secrets {key}"),
        format!("POST {m1}/lease"),
        format!("POST {m1}"),
        format!("DELETE {m1}/lease"),
    ];
    want.sort();
    want
}

/// Item 1 for Fly.io: every cell ok after a sync, a record per key with no
/// value and no unkeyed hash, nothing written twice, a change behind
/// `${...}` costs exactly one write, and a copy someone else wrote is
/// `drifted` (by its digest even when its date is the recorded one) until
/// one sync restores it.
#[test]
fn the_ledger_judges_fly_copies_by_fingerprint_date_and_digest() {
    let (esc, fly) = (esc(json!({})), fly_app(json!([{"id": "m1", "release_version": 1}])));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), ROUTE).unwrap();

    let (code, out) = run(dir.path(), &esc, &fly, &["sync"]);
    assert_eq!(code, 0, "{out}");
    let (after, out) = report(dir.path(), &esc, &fly);
    assert_eq!(after["cells"].as_array().map(Vec::len), Some(2), "{out}");
    assert_eq!(not_ok(&after), [], "{out}");

    // A record per key, the digest among it, keyed: no value, no unkeyed hash, not Fly's digest.
    let (_, ledger) = esc_get(&esc, "/api/esc/environments/acme/ops/ledger/decrypt");
    let stored = fly.call("GET", "/_fake/secrets/app", None);
    for key in ["DB_PASSWORD", "NAME"] {
        let record = ledger.lines().find(|l| l.trim_start().starts_with(&format!("{key}:")));
        let record = record.unwrap_or_else(|| panic!("no record of {key}: {ledger}"));
        assert!(record.contains(" digest="), "{record}");
        let fly_digest = stored[key]["digest"].as_str().unwrap();
        assert!(!ledger.contains(fly_digest), "Fly's digest of {key} as listed:\n{ledger}");
    }
    assert!(ledger.contains("\"fly:app\""), "{ledger}");
    for value in ["canary-db-one", "plain-name"] {
        let digest = ring::digest::digest(&ring::digest::SHA256, value.as_bytes());
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert!(!ledger.contains(value) && !ledger.contains(&hex[..16]), "the ledger shows {value}:\n{ledger}");
    }

    // Nothing changed: no write to Fly, no deploy, no revision of the ledger.
    reset(&esc, &fly);
    let (code, out) = run(dir.path(), &esc, &fly, &["sync"]);
    assert_eq!((code, changes(&esc, &fly)), (0, Vec::<String>::new()), "{out}");

    // The secret behind `${database.password}` changes: that key alone is stale, one write.
    save(&esc, "acme/app/prod", &source_yaml("canary-db-two"));
    let (changed, out) = report(dir.path(), &esc, &fly);
    assert_eq!(not_ok(&changed), [("DB_PASSWORD".into(), "fly:app".into(), "stale".into())], "{out}");
    reset(&esc, &fly);
    let (code, out) = run(dir.path(), &esc, &fly, &["sync"]);
    assert_eq!((code, changes(&esc, &fly)), (0, one_write("DB_PASSWORD")), "{out}");
    assert_eq!(fly.call("GET", "/_fake/secrets/app", None)["DB_PASSWORD"]["value"], "canary-db-two");
    assert_eq!(not_ok(&report(dir.path(), &esc, &fly).0), []);

    // Someone else writes NAME (a new date): drifted; one sync restores it.
    fly.call("POST", "/_fake/secrets/app", Some(&json!({"NAME": {"value": "canary-fly-outside"}})));
    let (drifted, out) = report(dir.path(), &esc, &fly);
    assert_eq!(not_ok(&drifted), [("NAME".into(), "fly:app".into(), "drifted".into())], "{out}");
    reset(&esc, &fly);
    let (code, out) = run(dir.path(), &esc, &fly, &["sync"]);
    assert_eq!((code, changes(&esc, &fly)), (0, one_write("NAME")), "{out}");
    assert_eq!(fly.call("GET", "/_fake/secrets/app", None)["NAME"]["value"], "plain-name");
    assert_eq!(not_ok(&report(dir.path(), &esc, &fly).0), []);

    // Again, keeping the very date escort recorded: its digest still tells.
    let at = fly.call("GET", "/_fake/secrets/app", None)["NAME"]["updated_at"].clone();
    fly.call("POST", "/_fake/secrets/app", Some(&json!({"NAME": {"value": "canary-fly-outside", "updated_at": at}})));
    let (drifted, out) = report(dir.path(), &esc, &fly);
    assert_eq!(not_ok(&drifted), [("NAME".into(), "fly:app".into(), "drifted".into())], "{out}");
    reset(&esc, &fly);
    let (code, out) = run(dir.path(), &esc, &fly, &["sync"]);
    assert_eq!((code, changes(&esc, &fly)), (0, one_write("NAME")), "{out}");
    assert_eq!(not_ok(&report(dir.path(), &esc, &fly).0), []);
}

/// Where flyctl says Staged but nothing dates what runs (no Machines, or a
/// machine on a release the app does not list), a current copy is `unknown`
/// with the reason, never `ok`, and is not written again; `--deploy`
/// updates the machine, after which it is `ok`.
#[test]
fn an_undatable_deploy_is_unknown_with_its_reason() {
    let esc = esc(json!({}));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), ROUTE.replace("deploy = true\n", "")).unwrap();
    for (machines, reason) in [
        (json!([]), "Fly app app has no Machines"),
        (json!([{"id": "m1", "release_version": 9}]), "the release of machine m1 cannot be dated"),
    ] {
        let fly = fly_app(machines);
        let (code, out) = run(dir.path(), &esc, &fly, &["sync"]);
        assert_eq!(code, 0, "{out}");
        let (after, out) = report(dir.path(), &esc, &fly);
        let cells = after["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 2, "{out}");
        for cell in cells {
            assert_eq!(cell["status"], "unknown", "{out}");
            let why = cell["reason"].as_str().unwrap_or_default();
            assert!(why.ends_with(reason) && why.contains("deployed"), "{out}");
        }
        let (_, text) = run(dir.path(), &esc, &fly, &["status"]);
        assert!(text.contains(reason), "{text}");
        reset(&esc, &fly);
        let (code, out) = run(dir.path(), &esc, &fly, &["sync"]);
        assert_eq!((code, changes(&esc, &fly)), (0, Vec::<String>::new()), "written again: {out}");
    }

    // The machine on an undatable release: --deploy updates it, and then all is ok.
    let fly = fly_app(json!([{"id": "m1", "release_version": 9}]));
    let (code, out) = run(dir.path(), &esc, &fly, &["sync", "--deploy"]);
    assert_eq!(code, 0, "{out}");
    assert!(fly.requests().iter().any(|r| r["method"] == "POST" && r["path"] == "/v1/apps/app/machines/m1"), "{out}");
    let (after, out) = report(dir.path(), &esc, &fly);
    assert_eq!(not_ok(&after), [], "{out}");
}

/// A deploy takes each machine's lease as flyctl does: someone else's lease
/// is an error naming the machine (never a skip), a machine that does not
/// come up is an error naming it, and the lease is given back either way.
#[test]
fn a_deploy_respects_leases_and_waits_for_the_machine() {
    let esc = esc(json!({}));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), ROUTE).unwrap();

    let fly = fly_app(json!([{"id": "m1", "release_version": 1, "lease": {"owner": "deployer@example.com"}}]));
    let (code, out) = run(dir.path(), &esc, &fly, &["sync"]);
    assert_eq!(code, 4, "written, not deployed: {out}");
    assert!(out.contains("machine m1 of Fly app app is leased by someone else"), "{out}");
    let updates: Vec<Value> = fly.requests().into_iter().filter(|r| r["path"] == "/v1/apps/app/machines/m1").collect();
    assert_eq!(updates, Vec::<Value>::new(), "{out}");
    let machines = fly.call("GET", "/_fake/machines/app", None);
    assert_eq!(machines[0]["secrets_version"], 1, "the leased machine was not updated");
    // The write is done and recorded: the copies are current, waiting for a deploy.
    let (after, out) = report(dir.path(), &esc, &fly);
    let staged = [("DB_PASSWORD", "staged"), ("NAME", "staged")].map(|(k, s)| (k.into(), "fly:app".into(), s.into()));
    assert_eq!(not_ok(&after), staged, "{out}");
    let (_, ledger) = esc_get(&esc, "/api/esc/environments/acme/ops/ledger/decrypt");
    assert!(ledger.contains("DB_PASSWORD:") && ledger.contains("NAME:"), "{ledger}");
    // A one-off sync finds them staged: its deploy meets the lease too, and says so.
    let (code, out) =
        run(dir.path(), &esc, &fly, &["sync", "--from", "esc:acme/app/prod", "--to", "fly:app", "--deploy"]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("2 unchanged") && out.contains("machine m1 of Fly app app is leased"), "{out}");

    let fly = fly_app(json!([{"id": "m1", "release_version": 1, "starts": false}]));
    let (code, out) = run(dir.path(), &esc, &fly, &["sync"]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("machine m1 of Fly app app was updated but did not become started"), "{out}");
    let waits = fly.requests().iter().filter(|r| r["path"] == "/v1/apps/app/machines/m1/wait").count();
    assert_eq!(waits, 5, "bounded: {out}");
    let last = fly.requests().into_iter().rfind(|r| r["method"] != "GET").unwrap();
    assert_eq!((&last["method"], &last["path"]), (&json!("DELETE"), &json!("/v1/apps/app/machines/m1/lease")));
    assert_eq!(last["status"], 200, "the lease was given back: {last}");

    // A lease that cannot be given back expires: the deploy is done, with a note.
    let fly = fly_app(json!([{"id": "m1", "release_version": 1}]));
    fly.set_faults(json!([{"method": "DELETE", "path_contains": "/lease", "status": 409, "times": 1}]));
    let (code, out) = run(dir.path(), &esc, &fly, &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("release the lease of machine m1 of Fly app app") && out.contains("expires in"), "{out}");
    assert!(out.contains("deployed to 1 machine(s)"), "{out}");
}

/// flyctl compares dates to the fraction of a second: a copy written half a
/// second after the release its machine runs, in the same second, is staged.
#[test]
fn staged_is_told_to_the_fraction_of_a_second() {
    let esc = Fake::start_with(
        &crate::common::peer_python(),
        "esc_server.py",
        &json!({"token": ESC_TOKEN, "default_org": "acme", "environments": {"acme/app/prod": {
            "created": "2024-01-01T00:00:00Z",
            "values": {"environmentVariables": {"DB_PASSWORD": {"fn::secret": "canary-db-one"}}}
        }}}),
    );
    let fly = Fake::start(
        "fly_server.py",
        &json!({"token": FLY_TOKEN, "apps": {"app": {
            "secrets": {"DB_PASSWORD": {"value": "canary-db-one", "updated_at": "2025-06-01T00:00:00.750000Z"}},
            "releases": [{"version": 1, "created_at": "2025-06-01T00:00:00.500000Z"}],
            "machines": [{"id": "m1", "release_version": 1}]
        }}}),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), "[sync.prod]\nfrom = \"esc:acme/app/prod\"\nto = [\"fly:app\"]\n")
        .unwrap();
    let (report, out) = report(dir.path(), &esc, &fly);
    assert_eq!(not_ok(&report), [("DB_PASSWORD".into(), "fly:app".into(), "staged".into())], "{out}");
    assert_eq!(report["cells"][0]["target_updated_at"], "2025-06-01T00:00:00.75Z", "{out}");
}
