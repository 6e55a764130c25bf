//! Update graphs: a patch of the root row and a strategy per child collection.

use std::collections::BTreeSet;

use super::conflict::default_update;
use super::edges::{
    check_child_edge, child_link, is_field_name, own_row_type, reserved_type_names, setter_clashes,
    Parent, RowTypes, Tags,
};
use super::resolve::{column_index, table_index, Names};
use toml::Spanned;

use crate::config::{
    self, GraphsConfig, ManyToManyConfig, UpdateChildConfig, UpdateGraphConfig,
    UpdateManyToManyConfig,
};
use crate::error::Diagnostic;
use crate::ident;
use crate::model::{
    Conflict, DiffKey, LinkSync, Links, StepRef, Strategy, TableModel, UpdateChild, UpdateConnect,
    UpdateGraphModel, UpdateStrategy,
};
use crate::source::SourceFile;

/// Resolves and checks every update graph; every mistake in every graph is reported.
pub fn validate_update_graphs(
    names: &Names<'_>,
    config: &GraphsConfig,
    tables: &[TableModel<'_>],
    file: &SourceFile,
    (taken_names, row_types): (&BTreeSet<String>, &mut RowTypes),
) -> Result<Vec<UpdateGraphModel>, Vec<Diagnostic>> {
    let mut graphs = Vec::new();
    let mut errors = Vec::new();
    let reserved = reserved_type_names(taken_names, config);
    for (name, graph) in &config.update {
        let checked = graph_name(config, name, file, taken_names).map_err(|e| vec![e]);
        let names_taken = (name.get_ref().as_str(), &reserved, &mut *row_types);
        let graph_model = |()| update_graph(names, tables, names_taken, graph, file);
        match checked.and_then(graph_model) {
            Ok(model) => graphs.push(model),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(graphs)
    } else {
        Err(errors)
    }
}

/// The graph's name is a Rust type name that no insert graph, table or enum type has.
fn graph_name(
    config: &GraphsConfig,
    name: &Spanned<String>,
    file: &SourceFile,
    taken_names: &BTreeSet<String>,
) -> Result<(), Diagnostic> {
    let graph_name = name.get_ref();
    if !ident::is_rust_type_name(graph_name) {
        return Err(config::error_at(
            file,
            name,
            format!("`{graph_name}` is not a Rust type name"),
        )
        .with_help("name graphs in UpperCamelCase, like `OrderPatchGraph`"));
    }
    let insert_graph = config.insert.keys().find(|k| k.get_ref() == graph_name);
    if !taken_names.contains(graph_name) && insert_graph.is_none() {
        return Ok(());
    }
    let (message, help) = match insert_graph {
        Some(other) => (
            format!("insert graph and update graph are both named `{graph_name}`"),
            format!(
                "give every graph its own name (the insert graph is on line {}), like `{graph_name}Patch`",
                crate::error::Location::from_offset(&file.path, &file.text, other.span().start).line
            ),
        ),
        None => (
            format!("graph `{graph_name}` has the name of a type generated for a table or enum"),
            format!("give the graph another name, like `{graph_name}Graph`"),
        ),
    };
    Err(config::error_at(file, name, message).with_help(help))
}

/// One update graph: its root (which needs a primary key to update by), its children in
/// declaration order with their tags, and no two setters of one name.
fn update_graph(
    names: &Names<'_>,
    tables: &[TableModel<'_>],
    (graph_name, reserved, row_types): (&str, &BTreeSet<String>, &mut RowTypes),
    graph: &UpdateGraphConfig,
    file: &SourceFile,
) -> Result<UpdateGraphModel, Vec<Diagnostic>> {
    let root = table_index(names, tables, &graph.root, file).map_err(|e| vec![e])?;
    let root_model = &tables[root];
    if root_model.primary_key.is_empty() {
        return Err(vec![config::error_at(
            file,
            &graph.root,
            format!(
                "root `{}` has no primary key to update by",
                root_model.table.name
            ),
        )
        .with_help("update graphs address the root by its primary key")]);
    }
    // `root` is the field of the root's patch.
    let edge_fields = graph
        .has_many
        .iter()
        .chain(&graph.has_one)
        .map(|e| &e.field)
        .chain(graph.belongs_to.iter().map(|e| &e.field))
        .chain(graph.many_to_many.iter().map(|e| &e.field));
    let root_field: Vec<Diagnostic> = edge_fields
        .filter(|f| ident::rust_field_name(f.get_ref()) == "root")
        .map(|f| {
            config::error_at(
                file,
                f,
                format!("field `root` of update graph `{graph_name}` is taken: it holds the root's patch"),
            )
            .with_help("name the edge's field after the related table, like `items`")
        })
        .collect();
    if !root_field.is_empty() {
        return Err(root_field);
    }
    let names_taken = (graph_name, reserved, row_types);
    let mut children = children(names, tables, root, names_taken, graph, file)?;
    let mut errors = Vec::new();
    for edge in &graph.many_to_many {
        let taken = children.iter().any(|c| c.field == *edge.field.get_ref())
            || root_model
                .columns
                .iter()
                .any(|c| c.updatable && c.field == *edge.field.get_ref());
        if taken || !is_field_name(edge.field.get_ref()) {
            errors.push(
                config::error_at(
                    file,
                    &edge.field,
                    format!(
                        "field `{}` is not a Rust field name, or another field of the graph has it",
                        edge.field.get_ref()
                    ),
                )
                .with_help("name the edge's field after the far table, like `tags`"),
            );
            continue;
        }
        match links_child(names, tables, root, edge, file) {
            Ok(child) => children.push(child),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let root_setters = root_model
        .columns
        .iter()
        .filter(|c| c.updatable)
        .map(|c| (c, true));
    // A patch field (`update`) has `with_x_opt` too; a has_many of rows does not.
    let child_setters = graph
        .has_many
        .iter()
        .map(|e| (&e.field, *e.strategy.get_ref() == Strategy::Update))
        .chain(graph.has_one.iter().map(|e| (&e.field, true)));
    let connect_setters = graph
        .belongs_to
        .iter()
        .map(|e| (&e.field, true))
        .chain(graph.many_to_many.iter().map(|e| (&e.field, false)));
    let clashes = setter_clashes(
        root_model,
        root_setters,
        child_setters.chain(connect_setters),
        file,
    );
    if !clashes.is_empty() {
        return Err(clashes);
    }
    let mut connects = connects(names, tables, root, graph, file)?;
    let mut tags = Tags::new(root_model);
    for connect in &mut connects {
        connect.tag = tags.step(None, "belongs_to", &tables[connect.table], &connect.field);
    }
    for child in &mut children {
        let kind = match (&child.strategy, child.many) {
            (UpdateStrategy::Links(_), _) => "many_to_many",
            (_, true) => "has_many",
            (_, false) => "has_one",
        };
        child.tag = tags.step(None, kind, &tables[child.table], &child.field);
    }
    let writes_many =
        !tables[root].primary_key.is_empty() && children.iter().all(|c| c.parent == StepRef::Root);
    Ok(UpdateGraphModel {
        writes_many,
        name: graph_name.to_owned(),
        root,
        lock_root: graph.lock_root,
        children,
        connects,
        root_tag: tags.root(),
        attributes: Default::default(),
    })
}

/// The parents the root connects to by a unique key: belongs_to edges resolved as in insert
/// graphs, each with `connect_by` (an update graph writes no parent), its field not a root
/// column's or a child's.
fn connects(
    names: &Names<'_>,
    tables: &[TableModel<'_>],
    root: usize,
    graph: &UpdateGraphConfig,
    file: &SourceFile,
) -> Result<Vec<UpdateConnect>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut connects = Vec::new();
    let children: Vec<&str> = graph
        .has_many
        .iter()
        .chain(&graph.has_one)
        .map(|e| e.field.get_ref().as_str())
        .collect();
    for edge in &graph.belongs_to {
        let field = ident::rust_field_name(edge.field.get_ref());
        let taken = tables[root]
            .columns
            .iter()
            .any(|c| c.updatable && c.field == field)
            || children.contains(&edge.field.get_ref().as_str())
            || connects.iter().any(|c: &UpdateConnect| c.field == field);
        if taken || !is_field_name(edge.field.get_ref()) {
            errors.push(
                config::error_at(
                    file,
                    &edge.field,
                    format!(
                        "field `{}` is not a Rust field name, or another field of the graph has it",
                        edge.field.get_ref()
                    ),
                )
                .with_help("name the edge's field after the parent, like `author`"),
            );
            continue;
        }
        if edge.connect_by.is_none() {
            errors.push(
                config::error_at(
                    file,
                    &edge.field,
                    format!(
                        "belongs_to `{}` of an update graph needs `connect_by`: update graphs connect the root to an existing parent",
                        edge.field.get_ref()
                    ),
                )
                .with_help("add connect_by = \"<a unique column of the parent>\""),
            );
            continue;
        }
        if let Some(nested) = edge.belongs_to.first() {
            errors.push(
                config::error_at(
                    file,
                    &nested.field,
                    format!(
                        "belongs_to `{}` of an update graph connects to an existing row: it writes no row for a nested belongs_to to fill",
                        edge.field.get_ref()
                    ),
                )
                .with_help("remove the nested belongs_to edges"),
            );
            continue;
        }
        let parent = Parent {
            step: StepRef::Root,
            table: root,
        };
        match super::insert_graphs::belongs_to_step(names, tables, parent, edge, field, file) {
            Ok(step) => {
                if let (Some(by), Some((set_fk, key))) =
                    (step.connect_by, step.kind.sets_parent_column())
                {
                    connects.push(UpdateConnect {
                        field: step.field,
                        table: step.table,
                        set_fk,
                        key,
                        by,
                        tag: String::new(),
                    });
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(connects)
    } else {
        Err(errors)
    }
}

/// The graph's has_many and has_one children, in declaration order: each field a Rust name
/// that no root column and no other edge has, each edge resolved by [`update_child`].
fn children(
    names: &Names<'_>,
    tables: &[TableModel<'_>],
    root: usize,
    (graph_name, reserved, row_types): (&str, &BTreeSet<String>, &mut RowTypes),
    graph: &UpdateGraphConfig,
    file: &SourceFile,
) -> Result<Vec<UpdateChild>, Vec<Diagnostic>> {
    let root_model = &tables[root];
    let mut errors = Vec::new();
    let mut children: Vec<(usize, UpdateChild)> = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    for (many, list) in [(true, &graph.has_many), (false, &graph.has_one)] {
        for edge in list {
            let field = ident::rust_field_name(edge.field.get_ref());
            let clash = if !is_field_name(edge.field.get_ref()) {
                Some((
                    format!("`{}` is not a Rust field name", edge.field.get_ref()),
                    "use lowercase letters, digits and underscores, like `items`",
                ))
            } else if root_model
                .columns
                .iter()
                .any(|c| c.updatable && c.field == field)
            {
                Some((
                    format!(
                        "field `{}` clashes with column `{field}` of the root `{}`",
                        edge.field.get_ref(),
                        root_model.table.name
                    ),
                    "name the edge's field differently, e.g. after the related table",
                ))
            } else if fields.contains(&field) {
                Some((
                    format!(
                        "field `{}` appears twice in graph `{graph_name}`",
                        edge.field.get_ref()
                    ),
                    "give every edge its own field name",
                ))
            } else {
                None
            };
            if let Some((message, help)) = clash {
                errors.push(config::error_at(file, &edge.field, message).with_help(help));
                continue;
            }
            fields.push(field.clone());
            let parent = Parent {
                step: StepRef::Root,
                table: root,
            };
            let child =
                update_child(names, tables, parent, many, field, edge, file).and_then(|child| {
                    if matches!(child.strategy, UpdateStrategy::Update) {
                        // Its field holds the table's patch, not rows.
                        return Ok(child);
                    }
                    let filled = (
                        tables,
                        child.table,
                        &[child.takes_parent_column.0][..],
                        &[][..],
                    );
                    let row_type = own_row_type(filled, &edge.field, reserved, row_types, file)?;
                    Ok(UpdateChild { row_type, ..child })
                });
            match child {
                Ok(child) => children.push((edge.field.span().start, child)),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    children.sort_by_key(|(position, _)| *position);
    Ok(children.into_iter().map(|(_, c)| c).collect())
}

/// A many_to_many edge of an update graph: a step of the join table under the root whose
/// field holds keys of the far table (`connect_by`, else its primary key), looked up in the
/// statement. The join table's other columns must have defaults: the step writes only its
/// two keys.
fn links_child(
    names: &Names<'_>,
    tables: &[TableModel<'_>],
    root: usize,
    edge: &UpdateManyToManyConfig,
    file: &SourceFile,
) -> Result<UpdateChild, Diagnostic> {
    let sync = match edge.strategy.get_ref() {
        Strategy::Set => LinkSync::Set,
        Strategy::Add => LinkSync::Add,
        Strategy::Remove => LinkSync::Remove,
        other => {
            return Err(config::error_at(
                file,
                &edge.strategy,
                format!(
                    "a many_to_many edge of an update graph sets, adds or removes links, not `{}`",
                    other.as_str()
                ),
            )
            .with_help("use set, add or remove"))
        }
    };
    let link = ManyToManyConfig {
        field: edge.field.clone(),
        table: edge.table.clone(),
        through: edge.through.clone(),
        fk: edge.fk.clone(),
        far_fk: edge.far_fk.clone(),
        connect_by: edge.connect_by.clone(),
    };
    let parent = Parent {
        step: StepRef::Root,
        table: root,
    };
    let resolved = super::insert_graphs::join_link(names, tables, parent, &link, file)?;
    let join = &tables[resolved.join];
    let written = [resolved.takes_parent_column.0, resolved.far_fk];
    let needs_value = join.columns.iter().enumerate().find(|&(i, c)| {
        !written.contains(&i) && c.insert == Some(crate::model::InsertKind::Required)
    });
    if let (Some((_, column)), false) = (needs_value, sync == LinkSync::Remove) {
        return Err(config::error_at(
            file,
            &edge.through,
            format!(
                "`{}` has a column `{}` without a default, which the links of an update graph cannot give",
                join.table.name, column.column.name
            ),
        )
        .with_help("give the column a DEFAULT, or write the join rows with an update graph's has_many of the join table"));
    }
    Ok(UpdateChild {
        parent: StepRef::Root,
        condition: None,
        many: true,
        row_type: tables[resolved.far].columns[resolved.by].ty.rust.clone(),
        field: ident::rust_field_name(edge.field.get_ref()),
        table: resolved.join,
        strategy: UpdateStrategy::Links(Links {
            sync,
            far: resolved.far,
            far_fk: resolved.far_fk,
            key: resolved.key,
            by: resolved.by,
        }),
        takes_parent_column: resolved.takes_parent_column,
        tag: String::new(),
        repeat_key: None,
    })
}

/// One child edge of an update graph: its table, the foreign key to its parent, and what
/// its strategy needs (a conflict key for upsert, a unique `key` for diff, a unique fk for
/// has_one, a column a patch can assign for update).
pub(super) fn update_child(
    names: &Names<'_>,
    tables: &[TableModel<'_>],
    parent: Parent,
    many: bool,
    field: String,
    edge: &UpdateChildConfig,
    file: &SourceFile,
) -> Result<UpdateChild, Diagnostic> {
    let table = table_index(names, tables, &edge.table, file)?;
    let child = &tables[table];
    let link = child_link(
        tables,
        parent.table,
        table,
        edge.fk.as_ref(),
        edge.fk_unchecked,
        &edge.table,
        file,
    )?;
    let strategy = *edge.strategy.get_ref();
    if matches!(strategy, Strategy::Set | Strategy::Add | Strategy::Remove) {
        return Err(config::error_at(
            file,
            &edge.strategy,
            format!(
                "strategy `{}` is for many_to_many edges",
                strategy.as_str()
            ),
        )
        .with_help("use replace, append, upsert, diff or update, or make the edge [[update.<Graph>.many_to_many]]"));
    }
    if !many && strategy.many_only() {
        return Err(config::error_at(
            file,
            &edge.strategy,
            format!(
                "strategy `{}` is for has_many edges, not has_one",
                strategy.as_str()
            ),
        )
        .with_help(format!(
            "use `{}` or `{}`",
            Strategy::Replace.as_str(),
            Strategy::Upsert.as_str()
        )));
    }
    if strategy == Strategy::Update && !child.columns.iter().any(|c| c.updatable) {
        return Err(config::error_at(
            file,
            &edge.strategy,
            format!(
                "strategy `update` patches the children, but `{}` has no column an update may assign",
                child.table.name
            ),
        )
        .with_help(
            "its columns are generated, identity ALWAYS or `database_fills`; use another strategy",
        ));
    }
    if strategy == Strategy::Upsert {
        check_child_edge(tables, table, link.0, false, true, &edge.strategy, file)?;
    }
    let fk_name = child.columns[link.0].column.name.clone();
    let unique_keys = || super::conflict::unique_keys_help(child.table, false);
    if !many && !is_unique_key(child, std::slice::from_ref(&fk_name)) {
        return Err(config::error_at(
            file,
            &edge.table,
            format!(
                "has_one child `{}` can have many rows per root: `{fk_name}` is not unique",
                child.table.name
            ),
        )
        .with_help(format!(
            "declare `{fk_name}` UNIQUE (or primary key) in the DDL, or use has_many; {}",
            unique_keys()
        )));
    }
    if strategy == Strategy::Upsert && child.conflict.is_none() {
        return Err(config::error_at(
            file,
            &edge.strategy,
            format!(
                "table `{}` has no conflict key to upsert by",
                child.table.name
            ),
        )
        .with_help(format!(
            "set one: [tables.{}] conflict_target = [...]; {}",
            child.table.name.name,
            unique_keys()
        )));
    }
    let key = diff_key(tables, table, &fk_name, edge, file)?;
    let repeat_key = match (strategy, &child.conflict) {
        _ if !many => None,
        (Strategy::Diff, _) => Some(key.clone()),
        (Strategy::Upsert, Some(conflict)) => Some(conflict.repeat_key(Some(link.0))),
        _ => None,
    };
    let strategy = match strategy {
        Strategy::Replace => UpdateStrategy::Replace,
        Strategy::Append => UpdateStrategy::Append,
        Strategy::Upsert => UpdateStrategy::Upsert,
        Strategy::Update | Strategy::Set | Strategy::Add | Strategy::Remove => {
            UpdateStrategy::Update
        }
        Strategy::Diff => {
            let mut conflict_key = vec![link.0];
            conflict_key.extend(&key);
            UpdateStrategy::Diff(DiffKey {
                key,
                conflict: Conflict {
                    constraint: None,
                    update: default_update(&child.columns, &child.primary_key, &conflict_key),
                    key: conflict_key,
                },
            })
        }
    };
    let condition = edge
        .condition
        .as_ref()
        .map(|c| {
            super::condition::child_condition(&tables[table], c, edge.strategy.get_ref(), file)
        })
        .transpose()?;
    let row_type = match strategy {
        UpdateStrategy::Update => format!("{}Patch", tables[table].rust_name),
        _ => format!("New{}", tables[table].rust_name),
    };
    Ok(UpdateChild {
        parent: parent.step,
        condition,
        many,
        row_type,
        field,
        table,
        strategy,
        takes_parent_column: link,
        tag: String::new(),
        repeat_key,
    })
}

/// diff: the `key` columns, which with the fk must be a unique key of the child. Other
/// strategies take no `key`.
fn diff_key(
    tables: &[TableModel<'_>],
    table: usize,
    fk_name: &str,
    edge: &UpdateChildConfig,
    file: &SourceFile,
) -> Result<Vec<usize>, Diagnostic> {
    let child = &tables[table];
    let strategy = *edge.strategy.get_ref();
    let unique_keys = || super::conflict::unique_keys_help(child.table, false);
    let k = match (&edge.key, strategy) {
        (None, Strategy::Diff) => {
            return Err(config::error_at(
                file,
                &edge.strategy,
                "strategy `diff` needs `key`: the columns that identify a child within its root",
            )
            .with_help(format!(
                "add key = [...] such that (`{fk_name}`, key...) is a unique key of `{}`; {}",
                child.table.name,
                unique_keys()
            )));
        }
        (Some(k), Strategy::Diff) => k,
        (Some(k), _) => {
            return Err(config::error_at(
                file,
                k,
                format!(
                    "`key` is only used by strategy `diff`, not `{}`",
                    strategy.as_str()
                ),
            )
            .with_help("remove `key`, or use strategy = \"diff\""));
        }
        (None, _) => return Ok(Vec::new()),
    };
    let mut key = Vec::new();
    for name in k.get_ref() {
        key.push(column_index(tables, table, name, file)?);
    }
    if let Some(fk_in_key) = k.get_ref().iter().find(|n| *n.get_ref() == fk_name) {
        return Err(config::error_at(
            file,
            fk_in_key,
            format!("`key` names the fk `{fk_name}`, which diff adds to the key itself"),
        )
        .with_help(format!("remove `{fk_name}` from key; {}", unique_keys())));
    }
    let mut columns: Vec<String> = vec![fk_name.to_owned()];
    columns.extend(key.iter().map(|&i| child.columns[i].column.name.clone()));
    if !is_unique_key(child, &columns) {
        return Err(config::error_at(
            file,
            k,
            format!(
                "({}) is not a unique key of `{}`, so ON CONFLICT cannot use it",
                columns.join(", "),
                child.table.name
            ),
        )
        .with_help(format!(
            "diff upserts by the fk plus `key`; {}",
            unique_keys()
        )));
    }
    Ok(key)
}

/// These columns, in any order, are the primary key or a non-partial unique key.
fn is_unique_key(table: &TableModel<'_>, columns: &[String]) -> bool {
    let same =
        |key: &[String]| key.len() == columns.len() && key.iter().all(|k| columns.contains(k));
    same(&table.table.primary_key)
        || table
            .table
            .uniques
            .iter()
            .any(|u| !u.partial && same(&u.columns))
}
