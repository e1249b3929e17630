//! What `sync` will do to one target, from the target's cells: the names to
//! create or update, those unchanged, those to prune. No I/O.

use super::status::{Cell, Status};
use crate::error;
use crate::record::{Action, Outcome};
use crate::targets::Target;
use crate::vars::Var;
use anyhow::Result;
use std::collections::{BTreeMap, BTreeSet};

/// What a sync will do to one target, by name, from its cells.
pub struct Plan {
    /// (name, create or update): the variables to write.
    pub writes: Vec<(String, Action)>,
    pub unchanged: Vec<String>,
    pub prune: Vec<String>,
    /// Target secrets the source lacks, left alone without pruning.
    pub extra: usize,
    /// Keys the source holds without a value: neither written nor pruned.
    pub kept: Vec<String>,
}

impl Plan {
    pub fn new(cells: &[Cell], prune: bool, force: bool) -> Plan {
        let mut plan =
            Plan { writes: Vec::new(), unchanged: Vec::new(), prune: Vec::new(), extra: 0, kept: Vec::new() };
        for cell in cells {
            if cell.source_value.is_some() {
                plan.kept.push(cell.key.clone());
                continue;
            }
            match cell.status {
                Status::Extra if prune => plan.prune.push(cell.key.clone()),
                Status::Extra => plan.extra += 1,
                Status::Missing => plan.writes.push((cell.key.clone(), Action::Create)),
                // It holds the source's value; only whether what runs gets it is unknown.
                Status::Unknown if cell.current && !force => plan.unchanged.push(cell.key.clone()),
                status if force || status.needs_write() => plan.writes.push((cell.key.clone(), Action::Update)),
                _ => plan.unchanged.push(cell.key.clone()),
            }
        }
        plan
    }

    pub fn action(&self, name: &str) -> Action {
        self.writes.iter().find(|(n, _)| n == name).map_or(Action::Delete, |(_, a)| *a)
    }

    pub fn vars(&self, vars: &[Var]) -> Vec<Var> {
        vars.iter().filter(|v| self.writes.iter().any(|(n, _)| *n == v.name)).cloned().collect()
    }

    pub fn count(&self, action: Action) -> usize {
        self.writes.iter().filter(|(_, a)| *a == action).count()
    }

    pub fn summary(&self) -> String {
        let mut text = format!(
            "{} to create, {} to update, {} to prune",
            self.count(Action::Create),
            self.count(Action::Update),
            self.prune.len()
        );
        if !self.unchanged.is_empty() {
            text.push_str(&format!(", {} unchanged", self.unchanged.len()));
        }
        if !self.kept.is_empty() {
            text.push_str(&format!(", {} kept (no value at the source)", self.kept.len()));
        }
        text
    }

    /// The outcomes of the names not written, to report beside the written.
    pub fn unchanged_outcomes(&self) -> impl Iterator<Item = Outcome> + '_ {
        self.unchanged.iter().map(|name| Outcome { name: name.clone(), result: Ok(Action::Unchanged) })
    }
}

/// How many entries a target holds, from its cells: every cell but `missing`
/// is a key it listed.
pub fn listed(cells: &[Cell]) -> usize {
    cells.iter().filter(|c| c.status != Status::Missing).count()
}

/// One target's part of a sync: the target, its name in the routes, how many
/// entries it listed, and a plan that writes to it.
pub type Share<'a> = (&'a dyn Target, String, usize, &'a Plan);

/// Refuse, before any write, a sync that would take a target past its count
/// limit (docs/routes.md, "GitHub's limits"), naming the limit. The plans of every
/// route that writes to one target are counted together, and prunes do not
/// make room: a target is written before it is pruned, so that a failed
/// write deletes nothing.
pub fn check_limits<'a>(shares: impl IntoIterator<Item = Share<'a>>) -> Result<()> {
    struct After<'a> {
        target: &'a dyn Target,
        listed: usize,
        created: BTreeSet<String>,
    }
    let mut by_target: BTreeMap<String, After> = BTreeMap::new();
    for (target, spec, listed, plan) in shares {
        let after = by_target.entry(spec).or_insert_with(|| After { target, listed, created: BTreeSet::new() });
        let created = plan.writes.iter().filter(|(_, a)| *a == Action::Create).map(|(n, _)| target.canonical(n));
        after.created.extend(created);
    }
    let mut over = Vec::new();
    for after in by_target.values() {
        let Some((most, rule)) = after.target.limit() else { continue };
        let count = after.listed + after.created.len();
        if count > most && !after.created.is_empty() {
            over.push(format!(
                "the {} would hold {count} {} ({} now, {} to create; prunes come after the writes): {rule}",
                after.target.name(),
                after.target.holds(),
                after.listed,
                after.created.len(),
            ));
        }
    }
    if over.is_empty() {
        return Ok(());
    }
    Err(error::usage(format!("refusing to sync, nothing was written: {}", over.join("; "))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::status::Held;

    fn cell(key: &str, status: Status, source_value: Option<Held>) -> Cell {
        Cell { source_value, ..Cell::new("r", key, "t", status) }
    }

    #[test]
    fn keys_without_a_value_are_neither_written_nor_pruned() {
        let cells = [
            cell("NULL", Status::Unknown, Some(Held::Null)),
            cell("UNRESOLVED", Status::Unknown, Some(Held::Unknown)),
            cell("GONE", Status::Extra, None),
            cell("NEW", Status::Missing, None),
        ];
        let plan = Plan::new(&cells, true, true);
        assert_eq!(plan.prune, ["GONE"]);
        assert_eq!(plan.writes, [("NEW".to_string(), Action::Create)]);
        assert_eq!(plan.kept, ["NULL", "UNRESOLVED"]);
        assert!(plan.summary().ends_with("2 kept (no value at the source)"), "{}", plan.summary());
    }
}
