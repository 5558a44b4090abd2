//! Values on the right-hand side of a condition: quoted text with `\`
//! escapes, numbers, `true`/`false`/`null`, and `{…}` references.

use super::parser::{Parser, describe, is_word_char};
use super::{QueryError, Value};

impl Parser {
    /// `value := ^text^ | 'text' | number | true | false | null | {expr} | {null}
    ///          | [current_user] | [current_release]`
    pub(super) fn parse_value(&mut self) -> Result<Value, QueryError> {
        self.skip_ws();
        match self.peek() {
            Some(quote @ ('^' | '\'')) => self.parse_text(quote).map(Value::Text),
            Some('{') => self.parse_reference(),
            Some('[') => self.parse_placeholder(),
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' => self.parse_number(),
            Some(c) if is_word_char(c) => {
                let at = self.pos;
                let word = self.take_while(is_word_char);
                match word.as_str() {
                    "true" | "TRUE" => Ok(Value::Bool(true)),
                    "false" | "FALSE" => Ok(Value::Bool(false)),
                    "null" | "NULL" => Ok(Value::Null),
                    _ => {
                        self.pos = at;
                        Err(self.error(format!(
                            "expected a value but found '{word}' (text must be quoted as ^…^ or '…')"
                        )))
                    }
                }
            }
            found => Err(self.error(format!(
                "expected a value (^text^, 'text', a number, true, false, null or {{…}}) but found {}",
                describe(found)
            ))),
        }
    }

    /// `^…^` / `'…'` with `\` escaping the next character.
    fn parse_text(&mut self, quote: char) -> Result<String, QueryError> {
        let start = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            let c = self.peek();
            self.pos += 1;
            match c {
                Some('\\') => match self.peek() {
                    Some(escaped) => {
                        text.push(escaped);
                        self.pos += 1;
                    }
                    None => break,
                },
                Some(c) if c == quote => return Ok(text),
                Some(c) => text.push(c),
                None => break,
            }
        }
        Err(QueryError::new(
            start,
            format!("unterminated string starting at position {start}"),
        ))
    }

    fn parse_number(&mut self) -> Result<Value, QueryError> {
        let start = self.pos;
        let mut text = String::new();
        if let Some(sign @ ('-' | '+')) = self.peek() {
            text.push(sign);
            self.pos += 1;
        }
        let digits = self.take_while(|c| c.is_ascii_digit());
        if digits.is_empty() {
            return Err(self.error(format!(
                "expected a digit after '{text}' but found {}",
                describe(self.peek())
            )));
        }
        text.push_str(&digits);
        let decimal =
            self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit());
        if decimal {
            self.pos += 1;
            text.push('.');
            text.push_str(&self.take_while(|c| c.is_ascii_digit()));
        }
        if self
            .peek()
            .is_some_and(|c| is_word_char(c) || matches!(c, '-' | ':'))
        {
            return Err(QueryError::new(
                start,
                "malformed number (dates and text must be quoted as ^…^ or '…')",
            ));
        }
        let value = if decimal {
            text.parse::<f64>()
                .ok()
                .filter(|d| d.is_finite())
                .map(Value::Decimal)
        } else {
            text.parse::<i64>().ok().map(Value::Number)
        };
        value.ok_or_else(|| QueryError::new(start, format!("number {text} is out of range")))
    }

    /// `[current_user]` or `[current_release]`.
    fn parse_placeholder(&mut self) -> Result<Value, QueryError> {
        let at = self.pos;
        self.pos += 1;
        let word = self.take_while(is_word_char);
        if self.peek() != Some(']') {
            self.pos = at;
            return Err(self.error("expected [current_user] or [current_release]"));
        }
        self.pos += 1;
        match word.as_str() {
            "current_user" => Ok(Value::CurrentUser),
            "current_release" => Ok(Value::CurrentRelease),
            _ => {
                self.pos = at;
                Err(self.error(format!(
                    "unknown placeholder '[{word}]'; use [current_user] or [current_release]"
                )))
            }
        }
    }

    /// `{expr}` or `{null}`.
    fn parse_reference(&mut self) -> Result<Value, QueryError> {
        if self.references >= super::MAX_REFERENCE_DEPTH {
            return Err(self.error(format!(
                "cross references nested deeper than {} levels",
                super::MAX_REFERENCE_DEPTH
            )));
        }
        self.enter()?;
        self.references += 1;
        self.pos += 1;
        self.skip_ws();
        let at = self.pos;
        let word = self.take_while(is_word_char);
        self.skip_ws();
        if matches!(word.as_str(), "null" | "NULL") && self.peek() == Some('}') {
            self.pos += 1;
            self.depth -= 1;
            self.references -= 1;
            return Ok(Value::Null);
        }
        self.pos = at;
        let inner = self.parse_or()?;
        self.expect_close('}')?;
        self.depth -= 1;
        self.references -= 1;
        Ok(Value::Reference(Box::new(inner)))
    }
}
