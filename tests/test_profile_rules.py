from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_crm.core import access, consent, profile, verification
from bank_crm.core.dates import add_months, add_years
from bank_crm.core.errors import CoreValidationError

TODAY = date(2026, 11, 28)


def test_risk_assessment_valid_for_one_year_inclusive():
	fresh = profile.assess_risk_tolerance("C4", date(2025, 11, 28), TODAY)
	assert not fresh.expired and fresh.max_recommendable == "C4"
	old = profile.assess_risk_tolerance("C4", date(2025, 11, 27), TODAY)
	assert old.expired and old.max_recommendable == "C1"
	assert profile.may_recommend("C1", old) and not profile.may_recommend("C2", old)
	assert profile.may_recommend("C4", fresh) and not profile.may_recommend("C5", fresh)


def test_risk_assessment_needs_a_date_not_in_future():
	with pytest.raises(CoreValidationError) as err:
		profile.assess_risk_tolerance("C2", None, TODAY)
	assert err.value.field == "risk_assessment_date"
	with pytest.raises(CoreValidationError):
		profile.assess_risk_tolerance("C2", date(2027, 1, 1), TODAY)
	with pytest.raises(CoreValidationError):
		profile.assess_risk_tolerance("C9", TODAY, TODAY)


def test_unassessed_customer_gets_only_c1():
	assert profile.assess_risk_tolerance(None, None, TODAY).max_recommendable == "C1"


def test_leap_day_assessment_expires_on_28_february():
	assert profile.assess_risk_tolerance("C3", date(2024, 2, 29), TODAY).expires_on == date(2025, 2, 28)


def test_shareholdings_sum_to_at_most_100():
	assert profile.check_shareholdings([60, 40]) == 100
	assert profile.check_shareholdings([33.3333, 33.3333, 33.3334]) == 100
	with pytest.raises(CoreValidationError) as err:
		profile.check_shareholdings([60, 40.5])
	assert "100.5" in str(err.value)
	with pytest.raises(CoreValidationError):
		profile.check_shareholdings([0])
	with pytest.raises(CoreValidationError):
		profile.check_shareholdings([101])


@given(st.lists(st.floats(min_value=0.01, max_value=100), max_size=8))
def test_shareholdings_accept_exactly_when_total_within_100(pcts):
	if sum(pcts) <= 100:
		assert profile.check_shareholdings(pcts) <= 100.0001
	elif sum(pcts) > 100.001:
		with pytest.raises(CoreValidationError):
			profile.check_shareholdings(pcts)


def test_debt_to_asset_ratio():
	assert profile.debt_to_asset_ratio(200, 50) == 25.0
	assert profile.debt_to_asset_ratio(0, 50) is None


def test_date_helpers():
	assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
	assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
	assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def chk(t, result="Passed", on=date(2026, 1, 10)):
	return verification.Check(t, result, on, "Document")


def test_verification_unverified_then_in_progress_then_verified():
	v = verification
	assert v.derive(v.INDIVIDUAL, [], "Low", TODAY).status == v.UNVERIFIED
	partial = v.derive(v.INDIVIDUAL, [chk(v.IDENTITY)], "Low", TODAY)
	assert partial.status == v.IN_PROGRESS and partial.missing == (v.ADDRESS,)
	done = v.derive(v.INDIVIDUAL, [chk(v.IDENTITY), chk(v.ADDRESS, on=date(2026, 3, 1))], "High", TODAY)
	assert done.status == v.VERIFIED
	# due from the earliest required pass, one year for high risk
	assert done.due_on == date(2027, 1, 10)


def test_verification_due_date_depends_on_risk_level():
	v = verification
	checks = [chk(v.IDENTITY), chk(v.ADDRESS)]
	assert v.derive(v.INDIVIDUAL, checks, "Low", TODAY).due_on == date(2029, 1, 10)
	assert v.derive(v.INDIVIDUAL, checks, "Medium", TODAY).due_on == date(2028, 1, 10)
	assert v.derive(v.INDIVIDUAL, checks, "High", TODAY, {"High": 2}).due_on == date(2028, 1, 10)


def test_verification_lapses_after_due_date():
	v = verification
	checks = [chk(v.IDENTITY, on=date(2025, 1, 1)), chk(v.ADDRESS, on=date(2025, 1, 1))]
	assert v.derive(v.INDIVIDUAL, checks, "High", TODAY).status == v.LAPSED


def test_latest_check_wins_and_failure_shows():
	v = verification
	checks = [
		chk(v.IDENTITY, on=date(2026, 1, 1)),
		chk(v.IDENTITY, "Failed", date(2026, 2, 1)),
		chk(v.ADDRESS),
	]
	state = v.derive(v.INDIVIDUAL, checks, "Low", TODAY)
	assert state.status == v.FAILED_STATUS and state.failed == (v.IDENTITY,)
	checks.append(chk(v.IDENTITY, on=date(2026, 3, 1)))
	assert v.derive(v.INDIVIDUAL, checks, "Low", TODAY).status == v.VERIFIED


def test_corporate_needs_licence_representative_and_owners():
	v = verification
	checks = [chk(v.BUSINESS_LICENCE), chk(v.LEGAL_REPRESENTATIVE)]
	assert v.derive(v.CORPORATE, checks, "Low", TODAY).missing == (v.BENEFICIAL_OWNERS,)
	checks.append(chk(v.BENEFICIAL_OWNERS))
	assert v.derive(v.CORPORATE, checks, "Low", TODAY).status == v.VERIFIED


T0 = datetime(2026, 1, 1, 9, 0)


def test_consent_in_force_between_grant_and_withdrawal():
	c = consent
	rows = [c.ConsentRecord(c.MARKETING, "SMS", T0, datetime(2026, 6, 1))]
	assert c.has_consent(rows, c.MARKETING, "SMS", datetime(2026, 3, 1))
	assert not c.has_consent(rows, c.MARKETING, "SMS", datetime(2026, 7, 1))
	assert not c.has_consent(rows, c.MARKETING, "Email", datetime(2026, 3, 1))
	assert not c.has_consent(rows, c.SERVICE, "SMS", datetime(2026, 3, 1))
	assert not c.has_consent(rows, c.MARKETING, "SMS", datetime(2025, 12, 1))


def test_all_channels_consent_covers_each_channel():
	rows = [consent.ConsentRecord(consent.MARKETING, consent.ALL_CHANNELS, T0)]
	assert consent.has_consent(rows, consent.MARKETING, "WeChat", datetime(2026, 2, 1))


def row(**kw):
	base = {"purpose": "Marketing", "channel": "SMS", "granted_on": T0, "evidence_type": "Signed Form"}
	return {**base, **kw}


def test_consent_row_checks():
	consent.check_row(row(), 1)
	with pytest.raises(CoreValidationError):
		consent.check_row(row(evidence_type=None), 1)
	with pytest.raises(CoreValidationError):
		consent.check_row(row(withdrawn_on=datetime(2025, 1, 1)), 1)
	with pytest.raises(CoreValidationError):
		consent.check_row(row(purpose="Spam"), 2)


def test_consent_ledger_is_append_only():
	before = {"a": row()}
	consent.check_ledger_change(before, {"a": row(), "b": row(channel="Email")})
	consent.check_ledger_change(before, {"a": row(withdrawn_on=datetime(2026, 2, 1))})
	with pytest.raises(CoreValidationError):
		consent.check_ledger_change(before, {})
	with pytest.raises(CoreValidationError):
		consent.check_ledger_change(before, {"a": row(channel="Email")})
	withdrawn = {"a": row(withdrawn_on=datetime(2026, 2, 1))}
	with pytest.raises(CoreValidationError):
		consent.check_ledger_change(withdrawn, {"a": row()})


def test_scope_of_roles():
	a = access
	rm = a.resolve_scope("rm@x", [a.RELATIONSHIP_MANAGER])
	assert rm.rm_user == "rm@x" and not rm.everything
	assert a.allows(rm, "rm@x", "B1") and not a.allows(rm, "other@x", "B1")
	bm = a.resolve_scope("bm@x", [a.BRANCH_MANAGER], ["B1"])
	assert a.allows(bm, "other@x", "B1") and not a.allows(bm, "other@x", "B2")
	both = a.resolve_scope("u@x", [a.BRANCH_MANAGER, a.RELATIONSHIP_MANAGER], ["B1"])
	assert a.allows(both, "u@x", "B9") and a.allows(both, "x@x", "B1")
	assert a.resolve_scope("c@x", [a.COMPLIANCE_AUDITOR, a.RELATIONSHIP_MANAGER]).everything
	assert not a.resolve_scope("s@x", ["Sales User"]).restricted
	lonely = a.resolve_scope("bm@x", [a.BRANCH_MANAGER], [])
	assert lonely.sees_nothing and not a.allows(lonely, None, None)
