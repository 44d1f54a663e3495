"""Care events: greetings or RM tasks ahead of birthdays, anniversaries and product maturities.

The daily job reads only the customers whose day falls in a rule's window (birthdays and
anniversaries by month-day, maturities by date range), asks ``core.care`` which events are
due, and stores each (event, action) once under a unique key (INSERT IGNORE). Only the rows
still unprocessed are acted on — a greeting through the routed channel (``services.contact``,
idempotent by the same key) or a ToDo for the owning RM — so a second run, or a run after a
crash, never greets twice.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import frappe
from frappe import _
from frappe.utils import getdate, now_datetime

from bank_crm.core import care, routing
from bank_crm.services.bulk import in_list, insert_rows, update_rows
from bank_crm.services.people import languages

EVENT = "Bank Care Event"
SETTINGS = "Bank Engagement Settings"
ACT_CHUNK = 200


def rules() -> list[dict]:
	return [
		r
		for r in frappe.get_all(
			"Bank Care Rule",
			filters={"parent": SETTINGS, "parenttype": SETTINGS, "enabled": 1},
			fields=["event_type", "lead_days", "action", "tier", "greeting"],
			order_by="idx",
		)
	]


_PROFILE_COLUMNS = "p.name, p.customer, p.customer_name, p.tier, p.relationship_manager, p.branch"


def _candidates(rule, today: date):
	lead = int(rule.lead_days or 0)
	tier = "and p.tier = %(tier)s" if rule.tier else ""
	params = {"tier": rule.tier, "today": today, "until": today + timedelta(days=lead)}
	if rule.event_type in (care.BIRTHDAY, care.ANNIVERSARY):
		column = "date_of_birth" if rule.event_type == care.BIRTHDAY else "relationship_since"
		days = in_list(care.month_days_in_window(today, lead))
		rows = frappe.db.sql(
			f"""select {_PROFILE_COLUMNS}, p.{column} from `tabBank Customer Profile` p
			where p.{column} is not null and date_format(p.{column}, '%%m-%%d') in {days} {tier}""",
			params,
		)
		for *head, origin in rows:
			if rule.event_type == care.BIRTHDAY:
				event = care.birthday_event(head[1], origin, today, lead)
			else:
				event = care.anniversary_event(head[1], origin, today, lead)
			if event:
				yield head, event
	elif rule.event_type == care.RISK_REASSESSMENT:
		rows = frappe.db.sql(
			f"""select {_PROFILE_COLUMNS}, p.risk_assessment_expires_on from `tabBank Customer Profile` p
			where p.profile_type = 'Individual' and ifnull(p.risk_tolerance, '') != ''
				and p.risk_assessment_expires_on between %(today)s and %(until)s {tier}""",
			params,
		)
		for *head, expires_on in rows:
			event = care.reassessment_event(head[1], expires_on, today, lead)
			if event:
				yield head, event
	else:
		# maturities typed on the profile, and those of the holdings the core systems send
		rows = frappe.db.sql(
			f"""select {_PROFILE_COLUMNS}, m.product, m.maturity_date from `tabBank Product Maturity` m
			join `tabBank Customer Profile` p on p.name = m.parent
			where m.parenttype = 'Bank Customer Profile' and m.maturity_date between %(today)s and %(until)s {tier}
			union all
			select {_PROFILE_COLUMNS}, coalesce(b.product_name, h.product), h.maturity_date
			from `tabBank Product Holding` h
			join `tabBank Customer Profile` p on p.customer = h.customer
			left join `tabBank Product` b on b.name = h.product
			where h.status = 'Active' and h.maturity_date between %(today)s and %(until)s {tier}""",
			params,
		)
		for *head, product, matures in rows:
			for event in care.maturity_events(head[1], [(product, matures)], today, lead):
				yield head, event


def run_care_events(today: date | None = None) -> int:
	"""Record due events once and act on those not yet acted on; returns events recorded now."""
	today = getdate(today or frappe.flags.current_date or None)
	now = now_datetime()
	recorded = 0
	for rule in rules():
		rows = [
			{
				"name": frappe.generate_hash(length=12),
				"customer": event.customer,
				"customer_name": head[2],
				"event_type": event.event_type,
				"event_date": event.event_date,
				"detail": event.detail or None,
				"years": event.years,
				"action": rule.action,
				"relationship_manager": head[4],
				"branch": head[5],
				"event_key": f"{event.key}|{rule.action}"[:140],
			}
			for head, event in _candidates(rule, today)
		]
		recorded += insert_rows(
			EVENT,
			rows,
			{"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now},
			ignore_duplicates=True,
		)
		frappe.db.commit()  # the events are recorded before anyone is contacted
	act_on_pending(today)
	return recorded


def act_on_pending(today: date, limit: int = 20000) -> int:
	greetings = {(r.event_type, r.action, r.tier or ""): r.greeting for r in rules()}
	pending = frappe.get_all(
		EVENT,
		filters={"status": ("is", "not set")},
		fields=[
			"name",
			"customer",
			"customer_name",
			"event_type",
			"event_date",
			"detail",
			"years",
			"action",
			"relationship_manager",
			"event_key",
		],
		limit=limit,
		order_by="event_date",
	)
	tiers = dict(
		frappe.get_all(
			"Bank Customer Profile",
			filters={"customer": ("in", list({p.customer for p in pending}) or [""])},
			fields=["customer", "tier"],
			as_list=True,
		)
	)
	langs = languages({p.relationship_manager for p in pending})
	now = now_datetime()
	common = {"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now}
	for start in range(0, len(pending), ACT_CHUNK):
		updates, todos = [], []
		for ev in pending[start : start + ACT_CHUNK]:
			frappe.db.savepoint("bank_crm_care")
			try:
				values, todo = _act(ev, greetings, tiers.get(ev.customer) or "", langs)
			except Exception:
				frappe.db.rollback(save_point="bank_crm_care")
				frappe.log_error(title=_("Care event {0} failed").format(ev.name))
				continue
			updates.append({"name": ev.name, **values})
			if todo:
				todos.append(todo)
		# the chunk's RM tasks in one INSERT (with the assignment shown on the event), its outcomes
		# in one UPDATE, committed with the greetings they record
		insert_rows("ToDo", todos, common)
		update_rows(EVENT, updates)
		frappe.db.commit()
	return len(pending)


def _greeting_text(ev, template: str | None) -> str:
	values = {
		"customer_name": ev.customer_name or ev.customer,
		"event_date": ev.event_date,
		"years": ev.years or "",
		"detail": ev.detail or "",
	}
	if template:
		try:
			return template.format(**values)
		except (KeyError, IndexError, ValueError):
			pass
	if ev.event_type == care.BIRTHDAY:
		return _("Dear {0}, happy birthday from your bank!").format(values["customer_name"])
	if ev.event_type == care.ANNIVERSARY:
		return _("Dear {0}, thank you for {1} years with us.").format(
			values["customer_name"], values["years"]
		)
	return _("Dear {0}, your {1} matures on {2}.").format(
		values["customer_name"], values["detail"], ev.event_date
	)


def _act(ev, greetings, tier, langs=None):
	"""The event's greeting (sent now) and its RM task (a row for the chunk's bulk insert)."""
	from bank_crm.services import contact

	values = {"outbound_message": None, "channel": None, "todo": None, "_assign": None}
	task = None
	notes = []
	if ev.action in (care.GREETING, care.BOTH):
		template = greetings.get((ev.event_type, ev.action, tier)) or greetings.get(
			(ev.event_type, ev.action, "")
		)
		message, explanation, channel = contact.send(
			ev.customer,
			routing.GREETING,
			_(ev.event_type),
			_greeting_text(ev, template),
			reference_doctype=EVENT,
			reference_name=ev.name,
			idempotency_key=ev.event_key,
		)
		values.update(outbound_message=message, channel=channel)
		notes.append(explanation)
	if ev.action in (care.RM_TASK, care.BOTH) and ev.relationship_manager:
		lang = (langs or {}).get(ev.relationship_manager)  # the task reads in its RM's language
		if ev.event_type == care.MATURITY:
			text = _("{0}: {1} matures on {2} — discuss reinvestment", lang=lang).format(
				ev.customer_name, ev.detail, ev.event_date
			)
		elif ev.event_type == care.RISK_REASSESSMENT:
			text = _(
				"{0}: the risk assessment expires on {1} — reassess; until then nothing above R1 may be recommended",
				lang=lang,
			).format(ev.customer_name, ev.event_date)
		else:
			text = _("{0}: {1} on {2}", lang=lang).format(
				ev.customer_name, _(ev.event_type, lang=lang), ev.event_date
			)
		task = {
			"name": frappe.generate_hash(length=10),
			"status": "Open",
			"priority": "Medium",
			"allocated_to": ev.relationship_manager,
			"description": text,
			"date": ev.event_date,
			"reference_type": EVENT,
			"reference_name": ev.name,
			"assigned_by": "Administrator",
		}
		values["todo"] = task["name"]
		values["_assign"] = json.dumps([ev.relationship_manager])
	sent = bool(values.get("outbound_message"))
	if values.get("todo") and sent:
		status = "Greeting Sent and Task Created"
	elif values.get("todo"):
		status = "Task Created"
	elif sent:
		status = "Greeting Sent"
	else:
		status = "No Channel"
	values["status"] = status
	values["note"] = "\n".join(n for n in notes if n) or None
	return values, task
