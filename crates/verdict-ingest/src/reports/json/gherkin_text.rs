//! A Gherkin text rebuilt from a Cucumber JSON feature.
//!
//! Owns the `feature.file` of runs read from Cucumber JSON: Octane shows and
//! parses the feature file of a gherkin run, but the report does not carry
//! it, so it is rebuilt from what the report has (tags, keywords, names,
//! descriptions, steps with their data tables and doc strings). The
//! background is written once even though cucumber-jvm repeats it before
//! every scenario, and each outline example row appears as its own scenario,
//! as in the report.

use super::cucumber::{CucumberFeature, Element, Tag};

/// The feature as Gherkin text, indented by two spaces per level and ending
/// with a line break.
pub(super) fn render(feature: &CucumberFeature) -> String {
    let mut out = String::new();
    tags(&mut out, "", &feature.tags);
    let keyword = keyword_or(feature.keyword.as_deref(), "Feature");
    line(
        &mut out,
        "",
        &format!("{keyword}: {}", feature.name.as_deref().unwrap_or("")),
    );
    description(&mut out, feature.description.as_deref());
    let mut background_written = false;
    for element in &feature.elements {
        let is_background = element.kind.as_deref() == Some("background");
        if is_background && std::mem::replace(&mut background_written, true) {
            continue;
        }
        out.push('\n');
        scenario(&mut out, element, is_background);
    }
    out
}

fn scenario(out: &mut String, element: &Element, is_background: bool) {
    tags(out, "  ", &element.tags);
    let fallback = if is_background {
        "Background"
    } else {
        "Scenario"
    };
    let keyword = keyword_or(element.keyword.as_deref(), fallback);
    let name = element.name.as_deref().unwrap_or("");
    line(out, "  ", format!("{keyword}: {name}").trim_end());
    for step in element.steps.iter().filter(|s| !s.is_hook()) {
        line(out, "    ", &step.text());
        for row in &step.rows {
            let cells: Vec<String> = row.cells.iter().map(|c| c.replace('|', "\\|")).collect();
            line(out, "      ", &format!("| {} |", cells.join(" | ")));
        }
        if let Some(doc) = &step.doc_string {
            line(out, "      ", "\"\"\"");
            for text in doc.value.lines() {
                line(out, "      ", text);
            }
            line(out, "      ", "\"\"\"");
        }
    }
}

fn keyword_or<'a>(keyword: Option<&'a str>, fallback: &'a str) -> &'a str {
    keyword
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .unwrap_or(fallback)
}

fn tags(out: &mut String, indent: &str, tags: &[Tag]) {
    if !tags.is_empty() {
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        line(out, indent, &names.join(" "));
    }
}

fn description(out: &mut String, description: Option<&str>) {
    let Some(text) = description.filter(|d| !d.trim().is_empty()) else {
        return;
    };
    for text in text.lines() {
        line(out, "  ", text.trim());
    }
}

fn line(out: &mut String, indent: &str, text: &str) {
    out.push_str(indent);
    out.push_str(text);
    out.push('\n');
}
