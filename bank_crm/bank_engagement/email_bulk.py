"""E-mail for many customers through Frappe's Email Queue, written in bulk.

Each e-mail is built by Frappe's own ``QueueBuilder`` (the MIME message, the sender of the
outgoing Email Account, the message id) and lands in *Email Queue* and *Email Queue Recipient*
by one INSERT each per batch, beside its *Bank Outbound Message* (the delivery log, idempotent
by key: a batch redone queues nothing twice). Frappe's e-mail workers (``frappe.email.queue.flush``)
deliver them; the message's ``email_queue`` link shows what became of each.
"""

from __future__ import annotations

from datetime import datetime

import frappe
from frappe import _
from frappe.utils import now_datetime

from bank_crm.core import delivery
from bank_crm.utils.bulk import in_list, insert_rows

MESSAGE = "Bank Outbound Message"


class NoEmailAccount(frappe.ValidationError):
	pass


def outgoing_account():
	from frappe.email.doctype.email_account.email_account import EmailAccount

	return EmailAccount.find_outgoing(match_by_doctype="Customer")


NAME_MARK = "\u2063bank-crm-name\u2063"  # invisible separators around a word no body has


class _Formatted:
	"""Frappe's formatting of a body (its template, the CSS inlined by premailer: tens of ms) done
	once per distinct body: the customer's name is masked before, and put back after, so that
	customers whose bodies differ only by their name share one formatting."""

	def __init__(self, account):
		self.account = account
		self.cache: dict[tuple[str, str], tuple[str, str]] = {}

	def html_and_text(self, subject: str, body: str, name: str | None) -> tuple[str, str]:
		from frappe.core.utils import html2text
		from frappe.email.email_body import get_formatted_html

		maskable = bool(name) and len(name) > 1 and not any(c in name for c in "&<>\"'")
		skeleton = body.replace(name, NAME_MARK) if maskable else body
		key = (subject, skeleton)
		if key not in self.cache:
			html = get_formatted_html(subject, skeleton, email_account=self.account)
			try:
				text = html2text(skeleton)
			except Exception:
				text = "See html attachment"
			self.cache[key] = (html, text)
		html, text = self.cache[key]
		if maskable:
			html, text = html.replace(NAME_MARK, name), text.replace(NAME_MARK, name)
		return html, text


def _builder_class():
	from frappe.email.doctype.email_queue.email_queue import QueueBuilder

	class Builder(QueueBuilder):
		"""Frappe's QueueBuilder with the account and the formatted body given (not looked up and
		formatted again for every e-mail of a batch)."""

		def __init__(self, *args, account=None, html=None, text=None, **kwargs):
			super().__init__(*args, **kwargs)
			self._email_account = account
			self._html, self._text = html, text

		def email_html_content(self):
			return self._html

		def email_text_content(self):
			return self._text

	return Builder


def queue_emails(rows: list[dict], now: datetime | None = None) -> dict[str, str]:
	"""Queue personalised e-mails; ``rows`` carry customer, customer_name, recipient (address),
	subject, message (HTML), content_class, reference_doctype/name, idempotency_key and
	optionally send_after. Returns idempotency key → message name."""
	if not rows:
		return {}
	now = now or now_datetime()
	account = outgoing_account()
	if not account:
		frappe.throw(_("No outgoing Email Account is set up"), NoEmailAccount)
	keys = [r["idempotency_key"] for r in rows]
	known = dict(
		frappe.db.sql(
			f"select idempotency_key, name from `tab{MESSAGE}` where idempotency_key in {in_list(keys)}"
		)
	)
	sender = account.default_sender if account.get("email_id") else None
	exists = account.is_exists_in_db()
	account.is_exists_in_db = lambda: exists  # asked once per e-mail by ``as_dict``
	formatted, builder = _Formatted(account), _builder_class()
	columns = set(frappe.get_meta("Email Queue").get_valid_columns())  # as EmailQueue.new keeps
	messages, queues, recipients = [], [], []
	for r in rows:
		if r["idempotency_key"] in known:
			continue
		name, queue = frappe.generate_hash(length=16), frappe.generate_hash(length=16)
		html, text = formatted.html_and_text(
			r.get("subject") or "", r.get("message") or "", r.get("customer_name")
		)
		built = builder(
			recipients=[r["recipient"]],
			sender=sender,
			subject=r.get("subject") or "",
			message=r.get("message") or "",
			reference_doctype=MESSAGE,
			reference_name=name,
			add_unsubscribe_link=0,  # a marketing broadcast carries its own opt-out link
			send_after=r.get("send_after"),
			account=account,
			html=html,
			text=text,
		).as_dict(include_recipients=False)
		if not built:  # Frappe refused the address (and logged it)
			continue
		kept = {k: v for k, v in built.items() if k in columns}
		queues.append({**kept, "name": queue, "status": "Not Sent", "priority": 1, "retry": 0})
		recipients.append(
			{
				"name": frappe.generate_hash(length=16),
				"parent": queue,
				"parenttype": "Email Queue",
				"parentfield": "recipients",
				"idx": 1,
				"recipient": r["recipient"],
				"status": "Not Sent",
			}
		)
		messages.append(
			{
				"name": name,
				"customer": r["customer"],
				"customer_name": r.get("customer_name"),
				"channel": delivery.EMAIL,
				"content_class": r.get("content_class"),
				"status": delivery.SENT,
				"recipient": r["recipient"],
				"subject": (r.get("subject") or "")[:140],
				"message": r.get("message"),
				"attempts": 1,
				"sent_at": now,
				"email_queue": queue,
				"idempotency_key": r["idempotency_key"],
				"reference_doctype": r.get("reference_doctype"),
				"reference_name": r.get("reference_name"),
			}
		)
		known[r["idempotency_key"]] = name
	common = {
		"owner": "Administrator",
		"modified_by": "Administrator",
		"creation": now,
		"modified": now,
		"docstatus": 0,
	}
	insert_rows(MESSAGE, messages, common)
	insert_rows("Email Queue", queues, common)
	insert_rows("Email Queue Recipient", recipients, common)
	return known
