# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

"""A visit or contact an RM records. Completing it completes the planned item of that kind,
plans the next one from the customer's service plan, turns follow-ups into ToDos and, when
asked, sends the message to the customer through the routed channel. The record appears on
the customer's timeline (``timeline_field``)."""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import add_to_date, get_datetime, getdate, now_datetime

from bank_crm.bank_engagement import contact
from bank_crm.bank_engagement import visit_planning as planning
from bank_crm.core import cadence, routing

DEFAULT_CHANNEL = {
	cadence.VISIT: routing.VISIT,
	cadence.CALL: routing.PHONE,
	cadence.MEETING: routing.VISIT,
	cadence.SALON: routing.VISIT,
}
TIMELINE_MEDIUM = {
	routing.VISIT: "Visit",
	routing.PHONE: "Phone",
	routing.SMS: "SMS",
	routing.EMAIL: "Email",
	routing.APP_PUSH: "Chat",
	routing.WECHAT: "Chat",
}
MESSAGE_CHANNELS = (routing.SMS, routing.EMAIL, routing.APP_PUSH, routing.WECHAT)


class OutsidePortfolioError(frappe.PermissionError):
	pass


class BankInteraction(Document):
	def validate(self):
		self.check_customer_access()
		self.set_defaults()
		self.validate_times()
		self.validate_plan_item()
		self.validate_follow_ups()
		self.validate_message()

	def on_update(self):
		self.close_need_signals()
		self.complete_plan_item()
		self.send_customer_message()
		self.create_follow_up_tasks()
		self.log_on_timeline()

	# -- checks -------------------------------------------------------------------------------
	def check_customer_access(self):
		if self.flags.ignore_permissions or frappe.session.user == "Administrator":
			return
		if not frappe.has_permission("Customer", "read", self.customer):
			frappe.throw(
				_(
					"You cannot record a contact for customer {0}: the customer is outside your portfolio"
				).format(self.customer),
				OutsidePortfolioError,
				title=_("Not Permitted"),
			)

	def set_defaults(self):
		if not self.channel and self.interaction_type in DEFAULT_CHANNEL:
			self.channel = DEFAULT_CHANNEL[self.interaction_type]
		if self.status == "Completed" and not self.actual_at:
			self.actual_at = now_datetime()

	def validate_times(self):
		if self.status == "Planned" and not self.planned_at:
			frappe.throw(
				_("Planned Time: say when the planned contact will take place"), title=_("Missing Value")
			)
		if self.actual_at and get_datetime(self.actual_at) > add_to_date(now_datetime(), minutes=10):
			frappe.throw(
				_("Actual Time: a contact cannot be recorded as done in the future ({0})").format(
					self.actual_at
				),
				title=_("Invalid Value"),
			)
		if self.status == "Completed" and not self.outcome:
			frappe.throw(
				_("Outcome: say how the contact went before recording it as completed"),
				title=_("Missing Value"),
			)

	def validate_plan_item(self):
		if not self.visit_plan and self.status == "Completed":
			profile = frappe.db.get_value("Bank Customer Profile", {"customer": self.customer}, "name")
			if profile:
				self.visit_plan = planning.open_item_for(profile, self.interaction_type)
		if not self.visit_plan:
			return
		item = frappe.db.get_value(
			"Bank Visit Plan",
			self.visit_plan,
			["customer", "contact_kind", "status", "interaction"],
			as_dict=True,
		)
		if not item:
			frappe.throw(_("Plan Item {0} does not exist").format(self.visit_plan))
		if item.customer != self.customer:
			frappe.throw(
				_("Plan Item: {0} belongs to another customer").format(self.visit_plan),
				title=_("Invalid Value"),
			)
		if item.contact_kind != self.interaction_type:
			frappe.throw(
				_("Plan Item: {0} plans a {1}, not a {2}").format(
					self.visit_plan,
					_(item.contact_kind, context=self.doctype),
					_(self.interaction_type, context=self.doctype),
				),
				title=_("Invalid Value"),
			)
		if item.status != "Open" and item.interaction != self.name:
			frappe.throw(
				_("Plan Item: {0} is already {1}").format(
					self.visit_plan, _(item.status, context="Bank Visit Plan")
				),
				title=_("Invalid Value"),
			)

	def validate_follow_ups(self):
		today = getdate()
		for row in self.follow_ups:
			if not row.todo and getdate(row.due_date) < today:
				frappe.throw(
					_("Follow-ups row {0}: the due date {1} is in the past").format(row.idx, row.due_date),
					title=_("Invalid Value"),
				)

	def validate_message(self):
		if not self.send_message or self.outbound_message:
			return
		if not (self.message or "").strip():
			frappe.throw(_("Message: write the message to send to the customer"), title=_("Missing Value"))
		if self.channel and self.channel not in MESSAGE_CHANNELS:
			self.channel = None  # visits and calls are not messages: route it
		if not self.content_class:
			self.content_class = routing.SERVICE_CONTENT
		decision = contact.route_for(self.customer, self.content_class, exclude=self._excluded())
		if not decision.ok:
			frappe.throw(
				_("The message cannot be sent: {0}").format(contact.explain(decision)), title=_("No Channel")
			)

	def _excluded(self):
		# only message channels; a requested channel narrows the choice to it
		wanted = [self.channel] if self.channel in MESSAGE_CHANNELS else list(MESSAGE_CHANNELS)
		return [c for c in routing.CHANNELS if c not in wanted]

	# -- effects ------------------------------------------------------------------------------
	def complete_plan_item(self):
		if self.status == "Completed" and self.visit_plan:
			planning.complete_item(self.visit_plan, self.name, getdate(self.actual_at))

	def log_on_timeline(self):
		"""A Communication on the customer (medium visit, phone, meeting …) once it is done."""
		if self.status != "Completed" or self.communication:
			return
		parts = [
			(_("Objective"), self.objective),
			(_("Outcome"), _(self.outcome) if self.outcome else None),
			(_("Outcome Notes"), self.outcome_notes),
			(_("Customer Feedback"), self.customer_feedback),
			(_("Next Steps"), self.next_steps),
		]
		content = "".join(
			f"<p><b>{frappe.utils.escape_html(label)}</b>: {frappe.utils.escape_html(value)}</p>"
			for label, value in parts
			if value
		)
		comm = frappe.get_doc(
			{
				"doctype": "Communication",
				"communication_type": "Communication",
				"communication_medium": TIMELINE_MEDIUM.get(self.channel, "Other"),
				"sent_or_received": "Sent",
				"subject": _("{0} with {1}", context="Bank Interaction").format(
					_(self.interaction_type, context=self.doctype), self.customer_name or self.customer
				),
				"content": content
				or _("{0} recorded").format(_(self.interaction_type, context=self.doctype)),
				"communication_date": self.actual_at,
				"reference_doctype": "Customer",
				"reference_name": self.customer,
				"sender": frappe.session.user if "@" in frappe.session.user else None,
				"status": "Linked",
			}
		)
		comm.add_link(self.doctype, self.name)
		comm.insert(ignore_permissions=True)
		self.db_set("communication", comm.name, update_modified=False)

	def close_need_signals(self):
		"""A completed contact that met a need closes the customer's open signals of that kind."""
		if self.status != "Completed" or not self.closes_need_category:
			return
		from bank_crm.bank_insight.need_detection import act_on_customer_needs

		act_on_customer_needs(self.customer, self.closes_need_category, self.name)

	def create_follow_up_tasks(self):
		for row in self.follow_ups:
			if row.todo:
				continue
			todo = frappe.get_doc(
				{
					"doctype": "ToDo",
					"allocated_to": row.assigned_to,
					"description": _("Follow-up for {0}: {1}").format(
						self.customer_name or self.customer, row.task
					),
					"date": row.due_date,
					"reference_type": self.doctype,
					"reference_name": self.name,
					"assigned_by": frappe.session.user,
				}
			).insert(ignore_permissions=True)
			row.db_set("todo", todo.name, update_modified=False)

	def send_customer_message(self):
		if not self.send_message or self.outbound_message:
			return
		from bank_crm.bank_engagement import outbound

		decision = contact.route_for(self.customer, self.content_class, exclude=self._excluded())
		if not decision.ok:
			return
		name = outbound.dispatch(
			self.customer,
			decision.channel,
			self.subject or _("Message from your relationship manager"),
			self.message,
			content_class=self.content_class,
			reference_doctype=self.doctype,
			reference_name=self.name,
			idempotency_key=f"{self.doctype}:{self.name}",
			send_after=decision.send_after,
		)
		self.db_set({"outbound_message": name, "routing_note": contact.explain(decision)[:140]})
		if decision.channel != self.channel:
			self.db_set("channel", decision.channel)


def on_doctype_update():
	frappe.db.add_index("Bank Interaction", ["customer", "status", "actual_at"], "customer_status_actual")
