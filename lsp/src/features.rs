//! The language features, as functions of one [`Analysis`] (and, for completion, the
//! document's text). They read; they never compile. Only this module and `server.rs` know
//! the protocol's types.

use crate::workspace::Analysis;
use norm_compiler::diagnostic::{Diagnostic as NormDiagnostic, Severity};
use norm_compiler::index::{Symbol, SymbolKind};
use norm_compiler::ir::{self, Program};
use norm_compiler::span::{FileId, Span};
use norm_compiler::syntax::ast::{self, ItemKind, TypeDef};
use norm_compiler::syntax::lexer::{self, Tok};
use norm_compiler::value::Ty;
use std::collections::HashMap;
use std::path::PathBuf;
use tower_lsp_server::ls_types::{self as lsp, Uri};

// ---------------------------------------------------------------------------------------------
// Diagnostics

/// The LSP diagnostics of every file of the analysis, by path. Diagnostics without a span
/// (an unreadable file, a law without files) go to `fallback`.
pub fn diagnostics(
    a: &Analysis,
    fallback: Option<&PathBuf>,
) -> HashMap<PathBuf, Vec<lsp::Diagnostic>> {
    let mut out: HashMap<PathBuf, Vec<lsp::Diagnostic>> = HashMap::new();
    for d in &a.compilation.diagnostics {
        let (path, range) = match &d.primary {
            Some(p) => match (a.path(p.span.file), a.range(p.span)) {
                (Some(path), Some(range)) => (path.to_path_buf(), range),
                _ => continue,
            },
            None => match fallback {
                Some(f) => (f.clone(), lsp::Range::default()),
                None => continue,
            },
        };
        out.entry(path).or_default().push(to_lsp(a, d, range));
    }
    out
}

pub fn to_lsp(a: &Analysis, d: &NormDiagnostic, range: lsp::Range) -> lsp::Diagnostic {
    let mut message = d.message.clone();
    if let Some(p) = &d.primary
        && !p.message.is_empty()
    {
        message.push_str(&format!(": {}", p.message));
    }
    for n in &d.notes {
        message.push_str(&format!("\nnote: {n}"));
    }
    if let Some(h) = &d.help {
        message.push_str(&format!("\nhelp: {h}"));
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|l| {
            Some(lsp::DiagnosticRelatedInformation {
                location: a.location(l.span)?,
                message: l.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.to_string())),
        source: Some("norm".to_string()),
        message,
        related_information: if related.is_empty() {
            None
        } else {
            Some(related)
        },
        ..lsp::Diagnostic::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Hover

fn code(s: &str) -> String {
    format!("```norm\n{s}\n```")
}

/// The source text of a span.
fn source(a: &Analysis, span: Span) -> &str {
    a.text(span.file).get(span.range()).unwrap_or("")
}

/// The version of an article whose declaration contains `span`, if any.
fn article_around(program: &Program, span: Span) -> Option<&ir::Article> {
    program
        .articles
        .iter()
        .find(|x| x.span.file == span.file && x.span.start <= span.start && span.end <= x.span.end)
}

/// The article's number, title and text, as Markdown: the version declared around `at` if
/// given, else the first, with a note of the other versions.
pub fn article_markdown(program: &Program, number: u32, at: Option<Span>) -> Option<String> {
    let versions: Vec<&ir::Article> = program
        .articles
        .iter()
        .filter(|x| x.number == number)
        .collect();
    let art = at
        .and_then(|s| article_around(program, s))
        .filter(|x| x.number == number)
        .or_else(|| versions.first().copied())?;
    Some(article_version_markdown(program, art, versions.len()))
}

fn article_version_markdown(program: &Program, art: &ir::Article, versions: usize) -> String {
    let mut s = format!("**Article {} — {}**", art.number, art.title);
    if let Some(ch) = art
        .chapter
        .and_then(|c| program.chapters.iter().find(|x| x.number == c))
    {
        s.push_str(&format!("  \n*Chapter {}: {}*", ch.number, ch.title));
    }
    match (art.effective, art.until) {
        (Some(f), Some(t)) => s.push_str(&format!("  \nin force from {f} to {t}")),
        (Some(f), None) => s.push_str(&format!("  \nin force from {f}")),
        (None, Some(t)) => s.push_str(&format!("  \nin force until {t}")),
        (None, None) => {}
    }
    if versions > 1 {
        s.push_str(&format!("  \n({versions} versions of this article)"));
    }
    if !art.text.is_empty() {
        s.push_str("\n\n");
        s.push_str(&art.text.join("\n"));
    }
    s
}

/// A norm and its article: the version declared around `at` if given, else the first.
fn norm_markdown(program: &Program, id: &str, at: Option<Span>) -> Option<String> {
    let around = at.and_then(|s| article_around(program, s));
    let n = program
        .norms
        .iter()
        .find(|n| {
            n.id == id
                && around.is_some_and(|a| program.article(n).is_some_and(|x| x.span == a.span))
        })
        .or_else(|| program.norm_by_id(id).map(|(_, n)| n))?;
    let art = program.article(n);
    let mut cite = art
        .map(|a| format!("Art. {}", a.number))
        .unwrap_or_default();
    if let Some(p) = n.paragraph {
        cite.push_str(&format!("({p})"));
    }
    if let Some(i) = n.item {
        cite.push_str(&format!(" item {i}"));
    }
    let mut s = format!("**{}** `{}` — {cite}", n.kind.keyword(), n.id);
    if let Some(r) = n.addressee.and_then(|r| program.roles.get(r as usize)) {
        s.push_str(&format!("  \naddressee: {} ({})", r.name, r.label));
    }
    if let Some(r) = n
        .authority
        .and_then(|r| program.authorities.get(r as usize))
    {
        s.push_str(&format!("  \nauthority: {} ({})", r.name, r.label));
    }
    if !n.text.is_empty() {
        s.push_str(&format!("\n\n> {}", n.text));
    }
    if let Some(a) = art {
        let versions = program
            .articles
            .iter()
            .filter(|x| x.number == a.number)
            .count();
        s.push_str("\n\n---\n\n");
        s.push_str(&article_version_markdown(program, a, versions));
    }
    Some(s)
}

fn doc_markdown(doc: &[String]) -> String {
    if doc.is_empty() {
        String::new()
    } else {
        format!("\n\n{}", doc.join("\n"))
    }
}

fn field_line(program: &Program, f: &norm_compiler::value::FieldDef, owner: &str) -> String {
    let mut s = format!("{owner}.{}: {}", f.name, declared_type(program, f));
    if f.optional {
        s.push('?');
    }
    if let Some(d) = &f.default {
        s.push_str(&format!(" = {}", program.types.show_value(d)));
    }
    s
}

/// A field's type as declared: `count`, `amount`, `ref<S>` and `code<SCHEMA>` where the
/// field is one (their values are `int`, `money` and `text`).
fn declared_type(program: &Program, f: &norm_compiler::value::FieldDef) -> String {
    let shown = program.types.show(&f.ty);
    let named = if let Some(target) = f.refers {
        let name = program
            .types
            .struct_def(target)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        shown.replace("text", &format!("ref<{name}>"))
    } else if let Some((schema, _)) = f.vocabulary {
        let name = program
            .schemas
            .get(schema as usize)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        shown.replace("text", &format!("code<{name}>"))
    } else {
        shown
    };
    if f.non_negative {
        named.replace("int", "count").replace("money", "amount")
    } else {
        named
    }
}

/// What hover shows for a symbol; `at` is where the cursor is (a declaration picks its own
/// version of an article or norm).
pub fn symbol_markdown(a: &Analysis, sym_id: usize, at: Option<Span>) -> Option<String> {
    let sym = a.index.symbol(sym_id)?;
    let p = &a.program;
    let parent = sym.parent.and_then(|i| a.index.symbol(i));
    let s = match sym.kind {
        SymbolKind::Article => article_markdown(p, sym.name.parse().ok()?, at)?,
        SymbolKind::Norm => norm_markdown(p, &sym.name, at)
            .unwrap_or_else(|| format!("norm `{}`{}", sym.name, doc_markdown(&sym.doc))),
        SymbolKind::Def => {
            let d = p.defs.iter().find(|d| d.name == sym.name);
            let ty = d
                .map(|d| p.types.show(&d.ty))
                .unwrap_or_else(|| "unknown".into());
            // A finding: what it is, and the paragraph and item it cites.
            let finding = d.and_then(|d| d.finding.map(|f| (d, f)));
            let mut s = match finding {
                Some((d, f)) => {
                    let article = d
                        .article
                        .and_then(|i| p.articles.get(i as usize))
                        .map(|x| x.number.to_string())
                        .unwrap_or_default();
                    format!(
                        "{}\n\nfinding: {} (reported in the Decision with `holds`)",
                        code(&format!("finding {}: {ty}", sym.name)),
                        norm_runtime::decision::cite(&article, f.paragraph, f.item)
                    )
                }
                None => code(&format!("def {}: {ty}", sym.name)),
            };
            for (_, full) in &sym.decls {
                s.push_str(&format!("\n\n{}", code(source(a, *full))));
            }
            if let Some(art) = sym
                .article
                .and_then(|i| a.index.symbol(i))
                .and_then(|x| x.name.parse::<u32>().ok())
                .and_then(|n| p.articles.iter().find(|x| x.number == n))
            {
                s.push_str(&format!("\n\nin Art. {} — {}", art.number, art.title));
            }
            s.push_str(&doc_markdown(&sym.doc));
            s
        }
        SymbolKind::Fact => {
            let ty = p
                .facts
                .iter()
                .find(|f| f.name == sym.name)
                .map(|f| {
                    let ty = p.types.show(&f.ty);
                    // A subject: the case is decided for each element of its collection.
                    match f
                        .subject
                        .as_ref()
                        .and_then(|s| p.facts.get(s.collection as usize))
                    {
                        Some(c) => format!("{ty} in {}", c.name),
                        None => ty,
                    }
                })
                .unwrap_or_else(|| "unknown".into());
            format!(
                "{}{}",
                code(&format!("fact {}: {ty}", sym.name)),
                doc_markdown(&sym.doc)
            )
        }
        SymbolKind::Field => {
            let owner = parent.map(|x| x.name.as_str()).unwrap_or("?");
            let line = p
                .types
                .structs
                .iter()
                .find(|s| s.name == owner)
                .and_then(|s| s.field(&sym.name))
                .map(|(_, f)| field_line(p, f, owner))
                .unwrap_or_else(|| format!("{owner}.{}", sym.name));
            format!("{}{}", code(&line), doc_markdown(&sym.doc))
        }
        SymbolKind::SchemaField => {
            let owner = parent.map(|x| x.name.as_str()).unwrap_or("?");
            let line = p
                .schema_by_name(owner)
                .and_then(|(_, s)| s.fields.iter().find(|f| f.name == sym.name))
                .map(|f| field_line(p, f, owner))
                .unwrap_or_else(|| format!("{owner}.{}", sym.name));
            format!("{}\n\ndata field{}", code(&line), doc_markdown(&sym.doc))
        }
        SymbolKind::Variant => {
            let owner = parent.map(|x| x.name.as_str()).unwrap_or("?");
            format!(
                "{}\n\nvariant of enum `{owner}`",
                code(&format!("{owner}.{}", sym.name))
            )
        }
        SymbolKind::Type | SymbolKind::Schema | SymbolKind::Tiers | SymbolKind::Law => {
            let src = sym.full_span().map(|s| source(a, s)).unwrap_or("");
            let shown: String = if src.lines().count() > 30 {
                let mut v: Vec<&str> = src.lines().take(30).collect();
                v.push("…");
                v.join("\n")
            } else {
                src.to_string()
            };
            format!("{}{}", code(&shown), doc_markdown(&sym.doc))
        }
        SymbolKind::Role | SymbolKind::Authority => {
            let list = if sym.kind == SymbolKind::Role {
                &p.roles
            } else {
                &p.authorities
            };
            let label = list
                .iter()
                .find(|r| r.name == sym.name)
                .map(|r| r.label.clone())
                .unwrap_or_default();
            format!("{} `{}`\n\n{label}", sym.kind.describe(), sym.name)
        }
        SymbolKind::Chapter => {
            let n: u32 = sym.name.parse().ok()?;
            let ch = p.chapters.iter().find(|c| c.number == n)?;
            format!(
                "**Chapter {} — {}**  \nArticles {} to {}",
                ch.number, ch.title, ch.first, ch.last
            )
        }
        SymbolKind::Tag | SymbolKind::Act | SymbolKind::Test => {
            let uses = a.index.references_to(sym_id).count();
            format!("{} `{}` ({uses} uses)", sym.kind.describe(), sym.name)
        }
        SymbolKind::Local => {
            let ty = sym
                .name_span()
                .and_then(|s| {
                    a.index
                        .references_to(sym_id)
                        .filter(|r| !r.decl)
                        .find_map(|r| a.index.expr_at(r.span.file, r.span.start as usize))
                        .filter(|(sp, _)| sp.file == s.file)
                })
                .map(|(_, t)| p.types.show(t))
                .unwrap_or_else(|| "unknown".into());
            code(&format!("{}: {ty}", sym.name))
        }
    };
    Some(s)
}

/// Hover at a byte offset of a file.
pub fn hover(a: &Analysis, file: FileId, offset: usize) -> Option<lsp::Hover> {
    let mut parts = Vec::new();
    let mut range = None;
    if let Some(r) = a.index.reference_at(file, offset) {
        let at = if r.decl { Some(r.span) } else { None };
        if let Some(md) = symbol_markdown(a, r.symbol, at) {
            parts.push(md);
        }
        range = a.range(r.span);
        // The type of the expression the name is, when that says more than the symbol.
        if let Some((span, ty)) = a.index.expr_at(file, offset)
            && span == r.span
            && !matches!(
                a.index.symbol(r.symbol).map(|s| s.kind),
                Some(SymbolKind::Def | SymbolKind::Fact | SymbolKind::Local | SymbolKind::Variant)
            )
        {
            parts.push(format!("type: `{}`", a.program.types.show(ty)));
        }
    } else if let Some((span, ty)) = a.index.expr_at(file, offset) {
        parts.push(code(&format!(
            "{}: {}",
            one_line(source(a, span)),
            a.program.types.show(ty)
        )));
        range = a.range(span);
    } else if let Some(n) = article_header_at(a, file, offset) {
        parts.push(article_markdown(
            &a.program,
            n,
            Some(Span::new(file, offset, offset)),
        )?);
    }
    if parts.is_empty() {
        return None;
    }
    Some(lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value: parts.join("\n\n---\n\n"),
        }),
        range,
    })
}

fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 120 {
        let mut t: String = s.chars().take(117).collect();
        t.push('…');
        t
    } else {
        s
    }
}

fn file_ast(a: &Analysis, file: FileId) -> Option<&ast::File> {
    a.compilation
        .law_files
        .iter()
        .chain(a.compilation.data_files.iter())
        .find(|f| f.id == file)
        .map(|f| &f.ast)
}

/// The article whose header (`article N "Title" … {`) holds the offset.
fn article_header_at(a: &Analysis, file: FileId, offset: usize) -> Option<u32> {
    let f = file_ast(a, file)?;
    let text = a.text(file);
    for item in &f.items {
        if let ItemKind::Article { number, .. } = &item.kind {
            let start = item.span.start as usize;
            let brace = text
                .get(start..)
                .and_then(|t| t.find('{'))
                .map(|i| start + i)
                .unwrap_or(start);
            if (start..=brace).contains(&offset) {
                return number.node.parse().ok();
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Definition, references, rename

pub fn definition(a: &Analysis, file: FileId, offset: usize) -> Vec<lsp::Location> {
    let Some(r) = a.index.reference_at(file, offset) else {
        return Vec::new();
    };
    let Some(sym) = a.index.symbol(r.symbol) else {
        return Vec::new();
    };
    sym.decls
        .iter()
        .filter_map(|(name, _)| a.location(*name))
        .collect()
}

pub fn references(
    a: &Analysis,
    file: FileId,
    offset: usize,
    include_declaration: bool,
) -> Vec<lsp::Location> {
    let Some(r) = a.index.reference_at(file, offset) else {
        return Vec::new();
    };
    a.index
        .references_to(r.symbol)
        .filter(|x| include_declaration || !x.decl)
        .filter_map(|x| a.location(x.span))
        .collect()
}

pub fn prepare_rename(a: &Analysis, file: FileId, offset: usize) -> Result<lsp::Range, String> {
    let r = a
        .index
        .reference_at(file, offset)
        .ok_or_else(|| "there is no name here to rename".to_string())?;
    let sym = a
        .index
        .symbol(r.symbol)
        .ok_or_else(|| "there is no name here to rename".to_string())?;
    if !sym.kind.renamable() {
        return Err(format!(
            "{}s are named by number or title: they cannot be renamed",
            sym.kind.describe()
        ));
    }
    a.range(r.span)
        .ok_or_else(|| "there is no name here to rename".to_string())
}

/// Whether `name` is a valid identifier (and not a keyword).
pub fn is_identifier(name: &str) -> bool {
    let lexed = lexer::lex(FileId(0), name);
    lexed.errors.is_empty()
        && matches!(lexed.tokens.as_slice(), [(0, Tok::Ident(t), end)] if *t == name && *end == name.len())
}

fn clashes(a: &Analysis, sym_id: usize, sym: &Symbol, new_name: &str) -> Option<String> {
    let same = |s: &Symbol| s.name == new_name;
    let found = a.index.symbols.iter().enumerate().find(|(i, s)| {
        if *i == sym_id || !same(s) || s.kind == SymbolKind::Local {
            return false;
        }
        match sym.parent {
            // A field or variant clashes with its siblings.
            Some(p) => s.parent == Some(p),
            // Norm ids, tags and acts are names of their own kind; everything else shares
            // the law's namespace.
            None => {
                let own = |k: SymbolKind| {
                    matches!(
                        k,
                        SymbolKind::Norm | SymbolKind::Tag | SymbolKind::Act | SymbolKind::Tiers
                    )
                };
                s.parent.is_none()
                    && (own(sym.kind) == own(s.kind))
                    && (!own(sym.kind) || s.kind == sym.kind)
                    || (s.kind == SymbolKind::Variant && !own(sym.kind))
            }
        }
    });
    found.map(|(_, s)| {
        format!(
            "`{new_name}` is already the name of a {}",
            s.kind.describe()
        )
    })
}

pub fn rename(
    a: &Analysis,
    file: FileId,
    offset: usize,
    new_name: &str,
) -> Result<lsp::WorkspaceEdit, String> {
    prepare_rename(a, file, offset)?;
    let r = a
        .index
        .reference_at(file, offset)
        .ok_or_else(|| "there is no name here to rename".to_string())?;
    let sym = a
        .index
        .symbol(r.symbol)
        .ok_or_else(|| "there is no name here to rename".to_string())?;
    if !is_identifier(new_name) {
        return Err(format!(
            "`{new_name}` is not a valid name: names start with a letter or `_`, hold letters, digits and `_`, and are not keywords"
        ));
    }
    if let Some(why) = clashes(a, r.symbol, sym, new_name) {
        return Err(why);
    }
    // One edit per file, files in a stable order (the URI's).
    let mut changes: std::collections::BTreeMap<String, (Uri, Vec<lsp::TextEdit>)> =
        std::collections::BTreeMap::new();
    for x in a.index.references_to(r.symbol) {
        if let Some(loc) = a.location(x.span) {
            changes
                .entry(loc.uri.as_str().to_string())
                .or_insert_with(|| (loc.uri.clone(), Vec::new()))
                .1
                .push(lsp::TextEdit {
                    range: loc.range,
                    new_text: new_name.to_string(),
                });
        }
    }
    let edits = changes
        .into_values()
        .map(|(uri, mut edits)| {
            edits.sort_by_key(|e| (e.range.start.line, e.range.start.character));
            edits.dedup();
            lsp::TextDocumentEdit {
                text_document: lsp::OptionalVersionedTextDocumentIdentifier { uri, version: None },
                edits: edits.into_iter().map(lsp::OneOf::Left).collect(),
            }
        })
        .collect();
    Ok(lsp::WorkspaceEdit {
        document_changes: Some(lsp::DocumentChanges::Edits(edits)),
        ..lsp::WorkspaceEdit::default()
    })
}

// ---------------------------------------------------------------------------------------------
// Symbols

fn lsp_kind(k: SymbolKind) -> lsp::SymbolKind {
    match k {
        SymbolKind::Law => lsp::SymbolKind::FILE,
        SymbolKind::Type => lsp::SymbolKind::STRUCT,
        SymbolKind::Variant => lsp::SymbolKind::ENUM_MEMBER,
        SymbolKind::Field | SymbolKind::SchemaField => lsp::SymbolKind::FIELD,
        SymbolKind::Fact => lsp::SymbolKind::VARIABLE,
        SymbolKind::Schema => lsp::SymbolKind::INTERFACE,
        SymbolKind::Def => lsp::SymbolKind::FUNCTION,
        SymbolKind::Norm => lsp::SymbolKind::EVENT,
        SymbolKind::Article => lsp::SymbolKind::NAMESPACE,
        SymbolKind::Chapter => lsp::SymbolKind::PACKAGE,
        SymbolKind::Role | SymbolKind::Authority => lsp::SymbolKind::CONSTANT,
        SymbolKind::Tag | SymbolKind::Act => lsp::SymbolKind::KEY,
        SymbolKind::Test => lsp::SymbolKind::METHOD,
        SymbolKind::Tiers => lsp::SymbolKind::ARRAY,
        SymbolKind::Local => lsp::SymbolKind::VARIABLE,
    }
}

#[allow(deprecated)]
fn doc_symbol(
    a: &Analysis,
    name: String,
    detail: Option<String>,
    kind: lsp::SymbolKind,
    full: Span,
    sel: Span,
    children: Vec<lsp::DocumentSymbol>,
) -> Option<lsp::DocumentSymbol> {
    Some(lsp::DocumentSymbol {
        name,
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: a.range(full)?,
        selection_range: a.range(sel)?,
        children: if children.is_empty() {
            None
        } else {
            Some(children)
        },
    })
}

fn item_symbol(a: &Analysis, item: &ast::Item) -> Option<lsp::DocumentSymbol> {
    let p = &a.program;
    match &item.kind {
        ItemKind::Law { name, title, .. } => doc_symbol(
            a,
            format!("law {}", name.node),
            Some(title.node.clone()),
            lsp::SymbolKind::FILE,
            item.span,
            name.span,
            Vec::new(),
        ),
        ItemKind::Type { name, def } => {
            let (kind, children) = match def {
                TypeDef::Enum(vs) => (
                    lsp::SymbolKind::ENUM,
                    vs.iter()
                        .filter_map(|v| {
                            doc_symbol(
                                a,
                                v.node.clone(),
                                None,
                                lsp::SymbolKind::ENUM_MEMBER,
                                v.span,
                                v.span,
                                Vec::new(),
                            )
                        })
                        .collect(),
                ),
                TypeDef::Struct(fs) => (
                    lsp::SymbolKind::STRUCT,
                    fs.iter()
                        .filter_map(|f| {
                            doc_symbol(
                                a,
                                f.name.node.clone(),
                                Some(norm_compiler::syntax::format::type_str(&f.ty)),
                                lsp::SymbolKind::FIELD,
                                f.span,
                                f.name.span,
                                Vec::new(),
                            )
                        })
                        .collect(),
                ),
            };
            doc_symbol(
                a,
                name.node.clone(),
                None,
                kind,
                item.span,
                name.span,
                children,
            )
        }
        ItemKind::Role { name, label } | ItemKind::Authority { name, label } => doc_symbol(
            a,
            name.node.clone(),
            Some(label.node.clone()),
            lsp::SymbolKind::CONSTANT,
            item.span,
            name.span,
            Vec::new(),
        ),
        ItemKind::Chapter { number, title, .. } => doc_symbol(
            a,
            format!("Chapter {}", number.node),
            Some(title.node.clone()),
            lsp::SymbolKind::PACKAGE,
            item.span,
            number.span,
            Vec::new(),
        ),
        ItemKind::Fact { name, ty, .. } => doc_symbol(
            a,
            name.node.clone(),
            Some(norm_compiler::syntax::format::type_str(ty)),
            lsp::SymbolKind::VARIABLE,
            item.span,
            name.span,
            Vec::new(),
        ),
        ItemKind::Schema { name, fields } => {
            let children = fields
                .iter()
                .filter_map(|f| {
                    doc_symbol(
                        a,
                        f.name.node.clone(),
                        Some(norm_compiler::syntax::format::type_str(&f.ty)),
                        lsp::SymbolKind::FIELD,
                        f.span,
                        f.name.span,
                        Vec::new(),
                    )
                })
                .collect();
            doc_symbol(
                a,
                name.node.clone(),
                Some("data schema".into()),
                lsp::SymbolKind::INTERFACE,
                item.span,
                name.span,
                children,
            )
        }
        ItemKind::DataModule { name, version, .. } => doc_symbol(
            a,
            format!("data {}", name.node),
            Some(format!("version {}", version.node)),
            lsp::SymbolKind::MODULE,
            item.span,
            name.span,
            Vec::new(),
        ),
        ItemKind::Def { name, .. } => {
            let ty = p
                .defs
                .iter()
                .find(|d| d.name == name.node)
                .map(|d| p.types.show(&d.ty));
            doc_symbol(
                a,
                name.node.clone(),
                ty,
                lsp::SymbolKind::FUNCTION,
                item.span,
                name.span,
                Vec::new(),
            )
        }
        ItemKind::Exception { target, .. } => doc_symbol(
            a,
            format!("exception {}", target.node),
            None,
            lsp::SymbolKind::FUNCTION,
            item.span,
            target.span,
            Vec::new(),
        ),
        ItemKind::Article {
            number,
            title,
            body,
            ..
        } => {
            let children = body.iter().filter_map(|i| item_symbol(a, i)).collect();
            doc_symbol(
                a,
                format!("Art. {} {}", number.node, title.node),
                None,
                lsp::SymbolKind::NAMESPACE,
                item.span,
                number.span,
                children,
            )
        }
        ItemKind::Norm(n) => doc_symbol(
            a,
            n.id.node.clone(),
            Some(n.kind.keyword().to_string()),
            lsp::SymbolKind::EVENT,
            item.span,
            n.id.span,
            Vec::new(),
        ),
        ItemKind::Test { name, .. } => doc_symbol(
            a,
            format!("test {:?}", name.node),
            None,
            lsp::SymbolKind::METHOD,
            item.span,
            name.span,
            Vec::new(),
        ),
        ItemKind::Tiers { name, .. } => doc_symbol(
            a,
            name.node.clone(),
            Some("tiers".into()),
            lsp::SymbolKind::ARRAY,
            item.span,
            name.span,
            Vec::new(),
        ),
        ItemKind::Import { .. } | ItemKind::Error => None,
    }
}

/// The outline of a file: chapters → articles → norms (and the file's other declarations).
#[allow(deprecated)]
pub fn document_symbols(a: &Analysis, file: FileId) -> Vec<lsp::DocumentSymbol> {
    let Some(f) = file_ast(a, file) else {
        return Vec::new();
    };
    let mut out: Vec<lsp::DocumentSymbol> = Vec::new();
    // Articles of one chapter, consecutive in the file, are grouped under it.
    let mut group: Option<(u32, Span, Vec<lsp::DocumentSymbol>)> = None;
    let flush = |group: &mut Option<(u32, Span, Vec<lsp::DocumentSymbol>)>,
                 out: &mut Vec<lsp::DocumentSymbol>| {
        if let Some((n, span, children)) = group.take() {
            let title = a
                .program
                .chapters
                .iter()
                .find(|c| c.number == n)
                .map(|c| c.title.clone());
            if let Some(range) = a.range(span) {
                out.push(lsp::DocumentSymbol {
                    name: format!("Chapter {n}"),
                    detail: title,
                    kind: lsp::SymbolKind::PACKAGE,
                    tags: None,
                    deprecated: None,
                    range,
                    selection_range: lsp::Range {
                        start: range.start,
                        end: range.start,
                    },
                    children: Some(children),
                });
            }
        }
    };
    for item in &f.items {
        let Some(sym) = item_symbol(a, item) else {
            continue;
        };
        let chapter = match &item.kind {
            ItemKind::Article { number, .. } => number.node.parse::<u32>().ok().and_then(|n| {
                a.program
                    .chapters
                    .iter()
                    .find(|c| (c.first..=c.last).contains(&n))
                    .map(|c| c.number)
            }),
            _ => None,
        };
        match (chapter, &mut group) {
            (Some(c), Some((g, span, children))) if *g == c => {
                *span = span.to(item.span);
                children.push(sym);
            }
            (Some(c), _) => {
                flush(&mut group, &mut out);
                group = Some((c, item.span, vec![sym]));
            }
            (None, _) => {
                flush(&mut group, &mut out);
                out.push(sym);
            }
        }
    }
    flush(&mut group, &mut out);
    out
}

pub fn workspace_symbols(a: &Analysis, query: &str) -> Vec<lsp::WorkspaceSymbol> {
    let q = query.to_lowercase();
    let mut out = Vec::new();
    for s in &a.index.symbols {
        if s.kind == SymbolKind::Local {
            continue;
        }
        let name = match s.kind {
            SymbolKind::Article => {
                let title = s
                    .name
                    .parse::<u32>()
                    .ok()
                    .and_then(|n| a.program.articles.iter().find(|x| x.number == n))
                    .map(|x| x.title.clone())
                    .unwrap_or_default();
                format!("Art. {} {title}", s.name)
            }
            SymbolKind::Chapter => format!("Chapter {}", s.name),
            _ => s.name.clone(),
        };
        if !q.is_empty() && !fuzzy(&name.to_lowercase(), &q) {
            continue;
        }
        for (sel, _) in &s.decls {
            if let Some(loc) = a.location(*sel) {
                out.push(lsp::WorkspaceSymbol {
                    name: name.clone(),
                    kind: lsp_kind(s.kind),
                    tags: None,
                    container_name: s.parent.or(s.article).and_then(|p| a.index.symbol(p)).map(
                        |p| match p.kind {
                            SymbolKind::Article => format!("Art. {}", p.name),
                            _ => p.name.clone(),
                        },
                    ),
                    location: lsp::OneOf::Left(loc),
                    data: None,
                });
            }
        }
    }
    out
}

/// The query's characters appear in order in the name.
fn fuzzy(name: &str, query: &str) -> bool {
    let mut chars = name.chars();
    query.chars().all(|q| chars.any(|c| c == q))
}

// ---------------------------------------------------------------------------------------------
// Completion

const KEYWORDS: &[&str] = &[
    "law",
    "version",
    "import",
    "type",
    "enum",
    "struct",
    "fact",
    "data",
    "schema",
    "effective",
    "until",
    "def",
    "exception",
    "priority",
    "when",
    "article",
    "chapter",
    "articles",
    "to",
    "role",
    "authority",
    "obligation",
    "prohibition",
    "permission",
    "exemption",
    "right",
    "penalty",
    "warning",
    "addressee",
    "due",
    "text",
    "paragraph",
    "item",
    "overrides",
    "except",
    "tagged",
    "tags",
    "act",
    "fine",
    "test",
    "tiers",
    "finding",
    "done",
    "violated",
    "keep_until",
    "counterparty",
    "counterparties",
    "status",
    "party",
    "per",
    "on",
    "where",
    "earliest",
    "latest",
    "over",
    "given",
    "expect",
    "no",
    "as",
    "of",
    "if",
    "then",
    "else",
    "and",
    "or",
    "not",
    "in",
    "exists",
    "all",
    "count",
    "sum",
    "true",
    "false",
    "conflict",
];

const BUILTINS: &[&str] = norm_compiler::ir::BUILTIN_FUNCTIONS;

const PRIMITIVE_TYPES: &[&str] = norm_compiler::value::PRIMITIVE_TYPES;

fn item(label: &str, kind: lsp::CompletionItemKind, detail: Option<String>) -> lsp::CompletionItem {
    lsp::CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail,
        ..lsp::CompletionItem::default()
    }
}

fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Completion at a byte offset of the document's current text.
pub fn completion(a: &Analysis, text: &str, offset: usize) -> Vec<lsp::CompletionItem> {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let word_start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| ident_char(*c))
        .last()
        .map(|(i, _)| i)
        .unwrap_or(offset);
    let head = before.get(..word_start).unwrap_or("");
    if head.ends_with('.') {
        return member_completion(a, head.get(..head.len() - 1).unwrap_or(""));
    }
    let prev_words: Vec<&str> = head
        .split(|c: char| !ident_char(c) && c != ',')
        .flat_map(|w| w.split(','))
        .filter(|w| !w.is_empty())
        .rev()
        .take(3)
        .collect();
    let prev = prev_words.first().copied().unwrap_or("");
    let before_prev = prev_words.get(1).copied().unwrap_or("");
    let line = head.rsplit('\n').next().unwrap_or("").trim_start();
    let p = &a.program;
    let norm_kinds = [
        "obligation",
        "prohibition",
        "permission",
        "exemption",
        "right",
        "penalty",
        "warning",
    ];
    let norm_ids = || -> Vec<lsp::CompletionItem> {
        p.norms
            .iter()
            .map(|n| {
                let art = p
                    .article(n)
                    .map(|a| format!(" (Art. {})", a.number))
                    .unwrap_or_default();
                item(
                    &n.id,
                    lsp::CompletionItemKind::EVENT,
                    Some(format!("{}{art}", n.kind.keyword())),
                )
            })
            .collect()
    };
    match prev {
        "addressee" => {
            return p
                .roles
                .iter()
                .map(|r| {
                    item(
                        &r.name,
                        lsp::CompletionItemKind::CONSTANT,
                        Some(r.label.clone()),
                    )
                })
                .collect();
        }
        // `authority NAME "label"` at the start of a line declares one; indented, it is a clause.
        "authority"
            if !head
                .rsplit('\n')
                .next()
                .unwrap_or("")
                .starts_with("authority") =>
        {
            return p
                .authorities
                .iter()
                .map(|r| {
                    item(
                        &r.name,
                        lsp::CompletionItemKind::CONSTANT,
                        Some(r.label.clone()),
                    )
                })
                .collect();
        }
        "exception" => {
            return p
                .defs
                .iter()
                .map(|d| {
                    item(
                        &d.name,
                        lsp::CompletionItemKind::FUNCTION,
                        Some(p.types.show(&d.ty)),
                    )
                })
                .collect();
        }
        "given" => {
            return p
                .facts
                .iter()
                .map(|f| {
                    item(
                        &f.name,
                        lsp::CompletionItemKind::VARIABLE,
                        Some(p.types.show(&f.ty)),
                    )
                })
                .collect();
        }
        "no" => return norm_ids(),
        k if norm_kinds.contains(&k) && before_prev == "expect" => return norm_ids(),
        "tagged" | "tags" | "except" => {
            return a
                .index
                .symbols
                .iter()
                .filter(|s| s.kind == SymbolKind::Tag)
                .map(|s| {
                    item(
                        &s.name,
                        lsp::CompletionItemKind::KEYWORD,
                        Some("tag".into()),
                    )
                })
                .collect();
        }
        _ => {}
    }
    if line.starts_with("overrides") {
        let mut v = norm_ids();
        for k in ["article", "articles", "chapter", "tagged", "except"] {
            v.push(item(k, lsp::CompletionItemKind::KEYWORD, None));
        }
        return v;
    }
    if line.starts_with("tiers") && head.trim_end().ends_with(['{', ',']) {
        return norm_ids();
    }
    let mut v = Vec::new();
    if prev == "expect" {
        v.extend(norm_ids());
    }
    if let Some(items) = struct_literal_fields(p, head) {
        return items;
    }
    // After `fact x:`, `def x:` or a field `x:` of a type or schema; not after a quantifier's
    // `exists v in coll:` nor in a struct literal.
    let quantifier = ["exists ", "all ", "count ", "sum "]
        .iter()
        .any(|q| line.contains(q));
    let type_position = head.trim_end().ends_with(':')
        && !quantifier
        && (line.starts_with("fact")
            || line.starts_with("def")
            || line.contains("struct")
            || !line.contains('{'));
    let type_argument = head
        .trim_end()
        .strip_suffix('<')
        .map(str::trim_end)
        .is_some_and(|h| h.ends_with("set") || h.ends_with("list"));
    if type_position || type_argument {
        for t in PRIMITIVE_TYPES {
            v.push(item(
                t,
                lsp::CompletionItemKind::TYPE_PARAMETER,
                Some("type".into()),
            ));
        }
        for e in &p.types.enums {
            v.push(item(
                &e.name,
                lsp::CompletionItemKind::ENUM,
                Some("enum".into()),
            ));
        }
        for s in &p.types.structs {
            v.push(item(
                &s.name,
                lsp::CompletionItemKind::STRUCT,
                Some("struct".into()),
            ));
        }
        return v;
    }
    for k in KEYWORDS {
        v.push(item(k, lsp::CompletionItemKind::KEYWORD, None));
    }
    for b in BUILTINS {
        v.push(item(
            b,
            lsp::CompletionItemKind::FUNCTION,
            Some("built-in".into()),
        ));
    }
    for d in &p.defs {
        let mut it = item(
            &d.name,
            lsp::CompletionItemKind::FUNCTION,
            Some(p.types.show(&d.ty)),
        );
        if !d.doc.is_empty() {
            it.documentation = Some(lsp::Documentation::String(d.doc.join("\n")));
        }
        v.push(it);
    }
    for f in &p.facts {
        let mut it = item(
            &f.name,
            lsp::CompletionItemKind::VARIABLE,
            Some(format!("fact: {}", p.types.show(&f.ty))),
        );
        if !f.doc.is_empty() {
            it.documentation = Some(lsp::Documentation::String(f.doc.join("\n")));
        }
        v.push(it);
    }
    for s in &p.schemas {
        v.push(item(
            &s.name,
            lsp::CompletionItemKind::MODULE,
            Some("data schema".into()),
        ));
    }
    for e in &p.types.enums {
        v.push(item(
            &e.name,
            lsp::CompletionItemKind::ENUM,
            Some("enum".into()),
        ));
        for var in &e.variants {
            v.push(item(
                var,
                lsp::CompletionItemKind::ENUM_MEMBER,
                Some(format!("{}.{var}", e.name)),
            ));
        }
    }
    // Dedup by label (a variant may be in several enums); keep the first.
    let mut seen = std::collections::HashSet::new();
    v.retain(|i| seen.insert(i.label.clone()));
    v
}

/// Completion after `a.b.` : the fields of what the chain names.
fn member_completion(a: &Analysis, chain_text: &str) -> Vec<lsp::CompletionItem> {
    let chain: String = chain_text
        .chars()
        .rev()
        .take_while(|c| ident_char(*c) || *c == '.')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let parts: Vec<&str> = chain.split('.').collect();
    let Some((first, rest)) = parts.split_first() else {
        return Vec::new();
    };
    let p = &a.program;
    // The first name: a schema or an enum name a field of which is read directly.
    if rest.is_empty() {
        if let Some((_, s)) = p.schema_by_name(first) {
            return s.fields.iter().map(|f| field_item(p, f)).collect();
        }
        if let Some(e) = p.types.enums.iter().find(|e| e.name == *first) {
            return e
                .variants
                .iter()
                .map(|v| {
                    item(
                        v,
                        lsp::CompletionItemKind::ENUM_MEMBER,
                        Some(e.name.clone()),
                    )
                })
                .collect();
        }
    }
    let mut ty = p
        .facts
        .iter()
        .find(|f| f.name == *first)
        .map(|f| f.ty.clone())
        .or_else(|| {
            p.defs
                .iter()
                .find(|d| d.name == *first)
                .map(|d| d.ty.clone())
        });
    if ty.is_none()
        && let [field] = rest
        && let Some((_, s)) = p.schema_by_name(first)
    {
        ty = s
            .fields
            .iter()
            .find(|f| f.name == *field)
            .map(|f| f.ty.clone());
        return struct_fields(p, ty.as_ref());
    }
    let Some(mut ty) = ty else {
        // A quantifier's variable: its type from the index, if it is declared with this name.
        let local = a
            .index
            .symbols
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == SymbolKind::Local && s.name == *first)
            .find_map(|(i, _)| {
                a.index
                    .references_to(i)
                    .filter(|r| !r.decl)
                    .find_map(|r| a.index.expr_at(r.span.file, r.span.start as usize))
                    .map(|(_, t)| t.clone())
            });
        let Some(t) = local else {
            return Vec::new();
        };
        return walk_fields(p, t, rest);
    };
    for part in rest {
        let Some(next) = field_ty(p, &ty, part) else {
            return Vec::new();
        };
        ty = next;
    }
    struct_fields(p, Some(&ty))
}

/// The fields of the struct literal the cursor is in, at a field name's position:
/// `given actor = { is_provider: true, |` or nested `{ system: { | `.
fn struct_literal_fields(p: &Program, head: &str) -> Option<Vec<lsp::CompletionItem>> {
    let trimmed = head.trim_end();
    if !(trimmed.ends_with('{') || trimmed.ends_with(',')) {
        return None;
    }
    let mut path: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut end = head.len();
    loop {
        let before = head.get(..end)?;
        let (i, c) = before
            .char_indices()
            .rev()
            .find(|(_, c)| matches!(c, '{' | '}' | '[' | ']' | '(' | ')'))?;
        end = i;
        match c {
            '}' | ']' | ')' => depth += 1,
            '{' if depth > 0 => depth -= 1,
            '[' | '(' if depth > 0 => depth -= 1,
            '[' | '(' => return None,
            _ => {
                // An opening brace at our level: what introduces it?
                let lead = head.get(..i)?.trim_end();
                let word = |s: &str| -> String {
                    s.chars()
                        .rev()
                        .take_while(|c| ident_char(*c))
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect()
                };
                if let Some(rest) = lead.strip_suffix('=') {
                    let rest = rest.trim_end();
                    let name = word(rest);
                    let given = rest.get(..rest.len() - name.len())?.trim_end();
                    if !given.ends_with("given") {
                        return None;
                    }
                    let mut ty = p.facts.iter().find(|f| f.name == name)?.ty.clone();
                    for field in path.iter().rev() {
                        ty = field_ty(p, &ty, field)?;
                    }
                    return Some(struct_fields(p, Some(&ty)));
                }
                let rest = lead.strip_suffix(':')?.trim_end();
                let name = word(rest);
                if name.is_empty() {
                    return None;
                }
                path.push(name);
            }
        }
    }
}

fn walk_fields(p: &Program, mut ty: Ty, rest: &[&str]) -> Vec<lsp::CompletionItem> {
    for part in rest {
        let Some(next) = field_ty(p, &ty, part) else {
            return Vec::new();
        };
        ty = next;
    }
    struct_fields(p, Some(&ty))
}

fn field_ty(p: &Program, ty: &Ty, name: &str) -> Option<Ty> {
    let Ty::Struct(s) = ty else { return None };
    p.types
        .struct_def(*s)?
        .field(name)
        .map(|(_, f)| f.ty.clone())
}

fn field_item(p: &Program, f: &norm_compiler::value::FieldDef) -> lsp::CompletionItem {
    let mut it = item(
        &f.name,
        lsp::CompletionItemKind::FIELD,
        Some(p.types.show(&f.ty)),
    );
    if !f.doc.is_empty() {
        it.documentation = Some(lsp::Documentation::String(f.doc.join("\n")));
    }
    it
}

fn struct_fields(p: &Program, ty: Option<&Ty>) -> Vec<lsp::CompletionItem> {
    match ty {
        Some(Ty::Struct(s)) => p
            .types
            .struct_def(*s)
            .map(|d| d.fields.iter().map(|f| field_item(p, f)).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Semantic tokens, folding, inlay hints

pub const TOKEN_TYPES: &[lsp::SemanticTokenType] = &[
    lsp::SemanticTokenType::KEYWORD,
    lsp::SemanticTokenType::NUMBER,
    lsp::SemanticTokenType::STRING,
    lsp::SemanticTokenType::COMMENT,
    lsp::SemanticTokenType::TYPE,
    lsp::SemanticTokenType::ENUM_MEMBER,
    lsp::SemanticTokenType::PROPERTY,
    lsp::SemanticTokenType::VARIABLE,
    lsp::SemanticTokenType::NAMESPACE,
    lsp::SemanticTokenType::FUNCTION,
    lsp::SemanticTokenType::EVENT,
    lsp::SemanticTokenType::CLASS,
    lsp::SemanticTokenType::DECORATOR,
    lsp::SemanticTokenType::PARAMETER,
    lsp::SemanticTokenType::OPERATOR,
];

pub const TOKEN_MODIFIERS: &[lsp::SemanticTokenModifier] = &[
    lsp::SemanticTokenModifier::DECLARATION,
    lsp::SemanticTokenModifier::DOCUMENTATION,
];

fn token_type_of(k: SymbolKind) -> u32 {
    match k {
        SymbolKind::Type => 4,
        SymbolKind::Variant => 5,
        SymbolKind::Field | SymbolKind::SchemaField => 6,
        SymbolKind::Fact => 7,
        SymbolKind::Schema | SymbolKind::Law => 8,
        SymbolKind::Def => 9,
        SymbolKind::Norm | SymbolKind::Tiers => 10,
        SymbolKind::Role | SymbolKind::Authority => 11,
        SymbolKind::Tag | SymbolKind::Act => 12,
        SymbolKind::Local => 13,
        SymbolKind::Article | SymbolKind::Chapter | SymbolKind::Test => 1,
    }
}

pub fn semantic_tokens(a: &Analysis, file: FileId) -> Vec<lsp::SemanticToken> {
    let text = a.text(file);
    let Some(ix) = a.line_index(file) else {
        return Vec::new();
    };
    let lexed = lexer::lex(file, text);
    // (start, end, type, modifiers)
    let mut raw: Vec<(usize, usize, u32, u32)> = Vec::new();
    let refs: HashMap<u32, &norm_compiler::index::Reference> = a
        .index
        .refs
        .iter()
        .filter(|r| r.span.file == file)
        .map(|r| (r.span.start, r))
        .collect();
    for (l, tok, r) in &lexed.tokens {
        let ty = match tok {
            Tok::Ident(_) => match refs.get(&u32::try_from(*l).unwrap_or(u32::MAX)) {
                Some(reference) => {
                    let kind = a.index.symbol(reference.symbol).map(|s| s.kind);
                    let Some(kind) = kind else { continue };
                    raw.push((*l, *r, token_type_of(kind), u32::from(reference.decl)));
                    continue;
                }
                None => continue,
            },
            Tok::Int(_)
            | Tok::Decimal(_)
            | Tok::Percent(_)
            | Tok::Money(_)
            | Tok::Duration(_)
            | Tok::WorkingDuration(_)
            | Tok::Date(_) => 1,
            Tok::Str(_) => 2,
            other => {
                let t = lexer::token_text(other);
                if t.chars().all(|c| c.is_ascii_alphabetic()) && !t.is_empty() {
                    0
                } else {
                    continue;
                }
            }
        };
        raw.push((*l, *r, ty, 0));
    }
    for c in &lexed.comments {
        raw.push((
            c.span.start as usize,
            c.span.end as usize,
            3,
            if c.doc { 2 } else { 0 },
        ));
    }
    raw.sort_by_key(|t| t.0);
    let mut out = Vec::with_capacity(raw.len());
    let (mut last_line, mut last_col) = (0u32, 0u32);
    // The tokens are in order and do not overlap: one cursor counts columns in one pass.
    let mut cursor = ix.cursor(text);
    for (s, e, ty, m) in raw {
        let start = cursor.position(s);
        let end = cursor.position(e);
        if end.line != start.line || end.character <= start.character {
            continue;
        }
        let delta_line = start.line - last_line;
        let delta_start = if delta_line == 0 {
            start.character.saturating_sub(last_col)
        } else {
            start.character
        };
        out.push(lsp::SemanticToken {
            delta_line,
            delta_start,
            length: end.character - start.character,
            token_type: ty,
            token_modifiers_bitset: m,
        });
        last_line = start.line;
        last_col = start.character;
    }
    out
}

pub fn folding_ranges(a: &Analysis, file: FileId) -> Vec<lsp::FoldingRange> {
    let Some(f) = file_ast(a, file) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |span: Span, kind: Option<lsp::FoldingRangeKind>| {
        if let Some(r) = a.range(span)
            && r.end.line > r.start.line
        {
            out.push(lsp::FoldingRange {
                start_line: r.start.line,
                start_character: None,
                end_line: r.end.line,
                end_character: None,
                kind,
                collapsed_text: None,
            });
        }
    };
    let mut stack: Vec<&ast::Item> = f.items.iter().collect();
    while let Some(item) = stack.pop() {
        push(item.span, Some(lsp::FoldingRangeKind::Region));
        if let ItemKind::Article { body, .. } = &item.kind {
            stack.extend(body.iter());
        }
    }
    // Runs of comment lines.
    let comments = a
        .compilation
        .law_files
        .iter()
        .chain(a.compilation.data_files.iter())
        .find(|x| x.id == file)
        .map(|x| x.comments.as_slice())
        .unwrap_or_default();
    let mut run: Option<(Span, Span)> = None;
    let text = a.text(file);
    for c in comments {
        match run {
            Some((first, last))
                if text
                    .get(last.end as usize..c.span.start as usize)
                    .is_some_and(|between| {
                        between.trim().is_empty() && between.matches('\n').count() == 1
                    }) =>
            {
                run = Some((first, c.span));
            }
            _ => {
                if let Some((first, last)) = run.take() {
                    push(first.to(last), Some(lsp::FoldingRangeKind::Comment));
                }
                run = Some((c.span, c.span));
            }
        }
    }
    if let Some((first, last)) = run {
        push(first.to(last), Some(lsp::FoldingRangeKind::Comment));
    }
    out.sort_by_key(|r| (r.start_line, r.end_line));
    out
}

pub fn inlay_hints(
    a: &Analysis,
    file: FileId,
    range: Option<(usize, usize)>,
) -> Vec<lsp::InlayHint> {
    let Some(f) = file_ast(a, file) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut stack: Vec<&ast::Item> = f.items.iter().collect();
    while let Some(item) = stack.pop() {
        match &item.kind {
            ItemKind::Def { name, ty: None, .. } => {
                if let Some((s, e)) = range
                    && ((name.span.end as usize) < s || (name.span.start as usize) > e)
                {
                    continue;
                }
                let Some(d) = a.program.defs.iter().find(|d| d.name == name.node) else {
                    continue;
                };
                if d.ty.is_error() {
                    continue;
                }
                let Some(r) = a.range(name.span) else {
                    continue;
                };
                out.push(lsp::InlayHint {
                    position: r.end,
                    label: lsp::InlayHintLabel::String(format!(
                        ": {}",
                        a.program.types.show(&d.ty)
                    )),
                    kind: Some(lsp::InlayHintKind::TYPE),
                    text_edits: None,
                    tooltip: None,
                    padding_left: None,
                    padding_right: None,
                    data: None,
                });
            }
            ItemKind::Article { body, .. } => stack.extend(body.iter()),
            _ => {}
        }
    }
    out.sort_by_key(|h| (h.position.line, h.position.character));
    out
}

// ---------------------------------------------------------------------------------------------
// Code actions and code lenses

/// The replacement a "did you mean `X`?" help suggests.
pub fn suggestion(help: &str) -> Option<&str> {
    let rest = help.split("did you mean `").nth(1)?;
    rest.split('`').next()
}

pub fn code_actions(
    a: &Analysis,
    file: FileId,
    uri: &Uri,
    range: (usize, usize),
) -> Vec<lsp::CodeActionOrCommand> {
    let mut out = Vec::new();
    for d in &a.compilation.diagnostics {
        let Some(p) = &d.primary else { continue };
        if p.span.file != file
            || (p.span.end as usize) < range.0
            || (p.span.start as usize) > range.1
        {
            continue;
        }
        let Some(fix) = d.help.as_deref().and_then(suggestion) else {
            continue;
        };
        let Some(r) = a.range(p.span) else { continue };
        let mut changes = HashMap::new();
        changes.insert(
            uri.clone(),
            vec![lsp::TextEdit {
                range: r,
                new_text: fix.to_string(),
            }],
        );
        out.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
            title: format!("Replace with `{fix}`"),
            kind: Some(lsp::CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![to_lsp(a, d, r)]),
            edit: Some(lsp::WorkspaceEdit {
                changes: Some(changes),
                ..lsp::WorkspaceEdit::default()
            }),
            is_preferred: Some(true),
            ..lsp::CodeAction::default()
        }));
    }
    out
}

/// The outcome of running one test: `None` if the law has errors (nothing can run).
pub fn run_test(a: &Analysis, test: &ir::Test) -> Option<norm_runtime::testing::TestResult> {
    let program = a.compilation.program.as_ref()?;
    Some(norm_runtime::testing::run_test(
        program,
        &a.compilation.data,
        test,
        None,
    ))
}

pub const RUN_TEST: &str = "norm.runTest";

pub fn code_lenses(a: &Analysis, file: FileId, uri: &Uri) -> Vec<lsp::CodeLens> {
    let mut out = Vec::new();
    let tests: Vec<&ir::Test> = a
        .program
        .tests
        .iter()
        .filter(|t| t.span.file == file)
        .collect();
    for t in tests {
        let Some(range) = a.range(Span::new(
            file,
            t.span.start as usize,
            t.span.start as usize,
        )) else {
            continue;
        };
        let title = match run_test(a, t) {
            None => "▶ run test (the law has errors)".to_string(),
            Some(r) if r.passed() => "✔ test passed".to_string(),
            Some(r) => format!(
                "✘ test failed: {}",
                r.failures.first().map(|(_, m)| m.as_str()).unwrap_or("")
            ),
        };
        out.push(lsp::CodeLens {
            range,
            command: Some(lsp::Command {
                title,
                command: RUN_TEST.to_string(),
                arguments: Some(vec![
                    serde_json::Value::String(uri.as_str().to_string()),
                    serde_json::Value::String(t.name.clone()),
                ]),
            }),
            data: None,
        });
    }
    out
}

/// Formats a document's text as `norm fmt` does: one edit replacing the text, none if it is
/// formatted already, `None` if it has syntax errors.
pub fn format(text: &str) -> Option<Vec<lsp::TextEdit>> {
    let formatted = norm_compiler::syntax::format::format_source(FileId(0), text).ok()?;
    if formatted == text {
        return Some(Vec::new());
    }
    let ix = crate::text::LineIndex::new(text);
    Some(vec![lsp::TextEdit {
        range: ix.range(text, 0, text.len()),
        new_text: formatted,
    }])
}
