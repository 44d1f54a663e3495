"""Suitability (bank_crm.core.suitability): no product above the customer's risk level, and none
above R1 without an assessment in force."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_crm.core import broadcast, suitability
from bank_crm.core.errors import CoreValidationError
from bank_crm.core.profile import RISK_TOLERANCE_LEVELS

TODAY = date(2026, 12, 2)


def test_the_questionnaire_score_gives_the_band():
	assert [suitability.tolerance_from_score(s) for s in (0, 20, 21, 55, 80, 81, 100)] == [
		"C1",
		"C1",
		"C2",
		"C3",
		"C4",
		"C5",
		"C5",
	]
	assert suitability.tolerance_from_score(None) is None
	with pytest.raises(CoreValidationError):
		suitability.tolerance_from_score(101)


def test_reasons_name_the_product_its_level_and_why():
	in_force = TODAY + timedelta(days=100)
	assert suitability.refusal("FUND-9", "R4", "C2", in_force, TODAY) == (
		suitability.ABOVE_LEVEL,
		("FUND-9", "R4", "C2"),
	)
	assert suitability.refusal("FUND-9", "R2", "C2", in_force, TODAY) is None
	assert suitability.refusal("DEP-1", "R1", None, None, TODAY) is None
	assert suitability.refusal("FUND-9", "R2", None, None, TODAY)[0] == suitability.NOT_ASSESSED
	assert (
		suitability.refusal("FUND-9", "R2", "C5", TODAY - timedelta(days=1), TODAY)[0] == suitability.EXPIRED
	)
	assert suitability.refusal("FUND-9", "R2", "C5", TODAY, TODAY) is None  # valid through the day


def test_expiring_within_thirty_days():
	assert suitability.expiring(TODAY + timedelta(days=30), TODAY)
	assert not suitability.expiring(TODAY + timedelta(days=31), TODAY)
	assert suitability.expiring(TODAY - timedelta(days=3), TODAY)
	assert not suitability.expiring(None, TODAY)


@given(
	st.sampled_from(suitability.PRODUCT_RISKS),
	st.one_of(st.none(), st.sampled_from(RISK_TOLERANCE_LEVELS)),
	st.one_of(st.none(), st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 1, 1))),
)
def test_no_recommendation_above_the_customers_level_ever_passes(risk, tolerance, expires_on):
	passed = suitability.refusal("P", risk, tolerance, expires_on, TODAY) is None
	in_force = bool(tolerance) and expires_on is not None and expires_on >= TODAY
	if passed and risk != "R1":
		assert in_force
		assert suitability.PRODUCT_RISKS.index(risk) <= RISK_TOLERANCE_LEVELS.index(tolerance)
	# a broadcast recipient is skipped by the same rule
	skipped = broadcast.suitable(risk, tolerance, not in_force) is not None
	assert skipped == (not passed)


def test_the_first_suitable_product_not_held_is_suggested():
	today = date(2026, 12, 7)
	valid = today + timedelta(days=200)
	candidates = [("WM-R4", "R4"), ("WM-R3", "R3"), ("WM-R2", "R2"), ("WM-R1", "R1")]
	assert suitability.first_suitable(candidates, set(), "C3", valid, today) == "WM-R3"
	assert suitability.first_suitable(candidates, {"WM-R3"}, "C3", valid, today) == "WM-R2"
	# no assessment in force: only R1 products
	assert suitability.first_suitable(candidates, set(), "C5", today - timedelta(days=1), today) == "WM-R1"
	assert suitability.first_suitable(candidates, {"WM-R1"}, None, None, today) is None
	assert suitability.first_suitable([], set(), "C5", valid, today) is None
