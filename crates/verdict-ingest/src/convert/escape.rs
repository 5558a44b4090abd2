//! XML text and attribute escaping for payload output, and the length limits
//! of the payload schema (names are 1..255 characters).

/// Characters XML 1.0 cannot carry at all are replaced by U+FFFD.
fn legal(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => c,
        c if (c as u32) < 0x20 => '\u{fffd}',
        '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
        c => c,
    }
}

/// The bytes that may need work in an attribute value: controls, markup
/// characters, and 0xEF, which starts the UTF-8 of U+FFFE and U+FFFF.
const ATTRIBUTE_SPECIAL: [bool; 256] = special(b"&<>\"\xef", true);

/// The same for element text, where newlines and tabs stay as they are.
const TEXT_SPECIAL: [bool; 256] = special(b"&<>\xef", false);

/// A table of `markup` and the control characters (other than tab and newline,
/// unless `escape_tab_and_newline`).
const fn special(markup: &[u8], escape_tab_and_newline: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = escape_tab_and_newline || (b != b'\n' as usize && b != b'\t' as usize);
        b += 1;
    }
    let mut i = 0;
    while i < markup.len() {
        table[markup[i] as usize] = true;
        i += 1;
    }
    table
}

/// Escapes an attribute value (newlines and tabs kept as character references
/// so the parser's attribute normalisation does not turn them into spaces).
pub fn attribute(value: &str, out: &mut String) {
    if !value.bytes().any(|b| ATTRIBUTE_SPECIAL[usize::from(b)]) {
        out.push_str(value);
        return;
    }
    for c in value.chars().map(legal) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

/// Escapes element text.
pub fn text(value: &str, out: &mut String) {
    if !value.bytes().any(|b| TEXT_SPECIAL[usize::from(b)]) {
        out.push_str(value);
        return;
    }
    for c in value.chars().map(legal) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// At most `max` characters (the schema counts characters, not bytes).
#[must_use]
pub fn clip(value: &str, max: usize) -> &str {
    // A string has at most as many characters as bytes.
    if value.len() <= max {
        return value;
    }
    match value.char_indices().nth(max) {
        Some((at, _)) => &value[..at],
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_bytes_are_the_documented_ones() {
        for b in 0..=255_u8 {
            let attr = b < 0x20 || matches!(b, b'&' | b'<' | b'>' | b'"' | 0xef);
            assert_eq!(ATTRIBUTE_SPECIAL[usize::from(b)], attr, "{b}");
            let text =
                (b < 0x20 && b != b'\n' && b != b'\t') || matches!(b, b'&' | b'<' | b'>' | 0xef);
            assert_eq!(TEXT_SPECIAL[usize::from(b)], text, "{b}");
        }
    }

    #[test]
    fn escapes_and_clips() {
        let mut s = String::new();
        attribute("a<b>&\"c\"\nd\u{1}", &mut s);
        assert_eq!(s, "a&lt;b&gt;&amp;&quot;c&quot;&#10;d\u{fffd}");
        let mut t = String::new();
        text("x < y && z\r\n", &mut t);
        assert_eq!(t, "x &lt; y &amp;&amp; z&#13;\n");
        assert_eq!(clip("héllo", 2), "hé");
        assert_eq!(clip("hi", 5), "hi");
    }
}
