//! `gherkin_test_run` and its feature (protocol §3.4).
//!
//! Owns the gherkin run: `feature` with its `file` text (any content),
//! optional `scenarios` holding an optional `background` and the scenarios,
//! each with exactly one `steps`.

use std::io::BufRead;

use verdict_domain::payload::{BackgroundStep, Feature, GherkinRun, Scenario};

use super::attrs::{ElemSpec, opt, req};
use super::error::PayloadError;
use super::seq::{Children, Seq, once, optional, repeated};
use super::test_run::{error_message, steps};
use super::values::{L0, L1, S0, S1, Ty};
use super::xml::{Start, Xml};

static GHERKIN_RUN: ElemSpec = ElemSpec {
    name: "gherkin_test_run",
    attrs: &[
        req("name", S0),
        req("duration", Ty::Long),
        req("status", Ty::Status),
        opt("external_run_id", S0),
        // Verdict extensions (docs/formats.md): retries and the flaky mark.
        opt("retries", Ty::Count),
        opt("flaky", Ty::Bool),
    ],
    open: false,
};
static GHERKIN_RUN_CHILDREN: Children = Children {
    parent: "gherkin_test_run",
    slots: &[once(&["feature"])],
};
static FEATURE: ElemSpec = ElemSpec {
    name: "feature",
    attrs: &[
        req("name", S0),
        req("path", S1),
        req("tag", S0),
        req("started", Ty::Long),
        opt("identifier", S0),
    ],
    open: false,
};
static FEATURE_CHILDREN: Children = Children {
    parent: "feature",
    slots: &[once(&["file"]), optional(&["scenarios"])],
};
static FILE: ElemSpec = ElemSpec {
    name: "file",
    attrs: &[],
    open: true,
};
static SCENARIOS: ElemSpec = ElemSpec {
    name: "scenarios",
    attrs: &[],
    open: false,
};
static SCENARIOS_CHILDREN: Children = Children {
    parent: "scenarios",
    slots: &[optional(&["background"]), repeated(&["scenario"], false)],
};
static BACKGROUND: ElemSpec = ElemSpec {
    name: "background",
    attrs: &[],
    open: false,
};
static BACKGROUND_CHILDREN: Children = Children {
    parent: "background",
    slots: &[optional(&["steps"])],
};
static BACKGROUND_STEPS: ElemSpec = ElemSpec {
    name: "steps",
    attrs: &[],
    open: false,
};
static BACKGROUND_STEPS_CHILDREN: Children = Children {
    parent: "steps",
    slots: &[repeated(&["step"], false)],
};
static BACKGROUND_STEP: ElemSpec = ElemSpec {
    name: "step",
    attrs: &[
        req("name", L1),
        opt("duration", Ty::Long),
        opt("status", S1),
    ],
    open: false,
};
static BACKGROUND_STEP_CHILDREN: Children = Children {
    parent: "step",
    slots: &[optional(&["error_message"])],
};
static SCENARIO: ElemSpec = ElemSpec {
    name: "scenario",
    attrs: &[
        req("name", L0),
        req("status", Ty::Status),
        opt("outlineIndex", Ty::Long),
    ],
    open: false,
};
static SCENARIO_CHILDREN: Children = Children {
    parent: "scenario",
    slots: &[once(&["steps"])],
};

/// Reads a `gherkin_test_run` whose start tag is `start`.
pub(crate) fn read<R: BufRead>(xml: &mut Xml<R>, start: Start) -> Result<GherkinRun, PayloadError> {
    let a = xml.tag(start).attrs(&GHERKIN_RUN)?;
    let (name, duration, status, external_run_id) = (
        a.required(0),
        a.long(1).unwrap_or_default(),
        a.status(2),
        a.string(3),
    );
    let (retries, flaky) = (a.count(4), a.bool(5).unwrap_or(false));
    let mut seq = Seq::new(&GHERKIN_RUN_CHILDREN);
    let mut feature = None;
    while let Some(child) = xml.child("gherkin_test_run")? {
        seq.accept(&xml.tag(child))?;
        feature = Some(read_feature(xml, child)?);
    }
    seq.finish(xml.last_end())?;
    let Some(feature) = feature else {
        return Err(PayloadError::invalid(
            xml.last_end(),
            "<gherkin_test_run> is missing <feature>",
        ));
    };
    Ok(GherkinRun {
        name,
        duration,
        status,
        external_run_id,
        retries,
        flaky,
        feature,
    })
}

fn read_feature<R: BufRead>(xml: &mut Xml<R>, start: Start) -> Result<Feature, PayloadError> {
    let a = xml.tag(start).attrs(&FEATURE)?;
    let mut feature = Feature {
        name: a.required(0),
        path: a.required(1),
        tag: a.required(2),
        started: a.long(3).unwrap_or_default(),
        identifier: a.string(4),
        file: String::new(),
        background: None,
        scenarios: Vec::new(),
    };
    let mut seq = Seq::new(&FEATURE_CHILDREN);
    while let Some(child) = xml.child("feature")? {
        if seq.accept(&xml.tag(child))? == 0 {
            xml.tag(child).attrs(&FILE)?;
            xml.any_content("file", &mut feature.file)?;
        } else {
            read_scenarios(xml, child, &mut feature)?;
        }
    }
    seq.finish(xml.last_end())?;
    Ok(feature)
}

fn read_scenarios<R: BufRead>(
    xml: &mut Xml<R>,
    start: Start,
    feature: &mut Feature,
) -> Result<(), PayloadError> {
    xml.tag(start).attrs(&SCENARIOS)?;
    let mut seq = Seq::new(&SCENARIOS_CHILDREN);
    while let Some(child) = xml.child("scenarios")? {
        if seq.accept(&xml.tag(child))? == 0 {
            feature.background = Some(read_background(xml, child)?);
        } else {
            feature.scenarios.push(read_scenario(xml, child)?);
        }
    }
    Ok(())
}

fn read_background<R: BufRead>(
    xml: &mut Xml<R>,
    start: Start,
) -> Result<Vec<BackgroundStep>, PayloadError> {
    xml.tag(start).attrs(&BACKGROUND)?;
    let mut seq = Seq::new(&BACKGROUND_CHILDREN);
    let mut steps = Vec::new();
    while let Some(child) = xml.child("background")? {
        seq.accept(&xml.tag(child))?;
        xml.tag(child).attrs(&BACKGROUND_STEPS)?;
        let mut inner = Seq::new(&BACKGROUND_STEPS_CHILDREN);
        while let Some(step) = xml.child("steps")? {
            inner.accept(&xml.tag(step))?;
            steps.push(read_background_step(xml, step)?);
        }
    }
    Ok(steps)
}

fn read_background_step<R: BufRead>(
    xml: &mut Xml<R>,
    start: Start,
) -> Result<BackgroundStep, PayloadError> {
    let a = xml.tag(start).attrs(&BACKGROUND_STEP)?;
    let mut step = BackgroundStep {
        name: a.required(0),
        duration: a.long(1),
        status: a.string(2),
        error_message: None,
    };
    let mut seq = Seq::new(&BACKGROUND_STEP_CHILDREN);
    while let Some(child) = xml.child("step")? {
        seq.accept(&xml.tag(child))?;
        step.error_message = Some(error_message(xml, child)?);
    }
    Ok(step)
}

fn read_scenario<R: BufRead>(xml: &mut Xml<R>, start: Start) -> Result<Scenario, PayloadError> {
    let a = xml.tag(start).attrs(&SCENARIO)?;
    let mut scenario = Scenario {
        name: a.required(0),
        status: a.status(1),
        outline_index: a.long(2),
        steps: Vec::new(),
    };
    let mut seq = Seq::new(&SCENARIO_CHILDREN);
    while let Some(child) = xml.child("scenario")? {
        seq.accept(&xml.tag(child))?;
        scenario.steps = steps(xml, child)?.steps;
    }
    seq.finish(xml.last_end())?;
    Ok(scenario)
}
