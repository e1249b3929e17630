//! The smoke check (docs/check.md): which source each secret comes from, whether it
//! passes its rules, whether each `one_of` is satisfied.
//!
//! Pure: the sources are read by the caller. The report holds names, statuses
//! and messages made of manifest text, and for each value at most a hint;
//! never the value itself. It serializes to exactly the JSON docs/check.md documents.

use crate::manifest::{Manifest, SecretSpec, placeholder};
use crate::vars::Var;
use serde::Serialize;
use std::collections::HashMap;

/// Shorter values get no hint at all: four characters of a short value are
/// too much of it.
const HINT_MIN_CHARS: usize = 20;
/// Plain (non-secret) values are shown, up to this many characters.
const PLAIN_MAX_CHARS: usize = 60;

/// escort's own credentials: secret whatever a manifest says of them.
pub const OWN_TOKENS: &[&str] = &["ESC_TOKEN", "PULUMI_ACCESS_TOKEN", "GITHUB_TOKEN", "GH_TOKEN", "FLY_API_TOKEN"];

/// One source, as read by the caller.
pub struct SourceRead {
    pub name: String,
    pub state: SourceState,
    pub vars: HashMap<String, Var>,
    /// The source's `secret` flags mean something (see `Source::knows_secrecy`).
    pub knows_secrecy: bool,
}

pub enum SourceState {
    Read,
    /// A .env file that does not exist: nothing to read, nothing wrong.
    Absent,
    /// Not configured, unreachable or refused; the detail says which.
    Unavailable(String),
}

#[derive(Serialize)]
pub struct Report {
    pub ok: bool,
    pub sources: Vec<SourceLine>,
    pub secrets: Vec<SecretLine>,
    pub one_of: Vec<OneOfLine>,
    #[serde(skip)]
    pub exit_code: u8,
}

#[derive(Serialize)]
pub struct SourceLine {
    pub name: String,
    pub status: SourceStatus,
    pub detail: Option<String>,
}

#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    Ok,
    Absent,
    Unavailable,
}

#[derive(Serialize)]
pub struct SecretLine {
    pub name: String,
    pub status: Status,
    pub source: Option<String>,
    pub group: Option<String>,
    pub message: Option<String>,
    /// What the text report may show of the value.
    #[serde(skip)]
    pub shown: Shown,
    #[serde(skip)]
    pub required: bool,
}

impl SecretLine {
    /// Whether this line fails the check.
    pub fn fails(&self) -> bool {
        self.required && matches!(self.status, Status::Missing | Status::Invalid)
    }
}

#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Missing,
    Invalid,
    Defaulted,
    OptionalMissing,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Shown {
    Nothing,
    /// `***` plus the last four characters of a secret of 20 or more.
    Hint(String),
    /// A value the manifest calls plain config (escaped, maybe shortened).
    Plain(String),
}

#[derive(Serialize)]
pub struct OneOfLine {
    pub name: String,
    pub ok: bool,
    /// The keys that have a valid value.
    pub present: Vec<String>,
}

/// Resolve every secret of the manifest against the sources, in order.
pub fn evaluate(manifest: &Manifest, reads: &[SourceRead], strict: bool) -> Report {
    let sources: Vec<SourceLine> = reads.iter().map(source_line).collect();
    let secrets: Vec<SecretLine> = manifest.secrets.iter().map(|spec| resolve(spec, reads)).collect();
    let by_name: HashMap<&str, &SecretLine> = secrets.iter().map(|s| (s.name.as_str(), s)).collect();
    let one_of: Vec<OneOfLine> = manifest
        .one_of
        .iter()
        .map(|o| {
            let present: Vec<String> = o
                .keys
                .iter()
                .filter(|k| by_name.get(k.as_str()).is_some_and(|s| s.status == Status::Ok))
                .cloned()
                .collect();
            OneOfLine { name: o.name.clone(), ok: !present.is_empty(), present }
        })
        .collect();

    let failed = secrets.iter().any(SecretLine::fails) || one_of.iter().any(|o| !o.ok);
    let unreadable = sources.iter().any(|s| s.status == SourceStatus::Unavailable);
    let exit_code = match (strict && unreadable, failed) {
        (true, _) => crate::error::Kind::Backend.exit_code(),
        (false, true) => crate::error::Kind::Failed.exit_code(),
        (false, false) => 0,
    };
    Report { ok: exit_code == 0, sources, secrets, one_of, exit_code }
}

fn source_line(read: &SourceRead) -> SourceLine {
    let (status, detail) = match &read.state {
        SourceState::Read => {
            let n = read.vars.len();
            (SourceStatus::Ok, Some(format!("{n} variable{}", if n == 1 { "" } else { "s" })))
        }
        SourceState::Absent => (SourceStatus::Absent, Some("no such file; skipped".to_string())),
        SourceState::Unavailable(why) => (SourceStatus::Unavailable, Some(why.clone())),
    };
    SourceLine { name: read.name.clone(), status, detail }
}

fn resolve(spec: &SecretSpec, reads: &[SourceRead]) -> SecretLine {
    let mut line = SecretLine {
        name: spec.name.clone(),
        status: Status::Ok,
        source: None,
        group: spec.group.clone(),
        message: None,
        shown: Shown::Nothing,
        required: spec.required,
    };
    let placeholder = placeholder(&spec.name);
    // An empty value, or the template's placeholder, is not a value.
    let (set, unset): (Vec<_>, Vec<_>) = reads
        .iter()
        .filter_map(|r| r.vars.get(&spec.name).map(|v| (r, v)))
        .partition(|(_, v)| !v.value.is_empty() && v.value.expose() != placeholder);

    let Some(&(winner, var)) = set.first() else {
        let why = unset.first().map(|(r, v)| {
            let what = if v.value.is_empty() { "empty" } else { "still the template placeholder" };
            format!("{what} in {}", r.name)
        });
        match &spec.default {
            Some(default) => {
                line.status = Status::Defaulted;
                line.message = why;
                line.shown = if spec.secret { Shown::Nothing } else { plain(default) };
            }
            None if spec.required => {
                line.status = Status::Missing;
                line.message = Some(why.unwrap_or_else(|| "not set in any source".to_string()));
            }
            None => {
                line.status = Status::OptionalMissing;
                line.message = why;
            }
        }
        return line;
    };

    let value = var.value.expose();
    line.source = Some(winner.name.clone());
    // The manifest can make a value secret, never un-secret one that is a
    // token or that its source marks secret (whole or in part).
    let secret =
        spec.secret || OWN_TOKENS.contains(&spec.name.as_str()) || (winner.knows_secrecy && var.holds_secret());
    line.shown = if secret { hint(value) } else { plain(value) };

    let failed: Vec<String> = spec
        .rules
        .iter()
        .filter(|r| !r.accepts(value))
        .map(|r| format!("fails `{}`: must {}", r.name(), r.describe()))
        .collect();
    let differs: Vec<&str> =
        set[1..].iter().filter(|(_, v)| v.value.expose() != value).map(|(r, _)| r.name.as_str()).collect();
    let mut notes = Vec::new();
    if !failed.is_empty() {
        line.status = Status::Invalid;
        notes.push(failed.join("; "));
    }
    if !differs.is_empty() {
        notes.push(format!("{} wins over a different value in {}", winner.name, differs.join(", ")));
    }
    line.message = (!notes.is_empty()).then(|| notes.join("; "));
    line
}

/// `***` and the last four characters of a long value, else `***`.
fn hint(value: &str) -> Shown {
    let n = value.chars().count();
    let tail: String = value.chars().skip(n.saturating_sub(4)).collect();
    if n >= HINT_MIN_CHARS && !tail.chars().any(char::is_control) {
        Shown::Hint(format!("***{tail}"))
    } else {
        Shown::Hint("***".to_string())
    }
}

/// A plain value, escaped, with any registered secret or token in it
/// replaced (a plain `DATABASE_URL` may embed a password known elsewhere).
fn plain(value: &str) -> Shown {
    let escaped: String = crate::secret::scrub(value).escape_debug().collect();
    match escaped.char_indices().nth(PLAIN_MAX_CHARS) {
        Some((cut, _)) => Shown::Plain(format!("{}…", &escaped[..cut])),
        None => Shown::Plain(escaped),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{self, OneOf, Rule};
    use std::path::PathBuf;

    fn spec(name: &str) -> SecretSpec {
        SecretSpec::required(name)
    }

    fn manifest(secrets: Vec<SecretSpec>, one_of: Vec<OneOf>) -> Manifest {
        Manifest { path: PathBuf::from("escort.toml"), secrets, one_of, ..Manifest::default() }
    }

    fn read(name: &str, vars: &[(&str, &str)]) -> SourceRead {
        SourceRead {
            name: name.into(),
            state: SourceState::Read,
            vars: vars.iter().map(|(k, v)| (k.to_string(), Var::secret(*k, *v))).collect(),
            knows_secrecy: false,
        }
    }

    fn down(name: &str) -> SourceRead {
        SourceRead {
            name: name.into(),
            state: SourceState::Unavailable("connection refused".into()),
            vars: HashMap::new(),
            knows_secrecy: true,
        }
    }

    #[test]
    fn precedence() {
        // (sources in order, expected winner or None, expected status)
        let esc = || read("esc", &[("K", "from-esc")]);
        let env = || read("env", &[("K", "from-env")]);
        let dot = || read("dotenv:.env", &[("K", "from-dotenv")]);
        let none = || read("env", &[]);
        let cases: Vec<(Vec<SourceRead>, Option<&str>)> = vec![
            (vec![esc(), env(), dot()], Some("esc")),
            (vec![env(), esc(), dot()], Some("env")),
            (vec![dot(), env(), esc()], Some("dotenv:.env")),
            (vec![none(), read("dotenv:.env", &[("K", "only-here")])], Some("dotenv:.env")),
            (vec![down("esc"), env(), dot()], Some("env")),
            (vec![read("esc", &[("K", "")]), env()], Some("env")),
            (vec![read("env", &[("K", "your_k_here")]), dot()], Some("dotenv:.env")),
            (vec![down("esc"), none()], None),
        ];
        for (i, (reads, want)) in cases.into_iter().enumerate() {
            let r = evaluate(&manifest(vec![spec("K")], vec![]), &reads, false);
            assert_eq!(r.secrets[0].source.as_deref(), want, "case {i}");
            assert_eq!(r.secrets[0].status, if want.is_some() { Status::Ok } else { Status::Missing }, "case {i}");
        }
    }

    #[test]
    fn disagreement_is_named_without_values() {
        let reads = [
            read("esc", &[("K", "aaaa-value")]),
            read("env", &[("K", "bbbb-value")]),
            read("dotenv:.env", &[("K", "aaaa-value")]),
        ];
        let r = evaluate(&manifest(vec![spec("K")], vec![]), &reads, false);
        assert_eq!(r.secrets[0].message.as_deref(), Some("esc wins over a different value in env"));
    }

    #[test]
    fn statuses() {
        let mut optional = spec("OPT");
        optional.required = false;
        let mut defaulted = spec("DEF");
        defaulted.required = false;
        defaulted.secret = false;
        defaulted.default = Some("INFO".into());
        let mut invalid = spec("BAD");
        invalid.rules.push(Rule::Prefix("sk-".into()));
        let mut optional_invalid = spec("OPT_BAD");
        optional_invalid.required = false;
        optional_invalid.rules.push(Rule::MinLength(10));
        let m = manifest(vec![spec("OK"), spec("MISSING"), optional, defaulted, invalid, optional_invalid], vec![]);
        let r = evaluate(&m, &[read("env", &[("OK", "v"), ("BAD", "pk-1"), ("OPT_BAD", "short")])], false);
        let got: Vec<(Status, bool)> = r.secrets.iter().map(|s| (s.status, s.fails())).collect();
        use Status::*;
        assert_eq!(
            got,
            [
                (Ok, false),
                (Missing, true),
                (OptionalMissing, false),
                (Defaulted, false),
                (Invalid, true),
                (Invalid, false)
            ]
        );
        assert_eq!(r.secrets[3].shown, Shown::Plain("INFO".into()));
        assert_eq!(r.secrets[4].message.as_deref(), Some("fails `prefix`: must start with `sk-`"));
        assert!(!r.ok);
        assert_eq!(r.exit_code, 1);
    }

    #[test]
    fn every_rule_reports_its_name() {
        let re = regex_lite::Regex::new("^(?:[0-9]+)$").unwrap();
        let rules = [
            Rule::Prefix("sk-".into()),
            Rule::Pattern("[0-9]+".into(), re),
            Rule::MinLength(50),
            Rule::Url,
            Rule::Values(vec!["a".into()]),
        ];
        for rule in rules {
            let name = rule.name();
            let mut s = spec("K");
            s.rules.push(rule);
            let r = evaluate(&manifest(vec![s], vec![]), &[read("env", &[("K", "canary-value")])], false);
            let line = &r.secrets[0];
            assert_eq!(line.status, Status::Invalid, "{name}");
            let msg = line.message.as_deref().unwrap();
            assert!(msg.contains(&format!("`{name}`")) && !msg.contains("canary"), "{msg}");
        }
    }

    #[test]
    fn one_of() {
        let o = || vec![OneOf { name: "llm".into(), keys: vec!["A".into(), "B".into()] }];
        let specs = || {
            let mut a = spec("A");
            a.required = false;
            a.rules.push(Rule::Prefix("a-".into()));
            let mut b = spec("B");
            b.required = false;
            vec![a, b]
        };
        type Vars<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Vars, bool, &[&str]); 4] = [
            (&[("B", "x")], true, &["B"]),
            (&[("A", "a-1"), ("B", "x")], true, &["A", "B"]),
            (&[], false, &[]),
            (&[("A", "wrong")], false, &[]),
        ];
        for (vars, ok, present) in cases {
            let r = evaluate(&manifest(specs(), o()), &[read("env", vars)], false);
            assert_eq!(
                (r.one_of[0].ok, r.one_of[0].present.clone()),
                (ok, present.iter().map(|s| s.to_string()).collect())
            );
            assert_eq!(r.ok, ok, "{vars:?}");
        }
    }

    #[test]
    fn unreadable_sources_fail_only_when_strict() {
        let reads = || [down("esc"), read("env", &[("K", "v")])];
        let m = manifest(vec![spec("K")], vec![]);
        let r = evaluate(&m, &reads(), false);
        assert!(r.ok && r.exit_code == 0);
        assert_eq!(r.sources[0].status, SourceStatus::Unavailable);
        let r = evaluate(&m, &reads(), true);
        assert!(!r.ok && r.exit_code == 3);
    }

    #[test]
    fn what_is_shown() {
        assert_eq!(hint("0123456789abcdefWXYZ"), Shown::Hint("***WXYZ".into()));
        assert_eq!(hint("0123456789abcdefXYZ"), Shown::Hint("***".into()));
        assert_eq!(hint("0123456789abcdef\nXYZ"), Shown::Hint("***".into()));
        assert_eq!(plain("a\nb"), Shown::Plain("a\\nb".into()));
        assert!(matches!(plain(&"x".repeat(100)), Shown::Plain(s) if s.chars().count() == PLAIN_MAX_CHARS + 1));
        // A value ESC marks secret stays secret whatever the manifest says.
        let mut s = spec("K");
        s.secret = false;
        let mut esc = read("esc", &[("K", "long-enough-to-hint-1234")]);
        esc.knows_secrecy = true;
        let r = evaluate(&manifest(vec![s], vec![]), &[esc], false);
        assert_eq!(r.secrets[0].shown, Shown::Hint("***1234".into()));
        assert_eq!(manifest::placeholder("K"), "your_k_here");
    }

    #[test]
    fn f02_tokens_and_secret_parts_are_never_plain() {
        let plain_spec = |name: &str| SecretSpec { secret: false, ..spec(name) };
        for token in OWN_TOKENS {
            let r =
                evaluate(&manifest(vec![plain_spec(token)], vec![]), &[read("env", &[(token, "tok-canary")])], false);
            assert_eq!(r.secrets[0].shown, Shown::Hint("***".into()), "{token}");
        }
        let mut json = Var::plain("J", r#"{"k":"leaf-canary"}"#);
        json.secret_parts.push(crate::secret::Secret::new("leaf-canary"));
        let esc = SourceRead {
            name: "esc".into(),
            state: SourceState::Read,
            vars: HashMap::from([("J".to_string(), json)]),
            knows_secrecy: true,
        };
        let r = evaluate(&manifest(vec![plain_spec("J")], vec![]), &[esc], false);
        assert_eq!(r.secrets[0].shown, Shown::Hint("***".into()));
    }
}
