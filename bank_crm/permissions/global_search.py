"""Global search with record-level access.

Frappe's global search checks only whether a user may read a doctype, not which records: an
RM would find every customer's name, and others' tasks, events and notes that mention them.
This wraps it and drops every result the user may not open.
"""

import frappe
from frappe.utils import global_search


@frappe.whitelist()
def search(text: str, start: int = 0, limit: int = 20, doctype: str = ""):
	results = global_search.search(text, start=start, limit=limit, doctype=doctype)
	return [r for r in results if frappe.has_permission(r.doctype, "read", doc=r.name)]
