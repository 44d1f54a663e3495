# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

from frappe.model.document import Document


class BankEventType(Document):
	"""A kind of customer activity the core systems report (the bank extends the list)."""
