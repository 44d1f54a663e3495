# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from bank_crm.permissions.scope import clear_scope_cache
from bank_crm.utils.validation import BankCRMValidationError


class BankBranch(Document):
	def validate(self):
		self.validate_members()

	def validate_members(self):
		seen = set()
		for row in self.members:
			key = (row.user, row.member_role)
			if key in seen:
				frappe.throw(
					_("Members: row {0}: {1} is already listed as {2}").format(
						row.idx, row.user, _(row.member_role)
					),
					BankCRMValidationError,
				)
			seen.add(key)
			if row.member_role not in frappe.get_roles(row.user):
				frappe.throw(
					_("Members: row {0}: {1} does not have the {2} role").format(
						row.idx, row.user, _(row.member_role)
					),
					BankCRMValidationError,
				)

	def on_update(self):
		clear_scope_cache()
