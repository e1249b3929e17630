//! Secret rotation: how old each secret is in a target, against its group's
//! `rotate_days`. Pure: the clock, the manifest and a target's listing come
//! in, rows come out; `cmd/rotation.rs` does the I/O.
//!
//! Ages are whole UTC calendar days (`time::Timestamp`), so that the age, the
//! due date and "overdue by N days" always agree with the dates shown.

use crate::manifest::Manifest;
use crate::record::Entry;
use crate::time::{DAY, Timestamp};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// When the report is made, and how close to its due date a secret is "due soon".
pub struct Clock {
    pub now: Timestamp,
    pub due_soon_days: u32,
}

/// Declared in report order: what needs doing first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Overdue,
    DueSoon,
    /// In the target with a policy, but the target gave no date it could be aged by.
    Unknown,
    Ok,
    /// Has a policy, and the target does not hold it.
    Absent,
    /// Its group has no `rotate_days`, or it is in no group.
    NoPolicy,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::Overdue, Status::DueSoon, Status::Unknown, Status::Ok, Status::Absent, Status::NoPolicy];

    pub fn label(self) -> &'static str {
        match self {
            Status::Overdue => "overdue",
            Status::DueSoon => "due soon",
            Status::Unknown => "unknown",
            Status::Ok => "ok",
            Status::Absent => "absent",
            Status::NoPolicy => "no policy",
        }
    }
}

/// One secret in one target. Never a value: a target listing has none.
#[derive(Debug, Serialize)]
pub struct Row {
    pub name: String,
    /// The target as named on the command line.
    pub target: String,
    pub group: Option<String>,
    pub status: Status,
    pub present: bool,
    /// As the target gave it.
    pub updated_at: Option<String>,
    pub age_days: Option<i64>,
    pub rotate_days: Option<u32>,
    /// `YYYY-MM-DD`: the last update plus `rotate_days`.
    pub due: Option<String>,
    /// Until the due date; negative when overdue.
    pub days_left: Option<i64>,
    /// `updated_at` is no change but the oldest revision the source still
    /// has: the secret is at least `age_days` old.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub changed_before: bool,
    /// Why its age is unknown or only a bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Row {
    /// The last update's date, or the text the target gave when it is not RFC 3339.
    pub fn updated_date(&self) -> Option<String> {
        let text = self.updated_at.as_deref()?;
        Some(Timestamp::parse(text).map_or_else(|| text.to_string(), Timestamp::date))
    }

    /// Its date is only "changed before" (docs/rotation.md): the age is a
    /// lower bound, never a younger one. Overdue stays overdue; short of
    /// that, the true age may be past the due date, so it is unknown.
    pub fn changed_before(&mut self) {
        let (Some(date), Some(age)) = (self.updated_date(), self.age_days) else { return };
        self.changed_before = true;
        if matches!(self.status, Status::Ok | Status::DueSoon) {
            self.status = Status::Unknown;
        }
        self.reason = Some(format!(
            "unchanged in every revision the source still has: changed before {date}, at least {age} days ago"
        ));
    }

    /// The source cannot date it: its age is unknown, and why.
    pub fn undatable(&mut self, why: &str) {
        self.reason = Some(format!("the source cannot date it: {why}"));
    }
}

/// A row for each manifest secret in one target's listing. `canonical` is the
/// target's own name comparison (GitHub ignores case).
pub fn assess(
    manifest: &Manifest,
    target: &str,
    listed: &[Entry],
    canonical: impl Fn(&str) -> String,
    clock: &Clock,
) -> Vec<Row> {
    let by_name: HashMap<String, &Entry> = listed.iter().map(|e| (canonical(&e.name), e)).collect();
    manifest
        .secrets
        .iter()
        .map(|s| {
            let rotate_days = s.group.as_ref().and_then(|g| manifest.groups.iter().find(|x| &x.name == g)?.rotate_days);
            let entry = by_name.get(&canonical(&s.name));
            let updated_at = entry.and_then(|e| e.updated_at.clone());
            let mut row = Row {
                name: s.name.clone(),
                target: target.to_string(),
                group: s.group.clone(),
                status: Status::NoPolicy,
                present: entry.is_some(),
                updated_at,
                age_days: None,
                rotate_days,
                due: None,
                days_left: None,
                changed_before: false,
                reason: None,
            };
            let updated = row.updated_at.as_deref().and_then(Timestamp::parse);
            // A clock a little behind the target's must not make a negative age.
            row.age_days = updated.map(|u| (clock.now.day() - u.day()).max(0));
            let Some(days) = rotate_days else { return row };
            row.status = Status::Absent;
            if !row.present {
                return row;
            }
            row.status = Status::Unknown;
            let (Some(updated), Some(age)) = (updated, row.age_days) else { return row };
            let left = i64::from(days) - age;
            row.days_left = Some(left);
            row.due = Some(Timestamp::from_unix((updated.day() + i64::from(days)) * DAY).date());
            row.status = match left {
                ..0 => Status::Overdue,
                l if l <= i64::from(clock.due_soon_days) => Status::DueSoon,
                _ => Status::Ok,
            };
            row
        })
        .collect()
}

/// Report order: by status, then the most urgent first; otherwise as given.
pub fn sort(rows: &mut [Row]) {
    rows.sort_by_key(|r| (r.status, r.days_left));
}

/// How many rows have each status (every status, in report order).
pub fn summary(rows: &[Row]) -> BTreeMap<Status, usize> {
    Status::ALL.iter().map(|&s| (s, rows.iter().filter(|r| r.status == s).count())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Group, SecretSpec};
    use std::path::PathBuf;

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap_or_else(|| panic!("{text} did not parse"))
    }

    fn manifest() -> Manifest {
        let spec = SecretSpec::example;
        Manifest {
            path: PathBuf::from("escort.toml"),
            groups: vec![
                Group { name: "api-keys".into(), rotate_days: Some(90), description: None },
                Group { name: "misc".into(), rotate_days: None, description: None },
            ],
            secrets: vec![
                spec("FRESH", Some("api-keys")),
                spec("SOON", Some("api-keys")),
                spec("EDGE", Some("api-keys")),
                spec("LATE", Some("api-keys")),
                spec("UNDATED", Some("api-keys")),
                spec("GONE", Some("api-keys")),
                spec("MISC", Some("misc")),
                spec("LOOSE", None),
            ],
            ..Manifest::default()
        }
    }

    fn entry(name: &str, updated: Option<&str>) -> Entry {
        Entry { name: name.into(), updated_at: updated.map(String::from), ..Entry::default() }
    }

    #[test]
    fn ages_against_a_fixed_clock() {
        let clock = Clock { now: ts("2026-01-01T00:30:00Z"), due_soon_days: 14 };
        let listed = [
            entry("fresh", Some("2025-12-01T10:00:00Z")),
            entry("SOON", Some("2025-10-10T23:59:59Z")),
            entry("EDGE", Some("2025-10-03T00:00:00Z")),
            entry("LATE", Some("2025-10-01T12:00:00Z")),
            entry("UNDATED", None),
            entry("MISC", Some("2020-01-01T00:00:00Z")),
            entry("NOT_IN_MANIFEST", Some("2020-01-01T00:00:00Z")),
        ];
        let rows = assess(&manifest(), "github:acme/app", &listed, |n| n.to_ascii_uppercase(), &clock);
        let got: Vec<_> =
            rows.iter().map(|r| (r.name.as_str(), r.status, r.age_days, r.days_left, r.due.as_deref())).collect();
        assert_eq!(
            got,
            [
                // Found under GitHub's case-blind name.
                ("FRESH", Status::Ok, Some(31), Some(59), Some("2026-03-01")),
                ("SOON", Status::DueSoon, Some(83), Some(7), Some("2026-01-08")),
                // Due today: not yet overdue.
                ("EDGE", Status::DueSoon, Some(90), Some(0), Some("2026-01-01")),
                // A day past the due date, though not 91 full days: calendar days.
                ("LATE", Status::Overdue, Some(92), Some(-2), Some("2025-12-30")),
                ("UNDATED", Status::Unknown, None, None, None),
                ("GONE", Status::Absent, None, None, None),
                // No policy: aged all the same, never due.
                ("MISC", Status::NoPolicy, Some(2192), None, None),
                ("LOOSE", Status::NoPolicy, None, None, None),
            ]
        );
        assert!(rows[6].present && !rows[7].present);
        assert_eq!(rows[6].updated_date().as_deref(), Some("2020-01-01"));
    }

    #[test]
    fn due_soon_window_and_odd_dates() {
        let listed = [entry("FRESH", Some("2025-10-18T00:00:00Z")), entry("SOON", Some("last tuesday"))];
        let at = |now: &str, window: u32| {
            let clock = Clock { now: ts(now), due_soon_days: window };
            assess(&manifest(), "t", &listed, str::to_string, &clock)
        };
        // Due 2026-01-16: 15 days left is ok with a 14-day window, 14 is due soon.
        assert_eq!(at("2026-01-01T00:00:00Z", 14)[0].status, Status::Ok);
        assert_eq!(at("2026-01-02T00:00:00Z", 14)[0].status, Status::DueSoon);
        assert_eq!(at("2026-01-16T23:59:59Z", 0)[0].status, Status::DueSoon);
        assert_eq!(at("2026-01-17T00:00:00Z", 0)[0].status, Status::Overdue);
        // Updated "after" now (clock skew): age 0, not negative.
        assert_eq!(at("2025-10-17T23:00:00Z", 14)[0].age_days, Some(0));
        // A date that is not RFC 3339 cannot be aged, and is shown as given.
        let rows = at("2026-01-01T00:00:00Z", 14);
        assert_eq!(rows[1].status, Status::Unknown);
        assert_eq!(rows[1].updated_date().as_deref(), Some("last tuesday"));
    }

    #[test]
    fn changed_before_is_a_lower_bound() {
        let clock = Clock { now: ts("2026-01-01T00:00:00Z"), due_soon_days: 14 };
        let listed = [entry("LATE", Some("2024-11-28T00:00:00Z")), entry("FRESH", Some("2025-12-01T00:00:00Z"))];
        let mut rows = assess(&manifest(), "t", &listed, str::to_string, &clock);
        for row in rows.iter_mut().filter(|r| r.present) {
            row.changed_before();
        }
        let got: Vec<_> = rows[..4].iter().map(|r| (r.name.as_str(), r.status, r.age_days, r.changed_before)).collect();
        assert_eq!(
            got,
            [
                ("FRESH", Status::Unknown, Some(31), true),
                ("SOON", Status::Absent, None, false),
                ("EDGE", Status::Absent, None, false),
                ("LATE", Status::Overdue, Some(399), true),
            ]
        );
        assert!(rows[3].reason.as_deref().is_some_and(|r| r.contains("changed before 2024-11-28, at least 399 days")));
    }

    #[test]
    fn overdue_first_then_most_urgent() {
        let clock = Clock { now: ts("2026-01-01T00:00:00Z"), due_soon_days: 14 };
        let listed = [
            entry("FRESH", Some("2025-12-01T00:00:00Z")),
            entry("SOON", Some("2025-01-01T00:00:00Z")),
            entry("EDGE", Some("2025-09-01T00:00:00Z")),
            entry("LATE", Some("2025-10-10T00:00:00Z")),
            entry("UNDATED", None),
        ];
        let mut rows = assess(&manifest(), "t", &listed, str::to_string, &clock);
        sort(&mut rows);
        let order: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(order, ["SOON", "EDGE", "LATE", "UNDATED", "FRESH", "GONE", "MISC", "LOOSE"]);
        let counts: Vec<usize> = summary(&rows).into_values().collect();
        assert_eq!(counts, [2, 1, 1, 1, 1, 2]);
    }
}
