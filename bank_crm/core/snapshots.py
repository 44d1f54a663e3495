"""Financial snapshots pushed in by the core banking systems: row validation and comparison.

A snapshot is one customer's figures as of one date. Every row of a batch is checked on its
own; a bad row names its index, the field and the reason, and never stops the good rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

KEY = ("customer", "as_of_date")
AMOUNTS = ("deposit_balance", "loan_balance", "aum", "fee_income")
NON_NEGATIVE = ("deposit_balance", "loan_balance", "aum")
FIELDS = (*AMOUNTS, "composite_yield", "products_held")
OPTIONAL = ("source",)
MAX_AMOUNT = 1e15  # fits decimal(21,9)


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
		customer = row["customer"]
		as_of = date.fromisoformat(row["as_of_date"])
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
			and customer
			and as_of <= today
			and type(p) is int
			and 0 <= p
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
	source = row.get("source")
	return {
		"customer": customer,
		"as_of_date": as_of,
		"deposit_balance": float(d),
		"loan_balance": float(lo),
		"aum": float(a),
		"fee_income": float(fee),
		"composite_yield": float(y),
		"products_held": p,
		"source": str(source)[:140] if source else None,
	}


def _clean_slow(index: int, row, today: date) -> tuple[dict | None, list[RowError]]:
	if not isinstance(row, Mapping):
		return None, [RowError(index, "", "each row must be an object")]
	errors: list[RowError] = []
	out: dict = {}
	unknown = sorted(set(row) - set(KEY) - set(FIELDS) - set(OPTIONAL))
	for name in unknown:
		errors.append(RowError(index, name, "is not a snapshot field"))
	customer = row.get("customer")
	if not isinstance(customer, str) or not customer.strip():
		errors.append(RowError(index, "customer", "is required"))
	else:
		out["customer"] = customer.strip()
	raw_date = row.get("as_of_date")
	if raw_date in (None, ""):
		errors.append(RowError(index, "as_of_date", "is required"))
	else:
		try:
			as_of = date.fromisoformat(str(raw_date))
		except ValueError:
			errors.append(
				RowError(index, "as_of_date", "{0} is not a date (YYYY-MM-DD)", (str(raw_date)[:20],))
			)
		else:
			if as_of > today:
				errors.append(RowError(index, "as_of_date", "{0} is in the future", (as_of.isoformat(),)))
			out["as_of_date"] = as_of
	for name in FIELDS:
		value = row.get(name)
		if value is None or value == "":
			errors.append(RowError(index, name, "is required"))
			continue
		if isinstance(value, bool):
			errors.append(RowError(index, name, "must be a number"))
			continue
		try:
			number = int(value) if name == "products_held" else float(value)
		except (TypeError, ValueError):
			errors.append(RowError(index, name, "must be a number"))
			continue
		if name == "products_held" and (isinstance(value, float) and not float(value).is_integer()):
			errors.append(RowError(index, name, "must be a whole number"))
			continue
		if number != number or abs(number) > MAX_AMOUNT:  # NaN or absurd
			errors.append(RowError(index, name, "is out of range"))
			continue
		if (name in NON_NEGATIVE or name == "products_held") and number < 0:
			errors.append(RowError(index, name, "cannot be negative"))
			continue
		if name == "composite_yield" and not -100 <= number <= 100:
			errors.append(RowError(index, name, "must be a percentage between -100 and 100"))
			continue
		out[name] = number
	source = row.get("source")
	out["source"] = str(source)[:140] if source else None
	return (None, errors) if errors else (out, [])


def same_figures(a: Mapping, b: Mapping) -> bool:
	"""Whether two snapshots carry the same figures (amounts to the cent, yield to 1e-6)."""
	for name in AMOUNTS:
		if round(float(a.get(name) or 0), 2) != round(float(b.get(name) or 0), 2):
			return False
	if abs(float(a.get("composite_yield") or 0) - float(b.get("composite_yield") or 0)) > 1e-6:
		return False
	return int(a.get("products_held") or 0) == int(b.get("products_held") or 0)
