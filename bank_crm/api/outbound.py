"""Delivery log actions and the gateways' delivery receipts.

    POST /api/method/bank_crm.api.outbound.retry  {"name": "<Bank Outbound Message>"}

Queues one more attempt of a Failed or Dead message now (CRM Administrator / System Manager),
e.g. after the Email Account, SMS Settings or an adapter were fixed.

    POST /api/method/bank_crm.api.outbound.receipts?adapter=<Bank Channel Adapter>
    X-Bank-CRM-Signature: sha256=<HMAC-SHA256 of the body with the adapter's Receipt Secret>
    {"receipts": [{"gateway_id": "…", "status": "delivered|failed|opened|clicked", "reason": "…", "at": "…"}]}

A gateway's receipts in bulk (no login: the signature is the credential). A call with a bad or
missing signature, or for an adapter not in batch mode, is refused (403) and logged; receipts for
ids the adapter never gave are counted, logged and not applied.
"""

import json

import frappe
from frappe import _
from frappe.rate_limiter import rate_limit

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


@frappe.whitelist(allow_guest=True, methods=["POST"])
@rate_limit(limit=1200, seconds=60)
def receipts(adapter: str | None = None) -> dict:
	from bank_crm.bank_engagement import receipts as applying
	from bank_crm.core import delivery, gateway

	body = frappe.request.get_data() if frappe.request else b""
	# a JSON body becomes the form dict: the adapter comes with the receipt URL's query string
	adapter = adapter or (frappe.request.args.get("adapter") if frappe.request else None)
	known = isinstance(adapter, str) and frappe.db.exists(
		"Bank Channel Adapter", {"name": adapter, "enabled": 1, "batch_mode": 1}
	)
	secret = (
		frappe.utils.password.get_decrypted_password(
			"Bank Channel Adapter", adapter, "receipt_secret", raise_exception=False
		)
		if known
		else None
	)
	if not gateway.verify(body, secret, frappe.get_request_header(delivery.SIGNATURE_HEADER)):
		applying.log_refusal(
			adapter if known else None,
			"bad signature" if known else "unknown adapter",
			f"from {frappe.local.request_ip}, {len(body)} bytes",
		)
		frappe.db.commit()  # the log stays although the call is refused
		frappe.throw(_("Receipts refused: the signature does not match."), frappe.AuthenticationError)
	try:
		payload = json.loads(body or b"null")
	except ValueError:
		payload = None
	found, bad = gateway.receipts(payload)
	counts = applying.apply(adapter, found)
	if counts["unknown"] or bad:
		applying.log_refusal(
			adapter,
			"receipts not applied",
			f"{counts['unknown']} unknown ids, e.g. {counts['unknown_ids'][:5]}; {len(bad)} malformed rows, e.g. {bad[:5]}",
		)
	return {
		"received": counts["received"],
		"applied": counts["applied"],
		"unchanged": counts["unchanged"],
		"unknown": counts["unknown"],
		"malformed": len(bad),
	}
