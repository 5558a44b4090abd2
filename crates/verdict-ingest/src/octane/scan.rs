//! Attribute syntax inside a start tag.
//!
//! Owns the scanner that finds `name="value"` pairs (whitespace, quoting, no
//! `<` in values), attribute-value normalisation as an XML parser does it
//! (references resolved; literal tab, LF, CR and CR LF become one space), and
//! finding the namespace declarations of a tag.

use super::names::{is_name, is_ns_decl, show};
use super::prolog::is_space;
use super::values::resolve_ref;

/// One attribute found by the scanner: byte ranges in the tag's attribute bytes.
pub(crate) struct RawAttr {
    pub name: (usize, usize),
    pub value: (usize, usize),
}

/// A syntax or reference error: byte offset in the attribute bytes and message.
pub(crate) type SyntaxError = (usize, String);

/// Scans the next `name="value"` starting at `*at`.
pub(crate) fn next_attr(rest: &[u8], at: &mut usize) -> Result<Option<RawAttr>, SyntaxError> {
    let ws = rest[*at..].iter().take_while(|&&b| is_space(b)).count();
    *at += ws;
    let start = *at;
    if start == rest.len() {
        return Ok(None);
    }
    if ws == 0 {
        return Err((start, "whitespace is required between attributes".into()));
    }
    let name_len = rest[start..]
        .iter()
        .take_while(|&&b| !is_space(b) && b != b'=')
        .count();
    let name = &rest[start..start + name_len];
    if !is_name(name) {
        return Err((start, format!("invalid attribute name '{}'", show(name))));
    }
    let mut i = start + name_len;
    i += rest[i..].iter().take_while(|&&b| is_space(b)).count();
    if rest.get(i) != Some(&b'=') {
        return Err((start, format!("attribute '{}' has no value", show(name))));
    }
    i += 1;
    i += rest[i..].iter().take_while(|&&b| is_space(b)).count();
    let Some(&quote @ (b'"' | b'\'')) = rest.get(i) else {
        let message = format!("the value of attribute '{}' must be quoted", show(name));
        return Err((i, message));
    };
    let len = rest[i + 1..]
        .iter()
        .position(|&b| b == quote)
        .ok_or_else(|| (i, "attribute value is not closed".to_owned()))?;
    let value = (i + 1, i + 1 + len);
    if let Some(lt) = rest[value.0..value.1].iter().position(|&b| b == b'<') {
        return Err((
            value.0 + lt,
            "'<' is not allowed in attribute values".into(),
        ));
    }
    *at = value.1 + 1;
    Ok(Some(RawAttr {
        name: (start, start + name_len),
        value,
    }))
}

/// Normalises an attribute value: references resolved, literal tab, LF, CR and
/// CR LF each become one space. Returns `None` when `raw` is already normal,
/// else the range of the result appended to `scratch`.
pub(crate) fn normalize(
    raw: &str,
    scratch: &mut String,
) -> Result<Option<(usize, usize)>, SyntaxError> {
    let bytes = raw.as_bytes();
    if !bytes
        .iter()
        .any(|&b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'))
    {
        return Ok(None);
    }
    let start = scratch.len();
    let (mut i, mut seg) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\r' | b'\n' | b'\t' => {
                scratch.push_str(&raw[seg..i]);
                scratch.push(' ');
                i += if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                seg = i;
            }
            b'&' => {
                scratch.push_str(&raw[seg..i]);
                let end = bytes[i..]
                    .iter()
                    .position(|&b| b == b';')
                    .map(|n| i + n)
                    .ok_or_else(|| (i, "'&' must start a reference such as &amp;".to_owned()))?;
                scratch.push(resolve_ref(&bytes[i + 1..end]).map_err(|m| (i, m))?);
                i = end + 1;
                seg = i;
            }
            _ => i += 1,
        }
    }
    scratch.push_str(&raw[seg..]);
    Ok(Some((start, scratch.len())))
}

/// Calls `declare(prefix, uri)` for each namespace declaration among the
/// attribute bytes `rest` (prefix `None` for `xmlns`).
pub(crate) fn ns_declarations(
    rest: &[u8],
    scratch: &mut String,
    mut declare: impl FnMut(Option<&[u8]>, &[u8]),
) -> Result<(), SyntaxError> {
    let text =
        std::str::from_utf8(rest).map_err(|_| (0, "the tag is not valid UTF-8".to_owned()))?;
    let mut at = 0;
    while let Some(a) = next_attr(rest, &mut at)? {
        let name = &rest[a.name.0..a.name.1];
        if !is_ns_decl(name) {
            continue;
        }
        scratch.clear();
        let raw = &text[a.value.0..a.value.1];
        let uri = match normalize(raw, scratch).map_err(|(o, m)| (a.value.0 + o, m))? {
            None => raw,
            Some((x, y)) => &scratch[x..y],
        };
        declare(name.strip_prefix(b"xmlns:"), uri.as_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(rest: &str) -> Result<Vec<(String, String)>, SyntaxError> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(a) = next_attr(rest.as_bytes(), &mut at)? {
            let mut scratch = String::new();
            let raw = &rest[a.value.0..a.value.1];
            let value = match normalize(raw, &mut scratch)? {
                None => raw.to_owned(),
                Some((x, y)) => scratch[x..y].to_owned(),
            };
            out.push((rest[a.name.0..a.name.1].to_owned(), value));
        }
        Ok(out)
    }

    #[test]
    fn scanner_and_normalisation() {
        let got = scan(" a=\"1\"  b = 'x\ty\r\nz\rw' c=\"&lt;&#65;&#x42;&amp;\"").unwrap();
        assert_eq!(
            got,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y z w".into()),
                ("c".into(), "<AB&".into())
            ]
        );
        assert_eq!(scan(" a=\"&#9;\"").unwrap()[0].1, "\t");
    }

    #[test]
    fn scanner_errors() {
        assert!(scan(" a=\"1\"b=\"2\"").is_err());
        assert!(scan(" a").is_err());
        assert!(scan(" a=1").is_err());
        assert!(scan(" 1a=\"1\"").is_err());
        assert!(scan(" a=\"<\"").is_err());
        assert!(scan(" a=\"&foo;\"").is_err());
        assert!(scan(" a=\"& b\"").is_err());
    }
}
