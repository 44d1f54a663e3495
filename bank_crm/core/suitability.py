"""Suitability (适当性管理) with no database: a product is recommended only to a customer whose
assessed risk tolerance covers the product's risk level, while the assessment is in force.

- products carry R1–R5, customers C1–C5 from a questionnaire (score 0–100); Rn needs at least Cn;
- an assessment is valid for one year (``core.profile.assess_risk_tolerance``); with none in
  force only R1 products may be recommended;
- the same rule answers for every kind of recommendation: a need signal's suggested product, an
  Opportunity for a product, a marketing broadcast naming a product.

Reasons are English templates with arguments, translated where they are shown.
"""

from __future__ import annotations

from datetime import date

from bank_crm.core.errors import CoreValidationError
from bank_crm.core.profile import RISK_TOLERANCE_LEVELS

PRODUCT_RISKS = ("R1", "R2", "R3", "R4", "R5")
# questionnaire score (0–100) → risk tolerance: the upper bound of each band
SCORE_BANDS = ((20, "C1"), (40, "C2"), (60, "C3"), (80, "C4"), (100, "C5"))
REASSESS_WITHIN_DAYS = 30

ABOVE_LEVEL = "product {0} is rated {1}, above the customer's risk tolerance {2}"
NOT_ASSESSED = "product {0} is rated {1} and the customer has no risk assessment"
EXPIRED = "product {0} is rated {1} and the customer's risk assessment expired on {2}"


def tolerance_from_score(score: float | int | None) -> str | None:
	"""The risk tolerance (C1–C5) a questionnaire score gives; None for no score."""
	if score is None or score == "":
		return None
	value = float(score)
	if not 0 <= value <= 100:
		raise CoreValidationError(
			"risk_questionnaire_score", "must be between 0 and 100, not {0}", f"{value:g}"
		)
	for upper, level in SCORE_BANDS:
		if value <= upper:
			return level
	return SCORE_BANDS[-1][1]  # pragma: no cover - the bound check above makes this unreachable


def refusal(
	product: str,
	product_risk: str | None,
	tolerance: str | None,
	expires_on: date | None,
	today: date,
) -> tuple[str, tuple] | None:
	"""None when ``product`` may be recommended today, else the reason (template, args)."""
	if product_risk and product_risk not in PRODUCT_RISKS:
		raise CoreValidationError("risk_level", "{0} is not one of R1 to R5", product_risk)
	if not product_risk or product_risk == "R1":
		return None
	if not tolerance:
		return NOT_ASSESSED, (product, product_risk)
	if expires_on is None or today > expires_on:
		return EXPIRED, (product, product_risk, expires_on.isoformat() if expires_on else "-")
	if PRODUCT_RISKS.index(product_risk) > RISK_TOLERANCE_LEVELS.index(tolerance):
		return ABOVE_LEVEL, (product, product_risk, tolerance)
	return None


def expiring(expires_on: date | None, today: date, within_days: int = REASSESS_WITHIN_DAYS) -> bool:
	"""Whether an assessment expires within ``within_days`` (or has expired): time to reassess."""
	return expires_on is not None and (expires_on - today).days <= within_days


def first_suitable(
	candidates: list[tuple[str, str | None]],
	held: set[str],
	tolerance: str | None,
	expires_on: date | None,
	today: date,
) -> str | None:
	"""The first of ``candidates`` ((product, risk level), in the order of preference) that the
	customer does not hold yet and may be recommended today; None when none may."""
	for product, risk in candidates:
		if product not in held and refusal(product, risk, tolerance, expires_on, today) is None:
			return product
	return None


NONE_SUITABLE = "no {0} product suits the customer's risk tolerance"
