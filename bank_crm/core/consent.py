"""The consent ledger (PIPL): per purpose and channel, granted and withdrawn, with evidence.

A ledger row is never deleted or rewritten: a withdrawal sets ``withdrawn_on`` on the row that
granted the consent, and a renewed consent is a new row. Marketing and broadcasts ask
``has_consent`` before they contact anyone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bank_crm.core.errors import CoreValidationError

SERVICE = "Service"
MARKETING = "Marketing"
DATA_SHARING = "Data Sharing"
SENSITIVE_DATA = "Sensitive Data"
# PIPL article 24: scoring a customer by a model for marketing (product propensity). Allowed until
# the customer objects — a withdrawn row of this purpose with none in force after it.
PROFILING = "Automated Profiling"
PURPOSES = (SERVICE, MARKETING, DATA_SHARING, SENSITIVE_DATA, PROFILING)

ALL_CHANNELS = "All Channels"
CHANNELS = (ALL_CHANNELS, "Visit", "Phone", "SMS", "Email", "App Push", "WeChat")

# fields of a row that may never change once recorded
IMMUTABLE_FIELDS = ("purpose", "channel", "granted_on", "evidence_type", "evidence")


@dataclass(frozen=True)
class ConsentRecord:
	purpose: str
	channel: str
	granted_on: datetime
	withdrawn_on: datetime | None = None


def has_consent(records: Iterable[ConsentRecord], purpose: str, channel: str, at: datetime) -> bool:
	"""Whether a consent for ``purpose`` on ``channel`` (or all channels) is in force at ``at``."""
	for r in records:
		if r.purpose != purpose or r.channel not in (channel, ALL_CHANNELS):
			continue
		if r.granted_on <= at and (r.withdrawn_on is None or r.withdrawn_on > at):
			return True
	return False


def objects_to_profiling(records: Iterable[ConsentRecord], at: datetime) -> bool:
	"""Whether the customer has objected to automated profiling for marketing (PIPL article 24):
	a consent of the purpose was withdrawn and none is in force now."""
	records = [r for r in records if r.purpose == PROFILING]
	withdrawn = any(r.withdrawn_on is not None and r.withdrawn_on <= at for r in records)
	return withdrawn and not has_consent(records, PROFILING, ALL_CHANNELS, at)


def check_row(row: Mapping, index: int, field: str = "consents") -> None:
	"""One ledger row is complete and consistent."""
	if row.get("purpose") not in PURPOSES:
		raise CoreValidationError(field, "row {0}: choose a purpose", index)
	if row.get("channel") not in CHANNELS:
		raise CoreValidationError(field, "row {0}: choose a channel", index)
	if not row.get("granted_on"):
		raise CoreValidationError(field, "row {0}: the date of consent is required", index)
	if not row.get("evidence_type"):
		raise CoreValidationError(field, "row {0}: say what evidence the consent rests on", index)
	withdrawn = row.get("withdrawn_on")
	if withdrawn and withdrawn < row["granted_on"]:
		raise CoreValidationError(field, "row {0}: a consent cannot be withdrawn before it was given", index)


def check_ledger_change(
	before: Mapping[str, Mapping], after: Mapping[str, Mapping], field: str = "consents"
) -> None:
	"""Rows kept by id: none removed, none rewritten; a withdrawal, once recorded, stays.

	``before`` and ``after`` map a row id to the row's values.
	"""
	for row_id, old in before.items():
		new = after.get(row_id)
		if new is None:
			raise CoreValidationError(
				field, "consent records cannot be deleted; record a withdrawal on the row instead"
			)
		for key in IMMUTABLE_FIELDS:
			if _norm(old.get(key)) != _norm(new.get(key)):
				raise CoreValidationError(
					field, "a recorded consent cannot be changed ({0}); add a new row instead", key
				)
		if old.get("withdrawn_on") and _norm(old.get("withdrawn_on")) != _norm(new.get("withdrawn_on")):
			raise CoreValidationError(field, "a recorded withdrawal cannot be changed or undone")


def _norm(value):
	if isinstance(value, datetime):
		return value.replace(microsecond=0).isoformat(sep=" ")
	return str(value or "").strip()[:19]
