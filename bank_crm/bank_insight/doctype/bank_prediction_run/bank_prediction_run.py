# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

from frappe.model.document import Document


class BankPredictionRun(Document):
	"""One nightly scoring run of every customer by the active models, in key-range shards, with its drift."""
