# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class BankNeedSignal(Document):
	"""A need recognised in a customer's behaviour; it changes only through the actions in
	``bank_crm.api.insight`` (act, dismiss, create an opportunity) and the detection job."""


def on_doctype_update():
	frappe.db.add_index("Bank Need Signal", ["customer", "rule", "raised_on"], "customer_rule_raised")
	frappe.db.add_index("Bank Need Signal", ["status", "raised_on"], "status_raised")
	frappe.db.add_index("Bank Need Signal", ["relationship_manager", "status"], "rm_status")
	# the workbench's open needs of a branch (or an RM), most urgent first, and their count: the
	# scope's open rows in that order (a branch's took 0.3 s twice through the status index)
	frappe.db.add_index("Bank Need Signal", ["branch", "status", "priority", "raised_on"], "branch_open")
	frappe.db.add_index(
		"Bank Need Signal", ["relationship_manager", "status", "priority", "raised_on"], "rm_open"
	)
