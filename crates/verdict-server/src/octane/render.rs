//! Entities as Octane's JSON (protocol §7.3): ids and reference ids as
//! strings, every entity and reference with `type`, multi-references as
//! `{total_count, data}`, dates as `yyyy-MM-ddTHH:mm:ssZ`.

use serde_json::{Map, Value, json};
use verdict_store::{EntityPage, EntityRow, FieldValue, RefValue};

/// The collection envelope.
#[must_use]
pub fn page(page: &EntityPage) -> Value {
    json!({
        "total_count": page.total_count,
        "data": page.rows.iter().map(entity).collect::<Vec<_>>(),
        "exceeds_total_count": false,
    })
}

/// One entity.
#[must_use]
pub fn entity(row: &EntityRow) -> Value {
    let mut obj = Map::new();
    // Compat: Octane's `type` is the concrete type (`defect`), as the SDKs expect.
    let entity_type = row.subtype.as_deref().unwrap_or(row.entity_type);
    obj.insert("type".to_owned(), Value::String(entity_type.to_owned()));
    obj.insert("id".to_owned(), Value::String(row.id.to_string()));
    for (name, value) in &row.fields {
        obj.insert((*name).to_owned(), field(value));
    }
    Value::Object(obj)
}

fn field(value: &FieldValue) -> Value {
    match value {
        FieldValue::Null | FieldValue::Ref(None) => Value::Null,
        FieldValue::Text(t) => Value::String(t.clone()),
        FieldValue::Int(n) => json!(n),
        FieldValue::Bool(b) => json!(b),
        FieldValue::Date(ms) => Value::String(verdict_domain::time::format_iso(*ms)),
        FieldValue::Ref(Some(r)) => reference(r),
        FieldValue::Multi(list) => json!({
            "total_count": list.len(),
            "data": list.iter().map(reference).collect::<Vec<_>>(),
        }),
    }
}

fn reference(r: &RefValue) -> Value {
    let mut obj = Map::new();
    let entity_type = r.subtype.as_deref().unwrap_or(r.entity_type);
    obj.insert("type".to_owned(), Value::String(entity_type.to_owned()));
    obj.insert("id".to_owned(), Value::String(r.id.to_string()));
    if let Some(name) = &r.name {
        obj.insert("name".to_owned(), Value::String(name.clone()));
    }
    if let Some(logical) = &r.logical_name {
        obj.insert("logical_name".to_owned(), Value::String(logical.clone()));
    }
    if let Some(category) = &r.category {
        obj.insert("category".to_owned(), reference(category));
    }
    for (name, value) in &r.extra {
        obj.insert((*name).to_owned(), field(value));
    }
    Value::Object(obj)
}
