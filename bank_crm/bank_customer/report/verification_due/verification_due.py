# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt
"""Profiles whose verification is lapsed, failed, incomplete or due soon, within the user's scope."""

import frappe
from frappe import _
from frappe.utils import add_days, date_diff, getdate


def execute(filters=None):
	filters = frappe._dict(filters or {})
	return get_columns(), get_data(filters)


def get_columns():
	return [
		{
			"label": _("Profile"),
			"fieldname": "name",
			"fieldtype": "Link",
			"options": "Bank Customer Profile",
			"width": 130,
		},
		{"label": _("Customer Name"), "fieldname": "customer_name", "fieldtype": "Data", "width": 160},
		{"label": _("Profile Type"), "fieldname": "profile_type", "fieldtype": "Data", "width": 100},
		{
			"label": _("Relationship Manager"),
			"fieldname": "relationship_manager",
			"fieldtype": "Link",
			"options": "User",
			"width": 180,
		},
		{
			"label": _("Branch", context="Bank Customer Profile"),
			"fieldname": "branch",
			"fieldtype": "Link",
			"options": "Bank Branch",
			"width": 100,
		},
		{
			"label": _("Verification Status"),
			"fieldname": "verification_status",
			"fieldtype": "Data",
			"width": 120,
		},
		{
			"label": _("Re-verification Due On"),
			"fieldname": "reverification_due_on",
			"fieldtype": "Date",
			"width": 130,
		},
		{"label": _("Days Left"), "fieldname": "days_left", "fieldtype": "Int", "width": 90},
		{
			"label": _("Outstanding Checks"),
			"fieldname": "verification_outstanding",
			"fieldtype": "Data",
			"width": 220,
		},
	]


def get_data(filters):
	today = getdate()
	horizon = add_days(today, int(filters.within_days or 30))
	conditions = {}
	for key in ("branch", "relationship_manager", "profile_type"):
		if filters.get(key):
			conditions[key] = filters[key]
	fields = [c["fieldname"] for c in get_columns() if c["fieldname"] != "days_left"]
	# get_list applies the user's row-level access (permission_query_conditions)
	rows = frappe.get_list(
		"Bank Customer Profile",
		filters=conditions,
		or_filters=[
			["verification_status", "in", ["Unverified", "In Progress", "Failed", "Lapsed"]],
			["reverification_due_on", "<=", horizon],
		],
		fields=fields,
		order_by="reverification_due_on asc",
		limit_page_length=int(filters.limit or 5000),
	)
	for row in rows:
		row.verification_status = _(row.verification_status)
		row.profile_type = _(row.profile_type)
		row.days_left = date_diff(row.reverification_due_on, today) if row.reverification_due_on else None
	return rows
