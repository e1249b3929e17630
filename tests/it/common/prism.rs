//! Prism (`@stoplight/prism-cli`, installed by scripts/setup-peers.sh) serving
//! an official OpenAPI description on a free loopback port, stopped on drop.
//! It judges requests: a request the description does not allow gets a 422
//! with an `sl-violations` header.

use super::repo;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Prism {
    child: Child,
    pub port: u16,
    pub url: String,
}

/// The official descriptions, vendored in tests/specs (and checked against
/// ../shared/specs by tests/specs.rs) so the tests need nothing outside the repo.
pub fn spec(name: &str) -> PathBuf {
    repo().join("tests/specs").join(name)
}

impl Prism {
    pub fn start(spec_name: &str) -> Prism {
        let bin = repo().join("tests/peers/node_modules/.bin/prism");
        assert!(bin.exists(), "{} is missing: run scripts/setup-peers.sh", bin.display());
        let spec = spec(spec_name);
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
        let prism = Prism { child, port, url: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(90);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "Prism did not listen on port {port} within 90 s");
            std::thread::sleep(Duration::from_millis(200));
        }
        prism
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
