"""Advisory broadcasts (资讯推送): who receives one, through which channel, or why not.

A broadcast goes to a segment (tiers, stages, types, branches, RMs, open need categories,
products held or not, a maturity window, a static list); each recipient goes through the one
routing rule (``core.routing``: preferences, quiet hours, the consent ledger) restricted to the
channels the broadcast has a body for, and, for marketing, through the frequency cap and the
suitability of the products it names. Nobody is sent a message their consent, channel or cap
forbids; the decision says why when a recipient is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import repeat

from bank_crm.core import routing
from bank_crm.core.consent import ConsentRecord
from bank_crm.core.delivery import APP_PUSH, EMAIL, IMPORTANT_NOTICE, MARKETING, ROUTINE_TIP, SMS, WECHAT
from bank_crm.core.profile import RISK_TOLERANCE_LEVELS

CONTENT_CLASSES = (ROUTINE_TIP, IMPORTANT_NOTICE, MARKETING)
TEXT_CHANNELS = (SMS, APP_PUSH, WECHAT)
CHANNELS = (*TEXT_CHANNELS, EMAIL)
# characters a channel carries in one message (SMS: 70 Chinese characters per segment)
LIMITS = {SMS: 70, APP_PUSH: 120, WECHAT: 200}
PRODUCT_RISKS = ("R1", "R2", "R3", "R4", "R5")
# how long a Jinja field renders, for counting a text before it is sent to anyone: the
# typical width of a Chinese name, an RM's name, a tier and a product name
FIELD_WIDTHS = {"customer_name": 4, "relationship_manager_name": 3, "tier": 4, "product_name": 12}
OTHER_FIELD_WIDTH = 8
_FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)[^}]*\}\}")
DISCLOSURE_ABOVE = "R2"

QUEUED, SKIPPED = "Queued", "Skipped"
# skip reasons (untranslated templates)
DO_NOT_CONTACT = "do not contact"
NO_CONSENT = "no consent in force"
NO_CHANNEL = "no reachable channel"
FREQUENCY_CAP = "frequency cap"
UNSUITABLE = "product above the customer's risk level"
ASSESSMENT_EXPIRED = "risk assessment expired"
OPTED_OUT = "opted out"
SKIP_REASONS = (
	DO_NOT_CONTACT,
	NO_CONSENT,
	NO_CHANNEL,
	FREQUENCY_CAP,
	UNSUITABLE,
	ASSESSMENT_EXPIRED,
	OPTED_OUT,
)


@dataclass(frozen=True)
class Broadcast:
	name: str
	content_class: str
	channels: frozenset[str]  # those with a body
	product_risk: str | None = None  # the highest risk level of the products it names


@dataclass(frozen=True)
class Recipient:
	customer: str
	tier: str | None = None
	preferences: routing.Preferences = field(default_factory=routing.Preferences)
	consents: tuple[ConsentRecord, ...] = ()
	marketing_sent: tuple[datetime, ...] = ()  # marketing messages within the cap's window
	risk_tolerance: str | None = None
	assessment_expired: bool = True


@dataclass(frozen=True)
class Cap:
	messages: int  # at most this many marketing messages …
	days: int  # … per rolling window of this many days


@dataclass(frozen=True)
class Decision:
	customer: str
	status: str  # QUEUED or SKIPPED
	channel: str | None = None
	reason: str | None = None  # a skip reason, or the routing's reason for the channel
	send_after: datetime | None = None


def estimated_length(text: str, widths: Mapping[str, int] | None = None) -> int:
	"""Characters ``text`` takes once rendered: each ``{{ field }}`` counts at its width (from
	``widths``, else ``FIELD_WIDTHS``, else ``OTHER_FIELD_WIDTH``); Jinja statements count 0."""
	widths = {**FIELD_WIDTHS, **(widths or {})}
	text = re.sub(r"\{%.*?%\}|\{#.*?#\}", "", text, flags=re.S)
	return len(_FIELD.sub(lambda m: "x" * widths.get(m.group(1), OTHER_FIELD_WIDTH), text))


def text_length_problems(
	bodies: Mapping[str, str],
	added: Mapping[str, int] | None = None,
	widths: Mapping[str, int] | None = None,
) -> list[tuple[str, int, int]]:
	"""(channel, length, limit) for each short text over its channel's limit, counted as it will
	be sent: fields at their rendered width plus what every message of the channel gets added
	(``added``: the risk disclosure, the SMS opt-out text)."""
	out = []
	for channel, text in bodies.items():
		if channel not in LIMITS or not text:
			continue
		length = estimated_length(text, widths) + (added or {}).get(channel, 0)
		if length > LIMITS[channel]:
			out.append((channel, length, LIMITS[channel]))
	return out


def needs_disclosure(content_class: str, product_risk: str | None) -> bool:
	"""Marketing that names a product above R2 must carry a risk disclosure line."""
	return (
		content_class == MARKETING
		and product_risk in PRODUCT_RISKS
		and PRODUCT_RISKS.index(product_risk) > PRODUCT_RISKS.index(DISCLOSURE_ABOVE)
	)


def suitable(product_risk: str | None, tolerance: str | None, expired: bool) -> str | None:
	"""None when a product of ``product_risk`` may be recommended, else the reason it may not."""
	if not product_risk or product_risk == "R1":
		return None
	if expired or not tolerance:
		return ASSESSMENT_EXPIRED
	if PRODUCT_RISKS.index(product_risk) > RISK_TOLERANCE_LEVELS.index(tolerance):
		return UNSUITABLE
	return None


def under_cap(sent: Iterable[datetime], cap: Cap | None, now: datetime) -> bool:
	if cap is None or cap.messages <= 0:
		return True
	since = now - timedelta(days=cap.days)
	return sum(1 for t in sent if t > since) < cap.messages


def decide(broadcast: Broadcast, recipient: Recipient, cap: Cap | None, now: datetime) -> Decision:
	"""Whether and how one recipient gets the broadcast."""
	prefs = recipient.preferences
	if prefs.do_not_contact:
		return Decision(recipient.customer, SKIPPED, reason=DO_NOT_CONTACT)
	marketing = broadcast.content_class == MARKETING
	if marketing:
		unsuited = suitable(broadcast.product_risk, recipient.risk_tolerance, recipient.assessment_expired)
		if unsuited:
			return Decision(recipient.customer, SKIPPED, reason=unsuited)
		if not under_cap(recipient.marketing_sent, cap, now):
			return Decision(recipient.customer, SKIPPED, reason=FREQUENCY_CAP)
	# a notice to a segment goes by the electronic channels with a service consent
	routed_as = routing.MARKETING_CONTENT if marketing else routing.SERVICE_CONTENT
	exclude = set(routing.CHANNELS) - set(broadcast.channels)
	route = routing.route(routed_as, prefs, recipient.consents, now, exclude=exclude)
	if route.ok:
		return Decision(recipient.customer, QUEUED, route.channel, route.reason, route.send_after)
	# a channel the customer allows and can be reached on, but without consent: the consent is missing
	if any(r.reason == "no consent in force" for r in route.rejected):
		return Decision(recipient.customer, SKIPPED, reason=NO_CONSENT)
	return Decision(recipient.customer, SKIPPED, reason=NO_CHANNEL)


def plan(
	broadcast: Broadcast, recipients: Sequence[Recipient], caps: Mapping[str | None, Cap], now: datetime
) -> list[Decision]:
	"""A decision for every recipient (caps by tier; ``None`` is the default cap)."""
	return [decide(broadcast, r, caps.get(r.tier, caps.get(None)), now) for r in recipients]


def summary(decisions: Iterable[Decision], weights: Iterable[int] | None = None) -> dict:
	"""Counts for the preview: recipients, queued, skipped by reason, the split by channel.
	With ``weights``, each decision stands for that many recipients (a class of customers whose
	inputs to ``decide`` are the same)."""
	out = {"recipients": 0, "queued": 0, "skipped": 0, "by_reason": {}, "by_channel": {}}
	for d, n in zip(decisions, weights if weights is not None else repeat(1), strict=False):
		out["recipients"] += n
		if d.status == QUEUED:
			out["queued"] += n
			out["by_channel"][d.channel] = out["by_channel"].get(d.channel, 0) + n
		else:
			out["skipped"] += n
			out["by_reason"][d.reason] = out["by_reason"].get(d.reason, 0) + n
	return out


def idempotency_key(broadcast: str, customer: str) -> str:
	"""One message per broadcast and customer, however often the send runs."""
	return f"broadcast:{broadcast}:{customer}"
