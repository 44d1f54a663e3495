"""Reasons (预测原因): why a customer got their churn or product score, stored language-free.

A ``Reason`` is a key of ``REASONS`` with named values and the weight of its feature, stored as
JSON (``to_dict`` / ``from_dict``) and rendered only when read: ``render`` looks up the
English template, passes it through the caller's ``translate`` (the Frappe layer passes
``lambda s: frappe._(s, lang=…)``) and fills in the values, formatted by their name:

- ``pct`` — a percentage (42.5 for 42.5 %), rounded to one decimal, ".0" dropped;
- ``count``, ``days``, ``months``, ``years`` — whole numbers;
- ``amount`` — a whole number with thousands separators;
- anything else — as it is (a float to at most two decimals).

Rendering never raises on stored data: an unknown key renders as the key itself, a missing
value leaves its ``{placeholder}`` showing, and a translation that cannot be filled in falls
back to the English template.

``top_reasons`` turns a model's per-feature contributions into the few reasons worth showing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

REASONS: dict[str, str] = {
	# churn
	"balance_fell": "Balance fell {pct}% in {days} days",
	"aum_fell": "Wealth holdings fell {pct}% in {days} days",
	"outflows_other_banks": "{count} transfers to other banks in the last {days} days",
	"no_app_login": "No mobile-banking login in the last {days} days",
	"logins_fell": "Mobile-banking logins fell {pct}% in {days} days",
	"complaints": "{count} complaint(s) in the last {days} days",
	"salary_stopped": "No salary credited in the last {days} days",
	"products_closed": "Closed {count} product(s) in the last {days} days",
	"no_rm_contact": "No contact from the relationship manager in the last {days} days",
	"maturity_soon": "A product matures within {days} days",
	"tenure_short": "Customer for only {months} months",
	"products_few": "Holds only {count} product(s)",
	# product propensity
	"salary_credits": "Salary credited {count} times in the last {days} days",
	"fx_queries": "{count} FX-rate queries in the last {days} days",
	"balance_rose": "Balance rose {pct}% in {days} days",
	"idle_cash": "Current-account balance averaged {amount} over the last {days} days",
	"card_spend_rose": "Card spending rose {pct}% in {days} days",
	"product_viewed": "Viewed this product {count} times in the last {days} days",
	"peers_hold": "{pct}% of similar customers hold this product",
}
WHOLE_NUMBERS = frozenset({"count", "days", "months", "years"})


def _pairs(values: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
	"""Values as (name, value) pairs sorted by name."""
	items = values.items() if isinstance(values, Mapping) else values
	return tuple(sorted(((str(k), v) for k, v in items), key=lambda kv: kv[0]))


@dataclass(frozen=True)
class Reason:
	key: str
	values: tuple[tuple[str, Any], ...] = field(default=())  # (name, value), sorted by name
	weight: float = 0.0  # the feature's contribution toward the predicted outcome

	def __post_init__(self):
		object.__setattr__(self, "values", _pairs(self.values))
		object.__setattr__(self, "weight", float(self.weight))

	def to_dict(self) -> dict:
		"""The reason as a JSON-ready dict: key, values (name → value), weight."""
		return {"key": self.key, "values": dict(self.values), "weight": self.weight}

	@classmethod
	def from_dict(cls, data: Mapping) -> Reason:
		"""The reason stored by ``to_dict``."""
		return cls(str(data["key"]), data.get("values") or {}, data.get("weight") or 0.0)


def _trimmed(value: float, decimals: int) -> str:
	"""A number rounded to ``decimals``, without trailing zeros."""
	text = f"{round(value, decimals):.{decimals}f}"
	text = text.rstrip("0").rstrip(".") if "." in text else text
	return "0" if text == "-0" else text


def format_value(name: str, value: Any) -> str:
	"""One value as shown in a sentence, formatted by its placeholder's name."""
	if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
		return str(value)
	if name == "pct":
		return _trimmed(value, 1)
	if name in WHOLE_NUMBERS:
		return str(round(value))
	if name == "amount":
		return f"{round(value):,}"
	return _trimmed(value, 2)


class _Filled(dict):
	"""Placeholder values; a missing one shows as itself."""

	def __missing__(self, name):
		return "{" + name + "}"


def fill(template: str, values: Mapping[str, Any]) -> str:
	"""The template with its named placeholders filled in; raises if the template is malformed."""
	return template.format_map(_Filled({k: format_value(k, v) for k, v in values.items()}))


def render(reason: Reason, translate: Callable[[str], str] = lambda s: s) -> str:
	"""The reason as a sentence in the reader's language; unknown keys render as the key."""
	template = REASONS.get(reason.key)
	if template is None:
		return reason.key
	values = dict(reason.values)
	translated = translate(template)
	for candidate in (translated, template):
		if isinstance(candidate, str) and candidate:
			try:
				return fill(candidate, values)
			except (ValueError, IndexError, KeyError, AttributeError, TypeError):
				continue
	return reason.key


def top_reasons(
	contributions: Mapping[str, float],
	describe: Callable[[str], tuple[str, Mapping[str, Any]] | None],
	n: int = 3,
) -> list[Reason]:
	"""Up to ``n`` reasons from the largest positive contributions, largest first.

	``describe(feature)`` gives the feature's (reason key, values), or None for a feature with
	no sentence, which is skipped for the next one. Zero, negative and non-finite
	contributions are ignored; a reason equal to one already taken (same key and values) is
	not repeated. Equal contributions: the feature first by name comes first.
	"""
	ranked = sorted(
		(
			(name, float(c))
			for name, c in contributions.items()
			if c is not None and math.isfinite(c) and c > 0
		),
		key=lambda fc: (-fc[1], fc[0]),
	)
	out: list[Reason] = []
	for feature, contribution in ranked:
		if len(out) >= n:
			break
		described = describe(feature)
		if described is None:
			continue
		key, values = described
		reason = Reason(key, values, contribution)
		if any(r.key == reason.key and r.values == reason.values for r in out):
			continue
		out.append(reason)
	return out
