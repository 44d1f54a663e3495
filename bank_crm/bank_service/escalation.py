"""Escalation of service requests and complaints (the matrix RM → branch manager → head-office
consumer protection): at once for an emergency, and the job every five minutes.

The job reads only open items whose ``next_deadline`` (indexed) has come, so its cost grows with
what is due, not with every request ever registered. Decisions are in
``bank_crm.core.escalation``; each batch writes its escalation logs and notifications with one
multi-row INSERT each and moves the items on with one UPDATE.
"""

from datetime import datetime

import frappe
from frappe import _
from frappe.utils import get_datetime, now_datetime

from bank_crm.bank_service.service_requests import COMPLAINT, REQUEST, SETTINGS, assign, setting
from bank_crm.core import escalation, sla
from bank_crm.utils.bulk import insert_rows, literal, lock_name

LOG = "Bank Escalation Log"


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
			"name": frappe.generate_hash(length=16),
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
		"name": frappe.generate_hash(length=16),
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
