//! Type-checking and lowering of expressions.
//!
//! Bidirectional: [`Checker::expr`] takes the type the context expects, if any, which is how
//! bare enum variants, empty sets and struct literals get their types. An error is recorded and
//! the expression gets type `Error`, which fits everywhere, so a mistake is reported once.

use super::{Checker, Scope};
use crate::date::{Date, Duration};
use crate::diagnostic::Diagnostic;
use crate::ir::{BinOp, Builtin, Expr, ExprKind};
use crate::span::Span;
use crate::syntax::ast::{self, Quantifier, UnOp, Unit};
use crate::value::{Ty, Value};
use rust_decimal::Decimal;
use std::str::FromStr;

/// How deep expressions may nest before the checker refuses them (the lexer already refuses
/// deep brackets; this catches long operator chains such as `not not not …`).
const MAX_DEPTH: u32 = 256;

pub(super) fn err_expr(span: Span) -> Expr {
    Expr {
        kind: ExprKind::Const(Value::Bool(false)),
        ty: Ty::Error,
        span,
    }
}

fn konst(v: Value, ty: Ty, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Const(v),
        ty,
        span,
    }
}

pub fn parse_int(text: &str) -> Option<i64> {
    text.replace('_', "").parse().ok()
}

pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let clean = text.replace('_', "");
    if clean.contains(['e', 'E']) {
        Decimal::from_scientific(&clean).ok()
    } else {
        Decimal::from_str(&clean).ok()
    }
}

impl Checker<'_> {
    pub(super) fn expr(&mut self, e: &ast::Expr, expected: Option<&Ty>, scope: &mut Scope) -> Expr {
        scope.depth += 1;
        let out = if scope.depth > MAX_DEPTH {
            if !scope.too_deep {
                scope.too_deep = true;
                self.error(
                    Diagnostic::error("E0004", "expression nested too deeply")
                        .at(e.span, format!("more than {MAX_DEPTH} levels deep"))
                        .help("split the expression into several `def`s"),
                );
            }
            err_expr(e.span)
        } else {
            self.expr_inner(e, expected, scope)
        };
        scope.depth -= 1;
        // Widen `int` to `decimal` where a decimal is expected.
        if expected == Some(&Ty::Decimal) && out.ty == Ty::Int {
            return Expr {
                span: out.span,
                ty: Ty::Decimal,
                kind: ExprKind::ToDecimal(Box::new(out)),
            };
        }
        out
    }

    /// Checks `e` against `want`, reporting a mismatch.
    pub(super) fn check_against(
        &mut self,
        e: &ast::Expr,
        want: &Ty,
        scope: &mut Scope,
        what: &str,
    ) -> Expr {
        let x = self.expr(e, Some(want), scope);
        if !x.ty.fits(want) {
            let mut d = Diagnostic::error("E0201", format!("{what} must be {}", self.a(want)))
                .at(x.span, format!("this is {}", self.a(&x.ty)));
            if let Some(h) = self.coercion_help(&x.ty, want, e) {
                d = d.help(h);
            }
            self.error(d);
            return Expr { ty: Ty::Error, ..x };
        }
        let mut x = x;
        x.settle(want);
        x
    }

    fn coercion_help(&self, found: &Ty, want: &Ty, e: &ast::Expr) -> Option<String> {
        match (found, want, &e.kind) {
            (
                Ty::Int | Ty::Decimal,
                Ty::Money,
                ast::ExprKind::Int(n) | ast::ExprKind::Decimal(n),
            ) => Some(format!(
                "amounts of money carry their currency: write `{n} CNY`"
            )),
            (Ty::Int, Ty::Duration, ast::ExprKind::Int(n)) => {
                Some(format!("write the unit: `{n} days`"))
            }
            (Ty::Text, Ty::Date, _) => {
                Some("dates are written without quotes: `2026-12-01`".into())
            }
            (Ty::Int, Ty::Bool, _) => Some("compare the number with something: `x > 0`".into()),
            _ => None,
        }
    }

    /// "a bool", "an int", "a set<Category>".
    pub(super) fn a(&self, ty: &Ty) -> String {
        let s = self.types.show(ty);
        let article = if s.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{article} `{s}`")
    }

    fn expr_inner(&mut self, e: &ast::Expr, expected: Option<&Ty>, scope: &mut Scope) -> Expr {
        let span = e.span;
        match &e.kind {
            ast::ExprKind::Error => err_expr(span),
            ast::ExprKind::Paren(inner) => {
                let x = self.expr(inner, expected, scope);
                Expr { span, ..x }
            }
            ast::ExprKind::Bool(b) => konst(Value::Bool(*b), Ty::Bool, span),
            ast::ExprKind::Int(text) => match parse_int(text) {
                Some(i) => konst(Value::Int(i), Ty::Int, span),
                None => {
                    self.error(
                        Diagnostic::error("E0301", "integer literal out of range")
                            .at(span, format!("`{text}` does not fit in a 64-bit int"))
                            .help("the largest int is 9223372036854775807; for larger quantities use a decimal such as `1e25`"),
                    );
                    err_expr(span)
                }
            },
            ast::ExprKind::Decimal(text) => match parse_decimal(text) {
                Some(d) => konst(Value::Decimal(d), Ty::Decimal, span),
                None => self.bad_number(text, span),
            },
            ast::ExprKind::Percent(text) => match parse_decimal(text.trim_end_matches('%')) {
                Some(d) => konst(Value::Percent(d / Decimal::ONE_HUNDRED), Ty::Percent, span),
                None => self.bad_number(text, span),
            },
            ast::ExprKind::Money(text) => match parse_decimal(text) {
                Some(d) => konst(Value::Money(d), Ty::Money, span),
                None => self.bad_number(text, span),
            },
            ast::ExprKind::Duration(text, unit) => match parse_int(text) {
                Some(n) => {
                    let d = match unit {
                        Unit::Days => Some(Duration::days(n)),
                        Unit::Months => Some(Duration::months(n)),
                        Unit::Years => n.checked_mul(12).map(Duration::months),
                    };
                    match d {
                        Some(d) => konst(Value::Duration(d), Ty::Duration, span),
                        None => self.bad_number(text, span),
                    }
                }
                None => self.bad_number(text, span),
            },
            ast::ExprKind::WorkingDays(text) => match parse_int(text) {
                Some(n) => konst(Value::WorkingDays(n), Ty::WorkingDays, span),
                None => self.bad_number(text, span),
            },
            ast::ExprKind::Date(text) => match Date::parse(text) {
                Some(d) => konst(Value::Date(d), Ty::Date, span),
                None => {
                    self.error(
                        Diagnostic::error("E0302", format!("invalid date `{text}`"))
                            .at(span, "no such day in the calendar")
                            .help("dates are `YYYY-MM-DD` with a real month and day, years 0001 to 9999"),
                    );
                    err_expr(span)
                }
            },
            ast::ExprKind::Str(s) => konst(Value::Text(s.as_str().into()), Ty::Text, span),
            ast::ExprKind::Name(name) => self.name(name, span, expected, scope),
            ast::ExprKind::Field(base, field) => self.field(base, field, span, scope),
            ast::ExprKind::Call(f, args) => self.call(f, args, span, expected, scope),
            ast::ExprKind::Unary(UnOp::Not, x) => {
                let x = self.check_against(x, &Ty::Bool, scope, "the operand of `not`");
                Expr {
                    kind: ExprKind::Not(Box::new(x)),
                    ty: Ty::Bool,
                    span,
                }
            }
            ast::ExprKind::Unary(UnOp::Neg, x) => {
                let x = self.expr(x, expected, scope);
                match x.ty {
                    Ty::Int | Ty::Decimal | Ty::Money | Ty::Percent | Ty::Duration | Ty::Error => {
                        Expr {
                            ty: x.ty.clone(),
                            kind: ExprKind::Neg(Box::new(x)),
                            span,
                        }
                    }
                    _ => {
                        self.error(
                            Diagnostic::error("E0202", format!("cannot negate {}", self.a(&x.ty)))
                                .at(x.span, "not a number"),
                        );
                        err_expr(span)
                    }
                }
            }
            ast::ExprKind::Binary(op, a, b) => self.binary(*op, a, b, span, scope),
            ast::ExprKind::If(c, t, f) => {
                let c = self.check_against(c, &Ty::Bool, scope, "the condition of `if`");
                let t = self.expr(t, expected, scope);
                let want = if t.ty.is_error() || t.ty == Ty::Never {
                    expected.cloned()
                } else {
                    Some(t.ty.clone())
                };
                let f = self.expr(f, want.as_ref(), scope);
                let (t, f, ty) = self.unify(t, f, "the branches of `if`");
                Expr {
                    kind: ExprKind::If(Box::new(c), Box::new(t), Box::new(f)),
                    ty,
                    span,
                }
            }
            ast::ExprKind::Quant {
                q,
                var,
                collection,
                filter,
                body,
            } => self.quant(*q, var, collection, filter.as_deref(), body, span, scope),
            // `{}` where a struct is expected: every field takes its default.
            ast::ExprKind::Set(items)
                if items.is_empty() && matches!(expected, Some(Ty::Struct(_))) =>
            {
                self.struct_lit(&[], span, expected, scope)
            }
            ast::ExprKind::Set(items) | ast::ExprKind::List(items) => {
                let is_set = matches!(e.kind, ast::ExprKind::Set(_));
                let mut elem = expected
                    .and_then(|t| t.element())
                    .cloned()
                    .unwrap_or(Ty::Never);
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let want = if elem == Ty::Never || elem.is_error() {
                        None
                    } else {
                        Some(elem.clone())
                    };
                    let x = self.expr(item, want.as_ref(), scope);
                    if elem == Ty::Never || elem.is_error() {
                        elem = x.ty.clone();
                    } else if !x.ty.fits(&elem) {
                        self.error(
                            Diagnostic::error(
                                "E0203",
                                "the elements of a collection must have one type",
                            )
                            .at(x.span, format!("this is {}", self.a(&x.ty)))
                            .note(format!(
                                "the collection holds {} values",
                                self.types.show(&elem)
                            )),
                        );
                    }
                    out.push(x);
                }
                let ty = if is_set {
                    Ty::Set(Box::new(elem))
                } else {
                    Ty::List(Box::new(elem))
                };
                let kind = if is_set {
                    ExprKind::Set(out)
                } else {
                    ExprKind::List(out)
                };
                Expr { kind, ty, span }
            }
            ast::ExprKind::Struct(fields) => self.struct_lit(fields, span, expected, scope),
        }
    }

    fn bad_number(&mut self, text: &str, span: Span) -> Expr {
        self.error(
            Diagnostic::error("E0303", format!("number `{text}` is out of range"))
                .at(span, "cannot be represented exactly")
                .help("decimals have at most 28 significant digits"),
        );
        err_expr(span)
    }

    fn name(&mut self, name: &str, span: Span, expected: Option<&Ty>, scope: &mut Scope) -> Expr {
        if let Some((level, ty)) = scope.lookup(name) {
            return Expr {
                kind: ExprKind::Local(level),
                ty,
                span,
            };
        }
        if scope.constant {
            if let Some(v) = self.variant(name, span, expected) {
                return v;
            }
            let mut d = Diagnostic::error("E0101", format!("unknown value `{name}`"))
                .at(span, "not a constant");
            if self.defs.contains_key(name) || self.facts.contains_key(name) {
                d = d.note("only constants and enum variants may appear here");
            }
            self.error(d);
            return err_expr(span);
        }
        if let Some(&idx) = self.defs.get(name) {
            let idx = self.version_here(idx);
            let ty = self.def_type(idx, span);
            scope.deps.push(idx);
            return Expr {
                kind: ExprKind::Def(idx),
                ty,
                span,
            };
        }
        if let Some(&idx) = self.facts.get(name) {
            let ty = self
                .program
                .facts
                .get(idx as usize)
                .map(|f| f.ty.clone())
                .unwrap_or(Ty::Error);
            return Expr {
                kind: ExprKind::Fact(idx),
                ty,
                span,
            };
        }
        if let Some(v) = self.variant(name, span, expected) {
            return v;
        }
        if name == "as_of" && !scope.constant {
            // The date the case is decided as of.
            return Expr {
                kind: ExprKind::AsOf,
                ty: Ty::Date,
                span,
            };
        }
        if self.schemas.contains_key(name) {
            self.error(
                Diagnostic::error("E0102", format!("`{name}` is a data module, not a value"))
                    .at(span, "read one of its fields")
                    .help(format!("write `{name}.FIELD`")),
            );
            return err_expr(span);
        }
        let mut d =
            Diagnostic::error("E0101", format!("unknown name `{name}`")).at(span, "not defined");
        let candidates = self.value_names(scope);
        if let Some(s) = super::suggest(name, candidates.iter().map(String::as_str)) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        self.error(d);
        err_expr(span)
    }

    fn value_names(&self, scope: &Scope) -> Vec<String> {
        let mut v: Vec<String> = scope.locals.iter().map(|(n, _)| n.clone()).collect();
        if !scope.constant {
            v.extend(self.defs.keys().cloned());
            v.extend(self.facts.keys().cloned());
            v.extend(self.schemas.keys().cloned());
        }
        v.extend(self.variants.keys().cloned());
        v
    }

    /// A bare enum variant, disambiguated by the expected type.
    fn variant(&mut self, name: &str, span: Span, expected: Option<&Ty>) -> Option<Expr> {
        let owners = self.variants.get(name)?.clone();
        let pick = match expected {
            Some(Ty::Enum(e)) if owners.iter().any(|(o, _)| o == e) => {
                owners.iter().find(|(o, _)| o == e).copied()
            }
            _ if owners.len() == 1 => owners.first().copied(),
            _ => {
                let names: Vec<String> = owners
                    .iter()
                    .filter_map(|(o, _)| {
                        self.types
                            .enum_def(*o)
                            .map(|d| format!("`{}.{name}`", d.name))
                    })
                    .collect();
                self.error(
                    Diagnostic::error("E0103", format!("`{name}` is a variant of several enums"))
                        .at(span, "ambiguous")
                        .help(format!("write {}", names.join(" or "))),
                );
                return Some(err_expr(span));
            }
        };
        let (e, i) = pick?;
        Some(konst(Value::Enum(e, i), Ty::Enum(e), span))
    }

    fn field(
        &mut self,
        base: &ast::Expr,
        field: &crate::span::Ident,
        span: Span,
        scope: &mut Scope,
    ) -> Expr {
        // `schema.field` reads a data module; `Enum.variant` names a variant.
        if let ast::ExprKind::Name(n) = &base.kind
            && scope.lookup(n).is_none()
            && !self.defs.contains_key(n)
            && !self.facts.contains_key(n)
        {
            if let Some(&s) = self.schemas.get(n.as_str()) {
                if scope.constant {
                    self.error(
                        Diagnostic::error("E0104", "data modules cannot be read here")
                            .at(span, "only constants may appear here"),
                    );
                    return err_expr(span);
                }
                let schema = self.program.schemas.get(s as usize);
                let found =
                    schema.and_then(|sc| sc.fields.iter().position(|f| f.name == field.node));
                return match found {
                    Some(fi) => {
                        let ty = schema
                            .and_then(|sc| sc.fields.get(fi))
                            .map(|f| f.ty.clone())
                            .unwrap_or(Ty::Error);
                        Expr {
                            kind: ExprKind::Data(s, fi as u32),
                            ty,
                            span,
                        }
                    }
                    None => {
                        let names: Vec<String> = schema
                            .map(|s| s.fields.iter().map(|f| f.name.clone()).collect())
                            .unwrap_or_default();
                        self.unknown_field(
                            &field.node,
                            field.span,
                            &format!("data module `{n}`"),
                            &names,
                        );
                        err_expr(span)
                    }
                };
            }
            if let Some(&Ty::Enum(e)) = self.type_names.get(n.as_str()) {
                let def = self.types.enum_def(e);
                let found = def.and_then(|d| d.variants.iter().position(|v| *v == field.node));
                return match found {
                    Some(i) => konst(Value::Enum(e, i as u32), Ty::Enum(e), span),
                    None => {
                        let names = def.map(|d| d.variants.clone()).unwrap_or_default();
                        self.unknown_field(&field.node, field.span, &format!("enum `{n}`"), &names);
                        err_expr(span)
                    }
                };
            }
        }
        let b = self.expr(base, None, scope);
        match &b.ty {
            Ty::Struct(s) => {
                let sid = *s;
                let def = self.types.struct_def(sid);
                match def.and_then(|d| d.field(&field.node)) {
                    Some((i, f)) => {
                        let ty = f.ty.clone();
                        Expr {
                            kind: ExprKind::Field(Box::new(b), i as u32),
                            ty,
                            span,
                        }
                    }
                    None => {
                        let names: Vec<String> = def
                            .map(|d| d.fields.iter().map(|f| f.name.clone()).collect())
                            .unwrap_or_default();
                        let what = format!("`{}`", self.types.show(&Ty::Struct(sid)));
                        self.unknown_field(&field.node, field.span, &what, &names);
                        err_expr(span)
                    }
                }
            }
            Ty::Error => err_expr(span),
            other => {
                let t = self.a(other);
                self.error(
                    Diagnostic::error("E0105", format!("{t} has no fields"))
                        .at(field.span, format!("no field `{}`", field.node))
                        .also(b.span, format!("this is {t}")),
                );
                err_expr(span)
            }
        }
    }

    fn unknown_field(&mut self, name: &str, span: Span, owner: &str, names: &[String]) {
        let mut d = Diagnostic::error("E0106", format!("{owner} has no field `{name}`"))
            .at(span, "unknown field");
        if let Some(s) = super::suggest(name, names.iter().map(String::as_str)) {
            d = d.help(format!("did you mean `{s}`?"));
        } else if !names.is_empty() {
            d = d.note(format!("its fields are: {}", names.join(", ")));
        }
        self.error(d);
    }

    /// `period_end(start, period)` (Civil Code Arts. 201 and 203).
    fn period_end(&mut self, args: &[ast::Expr], span: Span, scope: &mut Scope) -> Expr {
        let [start, period] = args else {
            self.error(
                Diagnostic::error("E0108", "`period_end` takes 2 arguments")
                    .at(span, format!("{} given", args.len()))
                    .help("write `period_end(start_date, 3 months)`"),
            );
            return err_expr(span);
        };
        let start = self.check_against(start, &Ty::Date, scope, "the start of a period");
        let period = self.check_against(period, &Ty::Duration, scope, "the length of a period");
        let Some(schema) = self.calendar_schema(span) else {
            return err_expr(span);
        };
        Expr {
            kind: ExprKind::PeriodEnd {
                start: Box::new(start),
                period: Box::new(period),
                schema,
            },
            ty: Ty::Date,
            span,
        }
    }

    fn call(
        &mut self,
        f: &crate::span::Ident,
        args: &[ast::Expr],
        span: Span,
        expected: Option<&Ty>,
        scope: &mut Scope,
    ) -> Expr {
        let builtin = match f.node.as_str() {
            "min" => Builtin::Min,
            "max" => Builtin::Max,
            "size" => Builtin::Size,
            "days" => Builtin::Days,
            "months" => Builtin::Months,
            "years" => Builtin::Years,
            "working_days" => Builtin::WorkingDays,
            "present" => Builtin::Present,
            "period_end" => return self.period_end(args, span, scope),
            other => {
                let mut d = Diagnostic::error("E0107", format!("unknown function `{other}`"))
                    .at(f.span, "no such function");
                if let Some(s) = super::suggest(other, crate::ir::BUILTIN_FUNCTIONS.iter().copied())
                {
                    d = d.help(format!("did you mean `{s}`?"));
                } else {
                    d = d.note(
                        "the functions are min, max, size, days, months, years, working_days and period_end",
                    );
                }
                self.error(d);
                return err_expr(span);
            }
        };
        let arity = match builtin {
            Builtin::Min | Builtin::Max => 2,
            _ => 1,
        };
        if args.len() != arity {
            self.error(
                Diagnostic::error(
                    "E0108",
                    format!(
                        "`{}` takes {arity} argument{}",
                        f.node,
                        if arity == 1 { "" } else { "s" }
                    ),
                )
                .at(span, format!("{} given", args.len())),
            );
            return err_expr(span);
        }
        match builtin {
            Builtin::Min | Builtin::Max => {
                let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
                    return err_expr(span);
                };
                let a = self.expr(a, expected, scope);
                let want = if a.ty.is_error() {
                    None
                } else {
                    Some(a.ty.clone())
                };
                let b = self.expr(b, want.as_ref(), scope);
                let (a, b, ty) = self.unify(a, b, &format!("the arguments of `{}`", f.node));
                if !matches!(
                    ty,
                    Ty::Int | Ty::Decimal | Ty::Money | Ty::Percent | Ty::Date | Ty::Error
                ) {
                    self.error(
                        Diagnostic::error(
                            "E0204",
                            format!("`{}` compares numbers, money or dates", f.node),
                        )
                        .at(span, format!("these are {}", self.a(&ty))),
                    );
                    return err_expr(span);
                }
                Expr {
                    kind: ExprKind::Call(builtin, vec![a, b]),
                    ty,
                    span,
                }
            }
            Builtin::Size => {
                let Some(a) = args.first() else {
                    return err_expr(span);
                };
                let a = self.expr(a, None, scope);
                if a.ty.element().is_none() && !a.ty.is_error() {
                    self.error(
                        Diagnostic::error("E0205", "`size` counts the elements of a set or list")
                            .at(a.span, format!("this is {}", self.a(&a.ty))),
                    );
                }
                Expr {
                    kind: ExprKind::Call(builtin, vec![a]),
                    ty: Ty::Int,
                    span,
                }
            }
            Builtin::Present => {
                let Some(a) = args.first() else {
                    return err_expr(span);
                };
                let a = self.expr(a, None, scope);
                let optional = match &a.kind {
                    ExprKind::Field(base, i) => match &base.ty {
                        Ty::Struct(sid) => self
                            .types
                            .struct_def(*sid)
                            .and_then(|s| s.fields.get(*i as usize))
                            .is_some_and(|f| f.optional),
                        _ => false,
                    },
                    _ => false,
                };
                if !optional && !a.ty.is_error() {
                    self.error(
                        Diagnostic::error(
                            "E0206",
                            "`present` asks whether a case gives an optional field",
                        )
                        .at(a.span, "not an optional field (`name: T?`)")
                        .help("only a field declared with `?` may be left out of a case"),
                    );
                    return err_expr(span);
                }
                Expr {
                    kind: ExprKind::Call(builtin, vec![a]),
                    ty: Ty::Bool,
                    span,
                }
            }
            Builtin::Days | Builtin::Months | Builtin::Years | Builtin::WorkingDays => {
                let Some(a) = args.first() else {
                    return err_expr(span);
                };
                let a = self.check_against(
                    a,
                    &Ty::Int,
                    scope,
                    &format!("the argument of `{}`", f.node),
                );
                let ty = if builtin == Builtin::WorkingDays {
                    Ty::WorkingDays
                } else {
                    Ty::Duration
                };
                Expr {
                    kind: ExprKind::Call(builtin, vec![a]),
                    ty,
                    span,
                }
            }
        }
    }

    /// Makes two operands one type, widening `int` to `decimal`; reports a mismatch.
    pub(super) fn unify(&mut self, a: Expr, b: Expr, what: &str) -> (Expr, Expr, Ty) {
        let widen = |x: Expr| Expr {
            span: x.span,
            ty: Ty::Decimal,
            kind: ExprKind::ToDecimal(Box::new(x)),
        };
        match (&a.ty, &b.ty) {
            (Ty::Int, Ty::Decimal) => (widen(a), b, Ty::Decimal),
            (Ty::Decimal, Ty::Int) => (a, widen(b), Ty::Decimal),
            (Ty::Error, t) | (t, Ty::Error) => {
                let t = t.clone();
                (a, b, t)
            }
            (x, y) if x.fits(y) => {
                let t = y.clone();
                let mut a = a;
                a.settle(&t);
                (a, b, t)
            }
            (x, y) if y.fits(x) => {
                let t = x.clone();
                let mut b = b;
                b.settle(&t);
                (a, b, t)
            }
            (x, y) => {
                let (x, y) = (self.a(x), self.a(y));
                self.error(
                    Diagnostic::error("E0206", format!("{what} must have the same type"))
                        .at(b.span, format!("this is {y}"))
                        .also(a.span, format!("this is {x}")),
                );
                (a, b, Ty::Error)
            }
        }
    }

    fn binary(
        &mut self,
        op: ast::BinOp,
        a: &ast::Expr,
        b: &ast::Expr,
        span: Span,
        scope: &mut Scope,
    ) -> Expr {
        let mk = |op: BinOp, a: Expr, b: Expr, ty: Ty| Expr {
            kind: ExprKind::Bin(op, Box::new(a), Box::new(b)),
            ty,
            span,
        };
        match op {
            ast::BinOp::And | ast::BinOp::Or => {
                let x = self.check_against(
                    a,
                    &Ty::Bool,
                    scope,
                    &format!("each side of `{}`", op.symbol()),
                );
                let y = self.check_against(
                    b,
                    &Ty::Bool,
                    scope,
                    &format!("each side of `{}`", op.symbol()),
                );
                mk(
                    if op == ast::BinOp::And {
                        BinOp::And
                    } else {
                        BinOp::Or
                    },
                    x,
                    y,
                    Ty::Bool,
                )
            }
            ast::BinOp::In | ast::BinOp::NotIn => {
                let coll = self.expr(b, None, scope);
                let elem = match &coll.ty {
                    Ty::Set(t) | Ty::List(t) => Some((**t).clone()),
                    Ty::Error => None,
                    other => {
                        let t = self.a(other);
                        self.error(
                            Diagnostic::error("E0207", "`in` needs a set or a list on its right")
                                .at(coll.span, format!("this is {t}")),
                        );
                        None
                    }
                };
                let x = match &elem {
                    Some(t) if *t != Ty::Never => {
                        self.check_against(a, t, scope, "the left side of `in`")
                    }
                    _ => self.expr(a, None, scope),
                };
                let e = mk(BinOp::In, x, coll, Ty::Bool);
                if op == ast::BinOp::NotIn {
                    Expr {
                        kind: ExprKind::Not(Box::new(e)),
                        ty: Ty::Bool,
                        span,
                    }
                } else {
                    e
                }
            }
            ast::BinOp::Eq
            | ast::BinOp::Ne
            | ast::BinOp::Lt
            | ast::BinOp::Le
            | ast::BinOp::Gt
            | ast::BinOp::Ge => {
                let x = self.expr(a, None, scope);
                let want = if x.ty.is_error() {
                    None
                } else {
                    Some(x.ty.clone())
                };
                let y = self.expr(b, want.as_ref(), scope);
                let (x, y, ty) = self.unify(x, y, &format!("the two sides of `{}`", op.symbol()));
                let ordered = !matches!(op, ast::BinOp::Eq | ast::BinOp::Ne);
                if ordered
                    && !matches!(
                        ty,
                        Ty::Int | Ty::Decimal | Ty::Money | Ty::Percent | Ty::Date | Ty::Error
                    )
                {
                    self.error(
                        Diagnostic::error(
                            "E0208",
                            format!(
                                "`{}` compares numbers, money, percentages or dates",
                                op.symbol()
                            ),
                        )
                        .at(span, format!("these are {}", self.a(&ty))),
                    );
                }
                let op = match op {
                    ast::BinOp::Eq => BinOp::Eq,
                    ast::BinOp::Ne => BinOp::Ne,
                    ast::BinOp::Lt => BinOp::Lt,
                    ast::BinOp::Le => BinOp::Le,
                    ast::BinOp::Gt => BinOp::Gt,
                    _ => BinOp::Ge,
                };
                mk(op, x, y, Ty::Bool)
            }
            ast::BinOp::Add | ast::BinOp::Sub | ast::BinOp::Mul | ast::BinOp::Div => {
                let x = self.expr(a, None, scope);
                let y = self.expr(b, None, scope);
                self.arith(op, x, y, span)
            }
        }
    }

    fn arith(&mut self, op: ast::BinOp, x: Expr, y: Expr, span: Span) -> Expr {
        use Ty::*;
        let widen = |e: Expr| {
            if e.ty == Int {
                Expr {
                    span: e.span,
                    ty: Decimal,
                    kind: ExprKind::ToDecimal(Box::new(e)),
                }
            } else {
                e
            }
        };
        let num = |t: &Ty| matches!(t, Int | Decimal);
        let (irop, result, x, y) = match (op, &x.ty, &y.ty) {
            (_, Error, _) | (_, _, Error) => return err_expr(span),
            (ast::BinOp::Add | ast::BinOp::Sub | ast::BinOp::Mul, Int, Int) => (op, Int, x, y),
            (ast::BinOp::Div, Int, Int) => (op, Decimal, widen(x), widen(y)),
            (_, a, b) if num(a) && num(b) => (op, Decimal, widen(x), widen(y)),
            (ast::BinOp::Add | ast::BinOp::Sub, Money, Money) => (op, Money, x, y),
            (ast::BinOp::Add | ast::BinOp::Sub, Percent, Percent) => (op, Percent, x, y),
            (ast::BinOp::Mul, Money, a) if num(a) => (op, Money, x, widen(y)),
            (ast::BinOp::Mul, a, Money) if num(a) => (op, Money, widen(x), y),
            (ast::BinOp::Mul, Money, Percent) | (ast::BinOp::Mul, Percent, Money) => {
                (op, Money, x, y)
            }
            (ast::BinOp::Mul, Percent, a) if num(a) => (op, Decimal, x, widen(y)),
            (ast::BinOp::Mul, a, Percent) if num(a) => (op, Decimal, widen(x), y),
            (ast::BinOp::Div, Money, a) if num(a) => (op, Money, x, widen(y)),
            (ast::BinOp::Div, Money, Money) => (op, Decimal, x, y),
            (ast::BinOp::Add | ast::BinOp::Sub, Date, WorkingDays) => {
                let Some(schema) = self.calendar_schema(span) else {
                    return err_expr(span);
                };
                return Expr {
                    kind: ExprKind::WorkingDays {
                        date: Box::new(x),
                        count: Box::new(y),
                        schema,
                        backwards: op == ast::BinOp::Sub,
                    },
                    ty: Date,
                    span,
                };
            }
            (ast::BinOp::Add, Date, Duration) => (op, Date, x, y),
            (ast::BinOp::Add, Duration, Date) => (op, Date, y, x),
            (ast::BinOp::Sub, Date, Duration) => (op, Date, x, y),
            (ast::BinOp::Sub, Date, Date) => (op, Int, x, y),
            (ast::BinOp::Add | ast::BinOp::Sub, Duration, Duration) => (op, Duration, x, y),
            (_, a, b) => {
                let (ta, tb) = (self.a(a), self.a(b));
                let mut d = Diagnostic::error(
                    "E0209",
                    format!("cannot apply `{}` to {ta} and {tb}", op.symbol()),
                )
                .at(span, "unsupported operands")
                .also(x.span, ta.clone())
                .also(y.span, tb.clone());
                if matches!((a, b), (Money, Int | Decimal) | (Int | Decimal, Money))
                    && matches!(op, ast::BinOp::Add | ast::BinOp::Sub)
                {
                    d = d.help("write the number as money: `100 CNY`");
                } else if matches!((a, b), (Date, Int) | (Int, Date)) {
                    d = d.help("add a duration: `date + 10 days`");
                }
                self.error(d);
                return err_expr(span);
            }
        };
        let irop = match irop {
            ast::BinOp::Add => BinOp::Add,
            ast::BinOp::Sub => BinOp::Sub,
            ast::BinOp::Mul => BinOp::Mul,
            _ => BinOp::Div,
        };
        Expr {
            kind: ExprKind::Bin(irop, Box::new(x), Box::new(y)),
            ty: result,
            span,
        }
    }

    /// The law's `calendar` schema, which working-day arithmetic reads.
    fn calendar_schema(&mut self, span: Span) -> Option<u32> {
        let want = [
            ("covers", Ty::Set(Box::new(Ty::Int))),
            ("holidays", Ty::Set(Box::new(Ty::Date))),
            ("make_up_days", Ty::Set(Box::new(Ty::Date))),
        ];
        let found = self.schemas.get(crate::calendar::SCHEMA).copied();
        let ok = found
            .and_then(|s| self.program.schemas.get(s as usize))
            .is_some_and(|s| {
                s.fields.len() == want.len()
                    && s.fields
                        .iter()
                        .zip(want.iter())
                        .all(|(f, (n, t))| f.name == *n && f.ty == *t)
            });
        if !ok {
            self.error(
                Diagnostic::error(
                    "E0216",
                    "working-day arithmetic needs the law's `calendar` data schema",
                )
                .at(span, "counts working days")
                .help(format!("declare it: `{}`", crate::calendar::SCHEMA_DECL)),
            );
            return None;
        }
        found
    }

    #[allow(clippy::too_many_arguments)]
    fn quant(
        &mut self,
        q: Quantifier,
        var: &crate::span::Ident,
        collection: &ast::Expr,
        filter: Option<&ast::Expr>,
        body: &ast::Expr,
        span: Span,
        scope: &mut Scope,
    ) -> Expr {
        let coll = self.expr(collection, None, scope);
        let elem = match &coll.ty {
            Ty::Set(t) | Ty::List(t) => (**t).clone(),
            Ty::Error => Ty::Error,
            other => {
                let t = self.a(other);
                self.error(
                    Diagnostic::error(
                        "E0210",
                        format!("`{}` ranges over a set or a list", q.keyword()),
                    )
                    .at(coll.span, format!("this is {t}")),
                );
                Ty::Error
            }
        };
        let level = scope.locals.len() as u32;
        scope.locals.push((var.node.clone(), elem));
        let filter = filter.map(|f| {
            self.check_against(
                f,
                &Ty::Bool,
                scope,
                &format!("the `where` of `{}`", q.keyword()),
            )
        });
        let (body, ty) = match q {
            Quantifier::Exists | Quantifier::All | Quantifier::Count => {
                let b = self.check_against(
                    body,
                    &Ty::Bool,
                    scope,
                    &format!("the condition of `{}`", q.keyword()),
                );
                (
                    b,
                    if q == Quantifier::Count {
                        Ty::Int
                    } else {
                        Ty::Bool
                    },
                )
            }
            Quantifier::Sum => {
                let b = self.expr(body, None, scope);
                if !matches!(
                    b.ty,
                    Ty::Int | Ty::Decimal | Ty::Money | Ty::Percent | Ty::Error
                ) {
                    self.error(
                        Diagnostic::error("E0211", "`sum` adds numbers or money")
                            .at(b.span, format!("this is {}", self.a(&b.ty))),
                    );
                }
                let t = b.ty.clone();
                (b, t)
            }
            Quantifier::Earliest | Quantifier::Latest => {
                let b = self.check_against(
                    body,
                    &Ty::Date,
                    scope,
                    &format!("the value of `{}`", q.keyword()),
                );
                (b, Ty::Date)
            }
        };
        scope.locals.pop();
        // A filter of the other quantifiers is folded into the body: `exists x in S where C: B`
        // is `exists x in S: C and B`, and so on; `earliest`/`latest` keep it.
        let (body, filter) = match (q, filter) {
            (_, None) => (body, None),
            (Quantifier::Earliest | Quantifier::Latest, f) => (body, f),
            (Quantifier::Exists | Quantifier::Count, Some(f)) => {
                let s = body.span;
                (
                    Expr {
                        kind: ExprKind::Bin(BinOp::And, Box::new(f), Box::new(body)),
                        ty: Ty::Bool,
                        span: s,
                    },
                    None,
                )
            }
            (Quantifier::All, Some(f)) => {
                let s = body.span;
                let t = Expr {
                    kind: ExprKind::Const(Value::Bool(true)),
                    ty: Ty::Bool,
                    span: s,
                };
                (
                    Expr {
                        kind: ExprKind::If(Box::new(f), Box::new(body), Box::new(t)),
                        ty: Ty::Bool,
                        span: s,
                    },
                    None,
                )
            }
            (Quantifier::Sum, Some(f)) => {
                let s = body.span;
                let zero = crate::value::zero_of(&body.ty).map(|z| Expr {
                    kind: ExprKind::Const(z),
                    ty: body.ty.clone(),
                    span: s,
                });
                match zero {
                    Some(z) => {
                        let t = body.ty.clone();
                        (
                            Expr {
                                kind: ExprKind::If(Box::new(f), Box::new(body), Box::new(z)),
                                ty: t,
                                span: s,
                            },
                            None,
                        )
                    }
                    None => (body, None),
                }
            }
        };
        Expr {
            kind: ExprKind::Quant {
                q,
                level,
                collection: Box::new(coll),
                filter: filter.map(Box::new),
                body: Box::new(body),
            },
            ty,
            span,
        }
    }

    fn struct_lit(
        &mut self,
        fields: &[(crate::span::Ident, ast::Expr)],
        span: Span,
        expected: Option<&Ty>,
        scope: &mut Scope,
    ) -> Expr {
        let Some(Ty::Struct(sid)) = expected else {
            if expected.is_some_and(|t| !t.is_error()) {
                let t = expected.map(|t| self.a(t)).unwrap_or_default();
                self.error(
                    Diagnostic::error("E0212", format!("expected {t}, found a struct literal"))
                        .at(span, "struct literal"),
                );
            } else if expected.is_none() {
                self.error(
                    Diagnostic::error("E0213", "the type of this struct literal is not known")
                        .at(span, "struct literal")
                        .help("use it where a struct is expected, e.g. as the value of a fact in `given`"),
                );
            }
            return err_expr(span);
        };
        let sid = *sid;
        let Some(def) = self.types.struct_def(sid).cloned() else {
            return err_expr(span);
        };
        let mut values: Vec<Option<Expr>> = vec![None; def.fields.len()];
        for (name, e) in fields {
            match def.field(&name.node) {
                Some((i, f)) => {
                    let x = self.check_against(e, &f.ty, scope, &format!("field `{}`", f.name));
                    if let Some(slot) = values.get_mut(i) {
                        if slot.is_some() {
                            self.error(
                                Diagnostic::error(
                                    "E0214",
                                    format!("field `{}` is given twice", f.name),
                                )
                                .at(name.span, "again here"),
                            );
                        }
                        *slot = Some(x);
                    }
                }
                None => {
                    let names: Vec<String> = def.fields.iter().map(|f| f.name.clone()).collect();
                    self.unknown_field(&name.node, name.span, &format!("`{}`", def.name), &names);
                }
            }
        }
        let mut missing = Vec::new();
        let out: Vec<Expr> = values
            .into_iter()
            .zip(def.fields.iter())
            .map(|(v, f)| match (v, &f.default) {
                (Some(v), _) => v,
                (None, Some(d)) => konst(d.clone(), f.ty.clone(), span),
                (None, None) if f.optional => konst(Value::Absent, f.ty.clone(), span),
                (None, None) => {
                    missing.push(f.name.clone());
                    err_expr(span)
                }
            })
            .collect();
        if !missing.is_empty() {
            self.error(
                Diagnostic::error(
                    "E0215",
                    format!(
                        "missing field{} {}",
                        if missing.len() == 1 { "" } else { "s" },
                        missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .at(
                    span,
                    format!(
                        "`{}` needs {}",
                        def.name,
                        if missing.len() == 1 { "it" } else { "them" }
                    ),
                )
                .help("give every field that has no default"),
            );
        }
        Expr {
            kind: ExprKind::Struct(sid, out),
            ty: Ty::Struct(sid),
            span,
        }
    }
}
