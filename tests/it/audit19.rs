//! The findings of the second security audit (issue 19), one regression test
//! each, with canary values on every path they touch.

use crate::common::run::Run;
use crate::common::{Fake, assert_absent, esc_app_dev};
use crate::github_support::{self, TOKEN as GH_TOKEN, github, text, writes};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// A server on 127.0.0.1 answering every request with `answer(request line)`
/// as a JSON 200; returns its URL and the number of requests it answered.
pub fn serve(answer: impl Fn(&str) -> String + Send + 'static) -> (String, Arc<AtomicUsize>) {
    serve_status(move |request| ("200 OK", answer(request)))
}

/// `serve`, with the status line's code and reason from `answer` too.
pub fn serve_status(answer: impl Fn(&str) -> (&'static str, String) + Send + 'static) -> (String, Arc<AtomicUsize>) {
    crate::common::serve_raw(move |request| {
        let (status, body) = answer(request);
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    })
}

/// A full page of 100 secrets: new names on every page, or the same names each time.
fn full_page(request: &str, new_names: bool) -> String {
    let page: usize = request.split("page=").nth(1).and_then(|p| p.split([' ', '&']).next()?.parse().ok()).unwrap_or(1);
    let start = if new_names { page * 100 } else { 0 };
    let items: Vec<String> = (start..start + 100)
        .map(|i| {
            format!(r#"{{"name":"S_{i}","created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:00Z"}}"#)
        })
        .collect();
    // Counting more than GitHub holds, or repeating itself while counting what it may hold.
    let total = if new_names { 1_000_000 } else { 1_000 };
    format!(r#"{{"total_count":{total},"secrets":[{}]}}"#, items.join(","))
}

#[test]
fn n08_a_listing_that_never_ends_is_an_error_naming_it() {
    for new_names in [true, false] {
        let (url, hits) = serve(move |request| full_page(request, new_names));
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = crate::common::escort();
        cmd.current_dir(dir.path())
            .env("GITHUB_API_URL", &url)
            .env("GITHUB_TOKEN", GH_TOKEN)
            .env("ESCORT_RETRIES", "0")
            .timeout(std::time::Duration::from_secs(60))
            .args(["ls", "github:acme/app"]);
        let out = cmd.output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{new_names}: {stderr}");
        assert!(stderr.contains("list the") && stderr.contains("refusing a listing"), "{stderr}");
        assert_absent(&out.stderr, &[GH_TOKEN], "stderr");
        // Refused at the first page that gives it away.
        assert_eq!(hits.load(Ordering::SeqCst), if new_names { 1 } else { 2 });
    }
}

#[test]
fn n02_control_characters_in_route_names_and_specs_are_refused_at_load() {
    let manifests = [
        "[sync.\"x\\n::stop-commands::tok\"]\nfrom = \"env\"\nkeys = [\"A\"]\nto = [\"dotenv:out.env\"]\n",
        "[sync.r]\nfrom = \"env\"\nkeys = [\"A\"]\nto = [\"dotenv:out\\n::error::x.env\"]\n",
    ];
    for manifest in manifests {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("escort.toml"), manifest).unwrap();
        for args in [&["status"][..], &["sync", "--dry-run"], &["rotation"]] {
            let out = Run::new_in(dir.path()).env("A", SECRET).args(args).output();
            let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
            assert_eq!(out.status.code(), Some(2), "{args:?}: {all}");
            assert!(all.contains("cannot hold control characters"), "{args:?}: {all}");
            assert!(all.lines().all(|l| !l.trim_start().starts_with("::")), "{args:?}: a workflow command: {all}");
            assert_absent(all.as_bytes(), &[SECRET], "output");
        }
    }
}

#[test]
#[cfg(unix)]
fn n07_local_files_are_read_bounded_regular_and_inside_the_checkout() {
    let outside = tempfile::tempdir().unwrap();
    let elsewhere = outside.path().join("secrets.env");
    std::fs::write(&elsewhere, format!("A={SECRET}\n")).unwrap();
    let plant = |dir: &std::path::Path, name: &str, what: &str| {
        let path = dir.join(name);
        match what {
            "zero" => std::os::unix::fs::symlink("/dev/zero", &path).unwrap(),
            "fifo" => assert!(std::process::Command::new("mkfifo").arg(&path).status().unwrap().success()),
            _ => std::os::unix::fs::symlink(&elsewhere, &path).unwrap(),
        }
    };
    for what in ["zero", "fifo", "outside"] {
        // A committed .env: `check` reports it unreadable (and names why) rather than read 3 GB or hang.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("escort.toml"), "[secrets.A]\nrequired = false\n").unwrap();
        std::fs::write(dir.path().join("src.env"), "B=1\n").unwrap();
        plant(dir.path(), ".env", what);
        let run = |args: &[&str]| {
            let mut cmd = crate::common::escort();
            cmd.current_dir(dir.path()).env_remove("A").timeout(std::time::Duration::from_secs(30)).args(args);
            let out = cmd.output().unwrap();
            assert_absent(&out.stdout, &[SECRET], &format!("{what} {args:?}"));
            assert_absent(&out.stderr, &[SECRET], &format!("{what} {args:?}"));
            (out.status.code(), format!("{}{}", text(&out.stdout), text(&out.stderr)))
        };
        let why = if what == "fifo" { "not a regular file" } else { "outside the working directory" };
        let (code, out) = run(&["check", "--sources", "dotenv:.env"]);
        assert!(code.is_some() && out.contains(why), "{what}: {out}");
        // As a target, and as a manifest: an error, exit 2, nothing written.
        let (code, out) = run(&["sync", "--from", "dotenv:src.env", "--keys", "B", "--to", "dotenv:.env"]);
        assert!(code == Some(2) && out.contains(why), "{what}: {out}");
        plant(dir.path(), "m.toml", what);
        let (code, out) = run(&["check", "--manifest", "m.toml"]);
        assert!(code == Some(2) && out.contains(why), "{what}: {out}");
    }
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), format!("A={SECRET}\n"), "left whole");
}

#[test]
fn n09_a_withheld_message_reads_whole_and_long_parts_of_a_token_are_withheld() {
    let token = "ghp_CANARYn09TokenAbCdEfGhIjKlMnOpQrStUv";
    let cut = &token[..token.len() - 3];
    let last20 = &token[token.len() - 20..];
    for shown in [cut.to_string(), last20.to_string()] {
        let message = format!(r#"{{"message":"Bad credentials: {shown}, value rejected"}}"#);
        let (url, _) = serve_status(move |_| ("401 Unauthorized", message.clone()));
        // An ESC secret `val` (3 characters): the notice must not read `***ue`.
        let esc = Fake::esc(&esc_app_dev(ESC_TOKEN, [("K", "val")], true));
        let dir = tempfile::tempdir().unwrap();
        let out = Run::new_in(dir.path())
            .env("ESCORT_RETRIES", "0")
            .esc(&esc, ESC_TOKEN)
            .env("GITHUB_API_URL", &url)
            .env("GITHUB_TOKEN", token)
            .args(["sync", "--from", "esc:acme/app/dev", "--to", "github:acme/app"])
            .output();
        let stderr = text(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{stderr}");
        assert!(stderr.contains("(message withheld: it contained a secret value)"), "{stderr}");
        assert_absent(stderr.as_bytes(), &[&token[..16], &token[token.len() - 16..], ESC_TOKEN], "stderr");
    }
}

#[test]
fn n03_dot_segments_never_reach_a_url() {
    for env in [".", ".."] {
        let (url, hits) = serve(|_| "{}".to_string());
        let mut cmd = crate::common::escort();
        cmd.env("GITHUB_API_URL", &url).env("GITHUB_TOKEN", GH_TOKEN).args(["ls", &format!("github:acme/app@{env}")]);
        let out = cmd.output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("`.` and `..` are not environment names"), "{stderr}");
        assert_eq!(hits.load(Ordering::SeqCst), 0, "no request");
    }
    // A name the listing sends is put in a path too: `..` would delete at the scope itself.
    let mut st = github_support::state();
    st["secrets"]["repos/acme/app/actions"] = serde_json::json!({"..": {"value": "x"}, "OK": {"value": "y"}});
    let gh = github(&st);
    let out = crate::github_support::escort(&gh).args(["rm", "github:acme/app", "--all", "--yes"]).output().unwrap();
    let stderr = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("not done: delete .."), "{stderr}");
    for r in writes(&gh) {
        let path = r["path"].as_str().unwrap();
        assert!(path.ends_with("/secrets/OK"), "{path}");
    }
}

#[test]
fn n04_plain_http_to_this_machine_bypasses_proxies_and_a_bad_proxy_is_refused() {
    let esc = Fake::esc(&esc_app_dev(ESC_TOKEN, [("K", SECRET)], true));
    let (proxy, hits) = serve(|_| "{}".to_string());
    let load = |name: &str, value: &str| {
        let mut cmd = crate::common::escort();
        cmd.env("ESC_API_URL", &esc.url)
            .env("ESC_TOKEN", ESC_TOKEN)
            .env("ESCORT_RETRIES", "0")
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .env(name, value)
            .args(["load", "--env", "acme/app/dev", "--format", "json"]);
        cmd.output().unwrap()
    };
    for name in ["HTTP_PROXY", "http_proxy", "ALL_PROXY"] {
        let out = load(name, &proxy);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains(SECRET), "{name}: the values came from ESC itself");
        assert_eq!(hits.load(Ordering::SeqCst), 0, "{name}: the proxy saw the request (and the token)");
    }
    let bad = "http://user:pa ss@127.0.0.1:9";
    let out = load("HTTPS_PROXY", bad);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("HTTPS_PROXY is not a proxy URL") && !stderr.contains("pa ss"), "{stderr}");
    assert_absent(&out.stdout, &[SECRET], "stdout");
}

/// A TLS server on 127.0.0.1 with a self-signed certificate (no client
/// trusts it); stopped on drop.
struct SelfSigned {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl SelfSigned {
    fn start() -> SelfSigned {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        let made = std::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(made.success());
        let script = "import socket,ssl,sys\n\
                      ctx=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1],sys.argv[2])\n\
                      s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); print(s.getsockname()[1],flush=True)\n\
                      while True:\n  c,_=s.accept()\n  try: ctx.wrap_socket(c,server_side=True).close()\n  except Exception: c.close()\n";
        let mut child = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&cert)
            .arg(&key)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        SelfSigned { child, port: line.trim().parse().unwrap(), _dir: dir }
    }
}

impl Drop for SelfSigned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn n19_a_certificate_failure_is_named_and_never_sets_off_the_fallback() {
    let server = SelfSigned::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("backup.env"), format!("K={SECRET}\n")).unwrap();
    let out = Run::new_in(dir.path())
        .env("ESC_API_URL", format!("https://127.0.0.1:{}", server.port))
        .env("ESC_TOKEN", ESC_TOKEN)
        .env("ESCORT_RETRIES", "0")
        .args(["load", "--env", "acme/app/dev", "--format", "json", "--fallback", "dotenv:backup.env"])
        .output();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("TLS handshake failed") && stderr.contains("ertificate"), "{stderr}");
    assert!(!stderr.contains("fallback"), "{stderr}");
    assert_absent(&out.stdout, &[SECRET, ESC_TOKEN], "stdout");
    assert_absent(&out.stderr, &[SECRET, ESC_TOKEN], "stderr");
}

#[test]
#[cfg(unix)]
fn n11_the_audit_log_is_a_regular_file_reached_directly_and_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere.jsonl");
    std::fs::write(&elsewhere, "").unwrap();
    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
    let fifo = dir.path().join("fifo.jsonl");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let load = |log: &std::path::Path| {
        let mut cmd = crate::common::escort();
        cmd.env("ESCORT_AUDIT_LOG", log)
            .timeout(std::time::Duration::from_secs(30))
            .args(["load", "--demo", "--format", "json"]);
        cmd.output().unwrap()
    };
    for (log, why) in [(&link, "a symbolic link"), (&fifo, "not a regular file")] {
        let out = load(log);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(why) && out.stdout.is_empty(), "{stderr}");
    }
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "", "nothing written through the link");
    // An existing log others can read: used, with a warning.
    let shared = dir.path().join("shared.jsonl");
    std::fs::write(&shared, "").unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = load(&shared);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("can be read by others (mode 644)"), "{stderr}");
    assert!(!std::fs::read_to_string(&shared).unwrap().is_empty());
}

#[test]
#[cfg(unix)]
fn n17_a_closed_stdout_is_an_error_not_a_silent_success() {
    let bin = assert_cmd::cargo::cargo_bin("escort");
    let closed = |args: &str| {
        // `>&-`: stdout closed, as a careless service manager or script leaves it.
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("exec \"$0\" {args} >&-"))
            .arg(&bin)
            .output()
            .unwrap();
        (out.status.code(), text(&out.stderr))
    };
    for args in [
        "load --demo --format shell",
        "load --demo --format json",
        "load --demo --format dotenv",
        "get --demo DATABASE_URL --show-secrets",
    ] {
        let (code, stderr) = closed(args);
        assert_eq!(code, Some(5), "{args}: {stderr}");
        assert!(stderr.contains("stdout") && stderr.contains("closed"), "{args}: {stderr}");
    }
    // `> /dev/null` is the user's choice, and succeeds.
    let out = std::process::Command::new(&bin)
        .args(["load", "--demo", "--format", "shell"])
        .stdout(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn n14_a_name_given_twice_in_keys_is_refused() {
    let esc = Fake::esc(&esc_app_dev(ESC_TOKEN, [("S1", SECRET), ("S2", "CANARY-other-2")], true));
    let dir = tempfile::tempdir().unwrap();
    let args = ["load", "--env", "acme/app/dev", "--format", "json", "--keys", "X=S1,X=S2"];
    let (code, out) = run_in(dir.path(), Some(&esc), None, &args, &[SECRET, "CANARY-other-2", ESC_TOKEN]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("`X` is named twice"), "{out}");
}

#[test]
#[cfg(unix)]
fn n15_gh_is_found_on_absolute_path_entries_only_and_may_not_hang() {
    use std::os::unix::fs::PermissionsExt;
    let script = |dir: &std::path::Path, body: &str| {
        let gh = dir.join("gh");
        std::fs::write(&gh, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    let (url, hits) = serve(|_| "{}".to_string());
    let ls = |dir: &std::path::Path, path: &str| {
        let mut cmd = crate::common::escort();
        cmd.current_dir(dir)
            .env("PATH", path)
            .env("GITHUB_API_URL", &url)
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .env("ESCORT_RETRIES", "0")
            .timeout(std::time::Duration::from_secs(40))
            .args(["ls", "github:acme/app"]);
        cmd.output().unwrap()
    };
    // A checkout that plants `./gh`, reached through an empty or relative PATH entry.
    let checkout = tempfile::tempdir().unwrap();
    script(checkout.path(), "echo ghp_CANARYplantedToken0001");
    let empty = tempfile::tempdir().unwrap();
    for path in [format!(".:{}", empty.path().display()), format!(":{}", empty.path().display()), "bin/..".into()] {
        let out = ls(checkout.path(), &path);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{path}: {stderr}");
        assert!(stderr.contains("no GitHub token"), "{path}: {stderr}");
        assert_eq!(hits.load(Ordering::SeqCst), 0, "{path}: a request went out with the planted token");
    }
    // A `gh` that never returns: given up on, as if there were none.
    let tools = tempfile::tempdir().unwrap();
    script(tools.path(), "exec /bin/sleep 120");
    // (Bounded by the command's timeout: without one, escort would wait the two minutes.)
    let out = ls(checkout.path(), &tools.path().display().to_string());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no GitHub token"), "{stderr}");
}

#[test]
fn n18_route_dotenv_targets_stay_inside_the_checkout() {
    let parent = tempfile::tempdir().unwrap();
    let checkout = parent.path().join("checkout");
    std::fs::create_dir(&checkout).unwrap();
    let manifest =
        |extra: &str| format!("[sync.r]\nfrom = \"env\"\nkeys = [\"A\"]\nto = [\"dotenv:../outside.env\"]\n{extra}");
    std::fs::write(checkout.join("escort.toml"), manifest("")).unwrap();
    let sync = || Run::new_in(&checkout).env("A", SECRET).args(["sync"]).output();
    let out = sync();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("outside the checkout") && stderr.contains("dotenv_outside"), "{stderr}");
    assert!(!parent.path().join("outside.env").exists(), "nothing written outside");
    assert_absent(&out.stderr, &[SECRET], "stderr");
    // Said in the manifest, it is allowed.
    std::fs::write(checkout.join("escort.toml"), manifest("dotenv_outside = true\n")).unwrap();
    let out = sync();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(parent.path().join("outside.env")).unwrap().contains(SECRET));
}

#[test]
fn n10_a_secret_written_slowly_in_pieces_shows_its_first_piece_only() {
    let esc = Fake::esc(&esc_app_dev(ESC_TOKEN, [("K", SECRET)], true));
    let dir = tempfile::tempdir().unwrap();
    // SECRET in four writes, each after a pause longer than the 0.2 s a held tail waits.
    let script = "printf CANA; sleep 0.4; printf RY-audit; sleep 0.4; printf 19-secret-5e; sleep 0.4; printf '9b\\n'";
    let args = ["run", "--env", "acme/app/dev", "--", "sh", "-c", script];
    let out = Run::new_in(dir.path()).esc(&esc, ESC_TOKEN).args(args).output();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.starts_with("CANA") && stdout.contains("***"), "{stdout:?}");
    for piece in ["RY-audit", "19-secret", SECRET] {
        assert!(!stdout.contains(piece), "{piece} shown: {stdout:?}");
    }
}

/// Whether `needle` is in any writable memory of process `pid` (Linux: read
/// through /proc, as an ancestor may). Only pages in memory are read (the
/// pagemap's present bit): the allocator reserves a gigabyte it never touches.
#[cfg(target_os = "linux")]
fn in_memory_of(pid: u32, needle: &[u8]) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    const PAGE: u64 = 4096;
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    let mut pagemap = std::fs::File::open(format!("/proc/{pid}/pagemap")).unwrap();
    // Every present page, runs of neighbours kept together, runs parted by a NUL.
    let mut seen = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else { continue };
        if !perms.starts_with("rw") {
            continue;
        }
        let (start, end) = range.split_once('-').unwrap();
        let (start, end) = (u64::from_str_radix(start, 16).unwrap(), u64::from_str_radix(end, 16).unwrap());
        let mut entries = vec![0u8; ((end - start) / PAGE * 8) as usize];
        if pagemap.seek(SeekFrom::Start(start / PAGE * 8)).is_err() || pagemap.read_exact(&mut entries).is_err() {
            continue;
        }
        for (i, entry) in entries.chunks_exact(8).enumerate() {
            let present = u64::from_le_bytes(entry.try_into().unwrap()) >> 63 == 1;
            let mut page = vec![0u8; PAGE as usize];
            if present
                && mem.seek(SeekFrom::Start(start + i as u64 * PAGE)).is_ok()
                && mem.read_exact(&mut page).is_ok()
            {
                seen.extend_from_slice(&page);
            } else {
                seen.push(0);
            }
        }
    }
    memchr::memmem::find(&seen, needle).is_some()
}

#[test]
#[cfg(target_os = "linux")]
fn n13_the_child_environment_leaves_no_copy_in_escorts_memory() {
    // A long name: the allocator writes its own pointers over the first bytes of a freed block.
    let esc = Fake::esc(&esc_app_dev(ESC_TOKEN, [("AUDIT19_CHILD_ENVIRONMENT", SECRET)], true));
    let mut escort = crate::common::escort_std()
        .env("ESC_API_URL", &esc.url)
        .env("ESC_TOKEN", ESC_TOKEN)
        .args(["run", "--no-redact", "--env", "acme/app/dev", "--", "sleep", "30"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = escort.id();
    // Until escort's child runs: then the environment was built, spawned and dropped.
    let child_of_escort = || {
        std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
            std::fs::read_to_string(e.path().join("stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().nth(1) == Some(&pid.to_string()))
                })
                .unwrap_or(false)
        })
    };
    let mut tries = 0;
    while !child_of_escort() {
        tries += 1;
        assert!(tries < 500 && escort.try_wait().unwrap().is_none(), "escort's child did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The `NAME=value` form exists only in the environment handed to exec. The
    // child shows in /proc as soon as it is forked, while escort may still be
    // inside `spawn` holding that environment: a copy that stays is one still
    // there after escort has had its moment to drop it (5 s), not one seen at once.
    let needle = format!("ENVIRONMENT={SECRET}");
    let mut found = true;
    for _ in 0..250 {
        found = in_memory_of(pid, needle.as_bytes());
        if !found {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    escort.kill().unwrap();
    escort.wait().unwrap();
    assert!(!found, "a copy of the child's environment stays in escort's memory");
}
