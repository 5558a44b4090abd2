//! Errors of the payload reader: what is wrong with a payload and where.
//!
//! Owns [`PayloadError`] (the only error the Octane reader returns), its
//! [`PayloadErrorKind`], and the internal [`Pos`] used to locate problems by
//! line and character column while streaming.

use std::fmt;

/// Why a payload was refused; lets the server pick a reply (all are 400s
/// except [`PayloadErrorKind::Io`]) without parsing messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadErrorKind {
    /// The bytes are not well-formed XML (bad syntax, truncated document, bad characters).
    NotWellFormed,
    /// Well-formed XML that breaks the payload schema (§3 of the protocol).
    Invalid,
    /// The document has a DOCTYPE; refused before anything in it is used.
    Doctype,
    /// The document holds nothing but whitespace.
    Empty,
    /// The bytes do not match the declared encoding, or the encoding is not supported.
    Encoding,
    /// Reading the underlying stream failed.
    Io,
}

/// The first problem of a payload in document order, with its 1-based line and
/// column (column counted in characters) so clients can show where to look.
///
/// Its `Display` is exactly `line L, column C: <message>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct PayloadError {
    /// Category of the problem.
    pub kind: PayloadErrorKind,
    /// 1-based line.
    pub line: u64,
    /// 1-based column, in characters.
    pub column: u64,
    /// What is wrong, naming the element and attribute involved.
    pub message: String,
}

impl PayloadError {
    /// Builds an error located at `pos`.
    pub(crate) fn at(pos: Pos, kind: PayloadErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            line: pos.line,
            column: pos.col + 1,
            message: message.into(),
        }
    }

    /// A schema violation at `pos`.
    pub(crate) fn invalid(pos: Pos, message: impl Into<String>) -> Self {
        Self::at(pos, PayloadErrorKind::Invalid, message)
    }

    /// A well-formedness error at `pos`.
    pub(crate) fn malformed(pos: Pos, message: impl Into<String>) -> Self {
        Self::at(pos, PayloadErrorKind::NotWellFormed, message)
    }
}

/// A location in the decoded document: 1-based line, 0-based character column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    pub line: u64,
    pub col: u64,
}

impl Default for Pos {
    fn default() -> Self {
        Self { line: 1, col: 0 }
    }
}

impl Pos {
    /// Moves past `bytes` (UTF-8): `\n` starts a line, other characters add a column.
    pub fn advance(&mut self, bytes: &[u8]) {
        let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
        match bytes.iter().rposition(|&b| b == b'\n') {
            Some(last) if newlines > 0 => {
                self.line += newlines as u64;
                self.col = count_chars(&bytes[last + 1..]);
            }
            _ => self.col += count_chars(bytes),
        }
    }

    /// This position moved past `bytes`.
    pub fn advanced(mut self, bytes: &[u8]) -> Self {
        self.advance(bytes);
        self
    }
}

/// Number of characters in UTF-8 `bytes` (bytes that are not continuation bytes).
fn count_chars(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count() as u64
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.col + 1)
    }
}
