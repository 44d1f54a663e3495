"""Demo engagement data: contact details and preferences, six months of visits and calls,
maturities, then the real planning job and care-event job, so a newcomer sees an RM calendar
with past contacts, upcoming and overdue items, tasks and greetings.

    bench --site SITE execute bank_crm.demo.engagement.load

Called by ``bank_crm.demo.load`` after the customers; ``clear`` removes it all again.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

import frappe
from frappe.utils import getdate, now_datetime

from bank_crm.core import cadence
from bank_crm.demo.base import CUSTOMER_PREFIX, DEMO_DOMAIN, PROFILE
from bank_crm.utils.bulk import in_list, insert_rows, reserve_series
from bank_crm.utils.traces import remove_traces

PLAN = "Bank Visit Plan"
INTERACTION = "Bank Interaction"

OBJECTIVES = {
	cadence.VISIT: ("季度资产配置检视", "了解家庭理财需求", "介绍新发行的结构性存款", "企业年度授信沟通"),
	cadence.CALL: ("理财产品到期提醒", "市场波动情况说明", "大额存单续存意向确认", "了解近期资金安排"),
}
FEEDBACK = ("对服务满意", "希望收益更稳健", "关注跨境汇款手续费", "暂无新需求", "希望增加线上办理渠道")
NEXT_STEPS = (
	"下次拜访带上定制理财方案",
	"两周内回电确认续存",
	"邀请参加下季度财富沙龙",
	"整理对比材料发给客户",
)
OUTCOMES = ("Achieved", "Achieved", "Achieved", "Partly Achieved", "Customer Unavailable")


def load(seed: int = 42, today=None) -> dict:
	today = getdate(today) if today else getdate()
	rng = random.Random(seed)
	profiles = frappe.db.sql(
		"""select name, customer, customer_name, tier, relationship_manager, branch, profile_type
		from `tabBank Customer Profile` where customer like %s and tier is not null order by name""",
		(CUSTOMER_PREFIX + "%",),
		as_dict=True,
	)
	if not profiles:
		return {}
	_contact_details(profiles, rng)
	_maturities(profiles, rng, today)
	interactions = _history(profiles, rng, today)
	frappe.db.commit()

	from bank_crm.bank_engagement.care_events import run_care_events
	from bank_crm.bank_engagement.visit_planning import run_planning

	run = run_planning(today)
	# a few items the RMs moved or let slip: overdue ones show on the list and the calendar
	frappe.db.sql(
		"""update `tabBank Visit Plan` set due_date = date_sub(%s, interval 9 day), is_overdue = 1
		where status = 'Open' and responsible = 'Relationship Manager' and customer like %s
			and mod(crc32(name), 9) = 0""",
		(today, CUSTOMER_PREFIX + "%"),
	)
	from bank_crm.bank_engagement.visit_planning import create_due_tasks

	create_due_tasks(today, 7)
	frappe.db.commit()
	events = run_care_events(today)
	return {"interactions": interactions, "planning_run": run, "care_events": events}


def _contact_details(profiles, rng):
	"""Mobile, email, WeChat and app ids, a preferred channel, quiet hours for some."""
	rows = []
	for p in profiles:
		wechat = f"wx_{frappe.generate_hash(length=10)}" if rng.random() < 0.7 else None
		app = f"app{rng.randint(1_000_000, 9_999_999)}" if rng.random() < 0.8 else None
		preferred = rng.choices(
			("SMS", "WeChat", "App Push", "Email", "Phone", None), weights=(30, 20, 20, 10, 10, 10)
		)[0]
		if preferred == "WeChat" and not wechat or preferred == "App Push" and not app:
			preferred = "SMS"  # the preferred channel must be reachable
		quiet = rng.random() < 0.3
		rows.append(
			(
				p.name,
				f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
				f"{p.customer.lower()}@customer.{DEMO_DOMAIN}",
				wechat,
				app,
				preferred,
				time(21, 30) if quiet else None,
				time(8, 0) if quiet else None,
			)
		)
	frappe.db.sql("select 1")
	frappe.db._cursor.execute(
		"""create temporary table if not exists bank_crm_tmp_contact (
			name varchar(140) primary key, mobile_no varchar(140), email_id varchar(140),
			wechat_id varchar(140), app_user_id varchar(140), preferred_channel varchar(140),
			quiet_hours_start time, quiet_hours_end time)"""
	)
	from bank_crm.utils.bulk import execute_values

	frappe.db.sql("delete from bank_crm_tmp_contact")
	execute_values("insert into bank_crm_tmp_contact values ", rows)
	frappe.db.sql(
		"""update `tabBank Customer Profile` p join bank_crm_tmp_contact t on t.name = p.name
		set p.mobile_no = t.mobile_no, p.email_id = t.email_id, p.wechat_id = t.wechat_id,
			p.app_user_id = t.app_user_id, p.preferred_channel = t.preferred_channel,
			p.quiet_hours_start = t.quiet_hours_start, p.quiet_hours_end = t.quiet_hours_end,
			p.allow_visit = 1, p.allow_phone = 1, p.allow_sms = 1, p.allow_email = 1,
			p.allow_app_push = 1, p.allow_wechat = 1"""
	)
	frappe.db._cursor.execute("drop temporary table if exists bank_crm_tmp_contact")


def _maturities(profiles, rng, today):
	now = now_datetime()
	rows = []
	for p in profiles:
		if rng.random() < 0.15:
			rows.append(
				{
					"name": frappe.generate_hash(length=12),
					"parent": p.name,
					"parenttype": PROFILE,
					"parentfield": "maturities",
					"idx": 1,
					"product": rng.choice(
						("三年期大额存单", "一年期定期存款", "稳健理财 180 天", "结构性存款 90 天")
					),
					"maturity_date": today + timedelta(days=rng.randint(-10, 90)),
					"amount": rng.choice((50_000, 100_000, 200_000, 500_000, 1_000_000)),
				}
			)
	insert_rows(
		"Bank Product Maturity",
		rows,
		{"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now},
	)


def _history(profiles, rng, today) -> int:
	"""Past visits and calls of the RM-served tiers: Done plan items with their interactions
	and a timeline entry each, so the next items follow from them (some already overdue)."""
	now = now_datetime()
	interactions = _past_interactions(profiles, _rm_plan_lines(), rng, today)
	if not interactions:
		return 0
	items, comms = _record_interactions(interactions, profiles, rng, today)
	common = {"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now}
	insert_rows(INTERACTION, interactions, common)
	insert_rows(PLAN, items, common)
	insert_rows("Communication", comms, common)
	return len(interactions)


def _rm_plan_lines() -> dict:
	"""Per tier, the visits and calls its service plan gives the RM."""
	plans = {}
	for plan in frappe.get_all("Bank Service Plan", fields=["name", "tier"]):
		lines = frappe.get_all(
			"Bank Service Plan Contact",
			filters={
				"parent": plan.name,
				"responsible": "Relationship Manager",
				"contact_kind": ("in", ("Visit", "Call")),
			},
			fields=["contact_kind", "every", "unit"],
		)
		plans[plan.tier] = [cadence.PlanLine(r.contact_kind, int(r.every), r.unit) for r in lines]
	return plans


def _past_interactions(profiles, plans, rng, today) -> list[dict]:
	"""One to three past contacts per plan line, the last one between two weeks and one interval
	ago; each row still carries its profile, plan line and tier (``_profile``, ``_line``, ``_tier``)."""
	interactions = []
	for p in profiles:
		for line in plans.get(p.tier, ()):
			last = today - timedelta(days=rng.randint(14, max(15, line.approx_days + 20)))
			for _ in range(rng.randint(1, 3)):
				if last < today - timedelta(days=200):
					break
				at = datetime.combine(last, time(rng.randint(9, 17), rng.choice((0, 15, 30, 45))))
				interactions.append(_past_interaction(p, line, at, rng))
				last = last - timedelta(days=line.approx_days + rng.randint(-7, 7))
	return interactions


def _past_interaction(p, line, at, rng) -> dict:
	outcome = rng.choice(OUTCOMES)
	return {
		"customer": p.customer,
		"customer_name": p.customer_name,
		"interaction_type": line.kind,
		"channel": "Visit" if line.kind == cadence.VISIT else "Phone",
		"status": "Completed",
		"planned_at": at,
		"actual_at": at,
		"relationship_manager": p.relationship_manager,
		"branch": p.branch,
		"objective": rng.choice(OBJECTIVES[line.kind]),
		"outcome": outcome,
		"customer_feedback": rng.choice(FEEDBACK) if outcome != "Customer Unavailable" else None,
		"satisfaction": rng.choice((0.6, 0.8, 0.8, 1.0, 1.0)) if outcome != "Customer Unavailable" else 0,
		"next_steps": rng.choice(NEXT_STEPS),
		"_profile": p.name,
		"_line": line,
		"_tier": p.tier,
	}


def _record_interactions(interactions, profiles, rng, today) -> tuple[list[dict], list[dict]]:
	"""Name each interaction and make its Done plan item and its timeline entry (in the RM's
	language); returns the plan items and the communications."""
	from bank_crm.utils.people import languages as user_languages

	languages = user_languages({p.relationship_manager for p in profiles})
	year = today.year
	first = reserve_series(f"BI-{year}-", len(interactions)) + 1
	items, comms = [], []
	for i, row in enumerate(interactions):
		row["name"] = f"BI-{year}-{first + i:06d}"
		line, profile, tier = row.pop("_line"), row.pop("_profile"), row.pop("_tier")
		lang = languages.get(row["relationship_manager"])
		kind = frappe._(line.kind, lang=lang, context=PLAN)
		item = frappe.generate_hash(length=12)
		row["visit_plan"] = item
		comm = frappe.generate_hash(length=10)
		row["communication"] = comm
		items.append(_done_item(row, item, line, profile, tier, kind, rng))
		comms.append(_communication(row, comm, kind, lang))
	return items, comms


def _done_item(row, item, line, profile, tier, kind, rng) -> dict:
	done_on = row["actual_at"].date()
	return {
		"name": item,
		"subject": f"{kind} · {row['customer_name']}",
		"customer": row["customer"],
		"customer_name": row["customer_name"],
		"profile": profile,
		"tier": tier,
		"contact_kind": line.kind,
		"due_date": done_on - timedelta(days=rng.randint(-3, 10)),
		"status": "Done",
		"completed_on": done_on,
		"interaction": row["name"],
		"relationship_manager": row["relationship_manager"],
		"branch": row["branch"],
		"responsible": "Relationship Manager",
		"plan_source": "Tier Plan",
		"plan_key": line.key,
	}


def _communication(row, comm, kind, lang) -> dict:
	return {
		"name": comm,
		"communication_type": "Communication",
		"communication_medium": row["channel"],
		"sent_or_received": "Sent",
		"subject": f"{kind} · {row['customer_name']}",
		"content": f"<p><b>{frappe._('Objective', lang=lang)}</b>: {row['objective']}</p>"
		+ (
			f"<p><b>{frappe._('Customer Feedback', lang=lang)}</b>: {row['customer_feedback']}</p>"
			if row["customer_feedback"]
			else ""
		)
		+ f"<p><b>{frappe._('Next Steps', lang=lang)}</b>: {row['next_steps']}</p>",
		"communication_date": row["actual_at"],
		"reference_doctype": "Customer",
		"reference_name": row["customer"],
		"status": "Linked",
		"sender": row["relationship_manager"],
	}


def clear() -> dict:
	customers = frappe.db.sql_list(
		"select name from `tabCustomer` where name like %s", (CUSTOMER_PREFIX + "%",)
	)
	if not customers or not frappe.db.table_exists(PLAN):
		return {}
	counts = {}
	for start in range(0, len(customers), 10_000):
		chunk = customers[start : start + 10_000]
		cond = in_list(chunk)
		for doctype in (PLAN, INTERACTION, "Bank Care Event"):
			refs = frappe.db.sql_list(f"select name from `tab{doctype}` where customer in {cond}")
			remove_traces([doctype], refs)
			if doctype == INTERACTION and refs:
				frappe.db.sql(f"delete from `tabBank Interaction Follow-up` where parent in {in_list(refs)}")
			frappe.db.sql(f"delete from `tab{doctype}` where customer in {cond}")
			counts[doctype] = counts.get(doctype, 0) + len(refs)
		if frappe.db.table_exists("Bank Outbound Message"):
			messages = frappe.db.sql_list(
				f"select name from `tabBank Outbound Message` where customer in {cond}"
			)
			remove_traces(["Bank Outbound Message"], messages)
			frappe.db.sql(f"delete from `tabBank Outbound Message` where customer in {cond}")
		for child in ("Bank Plan Override", "Bank Product Maturity"):
			frappe.db.sql(
				f"""delete c from `tab{child}` c join `tabBank Customer Profile` p on p.name = c.parent
				where p.customer in {cond}"""
			)
	frappe.db.commit()
	return counts
