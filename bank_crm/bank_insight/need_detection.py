"""Need-signal detection: hourly on the scheduler and on demand, over what arrived since the last run.

A run takes the new data between the last completed run's watermark and a little before now
(``detection_lag_seconds``: a batch still being written is read by the next run), finds the
customers each enabled rule must look at again — new events of the rule's types, new
snapshots, changed or soon-maturing holdings — and evaluates them in batches in
``bank_crm.core.signals``: one query per batch for profiles, balances, holdings, events and
the signals already on file. Signals go in with one INSERT IGNORE (a unique key per customer,
rule and time), their ToDos with one more, in the RM's language. A run killed midway leaves
the watermark where it was: the next run reads the same data again, and the open-signal and
cooldown rules (plus the unique key) keep it from raising anything twice. A MariaDB named lock
keeps two runs from overlapping.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta

import frappe
from frappe import _
from frappe.utils import add_days, cint, get_datetime, getdate, now_datetime

from bank_crm.core import signals, suitability
from bank_crm.utils import shards
from bank_crm.utils.bulk import in_list, in_list_with_params, insert_rows
from bank_crm.utils.people import languages

RULE = "Bank Need Rule"
SIGNAL = "Bank Need Signal"
RUN = "Bank Signal Run"
EVENT = "Bank Activity Event"
HOLDING = "Bank Product Holding"
SETTINGS = "Bank Insight Settings"
LOCK = "bank_crm_need_signals"
FIRST_RUN_DAYS = 1
DETECTION = shards.Job(
	RUN,
	"bank_crm.bank_insight.need_detection.detect_shard",
	lock=LOCK,
	count_setting=(SETTINGS, "detection_shards"),
	started_field="started_on",
	finished_field="finished_on",
	duration_field="duration",
	error_field="errors",
)


def detect_needs():
	"""Scheduler entry (``hourly_long``): detect over the new data (over the ``long`` queue's
	workers with *Detection Shards* above 1); the run's last shard expires what was left open
	too long."""
	detect("Scheduled", enqueue_shards=cint(frappe.db.get_single_value(SETTINGS, "detection_shards")) > 1)


def enqueue() -> str:
	frappe.enqueue(
		"bank_crm.bank_insight.need_detection.detect",
		queue="long",
		job_id="bank_crm_need_signals",
		deduplicate=True,
		trigger="On Demand",
	)
	return "queued"


def load_rules() -> list[signals.Rule]:
	rules = []
	for doc in frappe.get_all(RULE, filters={"enabled": 1}, pluck="name"):
		rules.append(rule_from_doc(frappe.get_cached_doc(RULE, doc)))
	return rules


def rule_from_doc(doc) -> signals.Rule:
	return signals.Rule(
		name=doc.name,
		category=doc.need_category,
		measure=doc.measure,
		threshold=float(doc.threshold or 0),
		window_days=int(doc.window_days or 0),
		cooldown_days=int(doc.cooldown_days or 0),
		priority=int(doc.priority or 2),
		event_types=frozenset(r.event_type for r in doc.event_types),
		balance_metric=doc.balance_metric or "deposit_balance",
		min_balance_drop_pct=float(doc.min_balance_drop_pct) if doc.min_balance_drop_pct else None,
		balance_days=int(doc.balance_days or 90),
		holds_category=doc.holds_category or None,
		lacks_category=doc.lacks_category or None,
		maturing_category=doc.maturing_category or None,
		maturing_within_days=int(doc.maturing_within_days) if doc.maturing_within_days else None,
		tiers=frozenset(r.tier for r in doc.tiers),
		stages=frozenset(r.stage for r in doc.stages),
		propensity_category=doc.get("propensity_category") or None,
	)


def detect(
	trigger: str = "Scheduled",
	now: datetime | None = None,
	since: datetime | None = None,
	shard_count: int | None = None,
	enqueue_shards: bool = False,
) -> str | None:
	"""One detection run; returns the run record's name (None when another run holds the lock).

	The new data of the window is split by customer key range into shards (*Detection Shards*):
	run here one after the other, or with ``enqueue_shards`` one job each on the ``long`` queue,
	shared by the workers of any host. A run that did not finish (a killed worker, an error) is
	resumed by the next call from its shards' checkpoints, over the same window: the watermark
	moves only when every shard is done, and two runs never overlap.

	``since`` reads new data from that time instead of the last watermark (demo data loaded
	with earlier arrival times)."""
	now = get_datetime(now or frappe.flags.current_datetime or now_datetime())

	def start(count):
		return _unfinished_run() or _new_run(trigger, now, since, count)

	count = shard_count or (DETECTION.configured_count() if enqueue_shards else 1)
	run = shards.run(DETECTION, start, count, enqueue=enqueue_shards, at=now)
	return run and run.name


def _new_run(trigger: str, now: datetime, since: datetime | None, count: int):
	"""A run over the data that arrived since the last completed run's window (the watermark)."""
	_fail_abandoned_runs()
	settings = frappe.get_cached_doc(SETTINGS)
	run = frappe.get_doc(
		{
			"doctype": RUN,
			"status": "Queued",
			"trigger": trigger,
			"started_on": now,
			"window_from": since or _watermark() or now - timedelta(days=FIRST_RUN_DAYS),
			"window_to": now - timedelta(seconds=int(settings.detection_lag_seconds or 0)),
			"shards": shards.shard_rows(shards.key_ranges("Customer", count)),
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()  # the run is visible (and its window) while it works
	return run


def _unfinished_run():
	"""The last run that has shards and did not complete (resumed over its own window)."""
	name = frappe.db.get_value(
		RUN, {"status": ("in", ("Queued", "Running", "Failed"))}, "name", order_by="creation desc"
	)
	if name and frappe.db.exists(shards.SHARD, {"parenttype": RUN, "parent": name}):
		newer = frappe.db.exists(
			RUN, {"status": "Completed", "creation": (">", frappe.db.get_value(RUN, name, "creation"))}
		)
		if not newer:
			return frappe.get_doc(RUN, name)
	return None


def detect_shard(run: str, shard_no: int, at: datetime | None = None):
	"""Evaluate the rules for the customers of one key range whose new data concerns them, in
	batches from the shard's checkpoint (a job on the ``long`` queue, or a step of ``detect``);
	the last shard to finish expires old signals and completes the run."""
	now = get_datetime(at or frappe.db.get_value(RUN, run, "started_on"))

	def body(doc, shard):
		stats = {"events_scanned": 0, "customers_evaluated": 0, "signals_raised": 0} | json.loads(
			shard.result or "{}"
		)
		rules = load_rules()
		if not rules:
			return stats
		window = get_datetime(doc.window_from), get_datetime(doc.window_to)
		candidates, scanned = _shard_candidates(rules, window, now, shard)
		customers = sorted({c for names in candidates.values() for c in names})
		stats["events_scanned"] = scanned if shard.shard_no == 0 else 0  # read by every shard, counted once
		stats["customers_evaluated"] = len(customers)
		batch_size = int(frappe.get_cached_doc(SETTINGS).detection_batch_size or 5000)
		todo = [c for c in customers if c > (shard.checkpoint or "")]
		for start in range(0, len(todo), batch_size):
			chunk = todo[start : start + batch_size]
			raised = shards.retrying(
				lambda chunk=chunk, start=start: _detect_batch(
					run, shard, rules, candidates, chunk, now, stats, start
				)
			)
			stats["signals_raised"] += raised
		return stats

	if shards.work_on(DETECTION, run, shard_no, body, _("Need-signal detection failed")):
		_finish(run, now)


def _shard_candidates(rules, window, now, shard) -> tuple[dict[str, set[str]], int]:
	"""rule → the shard's customers whose new data concerns it, and how many new events were read."""
	lo, hi = shard.range_from or "", shard.range_to or ""
	found, scanned = _candidates(rules, window[0], window[1], now)
	return {
		rule: {c for c in names if c > lo and (not hi or c <= hi)} for rule, names in found.items()
	}, scanned


def _detect_batch(run, shard, rules, candidates, chunk, now, stats, start) -> int:
	"""One batch of a shard's customers: evaluate, write, move the checkpoint, commit (a killed
	worker's shard resumes after it)."""
	chunk_set = set(chunk)
	narrowed = {rule: [c for c in names if c in chunk_set] for rule, names in candidates.items()}
	raised = _evaluate(rules, chunk, narrowed, now)
	done = {**stats, "signals_raised": stats["signals_raised"] + raised}
	shards.set_shard(
		RUN,
		run,
		shard.shard_no,
		{"checkpoint": chunk[-1], "processed": start + len(chunk), "result": json.dumps(done)},
	)
	frappe.db.commit()
	return raised


def _finish(run: str, now: datetime):
	def complete(doc, totals):
		expired = expire(now, int(frappe.get_cached_doc(SETTINGS).signal_expiry_days or 0))
		frappe.db.set_value(
			RUN,
			run,
			{
				"events_scanned": totals.get("events_scanned", 0),
				"customers_evaluated": totals.get("customers_evaluated", 0),
				"signals_raised": totals.get("signals_raised", 0),
				"signals_expired": expired,
				"status": "Completed",
				"errors": None,
				"error_count": 0,
				"finished_on": now_datetime(),
				"duration": round((now_datetime() - get_datetime(doc.started_on)).total_seconds(), 3),
			},
			update_modified=False,
		)

	shards.finish_once(RUN, run, complete)


def _watermark():
	return frappe.db.get_value(RUN, {"status": "Completed"}, "window_to", order_by="window_to desc")


def _fail_abandoned_runs():
	"""A run still marked Running while we hold the lock was killed: record it as failed."""
	frappe.db.sql(
		f"""update `tab{RUN}` r set status = 'Failed', errors = %s where status = 'Running'
		and not exists (select 1 from `tabBank Job Shard` s where s.parenttype = '{RUN}' and s.parent = r.name)""",
		(_("The run stopped before it finished (the process ended); the next run read its data again."),),
	)
	frappe.db.commit()


def _candidates(rules, window_from, window_to, now) -> tuple[dict[str, set[str]], int]:
	"""rule → customers whose new data concerns it, and how many new events were read."""
	out: dict[str, set[str]] = defaultdict(set)
	scanned = 0
	event_rules = [r for r in rules if r.trigger == signals.EVENTS]
	types = sorted({t for r in event_rules for t in r.event_types})
	if types:
		# one range read of the arrival index for every rule's event types, each type's customers
		# packed in one string (a row per customer and type cost twice as much to read)
		by_type = {}
		frappe.db.sql("set session group_concat_max_len = 1073741824")
		arrived = f"""from `tab{EVENT}` force index (creation_type_customer)
			where creation > %s and creation <= %s and event_type in {in_list_with_params(types)}"""
		for event_type, count, distinct, packed in frappe.db.sql(
			f"""select event_type, count(*), count(distinct customer),
				group_concat(distinct concat(customer, '{UNIT}') separator '{RECORD}') {arrived}
			group by event_type""",
			(window_from, window_to),
		):
			# each name ends with UNIT: a string cut short (max_allowed_packet) shows; then by rows
			by_type[event_type] = {c[:-1] for c in packed.split(RECORD)}
			scanned += count
			if not packed.endswith(UNIT) or len(by_type[event_type]) != distinct:
				by_type[event_type] = set(
					frappe.db.sql_list(
						f"select distinct customer {arrived} and event_type = %s",
						(window_from, window_to, event_type),
					)
				)
		for rule in event_rules:
			for event_type in rule.event_types:
				out[rule.name] |= by_type.get(event_type, set())
	if any(r.trigger == signals.SNAPSHOTS for r in rules):
		changed = frappe.db.sql_list(
			"""select distinct customer from `tabBank Financial Snapshot`
			where modified > %s and modified <= %s""",
			(window_from, window_to),
		)
		for rule in rules:
			if rule.trigger == signals.SNAPSHOTS:
				out[rule.name].update(changed)
	for rule in rules:
		if rule.trigger != signals.HOLDINGS:
			continue
		today = now.date()
		# time alone brings a holding into the window: read the maturing ones each run, less those
		# whose signal is open or cooling down
		out[rule.name].update(
			frappe.db.sql_list(
				f"""select distinct h.customer from `tab{HOLDING}` h join `tabBank Product` p on p.name = h.product
				where h.status = 'Active' and p.category = %s and h.maturity_date between %s and %s
					and not exists (select 1 from `tab{SIGNAL}` s where s.customer = h.customer and s.rule = %s
						and (s.status = 'Open' or s.raised_on > %s))""",
				(
					rule.maturing_category,
					today,
					today + timedelta(days=rule.window_days),
					rule.name,
					now - timedelta(days=rule.cooldown_days),
				),
			)
		)
	return out, scanned


def _evaluate(rules, customers: list[str], candidates, now) -> int:
	previous = _previous(customers)
	by_name = {r.name: r for r in rules}
	# a customer whose every candidate rule is open or cooling down needs no reading at all
	wanted = {
		name: [c for c in names if signals.may_raise(by_name[name], previous.get((c, name)), now)]
		for name, names in candidates.items()
	}
	customers = sorted({c for names in wanted.values() for c in names})
	if not customers:
		return 0
	candidates = wanted
	listed = in_list(customers)
	profiles = {
		r[0]: tuple(v or None for v in r)
		for r in _packed(
			(
				"customer",
				"name",
				"customer_name",
				"tier",
				"lifecycle_stage",
				"relationship_manager",
				"branch",
			),
			f"from `tabBank Customer Profile` where customer in {listed}",
		)
	}

	# read only what the customer's candidate rules look at: balances for the balance rules,
	# holdings for the holding conditions, and per event rule its own types over its own window
	def wanting(test) -> set[str]:
		return {c for name, names in candidates.items() if test(by_name[name]) for c in names}

	balance_days = {0}
	for rule in rules:
		if rule.measure == signals.BALANCE_DROP:
			balance_days.add(rule.window_days)
		if rule.min_balance_drop_pct is not None:
			balance_days.add(rule.balance_days)
	with_balances = wanting(lambda r: r.needs_balances)
	balances = _balances(sorted(with_balances), sorted(balance_days), now.date()) if with_balances else {}
	with_holdings = wanting(lambda r: r.needs_holdings)
	holdings = _holdings(sorted(with_holdings)) if with_holdings else {}
	events = _events([by_name[name] for name in candidates], candidates, now)
	context = {}
	for name in customers:
		profile = profiles.get(name)
		figures = balances.get(name, {})
		deposit = (figures.get("deposit_balance") or {}).get(0)
		context[name] = signals.Customer(
			name=name,
			tier=profile[3] if profile else None,
			stage=profile[4] if profile else None,
			deposit_balance=deposit,
			balances=figures,
			holdings=tuple(holdings.get(name, ())),
		)
	raised = signals.detect(rules, context, events, previous, now, candidates=candidates)
	if not raised:
		return 0
	return _write(raised, profiles, now)


def _balances(customers, days_back: list[int], today) -> dict[str, dict[str, dict[int, float]]]:
	"""metric → {days back: value} per customer, from the snapshot on or before each date."""
	horizon = add_days(today, -(max(days_back) + 45))
	dates = [(days, getdate(add_days(today, -days))) for days in days_back]
	rows = frappe.db.sql(
		f"""select customer, as_of_date, deposit_balance, aum
		from `tabBank Financial Snapshot` where customer in {in_list_with_params(customers)} and as_of_date >= %s
		order by customer, as_of_date""",
		(horizon,),
	)
	history = defaultdict(list)
	for customer, as_of, deposit, aum in rows:
		history[customer].append((as_of, float(deposit or 0), float(aum or 0)))
	out = {}
	for customer, points in history.items():
		figures: dict[str, dict[int, float]] = {m: {} for m in signals.BALANCE_METRICS}
		for days, on in dates:
			before = None
			for point in points:  # in date order: the last one on or before the date
				if point[0] > on:
					break
				before = point
			if before is None:
				continue
			_, deposit, aum = before
			figures["deposit_balance"][days] = deposit
			figures["aum"][days] = aum
			figures["total_balance"][days] = deposit + aum
		out[customer] = figures
	return out


UNIT, RECORD = "\x1f", "\x1e"  # ASCII unit and record separators


def _holdings(customers) -> dict[str, list[signals.Holding]]:
	frappe.db.sql("set session group_concat_max_len = 67108864")
	out = {}
	for customer, packed in frappe.db.sql(
		f"""select h.customer, group_concat(concat_ws('{UNIT}', h.product, coalesce(p.category, ''),
			coalesce(h.maturity_date, ''), coalesce(h.amount, 0)) separator '{RECORD}')
		from `tab{HOLDING}` h join `tabBank Product` p on p.name = h.product
		where h.customer in {in_list(customers)} and h.status = 'Active'
		group by h.customer"""
	):
		held = out[customer] = []
		for record in packed.split(RECORD):
			product, category, matures, amount = record.split(UNIT)
			held.append(
				signals.Holding(
					product,
					category,
					"Active",
					date.fromisoformat(matures) if matures else None,
					float(amount),
				)
			)
	return out


def _events(rules, candidates, now) -> dict[str, list[signals.Event]]:
	"""Per customer, the events each of its candidate event rules looks at: one query per group
	of rules with the same window, for those rules' types and customers only."""
	groups: dict[int, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
	for rule in rules:
		if rule.trigger == signals.EVENTS and rule.event_types and candidates.get(rule.name):
			types, customers = groups[rule.window_days]
			types.update(rule.event_types)
			customers.update(candidates[rule.name])
	out = defaultdict(dict)
	if groups:
		# one packed string per customer: PyMySQL converts every value in Python, a split is C
		frappe.db.sql("set session group_concat_max_len = 67108864")
	for window, (types, customers) in groups.items():
		for customer, count, packed in frappe.db.sql(
			f"""select customer, count(*), group_concat(concat_ws('{UNIT}', name, event_type, cast(event_time as char),
				coalesce(amount, ''), '') separator '{RECORD}')
			from `tab{EVENT}`
			where customer in {in_list_with_params(sorted(customers))}
				and event_type in {in_list_with_params(sorted(types))}
				and event_time >= %s and event_time <= %s
			group by customer""",
			(now - timedelta(days=window), now),
		):
			found = out[customer]
			# each record ends with UNIT (five fields, the last empty): a string cut short
			# (max_allowed_packet) shows, and the customer's events are then read by rows
			records = [r.split(UNIT) for r in packed.split(RECORD)]
			if len(records) != count or any(len(r) != 5 for r in records):
				records = [
					[str(v) for v in row]
					for row in frappe.db.sql(
						f"""select name, event_type, cast(event_time as char), coalesce(amount, ''), ''
						from `tab{EVENT}` where customer = %s and event_type in {in_list_with_params(sorted(types))}
							and event_time >= %s and event_time <= %s""",
						(customer, now - timedelta(days=window), now),
					)
				]
			for name, event_type, moment, amount, _end in records:
				found[name] = signals.Event(
					name, event_type, datetime.fromisoformat(moment), float(amount) if amount else None
				)
	return {customer: list(found.values()) for customer, found in out.items()}


def _previous(customers) -> dict[tuple[str, str], signals.Previous]:
	return {
		(customer, rule): signals.Previous(last_raised=datetime.fromisoformat(last), open=is_open == "1")
		for customer, rule, last, is_open in _packed(
			("customer", "rule", "cast(last as char)", "is_open"),
			f"""from (select customer, rule, max(raised_on) as last, max(status = 'Open') as is_open
				from `tab{SIGNAL}` where customer in {in_list(customers)} group by customer, rule) t""",
		)
	}


def _packed(columns, rest: str, params=()) -> list[list[str]]:
	"""``select columns rest`` as lists of strings ('' for null), read as one packed string (PyMySQL
	converts every value of a row in Python; a split is C). Each record ends with UNIT, so a
	string cut short by max_allowed_packet shows: then the rows are read as rows."""
	values = ", ".join(f"coalesce({c}, '')" for c in columns)
	frappe.db.sql("set session group_concat_max_len = 1073741824")
	count, packed = frappe.db.sql(
		f"select count(*), group_concat(concat_ws('{UNIT}', {values}, '') separator '{RECORD}') {rest}",
		params,
	)[0]
	if not count:
		return []
	records = [r.split(UNIT) for r in packed.split(RECORD)]
	if len(records) != count or any(len(r) != len(columns) + 1 for r in records):
		return [[str(v) for v in row] for row in frappe.db.sql(f"select {values} {rest}", params)]
	return [r[:-1] for r in records]


def raise_signals(raised, profiles, now) -> int:
	"""Need signals and their RM tasks for (customer, rule, evidence) found elsewhere (the nightly
	scoring raises model-score rules); ``profiles``: customer → the profile row of ``_evaluate``."""
	return _write(raised, profiles, now)


def _write(raised, profiles, now) -> int:
	langs = languages({profiles[c][5] for c, *_ in raised if c in profiles})
	default = frappe.db.get_default("lang") or "en"
	expires = None
	settings = frappe.get_cached_doc(SETTINGS)
	if settings.signal_expiry_days:
		expires = (now + timedelta(days=int(settings.signal_expiry_days))).date()
	rule_names = sorted({rule.name for _, rule, _ in raised})
	actions, products = {}, {}
	for name, action, product, product_risk in frappe.db.sql(
		f"""select r.name, r.suggested_action, r.suggested_product, p.risk_level from `tab{RULE}` r
		left join `tabBank Product` p on p.name = r.suggested_product where r.name in {in_list(rule_names)}"""
	):
		actions[name] = action
		if product:
			products[name] = (product, product_risk)
	unsuitable = _unsuitable(raised, products, now)
	picked = _propensity_products(raised, products, now)
	rows, todos = [], []
	for customer, rule, evidence in raised:
		profile = profiles.get(customer)
		rm = profile[5] if profile else None
		lang = langs.get(rm, default)
		summary = describe(rule, evidence, lang)
		action = _(actions.get(rule.name) or "", lang=lang)
		name = frappe.generate_hash(length=16)
		rows.append(
			{
				"name": name,
				"customer": customer,
				"customer_name": profile[2] if profile else None,
				"rule": rule.name,
				"need_category": rule.category,
				"priority": str(rule.priority),
				"status": "Open",
				"raised_on": now,
				"expires_on": expires,
				"relationship_manager": rm,
				"branch": profile[6] if profile else None,
				"summary": summary,
				"suggested_action": action,
				**(
					_picked(picked[(customer, rule.name)], rule, lang)
					if (customer, rule.name) in picked
					else _suggestion(customer, rule.name, products, unsuitable, lang)
				),
				"measured_value": evidence.value,
				"threshold": evidence.threshold,
				"window_from": evidence.window_from,
				"window_to": evidence.window_to,
				"event_count": evidence.event_count,
				"evidence": json.dumps(evidence.as_dict(), ensure_ascii=False, default=str),
				"signal_key": f"{customer}|{rule.name}|{now.isoformat(sep=' ', timespec='seconds')}",
				# the task's name is known before it is written: no UPDATE … JOIN afterwards (which
				# deadlocked with another shard's on ToDo's index)
				"todo": frappe.generate_hash(length=16) if rm else None,
				"_assign": json.dumps([rm]) if rm else None,
			}
		)
		if rm:
			todos.append(
				{
					"name": rows[-1]["todo"],
					"status": "Open",
					"priority": "High" if rule.priority == 1 else "Medium",
					"date": now.date(),
					"allocated_to": rm,
					"description": _("Customer need: {0} — {1}", lang=lang).format(
						profile[2] or customer, summary
					)
					+ (f"\n{action}" if action else ""),
					"reference_type": SIGNAL,
					"reference_name": name,
					"assigned_by": "Administrator",
				}
			)
	common = {"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now}
	inserted = insert_rows(SIGNAL, rows, {**common, "docstatus": 0}, ignore_duplicates=True)
	if todos:
		insert_rows("ToDo", todos, common)
	return inserted


def _unsuitable(raised, products, now) -> dict[tuple[str, str], tuple[str, tuple]]:
	"""(customer, rule) → why the rule's suggested product may not be suggested to the customer
	(``core.suitability``), for the raised signals whose rule suggests a product."""
	wanted = sorted({c for c, rule, _e in raised if rule.name in products})
	if not wanted:
		return {}
	assessments = {
		c: (tolerance, expires)
		for c, tolerance, expires in frappe.db.sql(
			f"""select customer, risk_tolerance, risk_assessment_expires_on from `tabBank Customer Profile`
			where customer in {in_list(wanted)}"""
		)
	}
	out = {}
	for customer, rule, _e in raised:
		if rule.name not in products:
			continue
		product, risk = products[rule.name]
		tolerance, expires = assessments.get(customer, (None, None))
		reason = suitability.refusal(product, risk, tolerance, expires, now.date())
		if reason:
			out[(customer, rule.name)] = reason
	return out


def _propensity_products(raised, products, now) -> dict[tuple[str, str], str | None]:
	"""(customer, rule) → the product to suggest for a propensity rule that names none: the
	riskiest enabled product of the category that the customer does not hold and may be
	recommended (``core.suitability``); None when no product may."""
	wanted = [(c, rule) for c, rule, _e in raised if rule.propensity_category and rule.name not in products]
	if not wanted:
		return {}
	categories = sorted({rule.propensity_category for _c, rule in wanted})
	candidates: dict[str, list] = {c: [] for c in categories}
	for name, category, risk in frappe.db.sql(
		f"""select name, category, risk_level from `tabBank Product` where enabled = 1
		and category in {in_list(categories)} order by risk_level desc, name"""
	):
		candidates[category].append((name, risk))
	customers = sorted({c for c, _r in wanted})
	assessments = {
		c: (tolerance, expires)
		for c, tolerance, expires in frappe.db.sql(
			f"""select customer, risk_tolerance, risk_assessment_expires_on from `tabBank Customer Profile`
			where customer in {in_list(customers)}"""
		)
	}
	held: dict[str, set] = {}
	for customer, product in frappe.db.sql(
		f"""select customer, product from `tab{HOLDING}` where status = 'Active'
		and customer in {in_list(customers)}"""
	):
		held.setdefault(customer, set()).add(product)
	return {
		(c, rule.name): suitability.first_suitable(
			candidates[rule.propensity_category],
			held.get(c, set()),
			*assessments.get(c, (None, None)),
			now.date(),
		)
		for c, rule in wanted
	}


def _picked(product: str | None, rule: signals.Rule, lang) -> dict:
	if product:
		return {"suggested_product": product, "suitability_note": None}
	reason = _(suitability.NONE_SUITABLE, lang=lang).format(_(rule.propensity_category, lang=lang))
	return {"suggested_product": None, "suitability_note": _("Not suggested: {0}", lang=lang).format(reason)}


def _suggestion(customer, rule, products, unsuitable, lang) -> dict:
	out = {"suggested_product": None, "suitability_note": None}  # every row has the same columns
	if rule not in products:
		return out
	reason = unsuitable.get((customer, rule))
	if reason is None:
		out["suggested_product"] = products[rule][0]
		return out
	template, args = reason
	out["suitability_note"] = _("Not suggested: {0}", lang=lang).format(_(template, lang=lang).format(*args))
	return out


MEASURE_TEXT = {
	signals.COUNT: "{0} {1} events in {2} days",
	signals.SUM: "{1} events totalling {0} in {2} days",
	signals.DISTINCT_DAYS: "{1} events on {0} days in {2} days",
	signals.CONSECUTIVE_MONTHS: "{1} events in {0} consecutive months",
	signals.LARGEST_SHARE: "a single amount of {0}% of the deposit balance ({1} events in {2} days)",
	signals.BALANCE_DROP: "balance fell by {0}% in {2} days",
	signals.MATURING: "{0} holdings maturing within {2} days",
	signals.MODEL_SCORE: "churn probability {0}% by the active model",
}
PROPENSITY_TEXT = "probability {0}% of opening a {1} product by the active model"


def describe(rule: signals.Rule, evidence: signals.Evidence, lang: str | None = None) -> str:
	"""What the signal rests on, in the reader's language."""
	value = (
		f"{evidence.value:,.0f}"
		if evidence.value >= 100 or evidence.value == int(evidence.value)
		else f"{evidence.value:.1f}"
	)
	types = ", ".join(_(t, lang=lang) for t in sorted(rule.event_types))
	template = MEASURE_TEXT[rule.measure]
	if rule.propensity_category:
		template, types = PROPENSITY_TEXT, _(rule.propensity_category, lang=lang)
	text = _(template, lang=lang).format(value, types or "", rule.window_days)
	return f"{_(rule.name, lang=lang)}: {text}"


def expire(now: datetime, expiry_days: int) -> int:
	"""Open signals older than the expiry close as Expired, with their tasks (one UPDATE each)."""
	if expiry_days <= 0:
		return 0
	cutoff = now - timedelta(days=expiry_days)
	names = frappe.db.sql_list(
		f"select name from `tab{SIGNAL}` where status = 'Open' and raised_on < %s", (cutoff,)
	)
	for start in range(0, len(names), 5000):
		chunk = in_list_with_params(names[start : start + 5000])
		frappe.db.sql(
			f"update `tab{SIGNAL}` set status = 'Expired', closed_on = %s, modified = %s where name in {chunk}",
			(now, now),
		)
		frappe.db.sql(
			f"update `tabToDo` set status = 'Cancelled', modified = %s where reference_type = %s and reference_name in {chunk} and status = 'Open'",
			(now, SIGNAL),
		)
	return len(names)


def act_on_customer_needs(customer: str, category: str, interaction: str) -> int:
	"""The customer's open signals of ``category`` count as acted on through ``interaction``."""
	names = frappe.get_all(
		SIGNAL, filters={"customer": customer, "need_category": category, "status": "Open"}, pluck="name"
	)
	if not names:
		return 0
	now = now_datetime()
	listed = in_list_with_params(names)
	frappe.db.sql(
		f"""update `tab{SIGNAL}` set status = 'Acted', interaction = %s, closed_on = %s, closed_by = %s,
			modified = %s where name in {listed}""",
		(interaction, now, frappe.session.user, now),
	)
	frappe.db.sql(
		f"update `tabToDo` set status = 'Closed', modified = %s where reference_type = %s and reference_name in {listed} and status = 'Open'",
		(now, SIGNAL),
	)
	return len(names)
