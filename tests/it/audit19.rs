//! The findings of the second security audit (issue 19), one regression test
//! each, with canary values on every path they touch.

use crate::common::run::Run;
use crate::common::{Fake, assert_absent, esc_app_dev};
use crate::github_support::{self, TOKEN as GH_TOKEN, github, text, writes};
use serde_json::Value;

const ESC_TOKEN: &str = "tok-CANARY-audit19-7d1a";
const SECRET: &str = "CANARY-audit19-secret-5e9b";

/// escort in `dir` against the fakes; no canary (`needles`) on stdout or stderr.
/// Returns (exit code, stdout + stderr).
fn run_in(
    dir: &std::path::Path,
    esc: Option<&Fake>,
    gh: Option<&Fake>,
    args: &[&str],
    needles: &[&str],
) -> (i32, String) {
    let mut run = Run::new_in(dir).env("ESCORT_RETRIES", "0");
    if let Some(esc) = esc {
        run = run.esc(esc, ESC_TOKEN);
    }
    if let Some(gh) = gh {
        run = run.github(gh, GH_TOKEN);
    }
    let out = run.args(args).output();
    assert_absent(&out.stdout, needles, &format!("{args:?}: stdout"));
    assert_absent(&out.stderr, needles, &format!("{args:?}: stderr"));
    (out.status.code().unwrap_or(-1), format!("{}{}", text(&out.stdout), text(&out.stderr)))
}

#[test]
fn n05_a_one_off_sync_refuses_esc_secrets_for_a_variables_target() {
    let esc = Fake::esc(&esc_app_dev(ESC_TOKEN, [("API_KEY", SECRET)], true));
    let gh = github(&github_support::state());
    let dir = tempfile::tempdir().unwrap();
    let sync = ["sync", "--from", "esc:acme/app/dev", "--to", "github-vars:acme/app"];
    let (code, out) = run_in(dir.path(), Some(&esc), Some(&gh), &sync, &[SECRET, ESC_TOKEN, GH_TOKEN]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("API_KEY") && out.contains("--allow-secret-variables"),
        "names the key and the way out: {out}"
    );
    assert_eq!(writes(&gh), Vec::<Value>::new(), "nothing written");
    // Said explicitly, it is written.
    let allowed: Vec<&str> = sync.iter().copied().chain(["--allow-secret-variables"]).collect();
    let (code, out) = run_in(dir.path(), Some(&esc), Some(&gh), &allowed, &[SECRET, ESC_TOKEN, GH_TOKEN]);
    assert_eq!(code, 0, "{out}");
    let vars = gh.call("GET", "/_fake/variables", None);
    assert_eq!(vars["repos/acme/app/actions"]["API_KEY"]["value"], SECRET);
}
