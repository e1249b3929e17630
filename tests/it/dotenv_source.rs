//! The `dotenv:PATH` source against python-dotenv, on a corpus of .env files.
//!
//! escort's reading is observed through `escort check` only: the names it
//! finds (the file used as a `.env.example` manifest) and, for each name,
//! whether its value equals python-dotenv's (a manifest whose `values` rule
//! allows exactly python-dotenv's value). Each case states the expected
//! outcome, so a change on either side fails here; the differences are
//! documented in docs/manifest.md ("How escort reads .env files").

use crate::common::{escort, peer_python};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Both read it, to the same names and values in the same order.
    Same,
    /// Both read it, differently.
    Differs,
    /// python-dotenv reads it without complaint; escort refuses it (exit 2) at this line.
    EscortRefuses(usize),
    /// python-dotenv complains or fails; escort refuses it at this line.
    BothRefuse(usize),
}

use Outcome::*;

fn corpus() -> Vec<(&'static str, Vec<u8>, Outcome)> {
    let long = format!("A={}\nB='{}'\n", "x".repeat(10_000), "y".repeat(10_000));
    vec![
        ("plain", b"A=1\nB=two\nC=x_y-z.w/v:u@h\n".to_vec(), Same),
        (
            "quotes",
            b"A='single quoted'\nB=\"double quoted\"\nC=\"esc \\\" quote\"\nD='a\"b'\nE=\"a'b\"\n".to_vec(),
            Same,
        ),
        ("double_quote_escapes", b"A=\"l1\\nl2\"\nB=\"back\\\\slash\"\n".to_vec(), Same),
        ("double_quote_tab_escape", b"A=\"t\\tb\"\n".to_vec(), EscortRefuses(1)),
        ("single_quote_backslashes", b"A='a\\\\b'\nB='a\\nb'\n".to_vec(), Differs),
        ("export_prefix", b"export A=1\nexport   B='x'\n".to_vec(), Same),
        ("export_as_a_name", b"export=1\n".to_vec(), Same),
        (
            "comments",
            b"# full line\n  # indented\nA=1 # trailing\nB=2#not-a-comment\nC=\"x\" # after quotes\n".to_vec(),
            Same,
        ),
        ("comment_right_after_a_quote", b"A='y'#tight\n".to_vec(), Differs),
        ("hash_inside_quotes", b"A=\"a # b\"\nB='c # d'\n".to_vec(), Same),
        ("multi_line_double", b"A=\"line1\nline2\nline3\"\nB=after\n".to_vec(), Same),
        ("multi_line_single", b"A='line1\nline2'\nB=after\n".to_vec(), Same),
        ("equals_in_values", b"A=b=c\nB=\"x=y\"\nC==lead\n".to_vec(), Same),
        ("duplicate_keys", b"A=first\nB=1\nA=second\n".to_vec(), Same),
        ("crlf", b"A=1\r\nB=\"two\"\r\nC='three'\r\n".to_vec(), Same),
        ("crlf_inside_a_quoted_value", b"A=\"l1\r\nl2\"\r\nB=x\r\n".to_vec(), Differs),
        ("lone_cr_line_ends", b"A=1\rB=2\r".to_vec(), Differs),
        ("empty_values", b"A=\nB=\"\"\nC=''\n".to_vec(), Same),
        ("spaces_around", b"A = 1\n  B=2\nC=3   \n".to_vec(), Same),
        ("unquoted_space", b"A=1\nB=hello world\n".to_vec(), EscortRefuses(2)),
        ("name_without_value", b"A=1\nB\n".to_vec(), EscortRefuses(2)),
        ("braced_interpolation", b"A=1\nB=${A}x\nC=\"${A}y\"\n".to_vec(), Same),
        ("interpolation_in_single_quotes", b"A=1\nB='${A}'\n".to_vec(), Differs),
        ("bare_dollar_unquoted", b"A=1\nB=$A\n".to_vec(), Differs),
        ("bare_dollar_in_double_quotes", b"A=1\nB=\"$A/x\"\n".to_vec(), Differs),
        ("bare_dollar_before_closing_quote", b"A=1\nB=\"$A\"\n".to_vec(), EscortRefuses(2)),
        ("unicode", "A=héllo\nB=\"日本語\"\n".as_bytes().to_vec(), Same),
        ("byte_order_mark", b"\xef\xbb\xbfA=1\n".to_vec(), Same),
        ("invalid_utf8", b"A=1\nB=\xff\n".to_vec(), BothRefuse(2)),
        ("unquoted_backslash", b"A=a\\b\n".to_vec(), EscortRefuses(1)),
        ("apostrophe_in_unquoted", b"A=1\nB=it's\nC=2\n".to_vec(), EscortRefuses(2)),
        ("unclosed_double_quote", b"A=1\nB=\"never closed\nC=1\n".to_vec(), BothRefuse(2)),
        ("dash_in_name", b"MY-KEY=1\n".to_vec(), EscortRefuses(1)),
        ("no_final_newline", b"A=1\nB=2".to_vec(), Same),
        ("long_values", long.into_bytes(), Same),
    ]
}

/// python-dotenv's reading: `Some(pairs)` when it read the file without an
/// exception or a warning, else `None`. Interpolation looks at the
/// environment, so it gets an empty one, as escort does below.
fn python_dotenv(path: &Path) -> Option<Vec<(String, Value)>> {
    let script = r#"
import json, logging, sys
from dotenv import dotenv_values
warned = []
class Catch(logging.Handler):
    def emit(self, record):
        warned.append(record)
logging.getLogger("dotenv").addHandler(Catch())
try:
    pairs = list(dotenv_values(sys.argv[1]).items())
except Exception as e:
    print(json.dumps(None))
else:
    print(json.dumps(None if warned else pairs))
"#;
    let out = Command::new(peer_python()).env_clear().args(["-c", script]).arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn escort_check(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let out =
        escort().env_clear().current_dir(dir).arg("check").args(args).args(["--format", "json"]).output().unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), report, String::from_utf8_lossy(&out.stderr).to_string())
}

/// The names escort reads from `case.env`, or the line of its error.
fn escort_names(dir: &Path) -> Result<Vec<String>, usize> {
    let (code, report, stderr) = escort_check(dir, &["--manifest", "case.env", "--sources", "env"]);
    if code == 2 {
        let line =
            stderr.strip_prefix("escort: error: case.env:").and_then(|rest| rest.split(':').next()?.parse().ok());
        return Err(line.unwrap_or_else(|| panic!("an error without a line: {stderr}")));
    }
    Ok(report["secrets"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect())
}

/// The names whose value, as escort reads it from `case.env`, differs from `want`.
fn escort_differs(dir: &Path, want: &[(String, Value)]) -> Vec<String> {
    let mut manifest = String::from("sources = [\"dotenv:case.env\"]\n");
    for (name, value) in want {
        manifest.push_str(&format!("[secrets.{name}]\nrequired = false\n"));
        if let Value::String(v) = value {
            manifest.push_str(&format!("values = [{}]\n", toml_string(v)));
        }
    }
    std::fs::write(dir.join("compare.toml"), manifest).unwrap();
    let (_, report, stderr) = escort_check(dir, &["--manifest", "compare.toml"]);
    let secrets = report["secrets"].as_array().unwrap_or_else(|| panic!("{stderr}"));
    want.iter()
        .zip(secrets)
        .filter(|((_, value), s)| {
            // The check counts an empty value as not set, and says where it was empty.
            let same = match value {
                Value::String(v) if v.is_empty() => {
                    s["status"] == "optional_missing" && s["message"] == "empty in dotenv:case.env"
                }
                _ => s["status"] == "ok",
            };
            !same
        })
        .map(|((name, _), _)| name.clone())
        .collect()
}

/// A TOML basic string holding exactly `s`.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn outcome(bytes: &[u8]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("case.env"), bytes).unwrap();
    let python = python_dotenv(&dir.path().join("case.env"));
    match (escort_names(dir.path()), python) {
        (Err(line), Some(_)) => EscortRefuses(line),
        (Err(line), None) => BothRefuse(line),
        (Ok(_), None) => panic!("escort reads a file python-dotenv refuses: add an outcome for it"),
        (Ok(names), Some(pairs)) => {
            let python_names: Vec<&String> = pairs.iter().map(|(k, _)| k).collect();
            let valid =
                pairs.iter().all(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            if names.iter().collect::<Vec<_>>() != python_names
                || !valid
                || !escort_differs(dir.path(), &pairs).is_empty()
            {
                Differs
            } else {
                Same
            }
        }
    }
}

#[test]
fn escort_reads_env_files_as_python_dotenv_does_or_the_difference_is_known() {
    let mut wrong = Vec::new();
    for (name, bytes, want) in corpus() {
        let got = outcome(&bytes);
        if got != want {
            wrong.push(format!("{name}: expected {want:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_comparison_can_tell_a_different_value() {
    // The `values` manifest must catch one wrong character, or `Same` proves nothing.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("case.env"), "A=\"l1\\nl2\"\nB=x\n").unwrap();
    let differs = escort_differs(dir.path(), &[("A".into(), Value::from("l1\nl3")), ("B".into(), Value::from("x"))]);
    assert_eq!(differs, ["A"]);
}

#[test]
fn errors_name_the_file_and_line_and_never_the_value() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("case.env"), "OK=1\n\n# note\nBAD=canary-value with-space\n").unwrap();
    let (code, _, stderr) = escort_check(dir.path(), &["--manifest", "case.env", "--sources", "env"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "escort: error: case.env:4: not a valid `NAME=value` line: an unquoted space in the value: quote it \
         (NAME=\"two words\")\n"
    );
}
