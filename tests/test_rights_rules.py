"""Personal-information rights and retention (bank_crm.core.rights): answer clock, deletion, the
retention job's selection."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bank_crm.core import rights
from bank_crm.core.rights import RetentionPolicy


def test_fifteen_working_days_skip_weekends_and_holidays():
	# Monday 2026-09-28; the National Day week (1–7 October) closed
	holidays = [date(2026, 10, d) for d in range(1, 8)]
	assert rights.answer_due(date(2026, 9, 28)) == date(2026, 10, 19)
	assert rights.answer_due(date(2026, 9, 28), holidays) == date(2026, 10, 26)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
def test_the_answer_day_is_a_working_day_three_weeks_on(received):
	due = rights.answer_due(received)
	assert due.weekday() < 5
	assert 19 <= (due - received).days <= 21


def test_deletion_is_refused_while_the_relationship_is_in_force():
	decision = rights.deletion(True, None, date(2026, 12, 2))
	assert not decision.allowed and decision.reason == rights.RELATIONSHIP_IN_FORCE


def test_deletion_is_refused_within_the_aml_period_with_the_date_it_ends():
	decision = rights.deletion(False, date(2023, 3, 31), date(2026, 12, 2))
	assert not decision.allowed
	assert decision.reason == rights.AML_RETENTION
	assert decision.retain_until == date(2028, 3, 31)
	assert decision.args == ("2028-03-31", 5)


def test_deletion_follows_a_configured_period_and_open_obligations():
	policy = RetentionPolicy(aml_years=5, other=(("loan contract archive", 8),))
	assert not rights.deletion(False, date(2019, 1, 1), date(2026, 12, 2), policy).allowed
	assert rights.deletion(False, date(2018, 1, 1), date(2026, 12, 2), policy).allowed
	open_case = rights.deletion(
		False, date(2010, 1, 1), date(2026, 12, 2), open_obligations=["open complaint"]
	)
	assert not open_case.allowed and open_case.args == ("open complaint",)


@given(
	ended=st.one_of(st.none(), st.dates(min_value=date(2000, 1, 1), max_value=date(2026, 12, 2))),
	aml_years=st.integers(min_value=1, max_value=15),
)
def test_the_job_anonymises_exactly_whom_deletion_would_allow(ended, aml_years):
	today = date(2026, 12, 2)
	policy = RetentionPolicy(aml_years=aml_years)
	chosen = rights.due_for_anonymisation([("C", ended, False)], today, policy)
	assert (chosen == ["C"]) == rights.deletion(ended is None, ended, today, policy).allowed


def test_the_job_never_picks_a_customer_twice_or_one_in_force():
	today = date(2026, 12, 2)
	old = today - timedelta(days=365 * 7)
	rows = [("DONE", old, True), ("IN-FORCE", None, False), ("DUE", old, False)]
	assert rights.due_for_anonymisation(rows, today) == ["DUE"]


# -- explanation -------------------------------------------------------------------------------
TIERS = [
	rights.TierLine("VIP", 80, min_aum=1_000_000),
	rights.TierLine("High-end", 50),
	rights.TierLine("Mass", 0),
]
FACTORS = [
	rights.Factor("AUM", 800_000.0, 40, 28.5),
	rights.Factor("Deposit balance", 300_000.0, 20, 9.0),
	rights.Factor("Risk adjustment", None, None, -2.0, kind="risk"),
]


def test_the_explanation_names_each_factor_biggest_first_and_the_tier_rule():
	text = rights.explanation(61.5, "Default v3", "2026-11-30", FACTORS, "High-end", TIERS)
	templates = [t for t, _ in text]
	assert text[0][1] == ("61.5", "Default v3", "2026-11-30")
	assert text[1][1][0] == "AUM" and text[2][1][0] == "Deposit balance"
	assert any("risk adjustment" in t for t in templates)
	rule = next(args for t, args in text if t.startswith("The tier {0} needs"))
	assert rule == ("High-end", "50")
	nxt = next(args for t, args in text if t.startswith("The next tier"))
	assert nxt == ("VIP", "80", "18.5")
	for template, args in text:  # every sentence fills all its placeholders
		template.format(*args)


def test_the_explanation_says_when_the_tier_is_kept_by_the_margin_or_an_override():
	kept = rights.explanation(47, "P", "2026-11-30", FACTORS, "High-end", TIERS)
	assert any("downgrade margin" in t for t, _ in kept)
	override = rights.explanation(20, "P", "2026-11-30", FACTORS, "VIP", TIERS, override="VIP")
	assert "manual override" in override[-1][0]
	assert rights.explanation(None, None, None, [], None)[0][0].startswith("No value score")


# -- anonymisation plan ---------------------------------------------------------------------------
def _doctypes():
	import json
	from pathlib import Path

	root = Path(__file__).resolve().parent.parent / "bank_crm"
	for path in root.glob("*/doctype/*/*.json"):
		doc = json.loads(path.read_text())
		if doc.get("doctype") == "DocType":
			yield doc


def test_every_doctype_naming_a_customer_is_in_the_anonymisation_plan():
	docs = {d["name"]: d for d in _doctypes()}
	missing = []
	for name, doc in docs.items():
		links = [
			f
			for f in doc["fields"]
			if f["fieldtype"] == "Link" and f.get("options") in ("Customer", "Bank Customer Profile")
		]
		if links and not doc.get("istable") and name not in rights.PLAN:
			missing.append(name)
		if name in rights.PLAN:
			for child in (f["options"] for f in doc["fields"] if f["fieldtype"] == "Table"):
				fields = {f["fieldname"]: f["fieldtype"] for f in docs[child]["fields"]}
				personal = [
					n for n, t in fields.items() if t in ("Small Text", "Text", "Text Editor", "Attach")
				]
				if personal and child not in rights.PLAN:
					missing.append(child)
	assert not missing, f"add to rights.PLAN (with the personal fields, or {{}}): {missing}"


def test_the_plan_names_only_fields_that_exist():
	docs = {d["name"]: d for d in _doctypes()}
	for doctype, fields in rights.PLAN.items():
		if doctype not in docs:
			assert doctype == "Customer"  # ERPNext's
			continue
		names = {f["fieldname"] for f in docs[doctype]["fields"]}
		assert set(fields) <= names, (doctype, set(fields) - names)


@given(st.text(min_size=3, max_size=40).filter(lambda s: not s.startswith("ANON-")))
def test_a_pseudonym_is_stable_and_never_the_name(customer):
	alias = rights.pseudonym(customer)
	assert alias == rights.pseudonym(customer) and alias.startswith("ANON-")
	assert customer not in alias
	assert rights.pseudonym(alias) == alias  # a renamed customer keeps its pseudonym
	assert rights.replacement(rights.TEXT, customer) == rights.ANONYMISED
	assert rights.replacement(rights.CLEAR, customer) is None
