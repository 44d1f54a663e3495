"""The regulator's clock for complaints, in calendar days from registration.

A decision is due within 15 calendar days; a complex case may take up to 30; a further 30
only with an extension that was requested with a reason and approved by someone other than
the handler — once. The deadline is the end of its day. Who may handle and approve:
the handler is never the staff member complained about; the approver is a Branch Manager or
Consumer Protection Officer who is not the handler.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from bank_crm.core.errors import CoreValidationError

DECISION_DAYS = 15
COMPLEX_DAYS = 30
EXTENSION_DAYS = 30

SOURCE_STANDARD = "Standard (15 days)"
SOURCE_COMPLEX = "Complex case (30 days)"
SOURCE_EXTENDED = "Approved extension (+30 days)"

NO_EXTENSION, REQUESTED, APPROVED, REJECTED = "", "Requested", "Approved", "Rejected"
APPROVER_ROLES = frozenset({"Branch Manager", "Consumer Protection Officer"})


@dataclass(frozen=True)
class Clock:
	registered_on: date
	is_complex: bool = False
	extension: str = NO_EXTENSION
	extension_reason: str = ""
	extension_requested_by: str | None = None
	extension_approved_by: str | None = None
	decided_on: date | None = None


def deadline(clock: Clock) -> tuple[date, str]:
	"""The decision deadline in force and where it comes from."""
	if clock.extension == APPROVED:
		return clock.registered_on + timedelta(days=COMPLEX_DAYS + EXTENSION_DAYS), SOURCE_EXTENDED
	if clock.is_complex:
		return clock.registered_on + timedelta(days=COMPLEX_DAYS), SOURCE_COMPLEX
	return clock.registered_on + timedelta(days=DECISION_DAYS), SOURCE_STANDARD


def deadline_at(clock: Clock) -> datetime:
	"""The end of the deadline's day (calendar days: weekends and holidays count)."""
	return datetime.combine(deadline(clock)[0], time(23, 59, 59))


def days_elapsed(clock: Clock, today: date) -> int:
	return ((clock.decided_on or today) - clock.registered_on).days


def days_left(clock: Clock, today: date) -> int:
	"""Calendar days to the deadline (0 on its day, negative once past)."""
	return (deadline(clock)[0] - (clock.decided_on or today)).days


def met(clock: Clock, today: date) -> bool | None:
	if clock.decided_on:
		return clock.decided_on <= deadline(clock)[0]
	return False if today > deadline(clock)[0] else None


def request_extension(clock: Clock, reason: str, by: str) -> Clock:
	"""Ask for the further 30 days: once, with a reason, for a complex case not yet decided."""
	if clock.extension:
		raise CoreValidationError("extension_status", "An extension can be requested only once")
	if not (reason or "").strip():
		raise CoreValidationError("extension_reason", "An extension needs a reason")
	if clock.decided_on:
		raise CoreValidationError("extension_status", "The complaint is already decided")
	return replace(
		clock,
		is_complex=True,
		extension=REQUESTED,
		extension_reason=reason.strip(),
		extension_requested_by=by,
	)


def decide_extension(
	clock: Clock, approve: bool, by: str, roles: Iterable[str], handler: str | None
) -> Clock:
	"""Approve or reject a requested extension; only an approver who is not the handler."""
	if clock.extension != REQUESTED:
		raise CoreValidationError("extension_status", "There is no extension request to decide")
	check_approver(by, roles, handler)
	return replace(clock, extension=APPROVED if approve else REJECTED, extension_approved_by=by)


def check_approver(user: str, roles: Iterable[str], handler: str | None) -> None:
	if not set(roles) & APPROVER_ROLES:
		raise CoreValidationError(
			"approved_by", "Only a Branch Manager or Consumer Protection Officer may approve"
		)
	if handler and user == handler:
		raise CoreValidationError("approved_by", "The handler {0} cannot approve their own complaint", user)


def check_handler(handler: str | None, subject_staff: str | None) -> None:
	"""Recusal: nobody handles a complaint about themselves."""
	if handler and subject_staff and handler == subject_staff:
		raise CoreValidationError(
			"handler", "{0} is the subject of this complaint and cannot handle it", handler
		)
