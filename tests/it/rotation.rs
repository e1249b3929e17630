//! `escort rotation` against the fake GitHub, on a fixed clock (ESCORT_NOW):
//! overdue, due-soon and fresh secrets, absent ones and ones without a policy,
//! several targets, one that cannot be read, bad input, and no value or token
//! in any output.

use crate::common;

use crate::common::assert_absent;
use crate::github_support::{escort, github, state, text};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const NOW: &str = "2026-01-01T00:00:00Z";

const MANIFEST: &str = r#"
[groups.api-keys]
rotate_days = 90
[groups.database-credentials]
rotate_days = 180
[groups.security-tokens]
rotate_days = 365
[groups.integration-credentials]
rotate_days = 90
[groups.misc]

[secrets.OPENAI_API_KEY]
group = "api-keys"
[secrets.DATABASE_URL]
group = "database-credentials"
[secrets.JWT_SECRET]
group = "security-tokens"
[secrets.SLACK_BOT_TOKEN]
group = "integration-credentials"
[secrets.FEATURE_FLAGS]
group = "misc"
[secrets.LOG_LEVEL]
required = false
secret = false
"#;

/// acme/app: one overdue, one due soon, one fresh, one absent; the
/// organization: the API key rotated recently.
fn seeded(values: [&str; 4]) -> Value {
    let mut st = state();
    let dated = |value: &str, updated: &str| json!({"value": value, "updated_at": updated});
    st["secrets"]["repos/acme/app/actions"] = json!({
        // Due 2025-11-30.
        "OPENAI_API_KEY": dated(values[0], "2025-09-01T08:00:00Z"),
        // Due 2026-01-06.
        "DATABASE_URL": dated(values[1], "2025-07-10T00:00:00Z"),
        // Due 2026-06-01.
        "JWT_SECRET": dated(values[2], "2025-06-01T00:00:00Z"),
        "FEATURE_FLAGS": dated(values[3], "2020-01-01T00:00:00Z"),
        "NOT_IN_MANIFEST": dated(values[3], "2020-01-01T00:00:00Z")
    });
    st["secrets"]["orgs/acme/actions"] = json!({
        // Due 2026-03-29.
        "OPENAI_API_KEY": {"value": values[0], "updated_at": "2025-12-29T00:00:00Z", "visibility": "all"}
    });
    st
}

fn manifest_in(dir: &Path) -> PathBuf {
    let path = dir.join("escort.toml");
    std::fs::write(&path, MANIFEST).unwrap();
    path
}

fn rotation(fake: &common::Fake, manifest: &Path, now: &str, args: &[&str]) -> std::process::Output {
    escort(fake)
        .env("ESCORT_NOW", now)
        .env("ESCORT_RETRIES", "0")
        .arg("rotation")
        .arg("--manifest")
        .arg(manifest)
        .args(args)
        .output()
        .unwrap()
}

/// The table's rows as their cells (the header is the first).
fn cells(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("STATUS"))
        .take_while(|l| !l.is_empty())
        .map(|l| l.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect())
        .collect()
}

#[test]
fn overdue_first_then_due_soon_then_fresh_and_exit_1() {
    let fake = github(&seeded(["a", "b", "c", "d"]));
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_in(dir.path());
    let out = rotation(&fake, &manifest, NOW, &["--target", "github:acme/app", "--target", "github-org:acme"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.starts_with(&format!("escort rotation: {} as of 2026-01-01", manifest.display())), "{stdout}");
    assert!(stdout.contains("github:acme/app  Actions secrets of acme/app: 5 secrets\n"), "{stdout}");

    let rows = cells(&stdout);
    let want: &[&[&str]] = &[
        &["STATUS", "SECRET", "TARGET", "GROUP", "UPDATED", "AGE", "ROTATE", "DUE"],
        &[
            "overdue",
            "OPENAI_API_KEY",
            "github:acme/app",
            "api-keys",
            "2025-09-01",
            "122d",
            "90d",
            "2025-11-30 (32 days ago)",
        ],
        &[
            "due soon",
            "DATABASE_URL",
            "github:acme/app",
            "database-credentials",
            "2025-07-10",
            "175d",
            "180d",
            "2026-01-06 (in 5 days)",
        ],
        &["ok", "OPENAI_API_KEY", "github-org:acme", "api-keys", "2025-12-29", "3d", "90d", "2026-03-29 (in 87 days)"],
        &[
            "ok",
            "JWT_SECRET",
            "github:acme/app",
            "security-tokens",
            "2025-06-01",
            "214d",
            "365d",
            "2026-06-01 (in 151 days)",
        ],
        &["absent", "SLACK_BOT_TOKEN", "github:acme/app", "integration-credentials", "-", "-", "90d", "-"],
        &["absent", "DATABASE_URL", "github-org:acme", "database-credentials", "-", "-", "180d", "-"],
        &["absent", "JWT_SECRET", "github-org:acme", "security-tokens", "-", "-", "365d", "-"],
        &["absent", "SLACK_BOT_TOKEN", "github-org:acme", "integration-credentials", "-", "-", "90d", "-"],
        &["no policy", "FEATURE_FLAGS", "github:acme/app", "misc", "2020-01-01", "2192d", "-", "-"],
        &["no policy", "LOG_LEVEL", "github:acme/app", "-", "-", "-", "-", "-"],
        &["no policy", "FEATURE_FLAGS", "github-org:acme", "misc", "-", "-", "-", "-"],
        &["no policy", "LOG_LEVEL", "github-org:acme", "-", "-", "-", "-", "-"],
    ];
    assert_eq!(rows, want, "{stdout}");
    assert!(stdout.ends_with("\nSummary: 1 overdue, 1 due soon, 2 ok, 4 absent, 4 no policy.\n"), "{stdout}");
}

#[test]
fn json_report() {
    let fake = github(&seeded(["a", "b", "c", "d"]));
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_in(dir.path());
    let out = rotation(
        &fake,
        &manifest,
        "2026-01-01T12:00:00+02:00",
        &["--target", "github:acme/app", "--format", "json", "--due-soon", "4"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["as_of"], "2026-01-01T10:00:00Z");
    assert_eq!(report["due_soon_days"], 4);
    assert_eq!(
        report["targets"],
        json!([{"target": "github:acme/app", "name": "Actions secrets of acme/app", "ok": true, "secrets": 5, "detail": null}])
    );
    assert_eq!(
        report["secrets"][0],
        json!({
            "name": "OPENAI_API_KEY", "target": "github:acme/app", "group": "api-keys", "status": "overdue",
            "present": true, "updated_at": "2025-09-01T08:00:00Z", "age_days": 122, "rotate_days": 90,
            "due": "2025-11-30", "days_left": -32
        })
    );
    // Five days left is outside a four-day window.
    let statuses: Vec<(&str, &str)> = report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("OPENAI_API_KEY", "overdue"),
            ("DATABASE_URL", "ok"),
            ("JWT_SECRET", "ok"),
            ("SLACK_BOT_TOKEN", "absent"),
            ("FEATURE_FLAGS", "no_policy"),
            ("LOG_LEVEL", "no_policy")
        ]
    );
    assert_eq!(
        report["summary"],
        json!({"overdue": 1, "due_soon": 0, "unknown": 0, "ok": 2, "absent": 1, "no_policy": 2})
    );
}

#[test]
fn nothing_overdue_is_exit_0_and_the_window_is_a_flag() {
    let fake = github(&seeded(["a", "b", "c", "d"]));
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_in(dir.path());
    let target = ["--target", "github:acme/app", "--format", "json"];
    let statuses = |out: &std::process::Output| -> Vec<String> {
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        report["secrets"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap().to_string()).collect()
    };

    // On 2025-10-01 the API key is due in 60 days: fresh with the default window...
    let out = rotation(&fake, &manifest, "2025-10-01T00:00:00Z", &target);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(statuses(&out)[..3], ["ok", "ok", "ok"]);
    // ...due soon with a 60-day one, and still not a failure.
    let out = rotation(&fake, &manifest, "2025-10-01T00:00:00Z", &[&target[..], &["--due-soon", "60"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(statuses(&out)[..3], ["due_soon", "ok", "ok"]);
    // The day after its due date it is overdue.
    let out = rotation(&fake, &manifest, "2025-12-01T00:00:00Z", &target);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(statuses(&out)[0], "overdue");
}

#[test]
fn a_target_that_cannot_be_read_is_reported_and_the_others_still_are() {
    let fake = github(&seeded(["a", "b", "c", "d"]));
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_in(dir.path());
    let out = rotation(
        &fake,
        &manifest,
        "2025-10-01T00:00:00Z",
        &["--target", "github:acme/nope", "--target", "github:acme/app"],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stdout.contains("github:acme/nope  could not be read: list the Actions secrets of acme/nope"), "{stdout}");
    assert!(stdout.contains("404"), "{stdout}");
    assert!(cells(&stdout).iter().any(|r| r[..3] == ["ok", "OPENAI_API_KEY", "github:acme/app"]), "{stdout}");
    assert!(stderr.contains("the report is incomplete: could not read github:acme/nope"), "{stderr}");

    // Even with a secret overdue, an incomplete report is exit 3, not 1.
    let out = rotation(
        &fake,
        &manifest,
        NOW,
        &["--target", "github:acme/app", "--target", "github:acme/nope", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(3));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["targets"][1]["ok"], false);
    assert!(report["targets"][1]["detail"].as_str().unwrap().contains("404"), "{report}");
    assert_eq!(report["summary"]["overdue"], 1);
}

#[test]
fn bad_input_is_exit_2_before_any_request() {
    let fake = github(&seeded(["a", "b", "c", "d"]));
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_in(dir.path());
    let bad_manifest = dir.path().join("bad.toml");
    std::fs::write(&bad_manifest, "[secrets.A]\ngroup = \"nope\"\n").unwrap();
    let app = ["--target", "github:acme/app"];
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        ("unknown target kind", vec!["--target", "vault:secret/app"], "unknown target `vault:secret/app`"),
        ("a target without a repository", vec!["--target", "github:acme"], "github:acme"),
        (
            "one bad target among good ones",
            vec!["--target", "github:acme/app", "--target", "nope"],
            "unknown target `nope`",
        ),
        ("no target", vec![], "--target"),
        ("negative window", vec![app[0], app[1], "--due-soon=-1"], "--due-soon"),
        ("bad format", vec![app[0], app[1], "--format", "yaml"], "--format"),
    ];
    for (what, args, says) in cases {
        let out = rotation(&fake, &manifest, NOW, &args);
        assert_eq!(out.status.code(), Some(2), "{what}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{what}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "{what}");
    }

    let out = rotation(&fake, &manifest, "2026-01-01", &app);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("ESCORT_NOW `2026-01-01` is not an RFC 3339 time"), "{}", text(&out.stderr));

    let out = rotation(&fake, &bad_manifest, NOW, &app);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("bad.toml:2: secrets.A: group `nope` is not defined"), "{}", text(&out.stderr));

    let out = escort(&fake)
        .env("ESCORT_NOW", NOW)
        .env_remove("GITHUB_TOKEN")
        .arg("rotation")
        .arg("--manifest")
        .arg(&manifest)
        .args(app)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no GitHub token"), "{}", text(&out.stderr));

    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[test]
fn no_value_or_token_in_any_output() {
    const TOKEN: &str = "ghp-CANARY-rotation-token-41d9";
    const FLY_TOKEN: &str = "fly-CANARY-rotation-token-8e2b";
    const WRONG: [&str; 2] = ["ghp-CANARY-wrong-token-55aa", "fly-CANARY-wrong-token-66bb"];
    const VALUES: [&str; 4] =
        ["CANARY-rotation-one-7a1c", "CANARY-rotation-two-0b2d", "CANARY-ünï-秘密-3c3e", "CANARY-line\nCANARY-two"];
    let needles = ["CANARY", TOKEN, FLY_TOKEN];
    let mut st = seeded(VALUES);
    st["token"] = json!(TOKEN);
    let fake = github(&st);
    let fly = common::Fake::start(
        "fly_server.py",
        &json!({"token": FLY_TOKEN, "apps": {"api": {"secrets": {
            "OPENAI_API_KEY": {"value": VALUES[0], "updated_at": "2025-01-01T00:00:00Z"}
        }}}}),
    );
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_in(dir.path());
    let run = |what: &str, tokens: [&str; 2], args: &[&str]| -> Option<i32> {
        let out = escort(&fake)
            .env("GITHUB_TOKEN", tokens[0])
            .env("FLY_API_TOKEN", tokens[1])
            .env("FLY_API_URL", &fly.url)
            .env("ESCORT_NOW", NOW)
            .env("ESCORT_RETRIES", "0")
            .arg("rotation")
            .arg("--manifest")
            .arg(&manifest)
            .args(args)
            .output()
            .unwrap();
        assert_absent(&out.stdout, &needles, &format!("{what}: stdout"));
        assert_absent(&out.stderr, &needles, &format!("{what}: stderr"));
        out.status.code()
    };
    let all = ["--target", "github:acme/app", "--target", "github-org:acme", "--target", "fly:api"];
    let json = [&all[..], &["--format", "json"]].concat();
    assert_eq!(run("text", [TOKEN, FLY_TOKEN], &all), Some(1));
    assert_eq!(run("json", [TOKEN, FLY_TOKEN], &json), Some(1));
    assert_eq!(run("wrong tokens", WRONG, &all), Some(3));
    assert_eq!(run("wrong tokens json", WRONG, &json), Some(3));

    // Servers that echo the token in their errors. (Values they could not
    // echo: rotation never has one, and a listing never returns one.)
    let echo = format!("refused for {TOKEN}");
    fake.set_faults(
        json!([{"method": "GET", "path_contains": "/orgs/acme", "status": 500, "times": -1, "message": echo}]),
    );
    fly.set_faults(
        json!([{"method": "GET", "status": 500, "times": -1, "message": format!("refused for {FLY_TOKEN}")}]),
    );
    assert_eq!(run("failing targets", [TOKEN, FLY_TOKEN], &all), Some(3));
    assert_eq!(run("failing targets json", [TOKEN, FLY_TOKEN], &json), Some(3));
}

#[test]
fn github_and_fly_in_one_report() {
    let github = github(&seeded(["a", "b", "c", "d"]));
    let fly = common::Fake::start(
        "fly_server.py",
        &json!({
            "token": "fly-rotation-token",
            "apps": {"api": {"secrets": {
                // Due 2025-06-30.
                "DATABASE_URL": {"value": "x", "updated_at": "2025-01-01T00:00:00Z"},
                // Due 2026-03-01.
                "OPENAI_API_KEY": {"value": "y", "updated_at": "2025-12-01T00:00:00Z"}
            }}}
        }),
    );
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_in(dir.path());
    let out = escort(&github)
        .env("FLY_API_TOKEN", "fly-rotation-token")
        .env("FLY_API_URL", &fly.url)
        .env("ESCORT_NOW", NOW)
        .args(["rotation", "--format", "json", "--target", "fly:api", "--target", "github:acme/app", "--manifest"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["targets"][0]["secrets"], 2);
    let rows: Vec<(&str, &str, &str, i64)> = report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["days_left"].is_i64())
        .map(|r| {
            (
                r["status"].as_str().unwrap(),
                r["name"].as_str().unwrap(),
                r["target"].as_str().unwrap(),
                r["days_left"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("overdue", "DATABASE_URL", "fly:api", -185),
            ("overdue", "OPENAI_API_KEY", "github:acme/app", -32),
            ("due_soon", "DATABASE_URL", "github:acme/app", 5),
            ("ok", "OPENAI_API_KEY", "fly:api", 59),
            ("ok", "JWT_SECRET", "github:acme/app", 151),
        ]
    );
}

#[test]
fn esc_dates_each_key_by_the_revision_that_last_changed_it() {
    // The fake dates revision N at 2024-01-01 00:0N-1: the key changed in
    // revision 2 is dated by it, the one unchanged since revision 1 by that.
    let vars = |key: &str| json!({"environmentVariables": {"OPENAI_API_KEY": {"fn::secret": key}, "DATABASE_URL": "postgres://db/app"}});
    let fake = common::Fake::esc(&json!({
        "token": "esc-rotation-token",
        "default_org": "acme",
        "environments": {"acme/app/dev": {"history": [{"values": vars("sk-old")}], "values": vars("sk-new")}}
    }));
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_in(dir.path());
    let out = common::escort()
        .env("ESC_TOKEN", "esc-rotation-token")
        .env("ESC_API_URL", &fake.url)
        .env("ESCORT_NOW", "2024-04-01T00:00:00Z")
        .args(["rotation", "--format", "json", "--target", "esc:acme/app/dev", "--manifest"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows: Vec<(&str, &str, &str, i64)> = report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["present"] == true)
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap();
            (s("status"), s("name"), s("updated_at"), r["days_left"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(
        rows,
        [
            // 2024 is a leap year: due 2024-03-31, a day before now.
            ("overdue", "OPENAI_API_KEY", "2024-01-01T00:01:00Z", -1),
            ("ok", "DATABASE_URL", "2024-01-01T00:00:00Z", 89),
        ]
    );
}
