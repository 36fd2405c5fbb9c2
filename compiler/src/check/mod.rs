//! Resolution, type checking and lowering: syntax trees in, [`ir::Program`] out.
//!
//! The checker is fault-tolerant: it records an error and goes on with an `Error` type, so one
//! mistake gives one diagnostic and the rest of the law is still checked (the editor needs
//! that). Declarations are collected first (so order in and across files does not matter), then
//! types, facts and schemas are resolved, definitions are checked on demand (a definition's type
//! is inferred from its body the first time someone reads it), then norms, then tests.

mod expr;
mod inline;
pub mod intervals;
mod konst;
mod norms;

use crate::date::Date;
use crate::diagnostic::Diagnostic;
use crate::ir::{self, Program};
use crate::span::{Ident, Span};
use crate::syntax::ast::{self, ItemKind};
use crate::value::{FieldDef, Ty, Types};
use std::collections::HashMap;

pub use expr::{parse_decimal, parse_int};
pub use konst::{check_data_file, check_expr};

/// Lexical scope of an expression being checked.
#[derive(Default)]
pub(crate) struct Scope {
    locals: Vec<(String, Ty)>,
    /// Definitions read (for the dependency graph).
    deps: Vec<u32>,
    /// Only constants allowed (defaults, data modules, `given`).
    constant: bool,
    depth: u32,
    too_deep: bool,
}

impl Scope {
    fn rules() -> Scope {
        Scope::default()
    }
    fn constant() -> Scope {
        Scope {
            constant: true,
            ..Scope::default()
        }
    }
    fn lookup(&self, name: &str) -> Option<(u32, Ty)> {
        self.locals
            .iter()
            .enumerate()
            .rev()
            .find(|(_, (n, _))| n == name)
            .map(|(i, (_, t))| (i as u32, t.clone()))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DefState {
    Pending,
    InProgress,
    Done,
}

struct DefSrc<'a> {
    name: &'a Ident,
    ty: Option<&'a ast::TypeExpr>,
    value: &'a ast::Expr,
    exceptions: Vec<&'a ast::Item>,
}

pub(crate) struct Checker<'a> {
    pub(crate) program: Program,
    pub(crate) types: Types,
    diagnostics: Vec<Diagnostic>,
    type_names: HashMap<String, Ty>,
    /// Variant name → (enum, index) of every enum that has it.
    variants: HashMap<String, Vec<(u32, u32)>>,
    facts: HashMap<String, u32>,
    schemas: HashMap<String, u32>,
    defs: HashMap<String, u32>,
    /// Definitions with versions: the dispatching definition and its versions.
    dispatchers: HashMap<u32, Vec<u32>>,
    /// The span of each article's number, by article index (for diagnostics).
    article_numbers: Vec<Span>,
    /// The article version whose rules are being checked: inside it, a definition with
    /// versions means that article version's own.
    current_article: Option<u32>,
    def_src: Vec<DefSrc<'a>>,
    def_state: Vec<DefState>,
    def_deps: Vec<Vec<u32>>,
    /// Every declared name, for duplicate detection: name → (what, span).
    declared: HashMap<String, (&'static str, Span)>,
}

/// Suggests the candidate closest to `name`, if one is close enough to be a typo.
pub fn suggest<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let score = strsim::jaro_winkler(name, c);
        let lev = strsim::levenshtein(name, c);
        if (score >= 0.85 || lev <= 2.min(name.len() / 2)) && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// Depth-first order of a graph given by successor lists: every node comes after all its
/// successors. Also returns each cycle met (its nodes, in order). Iterative, so no depth limit.
pub(crate) fn topo_order(succ: &[Vec<u32>]) -> (Vec<u32>, Vec<Vec<usize>>) {
    let n = succ.len();
    let mut colour = vec![0u8; n]; // 0 unseen, 1 on the stack, 2 done
    let mut order = Vec::with_capacity(n);
    let mut cycles = Vec::new();
    for start in 0..n {
        if colour.get(start) != Some(&0) {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        if let Some(c) = colour.get_mut(start) {
            *c = 1;
        }
        while let Some(&(node, next)) = stack.last() {
            let s = succ
                .get(node)
                .and_then(|d| d.get(next))
                .map(|s| *s as usize);
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            match s {
                Some(s) => match colour.get(s) {
                    Some(0) => {
                        if let Some(c) = colour.get_mut(s) {
                            *c = 1;
                        }
                        stack.push((s, 0));
                    }
                    Some(1) => {
                        let pos = stack.iter().position(|(x, _)| *x == s).unwrap_or(0);
                        cycles.push(stack.iter().skip(pos).map(|(x, _)| *x).collect());
                    }
                    _ => {}
                },
                None => {
                    stack.pop();
                    if let Some(c) = colour.get_mut(node) {
                        *c = 2;
                    }
                    order.push(node as u32);
                }
            }
        }
    }
    (order, cycles)
}

/// Two periods (open ends unbounded) share a day.
pub(crate) fn overlap(a: (Option<Date>, Option<Date>), b: (Option<Date>, Option<Date>)) -> bool {
    let start = a.0.max(b.0);
    let end = match (a.1, b.1) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    };
    match (start, end) {
        (Some(s), Some(e)) => s <= e,
        _ => true,
    }
}

/// Checks the files of one law and lowers them to IR. The program is returned even when there
/// are errors (for the editor); the runtime must only ever be given an error-free one.
pub fn check_law(files: &[&ast::File]) -> (Program, Vec<Diagnostic>) {
    check_law_with(files, true)
}

/// [`check_law`], checking the `test` blocks or not: a law loaded to decide cases
/// (`Engine::load`) never runs its tests, so it need not check them.
pub fn check_law_with(files: &[&ast::File], tests: bool) -> (Program, Vec<Diagnostic>) {
    let mut c = Checker {
        program: Program::default(),
        types: Types::default(),
        diagnostics: Vec::new(),
        type_names: HashMap::new(),
        variants: HashMap::new(),
        facts: HashMap::new(),
        schemas: HashMap::new(),
        defs: HashMap::new(),
        dispatchers: HashMap::new(),
        article_numbers: Vec::new(),
        current_article: None,
        def_src: Vec::new(),
        def_state: Vec::new(),
        def_deps: Vec::new(),
        declared: HashMap::new(),
    };
    let items: Vec<(&ast::Item, Option<u32>)> = flatten(files);
    c.header(files, &items);
    c.declare(&items);
    c.article_versions();
    c.resolve_types(&items);
    c.facts_and_schemas(&items);
    c.vocabularies(&items);
    c.collect_defs(&items);
    for i in 0..c.def_src.len() {
        c.check_def(i as u32);
    }
    c.order_defs();
    c.subjects(&items);
    c.findings_are_bool();
    c.finding_guards(&items);
    c.check_norms(&items);
    c.program.types = c.types.clone();
    c.version_gaps();
    c.check_tiers(&items);
    c.unreachable_norms();
    c.possible_conflicts();
    if tests {
        c.check_tests(&items);
    }
    c.program.types = c.types.clone();
    if !c.diagnostics.iter().any(|d| d.is_error()) {
        inline::expand_absent_defs(&mut c.program);
    }
    c.program.reach = c.program.compute_reach();
    c.unused();
    let mut diags = c.diagnostics;
    diags.sort_by_key(|d| d.primary.as_ref().map(|p| (p.span.file, p.span.start)));
    (c.program, diags)
}

impl Checker<'_> {
    /// Resolves the subjects (`fact actor: Party in parties where …`): each ranges over a fact
    /// that is a `list` of its type; the filter is a condition over facts only (the runtime
    /// chooses the combinations before it decides anything).
    fn subjects(&mut self, items: &[(&ast::Item, Option<u32>)]) {
        for (item, _) in items {
            let ItemKind::Fact {
                name,
                subject: Some(sub),
                ..
            } = &item.kind
            else {
                continue;
            };
            let Some(&idx) = self.facts.get(&name.node) else {
                continue;
            };
            let position = self.program.subject_of(idx).unwrap_or(0);
            if position >= 2 {
                self.error(
                    Diagnostic::error("E0127", "a law has at most two subjects")
                        .at(name.span, "a third subject")
                        .note("the first names the party a norm binds, the second the system it concerns"),
                );
                continue;
            }
            let ty = self
                .program
                .facts
                .get(idx as usize)
                .map(|f| f.ty.clone())
                .unwrap_or(Ty::Error);
            let collection = match self.facts.get(&sub.collection.node) {
                Some(&c) => c,
                None => {
                    let mut d = Diagnostic::error(
                        "E0128",
                        format!("unknown fact `{}`", sub.collection.node),
                    )
                    .at(
                        sub.collection.span,
                        "a subject ranges over a fact of the case",
                    );
                    if let Some(s) =
                        suggest(&sub.collection.node, self.facts.keys().map(String::as_str))
                    {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    self.error(d);
                    continue;
                }
            };
            let coll = self.program.facts.get(collection as usize);
            let fits = coll.is_some_and(|f| {
                f.subject.is_none()
                    && self.program.subject_of(collection).is_none()
                    && f.ty == Ty::List(Box::new(ty.clone()))
            });
            if !fits && !ty.is_error() {
                let shown = self.types.show(&ty);
                self.error(
                    Diagnostic::error(
                        "E0128",
                        format!("`{}` is not a `list<{shown}>`", sub.collection.node),
                    )
                    .at(
                        sub.collection.span,
                        "a subject takes each element of a list in turn",
                    )
                    .help(format!(
                        "declare `fact {}: list<{shown}>`",
                        sub.collection.node
                    )),
                );
                continue;
            }
            let filter = sub.filter.as_ref().map(|f| {
                let mut scope = Scope::rules();
                let x = self.check_against(f, &Ty::Bool, &mut scope, "a subject's condition");
                let mut reads_more = None;
                x.visit(&mut |e| {
                    if matches!(
                        e.kind,
                        ir::ExprKind::Def(_) | ir::ExprKind::Data(..) | ir::ExprKind::AsOf
                    ) {
                        reads_more.get_or_insert(e.span);
                    }
                });
                if let Some(at) = reads_more {
                    self.error(
                        Diagnostic::error(
                            "E0129",
                            "a subject's condition reads only the case's facts",
                        )
                        .at(at, "a definition, data or the decision date")
                        .note("the combinations of subjects are chosen before anything is decided"),
                    );
                }
                x
            });
            if let Some(f) = self.program.facts.get_mut(idx as usize) {
                f.subject = Some(ir::Subject { collection, filter });
            }
        }
    }

    /// Resolves the `when DEF` of findings: a boolean definition.
    fn finding_guards(&mut self, items: &[(&ast::Item, Option<u32>)]) {
        for (item, _) in items {
            let ItemKind::Def {
                name,
                finding: Some(ast::FindingCite { when: Some(w), .. }),
                ..
            } = &item.kind
            else {
                continue;
            };
            let Some(&g) = self.defs.get(&w.node) else {
                let names: Vec<&str> = self.defs.keys().map(String::as_str).collect();
                let mut d = Diagnostic::error("E0182", format!("unknown definition `{}`", w.node))
                    .at(w.span, "a finding is reported when a definition holds");
                if let Some(s) = suggest(&w.node, names.into_iter()) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                self.error(d);
                continue;
            };
            if !matches!(
                self.program.defs.get(g as usize).map(|d| &d.ty),
                Some(Ty::Bool | Ty::Error)
            ) {
                self.error(
                    Diagnostic::error("E0182", format!("`{}` is not a condition", w.node))
                        .at(w.span, "a finding's `when` names a `bool` definition"),
                );
                continue;
            }
            if let Some(&i) = self.defs.get(&name.node)
                && let Some(f) = self
                    .program
                    .defs
                    .get_mut(i as usize)
                    .and_then(|d| d.finding.as_mut())
            {
                f.when = Some(g);
            }
        }
    }

    /// A finding holds or does not: its value is a `bool`.
    fn findings_are_bool(&mut self) {
        let wrong: Vec<(String, Ty, Span)> = self
            .program
            .defs
            .iter()
            .filter(|d| d.finding.is_some() && !matches!(d.ty, Ty::Bool | Ty::Error))
            .map(|d| (d.name.clone(), d.ty.clone(), d.span))
            .collect();
        for (name, ty, span) in wrong {
            let shown = self.types.show(&ty);
            self.error(
                Diagnostic::error(
                    "E0181",
                    format!(
                        "finding `{name}` is {}, not a `bool`",
                        crate::value::with_article(&format!("`{shown}`"))
                    ),
                )
                .at(span, "a finding holds or does not")
                .help("state the characterisation as a condition; keep values in a `def`"),
            );
        }
    }
}

/// All items with the index of the article they sit in (articles themselves included).
fn flatten<'a>(files: &[&'a ast::File]) -> Vec<(&'a ast::Item, Option<u32>)> {
    let mut out = Vec::new();
    let mut article = 0u32;
    for f in files {
        for item in &f.items {
            out.push((item, None));
            if let ItemKind::Article { body, .. } = &item.kind {
                for inner in body {
                    out.push((inner, Some(article)));
                }
                article += 1;
            }
        }
    }
    out
}

impl<'a> Checker<'a> {
    pub(crate) fn error(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn declare_name(&mut self, name: &Ident, what: &'static str) -> bool {
        if let Some((prev_what, prev)) = self.declared.get(&name.node) {
            let d = Diagnostic::error("E0110", format!("`{}` is declared twice", name.node))
                .at(name.span, format!("{what} declared here"))
                .also(*prev, format!("{prev_what} first declared here"))
                .help("give each declaration its own name");
            self.error(d);
            return false;
        }
        self.declared.insert(name.node.clone(), (what, name.span));
        true
    }

    /// The `law` headers: one per version of the law (same name, distinct versions, each with
    /// its period; consecutive periods must neither overlap nor leave a gap).
    fn header(&mut self, files: &[&ast::File], items: &[(&ast::Item, Option<u32>)]) {
        let mut found: Option<Span> = None;
        let mut versions: Vec<ir::LawVersion> = Vec::new();
        for (item, _) in items {
            if let ItemKind::Law {
                name,
                title,
                version,
                effective,
                until,
            } = &item.kind
            {
                if let Some(prev) = found
                    && name.node != self.program.law.name
                {
                    self.error(
                        Diagnostic::error("E0111", "the files of one directory form one law")
                            .at(name.span, format!("law `{}`", name.node))
                            .also(prev, format!("law `{}`", self.program.law.name))
                            .help("put other laws in their own directory; give versions of one law the same name"),
                    );
                    continue;
                }
                if let Some(v) = versions.iter().find(|v| v.version == version.node) {
                    self.error(
                        Diagnostic::error(
                            "E0175",
                            format!("version {:?} is declared twice", version.node),
                        )
                        .at(version.span, "again here")
                        .also(v.span, "first here")
                        .help("each version of the law has its own version string"),
                    );
                    continue;
                }
                let (from, to) = self.period(effective, until);
                if found.is_none() {
                    self.program.law = ir::Law {
                        name: name.node.clone(),
                        title: title.node.clone(),
                        version: version.node.clone(),
                        ..Default::default()
                    };
                }
                found.get_or_insert(item.span);
                versions.push(ir::LawVersion {
                    version: version.node.clone(),
                    title: title.node.clone(),
                    effective: from,
                    until: to,
                    span: item.span,
                });
            }
        }
        if versions.len() > 1 {
            // The law as first enacted may leave its start open; every amendment says when it
            // takes effect.
            let first = versions
                .iter()
                .position(|v| v.effective.is_none())
                .unwrap_or(0);
            for (k, v) in versions.iter().enumerate() {
                if v.effective.is_none() && k != first {
                    self.error(
                        Diagnostic::error("E0176", format!("version {:?} of the law has no `effective` date", v.version))
                            .at(v.span, "when does it take effect?")
                            .help("when a law has several versions, each after the first says when it takes effect: `law NAME \"Title\" version \"4.1\" effective 2027-01-01`"),
                    );
                }
            }
            versions.sort_by_key(|v| v.effective);
            for k in 1..versions.len() {
                let (Some(prev), Some(next)) =
                    (versions.get(k - 1).cloned(), versions.get(k).cloned())
                else {
                    continue;
                };
                let Some(start) = next.effective else {
                    continue;
                };
                match prev.until {
                    // Implicitly, a version ends when the next takes effect.
                    None => {
                        if let Some(p) = versions.get_mut(k - 1) {
                            p.until = start.add_days(-1);
                        }
                    }
                    Some(end) if end >= start => self.error(
                        Diagnostic::error(
                            "E0177",
                            format!("versions {:?} and {:?} of the law are both in force on {start}", prev.version, next.version),
                        )
                        .at(next.span, format!("in force from {start}"))
                        .also(prev.span, format!("in force until {end}"))
                        .help("end the earlier version the day before the later one takes effect, or leave its `until` out"),
                    ),
                    Some(end) if end.add_days(1) != Some(start) => self.diagnostics.push(
                        Diagnostic::warning(
                            "W0112",
                            format!("no version of the law is in force from {} to {}", end.add_days(1).unwrap_or(end), start.add_days(-1).unwrap_or(start)),
                        )
                        .at(next.span, format!("in force from {start}"))
                        .also(prev.span, format!("in force until {end}"))
                        .help("if this is intended, cases in the gap cannot be decided; otherwise close it"),
                    ),
                    Some(_) => {}
                }
            }
        }
        if let Some(first) = versions.first() {
            // The law as enacted names it; later versions are amendments.
            self.program.law.version = first.version.clone();
            self.program.law.title = first.title.clone();
        }
        self.program.law.effective = versions.first().and_then(|v| v.effective);
        self.program.law.until = versions.last().and_then(|v| v.until);
        self.program.law.versions = versions;
        if found.is_none() {
            let span = files
                .first()
                .map(|f| Span::new(f.file, 0, 0))
                .unwrap_or_default();
            self.error(
                Diagnostic::error("E0112", "no `law` header")
                    .at(span, "the law starts here")
                    .help("begin one file with `law NAME \"Title\" version \"1.0\"`"),
            );
        }
    }

    /// Pass 1: names of types, roles, authorities, chapters, articles.
    fn declare(&mut self, items: &[(&'a ast::Item, Option<u32>)]) {
        for (item, inside) in items {
            match &item.kind {
                ItemKind::Type { name, def } => {
                    if !self.declare_name(name, "type") {
                        continue;
                    }
                    match def {
                        ast::TypeDef::Enum(vs) => {
                            let id = self.types.enums.len() as u32;
                            let mut names: Vec<String> = Vec::new();
                            for v in vs {
                                if names.contains(&v.node) {
                                    self.error(
                                        Diagnostic::error(
                                            "E0113",
                                            format!("variant `{}` is listed twice", v.node),
                                        )
                                        .at(v.span, "again here"),
                                    );
                                    continue;
                                }
                                self.variants
                                    .entry(v.node.clone())
                                    .or_default()
                                    .push((id, names.len() as u32));
                                names.push(v.node.clone());
                            }
                            self.types.enums.push(crate::value::EnumDef {
                                name: name.node.clone(),
                                variants: names,
                            });
                            self.type_names.insert(name.node.clone(), Ty::Enum(id));
                        }
                        ast::TypeDef::Struct(_) => {
                            let id = self.types.structs.len() as u32;
                            self.types.structs.push(crate::value::StructDef {
                                name: name.node.clone(),
                                fields: Vec::new(),
                            });
                            self.type_names.insert(name.node.clone(), Ty::Struct(id));
                        }
                    }
                }
                ItemKind::Role { name, label } if self.declare_name(name, "role") => {
                    self.program.roles.push(ir::Named {
                        name: name.node.clone(),
                        label: label.node.clone(),
                    });
                }
                ItemKind::Authority { name, label } if self.declare_name(name, "authority") => {
                    self.program.authorities.push(ir::Named {
                        name: name.node.clone(),
                        label: label.node.clone(),
                    });
                }
                ItemKind::Chapter {
                    number,
                    title,
                    first,
                    last,
                } => {
                    let (Some(n), Some(a), Some(b)) =
                        (self.number(number), self.number(first), self.number(last))
                    else {
                        continue;
                    };
                    if a > b {
                        self.error(
                            Diagnostic::error("E0114", "chapter range is backwards")
                                .at(item.span, format!("articles {a} to {b}"))
                                .help(format!("write `articles {b} to {a}`")),
                        );
                    }
                    if let Some(prev) = self.program.chapters.iter().find(|c| c.number == n) {
                        let msg =
                            format!("chapter {} is declared twice (first: {:?})", n, prev.title);
                        self.error(Diagnostic::error("E0115", msg).at(item.span, "again here"));
                        continue;
                    }
                    self.program.chapters.push(ir::Chapter {
                        number: n,
                        title: title.node.clone(),
                        first: a,
                        last: b,
                    });
                }
                ItemKind::Article { .. } | ItemKind::Law { .. } if inside.is_some() => {
                    self.error(
                        Diagnostic::error("E0118", "this cannot appear inside an article")
                            .at(item.span, "move it out"),
                    );
                }
                ItemKind::Article {
                    number,
                    title,
                    effective,
                    until,
                    ..
                } => {
                    let n = self.number(number).unwrap_or(0);
                    let (from, to) = self.period(effective, until);
                    self.article_numbers.push(number.span);
                    self.program.articles.push(ir::Article {
                        number: n,
                        title: title.node.clone(),
                        text: item.doc.clone(),
                        chapter: None,
                        effective: from,
                        until: to,
                        span: item.span,
                    });
                }
                ItemKind::Norm(n) if inside.is_none() => {
                    self.error(
                        Diagnostic::error("E0117", format!("{} `{}` is outside any article", n.kind.keyword(), n.id.node))
                            .at(n.id.span, "not in an article")
                            .help("every norm cites its article: put it inside `article N \"Title\" { … }`"),
                    );
                }
                ItemKind::DataModule { name, .. } => {
                    self.error(
                        Diagnostic::error(
                            "E0119",
                            format!("data module `{}` inside a law file", name.node),
                        )
                        .at(item.span, "data modules live in their own files")
                        .help("move it to a file of its own, e.g. under `data/`"),
                    );
                }
                _ => {}
            }
        }
        // Each article's chapter.
        for i in 0..self.program.articles.len() {
            let n = self.program.articles.get(i).map(|a| a.number).unwrap_or(0);
            let ch = self
                .program
                .chapters
                .iter()
                .find(|c| (c.first..=c.last).contains(&n))
                .map(|c| c.number);
            if let Some(a) = self.program.articles.get_mut(i) {
                a.chapter = ch;
            }
        }
    }

    /// Parses `effective … until …`, checking that the period is not backwards.
    pub(crate) fn period(
        &mut self,
        effective: &Option<crate::span::Spanned<String>>,
        until: &Option<crate::span::Spanned<String>>,
    ) -> (Option<Date>, Option<Date>) {
        let mut parse = |d: &Option<crate::span::Spanned<String>>| {
            let d = d.as_ref()?;
            let parsed = Date::parse(&d.node);
            if parsed.is_none() {
                self.error(
                    Diagnostic::error("E0302", format!("invalid date `{}`", d.node))
                        .at(d.span, "no such day in the calendar"),
                );
            }
            parsed
        };
        let (from, to) = (parse(effective), parse(until));
        if let (Some(f), Some(t), Some(u)) = (from, to, until)
            && t < f
        {
            self.error(
                Diagnostic::error(
                    "E0174",
                    format!("the period ends ({t}) before it begins ({f})"),
                )
                .at(u.span, "before `effective`"),
            );
        }
        (from, to)
    }

    /// Gaps between consecutive versions of an article: days on which no version is in force.
    /// Versions of one article: a version without `until` ends the day before the next one
    /// takes effect; two versions in force on the same day are an error.
    fn article_versions(&mut self) {
        let count = self.program.articles.len();
        for i in 0..count {
            let Some(a) = self.program.articles.get(i).cloned() else {
                continue;
            };
            if a.until.is_some() || a.number == 0 {
                continue;
            }
            let next = self
                .program
                .articles
                .iter()
                .filter(|b| {
                    b.number == a.number && b.effective.is_some() && b.effective > a.effective
                })
                .filter_map(|b| b.effective)
                .min();
            if let (Some(next), Some(slot)) = (next, self.program.articles.get_mut(i)) {
                slot.until = next.add_days(-1);
            }
        }
        for i in 0..count {
            for j in 0..i {
                let (Some(a), Some(b)) =
                    (self.program.articles.get(j), self.program.articles.get(i))
                else {
                    continue;
                };
                if a.number != b.number
                    || a.number == 0
                    || !overlap((a.effective, a.until), (b.effective, b.until))
                {
                    continue;
                }
                let n = a.number;
                let msg = if b.effective.is_none() && b.until.is_none() {
                    format!("article {n} is declared twice")
                } else {
                    format!("two versions of article {n} are in force at the same time")
                };
                let (first, again) = (
                    a.span,
                    self.article_numbers.get(i).copied().unwrap_or(b.span),
                );
                self.error(
                    Diagnostic::error("E0116", msg)
                        .at(again, "again here")
                        .also(first, "first here")
                        .help("put all of an article's norms in one block, or give each version its own period (`effective …`, optionally `until …`)"),
                );
                break;
            }
        }
    }

    fn version_gaps(&mut self) {
        let mut numbers: Vec<u32> = self.program.articles.iter().map(|a| a.number).collect();
        numbers.sort_unstable();
        numbers.dedup();
        let mut found = Vec::new();
        for n in numbers {
            let mut versions: Vec<&ir::Article> = self
                .program
                .articles
                .iter()
                .filter(|a| a.number == n)
                .collect();
            if versions.len() < 2 {
                continue;
            }
            versions.sort_by_key(|a| a.effective);
            for pair in versions.windows(2) {
                let [a, b] = pair else { continue };
                let (Some(end), Some(next)) = (a.until, b.effective) else {
                    continue;
                };
                if end.add_days(1).is_some_and(|day| day < next) {
                    found.push(
                        Diagnostic::warning("W0108", format!("article {n} is not in force from {} to {}", end.add_days(1).unwrap_or(end), next.add_days(-1).unwrap_or(next)))
                            .at(b.span, "this version begins later")
                            .also(a.span, "than the previous one ends")
                            .help("make the new version effective the day after the old one ends, unless the gap is intended"),
                    );
                }
            }
        }
        self.diagnostics.extend(found);
    }

    pub(crate) fn number(&mut self, n: &crate::span::Spanned<String>) -> Option<u32> {
        match n.node.replace('_', "").parse::<u32>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.error(
                    Diagnostic::error("E0304", format!("`{}` is not a valid number here", n.node))
                        .at(n.span, "too large"),
                );
                None
            }
        }
    }

    pub(crate) fn resolve_type(&mut self, t: &ast::TypeExpr) -> Ty {
        let name = t.name.node.as_str();
        let generic = matches!(name, "set" | "list" | "ref" | "code");
        if generic == t.args.is_empty() || t.args.len() > 1 {
            let msg = if generic {
                format!("`{name}` takes one type argument: `{name}<T>`")
            } else {
                format!("`{name}` takes no type arguments")
            };
            self.error(Diagnostic::error("E0120", msg).at(t.span, "here"));
            return Ty::Error;
        }
        match name {
            "bool" => Ty::Bool,
            "int" => Ty::Int,
            "decimal" => Ty::Decimal,
            "money" => Ty::Money,
            "percentage" => Ty::Percent,
            "date" => Ty::Date,
            "duration" => Ty::Duration,
            "text" => Ty::Text,
            // A code of a vocabulary a data module publishes (checked when the case is decided,
            // against the module in force then; the schema is resolved in `vocabularies`).
            "code" => Ty::Text,
            // A number of things and a sum of money that cannot be negative (checked in facts).
            "count" => Ty::Int,
            "amount" => Ty::Money,
            // An element of the case named by its id: text, checked against the case's ids.
            "ref" => {
                let target = t.args.first().map(|a| self.resolve_type(a));
                if !matches!(target, Some(Ty::Struct(_) | Ty::Error)) {
                    self.error(
                        Diagnostic::error("E0123", "`ref` names an element of the case by its id: `ref<S>` with `S` a struct type")
                            .at(t.span, "not a struct type"),
                    );
                }
                Ty::Text
            }
            "set" | "list" => {
                let inner = t
                    .args
                    .first()
                    .map(|a| self.resolve_type(a))
                    .unwrap_or(Ty::Error);
                if name == "set" {
                    Ty::Set(Box::new(inner))
                } else {
                    Ty::List(Box::new(inner))
                }
            }
            other => match self.type_names.get(other) {
                Some(t) => t.clone(),
                None => {
                    let mut d = Diagnostic::error("E0121", format!("unknown type `{other}`"))
                        .at(t.name.span, "not a type");
                    const BUILTIN: &[&str] = crate::value::PRIMITIVE_TYPES;
                    let names: Vec<&str> = self
                        .type_names
                        .keys()
                        .map(String::as_str)
                        .chain(BUILTIN.iter().copied())
                        .collect();
                    if let Some(s) = suggest(other, names.into_iter()) {
                        d = d.help(format!("did you mean `{s}`?"));
                    } else if other == "float" || other == "number" {
                        d = d.help("Norm has no floats: use `decimal` (exact) or `int`");
                    }
                    self.error(d);
                    Ty::Error
                }
            },
        }
    }

    fn fields(&mut self, fields: &[ast::Field]) -> Vec<FieldDef> {
        let mut out: Vec<FieldDef> = Vec::new();
        for f in fields {
            if out.iter().any(|o| o.name == f.name.node) {
                self.error(
                    Diagnostic::error(
                        "E0122",
                        format!("field `{}` is declared twice", f.name.node),
                    )
                    .at(f.name.span, "again here"),
                );
                continue;
            }
            let ty = self.resolve_type(&f.ty);
            if f.optional && f.default.is_some() {
                self.error(
                    Diagnostic::error(
                        "E0129",
                        format!("field `{}` is optional and has a default", f.name.node),
                    )
                    .at(f.span, "choose one")
                    .help("a default fills in a missing value; `?` keeps it missing"),
                );
            }
            let refers = self.ref_target(&f.ty);
            out.push(FieldDef {
                name: f.name.node.clone(),
                ty,
                optional: f.optional,
                default: None,
                doc: f.doc.clone(),
                refers,
                non_negative: matches!(f.ty.name.node.as_str(), "count" | "amount"),
                vocabulary: None,
            });
        }
        out
    }

    /// The struct a `ref<S>` (or `set<ref<S>>`, `list<ref<S>>`) type names.
    fn ref_target(&self, t: &ast::TypeExpr) -> Option<u32> {
        match t.name.node.as_str() {
            "ref" => match self.type_names.get(&t.args.first()?.name.node) {
                Some(Ty::Struct(id)) => Some(*id),
                _ => None,
            },
            "set" | "list" => self.ref_target(t.args.first()?),
            _ => None,
        }
    }

    /// The data schema a `code<SCHEMA>` (or a set or list of them) type names.
    fn code_schema(t: &ast::TypeExpr) -> Option<&crate::span::Ident> {
        match t.name.node.as_str() {
            "code" => t.args.first().map(|a| &a.name),
            "set" | "list" => Self::code_schema(t.args.first()?),
            _ => None,
        }
    }

    /// Resolves `code<SCHEMA>` fields: the schema's vocabulary is its first field that holds
    /// codes, a set or list of `text`, or a list of entries with a `code: text` field.
    fn vocabularies(&mut self, items: &[(&'a ast::Item, Option<u32>)]) {
        for (item, _) in items {
            let ItemKind::Type {
                name,
                def: ast::TypeDef::Struct(fields),
            } = &item.kind
            else {
                continue;
            };
            let Some(Ty::Struct(sid)) = self.type_names.get(&name.node).cloned() else {
                continue;
            };
            for f in fields {
                let Some(schema) = Self::code_schema(&f.ty) else {
                    continue;
                };
                let Some(&si) = self.schemas.get(&schema.node) else {
                    let names: Vec<&str> = self.schemas.keys().map(String::as_str).collect();
                    let mut d =
                        Diagnostic::error("E0125", format!("no data schema `{}`", schema.node)).at(
                            schema.span,
                            "`code<S>` names a data schema whose module publishes the codes",
                        );
                    if let Some(s) = suggest(&schema.node, names.into_iter()) {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    self.error(d);
                    continue;
                };
                let holds_codes = |t: &Ty, types: &Types| match t {
                    Ty::Set(e) | Ty::List(e) => match &**e {
                        Ty::Text => true,
                        Ty::Struct(s) => types.struct_def(*s).is_some_and(|d| {
                            d.fields
                                .iter()
                                .any(|x| x.name == "code" && x.ty == Ty::Text)
                        }),
                        _ => false,
                    },
                    _ => false,
                };
                let field = self.program.schemas.get(si as usize).and_then(|s| {
                    s.fields
                        .iter()
                        .position(|x| holds_codes(&x.ty, &self.types))
                });
                let Some(fi) = field else {
                    self.error(
                        Diagnostic::error("E0126", format!("data schema `{}` publishes no codes", schema.node))
                            .at(schema.span, "no vocabulary here")
                            .help("give the schema a `set<text>` of codes, or a list of entries with `code: text`"),
                    );
                    continue;
                };
                if let Some(fd) = self
                    .types
                    .structs
                    .get_mut(sid as usize)
                    .and_then(|s| s.fields.iter_mut().find(|x| x.name == f.name.node))
                {
                    fd.vocabulary = Some((si, fi as u32));
                }
            }
        }
    }

    /// Every struct a `ref` names has an `id: text` field: that is how a case names it.
    fn refs_have_ids(&mut self, items: &[(&'a ast::Item, Option<u32>)]) {
        for (item, _) in items {
            let ItemKind::Type {
                def: ast::TypeDef::Struct(fields),
                ..
            } = &item.kind
            else {
                continue;
            };
            for f in fields {
                let Some(target) = self.ref_target(&f.ty) else {
                    continue;
                };
                let Some(s) = self.types.struct_def(target) else {
                    continue;
                };
                if !s.fields.iter().any(|x| x.name == "id" && x.ty == Ty::Text) {
                    let name = s.name.clone();
                    self.error(
                        Diagnostic::error("E0124", format!("`{name}` has no `id: text` field"))
                            .at(
                                f.ty.span,
                                format!("a `ref<{name}>` names a `{name}` by its id"),
                            )
                            .help(format!("add `id: text` to `{name}`")),
                    );
                }
            }
        }
    }

    /// Pass 2: struct fields (types may refer to each other in any order), then defaults.
    fn resolve_types(&mut self, items: &[(&'a ast::Item, Option<u32>)]) {
        let mut with_defaults = Vec::new();
        for (item, _) in items {
            if let ItemKind::Type {
                name,
                def: ast::TypeDef::Struct(fields),
            } = &item.kind
            {
                let Some(Ty::Struct(id)) = self.type_names.get(&name.node).cloned() else {
                    continue;
                };
                if self
                    .declared
                    .get(&name.node)
                    .is_some_and(|(_, s)| *s != name.span)
                {
                    continue;
                }
                let defs = self.fields(fields);
                if let Some(s) = self.types.structs.get_mut(id as usize) {
                    s.fields = defs;
                }
                with_defaults.push((id, fields));
            }
        }
        self.check_type_cycles(items);
        self.refs_have_ids(items);
        for (id, fields) in with_defaults {
            for f in fields.iter() {
                let Some(default) = &f.default else { continue };
                let Some(ty) = self
                    .types
                    .struct_def(id)
                    .and_then(|s| s.field(&f.name.node))
                    .map(|(_, fd)| fd.ty.clone())
                else {
                    continue;
                };
                let mut scope = Scope::constant();
                let e = self.check_against(
                    default,
                    &ty,
                    &mut scope,
                    &format!("the default of `{}`", f.name.node),
                );
                if let Some(v) = self.const_value(&e)
                    && let Some(fd) = self
                        .types
                        .structs
                        .get_mut(id as usize)
                        .and_then(|s| s.fields.iter_mut().find(|x| x.name == f.name.node))
                {
                    fd.default = Some(v);
                }
            }
        }
    }

    /// A struct that contains itself (directly or through other structs) has no finite value.
    /// (Inside a `list<…>` or `set<…>` it is fine: a collection may be empty.)
    fn check_type_cycles(&mut self, items: &[(&'a ast::Item, Option<u32>)]) {
        let edges: Vec<Vec<u32>> = self
            .types
            .structs
            .iter()
            .map(|s| {
                s.fields
                    .iter()
                    .filter_map(|f| {
                        if let Ty::Struct(t) = f.ty {
                            Some(t)
                        } else {
                            None
                        }
                    })
                    .collect()
            })
            .collect();
        let (_, cycles) = topo_order(&edges);
        for cycle in cycles {
            let Some(first) = cycle.first() else { continue };
            let name = self
                .types
                .structs
                .get(*first)
                .map(|d| d.name.clone())
                .unwrap_or_default();
            let span = items
                .iter()
                .find_map(|(i, _)| match &i.kind {
                    ItemKind::Type { name: n, .. } if n.node == name => Some(n.span),
                    _ => None,
                })
                .unwrap_or_default();
            self.error(
                Diagnostic::error("E0123", format!("struct `{name}` contains itself"))
                    .at(span, "a value of this type would be infinite")
                    .help("hold the inner value in a `list<…>` or `set<…>`, which may be empty"),
            );
        }
    }

    fn facts_and_schemas(&mut self, items: &[(&'a ast::Item, Option<u32>)]) {
        for (item, _) in items {
            match &item.kind {
                ItemKind::Fact { name, ty, subject } => {
                    if !self.declare_name(name, "fact") {
                        continue;
                    }
                    let ty = self.resolve_type(ty);
                    let idx = self.program.facts.len() as u32;
                    self.facts.insert(name.node.clone(), idx);
                    if subject.is_some() {
                        self.program.subjects.push(idx);
                    }
                    self.program.facts.push(ir::Fact {
                        name: name.node.clone(),
                        ty,
                        doc: item.doc.clone(),
                        subject: None,
                        span: name.span,
                    });
                }
                ItemKind::Schema { name, fields } => {
                    if !self.declare_name(name, "data schema") {
                        continue;
                    }
                    let fields = self.fields(fields);
                    for (f, ast_f) in fields.iter().zip(fields_of(item)) {
                        if ast_f.default.is_some() || ast_f.optional {
                            self.error(
                                Diagnostic::error(
                                    "E0124",
                                    format!("schema field `{}` cannot have a default", f.name),
                                )
                                .at(ast_f.span, "the data module gives every value"),
                            );
                        }
                    }
                    self.schemas
                        .insert(name.node.clone(), self.program.schemas.len() as u32);
                    self.program.schemas.push(ir::Schema {
                        name: name.node.clone(),
                        fields,
                        span: name.span,
                    });
                }
                _ => {}
            }
        }
    }

    fn collect_defs(&mut self, items: &[(&'a ast::Item, Option<u32>)]) {
        // A definition declared again in another version of the same article is a version of it.
        let mut versions: Vec<(String, Vec<u32>)> = Vec::new();
        for (item, article) in items {
            if let ItemKind::Def {
                name,
                ty,
                value,
                finding,
            } = &item.kind
            {
                let finding = finding.as_ref().map(|f| {
                    if article.is_none() {
                        self.error(
                            Diagnostic::error(
                                "E0180",
                                format!("finding `{}` cites no article", name.node),
                            )
                            .at(f.keyword, "outside an `article` block")
                            .help("declare a finding inside the `article` block whose text it characterises"),
                        );
                    }
                    ir::Finding {
                        paragraph: f.paragraph.as_ref().and_then(|p| self.number(p)),
                        item: f.item.as_ref().and_then(|i| self.number(i)),
                        when: None,
                    }
                });
                let number = |c: &Self, a: Option<u32>| {
                    a.and_then(|a| c.program.articles.get(a as usize))
                        .map(|a| a.number)
                };
                let first = self.defs.get(&name.node).copied();
                let is_version = first.is_some_and(|f| {
                    let known: Vec<u32> = versions
                        .iter()
                        .find(|(n, _)| *n == name.node)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_else(|| vec![f]);
                    article.is_some()
                        && known.iter().all(|k| {
                            let ka = self.program.defs.get(*k as usize).and_then(|d| d.article);
                            ka.is_some()
                                && ka != *article
                                && number(self, ka) == number(self, *article)
                        })
                });
                if !is_version && !self.declare_name(name, "definition") {
                    continue;
                }
                let idx = self.def_src.len() as u32;
                match (is_version, first) {
                    (true, Some(f)) => match versions.iter_mut().find(|(n, _)| *n == name.node) {
                        Some((_, v)) => v.push(idx),
                        None => versions.push((name.node.clone(), vec![f, idx])),
                    },
                    _ => {
                        self.defs.insert(name.node.clone(), idx);
                    }
                }
                self.def_src.push(DefSrc {
                    name,
                    ty: ty.as_ref(),
                    value,
                    exceptions: Vec::new(),
                });
                self.def_state.push(DefState::Pending);
                self.def_deps.push(Vec::new());
                self.program.defs.push(ir::Def {
                    name: name.node.clone(),
                    ty: Ty::Error,
                    base: None,
                    exceptions: Vec::new(),
                    article: *article,
                    versioned: false,
                    inline: false,
                    doc: item.doc.clone(),
                    finding,
                    span: name.span,
                });
            }
        }
        for (name, vs) in versions {
            let Some(first) = vs.first().and_then(|f| self.def_src.get(*f as usize)) else {
                continue;
            };
            let (src_name, value, doc, span) = (
                first.name,
                first.value,
                self.program
                    .defs
                    .get(vs.first().copied().unwrap_or(0) as usize)
                    .map(|d| d.doc.clone())
                    .unwrap_or_default(),
                first.name.span,
            );
            for v in &vs {
                if let Some(d) = self.program.defs.get_mut(*v as usize) {
                    d.versioned = true;
                }
            }
            let idx = self.def_src.len() as u32;
            self.def_src.push(DefSrc {
                name: src_name,
                ty: None,
                value,
                exceptions: Vec::new(),
            });
            self.def_state.push(DefState::Pending);
            self.def_deps.push(vs.clone());
            self.program.defs.push(ir::Def {
                name: name.clone(),
                ty: Ty::Error,
                base: None,
                exceptions: Vec::new(),
                article: None,
                versioned: false,
                inline: false,
                doc,
                finding: None,
                span,
            });
            self.defs.insert(name, idx);
            self.dispatchers.insert(idx, vs);
        }
        for (item, article) in items {
            if let ItemKind::Exception { target, .. } = &item.kind {
                // An exception refines the version of its own article.
                let target_idx =
                    self.defs
                        .get(&target.node)
                        .map(|&i| match self.dispatchers.get(&i) {
                            Some(vs) => vs
                                .iter()
                                .copied()
                                .find(|v| {
                                    self.program.defs.get(*v as usize).and_then(|d| d.article)
                                        == *article
                                })
                                .ok_or(i),
                            None => Ok(i),
                        });
                if let Some(Err(_)) = target_idx {
                    self.error(
                        Diagnostic::error(
                            "E0178",
                            format!("`{}` has versions: which one does this exception refine?", target.node),
                        )
                        .at(target.span, "outside the article versions that define it")
                        .help("put the exception inside the article version whose definition it refines"),
                    );
                    continue;
                }
                match target_idx.and_then(Result::ok) {
                    Some(i) => {
                        if let Some(src) = self.def_src.get_mut(i as usize) {
                            src.exceptions.push(item);
                        }
                    }
                    None => {
                        let mut d = Diagnostic::error(
                            "E0125",
                            format!("exception to unknown definition `{}`", target.node),
                        )
                        .at(target.span, "no such `def`");
                        if let Some(s) = suggest(&target.node, self.defs.keys().map(String::as_str))
                        {
                            d = d.help(format!("did you mean `{s}`?"));
                        } else {
                            d = d.help("an exception refines a `def`; declare the base case with `def NAME = …`");
                        }
                        self.error(d);
                    }
                }
            }
        }
    }

    /// A definition with versions reads the version in force on the decision's date:
    /// `if as_of >= start(vN) then vN else … else v1`.
    fn check_dispatcher(&mut self, idx: u32, mut vs: Vec<u32>) {
        let start = |c: &Self, v: u32| {
            c.program
                .defs
                .get(v as usize)
                .and_then(|d| d.article)
                .and_then(|a| c.program.articles.get(a as usize))
                .and_then(|a| a.effective)
        };
        vs.sort_by_key(|v| start(self, *v));
        let mut ty: Option<Ty> = None;
        for v in &vs {
            let t = self.def_type(*v, Span::default());
            match &ty {
                None => ty = Some(t),
                Some(prev) if !t.fits(prev) && !prev.fits(&t) => {
                    let (name, span) = self
                        .program
                        .defs
                        .get(*v as usize)
                        .map(|d| (d.name.clone(), d.span))
                        .unwrap_or_default();
                    let (a, b) = (self.a(&t), self.a(prev));
                    self.error(
                        Diagnostic::error(
                            "E0179",
                            format!("the versions of `{name}` have different types"),
                        )
                        .at(span, format!("this version is {a}"))
                        .note(format!("an earlier version is {b}"))
                        .help("every version of a definition must have the same type"),
                    );
                }
                Some(_) => {}
            }
        }
        let ty = ty.unwrap_or(Ty::Error);
        let span = self
            .program
            .defs
            .get(idx as usize)
            .map(|d| d.span)
            .unwrap_or_default();
        let def_expr = |v: u32| ir::Expr {
            kind: ir::ExprKind::Def(v),
            ty: ty.clone(),
            span,
        };
        let mut base = vs.first().map(|v| def_expr(*v));
        for v in vs.iter().skip(1) {
            let (Some(b), Some(from)) = (base.take(), start(self, *v)) else {
                continue;
            };
            let cond = ir::Expr {
                kind: ir::ExprKind::Bin(
                    ir::BinOp::Ge,
                    Box::new(ir::Expr {
                        kind: ir::ExprKind::AsOf,
                        ty: Ty::Date,
                        span,
                    }),
                    Box::new(ir::Expr {
                        kind: ir::ExprKind::Const(crate::value::Value::Date(from)),
                        ty: Ty::Date,
                        span,
                    }),
                ),
                ty: Ty::Bool,
                span,
            };
            base = Some(ir::Expr {
                kind: ir::ExprKind::If(Box::new(cond), Box::new(def_expr(*v)), Box::new(b)),
                ty: ty.clone(),
                span,
            });
        }
        if let Some(d) = self.program.defs.get_mut(idx as usize) {
            d.ty = ty;
            d.base = base;
        }
        if let Some(s) = self.def_state.get_mut(idx as usize) {
            *s = DefState::Done;
        }
    }

    /// The type of definition `idx`, checking it first if needed.
    pub(crate) fn def_type(&mut self, idx: u32, _use_site: Span) -> Ty {
        match self.def_state.get(idx as usize).copied() {
            Some(DefState::Done) => self
                .program
                .defs
                .get(idx as usize)
                .map(|d| d.ty.clone())
                .unwrap_or(Ty::Error),
            Some(DefState::InProgress) => {
                // A cycle (reported by `order_defs`); use the declared type if there is one.
                match self.def_src.get(idx as usize).and_then(|s| s.ty) {
                    Some(t) => self.resolve_type_quiet(t),
                    None => Ty::Error,
                }
            }
            Some(DefState::Pending) => {
                self.check_def(idx);
                self.program
                    .defs
                    .get(idx as usize)
                    .map(|d| d.ty.clone())
                    .unwrap_or(Ty::Error)
            }
            None => Ty::Error,
        }
    }

    fn resolve_type_quiet(&mut self, t: &ast::TypeExpr) -> Ty {
        let n = self.diagnostics.len();
        let ty = self.resolve_type(t);
        self.diagnostics.truncate(n);
        ty
    }

    fn check_def(&mut self, idx: u32) {
        if self.def_state.get(idx as usize) != Some(&DefState::Pending) {
            return;
        }
        if let Some(s) = self.def_state.get_mut(idx as usize) {
            *s = DefState::InProgress;
        }
        if let Some(vs) = self.dispatchers.get(&idx).cloned() {
            self.check_dispatcher(idx, vs);
            return;
        }
        let saved = self.current_article;
        self.current_article = self.program.defs.get(idx as usize).and_then(|d| d.article);
        self.check_def_body(idx);
        self.current_article = saved;
    }

    /// Inside an article version, the version of a definition declared in it; elsewhere the
    /// definition itself (for one with versions: the dispatcher, which reads the version in force).
    pub(crate) fn version_here(&self, idx: u32) -> u32 {
        match (self.dispatchers.get(&idx), self.current_article) {
            (Some(vs), Some(a)) => vs
                .iter()
                .copied()
                .find(|v| self.program.defs.get(*v as usize).and_then(|d| d.article) == Some(a))
                .unwrap_or(idx),
            _ => idx,
        }
    }

    fn check_def_body(&mut self, idx: u32) {
        let Some(src) = self.def_src.get(idx as usize) else {
            return;
        };
        let _ = src;
        let Some(src) = self.def_src.get(idx as usize) else {
            return;
        };
        let (ty_ann, value, exceptions, name) = (
            src.ty,
            src.value,
            src.exceptions.clone(),
            src.name.node.clone(),
        );
        let declared = ty_ann.map(|t| self.resolve_type(t));
        let mut scope = Scope::rules();
        let base = match &declared {
            Some(t) => self.check_against(value, t, &mut scope, &format!("the value of `{name}`")),
            None => self.expr(value, None, &mut scope),
        };
        let mut ty = declared.clone().unwrap_or_else(|| base.ty.clone());
        if ty == Ty::Never || matches!(&ty, Ty::Set(t) | Ty::List(t) if **t == Ty::Never) {
            self.error(
                Diagnostic::error("E0126", format!("cannot infer the type of `{name}`"))
                    .at(base.span, "an empty collection")
                    .help(format!("annotate it: `def {name}: set<T> = {{}}`")),
            );
            ty = Ty::Error;
        }
        let mut out_exc = Vec::new();
        for item in exceptions {
            let ItemKind::Exception {
                label,
                priority,
                when,
                value,
                ..
            } = &item.kind
            else {
                continue;
            };
            let p = match priority {
                Some(p) => match self.number(p) {
                    Some(v) => i64::from(v),
                    None => 1,
                },
                None => 1,
            };
            if p == 0
                && let Some(p) = priority
            {
                self.error(
                    Diagnostic::error("E0127", "exception priority must be at least 1")
                        .at(p.span, "the base definition has priority 0"),
                );
            }
            let w =
                self.check_against(when, &Ty::Bool, &mut scope, "the condition of an exception");
            let v =
                self.check_against(value, &ty, &mut scope, &format!("an exception to `{name}`"));
            out_exc.push(ir::DefException {
                label: label.as_ref().map(|l| l.node.clone()),
                priority: p,
                when: w,
                value: v,
                span: item.span,
            });
        }
        out_exc.sort_by_key(|x| std::cmp::Reverse(x.priority));
        if let Some(d) = self.program.defs.get_mut(idx as usize) {
            d.ty = ty;
            d.base = Some(base);
            d.exceptions = out_exc;
        }
        let mut deps = scope.deps;
        deps.sort_unstable();
        deps.dedup();
        if let Some(slot) = self.def_deps.get_mut(idx as usize) {
            *slot = deps;
        }
        if let Some(s) = self.def_state.get_mut(idx as usize) {
            *s = DefState::Done;
        }
    }

    /// Topological order of definitions; cycles are errors naming the cycle.
    fn order_defs(&mut self) {
        let (order, cycles) = topo_order(&self.def_deps);
        for cycle in cycles {
            self.report_def_cycle(&cycle);
        }
        self.program.def_order = order;
    }

    fn report_def_cycle(&mut self, cycle: &[usize]) {
        let names: Vec<String> = cycle
            .iter()
            .filter_map(|i| self.def_src.get(*i).map(|s| format!("`{}`", s.name.node)))
            .collect();
        let Some(first) = cycle.first().and_then(|i| self.def_src.get(*i)) else {
            return;
        };
        let mut d = Diagnostic::error("E0128", "definitions depend on each other in a cycle")
            .at(
                first.name.span,
                "this definition reads itself through others",
            )
            .note(format!(
                "cycle: {} → {}",
                names.join(" → "),
                names.first().cloned().unwrap_or_default()
            ));
        for i in cycle.iter().skip(1) {
            if let Some(s) = self.def_src.get(*i) {
                d = d.also(s.name.span, "part of the cycle");
            }
        }
        self.error(d.help("every evaluation must terminate: break the cycle"));
    }

    fn check_tests(&mut self, items: &[(&'a ast::Item, Option<u32>)]) {
        for (item, _) in items {
            let ItemKind::Test { name, body } = &item.kind else {
                continue;
            };
            let mut test = ir::Test {
                name: name.node.clone(),
                as_of: None,
                given: Vec::new(),
                expects: Vec::new(),
                span: item.span,
            };
            for stmt in body {
                match &stmt.kind {
                    ast::TestStmtKind::AsOf(d) => match Date::parse(&d.node) {
                        Some(date) => test.as_of = Some(date),
                        None => self.error(
                            Diagnostic::error("E0302", format!("invalid date `{}`", d.node))
                                .at(d.span, "no such day"),
                        ),
                    },
                    ast::TestStmtKind::Given(fact, e) => {
                        match self.facts.get(&fact.node).copied() {
                            Some(fi) => {
                                if test.given.iter().any(|(f, _)| *f == fi) {
                                    self.error(
                                        Diagnostic::error(
                                            "E0130",
                                            format!("fact `{}` is given twice", fact.node),
                                        )
                                        .at(fact.span, "again here"),
                                    );
                                    continue;
                                }
                                let ty = self
                                    .program
                                    .facts
                                    .get(fi as usize)
                                    .map(|f| f.ty.clone())
                                    .unwrap_or(Ty::Error);
                                let mut scope = Scope::constant();
                                let x = self.check_against(
                                    e,
                                    &ty,
                                    &mut scope,
                                    &format!("fact `{}`", fact.node),
                                );
                                test.given.push((fi, x));
                            }
                            None => {
                                let mut d = Diagnostic::error(
                                    "E0131",
                                    format!("unknown fact `{}`", fact.node),
                                )
                                .at(fact.span, "not a declared fact");
                                if let Some(s) =
                                    suggest(&fact.node, self.facts.keys().map(String::as_str))
                                {
                                    d = d.help(format!("did you mean `{s}`?"));
                                }
                                self.error(d);
                            }
                        }
                    }
                    ast::TestStmtKind::ExpectNorm {
                        kind,
                        id,
                        whom,
                        status,
                        due,
                        keep_until,
                    } => {
                        let status = status.as_ref().and_then(|s| {
                            let found = ir::Status::ALL.into_iter().find(|x| x.name() == s.node);
                            if found.is_none() {
                                let names = ir::Status::ALL.map(ir::Status::name);
                                let mut d = Diagnostic::error(
                                    "E0183",
                                    format!("`{}` is not a status", s.node),
                                )
                                .at(s.span, "not a status")
                                .note(format!("a duty is one of: {}", names.join(", ")));
                                if let Some(x) = suggest(&s.node, names.into_iter()) {
                                    d = d.help(format!("did you mean `{x}`?"));
                                }
                                self.error(d);
                            }
                            found
                        });
                        let due = due.as_ref().and_then(|d| self.test_date(d));
                        let keep_until = keep_until.as_ref().and_then(|d| self.test_date(d));
                        if let Some(n) = self.norm_ref(id, *kind) {
                            test.expects.push(ir::Expect::Norm {
                                norm: n,
                                present: true,
                                status,
                                due,
                                keep_until,
                                party: whom.party.as_ref().map(|p| p.node.clone()),
                                system: whom.system.as_ref().map(|p| p.node.clone()),
                                span: stmt.span,
                            });
                        }
                    }
                    ast::TestStmtKind::ExpectNoNorm(id, whom) => {
                        if let Some(n) = self.norm_ref(id, None) {
                            test.expects.push(ir::Expect::Norm {
                                norm: n,
                                present: false,
                                status: None,
                                due: None,
                                keep_until: None,
                                party: whom.party.as_ref().map(|p| p.node.clone()),
                                system: whom.system.as_ref().map(|p| p.node.clone()),
                                span: stmt.span,
                            });
                        }
                    }
                    ast::TestStmtKind::ExpectValue(e) => {
                        // `expect some_norm` names a norm; anything else is a condition.
                        if let ast::ExprKind::Name(n) = &e.kind
                            && self.program.norm_by_id(n).is_some()
                            && !self.defs.contains_key(n)
                            && !self.facts.contains_key(n)
                        {
                            let id = crate::span::Spanned::new(n.clone(), e.span);
                            if let Some(n) = self.norm_ref(&id, None) {
                                test.expects.push(ir::Expect::Norm {
                                    norm: n,
                                    present: true,
                                    status: None,
                                    due: None,
                                    keep_until: None,
                                    party: None,
                                    system: None,
                                    span: stmt.span,
                                });
                            }
                            continue;
                        }
                        let mut scope = Scope::rules();
                        let x = self.check_against(e, &Ty::Bool, &mut scope, "an expectation");
                        test.expects.push(ir::Expect::Holds {
                            expr: x,
                            span: stmt.span,
                        });
                    }
                    ast::TestStmtKind::ExpectConflict => {
                        test.expects.push(ir::Expect::Conflict { span: stmt.span })
                    }
                    ast::TestStmtKind::Error => {}
                }
            }
            if test.expects.is_empty() {
                self.error(
                    Diagnostic::warning("W0101", format!("test {:?} expects nothing", test.name))
                        .at(name.span, "this test cannot fail")
                        .help("add `expect …` lines"),
                );
            }
            self.program.tests.push(test);
        }
    }

    /// Facts no rule reads and data-schema fields no rule reads: declared for nothing, or a
    /// rule that forgot them.
    fn unused(&mut self) {
        // With errors, some uses were not checked: the warnings would be noise.
        if self.diagnostics.iter().any(Diagnostic::is_error) {
            return;
        }
        let mut facts = vec![false; self.program.facts.len()];
        let mut fields: Vec<Vec<bool>> = self
            .program
            .schemas
            .iter()
            .map(|s| vec![false; s.fields.len()])
            .collect();
        for e in self.program.rule_exprs() {
            e.visit(&mut |x| match &x.kind {
                crate::ir::ExprKind::Fact(i) => {
                    if let Some(u) = facts.get_mut(*i as usize) {
                        *u = true;
                    }
                }
                crate::ir::ExprKind::Data(s, f) => {
                    if let Some(u) = fields
                        .get_mut(*s as usize)
                        .and_then(|v| v.get_mut(*f as usize))
                    {
                        *u = true;
                    }
                }
                crate::ir::ExprKind::WorkingDays { schema, .. } => {
                    if let Some(v) = fields.get_mut(*schema as usize) {
                        v.iter_mut().for_each(|u| *u = true);
                    }
                }
                _ => {}
            });
        }
        let mut warnings = Vec::new();
        // A subject's collection is read by the subject; a subject, by what reads it.
        for f in &self.program.facts {
            if let Some(sub) = &f.subject
                && let Some(u) = facts.get_mut(sub.collection as usize)
            {
                *u = true;
            }
        }
        for (f, used) in self.program.facts.iter().zip(&facts) {
            if !used {
                warnings.push(
                    Diagnostic::warning("W0103", format!("fact `{}` is never used", f.name))
                        .at(f.span, "no definition or norm reads it")
                        .help("use it in a rule, or remove it so that cases need not provide it"),
                );
            }
        }
        // The calendar serves working-day arithmetic anywhere (tests, `norm expr`), not only rules.
        for (s, used) in self
            .program
            .schemas
            .iter()
            .zip(&fields)
            .filter(|(s, _)| s.name != crate::calendar::SCHEMA)
        {
            for (f, u) in s.fields.iter().zip(used) {
                if !u {
                    warnings.push(
                        Diagnostic::warning("W0104", format!("field `{}` of data schema `{}` is never read", f.name, s.name))
                            .at(s.span, "no rule reads this field")
                            .help("the regulator publishes it for nothing: use it in a rule, or remove it"),
                    );
                }
            }
        }
        self.diagnostics.extend(warnings);
    }

    /// A date a test expects (`due DATE`, `keep_until DATE`); an invalid one is an error.
    fn test_date(&mut self, d: &crate::span::Spanned<String>) -> Option<Date> {
        let parsed = Date::parse(&d.node);
        if parsed.is_none() {
            self.error(
                Diagnostic::error("E0302", format!("invalid date `{}`", d.node))
                    .at(d.span, "no such day"),
            );
        }
        parsed
    }

    fn norm_ref(&mut self, id: &Ident, kind: Option<ast::NormKind>) -> Option<u32> {
        match self.program.norm_by_id(&id.node) {
            Some((i, n)) => {
                if let Some(k) = kind
                    && n.kind != k
                {
                    let msg = format!(
                        "`{}` is {} {}, not {} {}",
                        id.node,
                        article_for(n.kind.keyword()),
                        n.kind.keyword(),
                        article_for(k.keyword()),
                        k.keyword()
                    );
                    self.error(
                        Diagnostic::error("E0132", msg)
                            .at(id.span, "wrong kind")
                            .help(format!("write `expect {} {}`", n.kind.keyword(), id.node)),
                    );
                    return None;
                }
                Some(i)
            }
            None => {
                let mut d = Diagnostic::error("E0133", format!("unknown norm `{}`", id.node))
                    .at(id.span, "no norm has this id");
                let ids: Vec<String> = self.program.norms.iter().map(|n| n.id.clone()).collect();
                if let Some(s) = suggest(&id.node, ids.iter().map(String::as_str)) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                self.error(d);
                None
            }
        }
    }
}

fn article_for(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn fields_of(item: &ast::Item) -> &[ast::Field] {
    match &item.kind {
        ItemKind::Schema { fields, .. } => fields,
        ItemKind::Type {
            def: ast::TypeDef::Struct(fields),
            ..
        } => fields,
        _ => &[],
    }
}
