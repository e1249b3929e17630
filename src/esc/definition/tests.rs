//! Tests of reading and editing definitions.

use super::query::{Change, Definition, Since};
use super::tree::Kind;
use crate::error::{Kind as ErrorKind, kind_of};
use crate::secret::Secret;
use crate::wiped::Wiped;
use std::collections::HashMap;

fn parse(text: &str) -> Definition {
    Definition::parse(Wiped::new(text.to_string())).unwrap()
}

fn set<'a>(name: &'a str, value: &'a Secret, secret: bool) -> Change<'a> {
    Change { name, value: Some(value), secret }
}

fn delete(name: &str) -> Change<'_> {
    Change { name, value: None, secret: false }
}

fn edit(text: &str, changes: &[Change]) -> String {
    parse(text).edit(changes).unwrap().text.to_string()
}

fn refused(text: &str, changes: &[Change]) -> String {
    let err = parse(text).edit(changes).err().unwrap_or_else(|| panic!("{text:?}: the edit should be refused"));
    assert_eq!(kind_of(&err), ErrorKind::Usage, "{err:#}");
    format!("{err:#}")
}

const RICH: &str = "\
# The team's dev environment.
imports:
  - base        # shared settings
  - ${org}/aws
values:
  common: &common
    region: eu-west-1
  environmentVariables:
    # Plain config
    LOG_LEVEL: info   # trailing comment
    REGION: *common
    API_KEY:
      fn::secret:
        ciphertext: ZXNjeAAAAAEAAAEAdGhpcyBpcyBub3QgcmVhbA==
    CERT: |
      -----BEGIN-----
      abc

    # Kept: a comment between entries
    DB_URL:
      fn::secret: postgres://plain-before-save
  pulumiConfig:
    region: ${common.region}
";

#[test]
fn edits_touch_only_the_keys_written() {
    let (new_key, log, api, cert) =
        (Secret::new("sk-new"), Secret::new("debug"), Secret::new("rotated"), Secret::new("line1\nline2"));
    let out = edit(
        RICH,
        &[
            set("LOG_LEVEL", &log, false),
            set("API_KEY", &api, true),
            set("CERT", &cert, true),
            delete("DB_URL"),
            set("NEW_KEY", &new_key, true),
            set("PLAIN", &log, false),
        ],
    );
    let expected = "\
# The team's dev environment.
imports:
  - base        # shared settings
  - ${org}/aws
values:
  common: &common
    region: eu-west-1
  environmentVariables:
    # Plain config
    LOG_LEVEL: \"debug\"
    REGION: *common
    API_KEY:
      fn::secret: \"rotated\"
    CERT:
      fn::secret: \"line1\\nline2\"
    # Kept: a comment between entries
    NEW_KEY:
      fn::secret: \"sk-new\"
    PLAIN: \"debug\"
  pulumiConfig:
    region: ${common.region}
";
    assert_eq!(out, expected);
}

#[test]
fn what_is_read() {
    let d = parse(RICH);
    let vars: Vec<(String, Option<bool>)> = d.variables().unwrap().into_iter().map(|v| (v.name, v.secret)).collect();
    let expect = [
        ("LOG_LEVEL", Some(false)),
        ("REGION", Some(false)),
        ("API_KEY", Some(true)),
        ("CERT", Some(false)),
        ("DB_URL", Some(true)),
    ];
    assert_eq!(vars, expect.map(|(n, s)| (n.to_string(), s)));

    let d = parse(
        "values:\n  base: &b {A: 1, S: {fn::secret: x}}\n  environmentVariables:\n    <<: *b\n    A: 2\n    I: ${x.y}\n    F: {fn::open::aws: {}}\n    O: {k: [1, {fn::secret: y}]}\n",
    );
    let vars: Vec<(String, Option<bool>)> = d.variables().unwrap().into_iter().map(|v| (v.name, v.secret)).collect();
    let expect = [("A", Some(false)), ("I", None), ("F", None), ("O", Some(true)), ("S", Some(true))];
    assert_eq!(vars, expect.map(|(n, s)| (n.to_string(), s)));

    for empty in ["", "# nothing\n", "---\n", "values: {}\n", "values:\n  environmentVariables:\n", "imports: [a]\n"] {
        assert!(parse(empty).variables().unwrap().is_empty(), "{empty:?}");
    }
    // An anchor that holds its own alias, and aliases that repeat a node
    // 10^9 times, are read without looping forever.
    let d = parse("values:\n  environmentVariables:\n    X: &x [*x]\n");
    assert_eq!(d.variables().unwrap()[0].secret, None);
    let mut bomb = String::from("values:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        bomb.push_str(&format!("  l{i}: &l{i} [{}]\n", vec![format!("*l{}", i - 1); 10].join(", ")));
    }
    bomb.push_str("  environmentVariables:\n    BOMB: [*l8, *l8]\n");
    let d = parse(&bomb);
    assert_eq!(d.variables().unwrap()[0].secret, None);
    assert_eq!(d.since(&d).unwrap()["BOMB"], Since::Changed, "too big to compare is not `Same`");
    for bad in [
        "values: [1]\n",
        "values:\n  environmentVariables: text\n",
        "- a\n",
        "values:\n  environmentVariables:\n    A: 1\n    A: 2\n",
    ] {
        assert_eq!(kind_of(&parse(bad).variables().err().unwrap()), ErrorKind::Usage, "{bad}");
    }
}

#[test]
fn since_compares_values_as_written() {
    let older = parse(
        "values:\n  environmentVariables:\n    A: x\n    B: {fn::secret: {ciphertext: AAA}}\n    C: &c 1\n    D: *c\n    E: 1\n",
    );
    let newer = parse(
        "values:\n  environmentVariables:\n    A: \"x\"\n    B:\n      fn::secret:\n        ciphertext: AAA\n    D: 1\n    E: 2\n    F: 1\n",
    );
    let since = newer.since(&older).unwrap();
    let want =
        [("A", Since::Changed), ("B", Since::Same), ("D", Since::Same), ("E", Since::Changed), ("F", Since::Added)];
    assert_eq!(since, want.iter().map(|(n, s)| (n.to_string(), *s)).collect::<HashMap<_, _>>());
    let rotated = parse("values:\n  environmentVariables:\n    B: {fn::secret: {ciphertext: BBB}}\n");
    assert_eq!(rotated.since(&older).unwrap()["B"], Since::Changed);
}

#[test]
fn missing_mappings_are_created_with_the_indentation_in_use() {
    let v = Secret::new("v");
    assert_eq!(
        edit("imports:\n    - base\nvalues:\n    other: 1\n# end\n", &[set("A", &v, false), set("S", &v, true)]),
        "imports:\n    - base\nvalues:\n    other: 1\n    environmentVariables:\n        A: \"v\"\n        S:\n            fn::secret: \"v\"\n# end\n"
    );
    assert_eq!(
        edit("imports:\n  - base\n", &[set("A", &v, false)]),
        "imports:\n  - base\nvalues:\n  environmentVariables:\n    A: \"v\"\n"
    );
    assert_eq!(edit("", &[set("A", &v, false)]), "values:\n  environmentVariables:\n    A: \"v\"\n");
    assert_eq!(
        edit("# only a comment", &[set("A", &v, false)]),
        "# only a comment\nvalues:\n  environmentVariables:\n    A: \"v\"\n"
    );
    assert_eq!(edit("---\n", &[set("A", &v, false)]), "---\nvalues:\n  environmentVariables:\n    A: \"v\"\n");
    assert_eq!(
        edit("values: {}   # empty\n", &[set("A", &v, false)]),
        "values:   # empty\n  environmentVariables:\n    A: \"v\"\n"
    );
    assert_eq!(
        edit("values:\nother: 1\n", &[set("A", &v, false)]),
        "values:\n  environmentVariables:\n    A: \"v\"\nother: 1\n"
    );
    assert_eq!(
        edit("values:\n  environmentVariables: ~\n  x: 1", &[set("A", &v, false)]),
        "values:\n  environmentVariables:\n    A: \"v\"\n  x: 1"
    );
    assert_eq!(
        edit("values:\n  x: 1\n  environmentVariables: {}", &[set("A", &v, false)]),
        "values:\n  x: 1\n  environmentVariables:\n    A: \"v\"\n"
    );
}

#[test]
fn line_endings_and_last_lines_are_kept() {
    let v = Secret::new("v");
    assert_eq!(
        edit(
            "values:\r\n  environmentVariables:\r\n    A: 1\r\n    B: 2\r\n",
            &[set("A", &v, false), set("C", &v, false)]
        ),
        "values:\r\n  environmentVariables:\r\n    A: \"v\"\r\n    B: 2\r\n    C: \"v\"\r\n"
    );
    assert_eq!(
        edit("values:\n  environmentVariables:\n    A: 1", &[set("B", &v, false)]),
        "values:\n  environmentVariables:\n    A: 1\n    B: \"v\"\n"
    );
    // Trailing blank lines that belong to a kept block scalar stay with it.
    assert_eq!(
        edit("values:\n  environmentVariables:\n    K: |+\n      x\n\n    A: 1\n", &[set("N", &v, false)]),
        "values:\n  environmentVariables:\n    K: |+\n      x\n\n    A: 1\n    N: \"v\"\n"
    );
    assert_eq!(
        edit("values:\n  environmentVariables:\n    A: 1\n    K: |+\n      x\n\n", &[set("N", &v, false)]),
        "values:\n  environmentVariables:\n    A: 1\n    K: |+\n      x\n\n    N: \"v\"\n"
    );
    assert_eq!(
        edit("values:\n  environmentVariables:\n    A: \"multi\n      line\"   # c\n    B: 1\n", &[delete("A")]),
        "values:\n  environmentVariables:\n    B: 1\n"
    );
}

#[test]
fn deleting_what_is_not_there_changes_nothing() {
    let text = "values:\n  environmentVariables:\n    A: 1\n";
    let edited = parse(text).edit(&[delete("B")]).unwrap();
    assert_eq!((edited.text.as_str(), edited.existed), (text, vec![false]));
    let edited = parse(RICH).edit(&[delete("LOG_LEVEL"), delete("NOPE")]).unwrap();
    assert_eq!(edited.existed, vec![true, false]);
    assert!(!edited.text.contains("LOG_LEVEL") && edited.text.contains("REGION: *common"));
    // Deleting every entry leaves an empty (null) mapping, comments kept.
    assert_eq!(
        edit("values:\n  environmentVariables:\n    A: 1 # a\n    # note\n  x: 2\n", &[delete("A")]),
        "values:\n  environmentVariables:\n    # note\n  x: 2\n"
    );
}

#[test]
fn layouts_a_line_edit_cannot_handle_are_refused() {
    let v = Secret::new("v");
    let a = [set("A", &v, false)];
    for (text, why) in [
        ("values: {environmentVariables: {A: 1}}\n", "flow mapping"),
        ("values:\n  environmentVariables: {B: 1}\n", "flow mapping"),
        ("base: &x {}\nvalues:\n  environmentVariables: *x\n", "alias"),
        ("values:\n  environmentVariables: &ev\n    B: 1\nother: *ev\n", "anchor"),
        ("values:\n  environmentVariables:\n    <<: {B: 1}\n    C: 1\n", "merge key"),
        ("values:\n  <<: {x: 1}\n", "merge key"),
        ("<<: {values: {}}\n", "merge key"),
        ("values:\n  environmentVariables:\n    A: &a 1\n    B: *a\n", "anchor"),
        ("values:\n  environmentVariables:\n    ? A\n    : 1\n", "own line"),
        ("values:\n  environmentVariables:\n    &k B: 1\n", "plain name"),
        ("values:\n  environmentVariables:\n    B: 1\n  \t# note\n    C: 2\n", "tabs"),
        ("values:\n  environmentVariables:\n    B: 1\n    B: 2\n", "twice"),
        ("a: 1\n---\nb: 2\n", "more than one"),
        ("values:\r  environmentVariables:\r", "carriage returns"),
        ("[1, 2]\n", "top level"),
        ("values: [1]\n", "not a mapping"),
        ("values:\n  environmentVariables: text\n", "not a mapping"),
        ("---\n...\n", "..."),
    ] {
        let shown = refused(text, &a);
        assert!(shown.contains(why) && shown.contains("Nothing was written"), "{text:?}: {shown}");
    }
}

#[test]
fn malformed_yaml_is_the_service_s_fault_and_never_quoted() {
    for bad in ["values:\n  environmentVariables:\n    A: \"unterminated-canary\n", "a: [b\n", "a: b\n c: d\n"] {
        let err = Definition::parse(Wiped::new(bad.to_string())).err().unwrap();
        let shown = format!("{err:#}");
        assert_eq!(kind_of(&err), ErrorKind::Backend, "{shown}");
        assert!(shown.contains("not valid YAML") && shown.contains("line") && !shown.contains("canary"), "{shown}");
    }
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let err = Definition::parse(Wiped::new(deep)).err().unwrap();
    assert_eq!(kind_of(&err), ErrorKind::Backend);
}

const HOSTILE: &[&str] = &[
    "",
    " leading and trailing ",
    "quote \" backslash \\ single ' hash # colon: dash - star * amp & bang ! pct % at @ tick `",
    "line1\nline2\r\nline3\rend\n",
    "tab\there, nul\0, bell\x07, esc\x1b, del\x7f, c1\u{85}\u{9f}, nbsp\u{a0}",
    "ls\u{2028}ps\u{2029} bom\u{feff} nonchar\u{fffe}\u{ffff}",
    "ünïcødé 秘密 🙂 \u{10FFFF}",
    "${not.interpolated} $${x} {a: b} [1] - item",
    "null",
    "true",
    "0x1F",
    "---",
    "...",
    "|\n  block",
];

#[test]
fn values_read_back_exactly_in_two_parsers() {
    let secrets: Vec<Secret> = HOSTILE.iter().map(|v| Secret::new(*v)).collect();
    let names: Vec<String> = (0..HOSTILE.len()).map(|i| format!("V{i}")).collect();
    let changes: Vec<Change> =
        names.iter().zip(&secrets).enumerate().map(|(i, (n, v))| set(n, v, i % 2 == 0)).collect();
    let out = edit(RICH, &changes);

    let ours = parse(&out);
    let theirs: serde_norway::Value = serde_norway::from_str(&out).unwrap();
    let vars = &theirs["values"]["environmentVariables"];
    for (i, (name, want)) in names.iter().zip(HOSTILE).enumerate() {
        let node = ours.variable_nodes().unwrap().into_iter().find(|(n, _)| n == name).unwrap().1.clone();
        let text = match (&node.kind, i % 2 == 0) {
            (Kind::Map(e), true) => e[0].1.key().unwrap().to_string(),
            (Kind::Scalar { text, .. }, false) => text.expose().to_string(),
            _ => panic!("{name}: not written as asked"),
        };
        // The YAML holds each `$` doubled, which ESC reads back as one (`quote`).
        let yaml = want.replace('$', "$$");
        assert_eq!(text, yaml, "{name}");
        let read = if i % 2 == 0 { &vars[name]["fn::secret"] } else { &vars[name] };
        assert_eq!(read.as_str(), Some(yaml.as_str()), "{name} (serde_norway)");
    }
    assert!(out.lines().all(|l| !l.contains('\t')), "every value is one escaped line");
}

#[test]
fn what_a_value_reads_from_its_imports() {
    let text = "imports:\n  - app/base@stable\n  - shared: {merge: false}\nvalues:\n  db:\n    host: h\n  \
                region: eu\n  api:\n    fn::open::aws-secrets: {}\n  environmentVariables:\n    \
                PASSWORD: ${db.password}\n    WHOLE: \"${db}\"\n    HOST: ${db.host}\n    \
                REGION: ${region}\n    TOKEN: ${token.value}\n    API: ${api}\n    OTHER: ${environments.p.e.x}\n";
    let d = parse(text);
    assert_eq!(d.imports().unwrap(), ["app/base@stable", "shared"]);
    let reads = |name: &str| d.reads(name).unwrap();
    // A path only an import holds, and a mapping an import merges into.
    assert_eq!(reads("PASSWORD"), Ok(vec!["db".to_string()]));
    assert_eq!(reads("WHOLE"), Ok(vec!["db".to_string()]));
    // A scalar held here overrides whatever an import has.
    assert_eq!(reads("HOST"), Ok(vec![]));
    assert_eq!(reads("REGION"), Ok(vec![]));
    assert_eq!(reads("TOKEN"), Ok(vec!["token".to_string()]));
    assert!(reads("API").is_err_and(|why| why.contains("provider")));
    assert_eq!(reads("OTHER"), Ok(vec!["environments".to_string()]));
    assert_eq!(d.reads_value("db"), Ok(vec![]));
    // Without imports, nothing merges into a mapping held here.
    let alone = parse("values:\n  db:\n    host: h\n  environmentVariables:\n    WHOLE: ${db}\n");
    assert_eq!(alone.reads("WHOLE").unwrap(), Ok(vec![]));
}
