//! `escort init`: the five things it writes, read back by what reads them
//! (escort itself, a YAML parser against action.yml's inputs, a JSON parser,
//! git), and that it converges as a new user expects: a rerun writes nothing,
//! an existing .env.example seeds the manifest, edits are never lost.

use crate::common::{Untouched, assert_absent, escort, read, repo};
use serde_json::Value;
use serde_norway::Value as Yaml;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const WORKFLOW: &str = ".github/workflows/secrets-check.yml";
const DRIFT: &str = ".github/workflows/secrets-drift.yml";
const DEVCONTAINER: &str = ".devcontainer/devcontainer.json";
/// The workflows of a project in services/api: one per project, named after it.
const API_WORKFLOW: &str = ".github/workflows/secrets-check-services-api.yml";
const API_DRIFT: &str = ".github/workflows/secrets-drift-services-api.yml";

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
    assert!(stderr.contains("added .env .env.local .env.*.local to .gitignore"), "{stderr}");
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
    assert_eq!(manifest_secrets(dir.path()), ["OPENAI_API_KEY", "DATABASE_URL", "JWT_SECRET", "LOG_LEVEL"]);

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

    // .gitignore: local .env files ignored; the example and the committed defaults
    // frameworks keep in .env.development/.env.production not.
    let names = [".env", ".env.local", ".env.production.local", ".env.production", ".env.example", "escort.toml"];
    assert_eq!(ignored(dir.path(), &names), [true, true, true, false, false, false]);

    // Committed files, read by everyone who clones the repository: 0644.
    #[cfg(unix)]
    for name in ["escort.toml", ".env.example", WORKFLOW, DEVCONTAINER] {
        assert_eq!(mode(&dir.path().join(name)), 0o644, "{name}");
    }
}

/// The secrets of the manifest in `dir`, as escort reads it: the names `check`
/// reports (with nothing set, so it fails).
fn manifest_secrets(dir: &Path) -> Vec<String> {
    let check =
        escort().env_clear().current_dir(dir).args(["check", "--sources", "env", "--format", "json"]).output().unwrap();
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stderr));
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    report["secrets"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_second_run_writes_nothing_and_exits_0() {
    let dir = git_repo();
    assert_eq!(init(dir.path(), &[]).status.code(), Some(0));
    // Each file's content, inode and a modification time set back (coarse
    // file-system clocks cannot hide a write).
    let files: Vec<String> = tree(dir.path()).into_keys().collect();
    let before: Vec<Untouched> = files.iter().map(|f| Untouched::mark(&dir.path().join(f))).collect();
    for args in [&[][..], &["--force"], &["--diff"]] {
        let out = init(dir.path(), args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("created") && !stderr.contains("added"), "{args:?}: {stderr}");
        assert!(stderr.contains("kept escort.toml\n"), "{stderr}");
        for name in [".env.example", WORKFLOW, DEVCONTAINER] {
            assert!(stderr.contains(&format!("{name} is unchanged\n")), "{name}: {stderr}");
        }
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(tree(dir.path()).into_keys().collect::<Vec<_>>(), files, "{args:?}: no file added");
        before.iter().for_each(Untouched::assert_untouched);
    }
}

/// A repository with a .env.example (very common): its keys seed the manifest,
/// and the file itself is never touched, even with --force.
#[test]
fn an_env_example_seeds_the_manifest_and_stays_untouched() {
    let dir = git_repo();
    let example = "# Copy to .env\nDATABASE_URL=postgres://localhost/dev\nAPI_KEY=\n\n# mail\nSMTP_HOST=localhost\nSMTP_PASSWORD=\nSENTRY_DSN=\n";
    std::fs::write(dir.path().join(".env.example"), example).unwrap();
    let out = init(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("created escort.toml with the 5 keys of .env.example"), "{stderr}");
    assert!(stderr.contains("kept .env.example"), "{stderr}");
    assert_eq!(read(&dir.path().join(".env.example")), example);
    assert_eq!(manifest_secrets(dir.path()), ["DATABASE_URL", "API_KEY", "SMTP_HOST", "SMTP_PASSWORD", "SENTRY_DSN"]);
    let manifest = read(&dir.path().join("escort.toml"));
    assert!(manifest.contains("[groups.api-keys]") && !manifest.contains("OPENAI_API_KEY"), "{manifest}");
    assert!(!manifest.contains("postgres://"), "names only: {manifest}");

    assert_eq!(init(dir.path(), &["--force"]).status.code(), Some(0));
    assert_eq!(read(&dir.path().join(".env.example")), example);
    assert_eq!(read(&dir.path().join("escort.toml")), manifest);
}

/// After the user edits what init wrote, --force keeps the edits (and --diff
/// shows them); it replaces only a file init wrote that nobody has edited.
#[test]
fn force_keeps_every_edit() {
    let dir = git_repo();
    std::fs::create_dir_all(dir.path().join("services/api")).unwrap();
    assert_eq!(init(dir.path(), &[]).status.code(), Some(0));
    let manifest = read(&dir.path().join("escort.toml")) + "\n[secrets.ADDED_BY_HAND]\n";
    std::fs::write(dir.path().join("escort.toml"), &manifest).unwrap();
    let workflow = read(&dir.path().join(WORKFLOW)).replace("branches: [main]", "branches: [trunk]");
    std::fs::write(dir.path().join(WORKFLOW), &workflow).unwrap();

    let out = init(dir.path(), &["--force", "--diff"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(read(&dir.path().join("escort.toml")), manifest);
    assert_eq!(read(&dir.path().join(WORKFLOW)), workflow);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("kept {WORKFLOW}, differs (it was edited since escort init wrote it)")),
        "{stderr}"
    );
    // The placeholder reminder names only files that hold init's text.
    let reminder = stderr.lines().find(|l| l.contains("replace OWNER/escort in")).unwrap_or_default();
    assert!(reminder.contains(DEVCONTAINER) && !reminder.contains(WORKFLOW), "{stderr}");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("-    branches: [trunk]\n+    branches: [main]\n"), "{stdout}");
    assert!(stdout.starts_with(&format!("--- {WORKFLOW}\n")), "{stdout}");

    // A file init wrote, unedited, that this init would write differently (as an older
    // version's would be): kept without --force, replaced with it.
    let other = API_WORKFLOW;
    assert_eq!(init(dir.path(), &["--dir", "services/api"]).status.code(), Some(0));
    std::fs::copy(dir.path().join(other), dir.path().join(WORKFLOW)).unwrap();
    let out = init(dir.path(), &[]);
    assert!(text(&out.stderr).contains("an older escort init wrote it; --force replaces it"), "{}", text(&out.stderr));
    assert_eq!(read(&dir.path().join(WORKFLOW)), read(&dir.path().join(other)));
    let out = init(dir.path(), &["--force"]);
    assert!(text(&out.stderr).contains(&format!("replaced {WORKFLOW}")), "{}", text(&out.stderr));
    assert!(read(&dir.path().join(WORKFLOW)).contains("branches: [main]"));
    assert_eq!(read(&dir.path().join("escort.toml")), manifest);

    // The user's own devcontainer.json: never rewritten, the Feature line printed.
    let own = "// mine\n{\"image\": \"node:20\"}\n";
    std::fs::write(dir.path().join(DEVCONTAINER), own).unwrap();
    let out = init(dir.path(), &["--force"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(read(&dir.path().join(DEVCONTAINER)), own);
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with(".devcontainer/devcontainer.json exists and was left as is."), "{stdout}");
    assert!(stdout.contains(&format!("\"ghcr.io/OWNER/escort/escort:{}\": {{}}", major())), "{stdout}");
}

/// A monorepo: one workflow and one devcontainer per project, none replacing another.
#[test]
fn two_dirs_keep_two_workflows() {
    let dir = git_repo();
    for project in ["services/api", "services/web"] {
        std::fs::create_dir_all(dir.path().join(project)).unwrap();
        let out = init(dir.path(), &["--dir", project]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let files = tree(dir.path());
    for slug in ["services-api", "services-web"] {
        let path = format!(".github/workflows/secrets-check-{slug}.yml");
        let workflow: Yaml = serde_norway::from_str(&files[&path]).unwrap();
        let project = slug.replacen('-', "/", 1);
        assert_eq!(workflow["name"].as_str(), Some(format!("secrets-check ({project})").as_str()));
        assert_eq!(workflow["jobs"]["check"]["defaults"]["run"]["working-directory"].as_str(), Some(project.as_str()));
        lint_clean(&dir.path().join(&path));
        let json: String = files[&format!(".devcontainer/{slug}/devcontainer.json")]
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect();
        let dev: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(dev["features"][format!("ghcr.io/OWNER/escort/escort:{}", major())]["directory"], project);
    }
}

/// N12: a .gitignore that is a symbolic link would be appended to outside the
/// checkout; it is refused (exit 2) before anything is written.
#[cfg(unix)]
#[test]
fn a_gitignore_that_is_a_link_is_refused() {
    let dir = git_repo();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("elsewhere");
    std::fs::write(&target, "mine\n").unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join(".gitignore")).unwrap();
    let out = init(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(".gitignore is a symbolic link") && stderr.contains("nothing was written"), "{stderr}");
    assert_eq!(read(&target), "mine\n");
    assert_eq!(tree(dir.path()).keys().collect::<Vec<_>>(), [".gitignore"]);
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
    // The manifest was seeded from .env: its names, never its values.
    assert!(read(&dir.path().join("escort.toml")).contains("[secrets.JWT_SECRET]"));
    assert_eq!(run("again", &[]), Some(0));
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
            ".devcontainer/services-api/devcontainer.json",
            ".github/workflows/secrets-check-services-api.yml",
            "services/api/.env.example",
            "services/api/.gitignore",
            "services/api/escort.toml"
        ]
    );
    let workflow: Yaml = serde_norway::from_str(&files[API_WORKFLOW]).unwrap();
    let job = &workflow["jobs"]["check"];
    assert_eq!(job["defaults"]["run"]["working-directory"].as_str(), Some("services/api"));
    assert_eq!(action_step(job)["manifest"].as_str(), Some("services/api/escort.toml"));
    let json: String = files[".devcontainer/services-api/devcontainer.json"]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect();
    let dev: Value = serde_json::from_str(&json).unwrap();
    let feature = format!("ghcr.io/OWNER/escort/escort:{}", major());
    assert_eq!(dev["features"][feature]["directory"], "services/api");

    // Run from inside the project, with no --dir: the same root.
    let inner = git_repo();
    let api = inner.path().join("services/api");
    std::fs::create_dir_all(&api).unwrap();
    let out = init(&api, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(inner.path().join(API_WORKFLOW).is_file() && !api.join(".github").exists());
    assert!(inner.path().join(".devcontainer/services-api/devcontainer.json").is_file());
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
    for (args, workflow) in [(&[][..], WORKFLOW), (&["--dir", "services/api"][..], API_WORKFLOW)] {
        assert_eq!(init(dir.path(), args).status.code(), Some(0));
        lint_clean(&dir.path().join(workflow));
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

    let drift_path = dir.path().join(API_DRIFT);
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

    // Run again: nothing to write.
    let before = tree(dir.path());
    let out = init(dir.path(), &["--dir", "services/api"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains(&format!("{API_DRIFT} is unchanged")), "{}", text(&out.stderr));
    assert_eq!(tree(dir.path()), before);
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

/// N16: the drift workflow gives each token only to the steps that run escort (never to
/// the checkout or the action, nor at job level), runs in a deployment environment (its
/// protection rules apply), and zizmor's auditor persona finds nothing to fix (the moving
/// tag is suppressed by name: docs/init.md says how to pin it by SHA with Dependabot).
#[test]
fn n16_the_drift_workflow_scopes_each_token_to_its_steps() {
    let dir = git_repo();
    std::fs::write(dir.path().join("escort.toml"), ROUTED).unwrap();
    assert_eq!(init(dir.path(), &[]).status.code(), Some(0));
    let path = dir.path().join(DRIFT);
    let drift: Yaml = serde_norway::from_str(&read(&path)).unwrap();
    let job = &drift["jobs"]["drift"];
    assert_eq!(job["environment"], "secrets-drift");
    assert!(job["env"].is_null(), "no job-level env: {:?}", job["env"]);
    let secrets = |v: &Yaml| serde_norway::to_string(v).unwrap().matches("secrets.").count();
    for step in job["steps"].as_sequence().unwrap() {
        let runs_escort = step["run"].as_str().is_some_and(|r| r.starts_with("escort "));
        if runs_escort {
            let env = &step["env"];
            assert_eq!(env["GITHUB_TOKEN"], "${{ secrets.ESCORT_GITHUB_TOKEN }}");
            assert_eq!(env["FLY_API_TOKEN"], "${{ secrets.FLY_API_TOKEN }}");
            assert_eq!(env["PULUMI_ACCESS_TOKEN"], "${{ secrets.ESC_TOKEN }}");
        } else {
            assert_eq!(secrets(step), 0, "a step that runs no escort gets a secret: {step:?}");
        }
    }
    lint_clean(&path);
    let auditor = |file: &Path| {
        Command::new(venv_tool("zizmor"))
            .args(["--offline", "--no-progress", "--persona", "auditor"])
            .arg(file)
            .output()
            .unwrap()
    };
    let out = auditor(&path);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    // The auditor does report tokens given to a whole job outside an environment.
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        "on: workflow_dispatch\npermissions: {}\njobs:\n  x:\n    name: x\n    runs-on: ubuntu-latest\n    \
         env:\n      T: ${{ secrets.T }}\n    steps:\n      - run: echo hi\n",
    )
    .unwrap();
    let out = auditor(&bad);
    assert!(!out.status.success() && text(&out.stdout).contains("secrets-outside-env"), "{}", text(&out.stdout));
}
