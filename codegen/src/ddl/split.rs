//! Splits a schema file into statements, so that one statement sqlparser cannot read does not
//! lose the rest of the file (`Parser::parse_sql` on a whole file is all-or-nothing).
//!
//! The splitter follows psql: a `;` ends a statement unless it is inside a string, a quoted
//! identifier, a dollar-quoted body, a comment, parentheses, or the `BEGIN ATOMIC ... END`
//! body of a `CREATE FUNCTION`/`CREATE PROCEDURE`. psql meta-command lines (`\connect`,
//! `\restrict KEY`) are skipped.

use super::lexer::{Lexer, Token, TokenKind};

/// One statement of a file: its text (without the terminating `;`, with leading whitespace
/// and comments skipped) and the byte offset of its first character in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement<'a> {
    /// Byte offset of the statement's first character in the file.
    pub offset: usize,
    /// The statement, from its first token to its last (comments after it are left out).
    pub text: &'a str,
}

/// Error: unterminated quote / dollar-quoted body / block comment, with the byte offset where
/// it started and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    /// Byte offset where the unterminated construct starts.
    pub offset: usize,
    /// What is unterminated, lowercase, no trailing period.
    pub message: String,
}

/// Splits `text` into its statements, in order. Empty statements (`;;`) and meta-command
/// lines are skipped; a last statement without `;` is kept.
pub fn split_statements(text: &str) -> Result<Vec<Statement<'_>>, SplitError> {
    let mut statements = Vec::new();
    let mut current = StatementScan::default();
    for token in Lexer::new(text) {
        let token = token.map_err(|e| SplitError {
            offset: e.offset,
            message: e.message,
        })?;
        if token.is_trivia() {
            continue;
        }
        if token.kind == TokenKind::Punct
            && token.text(text) == ";"
            && current.paren_depth == 0
            && current.begin_depth == 0
        {
            statements.extend(current.finish(text));
            current = StatementScan::default();
            continue;
        }
        current.push(text, token);
    }
    statements.extend(current.finish(text));
    Ok(statements)
}

/// Splits at top-level commas (not inside parentheses, quotes, dollar bodies, comments): used
/// to split the actions of a multi-action `ALTER TABLE` after its
/// `ALTER TABLE [IF EXISTS] [ONLY] name` head. Returns (byte offset within `text`, trimmed
/// piece).
///
/// `n` top-level commas give `n + 1` pieces, some possibly empty (`a,,b`), so that a stray
/// comma can be reported; an empty or blank `text` gives no piece. Text after an unterminated
/// quote or comment belongs to the last piece.
pub fn split_top_level_commas(text: &str) -> Vec<(usize, &str)> {
    let mut pieces = Vec::new();
    let mut depth = 0usize;
    let mut first: Option<Token> = None;
    let mut last: Option<Token> = None;
    let mut piece_start = 0usize;
    let mut any = false;
    let mut unterminated: Option<usize> = None;
    let piece = |first: Option<Token>, last: Option<Token>, piece_start: usize| match (first, last)
    {
        (Some(f), Some(l)) => (f.start, text.get(f.start..l.end).unwrap_or("")),
        _ => (piece_start, ""),
    };
    for token in Lexer::new(text) {
        let token = match token {
            Ok(token) => token,
            Err(error) => {
                unterminated = Some(error.offset);
                break;
            }
        };
        if token.is_trivia() {
            continue;
        }
        any = true;
        if token.kind == TokenKind::Punct {
            match token.text(text) {
                "(" => depth += 1,
                ")" => depth = depth.saturating_sub(1),
                "," if depth == 0 => {
                    pieces.push(piece(first, last, piece_start));
                    first = None;
                    last = None;
                    piece_start = token.end;
                    continue;
                }
                _ => {}
            }
        }
        first.get_or_insert(token);
        last = Some(token);
    }
    if let Some(offset) = unterminated {
        let start = first.map_or(offset, |f| f.start);
        pieces.push((start, text.get(start..).unwrap_or("").trim_end()));
        return pieces;
    }
    if any {
        pieces.push(piece(first, last, piece_start));
    }
    pieces
}

/// What the splitter tracks inside one statement.
#[derive(Debug, Default)]
struct StatementScan {
    first: Option<Token>,
    last: Option<Token>,
    /// How many words the statement has had, up to the four that tell a routine.
    leading_words: usize,
    /// The statement so far is `CREATE [OR REPLACE] FUNCTION|PROCEDURE` (or a prefix of it,
    /// while fewer than its words have been seen).
    routine_prefix: bool,
    /// The statement is a `CREATE [OR REPLACE] FUNCTION|PROCEDURE`.
    routine: bool,
    paren_depth: usize,
    /// Open `BEGIN`/`CASE` blocks of a SQL-standard function body, as psql counts them.
    begin_depth: usize,
}

impl StatementScan {
    fn push(&mut self, text: &str, token: Token) {
        self.first.get_or_insert(token);
        self.last = Some(token);
        match token.kind {
            TokenKind::Punct => match token.text(text) {
                "(" => self.paren_depth += 1,
                ")" => self.paren_depth = self.paren_depth.saturating_sub(1),
                _ => {}
            },
            TokenKind::Word => {
                let word = token.text(text);
                if self.leading_words < 4 {
                    self.leading_word(word);
                }
                // psql's rule: in CREATE [OR REPLACE] FUNCTION/PROCEDURE, BEGIN and CASE open
                // a block and END closes one; a `;` inside a block does not end the statement.
                if self.routine {
                    if word.eq_ignore_ascii_case("begin") || word.eq_ignore_ascii_case("case") {
                        self.begin_depth += 1;
                    } else if word.eq_ignore_ascii_case("end") {
                        self.begin_depth = self.begin_depth.saturating_sub(1);
                    }
                }
            }
            _ => {}
        }
    }

    /// Follows the first words against `CREATE [OR REPLACE] FUNCTION|PROCEDURE`, without
    /// allocating: the splitter sees every word of every file.
    fn leading_word(&mut self, word: &str) {
        let at = self.leading_words;
        self.leading_words += 1;
        if at == 0 {
            self.routine_prefix = word.eq_ignore_ascii_case("create");
            return;
        }
        if !self.routine_prefix || self.routine {
            return;
        }
        let is = |w: &str| word.eq_ignore_ascii_case(w);
        let routine_word = is("function") || is("procedure");
        match at {
            1 if routine_word => self.routine = true,
            1 => self.routine_prefix = is("or"),
            2 => self.routine_prefix = is("replace"),
            3 if routine_word => self.routine = true,
            _ => self.routine_prefix = false,
        }
    }

    fn finish(self, text: &str) -> Option<Statement<'_>> {
        let (first, last) = (self.first?, self.last?);
        Some(Statement {
            offset: first.start,
            text: text.get(first.start..last.end)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Result<Vec<(usize, &str)>, SplitError> {
        Ok(split_statements(text)?
            .into_iter()
            .map(|s| (s.offset, s.text))
            .collect())
    }

    #[test]
    fn splits_simple_statements_with_offsets() -> Result<(), SplitError> {
        assert_eq!(
            split("create table a (x int);\n  create table b (y int);")?,
            vec![
                (0, "create table a (x int)"),
                (26, "create table b (y int)")
            ]
        );
        Ok(())
    }

    #[test]
    fn keeps_last_statement_without_semicolon_and_skips_empty_ones() -> Result<(), SplitError> {
        assert_eq!(
            split(";; select 1;;\n;select 2 -- done\n")?,
            vec![(3, "select 1"), (15, "select 2")]
        );
        assert_eq!(split("")?, vec![]);
        assert_eq!(split("  -- only a comment\n/* and */ ;")?, vec![]);
        Ok(())
    }

    #[test]
    fn skips_leading_comments() -> Result<(), SplitError> {
        assert_eq!(
            split("-- header\n/* note */ select 1;")?,
            vec![(21, "select 1")]
        );
        Ok(())
    }

    #[test]
    fn semicolons_inside_quotes_do_not_split() -> Result<(), SplitError> {
        let text = "select 'a;''b', E'it\\'s; ok', U&'x;y', \"c;\"\"d\";select 2";
        assert_eq!(
            split(text)?,
            vec![
                (0, "select 'a;''b', E'it\\'s; ok', U&'x;y', \"c;\"\"d\""),
                (47, "select 2")
            ]
        );
        Ok(())
    }

    #[test]
    fn dollar_quotes_and_parameters() -> Result<(), SplitError> {
        let text = "create function f() returns int as $$ select 1; $$ language sql;\n\
                    create function g() returns int as $body$ a; $$ b; $body$;\n\
                    prepare p as select $1; select a$b from t;";
        assert_eq!(
            split(text)?,
            vec![
                (
                    0,
                    "create function f() returns int as $$ select 1; $$ language sql"
                ),
                (
                    65,
                    "create function g() returns int as $body$ a; $$ b; $body$"
                ),
                (124, "prepare p as select $1"),
                (148, "select a$b from t"),
            ]
        );
        Ok(())
    }

    #[test]
    fn nested_block_comments() -> Result<(), SplitError> {
        assert_eq!(
            split("/* a /* b; */ c; */ select 1; select /* ; */ 2")?,
            vec![(20, "select 1"), (30, "select /* ; */ 2")]
        );
        Ok(())
    }

    #[test]
    fn skips_meta_command_lines() -> Result<(), SplitError> {
        let text = "\\restrict abc;def\nselect 1;\n  \\connect db\nselect 2;\n\\unrestrict abc\n";
        assert_eq!(split(text)?, vec![(18, "select 1"), (42, "select 2")]);
        Ok(())
    }

    #[test]
    fn begin_atomic_body_is_one_statement() -> Result<(), SplitError> {
        let text = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n\
                    create or replace procedure p() begin atomic select case when true then 1 end; end;\n\
                    begin; select 1; end;";
        assert_eq!(
            split(text)?,
            vec![
                (
                    0,
                    "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END"
                ),
                (
                    83,
                    "create or replace procedure p() begin atomic select case when true then 1 end; end"
                ),
                (167, "begin"),
                (174, "select 1"),
                (184, "end"),
            ]
        );
        Ok(())
    }

    #[test]
    fn reports_unterminated_constructs_with_offsets() {
        let cases = [
            ("select 1; select 'abc", 17, "unterminated quoted string"),
            ("select \"abc", 7, "unterminated quoted identifier"),
            ("select E'it\\'s", 7, "unterminated quoted string"),
            (
                "select $x$ abc $y$",
                7,
                "unterminated dollar-quoted string `$x$`",
            ),
            ("select 1 /* a /* b */", 9, "unterminated block comment"),
        ];
        for (text, offset, message) in cases {
            assert_eq!(
                split_statements(text),
                Err(SplitError {
                    offset,
                    message: message.to_owned()
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn never_slices_inside_a_character() -> Result<(), SplitError> {
        let text = "select 'é;ü'; select \"ö\"; sélect 2 -- ß\n; $ä$ é $ä$;ÿ";
        let statements = split(text)?;
        assert_eq!(statements.len(), 5);
        assert_eq!(statements.last(), Some(&(text.len() - 2, "ÿ")));
        // Every prefix of a text with multi-byte characters splits or fails without panicking.
        for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            let _ = split_statements(&text[..end]);
            let _ = split_top_level_commas(&text[..end]);
        }
        Ok(())
    }

    #[test]
    fn splits_top_level_commas() {
        let text = " add column a numeric(10, 2) default ',', /* , */ drop column b ,alter c set default f(1,2)";
        assert_eq!(
            split_top_level_commas(text),
            vec![
                (1, "add column a numeric(10, 2) default ','"),
                (50, "drop column b"),
                (65, "alter c set default f(1,2)"),
            ]
        );
        assert_eq!(
            split_top_level_commas("a,,b"),
            vec![(0, "a"), (2, ""), (3, "b")]
        );
        assert_eq!(split_top_level_commas("  "), vec![]);
        assert_eq!(
            split_top_level_commas("a, b 'c, d"),
            vec![(0, "a"), (3, "b 'c, d")]
        );
    }

    #[test]
    fn pg_dump_noise_splits() -> Result<(), SplitError> {
        let text = r#"--
-- PostgreSQL database dump
--

\restrict 7mQ1Jm0wq2zYSxJr

-- Dumped from database version 17.6
SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SELECT pg_catalog.set_config('search_path', '', false);

--
-- Name: touch(); Type: FUNCTION; Schema: public; Owner: app
--

CREATE FUNCTION public.touch() RETURNS trigger
    LANGUAGE plpgsql
    AS $_$
BEGIN
  NEW.updated_at := now(); -- keep; in sync
  RETURN NEW;
END;
$_$;

SET default_table_access_method = heap;

\unrestrict 7mQ1Jm0wq2zYSxJr
"#;
        let statements = split_statements(text)?;
        let offsets: Vec<usize> = statements.iter().map(|s| s.offset).collect();
        let find = |needle: &str| text.find(needle).unwrap_or(usize::MAX);
        assert_eq!(
            offsets,
            vec![
                find("SET statement_timeout"),
                find("SET client_encoding"),
                find("SELECT pg_catalog"),
                find("CREATE FUNCTION"),
                find("SET default_table"),
            ]
        );
        assert_eq!(offsets, vec![100, 127, 157, 282, 436]);
        let function = statements.get(3).map(|s| s.text).unwrap_or_default();
        assert!(function.ends_with("END;\n$_$"), "{function}");
        Ok(())
    }
}
