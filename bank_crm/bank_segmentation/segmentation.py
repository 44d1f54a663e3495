"""The segmentation run: value score, tier and lifecycle stage for every customer, set-based.

One pass over all profiles in keyset batches (``name > checkpoint``):

1. read the batch's profiles and, in one aggregate query, each customer's latest snapshot,
   the snapshot about ``trend_days`` earlier and the last date with an active balance;
2. decide in ``bank_crm.core`` (scoring, tiering with hysteresis and overrides, lifecycle);
3. write only the rows whose score, tier, boundary counter or stage changed: one multi-row
   INSERT into a temporary table and one UPDATE … JOIN per batch (profiles and the mirrored
   Customer fields), the history rows by one multi-row ``INSERT IGNORE`` whose names derive
   from run and profile, and the run's checkpoint — then commit.

A run killed midway is resumed by the next call: it continues after its checkpoint, and the
deterministic history names make a repeated batch insert nothing twice. A MariaDB named lock
keeps two runs from overlapping. What-if runs read and decide the same way and write nothing
but their own run record.
"""

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, timedelta

import frappe
from frappe import _
from frappe.utils import cint, flt, getdate, now_datetime

from bank_crm.core import lifecycle, scoring, tiering
from bank_crm.utils.bulk import execute_values, insert_rows
from bank_crm.utils.shards import (
	SHARD,
	UNFINISHED,
	Job,
	finish_once,
	key_ranges,
	mark_completed,
	set_shard,
	shard_rows,
	work_on,
)
from bank_crm.utils.shards import run as run_sharded

PROFILE = "Bank Customer Profile"
SNAPSHOT = "Bank Financial Snapshot"
RUN = "Bank Segmentation Run"
POLICY = "Bank Tier Policy"
OVERRIDE = "Bank Tier Override"
SETTINGS = "Bank CRM Settings"
LOCK = "bank_crm_segmentation"
TMP = "tmp_bank_crm_segmentation"
UNKNOWN_TENURE_DAYS = 100_000


class SegmentationError(frappe.ValidationError):
	pass


# -- policy and rules -------------------------------------------------------------------
def active_policy() -> str | None:
	return frappe.db.get_value(POLICY, {"status": "Active"}, "name")


def build_policy(doc) -> tuple[scoring.ScoringPolicy, tiering.TierPolicy]:
	"""The core's view of a Bank Tier Policy document (raises CoreValidationError)."""
	score_policy = scoring.ScoringPolicy(
		name=doc.name,
		metrics=tuple(
			scoring.MetricWeight(m.metric, flt(m.weight), m.normalisation, flt(m.cap), flt(m.floor))
			for m in doc.metrics
		),
		factors=tuple(scoring.FactorWeight(f.factor, flt(f.weight)) for f in doc.factors),
		risk_multipliers={
			"Low": flt(doc.risk_multiplier_low),
			"Medium": flt(doc.risk_multiplier_medium),
			"High": flt(doc.risk_multiplier_high),
		},
	)
	scoring.validate_policy(score_policy)
	ranks = dict(frappe.get_all("Bank Customer Tier", fields=["name", "rank"], as_list=True))
	tier_policy = tiering.TierPolicy.build(
		[
			tiering.TierRule(
				t.tier, cint(ranks.get(t.tier)), flt(t.min_score), flt(t.min_aum), flt(t.min_deposit_balance)
			)
			for t in doc.tiers
		],
		flt(doc.downgrade_margin),
		cint(doc.downgrade_runs) or 1,
	)
	return score_policy, tier_policy


def lifecycle_rules() -> lifecycle.LifecycleRules:
	s = frappe.get_cached_doc(SETTINGS)
	d = lifecycle.LifecycleRules()
	return lifecycle.LifecycleRules(
		new_days=cint(s.lifecycle_new_days) or d.new_days,
		mature_years=cint(s.lifecycle_mature_years) or d.mature_years,
		mature_products=cint(s.lifecycle_mature_products) or d.mature_products,
		mature_fee_income=flt(s.lifecycle_mature_fee_income),
		churn_drop_pct=flt(s.lifecycle_churn_drop_pct) or d.churn_drop_pct,
		trend_days=cint(s.lifecycle_trend_days) or d.trend_days,
		dormant_balance=flt(s.lifecycle_dormant_balance),
		dormant_days=cint(s.lifecycle_dormant_days) or d.dormant_days,
	)


def active_overrides(today: date) -> dict[str, tuple[str, str]]:
	"""profile → (override name, tier) for approved overrides not yet expired."""
	rows = frappe.db.sql(
		"""select profile, name, requested_tier from `tabBank Tier Override`
		where docstatus = 1 and status = 'Approved' and expires_on >= %s
		order by approved_on""",
		(today,),
	)
	return {profile: (name, tier) for profile, name, tier in rows}


def expire_overrides(today: date | None = None) -> int:
	"""Approved overrides past their date become Expired (one UPDATE)."""
	today = getdate(today or frappe.flags.current_date or None)
	frappe.db.sql(
		"""update `tabBank Tier Override` set status = 'Expired'
		where docstatus = 1 and status = 'Approved' and expires_on < %s""",
		(today,),
	)
	return frappe.db.sql("select row_count()")[0][0]


# -- entry points ---------------------------------------------------------------------
RETIERING = Job(
	RUN,
	"bank_crm.bank_segmentation.segmentation.run_shard",
	lock=LOCK,
	count_setting=(SETTINGS, "segmentation_workers"),
	timeout=4 * 3600,  # a first run of a shard writes every profile it holds
)
WHAT_IF = replace(RETIERING, lock=None)  # what-if runs change nothing: they may overlap
RESULT_COUNTS = ("scanned", "changed", "tier_changes", "lifecycle_changes", "errors")


def retier_every_customer():
	"""Scheduler entry (``daily_long``): expire overrides, then re-tier and re-stage everyone —
	over the ``long`` queue's workers when *Segmentation Workers* is above 1; the last shard to
	finish completes the run record."""
	today = getdate(frappe.flags.current_date or None)
	expire_overrides(today)
	frappe.db.commit()  # the expiry must hold even if the run below fails
	run_sharded(RETIERING, lambda count: start_run("Nightly", today=today, shards=count))


def enqueue(run_type: str = "On Demand", policy: str | None = None) -> str | None:
	"""Queue a run on the long queue (one job per shard); returns the run record's name (None
	while another process runs a re-tiering in itself)."""
	today = getdate()
	run = run_sharded(
		WHAT_IF if run_type == "What-if" else RETIERING,
		lambda count: start_run(run_type, policy, today, count),
		enqueue=True,
	)
	return run and run.name


def start_run(run_type: str, policy: str | None = None, today=None, shards: int | None = None):
	"""The run record with its shard ranges; an unfinished non-what-if run of the same day is
	returned instead (it will be resumed)."""
	today = getdate(today or frappe.flags.current_date or None)
	if run_type != "What-if":
		unfinished = frappe.db.get_value(
			RUN,
			{"run_type": ("!=", "What-if"), "status": ("in", UNFINISHED), "run_date": today},
			"name",
			order_by="creation desc",
		)
		if unfinished:
			return frappe.get_doc(RUN, unfinished)
	count = shards or RETIERING.configured_count()
	run = frappe.get_doc(
		{
			"doctype": RUN,
			"run_type": run_type,
			"policy": policy or active_policy(),
			"run_date": today,
			"status": "Queued",
			"requested_by": frappe.session.user,
			"shards": shard_rows(key_ranges(PROFILE, count)),
		}
	)
	run.insert(ignore_permissions=True)
	frappe.db.commit()
	return run


def run_segmentation(
	run_type: str = "Nightly",
	run: str | None = None,
	policy: str | None = None,
	today=None,
	batch_size: int | None = None,
	shards: int | None = None,
) -> str | None:
	"""Run (or resume) a whole segmentation in this process, shard after shard; returns the
	run record's name, or None when another run is in progress."""
	today = getdate(today or frappe.flags.current_date or None)

	def start(count):
		return frappe.get_doc(RUN, run) if run else start_run(run_type, policy, today, count)

	kwargs = {"batch_size": batch_size} if batch_size else {}
	job = WHAT_IF if run_type == "What-if" else RETIERING
	doc = run_sharded(job, start, shards or 1, enqueue=False, **kwargs)
	if doc is None:
		frappe.logger("bank_crm").info("segmentation already running; skipped")
	return doc and doc.name


def run_shard(run: str, shard_no: int, batch_size: int | None = None):
	"""Process (or resume) one shard of a run — a job on the ``long`` queue, or a step of
	``run_segmentation`` — from its checkpoint; the last shard to finish completes the run."""
	if work_on(
		RETIERING,
		run,
		shard_no,
		lambda doc, shard: _segment_range(doc, shard, batch_size),
		_("Segmentation run {0} failed").format(run),
		processed="scanned",
	):
		finish_once(RUN, run, _finalize)


def _segment_range(run_doc, shard, batch_size: int | None) -> dict:
	"""Score, tier and stage the shard's profiles after its checkpoint, a batch at a time: decide
	in the core, write what changed, move the checkpoint, commit. Returns the shard's result."""
	policy_name = run_doc.policy
	if not policy_name:
		raise SegmentationError(_("There is no active tier policy. Activate one first."))
	today = getdate(run_doc.run_date)
	decider = _Decider(policy_name, today, what_if=run_doc.run_type == "What-if")
	size = batch_size or cint(frappe.db.get_single_value(SETTINGS, "segmentation_batch_size")) or 40_000
	result = _Result(shard.result, shard.error_log)
	crash_after = cint(frappe.flags.bank_crm_crash_after_batches)  # tests: simulate a killed worker
	# the requester's progress bar: the profiles counted once per shard (a count reads them all)
	total = frappe.db.count(PROFILE) if run_doc.requested_by and run_doc.run_type != "Nightly" else 0
	_ensure_tmp_table()
	reader = _BatchReader(size, today, decider.rules, shard.range_to or "")
	try:
		for batches, batch in enumerate(reader.batches(shard.checkpoint or shard.range_from or ""), 1):
			changes, tier_rows, stage_rows = decider.decide_batch(batch, result)
			if not decider.what_if:
				_write(changes, tier_rows, stage_rows, run_doc.name, today)
			result.add_written(changes, tier_rows, stage_rows)
			set_shard(
				RUN, run_doc.name, shard.shard_no, {"checkpoint": batch[-1][0], **result.shard_values()}
			)
			frappe.db.commit()  # one batch is one unit of work: a crash loses at most this batch
			_publish_progress(run_doc, total)
			if crash_after and batches >= crash_after:
				raise SystemExit("simulated crash")
			if len(batch) < size:
				break
	finally:
		reader.close()
		_drop_tmp_table()
	return result.as_dict()


class _Decider:
	"""The policy, rules and overrides of a run, compiled once, deciding batch after batch."""

	def __init__(self, policy_name: str, today: date, what_if: bool):
		score_policy, self.tier_policy = build_policy(frappe.get_doc(POLICY, policy_name))
		self.scorer = scoring.compile_scorer(score_policy)
		self.rules = lifecycle_rules()
		self.overrides = active_overrides(today)
		self.policy_name, self.today, self.what_if = policy_name, today, what_if

	def decide_batch(self, batch, result: "_Result"):
		"""What changes for the batch's profiles: profile rows, tier and stage history rows."""
		changes, tier_rows, stage_rows = [], [], []
		for row in batch:
			try:
				decided = _decide(
					row,
					self.today,
					self.scorer,
					self.tier_policy,
					self.rules,
					self.overrides,
					self.policy_name,
					self.what_if,
				)
			except Exception as e:
				result.row_error(f"{row[0]}: {e!r}")
				continue
			new_tier, change = (decided, None) if self.what_if else decided
			result.count(row[2], new_tier)
			if change:
				changes.append(change[0])
				if change[1]:
					tier_rows.append(change[1])
				if change[2]:
					stage_rows.append(change[2])
		return changes, tier_rows, stage_rows


class _Result:
	"""A shard's counts, tier distribution and movement matrix, resumed from its stored result."""

	def __init__(self, stored: str | None, error_log: str | None):
		previous = json.loads(stored or "{}")
		counts = previous.get("totals") or previous  # (results written before 0.2 nest the counts)
		self.totals = Counter({k: counts.get(k, 0) for k in RESULT_COUNTS})
		self.distribution = Counter(previous.get("distribution", {}))
		self.movement = Counter(previous.get("movement", {}))
		self.errors: list[str] = (error_log or "").splitlines()[:50]

	def row_error(self, line: str):
		self.totals["errors"] += 1
		if len(self.errors) < 50:
			self.errors.append(line)

	def count(self, old_tier: str | None, new_tier: str):
		self.totals["scanned"] += 1
		self.distribution[new_tier] += 1
		self.movement[f"{old_tier or '-'}\u2192{new_tier}"] += 1

	def add_written(self, changes, tier_rows, stage_rows):
		self.totals["changed"] += len(changes)
		self.totals["tier_changes"] += len(tier_rows)
		self.totals["lifecycle_changes"] += len(stage_rows)

	def as_dict(self) -> dict:
		return {
			**self.totals,
			"distribution": dict(self.distribution),
			"movement": dict(self.movement),
			"row_errors": self.errors,
		}

	def shard_values(self) -> dict:
		"""What a batch leaves on its shard row, so that a resumed shard goes on from there."""
		values = self.as_dict()
		errors = values.pop("row_errors")
		return {
			"processed": self.totals["scanned"],
			"result": json.dumps(values, ensure_ascii=False, sort_keys=True),
			"error_log": "\n".join(errors) or None,
		}


def _finalize(run_doc, totals: dict):
	"""When every shard is done: their counts added up on the run record, which completes."""
	errors = frappe.get_all(
		SHARD,
		filters={"parenttype": RUN, "parent": run_doc.name, "error_log": ("is", "set")},
		pluck="error_log",
		order_by="shard_no",
	)
	mark_completed(
		RUN,
		run_doc,
		{
			**{k: totals.get(k, 0) for k in RESULT_COUNTS},
			"result": json.dumps(
				{
					"totals": {k: totals.get(k, 0) for k in RESULT_COUNTS},
					"distribution": totals.get("distribution", {}),
					"movement": totals.get("movement", {}),
				},
				ensure_ascii=False,
				sort_keys=True,
			),
			"error_log": "\n".join("\n".join(errors).splitlines()[:50]) or None,
		},
	)
	if run_doc.run_type == "What-if":
		frappe.db.set_value(POLICY, run_doc.policy, "last_what_if", run_doc.name, update_modified=False)
	frappe.db.commit()
	if run_doc.requested_by and run_doc.run_type != "Nightly":
		frappe.publish_realtime(
			"bank_crm_segmentation_done",
			{"run": run_doc.name, "status": "Completed"},
			user=run_doc.requested_by,
		)


def _publish_progress(run_doc, total: int):
	if not run_doc.requested_by or run_doc.run_type == "Nightly":
		return
	scanned = frappe.db.sql(
		"select sum(processed) from `tabBank Job Shard` where parenttype = %s and parent = %s",
		(RUN, run_doc.name),
	)[0][0]
	frappe.publish_realtime(
		"bank_crm_segmentation_progress",
		{"run": run_doc.name, "scanned": int(scanned or 0), "total": total},
		user=run_doc.requested_by,
	)


# -- reading --------------------------------------------------------------------------
# One query per batch returns, per profile, its own fields and the figures of three
# snapshots: the latest, the one about ``trend_days`` earlier and the one about
# ``dormant_days`` earlier (each found by one index dive on (customer, as_of_date) and read
# from the covering index ``customer_date_figures``, never from the table rows).
# The whole batch arrives as one delimited string (GROUP_CONCAT of one CONCAT_WS per row):
# PyMySQL parses every value and every row packet in pure Python, so one value per batch
# instead of twenty-six per row is most of the reading time saved; str.split does the rest.
SEP = "\x1f"
_BATCH_QUERY = """
select group_concat(line separator '\n'), max(name) from (
select p.name, concat_ws(char(31),
	p.name, p.customer, ifnull(p.tier, ''), ifnull(p.value_score, 0), ifnull(p.tier_below_runs, 0),
	ifnull(p.tier_override, ''), ifnull(p.lifecycle_stage, ''), ifnull(p.risk_level, ''),
	ifnull(p.qual_industry_influence, 0), ifnull(p.qual_cooperation_potential, 0), ifnull(p.qual_risk_rating, 0),
	ifnull(p.relationship_since, ''), ifnull(p.lifecycle_override_stage, ''), ifnull(p.lifecycle_override_until, ''),
	ifnull(p.score_policy, ''), ifnull(p.score_snapshot_date, ''),
	ifnull(p.latest, ''), ifnull(p.prev, ''), ifnull(p.year_ago, '')
) as line
from (
	select p.*,
		(select concat_ws(char(30), s.as_of_date, s.deposit_balance, s.loan_balance, s.aum, s.fee_income,
				s.composite_yield, s.products_held)
			from `tabBank Financial Snapshot` s force index (customer_date_figures)
			where s.customer = p.customer and s.as_of_date <= %(today)s
			order by s.as_of_date desc limit 1) as latest,
		(select concat_ws(char(30), s.deposit_balance + s.aum, s.products_held)
			from `tabBank Financial Snapshot` s force index (customer_date_figures)
			where s.customer = p.customer and s.as_of_date <= %(trend)s
			order by s.as_of_date desc limit 1) as prev,
		(select s.deposit_balance + s.aum
			from `tabBank Financial Snapshot` s force index (customer_date_figures)
			where s.customer = p.customer and s.as_of_date <= %(year_ago)s
			order by s.as_of_date desc limit 1) as year_ago
	from (
		select name, customer, tier, value_score, tier_below_runs, tier_override, lifecycle_stage, risk_level,
			qual_industry_influence, qual_cooperation_potential, qual_risk_rating, relationship_since,
			lifecycle_override_stage, lifecycle_override_until, score_policy, score_snapshot_date
		from `tabBank Customer Profile`
		where name > %(after)s and (%(until)s = '' or name <= %(until)s)
		order by name limit %(size)s
	) p
) p
) batch
"""


class _BatchReader:
	"""Reads the shard's batches in key order, each as one packed string, the next one on a second
	connection of its own while this process decides and writes the current one: the read waits
	on MariaDB (the snapshot dives) and deciding on Python, so the two overlap instead of taking
	turns. The second connection commits each read (autocommit), so it reads what is committed."""

	def __init__(self, size: int, today: date, rules: lifecycle.LifecycleRules, until: str = ""):
		self.params = {
			"until": until or "",
			"size": size,
			"today": today,
			"trend": today - timedelta(days=rules.trend_days),
			"year_ago": today - timedelta(days=rules.dormant_days),
		}
		self.conn = frappe.db.create_connection()
		self.conn.autocommit(True)
		with self.conn.cursor() as cursor:
			cursor.execute("set session group_concat_max_len = 1073741824")
		self.pool = ThreadPoolExecutor(1, thread_name_prefix="bank_crm_segmentation_read")
		self.ahead = None

	def _fetch(self, after: str) -> tuple[str | None, str | None]:
		with self.conn.cursor() as cursor:
			cursor.execute(_BATCH_QUERY, {**self.params, "after": after})
			return cursor.fetchone()

	def batches(self, after: str):
		"""Parsed rows of each batch after ``after``, ordered by profile name (layout: ``_decide``)."""
		text, last = self._fetch(after)
		while text:
			self.ahead = self.pool.submit(self._fetch, last)  # the next batch, while this one is used
			rows = [_parse(line) for line in text.split("\n")]
			rows.sort(key=lambda r: r[0])
			yield rows
			text, last = self.ahead.result()
			self.ahead = None

	def close(self):
		if self.ahead:
			self.ahead.cancel() or self.ahead.exception()  # let a read under way end first
		self.pool.shutdown(wait=True)
		self.conn.close()


def _d(value: str):
	return date.fromisoformat(value) if value else None


def _f(value: str):
	return float(value) if value else None


def _parse(line: str) -> tuple:
	fields = line.split(SEP)
	latest_part, prev_part, year_ago_total = fields[16:19]
	latest = deposit = loan = aum = fee = yld = products = ""
	if latest_part:
		latest, deposit, loan, aum, fee, yld, products = latest_part.split("\x1e")
	prev_total = prev_products = ""
	if prev_part:
		prev_total, prev_products = prev_part.split("\x1e")
	(
		name,
		customer,
		tier,
		score,
		below,
		override,
		stage,
		risk,
		q1,
		q2,
		q3,
		since,
		ov_stage,
		ov_until,
		policy,
		snap_date,
	) = fields[:16]
	return (
		name,
		customer,
		tier or None,
		float(score),
		int(below),
		override or None,
		stage or None,
		risk or None,
		int(q1),
		int(q2),
		int(q3),
		_d(since),
		ov_stage or None,
		_d(ov_until),
		policy or None,
		_d(snap_date),
		_d(latest),
		_f(deposit),
		_f(loan),
		_f(aum),
		_f(fee),
		_f(yld),
		int(products) if products else None,
		_f(prev_total),
		int(prev_products) if prev_products else None,
		_f(year_ago_total),
	)


# -- deciding (pure but for the row layout) -------------------------------------------
def _decide(row, today, scorer, tier_policy, rules, overrides, policy_name, what_if):
	(
		name,
		customer,
		tier,
		value_score,
		below_runs,
		tier_override,
		stage,
		risk_level,
		q_industry,
		q_coop,
		q_risk,
		since,
		override_stage,
		override_until,
		score_policy,
		score_snapshot_date,
		latest,
		deposit,
		loan,
		aum,
		fee,
		yld,
		products,
		prev_total,
		prev_products,
		year_ago_total,
	) = row
	has_snapshot = latest is not None
	if has_snapshot:
		values = (deposit, loan, aum, fee, yld, products)
	else:
		values = (0.0, 0.0, 0.0, 0.0, 0.0, 0)
		deposit = aum = loan = fee = 0.0
		products = 0
	qualitative = (q_industry, q_coop, q_risk or tiering.risk_rating_from_level(risk_level))
	score = scorer(values, qualitative, risk_level)
	override = overrides.get(name)
	if what_if:
		# policy review: where each customer lands under this policy (overrides still win)
		return override[1] if override else tier_policy.eligible(score, aum or 0, deposit or 0).tier
	decision = tiering.decide(
		tier_policy, tier, below_runs, score, aum or 0, deposit or 0, override[1] if override else None
	)
	if lifecycle.override_active(override_stage, override_until, today):
		new_stage, reason, args = override_stage, "RM override until {0}", (str(override_until),)
	else:
		new_stage, reason, args = _stage(rules, today, since, has_snapshot, row[17:])
	override_name = override[0] if override else None
	tier_changed = decision.tier != tier
	stage_changed = new_stage != stage
	if not (
		tier_changed
		or stage_changed
		or round(value_score, 2) != score
		or below_runs != decision.below_runs
		or tier_override != override_name
		or score_policy != policy_name
		or score_snapshot_date != latest
	):
		return decision.tier, None
	reason_text = reason.format(*args)[:140]  # in English: each reader sees it in their language (reason_in)
	return decision.tier, (
		(
			name,
			customer,
			score,
			decision.tier,
			decision.below_runs,
			override_name,
			new_stage,
			reason_text,
			policy_name,
			latest,
		),
		(name, tier, decision.tier, score, decision.reason or "", policy_name) if tier_changed else None,
		(name, stage, new_stage, reason_text, int(new_stage == override_stage)) if stage_changed else None,
	)


def _stage(rules, today, since, has_snapshot, figures) -> tuple[str, str, tuple]:
	"""The lifecycle stage by the rules (``core.lifecycle``), from the row's snapshot figures."""
	deposit, loan, aum, fee, _yld, products, prev_total, prev_products, year_ago_total = figures
	decision = lifecycle.decide_stage(
		rules,
		lifecycle.LifecycleInput(
			tenure_days=(today - since).days if since else UNKNOWN_TENURE_DAYS,
			has_snapshot=has_snapshot,
			products_held=products or 0,
			fee_income=fee or 0,
			total_balance=(deposit or 0) + (aum or 0),
			loan_balance=loan or 0,
			previous_total_balance=prev_total,
			previous_products_held=prev_products,
			year_ago_total_balance=year_ago_total,
		),
	)
	return decision.stage, decision.reason, decision.args


# -- writing --------------------------------------------------------------------------
def _ensure_tmp_table():
	frappe.db.sql("select 1")
	frappe.db._cursor.execute(
		f"""create temporary table if not exists `{TMP}` (
			name varchar(140) primary key, customer varchar(140), value_score decimal(21,9),
			tier varchar(140), tier_below_runs int, tier_override varchar(140),
			lifecycle_stage varchar(140), lifecycle_reason varchar(140),
			score_policy varchar(140), score_snapshot_date date)"""
	)


def _drop_tmp_table():
	frappe.db._cursor.execute(f"drop temporary table if exists `{TMP}`")


def _write(changes, tier_rows, stage_rows, run_name, today):
	if not changes:
		return
	cursor = frappe.db._cursor
	cursor.execute(f"delete from `{TMP}`")
	execute_values(f"insert into `{TMP}` values ", changes)
	cursor.execute(
		f"""update `tabBank Customer Profile` p join `{TMP}` t on t.name = p.name
		set p.value_score = t.value_score, p.tier = t.tier, p.tier_below_runs = t.tier_below_runs,
			p.tier_override = t.tier_override, p.lifecycle_stage = t.lifecycle_stage,
			p.lifecycle_reason = t.lifecycle_reason, p.score_policy = t.score_policy,
			p.score_snapshot_date = t.score_snapshot_date,
			p.scored_on = if(p.value_score <> t.value_score or p.scored_on is null, %s, p.scored_on)""",
		(today,),
	)
	cursor.execute(
		f"""update `tabCustomer` c join `{TMP}` t on t.customer = c.name
		set c.bank_tier = t.tier, c.bank_lifecycle_stage = t.lifecycle_stage"""
	)
	now = now_datetime()
	common = {"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now}
	if tier_rows:
		insert_rows(
			"Bank Tier History",
			[
				{
					"name": f"{run_name}:{p}",
					"profile": p,
					"from_tier": a,
					"to_tier": b,
					"score": s,
					"reason": r,
					"policy": pol,
					"run": run_name,
					"change_date": today,
				}
				for p, a, b, s, r, pol in tier_rows
			],
			common,
			ignore_duplicates=True,
		)
	if stage_rows:
		insert_rows(
			"Bank Lifecycle History",
			[
				{
					"name": f"{run_name}:{p}",
					"profile": p,
					"from_stage": a,
					"to_stage": b,
					"reason": r,
					"is_override": o,
					"run": run_name,
					"change_date": today,
				}
				for p, a, b, r, o in stage_rows
			],
			common,
			ignore_duplicates=True,
		)


def reason_in(text: str | None, lang: str | None = None) -> str:
	"""A stored lifecycle reason in the reader's language (its template translated, the values
	filled in again); other text as it is translated."""
	parsed = lifecycle.parse_reason(text)
	if not parsed:
		return _(text, lang=lang) if text else ""
	template, values = parsed
	return _(template, lang=lang).format(*values)


# -- one customer, for the profile page -----------------------------------------------
def breakdown(profile_name: str) -> dict:
	"""Each factor's value, normalised value, weight and contribution for one profile, under
	the policy and snapshot its stored score came from (or the active policy and the latest
	snapshot when it has not been scored yet)."""
	p = frappe.db.get_value(
		PROFILE,
		profile_name,
		[
			"customer",
			"risk_level",
			"qual_industry_influence",
			"qual_cooperation_potential",
			"qual_risk_rating",
			"score_policy",
			"score_snapshot_date",
			"value_score",
			"tier",
		],
		as_dict=True,
	)
	policy_name = p.score_policy or active_policy()
	if not policy_name:
		return {"policy": None, "parts": []}
	score_policy, _tiers = build_policy(frappe.get_cached_doc(POLICY, policy_name))
	filters = {"customer": p.customer}
	if p.score_snapshot_date:
		filters["as_of_date"] = p.score_snapshot_date
	snap = frappe.get_all(
		SNAPSHOT,
		filters=filters,
		fields=list(scoring.METRICS) + ["as_of_date"],
		order_by="as_of_date desc",
		limit=1,
	)
	metrics = snap[0] if snap else {}
	qualitative = {
		"industry_influence": p.qual_industry_influence,
		"cooperation_potential": p.qual_cooperation_potential,
		"risk_rating": p.qual_risk_rating or tiering.risk_rating_from_level(p.risk_level),
	}
	score, parts = scoring.explain(score_policy, metrics, qualitative, p.risk_level)
	return {
		"policy": policy_name,
		"policy_version": frappe.db.get_value(POLICY, policy_name, "version"),
		"snapshot_date": str(metrics.get("as_of_date") or ""),
		"score": score,
		"stored_score": flt(p.value_score),
		"tier": p.tier,
		"parts": [
			{
				"factor": part.factor,
				"label": scoring.LABELS.get(part.factor, part.factor),
				"kind": part.kind,
				"value": part.value,
				"normalised": None if part.normalised is None else round(part.normalised, 4),
				"weight": part.weight,
				"contribution": round(part.contribution, 2),
			}
			for part in parts
		],
	}
