"""Customer-360: one whitelisted method for the page, integrations and tests."""

import frappe

from bank_crm.bank_crm.page.customer_360 import customer_360 as customer360
from bank_crm.utils.servers import served_by


@frappe.whitelist(methods=["GET"])
@frappe.read_only()
def get(customer: str) -> dict:
	"""Everything about ``customer`` (the ERPNext Customer name) the caller may read; 403 with
	nothing of the customer when the caller may not open it. Read from the site's replica when
	it has one (``read_from_replica``); ``served_by`` says which server answered."""
	return {**customer360.get(customer), "served_by": served_by()}
