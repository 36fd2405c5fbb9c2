//! The slice decided by hand-written Rust: the physical limit. Plain structs, plain booleans,
//! the definitions as local variables, defeat as `&& !exempt`. Same norms, same order, same
//! fine ranges as bench/slice.

use rust_decimal::Decimal;
use serde_json::Value as Json;
use std::str::FromStr;

/// The slice's norm ids; a decision is a bit set over this list (bit `i` = `NORMS[i]` applies).
pub const NORMS: [&str; 19] = [
    "extraterritorial_scope",
    "negative_list_licence",
    "negative_list_rd_licence",
    "unlicensed_negative_list_provision",
    "unlicensed_negative_list_rd",
    "foundation_risk_management",
    "foundation_stewardship",
    "national_registry",
    "provincial_registry",
    "registry_tier_gap",
    "display_filing_number",
    "rectify_violation",
    "refusal_to_rectify",
    "serious_violation",
    "developer_rectify_violation",
    "military_ai_exemption",
    "research_exemption",
    "research_on_negative_list",
    "foundation_threshold_boundary",
];

pub fn bit(id: &str) -> Option<u32> {
    NORMS.iter().position(|n| *n == id).map(|i| 1u32 << i)
}

/// Kinds of AI product or service, as in bench/slice/types.norm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    MedicalDiagnosis,
    AutonomousDriving,
    CreditScoring,
    BiometricIdentification,
    CriticalInfrastructure,
    PublicOpinionMobilization,
    GeneralChatbot,
    Recommendation,
    ImageGeneration,
    Other,
}

impl Category {
    pub const ALL: [(&'static str, Category); 10] = [
        ("medical_diagnosis", Category::MedicalDiagnosis),
        ("autonomous_driving", Category::AutonomousDriving),
        ("credit_scoring", Category::CreditScoring),
        (
            "biometric_identification",
            Category::BiometricIdentification,
        ),
        ("critical_infrastructure", Category::CriticalInfrastructure),
        (
            "public_opinion_mobilization",
            Category::PublicOpinionMobilization,
        ),
        ("general_chatbot", Category::GeneralChatbot),
        ("recommendation", Category::Recommendation),
        ("image_generation", Category::ImageGeneration),
        ("other", Category::Other),
    ];

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.iter().find(|(n, _)| *n == s).map(|(_, c)| *c)
    }

    pub fn name(self) -> &'static str {
        Category::ALL
            .iter()
            .find(|(_, c)| *c == self)
            .map_or("other", |(n, _)| n)
    }
}

/// The facts of one case (bench/slice/types.norm), defaults filled in.
#[derive(Clone, Debug)]
pub struct Case {
    pub is_developer: bool,
    pub is_provider: bool,
    pub is_user: bool,
    pub military: bool,
    pub registered_users: i64,
    pub previous_year_revenue: Decimal,
    pub category: Category,
    pub activity_in_prc: bool,
    pub affects_prc: bool,
    pub general_purpose: bool,
    pub training_flops: Decimal,
    pub licensed: bool,
    pub beyond_licensed_scope: bool,
    pub registered: bool,
    pub derived_from_foundation_model: bool,
    pub derivative_equivalent_capabilities: bool,
    pub derivative_expanded_capabilities: bool,
    pub scientific_purpose: bool,
    pub limited_scope: bool,
    pub commercial_public_service: bool,
    pub lawful_training_data: bool,
    pub safety_measures: bool,
    pub records_retained: bool,
    pub violates_law: bool,
    pub whistleblower_retaliation: bool,
    pub refused_to_rectify: bool,
    pub serious: bool,
}

/// The data modules the slice reads.
#[derive(Clone, Debug)]
pub struct Data {
    /// Bit `c as u32` set when category `c` is on the Negative List.
    pub negative_list: u32,
    pub foundation_model_flops: Decimal,
}

/// One decision: the norms that apply and the fine range (min, max) of each penalty that
/// applies, in CNY.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Outcome {
    pub applies: u32,
    pub refusal_fine: Option<(Decimal, Decimal)>,
    pub serious_fine: Option<(Decimal, Decimal)>,
}

fn dec(v: &Json) -> Option<Decimal> {
    match v {
        Json::String(s) => Decimal::from_str(s)
            .ok()
            .or_else(|| Decimal::from_scientific(s).ok()),
        Json::Number(n) => {
            let s = n.to_string();
            Decimal::from_str(&s)
                .ok()
                .or_else(|| Decimal::from_scientific(&s).ok())
        }
        Json::Object(o) => o.get("amount").and_then(dec),
        _ => None,
    }
}

impl Case {
    /// Reads a facts file of bench/cases (the same JSON the Norm engines read).
    pub fn from_json(j: &Json) -> Result<Case, String> {
        let get = |fact: &str, field: &str| j.get(fact).and_then(|f| f.get(field));
        let b = |fact: &str, field: &str| get(fact, field).and_then(Json::as_bool).unwrap_or(false);
        let need = |fact: &str, field: &str| {
            get(fact, field)
                .and_then(Json::as_bool)
                .ok_or(format!("{fact}.{field} is required"))
        };
        Ok(Case {
            is_developer: b("actor", "is_developer"),
            is_provider: b("actor", "is_provider"),
            is_user: b("actor", "is_user"),
            military: b("actor", "military"),
            registered_users: get("actor", "registered_users")
                .and_then(Json::as_i64)
                .ok_or("actor.registered_users is required")?,
            previous_year_revenue: match get("actor", "previous_year_revenue") {
                Some(v) => dec(v).ok_or("actor.previous_year_revenue: not money")?,
                None => Decimal::ZERO,
            },
            category: get("system", "category")
                .and_then(Json::as_str)
                .and_then(Category::parse)
                .ok_or("system.category is required")?,
            activity_in_prc: need("system", "activity_in_prc")?,
            affects_prc: b("system", "affects_prc"),
            general_purpose: b("system", "general_purpose"),
            training_flops: match get("system", "training_flops") {
                Some(v) => dec(v).ok_or("system.training_flops: not a decimal")?,
                None => Decimal::ZERO,
            },
            licensed: b("system", "licensed"),
            beyond_licensed_scope: b("system", "beyond_licensed_scope"),
            registered: b("system", "registered"),
            derived_from_foundation_model: b("system", "derived_from_foundation_model"),
            derivative_equivalent_capabilities: b("system", "derivative_equivalent_capabilities"),
            derivative_expanded_capabilities: b("system", "derivative_expanded_capabilities"),
            scientific_purpose: need("research", "scientific_purpose")?,
            limited_scope: b("research", "limited_scope"),
            commercial_public_service: b("research", "commercial_public_service"),
            lawful_training_data: b("research", "lawful_training_data"),
            safety_measures: b("research", "safety_measures"),
            records_retained: b("research", "records_retained"),
            violates_law: need("violation", "violates_law")?,
            whistleblower_retaliation: b("violation", "whistleblower_retaliation"),
            refused_to_rectify: b("violation", "refused_to_rectify"),
            serious: b("violation", "serious"),
        })
    }
}

const N: usize = NORMS.len();

/// Decides the slice.
#[inline(never)]
pub fn decide(c: &Case, d: &Data) -> Outcome {
    // Definitions.
    let military_ai = c.military;
    let territorial = c.activity_in_prc;
    let extraterritorial = !c.activity_in_prc && c.affects_prc;
    let in_scope = (territorial || extraterritorial) && !military_ai;
    let on_negative_list = d.negative_list & (1 << c.category as u32) != 0;
    let foundation_model = c.general_purpose && c.training_flops >= d.foundation_model_flops;
    let derivative_foundation_model = c.derived_from_foundation_model
        && (c.derivative_equivalent_capabilities || c.derivative_expanded_capabilities);
    let foundation_developer =
        in_scope && c.is_developer && (foundation_model || derivative_foundation_model);
    let registry_candidate = in_scope && c.is_provider && !on_negative_list;
    let national_tier = c.registered_users > 1_000_000;
    let provincial_tier = c.registered_users > 10_000 && c.registered_users < 1_000_000;
    let general_violation = c.violates_law || c.whistleblower_retaliation;
    let provider_liable = in_scope && c.is_provider && general_violation;
    let developer_liable = in_scope && c.is_developer && !c.is_provider && general_violation;
    let research_exempt = in_scope
        && c.limited_scope
        && c.scientific_purpose
        && !c.commercial_public_service
        && c.lawful_training_data
        && c.safety_measures
        && c.records_retained;
    let unlicensed = !c.licensed || c.beyond_licensed_scope;
    // Norms, in the order of NORMS. Art. 110 defeats what needs in_scope anyway; Art. 111
    // defeats Arts. 65 item 2, 66 and 96 (`ex`).
    let military_ai_exemption = military_ai;
    let research_exemption = research_exempt && !military_ai_exemption;
    let ex = research_exemption;
    let serious_violation = provider_liable && c.serious && !ex;
    let refusal_to_rectify = provider_liable && c.refused_to_rectify && !ex && !serious_violation;
    let bits: [bool; N] = [
        in_scope && extraterritorial,
        in_scope && c.is_provider && on_negative_list,
        in_scope && c.is_developer && on_negative_list,
        in_scope && c.is_provider && on_negative_list && unlicensed,
        in_scope && c.is_developer && on_negative_list && unlicensed,
        foundation_developer,
        foundation_developer && !ex,
        registry_candidate && national_tier && !ex,
        registry_candidate && provincial_tier && !ex,
        registry_candidate && c.registered_users == 1_000_000 && !ex,
        in_scope && c.is_provider && c.registered && !ex,
        provider_liable && !ex,
        refusal_to_rectify,
        serious_violation,
        developer_liable && !ex,
        military_ai_exemption,
        research_exemption,
        research_exemption && on_negative_list,
        in_scope && c.general_purpose && c.training_flops == d.foundation_model_flops,
    ];
    let mut applies = 0u32;
    for (i, b) in bits.iter().enumerate() {
        applies |= (*b as u32) << i;
    }
    Outcome {
        applies,
        refusal_fine: refusal_to_rectify
            .then(|| (Decimal::from(100_000), Decimal::from(1_000_000))),
        serious_fine: serious_violation.then(|| {
            // max(10_000_000 CNY, revenue * 4%)
            let pct = c.previous_year_revenue * Decimal::new(4, 2);
            (Decimal::from(1_000_000), pct.max(Decimal::from(10_000_000)))
        }),
    }
}
