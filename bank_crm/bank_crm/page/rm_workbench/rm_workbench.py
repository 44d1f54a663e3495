"""The RM workbench (我的工作台): what needs doing today in the user's portfolio, one payload.

Every list goes through ``frappe.get_list`` (row-level access applies: an RM's own customers, a
branch manager's branch, head office all) and is bounded; a branch manager or head office may
narrow it to one RM of their scope. Counts are of the same queries.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import add_days, add_to_date, getdate, now_datetime, today

from bank_crm.core.access import BRANCH_MANAGER, RELATIONSHIP_MANAGER

RANKED = 200  # High-band customers ranked by expected value per load
SHOWN = 10
CHURN = "Churn Risk"


def _list(doctype: str, filters, fields, order_by: str, limit: int = SHOWN) -> dict | None:
	"""Rows and their total for a section; None when the user's roles may not read ``doctype``."""
	if not frappe.has_permission(doctype, "read"):
		return None
	rows = frappe.get_list(
		doctype, filters=filters, fields=fields, order_by=order_by, limit_page_length=limit
	)
	total = (
		len(rows)
		if len(rows) < limit
		else frappe.get_list(doctype, filters=filters, fields=["count(*) as n"], limit_page_length=1)[0].n
	)
	return {"rows": rows, "total": total}


def get(rm: str | None = None) -> dict:
	user = frappe.session.user
	roles = set(frappe.get_roles(user))
	scoped = {"relationship_manager": rm} if rm else {}
	now, day = now_datetime(), getdate(today())
	week = add_days(day, 7)
	out = {
		"user": user,
		"rm": rm,
		"is_rm": RELATIONSHIP_MANAGER in roles and BRANCH_MANAGER not in roles,
		"today": str(day),
		"plan": _list(
			"Bank Visit Plan",
			{**scoped, "status": "Open", "due_date": ("<=", day)},
			[
				"name",
				"subject",
				"customer",
				"customer_name",
				"contact_kind",
				"due_date",
				"is_overdue",
				"tier",
			],
			"due_date asc",
		),
		"needs": _needs(scoped),
		"care": _list(
			"Bank Care Event",
			{**scoped, "event_date": ("between", (day, week))},
			["name", "customer", "customer_name", "event_type", "event_date", "detail"],
			"event_date asc",
		),
		"requests": _list(
			"Bank Service Request",
			{
				**scoped,
				"status": ("not in", ("Resolved", "Closed")),
				"next_deadline": ("<=", add_to_date(now, hours=24)),
			},
			[
				"name",
				"customer",
				"customer_name",
				"subject",
				"status",
				"next_deadline",
				"response_breached",
				"resolution_breached",
			],
			"next_deadline asc",
		),
		"complaints": _list(
			"Bank Complaint",
			{**scoped, "workflow_state": ("!=", "Closed"), "regulatory_deadline": ("<=", add_days(day, 3))},
			["name", "customer", "customer_name", "subject", "workflow_state", "regulatory_deadline"],
			"regulatory_deadline asc",
		),
		"churn": _churn(scoped),
		"rms": _rms(),
	}
	return out


def _churn(scoped: dict) -> dict | None:
	"""Customers likely to leave. With scores (and the right to read them): the High churn band,
	most expected value lost first (probability × value score), each with its first reason in the
	reader's language; else the Churn Risk stage of the lifecycle rules."""
	from bank_crm.bank_segmentation.segmentation import reason_in
	from bank_crm.core import reasons

	profile = "Bank Customer Profile"
	if frappe.has_permission(profile, "read") and 1 in frappe.get_meta(profile).get_permlevel_access("read"):
		fields = ["name", "customer", "customer_name", "tier", "relationship_manager", "churn_probability"]
		rows = frappe.get_list(
			profile,
			filters={**scoped, "churn_band": "High"},
			fields=[*fields, "value_score", "churn_reasons"],
			order_by="churn_probability desc",
			limit_page_length=RANKED,
		)
		if rows:
			for r in rows:
				r.expected_value = round((r.churn_probability or 0) / 100 * (r.value_score or 0), 2)
				first = (frappe.parse_json(r.pop("churn_reasons") or "[]") or [None])[0]
				why = reasons.render(reasons.Reason.from_dict(first), lambda s: _(s)) if first else ""
				r.lifecycle_reason = (
					f"{r.churn_probability:.0f}% · {why}" if why else f"{r.churn_probability:.0f}%"
				)
			rows.sort(key=lambda r: -r.expected_value)
			total = frappe.get_list(
				profile,
				filters={**scoped, "churn_band": "High"},
				fields=["count(*) as n"],
				limit_page_length=1,
			)[0].n
			return {"rows": rows[:SHOWN], "total": total, "filters": {"churn_band": "High"}}
	section = _list(
		profile,
		{**scoped, "lifecycle_stage": CHURN},
		["name", "customer", "customer_name", "tier", "lifecycle_reason", "relationship_manager"],
		"modified desc",
	)
	for r in (section or {}).get("rows", []):
		r.lifecycle_reason = reason_in(r.lifecycle_reason)
	return section


def _needs(scoped: dict) -> dict | None:
	"""Open signals, most urgent first, the customer's value breaking ties (for those who may
	read value scores)."""
	section = _list(
		"Bank Need Signal",
		{**scoped, "status": "Open"},
		[
			"name",
			"customer",
			"customer_name",
			"need_category",
			"priority",
			"summary",
			"suggested_action",
			"raised_on",
		],
		"priority asc, raised_on desc",
		limit=50,
	)
	if not section or not section["rows"]:
		return section
	rows = section["rows"]
	if 1 in frappe.get_meta("Bank Customer Profile").get_permlevel_access("read"):
		values = dict(
			frappe.get_list(
				"Bank Customer Profile",
				filters={"customer": ("in", [r.customer for r in rows])},
				fields=["customer", "value_score"],
				as_list=True,
			)
		)
		for r in rows:
			r["value_score"] = values.get(r.customer)
		rows.sort(key=lambda r: (r.priority or "9", -(r.get("value_score") or 0)))
	section["rows"] = rows[:SHOWN]
	return section


def _rms() -> list[dict]:
	"""The RMs of the user's scope, for the filter: a branch manager's branches' RMs, head
	office every RM of every branch; an RM none."""
	from bank_crm.permissions.scope import limited_scope

	scope = limited_scope()
	filters = {"member_role": RELATIONSHIP_MANAGER, "parenttype": "Bank Branch"}
	if scope is not None:
		if not scope.branches:
			return []
		filters["parent"] = ("in", scope.branches)
	members = frappe.get_all(
		"Bank Branch Member", filters=filters, fields=["user", "parent"], order_by="parent, user"
	)
	users = list(dict.fromkeys(m.user for m in members))
	full = dict(
		frappe.get_all(
			"User", filters={"name": ("in", users or [""])}, fields=["name", "full_name"], as_list=True
		)
	)
	return [{"user": u, "full_name": full.get(u) or u} for u in users]
