# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import json

import frappe
from frappe import _
from frappe.model.document import Document

from bank_crm.bank_segmentation.segmentation import build_policy
from bank_crm.core.errors import CoreValidationError
from bank_crm.utils.validation import BankCRMValidationError, throw_field_error

VERSIONED_TABLES = ("metrics", "factors", "tiers")
VERSIONED_FIELDS = (
	"risk_multiplier_low",
	"risk_multiplier_medium",
	"risk_multiplier_high",
	"downgrade_margin",
	"downgrade_runs",
)


class BankTierPolicy(Document):
	def before_insert(self):
		self.status = "Draft"
		self.activated_on = self.activated_by = self.retired_on = self.last_what_if = None
		self.version = (frappe.db.sql("select max(version) from `tabBank Tier Policy`")[0][0] or 0) + 1
		if not self.tiers:
			for tier in frappe.get_all(
				"Bank Customer Tier",
				fields=["name", "min_score", "min_aum", "min_deposit_balance"],
				order_by="`rank` asc",
			):
				self.append(
					"tiers",
					{
						"tier": tier.name,
						"min_score": tier.min_score,
						"min_aum": tier.min_aum,
						"min_deposit_balance": tier.min_deposit_balance,
					},
				)

	def validate(self):
		self.validate_frozen()
		try:
			build_policy(self)
		except CoreValidationError as err:
			throw_field_error(self, err)

	def validate_frozen(self):
		"""Active and retired versions are the record of how customers were scored."""
		before = self.get_doc_before_save()
		if not before or before.status == "Draft":
			return
		if _versioned(before) != _versioned(self):
			frappe.throw(
				_(
					"{0} is {1}: its weights and thresholds cannot change. Copy it into a new draft version."
				).format(self.name, _(before.status)),
				BankCRMValidationError,
			)

	def on_trash(self):
		if self.status != "Draft":
			frappe.throw(
				_("Only draft policies can be deleted; {0} is {1}.").format(self.name, _(self.status))
			)


def _versioned(doc) -> str:
	data = {f: doc.get(f) for f in VERSIONED_FIELDS}
	for table in VERSIONED_TABLES:
		data[table] = [
			{
				k: v
				for k, v in row.as_dict().items()
				if k not in ("name", "modified", "creation", "owner", "modified_by", "parent", "idx")
			}
			for row in doc.get(table)
		]
	return json.dumps(data, sort_keys=True, default=str)
