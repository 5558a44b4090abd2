//! The three content kinds of the schema, on top of [`Xml`] steps.
//!
//! Owns element-only content (whitespace, comments and PIs between child
//! elements; any other text or a CDATA section is invalid, as in libxml2),
//! text-only content (no child elements), any content (`file`: skipped but
//! still well-formed), and the document level (one root, nothing after it).

use std::io::BufRead;

use super::error::{PayloadError, PayloadErrorKind, Pos};
use super::prolog::is_space;
use super::xml::{Start, Step, Xml};

impl<R: BufRead> Xml<R> {
    /// Next child element of `parent` (element-only content), or `None` at its end tag.
    pub fn child(&mut self, parent: &str) -> Result<Option<Start>, PayloadError> {
        loop {
            match self.step()? {
                Step::Start(start) => return Ok(Some(start)),
                Step::End(_) => return Ok(None),
                step @ Step::Text(pos) => {
                    let data = self.data(step);
                    if let Some(i) = data.iter().position(|&b| !is_space(b)) {
                        return Err(PayloadError::invalid(
                            pos.advanced(&data[..i]),
                            format!("text is not allowed in <{parent}>, which holds elements only"),
                        ));
                    }
                }
                Step::Char(c, pos) if !matches!(c, ' ' | '\t' | '\n' | '\r') => {
                    return Err(PayloadError::invalid(
                        pos,
                        format!("text is not allowed in <{parent}>, which holds elements only"),
                    ));
                }
                Step::Char(..) => {}
                Step::CData(pos) => {
                    return Err(PayloadError::invalid(
                        pos,
                        format!(
                            "a CDATA section is not allowed in <{parent}>, which holds elements only"
                        ),
                    ));
                }
                Step::Eof(pos) => return Err(truncated(pos, parent)),
            }
        }
    }

    /// Reads to the end of an element with empty content: no child element and
    /// no character data at all, not even whitespace (comments and PIs are fine).
    pub fn end_leaf(&mut self, parent: &str) -> Result<(), PayloadError> {
        let (pos, what) = match self.step()? {
            Step::End(_) => return Ok(()),
            Step::Eof(pos) => return Err(truncated(pos, parent)),
            Step::Start(start) => {
                let name = String::from_utf8_lossy(self.tag(start).name).into_owned();
                (start.pos, format!("element <{name}> is"))
            }
            Step::Text(pos) | Step::Char(_, pos) => (pos, "text, even whitespace, is".to_owned()),
            Step::CData(pos) => (pos, "a CDATA section is".to_owned()),
        };
        Err(PayloadError::invalid(
            pos,
            format!("{what} not allowed in <{parent}>, which must be empty"),
        ))
    }

    /// Appends the text of text-only element `parent` to `out` (CDATA included,
    /// line ends normalised to `\n`) up to its end tag.
    pub fn text_content(&mut self, parent: &str, out: &mut String) -> Result<(), PayloadError> {
        loop {
            match self.step()? {
                Step::End(_) => return Ok(()),
                Step::Start(start) => {
                    let name = String::from_utf8_lossy(self.tag(start).name).into_owned();
                    return Err(PayloadError::invalid(
                        start.pos,
                        format!("unexpected element <{name}> in <{parent}>, which holds text only"),
                    ));
                }
                Step::Eof(pos) => return Err(truncated(pos, parent)),
                step => self.append_text(step, out)?,
            }
        }
    }

    /// Appends the text of `parent` and all its descendants to `out`; child
    /// elements may be anything well-formed (the `file` element).
    pub fn any_content(&mut self, parent: &str, out: &mut String) -> Result<(), PayloadError> {
        let mut nested = 0u32;
        loop {
            match self.step()? {
                Step::End(_) if nested == 0 => return Ok(()),
                Step::End(_) => nested -= 1,
                Step::Start(start) => {
                    self.tag(start).check_syntax()?;
                    nested += 1;
                }
                Step::Eof(pos) => return Err(truncated(pos, parent)),
                step => self.append_text(step, out)?,
            }
        }
    }

    fn append_text(&self, step: Step, out: &mut String) -> Result<(), PayloadError> {
        match step {
            Step::Char(c, _) => out.push(c),
            Step::Text(pos) | Step::CData(pos) => {
                let text = std::str::from_utf8(self.data(step))
                    .map_err(|_| PayloadError::malformed(pos, "text is not valid UTF-8"))?;
                push_normalized(text, out);
            }
            Step::Start(_) | Step::End(_) | Step::Eof(_) => {}
        }
        Ok(())
    }

    /// Reads up to the root start tag; only whitespace, comments and PIs may precede it.
    pub fn root(&mut self) -> Result<Start, PayloadError> {
        loop {
            match self.step()? {
                Step::Start(start) => return Ok(start),
                step @ Step::Text(pos) => {
                    let data = self.data(step);
                    if let Some(i) = data.iter().position(|&b| !is_space(b)) {
                        return Err(PayloadError::malformed(
                            pos.advanced(&data[..i]),
                            "text is not allowed before the root element",
                        ));
                    }
                }
                Step::Eof(pos) if !self.saw_markup() => {
                    return Err(PayloadError::at(
                        pos,
                        PayloadErrorKind::Empty,
                        "the document is empty",
                    ));
                }
                Step::Eof(pos) => {
                    return Err(PayloadError::malformed(
                        pos,
                        "the document has no root element",
                    ));
                }
                Step::Char(_, pos) | Step::CData(pos) | Step::End(pos) => {
                    return Err(PayloadError::malformed(
                        pos,
                        "content is not allowed before the root element",
                    ));
                }
            }
        }
    }

    /// After the root end tag: only whitespace, comments and PIs up to the end of input.
    pub fn finish(&mut self) -> Result<(), PayloadError> {
        loop {
            match self.step()? {
                Step::Eof(_) => return Ok(()),
                step @ Step::Text(pos) => {
                    let data = self.data(step);
                    if let Some(i) = data.iter().position(|&b| !is_space(b)) {
                        return Err(PayloadError::malformed(
                            pos.advanced(&data[..i]),
                            "text is not allowed after the root element",
                        ));
                    }
                }
                Step::Start(Start { pos, .. })
                | Step::Char(_, pos)
                | Step::CData(pos)
                | Step::End(pos) => {
                    return Err(PayloadError::malformed(
                        pos,
                        "content is not allowed after the root element",
                    ));
                }
            }
        }
    }
}

/// Appends `text` with CR LF and lone CR turned into LF, as an XML parser does.
fn push_normalized(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(i) = rest.find('\r') {
        out.push_str(&rest[..i]);
        out.push('\n');
        rest = rest[i + 1..].strip_prefix('\n').unwrap_or(&rest[i + 1..]);
    }
    out.push_str(rest);
}

fn truncated(pos: Pos, parent: &str) -> PayloadError {
    PayloadError::malformed(
        pos,
        format!("the document ends inside <{parent}> (truncated?)"),
    )
}
