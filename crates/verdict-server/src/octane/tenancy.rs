//! Site and shared-space level reads: `/api/shared_spaces` and
//! `/api/shared_spaces/{sp}/workspaces` (GitLab and GitHub Actions clients
//! call them with `fields` and an `id EQ …` / `name EQ …` query).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};
use verdict_domain::query::{Expr, Op, Value as QValue, parse_optional_query};

use super::results::path_id;
use crate::app::AppState;
use crate::auth::access;
use crate::auth::principal::Principal;
use crate::error::ApiError;

/// GET /api/shared_spaces
pub async fn shared_spaces(
    State(state): State<AppState>,
    who: Principal,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let filter = filter(&params)?;
    let mut rows = Vec::new();
    for sp in state.store.shared_spaces().await? {
        let visible = who.user.is_admin
            || state
                .store
                .has_role_in_shared_space(who.user.id, sp.id)
                .await?;
        if visible && matches(filter.as_ref(), sp.id, &sp.name) {
            rows.push(json!({"type": "shared_space", "id": sp.id.to_string(), "name": sp.name}));
        }
    }
    Ok(Json(envelope(rows)))
}

/// GET /api/shared_spaces/{sp}/workspaces
pub async fn workspaces(
    State(state): State<AppState>,
    who: Principal,
    Path(sp): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let sp = path_id(&sp, "shared space")?;
    access::shared_space(&state, &who, sp).await?;
    let filter = filter(&params)?;
    let mut rows = Vec::new();
    for ws in state.store.workspaces(sp).await? {
        let visible = who.user.is_admin || state.store.role_in(who.user.id, ws.id).await?.is_some();
        if visible && matches(filter.as_ref(), ws.id, &ws.name) {
            rows.push(json!({"type": "workspace", "id": ws.id.to_string(), "name": ws.name}));
        }
    }
    Ok(Json(envelope(rows)))
}

fn envelope(rows: Vec<Value>) -> Value {
    json!({"total_count": rows.len(), "data": rows, "exceeds_total_count": false})
}

fn filter(params: &[(String, String)]) -> Result<Option<Expr>, ApiError> {
    let text = params
        .iter()
        .rev()
        .find(|(k, _)| k == "query")
        .map_or("", |(_, v)| v.as_str());
    parse_optional_query(text)
        .map_err(|e| ApiError::bad_request("platform.illegal_query", e.to_string()))
}

/// Evaluates a query over the two fields these small lists have.
fn matches(expr: Option<&Expr>, id: i64, name: &str) -> bool {
    let Some(expr) = expr else {
        return true;
    };
    match expr {
        Expr::Or(parts) => parts.iter().any(|p| matches(Some(p), id, name)),
        Expr::And(parts) => parts.iter().all(|p| matches(Some(p), id, name)),
        Expr::Not(inner) => !matches(Some(inner), id, name),
        Expr::Cond(c) => {
            let hit = |v: &QValue| match (c.field.as_str(), v) {
                ("id", QValue::Number(n)) => *n == id,
                ("id", QValue::Text(t)) => t.trim().parse::<i64>().is_ok_and(|n| n == id),
                ("name", QValue::Text(t)) => {
                    let pattern = t.to_lowercase();
                    let name = name.to_lowercase();
                    if v.is_wildcard() {
                        wildcard(&pattern, &name)
                    } else {
                        pattern == name
                    }
                }
                _ => false,
            };
            matches!(c.op, Op::Eq | Op::In) && c.values.iter().any(hit)
        }
    }
}

/// `*` matches any run of characters.
fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(at) = rest.find(part) {
            rest = &rest[at + part.len()..];
        } else {
            return false;
        }
    }
    rest.is_empty()
}
