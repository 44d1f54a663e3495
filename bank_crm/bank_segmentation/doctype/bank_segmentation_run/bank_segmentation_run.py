# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

from frappe.model.document import Document


class BankSegmentationRun(Document):
	"""The audit record of one segmentation or what-if run: written by the job only."""
