# The MAIL slice of bench/slice, in Rego: one rule per definition of the slice, and one
# `applies contains "<norm id>"` rule per norm. `result` is what one evaluation returns: the set
# of norms that apply and the fine range of each penalty that applies.
#
# input: {actor, system, research, violation}: the facts of the slice, every field present
#        (defaults filled in), category as a string, training compute in units of 10^12 FLOPs.
# data:  {negative_list: {categories: [...]}, thresholds: {foundation_model_flops_e12: n}}: the
#        data modules of bench/slice/data.
#
# Defeat ("overrides") is a `not`: the research exemption (Art. 111) defeats the norms of
# Chapters III, IV and VI not tagged national_security/public_safety (Arts. 65 item 2, 66, 96);
# serious_violation defeats refusal_to_rectify. The military exemption (Art. 110) defeats the
# rest, which all require in_scope already.
package norm.slice

import rego.v1

# Art. 2
territorial if input.system.activity_in_prc

extraterritorial if {
	not input.system.activity_in_prc
	input.system.affects_prc
}

in_scope if {
	territorial
	not military_ai
}

in_scope if {
	extraterritorial
	not military_ai
}

# Art. 40
on_negative_list if input.system.category in data.negative_list.categories

# Art. 63
derivative_foundation_model if {
	input.system.derived_from_foundation_model
	input.system.derivative_equivalent_capabilities
}

derivative_foundation_model if {
	input.system.derived_from_foundation_model
	input.system.derivative_expanded_capabilities
}

foundation_obligations_apply if foundation_model

foundation_obligations_apply if derivative_foundation_model

# Art. 65
foundation_developer if {
	in_scope
	input.actor.is_developer
	foundation_obligations_apply
}

# Art. 66
registry_candidate if {
	in_scope
	input.actor.is_provider
	not on_negative_list
}

national_tier if input.actor.registered_users > 1000000

provincial_tier if {
	input.actor.registered_users > 10000
	input.actor.registered_users < 1000000
}

# Art. 96
general_violation if input.violation.violates_law

general_violation if input.violation.whistleblower_retaliation

provider_liable if {
	in_scope
	input.actor.is_provider
	general_violation
}

developer_liable if {
	in_scope
	input.actor.is_developer
	not input.actor.is_provider
	general_violation
}

serious_fine_cap := max([10000000, (input.actor.previous_year_revenue * 4) / 100])

# Art. 110
military_ai if input.actor.military

# Art. 111
research_purpose if {
	input.research.limited_scope
	input.research.scientific_purpose
}

research_conditions_met if {
	not input.research.commercial_public_service
	input.research.lawful_training_data
	input.research.safety_measures
	input.research.records_retained
}

research_exempt if {
	in_scope
	research_purpose
	research_conditions_met
}

# Art. 112
foundation_model if {
	input.system.general_purpose
	input.system.training_flops_e12 >= data.thresholds.foundation_model_flops_e12
}

# The norms.
applies contains "extraterritorial_scope" if {
	in_scope
	extraterritorial
}

applies contains "negative_list_licence" if {
	in_scope
	input.actor.is_provider
	on_negative_list
}

applies contains "negative_list_rd_licence" if {
	in_scope
	input.actor.is_developer
	on_negative_list
}

unlicensed if not input.system.licensed

unlicensed if input.system.beyond_licensed_scope

applies contains "unlicensed_negative_list_provision" if {
	in_scope
	input.actor.is_provider
	on_negative_list
	unlicensed
}

applies contains "unlicensed_negative_list_rd" if {
	in_scope
	input.actor.is_developer
	on_negative_list
	unlicensed
}

applies contains "foundation_risk_management" if foundation_developer

applies contains "foundation_stewardship" if {
	foundation_developer
	not research_exempt
}

applies contains "national_registry" if {
	registry_candidate
	national_tier
	not research_exempt
}

applies contains "provincial_registry" if {
	registry_candidate
	provincial_tier
	not research_exempt
}

applies contains "registry_tier_gap" if {
	registry_candidate
	input.actor.registered_users == 1000000
	not research_exempt
}

applies contains "display_filing_number" if {
	in_scope
	input.actor.is_provider
	input.system.registered
	not research_exempt
}

applies contains "rectify_violation" if {
	provider_liable
	not research_exempt
}

refusal_to_rectify_holds if {
	provider_liable
	input.violation.refused_to_rectify
}

serious_violation_applies if {
	provider_liable
	input.violation.serious
	not research_exempt
}

applies contains "refusal_to_rectify" if {
	refusal_to_rectify_holds
	not research_exempt
	not serious_violation_applies
}

applies contains "serious_violation" if serious_violation_applies

applies contains "developer_rectify_violation" if {
	developer_liable
	not research_exempt
}

applies contains "military_ai_exemption" if military_ai

applies contains "research_exemption" if research_exempt

applies contains "research_on_negative_list" if {
	research_exempt
	on_negative_list
}

applies contains "foundation_threshold_boundary" if {
	in_scope
	input.system.general_purpose
	input.system.training_flops_e12 == data.thresholds.foundation_model_flops_e12
}

# The fine ranges of the penalties that apply, in CNY.
fines contains ["refusal_to_rectify", 100000, 1000000] if "refusal_to_rectify" in applies

fines contains ["serious_violation", 1000000, serious_fine_cap] if "serious_violation" in applies

result := {"applies": applies, "fines": fines}
