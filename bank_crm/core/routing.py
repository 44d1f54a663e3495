"""Channel routing: which channel a contact goes through, or why none may be used.

One rule for every sender (RM contacts, care greetings, request feedback): the content class
names the channels that suit it, in order (an important notice goes by phone or in person, a
routine tip by SMS or app push); the customer's preferred channel goes first when it suits;
a channel is used only if the customer allows it, can be reached on it, and has a consent in
force for the purpose (marketing needs a marketing consent, everything else a service
consent). A do-not-contact flag stops everything. Quiet hours defer electronic and phone
contact to the end of the quiet period; a visit is a task for the RM and is not deferred.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from bank_crm.core.consent import MARKETING, SERVICE, ConsentRecord, has_consent

# one list of channel names and content classes for the app, re-exported here
from bank_crm.core.delivery import (  # noqa: F401
	APP_PUSH,
	CHANNELS,
	CONTENT_CLASSES,
	EMAIL,
	GREETING,
	IMPORTANT_NOTICE,
	PHONE,
	ROUTINE_TIP,
	SMS,
	VISIT,
	WECHAT,
)
from bank_crm.core.delivery import MARKETING as MARKETING_CONTENT
from bank_crm.core.delivery import SERVICE as SERVICE_CONTENT

# channels that suit each content class, best first
SUITABLE: dict[str, tuple[str, ...]] = {
	IMPORTANT_NOTICE: (PHONE, VISIT),
	SERVICE_CONTENT: (PHONE, SMS, APP_PUSH, WECHAT, EMAIL, VISIT),
	ROUTINE_TIP: (SMS, APP_PUSH, WECHAT, EMAIL),
	GREETING: (SMS, WECHAT, APP_PUSH, EMAIL, PHONE),
	MARKETING_CONTENT: (APP_PUSH, SMS, WECHAT, EMAIL),
}


@dataclass(frozen=True)
class Preferences:
	"""A customer's contact preferences and the addresses on file."""

	allowed: frozenset[str] = frozenset(CHANNELS)
	preferred: str | None = None
	do_not_contact: bool = False
	quiet_start: time | None = None
	quiet_end: time | None = None
	reachable: frozenset[str] = frozenset(CHANNELS)  # channels with an address (mobile, email …)


@dataclass(frozen=True)
class Rejection:
	channel: str
	reason: str  # untranslated template


@dataclass(frozen=True)
class Route:
	channel: str | None
	reason: str  # untranslated template with {0}… placeholders
	args: tuple = ()
	send_after: datetime | None = None  # set when quiet hours defer the contact
	rejected: tuple[Rejection, ...] = field(default_factory=tuple)

	@property
	def ok(self) -> bool:
		return self.channel is not None


def purpose_of(content_class: str) -> str:
	return MARKETING if content_class == MARKETING_CONTENT else SERVICE


def in_quiet_hours(at: datetime, start: time | None, end: time | None) -> bool:
	if start is None or end is None or start == end:
		return False
	now = at.time()
	if start < end:
		return start <= now < end
	return now >= start or now < end  # over midnight, e.g. 21:00–08:00


def quiet_until(at: datetime, start: time | None, end: time | None) -> datetime | None:
	"""When the quiet period that ``at`` falls in ends, or None outside quiet hours."""
	if not in_quiet_hours(at, start, end):
		return None
	end_today = datetime.combine(at.date(), end, tzinfo=at.tzinfo)
	return end_today if end_today > at else end_today + timedelta(days=1)


def route(
	content_class: str,
	prefs: Preferences,
	consents: Iterable[ConsentRecord],
	at: datetime,
	exclude: Iterable[str] = (),
) -> Route:
	"""The channel for a contact of ``content_class`` at ``at``, or why there is none."""
	if content_class not in SUITABLE:
		return Route(None, "Unknown content class {0}", (content_class,))
	if prefs.do_not_contact:
		return Route(None, "The customer asked not to be contacted")
	consents = list(consents)
	purpose = purpose_of(content_class)
	order = list(SUITABLE[content_class])
	if prefs.preferred in order:
		order.remove(prefs.preferred)
		order.insert(0, prefs.preferred)
	excluded = set(exclude)
	rejected: list[Rejection] = []
	for channel in order:
		if channel in excluded:
			rejected.append(Rejection(channel, "excluded by the sender"))
		elif channel not in prefs.allowed:
			rejected.append(Rejection(channel, "not allowed by the customer"))
		elif channel not in prefs.reachable:
			rejected.append(Rejection(channel, "no address on file"))
		elif not has_consent(consents, purpose, channel, at):
			rejected.append(Rejection(channel, "no consent in force"))
		else:
			deferred = None if channel == VISIT else quiet_until(at, prefs.quiet_start, prefs.quiet_end)
			if channel == prefs.preferred:
				reason = "{0} is the customer's preferred channel"
			else:
				reason = "{0} is the first suitable channel the customer allows and consented to"
			return Route(channel, reason, (channel,), deferred, tuple(rejected))
	return Route(
		None,
		"No channel suits {0} for this customer: {1}",
		(content_class, "; ".join(f"{r.channel} — {r.reason}" for r in rejected)),
		None,
		tuple(rejected),
	)


def check_preferences(prefs: Preferences, consents: Iterable[ConsentRecord], at: datetime) -> str | None:
	"""An inconsistency between preferences and the consent ledger, as a template, or None."""
	if prefs.preferred is None:
		return None
	if prefs.preferred not in prefs.allowed:
		return "The preferred channel {0} must also be an allowed channel"
	if prefs.do_not_contact:
		return None
	if not has_consent(list(consents), SERVICE, prefs.preferred, at):
		return "The preferred channel {0} has no service consent in force in the consent ledger"
	return None
