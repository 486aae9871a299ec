//! Times for people (pages and emails): the civil UTC date of a time, and rough
//! English durations (emails), without a date library. The pages write both in
//! their own language (`web::i18n`).

/// Year, month (1–12), day, hour and minute of a UTC time.
pub fn civil(unix: u64) -> (i64, i64, i64, u64, u64) {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm), valid for the whole u64 range we use.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs / 3600, secs % 3600 / 60)
}

/// A time as the command line prints it: `2026-12-04 05:40:00 UTC`, sortable
/// and the same on every machine whatever its time zone (epoch seconds, which
/// `otsd user list` printed before, mean nothing to most readers).
pub fn utc(unix: u64) -> String {
    let (year, month, day, hour, minute) = civil(unix);
    format!(
        "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{:02} UTC",
        unix % 60
    )
}

/// `1 account`, `2 accounts`, `0 accounts`: a count with its noun in English
/// (command-line output and log lines; the pages count in their own language).
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The units a duration is written in, largest first, by their English names
/// (the pages name them in their own language).
const UNITS: [(u64, &str); 4] = [
    (86_400, "day"),
    (3600, "hour"),
    (60, "minute"),
    (1, "second"),
];

/// The two largest units of a duration that are not zero, contiguous (`1 day,
/// 1 hour`, never `1 day, 1 second`), as counts and unit names; `0 second` for 0.
pub fn largest_units(seconds: u64) -> Vec<(u64, &'static str)> {
    let mut parts = Vec::new();
    let mut rest = seconds;
    for (size, name) in UNITS {
        let n = rest / size;
        if n > 0 && parts.len() < 2 {
            parts.push((n, name));
            rest %= size;
        } else if !parts.is_empty() {
            break;
        }
    }
    if parts.is_empty() {
        parts.push((0, "second"));
    }
    parts
}

/// `3 days, 4 hours` — the two largest units, in English (emails).
pub fn duration(seconds: u64) -> String {
    largest_units(seconds)
        .iter()
        .map(|(n, name)| format!("{n} {name}{}", if *n == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_durations_read_naturally() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0));
        assert_eq!(civil(1_795_418_906), (2026, 11, 23, 7, 28));
        assert_eq!(civil(951_782_400), (2000, 2, 29, 0, 0));
        assert_eq!(duration(604_800), "7 days");
        assert_eq!(duration(90_061), "1 day, 1 hour");
        assert_eq!(duration(300), "5 minutes");
        assert_eq!(duration(0), "0 seconds");
    }

    #[test]
    fn command_line_times_are_utc_with_seconds_and_counts_agree_with_their_noun() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_796_363_999), "2026-12-04 05:59:59 UTC");
        assert_eq!(utc(951_782_400 + 86_399), "2000-02-29 23:59:59 UTC");
        assert_eq!(count(1, "account", "accounts"), "1 account");
        assert_eq!(count(0, "account", "accounts"), "0 accounts");
        assert_eq!(count(2, "secret", "secrets"), "2 secrets");
    }
}
