//! Norms: their clauses, and the defeat relation between them.
//!
//! A norm `m` defeats a norm `n` when `m` `overrides` a target matching `n` (an id, an article,
//! a range of articles, a chapter, a tag; minus `except tagged …`), or when both regulate the
//! same act of the same addressee in opposite ways (a prohibition against a permission or an
//! obligation) and `m` has the higher priority. Opposite norms without a priority between them
//! are recorded as conflicts, reported when both apply. The defeat graph must be acyclic: a
//! cycle is a compile error, and the order computed here (defeaters first) is the order in
//! which the runtime decides.

use super::{Checker, Scope, suggest};
use crate::diagnostic::Diagnostic;
use crate::ir;
use crate::span::Span;
use crate::syntax::ast::{self, ClauseKind, ItemKind, NormKind, Target};
use crate::value::Ty;

struct Overrides<'a> {
    norm: u32,
    targets: &'a [Target],
    except: &'a [crate::span::Ident],
    span: Span,
}

impl<'a> Checker<'a> {
    /// `counterparty p in C where …`: the elements of `C` are text ids or structs with an `id`.
    fn selects_ids(&self, x: &ir::Expr) -> bool {
        let ir::ExprKind::Quant { collection, .. } = &x.kind else {
            return false;
        };
        match collection.ty.element() {
            Some(Ty::Text) => true,
            Some(Ty::Struct(sid)) => self
                .types
                .struct_def(*sid)
                .is_some_and(|s| s.fields.iter().any(|f| f.name == "id" && f.ty == Ty::Text)),
            _ => false,
        }
    }

    pub(super) fn check_norms(&mut self, items: &[(&'a ast::Item, Option<u32>)]) {
        let mut overrides: Vec<Overrides<'a>> = Vec::new();
        for (item, article) in items {
            let (ItemKind::Norm(norm), Some(article)) = (&item.kind, article) else {
                continue;
            };
            self.current_article = Some(*article);
            let idx = self.program.norms.len() as u32;
            let (mut effective, mut until) = (None, None);
            let mut n = ir::Norm {
                id: norm.id.node.clone(),
                kind: norm.kind,
                article: *article,
                paragraph: None,
                item: None,
                addressee: None,
                authority: None,
                when: None,
                due: None,
                done: None,
                violated: None,
                keep_until: None,
                counterparty: None,
                fine: None,
                per_party: false,
                text: String::new(),
                tags: Vec::new(),
                act: None,
                priority: None,
                effective: None,
                until: None,
                defeaters: Vec::new(),
                conflicts: Vec::new(),
                span: norm.id.span,
            };
            let mut seen: Vec<(&'static str, Span)> = Vec::new();
            for clause in &norm.clauses {
                let name = clause_name(&clause.kind);
                if let Some((_, prev)) = seen.iter().find(|(k, _)| *k == name && name != "error") {
                    let prev = *prev;
                    self.error(
                        Diagnostic::error("E0140", format!("`{name}` is given twice"))
                            .at(clause.span, "again here")
                            .also(prev, "first here"),
                    );
                    continue;
                }
                seen.push((name, clause.span));
                let mut scope = Scope::rules();
                match &clause.kind {
                    ClauseKind::Paragraph(p) => n.paragraph = self.number(p),
                    ClauseKind::Effective(d) => effective = Some(d.clone()),
                    ClauseKind::Until(d) => until = Some(d.clone()),
                    ClauseKind::Item(p) => n.item = self.number(p),
                    ClauseKind::Addressee(r) => n.addressee = self.lookup_named(r, true),
                    ClauseKind::Authority(a) => n.authority = self.lookup_named(a, false),
                    ClauseKind::When(e) => {
                        n.when = Some(self.check_against(
                            e,
                            &Ty::Bool,
                            &mut scope,
                            "the condition of a norm",
                        ))
                    }
                    ClauseKind::Due(e) => {
                        n.due = Some(self.check_against(e, &Ty::Date, &mut scope, "a due date"))
                    }
                    ClauseKind::Done(e) => {
                        self.clause_of(
                            norm.kind,
                            NormKind::Obligation,
                            clause.span,
                            ("E0143", "only an obligation is done"),
                            "a prohibition says when it is `violated`",
                        );
                        n.done = Some(self.check_against(
                            e,
                            &Ty::Date,
                            &mut scope,
                            "the date a duty was done",
                        ))
                    }
                    ClauseKind::Violated(e) => {
                        self.clause_of(
                            norm.kind,
                            NormKind::Prohibition,
                            clause.span,
                            ("E0144", "only a prohibition is violated"),
                            "an obligation says when it is `done`",
                        );
                        n.violated = Some(self.check_against(
                            e,
                            &Ty::Bool,
                            &mut scope,
                            "whether a prohibition is violated",
                        ))
                    }
                    ClauseKind::KeepUntil(e) => {
                        n.keep_until = Some(self.check_against(
                            e,
                            &Ty::Date,
                            &mut scope,
                            "the end of a retention period",
                        ))
                    }
                    ClauseKind::Counterparty(e, select) => {
                        let x = self.expr(e, None, &mut scope);
                        let ok = match &x.ty {
                            Ty::Text | Ty::Error => true,
                            Ty::Set(t) | Ty::List(t) => matches!(**t, Ty::Text | Ty::Never),
                            // `p in parties where …`: elements with an `id`.
                            Ty::Bool => *select && self.selects_ids(&x),
                            _ => false,
                        };
                        if !ok {
                            let shown = self.types.show(&x.ty);
                            self.error(
                                Diagnostic::error(
                                    "E0145",
                                    format!(
                                        "a counterparty is a party's id, not {}",
                                        crate::value::with_article(&format!("`{shown}`"))
                                    ),
                                )
                                .at(e.span, "names the other party by id")
                                .help("give a `ref<Party>` (a `text`), or a set or list of them"),
                            );
                        }
                        n.counterparty = Some(x);
                    }
                    ClauseKind::Text(t) => n.text = t.node.clone(),
                    ClauseKind::Act(a) => n.act = Some(a.node.clone()),
                    ClauseKind::PerParty => n.per_party = true,
                    ClauseKind::Priority(p) => n.priority = self.number(p).map(i64::from),
                    ClauseKind::Tags(ts) => n.tags = ts.iter().map(|t| t.node.clone()).collect(),
                    ClauseKind::Overrides { targets, except } => overrides.push(Overrides {
                        norm: idx,
                        targets,
                        except,
                        span: clause.span,
                    }),
                    ClauseKind::Fine { min, max } => {
                        self.clause_of(
                            norm.kind,
                            NormKind::Penalty,
                            clause.span,
                            ("E0141", "only a penalty has a fine"),
                            "declare it as `penalty`",
                        );
                        let lo = self.check_against(min, &Ty::Money, &mut scope, "a fine");
                        let hi = self.check_against(max, &Ty::Money, &mut scope, "a fine");
                        n.fine = Some((lo, hi));
                    }
                    ClauseKind::Error => {}
                }
            }
            if norm.kind == NormKind::Penalty && n.fine.is_none() {
                self.error(
                    Diagnostic::error("E0142", format!("penalty `{}` has no fine", norm.id.node))
                        .at(norm.id.span, "missing `fine MIN to MAX`")
                        .help("write e.g. `fine 10_000 CNY to 100_000 CNY`"),
                );
            }
            if n.text.is_empty() {
                self.error(
                    Diagnostic::warning(
                        "W0102",
                        format!("{} `{}` has no text", norm.kind.keyword(), norm.id.node),
                    )
                    .at(norm.id.span, "add `text \"…\"` in the law's words"),
                );
            }
            (n.effective, n.until) = self.period(&effective, &until);
            // The same id may stand in several versions of one article, never in force together.
            let version_of_existing = self.program.norms.iter().filter(|m| m.id == n.id).all(|m| {
                let same_article = self
                    .program
                    .articles
                    .get(m.article as usize)
                    .map(|a| a.number)
                    == self
                        .program
                        .articles
                        .get(n.article as usize)
                        .map(|a| a.number);
                same_article && !super::overlap(self.in_force_period(m), self.in_force_period(&n))
            }) && self.program.norms.iter().any(|m| m.id == n.id);
            if !version_of_existing && !self.declare_name(&norm.id, norm.kind.keyword()) {
                continue;
            }
            self.program.norms.push(n);
        }
        let chapters: Vec<u32> = self.program.chapters.iter().map(|c| c.number).collect();
        for o in &overrides {
            for t in o.targets {
                match t {
                    Target::Norm(id) if self.program.norm_by_id(&id.node).is_none() => {
                        let ids: Vec<String> =
                            self.program.norms.iter().map(|n| n.id.clone()).collect();
                        let mut d =
                            Diagnostic::error("E0143", format!("unknown norm `{}`", id.node))
                                .at(id.span, "nothing to override");
                        if let Some(s) = suggest(&id.node, ids.iter().map(String::as_str)) {
                            d = d.help(format!("did you mean `{s}`?"));
                        }
                        self.error(d);
                    }
                    Target::Chapter(c) => {
                        if let Some(c) = self.number(c).filter(|c| !chapters.contains(c)) {
                            let t = match t {
                                Target::Chapter(s) => s.span,
                                _ => o.span,
                            };
                            self.error(
                                Diagnostic::error("E0144", format!("there is no chapter {c}"))
                                    .at(t, "unknown chapter")
                                    .help("declare it: `chapter N \"Title\" articles A to B`"),
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
        self.current_article = None;
        self.defeat_graph(&overrides);
    }

    /// `tiers NAME over RANGE { a, b }`: between them, the norms' conditions must cover every
    /// value of the quantity in RANGE exactly once.
    pub(super) fn check_tiers(&mut self, items: &[(&'a ast::Item, Option<u32>)]) {
        use super::intervals::{constraint, quantity};
        for (item, tier_article) in items {
            let ItemKind::Tiers { name, over, norms } = &item.kind else {
                continue;
            };
            let mut scope = Scope::rules();
            let range = self.check_against(over, &Ty::Bool, &mut scope, "the range of tiers");
            if range.ty.is_error() {
                continue;
            }
            let q = match &range.kind {
                crate::ir::ExprKind::Bin(_, a, b) => {
                    quantity(&self.program, a).or_else(|| quantity(&self.program, b))
                }
                _ => None,
            };
            let declared = q
                .as_ref()
                .and_then(|q| constraint(&self.program, &range, q, 0));
            let (Some(q), Some(declared)) = (q, declared) else {
                self.error(
                    Diagnostic::error("E0147", "tiers range over one `int` quantity")
                        .at(over.span, "compare a fact with constants here")
                        .help("e.g. `tiers registry over actor.registered_users > 10_000 { … }`"),
                );
                continue;
            };
            let mut tiers = Vec::new();
            for id in norms {
                // The norm of this id in the tiers' own article version, if it has one there.
                let here = self
                    .program
                    .norms
                    .iter()
                    .enumerate()
                    .find(|(_, n)| n.id == id.node && Some(n.article) == *tier_article)
                    .map(|(i, n)| (i as u32, n));
                let Some((i, n)) = here.or_else(|| self.program.norm_by_id(&id.node)) else {
                    self.norm_ref(id, None);
                    continue;
                };
                let r = n
                    .when
                    .as_ref()
                    .and_then(|w| constraint(&self.program, w, &q, 0))
                    .unwrap_or_else(super::intervals::Ranges::all);
                tiers.push((i, id.clone(), r.intersect(&declared)));
            }
            let covered = tiers
                .iter()
                .fold(super::intervals::Ranges(Vec::new()), |acc, (_, _, r)| {
                    acc.union(r)
                });
            let gap = declared.intersect(&covered.complement());
            if !gap.is_empty() {
                let mut d = Diagnostic::warning(
                    "W0105",
                    format!(
                        "tiers `{}` leave `{q}` {} covered by no tier",
                        name.node,
                        gap.describe()
                    ),
                )
                .at(name.span, "these tiers have a gap");
                for (_, id, r) in &tiers {
                    d = d.also(id.span, format!("covers {}", r.describe()));
                }
                self.error(d.help("if the law is written so, make the gap visible (e.g. a `warning` norm); otherwise close it"));
            }
            for (k, (_, a, ra)) in tiers.iter().enumerate() {
                for (_, b, rb) in tiers.iter().skip(k + 1) {
                    let both = ra.intersect(rb);
                    if !both.is_empty() {
                        self.error(
                            Diagnostic::warning(
                                "W0106",
                                format!(
                                    "tiers `{}` and `{}` overlap: `{q}` {}",
                                    a.node,
                                    b.node,
                                    both.describe()
                                ),
                            )
                            .at(b.span, "overlaps")
                            .also(a.span, "with this tier"),
                        );
                    }
                }
            }
        }
    }

    /// A norm whose condition bounds some quantity to no value at all can never apply.
    pub(super) fn unreachable_norms(&mut self) {
        use super::intervals::{constraint, quantities};
        let mut found = Vec::new();
        for n in &self.program.norms {
            let Some(w) = &n.when else { continue };
            let mut qs = Vec::new();
            quantities(&self.program, w, &mut qs, 0);
            for q in qs {
                if constraint(&self.program, w, &q, 0).is_some_and(|r| r.is_empty()) {
                    found.push(
                        Diagnostic::warning(
                            "W0107",
                            format!("{} `{}` can never apply", n.kind.keyword(), n.id),
                        )
                        .at(
                            w.span,
                            format!("no value of `{q}` satisfies this condition"),
                        )
                        .help("check the comparisons: the bounds exclude each other"),
                    );
                    break;
                }
            }
        }
        self.diagnostics.extend(found);
    }

    /// Opposite norms on one act with no priority between them, and exceptions of one
    /// definition with the same priority and different values, whose conditions can hold
    /// together: the law leaves the case undecided (the runtime reports it as a conflict when
    /// it happens). Conditions are shown exclusive by bounds on one integer quantity that do
    /// not meet, or by a condition and its negation (`x` and `not x`, `c == a` and `c == b`).
    pub(super) fn possible_conflicts(&mut self) {
        let p = &self.program;
        let mut found = Vec::new();
        for (i, a) in p.norms.iter().enumerate() {
            for &j in &a.conflicts {
                let Some(b) = p.norms.get(j as usize).filter(|_| j as usize > i) else {
                    continue;
                };
                let (fa, ua) = self.in_force_period(a);
                let (fb, ub) = self.in_force_period(b);
                let overlap = fa.max(fb).is_none_or(|start| {
                    [ua, ub]
                        .iter()
                        .flatten()
                        .min()
                        .is_none_or(|end| start <= *end)
                });
                if !overlap || !can_hold_together(p, a.when.as_ref(), b.when.as_ref()) {
                    continue;
                }
                found.push(
                    Diagnostic::warning(
                        "W0109",
                        format!(
                            "{} `{}` and {} `{}` can apply together, with no priority between them",
                            a.kind.keyword(),
                            a.id,
                            b.kind.keyword(),
                            b.id
                        ),
                    )
                    .at(b.span, "this norm")
                    .also(a.span, "and this one, on the same act")
                    .note("when both apply, the decision reports a conflict instead of choosing")
                    .help("if the law says which prevails, give it a higher `priority` or let it `overrides` the other"),
                );
            }
        }
        for d in &p.defs {
            for (k, x) in d.exceptions.iter().enumerate() {
                for y in d.exceptions.iter().skip(k + 1) {
                    if x.priority != y.priority
                        || p.show_expr(&x.value) == p.show_expr(&y.value)
                        || !can_hold_together(p, Some(&x.when), Some(&y.when))
                    {
                        continue;
                    }
                    let name = |l: &Option<String>| {
                        l.as_ref().map(|l| format!(" `{l}`")).unwrap_or_default()
                    };
                    found.push(
                        Diagnostic::warning(
                            "W0110",
                            format!(
                                "exceptions{} and{} of `{}` can both apply, with different values and the same priority",
                                name(&x.label),
                                name(&y.label),
                                d.name
                            ),
                        )
                        .at(y.span, "this exception")
                        .also(x.span, "and this one")
                        .note("when both apply, evaluation fails with a conflict")
                        .help("give one a higher `priority`, or make their conditions exclusive"),
                    );
                }
            }
        }
        self.diagnostics.extend(found);
    }

    /// The days a norm can be in force: its article version's period and its own.
    fn in_force_period(
        &self,
        n: &ir::Norm,
    ) -> (Option<crate::date::Date>, Option<crate::date::Date>) {
        let art = self.program.articles.get(n.article as usize);
        let start = art.and_then(|a| a.effective).max(n.effective);
        let end = match (art.and_then(|a| a.until), n.until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, None) => a,
            (None, b) => b,
        };
        (start, end)
    }

    /// A clause only one kind of norm may have (`fine`, `done`, `violated`): an error on another.
    fn clause_of(
        &mut self,
        kind: NormKind,
        wanted: NormKind,
        span: Span,
        (code, message): (&'static str, &str),
        help: &str,
    ) {
        if kind == wanted {
            return;
        }
        self.error(
            Diagnostic::error(code, message)
                .at(
                    span,
                    format!(
                        "this is {} {}",
                        super::article_for(kind.keyword()),
                        kind.keyword()
                    ),
                )
                .help(help),
        );
    }

    fn lookup_named(&mut self, name: &crate::span::Ident, role: bool) -> Option<u32> {
        let list = if role {
            &self.program.roles
        } else {
            &self.program.authorities
        };
        if let Some(i) = list.iter().position(|r| r.name == name.node) {
            return Some(i as u32);
        }
        let names: Vec<String> = list.iter().map(|r| r.name.clone()).collect();
        let what = if role { "role" } else { "authority" };
        let mut d = Diagnostic::error("E0145", format!("unknown {what} `{}`", name.node))
            .at(name.span, format!("not a declared {what}"));
        if let Some(s) = suggest(&name.node, names.iter().map(String::as_str)) {
            d = d.help(format!("did you mean `{s}`?"));
        } else {
            d = d.help(format!("declare it: `{what} {} \"…\"`", name.node));
        }
        self.error(d);
        None
    }

    fn matches(&self, target: &Target, n: &ir::Norm) -> bool {
        let art = self.program.articles.get(n.article as usize);
        let num = art.map(|a| a.number).unwrap_or(0);
        let parse = |s: &crate::span::Spanned<String>| s.node.replace('_', "").parse::<u32>().ok();
        match target {
            Target::Norm(id) => n.id == id.node,
            Target::Article(a) => parse(a) == Some(num),
            Target::Articles(a, b) => {
                matches!((parse(a), parse(b)), (Some(a), Some(b)) if (a..=b).contains(&num))
            }
            Target::Chapter(c) => parse(c).is_some() && art.and_then(|a| a.chapter) == parse(c),
            Target::Tagged(t) => n.tags.contains(&t.node),
        }
    }

    fn defeat_graph(&mut self, overrides: &[Overrides<'_>]) {
        let count = self.program.norms.len();
        let mut defeaters: Vec<Vec<u32>> = vec![Vec::new(); count];
        for o in overrides {
            for (i, n) in self.program.norms.iter().enumerate() {
                if i as u32 == o.norm || o.except.iter().any(|t| n.tags.contains(&t.node)) {
                    continue;
                }
                if o.targets.iter().any(|t| self.matches(t, n))
                    && let Some(d) = defeaters.get_mut(i)
                {
                    d.push(o.norm);
                }
            }
        }
        // Opposite norms on the same act and addressee.
        let mut conflicts: Vec<Vec<u32>> = vec![Vec::new(); count];
        let norms = &self.program.norms;
        for (i, a) in norms.iter().enumerate() {
            for (j, b) in norms.iter().enumerate().skip(i + 1) {
                let same_act = a.act.is_some() && a.act == b.act && a.addressee == b.addressee;
                if !same_act || !opposite(a.kind, b.kind) {
                    continue;
                }
                match (a.priority, b.priority) {
                    (Some(p), Some(q)) if p > q => defeaters
                        .get_mut(j)
                        .into_iter()
                        .for_each(|d| d.push(i as u32)),
                    (Some(p), Some(q)) if q > p => defeaters
                        .get_mut(i)
                        .into_iter()
                        .for_each(|d| d.push(j as u32)),
                    (Some(_), None) => defeaters
                        .get_mut(j)
                        .into_iter()
                        .for_each(|d| d.push(i as u32)),
                    (None, Some(_)) => defeaters
                        .get_mut(i)
                        .into_iter()
                        .for_each(|d| d.push(j as u32)),
                    _ => {
                        // Not resolved by priority: unless one already overrides the other.
                        let ij = defeaters.get(j).is_some_and(|d| d.contains(&(i as u32)));
                        let ji = defeaters.get(i).is_some_and(|d| d.contains(&(j as u32)));
                        if !ij && !ji {
                            conflicts
                                .get_mut(i)
                                .into_iter()
                                .for_each(|c| c.push(j as u32));
                            conflicts
                                .get_mut(j)
                                .into_iter()
                                .for_each(|c| c.push(i as u32));
                        }
                    }
                }
            }
        }
        for (i, (d, c)) in defeaters.into_iter().zip(conflicts).enumerate() {
            if let Some(n) = self.program.norms.get_mut(i) {
                let mut d = d;
                d.sort_unstable();
                d.dedup();
                n.defeaters = d;
                n.conflicts = c;
            }
        }
        self.order_norms();
    }

    /// Orders norms so that every defeater comes before the norms it defeats; reports cycles.
    fn order_norms(&mut self) {
        let succ: Vec<Vec<u32>> = self
            .program
            .norms
            .iter()
            .map(|n| n.defeaters.clone())
            .collect();
        let (order, cycles) = super::topo_order(&succ);
        for cycle in cycles {
            self.report_norm_cycle(&cycle);
        }
        self.program.norm_order = order;
    }

    fn report_norm_cycle(&mut self, cycle: &[usize]) {
        let norms: Vec<&ir::Norm> = cycle
            .iter()
            .filter_map(|i| self.program.norms.get(*i))
            .collect();
        let Some(first) = norms.first() else { return };
        let names: Vec<String> = norms.iter().map(|n| format!("`{}`", n.id)).collect();
        let mut d = Diagnostic::error("E0146", "exceptions form a cycle")
            .at(first.span, "this norm defeats itself through others")
            .note(format!(
                "each defeats the one before it: {} ← {}",
                names.join(" ← "),
                names.first().cloned().unwrap_or_default()
            ));
        for n in norms.iter().skip(1) {
            d = d.also(n.span, "part of the cycle");
        }
        let d = d.help(
            "decide which prevails: remove one `overrides`, or narrow it with `except tagged …`",
        );
        self.error(d);
    }
}

/// Norm kinds that cannot both bind the same addressee for the same act.
fn opposite(a: NormKind, b: NormKind) -> bool {
    use NormKind::*;
    matches!(
        (a, b),
        (Prohibition, Permission)
            | (Permission, Prohibition)
            | (Prohibition, Obligation)
            | (Obligation, Prohibition)
            | (Prohibition, Right)
            | (Right, Prohibition)
    )
}

fn clause_name(c: &ClauseKind) -> &'static str {
    match c {
        ClauseKind::Paragraph(_) => "paragraph",
        ClauseKind::Item(_) => "item",
        ClauseKind::Addressee(_) => "addressee",
        ClauseKind::Authority(_) => "authority",
        ClauseKind::When(_) => "when",
        ClauseKind::Due(_) => "due",
        ClauseKind::Done(_) => "done",
        ClauseKind::Violated(_) => "violated",
        ClauseKind::KeepUntil(_) => "keep_until",
        ClauseKind::Counterparty(..) => "counterparty",
        ClauseKind::Text(_) => "text",
        ClauseKind::Act(_) => "act",
        ClauseKind::PerParty => "per party",
        ClauseKind::Effective(_) => "effective",
        ClauseKind::Until(_) => "until",
        ClauseKind::Priority(_) => "priority",
        ClauseKind::Tags(_) => "tags",
        ClauseKind::Overrides { .. } => "overrides",
        ClauseKind::Fine { .. } => "fine",
        ClauseKind::Error => "error",
    }
}

/// A condition's parts that must all hold: `x`, `not x`, `q == constant`.
#[derive(PartialEq)]
enum Lit {
    Holds(String, bool),
    Is(String, String),
}

fn literals(p: &ir::Program, e: &ir::Expr, out: &mut Vec<Lit>, depth: u32) {
    use ir::{BinOp, ExprKind};
    if depth > 8 {
        return;
    }
    match &e.kind {
        ExprKind::Bin(BinOp::And, a, b) => {
            literals(p, a, out, depth);
            literals(p, b, out, depth);
        }
        ExprKind::Not(x) if x.ty == Ty::Bool && x.is_case_value() => {
            out.push(Lit::Holds(p.show_expr(x), false));
        }
        ExprKind::Bin(BinOp::Eq, a, b) if a.is_case_value() => {
            if let ExprKind::Const(v) = &b.kind {
                out.push(Lit::Is(p.show_expr(a), p.types.show_value(v)));
            }
        }
        _ if e.ty == Ty::Bool && e.is_case_value() => {
            out.push(Lit::Holds(p.show_expr(e), true));
            if let ExprKind::Def(i) = &e.kind
                && let Some(d) = p.defs.get(*i as usize)
                && d.exceptions.is_empty()
                && let Some(base) = &d.base
            {
                literals(p, base, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// Whether two conditions (absent: always) may hold in one case, as far as bounds on integer
/// quantities and contradictory literals can tell (when unsure: yes).
fn can_hold_together(p: &ir::Program, a: Option<&ir::Expr>, b: Option<&ir::Expr>) -> bool {
    use super::intervals::{Ranges, constraint, quantities};
    let (Some(a), Some(b)) = (a, b) else {
        return true;
    };
    let mut qs = Vec::new();
    quantities(p, a, &mut qs, 0);
    quantities(p, b, &mut qs, 0);
    for q in &qs {
        let ra = constraint(p, a, q, 0).unwrap_or_else(Ranges::all);
        let rb = constraint(p, b, q, 0).unwrap_or_else(Ranges::all);
        if ra.intersect(&rb).is_empty() {
            return false;
        }
    }
    let (mut la, mut lb) = (Vec::new(), Vec::new());
    literals(p, a, &mut la, 0);
    literals(p, b, &mut lb, 0);
    !la.iter().any(|x| {
        lb.iter().any(|y| match (x, y) {
            (Lit::Holds(k, s), Lit::Holds(k2, s2)) => k == k2 && s != s2,
            (Lit::Is(k, v), Lit::Is(k2, v2)) => k == k2 && v != v2,
            _ => false,
        })
    })
}
