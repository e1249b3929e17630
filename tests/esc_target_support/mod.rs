//! Prism (`@stoplight/prism-cli`, installed by scripts/setup-peers.sh) serving
//! the official ESC OpenAPI description, to judge the requests escort sent to
//! the fake ESC.

use crate::common::repo;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Prism mock on a free loopback port, stopped on drop.
pub struct Prism {
    child: Child,
    port: u16,
}

impl Prism {
    pub fn start() -> Prism {
        let bin = repo().join("tests/peers/node_modules/.bin/prism");
        assert!(bin.exists(), "{} is missing: run scripts/setup-peers.sh", bin.display());
        let spec = repo().join("../shared/specs/esc.openapi.yaml");
        assert!(spec.exists(), "{} is missing", spec.display());
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(bin)
            .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(&spec)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Prism starts");
        let prism = Prism { child, port };
        let deadline = Instant::now() + Duration::from_secs(90);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "Prism did not listen on port {port} within 90 s");
            std::thread::sleep(Duration::from_millis(200));
        }
        prism
    }

    /// What Prism finds wrong with a request (`target`: path and query under
    /// the API base `/api/esc`); empty when the description allows it.
    pub fn complaints(&self, method: &str, target: &str, content_type: Option<&str>, body: &[u8]) -> Vec<String> {
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

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
