from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bank_crm.core import lifecycle, scoring, snapshots, tiering
from bank_crm.core.errors import CoreValidationError

POLICY = scoring.ScoringPolicy(
	name="P1",
	metrics=(
		scoring.MetricWeight("deposit_balance", 30, scoring.LOGARITHMIC, cap=5_000_000),
		scoring.MetricWeight("aum", 30, scoring.LOGARITHMIC, cap=10_000_000),
		scoring.MetricWeight("fee_income", 10, scoring.LINEAR, cap=50_000),
		scoring.MetricWeight("products_held", 10, scoring.LINEAR, cap=8),
	),
	factors=(scoring.FactorWeight("cooperation_potential", 10), scoring.FactorWeight("risk_rating", 10)),
	risk_multipliers={"Low": 1.0, "Medium": 1.0, "High": 0.8},
)
TIERS = tiering.TierPolicy.build(
	[
		tiering.TierRule("VIP", 1, 70, min_aum=6_000_000),
		tiering.TierRule("High-end", 2, 40),
		tiering.TierRule("Mass", 3, 0),
	],
	downgrade_margin=5,
	downgrade_runs=2,
)


def metrics(**kw):
	base = dict.fromkeys(scoring.METRICS, 0.0)
	base.update(kw)
	return base


def test_normalise_linear_and_log_clip_to_unit_interval():
	assert scoring.normalise(50, scoring.LINEAR, 0, 100) == 0.5
	assert scoring.normalise(-5, scoring.LINEAR, 0, 100) == 0
	assert scoring.normalise(500, scoring.LOGARITHMIC, 0, 100) == 1
	assert 0.5 < scoring.normalise(10, scoring.LOGARITHMIC, 0, 100) < 1


def test_contributions_add_up_to_the_score():
	score, parts = scoring.explain(
		POLICY,
		metrics(deposit_balance=1_000_000, aum=2_000_000, fee_income=10_000, products_held=4),
		{"cooperation_potential": 4, "risk_rating": 5},
		"High",
	)
	assert score == round(sum(p.contribution for p in parts), 2)
	assert parts[-1].kind == "risk" and parts[-1].contribution < 0
	assert {p.factor for p in parts} >= {"deposit_balance", "cooperation_potential", "risk_adjustment"}


def test_missing_qualitative_counts_as_neutral():
	_, parts = scoring.explain(POLICY, metrics(), {}, "Low")
	coop = next(p for p in parts if p.factor == "cooperation_potential")
	assert coop.normalised == 0.5


amounts = st.floats(min_value=0, max_value=2e7, allow_nan=False)
quals = st.one_of(st.none(), st.integers(1, 5))


@given(amounts, amounts, amounts, st.integers(0, 12), quals, quals, st.sampled_from(scoring.RISK_LEVELS))
def test_fast_scorer_equals_explain(dep, aum, fee, products, coop, risk, level):
	m = metrics(deposit_balance=dep, aum=aum, fee_income=fee, products_held=products)
	q = {"cooperation_potential": coop, "risk_rating": risk}
	fast = scoring.compile_scorer(POLICY)
	values = tuple(m[k] for k in scoring.METRICS)
	qual = tuple(q.get(k) for k in scoring.QUALITATIVE)
	assert fast(values, qual, level) == pytest.approx(scoring.explain(POLICY, m, q, level)[0], abs=0.011)


@given(st.sampled_from([m.metric for m in POLICY.metrics]), amounts, amounts, amounts, st.floats(0, 1e7))
def test_score_is_monotone_in_each_positively_weighted_metric(metric, dep, aum, fee, extra):
	low = metrics(deposit_balance=dep, aum=aum, fee_income=fee, products_held=3)
	high = dict(low)
	high[metric] = (high[metric] or 0) + extra
	s_low = scoring.explain(POLICY, low, {}, "Medium")[0]
	s_high = scoring.explain(POLICY, high, {}, "Medium")[0]
	assert s_high >= s_low


def test_policy_validation_names_the_problem():
	bad = scoring.ScoringPolicy("X", (scoring.MetricWeight("aum", 0),))
	with pytest.raises(CoreValidationError) as err:
		scoring.validate_policy(bad)
	assert err.value.field == "metrics"
	with pytest.raises(CoreValidationError):
		scoring.validate_policy(scoring.ScoringPolicy("X", (scoring.MetricWeight("aum", 1, cap=0),)))
	with pytest.raises(CoreValidationError):
		scoring.validate_policy(scoring.ScoringPolicy("X", (scoring.MetricWeight("nope", 1),)))


def test_tier_thresholds_must_descend_and_end_in_a_catch_all():
	with pytest.raises(CoreValidationError):
		tiering.TierPolicy.build(
			[tiering.TierRule("A", 1, 40), tiering.TierRule("B", 2, 60), tiering.TierRule("C", 3, 0)]
		)
	with pytest.raises(CoreValidationError):
		tiering.TierPolicy.build([tiering.TierRule("A", 1, 40), tiering.TierRule("B", 2, 10)])
	with pytest.raises(CoreValidationError):
		tiering.TierPolicy.build([tiering.TierRule("A", 1, 40), tiering.TierRule("B", 1, 0)])


def test_hard_floor_keeps_high_score_out_of_vip():
	assert TIERS.eligible(90, aum=1_000_000).tier == "High-end"
	assert TIERS.eligible(90, aum=7_000_000).tier == "VIP"


def test_upgrade_is_immediate_downgrade_waits_for_n_runs():
	up = tiering.decide(TIERS, "Mass", 0, 45)
	assert (up.tier, up.reason) == ("High-end", tiering.UPGRADE)
	first = tiering.decide(TIERS, "High-end", 0, 30)  # 30 < 40 - 5
	assert (first.tier, first.below_runs, first.reason) == ("High-end", 1, None)
	second = tiering.decide(TIERS, "High-end", first.below_runs, 30)
	assert (second.tier, second.reason) == ("Mass", tiering.DOWNGRADE)


def test_inside_the_margin_nothing_counts():
	d = tiering.decide(TIERS, "High-end", 1, 37)  # below 40 but within 5
	assert (d.tier, d.below_runs) == ("High-end", 0)


def test_override_wins_and_initial_assignment():
	assert tiering.decide(TIERS, "Mass", 0, 10, override="VIP") == tiering.TierDecision(
		"VIP", 0, tiering.OVERRIDE
	)
	assert tiering.decide(TIERS, "VIP", 0, 10, override="VIP").reason is None
	assert tiering.decide(TIERS, None, 0, 45).reason == tiering.INITIAL


@settings(max_examples=300)
@given(
	st.sampled_from(["VIP", "High-end", "Mass", None]),
	st.integers(0, 3),
	st.floats(0, 100),
	st.floats(0, 2e7),
)
def test_hysteresis_never_flips_twice_in_two_runs_on_unchanged_data(tier, below, score, aum):
	first = tiering.decide(TIERS, tier, below, score, aum)
	second = tiering.decide(TIERS, first.tier, first.below_runs, score, aum)
	flipped_first = first.tier != tier
	flipped_second = second.tier != first.tier
	assert not (flipped_first and flipped_second)
	third = tiering.decide(TIERS, second.tier, second.below_runs, score, aum)
	assert not (flipped_second and third.tier != second.tier)


R = lifecycle.LifecycleRules()


def inp(**kw):
	base = dict(tenure_days=2000, has_snapshot=True, products_held=2, fee_income=500, total_balance=100_000)
	base.update(kw)
	return lifecycle.LifecycleInput(**base)


@pytest.mark.parametrize(
	"kwargs, stage",
	[
		({"has_snapshot": False}, lifecycle.PROSPECT),
		({"products_held": 0}, lifecycle.PROSPECT),
		({"tenure_days": 30}, lifecycle.NEW),
		({"total_balance": 50, "year_ago_total_balance": 20}, lifecycle.DORMANT),
		({"previous_total_balance": 200_000}, lifecycle.CHURN_RISK),
		({"previous_products_held": 4}, lifecycle.CHURN_RISK),
		({"products_held": 4, "fee_income": 5000}, lifecycle.MATURE),
		({}, lifecycle.STABLE),
	],
)
def test_lifecycle_rules(kwargs, stage):
	decision = lifecycle.decide_stage(R, inp(**kwargs))
	assert decision.stage == stage
	assert decision.reason


def test_recent_activity_is_not_dormant_and_loans_keep_customers_alive():
	assert (
		lifecycle.decide_stage(R, inp(total_balance=50, year_ago_total_balance=20_000)).stage
		!= lifecycle.DORMANT
	)
	assert lifecycle.decide_stage(R, inp(total_balance=0, loan_balance=1e5)).stage != lifecycle.DORMANT
	assert lifecycle.decide_stage(R, inp(total_balance=50, tenure_days=300)).stage != lifecycle.DORMANT


def test_lifecycle_override_needs_an_unexpired_date():
	today = date(2026, 11, 28)
	assert lifecycle.override_active("Mature", date(2026, 12, 1), today)
	assert not lifecycle.override_active("Mature", date(2026, 11, 1), today)
	assert not lifecycle.override_active("Mature", None, today)


TODAY = date(2026, 11, 28)
GOOD = {
	"customer": "C1",
	"as_of_date": "2026-11-27",
	"deposit_balance": 100.5,
	"loan_balance": 0,
	"aum": 10,
	"fee_income": -3,
	"composite_yield": 2.1,
	"products_held": 2,
}


def test_good_snapshot_row_is_typed():
	row, errors = snapshots.clean_row(0, GOOD, TODAY)
	assert not errors
	assert row["as_of_date"] == date(2026, 11, 27) and row["products_held"] == 2


@pytest.mark.parametrize(
	"change, field, fragment",
	[
		({"customer": ""}, "customer", "required"),
		({"as_of_date": "2026-13-01"}, "as_of_date", "not a date"),
		({"as_of_date": "2027-01-01"}, "as_of_date", "future"),
		({"deposit_balance": -1}, "deposit_balance", "negative"),
		({"aum": "lots"}, "aum", "number"),
		({"products_held": 1.5}, "products_held", "whole"),
		({"composite_yield": 400}, "composite_yield", "percentage"),
		({"colour": "red"}, "colour", "not a snapshot field"),
	],
)
def test_bad_snapshot_rows_name_field_and_reason(change, field, fragment):
	row, errors = snapshots.clean_row(7, {**GOOD, **change}, TODAY)
	assert row is None
	assert any(e.field == field and fragment in e.reason and e.index == 7 for e in errors)


def test_missing_field_and_non_object():
	row = dict(GOOD)
	del row["loan_balance"]
	assert snapshots.clean_row(0, row, TODAY)[1][0].field == "loan_balance"
	assert snapshots.clean_row(3, ["x"], TODAY)[1][0].index == 3


def test_same_figures_ignores_sub_cent_noise():
	a = snapshots.clean_row(0, GOOD, TODAY)[0]
	assert snapshots.same_figures(a, {**a, "deposit_balance": 100.501})
	assert not snapshots.same_figures(a, {**a, "deposit_balance": 101})


numbers = st.one_of(
	st.integers(-10, 10**9), st.floats(-1e9, 1e9, allow_nan=False), st.just("12.5"), st.none()
)


@given(
	st.fixed_dictionaries(
		{
			"customer": st.sampled_from(["C1", " C1", "", None]),
			"as_of_date": st.sampled_from(["2026-11-27", "2030-01-01", "bad", None]),
			"deposit_balance": numbers,
			"loan_balance": numbers,
			"aum": numbers,
			"fee_income": numbers,
			"composite_yield": numbers,
			"products_held": st.one_of(st.integers(-2, 20), st.floats(0, 5), st.none()),
		}
	)
)
def test_fast_path_agrees_with_the_checked_path(row):
	fast = snapshots._clean_fast(row, TODAY)
	slow, errors = snapshots._clean_slow(0, row, TODAY)
	if fast is not None:
		assert not errors
		assert fast == slow
	assert (slow is None) == bool(errors)
