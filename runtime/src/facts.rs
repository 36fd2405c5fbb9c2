//! Facts JSON in, typed values out — and values back out as JSON.
//!
//! Every problem names its JSON path (`system.training_flops: expected a decimal, found
//! "lots"`), and all problems are reported, not just the first. Unknown fields are errors
//! (a misspelt fact must not silently take its default).

use norm_compiler::check::{parse_decimal, suggest};
use norm_compiler::date::Date;
use norm_compiler::ir::{DataModule, Program};
use norm_compiler::value::{Ty, Types, Value, show_decimal};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value as Json;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FactError {
    /// JSON path, e.g. `actor.registered_users` or `systems[2].category`.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for FactError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Parses facts text. JSON syntax errors carry line and column.
pub fn parse_facts_text(program: &Program, text: &str) -> Result<Vec<Value>, Vec<FactError>> {
    let json = parse_json(text).map_err(|e| vec![e])?;
    read_facts(program, &json)
}

/// Parses JSON strictly: a key given twice in one object is an error naming its path (plain
/// JSON parsers keep the last one silently, so a case could say two things at once).
pub fn parse_json(text: &str) -> Result<Json, FactError> {
    let syntax = |e: serde_json::Error| FactError {
        path: String::new(),
        message: format!(
            "invalid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ),
    };
    let json: Json = serde_json::from_str(text).map_err(syntax)?;
    let mut de = serde_json::Deserializer::from_str(text);
    match serde::de::DeserializeSeed::deserialize(KeyCheck(String::new()), &mut de) {
        Ok(()) => Ok(json),
        Err(e) => {
            let message = e.to_string();
            // The path travels in the error's message: `PATH\u{0}what`.
            match message.split_once('\u{0}') {
                Some((path, rest)) => Err(FactError {
                    path: path.to_string(),
                    message: rest.split(" at line ").next().unwrap_or(rest).to_string(),
                }),
                None => Err(syntax(e)),
            }
        }
    }
}

/// Walks a JSON text and fails at the first key given twice in one object.
struct KeyCheck(String);

impl<'de> serde::de::DeserializeSeed<'de> for KeyCheck {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeyCheck {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while seq
            .next_element_seed(KeyCheck(format!("{}[{i}]", self.0)))?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            // A number of arbitrary precision arrives as a one-key map: not an object.
            let path = if self.0.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.0)
            };
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!(
                    "{path}\u{0}the key `{key}` is given twice in one object"
                )));
            }
            map.next_value_seed(KeyCheck(path))?;
        }
        Ok(())
    }
}

/// Reads the facts object: one key per declared fact.
pub fn read_facts(program: &Program, json: &Json) -> Result<Vec<Value>, Vec<FactError>> {
    let mut errors = Vec::new();
    let Json::Object(map) = json else {
        return Err(vec![FactError {
            path: String::new(),
            message: format!(
                "expected an object with one key per fact, found {}",
                describe(json)
            ),
        }]);
    };
    for key in map.keys() {
        // `$schema` names the JSON Schema an editor validates the file with: not a fact.
        if key == "$schema" {
            continue;
        }
        if !program.facts.iter().any(|f| &f.name == key) {
            let names: Vec<&str> = program.facts.iter().map(|f| f.name.as_str()).collect();
            let hint = match suggest(key, names.iter().copied()) {
                Some(s) => format!("; did you mean `{s}`?"),
                None => format!("; the facts are: {}", names.join(", ")),
            };
            errors.push(FactError {
                path: key.clone(),
                message: format!("unknown fact{hint}"),
            });
        }
    }
    let mut values = Vec::with_capacity(program.facts.len());
    let given: Vec<bool> = program
        .facts
        .iter()
        .map(|f| map.contains_key(&f.name))
        .collect();
    for (i, f) in program.facts.iter().enumerate() {
        match map.get(&f.name) {
            Some(v) => values.push(read(&program.types, &f.ty, v, &f.name, &mut errors)),
            // A subject is bound by the runtime, or given as shorthand for its collection.
            None if f.subject.is_some() => values.push(Value::Absent),
            // A collection given as one element, by its subject.
            None if subject_given(program, i as u32, &given) => values.push(Value::Absent),
            None => match all_defaults(&program.types, &f.ty) {
                Some(v) => values.push(v),
                None => {
                    errors.push(FactError {
                        path: f.name.clone(),
                        message: format!("missing fact (expected {})", a(&program.types, &f.ty)),
                    });
                    values.push(Value::Bool(false));
                }
            },
        }
    }
    if errors.is_empty() {
        errors = crate::subjects::normalize(program, &mut values, &given);
    }
    if errors.is_empty() {
        errors = check_case_identities(program, &values);
        in_the_case_form(program, json, &mut errors);
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// The paths of facts errors in the form the case was written in: a case that gave a subject
/// as shorthand (`system` for a list of one `systems`) is told `system.x`, not `systems[0].x`
/// (the checks after [`read_facts`] see the normalised collection).
pub fn in_the_case_form(program: &Program, json: &Json, errors: &mut [FactError]) {
    let Json::Object(map) = json else { return };
    for &s in &program.subjects {
        let Some(fact) = program.facts.get(s as usize) else {
            continue;
        };
        let Some(coll) = fact
            .subject
            .as_ref()
            .and_then(|sub| program.facts.get(sub.collection as usize))
        else {
            continue;
        };
        if !map.contains_key(&fact.name) || map.contains_key(&coll.name) {
            continue;
        }
        let prefix = format!("{}[0]", coll.name);
        for e in errors.iter_mut() {
            if let Some(rest) = e.path.strip_prefix(&prefix)
                && (rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
            {
                e.path = format!("{}{rest}", fact.name);
            }
        }
    }
}

/// Whether the collection fact `coll` was given through its subject (`actor` for `parties`).
pub fn subject_given(program: &Program, coll: u32, given: &[bool]) -> bool {
    program.subjects.iter().any(|&s| {
        given.get(s as usize) == Some(&true)
            && program
                .facts
                .get(s as usize)
                .and_then(|f| f.subject.as_ref())
                .is_some_and(|sub| sub.collection == coll)
    })
}

/// [`check_identities`] over a case's facts (the subjects are bound by the runtime: their
/// elements are checked in their collections).
pub fn check_case_identities(program: &Program, values: &[Value]) -> Vec<FactError> {
    let facts: Vec<(&str, &Ty, &Value)> = program
        .facts
        .iter()
        .zip(values)
        .filter(|(f, _)| f.subject.is_none())
        .map(|(f, v)| (f.name.as_str(), &f.ty, v))
        .collect();
    check_identities(&program.types, &facts)
}

/// Every `code<SCHEMA>` of a case names a code of that vocabulary in the data module in force
/// on the decision date (`selected`: per schema, the module in force). A vocabulary with no
/// module in force is not checked here (deciding then says the date is before the law's data).
pub fn check_codes(
    program: &Program,
    facts: &[Value],
    selected: &[Option<&DataModule>],
) -> Vec<FactError> {
    let mut errors = Vec::new();
    // The hot path: a law without vocabularies, or a case that names no code, costs a walk of
    // its structs and nothing else (paths are spelt out only for an error).
    let vocabularies = program
        .types
        .structs
        .iter()
        .any(|s| s.fields.iter().any(|f| f.vocabulary.is_some()));
    if !vocabularies {
        return errors;
    }
    let mut path = Vec::new();
    for (f, v) in program.facts.iter().zip(facts) {
        path.push(Seg::Field(&f.name));
        walk_codes(program, selected, &f.ty, v, &mut path, &mut errors);
        path.pop();
    }
    errors
}

/// A step of a JSON path.
enum Seg<'a> {
    Field(&'a str),
    Index(usize),
}

fn spell(path: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Seg::Field(f) if out.is_empty() => out.push_str(f),
            Seg::Field(f) => {
                out.push('.');
                out.push_str(f);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The codes a module publishes in its vocabulary field.
fn codes_of<'m>(program: &Program, module: &'m DataModule, field: u32) -> Vec<&'m str> {
    let Some(Value::Set(items) | Value::List(items)) = module.values.get(field as usize) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Value::Struct(sid, fields) => {
                let def = program.types.struct_def(*sid)?;
                let at = def.fields.iter().position(|f| f.name == "code")?;
                match fields.get(at) {
                    Some(Value::Text(t)) => Some(&**t),
                    _ => None,
                }
            }
            Value::Text(t) => Some(&**t),
            _ => None,
        })
        .collect()
}

fn walk_codes<'p>(
    program: &'p Program,
    selected: &[Option<&DataModule>],
    ty: &Ty,
    v: &Value,
    path: &mut Vec<Seg<'p>>,
    errors: &mut Vec<FactError>,
) {
    match (ty, v) {
        (Ty::Struct(sid), Value::Struct(_, fields)) => {
            let Some(def) = program.types.struct_def(*sid) else {
                return;
            };
            for (f, fv) in def.fields.iter().zip(fields.iter()) {
                path.push(Seg::Field(&f.name));
                if let Some((schema, field)) = f.vocabulary
                    && let Some(Some(module)) = selected.get(schema as usize)
                {
                    let given: Vec<(Option<usize>, &str)> = match fv {
                        Value::Text(t) => vec![(None, &**t)],
                        Value::Set(xs) | Value::List(xs) => xs
                            .iter()
                            .enumerate()
                            .filter_map(|(i, x)| match x {
                                Value::Text(t) => Some((Some(i), &**t)),
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    if !given.is_empty() {
                        let codes = codes_of(program, module, field);
                        for (i, code) in given {
                            if codes.contains(&code) {
                                continue;
                            }
                            let hint = match suggest(code, codes.iter().copied()) {
                                Some(s) => format!("did you mean `{s}`? "),
                                None => String::new(),
                            };
                            let mut at = spell(path);
                            if let Some(i) = i {
                                at.push_str(&format!("[{i}]"));
                            }
                            errors.push(FactError {
                                path: at,
                                message: format!(
                                    "`{code}` is not a code of `{}` version {} (in force from {}); {hint}its codes are: {}",
                                    module.name,
                                    module.version,
                                    module.effective,
                                    codes.join(", ")
                                ),
                            });
                        }
                    }
                }
                walk_codes(program, selected, &f.ty, fv, path, errors);
                path.pop();
            }
        }
        (Ty::Set(inner) | Ty::List(inner), Value::Set(xs) | Value::List(xs))
            if matches!(**inner, Ty::Struct(_)) =>
        {
            for (i, x) in xs.iter().enumerate() {
                path.push(Seg::Index(i));
                walk_codes(program, selected, inner, x, path, errors);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A `ref` in a case: the struct it names, the id it names, its JSON path, and the referring
/// element's own struct and id (a reference within one kind: a model derived from a model).
type Reference = (u32, String, String, Option<(u32, String)>);

/// What a case names by id: its elements (structs with an `id: text` field), and the `ref`s
/// that name them.
#[derive(Default)]
struct Identities {
    /// (struct, id) → the JSON path of the element.
    elements: std::collections::BTreeMap<(u32, String), String>,
    refs: Vec<Reference>,
    errors: Vec<FactError>,
}

/// Ids are unique per kind of element, every `ref` names an element the case has, and a chain
/// of references between elements of one kind never comes back to where it started.
pub fn check_identities(types: &Types, facts: &[(&str, &Ty, &Value)]) -> Vec<FactError> {
    // A law whose types name nothing by id costs nothing here (the walk spells out paths).
    let named = types.structs.iter().any(|s| {
        s.fields
            .iter()
            .any(|f| f.refers.is_some() || (f.name == "id" && f.ty == Ty::Text))
    });
    if !named {
        return Vec::new();
    }
    let mut ids = Identities::default();
    for (name, ty, v) in facts {
        walk(types, ty, v, name, &mut ids);
    }
    let Identities {
        elements,
        refs,
        mut errors,
    } = ids;
    let mut edges: std::collections::BTreeMap<(u32, String), Vec<(String, String)>> =
        std::collections::BTreeMap::new();
    for (target, id, path, from) in &refs {
        let kind = types
            .struct_def(*target)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        if !elements.contains_key(&(*target, id.clone())) {
            let known: Vec<&str> = elements
                .keys()
                .filter(|(s, _)| s == target)
                .map(|(_, i)| i.as_str())
                .collect();
            let hint = match suggest(id, known.iter().copied()) {
                Some(s) => format!("; did you mean `{s}`?"),
                None if known.is_empty() => format!("; the case has no {kind}"),
                None => format!("; its {kind} ids are: {}", known.join(", ")),
            };
            errors.push(FactError {
                path: path.clone(),
                message: format!("no {kind} with the id `{id}` in this case{hint}"),
            });
            continue;
        }
        if let Some((s, own)) = from
            && s == target
        {
            edges
                .entry((*s, own.clone()))
                .or_default()
                .push((id.clone(), path.clone()));
        }
    }
    // A cycle: a depth-first walk of the references of each kind; an edge back to an element
    // on the current path closes a cycle, reported once, at the reference that closes it.
    let mut colour: std::collections::BTreeMap<(u32, String), u8> =
        std::collections::BTreeMap::new();
    for start in edges.keys() {
        if colour.get(start).copied().unwrap_or(0) != 0 {
            continue;
        }
        // The path: (element, index of the next reference to follow).
        let mut path: Vec<((u32, String), usize)> = vec![(start.clone(), 0)];
        colour.insert(start.clone(), 1);
        while let Some((node, next)) = path.last().cloned() {
            let out = edges.get(&node).map(Vec::as_slice).unwrap_or_default();
            let Some((to, at)) = out.get(next) else {
                colour.insert(node, 2);
                path.pop();
                continue;
            };
            if let Some(top) = path.last_mut() {
                top.1 += 1;
            }
            let key = (node.0, to.clone());
            match colour.get(&key).copied().unwrap_or(0) {
                0 => {
                    colour.insert(key.clone(), 1);
                    path.push((key, 0));
                }
                1 => {
                    let from = path.iter().position(|(n, _)| *n == key).unwrap_or(0);
                    let mut chain: Vec<&str> =
                        path.iter().skip(from).map(|(n, _)| n.1.as_str()).collect();
                    chain.push(to.as_str());
                    errors.push(FactError {
                        path: at.clone(),
                        message: format!(
                            "the references make a cycle: {} (an element cannot derive from itself)",
                            chain.join(" → ")
                        ),
                    });
                }
                _ => {}
            }
        }
    }
    errors
}

fn walk(types: &Types, ty: &Ty, v: &Value, path: &str, ids: &mut Identities) {
    match (ty, v) {
        (Ty::Struct(sid), Value::Struct(_, fields)) => {
            let Some(def) = types.struct_def(*sid) else {
                return;
            };
            let own = def
                .fields
                .iter()
                .zip(fields.iter())
                .find(|(f, _)| f.name == "id" && f.ty == Ty::Text)
                .and_then(|(_, v)| match v {
                    Value::Text(t) => Some(t.to_string()),
                    _ => None,
                });
            if let Some(id) = &own {
                let key = (*sid, id.clone());
                match ids.elements.get(&key) {
                    Some(first) => ids.errors.push(FactError {
                        path: format!("{path}.id"),
                        message: format!(
                            "another {} has the id `{id}` ({first}): an id names one element",
                            def.name
                        ),
                    }),
                    None => {
                        ids.elements.insert(key, path.to_string());
                    }
                }
            }
            for (f, fv) in def.fields.iter().zip(fields.iter()) {
                let p = format!("{path}.{}", f.name);
                if let Some(target) = f.refers {
                    let from = own.clone().map(|o| (*sid, o));
                    match fv {
                        Value::Text(t) => ids.refs.push((target, t.to_string(), p.clone(), from)),
                        Value::Set(xs) | Value::List(xs) => {
                            for (i, x) in xs.iter().enumerate() {
                                if let Value::Text(t) = x {
                                    ids.refs.push((
                                        target,
                                        t.to_string(),
                                        format!("{p}[{i}]"),
                                        from.clone(),
                                    ));
                                }
                            }
                        }
                        _ => {}
                    }
                }
                walk(types, &f.ty, fv, &p, ids);
            }
        }
        (Ty::Set(inner) | Ty::List(inner), Value::Set(xs) | Value::List(xs)) => {
            for (i, x) in xs.iter().enumerate() {
                walk(types, inner, x, &format!("{path}[{i}]"), ids);
            }
        }
        _ => {}
    }
}

/// The value of a struct whose every field has a default.
/// The value of a struct none of whose fields needs to be given (each has a default or is
/// optional), so that a case may leave the whole fact out.
pub fn all_defaults(types: &Types, ty: &Ty) -> Option<Value> {
    // A list or set fact a case leaves out is empty (no events, no incidents).
    match ty {
        Ty::List(_) => return Some(Value::List(Vec::new().into())),
        Ty::Set(_) => return Some(Value::Set(Vec::new().into())),
        _ => {}
    }
    let Ty::Struct(id) = ty else { return None };
    let def = types.struct_def(*id)?;
    let fields: Option<Vec<Value>> = def
        .fields
        .iter()
        .map(|f| f.default.clone().or(f.optional.then_some(Value::Absent)))
        .collect();
    Some(Value::Struct(*id, fields?.into()))
}

use norm_compiler::value::with_article;

fn a(types: &Types, ty: &Ty) -> String {
    with_article(&types.show(ty))
}

fn describe(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => {
            let short: String = s.chars().take(40).collect();
            format!("{short:?}")
        }
        Json::Array(_) => "an array".into(),
        Json::Object(_) => "an object".into(),
    }
}

fn decimal_of(v: &Json) -> Option<Decimal> {
    match v {
        Json::Number(n) => parse_decimal(&n.to_string()),
        Json::String(s) => parse_decimal(s.trim()),
        _ => None,
    }
}

fn read(types: &Types, ty: &Ty, v: &Json, path: &str, errors: &mut Vec<FactError>) -> Value {
    let mut fail = |msg: String| {
        errors.push(FactError {
            path: path.to_string(),
            message: msg,
        });
        Value::Bool(false)
    };
    let expected = a(types, ty);
    match ty {
        Ty::Bool => match v {
            Json::Bool(b) => Value::Bool(*b),
            _ => fail(format!("expected {expected}, found {}", describe(v))),
        },
        Ty::Int => match v {
            Json::Number(n) => match n.to_string().parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => fail(format!(
                    "expected {expected} (a whole number within 64 bits), found {n}"
                )),
            },
            _ => fail(format!("expected {expected}, found {}", describe(v))),
        },
        Ty::Decimal => match decimal_of(v) {
            Some(d) => Value::Decimal(d),
            None => fail(format!("expected {expected}, found {}", describe(v))),
        },
        Ty::Money => {
            let (amount, currency) = match v {
                Json::Object(m) => {
                    if let Some(k) = m.keys().find(|k| *k != "amount" && *k != "currency") {
                        return fail(format!(
                            "unknown key `{k}` in an amount (expected `amount` and `currency`)"
                        ));
                    }
                    (m.get("amount"), m.get("currency").and_then(Json::as_str))
                }
                other => (Some(other), Some("CNY")),
            };
            if currency != Some("CNY") {
                return fail(format!(
                    "amounts are in CNY, found currency {}",
                    currency
                        .map(|c| format!("{c:?}"))
                        .unwrap_or("missing".into())
                ));
            }
            match amount.and_then(decimal_of) {
                Some(d) => Value::Money(d),
                None => fail(format!(
                    "expected an amount of money (e.g. \"100000\"), found {}",
                    describe(v)
                )),
            }
        }
        Ty::Percent => match v {
            Json::String(s) if s.trim().ends_with('%') => {
                match parse_decimal(s.trim().trim_end_matches('%').trim()) {
                    Some(d) => Value::Percent(d / Decimal::ONE_HUNDRED),
                    None => fail(format!(
                        "expected a percentage such as \"4%\", found {}",
                        describe(v)
                    )),
                }
            }
            _ => fail(format!(
                "expected a percentage such as \"4%\", found {}",
                describe(v)
            )),
        },
        Ty::Date => match v {
            Json::String(s) => match Date::parse(s) {
                Some(d) => Value::Date(d),
                None => fail(format!("expected a date YYYY-MM-DD, found {}", describe(v))),
            },
            _ => fail(format!("expected a date YYYY-MM-DD, found {}", describe(v))),
        },
        Ty::Duration => match v.as_str().and_then(parse_duration) {
            Some(d) => Value::Duration(d),
            None => fail(format!(
                "expected a duration such as \"10 days\", found {}",
                describe(v)
            )),
        },
        Ty::WorkingDays => match v.as_str().and_then(parse_working_days) {
            Some(n) => Value::WorkingDays(n),
            None => fail(format!(
                "expected a number of working days such as \"10 working days\", found {}",
                describe(v)
            )),
        },
        Ty::Text => match v {
            Json::String(s) => Value::Text(s.as_str().into()),
            _ => fail(format!("expected text, found {}", describe(v))),
        },
        Ty::Enum(id) => {
            let Some(def) = types.enum_def(*id) else {
                return fail("unknown enum".into());
            };
            match v {
                Json::String(s) => match def.variants.iter().position(|x| x == s) {
                    Some(i) => Value::Enum(*id, i as u32),
                    None => {
                        let hint = match suggest(s, def.variants.iter().map(String::as_str)) {
                            Some(x) => format!("did you mean {x:?}?"),
                            None => format!("one of {}", def.variants.join(", ")),
                        };
                        fail(format!("{s:?} is not {}; {hint}", with_article(&def.name)))
                    }
                },
                _ => fail(format!(
                    "expected {} (one of {}), found {}",
                    with_article(&def.name),
                    def.variants.join(", "),
                    describe(v)
                )),
            }
        }
        Ty::Struct(id) => {
            let Some(def) = types.struct_def(*id) else {
                return fail("unknown struct".into());
            };
            let Json::Object(m) = v else {
                return fail(format!(
                    "expected an object ({}), found {}",
                    def.name,
                    describe(v)
                ));
            };
            let mut extra = Vec::new();
            for k in m.keys() {
                if def.field(k).is_none() {
                    let hint = match suggest(k, def.fields.iter().map(|f| f.name.as_str())) {
                        Some(s) => format!("; did you mean `{s}`?"),
                        None => String::new(),
                    };
                    extra.push(FactError {
                        path: format!("{path}.{k}"),
                        message: format!("unknown field of {}{hint}", def.name),
                    });
                }
            }
            errors.extend(extra);
            let mut fields = Vec::with_capacity(def.fields.len());
            for f in &def.fields {
                let p = format!("{path}.{}", f.name);
                match (m.get(&f.name), &f.default) {
                    (None | Some(Json::Null), _) if f.optional => fields.push(Value::Absent),
                    (Some(x), _) => {
                        let v = read(types, &f.ty, x, &p, errors);
                        let negative = match &v {
                            Value::Int(i) => *i < 0,
                            Value::Money(d) => d.is_sign_negative() && !d.is_zero(),
                            _ => false,
                        };
                        if f.non_negative && negative {
                            errors.push(FactError {
                                path: p.clone(),
                                message: format!(
                                    "{} cannot be negative, found {}",
                                    if matches!(f.ty, Ty::Int) {
                                        "a count"
                                    } else {
                                        "an amount"
                                    },
                                    describe(x)
                                ),
                            });
                        }
                        fields.push(v)
                    }
                    (None, Some(d)) => fields.push(d.clone()),
                    (None, None) => {
                        errors.push(FactError {
                            path: p,
                            message: format!("missing field (expected {})", a(types, &f.ty)),
                        });
                        fields.push(Value::Bool(false));
                    }
                }
            }
            Value::Struct(*id, fields.into())
        }
        Ty::Set(elem) | Ty::List(elem) => {
            let Json::Array(items) = v else {
                return fail(format!(
                    "expected an array ({expected}), found {}",
                    describe(v)
                ));
            };
            let vs: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(i, x)| read(types, elem, x, &format!("{path}[{i}]"), errors))
                .collect();
            if matches!(ty, Ty::Set(_)) {
                Value::set(vs)
            } else {
                Value::List(vs.into())
            }
        }
        Ty::Never | Ty::Error => fail("this fact's type has errors".into()),
    }
}

fn parse_working_days(s: &str) -> Option<i64> {
    let s = s.trim();
    let n = s
        .strip_suffix("working days")
        .or_else(|| s.strip_suffix("working day"))?;
    n.trim().replace('_', "").parse().ok()
}

fn parse_duration(s: &str) -> Option<norm_compiler::date::Duration> {
    let mut parts = s.split_whitespace();
    let n: i64 = parts.next()?.replace('_', "").parse().ok()?;
    let unit = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    match unit {
        "day" | "days" => Some(norm_compiler::date::Duration::days(n)),
        "month" | "months" => Some(norm_compiler::date::Duration::months(n)),
        "year" | "years" => Some(norm_compiler::date::Duration::months(n.checked_mul(12)?)),
        _ => None,
    }
}

/// A value as JSON: decimals and money as exact strings, enums by name, dates `YYYY-MM-DD`.
pub fn to_json(types: &Types, v: &Value) -> Json {
    match v {
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Decimal(d) => Json::String(show_decimal(d)),
        Value::Money(d) => money_json(d),
        Value::Percent(_) | Value::Duration(_) | Value::WorkingDays(_) | Value::Date(_) => {
            Json::String(v.to_string())
        }
        Value::Text(t) => Json::String(t.to_string()),
        Value::Enum(..) => Json::String(types.show_value(v)),
        Value::Absent => Json::Null,
        Value::Struct(id, fields) => {
            let mut m = serde_json::Map::new();
            if let Some(def) = types.struct_def(*id) {
                for (f, x) in def.fields.iter().zip(fields.iter()) {
                    m.insert(f.name.clone(), to_json(types, x));
                }
            }
            Json::Object(m)
        }
        Value::Set(items) | Value::List(items) => {
            Json::Array(items.iter().map(|x| to_json(types, x)).collect())
        }
    }
}

pub fn money_json(d: &Decimal) -> Json {
    let mut m = serde_json::Map::new();
    m.insert("amount".into(), Json::String(show_decimal(d)));
    m.insert("currency".into(), Json::String("CNY".into()));
    Json::Object(m)
}
