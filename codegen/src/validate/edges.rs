//! Checks shared by the edges of insert and update graphs.

use toml::Spanned;

use super::resolve::column_index;
use crate::catalog::ForeignKey;
use crate::config::{self};
use crate::error::Diagnostic;
use crate::ident;
use crate::model::{ColumnModel, StepRef, TableModel};
use crate::source::SourceFile;

/// The step an edge hangs from, and that step's table: what the edge links to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Parent {
    /// The step.
    pub(super) step: StepRef,
    /// Its table, in `Model::tables`.
    pub(super) table: usize,
}

/// The child column that references the parent step, and the parent column it references.
pub(super) fn child_link(
    tables: &[TableModel<'_>],
    parent: usize,
    child: usize,
    fk: Option<&Spanned<String>>,
    fk_unchecked: bool,
    at: &Spanned<String>,
    file: &SourceFile,
) -> Result<(usize, usize), Diagnostic> {
    let parent_table = tables[parent].table;
    let child_table = tables[child].table;
    let links: Vec<&ForeignKey> = child_table
        .foreign_keys
        .iter()
        .chain(&tables[child].partition_foreign_keys)
        .filter(|f| f.ref_table == parent_table.name)
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
    let parent_key = |file: &SourceFile, at: &Spanned<String>| -> Result<usize, Diagnostic> {
        match tables[parent].primary_key.as_slice() {
            [one] => Ok(*one),
            _ => Err(config::error_at(
                file,
                at,
                format!(
                    "root `{}` has no single-column primary key to give `{}`",
                    parent_table.name, child_table.name
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
                    let Some(parent_column) = tables[parent].columns.iter().position(|c| c.column.name == f.ref_columns[0]) else {
                        return Err(config::error_at(file, fk, "the foreign key's referenced column is not a root column"));
                    };
                    Ok((column, parent_column))
                }
                None if fk_unchecked => Ok((column, parent_key(file, fk)?)),
                None => Err(config::error_at(
                    file,
                    fk,
                    format!("no foreign key of `{}` declares `{}` as a reference to `{}`", child_table.name, fk.get_ref(), parent_table.name),
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
                    let parent_column = tables[parent].columns.iter().position(|c| c.column.name == one.ref_columns[0]);
                    match (column, parent_column) {
                        (Some(c), Some(r)) => Ok((c, r)),
                        _ => Err(config::error_at(file, at, "the foreign key's columns are not in the tables")),
                    }
                }
                [] => Err(config::error_at(
                    file,
                    at,
                    format!("`fk` is not set and no foreign key of `{}` references `{}`", child_table.name, parent_table.name),
                )
                .with_help(if child_table.partitioned {
                    "declare the foreign key on the table or on every one of its partitions, or set `fk = \"<column>\"` with `fk_unchecked = true`"
                } else {
                    "set `fk = \"<column>\"` (with `fk_unchecked = true` if the DDL declares no foreign key)"
                })),
                several => Err(config::error_at(
                    file,
                    at,
                    format!("`fk` is not set and {} foreign keys of `{}` reference `{}`", several.len(), child_table.name, parent_table.name),
                )
                .with_help(format!("choose one with `fk = \"<column>\"`: {}", describe(several)))),
            }
        }
    }
}

/// Diagnostics for setters of a graph struct that two of its parts would both generate:
/// `with_x_opt` of an optional field `x` and of a root column `x_opt`, say, which rustc
/// would report inside the generated file. `root` lists the root's columns with whether
/// they get a `with_*_opt` setter; `fields` the edge fields, likewise.
pub(super) fn setter_clashes<'c>(
    root_model: &TableModel<'_>,
    root: impl Iterator<Item = (&'c ColumnModel<'c>, bool)>,
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

/// A field name as written in graphs.toml: a plain Rust identifier, so the generated field
/// is the name the user wrote.
pub(super) fn is_field_name(name: &str) -> bool {
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
pub(super) fn check_child_edge<T>(
    tables: &[TableModel<'_>],
    table: usize,
    fk: usize,
    one: bool,
    upsert: bool,
    at: &Spanned<T>,
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

/// The tags of a graph's steps, unique within the graph: `graph:root:<table>` for the root,
/// `graph:<kind>:<table>` for a step of the root, with `:<field>` added when another step
/// has that tag. A nested step's tag is the path to it: its parent's tag, `/`, and
/// `<kind>:<table>` (`graph:has_many:posts/has_many:comments`), likewise made unique.
#[derive(Debug)]
pub(super) struct Tags {
    taken: Vec<String>,
}

impl Tags {
    /// The tags of a graph whose root is `root`, with the root's tag taken.
    pub(super) fn new(root: &TableModel<'_>) -> Self {
        Tags {
            taken: vec![format!("graph:root:{}", root.table.name.name)],
        }
    }

    /// The root's tag.
    pub(super) fn root(&self) -> String {
        self.taken[0].clone()
    }

    /// The tag of a step of `kind` (`has_many`) writing `table` from `field`, below the step
    /// tagged `parent` (`None`: below the root).
    pub(super) fn step(
        &mut self,
        parent: Option<&str>,
        kind: &str,
        table: &TableModel<'_>,
        field: &str,
    ) -> String {
        let name = &table.table.name.name;
        let mut tag = match parent {
            None => format!("graph:{kind}:{name}"),
            Some(parent) => format!("{parent}/{kind}:{name}"),
        };
        if self.taken.contains(&tag) {
            tag = format!("{tag}:{field}");
        }
        self.taken.push(tag.clone());
        tag
    }
}

/// The Rust names a graph's own row types must not take: every table's and enum's
/// (`taken`), and every graph's.
pub(super) fn reserved_type_names(
    taken: &std::collections::BTreeSet<String>,
    config: &config::GraphsConfig,
) -> std::collections::BTreeSet<String> {
    let graphs = config.insert.keys().chain(config.update.keys());
    taken
        .iter()
        .cloned()
        .chain(graphs.map(|name| name.get_ref().clone()))
        .collect()
}

/// The graphs' own row types, by name: the table, the columns each leaves out (the one its
/// parent's key fills, then those copied from the parent), and the columns it holds as
/// optional because a nested belongs_to fills them.
pub type RowTypes = std::collections::BTreeMap<String, (usize, Vec<usize>, Vec<usize>)>;

/// The type of the rows of a step that fills the column `filled` of `table` with its
/// parent's key: the table's `NewT` without that column, named after the table and the
/// column without its `_id` (`order_items.order_id` → `NewOrderItemForOrder`), so that
/// `NewT` keeps the column and its constructor, and every graph that fills that column
/// shares one type. Columns copied from the parent are left out too, and named
/// (`NewCommentForPostAndCommunity`); columns a belongs_to under the step fills (`optional`)
/// are optional in it, and named too (`NewTeamMemberForTeamWithUser`). A name that another generated type
/// has (`reserved`, or another row type in `row_types`) is an error at the field.
pub(super) fn own_row_type(
    (tables, table, omitted, optional): (&[TableModel<'_>], usize, &[usize], &[usize]),
    field: &Spanned<String>,
    reserved: &std::collections::BTreeSet<String>,
    row_types: &mut RowTypes,
    file: &SourceFile,
) -> Result<String, Diagnostic> {
    let model = &tables[table];
    let stem = |column: usize| {
        let column = &model.columns[column].column.name;
        let stem = ["_id", "Id", "_ID"]
            .iter()
            .find_map(|suffix| column.strip_suffix(suffix).filter(|s| !s.is_empty()))
            .unwrap_or(column);
        ident::rust_type_name(stem)
    };
    let mut name = format!("New{}", model.rust_name);
    for (i, &column) in omitted.iter().enumerate() {
        name.push_str(if i > 0 { "And" } else { "For" });
        name.push_str(&stem(column));
    }
    for &column in optional {
        name.push_str("With");
        name.push_str(&stem(column));
    }
    let key = (table, omitted.to_vec(), optional.to_vec());
    let other = row_types.get(&name).filter(|&used| *used != key);
    if reserved.contains(&name) || other.is_some() {
        return Err(config::error_at(
            file,
            field,
            format!(
                "the rows of field `{}` would be the type `{name}`, which another generated type already is",
                field.get_ref()
            ),
        )
        .with_help("name the table differently: [tables.<name>] rust_name = \"...\""));
    }
    row_types.insert(name.clone(), key);
    Ok(name)
}
