//! Character-level rules of XML the report reader applies itself.
//!
//! Owns decoding (UTF-8, or ISO-8859-1 when declared), line-end and attribute
//! whitespace normalisation, and reference resolution limited to the five
//! predefined entities and character references: reports never get a DTD, so
//! nothing else can be defined.

use std::borrow::Cow;

use quick_xml::escape::{EscapeError, resolve_predefined_entity, unescape};

/// `bytes` as text, or the offset of the first byte that is not UTF-8.
pub(crate) fn decode(bytes: &[u8], latin1: bool) -> Result<Cow<'_, str>, usize> {
    if latin1 {
        return Ok(match std::str::from_utf8(bytes) {
            Ok(s) if s.is_ascii() => Cow::Borrowed(s),
            _ => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
        });
    }
    std::str::from_utf8(bytes)
        .map(Cow::Borrowed)
        .map_err(|e| e.valid_up_to())
}

pub(crate) fn not_utf8() -> &'static str {
    "the text is not valid UTF-8 (declare encoding=\"ISO-8859-1\" if it is Latin-1)"
}

/// Stores `text` in `out` with `\r\n` and lone `\r` turned into `\n` (XML 1.0 §2.11).
pub(crate) fn set_normalized(out: &mut String, text: &str) {
    out.clear();
    if !text.contains('\r') {
        out.push_str(text);
        return;
    }
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            out.push('\n');
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
}

/// An attribute value: line ends and tabs become spaces (XML 1.0 §3.3.3), then
/// references are resolved.
pub(crate) fn attr_value(raw: &str) -> Result<Cow<'_, str>, String> {
    if !raw.contains(['\t', '\n', '\r']) {
        return unescape(raw).map_err(|e| escape_message(&e));
    }
    let spaced = raw.replace("\r\n", " ").replace(['\t', '\n', '\r'], " ");
    match unescape(&spaced) {
        Ok(value) => Ok(Cow::Owned(value.into_owned())),
        Err(e) => Err(escape_message(&e)),
    }
}

fn escape_message(e: &EscapeError) -> String {
    match e {
        EscapeError::UnrecognizedEntity(_, name) => format!("undefined entity '&{name};'"),
        EscapeError::UnterminatedEntity(_) => "'&' must start a reference such as &amp;".into(),
        EscapeError::InvalidCharRef(e) => format!("invalid character reference: {e}"),
    }
}

/// The text of the reference `&name;`: a predefined entity or a character
/// reference to a character XML allows.
pub(crate) fn resolve_reference(name: &str) -> Result<Cow<'static, str>, String> {
    if let Some(text) = resolve_predefined_entity(name) {
        return Ok(Cow::Borrowed(text));
    }
    let Some(number) = name.strip_prefix('#') else {
        return Err(format!("undefined entity '&{name};'"));
    };
    let code = match number.strip_prefix('x') {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => number.parse(),
    };
    match code.ok().and_then(char::from_u32) {
        Some(c) if is_xml_char(c) => Ok(Cow::Owned(c.to_string())),
        _ => Err(format!(
            "'&{name};' does not refer to a character XML allows"
        )),
    }
}

/// The `Char` production of XML 1.0 §2.2.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

/// Whether the declared encoding is ISO-8859-1 (`true`) or UTF-8 (`false`).
pub(crate) fn check_encoding(name: &[u8]) -> Result<bool, String> {
    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
    match name.as_str() {
        "utf-8" | "utf8" | "us-ascii" | "ascii" => Ok(false),
        "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "l1" => Ok(true),
        _ => Err(format!(
            "unsupported encoding '{name}'; reports must be UTF-8 or ISO-8859-1"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_only_predefined_and_character_references() {
        assert_eq!(resolve_reference("amp").unwrap(), "&");
        assert_eq!(resolve_reference("#x41").unwrap(), "A");
        assert_eq!(resolve_reference("#10").unwrap(), "\n");
        assert!(resolve_reference("nbsp").is_err());
        assert!(resolve_reference("#0").is_err());
        assert!(resolve_reference("#xFFFE").is_err());
    }

    #[test]
    fn normalises_attribute_values_before_resolving() {
        assert_eq!(attr_value("a\r\nb\tc&#10;d").unwrap(), "a b c\nd");
        assert!(attr_value("x &bogus; y").is_err());
    }

    #[test]
    fn decodes_latin1_and_normalises_line_ends() {
        assert_eq!(decode(b"caf\xE9", true).unwrap(), "caf\u{e9}");
        assert_eq!(decode(b"caf\xE9", false).unwrap_err(), 3);
        let mut out = String::new();
        set_normalized(&mut out, "a\r\nb\rc\n");
        assert_eq!(out, "a\nb\nc\n");
    }
}
