//! A SQL condition of graphs.toml (an update graph's child `where`), parsed with the
//! reader's dialect: the text as the statement writes it, and the columns it names.

use sqlparser::ast::{Expr, Value};
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

use super::dialect::PostgresDialect;

/// A condition read from its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The condition as the statement writes it (sqlparser's rendering).
    pub sql: String,
    /// The bare column names it reads, in order of appearance.
    pub columns: Vec<String>,
}

/// Why a condition was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionError {
    /// The text is not one SQL expression.
    Syntax(String),
    /// It uses a form a condition of one row's columns cannot (a qualified name, a
    /// parameter, a function, a subquery, ...), as the text shows it.
    Form(String),
}

/// Reads `text` as one expression of bare column names, constants, comparisons, `AND`,
/// `OR`, `NOT`, `IS [NOT] NULL`, `IN (...)`, `BETWEEN`, `LIKE` and casts. A parameter
/// (`$1`) is refused: the text is fixed at build time.
pub fn read_condition(text: &str) -> Result<Condition, ConditionError> {
    let dialect = PostgresDialect::default();
    let expr = Parser::new(&dialect)
        .try_with_sql(text)
        .and_then(|mut parser| {
            let expr = parser.parse_expr()?;
            match parser.next_token().token {
                Token::EOF => Ok(expr),
                other => Err(ParserError::ParserError(format!(
                    "unexpected `{other}` after the condition"
                ))),
            }
        })
        .map_err(|e| ConditionError::Syntax(e.to_string()))?;
    let mut columns = Vec::new();
    check(&expr, &mut columns).map_err(ConditionError::Form)?;
    Ok(Condition {
        sql: expr.to_string(),
        columns,
    })
}

/// Walks `expr`, collecting the column names it reads; the form it cannot take, if any.
fn check(expr: &Expr, columns: &mut Vec<String>) -> Result<(), String> {
    match expr {
        Expr::Identifier(ident) => {
            columns.push(ident.value.clone());
            Ok(())
        }
        Expr::CompoundIdentifier(_) => Err("a qualified name".to_owned()),
        Expr::Value(value) => match &value.value {
            Value::Placeholder(p) => Err(format!("the parameter `{p}`")),
            _ => Ok(()),
        },
        Expr::IsNull(e)
        | Expr::IsNotNull(e)
        | Expr::IsTrue(e)
        | Expr::IsNotTrue(e)
        | Expr::IsFalse(e)
        | Expr::IsNotFalse(e)
        | Expr::IsUnknown(e)
        | Expr::Nested(e)
        | Expr::UnaryOp { expr: e, .. }
        | Expr::Cast { expr: e, .. } => check(e, columns),
        Expr::IsDistinctFrom(a, b)
        | Expr::IsNotDistinctFrom(a, b)
        | Expr::BinaryOp {
            left: a, right: b, ..
        } => {
            check(a, columns)?;
            check(b, columns)
        }
        Expr::InList { expr, list, .. } => {
            check(expr, columns)?;
            list.iter().try_for_each(|e| check(e, columns))
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            check(expr, columns)?;
            check(low, columns)?;
            check(high, columns)
        }
        Expr::Like {
            expr,
            pattern,
            escape_char,
            ..
        }
        | Expr::ILike {
            expr,
            pattern,
            escape_char,
            ..
        } => {
            check(expr, columns)?;
            check(pattern, columns)?;
            escape_char.iter().try_for_each(|e| check(e, columns))
        }
        other => Err(format!("`{other}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::{read_condition, ConditionError};

    #[test]
    fn a_condition_names_its_columns_and_renders_as_one_expression() {
        let read = read_condition("kind = 'follow' AND (muted IS NOT NULL OR n BETWEEN 1 AND 3)");
        let condition = read.expect("a condition");
        assert_eq!(condition.columns, ["kind", "muted", "n"]);
        assert_eq!(
            condition.sql,
            "kind = 'follow' AND (muted IS NOT NULL OR n BETWEEN 1 AND 3)"
        );
        assert!(matches!(
            read_condition("t.kind = 'x'"),
            Err(ConditionError::Form(_))
        ));
        assert!(matches!(
            read_condition("kind IN (SELECT 1)"),
            Err(ConditionError::Form(_))
        ));
        assert!(matches!(
            read_condition("1; DROP TABLE t"),
            Err(ConditionError::Syntax(_))
        ));
    }
}
