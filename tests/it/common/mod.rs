//! Test support shared by the integration tests: fakes on loopback, the real
//! peers, the runner's file-command parser, and an `escort` command with a
//! clean environment.

pub mod corpus;
pub mod github_env;
pub mod prism;
pub mod run;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The peers' Python (PyNaCl, python-dotenv, the ESC SDK), installed by
/// `scripts/setup-peers.sh`. A test that needs it fails loudly without it:
/// a skipped peer test would pass without proving anything.
pub fn peer_python() -> PathBuf {
    let p = repo().join("target/peers/venv/bin/python");
    assert!(p.exists(), "{} is missing: run scripts/setup-peers.sh (scripts/test.sh does)", p.display());
    p
}

/// `escort` with none of the caller's configuration leaking in.
pub fn escort() -> assert_cmd::Command {
    assert_cmd::Command::from_std(escort_std())
}

/// The same, as a plain `std::process::Command`.
pub fn escort_std() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("escort"));
    for (k, _) in std::env::vars() {
        if k.starts_with("ESC_")
            || k.starts_with("PULUMI_")
            || k.starts_with("GITHUB_")
            || k.starts_with("RUNNER_")
            || k.starts_with("ESCORT_")
            || k.starts_with("FLY_")
            || k == "GH_TOKEN"
        {
            cmd.env_remove(k);
        }
    }
    // PULUMI_HOME, GH_CONFIG_DIR: not the tester's own `pulumi login` or `gh auth login`
    // (settings.rs falls back to them).
    cmd.env("NO_COLOR", "1")
        .env("XDG_RUNTIME_DIR", runtime_dir())
        .env("PULUMI_HOME", runtime_dir())
        .env("GH_CONFIG_DIR", runtime_dir());
    cmd
}

/// escort's `$XDG_RUNTIME_DIR` in tests, where it puts ESC files: a directory
/// of this test process under target/, so that no secret file lands in /tmp.
/// Those of earlier test processes are removed.
pub fn runtime_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("runtime");
        #[cfg(unix)]
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let pid = entry.file_name().to_str().and_then(|n| n.parse::<libc::pid_t>().ok());
            // SAFETY: signal 0 only checks that the process exists.
            if pid.is_some_and(|pid| unsafe { libc::kill(pid, 0) } != 0) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = root.join(std::process::id().to_string());
        std::fs::create_dir_all(&dir).unwrap();
        #[cfg(unix)]
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        dir
    })
}

/// A fake service (a script in tests/fakes) on 127.0.0.1, stopped on drop.
pub struct Fake {
    child: Child,
    // Held open: the fake exits when its stdin closes, even if we are killed.
    _stdin: ChildStdin,
    pub url: String,
    _state: tempfile::TempDir,
}

impl Fake {
    pub fn start(script: &str, state: &Value) -> Fake {
        Fake::start_with(Path::new("python3"), script, state)
    }

    /// A fake that needs more than the standard library (PyNaCl): run it with
    /// the peers' Python.
    pub fn start_with(python: &Path, script: &str, state: &Value) -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let state_path = dir.path().join("state.json");
        std::fs::write(&state_path, serde_json::to_vec(state).unwrap()).unwrap();
        let mut child = Command::new(python)
            .arg(repo().join("tests/fakes").join(script))
            .arg("--state")
            .arg(&state_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{} could not run the fake {script}: {e}", python.display()));
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url =
            line.trim().strip_prefix("READY ").unwrap_or_else(|| panic!("fake {script} said {line:?}")).to_string();
        Fake { child, _stdin: stdin, url, _state: dir }
    }

    /// The fake ESC service, with the given state (see tests/fakes/esc_server.py).
    pub fn esc(state: &Value) -> Fake {
        Fake::start("esc_server.py", state)
    }

    pub fn set_faults(&self, faults: Value) {
        self.call("POST", "/_fake/faults", Some(&faults));
    }

    /// The fake's log of requests it answered.
    pub fn requests(&self) -> Vec<Value> {
        match self.call("GET", "/_fake/requests", None) {
            Value::Array(a) => a,
            other => panic!("request log is {other}"),
        }
    }

    /// A plain HTTP/1.1 call to the fake, for control endpoints.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let addr = self.url.trim_start_matches("http://");
        let mut s = TcpStream::connect(addr).unwrap();
        let body = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        s.write_all(&body).unwrap();
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).unwrap();
        let text = String::from_utf8_lossy(&resp);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        assert!(head.starts_with("HTTP/1.1 2") || head.starts_with("HTTP/1.0 2"), "{method} {path}: {head}");
        serde_json::from_str(body).unwrap_or(Value::Null)
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fake ESC's state with one environment, acme/app/dev, whose
/// `environmentVariables` are `vars`: secrets (`fn::secret`) or plain values.
pub fn esc_app_dev<'a>(token: &str, vars: impl IntoIterator<Item = (&'a str, &'a str)>, secret: bool) -> Value {
    let ev: serde_json::Map<String, Value> = vars
        .into_iter()
        .map(|(k, v)| (k.to_string(), if secret { serde_json::json!({"fn::secret": v}) } else { serde_json::json!(v) }))
        .collect();
    serde_json::json!({
        "token": token,
        "default_org": "acme",
        "environments": {"acme/app/dev": {"values": {"environmentVariables": ev}}}
    })
}

/// Assert that none of `needles` appears in `haystack` (for canary tests).
pub fn assert_absent(haystack: &[u8], needles: &[&str], what: &str) {
    let text = String::from_utf8_lossy(haystack);
    for n in needles {
        assert!(!text.contains(n), "{what} shows a canary ({n:?}):\n{text}");
    }
}

/// Run `cmd` (feeding it `stdin`), assert that no needle shows on its stdout or
/// stderr, and return its exit code: the body of every canary table.
pub fn code_showing_none(
    mut cmd: assert_cmd::Command,
    stdin: Option<&str>,
    needles: &[&str],
    what: &str,
) -> Option<i32> {
    if let Some(input) = stdin {
        cmd.write_stdin(input.to_string());
    }
    let out = cmd.output().unwrap();
    assert_absent(&out.stdout, needles, &format!("{what}: stdout"));
    assert_absent(&out.stderr, needles, &format!("{what}: stderr"));
    out.status.code()
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A file as it was, to prove a command did not rewrite it: its modification
/// time is first set back to 2001, so that a write shows even where the file
/// system keeps coarse timestamps, and a replacement (a new file renamed over
/// it) shows by its inode.
pub struct Untouched {
    path: PathBuf,
    text: Vec<u8>,
    modified: std::time::SystemTime,
    #[cfg(unix)]
    inode: u64,
}

impl Untouched {
    pub fn mark(path: &Path) -> Untouched {
        let modified = std::time::UNIX_EPOCH + std::time::Duration::from_secs(978_307_200);
        let file =
            std::fs::File::options().write(true).open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        file.set_modified(modified).unwrap();
        let meta = file.metadata().unwrap();
        Untouched {
            path: path.to_path_buf(),
            text: std::fs::read(path).unwrap(),
            modified: meta.modified().unwrap(),
            #[cfg(unix)]
            inode: std::os::unix::fs::MetadataExt::ino(&meta),
        }
    }

    pub fn assert_untouched(&self) {
        let what = self.path.display();
        let meta = std::fs::metadata(&self.path).unwrap_or_else(|e| panic!("{what}: {e}"));
        #[cfg(unix)]
        assert_eq!(std::os::unix::fs::MetadataExt::ino(&meta), self.inode, "{what} was replaced");
        assert_eq!(meta.modified().unwrap(), self.modified, "{what} was written to");
        assert!(std::fs::read(&self.path).unwrap() == self.text, "{what} changed");
    }
}

/// A server on 127.0.0.1 that reads each request whole and writes back
/// `answer(request line)`, a raw HTTP response; returns its URL and the number
/// of connections it got.
pub fn serve_raw(answer: impl Fn(&str) -> String + Send + 'static) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut first, mut line, mut length) = (String::new(), String::new(), 0);
            let _ = reader.read_line(&mut first);
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = stream.write_all(answer(&first).as_bytes());
        }
    });
    (url, hits)
}
