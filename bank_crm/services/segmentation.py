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
import time
from collections import Counter
from datetime import date, timedelta

import frappe
from frappe import _
from frappe.utils import cint, flt, getdate, now_datetime

from bank_crm.core import lifecycle, scoring, tiering
from bank_crm.services.bulk import insert_rows

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
def nightly():
	"""Scheduler (daily_long): expire overrides, then re-tier and re-stage everyone."""
	today = getdate(frappe.flags.current_date or None)
	expire_overrides(today)
	frappe.db.commit()  # the expiry must hold even if the run below fails
	run_segmentation("Nightly", today=today)


def enqueue(run_type: str = "On Demand", policy: str | None = None) -> str:
	"""Queue a run on the long queue (one at a time); returns the run record's name."""
	what_if = run_type == "What-if"
	run = frappe.get_doc(
		{
			"doctype": RUN,
			"run_type": run_type,
			"policy": policy or active_policy(),
			"run_date": getdate(),
			"status": "Queued",
			"requested_by": frappe.session.user,
		}
	).insert(ignore_permissions=True)
	frappe.enqueue(
		"bank_crm.services.segmentation.run_segmentation",
		queue="long",
		timeout=4 * 3600,
		job_id=f"bank_crm:segmentation:{run.name}" if what_if else "bank_crm:segmentation",
		deduplicate=not what_if,
		enqueue_after_commit=True,
		run_type=run_type,
		run=run.name,
	)
	return run.name


def run_segmentation(
	run_type: str = "Nightly",
	run: str | None = None,
	policy: str | None = None,
	today=None,
	batch_size: int | None = None,
) -> str | None:
	"""Run (or resume) a segmentation; returns the run record's name, None if one is running."""
	today = getdate(today or frappe.flags.current_date or None)
	what_if = run_type == "What-if"
	if not what_if and not _acquire_lock():
		frappe.logger("bank_crm").info("segmentation already running; skipped")
		return None
	try:
		return _run(run_type, run, policy, today, batch_size, what_if)
	except Exception:
		frappe.db.rollback()
		frappe.log_error(title="bank_crm segmentation run failed")
		unfinished = run or frappe.db.get_value(RUN, {"status": "Running", "run_type": run_type}, "name")
		if unfinished:
			frappe.db.set_value(RUN, unfinished, "status", "Failed", update_modified=False)
			frappe.db.commit()  # the failure must be visible on the run record
		raise
	finally:
		if not what_if:
			_release_lock()


def _run(run_type, run, policy, today, batch_size, what_if):
	run_doc = _get_run(run_type, run, policy, today, what_if)
	policy_name = run_doc.policy
	if not policy_name:
		_fail(run_doc, _("There is no active tier policy. Activate one first."))
		return run_doc.name
	policy_doc = frappe.get_doc(POLICY, policy_name)
	score_policy, tier_policy = build_policy(policy_doc)
	scorer = scoring.compile_scorer(score_policy)
	rules = lifecycle_rules()
	overrides = active_overrides(today)
	size = batch_size or cint(frappe.db.get_single_value(SETTINGS, "segmentation_batch_size")) or 50_000
	started = time.monotonic()
	totals = Counter(json.loads(run_doc.result or "{}").get("totals", {}))
	distribution = Counter(json.loads(run_doc.result or "{}").get("distribution", {}))
	movement = Counter(
		{
			tuple(k.split("\u2192")): v
			for k, v in json.loads(run_doc.result or "{}").get("movement", {}).items()
		}
	)
	errors: list[str] = (run_doc.error_log or "").splitlines()
	checkpoint = run_doc.checkpoint or ""
	total = frappe.db.count(PROFILE)
	crash_after = cint(frappe.flags.bank_crm_crash_after_batches)  # tests: simulate a killed worker
	batches = 0
	_ensure_tmp_table()
	try:
		while True:
			profiles = _read_profiles(checkpoint, size)
			if not profiles:
				break
			last = profiles[-1][0]
			figures = _read_figures(checkpoint, last, today, rules)
			changes, tier_rows, stage_rows = [], [], []
			for row in profiles:
				try:
					decided = _decide(
						row,
						figures.get(row[1]),
						today,
						scorer,
						tier_policy,
						rules,
						overrides,
						policy_name,
						what_if,
					)
				except Exception as e:
					totals["errors"] += 1
					if len(errors) < 50:
						errors.append(f"{row[0]}: {e!r}")
					continue
				totals["scanned"] += 1
				distribution[decided["tier"]] += 1
				movement[(row[2] or "-", decided["tier"])] += 1
				if what_if or not decided["changed"]:
					continue
				changes.append(decided["update"])
				if decided["tier_changed"]:
					tier_rows.append(decided["tier_history"])
				if decided["stage_changed"]:
					stage_rows.append(decided["stage_history"])
			if not what_if:
				_write(changes, tier_rows, stage_rows, run_doc.name, today)
			totals["changed"] += len(changes)
			totals["tier_changes"] += len(tier_rows)
			totals["lifecycle_changes"] += len(stage_rows)
			checkpoint = last
			_save_progress(run_doc, checkpoint, totals, distribution, movement, errors, total)
			frappe.db.commit()  # one batch is one unit of work: a crash loses at most this batch
			batches += 1
			if crash_after and batches >= crash_after:
				raise SystemExit("simulated crash")
	finally:
		_drop_tmp_table()
	run_doc.reload()
	run_doc.update(
		{
			"status": "Completed",
			"finished_at": now_datetime(),
			"duration_seconds": flt(run_doc.duration_seconds) + time.monotonic() - started,
		}
	)
	run_doc.flags.ignore_permissions = True
	run_doc.save()
	if what_if:
		frappe.db.set_value(POLICY, policy_name, "last_what_if", run_doc.name, update_modified=False)
	frappe.db.commit()
	_notify(run_doc)
	return run_doc.name


def _get_run(run_type, run, policy, today, what_if):
	if run:
		doc = frappe.get_doc(RUN, run)
	else:
		unfinished = None
		if not what_if:
			unfinished = frappe.db.get_value(
				RUN,
				{"run_type": ("!=", "What-if"), "status": ("in", ("Running", "Failed")), "run_date": today},
				"name",
				order_by="creation desc",
			)
		if unfinished:
			doc = frappe.get_doc(RUN, unfinished)
		else:
			doc = frappe.get_doc(
				{
					"doctype": RUN,
					"run_type": run_type,
					"policy": policy or active_policy(),
					"run_date": today,
					"status": "Queued",
					"requested_by": frappe.session.user,
				}
			).insert(ignore_permissions=True)
	if policy and doc.status == "Queued":
		doc.policy = policy
	doc.status = "Running"
	doc.started_at = doc.started_at or now_datetime()
	doc.flags.ignore_permissions = True
	doc.save()
	frappe.db.commit()
	return doc


def _fail(run_doc, message):
	run_doc.status = "Failed"
	run_doc.error_log = message
	run_doc.finished_at = now_datetime()
	run_doc.flags.ignore_permissions = True
	run_doc.save()
	frappe.db.commit()


def _save_progress(run_doc, checkpoint, totals, distribution, movement, errors, total):
	result = {
		"totals": dict(totals),
		"distribution": dict(distribution),
		"movement": {"\u2192".join(k): v for k, v in movement.items()},
	}
	frappe.db.set_value(
		RUN,
		run_doc.name,
		{
			"checkpoint": checkpoint,
			"scanned": totals["scanned"],
			"changed": totals["changed"],
			"tier_changes": totals["tier_changes"],
			"lifecycle_changes": totals["lifecycle_changes"],
			"errors": totals["errors"],
			"result": json.dumps(result, ensure_ascii=False, sort_keys=True),
			"error_log": "\n".join(errors[:50]) or None,
		},
		update_modified=False,
	)
	if run_doc.requested_by and total:
		frappe.publish_realtime(
			"bank_crm_segmentation_progress",
			{"run": run_doc.name, "scanned": totals["scanned"], "total": total},
			user=run_doc.requested_by,
		)


def _notify(run_doc):
	if run_doc.requested_by and run_doc.run_type != "Nightly":
		frappe.publish_realtime(
			"bank_crm_segmentation_done",
			{"run": run_doc.name, "status": run_doc.status},
			user=run_doc.requested_by,
		)


# -- reading --------------------------------------------------------------------------
_PROFILE_COLUMNS = (
	"name",
	"customer",
	"tier",
	"value_score",
	"tier_below_runs",
	"tier_override",
	"lifecycle_stage",
	"risk_level",
	"qual_industry_influence",
	"qual_cooperation_potential",
	"qual_risk_rating",
	"relationship_since",
	"lifecycle_override_stage",
	"lifecycle_override_until",
	"score_policy",
	"score_snapshot_date",
)


def _raw(query, values):
	"""Rows as tuples straight from the cursor: no per-value conversion by Frappe."""
	frappe.db.sql("select 1")
	cursor = frappe.db._cursor
	cursor.execute(query, values)
	return cursor.fetchall()


def _read_profiles(after: str, size: int):
	columns = ", ".join(f"`{c}` * 1e0" if c == "value_score" else f"`{c}`" for c in _PROFILE_COLUMNS)
	return _raw(
		f"select {columns} from `tabBank Customer Profile` where name > %s order by name limit %s",
		(after, size),
	)


def _read_figures(after: str, last: str, today: date, rules: lifecycle.LifecycleRules) -> dict:
	"""customer → (latest date, last active date, metrics tuple, previous total, previous products)."""
	rows = _raw(
		"""
		select m.customer, m.latest, m.active,
			l.deposit_balance * 1e0, l.loan_balance * 1e0, l.aum * 1e0, l.fee_income * 1e0,
			l.composite_yield * 1e0, l.products_held,
			(pv.deposit_balance + pv.aum) * 1e0, pv.products_held
		from (
			select s.customer, max(s.as_of_date) latest,
				max(case when s.deposit_balance + s.aum >= %(dormant)s then s.as_of_date end) active,
				max(case when s.as_of_date <= %(cutoff)s then s.as_of_date end) prev
			from `tabBank Customer Profile` p
			join `tabBank Financial Snapshot` s on s.customer = p.customer and s.as_of_date <= %(today)s
			where p.name > %(after)s and p.name <= %(last)s
			group by s.customer
		) m
		join `tabBank Financial Snapshot` l on l.customer = m.customer and l.as_of_date = m.latest
		left join `tabBank Financial Snapshot` pv on pv.customer = m.customer and pv.as_of_date = m.prev
		""",
		{
			"after": after,
			"last": last,
			"today": today,
			"cutoff": today - timedelta(days=rules.trend_days),
			"dormant": rules.dormant_balance,
		},
	)
	return {r[0]: r[1:] for r in rows}


# -- deciding (pure but for the row layout) -------------------------------------------
def _decide(row, fig, today, scorer, tier_policy, rules, overrides, policy_name, what_if):
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
	) = row
	if fig:
		latest, active, deposit, loan, aum, fee, yld, products, prev_total, prev_products = fig
		values = (deposit, loan, aum, fee, yld, products)
	else:
		latest = active = prev_total = prev_products = None
		values = (0.0, 0.0, 0.0, 0.0, 0.0, 0)
		deposit = aum = loan = fee = 0.0
		products = 0
	qualitative = (q_industry, q_coop, q_risk or tiering.risk_rating_from_level(risk_level))
	score = scorer(values, qualitative, risk_level)
	override = overrides.get(name)
	if what_if:
		# policy review: where each customer lands under this policy (overrides still win)
		new_tier = override[1] if override else tier_policy.eligible(score, aum or 0, deposit or 0).tier
		return {"tier": new_tier}
	decision = tiering.decide(
		tier_policy, tier, below_runs or 0, score, aum or 0, deposit or 0, override[1] if override else None
	)
	if lifecycle.override_active(override_stage, override_until, today):
		new_stage, reason, args = override_stage, "RM override until {0}", (str(override_until),)
	else:
		tenure = (today - since).days if since else UNKNOWN_TENURE_DAYS
		stage_decision = lifecycle.decide_stage(
			rules,
			lifecycle.LifecycleInput(
				tenure_days=tenure,
				has_snapshot=fig is not None,
				products_held=products or 0,
				fee_income=fee or 0,
				total_balance=(deposit or 0) + (aum or 0),
				loan_balance=loan or 0,
				previous_total_balance=prev_total,
				previous_products_held=prev_products,
				days_since_active=(today - active).days if active else None,
			),
		)
		new_stage, reason, args = stage_decision.stage, stage_decision.reason, stage_decision.args
	override_name = override[0] if override else None
	tier_changed = decision.tier != tier
	stage_changed = new_stage != stage
	changed = (
		tier_changed
		or stage_changed
		or round(value_score or 0, 2) != score
		or (below_runs or 0) != decision.below_runs
		or (tier_override or None) != override_name
		or score_policy != policy_name
		or score_snapshot_date != latest
	)
	reason_text = _(reason).format(*args)[:140] if (stage_changed or changed) else ""
	return {
		"tier": decision.tier,
		"changed": changed,
		"tier_changed": tier_changed,
		"stage_changed": stage_changed,
		"update": (
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
		"tier_history": (name, tier, decision.tier, score, decision.reason or "", policy_name),
		"stage_history": (name, stage, new_stage, reason_text, int(new_stage == override_stage)),
	}


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
	cursor.executemany(
		f"insert into `{TMP}` values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
		[(*c[:9], c[9]) for c in changes],
	)
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


def _acquire_lock() -> bool:
	return bool(frappe.db.sql("select get_lock(%s, 0)", (LOCK,))[0][0])


def _release_lock():
	frappe.db.sql("select release_lock(%s)", (LOCK,))


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
	score_policy, _tiers = build_policy(frappe.get_doc(POLICY, policy_name))
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
