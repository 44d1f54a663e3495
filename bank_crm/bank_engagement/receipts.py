"""Delivery receipts from batch gateways, applied in sets (``api.outbound.receipts`` takes them).

A call carries thousands of receipts keyed by the gateway's message id. They are matched to the
adapter's own messages a chunk at a time (an id of another adapter's message, or none, is
unknown: counted, logged, never applied), reduced to the most advanced news per message
(``core.gateway.latest``), and written by one UPDATE … JOIN per chunk, only where they move a
message on (a replayed call changes nothing). A receipt that says the number or token does not
exist marks the contact unusable on the profile (``batch_delivery.mark_unusable``).
"""

from __future__ import annotations

from datetime import datetime

import frappe
from frappe import _
from frappe.utils import now_datetime

from bank_crm.core import gateway
from bank_crm.utils.bulk import in_list, update_rows

MESSAGE = "Bank Outbound Message"
CHUNK = 5_000


def apply(adapter: str, found: list[gateway.Receipt], now: datetime | None = None) -> dict:
	"""Apply an adapter's receipts; the counts (received, applied, unchanged, unknown ids)."""
	from bank_crm.bank_engagement.batch_delivery import mark_unusable

	now = now or now_datetime()
	final = gateway.latest(found)
	ids = list(final)
	counts = {"received": len(found), "applied": 0, "unchanged": 0, "unknown": 0, "unknown_ids": []}
	for start in range(0, len(ids), CHUNK):
		chunk = ids[start : start + CHUNK]
		stored = {
			gid: (name, status)
			for name, gid, status in frappe.db.sql(
				f"""select name, gateway_message_id, receipt_status from `tab{MESSAGE}`
				where gateway_message_id in {in_list(chunk)} and adapter = %s""",
				(adapter,),
			)
		}
		updates, unusable = [], []
		for gid in chunk:
			if gid not in stored:
				counts["unknown"] += 1
				if len(counts["unknown_ids"]) < 20:
					counts["unknown_ids"].append(gid)
				continue
			name, status = stored[gid]
			receipt = final[gid]
			if not gateway.advances(status, receipt.status):
				counts["unchanged"] += 1
				continue
			updates.append(
				{
					"name": name,
					"receipt_status": receipt.status,
					"receipt_reason": receipt.reason,
					"receipt_at": receipt.at or now,
					"modified": now,
				}
			)
			if receipt.status == gateway.UNDELIVERED and gateway.unusable(receipt.reason):
				unusable.append((name, receipt.reason))
		update_rows(MESSAGE, updates)
		if unusable:
			mark_unusable(unusable, now)
		counts["applied"] += len(updates)
	return counts


def log_refusal(adapter: str | None, why: str, detail: str = ""):
	"""A receipt call refused (bad signature, unknown adapter) or receipts not applied (unknown
	ids): an Error Log, never applied."""
	frappe.log_error(
		title=_("Delivery receipts refused from adapter {0}: {1}").format(adapter or "-", why)[:140],
		message=f"{why}\n{detail}"[:5000],
		reference_doctype="Bank Channel Adapter" if adapter else None,
		reference_name=adapter,
	)
