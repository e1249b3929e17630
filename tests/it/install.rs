//! scripts/install.sh, the `curl | sh` installer, run with `sh` against a release served on
//! loopback: a good asset is installed, a tampered one is refused, and a failure leaves
//! nothing behind (no binary, no directory, no temporary file).
#![cfg(unix)]

use crate::action::{FileServer, escort_bin, sha256_hex, write_executable};
use crate::common;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The asset install.sh picks for this machine.
fn asset() -> String {
    let os = if cfg!(target_os = "macos") { "apple-darwin" } else { "unknown-linux-musl" };
    let cpu = if cfg!(target_arch = "aarch64") { "aarch64" } else { "x86_64" };
    format!("escort-{cpu}-{os}")
}

struct Setup {
    dir: tempfile::TempDir,
    server: FileServer,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        for d in ["home", "tmp"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        Setup { dir, server: FileServer::start() }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// Publish release `tag` on the server: `asset` bytes, and a checksums.txt listing `listed`.
    fn publish(&self, tag: &str, bytes: &[u8], listed: &str) {
        self.server.put(&format!("releases/{tag}/{}", asset()), bytes);
        self.server.put(&format!("releases/{tag}/checksums.txt"), format!("{listed}  {}\n", asset()).as_bytes());
    }

    /// Run install.sh with `sh`, a clean environment but PATH, and `env`.
    fn install(&self, env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new("sh");
        cmd.arg(common::repo().join("scripts/install.sh"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("HOME", self.path("home"))
            .env("TMPDIR", self.path("tmp"))
            .env("ESCORT_DOWNLOAD_BASE", format!("{}/releases/", self.server.url));
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    /// Everything left in TMPDIR and HOME.
    fn leftovers(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for d in ["tmp", "home"] {
            for e in walk(&self.path(d)) {
                found.push(e);
            }
        }
        found
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn installs_a_verified_release_into_local_bin() {
    let s = Setup::new();
    let escort = std::fs::read(escort_bin()).unwrap();
    let sha = sha256_hex(&escort);
    s.publish("v1.2.3", &escort, &sha);

    let out = s.install(&[("ESCORT_VERSION", "1.2.3")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let installed = s.path("home/.local/bin/escort");
    assert_eq!(std::fs::read(&installed).unwrap(), escort);
    assert_eq!(std::fs::metadata(&installed).unwrap().permissions().mode() & 0o777, 0o755);
    let err = stderr(&out);
    assert!(err.contains(&format!("SHA-256 {sha} verified")), "{err}");
    assert!(err.contains("is not on your PATH"), "{err}");
    assert_eq!(
        s.server.requests(),
        [format!("GET /releases/v1.2.3/{} 200", asset()), "GET /releases/v1.2.3/checksums.txt 200".to_string()]
    );
    assert_eq!(s.leftovers(), [s.path("home/.local/bin/escort"), s.path("home/.local/bin"), s.path("home/.local")]);

    // ESCORT_INSTALL_DIR, and a second run over the first.
    let bin = s.path("tools");
    for _ in 0..2 {
        let out = s.install(&[("ESCORT_VERSION", "v1.2.3"), ("ESCORT_INSTALL_DIR", bin.to_str().unwrap())]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    assert_eq!(walk(&bin), [bin.join("escort")], "only the binary: no temporary file");
}

/// A replaced asset is refused before it is ever run, and nothing is left: the install
/// directory is not even created.
#[test]
fn refuses_a_tampered_asset_and_leaves_nothing_behind() {
    let s = Setup::new();
    let ran = s.path("tampered-binary-ran");
    let tampered = format!("#!/bin/sh\ntouch '{}'\necho 'escort 9.9.9'\n", ran.display());
    let good = sha256_hex(&std::fs::read(escort_bin()).unwrap());
    s.publish("v1.2.3", tampered.as_bytes(), &good);

    let out = s.install(&[("ESCORT_VERSION", "v1.2.3")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("checksum mismatch") && err.contains(&good), "{err}");
    assert!(err.contains(&sha256_hex(tampered.as_bytes())), "names what it got: {err}");
    assert!(!ran.exists(), "the tampered asset was run");
    assert_eq!(s.leftovers(), Vec::<PathBuf>::new());

    // The release's own checksums.txt replaced too: ESCORT_CHECKSUMS from elsewhere (the
    // action's format) still refuses it.
    s.publish("v1.2.3", tampered.as_bytes(), &sha256_hex(tampered.as_bytes()));
    let sums = s.path("checksums.txt");
    std::fs::write(&sums, format!("# the action's list\n{good}  v1.2.3/{}\n", asset())).unwrap();
    let out = s.install(&[("ESCORT_VERSION", "v1.2.3"), ("ESCORT_CHECKSUMS", sums.to_str().unwrap())]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("checksum mismatch"), "{}", stderr(&out));
    assert!(!ran.exists());
    assert_eq!(s.leftovers(), Vec::<PathBuf>::new());

    // No such release (404), no line for this asset, a mirror without a version.
    let other = s.path("other-sums.txt");
    std::fs::write(&other, format!("{good}  v1.2.3/escort-riscv64-unknown-linux-musl\n")).unwrap();
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[("ESCORT_VERSION", "v4.0.0")], "could not download"),
        (&[("ESCORT_VERSION", "v1.2.3"), ("ESCORT_CHECKSUMS", other.to_str().unwrap())], "list no"),
        (&[], "give the release"),
    ];
    for (env, says) in cases {
        let out = s.install(env);
        assert_eq!(out.status.code(), Some(1), "{env:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{env:?}: {}", stderr(&out));
        assert_eq!(s.leftovers(), Vec::<PathBuf>::new(), "{env:?}");
    }
}

/// The installer names escort's home as Cargo.toml does, and is ShellCheck-clean.
#[test]
fn install_sh_reads_the_repository_constant_and_passes_shellcheck() {
    let script = common::read(&common::repo().join("scripts/install.sh"));
    let cargo = common::read(&common::repo().join("Cargo.toml"));
    let repository = cargo.lines().find_map(|l| l.strip_prefix("repository = ")).expect("Cargo.toml has a repository");
    assert!(script.contains(&format!("\nREPOSITORY={repository}\n")), "install.sh's REPOSITORY is not {repository}");

    let shellcheck = common::repo().join("target/peers/venv/bin/shellcheck");
    assert!(shellcheck.exists(), "run scripts/setup-peers.sh");
    let out =
        Command::new(&shellcheck).arg("--shell=sh").arg(common::repo().join("scripts/install.sh")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    // ShellCheck does fail on what it should.
    let bad = tempfile::tempdir().unwrap();
    let bad = bad.path().join("bad.sh");
    write_executable(&bad, "#!/bin/sh\nrm -rf $1/\n");
    assert!(!Command::new(&shellcheck).arg(&bad).output().unwrap().status.success());
}
