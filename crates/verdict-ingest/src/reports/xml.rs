//! The XML layer under the report readers: located, decoded nodes over quick-xml.
//!
//! Owns [`XmlReader`], which drives quick-xml over a [`Tracked`] source and
//! adds what quick-xml leaves to its caller and a report importer needs:
//! refusing DOCTYPE (so no entity is ever expanded), the XML declaration
//! only first, a single root element, every element closed, checked
//! attributes, text decoded and normalised by [`super::chars`], and a line and
//! column on every error.

use std::borrow::Cow;
use std::io::{self, BufRead, Read};

use quick_xml::errors::{Error as XmlError, IllFormedError, SyntaxError};
use quick_xml::events::Event;

use super::chars::{
    attr_value, check_encoding, decode, not_utf8, resolve_reference, set_normalized,
};
use super::model::ReportError;
use super::source::{Pos, Tracked};
use crate::budget::Budget;

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
    /// The decoded text between `<` and `>` (or `/>`): name, then attributes.
    content: Cow<'a, str>,
    name_len: usize,
    pos: Pos,
}

/// Attribute keys kept inline for the duplicate check before spilling to the heap.
const INLINE_KEYS: usize = 16;

impl Element<'_> {
    /// The element's qualified name.
    fn qname(&self) -> &[u8] {
        &self.content.as_bytes()[..self.name_len]
    }

    /// The element's local name (any namespace prefix removed).
    pub fn name(&self) -> &[u8] {
        let name = self.qname();
        match name.iter().position(|&b| b == b':') {
            Some(i) => &name[i + 1..],
            None => name,
        }
    }

    /// The element's namespace prefix, if its name has one; readers of
    /// namespaced formats (TRX) look up its `xmlns:` declaration with it.
    pub fn prefix(&self) -> Option<&[u8]> {
        let name = self.qname();
        name.iter().position(|&b| b == b':').map(|i| &name[..i])
    }

    /// The values of the attributes named `keys` (absent ones are `None`),
    /// after checking every attribute is well-formed.
    pub fn attrs<const N: usize>(
        &self,
        keys: [&str; N],
    ) -> Result<[Option<String>; N], ReportError> {
        Ok(self.attrs_ref(keys)?.map(|v| v.map(Cow::into_owned)))
    }

    /// [`Element::attrs`] borrowing the values that need no unescaping.
    pub fn attrs_ref<const N: usize>(
        &self,
        keys: [&str; N],
    ) -> Result<[Option<Cow<'_, str>>; N], ReportError> {
        let mut values: [Option<Cow<'_, str>>; N] = std::array::from_fn(|_| None);
        let mut attributes = Attributes::new(&self.content, self.name_len);
        while let Some(attr) = attributes.next() {
            let Attr { key, value, plain } = attr.map_err(|e| self.attr_error(&e))?;
            let value = if plain {
                Cow::Borrowed(value)
            } else {
                attr_value(value).map_err(|e| {
                    let key = String::from_utf8_lossy(key);
                    self.pos.error(format!("attribute '{key}': {e}"))
                })?
            };
            if let Some(i) = keys.iter().position(|k| k.as_bytes() == key) {
                values[i] = Some(value);
            }
        }
        Ok(values)
    }

    fn attr_error(&self, e: &AttrError) -> ReportError {
        let (at, message) = match *e {
            AttrError::ExpectedEq(at) => (at, "expected '=' after the attribute name"),
            AttrError::ExpectedValue(at) => (at, "expected an attribute value after '='"),
            AttrError::UnquotedValue(at) => (at, "attribute values must be quoted"),
            AttrError::ExpectedQuote(at) => (at, "the attribute value is not closed"),
            AttrError::Duplicated(at) => (at, "duplicate attribute"),
        };
        let content = self.content.as_bytes();
        let before = &content[..at.min(content.len())];
        self.pos.advanced(b"<").advanced(before).error(message)
    }
}

/// What is wrong with an attribute, at a byte offset into the tag content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttrError {
    ExpectedEq(usize),
    ExpectedValue(usize),
    UnquotedValue(usize),
    ExpectedQuote(usize),
    Duplicated(usize),
}

/// One attribute, undecoded.
struct Attr<'a> {
    key: &'a [u8],
    value: &'a str,
    /// `value` needs no normalising or unescaping.
    plain: bool,
}

/// The attributes of a start tag, parsed as quick-xml parses XML (not HTML)
/// attributes, with the same error offsets, and borrowed from the decoded tag.
struct Attributes<'a> {
    content: &'a str,
    /// Where the next attribute is searched from.
    at: usize,
    /// Ranges of the keys seen, for the duplicate check.
    keys: [(usize, usize); INLINE_KEYS],
    seen: usize,
    /// Keys past the inline ones, hashed: a tag with a million attributes
    /// is checked in linear time.
    more_keys: std::collections::HashSet<&'a [u8]>,
}

/// The first offset at or after `from` whose byte matches `pred`.
fn find(bytes: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> Option<usize> {
    let from = from.min(bytes.len());
    bytes[from..]
        .iter()
        .position(|&b| pred(b))
        .map(|i| from + i)
}

/// The offset of the first `quote` at or after `from`, and whether the bytes
/// before it are plain: no `&` and no control character below `\x0E` (such
/// as tab and line ends), so the value needs no decoding. Works on eight
/// bytes at a time, for values run to tens of bytes.
fn find_quote(bytes: &[u8], from: usize, quote: u8) -> Option<(usize, bool)> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // The high bit of each byte of `x` that is zero, or, with `below`, less
    // than it. Bits above a flagged byte may be spurious, never bits below the
    // first one, so the lowest bit is exact.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let less = |x: u64, below: u8| x.wrapping_sub(ONES * u64::from(below)) & !x & HIGHS;
    let quotes = u64::from_ne_bytes([quote; 8]);
    let amps = u64::from_ne_bytes([b'&'; 8]);
    let from = from.min(bytes.len());
    let (words, rest) = bytes[from..].as_chunks::<8>();
    let mut plain = true;
    for (i, word) in words.iter().enumerate() {
        let x = u64::from_le_bytes(*word);
        let special = zero(x ^ amps) | less(x, 0x0E);
        let found = zero(x ^ quotes);
        if found != 0 {
            let before = (found & found.wrapping_neg()) - 1;
            plain &= special & before == 0;
            return Some((from + i * 8 + (found.trailing_zeros() / 8) as usize, plain));
        }
        plain &= special == 0;
    }
    let tail = from + words.len() * 8;
    for (i, &b) in rest.iter().enumerate() {
        if b == quote {
            return Some((tail + i, plain));
        }
        plain &= b != b'&' && b >= 0x0E;
    }
    None
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\r' | b'\n' | b'\t')
}

impl<'a> Attributes<'a> {
    fn new(content: &'a str, name_len: usize) -> Self {
        Self {
            content,
            at: name_len,
            keys: [(0, 0); INLINE_KEYS],
            seen: 0,
            more_keys: std::collections::HashSet::new(),
        }
    }

    /// The next key and raw (undecoded) value; after an error, stop.
    fn next(&mut self) -> Option<Result<Attr<'a>, AttrError>> {
        let bytes = self.content.as_bytes();
        let len = bytes.len();
        let start = find(bytes, self.at, |b| !is_space(b))?;
        self.at = len;
        // As in quick-xml, the key's first byte is taken whatever it is.
        let (key_end, eq) = match find(bytes, start + 1, |b| b == b'=' || is_space(b)) {
            Some(e) if bytes[e] == b'=' => (e, e),
            Some(e) => match find(bytes, e, |b| !is_space(b)) {
                Some(eq) if bytes[eq] == b'=' => (e, eq),
                Some(other) => return Some(Err(AttrError::ExpectedEq(other))),
                None => return Some(Err(AttrError::ExpectedEq(len))),
            },
            None => return Some(Err(AttrError::ExpectedEq(len))),
        };
        if let Err(e) = self.check_duplicate(start, key_end) {
            return Some(Err(e));
        }
        let (value_start, quote) = match find(bytes, eq + 1, |b| !is_space(b)) {
            Some(q) if matches!(bytes[q], b'"' | b'\'') => (q + 1, bytes[q]),
            Some(other) => return Some(Err(AttrError::UnquotedValue(other))),
            None => return Some(Err(AttrError::ExpectedValue(len))),
        };
        let Some((value_end, plain)) = find_quote(bytes, value_start, quote) else {
            return Some(Err(AttrError::ExpectedQuote(len)));
        };
        self.at = value_end + 1;
        // The value lies between ASCII quotes, so on character boundaries.
        let value = self.content.get(value_start..value_end)?;
        Some(Ok(Attr {
            key: &bytes[start..key_end],
            value,
            plain,
        }))
    }

    fn check_duplicate(&mut self, start: usize, end: usize) -> Result<(), AttrError> {
        let bytes: &'a [u8] = self.content.as_bytes();
        let key = &bytes[start..end];
        let same = |&(s, e): &(usize, usize)| e - s == key.len() && bytes[s..e] == *key;
        let inline = &self.keys[..self.seen.min(INLINE_KEYS)];
        if inline.iter().any(same) || self.more_keys.contains(key) {
            return Err(AttrError::Duplicated(start));
        }
        match self.keys.get_mut(self.seen) {
            Some(slot) => *slot = (start, end),
            None => {
                self.more_keys.insert(key);
            }
        }
        self.seen += 1;
        Ok(())
    }
}

/// Most bytes one XML node (text, comment, tag) may take: what bounds the
/// reader's memory (`crate::budget`). Captured output larger than this is
/// refused with a message naming the limit.
const MAX_EVENT: usize = 16 << 20;
/// Deepest element nesting accepted (libxml2's default limit is 256).
const MAX_DEPTH: usize = 256;

/// A well-formed, decoded node stream with positions.
pub(crate) struct XmlReader<R: BufRead> {
    reader: quick_xml::Reader<Budget<Tracked<Source<R>>>>,
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
        let source = Budget::new(Tracked::new(io::Cursor::new(head).chain(inner)));
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
                    content,
                    name_len,
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
        let mut pos = self.reader.get_mut().inner_mut().mark(offset);
        if std::mem::take(&mut self.pending_end) {
            self.close();
            return Ok((pos, Found::End));
        }
        loop {
            let offset = self.reader.buffer_position();
            pos = self.reader.get_mut().inner_mut().mark(offset);
            let first = !std::mem::replace(&mut self.started, true);
            let depth = self.ends.len();
            self.buf.clear();
            if depth >= MAX_DEPTH {
                let msg = format!("elements are nested more than {MAX_DEPTH} deep");
                return Err(pos.error(msg));
            }
            self.reader.get_mut().arm(MAX_EVENT);
            let read = self.reader.read_event_into(&mut self.buf);
            if self.reader.get_ref().exceeded() {
                let msg = format!(
                    "a text node, comment or tag is longer than {MAX_EVENT} bytes (the limit for one XML node)"
                );
                return Err(pos.error(msg));
            }
            let event = match read {
                Ok(event) => event,
                Err(e) => {
                    let source = self.reader.get_ref().inner();
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

/// What a format reader does with each node of its document; [`drive`]
/// feeds it the whole document, so every reader shares one event loop.
pub(crate) trait Handler {
    /// An element opened.
    fn start(&mut self, element: &Element<'_>, pos: Pos) -> Result<(), ReportError>;
    /// The innermost open element closed.
    fn end(&mut self, pos: Pos) -> Result<(), ReportError>;
    /// Text (and CDATA) inside the innermost open element.
    fn text(&mut self, text: &str);
}

/// Reads `xml` to its end, handing every node to `handler`.
pub(crate) fn drive<R: BufRead>(
    xml: &mut XmlReader<R>,
    handler: &mut impl Handler,
) -> Result<(), ReportError> {
    loop {
        let (pos, node) = xml.next()?;
        match node {
            Node::Start(element) => handler.start(&element, pos)?,
            Node::End => handler.end(pos)?,
            Node::Text(text) => handler.text(text),
            Node::Eof => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::attributes::{AttrError as QuickError, Attributes as Quick};

    /// What quick-xml makes of the attributes of `tag` (a name, then
    /// attributes), up to its first error.
    fn quick(tag: &str, name_len: usize) -> Vec<Result<(Vec<u8>, String), AttrError>> {
        let mut out = Vec::new();
        for attr in Quick::new(tag, name_len) {
            match attr {
                Ok(a) => {
                    let value = String::from_utf8(a.value.to_vec()).unwrap();
                    out.push(Ok((a.key.as_ref().to_vec(), value)));
                }
                Err(e) => {
                    out.push(Err(match e {
                        QuickError::ExpectedEq(at) => AttrError::ExpectedEq(at),
                        QuickError::ExpectedValue(at) => AttrError::ExpectedValue(at),
                        QuickError::UnquotedValue(at) => AttrError::UnquotedValue(at),
                        QuickError::ExpectedQuote(at, _) => AttrError::ExpectedQuote(at),
                        QuickError::Duplicated(at, _) => AttrError::Duplicated(at),
                    }));
                    break;
                }
            }
        }
        out
    }

    fn ours(tag: &str, name_len: usize) -> Vec<Result<(Vec<u8>, String), AttrError>> {
        let mut out = Vec::new();
        let mut attributes = Attributes::new(tag, name_len);
        while let Some(attr) = attributes.next() {
            match attr {
                Ok(a) => out.push(Ok((a.key.to_vec(), a.value.to_owned()))),
                Err(e) => {
                    out.push(Err(e));
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn attributes_parse_as_quick_xml_parses_them() {
        let many: String = (0..40).map(|i| format!(" k{i}='{i}'")).collect();
        let tags = [
            "t".to_owned(),
            "t ".to_owned(),
            r#"t a="1" b='2'"#.to_owned(),
            r#"t a = "1"  b	=
'two words'"#
                .to_owned(),
            r#"t a="1"b="2""#.to_owned(),
            r#"t =a="1""#.to_owned(),
            r#"t ="1" b="2""#.to_owned(),
            r#"t == "1""#.to_owned(),
            r#"t a="1" ="2" ="3""#.to_owned(),
            r#"t ""#.to_owned(),
            r#"t '"#.to_owned(),
            r#"t a="x 'y' z" b='x "y" z'"#.to_owned(),
            r#"t a="1" a="2""#.to_owned(),
            r#"t a="1" b="2" a="3""#.to_owned(),
            r#"t a"#.to_owned(),
            r#"t a b="1""#.to_owned(),
            r#"t a ="#.to_owned(),
            r#"t a=1"#.to_owned(),
            r#"t a="1"#.to_owned(),
            r#"t a='a long value that runs past several words &amp; on"#.to_owned(),
            r#"t é="ü" ü='é'"#.to_owned(),
            format!("t{many}"),
            format!("t{many} k39='again'"),
        ];
        for tag in &tags {
            assert_eq!(ours(tag, 1), quick(tag, 1), "{tag:?}");
        }
    }

    #[test]
    fn finds_quotes_and_plain_values() {
        let naive = |bytes: &[u8], quote: u8| {
            let end = bytes.iter().position(|&b| b == quote)?;
            let plain = bytes[..end].iter().all(|&b| b != b'&' && b >= 0x0E);
            Some((end, plain))
        };
        let values: [&[u8]; 9] = [
            b"",
            b"\"",
            b"plain value\" & after",
            b"0123456789abcdef&\"",
            b"0123456789abcdef\"&",
            b"tab\there and later\"",
            b"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 \x7f\xff\"x",
            b"no quote at all, even after many bytes",
            b"\r\n\x0d\x0e\x1f\"",
        ];
        for value in values {
            for quote in [b'"', b'\''] {
                for from in 0..value.len().min(10) {
                    let expected = naive(&value[from..], quote).map(|(i, p)| (from + i, p));
                    assert_eq!(
                        find_quote(value, from, quote),
                        expected,
                        "{value:?} from {from}"
                    );
                }
            }
        }
    }
}
