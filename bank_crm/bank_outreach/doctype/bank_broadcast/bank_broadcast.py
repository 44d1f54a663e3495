# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from bank_crm.core import broadcast as core
from bank_crm.core.access import COMPLIANCE_AUDITOR, CONSUMER_PROTECTION_OFFICER, CRM_ADMINISTRATOR
from bank_crm.utils.validation import BankCRMValidationError

REVIEWERS = {CONSUMER_PROTECTION_OFFICER, COMPLIANCE_AUDITOR}
DRAFT, PENDING, APPROVED, SCHEDULED, SENDING, PAUSED = (
	"Draft",
	"Pending Review",
	"Approved",
	"Scheduled",
	"Sending",
	"Paused",
)
# what a broadcast says and to whom: fixed once it leaves Draft
CONTENT = (
	"title",
	"content_class",
	"sms_text",
	"app_push_text",
	"wechat_text",
	"email_subject",
	"email_body",
	"risk_disclosure",
	"attachment",
	"customer_type",
	"maturity_category",
	"maturity_within_days",
	"customer_list",
)
TABLES = ("products", "tiers", "branches", "relationship_managers", "conditions")
MAX_LISTED = 200_000


class ReviewError(frappe.PermissionError):
	pass


class BankBroadcast(Document):
	"""A message to a segment, reviewed before it goes (workflow *Bank Broadcast Review*). The
	rules below hold whatever the buttons show: nobody approves their own broadcast, only
	consumer protection or compliance approves, content is frozen once submitted, marketing
	naming a product above R2 carries a risk disclosure."""

	def validate(self):
		self.workflow_state = self.workflow_state or DRAFT
		self.set_product_risk()
		previous = self.get_doc_before_save()
		before = previous.workflow_state if previous else DRAFT
		if before != self.workflow_state:
			self.check_transition(before)
		elif before != DRAFT and previous and self.content_changed(previous):
			frappe.throw(
				_("A broadcast can be changed only while it is a draft; this one is {0}.").format(_(before)),
				ReviewError,
			)
		if self.workflow_state in (DRAFT, PENDING):
			self.check_texts(strict=self.workflow_state == PENDING)
		if self.workflow_state == DRAFT and (not previous or previous.customer_list != self.customer_list):
			self.check_customer_list()

	def check_customer_list(self):
		"""The static list: one id per line, each a customer the author may reach (an id that is
		unknown and one of another RM's customers read the same: nothing is learnt)."""
		listed = list(dict.fromkeys(c.strip() for c in (self.customer_list or "").splitlines() if c.strip()))
		if len(listed) > MAX_LISTED:
			frappe.throw(
				_("Only These Customers: at most {0} customer IDs, not {1}.").format(MAX_LISTED, len(listed)),
				BankCRMValidationError,
			)
		reachable = set()
		for i in range(0, len(listed), 5_000):
			reachable.update(
				frappe.get_list(
					"Bank Customer Profile",
					filters={"customer": ("in", listed[i : i + 5_000])},
					pluck="customer",
					limit_page_length=0,
				)
			)
		if outside := [c for c in listed if c not in reachable]:
			frappe.throw(
				_("Only These Customers: {0} of the IDs are not customers you may reach: {1}").format(
					len(outside), ", ".join(outside[:10]) + (" …" if len(outside) > 10 else "")
				),
				BankCRMValidationError,
			)
		self.customer_list = "\n".join(listed)

	def set_product_risk(self):
		risks = [frappe.db.get_value("Bank Product", r.product, "risk_level") for r in self.products]
		risks = [r for r in risks if r in core.PRODUCT_RISKS]
		self.product_risk = max(risks, key=core.PRODUCT_RISKS.index) if risks else None

	def content_changed(self, previous) -> bool:
		if any((self.get(f) or None) != (previous.get(f) or None) for f in CONTENT):
			return True
		for table in TABLES:
			mine = [
				tuple(sorted((k, v) for k, v in r.as_dict().items() if k not in _META))
				for r in self.get(table)
			]
			theirs = [
				tuple(sorted((k, v) for k, v in r.as_dict().items() if k not in _META))
				for r in previous.get(table)
			]
			if mine != theirs:
				return True
		return False

	def check_transition(self, before: str):
		user = frappe.session.user
		roles = set(frappe.get_roles(user))
		if self.workflow_state == APPROVED and before == PENDING:
			if user == self.owner:
				frappe.throw(_("You wrote this broadcast; another person must approve it."), ReviewError)
			if not roles & REVIEWERS and user != "Administrator":
				frappe.throw(
					_("Only a Consumer Protection Officer or a Compliance Auditor may approve a broadcast."),
					ReviewError,
				)
			self.check_texts(strict=True)
			self.approved_by, self.approved_on = user, frappe.utils.now_datetime()
		elif self.workflow_state == DRAFT and before == PENDING:
			if not (self.review_comment or "").strip():
				frappe.throw(_("Review Comment: say what the author should change."), BankCRMValidationError)
		elif self.workflow_state == PENDING and before == DRAFT:
			self.check_texts(strict=True)
			self.review_comment = None
		elif self.workflow_state == SENDING and before == PAUSED:
			from bank_crm.bank_outreach.broadcasts import enqueue_send, wake_gateways

			enqueue_send(self.name)
			wake_gateways(self.name)  # its messages held while paused go on
		elif user != self.owner and not roles & {
			CRM_ADMINISTRATOR,
			CONSUMER_PROTECTION_OFFICER,
			"System Manager",
		}:
			if user != "Administrator":
				frappe.throw(_("Only the author or a CRM Administrator may do this."), ReviewError)

	def onload(self):
		self.set_onload("sms_opt_out", self.sms_opt_out())

	@staticmethod
	def sms_opt_out() -> str:
		return frappe.db.get_single_value("Bank Outreach Settings", "sms_opt_out_text") or _(
			"Reply R to opt out"
		)

	def text_added(self) -> dict:
		"""Characters every short message of a channel gets after its body: the risk disclosure,
		and for marketing SMS the bank's opt-out text (see ``bank_outreach.broadcasts.Renderer``)."""
		disclosure = len(self.risk_disclosure or "") + 1 if self.risk_disclosure else 0
		added = dict.fromkeys(core.TEXT_CHANNELS, disclosure)
		if self.content_class == core.MARKETING:
			added[core.SMS] += len(self.sms_opt_out()) + 1
		return added

	def check_texts(self, strict: bool):
		names = [frappe.db.get_value("Bank Product", r.product, "product_name") or "" for r in self.products]
		problems = core.text_length_problems(
			{
				core.SMS: self.sms_text or "",
				core.APP_PUSH: self.app_push_text or "",
				core.WECHAT: self.wechat_text or "",
			},
			added=self.text_added(),
			widths={"product_name": len(", ".join(names))} if names else None,
		)
		for channel, length, limit in problems:
			frappe.throw(
				_(
					"{0}: about {1} characters once fields, disclosure and opt-out text are filled in, more than the {2} one message carries."
				).format(_(channel), length, limit),
				BankCRMValidationError,
			)
		if not strict:
			return
		if not any(
			(self.get(f) or "").strip() for f in ("sms_text", "app_push_text", "wechat_text", "email_body")
		):
			frappe.throw(_("Write the message for at least one channel."), BankCRMValidationError)
		if (self.email_body or "").strip() and not self.email_subject:
			frappe.throw(_("Email Subject: an email needs a subject."), BankCRMValidationError)
		if (
			core.needs_disclosure(self.content_class, self.product_risk)
			and not (self.risk_disclosure or "").strip()
		):
			frappe.throw(
				_(
					"Risk Disclosure: marketing that names a {0} product must state its risks before it can be approved."
				).format(self.product_risk),
				BankCRMValidationError,
			)


_META = {
	"name",
	"owner",
	"creation",
	"modified",
	"modified_by",
	"parent",
	"parentfield",
	"parenttype",
	"idx",
	"docstatus",
	"doctype",
}
