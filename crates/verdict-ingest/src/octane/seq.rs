//! Content models: which child elements an element holds, in which order.
//!
//! Owns [`Children`] (an element's children as a fixed sequence of slots) and
//! [`Seq`], which follows the children of one element as they stream by and
//! words the errors: unexpected element (with what was expected there), wrong
//! order, repeated element, mutually exclusive alternatives, missing element.

use super::attrs::Tag;
use super::error::{PayloadError, Pos};
use super::names::{Resolved, show};

/// One position of a sequence: one element name, or alternatives (`release_ref`|`release`).
pub(crate) struct ChildSlot {
    pub names: &'static [&'static str],
    pub required: bool,
    pub many: bool,
}

/// An optional child occurring at most once.
pub(crate) const fn optional(name: &'static [&'static str]) -> ChildSlot {
    ChildSlot {
        names: name,
        required: false,
        many: false,
    }
}

/// A child occurring exactly once.
pub(crate) const fn once(name: &'static [&'static str]) -> ChildSlot {
    ChildSlot {
        names: name,
        required: true,
        many: false,
    }
}

/// A child occurring any number of times (`required`: at least once).
pub(crate) const fn repeated(name: &'static [&'static str], required: bool) -> ChildSlot {
    ChildSlot {
        names: name,
        required,
        many: true,
    }
}

/// The children of one element type.
pub(crate) struct Children {
    pub parent: &'static str,
    pub slots: &'static [ChildSlot],
}

/// Follows the children of one element.
pub(crate) struct Seq {
    spec: &'static Children,
    /// Slot of the last child accepted (meaningful once `count > 0`).
    cur: usize,
    /// Children accepted in slot `cur`.
    count: u32,
    /// Name of the last child accepted.
    last: &'static str,
}

impl Seq {
    pub fn new(spec: &'static Children) -> Self {
        Self {
            spec,
            cur: 0,
            count: 0,
            last: "",
        }
    }

    /// Index of the slot the child `tag` fills, or the error it causes.
    pub fn accept(&mut self, tag: &Tag<'_>) -> Result<usize, PayloadError> {
        let found = match tag.ns.element(tag.name) {
            Resolved::Local => self.find(tag.name),
            _ => None,
        };
        let Some((slot, name)) = found else {
            return Err(self.unexpected(tag));
        };
        let parent = self.spec.parent;
        let invalid = |msg: String| Err(PayloadError::invalid(tag.pos, msg));
        if self.count > 0 && slot < self.cur {
            return invalid(format!(
                "<{name}> must come before <{}> in <{parent}>",
                self.last
            ));
        }
        if self.count > 0 && slot == self.cur && !self.spec.slots[slot].many {
            return if name == self.last {
                invalid(format!("<{name}> may occur only once in <{parent}>"))
            } else {
                invalid(format!(
                    "<{}> and <{name}> cannot both be given in <{parent}>",
                    self.last
                ))
            };
        }
        if self.first_missing(slot).is_some() {
            return Err(self.unexpected(tag));
        }
        if slot != self.cur {
            self.count = 0;
        }
        self.cur = slot;
        self.count += 1;
        self.last = name;
        Ok(slot)
    }

    /// Checks, at the parent's end tag (`end`), that no required child is missing.
    pub fn finish(&self, end: Pos) -> Result<(), PayloadError> {
        match self.first_missing(self.spec.slots.len()) {
            Some(missing) => Err(PayloadError::invalid(
                end,
                format!(
                    "<{}> is missing <{}>",
                    self.spec.parent,
                    missing.names.join("> or <")
                ),
            )),
            None => Ok(()),
        }
    }

    fn find(&self, name: &[u8]) -> Option<(usize, &'static str)> {
        self.spec.slots.iter().enumerate().find_map(|(i, slot)| {
            slot.names
                .iter()
                .find(|n| n.as_bytes() == name)
                .map(|&n| (i, n))
        })
    }

    /// First slot still allowed to take a child.
    fn open_from(&self) -> usize {
        if self.count > 0 && !self.spec.slots[self.cur].many {
            self.cur + 1
        } else {
            self.cur
        }
    }

    /// A required slot before `until` that has no child yet.
    fn first_missing(&self, until: usize) -> Option<&'static ChildSlot> {
        let from = if self.count > 0 {
            self.cur + 1
        } else {
            self.cur
        };
        self.spec.slots[from.min(until)..until]
            .iter()
            .find(|s| s.required)
    }

    /// What may come next: element names, and the end tag when nothing is required.
    pub fn expected(&self) -> String {
        let mut names: Vec<String> = Vec::new();
        let mut ends = true;
        for (i, slot) in self.spec.slots.iter().enumerate().skip(self.open_from()) {
            names.extend(slot.names.iter().map(|n| format!("<{n}>")));
            let satisfied = i == self.cur && self.count > 0;
            if slot.required && !satisfied {
                ends = false;
                break;
            }
        }
        if ends {
            names.push(format!("</{}>", self.spec.parent));
        }
        join_or(&names)
    }

    fn unexpected(&self, tag: &Tag<'_>) -> PayloadError {
        unexpected(tag, self.spec.parent, &self.expected())
    }
}

/// `unexpected element <x> in <parent>; expected ...` for `tag`.
pub(crate) fn unexpected(tag: &Tag<'_>, parent: &str, expected: &str) -> PayloadError {
    let name = show(tag.name);
    let what = match tag.ns.element(tag.name) {
        Resolved::Ns(uri) => format!("<{name}> (namespace '{}')", show(uri)),
        _ => format!("<{name}>"),
    };
    PayloadError::invalid(
        tag.pos,
        format!("unexpected element {what} in <{parent}>; expected {expected}"),
    )
}

/// `a`, `a or b`, `a, b or c`.
pub(crate) fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
