# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from bank_crm.core import escalation
from bank_crm.core.errors import CoreValidationError


class BankServiceSettings(Document):
	def validate(self):
		self.validate_rules()
		self.validate_matrix()

	def validate_rules(self):
		seen = set()
		for row in self.sla_rules:
			key = (row.request_type, row.urgency, row.tier or "")
			if key in seen:
				frappe.throw(
					_("Row {0}: another SLA rule covers {1} / {2} / {3}").format(
						row.idx, _(row.request_type), _(row.urgency), row.tier or _("Any Tier")
					)
				)
			seen.add(key)
			if row.response_hours > row.resolution_hours:
				frappe.throw(_("Row {0}: the response is due after the resolution").format(row.idx))

	def validate_matrix(self):
		try:
			escalation.validate_matrix(
				escalation.Level(r.level, r.recipient, r.offset_minutes) for r in self.escalation_matrix
			)
		except CoreValidationError as e:
			frappe.throw(_(e.message).format(*e.args_))

	def on_update(self):
		frappe.local.bank_escalation_matrix = None
