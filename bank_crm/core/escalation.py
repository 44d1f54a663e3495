"""Escalation along a matrix: each level fires once per breach of a deadline.

A level fires ``offset_minutes`` after the deadline (negative: before it, a near-due
warning). The state of an item is the deadline it was escalated for and the highest level
reached; a new deadline (responded, extended, reopened) is a new breach and starts again.
``next_check`` is when the next level falls due — the indexed time the job looks for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bank_crm.core.errors import CoreValidationError

RM = "Relationship Manager"
BRANCH_MANAGER = "Branch Manager"
CONSUMER_PROTECTION = "Consumer Protection Officer"
RECIPIENTS = (RM, BRANCH_MANAGER, CONSUMER_PROTECTION)


@dataclass(frozen=True)
class Level:
	level: int
	recipient: str
	offset_minutes: int


DEFAULT_MATRIX = (
	Level(1, RM, -120),  # two hours before: a warning to the owning RM
	Level(2, BRANCH_MANAGER, 0),  # at the breach: the branch manager
	Level(3, CONSUMER_PROTECTION, 24 * 60),  # a day past: head-office consumer protection
)


def validate_matrix(levels: Iterable[Level]) -> tuple[Level, ...]:
	levels = tuple(sorted(levels, key=lambda lv: lv.level))
	if not levels:
		raise CoreValidationError("escalation_matrix", "The escalation matrix needs at least one level")
	seen = set()
	for i, lv in enumerate(levels):
		if lv.level in seen or lv.level < 1:
			raise CoreValidationError("escalation_matrix", "Level {0} is repeated or below 1", lv.level)
		seen.add(lv.level)
		if lv.recipient not in RECIPIENTS:
			raise CoreValidationError("escalation_matrix", "Unknown recipient {0}", lv.recipient)
		if i and lv.offset_minutes < levels[i - 1].offset_minutes:
			raise CoreValidationError(
				"escalation_matrix", "Level {0} fires before the level below it", lv.level
			)
	return levels


@dataclass(frozen=True)
class Plan:
	fire: tuple[Level, ...]  # levels to notify now, in order
	level: int  # highest level reached for ``deadline`` after firing
	deadline: datetime | None
	next_check: datetime | None  # when the next level is due; None: nothing more to do


def plan(
	deadline: datetime | None,
	now: datetime,
	reached_level: int,
	reached_deadline: datetime | None,
	matrix: Iterable[Level],
) -> Plan:
	"""What to escalate now for an item whose active deadline is ``deadline``."""
	if deadline is None:
		return Plan((), 0, None, None)
	if reached_deadline != deadline:
		reached_level = 0
	levels = [lv for lv in sorted(matrix, key=lambda lv: lv.level) if lv.level > reached_level]
	fire = tuple(lv for lv in levels if deadline + timedelta(minutes=lv.offset_minutes) <= now)
	level = max([reached_level, *(lv.level for lv in fire)])
	pending = [deadline + timedelta(minutes=lv.offset_minutes) for lv in levels if lv.level > level]
	return Plan(fire, level, deadline, min(pending) if pending else None)


def first_check(deadline: datetime | None, matrix: Iterable[Level]) -> datetime | None:
	"""When a fresh deadline first needs looking at (the lowest level's time)."""
	return plan(deadline, datetime.min, 0, None, matrix).next_check if deadline else None
