# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt
"""A customer's service request: SLA clocks from registration, the owning RM assigned at once,
department tasks, updates to the customer, resolution and the customer's satisfaction."""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, get_datetime, now_datetime

from bank_crm.bank_service import escalation as escalating
from bank_crm.bank_service import service_requests as svc
from bank_crm.core import escalation, sla
from bank_crm.core.errors import CoreValidationError

OPEN, IN_PROGRESS, WAITING, RESOLVED, CLOSED, REOPENED = (
	"Open",
	"In Progress",
	"Waiting on Customer",
	"Resolved",
	"Closed",
	"Reopened",
)


class ServiceRequestError(frappe.ValidationError):
	pass


def core_error(e: CoreValidationError):
	frappe.throw(_(e.message).format(*e.args_), ServiceRequestError)


class BankServiceRequest(Document):
	def before_insert(self):
		self.set_owner_fields()
		self.start_clocks()

	def validate(self):
		self.validate_tasks()

	def after_insert(self):
		self.assign_owner()
		self.tell_promised_date()
		self.escalate_emergency()
		self.open_complaint()

	# -- registration --------------------------------------------------------------------------
	def set_owner_fields(self):
		values = frappe.db.get_value(
			"Customer",
			self.customer,
			["customer_name", "bank_relationship_manager", "bank_branch", "bank_tier"],
			as_dict=True,
		)
		if not values:
			frappe.throw(_("Customer {0} does not exist").format(self.customer), ServiceRequestError)
		self.customer_name = values.customer_name
		self.relationship_manager = values.bank_relationship_manager
		self.branch = values.bank_branch
		self.tier = values.bank_tier

	def start_clocks(self):
		self.registered_on = get_datetime(self.registered_on) if self.registered_on else now_datetime()
		try:
			rule = svc.find_rule(self.request_type, self.urgency, self.tier)
		except CoreValidationError as e:
			core_error(e)
		self.apply_clocks(sla.register(self.registered_on, rule))
		self.promised_feedback_date = sla.promised_feedback_date(self.clocks())
		self.status = OPEN

	def assign_owner(self):
		if self.relationship_manager:
			svc.assign(
				self,
				self.relationship_manager,
				_("New {0} from {1}: {2}").format(_(self.request_type), self.customer_name, self.subject),
			)

	def tell_promised_date(self):
		message = _("We have registered your request {0}. We will give you feedback by {1}.").format(
			self.name, frappe.format(self.promised_feedback_date, {"fieldtype": "Date"})
		)
		row = self.send(self.customer_channel(), "Promised Feedback Date", message)
		row.db_insert()  # after_insert: the document is already written

	def escalate_emergency(self):
		if self.urgency != sla.EMERGENCY:
			return
		level = next(
			(lv for lv in escalating.matrix() if lv.recipient == escalation.BRANCH_MANAGER),
			escalation.Level(2, escalation.BRANCH_MANAGER, 0),
		)
		escalating.escalate_now(self, level, "Response", self.response_due, "Emergency")

	def open_complaint(self):
		if self.request_type != sla.COMPLAINT or self.complaint:
			return
		complaint = frappe.get_doc(
			{
				"doctype": "Bank Complaint",
				"service_request": self.name,
				"customer": self.customer,
				"product": self.product,
				"subject": self.subject,
				"description": self.description,
				"registered_on": self.registered_on,
				"is_complex": 0,
			}
		).insert(ignore_permissions=True)
		self.db_set("complaint", complaint.name, update_modified=False)

	def customer_channel(self) -> str:
		"""How to tell the customer: the way they came in (told in person at the counter)."""
		return {
			"Email": "Email",
			"App": "App Push",
			"Phone": "Phone",
			"Letter": "Letter",
			"Branch Counter": "Visit",
			"Regulator Referral": "Letter",
		}.get(self.channel, "SMS")

	# -- clocks --------------------------------------------------------------------------------
	def clocks(self) -> sla.Clocks:
		return sla.Clocks(
			registered_at=get_datetime(self.registered_on),
			response_due=get_datetime(self.response_due),
			resolution_due=get_datetime(self.resolution_due),
			responded_at=get_datetime(self.responded_on) if self.responded_on else None,
			resolved_at=get_datetime(self.resolved_on) if self.resolved_on else None,
			paused_since=get_datetime(self.paused_since) if self.paused_since else None,
			paused_seconds=cint(self.paused_seconds),
		)

	def apply_clocks(self, c: sla.Clocks):
		self.response_due, self.resolution_due = c.response_due, c.resolution_due
		self.responded_on, self.resolved_on = c.responded_at, c.resolved_at
		self.paused_since, self.paused_seconds = c.paused_since, c.paused_seconds
		if c.responded_at and c.responded_at > c.response_due:
			self.response_breached = 1
		if c.resolved_at and c.resolved_at > c.resolution_due:
			self.resolution_breached = 1
		active = sla.active_deadline(c)
		level, reached = cint(self.escalation_level), self.escalated_deadline
		if active and reached and get_datetime(reached) != active[1]:
			level, reached = 0, None
		self.next_deadline = escalating.next_check_for(
			active, level, get_datetime(reached) if reached else None
		)

	# -- actions (called from bank_crm.api.service) ----------------------------------------------
	def respond(self, message: str, channel: str):
		self.ensure_open()
		self.apply_clocks(sla.respond(self.clocks(), now_datetime()))
		if self.status in (OPEN, REOPENED):
			self.status = IN_PROGRESS
		self.send(channel, "Progress", message)

	def mark_responded(self):
		"""Responded without a message of its own (e.g. its complaint was acknowledged)."""
		if self.status in (RESOLVED, CLOSED) or self.responded_on:
			return
		self.apply_clocks(sla.respond(self.clocks(), now_datetime()))
		if self.status in (OPEN, REOPENED):
			self.status = IN_PROGRESS

	def add_update(self, message: str, channel: str):
		self.respond(message, channel)

	def pause(self, message: str, channel: str):
		self.ensure_open()
		try:
			self.apply_clocks(sla.pause(self.clocks(), now_datetime()))
		except CoreValidationError as e:
			core_error(e)
		self.status = WAITING
		self.send(channel, "Progress", message)

	def resume(self):
		self.ensure_open()
		self.apply_clocks(sla.resume(self.clocks(), now_datetime()))
		self.status = IN_PROGRESS

	def add_task(self, department: str, owner: str, deadline, description: str):
		self.ensure_open()
		row = self.append(
			"tasks",
			{"department": department, "task_owner": owner, "deadline": deadline, "description": description},
		)
		if self.status in (OPEN, REOPENED):
			self.status = IN_PROGRESS
		return row

	def assign_task(self, row):
		"""A ToDo of its own for each department task (Frappe's assignment: shared and notified
		the first time; a further task for the same person gets another ToDo)."""
		from frappe.desk.form.assign_to import add

		description = _("{0} task for {1}: {2}").format(_(row.department), self.name, row.description or "")
		open_todo = {
			"reference_type": self.doctype,
			"reference_name": self.name,
			"allocated_to": row.task_owner,
			"status": "Open",
		}
		date = get_datetime(row.deadline).date()
		if not frappe.db.exists("ToDo", open_todo):
			add(
				{
					"assign_to": [row.task_owner],
					"doctype": self.doctype,
					"name": self.name,
					"description": description,
					"date": date,
				},
				ignore_permissions=True,
			)
			todo = frappe.db.get_value("ToDo", open_todo, "name", order_by="creation desc")
		else:
			todo = (
				frappe.get_doc(
					{
						**open_todo,
						"doctype": "ToDo",
						"description": description,
						"date": date,
						"assigned_by": frappe.session.user,
					}
				)
				.insert(ignore_permissions=True)
				.name
			)
		row.db_set("todo", todo, update_modified=False)

	def complete_task(self, row_name: str):
		row = next((t for t in self.tasks if t.name == row_name), None)
		if not row:
			frappe.throw(_("No task {0} on this request").format(row_name), ServiceRequestError)
		row.status, row.completed_on = "Done", now_datetime()
		if row.todo and frappe.db.exists("ToDo", row.todo):
			frappe.db.set_value("ToDo", row.todo, "status", "Closed")

	def resolve(self, resolution: str, channel: str, first_contact: bool = False):
		self.ensure_open()
		if self.complaint and not self.flags.from_complaint:
			frappe.throw(
				_(
					"Complaint {0} is resolved through its workflow: the result goes out with Inform Customer"
				).format(self.complaint),
				ServiceRequestError,
			)
		if not (resolution or "").strip():
			frappe.throw(_("Describe the resolution"), ServiceRequestError)
		self.check_no_open_tasks()
		self.resolution = resolution
		self.first_contact_resolution = 1 if first_contact and not self.updates_of("Progress") else 0
		if first_contact and not self.first_contact_resolution:
			frappe.throw(
				_("Only a request resolved at its first contact can be flagged as first-contact resolution"),
				ServiceRequestError,
			)
		self.apply_clocks(sla.resolve(self.clocks(), now_datetime()))
		self.status = RESOLVED
		self.send(channel, "Result", _("Your request {0} is resolved: {1}").format(self.name, resolution))

	def confirm_satisfaction(self, score: int, comment: str | None = None):
		if self.status != RESOLVED:
			frappe.throw(_("Satisfaction is confirmed on a resolved request"), ServiceRequestError)
		score = cint(score)
		if not 1 <= score <= 5:
			frappe.throw(_("Satisfaction is a score from 1 to 5"), ServiceRequestError)
		self.satisfaction, self.satisfaction_comment = score, comment
		self.satisfaction_confirmed_on = now_datetime()
		if score < cint(svc.setting("dissatisfied_below", 3)):
			rule = svc.find_rule(self.request_type, self.urgency, self.tier)
			self.apply_clocks(sla.reopen(self.clocks(), now_datetime(), rule))
			self.status = REOPENED
			self.reopen_count = cint(self.reopen_count) + 1
			self.add_comment("Info", _("Reopened: the customer is dissatisfied ({0}/5)").format(score))
			if self.relationship_manager:
				svc.assign(
					self,
					self.relationship_manager,
					_("Reopened by a dissatisfied customer: {0}").format(self.subject),
				)
		else:
			self.status = CLOSED

	# -- checks --------------------------------------------------------------------------------
	def ensure_open(self):
		if self.status in (RESOLVED, CLOSED):
			frappe.throw(
				_("Request {0} is already {1}").format(self.name, _(self.status)), ServiceRequestError
			)

	def check_no_open_tasks(self):
		open_tasks = [t for t in self.tasks if t.status != "Done"]
		if open_tasks:
			frappe.throw(
				_("{0} department task(s) are still open: {1}").format(
					len(open_tasks), ", ".join(_(t.department) for t in open_tasks)
				),
				ServiceRequestError,
			)

	def validate_tasks(self):
		before = self.get_doc_before_save()
		if before and before.status != RESOLVED and self.status == RESOLVED:
			self.check_no_open_tasks()

	def updates_of(self, kind):
		return [u for u in self.updates if u.kind == kind]

	def send(self, channel: str, kind: str, message: str):
		subject = _("Your request {0}").format(self.name)
		reference = svc.tell_customer(self, channel, subject, message, kind)
		return self.append("updates", svc.update_row(channel, kind, message, reference))

	# -- form ----------------------------------------------------------------------------------
	@frappe.whitelist()
	def get_clocks(self):
		now = now_datetime()
		c = self.clocks()
		running_due = c.resolution_due
		if c.paused:
			running_due = c.resolution_due + (now - c.paused_since)

		def state(due, done):
			overdue, d, h, m = sla.format_remaining(sla.remaining(due, now, done))
			return {"due": due, "done": done, "overdue": overdue, "days": d, "hours": h, "minutes": m}

		return {
			"response": state(c.response_due, c.responded_at),
			"resolution": state(running_due, c.resolved_at),
			"paused": c.paused,
			"paused_since": c.paused_since,
			"paused_seconds": c.paused_seconds,
			"promised_feedback_date": self.promised_feedback_date,
		}
