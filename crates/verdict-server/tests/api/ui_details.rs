//! What the test, result-set and failure-group pages show beyond outcomes:
//! each failure's message and stack trace (the newest from the run, older
//! ones from its previous runs), the files a failure left shown inline, the
//! test's links, the run list's filters and a group's failures per day —
//! through the API and the pages alike.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::Value;
use verdict_store::NamedTable;

use crate::browser::PIXEL as PIXEL_PNG;
use crate::harness::{ADMIN_PASSWORD, SP, TestServer, WS};
use crate::on_both_backends;
use crate::ui::{browser, page, sign_in};

on_both_backends!(
    a_test_page_shows_every_failure_with_its_message_stack_links_and_files,
    the_run_list_filters_by_text_label_and_field,
);

fn vapi(path: &str) -> String {
    format!("/verdict/api/shared_spaces/{SP}/workspaces/{WS}/{path}")
}

/// A failed run of `name` with a message and a stack trace of `frames` lines.
fn failed(name: &str, started: i64, message: &str, frames: usize, extra: &str) -> String {
    let stack: Vec<String> = (0..frames)
        .map(|i| format!("\tat shop.Checkout.step{i}(Checkout.java:{i})"))
        .collect();
    format!(
        r#"<test_run package="shop" class="Checkout" name="{name}" duration="7" status="Failed" started="{started}">{extra}<error type="java.lang.AssertionError" message="{message}">java.lang.AssertionError: {message}
{}</error></test_run>"#,
        stack.join("\n")
    )
}

fn payload(runs: &[String]) -> String {
    format!(
        "<test_result><test_runs>{}</test_runs></test_result>",
        runs.join("")
    )
}

async fn a_test_page_shows_every_failure_with_its_message_stack_links_and_files(s: TestServer) {
    s.sign_in().await;
    let story_item = s
        .store
        .create_named(WS, NamedTable::WorkItem("story"), "Pay by card")
        .await
        .unwrap();
    let module = s
        .store
        .create_named(WS, NamedTable::ApplicationModule, "Payments")
        .await
        .unwrap();
    let links = format!(
        r#"<backlog_items><backlog_item_ref id="{story_item}"/></backlog_items><product_areas><product_area_ref id="{module}"/></product_areas>"#
    );
    let now = verdict_store::now_ms();
    for (i, message) in ["expected 200 but was 500", "timed out after 30 s"]
        .iter()
        .enumerate()
    {
        let xml = payload(&[failed(
            "pays",
            now - 5_000 + i as i64 * 1_000,
            message,
            30,
            &links,
        )]);
        assert_eq!(s.push_and_wait(&xml, false).await["status"], "success");
    }
    // a screenshot attached to the run (as a plugin uploads it)
    let runs = s.entities("runs").await;
    let run_id = runs["data"][0]["id"].as_str().unwrap().to_owned();
    let up = s
        .client
        .post(s.ws(&format!("attachments?name=failure.png&owner_run={run_id}")))
        .header("Content-Type", "application/octet-stream")
        .body(PIXEL_PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert!(up.status().is_success(), "{}", up.status());
    let attachment: Value = up.json().await.unwrap();
    let attachment_id = attachment["data"][0]["id"]
        .as_str()
        .or_else(|| attachment["id"].as_str())
        .unwrap()
        .to_owned();

    let tests = s.entities("tests").await;
    let test_id = tests["data"][0]["id"].as_str().unwrap().to_owned();
    let story = s
        .get_json(&format!(
            "{}{}",
            s.url,
            vapi(&format!("tests/{test_id}/story"))
        ))
        .await;
    let failures = &story["contexts"][0]["failures"];
    assert_eq!(failures.as_array().unwrap().len(), 2, "{story}");
    // newest first: the run's own values, then the archived previous run's
    assert_eq!(failures[0]["message"], "timed out after 30 s");
    assert_eq!(failures[1]["message"], "expected 200 but was 500");
    assert_eq!(failures[0]["error_type"], "java.lang.AssertionError");
    let stack = failures[1]["stack"].as_str().unwrap();
    assert!(stack.contains("step29(Checkout.java:29)"), "{stack}");
    assert_eq!(failures[0]["files"][0]["kind"], "run_attachment");
    assert_eq!(failures[0]["files"][0]["id"], attachment_id.as_str());
    assert_eq!(
        failures[1]["files"],
        serde_json::json!([]),
        "files belong to the newest execution"
    );
    assert_eq!(story["links"]["backlog_items"][0]["name"], "Pay by card");
    assert_eq!(story["links"]["backlog_items"][0]["kind"], "story");
    assert_eq!(story["links"]["application_modules"][0]["name"], "Payments");
    // fewer or more failures on request, within bounds
    let one = s
        .get_json(&format!(
            "{}{}",
            s.url,
            vapi(&format!("tests/{test_id}/story?failures=1"))
        ))
        .await;
    assert_eq!(one["contexts"][0]["failures"].as_array().unwrap().len(), 1);
    let r = s
        .client
        .get(format!(
            "{}{}",
            s.url,
            vapi(&format!("tests/{test_id}/story?failures=51"))
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let b = browser();
    assert_eq!(
        sign_in(&s, &b, "admin", ADMIN_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let html = page(&s, &b, &format!("/ui/{SP}/{WS}/tests/{test_id}")).await;
    for expected in [
        "timed out after 30 s",
        "expected 200 but was 500",
        "Pay by card",
        "Payments",
        // 31 lines of stack: 20 shown, the rest folded
        "<details><summary>11 more lines</summary>",
        &format!("src=\"/ui/{SP}/{WS}/attachments/{attachment_id}\""),
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }
    let fewer = page(&s, &b, &format!("/ui/{SP}/{WS}/tests/{test_id}?failures=1")).await;
    assert!(
        fewer.contains("1 older failure in this context is not shown")
            && fewer.contains("?failures=50"),
        "{fewer}"
    );
    // the screenshot is served inline as an image, through the workspace
    let shot = b
        .get(format!(
            "{}/ui/{SP}/{WS}/attachments/{attachment_id}",
            s.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(shot.status(), StatusCode::OK);
    assert_eq!(shot.headers()[CONTENT_TYPE], "image/png");
    assert!(
        shot.headers()[CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    assert_eq!(shot.bytes().await.unwrap().as_ref(), PIXEL_PNG.as_slice());
    let missing = b
        .get(format!("{}/ui/{SP}/{WS}/attachments/999999", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // the failure group: its days (API) and their chart (page)
    let signature = failures[0]["signature"].as_str().unwrap();
    let group = s
        .get_json(&format!(
            "{}{}",
            s.url,
            vapi(&format!("failure_groups/{signature}"))
        ))
        .await;
    let days = group["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let counted: i64 = days
        .iter()
        .map(|d| d["failed_runs"].as_i64().unwrap())
        .sum();
    assert_eq!(counted, group["group"]["failed_runs"].as_i64().unwrap());
    assert!(counted >= 1);
    let html = page(&s, &b, &format!("/ui/{SP}/{WS}/failures/{signature}")).await;
    assert!(html.contains("Failed runs per day"), "{html}");
}

async fn the_run_list_filters_by_text_label_and_field(s: TestServer) {
    s.sign_in().await;
    let now = verdict_store::now_ms();
    let env = |browser: &str| {
        format!(r#"<environment><taxonomy type="Browser" value="{browser}"/></environment>"#)
    };
    let xml = payload(&[
        failed("pays", now, "card declined", 2, &env("Chrome")),
        failed("refunds", now, "timed out", 2, &env("Firefox")),
        format!(
            r#"<test_run package="cart" class="Basket" name="adds" duration="3" status="Passed" started="{now}"/>"#
        ),
        format!(
            r#"<test_run package="bank" class="Transfers" name="Überweisung" duration="3" status="Passed" started="{now}"/>"#
        ),
    ]);
    assert_eq!(s.push_and_wait(&xml, false).await["status"], "success");
    let sets = s
        .get_json(&format!("{}{}", s.url, vapi("result_sets")))
        .await;
    let set = sets["data"][0]["id"].as_str().unwrap().to_owned();
    let count = |query: &'static str| {
        let url = format!(
            "{}{}",
            s.url,
            vapi(&format!("result_sets/{set}/results?{query}"))
        );
        let s = &s;
        async move { s.get_json(&url).await["total_count"].as_i64().unwrap() }
    };
    assert_eq!(count("").await, 4);
    // text in the name, the class, the package, or the failure's message
    assert_eq!(count("q=PAYS").await, 1);
    assert_eq!(count("q=basket").await, 1);
    assert_eq!(count("q=declined").await, 1);
    assert_eq!(count("q=AssertionError").await, 2);
    assert_eq!(
        count("q=100%25").await,
        0,
        "% is a character, not a wildcard"
    );
    assert_eq!(count("label=firefox").await, 1);
    assert_eq!(count("package=cart").await, 1);
    assert_eq!(count("class_name=checkout&outcome=failed").await, 2);
    assert_eq!(count("component=nothing").await, 0);
    assert_eq!(count("flaky=false").await, 4);
    // ASCII letters fold on both backends alike; other letters match as written
    assert_eq!(count("q=%C3%9CBERWEISUNG").await, 1);
    assert_eq!(count("q=%C3%BCberweisung").await, 0);
    let rows = s
        .get_json(&format!(
            "{}{}",
            s.url,
            vapi(&format!("result_sets/{set}/results?q=declined"))
        ))
        .await;
    assert_eq!(
        rows["data"][0]["message"],
        "java.lang.AssertionError: card declined"
    );
    for (query, says) in [
        ("flaky=maybe", "'maybe' is neither true nor false"),
        ("textx=1", "unknown parameter"),
    ] {
        let r = s
            .client
            .get(format!(
                "{}{}",
                s.url,
                vapi(&format!("result_sets/{set}/results?{query}"))
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(r.text().await.unwrap().contains(says), "{query}");
    }
    let long = "x".repeat(201);
    let r = s
        .client
        .get(format!(
            "{}{}",
            s.url,
            vapi(&format!("result_sets/{set}/results?q={long}"))
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // the page keeps the filter in its form and its pager
    let b = browser();
    sign_in(&s, &b, "admin", ADMIN_PASSWORD).await;
    let html = page(
        &s,
        &b,
        &format!("/ui/{SP}/{WS}/results/{set}?q=timed&label=firefox"),
    )
    .await;
    assert!(html.contains("Every run (1)"), "{html}");
    assert!(
        html.contains("refunds") && html.contains("timed out"),
        "{html}"
    );
    assert!(
        html.contains(r#"name="q" maxlength="200" value="timed""#),
        "{html}"
    );
}
