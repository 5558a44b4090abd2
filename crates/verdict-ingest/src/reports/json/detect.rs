//! Detection of the JSON report formats from content.
//!
//! Owns [`detect_json_format`]: uploads arrive with arbitrary file names, and
//! all three formats are plain `.json` (or `.jsonl`) files, so the format is
//! told from the keys in the first bytes. A small scanner walks the head
//! without parsing values, which also works on a head cut mid-document.

use super::JsonFormat;

/// Detects the JSON report format from the first bytes of a document:
///
/// | content | format |
/// |---|---|
/// | a top-level array whose first object has `elements`, `uri` or `keyword` | [`JsonFormat::Cucumber`] |
/// | a top-level object whose `results` object has `tool` or `tests` | [`JsonFormat::Ctrf`] |
/// | a first object (line) with `Action` and one of `Package`, `Test`, `Time`, `ImportPath` | [`JsonFormat::GoTest`] |
///
/// Skips a UTF-8 byte order mark and whitespace. Returns `None` for anything
/// else, including an empty array (Cucumber writes `[]` when nothing ran,
/// but so might anything) and a `head` that ends before the deciding key; a
/// few KiB are enough for real reports (a Cucumber feature with a long
/// description before `elements` may need more, `uri` and `keyword` usually
/// come first in cucumber-jvm output).
pub fn detect_json_format(head: &[u8]) -> Option<JsonFormat> {
    let head = head.strip_prefix(super::BOM).unwrap_or(head);
    let doc = head.trim_ascii_start();
    match doc.first()? {
        b'[' => {
            let found = scan_keys(doc, |stack, key| {
                stack.len() == 2
                    && !stack[0].object
                    && matches!(key, b"elements" | b"uri" | b"keyword")
            });
            found.then_some(JsonFormat::Cucumber)
        }
        b'{' => {
            let (mut action, mut go_key) = (false, false);
            let found = scan_keys(doc, |stack, key| {
                if stack.len() == 1 {
                    action |= key == b"Action";
                    go_key |= matches!(key, b"Package" | b"Test" | b"Time" | b"ImportPath");
                    return action && go_key;
                }
                stack.len() == 2
                    && stack[1].name == Some(b"results".as_slice())
                    && matches!(key, b"tool" | b"tests")
            });
            match (found, action) {
                (true, true) => Some(JsonFormat::GoTest),
                (true, false) => Some(JsonFormat::Ctrf),
                (false, _) => None,
            }
        }
        _ => after_go_text(doc),
    }
}

/// Go before 1.20 writes a build failure as a text line (`FAIL\tpkg [build
/// failed]`) into `go test -json` output, so such a file may start with
/// text: it is `go test -json` when the first JSON line is.
fn after_go_text(doc: &[u8]) -> Option<JsonFormat> {
    let mut rest = doc;
    while let Some(line_end) = rest.iter().position(|&b| b == b'\n') {
        let line = &rest[..line_end];
        let go_text = ["FAIL", "ok ", "?   ", "#", "PASS"]
            .iter()
            .any(|p| line.starts_with(p.as_bytes()));
        if !go_text {
            return None;
        }
        rest = rest[line_end + 1..].trim_ascii_start();
        if rest.first() == Some(&b'{') {
            return (detect_json_format(rest) == Some(JsonFormat::GoTest))
                .then_some(JsonFormat::GoTest);
        }
    }
    None
}

/// An open object or array while scanning.
struct Frame<'a> {
    /// `true` for an object, `false` for an array.
    object: bool,
    /// The key this container is the value of, when its parent is an object.
    name: Option<&'a [u8]>,
    /// Inside an object: whether the next string is a key.
    expect_key: bool,
}

/// Calls `on_key` with the open containers (outermost first) and the raw
/// bytes of each object key until it returns `true`. Returns `false` when
/// the first top-level value ends, or `doc` ends or turns out not to be
/// JSON, before that.
fn scan_keys<'a>(doc: &'a [u8], mut on_key: impl FnMut(&[Frame<'a>], &[u8]) -> bool) -> bool {
    let mut stack: Vec<Frame<'a>> = Vec::new();
    let mut last_key: Option<&'a [u8]> = None;
    let mut at = 0;
    while let Some(&byte) = doc.get(at) {
        match byte {
            b'"' => {
                let Some(end) = string_end(doc, at + 1) else {
                    return false;
                };
                let text = &doc[at + 1..end];
                if let Some(top) = stack.last_mut()
                    && top.object
                    && top.expect_key
                {
                    top.expect_key = false;
                    if on_key(&stack, text) {
                        return true;
                    }
                    last_key = Some(text);
                }
                at = end;
            }
            b'{' | b'[' => {
                let in_object = stack.last().is_some_and(|f| f.object);
                let name = if in_object { last_key.take() } else { None };
                let object = byte == b'{';
                stack.push(Frame {
                    object,
                    name,
                    expect_key: object,
                });
            }
            b'}' | b']' => {
                stack.pop();
                if stack.is_empty() {
                    return false;
                }
            }
            b',' => {
                if let Some(top) = stack.last_mut() {
                    top.expect_key = top.object;
                }
            }
            _ => {}
        }
        at += 1;
    }
    false
}

/// The index of the quote closing the string whose text starts at `from`.
fn string_end(doc: &[u8], mut from: usize) -> Option<usize> {
    loop {
        match doc.get(from)? {
            b'"' => return Some(from),
            b'\\' => from += 2,
            _ => from += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_must_sit_at_the_right_depth() {
        let ctrf = Some(JsonFormat::Ctrf);
        assert_eq!(detect_json_format(br#"{"results":{"tool":{}}}"#), ctrf);
        assert_eq!(
            detect_json_format(br#"{"x":{"tool":1},"results":{"a\"b":[1],"tests":[]"#),
            ctrf
        );
        assert_eq!(
            detect_json_format(br#"{"other":{"results":{"tool":{}}}}"#),
            None
        );
        assert_eq!(detect_json_format(br#"{"results":[{"tool":{}}]}"#), None);
        assert_eq!(detect_json_format(br#"[{"x":{"uri":""}}]"#), None);
        assert_eq!(detect_json_format(br#"[{"x":"uri","y":1}]"#), None);
        assert_eq!(detect_json_format(br#"{"Action":"run"}"#), None);
        assert_eq!(
            detect_json_format(br#"{"Action":"run","Test""#),
            Some(JsonFormat::GoTest)
        );
        assert_eq!(detect_json_format(br#"{"a":{"Action":1,"Test":2}}"#), None);
        assert_eq!(detect_json_format(b"[]"), None);
        assert_eq!(detect_json_format(b""), None);
        assert_eq!(detect_json_format(br#"{"results":{"too"#), None);
    }
}
