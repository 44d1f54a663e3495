"""E-mail for many customers through Frappe's Email Queue, written in bulk.

Each e-mail is a MIME message as Frappe's own ``QueueBuilder`` makes it (the template, the CSS
inlined, the sender of the outgoing Email Account, a message id of its own) and lands in *Email
Queue* and *Email Queue Recipient* by one INSERT each per batch, beside its *Bank Outbound
Message* (the delivery log, idempotent by key: a batch redone queues nothing twice). Frappe's
e-mail workers (``frappe.email.queue.flush``) deliver them; the message's ``email_queue`` link
shows what became of each.

Building one costs Frappe about 47 ms (most of it inlining CSS). A broadcast's e-mails differ
only by a few values of the customer's own (name, id, opt-out link), so ``_Template`` has Frappe
build the message once per distinct body with those values masked, checks that it can re-encode
the message's text and HTML parts exactly as the e-mail package did, and then makes each e-mail
by putting the values back into the decoded parts, encoding them again and giving the message a
message id of its own. A body it cannot take apart that way is built by Frappe in full.
"""

from __future__ import annotations

import email
import email.charset
import email.policy
import email.utils
import html
from datetime import datetime

import frappe
from frappe import _
from frappe.utils import now_datetime

from bank_crm.core import delivery
from bank_crm.utils.bulk import in_list, insert_rows

MESSAGE = "Bank Outbound Message"
CACHE_SIZE = 5_000  # distinct bodies kept by a process
_CACHE: dict[tuple, dict] = {}


class NoEmailAccount(frappe.ValidationError):
	pass


def outgoing_account():
	from frappe.email.doctype.email_account.email_account import EmailAccount

	return EmailAccount.find_outgoing(match_by_doctype="Customer")


def _mark(i: int, value: str) -> str:
	"""A stand-in the formatting leaves alone: plain letters, or for a link an absolute one (a
	relative link would be made absolute)."""
	if value.startswith(("http://", "https://")):
		return f"https://bankcrmpersonal{i}x.invalid/"
	return f"bankcrmpersonal{i}x"


def _builder_class():
	from frappe.email.doctype.email_queue.email_queue import QueueBuilder

	class Builder(QueueBuilder):
		"""Frappe's QueueBuilder with the account given, not looked up for every e-mail."""

		def __init__(self, *args, account=None, **kwargs):
			super().__init__(*args, **kwargs)
			self._email_account = account

	return Builder


class _Template:
	"""One Frappe-built e-mail per distinct body, with slots for what differs per customer."""

	def __init__(self, account, sender):
		self.account, self.sender = account, sender
		self.builder = _builder_class()
		# kept for the process (a shard, a care job goes through many batches), per site and account
		self.cache = _CACHE.setdefault((frappe.local.site, account.name, sender), {})
		if len(self.cache) > CACHE_SIZE:
			self.cache.clear()
		self.charset = email.charset.Charset("utf-8")

	def message(self, row: dict, reference_name: str) -> dict | None:
		"""The Email Queue values of one e-mail (None: Frappe refused the address)."""
		body, subject = row.get("message") or "", row.get("subject") or ""
		personal = [*(row.get("personal") or ()), row.get("customer_name") or ""]
		found = sorted({v for v in personal if v and len(v) > 1 and v in body}, key=len, reverse=True)
		masked = [(v, _mark(i, v)) for i, v in enumerate(found)]  # the longest first
		skeleton = body
		for value, mark in masked:
			skeleton = skeleton.replace(value, mark)
		key = (subject, skeleton)
		if key not in self.cache:
			self.cache[key] = self._take_apart(self._build(subject, skeleton, row, reference_name))
		template = self.cache[key]
		if template is None:  # not to be taken apart: Frappe builds this one in full
			return self._build(subject, body, row, reference_name)
		values, mime, parts = template
		for slot, decoded, is_html in parts:
			for value, mark in masked:
				# the HTML as the formatting serialises it: "&" in a link or a name becomes "&amp;"
				decoded = decoded.replace(mark, html.escape(value, quote=False) if is_html else value)
			mime = mime.replace(slot, self._encode(decoded).rstrip("\r\n"), 1)
		message_id = email.utils.make_msgid(domain=frappe.local.site)
		mime = mime.replace("bankcrmmessageidx", message_id[1:-1], 1)
		return {
			**values,
			"message": mime,
			"message_id": message_id[1:-1],
			"reference_name": reference_name,
			"send_after": row.get("send_after"),
		}

	def _build(self, subject: str, body: str, row: dict, reference_name: str) -> dict | None:
		return self.builder(
			recipients=[row["recipient"]],
			sender=self.sender,
			subject=subject,
			message=body,
			reference_doctype=MESSAGE,
			reference_name=reference_name,
			add_unsubscribe_link=0,  # a marketing broadcast carries its own opt-out link
			send_after=row.get("send_after"),
			account=self.account,
		).as_dict(include_recipients=False)

	def _encode(self, text: str) -> str:
		return self.charset.body_encode(text).replace("\n", "\r\n")

	def _take_apart(self, built: dict | None):
		"""(values, MIME with slots, [(slot, decoded part)]) — or None when the message's text
		and HTML parts are not re-encoded exactly as they were."""
		if not built:
			return None
		# Frappe registers quoted-printable for UTF-8 when it builds its first e-mail: encode as it did
		self.charset = email.charset.Charset("utf-8")
		if self.charset.body_encoding != email.charset.QP:
			return None
		mime = built["message"]
		parsed = email.message_from_string(mime, policy=email.policy.SMTP)
		parts = []
		for i, part in enumerate(
			p for p in parsed.walk() if p.get_content_type() in ("text/plain", "text/html")
		):
			raw = part.get_payload()
			decoded = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
			if part.get("Content-Transfer-Encoding", "").lower() != "quoted-printable" or raw not in mime:
				return None
			if self._encode(decoded).rstrip("\r\n") != raw.rstrip("\r\n"):
				return None
			slot = f"bankcrmpartslot{i}x"
			mime = mime.replace(raw, slot + raw[len(raw.rstrip("\r\n")) :], 1)
			parts.append((slot, decoded, part.get_content_type() == "text/html"))
		old_id = built.get("message_id")
		if not parts or not old_id or mime.count(old_id) != 1:
			return None
		mime = mime.replace(old_id, "bankcrmmessageidx")
		values = {
			k: v
			for k, v in built.items()
			if k not in ("message", "message_id", "reference_name", "send_after")
		}
		return values, mime, parts


def queue_emails(rows: list[dict], now: datetime | None = None) -> dict[str, str]:
	"""Queue personalised e-mails; ``rows`` carry customer, customer_name, recipient (address),
	subject, message (HTML), content_class, reference_doctype/name, idempotency_key and
	optionally send_after and ``personal`` (the values in the body that are the customer's own,
	beside the name, longest first). Returns idempotency key → message name."""
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
	template = _Template(account, account.default_sender if account.get("email_id") else None)
	columns = set(frappe.get_meta("Email Queue").get_valid_columns())  # as EmailQueue.new keeps
	messages, queues, recipients = [], [], []
	for r in rows:
		if r["idempotency_key"] in known:
			continue
		name, queue = frappe.generate_hash(length=16), frappe.generate_hash(length=16)
		built = template.message(r, name)
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
