//! The checked, typed IR: what the runtime executes (the interpreter walks it; the JIT compiles
//! it). Every name is resolved to an index, every expression carries its type, and the orders
//! the runtime needs (definitions before their users, defeating norms before the norms they
//! defeat) are computed here once.
//!
//! Invariant: a [`Program`] handed to the runtime came from a check with no errors, so every
//! index is in range and every expression is well typed.

use crate::date::Date;
use crate::span::Span;
use crate::syntax::ast::{NormKind, Quantifier};
use crate::value::{FieldDef, Ty, Types, Value};
use std::fmt::{self, Write as _};

#[derive(Clone, Debug, Default)]
pub struct Program {
    pub law: Law,
    pub types: Types,
    pub roles: Vec<Named>,
    pub authorities: Vec<Named>,
    pub chapters: Vec<Chapter>,
    pub articles: Vec<Article>,
    pub facts: Vec<Fact>,
    pub schemas: Vec<Schema>,
    pub defs: Vec<Def>,
    /// Definitions in evaluation order: each after every definition it reads.
    pub def_order: Vec<u32>,
    pub norms: Vec<Norm>,
    /// Norms in decision order: each after every norm that may defeat it.
    pub norm_order: Vec<u32>,
    pub tests: Vec<Test>,
    /// The subject facts, in declaration order (the first names the party a norm binds, the
    /// second the system it concerns); empty: one decision for the whole case.
    pub subjects: Vec<u32>,
    pub reach: Reach,
}

#[derive(Clone, Debug, Default)]
pub struct Law {
    pub name: String,
    pub title: String,
    /// The first version's (the law as enacted).
    pub version: String,
    /// When some version of the law is in force (both inclusive; `None`: unbounded).
    pub effective: Option<Date>,
    pub until: Option<Date>,
    /// Its versions (one `law` header each), in time order, periods consecutive.
    pub versions: Vec<LawVersion>,
}

/// One version of a law: in force from `effective` to `until` (both inclusive). A version
/// without `until` ends the day before the next version takes effect.
#[derive(Clone, Debug)]
pub struct LawVersion {
    pub version: String,
    pub title: String,
    pub effective: Option<Date>,
    pub until: Option<Date>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Named {
    pub name: String,
    pub label: String,
}

#[derive(Clone, Debug)]
pub struct Chapter {
    pub number: u32,
    pub title: String,
    pub first: u32,
    pub last: u32,
}

#[derive(Clone, Debug)]
pub struct Article {
    pub number: u32,
    pub title: String,
    /// The article's text, from the `///` lines above it.
    pub text: Vec<String>,
    pub chapter: Option<u32>,
    /// This version of the article is in force from `effective` to `until` (both inclusive).
    pub effective: Option<Date>,
    pub until: Option<Date>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Fact {
    pub name: String,
    pub ty: Ty,
    pub doc: Vec<String>,
    /// A subject (`fact actor: Party in parties`): not given by a case, but bound in turn to
    /// each element of another fact, the case decided for each.
    pub subject: Option<Subject>,
    pub span: Span,
}

/// What a subject fact ranges over.
#[derive(Clone, Debug)]
pub struct Subject {
    /// The fact (a `list<T>`) whose elements the subject takes in turn.
    pub collection: u32,
    /// Only the combinations of subjects where this holds (it reads facts only).
    pub filter: Option<Expr>,
}

/// Which subjects an expression, definition or norm depends on: bit `k` for the `k`-th subject
/// (0: the party, 1: the system). A norm that does not depend on the system is decided once
/// per party; one that depends on no subject, once per case.
pub type Reads = u8;

/// What every definition and norm depends on, in subjects ([`Reads`]).
#[derive(Clone, Debug, Default)]
pub struct Reach {
    pub defs: Vec<Reads>,
    pub norms: Vec<Reads>,
}

#[derive(Clone, Debug)]
pub struct Schema {
    pub name: String,
    pub fields: Vec<FieldDef>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Def {
    pub name: String,
    pub ty: Ty,
    pub base: Option<Expr>,
    /// Sorted by priority, highest first.
    pub exceptions: Vec<DefException>,
    pub article: Option<u32>,
    /// One version of a definition declared in several versions of its article: decided only
    /// while its article version is in force (the definition's name reads, through a
    /// dispatching definition, the version in force on the decision's date).
    pub versioned: bool,
    /// A definition whose value may be absent (a first or last date over events, an optional
    /// field): not decided on its own, but expanded where it is read (`check::inline`), so that
    /// a `due` or `done` reading it is unknown rather than an error.
    pub inline: bool,
    pub doc: Vec<String>,
    /// A finding (`finding NAME …`): a legal characterisation, reported in the Decision with
    /// its citation and whether it holds.
    pub finding: Option<Finding>,
    pub span: Span,
}

/// Where a finding cites its article (the article is the definition's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Finding {
    pub paragraph: Option<u32>,
    pub item: Option<u32>,
    /// The definition that must hold for the finding to be reported (`when DEF`).
    pub when: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct DefException {
    pub label: Option<String>,
    pub priority: i64,
    pub when: Expr,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Norm {
    pub id: String,
    pub kind: NormKind,
    /// Index into [`Program::articles`].
    pub article: u32,
    pub paragraph: Option<u32>,
    pub item: Option<u32>,
    pub addressee: Option<u32>,
    pub authority: Option<u32>,
    pub when: Option<Expr>,
    pub due: Option<Expr>,
    /// When an event of the case shows the duty done (reading an absent value: not done).
    pub done: Option<Expr>,
    /// Whether the case's events show the prohibited conduct.
    pub violated: Option<Expr>,
    /// The end of a retention period.
    pub keep_until: Option<Expr>,
    /// The other party or parties the duty concerns, by id (`text` or a set or list of it).
    pub counterparty: Option<Expr>,
    pub fine: Option<(Expr, Expr)>,
    /// `per party`: one act of the party whatever the systems it is decided for; reported
    /// once per party (the Decision merges the party's systems).
    pub per_party: bool,
    pub text: String,
    pub tags: Vec<String>,
    pub act: Option<String>,
    pub priority: Option<i64>,
    /// The norm's own period of validity, within its article's.
    pub effective: Option<Date>,
    pub until: Option<Date>,
    /// Norms that defeat this one when they apply (by `overrides` or by a higher priority).
    pub defeaters: Vec<u32>,
    /// Norms that conflict with this one, with no priority between them.
    pub conflicts: Vec<u32>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Test {
    pub name: String,
    pub as_of: Option<Date>,
    /// Fact index and its value (a constant expression).
    pub given: Vec<(u32, Expr)>,
    pub expects: Vec<Expect>,
    pub span: Span,
}

/// The status of a duty on the decision's date (DESIGN §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The due date is after the decision date, and nothing shows the duty done.
    Pending,
    /// Done on or before its due date.
    Fulfilled,
    /// Done after its due date.
    FulfilledLate,
    /// The due date has passed and nothing shows the duty done.
    Overdue,
    /// A duty without a deadline, or a prohibition the case does not show violated.
    Standing,
    /// A prohibition the case's events show violated.
    Violated,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Pending,
        Status::Fulfilled,
        Status::FulfilledLate,
        Status::Overdue,
        Status::Standing,
        Status::Violated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Fulfilled => "fulfilled",
            Status::FulfilledLate => "fulfilled_late",
            Status::Overdue => "overdue",
            Status::Standing => "standing",
            Status::Violated => "violated",
        }
    }

    /// The status of a duty of `kind`: `due` its due date (if it has one and it is known),
    /// `has_due` whether it has a deadline at all, `done` the date an event shows it done,
    /// `violated` whether the case shows a prohibited conduct. An event dated after the decision
    /// date has not happened yet as of that date: it does not count.
    pub fn of(
        kind: crate::syntax::ast::NormKind,
        as_of: Date,
        has_due: bool,
        due: Option<Date>,
        done: Option<Date>,
        violated: bool,
    ) -> Option<Status> {
        use crate::syntax::ast::NormKind;
        match kind {
            NormKind::Prohibition => Some(if violated {
                Status::Violated
            } else {
                Status::Standing
            }),
            NormKind::Obligation => {
                let done = done.filter(|d| *d <= as_of);
                Some(match (has_due, due, done) {
                    (_, Some(due), Some(d)) if d <= due => Status::Fulfilled,
                    (_, Some(_), Some(_)) => Status::FulfilledLate,
                    (_, None, Some(_)) => Status::Fulfilled,
                    (_, Some(due), None) if due < as_of => Status::Overdue,
                    (_, Some(_), None) => Status::Pending,
                    // A deadline that cannot be computed: nothing shows it passed.
                    (true, None, None) => Status::Pending,
                    (false, None, None) => Status::Standing,
                })
            }
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Expect {
    /// The norm applies (`present`) or does not.
    Norm {
        norm: u32,
        present: bool,
        /// With `status NAME`: the status the duty must have.
        status: Option<Status>,
        /// With `due DATE`: its due date.
        due: Option<Date>,
        /// With `keep_until DATE`: the end of its retention period.
        keep_until: Option<Date>,
        /// With `party "ID"`: the party it binds; with `on "ID"`: the system it concerns.
        party: Option<String>,
        system: Option<String>,
        span: Span,
    },
    /// A boolean expression over facts and definitions holds.
    Holds { expr: Expr, span: Span },
    /// The decision reports a conflict.
    Conflict { span: Span },
}

/// A data module: values published for one schema, effective from a date.
#[derive(Clone, Debug)]
pub struct DataModule {
    pub schema: u32,
    pub name: String,
    pub version: String,
    pub effective: Date,
    /// One value per schema field, in the schema's order.
    pub values: Vec<Value>,
    /// The working-day table, for a `calendar` module.
    pub calendar: Option<std::sync::Arc<crate::calendar::WorkingDayCalendar>>,
    /// The SHA-256 of the source the module was read from (lowercase hex), which a Decision
    /// records beside the version.
    pub hash: String,
    pub span: Span,
}

/// The SHA-256 of a module's source, as lowercase hex.
pub fn source_hash(source: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(source)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    And,
    Or,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Min,
    Max,
    Size,
    Days,
    Months,
    Years,
    WorkingDays,
    /// `present(x.f)`: whether the case gives the optional field `f` (its one argument is always
    /// a field access of an optional field).
    Present,
}

/// The functions a rule may call, by name (for "did you mean" and completion).
pub const BUILTIN_FUNCTIONS: &[&str] = &[
    "min",
    "max",
    "size",
    "days",
    "months",
    "years",
    "working_days",
    "period_end",
    "present",
];

impl Builtin {
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Min => "min",
            Builtin::Max => "max",
            Builtin::Size => "size",
            Builtin::Days => "days",
            Builtin::Months => "months",
            Builtin::Years => "years",
            Builtin::WorkingDays => "working_days",
            Builtin::Present => "present",
        }
    }
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Const(Value),
    Fact(u32),
    /// Schema index and field index.
    Data(u32, u32),
    Def(u32),
    /// A quantifier's variable, by nesting level (0 = outermost).
    Local(u32),
    Field(Box<Expr>, u32),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Quant {
        q: Quantifier,
        level: u32,
        collection: Box<Expr>,
        /// `earliest`/`latest` only (the checker folds other filters into the body).
        filter: Option<Box<Expr>>,
        body: Box<Expr>,
    },
    Set(Vec<Expr>),
    List(Vec<Expr>),
    Struct(u32, Vec<Expr>),
    Call(Builtin, Vec<Expr>),
    /// `int` widened to `decimal`.
    ToDecimal(Box<Expr>),
    /// `period_end(start, period)`: the last day of a period counted in calendar days, months or
    /// years, moved to the next working day when it falls on a day off (PRC Civil Code Arts.
    /// 201, 203), on the calendar of data schema `schema`.
    PeriodEnd {
        start: Box<Expr>,
        period: Box<Expr>,
        schema: u32,
    },
    /// The date the case is decided as of (`as_of`).
    AsOf,
    /// `date ± n working days`, on the calendar of data schema `schema`.
    WorkingDays {
        date: Box<Expr>,
        count: Box<Expr>,
        schema: u32,
        backwards: bool,
    },
}

impl Expr {
    /// Gives an expression whose type has `nothing` inside (an empty `{}` or `[]`, or an `if`
    /// of them) the type its context needs, so every expression the runtime sees has a
    /// concrete type (compiled code lays values out by type).
    pub fn settle(&mut self, want: &Ty) {
        if !self.ty.has_never() || want.has_never() || want.is_error() || !self.ty.fits(want) {
            return;
        }
        match &mut self.kind {
            ExprKind::If(_, t, f) => {
                t.settle(want);
                f.settle(want);
            }
            ExprKind::Set(items) | ExprKind::List(items) => {
                if let Some(el) = want.element() {
                    for i in items {
                        i.settle(el);
                    }
                }
            }
            _ => {}
        }
        self.ty = want.clone();
    }

    /// A value the case or the data states: a fact, a data field, a definition, or a field of
    /// one of these (no quantifier variable inside).
    pub fn is_case_value(&self) -> bool {
        match &self.kind {
            ExprKind::Fact(_) | ExprKind::Data(..) | ExprKind::Def(_) => true,
            ExprKind::Field(b, _) => b.is_case_value(),
            _ => false,
        }
    }

    /// Calls `f` on this expression and every expression inside it (iteratively: no deep
    /// recursion however nested the expression is).
    pub fn visit(&self, f: &mut impl FnMut(&Expr)) {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            f(e);
            e.children(&mut |c| stack.push(c));
        }
    }

    /// Calls `f` on each expression directly inside this one (a quantifier's collection, then
    /// its filter, then its body).
    pub fn children<'e>(&'e self, f: &mut impl FnMut(&'e Expr)) {
        children!(&self.kind, f, iter)
    }

    /// [`Expr::children`], mutably.
    pub fn children_mut(&mut self, f: &mut impl FnMut(&mut Expr)) {
        children!(&mut self.kind, f, iter_mut)
    }
}

/// The one walk over an expression's direct children, for `children` and `children_mut`.
macro_rules! children {
    ($kind:expr, $f:ident, $iter:ident) => {
        match $kind {
            ExprKind::Const(_)
            | ExprKind::Fact(_)
            | ExprKind::Data(..)
            | ExprKind::Def(_)
            | ExprKind::AsOf
            | ExprKind::Local(_) => {}
            ExprKind::Field(x, _)
            | ExprKind::Not(x)
            | ExprKind::Neg(x)
            | ExprKind::ToDecimal(x) => $f(x),
            ExprKind::Bin(_, a, b) => {
                $f(a);
                $f(b);
            }
            ExprKind::If(a, b, c) => {
                $f(a);
                $f(b);
                $f(c);
            }
            ExprKind::Quant {
                collection,
                filter,
                body,
                ..
            } => {
                $f(collection);
                if let Some(x) = filter {
                    $f(x);
                }
                $f(body);
            }
            ExprKind::WorkingDays { date, count, .. } => {
                $f(date);
                $f(count);
            }
            ExprKind::PeriodEnd { start, period, .. } => {
                $f(start);
                $f(period);
            }
            ExprKind::Set(xs)
            | ExprKind::List(xs)
            | ExprKind::Struct(_, xs)
            | ExprKind::Call(_, xs) => xs.$iter().for_each($f),
        }
    };
}
use children;

impl Program {
    /// Every expression of the rules (definitions and norms; not tests).
    pub fn rule_exprs(&self) -> Vec<&Expr> {
        let mut out = Vec::new();
        for d in &self.defs {
            out.extend(d.base.iter());
            for x in &d.exceptions {
                out.push(&x.when);
                out.push(&x.value);
            }
        }
        for n in &self.norms {
            out.extend(n.when.iter());
            out.extend(n.due.iter());
            if let Some((a, b)) = &n.fine {
                out.push(a);
                out.push(b);
            }
        }
        out
    }
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }
}

/// Whether `d` lies in the period `from..=to` (open ends unbounded).
pub fn in_period(d: Date, from: Option<Date>, to: Option<Date>) -> bool {
    from.is_none_or(|f| f <= d) && to.is_none_or(|t| d <= t)
}

impl Program {
    /// The version of the law in force on `d`.
    pub fn law_version(&self, d: Date) -> Option<&LawVersion> {
        self.law
            .versions
            .iter()
            .find(|v| in_period(d, v.effective, v.until))
    }

    /// The definition is decided on `d`: an unversioned one always; a version while its
    /// article version is in force.
    pub fn def_in_force(&self, def: &Def, d: Date) -> bool {
        !def.versioned
            || def
                .article
                .and_then(|a| self.articles.get(a as usize))
                .is_none_or(|a| in_period(d, a.effective, a.until))
    }

    /// The norm is in force on `d`: its law, its article's version and its own period cover it.
    pub fn norm_in_force(&self, norm: &Norm, d: Date) -> bool {
        let art = self.article(norm);
        in_period(d, self.law.effective, self.law.until)
            && art.is_none_or(|a| in_period(d, a.effective, a.until))
            && in_period(d, norm.effective, norm.until)
    }

    pub fn norm_by_id(&self, id: &str) -> Option<(u32, &Norm)> {
        self.norms
            .iter()
            .enumerate()
            .find(|(_, n)| n.id == id)
            .and_then(|(i, n)| u32::try_from(i).ok().map(|i| (i, n)))
    }

    pub fn schema_by_name(&self, name: &str) -> Option<(u32, &Schema)> {
        self.schemas
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == name)
            .and_then(|(i, s)| u32::try_from(i).ok().map(|i| (i, s)))
    }

    pub fn article(&self, norm: &Norm) -> Option<&Article> {
        self.articles.get(norm.article as usize)
    }

    /// Renders an expression in source-like form with resolved names.
    pub fn show_expr(&self, e: &Expr) -> String {
        let mut s = String::new();
        self.write_expr(&mut s, e, 0);
        s
    }

    fn write_expr(&self, out: &mut String, e: &Expr, depth: u32) {
        let _ = match &e.kind {
            ExprKind::Const(v) => write!(out, "{}", self.types.show_value(v)),
            ExprKind::AsOf => write!(out, "as_of"),
            ExprKind::Fact(i) => write!(
                out,
                "{}",
                self.facts
                    .get(*i as usize)
                    .map(|f| f.name.as_str())
                    .unwrap_or("?")
            ),
            ExprKind::Data(s, f) => {
                let schema = self.schemas.get(*s as usize);
                write!(
                    out,
                    "{}.{}",
                    schema.map(|s| s.name.as_str()).unwrap_or("?"),
                    schema
                        .and_then(|s| s.fields.get(*f as usize))
                        .map(|f| f.name.as_str())
                        .unwrap_or("?")
                )
            }
            ExprKind::Def(i) => write!(
                out,
                "{}",
                self.defs
                    .get(*i as usize)
                    .map(|d| d.name.as_str())
                    .unwrap_or("?")
            ),
            ExprKind::Local(l) => write!(out, "${l}"),
            ExprKind::Field(base, i) => {
                self.write_expr(out, base, depth + 1);
                let name = match &base.ty {
                    Ty::Struct(s) => self
                        .types
                        .struct_def(*s)
                        .and_then(|d| d.fields.get(*i as usize))
                        .map(|f| f.name.clone()),
                    _ => None,
                };
                write!(out, ".{}", name.unwrap_or_else(|| i.to_string()))
            }
            ExprKind::Not(x) => {
                out.push_str("not ");
                self.write_expr(out, x, depth + 1);
                Ok(())
            }
            ExprKind::Neg(x) => {
                out.push('-');
                self.write_expr(out, x, depth + 1);
                Ok(())
            }
            ExprKind::Bin(op, a, b) => {
                if depth > 0 {
                    out.push('(');
                }
                self.write_expr(out, a, depth + 1);
                let _ = write!(out, " {} ", op.symbol());
                self.write_expr(out, b, depth + 1);
                if depth > 0 {
                    out.push(')');
                }
                Ok(())
            }
            ExprKind::If(c, t, f) => {
                out.push_str("(if ");
                self.write_expr(out, c, 0);
                out.push_str(" then ");
                self.write_expr(out, t, 0);
                out.push_str(" else ");
                self.write_expr(out, f, 0);
                out.push(')');
                Ok(())
            }
            ExprKind::Quant {
                q,
                level,
                collection,
                filter,
                body,
            } => {
                let _ = write!(out, "({} ${level} in ", q.keyword());
                self.write_expr(out, collection, depth + 1);
                if let Some(f) = filter {
                    out.push_str(" where ");
                    self.write_expr(out, f, 0);
                }
                out.push_str(": ");
                self.write_expr(out, body, 0);
                out.push(')');
                Ok(())
            }
            ExprKind::Set(items) | ExprKind::List(items) => {
                let (open, close) = if matches!(e.kind, ExprKind::Set(_)) {
                    ('{', '}')
                } else {
                    ('[', ']')
                };
                out.push(open);
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.write_expr(out, x, 0);
                }
                out.push(close);
                Ok(())
            }
            ExprKind::Struct(id, fields) => {
                let def = self.types.struct_def(*id);
                let _ = write!(out, "{} {{ ", def.map(|d| d.name.as_str()).unwrap_or("?"));
                for (i, x) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let name = def
                        .and_then(|d| d.fields.get(i))
                        .map(|f| f.name.as_str())
                        .unwrap_or("?");
                    let _ = write!(out, "{name}: ");
                    self.write_expr(out, x, 0);
                }
                out.push_str(" }");
                Ok(())
            }
            ExprKind::Call(b, args) => {
                let _ = write!(out, "{}(", b.name());
                for (i, x) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.write_expr(out, x, 0);
                }
                out.push(')');
                Ok(())
            }
            ExprKind::PeriodEnd { start, period, .. } => {
                out.push_str("period_end(");
                self.write_expr(out, start, 0);
                out.push_str(", ");
                self.write_expr(out, period, 0);
                out.push(')');
                Ok(())
            }
            ExprKind::WorkingDays {
                date,
                count,
                backwards,
                ..
            } => {
                self.write_expr(out, date, depth + 1);
                out.push_str(if *backwards { " - " } else { " + " });
                self.write_expr(out, count, depth + 1);
                Ok(())
            }
            ExprKind::ToDecimal(x) => {
                out.push_str("decimal(");
                self.write_expr(out, x, 0);
                out.push(')');
                Ok(())
            }
        };
    }
}

/// A readable listing of the whole program, for snapshot tests and `norm check --ir`.
impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "law {} {:?} version {:?}",
            self.law.name, self.law.title, self.law.version
        )?;
        for e in &self.types.enums {
            writeln!(f, "enum {} {{ {} }}", e.name, e.variants.join(", "))?;
        }
        for s in &self.types.structs {
            let fields: Vec<String> = s
                .fields
                .iter()
                .map(|fd| match &fd.default {
                    Some(v) => format!(
                        "{}: {} = {}",
                        fd.name,
                        self.types.show(&fd.ty),
                        self.types.show_value(v)
                    ),
                    None => format!("{}: {}", fd.name, self.types.show(&fd.ty)),
                })
                .collect();
            writeln!(f, "struct {} {{ {} }}", s.name, fields.join(", "))?;
        }
        for fact in &self.facts {
            match fact
                .subject
                .as_ref()
                .and_then(|s| self.facts.get(s.collection as usize))
            {
                Some(c) => writeln!(
                    f,
                    "fact {}: {} in {}",
                    fact.name,
                    self.types.show(&fact.ty),
                    c.name
                )?,
                None => writeln!(f, "fact {}: {}", fact.name, self.types.show(&fact.ty))?,
            }
        }
        for s in &self.schemas {
            let fields: Vec<String> = s
                .fields
                .iter()
                .map(|fd| format!("{}: {}", fd.name, self.types.show(&fd.ty)))
                .collect();
            writeln!(f, "schema {} {{ {} }}", s.name, fields.join(", "))?;
        }
        for &i in &self.def_order {
            let Some(d) = self.defs.get(i as usize) else {
                continue;
            };
            write!(f, "def {}: {}", d.name, self.types.show(&d.ty))?;
            if d.inline {
                write!(f, " (may be absent: expanded where read)")?;
            }
            if let Some(b) = &d.base {
                write!(f, " = {}", self.show_expr(b))?;
            }
            writeln!(f)?;
            for x in &d.exceptions {
                writeln!(
                    f,
                    "  | priority {} when {} = {}",
                    x.priority,
                    self.show_expr(&x.when),
                    self.show_expr(&x.value)
                )?;
            }
        }
        for &i in &self.norm_order {
            let Some(n) = self.norms.get(i as usize) else {
                continue;
            };
            let art = self.article(n).map(|a| a.number).unwrap_or(0);
            write!(f, "{} {} (art. {art}", n.kind.keyword(), n.id)?;
            if let Some(p) = n.paragraph {
                write!(f, "({p})")?;
            }
            write!(f, ")")?;
            if let Some(w) = &n.when {
                write!(f, " when {}", self.show_expr(w))?;
            }
            if let Some(d) = &n.due {
                write!(f, " due {}", self.show_expr(d))?;
            }
            if let Some((lo, hi)) = &n.fine {
                write!(f, " fine {} to {}", self.show_expr(lo), self.show_expr(hi))?;
            }
            if !n.defeaters.is_empty() {
                let names: Vec<&str> = n
                    .defeaters
                    .iter()
                    .filter_map(|d| self.norms.get(*d as usize).map(|n| n.id.as_str()))
                    .collect();
                write!(f, " defeated by {}", names.join(", "))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

impl Program {
    /// The subject a fact is (its position among the subjects), if it is one.
    pub fn subject_of(&self, fact: u32) -> Option<usize> {
        self.subjects.iter().position(|&f| f == fact)
    }

    /// The subjects an expression reads, directly or through the definitions it names
    /// (`defs`: what each definition reads, for those computed so far).
    pub fn expr_reads(&self, e: &Expr, defs: &[Reads]) -> Reads {
        let mut r: Reads = 0;
        e.visit(&mut |x| match &x.kind {
            ExprKind::Fact(i) => {
                if let Some(k) = self.subject_of(*i) {
                    r |= 1 << k.min(7);
                }
            }
            ExprKind::Def(d) => r |= defs.get(*d as usize).copied().unwrap_or(0),
            _ => {}
        });
        r
    }

    /// What every definition and norm depends on ([`Reach`]). A norm depends on what its
    /// clauses read and on what every norm that may defeat it depends on: whether it applies
    /// can change with those.
    pub fn compute_reach(&self) -> Reach {
        let mut defs: Vec<Reads> = vec![0; self.defs.len()];
        for &i in &self.def_order {
            let Some(d) = self.defs.get(i as usize) else {
                continue;
            };
            let mut r = d.base.as_ref().map_or(0, |b| self.expr_reads(b, &defs));
            for x in &d.exceptions {
                r |= self.expr_reads(&x.when, &defs) | self.expr_reads(&x.value, &defs);
            }
            if let Some(slot) = defs.get_mut(i as usize) {
                *slot = r;
            }
        }
        // A finding reported only where its guard holds depends on the guard too.
        let guarded: Vec<Reads> = self
            .defs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let own = defs.get(i).copied().unwrap_or(0);
                match d.finding.and_then(|f| f.when) {
                    Some(g) => own | defs.get(g as usize).copied().unwrap_or(0),
                    None => own,
                }
            })
            .collect();
        let mut norms: Vec<Reads> = vec![0; self.norms.len()];
        for &i in &self.norm_order {
            let Some(n) = self.norms.get(i as usize) else {
                continue;
            };
            let mut r: Reads = 0;
            for e in [
                &n.when,
                &n.due,
                &n.done,
                &n.violated,
                &n.keep_until,
                &n.counterparty,
            ]
            .into_iter()
            .flatten()
            {
                r |= self.expr_reads(e, &defs);
            }
            if let Some((lo, hi)) = &n.fine {
                r |= self.expr_reads(lo, &defs) | self.expr_reads(hi, &defs);
            }
            for d in &n.defeaters {
                r |= norms.get(*d as usize).copied().unwrap_or(0);
            }
            if let Some(slot) = norms.get_mut(i as usize) {
                *slot = r;
            }
        }
        Reach {
            defs: guarded,
            norms,
        }
    }
}

impl Article {
    /// How many paragraphs the article's text has: blocks separated by blank lines, a block of
    /// numbered items (`1. …`) belonging to the paragraph before it. 0 when it has no text.
    pub fn paragraph_count(&self) -> u32 {
        let mut count = 0u32;
        let mut in_block = false;
        for line in &self.text {
            let t = line.trim();
            if t.is_empty() {
                in_block = false;
                continue;
            }
            if in_block {
                continue;
            }
            in_block = true;
            let item = t
                .trim_start_matches(['-', '*', ' '])
                .split_once('.')
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
            if !item || count == 0 {
                count += 1;
            }
        }
        count
    }
}
