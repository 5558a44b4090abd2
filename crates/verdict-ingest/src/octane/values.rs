//! Typed attribute values: the value types of protocol §3.1.
//!
//! Owns how a normalised attribute value is judged against its type (string
//! lengths in characters, 64-bit integers, booleans, enumerations, report
//! URLs) and the wording of the resulting messages, plus character and
//! entity references shared by attribute values and text.

use verdict_domain::payload::TestFieldType;
use verdict_domain::status::RunStatus;

/// The value type of an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    /// A string of `min..=max` characters.
    Text { min: usize, max: usize },
    /// Any string.
    AnyText,
    /// A 64-bit signed integer.
    Long,
    /// A whole number from 0 to [`COUNT_MAX`] (Verdict's `retries`).
    Count,
    /// `true`, `false`, `1` or `0`.
    Bool,
    /// `Passed`, `Skipped`, `Failed`, `Planned`.
    Status,
    /// `Test_Level`, `Test_Type`, `Testing_Tool_Type`, `Framework`.
    FieldType,
    /// A link to an external report.
    Url,
}

/// S0: 0..255 characters.
pub(crate) const S0: Ty = Ty::Text { min: 0, max: 255 };
/// S1: 1..255 characters.
pub(crate) const S1: Ty = Ty::Text { min: 1, max: 255 };
/// L0: 0..3800 characters.
pub(crate) const L0: Ty = Ty::Text { min: 0, max: 3800 };
/// L1: 1..3800 characters.
pub(crate) const L1: Ty = Ty::Text { min: 1, max: 3800 };

/// Largest `retries` value (the schema's `RetryCount`).
pub(crate) const COUNT_MAX: i64 = 1_000_000;

const URL_MIN: usize = 6;
const URL_MAX: usize = 512;

/// A checked value that is not kept as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Typed {
    Text,
    Long(i64),
    Bool(bool),
    Status(RunStatus),
    Field(TestFieldType),
}

/// Checks `value` against `ty`; the error completes `attribute 'x' of <y> ...`.
pub(crate) fn check(ty: Ty, value: &str) -> Result<Typed, String> {
    match ty {
        Ty::Text { min, max } => check_length(value, min, max).map(|()| Typed::Text),
        Ty::AnyText => Ok(Typed::Text),
        Ty::Long => parse_long(value).map(Typed::Long),
        Ty::Count => parse_long(value).and_then(|n| {
            if (0..=COUNT_MAX).contains(&n) {
                Ok(Typed::Long(n))
            } else {
                Err(format!(
                    "has value '{}'; expected a whole number from 0 to {COUNT_MAX}",
                    shown(value)
                ))
            }
        }),
        Ty::Bool => parse_bool(value)
            .map(Typed::Bool)
            .ok_or_else(|| format!("has value '{}'; allowed: true, false, 1, 0", shown(value))),
        Ty::Status => RunStatus::from_payload(value)
            .map(Typed::Status)
            .ok_or_else(|| {
                format!(
                    "has value '{}'; allowed: Passed, Skipped, Failed, Planned",
                    shown(value)
                )
            }),
        Ty::FieldType => TestFieldType::from_payload(value)
            .map(Typed::Field)
            .ok_or_else(|| {
                format!(
                    "has value '{}'; allowed: Test_Level, Test_Type, Testing_Tool_Type, Framework",
                    shown(value)
                )
            }),
        Ty::Url => check_url(value).map(|()| Typed::Text),
    }
}

fn check_length(value: &str, min: usize, max: usize) -> Result<(), String> {
    // Characters never outnumber bytes, so most values need no counting.
    if value.len() <= max && value.len() >= min.saturating_mul(4) {
        return Ok(());
    }
    let chars = value.chars().count();
    if chars > max {
        Err(format!(
            "is {chars} characters long; at most {max} are allowed"
        ))
    } else if chars < min && chars == 0 {
        Err("is empty; at least 1 character is required".to_owned())
    } else if chars < min {
        Err(format!(
            "is {chars} characters long; at least {min} are required"
        ))
    } else {
        Ok(())
    }
}

/// XML Schema integer syntax within the 64-bit range: optional surrounding
/// whitespace, optional sign, at least one digit.
fn parse_long(value: &str) -> Result<i64, String> {
    let bad = || format!("has value '{}'; expected a whole number", shown(value));
    let text = value.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let mut magnitude: u64 = 0;
    for b in digits.bytes() {
        magnitude = magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(u64::from(b - b'0')))
            .ok_or_else(|| out_of_range(value))?;
    }
    if negative {
        0i64.checked_sub_unsigned(magnitude)
            .ok_or_else(|| out_of_range(value))
    } else {
        i64::try_from(magnitude).map_err(|_| out_of_range(value))
    }
}

fn out_of_range(value: &str) -> String {
    format!(
        "has value '{}'; the number is outside the 64-bit integer range",
        shown(value)
    )
}

/// `true false 1 0` after collapsing whitespace.
fn parse_bool(value: &str) -> Option<bool> {
    match value.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// 6..512 characters on one line, starting with `http:/`, `https:/`, `td:/`,
/// `tds:/` (scheme in any case) or lower-case `testdirector`.
fn check_url(value: &str) -> Result<(), String> {
    check_length(value, URL_MIN, URL_MAX)?;
    let scheme_ok = ["http:/", "https:/", "td:/", "tds:/"].iter().any(|prefix| {
        value
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    }) || value.starts_with("testdirector");
    if !scheme_ok {
        return Err(format!(
            "has value '{}'; expected a URL starting with http:/, https:/, td:/, tds:/ or testdirector",
            shown(value)
        ));
    }
    if value.contains(['\n', '\r']) {
        return Err("contains a line break; a URL must be on one line".to_owned());
    }
    Ok(())
}

/// A value as quoted in messages: at most 60 characters.
pub(crate) fn shown(value: &str) -> String {
    const MAX: usize = 60;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &value[..cut]),
        None => value.to_owned(),
    }
}

/// Resolves the reference `&name;` (`name` without `&` and `;`): one of the five
/// predefined entities or a character reference to a character XML allows.
pub(crate) fn resolve_ref(name: &[u8]) -> Result<char, String> {
    let entity = match name {
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"amp" => Some('&'),
        b"apos" => Some('\''),
        b"quot" => Some('"'),
        _ => None,
    };
    if let Some(c) = entity {
        return Ok(c);
    }
    let Some(number) = name.strip_prefix(b"#") else {
        return Err(format!(
            "entity '&{};' is not defined (only &lt; &gt; &amp; &apos; &quot; and character references are)",
            String::from_utf8_lossy(name)
        ));
    };
    let (digits, radix) = match number.strip_prefix(b"x") {
        Some(hex) => (hex, 16),
        None => (number, 10),
    };
    let bad = || {
        format!(
            "invalid character reference '&{};'",
            String::from_utf8_lossy(name)
        )
    };
    if digits.is_empty() || digits.len() > 8 {
        return Err(bad());
    }
    let text = std::str::from_utf8(digits).map_err(|_| bad())?;
    let code = u32::from_str_radix(text, radix).map_err(|_| bad())?;
    char::from_u32(code)
        .filter(|&c| is_xml_char(c))
        .ok_or_else(bad)
}

/// Characters XML 1.0 allows in a document.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longs() {
        assert_eq!(parse_long(" +5 "), Ok(5));
        assert_eq!(parse_long("\t-0\n"), Ok(0));
        assert_eq!(parse_long("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_long("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_long("000000000000000000000000000000000001"), Ok(1));
        for bad in [
            "",
            " ",
            "+",
            "-",
            "1.0",
            "1e3",
            "3s",
            "- 5",
            "+-5",
            "0x5",
            "9223372036854775808",
            "-9223372036854775809",
            "123456789012345678901234567890123456",
            "\u{a0}5",
        ] {
            assert!(parse_long(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bools() {
        assert_eq!(parse_bool(" true "), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("TRUE"), None);
        assert_eq!(parse_bool(""), None);
    }

    #[test]
    fn urls() {
        for ok in [
            "https://x",
            "HTTPS://x",
            "td://x",
            "tds://x",
            "testdirector:x",
            "http:/",
        ] {
            assert_eq!(check_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "ftp://x",
            "www.x.com",
            "http",
            "Testdirector:x",
            "http://a\nb",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        assert!(check_url(&format!("http://{}", "x".repeat(505))).is_ok());
        assert!(check_url(&format!("http://{}", "x".repeat(506))).is_err());
    }

    #[test]
    fn lengths_count_characters() {
        assert!(check_length(&"\u{1F600}".repeat(255), 1, 255).is_ok());
        assert!(check_length(&"\u{1F600}".repeat(256), 1, 255).is_err());
        assert!(check_length("", 1, 255).is_err());
        assert!(check_length("é", 1, 255).is_ok());
    }

    #[test]
    fn references() {
        assert_eq!(resolve_ref(b"amp"), Ok('&'));
        assert_eq!(resolve_ref(b"#x41"), Ok('A'));
        assert_eq!(resolve_ref(b"#10"), Ok('\n'));
        assert!(resolve_ref(b"#1").is_err());
        assert!(resolve_ref(b"#xD800").is_err());
        assert!(resolve_ref(b"#xFFFE").is_err());
        assert!(resolve_ref(b"#x110000").is_err());
        assert!(resolve_ref(b"nbsp").is_err());
        assert!(resolve_ref(b"#").is_err());
    }
}
