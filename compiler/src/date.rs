//! Calendar dates and calendar durations, exact and total.
//!
//! A [`Date`] is a count of days since 1970-01-01 in the proleptic Gregorian calendar, so that
//! comparison and day arithmetic are integer operations (the JIT relies on this). Conversions use
//! Howard Hinnant's `days_from_civil` algorithms. Years are limited to 1..=9999.
//!
//! Month arithmetic follows one documented rule: adding months keeps the day of the month and,
//! where that day does not exist in the target month, moves back to the month's last day
//! (31 January + 1 month = 28 or 29 February). This is the rule of PRC practice for periods
//! counted in months (the corresponding day, or the month's last day where there is none).

use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct Date(i32);

impl From<Date> for String {
    fn from(d: Date) -> String {
        d.to_string()
    }
}

pub const MIN_YEAR: i32 = 1;
pub const MAX_YEAR: i32 = 9999;

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

impl Date {
    /// 1970-01-01.
    pub const EPOCH: Date = Date(0);

    /// The date, if `y-m-d` exists and the year is in range.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Date> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&y)
            || !(1..=12).contains(&m)
            || d == 0
            || d > days_in_month(y, m)
        {
            return None;
        }
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy as i32;
        Some(Date(era * 146_097 + doe - 719_468))
    }

    pub fn days_since_epoch(self) -> i32 {
        self.0
    }

    /// The date `days` after 1970-01-01, if its year is in range.
    pub fn from_days(days: i64) -> Option<Date> {
        let d = Date(i32::try_from(days).ok()?);
        let (y, _, _) = d.ymd();
        (MIN_YEAR..=MAX_YEAR).contains(&y).then_some(d)
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        (if m <= 2 { y + 1 } else { y }, m, d)
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let mut parts = s.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        Date::from_ymd(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    }

    pub fn add_days(self, days: i64) -> Option<Date> {
        Date::from_days(i64::from(self.0).checked_add(days)?)
    }

    /// Adds months by the rule in the module documentation.
    pub fn add_months(self, months: i64) -> Option<Date> {
        let (y, m, d) = self.ymd();
        let total = i64::from(y)
            .checked_mul(12)?
            .checked_add(i64::from(m) - 1)?
            .checked_add(months)?;
        let ny = i32::try_from(total.div_euclid(12)).ok()?;
        let nm = u32::try_from(total.rem_euclid(12) + 1).ok()?;
        if !(MIN_YEAR..=MAX_YEAR).contains(&ny) {
            return None;
        }
        Date::from_ymd(ny, nm, d.min(days_in_month(ny, nm)))
    }

    pub fn add_duration(self, dur: Duration) -> Option<Date> {
        self.add_months(dur.months)?.add_days(dur.days)
    }

    pub fn sub_duration(self, dur: Duration) -> Option<Date> {
        self.add_months(dur.months.checked_neg()?)?
            .add_days(dur.days.checked_neg()?)
    }

    /// 0 = Monday … 6 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday.
        (self.0 + 3).rem_euclid(7) as u32
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// A calendar duration: months (years are 12 months) and days, applied months first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Duration {
    pub months: i64,
    pub days: i64,
}

impl Duration {
    pub fn days(n: i64) -> Duration {
        Duration { months: 0, days: n }
    }
    pub fn months(n: i64) -> Duration {
        Duration { months: n, days: 0 }
    }
    pub fn checked_add(self, o: Duration) -> Option<Duration> {
        Some(Duration {
            months: self.months.checked_add(o.months)?,
            days: self.days.checked_add(o.days)?,
        })
    }
    pub fn checked_neg(self) -> Option<Duration> {
        Some(Duration {
            months: self.months.checked_neg()?,
            days: self.days.checked_neg()?,
        })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let (y, m) = (self.months / 12, self.months % 12);
        if y != 0 {
            parts.push(format!("{y} year{}", if y.abs() == 1 { "" } else { "s" }));
        }
        if m != 0 {
            parts.push(format!("{m} month{}", if m.abs() == 1 { "" } else { "s" }));
        }
        if self.days != 0 || parts.is_empty() {
            let d = self.days;
            parts.push(format!("{d} day{}", if d.abs() == 1 { "" } else { "s" }));
        }
        write!(f, "{}", parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_day_of_four_centuries() {
        let start = Date::from_ymd(1900, 1, 1)
            .map(Date::days_since_epoch)
            .unwrap_or(0);
        for n in start..start + 146_097 {
            let d = Date(n);
            let (y, m, dd) = d.ymd();
            assert_eq!(Date::from_ymd(y, m, dd), Some(d));
        }
    }

    #[test]
    fn invalid_dates_are_rejected() {
        assert!(Date::parse("2026-02-29").is_none());
        assert!(Date::parse("2024-02-29").is_some());
        assert!(Date::parse("2026-13-01").is_none());
        assert!(Date::parse("2026-04-31").is_none());
        assert!(Date::parse("0000-01-01").is_none());
    }

    #[test]
    fn month_arithmetic_clamps_to_month_end() {
        let d = Date::parse("2026-01-31");
        assert_eq!(
            d.and_then(|d| d.add_months(1)).map(|d| d.to_string()),
            Some("2026-02-28".into())
        );
        let leap = Date::parse("2024-01-31");
        assert_eq!(
            leap.and_then(|d| d.add_months(1)).map(|d| d.to_string()),
            Some("2024-02-29".into())
        );
        let d = Date::parse("2024-02-29");
        assert_eq!(
            d.and_then(|d| d.add_months(12)).map(|d| d.to_string()),
            Some("2025-02-28".into())
        );
    }

    #[test]
    fn weekdays() {
        assert_eq!(Date::parse("2026-11-29").map(Date::weekday), Some(6)); // a Sunday
        assert_eq!(Date::parse("1970-01-01").map(Date::weekday), Some(3));
    }
}
