"""The demo generator produces data the product's own rules accept (and it is deterministic)."""

from datetime import date

from bank_crm.core import identity, profile, snapshots, verification
from bank_crm.demo import generator

TODAY = date(2026, 11, 28)


def test_every_generated_customer_passes_validation():
	customers = generator.customers(3000, today=TODAY)
	ids = set()
	for c in customers:
		v = c.values
		if c.profile_type == verification.INDIVIDUAL:
			number = identity.validate_id_number(
				v["id_type"],
				v["id_number"],
				date_of_birth=v["date_of_birth"],
				gender=v["gender"],
				today=TODAY,
			)
			ids.add(number)
			profile.assess_risk_tolerance(v["risk_tolerance"], v["risk_assessment_date"], TODAY)
		else:
			identity.validate_uscc(v["unified_social_credit_code"])
			profile.check_shareholdings([s["shareholding_percent"] for s in c.shareholders])
		for row in generator.snapshot_history(c, 6, TODAY):
			clean, errors = snapshots.clean_row(
				0, {**row, "customer": "X", "as_of_date": row["as_of_date"].isoformat()}, TODAY
			)
			assert not errors, errors
	individuals = sum(c.profile_type == verification.INDIVIDUAL for c in customers)
	assert len(ids) == individuals, "resident ID numbers are unique"
	assert 0.7 < individuals / len(customers) < 0.9


def test_generator_is_deterministic():
	a = generator.customers(50, start=100, today=TODAY)
	b = generator.customers(50, start=100, today=TODAY)
	assert [c.values for c in a] == [c.values for c in b]


def test_staff_and_month_ends():
	team = generator.staff()
	assert {s.role for s in team} == {"Relationship Manager", "Branch Manager"}
	assert generator.month_ends(TODAY, 2) == [date(2026, 9, 30), date(2026, 10, 31)]


def test_demo_behaviour_passes_ingestion_and_every_default_rule_finds_customers():
	import random
	from datetime import datetime

	from bank_crm.core import activity, signals
	from bank_crm.demo import insight

	now = datetime(2026, 11, 30, 12, 0)
	rng = random.Random(7)
	rules = [
		signals.Rule(
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
		for spec in signals.DEFAULT_RULES
	]
	customers, events = {}, {}
	for i in range(400):
		name = f"DEMO-C-{i:07d}"
		kind = insight.persona(rng)
		deposit = 100_000.0
		holdings = []
		for row in insight.holdings_for(name, rng, now.date(), kind):
			clean, errors = activity.clean_holding(0, row, now.date())
			assert errors == [], errors
			holdings.append(
				signals.Holding(
					clean["product"], insight.CATEGORY[clean["product"]], "Active", clean["maturity_date"]
				)
			)
		falling = kind == "plain" and i % 9 == 0
		balances = {"deposit_balance": {0: 50_000.0 if falling else deposit, 90: deposit}}
		customers[name] = signals.Customer(
			name, deposit_balance=deposit, balances=balances, holdings=tuple(holdings)
		)
		events[name] = []
		for row in insight.events_for(name, rng, now, kind, deposit):
			clean, errors = activity.clean_event(0, row, activity.Context(now=now, default_source="demo"))
			assert errors == [], errors
			events[name].append(
				signals.Event(clean["name"], clean["event_type"], clean["event_time"], clean["amount"])
			)
	raised = signals.detect(rules, customers, events, {}, now)
	# every rule the detection run decides (a model-score rule is raised by the scoring run)
	assert {rule.name for _, rule, _ in raised} == {r.name for r in rules if r.trigger != signals.SCORES}
