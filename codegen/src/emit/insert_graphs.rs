//! The struct of an insert graph and its one statement.

use std::fmt::Write as _;

use super::insert::{
    batch_param_values, insert_field_doc, insert_type, one_row_param_values, repeated_key_check,
    setters, text_check,
};
use super::{doc, doc_sql};
use crate::model::{
    Cardinality, ColumnModel, GraphModel, GraphStep, InsertKind, Model, StepKind, TableModel,
};
use crate::plan::{GraphStatement, Param, RowCount};

/// `self.x` is not set, for a root field of this kind.
pub(super) fn is_unset(column: &ColumnModel<'_>) -> String {
    match column.insert {
        Some(InsertKind::Required) => "false".to_owned(),
        Some(InsertKind::NullableDefaulted) => {
            format!("!matches!(self.{}, Some(Some(_)))", column.field)
        }
        _ => format!("self.{}.is_none()", column.field),
    }
}

/// `self.x` is set, for a root field of this kind.
pub(super) fn is_set(column: &ColumnModel<'_>) -> String {
    match column.insert {
        Some(InsertKind::Required) => "true".to_owned(),
        Some(InsertKind::NullableDefaulted) => {
            format!("matches!(self.{}, Some(Some(_)))", column.field)
        }
        _ => format!("self.{}.is_some()", column.field),
    }
}

pub(super) fn graph_struct(
    model: &Model<'_>,
    graph: &GraphModel,
    statement: &GraphStatement,
) -> String {
    let root = &model.tables[graph.root];
    let row = &root.rust_name;
    let mut code = graph_fields(model, graph);
    code.push_str(&graph_constructor_and_setters(model, graph));
    let checks = graph_checks(model, graph);
    let (parts, params) = graph_parts(model, graph, statement);
    // Which step a database error is about.
    let mut effects = vec![StepEffect {
        tag: &graph.root_tag,
        table: graph.root,
        deletes: false,
        updates_key: false,
        filled: None,
    }];
    effects.extend(graph.steps.iter().map(|s| StepEffect {
        tag: &s.tag,
        table: s.table,
        deletes: false,
        updates_key: false,
        filled: s.takes_root_column.map(|(column, _)| column),
    }));
    let attribution = step_attribution(model, &effects);

    let step_reports = graph_step_reports(graph);

    let _ = write!(
        code,
        "{sql_doc}pub const SQL: &'static str = {sql:?};
        {sql_returning_doc}pub const SQL_RETURNING: &'static str = {sql_returning:?};
        /// The steps a database error may come from, from the constraint, table or
        /// partition PostgreSQL names.
        fn steps_of(error: &::writegraph::__private::PgError) -> ::std::vec::Vec<&'static str> {{
            {attribution}
        }}
        /// Checks the graph, then writes it in one statement: `SQL_RETURNING` when the root
        /// row is wanted, else the leaner `SQL`.
        async fn write(self, conn: &impl ::writegraph::GenericClient, returning: bool) -> ::writegraph::Result<(::std::vec::Vec<::writegraph::WriteStepReport>, ::std::option::Option<{row}>)> {{
            {checks}
            {parts}
            let params: [::writegraph::__private::Param<'_>; {param_count}] = [{params}];
            let sql = if returning {{ Self::SQL_RETURNING }} else {{ Self::SQL }};
            let rows = conn.query_typed(sql, &params).await.map_err(|e| ::writegraph::Error::db_in_steps(Self::steps_of(&e), e))?;
            let row = rows.first().ok_or_else(|| ::writegraph::Error::Validation(\"the graph statement returned no row\".into()))?;
            let first_count = if returning {{ {root_columns} }} else {{ 0 }};
            let steps = ::std::vec![{step_reports}];
            let root = if returning {{ Some(<{row} as ::writegraph::FromRow>::from_row(row)?) }} else {{ None }};
            Ok((steps, root))
        }}
        {doc_insert}pub async fn insert_graph(self, conn: &impl ::writegraph::GenericClient) -> ::writegraph::Result<u64> {{
            let (steps, _) = self.write(conn, false).await?;
            Ok(steps.iter().map(|s| s.affected).sum())
        }}
        {doc_report}pub async fn insert_graph_report(self, conn: &impl ::writegraph::GenericClient) -> ::writegraph::Result<::writegraph::WriteReport<()>> {{
            let (steps, _) = self.write(conn, false).await?;
            Ok(::writegraph::WriteReport::from_steps(steps, None))
        }}
        {doc_returning}pub async fn insert_graph_returning(self, conn: &impl ::writegraph::GenericClient) -> ::writegraph::Result<{row}> {{
            let (_, root) = self.write(conn, true).await?;
            root.ok_or_else(|| ::writegraph::Error::Validation(\"the graph statement returned no root\".into()))
        }}
        {doc_report_returning}pub async fn insert_graph_report_returning(self, conn: &impl ::writegraph::GenericClient) -> ::writegraph::Result<::writegraph::WriteReport<{row}>> {{
            let (steps, root) = self.write(conn, true).await?;
            Ok(::writegraph::WriteReport::from_steps(steps, root))
        }}
        {doc_atomic}pub async fn insert_graph_atomic(self, client: &mut ::writegraph::__private::Client) -> ::writegraph::Result<{row}> {{
            let tx = client.transaction().await?;
            let row = self.insert_graph_returning(&tx).await?;
            tx.commit().await?;
            Ok(row)
        }}
        }}\n",
        sql_doc = doc_sql("The graph's statement: every step as a data-modifying CTE, one round trip. Returns the per-step counts.", &statement.sql),
        sql = statement.sql,
        sql_returning_doc = doc_sql("`SQL`, returning the root row before the per-step counts (the `*_returning` functions).", &statement.sql_returning),
        sql_returning = statement.sql_returning,
        root_columns = root.columns.len(),
        param_count = params.len(),
        params = params.join(", "),
        step_reports = step_reports.join(", "),
        doc_insert = doc("Writes the graph in one statement (atomic on its own) and returns the rows affected by all steps."),
        doc_report = doc("Writes the graph and reports the rows each step affected, by tag."),
        doc_returning = doc("Writes the graph and returns the root row as stored."),
        doc_report_returning = doc("Writes the graph and returns the per-step report with the root row."),
        doc_atomic = doc("Writes the graph in a transaction of its own on `client`, and commits."),
    );
    code
}

/// `NewT` of a step's table.
fn step_type(model: &Model<'_>, step: &GraphStep) -> String {
    format!("New{}", model.tables[step.table].rust_name)
}

/// The Rust type of a step's field, by how many rows it holds.
fn field_type(model: &Model<'_>, step: &GraphStep) -> String {
    let ty = step_type(model, step);
    match step.cardinality {
        Cardinality::One => ty,
        Cardinality::Optional => format!("::std::option::Option<{ty}>"),
        Cardinality::Many => format!("::std::vec::Vec<{ty}>"),
    }
}

/// The graph struct with its doc (the steps in order): the root's insertable columns, then
/// one field per step.
fn graph_fields(model: &Model<'_>, graph: &GraphModel) -> String {
    let root = &model.tables[graph.root];
    let name = &graph.name;
    let inserted: Vec<&ColumnModel<'_>> =
        root.columns.iter().filter(|c| c.insert.is_some()).collect();
    // The struct: the root's insertable columns, then one field per step.
    let mut text = format!("Insert graph `{name}`: a row of `{}` and the rows written with it, in one statement.\n\nSteps, in order:", root.table.name);
    for step in graph.steps.iter().filter(|s| !s.kind.after_root()) {
        let _ = write!(text, "\n- `{}`: `{}`", step.tag, step.field);
    }
    let _ = write!(text, "\n- `{}`", graph.root_tag);
    for step in graph.steps.iter().filter(|s| s.kind.after_root()) {
        let _ = write!(text, "\n- `{}`: `{}`", step.tag, step.field);
    }
    let mut code = doc(&text);
    let _ = writeln!(
        code,
        "#[derive(Debug, Clone, PartialEq)]\npub struct {name} {{"
    );
    for column in &inserted {
        code.push_str(&doc(&insert_field_doc(column)));
        let _ = writeln!(code, "pub {}: {},", column.field, insert_type(column));
    }
    for step in &graph.steps {
        let what = match step.kind {
            StepKind::BelongsTo => format!(
                "The parent in `{}`, written first; its key goes into `{}`. Leave it unset to keep the column's value (connect by id).",
                model.tables[step.table].table.name,
                root.columns[step.sets_root_column.map_or(0, |(c, _)| c)].column.name
            ),
            StepKind::BeforeInsert => format!("Rows of `{}` written before the root.", model.tables[step.table].table.name),
            StepKind::HasOne | StepKind::HasMany => format!(
                "Rows of `{}`, written after the root; each gets the root's key in `{}`.",
                model.tables[step.table].table.name,
                model.tables[step.table].columns[step.takes_root_column.map_or(0, |(c, _)| c)].column.name
            ),
            StepKind::AfterInsert => format!("Rows of `{}` written after the root.", model.tables[step.table].table.name),
        };
        code.push_str(&doc(&format!("{what}\n\nStep `{}`.", step.tag)));
        let _ = writeln!(code, "pub {}: {},", step.field, field_type(model, step));
    }
    code.push_str("}\n");

    code
}

/// `impl` opened, `new` (required root columns and required one-row steps) and the setters.
fn graph_constructor_and_setters(model: &Model<'_>, graph: &GraphModel) -> String {
    let root = &model.tables[graph.root];
    let name = &graph.name;
    let inserted: Vec<&ColumnModel<'_>> =
        root.columns.iter().filter(|c| c.insert.is_some()).collect();
    let mut code = String::new();
    // Constructor: required root columns and required one-row steps.
    let mut args: Vec<String> = inserted
        .iter()
        .filter(|c| c.insert == Some(InsertKind::Required))
        .map(|c| format!("{}: impl ::std::convert::Into<{}>", c.field, c.ty.rust))
        .collect();
    let mut inits: Vec<String> = inserted
        .iter()
        .map(|c| match c.insert {
            Some(InsertKind::Required) => format!("{f}: {f}.into()", f = c.field),
            _ => format!("{}: None", c.field),
        })
        .collect();
    for step in &graph.steps {
        match step.cardinality {
            Cardinality::One => {
                args.push(format!("{}: {}", step.field, step_type(model, step)));
                inits.push(step.field.clone());
            }
            Cardinality::Optional => inits.push(format!("{}: None", step.field)),
            Cardinality::Many => inits.push(format!("{}: ::std::vec::Vec::new()", step.field)),
        }
    }
    if args.is_empty() {
        let _ = writeln!(
            code,
            "impl ::std::default::Default for {name} {{ fn default() -> Self {{ Self::new() }} }}"
        );
    }
    let _ = writeln!(code, "impl {name} {{");
    code.push_str(&doc("A graph with the root's required values (and required one-row steps); every other part is left unset."));
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
    for step in &graph.steps {
        let f = &step.field;
        let ty = step_type(model, step);
        match step.cardinality {
            Cardinality::One => {
                code.push_str(&doc(&format!("Sets `{f}`.")));
                let _ = writeln!(
                    code,
                    "pub fn with_{f}(mut self, v: {ty}) -> Self {{ self.{f} = v; self }}"
                );
            }
            Cardinality::Optional => {
                code.push_str(&doc(&format!("Sets `{f}`.")));
                let _ = writeln!(
                    code,
                    "pub fn with_{f}(mut self, v: {ty}) -> Self {{ self.{f} = Some(v); self }}"
                );
                code.push_str(&doc(&format!("Sets or clears `{f}`.")));
                let _ = writeln!(code, "pub fn with_{f}_opt(mut self, v: ::std::option::Option<{ty}>) -> Self {{ self.{f} = v; self }}");
            }
            Cardinality::Many => {
                code.push_str(&doc(&format!("Sets `{f}`.")));
                let _ = writeln!(
                    code,
                    "pub fn with_{f}(mut self, v: impl ::std::iter::IntoIterator<Item = {ty}>) -> Self {{ self.{f} = v.into_iter().collect(); self }}"
                );
            }
        }
    }

    code
}

/// Checks before any SQL: belongs_to given twice or not at all, the root id, and upserted
/// rows of one step that repeat a conflict key.
fn graph_checks(model: &Model<'_>, graph: &GraphModel) -> String {
    let root = &model.tables[graph.root];
    let name = &graph.name;
    // Validation before any SQL: belongs_to given twice or not at all, the root id.
    let mut checks = String::new();
    for step in graph.steps.iter().filter(|s| s.kind == StepKind::BelongsTo) {
        let Some((column, _)) = step.sets_root_column else {
            continue;
        };
        let column = &root.columns[column];
        let set = is_set(column);
        let _ = write!(
            checks,
            "if {set} && self.{f}.is_some() {{
                return Err(::writegraph::Error::Validation({both:?}.into()));
            }}\n",
            f = step.field,
            both = format!(
                "{name}: `{}` and `{}` are both set; give the parent or its id, not both",
                step.field, column.field
            ),
        );
        if step.required {
            let _ = write!(
                checks,
                "if {unset} && self.{f}.is_none() {{
                    return Err(::writegraph::Error::Validation({neither:?}.into()));
                }}\n",
                f = step.field,
                unset = is_unset(column),
                neither = format!(
                    "{name}: `{}` is required; set `{}` or `{}`",
                    step.field, step.field, column.field
                ),
            );
        }
    }
    if let Some(id) = graph.root_id_field {
        let column = &root.columns[id];
        if column.insert != Some(InsertKind::Required) {
            let _ = writeln!(
                checks,
                "if {unset} {{ return Err(::writegraph::Error::Validation({message:?}.into())); }}",
                unset = is_unset(column),
                message = format!(
                    "{name}: the root id `{}` is not set (root_id_field)",
                    column.field
                ),
            );
        }
    }

    // Upserted rows of one step must not repeat a conflict key (the root's key, which the
    // graph fills, is the same for all of them).
    for step in &graph.steps {
        let Some(key) = &step.repeat_key else {
            continue;
        };
        let table = &model.tables[step.table];
        let message = format!(
            "{name}: two rows of `{}` have the same conflict key ({}) of `{}`; merge them before writing",
            step.field,
            key.iter().map(|&i| table.columns[i].column.name.as_str()).collect::<Vec<_>>().join(", "),
            table.table.name
        );
        checks.push_str(&repeated_key_check(
            table,
            key,
            &format!("&self.{}", step.field),
            &message,
        ));
    }

    checks
}

/// Each step's rows as column vectors and the root's values one by one, in statement
/// order: the code that builds them, and the parameter expressions.
fn graph_parts(
    model: &Model<'_>,
    graph: &GraphModel,
    statement: &GraphStatement,
) -> (String, Vec<String>) {
    let root = &model.tables[graph.root];
    // Each step's rows as column vectors; the root's values one by one, in statement order.
    let root_filled: Vec<usize> = graph
        .steps
        .iter()
        .filter_map(|s| s.sets_root_column.map(|(c, _)| c))
        .collect();
    let mut parts = String::new();
    let mut params = Vec::new();
    for part in &statement.parts {
        let part_params = &part.params;
        let Some(i) = &part.step else {
            let (locals, values) = root_param_values(root, part_params, &root_filled);
            for column in root.columns.iter().filter(|c| c.insert.is_some()) {
                parts.push_str(&text_check(
                    column,
                    &format!("self.{}", column.field),
                    &root.table.name.to_sql(),
                    "0",
                    Some(&graph.root_tag),
                ));
            }
            parts.push_str(&locals);
            params.extend(values);
            continue;
        };
        let step = &graph.steps[*i];
        let table = &model.tables[step.table];
        let rows = match step.cardinality {
            Cardinality::One => format!("::std::vec![self.{}]", step.field),
            Cardinality::Optional => format!("self.{}.into_iter().collect()", step.field),
            Cardinality::Many => format!("self.{}", step.field),
        };
        let filled: Vec<String> = step
            .takes_root_column
            .map(|(c, _)| c.to_string())
            .into_iter()
            .collect();
        if part.params.contains(&Param::Present) {
            let _ = writeln!(
                parts,
                "let part{i}_present = self.{}.is_some();",
                step.field
            );
        }
        let _ = writeln!(
            parts,
            "let part{i} = New{}Columns::from_rows({rows}, &[{}]).map_err(|e| e.in_step({:?}))?;",
            table.rust_name,
            filled.join(", "),
            step.tag
        );
        let holder = format!("part{i}");
        params.extend(match part.rows {
            RowCount::Many => batch_param_values(table, part_params, &holder),
            _ => one_row_param_values(table, part_params, &holder),
        });
    }

    (parts, params)
}

/// The per-step reports in execution order: the steps before the root, the root, the steps
/// after it.
fn graph_step_reports(graph: &GraphModel) -> Vec<String> {
    // The counts follow the root's columns in `SQL_RETURNING` (`first_count` of them).
    let count_index = |i: usize| match i {
        0 => "first_count".to_owned(),
        i => format!("first_count + {i}"),
    };
    // In execution order: the steps before the root, the root, the steps after it.
    let step_report = |(i, step): (usize, &GraphStep)| {
        format!(
            "::writegraph::WriteStepReport {{ tag: {:?}, affected: ::writegraph::__private::count(row, {})? }}",
            step.tag,
            count_index(i),
        )
    };
    let (after, before): (Vec<_>, Vec<_>) = graph
        .steps
        .iter()
        .enumerate()
        .partition(|(_, s)| s.kind.after_root());
    let mut step_reports: Vec<String> = before.into_iter().map(step_report).collect();
    step_reports.push(format!(
        "::writegraph::WriteStepReport {{ tag: {:?}, affected: 1 }}",
        graph.root_tag
    ));
    step_reports.extend(after.into_iter().map(step_report));

    step_reports
}

/// The root's values bound one by one from the graph's own fields (the root is one row):
/// `(locals, parameters)`, where `locals` checks unset required values and splits
/// nullable-with-default fields into flag and value.
pub(super) fn root_param_values(
    root: &TableModel<'_>,
    params: &[Param],
    filled: &[usize],
) -> (String, Vec<String>) {
    let mut locals = String::new();
    let mut values = Vec::new();
    let table_name = root.table.name.to_sql();
    for &param in params {
        let (value, ty) = match param {
            Param::Flag(i) => {
                let f = &root.columns[i].field;
                let _ = writeln!(locals, "let root_f{i} = self.{f}.is_some();");
                (format!("root_f{i}"), "BOOL".to_owned())
            }
            Param::Value(i) => {
                let column = &root.columns[i];
                let f = &column.field;
                let s = crate::ident::setter_stem(f);
                let value = match column.insert {
                    Some(InsertKind::NullableDefaulted) => {
                        let _ = writeln!(locals, "let root_c{i} = self.{f}.flatten();");
                        format!("root_c{i}")
                    }
                    Some(InsertKind::Injected) if !filled.contains(&i) => {
                        let _ = writeln!(
                            locals,
                            "if self.{f}.is_none() {{ return Err(::writegraph::__private::missing({table_name:?}, {name:?}, \"with_{s}\")); }}",
                            name = column.column.name
                        );
                        format!("self.{f}")
                    }
                    _ => format!("self.{f}"),
                };
                (value, column.ty.param_type.clone())
            }
            _ => continue,
        };
        values.push(format!("(&{value}, ::writegraph::__private::Type::{ty})"));
    }
    (locals, values)
}

/// What one step of a graph does to the database, for finding the step an error came from.
pub(super) struct StepEffect<'a> {
    /// The step's tag.
    pub(super) tag: &'a str,
    /// Index in `Model::tables` of the table the step inserts, upserts or updates.
    pub(super) table: usize,
    /// The step also deletes rows of that table (replace, diff): foreign keys that
    /// reference it may block the delete.
    pub(super) deletes: bool,
    /// The step updates the row's key (an update graph's root): foreign keys that
    /// reference the table may block it.
    pub(super) updates_key: bool,
    /// A column the graph fills with a key it has just written (a child's reference to the
    /// root): its foreign key cannot fail on this step's side.
    pub(super) filled: Option<usize>,
}

/// The body of `fn steps_of(error) -> Vec<&'static str>`: the steps a database error may
/// come from, by what PostgreSQL names. A constraint names the steps that write its table
/// (a unique key, a foreign key the step sets) or delete or re-key the table it references;
/// a table or partition names the steps that write it; an error that names neither (a
/// data exception, a program limit) may come from any step. Several steps are all listed:
/// the error names one step only when one alone can have caused it.
pub(super) fn step_attribution<'a>(model: &Model<'_>, effects: &[StepEffect<'a>]) -> String {
    use std::collections::BTreeMap;
    fn add<'t>(map: &mut BTreeMap<String, Vec<&'t str>>, key: &str, tag: &'t str) {
        let tags = map.entry(key.to_owned()).or_default();
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let mut by_constraint: BTreeMap<String, Vec<&'a str>> = BTreeMap::new();
    let mut by_table: BTreeMap<String, Vec<&'a str>> = BTreeMap::new();
    for effect in effects {
        let table = &model.tables[effect.table];
        for name in std::iter::once(&table.table.name.name).chain(&table.partitions) {
            add(&mut by_table, name, effect.tag);
        }
        let keys = table
            .table
            .primary_key_name
            .iter()
            .chain(table.table.uniques.iter().map(|u| &u.name));
        for name in keys {
            add(&mut by_constraint, name, effect.tag);
        }
        let filled = effect.filled.map(|i| &table.columns[i].column.name);
        for fk in &table.table.foreign_keys {
            if filled.is_some_and(|c| fk.columns == [c.clone()]) {
                continue;
            }
            add(&mut by_constraint, &fk.name, effect.tag);
        }
        if effect.deletes || effect.updates_key {
            for other in &model.tables {
                for fk in &other.table.foreign_keys {
                    let blocks = |action| {
                        matches!(
                            action,
                            crate::catalog::FkAction::NoAction | crate::catalog::FkAction::Restrict
                        )
                    };
                    let blocked = (effect.deletes && blocks(fk.on_delete))
                        || (effect.updates_key && blocks(fk.on_update));
                    if fk.ref_table == table.table.name && blocked {
                        add(&mut by_constraint, &fk.name, effect.tag);
                    }
                }
            }
        }
    }
    let arms = |map: &BTreeMap<String, Vec<&str>>| {
        map.iter()
            .map(|(key, tags)| format!("Some({key:?}) => &{tags:?},"))
            .collect::<String>()
    };
    let all: Vec<&str> = effects.iter().map(|e| e.tag).collect();
    format!(
        "let Some(db) = error.as_db_error() else {{ return ::std::vec::Vec::new(); }};
        let by_constraint: &[&'static str] = match db.constraint() {{ {} _ => &[] }};
        let by_table: &[&'static str] = match db.table() {{ {} _ => &[] }};
        ::writegraph::__private::pick_steps(by_constraint, by_table, &{all:?}, db.code())",
        arms(&by_constraint),
        arms(&by_table),
    )
}
