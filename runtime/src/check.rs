//! Checks of values that PostgreSQL would reject without saying which row or step they came
//! from: text longer than a `varchar(n)` / `char(n)` column holds, and NUL bytes, which no
//! PostgreSQL text can hold. Generated code runs them before sending anything.

use crate::error::{ValidationError, ValidationKind};

/// Why PostgreSQL would reject a text value: its kind ([`ValidationKind::TooLong`] or
/// [`ValidationKind::NulByte`]) and the words that follow "the value".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextProblem {
    kind: ValidationKind,
    text: String,
}

impl TextProblem {
    fn new(kind: ValidationKind, text: String) -> Self {
        TextProblem { kind, text }
    }
}

impl std::fmt::Display for TextProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A value of a text column: `String`, and `Option`s and `Vec`s of it.
pub trait TextValue {
    /// Why PostgreSQL would reject the value in a column of at most `max_chars` characters
    /// (`None`: unbounded), or `None` when it would not.
    fn text_problem(&self, max_chars: Option<usize>) -> Option<TextProblem>;
}

impl TextValue for String {
    fn text_problem(&self, max_chars: Option<usize>) -> Option<TextProblem> {
        if self.contains('\0') {
            return Some(TextProblem::new(
                ValidationKind::NulByte,
                "contains a NUL byte, which PostgreSQL text cannot hold".to_owned(),
            ));
        }
        let max = max_chars?;
        // PostgreSQL counts characters, and silently drops excess characters that are all
        // spaces.
        let excess: String = self.chars().skip(max).collect();
        if excess.is_empty() || excess.chars().all(|c| c == ' ') {
            return None;
        }
        Some(TextProblem::new(
            ValidationKind::TooLong,
            format!(
                "is {} characters long; the column holds at most {max}",
                self.chars().count()
            ),
        ))
    }
}

impl<T: TextValue> TextValue for Option<T> {
    fn text_problem(&self, max_chars: Option<usize>) -> Option<TextProblem> {
        self.as_ref().and_then(|v| v.text_problem(max_chars))
    }
}

impl<T: TextValue> TextValue for Vec<T> {
    fn text_problem(&self, max_chars: Option<usize>) -> Option<TextProblem> {
        self.iter().enumerate().find_map(|(i, v)| {
            v.text_problem(max_chars)
                .map(|problem| TextProblem::new(problem.kind, format!("element {i} {problem}")))
        })
    }
}

/// `Error::Validation` for a value of row `row` (0-based) of `table` that PostgreSQL would
/// reject, of the problem's kind.
pub fn bad_value(table: &str, row: usize, column: &str, problem: &TextProblem) -> crate::Error {
    crate::Error::Validation(ValidationError::new(
        problem.kind,
        format!("`{table}` row {row}, column `{column}`: the value {problem}"),
    ))
}

/// The steps a graph's database error may come from: those its constraint names (narrowed
/// by its table when both do), else those its table or partition names, else, for an error
/// about the data (SQLSTATE classes 22, 23 and 54), every step, and otherwise none (a
/// timeout, a lost connection: no step is at fault).
pub fn pick_steps(
    by_constraint: &[&'static str],
    by_table: &[&'static str],
    all: &[&'static str],
    code: &tokio_postgres::error::SqlState,
) -> Vec<&'static str> {
    if !by_constraint.is_empty() {
        let both: Vec<&'static str> = by_constraint
            .iter()
            .copied()
            .filter(|tag| by_table.contains(tag))
            .collect();
        return if both.is_empty() {
            by_constraint.to_vec()
        } else {
            both
        };
    }
    if !by_table.is_empty() {
        return by_table.to_vec();
    }
    if ["22", "23", "54"]
        .iter()
        .any(|class| code.code().starts_with(class))
    {
        return all.to_vec();
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::{bad_value, TextValue};
    use crate::{Error, ValidationKind};

    /// The kind and text of a value's problem.
    fn problem(value: &impl TextValue, max: Option<usize>) -> Option<(ValidationKind, String)> {
        value
            .text_problem(max)
            .map(|problem| (problem.kind, problem.to_string()))
    }

    #[test]
    fn lengths_are_counted_in_characters_and_excess_spaces_are_allowed() {
        assert_eq!(problem(&"ßßß".to_owned(), Some(3)), None);
        assert_eq!(problem(&"ab   ".to_owned(), Some(2)), None);
        assert_eq!(
            problem(&"abc".to_owned(), Some(2)),
            Some((
                ValidationKind::TooLong,
                "is 3 characters long; the column holds at most 2".to_owned()
            ))
        );
        assert_eq!(
            problem(&"a\0b".to_owned(), None).map(|(kind, _)| kind),
            Some(ValidationKind::NulByte)
        );
        assert_eq!(
            problem(&Some(vec![None, Some("a\0".to_owned())]), None),
            Some((
                ValidationKind::NulByte,
                "element 1 contains a NUL byte, which PostgreSQL text cannot hold".to_owned()
            ))
        );
    }

    #[test]
    fn a_bad_value_keeps_its_kind_and_text_through_its_step() -> Result<(), String> {
        let too_long = "abc"
            .to_owned()
            .text_problem(Some(2))
            .ok_or("`abc` is too long for 2 characters")?;
        let error = bad_value("public.order_items", 1, "sku", &too_long).in_step("graph:root:x");
        assert_eq!(error.validation_kind(), Some(ValidationKind::TooLong));
        assert!(matches!(error, Error::Validation(_)));
        assert_eq!(
            error.to_string(),
            "invalid write: step `graph:root:x`: `public.order_items` row 1, column `sku`: the \
             value is 3 characters long; the column holds at most 2"
        );
        Ok(())
    }
}
