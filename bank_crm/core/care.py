"""Care events: birthdays, relationship anniversaries and product maturities coming up.

``due_events`` lists the events whose date falls within the lead window (today … today + lead
days) of each kind. Each event has a key (kind, customer, event date), so the job that turns
events into greetings or RM tasks can store the key under a unique index and act once per
event, however often it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from bank_crm.core.dates import add_years

BIRTHDAY = "Birthday"
ANNIVERSARY = "Relationship Anniversary"
MATURITY = "Product Maturity"
RISK_REASSESSMENT = "Risk Reassessment"  # the suitability assessment expires (适当性)
EVENT_TYPES = (BIRTHDAY, ANNIVERSARY, MATURITY, RISK_REASSESSMENT)

GREETING = "Greeting"
RM_TASK = "RM Task"
BOTH = "Greeting and RM Task"
ACTIONS = (GREETING, RM_TASK, BOTH)


@dataclass(frozen=True)
class CareEvent:
	event_type: str
	customer: str
	event_date: date
	detail: str = ""  # e.g. the product that matures
	years: int | None = None  # age or years of relationship

	@property
	def key(self) -> str:
		return f"{self.event_type}|{self.customer}|{self.event_date.isoformat()}|{self.detail}"[:140]


def next_anniversary(origin: date, today: date) -> date:
	"""The first anniversary of ``origin`` on or after ``today`` (29 Feb → 28 Feb in common years)."""
	years = today.year - origin.year
	candidate = add_years(origin, years)
	if candidate < today:
		candidate = add_years(origin, years + 1)
	return candidate


def in_window(d: date, today: date, lead_days: int) -> bool:
	return today <= d <= today + timedelta(days=max(lead_days, 0))


def birthday_event(customer: str, born: date | None, today: date, lead_days: int) -> CareEvent | None:
	if not born or born > today:
		return None
	d = next_anniversary(born, today)
	return (
		CareEvent(BIRTHDAY, customer, d, years=d.year - born.year) if in_window(d, today, lead_days) else None
	)


def anniversary_event(customer: str, since: date | None, today: date, lead_days: int) -> CareEvent | None:
	if not since or since >= today:
		return None
	d = next_anniversary(since, today)
	years = d.year - since.year
	if years < 1 or not in_window(d, today, lead_days):
		return None
	return CareEvent(ANNIVERSARY, customer, d, years=years)


def maturity_events(
	customer: str, maturities: Iterable[tuple[str, date]], today: date, lead_days: int
) -> list[CareEvent]:
	return [
		CareEvent(MATURITY, customer, d, detail=product or "")
		for product, d in maturities
		if d and in_window(d, today, lead_days)
	]


def reassessment_event(
	customer: str, expires_on: date | None, today: date, lead_days: int
) -> CareEvent | None:
	"""The risk assessment expires within the lead window: time for the RM to reassess."""
	if not expires_on or not in_window(expires_on, today, lead_days):
		return None
	return CareEvent(RISK_REASSESSMENT, customer, expires_on)


def due_events(
	customer: str,
	born: date | None,
	since: date | None,
	maturities: Iterable[tuple[str, date]],
	today: date,
	lead_days: Mapping[str, int],
) -> list[CareEvent]:
	"""The customer's care events within each kind's lead window; a kind without a lead is off."""
	events = []
	if BIRTHDAY in lead_days:
		e = birthday_event(customer, born, today, lead_days[BIRTHDAY])
		if e:
			events.append(e)
	if ANNIVERSARY in lead_days:
		e = anniversary_event(customer, since, today, lead_days[ANNIVERSARY])
		if e:
			events.append(e)
	if MATURITY in lead_days:
		events.extend(maturity_events(customer, maturities, today, lead_days[MATURITY]))
	return events


def month_days_in_window(today: date, lead_days: int) -> list[str]:
	"""'MM-DD' strings of today … today + lead (and 02-29 when 28 Feb is in it), for a
	birthday query that picks only the customers whose day is near."""
	days = []
	for i in range(max(lead_days, 0) + 1):
		d = today + timedelta(days=i)
		days.append(d.strftime("%m-%d"))
		if d.month == 2 and d.day == 28:
			try:
				date(d.year, 2, 29)
			except ValueError:
				days.append("02-29")
	return days
