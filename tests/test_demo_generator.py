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
