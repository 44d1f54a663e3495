# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class BankTierHistory(Document):
	pass


def on_doctype_update():
	# a profile's history by date, and the movements of a period; no single-column indexes
	# beside them (each written row maintains every index: a first run writes two million)
	frappe.db.add_index("Bank Tier History", ["profile", "change_date"])
	frappe.db.add_index("Bank Tier History", ["change_date", "from_tier", "to_tier"])
