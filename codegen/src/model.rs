//! The resolved model: what `validate` makes of the catalog and `graphs.toml`, and what the
//! later stages (`plan`, `emit`) read. Types only; `validate` builds them.

use crate::catalog::{Column, ForeignKey, QualifiedName, Table};
pub use crate::config::Strategy;
use crate::types::ColumnType;

/// Everything the generator emits, resolved and checked.
#[derive(Debug)]
pub struct Model<'a> {
    /// Tables that are write targets, in creation order.
    pub tables: Vec<TableModel<'a>>,
    /// Enum types used by those tables, in creation order.
    pub enums: Vec<EnumModel>,
    /// Insert graphs, in `graphs.toml` order of names.
    pub graphs: Vec<GraphModel>,
    /// Update graphs, in `graphs.toml` order of names.
    pub update_graphs: Vec<UpdateGraphModel>,
}

/// The user's attributes (`[attributes]` of graphs.toml, then `Builder::type_attribute`'s, in
/// order) that fall on one generated type and its fields.
#[derive(Debug, Clone, Default)]
pub struct Attributes {
    /// On the type.
    pub on_type: Vec<String>,
    /// On fields, by Rust field name.
    pub on_field: std::collections::BTreeMap<String, Vec<String>>,
}

impl Attributes {
    /// What the `#[derive(...)]` attributes on the type derive, by the last segment of each
    /// path (`serde::Deserialize` is `Deserialize`). Read as Rust, so that a doc comment or a
    /// derive named `MyDeserialize` that mentions the word is not taken for serde's.
    pub fn derives(&self) -> Vec<String> {
        let mut names = Vec::new();
        for attribute in &self.on_type {
            // Validation made sure each is an outer attribute.
            let Ok(item) = syn::parse_str::<syn::ItemStruct>(&format!("{attribute}\nstruct S;"))
            else {
                continue;
            };
            for attr in item.attrs.iter().filter(|a| a.path().is_ident("derive")) {
                let _ = attr.parse_nested_meta(|meta| {
                    if let Some(last) = meta.path.segments.last() {
                        names.push(last.ident.to_string());
                    }
                    Ok(())
                });
            }
        }
        names
    }
}

/// One attribute on the generated types or fields a path selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// `.` (every generated type), a table (`orders`, `public.orders`: its row, insert and
    /// patch structs), a graph (`NewOrderGraph`), an enum's SQL name (`order_status`), or
    /// one field: `table.column` (in every struct of the table and the insert graphs rooted in
    /// it; an update graph holds the patch)
    /// or `Graph.field`.
    pub path: String,
    /// The attribute as Rust writes it (`#[derive(serde::Serialize)]`).
    pub attribute: String,
}

/// A generated enum.
#[derive(Debug)]
pub struct EnumModel {
    /// The enum's SQL name.
    pub name: QualifiedName,
    /// Rust type name.
    pub rust_name: String,
    /// (label, Rust variant name) in sort order.
    pub variants: Vec<(String, String)>,
    /// The user's attributes.
    pub attributes: Attributes,
}

/// One table and its generated names.
#[derive(Debug, Clone)]
pub struct TableModel<'a> {
    /// The catalog's table.
    pub table: &'a Table,
    /// Row struct name (`OrderItem`); the insert struct is `New{rust_name}`, the patch
    /// struct `{rust_name}Patch`.
    pub rust_name: String,
    /// Every column, in table order.
    pub columns: Vec<ColumnModel<'a>>,
    /// Indexes into `columns` of the primary key, in key order.
    pub primary_key: Vec<usize>,
    /// The upsert conflict, when the table has one.
    pub conflict: Option<Conflict>,
    /// Names of the table's partitions, at any depth: errors about a row that PostgreSQL
    /// routed into one name the partition.
    pub partitions: Vec<String>,
    /// Foreign keys the table does not declare but every partition has
    /// ([`Catalog::partition_foreign_keys`](crate::catalog::Catalog::partition_foreign_keys)): graphs link through them as through its own.
    pub partition_foreign_keys: Vec<ForeignKey>,
    /// The user's attributes for the row, insert and patch structs.
    pub attributes: Attributes,
}

/// One column and how it is generated.
#[derive(Debug, Clone)]
pub struct ColumnModel<'a> {
    /// The catalog's column.
    pub column: &'a Column,
    /// Rust field name.
    pub field: String,
    /// Why the field is not the name made from the column's SQL name, when it is not: two
    /// columns would have made the same field or setter, and this one took a suffix. Said in
    /// the field's doc comment.
    pub field_note: Option<String>,
    /// Rust type and binding.
    pub ty: ColumnType,
    /// The column (or its domain) is NOT NULL: row fields are `T`, not `Option<T>`.
    pub not_null: bool,
    /// How inserts treat the column; `None` when inserts cannot set it (generated columns,
    /// identity ALWAYS).
    pub insert: Option<InsertKind>,
    /// The SQL an insert uses when the column is left unset (its DEFAULT, the domain's
    /// DEFAULT, or the identity's next value).
    pub default_sql: Option<String>,
    /// An update may assign the column.
    pub updatable: bool,
}

/// How an insert struct holds a column, and what leaving it unset means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertKind {
    /// NOT NULL without a default: `T`, a constructor argument.
    Required,
    /// NOT NULL without a default, and a graph step fills it with its parent's key: required
    /// of the table's own rows like `Required`, left out of the graph's row type, and held
    /// as `Option` in the batch columns (a graph's rows leave it unset).
    Injected,
    /// NOT NULL with a default: `Option<T>`; `None` takes the default.
    Defaulted,
    /// Nullable without a default: `Option<T>`; `None` is NULL.
    Nullable,
    /// Nullable with a default: `Option<Option<T>>`; `None` takes the default,
    /// `Some(None)` is NULL.
    NullableDefaulted,
}

/// The key `ON CONFLICT` names.
#[derive(Debug, Clone)]
pub struct Conflict {
    /// `ON CONFLICT ON CONSTRAINT name` instead of a column list.
    pub constraint: Option<String>,
    /// Indexes into the table's columns of the key.
    pub key: Vec<usize>,
    /// Indexes of the columns `DO UPDATE SET` assigns; empty means a no-op update of the
    /// first key column (so that `RETURNING` still returns the existing row).
    pub update: Vec<usize>,
}

impl Conflict {
    /// What the rows of one write must not repeat: the conflict key, without `filled` (a
    /// column a graph fills with one value for every row). Two rows with one key would make
    /// `ON CONFLICT DO UPDATE` affect a row twice, which PostgreSQL rejects.
    pub fn repeat_key(&self, filled: Option<usize>) -> Vec<usize> {
        self.key
            .iter()
            .copied()
            .filter(|&i| Some(i) != filled)
            .collect()
    }
}

/// A step of a graph, so that a step can name the step it links to: graphs of any depth
/// are a tree of steps under the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepRef {
    /// The graph's root row.
    Root,
    /// A step, by its index in the graph's steps.
    Step(usize),
}

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
    /// Steps in execution order around their parent: belongs_to, before_insert, (the
    /// parent), has_one/has_many, after_insert; each group in declaration order.
    pub steps: Vec<GraphStep>,
    /// Tag of the root step (`graph:root:products`).
    pub root_tag: String,
    /// Many graphs can be written in one statement (`insert_graph_many`): every parent the
    /// graph finds or creates by its conflict key has a key each row gives, so that each
    /// graph finds its own parent's key (see `Conflict`).
    pub writes_many: bool,
    /// The user's attributes.
    pub attributes: Attributes,
}

impl GraphModel {
    /// Index in `Model::tables` of the table a step writes, so links resolve on any parent.
    pub fn table_of(&self, step: StepRef) -> usize {
        match step {
            StepRef::Root => self.root,
            StepRef::Step(i) => self.steps[i].table,
        }
    }

    /// Some step hangs from `step`.
    pub fn has_steps_under(&self, step: StepRef) -> bool {
        self.steps.iter().any(|s| s.parent == step)
    }
}

/// What a step is, relative to its parent step, with the columns that link the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// A row the parent references: written first, its key goes into a parent column.
    BelongsTo {
        /// The parent step's column that receives this step's key, and this step's key
        /// column.
        sets_parent_column: (usize, usize),
        /// The parent must get a row: this one, or its own value of the column.
        required: bool,
    },
    /// Rows written before the parent, unrelated to it.
    BeforeInsert,
    /// One child referencing the parent.
    HasOne {
        /// This step's column receiving the parent's key, and the parent's column it copies.
        takes_parent_column: (usize, usize),
    },
    /// Child rows referencing the parent.
    HasMany {
        /// This step's column receiving the parent's key, and the parent's column it copies.
        takes_parent_column: (usize, usize),
    },
    /// Rows written after the parent, optionally given its key.
    AfterInsert {
        /// This step's column receiving the parent's key, and the parent's column it copies.
        takes_parent_column: Option<(usize, usize)>,
    },
    /// Join rows linking the parent to rows of a far table (`many_to_many`): each item's
    /// far row comes from one of the [`StepKind::Link`] steps under this one.
    ManyToMany {
        /// This step's column receiving the parent's key, and the parent's column it copies.
        takes_parent_column: (usize, usize),
    },
    /// The far rows of a many_to_many step's items that link one way, written or looked up
    /// first; each key goes into its join row.
    Link {
        /// The join row's column that receives the far row's key, and that key column.
        sets_parent_column: (usize, usize),
        /// How the items of this step find their far row.
        how: LinkHow,
    },
}

/// How a many_to_many item finds the far row it links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkHow {
    /// A new row, inserted.
    Create,
    /// An existing row, looked up by a unique key.
    Connect,
    /// A row found by the far table's conflict key, or inserted (an upsert).
    ConnectOrCreate,
}

impl LinkHow {
    /// The word in tags (`.../connect:tags`).
    pub fn as_str(self) -> &'static str {
        match self {
            LinkHow::Create => "create",
            LinkHow::Connect => "connect",
            LinkHow::ConnectOrCreate => "connect_or_create",
        }
    }

    /// The variant of a link item's enum (`NewArticleGraphTagLink::Connect`).
    pub fn variant(self) -> &'static str {
        match self {
            LinkHow::Create => "Create",
            LinkHow::Connect => "Connect",
            LinkHow::ConnectOrCreate => "ConnectOrCreate",
        }
    }
}

impl StepKind {
    /// The word in tags and `graphs.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::BelongsTo { .. } => "belongs_to",
            StepKind::BeforeInsert => "before_insert",
            StepKind::HasOne { .. } => "has_one",
            StepKind::HasMany { .. } => "has_many",
            StepKind::AfterInsert { .. } => "after_insert",
            StepKind::ManyToMany { .. } => "many_to_many",
            StepKind::Link { how, .. } => how.as_str(),
        }
    }

    /// Where the step's group runs around its parent: belongs_to, before_insert, (the
    /// parent), has_one and has_many, after_insert. Steps run by group, then in declaration
    /// order.
    pub fn order(self) -> u8 {
        match self {
            StepKind::BelongsTo { .. } | StepKind::Link { .. } => 0,
            StepKind::BeforeInsert => 1,
            StepKind::HasOne { .. } | StepKind::HasMany { .. } | StepKind::ManyToMany { .. } => 2,
            StepKind::AfterInsert { .. } => 3,
        }
    }

    /// The step runs after its parent, so it may read the parent's columns.
    pub fn runs_after_parent(self) -> bool {
        self.order() >= 2
    }

    /// belongs_to: the parent's column that receives this step's key, and this step's key
    /// column.
    pub fn sets_parent_column(self) -> Option<(usize, usize)> {
        match self {
            StepKind::BelongsTo {
                sets_parent_column, ..
            }
            | StepKind::Link {
                sets_parent_column, ..
            } => Some(sets_parent_column),
            _ => None,
        }
    }

    /// This step's column that receives the parent's key, and the parent's column it copies.
    pub fn takes_parent_column(self) -> Option<(usize, usize)> {
        match self {
            StepKind::HasOne {
                takes_parent_column,
            }
            | StepKind::HasMany {
                takes_parent_column,
            }
            | StepKind::ManyToMany {
                takes_parent_column,
            } => Some(takes_parent_column),
            StepKind::AfterInsert {
                takes_parent_column,
            } => takes_parent_column,
            StepKind::BelongsTo { .. } | StepKind::BeforeInsert | StepKind::Link { .. } => None,
        }
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
    /// What the step is, and how it links to its parent.
    pub kind: StepKind,
    /// The step it links to and runs around.
    pub parent: StepRef,
    /// Rust field of the graph struct.
    pub field: String,
    /// The Rust type of the step's rows: the table's `NewT`, or, when the step fills a
    /// column of its rows with its parent's key, the graph's own type without that column
    /// (`NewOrderGraphItem`), so that `NewT` keeps its constructor whatever graphs use it.
    pub row_type: String,
    /// A step with steps under it: the type of its field's items, which holds one row of
    /// `row_type` and the fields of the steps under it (`NewUserGraphPost`), named after
    /// the graph and the field.
    pub item_type: Option<String>,
    /// Index of the step's table in `Model::tables`.
    pub table: usize,
    /// Upsert by the table's conflict key instead of a plain insert.
    pub upsert: bool,
    /// With `upsert`: a row whose conflict key exists is skipped, not updated
    /// (`mode = "insert_ignore"`), and the step counts only the rows it inserted. A
    /// belongs_to step still hands its children the existing row's key (a no-op update
    /// returns it, race-free); any other step inserts with `ON CONFLICT DO NOTHING`.
    pub ignore: bool,
    /// How many rows the field holds.
    pub cardinality: Cardinality,
    /// Stable tag, unique within the graph (`graph:has_many:order_items`).
    pub tag: String,
    /// A belongs_to step that connects by a unique key (`connect_by`): the key column, whose
    /// value the field holds; the row is looked up, not written.
    pub connect_by: Option<usize>,
    /// Columns of the step filled from its parent row's columns (`copy`): (this step's
    /// column, the parent's column), in this step's column order.
    pub copied: Vec<(usize, usize)>,
    /// Upserted rows of a `Vec` field: the key no two of them may share
    /// ([`Conflict::repeat_key`]).
    pub repeat_key: Option<Vec<usize>>,
    /// The step's rows are a type of its own (`row_type`), not the table's `NewT`: the
    /// columns it leaves out and those it holds as optional.
    pub own_row: Option<OwnRow>,
    /// Its rows as stored are returned too (`returning = true`), in input order: its table's
    /// primary key is known before the insert (given, or drawn from its default), by which
    /// each returned row is joined back to its input row.
    pub returning: bool,
}

/// The columns in which a step's own row type differs from its table's `NewT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnRow {
    /// Left out: the one the parent's key fills, those copied from the parent, and a join
    /// row's far key, which its item's link fills.
    pub omitted: Vec<usize>,
    /// Optional: those a belongs_to under the step fills when the row leaves them unset.
    pub optional: Vec<usize>,
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
    /// Parents the root connects to by a unique key, in declaration order.
    pub connects: Vec<UpdateConnect>,
    /// Tag of the root step (`graph:root:orders`).
    pub root_tag: String,
    /// The user's attributes.
    pub attributes: Attributes,
    /// The graph has `update_graph_many`: every child is the root's own and the root has a
    /// primary key.
    pub writes_many: bool,
}

impl UpdateGraphModel {
    /// Index in `Model::tables` of the table a step writes, so links resolve on any parent.
    pub fn table_of(&self, step: StepRef) -> usize {
        match step {
            StepRef::Root => self.root,
            StepRef::Step(i) => self.children[i].table,
        }
    }
}

/// A parent an update graph's root connects to by a unique key (`connect_by`): the field
/// holds the key's value; the statement looks the row up and assigns its key to `set_fk`.
#[derive(Debug, Clone)]
pub struct UpdateConnect {
    /// Rust field of the graph struct.
    pub field: String,
    /// Index of the parent's table in `Model::tables`.
    pub table: usize,
    /// The root's column that receives the parent's key.
    pub set_fk: usize,
    /// The parent's key column.
    pub key: usize,
    /// The parent's unique column looked up by the field's value.
    pub by: usize,
    /// Stable tag (`graph:belongs_to:users`).
    pub tag: String,
}

/// How an update graph brings a child collection to the given rows, with what the
/// strategy alone needs.
#[derive(Debug, Clone)]
pub enum UpdateStrategy {
    /// Delete the parent's children, then insert the given ones.
    Replace,
    /// Insert the given children; keep the others.
    Append,
    /// Insert or update the given children by the child's conflict key.
    Upsert,
    /// Upsert the given children by (fk, key), delete the others.
    Diff(DiffKey),
    /// Apply a patch of the child table to the parent's children.
    Update,
    /// many_to_many: bring the parent's join rows to the given far rows' keys. The step's
    /// table is the join table.
    Links(Links),
}

/// A many_to_many step of an update graph: which far rows its keys name, and how the join
/// rows follow them.
#[derive(Debug, Clone)]
pub struct Links {
    /// How the join rows follow the given keys.
    pub sync: LinkSync,
    /// Index of the far table in `Model::tables`.
    pub far: usize,
    /// The join table's column referencing the far row.
    pub far_fk: usize,
    /// The far table's key column, which `far_fk` holds.
    pub key: usize,
    /// The far table's unique column the given keys are looked up by.
    pub by: usize,
}

/// How a many_to_many step of an update graph brings the join rows to the given keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkSync {
    /// The links become exactly these: the others' join rows are deleted.
    Set,
    /// Link these too.
    Add,
    /// Delete the links to these.
    Remove,
}

/// What a diff matches children by.
#[derive(Debug, Clone)]
pub struct DiffKey {
    /// Indexes of the key columns (without the fk).
    pub key: Vec<usize>,
    /// The conflict the children are upserted by, (fk, key...), with the default update set.
    pub conflict: Conflict,
}

impl UpdateStrategy {
    /// The strategy's name in `graphs.toml`.
    pub fn kind(&self) -> Strategy {
        match self {
            UpdateStrategy::Replace => Strategy::Replace,
            UpdateStrategy::Append => Strategy::Append,
            UpdateStrategy::Upsert => Strategy::Upsert,
            UpdateStrategy::Diff(_) => Strategy::Diff,
            UpdateStrategy::Update => Strategy::Update,
            UpdateStrategy::Links(links) => match links.sync {
                LinkSync::Set => Strategy::Set,
                LinkSync::Add => Strategy::Add,
                LinkSync::Remove => Strategy::Remove,
            },
        }
    }

    /// The word in docs and `graphs.toml`.
    pub fn as_str(&self) -> &'static str {
        self.kind().as_str()
    }
}

/// One child step of an update graph.
#[derive(Debug, Clone)]
pub struct UpdateChild {
    /// The step it links to.
    pub parent: StepRef,
    /// replace, diff and update: the condition (`where`) that selects the children the
    /// strategy deletes or updates, as SQL over the child's columns, checked against the
    /// catalog.
    pub condition: Option<String>,
    /// `has_many` (`Option<Vec<_>>`) or `has_one` (`Option<Option<_>>`).
    pub many: bool,
    /// Rust field of the graph struct.
    pub field: String,
    /// The Rust type of the child rows, without the column the graph fills
    /// (`OrderPatchGraphItem`); see [`GraphStep::row_type`]. Strategy update: the child
    /// table's patch (`OrderItemPatch`).
    pub row_type: String,
    /// Index of the child table in `Model::tables`.
    pub table: usize,
    /// The strategy.
    pub strategy: UpdateStrategy,
    /// This step's column receiving the parent's key, and the parent's column it copies.
    pub takes_parent_column: (usize, usize),
    /// Stable tag (`graph:has_many:order_items`).
    pub tag: String,
    /// has_many children upserted by a key (diff, upsert): the key no two given rows may
    /// share (without the fk, which is the parent's key for all of them).
    pub repeat_key: Option<Vec<usize>>,
}

#[cfg(test)]
mod tests {
    use super::Attributes;

    #[test]
    fn only_derives_count_as_derives() {
        let attributes = Attributes {
            on_type: vec![
                "#[derive(Debug, serde::Serialize)]".to_owned(),
                "#[doc = \"Deserialize me\"]".to_owned(),
                "#[derive(my::MyDeserialize)]".to_owned(),
                "#[serde(rename_all = \"camelCase\")]".to_owned(),
            ],
            ..Attributes::default()
        };
        assert_eq!(
            attributes.derives(),
            ["Debug", "Serialize", "MyDeserialize"]
        );
    }
}
