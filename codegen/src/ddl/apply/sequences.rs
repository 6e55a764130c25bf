//! Sequences: `serial` columns' owned sequences, `CREATE SEQUENCE ... OWNED BY`, identity
//! columns, and renaming a sequence (which moves the `nextval` defaults that name it).

use sqlparser::ast::ObjectName;

use crate::catalog::{Identity, QualifiedName, Sequence};
use crate::ddl::naming::choose_name;
use crate::ddl::recognise::{IdentityKind, Recognised};
use crate::error::Diagnostic;

use super::names::name_parts;
use super::{Applied, Ctx, Reader};

impl Reader {
    /// The sequence a new serial or identity column of `table` owns: named by the identity's
    /// `SEQUENCE NAME` option (`given`; unqualified means the table's schema), or else the
    /// name PostgreSQL chooses (`table_column_seq`, numbered past names in use). `offset`
    /// is where errors point.
    pub(super) fn owned_sequence(
        &self,
        ctx: &Ctx<'_>,
        offset: usize,
        table: &QualifiedName,
        column: &str,
        identity: bool,
        given: Option<Vec<String>>,
    ) -> Result<Sequence, Diagnostic> {
        let name = match given {
            None => QualifiedName::new(
                table.schema.clone(),
                choose_name(&table.name, Some(column), "seq", |n| {
                    self.relation_taken(&table.schema, n)
                }),
            ),
            Some(parts) => {
                let name = match parts.as_slice() {
                    [name] => QualifiedName::new(table.schema.clone(), name.clone()),
                    [schema, name] => QualifiedName::new(schema.clone(), name.clone()),
                    _ => {
                        return Err(ctx
                            .error_at(
                                offset,
                                format!("improper sequence name `{}`", parts.join(".")),
                            )
                            .with_help("write SEQUENCE NAME name or SEQUENCE NAME schema.name"))
                    }
                };
                if name.schema != table.schema {
                    // PostgreSQL looks for the owning table in the sequence's schema.
                    return Err(ctx
                        .error_at(
                            offset,
                            format!(
                                "identity sequence `{name}` of `{table}` is not in the table's schema"
                            ),
                        )
                        .with_help(format!(
                            "PostgreSQL makes it owned by a table `{}` of schema `{}`; name the sequence in schema `{}`, or leave the schema out",
                            table.name, name.schema, table.schema
                        )));
                }
                if self.relation_taken(&name.schema, &name.name) {
                    return Err(ctx
                        .error_at(offset, format!("relation `{name}` already exists"))
                        .with_help("give the identity sequence another SEQUENCE NAME"));
                }
                name
            }
        };
        Ok(Sequence {
            name,
            owned_by: Some((table.clone(), column.to_owned())),
            identity,
        })
    }

    /// Renames or moves a sequence. Defaults that call `nextval` on it follow, as they do in
    /// PostgreSQL, which stores the sequence itself rather than its name.
    pub(super) fn rename_sequence(&mut self, old: &QualifiedName, new: QualifiedName) {
        let old_sql = old.to_sql();
        let retarget = |default: &mut Option<String>| {
            if default.as_deref().and_then(nextval_target).as_deref() == Some(old_sql.as_str()) {
                *default = Some(Sequence::nextval_sql(&new));
            }
        };
        for table in &mut self.catalog.tables {
            for column in &mut table.columns {
                retarget(&mut column.default);
            }
        }
        for domain in &mut self.catalog.domains {
            retarget(&mut domain.default);
        }
        for s in self.catalog.sequences.iter_mut().filter(|s| &s.name == old) {
            s.name = new.clone();
        }
    }

    pub(super) fn resolve_sequence(&self, parts: &[String]) -> Option<QualifiedName> {
        self.candidates(parts)
            .into_iter()
            .find(|c| self.catalog.sequences.iter().any(|s| &s.name == c))
    }

    pub(super) fn set_sequence_owner(
        &mut self,
        ctx: &Ctx<'_>,
        offset: usize,
        sequence: &QualifiedName,
        owner: Option<Vec<String>>,
    ) -> Applied {
        if let Some((table, _)) = self
            .catalog
            .sequences
            .iter()
            .find(|s| &s.name == sequence && s.identity)
            .and_then(|s| s.owned_by.as_ref())
        {
            return Err(ctx.error_at(
                offset,
                format!("cannot change ownership of identity sequence `{sequence}`: it belongs to `{table}`"),
            ));
        }
        let owned_by = match owner {
            None => None,
            Some(mut parts) => {
                let Some(column) = parts.pop() else {
                    return Ok(());
                };
                let Some(table) = self.resolve_table_parts(ctx, offset, &parts, false)? else {
                    return Ok(());
                };
                if self
                    .catalog
                    .table(&table)
                    .is_none_or(|t| t.column(&column).is_none())
                {
                    return Err(ctx.error_at(
                        offset,
                        format!("column `{column}` of `{table}` does not exist"),
                    ));
                }
                Some((table, column))
            }
        };
        for s in self
            .catalog
            .sequences
            .iter_mut()
            .filter(|s| &s.name == sequence)
        {
            s.owned_by = owned_by.clone();
        }
        Ok(())
    }

    /// `CREATE SEQUENCE`, applied as the form pg_dump writes without sqlparser.
    pub(super) fn create_sequence(
        &mut self,
        ctx: &Ctx<'_>,
        name: &ObjectName,
        if_not_exists: bool,
        owned_by: Option<&ObjectName>,
        temporary: bool,
    ) -> Applied {
        if temporary {
            return Ok(());
        }
        let parts = name_parts(ctx, name)?;
        let owned = owned_by.map(|o| name_parts(ctx, o)).transpose()?;
        self.apply_recognised(
            ctx,
            0,
            Recognised::CreateSequence {
                name: parts,
                if_not_exists,
                owned_by: owned,
            },
        )
    }
}

/// The sequence name in `nextval('public.orders_id_seq'::regclass)` (our serial defaults,
/// and pg_dump's `::REGCLASS` as sqlparser prints it), unquoted from the string literal.
pub(super) fn nextval_target(default: &str) -> Option<String> {
    let prefix = "nextval('";
    let suffix = "'::regclass)";
    let head = default.get(..prefix.len())?;
    let tail = default.get(default.len().checked_sub(suffix.len())?..)?;
    if !head.eq_ignore_ascii_case(prefix) || !tail.eq_ignore_ascii_case(suffix) {
        return None;
    }
    let literal = default.get(prefix.len()..default.len() - suffix.len())?;
    // A lone quote would end the literal: this is some other expression.
    if literal.replace("''", "").contains('\'') {
        return None;
    }
    Some(literal.replace("''", "'"))
}

pub(super) fn identity_of(kind: IdentityKind) -> Identity {
    match kind {
        IdentityKind::Always => Identity::Always,
        IdentityKind::ByDefault => Identity::ByDefault,
    }
}
