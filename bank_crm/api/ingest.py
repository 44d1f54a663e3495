"""Bulk ingestion endpoints for the bank's core systems.

    POST /api/method/bank_crm.api.ingest.snapshots
    Authorization: token <api key>:<api secret>      (a user with the Bank CRM Integration role)
    Content-Type: application/json

    {"rows": [{"customer": "CUST-0001", "as_of_date": "2026-11-27", "deposit_balance": 120000.5,
               "loan_balance": 0, "aum": 300000, "fee_income": 150, "composite_yield": 2.35,
               "products_held": 3, "source": "core-banking"}, ...],
     "replace": false}

The answer counts what happened to every row; ``errors`` lists each refused row's index,
field and reason (in the caller's language). Sending the same batch again stores nothing new.
"""

import frappe
from frappe import _

from bank_crm.api import flag, json_rows, use_callers_language
from bank_crm.bank_segmentation.snapshot_ingestion import MAX_ROWS, SNAPSHOT, ingest_snapshots
from bank_crm.permissions import limits


@frappe.whitelist(methods=["POST"])
@limits.per_user("ingest_calls_per_minute", 60)
def snapshots(rows=None, replace=False) -> dict:
	use_callers_language()
	if not frappe.has_permission(SNAPSHOT, "create"):
		frappe.throw(_("You may not load financial snapshots."), frappe.PermissionError)
	rows = json_rows(rows, MAX_ROWS, _("snapshot objects"))
	result = ingest_snapshots(rows, replace=flag(replace, "replace"))
	result["errors"] = [
		{"index": e.index, "field": e.field, "reason": _(e.reason).format(*e.args)} for e in result["errors"]
	]
	return result
