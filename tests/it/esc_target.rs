//! `esc:ENV` as a target of `sync`, `set`, `rm` and `ls`, against the fake ESC
//! (with the peers' Python: it reads PATCHed definitions with PyYAML); read
//! back with the official Python ESC SDK, requests judged by Prism with the
//! official ESC OpenAPI description.

use crate::common;

use crate::common::{Fake, assert_absent, peer_python, repo};
use crate::esc_target_support::{EscRequests, Prism};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output};

const TOKEN: &str = "esc-target-token-4c1d";
const ENV: &str = "acme/app/dev";
const TARGET: &str = "esc:acme/app/dev";
const PATH: &str = "/api/esc/environments/acme/app/dev";

/// Comments, imports, an anchor and its alias, a block scalar, and secrets
/// the service stored as ciphertexts.
const DEFINITION: &str = "\
# Team environment: dev
imports:
  - acme/base          # shared defaults
values:
  region: &region eu-west-1
  environmentVariables:
    # --- plain config ---
    LOG_LEVEL: info
    REGION: *region
    # --- secrets ---
    API_KEY:
      fn::secret:
        ciphertext: ZXNjeAAAAAEAAAEAbm90LXJlYWxseS1hLWNpcGhlcnRleHQ=
    DB_PASSWORD:
      fn::secret:
        ciphertext: ZXNjeAAAAAEAAAEAYW5vdGhlci1jaXBoZXJ0ZXh0
    TLS_CERT: |
      -----BEGIN CERTIFICATE-----
      MIIB
      -----END CERTIFICATE-----
  pulumiConfig:
    aws:region: ${region}
";

/// The plaintexts of DEFINITION's ciphertexts, which the service can decrypt.
const OLD_API_KEY: &str = "sk-old";
const OLD_DB_PASSWORD: &str = "db-old";

/// DEFINITION's environment, the environment it imports, and what the service
/// holds to decrypt its ciphertexts. An open evaluates DEFINITION to what
/// `values` says (the fake serves a given `yaml` as text, and opens `values`).
fn state(yaml: &str) -> Value {
    let mut st = json!({"token": TOKEN, "environments": {ENV: {"yaml": yaml}, "acme/acme/base": {"values": {}}},
           "ciphertexts": {"ZXNjeAAAAAEAAAEAbm90LXJlYWxseS1hLWNpcGhlcnRleHQ=": OLD_API_KEY,
                           "ZXNjeAAAAAEAAAEAYW5vdGhlci1jaXBoZXJ0ZXh0": OLD_DB_PASSWORD}});
    if yaml == DEFINITION {
        st["environments"][ENV]["imports"] = json!(["acme/base"]);
        st["environments"][ENV]["values"] = json!({
            "region": "eu-west-1",
            "environmentVariables": {
                "LOG_LEVEL": "info", "REGION": "eu-west-1",
                "API_KEY": {"fn::secret": OLD_API_KEY}, "DB_PASSWORD": {"fn::secret": OLD_DB_PASSWORD},
                "TLS_CERT": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
            },
            "pulumiConfig": {"aws:region": "${region}"}
        });
    }
    st
}

fn esc_fake(state: &Value) -> Fake {
    Fake::start_with(&peer_python(), "esc_server.py", state)
}

fn escort(fake: &Fake) -> assert_cmd::Command {
    let mut cmd = common::escort();
    cmd.env("ESC_TOKEN", TOKEN).env("ESC_API_URL", &fake.url).env("ESCORT_MAX_RETRY_WAIT", "5");
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The current definition, as the service returns it.
fn definition(fake: &Fake) -> String {
    request(fake, "GET", "")
}

/// Save `yaml` as the definition as a user's `esc env edit` does: the fake
/// stores each plaintext secret under a fresh ciphertext.
fn save(fake: &Fake, yaml: &str) {
    request(fake, "PATCH", yaml);
}

/// An authenticated `method` of the environment's definition: the body answered.
fn request(fake: &Fake, method: &str, body: &str) -> String {
    let addr = fake.url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {PATH} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: token {TOKEN}\r\n\
         Content-Type: application/x-yaml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let resp = text(&resp);
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{method}: {head} {body}");
    body.to_string()
}

fn patches(fake: &Fake) -> Vec<Value> {
    fake.requests().into_iter().filter(|r| r["method"] == "PATCH").collect()
}

/// Lines only in `old` and lines only in `new`, by a longest common subsequence.
fn diff(old: &str, new: &str) -> (Vec<String>, Vec<String>) {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut removed, mut added) = (0, 0, Vec::new(), Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            (i, j) = (i + 1, j + 1);
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            added.push(b[j].to_string());
            j += 1;
        } else {
            removed.push(a[i].to_string());
            i += 1;
        }
    }
    (removed, added)
}

fn peer(script: &str, fake: &Fake) -> Output {
    Command::new(peer_python()).arg(repo().join(script)).args([fake.url.as_str(), TOKEN, ENV]).output().unwrap()
}

/// What the official SDK reads: the values, and the names it sees as secret.
fn sdk_read(fake: &Fake) -> (Value, Value) {
    let values = peer("tests/peers/esc_sdk_read.py", fake);
    assert!(values.status.success(), "SDK: {}", text(&values.stderr));
    let secrets = peer("tests/it/esc_target_support/sdk_secret_names.py", fake);
    assert!(secrets.status.success(), "SDK: {}", text(&secrets.stderr));
    (serde_json::from_slice(&values.stdout).unwrap(), serde_json::from_slice(&secrets.stdout).unwrap())
}

fn dotenv(dir: &tempfile::TempDir, body: &str) -> String {
    let path = dir.path().join(".env");
    std::fs::write(&path, body).unwrap();
    format!("dotenv:{}", path.display())
}

#[test]
fn sync_from_a_dotenv_file_changes_only_its_keys() {
    let fake = esc_fake(&state(DEFINITION));
    let dir = tempfile::tempdir().unwrap();
    let from =
        dotenv(&dir, "API_KEY='sk-new \"quoted\" # not a comment'\nLOG_LEVEL=debug\nNEW_TOKEN=\"line1\\nline2\"\n");

    let out =
        escort(&fake).args(["sync", "--from", &from, "--to", TARGET, "--plaintext", "LOG_LEVEL"]).assert().success();
    let stdout = text(&out.get_output().stdout);
    for row in ["API_KEY    update", "LOG_LEVEL  update", "NEW_TOKEN  create"] {
        assert!(stdout.lines().any(|l| l.starts_with(row) && l.ends_with("ok")), "{row}: {stdout}");
    }
    assert_eq!(patches(&fake).len(), 1, "one edit, one revision");
    assert_eq!(patches(&fake)[0]["headers"]["content-type"], "application/x-yaml");

    // What escort sent: the service stores each plaintext secret as a fresh ciphertext.
    let sent = patches(&fake)[0]["body"].as_str().unwrap().to_string();
    let (removed, added) = diff(DEFINITION, &sent);
    assert_eq!(
        removed,
        [
            "    LOG_LEVEL: info",
            "      fn::secret:",
            "        ciphertext: ZXNjeAAAAAEAAAEAbm90LXJlYWxseS1hLWNpcGhlcnRleHQ="
        ]
    );
    assert_eq!(
        added,
        [
            "    LOG_LEVEL: \"debug\"",
            "      fn::secret: \"sk-new \\\"quoted\\\" # not a comment\"",
            "    NEW_TOKEN:",
            "      fn::secret: \"line1\\nline2\"",
        ]
    );
    assert!(sent.contains("-----END CERTIFICATE-----\n    NEW_TOKEN:\n"), "new keys go at the end:\n{sent}");

    let (values, secrets) = sdk_read(&fake);
    assert_eq!(values["API_KEY"], "sk-new \"quoted\" # not a comment");
    assert_eq!(values["LOG_LEVEL"], "debug");
    assert_eq!(values["NEW_TOKEN"], "line1\nline2");
    assert_eq!(values["REGION"], "eu-west-1");
    assert_eq!(values["TLS_CERT"], "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    assert_eq!(values["DB_PASSWORD"], OLD_DB_PASSWORD, "an untouched ciphertext keeps its value");
    assert_eq!(secrets, json!(["API_KEY", "DB_PASSWORD", "NEW_TOKEN"]));

    // Syncing again finds every value equal once opened: no new revision.
    escort(&fake).args(["sync", "--from", &from, "--to", TARGET, "--plaintext", "LOG_LEVEL"]).assert().success();
    assert_eq!(patches(&fake).len(), 1, "a sync with nothing changed wrote a revision");
}

#[test]
fn hostile_values_read_back_exactly_with_the_sdk() {
    let fake = esc_fake(&state(DEFINITION));
    let values = [
        ("QUOTES", "\" ' \\ \\\" # : - * & ! % @ ` {a: b} [1] ${x.y} $${z}"),
        ("BREAKS", "line1\nline2\r\nline3\rend\n"),
        ("CONTROL", "tab\t bell\u{7} esc\u{1b} del\u{7f} c1\u{85}\u{9f} nbsp\u{a0}"),
        ("UNICODE", "ünïcødé 秘密 🙂 ls\u{2028} ps\u{2029} bom\u{feff}"),
        ("LOOKS_TYPED", "true"),
        ("NUMBERISH", "0x1F"),
        ("EMPTY", ""),
        ("SPACES", "  padded  "),
        ("MARKERS", "---\n...\n|\n  block"),
        // ESC reads `$$` as `$` and `${` as an interpolation, in plain values and secrets alike.
        ("PLAIN_DOLLARS", "a$b $$c $${d} ${e.f} $"),
    ];
    let keys: Vec<&str> = values.iter().map(|(k, _)| *k).collect();
    escort(&fake)
        .envs(values)
        .args([
            "sync",
            "--from",
            "env",
            "--keys",
            &keys.join(","),
            "--to",
            TARGET,
            "--plaintext",
            "LOOKS_TYPED,NUMBERISH,PLAIN_DOLLARS",
        ])
        .assert()
        .success();
    let (read, secrets) = sdk_read(&fake);
    for (name, want) in values {
        assert_eq!(read[name], want, "{name}");
    }
    assert!(!secrets.as_array().unwrap().contains(&json!("LOOKS_TYPED")));
    assert!(secrets.as_array().unwrap().contains(&json!("BREAKS")));
}

#[test]
fn sync_between_environments_keeps_what_is_secret() {
    let mut st = state("values:\n  environmentVariables:\n    KEEP: 1\n");
    st["environments"]["acme/app/prod"] = json!({"values": {"environmentVariables": {
        "PLAIN": "config", "SECRET": {"fn::secret": "s3cr3t"}, "NUMBER": 3
    }}});
    let fake = esc_fake(&st);
    escort(&fake).args(["sync", "--from", "esc:acme/app/prod", "--to", TARGET]).assert().success();
    assert_eq!(
        patches(&fake)[0]["body"].as_str().unwrap(),
        "values:\n  environmentVariables:\n    KEEP: 1\n    NUMBER: \"3\"\n    PLAIN: \"config\"\n    SECRET:\n      fn::secret: \"s3cr3t\"\n"
    );
    let (_, secrets) = sdk_read(&fake);
    assert_eq!(secrets, json!(["SECRET"]));
}

#[test]
fn dry_run_and_prune() {
    let fake = esc_fake(&state(DEFINITION));
    let sync = ["sync", "--from", "env", "--keys", "API_KEY,EXTRA", "--to", TARGET];
    let with = |extra: &[&'static str]| -> Vec<&str> { sync.iter().copied().chain(extra.iter().copied()).collect() };

    let out =
        escort(&fake).envs([("API_KEY", "a"), ("EXTRA", "e")]).args(with(&["--dry-run", "--prune"])).assert().success();
    let stdout = text(&out.get_output().stdout);
    let plan: Vec<Vec<&str>> = stdout.lines().skip(1).map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        plan,
        [
            vec!["update", "API_KEY"],
            vec!["create", "EXTRA"],
            vec!["prune", "LOG_LEVEL"],
            vec!["prune", "REGION"],
            vec!["prune", "DB_PASSWORD"],
            vec!["prune", "TLS_CERT"],
            vec!["1", "to", "create,", "1", "to", "update,", "4", "to", "prune"],
        ],
        "{stdout}"
    );
    let asked: Vec<String> = fake.requests().iter().map(|r| format!("{} {}", r["method"], r["path"])).collect();
    assert_eq!(
        asked[..2],
        [format!("\"GET\" \"{PATH}\""), format!("\"POST\" \"{PATH}/open\"")],
        "the plan costs one read of the definition and one open"
    );
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert_eq!(definition(&fake), DEFINITION);

    escort(&fake).envs([("API_KEY", "a"), ("EXTRA", "e")]).args(with(&["--prune"])).assert().code(2);
    escort(&fake).envs([("API_KEY", "a"), ("EXTRA", "e")]).args(with(&["--prune", "--yes"])).assert().success();
    assert_eq!(patches(&fake).len(), 1, "writes and prunes are one edit");
    assert_eq!(
        patches(&fake)[0]["body"].as_str().unwrap(),
        "# Team environment: dev\nimports:\n  - acme/base          # shared defaults\nvalues:\n  region: &region eu-west-1\n  \
         environmentVariables:\n    # --- plain config ---\n    # --- secrets ---\n    API_KEY:\n      fn::secret: \"a\"\n    \
         EXTRA:\n      fn::secret: \"e\"\n  pulumiConfig:\n    aws:region: ${region}\n"
    );
}

#[test]
fn set_ls_and_rm() {
    let fake = esc_fake(&state(DEFINITION));
    let pem = "-----BEGIN KEY-----\nabc\n-----END KEY-----\n";
    let out = escort(&fake).args(["set", TARGET, "TLS_KEY", "--raw"]).write_stdin(pem).assert().success();
    assert!(text(&out.get_output().stderr).contains("created TLS_KEY in the ESC environment acme/app/dev"));
    escort(&fake).args(["set", TARGET, "LOG_LEVEL", "--plaintext", "LOG_LEVEL"]).write_stdin("warn").assert().success();
    let (values, secrets) = sdk_read(&fake);
    assert_eq!((values["TLS_KEY"].as_str(), values["LOG_LEVEL"].as_str()), (Some(pem), Some("warn")));
    assert_eq!(secrets, json!(["API_KEY", "DB_PASSWORD", "TLS_KEY"]));

    let out = escort(&fake).args(["ls", TARGET]).assert().success();
    let stdout = text(&out.get_output().stdout);
    let rows: Vec<(&str, &str)> =
        stdout.lines().map(|l| (l.split_whitespace().next().unwrap(), l.split_whitespace().last().unwrap())).collect();
    assert_eq!(
        rows,
        [
            ("NAME", "SECRET"),
            ("LOG_LEVEL", "no"),
            ("REGION", "no"),
            ("API_KEY", "yes"),
            ("DB_PASSWORD", "yes"),
            ("TLS_CERT", "no"),
            ("TLS_KEY", "yes")
        ]
    );
    assert!(!stdout.contains("warn") && !stdout.contains("abc"), "{stdout}");
    let out = escort(&fake).args(["ls", TARGET, "--format", "json"]).assert().success();
    let listed: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(listed["target"], "ESC environment acme/app/dev");
    assert_eq!(listed["secrets"][2]["name"], "API_KEY");
    assert_eq!(listed["secrets"][2]["secret"], true);
    assert_eq!(listed["secrets"][0]["secret"], false);

    escort(&fake).args(["rm", TARGET, "TLS_KEY", "LOG_LEVEL"]).assert().code(2);
    let before = definition(&fake);
    escort(&fake).args(["rm", TARGET, "TLS_KEY", "LOG_LEVEL", "--yes"]).assert().success();
    let (removed, added) = diff(&before, &definition(&fake));
    // The service stored TLS_KEY as a ciphertext.
    assert_eq!(removed[..3], ["    LOG_LEVEL: \"warn\"", "    TLS_KEY:", "      fn::secret:"]);
    assert!(removed.len() == 4 && removed[3].starts_with("        ciphertext: "), "{removed:?}");
    assert!(added.is_empty());

    let out = escort(&fake).args(["rm", TARGET, "NOPE", "REGION", "--yes"]).assert().code(4);
    assert!(text(&out.get_output().stderr).contains("delete NOPE"), "{}", text(&out.get_output().stderr));
    escort(&fake).args(["rm", TARGET, "NOPE", "--yes"]).assert().code(3);
    escort(&fake).args(["rm", TARGET, "--all", "--yes"]).assert().success();
    assert!(escort(&fake).args(["ls", TARGET]).assert().success().get_output().stdout.is_empty());
    assert!(definition(&fake).starts_with("# Team environment: dev\nimports:\n"));
}

#[test]
fn flags_that_do_not_apply_are_refused() {
    let fake = esc_fake(&state(DEFINITION));
    for args in [
        vec!["ls", "esc:acme/app/dev@3"],
        vec!["ls", "esc:"],
        vec!["ls", TARGET, "--app", "dependabot"],
        vec!["set", TARGET, "A", "--visibility", "all"],
        vec!["set", TARGET, "A", "--plaintext", "B"],
        vec!["set", TARGET, "not-a-name"],
        vec!["set", "github:acme/app", "A", "--plaintext", "A"],
    ] {
        let out = escort(&fake).env("GITHUB_TOKEN", "x").args(&args).write_stdin("v").assert().code(2);
        assert!(!out.get_output().stderr.is_empty(), "{args:?}");
    }
    assert!(fake.requests().is_empty(), "refused before any request");
}

#[test]
fn concurrent_syncs_both_land() {
    let fake = esc_fake(&state(DEFINITION));
    // The first PATCH is held until the other sync's PATCH has been answered: that one
    // read the same revision and wrote first, whatever the machine's speed.
    fake.set_faults(json!([{"op": "definition_patch", "hold": true, "times": 1}]));
    let run = |keys: &'static str, values: [(&'static str, &'static str); 2]| {
        let mut cmd = escort(&fake);
        cmd.envs(values).args(["sync", "--from", "env", "--keys", keys, "--to", TARGET]);
        move || cmd.output().unwrap()
    };
    let a = std::thread::spawn(run("A1,A2", [("A1", "a-one"), ("A2", "a-two")]));
    let b = std::thread::spawn(run("B1,B2", [("B1", "b-one"), ("B2", "b-two")]));
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    assert!(a.status.success() && b.status.success(), "{}\n{}", text(&a.stderr), text(&b.stderr));
    assert!(patches(&fake).len() >= 3, "one of them met a 409 and wrote again");
    let noted = format!("{}{}", text(&a.stderr), text(&b.stderr));
    assert!(noted.contains("changed while escort was writing to it"), "{noted}");

    let (removed, added) = diff(DEFINITION, &definition(&fake));
    assert!(removed.is_empty(), "nothing lost: {removed:?}");
    let mut added: Vec<String> =
        added.into_iter().filter(|l| l.trim_end().ends_with(':') && !l.starts_with("     ")).collect();
    added.sort();
    assert_eq!(added, ["    A1:", "    A2:", "    B1:", "    B2:"]);
    let (values, _) = sdk_read(&fake);
    assert_eq!([&values["A1"], &values["B2"]], ["a-one", "b-two"]);
}

#[test]
fn a_conflict_that_persists_is_reported_and_nothing_is_lost() {
    let fake = esc_fake(&state(DEFINITION));
    fake.set_faults(json!([{"op": "definition_patch", "status": 409, "times": -1}]));
    let out =
        escort(&fake).env("A", "v").args(["sync", "--from", "env", "--keys", "A", "--to", TARGET]).assert().code(3);
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("ESC environment `acme/app/dev` was changed by someone else each of the 3 times"),
        "{stderr}"
    );
    assert_eq!(patches(&fake).len(), 3);
    assert!(patches(&fake).iter().all(|p| p["headers"]["if-match"].is_string()));
    assert_eq!(definition(&fake), DEFINITION);
}

#[test]
fn bad_definitions_are_refused_with_a_reason() {
    let cases = [
        ("values: [unclosed\n", 3, "not valid YAML"),
        ("values:\n  environmentVariables: {A: 1}\n", 2, "flow mapping"),
        ("values:\n  environmentVariables: &ev\n    A: 1\n  other: *ev\n", 2, "anchor"),
        ("values:\n  environmentVariables:\n    <<: {A: 1}\n", 2, "merge key"),
        ("values:\n  environmentVariables: plain text\n", 2, "not a mapping"),
    ];
    for (yaml, code, why) in cases {
        let fake = esc_fake(&state(yaml));
        let out = escort(&fake)
            .env("A", "v")
            .args(["sync", "--from", "env", "--keys", "A", "--to", TARGET])
            .assert()
            .code(code);
        let stderr = text(&out.get_output().stderr);
        assert!(stderr.contains("acme/app/dev") && stderr.contains(why), "{yaml:?}: {stderr}");
        assert!(patches(&fake).is_empty(), "{yaml:?}");
    }
    // A body that is not even YAML, from a misbehaving server.
    let fake = esc_fake(&state(DEFINITION));
    fake.set_faults(json!([{"op": "definition_get", "malformed": true, "times": -1}]));
    let out = escort(&fake).args(["ls", TARGET]).assert().code(3);
    assert!(text(&out.get_output().stderr).contains("not valid YAML"));
    // The service's own diagnostics are shown when it refuses an edit.
    fake.set_faults(
        json!([{"op": "definition_patch", "status": 400, "diagnostics": [{"summary": "unknown function"}]}]),
    );
    let out =
        escort(&fake).env("A", "v").args(["sync", "--from", "env", "--keys", "A", "--to", TARGET]).assert().code(3);
    assert!(text(&out.get_output().stderr).contains("unknown function"));
}

/// A history of `n` revisions, then the current one; the fake dates revision i
/// (from 1) at 2024-01-01 00:00 plus i-1 minutes.
fn history_state(history: &[&str], current: &str) -> Value {
    let history: Vec<Value> = history.iter().map(|y| json!({"yaml": y})).collect();
    let mut st = state(current);
    st["environments"][ENV]["history"] = json!(history);
    st
}

#[test]
fn ls_dates_each_variable_by_its_last_change() {
    let v = |body: Value| json!({"values": {"environmentVariables": body}});
    let history = [
        v(json!({"A": "1", "B": "x", "D": {"fn::secret": "d-one"}})),
        v(json!({"A": "2", "B": "x", "D": {"fn::secret": "d-one"}})),
        v(json!({"A": "2", "B": "x", "C": "new", "D": {"fn::secret": "d-one"}})),
    ];
    let mut st = state("");
    st["environments"][ENV] = v(json!({"A": "2", "B": "x", "C": "new", "D": {"fn::secret": "d-two"}}));
    st["environments"][ENV]["history"] = json!(history);
    let fake = esc_fake(&st);
    let out = escort(&fake).args(["ls", TARGET, "--format", "json"]).assert().success();
    let listed: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let dates: Vec<(String, Value, Value)> = listed["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e["updated_at"].clone(), e["created_at"].clone()))
        .collect();
    let at = |m: u32| json!(format!("2024-01-01T00:{m:02}:00Z"));
    // Each key's last change, and its addition where the walk got there:
    // B, unchanged since revision 1, was added in it.
    assert_eq!(
        dates,
        [
            ("A".to_string(), at(1), Value::Null),
            ("B".to_string(), at(0), at(0)),
            ("C".to_string(), at(2), at(2)),
            ("D".to_string(), at(3), Value::Null),
        ]
    );
    // `ls` opens each revision it walks: all four here.
    let opens = fake.requests().iter().filter(|r| r["path"].as_str().unwrap().ends_with("/open")).count();
    assert_eq!(opens, 4);
}

/// A variable of an `esc:` target that reads an imported value is dated as a
/// source's is: by the import's revisions too, not only by its own (where
/// its text never changes).
#[test]
fn ls_dates_a_variable_reading_an_import_by_the_import_s_revisions() {
    let db = |password: &str| json!({"values": {"db": {"password": password}}});
    let mut st = state("");
    let mut base = db("two");
    base["history"] = json!(vec![db("one"); 5]);
    st["environments"]["acme/app/base"] = base;
    let mut own =
        json!({"imports": ["app/base"], "values": {"environmentVariables": {"READS": "${db.password}", "OWN": "x"}}});
    own["history"] = json!([own.clone(), own.clone()]);
    st["environments"][ENV] = own;
    let fake = esc_fake(&st);
    let out = escort(&fake).args(["ls", TARGET, "--format", "json"]).assert().success();
    let listed: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let at = |m: u32| json!(format!("2024-01-01T00:{m:02}:00Z"));
    let dates: Vec<(&str, &Value)> =
        listed["secrets"].as_array().unwrap().iter().map(|e| (e["name"].as_str().unwrap(), &e["updated_at"])).collect();
    // READS is the same in each of the environment's own three revisions
    // (00:00 to 00:02); the import changed what it reads in its sixth, at 00:05.
    assert_eq!(dates, [("OWN", &at(0)), ("READS", &at(5))], "{listed}");
}

/// `ls` and `rotation` date an `esc:` target's variables as a source's keys
/// are: by the values an open of each revision returns, so a save that only
/// re-encrypts a secret dates nothing, a retracted revision is skipped, and
/// where the history runs out a key "changed before" the oldest revision.
#[test]
fn dates_follow_opened_values_not_ciphertexts_or_retracted_revisions() {
    let vars = |k: &str, n: &str, m: Option<&str>| {
        let mut v = json!({"environmentVariables": {"K": {"fn::secret": k}, "N": n}});
        if let Some(m) = m {
            v["environmentVariables"]["M"] = json!(m);
        }
        json!({"values": v})
    };
    let mut retracted = vars("k-two", "1", Some("x"));
    retracted["retracted"] = json!({"replacement": 2, "at": "2024-01-01T00:03:00Z", "reason": "leaked"});
    let mut st = state("");
    st["environments"][ENV] = vars("k-two", "2", Some("x"));
    st["environments"][ENV]["history"] = json!([vars("k-one", "1", None), vars("k-two", "1", None), retracted]);
    let fake = esc_fake(&st);
    // The same plaintexts saved again: every ciphertext in the text is new.
    let before = definition(&fake);
    save(&fake, "values:\n  environmentVariables:\n    K: {fn::secret: k-two}\n    N: \"2\"\n    M: x\n");
    assert_ne!(definition(&fake), before, "the save re-encrypted");

    let at = |m: u32| json!(format!("2024-01-01T00:{m:02}:00Z"));
    let listed = || -> Value {
        let out = escort(&fake).args(["ls", TARGET, "--format", "json"]).assert().success();
        serde_json::from_slice::<Value>(&out.get_output().stdout).unwrap()["secrets"].clone()
    };
    assert_eq!(
        listed(),
        json!([
            // The walk stops once each change is found: no revision that added them read.
            {"name": "K", "secret": true, "updated_at": at(1)},
            {"name": "N", "secret": false, "updated_at": at(3)},
            // Added in the retracted revision: seen first in the one after it.
            {"name": "M", "secret": false, "updated_at": at(3), "created_at": at(3)},
        ])
    );
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("escort.toml");
    std::fs::write(&manifest, "[groups.keys]\nrotate_days = 90\n[secrets.K]\ngroup = \"keys\"\n").unwrap();
    let out = escort(&fake)
        .env("ESCORT_NOW", "2024-02-01T00:00:00Z")
        .args(["rotation", "--format", "json", "--target", TARGET, "--manifest"])
        .arg(&manifest)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stderr)));
    let k = report["secrets"].as_array().unwrap().iter().find(|r| r["name"] == "K").unwrap().clone();
    assert_eq!((&k["status"], &k["updated_at"]), (&json!("ok"), &at(1)), "{report}");

    // With revisions 1 and 2 retracted too, K is unchanged in all ESC still
    // has: dated at the oldest readable revision, and said so.
    for n in [1, 2] {
        fake.call("POST", "/_fake/retract", Some(&json!({"env": ENV, "revision": n, "replacement": 4})));
    }
    let out = escort(&fake).args(["ls", TARGET, "--format", "json"]).assert().success();
    let listed: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(listed["secrets"][0], json!({"name": "K", "secret": true, "updated_at": at(3)}));
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains(&format!(
            "K: unchanged in every revision of {ENV} ESC still has: changed before 2024-01-01T00:03:00Z"
        )),
        "{stderr}"
    );
}

#[test]
fn the_revision_walk_pages_back_to_the_first_revision() {
    let same = json!({"values": {"environmentVariables": {"K": "same"}}});
    let mut st = state("");
    st["environments"][ENV] = same.clone();
    st["environments"][ENV]["history"] = json!(vec![same; 70]);
    let fake = esc_fake(&st);
    let out = escort(&fake).args(["ls", TARGET, "--format", "json"]).assert().success();
    let listed: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let first = json!("2024-01-01T00:00:00Z");
    assert_eq!(listed["secrets"], json!([{"name": "K", "secret": false, "updated_at": first, "created_at": first}]));
    let lists: Vec<Value> = fake
        .requests()
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap().ends_with("/versions"))
        .map(|r| r["query"]["before"].clone())
        .collect();
    assert_eq!(lists, [Value::Null, json!("22")], "two pages of 50: the second before revision 22");
}

#[test]
fn requests_follow_the_official_esc_api_description() {
    let prism = Prism::start("esc.openapi.yaml");
    // The validator is live: a definition sent as JSON, or a count that is no number, is refused.
    assert!(!prism.complaints("PATCH", "/environments/acme/app/dev", Some("application/json"), b"{}").is_empty());
    assert!(!prism.complaints("GET", "/environments/acme/app/dev/versions?count=all", None, b"").is_empty());
    assert!(
        prism.complaints("PATCH", "/environments/acme/app/dev", Some("application/x-yaml"), b"values: {}\n").is_empty()
    );

    let fake = esc_fake(&history_state(&[DEFINITION], DEFINITION));
    escort(&fake).env("A", "a").args(["sync", "--from", "env", "--keys", "A", "--to", TARGET]).assert().success();
    escort(&fake).args(["set", TARGET, "B", "--plaintext", "B"]).write_stdin("b").assert().success();
    escort(&fake).args(["ls", TARGET]).assert().success();
    escort(&fake).args(["rm", TARGET, "A", "B", "--yes"]).assert().success();

    let mut kinds = std::collections::BTreeSet::new();
    for r in fake.requests() {
        let (method, path) = (r["method"].as_str().unwrap(), r["path"].as_str().unwrap());
        let query: Vec<String> =
            r["query"].as_object().unwrap().iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap())).collect();
        let target = format!(
            "{}{}",
            path.strip_prefix("/api/esc").unwrap(),
            if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) }
        );
        let body = r["body"].as_str().unwrap_or_default();
        let complaints = prism.complaints(method, &target, r["headers"]["content-type"].as_str(), body.as_bytes());
        assert!(complaints.is_empty(), "{method} {target}: {complaints:?}");
        let shape = path
            .strip_prefix(PATH)
            .unwrap()
            .split('/')
            .map(|s| if s.parse::<u64>().is_ok() { "{n}" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        kinds.insert(format!("{method} {shape}"));
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["GET ", "GET /open/{n}", "GET /versions", "PATCH ", "POST /open", "POST /versions/{n}/open"]
    );
}

const CANARY_TOKEN: &str = "esc-CANARY-token-19ab";
const ONE: &str = "CANARY-esc-one-7d2e";
const LINE1: &str = "CANARY-esc-line-one-3f4a";
const LINE2: &str = "CANARY-esc-line-two-8b9c";
const UNICODE: &str = "CANARY-ésc-秘密-0e1f";
const NEEDLES: &[&str] = &[CANARY_TOKEN, ONE, LINE1, LINE2, UNICODE, "CANARY"];

#[test]
fn no_value_or_token_in_any_output() {
    let mut st = state(DEFINITION);
    st["token"] = json!(CANARY_TOKEN);
    let fake = esc_fake(&st);
    let dir = tempfile::tempdir().unwrap();
    let from = dotenv(&dir, &format!("ONE={ONE}\nMULTI=\"{LINE1}\\n{LINE2}\"\nUNI={UNICODE}\n"));
    let run = |what: &str, args: &[&str], stdin: Option<&str>, token: &str| {
        let mut cmd = escort(&fake);
        cmd.env("ESC_TOKEN", token).args(args);
        common::code_showing_none(cmd, stdin, NEEDLES, what)
    };
    let sync = ["sync", "--from", from.as_str(), "--to", TARGET];
    let with = |extra: &[&'static str]| -> Vec<&str> { sync.iter().copied().chain(extra.iter().copied()).collect() };
    // Once synced, the values are equal: the failed writes below are forced.
    let forced = with(&["--force"]);

    assert_eq!(run("sync", &sync, None, CANARY_TOKEN), Some(0));
    assert_eq!(run("sync plaintext", &with(&["--plaintext", "ONE", "--format", "json"]), None, CANARY_TOKEN), Some(0));
    assert_eq!(run("dry run", &with(&["--dry-run", "--prune"]), None, CANARY_TOKEN), Some(0));
    assert_eq!(run("dry run json", &with(&["--dry-run", "--format", "json"]), None, CANARY_TOKEN), Some(0));
    assert_eq!(run("prune refused", &with(&["--prune"]), None, CANARY_TOKEN), Some(2));
    assert_eq!(run("ls", &["ls", TARGET], None, CANARY_TOKEN), Some(0));
    assert_eq!(run("ls json", &["ls", TARGET, "--format", "json"], None, CANARY_TOKEN), Some(0));
    assert_eq!(run("set", &["set", TARGET, "PIPED"], Some(&format!("{LINE1}\n{LINE2}")), CANARY_TOKEN), Some(0));
    assert_eq!(run("set bad name", &["set", TARGET, "BAD-NAME"], Some(ONE), CANARY_TOKEN), Some(2));
    assert_eq!(run("wrong token", &sync, None, "esc-wrong-token"), Some(3));

    // A server that echoes values and the token in its errors.
    let echo = format!("rejected {ONE} {LINE1} {UNICODE} for {CANARY_TOKEN}");
    fake.set_faults(json!([{"op": "definition_patch", "status": 400, "times": 1, "diagnostics": [{"summary": echo}]}]));
    assert_eq!(run("refused edit", &forced, None, CANARY_TOKEN), Some(3));
    fake.set_faults(json!([{"op": "definition_patch", "status": 409, "times": -1, "body": {"message": echo}}]));
    assert_eq!(run("conflict", &forced, None, CANARY_TOKEN), Some(3));
    fake.set_faults(
        json!([{"op": "definition_patch", "status": 503, "times": -1, "retry_after": "0", "body": {"message": echo}}]),
    );
    assert_eq!(run("unavailable", &forced, None, CANARY_TOKEN), Some(3));
    // `ls` never saw the values, so only its token can be kept out of an echo.
    let echo_token = format!("no revisions for {CANARY_TOKEN}");
    fake.set_faults(
        json!([{"op": "versions", "status": 500, "times": -1, "retry_after": "0", "body": {"message": echo_token}}]),
    );
    assert_eq!(run("ls without revisions", &["ls", TARGET], None, CANARY_TOKEN), Some(3));
    fake.set_faults(json!([{"op": "definition_get", "malformed": true, "times": -1}]));
    assert_eq!(run("malformed", &sync, None, CANARY_TOKEN), Some(3));
    fake.set_faults(json!([]));

    assert_eq!(run("rm", &["rm", TARGET, "ONE", "MISSING", "--yes"], None, CANARY_TOKEN), Some(4));
    assert_eq!(run("rm all", &["rm", TARGET, "--all", "--yes", "--format", "json"], None, CANARY_TOKEN), Some(0));

    // Values in a definition escort refuses to edit stay unshown too.
    let fake = esc_fake(&json!({"token": CANARY_TOKEN, "environments": {ENV: {
        "yaml": format!("values:\n  environmentVariables: {{X: \"{ONE}\"}}\n")
    }}}));
    let mut cmd = escort(&fake);
    let out = cmd.env("ESC_TOKEN", CANARY_TOKEN).args(sync).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_absent(&out.stderr, NEEDLES, "refused layout: stderr");
}
