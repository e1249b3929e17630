//! `escort template`: a .env.example from the manifest that both dotenv
//! parsers read, holding placeholders and defaults, never a real value.

use crate::common::{assert_absent, escort, peer_python, repo};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn example() -> String {
    repo().join("examples/escort.toml").display().to_string()
}

fn template(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    escort().current_dir(dir).arg("template").args(args).assert()
}

/// python-dotenv's reading of a file, as ordered (name, value) pairs.
fn python_dotenv(path: &Path) -> Vec<(String, Value)> {
    let script = "import json, sys\nfrom dotenv import dotenv_values\nprint(json.dumps(list(dotenv_values(sys.argv[1]).items())))";
    let out = Command::new(peer_python()).env_clear().args(["-c", script]).arg(path).output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let pairs: Vec<(String, Value)> = serde_json::from_slice(&out.stdout).unwrap();
    pairs
}

#[test]
fn the_example_manifest_makes_a_template_with_every_secret_once() {
    let dir = tempfile::tempdir().unwrap();
    // Values in every source escort knows: none may reach the template.
    std::fs::write(dir.path().join(".env"), "OPENAI_API_KEY=sk-template-canary-dotenv\n").unwrap();
    let a = template(dir.path(), &["--manifest", &example()]).success().get_output().clone();
    let text = String::from_utf8(a.stdout).unwrap();
    assert_absent(text.as_bytes(), &["canary"], "the template");
    for group in
        ["api-keys", "database-credentials", "security-tokens", "integration-credentials", "infrastructure-credentials"]
    {
        assert!(text.contains(&format!("\n# === {group} ===\n")), "{group}:\n{text}");
    }
    assert!(text.contains("# Rotate every 365 days.\n"), "{text}");
    assert!(text.contains("# OpenAI API key (GPT models)\n# Must start with `sk-`; counts for one_of llm-provider.\nOPENAI_API_KEY=your_openai_api_key_here\n"), "{text}");
    assert!(text.contains("# Logging level\n# Must be one of `DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`; optional.\nLOG_LEVEL='INFO'\n"), "{text}");

    // Read back by python-dotenv: each manifest secret once, placeholders and defaults intact.
    let path = dir.path().join(".env.example");
    std::fs::write(&path, &text).unwrap();
    let entries = python_dotenv(&path);
    let get = |name: &str| entries.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(get("OPENAI_API_KEY"), Some(Value::from("your_openai_api_key_here")));
    assert_eq!(get("REDIS_URL"), Some(Value::from("redis://localhost:6379")));
    assert_eq!(get("CLAUDE_MODEL"), Some(Value::from("claude-3-5-sonnet-20241022")));
    assert_eq!(get("SSL_CERT_FILE"), Some(Value::from("")));

    // And by escort, as a manifest: the same names, in the same order as the TOML manifest's.
    let names = |manifest: &str| -> Vec<String> {
        let out = escort()
            .env_clear()
            .current_dir(dir.path())
            .args(["check", "--manifest", manifest, "--sources", "env", "--format", "json"])
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone();
        let report: Value = serde_json::from_slice(&out).unwrap();
        report["secrets"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect()
    };
    let mut from_toml = names(&example());
    let mut from_template = names(".env.example");
    assert_eq!(from_template.len(), entries.len());
    from_toml.sort();
    from_template.sort();
    assert_eq!(from_toml, from_template);
}

#[test]
fn output_is_written_atomically_and_privately() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = template(dir.path(), &["--manifest", &example()]).success().get_output().stdout.clone();
    std::fs::write(dir.path().join("out.env"), "old").unwrap();
    let a = template(dir.path(), &["--manifest", &example(), "--output", "out.env"]).success();
    assert!(a.get_output().stdout.is_empty());
    assert_eq!(std::fs::read(dir.path().join("out.env")).unwrap(), stdout);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("out.env")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 1, "no temp file left: {left:?}");
}

#[test]
fn a_bad_manifest_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), "[secrets.A]\ngroup = \"nope\"\n").unwrap();
    let a = template(dir.path(), &["--output", "out.env"]).code(2);
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(stderr.contains("escort.toml:2: secrets.A: group `nope` is not defined"), "{stderr}");
    assert!(!dir.path().join("out.env").exists());
}

/// F20: manifest text printed in the template's comments (rule text,
/// descriptions) cannot start a line of its own; a group name that would is
/// refused.
#[test]
fn f20_control_characters_never_escape_a_comment() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("escort.toml");
    std::fs::write(
        &manifest,
        "[groups.g]\ndescription = \"fine\\rLEAK_A=1\"\n\
         [secrets.KEY]\ngroup = \"g\"\ndescription = \"ok\\u000bLEAK_B=2\"\nprefix = \"x\\nLEAK_C=3\"\n\
         [secrets.OTHER]\nvalues = [\"a\\r\\nLEAK_D=4\"]\nrequired = false\n",
    )
    .unwrap();
    let out = template(dir.path(), &["--manifest", manifest.to_str().unwrap()]).success().get_output().clone();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("# Must start with `x\\nLEAK_C=3`.\n"), "{text}");
    let path = dir.path().join(".env.example");
    std::fs::write(&path, &text).unwrap();
    let names: Vec<String> = python_dotenv(&path).into_iter().map(|(k, _)| k).collect();
    assert_eq!(names, ["KEY", "OTHER"], "{text}");

    for (table, name) in [("groups", "g\\nLEAK=1"), ("one_of", "o\\rLEAK=1")] {
        let body = if table == "one_of" { "keys = [\"KEY\"]" } else { "" };
        std::fs::write(&manifest, format!("[secrets.KEY]\n[{table}.\"{name}\"]\n{body}\n")).unwrap();
        let err = template(dir.path(), &["--manifest", manifest.to_str().unwrap()]).code(2).get_output().clone();
        let err = String::from_utf8(err.stderr).unwrap();
        assert!(err.contains("escort.toml:2: ") && err.contains("cannot hold control characters"), "{err}");
    }
}

/// F21: a TOML manifest that is not UTF-8 is refused naming its line.
#[test]
fn f21_invalid_utf8_in_a_manifest_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("escort.toml");
    std::fs::write(&manifest, b"[secrets.A]\n\ndescription = \"caf\xe9\"\n").unwrap();
    let out = template(dir.path(), &["--manifest", manifest.to_str().unwrap()]).code(2).get_output().clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("escort.toml:3: not valid UTF-8"), "{err}");
}
