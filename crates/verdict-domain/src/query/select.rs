//! The `fields` and `order_by` parameters (protocol §7.1): comma lists of
//! field names, with `ref{f1,f2}` sub-selections and `-f` for descending.

use super::parser::{describe, is_ident_char, is_ident_start};
use super::{MAX_DEPTH, QueryError};

/// One entry of `fields=name,release{name,id}`: which field to return and,
/// for a reference, which of the referenced entity's fields to embed (empty
/// = the default `{type,id,name}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldSelection {
    /// The field name as written.
    pub name: String,
    /// The `{…}` sub-selection, empty when none was given.
    pub sub_fields: Vec<FieldSelection>,
}

/// One entry of `order_by=-started,id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderKey {
    /// The field name as written.
    pub field: String,
    /// True for a leading `-`.
    pub descending: bool,
}

/// Parses `fields` (`name,release{name,id},test{id}`), whitespace allowed
/// around names and punctuation. A blank value yields an empty list, which
/// callers treat like an absent parameter (all simple fields).
///
/// # Errors
/// [`QueryError`] with the character position of the first fault.
pub fn parse_fields(input: &str) -> Result<Vec<FieldSelection>, QueryError> {
    let mut cursor = Cursor::new(input);
    if cursor.at_end() {
        return Ok(Vec::new());
    }
    let fields = cursor.field_list(0)?;
    match cursor.peek() {
        None => Ok(fields),
        found => Err(cursor.error(format!(
            "expected ',' or end of fields but found {}",
            describe(found)
        ))),
    }
}

/// Parses `order_by` (`-started,id`; `+f` is accepted as ascending). A blank
/// value yields an empty list, which callers treat as the default (`id`).
///
/// # Errors
/// [`QueryError`] with the character position of the first fault.
pub fn parse_order_by(input: &str) -> Result<Vec<OrderKey>, QueryError> {
    let mut cursor = Cursor::new(input);
    let mut keys = Vec::new();
    if cursor.at_end() {
        return Ok(keys);
    }
    loop {
        cursor.skip_ws();
        let descending = cursor.peek() == Some('-');
        if matches!(cursor.peek(), Some('-' | '+')) {
            cursor.pos += 1;
            cursor.skip_ws();
        }
        let field = cursor.ident()?;
        keys.push(OrderKey { field, descending });
        cursor.skip_ws();
        match cursor.peek() {
            Some(',') => cursor.pos += 1,
            None => return Ok(keys),
            found => {
                return Err(cursor.error(format!(
                    "expected ',' or end of order_by but found {}",
                    describe(found)
                )));
            }
        }
    }
}

struct Cursor {
    chars: Vec<char>,
    pos: usize,
}

impl Cursor {
    fn new(input: &str) -> Self {
        let chars: Vec<char> = input.chars().collect();
        let mut cursor = Self { chars, pos: 0 };
        cursor.skip_ws();
        cursor
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn error(&self, message: impl Into<String>) -> QueryError {
        QueryError::new(self.pos, message)
    }

    fn ident(&mut self) -> Result<String, QueryError> {
        match self.peek() {
            Some(c) if is_ident_start(c) => {
                let mut name = String::new();
                while let Some(c) = self.peek().filter(|&c| is_ident_char(c)) {
                    name.push(c);
                    self.pos += 1;
                }
                Ok(name)
            }
            found => Err(self.error(format!(
                "expected a field name but found {}",
                describe(found)
            ))),
        }
    }

    /// `list := item ("," item)*`, `item := name ("{" list "}")?`; stops
    /// (after trailing whitespace) at the first character that is not `,`.
    fn field_list(&mut self, depth: usize) -> Result<Vec<FieldSelection>, QueryError> {
        let mut fields = Vec::new();
        loop {
            self.skip_ws();
            let name = self.ident()?;
            self.skip_ws();
            let mut sub_fields = Vec::new();
            if self.peek() == Some('{') {
                if depth >= MAX_DEPTH {
                    return Err(self.error(format!("nesting deeper than {MAX_DEPTH} levels")));
                }
                self.pos += 1;
                sub_fields = self.field_list(depth + 1)?;
                if self.peek() != Some('}') {
                    return Err(self.error(format!(
                        "expected ',' or '}}' but found {}",
                        describe(self.peek())
                    )));
                }
                self.pos += 1;
                self.skip_ws();
            }
            fields.push(FieldSelection { name, sub_fields });
            if self.peek() != Some(',') {
                return Ok(fields);
            }
            self.pos += 1;
        }
    }
}
