"""Demo: a churn model trained, validated and activated on the demo's own history, then the
nightly scoring, so that an RM sees scores, reasons and a need signal on the workbench.

The demo's leavers (``generator.snapshot_pattern`` "churn") slide slowly for three months and
stop using the app (``demo.insight``) before their balance falls sharply in the last two: the
model learns from the slide and the silence, which the Churn Risk rule (30 % in 90 days) does not
see yet. The as-of dates fall just before the sharp fall, within the six months of history. A
modeller trains it; a second CRM Administrator approves it (never the trainer). The figures it
reaches are those of synthetic data, not of a bank.
"""

from __future__ import annotations

from datetime import date, timedelta

from bank_crm.demo import generator
from bank_crm.demo.base import CUSTOMER_PREFIX, DEMO_DOMAIN

MODEL_NAME = "流失预警模型（演示）"
WEALTH_MODEL_NAME = "理财倾向模型（演示）"
MODELLER = generator.Staff(f"modeller@{DEMO_DOMAIN}", "模型开发", "CRM Administrator", "0101")
APPROVER = generator.Staff(f"model-risk@{DEMO_DOMAIN}", "模型验证", "CRM Administrator", "0101")


def dates(today: date, months: int = 6) -> tuple[list[date], date, int]:
	"""Training as-of dates, the validation date and the horizon: just after the month-end before
	the leavers' fall, each horizon covering the fall and over by ``today``."""
	month_ends = generator.month_ends(today, months)
	before_fall = month_ends[-3]
	horizon = max(30, min(60, (today - before_fall).days - 4))
	return (
		[before_fall + timedelta(days=1), before_fall + timedelta(days=2)],
		before_fall + timedelta(days=3),
		horizon,
	)


def load(today: date | None = None) -> dict:
	"""The demo's churn model and wealth propensity model, each trained by the modeller and
	activated by the model-risk approver when it passed its gate; then one scoring run."""
	import frappe
	from frappe.utils import getdate

	from bank_crm.bank_insight import prediction_scoring
	from bank_crm.demo.staff import make_user

	today = getdate(today) if today else getdate()
	for person in (MODELLER, APPROVER):
		make_user(person)
	out = {
		"churn": _model(
			today,
			MODEL_NAME,
			{"kind": "Churn", "drop_share": 50},
			"找出可能流失的客户，供客户经理提前维护（演示数据）",
		),
		"wealth": _model(
			today,
			WEALTH_MODEL_NAME,
			{"kind": "Product Propensity", "product_category": "Wealth"},
			"找出近期可能购买理财产品的客户，由客户经理按适当性推荐（演示数据）",
		),
	}
	if any(m["status"] == "Active" for m in out.values()):
		out["scoring_run"] = prediction_scoring.run_scoring(today)
		for key, rule in (("churn", "Predicted Churn"), ("wealth", "Predicted Wealth Need")):
			out[key]["signals"] = frappe.db.count(
				"Bank Need Signal", {"rule": rule, "customer": ("like", CUSTOMER_PREFIX + "%")}
			)
	frappe.db.commit()
	return out


def _model(today: date, name: str, target: dict, purpose: str) -> dict:
	import frappe
	from frappe.model.workflow import apply_workflow

	from bank_crm.bank_insight import prediction_models

	training, validation, horizon = dates(today)
	user = frappe.session.user
	try:
		frappe.set_user(MODELLER.email)
		model = frappe.get_doc(
			{
				"doctype": "Bank Prediction Model",
				"model_name": name,
				**target,
				"horizon_days": horizon,
				"training_dates": "\n".join(str(d) for d in training),
				"validation_date": validation,
				"rounds": 100,
				"num_leaves": 15,
				"purpose": purpose,
			}
		).insert(ignore_permissions=True)
		frappe.db.commit()
		try:
			prediction_models.train_and_validate(model.name)
		except Exception as e:  # a small demo may lack one of the outcomes: say so, load the rest
			frappe.db.rollback()
			return {"model": model.name, "status": "Draft", "error": str(e)[:200]}
		model.reload()
		if model.status == "Validated":
			apply_workflow(model, "Request Activation")
			frappe.set_user(APPROVER.email)
			apply_workflow(frappe.get_doc("Bank Prediction Model", model.name), "Approve")
			frappe.db.commit()
	finally:
		frappe.set_user(user)
	model.reload()
	return {"model": model.name, "status": model.status, "roc_auc": model.roc_auc, "gate": model.gate_reason}


def clear() -> dict:
	import frappe

	from bank_crm.utils.traces import remove_traces

	if not frappe.db.table_exists("Bank Prediction Model"):
		return {}
	models = frappe.get_all(
		"Bank Prediction Model", filters={"model_name": ("in", [MODEL_NAME, WEALTH_MODEL_NAME])}, pluck="name"
	)
	runs = [
		r.name
		for r in frappe.get_all("Bank Prediction Run", fields=["name", "models"])
		if set((r.models or "").split()) & set(models)
	]
	frappe.db.delete("Bank Job Shard", {"parenttype": "Bank Prediction Run", "parent": ("in", runs or [""])})
	frappe.db.delete("Bank Prediction Run", {"name": ("in", runs or [""])})
	remove_traces(["Bank Prediction Run"], runs)
	frappe.db.delete("Bank Prediction Score", {"customer": ("like", CUSTOMER_PREFIX + "%")})
	frappe.db.delete("Bank Prediction Model", {"name": ("in", models or [""])})
	remove_traces(["Bank Prediction Model"], models)
	frappe.db.commit()
	return {"models": len(models), "runs": len(runs)}
