//! Format detection from content.
//!
//! Owns [`detect_format`]: uploads arrive with arbitrary file names (or none),
//! so the server and the CLI decide how to read a report from its root
//! element instead of trusting an extension.

use super::model::ReportFormat;
use super::trx::TRX_NAMESPACE;

/// Detects the format of a report from the first bytes of the document (its
/// content, never its file name), by the root element:
///
/// | root | format |
/// |---|---|
/// | `<testsuites>`, `<testsuite>` | [`ReportFormat::JUnit`] |
/// | `<assemblies>`, `<assembly>` | [`ReportFormat::XUnitV2`] |
/// | `<test-results>` | [`ReportFormat::NUnit2`] |
/// | `<test-run>` | [`ReportFormat::NUnit3`] |
/// | `<testng-results>` | [`ReportFormat::TestNG`] |
/// | `<TestRun>` in the `http://microsoft.com/schemas/VisualStudio/TeamTest/2010` namespace | [`ReportFormat::Trx`] |
///
/// `TestRun` is a common word, so TRX also needs its namespace, declared on
/// the root element itself as TRX writers do.
///
/// Skips a UTF-8 byte order mark, the XML declaration, processing
/// instructions, comments and whitespace before the root. Returns `None` for
/// anything else, including a DOCTYPE (which the readers refuse anyway), a
/// UTF-16 document, or a `head` that ends before the root element's name
/// does (for TRX, before its namespace declaration); a few KiB of the
/// document are always enough.
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
        b"test-results" => Some(ReportFormat::NUnit2),
        b"test-run" => Some(ReportFormat::NUnit3),
        b"testng-results" => Some(ReportFormat::TestNG),
        b"TestRun" if declares_trx(name, &tag[end..]) => Some(ReportFormat::Trx),
        _ => None,
    }
}

/// Whether the attributes in `rest` (what follows the root element's `name`)
/// bind that name's prefix, or the default namespace when it has none, to the
/// TRX namespace. Stops at the end of the start tag or of `rest`.
fn declares_trx(name: &[u8], mut rest: &[u8]) -> bool {
    let wanted: Vec<u8> = match name.iter().position(|&b| b == b':') {
        Some(colon) => [&b"xmlns:"[..], &name[..colon]].concat(),
        None => b"xmlns".to_vec(),
    };
    loop {
        rest = rest.trim_ascii_start();
        let Some(eq) = rest.iter().position(|&b| b == b'=') else {
            return false;
        };
        let key = rest[..eq].trim_ascii_end();
        if key.is_empty() || key.iter().any(|b| b"<>/\"'".contains(b)) {
            return false;
        }
        let value = rest[eq + 1..].trim_ascii_start();
        let Some((&quote, value)) = value.split_first() else {
            return false;
        };
        if quote != b'"' && quote != b'\'' {
            return false;
        }
        let Some(close) = value.iter().position(|&b| b == quote) else {
            return false;
        };
        if key == wanted {
            return &value[..close] == TRX_NAMESPACE.as_bytes();
        }
        rest = &value[close + 1..];
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

    #[test]
    fn trx_needs_its_namespace_on_the_root() {
        let trx = Some(ReportFormat::Trx);
        let ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
        let doc = format!("<TestRun id='1' name='a=b \"c\"' xmlns=\"{ns}\">");
        assert_eq!(detect_format(doc.as_bytes()), trx);
        let doc = format!("<t:TestRun xmlns=\"urn:other\" xmlns:t = '{ns}'/>");
        assert_eq!(detect_format(doc.as_bytes()), trx);
        let doc = format!("<t:TestRun xmlns='{ns}'>");
        assert_eq!(detect_format(doc.as_bytes()), None);
        let doc = format!("<TestRun><x xmlns='{ns}'/>");
        assert_eq!(detect_format(doc.as_bytes()), None);
        assert_eq!(detect_format(b"<TestRun id='1' xmlns='http://micro"), None);
        assert_eq!(detect_format(b"<TestRun xmlns=urn:x>"), None);
    }
}
