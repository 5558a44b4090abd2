//! Failure signatures (insight.md "Failure signatures"): two failures belong
//! to one failure group exactly when the error type, the first line of the
//! message with volatile values masked, and the top three stack frames that
//! are not test-framework frames are equal. Deterministic and stable across
//! releases: the hash is FNV-1a 64 over a documented text form, so stored
//! signatures stay valid after an upgrade.

use std::sync::LazyLock;

use regex::Regex;

/// How many non-framework frames take part.
pub const TOP_FRAMES: usize = 3;

/// Longest masked message kept (characters); longer first lines are cut.
const MAX_MESSAGE_CHARS: usize = 500;

/// What a failure's signature is made of, and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// FNV-1a 64 of `error_type \n message \n frame \n frame …`.
    pub hash: u64,
    pub error_type: String,
    /// The first message line with volatile values masked.
    pub message: String,
    /// Up to [`TOP_FRAMES`] masked, non-framework frames, innermost first.
    pub frames: Vec<String>,
}

impl Signature {
    /// The hash as stored (a signed 64-bit column holds the same bits).
    #[must_use]
    pub fn stored(&self) -> i64 {
        i64::from_ne_bytes(self.hash.to_ne_bytes())
    }
}

/// The hex form users see and pass back in URLs (16 digits).
#[must_use]
pub fn to_hex(stored: i64) -> String {
    format!("{:016x}", u64::from_ne_bytes(stored.to_ne_bytes()))
}

/// Parses the 16-digit hex form back into the stored value.
#[must_use]
pub fn from_hex(text: &str) -> Option<i64> {
    if text.len() != 16 {
        return None;
    }
    u64::from_str_radix(text, 16)
        .ok()
        .map(|v| i64::from_ne_bytes(v.to_ne_bytes()))
}

/// Computes the signature of one failure.
#[must_use]
pub fn signature(
    error_type: Option<&str>,
    message: Option<&str>,
    stack: Option<&str>,
) -> Signature {
    let stack = stack.unwrap_or("");
    let message = message.unwrap_or("");
    let first_line = first_message_line(message, stack);
    let error_type = match error_type.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => t.to_owned(),
        None => infer_type(&first_line, stack),
    };
    let masked = cut(&mask(strip_type_prefix(&first_line, &error_type)));
    let frames: Vec<String> = frames(stack)
        .into_iter()
        .filter(|f| !is_framework_frame(f))
        .take(TOP_FRAMES)
        .map(|f| mask_frame(&f))
        .collect();
    let mut text = String::with_capacity(error_type.len() + masked.len() + 64);
    text.push_str(&error_type);
    text.push('\n');
    text.push_str(&masked);
    for f in &frames {
        text.push('\n');
        text.push_str(f);
    }
    Signature {
        hash: fnv1a64(text.as_bytes()),
        error_type,
        message: masked,
        frames,
    }
}

fn cut(text: &str) -> String {
    text.chars().take(MAX_MESSAGE_CHARS).collect()
}

/// FNV-1a, 64 bits: tiny, dependency-free and stable by definition (also
/// the context key, `insight::context_key`).
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The first non-empty message line; without a message, the first stack
/// line that is not a frame (Java and Python put `Type: message` there).
fn first_message_line(message: &str, stack: &str) -> String {
    if let Some(line) = message.lines().map(str::trim).find(|l| !l.is_empty()) {
        // Rust: `thread 'name' panicked at src/lib.rs:4:9:` then the panic message.
        if line.contains(" panicked at ") {
            let text = if message.trim().contains('\n') {
                message
            } else {
                stack
            };
            let mut after = text
                .lines()
                .skip_while(|l| !l.contains(" panicked at "))
                .skip(1);
            if let Some(next) =
                after.find(|l| !l.trim().is_empty() && !l.starts_with("stack backtrace"))
            {
                return next.trim().to_owned();
            }
        }
        return line.to_owned();
    }
    let mut lines = stack.lines().map(str::trim).filter(|l| !l.is_empty());
    if stack.contains("Traceback (most recent call last)") {
        // CPython prints `Type: message` as the last line.
        return lines.next_back().unwrap_or("").to_owned();
    }
    lines
        .into_iter()
        .find(|l| parse_frame(l).is_none())
        .unwrap_or("")
        .to_owned()
}

/// `java.lang.IllegalStateException: boom` → `java.lang.IllegalStateException`.
static TYPE_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"^([A-Za-z_][\w.$]*(?:Error|Exception|Failure|Fault|Panic|Exit|Interrupt))\b:?")
});

fn infer_type(first_line: &str, stack: &str) -> String {
    if let Some(c) = TYPE_PREFIX.captures(first_line) {
        return c[1].to_owned();
    }
    // Python prints the exception last: `ValueError: bad` after the frames.
    for line in stack.lines().rev().map(str::trim) {
        if parse_frame(line).is_none()
            && let Some(c) = TYPE_PREFIX.captures(line)
        {
            return c[1].to_owned();
        }
    }
    // Rust and Go panics carry no class.
    if stack.contains("panicked at") || first_line.contains("panicked at") {
        return "panic".to_owned();
    }
    if stack.contains("goroutine ") && stack.contains("panic(") {
        return "panic".to_owned();
    }
    String::new()
}

/// The message without a leading `Type:` the type already says.
fn strip_type_prefix<'a>(line: &'a str, error_type: &str) -> &'a str {
    if !error_type.is_empty()
        && let Some(rest) = line.strip_prefix(error_type)
    {
        let rest = rest.strip_prefix(':').unwrap_or(rest);
        return rest.trim_start();
    }
    line
}

#[allow(clippy::expect_used)] // constant patterns, compiled by the unit tests
fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid constant pattern")
}

/// The masking steps, in order: later ones must not see what earlier ones
/// replaced (a UUID is not five numbers).
static MASKS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    vec![
        // quoted values first: what is inside them is data, not shape
        (compile(r#""[^"]*""#), "\"<v>\""),
        (compile(r"(^|[^\w])'[^']*'"), "${1}'<v>'"),
        (compile(r"`[^`]*`"), "`<v>`"),
        (
            compile(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
            "<uuid>",
        ),
        (
            compile(
                r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?",
            ),
            "<ts>",
        ),
        (compile(r"\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<ts>"),
        (compile(r"(?i)\b0x[0-9a-f]+\b"), "<hex>"),
        // Java's Object@1b6d3586 and long hex ids (hashes, object ids)
        (compile(r"(?i)@[0-9a-f]{4,}\b"), "@<hex>"),
        // paths: keep the last segment (a file name says where, a directory says whose machine)
        (compile(r"(?:[A-Za-z]:)?(?:[\w.~-]*[/\\])+([\w.-]+)"), "$1"),
        // numbers with optional fraction, exponent and unit (3000ms, 1.5s, 10KB, 1e-3)
        (
            compile(r"(^|[^\w.])[-+]?\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?[A-Za-zµ]{0,3}\b"),
            "${1}<n>",
        ),
    ]
});

/// Hex words of six or more digits with both letters and digits (hashes,
/// object ids); all-digit ones are numbers, all-letter ones are words.
static HEX_WORD: LazyLock<Regex> = LazyLock::new(|| compile(r"\b[0-9a-fA-F]{6,}\b"));

/// Where in [`MASKS`] the hex-word step runs (before paths and numbers).
const HEX_WORDS_BEFORE: usize = 8;

/// Masks the volatile values of a message or a frame.
#[must_use]
pub fn mask(text: &str) -> String {
    let mut out = text.to_owned();
    for (index, (re, with)) in MASKS.iter().enumerate() {
        if index == HEX_WORDS_BEFORE {
            out = HEX_WORD
                .replace_all(&out, |c: &regex::Captures<'_>| {
                    let word = &c[0];
                    let digits = word.bytes().any(|b| b.is_ascii_digit());
                    let letters = word.bytes().any(|b| b.is_ascii_alphabetic());
                    if digits && letters {
                        "<hex>".to_owned()
                    } else {
                        word.to_owned()
                    }
                })
                .into_owned();
        }
        if re.is_match(&out) {
            out = re.replace_all(&out, *with).into_owned();
        }
    }
    out
}

/// A frame keeps its function; line and column numbers go (they move with
/// every unrelated edit), and so do paths but the file name.
fn mask_frame(frame: &str) -> String {
    static LINE_NO: LazyLock<Regex> =
        LazyLock::new(|| compile(r":\d+(?::\d+)?|, line \d+|:line \d+| \+0x[0-9a-f]+"));
    mask(&LINE_NO.replace_all(frame, ""))
}

/// The stack's frames, innermost first, in their raw text (`at …` removed).
#[must_use]
pub fn frames(stack: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut python_order = false;
    let mut lines = stack.lines().peekable();
    while let Some(raw) = lines.next() {
        let line = raw.trim();
        if line.starts_with("Caused by:") || line.starts_with("During handling of") {
            // only the outermost exception's own frames
            break;
        }
        if line.starts_with("Traceback (most recent call last)") {
            python_order = true;
            continue;
        }
        if let Some(frame) = parse_frame(line) {
            if frame.python {
                python_order = true;
            }
            let mut text = frame.text;
            // Go prints the function, then its file on the next (indented)
            // line; Rust's backtrace puts `at file:line` under each frame.
            if let Some(next) = lines.peek() {
                if frame.go_function && next.starts_with('\t') {
                    text = format!("{text} {}", next.trim());
                    lines.next();
                } else if frame.numbered && next.trim_start().starts_with("at ") {
                    lines.next();
                } else if frame.source_follows && !next.trim_start().starts_with("File ") {
                    // CPython prints the frame's source line under it
                    lines.next();
                }
            }
            found.push(text);
        }
    }
    if python_order {
        found.reverse();
    }
    found
}

struct Frame {
    text: String,
    /// Python lists frames outermost first.
    python: bool,
    go_function: bool,
    /// Rust's `  3: crate::function`.
    numbered: bool,
    /// A CPython `File "…", line N, in f` (its source line comes next).
    source_follows: bool,
}

static PY_FRAME: LazyLock<Regex> =
    LazyLock::new(|| compile(r#"^File "([^"]+)", line \d+, in (.+)$"#));
static PYTEST_FRAME: LazyLock<Regex> = LazyLock::new(|| compile(r"^(\S+\.py):\d+: \S+"));
static RUST_FRAME: LazyLock<Regex> = LazyLock::new(|| compile(r"^\d+: (.+)$"));
static GO_FRAME: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^(?:[\w.~-]+/)*[\w~-]+(?:\.[\w()*\[\]-]+)+\(.*\)$"));

fn parse_frame(line: &str) -> Option<Frame> {
    let plain = |text: &str| Frame {
        text: text.to_owned(),
        python: false,
        go_function: false,
        numbered: false,
        source_follows: false,
    };
    if let Some(rest) = line.strip_prefix("at ") {
        // Java, JavaScript and .NET: `at pkg.Class.method(File.java:12)`,
        // `at fn (file.js:1:2)`, `at Ns.Class.Method() in /src/File.cs:line 12`
        return Some(plain(rest.trim()));
    }
    if let Some(c) = PY_FRAME.captures(line) {
        return Some(Frame {
            text: format!("{} in {}", &c[1], &c[2]),
            python: true,
            go_function: false,
            numbered: false,
            source_follows: true,
        });
    }
    if let Some(c) = PYTEST_FRAME.captures(line) {
        return Some(Frame {
            text: c[1].to_owned(),
            python: true,
            go_function: false,
            numbered: false,
            source_follows: false,
        });
    }
    if let Some(c) = RUST_FRAME.captures(line) {
        return Some(Frame {
            numbered: true,
            ..plain(&c[1])
        });
    }
    if GO_FRAME.is_match(line) {
        return Some(Frame {
            text: line.to_owned(),
            python: false,
            go_function: true,
            numbered: false,
            source_follows: false,
        });
    }
    None
}

/// Frames of the test framework and runtime: they say how the test ran, not
/// where it broke (insight.md lists them per language).
const FRAMEWORK_PREFIXES: &[&str] = &[
    // JUnit, TestNG, Surefire, Gradle
    "org.junit.",
    "junit.framework.",
    "org.testng.",
    "org.apache.maven.",
    "org.gradle.",
    // reflection and the JDK's own plumbing
    "sun.reflect.",
    "java.lang.reflect.",
    "jdk.internal.",
    // Node
    "node:internal",
    "process.processTicksAndRejections",
    "processTicksAndRejections",
    "new Promise",
    // Go
    "testing.tRunner",
    "testing.(*T)",
    "runtime.",
    "runtime/",
    "panic(",
    "created by testing.",
    // Rust
    "core::panicking",
    "std::panicking",
    "core::ops::function",
    "std::rt::",
    "test::",
    "__rust_begin_short_backtrace",
    "rust_begin_unwind",
    "std::sys",
    "<unknown>",
    "__rustc::",
    // .NET
    "NUnit.Framework.",
    "Xunit.",
    "System.Runtime.",
    "System.RuntimeMethodHandle.",
    "System.Reflection.",
    "(wrapper ",
];

/// Path parts that mark a framework frame anywhere in it.
const FRAMEWORK_PARTS: &[&str] = &[
    "(node:",
    "_pytest/",
    "_pytest\\",
    "pluggy/",
    "unittest/",
    "node_modules/",
    "node_modules\\",
    "/testing/testing.go",
    "/src/runtime/",
];

fn is_framework_frame(frame: &str) -> bool {
    // Java 9+ prefixes a module: `java.base/jdk.internal.reflect…`, `app//…`.
    static MODULE: LazyLock<Regex> =
        LazyLock::new(|| compile(r"^[A-Za-z][\w.$-]*(?:@[\w.-]+)?//?"));
    let bare = MODULE.find(frame).map_or(frame, |m| &frame[m.end()..]);
    FRAMEWORK_PREFIXES
        .iter()
        .any(|p| frame.starts_with(p) || bare.starts_with(p))
        || FRAMEWORK_PARTS.iter().any(|p| frame.contains(p))
}

#[cfg(test)]
mod tests;
