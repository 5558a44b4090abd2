//! Unit tests of the payload reader: values produced, errors and their positions.

mod errors;
mod parsing;

use std::io::{BufReader, Cursor};

use verdict_domain::payload::{GherkinRun, Item, PayloadHeader, TestRun};

use super::{PayloadError, PayloadReader};

/// Header and items of `xml`, or the first error.
fn read(xml: &[u8]) -> Result<(PayloadHeader, Vec<Item>), PayloadError> {
    read_with_capacity(xml, 8 * 1024)
}

/// As [`read`], through a `BufReader` of the given capacity (tiny capacities
/// split names, references and UTF-8 sequences across reads).
fn read_with_capacity(
    xml: &[u8],
    capacity: usize,
) -> Result<(PayloadHeader, Vec<Item>), PayloadError> {
    let mut reader = PayloadReader::new(BufReader::with_capacity(capacity, Cursor::new(xml)))?;
    let mut items = Vec::new();
    while let Some(item) = reader.next_item()? {
        items.push(item);
    }
    Ok((reader.header().clone(), items))
}

fn test_runs(xml: &str) -> Vec<TestRun> {
    let (_, items) = read(xml.as_bytes()).unwrap();
    items
        .into_iter()
        .map(|item| match item {
            Item::Test(run) => *run,
            Item::Gherkin(_) => panic!("expected test_run"),
        })
        .collect()
}

fn gherkin_runs(xml: &str) -> Vec<GherkinRun> {
    let (_, items) = read(xml.as_bytes()).unwrap();
    items
        .into_iter()
        .map(|item| match item {
            Item::Gherkin(run) => *run,
            Item::Test(_) => panic!("expected gherkin_test_run"),
        })
        .collect()
}

/// The error `xml` produces, as displayed.
fn error(xml: &str) -> String {
    read(xml.as_bytes()).unwrap_err().to_string()
}

/// Wraps items in `<test_result><test_runs>`.
fn doc(items: &str) -> String {
    format!("<test_result><test_runs>{items}</test_runs></test_result>")
}
