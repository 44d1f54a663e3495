"""Broadcast decisions: consent, channel, cap and suitability, as plain data."""

from datetime import datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bank_crm.core import broadcast as bc
from bank_crm.core.consent import MARKETING, SERVICE, ConsentRecord, has_consent
from bank_crm.core.routing import Preferences

NOW = datetime(2026, 11, 30, 10, 0)
LONG_AGO = datetime(2025, 1, 1)
TIP = bc.Broadcast("B1", bc.ROUTINE_TIP, frozenset(bc.CHANNELS))
PROMO = bc.Broadcast("B2", bc.MARKETING, frozenset(bc.CHANNELS), product_risk="R3")
CAP = bc.Cap(messages=2, days=30)


def consent(purpose, channel="All Channels", withdrawn=None):
	return ConsentRecord(purpose, channel, LONG_AGO, withdrawn)


def recipient(**values):
	base = dict(
		customer="C1",
		tier="Mass",
		preferences=Preferences(),
		consents=(consent(SERVICE), consent(MARKETING)),
		risk_tolerance="C3",
		assessment_expired=False,
	)
	base.update(values)
	return bc.Recipient(**base)


def test_a_tip_goes_by_the_first_suitable_channel_and_a_notice_never_by_phone():
	decision = bc.decide(TIP, recipient(), None, NOW)
	assert (decision.status, decision.channel) == (bc.QUEUED, "SMS")
	notice = bc.Broadcast("N", bc.IMPORTANT_NOTICE, frozenset({"Email"}))
	assert bc.decide(notice, recipient(), None, NOW).channel == "Email"


def test_skips_name_their_reason():
	assert (
		bc.decide(TIP, recipient(preferences=Preferences(do_not_contact=True)), None, NOW).reason
		== bc.DO_NOT_CONTACT
	)
	assert bc.decide(TIP, recipient(consents=()), None, NOW).reason == bc.NO_CONSENT
	unreachable = Preferences(reachable=frozenset({"Phone"}))
	assert bc.decide(TIP, recipient(preferences=unreachable), None, NOW).reason == bc.NO_CHANNEL
	assert bc.decide(PROMO, recipient(consents=(consent(SERVICE),)), CAP, NOW).reason == bc.NO_CONSENT
	assert bc.decide(PROMO, recipient(risk_tolerance="C2"), CAP, NOW).reason == bc.UNSUITABLE
	assert bc.decide(PROMO, recipient(assessment_expired=True), CAP, NOW).reason == bc.ASSESSMENT_EXPIRED
	capped = recipient(marketing_sent=(NOW - timedelta(days=3), NOW - timedelta(days=10)))
	assert bc.decide(PROMO, capped, CAP, NOW).reason == bc.FREQUENCY_CAP
	aged = recipient(marketing_sent=(NOW - timedelta(days=40), NOW - timedelta(days=50)))
	assert bc.decide(PROMO, aged, CAP, NOW).status == bc.QUEUED


def test_quiet_hours_defer_a_message():
	quiet = Preferences(quiet_start=time(9), quiet_end=time(12))
	decision = bc.decide(TIP, recipient(preferences=quiet), None, NOW)
	assert decision.status == bc.QUEUED and decision.send_after == datetime(2026, 11, 30, 12, 0)


def test_disclosure_and_text_limits():
	assert bc.needs_disclosure(bc.MARKETING, "R3") and not bc.needs_disclosure(bc.MARKETING, "R2")
	assert not bc.needs_disclosure(bc.ROUTINE_TIP, "R5")
	assert bc.text_length_problems({"SMS": "利" * 71, "App Push": "ok", "Email": "x" * 10_000}) == [
		("SMS", 71, 70)
	]


def test_lengths_count_fields_as_rendered_and_what_every_message_gets_added():
	text = "尊敬的{{ customer_name }}，详询客户经理{{ relationship_manager_name }}。{% if tier %}{% endif %}"
	assert bc.estimated_length(text) == 3 + 4 + 7 + 3 + 1
	assert bc.estimated_length("{{ product_name }}", {"product_name": 5}) == 5
	assert bc.estimated_length("{{ anything_else }}") == bc.OTHER_FIELD_WIDTH
	assert bc.text_length_problems({"SMS": "利" * 60}) == []
	assert bc.text_length_problems({"SMS": "利" * 60}, added={"SMS": 11}) == [("SMS", 71, 70)]


def test_summary_counts_by_reason_and_channel():
	decisions = bc.plan(
		TIP, [recipient(customer="a"), recipient(customer="b", consents=())], {None: CAP}, NOW
	)
	assert bc.summary(decisions) == {
		"recipients": 2,
		"queued": 1,
		"skipped": 1,
		"by_reason": {bc.NO_CONSENT: 1},
		"by_channel": {"SMS": 1},
	}


channels = st.sets(st.sampled_from(list(bc.CHANNELS)), min_size=1)
purposes = st.sampled_from([SERVICE, MARKETING])


@settings(max_examples=300, deadline=None)
@given(
	content=st.sampled_from(bc.CONTENT_CLASSES),
	bodies=channels,
	allowed=channels,
	reachable=channels,
	granted=st.lists(
		st.tuples(purposes, st.sampled_from(["All Channels", *bc.CHANNELS]), st.booleans()), max_size=4
	),
	sent=st.lists(st.integers(0, 60), max_size=4),
	tolerance=st.sampled_from([None, "C1", "C2", "C3", "C4", "C5"]),
	risk=st.sampled_from([None, *bc.PRODUCT_RISKS]),
	expired=st.booleans(),
)
def test_nobody_gets_a_message_their_consent_channel_or_cap_forbids(
	content, bodies, allowed, reachable, granted, sent, tolerance, risk, expired
):
	message = bc.Broadcast("B", content, frozenset(bodies), product_risk=risk)
	consents = tuple(consent(p, c, withdrawn=NOW - timedelta(days=1) if w else None) for p, c, w in granted)
	who = recipient(
		preferences=Preferences(allowed=frozenset(allowed), reachable=frozenset(reachable)),
		consents=consents,
		marketing_sent=tuple(NOW - timedelta(days=d) for d in sent),
		risk_tolerance=tolerance,
		assessment_expired=expired,
	)
	decision = bc.decide(message, who, CAP, NOW)
	if decision.status == bc.QUEUED:
		purpose = MARKETING if content == bc.MARKETING else SERVICE
		assert decision.channel in bodies and decision.channel in allowed and decision.channel in reachable
		assert has_consent(consents, purpose, decision.channel, NOW)
		if content == bc.MARKETING:
			assert bc.under_cap(who.marketing_sent, CAP, NOW)
			assert bc.suitable(risk, tolerance, expired) is None
	else:
		assert decision.reason in bc.SKIP_REASONS
	assert bc.decide(message, who, CAP, NOW) == decision  # the same data decides the same way


def test_a_weighted_summary_counts_like_the_recipients_it_stands_for():
	alike = [recipient(customer=f"c{i}") for i in range(3)] + [recipient(customer="x", consents=())]
	expanded = bc.summary(bc.plan(TIP, alike, {None: CAP}, NOW))
	classes = bc.plan(TIP, [alike[0], alike[3]], {None: CAP}, NOW)
	assert bc.summary(classes, [3, 1]) == expanded
