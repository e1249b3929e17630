//! Exit statuses at the edges (docs/exit-codes.md): a reader that closes
//! stdout early ends output quietly and the command's own status stands; a
//! local failure is exit 5, never a usage error.

use crate::common::Fake;
use crate::common::run::Run;
use crate::github_support::{self, TOKEN, github, with_existing};
use serde_json::json;
use std::process::Output;

const REPO: &str = "repos/acme/app/actions";

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit `code`, and nothing on stderr that calls it escort's own fault.
fn assert_quiet_exit(out: &Output, code: i32, what: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{what}: {err}");
    assert!(!err.contains("internal error") && !err.contains("Broken pipe"), "{what}: {err}");
}

#[test]
fn a_closed_stdout_is_not_an_error_for_any_command_that_prints() {
    let manifest = "[secrets.PORT]\nsecret = false\n[groups.api-keys]\nrotate_days = 90\n[secrets.OLD_000]\ngroup = \"api-keys\"\n";
    let fake = github(&with_existing(github_support::state(), REPO, 3));
    let id_token = "header.payload.signature";
    // Its token exchange refuses the ID token below: login's exit 3 comes from this fake,
    // not from Pulumi Cloud or from having no network.
    let esc = Fake::esc(&json!({
        "token": "tok-exit",
        "environments": {"acme/app/dev": {"values": {"environmentVariables": {"A": "1"}}}},
        "oidc": {"subject_token": "another-id-token", "access_token": "tok-exit", "orgs": ["acme"]}
    }));
    let cases: Vec<(&str, Run)> = vec![
        ("--help", Run::new().args(["--help"])),
        ("--version", Run::new().args(["--version"])),
        ("load shell", Run::new().args(["load", "--demo", "--format", "shell"])),
        ("load json", Run::new().args(["load", "--demo", "--format", "json"])),
        ("load dotenv", Run::new().args(["load", "--demo", "--format", "dotenv"])),
        ("load from ESC", Run::new().esc(&esc, "tok-exit").args(["load", "--env", "acme/app/dev"])),
        ("template", Run::new().file("escort.toml", manifest).args(["template"])),
        (
            "check",
            Run::new().file("escort.toml", manifest).env("PORT", "8080").env("OLD_000", "x").args([
                "check",
                "--sources",
                "env",
            ]),
        ),
        ("ls", Run::new().github(&fake, TOKEN).args(["ls", "github:acme/app"])),
        ("ls json", Run::new().github(&fake, TOKEN).args(["ls", "github:acme/app", "--format", "json"])),
        (
            "sync dry run",
            Run::new().github(&fake, TOKEN).env("A", "1").args([
                "sync",
                "--from",
                "env",
                "--keys",
                "A",
                "--to",
                "github:acme/app",
                "--dry-run",
            ]),
        ),
        (
            "rotation",
            Run::new()
                .file("escort.toml", manifest)
                .github(&fake, TOKEN)
                .env("ESCORT_NOW", "2024-02-01T00:00:00Z")
                .args(["rotation", "--target", "github:acme/app"]),
        ),
        (
            "login",
            Run::new().env("ESC_API_URL", &esc.url).file("id.jwt", id_token).args([
                "login",
                "--oidc-organization",
                "acme",
                "--oidc-token",
                "id.jwt",
                "--format",
                "shell",
            ]),
        ),
    ];
    for (what, run) in cases {
        let out = run.output_to_closed_pipe();
        // login's exchange is refused: it fails on that, not on stdout.
        let code = if what == "login" { 3 } else { 0 };
        assert_quiet_exit(&out, code, what);
        if what == "login" {
            assert!(stderr(&out).contains("invalid_grant"), "{}", stderr(&out));
        }
    }
}

#[test]
fn writes_that_finish_keep_their_status_when_stdout_is_closed() {
    let fake = github(&with_existing(github_support::state(), REPO, 2));
    let sync = || {
        Run::new().github(&fake, TOKEN).env("A", "1").env("B", "2").args([
            "sync",
            "--from",
            "env",
            "--keys",
            "A,B",
            "--to",
            "github:acme/app",
        ])
    };
    assert_quiet_exit(&sync().output_to_closed_pipe(), 0, "sync");
    // A partial write is exit 4 whether or not its table could be shown.
    fake.set_faults(json!([{"method": "PUT", "path_contains": "/secrets/B", "status": 422, "times": -1}]));
    let out = sync().output_to_closed_pipe();
    assert_quiet_exit(&out, 4, "partial sync");
    assert!(stderr(&out).contains("update B"), "{}", stderr(&out));
    let rm = Run::new().github(&fake, TOKEN).args(["rm", "github:acme/app", "OLD_000", "--yes"]);
    assert_quiet_exit(&rm.output_to_closed_pipe(), 0, "rm");
}

/// Local failures made with Linux's sysfs and /dev/full (macOS has neither; its job
/// runs the usage error below, and the failed-write tests elsewhere cover the rest).
#[cfg(target_os = "linux")]
#[test]
fn local_failures_are_exit_5() {
    let manifest = "[secrets.A]\n";
    // A directory no one may create files in (sysfs refuses even root).
    let out = Run::new().file("escort.toml", manifest).args(["template", "--output", "/sys/escort-test.env"]).output();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("/sys/escort-test.env"), "{}", stderr(&out));
    // A full file system under $GITHUB_ENV.
    let out = Run::new()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_ENV", "/dev/full")
        .args(["load", "--demo", "--format", "github"])
        .output();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let out = Run::new().args(["template", "--manifest", "missing.toml"]).output();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
