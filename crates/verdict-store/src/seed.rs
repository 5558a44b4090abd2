//! What every new workspace starts with: the run-status lists, the four
//! test-characteristic lists and the environment taxonomies of protocol §5.5.

use crate::connect::Backend;
use crate::error::StoreError;
use crate::ids;

/// Lists seeded in every workspace: (list name, values).
pub(crate) const LISTS: &[(&str, &[&str])] = &[
    ("run_status", &["Passed", "Failed", "Skipped", "Planned"]),
    (
        "run_native_status",
        &["Passed", "Failed", "Skipped", "Planned"],
    ),
    (
        "Test_Level",
        &["Unit Test", "System Test", "Integration Test"],
    ),
    (
        "Test_Type",
        &[
            "Acceptance",
            "Regression",
            "End to End",
            "Sanity",
            "Security",
            "Performance",
            "UI",
            "API",
        ],
    ),
    (
        "Testing_Tool_Type",
        &[
            "UFT One",
            "UFT Developer",
            "Digital Lab",
            "StormRunner Load",
            "Selenium",
            "Manual Runner",
            "SoapUI",
            "Protractor",
            "LoadRunner Enterprise",
        ],
    ),
    (
        "Framework",
        &[
            "JUnit", "UFT One", "TestNG", "NUnit", "JBehave", "Karma", "Jasmine", "Mocha",
            "Cucumber",
        ],
    ),
];

/// Environment taxonomy categories and their items.
pub(crate) const TAXONOMIES: &[(&str, &[&str])] = &[
    ("AUT Env", &["Dev", "Production", "QA", "Staging"]),
    ("Browser", &["Chrome", "Firefox", "IE", "Opera", "Safari"]),
    ("DB", &["IBM DB2", "MSSQL", "MySQL", "Oracle", "Postgres"]),
    (
        "Distribution",
        &["Debian", "Fedora", "RedHat", "SUSE", "Ubuntu"],
    ),
    (
        "OS",
        &[
            "Android",
            "BlackBerryOS",
            "iOS",
            "Linux",
            "MacOCS",
            "WinServer2008",
            "WinServer2012",
        ],
    ),
];

/// Case-insensitive matching key for list and taxonomy names.
#[must_use]
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// Logical name of a list node, e.g. `list_node.run_status.passed`.
#[must_use]
pub fn logical_name(list: &str, value: &str) -> String {
    let slug: String = value
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    format!("list_node.{}.{slug}", list.to_lowercase())
}

pub(crate) async fn seed_workspace(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
) -> Result<(), StoreError> {
    for (list, values) in LISTS {
        let ids = ids::allocate(backend, conn, values.len()).await?;
        for (id, value) in ids.iter().zip(values.iter()) {
            sqlx::query(
                "INSERT INTO list_nodes (id, workspace_id, list_name, name, name_key, logical_name) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(workspace_id)
            .bind(*list)
            .bind(*value)
            .bind(name_key(value))
            .bind(logical_name(list, value))
            .execute(&mut *conn)
            .await?;
        }
    }
    for (category, values) in TAXONOMIES {
        let ids = ids::allocate(backend, conn, values.len() + 1).await?;
        let category_id = ids[0];
        insert_taxonomy(conn, workspace_id, category_id, category, None).await?;
        for (id, value) in ids[1..].iter().zip(values.iter()) {
            insert_taxonomy(conn, workspace_id, *id, value, Some(category_id)).await?;
        }
    }
    Ok(())
}

pub(crate) async fn insert_taxonomy(
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    id: i64,
    name: &str,
    category_id: Option<i64>,
) -> Result<(), StoreError> {
    let subtype = if category_id.is_some() {
        "taxonomy_item_node"
    } else {
        "taxonomy_category_node"
    };
    sqlx::query(
        "INSERT INTO taxonomy_nodes (id, workspace_id, subtype, name, name_key, category_id) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(workspace_id)
    .bind(subtype)
    .bind(name)
    .bind(name_key(name))
    .bind(category_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
