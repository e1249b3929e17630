//! Prism (`@stoplight/prism-cli`, installed by scripts/setup-peers.sh) serving
//! the official ESC OpenAPI description, to judge the requests escort sent to
//! the fake ESC.

use std::io::{Read, Write};
use std::net::TcpStream;

pub use crate::common::prism::Prism;

/// Judging ESC requests with the official ESC description.
pub trait EscRequests {
    fn complaints(&self, method: &str, target: &str, content_type: Option<&str>, body: &[u8]) -> Vec<String>;
}

impl EscRequests for Prism {
    /// What Prism finds wrong with a request (`target`: path and query under
    /// the API base `/api/esc`); empty when the description allows it.
    fn complaints(&self, method: &str, target: &str, content_type: Option<&str>, body: &[u8]) -> Vec<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: token t\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        if let Some(ct) = content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        s.write_all(format!("{head}\r\n").as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).unwrap();
        let resp = String::from_utf8_lossy(&resp);
        let head = resp.split("\r\n\r\n").next().unwrap_or_default();
        let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let violations = head
            .lines()
            .find_map(|l| l.strip_prefix("sl-violations: "))
            .map(|v| serde_json::from_str::<Vec<serde_json::Value>>(v).unwrap())
            .unwrap_or_default();
        let mut out: Vec<String> = violations
            .iter()
            .filter(|v| v["location"][0] == "request")
            .map(|v| v["message"].as_str().unwrap_or_default().to_string())
            .collect();
        // Prism judges the request before it makes an answer; a 5xx is its
        // mock failing to write one (it has no YAML serializer), not a verdict.
        if (400..500).contains(&status) || status == 0 {
            out.push(format!("Prism answered {status}"));
        }
        out
    }
}
