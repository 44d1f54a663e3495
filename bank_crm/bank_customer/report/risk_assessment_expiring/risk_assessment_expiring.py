# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt
"""Individuals whose risk assessment (适当性) has expired or expires within N days, within the
user's scope: until it is redone, nothing above R1 may be recommended to them."""

import frappe
from frappe import _
from frappe.utils import add_days, date_diff, getdate


def execute(filters=None):
	filters = frappe._dict(filters or {})
	return get_columns(), get_data(filters)


def get_columns():
	return [
		{
			"label": _("Customer"),
			"fieldname": "customer",
			"fieldtype": "Link",
			"options": "Customer",
			"width": 130,
		},
		{"label": _("Customer Name"), "fieldname": "customer_name", "fieldtype": "Data", "width": 160},
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
		{"label": _("Risk Tolerance"), "fieldname": "risk_tolerance", "fieldtype": "Data", "width": 90},
		{"label": _("Assessed On"), "fieldname": "risk_assessment_date", "fieldtype": "Date", "width": 110},
		{
			"label": _("Expires On"),
			"fieldname": "risk_assessment_expires_on",
			"fieldtype": "Date",
			"width": 110,
		},
		{"label": _("Days Left"), "fieldname": "days_left", "fieldtype": "Int", "width": 90},
		{
			"label": _("Profile"),
			"fieldname": "name",
			"fieldtype": "Link",
			"options": "Bank Customer Profile",
			"width": 130,
		},
	]


def get_data(filters):
	today = getdate()
	horizon = add_days(today, int(filters.within_days if filters.within_days is not None else 30))
	conditions = [
		["profile_type", "=", "Individual"],
		["risk_assessment_expires_on", "is", "set"],
		["risk_assessment_expires_on", "<=", horizon],
	]
	for key in ("branch", "relationship_manager"):
		if filters.get(key):
			conditions.append([key, "=", filters[key]])
	if not filters.include_expired:
		conditions.append(["risk_assessment_expires_on", ">=", today])
	fields = [c["fieldname"] for c in get_columns() if c["fieldname"] != "days_left"]
	# get_list applies the user's row-level access (permission_query_conditions)
	rows = frappe.get_list(
		"Bank Customer Profile",
		filters=conditions,
		fields=fields,
		order_by="risk_assessment_expires_on asc",
		limit_page_length=int(filters.limit or 5000),
	)
	for row in rows:
		row.days_left = date_diff(row.risk_assessment_expires_on, today)
	return rows
