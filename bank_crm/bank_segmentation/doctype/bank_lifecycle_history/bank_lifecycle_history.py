# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class BankLifecycleHistory(Document):
	pass


def on_doctype_update():
	frappe.db.add_index("Bank Lifecycle History", ["profile", "change_date"])
	frappe.db.add_index("Bank Lifecycle History", ["change_date", "to_stage"])
