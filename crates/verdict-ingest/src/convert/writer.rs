//! The payload writer: global context once, then one `test_run` per case (or
//! one `gherkin_test_run` per feature), with the collection tool's mapping:
//! a class name `com.acme.Cart` becomes package `com.acme`, class `Cart`.

use std::io::Write;

use verdict_domain::payload::{BuildRef, Context, GherkinRun, ReleaseLink};

use super::escape::{attribute, clip, text};
use crate::reports::{CaseOutcome, ReportCase};

/// Longest name the schema accepts (S1).
const NAME_MAX: usize = 255;

/// What every run of the payload shares.
#[derive(Debug, Clone, Default)]
pub struct PayloadOptions {
    pub build: Option<BuildRef>,
    pub context: Context,
    /// `started` of runs whose report gives no time (epoch ms).
    pub started_ms: i64,
    /// Write Verdict's `retries`/`flaky` attributes (only servers whose
    /// schema declares them accept them; Octane's does not).
    pub extensions: bool,
    /// Written as a comment, so that the payload differs from an identical
    /// earlier one and the server does not answer it from that push's task.
    pub nonce: Option<String>,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConvertStats {
    pub runs: u64,
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Passed runs that failed an earlier try (also counted in `passed`).
    pub flaky: u64,
}

/// Streams a payload to `out`.
pub struct PayloadWriter<W: Write> {
    out: W,
    buf: String,
    stats: ConvertStats,
    /// The default `started`, in decimal.
    started_text: String,
    extensions: bool,
}

/// Splits `pkg.sub.Class` into (`pkg.sub`, `Class`); no dot → ("", whole).
#[must_use]
pub fn split_class_name(class_name: &str) -> (&str, &str) {
    match class_name.bytes().rposition(|b| b == b'.') {
        Some(dot) if dot + 1 < class_name.len() => (&class_name[..dot], &class_name[dot + 1..]),
        _ => ("", class_name),
    }
}

impl<W: Write> PayloadWriter<W> {
    /// Writes the root, build and global context, and opens `test_runs`.
    ///
    /// # Errors
    /// Writing failed.
    pub fn new(out: W, options: &PayloadOptions) -> std::io::Result<Self> {
        let mut w = Self {
            out,
            buf: String::with_capacity(1 << 16),
            stats: ConvertStats::default(),
            started_text: options.started_ms.to_string(),
            extensions: options.extensions,
        };
        w.buf
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        if let Some(nonce) = &options.nonce {
            let safe: String = nonce.chars().filter(char::is_ascii_alphanumeric).collect();
            w.buf.push_str(&format!("<!-- verdict push {safe} -->\n"));
        }
        w.buf.push_str("<test_result>\n");
        if let Some(b) = &options.build {
            w.buf.push_str("  <build");
            w.attr("server_id", &b.server_id);
            w.attr("job_id", &b.job_id);
            w.attr("build_id", &b.build_id);
            for (name, value) in [
                ("job_name", &b.job_name),
                ("build_name", &b.build_name),
                ("sub_type", &b.sub_type),
                ("artifact_id", &b.artifact_id),
            ] {
                if let Some(v) = value {
                    w.attr(name, v);
                }
            }
            w.buf.push_str("/>\n");
        }
        w.context(&options.context);
        w.buf.push_str("  <test_runs>\n");
        w.flush_if_full()?;
        Ok(w)
    }

    fn attr(&mut self, name: &str, value: &str) {
        self.buf.push(' ');
        self.buf.push_str(name);
        self.buf.push_str("=\"");
        attribute(value, &mut self.buf);
        self.buf.push('"');
    }

    fn id_element(&mut self, element: &str, id: i64) {
        self.buf.push_str(&format!("  <{element} id=\"{id}\"/>\n"));
    }

    fn context(&mut self, c: &Context) {
        if let Some(s) = &c.suite {
            self.buf.push_str(&format!("  <suite_ref id=\"{}\"", s.id));
            if let Some(v) = &s.external_run_id {
                self.attr("external_run_id", v);
            }
            if let Some(v) = &s.component {
                self.attr("component", v);
            }
            self.buf.push_str("/>\n");
        }
        if let Some(p) = c.program {
            self.id_element("program_ref", p);
        }
        match &c.release {
            Some(ReleaseLink::ById(id)) => self.id_element("release_ref", *id),
            Some(ReleaseLink::ByName(name)) => {
                self.buf.push_str("  <release");
                self.attr("name", name);
                self.buf.push_str("/>\n");
            }
            None => {}
        }
        if let Some(m) = c.milestone {
            self.id_element("milestone_ref", m);
        }
        self.id_list("backlog_items", "backlog_item_ref", &c.backlog_items);
        self.id_list("product_areas", "product_area_ref", &c.product_areas);
        if !c.test_fields.is_empty() {
            self.buf.push_str("  <test_fields>");
            for f in &c.test_fields {
                self.buf.push_str("<test_field");
                self.attr("type", f.field_type.payload_name());
                self.attr("value", clip(&f.value, NAME_MAX));
                self.buf.push_str("/>");
            }
            self.buf.push_str("</test_fields>\n");
        }
        if !c.taxonomies.is_empty() {
            self.buf.push_str("  <environment>");
            for t in &c.taxonomies {
                self.buf.push_str("<taxonomy");
                self.attr("type", clip(&t.category, NAME_MAX));
                self.attr("value", clip(&t.value, NAME_MAX));
                self.buf.push_str("/>");
            }
            self.buf.push_str("</environment>\n");
        }
    }

    fn id_list(&mut self, outer: &str, inner: &str, ids: &[i64]) {
        if ids.is_empty() {
            return;
        }
        self.buf.push_str(&format!("  <{outer}>"));
        for id in ids {
            self.buf.push_str(&format!("<{inner} id=\"{id}\"/>"));
        }
        self.buf.push_str(&format!("</{outer}>\n"));
    }

    /// One converted test case; `module` names the report (suite) it came from.
    ///
    /// # Errors
    /// Writing failed.
    pub fn case(
        &mut self,
        module: Option<&str>,
        started_ms: Option<i64>,
        case: &ReportCase,
    ) -> std::io::Result<()> {
        let (package, class) = case.package_and_class();
        let name = if is_blank(&case.name) {
            "(unnamed)"
        } else {
            case.name.as_str()
        };
        let status = match &case.outcome {
            CaseOutcome::Passed => "Passed",
            CaseOutcome::Failed(_) | CaseOutcome::Errored(_) => "Failed",
            CaseOutcome::Skipped { .. } => "Skipped",
        };
        self.stats.runs += 1;
        let flaky = case.is_flaky();
        match status {
            "Passed" => self.stats.passed += 1,
            "Failed" => self.stats.failed += 1,
            _ => self.stats.skipped += 1,
        }
        self.stats.flaky += u64::from(flaky);
        self.buf.push_str("    <test_run");
        if let Some(m) = module.filter(|m| !m.is_empty()) {
            self.attr("module", clip(m, NAME_MAX));
        }
        self.attr("package", clip(package, NAME_MAX));
        self.attr("class", clip(class, NAME_MAX));
        self.attr("name", clip(name, NAME_MAX));
        self.buf.push_str(" duration=\"");
        push_int(&mut self.buf, case.duration_ms.max(0));
        self.buf.push_str("\" status=\"");
        self.buf.push_str(status);
        self.buf.push_str("\" started=\"");
        match case.started_ms.or(started_ms) {
            Some(ms) => push_int(&mut self.buf, ms),
            None => self.buf.push_str(&self.started_text),
        }
        self.buf.push('"');
        if self.extensions {
            self.retries(case.retries, flaky);
        }
        let failure = match &case.outcome {
            CaseOutcome::Failed(f) | CaseOutcome::Errored(f) => Some(f),
            _ => None,
        };
        let skip_message = match &case.outcome {
            CaseOutcome::Skipped { message } => message.as_deref(),
            _ => None,
        };
        if failure.is_none() && skip_message.is_none() {
            self.buf.push_str("/>\n");
            return self.flush_if_full();
        }
        self.buf.push('>');
        if let Some(f) = failure {
            self.buf.push_str("<error");
            if let Some(kind) = &f.kind {
                self.attr("type", kind);
            }
            if let Some(message) = &f.message {
                self.attr("message", message);
            }
            self.buf.push('>');
            text(&f.text, &mut self.buf);
            self.buf.push_str("</error>");
        }
        if let Some(message) = skip_message {
            self.buf.push_str("<description>");
            text(message, &mut self.buf);
            self.buf.push_str("</description>");
        }
        self.buf.push_str("</test_run>\n");
        self.flush_if_full()
    }

    fn retries(&mut self, retries: u32, flaky: bool) {
        if retries > 0 {
            self.buf.push_str(" retries=\"");
            push_int(&mut self.buf, i64::from(retries.min(1_000_000)));
            self.buf.push('"');
        }
        if flaky {
            self.buf.push_str(" flaky=\"true\"");
        }
    }

    /// One gherkin feature run.
    ///
    /// # Errors
    /// Writing failed.
    pub fn gherkin(&mut self, run: &GherkinRun) -> std::io::Result<()> {
        self.stats.runs += 1;
        let flaky = run.flaky && run.status == verdict_domain::status::RunStatus::Passed;
        self.stats.flaky += u64::from(flaky);
        match run.status {
            verdict_domain::status::RunStatus::Passed => self.stats.passed += 1,
            verdict_domain::status::RunStatus::Failed => self.stats.failed += 1,
            _ => self.stats.skipped += 1,
        }
        let f = &run.feature;
        self.buf.push_str("    <gherkin_test_run");
        self.attr("name", clip(&run.name, NAME_MAX));
        self.buf.push_str(&format!(
            " duration=\"{}\" status=\"{}\">",
            run.duration.max(0),
            run.status.display_name()
        ));
        if self.extensions {
            // The attributes go inside the start tag: reopen it.
            self.buf.pop();
            self.retries(run.retries, flaky);
            self.buf.push('>');
        }
        self.buf.push_str("<feature");
        self.attr("name", clip(&f.name, NAME_MAX));
        let path = if f.path.is_empty() {
            "unknown.feature"
        } else {
            f.path.as_str()
        };
        self.attr("path", clip(path, NAME_MAX));
        self.attr("tag", clip(&f.tag, NAME_MAX));
        self.buf.push_str(&format!(" started=\"{}\">", f.started));
        self.buf.push_str("<file>");
        text(&f.file, &mut self.buf);
        self.buf.push_str("</file><scenarios>");
        if let Some(background) = &f.background {
            self.buf.push_str("<background><steps>");
            for s in background {
                self.buf.push_str("<step");
                self.attr("name", clip(non_empty(&s.name), 3800));
                if let Some(d) = s.duration {
                    self.buf.push_str(&format!(" duration=\"{}\"", d.max(0)));
                }
                if let Some(st) = &s.status {
                    self.attr("status", clip(non_empty(st), NAME_MAX));
                }
                self.step_error(s.error_message.as_deref());
            }
            self.buf.push_str("</steps></background>");
        }
        for sc in &f.scenarios {
            self.buf.push_str("<scenario");
            self.attr("name", clip(&sc.name, 3800));
            self.buf
                .push_str(&format!(" status=\"{}\"", sc.status.display_name()));
            if let Some(i) = sc.outline_index {
                self.buf.push_str(&format!(" outlineIndex=\"{i}\""));
            }
            self.buf.push_str("><steps>");
            for s in &sc.steps {
                self.buf.push_str("<step");
                self.attr("name", clip(non_empty(&s.name), 3800));
                self.buf
                    .push_str(&format!(" duration=\"{}\"", s.duration.max(0)));
                self.attr("status", clip(non_empty(&s.status), NAME_MAX));
                self.step_error(s.error_message.as_deref());
            }
            self.buf.push_str("</steps></scenario>");
        }
        self.buf
            .push_str("</scenarios></feature></gherkin_test_run>\n");
        self.flush_if_full()
    }

    fn step_error(&mut self, message: Option<&str>) {
        match message {
            Some(m) => {
                self.buf.push_str("><error_message>");
                text(m, &mut self.buf);
                self.buf.push_str("</error_message></step>");
            }
            None => self.buf.push_str("/>"),
        }
    }

    fn flush_if_full(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= 1 << 16 {
            self.out.write_all(self.buf.as_bytes())?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Closes the document; returns the output and the counts.
    ///
    /// # Errors
    /// Writing failed.
    pub fn finish(mut self) -> std::io::Result<(W, ConvertStats)> {
        self.buf.push_str("  </test_runs>\n</test_result>\n");
        self.out.write_all(self.buf.as_bytes())?;
        self.out.flush()?;
        Ok((self.out, self.stats))
    }
}

/// Appends `n` in decimal, as `Display` writes it, without formatting machinery.
fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let mut v = n.unsigned_abs();
    let mut digits = [0_u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

fn non_empty(s: &str) -> &str {
    if is_blank(s) { "-" } else { s }
}

/// Whether `s` is empty or only whitespace (as [`str::trim`] sees it); most
/// names start with an ASCII character that settles it.
fn is_blank(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(&b) if b.is_ascii() && !char::from(b).is_whitespace() => false,
        _ => s.trim().is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::{Failure, ReportCase};

    fn case(name: &str, class: &str, outcome: CaseOutcome) -> ReportCase {
        ReportCase {
            name: name.into(),
            classname: Some(class.into()),
            duration_ms: 12,
            outcome,
            ..ReportCase::default()
        }
    }

    #[test]
    fn writes_a_valid_payload_the_validator_accepts() {
        let options = PayloadOptions {
            started_ms: 1_700_000_000_000,
            ..PayloadOptions::default()
        };
        let mut w = PayloadWriter::new(Vec::new(), &options).unwrap();
        w.case(
            Some("shop"),
            None,
            &case("adds", "com.acme.Cart", CaseOutcome::Passed),
        )
        .unwrap();
        let failure = Failure {
            message: Some("expected <1>\nbut \"2\"".into()),
            kind: Some("AssertionError".into()),
            text: "at Cart.java:3 & more".into(),
        };
        w.case(
            None,
            Some(5),
            &case("removes", "Cart", CaseOutcome::Failed(failure)),
        )
        .unwrap();
        w.case(
            None,
            None,
            &case(
                "pays",
                "",
                CaseOutcome::Skipped {
                    message: Some("no sandbox".into()),
                },
            ),
        )
        .unwrap();
        let (xml, stats) = w.finish().unwrap();
        assert_eq!(
            stats,
            ConvertStats {
                runs: 3,
                passed: 1,
                failed: 1,
                skipped: 1,
                flaky: 0,
            }
        );
        let text = String::from_utf8(xml.clone()).unwrap();
        assert!(text.contains(r#"module="shop" package="com.acme" class="Cart" name="adds" duration="12" status="Passed""#), "{text}");
        assert!(
            text.contains(r#"package="" class="Cart" name="removes""#),
            "{text}"
        );
        assert_eq!(crate::validate(&xml[..]).unwrap(), 3);
    }

    #[test]
    fn writes_integers_like_display() {
        for n in [0, 7, -7, 10, 1_700_000_000_000, i64::MAX, i64::MIN] {
            let mut s = String::new();
            push_int(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }

    #[test]
    fn splits_class_names_like_the_collection_tool() {
        assert_eq!(split_class_name("com.acme.Cart"), ("com.acme", "Cart"));
        assert_eq!(split_class_name("Cart"), ("", "Cart"));
        assert_eq!(split_class_name("odd."), ("", "odd."));
    }
}
