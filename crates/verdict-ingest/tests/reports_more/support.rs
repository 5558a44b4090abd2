//! Helpers of the `reports_more` tests: reading fixtures and generated
//! documents, and one-line summaries of events that make golden assertions
//! readable.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

use verdict_ingest::reports::{
    CaseOutcome, Failure, ReportCase, ReportError, ReportEvent, ReportFormat, detect_format,
    read_report,
};

pub fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reports")
        .join(name)
}

/// Reads a fixture, detected by content, through a buffer of `capacity`
/// bytes; the events delivered before an error are returned with it.
pub fn read_with(name: &str, capacity: usize) -> (Vec<ReportEvent>, Result<(), ReportError>) {
    let head = std::fs::read(path(name)).unwrap();
    let format = detect_format(&head[..head.len().min(1024)]).unwrap();
    let reader = BufReader::with_capacity(capacity, File::open(path(name)).unwrap());
    let mut events = Vec::new();
    let result = read_report(reader, format, |event| {
        events.push(event);
        Ok(())
    });
    (events, result)
}

/// All events of a well-formed fixture.
pub fn events(name: &str) -> Vec<ReportEvent> {
    let (events, result) = read_with(name, 8 * 1024);
    result.unwrap_or_else(|e| panic!("{name}: {e}"));
    events
}

/// All events of an in-memory document read as `format`.
pub fn events_of(doc: &str, format: ReportFormat) -> Result<Vec<ReportEvent>, ReportError> {
    let mut events = Vec::new();
    read_report(doc.as_bytes(), format, |event| {
        events.push(event);
        Ok(())
    })?;
    Ok(events)
}

/// One line per event with every field but the failure texts:
/// `+suite @timestamp {properties}`, `name [classname] 12ms outcome …`, `-`.
pub fn summary(events: &[ReportEvent]) -> Vec<String> {
    events.iter().map(describe).collect()
}

pub fn describe(event: &ReportEvent) -> String {
    match event {
        ReportEvent::SuiteStart {
            name,
            timestamp,
            properties,
        } => {
            let properties: Vec<_> = properties.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let timestamp = timestamp.as_deref().unwrap_or("-");
            format!("+{name} @{timestamp} {{{}}}", properties.join(", "))
        }
        ReportEvent::SuiteEnd => "-".to_owned(),
        ReportEvent::Case(case) => {
            let classname = case.classname.as_deref().unwrap_or("-");
            let outcome = match &case.outcome {
                CaseOutcome::Passed => "passed".to_owned(),
                CaseOutcome::Failed(f) => brief("failed", f),
                CaseOutcome::Errored(f) => brief("errored", f),
                CaseOutcome::Skipped { message } => {
                    format!("skipped({})", message.as_deref().unwrap_or("-"))
                }
            };
            let mut line = format!(
                "{} [{classname}] {}ms {outcome}",
                case.name, case.duration_ms
            );
            assert!(case.reruns.is_empty(), "only JUnit has reruns");
            if let Some(out) = &case.system_out {
                line = format!("{line} out={out:?}");
            }
            if let Some(err) = &case.system_err {
                line = format!("{line} err={err:?}");
            }
            line
        }
    }
}

pub fn brief(label: &str, failure: &Failure) -> String {
    let kind = failure.kind.as_deref().unwrap_or("-");
    let message = failure.message.as_deref().unwrap_or("-");
    format!("{label}({kind}: {message})")
}

pub fn case<'a>(events: &'a [ReportEvent], name: &str) -> &'a ReportCase {
    events
        .iter()
        .find_map(|event| match event {
            ReportEvent::Case(case) if case.name == name => Some(case),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no case {name}"))
}

/// The failure text (stack trace) of a failed or errored case.
pub fn trace<'a>(events: &'a [ReportEvent], name: &str) -> &'a str {
    match &case(events, name).outcome {
        CaseOutcome::Failed(f) | CaseOutcome::Errored(f) => &f.text,
        other => panic!("{name} is {other:?}"),
    }
}

/// A reader over generated chunks, so a large document never exists whole.
pub struct Chunks<I> {
    chunks: I,
    current: Vec<u8>,
    at: usize,
}

impl<I: Iterator<Item = Vec<u8>>> Read for Chunks<I> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<I: Iterator<Item = Vec<u8>>> BufRead for Chunks<I> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.at == self.current.len() {
            match self.chunks.next() {
                Some(chunk) => (self.current, self.at) = (chunk, 0),
                None => return Ok(&[]),
            }
        }
        Ok(&self.current[self.at..])
    }

    fn consume(&mut self, amt: usize) {
        self.at += amt;
    }
}

/// Streams `cases` generated case elements between `open` and `close`,
/// counting cases and failures.
pub fn stream(
    format: ReportFormat,
    open: &str,
    case: impl Fn(usize) -> String,
    close: &str,
    cases: usize,
) -> (usize, usize) {
    let chunks = std::iter::once(open.as_bytes().to_vec())
        .chain((0..cases).map(move |i| case(i).into_bytes()))
        .chain(std::iter::once(close.as_bytes().to_vec()));
    let reader = Chunks {
        chunks,
        current: Vec::new(),
        at: 0,
    };
    let (mut seen, mut failed) = (0, 0);
    read_report(reader, format, |event| {
        if let ReportEvent::Case(case) = event {
            seen += 1;
            failed += usize::from(matches!(case.outcome, CaseOutcome::Failed(_)));
        }
        Ok(())
    })
    .unwrap();
    (seen, failed)
}
