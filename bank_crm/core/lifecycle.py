"""Lifecycle stages (生命周期): Prospect, New, Stable, Mature, Churn Risk, Dormant.

Decided by rules over tenure, product depth, contribution and the balance trend across
snapshots, checked in this order (the first that applies wins):

1. Prospect — no financial snapshot yet, or no product held.
2. New — a customer for fewer than ``new_days`` days.
3. Dormant — total balance (deposits + AUM) below ``dormant_balance`` and no loan, now and
   in the snapshot about ``dormant_days`` earlier (a customer for at least that long).
4. Churn Risk — total balance fell by ``churn_drop_pct`` % or more against the snapshot about
   ``trend_days`` days earlier, or product depth fell.
5. Mature — a customer for ``mature_years`` years or more, holding ``mature_products``
   products or more and contributing ``mature_fee_income`` or more.
6. Stable — everyone else.

Each decision carries a reason (an untranslated template and its arguments) for the history.
An RM's override wins until it expires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

PROSPECT, NEW, STABLE, MATURE, CHURN_RISK, DORMANT = (
	"Prospect",
	"New",
	"Stable",
	"Mature",
	"Churn Risk",
	"Dormant",
)
STAGES = (PROSPECT, NEW, STABLE, MATURE, CHURN_RISK, DORMANT)


@dataclass(frozen=True)
class LifecycleRules:
	new_days: int = 180
	mature_years: int = 3
	mature_products: int = 3
	mature_fee_income: float = 1000.0
	churn_drop_pct: float = 30.0
	trend_days: int = 90
	dormant_balance: float = 100.0
	dormant_days: int = 365


@dataclass(slots=True)
class LifecycleInput:
	tenure_days: int
	has_snapshot: bool
	products_held: int = 0
	fee_income: float = 0.0
	total_balance: float = 0.0  # deposits + AUM, latest snapshot
	loan_balance: float = 0.0
	previous_total_balance: float | None = None  # the snapshot about trend_days earlier
	previous_products_held: int | None = None
	year_ago_total_balance: float | None = None  # the snapshot about dormant_days earlier


class StageDecision(NamedTuple):
	stage: str
	reason: str  # English template with {0} placeholders
	args: tuple = ()


def decide_stage(rules: LifecycleRules, x: LifecycleInput) -> StageDecision:
	if not x.has_snapshot:
		return StageDecision(PROSPECT, "no financial data yet")
	if x.products_held <= 0 and x.loan_balance <= 0:
		return StageDecision(PROSPECT, "holds no product")
	if x.tenure_days < rules.new_days:
		return StageDecision(NEW, "customer for {0} days (under {1})", (x.tenure_days, rules.new_days))
	if (
		x.total_balance < rules.dormant_balance
		and x.loan_balance <= 0
		and x.tenure_days >= rules.dormant_days
		and (x.year_ago_total_balance is None or x.year_ago_total_balance < rules.dormant_balance)
	):
		return StageDecision(
			DORMANT,
			"balance {0} below {1} with no activity for a year",
			(round(x.total_balance, 2), rules.dormant_balance),
		)
	if x.previous_total_balance and x.previous_total_balance > 0:
		change = 100.0 * (x.total_balance - x.previous_total_balance) / x.previous_total_balance
		if change <= -rules.churn_drop_pct:
			return StageDecision(
				CHURN_RISK, "balance fell {0}% in {1} days", (round(-change, 1), rules.trend_days)
			)
	if x.previous_products_held is not None and x.products_held < x.previous_products_held:
		return StageDecision(
			CHURN_RISK, "products held fell from {0} to {1}", (x.previous_products_held, x.products_held)
		)
	if (
		x.tenure_days >= 365 * rules.mature_years
		and x.products_held >= rules.mature_products
		and x.fee_income >= rules.mature_fee_income
	):
		return StageDecision(
			MATURE,
			"{0} years, {1} products, fee income {2}",
			(x.tenure_days // 365, x.products_held, round(x.fee_income, 2)),
		)
	return StageDecision(STABLE, "steady relationship")


# every reason ``decide_stage`` gives (English templates; the stored text is one of them filled in)
REASONS = (
	"no financial data yet",
	"holds no product",
	"customer for {0} days (under {1})",
	"balance {0} below {1} with no activity for a year",
	"balance fell {0}% in {1} days",
	"products held fell from {0} to {1}",
	"{0} years, {1} products, fee income {2}",
	"steady relationship",
	"RM override until {0}",
)


def _pattern(template: str) -> re.Pattern:
	parts = re.split(r"\{(\d+)\}", template)
	regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<a{p}>.+?)" for i, p in enumerate(parts))
	return re.compile(f"^{regex}$")


_PATTERNS = tuple((template, _pattern(template)) for template in REASONS)


def parse_reason(text: str | None) -> tuple[str, tuple] | None:
	"""The template and values of a stored reason (``decide_stage``'s template filled in), so that
	it can be shown in the reader's language; None for any other text."""
	for template, pattern in _PATTERNS:
		match = pattern.match(text or "")
		if match:
			values = match.groupdict()
			return template, tuple(values[f"a{i}"] for i in range(len(values)))
	return None


def override_active(stage: str | None, until: date | None, today: date) -> bool:
	return bool(stage) and until is not None and until >= today
