//! Entity query expressions (protocol §7.2) to SQL `WHERE` fragments.
//! Values are always bound parameters; only catalog constants are spliced.
//! On SQLite placeholders are anonymous `?` bound in order of appearance
//! (sqlx resolves named `$N` with a scan per bind: a 32,000-value `IN` list
//! cost seconds); PostgreSQL gets `$N`. Cross-reference subqueries are
//! restricted to the caller's workspace, like the outer query.

use verdict_domain::query::{Condition, Expr, Op, Value, like_pattern};

use super::catalog::{Collection, FieldKind, collection_of_table};
use crate::connect::Backend;
use crate::error::StoreError;

/// A bound query parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Int(i64),
    Text(String),
}

/// Accumulates parameters and table aliases while a query is translated.
/// Fragments must be joined in the order they were built (SQLite's `?` are
/// positional).
#[derive(Debug)]
pub(crate) struct SqlBuilder {
    pub params: Vec<Param>,
    aliases: usize,
    backend: Backend,
    workspace_id: i64,
    /// For `[current_user]`.
    current_user: Option<i64>,
}

impl SqlBuilder {
    /// A builder for queries inside `workspace_id`.
    pub fn new(backend: Backend, workspace_id: i64, current_user: Option<i64>) -> Self {
        Self {
            params: Vec::new(),
            aliases: 0,
            backend,
            workspace_id,
            current_user,
        }
    }

    /// Binds a parameter and returns its placeholder.
    pub fn bind(&mut self, p: Param) -> String {
        self.params.push(p);
        match self.backend {
            Backend::Sqlite => "?".to_owned(),
            Backend::Postgres => format!("${}", self.params.len()),
        }
    }

    /// `alias.workspace_id = <placeholder>` for the builder's workspace.
    pub fn in_workspace(&mut self, alias: &str) -> String {
        let p = self.bind(Param::Int(self.workspace_id));
        format!("{alias}.workspace_id = {p}")
    }

    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("t{}", self.aliases)
    }

    /// Translates `expr` over `collection` aliased as `alias`.
    pub fn expr(
        &mut self,
        collection: &Collection,
        alias: &str,
        expr: &Expr,
    ) -> Result<String, StoreError> {
        Ok(match expr {
            Expr::Or(parts) => self.join(collection, alias, parts, " OR ")?,
            Expr::And(parts) => self.join(collection, alias, parts, " AND ")?,
            Expr::Not(inner) => format!("NOT ({})", self.expr(collection, alias, inner)?),
            Expr::Cond(cond) => self.condition(collection, alias, cond)?,
        })
    }

    fn join(
        &mut self,
        c: &Collection,
        alias: &str,
        parts: &[Expr],
        sep: &str,
    ) -> Result<String, StoreError> {
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            out.push(self.expr(c, alias, p)?);
        }
        Ok(format!("({})", out.join(sep)))
    }

    fn condition(
        &mut self,
        c: &Collection,
        alias: &str,
        cond: &Condition,
    ) -> Result<String, StoreError> {
        let field = c
            .field(&cond.field)
            .ok_or_else(|| StoreError::InvalidQuery {
                position: cond.position,
                message: format!("unknown field '{}' of {}", cond.field, c.name),
            })?;
        match field.kind {
            FieldKind::Id => self.scalar(
                &format!("{alias}.id"),
                Scalar::Id(c.table == "list_nodes"),
                cond,
            ),
            FieldKind::Int(col) => self.scalar(&format!("{alias}.{col}"), Scalar::Int, cond),
            FieldKind::Bool(col) => self.scalar(&format!("{alias}.{col}"), Scalar::Bool, cond),
            FieldKind::Date(col) => self.scalar(&format!("{alias}.{col}"), Scalar::Date, cond),
            FieldKind::Text(col) => self.scalar(&format!("{alias}.{col}"), Scalar::Text, cond),
            FieldKind::Ref { column, target } => {
                let target = target_collection(target)?;
                let col = format!("{alias}.{column}");
                match reference_or_null(cond)? {
                    RefTest::Null => Ok(format!("{col} IS NULL")),
                    RefTest::Sub(sub) => Ok(format!("{col} IN ({})", self.subselect(target, sub)?)),
                    RefTest::Plain => {
                        self.scalar(&col, Scalar::Id(target.table == "list_nodes"), cond)
                    }
                }
            }
            FieldKind::MultiRef { link, target } => {
                let target = target_collection(target)?;
                let links = format!(
                    "SELECT 1 FROM entity_links l WHERE l.src_id = {alias}.id AND l.field = '{link}'"
                );
                match reference_or_null(cond)? {
                    RefTest::Null => Ok(format!("NOT EXISTS ({links})")),
                    RefTest::Sub(sub) => Ok(format!(
                        "EXISTS ({links} AND l.dst_id IN ({}))",
                        self.subselect(target, sub)?
                    )),
                    RefTest::Plain => {
                        let inner = self.scalar("l.dst_id", Scalar::Id(false), cond)?;
                        Ok(format!("EXISTS ({links} AND {inner})"))
                    }
                }
            }
        }
    }

    fn subselect(&mut self, target: &Collection, sub: &Expr) -> Result<String, StoreError> {
        let alias = self.alias();
        let scope = self.in_workspace(&alias);
        let filter = self.expr(target, &alias, sub)?;
        Ok(format!(
            "SELECT {alias}.id FROM {} {alias} WHERE {scope} AND {filter}",
            target.table
        ))
    }

    /// The SQL (a scalar subquery or a parameter) standing for a placeholder value.
    fn placeholder_value(&mut self, value: &Value, cond: &Condition) -> Result<String, StoreError> {
        match value {
            Value::CurrentUser => {
                let id = self
                    .current_user
                    .ok_or_else(|| invalid(cond, "[current_user] needs a signed-in user"))?;
                Ok(self.bind(Param::Int(id)))
            }
            _ => {
                let ws = self.bind(Param::Int(self.workspace_id));
                let now = self.bind(Param::Int(crate::now_ms()));
                let now2 = self.bind(Param::Int(crate::now_ms()));
                Ok(format!(
                    "(SELECT cr.id FROM releases cr WHERE cr.workspace_id = {ws} ORDER BY \
                     CASE WHEN cr.start_date <= {now} AND cr.end_date >= {now2} THEN 0 ELSE 1 END, \
                     cr.is_default DESC, cr.id LIMIT 1)"
                ))
            }
        }
    }

    fn scalar(
        &mut self,
        column: &str,
        kind: Scalar,
        cond: &Condition,
    ) -> Result<String, StoreError> {
        let mut placeholders = Vec::with_capacity(cond.values.len());
        for value in &cond.values {
            if matches!(value, Value::CurrentUser | Value::CurrentRelease) {
                if !matches!(kind, Scalar::Id(..) | Scalar::Int) {
                    return Err(invalid(
                        cond,
                        &format!("{value} compares with id or reference fields only"),
                    ));
                }
                placeholders.push(self.placeholder_value(value, cond)?);
                continue;
            }
            if matches!(value, Value::Null) {
                if cond.op != Op::Eq {
                    return Err(invalid(cond, "null can only be compared with EQ"));
                }
                return Ok(format!("{column} IS NULL"));
            }
            if let (Scalar::Text, Op::Eq, Value::Text(t)) = (kind, cond.op, value)
                && value.is_wildcard()
            {
                let p = self.bind(Param::Text(like_pattern(t)));
                return Ok(format!("LOWER({column}) LIKE LOWER({p}) ESCAPE '\\'"));
            }
            if let (Scalar::Id(true), Value::Text(t)) = (kind, value)
                && t.parse::<i64>().is_err()
            {
                // List nodes are also addressed by logical name
                // (`list_node.run_status.passed`); every workspace has its own
                // nodes with the same names, so the lookup is scoped.
                let scope = self.in_workspace("ln");
                let p = self.bind(Param::Text(t.clone()));
                placeholders.push(format!(
                    "(SELECT ln.id FROM list_nodes ln WHERE {scope} AND ln.logical_name = {p})"
                ));
                continue;
            }
            let param = to_param(kind, value).ok_or_else(|| {
                invalid(
                    cond,
                    &format!("value {value} does not fit field '{}'", cond.field),
                )
            })?;
            let p = self.bind(param);
            placeholders.push(if matches!(kind, Scalar::Text) {
                format!("LOWER({p})")
            } else {
                p
            });
        }
        let lhs = if matches!(kind, Scalar::Text) {
            format!("LOWER({column})")
        } else {
            column.to_owned()
        };
        let sql = match (cond.op, placeholders.as_slice()) {
            (Op::Eq, [v]) => format!("{lhs} = {v}"),
            (Op::Lt, [v]) => format!("{lhs} < {v}"),
            (Op::Gt, [v]) => format!("{lhs} > {v}"),
            (Op::Le, [v]) => format!("{lhs} <= {v}"),
            (Op::Ge, [v]) => format!("{lhs} >= {v}"),
            (Op::Btw, [a, b]) => format!("{lhs} BETWEEN {a} AND {b}"),
            (Op::In, values) if !values.is_empty() => format!("{lhs} IN ({})", values.join(",")),
            _ => return Err(invalid(cond, "wrong number of values for the operator")),
        };
        Ok(sql)
    }
}

#[derive(Debug, Clone, Copy)]
enum Scalar {
    /// Ids; the flag says list-node logical names are accepted.
    Id(bool),
    Int,
    Bool,
    Date,
    Text,
}

enum RefTest<'a> {
    Null,
    Sub(&'a Expr),
    Plain,
}

fn reference_or_null(cond: &Condition) -> Result<RefTest<'_>, StoreError> {
    match cond.values.as_slice() {
        [Value::Null] => Ok(RefTest::Null),
        [Value::Reference(sub)] if cond.op == Op::Eq => Ok(RefTest::Sub(sub)),
        [Value::Reference(_)] => Err(invalid(cond, "a {…} cross reference needs EQ")),
        _ => Ok(RefTest::Plain),
    }
}

fn to_param(kind: Scalar, value: &Value) -> Option<Param> {
    match (kind, value) {
        (Scalar::Id(..) | Scalar::Int, Value::Number(n)) => Some(Param::Int(*n)),
        (Scalar::Id(..) | Scalar::Int, Value::Text(t)) => t.trim().parse().ok().map(Param::Int),
        (Scalar::Bool, Value::Bool(b)) => Some(Param::Int(i64::from(*b))),
        (Scalar::Bool, Value::Text(t)) => match t.as_str() {
            "true" => Some(Param::Int(1)),
            "false" => Some(Param::Int(0)),
            _ => None,
        },
        (Scalar::Date, Value::Text(t)) => verdict_domain::time::parse_iso(t).map(Param::Int),
        (Scalar::Date, Value::Number(n)) => Some(Param::Int(*n)),
        (Scalar::Text, Value::Text(t)) => Some(Param::Text(t.clone())),
        (Scalar::Text, Value::Number(n)) => Some(Param::Text(n.to_string())),
        (Scalar::Text, Value::Bool(b)) => Some(Param::Text(b.to_string())),
        _ => None,
    }
}

fn target_collection(table: &str) -> Result<&'static Collection, StoreError> {
    collection_of_table(table)
        .ok_or_else(|| StoreError::NotFound(format!("no collection for table {table}")))
}

fn invalid(cond: &Condition, message: &str) -> StoreError {
    StoreError::InvalidQuery {
        position: cond.position,
        message: message.to_owned(),
    }
}
