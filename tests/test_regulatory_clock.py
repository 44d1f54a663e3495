from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_crm.core import regulatory as reg
from bank_crm.core.errors import CoreValidationError

D0 = date(2026, 1, 30)
BM = ("Branch Manager",)
CPO = ("Consumer Protection Officer",)


def test_standard_complex_and_extended_deadlines_are_calendar_days():
	assert reg.deadline(reg.Clock(D0)) == (date(2026, 2, 14), reg.SOURCE_STANDARD)
	assert reg.deadline(reg.Clock(D0, is_complex=True)) == (date(2026, 3, 1), reg.SOURCE_COMPLEX)
	c = reg.request_extension(reg.Clock(D0), "needs the insurer's report", "handler@x")
	assert c.is_complex and reg.deadline(c)[1] == reg.SOURCE_COMPLEX
	c = reg.decide_extension(c, True, "bm@x", BM, "handler@x")
	assert reg.deadline(c) == (date(2026, 3, 31), reg.SOURCE_EXTENDED)
	assert reg.deadline_at(c) == datetime(2026, 3, 31, 23, 59, 59)


def test_days_left_and_met():
	c = reg.Clock(D0)
	assert reg.days_left(c, D0) == 15
	assert reg.days_elapsed(c, D0 + timedelta(days=3)) == 3
	assert reg.met(c, D0 + timedelta(days=15)) is None
	assert reg.met(c, D0 + timedelta(days=16)) is False
	decided = reg.Clock(D0, decided_on=D0 + timedelta(days=10))
	assert reg.met(decided, D0 + timedelta(days=40)) is True
	assert reg.days_left(decided, D0 + timedelta(days=40)) == 5


def test_extension_needs_reason_and_is_accepted_once():
	with pytest.raises(CoreValidationError):
		reg.request_extension(reg.Clock(D0), "  ", "h")
	c = reg.request_extension(reg.Clock(D0), "reason", "h")
	with pytest.raises(CoreValidationError):
		reg.request_extension(c, "again", "h")
	approved = reg.decide_extension(c, True, "bm", BM, "h")
	with pytest.raises(CoreValidationError):
		reg.request_extension(approved, "more", "h")
	with pytest.raises(CoreValidationError):
		reg.decide_extension(approved, True, "bm", BM, "h")
	rejected = reg.decide_extension(c, False, "cpo", CPO, "h")
	assert reg.deadline(rejected)[1] == reg.SOURCE_COMPLEX
	with pytest.raises(CoreValidationError):
		reg.request_extension(rejected, "try again", "h")


def test_extension_approval_only_by_approver_role_other_than_handler():
	c = reg.request_extension(reg.Clock(D0), "reason", "h")
	with pytest.raises(CoreValidationError):
		reg.decide_extension(c, True, "h", BM, "h")
	with pytest.raises(CoreValidationError):
		reg.decide_extension(c, True, "rm", ("Relationship Manager",), "h")
	with pytest.raises(CoreValidationError):
		reg.decide_extension(reg.Clock(D0), True, "bm", BM, "h")


def test_recusal_and_approver_checks():
	reg.check_handler("a", "b")
	reg.check_handler("a", None)
	with pytest.raises(CoreValidationError):
		reg.check_handler("a", "a")
	reg.check_approver("bm", BM, "h")
	with pytest.raises(CoreValidationError):
		reg.check_approver("h", CPO, "h")


actions = st.lists(
	st.tuples(
		st.sampled_from(["request", "approve", "reject"]),
		st.sampled_from(["h", "bm", "rm"]),
		st.sampled_from(["", "reason"]),
	),
	max_size=8,
)
ROLES = {"h": ("Complaint Handler",), "bm": BM, "rm": ("Relationship Manager",)}


@given(actions, st.booleans())
def test_property_extension_accepted_only_once_and_only_with_approval(steps, complex_case):
	c = reg.Clock(D0, is_complex=complex_case)
	approvals = 0
	for kind, user, reason in steps:
		before = c
		try:
			if kind == "request":
				c = reg.request_extension(c, reason, "h")
			else:
				c = reg.decide_extension(c, kind == "approve", user, ROLES[user], "h")
		except CoreValidationError:
			assert c == before
			continue
		if c.extension == reg.APPROVED and before.extension != reg.APPROVED:
			approvals += 1
			assert c.extension_approved_by not in ("h", None)
			assert set(ROLES[c.extension_approved_by]) & reg.APPROVER_ROLES
			assert before.extension == reg.REQUESTED and before.extension_reason
	assert approvals <= 1
	extended = reg.deadline(c)[1] == reg.SOURCE_EXTENDED
	assert extended == (c.extension == reg.APPROVED)
	assert reg.deadline(c)[0] <= D0 + timedelta(days=60)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1)), st.booleans())
def test_property_deadline_never_earlier_than_15_days(registered, complex_case):
	c = reg.Clock(registered, is_complex=complex_case)
	assert reg.deadline(c)[0] >= registered + timedelta(days=15)
