//! The start of a document: byte-order mark and XML declaration.
//!
//! Owns encoding detection. Verdict decodes UTF-8 (the default), ISO-8859-1
//! and US-ASCII itself (§2.6: the HTTP charset is ignored, the BOM and the
//! declaration decide) and refuses every other encoding with a clear error.
//! The declaration is checked here, before any other byte is parsed.

use std::io::BufRead;

use super::error::{PayloadError, PayloadErrorKind, Pos};

/// How the payload's bytes are turned into characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charset {
    Utf8,
    Latin1,
    Ascii,
}

/// What [`sniff`] found: the charset and the bytes it had to read ahead.
pub(crate) struct Prolog {
    pub charset: Charset,
    /// Bytes read from the stream (BOM removed), still in the document's encoding.
    pub head: Vec<u8>,
    /// Whether `head` starts with an XML declaration.
    pub has_decl: bool,
}

/// Longest XML declaration accepted; real ones are under 100 bytes.
const MAX_DECL: usize = 1024;

/// Reads the BOM and XML declaration (if any) and picks the charset.
pub(crate) fn sniff<R: BufRead>(inner: &mut R) -> Result<Prolog, PayloadError> {
    let mut head = Vec::new();
    fill_to(inner, &mut head, 4)?;
    let bom_utf8 = head.starts_with(b"\xEF\xBB\xBF");
    if bom_utf8 {
        head.drain(..3);
    } else if let Some(name) = unsupported_bom(&head) {
        return Err(encoding_error(format!(
            "the document is encoded in {name}; send UTF-8, ISO-8859-1 or US-ASCII"
        )));
    }
    fill_to(inner, &mut head, 6)?;
    let has_decl =
        head.starts_with(b"<?xml") && head.get(5).is_some_and(|&b| is_space(b) || b == b'?');
    let mut charset = Charset::Utf8;
    if has_decl {
        let end = read_decl(inner, &mut head)?;
        let encoding = parse_decl(&head[..end])?;
        if let Some(name) = encoding.filter(|_| !bom_utf8) {
            charset = charset_named(&String::from_utf8_lossy(name))?;
        }
    }
    Ok(Prolog {
        charset,
        head,
        has_decl,
    })
}

/// Appends from `inner` until `head` holds `n` bytes or the stream ends.
fn fill_to<R: BufRead>(inner: &mut R, head: &mut Vec<u8>, n: usize) -> Result<(), PayloadError> {
    while head.len() < n {
        let chunk = inner.fill_buf().map_err(|e| io_error(Pos::default(), &e))?;
        if chunk.is_empty() {
            break;
        }
        let take = chunk.len().min(n - head.len());
        head.extend_from_slice(&chunk[..take]);
        inner.consume(take);
    }
    Ok(())
}

/// Reads until `?>` and returns the length of the declaration.
fn read_decl<R: BufRead>(inner: &mut R, head: &mut Vec<u8>) -> Result<usize, PayloadError> {
    loop {
        if let Some(i) = head.windows(2).position(|w| w == b"?>") {
            return Ok(i + 2);
        }
        let before = head.len();
        if before >= MAX_DECL {
            return Err(PayloadError::malformed(
                Pos::default(),
                "the XML declaration is not closed with '?>'",
            ));
        }
        fill_to(inner, head, before + 1)?;
        if head.len() == before {
            return Err(PayloadError::malformed(
                Pos::default(),
                "the XML declaration is not closed with '?>'",
            ));
        }
    }
}

fn unsupported_bom(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x00\x00\xFE\xFF") || head.starts_with(b"\xFF\xFE\x00\x00") {
        Some("UTF-32")
    } else if head.starts_with(b"\xFE\xFF")
        || head.starts_with(b"\xFF\xFE")
        || head.starts_with(b"\x00<\x00?")
        || head.starts_with(b"<\x00?\x00")
    {
        Some("UTF-16")
    } else if head.starts_with(b"\x4C\x6F\xA7\x94") {
        Some("EBCDIC")
    } else {
        None
    }
}

/// Maps a declared encoding name (case-insensitive) to a charset.
fn charset_named(name: &str) -> Result<Charset, PayloadError> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "utf-8" | "utf8" => Ok(Charset::Utf8),
        "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "iso_8859-1:1987" | "latin1" | "latin-1"
        | "l1" | "iso-ir-100" | "cp819" | "ibm819" | "csisolatin1" | "iso-latin-1" => {
            Ok(Charset::Latin1)
        }
        "us-ascii" | "ascii" | "us" | "iso646-us" | "ansi_x3.4-1968" | "ansi_x3.4-1986"
        | "cp367" | "ibm367" | "csascii" | "iso-ir-6" => Ok(Charset::Ascii),
        _ => Err(encoding_error(format!(
            "encoding '{name}' is not supported; send UTF-8, ISO-8859-1 or US-ASCII"
        ))),
    }
}

/// Checks `<?xml version=".." encoding=".."? standalone=".."? ?>`; returns the encoding.
fn parse_decl(decl: &[u8]) -> Result<Option<&[u8]>, PayloadError> {
    let body = &decl[5..decl.len() - 2];
    let mut at = 0;
    let mut seen = 0;
    let mut encoding = None;
    loop {
        let spaces = body[at..].iter().take_while(|&&b| is_space(b)).count();
        at += spaces;
        if at == body.len() {
            break;
        }
        let err = |msg: &str| decl_error(decl, 5 + at, msg);
        if spaces == 0 {
            return Err(err("whitespace is needed here in the XML declaration"));
        }
        let (name, value, next) = pseudo_attribute(body, at)
            .ok_or_else(|| err("malformed XML declaration: expected name=\"value\""))?;
        let order = match name {
            b"version" => 1,
            b"encoding" => 2,
            b"standalone" => 3,
            _ => 0,
        };
        if order <= seen {
            return Err(err(
                "malformed XML declaration: expected version, encoding, standalone in this order",
            ));
        }
        if seen == 0 && order != 1 {
            return Err(err("the XML declaration must start with version"));
        }
        check_pseudo_value(order, value).map_err(err)?;
        if order == 2 {
            encoding = Some(value);
        }
        seen = order;
        at = next;
    }
    if seen == 0 {
        return Err(decl_error(
            decl,
            5,
            "the XML declaration must start with version",
        ));
    }
    Ok(encoding)
}

/// Parses `name S? = S? "value"` at `at`; returns name, value, and the index after it.
fn pseudo_attribute(body: &[u8], at: usize) -> Option<(&[u8], &[u8], usize)> {
    let name_len = body[at..]
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let name = &body[at..at + name_len];
    let mut i = at + name_len;
    i += body[i..].iter().take_while(|&&b| is_space(b)).count();
    if body.get(i) != Some(&b'=') {
        return None;
    }
    i += 1;
    i += body[i..].iter().take_while(|&&b| is_space(b)).count();
    let quote = *body.get(i).filter(|&&q| q == b'"' || q == b'\'')?;
    let len = body[i + 1..].iter().position(|&b| b == quote)?;
    Some((name, &body[i + 1..i + 1 + len], i + len + 2))
}

fn check_pseudo_value(order: u8, value: &[u8]) -> Result<(), &'static str> {
    match order {
        1 if value.len() > 2
            && value.starts_with(b"1.")
            && value[2..].iter().all(u8::is_ascii_digit) =>
        {
            Ok(())
        }
        1 => Err("unsupported XML version; expected 1.0"),
        2 if value.first().is_some_and(u8::is_ascii_alphabetic)
            && value
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) =>
        {
            Ok(())
        }
        2 => Err("malformed encoding name in the XML declaration"),
        _ if value == b"yes" || value == b"no" => Ok(()),
        _ => Err("standalone accepts only 'yes' or 'no'"),
    }
}

fn decl_error(decl: &[u8], offset: usize, message: &str) -> PayloadError {
    PayloadError::malformed(Pos::default().advanced(&decl[..offset]), message)
}

fn encoding_error(message: String) -> PayloadError {
    PayloadError::at(Pos::default(), PayloadErrorKind::Encoding, message)
}

/// Reading the stream failed at `pos`.
pub(crate) fn io_error(pos: Pos, err: &dyn std::fmt::Display) -> PayloadError {
    PayloadError::at(
        pos,
        PayloadErrorKind::Io,
        format!("reading the payload failed: {err}"),
    )
}

/// XML whitespace: space, tab, line feed, carriage return.
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}
