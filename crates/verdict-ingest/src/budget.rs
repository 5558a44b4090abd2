//! A per-event byte budget between a stream and quick-xml.
//!
//! quick-xml buffers a whole event (a text node, a comment, a tag) before it
//! returns it, so a 3 GiB comment would cost 3 GiB before any limit was
//! checked. [`Budget`] is armed before each event with the most bytes that
//! event may take; past that it reports end of input, the parser stops, and
//! the reader turns [`Budget::exceeded`] into a precise error. Memory per
//! reader is therefore bounded by the budget, whatever the input.

use std::io::{self, BufRead, Read};

/// `Read::read` for a `BufRead` whose buffer logic is its own (the readers'
/// adapters): copy what `fill_buf` offers, then `consume` it.
pub(crate) fn read_from_buffer<R: BufRead>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let available = reader.fill_buf()?;
    let n = available.len().min(buf.len());
    buf[..n].copy_from_slice(&available[..n]);
    reader.consume(n);
    Ok(n)
}

/// A `BufRead` that yields at most the armed number of bytes.
pub(crate) struct Budget<R> {
    inner: R,
    left: usize,
    exceeded: bool,
}

impl<R: BufRead> Budget<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            left: usize::MAX,
            exceeded: false,
        }
    }

    /// Allows the next event `max` bytes.
    pub fn arm(&mut self, max: usize) {
        self.left = max;
        self.exceeded = false;
    }

    /// True when the last event wanted more than its budget.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    pub fn inner(&self) -> &R {
        &self.inner
    }

    pub fn inner_mut(&mut self) -> &mut R {
        &mut self.inner
    }
}

impl<R: BufRead> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        crate::budget::read_from_buffer(self, buf)
    }
}

impl<R: BufRead> BufRead for Budget<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let left = self.left;
        let available = self.inner.fill_buf()?;
        if left == 0 && !available.is_empty() {
            self.exceeded = true;
        }
        Ok(&available[..available.len().min(left)])
    }

    fn consume(&mut self, amt: usize) {
        self.left = self.left.saturating_sub(amt);
        self.inner.consume(amt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_budget_and_says_so() {
        let mut b = Budget::new(io::Cursor::new(vec![b'x'; 100]));
        b.arm(30);
        let mut out = Vec::new();
        b.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 30);
        assert!(b.exceeded());
        b.arm(1000);
        out.clear();
        b.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 70);
        assert!(!b.exceeded());
    }
}
