//! Gzip bombs cost a bounded amount of memory: a 3 MB body that inflates
//! to a 3 GiB XML comment, or to 3 GiB of zeros, is refused while the
//! server's peak memory grows by a few MB (it allocated 2 GB before every
//! buffer of the XML reader was bounded). Measured from `/proc/<pid>/status`
//! of a real `verdict serve`; a bound on memory, not a timing assertion.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

/// Peak growth allowed while a bomb is refused.
const MAX_GROWTH_MIB: u64 = 64;

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// `head`, then `mib` MiB of `fill`, then `tail`, as concatenated gzip
/// members (one compressed MiB repeated: cheap to build, 3 GiB inflated).
fn bomb(head: &str, fill: u8, mib: usize, tail: &str) -> Vec<u8> {
    let one = gzip(&vec![fill; 1 << 20]);
    let mut body = gzip(head.as_bytes());
    for _ in 0..mib {
        body.extend_from_slice(&one);
    }
    body.extend_from_slice(&gzip(tail.as_bytes()));
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bombs_are_refused_in_bounded_memory() {
    let server = support::Server::spawn(support::Backend::Sqlite, "bomb").await;
    let url = server.url.clone();
    let client = reqwest::Client::new();
    let push = format!("{url}/api/shared_spaces/1001/workspaces/1002/test-results");
    // Warm up (first request, allocator arenas) before the baseline.
    let r = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert!(r.status().is_success());
    let before = peak_rss_kib(server.pid());
    let cases = [
        (
            "comment",
            bomb(
                "<?xml version=\"1.0\"?>\n<!--",
                b'a',
                3072,
                "-->\n<test_result/>",
            ),
        ),
        (
            "zeros",
            bomb(
                "<?xml version=\"1.0\"?>\n<test_result>",
                0,
                3072,
                "</test_result>",
            ),
        ),
        (
            "text",
            bomb(
                "<test_result><test_runs>",
                b'x',
                3072,
                "</test_runs></test_result>",
            ),
        ),
    ];
    for (name, body) in cases {
        assert!(body.len() < 8 << 20, "{name}: {} bytes", body.len());
        let r = client
            .post(&push)
            .basic_auth("admin", Some(support::PASSWORD))
            .header("Content-Type", "application/xml")
            .header("Content-Encoding", "gzip")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status == 400 || status == 413, "{name}: {status} {text}");
        let grown_mib = (peak_rss_kib(server.pid()).saturating_sub(before)) / 1024;
        assert!(
            grown_mib < MAX_GROWTH_MIB,
            "{name}: peak memory grew by {grown_mib} MiB ({text})"
        );
    }
}
