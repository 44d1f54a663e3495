"""Need-signal rules (需求识别规则): when a customer's behaviour says they need something.

A rule measures one thing over a window — events of some types (count, sum of amounts,
distinct days, consecutive months, the largest single amount as a share of the deposit
balance), the fall of a balance, or holdings that mature soon — compares it with a
threshold, and may add conditions on holdings, balances, tier and lifecycle stage. A signal is
raised for a customer and rule only outside the rule's cooldown and when no signal of that
rule is still open for the customer. Evidence says what was measured and on what.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

COUNT, SUM, DISTINCT_DAYS, CONSECUTIVE_MONTHS, LARGEST_SHARE = (
	"Count",
	"Sum of Amounts",
	"Distinct Days",
	"Consecutive Months",
	"Largest Amount as % of Deposits",
)
BALANCE_DROP, MATURING = "Balance Fall %", "Holdings Maturing"
MODEL_SCORE = "Model Score"  # a probability (%) from the active churn model: raised by the scoring run
EVENT_MEASURES = (COUNT, SUM, DISTINCT_DAYS, CONSECUTIVE_MONTHS, LARGEST_SHARE)
MEASURES = (*EVENT_MEASURES, BALANCE_DROP, MATURING, MODEL_SCORE)
BALANCE_METRICS = ("deposit_balance", "aum", "total_balance")

EVENTS, SNAPSHOTS, HOLDINGS, SCORES = "events", "snapshots", "holdings", "scores"
MAX_EVIDENCE_EVENTS = 20


@dataclass(frozen=True)
class Rule:
	name: str
	category: str
	measure: str
	threshold: float
	window_days: int
	cooldown_days: int
	priority: int = 2
	event_types: frozenset[str] = frozenset()
	balance_metric: str = "deposit_balance"
	# optional conditions
	min_balance_drop_pct: float | None = None
	balance_days: int = 90
	holds_category: str | None = None
	lacks_category: str | None = None
	maturing_category: str | None = None
	maturing_within_days: int | None = None
	tiers: frozenset[str] = frozenset()
	stages: frozenset[str] = frozenset()
	# a model-score rule acts on the churn probability, or with a category on that propensity
	propensity_category: str | None = None

	@property
	def needs_balances(self) -> bool:
		"""Whether evaluating the rule reads the customer's balances (snapshots)."""
		return self.measure in (BALANCE_DROP, LARGEST_SHARE) or self.min_balance_drop_pct is not None

	@property
	def needs_holdings(self) -> bool:
		"""Whether evaluating the rule reads the customer's product holdings."""
		return bool(
			self.measure == MATURING or self.holds_category or self.lacks_category or self.maturing_category
		)

	@property
	def trigger(self) -> str:
		"""Which new data makes the rule worth checking again for a customer."""
		if self.measure in EVENT_MEASURES:
			return EVENTS
		if self.measure == MODEL_SCORE:
			return SCORES  # the nightly scoring decides it, not the detection run
		return SNAPSHOTS if self.measure == BALANCE_DROP else HOLDINGS


@dataclass(frozen=True)
class Event:
	name: str
	event_type: str
	time: datetime
	amount: float | None = None


@dataclass(frozen=True)
class Holding:
	product: str
	category: str
	status: str = "Active"
	maturity_date: date | None = None
	amount: float = 0.0


@dataclass(frozen=True)
class Customer:
	name: str
	tier: str | None = None
	stage: str | None = None
	deposit_balance: float | None = None
	# metric → {days back: value} from the snapshots: {"deposit_balance": {0: now, 90: then}}
	balances: Mapping[str, Mapping[int, float]] = field(default_factory=dict)
	holdings: tuple[Holding, ...] = ()


@dataclass(frozen=True)
class Evidence:
	value: float
	threshold: float
	window_from: datetime
	window_to: datetime
	events: tuple[str, ...] = ()
	event_count: int = 0
	amount_total: float | None = None
	details: Mapping[str, object] = field(default_factory=dict)

	def as_dict(self) -> dict:
		return {
			"value": round(self.value, 4),
			"threshold": self.threshold,
			"window_from": self.window_from.isoformat(sep=" "),
			"window_to": self.window_to.isoformat(sep=" "),
			"events": list(self.events),
			"event_count": self.event_count,
			"amount_total": None if self.amount_total is None else round(self.amount_total, 2),
			**{k: v for k, v in self.details.items()},
		}


def validate(rule: Rule) -> list[tuple[str, str]]:
	"""(field, reason) for every inconsistency of a rule, as untranslated templates."""
	problems = []
	if rule.measure not in MEASURES:
		problems.append(("measure", "must be one of the measures"))
	if rule.measure in EVENT_MEASURES and not rule.event_types:
		problems.append(("event_types", "name at least one event type for this measure"))
	if rule.window_days < 1 or rule.window_days > 3660:
		problems.append(("window_days", "must be between 1 and 3660 days"))
	if rule.cooldown_days < 0 or rule.cooldown_days > 3660:
		problems.append(("cooldown_days", "must be between 0 and 3660 days"))
	if rule.threshold <= 0:
		problems.append(("threshold", "must be greater than zero"))
	if rule.measure == MATURING and not rule.maturing_category:
		problems.append(("maturing_category", "name the product category whose maturity counts"))
	if rule.balance_metric not in BALANCE_METRICS:
		problems.append(("balance_metric", "must be deposit_balance, aum or total_balance"))
	if rule.min_balance_drop_pct is not None and not 0 < rule.min_balance_drop_pct <= 100:
		problems.append(("min_balance_drop_pct", "must be a percentage between 0 and 100"))
	if rule.holds_category and rule.holds_category == rule.lacks_category:
		problems.append(("lacks_category", "cannot be the category the customer must hold"))
	if rule.measure == MODEL_SCORE and rule.threshold > 100:
		problems.append(("threshold", "a model score is a probability: at most 100"))
	if rule.propensity_category and rule.measure != MODEL_SCORE:
		problems.append(("propensity_category", "only a model-score rule acts on a propensity"))
	return problems


def model_score(
	rule: Rule, churn_probability: float | None, propensities: Mapping[str, float]
) -> float | None:
	"""The score (%) a model-score rule reads: the churn probability (already in %), or the
	propensity (a 0–1 share) for the rule's category; None when the customer has none."""
	if rule.measure != MODEL_SCORE:
		return None
	if rule.propensity_category:
		share = propensities.get(rule.propensity_category)
		return None if share is None else round(100 * float(share), 1)
	return None if churn_probability is None else float(churn_probability)


def score_entering(rule: Rule, before: float | None, after: float | None) -> bool:
	"""Whether a customer's model score has just reached the rule's threshold (the nightly
	scoring raises a signal only on the way in, not every night the score stays high)."""
	return after is not None and after >= rule.threshold and (before or 0) < rule.threshold


def months_back(moment: datetime, months: int) -> tuple[int, int]:
	index = moment.year * 12 + moment.month - 1 - months
	return index // 12, index % 12 + 1


def consecutive_months(times: Iterable[datetime]) -> int:
	"""The longest run of consecutive calendar months with at least one event, ending at the
	month of the latest event."""
	months = {(t.year, t.month) for t in times}
	if not months:
		return 0
	latest = max(months)
	run = 0
	while months_back(datetime(latest[0], latest[1], 1), run) in months:
		run += 1
	return run


def _balance_fall(customer: Customer, metric: str, days: int) -> float | None:
	figures = customer.balances.get(metric) or {}
	now, then = figures.get(0), figures.get(days)
	if now is None or not then or then <= 0:
		return None
	return max(0.0, (then - now) / then * 100.0)


def _active(customer: Customer) -> list[Holding]:
	return [h for h in customer.holdings if h.status == "Active"]


def _maturing(customer: Customer, category: str, days: int, today: date) -> list[Holding]:
	until = today + timedelta(days=days)
	return [
		h
		for h in _active(customer)
		if h.category == category and h.maturity_date and today <= h.maturity_date <= until
	]


def evaluate(rule: Rule, customer: Customer, events: Sequence[Event], now: datetime) -> Evidence | None:
	"""The evidence when ``rule`` holds for ``customer`` at ``now``, else None (always None for a
	model-score rule: the scoring run raises those)."""
	if rule.measure == MODEL_SCORE:
		return None
	if rule.tiers and customer.tier not in rule.tiers:
		return None
	if rule.stages and customer.stage not in rule.stages:
		return None
	categories = {h.category for h in _active(customer)}
	if rule.holds_category and rule.holds_category not in categories:
		return None
	if rule.lacks_category and rule.lacks_category in categories:
		return None
	start = now - timedelta(days=rule.window_days)
	today = now.date()
	details: dict = {}
	chosen: list[Event] = []
	if rule.measure in EVENT_MEASURES:
		chosen = sorted(
			(e for e in events if e.event_type in rule.event_types and start <= e.time <= now),
			key=lambda e: (e.time, e.name),
		)
		if not chosen:
			return None
		amounts = [e.amount for e in chosen if e.amount is not None]
		if rule.measure == COUNT:
			value = float(len(chosen))
		elif rule.measure == SUM:
			value = float(sum(amounts))
		elif rule.measure == DISTINCT_DAYS:
			value = float(len({e.time.date() for e in chosen}))
		elif rule.measure == CONSECUTIVE_MONTHS:
			value = float(consecutive_months(e.time for e in chosen))
		else:  # LARGEST_SHARE
			if not customer.deposit_balance or customer.deposit_balance <= 0 or not amounts:
				return None
			largest = max(chosen, key=lambda e: e.amount or 0)
			value = (largest.amount or 0) / customer.deposit_balance * 100.0
			details["largest_amount"] = round(largest.amount or 0, 2)
			details["deposit_balance"] = round(customer.deposit_balance, 2)
			chosen = [largest]
	elif rule.measure == BALANCE_DROP:
		fall = _balance_fall(customer, rule.balance_metric, rule.window_days)
		if fall is None:
			return None
		value = fall
		figures = customer.balances.get(rule.balance_metric) or {}
		details.update(
			metric=rule.balance_metric,
			now=figures.get(0),
			then=figures.get(rule.window_days),
			days=rule.window_days,
		)
	else:  # MATURING
		maturing = _maturing(customer, rule.maturing_category or "", rule.window_days, today)
		value = float(len(maturing))
		details["maturing"] = [
			{"product": h.product, "maturity_date": h.maturity_date.isoformat(), "amount": round(h.amount, 2)}
			for h in sorted(maturing, key=lambda h: (h.maturity_date, h.product))
		]
	if value < rule.threshold:
		return None
	if rule.min_balance_drop_pct is not None:
		fall = _balance_fall(customer, rule.balance_metric, rule.balance_days)
		if fall is None or fall < rule.min_balance_drop_pct:
			return None
		details["balance_fall_pct"] = round(fall, 2)
	if rule.maturing_category and rule.measure != MATURING:
		maturing = _maturing(customer, rule.maturing_category, rule.maturing_within_days or 30, today)
		if not maturing:
			return None
		details["maturing"] = [h.product for h in maturing]
	amounts = [e.amount for e in chosen if e.amount is not None]
	return Evidence(
		value=value,
		threshold=rule.threshold,
		window_from=start,
		window_to=now,
		events=tuple(e.name for e in chosen[-MAX_EVIDENCE_EVENTS:]),
		event_count=len(chosen),
		amount_total=float(sum(amounts)) if amounts else None,
		details=details,
	)


@dataclass(frozen=True)
class Previous:
	"""What is on file for a customer and rule: the last signal's time and whether one is open."""

	last_raised: datetime | None = None
	open: bool = False


def may_raise(rule: Rule, previous: Previous | None, now: datetime) -> bool:
	"""No second open signal, and none inside the cooldown of the last one."""
	if previous is None:
		return True
	if previous.open:
		return False
	if previous.last_raised is None:
		return True
	return now >= previous.last_raised + timedelta(days=rule.cooldown_days)


def detect(
	rules: Sequence[Rule],
	customers: Mapping[str, Customer],
	events: Mapping[str, Sequence[Event]],
	previous: Mapping[tuple[str, str], Previous],
	now: datetime,
	candidates: Mapping[str, Iterable[str]] | None = None,
) -> list[tuple[str, Rule, Evidence]]:
	"""Signals to raise now: (customer, rule, evidence), in customer and rule order.

	``candidates`` (rule name → customers) narrows each rule to the customers whose new data
	concerns it; by default every customer given is checked against every rule."""
	raised = []
	for rule in rules:
		names = candidates.get(rule.name, ()) if candidates is not None else customers
		for name in sorted(set(names)):
			customer = customers.get(name)
			if customer is None or not may_raise(rule, previous.get((name, rule.name)), now):
				continue
			evidence = evaluate(rule, customer, events.get(name, ()), now)
			if evidence is not None:
				raised.append((name, rule, evidence))
	raised.sort(key=lambda r: (r[0], r[1].priority, r[1].name))
	return raised


def expired(raised_on: datetime, expiry_days: int, now: datetime) -> bool:
	return expiry_days > 0 and now >= raised_on + timedelta(days=expiry_days)


def median_hours(durations: Iterable[timedelta]) -> float | None:
	"""Median of durations in hours (for "time to act"), None when there are none."""
	hours = sorted(d.total_seconds() / 3600.0 for d in durations)
	if not hours:
		return None
	mid = len(hours) // 2
	return hours[mid] if len(hours) % 2 else (hours[mid - 1] + hours[mid]) / 2


# -- the rules and event types that ship with the app (editable in the desk) ------------------
FX_QUERY, FX_PURCHASE, LARGE_TRANSFER_OUT, SALARY_CREDIT = (
	"FX Rate Query",
	"FX Purchase",
	"Large Transfer Out",
	"Salary Credit",
)
DEFAULT_EVENT_TYPES = (
	(FX_QUERY, "The customer looked up foreign exchange rates"),
	(FX_PURCHASE, "The customer bought foreign currency"),
	(LARGE_TRANSFER_OUT, "A large transfer out of the customer's accounts"),
	(SALARY_CREDIT, "A salary credited to the customer's account"),
	("Product Purchase", "The customer bought a product"),
	("Product Redemption", "The customer redeemed a product"),
	("Product Maturity", "A product of the customer matured"),
	("App Login", "The customer signed in to the mobile app"),
	("Loan Inquiry", "The customer asked about a loan"),
	("Card Spending", "The customer paid with a card"),
)
CATEGORIES = (
	"Cross-border Services",
	"Churn Risk",
	"Reinvestment",
	"Payroll and Wealth",
	"Loan Need",
	"Insurance Need",
	"Other",
)
DEFAULT_RULES = (
	{
		"rule_name": "Frequent FX Rate Queries",
		"need_category": "Cross-border Services",
		"measure": COUNT,
		"event_types": (FX_QUERY,),
		"window_days": 30,
		"threshold": 3,
		"lacks_category": "FX",
		"cooldown_days": 30,
		"priority": 2,
		"description": "Three or more FX rate queries in 30 days by a customer who holds no FX product.",
		"suggested_action": "Call the customer about cross-border services: FX purchase, overseas remittance, a multi-currency account.",
	},
	{
		"rule_name": "Large Transfer Out",
		"need_category": "Churn Risk",
		"measure": LARGEST_SHARE,
		"event_types": (LARGE_TRANSFER_OUT,),
		"window_days": 7,
		"threshold": 50,
		"cooldown_days": 30,
		"priority": 1,
		"description": "A transfer out of at least half the deposit balance within a week.",
		"suggested_action": "Contact the customer within a day: ask what the money is for and whether we can serve the need.",
	},
	{
		"rule_name": "Wealth Product Maturing",
		"need_category": "Reinvestment",
		"measure": MATURING,
		"maturing_category": "Wealth",
		"window_days": 30,
		"threshold": 1,
		"cooldown_days": 30,
		"priority": 2,
		"description": "A wealth product matures within 30 days.",
		"suggested_action": "Offer a reinvestment plan before the product matures.",
	},
	{
		"rule_name": "Falling Deposit Balance",
		"need_category": "Churn Risk",
		"measure": BALANCE_DROP,
		"balance_metric": "deposit_balance",
		"window_days": 90,
		"threshold": 30,
		"cooldown_days": 60,
		"priority": 1,
		"description": "The deposit balance fell by 30 % or more over 90 days.",
		"suggested_action": "Visit or call the customer to understand the outflow and offer a retention plan.",
	},
	{
		"rule_name": "Regular Salary Credits",
		"need_category": "Payroll and Wealth",
		"measure": CONSECUTIVE_MONTHS,
		"event_types": (SALARY_CREDIT,),
		"window_days": 100,
		"threshold": 3,
		"cooldown_days": 180,
		"priority": 3,
		"description": "Salary credited in three consecutive months.",
		"suggested_action": "Propose payroll services and a regular wealth plan.",
	},
	{
		"rule_name": "Predicted Churn",
		"need_category": "Churn Risk",
		"measure": MODEL_SCORE,
		"window_days": 1,
		"threshold": 30,
		"cooldown_days": 30,
		"priority": 1,
		"description": "The active churn model rates the customer's probability of leaving at 30 % or more (the High band).",
		"suggested_action": "Call the customer soon: the customer-360 shows why the model expects them to leave.",
	},
	{
		"rule_name": "Predicted Wealth Need",
		"need_category": "Payroll and Wealth",
		"measure": MODEL_SCORE,
		"propensity_category": "Wealth",
		"window_days": 1,
		"threshold": 40,
		"cooldown_days": 90,
		"priority": 2,
		"description": "The active wealth propensity model rates the customer's probability of opening a wealth product at 40 % or more. Customers who object to automated profiling are never scored for it.",
		"suggested_action": "Offer a wealth review: the suggested product fits the customer's risk tolerance.",
	},
)
