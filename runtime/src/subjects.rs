//! The subjects of a case (DESIGN §3.1): a law that declares `fact actor: Party in parties`
//! and `fact system: AiSystem in systems where …` is decided for each party, and for each
//! system that party is related to, in turn. Each evaluation binds the subject facts to one
//! combination; [`crate::decision::Who`] says what it reports.
//!
//! A party related to no system is still decided, for the norms that do not depend on the
//! system: it is evaluated with the case's first system bound (so that every rule can be
//! evaluated), and what depends on the system is not reported from that evaluation.

use crate::decision::Who;
use crate::facts::FactError;
use crate::interp::{Env, EvalError};
use norm_compiler::ir::Program;
use norm_compiler::value::{Ty, Types, Value};

/// One evaluation of the case: the element each subject is bound to, and what it reports.
#[derive(Clone, Debug)]
pub struct Perspective {
    /// Per subject (in the law's order): the index of its element in its collection.
    pub at: Vec<usize>,
    pub who: Who,
}

/// The subject facts a case gave directly, as shorthand for a collection of one element
/// (`"actor": {…}` for `"parties": [{…}]`): moves them into their collections. `given[i]`
/// says whether the case gave fact `i`. Giving both a subject and its collection is an error.
pub fn normalize(program: &Program, facts: &mut [Value], given: &[bool]) -> Vec<FactError> {
    let mut errors = Vec::new();
    for &s in &program.subjects {
        let (Some(fact), Some(true)) = (program.facts.get(s as usize), given.get(s as usize))
        else {
            continue;
        };
        let Some(sub) = &fact.subject else { continue };
        let coll = sub.collection as usize;
        let coll_name = program
            .facts
            .get(coll)
            .map(|f| f.name.as_str())
            .unwrap_or("");
        if given.get(coll) == Some(&true) {
            errors.push(FactError {
                path: fact.name.clone(),
                message: format!(
                    "give `{}` (one element) or `{coll_name}` (a list), not both",
                    fact.name
                ),
            });
            continue;
        }
        let one = facts
            .get_mut(s as usize)
            .map(|v| std::mem::replace(v, Value::Absent))
            .unwrap_or(Value::Absent);
        if let Some(slot) = facts.get_mut(coll) {
            *slot = Value::List(vec![one].into());
        }
    }
    errors
}

/// The elements of a collection fact.
fn elements(facts: &[Value], coll: u32) -> &[Value] {
    match facts.get(coll as usize) {
        Some(Value::List(xs) | Value::Set(xs)) => xs,
        _ => &[],
    }
}

/// The id of a subject's element (its `id` field), else its place in the collection.
fn id_of(types: &Types, v: &Value, coll: &str, i: usize) -> String {
    if let Value::Struct(sid, fields) = v
        && let Some(def) = types.struct_def(*sid)
        && let Some(Value::Text(t)) = def
            .fields
            .iter()
            .zip(fields.iter())
            .find(|(f, _)| f.name == "id" && f.ty == Ty::Text)
            .map(|(_, v)| v)
    {
        return t.to_string();
    }
    format!("{coll}[{i}]")
}

/// The evaluations a case needs, in order: each party in turn, and for each the systems its
/// subject condition relates it to. A law without subjects has one, for the whole case.
pub fn perspectives(program: &Program, facts: &[Value]) -> Result<Vec<Perspective>, SubjectError> {
    let subject = |k: usize| {
        let idx = *program.subjects.get(k)?;
        let f = program.facts.get(idx as usize)?;
        let sub = f.subject.as_ref()?;
        let coll = program.facts.get(sub.collection as usize)?;
        Some((idx, sub, coll.name.as_str()))
    };
    let Some((party_fact, party_sub, party_coll)) = subject(0) else {
        return Ok(vec![Perspective {
            at: Vec::new(),
            who: Who::whole_case(),
        }]);
    };
    let parties = elements(facts, party_sub.collection);
    if parties.is_empty() {
        return Err(SubjectError::Empty(party_coll.to_string()));
    }
    let types = &program.types;
    let second = subject(1);
    let mut out = Vec::new();
    let mut env = Env::new(program, facts.to_vec(), Vec::new());
    for (i, p) in parties.iter().enumerate() {
        let party = Some(id_of(types, p, party_coll, i));
        if let Some(slot) = env.facts.get_mut(party_fact as usize) {
            *slot = p.clone();
        }
        let Some((system_fact, system_sub, system_coll)) = second else {
            if let Some(f) = &party_sub.filter
                && !env.eval_bool(f).map_err(SubjectError::Eval)?
            {
                continue;
            }
            out.push(Perspective {
                at: vec![i],
                who: Who {
                    party,
                    system: None,
                    decides: norm_compiler::ir::Reads::MAX,
                    first: out.is_empty(),
                    first_of_party: true,
                },
            });
            continue;
        };
        let systems = elements(facts, system_sub.collection);
        if systems.is_empty() {
            return Err(SubjectError::Empty(system_coll.to_string()));
        }
        let mut related = 0;
        for (j, s) in systems.iter().enumerate() {
            if let Some(slot) = env.facts.get_mut(system_fact as usize) {
                *slot = s.clone();
            }
            let holds = match &system_sub.filter {
                Some(f) => env.eval_bool(f).map_err(SubjectError::Eval)?,
                None => true,
            };
            if !holds {
                continue;
            }
            out.push(Perspective {
                at: vec![i, j],
                who: Who {
                    party: party.clone(),
                    system: Some(id_of(types, s, system_coll, j)),
                    decides: norm_compiler::ir::Reads::MAX,
                    first: out.is_empty(),
                    first_of_party: related == 0,
                },
            });
            related += 1;
        }
        if related == 0 {
            // Its party-level norms, with some system bound so that every rule can run.
            out.push(Perspective {
                at: vec![i, 0],
                who: Who {
                    party,
                    system: None,
                    decides: 1,
                    first: out.is_empty(),
                    first_of_party: true,
                },
            });
        }
    }
    Ok(out)
}

/// The facts of one evaluation: the subject facts bound to the perspective's elements.
pub fn bind(program: &Program, facts: &[Value], p: &Perspective) -> Vec<Value> {
    let mut bound = facts.to_vec();
    for (k, &at) in p.at.iter().enumerate() {
        let Some(&idx) = program.subjects.get(k) else {
            continue;
        };
        let Some(sub) = program
            .facts
            .get(idx as usize)
            .and_then(|f| f.subject.as_ref())
        else {
            continue;
        };
        if let (Some(v), Some(slot)) = (
            elements(facts, sub.collection).get(at).cloned(),
            bound.get_mut(idx as usize),
        ) {
            *slot = v;
        }
    }
    bound
}

/// Why a case's subjects could not be chosen.
#[derive(Debug)]
pub enum SubjectError {
    /// A collection a subject ranges over is empty.
    Empty(String),
    /// The subject condition failed to evaluate.
    Eval(EvalError),
}

impl SubjectError {
    pub fn fact_error(&self) -> Option<FactError> {
        match self {
            SubjectError::Empty(name) => Some(FactError {
                path: name.clone(),
                message: "the case names none: the law's norms are decided for each of them"
                    .to_string(),
            }),
            SubjectError::Eval(_) => None,
        }
    }
}
