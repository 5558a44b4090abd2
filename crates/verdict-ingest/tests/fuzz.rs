//! Fuzzing with proptest: the Octane payload validator, every report reader
//! and the entity query parser take mutated real inputs (the xmllint
//! conformance corpus, the framework-made fixtures, vendor query seeds) and
//! random bytes, and never panic; whatever they accept, they accept again
//! the same way. The normal suite runs proptest's default number of cases;
//! `.ci/run` runs this binary again with `PROPTEST_CASES` raised, bounded.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use proptest::prelude::*;
use verdict_domain::query::parse_query;
use verdict_ingest::reports::{AnyFormat, read_any};
use verdict_ingest::validate;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Small files under `dir` with one of `exts`, as seeds.
fn seeds(dir: &Path, exts: &[&str]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = path.to_string_lossy();
            if path.is_dir() {
                if !name.contains("node_modules") && !name.ends_with("project") {
                    stack.push(path);
                }
            } else if exts.iter().any(|e| name.ends_with(e))
                && !name.ends_with("expected.json")
                && entry.metadata().is_ok_and(|m| m.len() < 64 << 10)
            {
                out.push(std::fs::read(&path).unwrap());
            }
        }
    }
    out.sort();
    out
}

static PAYLOADS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    seeds(
        &repo().join("crates/verdict-ingest/tests/corpus"),
        &[".xml"],
    )
});
static REPORTS: LazyLock<Vec<Vec<u8>>> =
    LazyLock::new(|| seeds(&repo().join("fixtures"), &[".xml", ".json", ".trx"]));

const QUERIES: &[&str] = &[
    "\"name='*testOne123*'\"",
    "name EQ ^pipe^;ci_server EQ {id EQ ^1001^}",
    "id IN 1,2,3",
    "!executor EQ null",
    "(a EQ 1||b GT 2);c BTW 1...5",
    "started<'2026-01-01T00:00:00Z'",
    "release IN [current_release],1001;owner EQ [current_user]",
    "test EQ {parent EQ {name EQ ^x^}}",
];

/// One edit of a seed: overwrite, insert, delete or truncate at a position.
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to the grammars, and any byte.
    let byte = prop_oneof![
        prop::sample::select(b"<>/=\"'&;!?[]{}-:^,. \n\x00\xff\xc3".to_vec()),
        any::<u8>(),
    ];
    prop_oneof![
        (any::<usize>(), byte).prop_map(|(p, b)| Edit::Set(p, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(p, b)| Edit::Insert(p, b)),
        (any::<usize>(), 1_usize..64).prop_map(|(p, n)| Edit::Delete(p, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for e in edits {
        let len = out.len().max(1);
        match e {
            Edit::Set(p, b) => {
                if !out.is_empty() {
                    out[p % len] = *b;
                }
            }
            Edit::Insert(p, bytes) => {
                let at = p % (out.len() + 1);
                out.splice(at..at, bytes.iter().copied());
            }
            Edit::Delete(p, n) => {
                let at = p % len;
                let end = (at + n).min(out.len());
                if at < end {
                    out.drain(at..end);
                }
            }
            Edit::Truncate(p) => out.truncate(p % len),
        }
    }
    out
}

/// Everything a reader makes of `bytes` as `format`: events seen and the result.
fn read_report(bytes: &[u8], format: AnyFormat) -> (usize, Result<(), String>) {
    let mut events = 0;
    let result = read_any(bytes, format, |_| {
        events += 1;
        Ok(())
    })
    .map_err(|e| e.to_string());
    (events, result)
}

proptest! {
    #[test]
    fn the_payload_validator_never_panics_on_mutated_payloads(
        seed in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..8),
    ) {
        let input = apply(PAYLOADS[seed.index(PAYLOADS.len())].as_slice(), &edits);
        let first = validate(input.as_slice()).map_err(|e| e.to_string());
        let again = validate(input.as_slice()).map_err(|e| e.to_string());
        prop_assert_eq!(first, again);
    }

    #[test]
    fn the_payload_validator_never_panics_on_random_bytes(
        input in prop::collection::vec(any::<u8>(), 0..4096),
    ) {
        let _ = validate(input.as_slice());
    }

    #[test]
    fn report_readers_never_panic_on_mutated_reports(
        seed in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..8),
    ) {
        let original = REPORTS[seed.index(REPORTS.len())].as_slice();
        let input = apply(original, &edits);
        // The format of the unmutated seed, and whatever the mutant looks like.
        for format in [AnyFormat::detect(original), AnyFormat::detect(&input)].into_iter().flatten() {
            let first = read_report(&input, format);
            prop_assert_eq!(&first, &read_report(&input, format));
        }
    }

    #[test]
    fn report_readers_never_panic_on_random_bytes(
        seed in any::<prop::sample::Index>(),
        input in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        if let Some(format) = AnyFormat::detect(&REPORTS[seed.index(REPORTS.len())]) {
            let _ = read_report(&input, format);
        }
    }

    #[test]
    fn the_query_parser_never_panics_and_round_trips(
        seed in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 0..6),
    ) {
        let bytes = apply(QUERIES[seed.index(QUERIES.len())].as_bytes(), &edits);
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(expr) = parse_query(&text) {
            let canonical = expr.to_string();
            let again = parse_query(&canonical);
            prop_assert!(again.is_ok(), "{canonical} does not re-parse");
            prop_assert_eq!(again.unwrap().to_string(), canonical);
        }
    }
}

#[test]
fn seeds_are_there() {
    assert!(PAYLOADS.len() > 20, "payload corpus: {}", PAYLOADS.len());
    assert!(REPORTS.len() > 20, "report fixtures: {}", REPORTS.len());
}
