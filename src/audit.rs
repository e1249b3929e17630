//! The audit trail (docs/audit.md): with `ESCORT_AUDIT_LOG=PATH` or
//! `--audit-log PATH`, one JSON line per read of a source, per listing of a
//! target (`ls`, `rotation`), per write to a target and per login: when,
//! which command, which source or target (and ESC environment and revision),
//! which key names, how it ended, and the GitHub run when there is one. Never a value or a token: a line is built only from names and
//! messages that are scrubbed like everything escort shows.
//!
//! The file is created 0600 and opened `O_APPEND`; each line goes out in one
//! `write(2)`, so lines of concurrent escort processes never interleave.

use crate::esc::EnvRef;
use crate::record::{Entry, Outcome};
use crate::settings::Runner;
use crate::time::Timestamp;
use crate::vars::Var;
use crate::{secret, ui};
use anyhow::{Context as _, Result};
use serde_json::{Map, Value, json};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

struct Log {
    file: File,
    /// What every line of this process shares: the command and the run.
    common: Map<String, Value>,
}

static LOG: OnceLock<Log> = OnceLock::new();

/// Start the trail for this process (`path` of `None`: no trail). A log that
/// cannot be opened stops the command before it reads or writes anything.
pub fn open(path: Option<&Path>, command: &str, runner: &Runner) -> Result<()> {
    let Some(path) = path.filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    // As `--output`: only a regular file, never through a symbolic link
    // (checked here for the message, and by O_NOFOLLOW against a swap), and
    // opened non-blocking so that a FIFO is refused rather than waited on.
    let refuse = |what: &str| {
        crate::error::usage(format!(
            "the audit log {} is {what}: escort appends only to a regular file; give the path of the file itself",
            path.display()
        ))
    };
    let not_regular = "not a regular file (a directory, device, FIFO or socket)";
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => return Err(refuse("a symbolic link")),
        Ok(m) if !m.is_file() => return Err(refuse(not_regular)),
        _ => {}
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = opts.open(path).with_context(|| format!("could not open the audit log {}", path.display()))?;
    let meta = file.metadata().with_context(|| format!("could not open the audit log {}", path.display()))?;
    if !meta.is_file() {
        return Err(refuse(not_regular));
    }
    #[cfg(unix)]
    if std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o077 != 0 {
        ui::warn(&format!(
            "the audit log {} can be read by others (mode {:o}): `chmod 600` it",
            path.display(),
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777
        ));
    }
    let mut common = Map::new();
    common.insert("command".into(), json!(command));
    common.insert("pid".into(), json!(std::process::id()));
    // The GitHub run, when there is one.
    for (key, value) in [("run_id", &runner.run_id), ("actor", &runner.actor), ("repository", &runner.repository)] {
        if let Some(v) = value {
            common.insert(key.into(), json!(v));
        }
    }
    // Opened once per process: a second call (unit tests) keeps the first.
    let _ = LOG.set(Log { file, common });
    Ok(())
}

/// Record a read of `source` (as the user names it: `esc:acme/app/dev@3`,
/// `dotenv:.env`) and pass its result on.
pub fn read(source: &str, result: Result<Vec<Var>>) -> Result<Vec<Var>> {
    let mut line = event("read", "source", source);
    if let Some(env) = source.strip_prefix("esc:").and_then(|e| EnvRef::parse(e).ok()) {
        // The revision asked for: ESC's open answer does not say which it served.
        let revision = env.version.clone().unwrap_or_else(|| "latest".into());
        line.insert("esc_env".into(), json!(EnvRef { version: None, ..env }.to_string()));
        line.insert("revision".into(), json!(revision));
    }
    record(line, &result, |vars| {
        let keys: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
        (json!(keys), "ok")
    });
    result
}

/// Record a listing of `target` (names and dates, no value) and pass it on.
pub fn list(target: &str, result: Result<Vec<Entry>>) -> Result<Vec<Entry>> {
    record(event("list", "target", target), &result, |entries| {
        let keys: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        (json!(keys), "ok")
    });
    result
}

/// Record a login to `service` for `org` (never the token) and pass it on.
pub fn login<T>(service: &str, org: &str, result: Result<T>) -> Result<T> {
    let mut line = event("login", "service", service);
    line.insert("organization".into(), json!(org));
    record(line, &result, |_| (Value::Null, "ok"));
    result
}

/// Record a write to `target` (each key, what was done and whether it was)
/// and pass its result on.
pub fn write(target: &str, result: Result<Vec<Outcome>>) -> Result<Vec<Outcome>> {
    record(event("write", "target", target), &result, |outcomes| {
        let keys: Vec<Value> = outcomes
            .iter()
            .map(|o| match &o.result {
                Ok(action) => json!({"key": o.name, "action": action.as_str(), "ok": true}),
                Err(_) => json!({"key": o.name, "ok": false}),
            })
            .collect();
        let done = outcomes.iter().filter(|o| o.result.is_ok()).count();
        let outcome = match done {
            _ if done == outcomes.len() => "ok",
            0 => "failed",
            _ => "partial",
        };
        (Value::Array(keys), outcome)
    });
    result
}

/// The start of a line: the event, and what it was about.
fn event(event: &str, field: &str, what: &str) -> Map<String, Value> {
    let mut line = Map::new();
    line.insert("event".into(), json!(event));
    line.insert(field.into(), json!(what));
    line
}

/// Finish `line` with the result (`done` gives the keys, if any, and the
/// outcome of a success) and append it, when there is a trail.
fn record<T>(mut line: Map<String, Value>, result: &Result<T>, done: impl FnOnce(&T) -> (Value, &'static str)) {
    let Some(log) = LOG.get() else { return };
    match result {
        Ok(value) => {
            let (keys, outcome) = done(value);
            if !keys.is_null() {
                line.insert("keys".into(), keys);
            }
            line.insert("outcome".into(), json!(outcome));
        }
        Err(e) => failed(&mut line, e),
    }
    log.append(line);
}

fn failed(line: &mut Map<String, Value>, err: &anyhow::Error) {
    line.insert("outcome".into(), json!("failed"));
    line.insert("error".into(), json!(secret::scrub(&format!("{err:#}"))));
}

impl Log {
    fn append(&self, event: Map<String, Value>) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let mut line = Map::new();
        line.insert("time".into(), json!(Timestamp::from_unix(now.as_secs() as i64).rfc3339()));
        line.extend(self.common.clone());
        line.extend(event);
        let mut bytes = Value::Object(line).to_string().into_bytes();
        bytes.push(b'\n');
        // One write(2): with O_APPEND, the line lands whole after every other.
        match (&self.file).write(&bytes) {
            Ok(n) if n == bytes.len() => {}
            Ok(_) => ui::warn("the audit log took only part of a line (is the disk full?)"),
            Err(e) => ui::warn(&format!("could not append to the audit log: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Action;

    /// The process's one log, in a directory kept for the whole test run.
    fn log_path() -> &'static Path {
        // Shared by the tests of this process and never dropped, so under
        // target/, not the system's temporary directory, where one was left per run.
        static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
        let dir = DIR.get_or_init(|| {
            let parent = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("unit-tmp");
            std::fs::create_dir_all(&parent).unwrap();
            tempfile::tempdir_in(parent).unwrap()
        });
        let path = dir.path().join("audit.jsonl");
        let runner = Runner { actor: Some("octocat".into()), ..Runner::default() };
        open(Some(&path), "sync", &runner).unwrap();
        Box::leak(path.into_boxed_path())
    }

    fn lines_with(path: &Path, marker: &str) -> Vec<Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v.to_string().contains(marker))
            .collect()
    }

    #[test]
    fn reads_record_names_environment_and_revision_never_values() {
        let path = log_path();
        secret::register(&secret::Secret::new("audit-canary-token"));
        let vars = vec![Var::secret("AUDIT_A", "audit-canary-value"), Var::plain("AUDIT_B", "audit-canary-plain")];
        assert_eq!(read("esc:acme/app/audit@7", Ok(vars)).unwrap().len(), 2);
        let err = anyhow::anyhow!("refused audit-canary-token");
        assert!(read("esc:acme/app/audit-failed", Err(err)).is_err());

        let text = std::fs::read_to_string(path).unwrap();
        assert!(!text.contains("canary-value") && !text.contains("canary-plain") && !text.contains("canary-token"));
        let ok = &lines_with(path, "AUDIT_A")[0];
        assert_eq!(ok["event"], "read");
        assert_eq!(ok["command"], "sync");
        assert_eq!(ok["actor"], "octocat");
        assert_eq!(ok["esc_env"], "acme/app/audit");
        assert_eq!(ok["revision"], "7");
        assert_eq!(ok["keys"], json!(["AUDIT_A", "AUDIT_B"]));
        assert_eq!(ok["outcome"], "ok");
        assert!(ok["time"].as_str().unwrap().ends_with('Z') && ok.get("run_id").is_none());
        let bad = &lines_with(path, "audit-failed")[0];
        assert_eq!((bad["outcome"].as_str(), bad["error"].as_str()), (Some("failed"), Some("refused ***")));
    }

    #[test]
    fn writes_record_each_key_and_the_outcome() {
        let path = log_path();
        let outcomes = vec![
            Outcome { name: "W_ONE".into(), result: Ok(Action::Create) },
            Outcome { name: "W_TWO".into(), result: Err(anyhow::anyhow!("no")) },
        ];
        write("audit test target", Ok(outcomes)).unwrap();
        let line = &lines_with(path, "audit test target")[0];
        assert_eq!(line["event"], "write");
        assert_eq!(line["outcome"], "partial");
        assert_eq!(
            line["keys"],
            json!([{"key": "W_ONE", "action": "create", "ok": true}, {"key": "W_TWO", "ok": false}])
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn listings_and_logins_are_recorded_without_a_token() {
        let path = log_path();
        let entries = vec![Entry { name: "L_ONE".into(), ..Entry::default() }];
        list("audit list target", Ok(entries)).unwrap();
        let line = &lines_with(path, "audit list target")[0];
        assert_eq!((line["event"].as_str(), line["outcome"].as_str()), (Some("list"), Some("ok")));
        assert_eq!(line["keys"], json!(["L_ONE"]));

        secret::register(&secret::Secret::new("audit-canary-login"));
        login("Pulumi Cloud", "audit-org", Ok(secret::Secret::new("audit-canary-login"))).unwrap();
        assert!(login::<()>("Pulumi Cloud", "audit-org-2", Err(anyhow::anyhow!("no audit-canary-login"))).is_err());
        let ok = &lines_with(path, "\"audit-org\"")[0];
        assert_eq!((ok["event"].as_str(), ok["outcome"].as_str()), (Some("login"), Some("ok")));
        assert!(ok.get("keys").is_none());
        let bad = &lines_with(path, "audit-org-2")[0];
        assert_eq!(bad["error"], "no ***");
        assert!(!std::fs::read_to_string(path).unwrap().contains("canary-login"));
    }
}
