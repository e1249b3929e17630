//! The checks behind `fuzz/` (cargo-fuzz, `scripts/fuzz.sh`): each takes
//! arbitrary bytes and panics when a property of escort's parsers fails.
//! `tests/it/fuzz_corpus.rs` replays the saved corpus and every crash found
//! through the same functions, so `cargo test` needs no nightly.

use crate::dotenv;
use crate::esc::decode;
use crate::esc::definition::{Change, Definition, Since};
use crate::esc::value::{self, Environment};
use crate::fleet::routes::Share;
use crate::manifest;
use crate::redact::{MIN_REDACT_LEN, Redactor};
use crate::secret::Secret;
use crate::source::SourceSpec;
use crate::targets::TargetSpec;
use crate::targets::github::Store;
use crate::targets::github::{MOST_LISTED, list_pages};
use crate::wiped::Wiped;
use std::collections::HashSet;
use std::path::Path;

/// The .env reader: whatever it reads, escort's own writer writes back so
/// that the reader reads the same entries.
pub fn dotenv_reader(data: &[u8]) {
    let Ok(entries) = dotenv::parse(Path::new(".env"), data) else { return };
    let text = dotenv::render(entries.iter().map(|(k, v)| (k.as_str(), v)), |_| {});
    let again = dotenv::parse(Path::new(".env"), text.as_bytes()).expect("escort reads what it wrote");
    assert!(again == entries, "a value changed on its way through escort's writer and reader");
}

/// The manifest: an error is one `FILE:LINE: ...` line; a manifest that
/// loads makes a template whose entries are exactly its secrets, with their
/// defaults (the template's comments never hold an entry).
pub fn manifest(data: &[u8]) {
    let m = match manifest::from_toml_bytes(Path::new("escort.toml"), data) {
        Ok(m) => m,
        Err(e) => {
            let shown = e.to_string();
            assert!(shown.starts_with("escort.toml") && !shown.contains('\n'), "not one line: {shown:?}");
            return;
        }
    };
    let text = crate::example::render(&m);
    let entries = dotenv::parse(Path::new(".env.example"), text.as_bytes()).expect("the template reads back");
    let names: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    let want: HashSet<&str> = m.secrets.iter().map(|s| s.name.as_str()).collect();
    assert!(names.len() == want.len() && names.iter().all(|n| want.contains(n)), "{names:?} for {want:?}");
    for s in &m.secrets {
        if let Some(default) = &s.default {
            let read = entries.iter().find(|(k, _)| *k == s.name).map(|(_, v)| v.expose());
            assert_eq!(read, Some(default.as_str()), "the default of {}", s.name);
        }
    }
}

/// The manifest's routes: the bytes are the `[sync.NAME]` section, after a
/// group and a secret it may name. An error is one `FILE:LINE: ...` line; a
/// route that loads has a printable name and specs, each spec reads back from
/// its text, every target named gets a copy, and no variables target gets
/// secret values.
pub fn manifest_routes(data: &[u8]) {
    let mut text = b"[groups.g]\n[secrets.A]\ngroup = \"g\"\n".to_vec();
    text.extend_from_slice(data);
    let m = match manifest::from_toml_bytes(Path::new("escort.toml"), &text) {
        Ok(m) => m,
        Err(e) => {
            let shown = e.to_string();
            assert!(shown.starts_with("escort.toml") && !shown.contains('\n'), "not one line: {shown:?}");
            return;
        }
    };
    let printable = |t: &str| crate::ui::escape(t) == t;
    for r in &m.routes {
        assert!(printable(&r.name), "route name {:?}", r.name);
        let from = r.from.to_string();
        assert!(printable(&from) && from.parse::<SourceSpec>().as_ref() == Ok(&r.from), "{from:?}");
        let copies = r.copies();
        for spec in &r.to {
            let shown = spec.to_string();
            assert!(printable(&shown) && shown.parse::<TargetSpec>().as_ref() == Ok(spec), "{shown:?}");
            assert!(copies.iter().any(|(c, _)| c == spec), "{shown} has no copy");
        }
        for (spec, share) in &copies {
            if matches!(spec, TargetSpec::GitHub(_, Store::Variables)) {
                assert_eq!(*share, Share::Plain, "{spec}");
            }
        }
    }
}

/// The ESC `Value` decoder: escort's scanner reads every body the serde
/// visitor reads, into the same tree (it may accept more: a fault inside a
/// field it skips); each exported variable is its value as sent (a number's
/// exact text, a string's content, compact JSON for a structure).
pub fn esc_value(data: &[u8]) {
    let scanned = decode::parse(data);
    let Ok(env) = serde_json::from_slice::<Environment>(data) else { return };
    // Two quirks of serde the scanner does not copy: a struct read from an
    // array, and a number written as an object under serde_json's private
    // key, which starts with `$`.
    let dollar = memchr::memchr(b'$', data).is_some() || data.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0024"));
    if !dollar && !data.trim_ascii_start().starts_with(b"[") {
        assert!(scanned.ok().as_ref() == Some(&env.properties), "the two decoders differ");
    }
    // A section or a name given twice: escort reads every one, the JSON tree
    // below keeps only the last, so those are not compared.
    let mut seen = HashSet::new();
    let mut twice = HashSet::new();
    let sections = |name: &str| env.properties.iter().filter(|(s, _)| s == name).count();
    let section_twice = (sections("environmentVariables") > 1, sections("files") > 1);
    for (section, value) in &env.properties {
        let value::Node::Object(entries) = &value.node else { continue };
        for (name, _) in entries {
            if !seen.insert((section.clone(), name.clone())) {
                twice.insert((section.clone(), name.clone()));
            }
        }
    }
    let (vars, _) = value::decode(env.properties);
    let Ok(tree) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let sent = |v: &crate::vars::Var| {
        let section = if v.file { "files" } else { "environmentVariables" };
        tree.get("properties")?.get(section)?.get("value")?.get(&v.name)?.get("value")
    };
    for v in &vars {
        let section = if v.file { "files" } else { "environmentVariables" };
        let doubled = if v.file { section_twice.1 } else { section_twice.0 };
        if doubled || twice.contains(&(section.to_string(), v.name.clone())) {
            continue;
        }
        let got = v.value.expose();
        match sent(v) {
            Some(serde_json::Value::String(s)) => assert_eq!(got, s.as_str()),
            Some(serde_json::Value::Number(n)) => assert_eq!(got, n.to_string()),
            Some(serde_json::Value::Bool(b)) => assert_eq!(got, b.to_string()),
            Some(_) => assert!(serde_json::from_str::<serde_json::Value>(got).is_ok(), "not JSON"),
            None => panic!("{} was not sent", v.name),
        }
    }
}

/// The definition editor: the first byte picks the changes, the rest is the
/// definition. An edit that succeeds changes the variables it writes, and
/// every other variable is the same as before, in the same order.
pub fn definition_edit(data: &[u8]) {
    let Some((&pick, text)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(text) else { return };
    let Ok(old) = Definition::parse(Wiped::new(text.to_string())) else { return };
    let values = [Secret::new("plain: 'x' #y"), Secret::new("l1\nl2 \"q\" \\ \u{85}\t*a &b"), Secret::new("")];
    let all = [
        Change { name: "A", value: Some(&values[0]), secret: false },
        Change { name: "B", value: Some(&values[1]), secret: true },
        Change { name: "C", value: None, secret: false },
        Change { name: "NEW_1", value: Some(&values[2]), secret: pick & 0x80 != 0 },
    ];
    let changes: Vec<Change> =
        all.into_iter().enumerate().filter(|(i, _)| pick & (1 << i) != 0).map(|(_, c)| c).collect();
    let Ok(edited) = old.edit(&changes) else { return };
    let Ok(before) = old.variables() else { return };
    let new = Definition::parse(edited.text).expect("an edit parses");
    let after = new.variables().expect("an edit reads");

    let change = |name: &str| changes.iter().find(|c| c.name == name);
    let mut want: Vec<&str> =
        before.iter().map(|v| v.name.as_str()).filter(|n| change(n).is_none_or(|c| c.value.is_some())).collect();
    for c in changes.iter().filter(|c| c.value.is_some()) {
        if !want.contains(&c.name) {
            want.push(c.name);
        }
    }
    let got: Vec<&str> = after.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(got, want);
    let since = new.since(&old).expect("an edit compares");
    // A value too big to compare is unequal even to itself: not checked.
    let comparable = old.since(&old).expect("a definition compares");
    for v in &after {
        match change(&v.name) {
            Some(c) => assert_eq!(v.secret, Some(c.secret), "{}", v.name),
            None if comparable.get(&v.name) == Some(&Since::Same) => {
                assert_eq!(since.get(&v.name), Some(&Since::Same), "{} changed", v.name)
            }
            None => {}
        }
    }
}

/// The redactor: the first byte sets the chunk size, then patterns separated
/// by `\n`, a NUL, and the stream. Whatever the chunking, the output is the
/// same and holds no pattern. Patterns with a `*` are left out of the check
/// (the mask itself could make one).
pub fn redactor(data: &[u8]) {
    let Some((&size, rest)) = data.split_first() else { return };
    let Some(nul) = rest.iter().position(|&b| b == 0) else { return };
    let Ok(patterns) = std::str::from_utf8(&rest[..nul]) else { return };
    let patterns: Vec<&str> = patterns.split('\n').collect();
    let stream = &rest[nul + 1..];

    let redactor = || Redactor::new(patterns.iter().map(|p| p.as_bytes()), false);
    let (mut whole, mut once) = (redactor(), Vec::new());
    whole.push(stream, &mut once);
    whole.finish(&mut once);
    let (mut chunked, mut out) = (redactor(), Vec::new());
    for chunk in stream.chunks(usize::from(size % 16) + 1) {
        chunked.push(chunk, &mut out);
    }
    chunked.finish(&mut out);
    assert!(out == once, "the output depends on the chunking");
    for p in patterns.iter().filter(|p| p.trim().len() >= MIN_REDACT_LEN && !p.contains('*')) {
        assert!(!out.windows(p.len()).any(|w| w == p.as_bytes()), "a pattern went through");
    }
}

/// GitHub's listing: the first byte sets the page size, then page bodies
/// separated by NULs, served again and again, as a server that never ends
/// would. The listing ends anyway, within what GitHub can hold, with no name
/// twice (docs/security.md).
pub fn github_listing(data: &[u8]) {
    let Some((&size, rest)) = data.split_first() else { return };
    let per_page = usize::from(size % 100) + 1;
    let bodies: Vec<&[u8]> = rest.split(|&b| b == 0).collect();
    let (listed, pages) = list_pages(per_page, bodies.iter().copied().cycle());
    assert!(pages as u64 <= MOST_LISTED + 1, "{pages} pages read");
    let Ok(names) = listed else { return };
    assert!(names.len() as u64 <= MOST_LISTED, "{} names", names.len());
    let distinct: HashSet<String> = names.iter().map(|n| n.to_ascii_uppercase()).collect();
    assert_eq!(distinct.len(), names.len(), "a name twice");
}
