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

/// `load --format github` (and `extra`) in a job: the values show on stdout
/// only in masks, and nowhere on stderr. Returns the job's directory.
fn github_load(extra: &[&str]) -> tempfile::TempDir {
    let fake = Fake::esc(&state(json!([])));
    let dir = tempfile::tempdir().unwrap();
    let out = cmd(&fake, &[&["load", "--format", "github", "--keys", "ALPHA,LINES,OBJ,F"][..], extra].concat())
        .env("GITHUB_ENV", dir.path().join("env"))
        .env("GITHUB_OUTPUT", dir.path().join("output"))
        .env("RUNNER_TEMP", dir.path())
        .assert()
        .success();
    let o = out.get_output();
    assert_absent(&o.stderr, &all_canaries(), &format!("{extra:?}: stderr"));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let unmasked: Vec<&str> = stdout.lines().filter(|l| !l.starts_with("::add-mask::")).collect();
    assert_absent(unmasked.join("\n").as_bytes(), &all_canaries(), &format!("{extra:?}: stdout beside the masks"));
    for v in VALUES {
        assert!(stdout.contains(v), "{v} must be masked");
    }
    dir
}

#[test]
fn a_successful_github_load_shows_values_only_in_masks() {
    github_load(&[]);
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
        assert_absent(stdout.as_bytes(), &[TOKEN], &format!("{format}: stdout"));
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

// ---- paths the tables above do not reach (issue 21) ----
// Each feeds the secrets and the tokens in, asserts none shows on stdout or
// stderr, and asserts the output the path should give is there (an empty
// output would pass the first half alone).

const GH_TOKEN: &str = "ghp-CANARY-gh-token-31d7";
const ID_TOKEN: &str = "jwt-CANARY-id-token-8e20";

/// Run `cmd`: its exit code must be `code`, nothing of `all_canaries()` may show
/// on stdout or stderr, and each of `want` must show on one of them.
fn expect(mut cmd: assert_cmd::Command, stdin: Option<&str>, code: i32, want: &[&str], what: &str) {
    if let Some(input) = stdin {
        cmd.write_stdin(input.to_string());
    }
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_absent(stdout.as_bytes(), &all_canaries(), &format!("{what}: stdout"));
    assert_absent(stderr.as_bytes(), &all_canaries(), &format!("{what}: stderr"));
    assert_eq!(out.status.code(), Some(code), "{what}:\n{stdout}\n{stderr}");
    for w in want {
        assert!(stdout.contains(w) || stderr.contains(w), "{what}: {w:?} is not shown:\n{stdout}\n{stderr}");
    }
}

/// The fake GitHub, its token a canary.
fn github() -> Fake {
    let mut st = crate::github_support::state();
    st["token"] = json!(GH_TOKEN);
    crate::github_support::github(&st)
}

fn on_github(github: &Fake, args: &[&str]) -> assert_cmd::Command {
    let mut c = escort();
    c.env("GITHUB_API_URL", &github.url)
        .env("GITHUB_TOKEN", GH_TOKEN)
        .env("ESCORT_RETRIES", "0")
        .env("ESCORT_MAX_RETRY_WAIT", "1")
        .args(args);
    c
}

/// An error message that echoes every canary back.
fn echo() -> String {
    format!("refused {} for {TOKEN} {GH_TOKEN} {ID_TOKEN}", VALUES.join(" "))
}

/// ESC's error body, with that message.
fn esc_echo(code: u16) -> Value {
    json!({"message": echo(), "code": code})
}

#[test]
fn run_error_paths_show_no_value() {
    let fake = Fake::esc(&state(json!([])));
    let keys = ["run", "--keys", "ALPHA,LINES,OBJ,F", "--"];
    let missing = cmd(&fake, &[&keys[..], &["/nonexistent/escort-canary-cmd"]].concat());
    expect(missing, None, 2, &["could not start `/nonexistent/escort-canary-cmd`"], "run: a missing command");
    let killed =
        cmd(&fake, &[&keys[..], &["bash", "-c", "echo \"ALPHA=$ALPHA\"; echo \"$LINES\" >&2; kill -TERM $$"]].concat());
    expect(killed, None, 128 + 15, &["ALPHA=***"], "run: killed by a signal");
}

#[test]
fn get_failures_show_no_value_or_token() {
    let fake = Fake::esc(&state(json!([{"op": "open", "status": 500, "times": -1, "body": esc_echo(500)}])));
    expect(cmd(&fake, &["get", "ALPHA"]), None, 3, &["500"], "get: ESC fails");
    // A .env that does not parse: the line is named, not shown.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "GOOD=CANARY-secret-alpha\nBAD='CANARY-line-one\n").unwrap();
    let mut get = cmd(&fake, &["get", "GOOD", "--from", "dotenv:.env"]);
    get.current_dir(dir.path());
    expect(get, None, 2, &[".env:2: not a valid"], "get: a .env parse error");
}

#[test]
fn login_against_a_server_that_echoes_the_token() {
    let fake = Fake::esc(&json!({
        "token": TOKEN,
        "oidc": {"subject_token": ID_TOKEN, "access_token": TOKEN, "orgs": ["acme"]},
        "faults": [{"op": "oauth", "status": 400, "times": -1,
                    "body": {"error": "invalid_request", "error_description": echo()}}]
    }));
    let mut login = escort();
    login.env("ESC_API_URL", &fake.url).args(["login", "--oidc-organization", "acme", "--oidc-token", "-"]);
    expect(login, Some(ID_TOKEN), 3, &["returned 400 Bad Request", "message withheld"], "login: an echoing server");
    // And a success prints the token only where it is the product (a shell export).
    fake.set_faults(json!([]));
    let mut login = escort();
    login.env("ESC_API_URL", &fake.url).args(["login", "--oidc-organization", "acme", "--oidc-token", "-"]);
    let out = login.write_stdin(ID_TOKEN).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_absent(&out.stderr, &all_canaries(), "login: stderr");
    assert!(String::from_utf8_lossy(&out.stdout).contains(TOKEN), "login exports the token");
}

#[test]
fn actions_variables_targets_show_no_value_or_token() {
    let gh = github();
    let target = "github-vars:acme/app";
    expect(on_github(&gh, &["set", target, "ALPHA"]), Some("CANARY-secret-alpha"), 0, &["created ALPHA"], "set");
    expect(on_github(&gh, &["ls", target]), None, 0, &["ALPHA"], "ls");
    // Writes and deletes refused by a server that echoes the value and the tokens.
    gh.set_faults(json!([{"method": "PATCH", "status": 422, "times": -1, "message": echo()},
                         {"method": "DELETE", "status": 403, "times": -1, "message": echo()}]));
    expect(on_github(&gh, &["set", target, "ALPHA"]), Some("CANARY-leaf-beta"), 3, &["422"], "set refused");
    expect(on_github(&gh, &["rm", target, "ALPHA", "--yes"]), None, 3, &["403"], "rm refused");
    gh.set_faults(json!([]));
    expect(on_github(&gh, &["rm", target, "ALPHA", "--yes"]), None, 0, &["1 deleted"], "rm");
}

#[test]
fn sync_and_status_show_no_value_or_token_when_the_source_fails() {
    let gh = github();
    let mut st = state(json!([{"op": "open", "status": 500, "times": -1, "body": esc_echo(500)}]));
    // Only names GitHub takes: the source's failure is the one under test.
    st["environments"]["acme/app/dev"]["values"]["environmentVariables"].as_object_mut().unwrap().remove("bad-name");
    let esc = Fake::esc(&st);
    let dir = tempfile::tempdir().unwrap();
    let manifest = "[sync.dev]\nfrom = \"esc:acme/app/dev\"\nto = [\"github:acme/app\", \"dotenv:dev.env\"]\n";
    std::fs::write(dir.path().join("escort.toml"), manifest).unwrap();
    let route = |args: &[&str]| {
        let mut c = cmd(&esc, args);
        c.current_dir(dir.path()).env("GITHUB_API_URL", &gh.url).env("GITHUB_TOKEN", GH_TOKEN);
        c
    };
    expect(route(&["sync"]), None, 3, &["500"], "sync: the source fails");
    expect(route(&["status"]), None, 3, &["500"], "status: the source fails");
    expect(route(&["status", "--format", "json"]), None, 3, &["500"], "status json: the source fails");
    // And with a source that answers: the tokens stay out of the report.
    esc.set_faults(json!([]));
    expect(route(&["sync"]), None, 0, &["Actions secrets of acme/app: 4 created"], "sync");
    expect(route(&["status"]), None, 0, &["ok"], "status");
    expect(route(&["status", "--format", "json"]), None, 0, &["\"ok\":true"], "status json");
}

#[test]
fn set_esc_refused_with_an_echo_shows_no_value_or_token() {
    let fake =
        Fake::esc(&state(json!([{"op": "definition_patch", "status": 400, "times": -1, "body": esc_echo(400)}])));
    expect(cmd(&fake, &["set", "esc:acme/app/dev", "NEW"]), Some("CANARY-secret-alpha"), 3, &["400"], "set esc:");
}

#[test]
fn load_outputs_show_values_only_in_masks() {
    let dir = github_load(&["--outputs"]);
    let outputs = crate::common::github_env::parse(&crate::common::read(&dir.path().join("output"))).unwrap();
    assert!(outputs.iter().any(|(k, v)| k == "ALPHA" && v == "CANARY-secret-alpha"), "{outputs:?}");
}
