//! A semantic index of a checked law, for editors: every declaration (a [`Symbol`]), every
//! place a name refers to one (a [`Reference`]), and the type of every checked expression.
//!
//! It is built from the syntax trees (which know where names are written) and the checked
//! program (which knows what they resolved to and what type each expression has), after the
//! checker ran, so it never re-implements resolution: a name whose expression the checker
//! resolved is looked up by its span in the IR; only where the checker produced nothing (an
//! error, a constant folded into a value) does the index fall back to looking the name up.
//!
//! Invariant: building an index never fails and never recurses on the shape of the input
//! (expressions are walked with an explicit stack), whatever the trees hold.

use crate::ir::{self, Program};
use crate::span::{FileId, Ident, Span};
use crate::syntax::ast::{self, ClauseKind, ExprKind, ItemKind, Target, TestStmtKind, TypeDef};
use crate::syntax::lexer::Comment;
use crate::value::{Ty, Value};
use std::collections::HashMap;

/// What a declared name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymbolKind {
    Law,
    /// An enum or struct type.
    Type,
    /// A variant of an enum (its parent).
    Variant,
    /// A field of a struct type (its parent).
    Field,
    Fact,
    /// A `data schema`.
    Schema,
    /// A field of a data schema (its parent).
    SchemaField,
    Def,
    Norm,
    /// An article, named by its number.
    Article,
    /// A chapter, named by its number.
    Chapter,
    Role,
    Authority,
    /// A tag of norms (`tags`, `overrides tagged`); declared only by use.
    Tag,
    /// The act a prohibition or permission is about; declared only by use.
    Act,
    Test,
    Tiers,
    /// A quantifier's variable.
    Local,
}

impl SymbolKind {
    /// The word a reader would use.
    pub fn describe(self) -> &'static str {
        match self {
            SymbolKind::Law => "law",
            SymbolKind::Type => "type",
            SymbolKind::Variant => "enum variant",
            SymbolKind::Field => "field",
            SymbolKind::Fact => "fact",
            SymbolKind::Schema => "data schema",
            SymbolKind::SchemaField => "data field",
            SymbolKind::Def => "definition",
            SymbolKind::Norm => "norm",
            SymbolKind::Article => "article",
            SymbolKind::Chapter => "chapter",
            SymbolKind::Role => "role",
            SymbolKind::Authority => "authority",
            SymbolKind::Tag => "tag",
            SymbolKind::Act => "act",
            SymbolKind::Test => "test",
            SymbolKind::Tiers => "tiers",
            SymbolKind::Local => "variable",
        }
    }

    /// Names of this kind are identifiers a user may rename.
    pub fn renamable(self) -> bool {
        !matches!(
            self,
            SymbolKind::Article | SymbolKind::Chapter | SymbolKind::Test | SymbolKind::Law
        )
    }
}

/// One declared thing.
#[derive(Clone, Debug)]
pub struct Symbol {
    pub kind: SymbolKind,
    pub name: String,
    /// The enum of a variant, the struct of a field, the schema of a data field.
    pub parent: Option<usize>,
    /// The article a norm, definition or tiers is declared in.
    pub article: Option<usize>,
    /// Every declaration: the span of its name and of the whole declaration. Several when a
    /// name is declared twice (an error) or an article has versions.
    pub decls: Vec<(Span, Span)>,
    /// The `///` lines above the (first) declaration.
    pub doc: Vec<String>,
}

impl Symbol {
    pub fn name_span(&self) -> Option<Span> {
        self.decls.first().map(|d| d.0)
    }
    pub fn full_span(&self) -> Option<Span> {
        self.decls.first().map(|d| d.1)
    }
}

/// A place in the source where a name is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    pub span: Span,
    /// Index into [`Index::symbols`].
    pub symbol: usize,
    /// This is (the name of) a declaration, not a use.
    pub decl: bool,
}

/// The index of one law.
#[derive(Clone, Debug, Default)]
pub struct Index {
    pub symbols: Vec<Symbol>,
    /// Sorted by file and start.
    pub refs: Vec<Reference>,
    /// Every checked expression and its type, sorted by file and start.
    pub exprs: Vec<(Span, Ty)>,
    lookup: HashMap<(SymbolKind, Option<usize>, String), usize>,
}

type Key = (SymbolKind, Option<usize>, String);

impl Index {
    /// Indexes the files of a law against the program the checker built from them (the
    /// partial program is fine: what did not check is simply not resolved).
    pub fn build(files: &[SourceFile<'_>], program: &Program) -> Index {
        let mut b = Builder {
            index: Index::default(),
            program,
            ir: HashMap::new(),
            file: None,
        };
        for f in files {
            b.file = Some(*f);
            b.declare_items(&f.ast.items, None);
        }
        b.file = None;
        let mut all: Vec<&ir::Expr> = program.rule_exprs();
        for t in &program.tests {
            all.extend(t.given.iter().map(|(_, e)| e));
            for x in &t.expects {
                if let ir::Expect::Holds { expr, .. } = x {
                    all.push(expr);
                }
            }
        }
        let mut exprs = Vec::new();
        for e in all {
            e.visit(&mut |x| {
                let what = match &x.kind {
                    ir::ExprKind::Def(i) => Some(Resolved::Def(*i)),
                    ir::ExprKind::Fact(i) => Some(Resolved::Fact(*i)),
                    ir::ExprKind::Const(Value::Enum(e, _)) => Some(Resolved::Variant(*e)),
                    _ => None,
                };
                b.ir.entry(x.span).or_insert_with(|| Checked {
                    ty: x.ty.clone(),
                    what,
                });
                exprs.push((x.span, x.ty.clone()));
            });
        }
        for f in files {
            b.resolve_items(&f.ast.items);
        }
        let mut index = b.index;
        index
            .refs
            .sort_by_key(|r| (r.span.file, r.span.start, r.span.end));
        index.refs.dedup();
        exprs.sort_by_key(|(s, _)| (s.file, s.start, s.end));
        exprs.dedup_by(|a, b| a.0 == b.0);
        index.exprs = exprs;
        index
    }

    pub fn find(&self, kind: SymbolKind, parent: Option<usize>, name: &str) -> Option<usize> {
        self.lookup.get(&(kind, parent, name.to_string())).copied()
    }

    pub fn symbol(&self, i: usize) -> Option<&Symbol> {
        self.symbols.get(i)
    }

    /// The reference under a byte offset (its end included, so a cursor just after a name
    /// finds it); the narrowest if several.
    pub fn reference_at(&self, file: FileId, offset: usize) -> Option<&Reference> {
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        self.refs
            .iter()
            .filter(|r| r.span.file == file && r.span.start <= offset && offset <= r.span.end)
            .min_by_key(|r| (r.span.end - r.span.start, u32::MAX - r.span.start))
    }

    /// Every reference to a symbol, its declarations included.
    pub fn references_to(&self, symbol: usize) -> impl Iterator<Item = &Reference> + '_ {
        self.refs.iter().filter(move |r| r.symbol == symbol)
    }

    /// The narrowest checked expression that contains the offset, with its type.
    pub fn expr_at(&self, file: FileId, offset: usize) -> Option<(Span, &Ty)> {
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        self.exprs
            .iter()
            .filter(|(s, _)| s.file == file && s.start <= offset && offset < s.end.max(s.start + 1))
            .min_by_key(|(s, _)| s.end - s.start)
            .map(|(s, t)| (*s, t))
    }

    /// The symbols of a kind (and parent), e.g. the fields of a struct.
    pub fn children(&self, parent: usize) -> impl Iterator<Item = (usize, &Symbol)> + '_ {
        self.symbols
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.parent == Some(parent))
    }

    /// The type symbol of a checked type, if it is a user type.
    pub fn type_symbol(&self, program: &Program, ty: &Ty) -> Option<usize> {
        let name = match ty {
            Ty::Enum(e) => program.types.enum_def(*e).map(|d| d.name.as_str()),
            Ty::Struct(s) => program.types.struct_def(*s).map(|d| d.name.as_str()),
            _ => None,
        }?;
        self.find(SymbolKind::Type, None, name)
    }
}

/// One file to index: its tree, its comments and its text.
#[derive(Clone, Copy)]
pub struct SourceFile<'a> {
    pub ast: &'a ast::File,
    pub comments: &'a [Comment],
    pub text: &'a str,
}

struct Builder<'p, 'f> {
    index: Index,
    program: &'p Program,
    ir: HashMap<Span, Checked>,
    /// The file being declared (for the comments of fields and variants).
    file: Option<SourceFile<'f>>,
}

/// What the checker made of the expression at a span.
struct Checked {
    ty: Ty,
    what: Option<Resolved>,
}

#[derive(Clone, Copy)]
enum Resolved {
    Def(u32),
    Fact(u32),
    /// A variant of this enum.
    Variant(u32),
}

/// Work items of the expression walk.
enum Work<'a> {
    Expr(&'a ast::Expr, Option<Ty>),
    /// Enter a quantifier's scope: its variable and symbol.
    Push(String, usize),
    /// Leave a quantifier's scope.
    Pop,
}

impl Builder<'_, '_> {
    fn symbol(&mut self, kind: SymbolKind, parent: Option<usize>, name: &str) -> usize {
        let key: Key = (kind, parent, name.to_string());
        if let Some(&i) = self.index.lookup.get(&key) {
            return i;
        }
        let i = self.index.symbols.len();
        self.index.symbols.push(Symbol {
            kind,
            name: name.to_string(),
            parent,
            article: None,
            decls: Vec::new(),
            doc: Vec::new(),
        });
        self.index.lookup.insert(key, i);
        i
    }

    fn declare(
        &mut self,
        kind: SymbolKind,
        parent: Option<usize>,
        name: &str,
        name_span: Span,
        full: Span,
        doc: &[String],
    ) -> usize {
        let i = self.symbol(kind, parent, name);
        if let Some(s) = self.index.symbols.get_mut(i) {
            if s.decls.is_empty() {
                s.doc = doc.to_vec();
            }
            s.decls.push((name_span, full));
        }
        self.index.refs.push(Reference {
            span: name_span,
            symbol: i,
            decl: true,
        });
        i
    }

    fn refer(&mut self, symbol: usize, span: Span) {
        self.index.refs.push(Reference {
            span,
            symbol,
            decl: false,
        });
    }

    fn refer_existing(&mut self, kind: SymbolKind, parent: Option<usize>, name: &Ident) {
        if let Some(i) = self.index.find(kind, parent, &name.node) {
            self.refer(i, name.span);
        }
    }

    fn declare_items(&mut self, items: &[ast::Item], article: Option<usize>) {
        for item in items {
            let doc = &item.doc;
            match &item.kind {
                ItemKind::Law { name, .. } => {
                    self.declare(SymbolKind::Law, None, &name.node, name.span, item.span, doc);
                }
                ItemKind::Type { name, def } => {
                    let t = self.declare(
                        SymbolKind::Type,
                        None,
                        &name.node,
                        name.span,
                        item.span,
                        doc,
                    );
                    match def {
                        TypeDef::Enum(vs) => {
                            for v in vs {
                                let doc = self.member_doc(v.span);
                                self.declare(
                                    SymbolKind::Variant,
                                    Some(t),
                                    &v.node,
                                    v.span,
                                    v.span,
                                    &doc,
                                );
                            }
                        }
                        TypeDef::Struct(fs) => {
                            for f in fs {
                                let doc = self.member_doc(f.span);
                                self.declare(
                                    SymbolKind::Field,
                                    Some(t),
                                    &f.name.node,
                                    f.name.span,
                                    f.span,
                                    &doc,
                                );
                            }
                        }
                    }
                }
                ItemKind::Role { name, .. } => {
                    self.declare(
                        SymbolKind::Role,
                        None,
                        &name.node,
                        name.span,
                        item.span,
                        doc,
                    );
                }
                ItemKind::Authority { name, .. } => {
                    self.declare(
                        SymbolKind::Authority,
                        None,
                        &name.node,
                        name.span,
                        item.span,
                        doc,
                    );
                }
                ItemKind::Chapter { number, .. } => {
                    self.declare(
                        SymbolKind::Chapter,
                        None,
                        &number.node,
                        number.span,
                        item.span,
                        doc,
                    );
                }
                ItemKind::Fact { name, .. } => {
                    self.declare(
                        SymbolKind::Fact,
                        None,
                        &name.node,
                        name.span,
                        item.span,
                        doc,
                    );
                }
                ItemKind::Schema { name, fields } => {
                    let s = self.declare(
                        SymbolKind::Schema,
                        None,
                        &name.node,
                        name.span,
                        item.span,
                        doc,
                    );
                    for f in fields {
                        let doc = self.member_doc(f.span);
                        self.declare(
                            SymbolKind::SchemaField,
                            Some(s),
                            &f.name.node,
                            f.name.span,
                            f.span,
                            &doc,
                        );
                    }
                }
                ItemKind::Def { name, .. } => {
                    let d =
                        self.declare(SymbolKind::Def, None, &name.node, name.span, item.span, doc);
                    self.set_article(d, article);
                }
                ItemKind::Article { number, body, .. } => {
                    let a = self.declare(
                        SymbolKind::Article,
                        None,
                        &number.node,
                        number.span,
                        item.span,
                        doc,
                    );
                    self.declare_items(body, Some(a));
                }
                ItemKind::Norm(n) => {
                    let d = self.declare(
                        SymbolKind::Norm,
                        None,
                        &n.id.node,
                        n.id.span,
                        item.span,
                        doc,
                    );
                    self.set_article(d, article);
                }
                ItemKind::Test { name, .. } => {
                    self.declare(
                        SymbolKind::Test,
                        None,
                        &name.node,
                        name.span,
                        item.span,
                        doc,
                    );
                }
                ItemKind::Tiers { name, .. } => {
                    let d = self.declare(
                        SymbolKind::Tiers,
                        None,
                        &name.node,
                        name.span,
                        item.span,
                        doc,
                    );
                    self.set_article(d, article);
                }
                ItemKind::Import { .. }
                | ItemKind::DataModule { .. }
                | ItemKind::Exception { .. }
                | ItemKind::Error => {}
            }
        }
    }

    fn set_article(&mut self, symbol: usize, article: Option<usize>) {
        if let Some(s) = self.index.symbols.get_mut(symbol)
            && s.article.is_none()
        {
            s.article = article;
        }
    }

    fn find_global(&self, kind: SymbolKind, name: &str) -> Option<usize> {
        self.index.find(kind, None, name)
    }

    /// The documentation of a field or variant: the `///` lines right above it, else a
    /// comment at the end of its line (`users: int, // registered users`).
    fn member_doc(&self, span: Span) -> Vec<String> {
        match self.file {
            Some(f) => crate::syntax::parser::member_doc(f.text, f.comments, span),
            None => Vec::new(),
        }
    }

    fn resolve_items(&mut self, items: &[ast::Item]) {
        for item in items {
            match &item.kind {
                ItemKind::Type {
                    name,
                    def: TypeDef::Struct(fs),
                } => {
                    let sid = self
                        .program
                        .types
                        .structs
                        .iter()
                        .find(|s| s.name == name.node);
                    for f in fs {
                        self.type_expr(&f.ty);
                        if let Some(d) = &f.default {
                            let want = sid
                                .and_then(|s| s.field(&f.name.node))
                                .map(|(_, f)| f.ty.clone());
                            self.expr(d, want);
                        }
                    }
                }
                ItemKind::Fact { ty, .. } => self.type_expr(ty),
                ItemKind::Schema { fields, .. } => {
                    for f in fields {
                        self.type_expr(&f.ty);
                    }
                }
                ItemKind::DataModule { name, entries, .. } => {
                    let schema = self.index.find(SymbolKind::Schema, None, &name.node);
                    if let Some(s) = schema {
                        self.refer(s, name.span);
                    }
                    let fields = self.program.schema_by_name(&name.node).map(|(_, s)| s);
                    for (field, value) in entries {
                        if schema.is_some() {
                            self.refer_existing(SymbolKind::SchemaField, schema, field);
                        }
                        let want = fields
                            .and_then(|s| s.fields.iter().find(|f| f.name == field.node))
                            .map(|f| f.ty.clone());
                        self.expr(value, want);
                    }
                }
                ItemKind::Def { ty, value, .. } => {
                    if let Some(t) = ty {
                        self.type_expr(t);
                    }
                    self.expr(value, None);
                }
                ItemKind::Exception {
                    target,
                    when,
                    value,
                    ..
                } => {
                    if let Some(d) = self.find_global(SymbolKind::Def, &target.node) {
                        self.refer(d, target.span);
                    }
                    self.expr(when, Some(Ty::Bool));
                    self.expr(value, None);
                }
                ItemKind::Article { body, .. } => self.resolve_items(body),
                ItemKind::Norm(n) => self.norm(n),
                ItemKind::Test { body, .. } => self.test(body),
                ItemKind::Tiers { over, norms, .. } => {
                    self.expr(over, None);
                    for n in norms {
                        if let Some(s) = self.find_global(SymbolKind::Norm, &n.node) {
                            self.refer(s, n.span);
                        }
                    }
                }
                ItemKind::Type { .. }
                | ItemKind::Law { .. }
                | ItemKind::Import { .. }
                | ItemKind::Role { .. }
                | ItemKind::Authority { .. }
                | ItemKind::Chapter { .. }
                | ItemKind::Error => {}
            }
        }
    }

    fn norm(&mut self, n: &ast::Norm) {
        for c in &n.clauses {
            match &c.kind {
                ClauseKind::Addressee(r) => self.refer_existing(SymbolKind::Role, None, r),
                ClauseKind::Authority(a) => self.refer_existing(SymbolKind::Authority, None, a),
                ClauseKind::When(e) => self.expr(e, Some(Ty::Bool)),
                ClauseKind::Due(e) | ClauseKind::Done(e) | ClauseKind::KeepUntil(e) => {
                    self.expr(e, Some(Ty::Date))
                }
                ClauseKind::Violated(e) => self.expr(e, Some(Ty::Bool)),
                ClauseKind::Counterparty(e, _) => self.expr(e, None),
                ClauseKind::Fine { min, max } => {
                    self.expr(min, Some(Ty::Money));
                    self.expr(max, Some(Ty::Money));
                }
                ClauseKind::Tags(tags) => {
                    for t in tags {
                        let s = self.symbol(SymbolKind::Tag, None, &t.node);
                        self.refer(s, t.span);
                    }
                }
                ClauseKind::Act(a) => {
                    let s = self.symbol(SymbolKind::Act, None, &a.node);
                    self.refer(s, a.span);
                }
                ClauseKind::PerParty => {}
                ClauseKind::Overrides { targets, except } => {
                    for t in targets {
                        match t {
                            Target::Norm(id) => {
                                if let Some(s) = self.find_global(SymbolKind::Norm, &id.node) {
                                    self.refer(s, id.span);
                                }
                            }
                            Target::Article(a) => self.refer_existing(SymbolKind::Article, None, a),
                            Target::Articles(a, b) => {
                                self.refer_existing(SymbolKind::Article, None, a);
                                self.refer_existing(SymbolKind::Article, None, b);
                            }
                            Target::Chapter(c) => self.refer_existing(SymbolKind::Chapter, None, c),
                            Target::Tagged(t) => {
                                let s = self.symbol(SymbolKind::Tag, None, &t.node);
                                self.refer(s, t.span);
                            }
                        }
                    }
                    for t in except {
                        let s = self.symbol(SymbolKind::Tag, None, &t.node);
                        self.refer(s, t.span);
                    }
                }
                ClauseKind::Paragraph(_)
                | ClauseKind::Item(_)
                | ClauseKind::Text(_)
                | ClauseKind::Effective(_)
                | ClauseKind::Until(_)
                | ClauseKind::Priority(_)
                | ClauseKind::Error => {}
            }
        }
    }

    fn test(&mut self, body: &[ast::TestStmt]) {
        for st in body {
            match &st.kind {
                TestStmtKind::Given(fact, value) => {
                    self.refer_existing(SymbolKind::Fact, None, fact);
                    let want = self
                        .program
                        .facts
                        .iter()
                        .find(|f| f.name == fact.node)
                        .map(|f| f.ty.clone());
                    self.expr(value, want);
                }
                TestStmtKind::ExpectNorm { id, .. } | TestStmtKind::ExpectNoNorm(id, _) => {
                    if let Some(s) = self.find_global(SymbolKind::Norm, &id.node) {
                        self.refer(s, id.span);
                    }
                }
                TestStmtKind::ExpectValue(e) => self.expr(e, Some(Ty::Bool)),
                TestStmtKind::AsOf(_) | TestStmtKind::ExpectConflict | TestStmtKind::Error => {}
            }
        }
    }

    fn type_expr(&mut self, t: &ast::TypeExpr) {
        let mut stack = vec![t];
        while let Some(t) = stack.pop() {
            self.refer_existing(SymbolKind::Type, None, &t.name);
            stack.extend(t.args.iter());
        }
    }

    fn type_name(&self, ty: &Ty) -> Option<&str> {
        match ty {
            Ty::Enum(e) => self.program.types.enum_def(*e).map(|d| d.name.as_str()),
            Ty::Struct(s) => self.program.types.struct_def(*s).map(|d| d.name.as_str()),
            _ => None,
        }
    }

    fn checked(&self, e: &ast::Expr) -> Option<&Checked> {
        let mut e = e;
        while let ExprKind::Paren(inner) = &e.kind {
            if let Some(x) = self.ir.get(&e.span) {
                return Some(x);
            }
            e = inner;
        }
        self.ir.get(&e.span)
    }

    /// The variant symbol named `name` of enum `e`.
    fn variant_symbol(&self, e: u32, name: &str) -> Option<usize> {
        let owner = self.type_name(&Ty::Enum(e))?;
        let t = self.index.find(SymbolKind::Type, None, owner)?;
        self.index.find(SymbolKind::Variant, Some(t), name)
    }

    /// A name the checker did not resolve (a constant, an error): by the checker's own order.
    fn fallback_name(&self, name: &str, want: Option<&Ty>) -> Option<usize> {
        if let Some(s) = self.find_global(SymbolKind::Def, name) {
            return Some(s);
        }
        if let Some(s) = self.index.find(SymbolKind::Fact, None, name) {
            return Some(s);
        }
        if let Some(Ty::Enum(e)) = want
            && let Some(s) = self.variant_symbol(*e, name)
        {
            return Some(s);
        }
        let variants: Vec<usize> = self
            .index
            .symbols
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == SymbolKind::Variant && s.name == name)
            .map(|(i, _)| i)
            .collect();
        if let [one] = variants.as_slice() {
            return Some(*one);
        }
        self.index
            .find(SymbolKind::Schema, None, name)
            .or_else(|| self.index.find(SymbolKind::Type, None, name))
    }

    fn expr(&mut self, root: &ast::Expr, want: Option<Ty>) {
        let mut locals: Vec<(String, usize)> = Vec::new();
        let mut work = vec![Work::Expr(root, want)];
        while let Some(w) = work.pop() {
            let (e, want) = match w {
                Work::Pop => {
                    locals.pop();
                    continue;
                }
                Work::Push(name, symbol) => {
                    locals.push((name, symbol));
                    continue;
                }
                Work::Expr(e, want) => (e, want),
            };
            match &e.kind {
                ExprKind::Name(n) => {
                    if let Some((_, s)) = locals.iter().rev().find(|(l, _)| l == n) {
                        let s = *s;
                        self.refer(s, e.span);
                        continue;
                    }
                    let resolved = match self.checked(e).and_then(|x| x.what) {
                        Some(Resolved::Def(i)) => self
                            .program
                            .defs
                            .get(i as usize)
                            .and_then(|d| self.find_global(SymbolKind::Def, &d.name)),
                        Some(Resolved::Fact(i)) => self
                            .program
                            .facts
                            .get(i as usize)
                            .and_then(|f| self.index.find(SymbolKind::Fact, None, &f.name)),
                        Some(Resolved::Variant(en)) => self.variant_symbol(en, n),
                        None => self.fallback_name(n, want.as_ref()),
                    };
                    if let Some(s) = resolved {
                        self.refer(s, e.span);
                    }
                }
                ExprKind::Field(base, field) => {
                    if let ExprKind::Name(n) = &base.kind
                        && !locals.iter().any(|(l, _)| l == n)
                        && self.find_global(SymbolKind::Def, n).is_none()
                        && self.index.find(SymbolKind::Fact, None, n).is_none()
                    {
                        if let Some(s) = self.index.find(SymbolKind::Schema, None, n) {
                            self.refer(s, base.span);
                            self.refer_existing(SymbolKind::SchemaField, Some(s), field);
                            continue;
                        }
                        if let Some(t) = self.index.find(SymbolKind::Type, None, n) {
                            self.refer(t, base.span);
                            self.refer_existing(SymbolKind::Variant, Some(t), field);
                            continue;
                        }
                    }
                    let base_ty = self.checked(base).map(|x| x.ty.clone());
                    if let Some(owner) = base_ty.as_ref().and_then(|t| self.type_name(t)) {
                        let owner = owner.to_string();
                        if let Some(t) = self.index.find(SymbolKind::Type, None, &owner) {
                            self.refer_existing(SymbolKind::Field, Some(t), field);
                        }
                    }
                    work.push(Work::Expr(base, None));
                }
                ExprKind::Call(_, args) => {
                    work.extend(args.iter().map(|a| Work::Expr(a, None)));
                }
                ExprKind::Unary(_, x) => work.push(Work::Expr(x, None)),
                ExprKind::Paren(x) => work.push(Work::Expr(x, want)),
                ExprKind::Binary(op, a, b) => {
                    // An operand's type tells the other's (`system.category == chatbot`,
                    // `chatbot in system.categories`).
                    let ta = self.checked(a).map(|x| x.ty.clone());
                    let tb = self.checked(b).map(|x| x.ty.clone());
                    let want_a = match op {
                        ast::BinOp::In | ast::BinOp::NotIn => {
                            tb.as_ref().and_then(|t| t.element().cloned())
                        }
                        _ => tb,
                    };
                    work.push(Work::Expr(b, ta));
                    work.push(Work::Expr(a, want_a));
                }
                ExprKind::If(c, t, f) => {
                    work.push(Work::Expr(f, want.clone()));
                    work.push(Work::Expr(t, want));
                    work.push(Work::Expr(c, Some(Ty::Bool)));
                }
                ExprKind::Quant {
                    var,
                    collection,
                    filter,
                    body,
                    ..
                } => {
                    // Order on the stack: the collection (outer scope), then the variable's
                    // scope around the body.
                    let local = self.index.symbols.len();
                    self.index.symbols.push(Symbol {
                        kind: SymbolKind::Local,
                        name: var.node.clone(),
                        parent: None,
                        article: None,
                        decls: vec![(var.span, e.span)],
                        doc: Vec::new(),
                    });
                    self.index.refs.push(Reference {
                        span: var.span,
                        symbol: local,
                        decl: true,
                    });
                    // The collection is walked outside the variable's scope, the body inside.
                    work.push(Work::Pop);
                    work.push(Work::Expr(body, None));
                    if let Some(f) = filter {
                        work.push(Work::Expr(f, Some(Ty::Bool)));
                    }
                    work.push(Work::Push(var.node.clone(), local));
                    work.push(Work::Expr(collection, None));
                }
                ExprKind::Set(xs) | ExprKind::List(xs) => {
                    let el = want.as_ref().and_then(|t| t.element().cloned());
                    work.extend(xs.iter().map(|x| Work::Expr(x, el.clone())));
                }
                ExprKind::Struct(fields) => {
                    let ty = match self.checked(e).map(|x| &x.ty) {
                        Some(t @ Ty::Struct(_)) => Some(t.clone()),
                        _ => want.filter(|t| matches!(t, Ty::Struct(_))),
                    };
                    let def = match &ty {
                        Some(Ty::Struct(s)) => self.program.types.struct_def(*s),
                        _ => None,
                    };
                    let owner = def.and_then(|d| self.index.find(SymbolKind::Type, None, &d.name));
                    for (name, value) in fields {
                        if owner.is_some() {
                            self.refer_existing(SymbolKind::Field, owner, name);
                        }
                        let fty = def
                            .and_then(|d| d.field(&name.node))
                            .map(|(_, f)| f.ty.clone());
                        work.push(Work::Expr(value, fty));
                    }
                }
                ExprKind::Bool(_)
                | ExprKind::Int(_)
                | ExprKind::Decimal(_)
                | ExprKind::Percent(_)
                | ExprKind::Money(_)
                | ExprKind::Duration(..)
                | ExprKind::WorkingDays(_)
                | ExprKind::Date(_)
                | ExprKind::Str(_)
                | ExprKind::Error => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::{MemoryLoader, compile};
    use std::path::PathBuf;

    const LAW: &str = r#"law t "T" version "1"
type Kind = enum { alpha, beta }
type Actor = struct { users: int, kind: Kind = alpha }
role provider "P"
fact actor: Actor
data schema limits { max_users: int }
/// Art. 1 text.
article 1 "One" {
  def big = actor.users > limits.max_users and actor.kind == beta
  def any_big = exists k in {alpha, beta}: k == actor.kind
  obligation register {
    addressee provider
    when big
    text "Register."
  }
}
test "t" {
  given actor = { users: 3, kind: Kind.beta }
  expect no register
}
"#;

    fn index() -> (crate::driver::Compilation, Index) {
        let loader = MemoryLoader::with(&[("law/a.norm", LAW)]);
        let c = compile(&loader, &[PathBuf::from("law")]);
        let files: Vec<SourceFile<'_>> = c
            .law_files
            .iter()
            .map(|f| SourceFile {
                ast: &f.ast,
                comments: &f.comments,
                text: c.db.text(f.id),
            })
            .collect();
        let program = c.checked().cloned().unwrap_or_default();
        let i = Index::build(&files, &program);
        (c, i)
    }

    fn at<'a>(
        i: &'a Index,
        c: &crate::driver::Compilation,
        needle: &str,
        nth: usize,
    ) -> Option<&'a Symbol> {
        let id = c.law_files.first()?.id;
        let off = LAW.match_indices(needle).nth(nth)?.0;
        let r = i.reference_at(id, off)?;
        i.symbol(r.symbol)
    }

    #[test]
    fn resolves_names_fields_variants_and_norms() {
        let (c, i) = index();
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        let s = at(&i, &c, "users >", 0).unwrap();
        assert_eq!((s.kind, s.name.as_str()), (SymbolKind::Field, "users"));
        let s = at(&i, &c, "max_users", 1).unwrap();
        assert_eq!(s.kind, SymbolKind::SchemaField);
        let s = at(&i, &c, "beta", 1).unwrap();
        assert_eq!(s.kind, SymbolKind::Variant);
        let s = at(&i, &c, "big\n", 0).unwrap();
        assert_eq!(s.kind, SymbolKind::Def);
        let s = at(&i, &c, "register\n", 0).unwrap();
        assert_eq!(s.kind, SymbolKind::Norm);
        let s = at(&i, &c, "provider\n", 0).unwrap();
        assert_eq!(s.kind, SymbolKind::Role);
        let s = at(&i, &c, "users: 3", 0).unwrap();
        assert_eq!(s.kind, SymbolKind::Field);
        let s = at(&i, &c, "k ==", 0).unwrap();
        assert_eq!(s.kind, SymbolKind::Local);
        let s = at(&i, &c, "beta", 2).unwrap();
        assert_eq!(s.kind, SymbolKind::Variant);
        let big = i.find(SymbolKind::Def, None, "big").unwrap();
        assert_eq!(i.references_to(big).count(), 2);
    }

    #[test]
    fn expression_types() {
        let (c, i) = index();
        let id = c.law_files.first().unwrap().id;
        let off = LAW.find("actor.users >").unwrap() + 7;
        let (_, ty) = i.expr_at(id, off).unwrap();
        assert_eq!(*ty, Ty::Int);
    }
}
