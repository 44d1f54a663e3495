# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

"""Prediction Outcomes (预测结果回溯): how the customers a model scored on a day actually behaved,
once its horizon has passed — per band, the customers, the share of them for whom the predicted
outcome happened, and for the model the realised ROC AUC and the hit rate of the High band.

Each customer's score on the day is their latest *Bank Prediction Score* up to it (scores are
written only when they change); the outcome is read as the training labels are
(``prediction_training.outcomes``). The scores are read by the list's rules: a branch manager sees
the branch's customers.
"""

import frappe
from frappe import _
from frappe.utils import add_days, getdate, today

from bank_crm.bank_insight import prediction_models, prediction_training
from bank_crm.core import model_metrics

BANDS = ("High", "Medium", "Low")


def execute(filters=None):
	filters = frappe._dict(filters or {})
	if not filters.model or not filters.scored_on:
		return _columns(), [], None, None, _summary_empty()
	model = frappe.get_doc("Bank Prediction Model", filters.model)
	model.check_permission("read")
	day = getdate(filters.scored_on)
	if add_days(day, model.horizon_days) > getdate(today()):
		frappe.throw(
			_("The outcome of scores of {0} is known from {1}, when the model's horizon has passed.").format(
				day, add_days(day, model.horizon_days)
			)
		)
	scores = _latest_scores(model.name, day)
	outcome = prediction_training.outcomes(prediction_models.target_of(model), day, list(scores))
	rows = _rows(scores, outcome)
	return _columns(), rows, None, _chart(rows), _summary(scores, outcome)


def _latest_scores(model: str, day) -> dict[str, tuple[float, str]]:
	"""customer → (probability, band) of the latest score up to ``day`` the user may read."""
	out = {}
	for r in frappe.get_list(
		"Bank Prediction Score",
		filters={"model": model, "scored_on": ("<=", day)},
		fields=["customer", "probability", "band", "scored_on"],
		order_by="scored_on asc",
		limit_page_length=0,
	):
		out[r.customer] = (float(r.probability or 0) / 100, r.band or "")
	return out


def _rows(scores: dict, outcome: dict) -> list[dict]:
	rows = []
	for band in BANDS:
		members = [c for c, (_p, b) in scores.items() if b == band and c in outcome]
		if members:
			happened = sum(outcome[c] for c in members)
			rows.append(
				{
					"band": _(band),
					"customers": len(members),
					"happened": happened,
					"rate": round(100 * happened / len(members), 1),
					"mean_probability": round(100 * sum(scores[c][0] for c in members) / len(members), 1),
				}
			)
	return rows


def _summary(scores: dict, outcome: dict) -> list[dict]:
	known = [c for c in scores if c in outcome]
	y = [outcome[c] for c in known]
	p = [scores[c][0] for c in known]
	auc = round(model_metrics.roc_auc(y, p), 4) if y and 0 < sum(y) < len(y) else None
	high = [c for c in known if scores[c][1] == "High"]
	hit = round(100 * sum(outcome[c] for c in high) / len(high), 1) if high else None
	return [
		{"label": _("Customers"), "value": len(known), "datatype": "Int"},
		{"label": _("Realised ROC AUC"), "value": auc if auc is not None else "–", "datatype": "Data"},
		{
			"label": _("Hit Rate of the High Band (%)"),
			"value": hit if hit is not None else "–",
			"datatype": "Data",
		},
	]


def _summary_empty() -> list[dict]:
	return [{"label": _("Choose a model and a scoring day"), "value": "", "datatype": "Data"}]


def _chart(rows: list[dict]) -> dict | None:
	if not rows:
		return None
	return {
		"data": {
			"labels": [r["band"] for r in rows],
			"datasets": [
				{"name": _("Predicted (%)"), "values": [r["mean_probability"] for r in rows]},
				{"name": _("Happened (%)"), "values": [r["rate"] for r in rows]},
			],
		},
		"type": "bar",
	}


def _columns() -> list[dict]:
	return [
		{"fieldname": "band", "label": _("Band"), "fieldtype": "Data", "width": 120},
		{"fieldname": "customers", "label": _("Customers"), "fieldtype": "Int", "width": 110},
		{"fieldname": "mean_probability", "label": _("Predicted (%)"), "fieldtype": "Float", "width": 130},
		{"fieldname": "happened", "label": _("Outcome Happened"), "fieldtype": "Int", "width": 150},
		{"fieldname": "rate", "label": _("Happened (%)"), "fieldtype": "Float", "width": 130},
	]
