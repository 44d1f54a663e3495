"""Service-request SLAs: response and resolution deadlines per type × urgency × tier.

Deadlines are computed once, on registration, from the best matching rule (exact tier
before a rule for any tier). Waiting on the customer pauses the resolution clock: when the
pause ends the resolution deadline moves later by the paused time, never earlier.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from bank_crm.core.errors import CoreValidationError

INQUIRY, COMPLAINT, SUGGESTION, BUSINESS_APPLICATION = (
	"Inquiry",
	"Complaint",
	"Suggestion",
	"Business Application",
)
REQUEST_TYPES = (INQUIRY, COMPLAINT, SUGGESTION, BUSINESS_APPLICATION)
NORMAL, URGENT, EMERGENCY = "Normal", "Urgent", "Emergency"
URGENCIES = (NORMAL, URGENT, EMERGENCY)
CHANNELS = ("Branch Counter", "Phone", "App", "Email", "Letter", "Regulator Referral")
DEPARTMENTS = ("Operations", "Risk", "Product", "IT", "Compliance")


@dataclass(frozen=True)
class SlaRule:
	request_type: str
	urgency: str
	tier: str | None  # None: any tier
	response_hours: float
	resolution_hours: float


# (type, urgency) → (response h, resolution h) for Mass; VIP and High-end are tighter.
_BASE = {
	(INQUIRY, NORMAL): (24, 72),
	(INQUIRY, URGENT): (4, 24),
	(INQUIRY, EMERGENCY): (1, 8),
	(COMPLAINT, NORMAL): (24, 120),
	(COMPLAINT, URGENT): (4, 48),
	(COMPLAINT, EMERGENCY): (1, 24),
	(SUGGESTION, NORMAL): (48, 240),
	(SUGGESTION, URGENT): (24, 120),
	(SUGGESTION, EMERGENCY): (8, 72),
	(BUSINESS_APPLICATION, NORMAL): (24, 120),
	(BUSINESS_APPLICATION, URGENT): (8, 48),
	(BUSINESS_APPLICATION, EMERGENCY): (2, 24),
}
_TIER_FACTOR = {"VIP": 0.5, "High-end": 0.75, "Mass": 1.0}


def default_rules() -> tuple[SlaRule, ...]:
	"""The installed rules: every type × urgency × VIP / High-end / Mass."""
	return tuple(
		SlaRule(t, u, tier, max(1.0, round(r * f, 1)), max(1.0, round(s * f, 1)))
		for (t, u), (r, s) in _BASE.items()
		for tier, f in _TIER_FACTOR.items()
	)


def find_rule(
	rules: Iterable[SlaRule],
	request_type: str,
	urgency: str,
	tier: str | None,
	default_tier: str | None = None,
) -> SlaRule:
	"""The rule for a request: one for its tier wins over one for any tier; a customer not yet
	tiered is served under ``default_tier`` (the lowest tier) when no rule covers any tier."""
	if request_type not in REQUEST_TYPES:
		raise CoreValidationError("request_type", "Unknown request type {0}", request_type)
	if urgency not in URGENCIES:
		raise CoreValidationError("urgency", "Unknown urgency {0}", urgency)
	fallback = None
	for rule in rules:
		if rule.request_type != request_type or rule.urgency != urgency:
			continue
		if tier and rule.tier == tier:
			return rule
		if not rule.tier:
			fallback = fallback or rule
	if fallback:
		return fallback
	if default_tier and default_tier != tier:
		return find_rule(rules, request_type, urgency, default_tier)
	raise CoreValidationError(
		"request_type", "No SLA rule for {0} / {1} / {2}", request_type, urgency, tier or "-"
	)


@dataclass(frozen=True)
class Clocks:
	"""The SLA state of one request (times naive, in the site's time zone)."""

	registered_at: datetime
	response_due: datetime
	resolution_due: datetime
	responded_at: datetime | None = None
	resolved_at: datetime | None = None
	paused_since: datetime | None = None
	paused_seconds: int = 0

	@property
	def paused(self) -> bool:
		return self.paused_since is not None


def register(registered_at: datetime, rule: SlaRule) -> Clocks:
	return Clocks(
		registered_at=registered_at,
		response_due=registered_at + timedelta(hours=rule.response_hours),
		resolution_due=registered_at + timedelta(hours=rule.resolution_hours),
	)


def promised_feedback_date(clocks: Clocks) -> date:
	"""The date told to the customer: the day the resolution falls due."""
	return clocks.resolution_due.date()


def respond(clocks: Clocks, at: datetime) -> Clocks:
	return clocks if clocks.responded_at else replace(clocks, responded_at=at)


def pause(clocks: Clocks, at: datetime) -> Clocks:
	"""Waiting on the customer: the resolution clock stops (a first contact counts as response)."""
	if clocks.resolved_at:
		raise CoreValidationError("status", "A resolved request cannot wait on the customer")
	if clocks.paused:
		return clocks
	return replace(respond(clocks, at), paused_since=at)


def resume(clocks: Clocks, at: datetime) -> Clocks:
	"""The customer answered: the resolution deadline moves later by the time paused."""
	if not clocks.paused:
		return clocks
	waited = max(0, int((at - clocks.paused_since).total_seconds()))
	return replace(
		clocks,
		paused_since=None,
		paused_seconds=clocks.paused_seconds + waited,
		resolution_due=clocks.resolution_due + timedelta(seconds=waited),
	)


def resolve(clocks: Clocks, at: datetime) -> Clocks:
	clocks = resume(clocks, at)
	return replace(respond(clocks, at), resolved_at=at)


def reopen(clocks: Clocks, at: datetime, rule: SlaRule) -> Clocks:
	"""A dissatisfied customer reopens: a fresh resolution clock from now."""
	return replace(
		clocks,
		resolved_at=None,
		paused_since=None,
		resolution_due=max(clocks.resolution_due, at + timedelta(hours=rule.resolution_hours)),
	)


def active_deadline(clocks: Clocks) -> tuple[str, datetime] | None:
	"""The deadline the escalation watches: response, then resolution; none when paused or done."""
	if clocks.resolved_at:
		return None
	if not clocks.responded_at:
		return ("Response", clocks.response_due)
	if clocks.paused:
		return None
	return ("Resolution", clocks.resolution_due)


def remaining(due: datetime, now: datetime, stopped_at: datetime | None = None) -> timedelta:
	"""Time left until ``due`` (negative once breached); a stopped clock reads at its stop time."""
	return due - (stopped_at or now)


def met(due: datetime, done_at: datetime | None, now: datetime) -> bool | None:
	"""True/False when decided (done, or not done and past due), None while still running."""
	if done_at:
		return done_at <= due
	return False if now > due else None


def format_remaining(delta: timedelta) -> tuple[bool, int, int, int]:
	"""(overdue, days, hours, minutes) of a remaining time, for display."""
	overdue = delta.total_seconds() < 0
	seconds = int(abs(delta.total_seconds()))
	return overdue, seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
