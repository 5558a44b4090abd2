//! Positions in a report being streamed.
//!
//! Owns [`Pos`] and [`Tracked`], a `BufRead` adapter that counts lines and
//! columns of everything the XML parser consumes. It keeps only the bytes of
//! the event being parsed, so any byte offset quick-xml reports for that event
//! can be turned into a line and column without holding the document.

use std::io::{self, BufRead, Read};

use super::model::ReportError;

/// A location in the document: 1-based line, 0-based column in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: u64,
    pub col: u64,
    /// The last byte passed was `\r`, so a following `\n` ends no extra line.
    after_cr: bool,
}

impl Default for Pos {
    fn default() -> Self {
        Self {
            line: 1,
            col: 0,
            after_cr: false,
        }
    }
}

impl Pos {
    /// Moves past UTF-8 `bytes`; `\n`, `\r\n` and a lone `\r` each end a line
    /// (XML 1.0 §2.11), other characters add a column.
    pub fn advance(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'\n' if self.after_cr => {}
                b'\n' | b'\r' => {
                    self.line += 1;
                    self.col = 0;
                }
                _ if b & 0xC0 != 0x80 => self.col += 1,
                _ => {}
            }
            self.after_cr = b == b'\r';
        }
    }

    /// This position moved past `bytes`.
    pub fn advanced(mut self, bytes: &[u8]) -> Self {
        self.advance(bytes);
        self
    }

    /// An error located here.
    pub fn error(self, message: impl Into<String>) -> ReportError {
        ReportError {
            line: self.line,
            column: self.col + 1,
            message: message.into(),
        }
    }
}

/// A `BufRead` that remembers where the current event starts and the bytes
/// consumed since, for locating errors inside that event.
pub(crate) struct Tracked<R> {
    inner: R,
    /// Bytes consumed from `inner` so far (the parser's offsets).
    consumed: u64,
    /// Offset of the mark (start of the current event).
    mark: u64,
    /// Position of the mark.
    mark_pos: Pos,
    /// Bytes consumed since the mark.
    window: Vec<u8>,
}

impl<R: BufRead> Tracked<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            consumed: 0,
            mark: 0,
            mark_pos: Pos::default(),
            window: Vec::with_capacity(4096),
        }
    }

    /// Marks `offset` (not beyond what was consumed) as the start of the next
    /// event and returns its position.
    pub fn mark(&mut self, offset: u64) -> Pos {
        let n = usize::try_from(offset.saturating_sub(self.mark))
            .unwrap_or(usize::MAX)
            .min(self.window.len());
        self.mark_pos.advance(&self.window[..n]);
        self.window.drain(..n);
        self.mark += n as u64;
        self.mark_pos
    }

    /// Position of `offset`, which should lie between the mark and what was
    /// consumed; clamped into that range otherwise.
    pub fn pos_at(&self, offset: u64) -> Pos {
        let n = usize::try_from(offset.saturating_sub(self.mark))
            .unwrap_or(usize::MAX)
            .min(self.window.len());
        self.mark_pos.advanced(&self.window[..n])
    }

    /// Position just after everything consumed.
    pub fn end_pos(&self) -> Pos {
        self.pos_at(self.consumed)
    }
}

impl<R: BufRead> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Tracked<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // `consume` follows a `fill_buf` that returned at least `amt` bytes, so
        // this `fill_buf` hands back the same buffered bytes without any I/O.
        if let Ok(buffered) = self.inner.fill_buf() {
            self.window
                .extend_from_slice(&buffered[..amt.min(buffered.len())]);
        }
        self.inner.consume(amt);
        self.consumed += amt as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_and_characters() {
        let p = Pos::default().advanced("ab\r\ncé\rx\n\ny".as_bytes());
        assert_eq!((p.line, p.col), (5, 1));
        // `\r` and `\n` split across calls still end one line.
        let p = Pos::default().advanced(b"a\r").advanced(b"\nb");
        assert_eq!((p.line, p.col), (2, 1));
    }

    #[test]
    fn maps_offsets_inside_the_current_event() {
        let mut t = Tracked::new(&b"<a>\n  <b x='1'/>\n</a>"[..]);
        let mut sink = Vec::new();
        t.read_to_end(&mut sink).unwrap();
        let start = t.mark(6);
        assert_eq!((start.line, start.col), (2, 2));
        let inside = t.pos_at(9);
        assert_eq!((inside.line, inside.col), (2, 5));
        let end = t.end_pos();
        assert_eq!((end.line, end.col), (3, 4));
    }
}
