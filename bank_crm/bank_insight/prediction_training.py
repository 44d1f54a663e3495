"""Training sets, training and out-of-time validation of churn and product-propensity models.

A training set is the site's customers as of some past dates: their features from
``prediction_data`` (what was known before each date) and their label from what happened in the
horizon after it (``core.prediction_labels``). Customers whose relationship had ended by the
as-of date are left out; so, for a product category, are those who already held it.

Training uses LightGBM (gradient-boosted trees), seeded and single-threaded-deterministic, so
that the same data give the same model. Validation is out of time: the model trained on the
earlier dates is tested on a later one whose horizon has passed, beside two baselines (a
logistic regression on the same features; for churn, today's Churn Risk rule), with the metrics
of ``core.model_metrics`` and the same metrics per gender and age band.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from datetime import date, timedelta

import frappe

from bank_crm.bank_insight import prediction_data
from bank_crm.core import model_metrics, prediction_labels
from bank_crm.core import prediction_features as pf
from bank_crm.utils.bulk import in_list

CHURN = "Churn"
PROPENSITY = "Product Propensity"
CHURN_RISK_STAGE = pf.STAGE_RANK["Churn Risk"]
FLAG_SHARE = 0.1  # fairness: the share of customers a model flags (its top decile)


@dataclass(frozen=True)
class Target:
	"""What a model predicts: churn within ``horizon_days`` (the relationship ends, or the total
	balance falls by ``drop_share``), or a holding of ``category`` opened within them."""

	kind: str
	horizon_days: int
	drop_share: float = 0.5
	category: str | None = None


@dataclass
class Dataset:
	x: list[list[float]] = field(default_factory=list)
	y: list[int] = field(default_factory=list)
	gender: list[str] = field(default_factory=list)
	age_band: list[str] = field(default_factory=list)
	customers: list[str] = field(default_factory=list)

	def extend(self, other: Dataset):
		for name in ("x", "y", "gender", "age_band", "customers"):
			getattr(self, name).extend(getattr(other, name))


def dataset(target: Target, as_of: date, batch: int = 20_000, limit: int | None = None) -> Dataset:
	"""The customers as of ``as_of`` with their features and labels (at most ``limit``)."""
	out = Dataset()
	after = ""
	while rows := prediction_data.read_batch(as_of, after=after, limit=batch):
		after = rows[-1][0].profile
		out.extend(_labelled(target, as_of, rows))
		if limit and len(out.y) >= limit:
			break
	return out


def _labelled(target: Target, as_of: date, rows) -> Dataset:
	customers = [p.customer for p, _a in rows]
	facts = _outcome_facts(target, as_of, customers)
	out = Dataset()
	for person, agg in rows:
		if not prediction_labels.customer_on(as_of, person.relationship_since):
			continue  # not a customer yet on the as-of date: nothing was known of them
		if target.kind != CHURN and target.category in agg.held:
			continue  # "next product": customers who do not hold the category yet
		before = agg.deposit + agg.aum if agg.has_snapshot else None
		label = _label(target, as_of, person.customer, before, facts)
		if label is None:
			continue  # no longer a customer on the as-of date
		out.x.append(array("d", pf.derive(agg)))  # a third of a list's memory: 1 M rows fit
		out.y.append(label)
		out.gender.append(person.gender or "Unknown")
		out.age_band.append(model_metrics.age_band(person.date_of_birth, as_of))
		out.customers.append(person.customer)
	return out


def outcomes(target: Target, as_of: date, customers: list[str]) -> dict[str, int]:
	"""What became of ``customers`` in the horizon after ``as_of`` (1: the predicted outcome
	happened); customers who were no longer customers on the as-of date are left out."""
	facts = _outcome_facts(target, as_of, customers)
	before = dict(
		frappe.db.sql(
			f"""select c.customer, (select s.deposit_balance + s.aum from `tabBank Financial Snapshot` s
				where s.customer = c.customer and s.as_of_date < %s order by s.as_of_date desc limit 1)
			from (select distinct customer from `tab{prediction_data.PROFILE}` where customer in {in_list(customers)}) c""",
			(as_of,),
		)
	)
	out = {}
	for customer in customers:
		label = _label(target, as_of, customer, before.get(customer), facts)
		if label is not None:
			out[customer] = label
	return out


def _outcome_facts(target: Target, as_of: date, customers: list[str]) -> dict:
	"""What the labels read of the horizon after ``as_of``, for a batch of customers."""
	names = in_list(customers or [""])
	end = prediction_labels.horizon_end(as_of, target.horizon_days)
	facts = {
		"ended": dict(
			frappe.db.sql(
				f"""select customer, relationship_ended_on from `tab{prediction_data.PROFILE}`
				where customer in {names} and relationship_ended_on is not null"""
			)
		)
	}
	if target.kind == CHURN:
		facts["lowest"] = dict(
			frappe.db.sql(
				f"""select customer, min(deposit_balance + aum) from `tabBank Financial Snapshot`
				where customer in {names} and as_of_date > %s and as_of_date <= %s group by customer""",
				(as_of, end),
			)
		)
	else:
		openings: dict[str, list] = {}
		for customer, on, category in frappe.db.sql(
			f"""select h.customer, h.opened_on, p.category from `tabBank Product Holding` h
			join `tabBank Product` p on p.name = h.product
			where h.customer in {names} and h.opened_on > %s and h.opened_on <= %s""",
			(as_of, end),
		):
			openings.setdefault(customer, []).append((on, category))
		facts["openings"] = openings
	return facts


def _label(target: Target, as_of: date, customer: str, before: float | None, facts: dict) -> int | None:
	ended_on = facts["ended"].get(customer)
	if ended_on and ended_on <= as_of:
		return None
	if target.kind == CHURN:
		low = facts["lowest"].get(customer)
		return int(
			prediction_labels.churned(
				as_of,
				target.horizon_days,
				ended_on,
				before,
				[(as_of + timedelta(days=1), float(low))] if low is not None else [],
				target.drop_share,
			)
		)
	return int(
		prediction_labels.opened_category(
			as_of, target.horizon_days, facts["openings"].get(customer, []), target.category
		)
	)


# -- models -----------------------------------------------------------------------------------
DEFAULT_PARAMS = {
	"objective": "binary",
	"learning_rate": 0.05,
	"num_leaves": 31,
	"min_data_in_leaf": 50,
	"feature_fraction": 0.9,
	"bagging_fraction": 0.8,
	"bagging_freq": 1,
	"verbose": -1,
}


def train(data: Dataset, rounds: int = 200, seed: int = 42, params: dict | None = None):
	"""A LightGBM booster, reproducible for the same data and seed."""
	import lightgbm as lgb
	import numpy as np

	settings = {
		**DEFAULT_PARAMS,
		**(params or {}),
		"seed": seed,
		"deterministic": True,
		"force_row_wise": True,
		"num_threads": 2,
	}
	train_set = lgb.Dataset(
		np.asarray(data.x, dtype=np.float64), label=np.asarray(data.y), feature_name=list(pf.FEATURES)
	)
	return lgb.train(settings, train_set, num_boost_round=rounds)


def predict(booster, x: list[list[float]]) -> list[float]:
	import numpy as np

	return [float(p) for p in booster.predict(np.asarray(x, dtype=np.float64))]


def contributions(booster, x: list[list[float]]) -> list[dict[str, float]]:
	"""Per customer, each feature's contribution to the score's log-odds (TreeSHAP)."""
	import numpy as np

	values = booster.predict(np.asarray(x, dtype=np.float64), pred_contrib=True)
	return [dict(zip(pf.FEATURES, row[:-1], strict=True)) for row in values]


def logistic_baseline(train_data: Dataset, test_x: list[list[float]]) -> list[float]:
	"""A logistic regression on the same (standardised) features."""
	import numpy as np
	from sklearn.linear_model import LogisticRegression
	from sklearn.pipeline import make_pipeline
	from sklearn.preprocessing import StandardScaler

	model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
	model.fit(np.asarray(train_data.x), np.asarray(train_data.y))
	return [float(p) for p in model.predict_proba(np.asarray(test_x))[:, 1]]


def rule_baseline(x: list[list[float]]) -> list[float]:
	"""Today's rule: a customer in the Churn Risk stage is flagged."""
	stage = pf.FEATURES.index("stage_rank")
	return [1.0 if row[stage] == CHURN_RISK_STAGE else 0.0 for row in x]


def metrics(y: list[int], p: list[float]) -> dict:
	"""The validation metrics of one set of scores (None where the data cannot give one)."""
	out: dict = {"rows": len(y), "positives": sum(y)}
	if not y or 0 < sum(y) < len(y):
		out["roc_auc"] = round(model_metrics.roc_auc(y, p), 4) if y else None
		out["pr_auc"] = round(model_metrics.pr_auc(y, p), 4) if y else None
		lift, capture = model_metrics.lift_and_capture(y, p, FLAG_SHARE) if y else (None, None)
		out.update(lift_top_decile=_round(lift), capture_top_decile=_round(capture))
	out["brier"] = round(model_metrics.brier(y, p), 5) if y else None
	return out


def _round(value):
	return None if value is None or not math.isfinite(value) else round(value, 4)
