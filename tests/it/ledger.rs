//! `ok` means the copy holds the source's current value (README, "escort
//! status"): readable copies compared by opened value, dates that follow what
//! a value depends on (`${...}`, imports, providers), and sealed copies
//! through the ledger. Against the fake ESC, which evaluates definitions and
//! re-encrypts on every save, and the fake GitHub.

use crate::common::run::Run;
use crate::common::{Fake, assert_absent, peer_python};
use crate::fleet::cells;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

const ESC_TOKEN: &str = "tok-ledger";
const CANARIES: [&str; 4] = ["canary-db-one", "canary-db-two", "canary-provider-one", "canary-provider-two"];

/// The source's definition: the secret under `values`, exported by reference,
/// as Pulumi documents it.
fn source_yaml(password: &str) -> String {
    format!(
        "values:\n  database:\n    password:\n      fn::secret: {password}\n  environmentVariables:\n    \
         DB_PASSWORD: ${{database.password}}\n    NAME: plain-name\n"
    )
}

fn esc(extra: Value) -> Fake {
    let mut state = json!({
        "token": ESC_TOKEN,
        "default_org": "acme",
        "environments": {
            "acme/app/prod": {"values": {
                "database": {"password": {"fn::secret": "canary-db-one"}},
                "environmentVariables": {"DB_PASSWORD": "${database.password}", "NAME": "plain-name"}
            }},
            "acme/app/copy": {"values": {"environmentVariables": {}}}
        }
    });
    if let (Value::Object(state), Value::Object(extra)) = (&mut state, extra) {
        state.extend(extra);
    }
    Fake::start_with(&peer_python(), "esc_server.py", &state)
}

/// Save a new definition of `env` as `esc env edit` does (the fake evaluates
/// it and stores fresh ciphertext for each plaintext secret).
fn save(fake: &Fake, env: &str, yaml: &str) {
    let addr = fake.url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "PATCH /api/esc/environments/{env} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: token {ESC_TOKEN}\r\n\
         Content-Type: application/x-yaml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{yaml}",
        yaml.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 2") || resp.starts_with("HTTP/1.0 2"), "saving {env}: {resp}");
}

fn run(dir: &Path, esc: &Fake, args: &[&str]) -> (i32, String) {
    let out = Run::new_in(dir).esc(esc, ESC_TOKEN).args(args).output();
    assert_absent(&out.stdout, &CANARIES, &format!("{args:?}: stdout"));
    assert_absent(&out.stderr, &CANARIES, &format!("{args:?}: stderr"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap(), text)
}

fn report(dir: &Path, esc: &Fake) -> Value {
    let (_, out) = run(dir, esc, &["status", "--format", "json"]);
    serde_json::from_str(out.lines().next().unwrap_or_default()).unwrap_or_else(|_| panic!("{out}"))
}

/// The cells whose status is not `ok`: (key, target, status).
fn not_ok(report: &Value) -> Vec<(String, String, String)> {
    cells(report).into_iter().filter(|(_, _, s)| s != "ok").collect()
}

fn patches(esc: &Fake) -> Vec<String> {
    esc.requests()
        .into_iter()
        .filter(|r| r["method"] == "PATCH")
        .map(|r| r["path"].as_str().unwrap_or_default().to_string())
        .collect()
}

const READABLE: &str = r#"
[sync.prod]
from = "esc:acme/app/prod"
to = ["esc:acme/app/copy", "dotenv:prod.env"]
"#;

/// Item 2, readable copies: an `esc:` target and a .env file are compared by
/// the values an open returns, so a re-encrypting save changes nothing and a
/// change behind `${...}` makes exactly that key differ, once per target.
#[test]
fn readable_copies_are_compared_by_opened_value() {
    let esc = esc(json!({}));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escort.toml"), READABLE).unwrap();

    let (code, out) = run(dir.path(), &esc, &["sync"]);
    assert_eq!(code, 0, "{out}");
    let after = report(dir.path(), &esc);
    assert_eq!(cells(&after).len(), 4, "{after}");
    assert_eq!(not_ok(&after), [], "after a sync every cell is ok (an esc: copy too): {after}");

    // Nothing changed: no revision of the copy, no .env rewritten.
    esc.call("POST", "/_fake/reset-log", None);
    let before = std::fs::metadata(dir.path().join("prod.env")).unwrap().modified().unwrap();
    let (code, out) = run(dir.path(), &esc, &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(patches(&esc), Vec::<String>::new(), "a second sync wrote a revision: {out}");
    assert_eq!(std::fs::metadata(dir.path().join("prod.env")).unwrap().modified().unwrap(), before);

    // A save of the same plaintext stores fresh ciphertext: nothing is stale.
    save(&esc, "acme/app/prod", &source_yaml("canary-db-one"));
    assert_eq!(not_ok(&report(dir.path(), &esc)), []);
    esc.call("POST", "/_fake/reset-log", None);
    let (code, out) = run(dir.path(), &esc, &["sync"]);
    assert_eq!((code, patches(&esc)), (0, Vec::<String>::new()), "{out}");

    // The secret behind the reference changes: DB_PASSWORD differs in both copies, NAME does not.
    save(&esc, "acme/app/prod", &source_yaml("canary-db-two"));
    let changed = report(dir.path(), &esc);
    assert_eq!(
        not_ok(&changed),
        [
            ("DB_PASSWORD".into(), "dotenv:prod.env".into(), "drifted".into()),
            ("DB_PASSWORD".into(), "esc:acme/app/copy".into(), "drifted".into()),
        ],
        "{changed}"
    );
    esc.call("POST", "/_fake/reset-log", None);
    let (code, out) = run(dir.path(), &esc, &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(patches(&esc), ["/api/esc/environments/acme/app/copy"], "one revision of the copy: {out}");
    assert!(std::fs::read_to_string(dir.path().join("prod.env")).unwrap().contains("canary-db-two"));
    assert_eq!(not_ok(&report(dir.path(), &esc)), []);
}
