//! Format detection from content.
//!
//! Owns [`detect_format`]: uploads arrive with arbitrary file names (or none),
//! so the server and the CLI decide how to read a report from its root
//! element instead of trusting an extension.

use super::model::ReportFormat;

/// Detects the format of a report from the first bytes of the document (its
/// content, never its file name): JUnit when the root element is
/// `<testsuites>` or `<testsuite>`, xUnit.net v2 when it is `<assemblies>` or
/// `<assembly>`.
///
/// Skips a UTF-8 byte order mark, the XML declaration, processing
/// instructions, comments and whitespace before the root. Returns `None` for
/// anything else, including a DOCTYPE (which the readers refuse anyway), a
/// UTF-16 document, or a `head` that ends before the root element's name
/// does; a few KiB of the document are always enough.
pub fn detect_format(head: &[u8]) -> Option<ReportFormat> {
    let mut rest = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    loop {
        rest = rest.trim_ascii_start();
        if let Some(after) = rest.strip_prefix(b"<?") {
            rest = skip_past(after, b"?>")?;
        } else if let Some(after) = rest.strip_prefix(b"<!--") {
            rest = skip_past(after, b"-->")?;
        } else {
            break;
        }
    }
    let tag = rest.strip_prefix(b"<")?;
    let end = tag
        .iter()
        .position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/'))?;
    let name = &tag[..end];
    let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
    match local {
        b"testsuites" | b"testsuite" => Some(ReportFormat::JUnit),
        b"assemblies" | b"assembly" => Some(ReportFormat::XUnitV2),
        _ => None,
    }
}

/// The bytes after the first `end` in `bytes`.
fn skip_past<'a>(bytes: &'a [u8], end: &[u8]) -> Option<&'a [u8]> {
    let at = bytes.windows(end.len()).position(|w| w == end)?;
    Some(&bytes[at + end.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_the_whole_root_name() {
        assert_eq!(detect_format(b"<testsuite"), None);
        assert_eq!(detect_format(b"<testsuite>"), Some(ReportFormat::JUnit));
        assert_eq!(detect_format(b"<!-- open"), None);
        assert_eq!(detect_format(b""), None);
    }
}
