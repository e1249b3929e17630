//! ESC `Value` trees (the `Value` schema of the ESC API) decoded straight into secrets.
//!
//! escort reads responses with `decode.rs`. The serde visitor here builds the
//! same tree: it reads the demo environment and is the reference the tests and
//! the `esc_value` fuzz target hold `decode.rs` to. Both put every string into
//! a `Secret` as it is read, so no plain copy of a value outlives the parse.
//! Nested values inherit `secret` from their parents.

use crate::secret::Secret;
use crate::vars::Var;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// One ESC `Value`: `{"value": ..., "secret": bool?, "unknown": bool?, "trace": ...}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Value {
    pub node: Node,
    pub secret: bool,
    pub unknown: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub enum Node {
    #[default]
    Null,
    Bool(bool),
    Number(String),
    String(Secret),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// The part of an opened environment escort reads: `properties`.
#[derive(Debug, Deserialize)]
pub struct Environment {
    #[serde(default, deserialize_with = "properties")]
    pub properties: Vec<(String, Value)>,
}

// `properties` is a JSON object; keep it as an ordered list of pairs.
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an ESC Value object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Value::default();
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Value => out.node = map.next_value::<Node>()?,
                Field::Secret => out.secret = map.next_value::<Option<bool>>()?.unwrap_or(false),
                Field::Unknown => out.unknown = map.next_value::<Option<bool>>()?.unwrap_or(false),
                // `trace` and anything newer: skipped by the parser, never built.
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// The fields of a Value escort reads, recognised without allocating.
enum Field {
    Value,
    Secret,
    Unknown,
    Other,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_identifier(FieldVisitor)
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E>(self, v: &str) -> Result<Field, E> {
        Ok(match v {
            "value" => Field::Value,
            "secret" => Field::Secret,
            "unknown" => Field::Unknown,
            _ => Field::Other,
        })
    }
}

/// Map keys are names, not values: a plain String is fine for them.
struct KeyName(String);

impl<'de> Deserialize<'de> for KeyName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(KeyName)
    }
}

/// With serde_json's `arbitrary_precision` (Cargo.toml), a number beyond 64-bit
/// integers reaches `deserialize_any` as a one-entry map under this key,
/// holding its digits as sent: never rounded through an `f64`, `-0` kept.
/// serde_json writes the exponent its own way (`1E2` and `1e2` become `1e+2`,
/// the form ESC's Go encoder sends).
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("null, a boolean, a number, a string, an array or an object of Values")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    // Numbers that fit 64 bits arrive as integers, exact; the others as text
    // (`visit_map` below).
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(Secret::new(v)))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(Secret::new(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            items.push(v);
        }
        Ok(Node::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(k) = map.next_key::<KeyName>()? {
            if items.is_empty() && k.0 == NUMBER_TOKEN {
                return Ok(Node::Number(map.next_value::<String>()?));
            }
            items.push((k.0, map.next_value::<Value>()?));
        }
        Ok(Node::Object(items))
    }
}

/// Deserialize a JSON object of Values into ordered pairs.
pub fn properties<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, Value)>, D::Error> {
    match Node::deserialize(d)? {
        Node::Object(pairs) => Ok(pairs),
        Node::Null => Ok(Vec::new()),
        _ => Err(de::Error::custom("`properties` is not an object")),
    }
}

/// What `decode` found besides variables: values it could not export.
#[derive(Debug, Default)]
pub struct Skipped {
    pub unknown: Vec<String>,
    pub null: Vec<String>,
}

/// Turn `properties.environmentVariables` and `properties.files` into variables.
pub fn decode(properties: Vec<(String, Value)>) -> (Vec<Var>, Skipped) {
    let exported = |section: &str| matches!(section, "environmentVariables" | "files");
    let count = properties
        .iter()
        .filter(|(section, _)| exported(section))
        .map(|(_, v)| if let Node::Object(entries) = &v.node { entries.len() } else { 0 });
    // Sized once: a growing list would briefly hold two copies of itself.
    let mut vars = Vec::with_capacity(count.sum());
    let mut skipped = Skipped::default();
    for (section, value) in properties {
        if !exported(&section) {
            continue;
        }
        let file = section == "files";
        let Node::Object(entries) = value.node else { continue };
        for (name, entry) in entries {
            let secret = value.secret || entry.secret;
            if entry.unknown || value.unknown {
                skipped.unknown.push(name);
                continue;
            }
            let mut parts = Vec::new();
            let (value, any_secret) = match entry.node {
                Node::Null => {
                    skipped.null.push(name);
                    continue;
                }
                Node::Bool(b) => (Secret::new(b.to_string()), secret),
                Node::Number(n) => (Secret::new(n), secret),
                // Moved, not copied: the value's one plain copy stays in its `Secret`.
                Node::String(s) => (s, secret),
                node @ (Node::Array(_) | Node::Object(_)) => {
                    let mut json = String::new();
                    let leaf_secret = write_json(&node, secret, &mut json, &mut parts);
                    (Secret::new(json), leaf_secret)
                }
            };
            // A structured value with secret leaves is treated as a secret as a
            // whole (its leaves are masked on their own too).
            vars.push(Var { name, value, secret: any_secret, secret_parts: parts, file });
        }
    }
    (vars, skipped)
}

/// Write `node` as compact JSON of plain values; collect secret leaves.
/// Returns whether any leaf was secret.
fn write_json(node: &Node, secret: bool, out: &mut String, parts: &mut Vec<Secret>) -> bool {
    match node {
        Node::Null => {
            out.push_str("null");
            false
        }
        Node::Bool(b) => {
            leaf(&b.to_string(), secret, out, parts);
            secret
        }
        Node::Number(n) => {
            leaf(n, secret, out, parts);
            secret
        }
        Node::String(s) => {
            out.push_str(&serde_json::to_string(s.expose()).unwrap_or_default());
            if secret {
                parts.push(s.clone());
            }
            secret
        }
        Node::Array(items) => {
            out.push('[');
            let mut any = false;
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                any |= write_json(&v.node, secret || v.secret, out, parts);
            }
            out.push(']');
            any
        }
        Node::Object(items) => {
            out.push('{');
            let mut any = false;
            for (i, (k, v)) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                any |= write_json(&v.node, secret || v.secret, out, parts);
            }
            out.push('}');
            any
        }
    }
}

fn leaf(text: &str, secret: bool, out: &mut String, parts: &mut Vec<Secret>) {
    out.push_str(text);
    if secret {
        parts.push(Secret::new(text));
    }
}
