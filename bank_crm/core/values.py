"""Typed reading of untrusted values (JSON, CSV cells, form fields) for every ingestion path.

Each reader takes whatever arrived — any JSON value: huge or infinite numbers, NaN, booleans,
nested objects, wrong types, very long strings — and returns ``(value, None)`` or
``(None, reason)``, where ``reason`` is an untranslated message template for the field.
None of them raises, so one bad row can never take a batch down.
"""

from __future__ import annotations

import math
from datetime import date, datetime

MAX_AMOUNT = 1e15  # fits decimal(21,9) with room
MAX_TEXT = 140  # a Data column

REQUIRED = "is required"
NOT_A_NUMBER = "must be a number"
OUT_OF_RANGE = "is out of range"
NOT_WHOLE = "must be a whole number"
NEGATIVE = "cannot be negative"
NOT_TEXT = "must be text"
TOO_LONG = "is longer than {0} characters"
NOT_A_DATE = "{0} is not a date (YYYY-MM-DD)"
NOT_A_DATETIME = "{0} is not a date and time (YYYY-MM-DD HH:MM:SS)"

_NUMBER_TEXT_LIMIT = 64  # a longer string is not a figure a core system sends
_EARLIEST = date(1900, 1, 1)


def is_missing(value) -> bool:
	return value is None or (isinstance(value, str) and not value.strip())


def number(value, *, minimum: float = -MAX_AMOUNT, maximum: float = MAX_AMOUNT):
	"""A finite float within ``[minimum, maximum]``; numeric strings are accepted."""
	if is_missing(value):
		return None, REQUIRED
	if isinstance(value, bool) or not isinstance(value, int | float | str):
		return None, NOT_A_NUMBER
	if isinstance(value, str):
		text = value.strip()
		if len(text) > _NUMBER_TEXT_LIMIT or "_" in text:
			return None, NOT_A_NUMBER
		try:
			result = float(text)
		except ValueError:
			return None, NOT_A_NUMBER
	elif isinstance(value, int):
		if not -MAX_AMOUNT <= value <= MAX_AMOUNT:  # compare as int: float(10**400) overflows
			return None, OUT_OF_RANGE
		result = float(value)
	else:
		result = value
	if not math.isfinite(result) or not -MAX_AMOUNT <= result <= MAX_AMOUNT:
		return None, OUT_OF_RANGE
	if result < minimum:
		return None, NEGATIVE if minimum == 0 else OUT_OF_RANGE
	if result > maximum:
		return None, OUT_OF_RANGE
	return result, None


def whole(value, *, minimum: int = 0, maximum: int = 10**9):
	"""An int within ``[minimum, maximum]``; 3.0 and "3" are 3, 3.5 is refused."""
	result, reason = number(value)
	if reason:
		return None, reason
	if not result.is_integer():
		return None, NOT_WHOLE
	if result < minimum:
		return None, NEGATIVE if minimum == 0 else OUT_OF_RANGE
	if result > maximum:
		return None, OUT_OF_RANGE
	return int(result), None


def text(value, *, max_length: int = MAX_TEXT, required: bool = True):
	"""A stripped string of at most ``max_length`` characters (numbers are not text)."""
	if is_missing(value):
		return (None, REQUIRED) if required else (None, None)
	if not isinstance(value, str):
		return None, NOT_TEXT
	result = value.strip()
	if "\x00" in result:
		return None, NOT_TEXT
	if len(result) > max_length:
		return None, TOO_LONG
	return result, None


def iso_date(value, *, latest: date | None = None):
	"""A calendar date written YYYY-MM-DD, not before 1900 and not after ``latest``."""
	if is_missing(value):
		return None, REQUIRED
	if isinstance(value, datetime):
		value = value.date()
	if isinstance(value, date):
		result = value
	elif isinstance(value, str) and len(value.strip()) == 10:
		try:
			result = date.fromisoformat(value.strip())
		except ValueError:
			return None, NOT_A_DATE
	else:
		return None, NOT_A_DATE
	if result < _EARLIEST:
		return None, OUT_OF_RANGE
	if latest and result > latest:
		return None, "{0} is in the future"
	return result, None


def iso_datetime(value):
	"""A date and time, ``YYYY-MM-DD HH:MM[:SS[.ffffff]]`` or with a ``T``; naive (site time)."""
	if is_missing(value):
		return None, REQUIRED
	if isinstance(value, datetime):
		result = value
	elif isinstance(value, str) and 16 <= len(value.strip()) <= 32:
		try:
			result = datetime.fromisoformat(value.strip())
		except ValueError:
			return None, NOT_A_DATETIME
	else:
		return None, NOT_A_DATETIME
	if result.tzinfo is not None:
		return None, NOT_A_DATETIME
	if result.date() < _EARLIEST:
		return None, OUT_OF_RANGE
	return result, None


def shown(value, limit: int = 40) -> str:
	"""A short, printable rendering of a refused value for an error message."""
	try:
		rendered = value if isinstance(value, str) else repr(value)
	except Exception:  # a value whose repr fails is still named
		rendered = "?"
	rendered = rendered.replace("\x00", "")
	return rendered if len(rendered) <= limit else rendered[: limit - 1] + "…"
