"""Features of a customer as of a date (预测特征), known before that date only.

Two steps, so that one piece of code serves training and nightly scoring:

1. ``Aggregates``: what the bank knew of one customer before the as-of date — the latest
   snapshot figures and those about 30 and 90 days earlier, event counts in windows that END
   the day before the as-of date, holdings opened before it (with their maturity dates, which
   are known from the opening), contacts, requests and complaints registered before it, and the
   tier and lifecycle stage the history tables give for the day before. ``aggregate`` computes
   them from a customer's plain rows; the Frappe shell computes the same numbers for many
   customers at once in SQL, and the integration tests hold the two against each other.
2. ``derive``: the model's feature vector from the aggregates (ratios, changes, flags), in the
   fixed order of ``FEATURES``.

Nothing on or after the as-of date enters: a row dated on it is tomorrow's news. A holding's
status is never read (its closing date is not on file, so "Closed" could be news from after the
as-of date). Gender and age are not features; they are used to check the model's fairness.

``describe`` turns a feature (and the customer's aggregates) into a reason key of
``core.reasons`` with its values, for the sentences an RM reads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta

from bank_crm.core.signals import FX_QUERY, LARGE_TRANSFER_OUT, SALARY_CREDIT

APP_LOGIN = "App Login"
PRODUCT_PURCHASE = "Product Purchase"
PRODUCT_REDEMPTION = "Product Redemption"
CARD_SPENDING = "Card Spending"
CATEGORIES = ("Deposit", "Wealth", "Fund", "Insurance", "Loan", "Card")
TIER_RANK = {"Mass": 0, "High-end": 1, "VIP": 2, "Private Banking": 3}
STAGE_RANK = {"Prospect": 0, "New": 1, "Stable": 2, "Mature": 3, "Churn Risk": 4, "Dormant": 5}
NO_LOGIN_DAYS = 365  # "days since the last login" of a customer who never logged in


@dataclass(frozen=True)
class Snapshot:
	as_of_date: date
	deposit_balance: float = 0.0
	loan_balance: float = 0.0
	aum: float = 0.0
	fee_income: float = 0.0
	products_held: int = 0


@dataclass(frozen=True)
class Event:
	event_time: datetime
	event_type: str
	amount: float = 0.0


@dataclass(frozen=True)
class Holding:
	category: str
	opened_on: date | None
	maturity_date: date | None = None


@dataclass(frozen=True)
class History:
	"""One customer's rows as they are on file (any dates; ``aggregate`` picks what it may see)."""

	relationship_since: date | None = None
	snapshots: tuple[Snapshot, ...] = ()
	events: tuple[Event, ...] = ()
	holdings: tuple[Holding, ...] = ()
	contacts: tuple[datetime, ...] = ()  # completed interactions (actual time)
	requests: tuple[datetime, ...] = ()  # service requests (registered)
	complaints: tuple[datetime, ...] = ()  # complaints (registered)
	tiers: tuple[tuple[date, str], ...] = ()  # tier history: (change date, new tier)
	stages: tuple[tuple[date, str], ...] = ()  # lifecycle history: (change date, new stage)


@dataclass(frozen=True)
class Aggregates:
	"""What was known of one customer before the as-of date (the inputs of ``derive``)."""

	deposit: float = 0.0
	aum: float = 0.0
	loan: float = 0.0
	fee_income: float = 0.0
	products_held: int = 0
	total_30d_ago: float | None = None  # deposits + AUM at the latest snapshot ≥ 30 days earlier
	total_90d_ago: float | None = None
	products_90d_ago: int | None = None
	has_snapshot: int = 0
	logins_30d: int = 0
	logins_prev_30d: int = 0  # in the 30 days before those
	days_since_login: int = NO_LOGIN_DAYS
	salary_credits_90d: int = 0
	large_outflows_90d: int = 0
	large_outflow_amount_90d: float = 0.0
	fx_queries_30d: int = 0
	purchases_90d: int = 0
	redemptions_90d: int = 0
	card_spend_30d: float = 0.0
	card_spend_prev_30d: float = 0.0
	holdings_open: int = 0
	maturing_30d: int = 0  # open holdings whose maturity falls in the 30 days from the as-of date
	held: frozenset[str] = field(default_factory=frozenset)  # categories held
	days_since_contact: int = NO_LOGIN_DAYS
	contacts_90d: int = 0
	requests_180d: int = 0
	complaints_180d: int = 0
	tenure_days: int = 0
	tier: str = ""
	stage: str = ""


FEATURES: tuple[str, ...] = (
	"total_balance",
	"deposit_balance",
	"aum",
	"loan_balance",
	"fee_income",
	"products_held",
	"has_snapshot",
	"balance_change_30d_pct",
	"balance_change_90d_pct",
	"products_change_90d",
	"logins_30d",
	"logins_prev_30d",
	"days_since_login",
	"salary_credits_90d",
	"large_outflows_90d",
	"large_outflow_share_90d",
	"fx_queries_30d",
	"purchases_90d",
	"redemptions_90d",
	"card_spend_30d",
	"card_spend_change_pct",
	"holdings_open",
	"maturing_30d",
	*(f"holds_{c.lower()}" for c in CATEGORIES),
	"days_since_contact",
	"contacts_90d",
	"requests_180d",
	"complaints_180d",
	"tenure_months",
	"tier_rank",
	"stage_rank",
)


# what each feature is, for the model card and the drift table (translated where shown)
LABELS: dict[str, str] = {
	"total_balance": "Total balance",
	"deposit_balance": "Deposit balance",
	"aum": "Assets under management",
	"loan_balance": "Loan balance",
	"fee_income": "Fee income",
	"products_held": "Products held",
	"has_snapshot": "Has a balance snapshot",
	"balance_change_30d_pct": "Balance change over 30 days (%)",
	"balance_change_90d_pct": "Balance change over 90 days (%)",
	"products_change_90d": "Change in products held over 90 days",
	"logins_30d": "Logins in the last 30 days",
	"logins_prev_30d": "Logins in the 30 days before",
	"days_since_login": "Days since the last login",
	"salary_credits_90d": "Salary credits in 90 days",
	"large_outflows_90d": "Large outflows in 90 days",
	"large_outflow_share_90d": "Largest outflow as a share of deposits (90 days)",
	"fx_queries_30d": "FX rate queries in 30 days",
	"purchases_90d": "Product purchases in 90 days",
	"redemptions_90d": "Redemptions in 90 days",
	"card_spend_30d": "Card spending in 30 days",
	"card_spend_change_pct": "Change in card spending (%)",
	"holdings_open": "Holdings open",
	"maturing_30d": "Holdings maturing within 30 days",
	**{f"holds_{c.lower()}": f"Holds {c} products" for c in CATEGORIES},
	"days_since_contact": "Days since the last contact",
	"contacts_90d": "Contacts in 90 days",
	"requests_180d": "Service requests in 180 days",
	"complaints_180d": "Complaints in 180 days",
	"tenure_months": "Months as a customer",
	"tier_rank": "Tier",
	"stage_rank": "Lifecycle stage",
}


def _before(as_of: date) -> datetime:
	"""The first moment of the as-of date: every time strictly before it is known."""
	return datetime.combine(as_of, datetime.min.time())


def _latest(snapshots: list[Snapshot], on_or_before: date) -> Snapshot | None:
	known = [s for s in snapshots if s.as_of_date <= on_or_before]
	return max(known, key=lambda s: s.as_of_date) if known else None


def _count(times: Iterable[datetime], start: datetime, end: datetime) -> int:
	return sum(1 for t in times if start <= t < end)


def aggregate(history: History, as_of: date) -> Aggregates:
	"""The customer's ``Aggregates`` from the rows dated before ``as_of`` only."""
	end = _before(as_of)
	yesterday = as_of - timedelta(days=1)
	snapshots = [s for s in history.snapshots if s.as_of_date < as_of]
	latest = _latest(snapshots, yesterday)
	ago30 = _latest(snapshots, as_of - timedelta(days=30))
	ago90 = _latest(snapshots, as_of - timedelta(days=90))
	events = [e for e in history.events if e.event_time < end]

	def times(event_type: str) -> list[datetime]:
		return [e.event_time for e in events if e.event_type == event_type]

	def window(days: int, offset: int = 0) -> tuple[datetime, datetime]:
		return end - timedelta(days=days + offset), end - timedelta(days=offset)

	logins = times(APP_LOGIN)
	outflows = [e for e in events if e.event_type == LARGE_TRANSFER_OUT and e.event_time >= window(90)[0]]
	open_holdings = [
		h
		for h in history.holdings
		if h.opened_on and h.opened_on < as_of and (h.maturity_date is None or h.maturity_date >= as_of)
	]
	contacts = [t for t in history.contacts if t < end]
	return Aggregates(
		deposit=latest.deposit_balance if latest else 0.0,
		aum=latest.aum if latest else 0.0,
		loan=latest.loan_balance if latest else 0.0,
		fee_income=latest.fee_income if latest else 0.0,
		products_held=latest.products_held if latest else 0,
		total_30d_ago=(ago30.deposit_balance + ago30.aum) if ago30 else None,
		total_90d_ago=(ago90.deposit_balance + ago90.aum) if ago90 else None,
		products_90d_ago=ago90.products_held if ago90 else None,
		has_snapshot=int(latest is not None),
		logins_30d=_count(logins, *window(30)),
		logins_prev_30d=_count(logins, *window(30, 30)),
		days_since_login=min(NO_LOGIN_DAYS, (as_of - max(logins).date()).days) if logins else NO_LOGIN_DAYS,
		salary_credits_90d=_count(times(SALARY_CREDIT), *window(90)),
		large_outflows_90d=len(outflows),
		large_outflow_amount_90d=sum(e.amount or 0.0 for e in outflows),
		fx_queries_30d=_count(times(FX_QUERY), *window(30)),
		purchases_90d=_count(times(PRODUCT_PURCHASE), *window(90)),
		redemptions_90d=_count(times(PRODUCT_REDEMPTION), *window(90)),
		card_spend_30d=_sum(events, CARD_SPENDING, *window(30)),
		card_spend_prev_30d=_sum(events, CARD_SPENDING, *window(30, 30)),
		holdings_open=len(open_holdings),
		maturing_30d=sum(
			1 for h in open_holdings if h.maturity_date and h.maturity_date < as_of + timedelta(days=30)
		),
		held=frozenset(h.category for h in open_holdings),
		days_since_contact=min(NO_LOGIN_DAYS, (as_of - max(contacts).date()).days)
		if contacts
		else NO_LOGIN_DAYS,
		contacts_90d=_count(contacts, *window(90)),
		requests_180d=_count(history.requests, *window(180)),
		complaints_180d=_count(history.complaints, *window(180)),
		tenure_days=max(0, (as_of - history.relationship_since).days)
		if history.relationship_since and history.relationship_since < as_of
		else 0,
		tier=_as_of(history.tiers, as_of),
		stage=_as_of(history.stages, as_of),
	)


def _sum(events: list[Event], event_type: str, start: datetime, end: datetime) -> float:
	return sum(e.amount or 0.0 for e in events if e.event_type == event_type and start <= e.event_time < end)


def _as_of(changes: tuple[tuple[date, str], ...], as_of: date) -> str:
	"""The value the latest change before the as-of date set (of changes on one day, the last
	recorded)."""
	known = sorted(((d, v) for d, v in changes if d and d < as_of), key=lambda dv: dv[0])
	return known[-1][1] if known else ""


def _change_pct(now: float, before: float | None) -> float:
	"""The change from ``before`` to ``now`` in percent, 0 without a positive base."""
	if before is None or before <= 0:
		return 0.0
	return round(100.0 * (now - before) / before, 4)


def derive(a: Aggregates) -> list[float]:
	"""The feature vector of ``FEATURES`` from one customer's aggregates."""
	total = (a.deposit or 0.0) + (a.aum or 0.0)
	values = {
		"total_balance": total,
		"deposit_balance": a.deposit,
		"aum": a.aum,
		"loan_balance": a.loan,
		"fee_income": a.fee_income,
		"products_held": a.products_held,
		"has_snapshot": a.has_snapshot,
		"balance_change_30d_pct": _change_pct(total, a.total_30d_ago),
		"balance_change_90d_pct": _change_pct(total, a.total_90d_ago),
		"products_change_90d": (a.products_held - a.products_90d_ago)
		if a.products_90d_ago is not None
		else 0,
		"logins_30d": a.logins_30d,
		"logins_prev_30d": a.logins_prev_30d,
		"days_since_login": a.days_since_login,
		"salary_credits_90d": a.salary_credits_90d,
		"large_outflows_90d": a.large_outflows_90d,
		"large_outflow_share_90d": min(5.0, a.large_outflow_amount_90d / total) if total > 0 else 0.0,
		"fx_queries_30d": a.fx_queries_30d,
		"purchases_90d": a.purchases_90d,
		"redemptions_90d": a.redemptions_90d,
		"card_spend_30d": a.card_spend_30d,
		"card_spend_change_pct": _change_pct(a.card_spend_30d, a.card_spend_prev_30d),
		"holdings_open": a.holdings_open,
		"maturing_30d": a.maturing_30d,
		**{f"holds_{c.lower()}": int(c in a.held) for c in CATEGORIES},
		"days_since_contact": a.days_since_contact,
		"contacts_90d": a.contacts_90d,
		"requests_180d": a.requests_180d,
		"complaints_180d": a.complaints_180d,
		"tenure_months": a.tenure_days // 30,
		"tier_rank": TIER_RANK.get(a.tier, -1),
		"stage_rank": STAGE_RANK.get(a.stage, -1),
	}
	return [float(values[name]) for name in FEATURES]


def features(history: History, as_of: date) -> dict[str, float]:
	"""Named features of one customer as of a date (``aggregate`` then ``derive``)."""
	return dict(zip(FEATURES, derive(aggregate(history, as_of)), strict=True))


def describe(feature: str, values: dict[str, float]) -> tuple[str, dict] | None:
	"""The reason (a key of ``core.reasons`` and its values) a feature stands for, given the
	customer's feature values; None for a feature with no sentence of its own."""
	v = values.get(feature, 0.0)
	if feature in ("balance_change_30d_pct", "balance_change_90d_pct"):
		days = 30 if "30d" in feature else 90
		if v < 0:
			return "balance_fell", {"pct": round(-v, 1), "days": days}
		if v > 0:
			return "balance_rose", {"pct": round(v, 1), "days": days}
		return None
	simple = {
		"days_since_login": ("no_app_login", {"days": int(v)}) if v >= 30 else None,
		"logins_30d": ("no_app_login", {"days": 30}) if v == 0 else None,
		"complaints_180d": ("complaints", {"count": int(v), "days": 180}) if v > 0 else None,
		"salary_credits_90d": (
			("salary_credits", {"count": int(v), "days": 90}) if v > 0 else ("salary_stopped", {"days": 90})
		),
		"large_outflows_90d": ("outflows_other_banks", {"count": int(v), "days": 90}) if v > 0 else None,
		"redemptions_90d": ("products_closed", {"count": int(v), "days": 90}) if v > 0 else None,
		"days_since_contact": ("no_rm_contact", {"days": int(v)}) if v >= 60 else None,
		"maturing_30d": ("maturity_soon", {"days": 30}) if v > 0 else None,
		"tenure_months": ("tenure_short", {"months": int(v)}) if v < 12 else None,
		"products_held": ("products_few", {"count": int(v)}) if v <= 2 else None,
		"fx_queries_30d": ("fx_queries", {"count": int(v), "days": 30}) if v > 0 else None,
		"card_spend_change_pct": ("card_spend_rose", {"pct": round(v, 1), "days": 30}) if v > 0 else None,
	}
	return simple.get(feature)


def aggregate_fields() -> tuple[str, ...]:
	"""The names of ``Aggregates``' fields, in order (the SQL shell returns them in this order)."""
	return tuple(f.name for f in fields(Aggregates))


def is_finite_vector(vector: list[float]) -> bool:
	return all(math.isfinite(x) for x in vector)
