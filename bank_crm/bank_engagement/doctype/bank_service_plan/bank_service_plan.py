# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

"""A tier's service plan: contact frequency per kind, themes, privileges and KPI goals.

Customers follow a changed plan from the next daily planning run; a CRM Administrator can
also start that run at once (``replan_now``)."""

import frappe
from frappe import _
from frappe.model.document import Document

from bank_crm.core import cadence, kpi
from bank_crm.core.errors import CoreValidationError
from bank_crm.permissions.scope import require_crm_administrator
from bank_crm.utils.validation import throw_field_error


class BankServicePlan(Document):
	def validate(self):
		try:
			cadence.check_plan(
				[
					cadence.PlanLine(row.contact_kind, int(row.every or 0), row.unit, row.responsible)
					for row in self.contacts
				]
			)
			self.validate_goals()
		except CoreValidationError as err:
			throw_field_error(self, err)

	def validate_goals(self):
		seen = set()
		for row in self.goals:
			if row.kpi in seen:
				raise CoreValidationError("goals", "row {0}: {1} already has a target", row.idx, row.kpi)
			seen.add(row.kpi)
			percent = row.kpi in (kpi.CONTACT_COVERAGE, kpi.RETENTION)
			if percent and not 0 <= (row.target or 0) <= 100:
				raise CoreValidationError(
					"goals", "row {0}: a percentage target must be between 0 and 100", row.idx
				)
			if row.kpi == kpi.SATISFACTION and not 1 <= (row.target or 0) <= 5:
				raise CoreValidationError(
					"goals", "row {0}: a satisfaction target must be between 1 and 5", row.idx
				)

	def on_update(self):
		if self.has_value_changed("contacts") or self.has_value_changed("enabled"):
			frappe.msgprint(
				_("Customers of tier {0} follow the changed plan from the next daily planning run.").format(
					_(self.tier)
				),
				alert=True,
			)


@frappe.whitelist(methods=["POST"])
def replan_now():
	"""Start the planning run in the background now (CRM Administrator)."""
	require_crm_administrator()
	frappe.enqueue(
		"bank_crm.bank_engagement.visit_planning.run_planning",
		queue="long",
		timeout=3600,
		job_id="bank_crm_visit_planning",
		deduplicate=True,
	)
	return _("The planning run has started; its record appears under Bank Planning Run.")
