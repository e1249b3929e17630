//! The Dev Container Feature (devcontainer-feature/escort): its metadata and the
//! devcontainer.json `escort init` writes, validated against the specification's JSON
//! schemas (tests/schemas, vendored from devcontainers/spec) with check-jsonschema; its
//! install.sh against a release server on loopback; and its start command against the
//! fake ESC, where a key added to `.env` by hand survives.
#![cfg(unix)]

use crate::action::{FileServer, escort_bin, sha256_hex};
use crate::common::{self, Fake};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FEATURE: &str = "devcontainer-feature/escort";

/// check-jsonschema from the peers' venv (scripts/setup-peers.sh).
fn check_jsonschema(schema: &str, doc: &Path) -> Output {
    let tool = common::repo().join("target/peers/venv/bin/check-jsonschema");
    assert!(tool.exists(), "{} is missing: run scripts/setup-peers.sh", tool.display());
    Command::new(tool)
        .arg("--schemafile")
        .arg(common::repo().join("tests/schemas").join(schema))
        .arg(doc)
        .output()
        .unwrap()
}

fn explain(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// JSON with comments (devcontainer.json) as plain JSON: its `//` comment lines dropped.
fn without_comments(text: &str) -> String {
    text.lines().filter(|l| !l.trim_start().starts_with("//")).map(|l| format!("{l}\n")).collect()
}

#[test]
fn the_feature_and_inits_devcontainer_follow_the_spec_schemas() {
    let feature = common::repo().join(FEATURE).join("devcontainer-feature.json");
    let out = check_jsonschema("devContainerFeature.schema.json", &feature);
    assert!(out.status.success(), "{}", explain(&out));
    let meta: Value = serde_json::from_str(&common::read(&feature)).unwrap();
    assert_eq!(meta["id"], "escort", "the id is the folder's name");
    assert_eq!(meta["version"], env!("CARGO_PKG_VERSION"), "released with escort's version");
    assert_eq!(meta["options"]["version"]["default"], "latest");
    assert!(common::repo().join(FEATURE).join("install.sh").is_file());

    // The schema can fail: a Feature without an id, and with an option of no type.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("devcontainer-feature.json");
    std::fs::write(&bad, json!({"version": "1.0.0", "options": {"v": {"default": 1}}}).to_string()).unwrap();
    assert!(!check_jsonschema("devContainerFeature.schema.json", &bad).status.success());

    // What `escort init` writes: the base schema (the full one pulls in VS Code's and
    // Codespaces' from the network), with the Feature in `features`.
    let project = tempfile::tempdir().unwrap();
    let out = common::escort().current_dir(project.path()).arg("init").output().unwrap();
    assert!(out.status.success(), "{}", explain(&out));
    let written = common::read(&project.path().join(".devcontainer/devcontainer.json"));
    let plain = dir.path().join("devcontainer.json");
    std::fs::write(&plain, without_comments(&written)).unwrap();
    let out = check_jsonschema("devContainer.base.schema.json", &plain);
    assert!(out.status.success(), "{}", explain(&out));
    let dev: Value = serde_json::from_str(&without_comments(&written)).unwrap();
    let major = env!("CARGO_PKG_VERSION").split('.').next().unwrap();
    assert!(dev["features"][format!("ghcr.io/OWNER/escort/escort:{major}")].is_object(), "{dev}");
    assert!(!written.contains("cargo install"), "no build from source in the container");
}

/// The Feature as the devcontainer CLI packages it: a folder of its own (links resolved),
/// here with checksums for the releases the test serves.
fn packaged_feature(checksums: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(common::repo().join(FEATURE)).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.path().join("checksums.txt"), checksums).unwrap();
    dir
}

fn target() -> &'static str {
    if cfg!(target_arch = "aarch64") { "aarch64-unknown-linux-musl" } else { "x86_64-unknown-linux-musl" }
}

/// Run the Feature's install.sh as the devcontainer CLI does (options as upper-case
/// variables), installing under `prefix`.
fn install(feature: &Path, prefix: &Path, options: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg(feature.join("install.sh")).env("ESCORT_FEATURE_PREFIX", prefix);
    for (k, v) in options {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
#[cfg(target_os = "linux")]
fn install_sh_installs_only_the_verified_release_for_this_architecture() {
    let server = FileServer::start();
    let escort = std::fs::read(escort_bin()).unwrap();
    let sha = sha256_hex(&escort);
    let asset = format!("escort-{}", target());
    server.put(&format!("v1.4.0/{asset}"), &escort);
    server.put(&format!("v1.3.0/{asset}"), b"#!/bin/sh\necho not the release\n");
    let sums = format!(
        "# checksums\n{sha}  v1.4.0/{asset}\n{}  v1.3.0/{asset}\n{}  v1.5.0/escort-x86_64-apple-darwin\n",
        "a".repeat(64),
        "b".repeat(64)
    );
    let feature = packaged_feature(&sums);
    let prefix = tempfile::tempdir().unwrap();
    let base = format!("{}/", server.url);

    // latest: the newest release listed for this architecture.
    let out = install(feature.path(), prefix.path(), &[("DOWNLOADBASE", &base), ("DIRECTORY", "services/api")]);
    assert!(out.status.success(), "{}", explain(&out));
    assert!(explain(&out).contains(&format!("v1.4.0, SHA-256 {sha} verified")), "{}", explain(&out));
    assert_eq!(std::fs::read(prefix.path().join("bin/escort")).unwrap(), escort);
    assert!(prefix.path().join("share/escort/start.sh").is_file());
    assert_eq!(common::read(&prefix.path().join("share/escort/directory")), "services/api\n");
    assert_eq!(server.requests(), [format!("GET /v1.4.0/{asset} 200")]);

    // A release whose asset is not the one listed: nothing installed.
    let prefix = tempfile::tempdir().unwrap();
    let out = install(feature.path(), prefix.path(), &[("DOWNLOADBASE", &base), ("VERSION", "1.3.0")]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(explain(&out).contains("checksum mismatch"), "{}", explain(&out));
    assert!(!prefix.path().join("bin/escort").exists());

    // No such release, no download location: said, nothing fetched.
    let before = server.requests().len();
    for (options, says) in [
        (vec![("DOWNLOADBASE", base.as_str()), ("VERSION", "2")], "no release v2 of escort"),
        (vec![("VERSION", "v1.4.0")], "the option downloadBase is empty"),
    ] {
        let out = install(feature.path(), prefix.path(), &options);
        assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
        assert!(explain(&out).contains(says), "{}", explain(&out));
    }
    assert_eq!(server.requests().len(), before);
}

/// The start command merges ESC into `.env`: a key added by hand survives, values are
/// ESC's, the file stays private; then the smoke check runs. Without ESC_ENV it changes
/// nothing.
#[test]
fn the_start_command_keeps_keys_added_by_hand() {
    const TOKEN: &str = "tok-feature-start-81c2";
    const API_KEY: &str = "sk-live-feature-4d5e6f7a8b9c";
    let esc = Fake::esc(&json!({
        "token": TOKEN,
        "environments": {"acme/app/dev": {"values": {"environmentVariables": {
            "API_KEY": {"fn::secret": API_KEY},
            "LOG_LEVEL": "debug",
        }}}}
    }));
    let workspace = tempfile::tempdir().unwrap();
    let project = workspace.path().join("services/api");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join(".env"), "MY_OWN_KEY=added-by-hand\nAPI_KEY=stale\n").unwrap();
    std::fs::write(
        project.join("escort.toml"),
        "sources = [\"env\", \"dotenv:.env\"]\n[secrets.API_KEY]\nprefix = \"sk-\"\n",
    )
    .unwrap();
    // The start script as install.sh leaves it, told the project's directory.
    let share = workspace.path().join("share");
    std::fs::create_dir_all(&share).unwrap();
    std::fs::copy(common::repo().join(FEATURE).join("start.sh"), share.join("start.sh")).unwrap();
    std::fs::write(share.join("directory"), "services/api\n").unwrap();

    let bin: PathBuf = escort_bin().parent().unwrap().to_path_buf();
    let start = |env: &[(&str, &str)]| {
        let mut cmd = Command::new("sh");
        cmd.arg(share.join("start.sh")).current_dir(workspace.path()).env_clear();
        cmd.env("PATH", format!("{}:/usr/bin:/bin", bin.display())).env("HOME", workspace.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };

    let before = common::read(&project.join(".env"));
    let out = start(&[]);
    assert!(out.status.success(), "{}", explain(&out));
    assert!(explain(&out).contains("ESC_ENV is not set"), "{}", explain(&out));
    assert_eq!(common::read(&project.join(".env")), before);

    let env = [("ESC_ENV", "acme/app/dev"), ("ESC_TOKEN", TOKEN), ("ESC_API_URL", esc.url.as_str())];
    let out = start(&env);
    assert!(out.status.success(), "{}", explain(&out));
    let dotenv = common::peer_python();
    let read_back = Command::new(dotenv)
        .args([
            "-c",
            "import json,sys; from dotenv import dotenv_values; print(json.dumps(dotenv_values(sys.argv[1])))",
        ])
        .arg(project.join(".env"))
        .output()
        .unwrap();
    let values: Value = serde_json::from_slice(&read_back.stdout).unwrap();
    assert_eq!(values, json!({"MY_OWN_KEY": "added-by-hand", "API_KEY": API_KEY, "LOG_LEVEL": "debug"}));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(project.join(".env")).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(explain(&out).contains("API_KEY"), "the check ran: {}", explain(&out));
    common::assert_absent(&[out.stdout, out.stderr].concat(), &[API_KEY, TOKEN], "the start command's output");

    // Started again: the hand-added key is still there.
    let out = start(&env);
    assert!(out.status.success(), "{}", explain(&out));
    assert!(common::read(&project.join(".env")).contains("MY_OWN_KEY"));
}
