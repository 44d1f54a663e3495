# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from bank_crm.utils.validation import BankCRMValidationError


class BankCustomerTier(Document):
	def validate(self):
		if (self.rank or 0) < 1:
			frappe.throw(_("Rank: must be 1 or more (1 is the best tier)"), BankCRMValidationError)
		other = frappe.db.get_value(
			"Bank Customer Tier", {"rank": self.rank, "name": ("!=", self.name)}, "name"
		)
		if other:
			frappe.throw(_("Rank: {0} already has rank {1}").format(other, self.rank), BankCRMValidationError)
