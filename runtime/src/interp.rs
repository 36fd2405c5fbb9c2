//! The reference interpreter: walks the IR and defines what every construct means. The JIT must
//! agree with it on every input.
//!
//! Evaluation is total: no recursion in the language, every loop ranges over a finite
//! collection. What can go wrong is arithmetic (overflow, division by zero, an inexact
//! division, a date outside years 1..=9999) and the law itself (a definition with no
//! applicable case, or two applicable cases that disagree); each is an [`EvalError`] naming the
//! span, never a wrap or a panic.

use norm_compiler::calendar::{CalendarError, WorkingDayCalendar};
use norm_compiler::date::Date;
use norm_compiler::ir::DataModule;
use norm_compiler::ir::{BinOp, Builtin, Def, Expr, ExprKind, Program};
use norm_compiler::span::Span;
use norm_compiler::syntax::ast::Quantifier;
use norm_compiler::value::{Ty, Value};
use rust_decimal::Decimal;
use serde::Serialize;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalErrorKind {
    Overflow,
    DivisionByZero,
    InexactDivision,
    DateOutOfRange,
    OutsideCalendar,
    NoApplicableDefinition,
    Conflict,
    MissingData,
    MissingFact,
    NotInForce,
    Internal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EvalError {
    #[serde(rename = "code")]
    pub kind: EvalErrorKind,
    pub message: String,
    #[serde(skip)]
    pub span: Option<Span>,
    /// Further spans (e.g. the other side of a conflict).
    #[serde(skip)]
    pub related: Vec<Span>,
    /// For an error outside the working-day calendar: the calendar year that is missing.
    #[serde(skip)]
    pub calendar_year: Option<i32>,
    /// For such an error: what is known of the date (`CalendarGap::bound`).
    #[serde(skip)]
    pub calendar_bound: Option<(Date, bool)>,
}

impl EvalError {
    pub fn new(kind: EvalErrorKind, message: impl Into<String>, span: Span) -> EvalError {
        EvalError {
            kind,
            message: message.into(),
            span: Some(span),
            related: Vec::new(),
            calendar_year: None,
            calendar_bound: None,
        }
    }

    /// The error of a working-day computation the calendar in force cannot answer.
    pub fn outside_calendar(gap: CalendarGap, span: Span) -> EvalError {
        EvalError {
            calendar_year: Some(gap.year),
            calendar_bound: gap.bound,
            ..EvalError::new(EvalErrorKind::OutsideCalendar, gap.message, span)
        }
    }
}

/// A working-day computation the calendar in force cannot answer: why, in the law's terms, and
/// the calendar year whose publication would answer it. Both engines word it with these
/// functions, so their decisions agree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarGap {
    pub year: i32,
    pub message: String,
    /// What is known of the date all the same: on or after (`true`) or on or before (`false`)
    /// this day. A comparison with a date beyond it has one answer (`interp::past_calendar`).
    pub bound: Option<(Date, bool)>,
}

fn covered(cal: &WorkingDayCalendar) -> String {
    if cal.first_year == cal.last_year {
        cal.first_year.to_string()
    } else {
        format!("{}–{}", cal.first_year, cal.last_year)
    }
}

/// `d ± n working days` (`n` signed) failed with `err` on `cal`.
pub fn working_days_gap(
    cal: &WorkingDayCalendar,
    d: Date,
    n: i64,
    err: CalendarError,
) -> CalendarGap {
    let sign = if n < 0 { '-' } else { '+' };
    let count = Value::WorkingDays(n.saturating_abs());
    match err {
        CalendarError::StartOutside(day) => CalendarGap {
            year: day.ymd().0,
            // Counted forward, the day is on or after `d`; backward, on or before it.
            bound: Some((d, n >= 0)),
            message: format!(
                "{d} {sign} {count} starts in {}, outside the years the working-day calendar covers ({}): the calendar for {} is not loaded",
                day.ymd().0,
                covered(cal),
                day.ymd().0
            ),
        },
        CalendarError::ResultOutside => {
            let year = if n < 0 {
                cal.first_year - 1
            } else {
                cal.last_year + 1
            };
            CalendarGap {
                year,
                // It lies in `year` or beyond: from its first day, or up to its last.
                bound: if n < 0 {
                    Date::from_ymd(year, 12, 31).map(|x| (x, false))
                } else {
                    Date::from_ymd(year, 1, 1).map(|x| (x, true))
                },
                message: format!(
                    "{d} {sign} {count} ends in {year}, outside the years the working-day calendar covers ({}): the calendar for {year} is not loaded",
                    covered(cal)
                ),
            }
        }
    }
}

/// A period ending on `last` (moved past days off) could not be placed on `cal`.
pub fn period_end_gap(cal: &WorkingDayCalendar, last: Date) -> CalendarGap {
    let (year, place) = match cal.is_working_day(last) {
        None => (last.ymd().0, String::new()),
        Some(_) => (
            cal.last_year + 1,
            format!(
                ", a day off, and the next working day falls in {}",
                cal.last_year + 1
            ),
        ),
    };
    CalendarGap {
        year,
        // The period's end is `last`, or the next working day after it.
        bound: Some((last, true)),
        message: format!(
            "the period ends on {last}{place}, outside the years the working-day calendar covers ({}): the calendar for {year} is not loaded",
            covered(cal)
        ),
    }
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The inputs of one evaluation: facts, the data module values in force, and memoised
/// definitions.
pub struct Env<'p> {
    pub program: &'p Program,
    pub facts: Vec<Value>,
    /// Per schema, the values of the module in force (`None`: no module loaded for it).
    pub data: Vec<Option<Vec<Value>>>,
    pub defs: Vec<Option<Value>>,
    /// Per schema, the working-day table of the module in force (calendar schemas only).
    pub calendars: Vec<Option<Arc<WorkingDayCalendar>>>,
    /// The date the case is decided as of (`as_of` in rules).
    pub as_of: Option<Date>,
    /// The norms whose condition could not be decided because it counts working days in a
    /// year the calendar does not cover (`decision::evaluate`), with the gap.
    pub undecided: Vec<(u32, CalendarGap)>,
    locals: Vec<Value>,
}

impl<'p> Env<'p> {
    pub fn new(program: &'p Program, facts: Vec<Value>, data: Vec<Option<Vec<Value>>>) -> Env<'p> {
        Env {
            program,
            facts,
            data,
            defs: vec![None; program.defs.len()],
            calendars: Vec::new(),
            as_of: None,
            undecided: Vec::new(),
            locals: Vec::new(),
        }
    }

    /// Env over the data modules in force (values and working-day tables).
    pub fn with_modules(
        program: &'p Program,
        facts: Vec<Value>,
        selected: &[Option<&DataModule>],
    ) -> Env<'p> {
        let mut env = Env::new(
            program,
            facts,
            selected
                .iter()
                .map(|m| m.map(|m| m.values.clone()))
                .collect(),
        );
        env.calendars = selected
            .iter()
            .map(|m| m.and_then(|m| m.calendar.clone()))
            .collect();
        env
    }

    /// Evaluates every definition, in dependency order.
    pub fn eval_defs(&mut self) -> Result<(), EvalError> {
        for &i in &self.program.def_order {
            if let Some(def) = self.program.defs.get(i as usize) {
                // A definition that may be absent is expanded where it is read (`check::inline`).
                if def.inline {
                    continue;
                }
                // A version of a definition outside its article version's period is not decided.
                if self
                    .as_of
                    .is_some_and(|d| !self.program.def_in_force(def, d))
                {
                    continue;
                }
                // A definition that counts working days past the calendar has no value; a
                // norm that reads it is undecided (`decision::evaluate`), not the decision's
                // error.
                let v = match self.eval_def(def) {
                    Ok(v) => v,
                    Err(e) if e.kind == EvalErrorKind::OutsideCalendar => continue,
                    Err(e) => return Err(e),
                };
                if let Some(slot) = self.defs.get_mut(i as usize) {
                    *slot = Some(v);
                }
            }
        }
        Ok(())
    }

    /// Default logic: highest-priority applicable exceptions first; one value, or a conflict;
    /// else the next level; else the base case.
    fn eval_def(&mut self, def: &Def) -> Result<Value, EvalError> {
        let mut i = 0;
        let ex = &def.exceptions;
        while let Some(first) = ex.get(i) {
            let level = first.priority;
            let mut found: Option<(Value, Span)> = None;
            while let Some(x) = ex.get(i).filter(|x| x.priority == level) {
                i += 1;
                if self.eval_bool(&x.when)? {
                    let v = self.eval(&x.value)?;
                    match &found {
                        Some((prev, prev_span)) if *prev != v => {
                            let types = &self.program.types;
                            let mut e = EvalError::new(
                                EvalErrorKind::Conflict,
                                format!(
                                    "conflicting exceptions for `{}`: {} and {}, both with priority {level}",
                                    def.name,
                                    types.show_value(prev),
                                    types.show_value(&v)
                                ),
                                x.span,
                            );
                            e.related.push(*prev_span);
                            return Err(e);
                        }
                        Some(_) => {}
                        None => found = Some((v, x.span)),
                    }
                }
            }
            if let Some((v, _)) = found {
                return Ok(v);
            }
        }
        match &def.base {
            Some(b) => self.eval(b),
            None => Err(EvalError::new(
                EvalErrorKind::NoApplicableDefinition,
                format!("no case of `{}` applies", def.name),
                def.span,
            )),
        }
    }

    /// The working-day table of calendar schema `schema` in force, or an error saying none is.
    fn calendar(&self, schema: u32, span: Span) -> Result<Arc<WorkingDayCalendar>, EvalError> {
        match self.calendars.get(schema as usize) {
            Some(Some(cal)) => Ok(cal.clone()),
            _ => Err(EvalError::new(
                EvalErrorKind::MissingData,
                "no working-day calendar is in force: load the `calendar` data module",
                span,
            )),
        }
    }

    /// The elements of an `exists x in C where …` for which its condition holds (a norm's
    /// `counterparty p in parties where …`).
    pub fn matching(&mut self, e: &Expr) -> Result<Vec<Value>, EvalError> {
        let ExprKind::Quant {
            collection,
            filter,
            body,
            ..
        } = &e.kind
        else {
            return Err(internal(e.span));
        };
        let items = match self.eval(collection)? {
            Value::Set(items) | Value::List(items) => items,
            _ => return Err(internal(e.span)),
        };
        let mut out = Vec::new();
        for item in items.iter() {
            self.locals.push(item.clone());
            let r = (|| {
                if let Some(f) = filter
                    && !self.eval_bool(f)?
                {
                    return Ok(false);
                }
                self.eval_bool(body)
            })();
            self.locals.pop();
            if r? {
                out.push(item.clone());
            }
        }
        Ok(out)
    }

    pub fn eval_bool(&mut self, e: &Expr) -> Result<bool, EvalError> {
        match self.eval(e)? {
            Value::Bool(b) => Ok(b),
            _ => Err(internal(e.span)),
        }
    }

    pub fn eval(&mut self, e: &Expr) -> Result<Value, EvalError> {
        match &e.kind {
            ExprKind::Const(v) => Ok(v.clone()),
            ExprKind::AsOf => self.as_of.map(Value::Date).ok_or_else(|| internal(e.span)),
            ExprKind::Fact(i) => self
                .facts
                .get(*i as usize)
                .cloned()
                .ok_or_else(|| internal(e.span)),
            ExprKind::Data(s, f) => match self.data.get(*s as usize) {
                Some(Some(values)) => values
                    .get(*f as usize)
                    .cloned()
                    .ok_or_else(|| internal(e.span)),
                _ => {
                    let name = self
                        .program
                        .schemas
                        .get(*s as usize)
                        .map(|s| s.name.as_str())
                        .unwrap_or("?");
                    Err(EvalError::new(
                        EvalErrorKind::MissingData,
                        format!("no data module `{name}` is in force"),
                        e.span,
                    ))
                }
            },
            ExprKind::Def(i) => match self.defs.get(*i as usize) {
                Some(Some(v)) => Ok(v.clone()),
                _ => {
                    // Not yet evaluated (an expression outside the decision, e.g. a test's
                    // `expect`): evaluate on demand.
                    let def = self
                        .program
                        .defs
                        .get(*i as usize)
                        .ok_or_else(|| internal(e.span))?;
                    let v = self.eval_def(def)?;
                    if let Some(slot) = self.defs.get_mut(*i as usize) {
                        *slot = Some(v.clone());
                    }
                    Ok(v)
                }
            },
            ExprKind::Local(l) => self
                .locals
                .get(*l as usize)
                .cloned()
                .ok_or_else(|| internal(e.span)),
            ExprKind::Field(base, i) => match self.eval(base)? {
                Value::Struct(_, fields) => match fields.get(*i as usize) {
                    Some(Value::Absent) => Err(EvalError::new(
                        EvalErrorKind::MissingFact,
                        format!(
                            "`{}` is not given, but this rule needs it",
                            self.program.show_expr(e)
                        ),
                        e.span,
                    )),
                    Some(v) => Ok(v.clone()),
                    None => Err(internal(e.span)),
                },
                _ => Err(internal(e.span)),
            },
            ExprKind::Not(x) => Ok(Value::Bool(!self.eval_bool(x)?)),
            ExprKind::Neg(x) => {
                let v = self.eval(x)?;
                neg(v, e.span)
            }
            ExprKind::Bin(BinOp::And, a, b) => {
                Ok(Value::Bool(self.eval_bool(a)? && self.eval_bool(b)?))
            }
            ExprKind::Bin(BinOp::Or, a, b) => {
                Ok(Value::Bool(self.eval_bool(a)? || self.eval_bool(b)?))
            }
            ExprKind::Bin(op, a, b) => {
                let (x, y) = (self.eval(a), self.eval(b));
                match (x, y) {
                    (Ok(x), Ok(y)) => binary(*op, x, y, e.span),
                    // A date counted past the calendar is unknown, but it is known to lie in
                    // the year the count reached or beyond it: compared with a date on the
                    // other side of that year, the comparison has one answer.
                    (Err(u), Ok(Value::Date(d))) => past_calendar(*op, &u, d, false).ok_or(u),
                    (Ok(Value::Date(d)), Err(u)) => past_calendar(*op, &u, d, true).ok_or(u),
                    (Err(u), _) | (_, Err(u)) => Err(u),
                }
            }
            ExprKind::If(c, t, f) => {
                if self.eval_bool(c)? {
                    self.eval(t)
                } else {
                    self.eval(f)
                }
            }
            ExprKind::Quant {
                q: q @ (Quantifier::Earliest | Quantifier::Latest),
                collection,
                filter,
                body,
                ..
            } => {
                let items = match self.eval(collection)? {
                    Value::Set(items) | Value::List(items) => items,
                    _ => return Err(internal(e.span)),
                };
                let mut best: Option<Date> = None;
                for item in items.iter() {
                    self.locals.push(item.clone());
                    let r = (|| {
                        if let Some(f) = filter
                            && !self.eval_bool(f)?
                        {
                            return Ok(None);
                        }
                        self.eval(body).map(Some)
                    })();
                    self.locals.pop();
                    let Some(v) = r? else { continue };
                    let Value::Date(d) = v else {
                        return Err(internal(e.span));
                    };
                    best = Some(match (best, q) {
                        (Some(b), Quantifier::Earliest) => b.min(d),
                        (Some(b), _) => b.max(d),
                        (None, _) => d,
                    });
                }
                // None: as an absent optional fact (a due or done date is then unknown).
                best.map(Value::Date).ok_or_else(|| {
                    EvalError::new(
                        EvalErrorKind::MissingFact,
                        format!("`{}` finds no element", q.keyword()),
                        e.span,
                    )
                })
            }
            ExprKind::Quant {
                q,
                collection,
                body,
                ..
            } => {
                let items = match self.eval(collection)? {
                    Value::Set(items) | Value::List(items) => items,
                    _ => return Err(internal(e.span)),
                };
                let mut acc = match q {
                    Quantifier::Exists => Value::Bool(false),
                    Quantifier::All => Value::Bool(true),
                    Quantifier::Count => Value::Int(0),
                    Quantifier::Sum => zero(&e.ty, e.span)?,
                    Quantifier::Earliest | Quantifier::Latest => return Err(internal(e.span)),
                };
                for item in items.iter() {
                    self.locals.push(item.clone());
                    let r = self.eval(body);
                    self.locals.pop();
                    let v = r?;
                    match q {
                        Quantifier::Exists if v == Value::Bool(true) => {
                            return Ok(Value::Bool(true));
                        }
                        Quantifier::All if v == Value::Bool(false) => {
                            return Ok(Value::Bool(false));
                        }
                        Quantifier::Count if v == Value::Bool(true) => {
                            acc = binary(BinOp::Add, acc, Value::Int(1), e.span)?
                        }
                        Quantifier::Sum => acc = binary(BinOp::Add, acc, v, e.span)?,
                        _ => {}
                    }
                }
                Ok(acc)
            }
            ExprKind::Set(items) => {
                let vs = items
                    .iter()
                    .map(|x| self.eval(x))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::set(vs))
            }
            ExprKind::List(items) => {
                let vs = items
                    .iter()
                    .map(|x| self.eval(x))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::List(vs.into()))
            }
            ExprKind::Struct(id, fields) => {
                let vs = fields
                    .iter()
                    .map(|x| self.eval(x))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::Struct(*id, vs.into()))
            }
            ExprKind::Call(Builtin::Present, args) => match args.first().map(|a| &a.kind) {
                Some(ExprKind::Field(base, i)) => match self.eval(base)? {
                    Value::Struct(_, fields) => Ok(Value::Bool(!matches!(
                        fields.get(*i as usize),
                        Some(Value::Absent) | None
                    ))),
                    _ => Err(internal(e.span)),
                },
                _ => Err(internal(e.span)),
            },
            ExprKind::Call(b, args) => {
                let vs = args
                    .iter()
                    .map(|x| self.eval(x))
                    .collect::<Result<Vec<_>, _>>()?;
                call(*b, vs, e.span)
            }
            ExprKind::PeriodEnd {
                start,
                period,
                schema,
            } => {
                let (Value::Date(d), Value::Duration(p)) = (self.eval(start)?, self.eval(period)?)
                else {
                    return Err(internal(e.span));
                };
                let last = d.add_duration(p).ok_or_else(|| date_range(e.span))?;
                let cal = self.calendar(*schema, e.span)?;
                let outside = || EvalError::outside_calendar(period_end_gap(&cal, last), e.span);
                match cal.is_working_day(last) {
                    Some(true) => Ok(Value::Date(last)),
                    Some(false) => cal.add(last, 1).map(Value::Date).map_err(|_| outside()),
                    None => Err(outside()),
                }
            }
            ExprKind::WorkingDays {
                date,
                count,
                schema,
                backwards,
            } => {
                let (Value::Date(d), Value::WorkingDays(n)) = (self.eval(date)?, self.eval(count)?)
                else {
                    return Err(internal(e.span));
                };
                let cal = self.calendar(*schema, e.span)?;
                let signed = if *backwards {
                    n.checked_neg().ok_or_else(|| overflow(e.span))?
                } else {
                    n
                };
                cal.add(d, signed).map(Value::Date).map_err(|err| {
                    EvalError::outside_calendar(working_days_gap(&cal, d, signed, err), e.span)
                })
            }
            ExprKind::ToDecimal(x) => match self.eval(x)? {
                Value::Int(i) => Ok(Value::Decimal(Decimal::from(i))),
                _ => Err(internal(e.span)),
            },
        }
    }
}

fn internal(span: Span) -> EvalError {
    EvalError::new(
        EvalErrorKind::Internal,
        "internal error: ill-typed IR reached the interpreter",
        span,
    )
}

fn overflow(span: Span) -> EvalError {
    EvalError::new(EvalErrorKind::Overflow, "arithmetic overflow", span)
}

fn date_range(span: Span) -> EvalError {
    EvalError::new(
        EvalErrorKind::DateOutOfRange,
        "the date falls outside years 1 to 9999",
        span,
    )
}

fn zero(ty: &Ty, span: Span) -> Result<Value, EvalError> {
    norm_compiler::value::zero_of(ty).ok_or_else(|| internal(span))
}

pub fn neg(v: Value, span: Span) -> Result<Value, EvalError> {
    Ok(match v {
        Value::Int(i) => Value::Int(i.checked_neg().ok_or_else(|| overflow(span))?),
        Value::Decimal(d) => Value::Decimal(-d),
        Value::Money(d) => Value::Money(-d),
        Value::Percent(d) => Value::Percent(-d),
        Value::Duration(d) => Value::Duration(d.checked_neg().ok_or_else(|| overflow(span))?),
        _ => return Err(internal(span)),
    })
}

fn dec_div(a: Decimal, b: Decimal, span: Span) -> Result<Decimal, EvalError> {
    if b.is_zero() {
        return Err(EvalError::new(
            EvalErrorKind::DivisionByZero,
            "division by zero",
            span,
        ));
    }
    let q = a.checked_div(b).ok_or_else(|| overflow(span))?;
    // rust_decimal rounds a quotient that needs more than 28 significant digits; such a
    // quotient (1/3) has no exact decimal form. A quotient below that limit is exact exactly
    // when multiplying back gives the dividend.
    let at_precision_limit = q.mantissa().unsigned_abs() >= 10u128.pow(27);
    if at_precision_limit || q.checked_mul(b) != Some(a) {
        return Err(EvalError::new(
            EvalErrorKind::InexactDivision,
            format!("{a} / {b} has no exact decimal result"),
            span,
        ));
    }
    Ok(q)
}

fn dec(r: Option<Decimal>, span: Span) -> Result<Decimal, EvalError> {
    r.ok_or_else(|| overflow(span))
}

/// Decimal arithmetic, whatever the decimal type (decimal, money, percentage): exact or an
/// error. The one definition both engines use.
pub fn dec_arith(op: BinOp, a: Decimal, b: Decimal, span: Span) -> Result<Decimal, EvalError> {
    match op {
        BinOp::Add => dec(a.checked_add(b), span),
        BinOp::Sub => dec(a.checked_sub(b), span),
        BinOp::Mul => dec(a.checked_mul(b), span),
        BinOp::Div => dec_div(a, b, span),
        _ => Err(internal(span)),
    }
}

/// A comparison of a date counted past the calendar (`u`, an `OutsideCalendar` error with what
/// is known of the date) with a known date `d`, where its answer does not depend on the unknown
/// day: a count forward past the last covered year lands on or after 1 January of the next, a
/// count from a date outside the calendar on or after (or before) that date.
/// `flipped`: the known date is on the left. `None`: not decidable.
fn past_calendar(op: BinOp, u: &EvalError, d: Date, flipped: bool) -> Option<Value> {
    if u.kind != EvalErrorKind::OutsideCalendar {
        return None;
    }
    let (bound, on_or_after) = u.calendar_bound?;
    // Whether the unknown date is after `d` (it is on or after a day later than `d`) or
    // before it (on or before a day earlier than `d`).
    let after = if on_or_after && d < bound {
        true
    } else if !on_or_after && d > bound {
        false
    } else {
        return None;
    };
    let left_after = if flipped { !after } else { after };
    Some(Value::Bool(match op {
        BinOp::Lt | BinOp::Le => !left_after,
        BinOp::Gt | BinOp::Ge => left_after,
        BinOp::Eq => false,
        BinOp::Ne => true,
        _ => return None,
    }))
}

pub fn binary(op: BinOp, x: Value, y: Value, span: Span) -> Result<Value, EvalError> {
    use Value::*;
    Ok(match (op, x, y) {
        (BinOp::Eq, a, b) => Bool(a == b),
        (BinOp::Ne, a, b) => Bool(a != b),
        (BinOp::Lt, a, b) => Bool(a < b),
        (BinOp::Le, a, b) => Bool(a <= b),
        (BinOp::Gt, a, b) => Bool(a > b),
        (BinOp::Ge, a, b) => Bool(a >= b),
        (BinOp::In, a, Set(items)) => Bool(items.binary_search(&a).is_ok()),
        (BinOp::In, a, List(items)) => Bool(items.contains(&a)),
        (BinOp::Add, Int(a), Int(b)) => Int(a.checked_add(b).ok_or_else(|| overflow(span))?),
        (BinOp::Sub, Int(a), Int(b)) => Int(a.checked_sub(b).ok_or_else(|| overflow(span))?),
        (BinOp::Mul, Int(a), Int(b)) => Int(a.checked_mul(b).ok_or_else(|| overflow(span))?),
        (op @ (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div), Decimal(a), Decimal(b)) => {
            Decimal(dec_arith(op, a, b, span)?)
        }
        (op @ (BinOp::Add | BinOp::Sub), Money(a), Money(b)) => Money(dec_arith(op, a, b, span)?),
        (op @ (BinOp::Add | BinOp::Sub), Percent(a), Percent(b)) => {
            Percent(dec_arith(op, a, b, span)?)
        }
        (BinOp::Mul, Money(a), Decimal(b) | Percent(b))
        | (BinOp::Mul, Decimal(b) | Percent(b), Money(a)) => {
            Money(dec_arith(BinOp::Mul, a, b, span)?)
        }
        (BinOp::Mul, Percent(a), Decimal(b)) | (BinOp::Mul, Decimal(b), Percent(a)) => {
            Decimal(dec_arith(BinOp::Mul, a, b, span)?)
        }
        (BinOp::Div, Money(a), Decimal(b)) => Money(dec_arith(BinOp::Div, a, b, span)?),
        (BinOp::Div, Money(a), Money(b)) => Decimal(dec_arith(BinOp::Div, a, b, span)?),
        (BinOp::Add, Date(d), Duration(p)) => {
            Date(d.add_duration(p).ok_or_else(|| date_range(span))?)
        }
        (BinOp::Sub, Date(d), Duration(p)) => {
            Date(d.sub_duration(p).ok_or_else(|| date_range(span))?)
        }
        (BinOp::Sub, Date(a), Date(b)) => {
            Int(i64::from(a.days_since_epoch()) - i64::from(b.days_since_epoch()))
        }
        (BinOp::Add, Duration(a), Duration(b)) => {
            Duration(a.checked_add(b).ok_or_else(|| overflow(span))?)
        }
        (BinOp::Sub, Duration(a), Duration(b)) => Duration(
            b.checked_neg()
                .and_then(|nb| a.checked_add(nb))
                .ok_or_else(|| overflow(span))?,
        ),
        _ => return Err(internal(span)),
    })
}

pub fn call(b: Builtin, args: Vec<Value>, span: Span) -> Result<Value, EvalError> {
    let mut it = args.into_iter();
    let first = it.next().ok_or_else(|| internal(span))?;
    Ok(match b {
        // Evaluated on the field, not its value (see `Env::eval`).
        Builtin::Present => return Err(internal(span)),
        Builtin::Min => {
            let second = it.next().ok_or_else(|| internal(span))?;
            first.min(second)
        }
        Builtin::Max => {
            let second = it.next().ok_or_else(|| internal(span))?;
            first.max(second)
        }
        Builtin::Size => match first {
            Value::Set(items) | Value::List(items) => {
                Value::Int(i64::try_from(items.len()).map_err(|_| overflow(span))?)
            }
            _ => return Err(internal(span)),
        },
        Builtin::WorkingDays => {
            let Value::Int(n) = first else {
                return Err(internal(span));
            };
            Value::WorkingDays(n)
        }
        Builtin::Days | Builtin::Months | Builtin::Years => {
            let Value::Int(n) = first else {
                return Err(internal(span));
            };
            let d = match b {
                Builtin::Days => norm_compiler::date::Duration::days(n),
                Builtin::Months => norm_compiler::date::Duration::months(n),
                _ => norm_compiler::date::Duration::months(
                    n.checked_mul(12).ok_or_else(|| overflow(span))?,
                ),
            };
            Value::Duration(d)
        }
    })
}

/// A date value, for the CLI's `--as-of` checks.
pub fn date_of(v: &Value) -> Option<Date> {
    match v {
        Value::Date(d) => Some(*d),
        _ => None,
    }
}
