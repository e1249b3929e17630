//! Step summaries (docs/load.md, "Step summaries"): inside a GitHub job, `load`,
//! `check`, `status` and `sync` append Markdown to `$GITHUB_STEP_SUMMARY`;
//! names, statuses and dates, never a value; outside a job, nothing.

use crate::common::run::Run;
use crate::common::{Fake, assert_absent};
use serde_json::json;
use std::path::Path;

const TOKEN: &str = "tok-summary-canary";
const CANARIES: [&str; 3] = ["summary-canary-one", "summary-canary-two", TOKEN];

/// `args` in `dir` inside a job whose summary file already holds a line
/// (appended to, never replaced); returns (exit code, the summary's text).
fn in_job(run: Run, dir: &Path, args: &[&str]) -> (i32, String) {
    let summary = dir.join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let out = run
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_ENV", dir.join("github-env"))
        .args(args)
        .output();
    // Masks are the one place a value may show: they hide it in the log.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let unmasked: Vec<&str> = stdout.lines().filter(|l| !l.starts_with("::add-mask::")).collect();
    assert_absent(unmasked.join("\n").as_bytes(), &CANARIES, &format!("{args:?}: stdout"));
    assert_absent(&out.stderr, &CANARIES, &format!("{args:?}: stderr"));
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.starts_with("earlier step\n"), "appended: {text}");
    assert_absent(text.as_bytes(), &CANARIES, &format!("{args:?}: summary"));
    (out.status.code().unwrap(), text["earlier step\n".len()..].to_string())
}

fn esc() -> Fake {
    Fake::esc(&json!({
        "token": TOKEN,
        "default_org": "acme",
        "environments": {"acme/app/dev": {"values": {"environmentVariables": {
            "API_KEY": {"fn::secret": "summary-canary-one"}, "PLAIN": "summary-canary-two"}}}},
    }))
}

#[test]
fn load_appends_the_environment_revision_and_names() {
    let fake = esc();
    let dir = tempfile::tempdir().unwrap();
    let (code, text) =
        in_job(Run::new_in(dir.path()).esc(&fake, TOKEN), dir.path(), &["load", "--env", "acme/app/dev"]);
    assert_eq!(code, 0);
    assert_eq!(
        text,
        "### escort load\n\n| Source | Revision | Variables |\n|---|---|---|\n| esc:acme/app/dev | latest | 2 |\n\n\
         2 variables: API\\_KEY, PLAIN\n\n"
    );
    let (_, text) = in_job(Run::new_in(dir.path()).esc(&fake, TOKEN), dir.path(), &["load", "--env", "acme/app/dev@1"]);
    assert!(text.contains("| esc:acme/app/dev@1 | 1 | 2 |"), "{text}");
}

#[test]
fn nothing_is_written_outside_a_job_or_without_a_summary_file() {
    let fake = esc();
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("step-summary.md");
    Run::new_in(dir.path())
        .esc(&fake, TOKEN)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["load", "--env", "acme/app/dev", "--format", "json"])
        .output();
    assert!(!summary.exists());
    let out = Run::new_in(dir.path())
        .esc(&fake, TOKEN)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_ENV", dir.path().join("github-env"))
        .args(["load", "--env", "acme/app/dev"])
        .output();
    assert!(out.status.success() && !summary.exists());
}

#[test]
fn check_appends_its_results_table() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = "sources = [\"dotenv:.env\"]\n[secrets.API_KEY]\n[secrets.MISSING_ONE]\n";
    let run = Run::new_in(dir.path()).file("escort.toml", manifest).file(".env", "API_KEY=summary-canary-one\n");
    let (code, text) = in_job(run, dir.path(), &["check"]);
    assert_eq!(code, 1);
    assert!(text.starts_with("### escort check: failed\n"), "{text}");
    assert!(text.contains("| dotenv:.env | ok | 1 variable |\n"), "{text}");
    assert!(text.contains("| API\\_KEY | ok | dotenv:.env |"), "{text}");
    assert!(text.contains("| MISSING\\_ONE | missing |  |  | not set in any source |\n"), "{text}");
}

#[test]
fn status_and_sync_append_the_matrix_and_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = "[sync.local]\nfrom = \"dotenv:src.env\"\nto = [\"dotenv:copy.env\"]\n";
    let files = |r: Run| r.file("escort.toml", manifest);
    std::fs::write(dir.path().join("src.env"), "API_KEY=summary-canary-one\nOTHER=summary-canary-two\n").unwrap();

    let (code, text) = in_job(files(Run::new_in(dir.path())), dir.path(), &["status"]);
    assert_eq!(code, 1);
    assert!(
        text.starts_with("### escort status\n\n| Route | Key | Target | Status | Source changed | Target updated |\n")
    );
    assert!(text.contains("| local | API\\_KEY | dotenv:copy.env | missing | "), "{text}");
    assert!(text.ends_with("2 missing\n\n"), "{text}");

    let (code, text) = in_job(files(Run::new_in(dir.path())), dir.path(), &["sync", "--yes"]);
    assert_eq!(code, 0);
    assert!(text.starts_with("### escort sync\n"), "{text}");
    assert!(text.contains("| local | OTHER | dotenv:copy.env | missing | "), "{text}");
    assert!(
        text.contains("#### Result\n\n| Target | Created | Updated | Pruned | Unchanged | Failed | Not written |\n")
    );
    assert!(text.contains(" | 2 | 0 | 0 | 0 | 0 |  |\n"), "{text}");

    let (code, text) = in_job(files(Run::new_in(dir.path())), dir.path(), &["status"]);
    assert_eq!(code, 0);
    assert!(text.ends_with("2 ok\n\n"), "{text}");
}

#[test]
fn sync_names_the_targets_it_could_not_reach() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = "[sync.r]\nfrom = \"dotenv:src.env\"\nto = [\"dotenv:copy.env\", \"github:acme/app\"]\n";
    std::fs::write(dir.path().join("src.env"), "API_KEY=summary-canary-one\n").unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let run = Run::new_in(dir.path())
        .file("escort.toml", manifest)
        .env("GITHUB_API_URL", &url)
        .env("GITHUB_TOKEN", TOKEN)
        .env("ESCORT_RETRIES", "0");
    let (code, text) = in_job(run, dir.path(), &["sync", "--yes"]);
    assert_eq!(code, 4, "the .env copy was written, GitHub not");
    assert!(text.contains("| r | API\\_KEY | dotenv:copy.env | missing |"), "{text}");
    assert!(text.contains("| 1 | 0 | 0 | 0 | 0 |  |\n"), "the .env copy's result: {text}");
    assert!(text.contains("\n- not written: github:acme/app: "), "{text}");
}
