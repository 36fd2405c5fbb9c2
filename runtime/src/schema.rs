//! The JSON Schema (draft 2020-12) of a law's facts, for applications that build facts files
//! (`norm schema`, and the service's `/v1/schema`). It says what reading the facts accepts:
//! counts and amounts are not negative, dates are `YYYY-MM-DD`, references are ids, `$schema`
//! may name the schema. One thing it cannot say: JSON Schema counts `50000.0` as an integer,
//! where the facts reader wants a whole number written without a fraction.

use norm_compiler::ir::Program;
use norm_compiler::value::{Ty, Types};
use serde_json::{Map, Value as Json, json};

pub fn facts_schema(program: &Program) -> Json {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in &program.facts {
        let schemas: Vec<&str> = program.schemas.iter().map(|s| s.name.as_str()).collect();
        let mut s = ty_schema(&program.types, &schemas, &f.ty);
        if let (false, Some(obj)) = (f.doc.is_empty(), s.as_object_mut()) {
            obj.insert("description".into(), json!(f.doc.join("\n")));
        }
        let is_collection = program.facts.iter().any(|g| {
            g.subject.as_ref().is_some_and(|sub| {
                program
                    .facts
                    .get(sub.collection as usize)
                    .is_some_and(|c| c.name == f.name)
            })
        });
        if let (true, Some(obj)) = (is_collection, s.as_object_mut()) {
            // The law's norms are decided for each element: a case names at least one.
            obj.insert("minItems".into(), json!(1));
        }
        props.insert(f.name.clone(), s);
        if f.subject.is_none() && !is_collection && !all_defaulted(&program.types, &f.ty) {
            required.push(f.name.clone());
        }
    }
    // A subject (`actor`) given alone is a collection of one (`parties`): one or the other.
    let either: Vec<Json> = program
        .facts
        .iter()
        .filter_map(|f| {
            let sub = f.subject.as_ref()?;
            let coll = program.facts.get(sub.collection as usize)?;
            Some(json!({"oneOf": [{"required": [coll.name]}, {"required": [f.name]}]}))
        })
        .collect();
    // Editors name the schema they validate a file with.
    props.insert("$schema".into(), json!({"type": "string"}));
    let mut schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("Facts for {} ({} v{})", program.law.name, program.law.title, program.law.version),
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": false,
    });
    if let (false, Some(obj)) = (either.is_empty(), schema.as_object_mut()) {
        obj.insert("allOf".into(), Json::Array(either));
    }
    schema
}

fn all_defaulted(types: &Types, ty: &Ty) -> bool {
    match ty {
        Ty::List(_) | Ty::Set(_) => true,
        Ty::Struct(id) => types
            .struct_def(*id)
            .is_some_and(|s| s.fields.iter().all(|f| f.default.is_some())),
        _ => false,
    }
}

/// A `count` (an integer at least 0) or an `amount` (money at least 0).
fn non_negative(ty: &Ty) -> Json {
    let amount = json!({"oneOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": "^[0-9][0-9_]*(\\.[0-9]+)?([eE][+-]?[0-9]+)?$"}
    ]});
    match ty {
        Ty::Money => json!({"oneOf": [
            amount,
            {"type": "object", "properties": {"amount": amount, "currency": {"const": "CNY"}},
             "required": ["amount"], "additionalProperties": false}
        ], "description": "an amount in CNY, not negative"}),
        _ => json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}),
    }
}

fn decimal() -> Json {
    json!({"oneOf": [
        {"type": "number"},
        {"type": "string", "pattern": "^-?[0-9][0-9_]*(\\.[0-9]+)?([eE][+-]?[0-9]+)?$"}
    ]})
}

fn ty_schema(types: &Types, schemas: &[&str], ty: &Ty) -> Json {
    match ty {
        Ty::Bool => json!({"type": "boolean"}),
        Ty::Int => json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX}),
        Ty::Decimal => decimal(),
        Ty::Money => json!({"oneOf": [
            decimal(),
            {"type": "object", "properties": {"amount": decimal(), "currency": {"const": "CNY"}},
             "required": ["amount"], "additionalProperties": false}
        ], "description": "an amount in CNY"}),
        Ty::Percent => json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?%$"}),
        Ty::Date => {
            json!({"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})
        }
        Ty::Duration => json!({"type": "string", "pattern": "^-?[0-9]+ (days?|months?|years?)$"}),
        Ty::WorkingDays => json!({"type": "string", "pattern": "^-?[0-9]+ working days?$"}),
        Ty::Text => json!({"type": "string"}),
        Ty::Enum(id) => {
            let variants = types
                .enum_def(*id)
                .map(|e| e.variants.clone())
                .unwrap_or_default();
            json!({"type": "string", "enum": variants})
        }
        Ty::Struct(id) => {
            let Some(def) = types.struct_def(*id) else {
                return json!({});
            };
            let mut props = Map::new();
            let mut required = Vec::new();
            for f in &def.fields {
                let mut s = ty_schema(types, schemas, &f.ty);
                if f.non_negative {
                    s = non_negative(&f.ty);
                }
                let code = f
                    .vocabulary
                    .and_then(|(s, _)| schemas.get(s as usize))
                    .map(|s| format!("a code of the `{s}` list in force on the decision date"));
                let id = f
                    .refers
                    .and_then(|t| types.struct_def(t))
                    .map(|t| format!("the id of a {} of this case", t.name));
                if let Some(what) = code.or(id) {
                    match &mut s {
                        Json::Object(o) if o.get("type") == Some(&json!("array")) => {
                            if let Some(Json::Object(items)) = o.get_mut("items") {
                                items.insert("description".into(), json!(what));
                            }
                        }
                        Json::Object(o) => {
                            o.insert("description".into(), json!(what));
                        }
                        _ => {}
                    }
                }
                if f.optional {
                    s = json!({"oneOf": [s, {"type": "null"}], "description": "optional: may be left out"});
                } else if let Some(d) = &f.default {
                    if let Some(obj) = s.as_object_mut() {
                        obj.insert("default".into(), crate::facts::to_json(types, d));
                    }
                } else {
                    required.push(f.name.clone());
                }
                // The field's documentation, for an application developer reading the schema.
                if let (false, Some(obj)) = (f.doc.is_empty(), s.as_object_mut()) {
                    let doc = f.doc.join(" ");
                    let text = match obj.get("description").and_then(|d| d.as_str()) {
                        Some(d) => format!("{doc} ({d})"),
                        None => doc,
                    };
                    obj.insert("description".into(), json!(text));
                }
                props.insert(f.name.clone(), s);
            }
            json!({"type": "object", "title": def.name, "properties": props, "required": required, "additionalProperties": false})
        }
        Ty::Set(t) => {
            json!({"type": "array", "items": ty_schema(types, schemas, t), "uniqueItems": true})
        }
        Ty::List(t) => json!({"type": "array", "items": ty_schema(types, schemas, t)}),
        Ty::Never | Ty::Error => json!({}),
    }
}
