# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

"""A predictive model as a versioned record (预测模型): what it predicts, how it is trained, the
trained file with its hash, its out-of-time validation, and who activated it.

Training and validation run as one job on the long queue (``bank_insight.prediction_models``),
which moves the status Draft → Trained → Validated. Activation goes through the Workflow *Bank
Prediction Model Activation* (Validated → Pending Activation → Active); the server refuses it
unless the model passed its validation gate and the approver is not the person who trained it.
An activated model retires the one of the same kind (and product category) that was active.
"""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import add_days, getdate, now_datetime, today

from bank_crm.utils.validation import BankCRMValidationError, field_label

TRAINING_FIELDS = (
	"kind",
	"product_category",
	"horizon_days",
	"drop_share",
	"training_dates",
	"validation_date",
	"max_rows_per_date",
	"rounds",
	"learning_rate",
	"num_leaves",
	"seed",
)


class ActivationError(frappe.PermissionError):
	pass


class BankPredictionModel(Document):
	def feature_labels(self) -> list[str]:
		"""The model's features in the reader's language (the model card)."""
		from bank_crm.core.prediction_features import LABELS

		return [_(LABELS.get(name, name)) for name in (self.feature_names or "").split()]

	def validation_report(self) -> dict:
		"""The stored out-of-time report (the model card)."""
		return frappe.parse_json(self.validation or "{}") or {}

	def before_insert(self):
		self.status = "Draft"
		self.version = (
			frappe.db.sql(
				"select max(version) from `tabBank Prediction Model` where kind = %s and ifnull(product_category, '') = %s",
				(self.kind, self.product_category or ""),
			)[0][0]
			or 0
		) + 1

	def validate(self):
		self.check_target()
		self.check_dates()
		self.check_settings_frozen()
		self.check_activation()

	def check_target(self):
		if self.kind != "Product Propensity":
			self.product_category = None
		elif not self.product_category:
			_refuse(self, "product_category", _("a propensity model predicts one product category"))
		if not self.horizon_days or self.horizon_days < 7 or self.horizon_days > 730:
			_refuse(self, "horizon_days", _("must be between 7 and 730 days"))
		if self.kind == "Churn" and not (0 < (self.drop_share or 0) <= 100):
			_refuse(self, "drop_share", _("must be above 0 and at most 100"))

	def training_as_of_dates(self) -> list:
		dates = []
		for line in (self.training_dates or "").split():
			try:
				dates.append(getdate(line.strip()))
			except Exception:
				_refuse(self, "training_dates", _("{0} is not a date (YYYY-MM-DD)").format(line))
		return sorted(set(dates))

	def check_dates(self):
		dates = self.training_as_of_dates()
		if not dates:
			_refuse(self, "training_dates", _("give at least one as-of date"))
		validation = getdate(self.validation_date) if self.validation_date else None
		if not validation or validation <= dates[-1]:
			_refuse(self, "validation_date", _("must come after every training date (an out-of-time test)"))
		if add_days(validation, self.horizon_days) > getdate(today()):
			_refuse(
				self,
				"validation_date",
				_("its horizon has not passed yet: the outcome is known from {0}").format(
					add_days(validation, self.horizon_days)
				),
			)

	def check_settings_frozen(self):
		if self.is_new() or self.status == "Draft":
			return
		for field in TRAINING_FIELDS:
			if self.has_value_changed(field):
				_refuse(
					self, field, _("a trained model keeps its settings: make a new version to change them")
				)

	def check_activation(self):
		if self.is_new() or not self.has_value_changed("status"):
			return
		if self.status == "Active":
			if not self.passes:
				frappe.throw(
					_("The model did not pass its validation; it cannot be activated."), ActivationError
				)
			if frappe.session.user == self.trained_by:
				frappe.throw(
					_(
						"The person who trained a model may not activate it: another CRM Administrator approves."
					),
					ActivationError,
				)
			self.activated_by = frappe.session.user
			self.activated_on = now_datetime()
		elif self.status == "Retired":
			self.retired_on = now_datetime()

	def on_update(self):
		if self.status == "Active" and self.has_value_changed("status"):
			for other in frappe.get_all(
				self.doctype,
				filters={
					"status": "Active",
					"kind": self.kind,
					"product_category": self.product_category or ("is", "not set"),
					"name": ("!=", self.name),
				},
				pluck="name",
			):
				frappe.db.set_value(self.doctype, other, {"status": "Retired", "retired_on": now_datetime()})


def _refuse(doc, field: str, reason: str):
	"""'<field label>: <reason>' in the user's language; nothing is saved."""
	label = field_label(doc.meta, field)
	frappe.throw(
		_("{0}: {1}").format(label, reason), BankCRMValidationError, title=_("Invalid {0}").format(label)
	)
