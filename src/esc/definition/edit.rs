//! The line editor: `edit` replaces, inserts or deletes whole lines of
//! `values.environmentVariables` and checks the result by parsing it again.

use super::query::{Change, DEFAULT_STEP, Definition, Edited, MERGE, SECRET_FN, VALUES, VARIABLES};
use super::quote::{capacity, render_entry};
use super::tree::{Kind, Node, Pos};
use crate::error;
use crate::wiped::Wiped;
use anyhow::Result;
use std::cmp::max;

/// Where a mapping that `edit` writes into is.
enum Slot<'n> {
    /// A block mapping: its entries, keys at column `indent`.
    Block { node: &'n Node, indent: usize },
    /// `key:` with nothing after it, `{}`, `~` or `null`, on the key's line.
    Empty { key: &'n Node, value: &'n Node },
    /// Not there: added at the end of its parent.
    Missing,
}

impl<'n> Slot<'n> {
    fn node(&self) -> Option<&'n Node> {
        match self {
            Slot::Block { node, .. } => Some(node),
            _ => None,
        }
    }

    fn entries(&self) -> &'n [(Node, Node)] {
        self.node().and_then(Node::entries).unwrap_or_default()
    }
}

/// Lines `from..to` (0-based, `to` exclusive) become `text`.
struct Splice {
    from: usize,
    to: usize,
    text: Wiped<String>,
}

/// The text as lines, for line-level edits.
struct Lines<'t> {
    text: &'t str,
    /// Byte offset where each line starts, and the end of the text.
    starts: Vec<usize>,
    eol: &'static str,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Lines<'t> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        if *starts.last().unwrap_or(&0) != text.len() {
            starts.push(text.len());
        }
        let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
        Lines { text, starts, eol }
    }

    fn count(&self) -> usize {
        self.starts.len() - 1
    }

    /// Line `i` (0-based) with its line break.
    fn line(&self, i: usize) -> &'t str {
        &self.text[self.starts[i]..self.starts[i + 1]]
    }

    fn indentation(&self, i: usize) -> usize {
        if i >= self.count() {
            return 0;
        }
        self.line(i).chars().take_while(|c| *c == ' ').count()
    }

    /// Byte offset of a parser position within its line.
    fn column(&self, pos: Pos) -> usize {
        let line = self.line(pos.line - 1);
        line.char_indices().nth(pos.col).map_or(line.len(), |(i, _)| i)
    }

    /// The last line (0-based) of the entry `key: value`. A block scalar ends
    /// where the next token begins: an end at a line's indentation belongs
    /// to the line before.
    fn last_line(&self, key: &Node, value: &Node) -> usize {
        let end = max(key.end, value.end);
        let i = end.line - 1;
        if end.line > key.start.line && end.col <= self.indentation(i) { i - 1 } else { i }
    }

    /// The line after the last of `entries`, as an empty splice.
    fn after(&self, entries: &[(Node, Node)]) -> Splice {
        // The parser can place the end of an empty value after the text's last
        // line break (`?` alone): nothing goes after the end of the text.
        self.insert_at(entries.last().map_or(0, |(k, v)| self.last_line(k, v) + 1).min(self.count()))
    }

    /// An empty splice before line `at`; at the end, after a line break.
    fn insert_at(&self, at: usize) -> Splice {
        let mut text = Wiped::new(String::new());
        if at == self.count() && !self.text.is_empty() && !self.text.ends_with('\n') {
            text.push_str(self.eol);
        }
        Splice { from: at, to: at, text }
    }

    /// `key: {}` (or `~`, `null`, nothing) becomes `key:`, ready for a block
    /// under it; a comment after it stays.
    fn open(&self, key: &Node, value: &Node) -> Splice {
        let i = key.start.line - 1;
        let line = self.line(i);
        let (from, to) = (self.column(value.start), self.column(value.end));
        let mut text = Wiped::new(format!("{}{}", line[..from].trim_end(), &line[to..]));
        if !text.ends_with('\n') {
            text.push_str(self.eol);
        }
        Splice { from: i, to: i + 1, text }
    }

    /// The end of a definition with no mapping.
    fn end(&self) -> Result<Splice> {
        if (0..self.count()).any(|i| self.line(i).trim_end() == "...") {
            return Err(refuse("it ends its document with `...`"));
        }
        Ok(self.insert_at(self.count()))
    }

    /// Apply non-overlapping splices.
    fn apply(&self, mut splices: Vec<Splice>) -> Wiped<String> {
        splices.sort_by_key(|s| (s.from, s.to));
        let size = self.text.len() + splices.iter().map(|s| s.text.len()).sum::<usize>();
        let mut out = Wiped::new(String::with_capacity(size));
        let mut at = 0;
        for s in &splices {
            out.push_str(&self.text[self.starts[at]..self.starts[s.from]]);
            out.push_str(&s.text);
            at = s.to;
        }
        out.push_str(&self.text[self.starts[at]..]);
        out
    }
}

impl Definition {
    /// Apply `changes` to the text of `values.environmentVariables`, touching
    /// nothing else, and check the result by parsing it again.
    pub fn edit(&self, changes: &[Change]) -> Result<Edited> {
        let lines = Lines::new(&self.text);
        if self.text.match_indices('\r').any(|(i, _)| !self.text[i + 1..].starts_with('\n')) {
            return Err(refuse("it uses carriage returns without line feeds as line breaks"));
        }
        if self.documents > 1 {
            return Err(refuse("it has more than one YAML document"));
        }
        let root = match &self.root {
            None => None,
            // A document with nothing in it (`---` alone).
            Some(node) if node.is_null() && node.anchor == 0 && node.key() == Some("") => None,
            Some(node) if node.entries().is_some() && !node.flow && node.anchor == 0 => Some(node),
            Some(_) => return Err(refuse("its top level is not a block mapping")),
        };
        let root_entries = root.and_then(Node::entries).unwrap_or_default();
        if root_entries.iter().any(|(k, _)| k.key() == Some(MERGE)) {
            return Err(refuse("its top level has a merge key (<<), which could bring in `values`"));
        }
        let values = self.slot(root, VALUES, VALUES)?;
        if values.entries().iter().any(|(k, _)| k.key() == Some(MERGE)) {
            return Err(refuse("`values` has a merge key (<<), which could bring in `environmentVariables`"));
        }
        let vars = self.slot(values.node(), VARIABLES, "values.environmentVariables")?;

        // New lines copy the indentation the definition uses.
        let root_indent = root_entries.first().map_or(0, |(k, _)| k.start.col);
        let (values_indent, step) = match values {
            Slot::Block { indent, .. } if indent > root_indent => (indent, indent - root_indent),
            _ => (root_indent + DEFAULT_STEP, DEFAULT_STEP),
        };
        let vars_indent = match vars {
            Slot::Block { indent, .. } => indent,
            _ => values_indent + step,
        };
        let secret_step = if vars_indent > values_indent { vars_indent - values_indent } else { step };
        let existing = vars.entries();
        self.check_entries(&lines, existing, vars_indent)?;

        let mut splices = Vec::new();
        let mut existed = Vec::with_capacity(changes.len());
        let mut added = Wiped::new(String::with_capacity(capacity(changes, vars_indent + secret_step)));
        for change in changes {
            let found = existing.iter().find(|(k, _)| k.key() == Some(change.name));
            existed.push(found.is_some());
            match (found, change.value) {
                (Some((key, value)), write) => {
                    if value.has_anchor() {
                        return Err(refuse(&format!(
                            "the value of {} has an anchor (&) that other parts of the definition may use",
                            change.name
                        )));
                    }
                    let mut text = Wiped::new(String::with_capacity(capacity(
                        std::slice::from_ref(change),
                        vars_indent + secret_step,
                    )));
                    if let Some(v) = write {
                        render_entry(&mut text, vars_indent, secret_step, change.name, v, change.secret, lines.eol);
                    }
                    let to = (lines.last_line(key, value) + 1).min(lines.count());
                    splices.push(Splice { from: key.start.line - 1, to, text });
                }
                (None, Some(v)) => {
                    render_entry(&mut added, vars_indent, secret_step, change.name, v, change.secret, lines.eol)
                }
                (None, None) => {}
            }
        }

        if !added.is_empty() {
            let header = |indent: usize, key: &str| format!("{}{key}:{}", " ".repeat(indent), lines.eol);
            let mut splice = match (&vars, &values) {
                (Slot::Block { .. }, _) => lines.after(existing),
                (Slot::Empty { key, value }, _) => lines.open(key, value),
                (Slot::Missing, Slot::Block { .. }) => lines.after(values.entries()),
                (Slot::Missing, Slot::Empty { key, value }) => lines.open(key, value),
                (Slot::Missing, Slot::Missing) if root_entries.is_empty() => lines.end()?,
                (Slot::Missing, Slot::Missing) => lines.after(root_entries),
            };
            if matches!(values, Slot::Missing) {
                splice.text.push_str(&header(root_indent, VALUES));
            }
            if matches!(vars, Slot::Missing) {
                splice.text.push_str(&header(values_indent, VARIABLES));
            }
            splice.text.reserve(added.len());
            splice.text.push_str(&added);
            splices.push(splice);
        }
        if splices.is_empty() {
            return Ok(Edited { text: self.text.clone(), existed });
        }

        let edited = Definition::parse(lines.apply(splices))
            .map_err(|_| refuse("the edit would not be valid YAML (please report this)"))?;
        if !self.kept(&edited, changes)? {
            return Err(refuse("the edit would change more than the keys written (please report this)"));
        }
        Ok(Edited { text: edited.text, existed })
    }

    /// Find `key` in the block mapping `parent`, and say how `edit` can write into it.
    fn slot<'n>(&self, parent: Option<&'n Node>, key: &str, what: &str) -> Result<Slot<'n>> {
        let Some((k, value)) = parent.map(|p| p.get(key, what)).transpose()?.flatten() else {
            return Ok(Slot::Missing);
        };
        if k.anchor != 0 || k.tag.is_some() {
            return Err(refuse(&format!("the key `{what}` has an anchor or a tag")));
        }
        if value.anchor != 0 {
            return Err(refuse(&format!("`{what}` has an anchor (&) that other parts of the definition may use")));
        }
        match &value.kind {
            Kind::Alias(_) => Err(refuse(&format!("`{what}` is an alias (*)"))),
            Kind::Map(entries) if !value.flow => {
                Ok(Slot::Block { node: value, indent: entries.first().map_or(0, |(k, _)| k.start.col) })
            }
            Kind::Map(entries) if entries.is_empty() && value.tag.is_none() && value.start.line == k.start.line => {
                Ok(Slot::Empty { key: k, value })
            }
            Kind::Map(_) => Err(refuse(&format!("`{what}` is a flow mapping ({{...}})"))),
            _ if value.is_null() && value.start.line == k.start.line => Ok(Slot::Empty { key: k, value }),
            _ => Err(refuse(&format!("`{what}` is not a mapping"))),
        }
    }

    /// Every key of the block mapping `entries` is a plain name starting its
    /// own line at `indent`, indented with spaces: what a line edit needs.
    fn check_entries(&self, lines: &Lines, entries: &[(Node, Node)], indent: usize) -> Result<()> {
        let (Some((first, _)), Some((last_key, last_value))) = (entries.first(), entries.last()) else {
            return Ok(());
        };
        if (first.start.line - 1..=lines.last_line(last_key, last_value))
            .any(|i| lines.line(i).trim_start_matches(' ').starts_with('\t'))
        {
            return Err(refuse("environmentVariables is indented with tabs"));
        }
        for (key, _) in entries {
            let Some(name) = key.key().filter(|_| key.anchor == 0 && key.tag.is_none()) else {
                return Err(refuse("environmentVariables has a key that is not a plain name"));
            };
            if name == MERGE {
                return Err(refuse("environmentVariables has a merge key (<<)"));
            }
            let before = &lines.line(key.start.line - 1)[..lines.column(key.start)];
            if key.start.col != indent || !before.chars().all(|c| c == ' ') {
                return Err(refuse(&format!("the key {name} in environmentVariables does not start its own line")));
            }
            if entries.iter().filter(|(k, _)| k.key() == Some(name)).count() > 1 {
                return Err(refuse(&format!("environmentVariables has {name} twice")));
            }
        }
        Ok(())
    }

    /// Whether `edited` is this definition with `changes` made and nothing else.
    fn kept(&self, edited: &Definition, changes: &[Change]) -> Result<bool> {
        let without = |node: Option<&Node>, skip: &str| -> Vec<(Node, Node)> {
            let entries = node.and_then(Node::entries).unwrap_or_default();
            entries.iter().filter(|(k, _)| k.key() != Some(skip)).cloned().collect()
        };
        let same_entries = |a: &[(Node, Node)], b: &[(Node, Node)]| {
            a.len() == b.len() && a.iter().zip(b).all(|((ka, va), (kb, vb))| ka.same(kb) && va.same(vb))
        };
        let child = |node: Option<&Node>, key: &str| -> Result<Option<Node>> {
            Ok(node.map(|n| n.get(key, key)).transpose()?.flatten().map(|(_, v)| v.clone()))
        };
        // A mapping's entries; an absent or null one has none; anything else is no mapping.
        let entries = |node: &Option<Node>| match node {
            Some(n) if !n.is_null() => n.entries().map(<[_]>::to_vec),
            _ => Some(Vec::new()),
        };
        let (old_root, new_root) = (self.root.as_ref().filter(|n| n.entries().is_some()), edited.root.as_ref());
        let (old_values, new_values) = (child(old_root, VALUES)?, child(new_root, VALUES)?);
        let (old_vars, new_vars) = (child(old_values.as_ref(), VARIABLES)?, child(new_values.as_ref(), VARIABLES)?);
        let (Some(old_vars), Some(new_vars)) = (entries(&old_vars), entries(&new_vars)) else { return Ok(false) };
        if edited.documents != 1
            || !same_entries(&without(old_root, VALUES), &without(new_root, VALUES))
            || !same_entries(&without(old_values.as_ref(), VARIABLES), &without(new_values.as_ref(), VARIABLES))
        {
            return Ok(false);
        }

        // What must be there: the old entries, changed or dropped in place, then the new ones.
        let change_of = |name: Option<&str>| changes.iter().find(|c| Some(c.name) == name);
        let mut expected: Vec<(&str, Result<&Node, &Change>)> = Vec::new();
        for (key, value) in &old_vars {
            let name = key.key().unwrap_or_default();
            match change_of(key.key()) {
                Some(c) if c.value.is_none() => {}
                Some(c) => expected.push((name, Err(c))),
                None => expected.push((name, Ok(value))),
            }
        }
        for c in changes.iter().filter(|c| c.value.is_some()) {
            if !old_vars.iter().any(|(k, _)| k.key() == Some(c.name)) {
                expected.push((c.name, Err(c)));
            }
        }
        Ok(expected.len() == new_vars.len()
            && expected.iter().zip(&new_vars).all(|((name, want), (key, value))| {
                key.key() == Some(*name)
                    && match want {
                        Ok(old) => old.same(value),
                        Err(change) => written(value, change),
                    }
            }))
    }
}

/// `value` is what `render_entry` writes for `change`.
pub(super) fn written(value: &Node, change: &Change) -> bool {
    let quoted = |n: &Node| {
        matches!(&n.kind, Kind::Scalar { text, plain: false }
            if change.value.is_some_and(|v| super::quote::holds_literally(text.expose(), v.expose())) && n.tag.is_none())
    };
    match &value.kind {
        Kind::Map(entries) if change.secret => {
            entries.len() == 1 && entries[0].0.key() == Some(SECRET_FN) && quoted(&entries[0].1)
        }
        _ => !change.secret && quoted(value),
    }
}

pub(super) fn refuse(why: &str) -> anyhow::Error {
    error::usage(format!(
        "escort cannot edit this definition safely: {why}. Nothing was written; \
         change the layout of `values.environmentVariables` (block style, one `NAME: value` per line) and try again"
    ))
}
