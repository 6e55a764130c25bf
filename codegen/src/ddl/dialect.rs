//! The SQL dialect the reader parses with: sqlparser's PostgreSQL dialect, plus the column
//! options sqlparser 0.63 rejects in that dialect: PostgreSQL 18's
//! `GENERATED ALWAYS AS (expr) VIRTUAL` (and the bare `GENERATED ALWAYS AS (expr)` that
//! PostgreSQL 18 reads as virtual), and identity columns whose sequence options come in an
//! order sqlparser does not accept (`AS IDENTITY (START WITH 10 INCREMENT BY 5)`) or that
//! name the sequence (`AS IDENTITY (SEQUENCE NAME s.t_id_seq)`).
//!
//! A wrapper forwards every method PostgreSQL's dialect overrides and reports PostgreSQL's
//! `TypeId`, so sqlparser's PostgreSQL-only parsing rules still apply.

use std::any::TypeId;

use sqlparser::ast::{ColumnOption, GeneratedAs, GeneratedExpressionMode};
use sqlparser::dialect::{Dialect, PostgreSqlDialect, Precedence};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

/// PostgreSQL as sqlparser reads it, plus PostgreSQL 18's virtual generated columns.
#[derive(Debug, Default)]
pub struct PostgresDialect(PostgreSqlDialect);

/// Parses a `GENERATED ...` column option in PostgreSQL's grammar:
/// `GENERATED {ALWAYS | BY DEFAULT} AS IDENTITY [( sequence options )]`, with the sequence
/// options in any order (sqlparser 0.63 accepts only some orders, and no `SEQUENCE NAME`),
/// and `GENERATED ALWAYS AS ( expr ) [STORED | VIRTUAL]`. Returns `Ok(None)` for other
/// options.
///
/// The sequence options are skipped: sqlparser's AST has no place for `SEQUENCE NAME`, so
/// the reader reads that one from the column's text (`recognise::identity_sequence_name`).
fn parse_generated(parser: &mut Parser) -> Result<Option<ColumnOption>, ParserError> {
    let is_keyword =
        |token: &Token, keyword: Keyword| matches!(token, Token::Word(w) if w.keyword == keyword);
    let [first, second, third, fourth] = parser.peek_tokens::<4>();
    if !is_keyword(&first, Keyword::GENERATED) {
        return Ok(None);
    }
    let always_as = is_keyword(&second, Keyword::ALWAYS) && is_keyword(&third, Keyword::AS);
    let by_default = is_keyword(&second, Keyword::BY) && is_keyword(&third, Keyword::DEFAULT);
    if always_as && fourth == Token::LParen {
        let _ = parser.parse_keywords(&[Keyword::GENERATED, Keyword::ALWAYS, Keyword::AS]);
        parser.expect_token(&Token::LParen)?;
        let expr = parser.parse_expr()?;
        parser.expect_token(&Token::RParen)?;
        let (generated_as, mode) = if parser.parse_keyword(Keyword::STORED) {
            (GeneratedAs::ExpStored, GeneratedExpressionMode::Stored)
        } else {
            // `VIRTUAL`, or nothing: PostgreSQL 18's default is virtual.
            let _ = parser.parse_keyword(Keyword::VIRTUAL);
            (GeneratedAs::Always, GeneratedExpressionMode::Virtual)
        };
        return Ok(Some(ColumnOption::Generated {
            generated_as,
            sequence_options: None,
            generation_expr: Some(expr),
            generation_expr_mode: Some(mode),
            generated_keyword: true,
        }));
    }
    let generated_as = if always_as && is_keyword(&fourth, Keyword::IDENTITY) {
        let _ = parser.parse_keywords(&[
            Keyword::GENERATED,
            Keyword::ALWAYS,
            Keyword::AS,
            Keyword::IDENTITY,
        ]);
        GeneratedAs::Always
    } else if by_default
        && parser.parse_keywords(&[
            Keyword::GENERATED,
            Keyword::BY,
            Keyword::DEFAULT,
            Keyword::AS,
            Keyword::IDENTITY,
        ])
    {
        GeneratedAs::ByDefault
    } else {
        return Ok(None);
    };
    // Skipped, parentheses balanced: only SEQUENCE NAME matters, and it is read from the text.
    if parser.consume_token(&Token::LParen) {
        let mut depth = 1usize;
        while depth > 0 {
            match parser.next_token().token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::EOF => {
                    return parser.expected("`)` closing the identity options", parser.peek_token())
                }
                _ => {}
            }
        }
    }
    Ok(Some(ColumnOption::Generated {
        generated_as,
        sequence_options: Some(Vec::new()),
        generation_expr: None,
        generation_expr_mode: None,
        generated_keyword: true,
    }))
}

impl Dialect for PostgresDialect {
    fn dialect(&self) -> TypeId {
        TypeId::of::<PostgreSqlDialect>()
    }

    fn parse_column_option(
        &self,
        parser: &mut Parser,
    ) -> Result<Option<Result<Option<ColumnOption>, ParserError>>, ParserError> {
        match parse_generated(parser) {
            Ok(None) => Ok(None),
            other => Ok(Some(other)),
        }
    }

    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        self.0.identifier_quote_style(identifier)
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.0.is_delimited_identifier_start(ch)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        self.0.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        self.0.is_identifier_part(ch)
    }

    fn supports_unicode_string_literal(&self) -> bool {
        self.0.supports_unicode_string_literal()
    }

    fn is_reserved_for_identifier(&self, kw: Keyword) -> bool {
        self.0.is_reserved_for_identifier(kw)
    }

    fn is_table_alias(&self, kw: &Keyword, parser: &mut Parser) -> bool {
        self.0.is_table_alias(kw, parser)
    }

    fn is_custom_operator_part(&self, ch: char) -> bool {
        self.0.is_custom_operator_part(ch)
    }

    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        self.0.get_next_precedence(parser)
    }

    fn supports_filter_during_aggregation(&self) -> bool {
        self.0.supports_filter_during_aggregation()
    }

    fn supports_group_by_expr(&self) -> bool {
        self.0.supports_group_by_expr()
    }

    fn supports_alter_user_as_alter_role(&self) -> bool {
        self.0.supports_alter_user_as_alter_role()
    }

    fn prec_value(&self, prec: Precedence) -> u8 {
        self.0.prec_value(prec)
    }

    fn allow_extract_custom(&self) -> bool {
        self.0.allow_extract_custom()
    }

    fn allow_extract_single_quotes(&self) -> bool {
        self.0.allow_extract_single_quotes()
    }

    fn supports_create_index_with_clause(&self) -> bool {
        self.0.supports_create_index_with_clause()
    }

    fn supports_explain_with_utility_options(&self) -> bool {
        self.0.supports_explain_with_utility_options()
    }

    fn supports_listen_notify(&self) -> bool {
        self.0.supports_listen_notify()
    }

    fn supports_exclude_constraint(&self) -> bool {
        self.0.supports_exclude_constraint()
    }

    fn supports_factorial_operator(&self) -> bool {
        self.0.supports_factorial_operator()
    }

    fn supports_bitwise_shift_operators(&self) -> bool {
        self.0.supports_bitwise_shift_operators()
    }

    fn supports_comment_on(&self) -> bool {
        self.0.supports_comment_on()
    }

    fn supports_load_extension(&self) -> bool {
        self.0.supports_load_extension()
    }

    fn supports_named_fn_args_with_colon_operator(&self) -> bool {
        self.0.supports_named_fn_args_with_colon_operator()
    }

    fn supports_named_fn_args_with_expr_name(&self) -> bool {
        self.0.supports_named_fn_args_with_expr_name()
    }

    fn supports_empty_projections(&self) -> bool {
        self.0.supports_empty_projections()
    }

    fn supports_nested_comments(&self) -> bool {
        self.0.supports_nested_comments()
    }

    fn supports_string_escape_constant(&self) -> bool {
        self.0.supports_string_escape_constant()
    }

    fn supports_numeric_literal_underscores(&self) -> bool {
        self.0.supports_numeric_literal_underscores()
    }

    fn supports_array_typedef_with_brackets(&self) -> bool {
        self.0.supports_array_typedef_with_brackets()
    }

    fn supports_geometric_types(&self) -> bool {
        self.0.supports_geometric_types()
    }

    fn supports_order_by_using_operator(&self) -> bool {
        self.0.supports_order_by_using_operator()
    }

    fn supports_set_names(&self) -> bool {
        self.0.supports_set_names()
    }

    fn supports_alter_column_type_using(&self) -> bool {
        self.0.supports_alter_column_type_using()
    }

    fn supports_left_associative_joins_without_parens(&self) -> bool {
        self.0.supports_left_associative_joins_without_parens()
    }

    fn supports_notnull_operator(&self) -> bool {
        self.0.supports_notnull_operator()
    }

    fn supports_interval_options(&self) -> bool {
        self.0.supports_interval_options()
    }

    fn supports_insert_table_alias(&self) -> bool {
        self.0.supports_insert_table_alias()
    }

    fn supports_create_table_like_parenthesized(&self) -> bool {
        self.0.supports_create_table_like_parenthesized()
    }

    fn supports_select_wildcard_with_alias(&self) -> bool {
        self.0.supports_select_wildcard_with_alias()
    }

    fn supports_comma_separated_trim(&self) -> bool {
        self.0.supports_comma_separated_trim()
    }

    fn supports_xml_expressions(&self) -> bool {
        self.0.supports_xml_expressions()
    }

    fn supports_aliased_function_args(&self) -> bool {
        self.0.supports_aliased_function_args()
    }

    fn supports_comment_optimizer_hint(&self) -> bool {
        self.0.supports_comment_optimizer_hint()
    }
}
