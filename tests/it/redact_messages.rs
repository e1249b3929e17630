//! Messages from servers that echo a secret are withheld, in whatever form
//! the secret comes back (docs/security.md).

use crate::common::{Fake, escort};
use serde_json::json;

const TOKEN: &str = "tok-F15/canary";

#[test]
fn f15_a_server_message_echoing_the_token_encoded_is_withheld() {
    for echo in ["tok-f15%2Fcanary", "TOK-F15/CANARY", "tok-F15\\/canary"] {
        let fake = Fake::esc(&json!({
            "token": TOKEN, "default_org": "acme",
            "environments": {"acme/app/dev": {"values": {"environmentVariables": {"A": "1"}}}},
            "faults": [{"op": "open", "status": 400, "body": format!(r#"{{"message": "bad token {echo} here"}}"#)}],
        }));
        let a = escort()
            .env("ESC_API_URL", &fake.url)
            .env("ESC_TOKEN", TOKEN)
            .env("ESC_ENV", "acme/app/dev")
            .args(["load", "--format", "json"])
            .assert()
            .code(3);
        let o = a.get_output();
        let shown = String::from_utf8_lossy(&o.stderr).to_lowercase() + &String::from_utf8_lossy(&o.stdout);
        assert!(!shown.contains("f15"), "{echo}: {shown}");
        assert!(shown.contains("withheld"), "{echo}: {shown}");
    }
}
