//! China time. Timestamps are stored and compared in UTC (`NaiveDateTime`, microseconds);
//! people read them, and the directives count days, in China Standard Time (UTC+8, no daylight
//! saving since 1991). This is the one place that knows the offset.

use chrono::{Duration, NaiveDate, NaiveDateTime, Timelike};

/// China Standard Time's offset from UTC.
pub const CHINA_OFFSET: Duration = Duration::hours(8);

/// The wall-clock time in China of a UTC instant.
pub fn to_china(utc: NaiveDateTime) -> NaiveDateTime {
    utc + CHINA_OFFSET
}

/// The UTC instant of a wall-clock time in China.
pub fn from_china(local: NaiveDateTime) -> NaiveDateTime {
    local - CHINA_OFFSET
}

/// The date in China of a UTC instant.
pub fn china_date(utc: NaiveDateTime) -> NaiveDate {
    to_china(utc).date()
}

/// The UTC instant at which the China day of `utc` began (its local midnight).
pub fn china_day_start(utc: NaiveDateTime) -> NaiveDateTime {
    from_china(china_date(utc).and_time(chrono::NaiveTime::MIN))
}

/// Truncates a timestamp to microseconds, the precision PostgreSQL keeps, so that a value
/// read back equals the value written on both backends.
pub fn to_micros(t: NaiveDateTime) -> NaiveDateTime {
    t.with_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}

/// A stored (UTC) time as the API writes it: RFC 3339 with `Z`, fractions only when present.
pub fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").expect("test time")
    }

    #[test]
    fn a_utc_evening_is_the_next_morning_in_china() {
        assert_eq!(to_china(t("2022-06-30 16:30:00")), t("2022-07-01 00:30:00"));
        assert_eq!(
            from_china(t("2022-07-01 00:30:00")),
            t("2022-06-30 16:30:00")
        );
        assert_eq!(
            china_date(t("2022-06-30 15:59:59")).to_string(),
            "2022-06-30"
        );
        assert_eq!(
            china_date(t("2022-06-30 16:00:00")).to_string(),
            "2022-07-01"
        );
    }

    #[test]
    fn a_china_day_starts_at_16_00_utc_the_day_before() {
        assert_eq!(
            china_day_start(t("2022-07-01 03:00:00")),
            t("2022-06-30 16:00:00")
        );
        assert_eq!(
            china_day_start(t("2022-06-30 16:00:00")),
            t("2022-06-30 16:00:00")
        );
        assert_eq!(
            china_day_start(t("2022-06-30 15:59:59")),
            t("2022-06-29 16:00:00")
        );
    }

    #[test]
    fn micros_drop_the_nanoseconds_postgresql_cannot_keep() {
        assert_eq!(
            to_micros(t("2022-07-01 00:00:00.123456789")),
            t("2022-07-01 00:00:00.123456")
        );
    }
}
