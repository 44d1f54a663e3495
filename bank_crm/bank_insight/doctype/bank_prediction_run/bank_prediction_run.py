# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import json

from frappe import _
from frappe.model.document import Document

from bank_crm.core.prediction_features import LABELS


class BankPredictionRun(Document):
	"""One nightly scoring run of every customer by the active models, in key-range shards, with its drift."""

	def onload(self):
		"""The drift per feature for the form: label, index and whether it moved materially,
		largest first (the raw JSON stays in ``drift`` for the API)."""
		drift = json.loads(self.drift or "{}")
		shifted = set(drift.get("shifted_features") or ())
		rows = sorted((drift.get("features") or {}).items(), key=lambda kv: -kv[1])
		self.set_onload(
			"drift_rows",
			[{"feature": _(LABELS.get(k, k)), "psi": v, "shifted": k in shifted} for k, v in rows],
		)
