//! Constant values: field defaults and data modules are checked like any expression, then
//! folded to a [`Value`] here. Only literals, collections, structs, enum variants and negation
//! fold; anything else is reported as not constant. Also checks data modules against their
//! schema, and single expressions for `norm expr`.

use super::{Checker, Scope};
use crate::date::Date;
use crate::diagnostic::Diagnostic;
use crate::ir::{self, Expr, ExprKind, Program};
use crate::syntax::ast::{self, ItemKind};
use crate::value::{Ty, Value};
use std::collections::HashMap;

impl Checker<'_> {
    pub(crate) fn const_value(&mut self, e: &Expr) -> Option<Value> {
        if e.ty.is_error() {
            return None;
        }
        let v = fold(e);
        if v.is_none() {
            self.error(
                Diagnostic::error("E0150", "not a constant")
                    .at(e.span, "only literal values may appear here"),
            );
        }
        v
    }
}

/// The constant elements of a set or list literal, with their spans.
fn elements(e: Option<&Expr>) -> Vec<(Value, crate::span::Span)> {
    match e.map(|e| &e.kind) {
        Some(ExprKind::Set(items) | ExprKind::List(items)) => items
            .iter()
            .filter_map(|x| fold(x).map(|v| (v, x.span)))
            .collect(),
        _ => Vec::new(),
    }
}

impl Checker<'_> {
    /// A value listed twice in a published set is a mistake in the data, not a no-op.
    fn no_duplicates(&mut self, e: &Expr) {
        let ExprKind::Set(_) = &e.kind else { return };
        let items = elements(Some(e));
        for (i, (v, span)) in items.iter().enumerate() {
            if let Some((_, first)) = items.iter().take(i).find(|(w, _)| w == v) {
                let shown = self.types.show_value(v);
                self.error(
                    Diagnostic::error("E0165", format!("`{shown}` is listed twice"))
                        .at(*span, "again here")
                        .also(*first, "first here"),
                );
            }
        }
    }

    /// Validates a `calendar` module and builds its working-day table.
    fn calendar(
        &mut self,
        exprs: &[Option<Expr>],
        name_span: crate::span::Span,
    ) -> Option<crate::calendar::WorkingDayCalendar> {
        let years = elements(exprs.first().and_then(Option::as_ref));
        let holidays = elements(exprs.get(1).and_then(Option::as_ref));
        let make_up = elements(exprs.get(2).and_then(Option::as_ref));
        let before = self.diagnostics.len();
        let mut ys: Vec<i64> = years
            .iter()
            .filter_map(|(v, _)| {
                if let Value::Int(y) = v {
                    Some(*y)
                } else {
                    None
                }
            })
            .collect();
        ys.sort_unstable();
        ys.dedup();
        if ys.is_empty() {
            self.error(
                Diagnostic::error("E0166", "the calendar covers no year")
                    .at(name_span, "`covers` is empty"),
            );
            return None;
        }
        for w in ys.windows(2) {
            if let [a, b] = w
                && b - a != 1
            {
                let span = years
                    .iter()
                    .find(|(v, _)| *v == Value::Int(*b))
                    .map(|(_, s)| *s)
                    .unwrap_or(name_span);
                self.error(
                    Diagnostic::error(
                        "E0167",
                        format!("the calendar covers {a} and {b} but not the years between"),
                    )
                    .at(span, "after a gap")
                    .help(if b - a == 2 {
                        format!("add the holidays and make-up days of {}", a + 1)
                    } else {
                        format!(
                            "add the holidays and make-up days of {} to {}",
                            a + 1,
                            b - 1
                        )
                    }),
                );
            }
        }
        let (first, last) = (
            ys.first().copied().unwrap_or(0),
            ys.last().copied().unwrap_or(0),
        );
        let dates = |list: &[(Value, crate::span::Span)],
                     what: &str,
                     checker: &mut Self|
         -> Vec<Date> {
            let mut out = Vec::new();
            for (v, span) in list {
                let Value::Date(d) = v else { continue };
                let year = i64::from(d.ymd().0);
                if year < first || year > last {
                    checker.error(
                        Diagnostic::error("E0168", format!("{what} {d} is outside the years the calendar covers ({first}–{last})"))
                            .at(*span, "outside `covers`"),
                    );
                }
                out.push(*d);
            }
            out
        };
        let h = dates(&holidays, "holiday", self);
        let m = dates(&make_up, "make-up day", self);
        for (v, span) in &make_up {
            let Value::Date(d) = v else { continue };
            if d.weekday() < 5 {
                self.error(
                    Diagnostic::error("E0169", format!("make-up day {d} is not a weekend day"))
                        .at(*span, "a weekday is a working day anyway")
                        .help("make-up days are the Saturdays and Sundays the State Council declares working days"),
                );
            }
            if h.contains(d) {
                self.error(
                    Diagnostic::error("E0173", format!("{d} is both a holiday and a make-up day"))
                        .at(*span, "listed as both"),
                );
            }
        }
        if self.diagnostics.len() > before {
            return None;
        }
        crate::calendar::WorkingDayCalendar::build(&ys, &h, &m)
    }
}

fn fold(e: &Expr) -> Option<Value> {
    match &e.kind {
        ExprKind::Const(v) => Some(v.clone()),
        ExprKind::Set(items) => Some(Value::set(
            items.iter().map(fold).collect::<Option<Vec<_>>>()?,
        )),
        ExprKind::List(items) => Some(Value::List(
            items.iter().map(fold).collect::<Option<Vec<_>>>()?.into(),
        )),
        ExprKind::Struct(id, fields) => Some(Value::Struct(
            *id,
            fields.iter().map(fold).collect::<Option<Vec<_>>>()?.into(),
        )),
        ExprKind::ToDecimal(x) => match fold(x)? {
            Value::Int(i) => Some(Value::Decimal(i.into())),
            other => Some(other),
        },
        ExprKind::Neg(x) => match fold(x)? {
            Value::Int(i) => i.checked_neg().map(Value::Int),
            Value::Decimal(d) => Some(Value::Decimal(-d)),
            Value::Money(d) => Some(Value::Money(-d)),
            Value::Percent(d) => Some(Value::Percent(-d)),
            _ => None,
        },
        _ => None,
    }
}

fn checker_for(program: &Program) -> Checker<'static> {
    let mut type_names = HashMap::new();
    let mut variants: HashMap<String, Vec<(u32, u32)>> = HashMap::new();
    for (i, e) in program.types.enums.iter().enumerate() {
        type_names.insert(e.name.clone(), Ty::Enum(i as u32));
        for (j, v) in e.variants.iter().enumerate() {
            variants
                .entry(v.clone())
                .or_default()
                .push((i as u32, j as u32));
        }
    }
    for (i, s) in program.types.structs.iter().enumerate() {
        type_names.insert(s.name.clone(), Ty::Struct(i as u32));
    }
    let index = |names: Vec<&String>| {
        names
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect()
    };
    // What a constant can read: the types, roles, facts and schemas; not the definitions,
    // norms and articles (a data module's values are constants), which are most of a law and
    // would be copied for every data file.
    let header = Program {
        law: program.law.clone(),
        types: program.types.clone(),
        roles: program.roles.clone(),
        authorities: program.authorities.clone(),
        chapters: program.chapters.clone(),
        facts: program.facts.clone(),
        schemas: program.schemas.clone(),
        subjects: program.subjects.clone(),
        ..Program::default()
    };
    Checker {
        program: header,
        types: program.types.clone(),
        diagnostics: Vec::new(),
        type_names,
        variants,
        facts: index(program.facts.iter().map(|f| &f.name).collect()),
        schemas: index(program.schemas.iter().map(|s| &s.name).collect()),
        defs: HashMap::new(),
        dispatchers: HashMap::new(),
        article_numbers: Vec::new(),
        current_article: None,
        def_src: Vec::new(),
        def_state: Vec::new(),
        def_deps: Vec::new(),
        declared: HashMap::new(),
    }
}

/// Checks the data modules in `file` against the law's schemas.
pub fn check_data_file(
    program: &Program,
    file: &ast::File,
) -> (Vec<ir::DataModule>, Vec<Diagnostic>) {
    let mut c = checker_for(program);
    let mut out = Vec::new();
    for item in &file.items {
        match &item.kind {
            ItemKind::DataModule {
                name,
                version,
                effective,
                entries,
            } => {
                let Some((schema_idx, schema)) = program.schema_by_name(&name.node) else {
                    let names: Vec<&str> =
                        program.schemas.iter().map(|s| s.name.as_str()).collect();
                    let mut d = Diagnostic::error(
                        "E0160",
                        format!(
                            "no data schema `{}` in law `{}`",
                            name.node, program.law.name
                        ),
                    )
                    .at(name.span, "unknown schema");
                    if let Some(s) = super::suggest(&name.node, names.iter().copied()) {
                        d = d.help(format!("did you mean `{s}`?"));
                    } else {
                        d = d.note(format!("the law's schemas are: {}", names.join(", ")));
                    }
                    c.error(d);
                    continue;
                };
                let Some(date) = Date::parse(&effective.node) else {
                    c.error(
                        Diagnostic::error("E0302", format!("invalid date `{}`", effective.node))
                            .at(effective.span, "no such day"),
                    );
                    continue;
                };
                let mut values: Vec<Option<Value>> = vec![None; schema.fields.len()];
                let mut exprs: Vec<Option<Expr>> = vec![None; schema.fields.len()];
                let mut ok = true;
                for (field, e) in entries {
                    let Some(fi) = schema.fields.iter().position(|f| f.name == field.node) else {
                        let names: Vec<&str> =
                            schema.fields.iter().map(|f| f.name.as_str()).collect();
                        let mut d = Diagnostic::error(
                            "E0161",
                            format!("schema `{}` has no field `{}`", schema.name, field.node),
                        )
                        .at(field.span, "unknown field");
                        if let Some(s) = super::suggest(&field.node, names.iter().copied()) {
                            d = d.help(format!("did you mean `{s}`?"));
                        }
                        c.error(d);
                        ok = false;
                        continue;
                    };
                    let ty = schema
                        .fields
                        .get(fi)
                        .map(|f| f.ty.clone())
                        .unwrap_or(Ty::Error);
                    let mut scope = Scope::constant();
                    let x = c.check_against(e, &ty, &mut scope, &format!("field `{}`", field.node));
                    c.no_duplicates(&x);
                    if let Some(slot) = exprs.get_mut(fi) {
                        *slot = Some(x.clone());
                    }
                    match c.const_value(&x) {
                        Some(v) => {
                            if let Some(slot) = values.get_mut(fi) {
                                if slot.is_some() {
                                    c.error(
                                        Diagnostic::error(
                                            "E0162",
                                            format!("field `{}` is given twice", field.node),
                                        )
                                        .at(field.span, "again here"),
                                    );
                                }
                                *slot = Some(v);
                            }
                        }
                        None => ok = false,
                    }
                }
                let missing: Vec<String> = schema
                    .fields
                    .iter()
                    .zip(values.iter())
                    .filter(|(_, v)| v.is_none())
                    .map(|(f, _)| format!("`{}`", f.name))
                    .collect();
                if !missing.is_empty() {
                    if ok {
                        c.error(
                            Diagnostic::error(
                                "E0163",
                                format!("data module `{}` lacks {}", name.node, missing.join(", ")),
                            )
                            .at(name.span, "incomplete")
                            .help("a data module gives every field of its schema"),
                        );
                    }
                    continue;
                }
                let calendar = if schema.name == crate::calendar::SCHEMA {
                    match c.calendar(&exprs, name.span) {
                        Some(cal) => Some(std::sync::Arc::new(cal)),
                        None => continue,
                    }
                } else {
                    None
                };
                out.push(ir::DataModule {
                    schema: schema_idx,
                    name: name.node.clone(),
                    version: version.node.clone(),
                    effective: date,
                    values: values.into_iter().flatten().collect(),
                    calendar,
                    hash: String::new(),
                    span: item.span,
                });
            }
            ItemKind::Error => {}
            _ => c.error(
                Diagnostic::error("E0164", "a data file holds only `data` modules")
                    .at(item.span, "not a data module")
                    .help("rules belong in the law's own files"),
            ),
        }
    }
    (out, c.diagnostics)
}

/// Checks one expression against a law (for `norm expr`): it may read data modules but not
/// facts or definitions of a case.
pub fn check_expr(program: &Program, e: &ast::Expr) -> (Expr, Vec<Diagnostic>) {
    let mut c = checker_for(program);
    c.facts.clear();
    let mut scope = Scope::rules();
    let x = c.expr(e, None, &mut scope);
    (x, c.diagnostics)
}
