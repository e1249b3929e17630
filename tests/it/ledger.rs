//! `ok` means the copy holds the source's current value (README, "escort
//! status"): readable copies compared by opened value, dates that follow what
//! a value depends on (`${...}`, imports, providers), and sealed copies
//! through the ledger. Against the fake ESC, which evaluates definitions and
//! re-encrypts on every save, and the fake GitHub.

use crate::common::run::Run;
use crate::common::{Fake, assert_absent, peer_python};
use crate::fleet::cells;
use crate::github_support::{self, TOKEN, github, value, writes};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

pub(crate) const ESC_TOKEN: &str = "tok-ledger";
pub(crate) const CANARIES: [&str; 4] = ["canary-db-one", "canary-db-two", "canary-provider-one", "canary-provider-two"];

/// The source's definition: the secret under `values`, exported by reference,
/// as Pulumi documents it.
pub fn source_yaml(password: &str) -> String {
    format!(
        "values:\n  database:\n    password:\n      fn::secret: {password}\n  environmentVariables:\n    \
         DB_PASSWORD: ${{database.password}}\n    NAME: plain-name\n"
    )
}

pub fn esc(extra: Value) -> Fake {
    let mut state = json!({
        "token": ESC_TOKEN,
        "default_org": "acme",
        "environments": {
            "acme/app/prod": {"values": {
                "database": {"password": {"fn::secret": "canary-db-one"}},
                "environmentVariables": {"DB_PASSWORD": "${database.password}", "NAME": "plain-name"}
            }},
            "acme/app/copy": {"values": {"environmentVariables": {}}}
        }
    });
    if let (Value::Object(state), Value::Object(extra)) = (&mut state, extra) {
        state.extend(extra);
    }
    Fake::start_with(&peer_python(), "esc_server.py", &state)
}

/// An authenticated request to the fake ESC's API, as a user's tool makes
/// it: (status, body).
fn esc_api(fake: &Fake, method: &str, path: &str, content_type: &str, body: &str) -> (u16, String) {
    let addr = fake.url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: token {ESC_TOKEN}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

/// Save a new definition of `env` as `esc env edit` does (the fake evaluates
/// it and stores fresh ciphertext for each plaintext secret).
pub(crate) fn save(fake: &Fake, env: &str, yaml: &str) {
    let (status, body) = esc_api(fake, "PATCH", &format!("/api/esc/environments/{env}"), "application/x-yaml", yaml);
    assert!((200..300).contains(&status), "saving {env}: {status} {body}");
}

/// The stored text of a definition (its `GET`), or what a read of `path` answers.
pub fn esc_get(fake: &Fake, path: &str) -> (u16, String) {
    esc_api(fake, "GET", path, "application/json", "")
}

fn run(dir: &Path, esc: &Fake, args: &[&str]) -> (i32, String) {
    outcome(Run::new_in(dir).esc(esc, ESC_TOKEN), args)
}

/// Run escort with `args`, check that no canary shows, and return (exit code, stdout and stderr).
fn outcome(escort: Run, args: &[&str]) -> (i32, String) {
    let out = escort.args(args).output();
    assert_absent(&out.stdout, &CANARIES, &format!("{args:?}: stdout"));
    assert_absent(&out.stderr, &CANARIES, &format!("{args:?}: stderr"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap(), text)
}

fn report(dir: &Path, esc: &Fake) -> Value {
    json_of(&run(dir, esc, &["status", "--format", "json"]).1)
}

/// The JSON report on the first line of `out`.
pub fn json_of(out: &str) -> Value {
    serde_json::from_str(out.lines().next().unwrap_or_default()).unwrap_or_else(|_| panic!("{out}"))
}

/// The cells whose status is not `ok`: (key, target, status).
pub(crate) fn not_ok(report: &Value) -> Vec<(String, String, String)> {
    cells(report).into_iter().filter(|(_, _, s)| s != "ok").collect()
}

fn patches(esc: &Fake) -> Vec<String> {
    esc.requests()
        .into_iter()
        .filter(|r| r["method"] == "PATCH")
        .map(|r| r["path"].as_str().unwrap_or_default().to_string())
        .collect()
}

const READABLE: &str = r#"
[sync.prod]
from = "esc:acme/app/prod"
to = ["esc:acme/app/copy", "dotenv:prod.env"]
"#;

/// Item 2, readable copies: an `esc:` target and a .env file are compared by
/// the values an open returns, so a re-encrypting save changes nothing and a
/// change behind `${...}` makes exactly that key differ, once per target.
#[test]
fn readable_copies_are_compared_by_opened_value() {
    let esc = esc(json!({}));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), READABLE).unwrap();

    let (code, out) = run(dir.path(), &esc, &["sync"]);
    assert_eq!(code, 0, "{out}");
    let after = report(dir.path(), &esc);
    assert_eq!(cells(&after).len(), 4, "{after}");
    assert_eq!(not_ok(&after), [], "after a sync every cell is ok (an esc: copy too): {after}");

    // Nothing changed: no revision of the copy, no .env rewritten.
    esc.call("POST", "/_fake/reset-log", None);
    let before = std::fs::metadata(dir.path().join("prod.env")).unwrap().modified().unwrap();
    let (code, out) = run(dir.path(), &esc, &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(patches(&esc), Vec::<String>::new(), "a second sync wrote a revision: {out}");
    assert_eq!(std::fs::metadata(dir.path().join("prod.env")).unwrap().modified().unwrap(), before);

    // A save of the same plaintext stores fresh ciphertext: nothing is stale.
    save(&esc, "acme/app/prod", &source_yaml("canary-db-one"));
    assert_eq!(not_ok(&report(dir.path(), &esc)), []);
    esc.call("POST", "/_fake/reset-log", None);
    let (code, out) = run(dir.path(), &esc, &["sync"]);
    assert_eq!((code, patches(&esc)), (0, Vec::<String>::new()), "{out}");

    // The secret behind the reference changes: DB_PASSWORD differs in both copies, NAME does not.
    save(&esc, "acme/app/prod", &source_yaml("canary-db-two"));
    let changed = report(dir.path(), &esc);
    assert_eq!(
        not_ok(&changed),
        [
            ("DB_PASSWORD".into(), "dotenv:prod.env".into(), "drifted".into()),
            ("DB_PASSWORD".into(), "esc:acme/app/copy".into(), "drifted".into()),
        ],
        "{changed}"
    );
    esc.call("POST", "/_fake/reset-log", None);
    let (code, out) = run(dir.path(), &esc, &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(patches(&esc), ["/api/esc/environments/acme/app/copy"], "one revision of the copy: {out}");
    assert!(std::fs::read_to_string(dir.path().join("prod.env")).unwrap().contains("canary-db-two"));
    assert_eq!(not_ok(&report(dir.path(), &esc)), []);
}

pub(crate) fn escort_gh(dir: &Path, esc: &Fake, gh: &Fake, args: &[&str]) -> (i32, String) {
    outcome(Run::new_in(dir).esc(esc, ESC_TOKEN).github(gh, TOKEN), args)
}

pub(crate) fn gh_report(dir: &Path, esc: &Fake, gh: &Fake) -> (Value, String) {
    let (_, out) = escort_gh(dir, esc, gh, &["status", "--format", "json"]);
    (json_of(&out), out)
}

const SEALED: &str = r#"
[sync.prod]
from = "esc:acme/app/prod"
to = ["github:acme/app"]
"#;

/// Item 3, sealed copies without a ledger: a GitHub secret is dated against
/// the newest revision whose opened value changed, so a change behind
/// `${...}` is never `ok`, a re-encrypting save is no change, and a
/// retracted revision is no outage.
#[test]
fn sealed_copies_are_dated_by_what_the_value_depends_on() {
    let (esc, gh) = (esc(json!({})), github(&github_support::state()));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), SEALED).unwrap();
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");
    let (after, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&after), [], "{out}");

    // A save of the same plaintext: fresh ciphertext, the same value.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    save(&esc, "acme/app/prod", &source_yaml("canary-db-one"));
    let (resaved, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&resaved), [], "a re-encrypting save made a copy look stale: {out}");
    gh.call("POST", "/_fake/reset-log", None);
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &["sync"]);
    assert_eq!((code, writes(&gh)), (0, Vec::<Value>::new()), "{out}");

    // The secret behind `${database.password}` changes: DB_PASSWORD alone is stale.
    save(&esc, "acme/app/prod", &source_yaml("canary-db-two"));
    let (changed, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&changed), [("DB_PASSWORD".into(), "github:acme/app".into(), "stale".into())], "{out}");

    // Retracting the revision in between is no outage: the walk steps over it.
    esc.call("POST", "/_fake/retract", Some(&json!({"env": "acme/app/prod", "revision": 2})));
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &["status"]);
    assert_eq!(code, 1, "stale, not unreadable: {out}");
    let (retracted, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&retracted), not_ok(&changed), "{out}");

    // One write restores it; the copy is then written after the change (the
    // fake dates each revision at least a second after the one before, so
    // the change may be dated a second ahead of the clock).
    std::thread::sleep(std::time::Duration::from_millis(2100));
    gh.call("POST", "/_fake/reset-log", None);
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");
    let paths: Vec<String> = writes(&gh).iter().map(|r| r["path"].as_str().unwrap().to_string()).collect();
    assert_eq!(paths, ["/repos/acme/app/actions/secrets/DB_PASSWORD"], "{out}");
    assert_eq!(value(&gh, "repos/acme/app/actions", "DB_PASSWORD").as_deref(), Some("canary-db-two"));
    let (restored, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&restored), [], "{out}");
}

/// A provider's value changes with no revision: no date can make its copy
/// `ok`; it is `unknown`, and the text says why.
#[test]
fn a_provider_value_is_never_ok_by_date() {
    let esc = esc(json!({"providers": {"api": "canary-provider-one"}}));
    let gh = github(&github_support::state());
    esc.call("POST", "/_fake/providers", Some(&json!({"api": "canary-provider-one"})));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), SEALED).unwrap();
    save(
        &esc,
        "acme/app/prod",
        "values:\n  environmentVariables:\n    NAME: plain-name\n    API_TOKEN:\n      fn::open::test:\n        key: api\n",
    );
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(value(&gh, "repos/acme/app/actions", "API_TOKEN").as_deref(), Some("canary-provider-one"));
    let (report, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&report), [("API_TOKEN".into(), "github:acme/app".into(), "unknown".into())], "{out}");
    let cell = report["cells"].as_array().unwrap().iter().find(|c| c["key"] == "API_TOKEN").unwrap().clone();
    assert_eq!(
        cell["reason"],
        "the source cannot date it: it comes from a provider (fn::open), which changes with no revision",
        "{report}"
    );
    let (_, text) = escort_gh(dir.path(), &esc, &gh, &["status"]);
    assert!(
        text.contains("API_TOKEN in github:acme/app: unknown: the source cannot date it: it comes from a provider"),
        "{text}"
    );
}

/// Rotation pages back through the whole history: a key last changed 400
/// days and 60 revisions ago is overdue in a 90-day group.
#[test]
fn an_old_change_far_back_in_the_history_is_overdue() {
    let revision = |n: usize, created: &str| {
        json!({"created": created, "values": {"environmentVariables": {
            "OLD_KEY": {"fn::secret": "canary-db-one"}, "BUSY": format!("busy-{n}")
        }}})
    };
    let history: Vec<Value> = (1..=60)
        .map(|n| {
            revision(
                n,
                &if n == 1 {
                    "2024-11-28T00:00:00Z".to_string()
                } else {
                    format!("2025-12-{:02}T00:00:00Z", n % 28 + 1)
                },
            )
        })
        .collect();
    let mut current = revision(61, "2025-12-30T00:00:00Z");
    current["history"] = json!(history);
    let esc = Fake::start_with(
        &peer_python(),
        "esc_server.py",
        &json!({"token": ESC_TOKEN, "default_org": "acme", "environments": {"acme/app/prod": current}}),
    );
    let gh = github(&github_support::state());
    let dir = tempfile::tempdir().unwrap();
    let manifest = format!(
        "{SEALED}\n[groups.keys]\nrotate_days = 90\n[secrets.OLD_KEY]\ngroup = \"keys\"\n[secrets.BUSY]\ngroup = \"keys\"\n"
    );
    std::fs::write(dir.path().join("escort.toml"), manifest).unwrap();
    let out = Run::new_in(dir.path())
        .esc(&esc, ESC_TOKEN)
        .github(&gh, TOKEN)
        .env("ESCORT_NOW", "2026-01-01T00:00:00Z")
        .args(["rotation", "--format", "json"])
        .output();
    assert_absent(&out.stdout, &CANARIES, "rotation: stdout");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{out:?}"));
    let status = |name: &str| {
        report["secrets"].as_array().unwrap().iter().find(|s| s["name"] == name).map(|s| s["status"].clone())
    };
    assert_eq!(status("OLD_KEY"), Some(json!("overdue")), "{report}");
    assert_eq!(status("BUSY"), Some(json!("ok")), "{report}");
}

const LEDGER: &str = r#"
ledger = "esc:acme/ops/ledger"

[sync.prod]
from = "esc:acme/app/prod"
to = ["github:acme/app"]
"#;

/// ESC and GitHub requests that change something (the fakes' logs).
fn changes(esc: &Fake, gh: &Fake) -> Vec<String> {
    let mut all: Vec<String> = esc
        .requests()
        .into_iter()
        .chain(gh.requests())
        .filter(|r| r["method"] != "GET" && !r["path"].as_str().unwrap_or_default().ends_with("/open"))
        .map(|r| format!("{} {}", r["method"].as_str().unwrap(), r["path"].as_str().unwrap()))
        .collect();
    all.sort();
    all
}

/// Forget what both fakes were asked, run `escort sync` in `dir`: its exit
/// code, every change it sent (`changes`), and its output.
fn synced(dir: &Path, esc: &Fake, gh: &Fake) -> (i32, Vec<String>, String) {
    esc.call("POST", "/_fake/reset-log", None);
    gh.call("POST", "/_fake/reset-log", None);
    let (code, out) = escort_gh(dir, esc, gh, &["sync"]);
    (code, changes(esc, gh), out)
}

/// Item 1 and the rest of item 2: sealed copies through the ledger.
#[test]
fn the_ledger_judges_sealed_copies_by_keyed_fingerprint_and_date() {
    let esc = esc(json!({"providers": {"api": "canary-provider-one"}}));
    let gh = github(&github_support::state());
    save(
        &esc,
        "acme/app/prod",
        &format!("{}    API_TOKEN:\n      fn::open::test:\n        key: api\n", source_yaml("canary-db-one")),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), LEDGER).unwrap();

    // No ledger environment yet: an empty ledger, not an error.
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &["status"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(esc_get(&esc, "/api/esc/environments/acme/ops/ledger").0, 404);

    // The first sync creates it and records its writes in one revision.
    esc.call("POST", "/_fake/reset-log", None);
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");
    let made: Vec<String> = changes(&esc, &gh).into_iter().filter(|c| c.contains("/esc/")).collect();
    assert_eq!(made, ["PATCH /api/esc/environments/acme/ops/ledger", "POST /api/esc/environments/acme"], "{out}");
    let (after, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&after), [], "the provider's copy too is ok through the ledger: {out}");

    // The ledger holds no value and no unkeyed hash of one.
    let (_, stored) = esc_get(&esc, "/api/esc/environments/acme/ops/ledger");
    let (_, decrypted) = esc_get(&esc, "/api/esc/environments/acme/ops/ledger/decrypt");
    for value in ["canary-db-one", "canary-provider-one", "plain-name"] {
        let digest = ring::digest::digest(&ring::digest::SHA256, value.as_bytes());
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        for text in [&stored, &decrypted] {
            assert!(!text.contains(value) && !text.contains(&hex), "the ledger shows {value}:\n{text}");
        }
    }
    assert!(decrypted.contains("github:acme/app") && decrypted.contains("DB_PASSWORD"), "{decrypted}");

    // Nothing changed: no write anywhere, the ledger included.
    let (code, made, out) = synced(dir.path(), &esc, &gh);
    assert_eq!((code, made), (0, Vec::<String>::new()), "{out}");

    // Every sealed cell has a record: status walks no revision.
    esc.call("POST", "/_fake/reset-log", None);
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &["status"]);
    assert_eq!(code, 0, "{out}");
    let walked: Vec<Value> =
        esc.requests().into_iter().filter(|r| r["path"].as_str().unwrap_or_default().contains("/versions")).collect();
    assert_eq!(walked, Vec::<Value>::new(), "{out}");

    // A provider value changes with no revision: exactly that key is stale, one write each.
    esc.call("POST", "/_fake/providers", Some(&json!({"api": "canary-provider-two"})));
    let (changed, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&changed), [("API_TOKEN".into(), "github:acme/app".into(), "stale".into())], "{out}");
    let (code, made, out) = synced(dir.path(), &esc, &gh);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        made,
        ["PATCH /api/esc/environments/acme/ops/ledger", "PUT /repos/acme/app/actions/secrets/API_TOKEN"],
        "{out}"
    );
    assert_eq!(value(&gh, "repos/acme/app/actions", "API_TOKEN").as_deref(), Some("canary-provider-two"));
    assert_eq!(not_ok(&gh_report(dir.path(), &esc, &gh).0), []);

    // Someone else writes a copy (the same value, even): drifted; one write restores it.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    github_support::escort(&gh)
        .args(["set", "github:acme/app", "DB_PASSWORD"])
        .write_stdin("canary-db-one\n")
        .assert()
        .success();
    let (drifted, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&drifted), [("DB_PASSWORD".into(), "github:acme/app".into(), "drifted".into())], "{out}");
    gh.call("POST", "/_fake/reset-log", None);
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(writes(&gh).len(), 1, "{out}");
    assert_eq!(not_ok(&gh_report(dir.path(), &esc, &gh).0), []);
}

/// `escort set github:acme/app NAME` in `dir`, `value` on stdin: (exit code, output), no canary shown.
fn set(dir: &Path, esc: &Fake, gh: &Fake, name: &str, value: &str) -> (i32, String) {
    let out = crate::common::escort()
        .current_dir(dir)
        .env("ESC_API_URL", &esc.url)
        .env("ESC_TOKEN", ESC_TOKEN)
        .env("GITHUB_API_URL", &gh.url)
        .env("GITHUB_TOKEN", TOKEN)
        .env("ESCORT_MAX_RETRY_WAIT", "5")
        .args(["set", "github:acme/app", name])
        .write_stdin(value)
        .output()
        .unwrap();
    assert_absent(&out.stdout, &CANARIES, "set: stdout");
    assert_absent(&out.stderr, &CANARIES, "set: stderr");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap(), text)
}

/// The ledger's revisions written since the log was reset.
fn ledger_patches(esc: &Fake) -> usize {
    patches(esc).iter().filter(|p| p.ends_with("/acme/ops/ledger")).count()
}

/// One-off `set`, `sync --from/--to` and `rm` keep the ledger of the
/// manifest `status` reads as a route's sync does: a copy they write is `ok`
/// (not `drifted`), one revision per command that wrote, none otherwise.
#[test]
fn one_off_writes_to_sealed_copies_are_recorded_in_the_ledger() {
    let esc = esc(json!({}));
    let gh = github(&github_support::state());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), LEDGER).unwrap();
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");

    // The source changes; `set` writes the new value and records it: ok, not stale or drifted.
    save(&esc, "acme/app/prod", &source_yaml("canary-db-two"));
    esc.call("POST", "/_fake/reset-log", None);
    let (code, out) = set(dir.path(), &esc, &gh, "DB_PASSWORD", "canary-db-two");
    assert_eq!((code, ledger_patches(&esc)), (0, 1), "{out}");
    let (after, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&after), [], "{out}");

    // The same value again: written again, and the ledger takes the copy's new date.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    esc.call("POST", "/_fake/reset-log", None);
    let (code, out) = set(dir.path(), &esc, &gh, "DB_PASSWORD", "canary-db-two");
    assert_eq!((code, ledger_patches(&esc)), (0, 1), "{out}");
    assert_eq!(not_ok(&gh_report(dir.path(), &esc, &gh).0), []);

    // A write GitHub refuses records nothing.
    gh.set_faults(json!([{"method": "PUT", "path_contains": "/DB_PASSWORD", "status": 422, "times": 1}]));
    esc.call("POST", "/_fake/reset-log", None);
    let (code, out) = set(dir.path(), &esc, &gh, "DB_PASSWORD", "canary-db-one");
    assert_ne!(code, 0, "{out}");
    assert_eq!(ledger_patches(&esc), 0, "{out}");
    assert_eq!(not_ok(&gh_report(dir.path(), &esc, &gh).0), []);

    // A one-off sync judges by the ledger: nothing to write, no revision; after a change, one each.
    let one_off = ["sync", "--from", "esc:acme/app/prod", "--to", "github:acme/app", "--keys", "DB_PASSWORD"];
    esc.call("POST", "/_fake/reset-log", None);
    gh.call("POST", "/_fake/reset-log", None);
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &one_off);
    assert_eq!((code, ledger_patches(&esc), writes(&gh).len()), (0, 0, 0), "{out}");
    save(&esc, "acme/app/prod", &source_yaml("canary-db-one"));
    esc.call("POST", "/_fake/reset-log", None);
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &one_off);
    assert_eq!((code, ledger_patches(&esc), writes(&gh).len()), (0, 1, 1), "{out}");
    assert_eq!(not_ok(&gh_report(dir.path(), &esc, &gh).0), []);

    // `rm` takes the record away with the copy; deleting a copy without a record writes no revision.
    esc.call("POST", "/_fake/reset-log", None);
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &["rm", "github:acme/app", "DB_PASSWORD", "--yes"]);
    assert_eq!((code, ledger_patches(&esc)), (0, 1), "{out}");
    let (_, ledger) = esc_get(&esc, "/api/esc/environments/acme/ops/ledger/decrypt");
    assert!(!ledger.contains("DB_PASSWORD"), "{ledger}");
    gh.call("PUT", "/_fake/secrets", Some(&json!({"scope": "repos/acme/app/actions", "name": "OTHER", "value": "x"})));
    esc.call("POST", "/_fake/reset-log", None);
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &["rm", "github:acme/app", "OTHER", "--yes"]);
    assert_eq!((code, ledger_patches(&esc)), (0, 0), "{out}");

    // A ledger that keeps refusing (quoting the value): the copy is written, the command
    // fails naming the ledger (exit 4), and no value shows.
    let echo = json!({"message": "conflict over canary-db-two"});
    esc.set_faults(
        json!([{"op": "definition_patch", "status": 409, "times": -1, "path_contains": "ledger", "body": echo}]),
    );
    let (code, out) = set(dir.path(), &esc, &gh, "DB_PASSWORD", "canary-db-two");
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("the ledger `esc:acme/ops/ledger` could not record it"), "{out}");
    assert_eq!(value(&gh, "repos/acme/app/actions", "DB_PASSWORD").as_deref(), Some("canary-db-two"));
}

/// Two manifests share a ledger: a write that meets a 409 reads the ledger
/// again and merges, keeping the other's records; one that keeps meeting it
/// fails naming the ledger, after the copies were written, and shows no value.
#[test]
fn ledger_writes_merge_on_conflict_and_fail_without_showing_a_value() {
    let esc = esc(json!({}));
    let gh = github(&github_support::state());
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(one.path().join("escort.toml"), LEDGER).unwrap();
    std::fs::write(two.path().join("escort.toml"), LEDGER.replace("github:acme/app", "github:acme/web")).unwrap();
    let (code, out) = escort_gh(one.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");

    esc.set_faults(json!([{"op": "definition_patch", "status": 409, "times": 1, "path_contains": "ledger"}]));
    let (code, out) = escort_gh(two.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("changed while escort was writing to it: reading it again"), "{out}");
    let (_, ledger) = esc_get(&esc, "/api/esc/environments/acme/ops/ledger/decrypt");
    assert!(ledger.contains("github:acme/app") && ledger.contains("github:acme/web"), "{ledger}");
    for dir in [one.path(), two.path()] {
        assert_eq!(not_ok(&gh_report(dir, &esc, &gh).0), []);
    }

    // The ledger keeps refusing, with the value in its message: the copy is
    // written, the sync fails naming the ledger, and no value shows.
    save(&esc, "acme/app/prod", &source_yaml("canary-db-two"));
    let echo = json!({"message": "conflict over canary-db-two"});
    esc.set_faults(
        json!([{"op": "definition_patch", "status": 409, "times": -1, "path_contains": "ledger", "body": echo}]),
    );
    let (code, out) = escort_gh(one.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 4, "written, but not recorded: {out}");
    assert!(out.contains("the ledger esc:acme/ops/ledger"), "{out}");
    assert_eq!(value(&gh, "repos/acme/app/actions", "DB_PASSWORD").as_deref(), Some("canary-db-two"));
}

/// A change in an imported environment makes exactly the key that reads it
/// stale on every target, and costs one write per target (and one ledger
/// revision); without a ledger that key is never `ok` by date.
#[test]
fn a_change_in_an_import_is_seen_on_every_target() {
    let esc = Fake::start_with(
        &peer_python(),
        "esc_server.py",
        &json!({"token": ESC_TOKEN, "default_org": "acme", "environments": {
            "acme/app/base": {"values": {"shared": {"fn::secret": "canary-db-one"}}},
            "acme/app/prod": {"imports": ["app/base"], "values": {"environmentVariables": {
                "SHARED": "${shared}", "OWN": {"fn::secret": "canary-provider-one"}
            }}}
        }}),
    );
    let gh = github(&github_support::state());
    let manifest = LEDGER.replace("[\"github:acme/app\"]", "[\"github:acme/app\", \"dotenv:prod.env\"]");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), &manifest).unwrap();
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(not_ok(&gh_report(dir.path(), &esc, &gh).0), []);

    save(&esc, "acme/app/base", "values:\n  shared:\n    fn::secret: canary-db-two\n");
    let (changed, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(
        not_ok(&changed),
        [
            ("SHARED".into(), "dotenv:prod.env".into(), "drifted".into()),
            ("SHARED".into(), "github:acme/app".into(), "stale".into()),
        ],
        "{out}"
    );
    // The fake may date a revision a second ahead of the clock: the write
    // that follows must come after it for a date to call it current.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (code, made, out) = synced(dir.path(), &esc, &gh);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        made,
        ["PATCH /api/esc/environments/acme/ops/ledger", "PUT /repos/acme/app/actions/secrets/SHARED"],
        "{out}"
    );
    assert!(std::fs::read_to_string(dir.path().join("prod.env")).unwrap().contains("canary-db-two"));
    assert_eq!(not_ok(&gh_report(dir.path(), &esc, &gh).0), []);

    // Without the ledger the imported value is dated by the import's
    // revisions (tests/it/dates.rs): written after its change, ok.
    std::fs::write(dir.path().join("escort.toml"), manifest.replace("ledger = \"esc:acme/ops/ledger\"", "")).unwrap();
    let (plain, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&plain), [], "{out}");
}

/// A pinned source is dated at its pin: a newer revision of the head does not
/// make its copies stale; moving the tag does.
#[test]
fn a_pinned_source_is_dated_at_its_pin() {
    let rev = |v: &str, created: &str| json!({"created": created, "values": {"environmentVariables": {"KEY": {"fn::secret": v}}}});
    let mut prod = rev("canary-provider-two", "2099-01-01T00:00:00Z");
    prod["history"] =
        json!([rev("canary-db-one", "2024-01-01T00:00:00Z"), rev("canary-db-two", "2024-02-01T00:00:00Z")]);
    prod["tags"] = json!({"stable": 2});
    let esc = Fake::start_with(
        &peer_python(),
        "esc_server.py",
        &json!({"token": ESC_TOKEN, "default_org": "acme", "environments": {"acme/app/prod": prod}}),
    );
    let gh = github(&github_support::state());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), SEALED.replace("acme/app/prod\"", "acme/app/prod@stable\""))
        .unwrap();
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(value(&gh, "repos/acme/app/actions", "KEY").as_deref(), Some("canary-db-two"));
    let (pinned, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&pinned), [], "the head's newer revision is not the pin's: {out}");

    let tag = "/api/esc/environments/acme/app/prod/versions/tags/stable";
    let (status, body) = esc_api(&esc, "PATCH", tag, "application/json", r#"{"revision": 3}"#);
    assert!((200..300).contains(&status), "{status} {body}");
    let (moved, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&moved), [("KEY".into(), "github:acme/app".into(), "stale".into())], "{out}");
}

/// Where the history runs out (its first revision retracted), a key
/// unchanged since is dated at the oldest revision read, and said so.
#[test]
fn where_the_history_runs_out_it_says_changed_before() {
    let rev = |n: &str, created: &str| json!({"created": created, "values": {"environmentVariables": {"KEY": {"fn::secret": "canary-db-one"}, "N": n}}});
    let mut prod = rev("3", "2025-03-01T00:00:00Z");
    prod["history"] = json!([rev("1", "2025-01-01T00:00:00Z"), rev("2", "2025-02-01T00:00:00Z")]);
    let esc = Fake::start_with(
        &peer_python(),
        "esc_server.py",
        &json!({"token": ESC_TOKEN, "default_org": "acme", "environments": {"acme/app/prod": prod}}),
    );
    esc.call("POST", "/_fake/retract", Some(&json!({"env": "acme/app/prod", "revision": 1, "replacement": 2})));
    let gh = github(&github_support::state());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), SEALED).unwrap();
    let (code, out) = escort_gh(dir.path(), &esc, &gh, &["sync"]);
    assert_eq!(code, 0, "{out}");
    let (report, out) = gh_report(dir.path(), &esc, &gh);
    assert_eq!(not_ok(&report), [], "{out}");
    let key = report["cells"].as_array().unwrap().iter().find(|c| c["key"] == "KEY").unwrap().clone();
    assert_eq!(key["source_changed_at"], "2025-02-01T00:00:00Z", "{report}");
    assert_eq!(key["source_changed_before"], true, "{report}");
    let (_, text) = escort_gh(dir.path(), &esc, &gh, &["status"]);
    assert!(
        text.contains("KEY in github:acme/app: ok: the source changed it no later than 2025-02-01T00:00:00Z"),
        "{text}"
    );
}
