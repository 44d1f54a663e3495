# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt
"""Broadcasts' delivery per broadcast, channel, tier or branch — within the user's scope (an RM
sees own customers' deliveries, a branch manager the branch's)."""

import frappe
from frappe import _
from frappe.utils import add_days, getdate

GROUPS = {"Broadcast": "broadcast", "Channel": "channel", "Tier": "tier", "Branch": "branch"}
COUNTS = (
	("recipients", "count(name)"),
	("sent", "sum(status = 'Sent')"),
	("failed", "sum(status = 'Failed')"),
	("skipped", "sum(status = 'Skipped')"),
	("opted_out", "sum(opted_out)"),
	("opened", "sum(opened)"),
)


def execute(filters=None):
	filters = frappe._dict(filters or {})
	label = filters.group_by if filters.group_by in GROUPS else "Broadcast"
	group = GROUPS[label]
	to_date = getdate(filters.to_date or None)
	from_date = getdate(filters.from_date or add_days(to_date, -90))
	conditions = [["creation", "between", [from_date, add_days(to_date, 1)]]]
	if filters.broadcast:
		conditions.append(["broadcast", "=", filters.broadcast])
	# get_list applies row-level access; the sums run in the database
	rows = frappe.get_list(
		"Bank Broadcast Recipient",
		filters=conditions,
		fields=[f"{group} as grp", *(f"{expr} as {name}" for name, expr in COUNTS)],
		group_by=group,
		order_by="recipients desc",
		limit_page_length=0,
	)
	titles = {}
	if group == "broadcast":
		titles = dict(
			frappe.get_all(
				"Bank Broadcast",
				filters={"name": ("in", [r.grp for r in rows])},
				fields=["name", "title"],
				as_list=True,
			)
		)
	receipts = _receipts(group, from_date, to_date, filters.broadcast)
	data = []
	for r in rows:
		sent = int(r.sent or 0)
		news = receipts.get(r.grp) or {}
		data.append(
			{
				"group": (_(r.grp) if group == "channel" else r.grp) if r.grp else _("Not set"),
				"title": titles.get(r.grp),
				**news,
				**{name: int(r.get(name) or 0) for name, _expr in COUNTS},
				"delivery_rate": 100.0 * sent / (sent + int(r.failed or 0))
				if sent + int(r.failed or 0)
				else None,
				"opt_out_rate": 100.0 * int(r.opted_out or 0) / sent if sent else None,
			}
		)
	link = {"broadcast": "Bank Broadcast", "branch": "Bank Branch", "tier": "Bank Customer Tier"}.get(group)
	columns = [
		{
			"label": _(label),
			"fieldname": "group",
			"fieldtype": "Link" if link else "Data",
			"options": link,
			"width": 170,
		},
		*(
			[{"label": _("Title"), "fieldname": "title", "fieldtype": "Data", "width": 200}]
			if group == "broadcast"
			else []
		),
		{"label": _("Recipients"), "fieldname": "recipients", "fieldtype": "Int", "width": 100},
		{"label": _("Sent"), "fieldname": "sent", "fieldtype": "Int", "width": 80},
		{"label": _("Failed"), "fieldname": "failed", "fieldtype": "Int", "width": 80},
		{"label": _("Skipped"), "fieldname": "skipped", "fieldtype": "Int", "width": 80},
		{"label": _("Opt-outs"), "fieldname": "opted_out", "fieldtype": "Int", "width": 90},
		{"label": _("Email Opens"), "fieldname": "opened", "fieldtype": "Int", "width": 100},
		{"label": _("Delivered (%)"), "fieldname": "delivery_rate", "fieldtype": "Percent", "width": 110},
		{"label": _("Opt-out Rate (%)"), "fieldname": "opt_out_rate", "fieldtype": "Percent", "width": 120},
		*(
			[
				{"label": _("Delivered"), "fieldname": "delivered", "fieldtype": "Int", "width": 90},
				{"label": _("Undelivered"), "fieldname": "undelivered", "fieldtype": "Int", "width": 100},
				{"label": _("Awaiting Receipt"), "fieldname": "awaiting", "fieldtype": "Int", "width": 110},
				{
					"label": _("Receipt Delivered (%)"),
					"fieldname": "receipt_rate",
					"fieldtype": "Percent",
					"width": 140,
				},
				{"label": _("Failure Reasons"), "fieldname": "reasons", "fieldtype": "Data", "width": 260},
			]
			if group in RECEIPT_GROUPS
			else []
		),
	]
	chart = {
		"data": {
			"labels": [str(d["title"] or d["group"]) for d in data[:12]],
			"datasets": [
				{"name": _("Sent"), "values": [d["sent"] for d in data[:12]]},
				{"name": _("Skipped"), "values": [d["skipped"] for d in data[:12]]},
				{"name": _("Failed"), "values": [d["failed"] for d in data[:12]]},
			],
		},
		"type": "bar",
		"barOptions": {"stacked": 1},
	}
	return columns, data, None, chart


RECEIPT_GROUPS = {"broadcast": "reference_name", "channel": "channel"}


def _receipts(group: str, from_date, to_date, broadcast: str | None) -> dict[str, dict]:
	"""What the gateways reported per broadcast or channel: delivered, undelivered, awaiting, and
	the failure reasons (receipts' and refusals') with their counts — from the delivery log,
	within the user's scope (``get_list``)."""
	key = RECEIPT_GROUPS.get(group)
	if not key:
		return {}
	conditions = [
		["reference_doctype", "=", "Bank Broadcast"],
		["creation", "between", [from_date, add_days(to_date, 1)]],
		["channel", "in", ["SMS", "App Push", "WeChat"]],
	]
	if broadcast:
		conditions.append(["reference_name", "=", broadcast])
	out: dict[str, dict] = {}
	for r in frappe.get_list(
		"Bank Outbound Message",
		filters=conditions,
		fields=[
			f"{key} as grp",
			"sum(status = 'Sent' and receipt_status in ('Delivered', 'Opened', 'Clicked')) as delivered",
			"sum(receipt_status = 'Undelivered') as undelivered",
			# only what a gateway took with an id of its own can have a receipt
			"sum(status = 'Sent' and ifnull(gateway_message_id, '') != '' and ifnull(receipt_status, '') = '') as awaiting",
		],
		group_by=key,
		limit_page_length=0,
	):
		delivered, undelivered = int(r.delivered or 0), int(r.undelivered or 0)
		out[r.grp] = {
			"delivered": delivered,
			"undelivered": undelivered,
			"awaiting": int(r.awaiting or 0),
			"receipt_rate": 100.0 * delivered / (delivered + undelivered)
			if delivered + undelivered
			else None,
			"reasons": "",
		}
	reasons: dict[str, list] = {}
	for field, status_filter in (
		("receipt_reason", ["receipt_status", "=", "Undelivered"]),
		("last_error", ["status", "=", "Dead"]),
	):
		for r in frappe.get_list(
			"Bank Outbound Message",
			filters=[*conditions, status_filter],
			fields=[f"{key} as grp", f"{field} as reason", "count(name) as n"],
			group_by=f"{key}, {field}",
			order_by="n desc",
			limit_page_length=0,
		):
			reasons.setdefault(r.grp, []).append((r.reason or _("Not set"), int(r.n)))
	for grp, found in reasons.items():
		merged: dict[str, int] = {}
		for reason, n in found:
			merged[reason] = merged.get(reason, 0) + n
		top = sorted(merged.items(), key=lambda kv: -kv[1])[:4]
		out.setdefault(grp, {})["reasons"] = ", ".join(f"{_(reason)} ({n})" for reason, n in top)
	return out
