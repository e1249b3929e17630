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
const DRIFT: &str = ".github/workflows/secrets-drift.yml";
const DEVCONTAINER: &str = ".devcontainer/devcontainer.json";

/// The major version: the moving tag the action and the Feature are referenced by.
fn major() -> &'static str {
    env!("CARGO_PKG_VERSION").split('.').next().unwrap()
}

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
    let want = format!("OWNER/escort@v{}", major());
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

    // The workflow: OIDC by default, the stored token as the alternative, the environment
    // from a repository variable, the manifest checked.
    let workflow: Yaml = serde_norway::from_str(&files[WORKFLOW]).unwrap();
    let job = &workflow["jobs"]["check"];
    assert_eq!(job["permissions"]["id-token"].as_str(), Some("write"));
    let with = action_step(job);
    assert_eq!(with["manifest"].as_str(), Some("escort.toml"));
    assert_eq!(with["token"].as_str(), Some("${{ secrets.ESC_TOKEN }}"));
    assert_eq!(with["environment"].as_str(), Some("${{ vars.ESC_ENV }}"));
    assert_eq!(with["oidc-organization"].as_str(), Some("${{ steps.access.outputs.oidc-organization }}"));
    assert!(!files[WORKFLOW].contains("secrets.ESC_ENV"));
    assert!(job.get("defaults").is_none());

    // The devcontainer: escort's Feature, JSON once its comment lines are dropped.
    let json: String = files[DEVCONTAINER].lines().filter(|l| !l.trim_start().starts_with("//")).collect();
    let dev: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(dev["features"], serde_json::json!({format!("ghcr.io/OWNER/escort/escort:{}", major()): {}}));
    assert!(dev.get("postCreateCommand").is_none() && dev.get("postStartCommand").is_none(), "the Feature has them");
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
    assert!(stdout.contains(&format!("\"ghcr.io/OWNER/escort/escort:{}\": {{}}", major())), "{stdout}");
    assert!(after[".gitignore"].starts_with("target/\n.env\n\n# "), "{}", after[".gitignore"]);

    // Idempotent: a second forced run adds no .gitignore line, and says the
    // devcontainer already runs escort once it does.
    std::fs::write(dir.path().join(DEVCONTAINER), "{\"features\": {\"ghcr.io/acme/escort/escort:1\": {}}}\n").unwrap();
    let out = init(dir.path(), &["--force"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("left .devcontainer/devcontainer.json as is: it already runs escort"));
    assert_eq!(read(&dir.path().join(".gitignore")), after[".gitignore"]);
    // ...and rewrites none of the files that already hold what it would write.
    let modified = |rel: &str| std::fs::metadata(dir.path().join(rel)).unwrap().modified().unwrap();
    let stamps: Vec<_> = ["escort.toml", ".env.example", WORKFLOW].iter().map(|f| modified(f)).collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = init(dir.path(), &["--force"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("escort.toml is unchanged"), "{}", text(&out.stderr));
    assert_eq!(["escort.toml", ".env.example", WORKFLOW].iter().map(|f| modified(f)).collect::<Vec<_>>(), stamps);
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

/// `--dir` below a git root: the workflow and the devcontainer go where GitHub and
/// Codespaces look (the root), told where the project is; the project's own files stay
/// in its directory.
#[test]
fn a_project_below_the_git_root() {
    let dir = git_repo();
    std::fs::create_dir_all(dir.path().join("services/api")).unwrap();
    let out = init(dir.path(), &["--dir", "services/api"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let files = tree(dir.path());
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            ".devcontainer/devcontainer.json",
            ".github/workflows/secrets-check.yml",
            "services/api/.env.example",
            "services/api/.gitignore",
            "services/api/escort.toml"
        ]
    );
    let workflow: Yaml = serde_norway::from_str(&files[WORKFLOW]).unwrap();
    let job = &workflow["jobs"]["check"];
    assert_eq!(job["defaults"]["run"]["working-directory"].as_str(), Some("services/api"));
    assert_eq!(action_step(job)["manifest"].as_str(), Some("services/api/escort.toml"));
    let json: String = files[DEVCONTAINER].lines().filter(|l| !l.trim_start().starts_with("//")).collect();
    let dev: Value = serde_json::from_str(&json).unwrap();
    let feature = format!("ghcr.io/OWNER/escort/escort:{}", major());
    assert_eq!(dev["features"][feature]["directory"], "services/api");

    // Run from inside the project, with no --dir: the same root.
    let inner = git_repo();
    let api = inner.path().join("services/api");
    std::fs::create_dir_all(&api).unwrap();
    let out = init(&api, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(inner.path().join(WORKFLOW).is_file() && !api.join(WORKFLOW).exists());
    assert!(inner.path().join(DEVCONTAINER).is_file());
}

fn venv_tool(name: &str) -> std::path::PathBuf {
    let tool = repo().join("target/peers/venv/bin").join(name);
    assert!(tool.exists(), "{} is missing: run scripts/setup-peers.sh", tool.display());
    tool
}

/// A workflow passes actionlint (with shellcheck on its scripts, from the peers' venv)
/// and zizmor.
fn lint_clean(workflow: &Path) {
    let path = format!("{}:{}", repo().join("target/peers/venv/bin").display(), std::env::var("PATH").unwrap());
    let actionlint = Command::new(venv_tool("actionlint")).arg(workflow).env("PATH", &path).output().unwrap();
    let shown = workflow.display();
    assert!(actionlint.status.success(), "{shown}: {}{}", text(&actionlint.stdout), text(&actionlint.stderr));
    let zizmor = Command::new(venv_tool("zizmor")).args(["--offline", "--no-progress"]).arg(workflow).output().unwrap();
    assert!(zizmor.status.success(), "{shown}: {}{}", text(&zizmor.stdout), text(&zizmor.stderr));
}

/// The workflow passes actionlint (with shellcheck on its scripts) and zizmor, at the
/// root and for a project below it.
#[test]
fn the_workflow_passes_actionlint_and_zizmor() {
    let dir = git_repo();
    std::fs::create_dir_all(dir.path().join("services/api")).unwrap();
    for args in [&[][..], &["--dir", "services/api", "--force"][..]] {
        assert_eq!(init(dir.path(), args).status.code(), Some(0));
        lint_clean(&dir.path().join(WORKFLOW));
    }
    // Both can fail: an old checkout with credentials kept, an expression in a script.
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        "on: pull_request_target\npermissions: {}\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      \
         - uses: actions/checkout@v2\n      - run: echo \"${{ github.event.pull_request.title }}\"\n",
    )
    .unwrap();
    assert!(!Command::new(venv_tool("actionlint")).arg(&bad).output().unwrap().status.success());
    assert!(
        !Command::new(venv_tool("zizmor"))
            .args(["--offline", "--no-progress"])
            .arg(&bad)
            .output()
            .unwrap()
            .status
            .success()
    );
}

const ROUTED: &str = "[secrets.API_KEY]\n\n[sync.prod]\nfrom = \"esc:acme/app/prod\"\nto = [\"github:acme/app\"]\n";

/// A manifest with routes is kept, and a second workflow reports their drift: daily and
/// on request, `escort status` (and `escort sync` when asked), linted like the first.
#[test]
fn a_manifest_with_routes_is_kept_and_gets_the_drift_workflow() {
    let dir = git_repo();
    std::fs::create_dir_all(dir.path().join("services/api")).unwrap();
    std::fs::write(dir.path().join("services/api/escort.toml"), ROUTED).unwrap();
    let out = init(dir.path(), &["--dir", "services/api"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("kept services/api/escort.toml: it has routes"), "{}", text(&out.stderr));
    // It proposes a ledger beside the routes' source, and writes none into the kept manifest.
    assert!(
        text(&out.stderr).contains("add `ledger = \"esc:acme/app/escort-ledger\"` at the top of escort.toml"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(read(&dir.path().join("services/api/escort.toml")), ROUTED);
    assert!(read(&dir.path().join("services/api/.env.example")).contains("API_KEY="));

    let drift_path = dir.path().join(DRIFT);
    let drift: Yaml = serde_norway::from_str(&read(&drift_path)).unwrap();
    assert!(
        drift["on"]["schedule"][0]["cron"].is_string()
            && drift["on"]["workflow_dispatch"]["inputs"]["sync"].is_mapping()
    );
    let job = &drift["jobs"]["drift"];
    assert_eq!(job["defaults"]["run"]["working-directory"], "services/api");
    assert_eq!(job["permissions"]["id-token"], "write");
    let steps = job["steps"].as_sequence().unwrap();
    assert_eq!(steps[1]["uses"].as_str().unwrap().split('@').nth(1), Some(format!("v{}", major()).as_str()));
    let runs: Vec<(&str, Option<&str>)> =
        steps.iter().filter_map(|s| Some((s["run"].as_str()?, s["if"].as_str()))).collect();
    assert_eq!(
        runs,
        [("escort sync", Some("github.event_name == 'workflow_dispatch' && inputs.sync")), ("escort status", None)]
    );
    lint_clean(&drift_path);

    // Run again: the files init writes are in the way (the kept manifest is not).
    let out = init(dir.path(), &["--dir", "services/api"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains(DRIFT) && !text(&out.stderr).contains("escort.toml,"), "{}", text(&out.stderr));
    assert_eq!(init(dir.path(), &["--dir", "services/api", "--force"]).status.code(), Some(0));
    assert_eq!(read(&dir.path().join("services/api/escort.toml")), ROUTED, "kept even with --force");

    // Without routes there is no drift workflow.
    let plain = git_repo();
    assert_eq!(init(plain.path(), &[]).status.code(), Some(0));
    assert!(!plain.path().join(DRIFT).exists());
}

/// The workflow's credentials step, run with bash as the runner would in each kind of
/// run: a stored token, OIDC, a run GitHub gives nothing (fork, Dependabot: a notice,
/// and the check is skipped, not failed), and a missing setting (an error).
#[test]
fn the_workflow_skips_with_a_notice_where_github_gives_no_credentials() {
    let dir = git_repo();
    assert_eq!(init(dir.path(), &[]).status.code(), Some(0));
    let workflow: Yaml = serde_norway::from_str(&read(&dir.path().join(WORKFLOW))).unwrap();
    let steps = workflow["jobs"]["check"]["steps"].as_sequence().unwrap();
    let access = steps.iter().find(|s| s["id"].as_str() == Some("access")).expect("the credentials step");
    let script = access["run"].as_str().unwrap();
    let later: Vec<&str> = steps.iter().filter_map(|s| s["if"].as_str()).collect();
    assert_eq!(later, ["steps.access.outputs.ready == 'true'"], "the action runs only when ready");

    let run = |env: &[(&str, &str)]| {
        let out_file = dir.path().join("github_output");
        std::fs::write(&out_file, "").unwrap();
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script]).env_clear().env("PATH", "/usr/bin:/bin");
        cmd.env("GITHUB_OUTPUT", &out_file);
        let defaults =
            [("ESC_ENV", "acme/app/dev"), ("PULUMI_ORG", ""), ("HAS_TOKEN", "false"), ("RESTRICTED", "false")];
        for (k, v) in defaults.iter().chain(env) {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (out.status.code(), text(&out.stdout), read(&out_file))
    };
    let (code, _, outputs) = run(&[("HAS_TOKEN", "true")]);
    assert_eq!((code, outputs.as_str()), (Some(0), "ready=true\n"));
    let (code, _, outputs) = run(&[("ACTIONS_ID_TOKEN_REQUEST_URL", "https://x"), ("PULUMI_ORG", "acme")]);
    assert_eq!((code, outputs.as_str()), (Some(0), "oidc-organization=acme\nready=true\n"));
    for restricted in [&[("RESTRICTED", "true")][..], &[("RESTRICTED", "true"), ("HAS_TOKEN", "true"), ("ESC_ENV", "")]]
    {
        let (code, stdout, outputs) = run(restricted);
        assert_eq!((code, outputs.as_str()), (Some(0), ""), "{restricted:?}");
        assert!(stdout.lines().any(|l| l.starts_with("::notice::") && l.ends_with("skipped.")), "{stdout}");
    }
    for misconfigured in [&[][..], &[("HAS_TOKEN", "true"), ("ESC_ENV", "")][..]] {
        let (code, stdout, outputs) = run(misconfigured);
        assert_eq!((code, outputs.as_str()), (Some(1), ""), "{misconfigured:?}");
        assert!(stdout.lines().any(|l| l.starts_with("::error::")), "{stdout}");
    }
}
