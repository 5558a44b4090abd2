//! The neutral vocabulary of imported test reports.
//!
//! Owns the public values the report readers produce ([`ReportEvent`],
//! [`ReportCase`], [`CaseOutcome`], [`Failure`], [`Rerun`]), the format tag
//! ([`ReportFormat`]) and the one error they return ([`ReportError`]). The
//! types say nothing about any one format (JUnit, xUnit.net, NUnit, TestNG,
//! TRX) so the server and the CLI can consume every format through the same
//! code.

/// A test report format the readers understand; chosen by
/// [`detect_format`](super::detect_format) from content, or by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportFormat {
    /// JUnit XML as written by Apache Ant, Maven Surefire/Failsafe, Gradle,
    /// Jenkins and the many tools that imitate them.
    JUnit,
    /// The xUnit.net v2 XML format (`<assemblies>`), also written by v3 runners.
    XUnitV2,
    /// The NUnit 2.x result format (`<test-results>`), still written by
    /// NUnit 3 consoles run with `--result=file.xml;format=nunit2` and by
    /// older .NET build pipelines.
    NUnit2,
    /// The NUnit 3 (and NUnit 4) result format (`<test-run>`), the default
    /// `TestResult.xml` of the NUnit console and NUnitLite.
    NUnit3,
    /// TestNG's own XML report (`<testng-results>`, `testng-results.xml`),
    /// which keeps data-provider parameters and configuration methods that
    /// TestNG's JUnit-style reports lose.
    TestNG,
    /// Visual Studio / `dotnet test --logger trx` results (`<TestRun>` in the
    /// `TeamTest/2010` namespace), the format of MSTest and Azure DevOps.
    ///
    /// TRX lists results before the definitions that give their classes. From
    /// a stream, results read before `<TestDefinitions>` are held and sent once
    /// the classes are known; from a file ([`super::read_report_file`]) two
    /// passes avoid holding them.
    Trx,
}

/// One step of a report, in document order.
///
/// Reports are streamed as events rather than returned as a tree so that
/// importing a report with hundreds of thousands of cases needs memory for one
/// case at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportEvent {
    /// A suite opens; suites may nest, and every `SuiteStart` is matched by a
    /// later [`ReportEvent::SuiteEnd`].
    SuiteStart {
        /// Suite name (JUnit `name`, xUnit.net assembly file name or
        /// collection name, NUnit suite `name`, TestNG suite or test `name`,
        /// TRX run `name`); empty when the report has none.
        name: String,
        /// When the suite ran, exactly as the report spells it.
        timestamp: Option<String>,
        /// Name/value pairs recorded for the suite, in document order.
        properties: Vec<(String, String)>,
    },
    /// One test case of the innermost open suite.
    Case(ReportCase),
    /// The innermost open suite closes.
    SuiteEnd,
}

/// One test case with everything a report says about it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportCase {
    /// Test name (JUnit `name`, xUnit.net and NUnit `name`, TestNG method
    /// name with its data-provider arguments, TRX `testName`); empty when
    /// missing.
    pub name: String,
    /// The class or type holding the test (JUnit `classname`, xUnit.net
    /// `type`, NUnit 3 `classname`, TestNG `<class>`, TRX `className`).
    pub classname: Option<String>,
    /// Duration in milliseconds, rounded; 0 when missing or unreadable.
    pub duration_ms: i64,
    /// How the test ended.
    pub outcome: CaseOutcome,
    /// Standard output captured for this case; `None` when absent or empty.
    pub system_out: Option<String>,
    /// Standard error captured for this case; `None` when absent or empty.
    pub system_err: Option<String>,
    /// Earlier or later runs of the same test (Surefire's rerun mode), in
    /// document order.
    pub reruns: Vec<Rerun>,
    /// Extra tries the framework made before this final outcome (0 when the
    /// test ran once). Retried tries never count as results of their own.
    pub retries: u32,
    /// Passed only after failing an earlier try (meaningful with `Passed`).
    pub flaky: bool,
    /// When the test started (epoch ms), when the report says so for the
    /// case itself; else its suite's or report's timestamp applies.
    pub started_ms: Option<i64>,
    /// The test's source file, when the report names it apart from the
    /// class (JUnit `file`, CTRF `filePath`).
    pub file: Option<String>,
}

impl ReportCase {
    /// The case's name under its suite for Test Center ([`super::qualified_name`]).
    #[must_use]
    pub fn qualified_name(&self) -> String {
        super::qualified_name(self.classname.as_deref(), &self.name, self.file.as_deref())
    }

    /// Package and class as Verdict stores them ([`super::package_and_class`]).
    #[must_use]
    pub fn package_and_class(&self) -> (&str, &str) {
        super::package_and_class(self.classname.as_deref(), &self.name, self.file.as_deref())
    }

    /// Whether the case is flaky: passed, after at least one failed try.
    #[must_use]
    pub fn is_flaky(&self) -> bool {
        matches!(self.outcome, CaseOutcome::Passed) && (self.flaky || self.retries > 0)
    }
}

/// How a test case ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CaseOutcome {
    /// The test passed (possibly only after failed runs, see [`ReportCase::reruns`]).
    #[default]
    Passed,
    /// An assertion failed.
    Failed(Failure),
    /// The test ended with an unexpected error or exception.
    Errored(Failure),
    /// The test did not run.
    Skipped {
        /// Why, when the report says.
        message: Option<String>,
    },
}

/// Details of a failure or error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Failure {
    /// Short message; `None` when absent or empty.
    pub message: Option<String>,
    /// Exception or assertion type (JUnit `type`, xUnit.net `exception-type`,
    /// TestNG exception `class`; NUnit and TRX do not record it).
    pub kind: Option<String>,
    /// The stack trace or other detail text; empty when the report has none.
    pub text: String,
}

/// One extra run of a test recorded by Surefire's rerun mode
/// (`flakyFailure`, `flakyError`, `rerunFailure`, `rerunError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rerun {
    /// `true` for an assertion failure, `false` for an error.
    pub failed: bool,
    /// What went wrong in that run.
    pub failure: Failure,
}

/// Why a report could not be read, located by 1-based line and column
/// (columns count characters) so users can find the problem in the file.
///
/// Its `Display` is exactly `line L, column C: <message>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ReportError {
    /// 1-based line.
    pub line: u64,
    /// 1-based column, in characters.
    pub column: u64,
    /// What is wrong.
    pub message: String,
}
