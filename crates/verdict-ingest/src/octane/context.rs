//! The `build` element and the run context (protocol §3.2 items 1–9).
//!
//! Owns the links and characteristics that appear both globally (in
//! `test_result`) and per test (in `test_run`): suite, program, release,
//! milestone, backlog items, product areas, test fields and environment.

use std::io::BufRead;

use verdict_domain::payload::{BuildRef, Context, ReleaseLink, SuiteRef, Taxonomy, TestField};

use super::attrs::{AttrSpec, ElemSpec, opt, req};
use super::error::PayloadError;
use super::seq::{Children, Seq, repeated};
use super::values::{S0, S1, Ty};
use super::xml::{Start, Xml};

/// The eight context slots, in order, for a parent's [`Children`] table.
macro_rules! context_slots {
    () => {
        [
            $crate::octane::seq::optional(&["suite_ref"]),
            $crate::octane::seq::optional(&["program_ref"]),
            $crate::octane::seq::optional(&["release_ref", "release"]),
            $crate::octane::seq::optional(&["milestone_ref"]),
            $crate::octane::seq::optional(&["backlog_items"]),
            $crate::octane::seq::optional(&["product_areas"]),
            $crate::octane::seq::optional(&["test_fields"]),
            $crate::octane::seq::optional(&["environment"]),
        ]
    };
}
pub(crate) use context_slots;

/// Number of context slots.
pub(crate) const CONTEXT_SLOTS: usize = 8;

pub(crate) static BUILD: ElemSpec = ElemSpec {
    name: "build",
    attrs: &[
        req("server_id", S1),
        req("job_id", S1),
        req("build_id", S1),
        opt("job_name", S1),
        opt("build_name", S1),
        opt("sub_type", S0),
        opt("artifact_id", S0),
    ],
    open: false,
};

const ID_ATTRS: &[AttrSpec] = &[req("id", Ty::Long)];

const fn id_link(name: &'static str) -> ElemSpec {
    ElemSpec {
        name,
        attrs: ID_ATTRS,
        open: false,
    }
}

const fn no_attrs(name: &'static str) -> ElemSpec {
    ElemSpec {
        name,
        attrs: &[],
        open: false,
    }
}

static SUITE_REF: ElemSpec = ElemSpec {
    name: "suite_ref",
    attrs: &[
        req("id", Ty::Long),
        opt("external_run_id", S0),
        opt("component", S0),
    ],
    open: false,
};
static PROGRAM_REF: ElemSpec = id_link("program_ref");
static RELEASE_REF: ElemSpec = id_link("release_ref");
static RELEASE: ElemSpec = ElemSpec {
    name: "release",
    attrs: &[req("name", S1)],
    open: false,
};
static MILESTONE_REF: ElemSpec = id_link("milestone_ref");
static BACKLOG_ITEMS: ElemSpec = no_attrs("backlog_items");
static BACKLOG_ITEM_REF: ElemSpec = id_link("backlog_item_ref");
static PRODUCT_AREAS: ElemSpec = no_attrs("product_areas");
static PRODUCT_AREA_REF: ElemSpec = id_link("product_area_ref");
static TEST_FIELDS: ElemSpec = no_attrs("test_fields");
static TEST_FIELD: ElemSpec = ElemSpec {
    name: "test_field",
    attrs: &[req("type", Ty::FieldType), req("value", S1)],
    open: false,
};
static ENVIRONMENT: ElemSpec = no_attrs("environment");
static TAXONOMY: ElemSpec = ElemSpec {
    name: "taxonomy",
    attrs: &[req("type", S1), req("value", S1)],
    open: false,
};

static BACKLOG_CHILDREN: Children = Children {
    parent: "backlog_items",
    slots: &[repeated(&["backlog_item_ref"], false)],
};
static PRODUCT_AREA_CHILDREN: Children = Children {
    parent: "product_areas",
    slots: &[repeated(&["product_area_ref"], false)],
};
static TEST_FIELD_CHILDREN: Children = Children {
    parent: "test_fields",
    slots: &[repeated(&["test_field"], false)],
};
static ENVIRONMENT_CHILDREN: Children = Children {
    parent: "environment",
    slots: &[repeated(&["taxonomy"], false)],
};

/// Reads a `build` element.
pub(crate) fn build<R: BufRead>(xml: &mut Xml<R>, start: Start) -> Result<BuildRef, PayloadError> {
    let a = xml.tag(start).attrs(&BUILD)?;
    let build = BuildRef {
        server_id: a.required(0),
        job_id: a.required(1),
        build_id: a.required(2),
        job_name: a.string(3),
        build_name: a.string(4),
        sub_type: a.string(5),
        artifact_id: a.string(6),
    };
    xml.end_leaf("build")?;
    Ok(build)
}

/// Reads the context element in context slot `slot` (0..8) into `ctx`.
pub(crate) fn element<R: BufRead>(
    xml: &mut Xml<R>,
    start: Start,
    slot: usize,
    ctx: &mut Context,
) -> Result<(), PayloadError> {
    match slot {
        0 => {
            let a = xml.tag(start).attrs(&SUITE_REF)?;
            ctx.suite = Some(SuiteRef {
                id: a.long(0).unwrap_or_default(),
                external_run_id: a.string(1),
                component: a.string(2),
            });
            xml.end_leaf("suite_ref")?;
        }
        1 => ctx.program = leaf_id(xml, start, &PROGRAM_REF)?,
        2 => release(xml, start, ctx)?,
        3 => ctx.milestone = leaf_id(xml, start, &MILESTONE_REF)?,
        4 => {
            ctx.backlog_items = ids(
                xml,
                start,
                &BACKLOG_ITEMS,
                &BACKLOG_CHILDREN,
                &BACKLOG_ITEM_REF,
            )?;
        }
        5 => {
            ctx.product_areas = ids(
                xml,
                start,
                &PRODUCT_AREAS,
                &PRODUCT_AREA_CHILDREN,
                &PRODUCT_AREA_REF,
            )?;
        }
        6 => ctx.test_fields = test_fields(xml, start)?,
        _ => ctx.taxonomies = environment(xml, start)?,
    }
    Ok(())
}

fn release<R: BufRead>(
    xml: &mut Xml<R>,
    start: Start,
    ctx: &mut Context,
) -> Result<(), PayloadError> {
    let tag = xml.tag(start);
    if tag.name == b"release_ref" {
        let a = tag.attrs(&RELEASE_REF)?;
        ctx.release = a.long(0).map(ReleaseLink::ById);
        xml.end_leaf("release_ref")
    } else {
        let a = tag.attrs(&RELEASE)?;
        ctx.release = Some(ReleaseLink::ByName(a.required(0)));
        xml.end_leaf("release")
    }
}

/// An element with just `id` and no content.
fn leaf_id<R: BufRead>(
    xml: &mut Xml<R>,
    start: Start,
    spec: &ElemSpec,
) -> Result<Option<i64>, PayloadError> {
    let id = xml.tag(start).attrs(spec)?.long(0);
    xml.end_leaf(spec.name)?;
    Ok(id)
}

/// A list element holding `*_ref id=".."` children.
fn ids<R: BufRead>(
    xml: &mut Xml<R>,
    start: Start,
    list: &ElemSpec,
    children: &'static Children,
    item: &ElemSpec,
) -> Result<Vec<i64>, PayloadError> {
    xml.tag(start).attrs(list)?;
    let mut seq = Seq::new(children);
    let mut ids = Vec::new();
    while let Some(child) = xml.child(list.name)? {
        seq.accept(&xml.tag(child))?;
        ids.extend(leaf_id(xml, child, item)?);
    }
    Ok(ids)
}

fn test_fields<R: BufRead>(xml: &mut Xml<R>, start: Start) -> Result<Vec<TestField>, PayloadError> {
    xml.tag(start).attrs(&TEST_FIELDS)?;
    let mut seq = Seq::new(&TEST_FIELD_CHILDREN);
    let mut fields = Vec::new();
    while let Some(child) = xml.child("test_fields")? {
        seq.accept(&xml.tag(child))?;
        let a = xml.tag(child).attrs(&TEST_FIELD)?;
        fields.push(TestField {
            field_type: a.field(0),
            value: a.required(1),
        });
        xml.end_leaf("test_field")?;
    }
    Ok(fields)
}

fn environment<R: BufRead>(xml: &mut Xml<R>, start: Start) -> Result<Vec<Taxonomy>, PayloadError> {
    xml.tag(start).attrs(&ENVIRONMENT)?;
    let mut seq = Seq::new(&ENVIRONMENT_CHILDREN);
    let mut taxonomies = Vec::new();
    while let Some(child) = xml.child("environment")? {
        seq.accept(&xml.tag(child))?;
        let a = xml.tag(child).attrs(&TAXONOMY)?;
        taxonomies.push(Taxonomy {
            category: a.required(0),
            value: a.required(1),
        });
        xml.end_leaf("taxonomy")?;
    }
    Ok(taxonomies)
}
