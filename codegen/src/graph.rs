//! Validation of the write graphs in `graphs.toml` (part of the validate stage): each graph
//! is resolved against the catalog into a [`GraphModel`], a root and an ordered list of
//! steps, each of which knows how it links to the root. Every mistake is reported at its
//! `graphs.toml` line and column with the fix.

use std::collections::BTreeSet;

use toml::Spanned;

use crate::catalog::{Catalog, ForeignKey, QualifiedName, Table};
use crate::config::{self, GraphsConfig, InsertGraphConfig};
use crate::error::Diagnostic;
use crate::ident;
use crate::source::SourceFile;
use crate::validate::{resolve_table, TableModel};

/// An insert graph.
#[derive(Debug, Clone)]
pub struct GraphModel {
    /// The generated struct's name (`NewProductGraph`).
    pub name: String,
    /// Index of the root table in `Model::tables`.
    pub root: usize,
    /// Index (in the root's columns) of the field the root id comes from, when the
    /// application supplies it.
    pub root_id_field: Option<usize>,
    /// Steps in execution order: belongs_to, before_insert, (the root), has_one/has_many,
    /// after_insert; each group in declaration order.
    pub steps: Vec<GraphStep>,
    /// Tag of the root step (`graph:root:products`).
    pub root_tag: String,
}

/// What a step is, relative to the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// A parent written first; its id goes into a root column.
    BelongsTo,
    /// An unrelated row written before the root.
    BeforeInsert,
    /// One child referencing the root.
    HasOne,
    /// Child rows referencing the root.
    HasMany,
    /// Rows written after the root, optionally given its id.
    AfterInsert,
}

impl StepKind {
    /// The word in tags and `graphs.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::BelongsTo => "belongs_to",
            StepKind::BeforeInsert => "before_insert",
            StepKind::HasOne => "has_one",
            StepKind::HasMany => "has_many",
            StepKind::AfterInsert => "after_insert",
        }
    }

    /// The step runs after the root and may reference it.
    pub fn after_root(self) -> bool {
        matches!(
            self,
            StepKind::HasOne | StepKind::HasMany | StepKind::AfterInsert
        )
    }
}

/// How many rows a step's field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    /// `NewRow`: exactly one.
    One,
    /// `Option<NewRow>`.
    Optional,
    /// `Vec<NewRow>`.
    Many,
}

/// One step of a graph.
#[derive(Debug, Clone)]
pub struct GraphStep {
    /// What the step is.
    pub kind: StepKind,
    /// Rust field of the graph struct.
    pub field: String,
    /// Index of the step's table in `Model::tables`.
    pub table: usize,
    /// Upsert by the table's conflict key instead of a plain insert.
    pub upsert: bool,
    /// How many rows the field holds.
    pub cardinality: Cardinality,
    /// belongs_to: the parent must be given unless the root's column is.
    pub required: bool,
    /// belongs_to: index of the root column that receives the parent's key, and index of the
    /// parent's key column.
    pub sets_root_column: Option<(usize, usize)>,
    /// Steps after the root: index of the step's column that receives the root's key, and
    /// index of the root column it copies.
    pub takes_root_column: Option<(usize, usize)>,
    /// Stable tag, unique within the graph (`graph:has_many:order_items`).
    pub tag: String,
}

/// The foreign key that links `child` to `root` when `fk` is left out: the only
/// single-column foreign key of the child (or of all its partitions) that references the root.
fn implied_fk(catalog: &Catalog, child: &Table, root: &QualifiedName) -> Option<ForeignKey> {
    let partition_keys = catalog.partition_foreign_keys(child);
    let mut links = child
        .foreign_keys
        .iter()
        .chain(&partition_keys)
        .filter(|f| &f.ref_table == root && f.columns.len() == 1);
    match (links.next(), links.next()) {
        (Some(one), None) => Some(one.clone()),
        _ => None,
    }
}

/// The columns graphs fill, as (table, column): insert structs hold them as `Option` so that
/// callers never invent a value a graph replaces. Best effort: names that do not resolve are
/// reported by [`validate_insert_graphs`].
pub fn injected_columns(
    catalog: &Catalog,
    config: &GraphsConfig,
) -> BTreeSet<(QualifiedName, String)> {
    let mut injected = BTreeSet::new();
    for graph in config.insert.values() {
        let Ok(root) = resolve_table(catalog, graph.root.get_ref()) else {
            continue;
        };
        for edge in &graph.belongs_to {
            injected.insert((root.name.clone(), edge.set_fk.get_ref().clone()));
        }
        let children = graph
            .has_one
            .iter()
            .chain(&graph.has_many)
            .map(|c| (&c.table, &c.fk));
        let after = graph.after_insert.iter().map(|c| (&c.table, &c.fk));
        for (table, fk) in children.chain(after) {
            let Ok(child) = resolve_table(catalog, table.get_ref()) else {
                continue;
            };
            match fk {
                Some(fk) => {
                    injected.insert((child.name.clone(), fk.get_ref().clone()));
                }
                None => {
                    if let Some(fk) = implied_fk(catalog, child, &root.name) {
                        injected.insert((child.name.clone(), fk.columns[0].clone()));
                    }
                }
            }
        }
    }
    for graph in config.update.values() {
        let Ok(root) = resolve_table(catalog, graph.root.get_ref()) else {
            continue;
        };
        for child in graph.has_many.iter().chain(&graph.has_one) {
            let Ok(table) = resolve_table(catalog, child.table.get_ref()) else {
                continue;
            };
            match &child.fk {
                Some(fk) => {
                    injected.insert((table.name.clone(), fk.get_ref().clone()));
                }
                None => {
                    if let Some(fk) = implied_fk(catalog, table, &root.name) {
                        injected.insert((table.name.clone(), fk.columns[0].clone()));
                    }
                }
            }
        }
    }
    injected
}

/// Resolves and checks every insert graph.
pub fn validate_insert_graphs(
    catalog: &Catalog,
    config: &GraphsConfig,
    tables: &[TableModel<'_>],
    file: &SourceFile,
    taken_names: &BTreeSet<String>,
) -> Result<Vec<GraphModel>, Vec<Diagnostic>> {
    let mut graphs = Vec::new();
    let mut errors = Vec::new();
    for (name, graph) in &config.insert {
        match insert_graph(catalog, name, graph, tables, file, taken_names) {
            Ok(model) => graphs.push(model),
            Err(mut found) => errors.append(&mut found),
        }
    }
    if errors.is_empty() {
        Ok(graphs)
    } else {
        Err(errors)
    }
}

fn table_index(
    catalog: &Catalog,
    tables: &[TableModel<'_>],
    name: &Spanned<String>,
    file: &SourceFile,
) -> Result<usize, Diagnostic> {
    let table = resolve_table(catalog, name.get_ref()).map_err(|help| {
        config::error_at(file, name, format!("unknown table `{}`", name.get_ref())).with_help(help)
    })?;
    tables
        .iter()
        .position(|t| t.table.name == table.name)
        .ok_or_else(|| {
            config::error_at(
                file,
                name,
                format!("table `{}` cannot be written", table.name),
            )
        })
}

fn column_index(
    tables: &[TableModel<'_>],
    table: usize,
    name: &Spanned<String>,
    file: &SourceFile,
) -> Result<usize, Diagnostic> {
    let model = &tables[table];
    model
        .columns
        .iter()
        .position(|c| c.column.name == *name.get_ref())
        .ok_or_else(|| {
            config::error_at(
                file,
                name,
                format!(
                    "unknown column `{}` in table `{}`",
                    name.get_ref(),
                    model.table.name
                ),
            )
            .with_help(format!(
                "columns are: {}",
                model
                    .columns
                    .iter()
                    .map(|c| c.column.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// `insert` or `upsert` (`upsert_returning` for belongs_to), checked against the table.
fn upsert_mode(
    mode: Option<&Spanned<String>>,
    allowed: [&str; 2],
    tables: &[TableModel<'_>],
    table: usize,
    file: &SourceFile,
) -> Result<bool, Diagnostic> {
    let Some(mode) = mode else { return Ok(false) };
    let upsert = if mode.get_ref() == allowed[0] {
        false
    } else if mode.get_ref() == allowed[1] {
        true
    } else {
        return Err(
            config::error_at(file, mode, format!("unknown mode `{}`", mode.get_ref()))
                .with_help(format!("use `{}` or `{}`", allowed[0], allowed[1])),
        );
    };
    if upsert && tables[table].conflict.is_none() {
        return Err(config::error_at(
            file,
            mode,
            format!(
                "table `{}` has no conflict key to upsert by",
                tables[table].table.name
            ),
        )
        .with_help(format!(
            "set one in graphs.toml: [tables.{}] conflict_target = [...], or use mode = \"{}\"",
            tables[table].table.name.name, allowed[0]
        )));
    }
    Ok(upsert)
}

/// The child column that references the root, and the root column it references.
fn child_link(
    tables: &[TableModel<'_>],
    root: usize,
    child: usize,
    fk: Option<&Spanned<String>>,
    fk_unchecked: bool,
    at: &Spanned<String>,
    file: &SourceFile,
) -> Result<(usize, usize), Diagnostic> {
    let root_table = tables[root].table;
    let child_table = tables[child].table;
    let links: Vec<&ForeignKey> = child_table
        .foreign_keys
        .iter()
        .chain(&tables[child].partition_foreign_keys)
        .filter(|f| f.ref_table == root_table.name)
        .collect();
    let describe = |fks: &[&ForeignKey]| {
        fks.iter()
            .map(|f| {
                format!(
                    "{} ({}) references {} ({})",
                    f.name,
                    f.columns.join(", "),
                    f.ref_table,
                    f.ref_columns.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let root_key = |file: &SourceFile, at: &Spanned<String>| -> Result<usize, Diagnostic> {
        match tables[root].primary_key.as_slice() {
            [one] => Ok(*one),
            _ => Err(config::error_at(
                file,
                at,
                format!(
                    "root `{}` has no single-column primary key to give `{}`",
                    root_table.name, child_table.name
                ),
            )
            .with_help("give the root a one-column primary key")),
        }
    };
    match fk {
        Some(fk) => {
            let column = column_index(tables, child, fk, file)?;
            let declared = links
                .iter()
                .find(|f| f.columns.len() == 1 && f.columns[0] == *fk.get_ref());
            match declared {
                Some(f) => {
                    let Some(root_column) = tables[root].columns.iter().position(|c| c.column.name == f.ref_columns[0]) else {
                        return Err(config::error_at(file, fk, "the foreign key's referenced column is not a root column"));
                    };
                    Ok((column, root_column))
                }
                None if fk_unchecked => Ok((column, root_key(file, fk)?)),
                None => Err(config::error_at(
                    file,
                    fk,
                    format!("no foreign key of `{}` declares `{}` as a reference to `{}`", child_table.name, fk.get_ref(), root_table.name),
                )
                .with_help(if links.is_empty() {
                    "declare the foreign key in the DDL, or add `fk_unchecked = true` to fill the column anyway".to_owned()
                } else {
                    format!("foreign keys to the root are: {}; or add `fk_unchecked = true`", describe(&links))
                })),
            }
        }
        None => {
            let single: Vec<&ForeignKey> = links
                .iter()
                .copied()
                .filter(|f| f.columns.len() == 1)
                .collect();
            match single.as_slice() {
                [one] => {
                    let column = tables[child].columns.iter().position(|c| c.column.name == one.columns[0]);
                    let root_column = tables[root].columns.iter().position(|c| c.column.name == one.ref_columns[0]);
                    match (column, root_column) {
                        (Some(c), Some(r)) => Ok((c, r)),
                        _ => Err(config::error_at(file, at, "the foreign key's columns are not in the tables")),
                    }
                }
                [] => Err(config::error_at(
                    file,
                    at,
                    format!("`fk` is not set and no foreign key of `{}` references `{}`", child_table.name, root_table.name),
                )
                .with_help(if child_table.partitioned {
                    "declare the foreign key on the table or on every one of its partitions, or set `fk = \"<column>\"` with `fk_unchecked = true`"
                } else {
                    "set `fk = \"<column>\"` (with `fk_unchecked = true` if the DDL declares no foreign key)"
                })),
                several => Err(config::error_at(
                    file,
                    at,
                    format!("`fk` is not set and {} foreign keys of `{}` reference `{}`", several.len(), child_table.name, root_table.name),
                )
                .with_help(format!("choose one with `fk = \"<column>\"`: {}", describe(several)))),
            }
        }
    }
}

fn insert_graph(
    catalog: &Catalog,
    name: &Spanned<String>,
    graph: &InsertGraphConfig,
    tables: &[TableModel<'_>],
    file: &SourceFile,
    taken_names: &BTreeSet<String>,
) -> Result<GraphModel, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let graph_name = name.get_ref();
    let valid_name = ident::is_rust_type_name(graph_name);
    if !valid_name {
        errors.push(
            config::error_at(
                file,
                name,
                format!("`{graph_name}` is not a Rust type name"),
            )
            .with_help("name graphs in UpperCamelCase, like `NewOrderGraph`"),
        );
    } else if taken_names.contains(graph_name) {
        errors.push(
            config::error_at(
                file,
                name,
                format!(
                    "graph `{graph_name}` has the name of a type generated for a table or enum"
                ),
            )
            .with_help(format!(
                "give the graph another name, like `{graph_name}Graph`"
            )),
        );
    }
    let root = match table_index(catalog, tables, &graph.root, file) {
        Ok(root) => root,
        Err(e) => return Err(vec![e]),
    };
    let root_model = &tables[root];

    // Field names: unique within the graph, and not the name of a root column's field.
    let mut fields: Vec<String> = Vec::new();
    let mut check_field = |field: &Spanned<String>, errors: &mut Vec<Diagnostic>| -> String {
        let rust = ident::rust_field_name(field.get_ref());
        if !is_field_name(field.get_ref()) {
            errors.push(
                config::error_at(
                    file,
                    field,
                    format!("`{}` is not a Rust field name", field.get_ref()),
                )
                .with_help("use lowercase letters, digits and underscores, like `items`"),
            );
        } else if root_model
            .columns
            .iter()
            .any(|c| c.insert.is_some() && c.field == rust)
        {
            errors.push(
                config::error_at(
                    file,
                    field,
                    format!(
                        "field `{}` clashes with column `{rust}` of the root `{}`",
                        field.get_ref(),
                        root_model.table.name
                    ),
                )
                .with_help("name the edge's field differently, e.g. after the related table"),
            );
        } else if fields.contains(&rust) {
            errors.push(
                config::error_at(
                    file,
                    field,
                    format!(
                        "field `{}` appears twice in graph `{graph_name}`",
                        field.get_ref()
                    ),
                )
                .with_help("give every edge its own field name"),
            );
        }
        fields.push(rust.clone());
        rust
    };

    let root_id_field = match &graph.root_id_field {
        None => None,
        Some(field) => match column_index(tables, root, field, file) {
            Ok(i) if root_model.primary_key == [i] && root_model.columns[i].insert.is_none() => {
                errors.push(
                    config::error_at(
                        file,
                        field,
                        format!(
                            "primary key `{}` of `{}` cannot be written (generated or identity ALWAYS), so the application cannot supply it",
                            field.get_ref(),
                            root_model.table.name
                        ),
                    )
                    .with_help("remove root_id_field (the id then comes from RETURNING), or declare the column GENERATED BY DEFAULT"),
                );
                None
            }
            Ok(i) if root_model.primary_key == [i] => Some(i),
            Ok(_) => {
                errors.push(
                    config::error_at(
                        file,
                        field,
                        format!(
                            "`{}` is not the primary key of `{}`",
                            field.get_ref(),
                            root_model.table.name
                        ),
                    )
                    .with_help(format!(
                        "root_id_field names the root's one-column primary key{}",
                        match root_model.primary_key.as_slice() {
                            [one] => format!(" (`{}`)", root_model.columns[*one].column.name),
                            _ => String::new(),
                        }
                    )),
                );
                None
            }
            Err(e) => {
                errors.push(e);
                None
            }
        },
    };

    let mut steps: Vec<(usize, GraphStep)> = Vec::new();
    for edge in &graph.belongs_to {
        let field = check_field(&edge.field, &mut errors);
        let result = (|| -> Result<GraphStep, Diagnostic> {
            let parent = table_index(catalog, tables, &edge.table, file)?;
            let set_fk = column_index(tables, root, &edge.set_fk, file)?;
            let upsert = upsert_mode(
                edge.mode.as_ref(),
                ["insert_returning", "upsert_returning"],
                tables,
                parent,
                file,
            )?;
            let parent_key = match tables[parent].primary_key.as_slice() {
                [one] => *one,
                _ => return Err(config::error_at(
                    file,
                    &edge.table,
                    format!(
                        "parent `{}` has no single-column primary key",
                        tables[parent].table.name
                    ),
                )
                .with_help(
                    "belongs_to needs the parent's id: give the parent a one-column primary key",
                )),
            };
            let declared = root_model
                .table
                .foreign_keys
                .iter()
                .chain(&root_model.partition_foreign_keys)
                .find(|f| {
                    f.ref_table == tables[parent].table.name
                        && f.columns == [edge.set_fk.get_ref().clone()]
                });
            let parent_key_name = &tables[parent].columns[parent_key].column.name;
            if let Some(f) = declared.filter(|f| f.ref_columns != [parent_key_name.clone()]) {
                return Err(config::error_at(
                    file,
                    &edge.set_fk,
                    format!(
                        "`{}` references `{}` ({}), but belongs_to fills it with the parent's primary key `{parent_key_name}`",
                        edge.set_fk.get_ref(),
                        tables[parent].table.name,
                        f.ref_columns.join(", ")
                    ),
                )
                .with_help(format!(
                    "make the foreign key reference `{}` ({parent_key_name}) in the DDL",
                    tables[parent].table.name
                )));
            }
            if declared.is_none() {
                return Err(config::error_at(
                    file,
                    &edge.set_fk,
                    format!(
                        "no foreign key of `{}` makes `{}` reference `{}`",
                        root_model.table.name,
                        edge.set_fk.get_ref(),
                        tables[parent].table.name
                    ),
                )
                .with_help(
                    "declare the foreign key in the DDL (REFERENCES), or fix set_fk or table",
                ));
            }
            Ok(GraphStep {
                kind: StepKind::BelongsTo,
                field: field.clone(),
                table: parent,
                upsert,
                cardinality: Cardinality::Optional,
                required: edge.required,
                sets_root_column: Some((set_fk, parent_key)),
                takes_root_column: None,
                tag: String::new(),
            })
        })();
        match result {
            Ok(step) => steps.push((edge.field.span().start, step)),
            Err(e) => errors.push(e),
        }
    }
    for (kind, list) in [
        (StepKind::BeforeInsert, &graph.before_insert),
        (StepKind::AfterInsert, &graph.after_insert),
    ] {
        for edge in list {
            let field = check_field(&edge.field, &mut errors);
            let result = (|| -> Result<GraphStep, Diagnostic> {
                let table = table_index(catalog, tables, &edge.table, file)?;
                let upsert = upsert_mode(
                    edge.mode.as_ref(),
                    ["insert", "upsert"],
                    tables,
                    table,
                    file,
                )?;
                let takes_root_column = match (&edge.fk, kind) {
                    (Some(fk), StepKind::BeforeInsert) => {
                        return Err(config::error_at(
                            file,
                            fk,
                            "before_insert runs before the root exists and cannot take its id",
                        )
                        .with_help("use after_insert for rows that reference the root"))
                    }
                    (Some(fk), _) => Some(child_link(
                        tables,
                        root,
                        table,
                        Some(fk),
                        edge.fk_unchecked,
                        &edge.field,
                        file,
                    )?),
                    (None, _) => None,
                };
                if edge.many && edge.required {
                    return Err(config::error_at(
                        file,
                        &edge.field,
                        format!("`{}` sets both `many` and `required`", edge.field.get_ref()),
                    )
                    .with_help("remove one: a `many` field is a Vec, which may be empty; a `required` field is exactly one row"));
                }
                let cardinality = if edge.many {
                    Cardinality::Many
                } else if edge.required {
                    Cardinality::One
                } else {
                    Cardinality::Optional
                };
                Ok(GraphStep {
                    kind,
                    field: field.clone(),
                    table,
                    upsert,
                    cardinality,
                    required: edge.required,
                    sets_root_column: None,
                    takes_root_column,
                    tag: String::new(),
                })
            })();
            match result {
                Ok(step) => steps.push((edge.field.span().start, step)),
                Err(e) => errors.push(e),
            }
        }
    }
    for (kind, list) in [
        (StepKind::HasOne, &graph.has_one),
        (StepKind::HasMany, &graph.has_many),
    ] {
        for edge in list {
            let field = check_field(&edge.field, &mut errors);
            let result = (|| -> Result<GraphStep, Diagnostic> {
                let table = table_index(catalog, tables, &edge.table, file)?;
                let upsert = upsert_mode(
                    edge.mode.as_ref(),
                    ["insert", "upsert"],
                    tables,
                    table,
                    file,
                )?;
                let link = child_link(
                    tables,
                    root,
                    table,
                    edge.fk.as_ref(),
                    edge.fk_unchecked,
                    &edge.table,
                    file,
                )?;
                check_child_edge(
                    tables,
                    table,
                    link.0,
                    kind == StepKind::HasOne,
                    upsert,
                    &edge.table,
                    file,
                )?;
                if kind == StepKind::HasMany && edge.required {
                    return Err(config::error_at(
                        file,
                        &edge.field,
                        format!("has_many `{}` cannot be `required`", edge.field.get_ref()),
                    )
                    .with_help(
                        "remove `required = true`: a has_many field is a Vec, which may be empty",
                    ));
                }
                let cardinality = match (kind, edge.required) {
                    (StepKind::HasMany, _) => Cardinality::Many,
                    (_, true) => Cardinality::One,
                    (_, false) => Cardinality::Optional,
                };
                Ok(GraphStep {
                    kind,
                    field: field.clone(),
                    table,
                    upsert,
                    cardinality,
                    required: edge.required,
                    sets_root_column: None,
                    takes_root_column: Some(link),
                    tag: String::new(),
                })
            })();
            match result {
                Ok(step) => steps.push((edge.field.span().start, step)),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let field_spans: Vec<&Spanned<String>> = graph
        .belongs_to
        .iter()
        .map(|e| &e.field)
        .chain(graph.before_insert.iter().map(|e| &e.field))
        .chain(graph.has_one.iter().map(|e| &e.field))
        .chain(graph.has_many.iter().map(|e| &e.field))
        .chain(graph.after_insert.iter().map(|e| &e.field))
        .collect();
    let root_setters = root_model
        .columns
        .iter()
        .filter(|c| c.insert.is_some())
        .map(|c| (c, c.insert != Some(crate::validate::InsertKind::Required)));
    let step_setters = steps.iter().filter_map(|(position, step)| {
        let span = field_spans.iter().find(|f| f.span().start == *position)?;
        Some((*span, step.cardinality == Cardinality::Optional))
    });
    let clashes = setter_clashes(root_model, root_setters, step_setters, file);
    if !clashes.is_empty() {
        return Err(clashes);
    }

    // Execution order: by group, then by position in graphs.toml.
    let group = |kind: StepKind| match kind {
        StepKind::BelongsTo => 0,
        StepKind::BeforeInsert => 1,
        StepKind::HasOne | StepKind::HasMany => 2,
        StepKind::AfterInsert => 3,
    };
    steps.sort_by_key(|(position, step)| (group(step.kind), *position));
    let mut steps: Vec<GraphStep> = steps.into_iter().map(|(_, s)| s).collect();
    let root_tag = format!("graph:root:{}", root_model.table.name.name);
    let mut tags: Vec<String> = vec![root_tag.clone()];
    for step in &mut steps {
        let mut tag = format!(
            "graph:{}:{}",
            step.kind.as_str(),
            tables[step.table].table.name.name
        );
        if tags.contains(&tag) {
            tag = format!("{tag}:{}", step.field);
        }
        tags.push(tag.clone());
        step.tag = tag;
    }
    Ok(GraphModel {
        name: graph_name.clone(),
        root,
        root_id_field,
        steps,
        root_tag,
    })
}

/// Diagnostics for setters of a graph struct that two of its parts would both generate:
/// `with_x_opt` of an optional field `x` and of a root column `x_opt`, say, which rustc
/// would report inside the generated file. `root` lists the root's columns with whether
/// they get a `with_*_opt` setter; `fields` the edge fields, likewise.
fn setter_clashes<'c>(
    root_model: &TableModel<'_>,
    root: impl Iterator<Item = (&'c crate::validate::ColumnModel<'c>, bool)>,
    fields: impl Iterator<Item = (&'c Spanned<String>, bool)>,
    file: &SourceFile,
) -> Vec<Diagnostic> {
    let mut owners: Vec<(String, String)> = Vec::new();
    for (column, has_opt) in root {
        let stem = ident::setter_stem(&column.field);
        let owner = format!(
            "column `{}` of the root `{}`",
            column.column.name, root_model.table.name
        );
        owners.push((format!("with_{stem}"), owner.clone()));
        if has_opt {
            owners.push((format!("with_{stem}_opt"), owner));
        }
    }
    let mut errors = Vec::new();
    for (field, has_opt) in fields {
        let name = ident::rust_field_name(field.get_ref());
        let mut setters = vec![format!("with_{name}")];
        if has_opt {
            setters.push(format!("with_{name}_opt"));
        }
        let clash = setters
            .iter()
            .find_map(|setter| owners.iter().find(|(s, _)| s == setter));
        if let Some((setter, owner)) = clash {
            errors.push(
                config::error_at(
                    file,
                    field,
                    format!(
                        "the setter `{setter}` of field `{}` is also the setter of {owner}",
                        field.get_ref()
                    ),
                )
                .with_help("name the edge's field differently, e.g. after the related table"),
            );
            continue;
        }
        let owner = format!("field `{}`", field.get_ref());
        owners.extend(setters.into_iter().map(|s| (s, owner.clone())));
    }
    errors
}

/// An update graph: a patch of the root row and a strategy per child collection.
#[derive(Debug, Clone)]
pub struct UpdateGraphModel {
    /// The generated struct's name (`OrderPatchGraph`).
    pub name: String,
    /// Index of the root table in `Model::tables`.
    pub root: usize,
    /// Lock the root row before the graph statement.
    pub lock_root: bool,
    /// Child steps in declaration order.
    pub children: Vec<UpdateChild>,
    /// Tag of the root step (`graph:root:orders`).
    pub root_tag: String,
}

/// How an update graph brings a child collection to the given rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Delete the root's children, then insert the given ones.
    Replace,
    /// Insert the given children; keep the others.
    Append,
    /// Insert or update the given children by the child's conflict key.
    Upsert,
    /// Upsert the given children by (fk, key), and delete the root's children whose key is
    /// not among them.
    Diff,
}

/// One child step of an update graph.
#[derive(Debug, Clone)]
pub struct UpdateChild {
    /// `has_many` (`Option<Vec<_>>`) or `has_one` (`Option<Option<_>>`).
    pub many: bool,
    /// Rust field of the graph struct.
    pub field: String,
    /// Index of the child table in `Model::tables`.
    pub table: usize,
    /// The strategy.
    pub strategy: Strategy,
    /// Index of the child column that references the root, and of the root column.
    pub link: (usize, usize),
    /// diff: indexes of the key columns (without the fk).
    pub key: Vec<usize>,
    /// Stable tag (`graph:has_many:order_items`).
    pub tag: String,
}

/// Resolves and checks every update graph.
pub fn validate_update_graphs(
    catalog: &Catalog,
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
        let root = match table_index(catalog, tables, &graph.root, file) {
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
                match update_child(catalog, tables, root, many, field, edge, file) {
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
        let root_tag = format!("graph:root:{}", root_model.table.name.name);
        let mut tags = vec![root_tag.clone()];
        let mut children: Vec<UpdateChild> = children.into_iter().map(|(_, c)| c).collect();
        for child in &mut children {
            let kind = if child.many { "has_many" } else { "has_one" };
            let mut tag = format!("graph:{kind}:{}", tables[child.table].table.name.name);
            if tags.contains(&tag) {
                tag = format!("{tag}:{}", child.field);
            }
            tags.push(tag.clone());
            child.tag = tag;
        }
        graphs.push(UpdateGraphModel {
            name: graph_name.clone(),
            root,
            lock_root: graph.lock_root,
            children,
            root_tag,
        });
    }
    if errors.is_empty() {
        Ok(graphs)
    } else {
        Err(errors)
    }
}

fn update_child(
    catalog: &Catalog,
    tables: &[TableModel<'_>],
    root: usize,
    many: bool,
    field: String,
    edge: &crate::config::UpdateChildConfig,
    file: &SourceFile,
) -> Result<UpdateChild, Diagnostic> {
    let table = table_index(catalog, tables, &edge.table, file)?;
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
    let strategy = match (edge.strategy.get_ref().as_str(), many) {
        ("replace", _) => Strategy::Replace,
        ("upsert", _) => Strategy::Upsert,
        ("append", true) => Strategy::Append,
        ("diff", true) => Strategy::Diff,
        (other, _) => {
            let allowed = if many {
                "`replace`, `append`, `upsert` or `diff`"
            } else {
                "`replace` or `upsert`"
            };
            return Err(config::error_at(
                file,
                &edge.strategy,
                if ["append", "diff"].contains(&other) {
                    format!("strategy `{other}` is for has_many edges, not has_one")
                } else {
                    format!(
                        "unknown strategy `{other}` for a {} edge",
                        if many { "has_many" } else { "has_one" }
                    )
                },
            )
            .with_help(format!("use {allowed}")));
        }
    };
    if strategy == Strategy::Upsert {
        check_child_edge(tables, table, link.0, false, true, &edge.strategy, file)?;
    }
    let fk_name = child.columns[link.0].column.name.clone();
    let unique_keys = || crate::validate::unique_keys_help(child.table, false);
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
                    edge.strategy.get_ref()
                ),
            )
            .with_help("remove `key`, or use strategy = \"diff\""));
        }
        (None, _) => {}
    }
    Ok(UpdateChild {
        many,
        field,
        table,
        strategy,
        link,
        key,
        tag: String::new(),
    })
}

/// A field name as written in graphs.toml: a plain Rust identifier, so the generated field
/// is the name the user wrote.
fn is_field_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && ident::rust_field_name(name) == name
}

/// Checks shared by child edges: a has_one child's fk must be unique (one child per root),
/// and an upserted child's conflict key must include its fk, or the upsert could take over
/// a child of another root.
fn check_child_edge(
    tables: &[TableModel<'_>],
    table: usize,
    fk: usize,
    one: bool,
    upsert: bool,
    at: &Spanned<String>,
    file: &SourceFile,
) -> Result<(), Diagnostic> {
    let child = &tables[table];
    let fk_name = &child.columns[fk].column.name;
    if one {
        let unique = child.table.primary_key == [fk_name.clone()]
            || child
                .table
                .uniques
                .iter()
                .any(|u| !u.partial && u.columns == [fk_name.clone()]);
        if !unique {
            return Err(config::error_at(
                file,
                at,
                format!(
                    "has_one child `{}` can have many rows per root: `{fk_name}` is not unique",
                    child.table.name
                ),
            )
            .with_help(format!(
                "declare `{fk_name}` UNIQUE (or the primary key) in the DDL, or use has_many"
            )));
        }
    }
    if upsert {
        if let Some(conflict) = &child.conflict {
            if !conflict.key.contains(&fk) {
                let key: Vec<&str> = conflict
                    .key
                    .iter()
                    .map(|&i| child.columns[i].column.name.as_str())
                    .collect();
                return Err(config::error_at(
                    file,
                    at,
                    format!(
                        "`{}` upserts by ({}), which does not include `{fk_name}`: a conflict could move another root's child to this one",
                        child.table.name,
                        key.join(", ")
                    ),
                )
                .with_help(format!(
                    "set [tables.{}] conflict_target to a unique key that includes `{fk_name}`, or use plain inserts",
                    child.table.name.name
                )));
            }
        }
    }
    Ok(())
}
