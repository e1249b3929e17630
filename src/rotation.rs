//! Secret rotation: how old each secret is in a target, against its group's
//! `rotate_days`. Pure: the clock, the manifest and a target's listing come
//! in, rows come out; `cmd/rotation.rs` does the I/O.
//!
//! Ages are whole UTC calendar days, so that the age, the due date and
//! "overdue by N days" always agree with the dates shown. RFC 3339 is parsed
//! here by hand: the grammar is small and strict, only whole seconds matter,
//! and a date crate would add weight to the static binary for a few lines.

use crate::manifest::Manifest;
use crate::targets::Entry;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

const DAY: i64 = 86_400;

/// An instant, in whole seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn from_unix(seconds: i64) -> Timestamp {
        Timestamp(seconds)
    }

    /// RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with `t` or a
    /// space allowed for `T` and `z` for `Z`. The fraction is dropped.
    pub fn parse(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        let num = |at: usize, len: usize| -> Option<i64> {
            let digits = b.get(at..at + len)?;
            digits.iter().all(u8::is_ascii_digit).then(|| digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
        };
        let sep = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
        if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
            return None;
        }
        let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
        let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        // 60 is a leap second: it counts as the next second, as everywhere else.
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let mut at = 19;
        if sep(at, b".") {
            let digits = b[at + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            at += 1 + digits;
        }
        let offset = match b.get(at..)? {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let (h, m) = (num(at + 1, 2)?, num(at + 4, 2)?);
                if h > 23 || m > 59 {
                    return None;
                }
                let minutes = h * 60 + m;
                if *sign == b'-' { -minutes } else { minutes }
            }
            _ => return None,
        };
        let seconds = days_from_civil(year, month, day) * DAY + hour * 3600 + minute * 60 + second - offset * 60;
        Some(Timestamp(seconds))
    }

    /// The UTC calendar day, as days since 1970-01-01.
    pub fn day(self) -> i64 {
        self.0.div_euclid(DAY)
    }

    /// `YYYY-MM-DD`, in UTC.
    pub fn date(self) -> String {
        let (y, m, d) = civil_from_days(self.day());
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn rfc3339(self) -> String {
        let s = self.0.rem_euclid(DAY);
        format!("{}T{:02}:{:02}:{:02}Z", self.date(), s / 3600, s / 60 % 60, s % 60)
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil-calendar algorithms (proleptic Gregorian), exact for
// every date a four-digit year can name.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

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
}

impl Row {
    /// The last update's date, or the text the target gave when it is not RFC 3339.
    pub fn updated_date(&self) -> Option<String> {
        let text = self.updated_at.as_deref()?;
        Some(Timestamp::parse(text).map_or_else(|| text.to_string(), Timestamp::date))
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
            row.due = Some(Timestamp((updated.day() + i64::from(days)) * DAY).date());
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

    #[test]
    fn parses_rfc3339_to_the_unix_time() {
        // Expected values from `date -u -d ... +%s`.
        let cases = [
            ("1970-01-01T00:00:00Z", 0),
            ("2000-02-29T00:00:00Z", 951_782_400),
            ("1999-12-31T23:59:59Z", 946_684_799),
            ("2026-01-01T00:00:00Z", 1_767_225_600),
            ("2026-01-01t00:00:00z", 1_767_225_600),
            ("2026-01-01 00:00:00Z", 1_767_225_600),
            ("2026-01-01T00:00:00.999999999Z", 1_767_225_600),
            ("2026-01-01T02:30:00+02:30", 1_767_225_600),
            ("2025-12-31T19:00:00-05:00", 1_767_225_600),
            ("2016-12-31T23:59:60Z", 1_483_228_800),
        ];
        for (text, want) in cases {
            assert_eq!(ts(text), Timestamp(want), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_rfc3339() {
        for bad in [
            "",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:61Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00Z ",
            "+026-01-01T00:00:00Z",
            "2026/01/01T00:00:00Z",
            "2026-01-01T00:00:00UTC",
            "２026-01-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn calendar_round_trips() {
        // Every day from 1600 to 2400 (leap centuries both ways) comes back as itself.
        let (first, last) = (days_from_civil(1600, 1, 1), days_from_civil(2400, 12, 31));
        let mut expect = (1600, 1, 1);
        for day in first..=last {
            assert_eq!(civil_from_days(day), expect, "day {day}");
            let (y, m, d) = expect;
            expect = if d < days_in_month(y, m) {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
        assert_eq!(ts("1969-12-31T23:59:59Z").date(), "1969-12-31");
        assert_eq!(ts("2024-02-29T13:14:15+01:00").rfc3339(), "2024-02-29T12:14:15Z");
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
