//! The Octane test-results payload (`<test_result>`) as validated values.
//!
//! `verdict-ingest` produces these from XML in one streaming pass: first a
//! [`PayloadHeader`] (build and global context), then one [`Item`] at a time,
//! so a payload of a million runs never sits in memory whole.
//! Attribute names follow the payload; absent optional attributes are `None`.

use crate::status::RunStatus;

/// The `build` element: the CI build that produced the results.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildRef {
    pub server_id: String,
    pub job_id: String,
    pub build_id: String,
    pub job_name: Option<String>,
    pub build_name: Option<String>,
    pub sub_type: Option<String>,
    pub artifact_id: Option<String>,
}

/// `suite_ref`: a link to an existing test suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteRef {
    pub id: i64,
    pub external_run_id: Option<String>,
    pub component: Option<String>,
}

/// `release_ref id=".."` or `release name=".."` (`_default_` names the default release).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReleaseLink {
    ById(i64),
    ByName(String),
}

/// The four test-characteristic lists of `test_field type=".."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TestFieldType {
    TestLevel,
    TestType,
    TestingToolType,
    Framework,
}

impl TestFieldType {
    /// The payload spelling (`Test_Level`, ...); case-sensitive.
    #[must_use]
    pub fn from_payload(text: &str) -> Option<Self> {
        match text {
            "Test_Level" => Some(Self::TestLevel),
            "Test_Type" => Some(Self::TestType),
            "Testing_Tool_Type" => Some(Self::TestingToolType),
            "Framework" => Some(Self::Framework),
            _ => None,
        }
    }

    /// The payload spelling, also the list's name in `list_nodes`.
    #[must_use]
    pub fn payload_name(self) -> &'static str {
        match self {
            Self::TestLevel => "Test_Level",
            Self::TestType => "Test_Type",
            Self::TestingToolType => "Testing_Tool_Type",
            Self::Framework => "Framework",
        }
    }

    /// `Test_Type` is the only multi-valued characteristic.
    #[must_use]
    pub fn is_multi_valued(self) -> bool {
        matches!(self, Self::TestType)
    }

    /// All four, in payload order.
    pub const ALL: [Self; 4] = [
        Self::TestLevel,
        Self::TestType,
        Self::TestingToolType,
        Self::Framework,
    ];
}

/// One `test_field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestField {
    pub field_type: TestFieldType,
    pub value: String,
}

/// One `taxonomy` of `environment`: a value under a category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taxonomy {
    pub category: String,
    pub value: String,
}

/// Links and characteristics that can be given globally or per test (§3.2 items 2–9).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Context {
    pub suite: Option<SuiteRef>,
    pub program: Option<i64>,
    pub release: Option<ReleaseLink>,
    pub milestone: Option<i64>,
    pub backlog_items: Vec<i64>,
    pub product_areas: Vec<i64>,
    pub test_fields: Vec<TestField>,
    pub taxonomies: Vec<Taxonomy>,
}

impl Context {
    /// True when no element of the context was given.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Everything before `test_runs`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PayloadHeader {
    pub build: Option<BuildRef>,
    pub context: Context,
}

/// `error` of a run: exception type, message and the stack trace as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunError {
    pub error_type: Option<String>,
    pub message: Option<String>,
    pub stack_trace: String,
}

/// A `parameter` of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    pub value: Option<String>,
    pub param_type: Option<String>,
}

/// A `step` of `test_run/steps` or of a gherkin scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    pub duration: i64,
    /// Free text: clients send `passed`.
    pub status: String,
    pub external_step_id: Option<String>,
    pub error_message: Option<String>,
    pub input_parameters: Vec<Parameter>,
    pub output_parameters: Vec<Parameter>,
}

/// One `steps` element (one iteration of a data-driven test).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepIteration {
    pub iteration: Option<String>,
    pub steps: Vec<Step>,
}

/// A `test_run`: one execution of an automated test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRun {
    pub name: String,
    pub duration: i64,
    pub status: RunStatus,
    pub module: Option<String>,
    pub package: Option<String>,
    pub class: Option<String>,
    pub run_name: Option<String>,
    pub started: Option<i64>,
    pub external_report_url: Option<String>,
    pub external_test_id: Option<String>,
    pub external_run_id: Option<String>,
    pub run_type: Option<String>,
    pub external_assets: Option<String>,
    pub manual: bool,
    /// Verdict extension: extra tries the framework made (0 when tried once).
    pub retries: u32,
    /// Verdict extension: passed only after failing an earlier try.
    pub flaky: bool,
    pub context: Context,
    pub error: Option<RunError>,
    pub description: Option<String>,
    pub steps: Vec<StepIteration>,
}

/// A step of a gherkin `background`: duration and status are optional there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackgroundStep {
    pub name: String,
    pub duration: Option<i64>,
    pub status: Option<String>,
    pub error_message: Option<String>,
}

/// A gherkin `scenario`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub name: String,
    pub status: RunStatus,
    pub outline_index: Option<i64>,
    pub steps: Vec<Step>,
}

/// The `feature` of a gherkin run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    pub name: String,
    pub path: String,
    /// `@TID<id>REV<rev>` when the feature was downloaded from Octane; may be empty.
    pub tag: String,
    pub started: i64,
    pub identifier: Option<String>,
    /// The feature file's text (`file` element).
    pub file: String,
    /// `None` when there is no `background`; `Some(vec![])` for an empty one.
    pub background: Option<Vec<BackgroundStep>>,
    pub scenarios: Vec<Scenario>,
}

/// A `gherkin_test_run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GherkinRun {
    pub name: String,
    pub duration: i64,
    pub status: RunStatus,
    pub external_run_id: Option<String>,
    /// Verdict extension: extra tries of the feature's scenarios, summed.
    pub retries: u32,
    /// Verdict extension: a scenario passed only after failing an earlier try.
    pub flaky: bool,
    pub feature: Feature,
}

/// One element of `test_runs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Test(Box<TestRun>),
    Gherkin(Box<GherkinRun>),
}
