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
//!
//! The parts: `tree` (the YAML nodes and the builder that makes them from the
//! parser's events), `query` (the definition and what escort asks of it),
//! `edit` (the line editor) and `quote` (how values are written).

mod edit;
mod query;
mod quote;
#[cfg(test)]
mod tests;
mod tree;

pub use query::{Change, Definition, Since};
