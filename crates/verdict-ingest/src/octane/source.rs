//! The byte stream under the XML parser: decoding, character checks, positions.
//!
//! Owns [`Source`], a `BufRead` adapter that hands quick-xml UTF-8 (decoding
//! ISO-8859-1 on the fly), checks that every character is one XML allows, and
//! tracks the line and column of everything consumed so errors can be located
//! without keeping the document.

use std::io::{self, BufRead, Read};

use super::error::{PayloadError, PayloadErrorKind, Pos};
use super::prolog::{Charset, Prolog};

/// A problem found in consumed bytes (bad encoding or forbidden character),
/// reported by the XML layer at its next step.
#[derive(Debug, Clone)]
pub(crate) struct Fault(pub PayloadError);

/// Position and character checks over everything the parser consumes.
struct Tracker {
    pos: Pos,
    /// The last consumed byte was `<`: the parser has entered markup.
    last_lt: bool,
    ascii_only: bool,
    /// Start of a UTF-8 sequence split across two `consume` calls.
    carry: Vec<u8>,
    /// Where the carried sequence starts.
    carry_pos: Pos,
    fault: Option<Fault>,
}

impl Tracker {
    fn feed(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.fault.is_none() {
            self.check(bytes);
        }
        self.pos.advance(bytes);
        self.last_lt = bytes.last() == Some(&b'<');
    }

    fn check(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        if !self.carry.is_empty() {
            let need = utf8_len(self.carry[0]) - self.carry.len();
            let more = rest
                .iter()
                .take(need)
                .take_while(|&&b| b & 0xC0 == 0x80)
                .count();
            self.carry.extend_from_slice(&rest[..more]);
            rest = &rest[more..];
            let complete = self.carry.len() == utf8_len(self.carry[0]);
            if !complete && rest.is_empty() {
                return;
            }
            let valid = complete && std::str::from_utf8(&self.carry).is_ok();
            let non_char = self.carry == b"\xEF\xBF\xBE" || self.carry == b"\xEF\xBF\xBF";
            self.carry.clear();
            if !valid {
                self.fault_at(self.carry_pos, PayloadErrorKind::Encoding, invalid_utf8());
                return;
            }
            if non_char {
                let msg = "character U+FFFE or U+FFFF is not allowed in XML".to_owned();
                self.fault_at(self.carry_pos, PayloadErrorKind::NotWellFormed, msg);
                return;
            }
        }
        let skipped = bytes.len() - rest.len();
        if let Some((at, kind, message)) = self.first_problem(rest) {
            let pos = self.pos.advanced(&bytes[..skipped + at]);
            self.fault_at(pos, kind, message);
        } else if !self.carry.is_empty() {
            self.carry_pos = self.pos.advanced(&bytes[..bytes.len() - self.carry.len()]);
        }
    }

    /// Offset and description of the first bad byte of `bytes`, if any.
    fn first_problem(&mut self, bytes: &[u8]) -> Option<(usize, PayloadErrorKind, String)> {
        let control = bytes
            .iter()
            .position(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'));
        let utf8_end = match std::str::from_utf8(bytes) {
            Ok(_) => bytes.len(),
            Err(e) if e.error_len().is_none() => {
                self.carry.extend_from_slice(&bytes[e.valid_up_to()..]);
                e.valid_up_to()
            }
            Err(e) => e.valid_up_to(),
        };
        let non_char = bytes[..utf8_end]
            .windows(3)
            .position(|w| w == b"\xEF\xBF\xBE" || w == b"\xEF\xBF\xBF");
        let non_ascii = if self.ascii_only {
            bytes.iter().position(|&b| b >= 0x80)
        } else {
            None
        };
        let bad_utf8 = (utf8_end < bytes.len() && self.carry.is_empty()).then_some(utf8_end);
        let candidates = [
            control.map(|i| (i, PayloadErrorKind::NotWellFormed, bad_char(bytes[i]))),
            non_char.map(|i| {
                let msg = "character U+FFFE or U+FFFF is not allowed in XML".to_owned();
                (i, PayloadErrorKind::NotWellFormed, msg)
            }),
            non_ascii.map(|i| {
                let msg = format!(
                    "byte 0x{:02X} is not US-ASCII, the encoding the document declares",
                    bytes[i]
                );
                (i, PayloadErrorKind::Encoding, msg)
            }),
            bad_utf8.map(|i| (i, PayloadErrorKind::Encoding, invalid_utf8())),
        ];
        candidates.into_iter().flatten().min_by_key(|c| c.0)
    }

    fn fault_at(&mut self, pos: Pos, kind: PayloadErrorKind, message: String) {
        self.fault = Some(Fault(PayloadError::at(pos, kind, message)));
    }
}

fn invalid_utf8() -> String {
    "the bytes are not valid UTF-8 (declare the real encoding in the XML declaration)".to_owned()
}

fn bad_char(b: u8) -> String {
    format!("character U+{b:04X} is not allowed in XML")
}

/// Length of the UTF-8 sequence starting with `lead` (1 for invalid leads).
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

/// `BufRead` adapter between the payload stream and quick-xml.
pub(crate) struct Source<R> {
    inner: R,
    latin1: bool,
    /// Bytes read ahead while sniffing the prolog, already UTF-8; served first.
    head: Vec<u8>,
    head_at: usize,
    /// Current decoded chunk (ISO-8859-1 mode only).
    decoded: Vec<u8>,
    decoded_at: usize,
    tracker: Tracker,
}

impl<R: BufRead> Source<R> {
    /// Wraps `inner`, whose first bytes were already taken by prolog sniffing.
    pub fn new(inner: R, prolog: Prolog) -> Self {
        let latin1 = prolog.charset == Charset::Latin1;
        let head = if latin1 {
            let mut out = Vec::with_capacity(prolog.head.len());
            latin1_to_utf8(&prolog.head, &mut out);
            out
        } else {
            prolog.head
        };
        Self {
            inner,
            latin1,
            head,
            head_at: 0,
            decoded: Vec::new(),
            decoded_at: 0,
            tracker: Tracker {
                pos: Pos::default(),
                last_lt: false,
                ascii_only: prolog.charset == Charset::Ascii,
                carry: Vec::new(),
                carry_pos: Pos::default(),
                fault: None,
            },
        }
    }

    /// Position after the last consumed byte.
    pub fn pos(&self) -> Pos {
        self.tracker.pos
    }

    /// Whether the last consumed byte opened markup (`<`).
    pub fn after_lt(&self) -> bool {
        self.tracker.last_lt
    }

    /// The first bad byte consumed so far, if any.
    pub fn fault(&self) -> Option<&Fault> {
        self.tracker.fault.as_ref()
    }

    /// Called at end of input: a UTF-8 sequence cut short is an error.
    pub fn finish(&mut self) {
        if !self.tracker.carry.is_empty() && self.tracker.fault.is_none() {
            let pos = self.tracker.carry_pos;
            let err = PayloadError::at(pos, PayloadErrorKind::Encoding, invalid_utf8());
            self.tracker.fault = Some(Fault(err));
        }
    }
}

fn latin1_to_utf8(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        if b < 0x80 {
            out.push(b);
        } else {
            out.push(0xC0 | (b >> 6));
            out.push(0x80 | (b & 0x3F));
        }
    }
}

impl<R: BufRead> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        crate::budget::read_from_buffer(self, buf)
    }
}

impl<R: BufRead> BufRead for Source<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.head_at < self.head.len() {
            return Ok(&self.head[self.head_at..]);
        }
        if !self.latin1 {
            return self.inner.fill_buf();
        }
        if self.decoded_at >= self.decoded.len() {
            self.decoded.clear();
            self.decoded_at = 0;
            let chunk = self.inner.fill_buf()?;
            let n = chunk.len();
            latin1_to_utf8(chunk, &mut self.decoded);
            self.inner.consume(n);
        }
        Ok(&self.decoded[self.decoded_at..])
    }

    fn consume(&mut self, amt: usize) {
        if self.head_at < self.head.len() {
            let end = (self.head_at + amt).min(self.head.len());
            self.tracker.feed(&self.head[self.head_at..end]);
            self.head_at = end;
        } else if self.latin1 {
            let end = (self.decoded_at + amt).min(self.decoded.len());
            self.tracker.feed(&self.decoded[self.decoded_at..end]);
            self.decoded_at = end;
        } else {
            if let Ok(chunk) = self.inner.fill_buf() {
                self.tracker.feed(&chunk[..amt.min(chunk.len())]);
            }
            self.inner.consume(amt);
        }
    }
}
