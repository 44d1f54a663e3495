# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class BankCareEvent(Document):
	pass


def on_doctype_update():
	# the customer-360's care section: a customer's events from a date
	frappe.db.add_index("Bank Care Event", ["customer", "event_date"], "customer_event_date")
	# the care job's events not acted on yet, a page at a time in name order
	frappe.db.add_index("Bank Care Event", ["status", "name"], "status_name")
