# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

from frappe.model.document import Document


class BankBroadcastRecipient(Document):
	"""One customer of a broadcast: queued, sent, failed or skipped, and why."""
