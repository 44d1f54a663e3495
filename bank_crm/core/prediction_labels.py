"""Training labels (预测标签): what happened to a customer in the horizon after an as-of date.

A label looks only at the window (as_of, as_of + horizon_days]: the as-of date itself is
excluded (it belongs to the features), the last day of the horizon included. Anything dated
at or before the as-of date, or after the horizon, is ignored, so that adding history to the
inputs never changes a label and no label leaks into the features.

- ``churned`` — the relationship ended in the window, or the total balance (deposits + AUM)
  at some snapshot in the window fell by ``drop_share`` or more against the last total at or
  before the as-of date.
- ``opened_category`` — a holding of the category was opened in the window.

A customer whose relationship ended at or before the as-of date is not at risk any more:
leave them out of the population (``churned`` ignores that end date like any other).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, timedelta

from bank_crm.core.errors import CoreValidationError


def horizon_end(as_of: date, horizon_days: int) -> date:
	"""The last day of the window: as_of + horizon_days (included)."""
	if horizon_days < 1:
		raise CoreValidationError("horizon_days", "The horizon must be at least one day")
	return as_of + timedelta(days=horizon_days)


def in_window(day: date | None, as_of: date, end: date) -> bool:
	"""Whether ``day`` falls in (as_of, end]: after the as-of date, up to the horizon's last day."""
	return day is not None and as_of < day <= end


def customer_on(as_of: date, relationship_since: date | None) -> bool:
	"""Whether someone was a customer on the as-of date (a training row): a relationship that
	began after it was unknown then (no start on file counts as known)."""
	return relationship_since is None or relationship_since <= as_of


def churned(
	as_of: date,
	horizon_days: int,
	relationship_ended_on: date | None,
	balance_before: float | None,
	balance_series_after: Iterable[tuple[date, float]],
	drop_share: float = 0.5,
) -> bool:
	"""Whether the relationship ended, or the total balance fell by ``drop_share``, in (as_of, as_of + horizon].

	``balance_before`` is the last total at or before as_of; with none, or one ≤ 0, only the
	end of the relationship counts. ``balance_series_after`` holds (snapshot date, total)
	pairs; those dated at or before as_of, after the horizon, or without a total are ignored.
	"""
	end = horizon_end(as_of, horizon_days)
	if not (0 < drop_share <= 1):
		raise CoreValidationError("drop_share", "The drop share must be above 0 and at most 1")
	if in_window(relationship_ended_on, as_of, end):
		return True
	if balance_before is None or balance_before <= 0:
		return False
	for day, total in balance_series_after:
		if total is None or not in_window(day, as_of, end):
			continue
		fall = (balance_before - total) / balance_before
		if fall >= drop_share or math.isclose(fall, drop_share):
			return True
	return False


def opened_category(
	as_of: date, horizon_days: int, openings: Iterable[tuple[date, str]], category: str
) -> bool:
	"""Whether a holding of ``category`` was opened in (as_of, as_of + horizon].

	``openings`` holds (opened_on, category) pairs; those opened at or before as_of or after
	the horizon are ignored, as are other categories.
	"""
	end = horizon_end(as_of, horizon_days)
	return any(cat == category and in_window(day, as_of, end) for day, cat in openings)
