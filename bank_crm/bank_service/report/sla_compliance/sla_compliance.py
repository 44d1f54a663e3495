# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt
"""SLA compliance of all service requests, grouped by type, urgency, tier, channel or branch.
Three grouped queries through ``get_list`` (row-level access applies), no row-by-row work."""

import frappe
from frappe import _
from frappe.utils import flt, now_datetime

REQUEST = "Bank Service Request"
GROUPS = {
	"Request Type": "request_type",
	"Urgency": "urgency",
	"Tier": "tier",
	"Channel": "channel",
	"Branch": "branch",
}
TRANSLATED = {"request_type", "urgency", "channel", "tier"}


def execute(filters=None):
	filters = frappe._dict(filters or {})
	group = filters.get("group_by") or "Request Type"
	field = GROUPS.get(group, "request_type")
	base = conditions(filters)

	def grouped(extra, fields):
		return {
			r.grp: r
			for r in frappe.get_list(
				REQUEST,
				filters={**base, **extra},
				fields=[f"`{field}` as grp", *fields],
				group_by=f"`{field}`",
				order_by=f"`{field}` asc",
				limit_page_length=0,
			)
		}

	everything = grouped(
		{},
		[
			"count(`name`) as requests",
			"sum(`response_breached`) as response_breached",
			"sum(`resolution_breached`) as resolution_breached",
			"sum(`first_contact_resolution`) as first_contact",
		],
	)
	resolved = grouped({"resolved_on": ("is", "set")}, ["count(`name`) as resolved"])
	# past due but not yet flagged by the escalation job (it runs every few minutes)
	now = now_datetime()
	late_response = grouped(
		{"responded_on": ("is", "not set"), "response_due": ("<", now), "response_breached": 0},
		["count(`name`) as n"],
	)
	late_resolution = grouped(
		{
			"resolved_on": ("is", "not set"),
			"paused_since": ("is", "not set"),
			"resolution_due": ("<", now),
			"resolution_breached": 0,
		},
		["count(`name`) as n"],
	)
	rated = grouped(
		{"satisfaction": (">", 0)}, ["count(`name`) as rated", "avg(`satisfaction`) as satisfaction"]
	)
	data = []
	for key, r in everything.items():
		n = r.requests or 0
		r.response_breached = (r.response_breached or 0) + (
			late_response[key].n if key in late_response else 0
		)
		r.resolution_breached = (r.resolution_breached or 0) + (
			late_resolution[key].n if key in late_resolution else 0
		)
		res = resolved.get(key)
		rate = rated.get(key)
		data.append(
			{
				"label": (_(key) if field in TRANSLATED else key) if key else _("Not Set"),
				"requests": n,
				"response_breached": int(r.response_breached or 0),
				"response_compliance": flt(100 * (1 - (r.response_breached or 0) / n), 1) if n else None,
				"resolved": res.resolved if res else 0,
				"resolution_breached": int(r.resolution_breached or 0),
				"resolution_compliance": flt(100 * (1 - (r.resolution_breached or 0) / n), 1) if n else None,
				"first_contact": int(r.first_contact or 0),
				"satisfaction": flt(rate.satisfaction, 2) if rate else None,
			}
		)
	return columns(group), data, None, chart(data)


def conditions(filters):
	out = {}
	if filters.get("from_date") and filters.get("to_date"):
		out["registered_on"] = ("between", [filters.from_date, f"{filters.to_date} 23:59:59"])
	for f in ("branch", "request_type", "urgency"):
		if filters.get(f):
			out[f] = filters[f]
	return out


def columns(group):
	return [
		{"fieldname": "label", "label": _(group), "fieldtype": "Data", "width": 180},
		{"fieldname": "requests", "label": _("Requests"), "fieldtype": "Int", "width": 100},
		{
			"fieldname": "response_breached",
			"label": _("Response SLA Breached"),
			"fieldtype": "Int",
			"width": 150,
		},
		{
			"fieldname": "response_compliance",
			"label": _("Response Compliance (%)"),
			"fieldtype": "Percent",
			"width": 160,
		},
		{"fieldname": "resolved", "label": _("Resolved"), "fieldtype": "Int", "width": 90},
		{
			"fieldname": "resolution_breached",
			"label": _("Resolution SLA Breached"),
			"fieldtype": "Int",
			"width": 160,
		},
		{
			"fieldname": "resolution_compliance",
			"label": _("Resolution Compliance (%)"),
			"fieldtype": "Percent",
			"width": 170,
		},
		{
			"fieldname": "first_contact",
			"label": _("Resolved on First Contact"),
			"fieldtype": "Int",
			"width": 160,
		},
		{"fieldname": "satisfaction", "label": _("Average Satisfaction"), "fieldtype": "Float", "width": 140},
	]


def chart(data):
	return {
		"data": {
			"labels": [d["label"] for d in data],
			"datasets": [
				{
					"name": _("Response Compliance (%)"),
					"values": [d["response_compliance"] or 0 for d in data],
				},
				{
					"name": _("Resolution Compliance (%)"),
					"values": [d["resolution_compliance"] or 0 for d in data],
				},
			],
		},
		"type": "bar",
		"title": _("SLA Compliance"),
	}
