//! `escort init`: the five things it writes, read back by what reads them
//! (escort itself, a YAML parser against action.yml's inputs, a JSON parser,
//! git), and that it never overwrites without --force.

use crate::common::{assert_absent, escort, read, repo};
use serde_json::Value;
use serde_norway::Value as Yaml;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const WORKFLOW: &str = ".github/workflows/secrets-check.yml";
const DEVCONTAINER: &str = ".devcontainer/devcontainer.json";

fn init(dir: &Path, args: &[&str]) -> std::process::Output {
    escort().current_dir(dir).arg("init").args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every file under `dir` but .git, with its content.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.ends_with(".git") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, read(&path));
            }
        }
    }
    out
}

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git").current_dir(dir).args(args).output().expect("git must be installed for these tests")
}

/// Whether git ignores each path, by `git check-ignore`.
fn ignored(dir: &Path, paths: &[&str]) -> Vec<bool> {
    paths.iter().map(|p| git(dir, &["check-ignore", "-q", p]).status.code() == Some(0)).collect()
}

fn git_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    assert!(git(dir.path(), &["init", "-q"]).status.success());
    dir
}

/// The action's input names, from action.yml.
fn action_inputs() -> Vec<String> {
    let action: Yaml = serde_norway::from_str(&read(&repo().join("action.yml"))).unwrap();
    action["inputs"].as_mapping().unwrap().keys().map(|k| k.as_str().unwrap().to_string()).collect()
}

/// The `with:` of the step that uses the action, checked against its inputs.
fn action_step(job: &Yaml) -> &Yaml {
    let steps = job["steps"].as_sequence().unwrap();
    let step = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.contains("/escort@")))
        .expect("a step uses the escort action");
    let want = format!("OWNER/escort@v{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(step["uses"].as_str(), Some(want.as_str()));
    let inputs = action_inputs();
    for key in step["with"].as_mapping().unwrap().keys() {
        let key = key.as_str().unwrap();
        assert!(inputs.iter().any(|i| i == key), "`{key}` is not an input of action.yml");
    }
    &step["with"]
}

#[test]
fn writes_the_five_things_and_each_reads_back() {
    let dir = git_repo();
    let out = init(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    for name in ["escort.toml", ".env.example", WORKFLOW, DEVCONTAINER] {
        assert!(stderr.contains(&format!("created {name}\n")), "{name}: {stderr}");
    }
    assert!(stderr.contains("added .env .env.* !.env.example to .gitignore"), "{stderr}");
    assert!(stderr.contains("replace OWNER/escort in"), "{stderr}");
    let files = tree(dir.path());
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            ".devcontainer/devcontainer.json",
            ".env.example",
            ".github/workflows/secrets-check.yml",
            ".gitignore",
            "escort.toml"
        ]
    );

    // escort.toml: the design notes' rotation schedule, read by escort as a manifest.
    let manifest = &files["escort.toml"];
    for (group, days) in [
        ("api-keys", 90),
        ("database-credentials", 180),
        ("security-tokens", 365),
        ("integration-credentials", 90),
        ("infrastructure-credentials", 90),
    ] {
        assert!(manifest.contains(&format!("[groups.{group}]\n")), "{group}");
        assert!(manifest.contains(&format!("rotate_days = {days}\n")), "{group}");
    }
    let check = escort()
        .env_clear()
        .current_dir(dir.path())
        .args(["check", "--sources", "env", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stderr));
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    let secrets: Vec<&str> =
        report["secrets"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(secrets, ["OPENAI_API_KEY", "DATABASE_URL", "JWT_SECRET", "LOG_LEVEL"]);

    // .env.example: exactly what `escort template` makes of it.
    let template = escort().current_dir(dir.path()).arg("template").output().unwrap();
    assert!(template.status.success());
    assert_eq!(files[".env.example"], text(&template.stdout));

    // The workflow: the action with the manifest and the token from secrets...
    let workflow: Yaml = serde_norway::from_str(&files[WORKFLOW]).unwrap();
    let with = action_step(&workflow["jobs"]["check"]);
    assert_eq!(with["manifest"].as_str(), Some("escort.toml"));
    assert_eq!(with["token"].as_str(), Some("${{ secrets.ESC_TOKEN }}"));
    assert_eq!(with["environment"].as_str(), Some("${{ secrets.ESC_ENV }}"));
    // ...and the commented OIDC alternative, which parses once uncommented.
    let (_, alternative) = files[WORKFLOW].split_once("# Without a stored token").unwrap();
    let uncommented: String = alternative
        .lines()
        .skip_while(|l| !l.starts_with("#  check:"))
        .map(|l| format!("{}\n", l.strip_prefix('#').unwrap()))
        .collect();
    let jobs: Yaml = serde_norway::from_str(&uncommented).unwrap();
    assert_eq!(jobs["check"]["permissions"]["id-token"].as_str(), Some("write"));
    let with = action_step(&jobs["check"]);
    assert!(with["oidc-organization"].as_str().is_some() && with.get("token").is_none());

    // The devcontainer: JSON once its comment lines are dropped.
    let json: String = files[DEVCONTAINER].lines().filter(|l| !l.trim_start().starts_with("//")).collect();
    let dev: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(dev["postStartCommand"], "escort load --format dotenv --output .env; escort check");
    assert!(
        dev["postCreateCommand"]
            .as_str()
            .unwrap()
            .starts_with("cargo install --locked --git https://github.com/OWNER/escort")
    );
    assert!(
        dev["secrets"]["ESC_ENV"]["description"].is_string() && dev["secrets"]["ESC_TOKEN"]["description"].is_string()
    );

    // .gitignore: .env files ignored, the example not.
    assert_eq!(
        ignored(dir.path(), &[".env", ".env.local", ".env.production", ".env.example", "escort.toml"]),
        [true, true, true, false, false]
    );

    #[cfg(unix)]
    for name in ["escort.toml", ".env.example", WORKFLOW, DEVCONTAINER] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
}

#[test]
fn never_overwrites_without_force() {
    let dir = git_repo();
    std::fs::write(dir.path().join("escort.toml"), "# mine\n").unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::write(dir.path().join(WORKFLOW), "name: mine\n").unwrap();
    let before = tree(dir.path());

    let out = init(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(&format!(
            "escort.toml, {WORKFLOW} already exist: nothing was written (pass --force to overwrite)"
        )),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(tree(dir.path()), before, "nothing written, .gitignore included");

    // With --force: the three starter files are replaced; the user's
    // devcontainer.json never is, and .gitignore only gains what it lacks.
    std::fs::create_dir_all(dir.path().join(".devcontainer")).unwrap();
    let own = "// mine\n{\"image\": \"node:20\"}\n";
    std::fs::write(dir.path().join(DEVCONTAINER), own).unwrap();
    std::fs::write(dir.path().join(".gitignore"), "target/\n.env").unwrap();
    let out = init(dir.path(), &["--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("overwrote escort.toml\n") && stderr.contains("created .env.example\n"), "{stderr}");
    let after = tree(dir.path());
    assert_ne!(after["escort.toml"], "# mine\n");
    assert_ne!(after[WORKFLOW], "name: mine\n");
    assert_eq!(after[DEVCONTAINER], own);
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with(".devcontainer/devcontainer.json exists and was left as is."), "{stdout}");
    assert!(
        stdout.contains("\"postStartCommand\": \"escort load --format dotenv --output .env; escort check\""),
        "{stdout}"
    );
    assert!(after[".gitignore"].starts_with("target/\n.env\n\n# "), "{}", after[".gitignore"]);

    // Idempotent: a second forced run adds no .gitignore line, and says the
    // devcontainer already runs escort once it does.
    std::fs::write(dir.path().join(DEVCONTAINER), "{\"postStartCommand\": \"escort check\"}\n").unwrap();
    let out = init(dir.path(), &["--force"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("left .devcontainer/devcontainer.json as is: it already runs escort"));
    assert_eq!(read(&dir.path().join(".gitignore")), after[".gitignore"]);
    assert_eq!(ignored(dir.path(), &[".env", ".env.local", ".env.example"]), [true, true, false]);
}

#[test]
fn an_exception_before_the_pattern_is_repeated_after_it() {
    let dir = git_repo();
    // Every line escort wants is there, but the exception comes too early to count.
    let mine = "!.env.example\n.env\n.env.*";
    std::fs::write(dir.path().join(".gitignore"), mine).unwrap();
    assert_eq!(ignored(dir.path(), &[".env", ".env.example"]), [true, true]);
    assert_eq!(init(dir.path(), &[]).status.code(), Some(0));
    assert_eq!(ignored(dir.path(), &[".env", ".env.dev", ".env.example"]), [true, true, false]);
    let gitignore = read(&dir.path().join(".gitignore"));
    assert!(gitignore.starts_with(&format!("{mine}\n\n# ")), "{gitignore}");
    assert!(gitignore.ends_with("\n!.env.example\n"), "{gitignore}");
    assert_eq!(gitignore.lines().filter(|l| *l == ".env").count(), 1);
}

#[test]
fn into_another_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = init(dir.path(), &["--dir", "no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--dir no/such/dir: no such directory"), "{}", text(&out.stderr));

    std::fs::create_dir_all(dir.path().join("services/api")).unwrap();
    let out = init(dir.path(), &["--dir", "services/api", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let files = tree(&dir.path().join("services/api"));
    assert_eq!(files.len(), 5, "{:?}", files.keys());
    assert!(files[".env.example"].starts_with("# Generated by `escort template` from escort.toml.\n"));
    assert!(!text(&out.stderr).contains("created"), "--quiet: {}", text(&out.stderr));
    assert!(!dir.path().join("escort.toml").exists());
}

#[test]
fn no_value_or_token_in_any_output_or_file() {
    const NEEDLES: &[&str] = &["CANARY"];
    let dir = git_repo();
    // Values where a careless init could pick them up: a .env, the environment.
    std::fs::write(dir.path().join(".env"), "OPENAI_API_KEY=sk-CANARY-dotenv-1f2e\nJWT_SECRET=CANARY-jwt\n").unwrap();
    let run = |what: &str, args: &[&str]| {
        let out = escort()
            .current_dir(dir.path())
            .env("OPENAI_API_KEY", "sk-CANARY-env-3a4b")
            .env("ESC_TOKEN", "pul-CANARY-token-5c6d")
            .env("GITHUB_TOKEN", "ghp-CANARY-token-7e8f")
            .arg("init")
            .args(args)
            .output()
            .unwrap();
        assert_absent(&out.stdout, NEEDLES, &format!("{what}: stdout"));
        assert_absent(&out.stderr, NEEDLES, &format!("{what}: stderr"));
        for (name, content) in tree(dir.path()).iter().filter(|(n, _)| *n != ".env") {
            assert_absent(content.as_bytes(), NEEDLES, &format!("{what}: {name}"));
        }
        out.status.code()
    };
    assert_eq!(run("init", &[]), Some(0));
    assert_eq!(run("refused", &[]), Some(2));
    std::fs::write(dir.path().join(DEVCONTAINER), "{}\n").unwrap();
    assert_eq!(run("forced, devcontainer kept", &["--force"]), Some(0));
}
