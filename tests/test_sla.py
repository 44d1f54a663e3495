from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_crm.core import sla
from bank_crm.core.errors import CoreValidationError

T0 = datetime(2026, 11, 2, 9, 30)
RULES = sla.default_rules()


def test_default_rules_cover_every_type_urgency_and_tier_and_vip_is_tighter():
	for t in sla.REQUEST_TYPES:
		for u in sla.URGENCIES:
			vip = sla.find_rule(RULES, t, u, "VIP")
			mass = sla.find_rule(RULES, t, u, "Mass")
			assert vip.tier == "VIP" and mass.tier == "Mass"
			assert vip.resolution_hours <= mass.resolution_hours
			assert vip.response_hours <= mass.response_hours


def test_rule_for_tier_beats_rule_for_any_tier_and_unknown_tier_falls_back():
	rules = [sla.SlaRule("Inquiry", "Normal", None, 10, 20), sla.SlaRule("Inquiry", "Normal", "VIP", 1, 2)]
	assert sla.find_rule(rules, "Inquiry", "Normal", "VIP").response_hours == 1
	assert sla.find_rule(rules, "Inquiry", "Normal", "Mass").response_hours == 10
	assert sla.find_rule(rules, "Inquiry", "Normal", None).response_hours == 10
	with pytest.raises(CoreValidationError):
		sla.find_rule(rules, "Complaint", "Normal", "VIP")
	assert sla.find_rule(RULES, "Inquiry", "Urgent", None, default_tier="Mass").tier == "Mass"
	with pytest.raises(CoreValidationError):
		sla.find_rule(RULES, "Inquiry", "Urgent", None)
	with pytest.raises(CoreValidationError):
		sla.find_rule(rules, "Gossip", "Normal", "VIP")


def test_register_computes_deadlines_and_promised_date():
	rule = sla.SlaRule("Inquiry", "Normal", None, 4, 48)
	c = sla.register(T0, rule)
	assert c.response_due == T0 + timedelta(hours=4)
	assert c.resolution_due == T0 + timedelta(hours=48)
	assert sla.promised_feedback_date(c) == (T0 + timedelta(hours=48)).date()
	assert sla.active_deadline(c) == ("Response", c.response_due)


def test_pause_stops_resolution_clock_and_resume_moves_it_by_the_wait():
	c = sla.register(T0, sla.SlaRule("Inquiry", "Normal", None, 4, 48))
	c = sla.pause(c, T0 + timedelta(hours=1))
	assert c.paused and c.responded_at == T0 + timedelta(hours=1)
	assert sla.active_deadline(c) is None
	c = sla.resume(c, T0 + timedelta(hours=11))
	assert c.resolution_due == T0 + timedelta(hours=58)
	assert c.paused_seconds == 36000
	assert sla.active_deadline(c) == ("Resolution", c.resolution_due)


def test_resolved_request_has_no_active_deadline_and_cannot_pause():
	c = sla.resolve(sla.register(T0, sla.SlaRule("Inquiry", "Normal", None, 4, 48)), T0 + timedelta(hours=2))
	assert sla.active_deadline(c) is None
	assert sla.met(c.resolution_due, c.resolved_at, T0) is True
	with pytest.raises(CoreValidationError):
		sla.pause(c, T0 + timedelta(hours=3))


def test_reopen_gives_a_fresh_resolution_clock():
	rule = sla.SlaRule("Inquiry", "Normal", None, 4, 48)
	c = sla.resolve(sla.register(T0, rule), T0 + timedelta(hours=2))
	later = T0 + timedelta(days=5)
	c = sla.reopen(c, later, rule)
	assert c.resolved_at is None and c.resolution_due == later + timedelta(hours=48)


def test_met_and_remaining():
	due = T0 + timedelta(hours=1)
	assert sla.met(due, None, T0) is None
	assert sla.met(due, None, T0 + timedelta(hours=2)) is False
	assert sla.met(due, T0 + timedelta(hours=2), T0) is False
	assert sla.format_remaining(sla.remaining(due, T0 + timedelta(hours=27, minutes=5))) == (True, 1, 2, 5)


events = st.lists(
	st.tuples(st.sampled_from(["pause", "resume"]), st.integers(min_value=0, max_value=10_000)),
	max_size=20,
)


@given(events)
def test_property_pausing_never_moves_a_deadline_earlier(steps):
	c = sla.register(T0, sla.SlaRule("Complaint", "Urgent", None, 4, 48))
	now = T0
	for kind, minutes in steps:
		now += timedelta(minutes=minutes)
		before = (c.response_due, c.resolution_due)
		c = sla.pause(c, now) if kind == "pause" else sla.resume(c, now)
		assert c.response_due == before[0]
		assert c.resolution_due >= before[1]
	c = sla.resume(c, now)
	assert c.resolution_due == T0 + timedelta(hours=48, seconds=c.paused_seconds)
