# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate

from bank_crm.core import snapshots
from bank_crm.utils.validation import BankCRMValidationError, DuplicateProfileError


class BankFinancialSnapshot(Document):
	"""One customer's figures as of one date (Data Import and the desk; the bulk endpoint
	validates with the same core rules)."""

	def validate(self):
		row = {f: self.get(f) for f in (*snapshots.KEY, *snapshots.FIELDS)}
		row["as_of_date"] = str(getdate(self.as_of_date)) if self.as_of_date else None
		clean, errors = snapshots.clean_row(max((self.idx or 1) - 1, 0), row, getdate())
		if errors:
			e = errors[0]
			label = _(self.meta.get_label(e.field)) if self.meta.has_field(e.field) else e.field
			frappe.throw(_("{0}: {1}").format(label, _(e.reason).format(*e.args)), BankCRMValidationError)
		other = frappe.db.get_value(
			"Bank Financial Snapshot",
			{"customer": self.customer, "as_of_date": self.as_of_date, "name": ("!=", self.name)},
			"name",
		)
		if other:
			frappe.throw(
				_("As Of: {0} already has a snapshot for {1} ({2}).").format(
					self.customer, self.as_of_date, other
				),
				DuplicateProfileError,
			)


FIGURES_INDEX = "customer_date_figures"


def on_doctype_update():
	frappe.db.add_unique(
		"Bank Financial Snapshot", ["customer", "as_of_date"], constraint_name="customer_as_of_date"
	)
	# covering index for the segmentation run: its three snapshot joins read the index only
	frappe.db.add_index(
		"Bank Financial Snapshot",
		[
			"customer",
			"as_of_date",
			"deposit_balance",
			"loan_balance",
			"aum",
			"fee_income",
			"composite_yield",
			"products_held",
		],
		index_name=FIGURES_INDEX,
	)
