"""Global search with bank_crm's row-level access.

Frappe's global search checks only whether a user may read a doctype, not which records:
an RM would find every customer's name. This wraps it and drops results the user may not
open, for the doctypes whose rows bank_crm restricts.
"""

import frappe
from frappe.utils.global_search import search as frappe_search

ROW_SCOPED = {"Customer", "Bank Customer Profile"}


@frappe.whitelist()
def search(text: str, start: int = 0, limit: int = 20, doctype: str = ""):
	results = frappe_search(text, start=start, limit=limit, doctype=doctype)
	return [
		r
		for r in results
		if r.doctype not in ROW_SCOPED or frappe.has_permission(r.doctype, "read", doc=r.name)
	]
