"""A customer's request about their personal information (PIPL arts. 44–47), answered within
15 working days, handled through the Workflow *Bank Personal Information Request*: the handler
registers it with the identity check and sends it for approval; a Consumer Protection Officer
who is not the handler approves, and the approval carries the request out."""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate, now_datetime, today

from bank_crm.core import rights
from bank_crm.core.access import CONSUMER_PROTECTION_OFFICER, CRM_ADMINISTRATOR
from bank_crm.utils.validation import BankCRMValidationError

REGISTERED = "Registered"
PENDING = "Pending Approval"
RETURNED = "Returned"
COMPLETED = "Completed"
APPROVERS = frozenset({CONSUMER_PROTECTION_OFFICER, CRM_ADMINISTRATOR, "System Manager"})
FROZEN = ("customer", "request_type", "withdraw_purpose", "received_on", "channel", "details")


class ApprovalError(frappe.PermissionError):
	pass


class BankDataSubjectRequest(Document):
	def validate(self):
		from bank_crm.bank_customer import data_subject_rights as service

		self.workflow_state = self.workflow_state or REGISTERED
		self.profile = frappe.db.get_value("Bank Customer Profile", {"customer": self.customer}, "name")
		if getdate(self.received_on) > getdate(today()):
			self.field_error("received_on", _("cannot be in the future"))
		self.due_date = service.answer_due(self.received_on)
		if self.is_new():
			self.handler = frappe.session.user
		previous = self.get_doc_before_save()
		before = previous.workflow_state if previous else REGISTERED
		if previous and before == COMPLETED:
			changed = [
				f for f in FROZEN + ("answer",) if str(previous.get(f) or "") != str(self.get(f) or "")
			]
			if changed:
				frappe.throw(_("A completed request cannot be changed."), BankCRMValidationError)
		if before != self.workflow_state:
			self.check_transition(before)

	def field_error(self, fieldname, reason):
		from bank_crm.utils.validation import field_label

		frappe.throw(_("{0}: {1}").format(field_label(self.meta, fieldname), reason), BankCRMValidationError)

	def check_transition(self, before: str):
		from bank_crm.bank_customer import data_subject_rights as service

		if self.workflow_state == PENDING:
			if not self.identity_checked or not self.identity_method:
				self.field_error(
					"identity_checked",
					_("check the customer's identity, and say how, before the request goes for approval"),
				)
			if self.request_type == rights.CONSENT_WITHDRAWAL and not self.withdraw_purpose:
				self.field_error("withdraw_purpose", _("say which consent the customer withdraws"))
			if self.request_type == rights.CORRECTION and not (self.answer or "").strip():
				self.field_error("answer", _("say what was corrected on the customer's records"))
			# what the approver will approve, written now so that it can be read first
			if self.request_type == rights.DELETION:
				decision = service.deletion_decision(self.customer)
				self.decision = "Granted" if decision.allowed else "Refused"
				self.answer = (
					_("The customer's personal information will be anonymised.", lang=service.answer_lang())
					if decision.allowed
					else _("Deletion refused: {0}.", lang=service.answer_lang()).format(
						service.deletion_reason(decision)
					)
				)
			elif self.request_type == rights.EXPLANATION:
				self.answer = service.explanation_text(self.customer)
		elif self.workflow_state == COMPLETED:
			if before != PENDING:
				frappe.throw(_("A request is completed only by its approval."), ApprovalError)
			user = frappe.session.user
			if user in (self.handler, self.owner):
				frappe.throw(_("You handled this request; another person must approve it."), ApprovalError)
			if not set(frappe.get_roles(user)) & APPROVERS and user != "Administrator":
				frappe.throw(
					_("Only a Consumer Protection Officer may approve a personal information request."),
					ApprovalError,
				)
			self.approver, self.approved_on = user, now_datetime()
			self.flags.carry_out = True

	def on_update(self):
		if self.flags.carry_out:
			self.flags.carry_out = False
			self.carry_out()

	def carry_out(self):
		"""Do what the approved request asks; the outcome is written on the request."""
		from bank_crm.bank_customer import data_subject_rights as service

		values = {"completed_on": now_datetime(), "decision": "Granted"}
		kind = self.request_type
		if kind == rights.ACCESS:
			values["export_json"], values["export_pdf"] = service.attach_export(self)
			values["answer"] = self.answer or _(
				"The export of the customer's personal information is attached (JSON and PDF).",
				lang=service.answer_lang(),
			)
		elif kind == rights.CONSENT_WITHDRAWAL:
			purposes = [self.withdraw_purpose]
			withdrawn = service.withdraw_consent(
				self.customer, purposes, _("Personal information request {0}").format(self.name)
			)
			lang = service.answer_lang()
			purpose = _(self.withdraw_purpose, lang=lang)
			values["answer"] = (
				_("{0} consent withdrawn ({1} ledger rows closed).", lang=lang).format(purpose, withdrawn)
				if withdrawn
				else _("No {0} consent was in force: there was nothing to withdraw.", lang=lang).format(
					purpose
				)
			)
		elif kind == rights.DELETION:
			decision = service.deletion_decision(self.customer)
			if decision.allowed:
				self.db_set(values)
				from bank_crm.bank_customer.anonymisation import anonymise

				anonymise([self.customer])
				return
			values["decision"] = "Refused"
			values["answer"] = _("Deletion refused: {0}.", lang=service.answer_lang()).format(
				service.deletion_reason(decision)
			)
		elif kind == rights.EXPLANATION:
			values["answer"] = service.explanation_text(self.customer)
		self.db_set(values)
