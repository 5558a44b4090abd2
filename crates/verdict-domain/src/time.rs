//! UTC timestamps as Octane writes and reads them (`2026-11-23T11:29:51Z`),
//! converted to and from epoch milliseconds without a calendar dependency.

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
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

/// A day in epoch milliseconds (UTC days have no leap seconds here).
pub const DAY_MS: i64 = 86_400_000;

/// `yyyy-MM-ddTHH:mm:ssZ` for an epoch-millisecond instant (entity dates, §7.3).
#[must_use]
pub fn format_iso(ms: i64) -> String {
    let (date, secs) = split(ms);
    let (y, mo, d) = civil_from_days(date);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `yyyy-MM-dd'T'HH:mm:ss+0000`: the dedupe `until` format (protocol §4.3).
#[must_use]
pub fn format_until(ms: i64) -> String {
    let (date, secs) = split(ms);
    let (y, mo, d) = civil_from_days(date);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}+0000",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn split(ms: i64) -> (i64, i64) {
    let secs = ms.div_euclid(1000);
    (secs.div_euclid(86_400), secs.rem_euclid(86_400))
}

/// Parses `yyyy-MM-dd`, optionally followed by `THH:mm[:ss[.fff]]` and `Z` or
/// `±HH:mm`/`±HHmm` (no zone = UTC). `None` when the text is not such a date.
#[must_use]
pub fn parse_iso(text: &str) -> Option<i64> {
    let t = text.trim();
    let b = t.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |s: &str| s.parse::<i64>().ok();
    let (y, mo, d) = (num(t.get(0..4)?)?, num(t.get(5..7)?)?, num(t.get(8..10)?)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut ms = days_from_civil(y, mo, d) * DAY_MS;
    let rest = t.get(10..)?;
    if rest.is_empty() {
        return Some(ms);
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let mut parts = clock.split(':');
    let h = num(parts.next()?)?;
    let mi = num(parts.next()?)?;
    let (s, frac) = match parts.next() {
        Some(sec) => match sec.split_once('.') {
            Some((whole, frac)) => (num(whole)?, frac),
            None => (num(sec)?, ""),
        },
        None => (0, ""),
    };
    if parts.next().is_some() || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let frac_ms = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().chain("000".chars()).take(3).collect();
        num(&digits)?
    };
    ms += ((h * 60 + mi) * 60 + s) * 1000 + frac_ms;
    Some(ms - zone_offset_ms(zone)?)
}

/// Parses a timestamp as test reports write them: ISO 8601 ([`parse_iso`]),
/// Java's `Date.toGMTString()` form `1 Dec 2026 19:01:37 GMT` (TestNG's
/// JUnitXMLReporter), or epoch milliseconds. `None` for anything else.
#[must_use]
pub fn parse_report_time(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Some(ms) = parse_iso(t) {
        return Some(ms);
    }
    if !t.is_empty() && t.len() <= 16 && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().ok();
    }
    parse_gmt_string(t)
}

/// `d MMM yyyy HH:mm:ss GMT` (Java's `Date.toGMTString`).
fn parse_gmt_string(t: &str) -> Option<i64> {
    let mut parts = t.split_ascii_whitespace();
    let day: i64 = parts.next()?.parse().ok()?;
    let month = parts.next()?;
    let year: i64 = parts.next()?.parse().ok()?;
    let clock = parts.next()?;
    let zone = parts.next()?;
    if parts.next().is_some() || !(zone == "GMT" || zone == "UTC") {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mo = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as i64 + 1;
    let mut hms = clock.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some()
        || !(1..=31).contains(&day)
        || !(1..=9999).contains(&year)
        || h > 23
        || mi > 59
        || s > 60
    {
        return None;
    }
    Some(days_from_civil(year, mo, day) * DAY_MS + ((h * 60 + mi) * 60 + s) * 1000)
}

fn zone_offset_ms(zone: &str) -> Option<i64> {
    if zone.is_empty() || zone.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits: String = zone[1..].chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 4 {
        return None;
    }
    let h: i64 = digits[..2].parse().ok()?;
    let m: i64 = digits[2..].parse().ok()?;
    Some(sign * (h * 60 + m) * 60_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_timestamps_reports_write() {
        let iso = parse_iso("2026-12-01T19:01:37Z");
        assert!(iso.is_some());
        assert_eq!(parse_report_time("1 Dec 2026 19:01:37 GMT"), iso);
        assert_eq!(parse_report_time("01 dec 2026 19:01:37 GMT"), iso);
        assert_eq!(parse_report_time("2026-12-01T19:01:37.000+00:00"), iso);
        assert_eq!(
            parse_report_time(" 1764615697000 "),
            Some(1_764_615_697_000)
        );
        assert_eq!(parse_report_time("1 Dec 2026 19:01:37 PST"), None);
        assert_eq!(parse_report_time("yesterday"), None);
        assert_eq!(parse_report_time("1 Jan 9999999999999 00:00:00 GMT"), None);
        assert_eq!(parse_report_time("32 Dec 2026 19:01:37 GMT"), None);
    }

    #[test]
    fn formats_and_parses_round_trip() {
        let ms = 1_430_919_295_000;
        assert_eq!(format_iso(ms), "2015-05-06T13:34:55Z");
        assert_eq!(format_until(ms), "2015-05-06T13:34:55+0000");
        assert_eq!(parse_iso("2015-05-06T13:34:55Z"), Some(ms));
        assert_eq!(parse_iso("2015-05-06T15:34:55+02:00"), Some(ms));
        assert_eq!(parse_iso("2015-05-06T13:34:55.250Z"), Some(ms + 250));
        assert_eq!(parse_iso("1970-01-01"), Some(0));
        assert_eq!(format_iso(-1000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn rejects_non_dates() {
        for bad in [
            "",
            "2015",
            "2015-13-01",
            "2015-05-06T25:00:00Z",
            "abc",
            "2015-05-06T10:00:00+2",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }
}
