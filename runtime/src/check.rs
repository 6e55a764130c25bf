//! Checks of values that PostgreSQL would reject without saying which row or step they came
//! from: text longer than a `varchar(n)` / `char(n)` column holds, and NUL bytes, which no
//! PostgreSQL text can hold. Generated code runs them before sending anything.

/// A value of a text column: `String`, and `Option`s and `Vec`s of it.
pub trait TextValue {
    /// Why PostgreSQL would reject the value in a column of at most `max_chars` characters
    /// (`None`: unbounded), or `None` when it would not.
    fn text_problem(&self, max_chars: Option<usize>) -> Option<String>;
}

impl TextValue for String {
    fn text_problem(&self, max_chars: Option<usize>) -> Option<String> {
        if self.contains('\0') {
            return Some("contains a NUL byte, which PostgreSQL text cannot hold".to_owned());
        }
        let max = max_chars?;
        // PostgreSQL counts characters, and silently drops excess characters that are all
        // spaces.
        let excess: String = self.chars().skip(max).collect();
        if excess.is_empty() || excess.chars().all(|c| c == ' ') {
            return None;
        }
        Some(format!(
            "is {} characters long; the column holds at most {max}",
            self.chars().count()
        ))
    }
}

impl<T: TextValue> TextValue for Option<T> {
    fn text_problem(&self, max_chars: Option<usize>) -> Option<String> {
        self.as_ref().and_then(|v| v.text_problem(max_chars))
    }
}

impl<T: TextValue> TextValue for Vec<T> {
    fn text_problem(&self, max_chars: Option<usize>) -> Option<String> {
        self.iter().enumerate().find_map(|(i, v)| {
            v.text_problem(max_chars)
                .map(|problem| format!("element {i} {problem}"))
        })
    }
}

/// `Error::Validation` for a value of row `row` (0-based) of `table` that PostgreSQL would
/// reject.
pub fn bad_value(table: &str, row: usize, column: &str, problem: &str) -> crate::Error {
    crate::Error::Validation(format!(
        "`{table}` row {row}, column `{column}`: the value {problem}"
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
    use super::TextValue;

    #[test]
    fn lengths_are_counted_in_characters_and_excess_spaces_are_allowed() {
        assert_eq!("ßßß".to_owned().text_problem(Some(3)), None);
        assert_eq!("ab   ".to_owned().text_problem(Some(2)), None);
        assert_eq!(
            "abc".to_owned().text_problem(Some(2)).as_deref(),
            Some("is 3 characters long; the column holds at most 2")
        );
        assert!("a\0b".to_owned().text_problem(None).is_some());
        assert_eq!(
            Some(vec![None, Some("a\0".to_owned())])
                .text_problem(None)
                .as_deref(),
            Some("element 1 contains a NUL byte, which PostgreSQL text cannot hold")
        );
    }
}
