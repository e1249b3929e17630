//! The `fly:APP` target: `sync`, `ls`, `set` and `rm` against the fake
//! Machines API (tests/fakes/fly_server.py), including a canary run over
//! every path.

use crate::common;

use crate::common::{Fake, assert_absent};
use serde_json::{Map, Value, json};

const TOKEN: &str = "fly-test-token-3c1d";

/// App `app` with OLD and STALE, app `empty` with nothing.
fn state() -> Value {
    json!({
        "token": TOKEN,
        "apps": {
            "app": {"secrets": {
                "OLD": {"value": "old", "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-03-01T10:00:00Z"},
                "STALE": {"value": "stale"}
            }},
            "empty": {}
        }
    })
}

fn fly(state: &Value) -> Fake {
    Fake::start("fly_server.py", state)
}

fn escort(fake: &Fake) -> assert_cmd::Command {
    let mut cmd = common::escort();
    cmd.env("FLY_API_TOKEN", TOKEN).env("FLY_API_URL", &fake.url).env("ESCORT_MAX_RETRY_WAIT", "5");
    cmd
}

/// `sync --from env --keys ...` with these variables set.
fn sync_env(fake: &Fake, vars: &[(&str, &str)], to: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    let keys: Vec<&str> = vars.iter().map(|(k, _)| *k).collect();
    let mut cmd = escort(fake);
    cmd.args(["sync", "--from", "env", "--keys", &keys.join(","), "--to", to]).args(extra);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.assert()
}

fn stored(fake: &Fake, app: &str) -> Map<String, Value> {
    match fake.call("GET", &format!("/_fake/secrets/{app}"), None) {
        Value::Object(m) => m,
        other => panic!("stored secrets are {other}"),
    }
}

fn values(fake: &Fake, app: &str) -> Vec<(String, String)> {
    stored(fake, app).into_iter().map(|(k, v)| (k, v["value"].as_str().unwrap().to_string())).collect()
}

fn posts(fake: &Fake) -> Vec<Value> {
    fake.requests().into_iter().filter(|r| r["method"] == "POST").collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    out.sort();
    out
}

#[test]
fn a_sync_is_one_request_and_values_arrive_exactly() {
    let fake = fly(&state());
    let big = "z".repeat(64 * 1024);
    let vars = [
        ("EMPTY", ""),
        ("LINES", "line 1\nline 2\r\n\n"),
        ("UNICODE", "naïve ✓ 秘密 🔑"),
        ("HOSTILE", "%0A ::add-mask:: \"quoted\" 'single' \\ $HOME ${X} EOF\n<<EOF\t"),
        ("BIG", big.as_str()),
    ];
    sync_env(&fake, &vars, "fly:empty", &[]).success();
    assert_eq!(values(&fake, "empty"), pairs(&vars));

    let requests = fake.requests();
    let methods: Vec<&str> = requests.iter().map(|r| r["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["GET", "POST"], "one list, then one write");
    let post = &requests[1];
    assert_eq!(post["path"], "/v1/apps/empty/secrets");
    assert_eq!(post["headers"]["authorization"], "present");
    assert_eq!(post["headers"]["content-type"], "application/json");
    let sent: Vec<&String> = post["body"]["values"].as_object().unwrap().keys().collect();
    assert_eq!(sent, ["BIG", "EMPTY", "HOSTILE", "LINES", "UNICODE"]);
}

#[test]
fn create_update_and_prune_go_in_one_request_with_nulls() {
    let fake = fly(&state());
    let vars = [("OLD", "new"), ("NEW", "v")];

    // Without --prune, STALE stays and escort says so.
    let out = sync_env(&fake, &vars, "fly:app", &[]).success();
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("1 secret(s) in the secrets of Fly app app are not in env; --prune would"), "{stderr}");
    assert_eq!(values(&fake, "app"), pairs(&[("NEW", "v"), ("OLD", "new"), ("STALE", "stale")]));

    fake.call("POST", "/_fake/reset-log", None);
    let out = sync_env(&fake, &[("OLD", "newer"), ("NEW", "v")], "fly:app", &["--prune", "--yes", "--format", "json"])
        .success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let rows: Vec<(&str, &str, bool)> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["action"].as_str().unwrap(), r["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(rows, [("OLD", "update", true), ("NEW", "update", true), ("STALE", "delete", true)]);
    let sent = posts(&fake);
    assert_eq!(sent.len(), 1, "writes and deletions in one request");
    assert_eq!(sent[0]["body"], json!({"values": {"NEW": "<set>", "OLD": "<set>", "STALE": null}}));
    assert_eq!(values(&fake, "app"), pairs(&[("NEW", "v"), ("OLD", "newer")]));

    // A dry run lists the plan and writes nothing.
    fake.call("POST", "/_fake/reset-log", None);
    let out = sync_env(&fake, &[("ONLY", "x")], "fly:app", &["--dry-run", "--prune"]).success();
    let stdout = text(&out.get_output().stdout);
    assert!(stdout.contains("create  ONLY") && stdout.contains("prune   NEW"), "{stdout}");
    assert!(posts(&fake).is_empty());
}

#[test]
fn ls_shows_names_and_dates_never_values() {
    let fake = fly(&state());
    let out = escort(&fake).args(["ls", "fly:app", "--format", "json"]).assert().success();
    let listed: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(listed["target"], "secrets of Fly app app");
    assert_eq!(
        listed["secrets"][0],
        json!({"name": "OLD", "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-03-01T10:00:00Z"})
    );
    assert_eq!(listed["secrets"][1]["name"], "STALE");

    let out = escort(&fake).args(["ls", "fly:app"]).assert().success();
    let stdout = text(&out.get_output().stdout);
    let row: Vec<&str> = stdout.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row, ["OLD", "2024-03-01T10:00:00Z", "2024-01-01T00:00:00Z"]);
    assert!(!stdout.contains("old") && !stdout.contains("stale"), "{stdout}");

    let out = escort(&fake).args(["ls", "fly:empty"]).assert().success();
    assert!(text(&out.get_output().stderr).contains("no secrets in the secrets of Fly app empty"));
}

#[test]
fn set_and_rm() {
    let fake = fly(&state());
    let pem = "-----BEGIN KEY-----\nabc\n-----END KEY-----\n";
    let out = escort(&fake).args(["set", "fly:app", "TLS_KEY", "--raw"]).write_stdin(pem).assert().success();
    assert!(text(&out.get_output().stderr).contains("created TLS_KEY in the secrets of Fly app app"));
    let out = escort(&fake).args(["set", "fly:app", "OLD"]).write_stdin("v2").assert().success();
    assert!(text(&out.get_output().stderr).contains("updated OLD"));
    assert_eq!(stored(&fake, "app")["TLS_KEY"]["value"], pem);

    // A name the app lacks is reported and not sent; the rest is deleted (exit 4: partial).
    fake.call("POST", "/_fake/reset-log", None);
    let out = escort(&fake).args(["rm", "fly:app", "TLS_KEY", "NOPE", "--yes"]).assert().code(4);
    assert!(text(&out.get_output().stdout).contains("NOPE     delete   FAILED: Fly app app has no secret NOPE"));
    assert_eq!(posts(&fake)[0]["body"], json!({"values": {"TLS_KEY": null}}));
    assert!(!stored(&fake, "app").contains_key("TLS_KEY"));

    escort(&fake).args(["rm", "fly:app", "OLD"]).assert().code(2); // nobody to confirm
    fake.call("POST", "/_fake/reset-log", None);
    escort(&fake).args(["rm", "fly:app", "--all", "--yes"]).assert().success();
    assert_eq!(posts(&fake).len(), 1);
    assert!(stored(&fake, "app").is_empty());
}

#[test]
fn flyv1_tokens_are_sent_without_bearer() {
    let raw = "FlyV1 fm2_lJPECAAAAAAAA,fm2_lJPEEAAAAAAB";
    let mut st = state();
    st["token"] = json!(raw);
    let fake = fly(&st);
    let mut cmd = escort(&fake);
    cmd.env("FLY_API_TOKEN", raw).env("A", "1");
    cmd.args(["sync", "--from", "env", "--keys", "A", "--to", "fly:app"]).assert().success();
    assert!(fake.requests().iter().all(|r| r["headers"]["authorization"] == "present"));
    assert_eq!(stored(&fake, "app")["A"]["value"], "1");
}

#[test]
fn unknown_apps_bad_tokens_and_bad_input_are_clear() {
    let fake = fly(&state());
    let out = sync_env(&fake, &[("A", "1")], "fly:nope", &[]).code(3);
    let err = text(&out.get_output().stderr);
    assert!(
        err.contains("Fly app `nope` not found") && err.contains("GET /v1/apps/nope/secrets returned 404"),
        "{err}"
    );
    let out = escort(&fake).args(["set", "fly:nope", "A"]).write_stdin("v").assert().code(3);
    assert!(text(&out.get_output().stderr).contains("Fly app `nope` not found"));

    let out = escort(&fake).env("FLY_API_TOKEN", "wrong").args(["ls", "fly:app"]).assert().code(3);
    let err = text(&out.get_output().stderr);
    assert!(err.contains("Fly.io refused the token: check FLY_API_TOKEN") && err.contains("401"), "{err}");
    assert!(posts(&fake).is_empty());

    // Refused before any request.
    fake.call("POST", "/_fake/reset-log", None);
    let out = escort(&fake).env_remove("FLY_API_TOKEN").args(["ls", "fly:app"]).assert().code(2);
    assert!(text(&out.get_output().stderr).contains("set FLY_API_TOKEN"));
    for bad in ["fly:", "fly:My_App", "flyio:app"] {
        let out = sync_env(&fake, &[("A", "1")], bad, &[]).code(2);
        let err = text(&out.get_output().stderr);
        assert!(err.contains(bad) && (err.contains("fly:APP")), "{bad}: {err}");
    }
    let out = sync_env(&fake, &[("A", "1")], "fly:app", &["--app", "actions"]).code(2);
    assert!(text(&out.get_output().stderr).contains("for GitHub targets"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".env");
    std::fs::write(&file, "GOOD=1\nnot.a.var=2\n").unwrap();
    let from = format!("dotenv:{}", file.display());
    let out = escort(&fake).args(["sync", "--from", &from, "--to", "fly:app"]).assert().code(2);
    let err = text(&out.get_output().stderr);
    assert!(err.contains("`not.a.var` is not an environment variable name") && err.contains("nothing was sent"));
    assert!(fake.requests().is_empty());
}

#[test]
fn a_failed_write_fails_every_name_and_a_transient_one_is_retried() {
    let fake = fly(&state());
    let vars = [("OLD", "new"), ("NEW", "v")];
    fake.set_faults(json!([{"method": "POST", "status": 422, "times": -1, "message": "value rejected"}]));
    let out = sync_env(&fake, &vars, "fly:app", &[]).code(3);
    let stdout = text(&out.get_output().stdout);
    assert_eq!(stdout.matches("FAILED: update the secrets of Fly app app failed").count(), 2, "{stdout}");
    assert!(stdout.contains("422 Unprocessable Entity: value rejected"), "{stdout}");
    assert_eq!(values(&fake, "app"), pairs(&[("OLD", "old"), ("STALE", "stale")]));
    let out = escort(&fake).args(["set", "fly:app", "X"]).write_stdin("v").assert().code(3);
    assert!(text(&out.get_output().stderr).contains("value rejected"));

    fake.set_faults(json!([{"method": "POST", "status": 503, "times": 1}]));
    fake.call("POST", "/_fake/reset-log", None);
    sync_env(&fake, &vars, "fly:app", &[]).success();
    assert_eq!(posts(&fake).len(), 2, "the write is sent again after a 503");
    assert_eq!(stored(&fake, "app")["OLD"]["value"], "new");
}

const CANARY_TOKEN: &str = "fly-CANARY-token-51d2";
const WRONG_TOKEN: &str = "FlyV1 fm2_CANARY-wrong-7a0c";
const ONE: &str = "CANARY-value-one-e19f";
const LINE1: &str = "CANARY-line-one-4b7c";
const LINE2: &str = "CANARY-line-two-90d3";
const UNICODE: &str = "CANARY-ünïcødé-秘密-2e6a";
const NEEDLES: &[&str] = &[CANARY_TOKEN, WRONG_TOKEN, ONE, LINE1, LINE2, UNICODE, "CANARY"];

#[test]
fn canary_no_value_or_token_in_any_output() {
    let mut st = state();
    st["token"] = json!(CANARY_TOKEN);
    st["apps"]["app"]["secrets"]["STALE"] = json!({"value": ONE});
    let fake = fly(&st);
    let multi = format!("{LINE1}\n{LINE2}\n");
    let vars = [("ONE", ONE.to_string()), ("MULTI", multi.clone()), ("UNI", UNICODE.to_string())];

    let run = |what: &str, args: &[&str], stdin: Option<&str>, token: &str| {
        let mut cmd = common::escort();
        cmd.env("FLY_API_TOKEN", token).env("FLY_API_URL", &fake.url).env("ESCORT_MAX_RETRY_WAIT", "5").args(args);
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        common::code_showing_none(cmd, stdin, NEEDLES, what)
    };
    let sync = ["sync", "--from", "env", "--keys", "ONE,MULTI,UNI", "--to", "fly:app"];
    let with = |extra: &[&'static str]| -> Vec<&str> { sync.iter().copied().chain(extra.iter().copied()).collect() };

    assert_eq!(run("sync", &sync, None, CANARY_TOKEN), Some(0));
    assert_eq!(run("sync json", &with(&["--format", "json"]), None, CANARY_TOKEN), Some(0));
    assert_eq!(run("dry run", &with(&["--dry-run", "--prune"]), None, CANARY_TOKEN), Some(0));
    assert_eq!(run("prune refused", &with(&["--prune"]), None, CANARY_TOKEN), Some(2));
    assert_eq!(run("wrong token", &sync, None, WRONG_TOKEN), Some(3));
    let to_nope = ["sync", "--from", "env", "--keys", "ONE", "--to", "fly:nope"];
    assert_eq!(run("unknown app", &to_nope, None, CANARY_TOKEN), Some(3));
    let bad_name = ["sync", "--from", "env", "--keys", "ONE", "--to", "fly:Bad"];
    assert_eq!(run("bad app name", &bad_name, None, CANARY_TOKEN), Some(2));

    // A server that echoes the values and the token back in its errors.
    let echo = format!("rejected {ONE} {LINE1} {UNICODE} for {CANARY_TOKEN}");
    fake.set_faults(json!([{"method": "POST", "status": 422, "times": -1, "message": echo}]));
    assert_eq!(run("refused", &sync, None, CANARY_TOKEN), Some(3));
    assert_eq!(run("refused json", &with(&["--format", "json"]), None, CANARY_TOKEN), Some(3));
    assert_eq!(run("refused prune", &with(&["--prune", "--yes"]), None, CANARY_TOKEN), Some(3));
    // `ls` has seen no value: only the token can come back.
    let token_echo = format!("bad token {CANARY_TOKEN}");
    fake.set_faults(json!([{"method": "GET", "status": 401, "times": -1, "message": token_echo}]));
    assert_eq!(run("list refused", &["ls", "fly:app"], None, CANARY_TOKEN), Some(3));
    fake.set_faults(json!([{"method": "POST", "status": 502, "times": 1, "message": echo}]));
    assert_eq!(run("retried", &sync, None, CANARY_TOKEN), Some(0));
    fake.set_faults(json!([]));
    assert_eq!(run("prune", &with(&["--prune", "--yes"]), None, CANARY_TOKEN), Some(0));

    assert_eq!(run("ls", &["ls", "fly:app"], None, CANARY_TOKEN), Some(0));
    assert_eq!(run("ls json", &["ls", "fly:app", "--format", "json"], None, CANARY_TOKEN), Some(0));
    assert_eq!(run("set", &["set", "fly:app", "PIPED"], Some(&multi), CANARY_TOKEN), Some(0));
    let nul = format!("{ONE}\0");
    assert_eq!(run("set NUL", &["set", "fly:app", "NUL"], Some(&nul), CANARY_TOKEN), Some(2));
    // `set` and `rm` know only the value they set and the token: that is what can come back.
    let echo = format!("rejected {LINE1} {LINE2} for {CANARY_TOKEN}");
    fake.set_faults(json!([{"method": "POST", "status": 422, "times": 1, "message": echo}]));
    assert_eq!(run("set refused", &["set", "fly:app", "PIPED"], Some(&multi), CANARY_TOKEN), Some(3));
    let echo = format!("cannot delete for {CANARY_TOKEN}");
    fake.set_faults(json!([{"method": "POST", "status": 500, "times": -1, "message": echo}]));
    assert_eq!(run("rm refused", &["rm", "fly:app", "ONE", "GONE", "--yes"], None, CANARY_TOKEN), Some(3));
    fake.set_faults(json!([]));
    assert_eq!(run("rm partial", &["rm", "fly:app", "ONE", "GONE", "--yes"], None, CANARY_TOKEN), Some(4));
    assert_eq!(run("rm all", &["rm", "fly:app", "--all", "--yes"], None, CANARY_TOKEN), Some(0));

    // The fake's own log holds no token and no value.
    let log = serde_json::to_vec(&fake.requests()).unwrap();
    assert_absent(&log, NEEDLES, "the fake's request log");
}
