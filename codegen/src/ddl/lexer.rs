//! A small PostgreSQL tokenizer shared by the statement splitter ([`super::split`]) and the
//! recogniser ([`super::recognise`]). It knows only what decides where a statement ends:
//! strings, quoted identifiers, dollar quoting, comments and psql meta-commands. It never
//! panics and every token starts and ends on a char boundary, whatever the input.

/// What a [`Token`] is; enough to split statements and to read a few DDL forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A keyword or unquoted identifier (`select`, `a$b`, `Ordre`).
    Word,
    /// A double-quoted identifier, `"Order"`, also `U&"..."`.
    QuotedIdent,
    /// A string constant: `'...'`, `E'...'`, `U&'...'`.
    String,
    /// A dollar-quoted string: `$$...$$`, `$tag$...$tag$`.
    DollarString,
    /// A number (digits, possibly with a fraction or exponent).
    Number,
    /// A positional parameter, `$1`.
    Parameter,
    /// Any other single character: `(`, `)`, `,`, `;`, `.`, operators.
    Punct,
    /// A `-- line` or `/* block */` comment (nested block comments are one token).
    Comment,
    /// A psql meta-command: a line whose first non-blank character is `\` (`\connect db`,
    /// `\restrict KEY`), up to the end of the line.
    MetaCommand,
}

/// One token: its kind and its byte range in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past its last character.
    pub end: usize,
}

impl Token {
    /// The token's text within `text` (the text the token was read from).
    pub fn text<'a>(&self, text: &'a str) -> &'a str {
        text.get(self.start..self.end).unwrap_or("")
    }

    /// True for comments and meta-commands, which carry no SQL.
    pub fn is_trivia(&self) -> bool {
        matches!(self.kind, TokenKind::Comment | TokenKind::MetaCommand)
    }
}

/// A quote, dollar-quoted body or block comment that never ends, so the rest of the text
/// cannot be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    /// Byte offset where the unterminated construct starts.
    pub offset: usize,
    /// What is unterminated, lowercase.
    pub message: String,
}

/// Iterates over the tokens of a text, skipping whitespace. After an error it yields nothing
/// more.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    at_line_start: bool,
    failed: bool,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            at_line_start: true,
            failed: false,
        }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.text.as_bytes().get(at).copied()
    }

    fn token(
        &mut self,
        kind: TokenKind,
        start: usize,
        end: usize,
    ) -> Option<Result<Token, LexError>> {
        self.pos = end;
        self.at_line_start = false;
        Some(Ok(Token { kind, start, end }))
    }

    fn error(&mut self, offset: usize, message: String) -> Option<Result<Token, LexError>> {
        self.failed = true;
        Some(Err(LexError { offset, message }))
    }

    /// The end of a quoted run starting at `open` (the opening quote): `quote` doubled is an
    /// escaped quote; with `backslash` a backslash escapes the next byte.
    fn quoted_end(&self, open: usize, quote: u8, backslash: bool) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let mut i = open + 1;
        while let Some(&b) = bytes.get(i) {
            if backslash && b == b'\\' {
                i += 2;
            } else if b == quote {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return Some(i + 1);
                }
            } else {
                i += 1;
            }
        }
        None
    }

    /// If a dollar-quote delimiter (`$$` or `$tag$`) starts at `at`, its length.
    fn dollar_delimiter(&self, at: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let mut i = at + 1;
        match bytes.get(i) {
            Some(b'$') => return Some(2),
            Some(&b) if is_ident_start(b) => i += 1,
            _ => return None,
        }
        while let Some(&b) = bytes.get(i) {
            if b == b'$' {
                return Some(i + 1 - at);
            }
            if !is_ident_continue(b) || b == b'$' {
                return None;
            }
            i += 1;
        }
        None
    }

    fn block_comment_end(&self, open: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let mut depth = 0usize;
        let mut i = open;
        while i < bytes.len() {
            match (bytes.get(i), bytes.get(i + 1)) {
                (Some(b'/'), Some(b'*')) => {
                    depth += 1;
                    i += 2;
                }
                (Some(b'*'), Some(b'/')) => {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => i += 1,
            }
        }
        None
    }

    fn line_end(&self, from: usize) -> usize {
        self.text
            .as_bytes()
            .iter()
            .skip(from)
            .position(|&b| b == b'\n')
            .map_or(self.text.len(), |n| from + n)
    }

    fn run_end(&self, from: usize, keep: impl Fn(u8) -> bool) -> usize {
        let bytes = self.text.as_bytes();
        let mut i = from;
        while bytes.get(i).is_some_and(|&b| keep(b)) {
            i += 1;
        }
        i
    }
}

impl Iterator for Lexer<'_> {
    type Item = Result<Token, LexError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        // Skip whitespace, remembering whether a line starts here.
        while let Some(b) = self.byte(self.pos) {
            if b == b'\n' {
                self.at_line_start = true;
            } else if !b.is_ascii_whitespace() {
                break;
            }
            self.pos += 1;
        }
        let start = self.pos;
        let b = self.byte(start)?;
        let next = self.byte(start + 1);
        match b {
            b'\\' if self.at_line_start => {
                let end = self.line_end(start);
                self.token(TokenKind::MetaCommand, start, end)
            }
            b'-' if next == Some(b'-') => {
                let end = self.line_end(start);
                self.token(TokenKind::Comment, start, end)
            }
            b'/' if next == Some(b'*') => match self.block_comment_end(start) {
                Some(end) => self.token(TokenKind::Comment, start, end),
                None => self.error(start, "unterminated block comment".to_owned()),
            },
            b'\'' => match self.quoted_end(start, b'\'', false) {
                Some(end) => self.token(TokenKind::String, start, end),
                None => self.error(start, "unterminated quoted string".to_owned()),
            },
            b'"' => match self.quoted_end(start, b'"', false) {
                Some(end) => self.token(TokenKind::QuotedIdent, start, end),
                None => self.error(start, "unterminated quoted identifier".to_owned()),
            },
            b'e' | b'E' if next == Some(b'\'') => match self.quoted_end(start + 1, b'\'', true) {
                Some(end) => self.token(TokenKind::String, start, end),
                None => self.error(start, "unterminated quoted string".to_owned()),
            },
            b'u' | b'U'
                if next == Some(b'&') && matches!(self.byte(start + 2), Some(b'\'' | b'"')) =>
            {
                let quote = self.byte(start + 2).unwrap_or(b'\'');
                let (kind, what) = if quote == b'"' {
                    (TokenKind::QuotedIdent, "unterminated quoted identifier")
                } else {
                    (TokenKind::String, "unterminated quoted string")
                };
                match self.quoted_end(start + 2, quote, false) {
                    Some(end) => self.token(kind, start, end),
                    None => self.error(start, what.to_owned()),
                }
            }
            b'$' => {
                if let Some(len) = self.dollar_delimiter(start) {
                    let delimiter = self.text.get(start..start + len).unwrap_or("$$");
                    let body = start + len;
                    match self.text.get(body..).and_then(|rest| rest.find(delimiter)) {
                        Some(found) => {
                            self.token(TokenKind::DollarString, start, body + found + len)
                        }
                        None => self.error(
                            start,
                            format!("unterminated dollar-quoted string `{delimiter}`"),
                        ),
                    }
                } else if next.is_some_and(|n| n.is_ascii_digit()) {
                    let end = self.run_end(start + 1, |b| b.is_ascii_digit());
                    self.token(TokenKind::Parameter, start, end)
                } else {
                    self.token(TokenKind::Punct, start, start + 1)
                }
            }
            b if b.is_ascii_digit() => {
                let end = self.run_end(start, |b| {
                    b.is_ascii_alphanumeric() || b == b'.' || b == b'_'
                });
                self.token(TokenKind::Number, start, end)
            }
            b if is_ident_start(b) => {
                let end = self.run_end(start, is_ident_continue);
                self.token(TokenKind::Word, start, end)
            }
            _ => self.token(TokenKind::Punct, start, start + 1),
        }
    }
}

/// The unquoted words of `text` outside parentheses, as written, in order: enough to tell
/// what kind of statement a text is (`CREATE UNIQUE INDEX ...`) or whether a clause such as
/// `NOT NULL` appears at its top level. Reading stops at an unterminated quote or comment.
pub fn top_level_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut depth = 0usize;
    for token in Lexer::new(text) {
        let Ok(token) = token else { break };
        match token.kind {
            TokenKind::Word if depth == 0 => words.push(token.text(text).to_owned()),
            TokenKind::Punct => match token.text(text) {
                "(" => depth += 1,
                ")" => depth = depth.saturating_sub(1),
                _ => {}
            },
            _ => {}
        }
    }
    words
}

/// A byte that can start an unquoted identifier. Bytes of non-ASCII characters count as
/// letters, as in PostgreSQL, so a word always ends on a char boundary.
fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_continue(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

/// The value of a double-quoted identifier token (`"a""b"` is `a"b`), or of a `U&"..."`
/// identifier without decoding its escapes.
pub fn unquote_identifier(token_text: &str) -> String {
    let inner = token_text
        .strip_prefix("U&")
        .or_else(|| token_text.strip_prefix("u&"))
        .unwrap_or(token_text);
    let inner = inner.strip_prefix('"').unwrap_or(inner);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    inner.replace("\"\"", "\"")
}

/// The value of a string token: `'it''s'` is `it's`; `E'...'` has its simple backslash
/// escapes decoded; dollar-quoted bodies are returned as written.
pub fn unquote_string(token_text: &str) -> String {
    if let Some(rest) = token_text.strip_prefix('$') {
        // `$tag$body$tag$`
        if let Some(tag_end) = rest.find('$') {
            let delimiter_len = tag_end + 2;
            let body_end = token_text.len().saturating_sub(delimiter_len);
            return token_text
                .get(delimiter_len..body_end.max(delimiter_len))
                .unwrap_or("")
                .to_owned();
        }
        return String::new();
    }
    let (escapes, quoted) = match token_text.get(..1) {
        Some("e" | "E") => (true, token_text.get(1..).unwrap_or("")),
        Some("u" | "U") => (false, token_text.get(2..).unwrap_or("")),
        _ => (false, token_text),
    };
    let inner = quoted.strip_prefix('\'').unwrap_or(quoted);
    let inner = inner.strip_suffix('\'').unwrap_or(inner);
    if !escapes {
        return inner.replace("''", "'");
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some(other) => out.push(other),
                None => {}
            },
            '\'' => {
                // `''` inside an E string is one quote.
                if chars.clone().next() == Some('\'') {
                    chars.next();
                }
                out.push('\'');
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Result<Vec<(TokenKind, &str)>, LexError> {
        Lexer::new(text)
            .map(|t| t.map(|t| (t.kind, t.text(text))))
            .collect()
    }

    #[test]
    fn reads_quotes_dollars_and_comments() -> Result<(), LexError> {
        use TokenKind::*;
        assert_eq!(
            kinds(
                "a$b $1 $$x;$$ $f$ $$ $f$ E'it\\'s' U&'x' \"a\"\"b\" /* /* */ */ -- c\n\\x y\n."
            )?,
            vec![
                (Word, "a$b"),
                (Parameter, "$1"),
                (DollarString, "$$x;$$"),
                (DollarString, "$f$ $$ $f$"),
                (String, "E'it\\'s'"),
                (String, "U&'x'"),
                (QuotedIdent, "\"a\"\"b\""),
                (Comment, "/* /* */ */"),
                (Comment, "-- c"),
                (MetaCommand, "\\x y"),
                (Punct, "."),
            ]
        );
        Ok(())
    }

    #[test]
    fn reports_unterminated_constructs() {
        for (text, offset) in [("a 'b", 2), ("a \"b", 2), ("x $t$ b", 2), ("/* /* */", 0)] {
            let error = Lexer::new(text).find_map(Result::err);
            assert_eq!(error.map(|e| e.offset), Some(offset), "{text}");
        }
    }

    #[test]
    fn lists_top_level_words() {
        assert_eq!(
            top_level_words(
                "CREATE DOMAIN d AS int /* NOT */ CHECK (VALUE IS NOT NULL) \"NOT\" NULL 'x'"
            ),
            vec!["CREATE", "DOMAIN", "d", "AS", "int", "CHECK", "NULL"]
        );
        assert_eq!(top_level_words("a 'b"), vec!["a"]);
    }

    #[test]
    fn unquotes_values() {
        assert_eq!(unquote_identifier("\"a\"\"b\""), "a\"b");
        assert_eq!(unquote_string("'it''s'"), "it's");
        assert_eq!(unquote_string("E'it\\'s\\n'"), "it's\n");
        assert_eq!(unquote_string("$_$ body $_$"), " body ");
        assert_eq!(unquote_string("$$$$"), "");
    }
}
