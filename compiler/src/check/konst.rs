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
    Checker {
        program: program.clone(),
        types: program.types.clone(),
        diagnostics: Vec::new(),
        type_names,
        variants,
        facts: index(program.facts.iter().map(|f| &f.name).collect()),
        schemas: index(program.schemas.iter().map(|s| &s.name).collect()),
        defs: HashMap::new(),
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
                    let x = c.expect(e, &ty, &mut scope, &format!("field `{}`", field.node));
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
                out.push(ir::DataModule {
                    schema: schema_idx,
                    name: name.node.clone(),
                    version: version.node.clone(),
                    effective: date,
                    values: values.into_iter().flatten().collect(),
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
