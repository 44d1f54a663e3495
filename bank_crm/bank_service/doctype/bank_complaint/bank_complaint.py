# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt
"""A complaint on the "Bank Complaint Handling" Workflow, with the regulator's clock.

The Workflow shows the buttons; ``validate`` enforces the rules whoever saves: the handler is
never the staff member complained about (recusal), a proposed resolution and an extension are
approved only by a Branch Manager or Consumer Protection Officer who is not the handler, an
extension is granted once, and closing needs root cause, rectification actions and lessons.
"""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import get_datetime, getdate, now_datetime, today

from bank_crm.bank_service import escalation
from bank_crm.bank_service import service_requests as svc
from bank_crm.core import regulatory
from bank_crm.core.errors import CoreValidationError

REGISTERED = "Registered"
ACKNOWLEDGED = "Acknowledged"
INVESTIGATING = "Investigating"
EXTENSION_REQUESTED = "Extension Requested"
EXTENDED = "Extended Investigation"
PROPOSED = "Resolution Proposed"
APPROVED = "Approved"
INFORMED = "Customer Informed"
CLOSED = "Closed"
DECIDED_STATES = (APPROVED, INFORMED, CLOSED)
# transitions a handler makes: the complained-about staff member may make none of them
HANDLER_TRANSITIONS = {
	(REGISTERED, ACKNOWLEDGED),
	(ACKNOWLEDGED, INVESTIGATING),
	(INVESTIGATING, PROPOSED),
	(EXTENDED, PROPOSED),
	(INVESTIGATING, EXTENSION_REQUESTED),
	(APPROVED, INFORMED),
	(INFORMED, CLOSED),
}
APPROVALS = {(PROPOSED, APPROVED), (PROPOSED, INVESTIGATING)}
EXTENSION_DECISIONS = {(EXTENSION_REQUESTED, EXTENDED): True, (EXTENSION_REQUESTED, INVESTIGATING): False}


class ComplaintError(frappe.ValidationError):
	pass


class RecusalError(frappe.PermissionError):
	pass


class ApprovalError(frappe.PermissionError):
	pass


def _throw(e: CoreValidationError, exc=ComplaintError):
	frappe.throw(_(e.message).format(*e.args_), exc)


class BankComplaint(Document):
	def before_insert(self):
		self.copy_request()

	def validate(self):
		self.check_recusal()
		self.apply_transition()
		self.update_clock()

	def on_update(self):
		self.tell_customer()

	def copy_request(self):
		request = frappe.db.get_value(
			"Bank Service Request",
			self.service_request,
			["customer", "registered_on", "product", "subject"],
			as_dict=True,
		)
		if not request:
			frappe.throw(_("Service request {0} does not exist").format(self.service_request), ComplaintError)
		self.customer = request.customer
		self.product = self.product or request.product
		self.subject = self.subject or request.subject
		self.registered_on = getdate(request.registered_on or today())
		self.relationship_manager, self.branch, self.customer_name = frappe.db.get_value(
			"Customer", self.customer, ["bank_relationship_manager", "bank_branch", "customer_name"]
		)

	# -- who may do what -----------------------------------------------------------------------
	def check_recusal(self):
		try:
			regulatory.check_handler(self.handler, self.subject_staff)
		except CoreValidationError as e:
			_throw(e, RecusalError)

	def apply_transition(self):
		before = self.get_doc_before_save()
		if not before or before.workflow_state == self.workflow_state:
			return
		step = (before.workflow_state, self.workflow_state)
		user = frappe.session.user
		if step in HANDLER_TRANSITIONS:
			if self.subject_staff and user == self.subject_staff:
				frappe.throw(
					_("{0} is the subject of this complaint and cannot handle it").format(user), RecusalError
				)
			if step == (REGISTERED, ACKNOWLEDGED):
				self.handler = self.handler or user
				self.flags.acknowledged = True
		if step in APPROVALS or step in EXTENSION_DECISIONS:
			if self.subject_staff and user == self.subject_staff:
				frappe.throw(
					_("{0} is the subject of this complaint and cannot decide on it").format(user),
					RecusalError,
				)
			try:
				regulatory.check_approver(user, frappe.get_roles(user), self.handler)
			except CoreValidationError as e:
				_throw(e, ApprovalError)
		handler = getattr(self, "on_" + "_".join(s.lower().replace(" ", "_") for s in step), None)
		if handler:
			handler(user)

	def on_investigating_resolution_proposed(self, user):
		if not (self.resolution_proposal or "").strip():
			frappe.throw(_("Write the proposed resolution first"), ComplaintError)

	on_extended_investigation_resolution_proposed = on_investigating_resolution_proposed

	def on_resolution_proposed_approved(self, user):
		self.approved_by, self.approved_on = user, now_datetime()
		self.decided_on = getdate(today())

	def on_resolution_proposed_investigating(self, user):
		if not (self.rejection_reason or "").strip():
			frappe.throw(_("Give the reason for rejecting the proposed resolution"), ComplaintError)
		self.add_comment(
			"Info", _("Proposed resolution rejected by {0}: {1}").format(user, self.rejection_reason)
		)

	def on_investigating_extension_requested(self, user):
		try:
			clock = regulatory.request_extension(self.clock(), self.extension_reason, user)
		except CoreValidationError as e:
			_throw(e)
		self.is_complex = 1
		self.extension_status, self.extension_requested_by = clock.extension, user

	def on_extension_requested_extended_investigation(self, user):
		self.decide_extension(True, user)

	def on_extension_requested_investigating(self, user):
		self.decide_extension(False, user)

	def decide_extension(self, approve, user):
		try:
			clock = regulatory.decide_extension(
				self.clock(), approve, user, frappe.get_roles(user), self.handler
			)
		except CoreValidationError as e:
			_throw(e, ApprovalError)
		self.extension_status, self.extension_decided_by = clock.extension, user
		if approve:
			self.flags.tell_extension = True

	def on_approved_customer_informed(self, user):
		self.customer_informed_on = now_datetime()
		self.flags.tell_result = True

	def on_customer_informed_closed(self, user):
		missing = []
		if not self.root_cause_category:
			missing.append(_("Root Cause"))
		if not self.rectification_actions:
			missing.append(_("Rectification Actions"))
		if not (self.lessons_learned or "").strip():
			missing.append(_("Lessons Learned"))
		if missing:
			frappe.throw(_("Closing a complaint needs: {0}").format(", ".join(missing)), ComplaintError)
		self.closed_on = now_datetime()

	# -- the regulator's clock -----------------------------------------------------------------
	def clock(self) -> regulatory.Clock:
		return svc.regulatory_clock(self)

	def update_clock(self):
		if not self.registered_on:
			self.registered_on = getdate(today())
		if self.workflow_state not in DECIDED_STATES:
			self.decided_on = None
		clock = self.clock()
		deadline, source = regulatory.deadline(clock)
		self.regulatory_deadline, self.deadline_source = deadline, source
		# under the deadline in force (an approved extension moves it; the job flags breaches)
		self.regulatory_breached = int(regulatory.met(clock, getdate(today())) is False)
		active = None if self.decided_on else ("Regulatory Decision", regulatory.deadline_at(clock))
		level, reached = self.escalation_level or 0, self.escalated_deadline
		if active and reached and get_datetime(reached) != active[1]:
			level, reached = 0, None
		self.next_deadline = escalation.next_check_for(
			active, level, get_datetime(reached) if reached else None
		)

	# -- the customer --------------------------------------------------------------------------
	def tell_customer(self):
		if not (self.flags.tell_extension or self.flags.tell_result or self.flags.acknowledged):
			return
		request = frappe.get_doc("Bank Service Request", self.service_request)
		channel = request.customer_channel()
		if self.flags.acknowledged:
			# acknowledging the complaint is the request's first response
			self.flags.acknowledged = False
			request.mark_responded()
		if self.flags.tell_extension:
			self.flags.tell_extension = False
			message = _("We need more time to decide your complaint {0}: {1}. We will decide by {2}.").format(
				self.name,
				self.extension_reason,
				frappe.format(self.regulatory_deadline, {"fieldtype": "Date"}),
			)
			request.send(channel, "Extension Notice", message)
			self.db_set("extension_notified_on", now_datetime(), update_modified=False)
		if self.flags.tell_result:
			self.flags.tell_result = False
			if request.status not in ("Resolved", "Closed"):
				request.flags.from_complaint = True
				request.resolve(self.resolution_proposal, channel)
		request.flags.ignore_permissions = True
		request.save()

	@frappe.whitelist()
	def get_clock(self):
		clock = self.clock()
		deadline, source = regulatory.deadline(clock)
		now = getdate(today())
		return {
			"registered_on": clock.registered_on,
			"deadline": deadline,
			"source": _(source),
			"days_elapsed": regulatory.days_elapsed(clock, now),
			"days_left": regulatory.days_left(clock, now),
			"met": regulatory.met(clock, now),
			"decided_on": clock.decided_on,
			"extension": _(clock.extension) if clock.extension else "",
		}
