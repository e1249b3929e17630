//! The `dotenv:PATH` target: what escort writes is read back value for value
//! by python-dotenv and by escort itself; existing files are merged, grouped
//! by the manifest, replaced atomically with mode 0600, and left untouched
//! when escort refuses them. Ends with a canary run over every path.

use crate::common;

use crate::common::{Fake, Untouched, escort, peer_python};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const ESC_TOKEN: &str = "tok-dotenv-target";
const HEADER: &str = "# Written by escort, which changes only the entries it sets: comments and layout stay.\n";

fn map(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// The fake ESC with `vars` as secrets of acme/app/dev.
fn esc(vars: &[(&str, String)]) -> Fake {
    Fake::esc(&common::esc_app_dev(ESC_TOKEN, vars.iter().map(|(k, v)| (*k, v.as_str())), true))
}

fn sync_from_esc(fake: &Fake, to: &Path) -> assert_cmd::assert::Assert {
    escort()
        .current_dir(to.parent().unwrap())
        .env("ESC_API_URL", &fake.url)
        .env("ESC_TOKEN", ESC_TOKEN)
        .env("ESC_ENV", "app/dev")
        .args(["sync", "--from", "esc", "--to", &format!("dotenv:{}", to.display())])
        .assert()
}

/// `sync --from env --keys ...` to `dotenv:PATH`, run in `dir`.
fn sync_env(dir: &Path, vars: &[(&str, &str)], to: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    let keys: Vec<&str> = vars.iter().map(|(k, _)| *k).collect();
    let mut cmd = escort();
    cmd.current_dir(dir).args(["sync", "--from", "env", "--keys", &keys.join(","), "--to", to]).args(extra);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.assert()
}

fn python_dotenv(path: &Path) -> BTreeMap<String, String> {
    let read = Command::new(peer_python())
        .args([
            "-c",
            "import json,sys; from dotenv import dotenv_values; print(json.dumps(dotenv_values(sys.argv[1])))",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
    serde_json::from_slice(&read.stdout).unwrap()
}

/// What escort itself reads from `path`: the values it sends from
/// `dotenv:PATH` to a fake Fly app, as the app stores them.
fn escort_reads(path: &Path) -> BTreeMap<String, String> {
    let fake = Fake::start("fly_server.py", &json!({"token": "t", "apps": {"app": {}}}));
    escort()
        .env("FLY_API_TOKEN", "t")
        .env("FLY_API_URL", &fake.url)
        .args(["sync", "--from", &format!("dotenv:{}", path.display()), "--to", "fly:app"])
        .assert()
        .success();
    match fake.call("GET", "/_fake/secrets/app", None) {
        Value::Object(m) => m.into_iter().map(|(k, v)| (k, v["value"].as_str().unwrap().to_string())).collect(),
        other => panic!("{other}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_hostile_corpus_is_read_back_by_python_dotenv_and_by_escort() {
    let fake = esc(&common::corpus::hostile());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.env");
    let out = sync_from_esc(&fake, &path).success();
    let stderr = text(&out.get_output().stderr);
    let warned: Vec<&str> =
        stderr.lines().filter_map(|l| l.strip_prefix("escort: warning: ")?.split(':').next()).collect();
    assert_eq!(warned, common::corpus::DOTENV_CAVEATS, "{stderr}");
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);

    let check = |want: &BTreeMap<String, String>| {
        let mut by_python = python_dotenv(&path);
        for name in common::corpus::DOTENV_CAVEATS {
            by_python.remove(*name);
        }
        let mut common_part = want.clone();
        common_part.retain(|k, _| !common::corpus::DOTENV_CAVEATS.contains(&k.as_str()));
        assert_eq!(by_python, common_part, "python-dotenv");
        assert_eq!(&escort_reads(&path), want, "escort");
    };
    let mut want = map(&common::corpus::hostile());
    check(&want);

    // A merge rewrites every kept value: each must still read back exactly.
    escort()
        .current_dir(dir.path())
        .args(["set", &format!("dotenv:{}", path.display()), "ADDED"])
        .write_stdin("it's new")
        .assert()
        .success();
    want.insert("ADDED".into(), "it's new".into());
    check(&want);

    // Every value changed: each entry is rewritten in place (multi-line ones
    // included) and reads back exactly; the entry escort did not set stays.
    let changed: Vec<(&str, String)> =
        common::corpus::hostile().into_iter().map(|(k, v)| (k, format!("{v}~2"))).collect();
    sync_from_esc(&esc(&changed), &path).success();
    want.extend(changed.iter().map(|(k, v)| (k.to_string(), v.clone())));
    check(&want);
    assert_eq!(python_dotenv(&path)["ADDED"], "it's new");
}

#[test]
fn an_existing_file_is_merged_and_prune_removes_what_the_source_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, "# a comment that stays\nexport KEEP='kept value'\n\nOLD=1\n").unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let vars = [("OLD", "2"), ("NEW", "it's 3")];

    let out = sync_env(dir.path(), &vars, "dotenv:.env", &[]).success();
    let (stdout, stderr) = (text(&out.get_output().stdout), text(&out.get_output().stderr));
    assert!(stdout.contains("OLD   update   ok") && stdout.contains("NEW   create   ok"), "{stdout}");
    assert!(stderr.contains("1 secret(s) in the dotenv file .env are not in env; --prune would delete them"));
    // Edited in place: the comment, the blank line and `export` stay; the new entry comes last.
    assert_eq!(common::read(&path), "# a comment that stays\nexport KEEP='kept value'\n\nOLD='2'\nNEW=\"it's 3\"\n");
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);

    let before = common::read(&path);
    let out = sync_env(dir.path(), &vars, "dotenv:.env", &["--dry-run", "--prune"]).success();
    // OLD and NEW hold the values being synced already: nothing to write for them.
    let plan = text(&out.get_output().stdout);
    assert!(plan.contains("prune     KEEP") && plan.contains("unchanged OLD"), "{plan}");
    assert_eq!(common::read(&path), before, "a dry run writes nothing");
    sync_env(dir.path(), &vars, "dotenv:.env", &["--prune"]).code(2); // nobody to confirm
    assert_eq!(common::read(&path), before);

    let out = sync_env(dir.path(), &vars, "dotenv:.env", &["--prune", "--yes"]).success();
    let table = text(&out.get_output().stdout);
    assert!(table.contains("KEEP  delete     ok") && table.contains("OLD   unchanged  ok"), "{table}");
    assert_eq!(common::read(&path), "# a comment that stays\n\nOLD='2'\nNEW=\"it's 3\"\n");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temp files left");
}

const MANIFEST: &str = r#"
[groups.api-keys]
rotate_days = 90
[groups.database]
[secrets.OPENAI_API_KEY]
group = "api-keys"
[secrets.ANTHROPIC_API_KEY]
group = "api-keys"
[secrets.DATABASE_URL]
group = "database"
[secrets.LOG_LEVEL]
secret = false
"#;

#[test]
fn entries_are_grouped_by_the_manifest_with_headers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), MANIFEST).unwrap();
    let vars = [
        ("LOCAL", "l"),
        ("DATABASE_URL", "postgres://u:p@h/db"),
        ("ANTHROPIC_API_KEY", "a"),
        ("OPENAI_API_KEY", "o"),
        ("LOG_LEVEL", "INFO"),
    ];
    sync_env(dir.path(), &vars, "dotenv:.env", &[]).success();
    let want = format!(
        "{HEADER}\n# === api-keys ===\nOPENAI_API_KEY='o'\nANTHROPIC_API_KEY='a'\n\
         \n# === database ===\nDATABASE_URL='postgres://u:p@h/db'\n\
         \n# === other ===\nLOCAL='l'\nLOG_LEVEL='INFO'\n"
    );
    assert_eq!(common::read(&dir.path().join(".env")), want);

    // No manifest: one section, in the order written.
    let plain = tempfile::tempdir().unwrap();
    sync_env(plain.path(), &vars[..2], "dotenv:.env", &[]).success();
    assert_eq!(
        common::read(&plain.path().join(".env")),
        format!("{HEADER}LOCAL='l'\nDATABASE_URL='postgres://u:p@h/db'\n")
    );

    // A broken manifest is an error, and the file stays as it was.
    std::fs::write(dir.path().join("escort.toml"), "[groups.x]\nrotate_days = 0\n").unwrap();
    let out = sync_env(dir.path(), &[("LOCAL", "changed")], "dotenv:.env", &[]).code(2);
    assert!(text(&out.get_output().stderr).contains("escort.toml:2: groups.x: rotate_days must be at least 1"));
    assert_eq!(common::read(&dir.path().join(".env")), want);
}

#[test]
fn files_escort_cannot_rewrite_faithfully_are_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    let cases = [
        ("A=1\nB=two words\n", ".env:2: not a valid `NAME=value` line"),
        ("A=1\nB=\"l1\nl2 ${HOME}\"\n", ".env:3: dotenvy substitutes the `$` here"),
        ("A=$HOME\n", ".env:1: dotenvy substitutes"),
    ];
    for (content, want) in cases {
        std::fs::write(&path, content).unwrap();
        let out = sync_env(dir.path(), &[("NEW", "v")], "dotenv:.env", &[]).code(2);
        let err = text(&out.get_output().stderr);
        assert!(err.contains(want), "{content:?}: {err}");
        assert_eq!(common::read(&path), content, "left untouched");
        escort().current_dir(dir.path()).args(["rm", "dotenv:.env", "A", "--yes"]).assert().code(2);
        assert_eq!(common::read(&path), content, "left untouched");
    }
    // What escort writes itself never trips the substitution check.
    std::fs::remove_file(&path).unwrap();
    sync_env(dir.path(), &[("D", "$HOME it's ${X}"), ("E", "back\\\\slash $")], "dotenv:.env", &[]).success();
    sync_env(dir.path(), &[("F", "f")], "dotenv:.env", &[]).success();
    assert_eq!(
        escort_reads(&path),
        map(&[("D", "$HOME it's ${X}".into()), ("E", "back\\\\slash $".into()), ("F", "f".into())])
    );
}

#[test]
fn bad_names_values_and_targets_are_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.env");
    std::fs::write(&source, "GOOD=1\nnot.a.var=2\n").unwrap();
    let out = escort()
        .current_dir(dir.path())
        .args(["sync", "--from", "dotenv:source.env", "--to", "dotenv:out.env"])
        .assert()
        .code(2);
    let err = text(&out.get_output().stderr);
    assert!(err.contains("`not.a.var` is not an environment variable name") && err.contains("nothing was written"));
    let out =
        escort().current_dir(dir.path()).args(["set", "dotenv:out.env", "NUL"]).write_stdin("a\0b").assert().code(2);
    assert!(text(&out.get_output().stderr).contains("NUL has a NUL byte"));
    let out = escort().args(["ls", "dotenv:"]).assert().code(2);
    assert!(text(&out.get_output().stderr).contains("dotenv:PATH"));
    let out = escort().args(["ls", "dotenvx:.env"]).assert().code(2);
    assert!(text(&out.get_output().stderr).contains("unknown target `dotenvx:.env`"));
    let out = escort()
        .current_dir(dir.path())
        .args(["set", "dotenv:out.env", "A", "--repos", "x"])
        .write_stdin("v")
        .assert()
        .code(2);
    assert!(text(&out.get_output().stderr).contains("for GitHub targets"));
    assert!(!dir.path().join("out.env").exists());
}

/// `dotenv:a/b/c.env` in a checkout without `a/`: the directories are made
/// (0700, as the file is private), and a failure names the file, never the
/// temp file escort writes first.
#[test]
fn a_target_in_missing_directories_is_created_with_them() {
    let dir = tempfile::tempdir().unwrap();
    sync_env(dir.path(), &[("API_KEY", "CANARY-dirs-9d1a")], "dotenv:a/b/c.env", &[]).success();
    let path = dir.path().join("a/b/c.env");
    assert_eq!(python_dotenv(&path)["API_KEY"], "CANARY-dirs-9d1a");
    #[cfg(unix)]
    {
        assert_eq!(mode(&path), 0o600);
        assert_eq!((mode(&dir.path().join("a")), mode(&dir.path().join("a/b"))), (0o700, 0o700));
    }
    // A file where a directory should be: an error about the path asked for.
    std::fs::write(dir.path().join("file"), "").unwrap();
    let out = sync_env(dir.path(), &[("API_KEY", "CANARY-dirs-9d1a")], "dotenv:file/x.env", &[]).failure();
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("file"), "{stderr}");
    assert!(!stderr.contains(".escort-"), "no temp name: {stderr}");
    assert!(!stderr.contains("CANARY"), "{stderr}");
}

#[test]
fn set_ls_and_rm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.env");
    let target = format!("dotenv:{}", path.display());
    let out = escort().current_dir(dir.path()).args(["ls", &target]).assert().success();
    assert!(text(&out.get_output().stderr).contains("no secrets in the dotenv file"));

    let pem = "-----BEGIN KEY-----\nabc\n-----END KEY-----\n";
    let out =
        escort().current_dir(dir.path()).args(["set", &target, "TLS_KEY", "--raw"]).write_stdin(pem).assert().success();
    assert!(text(&out.get_output().stderr).contains(&format!("created TLS_KEY in the dotenv file {}", path.display())));
    escort().current_dir(dir.path()).args(["set", &target, "OTHER"]).write_stdin("o").assert().success();
    assert_eq!(python_dotenv(&path)["TLS_KEY"], pem);
    // The same value again: nothing is written, the file is not even touched.
    let before = Untouched::mark(&path);
    let out = escort().current_dir(dir.path()).args(["set", &target, "OTHER"]).write_stdin("o").assert().success();
    assert!(text(&out.get_output().stderr).contains("OTHER is unchanged in the dotenv file"));
    before.assert_untouched();

    let out = escort().current_dir(dir.path()).args(["ls", &target, "--format", "json"]).assert().success();
    let listed: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(listed["secrets"], json!([{"name": "TLS_KEY"}, {"name": "OTHER"}]), "names only: a file has no dates");
    let out = escort().current_dir(dir.path()).args(["ls", &target]).assert().success();
    assert!(!text(&out.get_output().stdout).contains("BEGIN"));

    let out = escort().current_dir(dir.path()).args(["rm", &target, "TLS_KEY", "NOPE", "--yes"]).assert().code(4);
    assert!(text(&out.get_output().stdout).contains(&format!("FAILED: {} has no NOPE", path.display())));
    assert_eq!(common::read(&path), format!("{HEADER}OTHER='o'\n"));
    escort().current_dir(dir.path()).args(["rm", &target, "--all", "--yes"]).assert().success();
    assert_eq!(common::read(&path), HEADER);

    let missing = format!("dotenv:{}", dir.path().join("missing.env").display());
    escort().current_dir(dir.path()).args(["rm", &missing, "A", "--yes"]).assert().code(3);
    assert!(!dir.path().join("missing.env").exists());
}

const ONE: &str = "CANARY-value-one-7d21";
const LINE1: &str = "CANARY-line-one-0f3e";
const LINE2: &str = "CANARY-line-two-b8a4";
const CR: &str = "CANARY-carriage\r\nreturn-c6d0";
const KEPT: &str = "CANARY-kept-in-file-31aa";
const NEEDLES: &[&str] = &[ONE, LINE1, LINE2, CR, "CANARY-carriage", "return-c6d0", KEPT, "CANARY"];

#[test]
fn canary_no_value_in_any_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), MANIFEST).unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, format!("KEPT='{KEPT}'\n")).unwrap();
    let multi = format!("{LINE1}\n{LINE2}\n");
    let vars = [("ONE", ONE.to_string()), ("MULTI", multi.clone()), ("CR", CR.to_string())];

    let run = |what: &str, args: &[&str], stdin: Option<&str>| {
        let mut cmd = escort();
        cmd.current_dir(dir.path()).args(args);
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        common::code_showing_none(cmd, stdin, NEEDLES, what)
    };
    let sync = ["sync", "--from", "env", "--keys", "ONE,MULTI,CR", "--to", "dotenv:.env"];
    let with = |extra: &[&'static str]| -> Vec<&str> { sync.iter().copied().chain(extra.iter().copied()).collect() };

    assert_eq!(run("sync", &sync, None), Some(0));
    assert_eq!(run("sync json", &with(&["--format", "json"]), None), Some(0));
    assert_eq!(run("dry run", &with(&["--dry-run", "--prune"]), None), Some(0));
    assert_eq!(run("prune refused", &with(&["--prune"]), None), Some(2));
    assert_eq!(run("ls", &["ls", "dotenv:.env"], None), Some(0));
    assert_eq!(run("ls json", &["ls", "dotenv:.env", "--format", "json"], None), Some(0));
    assert_eq!(run("prune", &with(&["--prune", "--yes"]), None), Some(0));
    assert_eq!(run("set", &["set", "dotenv:.env", "PIPED"], Some(&multi)), Some(0));
    assert_eq!(run("set NUL", &["set", "dotenv:.env", "NUL"], Some(&format!("{ONE}\0"))), Some(2));
    assert_eq!(run("rm partial", &["rm", "dotenv:.env", "PIPED", "GONE", "--yes"], None), Some(4));
    assert_eq!(run("rm all", &["rm", "dotenv:.env", "--all", "--yes"], None), Some(0));

    // Existing files escort refuses: the message names the line, never its text.
    std::fs::write(&path, format!("A=1\nB={KEPT} {ONE}\n")).unwrap();
    assert_eq!(run("malformed", &sync, None), Some(2));
    std::fs::write(&path, format!("A=\"{KEPT}\n${{{ONE}}}\"\n")).unwrap();
    assert_eq!(run("substitution", &sync, None), Some(2));
    std::fs::write(&path, format!("KEPT='{KEPT}'\n")).unwrap();
    assert_eq!(run("rm refused file", &["rm", "dotenv:.env", "NOPE", "--yes"], None), Some(3));
}
