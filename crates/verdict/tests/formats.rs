//! Every well-formed report fixture of every supported format (the readers'
//! own fixtures in `crates/verdict-ingest/tests/reports*/`) converts with
//! `verdict convert` to a payload that Verdict's validator and `xmllint`
//! with the served XSD both accept; malformed ones fail naming file and line.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

fn fixtures() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../verdict-ingest/tests");
    let mut out = Vec::new();
    for dir in ["reports", "reports_json"] {
        for entry in std::fs::read_dir(root.join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = entry.path();
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default();
            if matches!(ext, "xml" | "json" | "trx" | "jsonl" | "txt") {
                out.push(path);
            }
        }
    }
    // The corpus made by the real frameworks (fixtures/*/reports).
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    for framework in std::fs::read_dir(&corpus).into_iter().flatten().flatten() {
        walk(&framework.path().join("reports"), &mut out);
    }
    out.sort();
    out
}

fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn every_fixture_converts_to_a_valid_payload() {
    let work = tempfile::tempdir().unwrap();
    let xsd = work.path().join("schema.xsd");
    std::fs::write(&xsd, verdict_ingest::OCTANE_XSD).unwrap();
    let xmllint = Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !xmllint {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but xmllint is missing (apt-get install libxml2-utils)"
        );
        eprintln!("xmllint missing: checking with Verdict's validator only");
    }
    let (mut converted, mut refused) = (0, 0);
    for file in fixtures() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let out = work.path().join(format!("{name}.payload.xml"));
        let result = Command::new(env!("CARGO_BIN_EXE_verdict"))
            .arg("convert")
            .arg(&file)
            .arg("-o")
            .arg(&out)
            .arg("--started")
            .arg("1700000000000")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&result.stderr).into_owned();
        let empty = std::fs::metadata(&file).unwrap().len() == 0;
        if empty {
            assert!(
                !result.status.success() && said.contains("is empty"),
                "{name}: {said}"
            );
            continue;
        }
        if name.starts_with("malformed") {
            assert!(!result.status.success(), "{name} should be refused");
            assert!(
                said.contains(&name)
                    && (said.contains("line") || said.contains("not a supported report")),
                "{name}: {said}"
            );
            refused += 1;
            continue;
        }
        assert!(result.status.success(), "{name}: {said}");
        let payload = std::fs::read(&out).unwrap();
        verdict_ingest::validate(&payload[..]).unwrap_or_else(|e| panic!("{name}: {e}"));
        if xmllint {
            let check = Command::new("xmllint")
                .arg("--noout")
                .arg("--schema")
                .arg(&xsd)
                .arg(&out)
                .output()
                .unwrap();
            assert!(
                check.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
        converted += 1;
    }
    assert!(
        converted >= 8 && refused >= 5,
        "converted {converted}, refused {refused}"
    );
}
