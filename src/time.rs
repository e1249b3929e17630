//! Instants: `Timestamp`, whole UTC seconds, with RFC 3339 parsed by hand: the
//! grammar is small and strict, only whole seconds matter, and a date crate
//! would add weight to the static binary for a few lines. Under everything
//! that reads a date (settings' `ESCORT_NOW`, rotation, ESC revisions).

pub const DAY: i64 = 86_400;

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

/// An instant to the nanosecond, for the dates compared as Go compares them
/// (Fly.io's: flyctl tells a staged secret by fractions of a second).
/// Everything else counts whole seconds (`Timestamp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Moment(Timestamp, u32);

impl Moment {
    /// RFC 3339 as `Timestamp::parse` reads it, the fraction kept to the
    /// nanosecond (further digits dropped, as Go's time.Parse does).
    pub fn parse(text: &str) -> Option<Moment> {
        let at = Timestamp::parse(text)?;
        let digits: Vec<u32> = match text.as_bytes().get(19) {
            Some(b'.') => text.bytes().skip(20).take_while(u8::is_ascii_digit).map(|d| u32::from(d - b'0')).collect(),
            _ => Vec::new(),
        };
        let nanos = (0..9).fold(0, |n, i| n * 10 + digits.get(i).copied().unwrap_or(0));
        Some(Moment(at, nanos))
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, the fraction without trailing zeros.
    pub fn rfc3339(self) -> String {
        let whole = self.0.rfc3339();
        if self.1 == 0 {
            return whole;
        }
        let fraction = format!("{:09}", self.1);
        format!("{}.{}Z", &whole[..whole.len() - 1], fraction.trim_end_matches('0'))
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn moments_keep_the_fraction() {
        let m = |text: &str| Moment::parse(text).unwrap_or_else(|| panic!("{text} did not parse"));
        assert!(m("2026-01-01T00:00:00.5Z") > m("2026-01-01T00:00:00.499999999Z"));
        assert!(m("2026-01-01T00:00:00.000000001Z") > m("2026-01-01T00:00:00Z"));
        assert_eq!(m("2026-01-01T00:00:00.1234567899Z"), m("2026-01-01T00:00:00.123456789Z"));
        assert_eq!(m("2026-01-01T02:30:00.25+02:30").rfc3339(), "2026-01-01T00:00:00.25Z");
        assert_eq!(m("2026-01-01T00:00:00.000Z").rfc3339(), "2026-01-01T00:00:00Z");
        assert_eq!(Moment::parse("2026-01-01T00:00:00"), None);
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
}
