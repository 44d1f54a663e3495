"""Multi-source verification (多方交叉验证): derived status and re-verification due date.

A profile carries checks (identity, address, income, business licence, beneficial owners …),
each with a source, a result and a date. Only the latest check of each type counts. The
profile is Verified when every check type its kind requires has a latest result of Passed;
the re-verification date is the earliest of those pass dates plus the interval for the
customer's risk level (high risk: every year; medium: two years; low: three years by default,
as customer due-diligence practice asks). After that date the status is Lapsed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from bank_crm.core.dates import add_years

INDIVIDUAL = "Individual"
CORPORATE = "Corporate"

# check types
IDENTITY = "Identity"
ADDRESS = "Address"
INCOME = "Income"
EMPLOYMENT = "Employment"
PHONE = "Phone"
BUSINESS_LICENCE = "Business Licence"
LEGAL_REPRESENTATIVE = "Legal Representative"
BENEFICIAL_OWNERS = "Beneficial Owners"
CHECK_TYPES = (
	IDENTITY,
	ADDRESS,
	INCOME,
	EMPLOYMENT,
	PHONE,
	BUSINESS_LICENCE,
	LEGAL_REPRESENTATIVE,
	BENEFICIAL_OWNERS,
)
SOURCES = ("Document", "Third Party", "In Person")

# results
PENDING = "Pending"
PASSED = "Passed"
FAILED = "Failed"
RESULTS = (PENDING, PASSED, FAILED)

# derived statuses
UNVERIFIED = "Unverified"
IN_PROGRESS = "In Progress"
VERIFIED = "Verified"
FAILED_STATUS = "Failed"
LAPSED = "Lapsed"
STATUSES = (UNVERIFIED, IN_PROGRESS, VERIFIED, FAILED_STATUS, LAPSED)

REQUIRED_CHECKS = {
	INDIVIDUAL: (IDENTITY, ADDRESS),
	CORPORATE: (BUSINESS_LICENCE, LEGAL_REPRESENTATIVE, BENEFICIAL_OWNERS),
}

RISK_LEVELS = ("Low", "Medium", "High")
DEFAULT_INTERVAL_YEARS = {"Low": 3, "Medium": 2, "High": 1}


@dataclass(frozen=True)
class Check:
	check_type: str
	result: str
	checked_on: date | None
	source: str | None = None


@dataclass(frozen=True)
class VerificationState:
	status: str
	due_on: date | None
	missing: tuple[str, ...]  # required types with no passed latest check
	failed: tuple[str, ...]  # types whose latest check failed


def latest_by_type(checks: Iterable[Check]) -> dict[str, Check]:
	"""The latest check of each type; a dated check beats an undated one, later rows win ties."""
	latest: dict[str, Check] = {}
	for check in checks:
		current = latest.get(check.check_type)
		if current is None or (check.checked_on or date.min) >= (current.checked_on or date.min):
			latest[check.check_type] = check
	return latest


def derive(
	profile_type: str,
	checks: Iterable[Check],
	risk_level: str | None,
	today: date,
	interval_years: Mapping[str, int] | None = None,
) -> VerificationState:
	"""The profile's verification status and re-verification due date."""
	intervals = {**DEFAULT_INTERVAL_YEARS, **(interval_years or {})}
	required = REQUIRED_CHECKS.get(profile_type, ())
	latest = latest_by_type(checks)
	failed = tuple(t for t, c in latest.items() if c.result == FAILED)
	missing = tuple(
		t for t in required if t not in latest or latest[t].result != PASSED or not latest[t].checked_on
	)
	if not latest:
		return VerificationState(UNVERIFIED, None, missing, failed)
	if failed:
		return VerificationState(FAILED_STATUS, None, missing, failed)
	if missing:
		return VerificationState(IN_PROGRESS, None, missing, failed)
	years = intervals.get(risk_level or "Medium", intervals["Medium"])
	due_on = add_years(min(latest[t].checked_on for t in required), years)
	status = LAPSED if today > due_on else VERIFIED
	return VerificationState(status, due_on, missing, failed)
