"""Delivery log actions.

    POST /api/method/bank_crm.api.outbound.retry  {"name": "<Bank Outbound Message>"}

Queues one more attempt of a Failed or Dead message now (CRM Administrator / System Manager),
e.g. after the Email Account, SMS Settings or an adapter were fixed.
"""

import frappe
from frappe import _

from bank_crm.bank_engagement import outbound

RETRY_ROLES = ("CRM Administrator", "System Manager")


@frappe.whitelist(methods=["POST"])
def retry(name: str) -> str:
	if not set(RETRY_ROLES) & set(frappe.get_roles()):
		frappe.throw(_("Only a CRM Administrator can retry a message"), frappe.PermissionError)
	doc = frappe.get_doc(outbound.MESSAGE, name)
	doc.check_permission("read")
	if doc.status not in (outbound.FAILED, outbound.DEAD):
		frappe.throw(_("Only a failed or dead message can be retried; this one is {0}").format(_(doc.status)))
	outbound.requeue(name)
	return outbound.QUEUED
