//! Names in `graphs.toml` resolved against the catalog.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use crate::catalog::{Catalog, ForeignKey, QualifiedName, Table};
use crate::config::{self, BelongsToConfig, ChildConfig, GraphsConfig, ManyToManyConfig};
use crate::error::Diagnostic;
use crate::model::TableModel;
use crate::source::SourceFile;

/// `did you mean `order_items`? ` for the candidate closest to `given` when one is a likely
/// typo of it (an edit distance of at most a third of its length), else nothing.
pub(super) fn suggestion<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let limit = (given.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(given, candidate), candidate))
        .filter(|&(distance, _)| distance <= limit)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| format!("did you mean `{candidate}`? "))
        .unwrap_or_default()
}

/// "unknown column `x` in table `t`" at `name`, with the likely column and all of
/// `columns` as its help.
pub(super) fn unknown_column<'a>(
    file: &SourceFile,
    name: &Spanned<String>,
    table: &QualifiedName,
    columns: impl Iterator<Item = &'a str> + Clone,
) -> Diagnostic {
    let given = name.get_ref();
    config::error_at(
        file,
        name,
        format!("unknown column `{given}` in table `{table}`"),
    )
    .with_help(format!(
        "{}columns are: {}",
        suggestion(given, columns.clone()),
        columns.collect::<Vec<_>>().join(", ")
    ))
}

/// `orders`, `public.orders`, `Order` (case-sensitive first, then folded).
pub fn resolve_table<'a>(catalog: &'a Catalog, name: &str) -> Result<&'a Table, String> {
    let (schema, table) = match name.split_once('.') {
        Some((schema, table)) => (Some(schema), table),
        None => (None, name),
    };
    let matches = |exact: bool| -> Vec<&'a Table> {
        catalog
            .write_targets()
            .filter(|t| {
                schema.is_none_or(|s| {
                    if exact {
                        t.name.schema == s
                    } else {
                        t.name.schema.eq_ignore_ascii_case(s)
                    }
                })
            })
            .filter(|t| {
                if exact {
                    t.name.name == table
                } else {
                    t.name.name.eq_ignore_ascii_case(table)
                }
            })
            .collect()
    };
    let mut found = matches(true);
    if found.is_empty() {
        found = matches(false);
    }
    // An unqualified name found in several schemas resolves as PostgreSQL resolves it with
    // its default search path (`"$user", public`): the table in `public`.
    if schema.is_none() && found.len() > 1 {
        if let Some(public) = found.iter().find(|t| t.name.schema == "public") {
            found = vec![*public];
        }
    }
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "{}tables are: {}",
            suggestion(table, catalog.write_targets().map(|t| t.name.name.as_str())),
            catalog
                .write_targets()
                .map(|t| t.name.to_sql())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        many => Err(format!(
            "the name is in several schemas, none of them `public` (the search path); qualify it with its schema: {}",
            many.iter()
                .map(|t| t.name.to_sql())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The foreign key that links `child` to `root` when `fk` is left out: the only
/// single-column foreign key of the child (or of all its partitions) that references the root.
pub(super) fn implied_fk(
    catalog: &Catalog,
    child: &Table,
    root: &QualifiedName,
) -> Option<ForeignKey> {
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

/// Every table name of `graphs.toml` (`[tables.<name>]`, each graph's root and each edge's
/// table), resolved against the catalog once, before any model is built: the columns graphs
/// fill ([`Names::injected_columns`]) and the graph models both read these results.
#[derive(Debug)]
pub(super) struct Names<'a> {
    catalog: &'a Catalog,
    /// By the byte range of the name in `graphs.toml`.
    tables: BTreeMap<(usize, usize), Result<&'a Table, String>>,
}

impl<'a> Names<'a> {
    /// Resolves every table name of `config`.
    pub(super) fn resolve(catalog: &'a Catalog, config: &GraphsConfig) -> Self {
        let mut names = Names {
            catalog,
            tables: BTreeMap::new(),
        };
        let table_names = config.tables.keys();
        let insert = config.insert.values().flat_map(|g| {
            let mut children = Vec::new();
            for edge in g.has_one.iter().chain(&g.has_many) {
                edge_tables(edge, &mut children);
            }
            for edge in &g.belongs_to {
                parent_tables(edge, &mut children);
            }
            children.extend(g.many_to_many.iter().flat_map(|e| [&e.table, &e.through]));
            std::iter::once(&g.root)
                .chain(g.before_insert.iter().map(|e| &e.table))
                .chain(children)
                .chain(g.after_insert.iter().map(|e| &e.table))
        });
        let update = config.update.values().flat_map(|g| {
            std::iter::once(&g.root)
                .chain(g.has_many.iter().map(|e| &e.table))
                .chain(g.has_one.iter().map(|e| &e.table))
                .chain(g.belongs_to.iter().map(|e| &e.table))
                .chain(g.many_to_many.iter().flat_map(|e| [&e.table, &e.through]))
        });
        for name in table_names.chain(insert).chain(update) {
            let span = name.span();
            names.tables.insert(
                (span.start, span.end),
                resolve_table(catalog, name.get_ref()),
            );
        }
        names
    }

    /// The table `name` names, or the help line listing the candidates.
    pub(super) fn table(&self, name: &Spanned<String>) -> Result<&'a Table, String> {
        let span = name.span();
        match self.tables.get(&(span.start, span.end)) {
            Some(resolved) => resolved.clone(),
            // Every name of the config is resolved up front; one built elsewhere resolves here.
            None => resolve_table(self.catalog, name.get_ref()),
        }
    }

    /// The columns graphs fill, as (table, column): insert structs hold them as `Option` so
    /// that callers never invent a value a graph replaces. Best effort: names that do not
    /// resolve are reported by the graph passes.
    pub(super) fn injected_columns(
        &self,
        config: &GraphsConfig,
    ) -> BTreeSet<(QualifiedName, String)> {
        let mut injected = BTreeSet::new();
        let mut fill = |root: &Table, table: &Spanned<String>, fk: Option<&Spanned<String>>| {
            let Ok(child) = self.table(table) else {
                return;
            };
            match fk {
                Some(fk) => {
                    injected.insert((child.name.clone(), fk.get_ref().clone()));
                }
                None => {
                    if let Some(fk) = implied_fk(self.catalog, child, &root.name) {
                        injected.insert((child.name.clone(), fk.columns[0].clone()));
                    }
                }
            }
        };
        // Columns of a table that a graph fills with another row's value: belongs_to
        // set_fk columns and copied columns.
        let mut belongs_to = Vec::new();
        for graph in config.insert.values() {
            let Ok(root) = self.table(&graph.root) else {
                continue;
            };
            // Each belongs_to edge's set_fk, in the table of the row it belongs with.
            let mut parents: Vec<(&Table, &BelongsToConfig)> =
                graph.belongs_to.iter().map(|e| (root, e)).collect();
            // The join rows of many_to_many edges, in the table of the row they link.
            let mut links: Vec<(&Table, &ManyToManyConfig)> =
                graph.many_to_many.iter().map(|e| (root, e)).collect();
            let mut children: Vec<(&Table, &ChildConfig)> = graph
                .has_one
                .iter()
                .chain(&graph.has_many)
                .map(|c| (root, c))
                .collect();
            while let Some((parent, child)) = children.pop() {
                fill(parent, &child.table, child.fk.as_ref());
                if let Ok(table) = self.table(&child.table) {
                    for column in child.copy.iter().flat_map(|copy| copy.keys()) {
                        belongs_to.push((table.name.clone(), column.get_ref().clone()));
                    }
                    parents.extend(child.belongs_to.iter().map(|e| (table, e)));
                    links.extend(child.many_to_many.iter().map(|e| (table, e)));
                    for after in &child.after_insert {
                        if let Some(fk) = &after.fk {
                            fill(table, &after.table, Some(fk));
                        }
                    }
                    children.extend(child.nested().map(|(_, nested)| (table, nested)));
                }
            }
            for (parent, edge) in links {
                fill(parent, &edge.through, edge.fk.as_ref());
                let (Ok(join), Ok(far)) = (self.table(&edge.through), self.table(&edge.table))
                else {
                    continue;
                };
                match &edge.far_fk {
                    Some(column) => {
                        belongs_to.push((join.name.clone(), column.get_ref().clone()));
                    }
                    None => {
                        let to_far = join
                            .foreign_keys
                            .iter()
                            .filter(|f| f.ref_table == far.name && f.columns.len() == 1);
                        for fk in to_far {
                            belongs_to.push((join.name.clone(), fk.columns[0].clone()));
                        }
                    }
                }
            }
            while let Some((table, edge)) = parents.pop() {
                belongs_to.push((table.name.clone(), edge.set_fk.get_ref().clone()));
                if let Ok(parent) = self.table(&edge.table) {
                    parents.extend(edge.belongs_to.iter().map(|e| (parent, e)));
                }
            }
            let after = graph.after_insert.iter().map(|c| (&c.table, c.fk.as_ref()));
            for (table, fk) in after {
                fill(root, table, fk);
            }
        }
        for graph in config.update.values() {
            let Ok(root) = self.table(&graph.root) else {
                continue;
            };
            for child in graph.has_many.iter().chain(&graph.has_one) {
                fill(root, &child.table, child.fk.as_ref());
            }
        }
        injected.extend(belongs_to);
        injected
    }
}

/// The table names of a belongs_to edge and of its parents' parents, at any depth.
fn parent_tables<'c>(edge: &'c BelongsToConfig, tables: &mut Vec<&'c Spanned<String>>) {
    tables.push(&edge.table);
    for parent in &edge.belongs_to {
        parent_tables(parent, tables);
    }
}

/// The table names of a has_one or has_many edge and of its nested edges, at any depth.
fn edge_tables<'c>(edge: &'c ChildConfig, tables: &mut Vec<&'c Spanned<String>>) {
    tables.push(&edge.table);
    for parent in &edge.belongs_to {
        parent_tables(parent, tables);
    }
    tables.extend(
        edge.many_to_many
            .iter()
            .flat_map(|e| [&e.table, &e.through]),
    );
    tables.extend(
        edge.before_insert
            .iter()
            .chain(&edge.after_insert)
            .map(|e| &e.table),
    );
    for (_, nested) in edge.nested() {
        edge_tables(nested, tables);
    }
}

pub(super) fn table_index(
    names: &Names<'_>,
    tables: &[TableModel<'_>],
    name: &Spanned<String>,
    file: &SourceFile,
) -> Result<usize, Diagnostic> {
    let table = names.table(name).map_err(|help| {
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

pub(super) fn column_index(
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
            let columns = model.columns.iter().map(|c| c.column.name.as_str());
            unknown_column(file, name, &model.table.name, columns)
        })
}
