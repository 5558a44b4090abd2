//! Start tags and their attributes.
//!
//! Owns [`Tag`] (one start tag as the XML layer hands it out), the attribute
//! syntax scanner, attribute-value normalisation (references resolved,
//! literal tab/CR/LF turned into spaces as an XML parser does), and checking
//! a tag's attributes against an [`ElemSpec`]: unknown, duplicate, missing and
//! badly typed attributes, and the `xsi:*` attributes libxml2 accepts.

use std::collections::HashSet;

use verdict_domain::payload::TestFieldType;
use verdict_domain::status::RunStatus;

use super::error::{PayloadError, Pos};
use super::names::{NsScope, Resolved, XSI_NS, is_ns_decl, show, split_qname};
use super::scan::{RawAttr, SyntaxError, next_attr, normalize};
use super::values::{Ty, Typed, check};

/// Attributes of one element type, in a fixed order that indexes [`Attrs`].
pub(crate) struct ElemSpec {
    pub name: &'static str,
    pub attrs: &'static [AttrSpec],
    /// Any attribute is allowed (the `file` element).
    pub open: bool,
}

/// One declared attribute.
pub(crate) struct AttrSpec {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
}

/// Shorthand for an optional attribute.
pub(crate) const fn opt(name: &'static str, ty: Ty) -> AttrSpec {
    AttrSpec {
        name,
        ty,
        required: false,
    }
}

/// Shorthand for a required attribute.
pub(crate) const fn req(name: &'static str, ty: Ty) -> AttrSpec {
    AttrSpec {
        name,
        ty,
        required: true,
    }
}

/// Most attributes an element declares (`test_run` has 14).
const MAX_ATTRS: usize = 16;

/// A start tag: its name, the bytes after the name, and where it starts.
pub(crate) struct Tag<'a> {
    pub name: &'a [u8],
    pub rest: &'a [u8],
    /// Position of the `<`.
    pub pos: Pos,
    pub ns: &'a NsScope,
    pub scratch: &'a mut String,
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Absent,
    /// Range of the value in the tag's attribute bytes.
    Raw(usize, usize),
    /// Range of the normalised value in the scratch buffer.
    Norm(usize, usize),
    Typed(Typed),
}

/// Checked attribute values of one tag, indexed like [`ElemSpec::attrs`].
pub(crate) struct Attrs<'a> {
    rest: &'a str,
    norm: &'a str,
    slots: [Slot; MAX_ATTRS],
}

impl Attrs<'_> {
    /// A text attribute, if given.
    pub fn str(&self, i: usize) -> Option<&str> {
        match self.slots[i] {
            Slot::Raw(a, b) => Some(&self.rest[a..b]),
            Slot::Norm(a, b) => Some(&self.norm[a..b]),
            Slot::Absent | Slot::Typed(_) => None,
        }
    }

    /// A text attribute as an owned string, if given.
    pub fn string(&self, i: usize) -> Option<String> {
        self.str(i).map(str::to_owned)
    }

    /// A required text attribute (present once [`Tag::attrs`] succeeded).
    pub fn required(&self, i: usize) -> String {
        self.string(i).unwrap_or_default()
    }

    /// A 64-bit integer attribute, if given.
    pub fn long(&self, i: usize) -> Option<i64> {
        match self.slots[i] {
            Slot::Typed(Typed::Long(v)) => Some(v),
            _ => None,
        }
    }

    /// A [`Ty::Count`](super::values::Ty::Count) attribute; 0 when absent.
    pub fn count(&self, i: usize) -> u32 {
        self.long(i)
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0)
    }

    /// A boolean attribute, if given.
    pub fn bool(&self, i: usize) -> Option<bool> {
        match self.slots[i] {
            Slot::Typed(Typed::Bool(v)) => Some(v),
            _ => None,
        }
    }

    /// A required run status (present once [`Tag::attrs`] succeeded).
    pub fn status(&self, i: usize) -> RunStatus {
        match self.slots[i] {
            Slot::Typed(Typed::Status(v)) => v,
            _ => RunStatus::Passed,
        }
    }

    /// A required test-field type (present once [`Tag::attrs`] succeeded).
    pub fn field(&self, i: usize) -> TestFieldType {
        match self.slots[i] {
            Slot::Typed(Typed::Field(v)) => v,
            _ => TestFieldType::TestType,
        }
    }
}

impl<'a> Tag<'a> {
    /// Position of the byte at `offset` in the attribute bytes.
    fn pos_in_rest(&self, offset: usize) -> Pos {
        self.pos
            .advanced(b"<")
            .advanced(self.name)
            .advanced(&self.rest[..offset])
    }

    fn syntax_error(&self, (offset, message): SyntaxError) -> PayloadError {
        PayloadError::malformed(self.pos_in_rest(offset), message)
    }

    fn rest_str(&self) -> Result<&'a str, PayloadError> {
        std::str::from_utf8(self.rest)
            .map_err(|_| PayloadError::malformed(self.pos, "the tag is not valid UTF-8"))
    }

    /// Checks the attributes against `spec` and returns their values.
    pub fn attrs(self, spec: &ElemSpec) -> Result<Attrs<'a>, PayloadError> {
        let rest = self.rest_str()?;
        self.scratch.clear();
        let mut slots = [Slot::Absent; MAX_ATTRS];
        let mut others = Seen::default();
        let mut at = 0;
        while let Some(a) = next_attr(self.rest, &mut at).map_err(|e| self.syntax_error(e))? {
            let name = &rest[a.name.0..a.name.1];
            let raw = &rest[a.value.0..a.value.1];
            let Some(i) = spec.attrs.iter().position(|s| s.name == name) else {
                self.other_attr(spec, &a, raw, &mut others)?;
                continue;
            };
            let pos = self.pos_in_rest(a.name.0);
            if !matches!(slots[i], Slot::Absent) {
                return Err(twice(pos, name, spec.name));
            }
            let norm = normalize(raw, self.scratch)
                .map_err(|(o, m)| PayloadError::malformed(self.pos_in_rest(a.value.0 + o), m))?;
            let (value, slot) = match norm {
                None => (raw, Slot::Raw(a.value.0, a.value.1)),
                Some((x, y)) => (&self.scratch[x..y], Slot::Norm(x, y)),
            };
            slots[i] = match check(spec.attrs[i].ty, value) {
                Ok(Typed::Text) => slot,
                Ok(typed) => Slot::Typed(typed),
                Err(m) => {
                    let msg = format!("attribute '{name}' of <{}> {m}", spec.name);
                    return Err(PayloadError::invalid(pos, msg));
                }
            };
        }
        if let Some(missing) = spec
            .attrs
            .iter()
            .zip(&slots)
            .find(|(s, slot)| s.required && matches!(slot, Slot::Absent))
        {
            let msg = format!(
                "<{}> is missing required attribute '{}'",
                spec.name, missing.0.name
            );
            return Err(PayloadError::invalid(self.pos, msg));
        }
        let norm: &'a String = self.scratch;
        Ok(Attrs { rest, norm, slots })
    }

    /// An attribute `spec` does not declare: namespace declarations, the
    /// `xsi:*` attributes libxml2 accepts, or anything on an open element.
    fn other_attr(
        &self,
        spec: &ElemSpec,
        a: &RawAttr,
        raw: &str,
        others: &mut Seen<'a>,
    ) -> Result<(), PayloadError> {
        let name: &'a [u8] = &self.rest[a.name.0..a.name.1];
        let pos = self.pos_in_rest(a.name.0);
        if !others.insert(name) {
            return Err(twice(pos, &show(name), spec.name));
        }
        let mut sink = String::new();
        normalize(raw, &mut sink)
            .map_err(|(o, m)| PayloadError::malformed(self.pos_in_rest(a.value.0 + o), m))?;
        if is_ns_decl(name) {
            return Ok(());
        }
        let resolved = self.ns.attribute(name);
        let local = split_qname(name).1;
        let shown = show(name);
        let message = match resolved {
            Resolved::Ns(XSI_NS) => match local {
                b"schemaLocation" | b"noNamespaceSchemaLocation" => return Ok(()),
                b"nil" => format!(
                    "attribute '{shown}' is not allowed: <{}> is not nillable",
                    spec.name
                ),
                b"type" => format!(
                    "attribute '{shown}' on <{}> is not supported: Verdict validates against the declared types only",
                    spec.name
                ),
                _ if spec.open => return Ok(()),
                _ => format!("attribute '{shown}' is not allowed on <{}>", spec.name),
            },
            _ if spec.open => return Ok(()),
            Resolved::Ns(uri) => format!(
                "attribute '{shown}' (namespace '{}') is not allowed on <{}>",
                show(uri),
                spec.name
            ),
            Resolved::Local | Resolved::Unbound => {
                format!("attribute '{shown}' is not allowed on <{}>", spec.name)
            }
        };
        Err(PayloadError::invalid(pos, message))
    }

    /// Checks attribute syntax only (elements inside `file`): well-formed, no
    /// duplicates, references defined.
    pub fn check_syntax(self) -> Result<(), PayloadError> {
        let rest = self.rest_str()?;
        let mut seen = Seen::default();
        let mut at = 0;
        while let Some(a) = next_attr(self.rest, &mut at).map_err(|e| self.syntax_error(e))? {
            let name = &self.rest[a.name.0..a.name.1];
            if !seen.insert(name) {
                return Err(twice(
                    self.pos_in_rest(a.name.0),
                    &show(name),
                    &show(self.name),
                ));
            }
            self.scratch.clear();
            normalize(&rest[a.value.0..a.value.1], self.scratch)
                .map_err(|(o, m)| PayloadError::malformed(self.pos_in_rest(a.value.0 + o), m))?;
        }
        Ok(())
    }
}

/// Attribute names already met in one tag: a short list, hashed beyond it so a
/// tag with many attributes costs linear time.
#[derive(Default)]
struct Seen<'a> {
    few: Vec<&'a [u8]>,
    many: HashSet<&'a [u8]>,
}

impl<'a> Seen<'a> {
    /// Records `name`; false if it was already there.
    fn insert(&mut self, name: &'a [u8]) -> bool {
        const FEW: usize = 16;
        if self.few.contains(&name) {
            return false;
        }
        if self.few.len() < FEW {
            self.few.push(name);
            return true;
        }
        self.many.insert(name)
    }
}

fn twice(pos: Pos, name: &str, elem: &str) -> PayloadError {
    PayloadError::malformed(pos, format!("attribute '{name}' appears twice on <{elem}>"))
}
