//! The write model of a database: the tables, columns, keys and types that the generator
//! needs, as our own types. `ddl` builds it from SQL; everything after `ddl` reads only this.
//!
//! The JSON form is the shape `writegraph schema --json` prints, the shape of a catalog
//! snapshot (`writegraph schema --from-postgres --json`, read back by
//! [`Builder::catalog`](crate::Builder::catalog)), and what the differential tests compare
//! with what `pg_catalog` reports, so field names and spellings follow PostgreSQL
//! (`format_type` for types, `cascade`/`no action` for FK actions). Serialising and
//! deserialising a catalog gives back the same catalog, less source locations.

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::Location;
use crate::ident;

/// A schema-qualified name, as PostgreSQL stores it (already case-folded, unquoted).
#[derive(Debug, Clone, Default, PartialOrd, Ord)]
pub struct QualifiedName {
    /// The schema, e.g. `public`.
    pub schema: String,
    /// The object's name within the schema.
    pub name: String,
}

// Names are compared before schemas: most objects share a schema, so two different names
// are told apart at their first bytes rather than after comparing the schema. The reader
// compares names this way against every relation of the schema it has read.
impl PartialEq for QualifiedName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.schema == other.schema
    }
}

impl Eq for QualifiedName {}

impl std::hash::Hash for QualifiedName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.schema.hash(state);
        self.name.hash(state);
    }
}

impl QualifiedName {
    /// Builds a name from its two parts.
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            schema: schema.into(),
            name: name.into(),
        }
    }

    /// The name as SQL text, each part quoted only where PostgreSQL's `quote_ident` would
    /// quote it (`public.orders`, `public."Order"`), the way `format_type` and `regclass`
    /// print names when the search path is empty.
    pub fn to_sql(&self) -> String {
        format!(
            "{}.{}",
            ident::quote_ident_if_needed(&self.schema),
            ident::quote_ident_if_needed(&self.name)
        )
    }

    /// Reads the text [`QualifiedName::to_sql`] prints (`public.orders`, `"Shop"."Order"`):
    /// two identifiers joined by a dot, each bare or double-quoted (`""` inside quotes is a
    /// quote). Bare parts are taken as written, not case-folded, since `to_sql` leaves only
    /// lowercase names bare. `None` for any other text.
    pub fn parse_sql(text: &str) -> Option<Self> {
        let (schema, rest) = parse_identifier(text)?;
        let rest = rest.strip_prefix('.')?;
        let (name, rest) = parse_identifier(rest)?;
        rest.is_empty().then(|| Self::new(schema, name))
    }

    /// The name with every part quoted, for generated SQL (`"public"."orders"`).
    pub fn to_sql_quoted(&self) -> String {
        format!(
            "{}.{}",
            ident::quote_ident(&self.schema),
            ident::quote_ident(&self.name)
        )
    }
}

impl std::fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_sql())
    }
}

impl Serialize for QualifiedName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_sql())
    }
}

impl<'de> Deserialize<'de> for QualifiedName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse_sql(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not a schema-qualified name such as `public.orders`"
            ))
        })
    }
}

/// One identifier at the start of `text`, bare (up to a `.`, `(` or `[`) or double-quoted,
/// and the rest of the text.
fn parse_identifier(text: &str) -> Option<(String, &str)> {
    if let Some(quoted) = text.strip_prefix('"') {
        let mut name = String::new();
        let mut chars = quoted.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if c != '"' {
                name.push(c);
                continue;
            }
            if chars.peek().is_some_and(|&(_, next)| next == '"') {
                name.push('"');
                chars.next();
                continue;
            }
            return (!name.is_empty()).then(|| (name, &quoted[at + 1..]));
        }
        return None;
    }
    let end = text.find(['.', '(', '[', '"']).unwrap_or(text.len());
    let name = &text[..end];
    (!name.is_empty()).then(|| (name.to_owned(), &text[end..]))
}

/// Everything the schema source defines that can matter to a write.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Catalog {
    /// Tables in creation order, partitions included (see [`Table::partition_of`]).
    pub tables: Vec<Table>,
    /// Enum types in creation order.
    pub enums: Vec<EnumType>,
    /// Domains in creation order.
    pub domains: Vec<Domain>,
    /// Schemas created by the source (`public` exists without being created).
    #[serde(skip)]
    pub schemas: Vec<String>,
    /// Sequences (`CREATE SEQUENCE`, serial and identity columns), kept to resolve
    /// `ALTER SEQUENCE ... OWNED BY` and renames, and so that an insert names a column's
    /// sequence directly ([`Catalog::owned_sequence`]).
    pub sequences: Vec<Sequence>,
    /// Extensions created by the source; their types are known types.
    #[serde(skip)]
    pub extensions: Vec<String>,
    /// The [`source_digest`](crate::snapshot::source_digest) of the schema source this
    /// catalog was made from, when it is known. A snapshot whose digest is not the digest of
    /// the migrations it is used with is stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_digest: Option<String>,
}

impl<'de> Deserialize<'de> for Catalog {
    /// Reads catalog JSON; each table's, enum's and domain's full name is rebuilt from its
    /// `schema` and `name` fields.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Fields {
            tables: Vec<Table>,
            #[serde(default)]
            enums: Vec<EnumType>,
            #[serde(default)]
            domains: Vec<Domain>,
            #[serde(default)]
            sequences: Vec<Sequence>,
            #[serde(default)]
            source_digest: Option<String>,
        }
        let mut fields = Fields::deserialize(deserializer)?;
        for table in &mut fields.tables {
            table.name = QualifiedName::new(&table.schema, &table.table_name);
        }
        for e in &mut fields.enums {
            e.name = QualifiedName::new(&e.schema, &e.type_name);
        }
        for d in &mut fields.domains {
            d.name = QualifiedName::new(&d.schema, &d.type_name);
        }
        Ok(Catalog {
            tables: fields.tables,
            enums: fields.enums,
            domains: fields.domains,
            schemas: Vec::new(),
            sequences: fields.sequences,
            extensions: Vec::new(),
            source_digest: fields.source_digest,
        })
    }
}

impl Catalog {
    /// The table with this name, partitions included.
    pub fn table(&self, name: &QualifiedName) -> Option<&Table> {
        self.tables.iter().find(|t| &t.name == name)
    }

    /// The table with this name, for changes.
    pub fn table_mut(&mut self, name: &QualifiedName) -> Option<&mut Table> {
        self.tables.iter_mut().find(|t| &t.name == name)
    }

    /// The enum type with this name.
    pub fn enum_type(&self, name: &QualifiedName) -> Option<&EnumType> {
        self.enums.iter().find(|e| &e.name == name)
    }

    /// The domain with this name.
    pub fn domain(&self, name: &QualifiedName) -> Option<&Domain> {
        self.domains.iter().find(|d| &d.name == name)
    }

    /// The domain a column is declared with (not an array of one), whose NOT NULL and
    /// DEFAULT apply to the column.
    pub fn column_domain(&self, column: &Column) -> Option<&Domain> {
        match &column.sql_type.base {
            BaseType::User { name, .. } if !column.sql_type.array => self.domain(name),
            _ => None,
        }
    }

    /// The sequence that fills `column` of `table` when an insert leaves it out: for an
    /// identity column its identity sequence, otherwise a sequence the column owns
    /// (`OWNED BY`; a serial column's own), preferring the one `default` names when the
    /// column owns several. None when the column owns no sequence.
    pub fn owned_sequence(&self, table: &QualifiedName, column: &Column) -> Option<&Sequence> {
        let mut owned = self.sequences.iter().filter(|s| {
            s.owned_by
                .as_ref()
                .is_some_and(|(t, c)| t == table && *c == column.name)
        });
        if column.identity.is_some() {
            return owned.find(|s| s.identity);
        }
        let owned: Vec<&Sequence> = owned.filter(|s| !s.identity).collect();
        owned
            .iter()
            .find(|s| column.default.as_deref() == Some(Sequence::nextval_sql(&s.name).as_str()))
            .or_else(|| owned.first())
            .copied()
    }

    /// Foreign keys that a partitioned table does not declare but every one of its partitions
    /// has (declared on the partition, or on each of its own partitions in turn): a row written
    /// to the table is checked by one of them whichever partition it is routed to. Each is
    /// given as the first partition declares it. Empty for a table without partitions.
    pub fn partition_foreign_keys(&self, table: &Table) -> Vec<ForeignKey> {
        self.foreign_keys_of_partitions(table, 0)
            .into_iter()
            .filter(|f| !table.foreign_keys.iter().any(|own| own.same_reference(f)))
            .collect()
    }

    /// The foreign keys that every partition of `table` has, at any depth; `depth` stops a
    /// cycle of `partition_of` links (which PostgreSQL cannot make) from recursing forever.
    fn foreign_keys_of_partitions(&self, table: &Table, depth: usize) -> Vec<ForeignKey> {
        if !table.partitioned || depth > self.tables.len() {
            return Vec::new();
        }
        let mut common: Option<Vec<ForeignKey>> = None;
        for partition in self
            .tables
            .iter()
            .filter(|t| t.partition_of.as_ref() == Some(&table.name))
        {
            let mut keys = partition.foreign_keys.clone();
            for key in self.foreign_keys_of_partitions(partition, depth + 1) {
                if !keys.iter().any(|k| k.same_reference(&key)) {
                    keys.push(key);
                }
            }
            common = Some(match common {
                None => keys,
                Some(common) => common
                    .into_iter()
                    .filter(|c| keys.iter().any(|k| k.same_reference(c)))
                    .collect(),
            });
        }
        common.unwrap_or_default()
    }

    /// Tables a write can target: every table that is not a partition of another.
    pub fn write_targets(&self) -> impl Iterator<Item = &Table> {
        self.tables.iter().filter(|t| t.partition_of.is_none())
    }
}

/// A table (or a partition of one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Schema part of the name.
    pub schema: String,
    /// The table's name, unquoted.
    #[serde(rename = "name")]
    pub table_name: String,
    /// Full name; the JSON carries it as `schema` and `name` (a deserialised [`Catalog`]
    /// rebuilds it from them).
    #[serde(skip)]
    pub name: QualifiedName,
    /// The partitioned table this table is a partition of. A partition is not a separate write
    /// target: writes go to the parent, which routes rows. Its keys are as `pg_catalog` has
    /// them: copies of the parent's keys and the keys declared on the partition itself.
    pub partition_of: Option<QualifiedName>,
    /// `PARTITION BY ...` was given: rows live in partitions.
    #[serde(default)]
    pub partitioned: bool,
    /// Columns in table order.
    pub columns: Vec<Column>,
    /// Primary key columns in key order; empty when the table has none.
    pub primary_key: Vec<String>,
    /// The primary key constraint's name.
    #[serde(default)]
    pub primary_key_name: Option<String>,
    /// Unique constraints and unique indexes on plain columns, in creation order.
    pub uniques: Vec<UniqueKey>,
    /// Foreign keys in creation order.
    pub foreign_keys: Vec<ForeignKey>,
    /// Names of the table's own CHECK constraints (not NOT NULL, not copies a partition
    /// inherits), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
    /// `COMMENT ON TABLE` text.
    pub comment: Option<String>,
    /// Where the table is created, for messages about it.
    #[serde(skip)]
    pub location: Option<Location>,
}

impl Table {
    /// A new table with no columns or keys.
    pub fn new(name: QualifiedName) -> Self {
        Self {
            schema: name.schema.clone(),
            table_name: name.name.clone(),
            name,
            partition_of: None,
            partitioned: false,
            columns: Vec::new(),
            primary_key: Vec::new(),
            primary_key_name: None,
            uniques: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            comment: None,
            location: None,
        }
    }

    /// Renames the table, keeping the JSON parts in step.
    pub fn rename(&mut self, name: QualifiedName) {
        self.schema = name.schema.clone();
        self.table_name = name.name.clone();
        self.name = name;
    }

    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column with this name, for changes.
    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Column name, unquoted.
    pub name: String,
    /// The column's type; for serial columns the underlying integer type.
    #[serde(rename = "type")]
    pub sql_type: SqlType,
    /// `NOT NULL` (declared, or implied by the primary key or identity).
    pub not_null: bool,
    /// The DEFAULT expression as SQL text (serial columns: their `nextval(...)`).
    pub default: Option<String>,
    /// Identity column kind.
    pub identity: Option<Identity>,
    /// Generated column kind.
    pub generated: Option<Generated>,
    /// Declared as `serial`, `bigserial` or `smallserial` (read from `pg_catalog`: the
    /// default draws from a sequence the column owns).
    #[serde(default)]
    pub serial: bool,
    /// `COMMENT ON COLUMN` text.
    pub comment: Option<String>,
    /// Where the column is defined, for messages about it.
    #[serde(skip)]
    pub location: Option<Location>,
}

impl Column {
    /// The database fills this column when an insert leaves it out: a DEFAULT, a serial, an
    /// identity or a generated column.
    pub fn has_default(&self) -> bool {
        self.default.is_some() || self.identity.is_some() || self.generated.is_some()
    }

    /// An insert may supply a value for this column (not generated, not identity ALWAYS).
    pub fn insertable(&self) -> bool {
        self.generated.is_none() && self.identity != Some(Identity::Always)
    }
}

/// `GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Identity {
    /// `GENERATED ALWAYS`: an insert may not supply a value.
    #[serde(rename = "always")]
    Always,
    /// `GENERATED BY DEFAULT`: an insert may supply a value.
    #[serde(rename = "by default")]
    ByDefault,
}

/// `GENERATED ALWAYS AS (expr) { STORED | VIRTUAL }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Generated {
    /// Computed on write and stored.
    #[serde(rename = "stored")]
    Stored,
    /// Computed on read (PostgreSQL 18).
    #[serde(rename = "virtual")]
    Virtual,
}

/// A column type, normalised to PostgreSQL's own spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlType {
    /// The element type.
    pub base: BaseType,
    /// Array of the base type (PostgreSQL does not track dimensions: `int[][]` is `integer[]`).
    pub array: bool,
}

/// The element type of a column type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseType {
    /// A built-in type by its `format_type` name without modifiers (`integer`,
    /// `character varying`, `timestamp with time zone`), and its type modifiers
    /// (`[255]`, `[10, 2]`, `[3]` for a timestamp precision).
    Builtin {
        /// `format_type` name, e.g. `character varying`.
        name: String,
        /// Type modifiers in declaration order.
        modifiers: Vec<u32>,
    },
    /// A type defined in a schema: an enum, a domain, or an extension's type, with the
    /// type modifiers an extension's type takes, as `format_type` prints them
    /// (`vector(20)` → `["20"]`, `geometry(Polygon,4326)` → `["Polygon", "4326"]`).
    User {
        /// The type.
        name: QualifiedName,
        /// Type modifiers in declaration order (empty for enums and domains).
        modifiers: Vec<String>,
    },
}

impl SqlType {
    /// A built-in type without modifiers.
    pub fn builtin(name: &str) -> Self {
        Self {
            base: BaseType::Builtin {
                name: name.to_owned(),
                modifiers: Vec::new(),
            },
            array: false,
        }
    }

    /// The type as `format_type` prints it with an empty search path.
    pub fn format(&self) -> String {
        let mut out = match &self.base {
            BaseType::Builtin { name, modifiers } => format_builtin(name, modifiers),
            BaseType::User { name, modifiers } if modifiers.is_empty() => name.to_sql(),
            BaseType::User { name, modifiers } => {
                format!("{}({})", name.to_sql(), modifiers.join(","))
            }
        };
        if self.array {
            out.push_str("[]");
        }
        out
    }
}

/// `format_type` puts a time precision between `timestamp`/`time` and `with(out) time zone`.
fn format_builtin(name: &str, modifiers: &[u32]) -> String {
    if modifiers.is_empty() {
        return name.to_owned();
    }
    let mods = modifiers
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    for prefix in ["timestamp", "time"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            if rest.starts_with(' ') {
                return format!("{prefix}({mods}){rest}");
            }
        }
    }
    format!("{name}({mods})")
}

impl std::fmt::Display for SqlType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.format())
    }
}

impl Serialize for SqlType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.format())
    }
}

impl<'de> Deserialize<'de> for SqlType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        SqlType::parse_format_type(&text).map_err(serde::de::Error::custom)
    }
}

impl SqlType {
    /// Reads a type as `format_type` prints it with `search_path = pg_catalog`, the inverse
    /// of [`SqlType::format`]: a schema-qualified name is a user type (`public.mood`,
    /// `"Shop"."Status"`), anything else a built-in with its modifiers in parentheses
    /// (`character varying(255)`, `timestamp(3) with time zone`); `[]` makes an array.
    pub fn parse_format_type(text: &str) -> Result<SqlType, String> {
        let (element, array) = match text.strip_suffix("[]") {
            Some(element) => (element, true),
            None => (text, false),
        };
        let not_a_type = || format!("`{text}` is not a type as `format_type` prints it");
        if element.is_empty() {
            return Err(not_a_type());
        }
        if let Some(name) = QualifiedName::parse_sql(element) {
            return Ok(SqlType {
                base: BaseType::User {
                    name,
                    modifiers: Vec::new(),
                },
                array,
            });
        }
        // A user type with modifiers: `public.geometry(Polygon,4326)`, `public.vector(3)`.
        if let Some((name, modifiers)) = element
            .strip_suffix(')')
            .and_then(|rest| rest.split_once('('))
            .and_then(|(name, modifiers)| Some((QualifiedName::parse_sql(name)?, modifiers)))
        {
            let parsed = SqlType {
                base: BaseType::User {
                    name,
                    modifiers: modifiers.split(',').map(|m| m.trim().to_owned()).collect(),
                },
                array,
            };
            return if parsed.format() == text {
                Ok(parsed)
            } else {
                Err(not_a_type())
            };
        }
        if element.contains('.') {
            return Err(not_a_type());
        }
        let (name, modifiers) = match element.find('(') {
            None => (element.to_owned(), Vec::new()),
            Some(open) => {
                let close = element[open..]
                    .find(')')
                    .map(|at| open + at)
                    .ok_or_else(not_a_type)?;
                let modifiers = element[open + 1..close]
                    .split(',')
                    .map(|m| m.trim().parse::<u32>().map_err(|_| not_a_type()))
                    .collect::<Result<Vec<u32>, String>>()?;
                let name = format!("{}{}", &element[..open], &element[close + 1..]);
                (name, modifiers)
            }
        };
        let parsed = SqlType {
            base: BaseType::Builtin { name, modifiers },
            array,
        };
        if parsed.format() == text {
            Ok(parsed)
        } else {
            Err(not_a_type())
        }
    }
}

/// A unique constraint or unique index whose key is plain columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UniqueKey {
    /// Constraint or index name (PostgreSQL's generated name when the DDL gave none).
    pub name: String,
    /// Key columns in key order.
    pub columns: Vec<String>,
    /// A partial unique index (`CREATE UNIQUE INDEX ... WHERE ...`): it can serve as an
    /// `ON CONFLICT` target only together with its predicate.
    pub partial: bool,
    /// Declared as a constraint (`UNIQUE (...)`), not only as an index.
    #[serde(default)]
    pub is_constraint: bool,
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// Constraint name (PostgreSQL's generated name when the DDL gave none).
    pub name: String,
    /// Referencing columns of this table.
    pub columns: Vec<String>,
    /// The referenced table.
    pub ref_table: QualifiedName,
    /// Referenced columns, in the order matching `columns`.
    pub ref_columns: Vec<String>,
    /// `ON DELETE` action.
    pub on_delete: FkAction,
    /// `ON UPDATE` action.
    pub on_update: FkAction,
}

impl ForeignKey {
    /// Both keys make the same columns reference the same columns of the same table (their
    /// names and actions aside).
    pub fn same_reference(&self, other: &ForeignKey) -> bool {
        self.columns == other.columns
            && self.ref_table == other.ref_table
            && self.ref_columns == other.ref_columns
    }
}

/// A referential action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FkAction {
    /// `NO ACTION` (the default).
    #[default]
    #[serde(rename = "no action")]
    NoAction,
    /// `RESTRICT`.
    #[serde(rename = "restrict")]
    Restrict,
    /// `CASCADE`.
    #[serde(rename = "cascade")]
    Cascade,
    /// `SET NULL`.
    #[serde(rename = "set null")]
    SetNull,
    /// `SET DEFAULT`.
    #[serde(rename = "set default")]
    SetDefault,
}

/// `CREATE TYPE ... AS ENUM`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnumType {
    /// Schema part of the name.
    pub schema: String,
    /// Type name, unquoted.
    #[serde(rename = "name")]
    pub type_name: String,
    /// Full name (a deserialised [`Catalog`] rebuilds it from `schema` and `name`).
    #[serde(skip)]
    pub name: QualifiedName,
    /// Labels in sort order.
    pub labels: Vec<String>,
}

impl EnumType {
    /// A new enum type.
    pub fn new(name: QualifiedName, labels: Vec<String>) -> Self {
        Self {
            schema: name.schema.clone(),
            type_name: name.name.clone(),
            name,
            labels,
        }
    }
}

/// `CREATE DOMAIN`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    /// Schema part of the name.
    pub schema: String,
    /// Domain name, unquoted.
    #[serde(rename = "name")]
    pub type_name: String,
    /// Full name (a deserialised [`Catalog`] rebuilds it from `schema` and `name`).
    #[serde(skip)]
    pub name: QualifiedName,
    /// The type the domain is based on.
    pub base_type: SqlType,
    /// The domain has a `NOT NULL` constraint.
    pub not_null: bool,
    /// The domain's DEFAULT, which columns of this domain inherit.
    #[serde(default)]
    pub default: Option<String>,
}

impl Domain {
    /// A new domain.
    pub fn new(name: QualifiedName, base_type: SqlType) -> Self {
        Self {
            schema: name.schema.clone(),
            type_name: name.name.clone(),
            name,
            base_type,
            not_null: false,
            default: None,
        }
    }
}

/// A sequence, tracked so that `OWNED BY`, renames and drops resolve, and so that inserts
/// can name the sequence of a serial or identity column directly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sequence {
    /// The sequence's name.
    pub name: QualifiedName,
    /// The column that owns it (`OWNED BY`), as table and column; JSON
    /// `["public.orders", "id"]`.
    #[serde(default)]
    pub owned_by: Option<(QualifiedName, String)>,
    /// The sequence of an identity column: it cannot be re-owned, and `DROP IDENTITY`
    /// drops it.
    #[serde(default)]
    pub identity: bool,
}

impl Sequence {
    /// `nextval('public.orders_id_seq'::regclass)`: the sequence's next value, spelled as
    /// PostgreSQL spells a serial column's default.
    pub fn nextval_sql(name: &QualifiedName) -> String {
        format!("nextval('{}'::regclass)", name.to_sql().replace('\'', "''"))
    }
}

/// The catalog as a human-readable listing, one block per table, for `writegraph schema`.
pub fn render_text(catalog: &Catalog) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for e in &catalog.enums {
        let _ = writeln!(out, "enum {} ({})", e.name, e.labels.join(", "));
    }
    for d in &catalog.domains {
        let null = if d.not_null { " not null" } else { "" };
        let _ = writeln!(out, "domain {} as {}{null}", d.name, d.base_type);
    }
    if !catalog.enums.is_empty() || !catalog.domains.is_empty() {
        out.push('\n');
    }
    for table in &catalog.tables {
        let _ = write!(out, "table {}", table.name);
        if let Some(parent) = &table.partition_of {
            let _ = write!(out, " (partition of {parent})");
        }
        out.push('\n');
        let width_name = table
            .columns
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(0)
            .max(6);
        let types: Vec<String> = table.columns.iter().map(|c| c.sql_type.format()).collect();
        let width_type = types.iter().map(String::len).max().unwrap_or(0).max(4);
        for (column, ty) in table.columns.iter().zip(&types) {
            let null = if column.not_null { "not null" } else { "null" };
            let mut extra = String::new();
            if let Some(identity) = column.identity {
                extra = match identity {
                    Identity::Always => "identity always".to_owned(),
                    Identity::ByDefault => "identity by default".to_owned(),
                };
            } else if let Some(generated) = column.generated {
                extra = match generated {
                    Generated::Stored => "generated stored".to_owned(),
                    Generated::Virtual => "generated virtual".to_owned(),
                };
            } else if let Some(default) = &column.default {
                extra = format!("default {default}");
            }
            let line = format!(
                "  {:width_name$}  {ty:width_type$}  {null:8}  {extra}",
                column.name
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
        if !table.primary_key.is_empty() {
            let _ = writeln!(out, "  primary key ({})", table.primary_key.join(", "));
        }
        for unique in &table.uniques {
            let partial = if unique.partial { " partial" } else { "" };
            let _ = writeln!(
                out,
                "  unique {} ({}){partial}",
                unique.name,
                unique.columns.join(", ")
            );
        }
        for fk in &table.foreign_keys {
            let _ = writeln!(
                out,
                "  foreign key {} ({}) references {} ({}) on delete {} on update {}",
                fk.name,
                fk.columns.join(", "),
                fk.ref_table,
                fk.ref_columns.join(", "),
                fk.on_delete.as_sql(),
                fk.on_update.as_sql()
            );
        }
        out.push('\n');
    }
    out
}

impl FkAction {
    /// The action as SQL words, lowercase (`set null`).
    pub fn as_sql(self) -> &'static str {
        match self {
            FkAction::NoAction => "no action",
            FkAction::Restrict => "restrict",
            FkAction::Cascade => "cascade",
            FkAction::SetNull => "set null",
            FkAction::SetDefault => "set default",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_types_like_format_type() {
        let varchar = SqlType {
            base: BaseType::Builtin {
                name: "character varying".into(),
                modifiers: vec![255],
            },
            array: false,
        };
        assert_eq!(varchar.format(), "character varying(255)");
        let ts = SqlType {
            base: BaseType::Builtin {
                name: "timestamp with time zone".into(),
                modifiers: vec![3],
            },
            array: true,
        };
        assert_eq!(ts.format(), "timestamp(3) with time zone[]");
        let user = SqlType {
            base: BaseType::User {
                name: QualifiedName::new("public", "Mood"),
                modifiers: Vec::new(),
            },
            array: false,
        };
        assert_eq!(user.format(), "public.\"Mood\"");
    }

    #[test]
    fn reads_back_what_format_type_prints() -> Result<(), String> {
        for text in [
            "integer",
            "character varying(255)",
            "numeric(10,2)",
            "timestamp(3) with time zone[]",
            "time without time zone",
            "interval day to second(3)",
            "\"char\"",
            "public.mood",
            "public.\"Mood\"[]",
            "\"My \"\"Shop\"\"\".\"Status\"",
            "public.vector(3)",
            "public.geometry(Polygon,4326)[]",
        ] {
            assert_eq!(SqlType::parse_format_type(text)?.format(), text);
        }
        let user = SqlType::parse_format_type("\"Shop\".status")?;
        assert_eq!(
            user.base,
            BaseType::User {
                name: QualifiedName::new("Shop", "status"),
                modifiers: Vec::new(),
            }
        );
        for bad in [
            "",
            "[]",
            "numeric(a)",
            "public.",
            "public.vector(3",
            "a.b.c",
        ] {
            assert!(SqlType::parse_format_type(bad).is_err(), "{bad}");
        }
        Ok(())
    }
}
