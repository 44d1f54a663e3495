# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class BankBroadcastRecipient(Document):
	"""One customer of a broadcast: queued, sent, failed or skipped, and why."""


def on_doctype_update():
	# the customer-360's broadcasts received: a customer's sent rows, latest first
	frappe.db.add_index("Bank Broadcast Recipient", ["customer", "status", "sent_on"], "customer_status_sent")
	# a broadcast's rows by status in name order: the sending shards' batches, the counts
	frappe.db.add_index("Bank Broadcast Recipient", ["broadcast", "status", "name"], "broadcast_status_name")
