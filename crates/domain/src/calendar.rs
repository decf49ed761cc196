//! Working days (工作日): the deadlines of the hotline desk count them in China time. A policy
//! pack's `[calendar]` lists the public holidays and the make-up working days (调休) of the State
//! Council's notice for a year; any other Saturday and Sunday is a rest day.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};

/// The rest days and make-up working days in force.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    pub holidays: BTreeSet<NaiveDate>,
    pub workdays: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// Whether people work on `day`: a make-up working day does, a holiday does not, else
    /// Monday to Friday.
    pub fn is_workday(&self, day: NaiveDate) -> bool {
        if self.workdays.contains(&day) {
            return true;
        }
        if self.holidays.contains(&day) {
            return false;
        }
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The deadline `n` working days after `from` (stored UTC): the end (midnight, China time)
    /// of the `n`th working day after the day `from` falls on. Zero days: the end of that day.
    pub fn add_workdays(&self, from: NaiveDateTime, n: u32) -> NaiveDateTime {
        let mut day = crate::time::china_date(from);
        let mut left = n;
        while left > 0 {
            day += Duration::days(1);
            if self.is_workday(day) {
                left -= 1;
            }
        }
        crate::time::from_china((day + Duration::days(1)).and_time(chrono::NaiveTime::MIN))
    }

    /// Adds another calendar's days (packs for several years make one calendar).
    pub fn extend(&mut self, other: &Calendar) {
        self.holidays.extend(other.holidays.iter().copied());
        self.workdays.extend(other.workdays.iter().copied());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
    }

    fn china(s: &str) -> NaiveDateTime {
        crate::time::from_china(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("a time"))
    }

    /// The 2026 National Day holiday of the State Council's notice: 10-01 to 10-07 off,
    /// 09-20 (Sunday) and 10-10 (Saturday) worked.
    fn national_day_2026() -> Calendar {
        Calendar {
            holidays: (1..=7).map(|n| d(&format!("2026-10-0{n}"))).collect(),
            workdays: [d("2026-09-20"), d("2026-10-10")].into(),
        }
    }

    #[test]
    fn holidays_rest_make_up_days_work_weekends_rest() {
        let c = national_day_2026();
        assert!(!c.is_workday(d("2026-10-05")), "a Monday in the holiday");
        assert!(c.is_workday(d("2026-10-10")), "a Saturday worked (调休)");
        assert!(c.is_workday(d("2026-09-20")), "a Sunday worked");
        assert!(!c.is_workday(d("2026-10-11")), "an ordinary Sunday");
        assert!(c.is_workday(d("2026-10-09")), "an ordinary Friday");
    }

    #[test]
    fn a_deadline_counts_working_days_and_ends_at_midnight_in_china() {
        let c = national_day_2026();
        // Forwarded on Wednesday 30 September at 16:00: day 1 is Thursday 8 October (1-7 are
        // off), then Friday 9, Saturday 10 (worked), Monday 12, Tuesday 13.
        let due = c.add_workdays(china("2026-09-30 16:00"), 5);
        assert_eq!(due, china("2026-10-14 00:00"));
        assert_eq!(
            c.add_workdays(china("2026-09-30 16:00"), 1),
            china("2026-10-09 00:00")
        );
        // Late on a Friday night in China (but still Friday in UTC's morning): Monday counts.
        let friday_night = china("2026-11-27 23:30");
        assert_eq!(c.add_workdays(friday_night, 1), china("2026-12-01 00:00"));
        assert_eq!(c.add_workdays(friday_night, 0), china("2026-11-28 00:00"));
        // With no calendar, weekends only.
        let plain = Calendar::default();
        assert_eq!(
            plain.add_workdays(china("2026-10-02 09:00"), 1),
            china("2026-10-06 00:00")
        );
    }
}
