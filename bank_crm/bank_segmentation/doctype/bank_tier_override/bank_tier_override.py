# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import add_days, getdate, now_datetime

from bank_crm.utils.validation import BankCRMValidationError

MAX_DAYS = 366


class BankTierOverride(Document):
	"""A manual tier for one customer until a date, effective once a Branch Manager approves
	it (Workflow "Bank Tier Override Approval")."""

	def validate(self):
		if self.is_new() or not self.current_tier:
			self.current_tier = frappe.db.get_value("Bank Customer Profile", self.profile, "tier")
		today = getdate()
		if self.docstatus == 0:
			if getdate(self.expires_on) <= today:
				frappe.throw(_("Expires On: must be after today"), BankCRMValidationError)
			if getdate(self.expires_on) > getdate(add_days(today, MAX_DAYS)):
				frappe.throw(_("Expires On: an override may last at most one year"), BankCRMValidationError)
		if self.requested_tier == self.current_tier and self.docstatus == 0:
			frappe.throw(
				_("Requested Tier: the customer is already in {0}").format(_(self.current_tier)),
				BankCRMValidationError,
			)
		self.validate_approver()

	def validate_approver(self):
		before = self.get_doc_before_save()
		becoming_approved = self.status == "Approved" and (not before or before.status != "Approved")
		if becoming_approved and frappe.session.user == self.owner:
			frappe.throw(
				_("You requested this override, so someone else must approve it."), frappe.PermissionError
			)

	def before_submit(self):
		if self.status != "Approved":
			frappe.throw(_("Only an approved override takes effect."), BankCRMValidationError)
		self.approved_by = frappe.session.user
		self.approved_on = now_datetime()

	def on_submit(self):
		apply_override(self)

	def on_cancel(self):
		self.db_set("status", "Cancelled")
		frappe.db.set_value(
			"Bank Customer Profile", self.profile, "tier_override", None, update_modified=False
		)


def apply_override(doc):
	"""The approved tier takes effect at once; the nightly run keeps it until it expires."""
	profile = frappe.db.get_value(
		"Bank Customer Profile", doc.profile, ["tier", "customer", "value_score"], as_dict=True
	)
	frappe.db.set_value(
		"Bank Customer Profile",
		doc.profile,
		{"tier": doc.requested_tier, "tier_override": doc.name, "tier_below_runs": 0},
		update_modified=False,
	)
	frappe.db.set_value("Customer", profile.customer, "bank_tier", doc.requested_tier, update_modified=False)
	frappe.get_doc(
		{
			"doctype": "Bank Tier History",
			"profile": doc.profile,
			"change_date": getdate(),
			"from_tier": profile.tier,
			"to_tier": doc.requested_tier,
			"score": profile.value_score,
			"reason": "override",
			"changed_by": frappe.session.user,
		}
	).insert(ignore_permissions=True)
