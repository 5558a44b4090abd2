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
    if let Some(ms) = plain_ms(raw.as_bytes()) {
        return ms;
    }
    let raw = raw.trim();
    let ms = if raw.bytes().any(|b| b == b',') {
        let digits: String = raw.chars().filter(|&c| c != ',').collect();
        parse_ms(&digits)
    } else {
        parse_ms(raw)
    };
    ms.unwrap_or(0).max(0)
}

/// [`seconds_to_ms`] in one pass for the usual spelling, digits with an
/// optional fraction (`"0.25"`, `"12"`, `".5"`); `None` for anything else.
fn plain_ms(raw: &[u8]) -> Option<i64> {
    let mut int = 0_i64;
    let mut frac = [0_u8; 4];
    let mut frac_len = None;
    for &b in raw {
        match (b, &mut frac_len) {
            (b'0'..=b'9', None) => {
                int = int.saturating_mul(10).saturating_add(i64::from(b - b'0'));
            }
            (b'0'..=b'9', Some(n)) => {
                if let Some(slot) = frac.get_mut(*n) {
                    *slot = b - b'0';
                }
                *n += 1;
            }
            (b'.', None) => frac_len = Some(0),
            _ => return None,
        }
    }
    if raw.len() == usize::from(frac_len.is_some()) {
        // Empty, or a lone ".".
        return None;
    }
    let [d0, d1, d2, d3] = frac.map(i64::from);
    let ms = int
        .saturating_mul(1000)
        .saturating_add(d0 * 100 + d1 * 10 + d2);
    Some(if d3 >= 5 { ms.saturating_add(1) } else { ms })
}

fn parse_ms(s: &str) -> Option<i64> {
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.starts_with('-') {
        return Some(0);
    }
    if s.bytes().any(|b| matches!(b, b'e' | b'E')) {
        let seconds: f64 = s.parse().ok()?;
        // `as` saturates, and NaN becomes 0.
        return seconds
            .is_finite()
            .then(|| (seconds * 1000.0).round() as i64);
    }
    let (int, frac) = match s.bytes().position(|b| b == b'.') {
        Some(dot) => (&s[..dot], &s[dot + 1..]),
        None => (s, ""),
    };
    let all_digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let mut ms = int.bytes().fold(0i64, |acc, b| {
        acc.saturating_mul(10).saturating_add(i64::from(b - b'0'))
    });
    ms = ms.saturating_mul(1000);
    let frac = frac.as_bytes();
    let digit = |i: usize| frac.get(i).map_or(0, |b| i64::from(b - b'0'));
    ms = ms.saturating_add(digit(0) * 100 + digit(1) * 10 + digit(2));
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

/// The first non-blank line of `text`, trimmed: a failure's message when a
/// report writes it only in the body (jest-junit, cucumber-js, go test).
pub(crate) fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_owned)
}

/// `value` unless it is missing or only whitespace.
pub(crate) fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| match v.as_bytes().first() {
        // An ASCII character that is not whitespace settles it.
        Some(&b) if b.is_ascii() && !char::from(b).is_whitespace() => true,
        _ => !v.trim().is_empty(),
    })
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
    fn the_one_pass_path_agrees_with_the_general_one() {
        let plain = [
            "0",
            "7",
            "0.25",
            "12",
            ".5",
            "3.",
            "0.0005",
            "0.00049",
            "1.2345678",
            "007.007",
            "99999999999999999999",
            "9223372036854775.807",
            "9223372036854775.8075",
        ];
        for raw in plain {
            let general = parse_ms(raw).unwrap_or(0).max(0);
            assert_eq!(plain_ms(raw.as_bytes()), Some(general), "{raw:?}");
        }
        for raw in [
            "", ".", "1..2", "1.2.3", "+1", "-1", " 1", "1e3", "1,5", "x",
        ] {
            assert_eq!(plain_ms(raw.as_bytes()), None, "{raw:?}");
        }
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
