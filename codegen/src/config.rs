//! `graphs.toml`: per-table settings (upsert conflict targets, struct names), SQL type →
//! Rust type mappings, and the named insert and update graphs. Every name that refers to
//! something keeps its span (`toml::Spanned`), so later stages point at the exact line, and
//! unknown keys are rejected so that a typo never passes silently.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{ConfigError, Diagnostic};
use crate::source::SourceFile;
use crate::types::{Crates, DatetimeCrate, DecimalCrate};

/// The parsed `graphs.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphsConfig {
    /// `[tables.<name>]`: per-table settings; `<name>` is `table` or `schema.table`.
    #[serde(default)]
    pub tables: BTreeMap<Spanned<String>, TableConfig>,
    /// `[types]`: SQL type name → Rust type, for types writegraph does not map itself:
    /// `citext = "String"` (sent as text and cast to the column's type) or `vector = { rust =
    /// "pgvector::Vector", bind = "native" }` (bound as the type itself).
    #[serde(default)]
    pub types: BTreeMap<Spanned<String>, Spanned<TypeMapping>>,
    /// `[crates]`: the crates whose types date, time and `numeric` columns get.
    #[serde(default)]
    pub crates: CratesConfig,
    /// `[insert.<Graph>]`: insert graphs, by the name of the generated struct.
    #[serde(default)]
    pub insert: BTreeMap<Spanned<String>, InsertGraphConfig>,
    /// `[update.<Graph>]`: update graphs, by the name of the generated struct.
    #[serde(default)]
    pub update: BTreeMap<Spanned<String>, UpdateGraphConfig>,
    /// `[attributes]`: path → attributes for the generated types and fields the path
    /// selects (`"." = ["#[derive(serde::Serialize)]"]`; see
    /// [`Attribute::path`](crate::model::Attribute::path)).
    #[serde(default)]
    pub attributes: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
}

/// One `[types]` entry: the Rust type of a type writegraph does not map, and how its values
/// travel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeMapping {
    /// The Rust type path.
    pub rust: String,
    /// How values are bound.
    pub bind: TypeBind,
}

/// How the values of a `[types]` mapping are bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeBind {
    /// As text, cast to the type in SQL: the Rust type converts to and from `String`'s SQL
    /// form (`ToSql`/`FromSql` for `text`).
    #[default]
    Text,
    /// As the type itself, for a Rust type whose `ToSql`/`FromSql` accept exactly that type
    /// (pgvector's `Vector`, PostGIS crates' geometries): the statement declares the
    /// parameter's type unspecified, PostgreSQL resolves it from the cast, and it is prepared
    /// before it runs, so the value is encoded for the type the server reports.
    Native,
}

impl<'de> Deserialize<'de> for TypeMapping {
    /// A string (the Rust type, bound as text) or a table `{ rust = "..", bind = ".." }`.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Table {
            rust: String,
            #[serde(default)]
            bind: TypeBind,
        }

        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = TypeMapping;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(r#"a Rust type ("String") or a table { rust = "..", bind = "text" | "native" }"#)
            }

            fn visit_str<E: serde::de::Error>(self, rust: &str) -> Result<TypeMapping, E> {
                Ok(TypeMapping {
                    rust: rust.to_owned(),
                    bind: TypeBind::Text,
                })
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<TypeMapping, A::Error> {
                let table = Table::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(TypeMapping {
                    rust: table.rust,
                    bind: table.bind,
                })
            }
        }

        deserializer.deserialize_any(Visitor)
    }
}

/// `[crates]`: which crate's types generated code uses where there is a choice. A value
/// that is not one of the choices is an error at its position that lists them.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CratesConfig {
    /// `datetime = "chrono" | "time" | "jiff"`, for `date`, `time`, `timestamp` and
    /// `timestamptz` columns (default `chrono`).
    pub datetime: Option<DatetimeCrate>,
    /// `decimal = "rust_decimal"`, for `numeric` columns (the default and, for now, the only
    /// choice).
    pub decimal: Option<DecimalCrate>,
}

impl CratesConfig {
    /// The chosen crates, with the defaults for those not given.
    pub fn resolve(&self) -> Crates {
        Crates {
            datetime: self.datetime.unwrap_or_default(),
            decimal: self.decimal.unwrap_or_default(),
        }
    }
}

/// `[update.<Graph>]`: a patch of one root row and the synchronisation of its children
/// (seed design §6.2, §6.3, §7).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateGraphConfig {
    /// The table of the root row.
    pub root: Spanned<String>,
    /// Lock the root row (`SELECT ... FOR UPDATE`) before the graph statement, so that
    /// concurrent updates of one root apply one after the other.
    #[serde(default)]
    pub lock_root: bool,
    /// Child collections: `Option<Vec<NewChild>>`, `None` leaves them untouched.
    #[serde(default)]
    pub has_many: Vec<UpdateChildConfig>,
    /// One child: `Option<Option<NewChild>>`, `None` untouched, `Some(None)` deletes it.
    #[serde(default)]
    pub has_one: Vec<UpdateChildConfig>,
    /// Parents the root connects to by a unique key (`connect_by`, required here): the
    /// field holds the key's value, `None` leaves `set_fk` unchanged.
    #[serde(default)]
    pub belongs_to: Vec<BelongsToConfig>,
    /// Links of the root to rows of another table through a join table:
    /// `Option<Vec<key>>`, `None` leaves them untouched.
    #[serde(default)]
    pub many_to_many: Vec<UpdateManyToManyConfig>,
}

/// `[[update.<Graph>.many_to_many]]`: the root's links to rows of a far table, through a
/// join table, brought to the given keys; only join rows are written or deleted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateManyToManyConfig {
    /// Field of the graph struct: `Option<Vec<key>>`.
    pub field: Spanned<String>,
    /// The far side's table.
    pub table: Spanned<String>,
    /// The join table, with a foreign key to the root's table and one to the far table.
    pub through: Spanned<String>,
    /// The join table's column referencing the root (see [`ManyToManyConfig::fk`]).
    pub fk: Option<Spanned<String>>,
    /// The join table's column referencing the far table (see
    /// [`ManyToManyConfig::far_fk`]).
    pub far_fk: Option<Spanned<String>>,
    /// The far table's one-column unique key the field's keys are (default: its primary
    /// key).
    pub connect_by: Option<Spanned<String>>,
    /// `set`, `add` or `remove`.
    pub strategy: Spanned<Strategy>,
}

/// `[[update.<Graph>.has_many]]` and `[[update.<Graph>.has_one]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateChildConfig {
    /// Field of the graph struct.
    pub field: Spanned<String>,
    /// The child's table.
    pub table: Spanned<String>,
    /// The child column that references the root (optional when exactly one foreign key of
    /// the child points at the root).
    pub fk: Option<Spanned<String>>,
    /// Accept an `fk` column that no foreign key in the DDL declares.
    #[serde(default)]
    pub fk_unchecked: bool,
    /// `replace`, `append`, `upsert`, `diff` or `update` (has_one: `replace` or `upsert`).
    pub strategy: Spanned<Strategy>,
    /// diff: the columns that identify a child within its root (with the fk, a unique key).
    pub key: Option<Spanned<Vec<Spanned<String>>>>,
    /// replace, diff and update: a condition over the child's columns (`kind = 'follow'`)
    /// that selects the children the strategy manages: it deletes (or updates) only those.
    /// Without it, every child of the root under the foreign key is managed.
    #[serde(rename = "where")]
    pub condition: Option<Spanned<String>>,
}

/// `[insert.<Graph>]`: one root row and the rows written with it (seed design §6.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsertGraphConfig {
    /// The table of the root row.
    pub root: Spanned<String>,
    /// The root's id comes from this input field (application-generated keys) instead of
    /// `RETURNING`; an unset field is a validation error.
    pub root_id_field: Option<Spanned<String>>,
    /// Parents written before the root, whose id goes into a root column.
    #[serde(default)]
    pub belongs_to: Vec<BelongsToConfig>,
    /// Rows written before the root, unrelated to it.
    #[serde(default)]
    pub before_insert: Vec<StepConfig>,
    /// One child row that references the root.
    #[serde(default)]
    pub has_one: Vec<ChildConfig>,
    /// Child rows that reference the root.
    #[serde(default)]
    pub has_many: Vec<ChildConfig>,
    /// Rows written after the root, optionally given its id.
    #[serde(default)]
    pub after_insert: Vec<StepConfig>,
    /// Rows of another table linked to the root through a join table.
    #[serde(default)]
    pub many_to_many: Vec<ManyToManyConfig>,
}

/// `[[insert.<Graph>.many_to_many]]`: rows of a far table linked to the parent row through a
/// join table, each item created, connected by a key, or connected-or-created, with its
/// join row's own columns.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManyToManyConfig {
    /// Field of the graph struct: a `Vec` of items.
    pub field: Spanned<String>,
    /// The far side's table.
    pub table: Spanned<String>,
    /// The join table, with a foreign key to the parent's table and one to the far table.
    pub through: Spanned<String>,
    /// The join table's column referencing the parent; may be left out when exactly one
    /// foreign key of the join table points at the parent's table.
    pub fk: Option<Spanned<String>>,
    /// The join table's column referencing the far table; may be left out when exactly one
    /// other foreign key of the join table points at it.
    pub far_fk: Option<Spanned<String>>,
    /// The far table's one-column unique key that an item connects by (default: its
    /// primary key).
    pub connect_by: Option<Spanned<String>>,
}

/// `[[insert.<Graph>.belongs_to]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BelongsToConfig {
    /// Field of the graph struct: `Option<NewParent>`.
    pub field: Spanned<String>,
    /// The parent's table.
    pub table: Spanned<String>,
    /// The root column that receives the parent's id.
    pub set_fk: Spanned<String>,
    /// `insert_returning` (default) or `upsert_returning` (by the parent's conflict key).
    pub mode: Option<Spanned<ParentMode>>,
    /// The root must get a parent: either the parent or the `set_fk` value must be given.
    #[serde(default)]
    pub required: bool,
    /// Connect to an existing parent by this column, a one-column unique key of the parent
    /// table: the field holds the key's value, looked up in the same statement, and no row
    /// with it is `Error::NotFound` naming the step. Nothing is written to the parent.
    pub connect_by: Option<Spanned<String>>,
    /// Nested edges: parents of the parent, each written before it, whose key goes into
    /// `set_fk` of the parent row (`[[insert.<Graph>.belongs_to.belongs_to]]`: a customer's
    /// address and the address's city).
    #[serde(default)]
    pub belongs_to: Vec<BelongsToConfig>,
}

/// `[[insert.<Graph>.has_one]]` and `[[insert.<Graph>.has_many]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildConfig {
    /// Field of the graph struct: `Option<NewChild>` (`NewChild` when `required`), or
    /// `Vec<NewChild>`.
    pub field: Spanned<String>,
    /// The child's table.
    pub table: Spanned<String>,
    /// The child column that references the root; may be left out when exactly one foreign
    /// key of the child points at the root.
    pub fk: Option<Spanned<String>>,
    /// Accept an `fk` column that no foreign key in the DDL declares.
    #[serde(default)]
    pub fk_unchecked: bool,
    /// `insert` (default) or `upsert` (by the child's conflict key).
    pub mode: Option<Spanned<RowMode>>,
    /// has_one only: the child must be given (`NewChild` instead of `Option<NewChild>`).
    #[serde(default)]
    pub required: bool,
    /// The name of an insert graph of this edge's table whose edges become this edge's
    /// nested edges (`graph = "NewPostGraph"`), so one graph is usable alone and inside
    /// another. The edge then has no nested edges of its own.
    pub graph: Option<Spanned<String>>,
    /// Child columns filled from the parent row's columns, child column → parent column
    /// (`copy = { community_id = "community_id" }`): the child's rows leave them out.
    pub copy: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    /// The edge's rows as stored are returned too (`insert_graph_rows`,
    /// `insert_graph_many_rows`), in input order.
    pub returning: Option<Spanned<bool>>,
    /// Nested edges: a row each of this edge's rows references, written before it, whose
    /// key goes into `set_fk` of that row (`[[insert.<Graph>.has_many.belongs_to]]`).
    #[serde(default)]
    pub belongs_to: Vec<BelongsToConfig>,
    /// Nested edges: one child row of each of this edge's rows, that references it
    /// (`[[insert.<Graph>.has_many.has_one]]`).
    #[serde(default)]
    pub has_one: Vec<ChildConfig>,
    /// Nested edges: child rows of each of this edge's rows, that reference it
    /// (`[[insert.<Graph>.has_many.has_many]]`).
    #[serde(default)]
    pub has_many: Vec<ChildConfig>,
    /// Nested edges: rows of another table linked to each of this edge's rows through a
    /// join table (`[[insert.<Graph>.has_many.many_to_many]]`).
    #[serde(default)]
    pub many_to_many: Vec<ManyToManyConfig>,
    /// Nested edges: rows written before each of this edge's rows, unrelated to it
    /// (`[[insert.<Graph>.has_many.before_insert]]`).
    #[serde(default)]
    pub before_insert: Vec<StepConfig>,
    /// Nested edges: rows written after each of this edge's rows, optionally given its key
    /// (`[[insert.<Graph>.has_many.after_insert]]`).
    #[serde(default)]
    pub after_insert: Vec<StepConfig>,
}

impl ChildConfig {
    /// The edge has nested edges of its own.
    pub fn has_nested(&self) -> bool {
        !self.belongs_to.is_empty()
            || !self.has_one.is_empty()
            || !self.has_many.is_empty()
            || !self.many_to_many.is_empty()
            || !self.before_insert.is_empty()
            || !self.after_insert.is_empty()
    }

    /// The nested edges, has_one (`false`) before has_many (`true`).
    pub fn nested(&self) -> impl Iterator<Item = (bool, &ChildConfig)> {
        let one = self.has_one.iter().map(|e| (false, e));
        one.chain(self.has_many.iter().map(|e| (true, e)))
    }
}

/// `[[insert.<Graph>.before_insert]]` and `[[insert.<Graph>.after_insert]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepConfig {
    /// Field of the graph struct.
    pub field: Spanned<String>,
    /// The table written.
    pub table: Spanned<String>,
    /// after_insert only: also put the root's id into this column.
    pub fk: Option<Spanned<String>>,
    /// Accept an `fk` column that no foreign key in the DDL declares (an audit row's
    /// `entity_id`, say).
    #[serde(default)]
    pub fk_unchecked: bool,
    /// `insert` (default) or `upsert`.
    pub mode: Option<Spanned<RowMode>>,
    /// The field is a `Vec` of rows instead of one optional row.
    #[serde(default)]
    pub many: bool,
    /// The field is one row that must be given (`NewRow`, not `Option<NewRow>`).
    #[serde(default)]
    pub required: bool,
}

/// How an update graph brings a child collection to the given rows (`strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    /// Apply one patch of the child table to every child of the root (that `where`
    /// selects).
    Update,
    /// many_to_many: the root's links become exactly the given ones (join rows deleted
    /// and inserted).
    Set,
    /// many_to_many: link the given rows; keep the other links.
    Add,
    /// many_to_many: delete the links to the given rows.
    Remove,
}

impl Strategy {
    /// The name in `graphs.toml` (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Replace => "replace",
            Strategy::Append => "append",
            Strategy::Upsert => "upsert",
            Strategy::Diff => "diff",
            Strategy::Set => "set",
            Strategy::Add => "add",
            Strategy::Remove => "remove",
            Strategy::Update => "update",
        }
    }

    /// The strategy applies to has_many edges only (a has_one child is replaced or upserted).
    pub fn many_only(self) -> bool {
        matches!(self, Strategy::Append | Strategy::Diff | Strategy::Update)
    }
}

/// `mode` of a belongs_to edge: how the parent row is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParentMode {
    /// A plain insert, returning the parent's id.
    InsertReturning,
    /// An upsert by the parent's conflict key, returning its id.
    UpsertReturning,
    /// An insert that keeps an existing parent with the same conflict key as it is,
    /// returning the id of the row inserted or found; only inserted rows are counted.
    InsertIgnore,
}

/// `mode` of a child, before_insert or after_insert step: how its rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowMode {
    /// A plain insert.
    Insert,
    /// An upsert by the table's conflict key.
    Upsert,
    /// An insert that skips rows whose conflict key exists (`ON CONFLICT DO NOTHING`).
    InsertIgnore,
}

/// A step's `mode`: whether it upserts, and the name of the plain mode (for help lines).
pub trait WriteMode: Copy {
    /// The mode writes by the table's conflict key (upserts, or skips existing rows).
    fn upserts(self) -> bool;
    /// The mode skips a row whose conflict key exists instead of updating it.
    fn ignores(self) -> bool;
    /// The name in `graphs.toml` of the plain-insert mode.
    fn plain_name() -> &'static str;
}

impl WriteMode for ParentMode {
    fn upserts(self) -> bool {
        matches!(self, ParentMode::UpsertReturning | ParentMode::InsertIgnore)
    }
    fn ignores(self) -> bool {
        self == ParentMode::InsertIgnore
    }
    fn plain_name() -> &'static str {
        "insert_returning"
    }
}

impl WriteMode for RowMode {
    fn upserts(self) -> bool {
        matches!(self, RowMode::Upsert | RowMode::InsertIgnore)
    }
    fn ignores(self) -> bool {
        self == RowMode::InsertIgnore
    }
    fn plain_name() -> &'static str {
        "insert"
    }
}

/// `[tables.<name>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableConfig {
    /// Columns of the unique key `upsert` conflicts on (`ON CONFLICT (a, b)`); default: the
    /// primary key. Exclusive with `conflict_constraint`.
    pub conflict_target: Option<Spanned<Vec<Spanned<String>>>>,
    /// Name of the unique constraint `upsert` conflicts on (`ON CONFLICT ON CONSTRAINT c`).
    pub conflict_constraint: Option<Spanned<String>>,
    /// Columns an upsert updates on conflict; default: every insertable column except the
    /// conflict key, the primary key and sequence-filled columns.
    pub conflict_update: Option<Spanned<Vec<Spanned<String>>>>,
    /// The Rust name of the row struct (`OrderLine`), when the singular of the table name is
    /// not what you want or clashes with another name.
    pub rust_name: Option<Spanned<String>>,
    /// Columns the database fills (a NOT NULL `tsvector` a trigger computes): left out of
    /// inserts, the insert struct and patches, still in the row struct.
    #[serde(default)]
    pub database_fills: Vec<Spanned<String>>,
    /// Rust field names of columns, by column name (`fields = { createdAt = "created" }`),
    /// for a column whose own name is not the field you want; its setters follow
    /// (`with_created`). Columns not named here get a field made from their SQL name.
    pub fields: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    /// Rust types of columns, by column name (`column_types = { detail =
    /// "writegraph::types::JsonOf<Detail>" }`), bound natively as the column's own SQL type:
    /// the type must implement tokio-postgres's `ToSql` and `FromSql` for it (typed `jsonb`,
    /// a newtype over `text`). For columns of built-in types and domains, not arrays.
    pub column_types: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
}

/// Parses `graphs.toml`; a syntax error or unknown key points at its line and column.
pub fn parse(file: &SourceFile) -> Result<GraphsConfig, ConfigError> {
    toml::from_str(&file.text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let message = e.message().trim_end_matches('\n');
        let (message, help) = match unknown_value(message, key_at(&file.text, offset)) {
            Some((message, help)) => (message, help),
            None => (
                message.to_owned(),
                "see the graphs.toml reference in README.md".to_owned(),
            ),
        };
        Diagnostic::at(&file.path, &file.text, offset, message)
            .with_help(help)
            .into()
    })
}

/// serde's "unknown variant `x`, expected `a` or `b`" for a value such as `mode` or
/// `strategy`, said the way the rest of the diagnostics are: the key and the value in the
/// message, the values that work in the help line.
fn unknown_value(message: &str, key: Option<&str>) -> Option<(String, String)> {
    let rest = message.strip_prefix("unknown variant ")?;
    let (value, expected) = rest.split_once(", expected ")?;
    let what = key.unwrap_or("value");
    Some((format!("unknown {what} {value}"), format!("use {expected}")))
}

/// The key whose value starts at `offset`: the bare key just before it on its line, also
/// inside an inline table (`citext = { rust = "String", bind = "binary" }` gives `bind`).
fn key_at(text: &str, offset: usize) -> Option<&str> {
    let start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(start..offset)?;
    let before = line.trim_end().strip_suffix('=')?.trim_end();
    let key_start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .map_or(0, |i| i + 1);
    let key = &before[key_start..];
    (!key.is_empty()).then_some(key)
}

/// A diagnostic at a spanned value of `graphs.toml`.
pub fn error_at<T>(
    file: &SourceFile,
    spanned: &Spanned<T>,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic::at(&file.path, &file.text, spanned.span().start, message)
}
