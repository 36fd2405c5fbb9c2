//! The lexer: logos turns source text into tokens.
//!
//! Comments are trivia: the lexer does not hand them to the parser but keeps them in a side
//! list, so that doc comments (`///`) can be attached to the declaration below them and the
//! formatter can put every comment back. Bytes that start no token become one diagnostic per
//! run of bad bytes and are skipped, so the parser still sees the rest of the file.

use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};
use logos::Logos;

#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n\f]+")]
pub enum Tok<'a> {
    // Keywords.
    #[token("law")]
    Law,
    #[token("version")]
    Version,
    #[token("import")]
    Import,
    #[token("type")]
    Type,
    #[token("enum")]
    Enum,
    #[token("struct")]
    Struct,
    #[token("fact")]
    Fact,
    #[token("data")]
    Data,
    #[token("schema")]
    Schema,
    #[token("effective")]
    Effective,
    #[token("until")]
    Until,
    #[token("def")]
    Def,
    #[token("exception")]
    Exception,
    #[token("priority")]
    Priority,
    #[token("when")]
    When,
    #[token("article")]
    Article,
    #[token("chapter")]
    Chapter,
    #[token("articles")]
    Articles,
    #[token("to")]
    To,
    #[token("role")]
    Role,
    #[token("authority")]
    Authority,
    #[token("obligation")]
    Obligation,
    #[token("prohibition")]
    Prohibition,
    #[token("permission")]
    Permission,
    #[token("exemption")]
    Exemption,
    #[token("right")]
    Right,
    #[token("penalty")]
    Penalty,
    #[token("warning")]
    Warning,
    #[token("addressee")]
    Addressee,
    #[token("due")]
    Due,
    #[token("text")]
    Text,
    #[token("paragraph")]
    Paragraph,
    #[token("item")]
    Item,
    #[token("overrides")]
    Overrides,
    #[token("except")]
    Except,
    #[token("tagged")]
    Tagged,
    #[token("tags")]
    Tags,
    #[token("act")]
    Act,
    #[token("fine")]
    Fine,
    #[token("test")]
    Test,
    #[token("tiers")]
    Tiers,
    #[token("finding")]
    Finding,
    #[token("done")]
    Done,
    #[token("violated")]
    Violated,
    #[token("keep_until")]
    KeepUntil,
    #[token("status")]
    Status,
    #[token("counterparty")]
    Counterparty,
    #[token("counterparties")]
    Counterparties,
    #[token("party")]
    Party,
    #[token("per")]
    Per,
    #[token("on")]
    On,
    #[token("where")]
    Where,
    #[token("earliest")]
    Earliest,
    #[token("latest")]
    Latest,
    #[token("over")]
    Over,
    #[token("given")]
    Given,
    #[token("expect")]
    Expect,
    #[token("no")]
    No,
    #[token("as")]
    As,
    #[token("of")]
    Of,
    #[token("if")]
    If,
    #[token("then")]
    Then,
    #[token("else")]
    Else,
    #[token("and")]
    And,
    #[token("or")]
    Or,
    #[token("not")]
    Not,
    #[token("in")]
    In,
    #[token("exists")]
    Exists,
    #[token("all")]
    All,
    #[token("count")]
    Count,
    #[token("sum")]
    Sum,
    #[token("true")]
    True,
    #[token("false")]
    False,
    #[token("conflict")]
    Conflict,
    #[token("CNY")]
    Cny,
    #[regex("days?")]
    Days,
    #[regex("months?")]
    Months,
    #[regex("years?")]
    Years,

    // Punctuation.
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token(".")]
    Dot,
    #[token("=")]
    Assign,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("?")]
    Question,

    // Literals. Numbers keep their text: the checker decides int vs decimal and range.
    #[regex(r"[0-9][0-9_]*", |l| l.slice())]
    Int(&'a str),
    #[regex(r"[0-9][0-9_]*\.[0-9][0-9_]*([eE][+-]?[0-9]+)?|[0-9][0-9_]*[eE][+-]?[0-9]+", |l| l.slice())]
    Decimal(&'a str),
    #[regex(r"[0-9][0-9_]*(\.[0-9][0-9_]*)?%", |l| l.slice())]
    Percent(&'a str),
    /// `100_000 CNY`: one token, so the grammar stays LR(1).
    #[regex(r"[0-9][0-9_]*(\.[0-9][0-9_]*)?[ \t]+CNY", |l| l.slice())]
    Money(&'a str),
    /// `10 working days`: counted on the working-day calendar.
    #[regex(r"[0-9][0-9_]*[ \t]+working[ \t]+days?", |l| l.slice())]
    WorkingDuration(&'a str),
    /// `10 days`, `6 months`, `1 year`.
    #[regex(r"[0-9][0-9_]*[ \t]+(days?|months?|years?)", |l| l.slice())]
    Duration(&'a str),
    #[regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", |l| l.slice())]
    Date(&'a str),
    #[regex(r#""([^"\\\n]|\\[^\n])*""#, |l| l.slice())]
    Str(&'a str),
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |l| l.slice(), priority = 1)]
    Ident(&'a str),

    // Trivia and bad input, filtered out before the parser.
    #[regex(r"//[^\n]*", allow_greedy = true)]
    Comment,
    #[regex(r#""([^"\\\n]|\\[^\n])*"#)]
    UnterminatedStr,
}

/// A comment kept beside the token stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    /// The text after `//` or `///`, without the newline.
    pub text: String,
    /// `///`: documentation of the declaration below.
    pub doc: bool,
}

/// Tokens with byte offsets, as the lalrpop parser expects them.
pub type Spanned<'a> = (usize, Tok<'a>, usize);

pub struct Lexed<'a> {
    pub tokens: Vec<Spanned<'a>>,
    pub comments: Vec<Comment>,
    pub errors: Vec<Diagnostic>,
    /// Byte offsets of brackets still open at the end of the file.
    pub unclosed: Vec<usize>,
    /// The input cannot be parsed safely (nesting too deep); `tokens` is empty.
    pub fatal: bool,
}

/// Deepest bracket nesting we accept. Deeper input is refused before parsing so that no later
/// recursive pass can overflow the stack.
pub const MAX_NESTING: usize = 200;

pub fn lex(file: FileId, src: &str) -> Lexed<'_> {
    let mut tokens = Vec::new();
    let mut comments = Vec::new();
    let mut errors = Vec::new();
    let mut bad: Option<(usize, usize)> = None;
    let mut open: Vec<usize> = Vec::new();
    let mut too_deep = false;
    let mut lexer = Tok::lexer(src);
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        let tok = match result {
            Ok(tok) => tok,
            Err(()) => {
                bad = match bad {
                    Some((s, e)) if e == range.start => Some((s, range.end)),
                    Some((s, e)) => {
                        errors.push(unknown(file, src, s, e));
                        Some((range.start, range.end))
                    }
                    None => Some((range.start, range.end)),
                };
                continue;
            }
        };
        if let Some((s, e)) = bad.take() {
            errors.push(unknown(file, src, s, e));
        }
        match tok {
            Tok::Comment => {
                let slice = lexer.slice();
                let doc = slice.starts_with("///") && !slice.starts_with("////");
                let text = if doc { &slice[3..] } else { &slice[2..] };
                comments.push(Comment {
                    span: Span::new(file, range.start, range.end),
                    text: text.to_string(),
                    doc,
                });
            }
            Tok::UnterminatedStr => {
                errors.push(
                    Diagnostic::error("E0002", "unterminated string")
                        .at(
                            Span::new(file, range.start, range.end),
                            "this string has no closing `\"`",
                        )
                        .help("strings end on the line they start; add `\"` at the end"),
                );
            }
            _ => {
                match tok {
                    Tok::LParen | Tok::LBrace | Tok::LBracket => {
                        open.push(range.start);
                        if open.len() > MAX_NESTING && !too_deep {
                            too_deep = true;
                            errors.push(
                                Diagnostic::error("E0003", "brackets nested too deeply")
                                    .at(
                                        Span::new(file, range.start, range.end),
                                        format!("more than {MAX_NESTING} levels of nesting here"),
                                    )
                                    .help("split the expression into several `def`s"),
                            );
                        }
                    }
                    Tok::RParen | Tok::RBrace | Tok::RBracket => {
                        open.pop();
                    }
                    _ => {}
                }
                tokens.push((range.start, tok, range.end));
            }
        }
    }
    if let Some((s, e)) = bad {
        errors.push(unknown(file, src, s, e));
    }
    if too_deep {
        // Nothing is parsed from a file that would overflow later passes.
        tokens.clear();
    }
    Lexed {
        tokens,
        comments,
        errors,
        unclosed: open,
        fatal: too_deep,
    }
}

fn unknown(file: FileId, src: &str, start: usize, end: usize) -> Diagnostic {
    let text = src.get(start..end).unwrap_or("");
    let shown: String = text.chars().take(20).flat_map(char::escape_debug).collect();
    let mut d = Diagnostic::error("E0001", format!("unexpected character `{shown}`"))
        .at(Span::new(file, start, end), "no token starts here");
    if text.contains('\0') {
        d = d.note("the file contains NUL bytes; is it a binary file?");
    } else if text.starts_with('&') || text.starts_with('|') || text.starts_with('!') {
        d = d.help("write `and`, `or` and `not` as words");
    } else if text.starts_with('\'') {
        d = d.help("strings use double quotes: `\"…\"`");
    }
    d
}

/// Describes a token for "expected … found …" messages.
pub fn describe(tok: &Tok<'_>) -> String {
    match tok {
        Tok::Int(s)
        | Tok::Decimal(s)
        | Tok::Percent(s)
        | Tok::Money(s)
        | Tok::Duration(s)
        | Tok::WorkingDuration(s) => {
            format!("number `{s}`")
        }
        Tok::Date(s) => format!("date `{s}`"),
        Tok::Str(s) => format!("string {s}"),
        Tok::Ident(s) => format!("name `{s}`"),
        other => format!("`{}`", token_text(other)),
    }
}

/// The source spelling of a fixed token.
pub fn token_text(tok: &Tok<'_>) -> &'static str {
    use Tok::*;
    match tok {
        Law => "law",
        Version => "version",
        Import => "import",
        Type => "type",
        Enum => "enum",
        Struct => "struct",
        Fact => "fact",
        Data => "data",
        Schema => "schema",
        Effective => "effective",
        Until => "until",
        Def => "def",
        Exception => "exception",
        Priority => "priority",
        When => "when",
        Article => "article",
        Chapter => "chapter",
        Articles => "articles",
        To => "to",
        Role => "role",
        Authority => "authority",
        Obligation => "obligation",
        Prohibition => "prohibition",
        Permission => "permission",
        Exemption => "exemption",
        Right => "right",
        Penalty => "penalty",
        Warning => "warning",
        Addressee => "addressee",
        Due => "due",
        Text => "text",
        Paragraph => "paragraph",
        Item => "item",
        Overrides => "overrides",
        Except => "except",
        Tagged => "tagged",
        Tags => "tags",
        Act => "act",
        Fine => "fine",
        Test => "test",
        Tiers => "tiers",
        Finding => "finding",
        Done => "done",
        Violated => "violated",
        KeepUntil => "keep_until",
        Status => "status",
        Counterparty => "counterparty",
        Counterparties => "counterparties",
        Party => "party",
        Per => "per",
        On => "on",
        Where => "where",
        Earliest => "earliest",
        Latest => "latest",
        Over => "over",
        Given => "given",
        Expect => "expect",
        No => "no",
        As => "as",
        Of => "of",
        If => "if",
        Then => "then",
        Else => "else",
        And => "and",
        Or => "or",
        Not => "not",
        In => "in",
        Exists => "exists",
        All => "all",
        Count => "count",
        Sum => "sum",
        True => "true",
        False => "false",
        Conflict => "conflict",
        Cny => "CNY",
        Days => "days",
        Months => "months",
        Years => "years",
        LParen => "(",
        RParen => ")",
        LBrace => "{",
        RBrace => "}",
        LBracket => "[",
        RBracket => "]",
        Comma => ",",
        Colon => ":",
        Dot => ".",
        Assign => "=",
        EqEq => "==",
        NotEq => "!=",
        Lt => "<",
        Le => "<=",
        Gt => ">",
        Ge => ">=",
        Plus => "+",
        Minus => "-",
        Star => "*",
        Slash => "/",
        Question => "?",
        Int(_) => "number",
        Decimal(_) => "number",
        Percent(_) => "percentage",
        Money(_) => "amount",
        Duration(_) | WorkingDuration(_) => "duration",
        Date(_) => "date",
        Str(_) => "string",
        Ident(_) => "name",
        Comment => "comment",
        UnterminatedStr => "string",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok<'_>> {
        lex(FileId(0), src)
            .tokens
            .into_iter()
            .map(|(_, t, _)| t)
            .collect()
    }

    #[test]
    fn numbers_dates_and_units() {
        assert_eq!(
            kinds("2026-12-01 1_000 2.5 1e25 4% 10 days 5 CNY"),
            vec![
                Tok::Date("2026-12-01"),
                Tok::Int("1_000"),
                Tok::Decimal("2.5"),
                Tok::Decimal("1e25"),
                Tok::Percent("4%"),
                Tok::Duration("10 days"),
                Tok::Money("5 CNY"),
            ]
        );
    }

    #[test]
    fn keywords_are_not_identifiers_but_prefixes_are() {
        assert_eq!(kinds("law lawful"), vec![Tok::Law, Tok::Ident("lawful")]);
    }

    #[test]
    fn comments_are_trivia() {
        let l = lex(FileId(0), "/// doc\n// plain\nfact");
        assert_eq!(l.tokens.len(), 1);
        assert_eq!(l.comments.len(), 2);
        assert!(l.comments.first().is_some_and(|c| c.doc));
    }

    #[test]
    fn bad_bytes_are_one_error_per_run() {
        let l = lex(FileId(0), "a @@@ b # c");
        assert_eq!(l.errors.len(), 2);
        assert_eq!(l.tokens.len(), 3);
    }

    #[test]
    fn unterminated_string() {
        let l = lex(FileId(0), "text \"abc\nfact");
        assert_eq!(l.errors.len(), 1);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let src = "(".repeat(10_000);
        let l = lex(FileId(0), &src);
        assert!(l.tokens.is_empty());
        assert_eq!(l.errors.len(), 1);
    }
}
