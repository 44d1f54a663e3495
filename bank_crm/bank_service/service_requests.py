"""Service requests and complaints: telling the customer, notifying staff, and the escalation job.

The escalation job reads only open items whose ``next_deadline`` (indexed) has come, so its
cost grows with what is due, not with every request ever registered. Decisions are in
``bank_crm.core.escalation``; each batch writes its escalation logs and notifications with one
multi-row INSERT each and moves the items on with one UPDATE.
"""

from datetime import datetime

import frappe
from frappe import _
from frappe.utils import get_datetime, getdate, now_datetime

from bank_crm.core import escalation, regulatory, sla
from bank_crm.utils.bulk import insert_rows, literal, lock_name

REQUEST = "Bank Service Request"
COMPLAINT = "Bank Complaint"
LOG = "Bank Escalation Log"
SETTINGS = "Bank Service Settings"
# contacts staff have already made (recorded); the others are sent by bank_crm.bank_engagement.outbound
RECORDED_CHANNELS = {"Phone": "Phone", "Visit": "Visit", "Letter": "Other"}


# -- settings ----------------------------------------------------------------------------------
def sla_rules() -> list[sla.SlaRule]:
	rows = frappe.get_all(
		"Bank SLA Rule",
		filters={"parenttype": SETTINGS, "parent": SETTINGS},
		fields=["request_type", "urgency", "tier", "response_hours", "resolution_hours"],
	)
	return [
		sla.SlaRule(r.request_type, r.urgency, r.tier or None, r.response_hours, r.resolution_hours)
		for r in rows
	] or list(sla.default_rules())


def default_tier() -> str | None:
	"""The lowest tier: the SLA for customers not yet tiered."""
	tiers = frappe.get_all(
		"Bank Customer Tier", fields=["name"], order_by="`rank` desc", limit=1, pluck="name"
	)
	return tiers[0] if tiers else None


def find_rule(request_type, urgency, tier) -> sla.SlaRule:
	return sla.find_rule(sla_rules(), request_type, urgency, tier, default_tier())


def matrix() -> tuple[escalation.Level, ...]:
	cache = getattr(frappe.local, "bank_escalation_matrix", None)
	if cache is not None:
		return cache
	rows = frappe.get_all(
		"Bank Escalation Level",
		filters={"parenttype": SETTINGS, "parent": SETTINGS},
		fields=["level", "recipient", "offset_minutes"],
		order_by="idx",
	)
	levels = tuple(escalation.Level(r.level, r.recipient, r.offset_minutes) for r in rows)
	frappe.local.bank_escalation_matrix = levels or escalation.DEFAULT_MATRIX
	return frappe.local.bank_escalation_matrix


def setting(fieldname: str, default):
	value = frappe.db.get_single_value(SETTINGS, fieldname)
	return value if value not in (None, "", 0) else default


# -- the customer ------------------------------------------------------------------------------
def tell_customer(
	doc, channel: str, subject: str, message: str, kind: str, customer: str | None = None
) -> str | None:
	"""Send or record one contact with the customer about ``doc`` and log it on the request.

	Email, SMS, App Push and WeChat go through ``bank_crm.bank_engagement.outbound.dispatch`` (its
	message log and the Customer's timeline); a phone call, visit or letter already made is
	recorded as a Communication linked to the request and the customer.
	"""
	customer = customer or doc.customer
	reference = None
	if channel not in RECORDED_CHANNELS and _outbound_available():
		from bank_crm.bank_engagement.outbound import dispatch

		reference = dispatch(
			customer,
			channel,
			subject,
			message,
			content_class="Service",
			reference_doctype=doc.doctype,
			reference_name=doc.name,
		)
	else:
		comm = frappe.get_doc(
			{
				"doctype": "Communication",
				"communication_type": "Communication",
				"communication_medium": RECORDED_CHANNELS.get(channel, "Other"),
				"sent_or_received": "Sent",
				"subject": subject,
				"content": frappe.utils.escape_html(message),
				"reference_doctype": doc.doctype,
				"reference_name": doc.name,
				"status": "Linked",
			}
		)
		comm.add_link("Customer", customer)
		comm.insert(ignore_permissions=True)
		reference = comm.name
	return reference


def update_row(channel: str, kind: str, message: str, reference: str | None) -> dict:
	return {
		"sent_on": now_datetime(),
		"kind": kind,
		"channel": channel,
		"message": message,
		"sent_by": frappe.session.user,
		"reference": reference,
	}


def _outbound_available() -> bool:
	try:
		import bank_crm.bank_engagement.outbound  # noqa: F401
	except ImportError:
		return False
	return bool(frappe.db.exists("DocType", "Bank Outbound Message"))


# -- staff -------------------------------------------------------------------------------------
def assign(doc, user: str, description: str, date=None):
	"""A ToDo for ``user`` on ``doc`` (Frappe's assignment), once per open assignment."""
	from frappe.desk.form.assign_to import add

	if not user or frappe.db.exists(
		"ToDo",
		{"reference_type": doc.doctype, "reference_name": doc.name, "allocated_to": user, "status": "Open"},
	):
		return
	add(
		{
			"assign_to": [user],
			"doctype": doc.doctype,
			"name": doc.name,
			"description": description,
			"date": date or getdate(),
		},
		ignore_permissions=True,
	)


def branch_managers(branches) -> dict[str, list[str]]:
	branches = [b for b in set(branches) if b]
	if not branches:
		return {}
	rows = frappe.get_all(
		"Bank Branch Member",
		filters={"parenttype": "Bank Branch", "parent": ("in", branches), "member_role": "Branch Manager"},
		fields=["parent", "user"],
	)
	out = {}
	for r in rows:
		out.setdefault(r.parent, []).append(r.user)
	return out


def consumer_protection_officers() -> list[str]:
	"""Head-office consumer protection: enabled users with the role."""
	return [
		r[0]
		for r in frappe.db.sql(
			"""select distinct u.name from `tabHas Role` r join `tabUser` u on u.name = r.parent
			where r.parenttype = 'User' and r.role = %s and u.enabled = 1 and u.name != 'Administrator'
			order by u.name""",
			("Consumer Protection Officer",),
		)
	]


def recipients(
	level: escalation.Level, rm: str | None, branch: str | None, managers: dict, cpos: list
) -> list[str]:
	if level.recipient == escalation.RM:
		return [rm] if rm else []
	if level.recipient == escalation.BRANCH_MANAGER:
		return managers.get(branch, [])
	return cpos


def notification_rows(users, doctype: str, name: str, subject: str, now) -> list[dict]:
	return [
		{
			"name": frappe.generate_hash(length=10),
			"creation": now,
			"modified": now,
			"owner": "Administrator",
			"modified_by": "Administrator",
			"subject": subject,
			"type": "Alert",
			"for_user": user,
			"from_user": "Administrator",
			"document_type": doctype,
			"document_name": name,
			"read": 0,
		}
		for user in users
	]


def log_row(doctype, name, customer, level, users, kind, deadline, reason, now) -> dict:
	return {
		"name": frappe.generate_hash(length=12),
		"creation": now,
		"modified": now,
		"owner": "Administrator",
		"modified_by": "Administrator",
		"reference_doctype": doctype,
		"reference_name": name,
		"customer": customer,
		"level": level.level,
		"recipient": level.recipient,
		"notified_users": ", ".join(users),
		"deadline_kind": kind,
		"deadline": deadline,
		"escalated_on": now,
		"reason": reason,
	}


def escalate_now(doc, level: escalation.Level, kind: str, deadline, reason: str):
	"""Escalate one document at once (an emergency at registration): log, notify, assign."""
	now = now_datetime()
	users = recipients(
		level,
		doc.get("relationship_manager"),
		doc.get("branch"),
		branch_managers([doc.get("branch")]),
		consumer_protection_officers() if level.recipient == escalation.CONSUMER_PROTECTION else [],
	)
	subject = _("{0} {1} escalated to you: {2}").format(_(doc.doctype), doc.name, _(reason))
	insert_rows(
		LOG, [log_row(doc.doctype, doc.name, doc.customer, level, users, kind, deadline, reason, now)]
	)
	insert_rows("Notification Log", notification_rows(users, doc.doctype, doc.name, subject, now))
	for user in users:
		assign(doc, user, subject)
	return users


# -- the escalation job ------------------------------------------------------------------------
REQUEST_FIELDS = (
	"name, customer, relationship_manager, branch, escalation_level, escalated_deadline, "
	"registered_on, response_due, resolution_due, responded_on, resolved_on, paused_since"
)
COMPLAINT_FIELDS = (
	"name, customer, relationship_manager, branch, escalation_level, escalated_deadline, "
	"registered_on, regulatory_deadline, decided_on"
)


def request_deadline(row) -> tuple[str, object] | None:
	clocks = sla.Clocks(
		registered_at=row.registered_on,
		response_due=row.response_due,
		resolution_due=row.resolution_due,
		responded_at=row.responded_on,
		resolved_at=row.resolved_on,
		paused_since=row.paused_since,
	)
	return sla.active_deadline(clocks) if row.response_due and row.resolution_due else None


def complaint_deadline(row) -> tuple[str, object] | None:
	if row.decided_on or not row.regulatory_deadline:
		return None
	return ("Regulatory Decision", get_datetime(f"{row.regulatory_deadline} 23:59:59"))


KINDS = {REQUEST: (REQUEST_FIELDS, request_deadline), COMPLAINT: (COMPLAINT_FIELDS, complaint_deadline)}
BREACH_FLAGS = {
	(REQUEST, "Response"): "response_breached",
	(REQUEST, "Resolution"): "resolution_breached",
	(COMPLAINT, "Regulatory Decision"): "regulatory_breached",
}


def escalate_due(now=None, batch_size: int | None = None) -> dict:
	"""Scheduled every five minutes: escalate what is due (idempotent: once per level per breach)."""
	# one run at a time (a MariaDB named lock, no row locks): a second copy returns at once
	if not frappe.db.sql("select get_lock(%s, 0)", (lock_name("bank_crm_escalation"),))[0][0]:
		return {"checked": 0, "escalations": 0, "notifications": 0, "skipped": 1}
	try:
		return _escalate_due(now, batch_size)
	finally:
		frappe.db.sql("select release_lock(%s)", (lock_name("bank_crm_escalation"),))


def _escalate_due(now=None, batch_size: int | None = None) -> dict:
	now = get_datetime(now) if now else now_datetime()
	batch_size = batch_size or int(setting("escalation_batch_size", 500))
	levels = matrix()
	counts = {"checked": 0, "escalations": 0, "notifications": 0}
	cpos = None
	for doctype, (fields, deadline_of) in KINDS.items():
		while True:
			rows = frappe.db.sql(
				# no locking read: gap locks on the index would hold up registrations; the named
				# lock above keeps a second copy of the job out
				f"select {fields} from `tab{doctype}` where next_deadline <= %s "
				"order by next_deadline limit %s",
				(now, batch_size),
				as_dict=True,
			)
			if not rows:
				break
			managers = branch_managers(r.branch for r in rows)
			if cpos is None:
				cpos = consumer_protection_officers()
			logs, notes, updates = [], [], []
			for row in rows:
				active = deadline_of(row)
				kind, due = active if active else (None, None)
				p = escalation.plan(due, now, row.escalation_level or 0, row.escalated_deadline, levels)
				breached = 0
				for level in p.fire:
					users = recipients(level, row.relationship_manager, row.branch, managers, cpos)
					reason = "Near deadline" if level.offset_minutes < 0 else "Deadline breached"
					logs.append(
						log_row(doctype, row.name, row.customer, level, users, kind, due, reason, now)
					)
					subject = _("{0} {1}: {2} due {3} ({4}, level {5})").format(
						_(doctype), row.name, _(kind), due, _(reason), level.level
					)
					notes += notification_rows(users, doctype, row.name, subject, now)
					breached = breached or int(level.offset_minutes >= 0)
				updates.append((row.name, p.level, p.deadline, p.next_check, breached, kind))
			counts["checked"] += len(rows)
			counts["escalations"] += insert_rows(LOG, logs)
			counts["notifications"] += insert_rows("Notification Log", notes)
			_write_back(doctype, updates)
			frappe.db.commit()  # per batch: a crash loses at most one batch, which the next run redoes
			if len(rows) < batch_size:
				break
	return counts


def _write_back(doctype, updates):
	"""One UPDATE for the batch: level, deadline escalated for, next check and breach flags."""
	if not updates:
		return
	rows = []
	for name, level, deadline, next_check, breached, kind in updates:
		flag = BREACH_FLAGS.get((doctype, kind))
		rows.append((name, level, deadline, next_check, flag if breached else ""))
	derived = " union all ".join(
		"select {} as n, {} as lv, {} as dl, {} as nc, {} as fl".format(*(literal(v) for v in r))
		for r in rows
	)
	flags = {f for (d, _k), f in BREACH_FLAGS.items() if d == doctype}
	sets = ", ".join(f"t.`{f}` = if(v.fl = '{f}', 1, t.`{f}`)" for f in sorted(flags))
	frappe.db.sql(
		f"update `tab{doctype}` t join ({derived}) v on t.name = v.n "
		f"set t.escalation_level = v.lv, t.escalated_deadline = v.dl, t.next_deadline = v.nc, {sets}"
	)


def next_check_for(deadline_pair, reached_level: int, reached_deadline) -> datetime | None:
	"""``next_deadline`` for one document after a change of its clocks (nothing fires here)."""
	if not deadline_pair:
		return None
	return escalation.plan(
		deadline_pair[1], datetime.min, reached_level, reached_deadline, matrix()
	).next_check


def regulatory_clock(doc) -> regulatory.Clock:
	return regulatory.Clock(
		registered_on=getdate(doc.registered_on),
		is_complex=bool(doc.is_complex),
		extension=doc.extension_status or "",
		extension_reason=doc.extension_reason or "",
		extension_requested_by=doc.extension_requested_by,
		extension_approved_by=doc.extension_decided_by,
		decided_on=getdate(doc.decided_on) if doc.decided_on else None,
	)
