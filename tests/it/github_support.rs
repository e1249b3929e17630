//! What the GitHub tests share: the fake GitHub (tests/fakes/github_server.py,
//! run with the peers' Python for PyNaCl), a standard state, and `escort`
//! pointed at it.

use crate::common::{self, Fake};
use serde_json::{Map, Value, json};

pub const TOKEN: &str = "ghp-fake-token-5b1e0d";
/// The fake's X25519 private key (32 bytes of 0x07, base64), so tests can
/// open the sealed boxes escort sends without asking the fake.
pub const PRIVATE_KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

/// acme/app (id 101, environment `prod`), acme/web (102), organization acme.
pub fn state() -> Value {
    json!({
        "token": TOKEN,
        "private_key": PRIVATE_KEY,
        "user": "octocat",
        "orgs": ["acme"],
        "repos": {
            "acme/app": {"id": 101, "environments": ["prod", "prod east"]},
            "acme/web": {"id": 102},
            "octocat/dots": {"id": 201}
        },
        "secrets": {}
    })
}

pub fn github(state: &Value) -> Fake {
    Fake::start_with(&common::peer_python(), "github_server.py", state)
}

/// `escort` with the fake's URL and token, and retry waits kept short.
pub fn escort(fake: &Fake) -> assert_cmd::Command {
    let mut cmd = common::escort();
    cmd.env("GITHUB_TOKEN", TOKEN).env("GITHUB_API_URL", &fake.url).env("ESCORT_MAX_RETRY_WAIT", "5");
    cmd
}

/// The secrets the fake holds in `scope`, values decrypted.
pub fn stored(fake: &Fake, scope: &str) -> Map<String, Value> {
    match fake.call("GET", "/_fake/secrets", None).get(scope) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    }
}

pub fn value(fake: &Fake, scope: &str, name: &str) -> Option<String> {
    stored(fake, scope).get(name).and_then(|s| s["value"].as_str()).map(str::to_string)
}

/// Requests that change something (PUT, DELETE).
pub fn writes(fake: &Fake) -> Vec<Value> {
    fake.requests().into_iter().filter(|r| r["method"] != "GET").collect()
}

/// Add `n` existing secrets `OLD_000`... to `scope` in `state`.
pub fn with_existing(mut state: Value, scope: &str, n: usize) -> Value {
    let secrets: Map<String, Value> = (0..n).map(|i| (format!("OLD_{i:03}"), json!({"value": "old"}))).collect();
    state["secrets"][scope] = Value::Object(secrets);
    state
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
