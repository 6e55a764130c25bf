//! Routines the schema defines. A default that calls one unqualified is stored by PostgreSQL
//! with the routine's schema (`public.generate_code()`), found by the search path when the
//! default is set; so are sequences named in `'seq'::regclass`. The reader keeps the routines'
//! names and input argument counts to do the same.

use sqlparser::ast::{
    DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, ObjectName,
    ObjectNamePart, Value, ValueWithSpan,
};
use sqlparser::parser::Parser;

use crate::catalog::{BaseType, QualifiedName};
use crate::ddl::dialect::PostgresDialect;
use crate::ddl::fold_ident;
use crate::ident::quote_ident_if_needed;

use super::{Applied, Ctx, Reader};

/// Built-in routines (`pg_catalog`) that defaults call, which a schema's routine of the same
/// name does not shadow in an unqualified call (PostgreSQL searches `pg_catalog` first). A
/// schema routine of such a name whose argument types fit a call better than the built-in's
/// would be chosen by PostgreSQL; the reader does not resolve overloads by type.
const BUILTIN_ROUTINES: &[&str] = &[
    "now",
    "clock_timestamp",
    "statement_timestamp",
    "transaction_timestamp",
    "timeofday",
    "random",
    "gen_random_uuid",
    "uuidv4",
    "uuidv7",
    "nextval",
    "currval",
    "lower",
    "upper",
    "md5",
    "concat",
    "format",
    "replace",
    "substr",
    "substring",
    "left",
    "right",
    "length",
    "btrim",
    "ltrim",
    "rtrim",
    "to_char",
    "to_timestamp",
    "to_date",
    "date_trunc",
    "date_part",
    "make_interval",
    "age",
    "floor",
    "ceil",
    "round",
    "trunc",
    "abs",
    "encode",
    "decode",
    "current_setting",
    "txid_current",
    "pg_current_xact_id",
    "json_build_object",
    "jsonb_build_object",
    "json_build_array",
    "jsonb_build_array",
    "to_json",
    "to_jsonb",
    "array_fill",
    "string_to_array",
    "array_to_string",
    "repeat",
    "lpad",
    "rpad",
    "chr",
    "inet_client_addr",
    "pg_backend_pid",
];

impl Reader {
    /// `CREATE [OR REPLACE] FUNCTION`: the routine goes into the creation schema when its
    /// name is unqualified; replacing one of the same arguments keeps one entry.
    pub(super) fn create_function(
        &mut self,
        ctx: &Ctx<'_>,
        offset: usize,
        name: &[String],
        arity: usize,
    ) -> Applied {
        let qualified = self.qualify_new_parts(ctx, offset, name)?;
        let entry = (qualified, arity);
        if !self.functions.contains(&entry) {
            self.functions.push(entry);
        }
        Ok(())
    }

    /// The routine `name` resolves to: the first schema of the search path holding a routine
    /// of that name (and of `arity` input arguments, when given).
    fn resolve_function(&self, name: &[String], arity: Option<usize>) -> Option<QualifiedName> {
        self.candidates(name).into_iter().find(|c| {
            self.functions
                .iter()
                .any(|(f, n)| f == c && arity.is_none_or(|a| a == *n))
        })
    }

    /// `DROP FUNCTION`: a routine dropped without its arguments is every routine of that name
    /// in the schema it resolves to (PostgreSQL requires it to be the only one). A column or
    /// domain default that calls a dropped routine depends on it: PostgreSQL refuses the drop,
    /// or with `CASCADE` drops the column's default (the column stays) and the whole domain
    /// (with the columns of that type).
    pub(super) fn drop_functions(
        &mut self,
        ctx: &Ctx<'_>,
        offset: usize,
        functions: &[(Vec<String>, Option<usize>)],
        cascade: bool,
    ) -> Applied {
        for (name, arity) in functions {
            let Some(found) = self.resolve_function(name, *arity) else {
                continue;
            };
            let arities: Vec<usize> = self
                .functions
                .iter()
                .filter(|(f, n)| f == &found && arity.is_none_or(|a| a == *n))
                .map(|(_, n)| *n)
                .collect();
            // A default kept as written (a domain's) may call the routine unqualified.
            let bare = (self.resolve_function(std::slice::from_ref(&found.name), None)
                == Some(found.clone()))
            .then(|| quote_ident_if_needed(&found.name));
            let calls = |default: &Option<String>| {
                default
                    .as_deref()
                    .is_some_and(|text| calls_routine(text, &found, bare.as_deref(), &arities))
            };
            let dependent_column = self.catalog.tables.iter().find_map(|t| {
                t.columns
                    .iter()
                    .find(|c| calls(&c.default))
                    .map(|c| format!("the default of column `{}` of `{}`", c.name, t.name))
            });
            let dependent = dependent_column.or_else(|| {
                self.catalog
                    .domains
                    .iter()
                    .find(|d| calls(&d.default))
                    .map(|d| format!("the default of domain `{}`", d.name))
            });
            if let Some(dependent) = dependent {
                if !cascade {
                    return Err(ctx
                        .error_at(
                            offset,
                            format!("cannot drop function `{found}` because {dependent} calls it"),
                        )
                        .with_help(
                            "drop or change that default first, or add CASCADE to drop it with the function",
                        ));
                }
                for table in &mut self.catalog.tables {
                    for column in &mut table.columns {
                        if calls(&column.default) {
                            column.default = None;
                        }
                    }
                }
                // A domain's default belongs to the domain: the domain goes, and with it the
                // columns of that type.
                let domains: Vec<QualifiedName> = self
                    .catalog
                    .domains
                    .iter()
                    .filter(|d| calls(&d.default))
                    .map(|d| d.name.clone())
                    .collect();
                let typed: Vec<(QualifiedName, String)> = self
                    .catalog
                    .tables
                    .iter()
                    .flat_map(|t| {
                        t.columns
                            .iter()
                            .filter(|c| {
                                matches!(&c.sql_type.base, BaseType::User { name, .. } if domains.contains(name))
                            })
                            .map(|c| (t.name.clone(), c.name.clone()))
                    })
                    .collect();
                for (table, column) in typed {
                    self.remove_column(&table, &column);
                }
                self.catalog.domains.retain(|d| !domains.contains(&d.name));
            }
            self.functions
                .retain(|(f, n)| !(f == &found && arity.is_none_or(|a| a == *n)));
        }
        Ok(())
    }

    /// `ALTER FUNCTION ... RENAME TO` / `SET SCHEMA`; defaults that call the routine follow.
    pub(super) fn move_function(
        &mut self,
        name: &[String],
        arity: Option<usize>,
        new_name: Option<&str>,
        schema: Option<&str>,
    ) {
        let Some(found) = self.resolve_function(name, arity) else {
            return;
        };
        let moved = QualifiedName::new(
            schema.unwrap_or(&found.schema).to_owned(),
            new_name.unwrap_or(&found.name).to_owned(),
        );
        for (f, n) in &mut self.functions {
            if *f == found && arity.is_none_or(|a| a == *n) {
                *f = moved.clone();
            }
        }
        // PostgreSQL stores the routine a default calls, not its name: such defaults now show
        // the new name.
        let from = ObjectName(qualified_parts(&found));
        let to = ObjectName(qualified_parts(&moved));
        let marker = format!("{from}(");
        let rename = |default: &mut Option<String>| {
            let Some(text) = default.as_deref().filter(|t| t.contains(&marker)) else {
                return;
            };
            let Ok(mut expr) = Parser::new(&PostgresDialect::default())
                .try_with_sql(text)
                .and_then(|mut p| p.parse_expr())
            else {
                return;
            };
            for_each_call(&mut expr, &mut |function| {
                if function.name == from {
                    function.name = to.clone();
                }
            });
            *default = Some(expr.to_string());
        };
        for table in &mut self.catalog.tables {
            for column in &mut table.columns {
                rename(&mut column.default);
            }
        }
        for domain in &mut self.catalog.domains {
            rename(&mut domain.default);
        }
    }

    /// Qualifies, as PostgreSQL stores them, the calls of the schema's own routines made
    /// unqualified in `function` (a call within a default expression), and a relation named by
    /// a `'name'::regclass` constant.
    pub(super) fn qualify_call(&self, function: &mut sqlparser::ast::Function) {
        let [ObjectNamePart::Identifier(ident)] = function.name.0.as_slice() else {
            return;
        };
        let arity = match &function.args {
            FunctionArguments::List(list) => list.args.len(),
            _ => 0,
        };
        let parts = [fold_ident(ident)];
        // `pg_catalog` is searched before the search path unless the path names it: a call
        // that a built-in routine takes stays the built-in one, whatever the schema defines.
        if BUILTIN_ROUTINES.contains(&parts[0].as_str())
            && !self.search_path.iter().any(|s| s == "pg_catalog")
        {
            return;
        }
        let found = self
            .resolve_function(&parts, Some(arity))
            .or_else(|| self.resolve_function(&parts, None));
        if let Some(found) = found {
            function.name = ObjectName(qualified_parts(&found));
        }
    }

    /// `'name'::regclass` as PostgreSQL stores it: the relation it names, found by the search
    /// path now, qualified (`'public.orders_id_seq'::regclass`).
    pub(super) fn qualify_regclass(&self, expr: &mut Expr) {
        let Expr::Cast {
            expr: inner,
            data_type,
            ..
        } = expr
        else {
            return;
        };
        let is_regclass = matches!(data_type, DataType::Regclass)
            || matches!(data_type, DataType::Custom(name, modifiers)
                if modifiers.is_empty()
                    && name.0.len() == 1
                    && name.to_string().eq_ignore_ascii_case("regclass"));
        if !is_regclass {
            return;
        }
        let Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(text),
            ..
        }) = inner.as_mut()
        else {
            return;
        };
        let Some(parts) = split_relation_name(text) else {
            return;
        };
        let found = self
            .resolve_sequence(&parts)
            .or_else(|| self.resolve_table_quietly(&parts));
        if let Some(found) = found {
            *text = found.to_sql();
            *data_type = DataType::Custom(
                ObjectName(vec![ObjectNamePart::Identifier(Ident::new("regclass"))]),
                Vec::new(),
            );
        }
    }

    /// A table of that name by the search path, without an error when there is none.
    fn resolve_table_quietly(&self, parts: &[String]) -> Option<QualifiedName> {
        self.candidates(parts)
            .into_iter()
            .find(|c| self.catalog.tables.iter().any(|t| &t.name == c))
    }
}

/// A routine's name as sqlparser prints it in a call: schema-qualified, quoted if needed.
fn qualified_parts(name: &QualifiedName) -> Vec<ObjectNamePart> {
    vec![
        ObjectNamePart::Identifier(Ident::new(quote_ident_if_needed(&name.schema))),
        ObjectNamePart::Identifier(Ident::new(quote_ident_if_needed(&name.name))),
    ]
}

/// The default `text` calls `routine` with one of `arities` arguments: by its qualified name
/// (as defaults are stored), or by `bare`, the unqualified name that resolves to it.
fn calls_routine(
    text: &str,
    routine: &QualifiedName,
    bare: Option<&str>,
    arities: &[usize],
) -> bool {
    let name = ObjectName(qualified_parts(routine)).to_string();
    let names_it = |n: &str| n == name || bare == Some(n);
    if !text.contains(&format!("{name}(")) && !bare.is_some_and(|b| text.contains(&format!("{b}(")))
    {
        return false;
    }
    let Ok(mut expr) = Parser::new(&PostgresDialect::default())
        .try_with_sql(text)
        .and_then(|mut p| p.parse_expr())
    else {
        return false;
    };
    let mut found = false;
    for_each_call(&mut expr, &mut |function| {
        let arity = match &function.args {
            FunctionArguments::List(list) => list.args.len(),
            _ => 0,
        };
        found |= names_it(&function.name.to_string()) && arities.contains(&arity);
    });
    found
}

/// Calls `visit` on every function call of an expression of the forms defaults take.
fn for_each_call(expr: &mut Expr, visit: &mut dyn FnMut(&mut Function)) {
    match expr {
        Expr::Cast { expr: inner, .. }
        | Expr::Nested(inner)
        | Expr::UnaryOp { expr: inner, .. } => {
            for_each_call(inner, visit);
        }
        Expr::BinaryOp { left, right, .. } => {
            for_each_call(left, visit);
            for_each_call(right, visit);
        }
        Expr::Array(array) => {
            for element in &mut array.elem {
                for_each_call(element, visit);
            }
        }
        Expr::Function(function) => {
            visit(function);
            if let FunctionArguments::List(list) = &mut function.args {
                for arg in &mut list.args {
                    if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg {
                        for_each_call(e, visit);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The parts of a relation name written as text (`public.orders_id_seq`, `"Orders_id_seq"`),
/// folded as PostgreSQL folds them; None when it is not a plain name.
fn split_relation_name(text: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut rest = text;
    loop {
        let (part, after) = if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let end = loop {
                let (i, c) = chars.next()?;
                if c == '"' {
                    if quoted[i + 1..].starts_with('"') {
                        value.push('"');
                        chars.next();
                        continue;
                    }
                    break i + 1;
                }
                value.push(c);
            };
            (value, &quoted[end..])
        } else {
            let end = rest.find('.').unwrap_or(rest.len());
            let word = &rest[..end];
            if word.is_empty()
                || !word
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
            {
                return None;
            }
            (word.to_lowercase(), &rest[end..])
        };
        parts.push(part);
        match after.strip_prefix('.') {
            Some(next) => rest = next,
            None if after.is_empty() => return Some(parts),
            None => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_relation_name;

    #[test]
    fn relation_names_written_as_text() {
        assert_eq!(split_relation_name("seq"), Some(vec!["seq".to_owned()]));
        assert_eq!(
            split_relation_name("Public.\"My\"\"Seq\""),
            Some(vec!["public".to_owned(), "My\"Seq".to_owned()])
        );
        assert_eq!(split_relation_name("a b"), None);
        assert_eq!(split_relation_name("\"open"), None);
        assert_eq!(split_relation_name(""), None);
    }
}
