//! Whether each copy of a secret is current (docs/routes.md, "escort status"): the
//! model, no I/O. A cell is one key of one route in one target.

use crate::secret::Secret;
use crate::targets::Deployed;
use crate::time::{Moment, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Written after the source's last change, or (readable copies) the same value.
    Ok,
    /// Older than the source's last change.
    Stale,
    /// A readable copy whose value differs.
    Drifted,
    /// The source has the key, the target does not.
    Missing,
    /// The target has the key, the source does not.
    Extra,
    /// Nothing to compare: no date at the source or the target.
    Unknown,
    /// A current organization copy that a same-name repository or
    /// environment secret overrides in a repository the route names.
    Shadowed,
    /// A current copy that what runs from the target has not loaded yet
    /// (Fly.io: written after the release its machines run).
    Staged,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Ok,
        Status::Stale,
        Status::Drifted,
        Status::Missing,
        Status::Extra,
        Status::Unknown,
        Status::Shadowed,
        Status::Staged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Stale => "stale",
            Status::Drifted => "drifted",
            Status::Missing => "missing",
            Status::Extra => "extra",
            Status::Unknown => "unknown",
            Status::Shadowed => "shadowed",
            Status::Staged => "staged",
        }
    }

    /// Whether `sync` writes the key (unknown: it cannot tell, so it does;
    /// shadowed: the organization copy is current, the override is not escort's).
    pub fn needs_write(self) -> bool {
        matches!(self, Status::Stale | Status::Drifted | Status::Missing | Status::Unknown)
    }

    /// Whether the cell fails `status` (extra only where the route prunes).
    pub fn fails(self, prunes: bool) -> bool {
        matches!(self, Status::Stale | Status::Drifted | Status::Missing | Status::Shadowed | Status::Staged)
            || (prunes && self == Status::Extra)
    }
}

/// A key as the source has it.
pub struct SourceKey<'a> {
    pub value: &'a Secret,
    /// RFC 3339: the key's last change at the source, when the source can tell.
    pub changed_at: Option<&'a str>,
}

/// A key as a target has it.
pub struct TargetKey<'a> {
    pub updated_at: Option<&'a str>,
    /// The value, for targets that can be read.
    pub value: Option<&'a Secret>,
}

/// The status of one key in one target.
pub fn compare(source: Option<&SourceKey>, target: Option<&TargetKey>) -> Status {
    match (source, target) {
        (None, None) => Status::Unknown,
        (Some(_), None) => Status::Missing,
        (None, Some(_)) => Status::Extra,
        (Some(s), Some(t)) => {
            if let Some(value) = t.value {
                return if value.expose() == s.value.expose() { Status::Ok } else { Status::Drifted };
            }
            let at = |text: Option<&str>| text.and_then(Timestamp::parse);
            match (at(s.changed_at), at(t.updated_at)) {
                // Strictly after: a write in the same second as the change may predate it.
                (Some(changed), Some(updated)) if updated > changed => Status::Ok,
                (Some(_), Some(_)) => Status::Stale,
                _ => Status::Unknown,
            }
        }
    }
}

/// A key the source holds without a value to copy: `unknown` in every
/// target, never written, never pruned (docs/routes.md, "escort status").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Held {
    /// The value is null.
    Null,
    /// ESC could not resolve it (`unknown`).
    Unknown,
}

impl Held {
    pub fn as_str(self) -> &'static str {
        match self {
            Held::Null => "null",
            Held::Unknown => "unknown",
        }
    }
}

/// Where a current copy waits for a deploy, by flyctl's rule
/// (docs/routes.md, "fly:APP"): `staged` when written after the deploy,
/// strictly and to the nanosecond; `unknown`, with why, where what runs
/// cannot be dated (flyctl says staged there; escort cannot promise either).
pub fn stage(cells: &mut [Cell], deployed: &Deployed) {
    let current = cells.iter_mut().filter(|c| c.status == Status::Ok);
    match deployed {
        Deployed::Unstaged => {}
        Deployed::At(at) => {
            let Some(deployed) = Moment::parse(at) else { return };
            for cell in current {
                if cell.target_updated_at.as_deref().and_then(Moment::parse).is_some_and(|at| at > deployed) {
                    cell.status = Status::Staged;
                }
            }
        }
        Deployed::Undated(why) => {
            for cell in current {
                cell.status = Status::Unknown;
                cell.current = true;
                cell.reason = Some(format!("current, but escort cannot tell whether it is deployed: {why}"));
            }
        }
    }
}

/// Whether the copy holds the source's value and waits only for a deploy
/// (`staged`, or `unknown` for want of a date of what runs): `sync` does not
/// write it again; `--deploy` deploys it.
pub fn awaits_deploy(cell: &Cell) -> bool {
    cell.status == Status::Staged || (cell.status == Status::Unknown && cell.current)
}

/// One cell of the matrix, as `status --format json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    pub route: String,
    pub key: String,
    pub target: String,
    pub status: Status,
    pub source_changed_at: Option<String>,
    /// `source_changed_at` is no change but the oldest revision the source
    /// still has: the key changed no later than that.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub source_changed_before: bool,
    pub target_updated_at: Option<String>,
    /// Why the source has no value for the key, when it holds it without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_value: Option<Held>,
    /// A shadowed organization copy: the repository (`OWNER/REPO`, or
    /// `OWNER/REPO@ENVIRONMENT`) whose own secret overrides it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadowed_by: Option<String>,
    /// Why escort cannot say more than the status does (an `unknown` cell's
    /// reason): shown under the matrix and in the JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// An `unknown` copy known to hold the source's value: what escort cannot
    /// tell is whether what runs gets it (a deploy it cannot date, an
    /// organization secret's place among the 100). `sync` does not write it
    /// again: a write would change nothing of that.
    #[serde(skip)]
    pub current: bool,
}

impl Cell {
    /// A cell of `key` in `target` with its status and nothing else said:
    /// no dates, no reason.
    pub fn new(route: &str, key: &str, target: &str, status: Status) -> Cell {
        Cell {
            route: route.to_string(),
            key: key.to_string(),
            target: target.to_string(),
            status,
            source_changed_at: None,
            source_changed_before: false,
            target_updated_at: None,
            source_value: None,
            shadowed_by: None,
            reason: None,
            current: false,
        }
    }
}

/// How many cells have each status (every status present, zero or not).
pub fn summary<'a>(cells: impl IntoIterator<Item = &'a Cell>) -> BTreeMap<&'static str, usize> {
    let mut counts: BTreeMap<&'static str, usize> = Status::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    for cell in cells {
        *counts.entry(cell.status.as_str()).or_default() += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let v = Secret::new("v");
        let other = Secret::new("w");
        let src = |changed| SourceKey { value: &v, changed_at: changed };
        let dated = |at| TargetKey { updated_at: at, value: None };
        let early = Some("2026-01-01T00:00:00Z");
        let late = Some("2026-02-01T00:00:00Z");
        assert_eq!(compare(Some(&src(early)), None), Status::Missing);
        assert_eq!(compare(None, Some(&dated(early))), Status::Extra);
        assert_eq!(compare(Some(&src(early)), Some(&dated(late))), Status::Ok);
        assert_eq!(compare(Some(&src(late)), Some(&dated(early))), Status::Stale);
        assert_eq!(compare(Some(&src(late)), Some(&dated(late))), Status::Stale, "the same second is not after");
        assert_eq!(compare(Some(&src(None)), Some(&dated(late))), Status::Unknown);
        assert_eq!(compare(Some(&src(early)), Some(&dated(None))), Status::Unknown);
        // Readable copies are compared by value, whatever the dates.
        let same = TargetKey { updated_at: early, value: Some(&v) };
        let differs = TargetKey { updated_at: late, value: Some(&other) };
        assert_eq!(compare(Some(&src(late)), Some(&same)), Status::Ok);
        assert_eq!(compare(Some(&src(early)), Some(&differs)), Status::Drifted);
    }

    #[test]
    fn a_current_copy_written_after_the_deploy_is_staged() {
        let cell = |key: &str, status, at: &str| Cell {
            target_updated_at: Some(at.into()),
            ..Cell::new("r", key, "fly:app", status)
        };
        let cells = || {
            [
                cell("AFTER", Status::Ok, "2026-01-01T00:00:01Z"),
                cell("LATER_IN_THE_SECOND", Status::Ok, "2026-01-01T00:00:00.5000001Z"),
                cell("SAME_INSTANT", Status::Ok, "2026-01-01T00:00:00.5Z"),
                cell("EARLIER_IN_THE_SECOND", Status::Ok, "2026-01-01T00:00:00.25Z"),
                cell("STALE", Status::Stale, "2026-01-02T00:00:00Z"),
            ]
        };
        let statuses = |cells: &[Cell]| cells.iter().map(|c| c.status).collect::<Vec<Status>>();
        let mut at = cells();
        stage(&mut at, &Deployed::At("2026-01-01T00:00:00.500Z".into()));
        let (staged, ok) = (Status::Staged, Status::Ok);
        assert_eq!(statuses(&at), [staged, staged, ok, ok, Status::Stale]);
        assert!(at.iter().all(|c| c.reason.is_none()));
        assert_eq!(at.iter().filter(|c| awaits_deploy(c)).count(), 2);

        // What runs cannot be dated: never ok, and says why; still not written again.
        let mut undated = cells();
        stage(&mut undated, &Deployed::Undated("Fly app app has no Machines".into()));
        assert_eq!(statuses(&undated)[..4], [Status::Unknown; 4]);
        assert_eq!(undated[4].status, Status::Stale);
        let reason = undated[0].reason.as_deref().unwrap_or_default();
        assert!(reason.ends_with("deployed: Fly app app has no Machines"), "{reason}");
        assert_eq!(undated.iter().filter(|c| awaits_deploy(c)).count(), 4);
        let mut plain = cells();
        stage(&mut plain, &Deployed::Unstaged);
        assert_eq!(statuses(&plain), statuses(&cells()));
    }

    #[test]
    fn what_fails_and_what_is_written() {
        assert!(Status::Missing.fails(false) && Status::Stale.fails(false) && Status::Drifted.fails(false));
        assert!(!Status::Extra.fails(false) && Status::Extra.fails(true));
        assert!(!Status::Unknown.fails(true) && Status::Unknown.needs_write());
        assert!(!Status::Ok.needs_write() && !Status::Extra.needs_write());
        assert!(Status::Shadowed.fails(false) && !Status::Shadowed.needs_write());
        assert!(Status::Staged.fails(false) && !Status::Staged.needs_write());
    }
}
