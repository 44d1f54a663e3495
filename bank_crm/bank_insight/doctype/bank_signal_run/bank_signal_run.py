# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

from frappe.model.document import Document


class BankSignalRun(Document):
	"""One need-signal detection run: its window of new data, counts and errors."""
