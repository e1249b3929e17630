//! Writing .env files: `NAME='value'` lines that dotenvy (escort's own
//! reader) and python-dotenv both read back as the exact value.
//!
//! The two parsers agree on less than one would hope (tested in
//! `tests/it/dotenv_source.rs`): dotenvy reads single quotes literally but
//! trips on a backslash before a quote; python-dotenv decodes `\\` and `\'`
//! there. In double quotes dotenvy knows only `\n \\ \" \' \$` and expands
//! `$NAME`, while python-dotenv keeps `\$` as two characters. A carriage
//! return survives neither reader's other form. So each value gets the first
//! form that both read exactly, and a value that has none (a `\r`, or a `$`
//! that needs double quotes) is written for dotenvy, and reported.

use crate::secret::Secret;
use crate::ui;
use crate::wiped::Wiped;
use std::path::Path;

/// Append `value` quoted; false when no form is read identically by both
/// parsers. Into a `Wiped` buffer, which leaves no copy behind as it grows.
pub fn push_quoted(out: &mut Wiped<String>, value: &str) -> bool {
    let single_ok = !value.contains('\'') && !value.contains('\r') && !value.contains("\\\\") && !value.ends_with('\\');
    if single_ok {
        out.push('\'');
        out.push_str(value);
        out.push('\'');
        return true;
    }
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '$' => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    !value.contains('\r') && !value.contains('$')
}

/// `text` as comment lines: `# ` before each of its lines, `#` alone for a
/// blank one. Any other control character is escaped (`\r`, `\u{b}`):
/// python-dotenv ends a line at a lone `\r`, which would turn the rest of
/// the comment into an entry.
pub fn push_comment(out: &mut String, text: &str) {
    for line in text.lines() {
        if line.trim().is_empty() {
            out.push_str("#\n");
            continue;
        }
        out.push_str("# ");
        for c in line.chars() {
            if c.is_control() && c != '\t' {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        out.push('\n');
    }
}

/// Warn that python-dotenv may read `name`'s value (as written in `file`, or
/// on stdout) differently: what the `odd` callbacks below usually do.
pub fn warn_odd(name: &str, file: Option<&Path>) {
    let from = file.map(|f| format!(" from {}", f.display())).unwrap_or_default();
    ui::warn(&format!(
        "{name}: the value has a carriage return, or a `$` beside quotes or backslashes; \
         dotenvy and escort read it back exactly{from}, python-dotenv may not"
    ));
}

/// `NAME=value` lines in the order given. `odd` is told each name whose value
/// has no form both parsers read alike.
pub fn render<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a Secret)>,
    mut odd: impl FnMut(&str),
) -> Wiped<String> {
    let entries: Vec<_> = entries.into_iter().collect();
    // Sized for values that need no escape (single quotes); others grow it.
    let len = entries.iter().map(|(name, value)| name.len() + value.len() + "=''\n".len()).sum();
    let mut out = Wiped::new(String::with_capacity(len));
    for (name, value) in entries {
        push_entry(&mut out, name, value, &mut odd);
    }
    out
}

fn push_entry(out: &mut Wiped<String>, name: &str, value: &Secret, odd: &mut impl FnMut(&str)) {
    out.push_str(name);
    out.push('=');
    if !push_quoted(out, value.expose()) {
        odd(name);
    }
    out.push('\n');
}

/// The sections of a file escort owns: each group's title and its members,
/// in order (a manifest's groups, members in the manifest's order).
pub type Groups = Vec<(String, Vec<String>)>;

/// `old` (a .env file escort has read) with its entries set to `entries`, in
/// place: an entry whose value is unchanged keeps its text, a changed one is
/// rewritten where it stands (keeping an `export ` prefix), one `entries`
/// lacks is removed, and the names the file did not have are appended.
/// Comments, blank lines and the order stay (docs/routes.md, "dotenv:PATH").
pub fn edit(old: &str, entries: &[(String, Secret)], mut odd: impl FnMut(&str)) -> Wiped<String> {
    let mut out = Wiped::new(String::with_capacity(
        old.len() + entries.iter().map(|(n, v)| n.len() + v.len() + 8).sum::<usize>(),
    ));
    let mut placed = std::collections::HashSet::new();
    let lines: Vec<(usize, usize)> = line_spans(old);
    let mut i = 0;
    while i < lines.len() {
        let (from, to) = lines[i];
        let Some((export, name)) = entry_start(&old[from..to]) else {
            out.push_str(&old[from..to]);
            i += 1;
            continue;
        };
        // The entry's lines: the fewest from here that read as that one entry
        // (a quoted value may span several).
        let span = (i..lines.len()).find_map(|j| {
            // A value that spans lines ends on one with its closing quote.
            if j > i && !old[lines[j].0..lines[j].1].contains(['"', '\'']) {
                return None;
            }
            let text = &old[from..lines[j].1];
            let parsed = super::parse(Path::new(""), text.as_bytes()).ok()?;
            (parsed.len() == 1 && parsed[0].0 == name).then_some((j, text, parsed))
        });
        let Some((j, text, parsed)) = span else {
            // Cannot happen in a file escort has read whole; keep the rest as it is.
            out.push_str(&old[from..]);
            break;
        };
        i = j + 1;
        match entries.iter().find(|(n, _)| *n == name) {
            None => {}
            Some((_, value)) if value.expose() == parsed[0].1.expose() => out.push_str(text),
            Some((name, value)) => {
                if export {
                    out.push_str("export ");
                }
                push_entry(&mut out, name, value, &mut odd);
                if text.ends_with("\r\n") {
                    out.pop();
                    out.push_str("\r\n");
                }
            }
        }
        placed.insert(name);
    }
    let mut added = entries.iter().filter(|(name, _)| !placed.contains(name.as_str())).peekable();
    if added.peek().is_some() && !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    for (name, value) in added {
        push_entry(&mut out, name, value, &mut odd);
    }
    out
}

/// The byte ranges of `text`'s lines, each with its line end.
fn line_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    for (at, _) in text.match_indices('\n') {
        spans.push((from, at + 1));
        from = at + 1;
    }
    if from < text.len() {
        spans.push((from, text.len()));
    }
    spans
}

/// Whether `line` starts an entry, as dotenvy reads one: whether it is
/// `export`ed, and its name.
fn entry_start(line: &str) -> Option<(bool, &str)> {
    let line = line.trim_start_matches('\u{feff}').trim_start();
    let (export, rest) = match line.strip_prefix("export").filter(|r| r.starts_with([' ', '\t'])) {
        Some(rest) => (true, rest.trim_start()),
        None => (false, line),
    };
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).unwrap_or(rest.len());
    let name = &rest[..end];
    let starts = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    (starts && rest[end..].trim_start().starts_with('=')).then_some((export, name))
}

/// A whole file that escort owns (the dotenv target): a header, then the
/// entries, by group (in the order of `groups`, members in their order) under
/// `# === GROUP ===` headers, then the rest in `entries` order (under
/// `# === other ===` when there are groups).
pub fn render_grouped(entries: &[(String, Secret)], groups: &Groups, mut odd: impl FnMut(&str)) -> Wiped<String> {
    // (group rank, rank in the group, entry): ungrouped last, in file order.
    let mut placed: Vec<(usize, usize, &(String, Secret))> = entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let grouped = groups
                .iter()
                .enumerate()
                .find_map(|(group, (_, members))| members.iter().position(|m| *m == entry.0).map(|at| (group, at)));
            let (group, at) = grouped.unwrap_or((usize::MAX, i));
            (group, at, entry)
        })
        .collect();
    placed.sort_by_key(|(group, at, _)| (*group, *at));
    let any_grouped = placed.first().is_some_and(|(group, _, _)| *group != usize::MAX);

    let mut out = Wiped::new(String::from(
        "# Written by escort, which changes only the entries it sets: comments and layout stay.\n",
    ));
    let mut section = None;
    for (group, _, (name, value)) in placed {
        if any_grouped && section != Some(group) {
            section = Some(group);
            let title = groups.get(group).map_or("other", |(title, _)| title.as_str());
            out.push('\n');
            push_comment(&mut out, &format!("=== {title} ==="));
        }
        push_entry(&mut out, name, value, &mut odd);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dotenv::substitution_line;

    fn quoted(v: &str) -> (String, bool) {
        let mut s = Wiped::new(String::new());
        let ok = push_quoted(&mut s, v);
        (s.to_string(), ok)
    }

    #[test]
    fn forms() {
        assert_eq!(quoted("plain $HOME #x"), ("'plain $HOME #x'".into(), true));
        assert_eq!(quoted("it's"), ("\"it's\"".into(), true));
        assert_eq!(quoted("a\\\\b"), ("\"a\\\\\\\\b\"".into(), true));
        assert_eq!(quoted("l1\nl2"), ("'l1\nl2'".into(), true));
        assert_eq!(quoted("it's $5"), ("\"it's \\$5\"".into(), false));
        assert!(!quoted("a\r\nb").1);
    }

    fn entries(pairs: &[(&str, &str)]) -> Vec<(String, Secret)> {
        pairs.iter().map(|(k, v)| (k.to_string(), Secret::new(*v))).collect()
    }

    fn groups() -> Groups {
        let names = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        vec![("api-keys".into(), names(&["OPENAI", "ANTHROPIC"])), ("database".into(), names(&["DB_URL"]))]
    }

    #[test]
    fn an_edit_keeps_comments_layout_and_unchanged_entries() {
        let old = "\u{feff}# top\n\nexport KEEP=k # why\nOLD=1\r\nMULTI=\"l1\nl2\"\nGONE=x\n  # indented\nTAIL=t";
        let want = [("KEEP", "k"), ("OLD", "2"), ("MULTI", "l1\nl2"), ("TAIL", "t2"), ("NEW", "n")];
        let mut odd = Vec::new();
        let got = edit(old, &entries(&want), |n| odd.push(n.to_string()));
        assert_eq!(
            got.as_str(),
            "\u{feff}# top\n\nexport KEEP=k # why\nOLD='2'\r\nMULTI=\"l1\nl2\"\n  # indented\nTAIL='t2'\nNEW='n'\n"
        );
        assert!(odd.is_empty());
        // Read back, the file holds exactly the entries.
        let back = crate::dotenv::parse(Path::new(".env"), got.as_bytes()).unwrap();
        let back: Vec<(&str, &str)> = back.iter().map(|(n, v)| (n.as_str(), v.expose())).collect();
        assert_eq!(back, want);
        // Nothing changed: the same text.
        let same = entries(&[("KEEP", "k"), ("OLD", "1"), ("MULTI", "l1\nl2"), ("GONE", "x"), ("TAIL", "t")]);
        assert_eq!(edit(old, &same, |_| {}).as_str(), old);
    }

    #[test]
    fn grouped_in_manifest_order_with_the_rest_last() {
        let e = entries(&[("LOCAL", "1"), ("ANTHROPIC", "a"), ("DB_URL", "d"), ("OPENAI", "o"), ("EXTRA", "x")]);
        let text = render_grouped(&e, &groups(), |_| {});
        let want = "# Written by escort, which changes only the entries it sets: comments and layout stay.\n\
                    \n# === api-keys ===\nOPENAI='o'\nANTHROPIC='a'\n\
                    \n# === database ===\nDB_URL='d'\n\
                    \n# === other ===\nLOCAL='1'\nEXTRA='x'\n";
        assert_eq!(text.as_str(), want);
    }

    #[test]
    fn without_groups_one_section_in_entry_order() {
        let e = entries(&[("B", "it's"), ("A", "2")]);
        for g in [Groups::new(), groups()] {
            let text = render_grouped(&e, &g, |_| {});
            assert!(text.ends_with("stay.\nB=\"it's\"\nA='2'\n"), "{}", text.as_str());
        }
        let plain = render(e.iter().map(|(k, v)| (k.as_str(), v)), |_| {});
        assert_eq!(plain.as_str(), "B=\"it's\"\nA='2'\n");
    }

    #[test]
    fn values_without_a_common_form_are_reported() {
        let e = entries(&[("CR", "a\r\nb"), ("OK", "fine"), ("DOLLAR", "it's $5")]);
        let mut odd = Vec::new();
        render_grouped(&e, &Groups::new(), |name| odd.push(name.to_string()));
        assert_eq!(odd, ["CR", "DOLLAR"]);
    }

    #[test]
    fn comments_stay_comments() {
        let mut out = String::new();
        push_comment(&mut out, "one\n\n  \r\ntwo\rX=1\u{b}\tend");
        assert_eq!(out, "# one\n#\n#\n# two\\rX=1\\u{b}\tend\n");
        let parsed = crate::dotenv::parse(std::path::Path::new(".env"), out.as_bytes()).unwrap();
        assert!(parsed.is_empty());
    }

    #[test]
    fn escorts_own_quoting_never_substitutes() {
        for value in ["$HOME", "it's $5", "a\\$b", "\"$\"", "${X}", "back\\\\slash $", "l1\n$l2", "'$'"] {
            let mut text = Wiped::new(String::from("A="));
            push_quoted(&mut text, value);
            text.push('\n');
            assert_eq!(substitution_line(&text), None, "{:?}", text.as_str());
        }
    }
}
