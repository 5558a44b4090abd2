//! XML names and namespace scopes.
//!
//! Owns the checks on element, attribute and PI names (XML 1.0 fifth edition)
//! and [`NsScope`], the namespace declarations in force, which decide whether
//! an element or attribute is in no namespace (Verdict's schema), in the XML
//! Schema instance namespace (`xsi:*`), or elsewhere.

use std::collections::HashMap;

/// Namespace of `xsi:*` attributes.
pub(crate) const XSI_NS: &[u8] = b"http://www.w3.org/2001/XMLSchema-instance";
/// Namespace bound to the reserved `xml` prefix.
pub(crate) const XML_NS: &[u8] = b"http://www.w3.org/XML/1998/namespace";

/// Whether `name` is an XML `Name`.
pub(crate) fn is_name(name: &[u8]) -> bool {
    if name.is_ascii() {
        return match name.split_first() {
            Some((&first, rest)) => {
                is_ascii_name_start(first) && rest.iter().all(|&b| is_ascii_name_char(b))
            }
            None => false,
        };
    }
    let Ok(text) = std::str::from_utf8(name) else {
        return false;
    };
    let mut chars = text.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}

fn is_ascii_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':'
}

fn is_ascii_name_char(b: u8) -> bool {
    is_ascii_name_start(b) || b.is_ascii_digit() || b == b'-' || b == b'.'
}

fn is_name_start(c: char) -> bool {
    if c.is_ascii() {
        return is_ascii_name_start(c as u8);
    }
    matches!(c,
        '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}'
        | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}'
        | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}'
        | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    if c.is_ascii() {
        return is_ascii_name_char(c as u8);
    }
    is_name_start(c) || matches!(c, '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// Splits `p:local` into prefix and local name.
pub(crate) fn split_qname(name: &[u8]) -> (Option<&[u8]>, &[u8]) {
    match name.iter().position(|&b| b == b':') {
        Some(i) => (Some(&name[..i]), &name[i + 1..]),
        None => (None, name),
    }
}

/// URIs bound to a name, innermost last, each with the depth of the declaring element.
type Bindings = Vec<(u32, Box<[u8]>)>;

/// The namespace declarations in force; empty for nearly every payload.
/// Lookups cost the same however many declarations a document makes.
#[derive(Default)]
pub(crate) struct NsScope {
    /// Default-namespace declarations (`xmlns`), innermost last, with their element depth.
    defaults: Bindings,
    /// Prefix declarations (`xmlns:p`): for each prefix, its URIs, innermost last.
    prefixes: HashMap<Box<[u8]>, Bindings>,
    /// Declared prefixes in declaration order, to undo them when elements end.
    declared: Vec<(u32, Box<[u8]>)>,
}

/// Where a name resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolved<'a> {
    /// No namespace: a name Verdict's schema may declare.
    Local,
    /// In the namespace with this URI.
    Ns(&'a [u8]),
    /// The prefix is not declared (a namespace error; the name stays as written).
    Unbound,
}

impl NsScope {
    /// Records a declaration made on the element at `depth`.
    pub fn declare(&mut self, depth: u32, prefix: Option<&[u8]>, uri: &[u8]) {
        match prefix {
            None => self.defaults.push((depth, Box::from(uri))),
            Some(prefix) => {
                self.prefixes
                    .entry(Box::from(prefix))
                    .or_default()
                    .push((depth, Box::from(uri)));
                self.declared.push((depth, Box::from(prefix)));
            }
        }
    }

    /// Drops the declarations of elements at `depth` or deeper.
    pub fn leave(&mut self, depth: u32) {
        while self.defaults.last().is_some_and(|d| d.0 >= depth) {
            self.defaults.pop();
        }
        while self.declared.last().is_some_and(|d| d.0 >= depth) {
            if let Some((_, prefix)) = self.declared.pop()
                && let Some(uris) = self.prefixes.get_mut(&prefix)
            {
                uris.pop();
                if uris.is_empty() {
                    self.prefixes.remove(&prefix);
                }
            }
        }
    }

    /// Namespace of an element name (unprefixed names take the default namespace).
    pub fn element(&self, name: &[u8]) -> Resolved<'_> {
        match split_qname(name) {
            (None, _) => match self.defaults.last() {
                Some((_, uri)) if !uri.is_empty() => Resolved::Ns(uri),
                _ => Resolved::Local,
            },
            (Some(prefix), _) => self.prefixed(prefix),
        }
    }

    /// Namespace of an attribute name (unprefixed attributes are in no namespace).
    pub fn attribute(&self, name: &[u8]) -> Resolved<'_> {
        match split_qname(name) {
            (None, _) => Resolved::Local,
            (Some(prefix), _) => self.prefixed(prefix),
        }
    }

    fn prefixed(&self, prefix: &[u8]) -> Resolved<'_> {
        if prefix == b"xml" {
            return Resolved::Ns(XML_NS);
        }
        match self.prefixes.get(prefix).and_then(|uris| uris.last()) {
            Some((_, uri)) if !uri.is_empty() => Resolved::Ns(uri),
            _ => Resolved::Unbound,
        }
    }
}

/// Whether an attribute name is a namespace declaration (`xmlns`, `xmlns:p`).
pub(crate) fn is_ns_decl(name: &[u8]) -> bool {
    name == b"xmlns" || name.starts_with(b"xmlns:")
}

/// Lossy text of a name or value for messages.
pub(crate) fn show(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_name(b"test_run"));
        assert!(is_name(b"a:b"));
        assert!(is_name("é-1".as_bytes()));
        assert!(!is_name(b"1a"));
        assert!(!is_name(b""));
        assert!(!is_name(b"a b"));
        assert!(!is_name(b"-a"));
    }

    #[test]
    fn scope() {
        let mut ns = NsScope::default();
        assert_eq!(ns.element(b"test_result"), Resolved::Local);
        assert_eq!(ns.element(b"v:test_result"), Resolved::Unbound);
        ns.declare(1, None, b"urn:x");
        ns.declare(2, Some(b"xsi"), XSI_NS);
        assert_eq!(ns.element(b"a"), Resolved::Ns(b"urn:x"));
        assert_eq!(ns.attribute(b"a"), Resolved::Local);
        assert_eq!(ns.attribute(b"xsi:nil"), Resolved::Ns(XSI_NS));
        ns.leave(2);
        assert_eq!(ns.attribute(b"xsi:nil"), Resolved::Unbound);
        ns.declare(2, None, b"");
        assert_eq!(ns.element(b"a"), Resolved::Local);
        ns.leave(1);
        assert_eq!(ns.element(b"a"), Resolved::Local);
    }
}
