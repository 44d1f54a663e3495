"""Daily visit planning: every customer keeps one open plan item per contact kind of their plan.

The decisions are ``bank_crm.core.cadence``; this module reads profiles and their open items in
batches (one row per profile, the items folded into one string), asks the core what to change,
and writes only that: new items by one bulk INSERT per batch, re-dated, reassigned and cancelled
items by one UPDATE … JOIN each. A customer whose open items already match the tier's plan
(the usual case) is recognised from the SQL row alone and costs no decision at all.

Then, set-based over the whole table: plan items entering the reminder window become ToDos for
their RM (bulk INSERT, ``_assign`` set by one UPDATE), and the overdue flag follows the dates.
Each run leaves a Bank Planning Run record; a MariaDB named lock keeps two runs apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import frappe
from frappe import _
from frappe.utils import getdate, now_datetime

from bank_crm.core import cadence
from bank_crm.utils import shards
from bank_crm.utils.bulk import execute_values, in_list, insert_rows, update_rows
from bank_crm.utils.people import languages as user_languages

PLAN_ITEM = "Bank Visit Plan"
SERVICE_PLAN = "Bank Service Plan"
RUN = "Bank Planning Run"
PROFILE = "Bank Customer Profile"
SETTINGS = "Bank Engagement Settings"
LOCK = "bank_crm_visit_planning"
TMP = "bank_crm_tmp_plan"
SEP_ROW, SEP_FIELD = "\x1e", "\x1f"
PACK_ROW, PACK_FIELD = "\x1c", "\x1d"  # a packed batch's rows and fields (around the signatures)
TOUCH_CHUNK = 500
PLANNING = shards.Job(
	RUN,
	"bank_crm.bank_engagement.visit_planning.run_planning_shard",
	lock=LOCK,
	count_setting=(SETTINGS, "planning_shards"),
)


# -- plans ------------------------------------------------------------------------------------
def load_plans() -> dict[str, tuple[cadence.PlanLine, ...]]:
	"""The enabled service plans by tier."""
	plans = {}
	enabled = frappe.get_all(SERVICE_PLAN, filters={"enabled": 1}, fields=["name", "tier"])
	rows = frappe.get_all(
		"Bank Service Plan Contact",
		filters={"parenttype": SERVICE_PLAN, "parent": ("in", [p.name for p in enabled] or [""])},
		fields=["parent", "contact_kind", "every", "unit", "responsible", "content_class", "theme"],
		order_by="parent, idx",
	)
	by_plan: dict[str, list] = {}
	for r in rows:
		by_plan.setdefault(r.parent, []).append(
			cadence.PlanLine(
				r.contact_kind,
				int(r.every or 1),
				r.unit or cadence.MONTH,
				r.responsible or cadence.RELATIONSHIP_MANAGER,
				r.theme or "",
				r.content_class or "",
			)
		)
	for p in enabled:
		plans[p.tier] = tuple(by_plan.get(p.name, ()))
	return plans


def settings():
	s = frappe.get_cached_doc(SETTINGS)
	return int(s.reminder_days if s.reminder_days is not None else 7), int(s.planning_batch_size or 20000)


# -- the daily job ----------------------------------------------------------------------------
def plan_visits_and_care():
	"""Scheduler entry (``daily_long``): plan visits (over the ``long`` queue's workers when
	*Planning Shards* is above 1), send the automated touches that are due, then the day's care
	events (likewise by *Care Shards*)."""
	shards.run(PLANNING, lambda count: _start_run(getdate(frappe.flags.current_date or None), count))
	send_due_touches()
	from bank_crm.bank_engagement import care_events

	care_events.record_care_events()


def send_due_touches(today: date | None = None, limit: int = 20000) -> dict:
	"""Automated plan items (e.g. the Mass tier's quarterly app/SMS touch) that are due go out
	through the routed channel; a sent touch completes its item and plans the next one, a
	customer without a usable channel has the item cancelled with the routing rule's reason."""
	from bank_crm.bank_engagement import contact

	today = getdate(today or frappe.flags.current_date or None)
	items = frappe.db.sql(
		"""select name, customer, customer_name, profile, content_class, theme from `tabBank Visit Plan`
		where status = 'Open' and responsible = 'Automated' and due_date <= %s
		order by due_date limit %s""",
		(today, limit),
		as_dict=True,
	)
	sent, skipped, profiles = 0, 0, []
	for start in range(0, len(items), TOUCH_CHUNK):
		updates = []
		for item in items[start : start + TOUCH_CHUNK]:
			frappe.db.savepoint("bank_crm_touch")
			try:
				subject = item.theme or _("A message from your bank")
				text = _("Dear {0}: {1}").format(item.customer_name or item.customer, subject)
				message, explanation, _channel = contact.send(
					item.customer,
					item.content_class or "Routine Tip",
					subject,
					text,
					reference_doctype=PLAN_ITEM,
					reference_name=item.name,
					idempotency_key=f"touch:{item.name}",  # a rerun after a crash sends nothing twice
				)
			except Exception:
				frappe.db.rollback(save_point="bank_crm_touch")
				frappe.log_error(title=_("Automated touch {0} failed").format(item.name))
				continue
			if message:
				updates.append(
					{"name": item.name, "status": "Done", "completed_on": today, "cancel_reason": None}
				)
				sent += 1
			else:
				updates.append(
					{
						"name": item.name,
						"status": "Cancelled",
						"completed_on": None,
						"cancel_reason": explanation[:140],
					}
				)
				skipped += 1
			profiles.append(item.profile)
		# one UPDATE for the chunk's items (no set_value per item)
		update_rows(PLAN_ITEM, [{**u, "is_overdue": 0} for u in updates])
		frappe.db.commit()
	if profiles:
		for start in range(0, len(profiles), 5000):
			plan_profiles(profiles[start : start + 5000], today)
		frappe.db.commit()
	return {"sent": sent, "skipped": skipped}


STATS = ("customers", "created_items", "redated_items", "cancelled_items", "reassigned_items")


def run_planning(
	today: date | None = None, batch_size: int | None = None, shard_count: int | None = None
) -> str | None:
	"""Run (or resume) the day's planning in this process, shard after shard; returns the run
	record's name, or None when another process holds the planning lock."""
	today = getdate(today or frappe.flags.current_date or None)
	kwargs = {"batch_size": batch_size} if batch_size else {}
	run = shards.run(PLANNING, lambda count: _start_run(today, count), shard_count or 1, False, **kwargs)
	if run is None:
		frappe.log_error(title=_("Visit planning skipped"), message=_("Another planning run holds the lock."))
	return run and run.name


def enqueue_planning(today: date | None = None, shard_count: int | None = None) -> str | None:
	"""Split the day's planning into key-range shards of customers, one job each on the ``long``
	queue (*Planning Shards* in the settings): workers on any host share the run; the last shard
	to finish creates the due tasks, flags the overdue items and completes the run. A run of the
	day that is not finished is resumed instead of starting another."""
	today = getdate(today or frappe.flags.current_date or None)
	run = shards.run(PLANNING, lambda count: _start_run(today, count), shard_count, enqueue=True)
	return run and run.name


def _start_run(today: date, count: int):
	return shards.resume_or_start(RUN, {"run_date": today}, PROFILE, count)


def run_planning_shard(run: str, shard_no: int, batch_size: int | None = None):
	"""Plan one key range of customers (a job on the ``long`` queue, or a step of
	``run_planning``), from its checkpoint; the last shard to finish completes the run."""

	def body(doc, shard):
		today = getdate(doc.run_date)
		stats = {k: 0 for k in STATS} | json.loads(shard.result or "{}")
		_, default_batch = settings()
		plans = load_plans()
		after, until = shard.checkpoint or shard.range_from or "", shard.range_to or ""
		_ensure_tmp_table()
		try:
			while rows := _read_batch(after=after, limit=batch_size or default_batch, until=until):
				after = rows[-1][0]

				def batch(rows=rows, after=after, before=stats):
					done = dict(before)
					_plan_batch(rows, plans, today, done)
					# one batch is one unit of work: a killed worker's shard resumes after it
					shards.set_shard(
						RUN,
						run,
						shard.shard_no,
						{"checkpoint": after, "processed": done["customers"], "result": json.dumps(done)},
					)
					frappe.db.commit()
					return done

				stats = shards.retrying(batch)
		finally:
			_drop_tmp_table()
		return stats

	if shards.work_on(PLANNING, run, shard_no, body, _("Visit planning failed"), processed="customers"):
		shards.finish_once(RUN, run, _complete)


def _complete(doc, totals: dict):
	"""Once every shard is done: the due tasks and overdue flags (site-wide, once), the totals."""
	today = getdate(doc.run_date)
	reminder_days, _batch = settings()
	totals["tasks_created"] = create_due_tasks(today, reminder_days)
	totals["overdue_flagged"] = flag_overdue(today)
	shards.mark_completed(
		RUN, doc, {k: totals.get(k, 0) for k in (*STATS, "tasks_created", "overdue_flagged")}
	)
	frappe.db.set_single_value(SETTINGS, "last_planning_run", doc.name)


def plan_profiles(profiles: list[str], today: date | None = None) -> dict:
	"""Re-plan a few customers now (after a contact, an override or a tier change); no commit."""
	today = getdate(today or frappe.flags.current_date or None)
	stats = dict.fromkeys(
		("customers", "created_items", "redated_items", "cancelled_items", "reassigned_items"), 0
	)
	if not profiles:
		return stats
	_ensure_tmp_table()
	try:
		_plan_batch(_read_batch(names=profiles), load_plans(), today, stats)
		reminder_days, _batch = settings()
		stats["tasks_created"] = create_due_tasks(today, reminder_days, profiles=profiles)
		flag_overdue(today, profiles=profiles)
	finally:
		_drop_tmp_table()
	return stats


# -- reading ----------------------------------------------------------------------------------
def _read_batch(
	after: str | None = None, limit: int | None = None, names: list[str] | None = None, until: str = ""
):
	"""Profiles of the batch as (name, customer, customer_name, tier, rm, branch, dnc,
	has_overrides, signature of the open items).

	Three range scans in profile order — the profiles, their open items' signatures through the
	covering index ``profile_open_signature``, and the profiles with overrides — rather than
	subqueries per profile."""
	where = "p.name in %(names)s" if names else "p.name > %(after)s"
	if until and not names:
		where += " and p.name <= %(until)s"  # the shard's last key
	params = {"after": after or "", "limit": limit, "names": tuple(names or ()), "until": until}
	# each read returns the whole batch as one delimited string: PyMySQL parses every value of
	# every row in Python, str.split is C (the same as the segmentation run's batch read)
	frappe.db.sql("set session group_concat_max_len = 1073741824")
	packed = frappe.db.sql(
		f"""select group_concat(concat_ws(char(29), p.name, p.customer,
			replace(replace(ifnull(p.customer_name, ''), char(28), ''), char(29), ''),
			ifnull(p.tier, ''), ifnull(p.relationship_manager, ''), ifnull(p.branch, ''), p.do_not_contact)
			separator '{PACK_ROW}')
		from (select p.name, p.customer, p.customer_name, p.tier, p.relationship_manager, p.branch,
				p.do_not_contact
			from `tabBank Customer Profile` p where {where}
			order by p.name {"limit %(limit)s" if limit else ""}) p""",
		params,
	)[0][0]
	if not packed:
		return []
	profiles = sorted(
		(name, customer, cname or None, tier or None, rm, branch, int(dnc))
		for name, customer, cname, tier, rm, branch, dnc in (
			line.split(PACK_FIELD) for line in packed.split(PACK_ROW)
		)
	)
	params.update(lo=profiles[0][0], hi=profiles[-1][0])
	in_batch = "in %(names)s" if names else "between %(lo)s and %(hi)s"
	packed = frappe.db.sql(
		f"""select group_concat(concat(profile, char(29), signature) separator '{PACK_ROW}') from (
			select v.profile, group_concat(concat_ws('{SEP_FIELD}', v.contact_kind, v.plan_key,
				ifnull(v.relationship_manager, ''), ifnull(v.branch, '')) order by v.contact_kind separator '{SEP_ROW}')
				as signature
			from `tabBank Visit Plan` v force index (profile_open_signature)
			where v.profile {in_batch} and v.status = 'Open'
			group by v.profile) s""",
		params,
	)[0][0]
	signatures = dict(line.split(PACK_FIELD) for line in packed.split(PACK_ROW)) if packed else {}
	with_overrides = set(
		frappe.db.sql_list(
			f"""select distinct parent from `tabBank Plan Override`
			where parent {in_batch} and parenttype = 'Bank Customer Profile'""",
			params,
		)
	)
	return [(*row, row[0] in with_overrides, signatures.get(row[0], "")) for row in profiles]


def _open_items(profiles: list[str]) -> dict[str, list[tuple]]:
	"""Open items of a few profiles: (name, kind, due, plan key, last done, rm, branch)."""
	out: dict[str, list] = {}
	if not profiles:
		return out
	for profile, *item in frappe.db.sql(
		f"""select profile, name, contact_kind, due_date, plan_key, last_done_on,
			ifnull(relationship_manager, ''), ifnull(branch, '')
		from `tabBank Visit Plan` where profile in {in_list(profiles)} and status = 'Open'"""
	):
		out.setdefault(profile, []).append(tuple(item))
	return out


def expected_signature(lines, rm: str, branch: str) -> str:
	"""The signature a settled customer's open items have: one per kind, under the plan's key,
	with the customer's RM and branch."""
	return SEP_ROW.join(
		SEP_FIELD.join((line.kind, line.key, rm, branch)) for line in sorted(lines, key=lambda x: x.kind)
	)


def _overrides(profiles: list[str], today: date) -> dict[str, list[cadence.Override]]:
	if not profiles:
		return {}
	out: dict[str, list] = {}
	for parent, kind, every, unit, until, reason in frappe.db.sql(
		f"""select parent, contact_kind, every, unit, valid_until, reason from `tabBank Plan Override`
		where parenttype = 'Bank Customer Profile' and parent in {in_list(profiles)}"""
	):
		out.setdefault(parent, []).append(cadence.Override(kind, int(every or 1), unit, until, reason or ""))
	return out


def _last_done(profiles: list[str]) -> dict[str, dict[str, date]]:
	if not profiles:
		return {}
	out: dict[str, dict] = {}
	for profile, kind, done in frappe.db.sql(
		f"""select profile, contact_kind, max(completed_on) from `tabBank Visit Plan`
		where profile in {in_list(profiles)} and status = 'Done' group by profile, contact_kind"""
	):
		if done:
			out.setdefault(profile, {})[kind] = done
	return out


# -- deciding and writing -----------------------------------------------------------------------
def _plan_batch(rows, plans, today: date, stats: dict):
	"""One batch of profiles: what changes (decided in ``core.cadence``), then one statement per
	kind of change."""
	stats["customers"] += len(rows)
	candidates = _unsettled(rows, plans)
	if not candidates:
		return
	changes = _changes(candidates, plans, today)
	_write_changes(changes, today)
	stats["created_items"] += len(changes.creates)
	stats["redated_items"] += len(changes.updates)
	stats["cancelled_items"] += len(changes.cancels)
	stats["reassigned_items"] += len(changes.reassigns)


def _unsettled(rows, plans) -> list:
	"""The batch's profiles whose open items may not match the tier's plan. A settled customer
	(one item per planned kind, under the plan's key, with the right RM) is recognised from the
	SQL row alone: an RM's customers of a tier share one expected signature."""
	tier_keys = {tier: sorted(lines, key=lambda x: x.kind) for tier, lines in plans.items()}
	expected: dict[tuple, str] = {}
	candidates = []
	for row in rows:
		_name, _customer, _cname, tier, rm, branch, dnc, has_overrides, sig = row
		if not dnc and not has_overrides:
			key = (tier, rm, branch)
			if key not in expected:
				expected[key] = expected_signature(tier_keys.get(tier, ()), rm, branch)
			if sig == expected[key]:
				continue
		candidates.append(row)
	return candidates


@dataclass
class _Changes:
	creates: list = field(default_factory=list)  # new plan items (rows)
	updates: list = field(default_factory=list)  # (item, due, key, source, responsible, theme, tier)
	cancels: list = field(default_factory=list)  # (item, reason)
	reassigns: list = field(default_factory=list)  # (item, rm, branch)


def _changes(candidates, plans, today: date) -> _Changes:
	"""What changes for the candidates' plan items, decided per customer by ``core.cadence``."""
	overrides = _overrides([r[0] for r in candidates if r[7]], today)
	parsed = _open_items([r[0] for r in candidates])
	# the last contact per kind matters only for kinds that get a new item
	needs_history = [
		r[0]
		for r in candidates
		if not r[6] and {line.kind for line in plans.get(r[3], ())} - {i[1] for i in parsed.get(r[0], ())}
	]
	history = _last_done(needs_history) if needs_history else {}
	subjects = _Subjects({r[4] for r in candidates})
	out = _Changes()
	for name, customer, cname, tier, rm, branch, dnc, _has, _sig in candidates:
		items = parsed.get(name, [])
		lines = {} if dnc else cadence.effective_lines(plans.get(tier, ()), overrides.get(name, ()), today)
		open_items = [cadence.OpenItem(i[0], i[1], i[2], i[3], i[4]) for i in items]
		changes = cadence.plan_customer(customer, lines, open_items, history.get(name, {}), today)
		for line, due, done in changes.create:
			out.creates.append(
				_new_item(line, due, done, today, name, customer, cname, tier, rm, branch, subjects)
			)
		for item_name, line, due in changes.redate:
			out.updates.append(
				(item_name, due, line.key, line.source, line.responsible, line.theme or None, tier)
			)
		reason = (
			_("Customer asked not to be contacted") if dnc else _("No longer in the customer's service plan")
		)
		out.cancels += [(item_name, reason) for item_name in changes.cancel]
		cancelled = set(changes.cancel)
		out.reassigns += [
			(i[0], rm or None, branch or None)
			for i in items
			if i[0] not in cancelled and (i[5] != rm or i[6] != branch)
		]
	return out


class _Subjects:
	"""A plan item's subject reads in the language of the RM who works it (calendar, lists)."""

	def __init__(self, rms):
		self.languages = user_languages(rms)
		self.names: dict[tuple, str] = {}

	def kind_name(self, kind, rm) -> str:
		lang = self.languages.get(rm)
		if (kind, lang) not in self.names:
			self.names[(kind, lang)] = _(KIND_LABELS.get(kind, kind), lang=lang, context=PLAN_ITEM)
		return self.names[(kind, lang)]


def _new_item(line, due, done, today, profile, customer, cname, tier, rm, branch, subjects) -> dict:
	return {
		"name": frappe.generate_hash(length=16),
		"customer": customer,
		"customer_name": cname,
		"profile": profile,
		"tier": tier,
		"contact_kind": line.kind,
		"subject": f"{subjects.kind_name(line.kind, rm)} · {cname or customer}",
		"colour": KIND_COLOURS.get(line.kind),
		"due_date": due,
		"status": "Open",
		"is_overdue": int(due < today),
		"relationship_manager": rm or None,
		"branch": branch or None,
		"responsible": line.responsible,
		"content_class": line.content_class or None,
		"theme": line.theme or None,
		"plan_source": line.source,
		"plan_key": line.key,
		"last_done_on": done,
	}


def _write_changes(changes: _Changes, today: date):
	"""The batch's changes written: new items by one bulk INSERT, re-dated, cancelled and
	reassigned items (and their open tasks) by one UPDATE … JOIN each."""
	now = now_datetime()
	if changes.creates:
		insert_rows(
			PLAN_ITEM,
			changes.creates,
			{"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now},
		)
	if changes.updates:
		_redate(changes.updates, today, now)
	if changes.cancels:
		_cancel(changes.cancels, now)
	if changes.reassigns:
		_reassign(changes.reassigns, now)


def _redate(updates, today: date, now):
	cursor = frappe.db._cursor
	cursor.execute(f"delete from `{TMP}`")
	execute_values(
		f"insert into `{TMP}` (name, due_date, plan_key, plan_source, responsible, theme, tier) values ",
		updates,
	)
	cursor.execute(
		f"""update `tabBank Visit Plan` v join `{TMP}` t on t.name = v.name
		set v.due_date = t.due_date, v.plan_key = t.plan_key, v.plan_source = t.plan_source,
			v.responsible = t.responsible, v.theme = t.theme, v.tier = t.tier,
			v.is_overdue = (t.due_date < %s), v.modified = %s""",
		(today, now),
	)
	cursor.execute(
		f"""update `tabToDo` d join `tabBank Visit Plan` v on v.todo = d.name join `{TMP}` t on t.name = v.name
		set d.date = t.due_date, d.modified = %s where d.status = 'Open'""",
		(now,),
	)


def _cancel(cancels, now):
	cursor = frappe.db._cursor
	cursor.execute(f"delete from `{TMP}`")
	execute_values(f"insert into `{TMP}` (name, theme) values ", cancels)
	cursor.execute(
		f"""update `tabToDo` d join `tabBank Visit Plan` v on v.todo = d.name join `{TMP}` t on t.name = v.name
		set d.status = 'Cancelled', d.modified = %s where d.status = 'Open'""",
		(now,),
	)
	cursor.execute(
		f"""update `tabBank Visit Plan` v join `{TMP}` t on t.name = v.name
		set v.status = 'Cancelled', v.cancel_reason = t.theme, v.is_overdue = 0, v.modified = %s""",
		(now,),
	)


def _reassign(reassigns, now):
	cursor = frappe.db._cursor
	cursor.execute(f"delete from `{TMP}`")
	execute_values(f"insert into `{TMP}` (name, relationship_manager, branch) values ", reassigns)
	cursor.execute(
		f"""update `tabBank Visit Plan` v join `{TMP}` t on t.name = v.name
		set v.relationship_manager = t.relationship_manager, v.branch = t.branch, v.modified = %s""",
		(now,),
	)
	# an open task follows the customer to the new RM
	cursor.execute(
		f"""update `tabToDo` d join `tabBank Visit Plan` v on v.todo = d.name join `{TMP}` t on t.name = v.name
		set d.allocated_to = t.relationship_manager, d.modified = %s
		where d.status = 'Open' and v.responsible = 'Relationship Manager' and t.relationship_manager is not null""",
		(now,),
	)
	cursor.execute(
		f"""update `tabBank Visit Plan` v join `{TMP}` t on t.name = v.name join `tabToDo` d on d.name = v.todo
		set v._assign = json_array(d.allocated_to) where d.status = 'Open'"""
	)


def _ensure_tmp_table():
	frappe.db.sql("select 1")
	frappe.db._cursor.execute(
		f"""create temporary table if not exists `{TMP}` (
			name varchar(140) primary key, due_date date, plan_key varchar(140), plan_source varchar(140),
			responsible varchar(140), theme varchar(140), tier varchar(140),
			relationship_manager varchar(140), branch varchar(140))"""
	)


def _drop_tmp_table():
	frappe.db._cursor.execute(f"drop temporary table if exists `{TMP}`")


# -- tasks and overdue flags --------------------------------------------------------------------
KIND_LABELS = {
	cadence.VISIT: "Visit",
	cadence.CALL: "Call",
	cadence.MEETING: "Meeting",
	cadence.SALON: "Salon",
	cadence.MESSAGE: "Message",
}


KIND_COLOURS = {
	cadence.VISIT: "#2490ef",
	cadence.CALL: "#29cd42",
	cadence.MEETING: "#ecad4b",
	cadence.SALON: "#9c27b0",
	cadence.MESSAGE: "#98a1a9",
}


def create_due_tasks(today: date, reminder_days: int, profiles: list[str] | None = None) -> int:
	"""A ToDo for the responsible person of every open item due within the reminder window."""
	horizon = today + timedelta(days=max(reminder_days, 0))
	scope = f"and v.profile in {in_list(profiles)}" if profiles else ""
	total = 0
	last = ""
	while True:
		items = frappe.db.sql(
			f"""select v.name, v.contact_kind, v.customer_name, v.due_date, v.responsible,
				v.relationship_manager, v.branch, v.theme
			from `tabBank Visit Plan` v
			where v.status = 'Open' and v.todo is null and v.due_date <= %s
				and v.responsible <> 'Automated' and v.name > %s {scope}
			order by v.name limit 10000""",
			(horizon, last),
		)
		if not items:
			return total
		last = items[-1][0]
		managers = _branch_managers({i[6] for i in items if i[4] == cadence.BRANCH_MANAGER})
		languages = user_languages({i[5] for i in items} | set(managers.values()))
		now = now_datetime()
		todos = []
		for name, kind, cname, due, responsible, rm, branch, theme in items:
			user = managers.get(branch) if responsible == cadence.BRANCH_MANAGER else rm
			if not user:
				continue
			lang = languages.get(user)
			text = _("{0} with {1} due on {2}", lang=lang).format(
				_(KIND_LABELS.get(kind, kind), lang=lang, context=PLAN_ITEM), cname or "", due
			)
			if theme:
				text += " — " + theme
			todos.append(
				{
					"name": frappe.generate_hash(length=16),
					"status": "Open",
					"priority": "High" if due < today else "Medium",
					"date": due,
					"allocated_to": user,
					"description": text,
					"reference_type": PLAN_ITEM,
					"reference_name": name,
					"assigned_by": "Administrator",
				}
			)
		if not todos:
			continue
		insert_rows(
			"ToDo",
			todos,
			{"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now},
		)
		frappe.db.sql(
			f"""update `tabBank Visit Plan` v join `tabToDo` d
				on d.reference_type = %s and d.reference_name = v.name and d.status = 'Open'
			set v.todo = d.name, v._assign = json_array(d.allocated_to)
			where v.name in {in_list([t["reference_name"] for t in todos])}""",
			(PLAN_ITEM,),
		)
		total += len(todos)


def _branch_managers(branches) -> dict[str, str]:
	branches = [b for b in branches if b]
	if not branches:
		return {}
	rows = frappe.get_all(
		"Bank Branch Member",
		filters={"parent": ("in", branches), "member_role": "Branch Manager", "parenttype": "Bank Branch"},
		fields=["parent", "user"],
		order_by="idx",
	)
	out = {}
	for r in rows:
		out.setdefault(r.parent, r.user)
	return out


def flag_overdue(today: date, profiles: list[str] | None = None) -> int:
	scope = f"and profile in {in_list(profiles)}" if profiles else ""
	frappe.db.sql(
		f"""update `tabBank Visit Plan` set is_overdue = 1
		where status = 'Open' and is_overdue = 0 and due_date < %s {scope}""",
		(today,),
	)
	flagged = frappe.db._cursor.rowcount or 0
	frappe.db.sql(
		f"""update `tabBank Visit Plan` set is_overdue = 0
		where status = 'Open' and is_overdue = 1 and due_date >= %s {scope}""",
		(today,),
	)
	return flagged


# -- completing an item -------------------------------------------------------------------------
def complete_item(item: str, interaction: str, done_on: date) -> dict:
	"""Mark a plan item done by ``interaction``, close its task and plan the next one."""
	values = frappe.db.get_value(PLAN_ITEM, item, ["status", "todo", "profile"], as_dict=True)
	if not values:
		return {}
	if values.status == "Open":
		frappe.db.set_value(
			PLAN_ITEM,
			item,
			{"status": "Done", "completed_on": done_on, "interaction": interaction, "is_overdue": 0},
		)
		if values.todo:
			frappe.db.set_value("ToDo", values.todo, "status", "Closed")
	return plan_profiles([values.profile])


def open_item_for(profile: str, kind: str) -> str | None:
	return frappe.db.get_value(
		PLAN_ITEM, {"profile": profile, "contact_kind": kind, "status": "Open"}, "name"
	)


def summary(run: str) -> str:
	return json.dumps(frappe.db.get_value(RUN, run, "*", as_dict=True), default=str)
