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

/// Escapes an attribute value (newlines and tabs kept as character references
/// so the parser's attribute normalisation does not turn them into spaces).
pub fn attribute(value: &str, out: &mut String) {
    if !value
        .bytes()
        .any(|b| b < 0x20 || matches!(b, b'&' | b'<' | b'>' | b'"' | 0xef))
    {
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
    if !value
        .bytes()
        .any(|b| (b < 0x20 && b != b'\n' && b != b'\t') || matches!(b, b'&' | b'<' | b'>' | 0xef))
    {
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
    match value.char_indices().nth(max) {
        Some((at, _)) => &value[..at],
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
