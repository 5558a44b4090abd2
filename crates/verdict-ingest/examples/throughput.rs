//! Measures validate+parse throughput on a generated payload of simple
//! `test_run` items: `cargo run --release --example throughput -- [ITEMS]`.
//! The payload is generated in memory and read through `std::io::Cursor`, so
//! the figure is the reader's own speed, without disk or network.

use std::io::Cursor;
use std::time::Instant;

use verdict_ingest::PayloadReader;

fn payload(items: usize) -> Vec<u8> {
    let mut xml = String::with_capacity(items * 160 + 200);
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<test_result>\n  <build server_id=\"srv\" job_id=\"job\" build_id=\"42\"/>\n  <test_runs>\n");
    for i in 0..items {
        xml.push_str(&format!(
            "    <test_run module=\"/helloWorld\" package=\"hello\" class=\"HelloWorldTest\" name=\"test{i}\" duration=\"3\" status=\"Passed\" started=\"1430919295889\"/>\n"
        ));
    }
    xml.push_str("  </test_runs>\n</test_result>\n");
    xml.into_bytes()
}

fn main() -> Result<(), verdict_ingest::PayloadError> {
    let items: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let bytes = payload(items);
    for round in 1..=3 {
        let started = Instant::now();
        let mut reader = PayloadReader::new(Cursor::new(&bytes))?;
        let mut count = 0u64;
        let mut names = 0usize;
        while let Some(item) = reader.next_item()? {
            if let verdict_domain::payload::Item::Test(run) = item {
                names += run.name.len();
            }
            count += 1;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "round {round}: {count} items, {:.1} MB in {secs:.3} s = {:.0} items/s, {:.0} MB/s (checksum {names})",
            bytes.len() as f64 / 1e6,
            count as f64 / secs,
            bytes.len() as f64 / 1e6 / secs
        );
    }
    Ok(())
}
