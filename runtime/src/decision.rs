//! Deciding a case, and the [`Decision`] it yields (DESIGN §6, a contract).
//!
//! Norms are decided in the order the compiler computed (every norm after the norms that may
//! defeat it): a norm is *in* when its condition holds and no norm that defeats it is in.
//! Opposite norms that are both in, with no priority between them, are reported as a
//! conflict: never resolved by declaration order.

use crate::facts::{money_json, to_json};
use crate::interp::{Env, EvalError};
use norm_compiler::date::Date;
use norm_compiler::ir::{DataModule, Expr, ExprKind, Norm, Program};
use norm_compiler::syntax::ast::NormKind;
use norm_compiler::value::Value;
use serde::Serialize;
use serde_json::Value as Json;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    pub law: LawRef,
    pub as_of: String,
    pub data: Vec<DataRef>,
    pub norms: Vec<NormOut>,
    pub penalties: Vec<PenaltyOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<WarningOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<ConflictOut>,
    /// The legal characterisations the law's findings make of the case (DESIGN §6).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<FindingOut>,
    pub values: serde_json::Map<String, Json>,
    /// A case decided for several parties or systems: the values of the definitions that
    /// depend on the party or the system, for each (`values` holds those that do not).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<SubjectValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Vec<Explanation>>,
    /// With `--why-not ID`: why that norm does not apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not: Option<crate::why::WhyNot>,
}

/// The values a case's definitions take for one party (and system).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubjectValues {
    pub party: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub values: serde_json::Map<String, Json>,
}

/// Whom one evaluation of a case decides for (DESIGN §3.1): with subjects, the case is
/// evaluated once per party and system it develops, provides or uses; each evaluation reports
/// the norms that depend on what it binds, and each norm names the party (and system).
#[derive(Clone, Debug)]
pub struct Who {
    pub party: Option<String>,
    pub system: Option<String>,
    /// The subjects this evaluation binds for real ([`norm_compiler::ir::Reads`] bits): a party
    /// with no system of its own is evaluated for its party-level norms only.
    pub decides: norm_compiler::ir::Reads,
    /// The case's first evaluation: it reports what depends on no subject.
    pub first: bool,
    /// The party's first evaluation: it reports what depends on the party only.
    pub first_of_party: bool,
}

impl Who {
    /// A law without subjects: one evaluation decides the whole case.
    pub fn whole_case() -> Who {
        Who {
            party: None,
            system: None,
            decides: norm_compiler::ir::Reads::MAX,
            first: true,
            first_of_party: true,
        }
    }

    /// Whether what depends on the subjects `reads` is reported from this evaluation, and for
    /// which party and system.
    pub fn reports(
        &self,
        reads: norm_compiler::ir::Reads,
    ) -> Option<(Option<String>, Option<String>)> {
        if reads & 2 != 0 {
            (self.decides & 2 != 0).then(|| (self.party.clone(), self.system.clone()))
        } else if reads & 1 != 0 {
            self.first_of_party.then(|| (self.party.clone(), None))
        } else {
            self.first.then_some((None, None))
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LawRef {
    pub name: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataRef {
    pub name: String,
    pub version: String,
    pub effective: String,
    /// The SHA-256 of the module's source (in the Decision's `data`; omitted in explanations,
    /// which name the module the Decision already identifies).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub hash: String,
}

impl DataRef {
    fn of(m: &DataModule, with_hash: bool) -> DataRef {
        DataRef {
            name: m.name.clone(),
            version: m.version.clone(),
            effective: m.effective.to_string(),
            hash: if with_hash {
                m.hash.clone()
            } else {
                String::new()
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NormOut {
    pub id: String,
    pub kind: &'static str,
    pub article: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paragraph: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addressee: Option<String>,
    /// The party the norm binds (its id in the case), where the law decides it per party.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    /// The system it concerns, where it depends on one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The other parties the duty concerns (to notify, to cooperate with), by id.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub counterparties: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    /// Why the due date could not be computed (the norm applies all the same).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_unknown: Option<String>,
    /// The status of a duty on the decision's date: `pending`, `fulfilled`, `fulfilled_late`,
    /// `overdue`, `standing` or `violated` (obligations and prohibitions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    /// When an event of the case shows the duty done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done: Option<String>,
    /// A retention duty: the date until which the records must be kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_until: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PenaltyOut {
    pub id: String,
    pub article: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paragraph: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addressee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    pub min: Json,
    pub max: Json,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WarningOut {
    pub id: String,
    /// The party (and system) the warning is about, where the law decides per party.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The article the warning is about; empty (omitted) for a warning about the data, such as
    /// a calendar year that is missing.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub article: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paragraph: Option<u32>,
    pub text: String,
}

/// A finding: a characterisation the law makes of the case, with its citation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingOut {
    pub id: String,
    pub article: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paragraph: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<u32>,
    pub holds: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// What the finding means, from its documentation.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub meaning: String,
    /// With `--explain`: the facts and data it rests on, with the case's values.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub rests_on: serde_json::Map<String, Json>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConflictOut {
    pub norms: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub articles: Vec<String>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    pub norm: String,
    pub kind: &'static str,
    pub article: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paragraph: Option<u32>,
    /// `applies`, `defeated` or `conflict`.
    pub status: &'static str,
    /// What the norm requires, in the law's words.
    pub text: String,
    pub conditions: Vec<Condition>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub defeated_by: Vec<String>,
    /// Norms that could have defeated this one, and whether they applied.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exceptions_considered: Vec<Considered>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Condition {
    pub condition: String,
    /// What the condition means, from the documentation of the definition or fact it names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meaning: Option<String>,
    pub holds: bool,
    /// The facts, data and definitions the condition read, with their values.
    pub values: serde_json::Map<String, Json>,
    /// The data modules the condition read, with the versions in force.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<DataRef>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Considered {
    pub norm: String,
    pub article: String,
    pub applies: bool,
}

/// The data module of each schema in force on `as_of`: the latest one effective on or before it.
pub fn select_data<'d>(
    program: &Program,
    modules: &'d [DataModule],
    as_of: Date,
) -> Vec<Option<&'d DataModule>> {
    select_data_index(program, modules, as_of)
        .into_iter()
        .map(|i| i.and_then(|i| modules.get(i)))
        .collect()
}

/// [`select_data`] as indices into `modules`.
pub fn select_data_index(
    program: &Program,
    modules: &[DataModule],
    as_of: Date,
) -> Vec<Option<usize>> {
    (0..program.schemas.len())
        .map(|s| {
            modules
                .iter()
                .enumerate()
                .filter(|(_, m)| m.schema as usize == s && m.effective <= as_of)
                .max_by_key(|(_, m)| m.effective)
                .map(|(i, _)| i)
        })
        .collect()
}

/// What deciding a case computed, whichever engine computed it: the input of [`build`].
#[derive(Clone, Debug, PartialEq)]
pub struct Decided {
    /// Per norm: its condition held (and it was in force).
    pub applicable: Vec<bool>,
    /// Per norm: it applies (held and was not defeated).
    pub applies: Vec<bool>,
    /// Per norm that applies: its due date, unless it has none or needs a fact not given.
    pub due: Vec<Option<Value>>,
    /// Per norm that applies: why its due date could not be computed (outside the calendar).
    pub due_unknown: Vec<Option<crate::interp::CalendarGap>>,
    /// Per norm that applies: the date an event shows it done (`done`), if any.
    pub done: Vec<Option<Value>>,
    /// Per norm that applies: whether the case shows the prohibited conduct (`violated`).
    pub violated: Vec<bool>,
    /// Per norm that applies: the end of its retention period (`keep_until`).
    pub keep_until: Vec<Option<Value>>,
    /// Per penalty that applies: its minimum and maximum fine.
    pub fines: Vec<Option<(Value, Value)>>,
    /// Per norm that applies: the other parties it concerns (`counterparty`).
    pub counterparties: Vec<Option<Value>>,
    /// Per definition: its value.
    pub defs: Vec<Option<Value>>,
    /// The norms whose condition could not be decided: it counts working days in a year the
    /// calendar does not cover (the interpreter decides such a case for both engines).
    pub undecided: Vec<(u32, crate::interp::CalendarGap)>,
}

/// The law must be in force on the date.
pub fn law_in_force(program: &Program, as_of: Date) -> Result<(), EvalError> {
    if norm_compiler::ir::in_period(as_of, program.law.effective, program.law.until) {
        return Ok(());
    }
    let law = &program.law;
    let when = match (law.effective, law.until) {
        (Some(f), _) if as_of < f => format!("it takes effect on {f}"),
        (_, Some(u)) => format!("it ceased to be in force after {u}"),
        _ => String::new(),
    };
    Err(EvalError {
        kind: crate::interp::EvalErrorKind::NotInForce,
        message: format!(
            "law {} {} is not in force on {as_of}: {when}",
            law.name, law.version
        ),
        span: None,
        related: Vec::new(),
        calendar_year: None,
        calendar_bound: None,
    })
}

/// A date before the law's data: when some data module of the law has versions, none of them
/// yet in force on `as_of`, the error says so in the law's terms (the date, and the first date
/// from which each module applies, with the dates it sets, such as the commencement module's
/// implementation date) instead of naming the rule that first read the missing module.
pub fn before_the_data(
    program: &Program,
    modules: &[DataModule],
    as_of: Date,
) -> Option<EvalError> {
    let mut early = Vec::new();
    let mut first = Vec::new();
    for (s, schema) in program.schemas.iter().enumerate() {
        let versions: Vec<&DataModule> =
            modules.iter().filter(|m| m.schema as usize == s).collect();
        let Some(m) = versions.iter().min_by_key(|m| m.effective) else {
            continue;
        };
        let dates: Vec<String> = schema
            .fields
            .iter()
            .zip(&m.values)
            .filter_map(|(f, v)| match v {
                Value::Date(d) => Some(match f.doc.first() {
                    Some(doc) => format!("{} = {d} ({})", f.name, doc.trim()),
                    None => format!("{} = {d}", f.name),
                }),
                _ => None,
            })
            .collect();
        let sets = if dates.is_empty() {
            String::new()
        } else {
            format!(", which sets {}", dates.join(", "))
        };
        first.push(format!(
            "`{}` version {} from {}{sets}",
            m.name, m.version, m.effective
        ));
        if m.effective > as_of {
            early.push((m.effective, m.name.clone()));
        }
    }
    let (start, _) = early.iter().min()?;
    let names: Vec<String> = early.iter().map(|(_, n)| format!("`{n}`")).collect();
    Some(EvalError {
        kind: crate::interp::EvalErrorKind::MissingData,
        message: format!(
            "{as_of} is before the law's data apply: no version of {} is in force on that date. The first versions of the law's data modules: {}. Decide the case as of {start} or later",
            names.join(", "),
            first.join("; ")
        ),
        span: None,
        related: Vec::new(),
        calendar_year: None,
        calendar_bound: None,
    })
}

/// Every norm in the order the Decision lists them (article, paragraph, item, declaration);
/// due dates and fines are computed in this order.
pub fn decision_order(program: &Program) -> Vec<usize> {
    let mut order: Vec<usize> = (0..program.norms.len()).collect();
    order.sort_by_key(|&i| {
        let n = program.norms.get(i);
        (
            n.and_then(|n| program.article(n))
                .map(|a| a.number)
                .unwrap_or(0),
            n.and_then(|n| n.paragraph).unwrap_or(0),
            n.and_then(|n| n.item).unwrap_or(0),
            i,
        )
    });
    order
}

/// Pairs of norms that both apply, opposite on one act with no priority between them.
pub fn conflicts(program: &Program, applies: &[bool]) -> Vec<(u32, u32)> {
    let mut conflicts = Vec::new();
    for (i, norm) in program.norms.iter().enumerate() {
        if applies.get(i) != Some(&true) {
            continue;
        }
        for &c in &norm.conflicts {
            if (c as usize) > i && applies.get(c as usize) == Some(&true) {
                conflicts.push((i as u32, c));
            }
        }
    }
    conflicts
}

/// The result of deciding, with the evaluation state kept for tests and explanations.
pub struct Outcome<'p> {
    pub env: Env<'p>,
    /// Per norm: its condition held.
    pub applicable: Vec<bool>,
    /// Per norm: it applies (held and was not defeated).
    pub applies: Vec<bool>,
    pub conflicts: Vec<(u32, u32)>,
}

pub fn evaluate<'p>(
    program: &'p Program,
    facts: Vec<Value>,
    modules: &[DataModule],
    as_of: Date,
) -> Result<Outcome<'p>, EvalError> {
    evaluate_in(program, facts, modules, as_of).map_err(|e| match e.kind {
        crate::interp::EvalErrorKind::MissingData => {
            before_the_data(program, modules, as_of).unwrap_or(e)
        }
        _ => e,
    })
}

fn evaluate_in<'p>(
    program: &'p Program,
    facts: Vec<Value>,
    modules: &[DataModule],
    as_of: Date,
) -> Result<Outcome<'p>, EvalError> {
    law_in_force(program, as_of)?;
    let selected = select_data(program, modules, as_of);
    let mut env = Env::with_modules(program, facts, &selected);
    env.as_of = Some(as_of);
    env.eval_defs()?;
    absent_defs(program, &mut env)?;
    let n = program.norms.len();
    let mut applicable = vec![false; n];
    let mut applies = vec![false; n];
    for &i in &program.norm_order {
        let Some(norm) = program.norms.get(i as usize) else {
            continue;
        };
        // A norm whose article version (or own period) is not in force on the date is not
        // even considered.
        // A condition that counts working days in a year the calendar does not cover cannot
        // be decided: the norm is not shown to apply, and the calendar warning names it.
        let held = program.norm_in_force(norm, as_of)
            && match &norm.when {
                Some(w) => match env.eval_bool(w) {
                    Ok(b) => b,
                    Err(e) if e.kind == crate::interp::EvalErrorKind::OutsideCalendar => {
                        if let Some(year) = e.calendar_year {
                            env.undecided.push((
                                i,
                                crate::interp::CalendarGap {
                                    year,
                                    message: e.message,
                                    bound: e.calendar_bound,
                                },
                            ));
                        }
                        false
                    }
                    Err(e) => return Err(e),
                },
                None => true,
            };
        let defeated = norm
            .defeaters
            .iter()
            .any(|d| applies.get(*d as usize) == Some(&true));
        if let Some(a) = applicable.get_mut(i as usize) {
            *a = held;
        }
        if let Some(a) = applies.get_mut(i as usize) {
            *a = held && !defeated;
        }
    }
    let conflicts = conflicts(program, &applies);
    Ok(Outcome {
        env,
        applicable,
        applies,
        conflicts,
    })
}

fn article_number(program: &Program, n: &Norm) -> String {
    program
        .article(n)
        .map(|a| a.number.to_string())
        .unwrap_or_default()
}

/// Decides a case with the interpreter: the norms that apply as of `as_of`, with their
/// deadlines and fines.
pub fn decide(
    program: &Program,
    facts: Vec<Value>,
    modules: &[DataModule],
    as_of: Date,
    explain: bool,
) -> Result<Decision, EvalError> {
    let mut out = evaluate(program, facts, modules, as_of)?;
    let decided = finish(program, &mut out)?;
    let selected = select_data(program, modules, as_of);
    let mut decision = build(program, &selected, as_of, &decided);
    if explain {
        decision.explanation = Some(explain_all(
            program,
            &mut out,
            &selected,
            &Who::whole_case(),
        )?);
        explain_findings(program, &mut out, &selected, &mut decision.findings)?;
    }
    Ok(decision)
}

/// The due dates and fines of the norms that apply, in the Decision's order. A due date that
/// depends on a fact the case did not give is unknown, and omitted: never a wrong date.
pub fn finish(program: &Program, out: &mut Outcome<'_>) -> Result<Decided, EvalError> {
    let n = program.norms.len();
    let mut due = vec![None; n];
    let mut due_unknown = vec![None; n];
    let mut done = vec![None; n];
    let mut violated = vec![false; n];
    let mut keep_until = vec![None; n];
    let mut fines = vec![None; n];
    let counterparties = counterparties(program, &mut out.env, &out.applies)?;
    for i in decision_order(program) {
        let Some(norm) = program.norms.get(i) else {
            continue;
        };
        if out.applies.get(i) != Some(&true) {
            continue;
        }
        match norm.kind {
            NormKind::Penalty => {
                if let Some((lo, hi)) = &norm.fine {
                    let v = (out.env.eval(lo)?, out.env.eval(hi)?);
                    if let Some(slot) = fines.get_mut(i) {
                        *slot = Some(v);
                    }
                }
            }
            NormKind::Warning => {}
            _ => {
                if let Some(d) = &norm.due {
                    match out.env.eval(d) {
                        Ok(v) => {
                            if let Some(slot) = due.get_mut(i) {
                                *slot = Some(v);
                            }
                        }
                        Err(e) if e.kind == crate::interp::EvalErrorKind::MissingFact => {}
                        // A due date past the calendar's years is unknown, with the reason;
                        // the norm still applies (DESIGN §6, `due_unknown`).
                        Err(e) if e.kind == crate::interp::EvalErrorKind::OutsideCalendar => {
                            if let (Some(slot), Some(year)) =
                                (due_unknown.get_mut(i), e.calendar_year)
                            {
                                *slot = Some(crate::interp::CalendarGap {
                                    year,
                                    message: e.message,
                                    bound: e.calendar_bound,
                                });
                            }
                        }
                        Err(e) => return Err(e),
                    }
                }
                // What the case's events show: reading a value the case does not give (no such
                // event) means not done, not violated, no end known.
                let optional = |env: &mut Env<'_>, e: &Option<Expr>| match e {
                    Some(x) => match env.eval(x) {
                        Ok(v) => Ok(Some(v)),
                        Err(err) if err.kind == crate::interp::EvalErrorKind::MissingFact => {
                            Ok(None)
                        }
                        Err(err) => Err(err),
                    },
                    None => Ok(None),
                };
                if let Some(slot) = done.get_mut(i) {
                    *slot = optional(&mut out.env, &norm.done)?;
                }
                if let Some(slot) = violated.get_mut(i) {
                    *slot = optional(&mut out.env, &norm.violated)? == Some(Value::Bool(true));
                }
                if let Some(slot) = keep_until.get_mut(i) {
                    *slot = optional(&mut out.env, &norm.keep_until)?;
                }
            }
        }
    }
    Ok(Decided {
        applicable: out.applicable.clone(),
        applies: out.applies.clone(),
        due,
        due_unknown,
        done,
        violated,
        keep_until,
        fines,
        counterparties,
        defs: out.env.defs.clone(),
        undecided: out.env.undecided.clone(),
    })
}

/// The values of the definitions that may be absent (`Def::inline`: expanded where they are
/// read, never decided on their own), for the Decision's `values`: each where it can be
/// computed, none where it cannot. Both engines report them through this function.
pub fn absent_defs(program: &Program, env: &mut Env<'_>) -> Result<(), EvalError> {
    for (i, d) in program.defs.iter().enumerate() {
        let Some(base) = d.base.as_ref().filter(|_| d.inline) else {
            continue;
        };
        // Only reported, never read by a rule: where it cannot be computed (a value the case
        // does not give, a date out of range), it has no value, and the decision stands.
        let v = env.eval(base).ok();
        if let Some(slot) = env.defs.get_mut(i) {
            *slot = v;
        }
    }
    Ok(())
}

/// Per norm that applies and names a `counterparty`: its value (absent when it reads a value
/// the case does not give). Both engines use this: the ids are read from the case as the
/// definitions' values (`env.defs`) say.
pub fn counterparties(
    program: &Program,
    env: &mut Env<'_>,
    applies: &[bool],
) -> Result<Vec<Option<Value>>, EvalError> {
    let mut out = vec![None; program.norms.len()];
    for (i, n) in program.norms.iter().enumerate() {
        let Some(e) = &n.counterparty else { continue };
        if applies.get(i) != Some(&true) {
            continue;
        }
        // `counterparty p in parties where …`: the ids of the elements that match.
        let value = if e.ty == norm_compiler::value::Ty::Bool {
            env.matching(e).map(|items| {
                let ids: Vec<Value> = items
                    .iter()
                    .filter_map(|v| match v {
                        Value::Text(t) => Some(Value::Text(t.clone())),
                        Value::Struct(sid, fields) => program
                            .types
                            .struct_def(*sid)
                            .and_then(|s| s.fields.iter().position(|f| f.name == "id"))
                            .and_then(|k| fields.get(k).cloned()),
                        _ => None,
                    })
                    .collect();
                Value::List(ids.into())
            })
        } else {
            env.eval(e)
        };
        let v = match value {
            Ok(v) => Some(v),
            Err(err) if err.kind == crate::interp::EvalErrorKind::MissingFact => None,
            Err(err) => return Err(err),
        };
        if let Some(slot) = out.get_mut(i) {
            *slot = v;
        }
    }
    Ok(out)
}

/// The ids a counterparty value names, in order, each once.
fn ids_of(v: Option<&Option<Value>>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut push = |t: &str| {
        if !ids.iter().any(|x| x == t) {
            ids.push(t.to_string());
        }
    };
    match v {
        Some(Some(Value::Text(t))) => push(t),
        Some(Some(Value::Set(xs) | Value::List(xs))) => {
            for x in xs.iter() {
                if let Value::Text(t) = x {
                    push(t);
                }
            }
        }
        _ => {}
    }
    ids
}

/// The Decision (without explanation) from what an engine computed, for a case decided once.
pub fn build(
    program: &Program,
    selected: &[Option<&DataModule>],
    as_of: Date,
    d: &Decided,
) -> Decision {
    build_for(program, selected, as_of, d, &Who::whole_case())
}

/// What one evaluation of the case reports ([`Who::reports`]), each entry naming its party
/// and system.
pub fn build_for(
    program: &Program,
    selected: &[Option<&DataModule>],
    as_of: Date,
    d: &Decided,
    who: &Who,
) -> Decision {
    let norm_reach = |i: usize| program.reach.norms.get(i).copied().unwrap_or(0);
    let role = |i: Option<u32>| {
        i.and_then(|i| program.roles.get(i as usize))
            .map(|r| r.name.clone())
    };
    let authority = |i: Option<u32>| {
        i.and_then(|i| program.authorities.get(i as usize))
            .map(|r| r.name.clone())
    };
    let mut decision = Decision {
        law: LawRef {
            name: program.law.name.clone(),
            version: program
                .law_version(as_of)
                .map(|v| v.version.clone())
                .unwrap_or_else(|| program.law.version.clone()),
        },
        as_of: as_of.to_string(),
        data: selected
            .iter()
            .flatten()
            .map(|m| DataRef::of(m, true))
            .collect(),
        norms: Vec::new(),
        penalties: Vec::new(),
        warnings: Vec::new(),
        conflicts: Vec::new(),
        findings: findings(program, d, who),
        values: serde_json::Map::new(),
        subjects: Vec::new(),
        explanation: None,
        why_not: None,
    };
    for i in decision_order(program) {
        let Some(n) = program.norms.get(i) else {
            continue;
        };
        if d.applies.get(i) != Some(&true) {
            continue;
        }
        let Some((party, system)) = who.reports(norm_reach(i)) else {
            continue;
        };
        let article = article_number(program, n);
        match n.kind {
            NormKind::Penalty => {
                let Some(Some((min, max))) = d.fines.get(i) else {
                    continue;
                };
                let money = |v: &Value| match v {
                    Value::Money(d) => money_json(d),
                    other => to_json(&program.types, other),
                };
                decision.penalties.push(PenaltyOut {
                    id: n.id.clone(),
                    article,
                    paragraph: n.paragraph,
                    addressee: role(n.addressee),
                    party,
                    system,
                    authority: authority(n.authority),
                    min: money(min),
                    max: money(max),
                    text: n.text.clone(),
                });
            }
            NormKind::Warning => decision.warnings.push(WarningOut {
                id: n.id.clone(),
                party,
                system,
                article,
                paragraph: n.paragraph,
                text: n.text.clone(),
            }),
            kind => {
                let date = |v: Option<&Option<Value>>| match v {
                    Some(Some(Value::Date(d))) => Some(*d),
                    _ => None,
                };
                let status = norm_compiler::ir::Status::of(
                    kind,
                    as_of,
                    n.due.is_some(),
                    date(d.due.get(i)),
                    date(d.done.get(i)),
                    d.violated.get(i) == Some(&true),
                );
                decision.norms.push(NormOut {
                    id: n.id.clone(),
                    kind: kind.keyword(),
                    article,
                    paragraph: n.paragraph,
                    item: n.item,
                    addressee: role(n.addressee),
                    party,
                    system,
                    counterparties: ids_of(d.counterparties.get(i)),
                    authority: authority(n.authority),
                    due: d.due.get(i).cloned().flatten().map(|v| v.to_string()),
                    due_unknown: d.due_unknown.get(i).cloned().flatten().map(|g| g.message),
                    status: status.map(norm_compiler::ir::Status::name),
                    done: date(d.done.get(i)).map(|x| x.to_string()),
                    keep_until: date(d.keep_until.get(i)).map(|x| x.to_string()),
                    text: n.text.clone(),
                })
            }
        }
    }
    calendar_warnings(program, selected, d, &mut decision);
    for (a, b) in conflicts(program, &d.applies) {
        let (Some(na), Some(nb)) = (program.norms.get(a as usize), program.norms.get(b as usize))
        else {
            continue;
        };
        let Some((party, system)) = who.reports(norm_reach(a as usize) | norm_reach(b as usize))
        else {
            continue;
        };
        decision.conflicts.push(ConflictOut {
            norms: vec![na.id.clone(), nb.id.clone()],
            party,
            system,
            articles: vec![article_number(program, na), article_number(program, nb)],
            message: format!(
                "{} `{}` (art. {}) and {} `{}` (art. {}) both apply to the same act with no priority between them",
                na.kind.keyword(),
                na.id,
                article_number(program, na),
                nb.kind.keyword(),
                nb.id,
                article_number(program, nb)
            ),
        });
    }
    for (i, def) in program.defs.iter().enumerate() {
        let reads = program.reach.defs.get(i).copied().unwrap_or(0);
        if let Some(Some(v)) = d.defs.get(i)
            && who.reports(reads).is_some()
        {
            decision
                .values
                .insert(def.name.clone(), to_json(&program.types, v));
        }
    }
    decision
}

/// `Art. 66(1) item 2`, as far as the citation goes.
pub fn cite(article: &str, paragraph: Option<u32>, item: Option<u32>) -> String {
    let mut c = format!("Art. {article}");
    if let Some(p) = paragraph {
        c.push_str(&format!("({p})"));
    }
    if let Some(i) = item {
        c.push_str(&format!(" item {i}"));
    }
    c
}

/// Every finding decided on the date (a version of a finding outside its period is not), in the
/// order of the law: article, paragraph, item.
fn findings(program: &Program, d: &Decided, who: &Who) -> Vec<FindingOut> {
    let mut out: Vec<(u32, FindingOut)> = Vec::new();
    for (i, def) in program.defs.iter().enumerate() {
        let (Some(f), Some(Some(Value::Bool(holds)))) = (def.finding, d.defs.get(i)) else {
            continue;
        };
        let Some((party, system)) = who.reports(program.reach.defs.get(i).copied().unwrap_or(0))
        else {
            continue;
        };
        if let Some(g) = f.when
            && d.defs.get(g as usize) != Some(&Some(Value::Bool(true)))
        {
            continue;
        }
        let article = def.article.and_then(|a| program.articles.get(a as usize));
        out.push((
            article.map(|a| a.number).unwrap_or(0),
            FindingOut {
                id: def.name.clone(),
                article: article.map(|a| a.number.to_string()).unwrap_or_default(),
                paragraph: f.paragraph,
                item: f.item,
                holds: *holds,
                party,
                system,
                meaning: def.doc.join(" ").trim().to_string(),
                rests_on: serde_json::Map::new(),
            },
        ));
    }
    out.sort_by_key(|(a, f)| (*a, f.paragraph.unwrap_or(0), f.item.unwrap_or(0)));
    out.into_iter().map(|(_, f)| f).collect()
}

/// One warning per calendar year the due dates needed and the working-day calendar lacks.
fn calendar_warnings(
    program: &Program,
    selected: &[Option<&DataModule>],
    d: &Decided,
    decision: &mut Decision,
) {
    // Per year: the norms whose due date is unknown, and those whose condition is undecided.
    let mut years: Vec<(i32, Vec<String>, Vec<String>)> = Vec::new();
    let cite = |n: &Norm| {
        let mut cite = format!("`{}` (Art. {}", n.id, article_number(program, n));
        if let Some(p) = n.paragraph {
            cite.push_str(&format!("({p})"));
        }
        cite.push(')');
        cite
    };
    let mut entries: Vec<(i32, bool, String)> = Vec::new();
    for i in decision_order(program) {
        let (Some(Some(gap)), Some(n)) = (d.due_unknown.get(i), program.norms.get(i)) else {
            continue;
        };
        entries.push((gap.year, false, cite(n)));
    }
    for (i, gap) in &d.undecided {
        if let Some(n) = program.norms.get(*i as usize) {
            entries.push((gap.year, true, cite(n)));
        }
    }
    for (year, undecided, c) in entries {
        if !years.iter().any(|(y, _, _)| *y == year) {
            years.push((year, Vec::new(), Vec::new()));
        }
        if let Some((_, due, open)) = years.iter_mut().find(|(y, _, _)| *y == year) {
            let list = if undecided { open } else { due };
            if !list.contains(&c) {
                list.push(c);
            }
        }
    }
    let calendar = selected
        .iter()
        .flatten()
        .find(|m| m.calendar.is_some())
        .map(|m| format!("(data module `{}` version {})", m.name, m.version))
        .unwrap_or_else(|| "the working-day calendar".to_string());
    for (year, due, open) in years {
        let mut parts = Vec::new();
        if !due.is_empty() {
            parts.push(format!("the due date of {} is unknown", due.join(", ")));
        }
        if !open.is_empty() {
            let (verb, their, are) = if open.len() > 1 {
                ("apply", "their conditions count", "they are")
            } else {
                ("applies", "its condition counts", "it is")
            };
            parts.push(format!(
                "whether {} {verb} cannot be decided ({their} working days into {year}), so {are} not listed",
                open.join(", ")
            ));
        }
        decision.warnings.push(WarningOut {
            id: "calendar_year_missing".to_string(),
            party: None,
            system: None,
            article: String::new(),
            paragraph: None,
            text: format!(
                "The working-day calendar {calendar} has no year {year}: {} until a version of the calendar module covering {year} (the State Council's holiday arrangements) is loaded.",
                parts.join("; and ")
            ),
        });
    }
}

/// The facts, data fields and definitions an expression reads, with the case's values
/// (definitions expanded to the facts behind them, so the reader sees the case's own values, not
/// only the names of intermediate conclusions), and the data modules it read.
fn rests_on(
    program: &Program,
    env: &mut Env<'_>,
    selected: &[Option<&DataModule>],
    c: &Expr,
) -> Result<(serde_json::Map<String, Json>, Vec<DataRef>), EvalError> {
    let mut values = serde_json::Map::new();
    let mut leaves = Vec::new();
    collect_leaves(c, &mut leaves);
    let mut k = 0;
    while let Some(leaf) = leaves.get(k).copied() {
        k += 1;
        if let ExprKind::Def(i) = leaf.kind
            && let Some(base) = program.defs.get(i as usize).and_then(|d| d.base.as_ref())
            && leaves.len() < 32
        {
            collect_leaves(base, &mut leaves);
        }
    }
    let mut seen = std::collections::HashSet::new();
    leaves.retain(|l| seen.insert(program.show_expr(l)));
    let mut data: Vec<DataRef> = Vec::new();
    for leaf in &leaves {
        let mut schema = None;
        leaf.visit(&mut |x| {
            if let ExprKind::Data(s, _) = x.kind {
                schema = Some(s);
            }
        });
        if let Some(Some(m)) = schema.and_then(|s| selected.get(s as usize))
            && !data.iter().any(|d| d.name == m.name)
        {
            data.push(DataRef::of(m, false));
        }
    }
    for leaf in leaves {
        let v = match env.eval(leaf) {
            Ok(v) => to_json(&program.types, &v),
            Err(e) if e.kind == crate::interp::EvalErrorKind::MissingFact => {
                serde_json::Value::Null
            }
            Err(e) => return Err(e),
        };
        values.insert(program.show_expr(leaf), v);
    }
    Ok((values, data))
}

/// With `--explain`: what each finding rests on (the facts and data its condition read, with
/// the case's values).
pub fn explain_findings(
    program: &Program,
    out: &mut Outcome<'_>,
    selected: &[Option<&DataModule>],
    findings: &mut [FindingOut],
) -> Result<(), EvalError> {
    for f in findings {
        let Some(base) = program
            .defs
            .iter()
            .find(|d| d.name == f.id && d.finding.is_some())
            .and_then(|d| d.base.as_ref())
        else {
            continue;
        };
        f.rests_on = rests_on(program, &mut out.env, selected, base)?.0;
    }
    Ok(())
}

pub fn explain_all(
    program: &Program,
    out: &mut Outcome<'_>,
    selected: &[Option<&DataModule>],
    who: &Who,
) -> Result<Vec<Explanation>, EvalError> {
    let mut list = Vec::new();
    for (i, n) in program.norms.iter().enumerate() {
        if out.applicable.get(i) != Some(&true) {
            continue;
        }
        let Some((party, system)) = who.reports(program.reach.norms.get(i).copied().unwrap_or(0))
        else {
            continue;
        };
        let in_conflict = out
            .conflicts
            .iter()
            .any(|(a, b)| *a as usize == i || *b as usize == i);
        let applies = out.applies.get(i) == Some(&true);
        let status = match (applies, in_conflict) {
            (true, true) => "conflict",
            (true, false) => "applies",
            _ => "defeated",
        };
        let mut conditions = Vec::new();
        if let Some(w) = &n.when {
            for c in conjuncts(w) {
                let holds = out.env.eval_bool(c)?;
                let (values, data) = rests_on(program, &mut out.env, selected, c)?;
                conditions.push(Condition {
                    condition: program.show_expr(c),
                    meaning: meaning(program, c),
                    holds,
                    values,
                    data,
                });
            }
        }
        let name = |j: &u32| {
            program
                .norms
                .get(*j as usize)
                .map(|m| m.id.clone())
                .unwrap_or_default()
        };
        list.push(Explanation {
            norm: n.id.clone(),
            kind: n.kind.keyword(),
            article: article_number(program, n),
            party,
            system,
            article_title: program.article(n).map(|a| a.title.clone()),
            paragraph: n.paragraph,
            status,
            text: n.text.clone(),
            conditions,
            defeated_by: n
                .defeaters
                .iter()
                .filter(|d| out.applies.get(**d as usize) == Some(&true))
                .map(name)
                .collect(),
            exceptions_considered: n
                .defeaters
                .iter()
                .filter_map(|d| {
                    program.norms.get(*d as usize).map(|m| Considered {
                        norm: m.id.clone(),
                        article: article_number(program, m),
                        applies: out.applies.get(*d as usize) == Some(&true),
                    })
                })
                .collect(),
        });
    }
    Ok(list)
}

/// What a condition means in words: the documentation of the definition, fact or field it
/// names (`not` of one reads "not: …").
fn meaning(program: &Program, e: &Expr) -> Option<String> {
    let doc = |lines: &[String]| {
        let text = lines.join(" ").trim().to_string();
        (!text.is_empty()).then_some(text)
    };
    match &e.kind {
        ExprKind::Def(i) => program.defs.get(*i as usize).and_then(|d| doc(&d.doc)),
        ExprKind::Fact(i) => program.facts.get(*i as usize).and_then(|f| doc(&f.doc)),
        ExprKind::Field(base, f) => match &base.ty {
            norm_compiler::value::Ty::Struct(id) => program
                .types
                .struct_def(*id)
                .and_then(|s| s.fields.get(*f as usize))
                .and_then(|fd| doc(&fd.doc)),
            _ => None,
        },
        ExprKind::Not(x) => meaning(program, x).map(|m| format!("not: {m}")),
        _ => None,
    }
}

/// The top-level `and`-ed parts of a condition.
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Bin(norm_compiler::ir::BinOp::And, a, b) => {
            let mut v = conjuncts(a);
            v.extend(conjuncts(b));
            v
        }
        _ => vec![e],
    }
}

/// The facts, data fields and definitions an expression reads (outermost field chains).
/// The facts, data and definitions an expression reads (with repeats), in reading order.
pub(crate) fn collect_leaves<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Fact(_) | ExprKind::Data(..) | ExprKind::Def(_) => out.push(e),
        ExprKind::Field(base, _) if base.is_case_value() => out.push(e),
        ExprKind::Field(base, _)
        | ExprKind::Not(base)
        | ExprKind::Neg(base)
        | ExprKind::ToDecimal(base) => collect_leaves(base, out),
        ExprKind::Bin(_, a, b) => {
            collect_leaves(a, out);
            collect_leaves(b, out);
        }
        ExprKind::If(a, b, c) => {
            collect_leaves(a, out);
            collect_leaves(b, out);
            collect_leaves(c, out);
        }
        // The body's own leaves too (the data a condition compares each element with); the
        // elements themselves are locals, which are no leaves.
        ExprKind::Quant {
            collection,
            filter,
            body,
            ..
        } => {
            collect_leaves(collection, out);
            if let Some(f) = filter {
                collect_leaves(f, out);
            }
            collect_leaves(body, out);
        }
        ExprKind::WorkingDays {
            date: a, count: b, ..
        }
        | ExprKind::PeriodEnd {
            start: a,
            period: b,
            ..
        } => {
            collect_leaves(a, out);
            collect_leaves(b, out);
        }
        ExprKind::Set(xs)
        | ExprKind::List(xs)
        | ExprKind::Struct(_, xs)
        | ExprKind::Call(_, xs) => xs.iter().for_each(|x| collect_leaves(x, out)),
        ExprKind::Const(_) | ExprKind::Local(_) | ExprKind::AsOf => {}
    }
}

/// One Decision from the evaluations of a case ([`Who`]): their entries in order (each names
/// its party and system), the warnings once. With several evaluations, `values` keeps the
/// definitions that depend on no subject and `subjects` the others, per party and system.
pub fn merge(program: &Program, parts: Vec<(Who, Decision)>) -> Decision {
    let several = parts.len() > 1;
    let mut parts = parts.into_iter();
    let Some((first_who, mut merged)) = parts.next() else {
        return Decision {
            law: LawRef {
                name: program.law.name.clone(),
                version: program.law.version.clone(),
            },
            as_of: String::new(),
            data: Vec::new(),
            norms: Vec::new(),
            penalties: Vec::new(),
            warnings: Vec::new(),
            conflicts: Vec::new(),
            findings: Vec::new(),
            values: serde_json::Map::new(),
            subjects: Vec::new(),
            explanation: None,
            why_not: None,
        };
    };
    if !several {
        return merged;
    }
    // The definitions that depend on no subject, once for the whole merge.
    let dependent: std::collections::HashSet<&str> = program
        .defs
        .iter()
        .zip(&program.reach.defs)
        .filter(|(_, r)| **r != 0)
        .map(|(d, _)| d.name.as_str())
        .collect();
    let independent = |name: &str| !dependent.contains(name);
    let split = |who: &Who,
                 values: serde_json::Map<String, Json>,
                 top: &mut serde_json::Map<String, Json>| {
        let mut own = serde_json::Map::new();
        for (k, v) in values {
            if independent(&k) {
                top.insert(k, v);
            } else {
                own.insert(k, v);
            }
        }
        who.party.as_ref().map(|p| SubjectValues {
            party: p.clone(),
            system: if who.decides & 2 != 0 {
                who.system.clone()
            } else {
                None
            },
            values: own,
        })
    };
    let first_values = std::mem::take(&mut merged.values);
    let mut top = serde_json::Map::new();
    merged
        .subjects
        .extend(split(&first_who, first_values, &mut top));
    for (who, d) in parts {
        merged.norms.extend(d.norms);
        merged.penalties.extend(d.penalties);
        for w in d.warnings {
            if !merged.warnings.contains(&w) {
                merged.warnings.push(w);
            }
        }
        merged.conflicts.extend(d.conflicts);
        merged.findings.extend(d.findings);
        if let Some(x) = d.explanation {
            merged.explanation.get_or_insert_with(Vec::new).extend(x);
        }
        merged.subjects.extend(split(&who, d.values, &mut top));
    }
    merged.values = top;
    once_per_party(program, &mut merged);
    merged
}

/// A `per party` norm (one act of the party, whatever the systems it was decided for) is
/// reported once per party: the first of its entries is kept, without a system when the
/// party's entries concerned several.
fn once_per_party(program: &Program, d: &mut Decision) {
    let per_party: std::collections::HashSet<&str> = program
        .norms
        .iter()
        .filter(|n| n.per_party)
        .map(|n| n.id.as_str())
        .collect();
    if per_party.is_empty() {
        return;
    }
    fn collapse<T>(
        items: &mut Vec<T>,
        per_party: &std::collections::HashSet<&str>,
        key: impl Fn(&T) -> (&str, Option<&str>, Option<&str>),
        clear_system: impl Fn(&mut T),
    ) {
        let mut seen: Vec<(String, Option<String>, Option<String>, usize)> = Vec::new();
        let mut keep = Vec::with_capacity(items.len());
        let mut several = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let (id, party, system) = key(item);
            if !per_party.contains(id) {
                keep.push(true);
                continue;
            }
            match seen
                .iter()
                .find(|(n, p, _, _)| n == id && p.as_deref() == party)
            {
                Some((_, _, first_system, at)) => {
                    if first_system.as_deref() != system {
                        several.push(*at);
                    }
                    keep.push(false);
                }
                None => {
                    seen.push((
                        id.to_string(),
                        party.map(str::to_string),
                        system.map(str::to_string),
                        i,
                    ));
                    keep.push(true);
                }
            }
        }
        for at in several {
            if let Some(item) = items.get_mut(at) {
                clear_system(item);
            }
        }
        let mut k = keep.into_iter();
        items.retain(|_| k.next().unwrap_or(true));
    }
    collapse(
        &mut d.norms,
        &per_party,
        |n| (n.id.as_str(), n.party.as_deref(), n.system.as_deref()),
        |n| n.system = None,
    );
    collapse(
        &mut d.penalties,
        &per_party,
        |n| (n.id.as_str(), n.party.as_deref(), n.system.as_deref()),
        |n| n.system = None,
    );
    if let Some(x) = &mut d.explanation {
        collapse(
            x,
            &per_party,
            |n| (n.norm.as_str(), n.party.as_deref(), n.system.as_deref()),
            |n| n.system = None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::EvalErrorKind;
    use norm_compiler::diagnostic::render;
    use norm_compiler::driver::{MemoryLoader, compile};
    use std::path::PathBuf;

    const HEAD: &str = "law t \"T\" version \"1\"\nrole provider \"P\"\nchapter 1 \"One\" articles 1 to 9\nchapter 2 \"Two\" articles 10 to 19\n";

    fn program(src: &str) -> (Program, Vec<DataModule>) {
        let full = format!("{HEAD}{src}");
        let loader = MemoryLoader::with(&[("law.norm", &full)]);
        let c = compile(&loader, &[PathBuf::from("law.norm")]);
        match c.program {
            Some(p) => (p, c.data),
            None => panic!("does not compile:\n{}", render(&c.db, &c.diagnostics)),
        }
    }

    fn facts(p: &Program, json: &str) -> Vec<Value> {
        let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
        crate::facts::read_facts(p, &v).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn day() -> Date {
        Date::parse("2026-12-01").unwrap_or(Date::EPOCH)
    }

    fn run(src: &str, json: &str) -> Result<Decision, EvalError> {
        let (p, data) = program(src);
        let f = facts(&p, json);
        decide(&p, f, &data, day(), true)
    }

    fn norm_ids(d: &Decision) -> Vec<&str> {
        d.norms.iter().map(|n| n.id.as_str()).collect()
    }

    const FINE: &str = "fact serious: bool\nfact repeat: bool\n\
        def cap = 100 CNY\n\
        exception cap priority 1 when serious = 200 CNY\n\
        exception cap priority 2 when repeat = 300 CNY\n";

    #[test]
    fn default_logic_takes_the_highest_applicable_priority() {
        let value = |json: &str| run(FINE, json).map(|d| d.values.get("cap").cloned());
        let amount = |a: &str| {
            Ok(Some(crate::facts::money_json(
                &a.parse().unwrap_or_default(),
            )))
        };
        assert_eq!(
            value(r#"{"serious": false, "repeat": false}"#),
            amount("100")
        );
        assert_eq!(
            value(r#"{"serious": true, "repeat": false}"#),
            amount("200")
        );
        assert_eq!(value(r#"{"serious": true, "repeat": true}"#), amount("300"));
        assert_eq!(
            value(r#"{"serious": false, "repeat": true}"#),
            amount("300")
        );
    }

    #[test]
    fn disagreeing_exceptions_of_one_priority_are_a_conflict() {
        let src = "fact a: bool\nfact b: bool\ndef x = 1\nexception x when a = 2\nexception x when b = 3\nexception x when b = 2\n";
        let err = run(src, r#"{"a": true, "b": true}"#).err().map(|e| e.kind);
        assert_eq!(err, Some(EvalErrorKind::Conflict));
        // Agreeing exceptions are no conflict.
        let ok = run(src, r#"{"a": true, "b": false}"#).map(|d| d.values.get("x").cloned());
        assert_eq!(ok, Ok(Some(serde_json::json!(2))));
    }

    const DEFEAT: &str = "fact a: bool\nfact b: bool\nfact c: bool\n\
        article 1 \"A\" {\n\
          obligation duty { addressee provider when a text \"d\" }\n\
          exemption relief { addressee provider when b overrides duty text \"r\" }\n\
        }\n\
        article 10 \"B\" {\n\
          exemption counter { addressee provider when c overrides relief text \"c\" }\n\
        }\n";

    #[test]
    fn a_defeated_norm_defeats_nothing() {
        let ids = |json: &str| {
            run(DEFEAT, json).map(|d| {
                norm_ids(&d)
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            ids(r#"{"a": true, "b": false, "c": false}"#),
            Ok(vec!["duty".into()])
        );
        assert_eq!(
            ids(r#"{"a": true, "b": true, "c": false}"#),
            Ok(vec!["relief".into()])
        );
        assert_eq!(
            ids(r#"{"a": true, "b": true, "c": true}"#),
            Ok(vec!["duty".into(), "counter".into()])
        );
    }

    #[test]
    fn explanation_names_the_defeater() {
        let d =
            run(DEFEAT, r#"{"a": true, "b": true, "c": false}"#).unwrap_or_else(|e| panic!("{e}"));
        let ex = d.explanation.unwrap_or_default();
        let duty = ex.iter().find(|e| e.norm == "duty").cloned();
        assert_eq!(duty.as_ref().map(|e| e.status), Some("defeated"));
        assert_eq!(
            duty.map(|e| e.defeated_by),
            Some(vec!["relief".to_string()])
        );
    }

    #[test]
    fn opposite_norms_without_priority_conflict_and_with_priority_do_not() {
        let src = |p: &str| {
            format!(
                "fact x: bool\narticle 1 \"A\" {{\n\
                 prohibition ban {{ addressee provider act deploy when x {p} text \"no\" }}\n\
                 permission allow {{ addressee provider act deploy when x text \"yes\" }}\n}}\n"
            )
        };
        let d = run(&src(""), r#"{"x": true}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.conflicts.len(), 1);
        assert_eq!(
            d.conflicts.first().map(|c| c.norms.clone()),
            Some(vec!["ban".to_string(), "allow".to_string()])
        );
        let d = run(&src("priority 2"), r#"{"x": true}"#).unwrap_or_else(|e| panic!("{e}"));
        assert!(d.conflicts.is_empty());
        assert_eq!(norm_ids(&d), vec!["ban"]);
    }

    #[test]
    fn chapter_overrides_spare_tagged_norms() {
        let src = "fact r: bool\n\
            article 2 \"Duties\" {\n\
              obligation general { addressee provider text \"g\" }\n\
              obligation security { addressee provider tags national_security text \"s\" }\n\
            }\n\
            article 11 \"Research\" {\n\
              exemption research { addressee provider when r overrides chapter 1 except tagged national_security text \"r\" }\n\
            }\n";
        let d = run(src, r#"{"r": true}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(norm_ids(&d), vec!["security", "research"]);
    }

    #[test]
    fn quantifiers_over_lists_of_structs() {
        let src = "type Incident = struct { severe: bool, loss: money }\n\
            fact incidents: list<Incident>\n\
            def any_severe = exists i in incidents: i.severe\n\
            def all_severe = all i in incidents: i.severe\n\
            def severe_count = count i in incidents: i.severe\n\
            def total_loss = sum i in incidents: i.loss\n";
        let d = run(
            src,
            r#"{"incidents": [{"severe": true, "loss": "10.5"}, {"severe": false, "loss": 4}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.values.get("any_severe"), Some(&serde_json::json!(true)));
        assert_eq!(d.values.get("all_severe"), Some(&serde_json::json!(false)));
        assert_eq!(d.values.get("severe_count"), Some(&serde_json::json!(1)));
        assert_eq!(
            d.values.get("total_loss"),
            Some(&crate::facts::money_json(
                &"14.5".parse().unwrap_or_default()
            ))
        );
        let empty = run(src, r#"{"incidents": []}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            empty.values.get("all_severe"),
            Some(&serde_json::json!(true))
        );
        assert_eq!(
            empty.values.get("total_loss"),
            Some(&crate::facts::money_json(&Default::default()))
        );
    }

    #[test]
    fn arithmetic_is_exact_or_an_error() {
        let v = |src: &str, json: &str| {
            run(src, json).map(|d| d.values.get("x").cloned().unwrap_or_default())
        };
        assert_eq!(
            v(
                "fact n: int\ndef x = n + 1",
                r#"{"n": 9223372036854775807}"#
            )
            .map_err(|e| e.kind),
            Err(EvalErrorKind::Overflow)
        );
        assert_eq!(
            v("fact n: int\ndef x = 10 / n", r#"{"n": 4}"#),
            Ok(serde_json::json!("2.5"))
        );
        assert_eq!(
            v("fact n: int\ndef x = 10 / n", r#"{"n": 3}"#).map_err(|e| e.kind),
            Err(EvalErrorKind::InexactDivision)
        );
        assert_eq!(
            v("fact n: int\ndef x = 10 / n", r#"{"n": 0}"#).map_err(|e| e.kind),
            Err(EvalErrorKind::DivisionByZero)
        );
        assert_eq!(
            v("fact m: money\ndef x = m * 4%", r#"{"m": "800000000"}"#),
            Ok(crate::facts::money_json(
                &"32000000".parse().unwrap_or_default()
            ))
        );
        assert_eq!(
            v(
                "fact d: date\ndef x = d + 1 month",
                r#"{"d": "2024-01-31"}"#
            ),
            Ok(serde_json::json!("2024-02-29"))
        );
        assert_eq!(
            v(
                "fact d: date\ndef x = d - 2026-01-01",
                r#"{"d": "2026-12-01"}"#
            ),
            Ok(serde_json::json!(334))
        );
        assert_eq!(
            v(
                "fact d: date\ndef x = d + 9000 years",
                r#"{"d": "2026-12-01"}"#
            )
            .map_err(|e| e.kind),
            Err(EvalErrorKind::DateOutOfRange)
        );
    }

    #[test]
    fn data_module_in_force_is_the_latest_effective() {
        let src = "data schema limits { n: int }\ndef x = limits.n\n";
        let (p, _) = program(src);
        let module = |v: &str, date: &str, n: i64| DataModule {
            schema: 0,
            name: "limits".into(),
            version: v.into(),
            effective: Date::parse(date).unwrap_or(Date::EPOCH),
            values: vec![Value::Int(n)],
            calendar: None,
            hash: String::new(),
            span: Default::default(),
        };
        let data = vec![module("1", "2026-01-01", 1), module("2", "2027-01-01", 2)];
        let at = |d: &str| {
            decide(
                &p,
                Vec::new(),
                &data,
                Date::parse(d).unwrap_or(Date::EPOCH),
                false,
            )
            .map(|d| {
                (
                    d.values.get("x").cloned(),
                    d.data.first().map(|m| m.version.clone()),
                )
            })
        };
        assert_eq!(
            at("2026-06-01"),
            Ok((Some(serde_json::json!(1)), Some("1".into())))
        );
        assert_eq!(
            at("2027-01-01"),
            Ok((Some(serde_json::json!(2)), Some("2".into())))
        );
        assert_eq!(
            at("2025-01-01").map_err(|e| e.kind),
            Err(EvalErrorKind::MissingData)
        );
    }

    const OPTIONAL: &str = "type Case = struct { met_on: date?, open: bool = true }\nfact case: Case\n\
        article 1 \"A\" {\n\
          obligation file { addressee provider when case.open due case.met_on + 10 days text \"f\" }\n\
        }\n";

    #[test]
    fn an_optional_fact_left_out_omits_the_due_date() {
        // A fact none of whose fields must be given may be left out entirely.
        let d = run(OPTIONAL, "{}").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(norm_ids(&d), vec!["file"]);
        let d = run(OPTIONAL, r#"{"case": {}}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(norm_ids(&d), vec!["file"]);
        assert_eq!(d.norms.first().and_then(|n| n.due.clone()), None);
        let d = run(OPTIONAL, r#"{"case": {"met_on": "2026-03-01"}}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            d.norms.first().and_then(|n| n.due.clone()),
            Some("2026-03-11".to_string())
        );
    }

    #[test]
    fn a_condition_on_an_optional_fact_left_out_is_an_error_naming_it() {
        // A definition that reads it has no value (it is not reported) ...
        let src = format!("{OPTIONAL}def late = case.met_on < 2026-01-01\n");
        let d = run(&src, r#"{"case": {"met_on": null}}"#).unwrap_or_else(|e| panic!("{e}"));
        assert!(!d.values.contains_key("late"), "{:?}", d.values);
        let d =
            run(&src, r#"{"case": {"met_on": "2025-06-01"}}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.values.get("late"), Some(&serde_json::json!(true)));
        // ... and a condition that reads it is an error naming the fact.
        let src = format!(
            "{OPTIONAL}def late = case.met_on < 2026-01-01\narticle 2 \"B\" {{ obligation pay {{ addressee provider when late text \"p\" }} }}\n"
        );
        let err = run(&src, r#"{"case": {"met_on": null}}"#).err();
        assert_eq!(
            err.as_ref().map(|e| e.kind.clone()),
            Some(EvalErrorKind::MissingFact)
        );
        assert!(err.is_some_and(|e| e.message.contains("`case.met_on` is not given")));
    }

    const VERSIONS: &str = "fact users: int\n\
        article 5 \"Registry\" effective 2026-01-01 until 2026-06-30 {\n\
          obligation register { addressee provider when users > 1_000 due 2026-12-01 + 10 days text \"v1\" }\n\
        }\n\
        article 5 \"Registry\" effective 2026-07-01 {\n\
          obligation register { addressee provider when users > 500 due 2026-12-01 + 5 days text \"v2\" }\n\
        }\n";

    #[test]
    fn each_article_version_applies_in_its_own_period() {
        let (p, data) = program(VERSIONS);
        let at = |date: &str, users: i64| {
            let f = facts(&p, &format!("{{\"users\": {users}}}"));
            decide(
                &p,
                f,
                &data,
                Date::parse(date).unwrap_or(Date::EPOCH),
                false,
            )
            .map(|d| d.norms.iter().map(|n| n.text.clone()).collect::<Vec<_>>())
        };
        assert_eq!(at("2026-06-30", 800), Ok(vec![]));
        assert_eq!(at("2026-06-30", 2_000), Ok(vec!["v1".to_string()]));
        assert_eq!(at("2026-07-01", 800), Ok(vec!["v2".to_string()]));
        assert_eq!(
            at("2025-12-31", 2_000),
            Ok(vec![]),
            "before the first version nothing applies"
        );
    }

    #[test]
    fn a_law_is_not_decided_before_it_takes_effect() {
        let src = "law t \"T\" version \"1\" effective 2027-01-01\nfact x: bool\ndef y = x\n";
        let loader = MemoryLoader::with(&[("law.norm", src)]);
        let c = compile(&loader, &[PathBuf::from("law.norm")]);
        let p = c
            .program
            .unwrap_or_else(|| panic!("{}", render(&c.db, &c.diagnostics)));
        let err = decide(&p, facts(&p, r#"{"x": true}"#), &[], day(), false).err();
        assert_eq!(
            err.as_ref().map(|e| e.kind.clone()),
            Some(EvalErrorKind::NotInForce)
        );
        assert!(err.is_some_and(|e| e.message.contains("it takes effect on 2027-01-01")));
    }

    #[test]
    fn imports_are_followed() {
        let loader = MemoryLoader::with(&[
            (
                "law/main.norm",
                "law t \"T\" version \"1\"\nimport \"../shared/types.norm\"\nfact a: Level\n",
            ),
            ("shared/types.norm", "type Level = enum { low, high }\n"),
        ]);
        let c = compile(&loader, &[PathBuf::from("law/main.norm")]);
        assert!(c.program.is_some(), "{}", render(&c.db, &c.diagnostics));
    }

    #[test]
    fn ir_listing_is_readable() {
        let (p, _) = program(FINE);
        let listing = p.to_string();
        assert!(listing.contains("def cap: money = 100 CNY"), "{listing}");
        assert!(
            listing.contains("| priority 2 when repeat = 300 CNY"),
            "{listing}"
        );
    }
}
