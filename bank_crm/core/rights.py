"""Personal-information rights (个人信息权利, PIPL arts. 44–47) and retention, with no database.

- a data-subject request is answered within 15 working days of its receipt (the day of receipt
  does not count; weekends and the bank's holidays do not count);
- deletion is refused, with the legal reason, while the relationship is in force or a retention
  obligation runs (anti-money-laundering records: 5 years after the relationship ends, by
  default); otherwise it is carried out as anonymisation;
- the retention job anonymises customers whose relationship ended longer ago than the longest
  retention period in force, and only those.

Reasons are English templates with arguments, translated where they are shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from bank_crm.core.dates import add_years

ACCESS = "Access"
CORRECTION = "Correction"
DELETION = "Deletion"
CONSENT_WITHDRAWAL = "Consent Withdrawal"
EXPLANATION = "Explanation"
REQUEST_TYPES = (ACCESS, CORRECTION, DELETION, CONSENT_WITHDRAWAL, EXPLANATION)

ANSWER_WORKING_DAYS = 15

RELATIONSHIP_IN_FORCE = "the customer still holds products or accounts with the bank (relationship in force)"
AML_RETENTION = (
	"anti-money-laundering records must be kept until {0} ({1} years after the relationship ended)"
)
OBLIGATION = "a retention obligation is in force: {0}"


@dataclass(frozen=True)
class RetentionPolicy:
	"""Years records are kept after the relationship ends (AML: 5 years, PBoC AML law art. 19)."""

	aml_years: int = 5
	other: tuple[tuple[str, int], ...] = ()  # (obligation, years after the end), e.g. a contract

	def longest(self) -> int:
		return max([self.aml_years, *(years for _, years in self.other)])


@dataclass(frozen=True)
class Deletion:
	allowed: bool
	reason: str | None = None
	args: tuple = ()
	retain_until: date | None = None


def answer_due(
	received: date, holidays: Iterable[date] = (), working_days: int = ANSWER_WORKING_DAYS
) -> date:
	"""The last day to answer: ``working_days`` working days after ``received``."""
	closed = set(holidays)
	day, left = received, working_days
	while left:
		day += timedelta(days=1)
		if day.weekday() < 5 and day not in closed:
			left -= 1
	return day


def deletion(
	relationship_in_force: bool,
	ended_on: date | None,
	today: date,
	policy: RetentionPolicy = RetentionPolicy(),
	open_obligations: Iterable[str] = (),
) -> Deletion:
	"""May the customer's personal information be deleted (anonymised) today, and if not, why."""
	if relationship_in_force or ended_on is None:
		return Deletion(False, RELATIONSHIP_IN_FORCE)
	obligations = [o for o in open_obligations if o]
	if obligations:
		return Deletion(False, OBLIGATION, (", ".join(obligations),))
	aml_until = add_years(ended_on, policy.aml_years)
	if today <= aml_until:
		return Deletion(False, AML_RETENTION, (aml_until.isoformat(), policy.aml_years), aml_until)
	for obligation, years in policy.other:
		until = add_years(ended_on, years)
		if today <= until:
			return Deletion(False, OBLIGATION, (obligation,), until)
	return Deletion(True)


def due_for_anonymisation(
	customers: Iterable[tuple[str, date | None, bool]],
	today: date,
	policy: RetentionPolicy = RetentionPolicy(),
) -> list[str]:
	"""Of ``(customer, relationship ended on, already anonymised)``, those whose every retention
	period has run out and who are not anonymised yet (a customer with no end date is in force)."""
	years = policy.longest()
	return [
		name
		for name, ended_on, done in customers
		if not done and ended_on is not None and today > add_years(ended_on, years)
	]
