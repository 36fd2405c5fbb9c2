//! The slice in Rego (bench/rego/slice.rego), on regorus: its tree-walking interpreter (an
//! `Engine` per actor, input set once) and its bytecode VM (the RVM: the policy compiled once to
//! a `Program`, a `RegoVM` per actor, input set once).

use crate::hand::{self, Case, Data, bit};
use regorus::Value;
use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::RegoVM;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::json;
use std::sync::Arc;

pub const ENTRY: &str = "data.norm.slice.result";

pub struct RegoSlice {
    engine: regorus::Engine,
    program: Arc<regorus::rvm::Program>,
    data: Value,
}

/// One actor, built once, outside the timed loop.
pub struct RegoCase {
    engine: regorus::Engine,
    vm: RegoVM,
}

fn e12(flops: Decimal) -> Result<i64, String> {
    let q = flops / Decimal::from(1_000_000_000_000i64);
    if q.fract() != Decimal::ZERO {
        return Err(format!(
            "{flops} FLOPs is not a whole number of 10^12 FLOPs"
        ));
    }
    q.to_i64()
        .ok_or("training compute out of range".to_string())
}

fn money(d: Decimal) -> serde_json::Value {
    match d.to_i64() {
        Some(i) if d.fract() == Decimal::ZERO => json!(i),
        _ => json!(d.to_f64()),
    }
}

impl RegoSlice {
    pub fn load(src: &str, d: &Data) -> Result<RegoSlice, String> {
        let categories: Vec<&str> = hand::Category::ALL
            .iter()
            .filter(|(_, cat)| d.negative_list & (1 << *cat as u32) != 0)
            .map(|(n, _)| *n)
            .collect();
        let data = Value::from(json!({
            "negative_list": { "categories": categories },
            "thresholds": { "foundation_model_flops_e12": e12(d.foundation_model_flops)? },
        }));
        let mut engine = regorus::Engine::new();
        engine
            .add_policy("slice.rego".into(), src.into())
            .map_err(|e| e.to_string())?;
        engine.add_data(data.clone()).map_err(|e| e.to_string())?;
        let compiled = engine
            .compile_with_entrypoint(&ENTRY.into())
            .map_err(|e| e.to_string())?;
        let program =
            Compiler::compile_from_policy(&compiled, &[ENTRY]).map_err(|e| e.to_string())?;
        Ok(RegoSlice {
            engine,
            program,
            data,
        })
    }

    pub fn case(&self, c: &Case) -> Result<RegoCase, String> {
        let input = Value::from(json!({
            "actor": {
                "is_developer": c.is_developer,
                "is_provider": c.is_provider,
                "is_user": c.is_user,
                "military": c.military,
                "registered_users": c.registered_users,
                "previous_year_revenue": money(c.previous_year_revenue),
            },
            "system": {
                "category": c.category.name(),
                "activity_in_prc": c.activity_in_prc,
                "affects_prc": c.affects_prc,
                "general_purpose": c.general_purpose,
                "training_flops_e12": e12(c.training_flops)?,
                "licensed": c.licensed,
                "beyond_licensed_scope": c.beyond_licensed_scope,
                "registered": c.registered,
                "derived_from_foundation_model": c.derived_from_foundation_model,
                "derivative_equivalent_capabilities": c.derivative_equivalent_capabilities,
                "derivative_expanded_capabilities": c.derivative_expanded_capabilities,
            },
            "research": {
                "scientific_purpose": c.scientific_purpose,
                "limited_scope": c.limited_scope,
                "commercial_public_service": c.commercial_public_service,
                "lawful_training_data": c.lawful_training_data,
                "safety_measures": c.safety_measures,
                "records_retained": c.records_retained,
            },
            "violation": {
                "violates_law": c.violates_law,
                "whistleblower_retaliation": c.whistleblower_retaliation,
                "refused_to_rectify": c.refused_to_rectify,
                "serious": c.serious,
            },
        }));
        let mut engine = self.engine.clone();
        engine.set_input(input.clone());
        let mut vm = RegoVM::new();
        vm.load_program(self.program.clone());
        vm.set_data(self.data.clone()).map_err(|e| e.to_string())?;
        vm.set_input(input);
        Ok(RegoCase { engine, vm })
    }
}

/// The norms that apply, as bits of [`hand::NORMS`], from a `result`.
pub fn applies(result: &Value) -> u32 {
    let mut bits = 0;
    if let Ok(set) = result["applies"].as_set() {
        for v in set.iter() {
            if let Ok(s) = v.as_string() {
                bits |= bit(s).unwrap_or(1 << 31);
            }
        }
    }
    bits
}

/// The fine range of `penalty` in a `result`, if it applies.
pub fn fine(result: &Value, penalty: &str) -> Option<(Decimal, Decimal)> {
    let set = result["fines"].as_set().ok()?;
    for v in set.iter() {
        let a = v.as_array().ok()?;
        if a.first()?.as_string().ok()?.as_ref() == penalty {
            let num = |x: &Value| x.as_f64().ok().and_then(|f| Decimal::try_from(f).ok());
            return Some((num(a.get(1)?)?, num(a.get(2)?)?));
        }
    }
    None
}

impl RegoCase {
    /// The interpreter: evaluates the rule `result` (input already set).
    #[inline(never)]
    pub fn interp(&mut self) -> Result<Value, String> {
        self.engine
            .eval_rule(ENTRY.to_string())
            .map_err(|e| e.to_string())
    }

    /// The bytecode VM: runs the compiled program (input already set).
    #[inline(never)]
    pub fn rvm(&mut self) -> Result<Value, String> {
        self.vm.execute().map_err(|e| e.to_string())
    }
}
