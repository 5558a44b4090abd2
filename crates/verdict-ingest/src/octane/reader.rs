//! The public entry points: [`PayloadReader`] and [`validate`].
//!
//! Owns the document level of the payload: the `test_result` root, the header
//! (build and global context) before `test_runs`, and the stream of items in
//! `test_runs` (never mixing `test_run` and `gherkin_test_run`). One pass both
//! validates and parses; memory stays flat whatever the number of items.

use std::io::BufRead;

use verdict_domain::payload::{Item, PayloadHeader};

use super::attrs::ElemSpec;
use super::context::{self, CONTEXT_SLOTS, context_slots};
use super::error::PayloadError;
use super::gherkin;
use super::names::{Resolved, show};
use super::prolog::sniff;
use super::seq::{ChildSlot, Children, Seq, once, optional, unexpected};
use super::test_run;
use super::xml::{Start, Xml};

static TEST_RESULT: ElemSpec = ElemSpec {
    name: "test_result",
    attrs: &[],
    open: false,
};
static TEST_RESULT_SLOTS: [ChildSlot; CONTEXT_SLOTS + 2] = {
    let [a, b, c, d, e, f, g, h] = context_slots!();
    [
        optional(&["build"]),
        a,
        b,
        c,
        d,
        e,
        f,
        g,
        h,
        once(&["test_runs"]),
    ]
};
static TEST_RESULT_CHILDREN: Children = Children {
    parent: "test_result",
    slots: &TEST_RESULT_SLOTS,
};
static TEST_RUNS: ElemSpec = ElemSpec {
    name: "test_runs",
    attrs: &[],
    open: false,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Test,
    Gherkin,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Test => "test_run",
            Self::Gherkin => "gherkin_test_run",
        }
    }
}

enum State {
    /// Inside `test_runs`.
    Items,
    /// The document ended correctly.
    Done,
    /// An error was returned; it is returned again.
    Failed(PayloadError),
}

/// Streams a test-results payload: validates it against the payload schema
/// while turning it into domain values, one item at a time, so a payload of a
/// million runs is checked and processed in constant memory.
pub struct PayloadReader<R: BufRead> {
    xml: Xml<R>,
    header: PayloadHeader,
    /// Follows `test_result`'s children, to check what comes after `test_runs`.
    root: Seq,
    kind: Option<Kind>,
    state: State,
}

impl<R: BufRead> PayloadReader<R> {
    /// Reads up to the first item; validates everything before it.
    ///
    /// # Errors
    /// The first problem of the document up to that point.
    pub fn new(mut reader: R) -> Result<Self, PayloadError> {
        let prolog = sniff(&mut reader)?;
        let mut xml = Xml::new(reader, prolog);
        let root = xml.root()?;
        check_root(&mut xml, root)?;
        let mut seq = Seq::new(&TEST_RESULT_CHILDREN);
        let mut header = PayloadHeader::default();
        loop {
            let Some(child) = xml.child("test_result")? else {
                seq.finish(xml.last_end())?;
                break;
            };
            match seq.accept(&xml.tag(child))? {
                0 => header.build = Some(context::build(&mut xml, child)?),
                slot if slot <= CONTEXT_SLOTS => {
                    context::element(&mut xml, child, slot - 1, &mut header.context)?;
                }
                _ => {
                    xml.tag(child).attrs(&TEST_RUNS)?;
                    break;
                }
            }
        }
        Ok(Self {
            xml,
            header,
            root: seq,
            kind: None,
            state: State::Items,
        })
    }

    /// The build and global context given before `test_runs`.
    pub fn header(&self) -> &PayloadHeader {
        &self.header
    }

    /// Next validated item, or `Ok(None)` after a valid `</test_result>` and end of document.
    ///
    /// # Errors
    /// The first problem of the document from the current item on; once an
    /// error is returned, every later call returns it again.
    pub fn next_item(&mut self) -> Result<Option<Item>, PayloadError> {
        match &self.state {
            State::Done => return Ok(None),
            State::Failed(err) => return Err(err.clone()),
            State::Items => {}
        }
        let result = self.advance();
        match &result {
            Ok(None) => self.state = State::Done,
            Err(err) => self.state = State::Failed(err.clone()),
            Ok(Some(_)) => {}
        }
        result
    }

    fn advance(&mut self) -> Result<Option<Item>, PayloadError> {
        let Some(start) = self.xml.child("test_runs")? else {
            self.after_items()?;
            return Ok(None);
        };
        let kind = self.item_kind(start)?;
        Ok(Some(match kind {
            Kind::Test => Item::Test(Box::new(test_run::read(&mut self.xml, start)?)),
            Kind::Gherkin => Item::Gherkin(Box::new(gherkin::read(&mut self.xml, start)?)),
        }))
    }

    fn item_kind(&mut self, start: Start) -> Result<Kind, PayloadError> {
        let tag = self.xml.tag(start);
        let kind = match (tag.ns.element(tag.name), tag.name) {
            (Resolved::Local, b"test_run") => Kind::Test,
            (Resolved::Local, b"gherkin_test_run") => Kind::Gherkin,
            _ => {
                let expected = match self.kind {
                    Some(kind) => format!("<{}> or </test_runs>", kind.name()),
                    None => "<test_run>, <gherkin_test_run> or </test_runs>".to_owned(),
                };
                return Err(unexpected(&tag, "test_runs", &expected));
            }
        };
        match self.kind {
            Some(first) if first != kind => Err(PayloadError::invalid(
                tag.pos,
                format!(
                    "<{}> cannot be mixed with <{}> in <test_runs>",
                    kind.name(),
                    first.name()
                ),
            )),
            _ => {
                self.kind = Some(kind);
                Ok(kind)
            }
        }
    }

    /// After `</test_runs>`: the root must end, then the document.
    fn after_items(&mut self) -> Result<(), PayloadError> {
        if let Some(child) = self.xml.child("test_result")? {
            let tag = self.xml.tag(child);
            let pos = tag.pos;
            self.root.accept(&tag)?;
            return Err(PayloadError::invalid(
                pos,
                "nothing may follow <test_runs> in <test_result>",
            ));
        }
        self.xml.finish()
    }
}

fn check_root<R: BufRead>(xml: &mut Xml<R>, start: Start) -> Result<(), PayloadError> {
    let tag = xml.tag(start);
    let message = match tag.ns.element(tag.name) {
        Resolved::Local if tag.name == b"test_result" => return tag.attrs(&TEST_RESULT).map(drop),
        Resolved::Ns(uri) => format!(
            "the root element <{}> is in namespace '{}'; expected <test_result> in no namespace",
            show(tag.name),
            show(uri)
        ),
        _ => format!(
            "the root element is <{}>; expected <test_result>",
            show(tag.name)
        ),
    };
    Err(PayloadError::invalid(tag.pos, message))
}

/// Validates a whole document without keeping items; returns the number of items.
///
/// # Errors
/// The first problem of the document in document order.
pub fn validate<R: BufRead>(reader: R) -> Result<u64, PayloadError> {
    let mut payload = PayloadReader::new(reader)?;
    let mut items = 0;
    while payload.next_item()?.is_some() {
        items += 1;
    }
    Ok(items)
}
