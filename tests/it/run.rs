//! `escort run -- CMD`: variables set, output redacted, exit code passed on.

use crate::common::{Fake, escort, runtime_dir};
use serde_json::json;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const TOKEN: &str = "tok-run";

fn fake() -> Fake {
    Fake::esc(&json!({
        "token": TOKEN, "default_org": "acme",
        "environments": {"acme/app/dev": {"values": {
            "environmentVariables": {
                "SECRET": {"fn::secret": "hunter2-run-canary"},
                "MULTI": {"fn::secret": "first-line-canary\nsecond-line-canary"},
                "PLAIN": "visible-plain-value",
                "SHORT": {"fn::secret": "ab"},
                "SECRET1": {"fn::secret": "abcXYZsecret1"},
                "SECRET2": {"fn::secret": "abcXYZsecret1-long-tail-SECRET2"},
                "PW": {"fn::secret": "Password: f10-canary-value"}
            },
            "files": {"CERT": {"fn::secret": "-----BEGIN-----\ncert-body-canary\n-----END-----\n"}}
        }}}
    }))
}

fn run(fake: &Fake, script: &str) -> assert_cmd::Command {
    let mut cmd = escort();
    cmd.env("ESC_API_URL", &fake.url)
        .env("ESC_TOKEN", TOKEN)
        .env("ESC_ENV", "acme/app/dev")
        .args(["run", "--", "bash", "-c", script]);
    cmd
}

fn out(a: &assert_cmd::assert::Assert) -> (String, String) {
    let o = a.get_output();
    (String::from_utf8_lossy(&o.stdout).to_string(), String::from_utf8_lossy(&o.stderr).to_string())
}

#[test]
fn the_child_gets_the_variables_and_its_exit_code_is_ours() {
    let fake = fake();
    let a = run(&fake, r#"[ "$SECRET" = hunter2-run-canary ] && [ "$PLAIN" = visible-plain-value ] && exit 42"#)
        .assert()
        .code(42);
    assert_eq!(out(&a).0, "");
}

#[test]
fn secrets_are_redacted_in_stdout_and_stderr_even_when_written_in_pieces() {
    let fake = fake();
    let script = r#"
        echo "s=$SECRET p=$PLAIN short=$SHORT"
        printf 'split: hunter2-'; printf 'run-'; printf 'canary\n'
        echo "$MULTI" >&2
        cat "$CERT"
        echo "only-second: second-line-canary"
    "#;
    let a = run(&fake, script).assert().success();
    let (stdout, stderr) = out(&a);
    assert_eq!(stdout, "s=*** p=visible-plain-value short=ab\nsplit: ***\n***\nonly-second: ***\n");
    assert_eq!(stderr, "***\n");
}

#[test]
fn no_redact_passes_output_through() {
    let fake = fake();
    let mut cmd = escort();
    cmd.env("ESC_API_URL", &fake.url).env("ESC_TOKEN", TOKEN).env("ESC_ENV", "acme/app/dev");
    let a = cmd.args(["run", "--no-redact", "--", "bash", "-c", "echo $SECRET"]).assert().success();
    assert_eq!(out(&a).0, "hunter2-run-canary\n");
}

#[test]
fn files_exist_during_the_run_and_are_gone_after() {
    let fake = fake();
    let a = run(&fake, r#"ls -l "$CERT" | cut -c1-10; ls -ld "$(dirname "$CERT")" | cut -c1-10; echo "$CERT""#)
        .assert()
        .success();
    let stdout = out(&a).0;
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(&lines[..2], ["-rw-------", "drwx------"]);
    assert!(lines[2].starts_with(runtime_dir().to_str().unwrap()), "files go to $XDG_RUNTIME_DIR: {}", lines[2]);
    assert!(!std::path::Path::new(lines[2]).exists(), "{} should be removed", lines[2]);
}

#[test]
fn stdin_reaches_the_child() {
    let fake = fake();
    let a = run(&fake, "tr a-z A-Z").write_stdin("piped in\n").assert().success();
    assert_eq!(out(&a).0, "PIPED IN\n");
}

#[test]
fn a_child_killed_by_a_signal_gives_128_plus_the_signal() {
    let fake = fake();
    run(&fake, "kill -TERM $$").assert().code(128 + 15);
}

#[test]
fn a_missing_command_is_a_usage_error() {
    let fake = fake();
    let mut cmd = escort();
    cmd.env("ESC_API_URL", &fake.url).env("ESC_TOKEN", TOKEN).env("ESC_ENV", "acme/app/dev");
    let a = cmd.args(["run", "--", "/nonexistent/escort-test-cmd"]).assert().code(2);
    assert!(out(&a).1.contains("could not start `/nonexistent/escort-test-cmd`"));
}

/// escort run, spawned with pipes, for tests that talk to it while it runs.
fn spawn(fake: &Fake, script: &str, runtime: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_escort"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("XDG_RUNTIME_DIR", runtime)
        .env("ESC_API_URL", &fake.url)
        .env("ESC_TOKEN", TOKEN)
        .env("ESC_ENV", "acme/app/dev")
        .args(["run", "--", "bash", "-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The bytes a stream gives, as they come, on a channel.
fn reader(mut from: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    rx
}

/// Read until `want` has been seen; fails (rather than hangs) after a generous bound.
fn read_until(rx: &mpsc::Receiver<Vec<u8>>, seen: &mut String, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.contains(want) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            Err(_) => panic!("{want:?} did not come; got {seen:?}"),
        }
    }
}

/// The child's exit status, or a failure (after killing it) if it hangs.
fn wait_bounded(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("escort run did not return");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn f01_a_longer_secret_that_extends_a_shorter_one_is_redacted_whole() {
    let fake = fake();
    // A short pause (the bytes arrive in two reads) and a long one (the held
    // tail is shown by the idle flush first).
    for pause in ["0.05", "0.5"] {
        let script = format!(r#"printf %s "$SECRET1"; sleep {pause}; printf '%s\n' "${{SECRET2#$SECRET1}}""#);
        let a = run(&fake, &script).assert().success();
        let (stdout, _) = out(&a);
        assert!(stdout.starts_with("***") && stdout.ends_with("***\n"), "{pause}: {stdout:?}");
        for leak in ["abc", "secret1", "long", "tail", "SECRET2"] {
            assert!(!stdout.contains(leak), "{pause}: {leak} in {stdout:?}");
        }
    }
}

#[test]
fn f10_a_prompt_that_begins_a_secret_is_shown_while_the_command_waits() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn(&fake, r#"printf 'Password: '; read -r line; echo "got $line"; echo "$PW""#, dir.path());
    let rx = reader(child.stdout.take().unwrap());
    let mut seen = String::new();
    read_until(&rx, &mut seen, "Password: ");
    child.stdin.take().unwrap().write_all(b"typed\n").unwrap();
    assert!(wait_bounded(&mut child).success());
    read_until(&rx, &mut seen, "***\n");
    // A secret written in one write is redacted whole, never flushed in part.
    assert_eq!(seen, "Password: got typed\n***\n");
}

#[test]
fn f11_escort_returns_when_the_command_exits_though_a_background_process_holds_its_output() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn(&fake, "sleep 30 & echo $!; echo started", dir.path());
    let rx = reader(child.stdout.take().unwrap());
    let status = wait_bounded(&mut child);
    let mut seen = String::new();
    read_until(&rx, &mut seen, "started\n");
    let background: i32 = seen.lines().next().unwrap().parse().unwrap();
    // SAFETY: SIGKILL to the background `sleep` this test started.
    unsafe { libc::kill(background, libc::SIGKILL) };
    assert!(status.success(), "{status:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn f12_a_killed_escort_takes_its_command_along_and_the_next_run_sweeps_its_files() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn(&fake, r#"echo "$$ $CERT"; exec sleep 30"#, dir.path());
    let rx = reader(child.stdout.take().unwrap());
    let mut seen = String::new();
    read_until(&rx, &mut seen, "\n");
    let (pid, cert) = seen.trim().split_once(' ').unwrap();
    let (pid, cert): (i32, &std::path::Path) = (pid.parse().unwrap(), cert.as_ref());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(cert.starts_with(dir.path()) && cert.exists(), "{}", cert.display());
    // The command goes with escort (it may linger as a zombie nobody reaps).
    let deadline = Instant::now() + Duration::from_secs(10);
    let alive = || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "));
    while alive() {
        assert!(Instant::now() < deadline, "the command ({pid}) outlived escort");
        std::thread::sleep(Duration::from_millis(20));
    }
    // escort had no time to remove its files; the next run does.
    assert!(cert.exists());
    let a = run(&fake, "true").env("XDG_RUNTIME_DIR", dir.path()).assert().success();
    assert_eq!(out(&a).0, "");
    assert!(!cert.parent().unwrap().exists(), "the dead run's directory is swept");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn escort_returns_the_commands_code_when_its_reader_goes_away() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    // `head -c1`: read one byte, close the pipe; the command then writes more
    // than a pipe holds, which escort must keep draining.
    let mut child = spawn(&fake, "printf a; sleep 0.3; printf b; head -c 2000000 /dev/zero; exit 7", dir.path());
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"a");
    drop(stdout);
    let status = wait_bounded(&mut child);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(7), "{stderr}");
    assert_eq!(stderr, "");
}
