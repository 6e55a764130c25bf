//! The struct of an update graph and its statements.

use std::fmt::Write as _;

use super::insert::{batch_param_values, repeated_key_check};
use super::insert_graphs::{step_attribution, StepEffect};
use super::{doc, statement_assigned, statement_const, str_literal};
use crate::model::{ColumnModel, Model, Strategy, UpdateGraphModel, UpdateStrategy};
use crate::plan::{UpdateGraphStatement, UpdateManyStatement};

pub(super) fn update_graph_struct(
    model: &Model<'_>,
    graph: &UpdateGraphModel,
    statement: &UpdateGraphStatement,
) -> String {
    let mut code = update_graph_fields(model, graph);
    code.push_str(&update_graph_setters(model, graph));
    let name = &graph.name;
    match update_graph_call(model, graph, statement) {
        Some(call) => code.push_str(&call),
        None => {
            code.push_str(&update_graph_impl(model, graph, statement));
            if let Some(many) = &statement.many {
                code.push_str(&update_graph_many_impl(model, graph, many));
            }
        }
    }
    if graph.lock_root {
        let _ = writeln!(
            code,
            "impl ::writegraph::UpdateGraphLocking for {name} {{
                {lock}
            }}
            ::writegraph::update_graph_methods!(locking {name});",
            lock = statement_const(
                "LOCK_SQL",
                "The lock taken first, in the graph's transaction.",
                &statement.lock
            ),
        );
    } else {
        let _ = writeln!(
            code,
            "impl ::writegraph::UpdateGraphPlain for {name} {{}}
            ::writegraph::update_graph_methods!(plain {name});"
        );
    }
    code
}

/// `impl UpdateGraphMany` and its entry points, through `writegraph::update_graph_many!`:
/// the many-roots statement's parts, and per child step its field, row type, flag and the
/// columns it binds.
fn update_graph_many_impl(
    model: &Model<'_>,
    graph: &UpdateGraphModel,
    many: &UpdateManyStatement,
) -> String {
    let [many, connect_fields, children] = many_arguments(model, graph, many);
    format!(
        "::writegraph::update_graph_many! {{
            {name}, {mode}, {many};
            connects [{connect_fields}];
            {children}
        }}\n",
        name = graph.name,
        mode = if graph.lock_root { "locking" } else { "plain" },
    )
}

/// The arguments of `writegraph::update_graph_many!` after the graph and its mode: the
/// `UpdateMany` parts of the statement, the connects' fields and the child steps.
fn many_arguments(
    model: &Model<'_>,
    graph: &UpdateGraphModel,
    many: &UpdateManyStatement,
) -> [String; 3] {
    let mut children = String::new();
    let root = &model.tables[graph.root];
    let (mut connects, mut connect_fields) = (Vec::new(), Vec::new());
    for (connect, value) in graph.connects.iter().zip(&many.connect_values) {
        let by = &model.tables[connect.table].columns[connect.by];
        let set_fk = &root.columns[connect.set_fk];
        connect_fields.push(format!(
            "{}: {} as {}, {}",
            connect.field, by.ty.rust, by.ty.param_array_type, set_fk.field
        ));
        connects.push(format!(
            "({}, {})",
            str_literal(&crate::ident::quote_ident(&set_fk.column.name)),
            str_literal(value)
        ));
    }
    for (child, params) in graph.children.iter().zip(&many.children) {
        if child.strategy.kind() == Strategy::Update {
            // Its patch stays in the graph: `assign_child` reads it.
            continue;
        }
        let table = &model.tables[child.table];
        let flag = match (params.active, params.delete) {
            (true, _) => "active",
            (false, true) => "delete",
            (false, false) => "none",
        };
        if let UpdateStrategy::Links(links) = &child.strategy {
            // The far rows' keys, bound as one array.
            let by = &model.tables[links.far].columns[links.by];
            let _ = writeln!(
                children,
                "{}: keys {flag} {ty} => ::std::vec::Vec<{ty}>, {:?} {{ keys as {} }};",
                child.field,
                child.tag,
                by.ty.param_array_type,
                ty = by.ty.rust,
            );
            continue;
        }
        let count = if child.many { "many" } else { "one" };
        let columns: Vec<String> = params
            .rows
            .iter()
            .filter_map(|&param| super::insert::batch_field(table, param))
            .map(|(field, _, ty)| format!("{field} as {ty}"))
            .collect();
        let _ = writeln!(
            children,
            "{}: {count} {flag} {} => New{}Columns, {:?} {{ {} }};",
            child.field,
            child.row_type,
            table.rust_name,
            child.tag,
            columns.join(", ")
        );
    }
    let many = format!(
        "::writegraph::write::UpdateMany {{
            update: {update}, from: {from}, aliases: {aliases}, rest: {rest},
            select: {select}, tail: {tail}, lock: {lock}, patches: &[{patches}],
            connects: &[{connects}],
        }}",
        update = str_literal(&many.update),
        from = str_literal(&many.from),
        aliases = str_literal(&many.aliases),
        rest = str_literal(&many.rest),
        select = str_literal(&many.select),
        tail = str_literal(&many.tail),
        lock = str_literal(&many.lock),
        connects = connects.join(", "),
        patches = many
            .patches
            .iter()
            .map(|p| format!(
                "::writegraph::write::ChildPatch {{ update: {}, update_where: {}, skip: {}, then: {} }}",
                str_literal(&p.update),
                str_literal(&p.update_where),
                str_literal(&p.skip),
                str_literal(&p.then)
            ))
            .collect::<Vec<_>>()
            .join(", "),
    );
    [many, connect_fields.join("; "), children]
}

/// `impl UpdateGraph`: the statement's parts, the steps and where errors come from, the
/// checks and split of the children into parts, their binding and the root's assignments.
fn update_graph_impl(
    model: &Model<'_>,
    graph: &UpdateGraphModel,
    statement: &UpdateGraphStatement,
) -> String {
    let name = &graph.name;
    let (take, names, types) = update_graph_parts(model, graph, statement);
    let binds = update_graph_binds(model, graph, statement);
    let names: String = names.iter().map(|n| format!("{n},")).collect();
    format!(
        "impl ::writegraph::UpdateGraph for {name} {{
            {consts}
            type Parts = ({types});
            fn sets_nothing(&self) -> bool {{ {nothing} }}
            fn check(&self) -> ::writegraph::Result<()> {{ {checks} Ok(()) }}
            fn parts(&mut self) -> ::writegraph::Result<Self::Parts> {{
                {take}
                Ok(({names}))
            }}
            fn bind_parts<'a>(parts: &'a Self::Parts, params: &mut ::std::vec::Vec<::writegraph::write::Param<'a>>) {{
                let ({names}) = parts;
                params.extend({binds});
            }}
            fn assign_root<'a>(&'a self, set: &mut ::writegraph::write::Assignments<'a>) {{ {assignments} }}
            {assign_child}
        }}\n",
        consts = update_graph_consts(model, graph, statement, &binds),
        types = types.iter().map(|t| format!("{t},")).collect::<String>(),
        nothing = update_graph_nothing(graph),
        checks = update_graph_checks(model, graph),
        binds = super::params_macro(&binds),
        assignments = "::writegraph::Patch::assign(&self.root, set);".to_owned() + &connect_assignments(model, graph, statement),
        assign_child = assign_child(graph, statement),
    )
}

/// The consts of `impl UpdateGraph` (and its root type): the statement's parts, the steps,
/// where errors come from and what the parameters `binds` hold.
fn update_graph_consts(
    model: &Model<'_>,
    graph: &UpdateGraphModel,
    statement: &UpdateGraphStatement,
    binds: &[super::Bound],
) -> String {
    let root = &model.tables[graph.root];
    let mut steps = vec![format!("{:?}", graph.root_tag)];
    for (child, counts) in graph.children.iter().zip(&statement.counts) {
        steps.push(format!("{:?} {counts:?}", child.tag));
    }
    format!(
        "type Root = {row};
        const NAME: &'static str = {name:?};
        {statement}const SELECT_SQL: &'static str = {root_select};
        const ROOT_COLUMNS: usize = {root_columns};
        {graph_steps}
        {connect_steps}{child_patches}",
        row = root.rust_name,
        name = graph.name,
        statement = statement_assigned(
            "graph",
            ("UPDATE_SQL", &statement.root_update),
            &[
                ("UPDATE_WHERE_SQL", &statement.root_update_tail),
                ("TAIL_SQL", &statement.tail)
            ],
            &patches_shown(statement),
        ),
        root_select = str_literal(&statement.root_select),
        root_columns = root.columns.len(),
        graph_steps = super::graph_steps_call(
            &steps,
            &update_graph_attribution(model, graph),
            ("PART_PARAMS", binds)
        ),
        connect_steps = connect_steps(model, graph),
        child_patches = child_patches(statement),
    )
}

/// `writegraph::update_graph!`: `impl UpdateGraph` and `impl UpdateGraphMany` from one list
/// of the graph's fields, whose one-graph `parts`, `bind_parts`, `check`, `sets_nothing` and
/// `assign_root` the runtime writes. `None` for a graph it does not cover (connects, child
/// patches, no batch statement, a child bound otherwise in the batch than alone): it is
/// written out ([`update_graph_impl`]).
fn update_graph_call(
    model: &Model<'_>,
    graph: &UpdateGraphModel,
    statement: &UpdateGraphStatement,
) -> Option<String> {
    let many = statement.many.as_ref()?;
    let alone_as_in_batch = graph
        .children
        .iter()
        .zip(statement.children.iter().zip(&many.children))
        .all(|(child, (alone, batch))| {
            let table = &model.tables[child.table];
            let columns = |params: &[crate::plan::Param]| -> Vec<_> {
                params
                    .iter()
                    .filter_map(|&p| super::insert::batch_field(table, p))
                    .collect()
            };
            child.strategy.kind() != Strategy::Update
                && !(alone.active && alone.delete)
                && (alone.active, alone.delete) == (batch.active, batch.delete)
                && columns(&alone.rows) == columns(&batch.rows)
        });
    if !graph.connects.is_empty() || !statement.patches.is_empty() || !alone_as_in_batch {
        return None;
    }
    let unique: Vec<String> = graph
        .children
        .iter()
        .filter_map(|child| {
            let table = &model.tables[child.table];
            let key = child.repeat_key.as_ref()?;
            let read = super::insert::key_reader(table, key, "row")?;
            let columns: Vec<String> = key
                .iter()
                .map(|&i| format!("{:?}", table.columns[i].column.name))
                .collect();
            Some(format!(
                "{}: |row| {read}, {:?}, [{}]",
                child.field,
                table.table.name.to_string(),
                columns.join(", ")
            ))
        })
        .collect();
    let binds = update_graph_binds(model, graph, statement);
    let [many, _, children] = many_arguments(model, graph, many);
    Some(format!(
        "::writegraph::update_graph! {{
            impl {name} {{ {consts} }}
            root {root_tag:?};
            unique [{unique}];
            many {mode} {many};
            connects [];
            {children}
        }}\n",
        name = graph.name,
        consts = update_graph_consts(model, graph, statement, &binds),
        root_tag = graph.root_tag,
        unique = unique.join("; "),
        mode = if graph.lock_root { "locking" } else { "plain" },
    ))
}

/// The child patches' parts of the statement as its doc shows them, after `TAIL_SQL`: each
/// with a placeholder assignment, then the text after it.
fn patches_shown(statement: &UpdateGraphStatement) -> String {
    statement
        .patches
        .iter()
        .map(|p| crate::plan::with_set_placeholder(&p.update, &p.update_where) + &p.then)
        .collect()
}

/// `CHILD_PATCHES`, the parts of the statement around each child patch's SET list; empty
/// when no child step applies a patch.
fn child_patches(statement: &UpdateGraphStatement) -> String {
    if statement.patches.is_empty() {
        return String::new();
    }
    let patches: Vec<String> = statement
        .patches
        .iter()
        .map(|p| {
            format!(
                "::writegraph::write::ChildPatch {{ update: {}, update_where: {}, skip: {}, then: {} }}",
                str_literal(&p.update),
                str_literal(&p.update_where),
                str_literal(&p.skip),
                str_literal(&p.then)
            )
        })
        .collect();
    format!(
        "\nconst CHILD_PATCHES: &'static [::writegraph::write::ChildPatch] = &[{}];",
        patches.join(", ")
    )
}

/// `assign_child`: for child patch `n` (of `CHILD_PATCHES`), its field's patch assigned as
/// the table's patch assigns it; empty when no child step applies a patch.
fn assign_child(graph: &UpdateGraphModel, statement: &UpdateGraphStatement) -> String {
    if statement.patches.is_empty() {
        return String::new();
    }
    let mut body = String::new();
    for (n, patch) in statement.patches.iter().enumerate() {
        let child = &graph.children[patch.child];
        let _ = writeln!(
            body,
            "if let ({n}, Some(patch)) = (index, &self.{}) {{ ::writegraph::Patch::assign(patch, set); }}",
            child.field,
        );
    }
    format!(
        "fn assign_child<'a>(&'a self, index: usize, set: &mut ::writegraph::write::Assignments<'a>) {{ {body} }}"
    )
}

/// The assignment of each connect's `set_fk` when its field is given: the looked-up key.
fn connect_assignments(
    model: &Model<'_>,
    graph: &UpdateGraphModel,
    statement: &UpdateGraphStatement,
) -> String {
    let root = &model.tables[graph.root];
    graph
        .connects
        .iter()
        .zip(&statement.connect_values)
        .map(|(connect, value)| {
            let column = crate::ident::quote_ident(&root.columns[connect.set_fk].column.name);
            format!(
                "if self.{}.is_some() {{ set.set_value({column:?}, {value:?}); }}\n",
                connect.field
            )
        })
        .collect()
}

/// `CONNECT_STEPS`, the (tag, table) of each connect; empty when none.
fn connect_steps(model: &Model<'_>, graph: &UpdateGraphModel) -> String {
    let links = graph.children.iter().filter_map(|c| match &c.strategy {
        UpdateStrategy::Links(links) => Some((&c.tag, links.far)),
        _ => None,
    });
    let steps: Vec<String> = graph
        .connects
        .iter()
        .map(|c| (&c.tag, c.table))
        .chain(links)
        .map(|(tag, table)| format!("({tag:?}, {:?})", model.tables[table].table.name.to_sql()))
        .collect();
    if steps.is_empty() {
        return String::new();
    }
    format!(
        "const CONNECT_STEPS: &'static [(&'static str, &'static str)] = &[{}];",
        steps.join(", ")
    )
}

/// The graph struct with its doc (the steps and their strategies): the root's patch, then
/// one field per connect and per child.
fn update_graph_fields(model: &Model<'_>, graph: &UpdateGraphModel) -> String {
    let root = &model.tables[graph.root];
    let name = &graph.name;
    let mut text = format!(
        "Update graph `{name}`: a patch of one row of `{}` and of its children, in one statement{}.\n\nSteps:\n- `{}`",
        root.table.name,
        if graph.lock_root { " (after a lock on the root row)" } else { "" },
        graph.root_tag
    );
    for connect in &graph.connects {
        let _ = write!(
            text,
            "\n- `{}`: `{}` (connect by key)",
            connect.tag, connect.field
        );
    }
    for child in &graph.children {
        let strategy = child.strategy.as_str();
        let _ = write!(text, "\n- `{}`: `{}` ({strategy})", child.tag, child.field);
    }
    let mut code = doc(&text);
    code.push_str(&super::attributes::type_attributes(&graph.attributes));
    let _ = writeln!(
        code,
        "#[derive(Debug, Clone, PartialEq, Default)]\npub struct {name} {{"
    );
    let patch = format!("{}Patch", root.rust_name);
    code.push_str(&doc(&format!(
        "The changes to the root row (`{patch}`, the patch `update_by_id` takes): the columns it sets are assigned, every other is left as it is; with none set, the root is only checked for existence. Step `{}`.",
        graph.root_tag
    )));
    code.push_str(super::attributes::flattened(&graph.attributes));
    code.push_str(&super::attributes::field_attributes(
        &graph.attributes,
        "root",
        &patch,
    ));
    let _ = writeln!(code, "pub root: {patch},");
    for connect in &graph.connects {
        let parent = &model.tables[connect.table];
        let by = &parent.columns[connect.by];
        code.push_str(&doc(&format!(
            "The `{}` of the row of `{}` to connect the root to: its key goes into `{}`, looked up in the same statement. No row with it is `Error::NotFound` naming this step, and nothing changes. `None` leaves `{}` as it is. Step `{}`.",
            by.column.name,
            parent.table.name,
            root.columns[connect.set_fk].column.name,
            root.columns[connect.set_fk].column.name,
            connect.tag
        )));
        let field_type = format!("::std::option::Option<{}>", by.ty.rust);
        code.push_str(&super::attributes::field_attributes(
            &graph.attributes,
            &connect.field,
            &field_type,
        ));
        let _ = writeln!(code, "pub {}: {field_type},", connect.field);
    }
    for child in &graph.children {
        let table = &model.tables[child.table];
        let ty = &child.row_type;
        let strategy = match (child.strategy.kind(), child.many) {
            (Strategy::Replace, true) => "`Some(rows)` deletes the root's children, then inserts `rows`; `Some(vec![])` deletes them all.",
            (Strategy::Append, _) => "`Some(rows)` inserts `rows`; the other children stay.",
            (Strategy::Upsert, true) => "`Some(rows)` inserts or updates `rows` by their conflict key; the other children stay.",
            (Strategy::Diff, _) => "`Some(rows)` upserts `rows` by key and deletes the root's children whose key is not among them; `Some(vec![])` deletes them all.",
            (Strategy::Replace, false) => "`Some(Some(row))` replaces the child; `Some(None)` deletes it.",
            (Strategy::Upsert, false) => "`Some(Some(row))` inserts or updates the child; `Some(None)` deletes it.",
            (Strategy::Update, _) => "`Some(patch)` assigns the columns `patch` sets in every one of them; a patch that sets none changes nothing.",
            (Strategy::Set, _) => "`Some(keys)` links the root to exactly the rows these keys name: join rows to others are deleted, missing ones inserted; `Some(vec![])` unlinks them all.",
            (Strategy::Add, _) => "`Some(keys)` links the root to the rows these keys name too; the other links stay.",
            (Strategy::Remove, _) => "`Some(keys)` deletes the root's links to the rows these keys name.",
        };
        let selected = child
            .condition
            .as_ref()
            .map(|c| format!(" (those where `{c}`)"))
            .unwrap_or_default();
        let what = match &child.strategy {
            UpdateStrategy::Links(links) => {
                let far = &model.tables[links.far];
                format!(
                    "Links to rows of `{}` by their `{}`, as join rows of `{}`: each key is looked up in the statement, and one that names no row is `Error::NotFound` naming this step, with nothing changed. `None` leaves the links untouched.",
                    far.table.name, far.columns[links.by].column.name, table.table.name
                )
            }
            _ => format!(
                "Children in `{}`{selected}. `None` leaves them untouched.",
                table.table.name
            ),
        };
        code.push_str(&doc(&format!("{what} {strategy} Step `{}`.", child.tag)));
        let field_type = if child.strategy.kind() == Strategy::Update {
            format!("::std::option::Option<{ty}>")
        } else if child.many {
            format!("::std::option::Option<::std::vec::Vec<{ty}>>")
        } else {
            format!("::std::option::Option<::std::option::Option<{ty}>>")
        };
        code.push_str(&super::attributes::field_attributes(
            &graph.attributes,
            &child.field,
            &field_type,
        ));
        let _ = writeln!(code, "pub {}: {field_type},", child.field);
    }
    code.push_str("}\n");

    code
}

/// The setters of the root's columns and of the children.
fn update_graph_setters(model: &Model<'_>, graph: &UpdateGraphModel) -> String {
    let root = &model.tables[graph.root];
    let name = &graph.name;
    let updatable: Vec<&ColumnModel<'_>> = root.columns.iter().filter(|c| c.updatable).collect();
    let mut code = String::new();
    for column in &updatable {
        let s = crate::ident::setter_stem(&column.field);
        code.push_str(&super::insert::setter_line(
            "root",
            column,
            &format!("with_{s} / with_{s}_opt"),
        ));
    }
    for connect in &graph.connects {
        let f = &connect.field;
        let ty = &model.tables[connect.table].columns[connect.by].ty.rust;
        let _ = writeln!(code, "unset {f} with_{f} / with_{f}_opt: {ty};");
    }
    for child in &graph.children {
        let f = &child.field;
        let ty = &child.row_type;
        if child.strategy.kind() == Strategy::Update {
            let _ = writeln!(code, "maybe {f} with_{f} / with_{f}_opt: {ty};");
        } else if child.many {
            let _ = writeln!(code, "children {f} with_{f}: {ty};");
        } else {
            let _ = writeln!(code, "child {f} with_{f} / with_{f}_opt: {ty};");
        }
    }
    format!(
        "impl {name} {{\n{}}}\n::writegraph::update_graph_root!({name}: {}Patch);\n",
        super::setters_call(&code),
        root.rust_name
    )
}

/// The condition that the graph does nothing (no root column and no child or connect field
/// set): no operation at all is a validation error, before any SQL.
fn update_graph_nothing(graph: &UpdateGraphModel) -> String {
    let mut nothing = vec!["::writegraph::Patch::sets_nothing(&self.root)".to_owned()];
    nothing.extend(
        graph
            .children
            .iter()
            .map(|c| &c.field)
            .chain(graph.connects.iter().map(|c| &c.field))
            .map(|f| format!("self.{f}.is_none()")),
    );
    nothing.join(" && ")
}

/// The checks of the given values and the code that turns each child field into column
/// vectors (`part{n}`) and flags (`active{n}`, `delete{n}`): the code, and the parts' names
/// and types in `Parts`.
fn update_graph_parts(
    model: &Model<'_>,
    graph: &UpdateGraphModel,
    statement: &UpdateGraphStatement,
) -> (String, Vec<String>, Vec<String>) {
    let root = &model.tables[graph.root];
    let name = &graph.name;
    let mut parts = String::new();
    parts.push_str("self.check()?;\n");
    let (mut names, mut types) = (Vec::new(), Vec::new());
    // Each connect: given with its column set too is a contradiction; its key, as an array.
    for (n, connect) in graph.connects.iter().enumerate() {
        let (f, id) = (&connect.field, &root.columns[connect.set_fk].field);
        let by = &model.tables[connect.table].columns[connect.by];
        let _ = writeln!(
            parts,
            "if self.root.{id}.is_some() && self.{f}.is_some() {{ return Err(::writegraph::write::conflicting_parent({name:?}, {f:?}, {id:?})); }}
            let link{n}: ::std::vec::Vec<{ty}> = self.{f}.clone().into_iter().collect();",
            ty = by.ty.rust
        );
        names.push(format!("link{n}"));
        types.push(format!("::std::vec::Vec<{}>", by.ty.rust));
    }
    for (n, (child, params)) in graph.children.iter().zip(&statement.children).enumerate() {
        if child.strategy.kind() == Strategy::Update {
            // Its patch stays in the graph: `assign_child` reads it.
            continue;
        }
        let table = &model.tables[child.table];
        let f = &child.field;
        if params.active {
            let _ = writeln!(parts, "let active{n} = self.{f}.is_some();");
            names.push(format!("active{n}"));
            types.push("bool".to_owned());
        }
        if params.delete {
            let _ = writeln!(parts, "let delete{n} = matches!(self.{f}, Some(None));");
            names.push(format!("delete{n}"));
            types.push("bool".to_owned());
        }
        if let UpdateStrategy::Links(links) = &child.strategy {
            // The keys, bound as one array.
            let ty = &model.tables[links.far].columns[links.by].ty.rust;
            let _ = writeln!(
                parts,
                "let part{n}: ::std::vec::Vec<{ty}> = self.{f}.take().unwrap_or_default();"
            );
            names.push(format!("part{n}"));
            types.push(format!("::std::vec::Vec<{ty}>"));
            continue;
        }
        let rows = if child.many {
            format!("self.{f}.take().unwrap_or_default()")
        } else {
            format!("self.{f}.take().flatten().into_iter().collect()")
        };
        let _ = writeln!(
            parts,
            "let part{n} = {}::columns({rows}).map_err(|e| e.in_step({:?}))?;",
            child.row_type, child.tag
        );
        names.push(format!("part{n}"));
        types.push(format!("New{}Columns", table.rust_name));
    }
    (parts, names, types)
}

/// The checks of the given values that need no database, in `fn check`: the root patch's
/// text values, each child patch's, and the given children's repeated keys.
fn update_graph_checks(model: &Model<'_>, graph: &UpdateGraphModel) -> String {
    let name = &graph.name;
    let mut parts = String::new();
    // The root patch's text values, checked as its table's patch checks them.
    let _ = writeln!(
        parts,
        "::writegraph::Patch::check(&self.root).map_err(|e| e.in_step({:?}))?;",
        graph.root_tag
    );
    // A child patch's text values, checked like the root's.
    for child in &graph.children {
        if child.strategy.kind() == Strategy::Update {
            let _ = writeln!(
                parts,
                "if let Some(patch) = &self.{} {{ ::writegraph::Patch::check(patch).map_err(|e| e.in_step({:?}))?; }}",
                child.field, child.tag
            );
        }
    }
    // Given children must not repeat the key they are upserted by.
    for child in &graph.children {
        if let Some(key) = &child.repeat_key {
            let rows = format!("self.{}.as_deref().unwrap_or_default()", child.field);
            let table = &model.tables[child.table];
            parts.push_str(&repeated_key_check(
                name,
                table,
                key,
                (&child.field, &rows),
                "GraphDiff",
            ));
        }
    }
    parts
}

/// Each child's flags and rows after the root's key, in `$n` order: the plan's parameters
/// of each child.
fn update_graph_binds(
    model: &Model<'_>,
    graph: &UpdateGraphModel,
    statement: &UpdateGraphStatement,
) -> Vec<super::Bound> {
    let mut binds = Vec::new();
    // The keys of the parents the root connects to are of the root's step (0); each child's
    // parameters are of its own, after the root's in `STEPS`.
    for (n, connect) in graph.connects.iter().enumerate() {
        let by = &model.tables[connect.table].columns[connect.by];
        binds.push(
            super::Bound::value(&format!("link{n}"), &by.ty.param_array_type)
                .holding(by.column.name.clone()),
        );
    }
    for (n, params) in statement.children.iter().enumerate() {
        let step = n + 1;
        if params.active {
            binds.push(
                super::Bound::value(&format!("active{n}"), "BOOL")
                    .holding("(whether the field is given)")
                    .of_step(step),
            );
        }
        if params.delete {
            binds.push(
                super::Bound::value(&format!("delete{n}"), "BOOL")
                    .holding("(whether the row is deleted)")
                    .of_step(step),
            );
        }
        if graph.children[n].strategy.kind() == Strategy::Update {
            continue;
        }
        if let UpdateStrategy::Links(links) = &graph.children[n].strategy {
            let by = &model.tables[links.far].columns[links.by];
            binds.push(
                super::Bound::value(&format!("part{n}"), &by.ty.param_array_type)
                    .holding(by.column.name.clone())
                    .of_step(step),
            );
            continue;
        }
        let table = &model.tables[graph.children[n].table];
        binds.extend(
            batch_param_values(table, &params.rows, &format!("part{n}"))
                .into_iter()
                .map(|bound| bound.of_step(step)),
        );
    }
    binds
}

/// The graph's `ErrorSteps`: which step a database error is about.
fn update_graph_attribution(model: &Model<'_>, graph: &UpdateGraphModel) -> String {
    // Which step a database error is about. A child's foreign key to the root cannot fail
    // on the child's side (the graph fills it with the root's key), so a violation of it
    // comes from the root's UPDATE, although PostgreSQL names the child's table.
    let mut effects = vec![StepEffect {
        tag: &graph.root_tag,
        table: graph.root,
        deletes: false,
        updates_key: true,
        filled: None,
    }];
    // A child patch may assign any updatable column: a key other rows reference, or the
    // fk itself, which then can fail on the child's side.
    effects.extend(graph.children.iter().map(|c| {
        let patches = c.strategy.kind() == Strategy::Update;
        StepEffect {
            tag: &c.tag,
            table: c.table,
            deletes: matches!(
                c.strategy.kind(),
                Strategy::Replace | Strategy::Diff | Strategy::Set | Strategy::Remove
            ) || (!c.many && c.strategy.kind() == Strategy::Upsert),
            updates_key: patches,
            filled: (!patches).then_some(c.takes_parent_column.0),
        }
    }));
    let tags: Vec<&str> = effects.iter().map(|e| e.tag).collect();
    step_attribution(model, &effects, &tags)
}
