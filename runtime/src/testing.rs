//! Running a law's `test` blocks.

use crate::decision::{Outcome, conflicts, evaluate, select_data};
use crate::interp::{Env, EvalError};
use crate::jit::JitProgram;
use norm_compiler::date::Date;
use norm_compiler::ir::{DataModule, Expect, Program, Test};
use norm_compiler::span::Span;
use norm_compiler::value::Value;

#[derive(Clone, Debug)]
pub struct TestResult {
    pub name: String,
    pub span: Span,
    /// Empty when the test passed.
    pub failures: Vec<(Span, String)>,
    /// Per norm: it applied in the test's case (for coverage; empty if the case was not decided).
    pub applied: Vec<bool>,
    /// Per norm: its condition held (it applied or was defeated).
    pub held: Vec<bool>,
}

impl TestResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The date a test without `as of` is decided on: the latest effective date of the data
/// (1970-01-01 when there is no data).
pub fn default_as_of(data: &[DataModule]) -> Date {
    data.iter()
        .map(|m| m.effective)
        .max()
        .unwrap_or(Date::EPOCH)
}

/// Runs a test with the interpreter, or with compiled code when `jit` is given (then the
/// test's `expect` expressions read the definitions' values the compiled code computed).
pub fn run_test(
    program: &Program,
    data: &[DataModule],
    test: &Test,
    jit: Option<&JitProgram>,
) -> TestResult {
    let mut result = TestResult {
        name: test.name.clone(),
        span: test.span,
        failures: Vec::new(),
        applied: Vec::new(),
        held: Vec::new(),
    };
    let facts = match given_facts(program, test) {
        Ok(f) => f,
        Err(message) => {
            result.failures.push((test.span, message));
            return result;
        }
    };
    let as_of = test.as_of.unwrap_or_else(|| default_as_of(data));
    // A code the list in force does not have fails the test, as it fails a decision.
    let unknown = crate::facts::check_codes(program, &facts, &select_data(program, data, as_of));
    if !unknown.is_empty() {
        for e in unknown {
            result.failures.push((test.span, e.to_string()));
        }
        return result;
    }
    let views = match crate::subjects::perspectives(program, &facts) {
        Ok(v) => v,
        Err(e) => {
            let message = match e {
                crate::subjects::SubjectError::Eval(e) => {
                    format!("evaluation failed: {}", e.message)
                }
                other => other
                    .fact_error()
                    .map(|f| f.to_string())
                    .unwrap_or_default(),
            };
            result.failures.push((test.span, message));
            return result;
        }
    };
    let mut parts: Vec<(crate::decision::Who, Outcome<'_>, crate::decision::Decided)> = Vec::new();
    for view in views {
        let bound = crate::subjects::bind(program, &facts, &view);
        let decided = match jit {
            // As `norm eval` decides: due dates and fines too (an error there fails the test).
            None => evaluate(program, bound, data, as_of)
                .and_then(|mut out| crate::decision::finish(program, &mut out).map(|d| (out, d))),
            Some(j) => j.decide(program, data, &bound, as_of).map(|d| {
                let selected = select_data(program, data, as_of);
                let mut env = Env::with_modules(program, bound, &selected);
                env.as_of = Some(as_of);
                env.defs = d.defs.clone();
                let out = Outcome {
                    env,
                    conflicts: conflicts(program, &d.applies),
                    applicable: d.applicable.clone(),
                    applies: d.applies.clone(),
                };
                (out, d)
            }),
        };
        match decided {
            Ok((out, d)) => parts.push((view.who, out, d)),
            Err(e) => {
                result.failures.push((
                    e.span.unwrap_or(test.span),
                    format!("evaluation failed: {}", e.message),
                ));
                return result;
            }
        }
    }
    let n = program.norms.len();
    result.applied = vec![false; n];
    result.held = vec![false; n];
    for (_, out, _) in &parts {
        for i in 0..n {
            if out.applies.get(i) == Some(&true)
                && let Some(a) = result.applied.get_mut(i)
            {
                *a = true;
            }
            if out.applicable.get(i) == Some(&true)
                && let Some(a) = result.held.get_mut(i)
            {
                *a = true;
            }
        }
    }
    // The Decision as `norm eval` builds it: the expectations about norms are checked on it.
    let selected = select_data(program, data, as_of);
    let built = crate::decision::merge(
        program,
        parts
            .iter()
            .map(|(who, _, d)| {
                let b = crate::decision::build_for(program, &selected, as_of, d, who);
                (who.clone(), b)
            })
            .collect(),
    );
    let Some((_, first, _)) = parts.first_mut() else {
        return result;
    };
    let out = first;
    for x in &test.expects {
        match x {
            Expect::Norm {
                norm,
                present,
                status,
                due,
                keep_until,
                party,
                system,
                span,
            } => {
                // The norm may have several versions (one per article version): the one in
                // force on the test's date answers.
                let id0 = program
                    .norms
                    .get(*norm as usize)
                    .map(|n| n.id.clone())
                    .unwrap_or_default();
                let versions: Vec<usize> = program
                    .norms
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.id == id0)
                    .map(|(i, _)| i)
                    .collect();
                let in_force = versions
                    .iter()
                    .copied()
                    .find(|i| {
                        program
                            .norms
                            .get(*i)
                            .is_some_and(|m| program.norm_in_force(m, as_of))
                    })
                    .unwrap_or(*norm as usize);
                let norm = &(in_force as u32);
                let whom = |p: &Option<String>, want: &Option<String>| {
                    want.is_none() || p.as_deref() == want.as_deref()
                };
                let shown = built
                    .norms
                    .iter()
                    .find(|x| x.id == id0 && whom(&x.party, party) && whom(&x.system, system));
                let applies =
                    shown.is_some()
                        || built.penalties.iter().any(|x| {
                            x.id == id0 && whom(&x.party, party) && whom(&x.system, system)
                        })
                        || built.warnings.iter().any(|x| {
                            x.id == id0 && whom(&x.party, party) && whom(&x.system, system)
                        });
                let mut of = String::new();
                if let Some(p) = party {
                    of.push_str(&format!(" for party `{p}`"));
                }
                if let Some(x) = system {
                    of.push_str(&format!(" on system `{x}`"));
                }
                if applies != *present {
                    let n = program.norms.get(*norm as usize);
                    let id = n.map(|n| n.id.as_str()).unwrap_or("?");
                    let why = if *present {
                        if out.applicable.get(*norm as usize) == Some(&true) {
                            let by: Vec<&str> = n
                                .map(|n| {
                                    n.defeaters
                                        .iter()
                                        .filter(|d| out.applies.get(**d as usize) == Some(&true))
                                        .filter_map(|d| {
                                            program.norms.get(*d as usize).map(|m| m.id.as_str())
                                        })
                                        .collect()
                                })
                                .unwrap_or_default();
                            format!(
                                "its condition holds but it is defeated by {}",
                                by.join(", ")
                            )
                        } else {
                            "its condition does not hold".to_string()
                        }
                    } else {
                        "it applies".to_string()
                    };
                    let verb = if *present { "to apply" } else { "not to apply" };
                    let why = if *present
                        && (party.is_some() || system.is_some())
                        && built.norms.iter().any(|x| x.id == id0)
                    {
                        let whom: Vec<String> = built
                            .norms
                            .iter()
                            .filter(|x| x.id == id0)
                            .map(|x| {
                                let mut w = x.party.clone().unwrap_or_else(|| "the case".into());
                                if let Some(s) = &x.system {
                                    w.push_str(&format!(" on `{s}`"));
                                }
                                w
                            })
                            .collect();
                        format!("it applies only to {}", whom.join(", "))
                    } else {
                        why
                    };
                    result
                        .failures
                        .push((*span, format!("expected `{id}` {verb}{of}, but {why}")));
                } else if *present && (status.is_some() || due.is_some() || keep_until.is_some()) {
                    let id = program
                        .norms
                        .get(*norm as usize)
                        .map(|n| n.id.as_str())
                        .unwrap_or("?");
                    let has = shown.and_then(|n| n.status);
                    if let Some(s) = status
                        && has != Some(s.name())
                    {
                        result.failures.push((
                            *span,
                            format!(
                                "expected `{id}` to be {}, but it is {}",
                                s.name(),
                                has.unwrap_or("without a status")
                            ),
                        ));
                    }
                    let has_due = shown.and_then(|n| n.due.clone());
                    if let Some(d) = due
                        && has_due.as_deref() != Some(d.to_string().as_str())
                    {
                        let why = match (has_due, shown.and_then(|n| n.due_unknown.clone())) {
                            (Some(x), _) => format!("it is due {x}"),
                            (None, Some(u)) => format!("its due date is unknown: {u}"),
                            (None, None) => "it has no due date".to_string(),
                        };
                        result
                            .failures
                            .push((*span, format!("expected `{id}` due {d}, but {why}")));
                    }
                    let has_keep = shown.and_then(|n| n.keep_until.clone());
                    if let Some(d) = keep_until
                        && has_keep.as_deref() != Some(d.to_string().as_str())
                    {
                        let why = match has_keep {
                            Some(x) => format!("it is kept until {x}"),
                            None => "it has no retention date".to_string(),
                        };
                        result
                            .failures
                            .push((*span, format!("expected `{id}` kept until {d}, but {why}")));
                    }
                }
            }
            Expect::Holds { expr, span } => match eval_bool(&mut out.env, expr) {
                Ok(true) => {}
                Ok(false) => {
                    // The values the expectation read, so the failure shows the fact it turned on.
                    let mut leaves = Vec::new();
                    crate::decision::collect_leaves(expr, &mut leaves);
                    let mut shown: Vec<String> = Vec::new();
                    for leaf in leaves {
                        let name = program.show_expr(leaf);
                        if shown
                            .iter()
                            .any(|s| s.starts_with(&format!("`{name}` is ")))
                        {
                            continue;
                        }
                        if let Ok(v) = out.env.eval(leaf) {
                            shown.push(format!("`{name}` is {v}"));
                        }
                    }
                    let values = if shown.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", shown.join(", "))
                    };
                    result.failures.push((
                        *span,
                        format!(
                            "expected `{}` to hold, but it does not{values}",
                            program.show_expr(expr)
                        ),
                    ))
                }
                Err(e) => result
                    .failures
                    .push((*span, format!("evaluation failed: {}", e.message))),
            },
            Expect::Conflict { span } => {
                if built.conflicts.is_empty() {
                    result
                        .failures
                        .push((*span, "expected a conflict, but there is none".to_string()));
                }
            }
        }
    }
    if !test
        .expects
        .iter()
        .any(|x| matches!(x, Expect::Conflict { .. }))
    {
        for c in &built.conflicts {
            result.failures.push((
                test.span,
                format!("unexpected conflict between `{}`", c.norms.join("` and `")),
            ));
        }
    }
    result
}

fn eval_bool(env: &mut Env<'_>, e: &norm_compiler::ir::Expr) -> Result<bool, EvalError> {
    env.eval_bool(e)
}

fn given_facts(program: &Program, test: &Test) -> Result<Vec<Value>, String> {
    let mut missing = Vec::new();
    let mut values = Vec::new();
    let mut env = Env::new(program, Vec::new(), Vec::new());
    let given: Vec<bool> = (0..program.facts.len())
        .map(|i| test.given.iter().any(|(fi, _)| *fi as usize == i))
        .collect();
    for (i, f) in program.facts.iter().enumerate() {
        match test.given.iter().find(|(fi, _)| *fi as usize == i) {
            Some((_, e)) => match env.eval(e) {
                Ok(v) => values.push(v),
                Err(_) => missing.push(f.name.clone()),
            },
            None if f.subject.is_some() => values.push(Value::Absent),
            None if crate::facts::subject_given(program, i as u32, &given) => {
                values.push(Value::Absent)
            }
            None => match crate::facts::all_defaults(&program.types, &f.ty) {
                Some(v) => values.push(v),
                None => missing.push(format!("`{}`", f.name)),
            },
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "the test gives no value for fact(s) {}",
            missing.join(", ")
        ));
    }
    let mut errors = crate::subjects::normalize(program, &mut values, &given);
    if errors.is_empty() {
        errors = crate::facts::check_case_identities(program, &values);
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        Err(shown.join("; "))
    }
}
