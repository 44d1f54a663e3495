"""运行监控: the operations overview for CRM Administrators."""

import frappe

from bank_crm.bank_crm import operations
from bank_crm.permissions.scope import require_crm_administrator


@frappe.whitelist(methods=["GET"])
def overview() -> dict:
	"""Each scheduled job's last success, duration trend, failed and orphaned shards; backlogs;
	Frappe's System Health Report figures; failed background jobs of the app."""
	require_crm_administrator()
	return operations.overview()
