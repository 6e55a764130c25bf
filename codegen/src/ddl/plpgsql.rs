//! The subset of PL/pgSQL that migration histories use in `DO` blocks to make DDL
//! idempotent, read into a tree the reader can walk:
//!
//! ```sql
//! DO $$ BEGIN
//!     CREATE TYPE auth.factor_type AS ENUM ('totp');
//! EXCEPTION WHEN duplicate_object THEN null;
//! END $$;
//!
//! DO $$ BEGIN
//!   IF NOT EXISTS (SELECT * FROM information_schema.columns
//!                  WHERE table_schema = 'auth' AND table_name = 'users' AND column_name = 'x')
//!   THEN ALTER TABLE auth.users RENAME COLUMN y TO x;
//!   END IF;
//! END $$;
//! ```
//!
//! Blocks (with `DECLARE` and `EXCEPTION` handlers), `IF` / `ELSIF` / `ELSE`, SQL
//! statements, and `RAISE`, `NULL`, `PERFORM` (which change nothing) are read. Loops,
//! dynamic `EXECUTE` and anything else are an [`Unreadable`](Item::Unreadable) item: what they do to the
//! schema cannot be known without running them.

use super::lexer::{Lexer, Token, TokenKind};

/// A `BEGIN ... END` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Its statements, in order.
    pub items: Vec<Item>,
    /// It has an `EXCEPTION` clause: an error in its statements undoes the block and is
    /// handled (the handlers' own statements are not read).
    pub handles_errors: bool,
}

/// One statement of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An SQL statement, at `offset` in the body, without its `;`.
    Sql {
        /// Byte offset in the body.
        offset: usize,
        /// The statement's text.
        text: String,
    },
    /// `IF c THEN ... [ELSIF c THEN ...] [ELSE ...] END IF`: each branch's condition
    /// (`None` for `ELSE`) and statements.
    If {
        /// The branches in order.
        branches: Vec<Branch>,
    },
    /// A nested block.
    Block(Block),
    /// A statement that cannot change the schema (`RAISE`, `NULL`, `PERFORM`, ...).
    Inert,
    /// A loop: its statements may run any number of times, so what it does to the schema
    /// can be read only when it changes none (it only reads or writes rows).
    Loop {
        /// Byte offset in the body.
        offset: usize,
        /// What it is, for the message.
        what: String,
        /// The loop's statements.
        items: Vec<Item>,
    },
    /// A statement whose effect cannot be read (dynamic `EXECUTE`, `CASE`, ...).
    Unreadable {
        /// Byte offset in the body.
        offset: usize,
        /// What it is, for the message.
        what: String,
    },
}

impl Item {
    /// The item changes no table, type, key or index: it only reads or writes rows, raises,
    /// or assigns variables (so an `IF` or loop made only of such items need not be read).
    pub fn is_data_only(&self) -> bool {
        match self {
            Item::Sql { text, .. } => {
                let first = super::lexer::top_level_words(text)
                    .into_iter()
                    .next()
                    .map(|w| w.to_ascii_lowercase());
                matches!(
                    first.as_deref(),
                    Some("insert" | "update" | "delete" | "select" | "merge" | "with" | "values")
                )
            }
            Item::If { branches } => branches
                .iter()
                .all(|b| b.items.iter().all(Item::is_data_only)),
            Item::Block(block) => block.items.iter().all(Item::is_data_only),
            Item::Loop { items, .. } => items.iter().all(Item::is_data_only),
            Item::Inert => true,
            Item::Unreadable { .. } => false,
        }
    }
}

/// One branch of an `IF`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    /// The condition's offset in the body and its text; `None` for `ELSE`.
    pub condition: Option<(usize, String)>,
    /// The branch's statements.
    pub items: Vec<Item>,
}

/// The body of a `DO` statement (`DO [LANGUAGE plpgsql] $tag$ body $tag$ [LANGUAGE plpgsql]`)
/// and its byte offset in the statement; `None` when the statement is no `DO`, or its
/// language is not PL/pgSQL.
pub fn do_body(statement: &str) -> Option<(usize, &str)> {
    let tokens: Vec<Token> = Lexer::new(statement)
        .filter_map(Result::ok)
        .filter(|t| !t.is_trivia())
        .collect();
    let first = tokens.first()?;
    if !first.text(statement).eq_ignore_ascii_case("do") {
        return None;
    }
    let mut body = None;
    let mut language_ok = true;
    let mut i = 1;
    while i < tokens.len() {
        let token = tokens[i];
        if token.kind == TokenKind::DollarString {
            body = Some(token);
        } else if token.text(statement).eq_ignore_ascii_case("language") {
            let language = tokens
                .get(i + 1)
                .map(|t| t.text(statement).to_ascii_lowercase());
            language_ok = matches!(language.as_deref(), Some("plpgsql" | "'plpgsql'"));
            i += 1;
        }
        i += 1;
    }
    let body = body?;
    if !language_ok {
        return None;
    }
    let text = body.text(statement);
    let tag_end = text[1..].find('$')? + 2;
    let inner = text.get(tag_end..text.len().checked_sub(tag_end)?)?;
    Some((body.start + tag_end, inner))
}

/// Reads a `DO` body into its outer block. `Err` carries an offset in the body and a
/// message when the body is not a block this reader understands.
pub fn parse_body(body: &str) -> Result<Block, (usize, String)> {
    let tokens: Vec<Token> = Lexer::new(body)
        .filter_map(Result::ok)
        .filter(|t| !t.is_trivia())
        .collect();
    let mut parser = BodyParser {
        text: body,
        tokens,
        at: 0,
    };
    let block = parser.block()?;
    parser.punct(";");
    if parser.at < parser.tokens.len() {
        return Err((parser.offset(), "text after the block's END".to_owned()));
    }
    Ok(block)
}

struct BodyParser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    at: usize,
}

impl BodyParser<'_> {
    fn offset(&self) -> usize {
        self.tokens
            .get(self.at)
            .map_or(self.text.len(), |t| t.start)
    }

    fn word_at(&self, at: usize) -> Option<String> {
        let token = self.tokens.get(at)?;
        (token.kind == TokenKind::Word).then(|| token.text(self.text).to_ascii_lowercase())
    }

    fn peek(&self) -> Option<String> {
        self.word_at(self.at)
    }

    fn keyword(&mut self, word: &str) -> bool {
        if self.peek().as_deref() == Some(word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn punct(&mut self, punct: &str) -> bool {
        let is = self
            .tokens
            .get(self.at)
            .is_some_and(|t| t.kind == TokenKind::Punct && t.text(self.text) == punct);
        if is {
            self.at += 1;
        }
        is
    }

    fn expect(&mut self, word: &str) -> Result<(), (usize, String)> {
        if self.keyword(word) {
            Ok(())
        } else {
            Err((
                self.offset(),
                format!("expected `{}`", word.to_ascii_uppercase()),
            ))
        }
    }

    /// Skips to just past the next `;` outside parentheses; returns the byte range of the
    /// skipped text before the `;`.
    fn skip_past_semicolon(&mut self) -> (usize, usize) {
        let start = self.offset();
        let mut end = start;
        let mut depth = 0usize;
        while let Some(token) = self.tokens.get(self.at).copied() {
            self.at += 1;
            if token.kind == TokenKind::Punct {
                match token.text(self.text) {
                    "(" => depth += 1,
                    ")" => depth = depth.saturating_sub(1),
                    ";" if depth == 0 => return (start, end),
                    _ => {}
                }
            }
            end = token.end;
        }
        (start, end)
    }

    /// `[DECLARE ...] BEGIN items [EXCEPTION handlers] END [label]`.
    fn block(&mut self) -> Result<Block, (usize, String)> {
        if self.keyword("declare") {
            while self.peek().as_deref() != Some("begin") {
                if self.at >= self.tokens.len() {
                    return Err((self.offset(), "DECLARE without BEGIN".to_owned()));
                }
                self.skip_past_semicolon();
            }
        }
        self.expect("begin")?;
        let items = self.items()?;
        let mut handles_errors = false;
        if self.keyword("exception") {
            handles_errors = true;
            while self.keyword("when") {
                while !self.keyword("then") {
                    if self.at >= self.tokens.len() {
                        return Err((self.offset(), "WHEN without THEN".to_owned()));
                    }
                    self.at += 1;
                }
                // The handler's statements are not read: they run only after an error.
                self.items()?;
            }
        }
        self.expect("end")?;
        if self.peek().is_some_and(|w| w != "if") && !self.at_punct(";") {
            // `END label`
            self.at += 1;
        }
        Ok(Block {
            items,
            handles_errors,
        })
    }

    fn at_punct(&self, punct: &str) -> bool {
        self.tokens
            .get(self.at)
            .is_some_and(|t| t.kind == TokenKind::Punct && t.text(self.text) == punct)
    }

    /// Statements up to `END`, `EXCEPTION`, `ELSIF`, `ELSE` or `WHEN` (not consumed).
    fn items(&mut self) -> Result<Vec<Item>, (usize, String)> {
        let mut items = Vec::new();
        loop {
            let Some(word) = self.peek() else {
                if self.at >= self.tokens.len() {
                    return Err((self.offset(), "block without END".to_owned()));
                }
                // A statement starting with punctuation (`(SELECT ...)`).
                let (start, end) = self.skip_past_semicolon();
                items.push(Item::Sql {
                    offset: start,
                    text: self.text[start..end].to_owned(),
                });
                continue;
            };
            match word.as_str() {
                "end" | "exception" | "elsif" | "elseif" | "else" | "when" => return Ok(items),
                "begin" | "declare" => {
                    let block = self.block()?;
                    self.punct(";");
                    items.push(Item::Block(block));
                }
                "if" => items.push(self.if_statement()?),
                "raise" | "null" | "perform" | "return" | "assert" | "get" | "commit"
                | "rollback" => {
                    self.skip_past_semicolon();
                    items.push(Item::Inert);
                }
                "loop" | "while" | "for" | "foreach" => {
                    // The header up to LOOP, then the body up to END LOOP.
                    let offset = self.offset();
                    let mut depth = 0usize;
                    while let Some(token) = self.tokens.get(self.at).copied() {
                        if depth == 0 && self.peek().as_deref() == Some("loop") {
                            break;
                        }
                        if token.kind == TokenKind::Punct {
                            match token.text(self.text) {
                                "(" => depth += 1,
                                ")" => depth = depth.saturating_sub(1),
                                _ => {}
                            }
                        }
                        self.at += 1;
                    }
                    self.expect("loop")?;
                    let body = self.items()?;
                    self.expect("end")?;
                    self.expect("loop")?;
                    self.punct(";");
                    items.push(Item::Loop {
                        offset,
                        what: format!("a `{}` loop", word.to_ascii_uppercase()),
                        items: body,
                    });
                }
                "case" => {
                    let offset = self.offset();
                    while self.at < self.tokens.len()
                        && !(self.word_at(self.at).as_deref() == Some("end")
                            && self.word_at(self.at + 1).as_deref() == Some("case"))
                    {
                        self.at += 1;
                    }
                    self.at += 2;
                    self.punct(";");
                    items.push(Item::Unreadable {
                        offset,
                        what: "a `CASE` statement".to_owned(),
                    });
                }
                "execute"
                    if self
                        .tokens
                        .get(self.at + 1)
                        .is_some_and(|t| t.kind == TokenKind::String)
                        && self
                            .tokens
                            .get(self.at + 2)
                            .is_some_and(|t| t.text(self.text) == ";") =>
                {
                    // `EXECUTE 'constant SQL'` runs that statement.
                    let string = self.tokens[self.at + 1];
                    self.at += 3;
                    items.push(Item::Sql {
                        offset: string.start + 1,
                        text: super::lexer::unquote_string(string.text(self.text)),
                    });
                }
                "execute" | "call" => {
                    let offset = self.offset();
                    self.skip_past_semicolon();
                    items.push(Item::Unreadable {
                        offset,
                        what: format!("a `{}` statement", word.to_ascii_uppercase()),
                    });
                }
                _ if self.is_assignment() => {
                    self.skip_past_semicolon();
                    items.push(Item::Inert);
                }
                _ => {
                    let (start, end) = self.skip_past_semicolon();
                    items.push(Item::Sql {
                        offset: start,
                        text: self.text[start..end].to_owned(),
                    });
                }
            }
        }
    }

    /// `name := ...` or `name = ...` at a statement's start.
    fn is_assignment(&self) -> bool {
        let next = self.tokens.get(self.at + 1).map(|t| t.text(self.text));
        let after = self.tokens.get(self.at + 2).map(|t| t.text(self.text));
        matches!((next, after), (Some(":"), Some("=")) | (Some("="), _))
    }

    fn if_statement(&mut self) -> Result<Item, (usize, String)> {
        self.expect("if")?;
        let mut branches = Vec::new();
        loop {
            let start = self.offset();
            let mut end = start;
            let mut depth = 0usize;
            loop {
                let Some(token) = self.tokens.get(self.at).copied() else {
                    return Err((start, "IF without THEN".to_owned()));
                };
                if depth == 0 && self.peek().as_deref() == Some("then") {
                    self.at += 1;
                    break;
                }
                if token.kind == TokenKind::Punct {
                    match token.text(self.text) {
                        "(" => depth += 1,
                        ")" => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
                end = token.end;
                self.at += 1;
            }
            let items = self.items()?;
            branches.push(Branch {
                condition: Some((start, self.text[start..end].to_owned())),
                items,
            });
            if self.keyword("elsif") || self.keyword("elseif") {
                continue;
            }
            if self.keyword("else") {
                let items = self.items()?;
                branches.push(Branch {
                    condition: None,
                    items,
                });
            }
            self.expect("end")?;
            self.expect("if")?;
            self.punct(";");
            return Ok(Item::If { branches });
        }
    }
}

/// What an existence test in an `IF` condition asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existence {
    /// `information_schema.columns`: a column of a table.
    Column {
        /// Schema, if the condition names one.
        schema: Option<String>,
        /// Table.
        table: String,
        /// Column.
        column: String,
    },
    /// `information_schema.tables`, `pg_tables`: a table.
    Table {
        /// Schema, if the condition names one.
        schema: Option<String>,
        /// Table.
        table: String,
    },
    /// `information_schema.table_constraints` and the other constraint views,
    /// `pg_constraint`: a constraint by name.
    Constraint {
        /// Schema, if the condition names one.
        schema: Option<String>,
        /// Constraint.
        name: String,
    },
    /// `pg_type`: a type by name.
    Type {
        /// Type.
        name: String,
    },
    /// `pg_class`, `pg_indexes`: a relation (index, table, sequence) by name.
    Relation {
        /// Relation.
        name: String,
    },
}

/// An `IF` condition of the form `[NOT] EXISTS (SELECT ... FROM <catalog view> WHERE
/// col = 'value' AND ...)`: what it asks and whether it is negated. `None` for any other
/// condition.
pub fn existence_test(condition: &str) -> Option<(bool, Existence)> {
    let tokens: Vec<Token> = Lexer::new(condition)
        .filter_map(Result::ok)
        .filter(|t| !t.is_trivia())
        .collect();
    let word = |i: usize| {
        tokens
            .get(i)
            .filter(|t| t.kind == TokenKind::Word)
            .map(|t| t.text(condition).to_ascii_lowercase())
    };
    let mut i = 0;
    let negated = word(0).as_deref() == Some("not");
    if negated {
        i += 1;
    }
    if word(i).as_deref() != Some("exists") {
        return None;
    }
    // The catalog view after the first FROM.
    let from = (i..tokens.len()).find(|&j| word(j).as_deref() == Some("from"))?;
    let mut view = word(from + 1)?;
    if tokens.get(from + 2).map(|t| t.text(condition)) == Some(".") {
        view = word(from + 3)?;
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for j in 0..tokens.len().saturating_sub(2) {
        let (Some(key), eq, value) = (word(j), tokens[j + 1], tokens[j + 2]) else {
            continue;
        };
        if eq.text(condition) == "=" && value.kind == TokenKind::String {
            pairs.push((key, super::lexer::unquote_string(value.text(condition))));
        }
    }
    // Conditions joined by OR, or compared other than by `=`, are not simple tests.
    if (0..tokens.len()).any(|j| word(j).as_deref() == Some("or")) {
        return None;
    }
    let get = |keys: &[&str]| {
        pairs
            .iter()
            .find(|(k, _)| keys.contains(&k.as_str()))
            .map(|(_, v)| v.clone())
    };
    let schema = get(&["table_schema", "constraint_schema", "schemaname"]);
    let test = match view.as_str() {
        "columns" => Existence::Column {
            schema,
            table: get(&["table_name"])?,
            column: get(&["column_name"])?,
        },
        "tables" | "pg_tables" => Existence::Table {
            schema,
            table: get(&["table_name", "tablename"])?,
        },
        "table_constraints"
        | "constraint_column_usage"
        | "key_column_usage"
        | "referential_constraints"
        | "check_constraints" => Existence::Constraint {
            schema,
            name: get(&["constraint_name"])?,
        },
        "pg_constraint" => Existence::Constraint {
            schema: None,
            name: get(&["conname"])?,
        },
        "pg_type" => Existence::Type {
            name: get(&["typname"])?,
        },
        "pg_class" | "pg_indexes" => Existence::Relation {
            name: get(&["relname", "indexname"])?,
        },
        _ => return None,
    };
    Some((negated, test))
}

/// An `IF` condition of the form `(SELECT count(*) = n FROM pg_indexes WHERE indexname IN
/// ('a', 'b') [AND schemaname = 's'])`: `n` and the relations counted. `None` for any other
/// condition.
pub fn count_test(condition: &str) -> Option<(usize, Vec<Existence>)> {
    let tokens: Vec<Token> = Lexer::new(condition)
        .filter_map(Result::ok)
        .filter(|t| !t.is_trivia())
        .collect();
    let texts: Vec<String> = tokens
        .iter()
        .map(|t| t.text(condition).to_ascii_lowercase())
        .collect();
    let head = ["(", "select", "count", "(", "*", ")", "="];
    if texts.len() < head.len() + 1 || texts[..head.len()] != head {
        return None;
    }
    let n: usize = texts[head.len()].parse().ok()?;
    let from = texts.iter().position(|t| t == "from")?;
    let view = texts.get(from + 1)?;
    let view = if texts.get(from + 2).map(String::as_str) == Some(".") {
        texts.get(from + 3)?
    } else {
        view
    };
    if !matches!(view.as_str(), "pg_indexes" | "pg_class") || texts.iter().any(|t| t == "or") {
        return None;
    }
    let key = texts
        .iter()
        .position(|t| t == "indexname" || t == "relname")?;
    let mut names = Vec::new();
    match texts.get(key + 1).map(String::as_str) {
        Some("=") => names.push(
            tokens
                .get(key + 2)
                .filter(|t| t.kind == TokenKind::String)?,
        ),
        Some("in") if texts.get(key + 2).map(String::as_str) == Some("(") => {
            let mut i = key + 3;
            while let Some(token) = tokens.get(i) {
                match token.kind {
                    TokenKind::String => names.push(token),
                    TokenKind::Punct if texts[i] == "," => {}
                    TokenKind::Punct if texts[i] == ")" => break,
                    _ => return None,
                }
                i += 1;
            }
        }
        _ => return None,
    }
    Some((
        n,
        names
            .into_iter()
            .map(|t| Existence::Relation {
                name: super::lexer::unquote_string(t.text(condition)),
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_idioms_of_do_blocks() {
        let statement = "do $$ begin\n  create type t as enum ('a');\nexception\n  when duplicate_object then null;\nend $$";
        let (offset, body) = do_body(statement).expect("a DO body");
        assert_eq!(&statement[offset..offset + 7], " begin\n");
        let block = parse_body(body).expect("a block");
        assert!(block.handles_errors);
        assert!(
            matches!(&block.items[..], [Item::Sql { text, .. }] if text == "create type t as enum ('a')")
        );

        let body = "BEGIN IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'auth' AND table_name='users' AND column_name = 'x') THEN ALTER TABLE auth.users RENAME y TO x; ELSE RAISE NOTICE 'done'; END IF; CREATE INDEX i ON t (a); END";
        let block = parse_body(body).expect("a block");
        let [Item::If { branches }, Item::Sql { .. }] = &block.items[..] else {
            panic!("{block:?}");
        };
        assert_eq!(branches.len(), 2);
        let condition = branches[0].condition.as_ref().map(|(_, c)| c.as_str());
        assert_eq!(
            condition.and_then(existence_test),
            Some((
                true,
                Existence::Column {
                    schema: Some("auth".to_owned()),
                    table: "users".to_owned(),
                    column: "x".to_owned()
                }
            ))
        );
        assert_eq!(existence_test("x > 1"), None);
        assert_eq!(
            count_test("(select count(*) = 2 from pg_indexes where indexname in ('a', 'b') and schemaname = 'auth')"),
            Some((
                2,
                vec![
                    Existence::Relation { name: "a".to_owned() },
                    Existence::Relation { name: "b".to_owned() }
                ]
            ))
        );
        let block = parse_body("begin execute 'drop index auth.i'; end").expect("a block");
        assert!(
            matches!(&block.items[..], [Item::Sql { text, .. }] if text == "drop index auth.i")
        );
        let loops = parse_body(
            "BEGIN FOR r IN SELECT 1 LOOP INSERT INTO t VALUES (r); END LOOP; \
             WHILE true LOOP ALTER TABLE t ADD COLUMN c int; END LOOP; END",
        )
        .expect("a block");
        assert!(
            matches!(&loops.items[..], [a @ Item::Loop { .. }, b @ Item::Loop { .. }] if a.is_data_only() && !b.is_data_only()),
            "{loops:?}"
        );
        assert!(do_body("DO LANGUAGE plperl $$ 1 $$").is_none());
    }
}
