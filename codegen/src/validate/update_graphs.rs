//! Update graphs: a patch of the root row and a strategy per child collection.

use std::collections::BTreeSet;

use super::conflict::default_update;
use super::edges::{check_child_edge, child_link, is_field_name, setter_clashes, Tags};
use super::resolve::{column_index, table_index, Names};
use crate::config::{self, GraphsConfig, UpdateChildConfig};
use crate::error::Diagnostic;
use crate::ident;
use crate::model::{Conflict, Strategy, TableModel, UpdateChild, UpdateGraphModel};
use crate::source::SourceFile;

/// Resolves and checks every update graph.
pub fn validate_update_graphs(
    names: &Names<'_>,
    config: &GraphsConfig,
    tables: &[TableModel<'_>],
    file: &SourceFile,
    taken_names: &BTreeSet<String>,
) -> Result<Vec<UpdateGraphModel>, Vec<Diagnostic>> {
    let mut graphs = Vec::new();
    let mut errors = Vec::new();
    for (name, graph) in &config.update {
        let graph_name = name.get_ref();
        let valid_name = ident::is_rust_type_name(graph_name);
        if !valid_name {
            errors.push(
                config::error_at(
                    file,
                    name,
                    format!("`{graph_name}` is not a Rust type name"),
                )
                .with_help("name graphs in UpperCamelCase, like `OrderPatchGraph`"),
            );
            continue;
        }
        let insert_graph = config.insert.keys().find(|k| k.get_ref() == graph_name);
        if taken_names.contains(graph_name) || insert_graph.is_some() {
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
            errors.push(config::error_at(file, name, message).with_help(help));
            continue;
        }
        let root = match table_index(names, tables, &graph.root, file) {
            Ok(root) => root,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if tables[root].primary_key.is_empty() {
            errors.push(
                config::error_at(
                    file,
                    &graph.root,
                    format!(
                        "root `{}` has no primary key to update by",
                        tables[root].table.name
                    ),
                )
                .with_help("update graphs address the root by its primary key"),
            );
            continue;
        }
        let root_model = &tables[root];
        let errors_before = errors.len();
        let mut children: Vec<(usize, UpdateChild)> = Vec::new();
        let mut fields: Vec<String> = Vec::new();
        for (many, list) in [(true, &graph.has_many), (false, &graph.has_one)] {
            for edge in list {
                let field = ident::rust_field_name(edge.field.get_ref());
                if !is_field_name(edge.field.get_ref()) {
                    errors.push(
                        config::error_at(
                            file,
                            &edge.field,
                            format!("`{}` is not a Rust field name", edge.field.get_ref()),
                        )
                        .with_help("use lowercase letters, digits and underscores, like `items`"),
                    );
                    continue;
                }
                if root_model
                    .columns
                    .iter()
                    .any(|c| c.updatable && c.field == field)
                {
                    errors.push(
                        config::error_at(
                            file,
                            &edge.field,
                            format!(
                                "field `{}` clashes with column `{field}` of the root `{}`",
                                edge.field.get_ref(),
                                root_model.table.name
                            ),
                        )
                        .with_help(
                            "name the edge's field differently, e.g. after the related table",
                        ),
                    );
                    continue;
                }
                if fields.contains(&field) {
                    errors.push(
                        config::error_at(
                            file,
                            &edge.field,
                            format!(
                                "field `{}` appears twice in graph `{graph_name}`",
                                edge.field.get_ref()
                            ),
                        )
                        .with_help("give every edge its own field name"),
                    );
                    continue;
                }
                fields.push(field.clone());
                match update_child(names, tables, root, many, field, edge, file) {
                    Ok(child) => children.push((edge.field.span().start, child)),
                    Err(e) => errors.push(e),
                }
            }
        }
        let root_setters = root_model
            .columns
            .iter()
            .filter(|c| c.updatable)
            .map(|c| (c, true));
        let child_setters = graph
            .has_many
            .iter()
            .map(|e| (&e.field, false))
            .chain(graph.has_one.iter().map(|e| (&e.field, true)));
        // Only for fields that passed the checks above (each mistake is reported once).
        let clashes = if errors.len() == errors_before {
            setter_clashes(root_model, root_setters, child_setters, file)
        } else {
            Vec::new()
        };
        if !clashes.is_empty() {
            errors.extend(clashes);
            continue;
        }
        children.sort_by_key(|(position, _)| *position);
        let mut tags = Tags::new(root_model);
        let mut children: Vec<UpdateChild> = children.into_iter().map(|(_, c)| c).collect();
        for child in &mut children {
            let kind = if child.many { "has_many" } else { "has_one" };
            child.tag = tags.step(kind, &tables[child.table], &child.field);
        }
        let root_tag = tags.root();
        graphs.push(UpdateGraphModel {
            name: graph_name.clone(),
            root,
            lock_root: graph.lock_root,
            children,
            root_tag,
            attributes: Default::default(),
        });
    }
    if errors.is_empty() {
        Ok(graphs)
    } else {
        Err(errors)
    }
}

pub(super) fn update_child(
    names: &Names<'_>,
    tables: &[TableModel<'_>],
    root: usize,
    many: bool,
    field: String,
    edge: &UpdateChildConfig,
    file: &SourceFile,
) -> Result<UpdateChild, Diagnostic> {
    let table = table_index(names, tables, &edge.table, file)?;
    let child = &tables[table];
    let link = child_link(
        tables,
        root,
        table,
        edge.fk.as_ref(),
        edge.fk_unchecked,
        &edge.table,
        file,
    )?;
    let strategy = *edge.strategy.get_ref();
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
    if strategy == Strategy::Upsert {
        check_child_edge(tables, table, link.0, false, true, &edge.strategy, file)?;
    }
    let fk_name = child.columns[link.0].column.name.clone();
    let unique_keys = || super::conflict::unique_keys_help(child.table, false);
    let is_unique = |columns: &[String]| {
        let same =
            |key: &[String]| key.len() == columns.len() && key.iter().all(|k| columns.contains(k));
        same(&child.table.primary_key)
            || child
                .table
                .uniques
                .iter()
                .any(|u| !u.partial && same(&u.columns))
    };
    if !many && !is_unique(std::slice::from_ref(&fk_name)) {
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
    let mut key = Vec::new();
    match (&edge.key, strategy) {
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
        (Some(k), Strategy::Diff) => {
            for name in k.get_ref() {
                key.push(column_index(tables, table, name, file)?);
            }
            let mut columns: Vec<String> = vec![fk_name.clone()];
            columns.extend(key.iter().map(|&i| child.columns[i].column.name.clone()));
            if let Some(fk_in_key) = k.get_ref().iter().find(|n| *n.get_ref() == fk_name) {
                return Err(config::error_at(
                    file,
                    fk_in_key,
                    format!("`key` names the fk `{fk_name}`, which diff adds to the key itself"),
                )
                .with_help(format!("remove `{fk_name}` from key; {}", unique_keys())));
            }
            if !is_unique(&columns) {
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
        }
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
        (None, _) => {}
    }
    let repeat_key = match (strategy, &child.conflict) {
        _ if !many => None,
        (Strategy::Diff, _) => Some(key.clone()),
        (Strategy::Upsert, Some(conflict)) => Some(conflict.repeat_key(Some(link.0))),
        _ => None,
    };
    let diff_conflict = (strategy == Strategy::Diff).then(|| {
        let mut conflict_key = vec![link.0];
        conflict_key.extend(&key);
        Conflict {
            constraint: None,
            update: default_update(&child.columns, &child.primary_key, &conflict_key),
            key: conflict_key,
        }
    });
    Ok(UpdateChild {
        many,
        field,
        table,
        strategy,
        link,
        key,
        tag: String::new(),
        repeat_key,
        diff_conflict,
    })
}
