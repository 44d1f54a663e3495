# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class BankConsentRecord(Document):
	pass


def on_doctype_update():
	# a broadcast reads, for each recipient, the consents in force: from this index alone
	frappe.db.add_index(
		"Bank Consent Record",
		["parent", "parenttype", "purpose", "channel", "granted_on", "withdrawn_on"],
		"parent_in_force",
	)
