"""Financial snapshots pushed in by the core banking systems: row validation and comparison.

A snapshot is one customer's figures as of one date. Every row of a batch is checked on its
own; a bad row names its index, the field and the reason, and never stops the good rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from bank_crm.core import values
from bank_crm.core.values import MAX_AMOUNT

KEY = ("customer", "as_of_date")
AMOUNTS = ("deposit_balance", "loan_balance", "aum", "fee_income")
NON_NEGATIVE = ("deposit_balance", "loan_balance", "aum")
FIELDS = (*AMOUNTS, "composite_yield", "products_held")
OPTIONAL = ("source",)
MAX_PRODUCTS = 10_000
_EARLIEST = date(1900, 1, 1)


@dataclass(frozen=True)
class RowError:
	index: int
	field: str
	reason: str  # untranslated template
	args: tuple = ()


_ALLOWED = frozenset((*KEY, *FIELDS, *OPTIONAL))
_REQUIRED = frozenset((*KEY, *FIELDS))


def clean_row(index: int, row, today: date) -> tuple[dict | None, list[RowError]]:
	"""A validated, typed copy of one incoming row, or the reasons it is refused."""
	fast = _clean_fast(row, today)
	if fast is not None:
		return fast, []
	return _clean_slow(index, row, today)


def _clean_fast(row, today: date) -> dict | None:
	"""The common case in one pass; None sends the row to the slow path that names errors."""
	try:
		if not (_REQUIRED <= row.keys() <= _ALLOWED):
			return None
		customer, raw_date, source = row["customer"], row["as_of_date"], row.get("source")
		if type(raw_date) is not str or len(raw_date) != 10:
			return None
		as_of = date.fromisoformat(raw_date)
		d, lo, a, fee, y, p = (
			row["deposit_balance"],
			row["loan_balance"],
			row["aum"],
			row["fee_income"],
			row["composite_yield"],
			row["products_held"],
		)
		if not (
			type(customer) is str
			and customer.strip() == customer
			and 0 < len(customer) <= values.MAX_TEXT
			and "\x00" not in customer
			and _EARLIEST <= as_of <= today
			and (source is None or type(source) is str)
			and type(p) is int
			and 0 <= p <= MAX_PRODUCTS
			and all(type(v) in (int, float) for v in (d, lo, a, fee, y))
			and 0 <= d <= MAX_AMOUNT
			and 0 <= lo <= MAX_AMOUNT
			and 0 <= a <= MAX_AMOUNT
			and -MAX_AMOUNT <= fee <= MAX_AMOUNT
			and -100 <= y <= 100
		):
			return None
	except (AttributeError, KeyError, TypeError, ValueError):
		return None
	source = source.strip()[: values.MAX_TEXT] if source else None
	return {
		"customer": customer,
		"as_of_date": as_of,
		"deposit_balance": float(d),
		"loan_balance": float(lo),
		"aum": float(a),
		"fee_income": float(fee),
		"composite_yield": float(y),
		"products_held": p,
		"source": source or None,
	}


def _clean_slow(index: int, row, today: date) -> tuple[dict | None, list[RowError]]:
	"""Every reason a row is refused, whatever JSON values it carries; never raises."""
	if not isinstance(row, Mapping):
		return None, [RowError(index, "", "each row must be an object")]
	errors: list[RowError] = []
	out: dict = {}
	known = set(KEY) | set(FIELDS) | set(OPTIONAL)
	for name in sorted((k for k in row if k not in known), key=values.shown)[:20]:
		errors.append(RowError(index, values.shown(name), "is not a snapshot field"))
	customer, reason = values.text(row.get("customer"))
	if reason:
		errors.append(RowError(index, "customer", reason, (values.MAX_TEXT,)))
	else:
		out["customer"] = customer
	as_of, reason = values.iso_date(row.get("as_of_date"), latest=today)
	if reason:
		errors.append(RowError(index, "as_of_date", reason, (values.shown(row.get("as_of_date")),)))
	else:
		out["as_of_date"] = as_of
	for name in FIELDS:
		value = row.get(name)
		if name == "products_held":
			number, reason = values.whole(value, minimum=0, maximum=MAX_PRODUCTS)
		elif name == "composite_yield":
			number, reason = values.number(value, minimum=-100, maximum=100)
			if reason == values.OUT_OF_RANGE:
				reason = "must be a percentage between -100 and 100"
		else:
			number, reason = values.number(value, minimum=0 if name in NON_NEGATIVE else -MAX_AMOUNT)
		if reason:
			errors.append(RowError(index, name, reason))
		else:
			out[name] = number
	source, reason = values.text(row.get("source"), required=False)
	if reason == values.TOO_LONG:
		source, reason = row["source"].strip()[: values.MAX_TEXT], None
	if reason:
		errors.append(RowError(index, "source", reason))
	out["source"] = source
	return (None, errors) if errors else (out, [])


def same_figures(a: Mapping, b: Mapping) -> bool:
	"""Whether two snapshots carry the same figures (amounts to the cent, yield to 1e-6)."""
	for name in AMOUNTS:
		if round(float(a.get(name) or 0), 2) != round(float(b.get(name) or 0), 2):
			return False
	if abs(float(a.get("composite_yield") or 0) - float(b.get("composite_yield") or 0)) > 1e-6:
		return False
	return int(a.get("products_held") or 0) == int(b.get("products_held") or 0)
