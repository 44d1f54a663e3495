# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt
"""Customers per lifecycle stage, in funnel order, within the user's scope."""

import frappe
from frappe import _

from bank_crm.core.lifecycle import STAGES


def execute(filters=None):
	filters = frappe._dict(filters or {})
	conditions = {k: filters[k] for k in ("branch", "relationship_manager", "tier") if filters.get(k)}
	rows = frappe.get_list(
		"Bank Customer Profile",
		filters=conditions,
		fields=["lifecycle_stage", "count(name) as customers"],
		group_by="lifecycle_stage",
	)
	counts = {r.lifecycle_stage or "": r.customers for r in rows}
	total = sum(counts.values()) or 1
	data = [
		{"stage": _(stage), "customers": counts.get(stage, 0), "share": 100.0 * counts.get(stage, 0) / total}
		for stage in STAGES
	]
	if counts.get(""):
		data.append(
			{"stage": _("Not yet staged"), "customers": counts[""], "share": 100.0 * counts[""] / total}
		)
	columns = [
		{"label": _("Lifecycle Stage"), "fieldname": "stage", "fieldtype": "Data", "width": 160},
		{"label": _("Customer Count"), "fieldname": "customers", "fieldtype": "Int", "width": 120},
		{"label": _("Share of Customers"), "fieldname": "share", "fieldtype": "Percent", "width": 100},
	]
	chart = {
		"data": {
			"labels": [d["stage"] for d in data],
			"datasets": [{"name": _("Customer Count"), "values": [d["customers"] for d in data]}],
		},
		"type": "bar",
		"barOptions": {"stacked": False},
	}
	return columns, data, None, chart
