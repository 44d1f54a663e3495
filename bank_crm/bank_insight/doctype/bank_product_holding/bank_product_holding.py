# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate

from bank_crm.core import activity
from bank_crm.utils.validation import BankCRMValidationError


class BankProductHolding(Document):
	"""A product the customer holds: one per customer and product (the bulk endpoint replaces
	it when the core system sends it again)."""

	def autoname(self):
		self.name = activity.holding_key(self.customer or "", self.product or "")

	def validate(self):
		row = {f: self.get(f) for f in (*activity.HOLDING_REQUIRED, *activity.HOLDING_OPTIONAL)}
		for field in ("opened_on", "maturity_date"):
			row[field] = str(getdate(row[field])) if row[field] else None
		clean, errors = activity.clean_holding(0, row, getdate())
		if errors:
			e = errors[0]
			label = _(self.meta.get_label(e.field)) if self.meta.has_field(e.field) else e.field
			frappe.throw(_("{0}: {1}").format(label, _(e.reason).format(*e.args)), BankCRMValidationError)


def on_doctype_update():
	frappe.db.add_index("Bank Product Holding", ["customer", "status"], "customer_status")
	frappe.db.add_index("Bank Product Holding", ["maturity_date", "status"], "maturity_status")
	frappe.db.add_index("Bank Product Holding", ["modified"], "modified_index")
