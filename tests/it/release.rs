//! The release workflow (.github/workflows/release.yml): every action pinned by commit SHA,
//! and its publishing step run for real against a local bare repository (a fake `gh`):
//! the checksums committed in the tagged commit, the moving major tag, the Feature's
//! version and download location, and a pre-release that moves nothing.
#![cfg(unix)]

use crate::common;
use serde_norway::Value as Yaml;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGETS: [&str; 5] = [
    "aarch64-apple-darwin",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "x86_64-pc-windows-msvc.exe",
    "x86_64-unknown-linux-musl",
];

fn workflow(name: &str) -> Yaml {
    serde_norway::from_str(&common::read(&common::repo().join(".github/workflows").join(name))).unwrap()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git").current_dir(dir).args(args).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Every `uses:` of every workflow is `owner/repo@<40 hex digits> # <version>`.
#[test]
fn every_action_in_the_workflows_is_pinned_by_commit_sha() {
    let dir = common::repo().join(".github/workflows");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        for line in common::read(&path).lines() {
            let Some(rest) = line.trim_start().trim_start_matches("- ").strip_prefix("uses: ") else { continue };
            seen += 1;
            let (reference, comment) = rest.split_once(" # ").unwrap_or((rest, ""));
            let sha = reference.rsplit_once('@').map(|(_, s)| s).unwrap_or("");
            assert!(
                sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                "{}: {line:?} is not pinned by commit SHA",
                path.display()
            );
            assert!(!comment.trim().is_empty(), "{}: {line:?} has no version comment", path.display());
        }
    }
    assert!(seen >= 8, "only {seen} uses: found");
}

/// The repository as the release job's checkout has it: the files the step edits, with
/// the Feature's links, committed and pushed to a bare `origin`.
struct Checkout {
    _dir: tempfile::TempDir,
    work: PathBuf,
    origin: PathBuf,
    dist: PathBuf,
    bin: PathBuf,
}

fn checkout() -> Checkout {
    let dir = tempfile::tempdir().unwrap();
    let (work, origin, dist, bin) =
        (dir.path().join("work"), dir.path().join("origin.git"), dir.path().join("dist"), dir.path().join("bin"));
    for d in [&work, &dist, &bin, &work.join("scripts/action"), &work.join("devcontainer-feature/escort")] {
        std::fs::create_dir_all(d).unwrap();
    }
    git(dir.path(), &["init", "-q", "--bare", "-b", "main", origin.to_str().unwrap()]);
    let repo = common::repo();
    for f in ["checksums.txt", "scripts/action/releases.sh"] {
        std::fs::copy(repo.join(f), work.join(f)).unwrap();
    }
    // The package (its home is this repository: the step checks), its sources, and the
    // changelog the release notes come from.
    let cargo = common::read(&repo.join("Cargo.toml"));
    let home = cargo.lines().find(|l| l.starts_with("repository = ")).unwrap();
    std::fs::write(work.join("Cargo.toml"), cargo.replace(home, "repository = \"https://github.com/acme/escort\""))
        .unwrap();
    std::fs::create_dir_all(work.join("src")).unwrap();
    std::fs::write(work.join("src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(work.join("CHANGELOG.md"), CHANGELOG).unwrap();
    for entry in std::fs::read_dir(repo.join("devcontainer-feature/escort")).unwrap() {
        let path = entry.unwrap().path();
        let to = work.join("devcontainer-feature/escort").join(path.file_name().unwrap());
        match std::fs::read_link(&path) {
            Ok(link) => std::os::unix::fs::symlink(link, to).unwrap(),
            Err(_) => drop(std::fs::copy(&path, to).unwrap()),
        }
    }
    git(&work, &["init", "-q", "-b", "main"]);
    git(&work, &["-c", "user.name=t", "-c", "user.email=t@t", "add", "-A"]);
    git(&work, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start"]);
    git(&work, &["remote", "add", "origin", origin.to_str().unwrap()]);
    git(&work, &["push", "-q", "origin", "main"]);
    // `gh release create`, recorded.
    let gh = format!("#!/bin/sh\necho \"$*\" >> '{}'\n", bin.join("gh.log").display());
    crate::action::write_executable(&bin.join("gh"), &gh);
    Checkout { _dir: dir, work, origin, dist, bin }
}

const CHANGELOG: &str = "# Changelog\n\n## [Unreleased]\n\n- next\n\n## [2.0.0-rc.1] - 2026-03-01\n\n- rc\n\n\
    ## [1.3.0] - 2026-02-01\n\n### Fixed\n- the 1.3.0 fix\n\n## [1.2.3] - 2026-01-01\n\n### Added\n- the 1.2.3 feature\n";

/// Run the workflow's publishing step for `tag`, as the runner would; returns its exit code.
fn release(c: &Checkout, tag: &str) -> (i32, String) {
    let doc = workflow("release.yml");
    let steps = doc["jobs"]["release"]["steps"].as_sequence().unwrap();
    let step = steps.iter().find(|s| s["name"].as_str() == Some("Checksums, commit, tag, publish")).unwrap();
    let script = c.bin.join("step.sh");
    std::fs::write(&script, step["run"].as_str().unwrap()).unwrap();
    for f in std::fs::read_dir(&c.dist).unwrap() {
        std::fs::remove_file(f.unwrap().path()).unwrap();
    }
    for t in TARGETS {
        std::fs::write(c.dist.join(format!("escort-{t}")), format!("escort {tag} for {t}")).unwrap();
    }
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&script)
        .current_dir(&c.work)
        .env("PATH", format!("{}:{}", c.bin.display(), std::env::var("PATH").unwrap()))
        .env("GH_TOKEN", "not-used")
        .env("GH_REPO", "acme/escort")
        .env("TAG", tag)
        .env("DEFAULT_BRANCH", "main")
        .env("DIST", &c.dist)
        .env("RUNNER_TEMP", c.bin.as_path())
        .env("GITHUB_SERVER_URL", "https://github.com")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

fn at(c: &Checkout, rev: &str, path: &str) -> String {
    git(&c.origin, &["show", &format!("{rev}:{path}")])
}

#[test]
fn a_release_commits_its_checksums_tags_it_and_moves_the_major_tag() {
    let c = checkout();
    let (code, log) = release(&c, "v1.2.3");
    assert_eq!(code, 0, "{log}");
    let commit = |r: &str| git(&c.origin, &["rev-parse", &format!("{r}^{{commit}}")]);
    assert_eq!(commit("v1"), commit("v1.2.3"), "v1 moved to the release");
    assert_eq!(commit("main"), commit("v1.2.3"), "the tagged commit is on the default branch");

    // The tagged tree lists the release's own checksums, which install.sh resolves v1 to.
    let sums = at(&c, "v1", "checksums.txt");
    for t in TARGETS {
        let sha = crate::action::sha256_hex(format!("escort v1.2.3 for {t}").as_bytes());
        assert!(sums.contains(&format!("{sha}  v1.2.3/escort-{t}")), "{t}: {sums}");
    }
    let feature: serde_json::Value =
        serde_json::from_str(&at(&c, "v1", "devcontainer-feature/escort/devcontainer-feature.json")).unwrap();
    assert_eq!(feature["version"], "1.2.3");
    assert_eq!(feature["options"]["downloadBase"]["default"], "https://github.com/acme/escort/releases/download");
    // The links stay links in git; the published folder (the workspace) has copies.
    let tree = git(&c.origin, &["ls-tree", "v1", "devcontainer-feature/escort/checksums.txt"]);
    assert!(tree.starts_with("120000 "), "{tree}");
    let published = c.work.join("devcontainer-feature/escort/checksums.txt");
    assert!(!published.symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(common::read(&published).trim_end(), sums);
    let gh = common::read(&c.bin.join("gh.log"));
    assert!(gh.starts_with("release create v1.2.3 "), "{gh}");
    // The notes are the version's section of CHANGELOG.md, and nothing else.
    assert!(gh.contains(&format!("--notes-file {}", c.bin.join("notes.md").display())), "{gh}");
    assert_eq!(common::read(&c.bin.join("notes.md")), "\n### Added\n- the 1.2.3 feature\n");
    // The hash of the tagged sources, by which a commit SHA pin installs this release.
    // (The release commit changes no source: the checkout's are the tag's.)
    let hash = crate::action::sources_hash(&c.work);
    assert!(sums.contains(&format!("{hash}  v1.2.3/sources")), "{sums}");

    // The next release moves v1 again; the older tag stays where it was.
    let first = commit("v1.2.3");
    git(&c.work, &["checkout", "-q", "--", "."]);
    let (code, log) = release(&c, "v1.3.0");
    assert_eq!(code, 0, "{log}");
    assert_eq!(commit("v1"), commit("v1.3.0"));
    assert_eq!(commit("v1.2.3"), first);
    let resolved = Command::new("sh")
        .arg("-c")
        .arg(". scripts/action/releases.sh; resolve_release v1 checksums.txt escort-x86_64-unknown-linux-musl")
        .current_dir(&c.work)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&resolved.stdout).trim(), "v1.3.0");

    // A pre-release moves no major tag; an existing tag is refused.
    git(&c.work, &["checkout", "-q", "--", "."]);
    let (code, log) = release(&c, "v2.0.0-rc.1");
    assert_eq!(code, 0, "{log}");
    assert!(git(&c.origin, &["tag", "-l", "v2"]).is_empty(), "no v2 for a pre-release");
    git(&c.work, &["checkout", "-q", "--", "."]);
    let (code, log) = release(&c, "v1.3.0");
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("the tag v1.3.0 exists already"), "{log}");

    // A version CHANGELOG.md has no section for, or a package whose home is another
    // repository: refused before anything is committed or tagged.
    git(&c.work, &["checkout", "-q", "--", "."]);
    let (code, log) = release(&c, "v1.4.0");
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("CHANGELOG.md has no section \"## [1.4.0]"), "{log}");
    let cargo = common::read(&c.work.join("Cargo.toml")).replace("acme/escort", "someone/else");
    std::fs::write(c.work.join("Cargo.toml"), cargo).unwrap();
    let (code, log) = release(&c, "v1.2.4");
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("Cargo.toml's repository is https://github.com/someone/else"), "{log}");
    assert!(git(&c.origin, &["tag", "-l", "v1.4.0", "v1.2.4"]).is_empty(), "nothing tagged");
}

/// `escort --version` names the package version, the commit it was built from (this
/// checkout's HEAD: build.rs asks git) and the target triple.
#[test]
fn version_names_the_commit_and_the_target() {
    let out = common::escort().arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let head = git(&common::repo(), &["rev-parse", "--short=12", "HEAD"]);
    let want = format!("escort {} (commit {head}, ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&want), "{text:?} does not start with {want:?}");
    let target = text.trim_end().strip_prefix(&want).and_then(|t| t.strip_suffix(')')).unwrap_or_default();
    let arch = std::env::consts::ARCH;
    assert!(target.starts_with(arch) && target.split('-').count() >= 3, "not a target triple: {target:?}");
}
