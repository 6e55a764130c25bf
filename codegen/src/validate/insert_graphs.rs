//! Validation of the write graphs in `graphs.toml` (part of the validate stage): each graph
//! is resolved against the catalog into a [`GraphModel`], a root and an ordered list of
//! steps, each of which names its parent step and how it links to it. Every mistake is reported at its
//! `graphs.toml` line and column with the fix.

use std::collections::BTreeSet;

use toml::Spanned;

use super::edges::{
    check_child_edge, child_link, is_field_name, own_row_type, reserved_type_names, setter_clashes,
    Parent, RowTypes, Tags,
};
use super::resolve::{column_index, table_index, Names};
use crate::config::{
    self, BelongsToConfig, ChildConfig, GraphsConfig, InsertGraphConfig, ManyToManyConfig,
    ParentMode, StepConfig, WriteMode,
};
use crate::error::Diagnostic;
use crate::ident;
use crate::model::{
    Cardinality, ColumnModel, GraphModel, GraphStep, InsertKind, LinkHow, OwnRow, StepKind,
    StepRef, TableModel,
};
use crate::source::SourceFile;

/// Resolves and checks every insert graph.
pub fn validate_insert_graphs(
    names: &Names<'_>,
    config: &GraphsConfig,
    tables: &[TableModel<'_>],
    file: &SourceFile,
    (taken_names, row_types): (&BTreeSet<String>, &mut RowTypes),
) -> Result<Vec<GraphModel>, Vec<Diagnostic>> {
    let mut graphs = Vec::new();
    let mut errors = Vec::new();
    let reserved = reserved_type_names(taken_names, config);
    for (name, graph) in &config.insert {
        let names_taken = (taken_names, &reserved, &mut *row_types);
        match insert_graph(
            (names, &config.insert),
            name,
            graph,
            tables,
            file,
            names_taken,
        ) {
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

/// Whether a step upserts (its `mode`), checked against the table: an upsert needs the
/// table's conflict key.
pub(super) fn upsert_mode<M: WriteMode>(
    mode: Option<&Spanned<M>>,
    tables: &[TableModel<'_>],
    table: usize,
    file: &SourceFile,
) -> Result<(bool, bool), Diagnostic> {
    let Some(mode) = mode else {
        return Ok((false, false));
    };
    let upsert = mode.get_ref().upserts();
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
            tables[table].table.name.name,
            M::plain_name()
        )));
    }
    Ok((upsert, mode.get_ref().ignores()))
}

pub(super) fn insert_graph(
    (names, graphs): (&Names<'_>, &Graphs),
    name: &Spanned<String>,
    graph: &InsertGraphConfig,
    tables: &[TableModel<'_>],
    file: &SourceFile,
    (taken_names, reserved, row_types): (&BTreeSet<String>, &BTreeSet<String>, &mut RowTypes),
) -> Result<GraphModel, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let graph_name = name.get_ref();
    check_graph_name(name, taken_names, file, &mut errors);
    let root = match table_index(names, tables, &graph.root, file) {
        Ok(root) => root,
        Err(e) => return Err(vec![e]),
    };
    let root_model = &tables[root];

    let mut fields = FieldNames::new(root_model, None);
    let mut check_field = |field: &Spanned<String>, errors: &mut Vec<Diagnostic>| {
        fields.check(field, graph_name, file, errors)
    };

    let root_id_field = root_id_field(graph, tables, root, file, &mut errors);
    let parent = Parent {
        step: StepRef::Root,
        table: root,
    };

    let mut steps: Vec<Pending> = Vec::new();
    let pending = |field: &Spanned<String>, step: GraphStep| Pending {
        field: field.clone(),
        source: graph_name.clone(),
        step,
        parent: None,
    };
    let mut parents = Vec::new();
    for edge in &graph.belongs_to {
        let field = check_field(&edge.field, &mut errors);
        let result = belongs_to_step(names, tables, parent, edge, field, file);
        match result {
            Ok(step) => {
                steps.push(pending(&edge.field, step));
                parents.push((steps.len() - 1, edge));
            }
            Err(e) => errors.push(e),
        }
    }
    for (index, edge) in parents {
        let mut fields =
            FieldNames::new(&tables[steps[index].step.table], Some(edge.field.get_ref()));
        let under = (index, edge.field.get_ref().as_str(), None);
        let context = (names, tables, file);
        parent_steps(
            context,
            under,
            &edge.belongs_to,
            (&mut steps, graph_name, &mut fields),
            &mut errors,
        );
    }
    for (after, list) in [(false, &graph.before_insert), (true, &graph.after_insert)] {
        for edge in list {
            let field = check_field(&edge.field, &mut errors);
            let result = row_step(names, tables, parent, after, edge, field, file);
            match result {
                Ok(step) => steps.push(pending(&edge.field, step)),
                Err(e) => errors.push(e),
            }
        }
    }
    let children = graph
        .has_one
        .iter()
        .map(|e| (false, e))
        .chain(graph.has_many.iter().map(|e| (true, e)));
    let mut nested = Vec::new();
    for (many, edge) in children {
        let field = check_field(&edge.field, &mut errors);
        let result = child_step(names, tables, parent, many, edge, field, file);
        match result {
            Ok(step) => {
                steps.push(pending(&edge.field, step));
                nested.push((steps.len() - 1, edge));
            }
            Err(e) => errors.push(e),
        }
    }
    for edge in &graph.many_to_many {
        let field = check_field(&edge.field, &mut errors);
        let context = (names, tables, file);
        let edge_field = (edge, field);
        if let Err(e) = many_to_many_steps(
            context,
            (parent, None),
            edge_field,
            (&mut steps, graph_name),
        ) {
            errors.push(e);
        }
    }
    let mut path = vec![(graph_name.clone(), None)];
    for (index, edge) in nested {
        let context = (names, graphs, tables, file);
        nested_steps(context, (index, edge), (&mut steps, &mut path), &mut errors);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let root_setters = root_model
        .columns
        .iter()
        .filter(|c| c.insert.is_some())
        .map(|c| (c, c.insert != Some(InsertKind::Required)));
    let step_setters = steps
        .iter()
        .filter(|p| p.parent.is_none())
        .map(|p| (&p.field, p.step.cardinality == Cardinality::Optional));
    let clashes = setter_clashes(root_model, root_setters, step_setters, file);
    if !clashes.is_empty() {
        return Err(clashes);
    }
    // The columns of each step that a belongs_to under it fills.
    let optional: Vec<Vec<usize>> = (0..steps.len())
        .map(|index| {
            steps
                .iter()
                .filter(|p| p.parent == Some(index))
                .filter_map(|p| p.step.kind.sets_parent_column().map(|(column, _)| column))
                .collect()
        })
        .collect();
    for (index, Pending { field, step, .. }) in steps.iter_mut().enumerate() {
        let filled = step.kind.takes_parent_column().map(|(filled, _)| filled);
        // A belongs_to row whose own parents fill its columns: those are optional.
        let writes_row = step.connect_by.is_none() && !optional[index].is_empty();
        if filled.is_some() || writes_row {
            let mut omitted: Vec<usize> = filled
                .into_iter()
                .chain(step.copied.iter().map(|&(column, _)| column))
                .collect();
            let mut optional = optional[index].clone();
            if matches!(step.kind, StepKind::ManyToMany { .. }) {
                // Every item's link fills the far key: no join row gives it.
                omitted.append(&mut optional);
                omitted.dedup();
            }
            let filled = (tables, step.table, omitted.as_slice(), optional.as_slice());
            match own_row_type(filled, field, reserved, row_types, file) {
                Ok(name) => {
                    step.row_type = name;
                    step.own_row = Some(OwnRow { omitted, optional });
                }
                Err(e) => errors.push(e),
            }
        }
    }
    for index in 0..steps.len() {
        if !steps.iter().any(|p| p.parent == Some(index)) {
            continue;
        }
        let step = &steps[index];
        let name = format!(
            "{}{}",
            step.source,
            ident::rust_type_name(&ident::singular(&step.step.field))
        );
        // The same edge of one source graph, reached twice, shares its type.
        let taken = reserved.contains(&name)
            || row_types.contains_key(&name)
            || steps.iter().any(|p| {
                p.step.item_type.as_ref() == Some(&name)
                    && (p.source != step.source || p.field.get_ref() != step.field.get_ref())
            });
        if taken {
            errors.push(
                config::error_at(
                    file,
                    &step.field,
                    format!(
                        "the items of field `{}` would be the type `{name}`, which another generated type already is",
                        step.field.get_ref()
                    ),
                )
                .with_help("rename the field or the graph"),
            );
        } else {
            steps[index].step.item_type = Some(name);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    // A root's parent found or created by key is shared by many graphs: each finds its
    // key by the conflict key it gives (nested ones are checked where they are declared).
    let writes_many = steps.iter().all(|p| {
        let s = &p.step;
        !(s.upsert && s.parent == StepRef::Root && s.kind.sets_parent_column().is_some())
            || unkeyed_conflict_column(&tables[s.table]).is_none()
    });
    // Returned rows come from the many-graph statement, a batch of one for one graph,
    // joined back to their roots by the root's key.
    let root_key_known = !root_model.primary_key.is_empty() && key_known_before_insert(root_model);
    if let Some(pending) = steps.iter().find(|p| p.step.returning && !root_key_known) {
        return Err(vec![config::error_at(
            file,
            &pending.field,
            format!(
                "edge `{}` cannot return its rows: the root's primary key is not known before its insert, to join its rows back to their graphs by",
                pending.field.get_ref()
            ),
        )
        .with_help("give the root a primary key with a default or given by the row, or remove `returning`")]);
    }
    if let Some(pending) = steps.iter().find(|p| p.step.returning && !writes_many) {
        return Err(vec![config::error_at(
            file,
            &pending.field,
            format!(
                "edge `{}` cannot return its rows: graph `{}` has no insert_graph_many, whose statement returns them",
                pending.field.get_ref(),
                graph_name
            ),
        )
        .with_help("give the root-level upserted parent a key that every row gives, or remove `returning`")]);
    }
    let (steps, root_tag) = order_and_tag(steps, tables, root_model);
    Ok(GraphModel {
        name: graph_name.clone(),
        root,
        root_id_field,
        steps,
        root_tag,
        writes_many,
        attributes: Default::default(),
    })
}

/// A step before it is put in execution order: where its field is in graphs.toml, and
/// its parent, by index among the pending steps (`None`: the root).
#[derive(Debug)]
struct Pending {
    /// The edge's field, where graphs.toml names it.
    field: Spanned<String>,
    /// The insert graph whose definition has the edge: the graph itself, or one an edge
    /// names (`graph = "..."`). Item types are named after it, so that the graph alone and
    /// inside another share them.
    source: String,
    step: GraphStep,
    parent: Option<usize>,
}

/// The steps of the nested edges of `edge`, whose own step is `steps[index]`, at any
/// depth: each hangs from its parent edge's step and links to that step's table. Field
/// names are unique among the parent edge's fields (the columns of its table and its
/// nested edges). An edge whose rows are upserted cannot have nested edges.
fn nested_steps(
    (names, graphs, tables, file): (&Names<'_>, &Graphs, &[TableModel<'_>], &SourceFile),
    (index, edge): (usize, &ChildConfig),
    (steps, path): (&mut Vec<Pending>, &mut GraphPath),
    errors: &mut Vec<Diagnostic>,
) {
    let Some(reference) = &edge.graph else {
        return nested_edges(
            (names, graphs, tables, file),
            (index, edge),
            (steps, path),
            errors,
        );
    };
    match graph_edges(graphs, edge, reference, path, file) {
        Ok(expanded) => {
            path.push((
                reference.get_ref().clone(),
                Some(edge.field.get_ref().clone()),
            ));
            let context = (names, graphs, tables, file);
            nested_edges(context, (index, &expanded), (steps, path), errors);
            path.pop();
        }
        Err(e) => errors.push(e),
    }
}

/// The insert graphs of graphs.toml, by name.
type Graphs = std::collections::BTreeMap<Spanned<String>, InsertGraphConfig>;

/// The graphs whose edges the steps being validated come from, outermost first, each with
/// the field of the edge that named it (`None`: the graph being validated).
type GraphPath = Vec<(String, Option<String>)>;

/// `edge` with the edges of the insert graph it names (`graph = "..."`) as its nested
/// edges. The graph must exist, write the edge's table and have only edges a nested edge
/// can have; the edge must have no nested edges of its own; and the graph must not contain
/// itself (`path`).
fn graph_edges(
    graphs: &Graphs,
    edge: &ChildConfig,
    reference: &Spanned<String>,
    path: &GraphPath,
    file: &SourceFile,
) -> Result<ChildConfig, Diagnostic> {
    let name = reference.get_ref();
    let Some((_, graph)) = graphs.iter().find(|(n, _)| n.get_ref() == name) else {
        let known: Vec<&str> = graphs.keys().map(|n| n.get_ref().as_str()).collect();
        return Err(
            config::error_at(file, reference, format!("unknown insert graph `{name}`")).with_help(
                format!(
                    "{}insert graphs are: {}",
                    super::resolve::suggestion(name, known.iter().copied()),
                    known.join(", ")
                ),
            ),
        );
    };
    let problem = if graph.root.get_ref() != edge.table.get_ref() {
        Some(format!(
            "graph `{name}` writes `{}`, but this edge's table is `{}`",
            graph.root.get_ref(),
            edge.table.get_ref()
        ))
    } else if edge.has_nested() {
        Some(
            "an edge with `graph` takes its nested edges from that graph: it cannot have its own"
                .to_owned(),
        )
    } else {
        None
    };
    if let Some(problem) = problem {
        return Err(config::error_at(file, reference, problem).with_help(
            "name an insert graph rooted in the edge's table, or write the nested edges inline",
        ));
    }
    if path.iter().any(|(graph, _)| graph == name) {
        let mut cycle: Vec<String> = Vec::new();
        for (graph, field) in path {
            match field {
                Some(field) => cycle.push(format!("{field} ({graph})")),
                None => cycle.push(graph.clone()),
            }
        }
        cycle.push(format!("{} ({name})", edge.field.get_ref()));
        return Err(config::error_at(
            file,
            reference,
            format!("graph `{name}` contains itself: {}", cycle.join(" → ")),
        )
        .with_help(
            "a graph's rows are finite: end the chain with an edge of its own instead of the graph",
        ));
    }
    Ok(ChildConfig {
        graph: None,
        belongs_to: graph.belongs_to.clone(),
        has_one: graph.has_one.clone(),
        has_many: graph.has_many.clone(),
        many_to_many: graph.many_to_many.clone(),
        before_insert: graph.before_insert.clone(),
        after_insert: graph.after_insert.clone(),
        ..edge.clone()
    })
}

/// The steps of the nested edges of `edge` (see [`nested_steps`]).
fn nested_edges(
    (names, graphs, tables, file): (&Names<'_>, &Graphs, &[TableModel<'_>], &SourceFile),
    (index, edge): (usize, &ChildConfig),
    (steps, path): (&mut Vec<Pending>, &mut GraphPath),
    errors: &mut Vec<Diagnostic>,
) {
    if !edge.has_nested() {
        return;
    }
    let table = steps[index].step.table;
    if steps[index].step.upsert {
        let at = edge.mode.as_ref().map_or(edge.field.span(), |m| m.span());
        errors.push(
            Diagnostic::at(
                &file.path,
                &file.text,
                at.start,
                format!(
                    "`{}` upserts its rows: an upserted step cannot have nested edges yet",
                    edge.field.get_ref()
                ),
            )
            .with_help("use mode = \"insert\" for this edge, or remove its nested edges"),
        );
        return;
    }
    let mut fields = FieldNames::new(&tables[table], Some(edge.field.get_ref()));
    // The step's index in execution order is known once every step is: `order_and_tag`
    // sets `parent` from `Pending::parent`.
    let parent = Parent {
        step: StepRef::Root,
        table,
    };
    let filled_by_parent = steps[index].step.kind.takes_parent_column().map(|(c, _)| c);
    let context = (names, tables, file);
    let source = path.last().map(|(g, _)| g.clone()).unwrap_or_default();
    let under = (index, edge.field.get_ref().as_str(), filled_by_parent);
    parent_steps(
        context,
        under,
        &edge.belongs_to,
        (steps, &source, &mut fields),
        errors,
    );
    let mut nested = Vec::new();
    for (many, child) in edge.nested() {
        if let Some(error) = row_field(&child.field, file) {
            errors.push(error);
            continue;
        }
        let field = fields.check(&child.field, "", file, errors);
        let step = child_step(names, tables, parent, many, child, field, file);
        let at = (&child.field, child.mode.as_ref().map(|m| m.span()));
        if let Some(step) = nested_insert_step(step, at, &tables[table], file, errors) {
            steps.push(Pending {
                field: child.field.clone(),
                source: source.clone(),
                step,
                parent: Some(index),
            });
            nested.push((steps.len() - 1, child));
        }
    }
    for (after, list) in [(false, &edge.before_insert), (true, &edge.after_insert)] {
        for row_edge in list {
            if let Some(error) = row_field(&row_edge.field, file) {
                errors.push(error);
                continue;
            }
            let field = fields.check(&row_edge.field, "", file, errors);
            let step = row_step(names, tables, parent, after, row_edge, field, file);
            let at = (&row_edge.field, row_edge.mode.as_ref().map(|m| m.span()));
            if let Some(step) = nested_insert_step(step, at, &tables[table], file, errors) {
                steps.push(Pending {
                    field: row_edge.field.clone(),
                    source: source.clone(),
                    step,
                    parent: Some(index),
                });
            }
        }
    }
    for edge in &edge.many_to_many {
        if let Some(error) = row_field(&edge.field, file) {
            errors.push(error);
            continue;
        }
        let field = fields.check(&edge.field, "", file, errors);
        let context = (names, tables, file);
        let parent = Parent {
            step: StepRef::Root,
            table,
        };
        if let Err(e) = many_to_many_steps(
            context,
            (parent, Some(index)),
            (edge, field),
            (steps, &source),
        ) {
            errors.push(e);
        }
    }
    for (index, child) in nested {
        let context = (names, graphs, tables, file);
        nested_steps(context, (index, child), (steps, path), errors);
    }
}

/// The steps of `edges`, the belongs_to edges nested under the edge `edge` whose step is
/// `steps[index]`, and of their own nested belongs_to edges, at any depth (a customer's
/// address, then the address's city). Each hangs from its parent edge's step and fills a
/// column of its rows; `filled_by_parent` is the column the parent edge's own parent fills,
/// which no belongs_to may fill again. A field is unique among the parent edge's `fields`.
fn parent_steps(
    (names, tables, file): (&Names<'_>, &[TableModel<'_>], &SourceFile),
    (index, edge, filled_by_parent): (usize, &str, Option<usize>),
    edges: &[BelongsToConfig],
    (steps, source, fields): (&mut Vec<Pending>, &str, &mut FieldNames<'_, '_>),
    errors: &mut Vec<Diagnostic>,
) {
    let parent = Parent {
        step: StepRef::Root,
        table: steps[index].step.table,
    };
    if steps[index].step.connect_by.is_some() && !edges.is_empty() {
        errors.push(
            config::error_at(
                file,
                &edges[0].field,
                format!("`{edge}` connects to an existing row: it writes no row for a nested belongs_to to fill"),
            )
            .with_help("remove the nested edges, or write the parent (drop connect_by)"),
        );
        return;
    }
    let mut nested = Vec::new();
    for parent_edge in edges {
        if let Some(error) = row_field(&parent_edge.field, file) {
            errors.push(error);
            continue;
        }
        let field = fields.check(&parent_edge.field, "", file, errors);
        match belongs_to_step(names, tables, parent, parent_edge, field, file) {
            Ok(step) if step.kind.sets_parent_column().map(|(c, _)| c) == filled_by_parent => {
                errors.push(
                    config::error_at(
                        file,
                        &parent_edge.set_fk,
                        format!(
                            "`{}` is the column the parent edge `{edge}` fills with its key",
                            parent_edge.set_fk.get_ref(),
                        ),
                    )
                    .with_help(
                        "remove this belongs_to: the row already belongs to its parent edge's row",
                    ),
                );
            }
            Ok(step) => {
                let table = &tables[step.table];
                match unkeyed_conflict_column(table).filter(|_| step.upsert) {
                    Some((column, why)) => {
                        let message = format!(
                            "`{}` upserts its row by a key of `{}` whose column `{column}` {why}: a nested belongs_to finds each row's parent by the key each row gives",
                            parent_edge.field.get_ref(),
                            table.table.name
                        );
                        let error = match &parent_edge.mode {
                            Some(mode) => config::error_at(file, mode, message),
                            None => config::error_at(file, &parent_edge.field, message),
                        };
                        errors.push(error.with_help(
                            "upsert by a key every row gives (conflict_target in [tables.<name>]), or use mode = \"insert_returning\" for this edge",
                        ));
                    }
                    None => {
                        steps.push(Pending {
                            field: parent_edge.field.clone(),
                            source: source.to_owned(),
                            step,
                            parent: Some(index),
                        });
                        nested.push((steps.len() - 1, parent_edge));
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    for (index, parent_edge) in nested {
        let mut fields = FieldNames::new(
            &tables[steps[index].step.table],
            Some(parent_edge.field.get_ref()),
        );
        let under = (index, parent_edge.field.get_ref().as_str(), None);
        let context = (names, tables, file);
        parent_steps(
            context,
            under,
            &parent_edge.belongs_to,
            (steps, source, &mut fields),
            errors,
        );
    }
}

/// A many_to_many edge resolved against the catalog: the join table and the far table,
/// the join's columns that take the parent's key and the far row's, and the far table's
/// key and the unique column items connect by.
#[derive(Debug)]
pub(super) struct JoinLink {
    /// Index of the join table in `Model::tables`.
    pub(super) join: usize,
    /// Index of the far table.
    pub(super) far: usize,
    /// The join's column taking the parent's key, and the parent's key column.
    pub(super) takes_parent_column: (usize, usize),
    /// The join's column taking the far row's key, and its name where graphs.toml says it
    /// (or the `through` table, when the DDL's one foreign key names it).
    pub(super) far_fk: usize,
    pub(super) far_fk_name: Spanned<String>,
    /// The far table's key column.
    pub(super) key: usize,
    /// The far table's unique column items connect by, and where graphs.toml names it.
    pub(super) by: usize,
    pub(super) connect_by: Spanned<String>,
}

/// Resolves a many_to_many edge of a step of table `parent`: the join table's foreign key
/// to the parent (`fk`, or the one the DDL declares), its foreign key to the far table
/// (`far_fk`, or the one other the DDL declares: a join table needs one to each side), the
/// far table's one-column primary key, and the unique key items connect by (`connect_by`,
/// else that primary key).
pub(super) fn join_link(
    names: &Names<'_>,
    tables: &[TableModel<'_>],
    parent: Parent,
    edge: &ManyToManyConfig,
    file: &SourceFile,
) -> Result<JoinLink, Diagnostic> {
    let far = table_index(names, tables, &edge.table, file)?;
    let join = table_index(names, tables, &edge.through, file)?;
    let takes_parent_column = child_link(
        tables,
        parent.table,
        join,
        edge.fk.as_ref(),
        false,
        &edge.through,
        file,
    )?;
    let model = &tables[join];
    let far_fk_name = match &edge.far_fk {
        Some(column) => column.clone(),
        None => {
            let fk_name = &model.columns[takes_parent_column.0].column.name;
            let to_far: Vec<&crate::catalog::ForeignKey> = model
                .table
                .foreign_keys
                .iter()
                .chain(&model.partition_foreign_keys)
                .filter(|f| f.ref_table == tables[far].table.name && f.columns.len() == 1)
                .filter(|f| &f.columns[0] != fk_name)
                .collect();
            match to_far.as_slice() {
                [one] => Spanned::new(edge.through.span(), one.columns[0].clone()),
                found => {
                    let problem = if found.is_empty() {
                        format!(
                            "`{}` has no foreign key to `{}` besides `{fk_name}`: a join table needs one to each side",
                            model.table.name, tables[far].table.name
                        )
                    } else {
                        format!(
                            "`{}` has several foreign keys to `{}`",
                            model.table.name, tables[far].table.name
                        )
                    };
                    return Err(config::error_at(file, &edge.through, problem).with_help(
                        "declare the join table's foreign key to the far table (REFERENCES), or name its column with far_fk",
                    ));
                }
            }
        }
    };
    let far_key = match tables[far].primary_key.as_slice() {
        [one] => tables[far].columns[*one].column.name.clone(),
        _ => {
            return Err(config::error_at(
                file,
                &edge.table,
                format!(
                    "`{}` has no single-column primary key for its join rows to take",
                    tables[far].table.name
                ),
            )
            .with_help("give the far table a one-column primary key"))
        }
    };
    let connect_by = edge
        .connect_by
        .clone()
        .unwrap_or_else(|| Spanned::new(edge.table.span(), far_key));
    // Checked as a belongs_to of the join row that connects by the key.
    let connect = BelongsToConfig {
        field: edge.field.clone(),
        table: edge.table.clone(),
        set_fk: far_fk_name.clone(),
        mode: None,
        required: false,
        connect_by: Some(connect_by.clone()),
        belongs_to: Vec::new(),
    };
    let join_parent = Parent {
        step: StepRef::Root,
        table: join,
    };
    let step = belongs_to_step(names, tables, join_parent, &connect, String::new(), file)?;
    let (Some((far_fk, key)), Some(by)) = (step.kind.sets_parent_column(), step.connect_by) else {
        return Err(
            config::error_at(file, &edge.table, "the far table cannot be connected to")
                .with_help("give the far table a one-column primary key"),
        );
    };
    Ok(JoinLink {
        join,
        far,
        takes_parent_column,
        far_fk,
        far_fk_name,
        key,
        by,
        connect_by,
    })
}

/// The steps of a many_to_many edge under the step `parent` (`parent_pending`, `None`: the
/// root): its join rows, a has_many of the `through` table, and under them one step per way
/// an item finds its far row: created, connected by a unique key (`connect_by`, else the
/// primary key), and connected-or-created when the far table has a conflict key that every
/// row gives (see [`unkeyed_conflict_column`]).
fn many_to_many_steps(
    (names, tables, file): (&Names<'_>, &[TableModel<'_>], &SourceFile),
    (parent, parent_pending): (Parent, Option<usize>),
    (edge, field): (&ManyToManyConfig, String),
    (steps, source): (&mut Vec<Pending>, &str),
) -> Result<(), Diagnostic> {
    let resolved = join_link(names, tables, parent, edge, file)?;
    let far = resolved.far;
    let join_edge = ChildConfig {
        field: edge.field.clone(),
        table: edge.through.clone(),
        fk: edge.fk.clone(),
        fk_unchecked: false,
        mode: None,
        required: false,
        graph: None,
        copy: None,
        returning: None,
        belongs_to: Vec::new(),
        has_one: Vec::new(),
        has_many: Vec::new(),
        many_to_many: Vec::new(),
        before_insert: Vec::new(),
        after_insert: Vec::new(),
    };
    let mut join_step = child_step(names, tables, parent, true, &join_edge, field, file)?;
    join_step.kind = StepKind::ManyToMany {
        takes_parent_column: resolved.takes_parent_column,
    };
    let far_fk = resolved.far_fk_name.clone();
    let connect_by = resolved.connect_by.clone();
    let upsert = tables[far].conflict.is_some() && unkeyed_conflict_column(&tables[far]).is_none();
    let mut ways = vec![
        (LinkHow::Create, None, None),
        (LinkHow::Connect, None, Some(connect_by)),
    ];
    if upsert {
        let mode = Spanned::new(edge.table.span(), ParentMode::UpsertReturning);
        ways.push((LinkHow::ConnectOrCreate, Some(mode), None));
    }
    let join_parent = Parent {
        step: StepRef::Root,
        table: resolved.join,
    };
    let mut links = Vec::new();
    for (how, mode, connect_by) in ways {
        let link = BelongsToConfig {
            field: Spanned::new(edge.field.span(), how.as_str().to_owned()),
            table: edge.table.clone(),
            set_fk: far_fk.clone(),
            mode,
            required: false,
            connect_by,
            belongs_to: Vec::new(),
        };
        let mut step = belongs_to_step(
            names,
            tables,
            join_parent,
            &link,
            how.as_str().to_owned(),
            file,
        )?;
        if let Some(sets_parent_column) = step.kind.sets_parent_column() {
            step.kind = StepKind::Link {
                sets_parent_column,
                how,
            };
        }
        links.push(step);
    }
    steps.push(Pending {
        field: edge.field.clone(),
        source: source.to_owned(),
        step: join_step,
        parent: parent_pending,
    });
    let join_index = steps.len() - 1;
    for step in links {
        steps.push(Pending {
            field: edge.field.clone(),
            source: source.to_owned(),
            step,
            parent: Some(join_index),
        });
    }
    Ok(())
}

/// The first column of `table`'s conflict key that a row may leave unset, and why. A
/// nested belongs_to that upserts finds each row's parent by the key's given values (rows
/// that repeat them write one parent), so every row must give them: NULL equals nothing,
/// and a default (a sequence's next value) is not known before the insert.
fn unkeyed_conflict_column<'t>(table: &'t TableModel<'_>) -> Option<(&'t str, &'static str)> {
    let conflict = table.conflict.as_ref()?;
    conflict
        .key
        .iter()
        .map(|&i| &table.columns[i])
        .find_map(|c| {
            let why = match c.insert {
                _ if !c.not_null => "may be NULL",
                Some(InsertKind::Required | InsertKind::Injected) => return None,
                _ => "takes a default",
            };
            Some((c.column.name.as_str(), why))
        })
}

/// A nested edge's field named `row`, which its item type already has for the parent's
/// own row.
fn row_field(field: &Spanned<String>, file: &SourceFile) -> Option<Diagnostic> {
    (field.get_ref() == "row").then(|| {
        config::error_at(file, field, "`row` is the field of the parent's own row")
            .with_help("name this edge's field differently")
    })
}

/// A nested edge that inserts rows under its parent's (has_one, has_many, before_insert,
/// after_insert), checked: it does not upsert yet, and the parent column it takes is one
/// the parent's insert writes. `at` is its field and the span of its `mode`, where an
/// upsert is reported.
fn nested_insert_step(
    step: Result<GraphStep, Diagnostic>,
    (field, mode): (&Spanned<String>, Option<std::ops::Range<usize>>),
    parent: &TableModel<'_>,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> Option<GraphStep> {
    let step = match step {
        Ok(step) => step,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    if step.upsert {
        let message = format!(
            "`{}` upserts its rows: a nested edge cannot upsert yet",
            field.get_ref()
        );
        let at = mode.unwrap_or_else(|| field.span());
        errors.push(
            Diagnostic::at(&file.path, &file.text, at.start, message)
                .with_help("use mode = \"insert\" for this edge, or move it to the root's edges"),
        );
        return None;
    }
    if !written_by_insert(parent, step.kind) {
        errors.push(
            config::error_at(
                file,
                field,
                format!(
                    "`{}` links to a column of `{}` that inserts do not write (a generated column)",
                    field.get_ref(),
                    parent.table.name
                ),
            )
            .with_help("rows under a nested edge read their parent's key as the insert writes it; link to a column the insert sets"),
        );
        return None;
    }
    Some(step)
}

/// Whether the parent column a nested step's rows take is one its parent's insert writes
/// (an identity ALWAYS key too, drawn before the insert): the rows under a nested step read
/// their parent's values as the insert selects them. A generated column is not.
fn written_by_insert(parent: &TableModel<'_>, kind: StepKind) -> bool {
    kind.takes_parent_column()
        .is_none_or(|(_, column)| written_by_insert_column(&parent.columns[column]))
}

/// The parent's insert writes the column: the rows under it can read its value.
fn written_by_insert_column(column: &ColumnModel<'_>) -> bool {
    column.insert.is_some() || (column.column.identity.is_some() && column.default_sql.is_some())
}

/// A belongs_to edge of the step `parent`: the row it references, written first,
/// whose key goes into a column of `parent`.
pub(super) fn belongs_to_step(
    names: &Names<'_>,
    tables: &[TableModel<'_>],
    parent: Parent,
    edge: &BelongsToConfig,
    field: String,
    file: &SourceFile,
) -> Result<GraphStep, Diagnostic> {
    let parent_model = &tables[parent.table];
    let referenced = table_index(names, tables, &edge.table, file)?;
    let set_fk = column_index(tables, parent.table, &edge.set_fk, file)?;
    let (upsert, ignore) = upsert_mode(edge.mode.as_ref(), tables, referenced, file)?;
    let key = match tables[referenced].primary_key.as_slice() {
        [one] => *one,
        _ => {
            return Err(config::error_at(
                file,
                &edge.table,
                format!(
                    "parent `{}` has no single-column primary key",
                    tables[referenced].table.name
                ),
            )
            .with_help(
                "belongs_to needs the parent's id: give the parent a one-column primary key",
            ))
        }
    };
    let declared = parent_model
        .table
        .foreign_keys
        .iter()
        .chain(&parent_model.partition_foreign_keys)
        .find(|f| {
            f.ref_table == tables[referenced].table.name
                && f.columns == [edge.set_fk.get_ref().clone()]
        });
    let key_name = &tables[referenced].columns[key].column.name;
    if let Some(f) = declared.filter(|f| f.ref_columns != [key_name.clone()]) {
        return Err(config::error_at(
                    file,
                    &edge.set_fk,
                    format!(
                        "`{}` references `{}` ({}), but belongs_to fills it with the parent's primary key `{key_name}`",
                        edge.set_fk.get_ref(),
                        tables[referenced].table.name,
                        f.ref_columns.join(", ")
                    ),
                )
                .with_help(format!(
                    "make the foreign key reference `{}` ({key_name}) in the DDL",
                    tables[referenced].table.name
                )));
    }
    if declared.is_none() {
        return Err(config::error_at(
            file,
            &edge.set_fk,
            format!(
                "no foreign key of `{}` makes `{}` reference `{}`",
                parent_model.table.name,
                edge.set_fk.get_ref(),
                tables[referenced].table.name
            ),
        )
        .with_help("declare the foreign key in the DDL (REFERENCES), or fix set_fk or table"));
    }
    let connect_by = edge
        .connect_by
        .as_ref()
        .map(|column| connect_key(tables, referenced, column, edge, file))
        .transpose()?;
    let row_type = match connect_by {
        Some(column) => tables[referenced].columns[column].ty.rust.clone(),
        None => format!("New{}", tables[referenced].rust_name),
    };
    Ok(GraphStep {
        kind: StepKind::BelongsTo {
            sets_parent_column: (set_fk, key),
            required: edge.required,
        },
        parent: parent.step,
        row_type,
        item_type: None,
        field,
        table: referenced,
        upsert,
        ignore,
        cardinality: Cardinality::Optional,
        tag: String::new(),
        copied: Vec::new(),
        connect_by,
        repeat_key: None,
        own_row: None,
        returning: false,
    })
}

/// The column a belongs_to edge connects by: a one-column unique key (or the primary key)
/// of the parent table `referenced`, and the edge has no `mode` (it writes no parent).
fn connect_key(
    tables: &[TableModel<'_>],
    referenced: usize,
    column: &Spanned<String>,
    edge: &BelongsToConfig,
    file: &SourceFile,
) -> Result<usize, Diagnostic> {
    let index = column_index(tables, referenced, column, file)?;
    let table = &tables[referenced];
    if let Some(mode) = &edge.mode {
        return Err(config::error_at(
            file,
            mode,
            "a belongs_to with `connect_by` looks its parent up and writes none: it takes no `mode`",
        )
        .with_help("remove `mode`, or `connect_by` to write the parent"));
    }
    let name = &table.columns[index].column.name;
    let unique = table.primary_key == [index]
        || table
            .table
            .uniques
            .iter()
            .any(|u| !u.partial && u.columns == [name.clone()]);
    if !unique {
        return Err(config::error_at(
            file,
            column,
            format!(
                "`{name}` is not a unique key of `{}`: a key must name at most one row to connect to",
                table.table.name
            ),
        )
        .with_help(format!(
            "connect by a column with a UNIQUE constraint (or the primary key) of `{}`",
            table.table.name
        )));
    }
    Ok(index)
}

/// A before_insert or after_insert (`after`) edge of the step `parent`: rows
/// unrelated to it, or given its id.
fn row_step(
    names: &Names<'_>,
    tables: &[TableModel<'_>],
    parent: Parent,
    after: bool,
    edge: &StepConfig,
    field: String,
    file: &SourceFile,
) -> Result<GraphStep, Diagnostic> {
    let table = table_index(names, tables, &edge.table, file)?;
    let (upsert, ignore) = upsert_mode(edge.mode.as_ref(), tables, table, file)?;
    let takes_parent_column = match (&edge.fk, after) {
        (Some(fk), false) => {
            return Err(config::error_at(
                file,
                fk,
                "before_insert runs before the root exists and cannot take its id",
            )
            .with_help("use after_insert for rows that reference the root"))
        }
        (Some(fk), true) => Some(child_link(
            tables,
            parent.table,
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
    let kind = if after {
        StepKind::AfterInsert {
            takes_parent_column,
        }
    } else {
        StepKind::BeforeInsert
    };
    Ok(GraphStep {
        kind,
        parent: parent.step,
        row_type: format!("New{}", tables[table].rust_name),
        item_type: None,
        field,
        table,
        upsert,
        ignore,
        cardinality,
        tag: String::new(),
        copied: Vec::new(),
        connect_by: None,
        repeat_key: None,
        own_row: None,
        returning: false,
    })
}

/// A has_one or has_many (`many`) edge of the step `parent`: rows that
/// reference it.
fn child_step(
    names: &Names<'_>,
    tables: &[TableModel<'_>],
    parent: Parent,
    many: bool,
    edge: &ChildConfig,
    field: String,
    file: &SourceFile,
) -> Result<GraphStep, Diagnostic> {
    let table = table_index(names, tables, &edge.table, file)?;
    let (upsert, ignore) = upsert_mode(edge.mode.as_ref(), tables, table, file)?;
    let link = child_link(
        tables,
        parent.table,
        table,
        edge.fk.as_ref(),
        edge.fk_unchecked,
        &edge.table,
        file,
    )?;
    check_child_edge(tables, table, link.0, !many, upsert, &edge.table, file)?;
    if many && edge.required {
        return Err(config::error_at(
            file,
            &edge.field,
            format!("has_many `{}` cannot be `required`", edge.field.get_ref()),
        )
        .with_help("remove `required = true`: a has_many field is a Vec, which may be empty"));
    }
    let (kind, cardinality) = match (many, edge.required) {
        (true, _) => (
            StepKind::HasMany {
                takes_parent_column: link,
            },
            Cardinality::Many,
        ),
        (false, required) => (
            StepKind::HasOne {
                takes_parent_column: link,
            },
            if required {
                Cardinality::One
            } else {
                Cardinality::Optional
            },
        ),
    };
    let copied = copied_columns(tables, (parent.table, table, link.0), edge, file)?;
    let returning = returned_rows(&tables[table], upsert, edge, file)?;
    Ok(GraphStep {
        kind,
        parent: parent.step,
        row_type: format!("New{}", tables[table].rust_name),
        item_type: None,
        field,
        table,
        upsert,
        ignore,
        cardinality,
        tag: String::new(),
        copied,
        connect_by: None,
        repeat_key: None,
        own_row: None,
        returning,
    })
}

/// Every primary key column of `table` is known before its insert, to join a stored row back
/// to its input row by: written by the insert (given, or drawn from its default in the
/// statement), or an identity drawn from its default.
fn key_known_before_insert(table: &TableModel<'_>) -> bool {
    table.primary_key.iter().all(|&c| {
        let column = &table.columns[c];
        column.insert.is_some()
            || (column.column.identity.is_some() && column.default_sql.is_some())
    })
}

/// Whether `edge` returns its rows (`returning = true`): each returned row is joined back
/// to its input row by the table's primary key, so every key column must be known before
/// the insert (given by the row or drawn from its default, not filled by the database), and
/// the rows are inserted, not upserted (an existing row keeps a key of its own).
fn returned_rows(
    table: &TableModel<'_>,
    upsert: bool,
    edge: &ChildConfig,
    file: &SourceFile,
) -> Result<bool, Diagnostic> {
    let Some(returning) = edge.returning.as_ref().filter(|r| *r.get_ref()) else {
        return Ok(false);
    };
    let problem = if upsert {
        Some("an upserted row that exists keeps its own key, which its input row does not know")
    } else if table.primary_key.is_empty() {
        Some("its table has no primary key to join each stored row back to its input row by")
    } else if !key_known_before_insert(table) {
        Some("its table's primary key is filled by the database, after the insert")
    } else {
        None
    };
    match problem {
        None => Ok(true),
        Some(problem) => Err(config::error_at(
            file,
            returning,
            format!(
                "edge `{}` cannot return its rows: {problem}",
                edge.field.get_ref()
            ),
        )
        .with_help("remove `returning`, or read the rows back by their parent's key")),
    }
}

/// The columns of `edge`'s rows filled from its parent row (`copy`): each a column of the
/// child that inserts write, not the foreign key the graph fills (`fk`), from a column of
/// the parent that its insert writes, of the same type.
fn copied_columns(
    tables: &[TableModel<'_>],
    (parent, child, fk): (usize, usize, usize),
    edge: &ChildConfig,
    file: &SourceFile,
) -> Result<Vec<(usize, usize)>, Diagnostic> {
    let Some(copy) = &edge.copy else {
        return Ok(Vec::new());
    };
    let mut copied = Vec::new();
    for (to, from) in copy {
        let to_index = column_index(tables, child, to, file)?;
        let from_index = column_index(tables, parent, from, file)?;
        let (child_column, parent_column) = (
            &tables[child].columns[to_index],
            &tables[parent].columns[from_index],
        );
        let problem = if to_index == fk {
            Some(format!(
                "`{}` is the foreign key the graph fills",
                to.get_ref()
            ))
        } else if child_column.insert.is_none() {
            Some(format!("inserts do not write `{}`", to.get_ref()))
        } else if !written_by_insert_column(parent_column) {
            Some(format!(
                "`{}` of `{}` is a generated column: inserts do not write it",
                from.get_ref(),
                tables[parent].table.name
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(config::error_at(
                file,
                to,
                format!("cannot copy into `{}`: {problem}", to.get_ref()),
            )
            .with_help(
                "copy into a column of the child that inserts write, from one its parent's insert writes",
            ));
        }
        let (a, b) = (&child_column.ty, &parent_column.ty);
        if (&a.param_sql, &a.cast_to) != (&b.param_sql, &b.cast_to) {
            return Err(config::error_at(
                file,
                from,
                format!(
                    "cannot copy `{}` ({}) into `{}` ({}): the types differ",
                    from.get_ref(),
                    b.cast_to.as_deref().unwrap_or(&b.param_sql),
                    to.get_ref(),
                    a.cast_to.as_deref().unwrap_or(&a.param_sql),
                ),
            )
            .with_help("copy from a parent column of the child column's type"));
        }
        copied.push((to_index, from_index));
    }
    copied.sort_unstable();
    Ok(copied)
}

/// The graph's name must be a Rust type name that no table or enum took.
fn check_graph_name(
    name: &Spanned<String>,
    taken_names: &BTreeSet<String>,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) {
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
}

/// The field names of one struct of a graph seen so far (the graph's own, or the rows of a
/// step with nested edges): each must be a Rust field name, unique within the struct, and
/// not the field of a column of the struct's table.
#[derive(Debug)]
struct FieldNames<'m, 'a> {
    /// The table whose columns the struct holds.
    table: &'m TableModel<'a>,
    /// The field of the edge whose rows the struct is; `None` for the graph's struct.
    edge: Option<&'m str>,
    fields: Vec<String>,
}

impl<'m, 'a> FieldNames<'m, 'a> {
    /// No fields yet of the struct of `table`'s columns (the root's, or the rows of `edge`).
    fn new(table: &'m TableModel<'a>, edge: Option<&'m str>) -> Self {
        FieldNames {
            table,
            edge,
            fields: Vec::new(),
        }
    }

    /// Checks `field` and returns its Rust name.
    fn check(
        &mut self,
        field: &Spanned<String>,
        graph_name: &str,
        file: &SourceFile,
        errors: &mut Vec<Diagnostic>,
    ) -> String {
        let rust = ident::rust_field_name(field.get_ref());
        let table = &self.table.table.name;
        if !is_field_name(field.get_ref()) {
            errors.push(
                config::error_at(
                    file,
                    field,
                    format!("`{}` is not a Rust field name", field.get_ref()),
                )
                .with_help("use lowercase letters, digits and underscores, like `items`"),
            );
        } else if self
            .table
            .columns
            .iter()
            .any(|c| c.insert.is_some() && c.field == rust)
        {
            let owner = match self.edge {
                None => format!("of the root `{table}`"),
                Some(edge) => format!("of `{table}`, the rows of `{edge}`"),
            };
            errors.push(
                config::error_at(
                    file,
                    field,
                    format!(
                        "field `{}` clashes with column `{rust}` {owner}",
                        field.get_ref()
                    ),
                )
                .with_help("name the edge's field differently, e.g. after the related table"),
            );
        } else if self.fields.contains(&rust) {
            let scope = match self.edge {
                None => format!("in graph `{graph_name}`"),
                Some(edge) => format!("among the nested edges of `{edge}`"),
            };
            errors.push(
                config::error_at(
                    file,
                    field,
                    format!("field `{}` appears twice {scope}", field.get_ref()),
                )
                .with_help("give every edge its own field name"),
            );
        }
        self.fields.push(rust.clone());
        rust
    }
}

/// `root_id_field`: the root's one-column primary key, which the application can write.
fn root_id_field(
    graph: &InsertGraphConfig,
    tables: &[TableModel<'_>],
    root: usize,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> Option<usize> {
    let root_model = &tables[root];
    match &graph.root_id_field {
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
    }
}

/// The steps in execution order, each with its parent, its tag and the key its rows must
/// not repeat; and the root's tag. The root's steps come by [`StepKind::order`], then by
/// position in graphs.toml; each step's nested steps follow it at once, in the same order,
/// so that every parent comes before its children.
fn order_and_tag(
    steps: Vec<Pending>,
    tables: &[TableModel<'_>],
    root_model: &TableModel<'_>,
) -> (Vec<GraphStep>, String) {
    let mut order = Vec::with_capacity(steps.len());
    push_in_order(&steps, None, &mut order);
    // Index in execution order of each pending step.
    let mut index = vec![0; steps.len()];
    for (at, &pending) in order.iter().enumerate() {
        index[pending] = at;
    }
    let parents: Vec<Option<usize>> = steps.iter().map(|p| p.parent).collect();
    let mut steps: Vec<Option<GraphStep>> = steps.into_iter().map(|p| Some(p.step)).collect();
    let mut ordered: Vec<GraphStep> = Vec::with_capacity(steps.len());
    let mut tags = Tags::new(root_model);
    for &pending in &order {
        let Some(mut step) = steps[pending].take() else {
            continue;
        };
        let parent = parents[pending].map(|p| index[p]);
        step.parent = parent.map_or(StepRef::Root, StepRef::Step);
        let table = &tables[step.table];
        let parent_tag = parent.and_then(|p| ordered.get(p)).map(|p| p.tag.as_str());
        step.tag = tags.step(parent_tag, step.kind.as_str(), table, &step.field);
        step.repeat_key = match (
            &table.conflict,
            step.upsert && !step.ignore,
            step.cardinality,
        ) {
            (Some(conflict), true, Cardinality::Many) => {
                Some(conflict.repeat_key(step.kind.takes_parent_column().map(|(c, _)| c)))
            }
            _ => None,
        };
        ordered.push(step);
    }
    (ordered, tags.root())
}

/// Appends to `order` the children of `parent` (indexes into `steps`), each followed by its
/// own children.
fn push_in_order(steps: &[Pending], parent: Option<usize>, order: &mut Vec<usize>) {
    let mut children: Vec<usize> = (0..steps.len())
        .filter(|&i| steps[i].parent == parent)
        .collect();
    children.sort_by_key(|&i| (steps[i].step.kind.order(), steps[i].field.span().start));
    for child in children {
        order.push(child);
        push_in_order(steps, Some(child), order);
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Cardinality, StepRef};
    use crate::source::SourceFile;
    use crate::Input;

    const SCHEMA: &str = "\
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL);
CREATE TABLE posts (id bigserial PRIMARY KEY,
    author_id bigint NOT NULL REFERENCES users (id), title text NOT NULL);
CREATE TABLE comments (id bigserial PRIMARY KEY,
    post_id bigint NOT NULL REFERENCES posts (id), body text NOT NULL);
CREATE TABLE post_stats (post_id bigint PRIMARY KEY REFERENCES posts (id), views integer);
CREATE TABLE profiles (user_id bigint PRIMARY KEY REFERENCES users (id), bio text);
CREATE TABLE audit (id bigserial PRIMARY KEY, note text);
";

    const GRAPHS: &str = r#"
[insert.NewUserGraph]
root = "users"

[[insert.NewUserGraph.after_insert]]
field = "audit"
table = "audit"

[[insert.NewUserGraph.has_many]]
field = "posts"
table = "posts"

[[insert.NewUserGraph.has_many.has_many]]
field = "comments"
table = "comments"

[[insert.NewUserGraph.has_many.has_many]]
field = "replies"
table = "comments"

[[insert.NewUserGraph.has_many.has_one]]
field = "stats"
table = "post_stats"

[[insert.NewUserGraph.has_one]]
field = "profile"
table = "profiles"
"#;

    #[test]
    fn nested_edges_become_steps_below_their_parent_step() {
        let input = Input {
            schema: vec![SourceFile::new("schema.sql", SCHEMA)],
            graphs: Some(SourceFile::new("graphs.toml", GRAPHS)),
            ..Input::default()
        };
        let (catalog, config) = match crate::read_inputs(&input) {
            Ok(inputs) => inputs,
            Err(e) => panic!("{e}"),
        };
        let model = match crate::validate::validate(&catalog, &config, input.graphs.as_ref()) {
            Ok(model) => model,
            Err(e) => panic!("{e}"),
        };
        let graph = &model.graphs[0];
        let steps: Vec<(&str, StepRef, &str, &str)> = graph
            .steps
            .iter()
            .map(|s| {
                let table = model.tables[s.table].table.name.name.as_str();
                (s.field.as_str(), s.parent, table, s.tag.as_str())
            })
            .collect();
        assert_eq!(
            steps,
            [
                ("posts", StepRef::Root, "posts", "graph:has_many:posts"),
                (
                    "comments",
                    StepRef::Step(0),
                    "comments",
                    "graph:has_many:posts/has_many:comments"
                ),
                (
                    "replies",
                    StepRef::Step(0),
                    "comments",
                    "graph:has_many:posts/has_many:comments:replies"
                ),
                (
                    "stats",
                    StepRef::Step(0),
                    "post_stats",
                    "graph:has_many:posts/has_one:post_stats"
                ),
                (
                    "profile",
                    StepRef::Root,
                    "profiles",
                    "graph:has_one:profiles"
                ),
                ("audit", StepRef::Root, "audit", "graph:after_insert:audit"),
            ]
        );
        // Every parent comes before its children.
        for (index, step) in graph.steps.iter().enumerate() {
            if let StepRef::Step(parent) = step.parent {
                assert!(parent < index, "step {index} comes before its parent");
            }
        }
        // A nested step links to its parent step's table: comments.post_id ← posts.id.
        let posts = &model.tables[graph.steps[0].table];
        let comments = &model.tables[graph.steps[1].table];
        let (fk, key) = graph.steps[1]
            .kind
            .takes_parent_column()
            .unwrap_or_else(|| panic!("comments take no parent column"));
        assert_eq!(comments.columns[fk].column.name, "post_id");
        assert_eq!(posts.columns[key].column.name, "id");
        assert_eq!(graph.table_of(graph.steps[1].parent), graph.steps[0].table);
        assert_eq!(graph.steps[3].cardinality, Cardinality::Optional);
        assert_eq!(graph.steps[1].row_type, "NewCommentForPost");
    }

    #[test]
    fn a_nested_field_must_be_unique_among_its_parent_edges_fields() {
        let graphs = r#"
[insert.NewUserGraph]
root = "users"
[[insert.NewUserGraph.has_many]]
field = "posts"
table = "posts"
[[insert.NewUserGraph.has_many.has_many]]
field = "title"
table = "comments"
[[insert.NewUserGraph.has_many.has_one]]
field = "email"
table = "post_stats"
"#;
        let input = Input {
            schema: vec![SourceFile::new("schema.sql", SCHEMA)],
            graphs: Some(SourceFile::new("graphs.toml", graphs)),
            ..Input::default()
        };
        let message = crate::generate(&input)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains(
                "field `title` clashes with column `title` of `public.posts`, the rows of `posts`"
            ),
            "{message}"
        );
        // `email` is a column of the root, not of posts: only the not-generated-yet error.
        assert!(!message.contains("field `email`"), "{message}");
    }
}
