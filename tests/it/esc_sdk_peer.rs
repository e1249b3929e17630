//! The fake ESC speaks the real protocol: the official Python SDK
//! (pulumi-esc-sdk) opens and reads it and gets exactly what escort gets.

use crate::common;

use crate::common::{Fake, escort};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Command;

#[test]
fn the_official_python_sdk_reads_what_escort_reads() {
    let fake = Fake::esc(&json!({
        "token": "tok-sdk",
        "default_org": "acme",
        "environments": {"acme/app/dev": {"values": {"environmentVariables": {
            "PLAIN": "value",
            "SECRET": {"fn::secret": "s3cr3t\nwith lines\r\n"},
            "NUMBER": 42,
            "FLOAT": 1.5,
            "BOOL": true,
            "UNICODE": "héllo 🌍",
            "NESTED": {"user": "admin", "pass": {"fn::secret": "pw"}, "list": [1, "two", false]},
            "EMPTY": ""
        }}}}
    }));
    let sdk = Command::new(common::peer_python())
        .arg(common::repo().join("tests/peers/esc_sdk_read.py"))
        .args([&fake.url, "tok-sdk", "acme/app/dev"])
        .output()
        .unwrap();
    assert!(sdk.status.success(), "SDK failed: {}", String::from_utf8_lossy(&sdk.stderr));
    let from_sdk: BTreeMap<String, String> = serde_json::from_slice(&sdk.stdout).unwrap();

    let ours = escort()
        .env("ESC_API_URL", &fake.url)
        .env("ESC_TOKEN", "tok-sdk")
        .env("ESC_ENV", "acme/app/dev")
        .args(["load", "--format", "json"])
        .assert()
        .success();
    let from_escort: BTreeMap<String, String> = serde_json::from_slice(&ours.get_output().stdout).unwrap();

    assert_eq!(from_escort, from_sdk);
    assert_eq!(from_escort.len(), 8);
    // Objects compare as JSON, not as text the two sides happened to format alike.
    let nested: Value = serde_json::from_str(&from_escort["NESTED"]).unwrap();
    assert_eq!(nested, json!({"user": "admin", "pass": "pw", "list": [1, "two", false]}));
}
