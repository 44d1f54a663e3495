"""The customer's messages on the Customer's timeline, without a Communication per message.

Frappe's ``additional_timeline_content`` hook (``hooks.py``) asks ``customer_messages`` when a
Customer form loads: the latest SMS, app push and WeChat messages with their delivery receipts,
read through ``get_list`` (the reader's row-level access applies), and the e-mails sent in bulk
through the Email Queue. An e-mail sent one by one keeps Frappe's own Communication, which the
timeline shows already.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import escape_html

from bank_crm.core import delivery, gateway

MESSAGE = "Bank Outbound Message"
SHOWN = 50
CHANNELS = (delivery.SMS, delivery.APP_PUSH, delivery.WECHAT)
ICONS = {
	delivery.SMS: "mobile",
	delivery.APP_PUSH: "notification",
	delivery.WECHAT: "message",
	delivery.EMAIL: "mail",
}
COLOURS = {
	gateway.DELIVERED: "green",
	gateway.OPENED: "green",
	gateway.CLICKED: "green",
	gateway.UNDELIVERED: "red",
	delivery.DEAD: "red",
	delivery.FAILED: "orange",
	delivery.SENT: "blue",
}


def customer_messages(doctype: str, docname: str) -> list[dict]:
	if doctype != "Customer" or not frappe.has_permission("Customer", "read", doc=docname):
		return []
	# SMS, push and WeChat; and e-mails sent in bulk, which have no Communication of their own
	# (an e-mail sent one by one is on the timeline as Frappe's Communication already)
	rows = frappe.get_list(
		MESSAGE,
		filters={"customer": docname, "channel": ("in", (*CHANNELS, delivery.EMAIL))},
		fields=[
			"name",
			"channel",
			"status",
			"subject",
			"message",
			"creation",
			"sent_at",
			"receipt_status",
			"receipt_reason",
			"last_error",
			"communication",
		],
		order_by="creation desc",
		limit_page_length=SHOWN,
	)
	rows = [r for r in rows if r.channel != delivery.EMAIL or not r.communication]
	return [
		{"icon": ICONS.get(r.channel, "message"), "creation": r.sent_at or r.creation, "content": _content(r)}
		for r in rows
	]


def _content(r) -> str:
	state = r.receipt_status or r.status
	why = (
		r.receipt_reason
		if r.receipt_status
		else (r.last_error if r.status in (delivery.FAILED, delivery.DEAD) else None)
	)
	link = frappe.utils.get_link_to_form(MESSAGE, r.name, _(r.channel))
	text = escape_html(frappe.utils.strip_html(r.message or "")[:200])
	badge = f'<span class="indicator-pill {COLOURS.get(state, "gray")}">{escape_html(_(state))}</span>'
	reason = f' <span class="text-muted">{escape_html(why)}</span>' if why else ""
	return (
		f"{link} · {escape_html(r.subject or '')} {badge}{reason}<div class='text-muted small'>{text}</div>"
	)
