"""What the bank knew of its customers before an as-of date, read in sets (预测特征数据).

``read_batch`` returns, for a batch of profiles in name order, each customer's
``core.prediction_features.Aggregates`` — the same numbers ``core.prediction_features.aggregate``
computes from one customer's rows, here from a few set-based statements per batch: the
snapshots by three index dives per customer (covering index), the events of the last year
grouped by customer and type (covering index ``customer_type_time``), holdings, contacts,
requests, complaints, and the tier and lifecycle stage of the day before from their history.
Every statement reads only rows dated before the as-of date. Training (many as-of dates) and
nightly scoring (today) both read here, and both pass the aggregates to the same
``core.prediction_features.derive``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import frappe

from bank_crm.core import prediction_features as pf
from bank_crm.utils.bulk import in_list

PROFILE = "Bank Customer Profile"
EVENT_TYPES = (
	pf.APP_LOGIN,
	pf.SALARY_CREDIT,
	pf.LARGE_TRANSFER_OUT,
	pf.FX_QUERY,
	pf.PRODUCT_PURCHASE,
	pf.PRODUCT_REDEMPTION,
	pf.CARD_SPENDING,
)


@dataclass(frozen=True)
class Person:
	"""A profile of the batch: who, and what fairness is measured by (never a feature)."""

	profile: str
	customer: str
	gender: str
	date_of_birth: date | None
	relationship_since: date | None = None


def read_batch(as_of: date, after: str = "", until: str = "", limit: int = 20_000):
	"""The next ``limit`` profiles after ``after`` (up to ``until``), each as (Person, Aggregates)."""
	people = _people(after, until, limit)
	if not people:
		return []
	customers = in_list([p.customer for p in people])
	profiles = in_list([p.profile for p in people])
	start = datetime.combine(as_of, datetime.min.time())
	snaps = _snapshots(customers, as_of)
	events = _events(customers, start)
	holdings = _holdings(customers, as_of)
	contacts = _contacts(customers, start)
	requests = _counts("Bank Service Request", customers, start - timedelta(days=180), start)
	complaints = _counts("Bank Complaint", customers, as_of - timedelta(days=180), as_of)
	tiers = _as_of_history("Bank Tier History", "to_tier", profiles, as_of)
	stages = _as_of_history("Bank Lifecycle History", "to_stage", profiles, as_of)
	out = []
	for p in people:
		out.append(
			(
				p,
				pf.Aggregates(
					**snaps.get(p.customer, {}),
					**_event_fields(events.get(p.customer, {}), as_of),
					**holdings.get(p.customer, {}),
					**_contact_fields(contacts.get(p.customer), as_of),
					requests_180d=requests.get(p.customer, 0),
					complaints_180d=complaints.get(p.customer, 0),
					tenure_days=max(0, (as_of - p.relationship_since).days)
					if p.relationship_since and p.relationship_since < as_of
					else 0,
					tier=tiers.get(p.profile, ""),
					stage=stages.get(p.profile, ""),
				),
			)
		)
	return out


def _people(after: str, until: str, limit: int) -> list[Person]:
	rows = frappe.db.sql(
		f"""select name, customer, ifnull(gender, ''), date_of_birth, relationship_since from `tab{PROFILE}`
		where name > %(after)s {"and name <= %(until)s" if until else ""} and ifnull(customer, '') != ''
		order by name limit %(limit)s""",
		{"after": after or "", "until": until, "limit": int(limit)},
	)
	return [Person(*row) for row in rows]


def _snapshots(customers: str, as_of: date) -> dict[str, dict]:
	"""The latest snapshot before the as-of date, and the totals about 30 and 90 days earlier."""
	dive = """(select concat_ws(',', s.as_of_date, s.deposit_balance, s.aum, s.loan_balance, s.fee_income,
			s.products_held) from `tabBank Financial Snapshot` s force index (customer_date_figures)
		where s.customer = c.customer and s.as_of_date <= %s order by s.as_of_date desc limit 1)"""
	rows = frappe.db.sql(
		f"""select c.customer, {dive}, {dive}, {dive} from (select distinct customer from
		`tab{PROFILE}` where customer in {customers}) c""",
		(as_of - timedelta(days=1), as_of - timedelta(days=30), as_of - timedelta(days=90)),
	)
	out = {}
	for customer, latest, ago30, ago90 in rows:
		values = {}
		if latest:
			_d, deposit, aum, loan, fee, products = latest.split(",")
			values.update(
				deposit=float(deposit),
				aum=float(aum),
				loan=float(loan),
				fee_income=float(fee),
				products_held=int(float(products)),
				has_snapshot=1,
			)
		if ago30:
			_d, deposit, aum, *_rest = ago30.split(",")
			values["total_30d_ago"] = float(deposit) + float(aum)
		if ago90:
			_d, deposit, aum, _loan, _fee, products = ago90.split(",")
			values["total_90d_ago"] = float(deposit) + float(aum)
			values["products_90d_ago"] = int(float(products))
		out[customer] = values
	return out


def _events(customers: str, start: datetime) -> dict[str, dict[str, tuple]]:
	"""customer → event type → (count 30d, count 30–60d, count 90d, amount 30d, amount 30–60d,
	amount 90d, last time), over the year before the as-of date."""
	d30, d60, d90 = (start - timedelta(days=n) for n in (30, 60, 90))
	rows = frappe.db.sql(
		f"""select customer, event_type,
			sum(event_time >= %(d30)s), sum(event_time >= %(d60)s and event_time < %(d30)s),
			sum(event_time >= %(d90)s),
			sum(if(event_time >= %(d30)s, ifnull(amount, 0), 0)),
			sum(if(event_time >= %(d60)s and event_time < %(d30)s, ifnull(amount, 0), 0)),
			sum(if(event_time >= %(d90)s, ifnull(amount, 0), 0)),
			max(event_time)
		from `tabBank Activity Event` force index (customer_type_time)
		where customer in {customers} and event_type in {in_list(EVENT_TYPES)}
			and event_time >= %(year)s and event_time < %(start)s
		group by customer, event_type""",
		{"d30": d30, "d60": d60, "d90": d90, "year": start - timedelta(days=365), "start": start},
	)
	out: dict[str, dict[str, tuple]] = defaultdict(dict)
	for customer, event_type, *values in rows:
		out[customer][event_type] = tuple(values)
	return out


def _event_fields(by_type: dict[str, tuple], as_of: date) -> dict:
	def get(event_type: str, index: int, cast=int):
		row = by_type.get(event_type)
		return cast(row[index] or 0) if row else cast(0)

	login = by_type.get(pf.APP_LOGIN)
	return {
		"logins_30d": get(pf.APP_LOGIN, 0),
		"logins_prev_30d": get(pf.APP_LOGIN, 1),
		"days_since_login": min(pf.NO_LOGIN_DAYS, (as_of - login[6].date()).days)
		if login and login[6]
		else pf.NO_LOGIN_DAYS,
		"salary_credits_90d": get(pf.SALARY_CREDIT, 2),
		"large_outflows_90d": get(pf.LARGE_TRANSFER_OUT, 2),
		"large_outflow_amount_90d": get(pf.LARGE_TRANSFER_OUT, 5, float),
		"fx_queries_30d": get(pf.FX_QUERY, 0),
		"purchases_90d": get(pf.PRODUCT_PURCHASE, 2),
		"redemptions_90d": get(pf.PRODUCT_REDEMPTION, 2),
		"card_spend_30d": get(pf.CARD_SPENDING, 3, float),
		"card_spend_prev_30d": get(pf.CARD_SPENDING, 4, float),
	}


def _holdings(customers: str, as_of: date) -> dict[str, dict]:
	"""Holdings opened before the as-of date and not matured by it (their status is not read:
	a closing after the as-of date would leak)."""
	rows = frappe.db.sql(
		f"""select h.customer, p.category, h.maturity_date from `tabBank Product Holding` h
		join `tabBank Product` p on p.name = h.product
		where h.customer in {customers} and h.opened_on < %(as_of)s
			and (h.maturity_date is null or h.maturity_date >= %(as_of)s)""",
		{"as_of": as_of},
	)
	soon = as_of + timedelta(days=30)
	out: dict[str, dict] = {}
	for customer, category, matures in rows:
		values = out.setdefault(customer, {"holdings_open": 0, "maturing_30d": 0, "held": set()})
		values["holdings_open"] += 1
		values["maturing_30d"] += int(bool(matures and matures < soon))
		values["held"].add(category)
	for values in out.values():
		values["held"] = frozenset(values["held"])
	return out


def _contacts(customers: str, start: datetime) -> dict[str, tuple]:
	rows = frappe.db.sql(
		f"""select customer, max(actual_at), sum(actual_at >= %s) from `tabBank Interaction`
		where customer in {customers} and status = 'Completed' and actual_at < %s group by customer""",
		(start - timedelta(days=90), start),
	)
	return {customer: (last, int(recent or 0)) for customer, last, recent in rows}


def _contact_fields(contact: tuple | None, as_of: date) -> dict:
	if not contact or not contact[0]:
		return {}
	last, recent = contact
	return {"days_since_contact": min(pf.NO_LOGIN_DAYS, (as_of - last.date()).days), "contacts_90d": recent}


def _counts(doctype: str, customers: str, start, end) -> dict[str, int]:
	return dict(
		frappe.db.sql(
			f"""select customer, count(*) from `tab{doctype}` where customer in {customers}
			and registered_on >= %s and registered_on < %s group by customer""",
			(start, end),
		)
	)


def _as_of_history(doctype: str, field: str, profiles: str, as_of: date) -> dict[str, str]:
	"""profile → the value its latest change before the as-of date set."""
	rows = frappe.db.sql(
		f"""select profile, change_date, `{field}` from `tab{doctype}`
		where profile in {profiles} and change_date < %s order by profile, change_date, creation""",
		(as_of,),
	)
	return {profile: value for profile, _d, value in rows}
