"""Rules for a bank customer profile that need no database: risk tolerance, shareholdings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bank_crm.core.dates import add_years
from bank_crm.core.errors import CoreValidationError

RISK_TOLERANCE_LEVELS = ("C1", "C2", "C3", "C4", "C5")
RISK_ASSESSMENT_VALID_YEARS = 1


@dataclass(frozen=True)
class RiskAssessment:
	level: str | None
	assessed_on: date | None
	expires_on: date | None
	expired: bool
	# the highest product risk level that may be recommended today
	max_recommendable: str


def assess_risk_tolerance(level: str | None, assessed_on: date | None, today: date) -> RiskAssessment:
	"""An assessment older than one year is expired: until it is redone, nothing above C1.

	The assessment is valid up to and including the anniversary of its date.
	"""
	if level and level not in RISK_TOLERANCE_LEVELS:
		raise CoreValidationError("risk_tolerance", "{0} is not one of C1 to C5", level)
	if level and not assessed_on:
		raise CoreValidationError("risk_assessment_date", "is required when a risk tolerance level is set")
	if assessed_on and assessed_on > today:
		raise CoreValidationError("risk_assessment_date", "cannot be in the future")
	if not level:
		return RiskAssessment(None, assessed_on, None, True, "C1")
	expires_on = add_years(assessed_on, RISK_ASSESSMENT_VALID_YEARS)
	expired = today > expires_on
	return RiskAssessment(level, assessed_on, expires_on, expired, "C1" if expired else level)


def may_recommend(product_risk: str, assessment: RiskAssessment) -> bool:
	"""Whether a product of risk level ``product_risk`` (C1–C5) may be recommended."""
	return RISK_TOLERANCE_LEVELS.index(product_risk) <= RISK_TOLERANCE_LEVELS.index(
		assessment.max_recommendable
	)


def check_shareholdings(percentages: Iterable[float | None], field: str = "shareholders") -> float:
	"""Each holding is above 0 and at most 100 %, and together they never exceed 100 %.

	Returns the total. A rounding tolerance of 0.0001 percentage points applies.
	"""
	total = 0.0
	for row, pct in enumerate(percentages, start=1):
		pct = float(pct or 0)
		if pct <= 0 or pct > 100:
			raise CoreValidationError(field, "row {0}: a shareholding must be above 0% and at most 100%", row)
		total += pct
	if total > 100.0001:
		raise CoreValidationError(field, "shareholdings add up to {0}%, more than 100%", f"{total:g}")
	return round(total, 4)


def debt_to_asset_ratio(total_assets: float | None, total_liabilities: float | None) -> float | None:
	"""Liabilities over assets in percent, or None when assets are unknown or zero."""
	if not total_assets:
		return None
	return round(100.0 * float(total_liabilities or 0) / float(total_assets), 2)
