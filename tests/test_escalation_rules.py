from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_crm.core import escalation as esc
from bank_crm.core.errors import CoreValidationError

DUE = datetime(2026, 11, 28, 12, 0)
M = esc.DEFAULT_MATRIX


def test_nothing_before_the_first_level():
	p = esc.plan(DUE, DUE - timedelta(hours=3), 0, None, M)
	assert p.fire == () and p.level == 0 and p.next_check == DUE - timedelta(hours=2)
	assert esc.first_check(DUE, M) == DUE - timedelta(hours=2)
	assert esc.first_check(None, M) is None


def test_near_due_warns_the_rm_then_breach_the_branch_manager_then_head_office():
	p = esc.plan(DUE, DUE - timedelta(minutes=30), 0, None, M)
	assert [lv.recipient for lv in p.fire] == [esc.RM] and p.next_check == DUE
	p = esc.plan(DUE, DUE + timedelta(minutes=1), p.level, p.deadline, M)
	assert [lv.recipient for lv in p.fire] == [esc.BRANCH_MANAGER]
	assert p.next_check == DUE + timedelta(days=1)
	p = esc.plan(DUE, DUE + timedelta(days=2), p.level, p.deadline, M)
	assert [lv.recipient for lv in p.fire] == [esc.CONSUMER_PROTECTION] and p.next_check is None


def test_a_late_first_look_fires_every_level_passed_once():
	p = esc.plan(DUE, DUE + timedelta(days=3), 0, None, M)
	assert [lv.level for lv in p.fire] == [1, 2, 3] and p.level == 3


def test_idempotent_for_the_same_breach_and_fresh_for_a_new_deadline():
	p = esc.plan(DUE, DUE + timedelta(hours=1), 0, None, M)
	again = esc.plan(DUE, DUE + timedelta(hours=1), p.level, p.deadline, M)
	assert again.fire == () and again.level == p.level
	new_due = DUE + timedelta(days=30)
	fresh = esc.plan(new_due, new_due + timedelta(minutes=5), p.level, p.deadline, M)
	assert [lv.level for lv in fresh.fire] == [1, 2]


def test_no_deadline_means_nothing_to_check():
	assert esc.plan(None, DUE, 2, DUE, M) == esc.Plan((), 0, None, None)


def test_matrix_validation():
	assert esc.validate_matrix(reversed(M)) == M
	with pytest.raises(CoreValidationError):
		esc.validate_matrix([])
	with pytest.raises(CoreValidationError):
		esc.validate_matrix([esc.Level(1, "Nobody", 0)])
	with pytest.raises(CoreValidationError):
		esc.validate_matrix([esc.Level(1, esc.RM, 10), esc.Level(2, esc.BRANCH_MANAGER, 0)])
	with pytest.raises(CoreValidationError):
		esc.validate_matrix([esc.Level(1, esc.RM, 0), esc.Level(1, esc.BRANCH_MANAGER, 0)])


@given(st.lists(st.integers(min_value=-300, max_value=5000), min_size=1, max_size=15))
def test_property_each_level_fires_at_most_once_per_breach_in_order(minutes):
	reached, reached_due, fired = 0, None, []
	for m in sorted(minutes):
		p = esc.plan(DUE, DUE + timedelta(minutes=m), reached, reached_due, M)
		fired += [lv.level for lv in p.fire]
		reached, reached_due = p.level, p.deadline
		if p.next_check:
			assert p.next_check > DUE + timedelta(minutes=m)
	assert fired == sorted(set(fired))
