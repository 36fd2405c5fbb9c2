//! The working-day calendar: which days are working days, from a `calendar` data module
//! (statutory holidays and the make-up working days the State Council announces each year), and
//! working-day arithmetic in O(1) per call.
//!
//! A working day is a Monday to Friday that is not a statutory holiday, or a make-up day (a
//! weekend day declared a working day). `D + N working days` is the Nth working day after `D`
//! (`D` itself does not count); `D - N working days` the Nth before it. A computation that
//! starts or ends outside the years the calendar covers is an error naming the date, never a
//! guess.
//!
//! The table is built once per data module: for every day of the covered years, the number of
//! working days up to and including it (`cum`), and the list of working days (`work`), so an
//! addition is two array reads.

use crate::date::Date;

/// The schema a law declares to use working days (checked by the compiler).
pub const SCHEMA: &str = "calendar";
pub const SCHEMA_DECL: &str =
    "data schema calendar { covers: set<int>, holidays: set<date>, make_up_days: set<date> }";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingDayCalendar {
    pub first_year: i32,
    pub last_year: i32,
    start: i32,
    cum: Vec<u32>,
    work: Vec<i32>,
}

/// Why a working-day computation has no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CalendarError {
    /// The starting date is outside the covered years.
    StartOutside(Date),
    /// The result would fall outside the covered years.
    ResultOutside,
}

impl WorkingDayCalendar {
    /// Builds the table. `years` must be contiguous; the caller validates the dates (see
    /// `check::konst`), this only needs them inside the years.
    pub fn build(years: &[i64], holidays: &[Date], make_up: &[Date]) -> Option<WorkingDayCalendar> {
        let first = i32::try_from(*years.iter().min()?).ok()?;
        let last = i32::try_from(*years.iter().max()?).ok()?;
        let start = Date::from_ymd(first, 1, 1)?.days_since_epoch();
        let end = Date::from_ymd(last, 12, 31)?.days_since_epoch();
        let len = usize::try_from(end - start + 1).ok()?;
        let mut is_holiday = vec![false; len];
        let mut is_make_up = vec![false; len];
        for (dates, flags) in [(holidays, &mut is_holiday), (make_up, &mut is_make_up)] {
            for d in dates {
                let i = usize::try_from(d.days_since_epoch() - start).ok()?;
                *flags.get_mut(i)? = true;
            }
        }
        let mut cum = Vec::with_capacity(len);
        let mut work = Vec::new();
        let mut count = 0u32;
        for i in 0..len {
            let day = Date::from_days(i64::from(start) + i as i64)?;
            let weekday = day.weekday() < 5;
            let working = (weekday && !is_holiday.get(i).copied().unwrap_or(false))
                || is_make_up.get(i).copied().unwrap_or(false);
            if working {
                count += 1;
                work.push(start + i as i32);
            }
            cum.push(count);
        }
        Some(WorkingDayCalendar {
            first_year: first,
            last_year: last,
            start,
            cum,
            work,
        })
    }

    fn index(&self, d: Date) -> Option<usize> {
        usize::try_from(d.days_since_epoch() - self.start)
            .ok()
            .filter(|i| *i < self.cum.len())
    }

    pub fn is_working_day(&self, d: Date) -> Option<bool> {
        let i = self.index(d)?;
        let before = if i == 0 { 0 } else { *self.cum.get(i - 1)? };
        Some(*self.cum.get(i)? > before)
    }

    /// `d + n working days` (`n` may be negative or zero).
    pub fn add(&self, d: Date, n: i64) -> Result<Date, CalendarError> {
        let i = self.index(d).ok_or(CalendarError::StartOutside(d))?;
        if n == 0 {
            return Ok(d);
        }
        let up_to = i64::from(*self.cum.get(i).ok_or(CalendarError::StartOutside(d))?);
        let working = self.is_working_day(d).unwrap_or(false);
        // Index into `work` of the answer.
        let target = if n > 0 {
            up_to.checked_add(n - 1)
        } else {
            (up_to - i64::from(working)).checked_add(n)
        };
        let day = target
            .and_then(|t| usize::try_from(t).ok())
            .and_then(|t| self.work.get(t))
            .ok_or(CalendarError::ResultOutside)?;
        Date::from_days(i64::from(*day)).ok_or(CalendarError::ResultOutside)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap_or(Date::EPOCH)
    }

    fn cal_2026() -> WorkingDayCalendar {
        let mut holidays = Vec::new();
        for day in 1..=7 {
            holidays.push(d(&format!("2026-10-0{day}")));
        }
        WorkingDayCalendar::build(&[2026], &holidays, &[d("2026-10-10")])
            .unwrap_or_else(|| panic!("builds"))
    }

    #[test]
    fn national_day_is_skipped_and_the_make_up_saturday_counts() {
        assert_eq!(cal_2026().add(d("2026-09-28"), 10), Ok(d("2026-10-16")));
    }

    #[test]
    fn backwards_and_zero() {
        let c = cal_2026();
        assert_eq!(c.add(d("2026-10-16"), -10), Ok(d("2026-09-28")));
        assert_eq!(c.add(d("2026-10-03"), -1), Ok(d("2026-09-30")));
        assert_eq!(c.add(d("2026-10-03"), 1), Ok(d("2026-10-08")));
        assert_eq!(c.add(d("2026-10-03"), 0), Ok(d("2026-10-03")));
    }

    #[test]
    fn leaving_the_covered_years_is_an_error() {
        let c = cal_2026();
        assert_eq!(
            c.add(d("2025-12-31"), 1),
            Err(CalendarError::StartOutside(d("2025-12-31")))
        );
        assert_eq!(c.add(d("2026-12-30"), 5), Err(CalendarError::ResultOutside));
        assert_eq!(
            c.add(d("2026-01-02"), -5),
            Err(CalendarError::ResultOutside)
        );
    }
}
