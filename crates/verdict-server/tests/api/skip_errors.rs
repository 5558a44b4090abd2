//! Protocol §5.1: every row of the error table, with skip-errors false and
//! true — what is written, the final status, and `errorDetails`.

use serde_json::Value;
use verdict_store::NewRelease;

use crate::harness::{TestServer, WS};
use crate::on_both_backends;

on_both_backends!(each_row_of_the_error_table);

struct Row {
    name: &'static str,
    head: String,
    run: String,
    /// (status, runs written) with skip-errors=false, then true.
    strict: (&'static str, i64),
    lenient: (&'static str, i64),
    details: String,
}

async fn each_row_of_the_error_table(s: TestServer) {
    s.sign_in().await;
    let r1 = s
        .store
        .create_release(
            WS,
            &NewRelease {
                name: "R1".into(),
                ..NewRelease::default()
            },
        )
        .await
        .unwrap();
    let r2 = s
        .store
        .create_release(
            WS,
            &NewRelease {
                name: "R2".into(),
                ..NewRelease::default()
            },
        )
        .await
        .unwrap();
    let m2 = s.store.create_milestone(WS, "M2", Some(r2)).await.unwrap();
    let run = |inner: &str| {
        format!(r#"<test_run name="t" duration="1" status="Passed">{inner}</test_run>"#)
    };
    let rows = [
        Row {
            name: "global conflict",
            head: r#"<test_fields><test_field type="Framework" value="JUnit"/><test_field type="Framework" value="NUnit"/></test_fields>"#.into(),
            run: run(""),
            strict: ("failed", 0),
            lenient: ("warning", 1),
            details: "global: multiple values for single-valued field Framework".into(),
        },
        Row {
            name: "global link missing",
            head: r#"<program_ref id="999001"/>"#.into(),
            run: run(""),
            strict: ("failed", 0),
            lenient: ("warning", 1),
            details: "global: program_ref id 999001 not found".into(),
        },
        Row {
            name: "per-test release conflict",
            head: format!(r#"<release_ref id="{r1}"/>"#),
            run: run(&format!(r#"<release_ref id="{r2}"/>"#)),
            strict: ("failed", 0),
            lenient: ("warning", 1),
            details: format!("item 0: conflicting release: global {r1}, test {r2}"),
        },
        Row {
            name: "per-test single-valued field conflict",
            head: r#"<test_fields><test_field type="Test_Level" value="Unit Test"/></test_fields>"#.into(),
            run: run(r#"<test_fields><test_field type="Test_Level" value="System Test"/></test_fields>"#),
            strict: ("failed", 0),
            lenient: ("warning", 1),
            details: "item 0: conflicting Test_Level: global 'Unit Test', test 'System Test'".into(),
        },
        Row {
            name: "per-test link missing",
            head: String::new(),
            run: run(r#"<product_areas><product_area_ref id="999002"/></product_areas>"#),
            strict: ("failed", 0),
            lenient: ("warning", 1),
            details: "item 0: product_area_ref id 999002 not found".into(),
        },
        Row {
            name: "milestone not in release",
            head: format!(r#"<release_ref id="{r1}"/><milestone_ref id="{m2}"/>"#),
            run: run(""),
            strict: ("failed", 0),
            lenient: ("warning", 1),
            details: format!("item 0: milestone {m2} does not belong to release {r1}"),
        },
    ];
    let mut expected_runs = 0;
    for (i, row) in rows.iter().enumerate() {
        for (skip, (status, written)) in [(false, row.strict), (true, row.lenient)] {
            // A distinct test per row and mode, so counts add up.
            let xml = format!(
                "<test_result>{}<test_runs>{}</test_runs></test_result>",
                row.head,
                row.run
                    .replace(r#"name="t""#, &format!(r#"name="t{i}_{skip}""#))
            );
            let task = s.push_and_wait(&xml, skip).await;
            let suffix = if skip { " (ignored)" } else { "" };
            assert_eq!(task["status"], status, "{} skip={skip}: {task}", row.name);
            assert_eq!(
                task["errorDetails"],
                Value::String(format!("{}{suffix}", row.details)),
                "{} skip={skip}",
                row.name
            );
            expected_runs += written;
            assert_eq!(
                s.entities("runs?limit=1").await["total_count"],
                expected_runs,
                "{} skip={skip}",
                row.name
            );
        }
    }
}
