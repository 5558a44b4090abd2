//! The XML layer: well-formed events with positions, over quick-xml.
//!
//! Owns [`Xml`], which drives quick-xml over a [`Source`] and enforces what
//! quick-xml leaves to its caller: no DOCTYPE, the XML declaration only at the
//! start, valid names and PI targets, defined references, no `]]>` in text,
//! namespace scopes, and a single root. It offers the three kinds of content
//! the schema needs: element-only ([`Xml::child`]), text-only
//! ([`Xml::text_content`]) and anything ([`Xml::any_content`]).

use std::io::BufRead;

use quick_xml::errors::{Error as XmlError, IllFormedError, SyntaxError};
use quick_xml::events::Event;

use super::attrs::Tag;
use super::error::{PayloadError, PayloadErrorKind, Pos};
use super::names::{NsScope, is_name, show};
use super::prolog::{Prolog, io_error};
use super::scan::ns_declarations;
use super::source::Source;
use super::values::resolve_ref;
use crate::budget::Budget;

/// One step of the document, its bytes left in the [`Xml`] buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step {
    /// Start tag (or empty-element tag); its bytes are in the buffer.
    Start(Start),
    /// End tag (or the end of an empty-element tag, then at that tag's `<`).
    End(Pos),
    /// Character data; the buffer holds it (line ends not yet normalised).
    Text(Pos),
    /// CDATA section; the buffer holds `![CDATA[` + content + `]]`.
    CData(Pos),
    /// A resolved character or entity reference.
    Char(char, Pos),
    /// End of input.
    Eof(Pos),
}

/// Deepest element nesting libxml2 accepts by default.
const MAX_DEPTH: u32 = 257;
/// Longest text node (contiguous character data, references resolved) and
/// longest CDATA section libxml2 accepts by default, in bytes.
const MAX_TEXT_NODE: usize = 10_000_000;
/// Longest start tag (name and attributes) accepted, in bytes; libxml2 stops
/// at about the same size.
const MAX_TAG: usize = 10_000_000;
/// Most bytes quick-xml may buffer for one event (the larger limit plus the
/// markup around it): what bounds the reader's memory (`crate::budget`).
const MAX_EVENT: usize = MAX_TEXT_NODE + 64;

/// A start tag just read: where it is and where its name and attributes end in
/// the buffer. Turned into a [`Tag`] by [`Xml::tag`] while it is the last step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start {
    pub pos: Pos,
    name_len: usize,
    end: usize,
}

/// A well-formed event stream with positions.
pub(crate) struct Xml<R: BufRead> {
    reader: quick_xml::Reader<Budget<Source<R>>>,
    buf: Vec<u8>,
    scratch: String,
    ns: NsScope,
    /// Open elements.
    depth: u32,
    /// An empty-element tag was returned as a start; its end comes next.
    pending_end: Option<Pos>,
    /// The sniffed prolog had an XML declaration (quick-xml reports it again).
    has_decl: bool,
    /// Some event was read already.
    started: bool,
    /// A comment, PI or XML declaration was skipped.
    saw_markup: bool,
    /// Position of the last end tag.
    last_end: Pos,
    /// Bytes of the text node being read (text and references since the last markup).
    text_node: usize,
}

impl<R: BufRead> Xml<R> {
    pub fn new(inner: R, prolog: Prolog) -> Self {
        let has_decl = prolog.has_decl;
        let mut reader = quick_xml::Reader::from_reader(Budget::new(Source::new(inner, prolog)));
        let config = reader.config_mut();
        config.check_comments = true;
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
        Self {
            reader,
            buf: Vec::with_capacity(1024),
            scratch: String::new(),
            ns: NsScope::default(),
            depth: 0,
            pending_end: None,
            has_decl,
            started: false,
            saw_markup: false,
            last_end: Pos::default(),
            text_node: 0,
        }
    }

    /// Whether a comment, PI or XML declaration was seen (the document is not blank).
    pub fn saw_markup(&self) -> bool {
        self.saw_markup
    }

    /// Position of the last end tag (of the `<` of an empty-element tag).
    pub fn last_end(&self) -> Pos {
        self.last_end
    }

    /// The start tag of the last [`Step::Start`].
    pub fn tag(&mut self, start: Start) -> Tag<'_> {
        Tag {
            name: &self.buf[..start.name_len],
            rest: &self.buf[start.name_len..start.end],
            pos: start.pos,
            ns: &self.ns,
            scratch: &mut self.scratch,
        }
    }

    /// The bytes of the last [`Step::Text`] or [`Step::CData`].
    pub fn data(&self, step: Step) -> &[u8] {
        match step {
            Step::CData(_) => &self.buf[8..self.buf.len() - 2],
            _ => &self.buf,
        }
    }

    /// Where the next event starts.
    fn here(&self) -> Pos {
        let source = self.reader.get_ref().inner();
        let mut pos = source.pos();
        if source.after_lt() {
            pos.col = pos.col.saturating_sub(1);
        }
        pos
    }

    fn fault(&self) -> Result<(), PayloadError> {
        match self.reader.get_ref().inner().fault() {
            Some(fault) => Err(fault.0.clone()),
            None => Ok(()),
        }
    }

    /// The next step; comments, PIs and the XML declaration are checked and skipped.
    pub fn step(&mut self) -> Result<Step, PayloadError> {
        self.fault()?;
        if let Some(pos) = self.pending_end.take() {
            self.close(pos);
            return Ok(Step::End(pos));
        }
        loop {
            let pos = self.here();
            self.buf.clear();
            self.reader.get_mut().arm(MAX_EVENT);
            let event = self.reader.read_event_into(&mut self.buf);
            if let Some(fault) = self.reader.get_ref().inner().fault() {
                return Err(fault.0.clone());
            }
            if self.reader.get_ref().exceeded() {
                let msg = format!(
                    "a text node, comment, tag or other markup is longer than {MAX_EVENT} bytes"
                );
                return Err(PayloadError::malformed(pos, msg));
            }
            let first = !self.started;
            self.started = true;
            let text_node = std::mem::take(&mut self.text_node);
            let step = match event {
                Err(err) => return Err(self.xml_error(err, pos)),
                Ok(Event::Start(e)) => (e.name().as_ref().len(), e.len(), false),
                Ok(Event::Empty(e)) => (e.name().as_ref().len(), e.len(), true),
                Ok(Event::End(_)) => {
                    self.close(pos);
                    return Ok(Step::End(pos));
                }
                Ok(Event::Text(t)) => {
                    self.text_node = limit_text(text_node + t.len(), pos)?;
                    return self.text_step(pos);
                }
                Ok(Event::CData(c)) => {
                    limit_text(c.len(), pos)?;
                    return Ok(Step::CData(pos));
                }
                Ok(Event::GeneralRef(r)) => {
                    let c = resolve_ref(&r).map_err(|m| PayloadError::malformed(pos, m))?;
                    self.text_node = limit_text(text_node + c.len_utf8(), pos)?;
                    return Ok(Step::Char(c, pos));
                }
                Ok(Event::Comment(_)) => {
                    self.saw_markup = true;
                    continue;
                }
                Ok(Event::PI(pi)) => {
                    check_pi_target(pi.target(), pos)?;
                    self.saw_markup = true;
                    continue;
                }
                Ok(Event::Decl(_)) if first && self.has_decl => {
                    self.saw_markup = true;
                    continue;
                }
                Ok(Event::Decl(_)) => {
                    return Err(PayloadError::malformed(
                        pos,
                        "the XML declaration is allowed only at the very start of the document",
                    ));
                }
                Ok(Event::DocType(_)) => return Err(doctype(pos)),
                Ok(Event::Eof) => {
                    self.reader.get_mut().inner_mut().finish();
                    self.fault()?;
                    return Ok(Step::Eof(self.here()));
                }
            };
            let (name_len, end, empty) = step;
            return self.start_step(pos, name_len, end, empty);
        }
    }

    fn text_step(&self, pos: Pos) -> Result<Step, PayloadError> {
        if let Some(i) = self.buf.windows(3).position(|w| w == b"]]>") {
            return Err(PayloadError::malformed(
                pos.advanced(&self.buf[..i]),
                "']]>' is not allowed in text",
            ));
        }
        Ok(Step::Text(pos))
    }

    fn start_step(
        &mut self,
        pos: Pos,
        name_len: usize,
        end: usize,
        empty: bool,
    ) -> Result<Step, PayloadError> {
        let name = &self.buf[..name_len];
        if end > MAX_TAG {
            let msg = format!("the start tag is longer than {MAX_TAG} bytes");
            return Err(PayloadError::malformed(pos, msg));
        }
        if self.depth >= MAX_DEPTH {
            let msg = format!("elements are nested more than {MAX_DEPTH} levels deep");
            return Err(PayloadError::malformed(pos, msg));
        }
        if !is_name(name) {
            return Err(PayloadError::malformed(
                pos,
                format!("invalid element name '{}'", show(name)),
            ));
        }
        self.depth += 1;
        let rest = &self.buf[name_len..end];
        if rest.windows(5).any(|w| w == b"xmlns") {
            let (ns, depth) = (&mut self.ns, self.depth);
            ns_declarations(rest, &mut self.scratch, |prefix, uri| {
                ns.declare(depth, prefix, uri);
            })
            .map_err(|(offset, message)| {
                let at = pos.advanced(b"<").advanced(name).advanced(&rest[..offset]);
                PayloadError::malformed(at, message)
            })?;
        }
        if empty {
            self.pending_end = Some(pos);
        }
        Ok(Step::Start(Start { pos, name_len, end }))
    }

    fn close(&mut self, pos: Pos) {
        self.last_end = pos;
        self.ns.leave(self.depth);
        self.depth = self.depth.saturating_sub(1);
    }

    fn xml_error(&self, err: XmlError, pos: Pos) -> PayloadError {
        let here = self.here();
        let (at, message) = match err {
            XmlError::Io(e) => return io_error(here, &e),
            XmlError::Syntax(SyntaxError::UnclosedDoctype)
            | XmlError::IllFormed(IllFormedError::MissingDoctypeName) => return doctype(pos),
            XmlError::Syntax(SyntaxError::InvalidBangMarkup) => (
                pos,
                "'<!' must start a comment or a CDATA section".to_owned(),
            ),
            XmlError::Syntax(e) => (here, format!("the document ends early: {e}")),
            XmlError::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => (
                pos,
                format!("end tag </{found}> does not match start tag <{expected}>"),
            ),
            XmlError::IllFormed(IllFormedError::UnmatchedEndTag(name)) => {
                (pos, format!("end tag </{name}> has no start tag"))
            }
            XmlError::IllFormed(IllFormedError::DoubleHyphenInComment) => {
                (pos, "'--' is not allowed inside a comment".to_owned())
            }
            XmlError::IllFormed(IllFormedError::UnclosedReference) => {
                (pos, "'&' must start a reference such as &amp;".to_owned())
            }
            other => (pos, other.to_string()),
        };
        PayloadError::malformed(at, message)
    }
}

/// `len` if a text node of `len` bytes is within libxml2's limit.
fn limit_text(len: usize, pos: Pos) -> Result<usize, PayloadError> {
    if len > MAX_TEXT_NODE {
        let msg = format!("a text node is longer than {MAX_TEXT_NODE} bytes");
        return Err(PayloadError::malformed(pos, msg));
    }
    Ok(len)
}

fn doctype(pos: Pos) -> PayloadError {
    PayloadError::at(
        pos,
        PayloadErrorKind::Doctype,
        "DOCTYPE declarations are not allowed in payloads",
    )
}

fn check_pi_target(target: &[u8], pos: Pos) -> Result<(), PayloadError> {
    if !is_name(target) {
        return Err(PayloadError::malformed(
            pos,
            "a processing instruction needs a valid target name",
        ));
    }
    if target.eq_ignore_ascii_case(b"xml") {
        return Err(PayloadError::malformed(
            pos,
            format!(
                "the processing instruction target '{}' is reserved",
                show(target)
            ),
        ));
    }
    Ok(())
}
