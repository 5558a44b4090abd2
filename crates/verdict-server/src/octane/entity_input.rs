//! Request bodies of entity writes: `{"data":[…]}` or a bare object, each
//! entity's JSON typed by the collection's catalog (references as
//! `{"type","id"}`, multi-references as `{"data":[…]}` or arrays, dates as
//! ISO-8601). Unknown fields are refused with their name.

use serde_json::Value;
use verdict_store::{Collection, EntityInput, FieldKind, InputValue};

use crate::error::ApiError;

/// The entities of a body and whether it came as a `data` list (bulk form).
pub struct Body {
    pub entities: Vec<Value>,
    pub bulk: bool,
}

/// Splits a JSON body into entity objects.
pub fn entities(body: &[u8]) -> Result<Body, ApiError> {
    let inflated = super::body::inflate_small(body)?;
    let value: Value = serde_json::from_slice(&inflated)
        .map_err(|e| illegal(format!("request body is not valid JSON: {e}")))?;
    match value {
        Value::Object(mut obj) if obj.contains_key("data") => match obj.remove("data") {
            Some(Value::Array(list)) => Ok(Body {
                entities: list,
                bulk: true,
            }),
            _ => Err(illegal("'data' must be an array of entities".to_owned())),
        },
        Value::Object(_) => Ok(Body {
            entities: vec![value],
            bulk: false,
        }),
        Value::Array(list) => Ok(Body {
            entities: list,
            bulk: true,
        }),
        _ => Err(illegal("request body must be a JSON object".to_owned())),
    }
}

/// Types one entity's fields; `id` and `type` are skipped (the caller reads `id`).
pub fn typed(c: &'static Collection, entity: &Value) -> Result<EntityInput, String> {
    let Value::Object(obj) = entity else {
        return Err("each entity must be a JSON object".to_owned());
    };
    let mut input = EntityInput::default();
    for (key, value) in obj {
        match key.as_str() {
            "id" | "type" => continue,
            "subtype" => {
                input.subtype = value.as_str().map(str::to_owned);
                continue;
            }
            _ => {}
        }
        let field = c
            .field(key)
            .ok_or_else(|| format!("unknown field '{key}' of {}", c.entity_type))?;
        input
            .fields
            .push((field, value_of(field.kind, key, value)?));
    }
    Ok(input)
}

fn value_of(kind: FieldKind, key: &str, value: &Value) -> Result<InputValue, String> {
    if value.is_null() {
        return Ok(match kind {
            FieldKind::Ref { .. } => InputValue::Ref(None),
            FieldKind::MultiRef { .. } => InputValue::Multi(Vec::new()),
            _ => InputValue::Null,
        });
    }
    let wrong = || format!("field '{key}' has a value of the wrong type: {value}");
    match kind {
        FieldKind::Id => Err(format!("field '{key}' is read-only")),
        FieldKind::Text(_) => match value {
            Value::String(s) => {
                check_text_limit(key, s)?;
                Ok(InputValue::Text(s.clone()))
            }
            Value::Number(n) => Ok(InputValue::Text(n.to_string())),
            Value::Bool(b) => Ok(InputValue::Text(b.to_string())),
            _ => Err(wrong()),
        },
        // Integer fields also take a reference object (`owner: {"type":"workspace_user","id":…}`).
        FieldKind::Int(_) => int_of(value)
            .or_else(|| reference(value))
            .map(InputValue::Int)
            .ok_or_else(wrong),
        FieldKind::Bool(_) => match value {
            Value::Bool(b) => Ok(InputValue::Bool(*b)),
            Value::String(s) if s == "true" || s == "false" => Ok(InputValue::Bool(s == "true")),
            _ => Err(wrong()),
        },
        FieldKind::Date(_) => match value {
            Value::String(s) => verdict_domain::time::parse_iso(s)
                .map(InputValue::Date)
                .ok_or_else(|| format!("field '{key}' must be an ISO-8601 date, not '{s}'")),
            Value::Number(_) => int_of(value).map(InputValue::Date).ok_or_else(wrong),
            _ => Err(wrong()),
        },
        FieldKind::Ref { .. } => reference(value)
            .map(|id| InputValue::Ref(Some(id)))
            .ok_or_else(wrong),
        FieldKind::MultiRef { .. } => {
            let list = match value {
                Value::Array(list) => list,
                Value::Object(obj) => match obj.get("data") {
                    Some(Value::Array(list)) => list,
                    _ => return Err(wrong()),
                },
                _ => return Err(wrong()),
            };
            list.iter()
                .map(|v| reference(v).ok_or_else(wrong))
                .collect::<Result<_, _>>()
                .map(InputValue::Multi)
        }
    }
}

/// Names are at most 255 characters (Octane's limit), other texts 1 MiB
/// (`crate::limits`).
fn check_text_limit(key: &str, text: &str) -> Result<(), String> {
    if key == "name" {
        crate::limits::check_chars(key, text, crate::limits::NAME_CHARS)
    } else {
        crate::limits::check_bytes(key, text, crate::limits::ENTITY_TEXT_BYTES)
    }
}

/// A reference's id: `{"type":"release","id":"1001"}` (id string or number).
fn reference(value: &Value) -> Option<i64> {
    match value {
        Value::Object(obj) => int_of(obj.get("id")?),
        other => int_of(other),
    }
}

/// A JSON number or a numeric string as i64 (Octane ids are strings).
pub fn int_of(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn illegal(message: String) -> ApiError {
    ApiError::bad_request("platform.illegal_field_value", message)
}
