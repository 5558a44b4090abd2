//! Validates Octane test-results files: `cargo run --example validate -- FILE...`.
//! Prints `valid (N items)` or the error for each file; exits 1 if any is invalid.

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut ok = true;
    for path in std::env::args().skip(1) {
        let result = File::open(&path).map_err(|e| e.to_string()).and_then(|f| {
            verdict_ingest::validate(BufReader::new(f)).map_err(|e| format!("{:?}: {e}", e.kind))
        });
        match result {
            Ok(n) => println!("{path}: valid ({n} items)"),
            Err(e) => {
                ok = false;
                println!("{path}: {e}");
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
