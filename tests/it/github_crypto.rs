//! The real peer for the encryption: PyNaCl, in its own process, opens every
//! sealed box escort sent (taken from the fake's request log) with the
//! matching private key.

use crate::common;

use crate::github_support::{PRIVATE_KEY, escort, github, state, writes};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

const OPEN: &str = r#"
import base64, json, sys
from nacl.public import PrivateKey, SealedBox
req = json.load(sys.stdin)
box = SealedBox(PrivateKey(base64.b64decode(req["key"])))
print(json.dumps({n: box.decrypt(base64.b64decode(c, validate=True)).decode("utf-8")
                  for n, c in req["sealed"].items()}))
"#;

fn pynacl_open(sealed: &Map<String, Value>) -> Map<String, Value> {
    let mut child = Command::new(common::peer_python())
        .args(["-c", OPEN])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = serde_json::to_vec(&json!({"key": PRIVATE_KEY, "sealed": sealed})).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "PyNaCl could not open a box");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn pynacl_opens_every_box_from_empty_to_48_kb() {
    let fake = github(&state());
    let mut values: Vec<(String, String)> = [0, 1, 31, 32, 33, 1000, 4096, 48 * 1024 - 1, 48 * 1024]
        .iter()
        .map(|&n| (format!("SIZE_{n}"), "k".repeat(n)))
        .collect();
    values.push(("MULTI".into(), "first\nsecond\r\nthird\n\n".into()));
    values.push(("UNICODE".into(), "é ñ ü — ✓ 秘密 🔑 \u{202e}".into()));
    values.push(("UNICODE_BIG".into(), "秘".repeat(48 * 1024 / 3)));

    let keys: Vec<&str> = values.iter().map(|(k, _)| k.as_str()).collect();
    let mut cmd = escort(&fake);
    cmd.args(["sync", "--from", "env", "--keys", &keys.join(","), "--to", "github:acme/app"]);
    for (k, v) in &values {
        cmd.env(k, v);
    }
    cmd.assert().success();

    let sealed: Map<String, Value> = writes(&fake)
        .iter()
        .map(|r| {
            let name = r["path"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
            (name, r["body"]["encrypted_value"].clone())
        })
        .collect();
    assert_eq!(sealed.len(), values.len());
    let opened = pynacl_open(&sealed);
    for (name, value) in &values {
        assert_eq!(opened[name].as_str(), Some(value.as_str()), "{name}");
    }
}
