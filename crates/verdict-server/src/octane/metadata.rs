//! `GET …/metadata/entities` and `…/metadata/fields`: the entity model as
//! Octane describes it, generated from Verdict's catalog. The JS SDK's main
//! client does not need them; route generators and tools that introspect do.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};
use verdict_domain::query::{Expr, parse_optional_query};
use verdict_store::{COLLECTIONS, FieldKind};

use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::ApiError;

fn envelope(data: Vec<Value>) -> Value {
    json!({"total_count": data.len(), "data": data, "exceeds_total_count": false})
}

/// Entity names a `query` restricts to (`name`/`entity_name` EQ or IN); empty = all.
fn wanted_names(params: &[(String, String)]) -> Result<Vec<String>, ApiError> {
    let text = params
        .iter()
        .rev()
        .find(|(k, _)| k == "query")
        .map_or("", |(_, v)| v.as_str());
    let expr = parse_optional_query(text).map_err(super::entities::query_error)?;
    let mut names = Vec::new();
    let mut stack: Vec<&Expr> = expr.iter().collect();
    while let Some(e) = stack.pop() {
        match e {
            Expr::Or(parts) | Expr::And(parts) => stack.extend(parts),
            Expr::Not(inner) => stack.push(inner),
            Expr::Cond(c) if c.field == "name" || c.field == "entity_name" => {
                names.extend(
                    c.values
                        .iter()
                        .filter_map(|v| v.as_text().map(str::to_owned)),
                );
            }
            Expr::Cond(_) => {}
        }
    }
    Ok(names)
}

/// The concrete entity name of a collection (`defects` → `defect`).
fn entity_name(c: &verdict_store::Collection) -> &'static str {
    c.subtypes.first().copied().unwrap_or(c.entity_type)
}

/// GET …/workspaces/{ws}/metadata/entities
pub async fn entities(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    access::workspace_path(&state, &who, &sp, &ws).await?;
    let wanted = wanted_names(&params)?;
    let data = COLLECTIONS
        .iter()
        .filter(|c| wanted.is_empty() || wanted.iter().any(|w| w == entity_name(c)))
        .map(|c| {
            let methods: &[&str] = if c.write.is_some() {
                &["GET", "POST", "PUT", "DELETE"]
            } else {
                &["GET"]
            };
            json!({"type": "entity_metadata", "name": entity_name(c), "label": entity_name(c),
                   "features": [{"name": "rest", "url": c.name, "methods": methods}]})
        })
        .collect();
    Ok(Json(envelope(data)))
}

/// GET …/workspaces/{ws}/metadata/fields
pub async fn fields(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    access::workspace_path(&state, &who, &sp, &ws).await?;
    let wanted = wanted_names(&params)?;
    let mut data = Vec::new();
    for c in COLLECTIONS
        .iter()
        .filter(|c| wanted.is_empty() || wanted.iter().any(|w| w == entity_name(c)))
    {
        let required = c.write.map_or(&[][..], |w| w.required);
        for f in c.fields {
            let (field_type, targets, multiple) = match f.kind {
                FieldKind::Id | FieldKind::Int(_) => ("integer", None, false),
                FieldKind::Text(_) => ("string", None, false),
                FieldKind::Bool(_) => ("boolean", None, false),
                FieldKind::Date(_) => ("date_time", None, false),
                FieldKind::Ref { target, .. } => ("reference", Some(target), false),
                FieldKind::MultiRef { target, .. } => ("reference", Some(target), true),
            };
            let mut field = json!({
                "type": "field_metadata", "name": f.name, "entity_name": entity_name(c), "label": f.name,
                "field_type": field_type, "required": required.contains(&f.name),
                "editable": c.write.is_some_and(|w| !w.read_only.contains(&f.name)), "final": false,
            });
            if let Some(target) = targets.and_then(verdict_store::collection_of_table) {
                field["field_type_data"] =
                    json!({"multiple": multiple, "targets": [{"type": target.entity_type}]});
            }
            data.push(field);
        }
    }
    Ok(Json(envelope(data)))
}
