//! The composite GitHub Action (`action.yml`), tested the way the runner uses it.
//!
//! A small emulation of the Actions runner runs each step of `action.yml` with bash:
//! the step's `run:` text is written to a script file and run as
//! `bash --noprofile --norc -eo pipefail FILE` (what `shell: bash` means), with fresh
//! file-command files per step (`GITHUB_ENV`, `GITHUB_OUTPUT`, `GITHUB_PATH`), the
//! step's `env:` evaluated from the test's inputs (expressions in `env:` become values,
//! never script text), `if:` evaluated, later steps skipped after a failure, and
//! `GITHUB_ENV` / `GITHUB_PATH` applied between steps. The load step talks to the fake
//! ESC server. A lint checks the rules the emulation relies on (no `${{` in any `run:`,
//! `shell: bash`, only expression forms the emulation understands), and a self-check
//! proves the lint can fail.
#![cfg(unix)]

use crate::common;

use crate::common::Fake;
use serde_json::{Value as Json, json};
use serde_norway::Value as Yaml;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// action.yml, as the runner reads it
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct Input {
    name: String,
    default: String,
}

#[derive(Debug)]
struct Step {
    id: String,
    cond: Option<String>,
    shell: Option<String>,
    env: Vec<(String, String)>,
    run: Option<String>,
    uses: Option<String>,
}

#[derive(Debug)]
struct Action {
    using: String,
    inputs: Vec<Input>,
    outputs: Vec<(String, String)>,
    steps: Vec<Step>,
}

/// A YAML scalar as the runner turns it into a string (`true` -> "true", null -> "").
fn scalar(v: &Yaml, what: &str) -> Result<String, String> {
    match v {
        Yaml::Null => Ok(String::new()),
        Yaml::Bool(b) => Ok(b.to_string()),
        Yaml::Number(n) => Ok(n.to_string()),
        Yaml::String(s) => Ok(s.clone()),
        _ => Err(format!("{what}: expected a scalar, got {v:?}")),
    }
}

fn mapping<'a>(v: &'a Yaml, what: &str) -> Result<Vec<(String, &'a Yaml)>, String> {
    match v {
        Yaml::Null => Ok(Vec::new()),
        Yaml::Mapping(m) => m.iter().map(|(k, v)| Ok((scalar(k, what)?, v))).collect(),
        _ => Err(format!("{what}: expected a mapping")),
    }
}

fn parse_action(text: &str) -> Result<Action, String> {
    let doc: Yaml = serde_norway::from_str(text).map_err(|e| format!("action.yml is not YAML: {e}"))?;
    let mut inputs = Vec::new();
    for (name, spec) in mapping(doc.get("inputs").unwrap_or(&Yaml::Null), "inputs")? {
        let default = spec.get("default").map(|d| scalar(d, &name)).transpose()?.unwrap_or_default();
        inputs.push(Input { name, default });
    }
    let mut outputs = Vec::new();
    for (name, spec) in mapping(doc.get("outputs").unwrap_or(&Yaml::Null), "outputs")? {
        let value = spec.get("value").ok_or(format!("output {name} has no value"))?;
        outputs.push((name.clone(), scalar(value, &name)?));
    }
    let runs = doc.get("runs").ok_or("no runs:")?;
    let using = scalar(runs.get("using").ok_or("no runs.using")?, "runs.using")?;
    let mut steps = Vec::new();
    let list = match runs.get("steps") {
        Some(Yaml::Sequence(s)) => s.as_slice(),
        _ => &[],
    };
    for (i, s) in list.iter().enumerate() {
        let text = |key: &str| s.get(key).map(|v| scalar(v, key)).transpose();
        let env = match s.get("env") {
            Some(e) => mapping(e, "env")?
                .into_iter()
                .map(|(k, v)| Ok((k, scalar(v, "env")?)))
                .collect::<Result<_, String>>()?,
            None => Vec::new(),
        };
        steps.push(Step {
            // The runner names a step without an id `__N`.
            id: text("id")?.unwrap_or_else(|| format!("__{i}")),
            cond: text("if")?,
            shell: text("shell")?,
            env,
            run: text("run")?,
            uses: text("uses")?,
        });
    }
    Ok(Action { using, inputs, outputs, steps })
}

// ---------------------------------------------------------------------------------------
// Expressions: only the forms this action uses; anything else is an error (and the lint
// reports it), so the emulation never silently guesses.
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Contexts {
    inputs: BTreeMap<String, String>,
    github: BTreeMap<String, String>,
    steps: BTreeMap<String, Vec<(String, String)>>,
}

fn eval(expr: &str, cx: &Contexts) -> Result<String, String> {
    let expr = expr.trim();
    if let Some(name) = expr.strip_prefix("inputs.") {
        return cx.inputs.get(name).cloned().ok_or(format!("unknown input `{name}`"));
    }
    if let Some(name) = expr.strip_prefix("github.") {
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("unsupported expression `{expr}`"));
        }
        return Ok(cx.github.get(name).cloned().unwrap_or_default());
    }
    if let Some(inner) = expr.strip_prefix("toJSON(").and_then(|e| e.strip_suffix(')')) {
        let id = inner.trim().strip_prefix("steps.").and_then(|e| e.strip_suffix(".outputs"));
        let id = id.ok_or(format!("unsupported expression `{expr}`"))?;
        let outputs = cx.steps.get(id).cloned().unwrap_or_default();
        let map: serde_json::Map<String, Json> = outputs.into_iter().map(|(k, v)| (k, Json::String(v))).collect();
        return Ok(serde_json::to_string_pretty(&Json::Object(map)).unwrap());
    }
    if let Some(rest) = expr.strip_prefix("steps.")
        && let Some((id, name)) = rest.split_once(".outputs.")
    {
        let outputs = cx.steps.get(id).map(Vec::as_slice).unwrap_or_default();
        return Ok(outputs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default());
    }
    Err(format!("unsupported expression `{expr}`"))
}

/// `${{ expr }}` inside a value, replaced by its value.
fn interpolate(text: &str, cx: &Contexts) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").ok_or(format!("unclosed expression in {text:?}"))?;
        out.push_str(&eval(&rest[start + 3..start + end], cx)?);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// An `if:` of the forms `EXPR != 'literal'` / `EXPR == 'literal'` (optionally inside
/// `${{ }}`). The runner compares strings case-insensitively; a step's `if:` is
/// implicitly `success() && ...`, which run_action handles.
fn condition(cond: &str, cx: &Contexts) -> Result<bool, String> {
    let c = cond.trim();
    let c = c.strip_prefix("${{").and_then(|c| c.strip_suffix("}}")).unwrap_or(c).trim();
    let (lhs, rhs, equal) = if let Some((l, r)) = c.split_once("!=") {
        (l, r, false)
    } else if let Some((l, r)) = c.split_once("==") {
        (l, r, true)
    } else {
        return Err(format!("unsupported if: `{cond}`"));
    };
    let rhs = rhs.trim();
    let literal = rhs
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .ok_or(format!("unsupported if: `{cond}` (compare with a 'literal')"))?
        .replace("''", "'");
    let value = eval(lhs, cx)?;
    Ok((value.to_lowercase() == literal.to_lowercase()) == equal)
}

// ---------------------------------------------------------------------------------------
// The lint
// ---------------------------------------------------------------------------------------

/// Everything in `action` that breaks the action's rules or that the emulation would not
/// run faithfully.
fn lint(action: &Action) -> Vec<String> {
    let mut problems = Vec::new();
    if action.using != "composite" {
        problems.push(format!("runs.using is `{}`, not composite", action.using));
    }
    // Every input that exists, with a placeholder value; github.* and steps.* allowed.
    let cx = Contexts {
        inputs: action.inputs.iter().map(|i| (i.name.clone(), String::new())).collect(),
        ..Default::default()
    };
    for s in &action.steps {
        let at = format!("step `{}`", s.id);
        if let Some(uses) = &s.uses {
            problems.push(format!("{at}: `uses: {uses}` is not emulated"));
        }
        match &s.run {
            None => problems.push(format!("{at}: no run:")),
            Some(run) if run.contains("${{") => problems.push(format!(
                "{at}: run: contains `${{{{`: inputs must reach scripts through env:, never script text"
            )),
            Some(_) => {}
        }
        if s.shell.as_deref() != Some("bash") {
            problems.push(format!("{at}: shell must be bash (Git Bash on Windows), not {:?}", s.shell));
        }
        for (k, v) in &s.env {
            if let Err(e) = interpolate(v, &cx) {
                problems.push(format!("{at}: env {k}: {e}"));
            }
        }
        if let Some(c) = &s.cond
            && let Err(e) = condition(c, &cx)
        {
            problems.push(format!("{at}: if: {e}"));
        }
    }
    for i in &action.inputs {
        let needle = format!("inputs.{}", i.name);
        let used = action.steps.iter().any(|s| {
            s.env.iter().any(|(_, v)| v.contains(&needle)) || s.cond.as_deref().is_some_and(|c| c.contains(&needle))
        });
        if !used {
            problems.push(format!("input `{}` reaches no step", i.name));
        }
    }
    for (name, value) in &action.outputs {
        if let Err(e) = interpolate(value, &cx) {
            problems.push(format!("output {name}: {e}"));
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------------------

const STEP_TIMEOUT: Duration = Duration::from_secs(900);

struct Runner {
    _dir: tempfile::TempDir,
    workspace: PathBuf,
    temp: PathBuf,
    tool_cache: PathBuf,
    /// The job's environment: the machine's, the runner's, and what steps added through
    /// GITHUB_ENV.
    env: BTreeMap<String, String>,
    /// Directories added through GITHUB_PATH, the newest first.
    path_prefix: Vec<String>,
    github: BTreeMap<String, String>,
    steps_run: usize,
}

#[derive(Debug)]
struct StepRun {
    id: String,
    /// None: skipped.
    code: Option<i32>,
    stdout: String,
    stderr: String,
    env_file: String,
    output_file: String,
    path_file: String,
}

impl StepRun {
    fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

struct ActionRun {
    steps: Vec<StepRun>,
    failed: bool,
    outputs: BTreeMap<String, String>,
}

impl ActionRun {
    fn step(&self, id: &str) -> &StepRun {
        self.steps.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("no step {id}"))
    }

    /// Everything the steps printed, for leak checks.
    fn all_output(&self) -> String {
        self.steps.iter().map(|s| format!("{}{}", s.stdout, s.stderr)).collect()
    }

    fn explain(&self) -> String {
        self.steps
            .iter()
            .map(|s| format!("--- step {} exit {:?}\nstdout:\n{}\nstderr:\n{}\n", s.id, s.code, s.stdout, s.stderr))
            .collect()
    }
}

/// The runner's names for this machine.
fn runner_os_arch() -> (&'static str, &'static str) {
    let os = if cfg!(target_os = "macos") { "macOS" } else { "Linux" };
    let arch = if cfg!(target_arch = "aarch64") { "ARM64" } else { "X64" };
    (os, arch)
}

pub(crate) fn escort_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("escort")
}

impl Runner {
    fn new() -> Runner {
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().join("work");
        let temp = dir.path().join("_temp");
        let tool_cache = dir.path().join("_tool");
        for d in [&workspace, &temp, &tool_cache] {
            std::fs::create_dir_all(d).unwrap();
        }
        // The machine's environment, less anything that would configure escort or
        // pretend to be a runner.
        let mut env: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| {
                !(["ESC_", "PULUMI_", "GITHUB_", "RUNNER_", "ESCORT_", "FLY_", "INPUT_", "CARGO_"]
                    .iter()
                    .any(|p| k.starts_with(p))
                    || k == "GH_TOKEN"
                    || k == "CI")
            })
            .collect();
        let (os, arch) = runner_os_arch();
        let s = |p: &Path| p.to_str().unwrap().to_string();
        for (k, v) in [
            ("CI", "true".to_string()),
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_WORKSPACE", s(&workspace)),
            ("GITHUB_ACTION_PATH", s(&common::repo())),
            ("RUNNER_OS", os.to_string()),
            ("RUNNER_ARCH", arch.to_string()),
            ("RUNNER_TEMP", s(&temp)),
            ("RUNNER_TOOL_CACHE", s(&tool_cache)),
        ] {
            env.insert(k.to_string(), v);
        }
        Runner {
            _dir: dir,
            workspace,
            temp,
            tool_cache,
            env,
            path_prefix: Vec::new(),
            github: BTreeMap::new(),
            steps_run: 0,
        }
    }

    fn set_env(&mut self, k: &str, v: &str) {
        self.env.insert(k.to_string(), v.to_string());
    }

    /// The tool-cache directory install.sh looks in for `version`.
    fn cache_dir(&self, version: &str) -> PathBuf {
        self.tool_cache.join("escort").join(version).join(runner_os_arch().1.to_lowercase())
    }

    /// Put the escort this test suite built where install.sh finds it for `version`.
    fn seed_cache(&self, version: &str) -> PathBuf {
        let dir = self.cache_dir(version);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(escort_bin(), dir.join("escort")).unwrap();
        dir
    }

    /// Run the action with `given` inputs (the rest take their defaults).
    fn run_action(&mut self, action: &Action, given: &[(&str, &str)]) -> ActionRun {
        let mut cx = Contexts { github: self.github.clone(), ..Default::default() };
        for i in &action.inputs {
            cx.inputs.insert(i.name.clone(), i.default.clone());
        }
        for (k, v) in given {
            // The runner warns about an unexpected input; here it is a broken test.
            assert!(cx.inputs.contains_key(*k), "the action has no input `{k}`");
            cx.inputs.insert(k.to_string(), v.to_string());
        }
        let mut steps = Vec::new();
        let mut failed = false;
        for step in &action.steps {
            let wanted = !failed && step.cond.as_ref().is_none_or(|c| condition(c, &cx).unwrap());
            if !wanted {
                steps.push(StepRun {
                    id: step.id.clone(),
                    code: None,
                    stdout: String::new(),
                    stderr: String::new(),
                    env_file: String::new(),
                    output_file: String::new(),
                    path_file: String::new(),
                });
                continue;
            }
            let run = self.run_step(step, &cx);
            failed |= !run.ok();
            cx.steps.insert(run.id.clone(), common::github_env::parse(&run.output_file).unwrap());
            steps.push(run);
        }
        let outputs = action.outputs.iter().map(|(k, v)| (k.clone(), interpolate(v, &cx).unwrap())).collect();
        ActionRun { steps, failed, outputs }
    }

    fn run_step(&mut self, step: &Step, cx: &Contexts) -> StepRun {
        self.steps_run += 1;
        let n = self.steps_run;
        let files = self.temp.join("_runner_file_commands");
        std::fs::create_dir_all(&files).unwrap();
        let env_file = files.join(format!("set_env_{n}"));
        let output_file = files.join(format!("set_output_{n}"));
        let path_file = files.join(format!("add_path_{n}"));
        let summary_file = files.join(format!("step_summary_{n}"));
        for f in [&env_file, &output_file, &path_file, &summary_file] {
            std::fs::write(f, "").unwrap();
        }
        let script = self.temp.join(format!("step-{n}.sh"));
        std::fs::write(&script, step.run.as_deref().unwrap()).unwrap();

        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"]).arg(&script);
        cmd.current_dir(&self.workspace).env_clear().envs(&self.env);
        let mut path: Vec<String> = self.path_prefix.clone();
        path.extend(self.env.get("PATH").cloned());
        cmd.env("PATH", path.join(":"));
        for (k, f) in [
            ("GITHUB_ENV", &env_file),
            ("GITHUB_OUTPUT", &output_file),
            ("GITHUB_PATH", &path_file),
            ("GITHUB_STEP_SUMMARY", &summary_file),
        ] {
            cmd.env(k, f);
        }
        // What the runner does with `env:`: each expression evaluated into a value.
        for (k, v) in &step.env {
            cmd.env(k, interpolate(v, cx).unwrap());
        }
        let (code, stdout, stderr) = run_with_timeout(cmd, STEP_TIMEOUT);

        let run = StepRun {
            id: step.id.clone(),
            code: Some(code),
            stdout,
            stderr,
            env_file: common::read(&env_file),
            output_file: common::read(&output_file),
            path_file: common::read(&path_file),
        };
        // File commands, applied for the steps that follow.
        let env = common::github_env::parse(&run.env_file).unwrap_or_else(|e| panic!("GITHUB_ENV of {}: {e}", step.id));
        self.env.extend(env);
        for line in run.path_file.lines().filter(|l| !l.is_empty()) {
            self.path_prefix.insert(0, line.to_string());
        }
        run
    }
}

/// Run to completion, or kill the whole process group after `limit`.
fn run_with_timeout(mut cmd: Command, limit: Duration) -> (i32, String, String) {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    let mut child = cmd.spawn().expect("bash runs");
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            r.read_to_end(&mut buf).unwrap();
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = reader(Box::new(child.stdout.take().unwrap()));
    let err = reader(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            // SAFETY: signals the process group this test created.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            panic!("step still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code().unwrap_or(-1), out.join().unwrap(), err.join().unwrap())
}

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

const TOKEN: &str = "tok-action-7f3a9c";
const ENV: &str = "acme/app/dev";
const DATABASE_URL: &str = "postgres://app:p%40ss%word@db.internal:5432/app";
const API_KEY: &str = "sk-live-a1b2c3d4e5f6g7h8i9j0";
const MULTI: &str = "-----BEGIN KEY-----\r\nMIIB line two\nEOF\n::warning::not a command\n-----END KEY-----";

/// The action's inputs, as docs/action.md documents them.
const INPUTS: [&str; 17] = [
    "environment",
    "token",
    "keys",
    "mask",
    "export-environment-variables",
    "outputs",
    "manifest",
    "strict",
    "version",
    "cloud-url",
    "oidc-auth",
    "oidc-organization",
    "oidc-requested-token-type",
    "oidc-scope",
    "oidc-token-expiration",
    "oidc-expiration",
    "fallback",
];

fn action() -> Action {
    parse_action(&common::read(&common::repo().join("action.yml"))).unwrap()
}

const ID_TOKEN: &str = "jwt-action-id-token-5d1e";
const REQUEST_TOKEN: &str = "req-action-runtime-93ab";

fn fake_esc() -> Fake {
    Fake::esc(&json!({
        "token": TOKEN,
        "default_org": "acme",
        "oidc": {"subject_token": ID_TOKEN, "access_token": TOKEN, "orgs": ["acme"]},
        "actions": {"request_token": REQUEST_TOKEN, "id_token": ID_TOKEN},
        "environments": {
            ENV: {"values": {"environmentVariables": {
                "DATABASE_URL": {"fn::secret": DATABASE_URL},
                "API_KEY": {"fn::secret": API_KEY},
                "MULTI": {"fn::secret": MULTI},
                "LOG_LEVEL": "debug",
                "PORT": 8080,
            }}}
        }
    }))
}

/// A runner with the fake's URL in the job's environment, and escort in the tool cache as
/// release `release` (exact: v1.0.0), vouched for by the checksums the action is given.
fn runner_for(fake: &Fake, release: &str) -> Runner {
    let mut r = Runner::new();
    r.seed_cache(release);
    let sha = sha256_hex(&escort_bytes());
    let sums = write_checksums(&r, &[(&format!("{release}/escort-{}", release_target()), &sha)]);
    r.set_env("ESCORT_CHECKSUMS", sums.to_str().unwrap());
    r.set_env("ESC_API_URL", &fake.url);
    r
}

fn parse_env(text: &str) -> Vec<(String, String)> {
    common::github_env::parse(text).unwrap()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

/// The runner's escaping of a workflow command's data.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// All `::add-mask::` lines come first on stdout; returns the masked texts (unescaped).
fn masks_first(stdout: &str) -> Vec<String> {
    let lines: Vec<&str> = stdout.lines().collect();
    let first_other = lines.iter().position(|l| !l.starts_with("::add-mask::")).unwrap_or(lines.len());
    assert!(
        lines[first_other..].iter().all(|l| !l.starts_with("::add-mask::")),
        "a mask came after other output:\n{stdout}"
    );
    lines[..first_other]
        .iter()
        .map(|l| l["::add-mask::".len()..].replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%"))
        .collect()
}

/// No secret appears in anything the steps printed, outside the mask commands.
fn assert_no_leak(run: &ActionRun, secrets: &[&str]) {
    let shown: String =
        run.all_output().lines().filter(|l| !l.starts_with("::add-mask::")).map(|l| format!("{l}\n")).collect();
    let parts: Vec<&str> = secrets.iter().flat_map(|s| s.split(['\n', '\r'])).filter(|p| p.len() >= 8).collect();
    common::assert_absent(shown.as_bytes(), &parts, "the steps' output");
}

/// The one directory the install step put on PATH: fresh, the job's own (under
/// RUNNER_TEMP, never the tool cache), holding only the verified binary.
fn job_bin_dir(r: &Runner, run: &ActionRun) -> PathBuf {
    let install = run.step("install");
    let lines: Vec<&str> = install.path_file.lines().collect();
    assert_eq!(lines.len(), 1, "one PATH entry: {}", run.explain());
    let dir = PathBuf::from(lines[0]);
    assert!(dir.starts_with(&r.temp) && !dir.starts_with(&r.tool_cache), "{}", dir.display());
    assert!(dir.file_name().unwrap().to_string_lossy().starts_with("escort-bin."), "{}", dir.display());
    let entries: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(entries, ["escort"], "only the binary in {}", dir.display());
    dir
}

fn escort_has_check() -> bool {
    Command::new(escort_bin()).args(["check", "--help"]).output().is_ok_and(|o| o.status.success())
}

// ---------------------------------------------------------------------------------------
// The lint, on the real action and on bad ones
// ---------------------------------------------------------------------------------------

#[test]
fn action_yml_passes_the_lint_and_declares_the_spec_inputs() {
    let action = action();
    let problems = lint(&action);
    assert!(problems.is_empty(), "action.yml: {problems:#?}");

    // Every default is empty: the scripts apply the documented ones, after falling back to
    // ESC_ACTION_<NAME> as pulumi/esc-action does.
    let want = INPUTS;
    for name in want {
        let input = action.inputs.iter().find(|i| i.name == name).unwrap_or_else(|| panic!("no input {name}"));
        assert_eq!(input.default, "", "default of {name}");
    }
    // lib.sh's list of the inputs read from ESC_ACTION_<NAME>: all but `version`.
    let lib = common::read(&common::repo().join("scripts/action/lib.sh"));
    let list = lib.split("INPUT_NAMES=\"").nth(1).and_then(|l| l.split('"').next()).expect("INPUT_NAMES in lib.sh");
    let mut listed: Vec<String> = list.split_whitespace().map(String::from).collect();
    let mut inputs: Vec<String> =
        want.iter().filter(|n| **n != "version").map(|n| n.to_uppercase().replace('-', "_")).collect();
    listed.sort();
    inputs.sort();
    assert_eq!(listed, inputs);
    assert_eq!(action.inputs.len(), want.len(), "inputs: {:?}", action.inputs);
    let outputs: Vec<&str> = action.outputs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(outputs, ["values", "path", "version"]);
    let ids: Vec<&str> = action.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["install", "login", "load", "check"]);
    // The scripts the steps call exist.
    for s in &action.steps {
        let run = s.run.as_deref().unwrap();
        let script =
            run.split('"').find(|p| p.starts_with("$GITHUB_ACTION_PATH/")).expect("runs a script of the action");
        assert!(common::repo().join(&script["$GITHUB_ACTION_PATH/".len()..]).is_file(), "{script}");
    }
}

#[test]
fn the_lint_rejects_expressions_in_scripts_and_unknown_forms() {
    let bad = |yaml: &str| lint(&parse_action(yaml).unwrap());
    let head = "name: x\ninputs:\n  x:\n    default: ''\nruns:\n  using: composite\n  steps:\n";

    let injected = bad(&format!(
        "{head}    - shell: bash\n      env:\n        X: ${{{{ inputs.x }}}}\n      run: echo ${{{{ inputs.x }}}}\n"
    ));
    assert!(injected.iter().any(|p| p.contains("run: contains `${{`")), "{injected:?}");

    let github = bad(&format!(
        "{head}    - shell: bash\n      env:\n        X: ${{{{ inputs.x }}}}\n      run: |\n        echo ok\n        echo \"${{{{github.event.pull_request.title}}}}\"\n"
    ));
    assert!(github.iter().any(|p| p.contains("run: contains")), "{github:?}");

    let shell =
        bad(&format!("{head}    - shell: pwsh\n      env:\n        X: ${{{{ inputs.x }}}}\n      run: echo $env:X\n"));
    assert!(shell.iter().any(|p| p.contains("shell must be bash")), "{shell:?}");

    let unknown =
        bad(&format!("{head}    - shell: bash\n      env:\n        X: ${{{{ inputs.y }}}}\n      run: echo \"$X\"\n"));
    assert!(unknown.iter().any(|p| p.contains("unknown input `y`")), "{unknown:?}");
    assert!(unknown.iter().any(|p| p.contains("input `x` reaches no step")), "{unknown:?}");

    let cond = bad(&format!(
        "{head}    - shell: bash\n      if: contains(inputs.x, 'a')\n      env:\n        X: ${{{{ inputs.x }}}}\n      run: echo \"$X\"\n"
    ));
    assert!(cond.iter().any(|p| p.contains("unsupported if")), "{cond:?}");

    let good =
        bad(&format!("{head}    - shell: bash\n      env:\n        X: ${{{{ inputs.x }}}}\n      run: echo \"$X\"\n"));
    assert!(good.is_empty(), "{good:?}");
}

/// The emulation itself passes an input to a script as a value: the same step with the
/// expression pasted into `run:` (what the lint forbids) does execute the payload.
#[test]
fn the_emulation_shows_why_the_lint_matters() {
    let canary = tempfile::tempdir().unwrap();
    let pwned = canary.path().join("pwned");
    let payload = format!("$(touch {})", pwned.display());
    let yaml = "name: x\ninputs:\n  x:\n    default: ''\nruns:\n  using: composite\n  steps:\n    \
        - id: safe\n      shell: bash\n      env:\n        X: ${{ inputs.x }}\n      run: printf '%s' \"$X\"\n";
    let safe = parse_action(yaml).unwrap();
    let run = Runner::new().run_action(&safe, &[("x", &payload)]);
    assert!(!run.failed, "{}", run.explain());
    assert_eq!(run.step("safe").stdout, payload);
    assert!(!pwned.exists());

    // The unsafe form, run by hand: the runner would paste the value into the script.
    let mut unsafe_step = safe;
    unsafe_step.steps[0].run = Some(format!("echo {payload}"));
    let run = Runner::new().run_action(&unsafe_step, &[]);
    assert!(!run.failed, "{}", run.explain());
    assert!(pwned.exists(), "pasted into script text, the payload runs");
}

// ---------------------------------------------------------------------------------------
// The action, run
// ---------------------------------------------------------------------------------------

#[test]
fn loads_into_github_env_with_masks_first() {
    let esc = fake_esc();
    let mut r = runner_for(&esc, "v1.2.3");
    r.github.insert("action_ref".into(), "v1.2.3".into());
    let run = r.run_action(&action(), &[("environment", ENV), ("token", TOKEN)]);
    assert!(!run.failed, "{}", run.explain());

    // Install: the tool cache hit, copied to a directory of the job's own on PATH.
    let install = run.step("install");
    assert!(install.stderr.contains("from the tool cache"), "{}", install.stderr);
    let job_dir = job_bin_dir(&r, &run);
    assert_eq!(run.outputs["path"], job_dir.join("escort").display().to_string());
    assert_eq!(run.outputs["version"], "v1.2.3");
    assert_eq!(r.path_prefix, [job_dir.display().to_string()]);

    // Load: exact values in GITHUB_ENV, masks first (the token's too).
    let load = run.step("load");
    let want = pairs(&[
        ("API_KEY", API_KEY),
        ("DATABASE_URL", DATABASE_URL),
        ("LOG_LEVEL", "debug"),
        ("MULTI", MULTI),
        ("PORT", "8080"),
    ]);
    assert_eq!(sorted(parse_env(&load.env_file)), want);
    for (k, v) in &want {
        assert_eq!(r.env.get(k), Some(v), "{k} in the job's environment");
    }
    let masks = masks_first(&load.stdout);
    assert_eq!(masks.first().map(String::as_str), Some(TOKEN), "the token is masked first:\n{}", load.stdout);
    for m in [API_KEY, DATABASE_URL, MULTI, "MIIB line two", "::warning::not a command", "-----END KEY-----"] {
        assert!(masks.iter().any(|x| x == m), "{m:?} not masked:\n{}", load.stdout);
    }
    assert!(!masks.iter().any(|x| x == "debug" || x == "8080"), "plain values masked with mask=secrets");
    assert!(load.stdout.contains(&format!("::add-mask::{}", escape_data(MULTI))));
    assert_no_leak(&run, &[API_KEY, DATABASE_URL, MULTI, TOKEN]);

    // No manifest: no check (the step does nothing). `values` without asking, as
    // esc-action's users read their variables: `fromJSON(steps.esc.outputs.values).FOO`.
    let check = run.step("check");
    assert_eq!((check.code, check.stdout.as_str(), check.stderr.as_str()), (Some(0), "", ""));
    let values: Json = serde_json::from_str(&run.outputs["values"]).unwrap();
    assert_eq!(values["API_KEY"], API_KEY);
    assert_eq!(values["MULTI"], MULTI);
    assert_eq!(values["PORT"], "8080");
    // `outputs: false`: `{}`.
    let run = r.run_action(&action(), &[("environment", ENV), ("token", TOKEN), ("outputs", "false")]);
    assert!(!run.failed, "{}", run.explain());
    assert_eq!(run.step("load").output_file, "");
    assert_eq!(serde_json::from_str::<Json>(&run.outputs["values"]).unwrap(), json!({}));

    // The request used the token and the environment it was given.
    let reqs = esc.requests();
    assert!(reqs.iter().any(|q| q.to_string().contains("/environments/acme/app/dev/open")), "{reqs:?}");
}

#[test]
fn environment_and_token_default_to_the_jobs_esc_env_and_esc_token() {
    let esc = fake_esc();
    let mut r = runner_for(&esc, "v1.0.0");
    r.set_env("ESC_ENV", ENV);
    r.set_env("ESC_TOKEN", TOKEN);
    let run = r.run_action(&action(), &[("version", "v1")]);
    assert!(!run.failed, "{}", run.explain());
    let load = run.step("load");
    assert_eq!(parse_env(&load.env_file).len(), 5);
    assert_eq!(masks_first(&load.stdout).first().map(String::as_str), Some(TOKEN), "the inherited token is masked too");
}

#[test]
fn keys_mask_all_outputs_and_no_export() {
    let esc = fake_esc();
    let mut r = runner_for(&esc, "v1.0.0");
    let run = r.run_action(
        &action(),
        &[
            ("environment", ENV),
            ("token", TOKEN),
            ("version", "v1"),
            ("keys", "API_KEY\nHTTP_PORT=PORT"),
            ("mask", "all"),
            ("outputs", "true"),
            ("export-environment-variables", "false"),
        ],
    );
    assert!(!run.failed, "{}", run.explain());
    let load = run.step("load");
    assert_eq!(load.env_file, "", "export-environment-variables: false");
    assert!(!r.env.contains_key("API_KEY"));
    let want = pairs(&[("API_KEY", API_KEY), ("HTTP_PORT", "8080")]);
    assert_eq!(sorted(parse_env(&load.output_file)), want);
    let masks = masks_first(&load.stdout);
    assert!(masks.iter().any(|m| m == "8080"), "mask=all masks plain values: {masks:?}");
    assert!(!masks.iter().any(|m| m == DATABASE_URL), "only the selected keys: {masks:?}");

    // What the calling workflow reads: fromJSON(steps.ID.outputs.values).NAME
    let values: Json = serde_json::from_str(&run.outputs["values"]).unwrap();
    assert_eq!(values, json!({"API_KEY": API_KEY, "HTTP_PORT": "8080"}));
}

#[test]
fn a_bad_token_fails_the_step_and_exports_nothing() {
    let esc = fake_esc();
    let mut r = runner_for(&esc, "v1.0.0");
    let before = r.env.clone();
    let run = r.run_action(
        &action(),
        &[("environment", ENV), ("token", "tok-wrong-123456"), ("version", "v1"), ("manifest", "escort.toml")],
    );
    assert!(run.failed);
    let load = run.step("load");
    assert_eq!(load.code, Some(3), "{}", run.explain());
    assert_eq!(load.env_file, "");
    assert_eq!(load.output_file, "");
    assert_eq!(run.step("check").code, None, "a failed load skips the check");
    assert_eq!(r.env, before, "nothing reached the job's environment");
    assert_eq!(masks_first(&load.stdout), ["tok-wrong-123456"]);
    assert_no_leak(&run, &["tok-wrong-123456"]);
}

#[test]
fn a_bad_input_fails_with_a_clear_error() {
    let esc = fake_esc();
    let mut r = runner_for(&esc, "v1.0.0");
    let run = r.run_action(&action(), &[("environment", ENV), ("token", TOKEN), ("version", "v1"), ("outputs", "yes")]);
    let load = run.step("load");
    assert_eq!(load.code, Some(2), "{}", run.explain());
    assert!(load.stderr.contains("::error::escort action: input `outputs` must be true or false"), "{}", load.stderr);
    assert_eq!(load.env_file, "");

    let run = r.run_action(&action(), &[("environment", ENV), ("token", TOKEN), ("version", "v1"), ("mask", "some")]);
    assert_eq!(run.step("load").code, Some(2), "{}", run.explain());
}

/// Every input, given a value full of shell metacharacters: passed literally, never run.
#[test]
fn inputs_with_shell_metacharacters_are_passed_literally() {
    let esc = fake_esc();
    let canaries = tempfile::tempdir().unwrap();
    let canary = |n: &str| canaries.path().join(format!("pwned-{n}"));
    let payload = |n: &str| {
        let c = canary(n);
        let c = c.display();
        format!(
            "A,$(touch {c}-a),`touch {c}-b`,B;touch {c}-c\n'; touch {c}-d; '\"; touch {c}-e; \"|| touch {c}-f &&${{IFS}}x"
        )
    };
    for input in INPUTS {
        let p = payload(input);
        let mut given = vec![("environment", ENV), ("token", TOKEN), ("version", "v1")];
        given.retain(|(k, _)| *k != input);
        if input == "strict" {
            given.push(("manifest", "escort.toml"));
        }
        if input.starts_with("oidc-") {
            // A `token` wins over OIDC: without one, the load step logs in.
            given.retain(|(k, _)| *k != "token");
            if input != "oidc-organization" {
                given.push(("oidc-organization", "acme"));
            }
        }
        given.push((input, &p));
        let mut r = runner_for(&esc, "v1.0.0");
        let run = r.run_action(&action(), &given);
        for suffix in ["a", "b", "c", "d", "e", "f"] {
            let c = format!("{}-{suffix}", canary(input).display());
            assert!(!Path::new(&c).exists(), "input {input}: the payload ran ({c})\n{}", run.explain());
        }
        let all = run.all_output();
        match input {
            "version" => {
                assert_eq!(run.step("install").code, Some(2), "{}", run.explain());
                assert!(
                    run.step("install").stderr.contains("::error::escort action: a version or ref of more than 128")
                );
            }
            "keys" => {
                // escort got the list as it was and names the keys it does not have.
                let load = run.step("load");
                assert_eq!(load.code, Some(2), "{}", run.explain());
                assert!(load.stderr.contains("$(touch") && load.stderr.contains("`touch"), "{}", load.stderr);
            }
            "token" => {
                assert_eq!(run.step("load").code, Some(3), "{}", run.explain());
                // Masked as given, then line by line.
                let lines: Vec<String> = p.lines().map(String::from).collect();
                assert_eq!(masks_first(&run.step("load").stdout), [vec![p.clone()], lines].concat());
            }
            "environment" => {
                // Not a valid reference, or one ESC does not have.
                assert!(matches!(run.step("load").code, Some(2 | 3)), "{}", run.explain());
            }
            i if i.starts_with("oidc-") => {
                // No ID token in this job: the login (in the load step, with an environment)
                // stops before the value matters; a bad `oidc-auth` stops the login step.
                let failed = run.steps.iter().find(|s| s.code.is_some_and(|c| c != 0)).expect("a step failed");
                assert!(matches!(failed.id.as_str(), "login" | "load"), "{}", run.explain());
                assert_eq!(failed.code, Some(2), "{}", run.explain());
            }
            "fallback" => {
                // escort got the list as it was and refuses its first entry, no source.
                assert_eq!(run.step("load").code, Some(2), "{}", run.explain());
                assert!(run.step("load").stderr.contains("unknown source `A`"), "{}", run.explain());
            }
            "manifest" => {
                assert!(run.step("load").ok(), "{}", run.explain());
                assert!(run.step("check").code.is_some_and(|c| c != 0), "{}", run.explain());
            }
            "export-environment-variables" => {
                // esc-action's mapping: names the environment lacks are warnings, shown as given.
                assert!(run.step("load").ok(), "{}", run.explain());
                assert!(run.step("load").stderr.contains("::warning::"), "{}", run.explain());
                assert!(all.contains("$(touch"), "{input}: the value is shown as it was:\n{all}");
            }
            _ => {
                assert!(run.failed, "{input}: {}", run.explain());
                assert!(all.contains("$(touch"), "{input}: the value is shown as it was:\n{all}");
            }
        }
    }

    // A shorter version payload: not an escort release, so a clear error; nothing built.
    let c = canary("short");
    let p = format!("v1$(touch {c}-a)`touch {c}-b`;touch {c}-c", c = c.display());
    let mut r = runner_for(&esc, "v1.0.0");
    let builds = fake_cargo(&mut r);
    let run = r.run_action(&action(), &[("environment", ENV), ("token", TOKEN), ("version", &p)]);
    assert_eq!(run.step("install").code, Some(2), "{}", run.explain());
    assert!(run.step("install").stderr.contains("is not an escort release"), "{}", run.explain());
    assert_eq!(common::read(&builds).lines().count(), 0, "nothing built");
    for suffix in ["a", "b", "c"] {
        assert!(!Path::new(&format!("{}-{suffix}", c.display())).exists(), "version: the payload ran");
    }
}

/// The smoke check after loading (needs `escort check`).
#[test]
fn manifest_runs_the_check_after_loading() {
    if !escort_has_check() {
        panic!("escort check is not there yet");
    }
    let esc = fake_esc();
    let mut r = runner_for(&esc, "v1.0.0");
    std::fs::write(
        r.workspace.join("escort.toml"),
        "sources = [\"esc\", \"env\"]\n[secrets.API_KEY]\nprefix = \"sk-\"\n[secrets.LOG_LEVEL]\nsecret = false\n",
    )
    .unwrap();
    std::fs::write(r.workspace.join("missing.toml"), "sources = [\"esc\", \"env\"]\n[secrets.NOT_THERE]\n").unwrap();
    let base = [("environment", ENV), ("token", TOKEN), ("version", "v1")];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        base.iter().chain(extra).copied().collect()
    };

    let run = r.run_action(&action(), &with(&[("manifest", "escort.toml")]));
    assert!(!run.failed, "{}", run.explain());
    assert_eq!(run.step("check").code, Some(0));
    assert_no_leak(&run, &[API_KEY, DATABASE_URL, MULTI, TOKEN]);

    let run = r.run_action(&action(), &with(&[("manifest", "missing.toml")]));
    assert!(run.failed);
    assert_eq!(run.step("check").code, Some(1), "{}", run.explain());
    assert!(run.step("check").stdout.contains("NOT_THERE") || run.step("check").stderr.contains("NOT_THERE"));

    // One open per run: the check reads what the load exported, so ESC refusing after
    // the load changes nothing, even when strict.
    let opens = || {
        let is_open = |q: &Json| q["method"] == "POST" && q["path"].as_str().is_some_and(|p| p.ends_with("/open"));
        esc.requests().iter().filter(|q| is_open(q)).count()
    };
    let refuse_after_load = json!([
        {"op": "open", "status": null, "times": 1},
        {"op": "open", "status": 401, "times": -1}
    ]);
    esc.set_faults(refuse_after_load.clone());
    let before = opens();
    let run = r.run_action(&action(), &with(&[("manifest", "escort.toml"), ("strict", "true")]));
    assert!(!run.failed, "{}", run.explain());
    assert_eq!(opens(), before + 1, "one open per run");

    // Not exported: the check opens ESC itself (the manifest's sources), and strict fails
    // when ESC refuses then.
    esc.set_faults(refuse_after_load);
    let run = r.run_action(
        &action(),
        &with(&[("manifest", "escort.toml"), ("strict", "true"), ("export-environment-variables", "false")]),
    );
    assert!(run.failed);
    assert_eq!(run.step("check").code, Some(3), "strict: {}", run.explain());
}

/// No release to install: install.sh builds the action's checkout with `cargo install`
/// (debug profile, this suite's target dir: the compiled dependencies are reused) into
/// RUNNER_TEMP, for this job only.
#[test]
fn installs_with_cargo_when_the_tool_cache_is_empty() {
    let esc = fake_esc();
    // A target directory of its own (kept between runs, so rebuilds are incremental):
    // building into the suite's would rewrite the binary the other tests are running.
    let target_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("action-cargo-install");
    let mut r = Runner::new();
    r.set_env("ESC_API_URL", &esc.url);
    r.set_env("ESCORT_INSTALL_PROFILE", "debug");
    r.set_env("CARGO_TARGET_DIR", target_dir.to_str().unwrap());
    // Everything it needs is in cargo's cache already: no index update.
    r.set_env("CARGO_NET_OFFLINE", "true");
    let given = [("environment", ENV), ("token", TOKEN), ("keys", "LOG_LEVEL")];
    let run = r.run_action(&action(), &given);
    assert!(!run.failed, "{}", run.explain());
    let version = run.outputs["version"].clone();
    assert!(version.starts_with("local-") && version.len() == "local-".len() + 16, "{version}");
    let dir = r.cache_dir(&version);
    assert!(!dir.exists(), "a build from source is not kept in the shared tool cache");
    job_bin_dir(&r, &run);
    let install = run.step("install");
    assert!(install.stdout.contains("takes 2 to 5 minutes"), "says how long: {}", run.explain());
    assert!(install.stderr.contains("built in "), "{}", run.explain());
    assert_eq!(parse_env(&run.step("load").env_file), pairs(&[("LOG_LEVEL", "debug")]));

    // A later job on the same runner (same tool cache): built again, since nothing
    // could vouch for a build kept in the shared cache (f03).
    let mut again = Runner::new();
    again.set_env("ESC_API_URL", &esc.url);
    again.set_env("RUNNER_TOOL_CACHE", r.tool_cache.to_str().unwrap());
    let builds = fake_cargo(&mut again);
    let run = again.run_action(&action(), &given);
    assert!(!run.failed, "{}", run.explain());
    assert!(!run.step("install").stderr.contains("from the tool cache"), "{}", run.explain());
    assert_eq!(common::read(&builds).lines().count(), 1);
    assert_eq!(run.outputs["version"], version);

    // A version that is no release the action lists: a clear error, not a build of the
    // action's own checkout under another version's name.
    let run = again.run_action(&action(), &[("version", "v9.9.9"), ("environment", ENV), ("token", TOKEN)]);
    assert_eq!(run.step("install").code, Some(2), "{}", run.explain());
    assert!(run.step("install").stderr.contains("`version: v9.9.9` is not an escort release"), "{}", run.explain());
    assert_eq!(run.step("load").code, None);
    assert_eq!(common::read(&builds).lines().count(), 1);
}

/// A runner whose job may ask the fake for an ID token (`permissions: id-token: write`).
fn oidc_runner(esc: &Fake) -> Runner {
    let mut r = runner_for(esc, "v1.0.0");
    r.set_env("ACTIONS_ID_TOKEN_REQUEST_URL", &format!("{}/_actions/idtoken?api-version=2.0", esc.url));
    r.set_env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN);
    r
}

/// OIDC: the login step exchanges the job's ID token, and the load step uses the
/// access token it exported, with no `token` input at all.
#[test]
fn oidc_login_needs_no_stored_token() {
    let esc = fake_esc();
    let mut r = oidc_runner(&esc);
    let run = r.run_action(
        &action(),
        &[("environment", ENV), ("version", "v1"), ("oidc-organization", "acme"), ("oidc-expiration", "600")],
    );
    assert!(!run.failed, "{}", run.explain());
    // With an environment, the load step logs in itself: the token, masked first, stays
    // in the action's steps; no later step of the job sees it.
    let login = run.step("login");
    assert_eq!((login.env_file.as_str(), login.code), ("", Some(0)), "{}", run.explain());
    let load = run.step("load");
    assert_eq!(masks_first(&load.stdout).first().map(String::as_str), Some(TOKEN), "{}", run.explain());
    let exported = parse_env(&load.env_file);
    assert!(exported.iter().any(|(k, v)| k == "API_KEY" && v == API_KEY), "{exported:?}");
    assert!(!r.env.contains_key("ESC_TOKEN"), "the job's later steps get no ESC_TOKEN");
    assert!(!r.env.values().any(|v| v == TOKEN), "no later step sees the token");
    for s in &run.steps {
        assert!(!s.env_file.contains(TOKEN) && !s.output_file.contains(TOKEN), "step {}", s.id);
    }
    assert!(!run.all_output().contains(ID_TOKEN), "the ID token is never shown");
    assert_no_leak(&run, &[TOKEN, API_KEY]);

    // The check, when it opens ESC itself (nothing exported), logs in the same way.
    std::fs::write(r.workspace.join("escort.toml"), "[secrets.API_KEY]\nprefix = \"sk-\"\n").unwrap();
    let run = r.run_action(
        &action(),
        &[
            ("environment", ENV),
            ("version", "v1"),
            ("oidc-organization", "acme"),
            ("manifest", "escort.toml"),
            ("export-environment-variables", "false"),
        ],
    );
    assert!(!run.failed, "{}", run.explain());
    assert!(run.step("check").stdout.contains("API_KEY"), "{}", run.explain());
    assert!(!r.env.contains_key("ESC_TOKEN"), "the job's later steps get no ESC_TOKEN");

    // Without the id-token permission the step fails and says why.
    let mut r = runner_for(&esc, "v1.0.0");
    let run = r.run_action(&action(), &[("environment", ENV), ("version", "v1"), ("oidc-organization", "acme")]);
    assert_eq!(run.step("load").code, Some(2), "{}", run.explain());
    assert!(run.step("load").stderr.contains("id-token: write"), "{}", run.explain());
}

/// No environment at all (the drift workflow `escort init` writes): the action installs
/// escort and logs in, loads nothing, and a later step runs escort with the token.
#[test]
fn without_an_environment_it_installs_and_logs_in_only() {
    let esc = fake_esc();
    let mut r = oidc_runner(&esc);
    let run = r.run_action(&action(), &[("version", "v1"), ("oidc-organization", "acme")]);
    assert!(!run.failed, "{}", run.explain());
    // Install-and-login mode: exported for the later `escort` steps, masked first.
    let login = run.step("login");
    assert_eq!(parse_env(&login.env_file), pairs(&[("ESC_TOKEN", TOKEN)]));
    assert_eq!(masks_first(&login.stdout).first().map(String::as_str), Some(TOKEN), "{}", run.explain());
    assert_no_leak(&run, &[TOKEN]);
    let load = run.step("load");
    assert!(load.stdout.contains("nothing was loaded") && load.env_file.is_empty(), "{}", run.explain());
    assert!(!esc.requests().iter().any(|r| r["path"].as_str().unwrap_or("").contains("/open")), "ESC never opened");
}

// ---------------------------------------------------------------------------------------
// The prebuilt download (install.sh, install_prebuilt), against a file server on loopback
// ---------------------------------------------------------------------------------------

/// A static file server on 127.0.0.1 (Python's http.server) serving a temporary
/// directory, which logs each request it answers as `GET /path 200`; stopped on drop.
pub(crate) struct FileServer {
    child: std::process::Child,
    // Held open: the server exits when its stdin closes, even if the test is killed.
    _stdin: std::process::ChildStdin,
    pub(crate) url: String,
    root: tempfile::TempDir,
    log: PathBuf,
}

const FILE_SERVER: &str = r#"
import functools, http.server, sys, threading
root, log = sys.argv[1], sys.argv[2]
class Handler(http.server.SimpleHTTPRequestHandler):
    def log_request(self, code="-", size="-"):
        with open(log, "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path, getattr(code, "value", code)))
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
threading.Thread(target=server.serve_forever, daemon=True).start()
print("READY http://127.0.0.1:%d" % server.server_address[1], flush=True)
sys.stdin.read()
"#;

impl FileServer {
    pub(crate) fn start() -> FileServer {
        use std::io::BufRead;
        let root = tempfile::tempdir().unwrap();
        let log = root.path().join(".requests");
        std::fs::write(&log, "").unwrap();
        let mut child = Command::new("python3")
            .args(["-c", FILE_SERVER])
            .arg(root.path())
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the file server");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("READY ").unwrap_or_else(|| panic!("file server said {line:?}")).to_string();
        FileServer { child, _stdin: stdin, url, root, log }
    }

    /// Serve `bytes` at `path` (relative to the root).
    pub(crate) fn put(&self, path: &str, bytes: &[u8]) {
        let file = self.root.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }

    /// The requests answered so far: `GET /path STATUS`.
    pub(crate) fn requests(&self) -> Vec<String> {
        common::read(&self.log).lines().map(String::from).collect()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The release asset's target for this machine, as install.sh's release_target names it.
fn release_target() -> &'static str {
    match runner_os_arch() {
        ("Linux", "X64") => "x86_64-unknown-linux-musl",
        ("Linux", "ARM64") => "aarch64-unknown-linux-musl",
        ("macOS", "X64") => "x86_64-apple-darwin",
        ("macOS", "ARM64") => "aarch64-apple-darwin",
        other => panic!("no release target for {other:?}"),
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let tool = if Command::new("sha256sum").arg("--version").output().is_ok() {
        vec!["sha256sum"]
    } else {
        vec!["shasum", "-a", "256"]
    };
    let mut child =
        Command::new(tool[0]).args(&tool[1..]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let bytes = bytes.to_vec();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &bytes).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}

/// The escort this suite built, read once (a build running meanwhile cannot change it
/// between serving it and checking its hash).
fn escort_bytes() -> Vec<u8> {
    std::fs::read(escort_bin()).unwrap()
}

/// The action with only its install step.
fn install_only() -> Action {
    let mut a = action();
    a.steps.retain(|s| s.id == "install");
    a
}

/// A checksums file for the test, in the format of the action's checksums.txt (comment
/// lines, other releases, other targets, a CRLF line), with `entries` (key, sha256).
fn write_checksums(r: &Runner, entries: &[(&str, &str)]) -> PathBuf {
    let mut text = String::from("# SHA-256 checksums of escort's release assets\n#\n");
    text.push_str(&format!("{}  v0.1.0/escort-{}\n", "0".repeat(64), release_target()));
    text.push_str(&format!("{}  v1.2.3/escort-x86_64-pc-windows-msvc.exe\r\n", "1".repeat(64)));
    for (key, sha) in entries {
        text.push_str(&format!("{sha}  {key}\n"));
    }
    let path = r._dir.path().join("checksums.txt");
    std::fs::write(&path, text).unwrap();
    path
}

/// An executable script at `path`.
pub(crate) fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A `cargo` running `script`, first on this runner's PATH.
fn put_cargo(r: &mut Runner, dir: &str, script: &str) {
    let bin = r._dir.path().join(dir);
    std::fs::create_dir_all(&bin).unwrap();
    write_executable(&bin.join("cargo"), script);
    let path = format!("{}:{}", bin.display(), r.env.get("PATH").cloned().unwrap_or_default());
    r.set_env("PATH", &path);
}

/// Make `cargo` fail loudly on this runner: a step that falls back to building shows it.
fn forbid_cargo(r: &mut Runner) {
    put_cargo(r, "no-cargo", "#!/bin/sh\necho 'escort test: cargo must not run here' >&2\nexit 97\n");
}

/// A `cargo` on this runner whose `cargo install --root DIR` puts the escort this suite
/// built at DIR/bin/escort in an instant; returns the file where each call adds a line.
fn fake_cargo(r: &mut Runner) -> PathBuf {
    let log = r._dir.path().join("cargo-calls");
    std::fs::write(&log, "").unwrap();
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> '{log}'\nwhile [ \"$1\" != --root ]; do shift; done\n\
         mkdir -p \"$2/bin\" && cp '{escort}' \"$2/bin/escort\"\n",
        log = log.display(),
        escort = escort_bin().display()
    );
    put_cargo(r, "fake-cargo", &script);
    log
}

/// Leftovers of a download in RUNNER_TEMP.
fn download_leftovers(r: &Runner) -> Vec<PathBuf> {
    std::fs::read_dir(&r.temp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("escort-download-"))
        .collect()
}

/// The default download location, <server_url>/<action_repository>/releases/download:
/// a good checksum installs the asset into the tool cache, and the next run finds it there.
#[test]
fn downloads_the_release_asset_verifies_it_and_caches_it() {
    let server = FileServer::start();
    let escort = escort_bytes();
    let sha = sha256_hex(&escort);
    let asset = format!("escort-{}", release_target());
    server.put(&format!("acme/escort/releases/download/v1.2.3/{asset}"), &escort);

    let mut r = Runner::new();
    forbid_cargo(&mut r);
    let sums = write_checksums(&r, &[(&format!("v1.2.3/{asset}"), &sha)]);
    r.set_env("ESCORT_CHECKSUMS", sums.to_str().unwrap());
    // `uses: acme/escort@v1.2.3` on a server at this URL.
    r.github.insert("action_ref".into(), "v1.2.3".into());
    r.github.insert("action_repository".into(), "acme/escort".into());
    r.github.insert("server_url".into(), server.url.clone());

    let run = r.run_action(&install_only(), &[]);
    assert!(!run.failed, "{}", run.explain());
    let install = run.step("install");
    assert!(install.stderr.contains(&format!("SHA-256 {sha} verified")), "{}", run.explain());
    assert!(!install.stdout.contains("::warning::"), "{}", run.explain());
    assert_eq!(server.requests(), [format!("GET /acme/escort/releases/download/v1.2.3/{asset} 200")]);
    let dir = r.cache_dir("v1.2.3");
    assert_eq!(
        sha256_hex(&std::fs::read(dir.join("escort")).unwrap()),
        sha,
        "the downloaded binary, in the tool cache"
    );
    assert!(dir.with_extension("complete").is_file());
    assert_eq!(run.outputs["version"], "v1.2.3");
    let job_dir = job_bin_dir(&r, &run);
    assert_eq!(run.outputs["path"], job_dir.join("escort").display().to_string());
    assert_eq!(sha256_hex(&std::fs::read(job_dir.join("escort")).unwrap()), sha, "the copy on PATH is verified");
    assert_eq!(download_leftovers(&r), Vec::<PathBuf>::new());

    // The next job on this runner: from the tool cache, no request.
    let run = r.run_action(&install_only(), &[]);
    assert!(!run.failed, "{}", run.explain());
    assert!(run.step("install").stderr.contains("escort v1.2.3 from the tool cache"), "{}", run.explain());
    assert_eq!(server.requests().len(), 1, "{:?}", server.requests());
}

/// An asset that is not the one recorded in checksums.txt fails the step: nothing
/// installed, nothing run, no fallback to building.
#[test]
fn a_download_with_the_wrong_checksum_fails_closed() {
    let server = FileServer::start();
    let canary = tempfile::tempdir().unwrap();
    let ran = canary.path().join("tampered-binary-ran");
    let asset = format!("escort-{}", release_target());
    // A replaced asset: a script that would leave a trace if it were ever run.
    let tampered = format!("#!/bin/sh\ntouch '{}'\necho 'escort 9.9.9'\n", ran.display());
    server.put(&format!("mirror/v1.2.3/{asset}"), tampered.as_bytes());
    let good = sha256_hex(&escort_bytes());
    let bad = sha256_hex(tampered.as_bytes());

    let mut r = Runner::new();
    forbid_cargo(&mut r);
    let sums = write_checksums(&r, &[(&format!("v1.2.3/{asset}"), &good)]);
    r.set_env("ESCORT_CHECKSUMS", sums.to_str().unwrap());
    r.set_env("ESCORT_DOWNLOAD_BASE", &format!("{}/mirror/", server.url));
    let run = r.run_action(&action(), &[("version", "v1.2.3"), ("environment", ENV), ("token", TOKEN)]);
    assert!(run.failed);
    let install = run.step("install");
    assert_eq!(install.code, Some(3), "{}", run.explain());
    assert!(install.stderr.contains("::error::escort action: checksum mismatch"), "{}", run.explain());
    assert!(install.stderr.contains(&good) && install.stderr.contains(&bad), "names both hashes: {}", install.stderr);
    assert!(!install.stderr.contains("building") && !install.stderr.contains("cargo"), "{}", run.explain());
    assert_eq!(run.step("load").code, None, "the job's later steps do not run");
    assert!(!ran.exists(), "the tampered download was run");
    assert!(!r.tool_cache.join("escort").exists(), "nothing in the tool cache");
    assert_eq!(download_leftovers(&r), Vec::<PathBuf>::new(), "the download is removed");
    assert_eq!((install.path_file.as_str(), install.output_file.as_str()), ("", ""));
    assert_eq!(server.requests(), [format!("GET /mirror/v1.2.3/{asset} 200")], "fetched once, no retry");
}

/// No such asset on the server (404, after curl's retries): a warning, and the build of
/// the action's own checkout, as when there is no release at all.
#[test]
fn a_missing_asset_falls_back_to_building() {
    let server = FileServer::start();
    let asset = format!("escort-{}", release_target());
    let mut r = Runner::new();
    let sums = write_checksums(&r, &[(&format!("v1.2.3/{asset}"), &"a".repeat(64))]);
    r.set_env("ESCORT_CHECKSUMS", sums.to_str().unwrap());
    r.set_env("ESCORT_DOWNLOAD_BASE", &server.url);
    // The build itself is a real `cargo install` in installs_with_cargo_when_the_tool_cache_is_empty.
    let builds = fake_cargo(&mut r);
    let run = r.run_action(&install_only(), &[("version", "v1.2.3")]);
    assert!(!run.failed, "{}", run.explain());
    let install = run.step("install");
    assert!(
        install.stdout.contains(&format!("::warning::escort action: could not download {}/v1.2.3/{asset}", server.url)),
        "{}",
        run.explain()
    );
    assert!(install.stderr.contains("building escort from"), "{}", run.explain());
    assert_eq!(common::read(&builds).lines().count(), 1);
    let requests = server.requests();
    assert!(!requests.is_empty() && requests.iter().all(|q| *q == format!("GET /v1.2.3/{asset} 404")), "{requests:?}");
    assert!(run.outputs["version"].starts_with("local-"), "{}", run.outputs["version"]);
    assert!(!r.tool_cache.join("escort").exists(), "a build from source is not kept in the shared cache");
    assert_eq!(download_leftovers(&r), Vec::<PathBuf>::new());
}

/// Only release tags with a line in checksums.txt are downloaded: the action used at a
/// branch, a commit that is no release, or from a local path, and a release with no known
/// download location, build the action's own checkout without a request, and each says so
/// in a `::warning::` with the reason and how long a build takes.
#[test]
fn no_download_without_a_release_tag_a_checksum_and_a_location() {
    let server = FileServer::start();
    let escort = escort_bytes();
    let sha = sha256_hex(&escort);
    let asset = format!("escort-{}", release_target());
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let refs = ["main", commit, "local-0123456789abcdef", "v1.2.3"];
    let mut entries = Vec::new();
    for v in refs {
        server.put(&format!("{v}/{asset}"), &escort);
        entries.push((format!("{v}/{asset}"), sha.clone()));
    }
    let entries: Vec<(&str, &str)> = entries.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    let mut r = Runner::new();
    let builds = fake_cargo(&mut r);
    let sums = write_checksums(&r, &entries);
    let base = [("ESCORT_DOWNLOAD_BASE", server.url.clone()), ("ESCORT_CHECKSUMS", sums.display().to_string())];
    // (the action's ref, the `version` input, the job's download settings, the reason)
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, String)], String);
    let cases: [Case; 4] = [
        ("main", "", &base, "main is not a release tag".into()),
        (commit, "", &base, format!("{commit} is not a release tag")),
        ("local-0123456789abcdef", "", &base, "local-0123456789abcdef is not a release tag".into()),
        // No ESCORT_DOWNLOAD_BASE, and no github.action_repository (a local action).
        ("feature-x", "v1.2.3", &base[1..], "the release v1.2.3 could not be downloaded".into()),
    ];
    for (action_ref, version, env, why) in cases {
        for k in ["ESCORT_DOWNLOAD_BASE", "ESCORT_CHECKSUMS"] {
            r.env.remove(k);
        }
        for (k, v) in env {
            r.set_env(k, v);
        }
        r.github.insert("action_ref".into(), action_ref.into());
        let given: &[(&str, &str)] = if version.is_empty() { &[] } else { &[("version", version)] };
        let run = r.run_action(&install_only(), given);
        assert!(!run.failed, "{action_ref}: {}", run.explain());
        let install = run.step("install");
        let wanted = if version.is_empty() { action_ref } else { version };
        let warning = install.stdout.lines().find(|l| l.starts_with("::warning::")).unwrap_or_default();
        assert!(warning.starts_with(&format!("::warning::escort action: no prebuilt escort {wanted}")), "{warning}");
        assert!(warning.contains(&why) && warning.contains("2 to 5 minutes"), "{warning}");
        assert!(install.stderr.contains("building escort from"), "{action_ref}: {}", run.explain());
        assert_eq!(run.outputs["version"], action_ref);
        assert_eq!(server.requests(), Vec::<String>::new(), "{action_ref}: no download");
    }
    assert_eq!(common::read(&builds).lines().count(), 4);
}

/// A local action (`uses: ./`, no github.action_repository) downloads from escort's home as
/// its Cargo.toml names it (`repository`, the one constant init and the Feature read too);
/// the placeholder `OWNER` names none.
#[test]
fn a_local_action_downloads_from_the_repository_in_cargo_toml() {
    let server = FileServer::start();
    let escort = escort_bytes();
    let asset = format!("escort-{}", release_target());
    server.put(&format!("acme/escort/releases/download/v1.2.3/{asset}"), &escort);
    let mut r = Runner::new();
    forbid_cargo(&mut r);
    let sums = write_checksums(&r, &[(&format!("v1.2.3/{asset}"), &sha256_hex(&escort))]);
    r.set_env("ESCORT_CHECKSUMS", sums.to_str().unwrap());
    // The action's checkout: its scripts, and a Cargo.toml naming the server as its home.
    let checkout = r._dir.path().join("action");
    std::fs::create_dir_all(&checkout).unwrap();
    std::os::unix::fs::symlink(common::repo().join("scripts"), checkout.join("scripts")).unwrap();
    let cargo = common::read(&common::repo().join("Cargo.toml"));
    let home = cargo.lines().find(|l| l.starts_with("repository = ")).unwrap();
    let ours = format!("repository = \"{}/acme/escort\"", server.url);
    std::fs::write(checkout.join("Cargo.toml"), cargo.replace(home, &ours)).unwrap();
    r.set_env("GITHUB_ACTION_PATH", checkout.to_str().unwrap());
    let run = r.run_action(&install_only(), &[("version", "v1.2.3")]);
    assert!(!run.failed, "{}", run.explain());
    assert_eq!(server.requests(), [format!("GET /acme/escort/releases/download/v1.2.3/{asset} 200")]);
    assert_eq!(run.outputs["version"], "v1.2.3");

    // The placeholder: no download (the build, here forbidden, so the step fails).
    std::fs::write(checkout.join("Cargo.toml"), &cargo).unwrap();
    assert!(home.contains("/OWNER/"), "{home}");
    let mut r2 = Runner::new();
    forbid_cargo(&mut r2);
    r2.set_env("ESCORT_CHECKSUMS", sums.to_str().unwrap());
    r2.set_env("GITHUB_ACTION_PATH", checkout.to_str().unwrap());
    let run = r2.run_action(&install_only(), &[("version", "v1.2.3")]);
    assert!(run.step("install").stderr.contains("Cargo.toml names none"), "{}", run.explain());
    assert_eq!(server.requests().len(), 1);
}

/// pulumi/esc-action's `version` is the Pulumi CLI's (`3.x`, `3.5.0`): never an escort
/// release, so the step fails and says what to do, before any build or download. So does
/// a tag the action's checksums.txt does not list. A bare `1.2.3` is the release v1.2.3.
#[test]
fn a_version_that_is_no_escort_release_is_a_clear_error() {
    let server = FileServer::start();
    let escort = escort_bytes();
    let asset = format!("escort-{}", release_target());
    server.put(&format!("v1.2.3/{asset}"), &escort);
    let mut r = Runner::new();
    let builds = fake_cargo(&mut r);
    let sums = write_checksums(&r, &[(&format!("v1.2.3/{asset}"), &sha256_hex(&escort))]);
    r.set_env("ESCORT_CHECKSUMS", sums.to_str().unwrap());
    r.set_env("ESCORT_DOWNLOAD_BASE", &server.url);
    for version in ["3.x", "3.5.0", "v3", "v1.2.4", "latest"] {
        let run = r.run_action(&action(), &[("version", version), ("environment", ENV), ("token", TOKEN)]);
        let install = run.step("install");
        assert_eq!(install.code, Some(2), "{version}: {}", run.explain());
        let error = install.stderr.lines().find(|l| l.starts_with("::error::")).unwrap_or_default();
        assert!(error.contains(&format!("`version: {version}` is not an escort release")), "{error}");
        assert!(error.contains("the newest it lists is v1.2.3") && error.contains("Pulumi CLI"), "{error}");
        assert_eq!(run.step("load").code, None, "nothing else runs");
    }
    assert_eq!(common::read(&builds).lines().count(), 0, "nothing built");
    assert_eq!(server.requests(), Vec::<String>::new(), "nothing downloaded");

    let run = r.run_action(&install_only(), &[("version", "1.2.3")]);
    assert!(!run.failed, "{}", run.explain());
    assert_eq!(run.outputs["version"], "v1.2.3");
}

/// The SHA-256 of the sources as the release workflow records it (`<hash>  <tag>/sources`),
/// computed here on its own: Cargo.toml, Cargo.lock, build.rs, then src/ in byte order,
/// each as its path, a newline and its bytes.
pub(crate) fn sources_hash(root: &Path) -> String {
    fn files(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(&p, root, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_str().unwrap().to_string());
            }
        }
    }
    let mut names: Vec<String> = ["Cargo.toml", "Cargo.lock", "build.rs"]
        .iter()
        .filter(|f| root.join(f).is_file())
        .map(|f| f.to_string())
        .collect();
    let mut src = Vec::new();
    files(&root.join("src"), root, &mut src);
    src.sort();
    names.extend(src);
    let mut bytes = Vec::new();
    for n in names {
        bytes.extend_from_slice(n.as_bytes());
        bytes.push(b'\n');
        bytes.extend(std::fs::read(root.join(&n)).unwrap());
    }
    sha256_hex(&bytes)
}

/// `uses: OWNER/escort@<commit SHA>` (zizmor's advice) of a tagged release: its checkout
/// has that release's sources, so the action installs the release's verified binary; the
/// SHA of any other commit is built, with the warning.
#[test]
fn a_commit_sha_of_a_release_installs_that_release() {
    let server = FileServer::start();
    let escort = escort_bytes();
    let sha = sha256_hex(&escort);
    let asset = format!("escort-{}", release_target());
    server.put(&format!("v1.2.3/{asset}"), &escort);
    let mut r = Runner::new();
    forbid_cargo(&mut r);
    let here = sources_hash(&common::repo());
    let sums = write_checksums(&r, &[(&format!("v1.2.3/{asset}"), &sha), ("v1.2.3/sources", &here)]);
    r.set_env("ESCORT_CHECKSUMS", sums.to_str().unwrap());
    r.set_env("ESCORT_DOWNLOAD_BASE", &server.url);
    r.github.insert("action_ref".into(), "0123456789abcdef0123456789abcdef01234567".into());
    let run = r.run_action(&install_only(), &[]);
    assert!(!run.failed, "{}", run.explain());
    let install = run.step("install");
    assert!(install.stderr.contains("has exactly the sources of release v1.2.3"), "{}", run.explain());
    assert!(install.stderr.contains(&format!("SHA-256 {sha} verified")), "{}", run.explain());
    assert!(!install.stdout.contains("::warning::"), "{}", run.explain());
    assert_eq!(run.outputs["version"], "v1.2.3");

    // Another commit's sources: no such line, so the build (here a fake cargo) and the warning.
    let mut r = Runner::new();
    let builds = fake_cargo(&mut r);
    let sums = write_checksums(&r, &[(&format!("v1.2.3/{asset}"), &sha), ("v1.2.3/sources", &sha)]);
    r.set_env("ESCORT_CHECKSUMS", sums.to_str().unwrap());
    r.set_env("ESCORT_DOWNLOAD_BASE", &server.url);
    r.github.insert("action_ref".into(), "0123456789abcdef0123456789abcdef01234567".into());
    let run = r.run_action(&install_only(), &[]);
    assert!(!run.failed, "{}", run.explain());
    assert!(
        run.step("install").stdout.contains("::warning::escort action: no prebuilt escort 0123"),
        "{}",
        run.explain()
    );
    assert_eq!(common::read(&builds).lines().count(), 1);
    assert_eq!(server.requests().len(), 1, "only the first run downloaded");
}

/// N1: files planted beside a verified binary in the shared tool cache (`bash`, `tr`, `gh`:
/// the action's own scripts call `tr`) are never on PATH: the job's PATH gets a fresh
/// directory under RUNNER_TEMP holding only a copy of the binary, whose hash is checked.
#[test]
fn n01_only_a_fresh_job_directory_with_the_binary_goes_on_path() {
    let esc = fake_esc();
    let canary = tempfile::tempdir().unwrap();
    let ran = canary.path().join("planted-tool-ran");
    let mut r = runner_for(&esc, "v1.2.3");
    let cache = r.cache_dir("v1.2.3");
    for tool in ["bash", "tr", "gh", "sh"] {
        write_executable(
            &cache.join(tool),
            &format!("#!/bin/sh\necho \"$ESC_TOKEN\" >> '{}'\nexit 0\n", ran.display()),
        );
    }
    let run = r.run_action(&action(), &[("environment", ENV), ("token", TOKEN), ("version", "v1.2.3")]);
    assert!(!run.failed, "{}", run.explain());
    assert!(run.step("install").stderr.contains("from the tool cache"), "{}", run.explain());
    let dir = job_bin_dir(&r, &run);
    assert_eq!(r.path_prefix, [dir.display().to_string()]);
    assert_eq!(sha256_hex(&std::fs::read(dir.join("escort")).unwrap()), sha256_hex(&escort_bytes()));
    // A later step of the job, as the runner starts it: PATH finds no planted tool.
    let later = Step {
        id: "later".into(),
        cond: None,
        shell: Some("bash".into()),
        env: Vec::new(),
        run: Some("tr a b </dev/null; command -v gh || true; escort --version".into()),
        uses: None,
    };
    let step = r.run_step(&later, &Contexts::default());
    assert!(step.ok(), "{step:?}");
    assert!(!ran.exists(), "a planted tool ran: {}", common::read(&ran));

    // Two jobs: two directories of their own.
    let again = r.run_action(&install_only(), &[("version", "v1.2.3")]);
    assert_ne!(job_bin_dir(&r, &again), dir);
}

/// esc-action's mapping: a mapped variable the environment lacks is a `::warning::` (as in
/// esc-action) and the rest is exported; escort's own `keys` still fails on it.
#[test]
fn esc_action_mapping_warns_about_a_missing_key() {
    let esc = fake_esc();
    let mut r = runner_for(&esc, "v1.0.0");
    let base = [("environment", ENV), ("token", TOKEN), ("version", "v1")];
    let mut given = base.to_vec();
    given.push(("export-environment-variables", "API_KEY, NOT_IN_ESC, RENAMED=ALSO_MISSING"));
    let run = r.run_action(&action(), &given);
    assert!(!run.failed, "{}", run.explain());
    let load = run.step("load");
    assert_eq!(parse_env(&load.env_file), pairs(&[("API_KEY", API_KEY)]));
    // esc-action's users read outputs: `values` without `outputs: true`, the value masked.
    let values: Json = serde_json::from_str(&run.outputs["values"]).unwrap();
    assert_eq!(values, json!({"API_KEY": API_KEY}));
    assert!(masks_first(&load.stdout).iter().any(|m| m == API_KEY), "{}", load.stdout);
    let warnings: Vec<&str> = load.stderr.lines().filter(|l| l.starts_with("::warning::")).collect();
    assert_eq!(warnings.len(), 2, "{}", run.explain());
    assert!(warnings[0].contains("NOT_IN_ESC") && warnings[1].contains("ALSO_MISSING"), "{warnings:?}");
    masks_first(&load.stdout);
    assert_no_leak(&run, &[API_KEY, TOKEN]);

    let mut given = base.to_vec();
    given.push(("keys", "API_KEY, NOT_IN_ESC"));
    let run = r.run_action(&action(), &given);
    assert_eq!(run.step("load").code, Some(2), "{}", run.explain());
    assert!(run.step("load").stderr.contains("NOT_IN_ESC"), "{}", run.explain());
}

/// The action's checksums.txt: comments, and lines `<sha256>  <tag>/escort-<target>[.exe]`
/// (or `<tag>/sources`) that install.sh can use.
#[test]
fn checksums_txt_is_well_formed() {
    let text = common::read(&common::repo().join("checksums.txt"));
    assert!(text.starts_with('#'), "a header comment explains the file");
    let targets = [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc.exe",
    ];
    let mut seen = std::collections::BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')) {
        let (sha, key) = line.split_once("  ").unwrap_or_else(|| panic!("not `<sha256>  <key>`: {line:?}"));
        assert!(sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{line:?}");
        let (tag, file) = key.split_once('/').unwrap_or_else(|| panic!("no <tag>/ in {line:?}"));
        assert!(tag.starts_with('v') && !tag.contains(char::is_whitespace), "{line:?}");
        // `<tag>/sources`: the hash of the release's sources (a commit SHA pin resolves by it).
        assert!(
            file == "sources" || targets.iter().any(|t| file == format!("escort-{t}")),
            "unknown asset in {line:?}"
        );
        assert!(seen.insert(key.to_string()), "{key} listed twice");
    }
}

/// A binary that leaves a trace when run, and claims to be escort.
fn planted_binary(dir: &Path, ran: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    write_executable(&dir.join("escort"), &format!("#!/bin/sh\ntouch '{}'\necho 'escort 1.2.3'\n", ran.display()));
}

/// F3: the tool cache outlives jobs on a self-hosted runner and anyone's job may write it.
/// A binary planted there, under a release the action vouches for or under the ref of a
/// build from source, is never run (it would get ESC_TOKEN in the load step): the release
/// is downloaded and verified instead, the source is built again.
#[test]
fn f03_a_binary_planted_in_the_tool_cache_is_not_run() {
    let canary = tempfile::tempdir().unwrap();
    let ran = canary.path().join("planted-binary-ran");
    let esc = fake_esc();
    let server = FileServer::start();
    let escort = escort_bytes();
    let asset = format!("escort-{}", release_target());
    server.put(&format!("v1.2.3/{asset}"), &escort);

    let mut r = Runner::new();
    forbid_cargo(&mut r);
    r.set_env("ESC_API_URL", &esc.url);
    let sums = write_checksums(&r, &[(&format!("v1.2.3/{asset}"), &sha256_hex(&escort))]);
    r.set_env("ESCORT_CHECKSUMS", sums.to_str().unwrap());
    r.set_env("ESCORT_DOWNLOAD_BASE", &server.url);
    planted_binary(&r.cache_dir("v1.2.3"), &ran);
    let given = [("environment", ENV), ("token", TOKEN), ("version", "v1.2.3")];
    let run = r.run_action(&action(), &given);
    assert!(!run.failed, "{}", run.explain());
    assert!(!ran.exists(), "the planted binary ran:\n{}", run.explain());
    let install = run.step("install");
    assert!(install.stdout.contains("::warning::escort action: the tool cache's escort v1.2.3 is not the release"));
    assert_eq!(server.requests(), [format!("GET /v1.2.3/{asset} 200")]);
    assert_eq!(std::fs::read(r.cache_dir("v1.2.3").join("escort")).unwrap(), escort, "replaced by the release");
    assert!(run.step("load").ok());

    // A build from source (a branch ref) is never taken from the shared cache.
    let mut r = Runner::new();
    let builds = fake_cargo(&mut r);
    r.set_env("ESC_API_URL", &esc.url);
    r.github.insert("action_ref".into(), "main".into());
    planted_binary(&r.cache_dir("main"), &ran);
    let run = r.run_action(&action(), &[("environment", ENV), ("token", TOKEN)]);
    assert!(!run.failed, "{}", run.explain());
    assert!(!ran.exists(), "the planted binary ran:\n{}", run.explain());
    assert_eq!(common::read(&builds).lines().count(), 1, "built from source");
    assert_eq!(run.outputs["version"], "main");
}

/// A moving major tag (`uses: OWNER/escort@v1`, which the release workflow moves to each
/// release) installs the newest v1.x.y that the action's checksums.txt lists for this
/// runner, verified; never a v10, a pre-release or another runner's asset.
#[test]
fn a_moving_major_tag_installs_the_newest_verified_release_under_it() {
    let server = FileServer::start();
    let escort = escort_bytes();
    let sha = sha256_hex(&escort);
    let asset = format!("escort-{}", release_target());
    server.put(&format!("v1.10.2/{asset}"), &escort);
    let mut r = Runner::new();
    forbid_cargo(&mut r);
    let other = "x86_64-pc-windows-msvc.exe";
    let keys = [
        (format!("v1.2.0/{asset}"), "b".repeat(64)),
        (format!("v1.10.2/{asset}"), sha.clone()),
        (format!("v1.9.9/{asset}"), "c".repeat(64)),
        (format!("v1.11.0-rc.1/{asset}"), "d".repeat(64)),
        (format!("v10.0.0/{asset}"), "e".repeat(64)),
        (format!("v1.12.0/escort-{other}"), "f".repeat(64)),
    ];
    let entries: Vec<(&str, &str)> = keys.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let sums = write_checksums(&r, &entries);
    r.set_env("ESCORT_CHECKSUMS", sums.to_str().unwrap());
    r.set_env("ESCORT_DOWNLOAD_BASE", &server.url);
    r.github.insert("action_ref".into(), "v1".into());
    let run = r.run_action(&install_only(), &[]);
    assert!(!run.failed, "{}", run.explain());
    assert!(run.step("install").stderr.contains(&format!("SHA-256 {sha} verified")), "{}", run.explain());
    assert_eq!(run.outputs["version"], "v1.10.2");
    assert_eq!(server.requests(), [format!("GET /v1.10.2/{asset} 200")]);

    // v1.10 too; v2 has no release: the build (here forbidden, so the step fails).
    let run = r.run_action(&install_only(), &[("version", "v1.10")]);
    assert!(!run.failed && run.step("install").stderr.contains("from the tool cache"), "{}", run.explain());
    let run = r.run_action(&install_only(), &[("version", "v2")]);
    assert!(run.step("install").stderr.contains("no release under v2"), "{}", run.explain());
}

// ---------------------------------------------------------------------------------------
// pulumi/esc-action's inputs, as its README documents them
// ---------------------------------------------------------------------------------------

/// `export-environment-variables` as esc-action takes it: a boolean in any of YAML's
/// spellings, or a mapping list `FOO, BAR=BAZ` (commas and/or newlines) that selects and
/// renames what is exported; with `keys` too, the step says to pick one.
#[test]
fn esc_action_export_mapping_and_booleans() {
    let esc = fake_esc();
    let mut r = runner_for(&esc, "v1.0.0");
    let base = [("environment", ENV), ("token", TOKEN), ("version", "v1")];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        base.iter().chain(extra).copied().collect()
    };
    let run = r.run_action(&action(), &with(&[("export-environment-variables", "API_KEY, HTTP_PORT=PORT")]));
    assert!(!run.failed, "{}", run.explain());
    assert_eq!(sorted(parse_env(&run.step("load").env_file)), pairs(&[("API_KEY", API_KEY), ("HTTP_PORT", "8080")]));

    let run = r.run_action(&action(), &with(&[("export-environment-variables", "LEVEL=LOG_LEVEL\nPORT\n")]));
    assert!(!run.failed, "{}", run.explain());
    assert_eq!(sorted(parse_env(&run.step("load").env_file)), pairs(&[("LEVEL", "debug"), ("PORT", "8080")]));

    for (given, exported) in [("True", 5), ("TRUE", 5), ("False", 0), ("", 5)] {
        let run = r.run_action(&action(), &with(&[("export-environment-variables", given)]));
        assert!(!run.failed, "{given}: {}", run.explain());
        assert_eq!(parse_env(&run.step("load").env_file).len(), exported, "{given}");
    }

    let run = r.run_action(&action(), &with(&[("export-environment-variables", "API_KEY"), ("keys", "PORT")]));
    assert_eq!(run.step("load").code, Some(2), "{}", run.explain());
    assert!(run.step("load").stderr.contains("not both"), "{}", run.explain());
}

/// Every input also from ESC_ACTION_<NAME> in the job's environment, as esc-action reads
/// them (the input wins when both are given); `cloud-url` sets the API.
#[test]
fn esc_action_inputs_from_the_environment_and_cloud_url() {
    let esc = fake_esc();
    let mut r = runner_for(&esc, "v1.0.0");
    r.env.remove("ESC_API_URL");
    r.set_env("ESC_TOKEN", TOKEN);
    r.set_env("ESC_ACTION_ENVIRONMENT", ENV);
    r.set_env("ESC_ACTION_CLOUD_URL", &esc.url);
    r.set_env("ESC_ACTION_EXPORT_ENVIRONMENT_VARIABLES", "API_KEY");
    r.set_env("ESC_ACTION_MASK", "all");
    let run = r.run_action(&action(), &[("version", "v1")]);
    assert!(!run.failed, "{}", run.explain());
    let load = run.step("load");
    assert_eq!(parse_env(&load.env_file), pairs(&[("API_KEY", API_KEY)]));

    // The input wins over the variable.
    let run = r.run_action(&action(), &[("version", "v1"), ("export-environment-variables", "PORT")]);
    assert!(!run.failed, "{}", run.explain());
    assert_eq!(parse_env(&run.step("load").env_file), pairs(&[("PORT", "8080")]));
    assert!(masks_first(&run.step("load").stdout).iter().any(|m| m == "8080"), "ESC_ACTION_MASK=all");

    // The manifest too: the check runs on what was loaded.
    std::fs::write(r.workspace.join("escort.toml"), "sources = [\"esc\"]\n[secrets.API_KEY]\nprefix = \"sk-\"\n")
        .unwrap();
    r.set_env("ESC_ACTION_MANIFEST", "escort.toml");
    let run = r.run_action(&action(), &[("version", "v1")]);
    assert!(!run.failed, "{}", run.explain());
    assert!(!run.step("check").stdout.is_empty(), "the check ran: {}", run.explain());

    // A cloud-url input that is no URL: refused by name, nothing exported.
    let run = r.run_action(&action(), &[("version", "v1"), ("cloud-url", "ftp://example")]);
    assert_eq!(run.step("load").code, Some(2), "{}", run.explain());
    assert_eq!(run.step("load").env_file, "");
}

/// esc-action's OIDC inputs: `oidc-auth`, the `urn:pulumi:token-type:access_token:...`
/// token types and `oidc-token-expiration` (the former `oidc-expiration` still works;
/// both, differing, are refused).
#[test]
fn esc_action_oidc_inputs() {
    let esc = fake_esc();
    let oidc_runner = || {
        let mut r = runner_for(&esc, "v1.0.0");
        r.set_env("ACTIONS_ID_TOKEN_REQUEST_URL", &format!("{}/_actions/idtoken?api-version=2.0", esc.url));
        r.set_env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN);
        r
    };
    let base = [("environment", ENV), ("version", "v1"), ("oidc-organization", "acme")];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        base.iter().chain(extra).copied().collect()
    };
    let run = oidc_runner().run_action(
        &action(),
        &with(&[
            ("oidc-auth", "true"),
            ("oidc-requested-token-type", "urn:pulumi:token-type:access_token:organization"),
            ("oidc-token-expiration", "600"),
        ]),
    );
    assert!(!run.failed, "{}", run.explain());
    assert_eq!(run.step("login").env_file, "", "the load step logged in: the token stays in the action");
    assert!(parse_env(&run.step("load").env_file).iter().any(|(k, _)| k == "API_KEY"), "{}", run.explain());
    let exchange = esc.requests().into_iter().rev().find(|q| q.to_string().contains("oauth/token"));
    let exchange = exchange.expect("an OIDC exchange").to_string();
    assert!(exchange.contains("600"), "the expiration was sent: {exchange}");

    let run = oidc_runner().run_action(&action(), &with(&[("oidc-expiration", "600")]));
    assert!(!run.failed, "{}", run.explain());

    let run =
        oidc_runner().run_action(&action(), &with(&[("oidc-expiration", "600"), ("oidc-token-expiration", "900")]));
    assert_eq!(run.step("login").code, Some(2), "{}", run.explain());
    assert!(run.step("login").stderr.contains("differ"), "{}", run.explain());

    // oidc-auth: true without an organization; oidc-auth: false skips the login.
    let run = oidc_runner().run_action(&action(), &[("environment", ENV), ("version", "v1"), ("oidc-auth", "true")]);
    assert_eq!(run.step("login").code, Some(2), "{}", run.explain());
    assert!(run.step("login").stderr.contains("needs `oidc-organization`"), "{}", run.explain());
    let run = oidc_runner().run_action(&action(), &with(&[("oidc-auth", "false"), ("token", TOKEN)]));
    assert!(!run.failed, "{}", run.explain());
    assert_eq!(run.step("login").env_file, "", "no login");
}

/// The `fallback` input: ESC answering 503 makes the load step take the values from the
/// listed sources, with a `::warning::` and a step summary saying so; a refused token
/// (401) still fails the step.
#[test]
fn fallback_input_loads_the_backup_when_esc_is_down() {
    const BACKUP: &str = "sk-backup-canary-0c1d";
    let esc = fake_esc();
    esc.set_faults(json!([{"op": "open", "status": 503, "times": -1}]));
    let mut r = runner_for(&esc, "v1.0.0");
    r.set_env("ESCORT_RETRIES", "0");
    std::fs::write(r.workspace.join("backup.env"), format!("API_KEY={BACKUP}\nPORT=1\n")).unwrap();
    let inputs = [("environment", ENV), ("token", TOKEN), ("version", "v1"), ("fallback", "dotenv:backup.env\n")];
    let run = r.run_action(&action(), &inputs);
    assert!(!run.failed, "{}", run.explain());
    let load = run.step("load");
    assert_eq!(sorted(parse_env(&load.env_file)), pairs(&[("API_KEY", BACKUP), ("PORT", "1")]));
    assert!(masks_first(&load.stdout).iter().any(|m| m == BACKUP), "{}", load.stdout);
    let warning = load.stderr.lines().find(|l| l.starts_with("::warning::")).unwrap_or_default();
    assert!(
        warning.contains("503 Service Unavailable") && warning.contains("the fallback dotenv:backup.env"),
        "{warning}"
    );
    let summaries = std::fs::read_dir(r.temp.join("_runner_file_commands"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("step_summary_"))
        .map(|p| common::read(&p))
        .collect::<String>();
    assert!(
        summaries.contains("| dotenv:backup.env (fallback: esc:acme/app/dev could not be reached) | latest | 2 |"),
        "{summaries}"
    );
    assert_no_leak(&run, &[BACKUP, TOKEN]);

    // A refusal is no outage: the step fails, nothing exported.
    esc.set_faults(json!([]));
    let run = r.run_action(
        &action(),
        &[("environment", ENV), ("token", "tok-wrong-123456"), ("version", "v1"), ("fallback", "dotenv:backup.env")],
    );
    assert!(run.failed);
    assert_eq!(run.step("load").code, Some(3), "{}", run.explain());
    assert_eq!(run.step("load").env_file, "");
}
