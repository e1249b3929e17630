//! The CLI comforts peers have (docs/routes.md, "escort set"; docs/load.md; docs/completions.md;
//! docs/check.md): `set` trims
//! the newline `echo` adds, `load --format docker` read the way docker reads
//! it, `get` for scripts, completions sourced by a real bash, the man page
//! rendered by `man`, and `escort init && escort check --demo` passing.

use crate::common::{self, Fake, assert_absent, escort};
use crate::github_support::{self, github, state, value, writes};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const REPO: &str = "repos/acme/app/actions";
const ESC_TOKEN: &str = "tok-comforts-test";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---- set: one trailing newline from a pipe ----

#[test]
fn set_strips_exactly_one_trailing_newline_from_stdin_and_says_so() {
    let fake = github(&state());
    for (name, piped, stored) in [
        ("LF", "CANARY-lf-5c1a\n", "CANARY-lf-5c1a"),
        ("CRLF", "CANARY-crlf-77e0\r\n", "CANARY-crlf-77e0"),
        ("TWO", "CANARY-two-1b9d\n\n", "CANARY-two-1b9d\n"),
        ("CR_ONLY", "CANARY-cr-3f42\r", "CANARY-cr-3f42\r"),
        ("INNER", "CANARY-a-90c1\nCANARY-b-90c1\n", "CANARY-a-90c1\nCANARY-b-90c1"),
    ] {
        let out =
            github_support::escort(&fake).args(["set", "github:acme/app", name]).write_stdin(piped).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        assert_eq!(value(&fake, REPO, name).as_deref(), Some(stored), "{name}");
        let said = text(&out.stderr).contains(&format!("{name}: removed the trailing newline from stdin"));
        assert_eq!(said, piped.ends_with('\n'), "{name}: {}", text(&out.stderr));
        assert_absent(&out.stdout, &[stored, "CANARY"], name);
        assert_absent(&out.stderr, &[stored, "CANARY-"], name);
    }
    // Nothing to strip: taken as it is, without a word about newlines.
    let out = github_support::escort(&fake)
        .args(["set", "github:acme/app", "BARE"])
        .write_stdin("CANARY-bare")
        .assert()
        .success();
    assert!(!text(&out.get_output().stderr).contains("newline"));
    assert_eq!(value(&fake, REPO, "BARE").as_deref(), Some("CANARY-bare"));
}

#[test]
fn set_raw_keeps_the_bytes_exactly() {
    let fake = github(&state());
    for (name, piped) in [("LF", "CANARY-raw-lf\n"), ("CRLF", "CANARY-raw-crlf\r\n"), ("NEWLINE", "\n")] {
        let out = github_support::escort(&fake)
            .args(["set", "--raw", "github:acme/app", name])
            .write_stdin(piped)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        assert_eq!(value(&fake, REPO, name).as_deref(), Some(piped), "{name}");
        assert!(!text(&out.stderr).contains("newline"), "{name}");
        assert_absent(&out.stderr, &["CANARY-raw"], name);
    }
}

#[test]
fn set_refuses_a_value_that_is_only_a_newline_and_writes_nothing() {
    let fake = github(&with_secret(state(), "EMPTY", "CANARY-before-8e2f"));
    for piped in ["\n", "\r\n"] {
        let out = github_support::escort(&fake)
            .args(["set", "github:acme/app", "EMPTY"])
            .write_stdin(piped)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{piped:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("EMPTY: stdin held only a newline: nothing was written"), "{stderr}");
        assert_absent(&out.stderr, &["CANARY-before"], "refusal");
    }
    assert!(writes(&fake).is_empty(), "nothing sent: {:?}", writes(&fake));
    assert_eq!(value(&fake, REPO, "EMPTY").as_deref(), Some("CANARY-before-8e2f"));
}

/// `printf %s "$UNSET" | escort set` and `escort set ... </dev/null`: an empty
/// stdin is refused (exit 2, nothing sent) unless `--allow-empty` says it is meant.
#[test]
fn set_refuses_an_empty_stdin_unless_allow_empty() {
    let fake = github(&with_secret(state(), "EMPTY", "CANARY-before-3c1d"));
    for raw in [false, true] {
        let mut cmd = github_support::escort(&fake);
        cmd.args(["set", "github:acme/app", "EMPTY"]).write_stdin("");
        if raw {
            cmd.arg("--raw");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "raw {raw}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("EMPTY: stdin was empty: nothing was written (--allow-empty"), "{stderr}");
        assert_absent(&out.stderr, &["CANARY-before"], "refusal");
    }
    assert!(writes(&fake).is_empty(), "nothing sent: {:?}", writes(&fake));
    assert_eq!(value(&fake, REPO, "EMPTY").as_deref(), Some("CANARY-before-3c1d"));

    let out = github_support::escort(&fake)
        .args(["set", "github:acme/app", "EMPTY", "--allow-empty"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(value(&fake, REPO, "EMPTY").as_deref(), Some(""));
}

fn with_secret(mut state: Value, name: &str, value: &str) -> Value {
    state["secrets"][REPO] = json!({ name: {"value": value} });
    state
}

// ---- load --format docker ----

fn esc_state(vars: &[(&str, &str)]) -> Value {
    common::esc_app_dev(ESC_TOKEN, vars.iter().copied(), true)
}

fn esc(fake: &Fake) -> assert_cmd::Command {
    let mut cmd = escort();
    cmd.env("ESC_API_URL", &fake.url).env("ESC_TOKEN", ESC_TOKEN).env("ESC_ENV", "app/dev");
    cmd
}

/// An env file read as `docker run --env-file` reads it (docker/cli's
/// `opts.ParseEnvFile`): each line trimmed on the left, blank lines and `#`
/// comments skipped, split at the first `=`, the value kept as it is.
fn docker_env_file(text: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line.split_once('=').expect("every line of the export has a value");
        assert!(!name.contains(char::is_whitespace), "{name:?}");
        vars.insert(name.to_string(), value.to_string());
    }
    vars
}

#[test]
fn docker_format_round_trips_what_one_unquoted_line_holds() {
    let vars = [
        ("EQUALS", "CANARY=a=b"),
        ("SINGLE", "'CANARY-quoted'"),
        ("DOUBLE", "\"CANARY-dq\""),
        ("HASH", "#CANARY # not a comment"),
        ("DOLLAR", "$HOME ${CANARY} `x` \\n"),
        ("INNER_SPACE", "CANARY inner  space"),
        ("UNICODE", "CANARY-é-漢字-🙂"),
        ("EMPTY", ""),
    ];
    // ESC reads `${...}` in a definition as a reference: `$$` writes the literal `$`.
    let defined: Vec<(&str, String)> = vars.iter().map(|&(k, v)| (k, v.replace("${", "$${"))).collect();
    let fake = Fake::esc(&esc_state(&defined.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()));
    let out = esc(&fake).args(["load", "--format", "docker"]).assert().success();
    let want: BTreeMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(docker_env_file(&text(&out.get_output().stdout)), want);
    assert_absent(&out.get_output().stderr, &["CANARY"], "stderr");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.env");
    esc(&fake).args(["load", "--format", "docker", "--output"]).arg(&file).assert().success();
    assert_eq!(docker_env_file(&common::read(&file)), want);
}

#[test]
fn docker_format_exports_an_esc_file_as_its_path() {
    let out = escort().args(["load", "--demo", "--format", "docker"]).assert().success();
    let vars = docker_env_file(&text(&out.get_output().stdout));
    let key = Path::new(&vars["DEMO_TLS_KEY"]);
    assert!(common::read(key).starts_with("-----BEGIN DEMO KEY-----\n"));
    std::fs::remove_dir_all(key.parent().unwrap()).unwrap();
}

#[test]
fn docker_format_refuses_what_it_cannot_carry_by_name_and_writes_nothing() {
    for (name, bad) in [
        ("NEWLINE", "CANARY-nl-1\nCANARY-nl-2"),
        ("CARRIAGE", "CANARY-cr-1\rCANARY-cr-2"),
        ("TRAILING_CR", "CANARY-tcr\r"),
        ("LEADING", " CANARY-leading"),
        ("TRAILING", "CANARY-trailing "),
        ("TAB", "\tCANARY-tab"),
        ("ONLY_SPACE", " "),
    ] {
        let fake = Fake::esc(&esc_state(&[("GOOD", "CANARY-good"), (name, bad)]));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("app.env");
        std::fs::write(&file, "OLD=kept\n").unwrap();
        for output in [false, true] {
            let mut cmd = esc(&fake);
            cmd.args(["load", "--format", "docker"]);
            if output {
                cmd.arg("--output").arg(&file);
            }
            let out = cmd.output().unwrap();
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
            assert!(stderr.contains(&format!("--format docker cannot carry the value of {name}:")), "{stderr}");
            assert!(stderr.contains("nothing was written"), "{stderr}");
            assert!(out.stdout.is_empty(), "{name}");
            assert_absent(&out.stderr, &["CANARY"], name);
            assert_eq!(common::read(&file), "OLD=kept\n", "{name}: the old file stays whole");
        }
    }
}

// ---- get ----

#[test]
fn get_prints_one_value_and_one_newline() {
    let multi = "CANARY-get-1\nCANARY-get-2\n";
    let fake = Fake::esc(&esc_state(&[("API_KEY", "CANARY-get-key"), ("MULTI", multi), ("SPACED", " x ")]));
    let get = |args: &[&str]| esc(&fake).arg("get").args(args).assert().success().get_output().stdout.clone();
    assert_eq!(get(&["API_KEY"]), b"CANARY-get-key\n");
    assert_eq!(get(&["API_KEY", "--no-newline"]), b"CANARY-get-key");
    assert_eq!(get(&["--raw", "API_KEY"]), b"CANARY-get-key");
    assert_eq!(text(&get(&["MULTI"])), format!("{multi}\n"));
    assert_eq!(get(&["SPACED", "--raw"]), b" x ");
    assert_eq!(get(&["API_KEY", "--env", "acme/app/dev"]), b"CANARY-get-key\n");

    assert_eq!(escort().args(["get", "--demo", "LOG_LEVEL"]).assert().success().get_output().stdout, b"INFO\n");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "FROM_FILE='CANARY-file'\n").unwrap();
    let out = escort().current_dir(dir.path()).args(["get", "FROM_FILE", "--from", "dotenv:.env"]).assert().success();
    assert_eq!(out.get_output().stdout, b"CANARY-file\n");
    let out = escort().env("FROM_ENV", "CANARY-env").args(["get", "--from", "env", "FROM_ENV"]).assert().success();
    assert_eq!(out.get_output().stdout, b"CANARY-env\n");
}

#[test]
fn get_names_a_missing_variable_and_prints_nothing() {
    let fake = Fake::esc(&esc_state(&[("API_KEY", "CANARY-present")]));
    let out = esc(&fake).args(["get", "NOPE"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("NOPE: no such variable in esc:app/dev"), "{}", text(&out.stderr));
    assert_absent(&out.stderr, &["CANARY"], "missing");

    // No environment: the hint it gives works.
    let out = escort().args(["get", "LOG_LEVEL"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("try --demo"));
    escort().args(["get", "LOG_LEVEL", "--demo", "--env", "a/b"]).assert().code(2);
    escort().args(["get", "LOG_LEVEL", "--demo", "--from", "env"]).assert().code(2);
}

/// Run escort on a pseudo-terminal (Python's `pty`): its exit code and what
/// the terminal showed.
fn on_terminal(args: &[&str], envs: &[(&str, &str)]) -> (i64, String) {
    const DRIVE: &str = r#"
import json, os, pty, sys
argv = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "output": out.decode("utf-8", "replace")}))
"#;
    let mut argv = vec![assert_cmd::cargo::cargo_bin("escort").display().to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let mut cmd = Command::new(common::peer_python());
    cmd.env_clear().env("PATH", std::env::var_os("PATH").unwrap()).env("NO_COLOR", "1");
    // ESC files (the demo's TLS key) go to the tests' runtime directory, not /tmp.
    cmd.env("XDG_RUNTIME_DIR", common::runtime_dir());
    cmd.envs(envs.iter().copied()).arg("-c").arg(DRIVE).arg(serde_json::to_string(&argv).unwrap());
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    (got["code"].as_i64().unwrap(), got["output"].as_str().unwrap().to_string())
}

#[test]
fn get_prints_a_secret_to_a_terminal_only_with_show_secrets() {
    let fake = Fake::esc(&esc_state(&[("API_KEY", "CANARY-tty-secret-41d7")]));
    let envs = [("ESC_API_URL", fake.url.as_str()), ("ESC_TOKEN", ESC_TOKEN), ("ESC_ENV", "app/dev")];
    let (code, shown) = on_terminal(&["get", "API_KEY"], &envs);
    assert_eq!(code, 2, "{shown}");
    assert!(shown.contains("API_KEY is a secret and stdout is a terminal"), "{shown}");
    assert!(!shown.contains("CANARY"), "{shown}");

    let (code, shown) = on_terminal(&["get", "API_KEY", "--show-secrets"], &envs);
    assert_eq!((code, shown.as_str()), (0, "CANARY-tty-secret-41d7\r\n"));

    // Plain config is no secret: printed as it is.
    let (code, shown) = on_terminal(&["get", "--demo", "LOG_LEVEL"], &[]);
    assert_eq!((code, shown.as_str()), (0, "INFO\r\n"));
}

/// `load` follows `get`'s rule: an export with a secret is not printed to a
/// terminal without `--show-secrets`.
#[test]
fn load_prints_secrets_to_a_terminal_only_with_show_secrets() {
    let fake = Fake::esc(&esc_state(&[("API_KEY", "CANARY-tty-load-5be1")]));
    let envs = [("ESC_API_URL", fake.url.as_str()), ("ESC_TOKEN", ESC_TOKEN), ("ESC_ENV", "app/dev")];
    for format in ["shell", "dotenv", "json"] {
        let (code, shown) = on_terminal(&["load", "--format", format], &envs);
        assert_eq!(code, 2, "{format}: {shown}");
        assert!(shown.contains("the export holds 1 secret and stdout is a terminal"), "{shown}");
        assert!(!shown.contains("CANARY"), "{format}: {shown}");
    }
    let (code, shown) = on_terminal(&["load", "--format", "dotenv", "--show-secrets"], &envs);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("CANARY-tty-load-5be1"), "{shown}");
    // The demo's values are published in escort itself: the first command a newcomer runs works.
    let (code, shown) = on_terminal(&["load", "--demo"], &[]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("export OPENAI_API_KEY="), "{shown}");
    let (code, shown) = on_terminal(&["get", "--demo", "OPENAI_API_KEY"], &[]);
    assert_eq!((code, shown.as_str()), (0, "sk-demo-0000000000000000000000000000\r\n"));
}

// ---- completions and the man page ----

/// The subcommands `escort --help` lists.
fn subcommands() -> Vec<String> {
    let out = escort().arg("--help").assert().success();
    let help = text(&out.get_output().stdout);
    let listed = help.split("Commands:\n").nth(1).unwrap().split("\n\n").next().unwrap();
    // A name is indented by two; a wrapped description further.
    let names: Vec<String> = listed
        .lines()
        .filter(|l| !l[2..].starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(String::from)
        .collect();
    assert!(names.len() >= 15 && names.contains(&"get".to_string()), "{names:?}");
    names
}

#[test]
fn bash_completion_sources_cleanly_and_completes_subcommands_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("escort.bash");
    let out = escort().args(["completions", "bash"]).assert().success();
    std::fs::write(&script, &out.get_output().stdout).unwrap();
    let complete = |line: &str| -> String {
        let words = line.split(' ').map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" ");
        let body = format!(
            "set -u; source '{}' || exit 9; complete -p escort >&2 || exit 8; \
             COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMP_LINE='{line}'; \
             COMP_POINT=${{#COMP_LINE}}; func=$(complete -p escort | sed -E 's/.*-F ([^ ]+).*/\\1/'); \
             \"$func\" escort \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = Command::new("bash").arg("--norc").arg("-c").arg(body).output().expect("bash must be installed");
        assert!(out.status.success(), "{line}: {}", text(&out.stderr));
        assert!(text(&out.stderr).starts_with("complete "), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(complete("escort lo").split_whitespace().collect::<Vec<_>>(), ["load", "login"]);
    assert_eq!(complete("escort ge").trim(), "get");
    assert_eq!(complete("escort completions b").trim(), "bash");
    let flags = complete("escort load --for");
    assert_eq!(flags.trim(), "--format", "{flags}");
    let formats = complete("escort load --format ");
    assert!(formats.split_whitespace().any(|f| f == "docker"), "{formats}");
}

#[test]
fn every_shell_gets_a_completion_script_naming_every_subcommand() {
    let names = subcommands();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = escort().args(["completions", shell]).assert().success();
        let script = text(&out.get_output().stdout);
        for name in &names {
            assert!(script.contains(name.as_str()), "{shell}: {name}");
        }
    }
    escort().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn the_man_page_has_every_subcommand_and_renders() {
    let out = escort().arg("man").assert().success();
    let roff = text(&out.get_output().stdout);
    assert!(roff.lines().any(|l| l.starts_with(".TH ESCORT 1")), "{}", &roff[..200]);
    let names = subcommands();
    for name in &names {
        assert!(roff.contains(&format!(".SH \"ESCORT {}\"", name.to_uppercase())), "{name}");
    }

    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("escort.1");
    std::fs::write(&page, &roff).unwrap();
    // man(1) is a test peer (scripts/setup-peers.sh installs it): without it, fail.
    let man = Command::new("man")
        .env("MANWIDTH", "100")
        .env_remove("MAN_KEEP_FORMATTING")
        .arg("-l")
        .arg(&page)
        .output()
        .unwrap_or_else(|e| panic!("man(1) could not run ({e}): run scripts/setup-peers.sh"));
    assert!(man.status.success(), "{}", text(&man.stderr));
    assert!(man.stderr.is_empty(), "man warned: {}", text(&man.stderr));
    let shown = text(&man.stdout);
    for name in &names {
        assert!(shown.contains(&format!("ESCORT {}", name.to_uppercase())), "{name}");
    }
    assert!(shown.contains("--format"), "options are shown");
}

// ---- check --demo ----

#[test]
fn init_then_check_demo_passes() {
    let dir = tempfile::tempdir().unwrap();
    escort().current_dir(dir.path()).arg("init").assert().success();

    // Without an environment the check says to try --demo...
    let out = escort().current_dir(dir.path()).arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("try --demo"), "{}", text(&out.stdout));

    // ...and --demo passes, every starter secret coming from the demo.
    let out = escort().current_dir(dir.path()).args(["check", "--demo", "--format", "json"]).assert().success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["sources"][0]["name"], "esc:demo");
    for s in report["secrets"].as_array().unwrap() {
        assert_eq!(s["source"], "esc:demo", "{s}");
    }
    escort().current_dir(dir.path()).args(["check", "--demo"]).assert().success();
}

/// The README's Quick start, run word for word by bash in an empty directory with
/// escort on PATH: a newcomer's first commands must work as written (its old
/// `cd my-project` failed on a fresh machine).
#[test]
fn the_readmes_quick_start_runs_as_written() {
    let readme = common::read(&common::repo().join("README.md"));
    let after = readme.split_once("\n## Quick start\n").expect("README has a Quick start").1;
    let block = after.split_once("```sh\n").expect("a sh block").1.split_once("```").unwrap().0;
    assert!(block.contains("escort init") && block.contains("escort check --demo"), "{block}");

    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("escort");
    let path = format!("{}:{}", bin.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    // escort's own test environment (no tester's tokens), given to the shell instead.
    let mut bash = Command::new("bash");
    for (k, v) in common::escort_std().get_envs() {
        match v {
            Some(v) => bash.env(k, v),
            None => bash.env_remove(k),
        };
    }
    let out = bash.args(["-eu", "-c", block]).env("PATH", path).current_dir(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("export LOG_LEVEL="), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("Check passed"), "{}", text(&out.stdout));
    assert!(dir.path().join("my-project/.git").is_dir() && dir.path().join("my-project/escort.toml").is_file());
}

#[test]
fn check_demo_goes_first_when_the_sources_name_no_esc() {
    let dir = tempfile::tempdir().unwrap();
    escort().current_dir(dir.path()).arg("init").assert().success();
    let out = escort()
        .current_dir(dir.path())
        .args(["check", "--demo", "--sources", "env", "--format", "json"])
        .assert()
        .success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let sources: Vec<&str> =
        report["sources"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(sources, ["esc:demo", "env"]);
    escort().current_dir(dir.path()).args(["check", "--demo", "--env", "a/b"]).assert().code(2);
}
