//! Entity reads (protocol §7): GET a collection with `fields`, `limit`,
//! `offset`, `order_by` and `query`, or one entity by id.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::Value;
use verdict_domain::query::{QueryError, parse_fields, parse_optional_query, parse_order_by};
use verdict_store::{EntityQuery, collection_by_name};

use super::render;
use super::results::path_id;
use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::ApiError;

/// Default and largest page sizes.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// GET …/workspaces/{ws}/{collection}
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, collection)): Path<(String, String, String)>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let collection = collection_by_name(&collection)
        .ok_or_else(|| ApiError::NotFound(format!("unknown collection '{collection}'")))?;
    let param = |name: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let filter = parse_optional_query(param("query").unwrap_or("")).map_err(query_error)?;
    let query = EntityQuery {
        collection,
        workspace_id: workspace.id,
        filter: filter.as_ref(),
        fields: fields_param(param("fields"))?,
        order_by: parse_order_by(param("order_by").unwrap_or("")).map_err(query_error)?,
        limit: number(param("limit"), "limit")?
            .unwrap_or(DEFAULT_LIMIT)
            .clamp(0, MAX_LIMIT),
        offset: number(param("offset"), "offset")?.unwrap_or(0).max(0),
        ref_fields: ref_fields_param(param("fields"))?,
        current_user: Some(who.user.id),
    };
    let page = state.store.read_entities(&query).await?;
    Ok(Json(render::page(&page)))
}

/// GET …/workspaces/{ws}/pipelines (a static route: POST takes special shapes).
pub async fn list_pipelines(
    state: State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
    params: Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    list(state, who, Path((sp, ws, "pipelines".to_owned())), params).await
}

/// GET …/workspaces/{ws}/{collection}/{id}
pub async fn one(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, collection, id)): Path<(String, String, String, String)>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let collection = collection_by_name(&collection)
        .ok_or_else(|| ApiError::NotFound(format!("unknown collection '{collection}'")))?;
    let id = path_id(&id, "entity")?;
    let by_id = verdict_domain::query::parse_query(&format!("id EQ {id}")).map_err(query_error)?;
    let fields_param_text = params
        .iter()
        .rev()
        .find(|(k, _)| k == "fields")
        .map(|(_, v)| v.as_str());
    let query = EntityQuery {
        collection,
        workspace_id: workspace.id,
        filter: Some(&by_id),
        fields: fields_param(fields_param_text)?,
        order_by: Vec::new(),
        limit: 1,
        offset: 0,
        ref_fields: Vec::new(),
        current_user: Some(who.user.id),
    };
    let page = state.store.read_entities(&query).await?;
    let row = page
        .rows
        .first()
        .ok_or_else(|| ApiError::NotFound(format!("{} {id} not found", collection.entity_type)))?;
    Ok(Json(render::entity(row)))
}

/// Sub-fields asked for on references: `ci_job{ci_id}` → `("ci_job", ["ci_id"])`.
pub fn ref_fields_param(param: Option<&str>) -> Result<Vec<(String, Vec<String>)>, ApiError> {
    let Some(text) = param else {
        return Ok(Vec::new());
    };
    Ok(parse_fields(text)
        .map_err(query_error)?
        .into_iter()
        .filter(|f| !f.sub_fields.is_empty())
        .map(|f| (f.name, f.sub_fields.into_iter().map(|s| s.name).collect()))
        .collect())
}

/// The `fields` parameter as field names (`None`: all fields).
pub fn fields_param(param: Option<&str>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(text) = param else {
        return Ok(None);
    };
    let selection = parse_fields(text).map_err(query_error)?;
    if selection.is_empty() {
        return Ok(None);
    }
    Ok(Some(selection.into_iter().map(|f| f.name).collect()))
}

fn number(param: Option<&str>, name: &str) -> Result<Option<i64>, ApiError> {
    param
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            v.trim().parse().map_err(|_| {
                ApiError::bad_request(
                    "platform.illegal_query",
                    format!("{name} must be a whole number, not '{v}'"),
                )
            })
        })
        .transpose()
}

/// A query syntax error as a 400 with its position.
pub fn query_error(e: QueryError) -> ApiError {
    ApiError::BadRequest {
        code: "platform.illegal_query",
        message: e.to_string(),
        properties: Some(serde_json::json!({"position": e.position})),
    }
}
