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

import hashlib
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


# -- explanation of automated decisions (PIPL art. 24): why this score, why this tier ----------
@dataclass(frozen=True)
class Factor:
	label: str
	value: float | None
	weight: float | None
	contribution: float
	kind: str = "metric"  # "metric", "qualitative" or "risk"


@dataclass(frozen=True)
class TierLine:
	tier: str
	min_score: float
	min_aum: float | None = None
	min_deposit: float | None = None


Sentence = tuple[str, tuple]


def explanation(
	score: float | None,
	policy: str | None,
	snapshot_date: str | None,
	factors: Iterable[Factor],
	tier: str | None,
	tiers: Iterable[TierLine] = (),
	override: str | None = None,
) -> list[Sentence]:
	"""Plain sentences (template, args) saying how the score was reached and why the tier."""
	if policy is None or score is None:
		return [("No value score has been calculated for this customer yet.", ())]
	out: list[Sentence] = [
		(
			"The value score is {0} out of 100, calculated under the scoring policy {1} from the figures of {2}.",
			(f"{score:g}", policy, snapshot_date or "-"),
		)
	]
	for f in sorted(factors, key=lambda f: -abs(f.contribution)):
		if f.kind == "risk":
			if f.contribution:
				out.append(
					("The risk adjustment changed the score by {0} points.", (f"{f.contribution:+g}",))
				)
			continue
		out.append(
			(
				"{0}: {1}, weighted {2}%, contributed {3} points.",
				(
					f.label,
					"-" if f.value is None else f"{f.value:,.2f}",
					f"{f.weight or 0:g}",
					f"{f.contribution:g}",
				),
			)
		)
	lines = sorted(tiers, key=lambda t: -t.min_score)
	if override:
		out.append(("The tier {0} was set by an approved manual override, not by the score.", (override,)))
		return out
	for i, line in enumerate(lines):
		if line.tier != tier:
			continue
		out.append((_tier_sentence(line), _tier_args(line)))
		if score < line.min_score:
			out.append(
				(
					"The score is below that minimum but within the downgrade margin: the tier is kept until the score stays below it for the number of runs the policy sets.",
					(),
				)
			)
		if i > 0:
			better = lines[i - 1]
			gap = max(0.0, better.min_score - score)
			out.append(
				(
					"The next tier, {0}, needs a score of at least {1} ({2} points more) and any floors it sets.",
					(better.tier, f"{better.min_score:g}", f"{gap:g}"),
				)
			)
		break
	return out


def _tier_sentence(line: TierLine) -> str:
	if line.min_aum and line.min_deposit:
		return "The tier {0} needs a score of at least {1}, assets under management of at least {2} and deposits of at least {3}."
	if line.min_aum:
		return "The tier {0} needs a score of at least {1} and assets under management of at least {2}."
	if line.min_deposit:
		return "The tier {0} needs a score of at least {1} and deposits of at least {2}."
	return "The tier {0} needs a score of at least {1}."


def _tier_args(line: TierLine) -> tuple:
	args = [line.tier, f"{line.min_score:g}"]
	args += [f"{v:,.0f}" for v in (line.min_aum, line.min_deposit) if v]
	return tuple(args)


# -- anonymisation: what is replaced, per doctype ---------------------------------------------
NAME = "name"  # the customer's pseudonym
TEXT = "text"  # free text: replaced by ANONYMISED
CLEAR = "clear"  # identifiers, contact details, dates of birth, attachments: emptied
ANONYMISED = "[anonymised]"

# Every doctype of the app that names a customer (a Link to Customer or to the profile), with
# the fields that hold personal information; child tables under their parent. Codes, amounts,
# dates of business events, categories and statuses stay: they are the aggregates the bank
# keeps (tier history counts, complaint statistics). ``tests/test_rights_rules.py`` fails when
# a doctype linking a customer is missing here.
PLAN: dict[str, dict[str, str]] = {
	"Customer": {
		"customer_name": NAME,
		"mobile_no": CLEAR,
		"email_id": CLEAR,
		"tax_id": CLEAR,
		"customer_details": TEXT,
		"customer_primary_contact": CLEAR,
		"customer_primary_address": CLEAR,
		"primary_address": CLEAR,
		"image": CLEAR,
		"website": CLEAR,
	},
	"Bank Customer Profile": {
		"customer_name": NAME,
		"legal_name": NAME,
		"id_number": CLEAR,
		"id_number_masked": CLEAR,
		"id_number_hash": CLEAR,
		"date_of_birth": CLEAR,
		"occupation": CLEAR,
		"employer": CLEAR,
		"unified_social_credit_code": CLEAR,
		"legal_representative": CLEAR,
		"mobile_no": CLEAR,
		"email_id": CLEAR,
		"wechat_id": CLEAR,
		"app_user_id": CLEAR,
		"verification_outstanding": TEXT,
		"do_not_contact_reason": TEXT,
		"lifecycle_override_reason": TEXT,
	},
	"Bank Shareholder": {"shareholder_name": TEXT},
	"Bank Financing Need": {"notes": TEXT},
	"Bank Verification Check": {"remarks": TEXT, "evidence": CLEAR},
	"Bank Consent Record": {"withdrawal_evidence": TEXT, "evidence": CLEAR, "evidence_reference": TEXT},
	"Bank Plan Override": {"reason": TEXT},
	"Bank Care Event": {"customer_name": NAME, "note": TEXT},
	"Bank Interaction": {
		"customer_name": NAME,
		"subject": TEXT,
		"objective": TEXT,
		"outcome_notes": TEXT,
		"customer_feedback": TEXT,
		"next_steps": TEXT,
		"message": TEXT,
	},
	"Bank Interaction Follow-up": {"task": TEXT},
	"Bank Outbound Message": {
		"customer_name": NAME,
		"recipient": CLEAR,
		"subject": TEXT,
		"message": TEXT,
		"last_error": TEXT,
	},
	"Bank Visit Plan": {"customer_name": NAME, "subject": TEXT},
	"Bank Activity Event": {"attributes": CLEAR},
	"Bank Need Signal": {"customer_name": NAME, "summary": TEXT, "dismiss_reason": TEXT},
	"Bank Product Holding": {},
	"Bank Prediction Score": {},
	"Bank Broadcast Recipient": {"customer_name": NAME},
	"Bank Financial Snapshot": {"customer_name": NAME},
	"Bank Lifecycle History": {"customer_name": NAME},
	"Bank Tier History": {"customer_name": NAME},
	"Bank Tier Override": {"customer_name": NAME, "reason": TEXT},
	"Bank Complaint": {
		"customer_name": NAME,
		"subject": TEXT,
		"description": TEXT,
		"extension_reason": TEXT,
		"resolution_proposal": TEXT,
		"rejection_reason": TEXT,
	},
	"Bank Escalation Log": {},
	"Bank Service Request": {
		"customer_name": NAME,
		"subject": TEXT,
		"description": TEXT,
		"attachment": CLEAR,
		"resolution": TEXT,
		"satisfaction_comment": TEXT,
	},
	"Bank Request Update": {"message": TEXT},
	"Bank Request Task": {"description": TEXT},
	"Bank Rectification Action": {},  # the bank's own corrective action
	"Bank Data Subject Request": {
		"customer_name": NAME,
		"details": TEXT,
		"identity_note": TEXT,
		"answer": TEXT,
		"export_json": CLEAR,
		"export_pdf": CLEAR,
	},
}


def pseudonym(customer: str) -> str:
	"""The stable name an anonymised customer goes by (no way back to the person); a name that
	is already a pseudonym stays as it is."""
	if customer.startswith("ANON-"):
		return customer
	return "ANON-" + hashlib.sha256(customer.encode()).hexdigest()[:10].upper()


def replacement(kind: str, customer: str):
	if kind == NAME:
		return pseudonym(customer)
	if kind == TEXT:
		return ANONYMISED
	return None
