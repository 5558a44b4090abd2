//! Values the reader produces.

use verdict_domain::payload::{
    BackgroundStep, BuildRef, Context, Parameter, ReleaseLink, RunError, Step, StepIteration,
    SuiteRef, Taxonomy, TestField, TestFieldType, TestRun,
};
use verdict_domain::status::RunStatus;

use super::{doc, gherkin_runs, read, read_with_capacity, test_runs};
use crate::octane::validate;

const RICH: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<!-- a rich payload -->
<test_result>
  <build server_id="srv" job_id="job" build_id="42" job_name="Job" build_name="#42" sub_type="" artifact_id=""/>
  <suite_ref id="3001" external_run_id="regression Q01" component="core"/>
  <program_ref id=" +7 "/>
  <release name="_default_"/>
  <milestone_ref id="5"/>
  <backlog_items><backlog_item_ref id="2001"/><backlog_item_ref id="2002"/></backlog_items>
  <product_areas><product_area_ref id="9"/></product_areas>
  <test_fields>
    <test_field type="Test_Level" value="Integration Test"/>
    <test_field type="Test_Type" value="My type"/>
  </test_fields>
  <environment><taxonomy type="Browser" value="Chrome"/></environment>
  <test_runs>
    <test_run module="/m" package="p" class="C" name="t &amp; &lt;1&gt;" duration="-3" status="Failed"
        run_name="r" started="1430919295889" external_report_url="HTTPS://ci/1"
        external_test_id="" external_run_id="e1" run_type="Auto" external_assets="a&#10;b"
        manual="1">
      <release_ref id="1001"/>
      <test_fields><test_field type="Framework" value="JUnit"/></test_fields>
      <environment><taxonomy type="OS" value="Linux"/><taxonomy type="DB" value="Oracle"/></environment>
      <error type="java.lang.AssertionError" message="expected:'1'">at a.b(C.java:1)<![CDATA[
<raw> & stuff]]>&#x41;</error>
      <description>My run
description</description>
      <steps>
        <step name="s1" duration="1" status="passed" external_step_id="x1">
          <error_message>boom</error_message>
          <input_parameters><parameter name="in" value="1" type="int"/></input_parameters>
          <output_parameters><parameter name="out"/></output_parameters>
        </step>
      </steps>
      <steps iteration="2"/>
    </test_run>
    <test_run name="plain" duration="0" status="Planned"/>
  </test_runs>
</test_result>
"##;

fn rich_run() -> TestRun {
    TestRun {
        name: "t & <1>".into(),
        duration: -3,
        status: RunStatus::Failed,
        module: Some("/m".into()),
        package: Some("p".into()),
        class: Some("C".into()),
        run_name: Some("r".into()),
        started: Some(1_430_919_295_889),
        external_report_url: Some("HTTPS://ci/1".into()),
        external_test_id: Some(String::new()),
        external_run_id: Some("e1".into()),
        run_type: Some("Auto".into()),
        external_assets: Some("a\nb".into()),
        manual: true,
        retries: 0,
        flaky: false,
        context: Context {
            release: Some(ReleaseLink::ById(1001)),
            test_fields: vec![TestField {
                field_type: TestFieldType::Framework,
                value: "JUnit".into(),
            }],
            taxonomies: vec![taxonomy("OS", "Linux"), taxonomy("DB", "Oracle")],
            ..Context::default()
        },
        error: Some(RunError {
            error_type: Some("java.lang.AssertionError".into()),
            message: Some("expected:'1'".into()),
            stack_trace: "at a.b(C.java:1)\n<raw> & stuffA".into(),
        }),
        description: Some("My run\ndescription".into()),
        steps: vec![
            StepIteration {
                iteration: None,
                steps: vec![Step {
                    name: "s1".into(),
                    duration: 1,
                    status: "passed".into(),
                    external_step_id: Some("x1".into()),
                    error_message: Some("boom".into()),
                    input_parameters: vec![Parameter {
                        name: "in".into(),
                        value: Some("1".into()),
                        param_type: Some("int".into()),
                    }],
                    output_parameters: vec![Parameter {
                        name: "out".into(),
                        value: None,
                        param_type: None,
                    }],
                }],
            },
            StepIteration {
                iteration: Some("2".into()),
                steps: vec![],
            },
        ],
    }
}

fn taxonomy(category: &str, value: &str) -> Taxonomy {
    Taxonomy {
        category: category.into(),
        value: value.into(),
    }
}

#[test]
fn rich_payload_header() {
    let (header, _) = read(RICH.as_bytes()).unwrap();
    assert_eq!(
        header.build,
        Some(BuildRef {
            server_id: "srv".into(),
            job_id: "job".into(),
            build_id: "42".into(),
            job_name: Some("Job".into()),
            build_name: Some("#42".into()),
            sub_type: Some(String::new()),
            artifact_id: Some(String::new()),
        })
    );
    let expected = Context {
        suite: Some(SuiteRef {
            id: 3001,
            external_run_id: Some("regression Q01".into()),
            component: Some("core".into()),
        }),
        program: Some(7),
        release: Some(ReleaseLink::ByName("_default_".into())),
        milestone: Some(5),
        backlog_items: vec![2001, 2002],
        product_areas: vec![9],
        test_fields: vec![
            TestField {
                field_type: TestFieldType::TestLevel,
                value: "Integration Test".into(),
            },
            TestField {
                field_type: TestFieldType::TestType,
                value: "My type".into(),
            },
        ],
        taxonomies: vec![taxonomy("Browser", "Chrome")],
    };
    assert_eq!(header.context, expected);
}

#[test]
fn rich_payload_items() {
    let runs = test_runs(RICH);
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0], rich_run());
    let plain = &runs[1];
    assert_eq!(plain.status, RunStatus::Planned);
    assert_eq!(
        (plain.module.as_deref(), plain.started, plain.manual),
        (None, None, false)
    );
    assert!(plain.context.is_empty() && plain.error.is_none() && plain.steps.is_empty());
}

#[test]
fn any_buffer_size_gives_the_same_values() {
    let text = RICH.replace("name=\"plain\"", "name=\"plé😀in\"");
    let expected = read(text.as_bytes()).unwrap();
    for capacity in [1, 2, 3, 5, 7, 64] {
        assert_eq!(
            read_with_capacity(text.as_bytes(), capacity).unwrap(),
            expected
        );
    }
}

#[test]
fn line_ends_and_whitespace_are_normalised() {
    let xml = doc(
        "<test_run name=\"a\r\nb\tc\nd\" duration=\"1\" status=\"Passed\" run_name=\"x&#13;&#10;y\">\r\n\
         <description>l1\r\nl2\rl3</description></test_run>",
    );
    let run = &test_runs(&xml)[0];
    assert_eq!(run.name, "a b c d");
    assert_eq!(run.run_name.as_deref(), Some("x\r\ny"));
    assert_eq!(run.description.as_deref(), Some("l1\nl2\nl3"));
}

#[test]
fn optional_values_and_defaults() {
    let run = &test_runs(&doc(
        "<test_run name=\"a\" duration=\" +5 \" status=\"Skipped\" manual=\" false \" module=\"\"><error/></test_run>",
    ))[0];
    assert_eq!(run.duration, 5);
    assert_eq!(run.started, None);
    assert!(!run.manual);
    assert_eq!(run.module.as_deref(), Some(""));
    assert_eq!(run.package, None);
    assert_eq!(run.error, Some(RunError::default()));
}

#[test]
fn latin1_declared_documents_are_decoded() {
    let mut xml = b"<?xml version='1.0' encoding='ISO-8859-1'?><test_result><test_runs><test_run name='caf\xe9' duration='1' status='Passed'/></test_runs></test_result>".to_vec();
    let (_, items) = read(&xml).unwrap();
    assert!(matches!(&items[0], verdict_domain::payload::Item::Test(run) if run.name == "café"));
    xml.splice(0..0, b"\xEF\xBB\xBF".iter().copied());
    assert!(read(&xml).is_err(), "a UTF-8 BOM wins over the declaration");
}

#[test]
fn utf8_is_the_default() {
    let run = &test_runs(&doc(
        "<test_run name=\"café\" duration=\"1\" status=\"Passed\"/>",
    ))[0];
    assert_eq!(run.name, "café");
}

/// The sample payloads of the vendor's test-results page.
#[test]
fn vendor_samples() {
    let samples = include_str!("vendor_samples.xml");
    let counts: Vec<u64> = samples
        .split("<!-- next sample -->")
        .map(|xml| validate(xml.trim().as_bytes()).unwrap())
        .collect();
    assert_eq!(counts, vec![2, 2, 1, 3, 2]);
}

#[test]
fn vendor_error_sample_values() {
    let samples = include_str!("vendor_samples.xml");
    let third = samples.split("<!-- next sample -->").nth(2).unwrap();
    let run = &test_runs(third.trim())[0];
    let error = run.error.as_ref().unwrap();
    assert_eq!(
        error.error_type.as_deref(),
        Some("java.lang.AssertionError")
    );
    assert_eq!(
        error.message.as_deref(),
        Some("expected:'111' but was:'222'")
    );
    assert!(
        error
            .stack_trace
            .starts_with("java.lang.AssertionError: expected:'111' but was:'222'\nat org.junit")
    );
    assert_eq!(run.description.as_deref(), Some("My run description"));
}

#[test]
fn gherkin_with_background() {
    let xml = doc(
        r#"<gherkin_test_run name="" duration="173757728" status="Passed" external_run_id="r1">
      <feature name="F" path="src/f.feature" tag="@TID4002REV0.2.0" started=" 1482231569810" identifier="id">
        <file><![CDATA[Feature: F
  Scenario: S]]> &amp; more</file>
        <scenarios>
          <background>
            <steps>
              <step name="Given a"/>
              <step name="And b" duration="3" status="passed"><error_message>bad</error_message></step>
            </steps>
          </background>
          <scenario name="" status="Failed" outlineIndex="2">
            <steps><step duration="1" name="When x" status="failed"/></steps>
          </scenario>
        </scenarios>
      </feature>
    </gherkin_test_run>"#,
    );
    let run = &gherkin_runs(&xml)[0];
    assert_eq!(
        (run.name.as_str(), run.duration, run.status),
        ("", 173_757_728, RunStatus::Passed)
    );
    assert_eq!(run.external_run_id.as_deref(), Some("r1"));
    let feature = &run.feature;
    assert_eq!(feature.tag, "@TID4002REV0.2.0");
    assert_eq!(feature.started, 1_482_231_569_810);
    assert_eq!(feature.identifier.as_deref(), Some("id"));
    assert_eq!(feature.file, "Feature: F\n  Scenario: S & more");
    assert_eq!(
        feature.background,
        Some(vec![
            BackgroundStep {
                name: "Given a".into(),
                duration: None,
                status: None,
                error_message: None,
            },
            BackgroundStep {
                name: "And b".into(),
                duration: Some(3),
                status: Some("passed".into()),
                error_message: Some("bad".into()),
            },
        ])
    );
    let scenario = &feature.scenarios[0];
    assert_eq!(
        (scenario.status, scenario.outline_index),
        (RunStatus::Failed, Some(2))
    );
    assert_eq!(scenario.steps[0].status, "failed");
}

#[test]
fn gherkin_without_scenarios_or_background() {
    let xml = doc(
        r#"<gherkin_test_run name="g" duration="1" status="Skipped"><feature name="" path="p" tag="" started="0"><file/></feature></gherkin_test_run>
        <gherkin_test_run name="h" duration="1" status="Passed"><feature name="" path="p" tag="" started="0"><file>x<any a="1"><b/>y</any></file><scenarios><background/></scenarios></feature></gherkin_test_run>"#,
    );
    let runs = gherkin_runs(&xml);
    assert_eq!(runs[0].feature.background, None);
    assert!(runs[0].feature.scenarios.is_empty());
    assert_eq!(runs[1].feature.file, "xy");
    assert_eq!(runs[1].feature.background, Some(vec![]));
}

#[test]
fn streaming_api() {
    let xml = doc(
        "<test_run name=\"a\" duration=\"1\" status=\"Passed\"/><test_run name=\"b\" duration=\"1\" status=\"Passed\"/>",
    );
    let mut reader = crate::octane::PayloadReader::new(xml.as_bytes()).unwrap();
    assert!(reader.header().build.is_none());
    assert!(reader.next_item().unwrap().is_some());
    assert!(reader.next_item().unwrap().is_some());
    assert!(reader.next_item().unwrap().is_none());
    assert!(reader.next_item().unwrap().is_none());
    assert_eq!(validate(xml.as_bytes()), Ok(2));
    assert_eq!(validate(doc("").as_bytes()), Ok(0));
}

#[test]
fn xsi_locations_and_comments_anywhere() {
    let xml = r#"<?xml version="1.0"?><?pi x?><test_result xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="test_results.xsd"><!--c--><test_runs><?p?>
      <test_run name="a" duration="1" status="Passed" xsi:schemaLocation="a b"><!--c--><error><!--c-->x<?p?>y</error></test_run>
    </test_runs></test_result><!--c-->"#;
    let run = &test_runs(xml)[0];
    assert_eq!(run.error.as_ref().unwrap().stack_trace, "xy");
}

#[test]
fn the_reader_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<crate::octane::PayloadReader<&[u8]>>();
    assert_send::<crate::octane::PayloadError>();
}
