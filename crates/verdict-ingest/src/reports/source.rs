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
        // Only the bytes after the last line end decide the column, and the
        // lines before it are counted by kind of line end, with loops that
        // vectorise: most spans are tags without any line end.
        let (chars, any_line_end) = scan(bytes);
        if !any_line_end {
            self.col += chars;
            self.after_cr &= bytes.is_empty();
            return;
        }
        let last = bytes.iter().rposition(|&b| is_line_end(b)).unwrap_or(0);
        let (head, tail) = bytes.split_at(last + 1);
        let mut ends = count_bytes(head, is_line_end);
        if count_bytes(head, |b| b == b'\r') > 0 {
            // `\r\n` ends one line.
            ends -= head.windows(2).filter(|w| w == b"\r\n").count() as u64;
        }
        if self.after_cr && head.first() == Some(&b'\n') {
            // The `\n` of a `\r\n` split across calls.
            ends -= 1;
        }
        self.line += ends;
        self.col = count_chars(tail);
        self.after_cr = tail.is_empty() && head.last() == Some(&b'\r');
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

fn is_line_end(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// The characters in UTF-8 `bytes` and whether there is a line end among
/// them, in one pass that vectorises (see [`count_bytes`]).
fn scan(bytes: &[u8]) -> (u64, bool) {
    let mut chars = 0;
    let mut line_end = 0;
    for run in bytes.chunks(255) {
        let (c, l) = run.iter().fold((0_u8, 0_u8), |(c, l), &b| {
            (c + u8::from(b & 0xC0 != 0x80), l | u8::from(is_line_end(b)))
        });
        chars += u64::from(c);
        line_end |= l;
    }
    (chars, line_end != 0)
}

/// Characters in UTF-8 `bytes`: the bytes that are not continuation bytes.
fn count_chars(bytes: &[u8]) -> u64 {
    count_bytes(bytes, |b| b & 0xC0 != 0x80)
}

/// How many of `bytes` match `pred`, counted into a byte per run of 255
/// bytes so the loop vectorises.
fn count_bytes(bytes: &[u8], pred: impl Fn(u8) -> bool) -> u64 {
    bytes
        .chunks(255)
        .map(|run| u64::from(run.iter().fold(0_u8, |n, &b| n + u8::from(pred(b)))))
        .sum()
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
        if n > 0 {
            self.mark_pos.advance(&self.window[..n]);
            self.window.drain(..n);
            self.mark += n as u64;
        }
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
        crate::budget::read_from_buffer(self, buf)
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
        let p = Pos::default()
            .advanced(b"a\r")
            .advanced(b"")
            .advanced(b"\nb");
        assert_eq!((p.line, p.col), (2, 1));
        let p = Pos::default().advanced(b"a\r").advanced(b"b\n");
        assert_eq!((p.line, p.col), (3, 0));
        // The fast path agrees with the byte loop on every split.
        let text = "x\r\n\ré\n\r\r\nab\rc".as_bytes();
        let slow = advance_slowly(Pos::default(), text);
        for cut in 0..=text.len() {
            let p = Pos::default().advanced(&text[..cut]).advanced(&text[cut..]);
            assert_eq!(p, slow, "cut at {cut}");
        }
        // Spans longer than a 255-byte run of the counters.
        let text = "ab\r\ncd é\rx\n".repeat(700);
        let text = text.as_bytes();
        let slow = advance_slowly(Pos::default(), text);
        for cut in [0, 1, 5, 17, 4000, text.len() - 3, text.len()] {
            let p = Pos::default().advanced(&text[..cut]).advanced(&text[cut..]);
            assert_eq!(p, slow, "cut at {cut}");
        }
    }

    /// The rule of [`Pos::advance`], one byte at a time.
    fn advance_slowly(mut pos: Pos, bytes: &[u8]) -> Pos {
        for &b in bytes {
            match b {
                b'\n' if pos.after_cr => {}
                b'\n' | b'\r' => {
                    pos.line += 1;
                    pos.col = 0;
                }
                _ if b & 0xC0 != 0x80 => pos.col += 1,
                _ => {}
            }
            pos.after_cr = b == b'\r';
        }
        pos
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
