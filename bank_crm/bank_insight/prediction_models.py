"""Training and validating a *Bank Prediction Model* (a job on the long queue, never in a request).

``enqueue_training`` queues ``train_and_validate`` for a model in Draft. The job builds the
training set over the model's as-of dates (``prediction_training``), trains LightGBM with the
model's seed, stores the model as a private File with its SHA-256 on the record (Trained), then
tests it out of time on the validation date beside the baselines and per gender and age band.
It passes the gate — and becomes Validated, ready for activation by someone else — when it
beats every baseline's ROC AUC and the largest gap in the share of customers flagged between
genders or age bands stays within the model's bound.
"""

from __future__ import annotations

import hashlib
import json
import time

import frappe
from frappe import _
from frappe.utils import flt, now_datetime

from bank_crm.bank_insight import prediction_training as training
from bank_crm.core import model_metrics
from bank_crm.core import prediction_features as pf

MODEL = "Bank Prediction Model"
REFERENCE_ROWS = 500
MIN_GROUP = 30  # groups smaller than this are shown, but not held to the fairness bound
BASELINE_LABELS = {"logistic_regression": "Logistic Regression", "churn_risk_rule": "Churn Risk Rule"}
GROUP_LABELS = {"gender": "Genders", "age_band": "Age Bands"}


def enqueue_training(model: str) -> str:
	frappe.enqueue(
		"bank_crm.bank_insight.prediction_models.train_and_validate",
		queue="long",
		timeout=3 * 3600,
		job_id=f"bank_crm_train_model::{model}",
		deduplicate=True,
		enqueue_after_commit=True,
		model=model,
	)
	return model


def target_of(doc) -> training.Target:
	return training.Target(
		kind=training.CHURN if doc.kind == "Churn" else training.PROPENSITY,
		horizon_days=int(doc.horizon_days),
		drop_share=flt(doc.drop_share) / 100 or 0.5,
		category=doc.product_category or None,
	)


def train_and_validate(model: str) -> dict:
	"""Train, store and validate ``model``; returns the validation report."""
	doc = frappe.get_doc(MODEL, model)
	try:
		booster, train_data = _train(doc)
		report = validate(doc, booster, train_data)
	except Exception:
		frappe.db.rollback()
		frappe.log_error(title=_("Training of model {0} failed").format(model))
		frappe.db.set_value(MODEL, model, "error_log", frappe.get_traceback()[-4000:])
		frappe.db.commit()
		raise
	return report


def _train(doc):
	started = time.monotonic()
	target = target_of(doc)
	data = training.Dataset()
	for as_of in doc.training_as_of_dates():
		data.extend(training.dataset(target, as_of, limit=doc.max_rows_per_date or None))
	positives = sum(data.y)
	if not data.y or positives in (0, len(data.y)):
		frappe.throw(
			_("The training dates give {0} rows of which {1} positive: a model needs both outcomes.").format(
				len(data.y), positives
			)
		)
	booster = training.train(
		data,
		rounds=doc.rounds or 200,
		seed=doc.seed or 0,
		params={"learning_rate": flt(doc.learning_rate) or 0.05, "num_leaves": doc.num_leaves or 31},
	)
	text = booster.model_to_string()
	digest = hashlib.sha256(text.encode()).hexdigest()
	for old in frappe.get_all(
		"File", filters={"attached_to_doctype": MODEL, "attached_to_name": doc.name}, pluck="name"
	):
		frappe.delete_doc("File", old, ignore_permissions=True)
	file = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{doc.name}-{digest[:12]}.txt",
			"attached_to_doctype": MODEL,
			"attached_to_name": doc.name,
			"attached_to_field": "model_file",
			"is_private": 1,
			"content": text,
		}
	).insert(ignore_permissions=True)
	frappe.db.set_value(
		MODEL,
		doc.name,
		{
			"status": "Trained",
			"trained_by": frappe.session.user,  # the job runs as the user who queued it
			"trained_on": now_datetime(),
			"training_rows": len(data.y),
			"training_positives": positives,
			"model_file": file.file_url,
			"model_hash": digest,
			"feature_names": "\n".join(pf.FEATURES),
			"reference_sample": json.dumps(reference_sample(booster, data)),
			"training_seconds": round(time.monotonic() - started, 2),
			"error_log": None,
		},
	)
	frappe.db.commit()
	return booster, data


def reference_sample(booster, data: training.Dataset, size: int = REFERENCE_ROWS) -> dict:
	"""Every k-th training row's features and score: what the nightly runs' drift is measured against."""
	step = max(1, len(data.x) // size)
	rows = data.x[::step][:size]
	return {
		"scores": [round(s, 6) for s in training.predict(booster, rows)],
		"features": [list(r) for r in rows],
	}


def load(doc):
	"""The stored booster of a trained model, after checking its file against the recorded hash."""
	import lightgbm as lgb

	file = frappe.get_doc("File", {"file_url": doc.model_file, "attached_to_name": doc.name})
	text = file.get_content()
	text = text.decode() if isinstance(text, bytes) else text
	if hashlib.sha256(text.encode()).hexdigest() != doc.model_hash:
		frappe.throw(_("The file of model {0} does not match its recorded hash.").format(doc.name))
	return lgb.Booster(model_str=text)


def validate(doc, booster, train_data: training.Dataset) -> dict:
	"""The out-of-time test: metrics beside the baselines, calibration, fairness, and the gate."""
	test = training.dataset(target_of(doc), doc.validation_date, limit=doc.max_rows_per_date or None)
	if not test.y or sum(test.y) in (0, len(test.y)):
		frappe.throw(_("The validation date gives no rows with both outcomes; choose another date."))
	scores = training.predict(booster, test.x)
	baselines = {"logistic_regression": training.logistic_baseline(train_data, test.x)}
	if doc.kind == "Churn":
		baselines["churn_risk_rule"] = training.rule_baseline(test.x)
	report = {
		"rows": len(test.y),
		"positives": sum(test.y),
		"model": training.metrics(test.y, scores),
		"baselines": {name: training.metrics(test.y, p) for name, p in baselines.items()},
		"calibration": [list(b) for b in model_metrics.calibration_bins(test.y, scores)],
		"fairness": fairness(test, scores),
	}
	passes, reasons = gate(report, flt(doc.max_fairness_gap) / 100)
	report["gate"] = {"passes": passes, "reasons": reasons}
	best_baseline = max((m.get("roc_auc") or 0 for m in report["baselines"].values()), default=0)
	frappe.db.set_value(
		MODEL,
		doc.name,
		{
			"status": "Validated" if passes else "Trained",
			"validated_on": now_datetime(),
			"passes": int(passes),
			"gate_reason": "\n".join(reasons) or None,
			"roc_auc": report["model"].get("roc_auc"),
			"baseline_roc_auc": best_baseline,
			"fairness_gap": 100
			* max((g["gap"] for g in report["fairness"].values() if g["gap"] is not None), default=0),
			"validation": json.dumps(report, ensure_ascii=False, indent=1, default=str),
		},
	)
	frappe.db.commit()
	return report


def fairness(test: training.Dataset, scores: list[float]) -> dict:
	"""Per gender and per age band: the metrics and the share flagged (the top decile overall),
	with the largest gap in the share flagged."""
	ranked = sorted(scores, reverse=True)
	threshold = ranked[max(0, model_metrics.top_count(len(scores), training.FLAG_SHARE) - 1)]
	out = {}
	for name, groups in (("gender", test.gender), ("age_band", test.age_band)):
		per_group = model_metrics.fairness(test.y, scores, groups, threshold)
		gap = model_metrics.largest_gap(per_group, "flagged_share", min_count=MIN_GROUP)
		out[name] = {
			"groups": {str(g): m.to_dict() for g, m in sorted(per_group.items(), key=lambda kv: str(kv[0]))},
			"largest_gap_between": [str(gap.high), str(gap.low)] if gap else None,
			"gap": round(gap.gap, 4) if gap else None,
		}
	return out


def gate(report: dict, bound: float) -> tuple[bool, list[str]]:
	"""Whether the model may be activated, and why not (in the language of the user who trained it)."""
	reasons = []
	auc = report["model"].get("roc_auc") or 0
	for name, metrics in report["baselines"].items():
		if (metrics.get("roc_auc") or 0) >= auc:
			reasons.append(
				_("ROC AUC {0} does not beat the baseline {1} ({2}).").format(
					auc, _(BASELINE_LABELS.get(name, name)), metrics.get("roc_auc")
				)
			)
	for name, f in report["fairness"].items():
		if f["gap"] is not None and f["gap"] > bound:
			reasons.append(
				_(
					"The share of customers flagged differs by {0} between {1}, above the bound of {2}."
				).format(f"{f['gap']:.1%}", _(GROUP_LABELS.get(name, name)), f"{bound:.1%}")
			)
	return not reasons, reasons
