//! The XML layer under the report readers: located, decoded nodes over quick-xml.
//!
//! Owns [`XmlReader`], which drives quick-xml over a [`Tracked`] source and
//! adds what quick-xml leaves to its caller and a report importer needs:
//! refusing DOCTYPE (so no entity is ever expanded), the XML declaration
//! only first, a single root element, every element closed, checked
//! attributes, text decoded and normalised by [`super::chars`], and a line and
//! column on every error.

use std::io::{self, BufRead, Read};

use quick_xml::errors::{Error as XmlError, IllFormedError, SyntaxError};
use quick_xml::events::{BytesStart, Event};

use super::chars::{
    attr_value, check_encoding, decode, not_utf8, resolve_reference, set_normalized,
};
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

    /// The element's namespace prefix, if its name has one; readers of
    /// namespaced formats (TRX) look up its `xmlns:` declaration with it.
    pub fn prefix(&self) -> Option<&[u8]> {
        self.start.name().prefix().map(|p| p.into_inner())
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
                self.pos.error(format!("attribute '{key}': {e}"))
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
    reader: quick_xml::Reader<Tracked<Source<R>>>,
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

/// The document: its first bytes (unless they were a byte order mark), then the rest.
type Source<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// Takes the first three bytes of `inner` (fewer if it is shorter), however
/// it chunks them, to look for a byte order mark.
fn first_bytes(inner: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(3);
    while head.len() < 3 {
        let buf = match inner.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        let n = buf.len().min(3 - head.len());
        head.extend_from_slice(&buf[..n]);
        inner.consume(n);
    }
    Ok(head)
}

/// What the read loop found; the node is built from the buffers afterwards.
enum Found {
    /// A start tag: its name length and its length without a closing `/`.
    Start(usize, usize),
    End,
    Text,
    Eof,
}

impl<R: BufRead> XmlReader<R> {
    /// Wraps `inner`, skipping a UTF-8 byte order mark and refusing UTF-16.
    pub fn new(mut inner: R) -> Result<Self, ReportError> {
        let mut head = first_bytes(&mut inner)
            .map_err(|e| Pos::default().error(format!("read error: {e}")))?;
        if head == b"\xEF\xBB\xBF" {
            head.clear();
        } else if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
            let msg = "UTF-16 reports are not supported; convert the report to UTF-8";
            return Err(Pos::default().error(msg));
        }
        let source = Tracked::new(io::Cursor::new(head).chain(inner));
        let mut reader = quick_xml::Reader::from_reader(source);
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
            Found::Start(name_len, len) => {
                let tag = &self.buf[..len.min(self.buf.len())];
                let content = decode(tag, self.latin1)
                    .map_err(|at| pos.advanced(b"<").advanced(&tag[..at]).error(not_utf8()))?;
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
                    Found::Start(name.as_ref().len(), e.len())
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
