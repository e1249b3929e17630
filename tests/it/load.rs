//! `escort load` against the fake ESC: every format round-trips a hostile
//! corpus through the reader that would consume it in real life.

use crate::common;

use crate::common::{Fake, escort, github_env};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Command;

const TOKEN: &str = "tok-load-test";

fn state(vars: &[(&str, String)], secret: bool) -> Value {
    common::esc_app_dev(TOKEN, vars.iter().map(|(k, v)| (*k, v.as_str())), secret)
}

fn load(fake: &Fake) -> assert_cmd::Command {
    let mut cmd = escort();
    cmd.env("ESC_API_URL", &fake.url).env("ESC_TOKEN", TOKEN).env("ESC_ENV", "app/dev").arg("load");
    cmd
}

fn expected() -> BTreeMap<String, String> {
    common::corpus::hostile().into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

#[test]
fn github_format_round_trips_through_the_runner_parser() {
    let fake = Fake::esc(&state(&common::corpus::hostile(), true));
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("github_env");
    let out_file = dir.path().join("github_output");
    let assert = load(&fake)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_ENV", &env_file)
        .env("GITHUB_OUTPUT", &out_file)
        .env("RUNNER_TEMP", dir.path())
        .arg("--outputs")
        .assert()
        .success();
    for file in [&env_file, &out_file] {
        let parsed: BTreeMap<String, String> = github_env::parse(&common::read(file)).unwrap().into_iter().collect();
        assert_eq!(parsed, expected(), "{}", file.display());
    }
    // Masks only: nothing else on stdout could carry a value.
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for line in stdout.lines() {
        assert!(line.starts_with("::add-mask::") || line.starts_with("::warning::"), "{line:?}");
    }
}

#[test]
fn github_masks_cover_every_secret_and_each_line_and_nothing_plain() {
    let mut vars = vec![("S", "multi\r\nline %secret".to_string()), ("P", "plain-value".to_string())];
    let mut st = state(&vars[..1], true);
    st["environments"]["acme/app/dev"]["values"]["environmentVariables"]["P"] = json!("plain-value");
    st["environments"]["acme/app/dev"]["values"]["environmentVariables"]["J"] =
        json!({"user": "admin", "pass": {"fn::secret": "leaf-pass"}});
    vars.push(("J", String::new()));
    let fake = Fake::esc(&st);
    let dir = tempfile::tempdir().unwrap();
    let run = |mask: &str| {
        let out = load(&fake)
            .env("GITHUB_ENV", dir.path().join(format!("env-{mask}")))
            .args(["--format", "github", "--mask", mask])
            .assert()
            .success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let masks: Vec<String> = run("secrets").lines().map(str::to_string).collect();
    assert_eq!(
        masks,
        // In ESC's order (the service sorts keys).
        [
            "::add-mask::{\"pass\":\"leaf-pass\",\"user\":\"admin\"}",
            "::add-mask::leaf-pass",
            "::add-mask::multi%0D%0Aline %25secret",
            "::add-mask::multi",
            "::add-mask::line %25secret",
        ]
    );
    assert!(run("all").lines().any(|l| l == "::add-mask::plain-value"));
}

#[test]
fn shell_format_round_trips_through_bash() {
    let fake = Fake::esc(&state(&common::corpus::hostile(), true));
    let out = load(&fake).args(["--format", "shell"]).assert().success();
    let script = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let names: Vec<&str> = common::corpus::hostile().iter().map(|(k, _)| *k).collect();
    // Print each variable NUL-terminated from a bash that evaluated the output.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exports.sh");
    std::fs::write(&file, script).unwrap();
    let printed = Command::new("bash")
        .arg("-c")
        .arg(format!("eval \"$(cat \"$1\")\"; for n in {}; do printf '%s\\0' \"${{!n}}\"; done", names.join(" ")))
        .arg("bash")
        .arg(&file)
        .output()
        .unwrap();
    assert!(printed.status.success());
    let values: Vec<String> =
        printed.stdout.split(|b| *b == 0).take(names.len()).map(|v| String::from_utf8(v.to_vec()).unwrap()).collect();
    let got: BTreeMap<String, String> = names.iter().map(|n| n.to_string()).zip(values).collect();
    assert_eq!(got, expected());
}

#[test]
fn json_format_round_trips() {
    let fake = Fake::esc(&state(&common::corpus::hostile(), false));
    let out = load(&fake).args(["--format", "json"]).assert().success();
    let got: BTreeMap<String, String> = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(got, expected());
}

#[test]
fn dotenv_output_is_read_back_by_python_dotenv() {
    let fake = Fake::esc(&state(&common::corpus::hostile(), true));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.env");
    let out = load(&fake).args(["--format", "dotenv", "--output"]).arg(&path).assert().success();
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    for name in common::corpus::DOTENV_CAVEATS {
        assert!(stderr.contains(&format!("warning: {name}:")), "no warning for {name}: {stderr}");
    }
    let read = Command::new(common::peer_python())
        .args([
            "-c",
            "import json,sys; from dotenv import dotenv_values; print(json.dumps(dotenv_values(sys.argv[1])))",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
    let got: BTreeMap<String, String> = serde_json::from_slice(&read.stdout).unwrap();
    let mut want = expected();
    for name in common::corpus::DOTENV_CAVEATS {
        want.remove(*name);
    }
    let got: BTreeMap<String, String> = got.into_iter().filter(|(k, _)| want.contains_key(k)).collect();
    assert_eq!(got, want);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn output_file_is_replaced_atomically_and_kept_when_loading_fails() {
    let fake = Fake::esc(&state(&[("A", "new".into())], false));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, "A='old'\n").unwrap();
    load(&fake).env("ESC_TOKEN", "wrong").args(["--format", "dotenv", "-o"]).arg(&path).assert().code(3);
    assert_eq!(common::read(&path), "A='old'\n");
    load(&fake).args(["--format", "dotenv", "-o"]).arg(&path).assert().success();
    assert_eq!(common::read(&path), "A='new'\n");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temp files left");
}

#[test]
fn keys_select_and_rename() {
    let fake = Fake::esc(&state(&[("A", "1".into()), ("B", "2".into()), ("C", "3".into())], false));
    let out = load(&fake).args(["--format", "json", "--keys", "C\nX=A"]).assert().success();
    assert_eq!(String::from_utf8_lossy(&out.get_output().stdout), "{\"C\":\"3\",\"X\":\"1\"}\n");
    let out = load(&fake).args(["--format", "json", "--keys", "A,NOPE"]).assert().code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("NOPE"));
}

#[test]
fn bad_names_are_refused_and_node_options_is_skipped() {
    let st = state(&[("GOOD", "1".into()), ("bad-name", "2".into())], false);
    let fake = Fake::esc(&st);
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("env");
    let out = load(&fake).env("GITHUB_ENV", &env_file).args(["--format", "github"]).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("`bad-name`") && err.contains("--keys"), "{err}");
    assert!(!env_file.exists(), "nothing written when refused");
    // Renaming makes it loadable.
    load(&fake)
        .env("GITHUB_ENV", &env_file)
        .args(["--format", "github", "--keys", "GOOD,BAD_NAME=bad-name"])
        .assert()
        .success();
    assert_eq!(github_env::parse(&common::read(&env_file)).unwrap().len(), 2);

    let fake = Fake::esc(&state(&[("NODE_OPTIONS", "--inspect".into()), ("A", "1".into())], false));
    let env_file = dir.path().join("env2");
    let out = load(&fake).env("GITHUB_ENV", &env_file).args(["--format", "github"]).assert().success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("::warning::NODE_OPTIONS"));
    let parsed = github_env::parse(&common::read(&env_file)).unwrap();
    assert_eq!(parsed, vec![("A".to_string(), "1".to_string())]);
}

#[test]
fn files_become_private_files_and_their_content_is_masked() {
    let st = json!({
        "token": TOKEN, "default_org": "acme",
        "environments": {"acme/app/dev": {"values": {
            "environmentVariables": {"A": "1"},
            "files": {"KUBECONFIG": {"fn::secret": "apiVersion: v1\nkind: Config-canary\n"}}
        }}}
    });
    let fake = Fake::esc(&st);
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("env");
    let out = load(&fake)
        .env("GITHUB_ENV", &env_file)
        .env("RUNNER_TEMP", dir.path())
        .args(["--format", "github"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("::add-mask::kind: Config-canary"), "{stdout}");
    let parsed: BTreeMap<String, String> = github_env::parse(&common::read(&env_file)).unwrap().into_iter().collect();
    let path = std::path::PathBuf::from(&parsed["KUBECONFIG"]);
    assert!(path.starts_with(dir.path()), "file under RUNNER_TEMP: {}", path.display());
    assert_eq!(common::read(&path), "apiVersion: v1\nkind: Config-canary\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn github_format_needs_the_job_files() {
    let fake = Fake::esc(&state(&[("A", "1".into())], false));
    let out = load(&fake).args(["--format", "github"]).assert().code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("$GITHUB_ENV"));
}

#[test]
fn demo_needs_no_account_and_no_network() {
    let out = escort()
        .args(["load", "--demo", "--format", "json"])
        .env("ESC_API_URL", "http://127.0.0.1:9")
        .assert()
        .success();
    let got: BTreeMap<String, String> = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(got["APP_ENV"], "demo");
    assert!(got["DEMO_TLS_KEY"].ends_with("/DEMO_TLS_KEY"));
}
