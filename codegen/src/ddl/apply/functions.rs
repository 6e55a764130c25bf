//! Routines the schema defines. A default that calls one unqualified is stored by PostgreSQL
//! with the routine's schema (`public.generate_code()`), found by the search path when the
//! default is set; so are sequences named in `'seq'::regclass`. The reader keeps the routines'
//! names and input argument counts to do the same.

use sqlparser::ast::{
    DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, ObjectName,
    ObjectNamePart, Value, ValueWithSpan,
};
use sqlparser::parser::Parser;

use crate::catalog::QualifiedName;
use crate::ddl::dialect::PostgresDialect;
use crate::ddl::fold_ident;
use crate::ident::quote_ident_if_needed;

use super::{Applied, Ctx, Reader};

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
    /// in the schema it resolves to (PostgreSQL requires it to be the only one).
    pub(super) fn drop_functions(&mut self, functions: &[(Vec<String>, Option<usize>)]) {
        for (name, arity) in functions {
            if let Some(found) = self.resolve_function(name, *arity) {
                self.functions
                    .retain(|(f, n)| !(f == &found && arity.is_none_or(|a| a == *n)));
            }
        }
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
