//! No secret value and no token in any output escort makes, on any path.
//! Values appear only where they are the product: the export itself
//! (stdout of shell/dotenv/json, `::add-mask::` lines in a GitHub job).

use crate::common::{Fake, assert_absent, escort};
use serde_json::{Value, json};

const TOKEN: &str = "tok-CANARY-token-0001";
const VALUES: &[&str] =
    &["CANARY-secret-alpha", "CANARY-line-one", "CANARY-line-two", "CANARY-leaf-beta", "CANARY-file-gamma"];

fn all_canaries() -> Vec<&'static str> {
    let mut v = VALUES.to_vec();
    v.push(TOKEN);
    v.push("CANARY"); // any fragment at all
    v
}

fn state(faults: Value) -> Value {
    json!({
        "token": TOKEN, "default_org": "acme",
        "environments": {"acme/app/dev": {"values": {
            "environmentVariables": {
                "ALPHA": {"fn::secret": "CANARY-secret-alpha"},
                "LINES": {"fn::secret": "CANARY-line-one\nCANARY-line-two"},
                "OBJ": {"user": "u", "pw": {"fn::secret": "CANARY-leaf-beta"}},
                "bad-name": {"fn::secret": "CANARY-secret-alpha"},
                "PLAIN": "plain"
            },
            "files": {"F": {"fn::secret": "CANARY-file-gamma"}}
        }}},
        "faults": faults
    })
}

fn cmd(fake: &Fake, args: &[&str]) -> assert_cmd::Command {
    let mut c = escort();
    c.env("ESC_API_URL", &fake.url)
        .env("ESC_TOKEN", TOKEN)
        .env("ESC_ENV", "acme/app/dev")
        .env("ESCORT_RETRIES", "1")
        .env("ESCORT_TIMEOUT", "1")
        .args(args);
    c
}

fn check_error_path(faults: Value, args: &[&str], code: i32) {
    let fake = Fake::esc(&state(faults.clone()));
    let out = cmd(&fake, args).assert().code(code);
    let o = out.get_output();
    assert_absent(&o.stdout, &all_canaries(), &format!("stdout of {args:?} with {faults}"));
    assert_absent(&o.stderr, &all_canaries(), &format!("stderr of {args:?} with {faults}"));
}

const LOAD: &[&str] = &["load", "--format", "json", "--keys", "ALPHA,LINES,OBJ,F"];

#[test]
fn backend_failures_show_no_value_or_token() {
    for (fault, code) in [
        (json!({"op": "open", "status": 401}), 3),
        (json!({"op": "open", "status": 404}), 3),
        (json!({"op": "read", "status": 500, "times": -1}), 3),
        (json!({"op": "read", "delay_ms": 3000, "times": -1}), 3),
        (json!({"op": "read", "malformed": true}), 3),
        (json!({"op": "read", "truncate": true, "times": -1}), 3),
        // A server that echoes the token back in its error message.
        (
            json!({"op": "open", "status": 400, "body": format!("{{\"message\":\"bad token {TOKEN}\",\"code\":400}}")}),
            3,
        ),
    ] {
        check_error_path(json!([fault]), LOAD, code);
    }
}

#[test]
fn usage_failures_after_loading_show_no_value() {
    // Values are loaded, then refused: a bad name, a missing key.
    check_error_path(json!([]), &["load", "--format", "json"], 2);
    check_error_path(json!([]), &["load", "--format", "json", "--keys", "ALPHA,MISSING"], 2);
    check_error_path(json!([]), &["load", "--format", "github", "--keys", "ALPHA"], 2); // no $GITHUB_ENV
}

#[test]
fn a_token_that_cannot_be_a_header_is_not_shown() {
    let fake = Fake::esc(&state(json!([])));
    let out = cmd(&fake, LOAD).env("ESC_TOKEN", "tok-CANARY\nsecond-line").assert().code(3);
    assert_absent(&out.get_output().stderr, &["CANARY", "second-line"], "stderr");
}

#[test]
fn hostile_response_shapes_fail_cleanly() {
    // Deep nesting past the parser's limit, and a properties tree of the wrong type.
    let mut deep = json!({"value": "CANARY-secret-alpha", "secret": true, "trace": {}});
    for _ in 0..300 {
        deep = json!({"value": {"k": deep}, "trace": {}});
    }
    for raw in [json!({"environmentVariables": {"value": {"D": deep}, "trace": {}}}), json!(["CANARY-secret-alpha"])] {
        let mut st = state(json!([]));
        st["environments"]["acme/app/dev"]["properties_raw"] = raw;
        let fake = Fake::esc(&st);
        let out = cmd(&fake, &["load", "--format", "json"]).assert().code(3);
        let o = out.get_output();
        assert_absent(&o.stderr, &all_canaries(), "stderr");
        assert!(!String::from_utf8_lossy(&o.stderr).contains("internal error"), "no panic");
    }
}

#[test]
fn a_successful_github_load_shows_values_only_in_masks() {
    let fake = Fake::esc(&state(json!([])));
    let dir = tempfile::tempdir().unwrap();
    let out = cmd(&fake, &["load", "--format", "github", "--keys", "ALPHA,LINES,OBJ,F"])
        .env("GITHUB_ENV", dir.path().join("env"))
        .env("RUNNER_TEMP", dir.path())
        .assert()
        .success();
    let o = out.get_output();
    assert_absent(&o.stderr, &all_canaries(), "stderr");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let unmasked: Vec<&str> = stdout.lines().filter(|l| !l.starts_with("::add-mask::")).collect();
    assert_absent(unmasked.join("\n").as_bytes(), &all_canaries(), "non-mask stdout");
    for v in VALUES {
        assert!(stdout.contains(v), "{v} must be masked");
    }
}

#[test]
fn text_formats_show_values_on_stdout_only() {
    let fake = Fake::esc(&state(json!([])));
    for format in ["shell", "dotenv", "json"] {
        let out = cmd(&fake, &["load", "--format", format, "--keys", "ALPHA,LINES,OBJ,F"]).assert().success();
        assert_absent(&out.get_output().stderr, &all_canaries(), format);
        // The export itself is there: every value but the file's, which is a path.
        let stdout = String::from_utf8_lossy(&out.get_output().stdout);
        for v in ["CANARY-secret-alpha", "CANARY-line-one", "CANARY-line-two", "CANARY-leaf-beta"] {
            assert!(stdout.contains(v), "{format}: {v} is not on stdout:\n{stdout}");
        }
        assert!(!stdout.contains("CANARY-file-gamma"), "{format}: a file's content is not exported");
    }
}

#[test]
fn run_redacts_every_secret() {
    let fake = Fake::esc(&state(json!([])));
    let out = cmd(&fake, &["run", "--keys", "ALPHA,LINES,OBJ,F", "--", "bash", "-c", "env; cat \"$F\"; env >&2"])
        .assert()
        .success();
    let o = out.get_output();
    assert_absent(&o.stdout, &all_canaries(), "run stdout");
    assert_absent(&o.stderr, &all_canaries(), "run stderr");
    // The command ran and its output came through, each value in it redacted.
    let (stdout, stderr) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    for name in ["ALPHA", "LINES", "OBJ"] {
        assert!(stdout.lines().any(|l| l == format!("{name}=***")), "{name} on stdout:\n{stdout}");
        assert!(stderr.lines().any(|l| l == format!("{name}=***")), "{name} on stderr:\n{stderr}");
    }
    assert!(stdout.lines().any(|l| l == "***"), "the file's content, redacted:\n{stdout}");
}
