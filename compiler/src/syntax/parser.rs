//! The parser: runs the lalrpop grammar over the logos tokens and turns every syntax error,
//! recovered or not, into a [`Diagnostic`]. It never fails: it returns the tree it could build
//! and the errors it met.

use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};
use crate::syntax::ast::{BinOp, Expr, ExprKind, File, Item, ItemKind, Unit};
use crate::syntax::lexer::{self, Comment, Tok};
use lalrpop_util::{ErrorRecovery, ParseError};

#[allow(
    clippy::all,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#[allow(unused_parens, dead_code)]
mod generated {
    lalrpop_util::lalrpop_mod!(pub grammar, "/syntax/grammar.rs");
}

pub(crate) fn mk(file: FileId, l: usize, r: usize, kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::new(file, l, r),
    }
}

pub(crate) fn bin(file: FileId, l: usize, r: usize, op: BinOp, a: Expr, b: Expr) -> Expr {
    mk(file, l, r, ExprKind::Binary(op, Box::new(a), Box::new(b)))
}

/// `100_000 CNY` → the amount's text.
pub(crate) fn money(tok: &str) -> ExprKind {
    ExprKind::Money(tok.split_whitespace().next().unwrap_or("0").to_string())
}

/// `10 days` → amount and unit.
pub(crate) fn duration(tok: &str) -> ExprKind {
    let mut parts = tok.split_whitespace();
    let n = parts.next().unwrap_or("0").to_string();
    let unit = match parts.next().unwrap_or("days") {
        u if u.starts_with("month") => Unit::Months,
        u if u.starts_with("year") => Unit::Years,
        _ => Unit::Days,
    };
    ExprKind::Duration(n, unit)
}

/// Removes the quotes of a string literal and resolves its escapes (`\"`, `\\`, `\n`, `\t`).
pub(crate) fn unquote(s: &str) -> String {
    let inner = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The result of parsing one file.
pub struct Parsed {
    pub file: File,
    pub comments: Vec<Comment>,
    pub errors: Vec<Diagnostic>,
    /// The file could not be parsed at all (see [`lexer::Lexed::fatal`]); checking it would
    /// only add noise.
    pub fatal: bool,
}

pub fn parse(file: FileId, src: &str) -> Parsed {
    parse_with(file, src, true)
}

/// The tokens of `test "…" { … }` items (at the top level), for a parse that does not need the
/// law's tests: deciding cases never reads them, and they are much of a law's text.
fn without_tests<'a>(tokens: &[(usize, Tok<'a>, usize)]) -> Vec<(usize, Tok<'a>, usize)> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut depth = 0u32;
    let mut i = 0;
    while let Some(&(l, t, r)) = tokens.get(i) {
        let starts_test = depth == 0
            && matches!(t, Tok::Test)
            && matches!(tokens.get(i + 1), Some((_, Tok::Str(_), _)))
            && matches!(tokens.get(i + 2), Some((_, Tok::LBrace, _)));
        if starts_test {
            // Skip to the brace that closes the test's body.
            let mut inner = 0u32;
            let mut j = i + 2;
            while let Some((_, t, _)) = tokens.get(j) {
                match t {
                    Tok::LBrace => inner += 1,
                    Tok::RBrace => {
                        inner = inner.saturating_sub(1);
                        if inner == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            i = j + 1;
            continue;
        }
        match t {
            Tok::LBrace => depth += 1,
            Tok::RBrace => depth = depth.saturating_sub(1),
            _ => {}
        }
        out.push((l, t, r));
        i += 1;
    }
    out
}

/// [`parse`], leaving out the law's `test` items when `tests` is false (to decide cases).
pub fn parse_with(file: FileId, src: &str, tests: bool) -> Parsed {
    let mut lexed = lexer::lex(file, src);
    if !tests {
        lexed.tokens = without_tests(&lexed.tokens);
    }
    let mut errors = lexed.errors;
    // One typo, one diagnostic: a syntax error on the rest of a line whose bad characters
    // the lexer already reported is a consequence, not news.
    let lex_errors: Vec<(usize, usize)> = errors
        .iter()
        .filter_map(|d| d.primary.as_ref())
        .map(|p| (p.span.end as usize, line_end(src, p.span.end as usize)))
        .collect();
    let consequence = |d: &Diagnostic| {
        d.primary.as_ref().is_some_and(|p| {
            lex_errors
                .iter()
                .any(|(from, to)| (*from..=*to).contains(&(p.span.start as usize)))
        })
    };
    let mut recovered: Vec<ErrorRecovery<usize, Tok<'_>, ()>> = Vec::new();
    let parser = generated::grammar::FileParser::new();
    let result = parser.parse(file, &mut recovered, lexed.tokens.iter().copied());
    let mut items = match result {
        Ok(items) => items,
        Err(e) => {
            let d = syntax_error(file, src, e, &lexed.unclosed);
            if !consequence(&d) {
                errors.push(d);
            }
            Vec::new()
        }
    };
    for r in recovered {
        let d = syntax_error(file, src, r.error, &lexed.unclosed);
        if !consequence(&d) {
            errors.push(d);
        }
    }
    attach_docs(src, &mut items, &lexed.comments);
    errors.sort_by_key(|d| d.primary.as_ref().map(|p| p.span.start));
    Parsed {
        file: File { file, items },
        comments: lexed.comments,
        errors,
        fatal: lexed.fatal,
    }
}

fn line_end(src: &str, from: usize) -> usize {
    src.get(from..)
        .and_then(|r| r.find('\n'))
        .map(|i| from + i)
        .unwrap_or(src.len())
}

/// Parses a single expression (for `norm expr`).
pub fn parse_expr(file: FileId, src: &str) -> Result<Expr, Vec<Diagnostic>> {
    let lexed = lexer::lex(file, src);
    if !lexed.errors.is_empty() {
        return Err(lexed.errors);
    }
    let mut recovered = Vec::new();
    let parser = generated::grammar::ExprParser::new();
    match parser.parse(file, &mut recovered, lexed.tokens.iter().copied()) {
        Ok(e) if recovered.is_empty() => Ok(e),
        Ok(_) => Err(recovered
            .into_iter()
            .map(|r| syntax_error(file, src, r.error, &lexed.unclosed))
            .collect()),
        Err(e) => Err(vec![syntax_error(file, src, e, &lexed.unclosed)]),
    }
}

fn syntax_error(
    file: FileId,
    src: &str,
    e: ParseError<usize, Tok<'_>, ()>,
    unclosed: &[usize],
) -> Diagnostic {
    match e {
        ParseError::InvalidToken { location } => Diagnostic::error("E0010", "invalid token")
            .at(Span::new(file, location, location), "here"),
        ParseError::UnrecognizedEof { location, expected } => {
            let loc = location.min(src.len());
            let mut d = Diagnostic::error("E0011", "unexpected end of file")
                .at(Span::new(file, loc, loc), "the file ends here")
                .note(expected_list(&expected));
            if let Some(&open) = unclosed.last() {
                d = d.also(
                    Span::new(file, open, open + 1),
                    "this bracket is never closed",
                );
            }
            d
        }
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => {
            let mut d = Diagnostic::error("E0012", format!("unexpected {}", lexer::describe(&tok)))
                .at(Span::new(file, l, r), "not expected here")
                .note(expected_list(&expected));
            if let Some(h) = hint(&tok, &expected) {
                d = d.help(h);
            }
            d
        }
        ParseError::ExtraToken { token: (l, tok, r) } => Diagnostic::error(
            "E0013",
            format!("unexpected {} after the end", lexer::describe(&tok)),
        )
        .at(Span::new(file, l, r), "extra input"),
        ParseError::User { error: () } => Diagnostic::error("E0010", "invalid input"),
    }
}

fn expected_list(expected: &[String]) -> String {
    let mut names: Vec<String> = expected
        .iter()
        .map(|e| match e.as_str() {
            "Int" => "a number".to_string(),
            "Decimal" => "a decimal".to_string(),
            "Percent" => "a percentage".to_string(),
            "Date" => "a date".to_string(),
            "Str" => "a string".to_string(),
            "Ident" => "a name".to_string(),
            other => format!("`{}`", other.trim_matches('"')),
        })
        .collect();
    names.dedup();
    // Kinds of token ("a number", "a name") say more than any one keyword: list them first.
    names.sort_by_key(|n| !n.starts_with("a "));
    if names.len() > 8 {
        let shown = names.iter().take(8).cloned().collect::<Vec<_>>().join(", ");
        format!("expected one of {shown}, …")
    } else if names.len() == 1 {
        format!("expected {}", names.join(""))
    } else {
        format!("expected one of {}", names.join(", "))
    }
}

fn hint(tok: &Tok<'_>, expected: &[String]) -> Option<String> {
    let expects = |s: &str| expected.iter().any(|e| e == s);
    let expression_expected = expects("\"(\"");
    match tok {
        Tok::Assign if expects("\"==\"") || expects("\"then\"") => {
            Some("compare with `==`; `=` gives a value".to_string())
        }
        _ if expression_expected => Some("the expression before this is incomplete".to_string()),
        t if expects("Ident") && lexer::token_text(t).chars().all(|c| c.is_ascii_lowercase()) => {
            Some(format!(
                "`{}` is a keyword and cannot be used as a name; choose another name",
                lexer::token_text(t)
            ))
        }
        _ => None,
    }
}

/// Attaches the `///` comments directly above an item to it (no blank line, token or plain
/// comment in between), recursively into article bodies.
fn attach_docs(src: &str, items: &mut [Item], comments: &[Comment]) {
    for item in items.iter_mut() {
        // An article's text keeps its indentation (Markdown): only the space after `///` goes.
        item.doc = doc_above(src, comments, item.span.start as usize)
            .map(|c| c.text.strip_prefix(' ').unwrap_or(&c.text).to_string())
            .collect();
        match &mut item.kind {
            ItemKind::Article { body, .. } => attach_docs(src, body, comments),
            ItemKind::Type {
                def: crate::syntax::ast::TypeDef::Struct(fields),
                ..
            }
            | ItemKind::Schema { fields, .. } => {
                for f in fields {
                    f.doc = member_doc(src, comments, f.span);
                }
            }
            _ => {}
        }
    }
}

/// The `///` comments directly above `start` (one line each, no blank line, token or plain
/// comment in between), top to bottom.
fn doc_above<'c>(
    src: &str,
    comments: &'c [Comment],
    start: usize,
) -> impl Iterator<Item = &'c Comment> {
    let mut run = Vec::new();
    let mut cursor = start;
    for c in comments
        .iter()
        .rev()
        .filter(|c| (c.span.end as usize) <= start)
    {
        let between = src.get(c.span.end as usize..cursor).unwrap_or("x");
        if !c.doc || !between.trim().is_empty() || between.matches('\n').count() != 1 {
            break;
        }
        run.push(c);
        cursor = c.span.start as usize;
    }
    run.into_iter().rev()
}

/// The documentation of a struct field, schema field or enum variant at `span`: the `///` lines
/// right above it, else a comment at the end of its line (`users: int, // registered users`).
pub fn member_doc(src: &str, comments: &[Comment], span: Span) -> Vec<String> {
    let end = span.end as usize;
    let above: Vec<String> = doc_above(src, comments, span.start as usize)
        .map(|c| c.text.trim().to_string())
        .collect();
    if !above.is_empty() {
        return above;
    }
    comments
        .iter()
        .find(|c| {
            let s = c.span.start as usize;
            s >= end
                && src.get(end..s).is_some_and(|between| {
                    !between.contains('\n') && between.trim().trim_matches(',').trim().is_empty()
                })
        })
        .map(|c| vec![c.text.trim().to_string()])
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parse_without_tests_leaves_out_test_items_only() {
        let src = "fact n: int\ntest \"a\" {\n  given n = 1\n  expect { x: 1 } == { x: 1 }\n}\ndef d = n > 1\ntest \"b\" { expect d }\narticle 1 \"A\" {\n  def e = d\n}\n";
        let all = parse_with(FileId(0), src, true);
        let lean = parse_with(FileId(0), src, false);
        assert!(
            all.errors.is_empty() && lean.errors.is_empty(),
            "{:?}",
            lean.errors
        );
        let kinds = |p: &Parsed| -> Vec<&'static str> {
            p.file
                .items
                .iter()
                .map(|i| match i.kind {
                    ItemKind::Test { .. } => "test",
                    ItemKind::Fact { .. } => "fact",
                    ItemKind::Def { .. } => "def",
                    ItemKind::Article { .. } => "article",
                    _ => "other",
                })
                .collect()
        };
        assert_eq!(kinds(&all), ["fact", "test", "def", "test", "article"]);
        assert_eq!(kinds(&lean), ["fact", "def", "article"]);
    }

    #[test]
    fn one_typo_one_error_and_the_rest_parses() {
        let src = "fact a: int\ndef x = = 3\ndef y = 4\nfact b: bool\n";
        let p = parse(FileId(0), src);
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        let good = p
            .file
            .items
            .iter()
            .filter(|i| !matches!(i.kind, ItemKind::Error))
            .count();
        assert_eq!(good, 3);
    }

    #[test]
    fn docs_attach_to_the_item_below() {
        let src = "/// Art. 1\n/// second line\narticle 1 \"T\" {\n}\n";
        let p = parse(FileId(0), src);
        assert!(p.errors.is_empty());
        let doc = p
            .file
            .items
            .first()
            .map(|i| i.doc.clone())
            .unwrap_or_default();
        assert_eq!(doc, vec!["Art. 1".to_string(), "second line".to_string()]);
    }

    #[test]
    fn struct_and_set_literals() {
        assert!(matches!(
            parse_expr(FileId(0), "{a: 1, b: 2}").map(|e| e.kind),
            Ok(ExprKind::Struct(_))
        ));
        assert!(matches!(
            parse_expr(FileId(0), "{a, b}").map(|e| e.kind),
            Ok(ExprKind::Set(_))
        ));
        assert!(matches!(
            parse_expr(FileId(0), "{}").map(|e| e.kind),
            Ok(ExprKind::Set(_))
        ));
    }

    #[test]
    fn empty_file_is_empty() {
        let p = parse(FileId(0), "");
        assert!(p.errors.is_empty());
        assert!(p.file.items.is_empty());
    }
}
