//! `--why-not`: for a norm that does not apply, the conditions that failed and, where one can
//! be computed, the smallest change to the facts that would make each hold ("`actor.
//! registered_users` would need to exceed 1000000; it is 850000").
//!
//! The search follows the condition's structure: the failed parts of an `and`, every part of a
//! failed `or`, into the definitions a condition reads (a few levels deep), down to comparisons
//! and yes/no facts, where the change is stated against the value the case has.

use crate::decision::Outcome;
use crate::interp::{Env, EvalError};
use norm_compiler::ir::{BinOp, Expr, ExprKind, Program};
use norm_compiler::value::Value;

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WhyNot {
    pub norm: String,
    pub kind: &'static str,
    pub article: String,
    /// The party (and system) this answer is for, in a case decided per party.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// `applies`, `defeated` or `not_applicable`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub defeated_by: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<Failure>,
    /// In a case decided per party: the answers for the other parties and systems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<WhyNot>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Failure {
    /// The condition that does not hold, as written (names resolved).
    pub condition: String,
    /// What would make it hold, stated against the case's value, where one can be computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    /// The condition is a finding of the law (DESIGN §6) that does not hold: its citation, and
    /// the conditions of it that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<FailedFinding>,
}

/// A finding that does not hold, in a `--why-not` answer: "Art. 111(2) item 1 not met".
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailedFinding {
    pub id: String,
    pub article: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paragraph: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<u32>,
    /// What the finding means, from its documentation.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub meaning: String,
    /// Its own conditions that failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub because: Vec<Failure>,
}

impl FailedFinding {
    /// "Art. 111(2) item 1".
    pub fn citation(&self) -> String {
        crate::decision::cite(&self.article, self.paragraph, self.item)
    }
}

impl Failure {
    fn new(condition: String, change: Option<String>) -> Failure {
        Failure {
            condition,
            change,
            finding: None,
        }
    }
}

const MAX_DEPTH: u32 = 4;

pub fn why_not(program: &Program, out: &mut Outcome<'_>, norm: u32) -> Result<WhyNot, EvalError> {
    let Some(n) = program.norms.get(norm as usize) else {
        return Err(EvalError::new(
            crate::interp::EvalErrorKind::Internal,
            "no such norm",
            Default::default(),
        ));
    };
    let article = program
        .article(n)
        .map(|a| a.number.to_string())
        .unwrap_or_default();
    let applies = out.applies.get(norm as usize) == Some(&true);
    let held = out.applicable.get(norm as usize) == Some(&true);
    let mut w = WhyNot {
        norm: n.id.clone(),
        kind: n.kind.keyword(),
        article,
        party: None,
        system: None,
        status: if applies {
            "applies"
        } else if held {
            "defeated"
        } else {
            "not_applicable"
        },
        defeated_by: Vec::new(),
        failed: Vec::new(),
        others: Vec::new(),
    };
    if held && !applies {
        w.defeated_by = n
            .defeaters
            .iter()
            .filter(|d| out.applies.get(**d as usize) == Some(&true))
            .filter_map(|d| program.norms.get(*d as usize).map(|m| m.id.clone()))
            .collect();
    }
    if !held && let Some(cond) = &n.when {
        failures(program, &mut out.env, cond, 0, &mut w.failed)?;
    }
    Ok(w)
}

fn failures(
    program: &Program,
    env: &mut Env<'_>,
    e: &Expr,
    depth: u32,
    out: &mut Vec<Failure>,
) -> Result<(), EvalError> {
    if env.eval_bool(e)? {
        return Ok(());
    }
    let show = |x: &Expr| program.show_expr(x);
    let value = |env: &mut Env<'_>, x: &Expr| -> Result<String, EvalError> {
        Ok(match env.eval(x)? {
            Value::Int(i) => norm_compiler::value::group_thousands(&i.to_string()),
            v => program.types.show_value(&v),
        })
    };
    match &e.kind {
        ExprKind::Bin(BinOp::And, a, b) => {
            failures(program, env, a, depth, out)?;
            failures(program, env, b, depth, out)?;
        }
        ExprKind::Bin(BinOp::Or, a, b) => {
            // Each alternative would do; say what each one needs.
            let mut alternatives = Vec::new();
            failures(program, env, a, depth, &mut alternatives)?;
            failures(program, env, b, depth, &mut alternatives)?;
            // A nested `or` is one more alternative, not a list inside the list.
            let changes: Vec<String> = alternatives
                .iter()
                .filter_map(|f| f.change.as_deref())
                .map(|c| c.strip_prefix("any one of: ").unwrap_or(c).to_string())
                .collect();
            out.push(Failure::new(
                show(e),
                (!changes.is_empty()).then(|| format!("any one of: {}", changes.join("; or "))),
            ));
        }
        ExprKind::Def(i) => {
            let def = program.defs.get(*i as usize);
            let mut nested = Vec::new();
            if depth < MAX_DEPTH
                && let Some(d) = def
                && let Some(base) = &d.base
            {
                let mut any = false;
                for x in &d.exceptions {
                    any |= env.eval_bool(&x.when)?;
                }
                if !any {
                    failures(program, env, base, depth + 1, &mut nested)?;
                }
            }
            let hold = || Some(format!("`{}` would need to hold", show(e)));
            match def.and_then(|d| d.finding.map(|f| (d, f))) {
                // A finding: one failure citing it, with its own failed conditions inside.
                Some((d, f)) => {
                    let changes: Vec<String> =
                        nested.iter().filter_map(|f| f.change.clone()).collect();
                    let change = if !changes.is_empty() && changes.len() == nested.len() {
                        Some(changes.join("; and "))
                    } else {
                        hold()
                    };
                    let article = d
                        .article
                        .and_then(|a| program.articles.get(a as usize))
                        .map(|a| a.number.to_string())
                        .unwrap_or_default();
                    out.push(Failure {
                        condition: show(e),
                        change,
                        finding: Some(FailedFinding {
                            id: d.name.clone(),
                            article,
                            paragraph: f.paragraph,
                            item: f.item,
                            meaning: d.doc.join(" ").trim().to_string(),
                            because: nested,
                        }),
                    });
                }
                None if nested.is_empty() => out.push(Failure::new(show(e), hold())),
                None => out.append(&mut nested),
            }
        }
        ExprKind::Not(x) => {
            let change = x
                .is_case_value()
                .then(|| format!("`{}` would need to be false", show(x)));
            out.push(Failure::new(show(e), change));
        }
        ExprKind::Bin(
            op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne),
            a,
            b,
        ) => {
            let change = if a.is_case_value() {
                let (target, now) = (value(env, b)?, value(env, a)?);
                Some(format!(
                    "`{}` would need to {} {target}; it is {now}",
                    show(a),
                    verb(*op)
                ))
            } else if b.is_case_value() {
                let (target, now) = (value(env, a)?, value(env, b)?);
                Some(format!(
                    "`{}` would need to {} {target}; it is {now}",
                    show(b),
                    verb(mirror(*op))
                ))
            } else {
                None
            };
            out.push(Failure::new(show(e), change));
        }
        ExprKind::Bin(BinOp::In, a, b) if a.is_case_value() => {
            let (set, now) = (value(env, b)?, value(env, a)?);
            out.push(Failure::new(
                show(e),
                Some(format!(
                    "`{}` would need to be one of {set}; it is {now}",
                    show(a)
                )),
            ));
        }
        _ if e.is_case_value() => out.push(Failure::new(
            show(e),
            Some(format!("`{}` would need to be true", show(e))),
        )),
        _ => out.push(Failure::new(show(e), None)),
    }
    Ok(())
}

fn verb(op: BinOp) -> &'static str {
    match op {
        BinOp::Lt => "be less than",
        BinOp::Le => "be at most",
        BinOp::Gt => "exceed",
        BinOp::Ge => "be at least",
        BinOp::Eq => "equal",
        _ => "differ from",
    }
}

fn mirror(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::Le => BinOp::Ge,
        BinOp::Gt => BinOp::Lt,
        BinOp::Ge => BinOp::Le,
        other => other,
    }
}
