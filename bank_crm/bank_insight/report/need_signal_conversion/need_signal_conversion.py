# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt
"""Need signals from raised to acted, dismissed, expired and converted, per rule, category, RM
or branch — within the user's scope (an RM sees own customers', a branch manager the branch's)."""

from collections import defaultdict

import frappe
from frappe import _
from frappe.utils import add_days, get_datetime, getdate

from bank_crm.core.signals import median_hours

GROUPS = {
	"Rule": "rule",
	"Need Category": "need_category",
	"Relationship Manager": "relationship_manager",
	"Branch": "branch",
}
WON = "Converted"


def execute(filters=None):
	filters = frappe._dict(filters or {})
	group_label = filters.group_by if filters.group_by in GROUPS else "Rule"
	group_field = GROUPS[group_label]
	signals = _signals(filters, group_field)
	stats, durations = _tally(signals, _won(signals), group_field)
	data = _rows(stats, durations)
	return _columns(group_label, group_field), data, None, _chart(data)


def _signals(filters, group_field) -> list:
	"""The need signals raised in the period that the user may read, oldest first."""
	to_date = getdate(filters.to_date or None)
	from_date = getdate(filters.from_date or add_days(to_date, -90))
	conditions = [["raised_on", "between", [from_date, add_days(to_date, 1)]]]
	for field in ("need_category", "relationship_manager", "branch", "rule"):
		if filters.get(field):
			conditions.append([field, "=", filters[field]])
	# get_list applies row-level access
	return frappe.get_list(
		"Bank Need Signal",
		filters=conditions,
		fields=[group_field, "status", "opportunity", "raised_on", "closed_on"],
		limit_page_length=0,
		order_by="raised_on asc",
	)


def _won(rows) -> set:
	"""The signals' opportunities that were won."""
	won = set()
	opportunities = {r.opportunity for r in rows if r.opportunity}
	if opportunities:
		won = set(
			frappe.get_all(
				"Opportunity", filters={"name": ("in", list(opportunities)), "status": WON}, pluck="name"
			)
		)
	return won


def _tally(rows, won, group_field) -> tuple[dict, dict]:
	"""Counts per group (raised, by status, converted, won) and the times from raised to acted."""
	stats = defaultdict(lambda: defaultdict(int))
	durations = defaultdict(list)
	for r in rows:
		key = r.get(group_field) or _("Not set")
		s = stats[key]
		s["raised"] += 1
		s[r.status.lower()] += 1
		if r.opportunity:
			s["converted"] += 1
			s["won"] += r.opportunity in won
		if r.status == "Acted" and r.closed_on:
			durations[key].append(get_datetime(r.closed_on) - get_datetime(r.raised_on))
	return stats, durations


def _rows(stats, durations) -> list[dict]:
	"""One row per group, the most raised first, with its rates and median hours to act."""
	data = []
	for key in sorted(stats, key=lambda k: -stats[k]["raised"]):
		s = stats[key]
		closed = s["acted"] + s["dismissed"] + s["expired"]
		data.append(
			{
				"group": key,
				"raised": s["raised"],
				"open": s["open"],
				"acted": s["acted"],
				"dismissed": s["dismissed"],
				"expired": s["expired"],
				"converted": s["converted"],
				"won": s["won"],
				"acted_rate": 100.0 * s["acted"] / closed if closed else None,
				"conversion_rate": 100.0 * s["converted"] / s["raised"] if s["raised"] else None,
				"median_hours_to_act": median_hours(durations[key]),
			}
		)
	return data


def _columns(group_label, group_field) -> list[dict]:
	link = {"rule": "Bank Need Rule", "relationship_manager": "User", "branch": "Bank Branch"}.get(
		group_field
	)
	return [
		{
			"label": _(group_label),
			"fieldname": "group",
			"fieldtype": "Link" if link else "Data",
			"options": link,
			"width": 220,
		},
		{"label": _("Raised"), "fieldname": "raised", "fieldtype": "Int", "width": 90},
		{"label": _("Open"), "fieldname": "open", "fieldtype": "Int", "width": 80},
		{"label": _("Acted"), "fieldname": "acted", "fieldtype": "Int", "width": 80},
		{"label": _("Dismissed"), "fieldname": "dismissed", "fieldtype": "Int", "width": 90},
		{"label": _("Expired"), "fieldname": "expired", "fieldtype": "Int", "width": 80},
		{"label": _("Opportunities"), "fieldname": "converted", "fieldtype": "Int", "width": 110},
		{"label": _("Won"), "fieldname": "won", "fieldtype": "Int", "width": 70},
		{"label": _("Acted of Closed (%)"), "fieldname": "acted_rate", "fieldtype": "Percent", "width": 130},
		{"label": _("Converted (%)"), "fieldname": "conversion_rate", "fieldtype": "Percent", "width": 120},
		{
			"label": _("Median Hours to Act"),
			"fieldname": "median_hours_to_act",
			"fieldtype": "Float",
			"width": 150,
		},
	]


def _chart(data) -> dict:
	return {
		"data": {
			"labels": [str(d["group"]) for d in data[:12]],
			"datasets": [
				{"name": _("Raised"), "values": [d["raised"] for d in data[:12]]},
				{"name": _("Acted"), "values": [d["acted"] for d in data[:12]]},
				{"name": _("Opportunities"), "values": [d["converted"] for d in data[:12]]},
			],
		},
		"type": "bar",
	}
