//! Whether each copy of a secret is current (docs/routes.md, "escort status"): the
//! model, no I/O. A cell is one key of one route in one target.

use crate::secret::Secret;
use crate::time::Timestamp;
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
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::Ok, Status::Stale, Status::Drifted, Status::Missing, Status::Extra, Status::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Stale => "stale",
            Status::Drifted => "drifted",
            Status::Missing => "missing",
            Status::Extra => "extra",
            Status::Unknown => "unknown",
        }
    }

    /// Whether `sync` writes the key (unknown: it cannot tell, so it does).
    pub fn needs_write(self) -> bool {
        matches!(self, Status::Stale | Status::Drifted | Status::Missing | Status::Unknown)
    }

    /// Whether the cell fails `status` (extra only where the route prunes).
    pub fn fails(self, prunes: bool) -> bool {
        matches!(self, Status::Stale | Status::Drifted | Status::Missing) || (prunes && self == Status::Extra)
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

/// One cell of the matrix, as `status --format json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    pub route: String,
    pub key: String,
    pub target: String,
    pub status: Status,
    pub source_changed_at: Option<String>,
    pub target_updated_at: Option<String>,
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
    fn what_fails_and_what_is_written() {
        assert!(Status::Missing.fails(false) && Status::Stale.fails(false) && Status::Drifted.fails(false));
        assert!(!Status::Extra.fails(false) && Status::Extra.fails(true));
        assert!(!Status::Unknown.fails(true) && Status::Unknown.needs_write());
        assert!(!Status::Ok.needs_write() && !Status::Extra.needs_write());
    }
}
