//! A parsed definition and its queries: the variables it states, what
//! changed since an older one. Reads the positioned tree of `tree.rs`.

use super::tree::{Builder, Kind, MAX_DEPTH, Node, invalid, malformed};
use crate::error;
use crate::secret::Secret;
use crate::wiped::Wiped;
use anyhow::Result;
use saphyr_parser::{Event, Parser};
use std::collections::HashMap;

pub(super) const VALUES: &str = "values";
pub(super) const VARIABLES: &str = "environmentVariables";
pub(super) const SECRET_FN: &str = "fn::secret";
pub(super) const MERGE: &str = "<<";
/// Nodes visited while reading one value: aliases can repeat a node many
/// times over, and an anchor may even contain its own alias.
const MAX_STEPS: usize = 10_000;
/// Indentation added per level when the definition shows none to copy.
pub(super) const DEFAULT_STEP: usize = 2;

/// A variable as the definition states it. Never its value.
pub struct Variable {
    pub name: String,
    /// `Some(true)` for `fn::secret` (plaintext or ciphertext), `Some(false)`
    /// for a literal; `None` when ESC computes it (`${...}`, other `fn::`).
    pub secret: Option<bool>,
}

/// One variable to write (`value`) or delete (`None`).
pub struct Change<'a> {
    pub name: &'a str,
    pub value: Option<&'a Secret>,
    /// Written as `fn::secret: VALUE` rather than a plain value.
    pub secret: bool,
}

/// The new text, and for each change whether its variable was there before.
pub struct Edited {
    pub text: Wiped<String>,
    pub existed: Vec<bool>,
}

/// A parsed definition: its text and the tree of its one YAML document.
pub struct Definition {
    pub(super) text: Wiped<String>,
    pub(super) root: Option<Node>,
    pub(super) anchors: HashMap<usize, Node>,
    pub(super) documents: usize,
}

impl Definition {
    /// Parse the definition the service sent. Invalid YAML is the service's
    /// fault (exit 3); the message has a place, never a quote of the text.
    pub fn parse(text: Wiped<String>) -> Result<Definition> {
        let mut parser = Parser::new_from_str(&text);
        let mut builder = Builder { anchors: HashMap::new() };
        let mut root = None;
        let mut documents = 0;
        while let Some(event) = parser.next_event() {
            let (event, _) = event.map_err(invalid)?;
            match event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    let node = builder.child(&mut parser, 0)?;
                    if documents == 1 {
                        root = Some(node);
                    }
                }
                Event::StreamStart | Event::DocumentEnd | Event::StreamEnd | Event::Nothing => {}
                _ => return Err(malformed()),
            }
        }
        Ok(Definition { text, root, anchors: builder.anchors, documents })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Follow aliases to the node they name.
    fn resolve<'n>(&'n self, mut node: &'n Node) -> Option<&'n Node> {
        for _ in 0..MAX_STEPS {
            match node.kind {
                Kind::Alias(id) => node = self.anchors.get(&id)?,
                _ => return Some(node),
            }
        }
        None
    }

    /// The mapping under `key` of `parent` as ESC reads it (aliases followed),
    /// `None` when absent or null.
    fn mapping<'n>(&'n self, parent: Option<&'n Node>, key: &str, what: &str) -> Result<Option<&'n Node>> {
        let Some(parent) = parent else { return Ok(None) };
        let Some((_, value)) = parent.get(key, what)? else { return Ok(None) };
        let value = self.resolve(value).ok_or_else(|| error::usage(format!("`{what}` is an alias that never ends")))?;
        match value.kind {
            Kind::Map(_) => Ok(Some(value)),
            _ if value.is_null() => Ok(None),
            _ => Err(error::usage(format!("`{what}` in the definition is not a mapping"))),
        }
    }

    /// The entries of `values.environmentVariables`, merge keys (`<<`) applied.
    pub(super) fn variable_nodes(&self) -> Result<Vec<(&str, &Node)>> {
        let root = match &self.root {
            Some(node) if !node.is_null() => Some(
                self.resolve(node)
                    .filter(|n| n.entries().is_some())
                    .ok_or_else(|| error::usage("the definition is not a YAML mapping"))?,
            ),
            _ => None,
        };
        let values = self.mapping(root, VALUES, VALUES)?;
        let Some(vars) = self.mapping(values, VARIABLES, "values.environmentVariables")? else {
            return Ok(Vec::new());
        };
        let mut out: Vec<(&str, &Node)> = Vec::new();
        let mut merged = Vec::new();
        for (key, value) in vars.entries().unwrap_or_default() {
            let name = key.key().ok_or_else(|| error::usage("environmentVariables has a key that is not a name"))?;
            if name == MERGE {
                merged.push(value);
            } else if out.iter().any(|(n, _)| *n == name) {
                return Err(error::usage(format!("environmentVariables has {name} twice")));
            } else {
                out.push((name, value));
            }
        }
        // Merged keys come after the explicit ones, which override them.
        let sources = merged.into_iter().filter_map(|m| self.resolve(m)).flat_map(|m| match &m.kind {
            Kind::Seq(items) => items.iter().filter_map(|i| self.resolve(i)).collect(),
            _ => vec![m],
        });
        for source in sources {
            for (key, value) in source.entries().unwrap_or_default() {
                if let Some(name) = key.key().filter(|n| *n != MERGE && !out.iter().any(|(o, _)| o == n)) {
                    out.push((name, value));
                }
            }
        }
        Ok(out)
    }

    /// The variables, in the order written.
    pub fn variables(&self) -> Result<Vec<Variable>> {
        Ok(self
            .variable_nodes()?
            .into_iter()
            .map(|(name, node)| Variable { name: name.to_string(), secret: self.secrecy(node, 0, &mut 0) })
            .collect())
    }

    /// Unknown (`None`) for a value too big or too deep to read.
    fn secrecy(&self, node: &Node, depth: usize, steps: &mut usize) -> Option<bool> {
        let node = self.resolve(node).filter(|_| within(steps, depth))?;
        let combine = |children: Vec<Option<bool>>| {
            if children.contains(&Some(true)) {
                Some(true)
            } else if children.contains(&None) {
                None
            } else {
                Some(false)
            }
        };
        match &node.kind {
            Kind::Scalar { text, .. } => (!interpolates(text.expose())).then_some(false),
            Kind::Map(entries) if entries.len() == 1 && entries[0].0.key() == Some(SECRET_FN) => Some(true),
            Kind::Map(entries) if entries.iter().any(|(k, _)| k.key().is_some_and(|k| k.starts_with("fn::"))) => None,
            Kind::Map(entries) => combine(entries.iter().map(|(_, v)| self.secrecy(v, depth + 1, steps)).collect()),
            Kind::Seq(items) => combine(items.iter().map(|v| self.secrecy(v, depth + 1, steps)).collect()),
            Kind::Alias(_) => None,
        }
    }

    /// How each variable here differs from an `older` definition. Values are
    /// compared as written, ciphertexts included.
    pub fn since(&self, older: &Definition) -> Result<HashMap<String, Since>> {
        let before: HashMap<&str, &Node> = older.variable_nodes()?.into_iter().collect();
        Ok(self
            .variable_nodes()?
            .into_iter()
            .map(|(name, node)| {
                let since = match before.get(name) {
                    None => Since::Added,
                    Some(old) if equal(self, node, older, old, 0, &mut 0) => Since::Same,
                    Some(_) => Since::Changed,
                };
                (name.to_string(), since)
            })
            .collect())
    }
}

impl Definition {
    /// What `name`'s value reads from outside this definition: the top-level
    /// `values` properties it reads that only the imports can hold, or why no
    /// revision can date it (a provider, a value too big to follow).
    pub fn reads(&self, name: &str) -> Result<Reads> {
        let nodes = self.variable_nodes()?;
        let Some((_, node)) = nodes.into_iter().find(|(n, _)| *n == name) else { return Ok(Ok(Vec::new())) };
        Ok(self.collect_reads(node))
    }

    /// `reads` for the top-level property `key` of `values` (nothing when absent).
    pub fn reads_value(&self, key: &str) -> Reads {
        match self.at(key) {
            Some(node) => self.collect_reads(node),
            None => Ok(Vec::new()),
        }
    }

    /// The environments this one imports, as written (`proj/env@stable`),
    /// in order; an entry `{NAME: {merge: false}}` is named by its key.
    pub fn imports(&self) -> Result<Vec<String>> {
        let Some(root) = self.root.as_ref().and_then(|r| self.resolve(r)) else { return Ok(Vec::new()) };
        let Some((_, list)) = root.get("imports", "imports")? else { return Ok(Vec::new()) };
        let Some(list) = self.resolve(list) else { return Err(error::usage("`imports` is an alias that never ends")) };
        let items = match &list.kind {
            Kind::Seq(items) => items,
            _ if list.is_null() => return Ok(Vec::new()),
            _ => return Err(error::usage("`imports` in the definition is not a list")),
        };
        let name = |item: &Node| match &self.resolve(item)?.kind {
            Kind::Scalar { text, .. } => Some(text.expose().to_string()),
            Kind::Map(entries) if entries.len() == 1 => entries[0].0.key().map(str::to_string),
            _ => None,
        };
        items.iter().map(|i| name(i).ok_or_else(|| error::usage("an import is not an environment name"))).collect()
    }

    fn collect_reads(&self, node: &Node) -> Reads {
        let mut imported = Vec::new();
        // Without imports nothing merges into the mappings this definition holds.
        let merges = self.imports().map_or(true, |i| !i.is_empty());
        match self.reads_outside(node, 0, &mut 0, &mut imported, merges) {
            Some(why) => Err(why),
            None => Ok(imported),
        }
    }

    /// Why the value cannot be dated at all, else `None` with the roots of
    /// the paths it reads that an import may hold (`merges`: there are
    /// imports to merge into its mappings) added to `imported`.
    fn reads_outside(
        &self,
        node: &Node,
        depth: usize,
        steps: &mut usize,
        imported: &mut Vec<String>,
        merges: bool,
    ) -> Option<&'static str> {
        const TOO_BIG: &str = "its value is too big or too deep to follow";
        let Some(node) = self.resolve(node).filter(|_| within(steps, depth)) else { return Some(TOO_BIG) };
        match &node.kind {
            Kind::Scalar { text, .. } => references(text.expose()).into_iter().find_map(|path| {
                let target = self.at(&path);
                // Imports merge into a mapping this definition holds, not into a scalar.
                let merged =
                    target.and_then(|t| self.resolve(t)).is_none_or(|t| merges && matches!(t.kind, Kind::Map(_)));
                let root = path.split(['.', '[']).next().unwrap_or_default().trim().to_string();
                if merged && !imported.contains(&root) {
                    imported.push(root);
                }
                target.and_then(|t| self.reads_outside(t, depth + 1, steps, imported, merges))
            }),
            Kind::Map(entries) => entries.iter().find_map(|(k, v)| {
                if k.key().is_some_and(|k| k.starts_with("fn::open")) {
                    Some("it comes from a provider (fn::open), which changes with no revision")
                } else {
                    self.reads_outside(v, depth + 1, steps, imported, merges)
                }
            }),
            Kind::Seq(items) => items.iter().find_map(|v| self.reads_outside(v, depth + 1, steps, imported, merges)),
            Kind::Alias(_) => Some(TOO_BIG),
        }
    }

    /// The node at a `${...}` path under `values` (`a.b`, `a["b"]`, `a[0]`);
    /// a path into a list stops at the list, which is then followed whole.
    fn at(&self, path: &str) -> Option<&Node> {
        let root = self.root.as_ref().and_then(|r| self.resolve(r))?;
        let mut node = self.resolve(&root.get(VALUES, VALUES).ok()??.1)?;
        for part in path.split(['.', '[']).map(|p| p.trim_end_matches(']').trim_matches('"')) {
            if part.is_empty() {
                continue;
            }
            match &node.kind {
                Kind::Map(_) => node = self.resolve(&node.get(part, path).ok()??.1)?,
                _ => return Some(node),
            }
        }
        Some(node)
    }
}

/// The paths a string's `${...}` interpolations read (`$${` is a literal `$`).
fn references(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        let escaped = rest[..at].ends_with('$');
        rest = &rest[at + 2..];
        let Some(end) = rest.find('}') else { break };
        if !escaped {
            paths.push(rest[..end].trim().to_string());
        }
        rest = &rest[end + 1..];
    }
    paths
}

/// The top-level `values` properties a value reads from its imports, or why
/// no revision can date it.
pub type Reads = std::result::Result<Vec<String>, &'static str>;

/// How a variable differs from an older revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Since {
    Same,
    Changed,
    Added,
}

/// Count one node read from a value: false once the value is too big
/// (aliases can repeat a node many times over) or too deep to read.
fn within(steps: &mut usize, depth: usize) -> bool {
    *steps += 1;
    *steps <= MAX_STEPS && depth < MAX_DEPTH
}

/// Equal values, aliases followed; unequal when too big or too deep to read.
fn equal(da: &Definition, a: &Node, db: &Definition, b: &Node, depth: usize, steps: &mut usize) -> bool {
    if !within(steps, depth) {
        return false;
    }
    let (Some(a), Some(b)) = (da.resolve(a), db.resolve(b)) else { return false };
    if a.tag != b.tag {
        return false;
    }
    match (&a.kind, &b.kind) {
        (Kind::Scalar { text: x, plain: px }, Kind::Scalar { text: y, plain: py }) => x == y && px == py,
        (Kind::Seq(x), Kind::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(i, j)| equal(da, i, db, j, depth + 1, steps))
        }
        (Kind::Map(x), Kind::Map(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|((ki, vi), (kj, vj))| {
                    equal(da, ki, db, kj, depth + 1, steps) && equal(da, vi, db, vj, depth + 1, steps)
                })
        }
        _ => false,
    }
}

/// Whether ESC interpolates in the text of a string: a `${` that is not a
/// `$` written as `$$` (ESC reads `$$` first, left to right).
pub(super) fn interpolates(text: &str) -> bool {
    let mut bytes = text.as_bytes();
    while let Some(at) = memchr::memchr(b'$', bytes) {
        match bytes.get(at + 1) {
            Some(b'$') => bytes = &bytes[at + 2..],
            Some(b'{') => return true,
            _ => bytes = &bytes[at + 1..],
        }
    }
    false
}
