//! The struct of an insert graph and its one statement.

use std::fmt::Write as _;

use super::insert::{
    api_kind, batch_field, batch_param_values, column_check, insert_field_doc, insert_type,
    repeated_key_check, setters,
};
use super::{doc, param_holds, statement_pair, Bound};
use crate::model::{
    Cardinality, ColumnModel, GraphModel, GraphStep, InsertKind, LinkHow, Model, StepKind, StepRef,
    TableModel,
};
use crate::plan::{GraphPart, GraphStatement, Param, RowCount, RowsResult};

/// The root's columns as the graph struct holds them: a column that a belongs_to step of
/// this graph fills is optional (unset, it takes the parent's key); one that only other
/// graphs fill is required, as in the table's `NewT`.
fn root_columns<'a>(model: &Model<'a>, graph: &GraphModel) -> Vec<ColumnModel<'a>> {
    let filled: Vec<usize> = graph
        .steps
        .iter()
        .filter(|s| s.parent == StepRef::Root)
        .filter_map(|s| s.kind.sets_parent_column().map(|(c, _)| c))
        .collect();
    let mut columns = model.tables[graph.root].columns.clone();
    for (i, column) in columns.iter_mut().enumerate() {
        if column.insert == Some(InsertKind::Injected) {
            column.insert = Some(if filled.contains(&i) {
                InsertKind::Defaulted
            } else {
                InsertKind::Required
            });
        }
    }
    columns
}

/// The graph's struct, its item types that `emitted` does not have yet (a graph used
/// inside another shares them), and its `InsertGraph` impl.
pub(super) fn graph_struct(
    model: &Model<'_>,
    graph: &GraphModel,
    statement: &GraphStatement,
    emitted: &mut std::collections::BTreeSet<String>,
) -> String {
    let mut code = graph_fields(model, graph);
    code.push_str(&graph_constructor_and_setters(model, graph));
    for (index, step) in graph.steps.iter().enumerate() {
        if step
            .item_type
            .as_ref()
            .is_some_and(|t| emitted.insert(t.clone()))
        {
            code.push_str(&item_struct(model, graph, index));
        }
    }
    code.push_str(&insert_graph_impl(model, graph, statement));
    code
}

/// `impl InsertGraph`: the statement, its steps and where errors come from, the checks and
/// split of the graph into parts, and their binding; then the inherent methods it gives.
/// A graph whose steps all hang from the root is one `writegraph::insert_graph!` call
/// ([`insert_graph_call`]), with its batch form.
fn insert_graph_impl(model: &Model<'_>, graph: &GraphModel, statement: &GraphStatement) -> String {
    let name = &graph.name;
    let parts = graph_parts(model, graph, (&statement.parts, false));
    let checks = graph_checks(model, graph);
    let checks_fn = match &checks {
        checks if checks.is_empty() => String::new(),
        checks => {
            format!("impl {name} {{ ::writegraph::graph_checks!(self, {name:?}; {checks}); }}\n")
        }
    };
    let consts = insert_graph_consts(model, graph, statement, &parts);
    if let Some(call) = insert_graph_call(
        model,
        graph,
        statement,
        (&consts, &parts, !checks.is_empty()),
    ) {
        return checks_fn + &call;
    }
    format!(
        "impl ::writegraph::InsertGraph for {name} {{
            {consts}
            type Parts = ({part_types});
            fn parts(&mut self) -> ::writegraph::Result<Self::Parts> {{
                {call_checks}
                {take}
                Ok(({names}))
            }}
            fn bind<'a>(&'a self, parts: &'a Self::Parts) -> impl ::std::convert::AsRef<[::writegraph::write::Param<'a>]> + ::std::marker::Send {{
                let ({names}) = parts;
                {params}
            }}
        }}
        ::writegraph::insert_graph_methods!({name});
        {checks_fn}{many}\n",
        many = if graph.writes_many { insert_graph_many_impl(model, graph, statement, !checks.is_empty()) } else { String::new() },
        part_types = parts.types.iter().map(|t| format!("{t},")).collect::<String>(),
        call_checks = if checks.is_empty() { "" } else { "self.graph_checks()?;" },
        take = parts.take,
        names = parts.names.iter().map(|t| format!("{t},")).collect::<String>(),
        params = super::params_macro(&parts.params),
    )
}

/// `writegraph::insert_graph!`: both impls of a graph whose steps all hang from the root
/// and are rows of their own (no items, no connect by key), from its `consts` and its parts
/// in statement order, `parts` those of one graph; `checked`: the graph has `graph_checks`.
/// `None` for any other graph, and for parts of one graph or of a batch that the runtime's
/// form does not cover (a presence flag, a root value split in two, a part bound for its
/// checks only): those are written out.
fn insert_graph_call(
    model: &Model<'_>,
    graph: &GraphModel,
    statement: &GraphStatement,
    (consts, parts, checked): (&str, &Parts, bool),
) -> Option<String> {
    let flat = graph.steps.iter().all(|s| {
        s.parent == StepRef::Root
            && s.item_type.is_none()
            && s.connect_by.is_none()
            && !matches!(s.kind, StepKind::ManyToMany { .. } | StepKind::Link { .. })
    });
    if !flat || !graph.writes_many || graph.steps.is_empty() {
        return None;
    }
    let root = &model.tables[graph.root];
    let many = graph_parts(model, graph, (&statement.parts_many, true));
    let (mut one_names, mut many_names, mut entries) = (Vec::new(), Vec::new(), Vec::new());
    for (part, many_part) in statement.parts.iter().zip(&statement.parts_many) {
        if part.step != many_part.step {
            return None;
        }
        let Some(i) = part.step else {
            many_names.push("root".to_owned());
            entries.push(root_entry(model, graph, statement)?);
            continue;
        };
        let numbered = many_part.params.last() == Some(&Param::ParentOrdinal);
        if numbered != many_part.params.contains(&Param::ParentOrdinal) {
            return None;
        }
        one_names.push(format!("part{i}"));
        many_names.push(format!("part{i}"));
        if numbered {
            many_names.push(format!("o{i}"));
        }
        entries.push(step_entry(model, graph, i, numbered));
    }
    if parts.names != one_names || many.names != many_names {
        return None;
    }
    let view = many_root_view(model, graph);
    let unique = root
        .conflict
        .as_ref()
        .and_then(|conflict| {
            let read = super::insert::key_reader(&view, &conflict.key, "row")?;
            let columns: Vec<String> = conflict
                .key
                .iter()
                .map(|&i| format!("{:?}", root.columns[i].column.name))
                .collect();
            Some(format!(
                "|row| {read}, {:?}, [{}]",
                root.table.name.to_string(),
                columns.join(", ")
            ))
        })
        .unwrap_or_default();
    let bind = |params: &[Bound]| {
        let call = super::params_macro(params);
        call.strip_prefix("::writegraph::params![")
            .and_then(|c| c.strip_suffix(']'))
            .map(str::to_owned)
    };
    Some(format!(
        "::writegraph::insert_graph! {{
            self, {name}, {name:?};
            impl {{ {consts} }}
            many {returning}{{ {many_consts} }}
            checks{checks};
            unique [{unique}];
            parts [{entries}];
            bind [{bind}];
            bind_many [{bind_many}];
        }}
        {rows}\n",
        name = graph.name,
        rows = statement
            .sql_many_rows
            .as_ref()
            .map_or_else(String::new, |rows| graph_rows(model, graph, rows)),
        returning = if statement.sql_many_returning.is_some() {
            "returning "
        } else {
            ""
        },
        many_consts = many_statements(&graph.name, &root.table.name.to_string(), statement)
            + &many_params_const(model, graph, &statement.parts_many),
        checks = if checked { " graph_checks" } else { "" },
        entries = entries.join(" "),
        bind = bind(&parts.params)?,
        bind_many = bind(&many.params)?,
    ))
}

/// The root's part of `insert_graph!`: the root's columns in a batch (`columns!`'s
/// arguments) and its text checks for one graph.
fn root_entry(model: &Model<'_>, graph: &GraphModel, statement: &GraphStatement) -> Option<String> {
    let root = &model.tables[graph.root];
    let view = many_root_view(model, graph);
    let root_part = statement.parts_many.iter().find(|p| p.step.is_none())?;
    let table = format!("{:?}", root.table.name.to_sql());
    // The statement binds every root column: none is filled by the graph.
    let spec = super::insert::columns_body(&view, &root_part.params, (&table, &[]))
        .replace("], filled)", "], &[])");
    let spec = spec
        .strip_prefix("::writegraph::columns!(")?
        .strip_suffix(')')?;
    let checks: Vec<String> = root_columns(model, graph)
        .iter()
        .filter(|c| c.insert.is_some())
        .filter_map(|c| {
            let max = super::insert::max_chars(c)?;
            Some(format!("{:?} {} {max}", c.column.name, c.field))
        })
        .collect();
    Some(format!(
        "[root root: New{}Columns, {:?}, from rows ({spec}) checks [{}] in {table}]",
        root.rust_name,
        graph.root_tag,
        checks.join(", ")
    ))
}

/// Step `index`'s part of `insert_graph!`: its field and how many rows it holds, how its
/// rows split into columns, its tag and, when a batch may repeat its conflict key across
/// graphs, the key; `numbered`: its rows carry their graph's ordinal in a batch.
fn step_entry(model: &Model<'_>, graph: &GraphModel, index: usize, numbered: bool) -> String {
    let step = &graph.steps[index];
    let table = &model.tables[step.table];
    let count = match step.cardinality {
        Cardinality::Many => "many",
        Cardinality::Optional => "optional",
        Cardinality::One => "one",
    };
    let split = if step.own_row.is_some() {
        format!("own {}", step.row_type)
    } else {
        format!("insert New{}", table.rust_name)
    };
    let ordinal = if numbered {
        format!(" o{index}")
    } else {
        String::new()
    };
    let filled = step.kind.takes_parent_column().map(|(column, _)| column);
    let across = match (&step.repeat_key, &table.conflict) {
        (Some(key), Some(conflict)) if !filled.is_some_and(|c| conflict.key.contains(&c)) => {
            super::insert::key_reader(table, key, "row").map(|read| {
                let columns: Vec<String> = key
                    .iter()
                    .map(|&i| format!("{:?}", table.columns[i].column.name))
                    .collect();
                format!(
                    ", across |row| {read}, {:?}, [{}]",
                    table.table.name.to_string(),
                    columns.join(", ")
                )
            })
        }
        _ => None,
    };
    format!(
        "[step part{index} w{index}{ordinal}: {count} {field} {split} => New{table}Columns, {tag:?}{across}]",
        field = step.field,
        table = table.rust_name,
        tag = step.tag,
        across = across.unwrap_or_default(),
    )
}

/// The consts of `impl InsertGraph` (and its root type): the statements, the steps, where
/// errors come from and what the parameters of `parts` hold.
fn insert_graph_consts(
    model: &Model<'_>,
    graph: &GraphModel,
    statement: &GraphStatement,
    parts: &Parts,
) -> String {
    let root = &model.tables[graph.root];
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
        filled: s.kind.takes_parent_column().map(|(column, _)| column),
    }));
    let steps = graph_steps(graph, statement);
    let tags: Vec<&str> = steps.iter().map(|(tag, _)| *tag).collect();
    let steps: Vec<&str> = steps.iter().map(|(_, code)| code.as_str()).collect();
    format!(
        "type Root = {row};
        {statements}
        const ROOT_COLUMNS: usize = {root_columns};
        {graph_steps}
        {connect_steps}",
        row = root.rust_name,
        statements = match super::shared_literals(&statement.sql, &statement.sql_returning) {
            Some(pieces) => format!("::writegraph::statement!(graph = {pieces});"),
            // Not reached: the pieces are cut from the statements.
            None => statement_pair(
                ("SQL", "The graph's statement: every step as a data-modifying CTE, one round trip. Returns the per-step counts.", &statement.sql),
                ("SQL_RETURNING", "`SQL`, returning the root row before the per-step counts (the `*_returning` methods).", &statement.sql_returning),
            ),
        },
        root_columns = root.columns.len(),
        graph_steps = super::graph_steps_call(&steps, &step_attribution(model, &effects, &tags), ("PARAMS", &parts.params)),
        connect_steps = connect_steps(model, graph),
    )
}

/// `CONNECT_STEPS`, the (tag, table) of each step that connects by a key; empty when none.
fn connect_steps(model: &Model<'_>, graph: &GraphModel) -> String {
    let steps: Vec<String> = graph
        .steps
        .iter()
        .filter(|s| s.connect_by.is_some())
        .map(|s| {
            format!(
                "({:?}, {:?})",
                s.tag,
                model.tables[s.table].table.name.to_sql()
            )
        })
        .collect();
    if steps.is_empty() {
        return String::new();
    }
    format!(
        "const CONNECT_STEPS: &'static [(&'static str, &'static str)] = &[{}];",
        steps.join(", ")
    )
}

/// The Rust type of a step's field, by how many rows it holds.
fn field_type(step: &GraphStep) -> String {
    let ty = item_type(step);
    match step.cardinality {
        Cardinality::One => ty.to_owned(),
        Cardinality::Optional => format!("::std::option::Option<{ty}>"),
        Cardinality::Many => format!("::std::vec::Vec<{ty}>"),
    }
}

/// The type of a step's items: its row type, or the type that holds a row and the rows
/// under it.
fn item_type(step: &GraphStep) -> &str {
    step.item_type.as_deref().unwrap_or(&step.row_type)
}

/// The steps that hang from `parent`, with their indexes.
fn steps_under(graph: &GraphModel, parent: StepRef) -> impl Iterator<Item = (usize, &GraphStep)> {
    graph
        .steps
        .iter()
        .enumerate()
        .filter(move |(_, s)| s.parent == parent)
}

/// A step's field in the struct of its parent (the graph's, or an item type's), with its
/// doc and the user's attributes.
///
/// In an item type, which several graphs may share, the doc names no step tag.
fn step_field(model: &Model<'_>, graph: &GraphModel, step: &GraphStep) -> String {
    let table = &model.tables[step.table].table.name;
    let parent = model.tables[graph.table_of(step.parent)]
        .table
        .name
        .to_string();
    let parent_columns = &model.tables[graph.table_of(step.parent)].columns;
    let own_columns = &model.tables[step.table].columns;
    let what = match step.kind {
        StepKind::BelongsTo { sets_parent_column: (column, _), .. } if step.connect_by.is_some() => format!(
            "The `{}` of the row of `{table}` to connect to, looked up in the same statement; its key goes into `{}`. No row with it is `Error::NotFound` naming this step, and nothing is written. Leave it unset to keep the column's value (connect by id).",
            model.tables[step.table].columns[step.connect_by.unwrap_or_default()].column.name,
            parent_columns[column].column.name
        ),
        StepKind::BelongsTo { sets_parent_column: (column, _), .. } => format!(
            "The parent in `{table}`, written first; its key goes into `{}`. Leave it unset to keep the column's value (connect by id).",
            parent_columns[column].column.name
        ),
        StepKind::BeforeInsert => format!("Rows of `{table}` written before the `{parent}` row."),
        StepKind::HasOne { takes_parent_column: (column, _) }
        | StepKind::HasMany { takes_parent_column: (column, _) } => format!(
            "Rows of `{table}`, written after the `{parent}` row; each gets its key in `{}`.",
            own_columns[column].column.name
        ),
        StepKind::AfterInsert { .. } => format!("Rows of `{table}` written after the `{parent}` row."),
        StepKind::ManyToMany { .. } => format!(
            "Rows linked to the `{parent}` row through `{table}`: each item creates its row, connects to an existing one by key, or connects to the row with its conflict key or creates it, and writes its join row of `{table}`."
        ),
        StepKind::Link { .. } => format!("The rows of `{table}` that items link."),
    };
    let mut code = if step.parent == StepRef::Root {
        doc(&format!("{what} Step `{}`.", step.tag))
    } else {
        doc(&what)
    };
    if step.parent == StepRef::Root {
        code.push_str(&super::attributes::field_attributes(
            &graph.attributes,
            &step.field,
            &field_type(step),
        ));
    }
    let _ = writeln!(code, "pub {}: {},", step.field, field_type(step));
    code
}

/// The constructor's fields of the steps under `parent`, as `new!` takes them: a required
/// one-row step is an argument (`field: Type`, taken as given); every other starts empty,
/// `None` or an empty `Vec`.
fn step_inits(graph: &GraphModel, parent: StepRef) -> [Vec<String>; 3] {
    let [mut take, mut none, mut vec] = [Vec::new(), Vec::new(), Vec::new()];
    for (_, step) in steps_under(graph, parent) {
        match step.cardinality {
            Cardinality::One => take.push(format!("{}: {}", step.field, item_type(step))),
            Cardinality::Optional => none.push(step.field.clone()),
            Cardinality::Many => vec.push(step.field.clone()),
        }
    }
    [take, none, vec]
}

/// The `setters!` entries of the steps under `parent`.
fn step_setters(graph: &GraphModel, parent: StepRef) -> String {
    let mut code = String::new();
    for (_, step) in steps_under(graph, parent) {
        let f = &step.field;
        let ty = item_type(step);
        let (kind, names) = match step.cardinality {
            // A key to connect by: any value that converts to it.
            _ if step.connect_by.is_some() => ("unset", format!("with_{f} / with_{f}_opt")),
            Cardinality::One => ("one", format!("with_{f}")),
            Cardinality::Optional => ("maybe", format!("with_{f} / with_{f}_opt")),
            Cardinality::Many => ("many", format!("with_{f}")),
        };
        let _ = writeln!(code, "{kind} {f} {names}: {ty};");
    }
    code
}

/// The item type of a step with steps under it: one row of the step and the fields of the
/// steps under it, a constructor and setters, and `From` its row when nothing under it is
/// required.
fn item_struct(model: &Model<'_>, graph: &GraphModel, index: usize) -> String {
    let step = &graph.steps[index];
    let Some(name) = &step.item_type else {
        return String::new();
    };
    if let StepKind::ManyToMany {
        takes_parent_column: (fk, _),
    } = step.kind
    {
        return link_item_struct(model, graph, (index, name), fk);
    }
    let here = StepRef::Step(index);
    let row = &step.row_type;
    let mut code = doc(&format!(
        "A row of `{}` with the rows written under it: the items of field `{}`.",
        model.tables[step.table].table.name, step.field
    ));
    code.push_str(&super::attributes::type_attributes(&graph.attributes));
    let _ = writeln!(
        code,
        "#[derive(Debug, Clone, PartialEq)]\npub struct {name} {{\n/// The row itself.\npub row: {row},"
    );
    for (_, child) in steps_under(graph, here) {
        code.push_str(&step_field(model, graph, child));
    }
    let [mut take, none, vec] = step_inits(graph, here);
    let from = take.is_empty();
    take.insert(0, format!("row: {row}"));
    let _ = write!(
        code,
        "}}\nimpl {name} {{
            {}{}
        }}\n",
        super::new_call("item", [&[], &take, &none, &vec]),
        super::setters_call(&step_setters(graph, here)),
    );
    if from {
        let _ = writeln!(
            code,
            "impl ::std::convert::From<{row}> for {name} {{ fn from(row: {row}) -> Self {{ Self::new(row) }} }}"
        );
    }
    code
}

/// The item type of a many_to_many step (`NewArticleGraphTag`): how the item finds its far
/// row (an enum named after the item type, `NewArticleGraphTagLink`, with one variant per
/// [`LinkHow`] step under the step) and its join row, without the two keys the graph fills
/// (`fk`, the parent's, and the far row's). Constructors per variant when the join row needs
/// no value.
fn link_item_struct(
    model: &Model<'_>,
    graph: &GraphModel,
    (index, name): (usize, &str),
    fk: usize,
) -> String {
    let step = &graph.steps[index];
    let join = &model.tables[step.table];
    let links: Vec<(&GraphStep, LinkHow, usize)> = steps_under(graph, StepRef::Step(index))
        .filter_map(|(_, s)| match s.kind {
            StepKind::Link {
                how,
                sets_parent_column: (far_fk, _),
            } => Some((s, how, far_fk)),
            _ => None,
        })
        .collect();
    let Some(&(first, _, far_fk)) = links.first() else {
        return String::new();
    };
    let far = &model.tables[first.table];
    let link = format!("{name}Link");
    let mut code = doc(&format!(
        "How an item of field `{}` finds its row of `{}`.",
        step.field, far.table.name
    ));
    code.push_str(&super::attributes::type_attributes(&graph.attributes));
    let _ = writeln!(
        code,
        "#[derive(Debug, Clone, PartialEq)]\npub enum {link} {{"
    );
    let mut constructors = String::new();
    let needs_row = join.columns.iter().enumerate().any(|(i, c)| {
        i != fk && i != far_fk && c.insert.is_some() && api_kind(c) == Some(InsertKind::Required)
    });
    let row = &step.row_type;
    for &(link_step, how, _) in &links {
        let variant = how.variant();
        let text = match (how, link_step.connect_by) {
            (LinkHow::Create, _) => "A new row, written in the statement.".to_owned(),
            (LinkHow::Connect, Some(by)) => format!(
                    "The existing row with this `{}`, looked up in the statement; no row with it is `Error::NotFound` naming step `{}`, and nothing is written.",
                    far.columns[by].column.name, link_step.tag
            ),
            (LinkHow::Connect, None) => continue,
            (LinkHow::ConnectOrCreate, _) => format!(
                "The row with this row's conflict key ({}), or this row when there is none. Items that give one key link one row: the first of them is written.",
                far.conflict
                    .iter()
                    .flat_map(|c| &c.key)
                    .map(|&k| far.columns[k].column.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        code.push_str(&doc(&text));
        let _ = writeln!(code, "{variant}({}),", link_step.row_type);
        if !needs_row {
            let (function, arg, value) = match how {
                LinkHow::Connect => (
                    "connect",
                    format!("key: impl ::std::convert::Into<{}>", link_step.row_type),
                    "key.into()",
                ),
                LinkHow::Create => ("create", format!("row: {}", link_step.row_type), "row"),
                LinkHow::ConnectOrCreate => (
                    "connect_or_create",
                    format!("row: {}", link_step.row_type),
                    "row",
                ),
            };
            constructors.push_str(&link_constructor(
                (function, &arg),
                &format!("{link}::{variant}({value})"),
                &text,
            ));
        }
    }
    code.push_str("}\n");
    code.push_str(&doc(&format!(
        "An item of field `{}`: the row of `{}` it links, and its join row of `{}`.",
        step.field, far.table.name, join.table.name
    )));
    code.push_str(&super::attributes::type_attributes(&graph.attributes));
    let _ = write!(
        code,
        "#[derive(Debug, Clone, PartialEq)]
        pub struct {name} {{
            /// The row it links.
            pub link: {link},
            /// The join row's own columns.
            pub row: {row},
        }}
        impl {name} {{
            /// An item linking `link`, with the join row `row`.
            pub fn new(link: {link}, row: {row}) -> Self {{ Self {{ link, row }} }}
            {constructors}
            /// This item with the join row `row`.
            pub fn with_row(mut self, row: {row}) -> Self {{ self.row = row; self }}
        }}\n"
    );
    code
}

/// A constructor of a link item, `fn function(arg) -> Self`, whose link is `link` and whose
/// join row is the default one, documented by `text`.
fn link_constructor((function, arg): (&str, &str), link: &str, text: &str) -> String {
    let mut code = doc(&format!("{text} Its join row takes every default."));
    let _ = writeln!(
        code,
        "pub fn {function}({arg}) -> Self {{ Self {{ link: {link}, row: ::std::default::Default::default() }} }}"
    );
    code
}

/// The graph struct with its doc (the steps in order): the root's insertable columns, then
/// one field per step.
fn graph_fields(model: &Model<'_>, graph: &GraphModel) -> String {
    let root = &model.tables[graph.root];
    let name = &graph.name;
    let columns = root_columns(model, graph);
    let inserted: Vec<&ColumnModel<'_>> = columns.iter().filter(|c| c.insert.is_some()).collect();
    // The struct: the root's insertable columns, then one field per step.
    let mut text = format!("Insert graph `{name}`: a row of `{}` and the rows written with it, in one statement.\n\nSteps, in order:", root.table.name);
    for step in graph.steps.iter().filter(|s| !s.kind.runs_after_parent()) {
        let _ = write!(text, "\n- `{}`: `{}`", step.tag, step.field);
    }
    let _ = write!(text, "\n- `{}`", graph.root_tag);
    for step in graph.steps.iter().filter(|s| s.kind.runs_after_parent()) {
        let _ = write!(text, "\n- `{}`: `{}`", step.tag, step.field);
    }
    let mut code = doc(&text);
    code.push_str(&super::attributes::type_attributes(&graph.attributes));
    let _ = writeln!(
        code,
        "#[derive(Debug, Clone, PartialEq)]\npub struct {name} {{"
    );
    for column in &inserted {
        let parent = graph
            .steps
            .iter()
            .filter(|s| s.parent == StepRef::Root)
            .find(|s| {
                s.kind
                    .sets_parent_column()
                    .is_some_and(|(c, _)| root.columns[c].field == column.field)
            });
        let text = match parent {
            Some(step) => super::rows::field_doc(
                column,
                Some(&format!(
                    "`None` takes the key of the row in `{}`; a value connects to an existing row.",
                    step.field
                )),
            ),
            None => insert_field_doc(column),
        };
        code.push_str(&doc(&text));
        code.push_str(&super::attributes::field_attributes(
            &graph.attributes,
            &column.field,
            &insert_type(column),
        ));
        let _ = writeln!(code, "pub {}: {},", column.field, insert_type(column));
    }
    for (_, step) in steps_under(graph, StepRef::Root) {
        code.push_str(&step_field(model, graph, step));
    }
    code.push_str("}\n");

    code
}

/// `new` (required root columns and required one-row steps) and the setters.
fn graph_constructor_and_setters(model: &Model<'_>, graph: &GraphModel) -> String {
    let name = &graph.name;
    let columns = root_columns(model, graph);
    let inserted: Vec<&ColumnModel<'_>> = columns.iter().filter(|c| c.insert.is_some()).collect();
    let mut code = String::new();
    // Constructor: required root columns and required one-row steps.
    let into: Vec<String> = inserted
        .iter()
        .filter(|c| c.insert == Some(InsertKind::Required))
        .map(|c| format!("{}: {}", c.field, c.ty.rust))
        .collect();
    let mut none: Vec<String> = inserted
        .iter()
        .filter(|c| c.insert != Some(InsertKind::Required))
        .map(|c| c.field.clone())
        .collect();
    let [take, step_none, vec] = step_inits(graph, StepRef::Root);
    none.extend(step_none);
    if into.is_empty() && take.is_empty() {
        let _ = writeln!(
            code,
            "impl ::std::default::Default for {name} {{ fn default() -> Self {{ Self::new() }} }}"
        );
    }
    let _ = writeln!(code, "impl {name} {{");
    code.push_str(&super::new_call("graph", [&into, &take, &none, &vec]));
    let mut entries: String = inserted.iter().map(|c| setters(c)).collect();
    entries.push_str(&step_setters(graph, StepRef::Root));
    code.push_str(&super::setters_call(&entries));
    code.push_str("}\n");

    code
}

/// The entries of `writegraph::graph_checks!`, the checks before any SQL: belongs_to given
/// twice or not at all, the root id, and upserted rows of one step that repeat a conflict
/// key. Empty when the graph has none.
fn graph_checks(model: &Model<'_>, graph: &GraphModel) -> String {
    let root = root_columns(model, graph);
    // When a root column is set: always, when `Some`, when `Some(Some(_))`.
    let how = |column: &ColumnModel<'_>| match column.insert {
        Some(InsertKind::Required) => "required",
        Some(InsertKind::NullableDefaulted) => "nullable",
        _ => "value",
    };
    let mut checks = Vec::new();
    for (_, step) in steps_under(graph, StepRef::Root) {
        let StepKind::BelongsTo {
            sets_parent_column: (column, _),
            required,
        } = step.kind
        else {
            continue;
        };
        let column = &root[column];
        let kind = if required { "required" } else { "parent" };
        checks.push(format!(
            "[{kind} {} {} {}]",
            step.field,
            column.field,
            how(column)
        ));
    }
    if let Some(id) = graph.root_id_field {
        let column = &root[id];
        if column.insert != Some(InsertKind::Required) {
            checks.push(format!("[root_id {} {}]", column.field, how(column)));
        }
    }
    // Upserted rows of one step must not repeat a conflict key (the root's key, which the
    // graph fills, is the same for all of them).
    for step in &graph.steps {
        let table = &model.tables[step.table];
        let Some(key) = &step.repeat_key else {
            continue;
        };
        let Some(read) = super::insert::key_reader(table, key, "row") else {
            continue;
        };
        let columns: Vec<String> = key
            .iter()
            .map(|&i| format!("{:?}", table.columns[i].column.name))
            .collect();
        checks.push(format!(
            "[unique {}: |row| {read}, {:?}, [{}]]",
            step.field,
            table.table.name.to_string(),
            columns.join(", ")
        ));
    }
    checks.join(" ")
}

/// A graph's `Parts`: the code of `parts` that takes them out of the graph, their names and
/// types in the tuple, and every parameter of the statement, in `$n` order.
struct Parts {
    take: String,
    names: Vec<String>,
    types: Vec<String>,
    params: Vec<Bound>,
    /// The index in `STEPS` of each parameter's step.
    params_steps: Vec<usize>,
}

/// Each step's rows as column vectors and the root's values one by one, in statement
/// order, from the plan's parameters of each part.
fn graph_parts(
    model: &Model<'_>,
    graph: &GraphModel,
    (statement_parts, many): (&[GraphPart], bool),
) -> Parts {
    let root = &model.tables[graph.root];
    let root_columns = root_columns(model, graph);
    let mut parts = Parts {
        take: String::new(),
        names: Vec::new(),
        types: Vec::new(),
        params: Vec::new(),
        params_steps: Vec::new(),
    };
    let ordinals: Vec<usize> = statement_parts
        .iter()
        .filter(|p| p.params.contains(&Param::ParentOrdinal))
        .filter_map(|p| p.step)
        .collect();
    if many {
        parts.take.push_str(&take_root_steps(graph, &ordinals));
        parts.take.push_str(&repeated_across_graphs(model, graph));
    }
    for index in 0..graph.steps.len() {
        parts
            .take
            .push_str(&flatten_items(model, graph, (index, many), &ordinals));
    }
    for (step, part) in statement_parts.iter().enumerate() {
        // The parameters so far are the parts' before this one (each part is a step of
        // `STEPS`, in order).
        let before = parts.params.len();
        parts.params_steps.resize(before, step.saturating_sub(1));
        let part_params = &part.params;
        let Some(i) = &part.step else {
            if many {
                // Every graph's root row, split into columns after the steps' rows are
                // taken out of the graphs.
                let _ = writeln!(
                    parts.take,
                    "let root = Self::root_columns(graphs).map_err(|e| e.in_step({:?}))?;",
                    graph.root_tag
                );
                parts.names.push("root".to_owned());
                parts.types.push(format!("New{}Columns", root.rust_name));
                let view = many_root_view(model, graph);
                parts
                    .params
                    .extend(batch_param_values(&view, part_params, "root"));
                continue;
            }
            for column in root_columns.iter().filter(|c| c.insert.is_some()) {
                parts.take.push_str(&step_check(
                    column,
                    &format!("self.{}", column.field),
                    &root.table.name.to_sql(),
                    "0",
                    &graph.root_tag,
                ));
            }
            root_param_values(&root_columns, part_params, &mut parts);
            continue;
        };
        let step = &graph.steps[*i];
        let table = &model.tables[step.table];
        let rows = match (&step.item_type, step.parent) {
            (Some(_), _) => format!("r{i}"),
            (None, StepRef::Root) if !many => own_rows(step),
            (None, _) => format!("w{i}"),
        };
        if let Some(by) = step.connect_by {
            // The keys to look up, bound as one array.
            let column = &table.columns[by];
            let _ = writeln!(
                parts.take,
                "let part{i}: ::std::vec::Vec<{}> = {rows};",
                column.ty.rust
            );
            parts.names.push(format!("part{i}"));
            parts
                .types
                .push(format!("::std::vec::Vec<{}>", column.ty.rust));
            parts.params.push(
                Bound::value(&format!("part{i}"), &column.ty.param_array_type)
                    .holding(column.column.name.clone()),
            );
            if part.params.last() == Some(&Param::ParentOrdinal) {
                parts.params.push(
                    Bound::value(&format!("o{i}"), "INT8_ARRAY")
                        .holding(param_holds(&table.columns, Param::ParentOrdinal)),
                );
                parts.names.push(format!("o{i}"));
                parts.types.push("::std::vec::Vec<i64>".to_owned());
            }
            continue;
        }
        if part.params.contains(&Param::Present) {
            let present = match (&step.item_type, step.parent) {
                (None, StepRef::Root) => format!("self.{}.is_some()", step.field),
                _ => format!("!{rows}.is_empty()"),
            };
            let _ = writeln!(parts.take, "let part{i}_present = {present};");
            parts.names.push(format!("part{i}_present"));
            parts.types.push("bool".to_owned());
        }
        // A step's own row type (a column it leaves out, or one its parents fill) splits
        // its rows itself.
        let columns = if step.own_row.is_some() {
            format!("{}::columns({rows})", step.row_type)
        } else {
            format!(
                "<New{} as ::writegraph::Insert>::columns({rows}, &[])",
                table.rust_name
            )
        };
        let _ = writeln!(
            parts.take,
            "let part{i} = {columns}.map_err(|e| e.in_step({:?}))?;",
            step.tag
        );
        let holder = format!("part{i}");
        let values = if part.rows == RowCount::Many {
            batch_param_values(table, part_params, &holder)
        } else {
            one_row_values(table, part_params, &holder)
        };
        if values.iter().any(|v| v.holder == holder) {
            parts.names.push(holder);
            parts.types.push(format!("New{}Columns", table.rust_name));
        } else {
            // Split for its checks only: the statement binds none of its columns.
            let _ = writeln!(parts.take, "let _ = {holder};");
        }
        parts.params.extend(values);
        if part.params.last() == Some(&Param::ParentOrdinal) {
            parts.params.push(
                Bound::value(&format!("o{i}"), "INT8_ARRAY")
                    .holding(param_holds(&table.columns, Param::ParentOrdinal)),
            );
            parts.names.push(format!("o{i}"));
            parts.types.push("::std::vec::Vec<i64>".to_owned());
        }
    }
    let last = statement_parts.len().saturating_sub(1);
    parts.params_steps.resize(parts.params.len(), last);
    let steps = std::mem::take(&mut parts.params_steps);
    parts.params = std::mem::take(&mut parts.params)
        .into_iter()
        .zip(steps)
        .map(|(param, step)| param.of_step(step))
        .collect();
    parts
}

/// Many graphs: each root-level step's rows (or items) of every graph in one vector
/// (`w<index>`), with the ordinal of its graph (`o<index>`, from 1), taken out of the
/// graphs, whose root rows stay.
fn take_root_steps(graph: &GraphModel, ordinals: &[usize]) -> String {
    let mut code = String::new();
    let mut each = String::new();
    for (i, step) in steps_under(graph, StepRef::Root) {
        let f = &step.field;
        let _ = writeln!(code, "let mut w{i} = ::std::vec::Vec::new();");
        // Rows unrelated to their graph's root (before_insert) carry no ordinal.
        let numbered = ordinals.contains(&i);
        if numbered {
            let _ = writeln!(
                code,
                "let mut o{i}: ::std::vec::Vec<i64> = ::std::vec::Vec::new();"
            );
        }
        let _ = writeln!(
            each,
            "{}",
            match (step.cardinality, numbered) {
                (Cardinality::Many, true) => format!(
                    "o{i}.extend(::std::iter::repeat_n(ordinal, graph.{f}.len())); w{i}.append(&mut graph.{f});"
                ),
                (Cardinality::Many, false) => format!("w{i}.append(&mut graph.{f});"),
                (Cardinality::Optional, true) => format!(
                    "if let Some(row) = graph.{f}.take() {{ w{i}.push(row); o{i}.push(ordinal); }}"
                ),
                (Cardinality::Optional, false) => format!("w{i}.extend(graph.{f}.take());"),
                (Cardinality::One, true) => {
                    format!("w{i}.push(graph.{f}.clone()); o{i}.push(ordinal);")
                }
                (Cardinality::One, false) => format!("w{i}.push(graph.{f}.clone());"),
            }
        );
    }
    let numbered = steps_under(graph, StepRef::Root).any(|(i, _)| ordinals.contains(&i));
    if numbered {
        let _ = writeln!(
            code,
            "for (index, graph) in graphs.iter_mut().enumerate() {{ let ordinal = index as i64 + 1; {each} }}"
        );
    } else if !each.is_empty() {
        let _ = writeln!(code, "for graph in graphs.iter_mut() {{ {each} }}");
    }
    code
}

/// Many graphs: upserted rows of a root-level step whose conflict key does not hold the
/// root's key can repeat a key across graphs, which one `ON CONFLICT DO UPDATE` refuses
/// ("cannot affect row a second time"): refused before any SQL, naming the rows by their
/// position among all graphs' rows of the step. (Within one graph, `graph_checks` refuses
/// them.)
fn repeated_across_graphs(model: &Model<'_>, graph: &GraphModel) -> String {
    let mut code = String::new();
    for (i, step) in steps_under(graph, StepRef::Root) {
        let (Some(key), Some(conflict)) = (&step.repeat_key, &model.tables[step.table].conflict)
        else {
            continue;
        };
        let filled = step.kind.takes_parent_column().map(|(column, _)| column);
        if filled.is_some_and(|column| conflict.key.contains(&column)) {
            continue;
        }
        code.push_str(&repeated_key_check(
            &graph.name,
            &model.tables[step.table],
            key,
            (&step.field, &format!("&w{i}")),
            "GraphConflict",
        ));
    }
    code
}

/// The root table as the graph struct holds its columns, for splitting many graphs' roots
/// into the table's column vectors: a column a belongs_to of the graph fills is optional
/// (`Option`, like a defaulted one); one only other graphs fill stays as the vectors hold it.
fn many_root_view<'a>(model: &Model<'a>, graph: &GraphModel) -> TableModel<'a> {
    let mut table = model.tables[graph.root].clone();
    for step in steps_under(graph, StepRef::Root).map(|(_, s)| s) {
        if let Some((column, _)) = step.kind.sets_parent_column() {
            table.columns[column].insert = Some(InsertKind::Defaulted);
        }
    }
    table
}

/// `impl InsertGraphMany`: any number of graphs in one statement (`SQL_MANY`), their rows
/// taken out of them as the one-graph `parts` does, every step's and the roots' as arrays.
/// `checked`: the graph has checks of its own (`graph_checks`), run on each graph.
fn insert_graph_many_impl(
    model: &Model<'_>,
    graph: &GraphModel,
    statement: &GraphStatement,
    checked: bool,
) -> String {
    let name = &graph.name;
    let root = &model.tables[graph.root];
    let parts = graph_parts(model, graph, (&statement.parts_many, true));
    let view = many_root_view(model, graph);
    let root_part = statement.parts_many.iter().find(|p| p.step.is_none());
    let columns = super::insert::rows_columns(
        &view,
        root_part.map_or(&[][..], |p| &p.params),
        ("root_columns", "Self"),
    );
    let mut checks = if !checked {
        String::new()
    } else {
        "for (index, graph) in graphs.iter().enumerate() { graph.graph_checks().map_err(|e| e.in_graph(index))?; }\n".to_owned()
    };
    // Two roots with one conflict key would fail the statement on the unique key: refused
    // first, naming both graphs.
    if let Some(conflict) = &root.conflict {
        if let Some(read) = super::insert::key_reader(&view, &conflict.key, "row") {
            let columns: Vec<String> = conflict
                .key
                .iter()
                .map(|&i| format!("{:?}", root.columns[i].column.name))
                .collect();
            let _ = writeln!(
                checks,
                "::writegraph::write::check_unique(&graphs, |row| {read}, ::writegraph::write::RepeatedKey::GraphRoots {{ graph: {name:?}, table: {table:?}, columns: &[{columns}] }})?;",
                table = root.table.name.to_string(),
                columns = columns.join(", "),
            );
        }
    }
    format!(
        "impl {name} {{ {columns} }}
        impl ::writegraph::InsertGraphMany for {name} {{
            type PartsMany = ({part_types});
            {statements}{many_params}
            fn parts_many({mutable}graphs: ::std::vec::Vec<Self>) -> ::writegraph::Result<Self::PartsMany> {{
                {checks}{take}
                Ok(({names}))
            }}
            fn bind_many<'a>(parts: &'a Self::PartsMany) -> impl ::std::convert::AsRef<[::writegraph::write::Param<'a>]> + ::std::marker::Send {{
                let ({names}) = parts;
                {params}
            }}
        }}
        ::writegraph::insert_graph_many_methods!({methods}{name});
        {rows}\n",
        part_types = parts.types.iter().map(|t| format!("{t},")).collect::<String>(),
        statements = many_statements(name, &root.table.name.to_string(), statement),
        mutable = if parts.take.contains("graphs.iter_mut()") { "mut " } else { "" },
        take = parts.take,
        names = parts.names.iter().map(|t| format!("{t},")).collect::<String>(),
        params = super::params_macro(&parts.params),
        methods = if statement.sql_many_returning.is_some() { "returning " } else { "" },
        many_params = many_params_const(model, graph, &statement.parts_many),
        rows = statement.sql_many_rows.as_ref().map_or_else(String::new, |rows| graph_rows(model, graph, rows)),
    )
}

/// `SQL_MANY` and, when the graph returns its roots, `SQL_MANY_RETURNING`, which share
/// all of their text but the root's `RETURNING` list and the final `SELECT`.
fn many_statements(name: &str, root_table: &str, statement: &GraphStatement) -> String {
    let many = (
        "SQL_MANY",
        &*format!("Any number of `{name}` graphs in one statement: each step's rows of every graph in one array per column, each row joined to its own graph's rows by ordinal. Returns the number of `{root_table}` rows, then the per-step counts."),
        statement.sql_many.as_str(),
    );
    let head = format!("::writegraph::statement!(graph_many {name:?}, {root_table:?}");
    match &statement.sql_many_returning {
        Some(sql) => match super::shared_literals(many.2, sql) {
            Some(pieces) => format!("{head} = {pieces});\n"),
            None => statement_pair(
            many,
            (
                "SQL_MANY_RETURNING",
                "`SQL_MANY`, returning every root row in input order, each followed by the per-step counts.",
                sql,
            ),
            ),
        },
        None => format!("{head}; {});\n", super::str_literal(many.2)),
    }
}

/// The graph's stored rows (`<Graph>Rows`, `impl InsertGraphRows`) when some of its steps
/// return theirs: the root row and one field per returning step, named by the path of
/// fields down to it (`posts_comments`), a `Vec` of its rows in input order (an `Option`
/// for a one-row step under the root).
fn graph_rows(model: &Model<'_>, graph: &GraphModel, rows: &RowsResult) -> String {
    let name = &graph.name;
    let root = &model.tables[graph.root];
    let mut fields = String::new();
    let mut empty = String::new();
    let mut arms = String::new();
    for &(index, part, first) in &rows.steps {
        let step = &graph.steps[index];
        let table = &model.tables[step.table];
        let mut path = vec![step.field.clone()];
        let mut many = step.cardinality == Cardinality::Many;
        let mut parent = step.parent;
        while let StepRef::Step(p) = parent {
            path.push(graph.steps[p].field.clone());
            many |= graph.steps[p].cardinality == Cardinality::Many;
            parent = graph.steps[p].parent;
        }
        path.reverse();
        let field = path.join("_");
        let row = &table.rust_name;
        let (ty, init, push) = if many {
            (
                format!("::std::vec::Vec<{row}>"),
                "::std::vec::Vec::new()".to_owned(),
                format!("rows.{field}.push({row}::from_row_at(row, {first})?)"),
            )
        } else {
            (
                format!("::std::option::Option<{row}>"),
                "None".to_owned(),
                format!("rows.{field} = Some({row}::from_row_at(row, {first})?)"),
            )
        };
        fields.push_str(&doc(&format!(
            "Rows of `{}` as stored, in input order (step `{}`).",
            table.table.name, step.tag
        )));
        let _ = writeln!(fields, "pub {field}: {ty},");
        let _ = write!(empty, "{field}: {init},");
        if !arms.is_empty() {
            arms.push_str(" else ");
        }
        let _ = write!(arms, "if step == {part} {{ {push}; }}");
    }
    format!(
        "{doc}#[derive(Debug, Clone, PartialEq)]
        pub struct {name}Rows {{
            /// The root row as stored.
            pub root: {root_row},
            {fields}
        }}
        impl ::writegraph::InsertGraphRows for {name} {{
            type Rows = {name}Rows;
            {statement}
            fn rows_of(root: {root_row}) -> {name}Rows {{ {name}Rows {{ root, {empty} }} }}
            fn push_row(rows: &mut {name}Rows, step: usize, row: &::writegraph::__private::Row) -> ::writegraph::Result<()> {{
                use ::writegraph::FromRow as _;
                {arms}
                Ok(())
            }}
        }}
        ::writegraph::insert_graph_rows_methods!({name});\n",
        doc = doc(&format!("The rows of a `{name}` as stored (`insert_graph_rows`, `insert_graph_many_rows`).")),
        root_row = root.rust_name,
        statement = super::statement_const(
            "SQL_MANY_ROWS",
            "`SQL_MANY`, returning one row per stored row of the root and of each step that returns its rows, ordered by kind and ordinal.",
            &rows.sql,
        ),
    )
}

/// `const MANY_PARAMS`: what each parameter of the many-graph statement holds, in the
/// plan's `$n` order, grouped by step (`many_params![0: "id", "email"; 1: "title", [0]]`): a
/// column of the step's rows, the parent ordinals of its rows (`[p]`, numbering rows of step
/// `p`), or neither (`_`), so that a database error's key is traced back to the graphs
/// holding it. Each part is a step of `STEPS`, in order.
fn many_params_const(model: &Model<'_>, graph: &GraphModel, parts: &[GraphPart]) -> String {
    let part_of = |step: StepRef| {
        parts.iter().position(|p| match (p.step, step) {
            (None, StepRef::Root) => true,
            (Some(i), StepRef::Step(j)) => i == j,
            _ => false,
        })
    };
    let groups: Vec<String> = parts
        .iter()
        .enumerate()
        .filter(|(_, part)| !part.params.is_empty())
        .map(|(index, part)| {
            let table = match part.step {
                None => &model.tables[graph.root],
                Some(i) => &model.tables[graph.steps[i].table],
            };
            let items: Vec<String> = part
                .params
                .iter()
                .map(|param| match *param {
                    Param::Value(c) | Param::Key(c) => {
                        format!("{:?}", table.columns[c].column.name)
                    }
                    Param::ParentOrdinal => part
                        .step
                        .and_then(|i| part_of(graph.steps[i].parent))
                        .map_or_else(|| "_".to_owned(), |parent| format!("[{parent}]")),
                    _ => "_".to_owned(),
                })
                .collect();
            format!("{index}: {}", items.join(", "))
        })
        .collect();
    format!(
        "const MANY_PARAMS: &'static [::writegraph::write::ManyParam] = ::writegraph::many_params![{}];",
        groups.join("; ")
    )
}

/// A root-level step's rows, taken out of the graph's field.
fn own_rows(step: &GraphStep) -> String {
    let f = &step.field;
    match step.cardinality {
        Cardinality::One => format!("::std::vec![self.{f}.clone()]"),
        Cardinality::Optional => format!("self.{f}.take().into_iter().collect()"),
        Cardinality::Many => format!("::std::mem::take(&mut self.{f})"),
    }
}

/// For a step with steps under it: its items split into its own rows (`r<index>`) and,
/// per step under it, all their rows in one vector (`w<child>`), with each row's parent
/// ordinal (`o<child>`, from 1) for the steps in `ordinals`, whose statement joins them to
/// their parent row by it.
fn flatten_items(
    model: &Model<'_>,
    graph: &GraphModel,
    (index, many): (usize, bool),
    ordinals: &[usize],
) -> String {
    let step = &graph.steps[index];
    if step.item_type.is_none() {
        return String::new();
    }
    let f = &step.field;
    let items = match (step.parent, step.cardinality) {
        (StepRef::Step(_), _) => format!("w{index}"),
        (StepRef::Root, _) if many => format!("w{index}"),
        (StepRef::Root, Cardinality::One) => String::new(),
        (StepRef::Root, Cardinality::Optional) => format!("self.{f}.take()"),
        (StepRef::Root, Cardinality::Many) => format!("::std::mem::take(&mut self.{f})"),
    };
    let mut code = format!("let mut r{index} = ::std::vec::Vec::new();\n");
    if matches!(step.kind, StepKind::ManyToMany { .. }) {
        // Each item's far row goes to the step of its way of linking, with the ordinal of
        // its join row.
        let link = format!("{}Link", item_type(step));
        let mut arms = String::new();
        for (child, under) in steps_under(graph, StepRef::Step(index)) {
            let StepKind::Link { how, .. } = under.kind else {
                continue;
            };
            let _ = writeln!(
                code,
                "let mut w{child} = ::std::vec::Vec::new(); let mut o{child}: ::std::vec::Vec<i64> = ::std::vec::Vec::new();"
            );
            let variant = how.variant();
            let _ = write!(
                arms,
                "{link}::{variant}(row) => {{ w{child}.push(row); o{child}.push(ordinal); }}"
            );
        }
        let _ = writeln!(
            code,
            "for (index, item) in {items}.into_iter().enumerate() {{ let ordinal = index as i64 + 1; r{index}.push(item.row); match item.link {{ {arms} }} }}"
        );
        return code;
    }
    let mut each = String::new();
    for (_, under) in steps_under(graph, StepRef::Step(index)) {
        let StepKind::BelongsTo {
            sets_parent_column: (column, _),
            required,
        } = under.kind
        else {
            continue;
        };
        let (name, f) = (&graph.name, &under.field);
        let id = &model.tables[step.table].columns[column].field;
        let _ = writeln!(
            each,
            "if item.row.{id}.is_some() && item.{f}.is_some() {{ return Err(::writegraph::write::conflicting_parent({name:?}, {f:?}, {id:?})); }}"
        );
        if required {
            let _ = writeln!(
                each,
                "if item.row.{id}.is_none() && item.{f}.is_none() {{ return Err(::writegraph::write::missing_parent({name:?}, {f:?}, {id:?})); }}"
            );
        }
    }
    let _ = writeln!(each, "r{index}.push(item.row);");
    let mut numbered = false;
    for (child, under) in steps_under(graph, StepRef::Step(index)) {
        let _ = writeln!(code, "let mut w{child} = ::std::vec::Vec::new();");
        let f = &under.field;
        let ordinal = ordinals.contains(&child);
        if ordinal {
            numbered = true;
            let _ = writeln!(
                code,
                "let mut o{child}: ::std::vec::Vec<i64> = ::std::vec::Vec::new();"
            );
        }
        let _ = writeln!(
            each,
            "{}",
            match (under.cardinality, ordinal) {
                (Cardinality::Many, true) => format!(
                    "o{child}.extend(::std::iter::repeat_n(ordinal, item.{f}.len())); w{child}.extend(item.{f});"
                ),
                (Cardinality::Many, false) => format!("w{child}.extend(item.{f});"),
                (Cardinality::Optional, true) => format!(
                    "if let Some(row) = item.{f} {{ w{child}.push(row); o{child}.push(ordinal); }}"
                ),
                (Cardinality::Optional, false) => format!("w{child}.extend(item.{f});"),
                (Cardinality::One, true) => format!("w{child}.push(item.{f}); o{child}.push(ordinal);"),
                (Cardinality::One, false) => format!("w{child}.push(item.{f});"),
            }
        );
    }
    let (pattern, enumerate, ordinal) = if numbered {
        (
            "(index, item)",
            ".enumerate()",
            "let ordinal = index as i64 + 1;\n",
        )
    } else {
        ("item", "", "")
    };
    if (step.parent, step.cardinality, many) == (StepRef::Root, Cardinality::One, false) {
        // Exactly one item: no loop.
        let _ = writeln!(code, "{{ let item = self.{f}.clone(); {each} }}");
    } else {
        let _ = writeln!(
            code,
            "for {pattern} in {items}.into_iter(){enumerate} {{ {ordinal}{each} }}"
        );
    }
    code
}

/// A one-row step's parameters, from its columns `holder`, which hold at most one row: a
/// value as a scalar (`one_row`: NULL for an absent row or an unset value), an array
/// column's elements lent whole.
fn one_row_values(table: &TableModel<'_>, params: &[Param], holder: &str) -> Vec<Bound> {
    let mut values = Vec::new();
    for &param in params {
        let present = holder.to_owned() + "_present";
        let value = match param {
            Param::Present => {
                values.push(
                    Bound::value(&present, "BOOL").holding(param_holds(&table.columns, param)),
                );
                continue;
            }
            Param::Elements(_) | Param::Starts(_) | Param::Key(_) | Param::ParentOrdinal => None,
            Param::Flag(_) | Param::Value(_) | Param::Lengths(_) => batch_field(table, param),
        };
        let Some((field, _, _)) = value else {
            if let Some((field, _, array_type)) = batch_field(table, param) {
                values.push(
                    Bound::field(holder, &field, &array_type)
                        .holding(param_holds(&table.columns, param)),
                );
            }
            continue;
        };
        let scalar_type = match param {
            Param::Value(c) => table.columns[c].ty.param_type.clone(),
            Param::Flag(_) => "BOOL".to_owned(),
            _ => "INT4".to_owned(),
        };
        values.push(
            Bound::one_row(holder, &field, &scalar_type)
                .holding(param_holds(&table.columns, param)),
        );
    }
    values
}

/// `check_text(..)` of a graph's value, its error tagged with step `tag`; empty for a column
/// that holds no text.
pub(super) fn step_check(
    column: &ColumnModel<'_>,
    value: &str,
    table: &str,
    row: &str,
    tag: &str,
) -> String {
    let check = column_check(column, value, &format!("{table:?}"), row);
    match check.strip_suffix("?;\n") {
        Some(check) => format!("::writegraph::write::{check}.map_err(|e| e.in_step({tag:?}))?;\n"),
        None => check,
    }
}

/// The steps in execution order (the statement's), each tag and its `graph_steps!` entry
/// (the tag, and the result column of its count but for the root's): a step's count is
/// the result column of its index.
fn graph_steps<'a>(graph: &'a GraphModel, statement: &GraphStatement) -> Vec<(&'a str, String)> {
    statement
        .parts
        .iter()
        .map(|part| match part.step {
            None => (graph.root_tag.as_str(), format!("{:?}", graph.root_tag)),
            Some(i) => {
                let tag = graph.steps[i].tag.as_str();
                (tag, format!("{tag:?} [{i}]"))
            }
        })
        .collect()
}

/// The root's values bound one by one from the graph's own fields (the root is one row),
/// each of `params`: an unset required value is an error, and a nullable-with-default
/// field is split into its flag and value, taken into `parts` (the statement borrows
/// them).
fn root_param_values(root: &[ColumnModel<'_>], params: &[Param], parts: &mut Parts) {
    for &param in params {
        let bound = match param {
            Param::Flag(i) => {
                let f = &root[i].field;
                let _ = writeln!(parts.take, "let root_f{i} = self.{f}.is_some();");
                parts.names.push(format!("root_f{i}"));
                parts.types.push("bool".to_owned());
                Bound::value(&format!("root_f{i}"), "BOOL")
            }
            Param::Value(i) => {
                let column = &root[i];
                let f = &column.field;
                let value = match column.insert {
                    Some(InsertKind::NullableDefaulted) => {
                        let _ = writeln!(parts.take, "let root_c{i} = self.{f}.clone().flatten();");
                        parts.names.push(format!("root_c{i}"));
                        parts
                            .types
                            .push(format!("::std::option::Option<{}>", column.ty.rust));
                        Bound::value(&format!("root_c{i}"), &column.ty.param_type)
                    }
                    _ => Bound::field("self", f, &column.ty.param_type),
                };
                value
            }
            _ => continue,
        };
        parts.params.push(bound.holding(param_holds(root, param)));
    }
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

/// The `ErrorSteps` of a graph, as `graph_steps!` takes them (`all = [..], constraints
/// {..}, tables {..}`): the steps a database error may come from, by what
/// PostgreSQL names. A constraint names the steps that write its table
/// (a unique key, a foreign key the step sets) or delete or re-key the table it references;
/// a table or partition names the steps that write it; an error that names neither (a
/// data exception, a program limit) may come from any step. Several steps are all listed:
/// the error names one step only when one alone can have caused it. Each step is named by
/// its index in `steps`, the tags of the graph's `STEPS` in order.
pub(super) fn step_attribution<'a>(
    model: &Model<'_>,
    effects: &[StepEffect<'a>],
    steps: &[&str],
) -> String {
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
    // Each tag as its index in `STEPS`, where it is written.
    let index = |tag: &str| steps.iter().position(|s| *s == tag).unwrap_or_default();
    let list = |map: &BTreeMap<String, Vec<&str>>| {
        map.iter()
            .map(|(key, tags)| {
                let tags: Vec<usize> = tags.iter().map(|t| index(t)).collect();
                format!("{key:?} => {tags:?}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let all: Vec<usize> = effects.iter().map(|e| index(e.tag)).collect();
    format!(
        "all = {all:?}, constraints {{ {} }}, tables {{ {} }}",
        list(&by_constraint),
        list(&by_table),
    )
}
