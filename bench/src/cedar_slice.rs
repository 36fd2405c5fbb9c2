//! The slice in Cedar (bench/cedar/slice.cedar): one request per actor, the satisfied policies
//! read from the response's diagnostics.

use crate::hand::{self, Case, Data, bit};
use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityUid, Policy, PolicyId, PolicySet, Request,
    RestrictedExpression as R,
};
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

pub struct CedarSlice {
    authorizer: Authorizer,
    policies: PolicySet,
    /// Policy id → bit of its norm in [`hand::NORMS`].
    bits: HashMap<PolicyId, u32>,
}

/// One actor, built once, outside the timed loop.
pub struct CedarCase {
    request: Request,
    entities: Entities,
}

fn uid(s: &str) -> Result<EntityUid, String> {
    EntityUid::from_str(s).map_err(|e| e.to_string())
}

/// Training compute in units of 10^12 FLOPs (Cedar's integers are 64-bit).
fn e12(flops: Decimal) -> Result<i64, String> {
    let unit = Decimal::from(1_000_000_000_000i64);
    let q = flops / unit;
    if q.fract() != Decimal::ZERO {
        return Err(format!(
            "{flops} FLOPs is not a whole number of 10^12 FLOPs"
        ));
    }
    i64::try_from(q).map_err(|e| e.to_string())
}

impl CedarSlice {
    pub fn load(src: &str) -> Result<CedarSlice, String> {
        let parsed = PolicySet::from_str(src).map_err(|e| format!("{e:?}"))?;
        let mut policies = PolicySet::new();
        let mut bits = HashMap::new();
        for p in parsed.policies() {
            let norm = p
                .annotation("id")
                .ok_or("a policy without @id")?
                .to_string();
            let b = bit(&norm).ok_or(format!("@id(\"{norm}\") is not a norm of the slice"))?;
            let id = PolicyId::new(norm.clone());
            let p = Policy::parse(Some(id.clone()), p.to_string()).map_err(|e| format!("{e:?}"))?;
            policies.add(p).map_err(|e| format!("{e:?}"))?;
            bits.insert(id, b);
        }
        if bits.len() != hand::NORMS.len() {
            return Err(format!(
                "{} policies for {} norms",
                bits.len(),
                hand::NORMS.len()
            ));
        }
        Ok(CedarSlice {
            authorizer: Authorizer::new(),
            policies,
            bits,
        })
    }

    pub fn case(&self, c: &Case, d: &Data) -> Result<CedarCase, String> {
        let actor = uid(r#"Actor::"actor""#)?;
        let system = uid(r#"System::"system""#)?;
        let action = uid(r#"Action::"decide""#)?;
        let b = |k: &str, v: bool| (k.to_string(), R::new_bool(v));
        let actor_attrs: HashMap<String, R> = [
            b("is_developer", c.is_developer),
            b("is_provider", c.is_provider),
            b("is_user", c.is_user),
            b("military", c.military),
            (
                "registered_users".to_string(),
                R::new_long(c.registered_users),
            ),
        ]
        .into_iter()
        .collect();
        let system_attrs: HashMap<String, R> = [
            (
                "category".to_string(),
                R::new_string(c.category.name().to_string()),
            ),
            b("activity_in_prc", c.activity_in_prc),
            b("affects_prc", c.affects_prc),
            b("general_purpose", c.general_purpose),
            (
                "training_flops_e12".to_string(),
                R::new_long(e12(c.training_flops)?),
            ),
            b("licensed", c.licensed),
            b("beyond_licensed_scope", c.beyond_licensed_scope),
            b("registered", c.registered),
            b(
                "derived_from_foundation_model",
                c.derived_from_foundation_model,
            ),
            b(
                "derivative_equivalent_capabilities",
                c.derivative_equivalent_capabilities,
            ),
            b(
                "derivative_expanded_capabilities",
                c.derivative_expanded_capabilities,
            ),
        ]
        .into_iter()
        .collect();
        let entities = Entities::from_entities(
            [
                Entity::new(actor.clone(), actor_attrs, HashSet::new())
                    .map_err(|e| e.to_string())?,
                Entity::new(system.clone(), system_attrs, HashSet::new())
                    .map_err(|e| e.to_string())?,
            ],
            None,
        )
        .map_err(|e| e.to_string())?;
        let research = R::new_record([
            b("scientific_purpose", c.scientific_purpose),
            b("limited_scope", c.limited_scope),
            b("commercial_public_service", c.commercial_public_service),
            b("lawful_training_data", c.lawful_training_data),
            b("safety_measures", c.safety_measures),
            b("records_retained", c.records_retained),
        ])
        .map_err(|e| e.to_string())?;
        let violation = R::new_record([
            b("violates_law", c.violates_law),
            b("whistleblower_retaliation", c.whistleblower_retaliation),
            b("refused_to_rectify", c.refused_to_rectify),
            b("serious", c.serious),
        ])
        .map_err(|e| e.to_string())?;
        let negative_list = R::new_set(
            hand::Category::ALL
                .iter()
                .filter(|(_, cat)| d.negative_list & (1 << *cat as u32) != 0)
                .map(|(n, _)| R::new_string(n.to_string())),
        );
        let context = Context::from_pairs([
            ("research".to_string(), research),
            ("violation".to_string(), violation),
            ("negative_list".to_string(), negative_list),
            (
                "foundation_model_flops_e12".to_string(),
                R::new_long(e12(d.foundation_model_flops)?),
            ),
        ])
        .map_err(|e| e.to_string())?;
        let request =
            Request::new(actor, action, system, context, None).map_err(|e| e.to_string())?;
        Ok(CedarCase { request, entities })
    }

    /// One authorization call; the satisfied policies are the norms that apply.
    #[inline(never)]
    pub fn decide(&self, c: &CedarCase) -> u32 {
        let response = self
            .authorizer
            .is_authorized(&c.request, &self.policies, &c.entities);
        let mut applies = 0;
        for id in response.diagnostics().reason() {
            applies |= self.bits.get(id).copied().unwrap_or(0);
        }
        applies
    }

    /// Evaluation errors (there should be none).
    pub fn errors(&self, c: &CedarCase) -> Vec<String> {
        let response = self
            .authorizer
            .is_authorized(&c.request, &self.policies, &c.entities);
        response
            .diagnostics()
            .errors()
            .map(|e| e.to_string())
            .collect()
    }
}
