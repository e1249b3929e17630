//! `escort check`: precedence over ESC, the environment and .env files; every
//! status and rule; one_of; exit codes; no value in any output; the text
//! report against snapshots (tests/it/snapshots/check_*.txt; set
//! UPDATE_SNAPSHOTS=1 to rewrite them after a deliberate change).

use crate::common;

use crate::common::{Fake, assert_absent, escort};
use serde_json::{Value, json};
use std::path::Path;

const TOKEN: &str = "tok-check";
const ENV: &str = "acme/app/dev";

/// The fake ESC service with these environment variables in `acme/app/dev`.
fn esc(vars: Value) -> Fake {
    Fake::esc(&json!({
        "token": TOKEN, "default_org": "acme",
        "environments": {ENV: {"values": {"environmentVariables": vars}}}
    }))
}

/// `escort check` in `dir` with exactly `env` as its environment (plus what
/// ESC needs when `fake` is given): nothing of the caller's leaks in.
fn check(dir: &Path, fake: Option<&Fake>, env: &[(&str, &str)], args: &[&str]) -> assert_cmd::Command {
    let mut cmd = escort();
    cmd.env_clear().env("NO_COLOR", "1").env("ESCORT_RETRIES", "0").current_dir(dir);
    if let Some(fake) = fake {
        cmd.env("ESC_API_URL", &fake.url).env("ESC_TOKEN", TOKEN).env("ESC_ENV", ENV);
    }
    cmd.envs(env.iter().copied()).arg("check").args(args);
    cmd
}

fn run(cmd: &mut assert_cmd::Command, code: i32) -> (String, String) {
    let out = cmd.assert().code(code).get_output().clone();
    (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn json_of(cmd: &mut assert_cmd::Command, code: i32) -> Value {
    let (stdout, stderr) = run(cmd.args(["--format", "json"]), code);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\nstderr: {stderr}"))
}

fn secret<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

const PRECEDENCE_MANIFEST: &str = r#"
sources = ["esc", "env", "dotenv:.env"]
[secrets.K]
[secrets.ONLY_DOTENV]
"#;

#[test]
fn precedence_follows_the_order_of_the_sources() {
    let fake = esc(json!({"K": {"fn::secret": "from-esc"}}));
    let dir = dir_with(&[("escort.toml", PRECEDENCE_MANIFEST), (".env", "K=from-dotenv\nONLY_DOTENV=here\n")]);
    let env = [("K", "from-env")];
    let esc_name = format!("esc:{ENV}");
    // (--sources, winner of K)
    let cases: [(Option<&str>, &str); 4] = [
        (None, &esc_name),
        (Some("env,esc,dotenv:.env"), "env"),
        (Some("dotenv:.env,env,esc"), "dotenv:.env"),
        (Some("env,dotenv:.env"), "env"),
    ];
    for (sources, winner) in cases {
        let mut cmd = check(dir.path(), Some(&fake), &env, &[]);
        if let Some(list) = sources {
            cmd.args(["--sources", list]);
        }
        let report = json_of(&mut cmd, 0);
        assert_eq!(secret(&report, "K")["source"], winner, "{sources:?}");
        assert_eq!(secret(&report, "ONLY_DOTENV")["source"], "dotenv:.env", "{sources:?}");
        // The two losing sources hold other values: named, never shown.
        let message = secret(&report, "K")["message"].as_str().unwrap().to_string();
        assert!(message.starts_with(&format!("{winner} wins over a different value in ")), "{message}");
        assert_absent(message.as_bytes(), &["from-"], "the disagreement message");
    }
}

#[test]
fn an_esc_that_is_down_refused_or_not_configured_is_a_warning_unless_strict() {
    let dir = dir_with(&[("escort.toml", PRECEDENCE_MANIFEST), (".env", "ONLY_DOTENV=here\n")]);
    let env = [("K", "from-env")];
    let down = esc(json!({"K": "from-esc"}));
    down.set_faults(json!([{"op": "open", "status": 503, "times": -1}]));
    let up = esc(json!({"K": "from-esc"}));
    // (ESC, token, ESC_ENV set, what the source line says)
    let cases = [(&down, TOKEN, true, "503"), (&up, "not-the-token", true, "401"), (&up, TOKEN, false, "ESC_ENV")];
    for (fake, token, configured, why) in cases {
        let cmd = |extra: &[&str]| {
            let mut cmd = check(dir.path(), Some(fake), &env, extra);
            cmd.env("ESC_TOKEN", token);
            if !configured {
                cmd.env_remove("ESC_ENV");
            }
            cmd
        };
        let report = json_of(&mut cmd(&[]), 0);
        assert_eq!(report["ok"], true);
        let esc_line = &report["sources"][0];
        assert_eq!(esc_line["status"], "unavailable", "{report}");
        assert!(esc_line["detail"].as_str().unwrap().contains(why), "{esc_line}");
        assert_eq!(secret(&report, "K")["source"], "env");

        let report = json_of(&mut cmd(&["--strict"]), 3);
        assert_eq!(report["ok"], false);
    }
    let (stdout, _) = run(&mut check(dir.path(), Some(&down), &env, &[]), 0);
    assert!(stdout.contains("could not read esc:acme/app/dev; the other sources were used"), "{stdout}");
    let (stdout, stderr) = run(&mut check(dir.path(), Some(&down), &env, &["--strict"]), 3);
    assert!(stdout.contains("❌ Check failed: 1 source unreadable (--strict)"), "{stdout}");
    assert_absent(stderr.as_bytes(), &[TOKEN], "stderr");
}

const STATUS_MANIFEST: &str = r#"
sources = ["env", "dotenv:.env"]
[groups.api-keys]
rotate_days = 90
[secrets.OK_PLAIN]
group = "api-keys"
[secrets.MISSING]
[secrets.EMPTY]
[secrets.PLACEHOLDER]
[secrets.OPTIONAL]
required = false
[secrets.DEFAULTED]
required = false
secret = false
default = "INFO"
[secrets.PREFIX_OK]
prefix = "sk-"
[secrets.PREFIX_BAD]
prefix = "sk-"
[secrets.PATTERN_OK]
pattern = "[0-9]{4}"
[secrets.PATTERN_BAD]
pattern = "[0-9]{4}"
[secrets.MIN_OK]
min_length = 8
[secrets.MIN_BAD]
min_length = 8
[secrets.URL_OK]
url = true
[secrets.URL_BAD]
url = true
[secrets.VALUES_OK]
values = ["a", "b"]
[secrets.VALUES_BAD]
values = ["a", "b"]
[secrets.OPTIONAL_BAD]
required = false
prefix = "x"
"#;

const STATUS_DOTENV: &str = "\
OK_PLAIN=v
EMPTY=
PLACEHOLDER=your_placeholder_here
PREFIX_OK=sk-1
PREFIX_BAD=pk-1
PATTERN_OK=1234
PATTERN_BAD=12345
MIN_OK=12345678
MIN_BAD=1234567
URL_OK=https://example.com/x
URL_BAD=example.com
VALUES_OK=b
VALUES_BAD=c
OPTIONAL_BAD=y
";

#[test]
fn every_status_and_every_rule() {
    let dir = dir_with(&[("escort.toml", STATUS_MANIFEST), (".env", STATUS_DOTENV)]);
    let report = json_of(&mut check(dir.path(), None, &[], &[]), 1);
    // (name, status, source, message)
    let want: [(&str, &str, Option<&str>, Option<&str>); 17] = [
        ("OK_PLAIN", "ok", Some("dotenv:.env"), None),
        ("MISSING", "missing", None, Some("not set in any source")),
        ("EMPTY", "missing", None, Some("empty in dotenv:.env")),
        ("PLACEHOLDER", "missing", None, Some("still the template placeholder in dotenv:.env")),
        ("OPTIONAL", "optional_missing", None, None),
        ("DEFAULTED", "defaulted", None, None),
        ("PREFIX_OK", "ok", Some("dotenv:.env"), None),
        ("PREFIX_BAD", "invalid", Some("dotenv:.env"), Some("fails `prefix`: must start with `sk-`")),
        ("PATTERN_OK", "ok", Some("dotenv:.env"), None),
        ("PATTERN_BAD", "invalid", Some("dotenv:.env"), Some("fails `pattern`: must match `[0-9]{4}`")),
        ("MIN_OK", "ok", Some("dotenv:.env"), None),
        ("MIN_BAD", "invalid", Some("dotenv:.env"), Some("fails `min_length`: must have at least 8 characters")),
        ("URL_OK", "ok", Some("dotenv:.env"), None),
        ("URL_BAD", "invalid", Some("dotenv:.env"), Some("fails `url`: must be a URL (scheme://host...)")),
        ("VALUES_OK", "ok", Some("dotenv:.env"), None),
        ("VALUES_BAD", "invalid", Some("dotenv:.env"), Some("fails `values`: must be one of `a`, `b`")),
        ("OPTIONAL_BAD", "invalid", Some("dotenv:.env"), Some("fails `prefix`: must start with `x`")),
    ];
    assert_eq!(report["secrets"].as_array().unwrap().len(), want.len());
    for (name, status, source, message) in want {
        let line = secret(&report, name);
        assert_eq!(line["status"], status, "{line}");
        assert_eq!(line["source"].as_str(), source, "{line}");
        assert_eq!(line["message"].as_str(), message, "{line}");
    }
    assert_eq!(secret(&report, "OK_PLAIN")["group"], "api-keys");
    assert_eq!(secret(&report, "MISSING")["group"], Value::Null);
    assert_eq!(report["ok"], false);
}

#[test]
fn optional_problems_do_not_fail_the_check() {
    let manifest = "sources = [\"env\"]\n[secrets.A]\n[secrets.B]\nrequired = false\nprefix = \"x\"\n[secrets.C]\nrequired = false\n";
    let dir = dir_with(&[("escort.toml", manifest)]);
    let report = json_of(&mut check(dir.path(), None, &[("A", "1"), ("B", "wrong")], &[]), 0);
    assert_eq!(report["ok"], true);
    assert_eq!(secret(&report, "B")["status"], "invalid");
    assert_eq!(secret(&report, "C")["status"], "optional_missing");
}

#[test]
fn one_of_satisfied_and_not() {
    let manifest = r#"
sources = ["env"]
[secrets.OPENAI_API_KEY]
prefix = "sk-"
[one_of.llm]
keys = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY"]
"#;
    let dir = dir_with(&[("escort.toml", manifest)]);
    // (environment, ok, present)
    type Env<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Env, bool, Value); 4] = [
        (&[("ANTHROPIC_API_KEY", "a")], true, json!(["ANTHROPIC_API_KEY"])),
        (
            &[("ANTHROPIC_API_KEY", "a"), ("OPENAI_API_KEY", "sk-1")],
            true,
            json!(["ANTHROPIC_API_KEY", "OPENAI_API_KEY"]),
        ),
        (&[], false, json!([])),
        (&[("OPENAI_API_KEY", "not-sk")], false, json!([])),
    ];
    for (env, ok, present) in cases {
        let report = json_of(&mut check(dir.path(), None, env, &[]), if ok { 0 } else { 1 });
        assert_eq!(report["one_of"], json!([{"name": "llm", "ok": ok, "present": present}]), "{env:?}");
        assert_eq!(report["ok"], ok);
        // Members are individually optional: only the one_of decides.
        let anthropic = if env.iter().any(|(k, _)| *k == "ANTHROPIC_API_KEY") { "ok" } else { "optional_missing" };
        assert_eq!(secret(&report, "ANTHROPIC_API_KEY")["status"], anthropic);
    }
}

#[test]
fn the_json_report_has_exactly_the_keys_of_the_spec() {
    let dir = dir_with(&[("escort.toml", "sources = [\"env\"]\n[secrets.A]\n[one_of.x]\nkeys = [\"B\"]\n")]);
    let report = json_of(&mut check(dir.path(), None, &[("A", "1")], &[]), 1);
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&report), ["ok", "one_of", "secrets", "sources"]);
    assert_eq!(keys(&report["sources"][0]), ["detail", "name", "status"]);
    assert_eq!(keys(&report["secrets"][0]), ["group", "message", "name", "source", "status"]);
    assert_eq!(keys(&report["one_of"][0]), ["name", "ok", "present"]);
}

// Random-looking canaries: any five characters in a row of one of them in the
// output would be a leak, except the last four of a long one (the hint).
const LONG_ESC: &str = "Qx7Lm2Wp9Rt4Yz8Kd3Nv6Bh";
const LONG_ENV: &str = "Jf5Sg1Uc0Ea7Ow3Ir9Tq2Pz";
const SHORT_DOTENV: &str = "Gk4Hj8Mz1";
const INVALID_LONG: &str = "pk-Vb6Xn2Cm5Zl8As1Df4Gh";
const INVALID_SHORT: &str = "pk-Rw3Ey7";
const DIFFERENT_DOTENV: &str = "Ot9Iu5Yt3Re1Wq7Pl0Km4Nj";

fn windows(canary: &str) -> Vec<String> {
    let chars: Vec<char> = canary.chars().collect();
    chars.windows(5).map(|w| w.iter().collect()).collect()
}

#[test]
fn no_value_appears_in_any_output() {
    let manifest = r#"
sources = ["esc", "env", "dotenv:.env"]
[secrets.FROM_ESC]
[secrets.FROM_ENV]
[secrets.SHORT]
[secrets.INVALID_LONG]
prefix = "sk-"
[secrets.INVALID_SHORT]
prefix = "sk-"
min_length = 40
[secrets.PLAIN]
secret = false
"#;
    let fake = esc(json!({"FROM_ESC": {"fn::secret": LONG_ESC}, "FROM_ENV": {"fn::secret": DIFFERENT_DOTENV}}));
    let dotenv = format!(
        "SHORT={SHORT_DOTENV}\nFROM_ENV={DIFFERENT_DOTENV}\nINVALID_LONG={INVALID_LONG}\nINVALID_SHORT={INVALID_SHORT}\n"
    );
    let dir = dir_with(&[("escort.toml", manifest), (".env", &dotenv)]);
    let env = [("FROM_ENV", LONG_ENV), ("PLAIN", "plain-visible-value")];
    let canaries = [LONG_ESC, LONG_ENV, SHORT_DOTENV, INVALID_LONG, INVALID_SHORT, DIFFERENT_DOTENV];
    let needles: Vec<String> = canaries.iter().flat_map(|c| windows(c)).collect();
    let needles: Vec<&str> = needles.iter().map(String::as_str).collect();

    for args in [&["--sources", "env,esc,dotenv:.env"][..], &["--format", "json"], &["--strict"]] {
        let (stdout, stderr) = run(&mut check(dir.path(), Some(&fake), &env, args), 1);
        assert_absent(stdout.as_bytes(), &needles, "stdout");
        assert_absent(stderr.as_bytes(), &needles, "stderr");
        assert_absent(stderr.as_bytes(), &[TOKEN], "stderr");
        if !args.contains(&"json") {
            // The hints are there, and only for long values; plain config is shown.
            assert!(stdout.contains("***v6Bh") && stdout.contains("***f4Gh"), "{stdout}");
            assert!(!stdout.contains("***y7"), "no hint of a short value: {stdout}");
            assert!(stdout.contains("\"plain-visible-value\""), "{stdout}");
            assert!(stdout.contains("fails `prefix`: must start with `sk-`"), "{stdout}");
        }
    }
}

/// Compare with tests/it/snapshots/NAME. With UPDATE_SNAPSHOTS set, a differing
/// snapshot is rewritten and the test still fails (rerun to see it pass), so the
/// variable can never turn a difference into a pass; under CI it is refused.
fn snapshot(name: &str, text: &str) {
    let path = common::repo().join("tests/it/snapshots").join(name);
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    assert!(!(update && std::env::var_os("CI").is_some()), "UPDATE_SNAPSHOTS is refused under CI");
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    if text != want && update {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        panic!("{} differed and was rewritten: check the diff, then run again", path.display());
    }
    assert_eq!(text, want, "the report differs from {} (UPDATE_SNAPSHOTS=1 rewrites it)", path.display());
}

const SNAPSHOT_MANIFEST: &str = r#"
sources = ["esc", "env", "dotenv:.env"]
[groups.api-keys]
rotate_days = 90
[secrets.OPENAI_API_KEY]
group = "api-keys"
description = "OpenAI API key"
prefix = "sk-"
[secrets.SLACK_BOT_TOKEN]
group = "api-keys"
prefix = "xoxb-"
[secrets.DATABASE_URL]
url = true
[secrets.QDRANT_API_KEY]
[secrets.LOG_LEVEL]
required = false
secret = false
default = "INFO"
[secrets.SOPHIA_ENVIRONMENT]
secret = false
values = ["development", "staging", "production"]
[secrets.SSL_CERT_FILE]
required = false
secret = false
[one_of.llm-provider]
keys = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY"]
[one_of.github-token]
keys = ["GH_FINE_GRAINED_TOKEN", "GITHUB_PAT"]
"#;

#[test]
fn text_report_snapshots() {
    let fake = esc(json!({
        "OPENAI_API_KEY": {"fn::secret": "sk-snapshot-0123456789abcd"},
        "QDRANT_API_KEY": {"fn::secret": "qd-1"},
        "SOPHIA_ENVIRONMENT": "staging",
    }));
    let dir = dir_with(&[
        ("escort.toml", SNAPSHOT_MANIFEST),
        (".env", "OPENAI_API_KEY=sk-other\nSLACK_BOT_TOKEN=xoxp-wrong-kind-of-token\n"),
    ]);
    let env = [("DATABASE_URL", "postgres://u:p@db:5432/app"), ("GITHUB_PAT", "ghp_x")];
    let (failing, _) = run(&mut check(dir.path(), Some(&fake), &env, &[]), 1);
    snapshot("check_failing.txt", &failing);

    let dir = dir_with(&[("escort.toml", SNAPSHOT_MANIFEST), (".env", "SLACK_BOT_TOKEN=xoxb-123\n")]);
    let (passing, _) = run(&mut check(dir.path(), Some(&fake), &env, &[]), 0);
    snapshot("check_passing.txt", &passing);

    let (offline, _) = run(&mut check(dir.path(), None, &env, &["--sources", "env,dotenv:.env,dotenv:absent.env"]), 1);
    snapshot("check_offline.txt", &offline);
}

#[test]
fn usage_errors_exit_2_and_name_the_place() {
    let dir = dir_with(&[
        ("escort.toml", "[secrets.A]\nprefix = 3\n"),
        ("ok.toml", "sources = [\"dotenv:bad.env\"]\n[secrets.A]\n"),
        ("bad.env", "A=1\nB=canary value here\n"),
    ]);
    // (arguments, what stderr says)
    let cases: [(&[&str], &str); 7] = [
        (&[], "escort.toml:2: invalid type: integer `3`, expected a string"),
        (&["--manifest", "ok.toml"], "bad.env:2: not a valid `NAME=value` line"),
        (&["--manifest", "ok.toml", "--sources", "env,vault"], "--sources <LIST>': unknown source `vault`"),
        (&["--manifest", "ok.toml", "--sources", "env", "--env-file", "nope.env"], "--env-file nope.env: no such file"),
        (&["--manifest", "ok.toml", "--sources", "env", "--env-file", "bad.env"], "bad.env:2:"),
        (&["--manifest", "missing.toml"], "could not read the manifest missing.toml"),
        (&["--manifest", "ok.toml", "--env", "a//b"], "environment `a//b`"),
    ];
    for (args, want) in cases {
        let (stdout, stderr) = run(&mut check(dir.path(), None, &[], args), 2);
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}");
        assert_absent(stderr.as_bytes(), &["canary"], "stderr");
    }
    let empty = tempfile::tempdir().unwrap();
    let (_, stderr) = run(&mut check(empty.path(), None, &[], &[]), 2);
    assert!(stderr.contains("no manifest"), "{stderr}");
}

#[test]
fn a_dotenv_example_is_a_manifest_of_required_keys() {
    let dir = dir_with(&[(".env.example", "# keys\nA=your_a_here\nB=\n")]);
    let report = json_of(&mut check(dir.path(), None, &[("A", "1")], &["--sources", "env"]), 1);
    assert_eq!(secret(&report, "A")["status"], "ok");
    assert_eq!(secret(&report, "B")["status"], "missing");
    // Found on its own when there is no escort.toml.
    let report = json_of(&mut check(dir.path(), None, &[("A", "1"), ("B", "2")], &["--sources", "env"]), 0);
    assert_eq!(report["ok"], true);
}

#[test]
fn env_files_come_after_the_other_sources_and_env_names_the_esc_environment() {
    let fake = esc(json!({"K": "from-esc"}));
    let dir = dir_with(&[
        ("escort.toml", "sources = [\"esc\"]\n[secrets.K]\n[secrets.L]\n"),
        ("extra.env", "K=from-file\nL=only-in-file\n"),
    ]);
    let mut cmd = check(dir.path(), Some(&fake), &[], &["--env-file", "extra.env", "--env", ENV]);
    cmd.env_remove("ESC_ENV");
    let report = json_of(&mut cmd, 0);
    let names: Vec<&str> = report["sources"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, [format!("esc:{ENV}").as_str(), "dotenv:extra.env"]);
    assert_eq!(secret(&report, "K")["source"], format!("esc:{ENV}"));
    assert_eq!(secret(&report, "L")["source"], "dotenv:extra.env");
}

/// In a GitHub job: `escort load --format github` puts the values in
/// $GITHUB_ENV, the runner gives them to the next step's environment, and a
/// check there finds them in `env`.
#[test]
fn the_check_finds_what_load_exported_to_a_github_job() {
    let fake = esc(json!({"OPENAI_API_KEY": {"fn::secret": "sk-job-0123456789abcdef"}, "LOG_LEVEL": "DEBUG"}));
    let dir = dir_with(&[(
        "escort.toml",
        "sources = [\"env\"]\n[secrets.OPENAI_API_KEY]\nprefix = \"sk-\"\n[secrets.LOG_LEVEL]\n",
    )]);
    let github_env = dir.path().join("github_env");
    std::fs::write(&github_env, "").unwrap();
    escort()
        .env("ESC_API_URL", &fake.url)
        .env("ESC_TOKEN", TOKEN)
        .env("ESC_ENV", ENV)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_ENV", &github_env)
        .args(["load", "--format", "github"])
        .assert()
        .success();
    let exported = common::github_env::parse(&common::read(&github_env)).unwrap();
    let env: Vec<(&str, &str)> = exported.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let report = json_of(&mut check(dir.path(), None, &env, &["--strict"]), 0);
    assert_eq!(secret(&report, "OPENAI_API_KEY")["source"], "env");
    assert_eq!(secret(&report, "LOG_LEVEL")["status"], "ok");
}

/// In a GitHub job a failed check annotates the run: one `::error::` per failing
/// secret and unsatisfied one_of, names only (no value, no rule's message), on
/// stderr so that `--format json` stays JSON. Outside a job, none.
#[test]
fn a_failed_check_in_a_github_job_annotates_each_failing_secret() {
    let manifest = format!("{STATUS_MANIFEST}[one_of.llm]\nkeys = [\"A_KEY\", \"B_KEY\"]\n");
    let dotenv = STATUS_DOTENV.replace("PREFIX_BAD=pk-1", "PREFIX_BAD=pk-CANARY-annot");
    let dir = dir_with(&[("escort.toml", &manifest), (".env", &dotenv)]);
    let (stdout, stderr) = run(&mut check(dir.path(), None, &[("GITHUB_ACTIONS", "true")], &["--format", "json"]), 1);
    serde_json::from_str::<Value>(&stdout).expect("stdout stays JSON");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("::error::")).collect();
    let want: Vec<String> = [
        "MISSING is missing",
        "EMPTY is missing",
        "PLACEHOLDER is missing",
        "PREFIX_BAD is invalid",
        "PATTERN_BAD is invalid",
        "MIN_BAD is invalid",
        "URL_BAD is invalid",
        "VALUES_BAD is invalid",
    ]
    .iter()
    .map(|s| format!("::error::escort check: {s} (see the step's report)"))
    .chain(["::error::escort check: one_of llm: none of its keys has a valid value".to_string()])
    .collect();
    assert_eq!(errors, want, "{stderr}");
    assert_absent(stderr.as_bytes(), &["CANARY", "sk-", "pk-"], "annotations");

    let (_, stderr) = run(&mut check(dir.path(), None, &[], &[]), 1);
    assert!(!stderr.contains("::error::"), "{stderr}");
    let ok = dir_with(&[("escort.toml", "sources = [\"env\"]\n[secrets.A]\n")]);
    let (_, stderr) = run(&mut check(ok.path(), None, &[("GITHUB_ACTIONS", "true"), ("A", "1")], &[]), 0);
    assert!(!stderr.contains("::error::"), "{stderr}");
}
