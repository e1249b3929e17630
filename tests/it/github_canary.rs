//! No value and no token in any output of `sync`, `ls`, `set` or `rm`, on
//! every path: success, dry run, prune, retries, partial and total failure,
//! refusals, and a server that echoes values and tokens in its errors.

use crate::common;

use crate::common::assert_absent;
use crate::github_support::{escort, github, state};
use serde_json::json;

const TOKEN: &str = "ghp-CANARY-token-77f3a1";
const WRONG_TOKEN: &str = "ghp-CANARY-wrong-token-0c9e";
const ONE: &str = "CANARY-value-one-5e1f";
const LINE1: &str = "CANARY-line-one-a8b2";
const LINE2: &str = "CANARY-line-two-c3d4";
const UNICODE: &str = "CANARY-ünïcødé-秘密-9f0a";
const NEEDLES: &[&str] = &[TOKEN, WRONG_TOKEN, ONE, LINE1, LINE2, UNICODE, "CANARY"];

#[test]
fn no_value_or_token_in_any_output() {
    let mut st = state();
    st["token"] = json!(TOKEN);
    st["secrets"]["repos/acme/app/actions"] = json!({"STALE": {"value": ONE}});
    let fake = github(&st);
    let multi = format!("{LINE1}\n{LINE2}\n");
    let vars = [("ONE", ONE.to_string()), ("MULTI", multi.clone()), ("UNI", UNICODE.to_string())];

    let run = |what: &str, args: &[&str], stdin: Option<&str>, token: &str| {
        let mut cmd = escort(&fake);
        cmd.env("GITHUB_TOKEN", token).args(args);
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        common::code_showing_none(cmd, stdin, NEEDLES, what)
    };
    let sync = ["sync", "--from", "env", "--keys", "ONE,MULTI,UNI", "--to", "github:acme/app"];
    let with = |extra: &[&'static str]| -> Vec<&str> { sync.iter().copied().chain(extra.iter().copied()).collect() };

    assert_eq!(run("sync", &sync, None, TOKEN), Some(0));
    assert_eq!(run("sync json", &with(&["--format", "json"]), None, TOKEN), Some(0));
    assert_eq!(run("dry run", &with(&["--dry-run", "--prune"]), None, TOKEN), Some(0));
    assert_eq!(run("prune refused", &with(&["--prune"]), None, TOKEN), Some(2));
    assert_eq!(run("prune", &with(&["--prune", "--yes"]), None, TOKEN), Some(0));
    assert_eq!(run("wrong token", &sync, None, WRONG_TOKEN), Some(3));
    assert_eq!(
        run("unknown repo", &["sync", "--from", "env", "--keys", "ONE", "--to", "github:acme/nope"], None, TOKEN),
        Some(3)
    );
    assert_eq!(
        run("bad name", &["sync", "--from", "env", "--keys", "GITHUB_X=ONE", "--to", "github:acme/app"], None, TOKEN),
        Some(2)
    );

    // A server that echoes the value and the token back in its errors.
    let echo = format!("rejected {ONE} {LINE1} {UNICODE} for {TOKEN}");
    fake.set_faults(json!([{"method": "PUT", "path_contains": "/ONE", "status": 422, "times": -1, "message": echo}]));
    assert_eq!(run("partial", &sync, None, TOKEN), Some(4));
    assert_eq!(run("partial json", &with(&["--format", "json"]), None, TOKEN), Some(4));
    fake.set_faults(json!([{"path_contains": "/public-key", "status": 403, "times": -1, "message": echo}]));
    assert_eq!(run("forbidden", &sync, None, TOKEN), Some(3));
    fake.set_faults(json!([
        {"method": "PUT", "status": 403, "retry_after": "0", "times": 1, "message": echo},
        {"method": "PUT", "status": 502, "times": 1, "message": echo}
    ]));
    assert_eq!(run("retried", &sync, None, TOKEN), Some(0));
    fake.set_faults(json!([{"method": "PUT", "status": 500, "times": -1, "message": echo}]));
    assert_eq!(run("total failure", &sync, None, TOKEN), Some(3));
    fake.set_faults(json!([]));

    assert_eq!(run("ls", &["ls", "github:acme/app"], None, TOKEN), Some(0));
    assert_eq!(run("ls json", &["ls", "github:acme/app", "--format", "json"], None, TOKEN), Some(0));
    assert_eq!(run("set", &["set", "github:acme/app", "PIPED"], Some(&multi), TOKEN), Some(0));
    let big = format!("{ONE}{}", "x".repeat(48 * 1024));
    assert_eq!(run("set too big", &["set", "github:acme/app", "BIG"], Some(&big), TOKEN), Some(2));
    // `set` and `rm` know only the value they set and the token: that is what can come back.
    let echo = format!("rejected {LINE1} {LINE2} for {TOKEN}");
    fake.set_faults(json!([{"method": "PUT", "status": 422, "times": 1, "message": echo}]));
    assert_eq!(run("set refused", &["set", "github:acme/app", "PIPED"], Some(&multi), TOKEN), Some(3));
    let echo = format!("cannot delete for {TOKEN}");
    fake.set_faults(
        json!([{"method": "DELETE", "path_contains": "/UNI", "status": 500, "times": -1, "message": echo}]),
    );
    assert_eq!(run("rm partial", &["rm", "github:acme/app", "ONE", "UNI", "--yes"], None, TOKEN), Some(4));
    fake.set_faults(json!([]));
    assert_eq!(run("rm all", &["rm", "github:acme/app", "--all", "--yes"], None, TOKEN), Some(0));

    // The fake's own log holds no token and no plaintext: only sealed boxes.
    let log = serde_json::to_vec(&fake.requests()).unwrap();
    assert_absent(&log, &[TOKEN, WRONG_TOKEN, ONE, LINE1, LINE2], "the fake's request log");
}
