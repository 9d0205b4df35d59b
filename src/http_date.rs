//! HTTP dates (RFC 9110 section 5.6.7), std only: the three formats a `retry-after`
//! header may use, turned into a [`SystemTime`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SHORT_DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const LONG_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses the three HTTP date formats:
///
/// * IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
/// * RFC 850:     `Sunday, 06-Nov-94 08:49:37 GMT` (two-digit year resolved
///   against `now` as RFC 9110 says: the year with those digits in the window
///   `(current - 50, current + 50]`)
/// * asctime:     `Sun Nov  6 08:49:37 1994`
///
/// Names are matched case-insensitively and runs of whitespace are accepted; the
/// weekday must be a valid name but is not checked against the date. Fields are
/// range-checked (day against the month's length, leap years included; second
/// 60 is accepted for leap seconds).
pub(crate) fn parse_http_date(s: &str, now: SystemTime) -> Option<SystemTime> {
    let tokens: Vec<&str> = s.split_whitespace().collect();
    let (year, month, day, time) = match tokens.as_slice() {
        [weekday, day, month, year, time, gmt] => {
            is_name(weekday.strip_suffix(',')?, &SHORT_DAYS)?;
            is_gmt(gmt)?;
            (
                i64::from(number(year, 4, 4)?),
                month_number(month)?,
                number(day, 2, 2)?,
                *time,
            )
        }
        [weekday, date, time, gmt] => {
            is_name(weekday.strip_suffix(',')?, &LONG_DAYS)?;
            is_gmt(gmt)?;
            let mut parts = date.split('-');
            let (day, month, yy) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() {
                return None;
            }
            let year = two_digit_year(number(yy, 2, 2)?, current_year(now));
            (year, month_number(month)?, number(day, 2, 2)?, *time)
        }
        [weekday, month, day, time, year] => {
            is_name(weekday, &SHORT_DAYS)?;
            (
                i64::from(number(year, 4, 4)?),
                month_number(month)?,
                number(day, 1, 2)?,
                *time,
            )
        }
        _ => return None,
    };
    let (hour, minute, second) = parse_time(time)?;
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(hour * 3_600 + minute * 60 + second);
    if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    }
}

fn is_name(token: &str, names: &[&str]) -> Option<()> {
    names
        .iter()
        .any(|n| n.eq_ignore_ascii_case(token))
        .then_some(())
}

fn is_gmt(token: &str) -> Option<()> {
    token.eq_ignore_ascii_case("GMT").then_some(())
}

/// 1-based month number.
fn month_number(token: &str) -> Option<u32> {
    let index = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(token))?;
    u32::try_from(index + 1).ok()
}

/// A run of `min..=max` ASCII digits (no sign, no whitespace).
fn number(token: &str, min: usize, max: usize) -> Option<u32> {
    let ok = (min..=max).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_digit());
    if ok {
        token.parse().ok()
    } else {
        None
    }
}

/// `HH:MM:SS`, two digits each.
fn parse_time(token: &str) -> Option<(u32, u32, u32)> {
    let mut parts = token.split(':');
    let hour = number(parts.next()?, 2, 2)?;
    let minute = number(parts.next()?, 2, 2)?;
    let second = number(parts.next()?, 2, 2)?;
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some((hour, minute, second))
}

fn two_digit_year(yy: u32, current: i64) -> i64 {
    let mut year = current.div_euclid(100) * 100 + i64::from(yy);
    if year > current + 50 {
        year -= 100;
    } else if year <= current - 50 {
        year += 100;
    }
    year
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`). `month` in 1..=12, `day` in 1..=31.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil (UTC) year that `now` falls in (inverse of [`days_from_civil`]).
fn current_year(now: SystemTime) -> i64 {
    let secs = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    };
    let days = secs.div_euclid(86_400) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let year = year_of_era + era * 400;
    // Shifted months 10 and 11 are January and February of the next civil year.
    if shifted_month >= 10 {
        year + 1
    } else {
        year
    }
}

#[cfg(test)]
// Tests may panic on broken expectations.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example date.
    const RFC_EXAMPLE_SECS: u64 = 784_111_777;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(RFC_EXAMPLE_SECS)
    }

    #[test]
    fn http_date_parser_details() {
        let at = |s: &str| {
            parse_http_date(s, now()).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs())
        };
        assert_eq!(at("Sun, 06 Nov 1994 08:49:37 GMT"), Some(RFC_EXAMPLE_SECS));
        assert_eq!(at("sun, 06 nov 1994 08:49:37 gmt"), Some(RFC_EXAMPLE_SECS));
        assert_eq!(at("Sunday, 06-Nov-94 08:49:37 GMT"), Some(RFC_EXAMPLE_SECS));
        assert_eq!(at("Sun Nov  6 08:49:37 1994"), Some(RFC_EXAMPLE_SECS));
        assert_eq!(at("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(at("Thu, 29 Feb 2024 12:00:00 GMT"), Some(1_709_208_000));
        assert_eq!(at("Fri, 31 Dec 1999 23:59:59 GMT"), Some(946_684_799));
        // Invalid fields.
        assert_eq!(at("Fri, 29 Feb 2023 12:00:00 GMT"), None);
        assert_eq!(at("Sun, 31 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(at("Sun, 06 Nov 1994 24:00:00 GMT"), None);
        assert_eq!(at("Sun, 06 Nov 1994 08:60:00 GMT"), None);
        assert_eq!(at("Sun, 6 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(at("Sun, 06 Nov 1994 08:49:37 PST"), None);
        assert_eq!(at("Xyz, 06 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(at("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(at("Sun, 06 Nov +994 08:49:37 GMT"), None);
        assert_eq!(at("Sunday, 06-Nov-94-1 08:49:37 GMT"), None);
        assert_eq!(at(""), None);
        // Dates before 1970 still parse (and are in the past).
        assert_eq!(
            parse_http_date("Wed, 31 Dec 1969 23:59:59 GMT", now()),
            UNIX_EPOCH.checked_sub(Duration::from_secs(1))
        );
    }

    #[test]
    fn rfc850_two_digit_year_window() {
        assert_eq!(two_digit_year(94, 1994), 1994);
        assert_eq!(two_digit_year(44, 1994), 2044);
        assert_eq!(two_digit_year(45, 1994), 1945);
        assert_eq!(two_digit_year(30, 2026), 2030);
        assert_eq!(two_digit_year(99, 2026), 1999);
        assert_eq!(two_digit_year(76, 2026), 2076);
        assert_eq!(two_digit_year(77, 2026), 1977);
        assert_eq!(current_year(now()), 1994);
        assert_eq!(current_year(UNIX_EPOCH), 1970);
        assert_eq!(
            current_year(UNIX_EPOCH + Duration::from_secs(1_709_208_000)),
            2024
        );
        // Last second of 1999 and first of 2000.
        assert_eq!(
            current_year(UNIX_EPOCH + Duration::from_secs(946_684_799)),
            1999
        );
        assert_eq!(
            current_year(UNIX_EPOCH + Duration::from_secs(946_684_800)),
            2000
        );
        assert_eq!(current_year(UNIX_EPOCH - Duration::from_secs(1)), 1969);
    }
}
