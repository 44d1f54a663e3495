# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class BankOutboundMessage(Document):
	"""One contact with a customer and its delivery log; written by bank_crm.bank_engagement.outbound."""


def on_doctype_update():
	# retry_due: status = Failed/Queued and next_attempt_at <= now, oldest first
	frappe.db.add_index("Bank Outbound Message", ["status", "next_attempt_at"])
	frappe.db.add_index("Bank Outbound Message", ["reference_doctype", "reference_name"])
	# the batch senders claim an adapter's due messages; the timeline reads a customer's
	frappe.db.add_index("Bank Outbound Message", ["adapter", "status", "next_attempt_at"], "adapter_due")
	frappe.db.add_index("Bank Outbound Message", ["customer", "creation"], "customer_creation")
