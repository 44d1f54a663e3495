# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt
"""Who read or took out customer data, when and why (Frappe's Access Log): full ID numbers
viewed, report and Data Export exports, prints and PDFs, file downloads and personal-information
exports — with each user's count that day, flagged when a user views more full ID numbers in a
day than *Bank CRM Settings → Alert After Reveals per Day* allows."""

import json

import frappe
from frappe import _
from frappe.utils import add_days, cint, getdate

from bank_crm.permissions.limits import REVEAL_METHOD
from bank_crm.permissions.query_guard import API_LIST_METHOD

DSR_EXPORT = "personal_information_export"


def execute(filters=None):
	filters = frappe._dict(filters or {})
	if not set(frappe.get_roles()) & {"Compliance Auditor", "CRM Administrator", "System Manager"}:
		frappe.throw(
			_("Only a Compliance Auditor may read the sensitive data access log."), frappe.PermissionError
		)
	rows = get_data(filters)
	flagged = sum(1 for r in rows if r.unusual)
	summary = [
		{"label": _("Accesses"), "value": len(rows), "indicator": "blue"},
		{"label": _("Unusual"), "value": flagged, "indicator": "red" if flagged else "green"},
	]
	return get_columns(), rows, None, None, summary


def get_columns():
	return [
		{"label": _("When"), "fieldname": "creation", "fieldtype": "Datetime", "width": 160},
		{"label": _("User"), "fieldname": "user", "fieldtype": "Link", "options": "User", "width": 200},
		{"label": _("Action"), "fieldname": "action", "fieldtype": "Data", "width": 170},
		{"label": _("Document Type"), "fieldname": "doctype_label", "fieldtype": "Data", "width": 150},
		{"label": "export_from", "fieldname": "export_from", "fieldtype": "Data", "hidden": 1},
		{
			"label": _("Document"),
			"fieldname": "reference_document",
			"fieldtype": "Dynamic Link",
			"options": "export_from",
			"width": 150,
		},
		{"label": _("Report"), "fieldname": "report_name", "fieldtype": "Data", "width": 140},
		{"label": _("Why / Details"), "fieldname": "details", "fieldtype": "Data", "width": 240},
		{
			"label": _("Full IDs Viewed That Day"),
			"fieldname": "reveals_that_day",
			"fieldtype": "Int",
			"width": 120,
		},
		{"label": _("Unusual"), "fieldname": "unusual", "fieldtype": "Check", "width": 80},
	]


def action_of(row) -> str:
	if row.method == REVEAL_METHOD:
		return _("Full ID number viewed")
	if row.method == DSR_EXPORT:
		return _("Personal information export")
	if row.method == API_LIST_METHOD:
		return _("API list with personal fields")
	if row.method in ("Print", "PDF"):
		return _("Print / PDF")
	if row.export_from == "File":
		return _("File download")
	if row.method == "Report Export" or row.report_name:
		return _("Report export")
	if row.columns:
		return _("Data Export")
	if row.file_type:
		return _("Report view export")
	return _("Export")


def details_of(row) -> str:
	text = row.filters or ""
	try:
		parsed = json.loads(text) if text else None
	except ValueError:
		parsed = None
	if isinstance(parsed, dict) and parsed.get("reason"):
		return parsed["reason"]
	if row.method == API_LIST_METHOD:
		return f"{row.columns} {text}".strip()[:240]
	if row.file_type and row.action != _("Full ID number viewed"):
		return f"{row.file_type} {text}".strip()[:240]
	return text[:240]


def get_data(filters):
	start = getdate(filters.from_date or add_days(getdate(), -7))
	end = add_days(getdate(filters.to_date or getdate()), 1)
	conditions = {"creation": ("between", [start, end])}
	if filters.user:
		conditions["user"] = filters.user
	rows = frappe.get_all(
		"Access Log",
		filters=conditions,
		fields=[
			"name",
			"creation",
			"user",
			"method",
			"export_from",
			"reference_document",
			"report_name",
			"file_type",
			"filters",
			"columns",
		],
		order_by="creation desc",
		limit_page_length=cint(filters.limit) or 5000,
	)
	threshold = cint(frappe.db.get_single_value("Bank CRM Settings", "reveal_alert_per_day")) or 10
	reveals = {}
	for row in rows:
		if row.method == REVEAL_METHOD:
			key = (row.user, getdate(row.creation))
			reveals[key] = reveals.get(key, 0) + 1
	out = []
	for row in rows:
		row.action = action_of(row)
		if filters.action and row.action != _(filters.action):
			continue
		row.details = details_of(row)
		row.doctype_label = _(row.export_from) if row.export_from else None
		row.reveals_that_day = reveals.get((row.user, getdate(row.creation)), 0)
		row.unusual = int(row.reveals_that_day > threshold)
		if filters.unusual_only and not row.unusual:
			continue
		del row["columns"]
		out.append(row)
	return out
