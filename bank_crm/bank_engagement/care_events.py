"""Care events: greetings or RM tasks ahead of birthdays, anniversaries and product maturities.

The daily job reads only the customers whose day falls in a rule's window (birthdays and
anniversaries by month-day, maturities by date range), asks ``core.care`` which events are
due, and stores each (event, action) once under a unique key (INSERT IGNORE). Only the rows
still unprocessed are acted on — a greeting through the routed channel (``bank_engagement.contact``,
idempotent by the same key) or a ToDo for the owning RM — so a second run, or a run after a
crash, never greets twice.

A run (*Bank Care Run*) splits the customers into key ranges (*Care Shards* in the engagement
settings), one job each on the ``long`` queue (``enqueue_care``) or one after the other in this
process (``run_care_events``); a killed worker's shard is done again by the next start of the
day's run, which records and greets nothing twice.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import frappe
from frappe import _
from frappe.utils import getdate, now_datetime

from bank_crm.core import care, routing
from bank_crm.utils import shards
from bank_crm.utils.bulk import in_list, insert_rows, update_rows
from bank_crm.utils.people import languages

EVENT = "Bank Care Event"
RUN = "Bank Care Run"
SETTINGS = "Bank Engagement Settings"
LOCK = "bank_crm_care"
CARE = shards.Job(
	RUN,
	"bank_crm.bank_engagement.care_events.run_care_shard",
	lock=LOCK,
	count_setting=(SETTINGS, "care_shards"),
)
ACT_CHUNK = 200
ACT_PAGE = 5000


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


def _candidates(rule, today: date, lo: str = "", hi: str = ""):
	"""(profile head, event) of the customers of ``rule`` due today, of the customer key range
	(``lo``, ``hi``] (all when both are empty)."""
	lead = int(rule.lead_days or 0)
	tier = "and p.tier = %(tier)s" if rule.tier else ""
	in_range, bounds = shards.range_sql("p.customer", lo, hi)
	tier += in_range
	params = {"tier": rule.tier, "today": today, "until": today + timedelta(days=lead), **bounds}
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


STATS = ("recorded", "acted", "greetings", "tasks", "no_channel")


def run_care_events(today: date | None = None, shard_count: int | None = None) -> int:
	"""The day's care run in this process, shard after shard (an unfinished run of the day is
	resumed); returns the events recorded by this call (0 when another process holds the job)."""
	today = getdate(today or frappe.flags.current_date or None)
	before = {}

	def start(count):
		run = _start_run(today, count)
		before.update(shards.results(RUN, run.name)[1])
		return run

	run = shards.run(CARE, start, shard_count or 1, enqueue=False)
	if run is None:
		frappe.log_error(title=_("Care events skipped"), message=_("Another care run holds the lock."))
		return 0
	return shards.results(RUN, run.name)[1].get("recorded", 0) - before.get("recorded", 0)


def enqueue_care(today: date | None = None, shard_count: int | None = None) -> str | None:
	"""The day's care run split into key ranges of customers, one job each on the ``long``
	queue (*Care Shards*): the workers of any host share it; the last shard completes the run."""
	today = getdate(today or frappe.flags.current_date or None)
	run = shards.run(CARE, lambda count: _start_run(today, count), shard_count, enqueue=True)
	return run and run.name


def record_care_events():
	"""The daily job: in this worker, or over the ``long`` queue's workers (*Care Shards* > 1)."""
	shards.run(CARE, lambda count: _start_run(getdate(frappe.flags.current_date or None), count))


def _start_run(today: date, count: int):
	return shards.resume_or_start(RUN, {"run_date": today}, "Customer", count)


def run_care_shard(run: str, shard_no: int):
	"""Record the due events of one key range of customers and act on its events not yet acted
	on (a job on the ``long`` queue, or a step of ``run_care_events``)."""

	def body(doc, shard):
		today = getdate(doc.run_date)
		lo, hi = shard.range_from or "", shard.range_to or ""
		stats = {k: 0 for k in STATS} | {"recorded": record_events(today, lo, hi)}
		frappe.db.commit()  # the events are recorded before anyone is contacted
		for key, count in act_on_pending(today, lo, hi).items():
			stats[key] += count
		return stats

	if shards.work_on(CARE, run, shard_no, body, _("Care events failed"), processed="acted"):
		shards.finish_once(RUN, run, _complete)


def _complete(doc, totals: dict):
	shards.mark_completed(
		RUN,
		doc,
		{
			"events_recorded": totals.get("recorded", 0),
			"events_acted": totals.get("acted", 0),
			"greetings_sent": totals.get("greetings", 0),
			"tasks_created": totals.get("tasks", 0),
			"no_channel": totals.get("no_channel", 0),
		},
	)


def record_events(today: date, lo: str = "", hi: str = "") -> int:
	"""Store the due (event, action) rows of the customers in (``lo``, ``hi``] once each."""
	now = now_datetime()
	recorded = 0
	for rule in rules():
		rows = [
			{
				"name": frappe.generate_hash(length=16),
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
			for head, event in _candidates(rule, today, lo, hi)
		]

		def write(rows=rows) -> int:
			# INSERT IGNORE takes gap locks on the unique key: two shards recording at once may
			# deadlock, and the victim records its rows again (nothing twice: the key)
			n = insert_rows(
				EVENT,
				rows,
				{"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now},
				ignore_duplicates=True,
			)
			frappe.db.commit()
			return n

		recorded += shards.retrying(write)
	return recorded


_PENDING_FIELDS = (
	"name, customer, customer_name, event_type, event_date, detail, years, action, "
	"relationship_manager, event_key"
)


def act_on_pending(today: date, lo: str = "", hi: str = "") -> dict:
	"""Greet and task every event of the customers in (``lo``, ``hi``] not acted on yet, a page
	at a time in name order; each chunk's outcomes and tasks are written in bulk and committed.
	An event whose action failed stays pending (Error Log) for the next run."""
	greetings = {(r.event_type, r.action, r.tier or ""): r.greeting for r in rules()}
	in_range, bounds = shards.range_sql("customer", lo, hi)
	done = {"acted": 0, "greetings": 0, "tasks": 0, "no_channel": 0}
	after = ""
	while pending := frappe.db.sql(
		f"""select {_PENDING_FIELDS} from `tab{EVENT}`
		where status is null and name > %(after)s {in_range} order by name limit {ACT_PAGE}""",
		{"after": after, **bounds},
		as_dict=True,
	):
		after = pending[-1].name
		for key, count in _act_on(pending, greetings).items():
			done[key] += count
	return done


def _act_on(pending: list, greetings: dict) -> dict:
	tiers = dict(
		frappe.get_all(
			"Bank Customer Profile",
			filters={"customer": ("in", list({p.customer for p in pending}) or [""])},
			fields=["customer", "tier"],
			as_list=True,
		)
	)
	langs = languages({p.relationship_manager for p in pending})
	done = {"acted": 0, "greetings": 0, "tasks": 0, "no_channel": 0}
	for start in range(0, len(pending), ACT_CHUNK):
		chunk = pending[start : start + ACT_CHUNK]
		# a chunk is one transaction; when InnoDB picks it as a deadlock victim against another
		# shard, all of it was rolled back (its greetings' records and queued deliveries with it)
		# and it is done again
		counts = shards.retrying(lambda chunk=chunk: _act_on_chunk(chunk, greetings, tiers, langs))
		for key, count in counts.items():
			done[key] += count
	return done


def _act_on_chunk(chunk: list, greetings: dict, tiers: dict, langs: dict) -> dict:
	from bank_crm.bank_engagement import contact

	now = now_datetime()
	common = {"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now}
	updates, todos = [], []
	done = {"acted": 0, "greetings": 0, "tasks": 0, "no_channel": 0}
	# the chunk's greetings routed in two queries, and those for a gateway in batch mode or for
	# the Email Queue written in bulk below (``_Bulk``), not one by one
	routes = contact.route_many(
		[ev.customer for ev in chunk if ev.action in (care.GREETING, care.BOTH)], routing.GREETING, now
	)
	bulk = _Bulk(now)
	for ev in chunk:
		frappe.db.savepoint("bank_crm_care")
		try:
			values, todo = _act(ev, greetings, tiers.get(ev.customer) or "", langs, routes, bulk)
		except Exception as e:
			if shards.lock_conflict(e):
				raise  # the whole chunk is gone, savepoint and all: ``retrying`` does it again
			frappe.db.rollback(save_point="bank_crm_care")
			frappe.log_error(title=_("Care event {0} failed").format(ev.name))
			continue
		updates.append({"name": ev.name, **values})
		if todo:
			todos.append(todo)
		done["greetings"] += bool(values.get("outbound_message") or values.get("_bulk_key"))
		done["no_channel"] += values["status"] == "No Channel"
	# the bulk greetings, then the chunk's RM tasks in one INSERT (with the assignment shown on
	# the event), its outcomes in one UPDATE, committed with the greetings they record
	bulk.write(updates)
	insert_rows("ToDo", todos, common)
	update_rows(EVENT, updates)
	frappe.db.commit()
	if bulk.handed:  # the greetings to their gateways now, by this job
		from bank_crm.bank_engagement import batch_delivery

		batch_delivery.hand_over(bulk.handed)
	done["acted"] = len(updates)
	done["tasks"] = len(todos)
	return done


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


class _Bulk:
	"""A chunk's greetings for gateways in batch mode and for the Email Queue, written at once."""

	def __init__(self, now):
		from bank_crm.bank_engagement import batch_delivery, email_bulk, outbound

		self.now = now
		self.adapters = {c for c in outbound.BATCH_CHANNELS if batch_delivery.batch_adapter(c)}
		self.email = bool(email_bulk.outgoing_account())
		self.rows: dict[str, list] = {"gateway": [], "email": []}
		self.handed: list[str] = []

	def take(self, channel: str) -> str | None:
		if channel in self.adapters:
			return "gateway"
		if channel == routing.EMAIL and self.email:
			return "email"
		return None

	def write(self, updates: list[dict]):
		"""Queue the greetings; each event's row gets its message (by the event's key)."""
		from bank_crm.bank_engagement import batch_delivery, email_bulk

		keyed = {}
		if self.rows["gateway"]:
			queued = batch_delivery.queue_many(self.rows["gateway"], self.now, wake=False)
			keyed.update(queued)
			self.handed = list(queued.values())
		if self.rows["email"]:
			keyed.update(email_bulk.queue_emails(self.rows["email"], self.now))
		for row in updates:
			key = row.pop("_bulk_key", None)
			if key:
				row["outbound_message"] = keyed.get(key)
				if not row["outbound_message"]:  # refused (e.g. an address Frappe would not take)
					row["status"] = "Task Created" if row.get("todo") else "No Channel"


CONTACT_OF = {
	routing.SMS: "mobile_no",
	routing.APP_PUSH: "app_user_id",
	routing.WECHAT: "wechat_id",
	routing.EMAIL: "email_id",
}


def _greet(ev, template, routes: dict, bulk: _Bulk) -> tuple[str | None, str, str | None, str | None]:
	"""(message, explanation, channel, bulk key): a greeting through the routed channel — queued
	for the chunk's bulk write when its channel has one, else sent one by one."""
	from bank_crm.bank_engagement import contact, outbound

	decision, profile = routes.get(ev.customer, (None, None))
	if decision is None:
		return contact.send(
			ev.customer,
			routing.GREETING,
			_(ev.event_type),
			_greeting_text(ev, template),
			reference_doctype=EVENT,
			reference_name=ev.name,
			idempotency_key=ev.event_key,
		) + (None,)
	explanation = contact.explain(decision)
	if not decision.ok:
		return None, explanation, None, None
	kind = bulk.take(decision.channel)
	if kind:
		bulk.rows[kind].append(
			{
				"customer": ev.customer,
				"customer_name": ev.customer_name,
				"channel": decision.channel,
				"content_class": routing.GREETING,
				"subject": _(ev.event_type),
				"message": _greeting_text(ev, template),
				"recipient": profile.get(CONTACT_OF.get(decision.channel, "")),
				"reference_doctype": EVENT,
				"reference_name": ev.name,
				"idempotency_key": ev.event_key,
				"send_after": decision.send_after,
				# what differs between customers' greetings (an e-mail body is formatted once)
				"personal": [str(v) for v in (ev.detail, ev.event_date, ev.years) if v],
			}
		)
		return None, explanation, decision.channel, ev.event_key
	message = outbound.dispatch(
		ev.customer,
		decision.channel,
		_(ev.event_type),
		_greeting_text(ev, template),
		content_class=routing.GREETING,
		reference_doctype=EVENT,
		reference_name=ev.name,
		idempotency_key=ev.event_key,
		send_after=decision.send_after,
	)
	return message, explanation, decision.channel, None


def _act(ev, greetings, tier, langs=None, routes=None, bulk=None):
	"""The event's greeting (sent now, or queued for the chunk's bulk write) and its RM task (a
	row for the chunk's bulk insert)."""
	values = {"outbound_message": None, "channel": None, "todo": None, "_assign": None}
	task = None
	notes = []
	if ev.action in (care.GREETING, care.BOTH):
		template = greetings.get((ev.event_type, ev.action, tier)) or greetings.get(
			(ev.event_type, ev.action, "")
		)
		message, explanation, channel, key = _greet(ev, template, routes or {}, bulk or _Bulk(now_datetime()))
		values.update(outbound_message=message, channel=channel)
		if key:
			values["_bulk_key"] = key
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
			"name": frappe.generate_hash(length=16),
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
	sent = bool(values.get("outbound_message") or values.get("_bulk_key"))
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
