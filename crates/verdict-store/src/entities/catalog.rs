//! Collections of the entity API and their fields. Field names are Octane's
//! (protocol §7.4); columns are ours. Nothing here is user input: table and
//! column names are constants, so they may be spliced into SQL.

/// How a field is stored and rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// The entity id (rendered as a string).
    Id,
    /// Text column.
    Text(&'static str),
    /// Integer column.
    Int(&'static str),
    /// 0/1 column rendered as a JSON boolean.
    Bool(&'static str),
    /// Epoch-millisecond column rendered as `yyyy-MM-ddTHH:mm:ssZ`.
    Date(&'static str),
    /// Single reference through an id column to another collection.
    Ref {
        column: &'static str,
        target: &'static str,
    },
    /// Multi-valued reference through `entity_links` rows with this `field`.
    MultiRef {
        link: &'static str,
        target: &'static str,
    },
}

/// One field of a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub kind: FieldKind,
}

/// A collection of the entity API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collection {
    /// URL segment (`runs`).
    pub name: &'static str,
    /// Entity `type` (`run`).
    pub entity_type: &'static str,
    pub table: &'static str,
    /// Column holding the subtype, rendered as `subtype`, if the type has subtypes.
    pub subtype_column: Option<&'static str>,
    /// Only rows of these subtypes belong to the collection (empty: all).
    pub subtypes: &'static [&'static str],
    /// Column used as the reference `name`.
    pub name_column: Option<&'static str>,
    pub fields: &'static [Field],
    /// How the entity API may create and change entities (`None`: read-only).
    pub write: Option<WriteRules>,
}

/// What the entity API accepts when creating or changing entities of a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteRules {
    /// Fields a POST must give.
    pub required: &'static [&'static str],
    /// Names are unique in the workspace: a duplicate is a 409 business error.
    pub unique_name: bool,
    /// Fields the API never sets (computed, or owned by injection).
    pub read_only: &'static [&'static str],
}

const fn rules(required: &'static [&'static str], unique_name: bool) -> Option<WriteRules> {
    Some(WriteRules {
        required,
        unique_name,
        read_only: &["id", "creation_time", "last_modified"],
    })
}

impl Collection {
    /// The field called `name`, if the collection has it.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

const fn f(name: &'static str, kind: FieldKind) -> Field {
    Field { name, kind }
}

use FieldKind::{Bool, Date, Id, Int, MultiRef, Ref, Text};

const fn r(column: &'static str, target: &'static str) -> FieldKind {
    Ref { column, target }
}

const fn m(link: &'static str, target: &'static str) -> FieldKind {
    MultiRef { link, target }
}

const TEST_FIELDS: &[Field] = &[
    f("id", Id),
    f("name", Text("name")),
    f("subtype", Text("subtype")),
    f("component", Text("component")),
    f("package", Text("package")),
    f("class_name", Text("class_name")),
    f("external_test_id", Text("external_test_id")),
    f("test_level", r("test_level_id", "list_nodes")),
    f("testing_tool_type", r("testing_tool_type_id", "list_nodes")),
    f("framework", r("framework_id", "list_nodes")),
    f("test_type", m("test_type", "list_nodes")),
    f("covered_content", m("covered_content", "work_items")),
    f("product_areas", m("product_areas", "application_modules")),
    f("script", Text("script")),
    f("parent_test", r("parent_test_id", "tests")),
    f("summary", Text("summary")),
    f("description", Text("description")),
    f("creation_time", Date("creation_time")),
    f("last_modified", Date("last_modified")),
];

const RUN_FIELDS: &[Field] = &[
    f("id", Id),
    f("name", Text("name")),
    f("subtype", Text("subtype")),
    f("test", r("test_id", "tests")),
    f("status", r("status_id", "list_nodes")),
    f("native_status", r("native_status_id", "list_nodes")),
    f("started", Date("started")),
    f("duration", Int("duration")),
    f("release", r("release_id", "releases")),
    f("milestone", r("milestone_id", "milestones")),
    f("program", r("program_id", "programs")),
    f("taxonomies", m("taxonomies", "taxonomy_nodes")),
    f("test_level", r("test_level_id", "list_nodes")),
    f("test_type", m("test_type", "list_nodes")),
    f("testing_tool_type", r("testing_tool_type_id", "list_nodes")),
    f("framework", r("framework_id", "list_nodes")),
    f("external_run_id", Text("external_run_id")),
    f("external_report_url", Text("external_report_url")),
    f("external_assets", Text("external_assets")),
    f("run_type", Text("run_type")),
    f("description", Text("description")),
    f("error_type", Text("error_type")),
    f("error_message", Text("error_message")),
    f("error_stack", Text("error_stack")),
    // Compat: Verdict fields (retries and the flaky mark of insight.md).
    f("retries", Int("retries")),
    f("flaky", Bool("flaky")),
    f("ci_build", r("ci_build_id", "ci_builds")),
    f("parent_suite", r("parent_suite_id", "runs")),
    f("parent_run", r("parent_run_id", "runs")),
    f("creation_time", Date("creation_time")),
    f("last_modified", Date("last_modified")),
];

const PREVIOUS_RUN_FIELDS: &[Field] = &[
    f("id", Id),
    f("run", r("run_id", "runs")),
    f("status", r("status_id", "list_nodes")),
    f("native_status", r("native_status_id", "list_nodes")),
    f("started", Date("started")),
    f("duration", Int("duration")),
    f("description", Text("description")),
    f("error_type", Text("error_type")),
    f("error_message", Text("error_message")),
    f("error_stack", Text("error_stack")),
    f("external_report_url", Text("external_report_url")),
    f("retries", Int("retries")),
    f("flaky", Bool("flaky")),
    f("ci_build", r("ci_build_id", "ci_builds")),
    f("creation_time", Date("creation_time")),
];

const RUN_STEP_FIELDS: &[Field] = &[
    f("id", Id),
    f("run", r("run_id", "runs")),
    f("name", Text("name")),
    f("status", Text("status")),
    f("duration", Int("duration")),
    f("iteration", Text("iteration")),
    f("position", Int("position")),
    f("kind", Text("kind")),
    f("scenario", Text("scenario")),
    f("error_message", Text("error_message")),
    f("external_step_id", Text("external_step_id")),
    f("parameters", Text("parameters")),
];

const TAXONOMY_FIELDS: &[Field] = &[
    f("id", Id),
    f("name", Text("name")),
    f("subtype", Text("subtype")),
    f("category", r("category_id", "taxonomy_nodes")),
];

const LIST_NODE_FIELDS: &[Field] = &[
    f("id", Id),
    f("name", Text("name")),
    f("logical_name", Text("logical_name")),
    f("list_root", Text("list_name")),
];

const RELEASE_FIELDS: &[Field] = &[
    f("id", Id),
    f("name", Text("name")),
    f("description", Text("description")),
    f("start_date", Date("start_date")),
    f("end_date", Date("end_date")),
    f("is_default", Bool("is_default")),
    f("programs", m("programs", "programs")),
    f("creation_time", Date("creation_time")),
];

const MILESTONE_FIELDS: &[Field] = &[
    f("id", Id),
    f("name", Text("name")),
    f("date", Date("date")),
    f("release", r("release_id", "releases")),
    f("creation_time", Date("creation_time")),
];

const NAMED_FIELDS: &[Field] = &[
    f("id", Id),
    f("name", Text("name")),
    f("creation_time", Date("creation_time")),
];

const WORK_ITEM_FIELDS: &[Field] = &[
    f("id", Id),
    f("name", Text("name")),
    f("description", Text("description")),
    f("subtype", Text("subtype")),
    f("parent", r("parent_id", "work_items")),
    f("release", r("release_id", "releases")),
    f("phase", r("phase_id", "list_nodes")),
    f("severity", r("severity_id", "list_nodes")),
    f("priority", r("priority_id", "list_nodes")),
    f("owner", Int("owner_id")),
    f("story_points", Int("story_points")),
    f("creation_time", Date("creation_time")),
];

const APPLICATION_MODULE_FIELDS: &[Field] = &[
    f("id", Id),
    f("name", Text("name")),
    f("parent", r("parent_id", "application_modules")),
    f("creation_time", Date("creation_time")),
];

const CI_SERVER_FIELDS: &[Field] = &[
    f("id", Id),
    f("creation_time", Date("creation_time")),
    f("name", Text("name")),
    f("instance_id", Text("instance_id")),
    f("server_type", Text("server_type")),
    f("url", Text("url")),
    f("plugin_version", Text("plugin_version")),
];

const CI_JOB_FIELDS: &[Field] = &[
    f("id", Id),
    f("name", Text("name")),
    f("ci_id", Text("ci_id")),
    f("ci_server", r("ci_server_id", "ci_servers")),
    f("pipeline", r("pipeline_id", "pipelines")),
    f("parameters", Text("parameters")),
    f("branch", Text("branch")),
    f("executor", r("executor_id", "executors")),
    f("creation_time", Date("creation_time")),
];

const CI_BUILD_FIELDS: &[Field] = &[
    f("id", Id),
    f("name", Text("name")),
    f("build_ci_id", Text("build_ci_id")),
    f("ci_job", r("ci_job_id", "ci_jobs")),
    f("sub_type", Text("sub_type")),
    f("artifact_id", Text("artifact_id")),
    f("number", Text("number")),
    f("start_time", Date("start_time")),
    f("duration", Int("duration")),
    f("status", Text("status")),
    f("result", Text("result")),
    f("parameters", Text("parameters")),
    f("causes", Text("causes")),
    f("scm_data", Text("scm_data")),
    f("creation_time", Date("creation_time")),
];

const PIPELINE_FIELDS: &[Field] = &[
    f("id", Id),
    f("name", Text("name")),
    f("ci_server", r("ci_server_id", "ci_servers")),
    f("root_job", r("root_job_id", "ci_jobs")),
    f("multi_branch_type", Text("multi_branch_type")),
    f("creation_time", Date("creation_time")),
];

const PIPELINE_NODE_FIELDS: &[Field] = &[
    f("id", Id),
    f("name", Text("name")),
    f("pipeline", r("pipeline_id", "pipelines")),
    f("ci_job", r("ci_job_id", "ci_jobs")),
    f("creation_time", Date("creation_time")),
];

const EXECUTOR_FIELDS: &[Field] = &[
    f("id", Id),
    f("name", Text("name")),
    f("subtype", Text("subtype")),
    f("creation_time", Date("creation_time")),
];

const ATTACHMENT_FIELDS: &[Field] = &[
    f("id", Id),
    f("name", Text("name")),
    f("size", Int("size")),
    f("owner_work_item", r("owner_work_item_id", "work_items")),
    f("owner_test", r("owner_test_id", "tests")),
    f("owner_run", r("owner_run_id", "runs")),
    f("owner_ci_build", r("owner_ci_build_id", "ci_builds")),
    f("creation_time", Date("creation_time")),
];

const fn coll(
    name: &'static str,
    entity_type: &'static str,
    table: &'static str,
    subtypes: &'static [&'static str],
    fields: &'static [Field],
    write: Option<WriteRules>,
) -> Collection {
    let subtype_column = if subtypes.is_empty() && !has_subtype(table) {
        None
    } else {
        Some("subtype")
    };
    Collection {
        name,
        entity_type,
        table,
        subtype_column,
        subtypes,
        name_column: if has_name(table) { Some("name") } else { None },
        fields,
        write,
    }
}

const fn has_subtype(table: &str) -> bool {
    matches!(
        table.as_bytes(),
        b"tests" | b"runs" | b"work_items" | b"taxonomy_nodes" | b"executors"
    )
}

const fn has_name(table: &str) -> bool {
    !matches!(table.as_bytes(), b"previous_runs")
}

const NAMED: Option<WriteRules> = rules(&["name"], false);
const UNIQUE: Option<WriteRules> = rules(&["name"], true);

/// Every collection the entity API serves.
pub const COLLECTIONS: &[Collection] = &[
    coll("tests", "test", "tests", &[], TEST_FIELDS, None),
    coll(
        "automated_tests",
        "test",
        "tests",
        &["test_automated"],
        TEST_FIELDS,
        None,
    ),
    coll(
        "gherkin_tests",
        "test",
        "tests",
        &["gherkin_test"],
        TEST_FIELDS,
        None,
    ),
    coll(
        "test_suites",
        "test",
        "tests",
        &["test_suite"],
        TEST_FIELDS,
        NAMED,
    ),
    coll("runs", "run", "runs", &[], RUN_FIELDS, None),
    coll(
        "automated_runs",
        "run",
        "runs",
        &["run_automated"],
        RUN_FIELDS,
        None,
    ),
    coll(
        "gherkin_runs",
        "run",
        "runs",
        &["gherkin_run"],
        RUN_FIELDS,
        None,
    ),
    coll("suite_run", "run", "runs", &["run_suite"], RUN_FIELDS, None),
    coll(
        "previous_runs",
        "previous_run",
        "previous_runs",
        &[],
        PREVIOUS_RUN_FIELDS,
        None,
    ),
    coll(
        "run_steps",
        "run_step",
        "run_steps",
        &[],
        RUN_STEP_FIELDS,
        None,
    ),
    coll(
        "taxonomy_nodes",
        "taxonomy_node",
        "taxonomy_nodes",
        &[],
        TAXONOMY_FIELDS,
        NAMED,
    ),
    coll(
        "taxonomy_category_nodes",
        "taxonomy_node",
        "taxonomy_nodes",
        &["taxonomy_category_node"],
        TAXONOMY_FIELDS,
        NAMED,
    ),
    coll(
        "taxonomy_item_nodes",
        "taxonomy_node",
        "taxonomy_nodes",
        &["taxonomy_item_node"],
        TAXONOMY_FIELDS,
        NAMED,
    ),
    coll(
        "list_nodes",
        "list_node",
        "list_nodes",
        &[],
        LIST_NODE_FIELDS,
        None,
    ),
    coll(
        "releases",
        "release",
        "releases",
        &[],
        RELEASE_FIELDS,
        UNIQUE,
    ),
    coll(
        "milestones",
        "milestone",
        "milestones",
        &[],
        MILESTONE_FIELDS,
        NAMED,
    ),
    coll("programs", "program", "programs", &[], NAMED_FIELDS, NAMED),
    coll(
        "work_items",
        "work_item",
        "work_items",
        &[],
        WORK_ITEM_FIELDS,
        rules(&["name", "subtype"], false),
    ),
    coll(
        "stories",
        "work_item",
        "work_items",
        &["story"],
        WORK_ITEM_FIELDS,
        NAMED,
    ),
    coll(
        "features",
        "work_item",
        "work_items",
        &["feature"],
        WORK_ITEM_FIELDS,
        NAMED,
    ),
    coll(
        "defects",
        "work_item",
        "work_items",
        &["defect"],
        WORK_ITEM_FIELDS,
        NAMED,
    ),
    coll(
        "epics",
        "work_item",
        "work_items",
        &["epic"],
        WORK_ITEM_FIELDS,
        NAMED,
    ),
    coll(
        "quality_stories",
        "work_item",
        "work_items",
        &["quality_story"],
        WORK_ITEM_FIELDS,
        NAMED,
    ),
    coll(
        "application_modules",
        "product_area",
        "application_modules",
        &[],
        APPLICATION_MODULE_FIELDS,
        NAMED,
    ),
    coll(
        "ci_servers",
        "ci_server",
        "ci_servers",
        &[],
        CI_SERVER_FIELDS,
        rules(&["name"], false),
    ),
    coll(
        "ci_jobs",
        "ci_job",
        "ci_jobs",
        &[],
        CI_JOB_FIELDS,
        rules(&["ci_id", "ci_server"], false),
    ),
    coll(
        "ci_builds",
        "ci_build",
        "ci_builds",
        &[],
        CI_BUILD_FIELDS,
        None,
    ),
    coll(
        "pipelines",
        "pipeline",
        "pipelines",
        &[],
        PIPELINE_FIELDS,
        NAMED,
    ),
    coll(
        "pipeline_nodes",
        "pipeline_node",
        "pipeline_nodes",
        &[],
        PIPELINE_NODE_FIELDS,
        None,
    ),
    coll(
        "executors",
        "executor",
        "executors",
        &[],
        EXECUTOR_FIELDS,
        NAMED,
    ),
    coll(
        "attachments",
        "attachment",
        "attachments",
        &[],
        ATTACHMENT_FIELDS,
        None,
    ),
];

/// Looks a collection up by its URL segment.
#[must_use]
pub fn collection_by_name(name: &str) -> Option<&'static Collection> {
    COLLECTIONS.iter().find(|c| c.name == name)
}

/// The canonical collection of a table (used to render references).
#[must_use]
pub fn collection_of_table(table: &str) -> Option<&'static Collection> {
    COLLECTIONS.iter().find(|c| c.table == table)
}
