"""Customer-360: one whitelisted method for the page, integrations and tests."""

import frappe

from bank_crm.services import customer360


@frappe.whitelist(methods=["GET"])
def get(customer: str) -> dict:
	"""Everything about ``customer`` (the ERPNext Customer name) the caller may read; 403 with
	nothing of the customer when the caller may not open it."""
	return customer360.get(customer)
