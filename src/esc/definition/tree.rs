//! The YAML tree of a definition: nodes with their places, built from the
//! parser's events.

use crate::error;
use crate::secret::Secret;
use anyhow::Result;
use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span};
use std::cmp::max;
use std::collections::HashMap;

/// Deeper nesting is refused rather than risk the stack on a hostile answer.
pub(super) const MAX_DEPTH: usize = 256;

/// A place in the text: line from 1, column in characters from 0 (as the parser counts).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Pos {
    pub(super) line: usize,
    pub(super) col: usize,
}

impl From<Marker> for Pos {
    fn from(m: Marker) -> Pos {
        Pos { line: m.line(), col: m.col() }
    }
}

/// A YAML node with where it is. Scalars are `Secret`s: a definition may hold
/// `fn::secret` plaintext. No `Debug`, so none can be printed.
#[derive(Clone)]
pub(super) struct Node {
    pub(super) kind: Kind,
    /// The parser's anchor id (0: none).
    pub(super) anchor: usize,
    pub(super) tag: Option<String>,
    pub(super) start: Pos,
    /// Just past its last character; `start` for an empty scalar.
    pub(super) end: Pos,
    /// A flow collection (`{...}`, `[...]`).
    pub(super) flow: bool,
}

#[derive(Clone)]
pub(super) enum Kind {
    Scalar { text: Secret, plain: bool },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Alias(usize),
}

impl Node {
    pub(super) fn key(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text.expose()),
            _ => None,
        }
    }

    pub(super) fn entries(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// YAML's null, as an untagged plain scalar (`key:` with nothing after it included).
    pub(super) fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, plain: true }
            if self.tag.is_none() && matches!(text.expose(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// Whether an anchor is defined in this node or under it.
    pub(super) fn has_anchor(&self) -> bool {
        self.anchor != 0
            || match &self.kind {
                Kind::Seq(items) => items.iter().any(Node::has_anchor),
                Kind::Map(entries) => entries.iter().any(|(k, v)| k.has_anchor() || v.has_anchor()),
                _ => false,
            }
    }

    /// The same YAML as written (anchors, aliases, tags, styles), wherever it is.
    pub(super) fn same(&self, other: &Node) -> bool {
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
    pub(super) fn get(&self, key: &str, what: &str) -> Result<Option<&(Node, Node)>> {
        let mut found = self.entries().unwrap_or_default().iter().filter(|(k, _)| k.key() == Some(key));
        let first = found.next();
        if first.is_some() && found.next().is_some() {
            return Err(error::usage(format!("the definition has `{what}` twice")));
        }
        Ok(first)
    }
}

/// The parser's own words and the place; its messages never quote the text.
pub(super) fn invalid(e: ScanError) -> anyhow::Error {
    let at = e.marker();
    error::backend(format!(
        "the definition is not valid YAML: {} (line {}, column {})",
        e.info(),
        at.line(),
        at.col() + 1
    ))
}

pub(super) fn malformed() -> anyhow::Error {
    error::backend("the definition's YAML has a structure escort cannot read")
}

/// Builds the tree from the parser's events, one node per call.
pub(super) struct Builder {
    pub(super) anchors: HashMap<usize, Node>,
}

impl Builder {
    fn next<'a>(parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>) -> Result<(Event<'a>, Span)> {
        match parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(e)) => Err(invalid(e)),
            None => Err(malformed()),
        }
    }

    pub(super) fn child<'a>(
        &mut self,
        parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
        depth: usize,
    ) -> Result<Node> {
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
