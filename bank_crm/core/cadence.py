"""Visit and contact cadence: which plan items a customer should have open, and when they are due.

A tier's service plan lists, per contact kind (visit, call, meeting, salon, message), how often
it happens. A customer may carry overrides (e.g. visits every month instead of every quarter)
with an expiry. From the effective plan, the last completed contact of each kind and the items
already open, ``plan_customer`` decides what to create, re-date or cancel:

- never two open items of the same kind for one customer;
- an item is re-dated only when the plan line behind it changed (tier move, new override,
  override expired), so a rerun with nothing changed decides nothing, and a date an RM moved by
  hand is kept;
- the first item of a kind, for a customer never contacted that way, is spread over the
  interval by a stable hash of the customer, so a new plan does not put a million customers due
  on one day.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from bank_crm.core.dates import add_months
from bank_crm.core.errors import CoreValidationError

VISIT = "Visit"
CALL = "Call"
MEETING = "Meeting"
SALON = "Salon"
MESSAGE = "Message"
CONTACT_KINDS = (VISIT, CALL, MEETING, SALON, MESSAGE)

DAY, WEEK, MONTH = "Day", "Week", "Month"
UNITS = (DAY, WEEK, MONTH)

RELATIONSHIP_MANAGER = "Relationship Manager"
BRANCH_MANAGER = "Branch Manager"
AUTOMATED = "Automated"
RESPONSIBLE = (RELATIONSHIP_MANAGER, BRANCH_MANAGER, AUTOMATED)


@dataclass(frozen=True)
class PlanLine:
	"""One kind of contact in a service plan: ``every`` ``unit``s (e.g. 3 Month)."""

	kind: str
	every: int
	unit: str = MONTH
	responsible: str = RELATIONSHIP_MANAGER
	theme: str = ""
	content_class: str = ""
	source: str = "Tier Plan"  # or "Override"

	@property
	def key(self) -> str:
		"""What identifies the cadence: an item planned under another key is re-planned."""
		return f"{self.every}{self.unit[0]}{'O' if self.source == 'Override' else ''}"

	def after(self, d: date) -> date:
		if self.unit == MONTH:
			return add_months(d, self.every)
		return d + timedelta(days=self.every * (7 if self.unit == WEEK else 1))

	@property
	def approx_days(self) -> int:
		return self.every * {DAY: 1, WEEK: 7, MONTH: 30}[self.unit]


@dataclass(frozen=True)
class Override:
	kind: str
	every: int
	unit: str = MONTH
	valid_until: date | None = None
	reason: str = ""


@dataclass(frozen=True)
class OpenItem:
	name: str
	kind: str
	due: date
	plan_key: str
	last_done: date | None = None


@dataclass
class PlanChanges:
	create: list[tuple[PlanLine, date, date | None]] = field(default_factory=list)  # line, due, last done
	redate: list[tuple[str, PlanLine, date]] = field(default_factory=list)  # item, line, new due
	cancel: list[str] = field(default_factory=list)

	def __bool__(self) -> bool:
		return bool(self.create or self.redate or self.cancel)


def check_line(every, unit, kind, index: int, fieldname: str = "contacts") -> None:
	if kind not in CONTACT_KINDS:
		raise CoreValidationError(fieldname, "row {0}: choose a contact kind", index)
	if unit not in UNITS:
		raise CoreValidationError(fieldname, "row {0}: choose days, weeks or months", index)
	if not isinstance(every, int) or every < 1:
		raise CoreValidationError(
			fieldname, "row {0}: the interval must be a whole number of at least 1", index
		)
	if unit == DAY and every > 3660 or unit == WEEK and every > 520 or unit == MONTH and every > 120:
		raise CoreValidationError(fieldname, "row {0}: the interval cannot be longer than ten years", index)


def check_plan(lines: Sequence[PlanLine], fieldname: str = "contacts") -> None:
	"""A plan names each contact kind once, with a valid interval."""
	seen = set()
	for i, line in enumerate(lines, 1):
		check_line(line.every, line.unit, line.kind, i, fieldname)
		if line.kind in seen:
			raise CoreValidationError(
				fieldname, "row {0}: {1} is already planned in another row", i, line.kind
			)
		seen.add(line.kind)


def effective_lines(
	tier_lines: Iterable[PlanLine], overrides: Iterable[Override], today: date
) -> dict[str, PlanLine]:
	"""The customer's plan: the tier's lines, replaced or extended by overrides in force."""
	lines = {line.kind: line for line in tier_lines}
	for o in overrides:
		if o.valid_until is not None and o.valid_until < today:
			continue
		base = lines.get(o.kind)
		lines[o.kind] = PlanLine(
			kind=o.kind,
			every=o.every,
			unit=o.unit,
			responsible=base.responsible if base else RELATIONSHIP_MANAGER,
			theme=base.theme if base else "",
			content_class=base.content_class if base else "",
			source="Override",
		)
	return lines


def spread_offset(customer: str, kind: str, days: int) -> int:
	"""A stable 0 … days-1 offset, so first items of a new plan spread over the interval."""
	if days <= 1:
		return 0
	return zlib.crc32(f"{customer}\x00{kind}".encode()) % days


def next_due(line: PlanLine, last_done: date | None, today: date, customer: str) -> date:
	"""When the next contact of this kind is due.

	After a contact: one interval later (possibly already past — that item is overdue). Never
	contacted this way: within the first interval from today, spread by customer.
	"""
	if last_done is not None:
		return line.after(last_done)
	return today + timedelta(days=spread_offset(customer, line.kind, line.approx_days))


def plan_customer(
	customer: str,
	lines: Mapping[str, PlanLine],
	open_items: Sequence[OpenItem],
	last_done: Mapping[str, date],
	today: date,
) -> PlanChanges:
	"""What to change so the customer has exactly one open item per planned kind.

	``lines``: the effective plan by kind; ``open_items``: the customer's open items;
	``last_done``: the last completed contact per kind, for kinds without an open item.
	"""
	changes = PlanChanges()
	by_kind: dict[str, OpenItem] = {}
	for item in sorted(open_items, key=lambda i: (i.due, i.name)):
		if item.kind in by_kind:  # a duplicate: keep the earliest
			changes.cancel.append(item.name)
		else:
			by_kind[item.kind] = item
	for kind, item in by_kind.items():
		if kind not in lines:
			changes.cancel.append(item.name)
	for kind, line in lines.items():
		item = by_kind.get(kind)
		if item is None:
			done = last_done.get(kind)
			changes.create.append((line, next_due(line, done, today, customer), done))
		elif item.plan_key != line.key:
			due = next_due(line, item.last_done, today, customer)
			changes.redate.append((item.name, line, due))
	return changes


def complete(line: PlanLine, done_on: date) -> date:
	"""Due date of the item that follows a contact completed on ``done_on``."""
	return line.after(done_on)
