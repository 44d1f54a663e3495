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


def queue_emails(rows: list[dict], now: datetime | None = None) -> dict[str, str]:
	"""Queue personalised e-mails; ``rows`` carry customer, customer_name, recipient (address),
	subject, message (HTML), content_class, reference_doctype/name, idempotency_key and
	optionally send_after. Returns idempotency key → message name."""
	from frappe.email.doctype.email_queue.email_queue import QueueBuilder

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
	columns = set(frappe.get_meta("Email Queue").get_valid_columns())  # as EmailQueue.new keeps
	messages, queues, recipients = [], [], []
	for r in rows:
		if r["idempotency_key"] in known:
			continue
		name, queue = frappe.generate_hash(length=16), frappe.generate_hash(length=16)
		built = QueueBuilder(
			recipients=[r["recipient"]],
			sender=sender,
			subject=r.get("subject") or "",
			message=r.get("message") or "",
			reference_doctype=MESSAGE,
			reference_name=name,
			add_unsubscribe_link=0,  # a marketing broadcast carries its own opt-out link
			send_after=r.get("send_after"),
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
