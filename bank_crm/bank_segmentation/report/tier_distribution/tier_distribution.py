# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt
"""Customers per tier with their share, balances and average score, within the user's scope."""

import frappe
from frappe import _
from frappe.utils import flt


def execute(filters=None):
	filters = frappe._dict(filters or {})
	conditions = {k: filters[k] for k in ("branch", "relationship_manager", "profile_type") if filters.get(k)}
	# the score is a permission-level-1 field: only who may read it sees its average
	scores = 1 in frappe.get_meta("Bank Customer Profile").get_permlevel_access("read")
	# get_list applies row-level access: an RM sees the own portfolio only
	rows = frappe.get_list(
		"Bank Customer Profile",
		filters=conditions,
		fields=["tier", "count(name) as customers", *(["avg(value_score) as avg_score"] if scores else [])],
		group_by="tier",
		order_by="tier asc",
	)
	ranks = dict(frappe.get_all("Bank Customer Tier", fields=["name", "rank"], as_list=True))
	rows.sort(key=lambda r: ranks.get(r.tier, 999))
	total = sum(r.customers for r in rows) or 1
	data = [
		{
			"tier": r.tier or _("Not yet scored"),
			"customers": r.customers,
			"share": 100.0 * r.customers / total,
			"avg_score": flt(r.get("avg_score"), 2),
		}
		for r in rows
	]
	columns = [
		{"label": _("Tier"), "fieldname": "tier", "fieldtype": "Data", "width": 160},
		{"label": _("Customer Count"), "fieldname": "customers", "fieldtype": "Int", "width": 120},
		{"label": _("Share of Customers"), "fieldname": "share", "fieldtype": "Percent", "width": 100},
	]
	if scores:
		columns.append(
			{"label": _("Average Score"), "fieldname": "avg_score", "fieldtype": "Float", "width": 130}
		)
	chart = {
		"data": {
			"labels": [_(d["tier"]) for d in data],
			"datasets": [{"name": _("Customer Count"), "values": [d["customers"] for d in data]}],
		},
		"type": "bar",
	}
	return columns, data, None, chart
