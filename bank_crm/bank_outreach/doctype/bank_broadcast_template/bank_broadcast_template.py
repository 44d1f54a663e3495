# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

from frappe.model.document import Document


class BankBroadcastTemplate(Document):
	"""A ready text for a broadcast (e.g. a rate change), copied into a new broadcast and edited there."""
