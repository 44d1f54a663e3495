# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

from frappe.model.document import Document


class BankPredictionScore(Document):
	"""A customer's score by one model on one day (written in bulk by the nightly scoring, only when it changed)."""


def on_doctype_update():
	import frappe

	# a customer's score trend, and the scores of a day
	frappe.db.add_index("Bank Prediction Score", ["profile", "kind", "scored_on"], "profile_kind_day")
	frappe.db.add_index("Bank Prediction Score", ["scored_on", "kind"], "day_kind")
