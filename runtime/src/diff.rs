//! The impact of a new data module or law version over a corpus of cases, before it is
//! published: "whose obligations change?"
//!
//! Each case (one line of JSONL: a facts object, optionally with its own `as_of` and an `id` to
//! name it by, both taken out of the facts) is decided by
//! the engine as it is and by the engine with the new version, on all cores (rayon). The two
//! Decisions are compared norm by norm, a norm (or penalty) being known by its id and, where
//! the Decision names them, its party and system: a norm only in the new Decision is
//! *gained*, only in the old *lost*, in both with any field different (status, due date, fine
//! range, …) *changed*. The comparison reads the Decision's JSON (DESIGN §6), so fields added to
//! the Decision are compared without a change here.
//!
//! A line that cannot be decoded (not JSON, not an object, a bad `as_of`, facts that fit
//! neither law) is reported with its number and the run goes on.

use crate::engine::{DecideOptions, Engine};
use norm_compiler::date::Date;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// One norm or penalty of a Decision, as the impact names it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NormRef {
    pub id: String,
    /// `obligation`, …, or `penalty`.
    pub kind: String,
    pub article: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addressee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The entry as the Decision has it (the new one's for a gained or changed norm).
    pub entry: Json,
}

/// A field of a norm that differs between the two Decisions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    /// `null` when the field was absent.
    pub before: Json,
    pub after: Json,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Changed {
    #[serde(flatten)]
    pub norm: NormRef,
    pub changes: Vec<FieldChange>,
}

/// What changes for one case.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseImpact {
    /// The line of the corpus (1-based).
    pub line: usize,
    /// The case's `id`, when its facts carry one at the top level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub as_of: String,
    pub gained: Vec<NormRef>,
    pub lost: Vec<NormRef>,
    pub changed: Vec<Changed>,
    /// One side could not decide the case: why (the other side's norms are then all gained or
    /// lost).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_error: Option<String>,
}

impl CaseImpact {
    pub fn is_empty(&self) -> bool {
        self.gained.is_empty()
            && self.lost.is_empty()
            && self.changed.is_empty()
            && self.before_error == self.after_error
    }
}

/// A line that could not be decided at all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

/// Per article or addressee: how many norms were gained, lost, changed, over all cases.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub gained: u64,
    pub lost: u64,
    pub changed: u64,
    /// Cases with at least one of these.
    pub cases: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub by_article: BTreeMap<String, Counts>,
    pub by_addressee: BTreeMap<String, Counts>,
}

/// The impact over a whole corpus.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Lines that held a case (blank lines are not cases).
    pub cases: usize,
    /// Cases with some change.
    pub affected: usize,
    /// Only the cases with some change, in corpus order.
    pub impacts: Vec<CaseImpact>,
    pub errors: Vec<LineError>,
    pub summary: Summary,
}

/// Decides every case of `corpus` (JSONL) with `before` and `after` and compares. Cases without
/// an `as_of` of their own are decided as of `as_of`. `progress` is called once per case (from
/// any thread).
pub fn diff(
    before: &Engine,
    after: &Engine,
    corpus: &str,
    as_of: Date,
    progress: &(dyn Fn() + Sync),
) -> Report {
    let lines: Vec<(usize, &str)> = corpus
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let results: Vec<Result<CaseImpact, LineError>> = lines
        .par_iter()
        .map(|(n, text)| {
            let r = one_case(before, after, *n, text, as_of);
            progress();
            r
        })
        .collect();
    let mut report = Report {
        cases: lines.len(),
        affected: 0,
        impacts: Vec::new(),
        errors: Vec::new(),
        summary: Summary::default(),
    };
    for r in results {
        match r {
            Ok(i) if i.is_empty() => {}
            Ok(i) => {
                count(&mut report.summary, &i);
                report.impacts.push(i);
            }
            Err(e) => report.errors.push(e),
        }
    }
    report.affected = report.impacts.len();
    report
}

fn count(summary: &mut Summary, i: &CaseImpact) {
    let mut touched: Vec<(bool, String)> = Vec::new();
    let all = i
        .gained
        .iter()
        .map(|n| (0, n))
        .chain(i.lost.iter().map(|n| (1, n)))
        .chain(i.changed.iter().map(|c| (2, &c.norm)));
    for (what, n) in all {
        let addressee = n.addressee.clone().unwrap_or_else(|| "(none)".into());
        for (by_article, key) in [(true, n.article.clone()), (false, addressee)] {
            let map = if by_article {
                &mut summary.by_article
            } else {
                &mut summary.by_addressee
            };
            let c = map.entry(key.clone()).or_default();
            match what {
                0 => c.gained += 1,
                1 => c.lost += 1,
                _ => c.changed += 1,
            }
            if !touched.contains(&(by_article, key.clone())) {
                c.cases += 1;
                touched.push((by_article, key));
            }
        }
    }
}

fn one_case(
    before: &Engine,
    after: &Engine,
    line: usize,
    text: &str,
    default_as_of: Date,
) -> Result<CaseImpact, LineError> {
    let fail = |message: String| LineError { line, message };
    let mut facts: Json =
        serde_json::from_str(text).map_err(|e| fail(format!("invalid JSON: {e}")))?;
    let Json::Object(map) = &mut facts else {
        return Err(fail("expected a facts object".into()));
    };
    let as_of = match map.remove("as_of") {
        None => default_as_of,
        Some(Json::String(s)) => Date::parse(&s)
            .ok_or_else(|| fail(format!("invalid `as_of` date `{s}`: expected YYYY-MM-DD")))?,
        Some(other) => {
            return Err(fail(format!(
                "`as_of` must be a date string, found {other}"
            )));
        }
    };
    // A case may name itself with `id` (unless the law has a fact of that name).
    let has_id_fact = |e: &Engine| e.program().facts.iter().any(|f| f.name == "id");
    let id = if has_id_fact(before) || has_id_fact(after) {
        None
    } else {
        map.remove("id").and_then(|v| match v {
            Json::String(s) => Some(s),
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    // Only the norms and penalties are compared: serialising the rest of the Decision (every
    // definition's value) would cost more than deciding.
    let decide = |e: &Engine| {
        e.decide(&facts, as_of, DecideOptions::default())
            .map_err(|e| e.to_string())
            .and_then(|d| {
                let norms = serde_json::to_value(&d.norms).map_err(|e| e.to_string())?;
                let penalties = serde_json::to_value(&d.penalties).map_err(|e| e.to_string())?;
                Ok(serde_json::json!({"norms": norms, "penalties": penalties}))
            })
    };
    let (old, new) = (decide(before), decide(after));
    let mut impact = CaseImpact {
        line,
        id,
        as_of: as_of.to_string(),
        gained: Vec::new(),
        lost: Vec::new(),
        changed: Vec::new(),
        before_error: None,
        after_error: None,
    };
    match (old, new) {
        (Err(a), Err(b)) if a == b => return Err(fail(a)),
        (Err(a), Err(b)) => {
            impact.before_error = Some(a);
            impact.after_error = Some(b);
        }
        (Err(a), Ok(d)) => {
            impact.before_error = Some(a);
            impact.gained = entries(&d).into_iter().map(|(_, n)| n).collect();
        }
        (Ok(d), Err(b)) => {
            impact.after_error = Some(b);
            impact.lost = entries(&d).into_iter().map(|(_, n)| n).collect();
        }
        (Ok(a), Ok(b)) => compare(&entries(&a), &entries(&b), &mut impact),
    }
    Ok(impact)
}

type Key = (String, String, Option<String>, Option<String>);

/// The norms and penalties of a Decision's JSON, each with its key.
fn entries(d: &Json) -> Vec<(Key, NormRef)> {
    let mut out = Vec::new();
    for (section, default_kind) in [("norms", None), ("penalties", Some("penalty"))] {
        let Some(Json::Array(items)) = d.get(section) else {
            continue;
        };
        for e in items {
            let s = |k: &str| e.get(k).and_then(Json::as_str).map(str::to_string);
            let n = NormRef {
                id: s("id").unwrap_or_default(),
                kind: default_kind
                    .map(str::to_string)
                    .or_else(|| s("kind"))
                    .unwrap_or_default(),
                article: s("article").unwrap_or_default(),
                addressee: s("addressee"),
                party: s("party"),
                system: s("system"),
                entry: e.clone(),
            };
            let key = (
                section.to_string(),
                n.id.clone(),
                n.party.clone(),
                n.system.clone(),
            );
            out.push((key, n));
        }
    }
    out
}

fn compare(old: &[(Key, NormRef)], new: &[(Key, NormRef)], impact: &mut CaseImpact) {
    for (k, n) in new {
        match old.iter().find(|(j, _)| j == k) {
            None => impact.gained.push(n.clone()),
            Some((_, o)) => {
                let changes = field_changes(&o.entry, &n.entry);
                if !changes.is_empty() {
                    impact.changed.push(Changed {
                        norm: n.clone(),
                        changes,
                    });
                }
            }
        }
    }
    for (k, o) in old {
        if !new.iter().any(|(j, _)| j == k) {
            impact.lost.push(o.clone());
        }
    }
}

fn field_changes(old: &Json, new: &Json) -> Vec<FieldChange> {
    let (Some(a), Some(b)) = (old.as_object(), new.as_object()) else {
        return Vec::new();
    };
    let mut fields: Vec<&String> = a.keys().chain(b.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter_map(|f| {
            let (x, y) = (a.get(f), b.get(f));
            (x != y).then(|| FieldChange {
                field: f.clone(),
                before: x.cloned().unwrap_or(Json::Null),
                after: y.cloned().unwrap_or(Json::Null),
            })
        })
        .collect()
}

/// The day a new version is first fully in force, for cases that give no `as_of`: the latest
/// effective date among the data modules of `after` that `before` does not have (by name,
/// version and source hash), else among the law versions it does not have.
pub fn first_day_of(before: &Engine, after: &Engine) -> Option<Date> {
    let (b, a) = (before.snapshot(), after.snapshot());
    let new_data = a
        .data()
        .iter()
        .filter(|m| {
            !b.data()
                .iter()
                .any(|o| o.name == m.name && o.version == m.version && o.hash == m.hash)
        })
        .map(|m| m.effective)
        .max();
    new_data.or_else(|| {
        after
            .program()
            .law
            .versions
            .iter()
            .filter(|v| {
                !before
                    .program()
                    .law
                    .versions
                    .iter()
                    .any(|o| o.version == v.version)
            })
            .filter_map(|v| v.effective)
            .max()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineOptions;

    const LAW: &str = "law t \"T\" version \"1\"\nrole provider \"P\"\n\
        type Category = enum { a, b, c }\n\
        data schema negative_list { categories: set<Category> }\nfact category: Category\n\
        fact users: int\n\
        article 1 \"A\" { obligation register { addressee provider when users > 10 and not (category in negative_list.categories) text \"register\" } }\n\
        article 2 \"B\" { prohibition offer { addressee provider when category in negative_list.categories text \"do not offer\" } }\n";

    fn engine(list: &str) -> Engine {
        let m = format!(
            "data negative_list version \"1\" effective 2026-01-01 {{ categories = {{{list}}} }}"
        );
        match Engine::from_memory(
            &[("t/law.norm", LAW)],
            &[m.as_bytes()],
            EngineOptions::default(),
        ) {
            Ok(e) => e,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_longer_list_moves_cases_from_one_norm_to_another() {
        let (old, new) = (engine("a"), engine("a, b"));
        let corpus = "{\"category\": \"a\", \"users\": 50}\n\
            {\"category\": \"b\", \"users\": 50, \"as_of\": \"2026-03-01\"}\n\
            not json\n\
            \n\
            {\"category\": \"c\", \"users\": 50}\n\
            {\"category\": \"zz\", \"users\": 50}\n";
        let day = Date::parse("2026-12-01").unwrap_or(Date::EPOCH);
        let n = std::sync::atomic::AtomicUsize::new(0);
        let r = diff(&old, &new, corpus, day, &|| {
            n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(r.cases, 5);
        assert_eq!(n.into_inner(), 5);
        assert_eq!(r.affected, 1, "{r:#?}");
        let i = r.impacts.first();
        assert_eq!(
            i.map(|i| (i.line, i.as_of.as_str())),
            Some((2, "2026-03-01"))
        );
        assert_eq!(
            i.map(|i| (
                i.gained.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
                i.lost.iter().map(|n| n.id.as_str()).collect::<Vec<_>>()
            )),
            Some((vec!["offer"], vec!["register"]))
        );
        let lines: Vec<usize> = r.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 6], "{:?}", r.errors);
        assert_eq!(
            r.summary.by_article.get("1").map(|c| (c.lost, c.cases)),
            Some((1, 1))
        );
        assert_eq!(
            r.summary
                .by_addressee
                .get("provider")
                .map(|c| (c.gained, c.lost)),
            Some((1, 1))
        );
    }
}
