# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt
"""Complaints grouped by category, product, branch, root cause or customer (repeat
complainants), with SLA and regulatory-clock compliance. Rows come through ``get_list``, so
row-level access applies: an RM sees own customers' complaints, head office all."""

import frappe
from frappe import _
from frappe.utils import flt

COMPLAINT = "Bank Complaint"
GROUPS = {
	"Category": "category",
	"Product": "product",
	"Branch": "branch",
	"Root Cause": "root_cause_category",
	"Repeat Complainants": "customer",
	"Workflow State": "workflow_state",
}
TRANSLATED = {"category", "root_cause_category", "workflow_state"}


def execute(filters=None):
	filters = frappe._dict(filters or {})
	group = filters.get("group_by") or "Category"
	field = GROUPS.get(group, "category")
	rows = frappe.get_list(
		COMPLAINT,
		filters=conditions(filters),
		fields=[
			"name",
			"customer",
			"customer_name",
			"service_request",
			"workflow_state",
			"decided_on",
			"regulatory_breached",
			field,
		],
		limit_page_length=0,
	)
	sla_breached = breached_requests([r.service_request for r in rows])
	data = aggregate(rows, field, sla_breached)
	if field == "customer":
		data = [d for d in data if d["complaints"] >= 2]
	return columns(group), data, None, chart(data, group)


def conditions(filters):
	out = {}
	if filters.get("from_date") and filters.get("to_date"):
		out["registered_on"] = ("between", [filters.from_date, filters.to_date])
	elif filters.get("from_date"):
		out["registered_on"] = (">=", filters.from_date)
	for f in ("branch", "category", "product"):
		if filters.get(f):
			out[f] = filters[f]
	return out


def breached_requests(names) -> set[str]:
	out = set()
	names = [n for n in names if n]
	for i in range(0, len(names), 5000):
		out.update(
			frappe.get_list(
				"Bank Service Request",
				filters={"name": ("in", names[i : i + 5000])},
				or_filters={"response_breached": 1, "resolution_breached": 1},
				pluck="name",
				limit_page_length=0,
			)
		)
	return out


def aggregate(rows, field, sla_breached):
	groups = {}
	for r in rows:
		key = r.get(field) or ""
		g = groups.setdefault(
			key,
			{
				"group": key,
				"label": r.customer_name
				if field == "customer"
				else (_(key) if field in TRANSLATED else key) or _("Not Set"),
				"complaints": 0,
				"open": 0,
				"closed": 0,
				"regulatory_breached": 0,
				"sla_breached": 0,
			},
		)
		g["complaints"] += 1
		g["closed"] += int(r.workflow_state == "Closed")
		g["open"] += int(not r.decided_on)
		g["regulatory_breached"] += int(r.regulatory_breached or 0)
		g["sla_breached"] += int(r.service_request in sla_breached)
	data = sorted(groups.values(), key=lambda g: (-g["complaints"], g["label"]))
	for g in data:
		g["regulatory_compliance"] = flt(100 * (1 - g["regulatory_breached"] / g["complaints"]), 1)
		g["sla_compliance"] = flt(100 * (1 - g["sla_breached"] / g["complaints"]), 1)
	return data


def columns(group):
	return [
		{"fieldname": "label", "label": _(group), "fieldtype": "Data", "width": 200},
		{"fieldname": "complaints", "label": _("Complaints"), "fieldtype": "Int", "width": 110},
		{"fieldname": "open", "label": _("Undecided"), "fieldtype": "Int", "width": 100},
		{"fieldname": "closed", "label": _("Closed"), "fieldtype": "Int", "width": 90},
		{
			"fieldname": "regulatory_breached",
			"label": _("Regulatory Clock Breached"),
			"fieldtype": "Int",
			"width": 150,
		},
		{
			"fieldname": "regulatory_compliance",
			"label": _("Regulatory Compliance (%)"),
			"fieldtype": "Percent",
			"width": 150,
		},
		{"fieldname": "sla_breached", "label": _("SLA Breached"), "fieldtype": "Int", "width": 110},
		{
			"fieldname": "sla_compliance",
			"label": _("SLA Compliance (%)"),
			"fieldtype": "Percent",
			"width": 130,
		},
	]


def chart(data, group):
	top = data[:15]
	return {
		"data": {
			"labels": [d["label"] for d in top],
			"datasets": [
				{"name": _("Complaints"), "values": [d["complaints"] for d in top]},
				{"name": _("Regulatory Clock Breached"), "values": [d["regulatory_breached"] for d in top]},
				{"name": _("SLA Breached"), "values": [d["sla_breached"] for d in top]},
			],
		},
		"type": "bar",
		"title": _("Complaints by {0}").format(_(group)),
	}
