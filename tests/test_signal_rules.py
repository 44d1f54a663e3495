"""Activity rows and need-signal rules: plain data, no Frappe."""

import json
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bank_crm.core import activity, signals
from bank_crm.core.signals import Customer, Event, Holding, Previous, Rule

NOW = datetime(2026, 11, 30, 10, 0)
CTX = activity.Context(now=NOW, default_source="core")

GOOD_EVENT = {
	"external_id": "T-1",
	"customer": "CUST-1",
	"event_type": "FX Rate Query",
	"event_time": "2026-11-29 09:15:00",
	"channel": "Mobile App",
}


# -- events ------------------------------------------------------------------------------------
def test_a_good_event_is_typed_and_named_by_source_and_external_id():
	row, errors = activity.clean_event(0, {**GOOD_EVENT, "amount": "120.5", "currency": "usd"}, CTX)
	assert errors == []
	assert row["event_time"] == datetime(2026, 11, 29, 9, 15)
	assert (row["amount"], row["currency"], row["source"]) == (120.5, "USD", "core")
	assert row["event_key"] == activity.event_key("core", "T-1")
	assert row["name"] == "EV20261129091500" + row["event_key"][:12]
	assert activity.event_key("core", "T-1") != activity.event_key("cards", "T-1")


@pytest.mark.parametrize(
	"change, field, reason",
	[
		({"event_time": "2026-12-01 10:00:00"}, "event_time", "{0} is in the future"),
		({"event_time": "yesterday"}, "event_time", "{0} is not a date and time (YYYY-MM-DD HH:MM:SS)"),
		({"amount": "lots", "currency": "CNY"}, "amount", "must be a number"),
		({"amount": 10}, "currency", "is required with an amount"),
		({"amount": 10, "currency": "RMB"}, "currency", "{0} is not an ISO 4217 currency code"),
		({"channel": "Pigeon"}, "channel", "{0} is not one of {1}"),
		({"attributes": [1, 2]}, "attributes", "must be an object"),
		({"attributes": {"x": "y" * 5000}}, "attributes", "is larger than {0} bytes"),
		({"colour": "red"}, "colour", "is not an event field"),
		({"external_id": None}, "external_id", "is required"),
	],
)
def test_bad_events_name_field_and_reason(change, field, reason):
	row, errors = activity.clean_event(3, {**GOOD_EVENT, **change}, CTX)
	assert row is None
	assert [(e.index, e.field, e.reason) for e in errors] == [(3, field, reason)]


def test_a_little_clock_skew_is_accepted():
	row, errors = activity.clean_event(0, {**GOOD_EVENT, "event_time": "2026-11-30 10:04:00"}, CTX)
	assert errors == [] and row


json_values = st.recursive(
	st.none()
	| st.booleans()
	| st.integers()
	| st.floats(allow_nan=True, allow_infinity=True)
	| st.text(max_size=20)
	| st.sampled_from(["1e400", "NaN", "2026-11-29 09:15:00", "CNY", "Branch"]),
	lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
	max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from([*activity.EVENT_REQUIRED, *activity.EVENT_OPTIONAL]), value=json_values)
def test_any_value_in_any_event_field_is_typed_or_refused_with_its_field(field, value):
	row, errors = activity.clean_event(1, {**GOOD_EVENT, "amount": 1, "currency": "CNY", field: value}, CTX)
	if errors:
		assert row is None and {e.field for e in errors} <= {field, "currency"}
		for e in errors:
			e.reason.format(*e.args)
	else:
		assert row["name"].startswith("EV") and isinstance(row["event_time"], datetime)


@settings(max_examples=300, deadline=None)
@given(
	field=st.sampled_from([*activity.EVENT_REQUIRED, *activity.EVENT_OPTIONAL]),
	value=json_values | st.sampled_from(["2026-11-29 09:15:00.123456", " x", "USD", "usd", 10, 10.5, None]),
)
def test_the_fast_path_agrees_with_the_full_checks(field, value):
	row = {**GOOD_EVENT, "amount": 1, "currency": "CNY", field: value}
	fast = activity._clean_event_fast(row, CTX)
	if fast is not None:
		slow, errors = activity._clean_event_slow(0, row, CTX)
		assert errors == [] and slow == fast


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from([*activity.HOLDING_REQUIRED, *activity.HOLDING_OPTIONAL]), value=json_values)
def test_any_value_in_any_holding_field_is_typed_or_refused_with_its_field(field, value):
	good = {"customer": "C", "product": "P", "opened_on": "2026-01-05", "amount": 100}
	row, errors = activity.clean_holding(0, {**good, field: value}, date(2026, 11, 30))
	if errors:
		assert row is None and {e.field for e in errors} <= {field, "maturity_date"}
	else:
		assert row["name"] == activity.holding_key(row["customer"], row["product"])


def test_holding_maturity_cannot_precede_opening():
	row, errors = activity.clean_holding(
		0,
		{
			"customer": "C",
			"product": "P",
			"opened_on": "2026-05-01",
			"maturity_date": "2026-04-01",
			"amount": 1,
		},
		date(2026, 11, 30),
	)
	assert row is None and errors[0].field == "maturity_date"


def test_conflicts_are_found_field_by_field():
	sent = {"amount": 10.0, "event_time": datetime(2026, 1, 1, 9), "attributes": json.dumps({"b": 1, "a": 2})}
	stored = {"amount": 10.004, "event_time": datetime(2026, 1, 1, 9), "attributes": '{"a": 2, "b": 1}'}
	assert activity.first_difference(sent, stored, ("amount", "event_time", "attributes")) is None
	assert activity.first_difference({**sent, "amount": 11}, stored, ("amount",)) == "amount"


# -- rules ---------------------------------------------------------------------------------------
FX = Rule(
	name="fx",
	category="Cross-border Services",
	measure=signals.COUNT,
	event_types=frozenset({"FX Rate Query"}),
	window_days=30,
	threshold=3,
	cooldown_days=30,
	lacks_category="FX",
)


def fx_queries(n, customer="C", start=NOW - timedelta(days=20)):
	return [Event(f"{customer}-{i}", "FX Rate Query", start + timedelta(days=i)) for i in range(n)]


def test_three_fx_queries_raise_a_need_with_evidence():
	evidence = signals.evaluate(FX, Customer("C"), fx_queries(3), NOW)
	assert evidence.value == 3 and evidence.event_count == 3
	assert evidence.events == ("C-0", "C-1", "C-2")
	assert evidence.window_from == NOW - timedelta(days=30)
	assert signals.evaluate(FX, Customer("C"), fx_queries(2), NOW) is None


def test_holding_an_fx_product_or_old_events_mean_no_need():
	holder = Customer("C", holdings=(Holding("FX-1", "FX"),))
	assert signals.evaluate(FX, holder, fx_queries(5), NOW) is None
	old = fx_queries(5, start=NOW - timedelta(days=90))
	assert signals.evaluate(FX, Customer("C"), old, NOW) is None
	closed = Customer("C", holdings=(Holding("FX-1", "FX", status="Closed"),))
	assert signals.evaluate(FX, closed, fx_queries(3), NOW) is not None


def test_large_transfer_is_a_share_of_the_deposit_balance():
	rule = Rule(
		"big", "Churn Risk", signals.LARGEST_SHARE, 50, 7, 30, event_types=frozenset({"Large Transfer Out"})
	)
	events = [Event("e1", "Large Transfer Out", NOW - timedelta(days=1), 60_000)]
	assert signals.evaluate(rule, Customer("C", deposit_balance=100_000), events, NOW).value == 60
	assert signals.evaluate(rule, Customer("C", deposit_balance=200_000), events, NOW) is None
	assert signals.evaluate(rule, Customer("C", deposit_balance=None), events, NOW) is None


def test_balance_fall_and_maturing_holdings():
	fall = Rule("fall", "Churn Risk", signals.BALANCE_DROP, 30, 90, 60)
	dropping = Customer("C", balances={"deposit_balance": {0: 60_000, 90: 100_000}})
	assert signals.evaluate(fall, dropping, (), NOW).value == pytest.approx(40)
	steady = Customer("C", balances={"deposit_balance": {0: 95_000, 90: 100_000}})
	assert signals.evaluate(fall, steady, (), NOW) is None
	maturing = Rule("mat", "Reinvestment", signals.MATURING, 1, 30, 30, maturing_category="Wealth")
	soon = Customer("C", holdings=(Holding("W1", "Wealth", maturity_date=date(2026, 12, 20), amount=5e5),))
	later = Customer("C", holdings=(Holding("W1", "Wealth", maturity_date=date(2027, 3, 1)),))
	evidence = signals.evaluate(maturing, soon, (), NOW)
	assert evidence.details["maturing"][0]["product"] == "W1"
	assert signals.evaluate(maturing, later, (), NOW) is None


def test_salary_on_consecutive_months():
	rule = Rule(
		"pay",
		"Payroll and Wealth",
		signals.CONSECUTIVE_MONTHS,
		3,
		100,
		180,
		event_types=frozenset({"Salary Credit"}),
	)
	paid = [Event(f"s{m}", "Salary Credit", datetime(2026, m, 10)) for m in (9, 10, 11)]
	assert signals.evaluate(rule, Customer("C"), paid, NOW).value == 3
	gap = [Event(f"s{m}", "Salary Credit", datetime(2026, m, 10)) for m in (8, 9, 11)]
	assert signals.evaluate(rule, Customer("C"), gap, NOW) is None
	assert signals.consecutive_months([datetime(2025, 12, 5), datetime(2026, 1, 5)]) == 2


def test_tier_and_stage_filters():
	rule = Rule(**{**FX.__dict__, "tiers": frozenset({"VIP"})})
	assert signals.evaluate(rule, Customer("C", tier="Mass"), fx_queries(3), NOW) is None
	assert signals.evaluate(rule, Customer("C", tier="VIP"), fx_queries(3), NOW) is not None


def test_default_rules_are_valid():
	for spec in signals.DEFAULT_RULES:
		rule = Rule(
			name=spec["rule_name"],
			category=spec["need_category"],
			measure=spec["measure"],
			threshold=spec["threshold"],
			window_days=spec["window_days"],
			cooldown_days=spec["cooldown_days"],
			event_types=frozenset(spec.get("event_types", ())),
			maturing_category=spec.get("maturing_category"),
			lacks_category=spec.get("lacks_category"),
		)
		assert signals.validate(rule) == [], spec["rule_name"]
		assert spec["need_category"] in signals.CATEGORIES
	assert ("event_types", "name at least one event type for this measure") in signals.validate(
		Rule("x", "Other", signals.COUNT, 1, 30, 0)
	)


# -- cooldown and reruns (properties) ----------------------------------------------------------
customers_st = st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(
	query_days=customers_st,
	cooldown=st.integers(min_value=0, max_value=60),
	hours=st.lists(st.integers(0, 24 * 60), min_size=1, max_size=6),
)
def test_a_rerun_raises_nothing_new_and_no_signal_falls_inside_its_cooldown(query_days, cooldown, hours):
	rule = Rule(**{**FX.__dict__, "cooldown_days": cooldown, "lacks_category": None})
	customers = {f"C{i}": Customer(f"C{i}") for i in range(3)}
	events = {
		name: [
			Event(f"{name}-{j}", "FX Rate Query", NOW - timedelta(days=d, hours=j))
			for j, d in enumerate(query_days)
		]
		for name in customers
	}
	previous: dict = {}
	history: dict = {}
	for offset in sorted(hours):
		now = NOW + timedelta(hours=offset)
		raised = signals.detect([rule], customers, events, previous, now)
		again = signals.detect(
			[rule],
			customers,
			events,
			{**previous, **{(c, r.name): Previous(now, True) for c, r, _ in raised}},
			now,
		)
		assert again == []  # the same data, run again at once: nothing new
		for customer, r, _ in raised:
			last = history.get(customer)
			assert last is None or now - last >= timedelta(days=cooldown)
			history[customer] = now
			previous[(customer, r.name)] = Previous(now, open=False)  # acted on at once


def test_an_open_signal_blocks_a_second_one_whatever_the_cooldown():
	assert not signals.may_raise(FX, Previous(NOW - timedelta(days=400), open=True), NOW)
	assert signals.may_raise(FX, Previous(NOW - timedelta(days=31), open=False), NOW)
	assert not signals.may_raise(FX, Previous(NOW - timedelta(days=29), open=False), NOW)


def test_candidates_narrow_each_rule():
	customers = {"A": Customer("A"), "B": Customer("B")}
	events = {"A": fx_queries(3, "A"), "B": fx_queries(3, "B")}
	raised = signals.detect([FX], customers, events, {}, NOW, candidates={"fx": ["B"]})
	assert [c for c, *_ in raised] == ["B"]


def test_median_time_to_act():
	assert signals.median_hours([timedelta(hours=1), timedelta(hours=3)]) == 2
	assert signals.median_hours([]) is None
	assert signals.expired(NOW - timedelta(days=31), 30, NOW) and not signals.expired(NOW, 0, NOW)


# -- model-score rules -------------------------------------------------------------------------
CHURN_RULE = Rule("Predicted Churn", "Churn Risk", signals.MODEL_SCORE, 30, 1, 30)
WEALTH_RULE = Rule(
	"Predicted Wealth Need",
	"Payroll and Wealth",
	signals.MODEL_SCORE,
	40,
	1,
	90,
	propensity_category="Wealth",
)


def test_a_churn_rule_reads_the_churn_probability_and_a_propensity_rule_its_category():
	propensities = {"Wealth": 0.456, "Loan": 0.9}
	assert signals.model_score(CHURN_RULE, 31.5, propensities) == 31.5
	assert signals.model_score(WEALTH_RULE, 31.5, propensities) == 45.6
	# a customer who objects to profiling has no propensities: the rule has nothing to read
	assert signals.model_score(WEALTH_RULE, 31.5, {}) is None
	assert signals.model_score(CHURN_RULE, None, propensities) is None


def test_a_signal_is_raised_only_on_the_way_into_the_band():
	assert signals.score_entering(WEALTH_RULE, 12.0, 40.0)
	assert signals.score_entering(WEALTH_RULE, None, 55.0)
	assert not signals.score_entering(WEALTH_RULE, 41.0, 60.0)  # already in: no new signal
	assert not signals.score_entering(WEALTH_RULE, 10.0, 39.9)
	assert not signals.score_entering(WEALTH_RULE, 50.0, None)


def test_a_propensity_needs_a_model_score_rule_and_a_score_at_most_100():
	assert ("propensity_category", "only a model-score rule acts on a propensity") in signals.validate(
		Rule(
			"x",
			"Other",
			signals.COUNT,
			3,
			30,
			0,
			event_types=frozenset({"Login"}),
			propensity_category="Loan",
		)
	)
	assert ("threshold", "a model score is a probability: at most 100") in signals.validate(
		Rule("x", "Churn Risk", signals.MODEL_SCORE, 120, 1, 0)
	)
	assert signals.validate(WEALTH_RULE) == []


def test_the_default_rules_include_a_wealth_propensity_rule_that_validates():
	spec = next(r for r in signals.DEFAULT_RULES if r["rule_name"] == "Predicted Wealth Need")
	rule = Rule(
		spec["rule_name"],
		spec["need_category"],
		spec["measure"],
		spec["threshold"],
		spec["window_days"],
		spec["cooldown_days"],
		propensity_category=spec["propensity_category"],
	)
	assert signals.validate(rule) == [] and rule.trigger == signals.SCORES
