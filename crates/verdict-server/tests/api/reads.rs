//! Protocol §7: collection and entity reads with `fields`, `limit`,
//! `offset`, `order_by` and the query grammar in both dialects, as the CLT,
//! the JS SDK and the GitHub Actions integration send them.

use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::TestServer;
use crate::on_both_backends;

on_both_backends!(
    envelope_paging_ordering_and_fields,
    query_dialects_and_cross_references,
    bad_queries_are_400_with_position
);

async fn seed(s: &TestServer) {
    s.sign_in().await;
    let xml = r#"<test_result><test_runs>
        <test_run module="m" package="com.acme" class="A" name="testOne123" duration="5" status="Passed" started="1000"/>
        <test_run module="m" package="com.acme" class="A" name="testTwo" duration="7" status="Failed" started="2000"><environment><taxonomy type="Browser" value="Chrome"/></environment></test_run>
        <test_run module="m" package="org.other" class="B" name="It's" duration="9" status="Skipped" started="3000"/>
      </test_runs></test_result>"#;
    assert_eq!(s.push_and_wait(xml, false).await["status"], "success");
}

fn names(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn envelope_paging_ordering_and_fields(s: TestServer) {
    seed(&s).await;
    let page = s.entities("runs?order_by=-duration&limit=2&offset=0").await;
    assert_eq!(page["total_count"], 3);
    assert_eq!(page["exceeds_total_count"], false);
    assert_eq!(names(&page), ["It's", "testTwo"]);
    let page = s.entities("runs?order_by=-duration&limit=2&offset=2").await;
    assert_eq!(names(&page), ["testOne123"]);
    // The SDK's empty leading parameter, unknown parameters ignored.
    let page = s.entities("runs?&offset=0&limit=50&unknown=1").await;
    assert_eq!(page["total_count"], 3);
    // `fields`: id and type always present, only what was asked otherwise.
    let page = s.entities("runs?fields=name,release&limit=1").await;
    let run = page["data"][0].as_object().unwrap();
    let mut keys: Vec<&str> = run.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["id", "name", "release", "subtype", "type"]);
    // A single entity.
    let id = page["data"][0]["id"].as_str().unwrap();
    let one = s.get_json(&s.ws(&format!("runs/{id}"))).await;
    assert_eq!(one["id"], id);
    assert_eq!(one["type"], "run_automated");
    assert_eq!(
        s.client
            .get(s.ws("runs/99999999"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.client
            .get(s.ws("no_such_collection"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    // Seeded lists and taxonomies are readable.
    let levels = s
        .entities("list_nodes?query=%22list_root%20EQ%20%5ETest_Level%5E%22")
        .await;
    assert_eq!(levels["total_count"], 3);
    let browsers = s
        .entities("taxonomy_item_nodes?query=%22category%20EQ%20%7Bname%20EQ%20%5EBrowser%5E%7D%22")
        .await;
    assert_eq!(browsers["total_count"], 5);
    let releases = s.entities("releases").await;
    assert_eq!(releases["total_count"], 0);
}

async fn query_dialects_and_cross_references(s: TestServer) {
    seed(&s).await;
    let q = |query: &str| {
        let encoded: String = query.bytes().map(|b| format!("%{b:02X}")).collect();
        format!("runs?query={encoded}")
    };
    let cases: &[(&str, &[&str])] = &[
        (r#""name='*testOne123*'""#, &["testOne123"]),
        ("\"name EQ ^testtwo^\"", &["testTwo"]),
        ("name EQ 'It\\'s'", &["It's"]),
        ("\"test EQ {package EQ ^org.other^}\"", &["It's"]),
        ("test={package='com.*'}", &["testOne123", "testTwo"]),
        ("\"duration GE 7\"", &["testTwo", "It's"]),
        ("\"duration BTW 6...8\"", &["testTwo"]),
        (
            "\"started GT ^1970-01-01T00:00:01Z^\"",
            &["testTwo", "It's"],
        ),
        (
            "\"status EQ {id EQ ^list_node.run_status.failed^}\"",
            &["testTwo"],
        ),
        (
            "\"(name EQ ^testTwo^||name EQ ^It's^);duration LT 8\"",
            &["testTwo"],
        ),
        ("\"!name EQ ^testTwo^\"", &["testOne123", "It's"]),
        ("\"taxonomies EQ {name EQ ^Chrome^}\"", &["testTwo"]),
        ("\"taxonomies EQ null\"", &["testOne123", "It's"]),
        ("\"release EQ null\"", &["testOne123", "testTwo", "It's"]),
        ("\"!release EQ {null}\"", &[]),
        ("\"name IN ^testTwo^,^It's^\"", &["testTwo", "It's"]),
    ];
    for (query, expected) in cases {
        let page = s.entities(&format!("{}&order_by=started", q(query))).await;
        assert_eq!(names(&page), *expected, "query {query}");
    }
    // Plus-encoded spaces (form encoding) work too.
    let page = s.entities("runs?query=%22name+EQ+%5EtestTwo%5E%22").await;
    assert_eq!(names(&page), ["testTwo"]);
}

async fn bad_queries_are_400_with_position(s: TestServer) {
    seed(&s).await;
    for (query, needle) in [
        ("%22nope%20EQ%201%22", "unknown field 'nope'"),
        ("%22name%20EQ%20%5Eabc%22", "unterminated"),
        ("%22name%20XX%201%22", "expected an operator"),
    ] {
        let r = s
            .client
            .get(s.ws(&format!("runs?query={query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error_code"], "platform.illegal_query");
        let description = body["description"].as_str().unwrap();
        assert!(
            description.contains("position") && description.contains(needle),
            "{description}"
        );
    }
    let r = s
        .client
        .get(s.ws("runs?fields=bogus"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = s.client.get(s.ws("runs?limit=ten")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
