//! The names PostgreSQL gives to objects the DDL leaves unnamed: `orders_pkey`,
//! `order_items_order_id_sku_key`, `order_items_order_id_fkey`, `orders_id_seq`. Users refer
//! to these names later (`DROP CONSTRAINT`, `conflict_constraint = ...`), so the catalog must
//! spell them exactly as PostgreSQL does (`makeObjectName` and `ChooseRelationName` in
//! PostgreSQL's `indexcmds.c`).

/// PostgreSQL's `NAMEDATALEN - 1`: identifiers longer than this are truncated.
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Truncates an identifier to 63 bytes at a character boundary, as PostgreSQL does.
pub fn truncate_identifier(name: &str) -> String {
    clip(name, MAX_IDENTIFIER_BYTES).to_owned()
}

fn clip(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `makeObjectName(name1, name2, label)`: `name1_name2_label`, shortening the longer of
/// `name1` and `name2` first until the whole fits in 63 bytes.
pub fn make_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(name2.is_some());
    let avail = MAX_IDENTIFIER_BYTES.saturating_sub(overhead);
    let mut len1 = name1.len();
    let mut len2 = name2.map_or(0, str::len);
    while len1 + len2 > avail {
        if len1 > len2 {
            len1 -= 1;
        } else {
            len2 -= 1;
        }
    }
    let mut out = clip(name1, len1).to_owned();
    if let Some(name2) = name2 {
        out.push('_');
        out.push_str(clip(name2, len2));
    }
    out.push('_');
    out.push_str(label);
    out
}

/// `ChooseRelationName`/`ChooseConstraintName`: the first of `name1_name2_label`,
/// `name1_name2_label1`, `..._label2`, ... that `taken` does not reject.
pub fn choose_name(
    name1: &str,
    name2: Option<&str>,
    label: &str,
    taken: impl Fn(&str) -> bool,
) -> String {
    let mut candidate = make_object_name(name1, name2, label);
    let mut pass = 0u32;
    while taken(&candidate) {
        pass += 1;
        candidate = make_object_name(name1, name2, &format!("{label}{pass}"));
    }
    candidate
}

/// `ChooseIndexNameAddition`: column names joined by `_`, stopping once the text reaches
/// the identifier length (the rest would be truncated anyway).
pub fn column_name_addition(columns: &[&str]) -> String {
    let mut out = String::new();
    for column in columns {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(clip(column, MAX_IDENTIFIER_BYTES));
        if out.len() >= MAX_IDENTIFIER_BYTES {
            break;
        }
    }
    out
}

/// `FigureColnameInternal`: the name PostgreSQL gives an expression's result (a select
/// list item without `AS`, an index column): a column reference's column, a function
/// call's function, a cast's operand (else the cast's type), `coalesce`, `greatest`,
/// `least`, `nullif`, `case`, `array`, `row`; `None` for anything else (an operator, a
/// literal), which PostgreSQL names `?column?` in a select list and `expr` in an index.
pub fn figure_colname(expr: &sqlparser::ast::Expr) -> Option<String> {
    use sqlparser::ast::{DataType, Expr};
    match expr {
        Expr::Identifier(ident) => Some(super::fold_ident(ident)),
        Expr::CompoundIdentifier(parts) => parts.last().map(super::fold_ident),
        Expr::Function(function) => function
            .name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(super::fold_ident),
        Expr::Nested(inner) => figure_colname(inner),
        Expr::Cast {
            expr, data_type, ..
        } => figure_colname(expr).or_else(|| match data_type {
            DataType::Custom(name, _) => name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(super::fold_ident),
            other => super::sql_type::normalise(other)
                .ok()
                .and_then(|t| match t.base {
                    super::sql_type::WrittenBase::Builtin { name, .. } => Some(type_colname(&name)),
                    super::sql_type::WrittenBase::Named { parts, .. } => parts.last().cloned(),
                }),
        }),
        Expr::Case { .. } => Some("case".to_owned()),
        Expr::Array(_) => Some("array".to_owned()),
        Expr::Tuple(_) => Some("row".to_owned()),
        _ => None,
    }
}

/// The name a cast to a built-in type gives its result: the type's internal name
/// (`integer` → `int4`, `timestamp with time zone` → `timestamptz`).
fn type_colname(format_type_name: &str) -> String {
    match format_type_name {
        "smallint" => "int2",
        "integer" => "int4",
        "bigint" => "int8",
        "real" => "float4",
        "double precision" => "float8",
        "boolean" => "bool",
        "character varying" => "varchar",
        "character" => "bpchar",
        "timestamp with time zone" => "timestamptz",
        "timestamp without time zone" => "timestamp",
        "time with time zone" => "timetz",
        "time without time zone" => "time",
        "bit varying" => "varbit",
        other => other,
    }
    .to_owned()
}

/// `ChooseIndexColumnNames`: each index column's name (see [`figure_colname`], `expr` for
/// an expression without one), made unique by appending `1`, `2`, ... as PostgreSQL does.
pub fn index_column_names(exprs: &[&sqlparser::ast::Expr]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for expr in exprs {
        let original = figure_colname(expr).unwrap_or_else(|| "expr".to_owned());
        let mut candidate = original.clone();
        let mut pass = 0u32;
        while names.contains(&candidate) {
            pass += 1;
            let suffix = pass.to_string();
            candidate = format!(
                "{}{suffix}",
                clip(&original, MAX_IDENTIFIER_BYTES - suffix.len())
            );
        }
        names.push(candidate);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_like_postgres() {
        assert_eq!(make_object_name("orders", None, "pkey"), "orders_pkey");
        assert_eq!(
            make_object_name("order_items", Some("order_id_sku"), "key"),
            "order_items_order_id_sku_key"
        );
        let long = "a".repeat(40);
        let name = make_object_name(&long, Some(&"b".repeat(40)), "fkey");
        assert_eq!(name.len(), 63);
        assert_eq!(name, format!("{}_{}_fkey", "a".repeat(29), "b".repeat(28)));
        let taken = ["t_a_key".to_owned(), "t_a_key1".to_owned()];
        assert_eq!(
            choose_name("t", Some("a"), "key", |n| taken.iter().any(|t| t == n)),
            "t_a_key2"
        );
        assert_eq!(truncate_identifier(&"é".repeat(40)).len(), 62);
    }
}
