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
	customers = in_list([p.customer for p, _a in rows])
	ended = dict(
		frappe.db.sql(
			f"""select customer, relationship_ended_on from `tab{prediction_data.PROFILE}`
			where customer in {customers} and relationship_ended_on is not null"""
		)
	)
	end = prediction_labels.horizon_end(as_of, target.horizon_days)
	if target.kind == CHURN:
		lowest = dict(
			frappe.db.sql(
				f"""select customer, min(deposit_balance + aum) from `tabBank Financial Snapshot`
				where customer in {customers} and as_of_date > %s and as_of_date <= %s group by customer""",
				(as_of, end),
			)
		)
	else:
		opened = frappe.db.sql(
			f"""select h.customer, h.opened_on, p.category from `tabBank Product Holding` h
			join `tabBank Product` p on p.name = h.product
			where h.customer in {customers} and h.opened_on > %s and h.opened_on <= %s""",
			(as_of, end),
		)
		openings: dict[str, list] = {}
		for customer, on, category in opened:
			openings.setdefault(customer, []).append((on, category))
	out = Dataset()
	for person, agg in rows:
		ended_on = ended.get(person.customer)
		if ended_on and ended_on <= as_of:
			continue  # no longer a customer on the as-of date
		if target.kind == CHURN:
			before = agg.deposit + agg.aum if agg.has_snapshot else None
			low = lowest.get(person.customer)
			label = prediction_labels.churned(
				as_of,
				target.horizon_days,
				ended_on,
				before,
				[(as_of + timedelta(days=1), float(low))] if low is not None else [],
				target.drop_share,
			)
		else:
			if target.category in agg.held:
				continue  # "next product": customers who do not hold the category yet
			label = prediction_labels.opened_category(
				as_of, target.horizon_days, openings.get(person.customer, []), target.category
			)
		out.x.append(pf.derive(agg))
		out.y.append(int(label))
		out.gender.append(person.gender or "Unknown")
		out.age_band.append(model_metrics.age_band(person.date_of_birth, as_of))
		out.customers.append(person.customer)
	return out


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
