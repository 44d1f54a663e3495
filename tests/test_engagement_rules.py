"""Cadence, channel routing and care events: the frappe-free rules behind visit plans and care."""

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bank_crm.core import cadence, care, routing
from bank_crm.core.consent import ALL_CHANNELS, MARKETING, SERVICE, ConsentRecord
from bank_crm.core.errors import CoreValidationError

TODAY = date(2026, 11, 28)
VIP = (
	cadence.PlanLine(cadence.VISIT, 3, cadence.MONTH),
	cadence.PlanLine(cadence.CALL, 1, cadence.MONTH),
)
MASS = (cadence.PlanLine(cadence.MESSAGE, 3, cadence.MONTH, responsible=cadence.AUTOMATED),)


def lines(tier_lines, overrides=()):
	return cadence.effective_lines(tier_lines, overrides, TODAY)


def apply(changes, items, customer="C1"):
	"""The open items after ``changes`` — what the job writes."""
	cancelled = set(changes.cancel)
	redated = {name: (line, due) for name, line, due in changes.redate}
	out = []
	for item in items:
		if item.name in cancelled:
			continue
		if item.name in redated:
			line, due = redated[item.name]
			item = cadence.OpenItem(item.name, item.kind, due, line.key, item.last_done)
		out.append(item)
	for i, (line, due, done) in enumerate(changes.create):
		out.append(cadence.OpenItem(f"new{i}", line.kind, due, line.key, done))
	return out


# -- cadence ------------------------------------------------------------------------------------
def test_first_plan_creates_one_item_per_kind_within_the_interval():
	changes = cadence.plan_customer("C1", lines(VIP), [], {}, TODAY)
	assert sorted(line.kind for line, _, _ in changes.create) == [cadence.CALL, cadence.VISIT]
	for line, due, _ in changes.create:
		assert TODAY <= due < TODAY + timedelta(days=line.approx_days)
	assert not changes.redate and not changes.cancel


def test_first_items_spread_over_the_interval_and_are_stable():
	dues = {cadence.next_due(VIP[0], None, TODAY, f"C{i}") for i in range(500)}
	assert len(dues) > 60  # spread over ~90 days, not all on one day
	assert cadence.next_due(VIP[0], None, TODAY, "C7") == cadence.next_due(VIP[0], None, TODAY, "C7")


def test_next_item_follows_the_last_contact_by_calendar_months():
	changes = cadence.plan_customer("C1", lines(VIP), [], {cadence.VISIT: date(2026, 8, 31)}, TODAY)
	due = {line.kind: d for line, d, _ in changes.create}
	assert due[cadence.VISIT] == date(2026, 11, 30)
	assert cadence.complete(VIP[1], date(2026, 1, 31)) == date(2026, 2, 28)


def test_rerun_with_nothing_changed_decides_nothing():
	first = cadence.plan_customer("C1", lines(VIP), [], {}, TODAY)
	items = apply(first, [])
	again = cadence.plan_customer("C1", lines(VIP), items, {}, TODAY + timedelta(days=3))
	assert not again


def test_manual_reschedule_is_kept_when_the_plan_is_unchanged():
	key = VIP[0].key
	items = [
		cadence.OpenItem("V1", cadence.VISIT, date(2027, 1, 15), key),
		cadence.OpenItem("K1", cadence.CALL, TODAY, VIP[1].key),
	]
	assert not cadence.plan_customer("C1", lines(VIP), items, {}, TODAY)


def test_moving_up_to_vip_replans_from_the_next_run():
	mass_items = apply(cadence.plan_customer("C1", lines(MASS), [], {}, TODAY), [])
	changes = cadence.plan_customer("C1", lines(VIP), mass_items, {}, TODAY)
	assert changes.cancel == [mass_items[0].name]  # no app touch in the VIP plan
	assert sorted(line.kind for line, _, _ in changes.create) == [cadence.CALL, cadence.VISIT]


def test_a_changed_interval_redates_the_open_item_from_its_last_contact():
	item = cadence.OpenItem("V1", cadence.VISIT, date(2027, 2, 1), "6M", last_done=date(2026, 8, 1))
	changes = cadence.plan_customer("C1", lines(VIP), [item], {}, TODAY)
	assert changes.redate == [("V1", VIP[0], date(2026, 11, 1))]


def test_override_in_force_replaces_the_tier_line_and_expiry_restores_it():
	monthly = cadence.Override(
		cadence.VISIT, 1, cadence.MONTH, valid_until=date(2026, 12, 31), reason="big deal"
	)
	effective = lines(VIP, [monthly])
	assert effective[cadence.VISIT].every == 1 and effective[cadence.VISIT].source == "Override"
	assert effective[cadence.VISIT].key != VIP[0].key
	later = cadence.effective_lines(VIP, [monthly], date(2027, 1, 1))
	assert later[cadence.VISIT] == VIP[0]


def test_override_can_add_a_kind_the_tier_does_not_plan():
	effective = lines(MASS, [cadence.Override(cadence.VISIT, 6, cadence.MONTH)])
	assert set(effective) == {cadence.MESSAGE, cadence.VISIT}


def test_duplicates_are_healed_keeping_the_earliest():
	items = [
		cadence.OpenItem("B", cadence.CALL, date(2026, 12, 5), VIP[1].key),
		cadence.OpenItem("A", cadence.CALL, date(2026, 12, 1), VIP[1].key),
		cadence.OpenItem("V", cadence.VISIT, date(2026, 12, 1), VIP[0].key),
	]
	changes = cadence.plan_customer("C1", lines(VIP), items, {}, TODAY)
	assert changes.cancel == ["B"] and not changes.create


def test_plan_validation_names_the_row():
	with pytest.raises(CoreValidationError, match="row 2"):
		cadence.check_plan([VIP[0], cadence.PlanLine(cadence.VISIT, 1, cadence.MONTH)])
	with pytest.raises(CoreValidationError, match="at least 1"):
		cadence.check_plan([cadence.PlanLine(cadence.CALL, 0, cadence.MONTH)])
	with pytest.raises(CoreValidationError, match="ten years"):
		cadence.check_plan([cadence.PlanLine(cadence.CALL, 200, cadence.MONTH)])


kinds = st.sampled_from(cadence.CONTACT_KINDS)
plan_lines = st.dictionaries(
	kinds,
	st.tuples(st.integers(1, 24), st.sampled_from(cadence.UNITS)),
	max_size=5,
).map(lambda d: {k: cadence.PlanLine(k, e, u) for k, (e, u) in d.items()})
open_items = st.lists(
	st.builds(
		cadence.OpenItem,
		name=st.text("abcdef0123", min_size=1, max_size=6),
		kind=kinds,
		due=st.dates(date(2025, 1, 1), date(2028, 1, 1)),
		plan_key=st.sampled_from(["1M", "3M", "2W", "10D", "6MO"]),
		last_done=st.none() | st.dates(date(2024, 1, 1), date(2026, 11, 1)),
	),
	max_size=8,
	unique_by=lambda i: i.name,
)


@settings(max_examples=300, deadline=None)
@given(plan_lines, open_items, st.dates(date(2026, 1, 1), date(2027, 12, 31)))
def test_a_plan_never_leaves_two_open_items_of_one_kind(plan, items, today):
	after = apply(cadence.plan_customer("C9", plan, items, {}, today), items)
	kinds_open = [i.kind for i in after]
	assert len(kinds_open) == len(set(kinds_open))
	assert set(kinds_open) == set(plan)  # exactly the planned kinds
	# and a second run finds nothing to do
	assert not cadence.plan_customer("C9", plan, after, {}, today)


# -- routing ------------------------------------------------------------------------------------
AT = datetime(2026, 11, 28, 10, 0)
EVERYTHING = [ConsentRecord(SERVICE, ALL_CHANNELS, datetime(2020, 1, 1))]


def test_important_notice_goes_by_phone_routine_tip_by_sms():
	prefs = routing.Preferences()
	assert routing.route(routing.IMPORTANT_NOTICE, prefs, EVERYTHING, AT).channel == routing.PHONE
	assert routing.route(routing.ROUTINE_TIP, prefs, EVERYTHING, AT).channel == routing.SMS


def test_preferred_channel_goes_first_when_it_suits_the_content():
	prefs = routing.Preferences(preferred=routing.APP_PUSH)
	decision = routing.route(routing.ROUTINE_TIP, prefs, EVERYTHING, AT)
	assert decision.channel == routing.APP_PUSH and "preferred" in decision.reason
	# an app push does not suit an important notice: still phone
	assert routing.route(routing.IMPORTANT_NOTICE, prefs, EVERYTHING, AT).channel == routing.PHONE


def test_disallowed_and_unreachable_channels_are_skipped_with_reasons():
	prefs = routing.Preferences(
		allowed=frozenset({routing.SMS, routing.EMAIL, routing.APP_PUSH}),
		reachable=frozenset({routing.EMAIL, routing.PHONE, routing.VISIT}),
	)
	decision = routing.route(routing.ROUTINE_TIP, prefs, EVERYTHING, AT)
	assert decision.channel == routing.EMAIL
	assert [r.channel for r in decision.rejected] == [routing.SMS, routing.APP_PUSH, routing.WECHAT]


def test_no_channel_says_why():
	prefs = routing.Preferences(allowed=frozenset({routing.SMS}))
	decision = routing.route(routing.IMPORTANT_NOTICE, prefs, EVERYTHING, AT)
	assert not decision.ok
	text = decision.reason.format(*decision.args)
	assert "Phone — not allowed by the customer" in text and "Visit — not allowed" in text


def test_do_not_contact_stops_everything():
	decision = routing.route(
		routing.SERVICE_CONTENT, routing.Preferences(do_not_contact=True), EVERYTHING, AT
	)
	assert decision.channel is None and "not to be contacted" in decision.reason


def test_marketing_needs_a_marketing_consent_on_that_channel():
	assert not routing.route(routing.MARKETING_CONTENT, routing.Preferences(), EVERYTHING, AT).ok
	consents = EVERYTHING + [ConsentRecord(MARKETING, routing.WECHAT, datetime(2025, 1, 1))]
	assert (
		routing.route(routing.MARKETING_CONTENT, routing.Preferences(), consents, AT).channel
		== routing.WECHAT
	)


def test_withdrawn_consent_is_not_used():
	consents = [
		ConsentRecord(SERVICE, routing.SMS, datetime(2020, 1, 1), withdrawn_on=datetime(2026, 1, 1)),
		ConsentRecord(SERVICE, routing.APP_PUSH, datetime(2020, 1, 1)),
	]
	assert routing.route(routing.ROUTINE_TIP, routing.Preferences(), consents, AT).channel == routing.APP_PUSH


def test_quiet_hours_defer_messages_but_not_visits():
	prefs = routing.Preferences(quiet_start=time(21, 0), quiet_end=time(8, 0))
	late = datetime(2026, 11, 28, 22, 30)
	decision = routing.route(routing.ROUTINE_TIP, prefs, EVERYTHING, late)
	assert decision.channel == routing.SMS and decision.send_after == datetime(2026, 11, 29, 8, 0)
	early = datetime(2026, 11, 29, 6, 0)
	assert routing.route(routing.ROUTINE_TIP, prefs, EVERYTHING, early).send_after == datetime(
		2026, 11, 29, 8, 0
	)
	visit_only = routing.Preferences(
		allowed=frozenset({routing.VISIT}), quiet_start=time(21), quiet_end=time(8)
	)
	assert routing.route(routing.IMPORTANT_NOTICE, visit_only, EVERYTHING, late).send_after is None
	assert routing.route(routing.ROUTINE_TIP, prefs, EVERYTHING, AT).send_after is None


def test_preferences_must_agree_with_the_ledger():
	assert routing.check_preferences(routing.Preferences(preferred=routing.SMS), EVERYTHING, AT) is None
	bad = routing.Preferences(preferred=routing.SMS, allowed=frozenset({routing.EMAIL}))
	assert "allowed" in routing.check_preferences(bad, EVERYTHING, AT)
	assert "consent" in routing.check_preferences(routing.Preferences(preferred=routing.SMS), [], AT)


consent_rows = st.lists(
	st.builds(
		ConsentRecord,
		purpose=st.sampled_from([SERVICE, MARKETING]),
		channel=st.sampled_from((ALL_CHANNELS, *routing.CHANNELS)),
		granted_on=st.datetimes(datetime(2020, 1, 1), datetime(2027, 1, 1)),
		withdrawn_on=st.none() | st.datetimes(datetime(2020, 1, 1), datetime(2027, 1, 1)),
	),
	max_size=6,
)
channel_sets = st.frozensets(st.sampled_from(routing.CHANNELS))


@settings(max_examples=400, deadline=None)
@given(
	st.sampled_from(routing.CONTENT_CLASSES),
	channel_sets,
	channel_sets,
	st.none() | st.sampled_from(routing.CHANNELS),
	st.booleans(),
	consent_rows,
	st.datetimes(datetime(2021, 1, 1), datetime(2027, 1, 1)),
)
def test_routing_never_picks_a_channel_without_consent(
	content, allowed, reachable, preferred, dnc, consents, at
):
	prefs = routing.Preferences(allowed=allowed, reachable=reachable, preferred=preferred, do_not_contact=dnc)
	decision = routing.route(content, prefs, consents, at)
	if decision.channel is not None:
		from bank_crm.core.consent import has_consent

		assert not dnc
		assert decision.channel in allowed and decision.channel in reachable
		assert decision.channel in routing.SUITABLE[content]
		assert has_consent(consents, routing.purpose_of(content), decision.channel, at)
	else:
		assert decision.reason


# -- care events --------------------------------------------------------------------------------
LEADS = {care.BIRTHDAY: 3, care.ANNIVERSARY: 7, care.MATURITY: 30}


def test_birthday_within_the_lead_window():
	events = care.due_events("C1", date(1980, 11, 30), None, [], TODAY, LEADS)
	assert [(e.event_type, e.event_date, e.years) for e in events] == [
		(care.BIRTHDAY, date(2026, 11, 30), 46)
	]
	assert care.due_events("C1", date(1980, 12, 5), None, [], TODAY, LEADS) == []


def test_leap_day_birthday_falls_on_28_february_in_a_common_year():
	events = care.due_events("C1", date(1988, 2, 29), None, [], date(2027, 2, 27), LEADS)
	assert events[0].event_date == date(2027, 2, 28)
	assert "02-29" in care.month_days_in_window(date(2027, 2, 26), 3)


def test_anniversary_and_maturity():
	events = care.due_events(
		"C1",
		None,
		date(2016, 12, 1),
		[("大额存单 3Y", date(2026, 12, 20)), ("理财 A", date(2027, 3, 1))],
		TODAY,
		LEADS,
	)
	assert [(e.event_type, e.years, e.detail) for e in events] == [
		(care.ANNIVERSARY, 10, ""),
		(care.MATURITY, None, "大额存单 3Y"),
	]


def test_no_anniversary_in_the_first_year_and_disabled_kinds_are_off():
	assert care.due_events("C1", None, date(2026, 11, 1), [], TODAY, LEADS) == []
	assert care.due_events("C1", date(1980, 11, 28), None, [], TODAY, {care.MATURITY: 30}) == []


def test_event_keys_identify_one_event():
	a = care.CareEvent(care.BIRTHDAY, "C1", date(2026, 11, 30))
	assert a.key == care.CareEvent(care.BIRTHDAY, "C1", date(2026, 11, 30), years=46).key
	assert a.key != care.CareEvent(care.BIRTHDAY, "C1", date(2027, 11, 30)).key


@settings(max_examples=200, deadline=None)
@given(
	st.dates(date(1940, 1, 1), date(2010, 12, 31)),
	st.dates(date(2025, 1, 1), date(2030, 12, 31)),
	st.integers(0, 30),
)
def test_birthday_query_days_cover_every_event_found(born, today, lead):
	event = care.birthday_event("C", born, today, lead)
	if event:
		assert born.strftime("%m-%d") in care.month_days_in_window(today, lead)
		assert today <= event.event_date <= today + timedelta(days=lead)


# -- KPI attainment -----------------------------------------------------------------------------
def test_kpi_actuals_and_attainment():
	from bank_crm.core import kpi

	values = kpi.actuals(
		customers=200,
		contacted=180,
		retained=196,
		depth=4.2,
		aum_now=1_080_000,
		aum_then=1_000_000,
		satisfaction=4.8,
	)
	assert (
		values[kpi.CONTACT_COVERAGE] == 90.0
		and values[kpi.RETENTION] == 98.0
		and values[kpi.AUM_GROWTH] == 8.0
	)
	result = kpi.attainment(
		values, {kpi.CONTACT_COVERAGE: 100, kpi.RETENTION: 98, kpi.SATISFACTION: 4.7, kpi.PRODUCT_DEPTH: 5}
	)
	assert (result.met, result.total) == (2, 4)
	assert set(result.missed) == {kpi.CONTACT_COVERAGE, kpi.PRODUCT_DEPTH}


def test_unmeasured_kpi_counts_as_missed():
	from bank_crm.core import kpi

	values = kpi.actuals(
		customers=0, contacted=0, retained=0, depth=None, aum_now=None, aum_then=0, satisfaction=None
	)
	assert all(v is None for v in values.values())
	assert kpi.attainment(values, {kpi.SATISFACTION: 4}).missed == (kpi.SATISFACTION,)
