//! Recursive-descent parser for the `query` parameter (protocol §7.2):
//! entry points, the cursor, and the boolean structure (values live in
//! `values.rs`).
//!
//! It works on the characters of the whole original input (stripping only
//! by narrowing the window) so every error position is an offset into what
//! the client actually sent.

use super::{
    Condition, Expr, MAX_CONDITIONS, MAX_DEPTH, MAX_IN_VALUES, MAX_QUERY_CHARS, Op, QueryError,
};

/// Parses a `query` parameter value (already URL-decoded). Surrounding
/// whitespace and one pair of surrounding double quotes (the CLT and GHA send
/// `"…"`) are ignored. A blank query is an error; use
/// [`parse_optional_query`] where "no filter" is acceptable.
///
/// # Errors
/// [`QueryError`] with the character position of the first fault.
pub fn parse_query(input: &str) -> Result<Expr, QueryError> {
    let mut parser = Parser::new(input)?;
    if parser.start == parser.end {
        return Err(QueryError::new(
            parser.start,
            "empty query: expected a condition",
        ));
    }
    let expr = parser.parse_or()?;
    parser.skip_ws();
    match parser.peek() {
        None => Ok(expr),
        Some(c @ (')' | '}')) => Err(parser.error(format!("unexpected '{c}'"))),
        found => Err(parser.error(format!(
            "expected ';', '||' or end of query but found {}",
            describe(found)
        ))),
    }
}

/// Like [`parse_query`], but a blank query (empty, whitespace or `""`) means
/// "no filter" and yields `Ok(None)`, which is how the server treats `query=`.
///
/// # Errors
/// [`QueryError`] with the character position of the first fault.
pub fn parse_optional_query(input: &str) -> Result<Option<Expr>, QueryError> {
    let parser = Parser::new(input)?;
    if parser.start == parser.end {
        Ok(None)
    } else {
        parse_query(input).map(Some)
    }
}

/// Describes the character found where something else was expected.
pub(super) fn describe(found: Option<char>) -> String {
    match found {
        None => "end of input".to_owned(),
        Some(c) if c.is_control() => format!("'{}'", c.escape_debug()),
        Some(c) => format!("'{c}'"),
    }
}

/// First character of a field name.
pub(super) fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

/// Later characters of a field name (dots allowed for `a.b` paths).
pub(super) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

pub(super) fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub(super) struct Parser {
    chars: Vec<char>,
    pub(super) pos: usize,
    /// First character of the effective query (after stripping).
    start: usize,
    /// One past the last character of the effective query.
    end: usize,
    pub(super) depth: usize,
    /// Open `{…}` cross references around the current position.
    pub(super) references: usize,
    /// Conditions parsed so far.
    conditions: usize,
}

impl Parser {
    fn new(input: &str) -> Result<Self, QueryError> {
        if input.len() > MAX_QUERY_CHARS && input.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::new(
                MAX_QUERY_CHARS,
                format!("the query is longer than {MAX_QUERY_CHARS} characters"),
            ));
        }
        let chars: Vec<char> = input.chars().collect();
        let mut start = chars
            .iter()
            .position(|c| !c.is_whitespace())
            .unwrap_or(chars.len());
        let mut end = chars
            .iter()
            .rposition(|c| !c.is_whitespace())
            .map_or(start, |i| i + 1);
        if chars.get(start) == Some(&'"') {
            if end - start >= 2 && chars.get(end - 1) == Some(&'"') {
                start += 1;
                end -= 1;
            } else {
                return Err(QueryError::new(
                    end,
                    format!("missing closing '\"' for the quote at position {start}"),
                ));
            }
        }
        let mut parser = Self {
            chars,
            pos: start,
            start,
            end,
            depth: 0,
            references: 0,
            conditions: 0,
        };
        parser.skip_ws();
        parser.start = parser.pos;
        while parser.end > parser.start
            && parser
                .chars
                .get(parser.end - 1)
                .is_some_and(|c| c.is_whitespace())
        {
            parser.end -= 1;
        }
        Ok(parser)
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.peek_at(0)
    }

    pub(super) fn peek_at(&self, ahead: usize) -> Option<char> {
        let i = self.pos + ahead;
        if i < self.end {
            self.chars.get(i).copied()
        } else {
            None
        }
    }

    fn starts_with(&self, text: &str) -> bool {
        text.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c))
    }

    pub(super) fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    pub(super) fn error(&self, message: impl Into<String>) -> QueryError {
        QueryError::new(self.pos, message)
    }

    pub(super) fn take_while(&mut self, accept: impl Fn(char) -> bool) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek().filter(|&c| accept(c)) {
            out.push(c);
            self.pos += 1;
        }
        out
    }

    /// Guards recursion through `!`, `(` and `{`.
    pub(super) fn enter(&mut self) -> Result<(), QueryError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.depth += 1;
        Ok(())
    }

    /// `expr := and ( "||" and )*`
    pub(super) fn parse_or(&mut self) -> Result<Expr, QueryError> {
        let mut members = vec![self.parse_and()?];
        loop {
            self.skip_ws();
            if !self.starts_with("||") {
                break;
            }
            self.pos += 2;
            members.push(self.parse_and()?);
        }
        Ok(if members.len() == 1 {
            members.remove(0)
        } else {
            Expr::Or(members)
        })
    }

    /// `and := unary ( ";" unary )*`
    fn parse_and(&mut self) -> Result<Expr, QueryError> {
        let mut members = vec![self.parse_unary()?];
        loop {
            self.skip_ws();
            if self.peek() != Some(';') {
                break;
            }
            self.pos += 1;
            members.push(self.parse_unary()?);
        }
        Ok(if members.len() == 1 {
            members.remove(0)
        } else {
            Expr::And(members)
        })
    }

    /// `unary := "!" unary | "(" expr ")" | cond`
    fn parse_unary(&mut self) -> Result<Expr, QueryError> {
        self.skip_ws();
        match self.peek() {
            Some('!') => {
                self.enter()?;
                self.pos += 1;
                let inner = self.parse_unary()?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(inner)))
            }
            Some('(') => {
                self.enter()?;
                self.pos += 1;
                let inner = self.parse_or()?;
                self.expect_close(')')?;
                self.depth -= 1;
                Ok(inner)
            }
            Some(c) if is_ident_start(c) => self.parse_cond().map(Expr::Cond),
            found => Err(self.error(format!(
                "expected a condition (a field name, '!' or '(') but found {}",
                describe(found)
            ))),
        }
    }

    pub(super) fn expect_close(&mut self, close: char) -> Result<(), QueryError> {
        self.skip_ws();
        match self.peek() {
            Some(c) if c == close => {
                self.pos += 1;
                Ok(())
            }
            found => Err(self.error(format!(
                "expected ';', '||' or '{close}' but found {}",
                describe(found)
            ))),
        }
    }

    /// `cond := field OP value | field "IN" value ("," value)* | field "BTW" value "..." value`
    fn parse_cond(&mut self) -> Result<Condition, QueryError> {
        let position = self.pos;
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return Err(self.error(format!(
                "more than {MAX_CONDITIONS} conditions in one query"
            )));
        }
        let field = self.take_while(is_ident_char);
        let op = self.parse_op(&field)?;
        let mut values = vec![self.parse_value()?];
        match op {
            Op::In => loop {
                self.skip_ws();
                if self.peek() != Some(',') {
                    break;
                }
                self.pos += 1;
                if values.len() >= MAX_IN_VALUES {
                    return Err(self.error(format!(
                        "more than {MAX_IN_VALUES} values in the IN list of field '{field}'"
                    )));
                }
                values.push(self.parse_value()?);
            },
            Op::Btw => {
                self.skip_ws();
                if !self.starts_with("...") {
                    return Err(self.error(format!(
                        "expected '...' between the two BTW values of field '{field}' but found {}",
                        describe(self.peek())
                    )));
                }
                self.pos += 3;
                values.push(self.parse_value()?);
            }
            _ => {}
        }
        Ok(Condition {
            field,
            op,
            values,
            position,
        })
    }

    fn parse_op(&mut self, field: &str) -> Result<Op, QueryError> {
        self.skip_ws();
        let symbol = match (self.peek(), self.peek_at(1)) {
            (Some('<'), Some('=')) => Some((Op::Le, 2)),
            (Some('>'), Some('=')) => Some((Op::Ge, 2)),
            (Some('<'), _) => Some((Op::Lt, 1)),
            (Some('>'), _) => Some((Op::Gt, 1)),
            (Some('='), _) => Some((Op::Eq, 1)),
            _ => None,
        };
        if let Some((op, len)) = symbol {
            self.pos += len;
            return Ok(op);
        }
        let at = self.pos;
        let word = self.take_while(is_word_char);
        if let Some(op) = Op::from_keyword(&word) {
            return Ok(op);
        }
        self.pos = at;
        let found = if word.is_empty() {
            describe(self.peek())
        } else {
            format!("'{word}'")
        };
        let hint = if Op::from_keyword(&word.to_ascii_uppercase()).is_some() {
            " (operators are upper-case)"
        } else {
            ""
        };
        Err(self.error(format!(
            "expected an operator (EQ, LT, GT, LE, GE, IN, BTW, =, <, >, <=, >=) after field '{field}' but found {found}{hint}"
        )))
    }
}
