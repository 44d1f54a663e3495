# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class BankEscalationLog(Document):
	pass


def on_doctype_update():
	frappe.db.add_index("Bank Escalation Log", ["reference_doctype", "reference_name"])
