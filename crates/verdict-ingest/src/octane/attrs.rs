//! Start tags and their attributes.
//!
//! Owns [`Tag`] (one start tag as the XML layer hands it out), the attribute
//! syntax scanner, attribute-value normalisation (references resolved,
//! literal tab/CR/LF turned into spaces as an XML parser does), and checking
//! a tag's attributes against an [`ElemSpec`]: unknown, duplicate, missing and
//! badly typed attributes, and the `xsi:*` attributes libxml2 accepts.

use verdict_domain::payload::TestFieldType;
use verdict_domain::status::RunStatus;

use super::error::{PayloadError, Pos};
use super::names::{NsScope, Resolved, XSI_NS, is_name, is_ns_decl, show, split_qname};
use super::values::{Ty, Typed, check, resolve_ref};

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

/// One attribute found by the scanner: byte ranges in the tag's attribute bytes.
struct RawAttr {
    name: (usize, usize),
    value: (usize, usize),
}

/// A syntax or reference error: byte offset in the attribute bytes and message.
type SyntaxError = (usize, String);

/// Scans the next `name="value"` starting at `*at`.
fn next_attr(rest: &[u8], at: &mut usize) -> Result<Option<RawAttr>, SyntaxError> {
    let ws = rest[*at..].iter().take_while(|&&b| is_space(b)).count();
    *at += ws;
    let start = *at;
    if start == rest.len() {
        return Ok(None);
    }
    if ws == 0 {
        return Err((start, "whitespace is required between attributes".into()));
    }
    let name_len = rest[start..]
        .iter()
        .take_while(|&&b| !is_space(b) && b != b'=')
        .count();
    let name = &rest[start..start + name_len];
    if !is_name(name) {
        return Err((start, format!("invalid attribute name '{}'", show(name))));
    }
    let mut i = start + name_len;
    i += rest[i..].iter().take_while(|&&b| is_space(b)).count();
    if rest.get(i) != Some(&b'=') {
        return Err((start, format!("attribute '{}' has no value", show(name))));
    }
    i += 1;
    i += rest[i..].iter().take_while(|&&b| is_space(b)).count();
    let quote = match rest.get(i) {
        Some(&q @ (b'"' | b'\'')) => q,
        _ => return Err((i, format!("the value of attribute '{}' must be quoted", show(name)))),
    };
    let len = rest[i + 1..]
        .iter()
        .position(|&b| b == quote)
        .ok_or_else(|| (i, "attribute value is not closed".to_owned()))?;
    let value = (i + 1, i + 1 + len);
    if let Some(lt) = rest[value.0..value.1].iter().position(|&b| b == b'<') {
        return Err((value.0 + lt, "'<' is not allowed in attribute values".into()));
    }
    *at = value.1 + 1;
    Ok(Some(RawAttr {
        name: (start, start + name_len),
        value,
    }))
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Normalises an attribute value: references resolved, literal tab, LF, CR and
/// CR LF each become one space. Returns `None` when `raw` is already normal,
/// else the range of the result appended to `scratch`.
fn normalize(raw: &str, scratch: &mut String) -> Result<Option<(usize, usize)>, SyntaxError> {
    let bytes = raw.as_bytes();
    if !bytes.iter().any(|&b| matches!(b, b'&' | b'\t' | b'\n' | b'\r')) {
        return Ok(None);
    }
    let start = scratch.len();
    let (mut i, mut seg) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\r' | b'\n' | b'\t' => {
                scratch.push_str(&raw[seg..i]);
                scratch.push(' ');
                i += if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                seg = i;
            }
            b'&' => {
                scratch.push_str(&raw[seg..i]);
                let end = bytes[i..]
                    .iter()
                    .position(|&b| b == b';')
                    .map(|n| i + n)
                    .ok_or_else(|| (i, "'&' must start a reference such as &amp;".to_owned()))?;
                scratch.push(resolve_ref(&bytes[i + 1..end]).map_err(|m| (i, m))?);
                i = end + 1;
                seg = i;
            }
            _ => i += 1,
        }
    }
    scratch.push_str(&raw[seg..]);
    Ok(Some((start, scratch.len())))
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
        let mut at = 0;
        while let Some(a) = next_attr(self.rest, &mut at).map_err(|e| self.syntax_error(e))? {
            let name = &rest[a.name.0..a.name.1];
            let raw = &rest[a.value.0..a.value.1];
            let Some(i) = spec.attrs.iter().position(|s| s.name == name) else {
                self.other_attr(spec, &a, raw)?;
                continue;
            };
            let pos = self.pos_in_rest(a.name.0);
            if !matches!(slots[i], Slot::Absent) {
                return Err(twice(pos, name, spec.name));
            }
            let norm = normalize(raw, self.scratch).map_err(|(o, m)| {
                PayloadError::malformed(self.pos_in_rest(a.value.0 + o), m)
            })?;
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
    fn other_attr(&self, spec: &ElemSpec, a: &RawAttr, raw: &str) -> Result<(), PayloadError> {
        let name = &self.rest[a.name.0..a.name.1];
        let pos = self.pos_in_rest(a.name.0);
        if self.seen_before(name, a.name.0) {
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

    /// Whether an attribute called `name` appears before byte `offset`.
    fn seen_before(&self, name: &[u8], offset: usize) -> bool {
        let mut at = 0;
        while let Ok(Some(a)) = next_attr(self.rest, &mut at) {
            if a.name.0 >= offset {
                return false;
            }
            if &self.rest[a.name.0..a.name.1] == name {
                return true;
            }
        }
        false
    }

    /// Checks attribute syntax only (elements inside `file`): well-formed, no
    /// duplicates, references defined.
    pub fn check_syntax(self) -> Result<(), PayloadError> {
        let rest = self.rest_str()?;
        let mut at = 0;
        while let Some(a) = next_attr(self.rest, &mut at).map_err(|e| self.syntax_error(e))? {
            let name = &self.rest[a.name.0..a.name.1];
            if self.seen_before(name, a.name.0) {
                return Err(twice(self.pos_in_rest(a.name.0), &show(name), &show(self.name)));
            }
            self.scratch.clear();
            normalize(&rest[a.value.0..a.value.1], self.scratch)
                .map_err(|(o, m)| PayloadError::malformed(self.pos_in_rest(a.value.0 + o), m))?;
        }
        Ok(())
    }
}

fn twice(pos: Pos, name: &str, elem: &str) -> PayloadError {
    PayloadError::malformed(pos, format!("attribute '{name}' appears twice on <{elem}>"))
}

/// Calls `declare(prefix, uri)` for each namespace declaration among the
/// attribute bytes `rest` (prefix `None` for `xmlns`).
pub(crate) fn ns_declarations(
    rest: &[u8],
    scratch: &mut String,
    mut declare: impl FnMut(Option<&[u8]>, &[u8]),
) -> Result<(), SyntaxError> {
    let text = std::str::from_utf8(rest).map_err(|_| (0, "the tag is not valid UTF-8".to_owned()))?;
    let mut at = 0;
    while let Some(a) = next_attr(rest, &mut at)? {
        let name = &rest[a.name.0..a.name.1];
        if !is_ns_decl(name) {
            continue;
        }
        scratch.clear();
        let raw = &text[a.value.0..a.value.1];
        let uri = match normalize(raw, scratch).map_err(|(o, m)| (a.value.0 + o, m))? {
            None => raw,
            Some((x, y)) => &scratch[x..y],
        };
        declare(name.strip_prefix(b"xmlns:"), uri.as_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(rest: &str) -> Result<Vec<(String, String)>, SyntaxError> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(a) = next_attr(rest.as_bytes(), &mut at)? {
            let mut scratch = String::new();
            let raw = &rest[a.value.0..a.value.1];
            let value = match normalize(raw, &mut scratch)? {
                None => raw.to_owned(),
                Some((x, y)) => scratch[x..y].to_owned(),
            };
            out.push((rest[a.name.0..a.name.1].to_owned(), value));
        }
        Ok(out)
    }

    #[test]
    fn scanner_and_normalisation() {
        let got = scan(" a=\"1\"  b = 'x\ty\r\nz\rw' c=\"&lt;&#65;&#x42;&amp;\"").unwrap();
        assert_eq!(
            got,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y z w".into()),
                ("c".into(), "<AB&".into())
            ]
        );
        assert_eq!(scan(" a=\"&#9;\"").unwrap()[0].1, "\t");
    }

    #[test]
    fn scanner_errors() {
        assert!(scan(" a=\"1\"b=\"2\"").is_err());
        assert!(scan(" a").is_err());
        assert!(scan(" a=1").is_err());
        assert!(scan(" 1a=\"1\"").is_err());
        assert!(scan(" a=\"<\"").is_err());
        assert!(scan(" a=\"&foo;\"").is_err());
        assert!(scan(" a=\"& b\"").is_err());
    }
}
