//! The manifest: the secrets a project needs, with their rules (docs/manifest.md).
//!
//! `escort.toml`, or a `.env.example` whose every key is required. Every
//! mistake in a manifest is reported as `FILE:LINE: what is wrong` (exit 2);
//! the TOML parser's own rendering is not used because it quotes the line.

use crate::dotenv;
use crate::error;
use crate::fleet::routes::{RawRoute, Route};
use crate::source::SourceSpec;
use crate::vars::valid_name;
use anyhow::Result;
use regex_lite::Regex;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The precedence of the design notes: ESC, then the environment, then a
/// local file.
fn default_sources() -> Vec<SourceSpec> {
    vec![SourceSpec::Esc(None), SourceSpec::Env, SourceSpec::Dotenv(".env".into())]
}

#[derive(Default)]
pub struct Manifest {
    pub path: PathBuf,
    /// Source names in precedence order: the first that has a value wins.
    pub sources: Vec<SourceSpec>,
    pub groups: Vec<Group>,
    /// In manifest order; keys named only in a `one_of` come last.
    pub secrets: Vec<SecretSpec>,
    pub one_of: Vec<OneOf>,
    /// `[sync.NAME]` routes, in file order.
    pub routes: Vec<Route>,
    /// `ledger = "esc:ORG/PROJECT/ENV"`: where `sync` records what it wrote
    /// (docs/routes.md, "The ledger").
    pub ledger: Option<crate::esc::EnvRef>,
}

impl Manifest {
    /// The sections of a .env file escort writes: each group with its
    /// secrets, in manifest order.
    pub fn file_groups(&self) -> dotenv::Groups {
        let members = |group: &Group| {
            self.secrets.iter().filter(|s| s.group.as_ref() == Some(&group.name)).map(|s| s.name.clone()).collect()
        };
        self.groups.iter().map(|g| (g.name.clone(), members(g))).collect()
    }
}

pub struct Group {
    pub name: String,
    pub rotate_days: Option<u32>,
    pub description: Option<String>,
}

pub struct SecretSpec {
    pub name: String,
    pub group: Option<String>,
    pub description: Option<String>,
    pub required: bool,
    /// The value must never be shown (the default). Plain config may be.
    pub secret: bool,
    pub default: Option<String>,
    pub rules: Vec<Rule>,
}

impl SecretSpec {
    /// A required secret with no description, default or rules.
    pub fn required(name: impl Into<String>) -> Self {
        SecretSpec {
            name: name.into(),
            group: None,
            description: None,
            required: true,
            secret: true,
            default: None,
            rules: Vec::new(),
        }
    }

    /// A required secret of `group`, for tests.
    #[cfg(test)]
    pub fn example(name: &str, group: Option<&str>) -> Self {
        SecretSpec { group: group.map(String::from), ..SecretSpec::required(name) }
    }
}

pub struct OneOf {
    pub name: String,
    pub keys: Vec<String>,
}

pub enum Rule {
    Prefix(String),
    /// Anchored: the whole value must match.
    Pattern(String, Regex),
    MinLength(usize),
    Url,
    Values(Vec<String>),
}

impl Rule {
    /// The rule's name in the manifest.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Prefix(_) => "prefix",
            Rule::Pattern(..) => "pattern",
            Rule::MinLength(_) => "min_length",
            Rule::Url => "url",
            Rule::Values(_) => "values",
        }
    }

    /// What a value must do, after "must", in words made only of the manifest's text.
    pub fn describe(&self) -> String {
        match self {
            Rule::Prefix(p) => format!("start with `{p}`"),
            Rule::Pattern(p, _) => format!("match `{p}`"),
            Rule::MinLength(n) => format!("have at least {n} characters"),
            Rule::Url => "be a URL (scheme://host...)".to_string(),
            Rule::Values(v) => {
                format!("be one of {}", v.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "))
            }
        }
    }

    pub fn accepts(&self, value: &str) -> bool {
        match self {
            Rule::Prefix(p) => value.starts_with(p.as_str()),
            Rule::Pattern(_, re) => re.is_match(value),
            Rule::MinLength(n) => value.chars().count() >= *n,
            Rule::Url => is_url(value),
            Rule::Values(v) => v.iter().any(|allowed| allowed == value),
        }
    }
}

/// `scheme://authority[...]`, nothing blank or invisible in it. Strict on
/// purpose: `localhost:6379` parses as a URL for a generic parser, but it is
/// not what a `*_URL` setting wants.
fn is_url(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once("://") else {
        return false;
    };
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    scheme_ok && !authority.is_empty() && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The placeholder `escort template` writes for a value to fill in. The check
/// counts a value still equal to it as not set.
pub fn placeholder(name: &str) -> String {
    format!("your_{}_here", name.to_ascii_lowercase())
}

/// `--manifest`, else `escort.toml`, else `.env.example`, in the working directory.
pub fn locate(given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path);
    }
    ["escort.toml", ".env.example"].into_iter().map(PathBuf::from).find(|p| p.is_file()).ok_or_else(|| {
        error::usage(
            "no manifest: neither escort.toml nor .env.example is in the working directory (pass --manifest PATH)",
        )
    })
}

/// Read a manifest: TOML when the name ends in `.toml`, else a .env file.
pub fn load(path: &Path) -> Result<Manifest> {
    if path.extension().is_some_and(|e| e == "toml") {
        let bytes = crate::files::read_bounded(path, "the manifest ")?;
        from_toml_bytes(path, &bytes)
    } else {
        from_env_example(path)
    }
}

/// A TOML manifest's bytes; `path` only names them in errors.
pub fn from_toml_bytes(path: &Path, bytes: &[u8]) -> Result<Manifest> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = dotenv::line_at(bytes, e.valid_up_to());
        error::usage(format!("{}:{line}: not valid UTF-8 (save the file as UTF-8)", path.display()))
    })?;
    from_toml(path, text)
}

/// A `.env.example`: every key is a required secret; its values are only
/// placeholders and are ignored.
fn from_env_example(path: &Path) -> Result<Manifest> {
    let secrets = dotenv::read(path)?.into_iter().map(|(name, _)| SecretSpec::required(name)).collect();
    Ok(Manifest { path: path.to_path_buf(), sources: default_sources(), secrets, ..Manifest::default() })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    sources: Option<Spanned<Vec<Spanned<String>>>>,
    ledger: Option<Spanned<String>>,
    #[serde(default)]
    groups: BTreeMap<Spanned<String>, RawGroup>,
    #[serde(default)]
    secrets: BTreeMap<Spanned<String>, RawSecret>,
    #[serde(default)]
    one_of: BTreeMap<Spanned<String>, RawOneOf>,
    #[serde(default)]
    sync: BTreeMap<Spanned<String>, RawRoute>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    rotate_days: Option<Spanned<u32>>,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecret {
    group: Option<Spanned<String>>,
    description: Option<String>,
    required: Option<bool>,
    secret: Option<bool>,
    default: Option<Spanned<String>>,
    prefix: Option<Spanned<String>>,
    pattern: Option<Spanned<String>>,
    min_length: Option<usize>,
    url: Option<bool>,
    values: Option<Spanned<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOneOf {
    keys: Spanned<Vec<Spanned<String>>>,
}

/// `FILE:LINE: message`, as a usage error.
struct At<'a> {
    path: &'a Path,
    text: &'a str,
}

impl At<'_> {
    fn err(&self, span: Option<Range<usize>>, msg: impl std::fmt::Display) -> anyhow::Error {
        // Manifest text quoted in the message (a rule, a name) stays on its one line.
        let msg: String = msg
            .to_string()
            .chars()
            .flat_map(|c| if c.is_control() { c.escape_default().collect() } else { vec![c] })
            .collect();
        match span {
            Some(span) => {
                let line =
                    1 + self.text.as_bytes()[..span.start.min(self.text.len())].iter().filter(|&&b| b == b'\n').count();
                error::usage(format!("{}:{line}: {msg}", self.path.display()))
            }
            None => error::usage(format!("{}: {msg}", self.path.display())),
        }
    }
}

fn from_toml(path: &Path, text: &str) -> Result<Manifest> {
    let at = At { path, text };
    let raw: RawManifest = toml::from_str(text).map_err(|e| at.err(e.span(), e.message().trim_end()))?;

    let sources = match raw.sources {
        None => default_sources(),
        Some(list) if list.get_ref().is_empty() => return Err(at.err(Some(list.span()), "`sources` is empty")),
        Some(list) => list
            .into_inner()
            .into_iter()
            .map(|s| s.get_ref().parse().map_err(|msg: String| at.err(Some(s.span()), msg)))
            .collect::<Result<_>>()?,
    };

    let groups: Vec<Group> = in_file_order(raw.groups)
        .into_iter()
        .map(|(name, g)| {
            plain_name(&at, &name, "groups")?;
            if let Some(days) = g.rotate_days.as_ref().filter(|d| *d.get_ref() == 0) {
                return Err(
                    at.err(Some(days.span()), format!("groups.{}: rotate_days must be at least 1", name.get_ref()))
                );
            }
            Ok(Group {
                name: name.into_inner(),
                rotate_days: g.rotate_days.map(Spanned::into_inner),
                description: g.description,
            })
        })
        .collect::<Result<_>>()?;

    let in_one_of: Vec<&str> =
        raw.one_of.values().flat_map(|o| o.keys.get_ref().iter().map(|k| k.get_ref().as_str())).collect();
    let mut regexes: HashMap<String, Regex> = HashMap::new();
    let mut secrets = Vec::with_capacity(raw.secrets.len());
    for (name, s) in in_file_order(raw.secrets) {
        if !valid_name(name.get_ref()) {
            return Err(at.err(
                Some(name.span()),
                format!("`{}` is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)", name.get_ref()),
            ));
        }
        let ctx = format!("secrets.{}", name.get_ref());
        if let Some(group) = &s.group
            && !groups.iter().any(|g| &g.name == group.get_ref())
        {
            return Err(at.err(
                Some(group.span()),
                format!("{ctx}: group `{}` is not defined (add a [groups.{}] table)", group.get_ref(), group.get_ref()),
            ));
        }
        let mut rules = Vec::new();
        if let Some(p) = s.prefix {
            rules.push(Rule::Prefix(p.into_inner()));
        }
        if let Some(p) = s.pattern {
            // Manifests repeat patterns; compiling each once keeps big manifests fast.
            let re = match regexes.get(p.get_ref()) {
                Some(re) => re.clone(),
                None => {
                    let re = Regex::new(&format!("^(?:{})$", p.get_ref()))
                        .map_err(|e| at.err(Some(p.span()), format!("{ctx}: `pattern` is not a valid regex: {e}")))?;
                    regexes.insert(p.get_ref().clone(), re.clone());
                    re
                }
            };
            rules.push(Rule::Pattern(p.into_inner(), re));
        }
        if let Some(n) = s.min_length {
            rules.push(Rule::MinLength(n));
        }
        if s.url == Some(true) {
            rules.push(Rule::Url);
        }
        if let Some(v) = s.values {
            if v.get_ref().is_empty() {
                return Err(at.err(Some(v.span()), format!("{ctx}: `values` is empty")));
            }
            rules.push(Rule::Values(v.into_inner()));
        }
        if let Some(default) = &s.default
            && let Some(rule) = rules.iter().find(|r| !r.accepts(default.get_ref()))
        {
            let what = format!("{ctx}: the default fails its own `{}` rule (must {})", rule.name(), rule.describe());
            return Err(at.err(Some(default.span()), what));
        }
        // A key in a one_of is required through it, unless it says otherwise.
        let required = s.required.unwrap_or(!in_one_of.contains(&name.get_ref().as_str()));
        secrets.push(SecretSpec {
            group: s.group.map(Spanned::into_inner),
            description: s.description,
            required,
            secret: s.secret.unwrap_or(true),
            default: s.default.map(Spanned::into_inner),
            rules,
            name: name.into_inner(),
        });
    }

    let mut one_of = Vec::with_capacity(raw.one_of.len());
    for (name, o) in in_file_order(raw.one_of) {
        plain_name(&at, &name, "one_of")?;
        if o.keys.get_ref().is_empty() {
            return Err(at.err(Some(o.keys.span()), format!("one_of.{}: `keys` is empty", name.get_ref())));
        }
        let mut keys = Vec::new();
        for key in o.keys.into_inner() {
            if !valid_name(key.get_ref()) {
                return Err(at.err(
                    Some(key.span()),
                    format!("one_of.{}: `{}` is not a valid variable name", name.get_ref(), key.get_ref()),
                ));
            }
            // Undeclared keys are secrets with no rules.
            if !secrets.iter().any(|s| &s.name == key.get_ref()) {
                secrets.push(SecretSpec { required: false, ..SecretSpec::required(key.get_ref().clone()) });
            }
            keys.push(key.into_inner());
        }
        one_of.push(OneOf { name: name.into_inner(), keys });
    }

    let group_names: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
    let routes = crate::fleet::routes::build(in_file_order(raw.sync), &group_names, |span, msg| at.err(span, msg))?;
    let ledger = match raw.ledger {
        None => None,
        Some(text) => Some(ledger_env(text.get_ref()).map_err(|msg| at.err(Some(text.span()), msg))?),
    };
    Ok(Manifest { path: path.to_path_buf(), sources, groups, secrets, one_of, routes, ledger })
}

/// The ledger's environment: `esc:ORG/PROJECT/ENV`, whole and unpinned (it is written).
fn ledger_env(text: &str) -> Result<crate::esc::EnvRef, String> {
    let bad = || format!("`ledger` is `{}`: name an ESC environment, esc:ORG/PROJECT/ENV", crate::ui::escape(text));
    let env = crate::esc::EnvRef::parse(text.strip_prefix("esc:").ok_or_else(bad)?).map_err(|_| bad())?;
    if env.org.is_none() || env.version.is_some() {
        return Err(bad());
    }
    Ok(env)
}

/// A group or one_of name is printed in comments (`escort template`, the
/// dotenv target): a line break in it would end the comment and start a line
/// of the file.
fn plain_name(at: &At, name: &Spanned<String>, table: &str) -> Result<()> {
    if name.get_ref().chars().any(char::is_control) {
        let shown = name.get_ref().escape_debug();
        return Err(at.err(Some(name.span()), format!("{table}.\"{shown}\": a name cannot hold control characters")));
    }
    Ok(())
}

/// TOML tables come out of serde sorted by name; the spans give the order the
/// author wrote them in.
fn in_file_order<T>(map: BTreeMap<Spanned<String>, T>) -> Vec<(Spanned<String>, T)> {
    let mut entries: Vec<_> = map.into_iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest> {
        from_toml(Path::new("escort.toml"), text)
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => {
                assert_eq!(error::kind_of(&e), error::Kind::Usage);
                e.to_string()
            }
        }
    }

    #[test]
    fn full_manifest() {
        let m = parse(
            r#"
sources = ["env", "dotenv:.env.local"]
[groups.api-keys]
rotate_days = 90
[secrets.ZED]
group = "api-keys"
description = "last by name, first in the file"
prefix = "sk-"
pattern = "sk-[a-z]+"
min_length = 5
[secrets.LOG_LEVEL]
required = false
secret = false
default = "INFO"
values = ["DEBUG", "INFO"]
[secrets.DB_URL]
url = true
[secrets.OPENAI_API_KEY]
[one_of.llm]
keys = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"]
"#,
        )
        .unwrap();
        let sources: Vec<String> = m.sources.iter().map(ToString::to_string).collect();
        assert_eq!(sources, ["env", "dotenv:.env.local"]);
        assert_eq!(m.groups[0].rotate_days, Some(90));
        let names: Vec<&str> = m.secrets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["ZED", "LOG_LEVEL", "DB_URL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"]);
        let rules: Vec<&str> = m.secrets[0].rules.iter().map(Rule::name).collect();
        assert_eq!(rules, ["prefix", "pattern", "min_length"]);
        assert!(m.secrets[0].required && m.secrets[0].secret);
        assert!(!m.secrets[1].required && !m.secrets[1].secret);
        // One-of members are required only through the one_of.
        assert!(!m.secrets[3].required && !m.secrets[4].required);
        assert_eq!(m.one_of[0].keys, ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"]);
    }

    #[test]
    fn the_ledger_line() {
        let env = parse("ledger = \"esc:acme/ops/ledger\"\n").unwrap().ledger.unwrap();
        assert_eq!(env.to_string(), "acme/ops/ledger");
        assert!(parse("[secrets.A]\n").unwrap().ledger.is_none());
    }

    #[test]
    fn defaults() {
        let m = parse("[secrets.A]\n").unwrap();
        assert_eq!(m.sources, default_sources());
        assert!(m.secrets[0].required && m.secrets[0].secret);
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let cases = [
            ("[secrets.A]\nrequried = true\n", "escort.toml:2: unknown field `requried`"),
            ("[secrets.A]\nrequired = \"yes\"\n", "escort.toml:2: invalid type"),
            ("[secrets.A]\n\ngroup = \"nope\"\n", "escort.toml:3: secrets.A: group `nope` is not defined"),
            (
                "[secrets.A]\npattern = \"(unclosed\"\n",
                "escort.toml:2: secrets.A: `pattern` is not a valid regex: found open group without closing ')'",
            ),
            ("sources = [\"esc\",\n  \"vault\"]\n", "escort.toml:2: unknown source `vault`"),
            ("sources = []\n", "escort.toml:1: `sources` is empty"),
            ("[secrets.\"A-B\"]\n", "escort.toml:1: `A-B` is not a valid variable name"),
            ("[secrets.A]\nvalues = []\n", "escort.toml:2: secrets.A: `values` is empty"),
            (
                "[secrets.A]\nprefix = \"x\"\ndefault = \"y\"\n",
                "escort.toml:3: secrets.A: the default fails its own `prefix` rule",
            ),
            ("[groups.g]\nrotate_days = 0\n", "escort.toml:2: groups.g: rotate_days must be at least 1"),
            ("[one_of.x]\nkeys = []\n", "escort.toml:2: one_of.x: `keys` is empty"),
            ("[one_of.x]\n", "escort.toml:1: missing field `keys`"),
            ("[secrets.A\n", "escort.toml:1: "),
            ("\n[groups.\"g\\nA=1\"]\n", "escort.toml:2: groups.\"g\\nA=1\": a name cannot hold control characters"),
            ("[one_of.\"x\\ry\"]\nkeys = [\"A\"]\n", "escort.toml:1: one_of.\"x\\ry\": a name cannot"),
            ("ledger = \"acme/ops/l\"\n", "escort.toml:1: `ledger` is `acme/ops/l`: name an ESC environment"),
            ("\nledger = \"esc:ops/l\"\n", "escort.toml:2: `ledger` is `esc:ops/l`"),
            ("ledger = \"esc:acme/ops/l@3\"\n", "escort.toml:1: `ledger` is `esc:acme/ops/l@3`"),
        ];
        for (text, want) in cases {
            let got = err(text);
            assert!(got.starts_with(want), "{text:?}\n got: {got}\nwant: {want}");
            assert!(!got.contains('\n'), "one line: {got}");
        }
    }

    #[test]
    fn rules() {
        let re = Regex::new("^(?:[a-z]+)$").unwrap();
        let cases: [(Rule, &str, bool); 12] = [
            (Rule::Prefix("sk-".into()), "sk-abc", true),
            (Rule::Prefix("sk-".into()), "pk-abc", false),
            (Rule::Pattern("[a-z]+".into(), re.clone()), "abc", true),
            (Rule::Pattern("[a-z]+".into(), re), "abc1", false),
            (Rule::MinLength(3), "ééé", true),
            (Rule::MinLength(4), "ééé", false),
            (Rule::Url, "postgres://u:p@db:5432/x", true),
            (Rule::Url, "https://example.com", true),
            (Rule::Url, "localhost:6379", false),
            (Rule::Url, "https:// spaced", false),
            (Rule::Values(vec!["a".into(), "b".into()]), "b", true),
            (Rule::Values(vec!["a".into(), "b".into()]), "c", false),
        ];
        for (rule, value, want) in cases {
            assert_eq!(rule.accepts(value), want, "{} {value:?}", rule.name());
        }
        assert!(!Rule::Url.accepts("https://"));
    }

    #[test]
    fn control_characters_in_route_names_and_specs_are_refused() {
        for text in [
            "[sync.\"x\\n::stop-commands::t\"]\nfrom = \"env\"\nto = [\"fly:a\"]\n",
            "[sync.r]\nfrom = \"dotenv:a\\n::error::x\"\nto = [\"fly:a\"]\n",
            "[sync.r]\nfrom = \"env\"\nto = [\"dotenv:a\\r::error::x\"]\n",
            "[sync.r]\nfrom = \"env\"\nto = [\"github:a/b@x\\u2028y\"]\n",
        ] {
            let e = from_toml_bytes(std::path::Path::new("escort.toml"), text.as_bytes())
                .err()
                .unwrap_or_else(|| panic!("accepted {text}"));
            let shown = e.to_string();
            assert!(shown.contains("cannot hold control characters") && !shown.contains('\n'), "{shown}");
            assert_eq!(crate::error::kind_of(&e), crate::error::Kind::Usage);
        }
    }

    #[test]
    fn route_dotenv_targets_stay_inside_the_checkout_unless_allowed() {
        let load = |to: &str, extra: &str| {
            let text = format!("[sync.r]\nfrom = \"env\"\nto = [\"{to}\"]\n{extra}");
            from_toml_bytes(std::path::Path::new("escort.toml"), text.as_bytes())
        };
        for to in ["dotenv:../../x.env", "dotenv:/etc/x.env", "dotenv:a/../../x.env"] {
            let e = load(to, "").err().unwrap_or_else(|| panic!("{to} accepted"));
            assert!(e.to_string().starts_with("escort.toml:3: sync.r: `"), "{e}");
            assert!(e.to_string().contains("outside the checkout"), "{e}");
            assert!(load(to, "dotenv_outside = true\n").is_ok(), "{to}");
        }
        assert!(load("dotenv:deploy/prod.env", "").is_ok());
    }
}
