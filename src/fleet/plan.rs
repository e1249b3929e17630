//! What `sync` will do to one target, from the target's cells: the names to
//! create or update, those unchanged, those to prune. No I/O.

use super::status::{Cell, Status};
use crate::record::{Action, Outcome};
use crate::vars::Var;

/// What a sync will do to one target, by name, from its cells.
pub struct Plan {
    /// (name, create or update): the variables to write.
    pub writes: Vec<(String, Action)>,
    pub unchanged: Vec<String>,
    pub prune: Vec<String>,
    /// Target secrets the source lacks, left alone without pruning.
    pub extra: usize,
}

impl Plan {
    pub fn new(cells: &[Cell], prune: bool, force: bool) -> Plan {
        let mut plan = Plan { writes: Vec::new(), unchanged: Vec::new(), prune: Vec::new(), extra: 0 };
        for cell in cells {
            match cell.status {
                Status::Extra if prune => plan.prune.push(cell.key.clone()),
                Status::Extra => plan.extra += 1,
                Status::Missing => plan.writes.push((cell.key.clone(), Action::Create)),
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
        text
    }

    /// The outcomes of the names not written, to report beside the written.
    pub fn unchanged_outcomes(&self) -> impl Iterator<Item = Outcome> + '_ {
        self.unchanged.iter().map(|name| Outcome { name: name.clone(), result: Ok(Action::Unchanged) })
    }
}
