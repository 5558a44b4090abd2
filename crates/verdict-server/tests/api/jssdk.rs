//! The official JS SDK (`@microfocus/alm-octane-js-rest-sdk`, pinned in
//! `tests/jssdk/package.json`) drives Verdict: `tests/jssdk/run.mjs` creates,
//! reads, queries, updates and deletes entities, uploads and downloads
//! attachments, and pushes results. Needs Node.js and `npm ci` in that folder
//! (`.ci/run` does it); outside CI the test says so and skips.

use std::path::PathBuf;

use crate::harness::{ADMIN_PASSWORD, TestServer};
use crate::on_both_backends;

on_both_backends!(official_js_sdk_drives_every_operation);

fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/jssdk")
}

async fn official_js_sdk_drives_every_operation(s: TestServer) {
    let dir = sdk_dir();
    let node_ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node_ok
        || !dir
            .join("node_modules/@microfocus/alm-octane-js-rest-sdk")
            .exists()
    {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but Node.js or the JS SDK is missing: run `npm ci` in {}",
            dir.display()
        );
        eprintln!(
            "skipping the JS SDK test: needs node and `npm ci` in {}",
            dir.display()
        );
        return;
    }
    let output = tokio::process::Command::new("node")
        .arg("run.mjs")
        .current_dir(&dir)
        .env("VERDICT_URL", &s.url)
        .env("VERDICT_USER", "admin")
        .env("VERDICT_PASSWORD", ADMIN_PASSWORD)
        .env("VERDICT_SDK_LOG", "off")
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("not ok")).collect();
    assert!(
        output.status.success() && failed.is_empty(),
        "JS SDK steps failed:\n{}\n--- stderr ---\n{}",
        failed.join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.lines().any(|l| l.ends_with("passed, 0 failed")),
        "{stdout}"
    );
}
