"""What the prediction engine stores as keys with values, in the reader's language: the churn
reasons (``core.reasons`` keys) and the likely next products (categories with propensities).
The customer-360, the profile form and the data-subject explanation read them through here."""

from __future__ import annotations

import frappe
from frappe import _

from bank_crm.core import reasons


def churn_reasons(stored: str | None, lang: str | None = None) -> list[str]:
	"""The stored top reasons of a churn score as sentences."""
	rows = frappe.parse_json(stored or "[]") or []
	return [reasons.render(reasons.Reason.from_dict(r), lambda s: _(s, lang=lang)) for r in rows]


def likely_products(scores_json: str | None, lang: str | None = None, n: int = 2) -> str | None:
	"""The ``n`` likeliest next product categories with their propensities."""
	scores = frappe.parse_json(scores_json or "{}") or {}
	top = sorted(scores.items(), key=lambda kv: -kv[1])[:n]
	return ", ".join(f"{_(category, lang=lang)} {100 * score:.0f}%" for category, score in top) or None
