//! The columns a query makes, for `CREATE TABLE ... AS` and `SELECT ... INTO`: their names
//! as PostgreSQL chooses them and their types as PostgreSQL resolves them, for the forms real
//! histories use (column references, casts, literals, `count(*)`, `max`/`min`/`sum`/
//! `coalesce`/`greatest`/`least`, comparisons and boolean operators, window ranks, joins,
//! derived tables, `WITH` and `UNION ALL`). Anything else is an error naming the column and
//! its expression: guessing a type would put a wrong type in generated code.

use sqlparser::ast::{
    BinaryOperator, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Query, Select,
    SelectItem, SetExpr, SetOperator, TableFactor, TableWithJoins, UnaryOperator, Value,
};

use super::fold_ident;
use super::naming::figure_colname;
use crate::catalog::{BaseType, SqlType};

/// What the typer needs from the catalog being built.
pub trait Env {
    /// The columns (name, type) of the table a name resolves to; `None` when the name is no
    /// table whose columns are known (a view, a missing table).
    fn relation_columns(&self, parts: &[String]) -> Option<Vec<(String, SqlType)>>;
    /// The catalog type of a written type (built-ins, enums, domains, extension types).
    fn resolve_type(&self, data_type: &DataType) -> Result<SqlType, String>;
}

/// A column a query makes: its name and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryColumn {
    /// The column's name (`AS` alias, else the name PostgreSQL figures).
    pub name: String,
    /// The column's type.
    pub sql_type: SqlType,
}

/// The columns `query` makes, typed as `CREATE TABLE ... AS` types them (a literal of
/// unknown type, such as a bare `NULL` or `'x'`, becomes `text`). `Err` says which column
/// cannot be typed and why.
pub fn query_columns(env: &dyn Env, query: &Query) -> Result<Vec<QueryColumn>, String> {
    let typer = Typer {
        env,
        ctes: Vec::new(),
    };
    let columns = typer.query(query)?;
    let mut out: Vec<QueryColumn> = Vec::new();
    for column in columns {
        if out.iter().any(|c| c.name == column.name) {
            return Err(format!(
                "column `{}` is specified more than once",
                column.name
            ));
        }
        out.push(QueryColumn {
            name: column.name,
            sql_type: column.ty.unwrap_or_else(|| SqlType::builtin("text")),
        });
    }
    Ok(out)
}

/// A column while typing: `ty` is `None` for a literal whose type is still unknown.
#[derive(Debug, Clone)]
struct Col {
    name: String,
    ty: Option<SqlType>,
}

/// A relation in scope: its name (alias, else table name) and columns.
#[derive(Debug, Clone)]
struct Rel {
    name: String,
    columns: Vec<Col>,
}

struct Typer<'a> {
    env: &'a dyn Env,
    /// `WITH` queries in scope, innermost last.
    ctes: Vec<Rel>,
}

impl Typer<'_> {
    fn query(&self, query: &Query) -> Result<Vec<Col>, String> {
        let mut inner = Typer {
            env: self.env,
            ctes: self.ctes.clone(),
        };
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let mut columns = inner.query(&cte.query)?;
                resolve_unknowns(&mut columns);
                for (column, alias) in columns.iter_mut().zip(&cte.alias.columns) {
                    column.name = fold_ident(&alias.name);
                }
                inner.ctes.push(Rel {
                    name: fold_ident(&cte.alias.name),
                    columns,
                });
            }
        }
        inner.set_expr(&query.body)
    }

    fn set_expr(&self, body: &SetExpr) -> Result<Vec<Col>, String> {
        match body {
            SetExpr::Select(select) => self.select(select),
            SetExpr::Query(query) => self.query(query),
            SetExpr::SetOperation {
                op, left, right, ..
            } => {
                if !matches!(
                    op,
                    SetOperator::Union | SetOperator::Except | SetOperator::Intersect
                ) {
                    return Err(format!("cannot type a `{op}` query"));
                }
                let left = self.set_expr(left)?;
                let right = self.set_expr(right)?;
                if left.len() != right.len() {
                    return Err("each side of a UNION must have the same number of columns".into());
                }
                left.into_iter()
                    .zip(right)
                    .map(|(l, r)| {
                        let ty = match (l.ty, r.ty) {
                            (Some(a), Some(b)) => Some(common_type(&a, &b).ok_or_else(|| {
                                format!(
                                    "the UNION's column `{}` is `{a}` on one side and `{b}` on the other",
                                    l.name
                                )
                            })?),
                            (a, b) => a.or(b),
                        };
                        Ok(Col { name: l.name, ty })
                    })
                    .collect()
            }
            other => Err(format!("cannot type the columns of `{other}`")),
        }
    }

    fn select(&self, select: &Select) -> Result<Vec<Col>, String> {
        let mut scope: Vec<Rel> = Vec::new();
        for from in &select.from {
            self.scope_of_from(from, &mut scope)?;
        }
        let mut out = Vec::new();
        for item in &select.projection {
            match item {
                SelectItem::UnnamedExpr(expr) => {
                    let name = figure_colname(expr).unwrap_or_else(|| "?column?".to_owned());
                    let ty = self
                        .expr(expr, &scope)
                        .map_err(|e| column_error(&name, expr, &e))?;
                    out.push(Col { name, ty });
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let name = fold_ident(alias);
                    let ty = self
                        .expr(expr, &scope)
                        .map_err(|e| column_error(&name, expr, &e))?;
                    out.push(Col { name, ty });
                }
                SelectItem::Wildcard(_) => {
                    if scope.is_empty() {
                        return Err("`SELECT *` with no FROM has no columns".into());
                    }
                    for rel in &scope {
                        out.extend(rel.columns.iter().cloned());
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => {
                    let text = kind.to_string();
                    let name = text.trim_end_matches(".*").trim_end_matches('*');
                    let name = name.trim_end_matches('.');
                    let wanted = last_name_part(name);
                    let rel = scope
                        .iter()
                        .find(|r| r.name == wanted)
                        .ok_or_else(|| format!("`{name}.*` names no relation of the FROM list"))?;
                    out.extend(rel.columns.iter().cloned());
                }
                other => return Err(format!("cannot type the select item `{other}`")),
            }
        }
        Ok(out)
    }

    fn scope_of_from(&self, from: &TableWithJoins, scope: &mut Vec<Rel>) -> Result<(), String> {
        scope.push(self.table_factor(&from.relation)?);
        for join in &from.joins {
            scope.push(self.table_factor(&join.relation)?);
        }
        Ok(())
    }

    fn table_factor(&self, factor: &TableFactor) -> Result<Rel, String> {
        match factor {
            TableFactor::Table { name, alias, .. } => {
                let parts: Vec<String> = name
                    .0
                    .iter()
                    .filter_map(|p| p.as_ident())
                    .map(fold_ident)
                    .collect();
                let cte = match parts.as_slice() {
                    [only] => self.ctes.iter().rev().find(|c| &c.name == only).cloned(),
                    _ => None,
                };
                let mut rel = match cte {
                    Some(cte) => cte,
                    None => {
                        let columns = self.env.relation_columns(&parts).ok_or_else(|| {
                            format!(
                                "`{name}` is not a table whose columns are known (a view's columns are not read)"
                            )
                        })?;
                        Rel {
                            name: parts.last().cloned().unwrap_or_default(),
                            columns: columns
                                .into_iter()
                                .map(|(name, ty)| Col { name, ty: Some(ty) })
                                .collect(),
                        }
                    }
                };
                if let Some(alias) = alias {
                    rel.name = fold_ident(&alias.name);
                    for (column, renamed) in rel.columns.iter_mut().zip(&alias.columns) {
                        column.name = fold_ident(&renamed.name);
                    }
                }
                Ok(rel)
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                let mut columns = self.query(subquery)?;
                resolve_unknowns(&mut columns);
                let mut rel = Rel {
                    name: String::new(),
                    columns,
                };
                if let Some(alias) = alias {
                    rel.name = fold_ident(&alias.name);
                    for (column, renamed) in rel.columns.iter_mut().zip(&alias.columns) {
                        column.name = fold_ident(&renamed.name);
                    }
                }
                Ok(rel)
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let mut inner = Vec::new();
                self.scope_of_from(table_with_joins, &mut inner)?;
                let columns = inner.into_iter().flat_map(|r| r.columns).collect();
                Ok(Rel {
                    name: alias
                        .as_ref()
                        .map(|a| fold_ident(&a.name))
                        .unwrap_or_default(),
                    columns,
                })
            }
            other => Err(format!("cannot type the columns of `{other}`")),
        }
    }

    fn column(&self, parts: &[String], scope: &[Rel]) -> Result<Option<SqlType>, String> {
        let (relation, column) = match parts {
            [column] => (None, column),
            [.., relation, column] => (Some(relation), column),
            [] => return Err("empty column reference".into()),
        };
        scope
            .iter()
            .filter(|r| relation.is_none_or(|wanted| &r.name == wanted))
            .find_map(|r| r.columns.iter().find(|c| &c.name == column))
            .map(|c| c.ty.clone())
            .ok_or_else(|| format!("no column `{}` in the FROM list", parts.join(".")))
    }

    /// The type of an expression: `None` for a literal of unknown type.
    fn expr(&self, expr: &Expr, scope: &[Rel]) -> Result<Option<SqlType>, String> {
        let boolean = || Ok(Some(SqlType::builtin("boolean")));
        match expr {
            Expr::Identifier(ident) => self.column(&[fold_ident(ident)], scope),
            Expr::CompoundIdentifier(idents) => {
                let parts: Vec<String> = idents.iter().map(fold_ident).collect();
                self.column(&parts, scope)
            }
            Expr::Nested(inner) => self.expr(inner, scope),
            Expr::Cast { data_type, .. } => Ok(Some(self.env.resolve_type(data_type)?)),
            Expr::Value(value) => Ok(literal_type(&value.value)),
            Expr::TypedString(typed) => Ok(Some(self.env.resolve_type(&typed.data_type)?)),
            Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsNotTrue(_)
            | Expr::IsNotFalse(_)
            | Expr::IsUnknown(_)
            | Expr::IsNotUnknown(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::InList { .. }
            | Expr::InSubquery { .. }
            | Expr::Between { .. }
            | Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::Exists { .. } => boolean(),
            Expr::UnaryOp { op, expr } => match op {
                UnaryOperator::Not => boolean(),
                UnaryOperator::Minus | UnaryOperator::Plus => self.expr(expr, scope),
                other => Err(format!("cannot type the operator `{other}`")),
            },
            Expr::BinaryOp { left, op, right } => {
                use BinaryOperator as B;
                match op {
                    B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq | B::And | B::Or => {
                        boolean()
                    }
                    B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo => {
                        let l = self.expr(left, scope)?;
                        let r = self.expr(right, scope)?;
                        match (l, r) {
                            (Some(a), Some(b)) if is_numeric(&a) && is_numeric(&b) => {
                                common_type(&strip(&a), &strip(&b))
                                    .map(Some)
                                    .ok_or_else(|| format!("cannot type `{a} {op} {b}`"))
                            }
                            (Some(a), None) | (None, Some(a)) if is_numeric(&a) => {
                                Ok(Some(strip(&a)))
                            }
                            _ => Err(format!("cannot type the operator `{op}` here")),
                        }
                    }
                    B::StringConcat => Ok(Some(SqlType::builtin("text"))),
                    other => Err(format!("cannot type the operator `{other}`")),
                }
            }
            Expr::Function(function) => self.function(function, scope),
            other => Err(format!("cannot type the expression `{other}`")),
        }
    }

    fn function(
        &self,
        function: &sqlparser::ast::Function,
        scope: &[Rel],
    ) -> Result<Option<SqlType>, String> {
        let name = function
            .name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(fold_ident)
            .unwrap_or_default();
        let args: Vec<&Expr> = match &function.args {
            FunctionArguments::List(list) => list
                .args
                .iter()
                .filter_map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let arg = |i: usize| -> Result<Option<SqlType>, String> {
            let expr = args
                .get(i)
                .ok_or_else(|| format!("`{name}` needs an argument here"))?;
            self.expr(expr, scope)
        };
        let known = |ty: &str| Ok(Some(SqlType::builtin(ty)));
        match name.as_str() {
            "count" | "row_number" | "rank" | "dense_rank" => known("bigint"),
            "ntile" => known("integer"),
            "percent_rank" | "cume_dist" => known("double precision"),
            "bool_or" | "bool_and" | "every" => known("boolean"),
            "now" | "transaction_timestamp" | "statement_timestamp" | "clock_timestamp" => {
                known("timestamp with time zone")
            }
            "lower" | "upper" | "trim" | "btrim" | "ltrim" | "rtrim" | "concat" | "concat_ws"
            | "string_agg" | "replace" | "substring" | "substr" | "left" | "right" | "md5"
            | "format" => known("text"),
            "length" | "char_length" | "character_length" | "octet_length" => known("integer"),
            "gen_random_uuid" | "uuid_generate_v4" => known("uuid"),
            "jsonb_agg" | "jsonb_build_object" | "to_jsonb" => known("jsonb"),
            "json_agg" | "json_build_object" | "to_json" => known("json"),
            "max" | "min" => {
                let ty = arg(0)?.ok_or("`max`/`min` of a literal of unknown type")?;
                Ok(Some(aggregate_input(&ty)))
            }
            "sum" => match arg(0)? {
                Some(ty) => sum_type(&ty).map(Some),
                None => Err("`sum` of a literal of unknown type".into()),
            },
            "avg" => match arg(0)? {
                Some(ty) if is_float(&ty) => known("double precision"),
                Some(ty) if is_numeric(&ty) => known("numeric"),
                _ => Err("`avg` of a non-number".into()),
            },
            "coalesce" | "greatest" | "least" | "nullif" => {
                let mut ty: Option<SqlType> = None;
                let count = if name == "nullif" { 1 } else { args.len() };
                for i in 0..count {
                    if let Some(next) = arg(i)? {
                        ty = Some(match ty {
                            None => next,
                            Some(have) => common_type(&have, &next)
                                .ok_or_else(|| format!("`{name}` mixes `{have}` and `{next}`"))?,
                        });
                    }
                }
                Ok(ty)
            }
            "array_agg" => {
                let ty = arg(0)?.ok_or("`array_agg` of a literal of unknown type")?;
                Ok(Some(SqlType {
                    array: true,
                    ..strip(&ty)
                }))
            }
            _ => Err(format!("cannot tell what type `{name}(...)` returns")),
        }
    }
}

/// A column that cannot be typed: its name, its expression and why.
fn column_error(name: &str, expr: &Expr, reason: &str) -> String {
    let whole = format!("cannot type the expression `{expr}`");
    if reason == whole {
        format!("cannot tell the type of column `{name}` (`{expr}`): writegraph does not type this kind of expression")
    } else {
        format!("cannot tell the type of column `{name}` (`{expr}`): {reason}")
    }
}

/// `a.b` → `b`.
fn last_name_part(name: &str) -> String {
    let last = name.rsplit('.').next().unwrap_or(name);
    match last.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => last.to_ascii_lowercase(),
    }
}

/// Unknown-type literals of a subquery's output become `text`, as in PostgreSQL 10 and later.
fn resolve_unknowns(columns: &mut [Col]) {
    for column in columns {
        if column.ty.is_none() {
            column.ty = Some(SqlType::builtin("text"));
        }
    }
}

/// A literal's type: integers by size, other numbers `numeric`, booleans; strings and `NULL`
/// are of unknown type until context resolves them.
fn literal_type(value: &Value) -> Option<SqlType> {
    match value {
        Value::Number(text, _) => {
            let ty = if text.parse::<i32>().is_ok() {
                "integer"
            } else if text.parse::<i64>().is_ok() {
                "bigint"
            } else {
                "numeric"
            };
            Some(SqlType::builtin(ty))
        }
        Value::Boolean(_) => Some(SqlType::builtin("boolean")),
        _ => None,
    }
}

fn builtin_name(ty: &SqlType) -> Option<&str> {
    match &ty.base {
        BaseType::Builtin { name, .. } if !ty.array => Some(name),
        _ => None,
    }
}

/// The numeric types, in the order PostgreSQL promotes them.
const NUMERIC_LADDER: &[&str] = &[
    "smallint",
    "integer",
    "bigint",
    "numeric",
    "real",
    "double precision",
];

fn is_numeric(ty: &SqlType) -> bool {
    builtin_name(ty).is_some_and(|n| NUMERIC_LADDER.contains(&n))
}

fn is_float(ty: &SqlType) -> bool {
    matches!(builtin_name(ty), Some("real" | "double precision"))
}

/// The type without its modifiers (an expression's result has none).
fn strip(ty: &SqlType) -> SqlType {
    match &ty.base {
        BaseType::Builtin { name, .. } => SqlType {
            base: BaseType::Builtin {
                name: name.clone(),
                modifiers: Vec::new(),
            },
            array: ty.array,
        },
        BaseType::User { .. } => ty.clone(),
    }
}

/// The type `max`/`min` return for an argument: character types go through `text`
/// (there is no `max(varchar)`), and modifiers are dropped.
fn aggregate_input(ty: &SqlType) -> SqlType {
    match builtin_name(ty) {
        Some("character varying") => SqlType::builtin("text"),
        _ => strip(ty),
    }
}

/// `sum`'s result type for an argument type.
fn sum_type(ty: &SqlType) -> Result<SqlType, String> {
    let result = match builtin_name(ty) {
        Some("smallint" | "integer") => "bigint",
        Some("bigint" | "numeric") => "numeric",
        Some("real") => "real",
        Some("double precision") => "double precision",
        Some("interval") => "interval",
        Some("money") => "money",
        _ => return Err(format!("cannot tell what type `sum` of `{ty}` returns")),
    };
    Ok(SqlType::builtin(result))
}

/// The type PostgreSQL resolves two types to (`select_common_type`), for the cases that
/// occur: equal types (modifiers kept when equal), numbers (the wider), character types
/// (`text`, or `character varying` without a length), timestamps. `None` when they do not
/// mix.
fn common_type(a: &SqlType, b: &SqlType) -> Option<SqlType> {
    if a == b {
        return Some(a.clone());
    }
    if a.array != b.array {
        return None;
    }
    match (&a.base, &b.base) {
        (BaseType::Builtin { name: x, .. }, BaseType::Builtin { name: y, .. }) => {
            if x == y {
                return Some(strip(a));
            }
            let rank = |n: &str| NUMERIC_LADDER.iter().position(|l| *l == n);
            if let (Some(i), Some(j)) = (rank(x), rank(y)) {
                return Some(SqlType {
                    array: a.array,
                    ..SqlType::builtin(NUMERIC_LADDER[i.max(j)])
                });
            }
            let texty = |n: &str| matches!(n, "text" | "character varying" | "character");
            if texty(x) && texty(y) {
                return Some(SqlType {
                    array: a.array,
                    ..SqlType::builtin("text")
                });
            }
            let times = [
                "date",
                "timestamp without time zone",
                "timestamp with time zone",
            ];
            let time_rank = |n: &str| times.iter().position(|t| *t == n);
            if let (Some(i), Some(j)) = (time_rank(x), time_rank(y)) {
                return Some(SqlType {
                    array: a.array,
                    ..SqlType::builtin(times[i.max(j)])
                });
            }
            None
        }
        _ => None,
    }
}
