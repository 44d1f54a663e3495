# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate


class BankVisitPlan(Document):
	"""One planned contact. Created, re-planned and cancelled by the daily planning job
	(``bank_crm.bank_engagement.visit_planning``); completed by recording a Bank Interaction. An RM may move
	the due date of an open item; the job keeps that date while the plan stays the same."""

	def validate(self):
		if self.is_new() or self.flags.ignore_validate:
			return
		before = self.get_doc_before_save()
		if before and before.status != "Open" and self.due_date != before.due_date:
			frappe.throw(_("Only an open plan item can be rescheduled"), title=_("Plan Item Closed"))
		if self.status == "Open":
			self.is_overdue = int(getdate(self.due_date) < getdate())

	def on_update(self):
		before = self.get_doc_before_save()
		if before and self.todo and before.due_date != self.due_date:
			frappe.db.set_value("ToDo", self.todo, "date", self.due_date)


def on_doctype_update():
	# covering index of the planning job's signature scan (profile order, open items only)
	frappe.db.add_index(
		"Bank Visit Plan",
		["profile", "status", "contact_kind", "plan_key", "relationship_manager", "branch"],
		"profile_open_signature",
	)
	frappe.db.add_index("Bank Visit Plan", ["status", "todo", "due_date"], "status_todo_due")
	frappe.db.add_index("Bank Visit Plan", ["status", "is_overdue", "due_date"], "status_overdue_due")
	frappe.db.add_index("Bank Visit Plan", ["relationship_manager", "status", "due_date"], "rm_status_due")
	frappe.db.add_index("Bank Visit Plan", ["branch", "status", "due_date"], "branch_status_due")
	# the customer-360's next contacts: without it MariaDB walks the RM's open items by due date
	# (rm_status_due, to skip a sort) looking for the customer's: 360 ms at 1 M customers
	frappe.db.add_index("Bank Visit Plan", ["customer", "status", "due_date"], "customer_status_due")
