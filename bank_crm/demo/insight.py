"""Demo behaviour data: a product catalogue, holdings and six months of activity events per demo
customer — shaped so that every default need rule finds customers — then a real detection run,
and some of the signals followed up (acted with a contact, dismissed, turned into opportunities)
through the same methods the desk uses.

The generation functions take plain data and a seeded ``random.Random``: the same seed gives
the same data (tests check that the events pass the ingestion rules and that the rules fire).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from bank_crm.core import signals
from bank_crm.demo import generator, prediction
from bank_crm.demo.base import CUSTOMER_PREFIX

# code, Chinese name, category, risk level
PRODUCTS = (
	("DEP-CUR", "活期储蓄", "Deposit", "R1"),
	("DEP-3M", "三个月定期存款", "Deposit", "R1"),
	("DEP-1Y", "一年期定期存款", "Deposit", "R1"),
	("DEP-LD", "大额存单（三年期）", "Deposit", "R1"),
	("WM-90", "稳盈九十天理财", "Wealth", "R2"),
	("WM-180", "安享一百八十天理财", "Wealth", "R2"),
	("WM-365", "鑫享一年期理财", "Wealth", "R3"),
	("FUND-BOND", "纯债基金精选", "Fund", "R2"),
	("FUND-EQ", "沪深300指数基金", "Fund", "R4"),
	("INS-ANN", "年金保险", "Insurance", "R2"),
	("LOAN-MORT", "个人住房贷款", "Loan", "R1"),
	("LOAN-CONS", "个人消费贷款", "Loan", "R1"),
	("CARD-CR", "白金信用卡", "Card", "R1"),
	("FX-ACC", "外币储蓄账户", "FX", "R2"),
	("FX-WM", "美元理财", "FX", "R3"),
)
CATEGORY = {code: category for code, _, category, _ in PRODUCTS}
TERMS = {"DEP-3M": 91, "DEP-1Y": 365, "DEP-LD": 1095, "WM-90": 90, "WM-180": 180, "WM-365": 365}
CHANNELS = ("Mobile App", "Online Banking", "Branch", "Phone", "ATM")
SALARY_BUYERS = 0.7  # the share of salaried customers who have bought a wealth product by today


def holdings_for(customer: str, rng: random.Random, today: date, persona: str) -> list[dict]:
	rows = [_holding(customer, "DEP-CUR", today - timedelta(days=rng.randint(400, 3000)), None, rng)]
	extra = rng.sample(
		["DEP-1Y", "FUND-BOND", "CARD-CR", "LOAN-CONS", "INS-ANN", "FUND-EQ"], rng.randint(0, 3)
	)
	if persona == "maturing":
		matures = today + timedelta(days=rng.randint(3, 28))
		product = rng.choice(["WM-90", "WM-180", "WM-365"])
		rows.append(_holding(customer, product, matures - timedelta(days=TERMS[product]), matures, rng))
	elif persona == "fx_holder":
		extra.append("FX-ACC")
	elif persona == "salary" and rng.random() < SALARY_BUYERS:
		# most salaried savers buy a wealth product after months of salary credits, within the
		# demo's prediction horizon (``prediction.dates``): what the wealth propensity model learns
		training, validation, horizon = prediction.dates(today)
		opened = validation + timedelta(days=rng.randint(2, horizon - 5))
		product = rng.choice(["WM-90", "WM-180"])
		rows.append(_holding(customer, product, opened, opened + timedelta(days=TERMS[product]), rng))
	for code in extra:
		opened = today - timedelta(days=rng.randint(30, 900))
		term = TERMS.get(code)
		matures = opened + timedelta(days=term) if term else None
		if matures and matures < today:
			opened, matures = today - timedelta(days=rng.randint(10, term - 1)), None
			matures = opened + timedelta(days=term)
		rows.append(_holding(customer, code, opened, matures, rng))
	return rows


def _holding(customer, product, opened, matures, rng):
	return {
		"customer": customer,
		"product": product,
		"opened_on": opened.isoformat(),
		"maturity_date": matures.isoformat() if matures else None,
		"amount": float(rng.randrange(10_000, 800_000, 1_000)),
		"status": "Active",
	}


def silent(customer: str, seed: int = 42) -> bool:
	"""Whether the customer stops using the app four months before the end: most leavers
	(``generator.snapshot_pattern`` "churn"), and some quiet customers who stay."""
	seq = int(customer[len(CUSTOMER_PREFIX) :])
	leaving = generator.snapshot_pattern(seq, seed) == "churn"
	return random.Random(f"{seed}-app-{seq}").random() < (0.7 if leaving else 0.12)


def events_for(
	customer: str, rng: random.Random, now: datetime, persona: str, deposit: float, silent: bool = False
) -> list[dict]:
	"""Six months of a customer's activity; the persona adds the pattern a rule looks for. A
	``silent`` customer stops using the app four months before the end."""
	events = []
	seq = [0]

	def add(kind, at, amount=None, channel=None, **attributes):
		seq[0] += 1
		events.append(
			{
				"external_id": f"{customer}-{seq[0]:04d}",
				"customer": customer,
				"event_type": kind,
				"event_time": at.replace(microsecond=0).isoformat(sep=" "),
				"amount": amount,
				"currency": "CNY" if amount is not None else None,
				"channel": channel or rng.choice(CHANNELS),
				"attributes": attributes or None,
			}
		)

	start = now - timedelta(days=182)
	active_days = 60 if silent else 182
	for _ in range(rng.randint(6, 40)):
		add(
			"App Login",
			start + timedelta(minutes=rng.randint(0, active_days * 1440 - 60)),
			channel="Mobile App",
		)
	for _ in range(rng.randint(0, 4)):
		add(
			"Card Spending",
			start + timedelta(minutes=rng.randint(0, 182 * 1440 - 60)),
			float(rng.randrange(50, 20_000)),
			"Other",
		)
	if persona in ("fx", "fx_holder"):
		for _ in range(rng.randint(3, 6)):
			add(
				signals.FX_QUERY,
				now - timedelta(days=rng.randint(1, 26), minutes=rng.randint(0, 600)),
				channel="Mobile App",
				currency_pair="USD/CNY",
			)
	if persona == "transfer" and deposit > 0:
		add(
			signals.LARGE_TRANSFER_OUT,
			now - timedelta(days=rng.randint(1, 5)),
			round(deposit * rng.uniform(0.55, 0.9), 2),
			"Online Banking",
			payee_bank="外部银行",
		)
	if persona == "salary":  # six months of salary credits (those after ``now`` are dropped)
		for months in range(6):
			year, month = signals.months_back(now, months)
			day = datetime(year, month, 10, 9, 0)
			add(
				signals.SALARY_CREDIT,
				day,
				float(rng.randrange(8_000, 40_000, 100)),
				"Other",
				employer="代发工资",
			)
	if persona == "loan":
		add("Loan Inquiry", now - timedelta(days=rng.randint(1, 20)), channel="Mobile App")
	return [e for e in events if datetime.fromisoformat(e["event_time"]) <= now]


def persona(rng: random.Random) -> str:
	return rng.choices(
		["plain", "fx", "fx_holder", "transfer", "salary", "maturing", "loan"],
		weights=[40, 10, 4, 5, 12, 12, 5],
	)[0]


# -- loading (Frappe) ---------------------------------------------------------------------------


def load(seed: int = 42, now=None) -> dict:
	import frappe
	from frappe.utils import now_datetime

	from bank_crm.bank_insight import activity_ingestion as activity
	from bank_crm.bank_insight import need_detection as detection

	now = now or now_datetime()
	rng = random.Random(f"{seed}-insight")
	for code, title, category, risk in PRODUCTS:
		if not frappe.db.exists("Bank Product", code):
			frappe.get_doc(
				{
					"doctype": "Bank Product",
					"product_code": code,
					"product_name": title,
					"category": category,
					"risk_level": risk,
					"currency": "USD" if category == "FX" else "CNY",
				}
			).insert(ignore_permissions=True)
	customers = frappe.db.sql(
		"""select c.name, ifnull(s.deposit_balance, 0) from `tabCustomer` c
		left join `tabBank Financial Snapshot` s on s.customer = c.name
			and s.as_of_date = (select max(as_of_date) from `tabBank Financial Snapshot` t where t.customer = c.name)
		where c.name like %s order by c.name""",
		(CUSTOMER_PREFIX + "%",),
	)
	counts = {"events": 0, "holdings": 0}
	for start in range(0, len(customers), 2000):
		holdings, events = [], []
		for customer, deposit in customers[start : start + 2000]:
			kind = persona(rng)
			holdings += holdings_for(customer, rng, now.date(), kind)
			events += events_for(customer, rng, now, kind, float(deposit), silent(customer, seed))
		counts["holdings"] += activity.ingest_holdings(holdings, today=now.date())["inserted"]
		counts["events"] += activity.ingest_events(events, source="demo-core", now=now)["inserted"]
		frappe.db.commit()
	# the demo's data arrived a moment ago: date its arrival back so that this run reads it
	earlier = now - timedelta(minutes=30)
	frappe.db.sql(
		"update `tabBank Activity Event` set creation = %s where source = 'demo-core' and creation >= %s",
		(earlier, now - timedelta(minutes=1)),
	)
	frappe.db.sql(
		"update `tabBank Financial Snapshot` set modified = %s where customer like %s and modified > %s",
		(earlier, CUSTOMER_PREFIX + "%", earlier),
	)
	frappe.db.commit()
	run = detection.detect("On Demand", now=now, since=earlier - timedelta(minutes=1))
	counts["signal_run"] = run
	counts.update(_follow_up(rng, now))
	frappe.db.commit()
	return counts


def _follow_up(rng: random.Random, now) -> dict:
	"""Some signals acted on (a contact recorded), some dismissed, some turned into opportunities."""
	import frappe

	from bank_crm.api import insight

	done = {"acted": 0, "dismissed": 0, "opportunities": 0}
	for name, customer in frappe.db.sql(
		"""select name, customer from `tabBank Need Signal`
		where status = 'Open' and customer like %s order by name""",
		(CUSTOMER_PREFIX + "%",),
	):
		roll = rng.random()
		if roll < 0.2:
			insight.create_opportunity(name)
			done["opportunities"] += 1
		elif roll < 0.35:
			interaction = frappe.db.get_value(
				"Bank Interaction",
				{"customer": customer, "status": "Completed"},
				"name",
				order_by="actual_at desc",
			)
			insight.act(name, interaction=interaction)
			done["acted"] += 1
		elif roll < 0.45:
			insight.dismiss(name, rng.choice(["客户近期无此需求", "已由其他渠道办理", "客户明确拒绝"]))
			done["dismissed"] += 1
	for opportunity in frappe.get_all(
		"Opportunity", filters={"party_name": ("like", CUSTOMER_PREFIX + "%")}, pluck="name"
	)[::3]:
		frappe.db.set_value("Opportunity", opportunity, "status", "Converted")
	return done


def clear() -> dict:
	import frappe

	from bank_crm.utils.traces import remove_traces

	like = CUSTOMER_PREFIX + "%"
	if not frappe.db.table_exists("Bank Need Signal"):
		return {}
	counts = {}
	for doctype in ("Bank Need Signal", "Bank Product Holding", "Bank Activity Event"):
		names = frappe.db.sql_list(f"select name from `tab{doctype}` where customer like %s", (like,))
		if doctype == "Bank Need Signal":
			remove_traces([doctype], names)
		frappe.db.sql(f"delete from `tab{doctype}` where customer like %s", (like,))
		counts[doctype] = len(names)
	opportunities = frappe.get_all("Opportunity", filters={"party_name": ("like", like)}, pluck="name")
	if opportunities:
		remove_traces(["Opportunity"], opportunities)
		frappe.db.delete("Opportunity", {"name": ("in", opportunities)})
	frappe.db.commit()
	return counts
