//! Attribute and text values shared by the report readers.
//!
//! Owns the small conversions both formats need so they agree on them:
//! seconds to milliseconds, tidying stack traces, empty-means-absent, and the
//! file name of an assembly path.

/// Milliseconds from a duration in seconds as reports write it (`"0.25"`,
/// `"12"`, `"1,234.5"` with thousands separators, `"5e-05"`), rounded half
/// up. Missing, empty, unreadable or negative values give 0: a bad `time`
/// should not cost the whole import, and Jenkins treats such values the
/// same way.
pub(crate) fn seconds_to_ms(raw: Option<&str>) -> i64 {
    let Some(raw) = raw else { return 0 };
    let digits: String = raw.trim().chars().filter(|&c| c != ',').collect();
    parse_ms(&digits).unwrap_or(0).max(0)
}

fn parse_ms(s: &str) -> Option<i64> {
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.starts_with('-') {
        return Some(0);
    }
    if s.contains(['e', 'E']) {
        let seconds: f64 = s.parse().ok()?;
        // `as` saturates, and NaN becomes 0.
        return seconds
            .is_finite()
            .then(|| (seconds * 1000.0).round() as i64);
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let mut ms = int.bytes().fold(0i64, |acc, b| {
        acc.saturating_mul(10).saturating_add(i64::from(b - b'0'))
    });
    ms = ms.saturating_mul(1000);
    let frac = frac.as_bytes();
    for (i, scale) in [100, 10, 1].into_iter().enumerate() {
        let digit = frac.get(i).map_or(0, |b| i64::from(b - b'0'));
        ms = ms.saturating_add(digit * scale);
    }
    if frac.get(3).is_some_and(|&b| b >= b'5') {
        ms = ms.saturating_add(1);
    }
    Some(ms)
}

/// `text` without leading blank lines and trailing whitespace; keeps the
/// indentation of the first line, which stack traces use.
pub(crate) fn tidy(text: &str) -> String {
    let trimmed = text.trim_end();
    let first = trimmed.len() - trimmed.trim_start().len();
    let line_start = trimmed[..first].rfind('\n').map_or(0, |i| i + 1);
    trimmed[line_start..].to_owned()
}

/// `value` unless it is missing or only whitespace.
pub(crate) fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// The last component of a Windows or Unix path.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\'])
        .find(|s| !s.is_empty())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_seconds() {
        let ms = |s| seconds_to_ms(Some(s));
        assert_eq!(seconds_to_ms(None), 0);
        assert_eq!(ms(""), 0);
        assert_eq!(ms("0.25"), 250);
        assert_eq!(ms("12"), 12_000);
        assert_eq!(ms(" 1,234.5 "), 1_234_500);
        assert_eq!(ms("0.0005"), 1);
        assert_eq!(ms("0.00049"), 0);
        assert_eq!(ms(".5"), 500);
        assert_eq!(ms("3."), 3_000);
        assert_eq!(ms("5e-02"), 50);
        assert_eq!(ms("-1.5"), 0);
        assert_eq!(ms("abc"), 0);
        assert_eq!(ms("NaN"), 0);
        assert_eq!(ms("99999999999999999999"), i64::MAX);
    }

    #[test]
    fn tidies_text() {
        assert_eq!(tidy("\n   at A\n   at B\n  "), "   at A\n   at B");
        assert_eq!(tidy("boom"), "boom");
        assert_eq!(tidy(" \n \n"), "");
    }

    #[test]
    fn finds_file_names() {
        assert_eq!(file_name(r"C:\build\Tests.dll"), "Tests.dll");
        assert_eq!(file_name("/src/bin/Tests.dll"), "Tests.dll");
        assert_eq!(file_name("Tests.dll"), "Tests.dll");
        assert_eq!(file_name(""), "");
    }
}
