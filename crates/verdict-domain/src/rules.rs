//! Octane's injection rules that need no storage: how a test is identified,
//! what makes two runs the same last run, how problems are reported in
//! `errorDetails`, and which final status a task gets (protocol §5).

/// Separator inside composite keys; cannot occur in XML text (it is a C0 control).
const SEP: char = '\u{1f}';

/// Identity of an automated test within a workspace: (component, package,
/// class, name), exact and case-sensitive; absent attributes count as `""`.
#[must_use]
pub fn automated_test_identity(component: &str, package: &str, class: &str, name: &str) -> String {
    format!("{component}{SEP}{package}{SEP}{class}{SEP}{name}")
}

/// Identity of a gherkin test that was not downloaded from Verdict: its feature path.
#[must_use]
pub fn gherkin_test_identity(path: &str) -> String {
    format!("path{SEP}{path}")
}

/// The test id in a feature tag `@TID<id>REV<rev>`, if the tag has that form.
#[must_use]
pub fn test_id_from_feature_tag(tag: &str) -> Option<i64> {
    let rest = tag.trim().strip_prefix("@TID")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || !rest[digits.len()..].starts_with("REV") {
        return None;
    }
    digits.parse().ok()
}

/// The parts that make two results the same "last run" (protocol §5.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunKeyParts<'a> {
    pub test_id: i64,
    pub release_id: Option<i64>,
    pub milestone_id: Option<i64>,
    pub program_id: Option<i64>,
    /// Taxonomy item ids, any order.
    pub taxonomy_ids: Vec<i64>,
    pub test_level_id: Option<i64>,
    /// Test type list-node ids, any order.
    pub test_type_ids: Vec<i64>,
    pub testing_tool_type_id: Option<i64>,
    pub framework_id: Option<i64>,
    pub external_run_id: Option<&'a str>,
    pub parent_suite_run_id: Option<i64>,
}

/// Canonical text of a run key: equal keys ⇔ same last run.
#[must_use]
pub fn run_key(parts: &RunKeyParts<'_>) -> String {
    fn opt(v: Option<i64>) -> String {
        v.map_or_else(String::new, |n| n.to_string())
    }
    fn set(ids: &[i64]) -> String {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    }
    format!(
        "{}{SEP}{}{SEP}{}{SEP}{}{SEP}{}{SEP}{}{SEP}{}{SEP}{}{SEP}{}{SEP}{}{SEP}{}",
        parts.test_id,
        opt(parts.release_id),
        opt(parts.milestone_id),
        opt(parts.program_id),
        set(&parts.taxonomy_ids),
        opt(parts.test_level_id),
        set(&parts.test_type_ids),
        opt(parts.testing_tool_type_id),
        opt(parts.framework_id),
        parts
            .external_run_id
            .map_or_else(String::new, |s| format!("={s}")),
        opt(parts.parent_suite_run_id),
    )
}

/// Where a processing problem applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Global,
    /// 0-based index in `test_runs`.
    Item(u64),
}

/// One problem found while processing a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub scope: Scope,
    pub message: String,
}

/// How a task ended, before it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Warning,
    Failed,
}

/// Derives the final status (protocol §5.2): a global stop or a skipped item
/// fails; otherwise any problem warns.
#[must_use]
pub fn outcome(global_stop: bool, items_skipped: u64, problems: usize) -> Outcome {
    if global_stop || items_skipped > 0 {
        Outcome::Failed
    } else if problems > 0 {
        Outcome::Warning
    } else {
        Outcome::Success
    }
}

/// At most this many entries are listed in `errorDetails`.
pub const MAX_ERROR_ENTRIES: usize = 100;

/// `errorDetails` text (protocol §4.4): `global: m;item 3: m`, `;` inside a
/// message becomes `,`, at most 100 entries then `… and N more`, each marked
/// ` (ignored)` when skip-errors turned it into a warning.
#[must_use]
pub fn error_details(problems: &[Problem], ignored: bool) -> Option<String> {
    if problems.is_empty() {
        return None;
    }
    let suffix = if ignored { " (ignored)" } else { "" };
    let mut entries: Vec<String> = problems
        .iter()
        .take(MAX_ERROR_ENTRIES)
        .map(|p| {
            let message = p.message.replace(';', ",");
            match p.scope {
                Scope::Global => format!("global: {message}{suffix}"),
                Scope::Item(i) => format!("item {i}: {message}{suffix}"),
            }
        })
        .collect();
    if problems.len() > MAX_ERROR_ENTRIES {
        entries.push(format!("… and {} more", problems.len() - MAX_ERROR_ENTRIES));
    }
    Some(entries.join(";"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_and_empty_attributes_identify_the_same_test() {
        assert_eq!(
            automated_test_identity("", "", "", "t"),
            automated_test_identity("", "", "", "t")
        );
        assert_ne!(
            automated_test_identity("a", "", "", "t"),
            automated_test_identity("", "a", "", "t")
        );
    }

    #[test]
    fn feature_tags_give_test_ids() {
        assert_eq!(test_id_from_feature_tag("@TID4002REV0.2.0"), Some(4002));
        assert_eq!(test_id_from_feature_tag(""), None);
        assert_eq!(test_id_from_feature_tag("@TIDxREV1"), None);
        assert_eq!(test_id_from_feature_tag("@TID12"), None);
    }

    #[test]
    fn run_keys_ignore_set_order_but_not_content() {
        let a = RunKeyParts {
            test_id: 1,
            taxonomy_ids: vec![3, 2],
            ..Default::default()
        };
        let b = RunKeyParts {
            test_id: 1,
            taxonomy_ids: vec![2, 3],
            ..Default::default()
        };
        let c = RunKeyParts {
            test_id: 1,
            taxonomy_ids: vec![2],
            ..Default::default()
        };
        let d = RunKeyParts {
            test_id: 1,
            taxonomy_ids: vec![2],
            external_run_id: Some(""),
            ..Default::default()
        };
        assert_eq!(run_key(&a), run_key(&b));
        assert_ne!(run_key(&a), run_key(&c));
        assert_ne!(run_key(&c), run_key(&d));
    }

    #[test]
    fn outcome_follows_the_status_table() {
        assert_eq!(outcome(false, 0, 0), Outcome::Success);
        assert_eq!(outcome(false, 0, 2), Outcome::Warning);
        assert_eq!(outcome(false, 1, 1), Outcome::Failed);
        assert_eq!(outcome(true, 0, 1), Outcome::Failed);
    }

    #[test]
    fn error_details_format() {
        let problems = vec![
            Problem {
                scope: Scope::Global,
                message: "release 'R;1' not found".into(),
            },
            Problem {
                scope: Scope::Item(1),
                message: "backlog_item_ref id 5 not found".into(),
            },
        ];
        assert_eq!(
            error_details(&problems, false).unwrap(),
            "global: release 'R,1' not found;item 1: backlog_item_ref id 5 not found"
        );
        assert!(
            error_details(&problems, true)
                .unwrap()
                .ends_with("not found (ignored)")
        );
        let many: Vec<Problem> = (0..105)
            .map(|i| Problem {
                scope: Scope::Item(i),
                message: "x".into(),
            })
            .collect();
        assert!(
            error_details(&many, false)
                .unwrap()
                .ends_with(";… and 5 more")
        );
        assert_eq!(error_details(&[], false), None);
    }
}
