//! The findings of the security audit (F2, F4-F9, F16, F17), one regression
//! test each, with canary values on every path they touch.

use crate::common::{self, Fake, assert_absent, escort};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const TOKEN: &str = "tok-CANARY-security-41f2";
const SECRET: &str = "CANARY-secret-value-8c3e";
const NEEDLES: &[&str] = &[TOKEN, SECRET, "CANARY"];

fn esc(vars: Value) -> Fake {
    Fake::esc(&json!({
        "token": TOKEN, "default_org": "acme",
        "environments": {"acme/app/dev": {"values": {"environmentVariables": vars}}}
    }))
}

fn load(api: &str) -> assert_cmd::Command {
    let mut cmd = escort();
    cmd.env("ESC_API_URL", api)
        .env("ESC_TOKEN", TOKEN)
        .env("ESC_ENV", "acme/app/dev")
        .env("ESCORT_RETRIES", "0")
        .arg("load");
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// No line of `out` is a workflow command other than a mask.
fn assert_no_workflow_command(out: &[u8], what: &str) {
    let out = text(out);
    for line in out.split(['\n', '\r']) {
        assert!(!line.trim_start().starts_with("::") || line.starts_with("::add-mask::"), "{what}: {line:?}\n{out}");
    }
}

#[test]
fn f02_check_never_shows_tokens() {
    let tokens = [
        ("ESC_TOKEN", "pul-CANARY-esc-token-0001"),
        ("PULUMI_ACCESS_TOKEN", "pul-CANARY-pulumi-token-02"),
        ("GITHUB_TOKEN", "ghp_CANARY-github-token-003"),
        ("GH_TOKEN", "gho_CANARY-gh-token-000004"),
        ("FLY_API_TOKEN", "FlyV1 CANARY-fly-token-05"),
    ];
    let mut manifest = String::from("sources = [\"env\"]\n");
    for (name, _) in &tokens {
        manifest.push_str(&format!("[secrets.{name}]\nsecret = false\n"));
    }
    // A plain entry holding a token's value under another name.
    manifest.push_str("[secrets.COPY]\nsecret = false\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), manifest).unwrap();
    let needles: Vec<&str> = tokens.iter().map(|(_, t)| *t).chain(["CANARY"]).collect();
    for format in ["text", "json"] {
        let mut cmd = escort();
        cmd.current_dir(dir.path()).envs(tokens).env("COPY", tokens[2].1).args(["check", "--format", format]);
        assert_eq!(common::code_showing_none(cmd, None, &needles, format), Some(0), "{format}");
    }
}

#[test]
fn f04_output_refuses_special_files() {
    let fake = esc(json!({"S": {"fn::secret": SECRET}}));
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let real = dir.path().join("real.env");
    std::fs::write(&real, "OLD=1\n").unwrap();
    let link = dir.path().join("link.env");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    for path in [fifo.as_path(), link.as_path(), "/dev/null".as_ref(), "/dev/stdout".as_ref()] {
        let out = load(&fake.url).args(["--format", "dotenv", "--output"]).arg(path).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}: {}", path.display(), text(&out.stderr));
        assert!(text(&out.stderr).contains("escort replaces only regular files"), "{}", text(&out.stderr));
        assert_absent(&out.stdout, NEEDLES, "stdout");
        assert_absent(&out.stderr, NEEDLES, "stderr");
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(&real).unwrap(), "OLD=1\n");
}

#[test]
fn f05_retry_after_huge_saturates() {
    for huge in ["1e300", "inf"] {
        let fake = Fake::esc(&json!({
            "token": TOKEN, "default_org": "acme",
            "environments": {"acme/app/dev": {"values": {"environmentVariables": {"S": {"fn::secret": SECRET}}}}},
            "faults": [{"op": "open", "status": 429, "times": -1, "retry_after": huge}],
        }));
        let out = load(&fake.url).env("ESCORT_RETRIES", "3").args(["--format", "json"]).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{huge}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("429 Too Many Requests"), "{}", text(&out.stderr));
        assert!(!text(&out.stderr).contains("internal error"), "{}", text(&out.stderr));
    }
    // A timeout of infinity is "no timeout", not a panic.
    let fake = esc(json!({"A": "1"}));
    for var in ["ESCORT_TIMEOUT", "ESCORT_CONNECT_TIMEOUT", "ESCORT_MAX_RETRY_WAIT"] {
        let out = load(&fake.url).env(var, "inf").args(["--format", "json"]).output().unwrap();
        assert_eq!(text(&out.stdout), "{\"A\":\"1\"}\n", "{var}: {}", text(&out.stderr));
    }
}

#[test]
fn f05_sync_partial_write_with_huge_retry_after_exits_4_with_the_table() {
    let fake = crate::github_support::github(&crate::github_support::state());
    fake.set_faults(
        json!([{"method": "PUT", "path_contains": "/TWO", "status": 429, "times": -1, "retry_after": "1e300"}]),
    );
    let out = crate::github_support::escort(&fake)
        .env("ONE", SECRET)
        .env("TWO", SECRET)
        .args(["sync", "--from", "env", "--keys", "ONE,TWO", "--to", "github:acme/app"])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(stdout.contains("NAME") && stdout.contains("FAILED: ") && stdout.contains("429"), "{stdout}");
    assert_absent(&out.stdout, NEEDLES, "stdout");
    assert_absent(&out.stderr, &[SECRET], "stderr");
}

#[test]
fn f06_names_cannot_inject_workflow_commands() {
    let evil = "A\n::stop-commands::tok\n::error::pwned\r\n::warning title=x::y";
    let fake = esc(json!({evil: {"fn::secret": SECRET}, "B": SECRET}));
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("github_env");
    // The invalid-name error of `load --format github` (the action's load step).
    let out = load(&fake.url)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_ENV", &env_file)
        .args(["--format", "github"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("A\\n::stop-commands::tok\\n::error::pwned\\r\\n"), "{}", text(&out.stderr));
    for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert_no_workflow_command(bytes, what);
        assert_absent(bytes, NEEDLES, what);
    }
    // And as a text-format warning and error, on every stream.
    for format in ["json", "shell", "dotenv"] {
        let out = load(&fake.url).args(["--format", format]).output().unwrap();
        assert_no_workflow_command(&out.stderr, format);
        assert_absent(&out.stderr, NEEDLES, format);
    }
}

#[test]
fn f07_esc_env_parts_cannot_reach_other_paths() {
    let fake = esc(json!({"A": "1"}));
    for bad in ["acme/app/dev@../../../../api/orgs/x?role=admin", "acme/../dev", "acme/app/..", "acme/app/dev@v#1"] {
        let out = load(&fake.url).env("ESC_ENV", bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out.stderr));
        assert_absent(&out.stderr, NEEDLES, bad);
    }
    assert_eq!(fake.requests().len(), 0, "nothing was sent for a bad ESC_ENV");
    // An organization from ESC_ORG is held to the same rule.
    let out = load(&fake.url).env("ESC_ENV", "app/dev").env("ESC_ORG", "..").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(fake.requests().len(), 0);
}

/// A server on 127.0.0.1 that answers every request with `response` and
/// counts the connections it gets.
fn canned(response: String) -> (String, Arc<AtomicUsize>) {
    common::serve_raw(move |_| response.clone())
}

#[test]
fn f08_redirects_are_not_followed() {
    let (elsewhere, hits) = canned("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".into());
    for status in ["307 Temporary Redirect", "308 Permanent Redirect", "302 Found"] {
        let (api, _) = canned(format!(
            "HTTP/1.1 {status}\r\nLocation: {elsewhere}/steal?token=x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ));
        let out = load(&api).output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{status}: {stderr}");
        assert!(stderr.contains(&format!("redirected to {elsewhere},")) && !stderr.contains("steal"), "{stderr}");
        assert_absent(&out.stderr, NEEDLES, status);
    }
    // A Fly write (plaintext values in the body) is not sent on either.
    let (api, _) = canned(format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {elsewhere}/v1/apps/app/secrets\r\nContent-Length: 0\r\n\r\n"
    ));
    let out = escort()
        .env("FLY_API_TOKEN", TOKEN)
        .env("FLY_API_URL", &api)
        .env("ESCORT_RETRIES", "0")
        .args(["set", "fly:app", "S"])
        .write_stdin(SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_absent(&out.stderr, NEEDLES, "fly set");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the other origin got a request");
}

#[test]
fn f09_plain_http_only_to_loopback() {
    for api in ["http://192.0.2.1:9", "http://example.invalid"] {
        let out = load(api).output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains("refusing plain HTTP") && stderr.contains("ESCORT_ALLOW_HTTP=1"), "{stderr}");
        assert_absent(&out.stderr, NEEDLES, api);
    }
    // The opt-in lets it try (and fail: nothing listens there).
    let out = load("http://192.0.2.1:9").env("ESCORT_ALLOW_HTTP", "1").env("ESCORT_CONNECT_TIMEOUT", "0.2").output();
    let stderr = text(&out.unwrap().stderr);
    assert!(!stderr.contains("refusing plain HTTP"), "{stderr}");
}

#[test]
fn f09_malformed_proxy_is_refused() {
    let fake = esc(json!({"A": "1"}));
    for var in ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"] {
        for bad in ["http://user:CANARY-proxy-pw@[::1", "ftp://proxy.example:21", "http://"] {
            let out = load(&fake.url).env(var, bad).output().unwrap();
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{var}={bad}: {stderr}");
            assert!(stderr.contains(&format!("{var} is not a proxy URL")), "{stderr}");
            assert_absent(&out.stderr, NEEDLES, var);
        }
    }
    assert_eq!(fake.requests().len(), 0);
}

#[test]
fn f16_closed_stdout_exports_nothing() {
    let fake = esc(json!({"S": {"fn::secret": SECRET}}));
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("github_env");
    let bin = assert_cmd::cargo::cargo_bin("escort");
    for redirect in ["exec \"$0\" load --format github >&-", "exec \"$0\" load --format github >/dev/null"] {
        let out = std::process::Command::new("sh")
            .args(["-c", redirect])
            .arg(&bin)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("ESC_API_URL", &fake.url)
            .env("ESC_TOKEN", TOKEN)
            .env("ESC_ENV", "acme/app/dev")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ENV", &env_file)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{redirect}: {stderr}");
        assert!(stderr.contains("no mask can reach the runner"), "{stderr}");
        assert_absent(&out.stderr, NEEDLES, redirect);
        assert!(!env_file.exists(), "{redirect}: $GITHUB_ENV was written");
    }
}

#[test]
fn f17_job_files_are_created_0600() {
    use std::os::unix::fs::PermissionsExt;
    let fake = esc(json!({"S": {"fn::secret": SECRET}}));
    let dir = tempfile::tempdir().unwrap();
    let (env_file, out_file) = (dir.path().join("github_env"), dir.path().join("github_output"));
    let out = load(&fake.url)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_ENV", &env_file)
        .env("GITHUB_OUTPUT", &out_file)
        .args(["--format", "github", "--outputs"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    for file in [&env_file, &out_file] {
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
        assert!(std::fs::read_to_string(file).unwrap().contains(SECRET));
    }
}

/// Every line of the audit log at `path`, parsed (a line that is not whole
/// JSON fails the test).
fn audit_lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: a broken audit line ({} bytes)", l.len())))
        .collect()
}

#[test]
fn audit_log_records_reads_and_writes_never_a_value() {
    use std::os::unix::fs::PermissionsExt;
    const PLAIN: &str = "CANARY-plain-value-77aa";
    const TYPED: &str = "CANARY-set-value-3b9d";
    let fake = esc(json!({"S": {"fn::secret": SECRET}, "P": PLAIN}));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    std::fs::write(dir.path().join("src.env"), format!("DOT_A={SECRET}\nDOT_B={PLAIN}\n")).unwrap();
    let needles = [TOKEN, SECRET, PLAIN, TYPED, "CANARY"];
    let run = |args: &[&str], stdin: Option<&str>, code: i32| {
        let mut cmd = escort();
        cmd.current_dir(dir.path())
            .env("ESC_API_URL", &fake.url)
            .env("ESC_TOKEN", TOKEN)
            .env("ESC_ENV", "acme/app/dev")
            .env("ESCORT_RETRIES", "0")
            .env("GITHUB_RUN_ID", "4242")
            .env("GITHUB_ACTOR", "octocat")
            .env("GITHUB_REPOSITORY", "acme/app")
            .arg("--audit-log")
            .arg(&log)
            .args(args);
        assert_eq!(common::code_showing_none(cmd, stdin, &needles, &args.join(" ")), Some(code), "{args:?}");
    };
    run(&["load", "--format", "json", "--output", "out.json"], None, 0);
    // A revision the service does not have: a failed read, its revision named.
    run(&["load", "--env", "acme/app/dev@3", "--output", "out.sh"], None, 3);
    run(&["sync", "--from", "dotenv:src.env", "--keys", "*", "--to", "dotenv:dst.env"], None, 0);
    run(&["set", "dotenv:dst.env", "TYPED"], Some(TYPED), 0);
    run(&["ls", "dotenv:dst.env"], None, 0);
    run(&["rm", "dotenv:dst.env", "TYPED", "NOPE", "--yes"], None, 4);
    // A refused read, the server echoing the token.
    fake.set_faults(json!([{"op": "open", "status": 403, "message": format!("no for {TOKEN}")}]));
    run(&["load"], None, 3);

    let text = std::fs::read(&log).unwrap();
    assert_absent(&text, &needles, "the audit log");
    assert_eq!(std::fs::metadata(&log).unwrap().permissions().mode() & 0o777, 0o600);
    let lines = audit_lines(&log);
    let brief: Vec<(String, String, String)> = lines
        .iter()
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap_or("").to_string();
            (s("command"), s("event"), s("outcome"))
        })
        .collect();
    let want = [
        ("load", "read", "ok"),
        ("load", "read", "failed"),
        ("sync", "read", "ok"),
        ("sync", "write", "ok"),
        ("set", "write", "ok"),
        ("ls", "list", "ok"),
        ("rm", "write", "partial"),
        ("load", "read", "failed"),
    ];
    let want: Vec<(String, String, String)> =
        want.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(brief, want);
    for l in &lines {
        assert!(l["time"].as_str().unwrap().ends_with('Z'), "{l}");
        assert_eq!(
            (&l["run_id"], &l["actor"], &l["repository"]),
            (&json!("4242"), &json!("octocat"), &json!("acme/app"))
        );
    }
    assert_eq!((&lines[0]["esc_env"], &lines[0]["revision"]), (&json!("acme/app/dev"), &json!("latest")));
    assert_eq!(lines[0]["keys"], json!(["P", "S"]));
    assert_eq!(lines[1]["revision"], "3");
    assert_eq!(lines[2]["source"], "dotenv:src.env");
    assert_eq!(
        lines[3]["keys"],
        json!([{"key": "DOT_A", "action": "create", "ok": true}, {"key": "DOT_B", "action": "create", "ok": true}])
    );
    assert_eq!(lines[5]["keys"], json!(["DOT_A", "DOT_B", "TYPED"]), "a listing names what is there");
    assert_eq!(lines[6]["keys"][1], json!({"key": "NOPE", "ok": false}));
    assert!(lines[7]["error"].as_str().unwrap().contains("403"), "{}", lines[6]);
    // The variable works as the flag does.
    let mut cmd = escort();
    cmd.env("ESCORT_AUDIT_LOG", &log).args(["load", "--demo", "--format", "json"]);
    cmd.assert().success();
    assert_eq!(audit_lines(&log).last().unwrap()["source"], "esc:demo");
}

#[test]
fn audit_lines_of_concurrent_processes_never_interleave() {
    const WRITERS: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    // Lines of some 100 KB each (1,500 names): far beyond any pipe or stdio buffer.
    let vars: serde_json::Map<String, Value> = (0..1500)
        .map(|i| (format!("A_RATHER_LONG_VARIABLE_NAME_FOR_THE_AUDIT_{i:05}"), json!(format!("v{i}"))))
        .collect();
    let fake = esc(Value::Object(vars));
    // The fake answers no read until every process has asked: all of them then write
    // their read line at once, and their write line right after, so lines that were not
    // written whole would interleave.
    fake.set_faults(json!([{"op": "read", "barrier": WRITERS, "times": -1}]));
    let children: Vec<std::process::Child> = (0..WRITERS)
        .map(|i| {
            common::escort_std()
                .current_dir(dir.path())
                .env("ESC_API_URL", &fake.url)
                .env("ESC_TOKEN", TOKEN)
                .env("ESCORT_AUDIT_LOG", &log)
                .args(["sync", "--from", "esc:acme/app/dev", "--keys", "*", "--to", &format!("dotenv:out{i}.env")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let lines = audit_lines(&log);
    assert_eq!(lines.len(), 2 * WRITERS, "a read and a write per process");
    for l in &lines {
        let keys = l["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1500, "{}", l["event"]);
    }
}
