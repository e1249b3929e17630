//! An ESC environment definition (the YAML behind `GET .../{env}`), read and
//! edited.
//!
//! Reading: the variables under `values.environmentVariables`, whether each is
//! secret, and whether a variable's value differs between two revisions.
//!
//! Editing: `edit` replaces, inserts or deletes only the lines of the entries
//! it writes, so everything else (comments, anchors, imports, quoting, order)
//! stays byte for byte. Layouts it cannot edit that way (flow mappings, aliases,
//! anchors or merge keys where it would write, tabs) are refused, and every
//! edit is parsed again and checked to have changed nothing but its keys.

use crate::error;
use crate::secret::Secret;
use anyhow::Result;
use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span};
use std::cmp::max;
use std::collections::HashMap;
use std::fmt::Write;
use zeroize::Zeroizing;

const VALUES: &str = "values";
const VARIABLES: &str = "environmentVariables";
const SECRET_FN: &str = "fn::secret";
const MERGE: &str = "<<";
/// Deeper nesting is refused rather than risk the stack on a hostile answer.
const MAX_DEPTH: usize = 256;
/// Nodes visited while reading one value: aliases can repeat a node many
/// times over, and an anchor may even contain its own alias.
const MAX_STEPS: usize = 10_000;
/// Indentation added per level when the definition shows none to copy.
const DEFAULT_STEP: usize = 2;

/// A place in the text: line from 1, column in characters from 0 (as the parser counts).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Pos {
    line: usize,
    col: usize,
}

impl From<Marker> for Pos {
    fn from(m: Marker) -> Pos {
        Pos { line: m.line(), col: m.col() }
    }
}

/// A YAML node with where it is. Scalars are `Secret`s: a definition may hold
/// `fn::secret` plaintext. No `Debug`, so none can be printed.
#[derive(Clone)]
struct Node {
    kind: Kind,
    /// The parser's anchor id (0: none).
    anchor: usize,
    tag: Option<String>,
    start: Pos,
    /// Just past its last character; `start` for an empty scalar.
    end: Pos,
    /// A flow collection (`{...}`, `[...]`).
    flow: bool,
}

#[derive(Clone)]
enum Kind {
    Scalar { text: Secret, plain: bool },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Alias(usize),
}

impl Node {
    fn key(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text.expose()),
            _ => None,
        }
    }

    fn entries(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// YAML's null, as an untagged plain scalar (`key:` with nothing after it included).
    fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, plain: true }
            if self.tag.is_none() && matches!(text.expose(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// Whether an anchor is defined in this node or under it.
    fn has_anchor(&self) -> bool {
        self.anchor != 0
            || match &self.kind {
                Kind::Seq(items) => items.iter().any(Node::has_anchor),
                Kind::Map(entries) => entries.iter().any(|(k, v)| k.has_anchor() || v.has_anchor()),
                _ => false,
            }
    }

    /// The same YAML as written (anchors, aliases, tags, styles), wherever it is.
    fn same(&self, other: &Node) -> bool {
        if self.anchor != other.anchor || self.tag != other.tag || self.flow != other.flow {
            return false;
        }
        match (&self.kind, &other.kind) {
            (Kind::Scalar { text: a, plain: pa }, Kind::Scalar { text: b, plain: pb }) => a == b && pa == pb,
            (Kind::Alias(a), Kind::Alias(b)) => a == b,
            (Kind::Seq(a), Kind::Seq(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y)),
            (Kind::Map(a), Kind::Map(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|((ka, va), (kb, vb))| ka.same(kb) && va.same(vb))
            }
            _ => false,
        }
    }

    /// The entry under `key`; `Err` when the key is there twice.
    fn get(&self, key: &str, what: &str) -> Result<Option<&(Node, Node)>> {
        let mut found = self.entries().unwrap_or_default().iter().filter(|(k, _)| k.key() == Some(key));
        let first = found.next();
        if first.is_some() && found.next().is_some() {
            return Err(error::usage(format!("the definition has `{what}` twice")));
        }
        Ok(first)
    }
}

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
    pub text: Zeroizing<String>,
    pub existed: Vec<bool>,
}

/// A parsed definition: its text and the tree of its one YAML document.
pub struct Definition {
    text: Zeroizing<String>,
    root: Option<Node>,
    anchors: HashMap<usize, Node>,
    documents: usize,
}

impl Definition {
    /// Parse the definition the service sent. Invalid YAML is the service's
    /// fault (exit 3); the message has a place, never a quote of the text.
    pub fn parse(text: Zeroizing<String>) -> Result<Definition> {
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
    fn variable_nodes(&self) -> Result<Vec<(&str, &Node)>> {
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
            Kind::Scalar { text, .. } => (!text.expose().contains("${")).then_some(false),
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

/// The parser's own words and the place; its messages never quote the text.
fn invalid(e: ScanError) -> anyhow::Error {
    let at = e.marker();
    error::backend(format!(
        "the definition is not valid YAML: {} (line {}, column {})",
        e.info(),
        at.line(),
        at.col() + 1
    ))
}

fn malformed() -> anyhow::Error {
    error::backend("the definition's YAML has a structure escort cannot read")
}

/// Builds the tree from the parser's events, one node per call.
struct Builder {
    anchors: HashMap<usize, Node>,
}

impl Builder {
    fn next<'a>(parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>) -> Result<(Event<'a>, Span)> {
        match parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(e)) => Err(invalid(e)),
            None => Err(malformed()),
        }
    }

    fn child<'a>(&mut self, parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>, depth: usize) -> Result<Node> {
        let (event, span) = Builder::next(parser)?;
        self.node(parser, event, span, depth)
    }

    fn node<'a>(
        &mut self,
        parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
        event: Event<'a>,
        span: Span,
        depth: usize,
    ) -> Result<Node> {
        if depth > MAX_DEPTH {
            return Err(error::backend(format!("the definition nests deeper than {MAX_DEPTH} levels")));
        }
        let start = Pos::from(span.start);
        let visible_end = if span.start.index() == span.end.index() { start } else { Pos::from(span.end) };
        let tag_of =
            |tag: Option<std::borrow::Cow<'_, saphyr_parser::Tag>>| tag.map(|t| format!("{}{}", t.handle, t.suffix));
        let node = match event {
            Event::Scalar(text, style, anchor, tag) => Node {
                kind: Kind::Scalar { text: Secret::new(text.into_owned()), plain: style == ScalarStyle::Plain },
                anchor,
                tag: tag_of(tag),
                start,
                end: visible_end,
                flow: false,
            },
            Event::Alias(id) => {
                Node { kind: Kind::Alias(id), anchor: 0, tag: None, start, end: visible_end, flow: false }
            }
            Event::SequenceStart(anchor, tag) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = Builder::next(parser)?;
                    if let Event::SequenceEnd = event {
                        break self.collection(Kind::Seq(items), anchor, tag_of(tag), start, span);
                    }
                    items.push(self.node(parser, event, span, depth + 1)?);
                }
            }
            Event::MappingStart(anchor, tag) => {
                let mut entries = Vec::new();
                loop {
                    let (event, span) = Builder::next(parser)?;
                    if let Event::MappingEnd = event {
                        break self.collection(Kind::Map(entries), anchor, tag_of(tag), start, span);
                    }
                    let key = self.node(parser, event, span, depth + 1)?;
                    let value = self.child(parser, depth + 1)?;
                    entries.push((key, value));
                }
            }
            _ => return Err(malformed()),
        };
        if node.anchor != 0 {
            self.anchors.insert(node.anchor, node.clone());
        }
        Ok(node)
    }

    /// A collection ends at its closing bracket (flow style, whose end event
    /// has a width: the bracket, and any spaces and comment after it) or at
    /// its last child (block style).
    fn collection(&self, kind: Kind, anchor: usize, tag: Option<String>, start: Pos, end_span: Span) -> Node {
        let flow = end_span.start.index() != end_span.end.index();
        let last_child = match &kind {
            Kind::Seq(items) => items.iter().map(|n| n.end).max(),
            Kind::Map(entries) => entries.iter().map(|(k, v)| max(k.end, v.end)).max(),
            _ => None,
        };
        let bracket = Pos::from(end_span.start);
        let end = if flow { Pos { col: bracket.col + 1, ..bracket } } else { last_child.unwrap_or(start) };
        Node { kind, anchor, tag, start, end, flow }
    }
}

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
    text: Zeroizing<String>,
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
        self.insert_at(entries.last().map_or(0, |(k, v)| self.last_line(k, v) + 1))
    }

    /// An empty splice before line `at`; at the end, after a line break.
    fn insert_at(&self, at: usize) -> Splice {
        let mut text = Zeroizing::new(String::new());
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
        let mut text = Zeroizing::new(format!("{}{}", line[..from].trim_end(), &line[to..]));
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
    fn apply(&self, mut splices: Vec<Splice>) -> Zeroizing<String> {
        splices.sort_by_key(|s| (s.from, s.to));
        let size = self.text.len() + splices.iter().map(|s| s.text.len()).sum::<usize>();
        let mut out = Zeroizing::new(String::with_capacity(size));
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
        let mut added = Zeroizing::new(String::with_capacity(capacity(changes, vars_indent + secret_step)));
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
                    let mut text = Zeroizing::new(String::with_capacity(capacity(
                        std::slice::from_ref(change),
                        vars_indent + secret_step,
                    )));
                    if let Some(v) = write {
                        render_entry(&mut text, vars_indent, secret_step, change.name, v, change.secret, lines.eol);
                    }
                    splices.push(Splice { from: key.start.line - 1, to: lines.last_line(key, value) + 1, text });
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
fn written(value: &Node, change: &Change) -> bool {
    let quoted = |n: &Node| matches!(&n.kind, Kind::Scalar { text, plain: false } if Some(text) == change.value && n.tag.is_none());
    match &value.kind {
        Kind::Map(entries) if change.secret => {
            entries.len() == 1 && entries[0].0.key() == Some(SECRET_FN) && quoted(&entries[0].1)
        }
        _ => !change.secret && quoted(value),
    }
}

fn refuse(why: &str) -> anyhow::Error {
    error::usage(format!(
        "escort cannot edit this definition safely: {why}. Nothing was written; \
         change the layout of `values.environmentVariables` (block style, one `NAME: value` per line) and try again"
    ))
}

/// Room for `changes` rendered, reserved up front: a `String` that grows
/// leaves copies of what it held in freed memory.
fn capacity(changes: &[Change], indent: usize) -> usize {
    changes.iter().map(|c| indent * 2 + c.name.len() + 32 + c.value.map_or(0, |v| v.len() * 4)).sum::<usize>() + 64
}

/// `NAME: "value"`, or `NAME:` and `fn::secret: "value"` under it.
fn render_entry(out: &mut String, indent: usize, step: usize, name: &str, value: &Secret, secret: bool, eol: &str) {
    out.extend(std::iter::repeat_n(' ', indent));
    out.push_str(name);
    out.push(':');
    if secret {
        out.push_str(eol);
        out.extend(std::iter::repeat_n(' ', indent + step));
        out.push_str(SECRET_FN);
        out.push(':');
    }
    out.push(' ');
    quote(out, value.expose());
    out.push_str(eol);
}

/// A YAML double-quoted scalar: every character outside YAML's printable set,
/// line breaks and tabs escaped, so the value is one line and reads back exactly.
fn quote(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            // Writing into a String cannot fail.
            c if (c as u32) < 0x20 || ('\u{7f}'..='\u{9f}').contains(&c) => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            '\u{feff}' | '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Kind as ErrorKind, kind_of};

    fn parse(text: &str) -> Definition {
        Definition::parse(Zeroizing::new(text.to_string())).unwrap()
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
        let vars: Vec<(String, Option<bool>)> =
            d.variables().unwrap().into_iter().map(|v| (v.name, v.secret)).collect();
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
        let vars: Vec<(String, Option<bool>)> =
            d.variables().unwrap().into_iter().map(|v| (v.name, v.secret)).collect();
        let expect = [("A", Some(false)), ("I", None), ("F", None), ("O", Some(true)), ("S", Some(true))];
        assert_eq!(vars, expect.map(|(n, s)| (n.to_string(), s)));

        for empty in
            ["", "# nothing\n", "---\n", "values: {}\n", "values:\n  environmentVariables:\n", "imports: [a]\n"]
        {
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
            let err = Definition::parse(Zeroizing::new(bad.to_string())).err().unwrap();
            let shown = format!("{err:#}");
            assert_eq!(kind_of(&err), ErrorKind::Backend, "{shown}");
            assert!(shown.contains("not valid YAML") && shown.contains("line") && !shown.contains("canary"), "{shown}");
        }
        let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        let err = Definition::parse(Zeroizing::new(deep)).err().unwrap();
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
            assert_eq!(text, *want, "{name}");
            let read = if i % 2 == 0 { &vars[name]["fn::secret"] } else { &vars[name] };
            assert_eq!(read.as_str(), Some(*want), "{name} (serde_norway)");
        }
        assert!(out.lines().all(|l| !l.contains('\t')), "every value is one escaped line");
    }
}
