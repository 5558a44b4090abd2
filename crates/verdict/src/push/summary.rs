//! `verdict push --summary`: after the tasks end, each result set they wrote
//! into is compared with the previous set of its series (Verdict's insight
//! API), printed for people, written as Markdown for `$GITHUB_STEP_SUMMARY`
//! or a merge-request note, and judged by `--fail-on` (a quality gate that
//! flaky and muted tests never break).

use std::fmt::Write as _;
use std::path::Path;

use clap::ValueEnum;
use serde_json::Value;

use super::client::OctaneClient;

type BoxError = Box<dyn std::error::Error>;

/// Entries shown per list on the terminal (the Markdown lists up to the API's page).
const SHOWN: usize = 10;
/// Entries asked for per list.
const FETCHED: usize = 200;

/// What makes `verdict push` exit non-zero besides a failed push or task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FailOn {
    /// A failure that is new in this result set (not muted).
    New,
    /// Any failure that is not muted (new or still failing).
    Any,
    /// Only a push or task error.
    #[default]
    Never,
}

impl FailOn {
    /// The flag's value.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Any => "any",
            Self::Never => "never",
        }
    }
}

/// One compared result set, as the API answered it.
pub struct SetSummary {
    pub detail: Value,
}

impl SetSummary {
    fn count(&self, list: &str) -> u64 {
        self.detail[list]["total_count"].as_u64().unwrap_or(0)
    }

    /// Whether the gate fails on this set.
    #[must_use]
    pub fn fails(&self, gate: FailOn) -> bool {
        match gate {
            FailOn::New => self.count("new_failures") > 0,
            FailOn::Any => self.count("new_failures") + self.count("still_failing") > 0,
            FailOn::Never => false,
        }
    }
}

/// The result sets `task_ids` wrote into, each compared (a build pushed in
/// several files is one set, listed once).
pub async fn fetch(
    client: &mut OctaneClient,
    task_ids: &[i64],
) -> Result<Vec<SetSummary>, BoxError> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for task in task_ids {
        let list = client.insight(&format!("result_sets?task={task}")).await?;
        for set in list["data"].as_array().into_iter().flatten() {
            let Some(id) = set["id"].as_str() else {
                continue;
            };
            if seen.iter().any(|s| s == id) {
                continue;
            }
            seen.push(id.to_owned());
            let detail = client
                .insight(&format!("result_sets/{id}?limit={FETCHED}"))
                .await?;
            out.push(SetSummary { detail });
        }
    }
    Ok(out)
}

fn test_name(entry: &Value) -> String {
    let t = &entry["test"];
    let name = t["name"].as_str().unwrap_or("?");
    let class = [t["package"].as_str(), t["class_name"].as_str()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(".");
    let env = entry["context"]["environment"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let mut out = if class.is_empty() {
        name.to_owned()
    } else {
        format!("{class}.{name}")
    };
    if !env.is_empty() {
        out.push_str(&format!(" [{env}]"));
    }
    out
}

fn since(entry: &Value) -> Option<String> {
    let s = &entry["failing_since"];
    if s.is_null() {
        return None;
    }
    let mut text = format!(
        "failing since {} ({})",
        s["result_set_name"].as_str().unwrap_or("?"),
        s["started"].as_str().unwrap_or("?")
    );
    match entry["last_passed"]["result_set_name"].as_str() {
        Some(last) => text.push_str(&format!(", last passed in {last}")),
        None => text.push_str(", never passed"),
    }
    Some(text)
}

fn triage(entry: &Value) -> Option<String> {
    let t = &entry["triage"];
    let parts: Vec<&str> = [t["note"].as_str(), t["link"].as_str()]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| parts.join(" — "))
}

/// (list key, title) in the order they are shown.
const LISTS: &[(&str, &str)] = &[
    ("new_failures", "New failures"),
    ("still_failing", "Still failing"),
    ("fixed", "Fixed"),
    ("flaky", "Flaky"),
    ("muted", "Muted"),
    ("new_tests", "New tests"),
    ("removed", "Removed"),
];

fn headline(set: &Value, previous: &Value) -> String {
    let c = &set["counts"];
    let n = |k: &str| c[k].as_u64().unwrap_or(0);
    let against = previous["name"].as_str().map_or_else(
        || "first of its series".to_owned(),
        |p| format!("compared with {p}"),
    );
    format!(
        "{} ({}), {against}: {} results, {} passed, {} failed, {} skipped, {} flaky, {} muted",
        set["name"].as_str().unwrap_or("?"),
        set["series"]["name"].as_str().unwrap_or("?"),
        n("total"),
        n("passed"),
        n("failed"),
        n("skipped"),
        n("flaky"),
        n("muted"),
    )
}

/// The terminal form.
#[must_use]
pub fn text(summaries: &[SetSummary]) -> String {
    let mut out = String::new();
    for s in summaries {
        let d = &s.detail;
        let _ = writeln!(out, "{}", headline(&d["result_set"], &d["previous"]));
        for (key, title) in LISTS {
            let total = s.count(key);
            if total == 0 {
                continue;
            }
            let _ = writeln!(out, "  {title} ({total}):");
            let entries = d[*key]["data"].as_array().cloned().unwrap_or_default();
            for e in entries.iter().take(SHOWN) {
                let mut line = format!("    {}", test_name(e));
                if matches!(*key, "new_failures" | "still_failing")
                    && let Some(since) = since(e)
                {
                    line.push_str(&format!(" — {since}"));
                }
                if let Some(t) = triage(e) {
                    line.push_str(&format!(" — triaged: {t}"));
                }
                let _ = writeln!(out, "{line}");
            }
            if total > SHOWN as u64 {
                let _ = writeln!(out, "    … and {} more", total - SHOWN as u64);
            }
        }
    }
    out
}

/// Markdown for a CI step summary or a merge-request note (test names are
/// data: they are escaped, never markup).
#[must_use]
pub fn markdown(summaries: &[SetSummary]) -> String {
    let mut out = String::new();
    for s in summaries {
        let d = &s.detail;
        let set = &d["result_set"];
        let _ = writeln!(out, "### {}\n", escape(set["name"].as_str().unwrap_or("?")));
        let c = &set["counts"];
        let n = |k: &str| c[k].as_u64().unwrap_or(0);
        let _ = writeln!(
            out,
            "{} · **{}** results: {} passed, {} failed, {} skipped, {} flaky, {} muted\n",
            escape(&d["previous"]["name"].as_str().map_or_else(
                || "first of its series".to_owned(),
                |p| format!("compared with {p}")
            )),
            n("total"),
            n("passed"),
            n("failed"),
            n("skipped"),
            n("flaky"),
            n("muted"),
        );
        let _ = writeln!(out, "| | count |\n|---|---:|");
        for (key, title) in LISTS {
            let _ = writeln!(out, "| {title} | {} |", s.count(key));
        }
        out.push('\n');
        for (key, title) in LISTS {
            let entries = d[*key]["data"].as_array().cloned().unwrap_or_default();
            if entries.is_empty() || matches!(*key, "new_tests" | "removed") {
                continue;
            }
            let _ = writeln!(
                out,
                "<details{}><summary>{title} ({})</summary>\n",
                if *key == "new_failures" { " open" } else { "" },
                s.count(key)
            );
            let _ = writeln!(out, "| test | since | triage |\n|---|---|---|");
            for e in &entries {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    escape(&test_name(e)),
                    escape(&since(e).unwrap_or_default()),
                    escape(&triage(e).unwrap_or_default())
                );
            }
            let shown = entries.len() as u64;
            if s.count(key) > shown {
                let _ = writeln!(out, "\n… and {} more", s.count(key) - shown);
            }
            out.push_str("\n</details>\n\n");
        }
    }
    out
}

/// Escapes text for a Markdown table cell (GitHub-flavoured).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' => {
                out.push('\\');
                out.push(ch);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Appends the Markdown to `path` (`$GITHUB_STEP_SUMMARY` is appended to by every step).
pub fn write_markdown(path: &Path, summaries: &[SetSummary]) -> Result<(), BoxError> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("--summary-markdown {}: {e}", path.display()))?;
    f.write_all(markdown(summaries).as_bytes())
        .map_err(|e| format!("--summary-markdown {}: {e}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> SetSummary {
        SetSummary {
            detail: json!({
                "result_set": {"name": "push 7", "series": {"name": "pushes by ci"},
                    "counts": {"total": 3, "passed": 1, "failed": 2, "skipped": 0, "flaky": 0, "muted": 1}},
                "previous": {"name": "push 6"},
                "new_failures": {"total_count": 1, "data": [{"test": {"name": "<b>x|y</b>", "package": "p", "class_name": "C"},
                    "context": {"environment": []}, "failing_since": {"result_set_name": "push 7", "started": "2026-12-01T10:00:00Z"},
                    "last_passed": {"result_set_name": "push 6"}, "triage": {"note": "known", "link": null}}]},
                "still_failing": {"total_count": 0, "data": []},
                "fixed": {"total_count": 0, "data": []}, "flaky": {"total_count": 0, "data": []},
                "muted": {"total_count": 1, "data": [{"test": {"name": "q"}, "context": {"environment": ["Browser: Chrome"]}}]},
                "new_tests": {"total_count": 0, "data": []}, "removed": {"total_count": 0, "data": []}
            }),
        }
    }

    #[test]
    fn gate_counts_unmuted_failures_only() {
        let s = sample();
        assert!(s.fails(FailOn::New));
        assert!(s.fails(FailOn::Any));
        assert!(!s.fails(FailOn::Never));
        let mut muted_only = sample();
        muted_only.detail["new_failures"] = json!({"total_count": 0, "data": []});
        assert!(!muted_only.fails(FailOn::New));
        assert!(
            !muted_only.fails(FailOn::Any),
            "a muted failure never breaks the gate"
        );
    }

    #[test]
    fn text_names_failing_since_and_triage() {
        let t = text(&[sample()]);
        assert!(
            t.contains("push 7 (pushes by ci), compared with push 6: 3 results"),
            "{t}"
        );
        assert!(t.contains("New failures (1):"));
        assert!(t.contains("p.C.<b>x|y</b> — failing since push 7 (2026-12-01T10:00:00Z), last passed in push 6 — triaged: known"), "{t}");
        assert!(t.contains("Muted (1):\n    q [Browser: Chrome]"), "{t}");
    }

    #[test]
    fn markdown_escapes_test_names() {
        let m = markdown(&[sample()]);
        assert!(m.contains("| New failures | 1 |"), "{m}");
        assert!(m.contains("p.C.&lt;b&gt;x\\|y&lt;/b&gt;"), "{m}");
        assert!(!m.contains("<b>"));
    }
}
