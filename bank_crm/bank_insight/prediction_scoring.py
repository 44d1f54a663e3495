"""Nightly scoring of every customer by the active prediction models (a *Bank Prediction Run*).

The run splits the profiles into key ranges (*Prediction Shards* in the insight settings), one
job each on the long queue, or one after the other in one process. A shard reads its customers in batches
with ``prediction_data.read_batch`` (what was known before today), derives the features with the
one ``core.prediction_features.derive``, and asks each active model. Only customers whose score,
band or reasons moved are written: the profile by one UPDATE … JOIN per batch, the day's scores
into *Bank Prediction Score* by one multi-row INSERT. The reasons (TreeSHAP contributions turned
into ``core.reasons`` keys with values) are computed only for customers in the High churn band
whose score moved, not for everyone every night. The last shard measures drift: the population
stability index of the score and of each feature against the model's training sample, and tells
the CRM Administrators when it is above the bound.
"""

from __future__ import annotations

import json
from datetime import timedelta

import frappe
from frappe import _
from frappe.utils import getdate, now_datetime

from bank_crm.bank_insight import prediction_data, prediction_models, prediction_training
from bank_crm.core import model_metrics, reasons
from bank_crm.core import prediction_features as pf
from bank_crm.utils import shards
from bank_crm.utils.bulk import execute_values, insert_rows

RUN = "Bank Prediction Run"
MODEL = "Bank Prediction Model"
PROFILE = "Bank Customer Profile"
SCORE = "Bank Prediction Score"
TMP = "tmp_bank_crm_scores"
HIGH, MEDIUM = 0.30, 0.10  # churn probability bands
PSI_BOUND = 0.2  # a population stability index above this is a material shift
SAMPLE_PER_SHARD = 500  # rows per shard kept for the drift measure
BATCH = 20_000
SCORING = shards.Job(
	RUN,
	"bank_crm.bank_insight.prediction_scoring.score_shard",
	lock="bank_crm_prediction_scoring",
	count_setting=("Bank Insight Settings", "prediction_shards"),
)


def band(probability: float) -> str:
	return "High" if probability >= HIGH else "Medium" if probability >= MEDIUM else "Low"


def score_customers():
	"""Scheduler entry (``daily_long``): score everyone with the active models, when there are any."""
	if active_models():
		run_scoring(enqueue=None)


def run_scoring(today=None, shard_count: int | None = None, enqueue: bool | None = False) -> str | None:
	"""The day's scoring run (an unfinished one resumed): in this process, or with ``enqueue``
	over the long queue's workers (None: by the *Prediction Shards* setting)."""
	today = getdate(today or frappe.flags.current_date or None)
	run = shards.run(
		SCORING,
		lambda count: shards.resume_or_start(
			RUN, {"run_date": today}, PROFILE, count, values=lambda: {"models": "\n".join(active_models())}
		),
		shard_count,
		enqueue=enqueue,
	)
	return run and run.name


def active_models() -> list[str]:
	return frappe.get_all(
		MODEL, filters={"status": "Active"}, pluck="name", order_by="kind, product_category"
	)


class _Models:
	"""The active models, loaded once per shard: the churn model and the propensity models."""

	def __init__(self, names: list[str]):
		self.churn = None
		self.propensity: dict[str, object] = {}
		self.names = "\n".join(sorted(names))
		for name in names:
			doc = frappe.get_doc(MODEL, name)
			if doc.status != "Active":
				continue
			booster = prediction_models.load(doc)
			if doc.kind == "Churn":
				self.churn = (doc.name, booster)
			else:
				self.propensity[doc.product_category] = (doc.name, booster)


def score_shard(run: str, shard_no: int):
	"""Score one key range of profiles (a job on the long queue, or a step of ``run_scoring``)."""

	def body(doc, shard):
		models = _Models((doc.models or "").split())
		today = getdate(doc.run_date)
		stats = {"scored": 0, "changed": 0, "high": 0, "sample": []}
		after, until = shard.checkpoint or shard.range_from or "", shard.range_to or ""
		_ensure_tmp_table()
		try:
			while rows := prediction_data.read_batch(today, after=after, until=until, limit=BATCH):
				after = rows[-1][0].profile
				batch = shards.retrying(
					lambda rows=rows, after=after: _score_batch(doc, shard, models, today, rows, after)
				)
				for key in ("scored", "changed", "high"):
					stats[key] += batch[key]
				stats["sample"] = (stats["sample"] + batch["sample"])[:SAMPLE_PER_SHARD]
		finally:
			_drop_tmp_table()
		return stats

	if shards.work_on(SCORING, run, shard_no, body, _("Prediction scoring failed"), processed="scored"):
		shards.finish_once(RUN, run, _complete)


def _score_batch(run_doc, shard, models: _Models, today, rows, after) -> dict:
	x = [pf.derive(a) for _p, a in rows]
	stored = _stored([p.profile for p, _a in rows])
	churn = prediction_training.predict(models.churn[1], x) if models.churn else [None] * len(rows)
	propensity = {c: prediction_training.predict(b, x) for c, (_n, b) in models.propensity.items()}
	objecting = _objecting([p.profile for p, _a in rows]) if propensity else set()
	first = churn if models.churn else next(iter(propensity.values()), churn)  # ``_drift``'s model
	changes, history, explain = [], [], []
	for i, (person, agg) in enumerate(rows):
		p = churn[i]
		# PIPL article 24: a customer who objects to profiling is not scored for marketing; and
		# as in training, a propensity is for a next product: a category not held yet
		scores = (
			{}
			if person.profile in objecting
			else {c: round(v[i], 4) for c, v in propensity.items() if c not in agg.held}
		)
		old = stored.get(person.profile, {})
		new = {
			# without an active churn model the churn fields stay as they are
			"churn_probability": old.get("churn_probability") if p is None else round(100 * p, 1),
			"churn_band": old.get("churn_band") if p is None else band(p),
			"propensity_scores": json.dumps(scores, sort_keys=True) if scores else None,
			# a newly activated model scores everyone once, so that its history is whole
			"prediction_models": models.names,
		}
		if all(_same(old.get(k), v) for k, v in new.items()):
			continue
		changes.append((person, new))
		if p is not None and new["churn_band"] == "High":  # reasons where they are read
			explain.append(i)
		history += _history_rows(person, models, new, scores, today, old)
	reasons_of = _reasons(models, x, explain) if explain else {}
	_write(changes, reasons_of, today)
	_raise_signals(changes, stored, {rows[i][0].customer: text for i, text in reasons_of.items()})
	insert_rows(SCORE, history, _common())
	shards.set_shard(RUN, run_doc.name, shard.shard_no, {"checkpoint": after})
	frappe.db.commit()  # a batch is one unit of work: a killed worker's shard resumes after it
	return {
		"scored": len(rows),
		"changed": len(changes),
		"high": sum(1 for v in churn if v is not None and v >= HIGH),
		# every k-th row of the batch, with the first model's score, for the drift measure
		"sample": [[*x[i], first[i] or 0.0] for i in range(0, len(x), max(1, len(x) // 50))],
	}


def _raise_signals(changes, stored: dict, reasons_by_customer: dict[str, str]):
	"""A need signal to the RM for each customer whose model score has just reached an enabled
	model-score rule's threshold (``core.signals.score_entering``; not while one is open or
	cooling down): the churn probability, or a propensity, which a customer who objects to
	profiling does not have. A propensity rule's signal suggests a product that suits."""
	from bank_crm.bank_insight import need_detection
	from bank_crm.core import signals

	names = frappe.get_all("Bank Need Rule", {"measure": signals.MODEL_SCORE, "enabled": 1}, pluck="name")
	rules = [need_detection.rule_from_doc(frappe.get_cached_doc("Bank Need Rule", n)) for n in sorted(names)]
	entering = []
	for person, new in changes:
		old = stored.get(person.profile, {})
		old_scores = json.loads(old.get("propensity_scores") or "{}")
		new_scores = json.loads(new["propensity_scores"] or "{}")
		for rule in rules:
			after = signals.model_score(rule, new["churn_probability"], new_scores)
			before = signals.model_score(rule, old.get("churn_probability"), old_scores)
			if signals.score_entering(rule, before, after):
				entering.append((person, rule, after))
	if not entering:
		return 0
	now = now_datetime()
	cooldown = {r.name: timedelta(days=r.cooldown_days) for r in rules}
	waiting = {
		(customer, rule)
		for customer, rule, is_open, raised_on in frappe.db.sql(
			"""select customer, rule, status = 'Open', raised_on from `tabBank Need Signal`
			where rule in %(rules)s and customer in %(customers)s
				and (status = 'Open' or raised_on > %(since)s)""",
			{
				"rules": list(cooldown),
				"customers": [p.customer for p, _r, _v in entering],
				"since": now - max(cooldown.values()),
			},
		)
		if is_open or raised_on > now - cooldown[rule]
	}
	raised, profiles = [], {}
	for person, rule, value in entering:
		if (person.customer, rule.name) in waiting:
			continue
		row = stored.get(person.profile, {})
		profiles[person.customer] = (
			person.profile,
			person.customer,
			row.get("customer_name"),
			None,
			None,
			row.get("relationship_manager"),
			row.get("branch"),
		)
		details = (
			{"propensity_category": rule.propensity_category}
			if rule.propensity_category
			else {"reasons": json.loads(reasons_by_customer.get(person.customer) or "[]")}
		)
		evidence = signals.Evidence(
			value=value, threshold=rule.threshold, window_from=now, window_to=now, details=details
		)
		raised.append((person.customer, rule, evidence))
	return need_detection.raise_signals(raised, profiles, now) if raised else 0


def _objecting(profiles: list[str]) -> set[str]:
	"""The profiles whose customer objects to automated profiling (``core.consent``)."""
	from bank_crm.core.consent import PROFILING, ConsentRecord, objects_to_profiling

	rows = frappe.db.sql(
		"""select parent, purpose, channel, granted_on, withdrawn_on from `tabBank Consent Record`
		where parenttype = %(parenttype)s and parentfield = 'consents' and purpose = %(purpose)s
			and parent in %(profiles)s""",
		{"parenttype": PROFILE, "purpose": PROFILING, "profiles": profiles or [""]},
	)
	ledger: dict[str, list] = {}
	for parent, purpose, channel, granted, withdrawn in rows:
		ledger.setdefault(parent, []).append(ConsentRecord(purpose, channel, granted, withdrawn))
	now = now_datetime()
	return {parent for parent, records in ledger.items() if objects_to_profiling(records, now)}


def _same(a, b) -> bool:
	if a in (None, "") and b in (None, ""):
		return True
	if isinstance(b, float) and a is not None:
		return abs(float(a) - b) < 0.05
	return a == b


def _stored(profiles: list[str]) -> dict[str, dict]:
	rows = frappe.db.sql(
		f"""select name, customer_name, churn_probability, churn_band, propensity_scores, prediction_models,
		relationship_manager, branch from `tab{PROFILE}` where name in %(names)s""",
		{"names": profiles or [""]},
		as_dict=True,
	)
	return {r.name: r for r in rows}


def _history_rows(person, models: _Models, new: dict, scores: dict, today, old: dict) -> list[dict]:
	common = {
		"customer": person.customer,
		"profile": person.profile,
		"scored_on": today,
		"relationship_manager": old.get("relationship_manager"),
		"branch": old.get("branch"),
	}
	rows = []
	if models.churn and new["churn_probability"] is not None:
		rows.append(
			{
				**common,
				"name": frappe.generate_hash(length=14),
				"model": models.churn[0],
				"kind": "Churn",
				"probability": new["churn_probability"],
				"band": new["churn_band"],
			}
		)
	for category, score in scores.items():
		rows.append(
			{
				**common,
				"name": frappe.generate_hash(length=14),
				"model": models.propensity[category][0],
				"kind": "Product Propensity",
				"product_category": category,
				"probability": round(100 * score, 1),
			}
		)
	return rows


def _reasons(models: _Models, x: list[list[float]], rows: list[int]) -> dict[int, str]:
	"""Row index → the top three reasons of its churn score, as JSON keys with values."""
	contributions = prediction_training.contributions(models.churn[1], [x[i] for i in rows])
	out = {}
	for i, contribution in zip(rows, contributions, strict=True):
		values = dict(zip(pf.FEATURES, x[i], strict=True))
		top = reasons.top_reasons(contribution, lambda name, values=values: pf.describe(name, values))
		out[i] = json.dumps([r.to_dict() for r in top], ensure_ascii=False)
	return out


def _write(changes, reasons_of: dict[int, str], today):
	"""The changed profiles in one UPDATE … JOIN (reasons kept unless new ones were computed)."""
	if not changes:
		return
	values = []
	for i, (person, new) in enumerate(changes):
		values.append(
			(
				person.profile,
				new["churn_probability"],
				new["churn_band"],
				new["propensity_scores"],
				_top_propensities(new["propensity_scores"]),
				reasons_of.get(i, ""),
				new["prediction_models"],
			)
		)
	cursor = frappe.db._cursor
	cursor.execute(f"delete from `{TMP}`")
	execute_values(f"insert into `{TMP}` values ", values)
	cursor.execute(
		f"""update `tab{PROFILE}` p join `{TMP}` t on t.name = p.name
		set p.churn_probability = ifnull(t.churn_probability, 0), p.churn_band = t.churn_band,
			p.propensity_scores = t.propensity_scores, p.top_propensities = t.top_propensities,
			p.prediction_models = t.prediction_models,
			p.churn_reasons = if(t.churn_band = 'High', if(t.churn_reasons = '', p.churn_reasons, t.churn_reasons), null),
			p.predicted_on = %s""",
		(today,),
	)


def _top_propensities(scores_json: str | None, n: int = 2) -> str | None:
	if not scores_json:
		return None
	scores = json.loads(scores_json)
	top = sorted(scores.items(), key=lambda kv: -kv[1])[:n]
	return ", ".join(f"{category} {100 * score:.0f}%" for category, score in top)


def _ensure_tmp_table():
	frappe.db.sql("select 1")
	frappe.db._cursor.execute(
		f"""create temporary table if not exists `{TMP}` (name varchar(140) primary key,
		churn_probability decimal(21,9), churn_band varchar(140), propensity_scores text,
		top_propensities varchar(140), churn_reasons text, prediction_models text)"""
	)


def _drop_tmp_table():
	frappe.db._cursor.execute(f"drop temporary table if exists `{TMP}`")


def _common() -> dict:
	now = now_datetime()
	return {"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now}


def _complete(doc, totals: dict):
	"""Once every shard is done: the counts, and drift against the churn model's training sample."""
	drift = _drift(doc, totals.get("sample") or [])
	shards.mark_completed(
		RUN,
		doc,
		{
			"customers_scored": totals.get("scored", 0),
			"scores_changed": totals.get("changed", 0),
			"high_churn": totals.get("high", 0),
			"score_psi": drift.get("score") or 0,
			"drift_alert": int(bool(drift.get("alert"))),
			"drift": json.dumps(drift, ensure_ascii=False, sort_keys=True),
		},
	)
	if drift.get("alert"):
		_tell_administrators(doc, drift)


def _drift(doc, sample: list) -> dict:
	"""The population stability index of the score and of each feature against the training
	sample of the run's first model (the churn model, else the first propensity model: the
	order of ``active_models``)."""
	first = next(iter((doc.models or "").split()), None)
	reference = json.loads(frappe.db.get_value(MODEL, first, "reference_sample") or "{}") if first else {}
	if not sample or not reference.get("scores"):
		return {}
	out = {"model": first, "score": round(model_metrics.psi(reference["scores"], [r[-1] for r in sample]), 4)}
	features = {}
	for j, name in enumerate(pf.FEATURES):
		expected = [row[j] for row in reference["features"]]
		actual = [row[j] for row in sample]
		features[name] = round(model_metrics.psi(expected, actual), 4)
	out["features"] = features
	shifted = sorted((k for k, v in features.items() if v > PSI_BOUND), key=lambda k: -features[k])
	out["alert"] = out["score"] > PSI_BOUND or bool(shifted)
	out["shifted_features"] = shifted
	return out


def _tell_administrators(doc, drift: dict):
	users = frappe.get_all(
		"Has Role", filters={"role": "CRM Administrator", "parenttype": "User"}, pluck="parent", distinct=True
	)
	subject = _(
		"Prediction run {0}: the customers have drifted from the model's training data (score PSI {1})."
	).format(doc.name, drift.get("score"))
	now = now_datetime()
	insert_rows(
		"Notification Log",
		[
			{
				"name": frappe.generate_hash(length=16),
				"subject": subject,
				"type": "Alert",
				"for_user": user,
				"from_user": "Administrator",
				"document_type": RUN,
				"document_name": doc.name,
				"read": 0,
			}
			for user in users
			if user not in ("Administrator", "Guest")
		],
		{"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now},
	)
