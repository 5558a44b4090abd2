//! Entity writes (protocol §7.3, §7.6): POST a collection (201, bulk,
//! `fields`), PUT one entity, a bulk list or a query's matches, DELETE one
//! entity or a query's matches. Failures of a `data` list come back in the
//! 409 bulk form; a bare object gets a single error.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use verdict_domain::query::{Condition, Expr, Op, Value as QValue, parse_optional_query};
use verdict_store::{
    Collection, EntityInput, EntityQuery, FailureKind, WriteFailure, collection_by_name,
};

use super::entities::{fields_param, query_error};
use super::entity_input::{self, int_of};
use super::render;
use super::results::path_id;
use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::{ApiError, BulkError};

type Params = Query<Vec<(String, String)>>;

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn collection(name: &str) -> Result<&'static Collection, ApiError> {
    collection_by_name(name)
        .ok_or_else(|| ApiError::NotFound(format!("unknown collection '{name}'")))
}

/// POST …/workspaces/{ws}/{collection}
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, name)): Path<(String, String, String)>,
    Query(params): Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let c = collection(&name)?;
    if c.write.is_none() {
        return Err(ApiError::MethodNotAllowed(format!(
            "{name} cannot be created through the API"
        )));
    }
    let body = entity_input::entities(&body)?;
    let inputs = typed_all(c, &body.entities, body.bulk)?;
    let ids = match state
        .store
        .create_entities(c, workspace.id, &inputs)
        .await?
    {
        Ok(ids) => ids,
        Err(failures) => return Err(refused(failures, body.bulk)),
    };
    let rows = read_by_ids(&state, c, workspace.id, &ids, param(&params, "fields")).await?;
    let body = json!({"total_count": rows.len(), "data": rows});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// PUT …/workspaces/{ws}/{collection}/{id}
pub async fn update_one(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, name, id)): Path<(String, String, String, String)>,
    Query(params): Params,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let c = collection(&name)?;
    let id = path_id(&id, "entity")?;
    let body = entity_input::entities(&body)?;
    let entity = body
        .entities
        .first()
        .ok_or_else(|| bad("request body holds no entity".to_owned()))?;
    let input = entity_input::typed(c, entity).map_err(bad)?;
    if let Err(failures) = state
        .store
        .update_entities(c, workspace.id, &[(id, input)])
        .await?
    {
        return Err(refused(failures, false));
    }
    let rows = read_by_ids(&state, c, workspace.id, &[id], param(&params, "fields")).await?;
    rows.into_iter()
        .next()
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("{} {id} not found", c.entity_type)))
}

/// PUT …/workspaces/{ws}/{collection} — `{"data":[{"id",…}]}`, or one object
/// applied to every entity matching `?query=`.
pub async fn update_many(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, name)): Path<(String, String, String)>,
    Query(params): Params,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let c = collection(&name)?;
    let body = entity_input::entities(&body)?;
    let updates: Vec<(i64, EntityInput)> =
        if let Some(query) = param(&params, "query").filter(|q| !q.trim().is_empty()) {
            let entity = body
                .entities
                .first()
                .ok_or_else(|| bad("request body holds no entity".to_owned()))?;
            let input = entity_input::typed(c, entity).map_err(bad)?;
            matching_ids(&state, c, workspace.id, query)
                .await?
                .into_iter()
                .map(|id| (id, input.clone()))
                .collect()
        } else {
            let mut out = Vec::new();
            let mut errors = Vec::new();
            for (index, entity) in body.entities.iter().enumerate() {
                let id = entity.get("id").and_then(int_of);
                match (id, entity_input::typed(c, entity)) {
                    (Some(id), Ok(input)) => out.push((id, input)),
                    (None, _) => errors.push(bulk_error(
                        index,
                        "platform.illegal_field_value",
                        "each entity needs an 'id'".to_owned(),
                        false,
                    )),
                    (_, Err(message)) => errors.push(bulk_error(
                        index,
                        "platform.illegal_field_value",
                        message,
                        false,
                    )),
                }
            }
            if !errors.is_empty() {
                return Err(ApiError::Bulk(errors));
            }
            out
        };
    if let Err(failures) = state
        .store
        .update_entities(c, workspace.id, &updates)
        .await?
    {
        return Err(refused(failures, true));
    }
    let ids: Vec<i64> = updates.iter().map(|(id, _)| *id).collect();
    let rows = read_by_ids(&state, c, workspace.id, &ids, param(&params, "fields")).await?;
    Ok(Json(
        json!({"total_count": rows.len(), "data": rows, "exceeds_total_count": false}),
    ))
}

/// PUT …/workspaces/{ws}/pipelines — bulk update (Azure DevOps sends
/// `{"data":[…],"total_count":n}`).
pub async fn update_pipelines(
    state: State<AppState>,
    who: Principal,
    Path((sp, ws)): Path<(String, String)>,
    params: Params,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    update_many(
        state,
        who,
        Path((sp, ws, "pipelines".to_owned())),
        params,
        body,
    )
    .await
}

/// DELETE …/workspaces/{ws}/{collection}/{id}
pub async fn delete_one(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, name, id)): Path<(String, String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let c = collection(&name)?;
    writable(c)?;
    let id = path_id(&id, "entity")?;
    let deleted = state.store.delete_entities(c, workspace.id, &[id]).await?;
    if deleted.is_empty() {
        return Err(ApiError::NotFound(format!(
            "{} {id} not found",
            c.entity_type
        )));
    }
    // Octane answers a single delete with an empty body: the JS SDK's own
    // suite expects `delete(…).at(id)` to resolve to `undefined`.
    Ok(StatusCode::OK)
}

/// DELETE …/workspaces/{ws}/{collection}?query=…
pub async fn delete_many(
    State(state): State<AppState>,
    who: Principal,
    Path((sp, ws, name)): Path<(String, String, String)>,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let workspace = access::workspace_path(&state, &who, &sp, &ws).await?;
    let c = collection(&name)?;
    writable(c)?;
    let query = param(&params, "query")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| {
            bad("deleting from a collection needs a query, e.g. query=\"id IN 1,2\"".to_owned())
        })?;
    let ids = matching_ids(&state, c, workspace.id, query).await?;
    let deleted = state.store.delete_entities(c, workspace.id, &ids).await?;
    Ok(Json(deleted_envelope(c, &deleted)))
}

fn writable(c: &Collection) -> Result<(), ApiError> {
    if c.write.is_none() {
        return Err(ApiError::MethodNotAllowed(format!(
            "{} cannot be changed through the API",
            c.name
        )));
    }
    Ok(())
}

fn deleted_envelope(c: &Collection, ids: &[i64]) -> Value {
    let entity_type = c.subtypes.first().copied().unwrap_or(c.entity_type);
    let data: Vec<Value> = ids
        .iter()
        .map(|id| json!({"type": entity_type, "id": id.to_string()}))
        .collect();
    json!({"total_count": data.len(), "data": data, "exceeds_total_count": false})
}

fn typed_all(
    c: &'static Collection,
    entities: &[Value],
    bulk: bool,
) -> Result<Vec<EntityInput>, ApiError> {
    let mut inputs = Vec::with_capacity(entities.len());
    let mut errors = Vec::new();
    for (index, entity) in entities.iter().enumerate() {
        match entity_input::typed(c, entity) {
            Ok(input) => inputs.push(input),
            Err(message) if !bulk => return Err(bad(message)),
            Err(message) => errors.push(bulk_error(
                index,
                "platform.illegal_field_value",
                message,
                false,
            )),
        }
    }
    if errors.is_empty() {
        Ok(inputs)
    } else {
        Err(ApiError::Bulk(errors))
    }
}

fn refused(failures: Vec<WriteFailure>, bulk: bool) -> ApiError {
    if !bulk && let Some(f) = failures.first() {
        return match f.kind {
            FailureKind::Duplicate => ApiError::Duplicate(f.message.clone()),
            FailureKind::NotFound => ApiError::NotFound(f.message.clone()),
            FailureKind::IllegalValue => bad(f.message.clone()),
        };
    }
    ApiError::Bulk(
        failures
            .into_iter()
            .map(|f| match f.kind {
                FailureKind::Duplicate => {
                    bulk_error(f.index, "platform.duplicate_entity_error", f.message, true)
                }
                FailureKind::NotFound => {
                    bulk_error(f.index, "platform.entity_not_found", f.message, false)
                }
                FailureKind::IllegalValue => {
                    bulk_error(f.index, "platform.illegal_field_value", f.message, false)
                }
            })
            .collect(),
    )
}

fn bulk_error(index: usize, code: &'static str, message: String, business: bool) -> BulkError {
    BulkError {
        index,
        code,
        message,
        business,
    }
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request("platform.illegal_field_value", message)
}

/// Entities by id, in the given order, rendered with `fields`.
pub(crate) async fn read_by_ids(
    state: &AppState,
    c: &'static Collection,
    workspace_id: i64,
    ids: &[i64],
    fields: Option<&str>,
) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let filter = Expr::Cond(Condition {
            field: "id".to_owned(),
            op: Op::In,
            values: chunk.iter().map(|id| QValue::Number(*id)).collect(),
            position: 0,
        });
        let query = EntityQuery {
            collection: c,
            workspace_id,
            filter: Some(&filter),
            fields: fields_param(fields)?,
            order_by: Vec::new(),
            limit: i64::try_from(chunk.len()).unwrap_or(500),
            offset: 0,
            ref_fields: Vec::new(),
            current_user: None,
        };
        let page = state.store.read_entities(&query).await?;
        for id in chunk {
            if let Some(row) = page.rows.iter().find(|r| r.id == *id) {
                out.push(render::entity(row));
            }
        }
    }
    Ok(out)
}

/// Ids of the entities a query matches (for PUT/DELETE by query).
async fn matching_ids(
    state: &AppState,
    c: &'static Collection,
    workspace_id: i64,
    query: &str,
) -> Result<Vec<i64>, ApiError> {
    let filter = parse_optional_query(query).map_err(query_error)?;
    let query = EntityQuery {
        collection: c,
        workspace_id,
        filter: filter.as_ref(),
        fields: Some(vec!["id".to_owned()]),
        order_by: Vec::new(),
        limit: 100_000,
        offset: 0,
        ref_fields: Vec::new(),
        current_user: None,
    };
    Ok(state
        .store
        .read_entities(&query)
        .await?
        .rows
        .iter()
        .map(|r| r.id)
        .collect())
}
