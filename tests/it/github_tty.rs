//! On a terminal (a pseudo-terminal made by Python's `pty`): the prune and
//! `rm` confirmations, a progress bar, and `set`'s prompt that
//! does not echo what is typed.

use crate::common;

use crate::github_support::{TOKEN, github, state, stored, value, with_existing};
use serde_json::Value;
use std::process::Command;

/// Run escort on a pseudo-terminal; each (prompt, reply) pair waits for the
/// prompt's text, then types the reply. After a `hidden` prompt it first waits
/// for the terminal's echo to be off (the pty master reads the terminal's
/// settings), so nothing is typed before escort is ready not to show it.
const DRIVE: &str = r#"
import json, os, pty, select, sys, termios, time
argv, script = json.loads(sys.argv[1]), json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b""
def read(until=None, limit=30):
    global out
    end = time.time() + limit
    while (until is None or until.encode() not in out) and time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            out += chunk
def echo_off(limit=30):
    end = time.time() + limit
    while termios.tcgetattr(fd)[3] & termios.ECHO:
        if time.time() > end:
            sys.exit("the terminal's echo never went off")
        read(None, 0.01)
for prompt, reply in script:
    read(prompt)
    if "hidden" in prompt:
        echo_off()
    os.write(fd, reply.encode())
read()
_, status = os.waitpid(pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "output": out.decode("utf-8", "replace")}))
"#;

fn on_terminal(fake: &common::Fake, args: &[&str], script: &[(&str, &str)]) -> (i64, String) {
    let mut argv = vec![assert_cmd::cargo::cargo_bin("escort").display().to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let mut cmd = Command::new(common::peer_python());
    for (k, _) in std::env::vars() {
        if k.starts_with("GITHUB_") || k.starts_with("ESCORT_") || k == "GH_TOKEN" || k == "NO_COLOR" {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_API_URL", &fake.url)
        .env("V", "synced")
        .args(["-c", DRIVE, &serde_json::to_string(&argv).unwrap(), &serde_json::to_string(script).unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    (result["code"].as_i64().unwrap(), result["output"].as_str().unwrap().to_string())
}

const REPO: &str = "repos/acme/app/actions";

#[test]
fn prune_asks_and_shows_progress() {
    let fake = github(&with_existing(state(), REPO, 2));
    let sync = ["sync", "--from", "env", "--keys", "V", "--to", "github:acme/app", "--prune"];

    let (code, output) = on_terminal(&fake, &sync, &[("[y/N]", "n\n")]);
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("OLD_000") && output.contains("OLD_001"), "the names to delete are shown: {output}");
    assert_eq!(stored(&fake, REPO).len(), 2, "declined: nothing deleted");
    assert!(value(&fake, REPO, "V").is_none(), "declined: nothing written");

    let (code, output) = on_terminal(&fake, &sync, &[("[y/N]", "y\n")]);
    assert_eq!(code, 0, "{output}");
    // The bar ends full, with what was done (writes go before deletes).
    assert!(output.contains("3/3 1 created, 2 deleted"), "{output}");
    assert!(output.contains("[========================]"), "{output}");
    assert_eq!(stored(&fake, REPO).keys().collect::<Vec<_>>(), ["V"]);
}

#[test]
fn rm_asks_first() {
    let fake = github(&with_existing(state(), REPO, 2));
    let (code, _) = on_terminal(&fake, &["rm", "github:acme/app", "--all"], &[("[y/N]", "\n")]);
    assert_eq!(code, 2);
    assert_eq!(stored(&fake, REPO).len(), 2);
    let (code, output) = on_terminal(&fake, &["rm", "github:acme/app", "OLD_001"], &[("[y/N]", "yes\n")]);
    assert_eq!(code, 0, "{output}");
    assert_eq!(stored(&fake, REPO).keys().collect::<Vec<_>>(), ["OLD_000"]);
}

#[test]
fn set_prompts_without_echo() {
    let fake = github(&state());
    let typed = "typed-secret-3f9c";
    let (code, output) = on_terminal(&fake, &["set", "github:acme/app", "TYPED"], &[("hidden", &format!("{typed}\n"))]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("Value for TYPED") && output.contains("created TYPED"), "{output}");
    assert!(!output.contains(typed), "the typed value was echoed: {output}");
    assert_eq!(value(&fake, REPO, "TYPED").as_deref(), Some(typed));

    // Nothing typed: nothing written.
    let (code, _) = on_terminal(&fake, &["set", "github:acme/app", "EMPTY"], &[("hidden", "\n")]);
    assert_eq!(code, 2);
    assert_eq!(stored(&fake, REPO).len(), 1);
}
