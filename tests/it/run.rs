//! `escort run -- CMD`: variables set, output redacted, exit code passed on.

use crate::common::{Fake, escort};
use serde_json::json;

const TOKEN: &str = "tok-run";

fn fake() -> Fake {
    Fake::esc(&json!({
        "token": TOKEN, "default_org": "acme",
        "environments": {"acme/app/dev": {"values": {
            "environmentVariables": {
                "SECRET": {"fn::secret": "hunter2-run-canary"},
                "MULTI": {"fn::secret": "first-line-canary\nsecond-line-canary"},
                "PLAIN": "visible-plain-value",
                "SHORT": {"fn::secret": "ab"}
            },
            "files": {"CERT": {"fn::secret": "-----BEGIN-----\ncert-body-canary\n-----END-----\n"}}
        }}}
    }))
}

fn run(fake: &Fake, script: &str) -> assert_cmd::Command {
    let mut cmd = escort();
    cmd.env("ESC_API_URL", &fake.url)
        .env("ESC_TOKEN", TOKEN)
        .env("ESC_ENV", "acme/app/dev")
        .args(["run", "--", "bash", "-c", script]);
    cmd
}

fn out(a: &assert_cmd::assert::Assert) -> (String, String) {
    let o = a.get_output();
    (String::from_utf8_lossy(&o.stdout).to_string(), String::from_utf8_lossy(&o.stderr).to_string())
}

#[test]
fn the_child_gets_the_variables_and_its_exit_code_is_ours() {
    let fake = fake();
    let a = run(&fake, r#"[ "$SECRET" = hunter2-run-canary ] && [ "$PLAIN" = visible-plain-value ] && exit 42"#)
        .assert()
        .code(42);
    assert_eq!(out(&a).0, "");
}

#[test]
fn secrets_are_redacted_in_stdout_and_stderr_even_when_written_in_pieces() {
    let fake = fake();
    let script = r#"
        echo "s=$SECRET p=$PLAIN short=$SHORT"
        printf 'split: hunter2-'; printf 'run-'; printf 'canary\n'
        echo "$MULTI" >&2
        cat "$CERT"
        echo "only-second: second-line-canary"
    "#;
    let a = run(&fake, script).assert().success();
    let (stdout, stderr) = out(&a);
    assert_eq!(stdout, "s=*** p=visible-plain-value short=ab\nsplit: ***\n***\nonly-second: ***\n");
    assert_eq!(stderr, "***\n");
}

#[test]
fn no_redact_passes_output_through() {
    let fake = fake();
    let mut cmd = escort();
    cmd.env("ESC_API_URL", &fake.url).env("ESC_TOKEN", TOKEN).env("ESC_ENV", "acme/app/dev");
    let a = cmd.args(["run", "--no-redact", "--", "bash", "-c", "echo $SECRET"]).assert().success();
    assert_eq!(out(&a).0, "hunter2-run-canary\n");
}

#[test]
fn files_exist_during_the_run_and_are_gone_after() {
    let fake = fake();
    let a = run(&fake, r#"ls -l "$CERT" | cut -c1-10; ls -ld "$(dirname "$CERT")" | cut -c1-10; echo "$CERT""#)
        .assert()
        .success();
    let stdout = out(&a).0;
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(&lines[..2], ["-rw-------", "drwx------"]);
    assert!(!std::path::Path::new(lines[2]).exists(), "{} should be removed", lines[2]);
}

#[test]
fn stdin_reaches_the_child() {
    let fake = fake();
    let a = run(&fake, "tr a-z A-Z").write_stdin("piped in\n").assert().success();
    assert_eq!(out(&a).0, "PIPED IN\n");
}

#[test]
fn a_child_killed_by_a_signal_gives_128_plus_the_signal() {
    let fake = fake();
    run(&fake, "kill -TERM $$").assert().code(128 + 15);
}

#[test]
fn a_missing_command_is_a_usage_error() {
    let fake = fake();
    let mut cmd = escort();
    cmd.env("ESC_API_URL", &fake.url).env("ESC_TOKEN", TOKEN).env("ESC_ENV", "acme/app/dev");
    let a = cmd.args(["run", "--", "/nonexistent/escort-test-cmd"]).assert().code(2);
    assert!(out(&a).1.contains("could not start `/nonexistent/escort-test-cmd`"));
}
