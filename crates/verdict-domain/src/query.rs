//! The Octane REST API's entity query parameters (`query`, `fields`,
//! `order_by`; protocol §7.1–§7.2), parsed into a small syntax tree.
//!
//! This module owns the *syntax* only: it accepts the union of the JSSDK, SDK
//! and CLT dialects (`name='*x*'`, `a EQ ^v^;b EQ {id EQ 5}`, `!f EQ null`, …)
//! and reports malformed input with a 0-based character position, so the
//! server can answer 400 `platform.illegal_query` pointing at the fault.
//! Whether a field exists, and how a condition becomes SQL, is the store's
//! business; [`like_pattern`] and the small accessors here exist to make that
//! translation mechanical. Parsing never panics and nesting is bounded by
//! [`MAX_DEPTH`], so hostile input cannot exhaust the stack.

mod parser;
mod select;
mod values;

#[cfg(test)]
mod tests_errors;
#[cfg(test)]
mod tests_expr;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_select;

use std::fmt;

pub use parser::{parse_optional_query, parse_query};
pub use select::{FieldSelection, OrderKey, parse_fields, parse_order_by};

/// Deepest nesting of `!`, `(…)`, `{…}` (and `fields` sub-selections) that the
/// parsers accept; deeper input is rejected with an error instead of risking
/// a stack overflow while parsing, translating or dropping the tree.
pub const MAX_DEPTH: usize = 64;

/// Deepest nesting of `{…}` cross references: each is a subquery, and the
/// backends refuse (SQLite) or slow down badly on deeper ones, so deeper
/// input is a 400 at parse time rather than a 500 from the database.
pub const MAX_REFERENCE_DEPTH: usize = 8;

/// Values of one `IN` list.
pub const MAX_IN_VALUES: usize = 1_000;

/// Conditions in one query: an `OR` of them is as deep as it is long in
/// SQLite's expression tree (limit 1000).
pub const MAX_CONDITIONS: usize = 256;

/// Characters of a `query` parameter.
pub const MAX_QUERY_CHARS: usize = 64 * 1024;

/// A boolean query expression. Precedence is `!` > `;` > `||`, so
/// `!a;b||c` is `Or[And[Not a, b], c]`. The parser never produces an `And` or
/// `Or` with fewer than two members; parentheses leave no node of their own.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a||b||…`: any member holds.
    Or(Vec<Expr>),
    /// `a;b;…`: every member holds.
    And(Vec<Expr>),
    /// `!a`: the member does not hold (JSSDK's `notEqual`, e.g. `!executor EQ null`).
    Not(Box<Expr>),
    /// A single `field OP value(s)` comparison.
    Cond(Condition),
}

impl Expr {
    /// Every condition of this expression, left to right, *not* descending
    /// into `{…}` references (those name fields of the referenced entity, so a
    /// caller validating field names must check them against another type).
    #[must_use]
    pub fn conditions(&self) -> Vec<&Condition> {
        let mut out = Vec::new();
        self.collect_conditions(&mut out);
        out
    }

    fn collect_conditions<'a>(&'a self, out: &mut Vec<&'a Condition>) {
        match self {
            Self::Or(members) | Self::And(members) => {
                for member in members {
                    member.collect_conditions(out);
                }
            }
            Self::Not(inner) => inner.collect_conditions(out),
            Self::Cond(cond) => out.push(cond),
        }
    }
}

/// One comparison: `field OP value` (or several values for `IN`, two for `BTW`).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The field name as written (`[A-Za-z_][A-Za-z0-9_.]*`).
    pub field: String,
    /// The comparison operator (`=` is read as [`Op::Eq`]).
    pub op: Op,
    /// Exactly 1 value for EQ/LT/GT/LE/GE, at least 1 for IN, exactly 2 for BTW.
    pub values: Vec<Value>,
    /// 0-based character offset of `field` in the original input, so an
    /// "unknown field" 400 can point at it like a syntax error does.
    pub position: usize,
}

impl Condition {
    /// The value of a single-valued comparison (EQ/LT/GT/LE/GE); `None` for
    /// IN with several values and for BTW, which callers must handle apart.
    #[must_use]
    pub fn single_value(&self) -> Option<&Value> {
        match self.values.as_slice() {
            [value] if self.op != Op::Btw => Some(value),
            _ => None,
        }
    }
}

/// Comparison operators of the query grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `EQ` or `=`; with a `*` pattern it is a wildcard match.
    Eq,
    /// `LT`
    Lt,
    /// `GT`
    Gt,
    /// `LE`
    Le,
    /// `GE`
    Ge,
    /// `IN v1,v2,…`
    In,
    /// `BTW low...high` (inclusive).
    Btw,
}

impl Op {
    /// The canonical upper-case keyword, as clients send it.
    #[must_use]
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Eq => "EQ",
            Self::Lt => "LT",
            Self::Gt => "GT",
            Self::Le => "LE",
            Self::Ge => "GE",
            Self::In => "IN",
            Self::Btw => "BTW",
        }
    }

    /// Inverse of [`Op::keyword`]; upper-case only, as the grammar demands.
    #[must_use]
    pub fn from_keyword(word: &str) -> Option<Self> {
        Some(match word {
            "EQ" => Self::Eq,
            "LT" => Self::Lt,
            "GT" => Self::Gt,
            "LE" => Self::Le,
            "GE" => Self::Ge,
            "IN" => Self::In,
            "BTW" => Self::Btw,
            _ => return None,
        })
    }
}

/// A literal on the right-hand side of a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `^…^` or `'…'`, backslash escapes already removed. A `*` is a wildcard
    /// (see [`Value::is_wildcard`] and [`like_pattern`]) even when written
    /// `\*`, since the escape is removed here; dates stay text
    /// (`^2026-01-01T00:00:00Z^`) for the store to interpret per field.
    Text(String),
    /// An unquoted integer, e.g. `id EQ 1001` or `duration GE -5`.
    Number(i64),
    /// An unquoted number with a fractional part, e.g. `1.5` (always finite).
    Decimal(f64),
    /// `true` / `false` (also `TRUE` / `FALSE`).
    Bool(bool),
    /// `null` or `{null}`: an empty field or an empty reference.
    Null,
    /// `{expr}`: matches through a reference field (any member for multi-refs).
    Reference(Box<Expr>),
    /// `[current_user]`: the id of the signed-in user.
    CurrentUser,
    /// `[current_release]`: the workspace's release running today (else its
    /// default release).
    CurrentRelease,
}

impl Value {
    /// True for text containing `*`, which EQ must then match as a pattern
    /// (translate with [`like_pattern`]) rather than compare literally.
    #[must_use]
    pub fn is_wildcard(&self) -> bool {
        matches!(self, Self::Text(text) if text.contains('*'))
    }

    /// The text of a [`Value::Text`], else `None`.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The sub-expression of a [`Value::Reference`], else `None`.
    #[must_use]
    pub fn as_reference(&self) -> Option<&Expr> {
        match self {
            Self::Reference(expr) => Some(expr),
            _ => None,
        }
    }
}

/// Turns a query text into a SQL `LIKE` pattern meant to be used with
/// `ESCAPE '\'`: `\`, `%` and `_` are escaped with `\` so they match
/// literally, and each `*` wildcard becomes `%`. Works the same on SQLite and
/// PostgreSQL, which is why the escape character is explicit.
#[must_use]
pub fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        match c {
            '*' => out.push('%'),
            '\\' | '%' | '_' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// A malformed `query`, `fields` or `order_by` parameter. The message says
/// what was expected, so it can go verbatim into the 400's `description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query error at position {position}: {message}")]
pub struct QueryError {
    /// 0-based character (not byte) offset in the original, un-stripped input.
    pub position: usize,
    /// What went wrong and what was expected instead.
    pub message: String,
}

impl QueryError {
    pub(crate) fn new(position: usize, message: impl Into<String>) -> Self {
        Self {
            position,
            message: message.into(),
        }
    }
}

/// Renders the canonical form (`a EQ ^x^;(b EQ 1||c IN 1,2)`), which parses
/// back to the same tree (positions aside); handy for logs and tests.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Or(members) => write_joined(f, members, "||", |m| matches!(m, Self::Or(_))),
            Self::And(members) => {
                write_joined(f, members, ";", |m| matches!(m, Self::Or(_) | Self::And(_)))
            }
            Self::Not(inner) => match inner.as_ref() {
                Self::Or(_) | Self::And(_) => write!(f, "!({inner})"),
                _ => write!(f, "!{inner}"),
            },
            Self::Cond(cond) => write!(f, "{cond}"),
        }
    }
}

fn write_joined(
    f: &mut fmt::Formatter<'_>,
    members: &[Expr],
    separator: &str,
    needs_parens: impl Fn(&Expr) -> bool,
) -> fmt::Result {
    for (i, member) in members.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        if needs_parens(member) {
            write!(f, "({member})")?;
        } else {
            write!(f, "{member}")?;
        }
    }
    Ok(())
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.field, self.op.keyword())?;
        let separator = if self.op == Op::Btw { "..." } else { "," };
        for (i, value) in self.values.iter().enumerate() {
            if i > 0 {
                f.write_str(separator)?;
            }
            write!(f, "{value}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) => {
                f.write_str("^")?;
                for c in text.chars() {
                    if matches!(c, '^' | '\\') {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("^")
            }
            Self::Number(n) => write!(f, "{n}"),
            Self::Decimal(d) => {
                let text = d.to_string();
                if text.contains('.') {
                    f.write_str(&text)
                } else {
                    write!(f, "{text}.0")
                }
            }
            Self::Bool(b) => write!(f, "{b}"),
            Self::Null => f.write_str("null"),
            Self::Reference(expr) => write!(f, "{{{expr}}}"),
            Self::CurrentUser => f.write_str("[current_user]"),
            Self::CurrentRelease => f.write_str("[current_release]"),
        }
    }
}
