//! The corpus made by the real frameworks (`fixtures/*/`, see
//! `fixtures/README.md`) pushed the three ways users push it: `verdict push`
//! (Octane), `verdict push --protocol testcenter`, and Test Center's `POST
//! /import`. For every report set the stored tests and their final
//! passed/failed/skipped (and flaky) counts must equal the framework's own
//! summary (`expected` in `expected.json`) — or, where the report itself
//! loses what the summary knows, what its `verdict` entry says and why.
//! Pushing the same files again must change nothing.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use support::{Backend, Server, repo_root, text, verdict};

#[derive(Deserialize)]
struct Expected {
    framework: String,
    report_sets: Vec<ReportSet>,
}

#[derive(Deserialize)]
struct ReportSet {
    name: String,
    format: String,
    files: Vec<String>,
    expected: Counts,
    /// What Verdict stores where the report cannot carry the summary's counts.
    verdict: Option<Deviation>,
}

#[derive(Deserialize)]
struct Deviation {
    #[serde(flatten)]
    counts: Option<Counts>,
    /// Set when Verdict refuses the files, with a part of the message.
    rejected: Option<String>,
    #[allow(dead_code)]
    why: String,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Counts {
    tests: u64,
    passed: u64,
    failed: u64,
    skipped: u64,
    flaky: Option<u64>,
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.tests, self.passed, self.failed, self.skipped
        )?;
        match self.flaky {
            Some(k) => write!(f, "/{k}"),
            None => Ok(()),
        }
    }
}

/// Equal where `want` says something (flaky only when it names it).
fn agree(want: &Counts, got: &Counts) -> bool {
    (want.tests, want.passed, want.failed, want.skipped)
        == (got.tests, got.passed, got.failed, got.skipped)
        && want.flaky.is_none_or(|k| Some(k) == got.flaky)
}

struct Case {
    id: String,
    framework_dir: PathBuf,
    set: ReportSet,
}

fn corpus() -> Vec<Case> {
    let root = repo_root().join("fixtures");
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let file = dir.join("expected.json");
        if !file.is_file() {
            continue;
        }
        let expected: Expected = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for set in expected.report_sets {
            out.push(Case {
                id: format!("{}-{}", expected.framework, set.name),
                framework_dir: dir.clone(),
                set,
            });
        }
    }
    assert!(
        out.len() >= 40,
        "the corpus is missing: {} report sets",
        out.len()
    );
    out
}

/// Tallies runs by final status.
fn tally(statuses: impl IntoIterator<Item = (String, bool)>) -> Counts {
    let mut c = Counts {
        flaky: Some(0),
        ..Counts::default()
    };
    for (status, flaky) in statuses {
        c.tests += 1;
        match status.as_str() {
            "passed" => c.passed += 1,
            "failed" => c.failed += 1,
            _ => c.skipped += 1,
        }
        if flaky {
            c.flaky = c.flaky.map(|k| k + 1);
        }
    }
    c
}

fn status_of(run: &Value) -> String {
    run["status"]["logical_name"]
        .as_str()
        .and_then(|n| n.rsplit('.').next())
        .unwrap_or("?")
        .to_owned()
}

/// What the Octane API shows for a workspace: last runs (one per test and
/// context), or for Cucumber the scenarios of the gherkin runs.
async fn octane_counts(server: &Server, ws: i64, cucumber: bool) -> Counts {
    if cucumber {
        let q = "%22kind%20EQ%20%5Escenario%5E%22";
        let steps = server.all(ws, "run_steps", "status", Some(q)).await;
        // Flaky marks are kept per feature run; cucumber reports have none here.
        return tally(
            steps
                .iter()
                .map(|s| (s["status"].as_str().unwrap_or("?").to_owned(), false)),
        );
    }
    let runs = server.all(ws, "runs", "status,flaky", None).await;
    tally(runs.iter().map(|r| (status_of(r), r["flaky"] == true)))
}

/// The case runs of a Test Center project (runs with a parent run), the
/// newest per test: Test Center keeps every execution as a run of its own
/// (`go test -count=2` gives two).
async fn testcenter_counts(server: &Server, project: &str) -> Counts {
    let list = server.get("/api/shared_spaces/1001/workspaces").await;
    let ws = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == project)
        .and_then(|w| w["id"].as_str()?.parse::<i64>().ok())
        .unwrap_or_else(|| panic!("no project {project}: {list}"));
    let q = "%22!parent_run%20EQ%20%7Bnull%7D%22";
    let runs = server.all(ws, "runs", "status,flaky,test", Some(q)).await;
    let mut newest: std::collections::BTreeMap<String, (i64, &Value)> = Default::default();
    for run in &runs {
        let id: i64 = run["id"].as_str().unwrap().parse().unwrap();
        let test = run["test"]["id"].as_str().unwrap().to_owned();
        let slot = newest.entry(test).or_insert((id, run));
        if id > slot.0 {
            *slot = (id, run);
        }
    }
    tally(
        newest
            .values()
            .map(|(_, r)| (status_of(r), r["flaky"] == true)),
    )
}

fn files(case: &Case) -> Vec<String> {
    case.set
        .files
        .iter()
        .flat_map(|pattern| {
            let path = case.framework_dir.join(pattern);
            if pattern.contains('*') {
                let dir = path.parent().unwrap().to_owned();
                let (prefix, suffix) = path
                    .file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .split_once('*')
                    .unwrap();
                let mut found: Vec<String> = std::fs::read_dir(&dir)
                    .unwrap()
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        let n = p.file_name().unwrap().to_str().unwrap();
                        n.starts_with(prefix) && n.ends_with(suffix)
                    })
                    .map(|p| p.display().to_string())
                    .collect();
                found.sort();
                assert!(!found.is_empty(), "{}: {pattern} matches nothing", case.id);
                found
            } else {
                assert!(path.exists(), "{}: {} is missing", case.id, path.display());
                vec![path.display().to_string()]
            }
        })
        .collect()
}

struct Outcome {
    path: &'static str,
    problem: Option<String>,
}

async fn via_octane(server: &Server, case: &Case, ws: i64, want: &Want<'_>) -> Outcome {
    let path = "verdict push";
    let work = server.dir.path();
    let wid = ws.to_string();
    let created = server.admin(&["workspace", "create", "--id", &wid, "--name", &case.id]);
    assert!(created.status.success(), "{}", text(&created));
    let pw = server.password_file();
    let files = files(case);
    let push = |extra: &[&str]| {
        let mut args = vec![
            "push",
            "--server",
            &server.url,
            "--workspace",
            &wid,
            "--user",
            "admin",
            "--password-file",
            pw.to_str().unwrap(),
            "--check-result",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        args.extend(files.iter().map(String::as_str));
        verdict(&args, work)
    };
    let out = push(&[]);
    if let Some(reason) = want.rejected {
        let ok = !out.status.success() && text(&out).contains(reason);
        return Outcome {
            path,
            problem: (!ok).then(|| format!("expected a refusal saying '{reason}': {}", text(&out))),
        };
    }
    if !out.status.success() {
        return Outcome {
            path,
            problem: Some(format!("push failed: {}", text(&out))),
        };
    }
    let cucumber = case.set.format == "cucumber-json";
    let got = octane_counts(server, ws, cucumber).await;
    if !agree(&want.counts, &got) {
        return Outcome {
            path,
            problem: Some(format!(
                "stored {got}, want {}; {}",
                want.counts,
                text(&out).trim()
            )),
        };
    }
    let previous = server.all(ws, "previous_runs", "id", None).await.len();
    // The same files again, past the dedupe: nothing may change.
    let again = push(&["--no-dedupe"]);
    let after = octane_counts(server, ws, cucumber).await;
    let previous_after = server.all(ws, "previous_runs", "id", None).await.len();
    let problem = if !again.status.success() {
        Some(format!("re-push failed: {}", text(&again)))
    } else if after != got || previous_after != previous {
        Some(format!(
            "re-push changed the store: {got} → {after}, previous runs {previous} → {previous_after}"
        ))
    } else {
        None
    };
    Outcome { path, problem }
}

async fn via_testcenter_cli(server: &Server, case: &Case, want: &Want<'_>) -> Outcome {
    let path = "push --protocol testcenter";
    let project = format!("{}-cli", case.id);
    let pw = server.password_file();
    let files = files(case);
    let push = || {
        let mut args = vec![
            "push",
            "--protocol",
            "testcenter",
            "--project",
            &project,
            "--batch",
            "nightly-1",
            "--tag",
            "os:linux",
            "--server",
            &server.url,
            "--user",
            "admin",
            "--password-file",
            pw.to_str().unwrap(),
        ];
        args.extend(files.iter().map(String::as_str));
        verdict(&args, server.dir.path())
    };
    let out = push();
    if let Some(reason) = want.rejected {
        let ok = !out.status.success() && text(&out).contains(reason);
        return Outcome {
            path,
            problem: (!ok).then(|| format!("expected a refusal saying '{reason}': {}", text(&out))),
        };
    }
    if !out.status.success() {
        return Outcome {
            path,
            problem: Some(format!("push failed: {}", text(&out))),
        };
    }
    let got = testcenter_counts(server, &project).await;
    if !agree(&want.counts, &got) {
        return Outcome {
            path,
            problem: Some(format!(
                "stored {got}, want {}; {}",
                want.counts,
                text(&out).trim()
            )),
        };
    }
    let again = push();
    let after = testcenter_counts(server, &project).await;
    let problem =
        (!again.status.success() || after != got || !text(&again).contains("already imported"))
            .then(|| {
                format!(
                    "re-push changed the store: {got} → {after}: {}",
                    text(&again)
                )
            });
    Outcome { path, problem }
}

async fn import(server: &Server, project: &str, files: &[String]) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new()
        .text("project", project.to_owned())
        .text("batch", "nightly-1")
        .text("label[]", "os=linux");
    for file in files {
        let name = Path::new(file)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let part = reqwest::multipart::Part::bytes(std::fs::read(file).unwrap()).file_name(name);
        form = form.part("result[]", part);
    }
    let r = reqwest::Client::new()
        .post(format!("{}/import", server.url))
        .basic_auth("admin", Some(support::PASSWORD))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn via_import(server: &Server, case: &Case, want: &Want<'_>) -> Outcome {
    let path = "POST /import";
    let project = format!("{}-import", case.id);
    let files = files(case);
    let (status, reply) = import(server, &project, &files).await;
    if let Some(reason) = want.rejected {
        let ok = status == 400 && reply.to_string().contains(reason);
        return Outcome {
            path,
            problem: (!ok).then(|| format!("expected a 400 saying '{reason}': {status} {reply}")),
        };
    }
    if status != 201 {
        return Outcome {
            path,
            problem: Some(format!("import answered {status} {reply}")),
        };
    }
    let got = testcenter_counts(server, &project).await;
    if !agree(&want.counts, &got) {
        return Outcome {
            path,
            problem: Some(format!("stored {got}, want {}; reply {reply}", want.counts)),
        };
    }
    let (again, reply) = import(server, &project, &files).await;
    let after = testcenter_counts(server, &project).await;
    let skipped = reply["alreadyImported"].as_array().map_or(0, Vec::len);
    let problem = (again != 201 || after != got || skipped != files.len())
        .then(|| format!("re-import changed the store: {got} → {after}: {again} {reply}"));
    Outcome { path, problem }
}

struct Want<'a> {
    counts: Counts,
    rejected: Option<&'a str>,
}

async fn corpus_on(backend: Backend) {
    let server = Server::spawn(backend, "corpus").await;
    let mut problems = Vec::new();
    let mut checked = 0;
    for (i, case) in corpus().iter().enumerate() {
        let deviation = case.set.verdict.as_ref();
        let want = Want {
            counts: deviation
                .and_then(|d| d.counts)
                .unwrap_or(case.set.expected),
            rejected: deviation.and_then(|d| d.rejected.as_deref()),
        };
        let ws = 5000 + i64::try_from(i).unwrap();
        for outcome in [
            via_octane(&server, case, ws, &want).await,
            via_testcenter_cli(&server, case, &want).await,
            via_import(&server, case, &want).await,
        ] {
            checked += 1;
            if let Some(problem) = outcome.problem {
                problems.push(format!("{} via {}: {problem}", case.id, outcome.path));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{backend:?}: {} of {checked} checks failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_corpus_is_stored_exactly_on_sqlite() {
    corpus_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_corpus_is_stored_exactly_on_postgres() {
    if support::backends().contains(&Backend::Postgres) {
        corpus_on(Backend::Postgres).await;
    }
}
