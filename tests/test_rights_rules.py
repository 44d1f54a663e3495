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
