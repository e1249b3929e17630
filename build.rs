//! `escort --version`: the package version, the commit it was built from and the target
//! (README, "Install"), e.g. `0.1.0 (commit 1a2b3c4d5e6f, x86_64-unknown-linux-musl)`.
//!
//! The commit comes from, in order: ESCORT_BUILD_COMMIT (a packager building from a
//! tarball who knows it), git (only when this directory is the top of its own checkout,
//! never a repository it happens to be vendored in), the `.cargo_vcs_info.json` that
//! `cargo package` writes into a crate, else `unknown`: a tarball without .git builds.

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn commit(dir: &Path) -> String {
    if let Ok(given) = std::env::var("ESCORT_BUILD_COMMIT")
        && !given.trim().is_empty()
    {
        return given.trim().to_string();
    }
    let top = git(dir, &["rev-parse", "--show-toplevel"]).map(std::path::PathBuf::from);
    let own = top.and_then(|t| t.canonicalize().ok()) == dir.canonicalize().ok();
    if own && let Some(sha) = git(dir, &["rev-parse", "--short=12", "HEAD"]) {
        // Rebuilt when HEAD moves (a commit, a checkout).
        for path in ["HEAD", "logs/HEAD"] {
            if let Some(p) = git(dir, &["rev-parse", "--git-path", path]) {
                println!("cargo:rerun-if-changed={}", dir.join(p).display());
            }
        }
        return sha;
    }
    let vcs = dir.join(".cargo_vcs_info.json");
    println!("cargo:rerun-if-changed={}", vcs.display());
    if let Ok(text) = std::fs::read_to_string(vcs)
        && let Some(at) = text.find("\"sha1\"")
    {
        let sha: String = text[at + 6..].chars().filter(char::is_ascii_hexdigit).take(40).collect();
        if sha.len() == 40 {
            return sha[..12].to_string();
        }
    }
    "unknown".to_string()
}

fn main() {
    let dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=ESCORT_BUILD_COMMIT");
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown-target".to_string());
    let version = std::env::var("CARGO_PKG_VERSION").expect("cargo sets it");
    println!("cargo:rustc-env=ESCORT_VERSION_LINE={version} (commit {}, {target})", commit(&dir));
}
