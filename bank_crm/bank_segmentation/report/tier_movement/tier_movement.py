# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt
"""Tier changes in a period: from-tier × to-tier counts, and changes per month, in scope."""

import frappe
from frappe import _
from frappe.utils import add_months, getdate


def execute(filters=None):
	filters = frappe._dict(filters or {})
	to_date = getdate(filters.to_date or None)
	from_date = getdate(filters.from_date or add_months(to_date, -12))
	# get_list applies row-level access (history rows follow their customer profile)
	rows = frappe.get_list(
		"Bank Tier History",
		filters={"change_date": ("between", [from_date, to_date])},
		fields=["from_tier", "to_tier", "count(name) as n"],
		group_by="from_tier, to_tier",
	)
	ranks = dict(frappe.get_all("Bank Customer Tier", fields=["name", "rank"], as_list=True))
	tiers = sorted(ranks, key=ranks.get)
	matrix = {}
	for r in rows:
		matrix.setdefault(r.from_tier or "", {})[r.to_tier or ""] = r.n
	columns = [{"label": _("From Tier"), "fieldname": "from_tier", "fieldtype": "Data", "width": 160}]
	columns += [
		{
			"label": _("To {0}", context="Tier Movement").format(_(t)),
			"fieldname": frappe.scrub(t),
			"fieldtype": "Int",
			"width": 120,
		}
		for t in tiers
	]
	columns.append({"label": _("Total"), "fieldname": "total", "fieldtype": "Int", "width": 100})
	data = []
	for origin in ["", *tiers]:
		if origin not in matrix:
			continue
		row = {"from_tier": _(origin) if origin else _("(first tiering)")}
		for t in tiers:
			row[frappe.scrub(t)] = matrix[origin].get(t, 0)
		row["total"] = sum(matrix[origin].values())
		data.append(row)
	monthly = frappe.get_list(
		"Bank Tier History",
		filters={"change_date": ("between", [from_date, to_date]), "from_tier": ("is", "set")},
		fields=["date_format(change_date, '%Y-%m') as month", "count(name) as n"],
		group_by="month",
		order_by="month asc",
	)
	chart = {
		"data": {
			"labels": [m.month for m in monthly],
			"datasets": [{"name": _("Tier changes"), "values": [m.n for m in monthly]}],
		},
		"type": "line",
	}
	return columns, data, None, chart
