//! Dates and times as the standards write them: seconds since the Unix
//! epoch and RFC 3339 §5.6 date-times in UTC, with no date crate.

use std::time::{SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: i64 = 86_400;
/// 0000-01-01T00:00:00Z: RFC 3339 §5.6 has four-digit years only.
const EARLIEST_RFC3339: i64 = -62_167_219_200;
/// 9999-12-31T23:59:59Z.
const LATEST_RFC3339: i64 = 253_402_300_799;

/// Whole seconds since the Unix epoch, negative before it, sub-second part
/// dropped (towards the past, so a time never moves into the next second).
pub fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            let whole = if before.subsec_nanos() > 0 {
                whole.saturating_add(1)
            } else {
                whole
            };
            whole.saturating_neg()
        }
    }
}

/// Writes `time` as an RFC 3339 §5.6 date-time in UTC, whole seconds, with
/// `Z`: `2023-11-14T22:13:20Z`.
///
/// Times outside years 0000–9999, which RFC 3339 cannot write, are clamped
/// to the nearest end of that range.
pub fn format_rfc3339(time: SystemTime) -> String {
    format_unix_rfc3339(unix_seconds(time))
}

/// [`format_rfc3339`] for seconds since the Unix epoch.
pub fn format_unix_rfc3339(seconds: i64) -> String {
    let seconds = seconds.clamp(EARLIEST_RFC3339, LATEST_RFC3339);
    let days = seconds.div_euclid(SECONDS_PER_DAY);
    let of_day = seconds.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// Reads back exactly the form [`format_rfc3339`] writes
/// (`YYYY-MM-DDTHH:MM:SSZ`) as seconds since the Unix epoch; `None` for
/// anything else, including other offsets and fractions.
pub fn parse_rfc3339_utc(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 20
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || bytes[10] != b'T'
        || bytes[13] != b':'
        || bytes[16] != b':'
        || bytes[19] != b'Z'
    {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<i64> {
        bytes[from..to].iter().try_fold(0_i64, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
        })
    };
    let year = number(0, 4)?;
    let month = number(5, 7)?;
    let day = number(8, 10)?;
    let hour = number(11, 13)?;
    let minute = number(14, 16)?;
    let second = number(17, 19)?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second)
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// The proleptic Gregorian calendar repeats every 400 years (an "era" of
// 146 097 days). Counting years from 1 March puts the leap day last, so the
// day of the year maps to a month with one linear formula: the month lengths
// from March run 31 30 31 30 31 31 30 31 30 31 31 (28|29), which
// (153 * m + 2) / 5 reproduces for m = 0 (March) .. 11 (February).

/// Days since 1970-01-01 for a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let march_month = (month + 9) % 12;
    let day_of_year = (153 * march_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719 468 days from 0000-03-01 to 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian (year, month, day) of a day count since
/// 1970-01-01: the inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    // Remove the leap days the era has seen so far (one every 4 years, none
    // every 100, one again at 400) before dividing by 365.
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_month + 2) / 5 + 1;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    const TIMES: [(i64, &str, &str); 17] = [
        (0, "1970-01-01T00:00:00Z", "the epoch"),
        (1_700_000_000, "2023-11-14T22:13:20Z", "a known modern time"),
        (-1, "1969-12-31T23:59:59Z", "one second before the epoch"),
        (
            951_782_400,
            "2000-02-29T00:00:00Z",
            "leap day of a 400-year leap year",
        ),
        (
            951_868_799,
            "2000-02-29T23:59:59Z",
            "last second of that leap day",
        ),
        (
            1_709_208_000,
            "2024-02-29T12:00:00Z",
            "leap day of an ordinary leap year",
        ),
        (
            -2_203_977_600,
            "1900-02-28T00:00:00Z",
            "1900 is not a leap year (1)",
        ),
        (
            -2_203_891_200,
            "1900-03-01T00:00:00Z",
            "1900 is not a leap year (2)",
        ),
        (
            4_107_456_000,
            "2100-02-28T00:00:00Z",
            "2100 is not a leap year (1)",
        ),
        (
            4_107_542_400,
            "2100-03-01T00:00:00Z",
            "2100 is not a leap year (2)",
        ),
        (
            -2_208_988_800,
            "1900-01-01T00:00:00Z",
            "a century start before the epoch",
        ),
        (
            1_013_662_812,
            "2002-02-14T05:00:12Z",
            "the RFC 8460 §5.1 example begin",
        ),
        (
            1_013_749_130,
            "2002-02-15T04:58:50Z",
            "the RFC 8460 §5.1 example end",
        ),
        (
            253_402_300_799,
            "9999-12-31T23:59:59Z",
            "the last time RFC 3339 can write",
        ),
        (
            -62_167_219_200,
            "0000-01-01T00:00:00Z",
            "the first time RFC 3339 can write",
        ),
        (
            i64::MAX,
            "9999-12-31T23:59:59Z",
            "later than 9999 is clamped",
        ),
        (
            i64::MIN,
            "0000-01-01T00:00:00Z",
            "earlier than 0000 is clamped",
        ),
    ];

    #[test]
    fn rfc3339_formatting_matches_known_timestamps() {
        for (seconds, text, rule) in TIMES {
            assert_eq!(format_unix_rfc3339(seconds), text, "{rule}: {seconds}");
        }
    }

    #[test]
    fn rfc3339_of_system_times() {
        let before = UNIX_EPOCH - Duration::from_millis(500);
        let cases = [
            (UNIX_EPOCH, "1970-01-01T00:00:00Z", "the epoch"),
            (
                at(1_700_000_000) + Duration::from_millis(999),
                "2023-11-14T22:13:20Z",
                "fractions are dropped",
            ),
            (
                before,
                "1969-12-31T23:59:59Z",
                "half a second before the epoch is the second before",
            ),
        ];
        for (time, text, rule) in cases {
            assert_eq!(format_rfc3339(time), text, "{rule}: {time:?}");
        }
    }

    #[test]
    fn rfc3339_parsing_reads_back_what_is_written() {
        for (seconds, text, rule) in TIMES
            .iter()
            .filter(|(s, _, _)| (EARLIEST_RFC3339..=LATEST_RFC3339).contains(s))
        {
            assert_eq!(parse_rfc3339_utc(text), Some(*seconds), "{rule}: {text}");
        }
        let rejected = [
            ("2023-02-29T00:00:00Z", "no 29 February in 2023"),
            ("2100-02-29T00:00:00Z", "no 29 February in 2100"),
            ("2023-04-31T00:00:00Z", "April has 30 days"),
            ("2023-13-01T00:00:00Z", "month 13"),
            ("2023-00-01T00:00:00Z", "month 0"),
            ("2023-01-00T00:00:00Z", "day 0"),
            ("2023-01-01T24:00:00Z", "hour 24"),
            ("2023-01-01T00:60:00Z", "minute 60"),
            ("2023-01-01T00:00:60Z", "leap seconds are never written"),
            ("2023-01-01t00:00:00Z", "lowercase t"),
            ("2023-01-01T00:00:00z", "lowercase z"),
            ("2023-01-01T00:00:00+00:00", "an offset instead of Z"),
            ("2023-01-01T00:00:00.5Z", "fractions"),
            ("2023-1-01T00:00:00Z", "one-digit month"),
            ("+023-01-01T00:00:00Z", "a sign in the year"),
            ("２023-01-01T00:00:0Z", "non-ASCII digit"),
            ("", "empty"),
        ];
        for (text, rule) in rejected {
            assert_eq!(parse_rfc3339_utc(text), None, "{rule}: {text:?}");
        }
    }

    #[test]
    fn civil_conversion_is_a_bijection_over_the_rfc3339_range() {
        let first = EARLIEST_RFC3339.div_euclid(SECONDS_PER_DAY);
        let last = LATEST_RFC3339.div_euclid(SECONDS_PER_DAY);
        let mut expected = (0_i64, 1_i64, 1_i64);
        for days in first..=last {
            let date = civil_from_days(days);
            assert_eq!(date, expected, "day {days} follows the previous one");
            assert_eq!(
                days_from_civil(date.0, date.1, date.2),
                days,
                "round trip of day {days}"
            );
            expected = if date.2 < days_in_month(date.0, date.1) {
                (date.0, date.1, date.2 + 1)
            } else if date.1 < 12 {
                (date.0, date.1 + 1, 1)
            } else {
                (date.0 + 1, 1, 1)
            };
        }
        assert_eq!(expected, (10_000, 1, 1), "the walk ends after 9999-12-31");
    }
}
