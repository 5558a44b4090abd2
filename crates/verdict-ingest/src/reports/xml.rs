//! The XML layer under the report readers: located, decoded nodes over quick-xml.
//!
//! Owns [`XmlReader`], which drives quick-xml over a [`Tracked`] source and
//! adds what quick-xml leaves to its caller and a report importer needs:
//! refusing DOCTYPE (so no entity is ever expanded), resolving references,
//! decoding UTF-8 or ISO-8859-1, normalising line ends, a single root element,
//! every element closed, and a line and column on every error.

use std::borrow::Cow;
use std::io::BufRead;

use quick_xml::errors::{Error as XmlError, IllFormedError, SyntaxError};
use quick_xml::escape::{EscapeError, resolve_predefined_entity, unescape};
use quick_xml::events::{BytesStart, Event};

use super::model::ReportError;
use super::source::{Pos, Tracked};

/// One node of the document.
pub(crate) enum Node<'a> {
    /// A start tag (an empty-element tag is a start followed by an end).
    Start(Element<'a>),
    /// An end tag.
    End,
    /// Character data, a CDATA section or a resolved reference, decoded.
    Text(&'a str),
    /// The end of a well-formed document.
    Eof,
}

/// A start tag, for reading its name and attributes.
pub(crate) struct Element<'a> {
    start: BytesStart<'a>,
    pos: Pos,
}

impl Element<'_> {
    /// The element's local name (any namespace prefix removed).
    pub fn name(&self) -> &[u8] {
        self.start.local_name().into_inner()
    }

    /// The values of the attributes named `keys` (absent ones are `None`),
    /// after checking every attribute is well-formed.
    pub fn attrs<const N: usize>(
        &self,
        keys: [&str; N],
    ) -> Result<[Option<String>; N], ReportError> {
        let mut values: [Option<String>; N] = std::array::from_fn(|_| None);
        for attr in self.start.attributes() {
            let attr = attr.map_err(|e| self.attr_error(&e))?;
            let raw = std::str::from_utf8(&attr.value)
                .map_err(|_| self.pos.error("attribute value is not valid UTF-8"))?;
            let value = attr_value(raw).map_err(|e| {
                let key = String::from_utf8_lossy(attr.key.as_ref());
                self.pos
                    .error(format!("attribute '{key}': {}", escape_message(&e)))
            })?;
            if let Some(i) = keys.iter().position(|k| k.as_bytes() == attr.key.as_ref()) {
                values[i] = Some(value.into_owned());
            }
        }
        Ok(values)
    }

    fn attr_error(&self, e: &quick_xml::events::attributes::AttrError) -> ReportError {
        use quick_xml::events::attributes::AttrError as A;
        let (at, message) = match *e {
            A::ExpectedEq(at) => (at, "expected '=' after the attribute name"),
            A::ExpectedValue(at) => (at, "expected an attribute value after '='"),
            A::UnquotedValue(at) => (at, "attribute values must be quoted"),
            A::ExpectedQuote(at, _) => (at, "the attribute value is not closed"),
            A::Duplicated(at, _) => (at, "duplicate attribute"),
        };
        let before = &self.start[..at.min(self.start.len())];
        self.pos.advanced(b"<").advanced(before).error(message)
    }
}

/// A well-formed, decoded node stream with positions.
pub(crate) struct XmlReader<R: BufRead> {
    reader: quick_xml::Reader<Tracked<R>>,
    buf: Vec<u8>,
    /// Decoded text of the last [`Node::Text`].
    text: String,
    /// Names of the open elements, concatenated; `ends` delimits them.
    names: Vec<u8>,
    ends: Vec<usize>,
    /// An empty-element tag was returned as a start; its end comes next.
    pending_end: bool,
    root_seen: bool,
    started: bool,
    /// The XML declaration names ISO-8859-1 (or a synonym).
    latin1: bool,
}

/// What the read loop found; the node is built from the buffers afterwards.
enum Found {
    Start(usize),
    End,
    Text,
    Eof,
}

impl<R: BufRead> XmlReader<R> {
    /// Wraps `inner`, skipping a UTF-8 byte order mark and refusing UTF-16.
    pub fn new(mut inner: R) -> Result<Self, ReportError> {
        let head = inner
            .fill_buf()
            .map_err(|e| Pos::default().error(format!("read error: {e}")))?;
        if head.starts_with(b"\xEF\xBB\xBF") {
            inner.consume(3);
        } else if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
            let msg = "UTF-16 reports are not supported; convert the report to UTF-8";
            return Err(Pos::default().error(msg));
        }
        let mut reader = quick_xml::Reader::from_reader(Tracked::new(inner));
        let config = reader.config_mut();
        config.check_comments = true;
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
        Ok(Self {
            reader,
            buf: Vec::with_capacity(1024),
            text: String::new(),
            names: Vec::new(),
            ends: Vec::new(),
            pending_end: false,
            root_seen: false,
            started: false,
            latin1: false,
        })
    }

    /// The next node and where it starts.
    pub fn next(&mut self) -> Result<(Pos, Node<'_>), ReportError> {
        let (pos, found) = self.read()?;
        let node = match found {
            Found::Start(name_len) => {
                let content = decode(&self.buf, self.latin1).map_err(|at| {
                    pos.advanced(b"<")
                        .advanced(&self.buf[..at])
                        .error(not_utf8())
                })?;
                Node::Start(Element {
                    start: BytesStart::from_content(content, name_len),
                    pos,
                })
            }
            Found::End => Node::End,
            Found::Text => Node::Text(&self.text),
            Found::Eof => Node::Eof,
        };
        Ok((pos, node))
    }

    fn read(&mut self) -> Result<(Pos, Found), ReportError> {
        let offset = self.reader.buffer_position();
        let mut pos = self.reader.get_mut().mark(offset);
        if std::mem::take(&mut self.pending_end) {
            self.close();
            return Ok((pos, Found::End));
        }
        loop {
            let offset = self.reader.buffer_position();
            pos = self.reader.get_mut().mark(offset);
            let first = !std::mem::replace(&mut self.started, true);
            let depth = self.ends.len();
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(event) => event,
                Err(e) => {
                    let source = self.reader.get_ref();
                    let at = match e {
                        XmlError::Io(_) => source.end_pos(),
                        _ => source.pos_at(self.reader.error_position().max(offset)),
                    };
                    return Err(at.error(describe(e)));
                }
            };
            let empty = matches!(event, Event::Empty(_));
            let found = match event {
                Event::Start(e) | Event::Empty(e) => {
                    if self.root_seen && depth == 0 {
                        return Err(pos.error("a document has only one root element"));
                    }
                    self.root_seen = true;
                    self.pending_end = empty;
                    let name = e.name();
                    self.names.extend_from_slice(name.as_ref());
                    self.ends.push(self.names.len());
                    Found::Start(name.as_ref().len())
                }
                Event::End(_) => {
                    self.close();
                    Found::End
                }
                Event::Text(t) if depth == 0 => {
                    if !t.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
                        return Err(pos.error("text is not allowed outside the root element"));
                    }
                    continue;
                }
                Event::CData(_) | Event::GeneralRef(_) if depth == 0 => {
                    return Err(pos.error("text is not allowed outside the root element"));
                }
                Event::Text(t) => {
                    let text = decode(&t, self.latin1)
                        .map_err(|at| pos.advanced(&t[..at]).error(not_utf8()))?;
                    set_normalized(&mut self.text, &text);
                    Found::Text
                }
                Event::CData(c) => {
                    let text = decode(&c, self.latin1).map_err(|at| {
                        pos.advanced(b"<![CDATA[")
                            .advanced(&c[..at])
                            .error(not_utf8())
                    })?;
                    set_normalized(&mut self.text, &text);
                    Found::Text
                }
                Event::GeneralRef(r) => {
                    let name = String::from_utf8_lossy(&r);
                    let resolved = resolve_reference(&name).map_err(|m| pos.error(m))?;
                    self.text.clear();
                    self.text.push_str(&resolved);
                    Found::Text
                }
                Event::Comment(_) | Event::PI(_) => continue,
                Event::Decl(d) if first => {
                    if let Some(Ok(encoding)) = d.encoding() {
                        self.latin1 = check_encoding(&encoding).map_err(|m| pos.error(m))?;
                    }
                    continue;
                }
                Event::Decl(_) => {
                    let msg = "the XML declaration is allowed only at the very start";
                    return Err(pos.error(msg));
                }
                Event::DocType(_) => return Err(pos.error(doctype())),
                Event::Eof => {
                    if let Some(name) = self.open_name() {
                        let msg = format!("the document ends before element <{name}> is closed");
                        return Err(pos.error(msg));
                    }
                    if !self.root_seen {
                        return Err(pos.error("the document has no root element"));
                    }
                    Found::Eof
                }
            };
            return Ok((pos, found));
        }
    }

    fn close(&mut self) {
        self.ends.pop();
        self.names.truncate(self.ends.last().copied().unwrap_or(0));
    }

    /// Name of the innermost open element.
    fn open_name(&self) -> Option<String> {
        let end = *self.ends.last()?;
        let start = self.ends.len().checked_sub(2).map_or(0, |i| self.ends[i]);
        Some(String::from_utf8_lossy(&self.names[start..end]).into_owned())
    }
}

/// `bytes` as text, or the offset of the first byte that is not UTF-8.
fn decode(bytes: &[u8], latin1: bool) -> Result<Cow<'_, str>, usize> {
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

fn not_utf8() -> &'static str {
    "the text is not valid UTF-8 (declare encoding=\"ISO-8859-1\" if it is Latin-1)"
}

/// Stores `text` in `out` with `\r\n` and lone `\r` turned into `\n` (XML 1.0 §2.11).
fn set_normalized(out: &mut String, text: &str) {
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
fn attr_value(raw: &str) -> Result<Cow<'_, str>, EscapeError> {
    if !raw.contains(['\t', '\n', '\r']) {
        return unescape(raw);
    }
    let spaced = raw.replace("\r\n", " ").replace(['\t', '\n', '\r'], " ");
    Ok(Cow::Owned(unescape(&spaced)?.into_owned()))
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
fn resolve_reference(name: &str) -> Result<Cow<'static, str>, String> {
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
fn check_encoding(name: &[u8]) -> Result<bool, String> {
    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
    match name.as_str() {
        "utf-8" | "utf8" | "us-ascii" | "ascii" => Ok(false),
        "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "l1" => Ok(true),
        _ => Err(format!(
            "unsupported encoding '{name}'; reports must be UTF-8 or ISO-8859-1"
        )),
    }
}

fn doctype() -> &'static str {
    "DOCTYPE declarations are not allowed in reports"
}

fn describe(e: XmlError) -> String {
    match e {
        XmlError::Io(e) => format!("read error: {e}"),
        XmlError::Syntax(SyntaxError::UnclosedDoctype)
        | XmlError::IllFormed(IllFormedError::MissingDoctypeName) => doctype().to_owned(),
        XmlError::Syntax(SyntaxError::InvalidBangMarkup) => {
            "'<!' must start a comment or a CDATA section".to_owned()
        }
        XmlError::Syntax(e) => format!("the document ends early: {e}"),
        XmlError::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
            format!("end tag </{found}> does not match start tag <{expected}>")
        }
        XmlError::IllFormed(IllFormedError::UnmatchedEndTag(name)) => {
            format!("end tag </{name}> has no start tag")
        }
        XmlError::IllFormed(IllFormedError::UnclosedReference) => {
            "'&' must start a reference such as &amp;".to_owned()
        }
        XmlError::IllFormed(IllFormedError::DoubleHyphenInComment) => {
            "'--' is not allowed inside a comment".to_owned()
        }
        other => format!("malformed XML: {other}"),
    }
}
