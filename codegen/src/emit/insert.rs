//! The insert struct of a table: constructor, setters, inserts, upserts and inserts that
//! skip, the batch columns.

use std::fmt::Write as _;

use super::rows::{field_doc, table_doc};
use super::{doc, statement_pair, upsert_statements};
use crate::model::{ColumnModel, InsertKind, TableModel};
use crate::plan::{Param, TableStatements};

/// How an insert field reads to its user: a column that a graph fills is required of a
/// row written on its own (the graph's own row type leaves it out).
pub(super) fn api_kind(column: &ColumnModel<'_>) -> Option<InsertKind> {
    match column.insert {
        Some(InsertKind::Injected) => Some(InsertKind::Required),
        kind => kind,
    }
}

/// The Rust type of an insert field.
pub(super) fn insert_type(column: &ColumnModel<'_>) -> String {
    let ty = &column.ty.rust;
    match api_kind(column) {
        Some(InsertKind::Required) => ty.clone(),
        Some(InsertKind::NullableDefaulted) => {
            format!("::std::option::Option<::std::option::Option<{ty}>>")
        }
        _ => format!("::std::option::Option<{ty}>"),
    }
}

pub(super) fn insert_field_doc(column: &ColumnModel<'_>) -> String {
    let unset = match api_kind(column) {
        Some(InsertKind::Required) => "Required.",
        Some(InsertKind::Defaulted) => "`None` takes the column's DEFAULT.",
        Some(InsertKind::Nullable) => "`None` is NULL.",
        Some(InsertKind::NullableDefaulted) => {
            "`None` takes the column's DEFAULT; `Some(None)` is NULL."
        }
        _ => "",
    };
    field_doc(column, (!unset.is_empty()).then_some(unset))
}

pub(super) fn insert_struct(table: &TableModel<'_>, statements: &TableStatements) -> String {
    let name = format!("New{}", table.rust_name);
    let text = table_doc(table, "A row to insert");
    let mut code = row_type(table, (&name, &text), &[], "");
    code.push_str(&columns_struct(table, statements));
    code.push_str(&insert_impl(table, statements));
    code.push_str(&upsert_impl(table, statements));
    code
}

/// The row type of graph steps that fill the column `filled` of their rows with their
/// parent's key: the table's insert fields without that column, and the split of its rows
/// into the table's column vectors (the filled column unset in every row: the graph fills
/// it).
///
/// Columns a belongs_to under the step fills (`optional`) are optional: `None` takes the key
/// of the row the graph writes for it. Such a row has no conversion to `NewT`.
pub(super) fn own_row_type(
    table: &TableModel<'_>,
    statements: &TableStatements,
    name: &str,
    (omitted, optional): (&[usize], &[usize]),
) -> String {
    let mut text = match omitted.first() {
        Some(&filled) => format!(
            "A row of `{}` in a write graph, which fills `{}` with the key of the row it belongs to: `New{}` without that column.",
            table.table.name, table.columns[filled].column.name, table.rust_name
        ),
        None => format!(
            "A row of `{}` in a write graph, written before the row it belongs to: `New{}` with the columns its own parents fill optional.",
            table.table.name, table.rust_name
        ),
    };
    for &column in omitted.iter().skip(1) {
        text.push_str(&format!(
            " `{}` is left out too: the graph copies it from the row it belongs to.",
            table.columns[column].column.name
        ));
    }
    for &column in optional {
        text.push_str(&format!(
            " `{}` is optional: `None` takes the key of the row the graph writes for it.",
            table.columns[column].column.name
        ));
    }
    let table = &with_optional(table, optional);
    let table_name = format!("{:?}", table.table.name.to_sql());
    let body = columns_body(
        table,
        &statements.insert_many.params,
        (&table_name, omitted),
    );
    let filled_list = if body.contains("filled") {
        let omitted: Vec<String> = omitted.iter().map(usize::to_string).collect();
        format!("let filled: &[usize] = &[{}];\n", omitted.join(", "))
    } else {
        String::new()
    };
    let columns = format!(
        "#[doc(hidden)]
        /// The rows as the column vectors of the graph's statement.
        pub fn columns(rows: ::std::vec::Vec<Self>) -> ::writegraph::Result<New{row}Columns> {{
            {filled_list}{body}
        }}\n",
        row = table.rust_name,
    );
    let Some(&filled) = omitted.first() else {
        let code = row_type(table, (name, &text), omitted, &columns);
        return optional_docs(code, table, optional);
    };
    let column = &table.columns[filled];
    let moved: Vec<String> = table
        .columns
        .iter()
        .enumerate()
        .filter(|&(i, c)| c.insert.is_some() && !omitted.contains(&i))
        .map(|(_, c)| format!("{f}: self.{f}", f = c.field))
        .collect();
    let to_table_row = format!(
        "/// This row with `{name}` set: a row of the table, to insert on its own.
        pub fn with_{stem}(self, {f}: impl ::std::convert::Into<{ty}>) -> New{row} {{
            New{row} {{ {f}: {value}, {moved} }}
        }}\n",
        value = match api_kind(column) {
            Some(InsertKind::Required) => format!("{}.into()", column.field),
            Some(InsertKind::NullableDefaulted) => format!("Some(Some({}.into()))", column.field),
            _ => format!("Some({}.into())", column.field),
        },
        name = column.column.name,
        stem = crate::ident::setter_stem(&column.field),
        f = column.field,
        ty = column.ty.rust,
        row = table.rust_name,
        moved = moved.join(", "),
    );
    let to_table_row = if optional.is_empty() && omitted.len() == 1 {
        to_table_row
    } else {
        String::new()
    };
    let code = row_type(table, (name, &text), omitted, &(to_table_row + &columns));
    optional_docs(code, table, optional)
}

/// `code` with the doc of each column a belongs_to fills (`optional`) saying so, not that
/// it takes a DEFAULT.
fn optional_docs(code: String, table: &TableModel<'_>, optional: &[usize]) -> String {
    optional.iter().fold(code, |code, &column| {
        let column = &table.columns[column];
        code.replace(
            &doc(&insert_field_doc(column)),
            &doc(&field_doc(
                column,
                Some("`None` takes the key of the row the graph writes for it; a value connects to an existing row."),
            )),
        )
    })
}

/// `fn <name>(rows: Vec<rows_type>) -> Result<NewTColumns>`: rows holding the table's
/// insert fields (a graph struct holds its root's) split into the column vectors of the
/// statement's parameters `params`, each row checked first.
pub(super) fn rows_columns(
    table: &TableModel<'_>,
    params: &[Param],
    (name, rows_type): (&str, &str),
) -> String {
    let table_name = format!("{:?}", table.table.name.to_sql());
    let body = columns_body(table, params, (&table_name, &[]));
    let filled_list = if body.contains("filled") {
        "let filled: &[usize] = &[];\n"
    } else {
        ""
    };
    format!(
        "#[doc(hidden)]
        /// The rows as the column vectors of the statement's parameters.
        fn {name}(rows: ::std::vec::Vec<{rows_type}>) -> ::writegraph::Result<New{row}Columns> {{
            {filled_list}{body}
        }}\n",
        row = table.rust_name,
    )
}

/// The table as a row type sees it when a nested belongs_to fills the columns `optional`:
/// those columns optional, like a column with a default.
fn with_optional<'a>(table: &TableModel<'a>, optional: &[usize]) -> TableModel<'a> {
    let mut table = table.clone();
    for &column in optional {
        table.columns[column].insert = Some(InsertKind::Defaulted);
    }
    table
}

/// A row struct named `name` of the table's insert fields, but `omitted`: its constructor
/// of the required ones, in table order, and a setter per field.
fn row_type(
    table: &TableModel<'_>,
    (name, text): (&str, &str),
    omitted: &[usize],
    more: &str,
) -> String {
    let inserted: Vec<&ColumnModel<'_>> = table
        .columns
        .iter()
        .enumerate()
        .filter(|&(i, c)| c.insert.is_some() && !omitted.contains(&i))
        .map(|(_, c)| c)
        .collect();
    let required: Vec<&ColumnModel<'_>> = inserted
        .iter()
        .copied()
        .filter(|c| api_kind(c) == Some(InsertKind::Required))
        .collect();

    let mut code = doc(text);
    let derive_default = if required.is_empty() { ", Default" } else { "" };
    code.push_str(&super::attributes::type_attributes(&table.attributes));
    let _ = writeln!(
        code,
        "#[derive(Debug, Clone, PartialEq{derive_default})]\npub struct {name} {{"
    );
    for column in &inserted {
        code.push_str(&doc(&insert_field_doc(column)));
        code.push_str(&super::attributes::field_attributes(
            &table.attributes,
            &column.field,
            &insert_type(column),
        ));
        let _ = writeln!(code, "pub {}: {},", column.field, insert_type(column));
    }
    code.push_str("}\n");

    let _ = writeln!(code, "impl {name} {{");
    let into: Vec<String> = required
        .iter()
        .map(|c| format!("{}: {}", c.field, c.ty.rust))
        .collect();
    let none: Vec<String> = inserted
        .iter()
        .filter(|c| api_kind(c) != Some(InsertKind::Required))
        .map(|c| c.field.clone())
        .collect();
    code.push_str(&super::new_call("row", [&into, &[], &none, &[]]));
    let entries: String = inserted.iter().map(|c| setters(c)).collect();
    code.push_str(&super::setters_call(&entries));
    code.push_str(more);
    code.push_str("}\n");
    code
}

/// The `setters!` entry of an insert field: `with_x(v)` for every field, and
/// `with_x_opt(Option<T>)` for optional ones.
pub(super) fn setters(column: &ColumnModel<'_>) -> String {
    let s = crate::ident::setter_stem(&column.field);
    let kind = match api_kind(column) {
        Some(InsertKind::Required) => return setter_line("required", column, &format!("with_{s}")),
        Some(InsertKind::NullableDefaulted) => "null_default",
        Some(InsertKind::Nullable) => "null",
        _ => "unset",
    };
    setter_line(kind, column, &format!("with_{s} / with_{s}_opt"))
}

/// The `setters!` entry of a column: `kind field "column" with_x / with_x_opt: T;`.
pub(super) fn setter_line(kind: &str, column: &ColumnModel<'_>, names: &str) -> String {
    let (field, name, ty) = (&column.field, &column.column.name, &column.ty.rust);
    // The column's name is left out when it is the field's.
    let name = if name == field {
        String::new()
    } else {
        format!(" {name:?}")
    };
    format!("{kind} {field}{name} {names}: {ty};\n")
}

/// `impl Insert`: the statements, the split of rows into columns, and their binding, then
/// the inherent methods it gives.
fn insert_impl(table: &TableModel<'_>, statements: &TableStatements) -> String {
    let row = &table.rust_name;
    let many = &statements.insert_many;
    let returning = &statements.insert_many_returning;
    let columns_body = columns_body(table, &many.params, ("Self::TABLE", &[]));
    format!(
        "impl ::writegraph::Insert for New{row} {{
            type Stored = {row};
            type Columns = New{row}Columns;
            const TABLE: &'static str = {table_name:?};
            {statements}
            fn columns(rows: ::std::vec::Vec<Self>, {filled}: &[usize]) -> ::writegraph::Result<New{row}Columns> {{
                {columns_body}
            }}
            fn bind(c: &New{row}Columns) -> impl ::std::convert::AsRef<[::writegraph::write::Param<'_>]> + ::std::marker::Send {{
                {params}
            }}
        }}
        ::writegraph::insert_methods!(New{row});\n",
        table_name = table.table.name.to_sql(),
        statements = statement_pair(
            (
                "INSERT_SQL",
                "Inserts rows, one array per column, in input order.",
                &many.sql
            ),
            (
                "INSERT_RETURNING_SQL",
                "`INSERT_SQL` returning every column.",
                &returning.sql
            ),
        ),
        columns_body = columns_body,
        filled = if columns_body.contains("filled") { "filled" } else { "_" },
        params = super::params_macro(&batch_param_values(table, &many.params, "c")),
    )
}

/// `impl Upsert` (the conflict target and its statements: the upsert and the insert that
/// skips) and the inherent methods it gives, when the table has a conflict key.
fn upsert_impl(table: &TableModel<'_>, statements: &TableStatements) -> String {
    let (Some(conflict), Some(on_key)) = (&table.conflict, &statements.conflict) else {
        return String::new();
    };
    let row = &table.rust_name;
    let key = conflict.repeat_key(None);
    let columns: Vec<String> = key
        .iter()
        .map(|&i| format!("{:?}", table.columns[i].column.name))
        .collect();
    let (key_type, key_value) = conflict_key(table, &key);
    format!(
        "impl ::writegraph::Upsert for New{row} {{
            type ConflictKey<'a> = {key_type};
            const CONFLICT_COLUMNS: &'static [&'static str] = &[{columns}];
            {statements}
            fn conflict_key(&self) -> ::std::option::Option<Self::ConflictKey<'_>> {{ {key_value} }}
        }}
        ::writegraph::upsert_methods!(New{row});\n",
        columns = columns.join(", "),
        statements = upsert_statements([
            (&on_key.upsert_many.sql, &on_key.upsert_many_returning.sql),
            (
                &on_key.insert_ignore_many.sql,
                &on_key.insert_ignore_many_returning.sql
            ),
        ]),
    )
}

/// A row's conflict key: its type, borrowed from the row (`(&'a i64, &'a String)`), and the
/// expression that reads it from `self`, `None` when a part is unset. `()` and `None` when a
/// key column's type cannot be hashed: the database then reports a repeated key.
fn conflict_key(table: &TableModel<'_>, key: &[usize]) -> (String, String) {
    let Some(read) = key_reader(table, key, "self") else {
        return ("()".to_owned(), "None".to_owned());
    };
    let types: Vec<String> = key
        .iter()
        .map(|&i| format!("&'a {}", table.columns[i].ty.rust))
        .collect();
    (format!("({},)", types.join(", ")), read)
}

/// `check_unique(..)?;` over `rows` (an expression that iterates `&NewT`, the rows of
/// graph `graph`'s field `field`) by the `key` columns, `RepeatedKey::<kind>` naming them:
/// PostgreSQL cannot update one row twice in a statement. Rows with an unset key column get
/// a fresh default and cannot collide. Empty when a key column's type cannot be hashed (the
/// database then reports it).
pub(super) fn repeated_key_check(
    graph: &str,
    table: &TableModel<'_>,
    key: &[usize],
    (field, rows): (&str, &str),
    kind: &str,
) -> String {
    let Some(read) = key_reader(table, key, "row") else {
        return String::new();
    };
    let columns: Vec<String> = key
        .iter()
        .map(|&i| format!("{:?}", table.columns[i].column.name))
        .collect();
    format!(
        "::writegraph::write::check_unique({rows}, |row| {read}, ::writegraph::write::RepeatedKey::{kind} {{ graph: {graph:?}, field: {field:?}, table: {table_name:?}, columns: &[{columns}] }})?;\n",
        table_name = table.table.name.to_string(),
        columns = columns.join(", "),
    )
}

/// The expression that reads the `key` columns of row `holder` as a tuple of references,
/// `None` when a part is unset; `None` when a key column's type cannot be hashed.
pub(super) fn key_reader(table: &TableModel<'_>, key: &[usize], holder: &str) -> Option<String> {
    let key: Vec<&ColumnModel<'_>> = key.iter().map(|&i| &table.columns[i]).collect();
    if key.is_empty() || key.iter().any(|c| !c.ty.hashable || c.insert.is_none()) {
        return None;
    }
    let values: Vec<String> = key
        .iter()
        .map(|c| match api_kind(c) {
            Some(InsertKind::Required) => format!("&{holder}.{}", c.field),
            Some(InsertKind::NullableDefaulted) => {
                format!("{holder}.{}.as_ref()?.as_ref()?", c.field)
            }
            _ => format!("{holder}.{}.as_ref()?", c.field),
        })
        .collect();
    Some(format!("Some(({},))", values.join(", ")))
}

/// The field of a columns struct that holds one batch parameter: its name, the Rust type of
/// one entry, and the tokio-postgres `Type` of the array. `None` for a key parameter.
pub(super) fn batch_field(
    table: &TableModel<'_>,
    param: Param,
) -> Option<(String, String, String)> {
    Some(match param {
        Param::Flag(i) => (format!("f{i}"), "bool".to_owned(), "BOOL_ARRAY".to_owned()),
        Param::Value(i) => {
            let c = &table.columns[i];
            let ty = match c.insert {
                Some(InsertKind::Required) => c.ty.rust.clone(),
                _ => format!("::std::option::Option<{}>", c.ty.rust),
            };
            (format!("c{i}"), ty, c.ty.param_array_type.clone())
        }
        Param::Elements(i) => {
            let c = &table.columns[i];
            let element =
                c.ty.element
                    .as_ref()
                    .map_or_else(|| c.ty.rust.clone(), |e| e.rust.clone());
            (format!("e{i}"), element, c.ty.param_array_type.clone())
        }
        Param::Starts(i) => (format!("s{i}"), "i32".to_owned(), "INT4_ARRAY".to_owned()),
        Param::Lengths(i) => (
            format!("l{i}"),
            "::std::option::Option<i32>".to_owned(),
            "INT4_ARRAY".to_owned(),
        ),
        Param::Key(_) | Param::Present | Param::ParentOrdinal => return None,
    })
}

/// Each batch parameter, `holder.c3` as `INT8_ARRAY`, from the columns struct
/// `holder`.
pub(super) fn batch_param_values(
    table: &TableModel<'_>,
    params: &[Param],
    holder: &str,
) -> Vec<super::Bound> {
    params
        .iter()
        .filter_map(|&param| Some((param, batch_field(table, param)?)))
        .map(|(param, (field, _, ty))| {
            super::Bound::field(holder, &field, &ty)
                .holding(super::param_holds(&table.columns, param))
        })
        .collect()
}

/// The column arrays of a batch: one vector per parameter of the insert, filled by
/// `Insert::columns` and lent in `$n` order by `Insert::bind`.
pub(super) fn columns_struct(table: &TableModel<'_>, statements: &TableStatements) -> String {
    let row = &table.rust_name;
    let fields: String = statements
        .insert_many
        .params
        .iter()
        .filter_map(|&param| batch_field(table, param))
        .map(|(field, ty, _)| format!("{field}: ::std::vec::Vec<{ty}>,"))
        .collect();
    format!(
        "#[doc(hidden)]
        /// One vector per parameter of `New{row}`'s insert, for batch statements.
        pub struct New{row}Columns {{ {fields} }}\n"
    )
}

/// The body of `Insert::columns`, a `writegraph::columns!` call: each row's checks and
/// values pushed onto the vectors of the statement's parameters `params`, then the trailing
/// unset values trimmed; of a row type without the column `omitted`, left unset in every
/// row. It reads the column indexes a graph fills from `filled`; errors name the table
/// `table_expr`.
pub(super) fn columns_body(
    table: &TableModel<'_>,
    params: &[Param],
    (table_expr, omitted): (&str, &[usize]),
) -> String {
    let row = &table.rust_name;
    let fields: Vec<String> = params
        .iter()
        .filter_map(|&param| batch_field(table, param))
        .map(|(field, _, _)| field)
        .collect();
    let inserted = || {
        table
            .columns
            .iter()
            .enumerate()
            .filter(|&(i, c)| c.insert.is_some() && !omitted.contains(&i))
    };
    let mut entries: Vec<String> = inserted()
        .filter_map(|(_, c)| {
            let max = max_chars(c)?;
            Some(format!("[check {:?} {} {max}]", c.column.name, c.field))
        })
        .collect();
    entries.extend(inserted().map(|(i, c)| push_column(i, c)));
    // The omitted column is unset in every row: when the graph's statement binds its vector
    // to carry the row count (nothing else would), it must hold one entry per row.
    for &i in omitted {
        entries.push(
            if table.columns[i].insert == Some(InsertKind::NullableDefaulted) {
                format!("[none f{i} c{i}]")
            } else {
                format!("[none c{i}]")
            },
        );
    }
    format!(
        "::writegraph::columns!(New{row}Columns {{ {} }} from rows in {table_expr}; {}; trim {})",
        fields.join(", "),
        entries.join(" "),
        trim_unset(table, params),
    )
}

/// `check_text(..)?;` for a column that holds text: PostgreSQL would reject a value longer
/// than a `varchar(n)` / `char(n)` column holds (in characters), or with a NUL byte, without
/// naming the row. Empty for columns that hold no text.
pub(super) fn column_check(
    column: &ColumnModel<'_>,
    value: &str,
    table: &str,
    row: &str,
) -> String {
    match max_chars(column) {
        Some(max_chars) => format!(
            "check_text(&{value}, {max_chars}, {table}, {row}, {:?})?;\n",
            column.column.name
        ),
        None => String::new(),
    }
}

/// `Some("Some(n)")` / `Some("None")`: the character limit of a column that holds text;
/// `None` for a column that holds no text.
pub(super) fn max_chars(column: &ColumnModel<'_>) -> Option<String> {
    const STRING: &str = "::std::string::String";
    let holds_text =
        column.ty.rust == STRING || column.ty.element.as_ref().is_some_and(|e| e.rust == STRING);
    if !holds_text {
        return None;
    }
    Some(match &column.column.sql_type.base {
        crate::catalog::BaseType::Builtin { name, modifiers }
            if name == "character varying" || name == "character" =>
        {
            match modifiers.first() {
                Some(n) => format!("Some({n})"),
                // `character` without a length is `character(1)`.
                None if name == "character" => "Some(1)".to_owned(),
                None => "None".to_owned(),
            }
        }
        _ => "None".to_owned(),
    })
}

/// The trims of `columns!`: the trailing unset values of each column vector dropped, since
/// UNNEST pads shorter arrays with NULL (unset), so a column nobody set travels as an empty
/// array instead of `n` NULLs. One vector stays whole to carry the row count: any required
/// column does; otherwise the first vector of a column that is bound (`anchor(..)`: a graph
/// step does not bind the `filled` ones).
pub(super) fn trim_unset(table: &TableModel<'_>, params: &[Param]) -> String {
    let has_required = table
        .columns
        .iter()
        .any(|c| c.insert == Some(InsertKind::Required));
    let mut trims = Vec::new();
    for &param in params {
        match param {
            Param::Value(i) if table.columns[i].insert != Some(InsertKind::Required) => {
                trims.push((i, format!("[nulls c{i}]")))
            }
            Param::Flag(i) => trims.push((i, format!("[false f{i}]"))),
            Param::Lengths(i) => trims.push((i, format!("[array s{i} l{i}]"))),
            _ => {}
        }
    }
    let list: Vec<&str> = trims.iter().map(|(_, trim)| trim.as_str()).collect();
    if has_required || trims.is_empty() {
        return list.join(" ");
    }
    let candidates: Vec<String> = trims.iter().map(|(i, _)| i.to_string()).collect();
    format!(
        "anchor([{}], filled) {}",
        candidates.join(", "),
        list.join(" ")
    )
}

/// The `columns!` entry that moves one column's value of one row onto the column vectors:
/// an array column as its starts, lengths and elements.
fn push_column(i: usize, column: &ColumnModel<'_>) -> String {
    let f = &column.field;
    let value = match column.insert {
        Some(InsertKind::Required) if column.ty.element.is_some() => format!("some {f}"),
        // Held as `Option` in the vector: a graph's own row type leaves it empty.
        Some(InsertKind::Injected) => format!("some {f}"),
        Some(InsertKind::NullableDefaulted) => format!("flat f{i} {f}"),
        _ => f.clone(),
    };
    if column.ty.element.is_none() {
        format!("[c{i} {value}]")
    } else {
        format!("[array s{i} l{i} e{i} {value}]")
    }
}
