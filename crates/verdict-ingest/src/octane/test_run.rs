//! `test_run` and its children (protocol §3.3).
//!
//! Owns the automated run: its attributes, per-test context, `error`,
//! `description`, and the `steps` iterations with their `step`s and
//! parameters (steps are shared with gherkin scenarios).

use std::io::BufRead;

use verdict_domain::payload::{Context, Parameter, RunError, Step, StepIteration, TestRun};

use super::attrs::{ElemSpec, opt, req};
use super::context::{self, CONTEXT_SLOTS, context_slots};
use super::error::PayloadError;
use super::seq::{ChildSlot, Children, Seq, optional, repeated};
use super::values::{L1, S0, S1, Ty};
use super::xml::{Start, Xml};

static TEST_RUN: ElemSpec = ElemSpec {
    name: "test_run",
    attrs: &[
        req("name", S1),
        req("duration", Ty::Long),
        req("status", Ty::Status),
        opt("module", S0),
        opt("package", S0),
        opt("class", S0),
        opt("run_name", S1),
        opt("started", Ty::Long),
        opt("external_report_url", Ty::Url),
        opt("external_test_id", S0),
        opt("external_run_id", S0),
        opt("run_type", S0),
        opt("external_assets", Ty::AnyText),
        opt("manual", Ty::Bool),
        // Verdict extensions (docs/formats.md): retries and the flaky mark.
        opt("retries", Ty::Count),
        opt("flaky", Ty::Bool),
    ],
    open: false,
};

static TEST_RUN_SLOTS: [ChildSlot; CONTEXT_SLOTS + 3] = {
    let [a, b, c, d, e, f, g, h] = context_slots!();
    [
        a,
        b,
        c,
        d,
        e,
        f,
        g,
        h,
        optional(&["error"]),
        optional(&["description"]),
        repeated(&["steps"], false),
    ]
};
static TEST_RUN_CHILDREN: Children = Children {
    parent: "test_run",
    slots: &TEST_RUN_SLOTS,
};

static ERROR: ElemSpec = ElemSpec {
    name: "error",
    attrs: &[opt("type", Ty::AnyText), opt("message", Ty::AnyText)],
    open: false,
};
static DESCRIPTION: ElemSpec = ElemSpec {
    name: "description",
    attrs: &[],
    open: false,
};
static STEPS: ElemSpec = ElemSpec {
    name: "steps",
    attrs: &[opt("iteration", S1)],
    open: false,
};
static STEPS_CHILDREN: Children = Children {
    parent: "steps",
    slots: &[repeated(&["step"], false)],
};
static STEP: ElemSpec = ElemSpec {
    name: "step",
    attrs: &[
        req("name", L1),
        req("duration", Ty::Long),
        req("status", S1),
        opt("external_step_id", S1),
    ],
    open: false,
};
static STEP_CHILDREN: Children = Children {
    parent: "step",
    slots: &[
        optional(&["error_message"]),
        optional(&["input_parameters"]),
        optional(&["output_parameters"]),
    ],
};
pub(crate) static ERROR_MESSAGE: ElemSpec = ElemSpec {
    name: "error_message",
    attrs: &[],
    open: false,
};
static INPUT_PARAMETERS: ElemSpec = ElemSpec {
    name: "input_parameters",
    attrs: &[],
    open: false,
};
static OUTPUT_PARAMETERS: ElemSpec = ElemSpec {
    name: "output_parameters",
    attrs: &[],
    open: false,
};
static INPUT_CHILDREN: Children = Children {
    parent: "input_parameters",
    slots: &[repeated(&["parameter"], true)],
};
static OUTPUT_CHILDREN: Children = Children {
    parent: "output_parameters",
    slots: &[repeated(&["parameter"], true)],
};
static PARAMETER: ElemSpec = ElemSpec {
    name: "parameter",
    attrs: &[req("name", S1), opt("value", S0), opt("type", S0)],
    open: false,
};

/// Reads a `test_run` whose start tag is `start`.
pub(crate) fn read<R: BufRead>(xml: &mut Xml<R>, start: Start) -> Result<TestRun, PayloadError> {
    let mut run = attributes(xml, start)?;
    let mut seq = Seq::new(&TEST_RUN_CHILDREN);
    while let Some(child) = xml.child("test_run")? {
        match seq.accept(&xml.tag(child))? {
            slot if slot < CONTEXT_SLOTS => context::element(xml, child, slot, &mut run.context)?,
            8 => run.error = Some(error(xml, child)?),
            9 => {
                xml.tag(child).attrs(&DESCRIPTION)?;
                let mut text = String::new();
                xml.text_content("description", &mut text)?;
                run.description = Some(text);
            }
            _ => run.steps.push(steps(xml, child)?),
        }
    }
    Ok(run)
}

fn attributes<R: BufRead>(xml: &mut Xml<R>, start: Start) -> Result<TestRun, PayloadError> {
    let a = xml.tag(start).attrs(&TEST_RUN)?;
    Ok(TestRun {
        name: a.required(0),
        duration: a.long(1).unwrap_or_default(),
        status: a.status(2),
        module: a.string(3),
        package: a.string(4),
        class: a.string(5),
        run_name: a.string(6),
        started: a.long(7),
        external_report_url: a.string(8),
        external_test_id: a.string(9),
        external_run_id: a.string(10),
        run_type: a.string(11),
        external_assets: a.string(12),
        manual: a.bool(13).unwrap_or(false),
        retries: a.count(14),
        flaky: a.bool(15).unwrap_or(false),
        context: Context::default(),
        error: None,
        description: None,
        steps: Vec::new(),
    })
}

fn error<R: BufRead>(xml: &mut Xml<R>, start: Start) -> Result<RunError, PayloadError> {
    let a = xml.tag(start).attrs(&ERROR)?;
    let mut error = RunError {
        error_type: a.string(0),
        message: a.string(1),
        stack_trace: String::new(),
    };
    xml.text_content("error", &mut error.stack_trace)?;
    Ok(error)
}

/// Reads a `steps` element (one iteration) of a `test_run` or a scenario.
pub(crate) fn steps<R: BufRead>(
    xml: &mut Xml<R>,
    start: Start,
) -> Result<StepIteration, PayloadError> {
    let iteration = xml.tag(start).attrs(&STEPS)?.string(0);
    let mut seq = Seq::new(&STEPS_CHILDREN);
    let mut steps = Vec::new();
    while let Some(child) = xml.child("steps")? {
        seq.accept(&xml.tag(child))?;
        steps.push(step(xml, child)?);
    }
    Ok(StepIteration { iteration, steps })
}

fn step<R: BufRead>(xml: &mut Xml<R>, start: Start) -> Result<Step, PayloadError> {
    let a = xml.tag(start).attrs(&STEP)?;
    let mut step = Step {
        name: a.required(0),
        duration: a.long(1).unwrap_or_default(),
        status: a.required(2),
        external_step_id: a.string(3),
        error_message: None,
        input_parameters: Vec::new(),
        output_parameters: Vec::new(),
    };
    let mut seq = Seq::new(&STEP_CHILDREN);
    while let Some(child) = xml.child("step")? {
        match seq.accept(&xml.tag(child))? {
            0 => step.error_message = Some(error_message(xml, child)?),
            1 => {
                step.input_parameters = parameters(xml, child, &INPUT_PARAMETERS, &INPUT_CHILDREN)?;
            }
            _ => {
                step.output_parameters =
                    parameters(xml, child, &OUTPUT_PARAMETERS, &OUTPUT_CHILDREN)?;
            }
        }
    }
    Ok(step)
}

/// Reads an `error_message` element (text only).
pub(crate) fn error_message<R: BufRead>(
    xml: &mut Xml<R>,
    start: Start,
) -> Result<String, PayloadError> {
    xml.tag(start).attrs(&ERROR_MESSAGE)?;
    let mut text = String::new();
    xml.text_content("error_message", &mut text)?;
    Ok(text)
}

fn parameters<R: BufRead>(
    xml: &mut Xml<R>,
    start: Start,
    spec: &ElemSpec,
    children: &'static Children,
) -> Result<Vec<Parameter>, PayloadError> {
    xml.tag(start).attrs(spec)?;
    let mut seq = Seq::new(children);
    let mut params = Vec::new();
    while let Some(child) = xml.child(spec.name)? {
        seq.accept(&xml.tag(child))?;
        let a = xml.tag(child).attrs(&PARAMETER)?;
        params.push(Parameter {
            name: a.required(0),
            value: a.string(1),
            param_type: a.string(2),
        });
        xml.end_leaf("parameter")?;
    }
    seq.finish(xml.last_end())?;
    Ok(params)
}
