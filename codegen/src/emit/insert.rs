//! The insert struct of a table: constructor, setters, inserts and upserts, the batch columns.

use std::fmt::Write as _;

use super::rows::{column_doc, table_doc};
use super::{doc, doc_sql};
use crate::model::{ColumnModel, InsertKind, TableModel};
use crate::plan::{Param, TableStatements};

/// The Rust type of an insert field.
pub(super) fn insert_type(column: &ColumnModel<'_>) -> String {
    let ty = &column.ty.rust;
    match column.insert {
        Some(InsertKind::Required) => ty.clone(),
        Some(InsertKind::NullableDefaulted) => {
            format!("::std::option::Option<::std::option::Option<{ty}>>")
        }
        _ => format!("::std::option::Option<{ty}>"),
    }
}

pub(super) fn insert_field_doc(column: &ColumnModel<'_>) -> String {
    let unset = match column.insert {
        Some(InsertKind::Required) => "Required.",
        Some(InsertKind::Injected) => "Required for a standalone insert; a write graph fills it.",
        Some(InsertKind::Defaulted) => "`None` takes the column's DEFAULT.",
        Some(InsertKind::Nullable) => "`None` is NULL.",
        Some(InsertKind::NullableDefaulted) => {
            "`None` takes the column's DEFAULT; `Some(None)` is NULL."
        }
        None => "",
    };
    format!("{}\n\n{unset}", column_doc(column))
}

pub(super) fn insert_struct(table: &TableModel<'_>, statements: &TableStatements) -> String {
    let row = &table.rust_name;
    let name = format!("New{row}");
    let inserted: Vec<&ColumnModel<'_>> = table
        .columns
        .iter()
        .filter(|c| c.insert.is_some())
        .collect();
    let required: Vec<&ColumnModel<'_>> = inserted
        .iter()
        .copied()
        .filter(|c| c.insert == Some(InsertKind::Required))
        .collect();

    let mut code = doc(&table_doc(table, "A row to insert"));
    let derive_default = if required.is_empty() { ", Default" } else { "" };
    let _ = writeln!(
        code,
        "#[derive(Debug, Clone, PartialEq{derive_default})]\npub struct {name} {{"
    );
    for column in &inserted {
        code.push_str(&doc(&insert_field_doc(column)));
        let _ = writeln!(code, "pub {}: {},", column.field, insert_type(column));
    }
    code.push_str("}\n");

    let _ = writeln!(code, "impl {name} {{");
    // Constructor: the required columns, in table order.
    let args: Vec<String> = required
        .iter()
        .map(|c| format!("{}: impl ::std::convert::Into<{}>", c.field, c.ty.rust))
        .collect();
    let inits: Vec<String> = inserted
        .iter()
        .map(|c| match c.insert {
            Some(InsertKind::Required) => format!("{f}: {f}.into()", f = c.field),
            _ => format!("{}: None", c.field),
        })
        .collect();
    code.push_str(&doc(
        "A row with its required values; every other column is left unset (its DEFAULT, or NULL).",
    ));
    if args.len() > 7 {
        code.push_str("#[allow(clippy::too_many_arguments)]\n");
    }
    let _ = writeln!(
        code,
        "pub fn new({}) -> Self {{ Self {{ {} }} }}",
        args.join(", "),
        inits.join(", ")
    );
    for column in &inserted {
        code.push_str(&setters(column));
    }
    code.push_str(&insert_functions(table, statements));
    code.push_str("}\n");
    code.push_str(&columns_struct(table, statements));
    code
}

/// `with_x(v)` for every field, and `with_x_opt(Option<T>)` for optional ones.
pub(super) fn setters(column: &ColumnModel<'_>) -> String {
    let f = &column.field;
    let s = crate::ident::setter_stem(f);
    let ty = &column.ty.rust;
    let mut code = String::new();
    let (set, opt) = match column.insert {
        Some(InsertKind::Required) => (format!("self.{f} = v.into();"), None),
        Some(InsertKind::NullableDefaulted) => (
            format!("self.{f} = Some(Some(v.into()));"),
            Some((
                "sets the value, or NULL with `None`",
                format!("self.{f} = Some(v);"),
            )),
        ),
        Some(InsertKind::Nullable) => (
            format!("self.{f} = Some(v.into());"),
            Some((
                "sets the value, or NULL with `None`",
                format!("self.{f} = v;"),
            )),
        ),
        _ => (
            format!("self.{f} = Some(v.into());"),
            Some((
                "sets the value, or leaves it unset with `None`",
                format!("self.{f} = v;"),
            )),
        ),
    };
    code.push_str(&doc(&format!("Sets `{}`.", column.column.name)));
    let _ = writeln!(
        code,
        "pub fn with_{s}(mut self, v: impl ::std::convert::Into<{ty}>) -> Self {{ {set} self }}"
    );
    if let Some((what, body)) = opt {
        code.push_str(&doc(&format!(
            "Sets `{}` from an `Option`: {what}.",
            column.column.name
        )));
        let _ = writeln!(code, "pub fn with_{s}_opt(mut self, v: ::std::option::Option<{ty}>) -> Self {{ {body} self }}");
    }
    code
}

pub(super) fn insert_functions(table: &TableModel<'_>, statements: &TableStatements) -> String {
    let row = &table.rust_name;
    let columns = format!("New{row}Columns");
    let mut code = String::new();
    let many = &statements.insert_many;
    let many_returning = &statements.insert_many_returning;
    let _ = write!(
        code,
        "{doc_insert}pub async fn insert(self, conn: &impl ::writegraph::GenericClient) -> ::writegraph::Result<u64> {{
            Self::insert_many(conn, ::std::vec![self]).await
        }}
        {doc_insert_returning}pub async fn insert_returning(self, conn: &impl ::writegraph::GenericClient) -> ::writegraph::Result<{row}> {{
            let mut rows = Self::insert_many_returning(conn, ::std::vec![self]).await?;
            rows.pop().ok_or_else(|| ::writegraph::Error::Validation(\"the insert returned no row\".into()))
        }}
        {doc_many}pub async fn insert_many(conn: &impl ::writegraph::GenericClient, rows: ::std::vec::Vec<Self>) -> ::writegraph::Result<u64> {{
            if rows.is_empty() {{ return Ok(0); }}
            let columns = {columns}::from_rows(rows, &[])?;
            Ok(conn.execute_typed({sql:?}, &columns.params()).await?)
        }}
        {doc_many_returning}pub async fn insert_many_returning(conn: &impl ::writegraph::GenericClient, rows: ::std::vec::Vec<Self>) -> ::writegraph::Result<::std::vec::Vec<{row}>> {{
            if rows.is_empty() {{ return Ok(::std::vec::Vec::new()); }}
            let columns = {columns}::from_rows(rows, &[])?;
            let rows = conn.query_typed({sql_returning:?}, &columns.params()).await?;
            rows.iter().map(<{row} as ::writegraph::FromRow>::from_row).collect()
        }}\n",
        doc_insert = doc_sql("Inserts this row (unset columns take their DEFAULT): one statement.", &many.sql),
        doc_insert_returning = doc_sql("Inserts this row and returns it as stored.", &many_returning.sql),
        doc_many = doc_sql(
            "Inserts many rows in one statement, one array per column, whatever their number. Returns the rows inserted.",
            &many.sql
        ),
        doc_many_returning = doc_sql("Inserts many rows in one statement and returns them, in input order.", &many_returning.sql),
        sql = many.sql,
        sql_returning = many_returning.sql,
    );
    if let (Some(upsert), Some(upsert_returning)) =
        (&statements.upsert_many, &statements.upsert_many_returning)
    {
        let duplicate_check = duplicate_key_check(table);
        let _ = write!(
            code,
            "{doc_upsert}pub async fn upsert(self, conn: &impl ::writegraph::GenericClient) -> ::writegraph::Result<u64> {{
                Self::upsert_many(conn, ::std::vec![self]).await
            }}
            {doc_upsert_returning}pub async fn upsert_returning(self, conn: &impl ::writegraph::GenericClient) -> ::writegraph::Result<{row}> {{
                let columns = {columns}::from_rows(::std::vec![self], &[])?;
                let rows = conn.query_typed({sql_returning:?}, &columns.params()).await?;
                match rows.first() {{
                    Some(row) => Ok(<{row} as ::writegraph::FromRow>::from_row(row)?),
                    None => Err(::writegraph::Error::Validation(\"the upsert returned no row\".into())),
                }}
            }}
            {doc_many}pub async fn upsert_many(conn: &impl ::writegraph::GenericClient, rows: ::std::vec::Vec<Self>) -> ::writegraph::Result<u64> {{
                if rows.is_empty() {{ return Ok(0); }}
                {duplicate_check}
                let columns = {columns}::from_rows(rows, &[])?;
                Ok(conn.execute_typed({sql:?}, &columns.params()).await?)
            }}\n",
            doc_upsert = doc_sql("Inserts this row, or updates the row with the same conflict key.", &upsert.sql),
            doc_upsert_returning = doc_sql("Inserts or updates this row and returns it as stored.", &upsert_returning.sql),
            doc_many = doc_sql(
                "Inserts or updates many rows in one statement. Two rows with the same conflict key are a \
                 validation error (PostgreSQL cannot update one row twice in a statement).",
                &upsert.sql
            ),
            sql = upsert.sql,
            sql_returning = upsert_returning.sql,
        );
    }
    code
}

/// Rejects two rows with the same conflict key before anything is sent, when every key
/// column's type can be hashed. Rows whose key is partly unset take fresh defaults and
/// cannot collide.
pub(super) fn duplicate_key_check(table: &TableModel<'_>) -> String {
    let Some(conflict) = &table.conflict else {
        return String::new();
    };
    let key = conflict.repeat_key(None);
    let message = format!(
        "two rows of `{}` have the same conflict key ({}); merge them before upserting",
        table.table.name,
        key.iter()
            .map(|&i| table.columns[i].column.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    repeated_key_check(table, &key, "&rows", &message)
}

/// Code that returns `Error::Validation(message)` when two of `rows` (an expression of type
/// `&[NewT]`) have the same values in the `key` columns: PostgreSQL cannot update one row
/// twice in a statement. Rows with an unset key column get a fresh default and cannot
/// collide. Empty when a key column's type cannot be hashed (the database then reports it).
pub(super) fn repeated_key_check(
    table: &TableModel<'_>,
    key: &[usize],
    rows: &str,
    message: &str,
) -> String {
    let key: Vec<&ColumnModel<'_>> = key.iter().map(|&i| &table.columns[i]).collect();
    if key.is_empty() || key.iter().any(|c| !c.ty.hashable || c.insert.is_none()) {
        return String::new();
    }
    let parts: Vec<String> = key
        .iter()
        .map(|c| match c.insert {
            Some(InsertKind::Required) => format!("Some(&row.{})", c.field),
            Some(InsertKind::NullableDefaulted) => {
                format!("row.{}.as_ref().and_then(|v| v.as_ref())", c.field)
            }
            _ => format!("row.{}.as_ref()", c.field),
        })
        .collect();
    let numbered = |pattern: &str| {
        key.iter()
            .enumerate()
            .map(|(i, _)| pattern.replace("{i}", &i.to_string()))
            .collect::<Vec<_>>()
            .join(", ")
            + ","
    };
    format!(
        "{{
            let mut seen = ::std::collections::HashSet::new();
            for row in {rows} {{
                if let ({binds}) = ({parts}) {{
                    if !seen.insert(({vars})) {{
                        return Err(::writegraph::Error::Validation({message:?}.into()));
                    }}
                }}
            }}
        }}",
        binds = numbered("Some(k{i})"),
        parts = parts.join(", ") + ",",
        vars = numbered("k{i}"),
    )
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
        Param::Key(_) | Param::Present => return None,
    })
}

/// Each batch parameter as `(&holder.c3, Type::INT8_ARRAY)`, from the columns struct
/// `holder`.
pub(super) fn batch_param_values(
    table: &TableModel<'_>,
    params: &[Param],
    holder: &str,
) -> Vec<String> {
    params
        .iter()
        .filter_map(|&param| batch_field(table, param))
        .map(|(field, _, ty)| format!("(&{holder}.{field}, ::writegraph::__private::Type::{ty})"))
        .collect()
}

/// Each parameter of a one-row step as a scalar from its columns struct `holder`, which
/// holds at most one row: `(&holder.c3.first(), Type::INT8)` (`None` binds NULL, for an
/// absent row), an array column's elements whole, and `holder_present` for
/// [`Param::Present`].
pub(super) fn one_row_param_values(
    table: &TableModel<'_>,
    params: &[Param],
    holder: &str,
) -> Vec<String> {
    params
        .iter()
        .filter_map(|&param| {
            let (value, ty) = match param {
                Param::Present => (format!("{holder}_present"), "BOOL".to_owned()),
                Param::Flag(i) => (format!("{holder}.f{i}.first()"), "BOOL".to_owned()),
                Param::Value(i) => (
                    format!("{holder}.c{i}.first()"),
                    table.columns[i].ty.param_type.clone(),
                ),
                Param::Elements(i) => (
                    format!("{holder}.e{i}"),
                    table.columns[i].ty.param_array_type.clone(),
                ),
                Param::Lengths(i) => (format!("{holder}.l{i}.first()"), "INT4".to_owned()),
                Param::Starts(_) | Param::Key(_) => return None,
            };
            Some(format!("(&{value}, ::writegraph::__private::Type::{ty})"))
        })
        .collect()
}

/// The column arrays of a batch: `NewTColumns::from_rows(rows)` turns rows into one vector
/// per parameter, and `params()` lends them in `$n` order.
pub(super) fn columns_struct(table: &TableModel<'_>, statements: &TableStatements) -> String {
    let row = &table.rust_name;
    let name = format!("New{row}Columns");
    let table_name = table.table.name.to_sql();
    let mut fields = String::new();
    let mut inits = String::new();
    let mut pushes = String::new();
    for &param in &statements.insert_many.params {
        let Some((field, ty, _)) = batch_field(table, param) else {
            continue;
        };
        let _ = writeln!(fields, "{field}: ::std::vec::Vec<{ty}>,");
        let _ = writeln!(inits, "{field}: ::std::vec::Vec::with_capacity(count),");
    }
    let params = batch_param_values(table, &statements.insert_many.params, "self");
    for column in table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.insert.is_some())
    {
        pushes.push_str(&text_check(
            column.1,
            &format!("row.{}", column.1.field),
            &table_name,
            "index",
            None,
        ));
    }
    for column in table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.insert.is_some())
    {
        pushes.push_str(&push_column(column.0, column.1, &table_name));
    }
    format!(
        "#[doc(hidden)]
        /// One vector per statement parameter, for batch statements.
        pub struct {name} {{ {fields} }}
        impl {name} {{
            /// Splits rows into columns, checking required values except those of the
            /// columns (by index) that a graph step fills.
            pub fn from_rows(rows: ::std::vec::Vec<New{row}>, filled: &[usize]) -> ::writegraph::Result<Self> {{
                let _ = filled;
                let count = rows.len();
                let mut columns = Self {{ {inits} }};
                for (index, row) in rows.into_iter().enumerate() {{ let _ = index; {pushes} }}
                {trim}
                Ok(columns)
            }}
            /// The parameters, in `$n` order.
            pub fn params(&self) -> [::writegraph::__private::Param<'_>; {count}] {{
                [{params}]
            }}
        }}\n",
        trim = trim_unset(table, &statements.insert_many.params),
        count = params.len(),
        params = params.join(", "),
    )
}

/// Rejects, before anything is sent, a text value PostgreSQL would reject without naming
/// the row: longer than a `varchar(n)` / `char(n)` column holds (in characters), or with a
/// NUL byte. Empty for columns that hold no text.
pub(super) fn text_check(
    column: &ColumnModel<'_>,
    value: &str,
    table_name: &str,
    row: &str,
    step: Option<&str>,
) -> String {
    const STRING: &str = "::std::string::String";
    let holds_text =
        column.ty.rust == STRING || column.ty.element.as_ref().is_some_and(|e| e.rust == STRING);
    if !holds_text {
        return String::new();
    }
    let max_chars = match &column.column.sql_type.base {
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
    };
    format!(
        "if let Some(problem) = ::writegraph::__private::TextValue::text_problem(&{value}, {max_chars}) {{
            return Err(::writegraph::__private::bad_value({table_name:?}, {row}, {column:?}, &problem){in_step});
        }}\n",
        column = column.column.name,
        in_step = step.map(|tag| format!(".in_step({tag:?})")).unwrap_or_default(),
    )
}

/// Drops the trailing unset values of each column vector: UNNEST pads shorter arrays with
/// NULL (unset), so a column nobody set travels as an empty array instead of `n` NULLs.
/// One vector stays whole to carry the row count: any required column does; otherwise the
/// first vector of a column that is bound (a graph step does not bind the `filled` ones).
pub(super) fn trim_unset(table: &TableModel<'_>, params: &[Param]) -> String {
    let has_required = table
        .columns
        .iter()
        .any(|c| c.insert == Some(InsertKind::Required));
    let mut trims = Vec::new();
    for &param in params {
        match param {
            Param::Value(i) if table.columns[i].insert != Some(InsertKind::Required) => trims
                .push((
                    i,
                    format!("::writegraph::__private::trim_nulls(&mut columns.c{i});"),
                )),
            Param::Flag(i) => trims.push((
                i,
                format!("::writegraph::__private::trim_false(&mut columns.f{i});"),
            )),
            Param::Lengths(i) => trims.push((
                i,
                format!(
                    "::writegraph::__private::trim_nulls(&mut columns.l{i}); columns.s{i}.truncate(columns.l{i}.len());"
                ),
            )),
            _ => {}
        }
    }
    if has_required || trims.is_empty() {
        return trims.into_iter().map(|(_, code)| code).collect();
    }
    let candidates: Vec<String> = trims.iter().map(|(i, _)| i.to_string()).collect();
    let mut code = format!(
        "let anchor = [{}].iter().position(|i| !filled.contains(i)).unwrap_or(0);\n",
        candidates.join(", ")
    );
    for (k, (_, trim)) in trims.iter().enumerate() {
        let _ = writeln!(code, "if anchor != {k} {{ {trim} }}");
    }
    code
}

/// Moves one column's value of one row into the column vectors.
pub(super) fn push_column(i: usize, column: &ColumnModel<'_>, table_name: &str) -> String {
    let f = &column.field;
    let s = crate::ident::setter_stem(f);
    let missing = format!(
        "::writegraph::__private::missing({table_name:?}, {name:?}, \"with_{s}\")",
        name = column.column.name
    );
    // The value as `Option<T>` (scalars) with `None` meaning unset or NULL, plus the flag.
    let (value, flag) = match column.insert {
        Some(InsertKind::Required) => (format!("row.{f}"), None),
        // Checked unless the graph writing this row fills the column.
        Some(InsertKind::Injected) => (format!("if filled.contains(&{i}) {{ row.{f} }} else {{ Some(row.{f}.ok_or_else(|| {missing})?) }}"), None),
        Some(InsertKind::NullableDefaulted) => (
            format!("row.{f}.flatten()"),
            Some(format!("row.{f}.is_some()")),
        ),
        _ => (format!("row.{f}"), None),
    };
    let mut code = String::new();
    if let Some(flag) = flag {
        let _ = writeln!(code, "columns.f{i}.push({flag});");
    }
    let optional = !matches!(
        column.insert,
        Some(InsertKind::Required) | Some(InsertKind::Injected)
    );
    if column.ty.element.is_none() {
        let _ = writeln!(code, "columns.c{i}.push({value});");
        return code;
    }
    let length = "::std::convert::TryFrom::try_from(v.len()).map_err(|_| ::writegraph::Error::Validation(\"an array has more than 2^31 elements\".into()))?";
    let start = "::std::convert::TryFrom::try_from(columns.e{i}.len()).map_err(|_| ::writegraph::Error::Validation(\"a batch has more than 2^31 array elements\".into()))?".replace("{i}", &i.to_string());
    if optional {
        let _ = write!(
            code,
            "match {value} {{
                Some(v) => {{ columns.s{i}.push({start}); columns.l{i}.push(Some({length})); columns.e{i}.extend(v); }}
                None => {{ columns.s{i}.push(0); columns.l{i}.push(None); }}
            }}\n"
        );
    } else {
        let _ = writeln!(
            code,
            "{{ let v = {value}; columns.s{i}.push({start}); columns.l{i}.push(Some({length})); columns.e{i}.extend(v); }}"
        );
    }
    code
}
