# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from bank_crm.core import signals
from bank_crm.utils.validation import BankCRMValidationError


class BankNeedRule(Document):
	"""A rule that recognises a customer's need; every change is kept in the document's
	version log (track changes)."""

	def validate(self):
		from bank_crm.bank_insight.need_detection import rule_from_doc

		for field, reason in signals.validate(rule_from_doc(self)):
			frappe.throw(
				_("{0}: {1}").format(_(self.meta.get_label(field)), _(reason)),
				BankCRMValidationError,
				title=_("Invalid Rule"),
			)
