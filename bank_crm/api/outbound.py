"""Delivery log actions.

    POST /api/method/bank_crm.api.outbound.retry  {"name": "<Bank Outbound Message>"}

Queues one more attempt of a Failed or Dead message now (CRM Administrator / System Manager),
e.g. after the Email Account, SMS Settings or an adapter were fixed.
"""

import frappe
from frappe import _

from bank_crm.bank_engagement import outbound
from bank_crm.permissions.scope import require_crm_administrator


@frappe.whitelist(methods=["POST"])
def retry(name: str) -> str:
	require_crm_administrator()
	doc = frappe.get_doc(outbound.MESSAGE, name)
	doc.check_permission("read")
	if doc.status not in (outbound.FAILED, outbound.DEAD):
		frappe.throw(_("Only a failed or dead message can be retried; this one is {0}").format(_(doc.status)))
	outbound.requeue(name)
	return outbound.QUEUED
